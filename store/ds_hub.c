
/*
 * Copyright (C) ngx_durable authors
 *
 * Whole hubs, for the operators' tools: every record of a hub in every
 * table, raw (export, import), the hubs a store holds, deleting a hub,
 * and a consistent copy of the environment (backup).
 *
 * Every table's keys start with "hub 0" (ds_key.h), so a hub is one key
 * range per table; the callers see keys without that prefix, which makes
 * an exported hub importable under another name.
 */


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_key.h"


/* LMDB's longest key (mdb_env_get_maxkeysize() of the default build) */
#define DS_HUB_KEY_MAX      511

/* ds_table_names follows the ds_db enumeration */
typedef char ds_hub_tables_match[DS_TABLE_COUNT == DS_DB_COUNTS ? 1 : -1];


/* the names of ds_env.c's tables, in ds_db order */
static const char  *ds_table_names[DS_TABLE_COUNT] = {
    "instances", "by_created", "by_status", "history", "inbox", "ready",
    "activities", "timers", "timer_ix", "entities", "entity_ops"
};


const char *
ds_table_name(unsigned table)
{
    return table < DS_TABLE_COUNT ? ds_table_names[table] : NULL;
}


int
ds_table_by_name(const char *name, size_t len)
{
    unsigned  i;

    for (i = 0; i < DS_TABLE_COUNT; i++) {
        if (strlen(ds_table_names[i]) == len
            && memcmp(ds_table_names[i], name, len) == 0)
        {
            return (int) i;
        }
    }

    return -1;
}


int
ds_hub_walk(ds_txn_t *txn, ds_str_t hub, ds_record_cb cb, void *data)
{
    int             rc;
    size_t          plen;
    unsigned        t;
    ds_str_t        k, v;
    MDB_val         key, val;
    MDB_cursor     *cur;
    unsigned char   prefix[DS_KEY_BUF];

    if (!dsi_key_hub_valid(hub)) {
        return DS_INVALID;
    }

    plen = dsi_key_hub(prefix, hub);

    for (t = 0; t < DS_TABLE_COUNT; t++) {

        rc = mdb_cursor_open(txn->txn, ds_dbi(txn, t), &cur);
        if (rc != 0) {
            return dsi_lmdb_rc(txn, rc);
        }

        key.mv_data = prefix;
        key.mv_size = plen;

        for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
             rc == 0;
             rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
        {
            if (key.mv_size < plen
                || memcmp(key.mv_data, prefix, plen) != 0)
            {
                rc = MDB_NOTFOUND;
                break;
            }

            k.data = (const char *) key.mv_data + plen;
            k.len = key.mv_size - plen;
            v.data = val.mv_data;
            v.len = val.mv_size;

            if (cb(data, t, k, v) != 0) {
                mdb_cursor_close(cur);
                dsi_txn_set_error(txn, "the record callback failed");
                return DS_ERROR;
            }
        }

        mdb_cursor_close(cur);

        if (rc != MDB_NOTFOUND) {
            return dsi_lmdb_rc(txn, rc);
        }
    }

    return DS_OK;
}


int
ds_hub_put(ds_txn_t *txn, ds_str_t hub, unsigned table, ds_str_t key,
    ds_str_t value)
{
    int             rc;
    size_t          n;
    MDB_val         k, v;
    unsigned char   buf[DS_KEY_BUF];

    if (!dsi_key_hub_valid(hub) || table >= DS_TABLE_COUNT
        || key.len == 0 || hub.len + 1 + key.len > DS_HUB_KEY_MAX)
    {
        return DS_INVALID;
    }

    n = dsi_key_hub(buf, hub);
    memcpy(buf + n, key.data, key.len);

    k.mv_data = buf;
    k.mv_size = n + key.len;
    v.mv_data = (void *) value.data;
    v.mv_size = value.len;

    rc = dsi_put(txn, table, &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) {
        return DS_CONFLICT;
    }

    if (rc == 0 && (table == DS_DB_BY_STATUS || table == DS_DB_READY)) {
        return dsi_count_entry(txn, table, &k, 1);
    }

    return dsi_lmdb_rc(txn, rc);
}


/*
 * Deletes at most max records (0: no bound) of the hub, table by table;
 * *more tells whether some remain, so a large hub goes in several txns.
 */

int
ds_hub_delete(ds_txn_t *txn, ds_str_t hub, size_t max, size_t *deleted,
    int *more)
{
    int             rc;
    size_t          plen;
    unsigned        t;
    MDB_val         key, val;
    MDB_cursor     *cur;
    unsigned char   prefix[DS_KEY_BUF];

    *deleted = 0;
    *more = 0;

    if (!dsi_key_hub_valid(hub)) {
        return DS_INVALID;
    }

    plen = dsi_key_hub(prefix, hub);

    for (t = 0; t < DS_TABLE_COUNT; t++) {

        rc = mdb_cursor_open(txn->txn, ds_dbi(txn, t), &cur);
        if (rc != 0) {
            return dsi_lmdb_rc(txn, rc);
        }

        for ( ;; ) {
            key.mv_data = prefix;
            key.mv_size = plen;

            rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
            if (rc != 0) {
                break;
            }

            if (key.mv_size < plen
                || memcmp(key.mv_data, prefix, plen) != 0)
            {
                rc = MDB_NOTFOUND;
                break;
            }

            if (max && *deleted == max) {
                *more = 1;
                mdb_cursor_close(cur);
                return DS_OK;
            }

            if (t == DS_DB_BY_STATUS || t == DS_DB_READY) {
                rc = dsi_count_entry(txn, t, &key, -1);
                if (rc != DS_OK) {
                    mdb_cursor_close(cur);
                    return rc;
                }
            }

            rc = dsi_cursor_del(txn, t, cur, 0);
            if (rc != 0) {
                break;
            }

            (*deleted)++;
        }

        mdb_cursor_close(cur);

        if (rc != MDB_NOTFOUND) {
            return dsi_lmdb_rc(txn, rc);
        }
    }

    return DS_OK;
}


static int
ds_hub_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}


/*
 * The hubs that have a record in any table, in byte order: each table is
 * visited once per hub, by a seek past "hub 0" to "hub 1".
 */

int
ds_hub_list(ds_txn_t *txn, ds_hub_cb cb, void *data)
{
    int             rc, cbrc;
    char          **hubs, **h;
    size_t          n, size, i, len;
    unsigned        t;
    ds_str_t        s;
    MDB_val         key, val;
    MDB_cursor     *cur;
    unsigned char   seek[DS_KEY_BUF];
    const char     *end;

    hubs = NULL;
    n = 0;
    size = 0;
    rc = 0;

    for (t = 0; t < DS_TABLE_COUNT && rc == 0; t++) {

        rc = mdb_cursor_open(txn->txn, ds_dbi(txn, t), &cur);
        if (rc != 0) {
            break;
        }

        for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
             rc == 0;
             rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE))
        {
            end = memchr(key.mv_data, '\0', key.mv_size);
            len = end ? (size_t) (end - (char *) key.mv_data)
                      : key.mv_size;

            if (len > DS_HUB_MAX) {
                len = DS_HUB_MAX;
            }

            for (i = 0; i < n; i++) {
                if (strlen(hubs[i]) == len
                    && memcmp(hubs[i], key.mv_data, len) == 0)
                {
                    break;
                }
            }

            if (i == n) {
                if (n == size) {
                    size = size ? 2 * size : 8;
                    h = realloc(hubs, size * sizeof(char *));
                    if (h == NULL) {
                        rc = ENOMEM;
                        break;
                    }

                    hubs = h;
                }

                hubs[n] = malloc(len + 1);
                if (hubs[n] == NULL) {
                    rc = ENOMEM;
                    break;
                }

                memcpy(hubs[n], key.mv_data, len);
                hubs[n++][len] = '\0';
            }

            memcpy(seek, key.mv_data, len);
            seek[len] = '\1';
            key.mv_data = seek;
            key.mv_size = len + 1;
        }

        mdb_cursor_close(cur);

        if (rc == MDB_NOTFOUND) {
            rc = 0;
        }
    }

    cbrc = 0;

    if (rc == 0 && n) {
        qsort(hubs, n, sizeof(char *), ds_hub_cmp);

        for (i = 0; i < n && cbrc == 0; i++) {
            s.data = hubs[i];
            s.len = strlen(hubs[i]);
            cbrc = cb(data, s);
        }
    }

    for (i = 0; i < n; i++) {
        free(hubs[i]);
    }

    free(hubs);

    if (rc == ENOMEM) {
        dsi_txn_set_error(txn, "out of memory");
        return DS_ERROR;
    }

    if (rc != 0) {
        return dsi_lmdb_rc(txn, rc);
    }

    if (cbrc != 0) {
        dsi_txn_set_error(txn, "the hub callback failed");
        return DS_ERROR;
    }

    return DS_OK;
}


/*
 * A consistent copy of the whole environment into an empty directory,
 * made from one read snapshot while writers go on (mdb_env_copy2);
 * compact drops free pages and renumbers the rest.
 */

int
ds_env_copy(ds_env_t *env, const char *dir, int compact, char *err,
    size_t err_len)
{
    int  rc;

    rc = mdb_env_copy2(env->env, dir, compact ? MDB_CP_COMPACT : 0);
    if (rc != 0) {
        snprintf(err, err_len, "copying the store to \"%s\" failed: %s",
                 dir, mdb_strerror(rc));
        return DS_ERROR;
    }

    return DS_OK;
}
