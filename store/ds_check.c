/*
 * Copyright (C) ngx_durable authors
 *
 * Consistency check: every record has both index entries, every index
 * entry matches a record, history and inbox entries belong to a record.
 * Worker state: every ready entry points at an item (instance, live
 * activity, entity) whose ready_at is the entry's time, and every item
 * with a ready_at has its entry; a runnable instance (active, not
 * suspended, messages waiting) and an entity with queued operations are
 * in the ready index (unless the entity is locked: its queue may wait for
 * the holder), a live activity always is; activities and timers
 * belong to a record, timers and timer_ix agree, entity operations belong
 * to an entity record.
 * JSON: the texts the API and the worker protocol hand out as stored (an
 * instance's input, output, custom status, tags and failure details,
 * history events, inbox messages, activity inputs, entity states, queued
 * and scheduled entity operations) are valid JSON, as the writes that
 * store them validated them; one pass each, with no allocation.
 */


#include <string.h>

#include "ds_key.h"


/* the deepest any durable_task_json_depth lets a client store */
#define DS_CHECK_JSON_DEPTH  2048


typedef struct {
    ds_txn_t           *txn;
    ds_check_cb         cb;
    void               *data;
    ds_check_stats_t   *stats;
} ds_check_t;


static int ds_check_walk(ds_check_t *c, int db, ds_str_t hub);
static void ds_check_entry(ds_check_t *c, int db, const MDB_val *key,
    const MDB_val *val);
static int ds_check_split(const MDB_val *key, ds_str_t *hub, size_t *off);
static int ds_check_record(ds_check_t *c, ds_str_t hub, ds_str_t id,
    ds_instance_t *inst);
static int ds_check_exists(ds_check_t *c, int db, const unsigned char *k,
    size_t len);
static void ds_check_problem(ds_check_t *c, const char *problem,
    ds_str_t hub, ds_str_t id);
static void ds_check_instance(ds_check_t *c, ds_str_t hub, ds_str_t id,
    const ds_instance_t *inst);
static void ds_check_ready(ds_check_t *c, ds_str_t hub,
    const unsigned char *k, size_t off, size_t len);
static void ds_check_activity(ds_check_t *c, ds_str_t hub,
    const unsigned char *k, size_t off, size_t len, const MDB_val *val);
static void ds_check_timer(ds_check_t *c, int db, ds_str_t hub,
    const unsigned char *k, size_t off, size_t len, const MDB_val *val);
static void ds_check_entity(ds_check_t *c, ds_str_t hub, ds_str_t eid,
    const MDB_val *val);
static int ds_check_entity_get(ds_check_t *c, ds_str_t hub, ds_str_t eid,
    int64_t *ready_at);
static int ds_check_counts(ds_check_t *c, int db, ds_str_t hub);
static void ds_check_count(ds_check_t *c, int db, const unsigned char *k,
    size_t plen, uint64_t n);
static int ds_check_stale_counts(ds_check_t *c, ds_str_t hub);
static int ds_check_exists_prefix(ds_check_t *c, int db,
    const unsigned char *k, size_t len);
static ds_str_t ds_check_val(const MDB_val *val);
static void ds_check_json(ds_check_t *c, ds_str_t text, int empty_ok,
    const char *problem, ds_str_t hub, ds_str_t id);


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

    if (hub.len && !dsi_key_hub_valid(hub)) {
        return DS_INVALID;
    }

    /* the counts as the txn has them, changes it kept included */
    rc = dsi_counts_flush(txn);
    if (rc != DS_OK) {
        return rc;
    }

    if (stats == NULL) {
        stats = &local;
    }

    memset(stats, 0, sizeof(ds_check_stats_t));

    c.txn = txn;
    c.cb = cb;
    c.data = data;
    c.stats = stats;

    for (db = 0; db < DS_DB_COUNTS; db++) {
        rc = ds_check_walk(&c, db, hub);
        if (rc != DS_OK) {
            return DS_ERROR;
        }
    }

    if (ds_check_counts(&c, DS_DB_BY_STATUS, hub) != DS_OK
        || ds_check_counts(&c, DS_DB_READY, hub) != DS_OK
        || ds_check_stale_counts(&c, hub) != DS_OK)
    {
        return DS_ERROR;
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
        return dsi_lmdb_rc(c->txn, rc);
    }

    plen = hub.len ? dsi_key_hub(prefix, hub) : 0;

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
        ds_check_entry(c, db, &key, &val);
    }

    mdb_cursor_close(cur);

    return rc == MDB_NOTFOUND || rc == 0 ? DS_OK : dsi_lmdb_rc(c->txn, rc);
}


static void
ds_check_entry(ds_check_t *c, int db, const MDB_val *key,
    const MDB_val *val)
{
    size_t                off, len;
    int64_t               created;
    ds_str_t              hub, id;
    ds_status_e           status;
    ds_instance_t         inst;
    unsigned char         kb[DS_KEY_BUF], copy[DS_LIST_COPY_MAX];
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
                             dsi_key_created(kb, hub, inst.created, id)))
        {
            ds_check_problem(c, "record without by_created entry", hub, id);
        }

        if (!ds_check_exists(c, DS_DB_BY_STATUS, kb,
                             dsi_key_status(kb, hub, inst.status,
                                           inst.created, id)))
        {
            ds_check_problem(c, "record without by_status entry", hub, id);
        }

        ds_check_instance(c, hub, id, &inst);

        /* len 0: none */
        ds_check_json(c, inst.input, 1, "instance input is not JSON",
                      hub, id);
        ds_check_json(c, inst.output, 1, "instance output is not JSON",
                      hub, id);
        ds_check_json(c, inst.custom_status, 1,
                      "instance custom status is not JSON", hub, id);
        ds_check_json(c, inst.tags, 1, "instance tags are not JSON",
                      hub, id);
        ds_check_json(c, inst.failure, 1,
                      "instance failure details are not JSON", hub, id);

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

        created = dsi_created_dec(dsi_get_u64(k + off));
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
            return;
        }

        /* a list copy (empty: none) is the record's, byte for byte */

        if (db == DS_DB_BY_CREATED && val->mv_size != 0
            && (dsi_list_copy(&inst, copy) != val->mv_size
                || memcmp(copy, val->mv_data, val->mv_size) != 0))
        {
            ds_check_problem(c, "list copy does not match its record",
                             hub, id);
        }

        return;

    case DS_DB_READY:
        c->stats->ready++;
        ds_check_ready(c, hub, k, off, len);
        return;

    case DS_DB_ACTIVITIES:
        c->stats->activities++;
        ds_check_activity(c, hub, k, off, len, val);
        return;

    case DS_DB_TIMERS:
        c->stats->timers++;
        ds_check_timer(c, db, hub, k, off, len, val);
        return;

    case DS_DB_TIMER_IX:
        ds_check_timer(c, db, hub, k, off, len, val);
        return;

    case DS_DB_ENTITIES:
        c->stats->entities++;
        id.data = (const char *) k + off;
        id.len = len - off;
        ds_check_entity(c, hub, id, val);
        return;

    case DS_DB_ENTITY_OPS:
        c->stats->entity_ops++;

        if (len < off + 2 + 1 + 8 || k[len - 9] != '\0'
            || dsi_get_u64(k + len - 8) == 0)
        {
            ds_check_problem(c, "malformed entity operation key", hub, id);
            return;
        }

        id.data = (const char *) k + off;
        id.len = len - 9 - off;

        if (ds_check_entity_get(c, hub, id, &created) == DS_NOTFOUND) {
            ds_check_problem(c, "entity operation without entity record",
                             hub, id);
        }

        ds_check_json(c, ds_check_val(val), 0, "entity operation is not JSON",
                      hub, id);

        return;

    default:
        if (db == DS_DB_HISTORY) {
            c->stats->history++;

        } else {
            c->stats->inbox++;
        }

        if (len < off + 1 + 1 + 8 || k[len - 9] != '\0'
            || dsi_get_u64(k + len - 8) == 0)
        {
            ds_check_problem(c, "malformed sequence key", hub, id);
            return;
        }

        id.data = (const char *) k + off;
        id.len = len - 9 - off;

        (void) ds_check_record(c, hub, id, &inst);

        ds_check_json(c, ds_check_val(val), 0,
                      db == DS_DB_HISTORY ? "history event is not JSON"
                                          : "inbox message is not JSON",
                      hub, id);

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

    if (!dsi_key_valid(hub, id)) {
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


/* the worker state of an instance record */

static void
ds_check_instance(ds_check_t *c, ds_str_t hub, ds_str_t id,
    const ds_instance_t *inst)
{
    uint64_t       last;
    unsigned char  kb[DS_KEY_BUF];

    if (inst->ready_at != 0) {
        if (!ds_check_exists(c, DS_DB_READY, kb,
                             dsi_key_ready(kb, hub, DS_READY_ORCH,
                                          inst->ready_at,
                                          (const unsigned char *) id.data,
                                          id.len)))
        {
            ds_check_problem(c, "record without its ready entry", hub, id);
        }

        return;
    }

    if (ds_status_is_terminal(inst->status)
        || inst->status == DS_SUSPENDED)
    {
        return;
    }

    if (dsi_seq_last(c->txn, DS_DB_INBOX, hub, id, &last) == DS_OK
        && last != 0)
    {
        ds_check_problem(c, "runnable instance not in the ready index",
                         hub, id);
    }
}


static void
ds_check_ready(ds_check_t *c, ds_str_t hub, const unsigned char *k,
    size_t off, size_t len)
{
    int            done;
    int64_t        at, ready_at;
    MDB_val        key, val;
    ds_str_t       id;
    ds_instance_t  inst;
    unsigned char  kb[DS_KEY_BUF];

    id.data = NULL;
    id.len = 0;

    if (len < off + 1 + 8 + 1) {
        ds_check_problem(c, "malformed ready key", hub, id);
        return;
    }

    at = dsi_created_dec(dsi_get_u64(k + off + 1));
    id.data = (const char *) k + off + 9;
    id.len = len - off - 9;

    switch (k[off]) {

    case DS_READY_ORCH:
        if (ds_check_record(c, hub, id, &inst) && inst.ready_at != at) {
            ds_check_problem(c, "ready entry does not match its record",
                             hub, id);
        }

        return;

    case DS_READY_ACTIVITY:
        if (id.len < 1 + 1 + 8 || k[len - 9] != '\0') {
            ds_check_problem(c, "malformed ready key", hub, id);
            return;
        }

        id.len -= 9;

        if (!dsi_key_valid(hub, id)) {
            ds_check_problem(c, "invalid id in key", hub, id);
            return;
        }

        key.mv_data = kb;
        key.mv_size = dsi_key_seq(kb, hub, id, dsi_get_u64(k + len - 8));

        if (mdb_get(c->txn->txn, ds_dbi(c->txn, DS_DB_ACTIVITIES), &key,
                    &val) != 0)
        {
            ds_check_problem(c, "ready entry without its activity", hub, id);
            return;
        }

        if (dsi_activity_info(val.mv_data, val.mv_size, &done, &ready_at)
            != DS_OK || done || ready_at != at)
        {
            ds_check_problem(c, "ready entry does not match its activity",
                             hub, id);
        }

        return;

    case DS_READY_ENTITY:
        switch (ds_check_entity_get(c, hub, id, &ready_at)) {

        case DS_OK:
            if (ready_at != at) {
                ds_check_problem(c, "ready entry does not match its entity",
                                 hub, id);
            }

            return;

        case DS_NOTFOUND:
            ds_check_problem(c, "ready entry without its entity", hub, id);
            return;

        default:
            ds_check_problem(c, "unreadable entity record", hub, id);
            return;
        }

    default:
        ds_check_problem(c, "malformed ready key", hub, id);
        return;
    }
}


static void
ds_check_activity(ds_check_t *c, ds_str_t hub, const unsigned char *k,
    size_t off, size_t len, const MDB_val *val)
{
    int            done;
    int64_t        ready_at;
    ds_str_t       id;
    ds_instance_t  inst;
    ds_activity_t  act;
    unsigned char  kb[DS_KEY_BUF], item[DS_KEY_BUF];

    id.data = NULL;
    id.len = 0;

    if (len < off + 1 + 1 + 8 || k[len - 9] != '\0') {
        ds_check_problem(c, "malformed activity key", hub, id);
        return;
    }

    id.data = (const char *) k + off;
    id.len = len - 9 - off;

    if (!ds_check_record(c, hub, id, &inst)) {
        return;
    }

    if (dsi_activity_info(val->mv_data, val->mv_size, &done, &ready_at)
        != DS_OK
        || dsi_activity_decode(val->mv_data, val->mv_size, &act) != DS_OK)
    {
        ds_check_problem(c, "unreadable activity record", hub, id);
        return;
    }

    ds_check_json(c, act.input, 1, "activity input is not JSON", hub, id);

    if (done) {
        return;
    }

    if (ready_at == 0) {
        ds_check_problem(c, "activity not in the ready index", hub, id);
        return;
    }

    if (!ds_check_exists(c, DS_DB_READY, kb,
                         dsi_key_ready(kb, hub, DS_READY_ACTIVITY, ready_at,
                             item,
                             dsi_item_activity(item, id,
                                 (int64_t) dsi_get_u64(k + len - 8)))))
    {
        ds_check_problem(c, "activity without its ready entry", hub, id);
    }
}


/* timers: "due(8) id 0 timer(8)"; timer_ix: "id 0 timer(8)" -> due(8) */

static void
ds_check_timer(ds_check_t *c, int db, ds_str_t hub, const unsigned char *k,
    size_t off, size_t len, const MDB_val *val)
{
    int            rc, entity;
    size_t         ioff;
    int64_t        due, timer_id;
    MDB_val        key, v;
    ds_str_t       id, msg;
    ds_instance_t  inst;
    unsigned char  kb[DS_KEY_BUF];

    id.data = NULL;
    id.len = 0;
    ioff = (db == DS_DB_TIMERS) ? off + 8 : off;

    if (len < ioff + 1 + 1 + 8 || k[len - 9] != '\0') {
        ds_check_problem(c, "malformed timer entry", hub, id);
        return;
    }

    id.data = (const char *) k + ioff;
    id.len = len - 9 - ioff;
    timer_id = (int64_t) dsi_get_u64(k + len - 8);

    /* a scheduled entity signal carries its message, needs no record */
    entity = (id.data[0] == '@');

    if ((db == DS_DB_TIMERS && entity) ? val->mv_size <= 8
                                       : val->mv_size != 8)
    {
        ds_check_problem(c, "malformed timer entry", hub, id);
        return;
    }

    if (entity) {
        if (!dsi_key_valid(hub, id)) {
            ds_check_problem(c, "invalid id in key", hub, id);
            return;
        }

        if (db == DS_DB_TIMERS) {
            /* fire_at(8) and the signal's operation */
            msg.data = (const char *) val->mv_data + 8;
            msg.len = val->mv_size - 8;
            ds_check_json(c, msg, 0,
                          "scheduled entity operation is not JSON", hub, id);
        }

    } else if (!ds_check_record(c, hub, id, &inst)) {
        return;
    }

    key.mv_data = kb;

    if (db == DS_DB_TIMERS) {
        due = dsi_created_dec(dsi_get_u64(k + off));
        key.mv_size = dsi_key_seq(kb, hub, id, (uint64_t) timer_id);

        rc = mdb_get(c->txn->txn, ds_dbi(c->txn, DS_DB_TIMER_IX), &key, &v);

        if (rc != 0 || v.mv_size != 8
            || dsi_get_i64((unsigned char *) v.mv_data) != due)
        {
            ds_check_problem(c, "timer without its timer_ix entry", hub, id);
        }

        return;
    }

    due = dsi_get_i64(val->mv_data);

    if (!ds_check_exists(c, DS_DB_TIMERS, kb,
                         dsi_key_timer(kb, hub, due, id, timer_id)))
    {
        ds_check_problem(c, "timer_ix entry without its timer", hub, id);
    }
}


static void
ds_check_entity(ds_check_t *c, ds_str_t hub, ds_str_t eid,
    const MDB_val *val)
{
    int            locked;
    int64_t        ready_at;
    uint64_t       last;
    ds_erec_t      rec;
    unsigned char  kb[DS_KEY_BUF];

    if (!dsi_key_valid(hub, eid)
        || dsi_entity_info(eid, val->mv_data, val->mv_size, &ready_at,
                           &locked)
           != DS_OK
        || dsi_erec_decode(val->mv_data, val->mv_size, &rec) != DS_OK)
    {
        ds_check_problem(c, "unreadable entity record", hub, eid);
        return;
    }

    if (rec.has_state) {
        ds_check_json(c, rec.state, 1, "entity state is not JSON", hub, eid);
    }

    if (ready_at != 0) {
        if (!ds_check_exists(c, DS_DB_READY, kb,
                             dsi_key_ready(kb, hub, DS_READY_ENTITY,
                                          ready_at,
                                          (const unsigned char *) eid.data,
                                          eid.len)))
        {
            ds_check_problem(c, "entity without its ready entry", hub, eid);
        }

        return;
    }

    /* a locked entity's queue may wait for its holder, out of the index */

    if (!locked
        && dsi_seq_last(c->txn, DS_DB_ENTITY_OPS, hub, eid, &last) == DS_OK
        && last != 0)
    {
        ds_check_problem(c, "entity with operations not in the ready index",
                         hub, eid);
    }
}


static int
ds_check_entity_get(ds_check_t *c, ds_str_t hub, ds_str_t eid,
    int64_t *ready_at)
{
    MDB_val        key, val;
    unsigned char  kb[DS_KEY_BUF];

    if (!dsi_key_valid(hub, eid)) {
        return DS_INVALID;
    }

    key.mv_data = kb;
    key.mv_size = dsi_key_instance(kb, hub, eid);

    if (mdb_get(c->txn->txn, ds_dbi(c->txn, DS_DB_ENTITIES), &key, &val)
        != 0)
    {
        return DS_NOTFOUND;
    }

    return dsi_entity_info(eid, val.mv_data, val.mv_size, ready_at, NULL);
}


/*
 * The counts (ds_counts.c) against the index they count: each run of
 * entries with the same "hub 0 code" prefix is one count.
 */

static int
ds_check_counts(ds_check_t *c, int db, ds_str_t hub)
{
    int                   rc;
    size_t                plen, glen;
    uint64_t              n;
    MDB_val               key, val;
    MDB_cursor           *cur;
    const unsigned char  *end;
    unsigned char         prefix[DS_KEY_BUF], group[DS_KEY_BUF];

    rc = mdb_cursor_open(c->txn->txn, ds_dbi(c->txn, db), &cur);
    if (rc != 0) {
        return dsi_lmdb_rc(c->txn, rc);
    }

    plen = hub.len ? dsi_key_hub(prefix, hub) : 0;
    key.mv_data = prefix;
    key.mv_size = plen;

    rc = mdb_cursor_get(cur, &key, &val, plen ? MDB_SET_RANGE : MDB_FIRST);

    glen = 0;
    n = 0;

    for ( /* void */ ;
         rc == 0 && key.mv_size >= plen
         && memcmp(key.mv_data, prefix, plen) == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
    {
        end = memchr(key.mv_data, '\0', key.mv_size);

        if (end == NULL
            || (size_t) (end - (unsigned char *) key.mv_data) + 2
               > key.mv_size)
        {
            continue;       /* reported as malformed by the walk */
        }

        if (glen == (size_t) (end - (unsigned char *) key.mv_data) + 2
            && memcmp(group, key.mv_data, glen) == 0)
        {
            n++;
            continue;
        }

        if (glen) {
            ds_check_count(c, db, group, glen, n);
        }

        glen = (end - (unsigned char *) key.mv_data) + 2;
        memcpy(group, key.mv_data, glen);
        n = 1;
    }

    mdb_cursor_close(cur);

    if (rc != 0 && rc != MDB_NOTFOUND) {
        return dsi_lmdb_rc(c->txn, rc);
    }

    if (glen) {
        ds_check_count(c, db, group, glen, n);
    }

    return DS_OK;
}


static void
ds_check_count(ds_check_t *c, int db, const unsigned char *k, size_t plen,
    uint64_t n)
{
    MDB_val        key, val;
    ds_str_t       hub, id;
    unsigned char  kb[DS_KEY_BUF];

    memcpy(kb, k, plen - 1);
    kb[plen - 1] = (db == DS_DB_BY_STATUS) ? 's' : 'r';
    kb[plen] = k[plen - 1];

    key.mv_data = kb;
    key.mv_size = plen + 1;

    if (mdb_get(c->txn->txn, ds_dbi(c->txn, DS_DB_COUNTS), &key, &val) != 0
        || val.mv_size != 8
        || (uint64_t) dsi_get_i64(val.mv_data) != n)
    {
        hub.data = (const char *) k;
        hub.len = plen - 2;
        id.data = NULL;
        id.len = 0;

        ds_check_problem(c, (db == DS_DB_BY_STATUS)
                            ? "instance count does not match the index"
                            : "ready count does not match the index",
                         hub, id);
    }
}


/* a count whose index has no entry at all */

static int
ds_check_stale_counts(ds_check_t *c, ds_str_t hub)
{
    int            rc, db;
    size_t         plen;
    ds_str_t       h, id;
    MDB_val        key, val;
    MDB_cursor    *cur;
    unsigned char  prefix[DS_KEY_BUF], kb[DS_KEY_BUF];

    rc = mdb_cursor_open(c->txn->txn, ds_dbi(c->txn, DS_DB_COUNTS), &cur);
    if (rc != 0) {
        return dsi_lmdb_rc(c->txn, rc);
    }

    plen = hub.len ? dsi_key_hub(prefix, hub) : 0;
    key.mv_data = prefix;
    key.mv_size = plen;

    rc = mdb_cursor_get(cur, &key, &val, plen ? MDB_SET_RANGE : MDB_FIRST);

    for ( /* void */ ;
         rc == 0 && key.mv_size >= plen
         && memcmp(key.mv_data, prefix, plen) == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
    {
        /* the names of the dbs and the mark share the main db */
        if (key.mv_size < 4
            || ((unsigned char *) key.mv_data)[key.mv_size - 3] != '\0')
        {
            continue;
        }

        db = (((unsigned char *) key.mv_data)[key.mv_size - 2] == 's')
             ? DS_DB_BY_STATUS : DS_DB_READY;

        memcpy(kb, key.mv_data, key.mv_size - 2);
        kb[key.mv_size - 2] = ((unsigned char *) key.mv_data)[key.mv_size - 1];

        if (!ds_check_exists_prefix(c, db, kb, key.mv_size - 1)) {
            h.data = key.mv_data;
            h.len = key.mv_size - 3;
            id.data = NULL;
            id.len = 0;
            ds_check_problem(c, "a count of entries the index does not have",
                             h, id);
        }
    }

    mdb_cursor_close(cur);

    return (rc == 0 || rc == MDB_NOTFOUND) ? DS_OK
                                           : dsi_lmdb_rc(c->txn, rc);
}


static int
ds_check_exists_prefix(ds_check_t *c, int db, const unsigned char *k,
    size_t len)
{
    int          rc;
    MDB_val      key, val;
    MDB_cursor  *cur;

    if (mdb_cursor_open(c->txn->txn, ds_dbi(c->txn, db), &cur) != 0) {
        return 0;
    }

    key.mv_data = (void *) k;
    key.mv_size = len;

    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);

    rc = (rc == 0 && key.mv_size >= len && memcmp(key.mv_data, k, len) == 0);

    mdb_cursor_close(cur);

    return rc;
}


static ds_str_t
ds_check_val(const MDB_val *val)
{
    ds_str_t  s;

    s.data = val->mv_data;
    s.len = val->mv_size;

    return s;
}


/* empty_ok: an empty text means none (null) */

static void
ds_check_json(ds_check_t *c, ds_str_t text, int empty_ok,
    const char *problem, ds_str_t hub, ds_str_t id)
{
    ds_json_error_t  err;

    if (text.len == 0 && empty_ok) {
        return;
    }

    /* -1 (out of memory) says nothing of the text */
    if (dsi_json_check(text.data, text.len, DS_CHECK_JSON_DEPTH, &err) == 0) {
        ds_check_problem(c, problem, hub, id);
    }
}
