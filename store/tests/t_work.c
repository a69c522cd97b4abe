/*
 * Copyright (C) ngx_durable authors
 *
 * The worker protocol through the store API alone: orchestration
 * episodes, activities, leases, timers, sub-orchestrations, rewind,
 * ContinueAsNew and the lifecycle operations on instances that run.
 */


#include <stdlib.h>

#include "ds_key.h"
#include "t_work.h"


#define T0          1520690251000000LL      /* 2018-03-10T13:57:31Z */
#define T_LEASE     60000000LL
#define T_TS0       "\"Timestamp\":\"2018-03-10T13:57:31Z\""


static void t_work_hello(void);
static void t_work_lease(void);
static void t_work_events(void);
static void t_work_suspend(void);
static void t_work_terminate(void);
static void t_work_purge(void);
static void t_work_rewind(void);
static void t_work_rewind_late(void);
static void t_work_rewind_entity(void);
static void t_work_continue(void);
static void t_work_timers(void);
static void t_work_sub(void);
static void t_work_sub_parent(void);
static void t_work_renew(void);
static void t_work_invalid(void);
static void t_work_check(void);
static void t_work_old_records(void);
static void t_work_names(void);
static void t_work_put_after_write(void);
static int t_fire(ds_txn_t *txn, void *data);


void
t_work(void)
{
    t_work_hello();
    t_work_lease();
    t_work_events();
    t_work_suspend();
    t_work_terminate();
    t_work_purge();
    t_work_rewind();
    t_work_rewind_late();
    t_work_rewind_entity();
    t_work_continue();
    t_work_timers();
    t_work_sub();
    t_work_sub_parent();
    t_work_renew();
    t_work_invalid();
    t_work_check();
    t_work_old_records();
    t_work_names();
    t_work_put_after_write();
}


/*
 * An orchestration's put must follow its get with nothing written in
 * between (it updates the indexes from the record the get read): a put
 * after a write is refused, and nothing is committed.
 */

static void
t_work_put_after_write(void)
{
    char            *dir;
    ds_env_t        *env;
    ds_txn_t        *txn;
    ds_instance_t    inst;
    dsi_work_rec_t   r;

    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_op_start(txn, t_s("Hub"), t_s("a"), t_s("Hello"), t_s("1"),
                      T0, &inst), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    memset(&r, 0, sizeof(dsi_work_rec_t));

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(dsi_work_orchestration.key_of(t_s("Hub"), t_s("a"), t_s(""), 0,
                                        &r), DS_OK);
    T_INT(dsi_work_orchestration.get(txn, t_s("Hub"), &r), DS_OK);

    T_INT(ds_op_start(txn, t_s("Hub"), t_s("b"), t_s("Hello"), t_s("1"),
                      T0, &inst), DS_OK);

    *r.ready_at = 0;
    T_INT(dsi_work_orchestration.put(txn, t_s("Hub"), &r), DS_ERROR);
    T(strstr(ds_txn_error(txn), "between its get and put") != NULL);
    ds_txn_abort(txn);

    T(t_consistent(env, t_s("Hub"), NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/* claims by name: only those names, the others stay for other workers */

static void
t_work_names(void)
{
    int                 ok;
    char               *dir, id[32];
    size_t              i;
    int64_t             now, when;
    ds_env_t           *env;
    ds_txn_t           *txn;
    ds_str_t            hub;
    t_orch_t            o;
    t_named_t           c;
    static const char  *b[] = { "B", NULL };
    static const char  *ab[] = { "Nope", "A,B", "A", NULL };
    static const char  *y[] = { "Y", NULL };

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);
    now = T0;

    T_INT(t_start(env, hub, "n1", "A", NULL, now), DS_OK);
    T_INT(t_start(env, hub, "n2", "B", NULL, now), DS_OK);
    T_INT(t_start(env, hub, "n3", "A,B", NULL, now), DS_OK);
    T_INT(t_start(env, hub, "n4", "b", NULL, now), DS_OK);

    /* the first item of name B is the second one in the index */
    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, now, 4, 50, b, &c),
          DS_OK);
    T_INT(c.n, 1);
    T(strcmp(c.id[0], "n2") == 0);
    T_INT(c.skipped, 3);
    T_INT(c.more, 0);

    /* nothing more of B; every visible entry was examined */
    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, now, 4, 51, b, &c),
          DS_OK);
    T_INT(c.n, 0);
    T_INT(c.skipped, 3);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_work_next_visible(txn, hub, DS_WORK_ORCHESTRATION, &when),
          DS_OK);
    T_INT(when, now);
    T_INT(ds_work_next_after(txn, hub, DS_WORK_ORCHESTRATION, now, &when),
          DS_OK);
    T_INT(when, now + 60000000);
    ds_txn_abort(txn);

    /* several names; a comma is part of a name; names are exact */
    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, now, 4, 52, ab, &c),
          DS_OK);
    T_INT(c.n, 2);
    T(strcmp(c.id[0], "n1") == 0 && strcmp(c.name[0], "A") == 0);
    T(strcmp(c.id[1], "n3") == 0 && strcmp(c.name[1], "A,B") == 0);
    T_INT(c.skipped, 1);

    /* the others were left for any worker */
    T_INT(t_claim_o(env, hub, now, T_LEASE, 4, 53, &o), DS_OK);
    T_INT(o.n, 1);
    T(strcmp(o.id[0], "n4") == 0);

    /* passed-over entries count toward the claim's bound */
    ok = 1;

    for (i = 0; i < DS_CLAIM_SCAN + 1; i++) {
        snprintf(id, sizeof(id), "x%04zu", i);
        ok &= t_start(env, hub, id, "X", NULL, now + 1) == DS_OK;
    }

    T(ok);

    T_INT(t_start(env, hub, "y", "Y", NULL, now + 1), DS_OK);
    T_INT(t_claim_named(env, hub, DS_WORK_ORCHESTRATION, now + 1, 1, 54, y,
                        &c), DS_OK);
    T_INT(c.n, 0);
    T_INT(c.skipped, DS_CLAIM_SCAN + 1);
    T_INT(c.more, 1);

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * Records written before completions had a digest (instance v3, activity
 * v1) still decode, pass the check, and a completion retried under their
 * done lease gets the stored answer whatever its body, as it did then.
 */

static void
t_work_old_records(void)
{
    char            *dir;
    size_t           klen;
    int64_t          now;
    ds_env_t        *env;
    ds_str_t         hub;
    t_act_t          a;
    t_orch_t         o;
    ds_action_t      act, other;
    ds_status_e      st;
    ds_instance_t    inst;
    unsigned char    kb[DS_KEY_BUF];

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);
    now = T0;

    T_INT(t_start(env, hub, "old", "Old", "1", now), DS_OK);
    T_INT(t_claim_o(env, hub, now, T_LEASE, 1, 40, &o), DS_OK);
    T_INT(o.n, 1);

    act = t_act(DS_ACT_SCHEDULE_ACTIVITY, 0, "A", "2");
    T_INT(t_complete_o(env, hub, "old", 40, &act, 1, now, &st), DS_OK);
    T_INT(t_claim_a(env, hub, now, T_LEASE, 1, 41, &a), DS_OK);
    T_INT(a.n, 1);
    T_INT(t_complete_a(env, hub, "old", 0, 41, 0, "3", now), DS_OK);

    klen = dsi_key_instance(kb, hub, t_s("old"));
    T_INT(t_downgrade(env, DS_DB_INSTANCES, kb, klen, 116, 3), DS_OK);
    klen = dsi_key_seq(kb, hub, t_s("old"), 0);
    T_INT(t_downgrade(env, DS_DB_ACTIVITIES, kb, klen, 36, 1), DS_OK);

    T_INT(t_get(env, hub, "old", &inst, NULL, 0), DS_OK);
    T_INT(inst.done_digest, 0);
    T_INT(inst.status, DS_RUNNING);
    T(t_consistent(env, hub, NULL));

    other = t_act(DS_ACT_COMPLETE, 0, NULL, "9");
    T_INT(t_complete_o(env, hub, "old", 40, &other, 1, now, &st), DS_OK);
    T_INT(st, DS_RUNNING);
    T_INT(t_complete_a(env, hub, "old", 0, 41, 1, "\"x\"", now), DS_OK);
    T_INT(t_inbox_count(env, hub, "old"), 1);

    /* the next completion writes the current versions again */
    T_INT(t_claim_o(env, hub, now + 1, T_LEASE, 1, 42, &o), DS_OK);
    T_INT(o.n, 1);
    T_INT(t_complete_o(env, hub, "old", 42, &other, 1, now + 1, &st),
          DS_OK);
    T_INT(st, DS_COMPLETED);
    T_INT(t_get(env, hub, "old", &inst, NULL, 0), DS_OK);
    T(inst.done_digest != 0);
    T_INT(t_complete_o(env, hub, "old", 42, &act, 1, now + 1, &st),
          DS_MISMATCH);
    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


static void
t_problem_cb_w(void *data, const char *problem, ds_str_t hub, ds_str_t id)
{
    (void) hub;
    (void) id;

    snprintf(data, 64, "%s", problem);
}


static int
t_has(const char *s, const char *sub)
{
    return strstr(s, sub) != NULL;
}


/* a hello sequence: five activities in a row, then complete */

static void
t_work_hello(void)
{
    int               i;
    char             *dir, in[32], out[64], hist[T_TEXT], text[T_TEXT];
    int64_t           now, when;
    ds_env_t         *env;
    ds_txn_t         *txn;
    ds_str_t          hub;
    t_act_t           a;
    t_orch_t          o;
    ds_action_t       act;
    ds_status_e       st;
    ds_instance_t     inst;
    ds_check_stats_t  cs;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);
    now = T0;

    /* nothing to do: no items, nothing visible */
    T_INT(t_claim_o(env, hub, now, T_LEASE, 4, 0, &o), DS_OK);
    T_INT(o.n, 0);
    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_work_next_visible(txn, hub, DS_WORK_ORCHESTRATION, &when),
          DS_OK);
    T(when == INT64_MAX);
    ds_txn_abort(txn);

    T_INT(t_start(env, hub, "hello", "HelloSequence", "\"Tokyo\"", now),
          DS_OK);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_work_next_visible(txn, hub, DS_WORK_ORCHESTRATION, &when),
          DS_OK);
    T_INT(when, now);
    ds_txn_abort(txn);

    for (i = 0; i < 5; i++) {
        now += 1000;

        /* workers make a random token per claim */
        T_INT(t_claim_o(env, hub, now, T_LEASE, 4, 20 + i, &o), DS_OK);
        T_INT(o.n, 1);
        T(strcmp(o.id[0], "hello") == 0);
        T(strcmp(o.input[0], "\"Tokyo\"") == 0);
        T_INT(o.nmessages[0], 1);
        T_INT(o.expires[0], now + T_LEASE);

        if (i == 0) {
            T_INT(o.status[0], DS_PENDING);
            T(o.history[0][0] == '\0');
            T(strcmp(o.messages[0], "{\"EventType\":\"ExecutionStarted\","
                     T_TS0 ",\"EventId\":-1,\"Name\":\"HelloSequence\","
                     "\"Input\":\"Tokyo\"}") == 0);

        } else {
            T_INT(o.status[0], DS_RUNNING);
            snprintf(text, sizeof(text), "{\"EventType\":\"TaskCompleted\","
                     "\"Timestamp\":\"2018-03-10T13:57:31.00%d005Z\","
                     "\"EventId\":-1,\"TaskScheduledId\":%d,"
                     "\"Result\":\"Hello %d\"}",
                     i, i - 1, i - 1);
            T(strcmp(o.messages[0], text) == 0);
        }

        /* the leased instance is not handed out again */
        T_INT(t_claim_o(env, hub, now, T_LEASE, 4, 8, &o), DS_OK);
        T_INT(o.n, 0);

        snprintf(in, sizeof(in), "\"City %d\"", i);
        act = t_act(DS_ACT_SCHEDULE_ACTIVITY, i, "SayHello", in);

        T_INT(t_complete_o(env, hub, "hello", 20 + i, &act, 1, now + 1,
                           &st), DS_OK);
        T_INT(st, DS_RUNNING);

        /* no message waits: not ready */
        T_INT(t_claim_o(env, hub, now + 2, T_LEASE, 4, 1, &o), DS_OK);
        T_INT(o.n, 0);

        T_INT(t_claim_a(env, hub, now + 3, T_LEASE, 4, 2 + i, &a), DS_OK);
        T_INT(a.n, 1);
        T(strcmp(a.id[0], "hello") == 0);
        T_INT(a.task_id[0], i);
        T(strcmp(a.name[0], "SayHello") == 0);
        T(strcmp(a.input[0], in) == 0);

        snprintf(out, sizeof(out), "\"Hello %d\"", i);
        T_INT(t_complete_a(env, hub, "hello", i, 2 + i, 0, out, now + 5),
              DS_OK);
        /* a retry after success: the same answer, nothing twice */
        T_INT(t_complete_a(env, hub, "hello", i, 2 + i, 0, out, now + 6),
              DS_OK);
        /* another result, or a failure, under that lease: refused */
        T_INT(t_complete_a(env, hub, "hello", i, 2 + i, 0, "\"other\"",
                           now + 6), DS_MISMATCH);
        T_INT(t_complete_a(env, hub, "hello", i, 2 + i, 1, "\"boom\"",
                           now + 6), DS_MISMATCH);
        T_INT(t_inbox_count(env, hub, "hello"), 1);
    }

    now += 1000;
    T_INT(t_claim_o(env, hub, now, T_LEASE, 4, 30, &o), DS_OK);
    T_INT(o.n, 1);
    T(t_has(o.messages[0], "\"TaskScheduledId\":4,\"Result\":\"Hello 4\""));

    /* a finishing action's id is its ExecutionCompleted's EventId */
    act = t_act(DS_ACT_COMPLETE, 5, NULL,
                "[\"Hello 0\",\"Hello 1\",\"Hello 2\",\"Hello 3\","
                "\"Hello 4\"]");
    T_INT(t_complete_o(env, hub, "hello", 30, &act, 1, now, &st), DS_OK);
    T_INT(st, DS_COMPLETED);

    T_INT(t_get(env, hub, "hello", &inst, out, sizeof(out)), DS_OK);
    T_INT(inst.status, DS_COMPLETED);
    T(strcmp(out, "[\"Hello 0\",\"Hello 1\",\"Hello 2\",\"Hello 3\","
                  "\"Hello 4\"]") == 0);
    T_INT(inst.ready_at, 0);
    T(dsi_lease_none(inst.lease));
    T_INT(inst.updated, now);

    t_history_types(env, hub, "hello", hist, sizeof(hist));
    T(strcmp(hist,
             "OrchestratorStarted,ExecutionStarted,TaskScheduled,"
             "OrchestratorCompleted,"
             "OrchestratorStarted,TaskCompleted,TaskScheduled,"
             "OrchestratorCompleted,"
             "OrchestratorStarted,TaskCompleted,TaskScheduled,"
             "OrchestratorCompleted,"
             "OrchestratorStarted,TaskCompleted,TaskScheduled,"
             "OrchestratorCompleted,"
             "OrchestratorStarted,TaskCompleted,TaskScheduled,"
             "OrchestratorCompleted,"
             "OrchestratorStarted,TaskCompleted,ExecutionCompleted,"
             "OrchestratorCompleted") == 0);

    T_INT(t_history_text(env, hub, "hello", text, sizeof(text)), 24);
    /* every event of an episode carries the episode's (claim) time */
    T(t_has(text, "{\"EventType\":\"TaskScheduled\","
                  "\"Timestamp\":\"2018-03-10T13:57:31.001Z\","
                  "\"EventId\":0,\"Name\":\"SayHello\","
                  "\"Input\":\"City 0\"}"));
    T(t_has(text, "{\"EventType\":\"ExecutionCompleted\","
                  "\"Timestamp\":\"2018-03-10T13:57:31.006Z\","
                  "\"EventId\":5,\"OrchestrationStatus\":1,"
                  "\"Result\":[\"Hello 0\","));
    T(t_has(text, "{\"EventType\":\"OrchestratorStarted\","
                  "\"Timestamp\":\"2018-03-10T13:57:31.001Z\","
                  "\"EventId\":-1}"));

    /* the retry of the final completion: same answer */
    T_INT(t_complete_o(env, hub, "hello", 30, &act, 1, now + 9, &st),
          DS_OK);
    T_INT(st, DS_COMPLETED);
    T_INT(t_history_text(env, hub, "hello", text, sizeof(text)), 24);

    /* another body under that lease: refused, nothing applied */
    act.input = t_s("\"other\"");
    T_INT(t_complete_o(env, hub, "hello", 30, &act, 1, now + 9, &st),
          DS_MISMATCH);
    T_INT(t_complete_o(env, hub, "hello", 30, NULL, 0, now + 9, &st),
          DS_MISMATCH);
    T_INT(t_history_text(env, hub, "hello", text, sizeof(text)), 24);
    act.input = t_s("[\"Hello 0\",\"Hello 1\",\"Hello 2\",\"Hello 3\","
                    "\"Hello 4\"]");

    /* an old token after the end: gone */
    T_INT(t_complete_o(env, hub, "hello", 20, &act, 1, now + 9, &st),
          DS_GONE);

    T(t_consistent(env, hub, &cs));
    T_INT(cs.ready, 0);
    T_INT(cs.activities, 5);        /* tombstones */
    T_INT(cs.inbox, 0);
    T_INT(cs.history, 24);

    ds_env_close(env);
    t_rmdir(dir);
}


/* an expired lease: claimable again under a new token, the old refused */

static void
t_work_lease(void)
{
    char         *dir, hist[T_TEXT];
    ds_env_t     *env;
    ds_str_t      hub;
    t_orch_t      o;
    ds_status_e   st;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "l", "O", "1", T0), DS_OK);

    T_INT(t_claim_o(env, hub, T0 + 10, 100, 1, 0, &o), DS_OK);
    T_INT(o.n, 1);
    T_INT(o.expires[0], T0 + 110);

    T_INT(t_claim_o(env, hub, T0 + 109, 100, 1, 1, &o), DS_OK);
    T_INT(o.n, 0);

    T_INT(t_claim_o(env, hub, T0 + 110, 100, 1, 1, &o), DS_OK);
    T_INT(o.n, 1);
    T_INT(o.nmessages[0], 1);

    T_INT(t_complete_o(env, hub, "l", 0, NULL, 0, T0 + 120, &st),
          DS_CONFLICT);
    T_INT(t_complete_o(env, hub, "l", 9, NULL, 0, T0 + 120, &st),
          DS_CONFLICT);
    T_INT(t_complete_o(env, hub, "missing", 1, NULL, 0, T0 + 120, &st),
          DS_NOTFOUND);

    T_INT(t_complete_o(env, hub, "l", 1, NULL, 0, T0 + 130, &st), DS_OK);
    T_INT(st, DS_RUNNING);

    /* idempotent: the same answer, history appended once */
    st = DS_PENDING;
    T_INT(t_complete_o(env, hub, "l", 1, NULL, 0, T0 + 140, &st), DS_OK);
    T_INT(st, DS_RUNNING);
    t_history_types(env, hub, "l", hist, sizeof(hist));
    T(strcmp(hist, "OrchestratorStarted,ExecutionStarted,"
                   "OrchestratorCompleted") == 0);

    /* the first token stays refused */
    T_INT(t_complete_o(env, hub, "l", 0, NULL, 0, T0 + 150, &st),
          DS_CONFLICT);

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


static int
t_raise(ds_env_t *env, const char *id, const char *name, const char *data,
    int64_t now)
{
    int        rc;
    ds_txn_t  *txn;

    if (ds_txn_begin(env, NULL, 1, &txn) != DS_OK) {
        return DS_ERROR;
    }

    rc = ds_op_raise_event(txn, t_s("Hub"), t_s(id), t_s(name), t_s(data),
                           now);

    if (rc != DS_OK) {
        ds_txn_abort(txn);
        return rc;
    }

    return ds_txn_commit(txn);
}


/* events raised while leased stay for the next episode, delivered once */

static void
t_work_events(void)
{
    char         *dir, hist[T_TEXT];
    ds_env_t     *env;
    ds_str_t      hub;
    t_orch_t      o;
    ds_status_e   st;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "e", "O", "", T0), DS_OK);
    T_INT(t_raise(env, "e", "first", "1", T0 + 1), DS_OK);

    T_INT(t_claim_o(env, hub, T0 + 10, T_LEASE, 1, 0, &o), DS_OK);
    T_INT(o.n, 1);
    T_INT(o.nmessages[0], 2);
    T_INT(o.upto[0], 2);

    T_INT(t_raise(env, "e", "second", "2", T0 + 11), DS_OK);
    T_INT(t_raise(env, "e", "third", "3", T0 + 12), DS_OK);

    /* still leased: not handed out */
    T_INT(t_claim_o(env, hub, T0 + 13, T_LEASE, 1, 1, &o), DS_OK);
    T_INT(o.n, 0);

    T_INT(t_complete_o(env, hub, "e", 0, NULL, 0, T0 + 20, &st), DS_OK);
    T_INT(t_inbox_count(env, hub, "e"), 2);

    T_INT(t_claim_o(env, hub, T0 + 21, T_LEASE, 1, 1, &o), DS_OK);
    T_INT(o.n, 1);
    T_INT(o.nmessages[0], 2);
    T(t_has(o.messages[0], "\"Name\":\"second\""));
    T(t_has(o.messages[0], "\"Name\":\"third\""));
    T(!t_has(o.messages[0], "\"Name\":\"first\""));
    T(strcmp(o.history[0], "OrchestratorStarted,ExecutionStarted,"
                           "EventRaised,OrchestratorCompleted") == 0);

    T_INT(t_complete_o(env, hub, "e", 1, NULL, 0, T0 + 30, &st), DS_OK);
    T_INT(t_inbox_count(env, hub, "e"), 0);

    t_history_types(env, hub, "e", hist, sizeof(hist));
    T(strcmp(hist, "OrchestratorStarted,ExecutionStarted,EventRaised,"
                   "OrchestratorCompleted,OrchestratorStarted,EventRaised,"
                   "EventRaised,OrchestratorCompleted") == 0);

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


static int
t_op(ds_env_t *env, int op, const char *id, int64_t now)
{
    int          rc;
    ds_txn_t    *txn;
    ds_status_e  st;

    if (ds_txn_begin(env, NULL, 1, &txn) != DS_OK) {
        return DS_ERROR;
    }

    switch (op) {
    case 's':
        rc = ds_op_suspend(txn, t_s("Hub"), t_s(id), t_s("\"s\""), now);
        break;
    case 'r':
        rc = ds_op_resume(txn, t_s("Hub"), t_s(id), t_s("\"r\""), now);
        break;
    case 't':
        rc = ds_op_terminate(txn, t_s("Hub"), t_s(id), t_s("\"stop\""), now);
        break;
    case 'w':
        rc = ds_op_rewind(txn, t_s("Hub"), t_s(id), t_s("\"again\""), now);
        break;
    case 'p':
        rc = ds_op_purge(txn, t_s("Hub"), t_s(id), &st);
        break;
    default:
        rc = ds_instance_delete(txn, t_s("Hub"), t_s(id));
        break;
    }

    if (rc != DS_OK) {
        ds_txn_abort(txn);
        return rc;
    }

    return ds_txn_commit(txn);
}


/* suspended instances are never handed out; resume makes them claimable */

static void
t_work_suspend(void)
{
    char           *dir;
    ds_env_t       *env;
    ds_str_t        hub;
    t_orch_t        o;
    ds_status_e     st;
    ds_instance_t   inst;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "s", "O", "", T0), DS_OK);
    T_INT(t_op(env, 's', "s", T0 + 1), DS_OK);

    T_INT(t_claim_o(env, hub, T0 + 2, T_LEASE, 1, 0, &o), DS_OK);
    T_INT(o.n, 0);

    T_INT(t_raise(env, "s", "ev", "1", T0 + 3), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 4, T_LEASE, 1, 0, &o), DS_OK);
    T_INT(o.n, 0);
    T(t_consistent(env, hub, NULL));

    T_INT(t_op(env, 'r', "s", T0 + 5), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 6, T_LEASE, 1, 0, &o), DS_OK);
    T_INT(o.n, 1);
    T_INT(o.nmessages[0], 2);

    /* suspended while leased: the completion counts, it stays suspended */
    T_INT(t_op(env, 's', "s", T0 + 7), DS_OK);
    T_INT(t_raise(env, "s", "ev2", "2", T0 + 8), DS_OK);
    T_INT(t_complete_o(env, hub, "s", 0, NULL, 0, T0 + 9, &st), DS_OK);
    T_INT(st, DS_SUSPENDED);
    T_INT(t_claim_o(env, hub, T0 + T_LEASE * 2, T_LEASE, 1, 1, &o), DS_OK);
    T_INT(o.n, 0);

    T_INT(t_op(env, 'r', "s", T0 + 10), DS_OK);
    T_INT(t_get(env, hub, "s", &inst, NULL, 0), DS_OK);
    T_INT(inst.status, DS_RUNNING);
    T_INT(inst.ready_at, T0 + 10);

    T_INT(t_claim_o(env, hub, T0 + 11, T_LEASE, 1, 1, &o), DS_OK);
    T_INT(o.n, 1);
    T_INT(o.nmessages[0], 1);
    T(t_has(o.messages[0], "ev2"));

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/* terminate while leased: completion gone, activities and timers dropped */

static void
t_work_terminate(void)
{
    char              *dir;
    ds_env_t          *env;
    ds_str_t           hub;
    t_act_t            a;
    t_orch_t           o;
    ds_action_t        act[3];
    ds_status_e        st;
    ds_check_stats_t   cs;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "t", "O", "", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 1, T_LEASE, 1, 0, &o), DS_OK);

    act[0] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 0, "A", "1");
    act[1] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 1, "B", "2");
    act[2] = t_act(DS_ACT_CREATE_TIMER, 2, NULL, NULL);
    act[2].fire_at = T0 + 1000000;
    T_INT(t_complete_o(env, hub, "t", 0, act, 3, T0 + 2, &st), DS_OK);

    T(t_consistent(env, hub, &cs));
    T_INT(cs.activities, 2);
    T_INT(cs.timers, 1);
    T_INT(cs.ready, 2);

    /* one activity is running */
    T_INT(t_claim_a(env, hub, T0 + 3, T_LEASE, 1, 1, &a), DS_OK);
    T_INT(a.n, 1);

    T_INT(t_raise(env, "t", "ev", "1", T0 + 4), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 5, T_LEASE, 1, 2, &o), DS_OK);
    T_INT(o.n, 1);

    T_INT(t_op(env, 't', "t", T0 + 6), DS_OK);

    T_INT(t_complete_o(env, hub, "t", 2, NULL, 0, T0 + 7, &st), DS_GONE);

    T(t_consistent(env, hub, &cs));
    T_INT(cs.activities, 0);
    T_INT(cs.timers, 0);
    T_INT(cs.ready, 0);
    T_INT(cs.inbox, 0);

    /* the running activity's completion finds nothing */
    T_INT(t_complete_a(env, hub, "t", a.task_id[0], 1, 0, "1", T0 + 8),
          DS_NOTFOUND);
    T_INT(t_claim_a(env, hub, T0 + 9, T_LEASE, 4, 3, &a), DS_OK);
    T_INT(a.n, 0);

    /* the timer never fires */
    T_INT(t_claim_o(env, hub, T0 + 2000000, T_LEASE, 1, 4, &o), DS_OK);
    T_INT(o.n, 0);

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


static void
t_work_purge(void)
{
    char              *dir;
    ds_env_t          *env;
    ds_str_t           hub;
    t_orch_t           o;
    ds_action_t        act;
    ds_status_e        st;
    ds_check_stats_t   cs;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "p", "O", "", T0), DS_OK);
    T_INT(t_start(env, hub, "d", "O", "", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 1, T_LEASE, 2, 0, &o), DS_OK);
    T_INT(o.n, 2);

    /* purge needs a terminal instance */
    T_INT(t_op(env, 'p', "p", T0 + 2), DS_PRECONDITION);
    T_INT(t_op(env, 't', "p", T0 + 2), DS_OK);
    T_INT(t_op(env, 'p', "p", T0 + 3), DS_OK);
    T_INT(t_op(env, 'd', "d", T0 + 3), DS_OK);

    T_INT(t_complete_o(env, hub, o.id[0], 0, NULL, 0, T0 + 4, &st),
          DS_NOTFOUND);
    T_INT(t_complete_o(env, hub, o.id[1], 1, NULL, 0, T0 + 4, &st),
          DS_NOTFOUND);

    /* a new instance with the old id starts clean */
    T_INT(t_start(env, hub, "p", "O", "2", T0 + 5), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 6, T_LEASE, 2, 2, &o), DS_OK);
    T_INT(o.n, 1);
    T_INT(o.nmessages[0], 1);
    act = t_act(DS_ACT_SCHEDULE_ACTIVITY, 0, "A", NULL);
    T_INT(t_complete_o(env, hub, "p", 2, &act, 1, T0 + 7, &st), DS_OK);

    T(t_consistent(env, hub, &cs));
    T_INT(cs.activities, 1);
    T_INT(cs.instances, 1);

    /* purged with its activity */
    T_INT(t_op(env, 't', "p", T0 + 8), DS_OK);
    T_INT(t_op(env, 'p', "p", T0 + 9), DS_OK);
    T(t_consistent(env, hub, &cs));
    T_INT(cs.activities, 0);
    T_INT(cs.ready, 0);

    ds_env_close(env);
    t_rmdir(dir);
}


/* rewind: the failed activity runs again and the instance completes */

static void
t_work_rewind(void)
{
    char              *dir, hist[T_TEXT], out[64];
    ds_env_t          *env;
    ds_str_t           hub;
    t_act_t            a;
    t_orch_t           o;
    ds_action_t        act[2];
    ds_status_e        st;
    ds_instance_t      inst;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "r", "O", "", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 1, T_LEASE, 1, 0, &o), DS_OK);
    act[0] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 0, "Ok", "\"a\"");
    act[1] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 1, "Flaky", "{\"n\":1}");
    T_INT(t_complete_o(env, hub, "r", 0, act, 2, T0 + 2, &st), DS_OK);

    T_INT(t_claim_a(env, hub, T0 + 3, T_LEASE, 2, 1, &a), DS_OK);
    T_INT(a.n, 2);
    T_INT(t_complete_a(env, hub, "r", 0, 1, 0, "\"fine\"", T0 + 4), DS_OK);
    T_INT(t_complete_a(env, hub, "r", 1, 2, 1, "\"boom\"", T0 + 4), DS_OK);

    T_INT(t_claim_o(env, hub, T0 + 5, T_LEASE, 1, 3, &o), DS_OK);
    T_INT(o.n, 1);
    T_INT(o.nmessages[0], 2);
    T(t_has(o.messages[0], "{\"EventType\":\"TaskFailed\","));
    T(t_has(o.messages[0], "\"TaskScheduledId\":1,\"Reason\":\"boom\","
                           "\"Details\":\"stack\"}"));

    act[0] = t_act(DS_ACT_FAIL, 0, NULL, NULL);
    act[0].reason = t_s("\"activity failed\"");
    act[0].details = t_s("{\"where\":1}");
    T_INT(t_complete_o(env, hub, "r", 3, act, 1, T0 + 6, &st), DS_OK);
    T_INT(st, DS_FAILED);
    T_INT(t_get(env, hub, "r", &inst, out, sizeof(out)), DS_OK);
    T(strcmp(out, "\"activity failed\"") == 0);
    /* the details stay on the record (version 6) */
    T_INT(inst.failure.len, strlen("{\"where\":1}"));

    t_history_text(env, hub, "r", hist, sizeof(hist));
    T(t_has(hist, "\"OrchestrationStatus\":3,\"Result\":\"activity failed\","
                  "\"FailureDetails\":{\"Reason\":\"activity failed\","
                  "\"Details\":{\"where\":1}}}"));

    /* only a Failed instance */
    T_INT(t_op(env, 'w', "missing", T0 + 7), DS_NOTFOUND);
    T_INT(t_op(env, 'w', "r", T0 + 7), DS_OK);
    T_INT(t_op(env, 'w', "r", T0 + 7), DS_PRECONDITION);

    T_INT(t_get(env, hub, "r", &inst, out, sizeof(out)), DS_OK);
    T_INT(inst.status, DS_RUNNING);
    T(out[0] == '\0');
    T_INT(inst.failure.len, 0);

    t_history_types(env, hub, "r", hist, sizeof(hist));
    T(strcmp(hist, "OrchestratorStarted,ExecutionStarted,TaskScheduled,"
                   "TaskScheduled,OrchestratorCompleted,"
                   "OrchestratorStarted,TaskCompleted,"
                   "OrchestratorCompleted,ExecutionRewound") == 0);
    T_INT(t_inbox_count(env, hub, "r"), 0);

    /* not runnable until the activity reports */
    T_INT(t_claim_o(env, hub, T0 + 8, T_LEASE, 1, 4, &o), DS_OK);
    T_INT(o.n, 0);

    T_INT(t_claim_a(env, hub, T0 + 8, T_LEASE, 2, 5, &a), DS_OK);
    T_INT(a.n, 1);
    T_INT(a.task_id[0], 1);
    T(strcmp(a.name[0], "Flaky") == 0);
    T(strcmp(a.input[0], "{\"n\":1}") == 0);

    /* the tombstone of the failed attempt is gone: its token is stale */
    T_INT(t_complete_a(env, hub, "r", 1, 2, 1, "\"boom\"", T0 + 9),
          DS_CONFLICT);
    T_INT(t_complete_a(env, hub, "r", 1, 5, 0, "\"ok now\"", T0 + 9), DS_OK);

    T_INT(t_claim_o(env, hub, T0 + 10, T_LEASE, 1, 6, &o), DS_OK);
    T_INT(o.n, 1);
    T(t_has(o.messages[0], "\"TaskScheduledId\":1,\"Result\":\"ok now\""));
    T(!t_has(o.history[0], "TaskFailed"));
    T(!t_has(o.history[0], "ExecutionCompleted"));

    act[0] = t_act(DS_ACT_COMPLETE, 0, NULL, "\"done\"");
    T_INT(t_complete_o(env, hub, "r", 6, act, 1, T0 + 11, &st), DS_OK);
    T_INT(st, DS_COMPLETED);

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * Results that came while the failing episode ran: the rewind schedules
 * again what they answer and drops them, so that each task gets one
 */

static void
t_work_rewind_late(void)
{
    char              *dir;
    int64_t            now;
    ds_env_t          *env;
    ds_str_t           hub;
    t_act_t            a;
    t_orch_t           o;
    ds_action_t        act[2];
    ds_status_e        st;
    ds_check_stats_t   cs;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "rl", "O", "", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 1, T_LEASE, 1, 0, &o), DS_OK);
    act[0] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 0, "A", NULL);
    act[1] = t_act(DS_ACT_CREATE_TIMER, 1, NULL, NULL);
    act[1].fire_at = T0 + 5;
    T_INT(t_complete_o(env, hub, "rl", 0, act, 2, T0 + 2, &st), DS_OK);

    /* an episode for an event; meanwhile the activity and timer answer */
    T_INT(t_claim_a(env, hub, T0 + 3, T_LEASE, 1, 1, &a), DS_OK);
    T_INT(a.n, 1);
    T_INT(t_raise(env, "rl", "ev", "1", T0 + 3), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 4, T_LEASE, 1, 2, &o), DS_OK);
    T_INT(o.n, 1);
    T_INT(t_complete_a(env, hub, "rl", 0, 1, 0, "\"late\"", T0 + 5), DS_OK);
    now = T0 + 5;
    T_INT(t_run(env, t_fire, &now), DS_OK);

    act[0] = t_act(DS_ACT_FAIL, 0, NULL, NULL);
    act[0].reason = t_s("\"boom\"");
    act[0].details = t_s("null");
    T_INT(t_complete_o(env, hub, "rl", 2, act, 1, T0 + 6, &st), DS_OK);
    T_INT(st, DS_FAILED);

    T_INT(t_op(env, 'w', "rl", T0 + 7), DS_OK);

    /* both again, each answered once */
    T_INT(t_claim_a(env, hub, T0 + 8, T_LEASE, 1, 3, &a), DS_OK);
    T_INT(a.n, 1);
    T_INT(t_complete_a(env, hub, "rl", 0, 3, 0, "\"again\"", T0 + 9),
          DS_OK);
    now = T0 + 9;
    T_INT(t_run(env, t_fire, &now), DS_OK);

    T(t_consistent(env, hub, &cs));
    T_INT(cs.timers, 0);

    T_INT(t_claim_o(env, hub, T0 + 10, T_LEASE, 1, 4, &o), DS_OK);
    T_INT(o.n, 1);
    T_INT(o.nmessages[0], 2);
    T(!t_has(o.messages[0], "late"));
    T(t_has(o.messages[0], "\"Result\":\"again\""));
    T(t_has(o.messages[0], "\"TimerId\":1"));

    ds_env_close(env);
    t_rmdir(dir);
}


/* an entity's answer that came during the failing episode stays */

static void
t_work_rewind_entity(void)
{
    char          *dir;
    ds_env_t      *env;
    ds_str_t       hub;
    ds_txn_t      *txn;
    t_ent_t        e;
    t_orch_t       o;
    ds_action_t    act[1];
    ds_status_e    st;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "re", "O", "", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 1, T_LEASE, 1, 0, &o), DS_OK);
    act[0] = t_act(DS_ACT_CALL_ENTITY, 0, "add", "1");
    act[0].request_id = t_s("call-1");
    act[0].entity_name = t_s("counter");
    act[0].entity_key = t_s("a");
    T_INT(t_complete_o(env, hub, "re", 0, act, 1, T0 + 2, &st), DS_OK);

    /* the entity answers while an episode for an event runs */
    T_INT(t_raise(env, "re", "ev", "1", T0 + 3), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 4, T_LEASE, 1, 1, &o), DS_OK);
    T_INT(o.n, 1);
    T_INT(t_claim_e(env, hub, T0 + 4, T_LEASE, 4, 2, &e), DS_OK);
    T_INT(e.n, 1);
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_work_complete_entity_results(txn, hub, t_s("counter"),
                                          t_s("a"), t_tok(2), 0, t_s("1"),
                                          NULL, 0, NULL, 0, T0 + 5),
          DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    act[0] = t_act(DS_ACT_FAIL, 0, NULL, NULL);
    act[0].reason = t_s("\"boom\"");
    act[0].details = t_s("null");
    T_INT(t_complete_o(env, hub, "re", 1, act, 1, T0 + 6, &st), DS_OK);
    T_INT(st, DS_FAILED);

    /* nothing calls the entity again: its answer is what comes next */
    T_INT(t_op(env, 'w', "re", T0 + 7), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 8, T_LEASE, 1, 3, &o), DS_OK);
    T_INT(o.n, 1);
    T(t_has(o.messages[0], "EntityOperationCompleted"));
    T(t_has(o.messages[0], "call-1"));

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


static void
t_work_continue(void)
{
    char              *dir, out[64];
    int64_t            now;
    ds_env_t          *env;
    ds_str_t           hub;
    t_act_t            a;
    t_orch_t           o;
    ds_action_t        act[3];
    ds_status_e        st;
    ds_instance_t      inst;
    ds_check_stats_t   cs;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "c", "Loop", "1", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 1, T_LEASE, 1, 0, &o), DS_OK);
    act[0] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 0, "A", NULL);
    act[1] = t_act(DS_ACT_CREATE_TIMER, 1, NULL, NULL);
    act[1].fire_at = T0 + 5;
    T_INT(t_complete_o(env, hub, "c", 0, act, 2, T0 + 2, &st), DS_OK);

    T_INT(t_raise(env, "c", "ev", "1", T0 + 3), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 4, T_LEASE, 1, 1, &o), DS_OK);
    T_INT(o.n, 1);

    /* arrives during the episode: stays after the new ExecutionStarted */
    T_INT(t_raise(env, "c", "late", "2", T0 + 5), DS_OK);

    /*
     * so do the activity's result and the timer, but they answer the
     * ended execution: the new one's task 0 and timer 1 are others
     */
    T_INT(t_claim_a(env, hub, T0 + 4, T_LEASE, 1, 7, &a), DS_OK);
    T_INT(a.n, 1);
    T_INT(t_complete_a(env, hub, "c", 0, 7, 0, "\"old\"", T0 + 5), DS_OK);
    now = T0 + 5;
    T_INT(t_run(env, t_fire, &now), DS_OK);

    act[0] = t_act(DS_ACT_SET_CUSTOM_STATUS, 0, NULL, "\"step 2\"");
    act[1] = t_act(DS_ACT_CONTINUE_AS_NEW, 0, NULL, "2");
    T_INT(t_complete_o(env, hub, "c", 1, act, 2, T0 + 6, &st), DS_OK);
    T_INT(st, DS_CONTINUED_AS_NEW);

    T_INT(t_get(env, hub, "c", &inst, out, sizeof(out)), DS_OK);
    T_INT(inst.status, DS_CONTINUED_AS_NEW);
    T_INT(inst.execution, 2);
    T_INT(inst.input.len, 1);
    T(out[0] == '\0');

    /*
     * the old execution's timer is gone; its completed activity's record
     * stays, to answer a retry of that completion
     */
    T(t_consistent(env, hub, &cs));
    T_INT(cs.history, 0);
    T_INT(cs.activities, 1);
    T_INT(cs.timers, 0);
    T_INT(cs.inbox, 2);

    T_INT(t_claim_o(env, hub, T0 + 7, T_LEASE, 1, 2, &o), DS_OK);
    T_INT(o.n, 1);
    T(strcmp(o.input[0], "2") == 0);
    T(o.history[0][0] == '\0');
    T_INT(o.nmessages[0], 2);
    T(strncmp(o.messages[0], "{\"EventType\":\"ExecutionStarted\","
              "\"Timestamp\":\"2018-03-10T13:57:31.000006Z\","
              "\"EventId\":-1,\"Name\":\"Loop\",\"Input\":2}\n"
              "{\"EventType\":\"EventRaised\"",
              120) == 0);
    T(t_has(o.messages[0], "\"Name\":\"late\""));
    T(!t_has(o.messages[0], "TaskCompleted"));
    T(!t_has(o.messages[0], "TimerFired"));

    act[0] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 0, "B", NULL);
    T_INT(t_complete_o(env, hub, "c", 2, act, 1, T0 + 8, &st), DS_OK);
    T_INT(st, DS_RUNNING);

    /* an activity is handed out with the execution it belongs to */
    T_INT(t_claim_a(env, hub, T0 + 9, T_LEASE, 1, 3, &a), DS_OK);
    T_INT(a.n, 1);
    T(strcmp(a.name[0], "B") == 0);
    T_INT(a.execution[0], 2);

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


static int
t_fire(ds_txn_t *txn, void *data)
{
    size_t  fired;

    return ds_work_fire_timers(txn, t_s("Hub"), *(int64_t *) data, 100,
                               &fired);
}


/* timers fire in due order, not before their time */

static void
t_work_timers(void)
{
    char              *dir;
    int64_t            when, now;
    ds_env_t          *env;
    ds_txn_t          *txn;
    ds_str_t           hub;
    t_orch_t           o;
    ds_action_t        act[3];
    ds_status_e        st;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "tm", "O", "", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 1, T_LEASE, 1, 0, &o), DS_OK);

    act[0] = t_act(DS_ACT_CREATE_TIMER, 0, NULL, NULL);
    act[0].fire_at = T0 + 500;
    act[1] = t_act(DS_ACT_CREATE_TIMER, 1, NULL, NULL);
    act[1].fire_at = T0 + 200;
    act[2] = t_act(DS_ACT_CREATE_TIMER, 2, NULL, NULL);
    act[2].fire_at = T0 + 200;
    T_INT(t_complete_o(env, hub, "tm", 0, act, 3, T0 + 2, &st), DS_OK);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_work_next_visible(txn, hub, DS_WORK_ORCHESTRATION, &when),
          DS_OK);
    T_INT(when, T0 + 200);
    ds_txn_abort(txn);

    T_INT(t_claim_o(env, hub, T0 + 199, T_LEASE, 1, 1, &o), DS_OK);
    T_INT(o.n, 0);

    T_INT(t_claim_o(env, hub, T0 + 200, T_LEASE, 1, 1, &o), DS_OK);
    T_INT(o.n, 1);
    T_INT(o.nmessages[0], 2);
    T(strcmp(o.messages[0],
             "{\"EventType\":\"TimerFired\","
             "\"Timestamp\":\"2018-03-10T13:57:31.0002Z\",\"EventId\":-1,"
             "\"TimerId\":1,"
             "\"FireAt\":\"2018-03-10T13:57:31.0002Z\"}\n"
             "{\"EventType\":\"TimerFired\","
             "\"Timestamp\":\"2018-03-10T13:57:31.0002Z\",\"EventId\":-1,"
             "\"TimerId\":2,"
             "\"FireAt\":\"2018-03-10T13:57:31.0002Z\"}") == 0);
    T_INT(t_complete_o(env, hub, "tm", 1, NULL, 0, T0 + 201, &st), DS_OK);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_work_next_visible(txn, hub, DS_WORK_ORCHESTRATION, &when),
          DS_OK);
    T_INT(when, T0 + 500);
    ds_txn_abort(txn);

    /* fired without a claim; the instance is then ready */
    now = T0 + 600;
    T_INT(t_run(env, t_fire, &now), DS_OK);
    T_INT(t_inbox_count(env, hub, "tm"), 1);
    T(t_consistent(env, hub, NULL));

    T_INT(t_claim_o(env, hub, T0 + 601, T_LEASE, 1, 2, &o), DS_OK);
    T_INT(o.n, 1);
    T(t_has(o.messages[0], "\"TimerId\":0,"));

    /* an already due timer fires at the next claim */
    act[0] = t_act(DS_ACT_CREATE_TIMER, 3, NULL, NULL);
    act[0].fire_at = T0;
    T_INT(t_complete_o(env, hub, "tm", 2, act, 1, T0 + 602, &st), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 603, T_LEASE, 1, 3, &o), DS_OK);
    T_INT(o.n, 1);
    T(t_has(o.messages[0], "\"TimerId\":3,"));

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/* sub-orchestrations: completion and failure reach the parent */

static void
t_work_sub(void)
{
    char              *dir;
    ds_env_t          *env;
    ds_str_t           hub;
    t_orch_t           o;
    ds_action_t        act[4];
    ds_status_e        st;
    ds_instance_t      inst;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "busy", "Other", "", T0), DS_OK);
    T_INT(t_start(env, hub, "par", "Parent", "", T0 + 1), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 2, T_LEASE, 2, 0, &o), DS_OK);
    T_INT(o.n, 2);

    act[0] = t_act(DS_ACT_START_SUB, 0, "Child", "{\"x\":1}");
    act[1] = t_act(DS_ACT_START_SUB, 1, "Child", "2");
    act[1].instance_id = t_s("kid-b");
    act[2] = t_act(DS_ACT_START_SUB, 2, "Child", NULL);
    act[2].instance_id = t_s("busy");
    act[3] = t_act(DS_ACT_START_SUB, 3, "Child", NULL);
    act[3].instance_id = t_s("kid-c");
    T_INT(t_complete_o(env, hub, "par", 1, act, 4, T0 + 3, &st), DS_OK);

    T_INT(t_get(env, hub, "par:0", &inst, NULL, 0), DS_OK);
    T_INT(inst.status, DS_PENDING);
    T_INT(inst.parent_task, 0);
    T_INT(inst.parent_id.len, 3);
    T_INT(t_get(env, hub, "kid-b", &inst, NULL, 0), DS_OK);
    T_INT(inst.parent_task, 1);
    T_INT(t_get(env, hub, "busy", &inst, NULL, 0), DS_OK);
    T_INT(inst.parent_id.len, 0);
    T_INT(inst.parent_task, -1);

    /* the refused one reports at once; the children are ready */
    T_INT(t_claim_o(env, hub, T0 + 4, T_LEASE, 8, 2, &o), DS_OK);
    T_INT(o.n, 4);
    T(strcmp(o.id[0], "kid-b") == 0);
    T(strcmp(o.id[1], "kid-c") == 0);
    T(strcmp(o.id[2], "par") == 0);
    T(strcmp(o.id[3], "par:0") == 0);
    T(t_has(o.messages[2], "{\"EventType\":\"SubOrchestrationInstanceFailed"
                           "\",\"Timestamp\":\"2018-03-10T13:57:31.000003Z\","
                           "\"EventId\":-1,\"TaskScheduledId\":2,"
                           "\"Reason\":\"An active "
                           "instance with ID 'busy' already exists.\","
                           "\"Details\":null}"));
    T(t_has(o.history[2], "SubOrchestrationInstanceCreated,"
                          "SubOrchestrationInstanceCreated,"
                          "SubOrchestrationInstanceCreated,"
                          "SubOrchestrationInstanceCreated"));
    T(t_has(o.messages[3], "\"Input\":{\"x\":1}"));
    T_INT(t_complete_o(env, hub, "par", 4, NULL, 0, T0 + 5, &st), DS_OK);

    act[0] = t_act(DS_ACT_COMPLETE, 0, NULL, "42");
    T_INT(t_complete_o(env, hub, "par:0", 5, act, 1, T0 + 6, &st), DS_OK);
    act[0] = t_act(DS_ACT_FAIL, 0, NULL, NULL);
    act[0].reason = t_s("\"no\"");
    act[0].details = t_s("\"trace\"");
    T_INT(t_complete_o(env, hub, "kid-b", 2, act, 1, T0 + 7, &st), DS_OK);
    T_INT(t_op(env, 't', "kid-c", T0 + 8), DS_OK);

    T_INT(t_claim_o(env, hub, T0 + 9, T_LEASE, 8, 6, &o), DS_OK);
    T_INT(o.n, 1);
    T(strcmp(o.id[0], "par") == 0);
    T_INT(o.nmessages[0], 3);
    T(t_has(o.messages[0], "{\"EventType\":\"SubOrchestrationInstanceCompleted"
                           "\",\"Timestamp\":\"2018-03-10T13:57:31.000006Z\","
                           "\"EventId\":-1,\"TaskScheduledId\":0,"
                           "\"Result\":42}"));
    T(t_has(o.messages[0], "\"TaskScheduledId\":1,\"Reason\":\"no\","
                           "\"Details\":\"trace\"}"));
    T(t_has(o.messages[0], "\"TaskScheduledId\":3,\"Reason\":\"stop\","
                           "\"Details\":null}"));

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * A child's ExecutionStarted names its parent (ParentInstance), in its
 * first execution and after it continues as new
 */

static void
t_work_sub_parent(void)
{
    char              *dir;
    ds_env_t          *env;
    ds_str_t           hub;
    t_orch_t           o;
    ds_action_t        act[1];
    ds_status_e        st;
    const char        *parent;

    parent = "\"ParentInstance\":{\"Name\":\"Top\",\"TaskScheduleId\":4,"
             "\"OrchestrationInstance\":{\"InstanceId\":\"top\","
             "\"ExecutionId\":\"1\"}}}";

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "top", "Top", "", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 1, T_LEASE, 1, 0, &o), DS_OK);
    T(strstr(o.messages[0], "ParentInstance") == NULL);

    act[0] = t_act(DS_ACT_START_SUB, 4, "Kid", "1");
    act[0].instance_id = t_s("kid");
    T_INT(t_complete_o(env, hub, "top", 0, act, 1, T0 + 2, &st), DS_OK);

    T_INT(t_claim_o(env, hub, T0 + 3, T_LEASE, 1, 1, &o), DS_OK);
    T_INT(o.n, 1);
    T(strcmp(o.id[0], "kid") == 0);
    T(t_has(o.messages[0], parent));

    act[0] = t_act(DS_ACT_CONTINUE_AS_NEW, 0, NULL, "2");
    T_INT(t_complete_o(env, hub, "kid", 1, act, 1, T0 + 4, &st), DS_OK);
    T_INT(st, DS_CONTINUED_AS_NEW);

    T_INT(t_claim_o(env, hub, T0 + 5, T_LEASE, 1, 2, &o), DS_OK);
    T_INT(o.n, 1);
    T(strcmp(o.id[0], "kid") == 0);
    T(t_has(o.messages[0], "\"Input\":2"));
    T(t_has(o.messages[0], parent));

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


static void
t_work_renew(void)
{
    int                rc;
    char              *dir;
    int64_t            exp;
    ds_env_t          *env;
    ds_txn_t          *txn;
    ds_str_t           hub, none, late;
    t_act_t            a;
    t_orch_t           o;
    ds_action_t        act;
    ds_status_e        st;

    hub = t_s("Hub");
    none = t_s("");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "n", "O", "", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0, 100, 1, 0, &o), DS_OK);
    T_INT(o.expires[0], T0 + 100);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    exp = 0;
    T_INT(ds_work_renew(txn, hub, DS_WORK_ORCHESTRATION, t_s("n"), none, 0,
                        t_tok(0), T0 + 50, 100, &exp), DS_OK);
    T_INT(exp, T0 + 150);
    T_INT(ds_work_renew(txn, hub, DS_WORK_ORCHESTRATION, t_s("n"), none, 0,
                        t_tok(1), T0 + 50, 100, &exp), DS_CONFLICT);
    T_INT(ds_work_renew(txn, hub, DS_WORK_ORCHESTRATION, t_s("zz"), none, 0,
                        t_tok(0), T0 + 50, 100, &exp), DS_NOTFOUND);
    T_INT(ds_txn_commit(txn), DS_OK);

    T_INT(t_claim_o(env, hub, T0 + 120, 100, 1, 1, &o), DS_OK);
    T_INT(o.n, 0);
    T(t_consistent(env, hub, NULL));

    /* abandon: claimable at once, the old token stale */
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_work_abandon(txn, hub, DS_WORK_ORCHESTRATION, t_s("n"), none, 0,
                          t_tok(0), T0 + 121), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    T_INT(t_claim_o(env, hub, T0 + 122, 100, 1, 1, &o), DS_OK);
    T_INT(o.n, 1);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_work_abandon(txn, hub, DS_WORK_ORCHESTRATION, t_s("n"), none, 0,
                          t_tok(0), T0 + 123), DS_CONFLICT);
    T_INT(ds_work_renew(txn, hub, DS_WORK_ORCHESTRATION, t_s("n"), none, 0,
                        t_tok(0), T0 + 123, 100, &exp), DS_CONFLICT);
    ds_txn_abort(txn);

    T_INT(t_complete_o(env, hub, "n", 0, NULL, 0, T0 + 124, &st),
          DS_CONFLICT);

    act = t_act(DS_ACT_SCHEDULE_ACTIVITY, 7, "A", "1");
    T_INT(t_complete_o(env, hub, "n", 1, &act, 1, T0 + 124, &st), DS_OK);

    /* activities */
    T_INT(t_claim_a(env, hub, T0 + 125, 100, 1, 2, &a), DS_OK);
    T_INT(a.n, 1);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_work_renew(txn, hub, DS_WORK_ACTIVITY, t_s("n"), none, 7,
                        t_tok(2), T0 + 200, 100, &exp), DS_OK);
    T_INT(exp, T0 + 300);
    T_INT(ds_work_renew(txn, hub, DS_WORK_ACTIVITY, t_s("n"), none, 8,
                        t_tok(2), T0 + 200, 100, &exp), DS_NOTFOUND);
    T_INT(ds_work_renew(txn, hub, DS_WORK_ACTIVITY, t_s("n"), none, 7,
                        t_tok(3), T0 + 200, 100, &exp), DS_CONFLICT);
    T_INT(ds_txn_commit(txn), DS_OK);

    T_INT(t_claim_a(env, hub, T0 + 250, 100, 1, 3, &a), DS_OK);
    T_INT(a.n, 0);
    T_INT(t_claim_a(env, hub, T0 + 300, 100, 1, 3, &a), DS_OK);
    T_INT(a.n, 1);

    T_INT(t_complete_a(env, hub, "n", 7, 2, 0, "1", T0 + 301), DS_CONFLICT);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    rc = ds_work_abandon(txn, hub, DS_WORK_ACTIVITY, t_s("n"), none, 7,
                         t_tok(3), T0 + 302);
    T_INT(rc, DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);
    T(t_consistent(env, hub, NULL));

    T_INT(t_claim_a(env, hub, T0 + 303, 100, 1, 4, &a), DS_OK);
    T_INT(a.n, 1);
    T_INT(t_complete_a(env, hub, "n", 7, 3, 0, "1", T0 + 304), DS_CONFLICT);
    T_INT(t_complete_a(env, hub, "n", 7, 4, 0, "1", T0 + 304), DS_OK);

    T(t_consistent(env, hub, NULL));

    /*
     * A lease that ran out while nobody claimed the item again is still
     * its lease: a renewal extends it from now, not from its old expiry,
     * and a late completion under it applies (a claim in between makes
     * it stale, as above). Only one holder exists at a time either way.
     */

    late = t_s("Late");
    T_INT(t_start(env, late, "l", "O", "", T0), DS_OK);
    T_INT(t_claim_o(env, late, T0, 100, 1, 5, &o), DS_OK);
    T_INT(o.n, 1);
    T_INT(o.expires[0], T0 + 100);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    exp = 0;
    T_INT(ds_work_renew(txn, late, DS_WORK_ORCHESTRATION, t_s("l"), none, 0,
                        t_tok(5), T0 + 150, 100, &exp), DS_OK);
    T_INT(exp, T0 + 250);
    T_INT(ds_txn_commit(txn), DS_OK);

    T_INT(t_claim_o(env, late, T0 + 200, 100, 1, 6, &o), DS_OK);
    T_INT(o.n, 0);

    T_INT(t_complete_o(env, late, "l", 5, NULL, 0, T0 + 260, &st), DS_OK);
    T_INT(st, DS_RUNNING);
    T(t_consistent(env, late, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/* invalid actions: DS_INVALID and nothing written */

static void
t_work_invalid(void)
{
    size_t             i;
    char              *dir, before[T_TEXT], after[T_TEXT];
    ds_env_t          *env;
    ds_str_t           hub;
    t_orch_t           o;
    ds_action_t        bad[8][2], ok;
    ds_status_e        st;
    ds_check_stats_t   c1, c2;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "v", "O", "", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 1, T_LEASE, 1, 0, &o), DS_OK);

    /* finishing action not last */
    bad[0][0] = t_act(DS_ACT_COMPLETE, 0, NULL, "1");
    bad[0][1] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 1, "A", NULL);
    /* two finishing actions */
    bad[1][0] = t_act(DS_ACT_COMPLETE, 0, NULL, "1");
    bad[1][1] = t_act(DS_ACT_FAIL, 0, NULL, NULL);
    /* no activity name */
    bad[2][0] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 0, NULL, NULL);
    bad[2][1] = t_act(DS_ACT_SET_CUSTOM_STATUS, 0, NULL, "1");
    /* duplicate schedule ids */
    bad[3][0] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 3, "A", NULL);
    bad[3][1] = t_act(DS_ACT_CREATE_TIMER, 3, NULL, NULL);
    /* raise event without a target */
    bad[4][0] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 0, "A", NULL);
    bad[4][1] = t_act(DS_ACT_RAISE_EVENT, 0, "ev", NULL);
    /* signal without an entity name */
    bad[5][0] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 0, "A", NULL);
    bad[5][1] = t_act(DS_ACT_SIGNAL_ENTITY, 0, "op", NULL);
    /* negative id */
    bad[6][0] = t_act(DS_ACT_CREATE_TIMER, -2, NULL, NULL);
    bad[6][1] = t_act(DS_ACT_SET_CUSTOM_STATUS, 0, NULL, "1");
    /* sub-orchestration without a name */
    bad[7][0] = t_act(DS_ACT_START_SUB, 0, NULL, NULL);
    bad[7][1] = t_act(DS_ACT_SET_CUSTOM_STATUS, 0, NULL, "1");

    T(t_consistent(env, hub, &c1));
    t_history_types(env, hub, "v", before, sizeof(before));

    for (i = 0; i < 8; i++) {
        T_INT(t_complete_o(env, hub, "v", 0, bad[i], 2, T0 + 2, &st),
              DS_INVALID);
    }

    T(t_consistent(env, hub, &c2));
    t_history_types(env, hub, "v", after, sizeof(after));
    T(strcmp(before, after) == 0);
    T(memcmp(&c1, &c2, sizeof(c1)) == 0);
    T_INT(t_inbox_count(env, hub, "v"), 1);

    /* the lease still holds */
    ok = t_act(DS_ACT_SCHEDULE_ACTIVITY, 0, "A", NULL);
    T_INT(t_complete_o(env, hub, "v", 0, &ok, 1, T0 + 3, &st), DS_OK);

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/* ds_check() finds a broken ready index */

static void
t_work_check(void)
{
    char              *dir, problem[64];
    MDB_val            key;
    ds_env_t          *env;
    ds_txn_t          *txn;
    ds_str_t           hub;
    ds_check_stats_t   st;
    unsigned char      kb[DS_KEY_BUF];

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "k", "O", "", T0), DS_OK);
    T(t_consistent(env, hub, &st));
    T_INT(st.ready, 1);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    key.mv_data = kb;
    key.mv_size = dsi_key_ready(kb, hub, DS_READY_ORCH, T0,
                               (const unsigned char *) "k", 1);
    T_INT(mdb_del(txn->txn, ds_dbi(txn, DS_DB_READY), &key, NULL), 0);
    problem[0] = '\0';
    T_INT(ds_check_txn(txn, hub, t_problem_cb_w, problem, &st), DS_ERROR);
    /* and, last, the count of ready entries the raw delete left behind */
    T_INT(st.problems, 2);
    T(strcmp(problem, "a count of entries the index does not have") == 0);
    T_INT(st.ready, 0);
    ds_txn_abort(txn);

    /* a ready entry without its record */
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(dsi_ready_put(txn, hub, DS_READY_ORCH, T0,
                       (const unsigned char *) "ghost", 5), DS_OK);
    T_INT(ds_check_txn(txn, hub, t_problem_cb_w, problem, &st), DS_ERROR);
    T_INT(st.problems, 1);
    T(strcmp(problem, "entry without instance record") == 0);
    T_INT(ds_txn_commit(txn), DS_OK);

    /* a claim drops it */
    {
        t_orch_t  o;

        T_INT(t_claim_o(env, hub, T0, T_LEASE, 4, 0, &o), DS_OK);
        T_INT(o.n, 1);
    }

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}
