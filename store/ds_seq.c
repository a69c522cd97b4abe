/*
 * Copyright (C) ngx_durable authors
 *
 * Per-instance sequences: keys "hub 0 id 0 seq(8)", seq from 1 upwards.
 * History, inboxes and entity operation queues are kept this way.
 */


#include <string.h>

#include "ds_key.h"


typedef struct {
    ds_event_cb         cb;
    void               *data;
} ds_seq_read_t;


static int ds_seq_read_one(ds_txn_t *txn, uint64_t seq, const MDB_val *val,
    void *data);
static int ds_seq_delete_one(ds_txn_t *txn, uint64_t seq,
    const MDB_val *val, void *data);
static int ds_seq_match(const MDB_val *key, const unsigned char *prefix,
    size_t plen);


int
dsi_seq_append(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    ds_str_t value, uint64_t *seq)
{
    int       rc;
    uint64_t  last;

    rc = dsi_seq_last(txn, db, hub, id, &last);
    if (rc != DS_OK) {
        return rc;
    }

    if (last == UINT64_MAX) {
        dsi_txn_set_error(txn, "sequence exhausted");
        return DS_ERROR;
    }

    rc = dsi_seq_put(txn, db, hub, id, last + 1, value);

    if (rc == DS_OK && seq) {
        *seq = last + 1;
    }

    return rc;
}


/* the highest seq of the instance's sequence, 0 when it is empty */

int
dsi_seq_last(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    uint64_t *last)
{
    int            rc;
    size_t         plen;
    MDB_val        key, val;
    MDB_cursor    *cur;
    unsigned char  kb[DS_KEY_BUF];

    if (!dsi_key_valid(hub, id)) {
        return DS_INVALID;
    }

    rc = dsi_cursor_seek(txn, db, &cur);
    if (rc != 0) {
        return dsi_lmdb_rc(txn, rc);
    }

    /* seek past the instance's highest possible key, then step back */

    key.mv_data = kb;
    key.mv_size = dsi_key_seq(kb, hub, id, UINT64_MAX);
    plen = key.mv_size - 8;

    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);

    if (rc == 0) {
        if (ds_seq_match(&key, kb, plen)) {
            /* seq UINT64_MAX itself */
            *last = UINT64_MAX;
            dsi_cursor_done(txn, db, cur);
            return DS_OK;
        }

        rc = mdb_cursor_get(cur, &key, &val, MDB_PREV);

    } else if (rc == MDB_NOTFOUND) {
        rc = mdb_cursor_get(cur, &key, &val, MDB_LAST);
    }

    if (rc == 0 && ds_seq_match(&key, kb, plen)) {
        *last = dsi_get_u64((unsigned char *) key.mv_data + plen);

    } else if (rc == 0 || rc == MDB_NOTFOUND) {
        *last = 0;

    } else {
        dsi_cursor_done(txn, db, cur);
        return dsi_lmdb_rc(txn, rc);
    }

    dsi_cursor_done(txn, db, cur);

    return DS_OK;
}


int
dsi_seq_put(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id, uint64_t seq,
    ds_str_t value)
{
    MDB_val        key, val;
    unsigned char  kb[DS_KEY_BUF];

    if (!dsi_key_valid(hub, id) || seq == 0) {
        return DS_INVALID;
    }

    key.mv_data = kb;
    key.mv_size = dsi_key_seq(kb, hub, id, seq);
    val.mv_data = (void *) value.data;
    val.mv_size = value.len;

    return dsi_lmdb_rc(txn, dsi_put(txn, db, &key, &val,
                                   0));
}


int
dsi_seq_read(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    ds_event_cb cb, void *data)
{
    return dsi_seq_read_upto(txn, db, hub, id, UINT64_MAX, cb, data);
}


/*
 * Walks the entries of one sequence with seq <= upto, in order. fn says
 * what to do with each: DSI_EACH_NEXT goes on, DSI_EACH_DELETE deletes
 * the entry and goes on; any other value ends the walk and is returned
 * (DS_OK to stop early without an error).
 */

int
dsi_seq_each(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    uint64_t upto, dsi_seq_each_pt fn, void *data)
{
    return dsi_seq_each_from(txn, db, hub, id, 0, upto, fn, data);
}


/* the same from the first entry with seq >= from */

int
dsi_seq_each_from(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    uint64_t from, uint64_t upto, dsi_seq_each_pt fn, void *data)
{
    int            rc, action;
    size_t         plen;
    MDB_val        key, val;
    uint64_t       seq;
    MDB_cursor    *cur;
    unsigned char  kb[DS_KEY_BUF];

    if (!dsi_key_valid(hub, id)) {
        return DS_INVALID;
    }

    rc = dsi_cursor_walk(txn, db, &cur);
    if (rc != 0) {
        return dsi_lmdb_rc(txn, rc);
    }

    key.mv_data = kb;
    key.mv_size = dsi_key_seq(kb, hub, id, from);
    plen = key.mv_size - 8;

    /* after mdb_cursor_del() MDB_NEXT yields the entry that followed */

    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
         rc == 0 && ds_seq_match(&key, kb, plen);
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
    {
        seq = dsi_get_u64((unsigned char *) key.mv_data + plen);

        if (seq > upto) {
            break;
        }

        action = fn(txn, seq, &val, data);

        if (action == DSI_EACH_DELETE) {
            rc = dsi_cursor_del(txn, db, cur, 0);
            if (rc != 0) {
                break;
            }

        } else if (action != DSI_EACH_NEXT) {
            dsi_cursor_walk_done(txn, db, cur);
            return action;
        }
    }

    dsi_cursor_walk_done(txn, db, cur);

    return (rc == 0 || rc == MDB_NOTFOUND) ? DS_OK : dsi_lmdb_rc(txn, rc);
}


/* reads the entries with seq <= upto, in order */

int
dsi_seq_read_upto(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    uint64_t upto, ds_event_cb cb, void *data)
{
    ds_seq_read_t  rd;

    rd.cb = cb;
    rd.data = data;

    return dsi_seq_each(txn, db, hub, id, upto, ds_seq_read_one, &rd);
}


static int
ds_seq_read_one(ds_txn_t *txn, uint64_t seq, const MDB_val *val,
    void *data)
{
    ds_str_t        event;
    ds_seq_read_t  *rd;

    rd = data;

    event.data = val->mv_data;
    event.len = val->mv_size;

    if (rd->cb(rd->data, seq, event) != 0) {
        dsi_txn_set_error(txn, "stopped by the callback");
        return DS_ERROR;
    }

    return DSI_EACH_NEXT;
}


/* deletes the entries with seq <= upto */

int
dsi_seq_delete(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    uint64_t upto)
{
    return dsi_seq_each(txn, db, hub, id, upto, ds_seq_delete_one, NULL);
}


static int
ds_seq_delete_one(ds_txn_t *txn, uint64_t seq, const MDB_val *val,
    void *data)
{
    (void) txn;
    (void) seq;
    (void) val;
    (void) data;

    return DSI_EACH_DELETE;
}


int
dsi_seq_del_one(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    uint64_t seq)
{
    int            rc;
    MDB_val        key;
    unsigned char  kb[DS_KEY_BUF];

    if (!dsi_key_valid(hub, id)) {
        return DS_INVALID;
    }

    key.mv_data = kb;
    key.mv_size = dsi_key_seq(kb, hub, id, seq);

    rc = dsi_del(txn, db, &key, NULL);

    return rc == MDB_NOTFOUND ? DS_OK : dsi_lmdb_rc(txn, rc);
}


static int
ds_seq_match(const MDB_val *key, const unsigned char *prefix, size_t plen)
{
    return key->mv_size == plen + 8
           && memcmp(key->mv_data, prefix, plen) == 0;
}
