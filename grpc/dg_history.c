
/*
 * Copyright (C) ngx_durable authors
 *
 * The store's history events (compact JSON, {"EventType":..,
 * "Timestamp":.., members}) as HistoryEvent messages. Members are read
 * as spans of the stored text (ds_jspan.h); JSON values (inputs,
 * results) are handed over as they are stored, without copies.
 */


#include <string.h>

#include "durable_grpc.h"
#include "dg_internal.h"
#include "ds_jspan.h"


typedef enum {
    DGI_EV_STARTED = 0,
    DGI_EV_COMPLETED,
    DGI_EV_TERMINATED,
    DGI_EV_TASK_SCHEDULED,
    DGI_EV_TASK_COMPLETED,
    DGI_EV_TASK_FAILED,
    DGI_EV_SUB_CREATED,
    DGI_EV_SUB_COMPLETED,
    DGI_EV_SUB_FAILED,
    DGI_EV_TIMER_CREATED,
    DGI_EV_TIMER_FIRED,
    DGI_EV_ORCH_STARTED,
    DGI_EV_ORCH_COMPLETED,
    DGI_EV_SENT,
    DGI_EV_RAISED,
    DGI_EV_SUSPENDED,
    DGI_EV_RESUMED,
    DGI_EV_REWOUND,
    DGI_EV_ENTITY_CALLED,
    DGI_EV_ENTITY_SIGNALED,
    DGI_EV_ENTITY_LOCK_REQUESTED,
    DGI_EV_ENTITY_UNLOCK_SENT,
    DGI_EV_ENTITY_COMPLETED,
    DGI_EV_ENTITY_FAILED,
    DGI_EV_ENTITY_LOCK_GRANTED,
    DGI_EV_OTHER
} dgi_ev_e;


static const char  *dgi_ev_names[] = {
    "ExecutionStarted", "ExecutionCompleted", "ExecutionTerminated",
    "TaskScheduled", "TaskCompleted", "TaskFailed",
    "SubOrchestrationInstanceCreated", "SubOrchestrationInstanceCompleted",
    "SubOrchestrationInstanceFailed", "TimerCreated", "TimerFired",
    "OrchestratorStarted", "OrchestratorCompleted", "EventSent",
    "EventRaised", "ExecutionSuspended", "ExecutionResumed",
    "ExecutionRewound", "EntityOperationCalled", "EntityOperationSignaled",
    "EntityLockRequested", "EntityUnlockSent", "EntityOperationCompleted",
    "EntityOperationFailed", "EntityLockGranted"
};


static dgi_ev_e
dgi_ev_type(dg_ctx_t *ctx, ds_str_t event)
{
    size_t    i;
    ds_str_t  t;

    if (!dgi_member_text(ctx, event, "EventType", &t)) {
        return DGI_EV_OTHER;
    }

    for (i = 0; i < DGI_EV_OTHER; i++) {
        if (t.len == strlen(dgi_ev_names[i])
            && memcmp(t.data, dgi_ev_names[i], t.len) == 0)
        {
            return (dgi_ev_e) i;
        }
    }

    return DGI_EV_OTHER;
}


/* allocates and inits a sub-message; NULL when out of memory */

#define dgi_sub(ctx, type, init)                                             \
    dgi_sub_alloc(ctx, sizeof(type), (void (*)(void *)) (init))

static void *
dgi_sub_alloc(dg_ctx_t *ctx, size_t size, void (*init)(void *))
{
    void  *p;

    p = dgi_alloc(ctx->mem, size);
    if (p == NULL) {
        return NULL;
    }

    init(p);

    return p;
}


static int32_t
dgi_i32(int64_t v)
{
    return v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX
                                                     : (int32_t) v;
}


static int64_t
dgi_time_member(ds_str_t event, const char *name)
{
    int64_t   us;
    ds_str_t  v;

    v = dgi_member(event, name);

    if (v.len < 2 || ds_time_parse(v.data + 1, v.len - 2, &us) != DS_OK) {
        return 0;
    }

    return us;
}


/* a lock set, a JSON array of entity ids */

static int
dgi_lock_set(dg_ctx_t *ctx, ds_str_t set, EntityLockRequestedEvent *e)
{
    size_t            n;
    ds_str_t          v, text;
    ds_jspan_iter_t   it;

    if (!ds_jspan_iter(&it, (const unsigned char *) set.data, set.len)
        || set.data[0] != '[')
    {
        return 0;
    }

    for (n = 0; ds_jspan_next(&it, NULL, &v); n++) {
        /* void */
    }

    if (n == 0) {
        return 0;
    }

    e->lockset = dgi_alloc(ctx->mem, n * sizeof(ProtobufCBinaryData));
    if (e->lockset == NULL) {
        return -1;
    }

    (void) ds_jspan_iter(&it, (const unsigned char *) set.data, set.len);

    while (e->n_lockset < n && ds_jspan_next(&it, NULL, &v)) {
        if (dgi_text_out(ctx, v, &text) != DG_OK) {
            return -1;
        }

        e->lockset[e->n_lockset++] = dgi_bytes(text);
    }

    return 0;
}


/*
 * The ParentInstance object of an ExecutionStarted: {Name, Version,
 * TaskScheduleId, OrchestrationInstance: {InstanceId, ExecutionId}}.
 * *out stays NULL when there is none.
 */

static int
dgi_parent_out(dg_ctx_t *ctx, ds_str_t ev, ParentInstanceInfo **out)
{
    int64_t              task;
    ds_str_t             p, oi, id, exec;
    ParentInstanceInfo  *pi;

    p = dgi_member(ev, "ParentInstance");
    oi = dgi_member(p, "OrchestrationInstance");

    if (p.len == 0 || oi.len == 0
        || !dgi_member_text(ctx, oi, "InstanceId", &id) || id.len == 0)
    {
        return 0;
    }

    pi = dgi_sub(ctx, ParentInstanceInfo, parent_instance_info__init);
    if (pi == NULL) {
        return -1;
    }

    if (!dgi_member_text(ctx, oi, "ExecutionId", &exec)) {
        exec.len = 0;
    }

    pi->orchestrationinstance = dgi_instance_out(ctx, id, exec);
    if (pi->orchestrationinstance == NULL) {
        return -1;
    }

    if (dgi_member_int(p, "TaskScheduleId", &task)) {
        pi->taskscheduledid = dgi_i32(task);
    }

    if (dgi_member_text(ctx, p, "Name", &id) && id.len) {
        pi->name = dgi_value_out(ctx, id);
    }

    if (dgi_member_text(ctx, p, "Version", &id) && id.len) {
        pi->version = dgi_value_out(ctx, id);
    }

    *out = pi;

    return 0;
}


/* the members of each kind of event */

static int
dgi_event_body(dg_ctx_t *ctx, dgi_ev_e type, ds_str_t ev,
    HistoryEvent *he, const dg_events_t *h)
{
    int64_t    n;
    ds_str_t   s;
    void      *m;

#define DGI_SET(kind, field, t, init)                                        \
    m = dgi_sub(ctx, t, init);                                               \
    if (m == NULL) {                                                         \
        return -1;                                                           \
    }                                                                        \
    he->event_type_case = HISTORY_EVENT__EVENT_TYPE_##kind;                  \
    he->field = m

    switch (type) {

    case DGI_EV_STARTED:
        DGI_SET(EXECUTION_STARTED, executionstarted, ExecutionStartedEvent,
                execution_started_event__init);
        (void) dgi_member_text(ctx, ev, "Name", &s);
        he->executionstarted->name = dgi_bytes(s);
        he->executionstarted->input = dgi_value_out(ctx,
                                                    dgi_member(ev, "Input"));

        if (h != NULL && h->instance_id.len) {
            he->executionstarted->orchestrationinstance =
                dgi_instance_out(ctx, h->instance_id, h->execution_id);

            if (he->executionstarted->orchestrationinstance == NULL) {
                return -1;
            }
        }

        if (dgi_member_text(ctx, ev, "Version", &s) && s.len) {
            he->executionstarted->version = dgi_value_out(ctx, s);
        }

        if (dgi_parent_out(ctx, ev, &he->executionstarted->parentinstance)
            != 0)
        {
            return -1;
        }

        if (dgi_member(ev, "ScheduledStartTime").len) {
            he->executionstarted->scheduledstarttimestamp =
                dg_time_out(ctx, dgi_time_member(ev, "ScheduledStartTime"));

            if (he->executionstarted->scheduledstarttimestamp == NULL) {
                return -1;
            }
        }

        if (dgi_tags_out(ctx, dgi_member(ev, "Tags"),
                         &execution_started_event__tags_entry__descriptor,
                         &he->executionstarted->n_tags,
                         (void ***) &he->executionstarted->tags)
            != DG_OK)
        {
            return -1;
        }

        break;

    case DGI_EV_COMPLETED:
        DGI_SET(EXECUTION_COMPLETED, executioncompleted,
                ExecutionCompletedEvent, execution_completed_event__init);

        if (dgi_member_int(ev, "OrchestrationStatus", &n)
            && n >= 0 && n < DS_STATUS_COUNT)
        {
            he->executioncompleted->orchestrationstatus =
                (OrchestrationStatus) n;
        }

        s = dgi_member(ev, "FailureDetails");

        if (s.len) {
            he->executioncompleted->failuredetails =
                dgi_failure_out(ctx, dgi_member(s, "Reason"),
                                dgi_member(s, "Details"));

            if (he->executioncompleted->failuredetails == NULL) {
                return -1;
            }

        } else {
            he->executioncompleted->result =
                dgi_value_out(ctx, dgi_member(ev, "Result"));
        }

        break;

    case DGI_EV_TERMINATED:
        DGI_SET(EXECUTION_TERMINATED, executionterminated,
                ExecutionTerminatedEvent, execution_terminated_event__init);
        he->executionterminated->input =
            dgi_value_out(ctx, dgi_member(ev, "Input"));
        break;

    case DGI_EV_TASK_SCHEDULED:
        DGI_SET(TASK_SCHEDULED, taskscheduled, TaskScheduledEvent,
                task_scheduled_event__init);
        (void) dgi_member_text(ctx, ev, "Name", &s);
        he->taskscheduled->name = dgi_bytes(s);
        he->taskscheduled->input = dgi_value_out(ctx,
                                                 dgi_member(ev, "Input"));

        if (dgi_member_text(ctx, ev, "Version", &s) && s.len) {
            he->taskscheduled->version = dgi_value_out(ctx, s);
        }

        if (dgi_tags_out(ctx, dgi_member(ev, "Tags"),
                         &task_scheduled_event__tags_entry__descriptor,
                         &he->taskscheduled->n_tags,
                         (void ***) &he->taskscheduled->tags)
            != DG_OK)
        {
            return -1;
        }

        break;

    case DGI_EV_TASK_COMPLETED:
        DGI_SET(TASK_COMPLETED, taskcompleted, TaskCompletedEvent,
                task_completed_event__init);
        n = -1;
        (void) dgi_member_int(ev, "TaskScheduledId", &n);
        he->taskcompleted->taskscheduledid = dgi_i32(n);
        he->taskcompleted->result = dgi_value_out(ctx,
                                                  dgi_member(ev, "Result"));
        break;

    case DGI_EV_TASK_FAILED:
        DGI_SET(TASK_FAILED, taskfailed, TaskFailedEvent,
                task_failed_event__init);
        n = -1;
        (void) dgi_member_int(ev, "TaskScheduledId", &n);
        he->taskfailed->taskscheduledid = dgi_i32(n);
        he->taskfailed->failuredetails =
            dgi_failure_out(ctx, dgi_member(ev, "Reason"),
                            dgi_member(ev, "Details"));

        if (he->taskfailed->failuredetails == NULL) {
            return -1;
        }

        break;

    case DGI_EV_SUB_CREATED:
        DGI_SET(SUB_ORCHESTRATION_INSTANCE_CREATED,
                suborchestrationinstancecreated,
                SubOrchestrationInstanceCreatedEvent,
                sub_orchestration_instance_created_event__init);
        (void) dgi_member_text(ctx, ev, "Name", &s);
        he->suborchestrationinstancecreated->name = dgi_bytes(s);
        (void) dgi_member_text(ctx, ev, "InstanceId", &s);
        he->suborchestrationinstancecreated->instanceid = dgi_bytes(s);
        he->suborchestrationinstancecreated->input =
            dgi_value_out(ctx, dgi_member(ev, "Input"));

        if (dgi_member_text(ctx, ev, "Version", &s) && s.len) {
            he->suborchestrationinstancecreated->version =
                dgi_value_out(ctx, s);
        }

        break;

    case DGI_EV_SUB_COMPLETED:
        DGI_SET(SUB_ORCHESTRATION_INSTANCE_COMPLETED,
                suborchestrationinstancecompleted,
                SubOrchestrationInstanceCompletedEvent,
                sub_orchestration_instance_completed_event__init);
        n = -1;
        (void) dgi_member_int(ev, "TaskScheduledId", &n);
        he->suborchestrationinstancecompleted->taskscheduledid = dgi_i32(n);
        he->suborchestrationinstancecompleted->result =
            dgi_value_out(ctx, dgi_member(ev, "Result"));
        break;

    case DGI_EV_SUB_FAILED:
        DGI_SET(SUB_ORCHESTRATION_INSTANCE_FAILED,
                suborchestrationinstancefailed,
                SubOrchestrationInstanceFailedEvent,
                sub_orchestration_instance_failed_event__init);
        n = -1;
        (void) dgi_member_int(ev, "TaskScheduledId", &n);
        he->suborchestrationinstancefailed->taskscheduledid = dgi_i32(n);
        he->suborchestrationinstancefailed->failuredetails =
            dgi_failure_out(ctx, dgi_member(ev, "Reason"),
                            dgi_member(ev, "Details"));

        if (he->suborchestrationinstancefailed->failuredetails == NULL) {
            return -1;
        }

        break;

    case DGI_EV_TIMER_CREATED:
        DGI_SET(TIMER_CREATED, timercreated, TimerCreatedEvent,
                timer_created_event__init);
        he->timercreated->fireat =
            dg_time_out(ctx, dgi_time_member(ev, "FireAt"));

        if (he->timercreated->fireat == NULL) {
            return -1;
        }

        break;

    case DGI_EV_TIMER_FIRED:
        DGI_SET(TIMER_FIRED, timerfired, TimerFiredEvent,
                timer_fired_event__init);
        n = -1;
        (void) dgi_member_int(ev, "TimerId", &n);
        he->timerfired->timerid = dgi_i32(n);
        he->timerfired->fireat =
            dg_time_out(ctx, dgi_time_member(ev, "FireAt"));

        if (he->timerfired->fireat == NULL) {
            return -1;
        }

        break;

    case DGI_EV_ORCH_STARTED:
        DGI_SET(ORCHESTRATOR_STARTED, orchestratorstarted,
                OrchestratorStartedEvent, orchestrator_started_event__init);
        break;

    case DGI_EV_ORCH_COMPLETED:
        DGI_SET(ORCHESTRATOR_COMPLETED, orchestratorcompleted,
                OrchestratorCompletedEvent,
                orchestrator_completed_event__init);
        break;

    case DGI_EV_SENT:
        DGI_SET(EVENT_SENT, eventsent, EventSentEvent,
                event_sent_event__init);
        (void) dgi_member_text(ctx, ev, "InstanceId", &s);
        he->eventsent->instanceid = dgi_bytes(s);
        (void) dgi_member_text(ctx, ev, "Name", &s);
        he->eventsent->name = dgi_bytes(s);
        he->eventsent->input = dgi_value_out(ctx, dgi_member(ev, "Input"));
        break;

    case DGI_EV_RAISED:
        DGI_SET(EVENT_RAISED, eventraised, EventRaisedEvent,
                event_raised_event__init);
        (void) dgi_member_text(ctx, ev, "Name", &s);
        he->eventraised->name = dgi_bytes(s);
        he->eventraised->input = dgi_value_out(ctx,
                                               dgi_member(ev, "Input"));
        break;

    case DGI_EV_SUSPENDED:
        DGI_SET(EXECUTION_SUSPENDED, executionsuspended,
                ExecutionSuspendedEvent, execution_suspended_event__init);
        (void) dgi_member_text(ctx, ev, "Reason", &s);
        he->executionsuspended->input = dgi_value_out(ctx, s);
        break;

    case DGI_EV_RESUMED:
        DGI_SET(EXECUTION_RESUMED, executionresumed, ExecutionResumedEvent,
                execution_resumed_event__init);
        (void) dgi_member_text(ctx, ev, "Reason", &s);
        he->executionresumed->input = dgi_value_out(ctx, s);
        break;

    case DGI_EV_REWOUND:
        DGI_SET(EXECUTION_REWOUND, executionrewound, ExecutionRewoundEvent,
                execution_rewound_event__init);
        (void) dgi_member_text(ctx, ev, "Reason", &s);
        he->executionrewound->reason = dgi_value_out(ctx, s);
        break;

    case DGI_EV_ENTITY_CALLED:
        DGI_SET(ENTITY_OPERATION_CALLED, entityoperationcalled,
                EntityOperationCalledEvent,
                entity_operation_called_event__init);
        (void) dgi_member_text(ctx, ev, "RequestId", &s);
        he->entityoperationcalled->requestid = dgi_bytes(s);
        (void) dgi_member_text(ctx, ev, "Operation", &s);
        he->entityoperationcalled->operation = dgi_bytes(s);
        he->entityoperationcalled->input =
            dgi_value_out(ctx, dgi_member(ev, "Input"));
        (void) dgi_member_text(ctx, ev, "TargetInstanceId", &s);
        he->entityoperationcalled->targetinstanceid = dgi_value_out(ctx, s);
        break;

    case DGI_EV_ENTITY_SIGNALED:
        DGI_SET(ENTITY_OPERATION_SIGNALED, entityoperationsignaled,
                EntityOperationSignaledEvent,
                entity_operation_signaled_event__init);
        (void) dgi_member_text(ctx, ev, "RequestId", &s);
        he->entityoperationsignaled->requestid = dgi_bytes(s);
        (void) dgi_member_text(ctx, ev, "Operation", &s);
        he->entityoperationsignaled->operation = dgi_bytes(s);
        he->entityoperationsignaled->input =
            dgi_value_out(ctx, dgi_member(ev, "Input"));
        (void) dgi_member_text(ctx, ev, "TargetInstanceId", &s);
        he->entityoperationsignaled->targetinstanceid =
            dgi_value_out(ctx, s);
        break;

    case DGI_EV_ENTITY_LOCK_REQUESTED:
        DGI_SET(ENTITY_LOCK_REQUESTED, entitylockrequested,
                EntityLockRequestedEvent,
                entity_lock_requested_event__init);
        (void) dgi_member_text(ctx, ev, "CriticalSectionId", &s);
        he->entitylockrequested->criticalsectionid = dgi_bytes(s);
        n = 0;
        (void) dgi_member_int(ev, "Position", &n);
        he->entitylockrequested->position = dgi_i32(n);

        if (dgi_lock_set(ctx, dgi_member(ev, "LockSet"),
                         he->entitylockrequested) != 0)
        {
            return -1;
        }

        break;

    case DGI_EV_ENTITY_UNLOCK_SENT:
        DGI_SET(ENTITY_UNLOCK_SENT, entityunlocksent, EntityUnlockSentEvent,
                entity_unlock_sent_event__init);
        (void) dgi_member_text(ctx, ev, "CriticalSectionId", &s);
        he->entityunlocksent->criticalsectionid = dgi_bytes(s);
        (void) dgi_member_text(ctx, ev, "TargetInstanceId", &s);
        he->entityunlocksent->targetinstanceid = dgi_value_out(ctx, s);
        break;

    case DGI_EV_ENTITY_COMPLETED:
        DGI_SET(ENTITY_OPERATION_COMPLETED, entityoperationcompleted,
                EntityOperationCompletedEvent,
                entity_operation_completed_event__init);
        (void) dgi_member_text(ctx, ev, "RequestId", &s);
        he->entityoperationcompleted->requestid = dgi_bytes(s);
        he->entityoperationcompleted->output =
            dgi_value_out(ctx, dgi_member(ev, "Output"));
        break;

    case DGI_EV_ENTITY_FAILED:
        DGI_SET(ENTITY_OPERATION_FAILED, entityoperationfailed,
                EntityOperationFailedEvent,
                entity_operation_failed_event__init);
        (void) dgi_member_text(ctx, ev, "RequestId", &s);
        he->entityoperationfailed->requestid = dgi_bytes(s);
        he->entityoperationfailed->failuredetails =
            dgi_failure_out(ctx, dgi_member(ev, "Reason"),
                            dgi_member(ev, "Details"));

        if (he->entityoperationfailed->failuredetails == NULL) {
            return -1;
        }

        break;

    case DGI_EV_ENTITY_LOCK_GRANTED:
        DGI_SET(ENTITY_LOCK_GRANTED, entitylockgranted,
                EntityLockGrantedEvent, entity_lock_granted_event__init);
        (void) dgi_member_text(ctx, ev, "CriticalSectionId", &s);
        he->entitylockgranted->criticalsectionid = dgi_bytes(s);
        break;

    default:
        /* a kind this codec does not know: its JSON, for the curious */
        DGI_SET(GENERIC_EVENT, genericevent, GenericEvent,
                generic_event__init);
        he->genericevent->data = dgi_value_out(ctx, ev);
        break;
    }

#undef DGI_SET

    return 0;
}


/* the guessed ids of the execution's sends, moved by base */

static void
dgi_events_shift(dg_events_t *h, int64_t base)
{
    size_t         i;
    HistoryEvent  *he;

    for (i = h->from; i < h->n; i++) {
        he = h->events[i];

        /* before the first known id, every numbered event is a guess */

        if (he->event_type_case == HISTORY_EVENT__EVENT_TYPE_EVENT_SENT
            && he->eventid >= 0)
        {
            he->eventid = dgi_i32(he->eventid + base);
        }
    }
}


static int
dgi_event_out(dg_ctx_t *ctx, ds_str_t event, dg_events_t *h,
    HistoryEvent **out)
{
    int64_t        id;
    dgi_ev_e       type;
    HistoryEvent  *he;

    he = dgi_sub(ctx, HistoryEvent, history_event__init);
    if (he == NULL) {
        goto nomem;
    }

    type = dgi_ev_type(ctx, event);

    id = -1;
    (void) dgi_member_int(event, "EventId", &id);

    if (h != NULL) {
        if (type == DGI_EV_STARTED) {
            /*
             * a new execution numbers its actions afresh; a send before
             * any known id is guessed from 1, the JavaScript and Python
             * SDKs' first id (and older versions' guess)
             */
            h->last_id = 0;
            h->known = 0;
            h->guessed = 0;
            h->from = h->n;

        } else if (type == DGI_EV_SENT && id < 0) {
            id = h->last_id + 1;

            if (!h->known) {
                h->guessed++;
            }

        } else if (id >= 0 && !h->known) {
            h->known = 1;

            /*
             * the sequence started at id - guessed, not at 1 (0 in the
             * .NET, Java and Go SDKs): renumber by the difference
             */

            if (h->guessed && id >= (int64_t) h->guessed
                && id - (int64_t) h->guessed != 1)
            {
                dgi_events_shift(h, id - (int64_t) h->guessed - 1);
            }
        }

        if (id > h->last_id) {
            h->last_id = id;
        }
    }

    he->eventid = dgi_i32(id);
    he->timestamp = dg_time_out(ctx, dgi_time_member(event, "Timestamp"));

    if (he->timestamp == NULL || dgi_event_body(ctx, type, event, he, h) != 0
        || ctx->nomem)
    {
        goto nomem;
    }

    *out = he;

    return DG_OK;

nomem:

    return dg_status_set(&ctx->status, DG_RESOURCE_EXHAUSTED,
                         "out of memory");
}


int
dg_event_out(dg_ctx_t *ctx, ds_str_t event, HistoryEvent **out)
{
    return dgi_event_out(ctx, event, NULL, out);
}


void
dg_events_init(dg_events_t *ev, dg_ctx_t *ctx)
{
    memset(ev, 0, sizeof(dg_events_t));

    ev->ctx = ctx;
    ev->rc = DG_OK;
    ev->last_id = 0;
}


int
dg_events_instance(dg_events_t *ev, ds_str_t id, uint64_t execution)
{
    size_t                   i;
    ds_str_t                 exec;
    HistoryEvent            *he;
    OrchestrationInstance   *oi;

    oi = NULL;

    for (i = 0; i < ev->n; i++) {
        he = ev->events[i];

        if (he->event_type_case != HISTORY_EVENT__EVENT_TYPE_EXECUTION_STARTED
            || he->executionstarted->orchestrationinstance != NULL)
        {
            continue;
        }

        /* one for all: the store holds the current execution's only */

        if (oi == NULL) {
            if (dg_execution_out(ev->ctx, execution, &exec) != DG_OK) {
                return ev->ctx->status.code;
            }

            oi = dgi_instance_out(ev->ctx, id, exec);
            if (oi == NULL) {
                return dg_status_set(&ev->ctx->status,
                                     DG_RESOURCE_EXHAUSTED,
                                     "out of memory");
            }
        }

        he->executionstarted->orchestrationinstance = oi;
    }

    return DG_OK;
}


void
dg_events_next(dg_events_t *ev)
{
    ev->events = NULL;
    ev->n = 0;
    ev->size = 0;
    ev->rc = DG_OK;

    /*
     * sends guessed in an earlier chunk went out as they were; their
     * count stays, as the sequence's start is told by the same sum
     */
    ev->from = 0;
}


int
dg_events_add(void *data, uint64_t seq, ds_str_t event)
{
    size_t          size;
    dg_events_t    *ev = data;
    HistoryEvent  **events;

    (void) seq;

    if (ev->rc != DG_OK) {
        return 1;
    }

    if (ev->n == ev->size) {
        size = ev->size ? ev->size * 2 : 16;

        events = dgi_alloc(ev->ctx->mem, size * sizeof(HistoryEvent *));
        if (events == NULL) {
            ev->rc = dg_status_set(&ev->ctx->status, DG_RESOURCE_EXHAUSTED,
                                   "out of memory");
            return 1;
        }

        if (ev->n) {
            memcpy(events, ev->events, ev->n * sizeof(HistoryEvent *));
        }

        ev->events = events;
        ev->size = size;
    }

    ev->rc = dgi_event_out(ev->ctx, event, ev, &ev->events[ev->n]);

    if (ev->rc != DG_OK) {
        return 1;
    }

    ev->n++;

    return 0;
}
