/*
 * Copyright (C) ngx_durable authors
 *
 * bench/loader: fills a task hub with N instances, directly in the LMDB
 * directory of a store, through the store library (ds_op_start: the same
 * records, indexes, ExecutionStarted message and ready entry as a POST
 * start), in big write transactions. nginx may be running: LMDB serializes
 * writers across processes. Use the map size of the store's max_size.
 *
 *   loader -p DIR -m MAP_BYTES -H HUB -n COUNT [-b BATCH] [-i PREFIX]
 *          [-r] [-N NAME] [-I INPUT_JSON] [-S STATUS] [-s]
 *
 * Ids: PREFIX followed by the index (PREFIX0 .. PREFIX<n-1>) with -i; 32
 * hex digits like the module's own without: the milliseconds of the
 * created time, then 20 random digits; -r: 32 random hex digits (ids a
 * client chose). Created times are spread one microsecond apart, ending
 * now. -S: each instance is then put with that status (ds_status_e: 0
 * Running, 1 Completed, ...) and out of the ready index, as a finished
 * instance or one a worker holds would be. -s: fsync at the end only
 * (the environment is opened with MDB_NOSYNC, then ds_env_sync()).
 * Prints "loaded N instances in S s (R/s)".
 */

#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "durable_store.h"

#include "util.h"


static uint64_t
xorshift(uint64_t *s)
{
    uint64_t  x = *s;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;

    return x;
}


static void
usage(void)
{
    fprintf(stderr, "usage: loader -p DIR -m MAP_BYTES -H HUB -n COUNT "
            "[-b BATCH] [-i ID_PREFIX] [-r] [-N NAME] [-I INPUT_JSON] "
            "[-S STATUS]\n");
    exit(2);
}


int
main(int argc, char **argv)
{
    int             c, rc;
    char            err[256], idbuf[DS_ID_MAX + 1];
    double          t0, dt;
    size_t          n, batch, i, j, done, conflicts;
    int64_t         base;
    uint64_t        seed;
    ds_env_t       *env;
    ds_txn_t       *txn;
    ds_str_t        hub, id, name, input;
    ds_instance_t   inst;
    ds_env_conf_t   conf;
    const char     *prefix = NULL, *hubs = NULL, *names = "Hello";
    const char     *inputs = "{\"n\":1}";
    int             random_ids = 0, status = -1;

    memset(&conf, 0, sizeof(conf));
    conf.sync = DS_SYNC_NONE;
    n = 0;
    batch = 50000;

    while ((c = getopt(argc, argv, "p:m:H:n:b:i:rN:I:S:")) != -1) {
        switch (c) {
        case 'p': conf.path = optarg; break;
        case 'm': conf.map_size = strtoull(optarg, NULL, 10); break;
        case 'H': hubs = optarg; break;
        case 'n': n = strtoull(optarg, NULL, 10); break;
        case 'b': batch = strtoull(optarg, NULL, 10); break;
        case 'i': prefix = optarg; break;
        case 'r': random_ids = 1; break;
        case 'N': names = optarg; break;
        case 'I': inputs = optarg; break;
        case 'S': status = atoi(optarg); break;
        default: usage();
        }
    }

    if (conf.path == NULL || hubs == NULL || conf.map_size == 0
        || batch == 0 || status >= DS_STATUS_COUNT)
    {
        usage();
    }

    rc = ds_env_open(&env, &conf, err, sizeof(err));
    if (rc != DS_OK) {
        fprintf(stderr, "loader: %s\n", err);
        return 1;
    }

    hub.data = hubs;
    hub.len = strlen(hubs);
    name.data = names;
    name.len = strlen(names);
    input.data = inputs;
    input.len = strlen(inputs);

    seed = (uint64_t) time(NULL) * 2654435761u ^ (uint64_t) getpid();
    if (seed == 0) {
        seed = 88172645463325252ull;
    }

    base = ds_time_now() - (int64_t) n;
    done = 0;
    conflicts = 0;
    t0 = now_s();

    for (i = 0; i < n; i += batch) {
        rc = ds_txn_begin(env, NULL, 1, &txn);
        if (rc != DS_OK) {
            fprintf(stderr, "loader: ds_txn_begin: %s\n", ds_strerror(rc));
            return 1;
        }

        for (j = i; j < n && j < i + batch; j++) {
            if (prefix) {
                snprintf(idbuf, sizeof(idbuf), "%s%zu", prefix, j);
            } else if (random_ids) {
                snprintf(idbuf, sizeof(idbuf), "%016llx%016llx",
                         (unsigned long long) xorshift(&seed),
                         (unsigned long long) xorshift(&seed));
            } else {
                snprintf(idbuf, sizeof(idbuf), "%012llx%04llx%016llx",
                         (unsigned long long) ((base + (int64_t) j) / 1000),
                         (unsigned long long) (xorshift(&seed) & 0xffff),
                         (unsigned long long) xorshift(&seed));
            }

            id.data = idbuf;
            id.len = strlen(idbuf);

            rc = ds_op_start(txn, hub, id, name, input, base + (int64_t) j,
                             &inst);
            if (rc == DS_CONFLICT) {
                conflicts++;
                continue;
            }

            if (rc == DS_OK && status >= 0) {
                /* the status asked for, out of the ready index */
                inst.status = (ds_status_e) status;
                inst.ready_at = 0;
                rc = ds_instance_put(txn, hub, id, &inst);
            }

            if (rc != DS_OK) {
                fprintf(stderr, "loader: ds_op_start(%s): %s %s\n", idbuf,
                        ds_strerror(rc), ds_txn_error(txn) ? ds_txn_error(txn)
                                                           : "");
                ds_txn_abort(txn);
                return 1;
            }

            done++;
        }

        rc = ds_txn_commit(txn);
        if (rc != DS_OK) {
            fprintf(stderr, "loader: commit: %s\n", ds_strerror(rc));
            return 1;
        }
    }

    if (ds_env_sync(env) != DS_OK) {
        fprintf(stderr, "loader: sync failed\n");
        return 1;
    }

    dt = now_s() - t0;

    ds_env_close(env);

    printf("loaded %zu instances in %.2f s (%.0f/s)%s\n", done, dt,
           dt > 0 ? done / dt : 0.0, conflicts ? " (some ids existed)" : "");

    return 0;
}
