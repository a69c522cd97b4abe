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
 * first, and prints "commits N seconds S rate R".
 */

#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lmdb.h>


static double
now_s(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
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
    double        t0, t, secs;
    MDB_env      *env;
    MDB_txn      *txn;
    MDB_dbi       dbi;
    MDB_val       k, v;
    unsigned long i, max;

    if (argc < 2) {
        fprintf(stderr, "usage: commitloop DIR [SECONDS] [MAX_COMMITS]\n");
        return 2;
    }

    secs = argc > 2 ? atof(argv[2]) : 3.0;
    max = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000000;

    memset(val, 'v', sizeof(val));

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

        CHECK(mdb_txn_begin(env, NULL, 0, &txn));
        CHECK(mdb_put(txn, dbi, &k, &v, 0));
        CHECK(mdb_txn_commit(txn));

        if ((i & 15) == 15) {
            t = now_s();
            if (t - t0 >= secs) {
                i++;
                break;
            }
        }
    }

    t = now_s();
    mdb_env_close(env);

    printf("commits %lu seconds %.3f rate %.1f\n", i, t - t0,
           (t - t0) > 0 ? i / (t - t0) : 0.0);

    return 0;
}
