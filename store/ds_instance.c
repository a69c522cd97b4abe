/*
 * Copyright (C) ngx_durable authors
 *
 * Instance records and their created-time, status and ready indexes.
 *
 * The by_created entry of a record carries its list copy
 * (dsi_list_copy()): a list page reads its items from the index it walks
 * instead of one record lookup each, which for ids that do not sort by
 * creation (ids a client chose) lands every item on a page of its own.
 * Only the worker fields are left out, so a claim or a lease renewal does
 * not rewrite the copy. An empty value (a store written before, or a
 * record over DS_LIST_COPY_MAX) means "read the record".
 */


#include <stdlib.h>
#include <string.h>

#include "ds_key.h"


#define DS_RECORD_STACK     1024


static int ds_len_ok(size_t len);
static int ds_list_same(const ds_instance_t *a, const ds_instance_t *b);
static int ds_str_same(ds_str_t a, ds_str_t b);
static int ds_index_put(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_status_e status, int64_t created);
static int ds_created_put(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    int64_t created, const unsigned char *copy, size_t len);
static int ds_index_del(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_status_e status, int64_t created, int created_too);


int
ds_instance_get(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_instance_t *inst)
{
    int            rc;
    MDB_val        key, val;
    unsigned char  kb[DS_KEY_BUF];

    if (!dsi_key_valid(hub, id)) {
        return DS_INVALID;
    }

    key.mv_data = kb;
    key.mv_size = dsi_key_instance(kb, hub, id);

    rc = dsi_get(txn, DS_DB_INSTANCES, &key, &val);
    if (rc != 0) {
        return dsi_lmdb_rc(txn, rc);
    }

    if (dsi_record_decode(val.mv_data, val.mv_size, inst) != DS_OK) {
        dsi_txn_set_error(txn, "corrupt instance record");
        return DS_ERROR;
    }

    return DS_OK;
}


/*
 * The new record is encoded into our own buffer before anything is
 * written, so inst may point into the map (e.g. at the record it replaces).
 */

int
ds_instance_put(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    const ds_instance_t *inst)
{
    int            rc;
    ds_instance_t  old;

    /* an invalid key: DS_INVALID from here */
    rc = ds_instance_get(txn, hub, id, &old);

    if (rc != DS_OK && rc != DS_NOTFOUND) {
        return rc;
    }

    return dsi_instance_write(txn, hub, id, inst, rc == DS_OK ? &old : NULL);
}


/*
 * ds_instance_put() for a caller that has just read the stored record in
 * this txn (old; NULL: there is none) and written nothing since, in any
 * table: the indexes are updated from old without reading it again.
 */

int
dsi_instance_write(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    const ds_instance_t *inst, const ds_instance_t *old)
{
    int             rc, relist;
    size_t          size, copy_len;
    MDB_val         key, val;
    unsigned char   kb[DS_KEY_BUF], stack[DS_RECORD_STACK], *buf;
    unsigned char   copy[DS_LIST_COPY_MAX];

    if (!dsi_key_valid(hub, id)
        || (unsigned) inst->status >= DS_STATUS_COUNT
        || (unsigned) inst->suspended_from >= DS_STATUS_COUNT
        || (unsigned) inst->done_status >= DS_STATUS_COUNT
        || !ds_len_ok(inst->name.len) || !ds_len_ok(inst->input.len)
        || !ds_len_ok(inst->output.len)
        || !ds_len_ok(inst->custom_status.len)
        || inst->parent_id.len > DS_ID_MAX
        || inst->version.len > DS_NAME_MAX || !ds_len_ok(inst->tags.len)
        || !ds_len_ok(inst->failure.len))
    {
        return DS_INVALID;
    }

    size = dsi_record_size(inst);

    if (size <= sizeof(stack)) {
        buf = stack;

    } else {
        buf = malloc(size);
        if (buf == NULL) {
            dsi_txn_set_error(txn, "out of memory");
            return DS_ERROR;
        }
    }

    dsi_record_encode(inst, buf);

    /*
     * The list copy too, when what a list shows has changed, before the
     * first write: the strings of inst and old may point into the map,
     * where LMDB keeps a value valid only until the next update; nothing
     * was written since the read, in any table. Claims and deliveries
     * change worker fields only, which the copy leaves out.
     */

    relist = (old == NULL || !ds_list_same(old, inst));
    copy_len = relist ? dsi_list_copy(inst, copy) : 0;

    rc = DS_OK;

    if (old == NULL) {
        rc = ds_index_put(txn, hub, id, inst->status, inst->created);

    } else if (old->created != inst->created || old->status != inst->status) {
        rc = ds_index_del(txn, hub, id, old->status, old->created,
                          old->created != inst->created);
        if (rc == DS_OK) {
            rc = ds_index_put(txn, hub, id, inst->status, inst->created);
        }
    }

    if (rc != DS_OK) {
        goto done;
    }

    if (relist) {
        rc = ds_created_put(txn, hub, id, inst->created, copy, copy_len);
        if (rc != DS_OK) {
            goto done;
        }
    }

    /* the ready index: an entry at ready_at when it is not 0 */

    rc = dsi_ready_move(txn, hub, DS_READY_ORCH, old ? old->ready_at : 0,
                        inst->ready_at, (const unsigned char *) id.data,
                        id.len);
    if (rc != DS_OK) {
        goto done;
    }

    key.mv_data = kb;
    key.mv_size = dsi_key_instance(kb, hub, id);
    val.mv_data = buf;
    val.mv_size = size;

    rc = dsi_lmdb_rc(txn, dsi_put(txn, DS_DB_INSTANCES, &key, &val, 0));

done:

    if (buf != stack) {
        free(buf);
    }

    return rc;
}


int
ds_instance_delete(ds_txn_t *txn, ds_str_t hub, ds_str_t id)
{
    int            rc;
    ds_instance_t  old;

    rc = ds_instance_get(txn, hub, id, &old);
    if (rc != DS_OK) {
        return rc;
    }

    return dsi_instance_remove(txn, hub, id, &old);
}


/*
 * removes the record, its index entries, history, inbox, ready entry,
 * activities (with their tombstones) and timers, and releases the entity
 * locks it may still hold (dsi_entity_history_drop())
 */

int
dsi_instance_remove(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    const ds_instance_t *old)
{
    int            rc;
    MDB_val        key;
    unsigned char  kb[DS_KEY_BUF];

    rc = ds_index_del(txn, hub, id, old->status, old->created, 1);
    if (rc != DS_OK) {
        return rc;
    }

    if (old->ready_at != 0) {
        rc = dsi_ready_del(txn, hub, DS_READY_ORCH, old->ready_at,
                          (const unsigned char *) id.data, id.len);
        if (rc != DS_OK) {
            return rc;
        }
    }

    rc = dsi_drop_work(txn, hub, id, 1);
    if (rc != DS_OK) {
        return rc;
    }

    key.mv_data = kb;
    key.mv_size = dsi_key_instance(kb, hub, id);

    rc = dsi_del(txn, DS_DB_INSTANCES, &key, NULL);
    if (rc != 0) {
        return dsi_lmdb_rc(txn, rc);
    }

    rc = dsi_entity_history_drop(txn, hub, id, ds_time_now());
    if (rc != DS_OK) {
        return rc;
    }

    return dsi_seq_delete(txn, DS_DB_INBOX, hub, id, UINT64_MAX);
}


static int
ds_created_put(ds_txn_t *txn, ds_str_t hub, ds_str_t id, int64_t created,
    const unsigned char *copy, size_t len)
{
    MDB_val        key, val;
    unsigned char  kb[DS_KEY_BUF];

    key.mv_data = kb;
    key.mv_size = dsi_key_created(kb, hub, created, id);
    val.mv_data = (void *) copy;
    val.mv_size = len;

    return dsi_lmdb_rc(txn, dsi_put(txn, DS_DB_BY_CREATED, &key, &val, 0));
}


static int
ds_index_put(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_status_e status,
    int64_t created)
{
    int            rc;
    MDB_val        key, val;
    unsigned char  kb[DS_KEY_BUF];

    key.mv_data = kb;
    val.mv_data = kb;
    val.mv_size = 0;

    key.mv_size = dsi_key_status(kb, hub, status, created, id);

    /* the count goes up with a new entry only (ds_counts.c) */

    rc = dsi_put(txn, DS_DB_BY_STATUS, &key, &val, MDB_NOOVERWRITE);

    if (rc == MDB_KEYEXIST) {
        return DS_OK;
    }

    if (rc != 0) {
        return dsi_lmdb_rc(txn, rc);
    }

    return dsi_count_entry(txn, DS_DB_BY_STATUS, &key, 1);
}


/* a missing entry is not an error: the goal is that it is gone */

static int
ds_index_del(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_status_e status,
    int64_t created, int created_too)
{
    int            rc;
    MDB_val        key;
    unsigned char  kb[DS_KEY_BUF];

    key.mv_data = kb;

    if (created_too) {
        key.mv_size = dsi_key_created(kb, hub, created, id);

        rc = dsi_del(txn, DS_DB_BY_CREATED, &key, NULL);
        if (rc != 0 && rc != MDB_NOTFOUND) {
            return dsi_lmdb_rc(txn, rc);
        }
    }

    key.mv_size = dsi_key_status(kb, hub, status, created, id);

    rc = dsi_del(txn, DS_DB_BY_STATUS, &key, NULL);

    if (rc == MDB_NOTFOUND) {
        return DS_OK;
    }

    if (rc != 0) {
        return dsi_lmdb_rc(txn, rc);
    }

    return dsi_count_entry(txn, DS_DB_BY_STATUS, &key, -1);
}


static int
ds_len_ok(size_t len)
{
    /* record lengths are 32-bit */
    return (uint64_t) len <= 0xffffffffu;
}


/*
 * Whether two records have the same list copy: the fields dsi_list_copy()
 * keeps, compared without encoding either. A field added to the record
 * (and so to the copy) is added here too.
 */

static int
ds_list_same(const ds_instance_t *a, const ds_instance_t *b)
{
    return a->status == b->status
           && a->suspended_from == b->suspended_from
           && a->created == b->created
           && a->updated == b->updated
           && a->execution == b->execution
           && a->parent_task == b->parent_task
           && a->parent_execution == b->parent_execution
           && a->parent_created == b->parent_created
           && a->scheduled_start == b->scheduled_start
           && ds_str_same(a->name, b->name)
           && ds_str_same(a->input, b->input)
           && ds_str_same(a->output, b->output)
           && ds_str_same(a->custom_status, b->custom_status)
           && ds_str_same(a->parent_id, b->parent_id)
           && ds_str_same(a->version, b->version)
           && ds_str_same(a->tags, b->tags)
           && ds_str_same(a->failure, b->failure);
}


static int
ds_str_same(ds_str_t a, ds_str_t b)
{
    return a.len == b.len
           && (a.len == 0 || a.data == b.data
               || memcmp(a.data, b.data, a.len) == 0);
}


size_t
dsi_list_copy(const ds_instance_t *inst, unsigned char *buf)
{
    size_t         size;
    ds_instance_t  c;

    c = *inst;

    c.ready_at = 0;
    c.lease_expires = 0;
    c.episode_at = 0;
    c.lease_upto = 0;
    c.inbox_seq = 0;
    c.done_status = DS_RUNNING;
    memset(c.lease, 0, DS_LEASE_LEN);
    memset(c.done_lease, 0, DS_LEASE_LEN);
    c.done_digest = 0;

    size = dsi_record_size(&c);

    if (size > DS_LIST_COPY_MAX) {
        return 0;
    }

    dsi_record_encode(&c, buf);

    return size;
}


/* copies the record's strings into one allocation: *mem, to be freed */

int
dsi_instance_own(ds_txn_t *txn, ds_instance_t *inst, char **mem)
{
    char      *p;
    size_t     i, size;
    ds_str_t  *s[8];

    s[0] = &inst->name;
    s[1] = &inst->input;
    s[2] = &inst->output;
    s[3] = &inst->custom_status;
    s[4] = &inst->parent_id;
    s[5] = &inst->version;
    s[6] = &inst->tags;
    s[7] = &inst->failure;

    size = 1;

    for (i = 0; i < 8; i++) {
        size += s[i]->len;
    }

    *mem = malloc(size);
    if (*mem == NULL) {
        dsi_txn_set_error(txn, "out of memory");
        return DS_ERROR;
    }

    p = *mem;

    for (i = 0; i < 8; i++) {
        if (s[i]->len) {
            memcpy(p, s[i]->data, s[i]->len);
        }

        s[i]->data = p;
        p += s[i]->len;
    }

    return DS_OK;
}
