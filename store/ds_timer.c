/*
 * Copyright (C) ngx_durable authors
 *
 * Durable timers. The timers db orders them by due time, so firing takes
 * them from the front and nothing scans the store; timer_ix finds the
 * timers of one instance (to drop them when its execution ends). A fired
 * timer becomes a TimerFired {TimerId, FireAt} message of its instance.
 * A scheduled entity signal is a timer of the entity ("@name@key") that
 * carries the operation message after fire_at; firing queues it.
 *
 *   timers    hub 0 due(8) id 0 timer_id(8)  ->  fire_at(8) [message]
 *   timer_ix  hub 0 id 0 timer_id(8)         ->  due(8)
 */


#include <string.h>

#include "ds_key.h"


typedef struct {
    ds_str_t            hub;
    ds_str_t            id;
} ds_timer_drop_t;


static int ds_timer_drop_one(ds_txn_t *txn, uint64_t seq,
    const MDB_val *val, void *data);
static int ds_timer_del(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    int64_t timer_id, int64_t due);


int
dsi_timer_create(ds_txn_t *txn, ds_str_t hub, ds_str_t id, int64_t timer_id,
    int64_t fire_at)
{
    int            rc;
    MDB_val        key, val;
    unsigned char  kb[DS_KEY_BUF], vb[8];

    if (!dsi_key_valid(hub, id) || timer_id < 0) {
        return DS_INVALID;
    }

    /* the same id again replaces the timer */

    key.mv_data = kb;
    key.mv_size = dsi_key_seq(kb, hub, id, (uint64_t) timer_id);

    rc = mdb_get(txn->txn, ds_dbi(txn, DS_DB_TIMER_IX), &key, &val);

    if (rc == 0 && val.mv_size == 8) {
        rc = ds_timer_del(txn, hub, id, timer_id,
                          dsi_get_i64((unsigned char *) val.mv_data));
        if (rc != DS_OK) {
            return rc;
        }

    } else if (rc != 0 && rc != MDB_NOTFOUND) {
        return dsi_lmdb_rc(txn, rc);
    }

    dsi_put_i64(vb, fire_at);
    val.mv_data = vb;
    val.mv_size = 8;

    key.mv_data = kb;
    key.mv_size = dsi_key_seq(kb, hub, id, (uint64_t) timer_id);

    rc = dsi_put(txn, DS_DB_TIMER_IX, &key, &val, 0);
    if (rc != 0) {
        return dsi_lmdb_rc(txn, rc);
    }

    key.mv_size = dsi_key_timer(kb, hub, fire_at, id, timer_id);

    rc = dsi_put(txn, DS_DB_TIMERS, &key, &val, 0);

    return dsi_lmdb_rc(txn, rc);
}


int
dsi_timer_drop_all(ds_txn_t *txn, ds_str_t hub, ds_str_t id)
{
    ds_timer_drop_t  d;

    d.hub = hub;
    d.id = id;

    return dsi_seq_each(txn, DS_DB_TIMER_IX, hub, id, UINT64_MAX,
                        ds_timer_drop_one, &d);
}


/* an index entry (value: the due time) takes its timer with it */

static int
ds_timer_drop_one(ds_txn_t *txn, uint64_t seq, const MDB_val *val,
    void *data)
{
    int               rc;
    MDB_val           tkey;
    ds_timer_drop_t  *d;
    unsigned char     tb[DS_KEY_BUF];

    d = data;

    if (val->mv_size == 8) {
        tkey.mv_data = tb;
        tkey.mv_size = dsi_key_timer(tb, d->hub,
                           dsi_get_i64((unsigned char *) val->mv_data), d->id,
                           (int64_t) seq);

        rc = dsi_del(txn, DS_DB_TIMERS, &tkey, NULL);
        if (rc != 0 && rc != MDB_NOTFOUND) {
            return dsi_lmdb_rc(txn, rc);
        }
    }

    return DSI_EACH_DELETE;
}


/*
 * Holds msg (an entity operation) for the entity eid until at: later
 * signals do not wait behind it, as with a delayed message.
 */

int
dsi_timer_signal(ds_txn_t *txn, ds_str_t hub, ds_str_t eid, ds_str_t msg,
    int64_t at)
{
    int            rc;
    uint64_t       last;
    MDB_val        key, val;
    ds_buf_t       b;
    unsigned char  kb[DS_KEY_BUF], vb[8];

    if (!dsi_key_valid(hub, eid) || eid.len == 0 || eid.data[0] != '@') {
        return DS_INVALID;
    }

    rc = dsi_seq_last(txn, DS_DB_TIMER_IX, hub, eid, &last);
    if (rc != DS_OK) {
        return rc;
    }

    if (last >= (uint64_t) INT64_MAX) {
        dsi_txn_set_error(txn, "entity timer sequence exhausted");
        return DS_ERROR;
    }

    dsi_put_i64(vb, at);
    val.mv_data = vb;
    val.mv_size = 8;

    key.mv_data = kb;
    key.mv_size = dsi_key_seq(kb, hub, eid, last + 1);

    rc = dsi_put(txn, DS_DB_TIMER_IX, &key, &val, 0);
    if (rc != 0) {
        return dsi_lmdb_rc(txn, rc);
    }

    dsi_buf_init(&b);

    dsi_buf_add(&b, (const char *) vb, 8);
    dsi_buf_add(&b, msg.data, msg.len);

    if (b.oom) {
        dsi_buf_free(&b);
        dsi_txn_set_error(txn, "out of memory");
        return DS_ERROR;
    }

    val.mv_data = b.data;
    val.mv_size = b.len;
    key.mv_size = dsi_key_timer(kb, hub, at, eid, (int64_t) last + 1);

    rc = dsi_put(txn, DS_DB_TIMERS, &key, &val, 0);

    dsi_buf_free(&b);

    return dsi_lmdb_rc(txn, rc);
}


/* the due time of the hub's first timer; DS_NOTFOUND when none */

int
dsi_timer_first(ds_txn_t *txn, ds_str_t hub, int64_t *due)
{
    int            rc;
    size_t         plen;
    MDB_val        key, val;
    MDB_cursor    *cur;
    unsigned char  kb[DS_KEY_BUF];

    rc = mdb_cursor_open(txn->txn, ds_dbi(txn, DS_DB_TIMERS), &cur);
    if (rc != 0) {
        return dsi_lmdb_rc(txn, rc);
    }

    plen = dsi_key_hub(kb, hub);
    key.mv_data = kb;
    key.mv_size = plen;

    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);

    if (rc == 0) {
        if (key.mv_size < plen + 8 || memcmp(key.mv_data, kb, plen) != 0) {
            rc = MDB_NOTFOUND;

        } else {
            *due = dsi_created_dec(dsi_get_u64((unsigned char *) key.mv_data
                                            + plen));
        }
    }

    mdb_cursor_close(cur);

    return dsi_lmdb_rc(txn, rc);
}


int
ds_work_fire_timers(ds_txn_t *txn, ds_str_t hub, int64_t now, size_t max,
    size_t *fired)
{
    int            rc;
    size_t         plen, len;
    int64_t        due, timer_id, fire_at;
    MDB_val        key, val;
    ds_buf_t       b;
    ds_str_t       id, msg;
    MDB_cursor    *cur;
    unsigned char  kb[DS_KEY_BUF], idb[DS_ID_MAX];

    *fired = 0;

    if (!dsi_key_hub_valid(hub)) {
        return DS_INVALID;
    }

    dsi_buf_init(&b);
    rc = DS_OK;

    /* each step takes the first timer again: the fired one is gone */

    while (*fired < max) {
        rc = mdb_cursor_open(txn->txn, ds_dbi(txn, DS_DB_TIMERS), &cur);
        if (rc != 0) {
            rc = dsi_lmdb_rc(txn, rc);
            break;
        }

        plen = dsi_key_hub(kb, hub);
        key.mv_data = kb;
        key.mv_size = plen;

        rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);

        if (rc != 0) {
            mdb_cursor_close(cur);
            rc = (rc == MDB_NOTFOUND) ? DS_OK : dsi_lmdb_rc(txn, rc);
            break;
        }

        len = key.mv_size;

        if (len < plen || memcmp(key.mv_data, kb, plen) != 0) {
            mdb_cursor_close(cur);
            rc = DS_OK;
            break;
        }

        if (len < plen + 8 + 1 + 1 + 8 || len - plen - 8 - 9 > DS_ID_MAX
            || ((unsigned char *) key.mv_data)[len - 9] != '\0')
        {
            /* malformed: ds_check() reports such; drop it */
            rc = dsi_cursor_del(txn, DS_DB_TIMERS, cur, 0);
            mdb_cursor_close(cur);

            if (rc != 0) {
                rc = dsi_lmdb_rc(txn, rc);
                break;
            }

            continue;
        }

        due = dsi_created_dec(dsi_get_u64((unsigned char *) key.mv_data
                                          + plen));

        if (due > now) {
            mdb_cursor_close(cur);
            rc = DS_OK;
            break;
        }

        id.len = len - plen - 8 - 9;
        memcpy(idb, (unsigned char *) key.mv_data + plen + 8, id.len);
        id.data = (const char *) idb;
        timer_id = (int64_t) dsi_get_u64((unsigned char *) key.mv_data
                                        + len - 8);
        fire_at = val.mv_size >= 8 ? dsi_get_i64(val.mv_data) : due;

        if (val.mv_size > 8) {
            /* a scheduled entity signal: copied out of the map first */
            dsi_buf_reset(&b);
            dsi_buf_add(&b, (const char *) val.mv_data + 8,
                        val.mv_size - 8);
        }

        mdb_cursor_close(cur);

        if (val.mv_size > 8) {
            if (b.oom) {
                dsi_txn_set_error(txn, "out of memory");
                rc = DS_ERROR;
                break;
            }

            rc = ds_timer_del(txn, hub, id, timer_id, due);

            if (rc == DS_OK) {
                msg.data = b.data;
                msg.len = b.len;
                rc = dsi_entity_send(txn, hub, id, msg, now);
            }

            if (rc != DS_OK) {
                break;
            }

            (*fired)++;
            continue;
        }

        rc = ds_timer_del(txn, hub, id, timer_id, due);
        if (rc != DS_OK) {
            break;
        }

        dsi_ev_begin(&b, "TimerFired", -1, now);
        dsi_ev_int(&b, "TimerId", timer_id);
        dsi_ev_time(&b, "FireAt", fire_at);

        rc = dsi_ev_end(txn, &b, &msg);

        if (rc == DS_OK && dsi_key_valid(hub, id)) {
            rc = dsi_inbox_deliver(txn, hub, id, 0, 0, msg, now, 0);
        }

        if (rc != DS_OK) {
            break;
        }

        (*fired)++;
    }

    dsi_buf_free(&b);

    return rc;
}


static int
ds_timer_del(ds_txn_t *txn, ds_str_t hub, ds_str_t id, int64_t timer_id,
    int64_t due)
{
    int            rc;
    MDB_val        key;
    unsigned char  kb[DS_KEY_BUF];

    key.mv_data = kb;
    key.mv_size = dsi_key_timer(kb, hub, due, id, timer_id);

    rc = dsi_del(txn, DS_DB_TIMERS, &key, NULL);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return dsi_lmdb_rc(txn, rc);
    }

    key.mv_size = dsi_key_seq(kb, hub, id, (uint64_t) timer_id);

    rc = dsi_del(txn, DS_DB_TIMER_IX, &key, NULL);

    return rc == MDB_NOTFOUND ? DS_OK : dsi_lmdb_rc(txn, rc);
}
