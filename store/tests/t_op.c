/*
 * Copyright (C) ngx_durable authors
 *
 * Operations as data: each type of ds_op_t through ds_op_apply(), with
 * the results and refusals durable_store.h promises, retries included.
 */


#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t_work.h"


#define T_NOW       1520690251123400LL
#define T_LEASE_US  30000000LL


typedef struct {
    size_t          calls;
    size_t          events;
    int             history_rc;
    ds_status_e     status;
    char            name[64];
} t_read_t;


typedef struct {
    size_t          begun;
    size_t          items;
    size_t          events;
    int             events_rc;
    char            id[64];
    uint8_t         lease[DS_LEASE_LEN];
} t_claimed_t;


static void t_op_lifecycle(void);
static void t_op_purge(void);
static void t_op_work(void);
static void t_op_names(void);
static void t_op_batch(void);
static void t_op_batch_counts(void);
static void t_op_stamp(void);
static void t_op_reads(void);
static void t_op_snapshots(void);
static void t_snap_done(ds_op_t *op);
static void t_snap_read(ds_env_t *env, ds_snapshot_t *snap);
static void t_op_read_done(ds_op_t *op);
static void t_op_lists(ds_env_t *env, t_read_t *seen);
static int t_op_event(void *data, uint64_t seq, ds_str_t event);
static int t_op_row(void *data, ds_str_t id, const ds_instance_t *inst);
static int t_op_entity_row(void *data, const ds_entity_t *entity);
static void t_op_batch_of(ds_op_t *ops, size_t n);
static int t_apply(ds_env_t *env, ds_op_t *op);
static int t_start_op(ds_env_t *env, const char *id, const char *name);
static void t_twice(ds_env_t *env, ds_op_t *op, int first, int again);
static ds_op_t t_mkop(ds_op_type_e type, const char *id);
static ds_op_t t_orch_op(ds_op_type_e type, const char *id, int64_t now,
    const uint8_t *lease);
static void t_op_begin(void *data);
static int t_op_item(void *data, ds_op_t *op, const ds_work_item_t *item);
static int t_op_count(void *data, uint64_t seq, ds_str_t event);


void
t_op_data(void)
{
    t_op_lifecycle();
    t_op_purge();
    t_op_work();
    t_op_names();
    t_op_batch();
    t_op_batch_counts();
    t_op_stamp();
    t_op_reads();
    t_op_snapshots();
}


static void
t_op_lifecycle(void)
{
    char           *dir;
    ds_op_t         op;
    ds_env_t       *env;
    ds_txn_t       *txn;
    ds_instance_t   inst;

    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    /* start, and a start of an active id: a conflict naming its status */

    op = t_mkop(DS_OP_START, "a");
    op.in.start.name = t_s("Hello");
    op.in.start.input = t_s("\"in\"");
    T_INT(t_apply(env, &op), DS_OK);
    T_INT(op.rc, DS_OK);

    op.out.start.status = DS_COMPLETED;
    T_INT(t_apply(env, &op), DS_CONFLICT);
    T_INT(op.out.start.status, DS_PENDING);

    /* events, suspend and resume; suspend and resume again are no-ops */

    op = t_mkop(DS_OP_RAISE_EVENT, "a");
    op.in.control.name = t_s("Go");
    op.in.control.data = t_s("1");
    T_INT(t_apply(env, &op), DS_OK);

    op = t_mkop(DS_OP_RAISE_EVENT, "missing");
    op.in.control.name = t_s("Go");
    T_INT(t_apply(env, &op), DS_NOTFOUND);

    op = t_mkop(DS_OP_SUSPEND, "a");
    t_twice(env, &op, DS_OK, DS_OK);

    op = t_mkop(DS_OP_RESUME, "a");
    t_twice(env, &op, DS_OK, DS_OK);

    /* rewind refuses what did not fail and says what it is */

    op = t_mkop(DS_OP_REWIND, "a");
    op.out.control.status = DS_FAILED;
    T_INT(t_apply(env, &op), DS_PRECONDITION);
    T_INT(op.out.control.status, DS_PENDING);

    op = t_mkop(DS_OP_REWIND, "missing");
    T_INT(t_apply(env, &op), DS_NOTFOUND);

    /* terminate once; a retry finds it terminal */

    op = t_mkop(DS_OP_TERMINATE, "a");
    op.in.control.data = t_s("\"stop\"");
    t_twice(env, &op, DS_OK, DS_GONE);

    op = t_mkop(DS_OP_RAISE_EVENT, "a");
    op.in.control.name = t_s("Go");
    T_INT(t_apply(env, &op), DS_GONE);

    /* restart: the original's name and input under a new id */

    op = t_mkop(DS_OP_RESTART, "b");
    op.in.start.from = t_s("a");
    T_INT(t_apply(env, &op), DS_OK);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_instance_get(txn, t_s("Hub"), t_s("b"), &inst), DS_OK);
    T_STR(inst.name, "Hello");
    T_STR(inst.input, "\"in\"");
    T_INT(inst.status, DS_PENDING);
    ds_txn_abort(txn);

    op = t_mkop(DS_OP_RESTART, "c");
    op.in.start.from = t_s("missing");
    T_INT(t_apply(env, &op), DS_NOTFOUND);

    /* a terminal instance is replaced by a start; an active one is not */

    T_INT(t_start_op(env, "a", "Hello"), DS_OK);

    op = t_mkop(DS_OP_RESTART, "b");
    op.in.start.from = t_s("a");
    T_INT(t_apply(env, &op), DS_CONFLICT);
    T_INT(op.out.start.status, DS_PENDING);

    T(t_consistent(env, t_s("Hub"), NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


static void
t_op_purge(void)
{
    int          i;
    char        *dir, id[16];
    size_t       total, rounds;
    ds_op_t      op;
    ds_env_t    *env;
    ds_query_t   q;

    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start_op(env, "active", "Hello"), DS_OK);

    /* purge one: active is refused with its status, gone is not found */

    op = t_mkop(DS_OP_PURGE, "active");
    T_INT(t_apply(env, &op), DS_PRECONDITION);
    T_INT(op.out.control.status, DS_PENDING);

    op = t_mkop(DS_OP_TERMINATE, "active");
    T_INT(t_apply(env, &op), DS_OK);

    op = t_mkop(DS_OP_PURGE, "active");
    T_INT(t_apply(env, &op), DS_OK);
    T_INT(t_apply(env, &op), DS_NOTFOUND);

    /* purge by filter in batches of two: 2, 2, 1, and more says when */

    for (i = 0; i < 5; i++) {
        snprintf(id, sizeof(id), "t%d", i);
        T_INT(t_put(env, t_s("Hub"), id, DS_COMPLETED, T_NOW + i), DS_OK);
    }

    T_INT(t_put(env, t_s("Hub"), "running", DS_RUNNING, T_NOW), DS_OK);

    memset(&q, 0, sizeof(q));
    q.created_from = INT64_MIN;
    q.created_to = INT64_MAX;
    q.status_mask = DS_TERMINAL_MASK;

    op = t_mkop(DS_OP_PURGE_BATCH, "");
    op.in.purge.query = &q;
    op.in.purge.max = 2;

    total = 0;
    rounds = 0;

    do {
        T_INT(t_apply(env, &op), DS_OK);
        T(op.out.purge.deleted <= 2);
        total += op.out.purge.deleted;
        rounds++;
    } while (op.out.purge.more && rounds < 10);

    T_INT(total, 5);
    T(rounds >= 3);

    /* nothing left to match: none deleted, no more */

    T_INT(t_apply(env, &op), DS_OK);
    T_INT(op.out.purge.deleted, 0);
    T_INT(op.out.purge.more, 0);

    T(t_consistent(env, t_s("Hub"), NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


static void
t_op_work(void)
{
    char          *dir;
    uint8_t        tokens[2 * DS_LEASE_LEN], wrong[DS_LEASE_LEN];
    ds_op_t        op, claim;
    ds_env_t      *env;
    ds_txn_t      *txn;
    ds_action_t    act;
    t_claimed_t    seen;

    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start_op(env, "w", "Hello"), DS_OK);

    memset(tokens, 7, sizeof(tokens));
    memset(&seen, 0, sizeof(seen));

    claim = t_mkop(DS_OP_WORK_CLAIM, "");
    claim.in.claim.kind = DS_WORK_ORCHESTRATION;
    claim.in.claim.lease_us = T_LEASE_US;
    claim.in.claim.max = 2;
    claim.in.claim.tokens = tokens;
    claim.in.claim.begin = t_op_begin;
    claim.in.claim.item = t_op_item;
    claim.in.claim.item_data = &seen;

    /* applied twice, as a batch that runs again: begin starts it over */

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_op_apply(txn, &claim), DS_OK);
    ds_txn_abort(txn);
    T_INT(seen.begun, 1);
    T_INT(seen.items, 1);

    T_INT(t_apply(env, &claim), DS_OK);
    T_INT(seen.begun, 2);
    T_INT(seen.items, 1);
    T_INT(claim.out.claim.claimed, 1);
    T(strcmp(seen.id, "w") == 0);

    /* the item carries its messages: ExecutionStarted */
    T_INT(seen.events_rc, DS_OK);
    T_INT(seen.events, 1);

    /* and only while it is being claimed */
    T_INT(ds_op_item_events(&claim, NULL, DS_LIST_HISTORY, t_op_count,
                            &seen), DS_INVALID);

    /* leased: nothing to claim until the lease runs out */

    T_INT(t_apply(env, &claim), DS_OK);
    T_INT(claim.out.claim.claimed, 0);
    T_INT(seen.items, 0);
    T_INT(claim.out.claim.visible, T_NOW + T_LEASE_US);

    /* renew: only the current lease, and a retry is harmless */

    op = t_orch_op(DS_OP_WORK_RENEW, "w", T_NOW + 1000, seen.lease);
    op.in.work.lease_us = T_LEASE_US;
    T_INT(t_apply(env, &op), DS_OK);
    T_INT(op.out.work.expires, T_NOW + 1000 + T_LEASE_US);
    T_INT(t_apply(env, &op), DS_OK);

    memset(wrong, 9, sizeof(wrong));
    op.in.work.lease = wrong;
    T_INT(t_apply(env, &op), DS_CONFLICT);

    /* complete; the same completion again gets its answer, another not */

    act = t_act(DS_ACT_COMPLETE, 0, NULL, "\"done\"");

    op = t_orch_op(DS_OP_WORK_COMPLETE, "w", T_NOW, seen.lease);
    op.in.work.actions = &act;
    op.in.work.nactions = 1;
    T_INT(t_apply(env, &op), DS_OK);
    T_INT(op.out.work.status, DS_COMPLETED);
    T_INT(op.out.work.changed, 1);

    op.out.work.status = DS_RUNNING;
    T_INT(t_apply(env, &op), DS_OK);
    T_INT(op.out.work.status, DS_COMPLETED);
    T_INT(op.out.work.changed, 0);

    act = t_act(DS_ACT_COMPLETE, 0, NULL, "\"other\"");
    T_INT(t_apply(env, &op), DS_MISMATCH);

    op.in.work.id = t_s("missing");
    T_INT(t_apply(env, &op), DS_NOTFOUND);

    /* abandon: the item is claimable again at once */

    T_INT(t_start_op(env, "v", "Hello"), DS_OK);

    claim.now = T_NOW + 2000;
    T_INT(t_apply(env, &claim), DS_OK);
    T_INT(claim.out.claim.claimed, 1);

    op = t_orch_op(DS_OP_WORK_ABANDON, "v", T_NOW + 3000, seen.lease);
    T_INT(t_apply(env, &op), DS_OK);
    T_INT(t_apply(env, &op), DS_CONFLICT);

    claim.now = T_NOW + 4000;
    T_INT(t_apply(env, &claim), DS_OK);
    T_INT(claim.out.claim.claimed, 1);
    T(strcmp(seen.id, "v") == 0);

    /* its first episode makes it Running, a change; a second one not */

    op = t_orch_op(DS_OP_WORK_COMPLETE, "v", T_NOW + 5000, seen.lease);
    T_INT(t_apply(env, &op), DS_OK);
    T_INT(op.out.work.status, DS_RUNNING);
    T_INT(op.out.work.changed, 1);

    op = t_mkop(DS_OP_RAISE_EVENT, "v");
    op.in.control.name = t_s("Go");
    T_INT(t_apply(env, &op), DS_OK);

    claim.now = T_NOW + 6000;
    T_INT(t_apply(env, &claim), DS_OK);
    T_INT(claim.out.claim.claimed, 1);

    op = t_orch_op(DS_OP_WORK_COMPLETE, "v", T_NOW + 7000, seen.lease);
    op.out.work.changed = 1;
    T_INT(t_apply(env, &op), DS_OK);
    T_INT(op.out.work.status, DS_RUNNING);
    T_INT(op.out.work.changed, 0);

    /* entities: a signal queues work; a bad entity id is refused */

    op = t_mkop(DS_OP_ENTITY_SIGNAL, "");
    op.in.entity.name = t_s("Counter");
    op.in.entity.key = t_s("c1");
    op.in.entity.operation = t_s("add");
    op.in.entity.input = t_s("1");
    T_INT(t_apply(env, &op), DS_OK);

    op.in.entity.name = t_s("a@b");
    T_INT(t_apply(env, &op), DS_INVALID);

    claim.in.claim.kind = DS_WORK_ENTITY;
    T_INT(t_apply(env, &claim), DS_OK);
    T_INT(claim.out.claim.claimed, 1);
    T(strcmp(seen.id, "@counter@c1") == 0);
    T_INT(seen.events_rc, DS_OK);
    T_INT(seen.events, 1);

    op = t_mkop(DS_OP_WORK_COMPLETE, "counter");
    op.in.work.kind = DS_WORK_ENTITY;
    op.in.work.key = t_s("c1");
    op.in.work.lease = seen.lease;
    op.in.work.result = t_s("1");
    T_INT(t_apply(env, &op), DS_OK);

    T(t_consistent(env, t_s("Hub"), NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


static void
t_op_names(void)
{
    int  type;

    for (type = 0; type < DS_OP_COUNT; type++) {
        T(ds_op_what((ds_op_type_e) type) != NULL);
    }

    T(ds_op_wakes(DS_OP_START));
    T(ds_op_wakes(DS_OP_WORK_COMPLETE));
    T(!ds_op_wakes(DS_OP_WORK_CLAIM));
    T(!ds_op_wakes(DS_OP_COUNT));
    T(strcmp(ds_op_what(DS_OP_PURGE_BATCH), "purging") == 0);
}


/*
 * Group commit: refusals leave the batch going; a start larger than the
 * whole map fails after writing, and fails alone, whether ops before it
 * were applied (the batch runs again in nested txns) or not.
 */

static void
t_op_batch(void)
{
    int             redone;
    char           *dir, *big;
    size_t          size;
    ds_op_t         ops[4];
    ds_env_t       *env;
    ds_txn_t       *txn;
    ds_instance_t   inst;

    dir = t_tmpdir();
    env = t_open(dir, 1024 * 1024, DS_SYNC_NONE);

    size = 2 * 1024 * 1024;
    big = t_alloc(size);
    memset(big, 'x', size);
    big[0] = '"';
    big[size - 1] = '"';

    /* applied, refused, too big, applied */

    t_op_batch_of(ops, 4);
    ops[0].in.start.id = t_s("a");
    ops[1].in.start.id = t_s("a");
    ops[2].in.start.id = t_s("big");
    ops[2].in.start.input.data = big;
    ops[2].in.start.input.len = size;
    ops[3].in.start.id = t_s("c");

    redone = ds_op_batch(env, ops);
    T_INT(redone, 1);
    T_INT(ops[0].rc, DS_OK);
    T_INT(ops[1].rc, DS_CONFLICT);
    T_INT(ops[1].out.start.status, DS_PENDING);
    T(ops[2].rc == DS_FULL || ops[2].rc == DS_ERROR);
    T_INT(ops[3].rc, DS_OK);

    /* too big first: the batch goes on in a new txn, nothing redone */

    t_op_batch_of(ops, 3);
    ops[0].in.start.id = t_s("big");
    ops[0].in.start.input.data = big;
    ops[0].in.start.input.len = size;
    ops[1].in.start.id = t_s("d");
    ops[2].in.start.id = t_s("a");

    redone = ds_op_batch(env, ops);
    T_INT(redone, 0);
    T(ops[0].rc == DS_FULL || ops[0].rc == DS_ERROR);
    T_INT(ops[1].rc, DS_OK);
    T_INT(ops[2].rc, DS_CONFLICT);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_instance_get(txn, t_s("Hub"), t_s("a"), &inst), DS_OK);
    T_INT(ds_instance_get(txn, t_s("Hub"), t_s("c"), &inst), DS_OK);
    T_INT(ds_instance_get(txn, t_s("Hub"), t_s("d"), &inst), DS_OK);
    T_INT(ds_instance_get(txn, t_s("Hub"), t_s("big"), &inst),
          DS_NOTFOUND);
    ds_txn_abort(txn);

    T(t_consistent(env, t_s("Hub"), NULL));

    free(big);
    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * Made ids (in.start.stamp) get the time of their write in front: in the
 * order of the batch, whatever the caller's own first digits were, and
 * the records are under those ids. Other ids are left as they are.
 */

static void
t_op_stamp(void)
{
    int             i;
    char           *dir, made[4][DS_ID_STAMP_LEN + 1];
    ds_op_t         ops[5];
    ds_env_t       *env;
    ds_txn_t       *txn;
    ds_str_t        id;
    ds_instance_t   inst;

    dir = t_tmpdir();
    env = t_open(dir, 1024 * 1024, DS_SYNC_NONE);

    /* the caller's ids descend: later digits first */

    for (i = 0; i < 4; i++) {
        snprintf(made[i], sizeof(made[i]), "%015x%017x", 9 - i, 100 + i);
    }

    t_op_batch_of(ops, 5);

    for (i = 0; i < 4; i++) {
        ops[i].in.start.id = t_s(made[i]);
        ops[i].in.start.stamp = 1;
        ops[i].now = 0;
    }

    /* the same ms, 5 µs apart: the µs decide the order */
    ops[0].now = 1700000000000001;
    ops[1].now = 1700000000000006;
    ops[2].now = 1700000000000011;
    ops[3].now = 1700000000001000;

    /* not a made id: as given */
    ops[4].in.start.id = t_s("mine");
    ops[4].in.start.stamp = 0;

    T_INT(ds_op_batch(env, ops), 0);

    for (i = 0; i < 5; i++) {
        T_INT(ops[i].rc, DS_OK);
    }

    T_INT(ops[4].out.start.stamped, 0);

    /* 18bcfe56800 ms is 1700000000000 */
    T(memcmp(ops[0].out.start.id, "018bcfe56800001", 15) == 0);
    T(memcmp(ops[2].out.start.id, "018bcfe5680000b", 15) == 0);
    T(memcmp(ops[3].out.start.id, "018bcfe56801000", 15) == 0);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);

    for (i = 0; i < 4; i++) {
        T_INT(ops[i].out.start.stamped, 1);

        /* the random part is the caller's */
        T(memcmp(ops[i].out.start.id + 15, made[i] + 15, 17) == 0);

        if (i > 0) {
            T(memcmp(ops[i - 1].out.start.id, ops[i].out.start.id,
                     DS_ID_STAMP_LEN) < 0);
        }

        id.data = ops[i].out.start.id;
        id.len = DS_ID_STAMP_LEN;
        T_INT(ds_instance_get(txn, t_s("Hub"), id, &inst), DS_OK);
        T_INT(ds_instance_get(txn, t_s("Hub"), t_s(made[i]), &inst),
              DS_NOTFOUND);
    }

    T_INT(ds_instance_get(txn, t_s("Hub"), t_s("mine"), &inst), DS_OK);
    ds_txn_abort(txn);

    T(t_consistent(env, t_s("Hub"), NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * A batch of a small start and a start whose input fills what is left of
 * the map, a little less at each step, each on a new store: at some steps
 * the ops' own writes fit but the count changes they kept do not (the
 * counts of 300 hubs span several pages, of which the batch's two are
 * not otherwise written). The big start fails alone, whatever the step.
 */

static void
t_op_hubs(ds_env_t *env)
{
    int            i;
    char           hub[64];
    ds_txn_t      *txn;
    ds_instance_t  inst;

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);

    for (i = 0; i < 300; i++) {
        snprintf(hub, sizeof(hub), "A%039d", i);
        T_INT(ds_op_start(txn, t_s(hub), t_s("i"), t_s("Hello"), t_s("1"),
                          1, &inst), DS_OK);
    }

    T_INT(ds_txn_commit(txn), DS_OK);
}


static void
t_op_batch_counts(void)
{
    int        redone;
    char      *dir, *big;
    size_t     size;
    ds_op_t    ops[2];
    ds_env_t  *env;

    size = 512 * 1024;
    big = t_alloc(size);
    memset(big, 'x', size);
    big[0] = '"';

    ops[1].rc = DS_FULL;

    while (size > 1024 && ops[1].rc != DS_OK) {
        size -= 256;
        big[size - 1] = '"';

        /* a reserve of a byte: LMDB's own MDB_MAP_FULL stops the writes */
        dir = t_tmpdir();
        env = t_open_reserve(dir, 512 * 1024, 1);
        t_op_hubs(env);

        t_op_batch_of(ops, 2);
        ops[0].hub = t_s("A000000000000000000000000000000000000100");
        ops[0].in.start.id = t_s("small");
        ops[1].hub = t_s("A000000000000000000000000000000000000200");
        ops[1].in.start.id = t_s("big");
        ops[1].in.start.input.data = big;
        ops[1].in.start.input.len = size;

        redone = ds_op_batch(env, ops);

        T_INT(ops[0].rc, DS_OK);
        T(ops[1].rc == DS_OK || ops[1].rc == DS_FULL);
        T_INT(redone, ops[1].rc != DS_OK);

        T(t_consistent(env, ops[0].hub, NULL));
        T(t_consistent(env, ops[1].hub, NULL));

        ds_env_close(env);
        t_rmdir(dir);
    }

    T_INT(ops[1].rc, DS_OK);

    free(big);
}


/* n chained starts of a small input; the caller sets the ids */

static void
t_op_batch_of(ds_op_t *ops, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        ops[i] = t_mkop(DS_OP_START, "");
        ops[i].in.start.name = t_s("Hello");
        ops[i].in.start.input = t_s("1");
        ops[i].next = (i + 1 < n) ? &ops[i + 1] : NULL;
    }
}


/*
 * Reads answer through done() before ds_op_read() returns, also when
 * they fail, with what they point to still readable there.
 */

static void
t_op_reads(void)
{
    char      *dir;
    ds_op_t    op;
    ds_env_t  *env;
    t_read_t   seen;

    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start_op(env, "r", "Reader"), DS_OK);

    op = t_mkop(DS_OP_ENTITY_SIGNAL, "");
    op.in.entity.name = t_s("Counter");
    op.in.entity.key = t_s("k");
    op.in.entity.operation = t_s("add");
    T_INT(t_apply(env, &op), DS_OK);

    memset(&seen, 0, sizeof(seen));

    op = t_mkop(DS_OP_STATUS, "r");
    op.in.control.history = 1;
    op.done = t_op_read_done;
    op.data = &seen;
    T_INT(ds_op_read(env, &op), DS_OK);
    T_INT(seen.calls, 1);
    T_INT(seen.status, DS_PENDING);
    T(strcmp(seen.name, "Reader") == 0);
    T_INT(seen.history_rc == DS_OK || seen.history_rc == DS_NOTFOUND, 1);

    /* one that did not ask for the history may not read it */

    op = t_mkop(DS_OP_STATUS, "r");
    op.done = t_op_read_done;
    op.data = &seen;
    T_INT(ds_op_read(env, &op), DS_OK);
    T_INT(seen.calls, 2);
    T_INT(seen.history_rc, DS_INVALID);

    op = t_mkop(DS_OP_STATUS, "missing");
    op.done = t_op_read_done;
    op.data = &seen;
    T_INT(ds_op_read(env, &op), DS_NOTFOUND);
    T_INT(seen.calls, 3);
    T(strcmp(ds_op_error(&op), ds_strerror(DS_NOTFOUND)) == 0);

    /* a signalled entity has no state until an operation sets it */

    op = t_mkop(DS_OP_ENTITY_GET, "");
    op.in.entity.name = t_s("counter");
    op.in.entity.key = t_s("k");
    op.done = t_op_read_done;
    op.data = &seen;
    T_INT(ds_op_read(env, &op), DS_NOTFOUND);
    T_INT(seen.calls, 4);

    /* lists: rows before done(), a page at a time, then no token */

    T_INT(t_start_op(env, "s", "Reader"), DS_OK);

    t_op_lists(env, &seen);

    /* a write type is not a read */

    op = t_mkop(DS_OP_PURGE, "r");
    op.done = t_op_read_done;
    op.data = &seen;
    T_INT(ds_op_read(env, &op), DS_INVALID);
    T_INT(seen.calls, 5);
    T_INT(ds_op_history(&op, t_op_event, &seen), DS_INVALID);

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * A read's snapshot: the same while nothing commits, another after a
 * commit of this process or of another one, and never the same for two
 * envs; a write has none.
 */

static void
t_op_snapshots(void)
{
    int            status;
    char          *dir, *dir2;
    pid_t          pid;
    ds_op_t        op;
    ds_env_t      *env, *env2;
    ds_snapshot_t  a, b, c, d, e;

    dir = t_tmpdir();
    dir2 = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);
    env2 = t_open(dir2, 0, DS_SYNC_NONE);

    T_INT(t_start_op(env, "r", "Reader"), DS_OK);
    T_INT(t_start_op(env2, "r", "Reader"), DS_OK);

    t_snap_read(env, &a);
    t_snap_read(env, &b);
    T(a.env == b.env && a.txn == b.txn);

    T_INT(t_start_op(env, "s", "Reader"), DS_OK);
    t_snap_read(env, &c);
    T(c.env == a.env && c.txn != a.txn);

    /* another process's commit, to the same file */

    pid = fork();
    T(pid >= 0);

    if (pid == 0) {
        ds_env_t  *child;

        child = t_open(dir, 0, DS_SYNC_NONE);
        status = t_start_op(child, "c", "Reader");
        ds_env_close(child);
        _exit(status == DS_OK ? 0 : 1);
    }

    T(waitpid(pid, &status, 0) == pid);
    T(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    t_snap_read(env, &d);
    T(d.env == a.env && d.txn != c.txn);

    /* the other env: its own number, whatever its commits */

    t_snap_read(env2, &e);
    T(e.env != a.env);

    /* none for an op that is not a read */

    op = t_mkop(DS_OP_PURGE, "r");
    op.done = t_snap_done;
    op.data = &e;
    e.env = 0;
    T_INT(ds_op_read(env, &op), DS_INVALID);
    T_INT(e.env, 0);

    ds_env_close(env2);
    ds_env_close(env);
    t_rmdir(dir2);
    t_rmdir(dir);
}


static void
t_snap_read(ds_env_t *env, ds_snapshot_t *snap)
{
    ds_op_t  op;

    memset(snap, 0, sizeof(ds_snapshot_t));

    op = t_mkop(DS_OP_STATUS, "r");
    op.done = t_snap_done;
    op.data = snap;
    T_INT(ds_op_read(env, &op), DS_OK);
    T(snap->env != 0);
}


static void
t_snap_done(ds_op_t *op)
{
    ds_snapshot_t  *snap = op->data;

    if (ds_op_snapshot(op, snap) != DS_OK) {
        snap->env = 0;
    }
}


static void
t_op_lists(ds_env_t *env, t_read_t *seen)
{
    char         token[DS_TOKEN_MAX];
    ds_op_t      op;
    ds_query_t   q;

    memset(&q, 0, sizeof(q));
    q.created_from = INT64_MIN;
    q.created_to = INT64_MAX;
    q.top = 1;
    q.scan_budget = 10;

    seen->events = 0;

    op = t_mkop(DS_OP_LIST, "");
    op.in.list.query = &q;
    op.in.list.item = t_op_row;
    op.in.list.item_data = seen;
    op.in.list.token = token;
    T_INT(ds_op_read(env, &op), DS_OK);
    T_INT(seen->events, 1);
    T(op.out.list.token_len > 0);

    q.token.data = token;
    q.token.len = op.out.list.token_len;
    T_INT(ds_op_read(env, &op), DS_OK);
    T_INT(seen->events, 2);
    T_INT(op.out.list.token_len, 0);

    q.token = t_s("!");
    T_INT(ds_op_read(env, &op), DS_INVALID);

    /* the signalled entity has no state yet: none listed */

    seen->events = 0;

    op = t_mkop(DS_OP_ENTITY_LIST, "");
    op.in.entity_list.top = 10;
    op.in.entity_list.item = t_op_entity_row;
    op.in.entity_list.item_data = seen;
    op.in.entity_list.token = token;
    T_INT(ds_op_read(env, &op), DS_OK);
    T_INT(seen->events, 0);
    T_INT(op.out.list.token_len, 0);
}


static int
t_op_row(void *data, ds_str_t id, const ds_instance_t *inst)
{
    t_read_t  *seen = data;

    (void) id;
    (void) inst;

    seen->events++;

    return 0;
}


static int
t_op_entity_row(void *data, const ds_entity_t *entity)
{
    t_read_t  *seen = data;

    (void) entity;

    seen->events++;

    return 0;
}


static void
t_op_read_done(ds_op_t *op)
{
    t_read_t  *seen = op->data;

    seen->calls++;

    if (op->rc != DS_OK) {
        return;
    }

    if (op->type == DS_OP_STATUS) {
        seen->status = op->out.status.inst->status;
        snprintf(seen->name, sizeof(seen->name), "%.*s",
                 (int) op->out.status.inst->name.len,
                 op->out.status.inst->name.data);
        seen->history_rc = ds_op_history(op, t_op_event, seen);
    }
}


static int
t_op_event(void *data, uint64_t seq, ds_str_t event)
{
    t_read_t  *seen = data;

    (void) seq;
    (void) event;

    seen->events++;

    return 0;
}


/* one op in a write txn of its own, committed unless refused */

static int
t_apply(ds_env_t *env, ds_op_t *op)
{
    int        rc;
    ds_txn_t  *txn;

    if (ds_txn_begin(env, NULL, 1, &txn) != DS_OK) {
        return DS_ERROR;
    }

    rc = ds_op_apply(txn, op);

    T_INT(op->rc, rc);

    if (rc != DS_OK) {
        ds_txn_abort(txn);
        return rc;
    }

    return ds_txn_commit(txn) == DS_OK ? rc : DS_ERROR;
}


/* a renew, abandon or completion of orchestration id under lease at now */

static ds_op_t
t_orch_op(ds_op_type_e type, const char *id, int64_t now,
    const uint8_t *lease)
{
    ds_op_t  op;

    op = t_mkop(type, id);
    op.now = now;
    op.in.work.kind = DS_WORK_ORCHESTRATION;
    op.in.work.lease = lease;

    return op;
}


/* a start of id, an orchestrator of that name with no input */

static int
t_start_op(ds_env_t *env, const char *id, const char *name)
{
    ds_op_t  op;

    op = t_mkop(DS_OP_START, id);
    op.in.start.name = t_s(name);

    return t_apply(env, &op);
}


/* a control op and its retry: the first changes the status, not the retry */

static void
t_twice(ds_env_t *env, ds_op_t *op, int first, int again)
{
    T_INT(t_apply(env, op), first);
    T_INT(op->out.control.changed, 1);

    op->out.control.changed = 1;
    T_INT(t_apply(env, op), again);
    T_INT(op->out.control.changed, 0);
}


static ds_op_t
t_mkop(ds_op_type_e type, const char *id)
{
    return t_op_of(type, id, T_NOW);
}


static void
t_op_begin(void *data)
{
    t_claimed_t  *seen = data;

    seen->begun++;
    seen->items = 0;
}


static int
t_op_item(void *data, ds_op_t *op, const ds_work_item_t *item)
{
    t_claimed_t  *seen = data;

    seen->items++;
    seen->events = 0;
    seen->events_rc = ds_op_item_events(op, item,
                                        item->kind == DS_WORK_ENTITY
                                        ? DS_LIST_OPERATIONS
                                        : DS_LIST_MESSAGES,
                                        t_op_count, seen);
    snprintf(seen->id, sizeof(seen->id), "%.*s", (int) item->id.len,
             item->id.data);
    memcpy(seen->lease, item->lease, DS_LEASE_LEN);

    return 0;
}


static int
t_op_count(void *data, uint64_t seq, ds_str_t event)
{
    t_claimed_t  *seen = data;

    (void) seq;
    (void) event;

    seen->events++;

    return 0;
}
