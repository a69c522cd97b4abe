
/*
 * Copyright (C) ngx_durable authors
 *
 * The store's events and records as messages: every kind of event the
 * store writes, event ids (an EventSent's inferred), times, failure
 * details, and OrchestrationState, each packed and read back.
 */


#include "t.h"


static dg_ctx_t  ctx;


/* packs m and unpacks it again: what the SDK would receive */

static ProtobufCMessage *
t_wire(const ProtobufCMessage *m)
{
    size_t    len;
    uint8_t  *out;

    if (dg_pack(m, t_mem, &out, &len) != DG_OK) {
        return NULL;
    }

    return dg_unpack(m->descriptor, out + DG_PREFIX_LEN,
                     len - DG_PREFIX_LEN, t_mem, NULL);
}


#define T_SV(v, w)                                                           \
    do {                                                                     \
        T((v) != NULL);                                                      \
        if ((v) != NULL) {                                                   \
            T_BYTES((v)->value.data, (v)->value.len, w);                     \
        }                                                                    \
    } while (0)


static const char  *t_events[] = {
    "{\"EventType\":\"OrchestratorStarted\","
    "\"Timestamp\":\"2024-01-02T03:04:05.1234560Z\"}",
    "{\"EventType\":\"ExecutionStarted\",\"Timestamp\":"
    "\"2024-01-02T03:04:05.0000000Z\",\"Name\":\"Hello\","
    "\"Input\":{\"a\":[1,2]}}",
    "{\"EventType\":\"TaskScheduled\",\"Timestamp\":"
    "\"2024-01-02T03:04:05.0000000Z\",\"EventId\":1,\"Name\":\"Say\","
    "\"Input\":\"x\"}",
    "{\"EventType\":\"EventSent\",\"Timestamp\":"
    "\"2024-01-02T03:04:05.0000000Z\",\"EventId\":-1,\"InstanceId\":\"o\","
    "\"Name\":\"Ping\",\"Input\":null}",
    "{\"EventType\":\"TimerCreated\",\"Timestamp\":"
    "\"2024-01-02T03:04:05.0000000Z\",\"EventId\":3,"
    "\"FireAt\":\"2024-01-02T03:05:00.0000000Z\"}",
    "{\"EventType\":\"OrchestratorCompleted\","
    "\"Timestamp\":\"2024-01-02T03:04:05.1234560Z\"}",
    "{\"EventType\":\"TaskFailed\",\"Timestamp\":"
    "\"2024-01-02T03:04:06.0000000Z\",\"TaskScheduledId\":1,"
    "\"Reason\":\"bad \\\"x\\\"\",\"Details\":{\"ErrorType\":\"TypeError\","
    "\"ErrorMessage\":\"bad\",\"StackTrace\":\"at f\","
    "\"IsNonRetriable\":true}}",
    "{\"EventType\":\"TimerFired\",\"Timestamp\":"
    "\"2024-01-02T03:05:00.0000000Z\",\"TimerId\":3,"
    "\"FireAt\":\"2024-01-02T03:05:00.0000000Z\"}",
    "{\"EventType\":\"EventRaised\",\"Timestamp\":"
    "\"2024-01-02T03:05:01.0000000Z\",\"Name\":\"Go\",\"Input\":7}",
    "{\"EventType\":\"ExecutionCompleted\",\"Timestamp\":"
    "\"2024-01-02T03:05:01.0000000Z\",\"OrchestrationStatus\":3,"
    "\"Result\":\"boom\",\"FailureDetails\":{\"Reason\":\"boom\","
    "\"Details\":null}}",
    "{\"EventType\":\"SomethingNew\",\"Timestamp\":"
    "\"2024-01-02T03:05:01.0000000Z\"}",
};


/* what an SDK's entities and starts add to a history */

static const char  *t_entity_events[] = {
    "{\"EventType\":\"ExecutionStarted\",\"Timestamp\":"
    "\"2024-01-02T03:04:05Z\",\"EventId\":-1,\"Name\":\"E\","
    "\"Input\":null,\"Version\":\"2\",\"Tags\":{\"t\":\"v\"},"
    "\"ScheduledStartTime\":\"2024-01-02T04:00:00Z\","
    "\"ParentInstance\":{\"Name\":\"P\",\"Version\":\"1\","
    "\"TaskScheduleId\":3,\"OrchestrationInstance\":{"
    "\"InstanceId\":\"par\",\"ExecutionId\":\"2\"}}}",
    "{\"EventType\":\"EntityOperationCalled\",\"Timestamp\":"
    "\"2024-01-02T03:04:05Z\",\"EventId\":1,\"RequestId\":\"r1\","
    "\"Operation\":\"get\",\"TargetInstanceId\":\"@c@k\","
    "\"Input\":5}",
    "{\"EventType\":\"EntityLockRequested\",\"Timestamp\":"
    "\"2024-01-02T03:04:05Z\",\"EventId\":2,"
    "\"CriticalSectionId\":\"cs\",\"LockSet\":[\"@a@1\",\"@b@2\"],"
    "\"Position\":0}",
    "{\"EventType\":\"EntityOperationCompleted\",\"Timestamp\":"
    "\"2024-01-02T03:04:06Z\",\"EventId\":-1,\"RequestId\":\"r1\","
    "\"Output\":{\"n\":1}}",
    "{\"EventType\":\"EntityOperationFailed\",\"Timestamp\":"
    "\"2024-01-02T03:04:06Z\",\"EventId\":-1,\"RequestId\":\"r2\","
    "\"Reason\":\"no\",\"Details\":null}",
    "{\"EventType\":\"EntityLockGranted\",\"Timestamp\":"
    "\"2024-01-02T03:04:06Z\",\"EventId\":-1,"
    "\"CriticalSectionId\":\"cs\"}",
    "{\"EventType\":\"EntityUnlockSent\",\"Timestamp\":"
    "\"2024-01-02T03:04:07Z\",\"EventId\":3,"
    "\"CriticalSectionId\":\"cs\",\"TargetInstanceId\":\"@a@1\"}",
    "{\"EventType\":\"EntityOperationSignaled\",\"Timestamp\":"
    "\"2024-01-02T03:04:07Z\",\"EventId\":4,\"RequestId\":\"r3\","
    "\"Operation\":\"add\",\"TargetInstanceId\":\"@a@1\"}",
};


static void
t_history_entities(void)
{
    size_t         i, n;
    HistoryEvent  *he[8];

    n = sizeof(t_entity_events) / sizeof(t_entity_events[0]);

    for (i = 0; i < n; i++) {
        he[i] = NULL;
        T_INT(dg_event_out(&ctx, t_s(t_entity_events[i]), &he[i]), DG_OK);

        if (he[i] == NULL) {
            return;
        }

        he[i] = (HistoryEvent *) t_wire(&he[i]->base);
        T(he[i] != NULL);

        if (he[i] == NULL) {
            return;
        }
    }

    T_SV(he[0]->executionstarted->version, "2");
    T_INT(he[0]->executionstarted->n_tags, 1);
    T(strcmp(he[0]->executionstarted->tags[0]->value, "v") == 0);
    T(he[0]->executionstarted->scheduledstarttimestamp != NULL);
    T(he[0]->executionstarted->parentinstance != NULL);

    if (he[0]->executionstarted->parentinstance != NULL) {
        ParentInstanceInfo  *pi = he[0]->executionstarted->parentinstance;

        T_SV(pi->name, "P");
        T_SV(pi->version, "1");
        T_INT(pi->taskscheduledid, 3);
        T(pi->orchestrationinstance != NULL);

        if (pi->orchestrationinstance != NULL) {
            T_BYTES(pi->orchestrationinstance->instanceid.data,
                    pi->orchestrationinstance->instanceid.len, "par");
            T_SV(pi->orchestrationinstance->executionid, "2");
        }
    }

    T_INT(he[1]->event_type_case,
          HISTORY_EVENT__EVENT_TYPE_ENTITY_OPERATION_CALLED);
    T_INT(he[1]->eventid, 1);
    T_BYTES(he[1]->entityoperationcalled->operation.data,
            he[1]->entityoperationcalled->operation.len, "get");
    T_SV(he[1]->entityoperationcalled->targetinstanceid, "@c@k");
    T_SV(he[1]->entityoperationcalled->input, "5");

    T_INT(he[2]->event_type_case,
          HISTORY_EVENT__EVENT_TYPE_ENTITY_LOCK_REQUESTED);
    T_INT(he[2]->entitylockrequested->n_lockset, 2);

    if (he[2]->entitylockrequested->n_lockset == 2) {
        T_BYTES(he[2]->entitylockrequested->lockset[1].data,
                he[2]->entitylockrequested->lockset[1].len, "@b@2");
    }

    T_INT(he[3]->event_type_case,
          HISTORY_EVENT__EVENT_TYPE_ENTITY_OPERATION_COMPLETED);
    T_SV(he[3]->entityoperationcompleted->output, "{\"n\":1}");
    T_INT(he[4]->event_type_case,
          HISTORY_EVENT__EVENT_TYPE_ENTITY_OPERATION_FAILED);
    T_BYTES(he[4]->entityoperationfailed->failuredetails->errormessage.data,
            he[4]->entityoperationfailed->failuredetails->errormessage.len,
            "no");
    T_INT(he[5]->event_type_case,
          HISTORY_EVENT__EVENT_TYPE_ENTITY_LOCK_GRANTED);
    T_BYTES(he[5]->entitylockgranted->criticalsectionid.data,
            he[5]->entitylockgranted->criticalsectionid.len, "cs");
    T_INT(he[6]->event_type_case,
          HISTORY_EVENT__EVENT_TYPE_ENTITY_UNLOCK_SENT);
    T_SV(he[6]->entityunlocksent->targetinstanceid, "@a@1");
    T_INT(he[7]->event_type_case,
          HISTORY_EVENT__EVENT_TYPE_ENTITY_OPERATION_SIGNALED);
    T_INT(he[7]->eventid, 4);
}


static void
t_history_events(void)
{
    size_t         i;
    int64_t        us;
    dg_events_t    ev;
    HistoryEvent  *he;

    dg_events_init(&ev, &ctx);
    ev.instance_id = t_s("inst");
    ev.execution_id = t_s("1");

    for (i = 0; i < sizeof(t_events) / sizeof(t_events[0]); i++) {
        T_INT(dg_events_add(&ev, i + 1, t_s(t_events[i])), 0);
    }

    T_INT(ev.rc, DG_OK);
    T_INT(ev.n, sizeof(t_events) / sizeof(t_events[0]));

    if (ev.n != sizeof(t_events) / sizeof(t_events[0])) {
        return;
    }

    for (i = 0; i < ev.n; i++) {
        he = (HistoryEvent *) t_wire(&ev.events[i]->base);
        T(he != NULL);

        if (he == NULL) {
            return;
        }

        ev.events[i] = he;
    }

    /* times to the microsecond */

    he = ev.events[0];
    T_INT(he->event_type_case, HISTORY_EVENT__EVENT_TYPE_ORCHESTRATOR_STARTED);
    T_INT(he->eventid, -1);
    T(ds_time_parse("2024-01-02T03:04:05Z", 20, &us) == DS_OK);
    T_INT(he->timestamp->seconds, us / 1000000);
    T_INT(he->timestamp->nanos, 123456000);

    he = ev.events[1];
    T_INT(he->event_type_case, HISTORY_EVENT__EVENT_TYPE_EXECUTION_STARTED);
    T_BYTES(he->executionstarted->name.data,
            he->executionstarted->name.len, "Hello");
    T_SV(he->executionstarted->input, "{\"a\":[1,2]}");
    T(he->executionstarted->parentinstance == NULL);
    T(he->executionstarted->orchestrationinstance != NULL);
    T_BYTES(he->executionstarted->orchestrationinstance->instanceid.data,
            he->executionstarted->orchestrationinstance->instanceid.len,
            "inst");
    T_SV(he->executionstarted->orchestrationinstance->executionid, "1");

    he = ev.events[2];
    T_INT(he->event_type_case, HISTORY_EVENT__EVENT_TYPE_TASK_SCHEDULED);
    T_INT(he->eventid, 1);
    T_SV(he->taskscheduled->input, "\"x\"");

    /* the store wrote the send without its id: the one after the last */

    he = ev.events[3];
    T_INT(he->event_type_case, HISTORY_EVENT__EVENT_TYPE_EVENT_SENT);
    T_INT(he->eventid, 2);
    T_BYTES(he->eventsent->instanceid.data, he->eventsent->instanceid.len,
            "o");
    T(he->eventsent->input == NULL);

    he = ev.events[4];
    T_INT(he->event_type_case, HISTORY_EVENT__EVENT_TYPE_TIMER_CREATED);
    T_INT(he->eventid, 3);
    T_INT(he->timercreated->fireat->seconds, us / 1000000 + 55);

    he = ev.events[6];
    T_INT(he->event_type_case, HISTORY_EVENT__EVENT_TYPE_TASK_FAILED);
    T_INT(he->taskfailed->taskscheduledid, 1);
    T_BYTES(he->taskfailed->failuredetails->errormessage.data,
            he->taskfailed->failuredetails->errormessage.len, "bad \"x\"");
    T_BYTES(he->taskfailed->failuredetails->errortype.data,
            he->taskfailed->failuredetails->errortype.len, "TypeError");
    T_SV(he->taskfailed->failuredetails->stacktrace, "at f");
    T(he->taskfailed->failuredetails->isnonretriable);

    he = ev.events[7];
    T_INT(he->event_type_case, HISTORY_EVENT__EVENT_TYPE_TIMER_FIRED);
    T_INT(he->timerfired->timerid, 3);

    he = ev.events[8];
    T_INT(he->event_type_case, HISTORY_EVENT__EVENT_TYPE_EVENT_RAISED);
    T_SV(he->eventraised->input, "7");

    he = ev.events[9];
    T_INT(he->event_type_case, HISTORY_EVENT__EVENT_TYPE_EXECUTION_COMPLETED);
    T_INT(he->executioncompleted->orchestrationstatus,
          ORCHESTRATION_STATUS__ORCHESTRATION_STATUS_FAILED);
    T(he->executioncompleted->failuredetails != NULL);
    T(he->executioncompleted->result == NULL);

    he = ev.events[10];
    T_INT(he->event_type_case, HISTORY_EVENT__EVENT_TYPE_GENERIC_EVENT);
    T_SV(he->genericevent->data, t_events[10]);

    /* a reader that learns the execution afterwards names it then */

    dg_events_init(&ev, &ctx);
    T_INT(dg_events_add(&ev, 1, t_s(t_events[0])), 0);
    T_INT(dg_events_add(&ev, 2, t_s(t_events[1])), 0);
    T(ev.events[1]->executionstarted->orchestrationinstance == NULL);
    T_INT(dg_events_instance(&ev, t_s("inst"), 7), DG_OK);
    he = (HistoryEvent *) t_wire(&ev.events[1]->base);
    T(he != NULL && he->executionstarted->orchestrationinstance != NULL);

    if (he != NULL && he->executionstarted->orchestrationinstance != NULL) {
        T_BYTES(he->executionstarted->orchestrationinstance->instanceid.data,
                he->executionstarted->orchestrationinstance->instanceid.len,
                "inst");
        T_SV(he->executionstarted->orchestrationinstance->executionid, "7");
    }

    /*
     * a new execution numbers its sends from the start: from 1 while
     * nothing tells otherwise (the JavaScript and Python SDKs, and the
     * numbering of older versions of this codec)...
     */

    T_INT(dg_events_add(&ev, 20, t_s(t_events[1])), 0);
    T_INT(dg_events_add(&ev, 21, t_s(t_events[3])), 0);
    T_INT(ev.events[ev.n - 1]->eventid, 1);
    T_INT(dg_events_add(&ev, 22, t_s(t_events[3])), 0);
    T_INT(ev.events[ev.n - 1]->eventid, 2);
    T_INT(dg_events_add(&ev, 23, t_s(t_events[4])), 0);
    T_INT(ev.events[ev.n - 1]->eventid, 3);
    T_INT(ev.events[ev.n - 2]->eventid, 2);
    T_INT(ev.events[ev.n - 3]->eventid, 1);

    /* ...and from 0 when the next id says so (.NET, Java, Go) */

    T_INT(dg_events_add(&ev, 24, t_s(t_events[1])), 0);
    T_INT(dg_events_add(&ev, 25, t_s(t_events[3])), 0);
    T_INT(dg_events_add(&ev, 26, t_s(t_events[2])), 0);
    T_INT(ev.events[ev.n - 1]->eventid, 1);
    T_INT(ev.events[ev.n - 2]->eventid, 0);

    /* a known id first: the next send follows it */

    T_INT(dg_events_add(&ev, 30, t_s(t_events[1])), 0);
    T_INT(dg_events_add(&ev, 31, t_s(t_events[2])), 0);
    T_INT(dg_events_add(&ev, 32, t_s(t_events[3])), 0);
    T_INT(ev.events[ev.n - 1]->eventid, 2);

    /* in chunks: an earlier chunk's guesses still count */

    T_INT(dg_events_add(&ev, 40, t_s(t_events[1])), 0);
    T_INT(dg_events_add(&ev, 41, t_s(t_events[3])), 0);
    T_INT(ev.events[ev.n - 1]->eventid, 1);
    dg_events_next(&ev);
    T_INT(dg_events_add(&ev, 42, t_s(t_events[3])), 0);
    T_INT(dg_events_add(&ev, 43, t_s(t_events[4])), 0);
    T_INT(ev.n, 2);
    T_INT(ev.events[0]->eventid, 2);
    T_INT(ev.events[1]->eventid, 3);
}


static void
t_history_state(void)
{
    ds_instance_t        inst;
    OrchestrationState  *st;

    memset(&inst, 0, sizeof(inst));
    inst.status = DS_RUNNING;
    inst.created = 1000000;
    inst.updated = 2500000;
    inst.execution = 3;
    inst.name = t_s("Hello");
    inst.input = t_s("{\"a\":1}");
    inst.custom_status = t_s("\"busy\"");
    inst.parent_id = t_s("parent");

    T_INT(dg_state_out(&ctx, t_s("i1"), &inst, 0, &st), DG_OK);
    st = (OrchestrationState *) t_wire(&st->base);
    T(st != NULL);

    if (st == NULL) {
        return;
    }

    T_BYTES(st->instanceid.data, st->instanceid.len, "i1");
    T_BYTES(st->name.data, st->name.len, "Hello");
    T_INT(st->orchestrationstatus,
          ORCHESTRATION_STATUS__ORCHESTRATION_STATUS_RUNNING);
    T_INT(st->createdtimestamp->seconds, 1);
    T_INT(st->lastupdatedtimestamp->nanos, 500000000);
    T(st->completedtimestamp == NULL);
    T(st->input == NULL);
    T_SV(st->customstatus, "\"busy\"");
    T_SV(st->parentinstanceid, "parent");
    T_SV(st->executionid, "3");

    T_INT(dg_state_out(&ctx, t_s("i1"), &inst, 1, &st), DG_OK);
    T_SV(st->input, "{\"a\":1}");
    T(st->output == NULL);

    /* failed: the reason as failure details, not as output */

    inst.status = DS_FAILED;
    inst.output = t_s("\"it broke\"");
    T_INT(dg_state_out(&ctx, t_s("i1"), &inst, 1, &st), DG_OK);
    T(st->output == NULL);
    T(st->completedtimestamp != NULL);
    T(st->failuredetails != NULL);
    T_BYTES(st->failuredetails->errormessage.data,
            st->failuredetails->errormessage.len, "it broke");
    T(st->failuredetails->errortype.len == 0);

    /* with the details the record keeps: the error type, stack trace */

    inst.failure = t_s("{\"ErrorType\":\"TypeError\",\"ErrorMessage\":"
                       "\"it broke\",\"StackTrace\":\"at g\","
                       "\"IsNonRetriable\":true}");
    T_INT(dg_state_out(&ctx, t_s("i1"), &inst, 1, &st), DG_OK);
    T_BYTES(st->failuredetails->errortype.data,
            st->failuredetails->errortype.len, "TypeError");
    T_SV(st->failuredetails->stacktrace, "at g");
    T(st->failuredetails->isnonretriable);

    T_INT(dg_state_tags_out(&ctx, t_s("{\"a\":\"1\",\"b\\\"\":\"x\\ny\"}"),
                            st), DG_OK);
    T_INT(st->n_tags, 2);

    if (st->n_tags == 2) {
        T(strcmp(st->tags[0]->key, "a") == 0);
        T(strcmp(st->tags[1]->key, "b\"") == 0);
        T(strcmp(st->tags[1]->value, "x\ny") == 0);
    }

    T(t_wire(&st->base) != NULL);

    /* \u escapes, a surrogate pair among them, become UTF-8; a lone
       surrogate is no text */

    T_INT(dg_state_tags_out(&ctx, t_s("{\"u\":\"\\u00e9\\ud83d\\ude00/\","
                                      "\"v\":\"\\ud83d\"}"), st), DG_OK);
    T_INT(st->n_tags, 2);

    if (st->n_tags == 2) {
        T(strcmp(st->tags[0]->value, "\xc3\xa9\xf0\x9f\x98\x80/") == 0);
        T(strcmp(st->tags[1]->value, "") == 0);
    }
}


static void
t_history_time(void)
{
    int64_t     us;
    Timestamp  *ts, t;

    /* before the epoch: nanos stay positive */

    ts = dg_time_out(&ctx, -1);
    T(ts != NULL && ts->seconds == -1 && ts->nanos == 999999000);
    T_INT(dg_time_in(&ctx, ts, "t", &us), DG_OK);
    T_INT(us, -1);
    T_INT(dg_time_in(&ctx, NULL, "t", &us), DG_OK);
    T_INT(us, 0);

    /* the ends of the range the store formats are taken */

    timestamp__init(&t);
    t.seconds = DG_TIME_S_MAX;
    t.nanos = 999999999;
    T_INT(dg_time_in(&ctx, &t, "t", &us), DG_OK);
    T_INT(us, DG_TIME_S_MAX * 1000000 + 999999);

    t.seconds = DG_TIME_S_MIN;
    t.nanos = 0;
    T_INT(dg_time_in(&ctx, &t, "t", &us), DG_OK);
    T_INT(us, DG_TIME_S_MIN * 1000000);

    /* beyond them, or nanos out of 0..999999999: refused, never wrapped */

    t.seconds = DG_TIME_S_MAX + 1;
    T_INT(dg_time_in(&ctx, &t, "fireAt", &us), DG_INVALID_ARGUMENT);
    T(strncmp(ctx.status.message, "'fireAt.seconds' ", 17) == 0);

    t.seconds = DG_TIME_S_MIN - 1;
    T_INT(dg_time_in(&ctx, &t, "fireAt", &us), DG_INVALID_ARGUMENT);

    t.seconds = INT64_MAX;
    T_INT(dg_time_in(&ctx, &t, "fireAt", &us), DG_INVALID_ARGUMENT);

    t.seconds = 9223372036853LL;
    t.nanos = INT32_MAX;
    T_INT(dg_time_in(&ctx, &t, "fireAt", &us), DG_INVALID_ARGUMENT);
    T(strncmp(ctx.status.message, "'fireAt.nanos' ", 15) == 0);

    t.seconds = 0;
    t.nanos = 1000000000;
    T_INT(dg_time_in(&ctx, &t, "fireAt", &us), DG_INVALID_ARGUMENT);

    t.seconds = -9223372036853LL;
    t.nanos = INT32_MIN;
    T_INT(dg_time_in(&ctx, &t, "fireAt", &us), DG_INVALID_ARGUMENT);
    T(strncmp(ctx.status.message, "'fireAt.nanos' ", 15) == 0);

    t.nanos = -1;
    t.seconds = 0;
    T_INT(dg_time_in(&ctx, &t, "fireAt", &us), DG_INVALID_ARGUMENT);
}


void
t_history(void)
{
    dg_ctx_init(&ctx, t_mem, 64);

    t_history_events();
    t_history_entities();
    t_history_state();
    t_history_time();
}
