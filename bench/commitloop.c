/*
 * Copyright (C) ngx_durable authors
 *
 * bench/commitloop: the baseline of the fsync'd start scenario. A loop of
 * single-put LMDB write transactions, each committed with LMDB's default
 * durability (fsync/fdatasync on every commit), in an environment of its
 * own in the given directory (the same filesystem as the benchmark store).
 *
 *   commitloop DIR [SECONDS] [MAX_COMMITS]
 *
 * Runs for SECONDS (default 3) or MAX_COMMITS commits, whichever comes
 * first, and prints "commits N seconds S rate R p99 MS": MS is the 99th
 * percentile of one commit's time (begin, put, commit), in milliseconds,
 * the baseline of the scenario's p99.
 */

#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lmdb.h>

#include "util.h"


#define LAT_MAX  (1UL << 20)


static int
cmp_double(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}


#define CHECK(call)                                                          \
    do {                                                                     \
        int rc_ = (call);                                                    \
        if (rc_ != 0) {                                                      \
            fprintf(stderr, "commitloop: %s: %s\n", #call,                   \
                    mdb_strerror(rc_));                                      \
            return 1;                                                        \
        }                                                                    \
    } while (0)


int
main(int argc, char **argv)
{
    char          key[32], val[200];
    double        t0, t, t1, secs, p99, *lat;
    MDB_env      *env;
    MDB_txn      *txn;
    MDB_dbi       dbi;
    MDB_val       k, v;
    unsigned long i, max, n;

    if (argc < 2) {
        fprintf(stderr, "usage: commitloop DIR [SECONDS] [MAX_COMMITS]\n");
        return 2;
    }

    secs = argc > 2 ? atof(argv[2]) : 3.0;
    max = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000000;

    memset(val, 'v', sizeof(val));

    lat = malloc(LAT_MAX * sizeof(double));
    if (lat == NULL) {
        fprintf(stderr, "commitloop: out of memory\n");
        return 1;
    }

    CHECK(mdb_env_create(&env));
    CHECK(mdb_env_set_mapsize(env, 256UL << 20));
    CHECK(mdb_env_open(env, argv[1], 0, 0664));    /* default: synced */

    CHECK(mdb_txn_begin(env, NULL, 0, &txn));
    CHECK(mdb_dbi_open(txn, NULL, 0, &dbi));
    CHECK(mdb_txn_commit(txn));

    t0 = now_s();
    t = t0;

    for (i = 0; i < max; i++) {
        snprintf(key, sizeof(key), "k%012lu", i);
        k.mv_data = key;
        k.mv_size = strlen(key);
        v.mv_data = val;
        v.mv_size = sizeof(val);

        t1 = now_s();
        CHECK(mdb_txn_begin(env, NULL, 0, &txn));
        CHECK(mdb_put(txn, dbi, &k, &v, 0));
        CHECK(mdb_txn_commit(txn));
        t = now_s();

        if (i < LAT_MAX) {
            lat[i] = t - t1;
        }

        if ((i & 15) == 15) {
            if (t - t0 >= secs) {
                i++;
                break;
            }
        }
    }

    t = now_s();
    mdb_env_close(env);

    p99 = 0.0;

    if (i > 0) {
        n = i < LAT_MAX ? i : LAT_MAX;
        qsort(lat, n, sizeof(double), cmp_double);
        p99 = lat[(size_t) (n * 0.99) < n ? (size_t) (n * 0.99) : n - 1];
    }

    free(lat);

    printf("commits %lu seconds %.3f rate %.1f p99 %.3f\n", i, t - t0,
           (t - t0) > 0 ? i / (t - t0) : 0.0, p99 * 1000);

    return 0;
}
