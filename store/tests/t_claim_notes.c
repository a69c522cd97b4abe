/*
 * Copyright (C) ngx_durable authors
 *
 * Claims of a batch render their items after its commit (ds_claim_notes.c):
 * the item as the claim saw it, in a read txn, and none whose lease was
 * ended by another write in between; entities stay rendered in the txn.
 */


#define _GNU_SOURCE             /* memmem() */

#include <stdlib.h>

#include "t_work.h"
#include "ds_internal.h"


#define T_NOW       1520690251123400LL
#define T_LEASE_US  30000000LL


typedef struct {
    size_t          begun;
    size_t          items;
    size_t          history;        /* events of the last item */
    size_t          messages;
    int             suspended;      /* its history holds the suspension */
    int             read_txn;       /* rendered in a read txn */
    size_t          fail;           /* the callback answers nonzero for
                                       this item (1: the first); 0: none */
    void           *spare;          /* the env's spare reader then */
    char            id[64];
    int64_t         task_id;
    uint8_t         lease[DS_LEASE_LEN];
} t_seen_t;


static ds_op_t t_cn_claim(ds_work_kind_e kind, const uint8_t *tokens,
    t_seen_t *seen, int64_t now);
static void t_cn_noted(ds_env_t *env, ds_op_t *claim, dsi_claim_notes_t *cn);
static int t_cn_apply(ds_env_t *env, ds_op_t *op);
static void t_cn_raise(ds_env_t *env, const char *id, const char *name,
    int64_t now);
static void t_cn_abandon(ds_env_t *env, const char *id,
    const uint8_t *lease, int64_t now);
static ds_op_t t_cn_start_op(const char *id, int64_t now);
static void t_cn_start(ds_env_t *env, const char *id, int64_t now);
static void t_cn_episode(ds_env_t *env, const char *id,
    const uint8_t *token, int64_t now, ds_action_type_e type);
static void t_cn_begin(void *data);
static int t_cn_item(void *data, ds_op_t *op, const ds_work_item_t *item);
static int t_cn_history(void *data, uint64_t seq, ds_str_t event);
static int t_cn_message(void *data, uint64_t seq, ds_str_t event);
static void t_cn_terminated(void);
static void t_cn_suspended(void);
static void t_cn_failed(void);
static void t_cn_entities(void);
static void t_cn_batch(void);
static void t_cn_redone(void);
static void t_cn_spare(void);
static void t_cn_some(void);
static void t_cn_failed_late(void);


void
t_claim_notes(void)
{
    t_cn_terminated();
    t_cn_suspended();
    t_cn_failed();
    t_cn_entities();
    t_cn_batch();
    t_cn_redone();
    t_cn_spare();
    t_cn_some();
    t_cn_failed_late();
}


/* an orchestration and an activity ended between the commit and render */

static void
t_cn_terminated(void)
{
    char               *dir, err[128];
    uint8_t             tokens[DS_LEASE_LEN];
    ds_op_t             op, claim;
    ds_env_t           *env;
    t_seen_t            seen;
    dsi_claim_notes_t   cn;

    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);
    memset(&cn, 0, sizeof(cn));
    memset(tokens, 3, sizeof(tokens));

    t_cn_start(env, "t", T_NOW);

    claim = t_cn_claim(DS_WORK_ORCHESTRATION, tokens, &seen, T_NOW + 1);
    t_cn_noted(env, &claim, &cn);

    /* noted, not handed over: the claim counts it, the callback has not run */
    T_INT(cn.n, 1);
    T_INT(claim.out.claim.claimed, 1);
    T_INT(seen.begun, 1);
    T_INT(seen.items, 0);

    op = t_op_of(DS_OP_TERMINATE, "t", T_NOW + 2);
    T_INT(t_cn_apply(env, &op), DS_OK);

    err[0] = '\0';
    dsi_claim_notes_render(env, &cn, err, sizeof(err));

    T_INT(claim.rc, DS_OK);
    T_INT(seen.items, 0);
    T_INT(claim.out.claim.claimed, 0);
    T_INT(cn.n, 0);
    T(err[0] == '\0');

    /* an activity whose instance ends meanwhile: dropped with it */

    t_cn_start(env, "u", T_NOW + 3);

    t_cn_episode(env, "u", tokens, T_NOW + 4, DS_ACT_SCHEDULE_ACTIVITY);

    claim = t_cn_claim(DS_WORK_ACTIVITY, tokens, &seen, T_NOW + 6);
    t_cn_noted(env, &claim, &cn);
    T_INT(cn.n, 1);

    op = t_op_of(DS_OP_TERMINATE, "u", T_NOW + 7);
    T_INT(t_cn_apply(env, &op), DS_OK);

    dsi_claim_notes_render(env, &cn, err, sizeof(err));
    T_INT(claim.rc, DS_OK);
    T_INT(seen.items, 0);
    T_INT(claim.out.claim.claimed, 0);

    /* with nothing in between, the activity is handed over */

    t_cn_start(env, "v", T_NOW + 8);

    t_cn_episode(env, "v", tokens, T_NOW + 9, DS_ACT_SCHEDULE_ACTIVITY);

    claim = t_cn_claim(DS_WORK_ACTIVITY, tokens, &seen, T_NOW + 11);
    t_cn_noted(env, &claim, &cn);
    dsi_claim_notes_render(env, &cn, err, sizeof(err));
    T_INT(claim.rc, DS_OK);
    T_INT(seen.items, 1);
    T_INT(claim.out.claim.claimed, 1);
    T(strcmp(seen.id, "v") == 0);
    T_INT(seen.task_id, 0);
    T(seen.read_txn);

    dsi_claim_notes_free(&cn);
    T(t_consistent(env, t_s("Hub"), NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * A suspension appends to the history and keeps the lease: the item is
 * not as claimed, and is given back, not handed over. Resumed, it is
 * claimable at once, its history holding both, and the messages the
 * first claim had.
 */

static void
t_cn_suspended(void)
{
    char               *dir, err[128];
    size_t              history;
    uint8_t             tokens[DS_LEASE_LEN];
    ds_op_t             op, claim;
    ds_env_t           *env;
    t_seen_t            seen;
    dsi_claim_notes_t   cn;

    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);
    memset(&cn, 0, sizeof(cn));
    memset(tokens, 4, sizeof(tokens));

    t_cn_start(env, "s", T_NOW);

    /* a first episode, so that the history is not empty */

    t_cn_episode(env, "s", tokens, T_NOW + 1, DS_ACT_SET_CUSTOM_STATUS);

    t_cn_raise(env, "s", "Go", T_NOW + 3);

    /* the history as a claim in its txn sees it */

    claim = t_cn_claim(DS_WORK_ORCHESTRATION, tokens, &seen, T_NOW + 4);
    T_INT(t_cn_apply(env, &claim), DS_OK);
    T_INT(seen.items, 1);
    T(!seen.read_txn);
    T(!seen.suspended);
    history = seen.history;
    T(history > 0);
    T_INT(seen.messages, 1);

    t_cn_abandon(env, "s", seen.lease, T_NOW + 5);

    /* a message delivered meanwhile changes nothing the item shows */

    claim = t_cn_claim(DS_WORK_ORCHESTRATION, tokens, &seen, T_NOW + 6);
    t_cn_noted(env, &claim, &cn);
    T_INT(cn.n, 1);

    t_cn_raise(env, "s", "Later", T_NOW + 7);

    dsi_claim_notes_render(env, &cn, err, sizeof(err));
    T_INT(claim.rc, DS_OK);
    T_INT(seen.items, 1);
    T(seen.read_txn);
    T_INT(seen.history, history);
    T_INT(seen.messages, 1);
    T_INT(cn.outcome.left_out, 0);

    t_cn_abandon(env, "s", seen.lease, T_NOW + 8);

    /* noted, then suspended: left out and given back */

    claim = t_cn_claim(DS_WORK_ORCHESTRATION, tokens, &seen, T_NOW + 9);
    t_cn_noted(env, &claim, &cn);
    T_INT(cn.n, 1);

    /*
     * at the time of the record's last write (T_NOW + 2, the episode's
     * completion): its updated time moves all the same
     */
    op = t_op_of(DS_OP_SUSPEND, "s", T_NOW + 2);
    op.in.control.data = t_s("\"wait\"");
    T_INT(t_cn_apply(env, &op), DS_OK);

    dsi_claim_notes_render(env, &cn, err, sizeof(err));
    T_INT(claim.rc, DS_OK);
    T_INT(seen.items, 0);
    T_INT(claim.out.claim.claimed, 0);
    T_INT(cn.outcome.left_out, 1);

    /* resumed: claimable at once, not when the lease runs out */

    op = t_op_of(DS_OP_RESUME, "s", T_NOW + 11);
    op.in.control.data = t_s("\"go\"");
    T_INT(t_cn_apply(env, &op), DS_OK);

    claim = t_cn_claim(DS_WORK_ORCHESTRATION, tokens, &seen, T_NOW + 12);
    T_INT(ds_op_batch(env, &claim), 0);
    T_INT(claim.rc, DS_OK);
    T_INT(seen.items, 1);
    T(seen.suspended);
    T_INT(seen.history, history + 2);
    T_INT(seen.messages, 2);

    dsi_claim_notes_free(&cn);
    T(t_consistent(env, t_s("Hub"), NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/* a callback that fails after the commit fails its op; leases given up */

static void
t_cn_failed(void)
{
    char               *dir, err[128];
    uint8_t             tokens[DS_LEASE_LEN];
    ds_op_t             claim;
    ds_env_t           *env;
    t_seen_t            seen;
    dsi_claim_notes_t   cn;

    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);
    memset(&cn, 0, sizeof(cn));
    memset(tokens, 5, sizeof(tokens));

    t_cn_start(env, "f", T_NOW);

    claim = t_cn_claim(DS_WORK_ORCHESTRATION, tokens, &seen, T_NOW + 1);
    seen.fail = 1;
    t_cn_noted(env, &claim, &cn);

    err[0] = '\0';
    dsi_claim_notes_render(env, &cn, err, sizeof(err));
    T_INT(claim.rc, DS_ERROR);
    T_INT(seen.items, 1);
    T_INT(claim.out.claim.claimed, 0);
    T(strstr(err, "rendering a claimed item") != NULL);

    /* its lease was given up: claimable at once, as if never claimed */

    claim = t_cn_claim(DS_WORK_ORCHESTRATION, tokens, &seen, T_NOW + 2);
    T_INT(ds_op_batch(env, &claim), 0);
    T_INT(claim.rc, DS_OK);
    T_INT(seen.items, 1);
    T(strcmp(seen.id, "f") == 0);
    T_INT(seen.messages, 1);

    dsi_claim_notes_free(&cn);
    ds_env_close(env);
    t_rmdir(dir);
}


/* an entity's operations are read in the claim's txn, never noted */

static void
t_cn_entities(void)
{
    char               *dir;
    size_t              claimed;
    uint8_t             tokens[DS_LEASE_LEN];
    ds_op_t             op, claim;
    ds_env_t           *env;
    ds_txn_t           *txn;
    t_seen_t            seen;
    dsi_claim_notes_t   cn;

    T(dsi_work_notes(DS_WORK_ORCHESTRATION));
    T(dsi_work_notes(DS_WORK_ACTIVITY));
    T(!dsi_work_notes(DS_WORK_ENTITY));

    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);
    memset(&cn, 0, sizeof(cn));
    memset(tokens, 6, sizeof(tokens));

    op = t_op_of(DS_OP_ENTITY_SIGNAL, "", T_NOW);
    op.in.entity.name = t_s("Counter");
    op.in.entity.key = t_s("c1");
    op.in.entity.operation = t_s("add");
    op.in.entity.input = t_s("1");
    T_INT(t_cn_apply(env, &op), DS_OK);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(dsi_work_claim_noted(txn, t_s("Hub"), DS_WORK_ENTITY, T_NOW + 1,
                               T_LEASE_US, 1, tokens, NULL, NULL, NULL,
                               &claimed), DS_INVALID);
    ds_txn_abort(txn);

    claim = t_cn_claim(DS_WORK_ENTITY, tokens, &seen, T_NOW + 2);
    t_cn_noted(env, &claim, &cn);
    T_INT(cn.n, 0);
    T_INT(seen.items, 1);
    T(!seen.read_txn);
    T(strcmp(seen.id, "@counter@c1") == 0);
    T_INT(seen.messages, 1);

    dsi_claim_notes_free(&cn);
    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * Through ds_op_batch(): the items of several claims, each to its own op,
 * in a read txn, past a refusal in the same batch.
 */

static void
t_cn_batch(void)
{
    char      *dir;
    uint8_t    tokens[2 * DS_LEASE_LEN];
    ds_op_t    ops[3];
    ds_env_t  *env;
    t_seen_t   seen[2];

    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);
    memset(tokens, 8, sizeof(tokens));

    t_cn_start(env, "b1", T_NOW);

    t_cn_start(env, "b2", T_NOW + 1);

    ops[0] = t_cn_claim(DS_WORK_ORCHESTRATION, tokens, &seen[0], T_NOW + 2);
    ops[1] = t_cn_claim(DS_WORK_ORCHESTRATION, tokens + DS_LEASE_LEN,
                        &seen[1], T_NOW + 2);

    /* a start whose instance exists: a refusal, the batch goes on */
    ops[2] = t_cn_start_op("b1", T_NOW + 2);

    ops[0].next = &ops[1];
    ops[1].next = &ops[2];

    T_INT(ds_op_batch(env, ops), 0);
    T_INT(ops[0].rc, DS_OK);
    T_INT(ops[1].rc, DS_OK);
    T_INT(ops[2].rc, DS_CONFLICT);
    T_INT(seen[0].items, 1);
    T_INT(seen[1].items, 1);
    T(seen[0].read_txn && seen[1].read_txn);
    T(strcmp(seen[0].id, "b1") == 0);
    T(strcmp(seen[1].id, "b2") == 0);
    T_INT(seen[0].messages, 1);
    T_INT(seen[1].messages, 1);
    T(memcmp(seen[1].lease, tokens + DS_LEASE_LEN, DS_LEASE_LEN) == 0);

    T(t_consistent(env, t_s("Hub"), NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * A batch that runs again nested (an op after the claim fails once it
 * has written): the first pass's notes are void, the item is rendered once
 */

static void
t_cn_redone(void)
{
    char      *dir, *big;
    size_t     size;
    uint8_t    tokens[DS_LEASE_LEN];
    ds_op_t    ops[3];
    ds_env_t  *env;
    t_seen_t   seen;

    dir = t_tmpdir();
    env = t_open(dir, 1024 * 1024, DS_SYNC_NONE);
    memset(tokens, 9, sizeof(tokens));

    size = 2 * 1024 * 1024;
    big = t_alloc(size);
    memset(big, 'x', size);
    big[0] = '"';
    big[size - 1] = '"';

    t_cn_start(env, "r", T_NOW);

    ops[0] = t_cn_claim(DS_WORK_ORCHESTRATION, tokens, &seen, T_NOW + 1);

    ops[1] = t_cn_start_op("big", T_NOW + 1);
    ops[1].in.start.input.data = big;
    ops[1].in.start.input.len = size;

    ops[2] = t_cn_start_op("after", T_NOW + 1);

    ops[0].next = &ops[1];
    ops[1].next = &ops[2];

    T_INT(ds_op_batch(env, ops), 1);
    T_INT(ops[0].rc, DS_OK);
    T(ops[1].rc == DS_FULL || ops[1].rc == DS_ERROR);
    T_INT(ops[2].rc, DS_OK);

    /* applied twice, begun twice, rendered once */
    T_INT(seen.begun, 2);
    T_INT(seen.items, 1);
    T_INT(ops[0].out.claim.claimed, 1);
    T(seen.read_txn);
    T(strcmp(seen.id, "r") == 0);

    free(big);
    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * The loop's spare reader (reuse_reader) is the loop's alone: the render,
 * in the writer's thread, neither takes it nor leaves its own txn there
 */

static void
t_cn_spare(void)
{
    char               *dir, err[128];
    void               *spare;
    uint8_t             tokens[DS_LEASE_LEN];
    ds_op_t             claim;
    ds_env_t           *env;
    ds_txn_t           *loop;
    t_seen_t            seen;
    dsi_claim_notes_t   cn;

    dir = t_tmpdir();
    env = t_open_flags(dir, 0, DS_SYNC_NONE, T_NO_TLS | T_REUSE_READER);
    memset(&cn, 0, sizeof(cn));
    memset(tokens, 10, sizeof(tokens));

    t_cn_start(env, "p", T_NOW);

    t_cn_start(env, "q", T_NOW);

    /* a read of the loop's leaves the spare reader */
    T_INT(ds_txn_begin(env, NULL, 0, &loop), DS_OK);
    ds_txn_abort(loop);
    spare = env->spare;
    T(spare != NULL);

    claim = t_cn_claim(DS_WORK_ORCHESTRATION, tokens, &seen, T_NOW + 1);
    t_cn_noted(env, &claim, &cn);
    dsi_claim_notes_render(env, &cn, err, sizeof(err));
    T_INT(seen.items, 1);
    T(seen.spare == spare);
    T(env->spare == spare);

    /* the loop reading while the render runs: no spare left behind */
    T_INT(ds_txn_begin(env, NULL, 0, &loop), DS_OK);
    T(env->spare == NULL);

    claim = t_cn_claim(DS_WORK_ORCHESTRATION, tokens, &seen, T_NOW + 2);
    t_cn_noted(env, &claim, &cn);
    dsi_claim_notes_render(env, &cn, err, sizeof(err));
    T_INT(seen.items, 1);
    T(env->spare == NULL);

    ds_txn_abort(loop);
    T(env->spare == spare);

    dsi_claim_notes_free(&cn);
    ds_env_close(env);
    t_rmdir(dir);
}


/* of two items noted, the one ended meanwhile is left out, the other not */

static void
t_cn_some(void)
{
    char               *dir, err[128];
    uint8_t             tokens[2 * DS_LEASE_LEN];
    ds_op_t             op, claim;
    ds_env_t           *env;
    t_seen_t            seen;
    dsi_claim_notes_t   cn;

    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);
    memset(&cn, 0, sizeof(cn));
    memset(tokens, 11, DS_LEASE_LEN);
    memset(tokens + DS_LEASE_LEN, 12, DS_LEASE_LEN);

    t_cn_start(env, "m1", T_NOW);

    t_cn_start(env, "m2", T_NOW + 1);

    claim = t_cn_claim(DS_WORK_ORCHESTRATION, tokens, &seen, T_NOW + 2);
    claim.in.claim.max = 2;
    t_cn_noted(env, &claim, &cn);
    T_INT(cn.n, 2);
    T_INT(claim.out.claim.claimed, 2);

    op = t_op_of(DS_OP_TERMINATE, "m1", T_NOW + 3);
    T_INT(t_cn_apply(env, &op), DS_OK);

    dsi_claim_notes_render(env, &cn, err, sizeof(err));
    T_INT(claim.rc, DS_OK);
    T_INT(seen.items, 1);
    T_INT(claim.out.claim.claimed, 1);
    T_INT(cn.outcome.rendered, 1);
    T_INT(cn.outcome.left_out, 1);
    T(strcmp(seen.id, "m2") == 0);
    T(memcmp(seen.lease, tokens + DS_LEASE_LEN, DS_LEASE_LEN) == 0);

    dsi_claim_notes_free(&cn);
    T(t_consistent(env, t_s("Hub"), NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * Two claims in a batch, the first failing at its second item: both of
 * its items come back (the first had been rendered), the other claim's
 * item stays leased; the same for activities
 */

static void
t_cn_failed_late(void)
{
    char         *dir;
    size_t        k;
    uint8_t       tokens[3 * DS_LEASE_LEN];
    ds_op_t       ops[2], claim, op;
    ds_env_t     *env;
    t_seen_t      seen[2], again;
    ds_action_t   act;
    const char   *ids[] = { "x1", "x2", "x3" };

    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    for (k = 0; k < 3; k++) {
        memset(tokens + k * DS_LEASE_LEN, 20 + (int) k, DS_LEASE_LEN);
    }

    for (k = 0; k < 3; k++) {
        t_cn_start(env, ids[k], T_NOW + (int64_t) k);
    }

    ops[0] = t_cn_claim(DS_WORK_ORCHESTRATION, tokens, &seen[0], T_NOW + 5);
    ops[0].in.claim.max = 2;
    seen[0].fail = 2;
    ops[1] = t_cn_claim(DS_WORK_ORCHESTRATION, tokens + 2 * DS_LEASE_LEN,
                        &seen[1], T_NOW + 5);
    ops[0].next = &ops[1];

    T_INT(ds_op_batch(env, ops), 0);
    T_INT(ops[0].rc, DS_ERROR);
    T_INT(ops[0].out.claim.claimed, 0);
    T_INT(seen[0].items, 2);
    T_INT(ops[1].rc, DS_OK);
    T_INT(ops[1].out.claim.claimed, 1);
    T(strcmp(seen[1].id, "x3") == 0);

    /* x1 and x2 are claimable at once; x3 is not */

    claim = t_cn_claim(DS_WORK_ORCHESTRATION, tokens, &again, T_NOW + 6);
    claim.in.claim.max = 2;
    T_INT(ds_op_batch(env, &claim), 0);
    T_INT(claim.rc, DS_OK);
    T_INT(claim.out.claim.claimed, 2);

    claim = t_cn_claim(DS_WORK_ORCHESTRATION, tokens, &again, T_NOW + 7);
    T_INT(ds_op_batch(env, &claim), 0);
    T_INT(claim.out.claim.claimed, 0);

    /* activities: x1 and x2 schedule one each; the claim of both fails */

    for (k = 0; k < 2; k++) {
        claim = t_cn_claim(DS_WORK_ORCHESTRATION, tokens, &again,
                           T_NOW + 8 + (int64_t) k + T_LEASE_US);
        T_INT(ds_op_batch(env, &claim), 0);
        T_INT(again.items, 1);

        act = t_act(DS_ACT_SCHEDULE_ACTIVITY, 0, "Say", "\"hi\"");
        op = t_op_of(DS_OP_WORK_COMPLETE, again.id, T_NOW + 10 + T_LEASE_US);
        op.in.work.kind = DS_WORK_ORCHESTRATION;
        op.in.work.lease = again.lease;
        op.in.work.actions = &act;
        op.in.work.nactions = 1;
        T_INT(t_cn_apply(env, &op), DS_OK);
    }

    claim = t_cn_claim(DS_WORK_ACTIVITY, tokens, &again,
                       T_NOW + 11 + T_LEASE_US);
    claim.in.claim.max = 2;
    again.fail = 2;
    T_INT(ds_op_batch(env, &claim), 0);
    T_INT(claim.rc, DS_ERROR);
    T_INT(again.items, 2);

    claim = t_cn_claim(DS_WORK_ACTIVITY, tokens, &again,
                       T_NOW + 12 + T_LEASE_US);
    claim.in.claim.max = 2;
    T_INT(ds_op_batch(env, &claim), 0);
    T_INT(claim.rc, DS_OK);
    T_INT(claim.out.claim.claimed, 2);

    T(t_consistent(env, t_s("Hub"), NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


static ds_op_t
t_cn_claim(ds_work_kind_e kind, const uint8_t *tokens, t_seen_t *seen,
    int64_t now)
{
    ds_op_t  op;

    memset(seen, 0, sizeof(t_seen_t));

    op = t_op_of(DS_OP_WORK_CLAIM, "", now);
    op.in.claim.kind = kind;
    op.in.claim.lease_us = T_LEASE_US;
    op.in.claim.max = 1;
    op.in.claim.tokens = tokens;
    op.in.claim.begin = t_cn_begin;
    op.in.claim.item = t_cn_item;
    op.in.claim.item_data = seen;

    return op;
}


/* the claim applied as a batch applies it, and committed, not rendered */

static void
t_cn_noted(ds_env_t *env, ds_op_t *claim, dsi_claim_notes_t *cn)
{
    ds_txn_t  *txn;

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    txn->notes = cn;
    T_INT(ds_op_apply(txn, claim), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);
}


/* a "Hello" started */

static void
t_cn_start(ds_env_t *env, const char *id, int64_t now)
{
    ds_op_t  op;

    op = t_cn_start_op(id, now);
    T_INT(t_cn_apply(env, &op), DS_OK);
}


/* a start of a Hello orchestration, not applied */

static ds_op_t
t_cn_start_op(const char *id, int64_t now)
{
    ds_op_t  op;

    op = t_op_of(DS_OP_START, id, now);
    op.in.start.name = t_s("Hello");

    return op;
}


/*
 * id claimed through a batch (rendered after its commit, in a read txn)
 * and its episode completed with one action of type
 */

static void
t_cn_episode(ds_env_t *env, const char *id, const uint8_t *token,
    int64_t now, ds_action_type_e type)
{
    ds_op_t      op, claim;
    t_seen_t     seen;
    ds_action_t  act;

    claim = t_cn_claim(DS_WORK_ORCHESTRATION, token, &seen, now);
    T_INT(ds_op_batch(env, &claim), 0);
    T_INT(claim.rc, DS_OK);
    T_INT(seen.items, 1);
    T(seen.read_txn);
    T(strcmp(seen.id, id) == 0);

    act = (type == DS_ACT_SCHEDULE_ACTIVITY)
          ? t_act(type, 0, "Say", "\"hi\"")
          : t_act(type, 0, NULL, "\"one\"");

    op = t_op_of(DS_OP_WORK_COMPLETE, id, now + 1);
    op.in.work.kind = DS_WORK_ORCHESTRATION;
    op.in.work.lease = seen.lease;
    op.in.work.actions = &act;
    op.in.work.nactions = 1;
    T_INT(t_cn_apply(env, &op), DS_OK);
}


/* one op in its own txn, its claims rendered in it */

static int
t_cn_apply(ds_env_t *env, ds_op_t *op)
{
    int        rc;
    ds_txn_t  *txn;

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);

    rc = ds_op_apply(txn, op);

    if (rc != DS_OK) {
        ds_txn_abort(txn);
        return rc;
    }

    return ds_txn_commit(txn);
}


/* an event raised to id, delivered to its inbox */

static void
t_cn_raise(ds_env_t *env, const char *id, const char *name, int64_t now)
{
    ds_op_t  op;

    op = t_op_of(DS_OP_RAISE_EVENT, id, now);
    op.in.control.name = t_s(name);
    T_INT(t_cn_apply(env, &op), DS_OK);
}


/* the lease of an orchestration's claim given up */

static void
t_cn_abandon(ds_env_t *env, const char *id, const uint8_t *lease,
    int64_t now)
{
    ds_op_t  op;

    op = t_op_of(DS_OP_WORK_ABANDON, id, now);
    op.in.work.kind = DS_WORK_ORCHESTRATION;
    op.in.work.lease = lease;
    T_INT(t_cn_apply(env, &op), DS_OK);
}


static void
t_cn_begin(void *data)
{
    t_seen_t  *seen = data;

    seen->begun++;
    seen->items = 0;
}


static int
t_cn_item(void *data, ds_op_t *op, const ds_work_item_t *item)
{
    t_seen_t  *seen = data;
    ds_txn_t  *txn;

    seen->items++;
    seen->history = 0;
    seen->messages = 0;
    seen->suspended = 0;

    txn = op->backend;
    seen->read_txn = (txn != NULL && !txn->write);
    seen->spare = (txn != NULL) ? txn->env->spare : NULL;

    snprintf(seen->id, sizeof(seen->id), "%.*s", (int) item->id.len,
             item->id.data);
    seen->task_id = item->task_id;
    memcpy(seen->lease, item->lease, DS_LEASE_LEN);

    if (item->kind == DS_WORK_ORCHESTRATION) {
        T_INT(ds_op_item_events(op, item, DS_LIST_HISTORY, t_cn_history,
                                seen), DS_OK);
        T_INT(ds_op_item_events(op, item, DS_LIST_MESSAGES, t_cn_message,
                                seen), DS_OK);

    } else if (item->kind == DS_WORK_ENTITY) {
        T_INT(ds_op_item_events(op, item, DS_LIST_OPERATIONS, t_cn_message,
                                seen), DS_OK);
    }

    return seen->fail != 0 && seen->items == seen->fail;
}


static int
t_cn_history(void *data, uint64_t seq, ds_str_t event)
{
    t_seen_t  *seen = data;

    (void) seq;

    seen->history++;

    if (memmem(event.data, event.len, "ExecutionSuspended",
               sizeof("ExecutionSuspended") - 1) != NULL)
    {
        seen->suspended = 1;
    }

    return 0;
}


static int
t_cn_message(void *data, uint64_t seq, ds_str_t event)
{
    t_seen_t  *seen = data;

    (void) seq;
    (void) event;

    seen->messages++;

    return 0;
}
