/*
 * Copyright (C) ngx_durable authors
 *
 * Activity work items: one record per scheduled activity call, keyed by
 * its orchestration and task id, in the ready index while it waits or is
 * leased. A completion turns the record into a tombstone that keeps the
 * lease, so a retried completion answers the same without delivering the
 * result twice; tombstones are overwritten when the task id is scheduled
 * again (rewind, a later execution) and removed with the instance.
 *
 * Record (version 2):
 *
 *   version(1) flags(1) reserved(2) ready_at(8) lease_expires(8)
 *   lease(16) done_digest(8) name_len(4) input_len(4) name input
 *
 * Version 3, written only for a call with a version or tags (the gRPC
 * SDKs' versioned activities), appends to the header their lengths and
 * to the record the two:
 *
 *   ... name_len(4) input_len(4) version_len(4) tags_len(4) name input
 *   version tags
 *
 * flags: 1 = completed (a tombstone: no name, input or ready entry; the
 * lease is the one it was completed under, done_digest the digest of
 * that completion). Version 1 is the same without done_digest; it is
 * still read (the digest then is 0: not known).
 */


#include <stdlib.h>
#include <string.h>

#include "ds_key.h"


#define DS_ACTIVITY_VERSION 2
#define DS_ACTIVITY_HEADER  52
#define DS_ACTIVITY_V3      3
#define DS_ACTIVITY_HEADER_V3  60
#define DS_ACTIVITY_V1      1
#define DS_ACTIVITY_HEADER_V1  44
#define DS_ACTIVITY_DONE    0x01
#define DS_ACTIVITY_STACK   1024


typedef struct {
    ds_str_t            hub;
    ds_str_t            id;
    int                 tombstones;
} ds_activity_drop_t;


static int ds_activity_drop_one(ds_txn_t *txn, uint64_t seq,
    const MDB_val *val, void *data);
static int ds_activity_item_key(const unsigned char *item, size_t len,
    dsi_work_rec_t *r);
static int ds_activity_key_of(ds_str_t hub, ds_str_t id, ds_str_t key,
    int64_t task_id, dsi_work_rec_t *r);
static int ds_activity_work_get(ds_txn_t *txn, ds_str_t hub,
    dsi_work_rec_t *r);
static int ds_activity_work_put(ds_txn_t *txn, ds_str_t hub,
    dsi_work_rec_t *r);
static int ds_activity_verdict(ds_txn_t *txn, ds_str_t hub,
    dsi_work_rec_t *r, int64_t at, dsi_verdict_e *verdict);
static int ds_activity_drop(ds_txn_t *txn, ds_str_t hub, dsi_work_rec_t *r);
static ds_str_t ds_activity_name(const dsi_work_rec_t *r);
static void ds_activity_view(const dsi_work_rec_t *r, ds_work_item_t *it);
static int ds_activity_refuse(const dsi_work_rec_t *r, dsi_verb_e verb);
static int64_t ds_activity_stamp(const dsi_work_rec_t *r);
static int ds_activity_get(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    int64_t task_id, ds_activity_t *act);
static int ds_activity_put(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    int64_t task_id, const ds_activity_t *act, int64_t old_ready_at);
static int ds_activity_del(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    int64_t task_id, int64_t ready_at);
static int ds_activity_decode(const void *data, size_t len,
    ds_activity_t *act);


const dsi_work_kind_t  dsi_work_activity = {
    DS_READY_ACTIVITY,
    0,
    NULL,
    ds_activity_item_key,
    ds_activity_key_of,
    ds_activity_work_get,
    ds_activity_work_put,
    ds_activity_verdict,
    ds_activity_drop,
    NULL,
    ds_activity_name,
    ds_activity_view,
    ds_activity_refuse,
    NULL,
    ds_activity_stamp
};


/* a new work item, ready now; replaces a tombstone or a live item */

int
dsi_activity_schedule(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    int64_t task_id, const ds_activity_t *call, int64_t now)
{
    int            rc;
    int64_t        old_ready_at;
    ds_activity_t  act, old;

    if (task_id < 0 || call->name.len > DS_NAME_MAX
        || call->version.len > DS_NAME_MAX)
    {
        return DS_INVALID;
    }

    rc = ds_activity_get(txn, hub, id, task_id, &old);

    if (rc == DS_OK) {
        old_ready_at = old.ready_at;

    } else if (rc == DS_NOTFOUND) {
        old_ready_at = 0;

    } else {
        return rc;
    }

    memset(&act, 0, sizeof(ds_activity_t));
    act.ready_at = dsi_ready_time(now);
    act.name = call->name;
    act.input = call->input;
    act.version = call->version;
    act.tags = call->tags;

    return ds_activity_put(txn, hub, id, task_id, &act, old_ready_at);
}


/* drops the instance's activities (tombstones only when asked to) */

int
dsi_activity_drop_all(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    int tombstones)
{
    ds_activity_drop_t  d;

    d.hub = hub;
    d.id = id;
    d.tombstones = tombstones;

    return dsi_seq_each(txn, DS_DB_ACTIVITIES, hub, id, UINT64_MAX,
                        ds_activity_drop_one, &d);
}


static int
ds_activity_drop_one(ds_txn_t *txn, uint64_t seq, const MDB_val *val,
    void *data)
{
    int                  rc;
    ds_activity_t        act;
    ds_activity_drop_t  *d;
    unsigned char        item[DS_KEY_BUF];

    d = data;

    if (ds_activity_decode(val->mv_data, val->mv_size, &act) != DS_OK) {
        act.done = 0;
        act.ready_at = 0;
    }

    if (act.done && !d->tombstones) {
        return DSI_EACH_NEXT;
    }

    if (act.ready_at != 0) {
        rc = dsi_ready_del(txn, d->hub, DS_READY_ACTIVITY, act.ready_at, item,
                          dsi_item_activity(item, d->id, (int64_t) seq));
        if (rc != DS_OK) {
            return rc;
        }
    }

    return DSI_EACH_DELETE;
}


int
ds_work_complete_activity(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    int64_t task_id, const uint8_t *lease, int failed, ds_str_t result,
    ds_str_t reason, ds_str_t details, int64_t now)
{
    int             rc, replay;
    uint64_t        digest;
    ds_buf_t        b;
    ds_str_t        msg;
    dsi_digest_t    d;
    ds_activity_t   act;
    dsi_work_rec_t  r;

    if (task_id < 0) {
        return DS_INVALID;
    }

    dsi_digest_init(&d, DS_WORK_ACTIVITY);
    dsi_digest_int(&d, failed);

    if (failed) {
        dsi_digest_str(&d, reason);
        dsi_digest_str(&d, details);

    } else {
        dsi_digest_str(&d, result);
    }

    digest = dsi_digest_end(&d);

    memset(&r, 0, sizeof(dsi_work_rec_t));
    r.id = id;
    r.task_id = task_id;

    rc = dsi_work_fence(txn, hub, &dsi_work_activity, &r, lease, digest,
                        &replay);

    if (rc != DS_OK || replay) {
        /* a replay: a retry of the completion that made the tombstone */
        return rc;
    }

    rc = dsi_room(txn, DS_ROOM_ADD);
    if (rc != DS_OK) {
        return rc;
    }

    dsi_buf_init(&b);

    if (failed) {
        dsi_ev_begin(&b, "TaskFailed", -1, now);
        dsi_ev_int(&b, "TaskScheduledId", task_id);
        dsi_ev_json(&b, "Reason", reason);
        dsi_ev_json(&b, "Details", details);

    } else {
        dsi_ev_begin(&b, "TaskCompleted", -1, now);
        dsi_ev_int(&b, "TaskScheduledId", task_id);
        dsi_ev_json(&b, "Result", result);
    }

    rc = dsi_ev_end(txn, &b, &msg);
    if (rc != DS_OK) {
        dsi_buf_free(&b);
        return rc;
    }

    memset(&act, 0, sizeof(ds_activity_t));
    act.done = 1;
    memcpy(act.lease, lease, DS_LEASE_LEN);
    act.done_digest = digest;

    rc = ds_activity_put(txn, hub, id, task_id, &act, r.u.act.ready_at);

    if (rc == DS_OK) {
        rc = dsi_inbox_deliver(txn, hub, id, 0, 0, msg, now, 0);
    }

    dsi_buf_free(&b);

    return rc;
}


/* the engine's hooks (ds_work.c); an entry is "id 0 task_id(8)" */

static int
ds_activity_item_key(const unsigned char *item, size_t len,
    dsi_work_rec_t *r)
{
    if (len < 1 + 1 + 8 || item[len - 9] != '\0') {
        return DS_INVALID;
    }

    r->id.data = (const char *) item;
    r->id.len = len - 9;
    r->task_id = (int64_t) dsi_get_u64(item + len - 8);

    return DS_OK;
}


static int
ds_activity_key_of(ds_str_t hub, ds_str_t id, ds_str_t key, int64_t task_id,
    dsi_work_rec_t *r)
{
    (void) hub;
    (void) key;

    if (task_id < 0) {
        return DS_INVALID;
    }

    r->id = id;
    r->task_id = task_id;

    return DS_OK;
}


/* a tombstone keeps the lease it was completed under */

static int
ds_activity_work_get(ds_txn_t *txn, ds_str_t hub, dsi_work_rec_t *r)
{
    int             rc;
    ds_activity_t  *act;

    act = &r->u.act;

    rc = ds_activity_get(txn, hub, r->id, r->task_id, act);
    if (rc != DS_OK) {
        return rc;
    }

    r->lease = act->lease;
    r->lease_expires = &act->lease_expires;
    r->ready_at = &act->ready_at;
    r->lease_upto = NULL;
    r->done_lease = act->done ? act->lease : NULL;
    r->done_digest = &act->done_digest;

    return DS_OK;
}


static int
ds_activity_work_put(ds_txn_t *txn, ds_str_t hub, dsi_work_rec_t *r)
{
    return ds_activity_put(txn, hub, r->id, r->task_id, &r->u.act,
                           r->old_ready_at);
}


static int
ds_activity_verdict(ds_txn_t *txn, ds_str_t hub, dsi_work_rec_t *r,
    int64_t at, dsi_verdict_e *verdict)
{
    int            rc;
    ds_instance_t  inst;

    if (r->u.act.done || r->u.act.ready_at != at) {
        *verdict = DSI_WORK_STALE;
        return DS_OK;
    }

    rc = ds_instance_get(txn, hub, r->id, &inst);

    if (rc == DS_NOTFOUND
        || (rc == DS_OK && ds_status_is_terminal(inst.status)))
    {
        /* its result would be moot */
        *verdict = DSI_WORK_DROP;
        return DS_OK;
    }

    /* an execution's activities are dropped when it ends: this is theirs */
    if (rc == DS_OK) {
        r->execution = inst.execution;
    }

    *verdict = DSI_WORK_TAKE;

    return rc;
}


static int
ds_activity_drop(ds_txn_t *txn, ds_str_t hub, dsi_work_rec_t *r)
{
    return ds_activity_del(txn, hub, r->id, r->task_id, r->u.act.ready_at);
}


static ds_str_t
ds_activity_name(const dsi_work_rec_t *r)
{
    return r->u.act.name;
}


static void
ds_activity_view(const dsi_work_rec_t *r, ds_work_item_t *it)
{
    it->task_id = r->task_id;
    it->name = r->u.act.name;
    it->input = r->u.act.input;
    it->version = r->u.act.version;
    it->tags = r->u.act.tags;
    it->execution = r->execution;
}


/* only its lease holder writes an activity record: the lease says all */

static int64_t
ds_activity_stamp(const dsi_work_rec_t *r)
{
    (void) r;

    return 0;
}


/* a completed activity has no lease left to renew or give up */

static int
ds_activity_refuse(const dsi_work_rec_t *r, dsi_verb_e verb)
{
    (void) verb;

    return r->u.act.done ? DS_CONFLICT : DS_OK;
}


static int
ds_activity_get(ds_txn_t *txn, ds_str_t hub, ds_str_t id, int64_t task_id,
    ds_activity_t *act)
{
    int            rc;
    MDB_val        key, val;
    unsigned char  kb[DS_KEY_BUF];

    if (!dsi_key_valid(hub, id) || task_id < 0) {
        return DS_INVALID;
    }

    key.mv_data = kb;
    key.mv_size = dsi_key_seq(kb, hub, id, (uint64_t) task_id);

    rc = dsi_get(txn, DS_DB_ACTIVITIES, &key, &val);
    if (rc != 0) {
        return dsi_lmdb_rc(txn, rc);
    }

    if (ds_activity_decode(val.mv_data, val.mv_size, act) != DS_OK) {
        dsi_txn_set_error(txn, "corrupt activity record");
        return DS_ERROR;
    }

    return DS_OK;
}


/*
 * Writes the record and moves its ready entry from old_ready_at (0: none)
 * to act->ready_at. The record is encoded first: act may point into the
 * map.
 */

static int
ds_activity_put(ds_txn_t *txn, ds_str_t hub, ds_str_t id, int64_t task_id,
    const ds_activity_t *act, int64_t old_ready_at)
{
    int             rc, v3;
    size_t          size, ilen, header;
    MDB_val         key, val;
    unsigned char  *buf, *p, stack[DS_ACTIVITY_STACK];
    unsigned char   kb[DS_KEY_BUF], item[DS_KEY_BUF];

    if ((uint64_t) act->name.len > 0xffffffffu
        || (uint64_t) act->input.len > 0xffffffffu
        || (uint64_t) act->version.len > 0xffffffffu
        || (uint64_t) act->tags.len > 0xffffffffu)
    {
        return DS_INVALID;
    }

    /* the older layout while it holds all: readable by older builds */
    v3 = act->version.len || act->tags.len;
    header = v3 ? DS_ACTIVITY_HEADER_V3 : DS_ACTIVITY_HEADER;

    size = header + act->name.len + act->input.len + act->version.len
           + act->tags.len;

    if (size <= sizeof(stack)) {
        buf = stack;

    } else {
        buf = malloc(size);
        if (buf == NULL) {
            dsi_txn_set_error(txn, "out of memory");
            return DS_ERROR;
        }
    }

    p = buf;
    p[0] = v3 ? DS_ACTIVITY_V3 : DS_ACTIVITY_VERSION;
    p[1] = act->done ? DS_ACTIVITY_DONE : 0;
    p[2] = 0;
    p[3] = 0;
    dsi_put_i64(p + 4, act->ready_at);
    dsi_put_i64(p + 12, act->lease_expires);
    memcpy(p + 20, act->lease, DS_LEASE_LEN);
    dsi_put_u64(p + 36, act->done_digest);
    dsi_put_u32(p + 44, (uint32_t) act->name.len);
    dsi_put_u32(p + 48, (uint32_t) act->input.len);

    if (v3) {
        dsi_put_u32(p + 52, (uint32_t) act->version.len);
        dsi_put_u32(p + 56, (uint32_t) act->tags.len);
    }

    p += header;

    if (act->name.len) {
        memcpy(p, act->name.data, act->name.len);
        p += act->name.len;
    }

    if (act->input.len) {
        memcpy(p, act->input.data, act->input.len);
        p += act->input.len;
    }

    if (act->version.len) {
        memcpy(p, act->version.data, act->version.len);
        p += act->version.len;
    }

    if (act->tags.len) {
        memcpy(p, act->tags.data, act->tags.len);
    }

    ilen = dsi_item_activity(item, id, task_id);

    rc = dsi_ready_move(txn, hub, DS_READY_ACTIVITY, old_ready_at,
                       act->ready_at, item, ilen);

    if (rc == DS_OK) {
        key.mv_data = kb;
        key.mv_size = dsi_key_seq(kb, hub, id, (uint64_t) task_id);
        val.mv_data = buf;
        val.mv_size = size;

        rc = dsi_lmdb_rc(txn, dsi_put(txn, DS_DB_ACTIVITIES, &key, &val, 0));
    }

    if (buf != stack) {
        free(buf);
    }

    return rc;
}


static int
ds_activity_del(ds_txn_t *txn, ds_str_t hub, ds_str_t id, int64_t task_id,
    int64_t ready_at)
{
    int            rc;
    MDB_val        key;
    unsigned char  kb[DS_KEY_BUF];

    if (ready_at != 0) {
        rc = dsi_ready_del(txn, hub, DS_READY_ACTIVITY, ready_at, kb,
                          dsi_item_activity(kb, id, task_id));
        if (rc != DS_OK) {
            return rc;
        }
    }

    key.mv_data = kb;
    key.mv_size = dsi_key_seq(kb, hub, id, (uint64_t) task_id);

    rc = dsi_del(txn, DS_DB_ACTIVITIES, &key, NULL);

    return rc == MDB_NOTFOUND ? DS_OK : dsi_lmdb_rc(txn, rc);
}


/* for ds_check(): DS_ERROR when the record is malformed */

int
dsi_activity_info(const void *data, size_t len, int *done, int64_t *ready_at)
{
    ds_activity_t  act;

    if (ds_activity_decode(data, len, &act) != DS_OK) {
        return DS_ERROR;
    }

    *done = act.done;
    *ready_at = act.ready_at;

    return DS_OK;
}


static int
ds_activity_decode(const void *data, size_t len, ds_activity_t *act)
{
    size_t                nl, il, vl, tl, header, rest;
    const unsigned char  *p;

    p = data;

    if (len < 1) {
        return DS_ERROR;
    }

    header = p[0] == DS_ACTIVITY_V1 ? DS_ACTIVITY_HEADER_V1
             : p[0] == DS_ACTIVITY_V3 ? DS_ACTIVITY_HEADER_V3
             : DS_ACTIVITY_HEADER;

    if (len < header
        || (p[0] != DS_ACTIVITY_VERSION && p[0] != DS_ACTIVITY_V1
            && p[0] != DS_ACTIVITY_V3))
    {
        return DS_ERROR;
    }

    /* name_len and input_len end the header of versions 1 and 2 */
    vl = 0;
    tl = 0;

    if (p[0] == DS_ACTIVITY_V3) {
        nl = dsi_get_u32(p + 44);
        il = dsi_get_u32(p + 48);
        vl = dsi_get_u32(p + 52);
        tl = dsi_get_u32(p + 56);

    } else {
        nl = dsi_get_u32(p + header - 8);
        il = dsi_get_u32(p + header - 4);
    }

    rest = len - header;

    if (nl > rest || il > rest - nl || vl > rest - nl - il
        || tl != rest - nl - il - vl)
    {
        return DS_ERROR;
    }

    act->done = (p[1] & DS_ACTIVITY_DONE) != 0;
    act->ready_at = dsi_get_i64(p + 4);
    act->lease_expires = dsi_get_i64(p + 12);
    memcpy(act->lease, p + 20, DS_LEASE_LEN);
    act->done_digest = p[0] == DS_ACTIVITY_V1 ? 0 : dsi_get_u64(p + 36);
    act->name.data = (const char *) p + header;
    act->name.len = nl;
    act->input.data = act->name.data + nl;
    act->input.len = il;
    act->version.data = act->input.data + il;
    act->version.len = vl;
    act->tags.data = act->version.data + vl;
    act->tags.len = tl;

    return DS_OK;
}


/* the record as a row, for the tools (ds_rows.c) */

int
dsi_activity_decode(const void *data, size_t len, ds_activity_t *act)
{
    return ds_activity_decode(data, len, act);
}


int
dsi_activity_write(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    int64_t task_id, const ds_activity_t *act)
{
    if (!dsi_key_valid(hub, id) || task_id < 0
        || (act->done && act->ready_at != 0))
    {
        return DS_INVALID;
    }

    return ds_activity_put(txn, hub, id, task_id, act, 0);
}
