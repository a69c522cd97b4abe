/*
 * Copyright (C) ngx_durable authors
 *
 * Per-instance sequences: keys "hub 0 id 0 seq(8)", seq from 1 upwards.
 * History and inbox are both kept this way.
 */


#include <string.h>

#include "ds_key.h"


static int ds_seq_match(const MDB_val *key, const unsigned char *prefix,
    size_t plen);


int
ds_seq_append(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    ds_str_t value, uint64_t *seq)
{
    int            rc;
    size_t         plen;
    uint64_t       last;
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
        rc = mdb_cursor_get(cur, &key, &val, MDB_PREV);

    } else if (rc == MDB_NOTFOUND) {
        rc = mdb_cursor_get(cur, &key, &val, MDB_LAST);
    }

    if (rc == 0 && ds_seq_match(&key, kb, plen)) {
        last = ds_get_u64((unsigned char *) key.mv_data + plen);

    } else if (rc == 0 || rc == MDB_NOTFOUND) {
        last = 0;

    } else {
        mdb_cursor_close(cur);
        return ds_lmdb_rc(txn, rc);
    }

    mdb_cursor_close(cur);

    if (last == UINT64_MAX) {
        ds_txn_set_error(txn, "sequence exhausted");
        return DS_ERROR;
    }

    ds_put_u64(kb + plen, last + 1);

    key.mv_data = kb;
    key.mv_size = plen + 8;
    val.mv_data = (void *) value.data;
    val.mv_size = value.len;

    rc = mdb_put(txn->txn, ds_dbi(txn, db), &key, &val, 0);
    if (rc != 0) {
        return ds_lmdb_rc(txn, rc);
    }

    if (seq) {
        *seq = last + 1;
    }

    return DS_OK;
}


int
ds_seq_read(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    ds_event_cb cb, void *data)
{
    int            rc;
    size_t         plen;
    MDB_val        key, val;
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
        event.data = val.mv_data;
        event.len = val.mv_size;

        if (cb(data, ds_get_u64((unsigned char *) key.mv_data + plen), event)
            != 0)
        {
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
        rc = mdb_cursor_del(cur, 0);
        if (rc != 0) {
            break;
        }
    }

    mdb_cursor_close(cur);

    return (rc == 0 || rc == MDB_NOTFOUND) ? DS_OK : ds_lmdb_rc(txn, rc);
}


static int
ds_seq_match(const MDB_val *key, const unsigned char *prefix, size_t plen)
{
    return key->mv_size == plen + 8
           && memcmp(key->mv_data, prefix, plen) == 0;
}
