/*
 * Copyright (C) ngx_durable authors
 *
 * The ready index: work items of a hub ordered by kind and the time they
 * become visible. An item is in it at most once; the record of the item
 * (instance, activity, entity) keeps the same time in its ready_at, and 0
 * there means "not in the index". Claims walk it from the start; a lease
 * moves the entry to the lease expiry.
 */


#include <string.h>

#include "ds_key.h"


/* 0 marks "not ready", so a ready time is at least 1 µs */

int64_t
dsi_ready_time(int64_t now)
{
    return now > 0 ? now : 1;
}


/*
 * The entry alone, without its count: *key is its key (in kb), *changed
 * 1 when it was added (put: not there before) or removed (del: there)
 */

static int
dsi_ready_entry(ds_txn_t *txn, ds_str_t hub, int kind, int64_t at,
    const unsigned char *item, size_t len, int put, unsigned char *kb,
    MDB_val *key, int *changed)
{
    int      rc;
    MDB_val  val;

    key->mv_data = kb;
    key->mv_size = dsi_key_ready(kb, hub, kind, at, item, len);
    val.mv_data = kb;
    val.mv_size = 0;

    *changed = 0;

    if (put) {
        rc = dsi_put(txn, DS_DB_READY, key, &val, MDB_NOOVERWRITE);

        if (rc == MDB_KEYEXIST) {
            return DS_OK;
        }

    } else {
        /* a missing entry is not an error: the goal is that it is gone */
        rc = dsi_del(txn, DS_DB_READY, key, NULL);

        if (rc == MDB_NOTFOUND) {
            return DS_OK;
        }
    }

    if (rc != 0) {
        return dsi_lmdb_rc(txn, rc);
    }

    *changed = 1;

    return DS_OK;
}


/* the count goes up with a new entry only (ds_counts.c) */

int
dsi_ready_put(ds_txn_t *txn, ds_str_t hub, int kind, int64_t at,
    const unsigned char *item, size_t len)
{
    int            rc, added;
    MDB_val        key;
    unsigned char  kb[DS_KEY_BUF];

    rc = dsi_ready_entry(txn, hub, kind, at, item, len, 1, kb, &key,
                         &added);

    if (rc != DS_OK || !added) {
        return rc;
    }

    return dsi_count_entry(txn, DS_DB_READY, &key, 1);
}


int
dsi_ready_del(ds_txn_t *txn, ds_str_t hub, int kind, int64_t at,
    const unsigned char *item, size_t len)
{
    int            rc, removed;
    MDB_val        key;
    unsigned char  kb[DS_KEY_BUF];

    rc = dsi_ready_entry(txn, hub, kind, at, item, len, 0, kb, &key,
                         &removed);

    if (rc != DS_OK || !removed) {
        return rc;
    }

    return dsi_count_entry(txn, DS_DB_READY, &key, -1);
}


/*
 * from or to 0: no entry before or after. An entry that moves keeps its
 * count (the count is of the hub and kind): it is written only when the
 * move added or removed one, so a claim's lease writes one entry less.
 */

int
dsi_ready_move(ds_txn_t *txn, ds_str_t hub, int kind, int64_t from,
    int64_t to, const unsigned char *item, size_t len)
{
    int            rc, removed, added;
    MDB_val        key;
    unsigned char  kb[DS_KEY_BUF];

    if (from == to) {
        return DS_OK;
    }

    removed = 0;
    added = 0;

    if (from != 0) {
        rc = dsi_ready_entry(txn, hub, kind, from, item, len, 0, kb, &key,
                             &removed);
        if (rc != DS_OK) {
            return rc;
        }
    }

    if (to != 0) {
        rc = dsi_ready_entry(txn, hub, kind, to, item, len, 1, kb, &key,
                             &added);
        if (rc != DS_OK) {
            return rc;
        }
    }

    if (added == removed) {
        return DS_OK;
    }

    return dsi_count_entry(txn, DS_DB_READY, &key, added - removed);
}


/*
 * The first entry of the kind: its time and a copy of its item (item has
 * room for DS_KEY_BUF bytes). DS_NOTFOUND when there is none.
 */

int
dsi_ready_first(ds_txn_t *txn, ds_str_t hub, int kind, int64_t *at,
    unsigned char *item, size_t *len)
{
    return dsi_ready_seek(txn, hub, kind, INT64_MIN, NULL, 0, at, item, len);
}


/*
 * The first entry of the kind after the position (from, from_item): with
 * from_len 0 the first one at from or later, else the first one past
 * that entry. Copies as dsi_ready_first().
 */

int
dsi_ready_seek(ds_txn_t *txn, ds_str_t hub, int kind, int64_t from,
    const unsigned char *from_item, size_t from_len, int64_t *at,
    unsigned char *item, size_t *len)
{
    int            rc;
    size_t         plen, slen;
    MDB_val        key, val;
    MDB_cursor    *cur;
    unsigned char  kb[DS_KEY_BUF], sb[DS_KEY_BUF];

    rc = dsi_cursor_seek(txn, DS_DB_READY, &cur);
    if (rc != 0) {
        return dsi_lmdb_rc(txn, rc);
    }

    plen = dsi_key_hub(kb, hub);
    kb[plen++] = (unsigned char) kind;

    slen = dsi_key_ready(sb, hub, kind, from, from_item, from_len);

    key.mv_data = sb;
    key.mv_size = slen;

    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);

    if (rc == 0 && from_len && key.mv_size == slen
        && memcmp(key.mv_data, sb, slen) == 0)
    {
        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    }

    if (rc == 0) {
        if (key.mv_size < plen + 8 || key.mv_size - plen - 8 > DS_KEY_BUF
            || memcmp(key.mv_data, kb, plen) != 0)
        {
            rc = MDB_NOTFOUND;

        } else {
            *at = dsi_created_dec(dsi_get_u64((unsigned char *) key.mv_data
                                            + plen));
            *len = key.mv_size - plen - 8;
            memcpy(item, (unsigned char *) key.mv_data + plen + 8, *len);
        }
    }

    dsi_cursor_done(txn, DS_DB_READY, cur);

    return dsi_lmdb_rc(txn, rc);
}


/* the first entry of a kind if it is visible at now; else DS_NOTFOUND */

int
dsi_ready_due(ds_txn_t *txn, ds_str_t hub, int kind, int64_t now,
    int64_t *at, unsigned char *item, size_t *len)
{
    int  rc;

    rc = dsi_ready_first(txn, hub, kind, at, item, len);

    if (rc == DS_OK && *at > now) {
        return DS_NOTFOUND;
    }

    return rc;
}


/*
 * Makes an instance that got a message runnable (the caller writes the
 * record): not when it is terminal or suspended; otherwise as
 * dsi_lease_ready() places any work item.
 */

void
dsi_ready_mark(ds_instance_t *inst, int64_t now)
{
    if (ds_status_is_terminal(inst->status)
        || inst->status == DS_SUSPENDED)
    {
        return;
    }

    /* a message does not bring a scheduled start forward */

    if (inst->status == DS_PENDING && inst->scheduled_start > now) {
        now = inst->scheduled_start;
    }

    dsi_lease_ready(inst->lease, inst->lease_expires, &inst->ready_at, now);
}


int
ds_work_next_visible(ds_txn_t *txn, ds_str_t hub, ds_work_kind_e kind,
    int64_t *when)
{
    return ds_work_next_after(txn, hub, kind, INT64_MIN, when);
}


int
ds_work_next_after(ds_txn_t *txn, ds_str_t hub, ds_work_kind_e kind,
    int64_t after, int64_t *when)
{
    int            rc, k;
    size_t         len;
    int64_t        at;
    unsigned char  item[DS_KEY_BUF];

    *when = INT64_MAX;

    if (!dsi_key_hub_valid(hub)) {
        return DS_INVALID;
    }

    switch (kind) {
    case DS_WORK_ORCHESTRATION:
        k = DS_READY_ORCH;
        break;
    case DS_WORK_ACTIVITY:
        k = DS_READY_ACTIVITY;
        break;
    case DS_WORK_ENTITY:
        k = DS_READY_ENTITY;
        break;
    default:
        return DS_INVALID;
    }

    rc = dsi_ready_seek(txn, hub, k, after == INT64_MAX ? after : after + 1,
                       NULL, 0, &at, item, &len);

    if (rc == DS_OK) {
        *when = at;

    } else if (rc != DS_NOTFOUND) {
        return rc;
    }

    /* a timer's firing may queue an entity's scheduled signal */

    if (kind == DS_WORK_ACTIVITY) {
        return DS_OK;
    }

    rc = dsi_timer_first(txn, hub, &at);

    if (rc == DS_OK) {
        if (at < *when) {
            *when = at;
        }

    } else if (rc != DS_NOTFOUND) {
        return rc;
    }

    return DS_OK;
}
