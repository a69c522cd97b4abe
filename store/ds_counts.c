/*
 * Copyright (C) ngx_durable authors
 *
 * The counts table: how many entries each hub has in the status index
 * (per status) and in the ready index (per kind), kept by the functions
 * that add and remove those entries, in the same txn, so that a figure
 * is read with one seek instead of a scan. Key: hub 0 class(1) code(1),
 * value: the count, 8 bytes big-endian; a count of 0 has no record, so
 * a hub without instances has none.
 *
 *   class 's': code = status (ds_status_e)
 *   class 'r': code = ready kind (DS_READY_*)
 */


#include <string.h>

#include "ds_key.h"


static int ds_count_apply(ds_txn_t *txn, unsigned char *kb, size_t len,
    int64_t delta);


/*
 * Adds delta to the count of the entry key (a full key of db) is: db is
 * DS_DB_BY_STATUS or DS_DB_READY, whose keys are hub 0 code(1) ... A
 * write txn keeps the change with the txn's others of the same count
 * (dsi_counts_flush() writes them): the ready index adds and removes an
 * entry of the same one or two counts many times in a batch, and each
 * write of a count was a lookup and a put in the table. The changes
 * are summed: a -1 and a +1 of a count that is already wrong (a record
 * lost, say) cancel out and leave it wrong, where writing each would
 * have deleted it at 0 first; ds_check() reports such a store. Only in
 * a write txn: a read txn has no cursor to write with.
 */

int
dsi_count_entry(ds_txn_t *txn, int db, const MDB_val *key, int delta)
{
    int                   rc;
    size_t                hlen, i;
    dsi_count_delta_t    *c;
    const unsigned char  *p, *end;
    unsigned char         kb[DS_KEY_BUF];

    if (!txn->write) {
        dsi_txn_set_error(txn, "a count changed in a read txn");
        return DS_INVALID;
    }

    p = key->mv_data;
    end = memchr(p, '\0', key->mv_size);

    if (end == NULL || (size_t) (end - p) + 2 > key->mv_size)
    {
        /* a malformed key (ds_check() reports such) is not counted */
        return DS_OK;
    }

    /* LMDB keys have at most 511 bytes: hlen + 3 fits in kb */
    hlen = end - p;

    memcpy(kb, p, hlen + 1);
    kb[hlen + 1] = (db == DS_DB_BY_STATUS) ? 's' : 'r';
    kb[hlen + 2] = end[1];

    if (hlen + 3 > sizeof(txn->counts[0].key)) {
        return ds_count_apply(txn, kb, hlen + 3, delta);
    }

    for (i = 0; i < txn->ncounts; i++) {
        c = &txn->counts[i];

        if (c->len == hlen + 3 && memcmp(c->key, kb, hlen + 3) == 0) {
            c->delta += delta;
            return DS_OK;
        }
    }

    if (txn->ncounts == DS_TXN_COUNTS) {
        rc = dsi_counts_flush(txn);
        if (rc != DS_OK) {
            return rc;
        }
    }

    c = &txn->counts[txn->ncounts++];
    memcpy(c->key, kb, hlen + 3);
    c->len = hlen + 3;
    c->delta = delta;

    return DS_OK;
}


/*
 * Writes the changes the txn kept (dsi_count_entry()) to the table. They
 * are forgotten before the writes: one that fails (a full map) leaves
 * the LMDB txn unusable, so it is aborted and none of it, the changes
 * not written included, is ever committed.
 */

int
dsi_counts_flush(ds_txn_t *txn)
{
    int                 rc;
    size_t              i, n;
    dsi_count_delta_t  *c;

    n = txn->ncounts;
    txn->ncounts = 0;

    for (i = 0; i < n; i++) {
        c = &txn->counts[i];

        if (c->delta == 0) {
            continue;
        }

        rc = ds_count_apply(txn, c->key, c->len, c->delta);
        if (rc != DS_OK) {
            return rc;
        }
    }

    return DS_OK;
}


static int
ds_count_apply(ds_txn_t *txn, unsigned char *kb, size_t len, int64_t delta)
{
    int            rc, found;
    int64_t        n;
    MDB_val        k, v;
    unsigned char  vb[8];

    k.mv_data = kb;
    k.mv_size = len;

    rc = dsi_get(txn, DS_DB_COUNTS, &k, &v);

    if (rc == 0 && v.mv_size == 8) {
        n = dsi_get_i64(v.mv_data);

    } else if (rc == 0 || rc == MDB_NOTFOUND) {
        n = 0;

    } else {
        return dsi_lmdb_rc(txn, rc);
    }

    /* a record found is changed where the lookup left the cursor */
    found = (rc == 0);
    n += delta;

    if (n <= 0) {
        return found ? dsi_lmdb_rc(txn, dsi_del_found(txn, DS_DB_COUNTS))
                     : DS_OK;
    }

    dsi_put_i64(vb, n);
    v.mv_data = vb;
    v.mv_size = 8;

    rc = found ? dsi_put_found(txn, DS_DB_COUNTS, &k, &v)
               : dsi_put(txn, DS_DB_COUNTS, &k, &v, 0);

    return dsi_lmdb_rc(txn, rc);
}


/*
 * Builds the table from the two indexes: once, when a store made before
 * it existed is opened (ds_env_open), in the txn that creates it.
 */

int
dsi_counts_build(ds_txn_t *txn)
{
    int          rc, db, i;
    MDB_val      key, val;
    MDB_cursor  *cur;
    static const int  dbs[2] = { DS_DB_BY_STATUS, DS_DB_READY };

    for (i = 0; i < 2; i++) {
        db = dbs[i];

        rc = mdb_cursor_open(txn->txn, ds_dbi(txn, db), &cur);
        if (rc != 0) {
            return dsi_lmdb_rc(txn, rc);
        }

        for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
             rc == 0;
             rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
        {
            rc = dsi_count_entry(txn, db, &key, 1);
            if (rc != DS_OK) {
                mdb_cursor_close(cur);
                return rc;
            }
        }

        mdb_cursor_close(cur);

        if (rc != MDB_NOTFOUND) {
            return dsi_lmdb_rc(txn, rc);
        }
    }

    return DS_OK;
}


/* every count of every hub, in key order (hub by hub) */

int
ds_counts_each(ds_txn_t *txn, ds_count_cb cb, void *data)
{
    int                   rc;
    size_t                hlen;
    ds_str_t              hub;
    ds_count_t            c;
    MDB_val               key, val;
    MDB_cursor           *cur;
    const unsigned char  *p;

    /* the changes a write txn kept are read too */
    rc = dsi_counts_flush(txn);
    if (rc != DS_OK) {
        return rc;
    }

    rc = mdb_cursor_open(txn->txn, ds_dbi(txn, DS_DB_COUNTS), &cur);
    if (rc != 0) {
        return dsi_lmdb_rc(txn, rc);
    }

    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
         rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
    {
        p = key.mv_data;

        if (key.mv_size < 3 || p[key.mv_size - 3] != '\0'
            || val.mv_size != 8)
        {
            continue;
        }

        hlen = key.mv_size - 3;
        hub.data = (const char *) p;
        hub.len = hlen;

        memset(&c, 0, sizeof(ds_count_t));

        if (p[hlen + 1] == 's' && p[hlen + 2] < DS_STATUS_COUNT) {
            c.what = DS_COUNT_STATUS;
            c.status = (ds_status_e) p[hlen + 2];

        } else if (p[hlen + 1] == 'r') {
            c.what = DS_COUNT_READY;

            switch (p[hlen + 2]) {
            case DS_READY_ORCH:
                c.kind = DS_WORK_ORCHESTRATION;
                break;
            case DS_READY_ACTIVITY:
                c.kind = DS_WORK_ACTIVITY;
                break;
            case DS_READY_ENTITY:
                c.kind = DS_WORK_ENTITY;
                break;
            default:
                continue;
            }

        } else {
            continue;
        }

        c.count = (uint64_t) dsi_get_i64(val.mv_data);

        if (cb(data, hub, &c) != 0) {
            mdb_cursor_close(cur);
            dsi_txn_set_error(txn, "the count callback failed");
            return DS_ERROR;
        }
    }

    mdb_cursor_close(cur);

    return (rc == MDB_NOTFOUND) ? DS_OK : dsi_lmdb_rc(txn, rc);
}


/* the visible time of the hub's first ready entry of the kind */

int
ds_ready_oldest(ds_txn_t *txn, ds_str_t hub, ds_work_kind_e kind,
    int64_t *at)
{
    size_t         len;
    unsigned char  item[DS_KEY_BUF];
    static const int  kinds[3] = {
        DS_READY_ORCH, DS_READY_ACTIVITY, DS_READY_ENTITY
    };

    if ((unsigned) kind > DS_WORK_ENTITY || !dsi_key_hub_valid(hub)) {
        return DS_INVALID;
    }

    return dsi_ready_first(txn, hub, kinds[kind], at, item, &len);
}


/* entries of the timers table, of all hubs: LMDB keeps the number */

int
ds_timers_total(ds_txn_t *txn, uint64_t *n)
{
    int       rc;
    MDB_stat  st;

    rc = mdb_stat(txn->txn, ds_dbi(txn, DS_DB_TIMERS), &st);
    if (rc != 0) {
        return dsi_lmdb_rc(txn, rc);
    }

    *n = st.ms_entries;

    return DS_OK;
}


/* reader slots in use (stale ones too, until a reader check) and their
   number */

int
ds_env_readers(ds_env_t *env, unsigned *used, unsigned *max)
{
    int          rc;
    MDB_envinfo  info;

    /*
     * outside of a txn (the metrics, in the loop), and mdb_env_info()
     * reads the meta pages through the map: not while a thread remaps it
     */

    if (env->locking) {
        (void) pthread_rwlock_rdlock(&env->map_lock);
    }

    rc = mdb_env_info(env->env, &info);

    if (env->locking) {
        (void) pthread_rwlock_unlock(&env->map_lock);
    }

    if (rc != 0) {
        return DS_ERROR;
    }

    *used = info.me_numreaders;
    *max = info.me_maxreaders;

    return DS_OK;
}
