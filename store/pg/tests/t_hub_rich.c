
/*
 * Copyright (C) ngx_durable authors
 *
 * Makes a hub that holds every kind of record, through the LMDB store's
 * own operations, for the test that moves a hub LMDB -> PostgreSQL ->
 * LMDB (move.sh): orchestrations with histories, Completed, Failed with
 * details, Terminated, Suspended, Pending with an SDK's version, tags and
 * schedule; a sub-orchestration; timers pending; activities pending,
 * leased and completed (a tombstone), two with a gRPC call's version or
 * tags; entities with state, queued operations, a lease, and one locked
 * by a critical section; a raised event waiting in an inbox.
 *
 *   t_hub_rich DIR HUB
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "durable_store.h"


#define T_DAY       (86400 * (int64_t) 1000000)
#define T_LEASE     (600 * (int64_t) 1000000)


static ds_env_t   *t_env;
static ds_str_t    t_hub;
static int64_t     t_now;


static ds_str_t
t_s(const char *s)
{
    ds_str_t  r;

    r.data = s;
    r.len = s ? strlen(s) : 0;

    return r;
}


static const uint8_t *
t_tok(int n)
{
    static uint8_t  tok[8][DS_LEASE_LEN];

    memset(tok[n], 0xa0 + n, DS_LEASE_LEN);

    return tok[n];
}


static void
t_fail(const char *what, int rc)
{
    fprintf(stderr, "t_hub_rich: %s: %s\n", what, ds_strerror(rc));
    exit(1);
}


static ds_txn_t *
t_begin(void)
{
    ds_txn_t  *txn;

    if (ds_txn_begin(t_env, NULL, 1, &txn) != DS_OK) {
        t_fail("begin", DS_ERROR);
    }

    return txn;
}


static void
t_commit(ds_txn_t *txn, const char *what)
{
    int  rc;

    rc = ds_txn_commit(txn);
    if (rc != DS_OK) {
        t_fail(what, rc);
    }
}


static void
t_ok(int rc, const char *what)
{
    if (rc != DS_OK) {
        t_fail(what, rc);
    }
}


static int
t_item(void *data, ds_txn_t *txn, const ds_work_item_t *item)
{
    (void) data;
    (void) txn;
    (void) item;

    return 0;
}


static size_t
t_claim(ds_work_kind_e kind, size_t max, int tok)
{
    size_t     claimed, i;
    ds_txn_t  *txn;
    uint8_t    tokens[8 * DS_LEASE_LEN];

    for (i = 0; i < max; i++) {
        memcpy(tokens + i * DS_LEASE_LEN, t_tok(tok), DS_LEASE_LEN);
    }

    txn = t_begin();
    t_ok(ds_work_claim(txn, t_hub, kind, t_now, T_LEASE, max, tokens, NULL,
                       t_item, NULL, &claimed), "claim");
    t_commit(txn, "claim");

    return claimed;
}


static ds_action_t
t_act(ds_action_type_e type, int64_t id, const char *name,
    const char *input)
{
    ds_action_t  a;

    memset(&a, 0, sizeof(ds_action_t));
    a.type = type;
    a.id = id;
    a.name = t_s(name);
    a.input = t_s(input);

    return a;
}


static void
t_complete(const char *id, const ds_action_t *a, size_t n)
{
    ds_txn_t     *txn;
    ds_status_e   st;

    txn = t_begin();
    t_ok(ds_work_complete_orchestration(txn, t_hub, t_s(id), t_tok(1), a, n,
                                        t_now, &st), id);
    t_commit(txn, id);
}


int
main(int argc, char **argv)
{
    char             err[256];
    size_t           n;
    ds_str_t         lock_set[1];
    ds_txn_t        *txn;
    ds_action_t      a[8];
    ds_env_conf_t    conf;
    ds_instance_t    inst;
    ds_start_opts_t  opts;

    if (argc != 3 && !(argc == 4 && strcmp(argv[3], "scheduled") == 0)) {
        fprintf(stderr, "usage: t_hub_rich DIR HUB [scheduled]\n");
        return 2;
    }

    memset(&conf, 0, sizeof(ds_env_conf_t));
    conf.path = argv[1];
    conf.map_size = (size_t) 64 << 20;

    if (ds_env_open(&t_env, &conf, err, sizeof(err)) != DS_OK) {
        fprintf(stderr, "t_hub_rich: %s\n", err);
        return 1;
    }

    t_hub = t_s(argv[2]);
    t_now = ds_time_now();

    if (argc == 4) {
        /* only an entity signal held by a timer for an hour */
        txn = t_begin();
        t_ok(ds_entity_signal_at(txn, t_hub, t_s("counter"), t_s("later"),
                                 t_s("add"), t_s("1"),
                                 t_now + 3600 * (int64_t) 1000000, t_now),
             "scheduled signal");
        t_commit(txn, "scheduled signal");
        ds_env_close(t_env);
        return 0;
    }

    /* starts, an SDK's among them, and signals */

    txn = t_begin();
    t_ok(ds_op_start(txn, t_hub, t_s("parent"), t_s("Parent"),
                     t_s("{\"n\":1}"), t_now, &inst), "start parent");
    t_ok(ds_op_start(txn, t_hub, t_s("done"), t_s("Hello"), t_s("\"x\""),
                     t_now, &inst), "start done");
    t_ok(ds_op_start(txn, t_hub, t_s("fails"), t_s("Hello"), t_s(NULL),
                     t_now, &inst), "start fails");
    t_ok(ds_op_start(txn, t_hub, t_s("waiting"), t_s("Waiter"),
                     t_s("[1,2]"), t_now, &inst), "start waiting");
    t_ok(ds_op_start(txn, t_hub, t_s("stopped"), t_s("Hello"), t_s("1"),
                     t_now, &inst), "start stopped");
    t_ok(ds_op_start(txn, t_hub, t_s("paused"), t_s("Hello"), t_s("2"),
                     t_now, &inst), "start paused");

    memset(&opts, 0, sizeof(ds_start_opts_t));
    opts.version = t_s("1.2");
    opts.tags = t_s("{\"team\":\"a\\\"b\"}");
    opts.scheduled = t_now + T_DAY;

    t_ok(ds_op_start_opts(txn, t_hub, t_s("sdk"), t_s("Hello"),
                          t_s("{\"s\":\"\\u00e9\\n\"}"), &opts, t_now, &inst),
         "start sdk");
    t_ok(ds_entity_signal(txn, t_hub, t_s("counter"), t_s("k1"), t_s("add"),
                          t_s("5"), t_now), "signal k1");
    t_ok(ds_entity_signal(txn, t_hub, t_s("counter"), t_s("k2"), t_s("add"),
                          t_s("1"), t_now), "signal k2");
    t_commit(txn, "starts");

    /* every orchestration ready (not the scheduled one) */

    n = t_claim(DS_WORK_ORCHESTRATION, 8, 1);
    if (n != 6) {
        fprintf(stderr, "t_hub_rich: %zu orchestrations claimed\n", n);
        return 1;
    }

    a[0] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 0, "Say", "\"hi\"");
    a[1] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 1, "Say", "\"ho\"");
    a[1].version = t_s("2.0");
    a[1].tags = t_s("{\"team\":\"a\\\"b\"}");
    a[2] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 2, "Say", NULL);
    a[2].tags = t_s("{\"only\":\"tags\"}");
    a[3] = t_act(DS_ACT_CREATE_TIMER, 3, NULL, NULL);
    a[3].fire_at = t_now + T_DAY;
    a[4] = t_act(DS_ACT_START_SUB, 4, "Child", "{\"c\":1}");
    a[4].instance_id = t_s("parent:child");
    a[5] = t_act(DS_ACT_SIGNAL_ENTITY, 5, "add", "2");
    a[5].entity_name = t_s("counter");
    a[5].entity_key = t_s("k1");
    a[6] = t_act(DS_ACT_LOCK_ENTITIES, 6, NULL, NULL);
    lock_set[0] = t_s("@lockme@1");
    a[6].lock_set = lock_set;
    a[6].nlock = 1;
    a[6].request_id = t_s("cs-1");
    t_complete("parent", a, 7);

    a[0] = t_act(DS_ACT_COMPLETE, 0, NULL, "\"bye\"");
    t_complete("done", a, 1);

    a[0] = t_act(DS_ACT_FAIL, 0, NULL, NULL);
    a[0].reason = t_s("\"boom\"");
    a[0].details = t_s("{\"type\":\"E\",\"stack\":\"at x\"}");
    t_complete("fails", a, 1);

    a[0] = t_act(DS_ACT_SET_CUSTOM_STATUS, 0, NULL, "{\"step\":1}");
    a[1] = t_act(DS_ACT_CREATE_TIMER, 1, NULL, NULL);
    a[1].fire_at = t_now + 2 * T_DAY;
    t_complete("waiting", a, 2);

    t_complete("stopped", a, 0);
    t_complete("paused", a, 0);

    txn = t_begin();
    t_ok(ds_op_terminate(txn, t_hub, t_s("stopped"), t_s("\"enough\""),
                         t_now), "terminate");
    t_ok(ds_op_suspend(txn, t_hub, t_s("paused"), t_s("\"wait\""), t_now),
         "suspend");
    t_ok(ds_op_raise_event(txn, t_hub, t_s("waiting"), t_s("Go"),
                           t_s("{\"a\":1}"), t_now), "raise");
    t_commit(txn, "control");

    /* activities: one completed (a tombstone), one leased, one waiting */

    if (t_claim(DS_WORK_ACTIVITY, 1, 2) != 1
        || t_claim(DS_WORK_ACTIVITY, 1, 3) != 1)
    {
        fprintf(stderr, "t_hub_rich: activities not claimed\n");
        return 1;
    }

    txn = t_begin();
    t_ok(ds_work_complete_activity(txn, t_hub, t_s("parent"), 0, t_tok(2), 0,
                                   t_s("\"said hi\""), t_s(NULL), t_s(NULL),
                                   t_now), "activity");
    t_commit(txn, "activity");

    /* entities: state, a lease held, queued operations, a lock */

    n = t_claim(DS_WORK_ENTITY, 8, 4);
    if (n < 2) {
        fprintf(stderr, "t_hub_rich: %zu entities claimed\n", n);
        return 1;
    }

    txn = t_begin();
    t_ok(ds_work_complete_entity(txn, t_hub, t_s("counter"), t_s("k1"),
                                 t_tok(4), 0, t_s("{\"n\":7}"), t_now),
         "entity");
    t_ok(ds_entity_signal(txn, t_hub, t_s("counter"), t_s("k1"), t_s("add"),
                          t_s("3"), t_now), "signal again");
    t_ok(ds_entity_signal(txn, t_hub, t_s("counter"), t_s("k2"), t_s("get"),
                          t_s(NULL), t_now), "signal k2 again");
    t_commit(txn, "entities");

    ds_env_close(t_env);

    return 0;
}
