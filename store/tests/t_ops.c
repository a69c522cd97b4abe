/*
 * Copyright (C) ngx_durable authors
 *
 * Lifecycle operations: every operation from every status, and the exact
 * history and inbox events they write.
 */


#include <stdlib.h>

#include "t.h"


#define T_NOW       1520690251123400LL      /* 2018-03-10T13:57:31.1234Z */
#define T_TS        "\"Timestamp\":\"2018-03-10T13:57:31.1234Z\""


enum {
    T_START = 0,
    T_RAISE,
    T_TERMINATE,
    T_SUSPEND,
    T_RESUME,
    T_REWIND,
    T_PURGE,
    T_OPS
};


typedef struct {
    size_t      n;
    char        last[256];
} t_seen_t;


static void t_ops_matrix(void);
static void t_ops_events(void);
static void t_ops_rewind(void);
static void t_ops_rewind_text(void);
static void t_ops_rewind_escapes(void);
static void t_ops_rewound(ds_env_t *env, ds_str_t hub, ds_str_t id,
    const char **events, const char *reason);
static int t_ops_act_cb(void *data, ds_txn_t *txn,
    const ds_work_item_t *it);
static void t_ops_setup(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_status_e status);
static int t_ops_run(ds_txn_t *txn, int op, ds_str_t hub, ds_str_t id,
    ds_instance_t *inst, ds_status_e *purged);
static t_seen_t t_history(ds_txn_t *txn, ds_str_t hub, ds_str_t id);
static t_seen_t t_inbox(ds_txn_t *txn, ds_str_t hub, ds_str_t id);


void
t_ops(void)
{
    t_ops_matrix();
    t_ops_events();
    t_ops_rewind();
    t_ops_rewind_text();
    t_ops_rewind_escapes();
}


static void
t_ops_matrix(void)
{
    int            op, rc, want, terminal;
    char          *dir, name[32];
    uint64_t       writes;
    ds_env_t      *env;
    ds_txn_t      *txn;
    ds_str_t       hub, id;
    t_seen_t       h, in;
    ds_status_e    s, purged, want_status;
    ds_instance_t  inst, got;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    for (op = 0; op < T_OPS; op++) {
        T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
        T_INT(t_ops_run(txn, op, hub, t_s("missing"), &inst, &purged),
              op == T_START ? DS_OK : DS_NOTFOUND);
        /* a refusal writes nothing: the writer's batch goes on in place */
        T_INT(ds_txn_writes(txn) > 0, op == T_START);
        ds_txn_abort(txn);

        for (s = 0; s < DS_STATUS_COUNT; s++) {
            snprintf(name, sizeof(name), "op%d-%s", op, ds_status_name(s));
            id = t_s(name);
            terminal = ds_status_is_terminal(s);

            T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
            t_ops_setup(txn, hub, id, s);

            writes = ds_txn_writes(txn);
            rc = t_ops_run(txn, op, hub, id, &inst, &purged);
            want_status = s;

            if (rc != DS_OK) {
                T_INT(ds_txn_writes(txn), writes);
            }

            switch (op) {

            case T_START:
                want = terminal ? DS_OK : DS_CONFLICT;
                want_status = terminal ? DS_PENDING : s;

                if (rc == DS_CONFLICT) {
                    T_INT(inst.status, s);
                    T_STR(inst.input, "{\"x\":1}");
                }

                if (rc == DS_OK) {
                    T_INT(inst.status, DS_PENDING);
                    T_INT(inst.created, T_NOW);
                    T_INT(inst.execution, 4);
                    T_STR(inst.name, "Next");
                }

                break;

            case T_RAISE:
                want = terminal ? DS_GONE : DS_OK;
                break;

            case T_TERMINATE:
                want = terminal ? DS_GONE : DS_OK;
                want_status = terminal ? s : DS_TERMINATED;
                break;

            case T_SUSPEND:
                want = terminal ? DS_GONE : DS_OK;
                want_status = terminal ? s : DS_SUSPENDED;
                break;

            case T_RESUME:
                want = terminal ? DS_GONE : DS_OK;
                want_status = (s == DS_SUSPENDED) ? DS_CONTINUED_AS_NEW : s;
                break;

            case T_REWIND:
                want = (s == DS_FAILED) ? DS_OK
                       : terminal ? DS_GONE : DS_PRECONDITION;
                want_status = (s == DS_FAILED) ? DS_RUNNING : s;
                break;

            default: /* T_PURGE */
                want = terminal ? DS_OK : DS_PRECONDITION;
                T_INT(purged, s);
                break;
            }

            if (rc != want) {
                fprintf(stderr, "  op %d from %s\n", op, ds_status_name(s));
            }

            T_INT(rc, want);

            h = t_history(txn, hub, id);
            in = t_inbox(txn, hub, id);

            if (op == T_PURGE && rc == DS_OK) {
                T_INT(ds_instance_get(txn, hub, id, &got), DS_NOTFOUND);
                T_INT(h.n, 0);
                T_INT(in.n, 0);
                T_INT(ds_txn_commit(txn), DS_OK);
                continue;
            }

            T_INT(ds_instance_get(txn, hub, id, &got), DS_OK);
            T_INT(got.status, want_status);

            if (rc != DS_OK || (got.status == s && op != T_RAISE)) {
                /* refused or a no-op: nothing changed */
                T_INT(got.updated, 100);
                T_INT(h.n, 1);
                T_INT(in.n, 1);
                T_STR(got.output, "\"o\"");
                T_INT(ds_txn_commit(txn), DS_OK);
                continue;
            }

            T_INT(got.updated, op == T_RAISE ? 100 : T_NOW);

            switch (op) {

            case T_START:
                T_INT(h.n, 0);
                T_INT(in.n, 1);
                T(strstr(in.last, "ExecutionStarted") != NULL);
                T_INT(got.execution, 4);
                T_INT(got.created, T_NOW);
                T_INT(got.output.len, 0);
                T_INT(got.custom_status.len, 0);
                break;

            case T_RAISE:
                T_INT(h.n, 1);
                T_INT(in.n, 2);
                T(strstr(in.last, "EventRaised") != NULL);
                break;

            case T_TERMINATE:
                T_INT(h.n, 2);
                T_INT(in.n, 0);
                T_STR(got.output, "\"why\"");
                T_STR(got.custom_status, "\"c\"");
                T(strstr(h.last, "ExecutionTerminated") != NULL);
                break;

            case T_SUSPEND:
                T_INT(got.suspended_from, s);
                T_INT(h.n, 2);
                T_INT(in.n, 1);
                T(strstr(h.last, "ExecutionSuspended") != NULL);
                break;

            case T_RESUME:
                T_INT(h.n, 2);
                T_INT(in.n, 1);
                T(strstr(h.last, "ExecutionResumed") != NULL);
                break;

            case T_REWIND:
                /* nothing pending to reschedule: the event is a message */
                T_INT(h.n, 1);
                T_INT(in.n, 2);
                T(strstr(in.last, "ExecutionRewound") != NULL);
                T_INT(got.output.len, 0);
                T_INT(got.ready_at, T_NOW);
                break;
            }

            T_INT(got.created, op == T_START ? T_NOW : 100);
            T_INT(ds_txn_commit(txn), DS_OK);
        }
    }

    /* raise event keeps a record as it was, byte for byte */
    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_instance_get(txn, hub, t_s("op1-Running"), &got), DS_OK);
    T_INT(got.updated, 100);
    ds_txn_abort(txn);

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


static void
t_ops_events(void)
{
    char          *dir;
    ds_env_t      *env;
    ds_txn_t      *txn;
    ds_str_t       hub, id;
    t_seen_t       seen;
    ds_status_e    st;
    ds_instance_t  inst;

    hub = t_s("Hub");
    id = t_s("ev");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);

    T_INT(ds_op_start(txn, hub, id, t_s("Hel\"lo\n"), t_s("{\"a\":1}"),
                      T_NOW, &inst), DS_OK);
    seen = t_inbox(txn, hub, id);
    T(strcmp(seen.last, "{\"EventType\":\"ExecutionStarted\"," T_TS
             ",\"EventId\":-1,\"Name\":\"Hel\\\"lo\\n\","
             "\"Input\":{\"a\":1}}") == 0);

    T_INT(ds_op_raise_event(txn, hub, id, t_s("evt"), t_s(""), T_NOW),
          DS_OK);
    seen = t_inbox(txn, hub, id);
    T_INT(seen.n, 2);
    T(strcmp(seen.last, "{\"EventType\":\"EventRaised\"," T_TS
             ",\"EventId\":-1,\"Name\":\"evt\",\"Input\":null}") == 0);

    T_INT(ds_op_suspend(txn, hub, id, t_s(""), T_NOW), DS_OK);
    seen = t_history(txn, hub, id);
    T(strcmp(seen.last, "{\"EventType\":\"ExecutionSuspended\"," T_TS
             ",\"EventId\":-1,\"Reason\":null}") == 0);

    /* suspended twice: a no-op, no second event */
    T_INT(ds_op_suspend(txn, hub, id, t_s("\"x\""), T_NOW + 1), DS_OK);
    T_INT(t_history(txn, hub, id).n, 1);

    T_INT(ds_op_resume(txn, hub, id, t_s("\"back\""), T_NOW), DS_OK);
    seen = t_history(txn, hub, id);
    T(strcmp(seen.last, "{\"EventType\":\"ExecutionResumed\"," T_TS
             ",\"EventId\":-1,\"Reason\":\"back\"}") == 0);
    T_INT(ds_instance_get(txn, hub, id, &inst), DS_OK);
    T_INT(inst.status, DS_PENDING);

    T_INT(ds_op_terminate(txn, hub, id, t_s("{\"r\":[1]}"), T_NOW), DS_OK);
    seen = t_history(txn, hub, id);
    T_INT(seen.n, 3);
    T(strcmp(seen.last, "{\"EventType\":\"ExecutionTerminated\"," T_TS
             ",\"EventId\":-1,\"Input\":{\"r\":[1]}}") == 0);
    T_INT(t_inbox(txn, hub, id).n, 0);
    T_INT(ds_instance_get(txn, hub, id, &inst), DS_OK);
    T_STR(inst.output, "{\"r\":[1]}");

    /*
     * rewind of a failed instance with nothing pending: ExecutionRewound
     * goes to the inbox, so that an episode replays the history
     */
    inst.status = DS_FAILED;
    T_INT(ds_instance_put(txn, hub, id, &inst), DS_OK);
    T_INT(ds_op_rewind(txn, hub, id, t_s("\"fix\""), T_NOW), DS_OK);
    seen = t_inbox(txn, hub, id);
    T(strcmp(seen.last, "{\"EventType\":\"ExecutionRewound\"," T_TS
             ",\"EventId\":-1,\"Reason\":\"fix\"}") == 0);
    T_INT(t_history(txn, hub, id).n, 3);

    /* restart of a terminal instance from its own record's fields */
    T_INT(ds_op_terminate(txn, hub, id, t_s(""), T_NOW), DS_OK);
    T_INT(ds_instance_get(txn, hub, id, &inst), DS_OK);
    T_INT(inst.output.len, 0);
    T_INT(ds_op_start(txn, hub, id, inst.name, inst.input, T_NOW + 5,
                      &inst), DS_OK);
    T_INT(ds_instance_get(txn, hub, id, &inst), DS_OK);
    T_STR(inst.name, "Hel\"lo\n");
    T_STR(inst.input, "{\"a\":1}");
    T_INT(inst.execution, 2);
    T_INT(t_history(txn, hub, id).n, 0);
    T_INT(t_inbox(txn, hub, id).n, 1);

    T_INT(ds_op_purge(txn, hub, id, &st), DS_PRECONDITION);
    T_INT(st, DS_PENDING);

    T_INT(ds_op_start(txn, hub, t_s("x"), t_s(""), t_s(""), 1, &inst),
          DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * rewind removes the failure from the history and schedules again what
 * the history shows pending: the failed activity, an activity without a
 * result, a timer that did not fire
 */

static void
t_ops_rewind(void)
{
    char              *dir;
    ds_env_t          *env;
    ds_txn_t          *txn;
    ds_str_t           hub, id;
    t_seen_t           seen;
    ds_instance_t      inst;
    ds_check_stats_t   st;

    static const char  *events[] = {
        "{\"EventType\":\"OrchestratorStarted\"}",
        "{\"EventType\":\"ExecutionStarted\",\"Name\":\"O\"}",
        "{\"EventType\":\"TaskScheduled\",\"EventId\":0,\"Name\":\"A\","
            "\"Input\":{\"b\":[1,2]}}",
        "{\"EventType\":\"TaskScheduled\",\"EventId\":1,\"Name\":\"B\","
            "\"Input\":null}",
        "{\"EventType\":\"TaskScheduled\",\"EventId\":2,\"Name\":\"C\","
            "\"Input\":3}",
        "{\"EventType\":\"TimerCreated\",\"EventId\":3,"
            "\"FireAt\":\"2030-01-01T00:00:00Z\"}",
        "{\"EventType\":\"TimerCreated\",\"EventId\":4,"
            "\"FireAt\":\"2018-01-01T00:00:00Z\"}",
        "{\"EventType\":\"OrchestratorCompleted\"}",
        "{\"EventType\":\"OrchestratorStarted\"}",
        "{\"EventType\":\"TaskCompleted\",\"TaskScheduledId\":2,"
            "\"Result\":1}",
        "{\"EventType\":\"TaskFailed\",\"TaskScheduledId\":0,"
            "\"Reason\":\"x\"}",
        "{\"EventType\":\"TimerFired\",\"TimerId\":4}",
        "{\"EventType\":\"ExecutionCompleted\",\"OrchestrationStatus\":3}",
        "{\"EventType\":\"OrchestratorCompleted\"}",
        NULL
    };

    hub = t_s("Hub");
    id = t_s("rw");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    t_ops_rewound(env, hub, id, events, "\"fix\"");

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    seen = t_history(txn, hub, id);
    T_INT(seen.n, 14 - 2 + 1);
    T(strcmp(seen.last, "{\"EventType\":\"ExecutionRewound\"," T_TS
             ",\"EventId\":-1,\"Reason\":\"fix\"}") == 0);
    T_INT(t_inbox(txn, hub, id).n, 0);
    T_INT(ds_instance_get(txn, hub, id, &inst), DS_OK);
    T_INT(inst.status, DS_RUNNING);
    T_INT(inst.output.len, 0);
    T_INT(inst.ready_at, 0);
    ds_txn_abort(txn);

    /* activities 0 and 1 again, timer 3 again; not 2 nor timer 4 */
    T(t_consistent(env, hub, &st));
    T_INT(st.activities, 2);
    T_INT(st.timers, 1);
    T_INT(st.ready, 2);

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * rewind reads the history's own text: strings are decoded (escapes),
 * inputs are scheduled as written, an event with spaces is read as well,
 * and one that is not JSON stays as it is
 */

static void
t_ops_rewind_text(void)
{
    char              *dir;
    size_t             claimed;
    ds_env_t          *env;
    ds_txn_t          *txn;
    ds_str_t           hub, id;
    uint8_t            tokens[2 * DS_LEASE_LEN];
    t_seen_t           seen;
    ds_check_stats_t   st;
    char               got[2][128];

    static const char  *events[] = {
        "{\"EventType\":\"ExecutionStarted\",\"Name\":\"O\"}",
        "{\"EventType\":\"Task\\u0053cheduled\",\"EventId\":0,"
            "\"Name\":\"Gr\\u00fc\\u00dfe\\/\\ud83d\\ude00\","
            "\"Input\":{\"v\":1.50,\"s\":\"\\u00e9\"}}",
        "{ \"EventType\" : \"TaskScheduled\" , \"EventId\" : 1 ,"
            " \"Name\" : \"B\" , \"Input\" : [ 1 , 2 ] }",
        "{\"EventType\":\"TaskScheduled\",\"EventId\":2,\"Name\":\"C\"",
        "{\"EventType\":\"TaskScheduled\",\"EventId\":3.0,\"Name\":\"D\"}",
        "{\"EventType\":\"ExecutionCompleted\",\"OrchestrationStatus\":3}",
        NULL
    };

    hub = t_s("Hub");
    id = t_s("rt");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    t_ops_rewound(env, hub, id, events, "");

    /* the failure went, the event that is not JSON stayed */

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    seen = t_history(txn, hub, id);
    T_INT(seen.n, 6 - 1 + 1);
    ds_txn_abort(txn);

    /* consistent but for that event, which the check reports */
    T_INT(ds_check(env, hub, NULL, NULL, &st), DS_ERROR);
    T_INT(st.problems, 1);
    T_INT(st.activities, 2);

    memset(tokens, 7, sizeof(tokens));
    memset(got, 0, sizeof(got));

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_work_claim(txn, hub, DS_WORK_ACTIVITY, T_NOW, 1000000, 2,
                        tokens, NULL, t_ops_act_cb, got, &claimed),
          DS_OK);
    T_INT(claimed, 2);
    ds_txn_abort(txn);

    T(strcmp(got[0], "Gr\xc3\xbc\xc3\x9f" "e/\xf0\x9f\x98\x80 "
                     "{\"v\":1.50,\"s\":\"\\u00e9\"}") == 0);
    T(strcmp(got[1], "B [1,2]") == 0);

    ds_env_close(env);
    t_rmdir(dir);
}



/*
 * rewind reads what jansson reads: a member name written with escapes
 * (an imported event), and strings holding \u0000, which worker bodies
 * may carry (they are parsed with JSON_ALLOW_NUL)
 */

static void
t_ops_rewind_escapes(void)
{
    char              *dir;
    size_t             claimed;
    ds_env_t          *env;
    ds_txn_t          *txn;
    ds_str_t           hub, id;
    uint8_t            tokens[3 * DS_LEASE_LEN];
    t_seen_t           seen;
    ds_check_stats_t   st;
    char               got[2][128];

    static const char  *events[] = {
        "{\"EventType\":\"ExecutionStarted\",\"Name\":\"O\"}",
        "{\"EventType\":\"TaskScheduled\",\"EventId\":0,\"Name\":\"A\","
            "\"Input\":\"a\\u0000b\"}",
        "{\"EventType\":\"TaskScheduled\",\"EventId\":1,\"Name\":\"B\"}",
        "{\"Event\\u0054ype\":\"TaskFailed\",\"EventId\":-1,"
            "\"Task\\u0053cheduledId\":1}",
        "{\"EventType\":\"TaskScheduled\",\"EventId\":2,\"Name\":\"C\"}",
        "{\"EventType\":\"TaskFailed\",\"EventId\":-1,"
            "\"TaskScheduledId\":2,\"Reason\":\"bad\\u0000\"}",
        "{\"EventType\":\"ExecutionCompleted\",\"OrchestrationStatus\":3}",
        NULL
    };

    hub = t_s("Hub");
    id = t_s("re");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    t_ops_rewound(env, hub, id, events, "");

    /* both failures and the completion went; one rewind event came */

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    seen = t_history(txn, hub, id);
    T_INT(seen.n, 7 - 3 + 1);
    ds_txn_abort(txn);

    /* A (no result), B and C (failed) are scheduled again */

    T(t_consistent(env, hub, &st));
    T_INT(st.activities, 3);

    memset(tokens, 7, sizeof(tokens));
    memset(got, 0, sizeof(got));

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_work_claim(txn, hub, DS_WORK_ACTIVITY, T_NOW, 1000000, 3,
                        tokens, NULL, t_ops_act_cb, got, &claimed),
          DS_OK);
    T_INT(claimed, 3);
    ds_txn_abort(txn);

    T(strcmp(got[0], "A \"a\\u0000b\"") == 0);
    T(strcmp(got[1], "B ") == 0);

    ds_env_close(env);
    t_rmdir(dir);
}

/* "name input" of each claimed activity, by its task id */

static int
t_ops_act_cb(void *data, ds_txn_t *txn, const ds_work_item_t *it)
{
    char  (*got)[128] = data;

    (void) txn;

    if (it->task_id >= 0 && it->task_id < 2) {
        snprintf(got[it->task_id], 128, "%.*s %.*s",
                 (int) it->name.len, it->name.data,
                 (int) it->input.len, it->input.data);
    }

    return 0;
}


/* id made a Failed instance with the given history, then rewound */

static void
t_ops_rewound(ds_env_t *env, ds_str_t hub, ds_str_t id, const char **events,
    const char *reason)
{
    ds_txn_t       *txn;
    ds_instance_t   inst;

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);

    T_INT(ds_op_start(txn, hub, id, t_s("O"), t_s(""), 100, &inst), DS_OK);
    T_INT(ds_inbox_clear(txn, hub, id), DS_OK);
    T_INT(ds_instance_get(txn, hub, id, &inst), DS_OK);
    inst.status = DS_FAILED;
    inst.ready_at = 0;
    inst.output = t_s("\"x\"");
    T_INT(ds_instance_put(txn, hub, id, &inst), DS_OK);

    for ( /* void */ ; *events; events++) {
        T_INT(ds_history_append(txn, hub, id, t_s(*events), NULL), DS_OK);
    }

    T_INT(ds_op_rewind(txn, hub, id, t_s(reason), T_NOW), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);
}


static void
t_ops_setup(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_status_e status)
{
    ds_instance_t  inst;

    memset(&inst, 0, sizeof(inst));
    inst.status = status;
    inst.suspended_from = DS_CONTINUED_AS_NEW;
    inst.created = 100;
    inst.updated = 100;
    inst.execution = 3;
    inst.name = t_s("Orch");
    inst.input = t_s("{\"x\":1}");
    inst.output = t_s("\"o\"");
    inst.custom_status = t_s("\"c\"");

    T_INT(ds_instance_put(txn, hub, id, &inst), DS_OK);
    T_INT(ds_history_append(txn, hub, id, t_s("{\"h\":1}"), NULL), DS_OK);
    T_INT(ds_inbox_append(txn, hub, id, t_s("{\"m\":1}"), NULL), DS_OK);
}


static int
t_ops_run(ds_txn_t *txn, int op, ds_str_t hub, ds_str_t id,
    ds_instance_t *inst, ds_status_e *purged)
{
    switch (op) {
    case T_START:
        return ds_op_start(txn, hub, id, t_s("Next"), t_s("[2]"), T_NOW,
                           inst);
    case T_RAISE:
        return ds_op_raise_event(txn, hub, id, t_s("e"), t_s("1"), T_NOW);
    case T_TERMINATE:
        return ds_op_terminate(txn, hub, id, t_s("\"why\""), T_NOW);
    case T_SUSPEND:
        return ds_op_suspend(txn, hub, id, t_s(""), T_NOW);
    case T_RESUME:
        return ds_op_resume(txn, hub, id, t_s(""), T_NOW);
    case T_REWIND:
        return ds_op_rewind(txn, hub, id, t_s(""), T_NOW);
    default:
        return ds_op_purge(txn, hub, id, purged);
    }
}


static int
t_seen_cb(void *data, uint64_t seq, ds_str_t event)
{
    t_seen_t  *seen;

    (void) seq;

    seen = data;
    seen->n++;
    snprintf(seen->last, sizeof(seen->last), "%.*s", (int) event.len,
             event.data);

    return 0;
}


static t_seen_t
t_history(ds_txn_t *txn, ds_str_t hub, ds_str_t id)
{
    t_seen_t  seen;

    memset(&seen, 0, sizeof(seen));
    T_INT(ds_history_read(txn, hub, id, t_seen_cb, &seen), DS_OK);

    return seen;
}


static t_seen_t
t_inbox(ds_txn_t *txn, ds_str_t hub, ds_str_t id)
{
    t_seen_t  seen;

    memset(&seen, 0, sizeof(seen));
    T_INT(ds_inbox_read(txn, hub, id, t_seen_cb, &seen), DS_OK);

    return seen;
}
