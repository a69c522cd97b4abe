/*
 * Copyright (C) ngx_durable authors
 *
 * What the Durable Task SDKs need of the store: starts with a version,
 * tags and a scheduled time, the id reuse policy, event ids in the
 * history, history read in chunks, entity calls and critical sections.
 */


#include <stdlib.h>

#include "t_work.h"


#define T0          1520690251000000LL      /* 2018-03-10T13:57:31Z */
#define T_LEASE     60000000LL
#define T_SEC       1000000LL


typedef struct {
    char            text[T_TEXT];
    size_t          len;
} t_buf_t;


static int
t_start_opts(ds_env_t *env, ds_str_t hub, const char *id,
    const ds_start_opts_t *opts, int64_t now, ds_status_e *status)
{
    int            rc;
    ds_txn_t      *txn;
    ds_instance_t  inst;

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);

    rc = ds_op_start_opts(txn, hub, t_s(id), t_s("O"), t_s("1"), opts, now,
                          &inst);

    if (status) {
        *status = inst.status;
    }

    if (rc == DS_OK) {
        T_INT(ds_txn_commit(txn), DS_OK);

    } else {
        ds_txn_abort(txn);
    }

    return rc;
}


static int
t_buf_cb(void *data, uint64_t seq, ds_str_t event)
{
    t_buf_t  *b = data;

    (void) seq;

    if (b->len + event.len + 2 > sizeof(b->text)) {
        return 1;
    }

    memcpy(b->text + b->len, event.data, event.len);
    b->len += event.len;
    b->text[b->len++] = '\n';
    b->text[b->len] = '\0';

    return 0;
}


/* the inbox into b, a line an event as cb writes it */

static void
t_inbox_lines(ds_env_t *env, ds_str_t hub, const char *id, ds_event_cb cb,
    t_buf_t *b)
{
    ds_txn_t  *txn;

    b->len = 0;
    b->text[0] = '\0';

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_inbox_read(txn, hub, t_s(id), cb, b), DS_OK);
    ds_txn_abort(txn);
}


static void
t_inbox_text(ds_env_t *env, ds_str_t hub, const char *id, t_buf_t *b)
{
    t_inbox_lines(env, hub, id, t_buf_cb, b);
}


/* the event "go", with no input, raised at id at now: its next episode */

static void
t_raise_go(ds_env_t *env, ds_str_t hub, const char *id, int64_t now)
{
    ds_txn_t  *txn;

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_op_raise_event(txn, hub, t_s(id), t_s("go"), t_s(""), now),
          DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);
}


/* id rewound at now, reason JSON text */

static void
t_rewind(ds_env_t *env, ds_str_t hub, const char *id, const char *reason,
    int64_t now)
{
    ds_txn_t  *txn;

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_op_rewind(txn, hub, t_s(id), t_s(reason), now), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);
}


/* id's episode (token tok) fails with reason (JSON text): Failed */

static void
t_fail_o(ds_env_t *env, ds_str_t hub, const char *id, int tok, int64_t aid,
    const char *reason, int64_t now)
{
    ds_action_t  act;
    ds_status_e  st;

    act = t_act(DS_ACT_FAIL, aid, NULL, NULL);
    act.reason = t_s(reason);
    T_INT(t_complete_o(env, hub, id, tok, &act, 1, now, &st), DS_OK);
    T_INT(st, DS_FAILED);
}


/* version, tags and the scheduled start are kept and carried */

static void
t_sdk_start(void)
{
    char             *dir;
    ds_env_t         *env;
    ds_str_t          hub;
    t_buf_t           b;
    t_orch_t          o;
    ds_txn_t         *txn;
    ds_instance_t     inst;
    ds_start_opts_t   opts;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    memset(&opts, 0, sizeof(ds_start_opts_t));
    opts.version = t_s("1.2");
    opts.tags = t_s("{\"team\":\"a\",\"k\\\"\":\"v\"}");
    opts.scheduled = T0 + 10 * T_SEC;

    T_INT(t_start_opts(env, hub, "s", &opts, T0, NULL), DS_OK);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_instance_get(txn, hub, t_s("s"), &inst), DS_OK);
    T_STR(inst.version, "1.2");
    T_STR(inst.tags, "{\"team\":\"a\",\"k\\\"\":\"v\"}");
    T_INT(inst.scheduled_start, T0 + 10 * T_SEC);
    T_INT(inst.status, DS_PENDING);
    ds_txn_abort(txn);

    t_inbox_text(env, hub, "s", &b);
    T(strstr(b.text, "\"Version\":\"1.2\",\"Tags\":{\"team\":\"a\","
                     "\"k\\\"\":\"v\"},\"ScheduledStartTime\":"
                     "\"2018-03-10T13:57:41Z\"") != NULL);

    /* not claimable before its time, not even with a message waiting */

    T_INT(t_claim_o(env, hub, T0 + T_SEC, T_LEASE, 1, 1, &o), DS_OK);
    T_INT(o.n, 0);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_op_raise_event(txn, hub, t_s("s"), t_s("E"), t_s("1"),
                            T0 + 2 * T_SEC), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    T_INT(t_claim_o(env, hub, T0 + 3 * T_SEC, T_LEASE, 1, 2, &o), DS_OK);
    T_INT(o.n, 0);
    T_INT(t_claim_o(env, hub, T0 + 10 * T_SEC, T_LEASE, 1, 3, &o), DS_OK);
    T_INT(o.n, 1);
    T_INT(o.nmessages[0], 2);
    T(t_consistent(env, hub, NULL));

    /* a time past starts at once and is not shown */

    opts.scheduled = T0 - T_SEC;
    T_INT(t_start_opts(env, hub, "now", &opts, T0, NULL), DS_OK);
    t_inbox_text(env, hub, "now", &b);
    T(strstr(b.text, "ScheduledStartTime") == NULL);
    T_INT(t_claim_o(env, hub, T0, T_LEASE, 1, 4, &o), DS_OK);
    T_INT(o.n, 1);

    /* bad tags and versions are refused */

    opts.scheduled = 0;
    opts.tags = t_s("{\"a\":1}");
    T_INT(t_start_opts(env, hub, "bad", &opts, T0, NULL), DS_INVALID);
    opts.tags = t_s("[\"a\"]");
    T_INT(t_start_opts(env, hub, "bad", &opts, T0, NULL), DS_INVALID);
    opts.tags = t_s("{\"a\":\"b\"");
    T_INT(t_start_opts(env, hub, "bad", &opts, T0, NULL), DS_INVALID);
    opts.tags = t_s("{\"a\":{\"b\":\"c\"}}");
    T_INT(t_start_opts(env, hub, "bad", &opts, T0, NULL), DS_INVALID);
    opts.tags = t_s("{}");
    T_INT(t_start_opts(env, hub, "empty-tags", &opts, T0, NULL), DS_OK);

    opts.tags = t_s("");
    opts.version.data = t_alloc(DS_NAME_MAX + 1);
    memset((char *) opts.version.data, 'v', DS_NAME_MAX + 1);
    opts.version.len = DS_NAME_MAX + 1;
    T_INT(t_start_opts(env, hub, "bad", &opts, T0, NULL), DS_INVALID);
    free((char *) opts.version.data);

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * The id reuse policy: a listed status is replaced (an active instance
 * terminated first, its parent told), any other is a conflict.
 */

static void
t_sdk_reuse(void)
{
    char             *dir;
    ds_env_t         *env;
    ds_str_t          hub;
    t_buf_t           b;
    t_orch_t          o;
    ds_action_t       act;
    ds_status_e       st;
    ds_instance_t     inst;
    ds_start_opts_t   opts;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    memset(&opts, 0, sizeof(ds_start_opts_t));

    T_INT(t_start_opts(env, hub, "r", &opts, T0, NULL), DS_OK);
    T_INT(t_start_opts(env, hub, "r", &opts, T0 + 1, &st), DS_CONFLICT);
    T_INT(st, DS_PENDING);

    /* a status not listed: a conflict, nothing written */

    opts.replace = DS_STATUS_MASK(DS_COMPLETED) | DS_STATUS_MASK(DS_RUNNING);
    T_INT(t_start_opts(env, hub, "r", &opts, T0 + 2, &st), DS_CONFLICT);
    T_INT(st, DS_PENDING);

    opts.replace = DS_STATUS_MASK(DS_PENDING);
    T_INT(t_start_opts(env, hub, "r", &opts, T0 + 3, NULL), DS_OK);
    T_INT(t_get(env, hub, "r", &inst, NULL, 0), DS_OK);
    T_INT(inst.execution, 2);
    T_INT(inst.status, DS_PENDING);
    T_INT(t_inbox_count(env, hub, "r"), 1);

    /* a terminal instance not listed is a conflict too */

    act = t_act(DS_ACT_COMPLETE, -1, NULL, "2");
    T_INT(t_claim_o(env, hub, T0 + 4, T_LEASE, 1, 1, &o), DS_OK);
    T_INT(o.n, 1);
    T_INT(t_complete_o(env, hub, "r", 1, &act, 1, T0 + 4, &st), DS_OK);
    T_INT(st, DS_COMPLETED);

    opts.replace = DS_STATUS_MASK(DS_FAILED);
    T_INT(t_start_opts(env, hub, "r", &opts, T0 + 5, &st), DS_CONFLICT);
    T_INT(st, DS_COMPLETED);
    opts.replace = 0;
    T_INT(t_start_opts(env, hub, "r", &opts, T0 + 5, NULL), DS_OK);

    /* a running child replaced: the parent hears it failed */

    hub = t_s("Other");
    opts.replace = 0;
    T_INT(t_start_opts(env, hub, "p", &opts, T0 + 6, NULL), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 6, T_LEASE, 1, 2, &o), DS_OK);
    T_INT(o.n, 1);
    act = t_act(DS_ACT_START_SUB, 0, "C", "3");
    act.instance_id = t_s("c");
    T_INT(t_complete_o(env, hub, "p", 2, &act, 1, T0 + 6, &st), DS_OK);

    opts.replace = DS_STATUS_MASK(DS_PENDING) | DS_STATUS_MASK(DS_RUNNING);
    T_INT(t_start_opts(env, hub, "c", &opts, T0 + 7, NULL), DS_OK);
    T_INT(t_get(env, hub, "c", &inst, NULL, 0), DS_OK);
    T_INT(inst.execution, 2);
    T_INT(inst.parent_id.len, 0);

    t_inbox_text(env, hub, "p", &b);
    T(strstr(b.text, "\"EventType\":\"SubOrchestrationInstanceFailed\"")
      != NULL);
    T(strstr(b.text, "replaced by a new start") != NULL);
    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * Every event has an EventId: the action's id for what an action made,
 * -1 for the rest; a result refers to its action by TaskScheduledId, and
 * a rewind matches results by it, not by their own EventId.
 */

static void
t_sdk_event_ids(void)
{
    char          *dir, hist[T_TEXT];
    ds_env_t      *env;
    ds_str_t       hub;
    t_act_t        a;
    t_orch_t       o;
    ds_action_t    act[6];
    ds_status_e    st;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "e", "E", "1", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0, T_LEASE, 1, 1, &o), DS_OK);

    act[0] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 0, "A", "1");
    act[1] = t_act(DS_ACT_CREATE_TIMER, 1, NULL, NULL);
    act[1].fire_at = T0 + 1000 * T_SEC;
    act[2] = t_act(DS_ACT_START_SUB, 2, "C", "2");
    act[3] = t_act(DS_ACT_RAISE_EVENT, 3, "Ev", "3");
    act[3].instance_id = t_s("e");
    act[4] = t_act(DS_ACT_SIGNAL_ENTITY, 4, "add", "4");
    act[4].entity_name = t_s("counter");
    act[4].entity_key = t_s("k");
    T_INT(t_complete_o(env, hub, "e", 1, act, 5, T0, &st), DS_OK);

    t_history_text(env, hub, "e", hist, sizeof(hist));
    T(strstr(hist, "\"OrchestratorStarted\",\"Timestamp\":"
                   "\"2018-03-10T13:57:31Z\",\"EventId\":-1}") != NULL);
    T(strstr(hist, "\"ExecutionStarted\",\"Timestamp\":"
                   "\"2018-03-10T13:57:31Z\",\"EventId\":-1,") != NULL);
    T(strstr(hist, "\"TaskScheduled\",\"Timestamp\":"
                   "\"2018-03-10T13:57:31Z\",\"EventId\":0,") != NULL);
    T(strstr(hist, "\"TimerCreated\",\"Timestamp\":"
                   "\"2018-03-10T13:57:31Z\",\"EventId\":1,") != NULL);
    T(strstr(hist, "\"SubOrchestrationInstanceCreated\",\"Timestamp\":"
                   "\"2018-03-10T13:57:31Z\",\"EventId\":2,") != NULL);
    T(strstr(hist, "\"EventSent\",\"Timestamp\":"
                   "\"2018-03-10T13:57:31Z\",\"EventId\":3,"
                   "\"InstanceId\":\"e\"") != NULL);
    T(strstr(hist, "\"EventSent\",\"Timestamp\":"
                   "\"2018-03-10T13:57:31Z\",\"EventId\":4,"
                   "\"InstanceId\":\"@counter@k\"") != NULL);
    T(strstr(hist, "\"OrchestratorCompleted\",\"Timestamp\":"
                   "\"2018-03-10T13:57:31Z\",\"EventId\":-1}") != NULL);

    /* the activity's result, then a failure, then a rewind */

    T_INT(t_claim_a(env, hub, T0 + 1, T_LEASE, 1, 2, &a), DS_OK);
    T_INT(a.n, 1);
    T_INT(t_complete_a(env, hub, "e", 0, 2, 0, "\"r\"", T0 + 2), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 3, T_LEASE, 1, 3, &o), DS_OK);
    T_INT(o.n, 1);
    T(strstr(o.messages[0], "\"EventType\":\"TaskCompleted\","
                            "\"Timestamp\":\"2018-03-10T13:57:31.000002Z\","
                            "\"EventId\":-1,\"TaskScheduledId\":0,")
      != NULL);

    t_fail_o(env, hub, "e", 3, 6, "\"no\"", T0 + 3);

    t_rewind(env, hub, "e", "\"again\"", T0 + 4);

    /* the completed activity is not scheduled again */
    T_INT(t_claim_a(env, hub, T0 + 5, T_LEASE, 1, 4, &a), DS_OK);
    T_INT(a.n, 0);
    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * an activity's version and tags: in its TaskScheduled event, in the
 * claimed item, and again after a rewind schedules it anew
 */

static void
t_sdk_activity_version(void)
{
    char          *dir, hist[T_TEXT];
    ds_env_t      *env;
    ds_str_t       hub;
    t_act_t        a;
    t_orch_t       o;
    ds_action_t    act[2];
    ds_status_e    st;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "v", "V", "1", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0, T_LEASE, 1, 1, &o), DS_OK);

    /* tags not of strings: refused */

    act[0] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 0, "A", "1");
    act[0].tags = t_s("{\"team\":1}");
    T_INT(t_complete_o(env, hub, "v", 1, act, 1, T0, &st), DS_INVALID);

    act[0].tags = t_s("{\"team\":\"blue\"}");
    act[0].version = t_s("2.0");
    act[1] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 1, "B", "2");
    T_INT(t_complete_o(env, hub, "v", 1, act, 2, T0, &st), DS_OK);

    t_history_text(env, hub, "v", hist, sizeof(hist));
    T(strstr(hist, "\"EventId\":0,\"Name\":\"A\",\"Input\":1,"
                   "\"Version\":\"2.0\",\"Tags\":{\"team\":\"blue\"}}")
      != NULL);
    T(strstr(hist, "\"EventId\":1,\"Name\":\"B\",\"Input\":2}") != NULL);

    T_INT(t_claim_a(env, hub, T0 + 1, T_LEASE, 1, 2, &a), DS_OK);
    T_INT(a.n, 1);
    T_STR(t_s(a.name[0]), "A");
    T_STR(t_s(a.version[0]), "2.0");
    T_STR(t_s(a.tags[0]), "{\"team\":\"blue\"}");
    T_INT(t_claim_a(env, hub, T0 + 1, T_LEASE, 1, 5, &a), DS_OK);
    T_INT(a.n, 1);
    T_STR(t_s(a.name[0]), "B");
    T_STR(t_s(a.version[0]), "");
    T_STR(t_s(a.tags[0]), "");
    T(t_consistent(env, hub, NULL));

    /* B done, then a failure with A pending: a rewind schedules A anew */

    T_INT(t_complete_a(env, hub, "v", 1, 5, 0, "\"r\"", T0 + 2), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 3, T_LEASE, 1, 3, &o), DS_OK);
    T_INT(o.n, 1);

    t_fail_o(env, hub, "v", 3, 2, "\"no\"", T0 + 3);

    t_rewind(env, hub, "v", "\"again\"", T0 + 4);

    T_INT(t_claim_a(env, hub, T0 + 5, T_LEASE, 2, 4, &a), DS_OK);
    T_INT(a.n, 1);
    T_STR(t_s(a.name[0]), "A");
    T_STR(t_s(a.version[0]), "2.0");
    T_STR(t_s(a.tags[0]), "{\"team\":\"blue\"}");
    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


typedef struct {
    size_t          n;
    uint64_t        first;
    uint64_t        last;
    size_t          bytes;
} t_chunk_t;


static int
t_chunk_cb(void *data, uint64_t seq, ds_str_t event)
{
    t_chunk_t  *c = data;

    if (c->n++ == 0) {
        c->first = seq;
    }

    c->last = seq;
    c->bytes += event.len;

    return 0;
}


static void
t_chunk_done(ds_op_t *op)
{
    (void) op;
}


/* a history read in chunks: bounded by events and bytes, with a next */

static void
t_sdk_history_chunks(void)
{
    char           *dir;
    size_t          i, total;
    uint64_t        next;
    ds_op_t         op;
    ds_env_t       *env;
    ds_str_t        hub;
    t_orch_t        o;
    ds_txn_t       *txn;
    t_chunk_t       c;
    ds_action_t     act[10];
    ds_status_e     st;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    /* 13 events: two markers, ExecutionStarted, 10 TaskScheduled */

    T_INT(t_start(env, hub, "h", "H", "1", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0, T_LEASE, 1, 1, &o), DS_OK);

    for (i = 0; i < 10; i++) {
        act[i] = t_act(DS_ACT_SCHEDULE_ACTIVITY, (int64_t) i, "A", "1");
    }

    T_INT(t_complete_o(env, hub, "h", 1, act, 10, T0, &st), DS_OK);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);

    memset(&c, 0, sizeof(t_chunk_t));
    T_INT(ds_history_chunk(txn, hub, t_s("h"), 0, 0, 0, t_chunk_cb, &c,
                           &next), DS_OK);
    T_INT(c.n, 13);
    T_INT(next, 0);
    total = c.bytes;

    memset(&c, 0, sizeof(t_chunk_t));
    T_INT(ds_history_chunk(txn, hub, t_s("h"), 1, 5, 0, t_chunk_cb, &c,
                           &next), DS_OK);
    T_INT(c.n, 5);
    T_INT(c.first, 1);
    T_INT(next, 6);

    memset(&c, 0, sizeof(t_chunk_t));
    T_INT(ds_history_chunk(txn, hub, t_s("h"), next, 5, 0, t_chunk_cb, &c,
                           &next), DS_OK);
    T_INT(c.first, 6);
    T_INT(c.last, 10);
    T_INT(next, 11);

    memset(&c, 0, sizeof(t_chunk_t));
    T_INT(ds_history_chunk(txn, hub, t_s("h"), next, 5, 0, t_chunk_cb, &c,
                           &next), DS_OK);
    T_INT(c.n, 3);
    T_INT(next, 0);

    /* bytes: never more than asked, but always one event */

    memset(&c, 0, sizeof(t_chunk_t));
    T_INT(ds_history_chunk(txn, hub, t_s("h"), 0, 0, total / 2, t_chunk_cb,
                           &c, &next), DS_OK);
    T(c.n > 1 && c.n < 13);
    T(c.bytes <= total / 2);
    T_INT(next, c.last + 1);

    memset(&c, 0, sizeof(t_chunk_t));
    T_INT(ds_history_chunk(txn, hub, t_s("h"), 0, 0, 1, t_chunk_cb, &c,
                           &next), DS_OK);
    T_INT(c.n, 1);
    T_INT(next, 2);

    /* past the end, and a missing instance: nothing */

    memset(&c, 0, sizeof(t_chunk_t));
    T_INT(ds_history_chunk(txn, hub, t_s("h"), 99, 0, 0, t_chunk_cb, &c,
                           &next), DS_OK);
    T_INT(c.n, 0);
    T_INT(next, 0);
    ds_txn_abort(txn);

    /* through the op: the instance's execution and status with it */

    memset(&op, 0, sizeof(ds_op_t));
    memset(&c, 0, sizeof(t_chunk_t));
    op.type = DS_OP_HISTORY;
    op.hub = hub;
    op.done = t_chunk_done;
    op.in.history.id = t_s("h");
    op.in.history.from = 4;
    op.in.history.max_events = 2;
    op.in.history.item = t_chunk_cb;
    op.in.history.item_data = &c;
    T_INT(ds_op_read(env, &op), DS_OK);
    T_INT(c.n, 2);
    T_INT(c.first, 4);
    T_INT(op.out.history.next, 6);
    T_INT(op.out.history.execution, 1);
    T_INT(op.out.history.status, DS_RUNNING);

    op.in.history.id = t_s("none");
    T_INT(ds_op_read(env, &op), DS_NOTFOUND);

    ds_env_close(env);
    t_rmdir(dir);
}


/* DS_OP_START hands its options on; a restart keeps version and tags */

static void
t_sdk_start_op(void)
{
    char           *dir;
    ds_op_t         op;
    ds_env_t       *env;
    ds_str_t        hub;
    ds_txn_t       *txn;
    ds_instance_t   inst;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    memset(&op, 0, sizeof(ds_op_t));
    op.type = DS_OP_START;
    op.hub = hub;
    op.now = T0;
    op.in.start.id = t_s("a");
    op.in.start.name = t_s("A");
    op.in.start.opts.version = t_s("2");
    op.in.start.opts.tags = t_s("{\"x\":\"y\"}");
    ds_op_batch(env, &op);
    T_INT(op.rc, DS_OK);

    op.in.start.opts.replace = DS_STATUS_MASK(DS_RUNNING);
    ds_op_batch(env, &op);
    T_INT(op.rc, DS_CONFLICT);
    T_INT(op.out.start.status, DS_PENDING);

    memset(&op, 0, sizeof(ds_op_t));
    op.type = DS_OP_RESTART;
    op.hub = hub;
    op.now = T0 + 1;
    op.in.start.id = t_s("b");
    op.in.start.from = t_s("a");
    ds_op_batch(env, &op);
    T_INT(op.rc, DS_OK);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_instance_get(txn, hub, t_s("b"), &inst), DS_OK);
    T_STR(inst.version, "2");
    T_STR(inst.tags, "{\"x\":\"y\"}");
    ds_txn_abort(txn);

    ds_env_close(env);
    t_rmdir(dir);
}


static int
t_complete_ent(ds_env_t *env, ds_str_t hub, const char *name,
    const char *key, int tok, const char *state,
    const ds_entity_result_t *res, size_t nres, int64_t now)
{
    int        rc;
    ds_txn_t  *txn;

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);

    rc = ds_work_complete_entity_results(txn, hub, t_s(name), t_s(key),
                                         t_tok(tok), 0, t_s(state), res,
                                         nres, NULL, 0, now);
    if (rc == DS_OK) {
        T_INT(ds_txn_commit(txn), DS_OK);

    } else {
        ds_txn_abort(txn);
    }

    return rc;
}


static void
t_locked_by(ds_env_t *env, ds_str_t hub, const char *name, const char *key,
    const char *want)
{
    char         got[64];
    ds_txn_t    *txn;
    ds_entity_t  e;

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_entity_get(txn, hub, t_s(name), t_s(key), &e), DS_OK);
    snprintf(got, sizeof(got), "%.*s", (int) e.locked_by.len,
             e.locked_by.len ? e.locked_by.data : "");
    ds_txn_abort(txn);

    T(strcmp(got, want) == 0);
}


static ds_action_t
t_call(int64_t id, const char *rid, const char *op, const char *name,
    const char *key, const char *input)
{
    ds_action_t  a;

    a = t_act(DS_ACT_CALL_ENTITY, id, op, input);
    a.request_id = t_s(rid);
    a.entity_name = t_s(name);
    a.entity_key = t_s(key);

    return a;
}


/* a call's result comes back to the caller as the event the SDKs read */

static void
t_sdk_entity_calls(void)
{
    char                 *dir, hist[T_TEXT];
    ds_env_t             *env;
    ds_str_t              hub;
    t_buf_t               b;
    t_ent_t               e;
    t_orch_t              o;
    ds_action_t           act[2];
    ds_status_e           st;
    ds_entity_result_t    res[2];

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "o", "O", "1", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0, T_LEASE, 1, 1, &o), DS_OK);

    act[0] = t_call(0, "r-1", "add", "Counter", "a", "2");
    act[1] = t_call(1, "r-2", "boom", "counter", "a", NULL);
    T_INT(t_complete_o(env, hub, "o", 1, act, 2, T0, &st), DS_OK);

    t_history_text(env, hub, "o", hist, sizeof(hist));
    T(strstr(hist, "{\"EventType\":\"EntityOperationCalled\",\"Timestamp\":"
                   "\"2018-03-10T13:57:31Z\",\"EventId\":0,"
                   "\"RequestId\":\"r-1\",\"Operation\":\"add\","
                   "\"Input\":2,\"TargetInstanceId\":\"@counter@a\"}")
      != NULL);
    T(strstr(hist, "\"EventId\":1,\"RequestId\":\"r-2\"") != NULL);

    /* the worker sees both calls, with their request ids */

    T_INT(t_claim_e(env, hub, T0 + 1, T_LEASE, 4, 2, &e), DS_OK);
    T_INT(e.n, 1);
    T_INT(e.nops[0], 2);
    T(strstr(e.ops[0], "\"operation\":\"add\",\"input\":2,") != NULL);
    T(strstr(e.ops[0], "\"requestId\":\"r-1\",\"parentInstanceId\":\"o\","
                       "\"parentExecution\":1") != NULL);

    memset(res, 0, sizeof(res));
    res[0].output = t_s("2");
    res[1].failed = 1;
    res[1].reason = t_s("\"no such operation\"");
    res[1].details = t_s("{\"type\":\"Error\"}");
    T_INT(t_complete_ent(env, hub, "counter", "a", 2, "2", res, 2, T0 + 2),
          DS_OK);

    /* a retry is answered as the first; another body is a mismatch */
    T_INT(t_complete_ent(env, hub, "counter", "a", 2, "2", res, 2, T0 + 3),
          DS_OK);
    T_INT(t_complete_ent(env, hub, "counter", "a", 2, "2", res, 1, T0 + 3),
          DS_MISMATCH);

    t_inbox_text(env, hub, "o", &b);
    T(strstr(b.text, "{\"EventType\":\"EntityOperationCompleted\","
                     "\"Timestamp\":\"2018-03-10T13:57:31.000002Z\","
                     "\"EventId\":-1,\"RequestId\":\"r-1\",\"Output\":2}\n")
      != NULL);
    T(strstr(b.text, "{\"EventType\":\"EntityOperationFailed\","
                     "\"Timestamp\":\"2018-03-10T13:57:31.000002Z\","
                     "\"EventId\":-1,\"RequestId\":\"r-2\","
                     "\"Reason\":\"no such operation\","
                     "\"Details\":{\"type\":\"Error\"}}\n") != NULL);
    T_INT(t_inbox_count(env, hub, "o"), 2);
    T(t_consistent(env, hub, NULL));

    /* without results, a call is answered with a null output */

    T_INT(t_claim_o(env, hub, T0 + 4, T_LEASE, 1, 3, &o), DS_OK);
    act[0] = t_call(2, "r-3", "get", "counter", "a", NULL);
    T_INT(t_complete_o(env, hub, "o", 3, act, 1, T0 + 4, &st), DS_OK);
    T_INT(t_claim_e(env, hub, T0 + 5, T_LEASE, 4, 4, &e), DS_OK);
    T_INT(e.n, 1);
    T_INT(t_complete_ent(env, hub, "counter", "a", 4, "2", NULL, 0, T0 + 6),
          DS_OK);
    t_inbox_text(env, hub, "o", &b);
    T(strstr(b.text, "\"RequestId\":\"r-3\",\"Output\":null}") != NULL);

    /* bad request ids are refused before anything is written */
    act[0] = t_call(3, "", "get", "counter", "a", NULL);
    T_INT(t_claim_o(env, hub, T0 + 7, T_LEASE, 1, 5, &o), DS_OK);
    T_INT(t_complete_o(env, hub, "o", 5, act, 1, T0 + 7, &st), DS_INVALID);

    ds_env_close(env);
    t_rmdir(dir);
}


/* a batch that failed as a whole: its calls fail, the state stays */

static int
t_fail_ent(ds_env_t *env, ds_str_t hub, int tok, const char *reason,
    int64_t now)
{
    int        rc;
    ds_txn_t  *txn;

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);

    rc = ds_work_fail_entity(txn, hub, t_s("counter"), t_s("a"), t_tok(tok),
                             t_s(reason), t_s("{\"ErrorType\":\"Error\"}"),
                             now);
    if (rc == DS_OK) {
        T_INT(ds_txn_commit(txn), DS_OK);

    } else {
        ds_txn_abort(txn);
    }

    return rc;
}


static void
t_sdk_entity_batch_failed(void)
{
    char          *dir;
    ds_env_t      *env;
    ds_str_t       hub;
    ds_txn_t      *txn;
    t_buf_t        b;
    t_ent_t        e;
    t_orch_t       o;
    ds_entity_t    ent;
    ds_action_t    act[2];
    ds_status_e    st;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    /* the entity has a state, then a call and a signal come */

    T_INT(t_start(env, hub, "o", "O", "1", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0, T_LEASE, 1, 1, &o), DS_OK);
    act[0] = t_call(0, "r-1", "set", "counter", "a", "5");
    T_INT(t_complete_o(env, hub, "o", 1, act, 1, T0, &st), DS_OK);
    T_INT(t_claim_e(env, hub, T0 + 1, T_LEASE, 4, 2, &e), DS_OK);
    T_INT(e.n, 1);
    T_INT(t_complete_ent(env, hub, "counter", "a", 2, "5", NULL, 0, T0 + 2),
          DS_OK);

    T_INT(t_claim_o(env, hub, T0 + 3, T_LEASE, 1, 3, &o), DS_OK);
    act[0] = t_call(1, "r-2", "add", "counter", "a", "1");
    act[1] = t_act(DS_ACT_SIGNAL_ENTITY, 2, "add", "1");
    act[1].entity_name = t_s("counter");
    act[1].entity_key = t_s("a");
    T_INT(t_complete_o(env, hub, "o", 3, act, 2, T0 + 3, &st), DS_OK);

    T_INT(t_claim_e(env, hub, T0 + 4, T_LEASE, 4, 4, &e), DS_OK);
    T_INT(e.n, 1);
    T_INT(e.nops[0], 2);

    /* a stale lease is refused; the batch fails under the current one */
    T_INT(t_fail_ent(env, hub, 9, "\"boom\"", T0 + 5), DS_CONFLICT);
    T_INT(t_fail_ent(env, hub, 4, "\"boom\"", T0 + 5), DS_OK);

    /* a retry is answered as the first; another failure is a mismatch */
    T_INT(t_fail_ent(env, hub, 4, "\"boom\"", T0 + 6), DS_OK);
    T_INT(t_fail_ent(env, hub, 4, "\"bang\"", T0 + 6), DS_MISMATCH);
    T_INT(t_complete_ent(env, hub, "counter", "a", 4, "5", NULL, 0, T0 + 6),
          DS_MISMATCH);

    /* the caller hears of the failure, once */
    t_inbox_text(env, hub, "o", &b);
    T(strstr(b.text, "\"EventType\":\"EntityOperationFailed\","
                     "\"Timestamp\":\"2018-03-10T13:57:31.000005Z\","
                     "\"EventId\":-1,\"RequestId\":\"r-2\","
                     "\"Reason\":\"boom\","
                     "\"Details\":{\"ErrorType\":\"Error\"}}\n") != NULL);
    T_INT(t_inbox_count(env, hub, "o"), 1);

    /* the state is as it was, and nothing is left to run */

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_entity_get(txn, hub, t_s("counter"), t_s("a"), &ent), DS_OK);
    T_STR(ent.state, "5");
    ds_txn_abort(txn);

    T_INT(t_claim_e(env, hub, T0 + 7, T_LEASE, 4, 5, &e), DS_OK);
    T_INT(e.n, 0);
    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/* the op of an episode's completion: id's, under lease tok, actions a */

static void
t_complete_op(ds_op_t *op, ds_str_t hub, const char *id, int tok,
    const ds_action_t *a, size_t n, int64_t now)
{
    memset(op, 0, sizeof(ds_op_t));
    op->type = DS_OP_WORK_COMPLETE;
    op->hub = hub;
    op->now = now;
    op->in.work.kind = DS_WORK_ORCHESTRATION;
    op->in.work.id = t_s(id);
    op->in.work.lease = t_tok(tok);
    op->in.work.actions = a;
    op->in.work.nactions = n;
}


/* a completion through the op layer that took only some messages */

static int
t_complete_partial(ds_env_t *env, ds_str_t hub, const char *id, int tok,
    const ds_action_t *a, size_t n, size_t processed, int64_t now)
{
    ds_op_t  op;

    t_complete_op(&op, hub, id, tok, a, n, now);
    op.in.work.partial = 1;
    op.in.work.processed = processed;

    ds_op_batch(env, &op);

    return op.rc;
}


static void
t_sdk_events_processed(void)
{
    int            i;
    char          *dir, types[T_TEXT];
    ds_env_t      *env;
    ds_str_t       hub;
    ds_txn_t      *txn;
    t_orch_t       o;
    ds_action_t    act[1];
    ds_status_e    st;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "o", "O", "1", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0, T_LEASE, 1, 1, &o), DS_OK);
    T_INT(t_complete_o(env, hub, "o", 1, NULL, 0, T0, &st), DS_OK);

    for (i = 0; i < 3; i++) {
        T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
        T_INT(ds_op_raise_event(txn, hub, t_s("o"), t_s("e"),
                                t_s(i == 0 ? "1" : i == 1 ? "2" : "3"),
                                T0 + 1), DS_OK);
        T_INT(ds_txn_commit(txn), DS_OK);
    }

    /* three delivered, the worker took one */

    T_INT(t_claim_o(env, hub, T0 + 2, T_LEASE, 1, 2, &o), DS_OK);
    T_INT(o.n, 1);
    T_INT(o.nmessages[0], 3);
    act[0] = t_act(DS_ACT_SET_CUSTOM_STATUS, 0, NULL, "\"one\"");
    T_INT(t_complete_partial(env, hub, "o", 2, act, 1, 1, T0 + 3), DS_OK);

    /* a retry is answered as the first; another count is a mismatch */
    T_INT(t_complete_partial(env, hub, "o", 2, act, 1, 1, T0 + 4), DS_OK);
    T_INT(t_complete_partial(env, hub, "o", 2, act, 1, 2, T0 + 4),
          DS_MISMATCH);

    t_history_types(env, hub, "o", types, sizeof(types));
    T_STR(t_s(types), "OrchestratorStarted,ExecutionStarted,"
                      "OrchestratorCompleted,OrchestratorStarted,"
                      "EventRaised,OrchestratorCompleted");
    T_INT(t_inbox_count(env, hub, "o"), 2);

    /* the others come at once, in their order, to the next episode */

    T_INT(t_claim_o(env, hub, T0 + 5, T_LEASE, 1, 3, &o), DS_OK);
    T_INT(o.n, 1);
    T_INT(o.nmessages[0], 2);
    T(strstr(o.messages[0], "\"Input\":2") != NULL);
    T(strstr(o.messages[0], "\"Input\":2") < strstr(o.messages[0],
                                                      "\"Input\":3"));

    /* none taken: all stay */
    T_INT(t_complete_partial(env, hub, "o", 3, NULL, 0, 0, T0 + 6), DS_OK);
    T_INT(t_inbox_count(env, hub, "o"), 2);

    /* more than delivered: all taken */
    T_INT(t_claim_o(env, hub, T0 + 7, T_LEASE, 1, 4, &o), DS_OK);
    T_INT(o.nmessages[0], 2);
    T_INT(t_complete_partial(env, hub, "o", 4, NULL, 0, 5, T0 + 8), DS_OK);
    T_INT(t_inbox_count(env, hub, "o"), 0);
    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/* an orchestration terminates others, with their children or alone */

static void
t_sdk_terminate_action(void)
{
    char                 *dir, out[256];
    ds_env_t             *env;
    ds_str_t              hub;
    t_orch_t              o;
    t_named_t             c;
    ds_action_t           act[3];
    ds_status_e           st;
    ds_instance_t         inst;
    ds_action_fault_t     f;
    const char           *only_o[] = { "O", NULL };

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    /* x runs a child, x:0; z runs alone */

    T_INT(t_start(env, hub, "x", "X", NULL, T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0, T_LEASE, 1, 1, &o), DS_OK);
    act[0] = t_act(DS_ACT_START_SUB, 0, "C", NULL);
    T_INT(t_complete_o(env, hub, "x", 1, act, 1, T0, &st), DS_OK);
    T_INT(t_start(env, hub, "z", "Z", NULL, T0), DS_OK);
    T_INT(t_start(env, hub, "o", "O", NULL, T0 + 1), DS_OK);

    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0 + 2, 1, 2,
                        only_o, &c), DS_OK);
    T_INT(c.n, 1);

    act[0] = t_act(DS_ACT_TERMINATE, -1, NULL, "\"enough\"");
    act[0].instance_id = t_s("x");
    act[0].recurse = 1;
    act[1] = t_act(DS_ACT_TERMINATE, -1, NULL, NULL);
    act[1].instance_id = t_s("z");
    act[2] = t_act(DS_ACT_TERMINATE, -1, NULL, NULL);
    act[2].instance_id = t_s("missing");

    /* itself: refused before anything is written */
    act[2].instance_id = t_s("o");
    T_INT(ds_work_actions_check(t_s("o"), act, 3, &f), DS_INVALID);
    T_INT(f.index, 2);
    T_INT(t_complete_o(env, hub, "o", 2, act, 3, T0 + 3, &st), DS_INVALID);
    act[2].instance_id = t_s("missing");

    T_INT(t_complete_o(env, hub, "o", 2, act, 3, T0 + 3, &st), DS_OK);
    T_INT(st, DS_RUNNING);

    T_INT(t_get(env, hub, "x", &inst, out, sizeof(out)), DS_OK);
    T_INT(inst.status, DS_TERMINATED);
    T(strcmp(out, "\"enough\"") == 0);
    T_INT(t_get(env, hub, "x:0", &inst, out, sizeof(out)), DS_OK);
    T_INT(inst.status, DS_TERMINATED);
    T_INT(t_get(env, hub, "z", &inst, out, sizeof(out)), DS_OK);
    T_INT(inst.status, DS_TERMINATED);
    T_INT(t_get(env, hub, "o", &inst, out, sizeof(out)), DS_OK);
    T_INT(inst.status, DS_RUNNING);
    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/* the inbox as "seq event" lines */

static int
t_seq_cb(void *data, uint64_t seq, ds_str_t event)
{
    int       n;
    t_buf_t  *b = data;

    n = snprintf(b->text + b->len, sizeof(b->text) - b->len, "%llu %.*s\n",
                 (unsigned long long) seq, (int) event.len, event.data);

    if (n < 0 || (size_t) n >= sizeof(b->text) - b->len) {
        return 1;
    }

    b->len += (size_t) n;

    return 0;
}


static void
t_inbox_seqs(ds_env_t *env, ds_str_t hub, const char *id, t_buf_t *b)
{
    t_inbox_lines(env, hub, id, t_seq_cb, b);
}


/* a line "seq" of an event of type "type" that holds "text" */

static int
t_line_has(const t_buf_t *b, const char *seq, const char *type,
    const char *text)
{
    char         head[128], line[512];
    size_t       n;
    const char  *p, *nl;

    n = (size_t) snprintf(head, sizeof(head), "%s {\"EventType\":\"%s\"",
                          seq, type);

    for (p = b->text; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
        if ((size_t) (nl - p) >= sizeof(line)) {
            continue;
        }

        memcpy(line, p, (size_t) (nl - p));
        line[nl - p] = '\0';

        if (strncmp(line, head, n) == 0 && strstr(line, text) != NULL) {
            return 1;
        }
    }

    return 0;
}


/* a line "seq" of an event of type "type" (the whole seq, not "13" for
   "3") */

static int
t_has(const t_buf_t *b, const char *seq, const char *type)
{
    return t_line_has(b, seq, type, "");
}


/*
 * A completion that queues two messages to its own instance by two ways:
 * through the stored record (a lock granted at once, a terminated
 * child's end) and through the record it holds (an event to itself, a
 * refused sub-orchestration). Each takes a seq of its own, in the order
 * of the actions whichever comes first, and the counter ends past all
 * (the same on PostgreSQL: store/pg/tests/062-completion-self-seq.sql).
 */

static void
t_sdk_self_messages(void)
{
    char           *dir;
    ds_env_t       *env;
    ds_str_t        hub, set1[1], set2[1];
    t_buf_t         b;
    t_named_t       c;
    ds_action_t     act[3];
    ds_status_e     st;
    ds_instance_t   inst;
    const char     *only_a[] = { "A", NULL };
    const char     *only_b[] = { "B", NULL };
    const char     *only_c[] = { "C", NULL };

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    /* the lock granted, then an event to itself */

    T_INT(t_start(env, hub, "o1", "A", NULL, T0), DS_OK);
    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0, 1, 1, only_a,
                        &c), DS_OK);
    T_INT(c.n, 1);

    set1[0] = t_s("@e@1");
    act[0] = t_act(DS_ACT_LOCK_ENTITIES, 0, NULL, NULL);
    act[0].request_id = t_s("cs1");
    act[0].lock_set = set1;
    act[0].nlock = 1;
    act[1] = t_act(DS_ACT_RAISE_EVENT, 1, "self", NULL);
    act[1].instance_id = t_s("o1");
    T_INT(t_complete_o(env, hub, "o1", 1, act, 2, T0, &st), DS_OK);

    t_inbox_seqs(env, hub, "o1", &b);
    T(t_has(&b, "2", "EntityLockGranted"));
    T(t_has(&b, "3", "EventRaised"));
    T_INT(t_get(env, hub, "o1", &inst, NULL, 0), DS_OK);
    T_INT(inst.inbox_seq, 3);

    /* an event to itself, then the lock granted */

    T_INT(t_start(env, hub, "o2", "B", NULL, T0), DS_OK);
    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0, 1, 2, only_b,
                        &c), DS_OK);
    T_INT(c.n, 1);

    set2[0] = t_s("@e@2");
    act[0] = t_act(DS_ACT_RAISE_EVENT, 0, "self", NULL);
    act[0].instance_id = t_s("o2");
    act[1] = t_act(DS_ACT_LOCK_ENTITIES, 1, NULL, NULL);
    act[1].request_id = t_s("cs2");
    act[1].lock_set = set2;
    act[1].nlock = 1;
    T_INT(t_complete_o(env, hub, "o2", 2, act, 2, T0, &st), DS_OK);

    t_inbox_seqs(env, hub, "o2", &b);
    T(t_has(&b, "2", "EventRaised"));
    T(t_has(&b, "3", "EntityLockGranted"));
    T_INT(t_get(env, hub, "o2", &inst, NULL, 0), DS_OK);
    T_INT(inst.inbox_seq, 3);

    /*
     * its child terminated, then a sub-orchestration of its own id
     * (active: refused) and an event to itself
     */

    T_INT(t_start(env, hub, "o3", "C", NULL, T0), DS_OK);
    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0, 1, 3, only_c,
                        &c), DS_OK);
    T_INT(c.n, 1);
    act[0] = t_act(DS_ACT_START_SUB, 0, "K", NULL);
    T_INT(t_complete_o(env, hub, "o3", 3, act, 1, T0, &st), DS_OK);

    t_raise_go(env, hub, "o3", T0 + 1);
    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0 + 1, 1, 4,
                        only_c, &c), DS_OK);
    T_INT(c.n, 1);
    T(strcmp(c.id[0], "o3") == 0);

    act[0] = t_act(DS_ACT_TERMINATE, -1, NULL, "\"stop\"");
    act[0].instance_id = t_s("o3:0");
    act[1] = t_act(DS_ACT_START_SUB, 1, "K", NULL);
    act[1].instance_id = t_s("o3");
    act[2] = t_act(DS_ACT_RAISE_EVENT, 2, "self", NULL);
    act[2].instance_id = t_s("o3");
    T_INT(t_complete_o(env, hub, "o3", 4, act, 3, T0 + 1, &st), DS_OK);

    T_INT(t_get(env, hub, "o3:0", &inst, NULL, 0), DS_OK);
    T_INT(inst.status, DS_TERMINATED);

    t_inbox_seqs(env, hub, "o3", &b);
    T(t_line_has(&b, "3", "SubOrchestrationInstanceFailed",
                 "\"Reason\":\"stop\""));
    T(t_line_has(&b, "4", "SubOrchestrationInstanceFailed",
                 "with ID 'o3' already exists."));
    T(t_has(&b, "5", "EventRaised"));
    T_INT(t_get(env, hub, "o3", &inst, NULL, 0), DS_OK);
    T_INT(inst.inbox_seq, 5);
    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/* a completion through the op layer, with its status and changed */

static int
t_complete_answer(ds_env_t *env, ds_str_t hub, const char *id, int tok,
    const ds_action_t *a, size_t n, int64_t now, ds_status_e *status,
    int *changed)
{
    ds_op_t  op;

    t_complete_op(&op, hub, id, tok, a, n, now);
    op.out.work.status = DS_STATUS_COUNT;
    op.out.work.changed = -1;

    ds_op_batch(env, &op);

    *status = op.out.work.status;
    *changed = op.out.work.changed;

    return op.rc;
}


/* starts id (named name) as a sub-orchestration of parent, named pname */

static void
t_sub(ds_env_t *env, ds_str_t hub, const char *parent, const char *pname,
    const char *id, const char *name, int tok, int64_t now)
{
    ds_action_t     act;
    ds_status_e     st;
    t_named_t       c;
    const char     *names[2];

    names[0] = pname;
    names[1] = NULL;

    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, now, 1, tok, names,
                        &c), DS_OK);
    T_INT(c.n, 1);
    T(c.n == 1 && strcmp(c.id[0], parent) == 0);

    act = t_act(DS_ACT_START_SUB, 0, name, NULL);
    act.instance_id = t_s(id);
    T_INT(t_complete_o(env, hub, parent, tok, &act, 1, now, &st), DS_OK);
}


/*
 * Ends the life of id: terminated (with reason, JSON text) and purged at
 * now, so that its id is free. With name, a new life of name (input
 * input) starts under the id at now + 1.
 */

static void
t_life_again(ds_env_t *env, ds_str_t hub, const char *id,
    const char *reason, const char *name, const char *input, int64_t now)
{
    ds_txn_t     *txn;
    ds_status_e   st;

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_op_terminate(txn, hub, t_s(id), t_s(reason), now), DS_OK);
    T_INT(ds_op_purge(txn, hub, t_s(id), &st), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    if (name != NULL) {
        T_INT(t_start(env, hub, id, name, input, now + 1), DS_OK);
    }
}


/* id is Terminated by "reason" with ExecutionTerminated last */

static void
t_terminated_by(ds_env_t *env, ds_str_t hub, const char *id,
    const char *reason)
{
    char            out[64], types[T_TEXT];
    size_t          len, tail;
    ds_instance_t   inst;
    const char     *last = ",ExecutionTerminated";

    T_INT(t_get(env, hub, id, &inst, out, sizeof(out)), DS_OK);
    T_INT(inst.status, DS_TERMINATED);
    T(strcmp(out, reason) == 0);
    T_INT(inst.ready_at, 0);
    T_INT(t_inbox_count(env, hub, id), 0);

    t_history_types(env, hub, id, types, sizeof(types));
    len = strlen(types);
    tail = strlen(last);
    T(len > tail && strcmp(types + len - tail, last) == 0);

    /* the only one */
    T(strstr(types, last) == types + len - tail);
}


/*
 * A completion that terminates the tree of its own parent or
 * grandparent ends its own instance with it: the instance stays
 * Terminated with the termination's reason, the actions after the
 * termination are not applied, and the answer is Terminated, changed,
 * the same again for a retry. A termination of the parent alone leaves
 * the completing child as any completion does. (The same on
 * PostgreSQL: store/pg/tests/063-completion-self-terminate.sql.)
 */

static void
t_sdk_self_terminate(void)
{
    int             changed;
    char           *dir, out[64], types[T_TEXT];
    ds_env_t       *env;
    ds_str_t        hub;
    t_buf_t         b;
    t_act_t         a;
    t_named_t       c;
    ds_txn_t       *txn;
    ds_action_t     act[8];
    ds_status_e     st;
    ds_instance_t   inst, qx;
    const char     *only_c1[] = { "C1", NULL };
    const char     *only_g2[] = { "G2", NULL };
    const char     *only_n1[] = { "N1", NULL };
    const char     *only_q1[] = { "Q1", NULL };

    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    /*
     * the child, Running since a first episode, terminates its parent's
     * tree, then would do more
     */

    hub = t_s("One");
    T_INT(t_start(env, hub, "p1", "P1", NULL, T0), DS_OK);
    T_INT(t_start(env, hub, "o1", "O1", NULL, T0), DS_OK);
    t_sub(env, hub, "p1", "P1", "c1", "C1", 1, T0);
    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0 + 1, 1, 11,
                        only_c1, &c), DS_OK);
    T_INT(c.n, 1);

    /* its first episode starts a child, which the tree's walk ends */
    act[0] = t_act(DS_ACT_START_SUB, 0, "E", NULL);
    act[0].instance_id = t_s("e1");
    T_INT(t_complete_o(env, hub, "c1", 11, act, 1, T0 + 1, &st), DS_OK);
    T_INT(st, DS_RUNNING);

    t_raise_go(env, hub, "c1", T0 + 1);
    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0 + 1, 1, 2,
                        only_c1, &c), DS_OK);
    T_INT(c.n, 1);

    /*
     * before the termination a custom status (kept) and an event to
     * another instance (sent); after it, an event not sent
     */
    act[0] = t_act(DS_ACT_SET_CUSTOM_STATUS, -1, NULL, "\"cs\"");
    act[1] = t_act(DS_ACT_RAISE_EVENT, 3, "before", NULL);
    act[1].instance_id = t_s("o1");
    act[2] = t_act(DS_ACT_TERMINATE, -1, NULL, "\"down\"");
    act[2].instance_id = t_s("p1");
    act[2].recurse = 1;
    act[3] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 1, "A", "1");
    act[4] = t_act(DS_ACT_START_SUB, 2, "K", NULL);
    act[4].instance_id = t_s("k1");
    act[5] = t_act(DS_ACT_RAISE_EVENT, 4, "after", NULL);
    act[5].instance_id = t_s("o1");
    T_INT(t_complete_answer(env, hub, "c1", 2, act, 6, T0 + 2, &st,
                            &changed), DS_OK);
    T_INT(st, DS_TERMINATED);
    T_INT(changed, 1);

    t_terminated_by(env, hub, "p1", "\"down\"");
    t_terminated_by(env, hub, "c1", "\"down\"");
    T_INT(t_get(env, hub, "c1", &inst, NULL, 0), DS_OK);
    T_INT(inst.done_status, DS_TERMINATED);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_instance_get(txn, hub, t_s("c1"), &inst), DS_OK);
    T(inst.custom_status.len == 4
      && memcmp(inst.custom_status.data, "\"cs\"", 4) == 0);
    ds_txn_abort(txn);

    T_INT(t_get(env, hub, "e1", &inst, out, sizeof(out)), DS_OK);
    T_INT(inst.status, DS_TERMINATED);
    T(strcmp(out, "\"down\"") == 0);

    t_inbox_text(env, hub, "o1", &b);
    T(strstr(b.text, "\"Name\":\"before\"") != NULL);
    T(strstr(b.text, "\"Name\":\"after\"") == NULL);

    /* nothing after the termination: no activity, no child */
    T_INT(t_claim_a(env, hub, T0 + 3, T_LEASE, 1, 3, &a), DS_OK);
    T_INT(a.n, 0);
    T_INT(t_get(env, hub, "k1", &inst, NULL, 0), DS_NOTFOUND);

    /* a retry gets the first answer; another completion is refused */
    T_INT(t_complete_answer(env, hub, "c1", 2, act, 6, T0 + 4, &st,
                            &changed), DS_OK);
    T_INT(st, DS_TERMINATED);
    T_INT(changed, 0);
    T_INT(t_complete_answer(env, hub, "c1", 2, act, 1, T0 + 4, &st,
                            &changed), DS_MISMATCH);
    T_INT(t_complete_answer(env, hub, "c1", 9, act, 1, T0 + 4, &st,
                            &changed), DS_GONE);
    T(t_consistent(env, hub, NULL));

    /*
     * the grandchild terminates its grandparent's tree, after an event
     * to itself (which the termination drops with its inbox)
     */

    hub = t_s("Two");
    T_INT(t_start(env, hub, "g0", "G0", NULL, T0), DS_OK);
    t_sub(env, hub, "g0", "G0", "g1", "G1", 4, T0);
    t_sub(env, hub, "g1", "G1", "g2", "G2", 5, T0 + 1);
    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0 + 2, 1, 6,
                        only_g2, &c), DS_OK);
    T_INT(c.n, 1);

    /*
     * suspended while its episode runs, and finishing after the
     * termination: the finish is not applied
     */
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_op_suspend(txn, hub, t_s("g2"), t_s("\"nap\""), T0 + 2),
          DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);
    T_INT(t_get(env, hub, "g2", &inst, NULL, 0), DS_OK);
    T_INT(inst.status, DS_SUSPENDED);

    act[0] = t_act(DS_ACT_RAISE_EVENT, -1, "self", NULL);
    act[0].instance_id = t_s("g2");
    act[1] = t_act(DS_ACT_TERMINATE, -1, NULL, "\"all\"");
    act[1].instance_id = t_s("g0");
    act[1].recurse = 1;
    act[2] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 1, "A", "1");
    act[3] = t_act(DS_ACT_COMPLETE, 2, NULL, "\"done\"");
    T_INT(t_complete_answer(env, hub, "g2", 6, act, 4, T0 + 3, &st,
                            &changed), DS_OK);
    T_INT(st, DS_TERMINATED);
    T_INT(changed, 1);

    t_terminated_by(env, hub, "g0", "\"all\"");
    t_terminated_by(env, hub, "g1", "\"all\"");
    t_terminated_by(env, hub, "g2", "\"all\"");
    T_INT(t_claim_a(env, hub, T0 + 4, T_LEASE, 1, 7, &a), DS_OK);
    T_INT(a.n, 0);
    T(t_consistent(env, hub, NULL));

    /* the parent alone: the child goes on, its actions all applied */

    hub = t_s("Three");
    T_INT(t_start(env, hub, "n0", "N0", NULL, T0), DS_OK);
    t_sub(env, hub, "n0", "N0", "n1", "N1", 8, T0);
    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0 + 1, 1, 9,
                        only_n1, &c), DS_OK);
    T_INT(c.n, 1);

    act[0] = t_act(DS_ACT_TERMINATE, -1, NULL, "\"one\"");
    act[0].instance_id = t_s("n0");
    act[1] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 1, "A", "1");
    T_INT(t_complete_answer(env, hub, "n1", 9, act, 2, T0 + 2, &st,
                            &changed), DS_OK);
    T_INT(st, DS_RUNNING);
    T_INT(changed, 1);

    t_terminated_by(env, hub, "n0", "\"one\"");
    T_INT(t_get(env, hub, "n1", &inst, NULL, 0), DS_OK);
    T_INT(inst.status, DS_RUNNING);
    T_INT(t_claim_a(env, hub, T0 + 3, T_LEASE, 1, 10, &a), DS_OK);
    T_INT(a.n, 1);
    T(a.n == 1 && strcmp(a.id[0], "n1") == 0);
    T(t_consistent(env, hub, NULL));

    /*
     * an episode that continues as new writes no history: the child it
     * started before the termination, which the walk cannot find there,
     * ends too, and the history keeps nothing of the episode. A start
     * before it that another's active instance refused leaves that one
     * as it was; a start after it is not made.
     */

    hub = t_s("Four");
    T_INT(t_start(env, hub, "q0", "Q0", NULL, T0), DS_OK);
    T_INT(t_start(env, hub, "qx", "QX", NULL, T0), DS_OK);
    T_INT(t_get(env, hub, "qx", &qx, NULL, 0), DS_OK);
    t_sub(env, hub, "q0", "Q0", "q1", "Q1", 12, T0);
    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0 + 1, 1, 13,
                        only_q1, &c), DS_OK);
    T_INT(c.n, 1);
    T_INT(t_complete_o(env, hub, "q1", 13, NULL, 0, T0 + 1, &st), DS_OK);

    t_raise_go(env, hub, "q1", T0 + 1);
    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0 + 1, 1, 14,
                        only_q1, &c), DS_OK);
    T_INT(c.n, 1);

    act[0] = t_act(DS_ACT_START_SUB, 1, "QX", NULL);
    act[0].instance_id = t_s("qx");
    act[1] = t_act(DS_ACT_START_SUB, 2, "QK", NULL);
    act[1].instance_id = t_s("qk");
    act[2] = t_act(DS_ACT_TERMINATE, -1, NULL, "\"again\"");
    act[2].instance_id = t_s("q0");
    act[2].recurse = 1;
    act[3] = t_act(DS_ACT_START_SUB, 3, "QA", NULL);
    act[3].instance_id = t_s("qa");
    act[4] = t_act(DS_ACT_CONTINUE_AS_NEW, 4, NULL, "2");
    T_INT(t_complete_answer(env, hub, "q1", 14, act, 5, T0 + 2, &st,
                            &changed), DS_OK);
    T_INT(st, DS_TERMINATED);
    T_INT(changed, 1);

    t_terminated_by(env, hub, "q1", "\"again\"");
    T_INT(t_get(env, hub, "qk", &inst, out, sizeof(out)), DS_OK);
    T_INT(inst.status, DS_TERMINATED);
    T(strcmp(out, "\"again\"") == 0);
    T_INT(t_get(env, hub, "qx", &inst, NULL, 0), DS_OK);
    T_INT(inst.status, qx.status);
    T_INT(inst.updated, qx.updated);
    T_INT(inst.ready_at, qx.ready_at);
    T_INT(inst.inbox_seq, qx.inbox_seq);
    T_INT(inst.parent_id.len, 0);
    T_INT(t_get(env, hub, "qa", &inst, NULL, 0), DS_NOTFOUND);

    t_history_types(env, hub, "q1", types, sizeof(types));
    T(strcmp(types, "OrchestratorStarted,ExecutionStarted,"
                    "OrchestratorCompleted,ExecutionTerminated") == 0);
    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


static void t_sdk_clean(ds_env_t *env, ds_str_t hub, size_t max,
    size_t released, size_t removed, int orphans);


static int
t_signal_acc(ds_txn_t *txn, void *data)
{
    return ds_entity_signal(txn, t_s("Hub"), t_s("acc"), t_s(data),
                            t_s("reset"), t_s(""), T0);
}


/*
 * The entities @acc@1 to @acc@<n> (n at most 4) exist, each with the
 * state 0: signalled, claimed (tokens 10 on) and completed at T0.
 */

static void
t_accs(ds_env_t *env, ds_str_t hub, int n)
{
    int      i;
    char     key[8];
    t_ent_t  e;

    for (i = 1; i <= n; i++) {
        snprintf(key, sizeof(key), "%d", i);
        T_INT(t_run(env, t_signal_acc, key), DS_OK);
    }

    T_INT(t_claim_e(env, hub, T0, T_LEASE, 4, 10, &e), DS_OK);
    T_INT(e.n, n);

    for (i = 1; i <= n; i++) {
        snprintf(key, sizeof(key), "%d", i);
        T_INT(t_complete_ent(env, hub, "acc", key, 9 + i, "0", NULL, 0, T0),
              DS_OK);
    }
}


/* the token a claim from tok on gave the item of id */

static int
t_tok_of(const t_orch_t *o, int tok, const char *id)
{
    size_t  i;

    for (i = 0; i < o->n; i++) {
        if (strcmp(o->id[i], id) == 0) {
            return tok + (int) i;
        }
    }

    T(0);

    return tok;
}


static ds_action_t
t_lock(int64_t id, const char *cs, ds_str_t *set)
{
    ds_action_t  a;

    a = t_act(DS_ACT_LOCK_ENTITIES, id, NULL, NULL);
    a.request_id = t_s(cs);
    a.lock_set = set;
    a.nlock = 1;

    return a;
}


static ds_action_t
t_unlock(int64_t id, const char *cs, const char *key)
{
    ds_action_t  a;

    a = t_act(DS_ACT_UNLOCK_ENTITY, id, NULL, NULL);
    a.request_id = t_s(cs);
    a.entity_name = t_s("acc");
    a.entity_key = t_s(key);

    return a;
}


/*
 * An id purged and started again numbers its executions from 1 again:
 * what its first life left queued reaches no one when it comes to the
 * front. x asked for the set acc/1, acc/2: it locked acc/1 and waits at
 * acc/2, which h1 holds; y called acc/3 behind h2's lock. Both are
 * terminated, purged and started again. When h1 and h2 let go, x's
 * request is dropped and acc/1 released with it, and y's call runs with
 * its answer dropped; the new lives get neither, and what they send
 * themselves is granted and answered. (The same on PostgreSQL:
 * store/pg/tests/084-entity-reborn.sql.)
 */

static void t_held(ds_env_t *env, ds_str_t hub, const char *id,
    const char *name, ds_str_t *set, int64_t now);


static void
t_sdk_entity_reborn(void)
{
    int              tok;
    char            *dir;
    ds_env_t        *env;
    ds_str_t         hub, s1[1], s2[1], s3[1], s4[1], sx[2];
    ds_txn_t        *txn;
    t_buf_t          b;
    t_ent_t          e;
    t_named_t        c;
    ds_action_t      act[1];
    ds_status_e      st;
    ds_instance_t    inst;
    const char      *only_h[] = { "H", NULL };
    const char      *only_x[] = { "X", NULL };
    const char      *only_u[] = { "U", NULL };

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    s1[0] = t_s("@acc@1");
    s2[0] = t_s("@acc@2");
    s3[0] = t_s("@acc@3");
    s4[0] = t_s("@acc@4");
    sx[0] = s1[0];
    sx[1] = s2[0];

    t_accs(env, hub, 4);

    T_INT(t_start(env, hub, "h1", "H", NULL, T0), DS_OK);
    T_INT(t_start(env, hub, "h2", "H", NULL, T0), DS_OK);
    T_INT(t_start(env, hub, "x", "X", NULL, T0), DS_OK);
    T_INT(t_start(env, hub, "y", "X", NULL, T0), DS_OK);

    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0, 2, 1, only_h,
                        &c), DS_OK);
    T_INT(c.n, 2);
    tok = strcmp(c.id[0], "h1") == 0 ? 1 : 2;
    act[0] = t_lock(0, "cs-1", s2);
    T_INT(t_complete_o(env, hub, "h1", tok, act, 1, T0, &st), DS_OK);
    act[0] = t_lock(0, "cs-2", s3);
    T_INT(t_complete_o(env, hub, "h2", 3 - tok, act, 1, T0, &st), DS_OK);
    t_locked_by(env, hub, "acc", "2", "h1");
    t_locked_by(env, hub, "acc", "3", "h2");

    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0, 2, 3, only_x,
                        &c), DS_OK);
    T_INT(c.n, 2);
    tok = strcmp(c.id[0], "x") == 0 ? 3 : 4;
    act[0] = t_lock(0, "cs-x", sx);
    act[0].nlock = 2;
    T_INT(t_complete_o(env, hub, "x", tok, act, 1, T0, &st), DS_OK);
    t_locked_by(env, hub, "acc", "1", "x");
    act[0] = t_call(0, "r-y", "add", "acc", "3", "1");
    T_INT(t_complete_o(env, hub, "y", 7 - tok, act, 1, T0, &st), DS_OK);

    t_life_again(env, hub, "x", "\"gone\"", "X", NULL, T0 + 1);
    t_life_again(env, hub, "y", "\"gone\"", "X", NULL, T0 + 1);

    T_INT(t_get(env, hub, "x", &inst, NULL, 0), DS_OK);
    T_INT(inst.execution, 1);
    T_INT(inst.created, T0 + 2);

    /* h1 and h2 let go: the first lives' request and call come forward */

    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0 + 3, 2, 5,
                        only_h, &c), DS_OK);
    T_INT(c.n, 2);
    tok = strcmp(c.id[0], "h1") == 0 ? 5 : 6;
    act[0] = t_unlock(1, "cs-1", "2");
    T_INT(t_complete_o(env, hub, "h1", tok, act, 1, T0 + 3, &st), DS_OK);
    act[0] = t_unlock(1, "cs-2", "3");
    T_INT(t_complete_o(env, hub, "h2", 11 - tok, act, 1, T0 + 3, &st),
          DS_OK);

    t_locked_by(env, hub, "acc", "1", "");
    t_locked_by(env, hub, "acc", "2", "");
    t_locked_by(env, hub, "acc", "3", "");

    T_INT(t_claim_e(env, hub, T0 + 4, T_LEASE, 4, 20, &e), DS_OK);
    T_INT(e.n, 1);
    T(strcmp(e.key[0], "3") == 0);
    T_INT(e.nops[0], 1);
    T(strstr(e.ops[0], "\"requestId\":\"r-y\",\"parentInstanceId\":\"y\","
                       "\"parentExecution\":1,\"parentCreated\":"
                       "1520690251000000") != NULL);
    T_INT(t_complete_ent(env, hub, "acc", "3", 20, "1", NULL, 0, T0 + 4),
          DS_OK);

    t_inbox_text(env, hub, "x", &b);
    T(strstr(b.text, "EntityLockGranted") == NULL);
    t_inbox_text(env, hub, "y", &b);
    T(strstr(b.text, "EntityOperationCompleted") == NULL);

    /* the new lives' own request and call: granted and answered */

    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0 + 5, 2, 30,
                        only_x, &c), DS_OK);
    T_INT(c.n, 2);
    tok = strcmp(c.id[0], "x") == 0 ? 30 : 31;
    act[0] = t_lock(0, "cs-x2", s1);
    T_INT(t_complete_o(env, hub, "x", tok, act, 1, T0 + 5, &st), DS_OK);
    act[0] = t_call(0, "r-y2", "add", "acc", "3", "1");
    T_INT(t_complete_o(env, hub, "y", 61 - tok, act, 1, T0 + 5, &st),
          DS_OK);

    t_locked_by(env, hub, "acc", "1", "x");
    t_inbox_text(env, hub, "x", &b);
    T(strstr(b.text, "\"CriticalSectionId\":\"cs-x2\"") != NULL);

    T_INT(t_claim_e(env, hub, T0 + 6, T_LEASE, 4, 40, &e), DS_OK);
    T_INT(e.n, 1);
    T_INT(t_complete_ent(env, hub, "acc", "3", 40, "2", NULL, 0, T0 + 6),
          DS_OK);
    t_inbox_text(env, hub, "y", &b);
    T(strstr(b.text, "\"RequestId\":\"r-y2\"") != NULL);
    T(strstr(b.text, "\"RequestId\":\"r-y\"") == NULL);

    /*
     * a lock its holder took (the grant in its history) outlives the
     * termination, and goes with the execution: when the id is purged,
     * when a start replaces the ended record, and when it continues as
     * new
     */

    t_held(env, hub, "z", "Z", s4, T0 + 7);
    t_life_again(env, hub, "z", "\"gone\"", "Z", NULL, T0 + 8);
    t_locked_by(env, hub, "acc", "4", "");

    t_held(env, hub, "w", "W", s4, T0 + 10);
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_op_terminate(txn, hub, t_s("w"), t_s("\"gone\""), T0 + 11),
          DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);
    t_locked_by(env, hub, "acc", "4", "w");
    T_INT(t_start(env, hub, "w", "W", NULL, T0 + 12), DS_OK);
    T_INT(t_get(env, hub, "w", &inst, NULL, 0), DS_OK);
    T_INT(inst.execution, 2);
    t_locked_by(env, hub, "acc", "4", "");

    t_held(env, hub, "u", "U", s4, T0 + 13);
    t_raise_go(env, hub, "u", T0 + 14);
    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0 + 14, 1, 62,
                        only_u, &c), DS_OK);
    T_INT(c.n, 1);
    act[0] = t_act(DS_ACT_CONTINUE_AS_NEW, 1, NULL, "2");
    T_INT(t_complete_o(env, hub, "u", 62, act, 1, T0 + 14, &st), DS_OK);
    T_INT(st, DS_CONTINUED_AS_NEW);
    t_locked_by(env, hub, "acc", "4", "");

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * id, named name (no other ready instance has it), starts at now, locks
 * set (of acc/4) and takes the grant: the EntityLockGranted moves into
 * its history with the next episode
 */

static void
t_held(ds_env_t *env, ds_str_t hub, const char *id, const char *name,
    ds_str_t *set, int64_t now)
{
    t_named_t     c;
    ds_action_t   act[1];
    ds_status_e   st;
    const char   *only[2];

    only[0] = name;
    only[1] = NULL;

    T_INT(t_start(env, hub, id, name, NULL, now), DS_OK);
    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, now, 1, 60, only,
                        &c), DS_OK);
    T_INT(c.n, 1);
    act[0] = t_lock(0, "cs-held", set);
    T_INT(t_complete_o(env, hub, id, 60, act, 1, now, &st), DS_OK);
    t_locked_by(env, hub, "acc", "4", id);

    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, now, 1, 61, only,
                        &c), DS_OK);
    T_INT(c.n, 1);
    T_INT(t_complete_o(env, hub, id, 61, act, 0, now, &st), DS_OK);
    T_INT(t_inbox_count(env, hub, id), 0);
    t_locked_by(env, hub, "acc", "4", id);
}


/*
 * A lock granted to an execution that will never see it is released at
 * once: granted during the completion that continues as new, granted
 * after the execution continued as new or completed, granted while the
 * last episode ran (its set read from the history), granted before a
 * termination. The new execution never gets the grant, and the
 * entities' queues move on.
 */

static void
t_sdk_stale_grants(void)
{
    int           th, tl;
    char         *dir;
    ds_env_t     *env;
    ds_str_t      hub, s1[1], s2[1], s3[1], s4[1];
    t_buf_t       b;
    t_orch_t      o;
    ds_txn_t     *txn;
    ds_action_t   act[2];
    ds_status_e   st;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    s1[0] = t_s("@acc@1");
    s2[0] = t_s("@acc@2");
    s3[0] = t_s("@acc@3");
    s4[0] = t_s("@acc@4");

    t_accs(env, hub, 4);

    T_INT(t_start(env, hub, "h", "O", "1", T0), DS_OK);
    T_INT(t_start(env, hub, "lk", "O", "1", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0, T_LEASE, 4, 1, &o), DS_OK);
    T_INT(o.n, 2);
    th = t_tok_of(&o, 1, "h");
    tl = t_tok_of(&o, 1, "lk");

    /* granted in the completion that continues as new: released */

    act[0] = t_lock(0, "cs-h", s2);
    T_INT(t_complete_o(env, hub, "h", th, act, 1, T0, &st), DS_OK);
    t_locked_by(env, hub, "acc", "2", "h");

    act[0] = t_lock(0, "cs-a", s1);
    act[1] = t_act(DS_ACT_CONTINUE_AS_NEW, 1, NULL, "2");
    T_INT(t_complete_o(env, hub, "lk", tl, act, 2, T0, &st), DS_OK);
    t_locked_by(env, hub, "acc", "1", "");
    t_inbox_text(env, hub, "lk", &b);
    T(strstr(b.text, "EntityLockGranted") == NULL);

    /* granted after the execution continued as new: released */

    T_INT(t_claim_o(env, hub, T0 + 1, T_LEASE, 4, 10, &o), DS_OK);
    T_INT(o.n, 2);
    th = t_tok_of(&o, 10, "h");
    tl = t_tok_of(&o, 10, "lk");

    act[0] = t_lock(0, "cs-b", s2);
    act[1] = t_act(DS_ACT_CONTINUE_AS_NEW, 1, NULL, "3");
    T_INT(t_complete_o(env, hub, "lk", tl, act, 2, T0 + 1, &st), DS_OK);
    t_locked_by(env, hub, "acc", "2", "h");

    act[0] = t_unlock(1, "cs-h", "2");
    act[1] = t_lock(2, "cs-h2", s3);
    T_INT(t_complete_o(env, hub, "h", th, act, 2, T0 + 1, &st), DS_OK);
    t_locked_by(env, hub, "acc", "2", "");
    t_locked_by(env, hub, "acc", "3", "h");
    t_inbox_text(env, hub, "lk", &b);
    T(strstr(b.text, "EntityLockGranted") == NULL);

    /* granted after the instance completed: released */

    T_INT(t_claim_o(env, hub, T0 + 2, T_LEASE, 4, 20, &o), DS_OK);
    T_INT(o.n, 2);
    th = t_tok_of(&o, 20, "h");
    tl = t_tok_of(&o, 20, "lk");

    act[0] = t_lock(0, "cs-c", s3);
    act[1] = t_act(DS_ACT_COMPLETE, 1, NULL, "1");
    T_INT(t_complete_o(env, hub, "lk", tl, act, 2, T0 + 2, &st), DS_OK);
    T_INT(st, DS_COMPLETED);

    act[0] = t_unlock(3, "cs-h2", "3");
    act[1] = t_lock(4, "cs-h3", s4);
    T_INT(t_complete_o(env, hub, "h", th, act, 2, T0 + 2, &st), DS_OK);
    t_locked_by(env, hub, "acc", "3", "");
    t_locked_by(env, hub, "acc", "4", "h");

    /*
     * granted while the last episode ran, which continues as new: the
     * set is the history's
     */

    T_INT(t_start(env, hub, "lk2", "O", "1", T0 + 3), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 3, T_LEASE, 4, 30, &o), DS_OK);
    T_INT(o.n, 2);
    th = t_tok_of(&o, 30, "h");
    tl = t_tok_of(&o, 30, "lk2");

    act[0] = t_lock(0, "cs-d", s4);
    T_INT(t_complete_o(env, hub, "lk2", tl, act, 1, T0 + 3, &st), DS_OK);

    t_raise_go(env, hub, "lk2", T0 + 3);
    T_INT(t_claim_o(env, hub, T0 + 4, T_LEASE, 4, 40, &o), DS_OK);
    T_INT(o.n, 1);
    tl = t_tok_of(&o, 40, "lk2");

    act[0] = t_unlock(5, "cs-h3", "4");
    T_INT(t_complete_o(env, hub, "h", th, act, 1, T0 + 4, &st), DS_OK);
    t_locked_by(env, hub, "acc", "4", "lk2");
    t_inbox_text(env, hub, "lk2", &b);
    T(strstr(b.text, "\"CriticalSectionId\":\"cs-d\"") != NULL);

    act[0] = t_act(DS_ACT_CONTINUE_AS_NEW, 1, NULL, "2");
    T_INT(t_complete_o(env, hub, "lk2", tl, act, 1, T0 + 4, &st), DS_OK);
    t_locked_by(env, hub, "acc", "4", "");
    t_inbox_text(env, hub, "lk2", &b);
    T(strstr(b.text, "EntityLockGranted") == NULL);

    /* granted, then the instance terminated before it saw the grant */

    T_INT(t_start(env, hub, "tm", "O", "1", T0 + 5), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 5, T_LEASE, 4, 50, &o), DS_OK);
    tl = t_tok_of(&o, 50, "tm");

    act[0] = t_lock(0, "cs-e", s1);
    T_INT(t_complete_o(env, hub, "tm", tl, act, 1, T0 + 5, &st), DS_OK);
    t_locked_by(env, hub, "acc", "1", "tm");

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_op_terminate(txn, hub, t_s("tm"), t_s(""), T0 + 6), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);
    t_locked_by(env, hub, "acc", "1", "");

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * h and w start at now; h takes the lock of @acc@1 (which must exist)
 * with the critical section "cs-<h>", w asks for it ("cs-<w>") and
 * waits, and the event "go" at now + 1 gives w its next episode. Both
 * are claimed then, with the tokens tok + 10 on: *th and *tw are theirs.
 */

static void
t_lock_waits(ds_env_t *env, ds_str_t hub, const char *h, const char *w,
    int tok, int64_t now, int *th, int *tw)
{
    char          hcs[32], wcs[32];
    t_orch_t      o;
    ds_str_t      set[1];
    ds_action_t   act;
    ds_status_e   st;

    set[0] = t_s("@acc@1");
    snprintf(hcs, sizeof(hcs), "cs-%s", h);
    snprintf(wcs, sizeof(wcs), "cs-%s", w);

    T_INT(t_start(env, hub, h, "O", "1", now), DS_OK);
    T_INT(t_start(env, hub, w, "O", "1", now), DS_OK);
    T_INT(t_claim_o(env, hub, now, T_LEASE, 4, tok, &o), DS_OK);
    T_INT(o.n, 2);
    *th = t_tok_of(&o, tok, h);
    *tw = t_tok_of(&o, tok, w);

    act = t_lock(0, hcs, set);
    T_INT(t_complete_o(env, hub, h, *th, &act, 1, now, &st), DS_OK);
    t_locked_by(env, hub, "acc", "1", h);

    act = t_lock(0, wcs, set);
    T_INT(t_complete_o(env, hub, w, *tw, &act, 1, now, &st), DS_OK);

    t_raise_go(env, hub, w, now + 1);
    T_INT(t_claim_o(env, hub, now + 1, T_LEASE, 4, tok + 10, &o), DS_OK);
    T_INT(o.n, 2);
    *th = t_tok_of(&o, tok + 10, h);
    *tw = t_tok_of(&o, tok + 10, w);
}


/*
 * A lock granted while the episode that fails ran stays in the failed
 * instance's inbox, its entity locked: a rewind does not send its lock
 * request again, and the rewound execution's claim carries the grant.
 */

static void
t_sdk_failed_grant(void)
{
    int           th, tl;
    char         *dir;
    ds_env_t     *env;
    ds_str_t      hub;
    t_buf_t       b;
    t_orch_t      o;
    ds_action_t   act[1];
    ds_status_e   st;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    t_accs(env, hub, 1);

    /*
     * episode k asks for the lock, which h holds; episode k+1 runs, and
     * the grant comes meanwhile
     */

    t_lock_waits(env, hub, "h", "rw", 10, T0, &th, &tl);

    act[0] = t_unlock(1, "cs-h", "1");
    T_INT(t_complete_o(env, hub, "h", th, act, 1, T0 + 1, &st), DS_OK);
    t_locked_by(env, hub, "acc", "1", "rw");

    /* episode k+1 fails: the grant stays, and so does the lock */

    t_fail_o(env, hub, "rw", tl, 1, "\"no\"", T0 + 1);
    t_locked_by(env, hub, "acc", "1", "rw");
    t_inbox_text(env, hub, "rw", &b);
    T(strstr(b.text, "\"CriticalSectionId\":\"cs-rw\"") != NULL);

    /* the rewound execution gets it */

    t_rewind(env, hub, "rw", "\"fix\"", T0 + 2);
    T_INT(t_claim_o(env, hub, T0 + 2, T_LEASE, 4, 30, &o), DS_OK);
    T_INT(o.n, 1);
    T(strcmp(o.id[0], "rw") == 0);
    T(strstr(o.messages[0], "\"EventType\":\"EntityLockGranted\"") != NULL);
    T(strstr(o.messages[0], "\"CriticalSectionId\":\"cs-rw\"") != NULL);
    t_locked_by(env, hub, "acc", "1", "rw");

    act[0] = t_unlock(2, "cs-rw", "1");
    T_INT(t_complete_o(env, hub, "rw", 30, act, 1, T0 + 2, &st), DS_OK);
    t_locked_by(env, hub, "acc", "1", "");

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * A rewind sends again a lock request whose grant came after the failure
 * (released then, as no one took it): the rewound execution gets it. A
 * request still waiting in its entity's queue at the rewind is not sent
 * twice: one grant, and the entity is free after the unlock.
 * (PostgreSQL: 082-rewind-lock.sql.)
 */

static void
t_sdk_rewind_lock(void)
{
    int           th, tl;
    char         *dir;
    ds_env_t     *env;
    ds_str_t      hub;
    t_buf_t       b;
    t_orch_t      o;
    ds_action_t   act[1];
    ds_status_e   st;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    t_accs(env, hub, 1);

    /* rw asks for the lock, which h holds, and fails before the grant */

    t_lock_waits(env, hub, "h", "rw", 10, T0, &th, &tl);

    t_fail_o(env, hub, "rw", tl, 1, "\"no\"", T0 + 1);

    /* h unlocks: the grant to the Failed rw is released */

    act[0] = t_unlock(1, "cs-h", "1");
    T_INT(t_complete_o(env, hub, "h", th, act, 1, T0 + 2, &st), DS_OK);
    t_locked_by(env, hub, "acc", "1", "");
    t_inbox_text(env, hub, "rw", &b);
    T(strstr(b.text, "EntityLockGranted") == NULL);

    /* the rewind asks again: the rewound execution gets the grant */

    t_rewind(env, hub, "rw", "\"fix\"", T0 + 3);
    t_locked_by(env, hub, "acc", "1", "rw");

    T_INT(t_claim_o(env, hub, T0 + 3, T_LEASE, 4, 40, &o), DS_OK);
    T_INT(o.n, 1);
    T(strcmp(o.id[0], "rw") == 0);
    T(strstr(o.messages[0], "\"CriticalSectionId\":\"cs-rw\"}") != NULL);

    act[0] = t_unlock(2, "cs-rw", "1");
    T_INT(t_complete_o(env, hub, "rw", 40, act, 1, T0 + 3, &st), DS_OK);
    t_locked_by(env, hub, "acc", "1", "");

    /* rewound while its request still waits: not sent twice */

    t_lock_waits(env, hub, "h2", "w2", 50, T0 + 4, &th, &tl);

    t_fail_o(env, hub, "w2", tl, 1, "\"no\"", T0 + 5);

    t_rewind(env, hub, "w2", "\"fix\"", T0 + 6);
    t_locked_by(env, hub, "acc", "1", "h2");

    act[0] = t_unlock(1, "cs-h2", "1");
    T_INT(t_complete_o(env, hub, "h2", th, act, 1, T0 + 6, &st), DS_OK);
    t_locked_by(env, hub, "acc", "1", "w2");

    T_INT(t_claim_o(env, hub, T0 + 7, T_LEASE, 4, 30, &o), DS_OK);
    T_INT(o.n, 1);
    T(strstr(o.messages[0], "\"CriticalSectionId\":\"cs-w2\"}") != NULL);
    act[0] = t_unlock(2, "cs-w2", "1");
    T_INT(t_complete_o(env, hub, "w2", 30, act, 1, T0 + 7, &st), DS_OK);
    t_locked_by(env, hub, "acc", "1", "");
    t_inbox_text(env, hub, "w2", &b);
    T(strstr(b.text, "EntityLockGranted") == NULL);

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * A grant carries its set: released by it alone when no one takes it,
 * though neither the completion's actions nor the history say what it
 * locked. A child whose episode locks (granted at once), terminates its
 * parent's tree (and itself with it) and would continue as new writes
 * no history for that episode. (PostgreSQL: 081-grant-set.sql.)
 */

static void
t_sdk_grant_set(void)
{
    char         *dir;
    ds_env_t     *env;
    ds_str_t      hub, s1[2];
    t_orch_t      o;
    ds_txn_t     *txn;
    t_named_t     c;
    ds_action_t   act[3];
    ds_status_e   st;
    const char   *only_c[] = { "C", NULL };

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    s1[0] = t_s("@acc@1");
    s1[1] = t_s("@acc@2");

    t_accs(env, hub, 2);

    T_INT(t_start(env, hub, "p", "P", NULL, T0), DS_OK);
    t_sub(env, hub, "p", "P", "c", "C", 1, T0);
    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0 + 1, 1, 2,
                        only_c, &c), DS_OK);
    T_INT(c.n, 1);

    act[0] = t_lock(0, "cs-t", s1);
    act[0].nlock = 2;
    act[1] = t_act(DS_ACT_TERMINATE, -1, NULL, "\"down\"");
    act[1].instance_id = t_s("p");
    act[1].recurse = 1;
    act[2] = t_act(DS_ACT_CONTINUE_AS_NEW, 1, NULL, "2");
    T_INT(t_complete_o(env, hub, "c", 2, act, 3, T0 + 1, &st), DS_OK);
    T_INT(st, DS_TERMINATED);
    T_INT(t_inbox_count(env, hub, "c"), 0);

    t_locked_by(env, hub, "acc", "1", "");
    t_locked_by(env, hub, "acc", "2", "");

    /*
     * a grant stored before grants carried their set: released by the
     * set its request names in the history
     */

    T_INT(t_start(env, hub, "old", "O", NULL, T0 + 2), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 2, T_LEASE, 4, 3, &o), DS_OK);
    T_INT(o.n, 1);
    act[0] = t_lock(0, "cs-o", s1);
    act[0].nlock = 2;
    T_INT(t_complete_o(env, hub, "old", 3, act, 1, T0 + 2, &st), DS_OK);
    t_locked_by(env, hub, "acc", "1", "old");
    t_locked_by(env, hub, "acc", "2", "old");

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_inbox_clear(txn, hub, t_s("old")), DS_OK);
    T_INT(ds_inbox_append(txn, hub, t_s("old"),
                          t_s("{\"EventType\":\"EntityLockGranted\","
                              "\"Timestamp\":\"2018-03-10T13:57:33Z\","
                              "\"EventId\":-1,"
                              "\"CriticalSectionId\":\"cs-o\"}"), NULL),
          DS_OK);
    T_INT(ds_op_terminate(txn, hub, t_s("old"), t_s(""), T0 + 3), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);
    t_locked_by(env, hub, "acc", "1", "");
    t_locked_by(env, hub, "acc", "2", "");

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * A sub-orchestration started by its parent's completion keeps the
 * parent's created time in its record, and its end reaches the parent:
 * one purged and started again under its id (execution 1 again), which
 * goes by the created time. (PostgreSQL: 073-parent-created.sql.)
 */

static void
t_sdk_sub_parent_created(void)
{
    char           *dir, out[64];
    ds_env_t       *env;
    ds_str_t        hub;
    t_buf_t         b;
    t_named_t       c;
    ds_action_t     act[1];
    ds_status_e     st;
    ds_instance_t   p, ch;
    const char     *names[2];

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "par", "Par", "1", T0), DS_OK);

    t_life_again(env, hub, "par", "", "Par", "1", T0 + 1);

    T_INT(t_get(env, hub, "par", &p, NULL, 0), DS_OK);
    T_INT(p.execution, 1);
    T_INT(p.created, T0 + 2);

    t_sub(env, hub, "par", "Par", "ch", "Child", 1, T0 + 3);

    T_INT(t_get(env, hub, "ch", &ch, NULL, 0), DS_OK);
    T_INT(ch.status, DS_PENDING);
    T_INT(ch.created, T0 + 3);
    T_INT(ch.parent_created, T0 + 2);
    T_INT(ch.parent_execution, 1);
    T_INT(ch.parent_task, 0);

    /* the child's end reaches the parent */

    names[0] = "Child";
    names[1] = NULL;

    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0 + 4, 1, 2, names,
                        &c), DS_OK);
    T_INT(c.n, 1);
    T(c.n == 1 && strcmp(c.id[0], "ch") == 0);

    act[0] = t_act(DS_ACT_COMPLETE, 0, NULL, "\"done\"");
    T_INT(t_complete_o(env, hub, "ch", 2, act, 1, T0 + 4, &st), DS_OK);
    T_INT(st, DS_COMPLETED);

    t_inbox_text(env, hub, "par", &b);
    T(strstr(b.text, "\"EventType\":\"SubOrchestrationInstanceCompleted\"")
      != NULL);
    T(strstr(b.text, "\"Result\":\"done\"") != NULL);

    T_INT(t_get(env, hub, "par", &p, out, sizeof(out)), DS_OK);
    T_INT(p.status, DS_RUNNING);
    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * A rewind of a failed parent that starts a child again (the child was
 * terminated and purged) gives the child the parent's created time, and
 * the child's end reaches the parent: one purged and started again under
 * its id, which goes by the created time.
 */

static void
t_sdk_rewind_parent_created(void)
{
    char           *dir, types[T_TEXT];
    ds_env_t       *env;
    ds_str_t        hub;
    t_buf_t         b;
    t_named_t       c;
    ds_action_t     act[1];
    ds_status_e     st;
    ds_instance_t   p, ch;
    const char     *names[2];

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "rp", "Par", "1", T0), DS_OK);

    t_life_again(env, hub, "rp", "", "Par", "1", T0 + 1);

    t_sub(env, hub, "rp", "Par", "rc", "Child", 1, T0 + 3);

    /* the child is terminated and purged; the parent then fails */

    t_life_again(env, hub, "rc", "", NULL, NULL, T0 + 4);

    names[0] = "Par";
    names[1] = NULL;

    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0 + 5, 1, 2, names,
                        &c), DS_OK);
    T_INT(c.n, 1);
    T(c.n == 1 && strcmp(c.id[0], "rp") == 0);

    t_fail_o(env, hub, "rp", 2, 1, "\"no\"", T0 + 5);
    T_INT(t_get(env, hub, "rc", &ch, NULL, 0), DS_NOTFOUND);

    /* the rewind starts the child again, with the parent's created time */

    t_rewind(env, hub, "rp", "\"fix\"", T0 + 6);

    T_INT(t_get(env, hub, "rp", &p, NULL, 0), DS_OK);
    T_INT(p.status, DS_RUNNING);
    T_INT(p.execution, 1);
    T_INT(p.created, T0 + 2);

    T_INT(t_get(env, hub, "rc", &ch, NULL, 0), DS_OK);
    T_INT(ch.status, DS_PENDING);
    T_INT(ch.created, T0 + 6);
    T_INT(ch.parent_created, T0 + 2);
    T_INT(ch.parent_execution, 1);
    T_INT(ch.parent_task, 0);

    /* its end reaches the parent */

    names[0] = "Child";

    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0 + 7, 1, 3, names,
                        &c), DS_OK);
    T_INT(c.n, 1);
    T(c.n == 1 && strcmp(c.id[0], "rc") == 0);

    act[0] = t_act(DS_ACT_COMPLETE, 0, NULL, "\"again\"");
    T_INT(t_complete_o(env, hub, "rc", 3, act, 1, T0 + 7, &st), DS_OK);
    T_INT(st, DS_COMPLETED);

    t_inbox_text(env, hub, "rp", &b);
    T(strstr(b.text, "\"EventType\":\"SubOrchestrationInstanceCompleted\"")
      != NULL);
    T(strstr(b.text, "\"Result\":\"again\"") != NULL);

    t_history_types(env, hub, "rp", types, sizeof(types));
    T(strstr(types, "SubOrchestrationInstanceFailed") == NULL);
    T(strstr(types, "ExecutionRewound") != NULL);
    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * Many ended orchestrations wait in the queue of @acc@0 (their requests
 * outlive them: none had a grant to drop) until it is unlocked. Each is
 * dropped before it locks, at no depth, so a live request queued last
 * gets its set however many wait before it. Single requests: 100, which
 * cost a depth each before (the limit is 64). Sets of four, @acc@0 and
 * three of the waiter's own: 30, which cost four each before; the first
 * holds its first three and waits at the fourth, which h holds, so the
 * others wait behind it at @acc@0 and are dropped once h unlocks. And
 * 1100 single requests: the loop no longer stops after 1000 passes.
 */

static void
t_sdk_stale_queue_one(size_t nset, int waiters)
{
    int           i;
    char          id[32], k[3][32];
    char         *dir;
    ds_env_t     *env;
    ds_str_t      hub, sh[1], sw[4];
    t_buf_t       b;
    t_ent_t       e;
    t_orch_t      o;
    ds_txn_t     *txn;
    ds_action_t   act[1];
    ds_status_e   st;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_run(env, t_signal_acc, "0"), DS_OK);
    T_INT(t_claim_e(env, hub, T0, T_LEASE, 4, 10, &e), DS_OK);
    T_INT(e.n, 1);
    T_INT(t_complete_ent(env, hub, "acc", "0", 10, "0", NULL, 0, T0), DS_OK);

    /* h holds @acc@0, or the last of the first waiter's set */

    sh[0] = t_s(nset == 1 ? "@acc@0" : "@acc@00-c");

    T_INT(t_start(env, hub, "h", "O", "1", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0, T_LEASE, 1, 1, &o), DS_OK);
    T_INT(o.n, 1);

    act[0] = t_lock(0, "cs-h", sh);
    T_INT(t_complete_o(env, hub, "h", 1, act, 1, T0, &st), DS_OK);

    /* h takes its grant: leased, it is not claimed with the waiters */

    T_INT(t_claim_o(env, hub, T0, T_LEASE, 1, 3, &o), DS_OK);
    T_INT(o.n, 1);
    T(strcmp(o.id[0], "h") == 0);

    /* the waiters, then the live one; each claimed and completed alone */

    sw[0] = t_s("@acc@0");

    for (i = 0; i <= waiters; i++) {
        if (i < waiters) {
            snprintf(id, sizeof(id), "w%d", i);
            snprintf(k[0], sizeof(k[0]), "@acc@%02d-a", i);
            snprintf(k[1], sizeof(k[1]), "@acc@%02d-b", i);
            snprintf(k[2], sizeof(k[2]), "@acc@%02d-c", i);

        } else {
            snprintf(id, sizeof(id), "live");
            snprintf(k[0], sizeof(k[0]), "@acc@live-a");
            snprintf(k[1], sizeof(k[1]), "@acc@live-b");
            snprintf(k[2], sizeof(k[2]), "@acc@live-c");
        }

        sw[1] = t_s(k[0]);
        sw[2] = t_s(k[1]);
        sw[3] = t_s(k[2]);

        T_INT(t_start(env, hub, id, "O", "1", T0), DS_OK);
        T_INT(t_claim_o(env, hub, T0, T_LEASE, 1, 2, &o), DS_OK);
        T_INT(o.n, 1);
        T(strcmp(o.id[0], id) == 0);

        act[0] = t_lock(0, i < waiters ? "cs-w" : "cs-live", sw);
        act[0].nlock = nset;
        T_INT(t_complete_o(env, hub, id, 2, act, 1, T0, &st), DS_OK);
    }

    t_locked_by(env, hub, "acc", "0", nset == 1 ? "h" : "w0");

    /* the waiters end with their requests queued, no grant to drop */

    for (i = 0; i < waiters; i++) {
        snprintf(id, sizeof(id), "w%d", i);

        T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
        T_INT(ds_op_terminate(txn, hub, t_s(id), t_s(""), T0 + 1), DS_OK);
        T_INT(ds_txn_commit(txn), DS_OK);
    }

    act[0] = t_unlock(1, "cs-h", nset == 1 ? "0" : "00-c");
    T_INT(t_complete_o(env, hub, "h", 3, act, 1, T0 + 2, &st), DS_OK);

    t_locked_by(env, hub, "acc", "0", "live");
    t_inbox_text(env, hub, "live", &b);
    T(strstr(b.text, "\"CriticalSectionId\":\"cs-live\"") != NULL);

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


static void
t_sdk_stale_queue(void)
{
    t_sdk_stale_queue_one(1, 100);
    t_sdk_stale_queue_one(4, 30);

    /* more than the 1000 passes the loop once stopped at */
    t_sdk_stale_queue_one(1, 1100);
}


/*
 * A stale grant of a set of several entities: each of them is released
 * (those after the first too), and a live request queued behind the
 * stale one at the first entity then gets the whole of its own set.
 */

static void
t_sdk_stale_set(void)
{
    int           th, tl, tw;
    char         *dir;
    ds_env_t     *env;
    ds_str_t      hub, sh[1], sl[3], sw[2];
    t_buf_t       b;
    t_orch_t      o;
    ds_action_t   act[1];
    ds_status_e   st;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    sh[0] = t_s("@acc@3");
    sl[0] = t_s("@acc@1");
    sl[1] = t_s("@acc@2");
    sl[2] = t_s("@acc@3");
    sw[0] = t_s("@acc@1");
    sw[1] = t_s("@acc@2");

    t_accs(env, hub, 3);

    T_INT(t_start(env, hub, "h", "O", "1", T0), DS_OK);
    T_INT(t_start(env, hub, "lk", "O", "1", T0), DS_OK);
    T_INT(t_start(env, hub, "w", "O", "1", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0, T_LEASE, 4, 1, &o), DS_OK);
    T_INT(o.n, 3);
    th = t_tok_of(&o, 1, "h");
    tl = t_tok_of(&o, 1, "lk");
    tw = t_tok_of(&o, 1, "w");

    /* h holds acc@3; lk gets acc@1 and acc@2, w waits behind it */

    act[0] = t_lock(0, "cs-h", sh);
    T_INT(t_complete_o(env, hub, "h", th, act, 1, T0, &st), DS_OK);
    t_locked_by(env, hub, "acc", "3", "h");

    act[0] = t_lock(0, "cs-l", sl);
    act[0].nlock = 3;
    T_INT(t_complete_o(env, hub, "lk", tl, act, 1, T0, &st), DS_OK);

    act[0] = t_lock(0, "cs-w", sw);
    act[0].nlock = 2;
    T_INT(t_complete_o(env, hub, "w", tw, act, 1, T0, &st), DS_OK);

    t_locked_by(env, hub, "acc", "1", "lk");
    t_locked_by(env, hub, "acc", "2", "lk");
    t_locked_by(env, hub, "acc", "3", "h");

    /* lk's next episode runs; its grant comes meanwhile */

    t_raise_go(env, hub, "lk", T0 + 1);
    T_INT(t_claim_o(env, hub, T0 + 1, T_LEASE, 4, 10, &o), DS_OK);
    T_INT(o.n, 2);
    th = t_tok_of(&o, 10, "h");
    tl = t_tok_of(&o, 10, "lk");

    act[0] = t_unlock(1, "cs-h", "3");
    T_INT(t_complete_o(env, hub, "h", th, act, 1, T0 + 1, &st), DS_OK);
    t_locked_by(env, hub, "acc", "3", "lk");
    t_inbox_text(env, hub, "lk", &b);
    T(strstr(b.text, "\"CriticalSectionId\":\"cs-l\"") != NULL);

    /* it continues as new: the three are released, w gets its two */

    act[0] = t_act(DS_ACT_CONTINUE_AS_NEW, 1, NULL, "2");
    T_INT(t_complete_o(env, hub, "lk", tl, act, 1, T0 + 1, &st), DS_OK);
    t_inbox_text(env, hub, "lk", &b);
    T(strstr(b.text, "EntityLockGranted") == NULL);

    t_locked_by(env, hub, "acc", "1", "w");
    t_locked_by(env, hub, "acc", "2", "w");
    t_locked_by(env, hub, "acc", "3", "");

    t_inbox_text(env, hub, "w", &b);
    T(strstr(b.text, "{\"EventType\":\"EntityLockGranted\",") != NULL);
    T(strstr(b.text, "\"CriticalSectionId\":\"cs-w\"") != NULL);

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * The set of a stale grant is that of the history's EntityLockRequested
 * of the same critical section: of an execution's three requests, the
 * one in the middle is granted while its last episode runs, and only
 * its set is released when it continues as new. The other two, granted
 * later, go at once.
 */

static void
t_sdk_stale_cs(void)
{
    int           th, tl;
    char         *dir;
    ds_env_t     *env;
    ds_str_t      hub, sh[3], sx[1], sy[2], sz[1];
    t_buf_t       b;
    t_orch_t      o;
    ds_action_t   act[3];
    ds_status_e   st;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    sh[0] = t_s("@acc@1");
    sh[1] = t_s("@acc@2");
    sh[2] = t_s("@acc@4");
    sx[0] = t_s("@acc@1");
    sy[0] = t_s("@acc@2");
    sy[1] = t_s("@acc@3");
    sz[0] = t_s("@acc@4");

    t_accs(env, hub, 4);

    T_INT(t_start(env, hub, "h", "O", "1", T0), DS_OK);
    T_INT(t_start(env, hub, "lk2", "O", "1", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0, T_LEASE, 4, 1, &o), DS_OK);
    T_INT(o.n, 2);
    th = t_tok_of(&o, 1, "h");
    tl = t_tok_of(&o, 1, "lk2");

    act[0] = t_lock(0, "cs-h", sh);
    act[0].nlock = 3;
    T_INT(t_complete_o(env, hub, "h", th, act, 1, T0, &st), DS_OK);
    t_locked_by(env, hub, "acc", "1", "h");
    t_locked_by(env, hub, "acc", "2", "h");
    t_locked_by(env, hub, "acc", "4", "h");

    /* three requests, each waiting for h */

    act[0] = t_lock(0, "cs-x", sx);
    act[1] = t_lock(1, "cs-y", sy);
    act[1].nlock = 2;
    act[2] = t_lock(2, "cs-z", sz);
    T_INT(t_complete_o(env, hub, "lk2", tl, act, 3, T0, &st), DS_OK);
    t_locked_by(env, hub, "acc", "3", "");

    /* the next episode runs; cs-y is granted meanwhile */

    t_raise_go(env, hub, "lk2", T0 + 1);
    T_INT(t_claim_o(env, hub, T0 + 1, T_LEASE, 4, 10, &o), DS_OK);
    T_INT(o.n, 2);
    th = t_tok_of(&o, 10, "h");
    tl = t_tok_of(&o, 10, "lk2");

    act[0] = t_unlock(1, "cs-h", "2");
    T_INT(t_complete_o(env, hub, "h", th, act, 1, T0 + 1, &st), DS_OK);
    t_locked_by(env, hub, "acc", "2", "lk2");
    t_locked_by(env, hub, "acc", "3", "lk2");
    t_inbox_text(env, hub, "lk2", &b);
    T(strstr(b.text, "\"CriticalSectionId\":\"cs-y\"") != NULL);

    /* it continues as new: cs-y's set is released, h keeps its own */

    act[0] = t_act(DS_ACT_CONTINUE_AS_NEW, 3, NULL, "2");
    T_INT(t_complete_o(env, hub, "lk2", tl, act, 1, T0 + 1, &st), DS_OK);
    t_inbox_text(env, hub, "lk2", &b);
    T(strstr(b.text, "EntityLockGranted") == NULL);

    t_locked_by(env, hub, "acc", "2", "");
    t_locked_by(env, hub, "acc", "3", "");
    t_locked_by(env, hub, "acc", "1", "h");
    t_locked_by(env, hub, "acc", "4", "h");

    /* h unlocks the rest: the old requests' grants go at once */

    t_raise_go(env, hub, "h", T0 + 2);
    T_INT(t_claim_o(env, hub, T0 + 2, T_LEASE, 4, 20, &o), DS_OK);
    th = t_tok_of(&o, 20, "h");

    act[0] = t_unlock(2, "cs-h", "1");
    act[1] = t_unlock(3, "cs-h", "4");
    T_INT(t_complete_o(env, hub, "h", th, act, 2, T0 + 2, &st), DS_OK);
    t_locked_by(env, hub, "acc", "1", "");
    t_locked_by(env, hub, "acc", "4", "");
    t_inbox_text(env, hub, "lk2", &b);
    T(strstr(b.text, "EntityLockGranted") == NULL);

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * A critical section: the lock goes round the set in order, the last
 * entity grants it; a locked entity runs only its holder's operations;
 * the unlocks free it for those that waited, and for the next lock.
 */

static void
t_sdk_entity_locks(void)
{
    char                 *dir, *p, hist[T_TEXT];
    ds_env_t             *env;
    ds_str_t              hub, set[2], set2[1];
    t_buf_t               b;
    t_ent_t               e;
    t_orch_t              o;
    ds_txn_t             *txn;
    ds_action_t           act[3];
    ds_status_e           st;
    ds_instance_t         inst;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    /* two entities with state, two orchestrations */

    t_accs(env, hub, 2);

    T_INT(t_start(env, hub, "holder", "O", "1", T0), DS_OK);
    T_INT(t_start(env, hub, "other", "O", "1", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0, T_LEASE, 2, 1, &o), DS_OK);
    T_INT(o.n, 2);
    T(strcmp(o.id[0], "holder") == 0);
    T_INT(t_complete_o(env, hub, "other", 2, NULL, 0, T0, &st), DS_OK);

    /* a lock set naming an entity twice, or none, is refused */

    set[0] = t_s("@acc@1");
    set[1] = t_s("@Acc@1");
    act[0] = t_act(DS_ACT_LOCK_ENTITIES, 0, NULL, NULL);
    act[0].request_id = t_s("cs-1");
    act[0].lock_set = set;
    act[0].nlock = 2;
    T_INT(t_complete_o(env, hub, "holder", 1, act, 1, T0, &st), DS_INVALID);
    act[0].nlock = 0;
    T_INT(t_complete_o(env, hub, "holder", 1, act, 1, T0, &st), DS_INVALID);

    set[1] = t_s("@Acc@2");
    act[0].nlock = 2;
    T_INT(t_complete_o(env, hub, "holder", 1, act, 1, T0, &st), DS_OK);

    t_history_text(env, hub, "holder", hist, sizeof(hist));
    T(strstr(hist, "\"EntityLockRequested\",\"Timestamp\":"
                   "\"2018-03-10T13:57:31Z\",\"EventId\":0,"
                   "\"CriticalSectionId\":\"cs-1\","
                   "\"LockSet\":[\"@acc@1\",\"@acc@2\"],\"Position\":0}")
      != NULL);

    t_locked_by(env, hub, "acc", "1", "holder");
    t_locked_by(env, hub, "acc", "2", "holder");

    /* granted during the completion: the inbox counter counts it */
    T_INT(t_get(env, hub, "holder", &inst, NULL, 0), DS_OK);
    T_INT(inst.inbox_seq, 2);

    /* the grant carries its set, for the store alone */
    t_inbox_text(env, hub, "holder", &b);
    T(strstr(b.text, "{\"EventType\":\"EntityLockGranted\","
                     "\"Timestamp\":\"2018-03-10T13:57:31Z\","
                     "\"EventId\":-1,\"CriticalSectionId\":\"cs-1\","
                     "\"LockSet\":[\"@acc@1\",\"@acc@2\"]}")
      != NULL);

    /* the holder calls; the other's call, lock and a signal come after */

    T_INT(t_claim_o(env, hub, T0 + 1, T_LEASE, 1, 3, &o), DS_OK);
    T(strcmp(o.id[0], "holder") == 0);

    /* the worker sees the public event, and so does the history */
    T(strstr(o.messages[0], "{\"EventType\":\"EntityLockGranted\","
                            "\"Timestamp\":\"2018-03-10T13:57:31Z\","
                            "\"EventId\":-1,"
                            "\"CriticalSectionId\":\"cs-1\"}")
      != NULL);
    T(strstr(o.messages[0], "LockSet") == NULL);

    act[0] = t_call(1, "h-1", "get", "acc", "1", NULL);
    T_INT(t_complete_o(env, hub, "holder", 3, act, 1, T0 + 1, &st), DS_OK);

    t_history_text(env, hub, "holder", hist, sizeof(hist));
    T(strstr(hist, "\"EventId\":-1,\"CriticalSectionId\":\"cs-1\"}")
      != NULL);
    /* the request's LockSet, the only one */
    p = strstr(hist, "\"LockSet\"");
    T(p != NULL && strstr(p + 1, "\"LockSet\"") == NULL);

    t_raise_go(env, hub, "other", T0 + 2);
    T_INT(t_claim_o(env, hub, T0 + 2, T_LEASE, 1, 4, &o), DS_OK);
    T(strcmp(o.id[0], "other") == 0);

    set2[0] = t_s("@acc@1");
    act[0] = t_call(0, "o-1", "add", "acc", "1", "1");
    act[1] = t_act(DS_ACT_LOCK_ENTITIES, 1, NULL, NULL);
    act[1].request_id = t_s("cs-2");
    act[1].lock_set = set2;
    act[1].nlock = 1;
    T_INT(t_complete_o(env, hub, "other", 4, act, 2, T0 + 2, &st), DS_OK);
    T_INT(t_run(env, t_signal_acc, "1"), DS_OK);

    /* only the holder's call runs */

    T_INT(t_claim_e(env, hub, T0 + 3, T_LEASE, 4, 5, &e), DS_OK);
    T_INT(e.n, 1);
    T_INT(e.nops[0], 1);
    T(strstr(e.ops[0], "\"requestId\":\"h-1\"") != NULL);
    T_INT(t_complete_ent(env, hub, "acc", "1", 5, "10", NULL, 0, T0 + 4),
          DS_OK);
    T_INT(t_claim_e(env, hub, T0 + 5, T_LEASE, 4, 6, &e), DS_OK);
    T_INT(e.n, 0);
    t_locked_by(env, hub, "acc", "1", "holder");

    /* the holder unlocks both and completes */

    T_INT(t_claim_o(env, hub, T0 + 6, T_LEASE, 1, 7, &o), DS_OK);
    T(strcmp(o.id[0], "holder") == 0);
    act[0] = t_act(DS_ACT_UNLOCK_ENTITY, 2, NULL, NULL);
    act[0].request_id = t_s("cs-1");
    act[0].entity_name = t_s("acc");
    act[0].entity_key = t_s("1");
    act[1] = act[0];
    act[1].id = 3;
    act[1].entity_key = t_s("2");
    act[2] = t_act(DS_ACT_COMPLETE, 4, NULL, "1");
    T_INT(t_complete_o(env, hub, "holder", 7, act, 3, T0 + 6, &st), DS_OK);
    T_INT(st, DS_COMPLETED);

    t_history_text(env, hub, "holder", hist, sizeof(hist));
    T(strstr(hist, "\"EntityUnlockSent\",\"Timestamp\":"
                   "\"2018-03-10T13:57:31.000006Z\",\"EventId\":3,"
                   "\"CriticalSectionId\":\"cs-1\","
                   "\"TargetInstanceId\":\"@acc@2\"}") != NULL);
    t_locked_by(env, hub, "acc", "2", "");
    t_locked_by(env, hub, "acc", "1", "");

    /* the other's call runs, then its lock is granted */

    T_INT(t_claim_e(env, hub, T0 + 7, T_LEASE, 4, 8, &e), DS_OK);
    T_INT(e.n, 1);
    T(strcmp(e.key[0], "1") == 0);
    T_INT(e.nops[0], 1);
    T(strstr(e.ops[0], "\"requestId\":\"o-1\"") != NULL);
    T_INT(t_complete_ent(env, hub, "acc", "1", 8, "11", NULL, 0, T0 + 8),
          DS_OK);

    t_locked_by(env, hub, "acc", "1", "other");
    t_inbox_text(env, hub, "other", &b);
    T(strstr(b.text, "\"RequestId\":\"o-1\"") != NULL);
    T(strstr(b.text, "\"CriticalSectionId\":\"cs-2\"") != NULL);

    /* the signal, queued after the lock request, waits for its unlock */
    T_INT(t_claim_e(env, hub, T0 + 9, T_LEASE, 4, 9, &e), DS_OK);
    T_INT(e.n, 0);
    T(t_consistent(env, hub, NULL));

    /*
     * the holder, having seen the grant, ends without unlocking: cleaning
     * releases the lock (a grant it had not seen would go with the
     * termination, t_sdk_stale_grants)
     */

    T_INT(t_claim_o(env, hub, T0 + 9, T_LEASE, 1, 20, &o), DS_OK);
    T_INT(o.n, 1);
    T(strcmp(o.id[0], "other") == 0);
    T(strstr(o.messages[0], "\"CriticalSectionId\":\"cs-2\"") != NULL);
    T_INT(t_complete_o(env, hub, "other", 20, NULL, 0, T0 + 9, &st), DS_OK);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_op_terminate(txn, hub, t_s("other"), t_s(""), T0 + 10), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);
    t_locked_by(env, hub, "acc", "1", "other");

    t_sdk_clean(env, hub, 0, 1, 0, 1);
    t_locked_by(env, hub, "acc", "1", "");
    T_INT(t_claim_e(env, hub, T0 + 11, T_LEASE, 4, 12, &e), DS_OK);
    T_INT(e.n, 1);
    T(strstr(e.ops[0], "\"operation\":\"reset\"") != NULL);

    /* an entity whose state was deleted and has nothing queued goes */

    T_INT(t_complete_ent(env, hub, "acc", "1", 12, "0", NULL, 0, T0 + 12),
          DS_OK);
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_entity_signal(txn, hub, t_s("gone"), t_s("x"), t_s("delete"),
                           t_s(""), T0 + 12), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);
    T_INT(t_claim_e(env, hub, T0 + 13, T_LEASE, 4, 13, &e), DS_OK);
    T_INT(e.n, 1);
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_work_complete_entity(txn, hub, t_s("gone"), t_s("x"),
                                  t_tok(13), 1, t_s(""), T0 + 14), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    /* three entities, one at a time: only "gone" is removed */
    t_sdk_clean(env, hub, 1, 0, 1, 0);
    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/* cleans in batches of max through the op; checks the totals */

static void
t_sdk_clean(ds_env_t *env, ds_str_t hub, size_t max, size_t released,
    size_t removed, int orphans)
{
    char      token[DS_TOKEN_MAX];
    size_t    n, rel, rem;
    ds_op_t   op;

    memset(&op, 0, sizeof(ds_op_t));
    op.type = DS_OP_ENTITY_CLEAN;
    op.hub = hub;
    op.now = T0 + 10;
    op.in.entity_clean.max = max ? max : 100;
    op.in.entity_clean.remove_empty = !orphans;
    op.in.entity_clean.release_orphaned = orphans;
    op.in.entity_clean.token = token;

    rel = 0;
    rem = 0;

    for (n = 0; n < 10; n++) {
        ds_op_batch(env, &op);
        T_INT(op.rc, DS_OK);

        rel += op.out.entity_clean.released;
        rem += op.out.entity_clean.removed;

        if (op.out.entity_clean.token_len == 0) {
            break;
        }

        op.in.entity_clean.token_in.data = token;
        op.in.entity_clean.token_in.len = op.out.entity_clean.token_len;
    }

    T_INT(rel, released);
    T_INT(rem, removed);

    if (max == 1) {
        /* one batch per entity: the last one says it is the last */
        T_INT(n + 1, 3);
    }
}

/* a tree of sub-orchestrations terminated and purged from its root */

static void
t_sdk_trees(void)
{
    char           *dir;
    ds_op_t         op;
    ds_env_t       *env;
    ds_str_t        hub;
    t_orch_t        o;
    ds_action_t     act;
    ds_status_e     st;
    ds_instance_t   inst;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    /* root -> root:0 -> root:0:0, and a second child left alone */

    T_INT(t_start(env, hub, "root", "R", "1", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0, T_LEASE, 1, 1, &o), DS_OK);
    act = t_act(DS_ACT_START_SUB, 0, "C", "1");
    T_INT(t_complete_o(env, hub, "root", 1, &act, 1, T0, &st), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 1, T_LEASE, 1, 2, &o), DS_OK);
    T(strcmp(o.id[0], "root:0") == 0);
    T_INT(t_complete_o(env, hub, "root:0", 2, &act, 1, T0 + 1, &st), DS_OK);
    T_INT(t_start(env, hub, "alone", "A", "1", T0 + 2), DS_OK);

    memset(&op, 0, sizeof(ds_op_t));
    op.type = DS_OP_TERMINATE;
    op.hub = hub;
    op.now = T0 + 3;
    op.in.control.id = t_s("root");
    op.in.control.data = t_s("\"enough\"");
    op.in.control.recurse = 1;
    ds_op_batch(env, &op);
    T_INT(op.rc, DS_OK);

    T_INT(t_get(env, hub, "root:0", &inst, NULL, 0), DS_OK);
    T_INT(inst.status, DS_TERMINATED);
    T_INT(t_get(env, hub, "root:0:0", &inst, NULL, 0), DS_OK);
    T_INT(inst.status, DS_TERMINATED);
    T_INT(t_get(env, hub, "alone", &inst, NULL, 0), DS_OK);
    T_INT(inst.status, DS_PENDING);

    /* again: the root is terminal, a retry is DS_GONE */
    ds_op_batch(env, &op);
    T_INT(op.rc, DS_GONE);

    op.type = DS_OP_PURGE;
    ds_op_batch(env, &op);
    T_INT(op.rc, DS_OK);
    T_INT(op.out.control.purged, 3);
    T_INT(t_get(env, hub, "root:0:0", &inst, NULL, 0), DS_NOTFOUND);

    op.in.control.id = t_s("alone");
    ds_op_batch(env, &op);
    T_INT(op.rc, DS_PRECONDITION);
    T_INT(op.out.control.status, DS_PENDING);
    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * The tree walks take only the children of the parent's life that
 * started them. A parent ends without its child c0, is purged and starts
 * again under its id; the new life's start of c0 is refused (the old
 * child holds the id and still names the parent), so the new history
 * names c0 too. The recursive terminate of the new life ends its own
 * children, c1 and c2 (one whose record keeps no parent's created time,
 * as a child started before record version 7: by the id alone), and
 * leaves c0 running; its recursive purge leaves c0 once that has ended.
 * Then the orphans of a completion that ended its own instance: the new
 * life of r1, a child again, refused the start of the old life's rk
 * before its termination of its parent's tree, and continued as new: rk
 * goes on. (The same on PostgreSQL: store/pg/tests/080-tree-reused.sql.)
 */

static void
t_sdk_trees_reused(void)
{
    int             changed;
    char           *dir;
    ds_op_t         op;
    ds_env_t       *env;
    ds_str_t        hub;
    ds_txn_t       *txn;
    t_named_t       c;
    ds_action_t     act[3];
    ds_status_e     st;
    ds_instance_t   inst;
    const char     *only_p[] = { "P", NULL };
    const char     *only_r0[] = { "R0", NULL };
    const char     *only_r1[] = { "R1", NULL };

    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    hub = t_s("Tree");
    T_INT(t_start(env, hub, "p", "P", NULL, T0), DS_OK);
    t_sub(env, hub, "p", "P", "c0", "C", 1, T0);

    t_life_again(env, hub, "p", "\"alone\"", "P", NULL, T0 + 1);
    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0 + 2, 1, 2,
                        only_p, &c), DS_OK);
    T_INT(c.n, 1);

    act[0] = t_act(DS_ACT_START_SUB, 0, "C", NULL);
    act[0].instance_id = t_s("c0");
    act[1] = t_act(DS_ACT_START_SUB, 1, "C", NULL);
    act[1].instance_id = t_s("c1");
    act[2] = t_act(DS_ACT_START_SUB, 2, "C", NULL);
    act[2].instance_id = t_s("c2");
    T_INT(t_complete_o(env, hub, "p", 2, act, 3, T0 + 2, &st), DS_OK);
    T_INT(st, DS_RUNNING);

    T_INT(t_get(env, hub, "c0", &inst, NULL, 0), DS_OK);
    T_INT(inst.parent_created, T0);
    T_INT(t_get(env, hub, "c1", &inst, NULL, 0), DS_OK);
    T_INT(inst.parent_created, T0 + 2);

    /* c2 as a record of before version 7 has it */
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_instance_get(txn, hub, t_s("c2"), &inst), DS_OK);
    inst.parent_created = 0;
    T_INT(ds_instance_put(txn, hub, t_s("c2"), &inst), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    memset(&op, 0, sizeof(ds_op_t));
    op.type = DS_OP_TERMINATE;
    op.hub = hub;
    op.now = T0 + 3;
    op.in.control.id = t_s("p");
    op.in.control.data = t_s("\"tree\"");
    op.in.control.recurse = 1;
    ds_op_batch(env, &op);
    T_INT(op.rc, DS_OK);

    T_INT(t_get(env, hub, "c1", &inst, NULL, 0), DS_OK);
    T_INT(inst.status, DS_TERMINATED);
    T_INT(t_get(env, hub, "c2", &inst, NULL, 0), DS_OK);
    T_INT(inst.status, DS_TERMINATED);
    T_INT(t_get(env, hub, "c0", &inst, NULL, 0), DS_OK);
    T_INT(inst.status, DS_PENDING);

    /* the old child ends; the new life's tree is purged without it */
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_op_terminate(txn, hub, t_s("c0"), t_s("\"old\""), T0 + 4),
          DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    op.type = DS_OP_PURGE;
    ds_op_batch(env, &op);
    T_INT(op.rc, DS_OK);
    T_INT(op.out.control.purged, 3);
    T_INT(t_get(env, hub, "c1", &inst, NULL, 0), DS_NOTFOUND);
    T_INT(t_get(env, hub, "c2", &inst, NULL, 0), DS_NOTFOUND);
    T_INT(t_get(env, hub, "c0", &inst, NULL, 0), DS_OK);
    T_INT(inst.status, DS_TERMINATED);
    T(t_consistent(env, hub, NULL));

    /* r0 -> r1 -> rk; r1 ends alone, is purged, r0 starts it again */

    hub = t_s("Orphan");
    T_INT(t_start(env, hub, "r0", "R0", NULL, T0), DS_OK);
    t_sub(env, hub, "r0", "R0", "r1", "R1", 11, T0);
    t_sub(env, hub, "r1", "R1", "rk", "RK", 12, T0 + 1);

    t_life_again(env, hub, "r1", "\"alone\"", NULL, NULL, T0 + 2);

    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0 + 3, 1, 13,
                        only_r0, &c), DS_OK);
    T_INT(c.n, 1);
    act[0] = t_act(DS_ACT_START_SUB, 1, "R1", NULL);
    act[0].instance_id = t_s("r1");
    T_INT(t_complete_o(env, hub, "r0", 13, act, 1, T0 + 3, &st), DS_OK);

    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0 + 4, 1, 14,
                        only_r1, &c), DS_OK);
    T_INT(c.n, 1);
    act[0] = t_act(DS_ACT_START_SUB, 0, "RK", NULL);
    act[0].instance_id = t_s("rk");
    act[1] = t_act(DS_ACT_TERMINATE, -1, NULL, "\"down\"");
    act[1].instance_id = t_s("r0");
    act[1].recurse = 1;
    act[2] = t_act(DS_ACT_CONTINUE_AS_NEW, 1, NULL, "2");
    T_INT(t_complete_answer(env, hub, "r1", 14, act, 3, T0 + 5, &st,
                            &changed), DS_OK);
    T_INT(st, DS_TERMINATED);

    t_terminated_by(env, hub, "r0", "\"down\"");
    T_INT(t_get(env, hub, "r1", &inst, NULL, 0), DS_OK);
    T_INT(inst.status, DS_TERMINATED);
    T_INT(t_get(env, hub, "rk", &inst, NULL, 0), DS_OK);
    T_INT(inst.status, DS_PENDING);
    T_INT(inst.parent_created, T0);
    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * Rewind reaches only the children of the parent's life: a parent ends
 * without its children c0 and c1, is purged and starts again under its
 * id; the new life's starts of c0 and c1 are refused (the old life's
 * children hold the ids), so its history names them, and it fails. The
 * old c0 fails and c1 completes. Rewinding the new life leaves both
 * alone: c0 is not rewound, and c1's output does not come to the new
 * parent; each of the two tasks fails instead, with a
 * SubOrchestrationInstanceFailed in the parent's inbox, which its next
 * episode takes. (The same on PostgreSQL:
 * store/pg/tests/083-rewind-reused.sql.)
 */

#define T_TAKEN(task, child)                                              \
    "\"TaskScheduledId\":" #task ",\"Reason\":\"sub-orchestration '"      \
    child "' cannot be rewound: its id now belongs to another instance\","   \
    "\"Details\":{\"ErrorType\":\"SubOrchestrationIdTaken\","              \
    "\"ErrorMessage\":\"sub-orchestration '" child "' cannot be rewound: " \
    "its id now belongs to another instance\",\"IsNonRetriable\":false}}"

static void
t_sdk_rewind_reused(void)
{
    char             hist[T_TEXT];
    char            *dir;
    const char      *rw;
    t_buf_t          b;
    ds_env_t        *env;
    ds_str_t         hub;
    t_named_t        c;
    ds_action_t      act[3];
    ds_status_e      st;
    ds_instance_t    inst;
    const char      *only_p[] = { "P", NULL };
    const char      *only_c0[] = { "C0", NULL };
    const char      *only_c1[] = { "C1", NULL };

    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    hub = t_s("Rewind");
    T_INT(t_start(env, hub, "p", "P", NULL, T0), DS_OK);
    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0, 1, 1, only_p,
                        &c), DS_OK);
    T_INT(c.n, 1);
    act[0] = t_act(DS_ACT_START_SUB, 0, "C0", NULL);
    act[0].instance_id = t_s("c0");
    act[1] = t_act(DS_ACT_START_SUB, 1, "C1", NULL);
    act[1].instance_id = t_s("c1");
    T_INT(t_complete_o(env, hub, "p", 1, act, 2, T0, &st), DS_OK);

    t_life_again(env, hub, "p", "\"alone\"", "P", NULL, T0 + 1);

    /* the new life names c0 and c1, whose starts are refused, and fails */

    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0 + 2, 1, 2,
                        only_p, &c), DS_OK);
    T_INT(c.n, 1);
    act[2] = t_act(DS_ACT_FAIL, 2, NULL, NULL);
    act[2].reason = t_s("\"no\"");
    T_INT(t_complete_o(env, hub, "p", 2, act, 3, T0 + 2, &st), DS_OK);
    T_INT(st, DS_FAILED);

    /* the old life's children end: c0 fails, c1 completes */

    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0 + 3, 1, 3,
                        only_c0, &c), DS_OK);
    T_INT(c.n, 1);
    t_fail_o(env, hub, "c0", 3, 0, "\"old\"", T0 + 3);

    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0 + 3, 1, 4,
                        only_c1, &c), DS_OK);
    T_INT(c.n, 1);
    act[0] = t_act(DS_ACT_COMPLETE, 0, NULL, "\"old\"");
    T_INT(t_complete_o(env, hub, "c1", 4, act, 1, T0 + 3, &st), DS_OK);
    T_INT(st, DS_COMPLETED);

    T_INT(t_get(env, hub, "c0", &inst, NULL, 0), DS_OK);
    T_INT(inst.parent_created, T0);

    t_rewind(env, hub, "p", "\"again\"", T0 + 4);

    T_INT(t_get(env, hub, "p", &inst, NULL, 0), DS_OK);
    T_INT(inst.status, DS_RUNNING);
    T_INT(t_get(env, hub, "c0", &inst, NULL, 0), DS_OK);
    T_INT(inst.status, DS_FAILED);
    T_INT(t_get(env, hub, "c1", &inst, NULL, 0), DS_OK);
    T_INT(inst.status, DS_COMPLETED);

    /* each task fails: the ids belong to the old life's children */

    t_inbox_text(env, hub, "p", &b);
    T(strstr(b.text, "SubOrchestrationInstanceCompleted") == NULL);
    T(strstr(b.text, "\"ExecutionRewound\"") == NULL);
    T(strstr(b.text, "{\"EventType\":\"SubOrchestrationInstanceFailed\","
                     "\"Timestamp\":\"") != NULL);
    T(strstr(b.text, T_TAKEN(0, "c0")) != NULL);
    T(strstr(b.text, T_TAKEN(1, "c1")) != NULL);
    T_INT(t_inbox_count(env, hub, "p"), 2);

    t_history_text(env, hub, "p", hist, sizeof(hist));
    T(strstr(hist, "\"ExecutionRewound\"") != NULL);
    T(strstr(hist, "SubOrchestrationInstanceFailed") == NULL);
    T(t_consistent(env, hub, NULL));

    /* the next episode takes both failures; its code fails again */

    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, T0 + 5, 1, 5,
                        only_p, &c), DS_OK);
    T_INT(c.n, 1);
    t_fail_o(env, hub, "p", 5, 3, "\"c0 failed\"", T0 + 5);

    t_history_text(env, hub, "p", hist, sizeof(hist));
    T(strstr(hist, T_TAKEN(0, "c0")) != NULL);
    T(strstr(hist, T_TAKEN(1, "c1")) != NULL);
    rw = strstr(hist, "\"ExecutionRewound\"");
    T(rw != NULL && strstr(rw, T_TAKEN(0, "c0")) != NULL);
    T_INT(t_inbox_count(env, hub, "p"), 0);
    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/* ContinueAsNew: the new version, and events carried over in order */

/*
 * A continue-as-new drops the answers to the ended execution by their
 * EventType, read from the JSON: a message the store did not write (an
 * import, an event carried over) may space or order its members
 * otherwise, or escape its type, and is still an answer.
 */

static void
t_sdk_answers_parsed(void)
{
    size_t       i;
    char        *dir;
    ds_env_t    *env;
    ds_str_t     hub;
    t_buf_t      b;
    t_orch_t     o;
    ds_txn_t    *txn;
    ds_action_t  act;
    ds_status_e  st;

    static const char  *late[] = {
        "{ \"EventType\" : \"TaskCompleted\", \"TaskScheduledId\": 0 }",
        "{\"Timestamp\":\"2018-03-10T13:57:31Z\",\"EventType\":"
        "\"TimerFired\",\"TimerId\":1}",
        "{\"EventType\":\"Task\\u0046ailed\",\"TaskScheduledId\":2}",
        "{\"EventType\":\"EventRaised\",\"Name\":\"kept\",\"Input\":null}",
        "{\"Name\":\"TaskCompleted\",\"EventType\":\"EventRaised\","
        "\"Input\":null}"
    };

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "p", "O", "1", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0, T_LEASE, 1, 1, &o), DS_OK);
    T_INT(o.n, 1);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);

    for (i = 0; i < sizeof(late) / sizeof(late[0]); i++) {
        T_INT(ds_inbox_append(txn, hub, t_s("p"), t_s(late[i]), NULL),
              DS_OK);
    }

    T_INT(ds_txn_commit(txn), DS_OK);

    act = t_act(DS_ACT_CONTINUE_AS_NEW, -1, NULL, "2");
    T_INT(t_complete_o(env, hub, "p", 1, &act, 1, T0 + 1, &st), DS_OK);

    t_inbox_text(env, hub, "p", &b);
    T(strstr(b.text, "\"ExecutionStarted\"") != NULL);
    T(strstr(b.text, "\"kept\"") != NULL);
    T(strstr(b.text, "\"Name\":\"TaskCompleted\"") != NULL);
    T(strstr(b.text, "TaskScheduledId") == NULL);
    T(strstr(b.text, "TimerFired") == NULL);

    ds_env_close(env);
    t_rmdir(dir);
}


static void
t_sdk_continue_as_new(void)
{
    char           *dir;
    ds_env_t       *env;
    ds_str_t        hub, carry[2];
    t_buf_t         b;
    t_orch_t        o;
    ds_txn_t       *txn;
    ds_action_t     act;
    ds_status_e     st;
    ds_instance_t   inst;
    ds_start_opts_t opts;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    memset(&opts, 0, sizeof(ds_start_opts_t));
    opts.version = t_s("1");
    opts.tags = t_s("{\"t\":\"u\"}");
    T_INT(t_start_opts(env, hub, "c", &opts, T0, NULL), DS_OK);
    T_INT(t_claim_o(env, hub, T0, T_LEASE, 1, 1, &o), DS_OK);

    /* a message that arrives during the episode */
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_op_raise_event(txn, hub, t_s("c"), t_s("late"), t_s("2"),
                            T0 + 1), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    carry[0] = t_s("{\"EventType\":\"EventRaised\",\"EventId\":-1,"
                   "\"Name\":\"early\",\"Input\":1}");
    carry[1] = t_s("{\"EventType\":\"EventRaised\",\"EventId\":-1,"
                   "\"Name\":\"early2\",\"Input\":null}");
    act = t_act(DS_ACT_CONTINUE_AS_NEW, -1, NULL, "7");
    act.version = t_s("2");
    act.carryover = carry;
    act.ncarryover = 2;
    T_INT(t_complete_o(env, hub, "c", 1, &act, 1, T0 + 2, &st), DS_OK);
    T_INT(st, DS_CONTINUED_AS_NEW);

    t_inbox_text(env, hub, "c", &b);
    T(strncmp(b.text, "{\"EventType\":\"ExecutionStarted\"", 31) == 0);
    T(strstr(b.text, "\"Input\":7,\"Version\":\"2\",\"Tags\":{\"t\":\"u\"}}\n"
                     "{\"EventType\":\"EventRaised\",\"EventId\":-1,"
                     "\"Name\":\"early\",\"Input\":1}\n"
                     "{\"EventType\":\"EventRaised\",\"EventId\":-1,"
                     "\"Name\":\"early2\",\"Input\":null}\n"
                     "{\"EventType\":\"EventRaised\",") != NULL);
    T(strstr(b.text, "\"Name\":\"late\",\"Input\":2}\n") != NULL);
    T_INT(t_inbox_count(env, hub, "c"), 4);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_instance_get(txn, hub, t_s("c"), &inst), DS_OK);
    T_STR(inst.version, "2");
    T_INT(inst.execution, 2);
    ds_txn_abort(txn);

    T_INT(t_claim_o(env, hub, T0 + 3, T_LEASE, 1, 2, &o), DS_OK);
    T_INT(o.nmessages[0], 4);

    /* a carried-over event must be a JSON object */
    carry[0] = t_s("[1]");
    act.ncarryover = 1;
    T_INT(t_complete_o(env, hub, "c", 2, &act, 1, T0 + 4, &st), DS_INVALID);
    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/* what an entity's operations send: signals and new orchestrations */

static void
t_sdk_entity_actions(void)
{
    char           *dir;
    ds_op_t         op;
    ds_env_t       *env;
    ds_str_t        hub;
    t_ent_t         e;
    t_orch_t        o;
    ds_txn_t       *txn;
    ds_action_t     act[3];
    ds_instance_t   inst;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_entity_signal(txn, hub, t_s("src"), t_s("k"), t_s("go"),
                           t_s(""), T0), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);
    T_INT(t_claim_e(env, hub, T0, T_LEASE, 1, 1, &e), DS_OK);
    T_INT(e.n, 1);

    act[0] = t_act(DS_ACT_SIGNAL_ENTITY, -1, "ping", "3");
    act[0].entity_name = t_s("dst");
    act[0].entity_key = t_s("k");
    act[1] = t_act(DS_ACT_START_SUB, -1, "Started", "4");
    act[1].instance_id = t_s("from-entity");
    act[2] = t_act(DS_ACT_START_SUB, -1, "Later", NULL);
    act[2].instance_id = t_s("for-later");
    act[2].fire_at = T0 + 60 * T_SEC;

    memset(&op, 0, sizeof(ds_op_t));
    op.type = DS_OP_WORK_COMPLETE;
    op.hub = hub;
    op.now = T0 + 1;
    op.in.work.kind = DS_WORK_ENTITY;
    op.in.work.id = t_s("src");
    op.in.work.key = t_s("k");
    op.in.work.lease = t_tok(1);
    op.in.work.result = t_s("1");
    op.in.work.actions = act;
    op.in.work.nactions = 3;

    /* a bad action first: nothing is written */
    act[1].instance_id = t_s("@bad");
    ds_op_batch(env, &op);
    T_INT(op.rc, DS_INVALID);

    act[1].instance_id = t_s("from-entity");
    ds_op_batch(env, &op);
    T_INT(op.rc, DS_OK);

    T_INT(t_get(env, hub, "from-entity", &inst, NULL, 0), DS_OK);
    T_INT(inst.status, DS_PENDING);
    T_INT(inst.parent_id.len, 0);
    T_INT(t_claim_o(env, hub, T0 + 2, T_LEASE, 1, 2, &o), DS_OK);
    T_INT(o.n, 1);
    T(strcmp(o.input[0], "4") == 0);

    /* a start with a time waits for it, as a scheduled start does */
    T_INT(t_get(env, hub, "for-later", &inst, NULL, 0), DS_OK);
    T_INT(inst.status, DS_PENDING);
    T(inst.scheduled_start == T0 + 60 * T_SEC);
    T_INT(t_claim_o(env, hub, T0 + 3, T_LEASE, 1, 4, &o), DS_OK);
    T_INT(o.n, 0);
    T_INT(t_claim_o(env, hub, T0 + 60 * T_SEC, T_LEASE, 1, 5, &o), DS_OK);
    T_INT(o.n, 1);

    T_INT(t_claim_e(env, hub, T0 + 2, T_LEASE, 1, 3, &e), DS_OK);
    T_INT(e.n, 1);
    T(strcmp(e.name[0], "dst") == 0);
    T(strstr(e.ops[0], "\"operation\":\"ping\",\"input\":3") != NULL);
    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


void
t_sdk(void)
{
    t_sdk_start();
    t_sdk_reuse();
    t_sdk_event_ids();
    t_sdk_activity_version();
    t_sdk_history_chunks();
    t_sdk_start_op();
    t_sdk_entity_calls();
    t_sdk_entity_batch_failed();
    t_sdk_events_processed();
    t_sdk_terminate_action();
    t_sdk_self_messages();
    t_sdk_self_terminate();
    t_sdk_entity_locks();
    t_sdk_stale_grants();
    t_sdk_entity_reborn();
    t_sdk_failed_grant();
    t_sdk_grant_set();
    t_sdk_rewind_lock();
    t_sdk_stale_set();
    t_sdk_stale_queue();
    t_sdk_stale_cs();
    t_sdk_sub_parent_created();
    t_sdk_rewind_parent_created();
    t_sdk_trees();
    t_sdk_trees_reused();
    t_sdk_rewind_reused();
    t_sdk_continue_as_new();
    t_sdk_answers_parsed();
    t_sdk_entity_actions();
}
