/*
 * Copyright (C) ngx_durable authors
 *
 * Per-instance sequences: keys "hub 0 id 0 seq(8)", seq from 1 upwards.
 * History, inboxes and entity operation queues are kept this way.
 */


#include <string.h>

#include "ds_key.h"


static int ds_seq_match(const MDB_val *key, const unsigned char *prefix,
    size_t plen);


int
ds_seq_append(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    ds_str_t value, uint64_t *seq)
{
    int       rc;
    uint64_t  last;

    rc = ds_seq_last(txn, db, hub, id, &last);
    if (rc != DS_OK) {
        return rc;
    }

    if (last == UINT64_MAX) {
        ds_txn_set_error(txn, "sequence exhausted");
        return DS_ERROR;
    }

    rc = ds_seq_put(txn, db, hub, id, last + 1, value);

    if (rc == DS_OK && seq) {
        *seq = last + 1;
    }

    return rc;
}


/* the highest seq of the instance's sequence, 0 when it is empty */

int
ds_seq_last(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    uint64_t *last)
{
    int            rc;
    size_t         plen;
    MDB_val        key, val;
    MDB_cursor    *cur;
    unsigned char  kb[DS_KEY_BUF];

    if (!ds_key_valid(hub, id)) {
        return DS_INVALID;
    }

    rc = mdb_cursor_open(txn->txn, ds_dbi(txn, db), &cur);
    if (rc != 0) {
        return ds_lmdb_rc(txn, rc);
    }

    /* seek past the instance's highest possible key, then step back */

    key.mv_data = kb;
    key.mv_size = ds_key_seq(kb, hub, id, UINT64_MAX);
    plen = key.mv_size - 8;

    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);

    if (rc == 0) {
        if (ds_seq_match(&key, kb, plen)) {
            /* seq UINT64_MAX itself */
            *last = UINT64_MAX;
            mdb_cursor_close(cur);
            return DS_OK;
        }

        rc = mdb_cursor_get(cur, &key, &val, MDB_PREV);

    } else if (rc == MDB_NOTFOUND) {
        rc = mdb_cursor_get(cur, &key, &val, MDB_LAST);
    }

    if (rc == 0 && ds_seq_match(&key, kb, plen)) {
        *last = ds_get_u64((unsigned char *) key.mv_data + plen);

    } else if (rc == 0 || rc == MDB_NOTFOUND) {
        *last = 0;

    } else {
        mdb_cursor_close(cur);
        return ds_lmdb_rc(txn, rc);
    }

    mdb_cursor_close(cur);

    return DS_OK;
}


int
ds_seq_put(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id, uint64_t seq,
    ds_str_t value)
{
    MDB_val        key, val;
    unsigned char  kb[DS_KEY_BUF];

    if (!ds_key_valid(hub, id) || seq == 0) {
        return DS_INVALID;
    }

    key.mv_data = kb;
    key.mv_size = ds_key_seq(kb, hub, id, seq);
    val.mv_data = (void *) value.data;
    val.mv_size = value.len;

    return ds_lmdb_rc(txn, ds_put(txn, db, &key, &val,
                                   0));
}


int
ds_seq_read(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    ds_event_cb cb, void *data)
{
    return ds_seq_read_upto(txn, db, hub, id, UINT64_MAX, cb, data);
}


/* reads the entries with seq <= upto, in order */

int
ds_seq_read_upto(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    uint64_t upto, ds_event_cb cb, void *data)
{
    int            rc;
    size_t         plen;
    MDB_val        key, val;
    uint64_t       seq;
    ds_str_t       event;
    MDB_cursor    *cur;
    unsigned char  kb[DS_KEY_BUF];

    if (!ds_key_valid(hub, id)) {
        return DS_INVALID;
    }

    rc = mdb_cursor_open(txn->txn, ds_dbi(txn, db), &cur);
    if (rc != 0) {
        return ds_lmdb_rc(txn, rc);
    }

    key.mv_data = kb;
    key.mv_size = ds_key_seq(kb, hub, id, 0);
    plen = key.mv_size - 8;

    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
         rc == 0 && ds_seq_match(&key, kb, plen);
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
    {
        seq = ds_get_u64((unsigned char *) key.mv_data + plen);

        if (seq > upto) {
            break;
        }

        event.data = val.mv_data;
        event.len = val.mv_size;

        if (cb(data, seq, event) != 0) {
            mdb_cursor_close(cur);
            ds_txn_set_error(txn, "stopped by the callback");
            return DS_ERROR;
        }
    }

    mdb_cursor_close(cur);

    return (rc == 0 || rc == MDB_NOTFOUND) ? DS_OK : ds_lmdb_rc(txn, rc);
}


/* deletes the entries with seq <= upto */

int
ds_seq_delete(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    uint64_t upto)
{
    int            rc;
    size_t         plen;
    MDB_val        key, val;
    MDB_cursor    *cur;
    unsigned char  kb[DS_KEY_BUF];

    if (!ds_key_valid(hub, id)) {
        return DS_INVALID;
    }

    rc = mdb_cursor_open(txn->txn, ds_dbi(txn, db), &cur);
    if (rc != 0) {
        return ds_lmdb_rc(txn, rc);
    }

    key.mv_data = kb;
    key.mv_size = ds_key_seq(kb, hub, id, 0);
    plen = key.mv_size - 8;

    /* after mdb_cursor_del() the cursor already sits on the next entry */

    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
         rc == 0 && ds_seq_match(&key, kb, plen)
         && ds_get_u64((unsigned char *) key.mv_data + plen) <= upto;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
    {
        rc = ds_cursor_del(txn, cur, 0);
        if (rc != 0) {
            break;
        }
    }

    mdb_cursor_close(cur);

    return (rc == 0 || rc == MDB_NOTFOUND) ? DS_OK : ds_lmdb_rc(txn, rc);
}


int
ds_seq_del_one(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    uint64_t seq)
{
    int            rc;
    MDB_val        key;
    unsigned char  kb[DS_KEY_BUF];

    if (!ds_key_valid(hub, id)) {
        return DS_INVALID;
    }

    key.mv_data = kb;
    key.mv_size = ds_key_seq(kb, hub, id, seq);

    rc = ds_del(txn, db, &key, NULL);

    return rc == MDB_NOTFOUND ? DS_OK : ds_lmdb_rc(txn, rc);
}


static int
ds_seq_match(const MDB_val *key, const unsigned char *prefix, size_t plen)
{
    return key->mv_size == plen + 8
           && memcmp(key->mv_data, prefix, plen) == 0;
}
