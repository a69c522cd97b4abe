/*
 * Copyright (C) ngx_durable authors
 *
 * Durable entities. An entity "@name@key" (name lower-cased, key case
 * sensitive) has a record in the entities db and a queue of operations in
 * entity_ops ("hub 0 @name@key 0 seq(8)"), numbered from the record's
 * counter like an instance inbox. An entity with queued operations is in
 * the ready index (kind 'e'); a claim leases it with all its queued
 * operations, so one batch at a time runs per entity, in order.
 *
 * Record (version 3):
 *
 *   version(1) flags(1) reserved(2) last_op(8) ready_at(8)
 *   lease_expires(8) lease_upto(8) op_seq(8) lease(16) done_lease(16)
 *   done_digest(8) state_len(4) owner_len(4) cs_len(4) state owner cs
 *
 * Version 2 is the same without owner and cs, and is what an unlocked
 * entity is written as; version 1 also without done_digest. Both are
 * still read (no lock; the digest of the last completion then is 0: not
 * known).
 *
 * flags: 1 = has state (state_len 0 then means JSON null). A record
 * without state stays after a delete, so that a retried completion is
 * answered from done_lease; get and list do not see it.
 *
 * The queue holds operations (signals, calls), lock requests and unlock
 * requests, told apart by their first member ("operation", "lock",
 * "unlock"). What a claim hands out is the entity's runnable operations
 * (ds_entity_select): unlocked, those at the front up to the first lock
 * or unlock request; locked, those its holder sent, up to the holder's
 * unlock, others waiting. Lock and unlock requests are applied by the
 * store itself when they come to the front (ds_entity_settle).
 */


#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ds_key.h"
#include "ds_jspan.h"


#define DS_ENTITY_VERSION   3
#define DS_ENTITY_HEADER    96
#define DS_ENTITY_V2        2
#define DS_ENTITY_HEADER_V2 88
#define DS_ENTITY_V1        1
#define DS_ENTITY_HEADER_V1 80
#define DS_ENTITY_STATE     0x01
#define DS_ENTITY_STACK     1024
#define DS_ETOKEN_RAW_MAX   (1 + DS_ID_MAX)

/* what a queued message is, by its first member */
#define DS_EMSG_OP          0
#define DS_EMSG_LOCK        1
#define DS_EMSG_UNLOCK      2


/*
 * The bounds of one lease's batch, as the reference's default batch size
 * (5,000 operations), and a byte bound on the state and the operations
 * together that keeps a batch under the 4 MiB a gRPC client takes by
 * default; the first operation goes whatever the size. The rest waits
 * for the next lease.
 */
#define DS_ENTITY_BATCH_OPS     5000
#define DS_ENTITY_BATCH_BYTES   (2 * 1024 * 1024)


/* a walk over the queue for what is runnable */
typedef struct {
    ds_str_t            owner;          /* the lock holder; len 0: none */
    unsigned            bounded:1;      /* a new batch: stop at its bounds */
    size_t              n;
    size_t              bytes;
    uint64_t            last;
    ds_event_cb         cb;
    void               *data;
} ds_esel_t;


/* the first lock or unlock request to apply */
typedef struct {
    int                 kind;
    int                 holder;         /* sent by the lock holder */
    uint64_t            seq;
    ds_buf_t            text;
    ds_str_t            owner;
} ds_efront_t;


static int ds_entity_fire(ds_txn_t *txn, ds_str_t hub, int64_t now);
static int ds_entity_item_key(const unsigned char *item, size_t len,
    dsi_work_rec_t *r);
static int ds_entity_key_of(ds_str_t hub, ds_str_t id, ds_str_t key,
    int64_t task_id, dsi_work_rec_t *r);
static int ds_entity_work_get(ds_txn_t *txn, ds_str_t hub,
    dsi_work_rec_t *r);
static int ds_entity_work_put(ds_txn_t *txn, ds_str_t hub,
    dsi_work_rec_t *r);
static int ds_entity_verdict(ds_txn_t *txn, ds_str_t hub, dsi_work_rec_t *r,
    int64_t at, dsi_verdict_e *verdict);
static ds_str_t ds_entity_name(const dsi_work_rec_t *r);
static void ds_entity_view(const dsi_work_rec_t *r, ds_work_item_t *it);
static int ds_erec_get(ds_txn_t *txn, ds_str_t hub, ds_str_t eid,
    ds_erec_t *rec);
static int ds_erec_put(ds_txn_t *txn, ds_str_t hub, ds_str_t eid,
    const ds_erec_t *rec, int64_t old_ready_at);
static int ds_erec_decode(const void *data, size_t len, ds_erec_t *rec);
static int ds_entity_send(ds_txn_t *txn, ds_str_t hub, ds_str_t eid,
    ds_str_t msg, int64_t now, unsigned depth);
static int ds_emsg_kind(ds_str_t msg);
static int ds_emsg_from(ds_esel_t *sel, ds_str_t msg);
static int ds_esel_one(ds_txn_t *txn, uint64_t seq, const MDB_val *val,
    void *data);
static int ds_entity_select(ds_txn_t *txn, ds_str_t hub, ds_str_t eid,
    const ds_erec_t *rec, uint64_t upto, int bounded, ds_event_cb cb,
    void *data, size_t *n, uint64_t *last);
static int ds_efront_one(ds_txn_t *txn, uint64_t seq, const MDB_val *val,
    void *data);
static int ds_entity_settle(ds_txn_t *txn, ds_str_t hub, ds_str_t eid,
    int64_t now, unsigned depth);
static int ds_entity_lock_next(ds_txn_t *txn, ds_str_t hub, json_t *j,
    int64_t now, unsigned depth);
static int ds_entity_release_set(ds_txn_t *txn, ds_str_t hub,
    ds_str_t owner, ds_str_t cs, json_t *set, size_t n, int64_t now,
    unsigned depth);
static int ds_entity_unlock_stale(ds_txn_t *txn, ds_str_t hub,
    ds_str_t eid, ds_str_t owner, ds_str_t cs, int64_t now, unsigned depth);
static void ds_entity_sender(json_t *j, uint64_t *execution,
    int64_t *created);
static int ds_entity_held_one(ds_txn_t *txn, uint64_t seq,
    const MDB_val *val, void *data);
static int ds_bytes_have(const void *data, size_t len, const char *part,
    size_t plen);
static int ds_entity_grant_stale(ds_txn_t *txn, ds_str_t hub,
    ds_str_t parent, uint64_t execution, int64_t created);
static int ds_str_is(ds_str_t s, const char *z);
static int ds_ebatch_cb(void *data, uint64_t seq, ds_str_t msg);
static int ds_entity_answer(ds_txn_t *txn, ds_str_t hub, ds_str_t call,
    const ds_entity_result_t *res, int64_t now);
static int ds_entity_complete(ds_txn_t *txn, ds_str_t hub, ds_str_t name,
    ds_str_t key, const uint8_t *lease, int delete_state, ds_str_t state,
    const ds_entity_result_t *results, size_t nresults,
    const ds_entity_result_t *failure, const ds_action_t *actions,
    size_t nactions, int64_t now);
static int ds_entity_actions(ds_txn_t *txn, ds_str_t hub,
    const ds_action_t *a, size_t n, int64_t now);
static int ds_entity_clean_one(ds_txn_t *txn, ds_str_t hub,
    const unsigned char *id, size_t len, int remove_empty,
    int release_orphaned, int64_t now, size_t *removed, size_t *released);
static int ds_bytes_cmp(const unsigned char *a, size_t al,
    const unsigned char *b, size_t bl);


const dsi_work_kind_t  dsi_work_entity = {
    DS_READY_ENTITY,
    1,
    ds_entity_fire,
    ds_entity_item_key,
    ds_entity_key_of,
    ds_entity_work_get,
    ds_entity_work_put,
    ds_entity_verdict,
    NULL,
    NULL,
    ds_entity_name,
    ds_entity_view,
    NULL,
    NULL,
    NULL
};


/*
 * "@name@key" into buf (DS_ID_MAX bytes), the name lower-cased. The name
 * must not be empty nor contain '@'; neither may contain a 0 byte.
 */

int
dsi_entity_id(ds_str_t name, ds_str_t key, unsigned char *buf, ds_str_t *eid)
{
    size_t  i, n;

    if (name.len == 0 || name.len > DS_ID_MAX
        || key.len > DS_ID_MAX - 2 - name.len
        || memchr(name.data, '@', name.len) != NULL
        || memchr(name.data, '\0', name.len) != NULL
        || (key.len && memchr(key.data, '\0', key.len) != NULL))
    {
        return DS_INVALID;
    }

    n = 0;
    buf[n++] = '@';

    for (i = 0; i < name.len; i++) {
        buf[n++] = (name.data[i] >= 'A' && name.data[i] <= 'Z')
                   ? (unsigned char) (name.data[i] - 'A' + 'a')
                   : (unsigned char) name.data[i];
    }

    buf[n++] = '@';

    if (key.len) {
        memcpy(buf + n, key.data, key.len);
        n += key.len;
    }

    eid->data = (const char *) buf;
    eid->len = n;

    return DS_OK;
}


int
ds_entity_signal(ds_txn_t *txn, ds_str_t hub, ds_str_t name, ds_str_t key,
    ds_str_t operation, ds_str_t input, int64_t now)
{
    return ds_entity_signal_at(txn, hub, name, key, operation, input, 0,
                               now);
}


int
ds_entity_signal_at(ds_txn_t *txn, ds_str_t hub, ds_str_t name,
    ds_str_t key, ds_str_t operation, ds_str_t input, int64_t at,
    int64_t now)
{
    int              rc;
    ds_buf_t         b;
    ds_str_t         eid, msg;
    unsigned char    eb[DS_ID_MAX];
    ds_name_fault_t  f;

    if (!dsi_key_hub_valid(hub)
        || (operation.len
            && ds_name_check(operation, DS_NAME_MAX, &f) != DS_OK)
        || dsi_entity_id(name, key, eb, &eid) != DS_OK)
    {
        return DS_INVALID;
    }

    /* "delete" frees what the entity holds: it may use the reserve */

    rc = dsi_room(txn, (operation.len == sizeof("delete") - 1
                        && memcmp(operation.data, "delete",
                                  sizeof("delete") - 1) == 0)
                       ? DS_ROOM_END : DS_ROOM_ADD);
    if (rc != DS_OK) {
        return rc;
    }

    dsi_buf_init(&b);
    dsi_ev_open(&b);
    dsi_ev_str(&b, "operation", operation);
    dsi_ev_json(&b, "input", input);
    dsi_ev_time(&b, "timestamp", now);

    rc = dsi_ev_end(txn, &b, &msg);

    if (rc == DS_OK) {
        rc = (at > now) ? dsi_timer_signal(txn, hub, eid, msg, at)
                        : dsi_entity_send(txn, hub, eid, msg, now);
    }

    dsi_buf_free(&b);

    return rc;
}


/*
 * Queues a message (an operation, a lock or an unlock request) for the
 * entity eid ("@name@key", as dsi_entity_id() makes it), creating the
 * entity; a lock or unlock request is applied at once when it is at the
 * front. msg must not point into the map.
 */

int
dsi_entity_send(ds_txn_t *txn, ds_str_t hub, ds_str_t eid, ds_str_t msg,
    int64_t now)
{
    return ds_entity_send(txn, hub, eid, msg, now, 0);
}


/* depth: how many entities of a lock set passed the request on */

static int
ds_entity_send(ds_txn_t *txn, ds_str_t hub, ds_str_t eid, ds_str_t msg,
    int64_t now, unsigned depth)
{
    int        rc;
    int64_t    old_ready_at;
    uint64_t   last, seq;
    ds_erec_t  rec;

    rc = ds_erec_get(txn, hub, eid, &rec);

    if (rc == DS_NOTFOUND) {
        memset(&rec, 0, sizeof(ds_erec_t));

    } else if (rc != DS_OK) {
        return rc;
    }

    old_ready_at = rec.ready_at;

    rc = dsi_seq_last(txn, DS_DB_ENTITY_OPS, hub, eid, &last);
    if (rc != DS_OK) {
        return rc;
    }

    if (last < rec.op_seq) {
        last = rec.op_seq;
    }

    if (last == UINT64_MAX) {
        dsi_txn_set_error(txn, "entity operation sequence exhausted");
        return DS_ERROR;
    }

    seq = last + 1;
    rec.op_seq = seq;

    dsi_lease_ready(rec.lease, rec.lease_expires, &rec.ready_at, now);

    rc = ds_erec_put(txn, hub, eid, &rec, old_ready_at);

    if (rc == DS_OK) {
        rc = dsi_seq_put(txn, DS_DB_ENTITY_OPS, hub, eid, seq, msg);
    }

    /* an operation changes no lock: only requests need settling */

    if (rc == DS_OK && ds_emsg_kind(msg) != DS_EMSG_OP) {
        rc = ds_entity_settle(txn, hub, eid, now, depth);
    }

    return rc;
}


/* "@Name@key" from a client into the canonical id in buf (DS_ID_MAX) */

int
dsi_entity_canon(ds_str_t id, unsigned char *buf, ds_str_t *eid)
{
    ds_str_t         name, key;
    ds_name_fault_t  f;

    if (dsi_entity_split(id, &name, &key) != DS_OK
        || ds_name_entity(name, key, &f) != DS_OK)
    {
        return DS_INVALID;
    }

    return dsi_entity_id(name, key, buf, eid);
}


static int
ds_emsg_kind(ds_str_t msg)
{
    if (msg.len > 8 && memcmp(msg.data, "{\"lock\":", 8) == 0) {
        return DS_EMSG_LOCK;
    }

    if (msg.len > 10 && memcmp(msg.data, "{\"unlock\":", 10) == 0) {
        return DS_EMSG_UNLOCK;
    }

    return DS_EMSG_OP;
}


/* a message's "parentInstanceId" equals the lock holder (sel->owner) */

static int
ds_emsg_from(ds_esel_t *sel, ds_str_t msg)
{
    int          same;
    json_t      *j, *v;
    const char  *p;

    j = json_loadb(msg.data, msg.len, 0, NULL);
    if (j == NULL) {
        return 0;
    }

    v = json_object_get(j, "parentInstanceId");
    p = json_string_value(v);

    same = p != NULL && json_string_length(v) == sel->owner.len
           && memcmp(p, sel->owner.data, sel->owner.len) == 0;

    json_decref(j);

    return same;
}


/*
 * The walk of ds_entity_select(): DSI_EACH_NEXT to go on, DS_OK at the
 * end of what is runnable now, DS_ERROR when the callback failed.
 */

static int
ds_esel_one(ds_txn_t *txn, uint64_t seq, const MDB_val *val, void *data)
{
    int         kind, from;
    ds_str_t    msg;
    ds_esel_t  *sel;

    sel = data;

    msg.data = val->mv_data;
    msg.len = val->mv_size;
    kind = ds_emsg_kind(msg);

    if (sel->owner.len == 0) {
        if (kind != DS_EMSG_OP) {
            return DS_OK;
        }

    } else {
        from = ds_emsg_from(sel, msg);

        if (!from) {
            /* another's message waits for the unlock */
            return DSI_EACH_NEXT;
        }

        if (kind != DS_EMSG_OP) {
            return DS_OK;
        }
    }

    if (sel->bounded
        && (sel->n == DS_ENTITY_BATCH_OPS
            || (sel->n && (sel->bytes >= DS_ENTITY_BATCH_BYTES
                           || msg.len > DS_ENTITY_BATCH_BYTES - sel->bytes))))
    {
        return DS_OK;
    }

    sel->n++;
    sel->bytes += msg.len;
    sel->last = seq;

    if (sel->cb && sel->cb(sel->data, seq, msg) != 0) {
        dsi_txn_set_error(txn, "stopped by the callback");
        return DS_ERROR;
    }

    return DSI_EACH_NEXT;
}


/*
 * The runnable operations with seq <= upto, in order, given to cb (may
 * be NULL); *n and *last: how many and the last seq, 0 if none. bounded:
 * no more than one batch takes (DS_ENTITY_BATCH_OPS and _BYTES).
 */

static int
ds_entity_select(ds_txn_t *txn, ds_str_t hub, ds_str_t eid,
    const ds_erec_t *rec, uint64_t upto, int bounded, ds_event_cb cb,
    void *data, size_t *n, uint64_t *last)
{
    int        rc;
    ds_esel_t  sel;

    sel.owner = rec->owner;
    sel.bounded = bounded ? 1 : 0;
    sel.n = 0;
    /* the state goes with the operations: it counts toward the bound */
    sel.bytes = rec->has_state ? rec->state.len : 0;
    sel.last = 0;
    sel.cb = cb;
    sel.data = data;

    rc = dsi_seq_each(txn, DS_DB_ENTITY_OPS, hub, eid, upto, ds_esel_one,
                      &sel);

    if (n) {
        *n = sel.n;
    }

    if (last) {
        *last = sel.last;
    }

    return rc;
}




/* the first request the entity must apply now, if any (DS_OK: stop) */

static int
ds_efront_one(ds_txn_t *txn, uint64_t seq, const MDB_val *val, void *data)
{
    int           kind;
    ds_str_t      msg;
    ds_esel_t     sel;
    ds_efront_t  *f;

    (void) txn;

    f = data;

    msg.data = val->mv_data;
    msg.len = val->mv_size;
    kind = ds_emsg_kind(msg);

    f->holder = 0;

    if (f->owner.len) {
        sel.owner = f->owner;
        f->holder = ds_emsg_from(&sel, msg);

        if (!f->holder) {
            /* a stale unlock of another can go now */
            if (kind != DS_EMSG_UNLOCK) {
                return DSI_EACH_NEXT;
            }

        } else if (kind != DS_EMSG_UNLOCK) {
            /* the holder's operations run first; a second lock waits */
            return DS_OK;
        }

    } else if (kind == DS_EMSG_OP) {
        return DS_OK;
    }

    f->kind = kind;
    f->seq = seq;
    dsi_buf_add(&f->text, msg.data, msg.len);

    return DS_OK;
}


/*
 * Applies the lock and unlock requests that have come to the front: a
 * lock request locks the entity for its orchestration and goes on to
 * the next entity of its set (or, from the last, EntityLockGranted to
 * the orchestration); the holder's unlock unlocks it; an unlock by
 * another is stale and dropped. A lock request whose grant would reach
 * no one (ds_entity_grant_stale()) is dropped before it locks, and the
 * entities before it in its set that it holds are unlocked: the loop
 * goes on with the next request, so a queue of such requests, however
 * long, costs no depth. Each pass deletes the message it applied or
 * dropped, so the loop ends.
 */

static int
ds_entity_settle(ds_txn_t *txn, ds_str_t hub, ds_str_t eid, int64_t now,
    unsigned depth)
{
    int          rc, changed, stale;
    int64_t      old_ready_at, created;
    json_int_t   pos;
    uint64_t     last, execution;
    json_t      *j;
    ds_str_t     owner, cs;
    ds_erec_t    rec;
    ds_efront_t  f;

    if (depth > DS_LOCK_SET_MAX) {
        /* left as it is, unlocked or not: the next message settles it */
        return DS_OK;
    }

    dsi_buf_init(&f.text);
    rc = DS_OK;

    for ( ;; ) {
        rc = ds_erec_get(txn, hub, eid, &rec);

        if (rc == DS_NOTFOUND) {
            rc = DS_OK;
            break;
        }

        if (rc != DS_OK) {
            break;
        }

        dsi_buf_reset(&f.text);
        f.kind = DS_EMSG_OP;
        f.owner = rec.owner;

        rc = dsi_seq_each(txn, DS_DB_ENTITY_OPS, hub, eid, UINT64_MAX,
                          ds_efront_one, &f);

        if (rc != DS_OK || f.kind == DS_EMSG_OP) {
            break;
        }

        if (f.text.oom) {
            dsi_txn_set_error(txn, "out of memory");
            rc = DS_ERROR;
            break;
        }

        j = json_loadb(f.text.data, f.text.len, 0, NULL);
        if (j == NULL) {
            dsi_txn_set_error(txn, "corrupt entity message");
            rc = DS_ERROR;
            break;
        }

        changed = 0;
        stale = 0;

        if (f.kind == DS_EMSG_LOCK) {
            rec.owner.data = json_string_value(json_object_get(j,
                                                   "parentInstanceId"));
            rec.owner.len = rec.owner.data ? strlen(rec.owner.data) : 0;
            rec.cs.data = json_string_value(json_object_get(j, "lock"));
            rec.cs.len = rec.cs.data ? strlen(rec.cs.data) : 0;
            changed = rec.owner.len && rec.cs.len;

            if (changed) {
                ds_entity_sender(j, &execution, &created);

                rc = ds_entity_grant_stale(txn, hub, rec.owner, execution,
                                           created);

                if (rc == 1) {
                    /* dropped unapplied; the strings point into j */
                    owner = rec.owner;
                    cs = rec.cs;
                    stale = 1;
                    changed = 0;
                    rc = DS_OK;

                } else if (rc != DS_OK) {
                    json_decref(j);
                    break;
                }
            }

        } else if (f.holder && ds_str_is(rec.cs, json_string_value(
                                     json_object_get(j, "unlock"))))
        {
            /* the holder's unlock; any other is stale and only dropped */
            rec.owner.len = 0;
            rec.cs.len = 0;
            changed = 1;
        }

        /* the record first: its strings point into the map or into j */

        rc = dsi_seq_last(txn, DS_DB_ENTITY_OPS, hub, eid, &last);

        if (rc == DS_OK && changed) {
            old_ready_at = rec.ready_at;

            if (last > f.seq) {
                /* messages that waited may run now */
                rec.ready_at = 0;
                dsi_lease_ready(rec.lease, rec.lease_expires, &rec.ready_at,
                                now);
            }

            rc = ds_erec_put(txn, hub, eid, &rec, old_ready_at);
        }

        if (rc == DS_OK) {
            rc = dsi_seq_del_one(txn, DS_DB_ENTITY_OPS, hub, eid, f.seq);
        }

        if (rc == DS_OK && f.kind == DS_EMSG_LOCK && changed) {
            rc = ds_entity_lock_next(txn, hub, j, now, depth);
        }

        if (rc == DS_OK && stale) {
            /* the set's entities before this one, which it may hold */
            pos = json_integer_value(json_object_get(j, "position"));

            if (pos > 0) {
                rc = ds_entity_release_set(txn, hub, owner, cs,
                                           json_object_get(j, "lockSet"),
                                           (size_t) pos, now, depth + 1);
            }
        }

        json_decref(j);

        if (rc != DS_OK) {
            break;
        }
    }

    dsi_buf_free(&f.text);

    return rc;
}


/* a lock request granted here goes on, or the holder hears it has all */

static int
ds_entity_lock_next(ds_txn_t *txn, ds_str_t hub, json_t *j, int64_t now,
    unsigned depth)
{
    int             rc;
    char           *text;
    size_t          pos;
    json_t         *set, *next;
    int64_t         created;
    uint64_t        execution;
    ds_str_t        id, eid, msg, parent;
    unsigned char   eb[DS_ID_MAX];

    set = json_object_get(j, "lockSet");
    pos = (size_t) json_integer_value(json_object_get(j, "position")) + 1;

    parent.data = json_string_value(json_object_get(j, "parentInstanceId"));
    parent.len = strlen(parent.data);

    if (pos < json_array_size(set)) {
        id.data = json_string_value(json_array_get(set, pos));
        id.len = id.data ? strlen(id.data) : 0;

        if (dsi_entity_canon(id, eb, &eid) != DS_OK) {
            /* checked when the orchestration sent it */
            return DS_OK;
        }

        next = json_deep_copy(j);

        if (next == NULL
            || json_object_set_new(next, "position", json_integer(pos)) != 0)
        {
            json_decref(next);
            dsi_txn_set_error(txn, "out of memory");
            return DS_ERROR;
        }

        /* jansson keeps the members in order: "lock" stays first */

        text = json_dumps(next, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(next);

        if (text == NULL) {
            dsi_txn_set_error(txn, "out of memory");
            return DS_ERROR;
        }

        msg.data = text;
        msg.len = strlen(text);

        rc = ds_entity_send(txn, hub, eid, msg, now, depth + 1);
        free(text);

        return rc;
    }

    /*
     * ds_entity_settle() found the execution alive before it locked the
     * last entity, in this transaction: the grant reaches it
     */

    id.data = json_string_value(json_object_get(j, "lock"));
    id.len = strlen(id.data);

    ds_entity_sender(j, &execution, &created);

    /* the grant carries its set, to be released by it alone */

    text = json_dumps(set, JSON_COMPACT);
    if (text == NULL) {
        dsi_txn_set_error(txn, "out of memory");
        return DS_ERROR;
    }

    msg.data = text;
    msg.len = strlen(text);

    rc = dsi_inbox_grant(txn, hub, parent, execution, created, id, msg,
                         now);
    free(text);

    return rc;
}


/*
 * The life of the orchestration that sent a call or lock request: its
 * execution and its created time (0 each in a message that lacks them,
 * as one written before they were sent: any). An id purged and started
 * again numbers its executions from 1 again; the created time tells the
 * lives apart.
 */

static void
ds_entity_sender(json_t *j, uint64_t *execution, int64_t *created)
{
    *execution = (uint64_t) json_integer_value(json_object_get(j,
                                                   "parentExecution"));
    *created = (int64_t) json_integer_value(json_object_get(j,
                                                "parentCreated"));
}


/*
 * 1 when a grant to the life of parent (execution and created time; 0:
 * any) would reach no one who asked for it: the instance is gone or
 * ended, it continued as new since (the new execution never asked), or
 * it was purged and its id started again; else DS_OK, or an error.
 */

static int
ds_entity_grant_stale(ds_txn_t *txn, ds_str_t hub, ds_str_t parent,
    uint64_t execution, int64_t created)
{
    int            rc;
    ds_instance_t  inst;

    rc = ds_instance_get(txn, hub, parent, &inst);

    if (rc == DS_NOTFOUND) {
        return 1;
    }

    if (rc != DS_OK) {
        return rc;
    }

    if (ds_status_is_terminal(inst.status)
        || (execution != 0 && inst.execution != execution)
        || (created != 0 && inst.created != created))
    {
        return 1;
    }

    return DS_OK;
}


/*
 * Releases a lock that was granted to an execution that never hears of
 * it (it ended, or continued as new, before the grant came or before it
 * saw it): each entity of the set (the JSON text of an array of ids
 * "@name@key") that owner still holds for the critical section cs is
 * unlocked at once, and what waited in its queue may run. An entity
 * locked otherwise, or missing, is left as it is.
 */

int
dsi_entity_release(ds_txn_t *txn, ds_str_t hub, ds_str_t owner,
    ds_str_t cs, ds_str_t set, int64_t now)
{
    int      rc;
    json_t  *j;

    j = json_loadb(set.data, set.len, 0, NULL);
    if (j == NULL) {
        dsi_txn_set_error(txn, "corrupt lock set");
        return DS_ERROR;
    }

    rc = ds_entity_release_set(txn, hub, owner, cs, j, json_array_size(j),
                               now, 0);
    json_decref(j);

    return rc;
}


/*
 * Drops the history of an execution that has ended for good (its record
 * removed, replaced by a new start under its id, or continued as new)
 * and releases the locks it may still hold: each set its history asked
 * for
 * (EntityLockRequested), as dsi_entity_release() releases one. Nothing
 * else would: a lock names its holder by id alone, which the next life
 * under it takes, and a clean then sees the holder alive.
 */

int
dsi_entity_history_drop(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    int64_t now)
{
    int       rc;
    size_t    i;
    json_t   *held, *one, *set;
    ds_str_t  cs;

    held = NULL;

    rc = dsi_seq_each(txn, DS_DB_HISTORY, hub, id, UINT64_MAX,
                      ds_entity_held_one, &held);

    for (i = 0; rc == DS_OK && i < json_array_size(held); i++) {
        one = json_array_get(held, i);
        set = json_array_get(one, 1);

        cs.data = json_string_value(json_array_get(one, 0));
        cs.len = json_string_length(json_array_get(one, 0));

        rc = ds_entity_release_set(txn, hub, id, cs, set,
                                   json_array_size(set), now, 0);
    }

    json_decref(held);

    return rc;
}


/*
 * Each history event goes; a lock request's set is kept in *data. Only
 * an event that names the type is parsed, in whatever order its members
 * come (an imported history's may differ from the store's own).
 */

static int
ds_entity_held_one(ds_txn_t *txn, uint64_t seq, const MDB_val *val,
    void *data)
{
    json_t      *ev, *cs, *set, **held;
    const char  *etype;
    static const char  type[] = "\"EntityLockRequested\"";

    (void) seq;

    if (!ds_bytes_have(val->mv_data, val->mv_size, type, sizeof(type) - 1)) {
        return DSI_EACH_DELETE;
    }

    held = data;

    ev = json_loadb(val->mv_data, val->mv_size, 0, NULL);
    cs = json_object_get(ev, "CriticalSectionId");
    set = json_object_get(ev, "LockSet");

    etype = json_string_value(json_object_get(ev, "EventType"));

    if (etype != NULL && strcmp(etype, "EntityLockRequested") == 0
        && json_is_string(cs) && json_is_array(set))
    {
        if (*held == NULL) {
            *held = json_array();
        }

        if (*held == NULL
            || json_array_append_new(*held, json_pack("[OO]", cs, set)) != 0)
        {
            json_decref(ev);
            dsi_txn_set_error(txn, "out of memory");
            return DS_ERROR;
        }
    }

    json_decref(ev);

    return DSI_EACH_DELETE;
}


/* whether data holds part (plen > 0) */

static int
ds_bytes_have(const void *data, size_t len, const char *part, size_t plen)
{
    const unsigned char  *p, *end;

    p = data;
    end = p + len;

    while ((size_t) (end - p) >= plen) {
        p = memchr(p, part[0], (size_t) (end - p) - plen + 1);

        if (p == NULL) {
            return 0;
        }

        if (memcmp(p, part, plen) == 0) {
            return 1;
        }

        p++;
    }

    return 0;
}


/*
 * The first n entities of set. Past DS_LOCK_SET_MAX deep, each is still
 * unlocked, but not settled (ds_entity_settle()): its queue waits for
 * the next message sent to it, and no ended owner keeps it.
 */

static int
ds_entity_release_set(ds_txn_t *txn, ds_str_t hub, ds_str_t owner,
    ds_str_t cs, json_t *set, size_t n, int64_t now, unsigned depth)
{
    int            rc;
    size_t         i;
    ds_str_t       id, eid;
    unsigned char  eb[DS_ID_MAX];

    if (n > json_array_size(set)) {
        n = json_array_size(set);
    }

    for (i = 0; i < n; i++) {
        id.data = json_string_value(json_array_get(set, i));

        if (id.data == NULL) {
            continue;
        }

        id.len = json_string_length(json_array_get(set, i));

        if (dsi_entity_canon(id, eb, &eid) != DS_OK) {
            /* checked when the orchestration sent it */
            continue;
        }

        rc = ds_entity_unlock_stale(txn, hub, eid, owner, cs, now, depth);
        if (rc != DS_OK) {
            return rc;
        }
    }

    return DS_OK;
}


static int
ds_entity_unlock_stale(ds_txn_t *txn, ds_str_t hub, ds_str_t eid,
    ds_str_t owner, ds_str_t cs, int64_t now, unsigned depth)
{
    int        rc;
    int64_t    old_ready_at;
    uint64_t   last;
    ds_erec_t  rec;

    rc = ds_erec_get(txn, hub, eid, &rec);

    if (rc == DS_NOTFOUND) {
        return DS_OK;
    }

    if (rc != DS_OK) {
        return rc;
    }

    if (rec.owner.len != owner.len || rec.cs.len != cs.len
        || memcmp(rec.owner.data, owner.data, owner.len) != 0
        || memcmp(rec.cs.data, cs.data, cs.len) != 0)
    {
        return DS_OK;
    }

    rc = dsi_seq_last(txn, DS_DB_ENTITY_OPS, hub, eid, &last);
    if (rc != DS_OK) {
        return rc;
    }

    old_ready_at = rec.ready_at;
    rec.owner.len = 0;
    rec.cs.len = 0;

    if (last) {
        /* messages that waited may run now */
        dsi_lease_ready(rec.lease, rec.lease_expires, &rec.ready_at, now);
    }

    rc = ds_erec_put(txn, hub, eid, &rec, old_ready_at);

    if (rc == DS_OK && last) {
        rc = ds_entity_settle(txn, hub, eid, now, depth);
    }

    return rc;
}


static int
ds_str_is(ds_str_t s, const char *z)
{
    return z != NULL && strlen(z) == s.len && memcmp(s.data, z, s.len) == 0;
}


int
ds_entity_read_ops(ds_txn_t *txn, ds_str_t hub, ds_str_t name, ds_str_t key,
    uint64_t upto, ds_event_cb cb, void *data)
{
    int            rc;
    ds_str_t       eid;
    ds_erec_t      rec;
    unsigned char  eb[DS_ID_MAX];

    if (dsi_entity_id(name, key, eb, &eid) != DS_OK) {
        return DS_INVALID;
    }

    rc = ds_erec_get(txn, hub, eid, &rec);

    if (rc == DS_NOTFOUND) {
        return DS_OK;
    }

    if (rc != DS_OK) {
        return rc;
    }

    return ds_entity_select(txn, hub, eid, &rec, upto, 0, cb, data, NULL,
                            NULL);
}


int
ds_work_complete_entity(ds_txn_t *txn, ds_str_t hub, ds_str_t name,
    ds_str_t key, const uint8_t *lease, int delete_state, ds_str_t state,
    int64_t now)
{
    return ds_work_complete_entity_results(txn, hub, name, key, lease,
                                           delete_state, state, NULL, 0,
                                           NULL, 0, now);
}


/*
 * What an entity's operations may do besides answering: signal entities
 * and start orchestrations (DS_ACT_SIGNAL_ENTITY, DS_ACT_START_SUB with
 * an instance id; no parent), either at a time (fire_at; 0: at once).
 */

int
dsi_entity_actions_check(const ds_action_t *a, size_t n)
{
    size_t           i;
    ds_name_fault_t  f;

    if (n && a == NULL) {
        return DS_INVALID;
    }

    for (i = 0; i < n; i++) {
        /* a signal's operation may be empty, the reference's default */

        if ((a[i].name.len || a[i].type != DS_ACT_SIGNAL_ENTITY)
            && ds_name_check(a[i].name, DS_NAME_MAX, &f) != DS_OK)
        {
            return DS_INVALID;
        }

        switch (a[i].type) {

        case DS_ACT_SIGNAL_ENTITY:
            if (ds_name_entity(a[i].entity_name, a[i].entity_key, &f)
                != DS_OK)
            {
                return DS_INVALID;
            }

            break;

        case DS_ACT_START_SUB:
            if (ds_name_instance_id(a[i].instance_id, &f) != DS_OK
                || !dsi_version_ok(a[i].version)
                || ds_tags_check(a[i].tags) != DS_OK)
            {
                return DS_INVALID;
            }

            break;

        default:
            return DS_INVALID;
        }
    }

    return DS_OK;
}


static int
ds_entity_actions(ds_txn_t *txn, ds_str_t hub, const ds_action_t *a,
    size_t n, int64_t now)
{
    int            rc;
    size_t         i;
    dsi_start_t    s;
    ds_instance_t  inst;

    for (i = 0; i < n; i++) {
        if (a[i].type == DS_ACT_SIGNAL_ENTITY) {
            rc = ds_entity_signal_at(txn, hub, a[i].entity_name,
                                     a[i].entity_key, a[i].name, a[i].input,
                                     a[i].fire_at, now);

        } else {
            memset(&s, 0, sizeof(dsi_start_t));
            s.name = a[i].name;
            s.input = a[i].input;
            s.version = a[i].version;
            s.tags = a[i].tags;
            s.scheduled = a[i].fire_at;
            s.parent_task = -1;

            /* an active namesake stays: the start is dropped */
            rc = dsi_start(txn, hub, a[i].instance_id, &s, now, &inst);

            if (rc == DS_CONFLICT) {
                rc = DS_OK;
            }
        }

        if (rc != DS_OK) {
            return rc;
        }
    }

    return DS_OK;
}


typedef struct {
    ds_buf_t            text;           /* the calls' messages */
    size_t             *lens;           /* 0: not a call */
    uint64_t           *seqs;
    size_t              n;
    size_t              size;
    int                 oom;
} ds_ebatch_t;


static int
ds_ebatch_cb(void *data, uint64_t seq, ds_str_t msg)
{
    void         *p;
    ds_str_t      parent;
    ds_ebatch_t  *bt;

    bt = data;

    if (bt->n == bt->size) {
        bt->size = bt->size ? 2 * bt->size : 16;

        p = realloc(bt->lens, bt->size * sizeof(size_t));
        if (p == NULL) {
            bt->oom = 1;
            return 1;
        }

        bt->lens = p;

        p = realloc(bt->seqs, bt->size * sizeof(uint64_t));
        if (p == NULL) {
            bt->oom = 1;
            return 1;
        }

        bt->seqs = p;
    }

    /* only a call is answered: it has a requestId and a parent */

    bt->lens[bt->n] = 0;

    if (ds_jspan_member((const unsigned char *) msg.data, msg.len,
                        "parentInstanceId", &parent))
    {
        dsi_buf_add(&bt->text, msg.data, msg.len);
        bt->lens[bt->n] = msg.len;
    }

    bt->seqs[bt->n++] = seq;

    return bt->text.oom;
}


int
ds_work_complete_entity_results(ds_txn_t *txn, ds_str_t hub, ds_str_t name,
    ds_str_t key, const uint8_t *lease, int delete_state, ds_str_t state,
    const ds_entity_result_t *results, size_t nresults,
    const ds_action_t *actions, size_t nactions, int64_t now)
{
    return ds_entity_complete(txn, hub, name, key, lease, delete_state,
                              state, results, nresults, NULL, actions,
                              nactions, now);
}


int
ds_work_fail_entity(ds_txn_t *txn, ds_str_t hub, ds_str_t name,
    ds_str_t key, const uint8_t *lease, ds_str_t reason, ds_str_t details,
    int64_t now)
{
    ds_str_t            none;
    ds_entity_result_t  failure;

    none.data = "";
    none.len = 0;

    failure.failed = 1;
    failure.output = none;
    failure.reason = reason;
    failure.details = details;

    return ds_entity_complete(txn, hub, name, key, lease, 0, none, NULL, 0,
                              &failure, NULL, 0, now);
}


/*
 * A completion; failure: the batch failed as a whole, every operation
 * gets that result and the state stays as it was (delete_state, state
 * and results unused).
 */

static int
ds_entity_complete(ds_txn_t *txn, ds_str_t hub, ds_str_t name,
    ds_str_t key, const uint8_t *lease, int delete_state, ds_str_t state,
    const ds_entity_result_t *results, size_t nresults,
    const ds_entity_result_t *failure, const ds_action_t *actions,
    size_t nactions, int64_t now)
{
    int             rc, replay;
    char            ob[DS_ID_MAX], cb[DS_NAME_MAX];
    size_t          i, off;
    int64_t         old_ready_at;
    uint64_t        last, digest;
    ds_str_t        eid, msg;
    ds_erec_t       rec;
    ds_buf_t        kept;
    ds_ebatch_t     bt;
    dsi_work_rec_t  r;

    memset(&r, 0, sizeof(dsi_work_rec_t));

    if (ds_entity_key_of(hub, name, key, 0, &r) != DS_OK
        || (nresults && results == NULL)
        || dsi_entity_actions_check(actions, nactions) != DS_OK)
    {
        return DS_INVALID;
    }

    digest = dsi_entity_digest(delete_state, state, failure, results,
                               nresults, actions, nactions);

    rc = dsi_work_fence(txn, hub, &dsi_work_entity, &r, lease, digest,
                        &replay);

    if (rc != DS_OK || replay) {
        /* a replay: a retry of the last completion */
        return rc;
    }

    eid = r.id;
    rec = r.u.ent;

    /* a completion that deletes the state frees space: the reserve's */

    rc = dsi_room(txn, delete_state ? DS_ROOM_END : DS_ROOM_ADD);
    if (rc != DS_OK) {
        return rc;
    }

    /* the lock is copied: nothing of rec may point into the map */

    if (rec.owner.len > sizeof(ob) || rec.cs.len > sizeof(cb)) {
        dsi_txn_set_error(txn, "corrupt entity record");
        return DS_ERROR;
    }

    if (rec.owner.len) {
        memcpy(ob, rec.owner.data, rec.owner.len);
        memcpy(cb, rec.cs.data, rec.cs.len);
    }

    rec.owner.data = ob;
    rec.cs.data = cb;

    /* the operations the lease delivered, and the calls among them */

    memset(&bt, 0, sizeof(ds_ebatch_t));
    dsi_buf_init(&bt.text);
    dsi_buf_init(&kept);

    rc = ds_entity_select(txn, hub, eid, &rec, rec.lease_upto, 0,
                          ds_ebatch_cb, &bt, NULL, NULL);

    if (rc != DS_OK || bt.oom) {
        if (bt.oom) {
            dsi_txn_set_error(txn, "out of memory");
            rc = DS_ERROR;
        }

        goto done;
    }

    if (failure == NULL) {
        rec.has_state = !delete_state;

        if (delete_state) {
            rec.state.data = NULL;
            rec.state.len = 0;

        } else {
            rec.state = state;
        }

    } else if (rec.has_state) {
        /* kept: a copy, as the writes below may move the map's pages */

        dsi_buf_add(&kept, rec.state.data, rec.state.len);
        if (kept.oom) {
            dsi_txn_set_error(txn, "out of memory");
            rc = DS_ERROR;
            goto done;
        }

        rec.state.data = kept.data;
    }

    old_ready_at = rec.ready_at;

    for (i = 0; rc == DS_OK && i < bt.n; i++) {
        rc = dsi_seq_del_one(txn, DS_DB_ENTITY_OPS, hub, eid, bt.seqs[i]);
    }

    if (rc == DS_OK) {
        rc = dsi_seq_last(txn, DS_DB_ENTITY_OPS, hub, eid, &last);
    }

    if (rc != DS_OK) {
        goto done;
    }

    rec.last_op = now;
    memcpy(rec.done_lease, lease, DS_LEASE_LEN);
    rec.done_digest = digest;
    memset(rec.lease, 0, DS_LEASE_LEN);
    rec.lease_expires = 0;
    rec.ready_at = last ? dsi_ready_time(now) : 0;

    rc = ds_erec_put(txn, hub, eid, &rec, old_ready_at);

    /* the callers hear of their calls */

    for (i = 0, off = 0; rc == DS_OK && i < bt.n; i++) {
        if (bt.lens[i] == 0) {
            continue;
        }

        msg.data = bt.text.data + off;
        msg.len = bt.lens[i];
        off += bt.lens[i];

        rc = ds_entity_answer(txn, hub, msg,
                              failure ? failure
                              : i < nresults ? &results[i] : NULL, now);
    }

    /* signals and starts; a signal to itself waits for the next batch */

    if (rc == DS_OK && nactions) {
        rc = ds_entity_actions(txn, hub, actions, nactions, now);
    }

    /* a lock or unlock request may be at the front now */

    if (rc == DS_OK && last) {
        rc = ds_entity_settle(txn, hub, eid, now, 0);
    }

done:

    dsi_buf_free(&bt.text);
    dsi_buf_free(&kept);
    free(bt.lens);
    free(bt.seqs);

    return rc;
}


/* the digest of a completion's parsed body (dsi_work_fence()) */

uint64_t
dsi_entity_digest(int delete_state, ds_str_t state,
    const ds_entity_result_t *failure, const ds_entity_result_t *results,
    size_t nresults, const ds_action_t *actions, size_t nactions)
{
    size_t        i;
    dsi_digest_t  d;

    dsi_digest_init(&d, DS_WORK_ENTITY);

    if (failure) {
        /* -1: no completion with a state digests the same */
        dsi_digest_int(&d, -1);
        dsi_digest_str(&d, failure->reason);
        dsi_digest_str(&d, failure->details);

    } else {
        dsi_digest_int(&d, delete_state);

        if (!delete_state) {
            dsi_digest_str(&d, state);
        }
    }

    /* a completion without results digests as it always did */

    for (i = 0; i < nresults; i++) {
        dsi_digest_int(&d, results[i].failed);
        dsi_digest_str(&d, results[i].output);
        dsi_digest_str(&d, results[i].reason);
        dsi_digest_str(&d, results[i].details);
    }

    for (i = 0; i < nactions; i++) {
        dsi_digest_int(&d, actions[i].type);
        dsi_digest_str(&d, actions[i].name);
        dsi_digest_str(&d, actions[i].entity_name);
        dsi_digest_str(&d, actions[i].entity_key);
        dsi_digest_str(&d, actions[i].instance_id);
        dsi_digest_str(&d, actions[i].input);
        dsi_digest_str(&d, actions[i].version);
        dsi_digest_str(&d, actions[i].tags);

        /* an action without a time digests as it always did */
        if (actions[i].fire_at) {
            dsi_digest_int(&d, actions[i].fire_at);
        }
    }

    return dsi_digest_end(&d);
}


/* EntityOperationCompleted or EntityOperationFailed to the caller */

static int
ds_entity_answer(ds_txn_t *txn, ds_str_t hub, ds_str_t call,
    const ds_entity_result_t *res, int64_t now)
{
    int         rc;
    json_t     *j;
    int64_t     created;
    ds_buf_t    b;
    ds_str_t    rid, parent, msg, none;
    uint64_t    execution;

    j = json_loadb(call.data, call.len, 0, NULL);
    if (j == NULL) {
        dsi_txn_set_error(txn, "corrupt entity message");
        return DS_ERROR;
    }

    rid.data = json_string_value(json_object_get(j, "requestId"));
    parent.data = json_string_value(json_object_get(j, "parentInstanceId"));
    ds_entity_sender(j, &execution, &created);

    if (rid.data == NULL || parent.data == NULL) {
        json_decref(j);
        return DS_OK;
    }

    rid.len = strlen(rid.data);
    parent.len = strlen(parent.data);
    none.data = NULL;
    none.len = 0;

    dsi_buf_init(&b);

    if (res && res->failed) {
        dsi_ev_begin(&b, "EntityOperationFailed", -1, now);
        dsi_ev_str(&b, "RequestId", rid);
        dsi_ev_json(&b, "Reason", res->reason);
        dsi_ev_json(&b, "Details", res->details);

    } else {
        dsi_ev_begin(&b, "EntityOperationCompleted", -1, now);
        dsi_ev_str(&b, "RequestId", rid);
        dsi_ev_json(&b, "Output", res ? res->output : none);
    }

    rc = dsi_ev_end(txn, &b, &msg);

    if (rc == DS_OK) {
        rc = dsi_inbox_deliver(txn, hub, parent, execution, created, msg,
                               now, 0);
    }

    dsi_buf_free(&b);
    json_decref(j);

    return rc;
}


/* the engine's hooks (ds_work.c); an entry is "@name@key" */

/* scheduled signals fall due by the timers, as orchestrations' do */

static int
ds_entity_fire(ds_txn_t *txn, ds_str_t hub, int64_t now)
{
    size_t  fired;

    return ds_work_fire_timers(txn, hub, now, DS_CLAIM_TIMERS, &fired);
}


static int
ds_entity_item_key(const unsigned char *item, size_t len, dsi_work_rec_t *r)
{
    r->id.data = (const char *) item;
    r->id.len = len;

    return dsi_entity_split(r->id, &r->name, &r->key);
}


static int
ds_entity_key_of(ds_str_t hub, ds_str_t id, ds_str_t key, int64_t task_id,
    dsi_work_rec_t *r)
{
    (void) task_id;

    if (!dsi_key_hub_valid(hub)
        || dsi_entity_id(id, key, r->eid, &r->id) != DS_OK)
    {
        return DS_INVALID;
    }

    return dsi_entity_split(r->id, &r->name, &r->key);
}


static int
ds_entity_work_get(ds_txn_t *txn, ds_str_t hub, dsi_work_rec_t *r)
{
    int         rc;
    ds_erec_t  *rec;

    rec = &r->u.ent;

    rc = ds_erec_get(txn, hub, r->id, rec);
    if (rc != DS_OK) {
        return rc;
    }

    r->lease = rec->lease;
    r->lease_expires = &rec->lease_expires;
    r->ready_at = &rec->ready_at;
    r->lease_upto = &rec->lease_upto;
    r->done_lease = rec->done_lease;
    r->done_digest = &rec->done_digest;

    return DS_OK;
}


static int
ds_entity_work_put(ds_txn_t *txn, ds_str_t hub, dsi_work_rec_t *r)
{
    return ds_erec_put(txn, hub, r->id, &r->u.ent, r->old_ready_at);
}


static int
ds_entity_verdict(ds_txn_t *txn, ds_str_t hub, dsi_work_rec_t *r,
    int64_t at, dsi_verdict_e *verdict)
{
    int       rc;
    size_t    n;
    uint64_t  last;

    if (r->u.ent.ready_at != at) {
        *verdict = DSI_WORK_STALE;
        return DS_OK;
    }

    /* what is runnable: a locked entity waits for its holder */

    rc = ds_entity_select(txn, hub, r->id, &r->u.ent, UINT64_MAX, 1, NULL,
                          NULL, &n, &last);
    if (rc != DS_OK) {
        return rc;
    }

    r->upto = last;
    *verdict = n ? DSI_WORK_TAKE : DSI_WORK_IDLE;

    return DS_OK;
}


static ds_str_t
ds_entity_name(const dsi_work_rec_t *r)
{
    return r->name;
}


static void
ds_entity_view(const dsi_work_rec_t *r, ds_work_item_t *it)
{
    it->name = r->name;
    it->key = r->key;

    if (r->u.ent.has_state) {
        it->input = r->u.ent.state;
    }
}


/* name and key of the result are the arguments */

int
ds_entity_get(ds_txn_t *txn, ds_str_t hub, ds_str_t name, ds_str_t key,
    ds_entity_t *entity)
{
    int            rc;
    ds_str_t       eid;
    ds_erec_t      rec;
    unsigned char  eb[DS_ID_MAX];

    if (!dsi_key_hub_valid(hub) || dsi_entity_id(name, key, eb, &eid) != DS_OK)
    {
        return DS_INVALID;
    }

    rc = ds_erec_get(txn, hub, eid, &rec);
    if (rc != DS_OK) {
        return rc;
    }

    if (!rec.has_state) {
        return DS_NOTFOUND;
    }

    entity->name = name;
    entity->key = key;
    entity->state = rec.state;
    entity->last_op = rec.last_op;
    entity->locked_by = rec.owner;

    return DS_OK;
}


/*
 * Entities with state in id order: all of them (name.len 0) or those of
 * one lower-cased name, last_op in [from, to] (0: open), at most top per
 * page, at most scan_budget records examined (0: no bound). Token:
 * base64url of "version(2) @name@key", the last record examined; a list
 * resumes strictly after it. Entity name and key point into the map.
 */

int
ds_entity_list(ds_txn_t *txn, ds_str_t hub, ds_str_t name,
    int64_t from, int64_t to, size_t top, size_t scan_budget,
    ds_str_t token_in, ds_entity_cb cb, void *data, char *token,
    size_t *token_len)
{
    int            rc, have_pos, after;
    size_t         hlen, count, examined, raw_len, pos_len;
    MDB_val        key, val;
    ds_str_t       eid, pfx, none;
    ds_erec_t      rec;
    MDB_cursor    *cur;
    ds_entity_t    e;
    unsigned char  kb[DS_KEY_BUF], pb[DS_ID_MAX];
    unsigned char  raw[DS_ETOKEN_RAW_MAX], pos[DS_ETOKEN_RAW_MAX];

    *token_len = 0;

    if (!dsi_key_hub_valid(hub) || top == 0) {
        return DS_INVALID;
    }

    raw_len = 0;

    if (token_in.len
        && (dsi_b64url_decode(token_in, raw, DS_ETOKEN_RAW_MAX, &raw_len)
            != DS_OK || raw_len < 2 || raw[0] != DSI_ETOKEN_VERSION))
    {
        return DS_INVALID;
    }

    from = from ? from : INT64_MIN;
    to = to ? to : INT64_MAX;

    /* the range: ids that begin with "@" or "@name@" */

    if (name.len) {
        none.data = "";
        none.len = 0;

        if (dsi_entity_id(name, none, pb, &pfx) != DS_OK) {
            return DS_INVALID;
        }

    } else {
        pb[0] = '@';
        pfx.data = (const char *) pb;
        pfx.len = 1;
    }

    /* resume strictly after the token's id unless it lies before */

    hlen = dsi_key_hub(kb, hub);
    after = raw_len > 1
            && ds_bytes_cmp(raw + 1, raw_len - 1,
                            (const unsigned char *) pfx.data, pfx.len) >= 0;

    if (after) {
        memcpy(kb + hlen, raw + 1, raw_len - 1);
        key.mv_size = hlen + raw_len - 1;

    } else {
        memcpy(kb + hlen, pfx.data, pfx.len);
        key.mv_size = hlen + pfx.len;
    }

    key.mv_data = kb;

    rc = mdb_cursor_open(txn->txn, ds_dbi(txn, DS_DB_ENTITIES), &cur);
    if (rc != 0) {
        return dsi_lmdb_rc(txn, rc);
    }

    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);

    if (rc == 0 && after && key.mv_size == hlen + raw_len - 1
        && memcmp((unsigned char *) key.mv_data + hlen, raw + 1,
                  raw_len - 1) == 0)
    {
        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    }

    count = 0;
    examined = 0;
    have_pos = 0;
    pos_len = 0;

    for ( /* void */ ;
         rc == 0 && key.mv_size >= hlen + pfx.len
         && memcmp(key.mv_data, kb, hlen) == 0
         && memcmp((unsigned char *) key.mv_data + hlen, pfx.data, pfx.len)
            == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
    {
        if (count == top || (scan_budget && examined == scan_budget)) {
            if (have_pos) {
                raw[0] = DSI_ETOKEN_VERSION;
                memcpy(raw + 1, pos, pos_len);
                *token_len = dsi_b64url_encode(raw, pos_len + 1, token);
            }

            break;
        }

        examined++;

        eid.data = (const char *) key.mv_data + hlen;
        eid.len = key.mv_size - hlen;

        if (eid.len > DS_ID_MAX
            || ds_erec_decode(val.mv_data, val.mv_size, &rec) != DS_OK
            || dsi_entity_split(eid, &e.name, &e.key) != DS_OK)
        {
            mdb_cursor_close(cur);
            dsi_txn_set_error(txn, "corrupt entity record");
            return DS_ERROR;
        }

        memcpy(pos, eid.data, eid.len);
        pos_len = eid.len;
        have_pos = 1;

        if (!rec.has_state || rec.last_op < from || rec.last_op > to) {
            continue;
        }

        count++;

        e.state = rec.state;
        e.last_op = rec.last_op;
        e.locked_by = rec.owner;

        if (cb(data, &e) != 0) {
            mdb_cursor_close(cur);
            dsi_txn_set_error(txn, "stopped by the callback");
            *token_len = 0;
            return DS_ERROR;
        }
    }

    mdb_cursor_close(cur);

    return (rc == 0 || rc == MDB_NOTFOUND) ? DS_OK : dsi_lmdb_rc(txn, rc);
}


static int
ds_bytes_cmp(const unsigned char *a, size_t al, const unsigned char *b,
    size_t bl)
{
    int  c;

    c = memcmp(a, b, al < bl ? al : bl);

    if (c != 0) {
        return c;
    }

    return (al > bl) - (al < bl);
}


/* "@name@key": the name ends at the second '@' */

int
dsi_entity_split(ds_str_t eid, ds_str_t *name, ds_str_t *key)
{
    const char  *at;

    if (eid.len < 2 || eid.data[0] != '@') {
        return DS_INVALID;
    }

    at = memchr(eid.data + 1, '@', eid.len - 1);
    if (at == NULL || at == eid.data + 1) {
        return DS_INVALID;
    }

    name->data = eid.data + 1;
    name->len = (size_t) (at - name->data);
    key->data = at + 1;
    key->len = eid.len - name->len - 2;

    return DS_OK;
}


static int
ds_erec_get(ds_txn_t *txn, ds_str_t hub, ds_str_t eid, ds_erec_t *rec)
{
    int            rc;
    MDB_val        key, val;
    unsigned char  kb[DS_KEY_BUF];

    if (!dsi_key_valid(hub, eid)) {
        return DS_INVALID;
    }

    key.mv_data = kb;
    key.mv_size = dsi_key_instance(kb, hub, eid);

    rc = mdb_get(txn->txn, ds_dbi(txn, DS_DB_ENTITIES), &key, &val);
    if (rc != 0) {
        return dsi_lmdb_rc(txn, rc);
    }

    if (ds_erec_decode(val.mv_data, val.mv_size, rec) != DS_OK) {
        dsi_txn_set_error(txn, "corrupt entity record");
        return DS_ERROR;
    }

    return DS_OK;
}


/*
 * Writes the record and moves its ready entry from old_ready_at (0: none)
 * to rec->ready_at. The record is encoded first: rec may point into the
 * map.
 */

static int
ds_erec_put(ds_txn_t *txn, ds_str_t hub, ds_str_t eid, const ds_erec_t *rec,
    int64_t old_ready_at)
{
    int             rc, locked;
    size_t          size, header;
    MDB_val         key, val;
    unsigned char  *buf, *p, stack[DS_ENTITY_STACK], kb[DS_KEY_BUF];

    if ((uint64_t) rec->state.len > 0xffffffffu
        || rec->owner.len > DS_ID_MAX || rec->cs.len > DS_NAME_MAX)
    {
        return DS_INVALID;
    }

    /* version 2 for an unlocked entity: 8 bytes less */

    locked = rec->owner.len != 0;
    header = locked ? DS_ENTITY_HEADER : DS_ENTITY_HEADER_V2;
    size = header + rec->state.len + rec->owner.len + rec->cs.len;

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
    p[0] = locked ? DS_ENTITY_VERSION : DS_ENTITY_V2;
    p[1] = rec->has_state ? DS_ENTITY_STATE : 0;
    p[2] = 0;
    p[3] = 0;
    dsi_put_i64(p + 4, rec->last_op);
    dsi_put_i64(p + 12, rec->ready_at);
    dsi_put_i64(p + 20, rec->lease_expires);
    dsi_put_u64(p + 28, rec->lease_upto);
    dsi_put_u64(p + 36, rec->op_seq);
    memcpy(p + 44, rec->lease, DS_LEASE_LEN);
    memcpy(p + 60, rec->done_lease, DS_LEASE_LEN);
    dsi_put_u64(p + 76, rec->done_digest);
    dsi_put_u32(p + 84, (uint32_t) rec->state.len);

    if (locked) {
        dsi_put_u32(p + 88, (uint32_t) rec->owner.len);
        dsi_put_u32(p + 92, (uint32_t) rec->cs.len);
    }

    p += header;

    if (rec->state.len) {
        memcpy(p, rec->state.data, rec->state.len);
        p += rec->state.len;
    }

    if (locked) {
        memcpy(p, rec->owner.data, rec->owner.len);
        p += rec->owner.len;

        if (rec->cs.len) {
            memcpy(p, rec->cs.data, rec->cs.len);
        }
    }

    rc = dsi_ready_move(txn, hub, DS_READY_ENTITY, old_ready_at,
                       rec->ready_at, (const unsigned char *) eid.data,
                       eid.len);

    if (rc == DS_OK) {
        key.mv_data = kb;
        key.mv_size = dsi_key_instance(kb, hub, eid);
        val.mv_data = buf;
        val.mv_size = size;

        rc = dsi_lmdb_rc(txn, dsi_put(txn, DS_DB_ENTITIES,
                                     &key, &val, 0));
    }

    if (buf != stack) {
        free(buf);
    }

    return rc;
}


/* for ds_check(): DS_ERROR when the record or its id is malformed */

int
dsi_entity_info(ds_str_t eid, const void *data, size_t len,
    int64_t *ready_at, int *locked)
{
    ds_str_t   name, key;
    ds_erec_t  rec;

    if (dsi_entity_split(eid, &name, &key) != DS_OK
        || ds_erec_decode(data, len, &rec) != DS_OK)
    {
        return DS_ERROR;
    }

    *ready_at = rec.ready_at;

    if (locked) {
        *locked = rec.owner.len != 0;
    }

    return DS_OK;
}


static int
ds_erec_decode(const void *data, size_t len, ds_erec_t *rec)
{
    size_t                header, n, owner, cs;
    const unsigned char  *p;

    p = data;

    if (len < 1) {
        return DS_ERROR;
    }

    switch (p[0]) {

    case DS_ENTITY_VERSION:
        header = DS_ENTITY_HEADER;
        break;

    case DS_ENTITY_V2:
        header = DS_ENTITY_HEADER_V2;
        break;

    case DS_ENTITY_V1:
        header = DS_ENTITY_HEADER_V1;
        break;

    default:
        return DS_ERROR;
    }

    if (len < header) {
        return DS_ERROR;
    }

    /* the state's length ends the header of versions 1 and 2 */

    n = dsi_get_u32(p + (p[0] == DS_ENTITY_V1 ? 76 : 84));
    owner = (p[0] == DS_ENTITY_VERSION) ? dsi_get_u32(p + 88) : 0;
    cs = (p[0] == DS_ENTITY_VERSION) ? dsi_get_u32(p + 92) : 0;

    if (n > len - header || owner > len - header - n
        || cs != len - header - n - owner)
    {
        return DS_ERROR;
    }

    rec->has_state = (p[1] & DS_ENTITY_STATE) != 0;
    rec->last_op = dsi_get_i64(p + 4);
    rec->ready_at = dsi_get_i64(p + 12);
    rec->lease_expires = dsi_get_i64(p + 20);
    rec->lease_upto = dsi_get_u64(p + 28);
    rec->op_seq = dsi_get_u64(p + 36);
    memcpy(rec->lease, p + 44, DS_LEASE_LEN);
    memcpy(rec->done_lease, p + 60, DS_LEASE_LEN);
    rec->done_digest = p[0] == DS_ENTITY_V1 ? 0 : dsi_get_u64(p + 76);
    rec->state.data = (const char *) p + header;
    rec->state.len = n;
    rec->owner.data = rec->state.data + n;
    rec->owner.len = owner;
    rec->cs.data = rec->owner.data + owner;
    rec->cs.len = cs;

    return DS_OK;
}


/*
 * CleanEntityStorage: at most max entity records from the one after the
 * token, in id order. A lock whose holder is gone or terminal is
 * released (what waited may run, a waiting lock request is granted); an
 * entity with no state, no queue, no lock and no live lease is removed.
 * *token_len: 0 when the walk reached the last entity.
 */

int
ds_entity_clean(ds_txn_t *txn, ds_str_t hub, ds_str_t token_in, size_t max,
    int remove_empty, int release_orphaned, int64_t now, size_t *removed,
    size_t *released, char *token, size_t *token_len)
{
    int             rc;
    size_t          hlen, raw_len, i, n, *lens;
    MDB_val         key, val;
    MDB_cursor     *cur;
    unsigned char  *ids, kb[DS_KEY_BUF], raw[DS_ETOKEN_RAW_MAX];

    *removed = 0;
    *released = 0;
    *token_len = 0;

    if (!dsi_key_hub_valid(hub) || max == 0) {
        return DS_INVALID;
    }

    raw_len = 0;

    if (token_in.len
        && (dsi_b64url_decode(token_in, raw, DS_ETOKEN_RAW_MAX, &raw_len)
            != DS_OK || raw_len < 2 || raw[0] != DSI_ETOKEN_VERSION))
    {
        return DS_INVALID;
    }

    ids = malloc(max * DS_ID_MAX);
    lens = malloc(max * sizeof(size_t));

    if (ids == NULL || lens == NULL) {
        free(ids);
        free(lens);
        dsi_txn_set_error(txn, "out of memory");
        return DS_ERROR;
    }

    /* the ids first: the records change after */

    hlen = dsi_key_hub(kb, hub);

    if (raw_len) {
        memcpy(kb + hlen, raw + 1, raw_len - 1);
        key.mv_size = hlen + raw_len - 1;

    } else {
        kb[hlen] = '@';
        key.mv_size = hlen + 1;
    }

    key.mv_data = kb;

    rc = mdb_cursor_open(txn->txn, ds_dbi(txn, DS_DB_ENTITIES), &cur);
    if (rc != 0) {
        free(ids);
        free(lens);
        return dsi_lmdb_rc(txn, rc);
    }

    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);

    if (rc == 0 && raw_len && key.mv_size == hlen + raw_len - 1
        && memcmp((unsigned char *) key.mv_data + hlen, raw + 1,
                  raw_len - 1) == 0)
    {
        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    }

    for (n = 0;
         rc == 0 && key.mv_size > hlen && key.mv_size - hlen <= DS_ID_MAX
         && memcmp(key.mv_data, kb, hlen) == 0
         && ((unsigned char *) key.mv_data)[hlen] == '@';
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
    {
        if (n == max) {
            /* more to do: resume after the last one examined */
            raw[0] = DSI_ETOKEN_VERSION;
            memcpy(raw + 1, ids + (n - 1) * DS_ID_MAX, lens[n - 1]);
            *token_len = dsi_b64url_encode(raw, lens[n - 1] + 1, token);
            break;
        }

        lens[n] = key.mv_size - hlen;
        memcpy(ids + n * DS_ID_MAX, (unsigned char *) key.mv_data + hlen,
               lens[n]);
        n++;
    }

    mdb_cursor_close(cur);

    rc = (rc == 0 || rc == MDB_NOTFOUND) ? DS_OK : dsi_lmdb_rc(txn, rc);

    for (i = 0; rc == DS_OK && i < n; i++) {
        rc = ds_entity_clean_one(txn, hub, ids + i * DS_ID_MAX, lens[i],
                                 remove_empty, release_orphaned, now,
                                 removed, released);
    }

    free(ids);
    free(lens);

    if (rc != DS_OK) {
        *token_len = 0;
    }

    return rc;
}


static int
ds_entity_clean_one(ds_txn_t *txn, ds_str_t hub, const unsigned char *id,
    size_t len, int remove_empty, int release_orphaned, int64_t now,
    size_t *removed, size_t *released)
{
    int            rc;
    int64_t        old_ready_at;
    uint64_t       last;
    MDB_val        key;
    ds_str_t       eid;
    ds_erec_t      rec;
    ds_instance_t  inst;
    unsigned char  kb[DS_KEY_BUF];

    eid.data = (const char *) id;
    eid.len = len;

    rc = ds_erec_get(txn, hub, eid, &rec);
    if (rc != DS_OK) {
        return rc == DS_NOTFOUND ? DS_OK : rc;
    }

    rc = dsi_seq_last(txn, DS_DB_ENTITY_OPS, hub, eid, &last);
    if (rc != DS_OK) {
        return rc;
    }

    if (release_orphaned && rec.owner.len) {
        rc = ds_instance_get(txn, hub, rec.owner, &inst);

        if (rc == DS_NOTFOUND
            || (rc == DS_OK && ds_status_is_terminal(inst.status)))
        {
            old_ready_at = rec.ready_at;
            rec.owner.len = 0;
            rec.cs.len = 0;

            if (last) {
                dsi_lease_ready(rec.lease, rec.lease_expires, &rec.ready_at,
                                now);
            }

            rc = ds_erec_put(txn, hub, eid, &rec, old_ready_at);

            if (rc == DS_OK && last) {
                rc = ds_entity_settle(txn, hub, eid, now, 0);
            }

            if (rc != DS_OK) {
                return rc;
            }

            (*released)++;

            rc = ds_erec_get(txn, hub, eid, &rec);
            if (rc != DS_OK) {
                return rc;
            }

            rc = dsi_seq_last(txn, DS_DB_ENTITY_OPS, hub, eid, &last);
        }

        if (rc != DS_OK) {
            return rc;
        }
    }

    if (!remove_empty || rec.has_state || rec.owner.len || last
        || (!dsi_lease_none(rec.lease) && rec.lease_expires > now))
    {
        return DS_OK;
    }

    if (rec.ready_at) {
        rc = dsi_ready_del(txn, hub, DS_READY_ENTITY, rec.ready_at, id, len);
        if (rc != DS_OK) {
            return rc;
        }
    }

    key.mv_data = kb;
    key.mv_size = dsi_key_instance(kb, hub, eid);

    rc = dsi_lmdb_rc(txn, dsi_del(txn, DS_DB_ENTITIES, &key, NULL));

    if (rc == DS_OK) {
        (*removed)++;
    }

    return rc;
}


/* the record as a row, for the tools (ds_rows.c) */

int
dsi_erec_decode(const void *data, size_t len, ds_erec_t *rec)
{
    return ds_erec_decode(data, len, rec);
}


int
dsi_erec_write(ds_txn_t *txn, ds_str_t hub, ds_str_t eid,
    const ds_erec_t *rec)
{
    ds_str_t        canon;
    unsigned char   buf[DS_ID_MAX];

    /* only the id the store itself would make of the entity */

    if (!dsi_key_hub_valid(hub)
        || dsi_entity_canon(eid, buf, &canon) != DS_OK
        || canon.len != eid.len || memcmp(canon.data, eid.data, eid.len) != 0)
    {
        return DS_INVALID;
    }

    return ds_erec_put(txn, hub, eid, rec, 0);
}


/* the token of a page cut short after an entity it listed */

size_t
ds_list_entity_token(ds_str_t name, ds_str_t key, char *token)
{
    ds_str_t       eid;
    unsigned char  buf[DS_ID_MAX], raw[DS_ETOKEN_RAW_MAX];

    if (dsi_entity_id(name, key, buf, &eid) != DS_OK) {
        return 0;
    }

    raw[0] = DSI_ETOKEN_VERSION;
    memcpy(raw + 1, eid.data, eid.len);

    return dsi_b64url_encode(raw, eid.len + 1, token);
}


/* a walk of an entity's queue for one lock request */
typedef struct {
    ds_str_t            owner;
    ds_str_t            cs;
    int                 found;
} ds_lock_find_t;


static int
ds_lock_find(ds_txn_t *txn, uint64_t seq, const MDB_val *val, void *data)
{
    json_t          *j;
    ds_lock_find_t  *f;

    static const char  lock[] = "{\"lock\":";

    (void) txn;
    (void) seq;

    f = data;

    if (val->mv_size < sizeof(lock) - 1
        || memcmp(val->mv_data, lock, sizeof(lock) - 1) != 0)
    {
        return DSI_EACH_NEXT;
    }

    j = json_loadb(val->mv_data, val->mv_size, 0, NULL);
    if (j == NULL) {
        return DSI_EACH_NEXT;
    }

    if (ds_str_is(f->cs, json_string_value(json_object_get(j, "lock")))
        && ds_str_is(f->owner, json_string_value(json_object_get(j,
                                                    "parentInstanceId"))))
    {
        f->found = 1;
    }

    json_decref(j);

    return f->found ? DS_OK : DSI_EACH_NEXT;
}


/*
 * Whether owner's lock request for the critical section cs is still on
 * its way (*pending 1): a request goes through its set in order, so it
 * is when the set's first entity eid is locked for it, or holds it in
 * its queue. Else it was granted, or released as no one took it.
 */

int
dsi_entity_lock_pending(ds_txn_t *txn, ds_str_t hub, ds_str_t eid,
    ds_str_t owner, ds_str_t cs, int *pending)
{
    int             rc;
    ds_erec_t       rec;
    ds_lock_find_t  f;

    *pending = 0;

    rc = ds_erec_get(txn, hub, eid, &rec);

    if (rc == DS_OK && rec.owner.len == owner.len && rec.cs.len == cs.len
        && memcmp(rec.owner.data, owner.data, owner.len) == 0
        && memcmp(rec.cs.data, cs.data, cs.len) == 0)
    {
        *pending = 1;
        return DS_OK;
    }

    if (rc != DS_OK && rc != DS_NOTFOUND) {
        return rc;
    }

    f.owner = owner;
    f.cs = cs;
    f.found = 0;

    rc = dsi_seq_each(txn, DS_DB_ENTITY_OPS, hub, eid, UINT64_MAX,
                      ds_lock_find, &f);

    *pending = f.found;

    return rc;
}
