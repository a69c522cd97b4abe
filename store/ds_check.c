/*
 * Copyright (C) ngx_durable authors
 *
 * Consistency check: every record has both index entries, every index
 * entry matches a record, history and inbox entries belong to a record.
 */


#include <string.h>

#include "ds_key.h"


typedef struct {
    ds_txn_t           *txn;
    ds_check_cb         cb;
    void               *data;
    ds_check_stats_t   *stats;
} ds_check_t;


static int ds_check_walk(ds_check_t *c, int db, ds_str_t hub);
static void ds_check_entry(ds_check_t *c, int db, const MDB_val *key);
static int ds_check_split(const MDB_val *key, ds_str_t *hub, size_t *off);
static int ds_check_record(ds_check_t *c, ds_str_t hub, ds_str_t id,
    ds_instance_t *inst);
static int ds_check_exists(ds_check_t *c, int db, const unsigned char *k,
    size_t len);
static void ds_check_problem(ds_check_t *c, const char *problem,
    ds_str_t hub, ds_str_t id);


int
ds_check(ds_env_t *env, ds_str_t hub, ds_check_cb cb, void *data,
    ds_check_stats_t *stats)
{
    int        rc;
    ds_txn_t  *txn;

    rc = ds_txn_begin(env, NULL, 0, &txn);
    if (rc != DS_OK) {
        return DS_ERROR;
    }

    rc = ds_check_txn(txn, hub, cb, data, stats);

    ds_txn_abort(txn);

    return rc;
}


int
ds_check_txn(ds_txn_t *txn, ds_str_t hub, ds_check_cb cb, void *data,
    ds_check_stats_t *stats)
{
    int               rc, db;
    ds_check_t        c;
    ds_check_stats_t  local;

    if (hub.len && !ds_key_hub_valid(hub)) {
        return DS_INVALID;
    }

    if (stats == NULL) {
        stats = &local;
    }

    memset(stats, 0, sizeof(ds_check_stats_t));

    c.txn = txn;
    c.cb = cb;
    c.data = data;
    c.stats = stats;

    for (db = 0; db < DS_DB_COUNT; db++) {
        rc = ds_check_walk(&c, db, hub);
        if (rc != DS_OK) {
            return DS_ERROR;
        }
    }

    return stats->problems ? DS_ERROR : DS_OK;
}


static int
ds_check_walk(ds_check_t *c, int db, ds_str_t hub)
{
    int            rc;
    size_t         plen;
    MDB_val        key, val;
    MDB_cursor    *cur;
    unsigned char  prefix[DS_KEY_BUF];

    rc = mdb_cursor_open(c->txn->txn, ds_dbi(c->txn, db), &cur);
    if (rc != 0) {
        return ds_lmdb_rc(c->txn, rc);
    }

    plen = hub.len ? ds_key_hub(prefix, hub) : 0;

    if (plen) {
        key.mv_data = prefix;
        key.mv_size = plen;
        rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);

    } else {
        rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
    }

    for ( /* void */ ;
         rc == 0 && key.mv_size >= plen
         && memcmp(key.mv_data, prefix, plen) == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
    {
        ds_check_entry(c, db, &key);
    }

    mdb_cursor_close(cur);

    return rc == MDB_NOTFOUND || rc == 0 ? DS_OK : ds_lmdb_rc(c->txn, rc);
}


static void
ds_check_entry(ds_check_t *c, int db, const MDB_val *key)
{
    size_t                off, len;
    int64_t               created;
    ds_str_t              hub, id;
    ds_status_e           status;
    ds_instance_t         inst;
    unsigned char         kb[DS_KEY_BUF];
    const unsigned char  *k;

    k = key->mv_data;
    len = key->mv_size;
    id.data = NULL;
    id.len = 0;

    if (!ds_check_split(key, &hub, &off)) {
        ds_check_problem(c, "malformed key", hub, id);
        return;
    }

    switch (db) {

    case DS_DB_INSTANCES:
        c->stats->instances++;
        id.data = (const char *) k + off;
        id.len = len - off;

        if (!ds_check_record(c, hub, id, &inst)) {
            return;
        }

        if (!ds_check_exists(c, DS_DB_BY_CREATED, kb,
                             ds_key_created(kb, hub, inst.created, id)))
        {
            ds_check_problem(c, "record without by_created entry", hub, id);
        }

        if (!ds_check_exists(c, DS_DB_BY_STATUS, kb,
                             ds_key_status(kb, hub, inst.status,
                                           inst.created, id)))
        {
            ds_check_problem(c, "record without by_status entry", hub, id);
        }

        return;

    case DS_DB_BY_CREATED:
    case DS_DB_BY_STATUS:
        if (db == DS_DB_BY_CREATED) {
            c->stats->by_created++;
            status = DS_RUNNING;

        } else {
            c->stats->by_status++;

            if (off >= len || k[off] >= DS_STATUS_COUNT) {
                ds_check_problem(c, "malformed by_status key", hub, id);
                return;
            }

            status = (ds_status_e) k[off++];
        }

        if (len - off < 8 + 1) {
            ds_check_problem(c, "malformed index key", hub, id);
            return;
        }

        created = ds_created_dec(ds_get_u64(k + off));
        id.data = (const char *) k + off + 8;
        id.len = len - off - 8;

        if (!ds_check_record(c, hub, id, &inst)) {
            return;
        }

        if (inst.created != created
            || (db == DS_DB_BY_STATUS && inst.status != status))
        {
            ds_check_problem(c, "index entry does not match its record",
                             hub, id);
        }

        return;

    default:
        if (db == DS_DB_HISTORY) {
            c->stats->history++;

        } else {
            c->stats->inbox++;
        }

        if (len < off + 1 + 1 + 8 || k[len - 9] != '\0'
            || ds_get_u64(k + len - 8) == 0)
        {
            ds_check_problem(c, "malformed sequence key", hub, id);
            return;
        }

        id.data = (const char *) k + off;
        id.len = len - 9 - off;

        (void) ds_check_record(c, hub, id, &inst);

        return;
    }
}


/* the hub is the key's head up to the first 0 byte */

static int
ds_check_split(const MDB_val *key, ds_str_t *hub, size_t *off)
{
    const unsigned char  *k, *z;

    k = key->mv_data;
    hub->data = (const char *) k;
    hub->len = 0;

    z = memchr(k, '\0', key->mv_size < DS_HUB_MAX + 1 ? key->mv_size
                                                       : DS_HUB_MAX + 1);
    if (z == NULL || z == k) {
        return 0;
    }

    hub->len = (size_t) (z - k);
    *off = hub->len + 1;

    return 1;
}


static int
ds_check_record(ds_check_t *c, ds_str_t hub, ds_str_t id,
    ds_instance_t *inst)
{
    int  rc;

    if (!ds_key_valid(hub, id)) {
        ds_check_problem(c, "invalid id in key", hub, id);
        return 0;
    }

    rc = ds_instance_get(c->txn, hub, id, inst);

    if (rc == DS_NOTFOUND) {
        ds_check_problem(c, "entry without instance record", hub, id);
        return 0;
    }

    if (rc != DS_OK) {
        ds_check_problem(c, "unreadable instance record", hub, id);
        return 0;
    }

    return 1;
}


static int
ds_check_exists(ds_check_t *c, int db, const unsigned char *k, size_t len)
{
    MDB_val  key, val;

    key.mv_data = (void *) k;
    key.mv_size = len;

    return mdb_get(c->txn->txn, ds_dbi(c->txn, db), &key, &val) == 0;
}


static void
ds_check_problem(ds_check_t *c, const char *problem, ds_str_t hub,
    ds_str_t id)
{
    c->stats->problems++;

    if (c->cb) {
        c->cb(c->data, problem, hub, id);
    }
}
