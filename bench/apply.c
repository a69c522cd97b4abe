/*
 * Copyright (C) ngx_durable authors
 *
 * bench/apply: the writer's serial section of the end-to-end row, without
 * nginx, HTTP or a worker. Runs N hello-sequence orchestrations (start;
 * then five times: claim the orchestration, complete it scheduling the
 * next activity, claim the activity, complete it; then claim and complete
 * the orchestration with its output) through the store's operation layer
 * (ds_op_batch(): apply every op, then one commit), GROUP orchestrations
 * at a time, one step of each per write transaction, as the module's
 * writer batches them. Claims render their items' history and messages
 * as the module does (ds_op_item_events()). The environment is opened
 * with MDB_NOSYNC so the disk is out of it: run it under
 * `valgrind --tool=callgrind` for instructions per orchestration.
 *
 *   apply -p DIR [-n COUNT] [-g GROUP] [-m MAP_BYTES]
 *
 * DIR must exist and be empty (or hold an earlier run's store: its ids
 * are not reused). Prints the transactions, ops, ops/s and the time per
 * orchestration.
 */

#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "durable_store.h"

#include "util.h"


#define ACTIVITIES      5
#define CLAIM_MAX       100
#define GROUP_MAX       4096
#define LAST_STEP       (2 * ACTIVITIES + 1)


typedef struct {
    char            id[64];
    uint8_t         lease[DS_LEASE_LEN];
    int64_t         task;           /* claimed activity's EventId */
    ds_action_t     act;
    ds_op_t         op;
} orch_t;


typedef struct {
    orch_t         *orchs;
    size_t          first;          /* the group's first index */
    size_t          n;              /* the group's size */
    size_t          events;         /* rendered, for a sanity check */
    size_t          bytes;
    char           *prefix;
} run_t;


#define CLAIMS_MAX      ((GROUP_MAX + CLAIM_MAX - 1) / CLAIM_MAX)


static uint8_t      tokens[CLAIMS_MAX][CLAIM_MAX * DS_LEASE_LEN];
static uint64_t     token_seq;


static ds_str_t
str(const char *s)
{
    ds_str_t  r;

    r.data = s;
    r.len = strlen(s);

    return r;
}


/* fresh lease tokens for one claim: never reused within a run */

static void
new_tokens(uint8_t *t)
{
    size_t  i;

    for (i = 0; i < CLAIM_MAX; i++) {
        token_seq++;
        memset(t + i * DS_LEASE_LEN, 0xa5, DS_LEASE_LEN);
        memcpy(t + i * DS_LEASE_LEN, &token_seq, sizeof(token_seq));
    }
}


static int
count_event(void *data, uint64_t seq, ds_str_t ev)
{
    run_t  *r = data;

    (void) seq;

    r->events++;
    r->bytes += ev.len;

    return 0;
}


/* the orchestration of an item id: PREFIX<index> */

static orch_t *
item_orch(run_t *r, const ds_work_item_t *it)
{
    size_t  plen, i, k;

    plen = strlen(r->prefix);

    if (it->id.len <= plen || memcmp(it->id.data, r->prefix, plen) != 0) {
        return NULL;
    }

    /* the id is not NUL-terminated */
    for (i = 0, k = plen; k < it->id.len; k++) {
        if (it->id.data[k] < '0' || it->id.data[k] > '9') {
            return NULL;
        }

        i = i * 10 + (size_t) (it->id.data[k] - '0');
    }

    if (i < r->first || i >= r->first + r->n) {
        return NULL;
    }

    return &r->orchs[i];
}


static int
claimed_item(void *data, ds_op_t *op, const ds_work_item_t *it)
{
    run_t   *r = data;
    orch_t  *o;

    o = item_orch(r, it);
    if (o == NULL) {
        fprintf(stderr, "apply: unexpected item %.*s\n", (int) it->id.len,
                it->id.data);
        return 1;
    }

    memcpy(o->lease, it->lease, DS_LEASE_LEN);
    o->task = it->task_id;

    if (it->kind == DS_WORK_ORCHESTRATION) {
        if (ds_op_item_events(op, it, DS_LIST_HISTORY, count_event, r)
            != DS_OK
            || ds_op_item_events(op, it, DS_LIST_MESSAGES, count_event, r)
               != DS_OK)
        {
            return 1;
        }
    }

    return 0;
}


static void
usage(void)
{
    fprintf(stderr, "usage: apply -p DIR [-n COUNT] [-g GROUP] "
            "[-m MAP_BYTES]\n");
    exit(2);
}


int
main(int argc, char **argv)
{
    int             c, rc;
    char            err[256], prefix[32];
    double          t0, dt;
    size_t          n, group, i, j, k, step, txns, ops, nclaims;
    ds_op_t         claims[CLAIMS_MAX];
    ds_op_t        *head, **tail;
    ds_env_t       *env;
    ds_str_t        hub, input, result, output, act_name;
    orch_t         *orchs, *o;
    run_t           run;
    ds_env_conf_t   conf;

    memset(&conf, 0, sizeof(conf));
    conf.sync = DS_SYNC_NONE;
    conf.map_size = (size_t) 1 << 30;
    n = 2900;
    group = 58;

    while ((c = getopt(argc, argv, "p:n:g:m:")) != -1) {
        switch (c) {
        case 'p': conf.path = optarg; break;
        case 'n': n = strtoull(optarg, NULL, 10); break;
        case 'g': group = strtoull(optarg, NULL, 10); break;
        case 'm': conf.map_size = strtoull(optarg, NULL, 10); break;
        default: usage();
        }
    }

    if (conf.path == NULL || n == 0 || group == 0 || group > GROUP_MAX) {
        usage();
    }

    rc = ds_env_open(&env, &conf, err, sizeof(err));
    if (rc != DS_OK) {
        fprintf(stderr, "apply: %s\n", err);
        return 1;
    }

    orchs = calloc(n, sizeof(orch_t));
    if (orchs == NULL) {
        fprintf(stderr, "apply: out of memory\n");
        return 1;
    }

    /* a run's own ids, so that a store left by another run can be reused */
    snprintf(prefix, sizeof(prefix), "h%lx-", (unsigned long) time(NULL));

    hub = str("Bench");
    input = str("\"World\"");
    act_name = str("SayHello");
    result = str("\"Hello, World!\"");
    output = str("[\"Hello, World!\",\"Hello, World!\",\"Hello, World!\","
                 "\"Hello, World!\",\"Hello, World!\"]");

    memset(&run, 0, sizeof(run));
    run.orchs = orchs;
    run.prefix = prefix;

    txns = 0;
    ops = 0;
    t0 = now_s();

    for (i = 0; i < n; i += group) {
        run.first = i;
        run.n = (n - i < group) ? n - i : group;

        /*
         * Step 0: the starts; odd steps complete the orchestrations, even
         * ones the activities. Each batch ends with the claims of the
         * items the next step completes, as a worker's completion that
         * also claims the next items does.
         */

        for (step = 0; step <= LAST_STEP; step++) {
            head = NULL;
            tail = &head;
            nclaims = 0;

            for (j = run.first; j < run.first + run.n; j++) {
                o = &orchs[j];
                memset(&o->op, 0, sizeof(ds_op_t));
                o->op.hub = hub;

                if (step == 0) {
                    snprintf(o->id, sizeof(o->id), "%s%zu", prefix, j);
                    o->op.type = DS_OP_START;
                    o->op.in.start.id = str(o->id);
                    o->op.in.start.name = str("HelloSequence");
                    o->op.in.start.input = input;

                } else if (step % 2) {
                    memset(&o->act, 0, sizeof(ds_action_t));

                    if (step < LAST_STEP) {
                        o->act.type = DS_ACT_SCHEDULE_ACTIVITY;
                        o->act.id = (int64_t) (step / 2);
                        o->act.name = act_name;
                        o->act.input = input;

                    } else {
                        o->act.type = DS_ACT_COMPLETE;
                        o->act.input = output;
                    }

                    o->op.type = DS_OP_WORK_COMPLETE;
                    o->op.in.work.kind = DS_WORK_ORCHESTRATION;
                    o->op.in.work.id = str(o->id);
                    o->op.in.work.lease = o->lease;
                    o->op.in.work.actions = &o->act;
                    o->op.in.work.nactions = 1;

                } else {
                    o->op.type = DS_OP_WORK_COMPLETE;
                    o->op.in.work.kind = DS_WORK_ACTIVITY;
                    o->op.in.work.id = str(o->id);
                    o->op.in.work.task = o->task;
                    o->op.in.work.lease = o->lease;
                    o->op.in.work.result = result;
                }

                *tail = &o->op;
                tail = &o->op.next;
            }

            if (step < LAST_STEP) {
                /* enough claims of CLAIM_MAX for the next step's items */
                for (k = 0; k < run.n; k += CLAIM_MAX) {
                    ds_op_t  *cl = &claims[nclaims];

                    new_tokens(tokens[nclaims++]);
                    memset(cl, 0, sizeof(ds_op_t));
                    cl->type = DS_OP_WORK_CLAIM;
                    cl->hub = hub;
                    cl->in.claim.kind = (step % 2) ? DS_WORK_ACTIVITY
                                                   : DS_WORK_ORCHESTRATION;
                    cl->in.claim.lease_us = 60 * 1000000LL;
                    cl->in.claim.max = CLAIM_MAX;
                    cl->in.claim.tokens = tokens[nclaims - 1];
                    cl->in.claim.item = claimed_item;
                    cl->in.claim.item_data = &run;

                    *tail = cl;
                    tail = &cl->next;
                }
            }

            *tail = NULL;

            if (ds_op_batch(env, head) != 0) {
                fprintf(stderr, "apply: a batch ran again in nested txns\n");
                return 1;
            }

            txns++;

            for (k = 0, j = 0; k < nclaims; k++) {
                ops++;
                j += claims[k].out.claim.claimed;

                if (claims[k].rc != DS_OK) {
                    fprintf(stderr, "apply: claim: %s\n",
                            ds_strerror(claims[k].rc));
                    return 1;
                }
            }

            if (step < LAST_STEP && j != run.n) {
                fprintf(stderr, "apply: step %zu claimed %zu of %zu\n",
                        step, j, run.n);
                return 1;
            }

            for (j = run.first; j < run.first + run.n; j++) {
                ops++;

                if (orchs[j].op.rc != DS_OK) {
                    fprintf(stderr, "apply: step %zu of %s: %s\n", step,
                            orchs[j].id, ds_strerror(orchs[j].op.rc));
                    return 1;
                }
            }
        }

        /* every orchestration of the group must have completed */
        for (j = run.first; j < run.first + run.n; j++) {
            if (orchs[j].op.out.work.status != DS_COMPLETED) {
                fprintf(stderr, "apply: %s did not complete\n",
                        orchs[j].id);
                return 1;
            }
        }
    }

    dt = now_s() - t0;

    ds_env_close(env);

    printf("%zu orchestrations in %.3f s: %.0f orch/s, %.1f us each; "
           "%zu ops in %zu txns, %.0f ops/s; %.1f events rendered each\n",
           n, dt, n / dt, dt * 1e6 / n, ops, txns, ops / dt,
           (double) run.events / n);

    free(orchs);

    return 0;
}
