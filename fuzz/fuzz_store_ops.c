
/*
 * Copyright (C) ngx_durable authors
 *
 * libFuzzer target: sequences of lifecycle operations on the store,
 * checked against a model (instance -> status, created time).
 *
 * One LMDB environment is made in LLVMFuzzerInitialize and emptied before
 * each input. Input: byte 0 picks the clock's start, then 3 bytes per
 * operation: the operation, the instance (one of 8 ids in one of 2
 * hubs), an argument (clock step, reason, status, filter, page size).
 * Operations: start, terminate, suspend, resume, rewind, raise event,
 * purge one, purge by filter, list all pages, a worker-like status change
 * (get + put), and an operation whose transaction is aborted.
 *
 * Checked after every operation: the return code is the model's; refusals
 * (not found, conflict, gone, precondition) are committed and must have
 * changed nothing; every instance has the model's status and created
 * time; lists page through exactly the model's instances in (created, id)
 * order; purges delete what the model deletes; ds_check() finds the store
 * consistent with the model's number of instances.
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ds_internal.h"


#define FUZZ_CHECK(cond)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fuzz_fail(__FILE__, __LINE__, #cond);                            \
        }                                                                    \
    } while (0)


#define FUZZ_IDS        8
#define FUZZ_HUBS       2
#define FUZZ_SLOTS      (FUZZ_IDS * FUZZ_HUBS)
#define FUZZ_OPS_MAX    64


enum {
    FUZZ_START = 0,
    FUZZ_TERMINATE,
    FUZZ_SUSPEND,
    FUZZ_RESUME,
    FUZZ_REWIND,
    FUZZ_RAISE,
    FUZZ_PURGE,
    FUZZ_PURGE_MANY,
    FUZZ_LIST,
    FUZZ_SET_STATUS,
    FUZZ_ABORTED,
    FUZZ_NOPS
};

/* the statuses a worker's last completion leaves */
static const ds_status_e  fuzz_finished[] = {
    DS_COMPLETED, DS_FAILED, DS_CANCELED
};


typedef struct {
    int                 present;
    ds_status_e         status;
    ds_status_e         suspended_from;
    int64_t             created;
} fuzz_slot_t;


typedef struct {
    int                 hub;
    size_t              n;
    int                 slots[FUZZ_SLOTS];
} fuzz_list_t;


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static ds_env_t     *env;
static char          dir[64];
static fuzz_slot_t   model[FUZZ_SLOTS];
static char          long_id[DS_ID_MAX];

static ds_str_t  hubs[FUZZ_HUBS] = { { "H", 1 }, { "H2", 2 } };

static ds_str_t  ids[FUZZ_IDS] = {
    { "a", 1 }, { "b", 1 }, { "ab", 2 }, { "a\x01", 2 },
    { "\xc3\xa9", 2 }, { "0f3c9a", 6 }, { "@x", 2 }, { long_id, DS_ID_MAX }
};

static ds_str_t  jsons[4] = {
    { "", 0 }, { "\"why\"", 5 }, { "{\"a\":[1,2]}", 11 }, { "null", 4 }
};

static const int64_t  bases[4] = {
    1520690251000000LL, -3000000, 0, 253402300799000000LL
};


static void
fuzz_fail(const char *file, int line, const char *expr)
{
    fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, expr);
    abort();
}


static void
fuzz_cleanup(void)
{
    char  path[128];

    ds_env_close(env);

    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/lock.mdb", dir);
    unlink(path);
    rmdir(dir);
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char           err[256];
    ds_env_conf_t  conf;

    (void) argc;
    (void) argv;

    memset(long_id, 'L', sizeof(long_id));

    strcpy(dir, "/tmp/fuzz_store_ops.XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        abort();
    }

    memset(&conf, 0, sizeof(conf));
    conf.path = dir;
    conf.map_size = 64 * 1024 * 1024;
    conf.sync = DS_SYNC_NONE;

    if (ds_env_open(&env, &conf, err, sizeof(err)) != DS_OK) {
        fprintf(stderr, "ds_env_open: %s\n", err);
        abort();
    }

    atexit(fuzz_cleanup);

    return 0;
}


/* empties every database: one input does not see the one before */

static void
fuzz_reset(void)
{
    int        db;
    ds_txn_t  *txn;

    FUZZ_CHECK(ds_txn_begin(env, NULL, 1, &txn) == DS_OK);

    for (db = 0; db < DS_DB_COUNT; db++) {
        FUZZ_CHECK(mdb_drop(txn->txn, ds_dbi(txn, db), 0) == 0);
    }

    FUZZ_CHECK(ds_txn_commit(txn) == DS_OK);

    memset(model, 0, sizeof(model));
}


static int
fuzz_terminal(ds_status_e s)
{
    return s == DS_COMPLETED || s == DS_FAILED || s == DS_CANCELED
           || s == DS_TERMINATED;
}


/* the answer the model expects from an operation on slot k */

static int
fuzz_expect(int op, fuzz_slot_t *m)
{
    switch (op) {

    case FUZZ_START:
        return (m->present && !fuzz_terminal(m->status)) ? DS_CONFLICT
                                                         : DS_OK;

    case FUZZ_TERMINATE:
    case FUZZ_SUSPEND:
    case FUZZ_RESUME:
    case FUZZ_RAISE:
        if (!m->present) {
            return DS_NOTFOUND;
        }

        return fuzz_terminal(m->status) ? DS_GONE : DS_OK;

    case FUZZ_REWIND:
        if (!m->present) {
            return DS_NOTFOUND;
        }

        if (m->status == DS_FAILED) {
            return DS_OK;
        }

        return fuzz_terminal(m->status) ? DS_GONE : DS_PRECONDITION;

    case FUZZ_PURGE:
        if (!m->present) {
            return DS_NOTFOUND;
        }

        return fuzz_terminal(m->status) ? DS_OK : DS_PRECONDITION;

    default:
        return DS_OK;
    }
}


static void
fuzz_apply(int op, fuzz_slot_t *m, int64_t now, unsigned arg)
{
    switch (op) {

    case FUZZ_START:
        m->present = 1;
        m->status = DS_PENDING;
        m->suspended_from = DS_PENDING;
        m->created = now;
        break;

    case FUZZ_TERMINATE:
        m->status = DS_TERMINATED;
        break;

    case FUZZ_SUSPEND:
        if (m->status != DS_SUSPENDED) {
            m->suspended_from = m->status;
            m->status = DS_SUSPENDED;
        }

        break;

    case FUZZ_RESUME:
        if (m->status == DS_SUSPENDED) {
            m->status = (m->suspended_from == DS_SUSPENDED)
                        ? DS_RUNNING : m->suspended_from;
        }

        break;

    case FUZZ_REWIND:
        m->status = DS_RUNNING;
        break;

    case FUZZ_PURGE:
        m->present = 0;
        break;

    case FUZZ_SET_STATUS:
        m->status = fuzz_finished[arg % 3];
        break;

    default:
        break;
    }
}


static int
fuzz_run(ds_txn_t *txn, int op, int k, int64_t now, unsigned arg,
    int *set_status_missing)
{
    int            rc;
    ds_str_t       hub, id, name, json;
    ds_status_e    st;
    ds_instance_t  inst;

    hub = hubs[k / FUZZ_IDS];
    id = ids[k % FUZZ_IDS];
    json = jsons[arg % 4];
    name.data = "Orch";
    name.len = 4;

    switch (op) {

    case FUZZ_START:
        memset(&inst, 0, sizeof(inst));
        rc = ds_op_start(txn, hub, id, name, json, now, &inst);

        if (rc == DS_CONFLICT) {
            FUZZ_CHECK(inst.status == model[k].status);
        }

        if (rc == DS_OK) {
            FUZZ_CHECK(inst.status == DS_PENDING && inst.created == now);
        }

        return rc;

    case FUZZ_TERMINATE:
        return ds_op_terminate(txn, hub, id, json, now);

    case FUZZ_SUSPEND:
        return ds_op_suspend(txn, hub, id, json, now);

    case FUZZ_RESUME:
        return ds_op_resume(txn, hub, id, json, now);

    case FUZZ_REWIND:
        return ds_op_rewind(txn, hub, id, json, now);

    case FUZZ_RAISE:
        return ds_op_raise_event(txn, hub, id, name, json, now);

    case FUZZ_PURGE:
        st = (ds_status_e) -1;
        rc = ds_op_purge(txn, hub, id, &st);

        if (rc == DS_OK || rc == DS_PRECONDITION) {
            FUZZ_CHECK(st == model[k].status);
        }

        return rc;

    case FUZZ_SET_STATUS:
        /*
         * what a worker's final completion does to the record; any other
         * status written raw would leave the ready index behind the inbox,
         * which no real operation does
         */
        rc = ds_instance_get(txn, hub, id, &inst);

        if (rc == DS_NOTFOUND) {
            *set_status_missing = 1;
            return DS_OK;
        }

        FUZZ_CHECK(rc == DS_OK);

        inst.status = fuzz_finished[arg % 3];
        inst.updated = now;
        inst.output = json;

        return ds_instance_put(txn, hub, id, &inst);

    default:
        FUZZ_CHECK(0);
        return DS_ERROR;
    }
}


static int
fuzz_slot_cmp(const void *a, const void *b)
{
    int          x, y, c;
    size_t       xl, yl;
    const char  *xd, *yd;

    x = *(const int *) a;
    y = *(const int *) b;

    if (model[x].created != model[y].created) {
        return model[x].created < model[y].created ? -1 : 1;
    }

    xd = ids[x % FUZZ_IDS].data;
    xl = ids[x % FUZZ_IDS].len;
    yd = ids[y % FUZZ_IDS].data;
    yl = ids[y % FUZZ_IDS].len;

    c = memcmp(xd, yd, xl < yl ? xl : yl);

    return c ? c : (xl > yl) - (xl < yl);
}


static void
fuzz_filter(unsigned arg, int64_t base, ds_query_t *q)
{
    static const int64_t  steps[4] = { 0, 0, 2, 5 };

    memset(q, 0, sizeof(ds_query_t));

    /* zero means "no filter", as in ds_query_t */
    q->created_from = (arg & 0x03) ? base + steps[arg & 0x03] : 0;
    q->created_to = (arg & 0x0c) ? base + 3 * steps[(arg >> 2) & 0x03] : 0;
    q->status_mask = (arg & 0x10) ? (arg * 37u) & 0xff : 0;
}


static int
fuzz_match(const ds_query_t *q, int k)
{
    fuzz_slot_t  *m;

    m = &model[k];

    return m->present
           && (q->status_mask == 0
               || (q->status_mask & DS_STATUS_MASK(m->status)))
           && (q->created_from == 0 || m->created >= q->created_from)
           && (q->created_to == 0 || m->created <= q->created_to);
}


static int
fuzz_list_cb(void *data, ds_str_t id, const ds_instance_t *inst)
{
    int           k;
    fuzz_list_t  *l;

    l = data;

    for (k = l->hub * FUZZ_IDS; k < (l->hub + 1) * FUZZ_IDS; k++) {
        if (ids[k % FUZZ_IDS].len == id.len
            && memcmp(ids[k % FUZZ_IDS].data, id.data, id.len) == 0)
        {
            break;
        }
    }

    FUZZ_CHECK(k < (l->hub + 1) * FUZZ_IDS);
    FUZZ_CHECK(l->n < FUZZ_SLOTS);
    FUZZ_CHECK(inst->status == model[k].status
               && inst->created == model[k].created);

    l->slots[l->n++] = k;

    return 0;
}


static void
fuzz_list(int hub, unsigned arg, unsigned top, int64_t base)
{
    int          want[FUZZ_SLOTS];
    char         token[DS_TOKEN_MAX], tcopy[DS_TOKEN_MAX];
    size_t       i, n, want_n, tlen, pages;
    ds_txn_t    *txn;
    ds_query_t   q;
    fuzz_list_t  got;

    fuzz_filter(arg, base, &q);
    q.top = 1 + top % 4;
    q.scan_budget = (top & 0x10) ? 1 + (top >> 5) : 0;

    want_n = 0;

    for (i = hub * FUZZ_IDS; i < (size_t) (hub + 1) * FUZZ_IDS; i++) {
        if (fuzz_match(&q, (int) i)) {
            want[want_n++] = (int) i;
        }
    }

    qsort(want, want_n, sizeof(int), fuzz_slot_cmp);

    memset(&got, 0, sizeof(got));
    got.hub = hub;

    FUZZ_CHECK(ds_txn_begin(env, NULL, 0, &txn) == DS_OK);

    for (pages = 0; /* void */ ; pages++) {
        FUZZ_CHECK(pages <= 2 * FUZZ_SLOTS + 2);

        tlen = 0;
        FUZZ_CHECK(ds_instance_list(txn, hubs[hub], &q, fuzz_list_cb, &got,
                                    token, &tlen)
                   == DS_OK);

        if (tlen == 0) {
            break;
        }

        memcpy(tcopy, token, tlen);
        q.token.data = tcopy;
        q.token.len = tlen;
    }

    ds_txn_abort(txn);

    FUZZ_CHECK(got.n == want_n);

    for (n = 0; n < want_n; n++) {
        FUZZ_CHECK(got.slots[n] == want[n]);
    }
}


static void
fuzz_purge_many(int hub, unsigned arg, int64_t base)
{
    int          more;
    size_t       i, deleted, total, expect, rounds;
    unsigned     mask;
    ds_txn_t    *txn;
    ds_query_t   q;

    fuzz_filter(arg, base, &q);

    mask = (q.status_mask ? q.status_mask : DS_TERMINAL_MASK)
           & DS_TERMINAL_MASK;

    expect = 0;

    for (i = hub * FUZZ_IDS; i < (size_t) (hub + 1) * FUZZ_IDS; i++) {
        if (fuzz_match(&q, (int) i) && (mask & DS_STATUS_MASK(model[i].status)))
        {
            model[i].present = 0;
            expect++;
        }
    }

    total = 0;

    /* batches of 1 to 3, each its own transaction, as the module runs */

    for (rounds = 0; /* void */ ; rounds++) {
        FUZZ_CHECK(rounds <= FUZZ_SLOTS + 1);
        FUZZ_CHECK(ds_txn_begin(env, NULL, 1, &txn) == DS_OK);
        FUZZ_CHECK(ds_instance_purge(txn, hubs[hub], &q, 1 + (arg >> 6),
                                     &deleted, &more)
                   == DS_OK);
        FUZZ_CHECK(ds_txn_commit(txn) == DS_OK);

        total += deleted;

        if (!more) {
            break;
        }
    }

    FUZZ_CHECK(total == expect);
}


static void
fuzz_verify(void)
{
    int               k;
    size_t            count;
    ds_txn_t         *txn;
    ds_str_t          all;
    ds_instance_t     inst;
    ds_check_stats_t  stats;

    count = 0;

    FUZZ_CHECK(ds_txn_begin(env, NULL, 0, &txn) == DS_OK);

    for (k = 0; k < FUZZ_SLOTS; k++) {
        if (ds_instance_get(txn, hubs[k / FUZZ_IDS], ids[k % FUZZ_IDS],
                            &inst)
            == DS_NOTFOUND)
        {
            FUZZ_CHECK(!model[k].present);
            continue;
        }

        FUZZ_CHECK(model[k].present);
        FUZZ_CHECK(inst.status == model[k].status);
        FUZZ_CHECK(inst.created == model[k].created);
        count++;
    }

    ds_txn_abort(txn);

    all.data = NULL;
    all.len = 0;

    FUZZ_CHECK(ds_check(env, all, NULL, NULL, &stats) == DS_OK);
    FUZZ_CHECK(stats.problems == 0 && stats.instances == count);
    FUZZ_CHECK(stats.by_created == count && stats.by_status == count);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int            op, k, rc, expect, missing;
    size_t         i, nops;
    int64_t        now, base;
    unsigned       arg;
    ds_txn_t      *txn;
    fuzz_slot_t    before;

    if (size < 1) {
        return 0;
    }

    fuzz_reset();

    base = bases[data[0] % 4];
    now = base;

    nops = (size - 1) / 3;
    if (nops > FUZZ_OPS_MAX) {
        nops = FUZZ_OPS_MAX;
    }

    for (i = 0; i < nops; i++) {
        op = data[1 + 3 * i] % FUZZ_NOPS;
        k = data[2 + 3 * i] % FUZZ_SLOTS;
        arg = data[3 + 3 * i];

        /* a clock that may stand still: ties in created time */
        now += arg & 0x03;

        switch (op) {

        case FUZZ_PURGE_MANY:
            fuzz_purge_many(k / FUZZ_IDS, arg, base);
            break;

        case FUZZ_LIST:
            fuzz_list(k / FUZZ_IDS, arg, data[2 + 3 * i] >> 4, base);
            break;

        case FUZZ_ABORTED:
            /* any write, then abort: nothing may change */
            FUZZ_CHECK(ds_txn_begin(env, NULL, 1, &txn) == DS_OK);
            missing = 0;
            (void) fuzz_run(txn, arg % FUZZ_PURGE_MANY, k, now, arg,
                            &missing);
            ds_txn_abort(txn);
            break;

        default:
            before = model[k];
            expect = fuzz_expect(op, &model[k]);

            FUZZ_CHECK(ds_txn_begin(env, NULL, 1, &txn) == DS_OK);

            missing = 0;
            rc = fuzz_run(txn, op, k, now, arg, &missing);

            if (rc != expect) {
                fprintf(stderr, "op %d slot %d: rc %d (%s), model %d\n",
                        op, k, rc, ds_txn_error(txn), expect);
            }

            FUZZ_CHECK(rc == expect);

            /* refusals leave the transaction untouched: commit them */
            FUZZ_CHECK(ds_txn_commit(txn) == DS_OK);

            if (rc == DS_OK && !missing) {
                fuzz_apply(op, &model[k], now, arg);

            } else {
                FUZZ_CHECK(memcmp(&before, &model[k], sizeof(before)) == 0);
            }

            break;
        }

        fuzz_verify();
    }

    return 0;
}
