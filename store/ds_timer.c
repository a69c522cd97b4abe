/*
 * Copyright (C) ngx_durable authors
 *
 * Durable timers. The timers db orders them by due time, so firing takes
 * them from the front and nothing scans the store; timer_ix finds the
 * timers of one instance (to drop them when its execution ends). A fired
 * timer becomes a TimerFired {TimerId, FireAt} message of its instance.
 *
 *   timers    hub 0 due(8) id 0 timer_id(8)  ->  fire_at(8)
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
            rc = dsi_cursor_del(txn, cur, 0);
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
        fire_at = val.mv_size == 8 ? dsi_get_i64(val.mv_data) : due;

        mdb_cursor_close(cur);

        rc = ds_timer_del(txn, hub, id, timer_id, due);
        if (rc != DS_OK) {
            break;
        }

        dsi_ev_begin(&b, "TimerFired", -1, now);
        dsi_ev_int(&b, "TimerId", timer_id);
        dsi_ev_time(&b, "FireAt", fire_at);

        rc = dsi_ev_end(txn, &b, &msg);

        if (rc == DS_OK && dsi_key_valid(hub, id)) {
            rc = dsi_inbox_deliver(txn, hub, id, 0, msg, now, 0);
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
