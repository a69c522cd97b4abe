/*
 * Copyright (C) ngx_durable authors
 *
 * make test-openapi's helper: fills the map of an LMDB store that nginx
 * has open, so that every write nginx tries there fails as on a full disk
 * (MDB_MAP_FULL: 507), including those the store's reserve lets through
 * (claims, renewals, abandons, purges). Usage:
 *
 *     fill-map DIR
 *
 * It holds a read txn first, so that no page a later write frees can be
 * reused (this old snapshot may still read it), then adds values to a
 * database of its own ("replay-ballast", which the store's code never
 * reads), smaller and smaller, until a txn that adds one empty value
 * fails: any write of nginx needs at least as many new pages as that one.
 * It prints "full" then, and lets the snapshot go when its standard input
 * closes. For a throwaway store only: the ballast stays.
 */


#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <lmdb.h>


/* one txn that adds a value of size bytes; an LMDB code */

static int
fill_map_add(MDB_env *env, uint64_t n, size_t size)
{
    int          rc;
    MDB_val      key, val;
    MDB_dbi      dbi;
    MDB_txn     *txn;
    static char  junk[16384];

    rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (rc != 0) {
        return rc;
    }

    rc = mdb_dbi_open(txn, "replay-ballast", MDB_CREATE, &dbi);

    if (rc == 0) {
        key.mv_data = &n;
        key.mv_size = sizeof(n);
        val.mv_data = junk;
        val.mv_size = size;

        rc = mdb_put(txn, dbi, &key, &val, 0);
    }

    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }

    return mdb_txn_commit(txn);
}


int
main(int argc, char **argv)
{
    int           rc;
    char          buf[64];
    size_t        i;
    uint64_t      n;
    MDB_env      *env;
    MDB_txn      *snap;
    const size_t  sizes[] = { 16384, 2048, 256, 0 };

    if (argc != 2) {
        fprintf(stderr, "usage: fill-map DIR\n");
        return 2;
    }

    rc = mdb_env_create(&env);

    /* 0: the map size the store was written with, whatever it is */

    if (rc == 0) {
        rc = mdb_env_set_mapsize(env, 0);
    }

    if (rc == 0) {
        rc = mdb_env_set_maxdbs(env, 1);
    }

    /* no TLS: the snapshot and the writes are txns of one thread */

    if (rc == 0) {
        rc = mdb_env_open(env, argv[1], MDB_NOTLS, 0600);
    }

    if (rc == 0) {
        rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &snap);
    }

    n = 0;

    for (i = 0; rc == 0 && i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        do {
            rc = fill_map_add(env, n++, sizes[i]);
        } while (rc == 0);

        if (rc == MDB_MAP_FULL) {
            rc = 0;
        }
    }

    if (rc != 0) {
        fprintf(stderr, "fill-map: %s: %s\n", argv[1], mdb_strerror(rc));
        return 1;
    }

    printf("full\n");
    (void) fflush(stdout);

    while (read(STDIN_FILENO, buf, sizeof(buf)) > 0) {
        /* void */
    }

    mdb_txn_abort(snap);
    mdb_env_close(env);

    return 0;
}
