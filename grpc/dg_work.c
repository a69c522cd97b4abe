
/*
 * Copyright (C) ngx_durable authors
 *
 * Work items: completion tokens, claimed items as WorkItem messages, and
 * the completions and abandons of the worker's calls as operations.
 */


#include <stdio.h>
#include <string.h>

#include "durable_grpc.h"
#include "dg_internal.h"


/*
 * A completion token is "1" and the base64url (no padding) of: the kind
 * (1 byte), the lease (DS_LEASE_LEN), the task id (8, big-endian), the
 * id's length (2, big-endian), the id, the key.
 */

#define DGI_TOKEN_HEAD      (1 + DS_LEASE_LEN + 8 + 2)
#define DGI_TOKEN_MAX       (DGI_TOKEN_HEAD + DS_ID_MAX + DS_ID_MAX)

/* a signal's request id, made of its queue seq: 8-4-4-4-12 hex digits */
#define DGI_SEQ_GUID_LEN    36


/* the long names protoc-c gives oneof cases */
#define DGI_ACT_SCHEDULE_TASK                                                \
    ORCHESTRATOR_ACTION__ORCHESTRATOR_ACTION_TYPE_SCHEDULE_TASK
#define DGI_ACT_CREATE_SUB_ORCHESTRATION                                     \
    ORCHESTRATOR_ACTION__ORCHESTRATOR_ACTION_TYPE_CREATE_SUB_ORCHESTRATION
#define DGI_ACT_CREATE_TIMER                                                 \
    ORCHESTRATOR_ACTION__ORCHESTRATOR_ACTION_TYPE_CREATE_TIMER
#define DGI_ACT_SEND_EVENT                                                   \
    ORCHESTRATOR_ACTION__ORCHESTRATOR_ACTION_TYPE_SEND_EVENT
#define DGI_ACT_COMPLETE_ORCHESTRATION                                       \
    ORCHESTRATOR_ACTION__ORCHESTRATOR_ACTION_TYPE_COMPLETE_ORCHESTRATION
#define DGI_ACT_TERMINATE_ORCHESTRATION                                      \
    ORCHESTRATOR_ACTION__ORCHESTRATOR_ACTION_TYPE_TERMINATE_ORCHESTRATION
#define DGI_ACT_SEND_ENTITY_MESSAGE                                          \
    ORCHESTRATOR_ACTION__ORCHESTRATOR_ACTION_TYPE_SEND_ENTITY_MESSAGE
#define DGI_ACT_REWIND_ORCHESTRATION                                         \
    ORCHESTRATOR_ACTION__ORCHESTRATOR_ACTION_TYPE_REWIND_ORCHESTRATION
#define DGI_ENTITY_SIGNAL                                                    \
    SEND_ENTITY_MESSAGE_ACTION__ENTITY_MESSAGE_TYPE_ENTITY_OPERATION_SIGNALED
#define DGI_ENTITY_CALL                                                      \
    SEND_ENTITY_MESSAGE_ACTION__ENTITY_MESSAGE_TYPE_ENTITY_OPERATION_CALLED
#define DGI_ENTITY_LOCK                                                      \
    SEND_ENTITY_MESSAGE_ACTION__ENTITY_MESSAGE_TYPE_ENTITY_LOCK_REQUESTED
#define DGI_ENTITY_UNLOCK                                                    \
    SEND_ENTITY_MESSAGE_ACTION__ENTITY_MESSAGE_TYPE_ENTITY_UNLOCK_SENT


static const char  dgi_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


static int
dgi_nomem(dg_ctx_t *ctx)
{
    return dg_status_set(&ctx->status, DG_RESOURCE_EXHAUSTED,
                         "out of memory");
}


int
dg_token_out(dg_ctx_t *ctx, const dg_token_t *t, ProtobufCBinaryData *out)
{
    int       i;
    char     *p;
    size_t    n, len, o;
    uint8_t   raw[DGI_TOKEN_MAX];
    uint32_t  v;

    if (t->id.len > DS_ID_MAX || t->key.len > DS_ID_MAX) {
        return dg_status_set(&ctx->status, DG_INTERNAL,
                             "a work item's id is too long for a token");
    }

    raw[0] = (uint8_t) t->kind;
    memcpy(raw + 1, t->lease, DS_LEASE_LEN);

    for (i = 0; i < 8; i++) {
        raw[1 + DS_LEASE_LEN + i] = (uint8_t) ((uint64_t) t->task
                                               >> (56 - 8 * i));
    }

    raw[DGI_TOKEN_HEAD - 2] = (uint8_t) (t->id.len >> 8);
    raw[DGI_TOKEN_HEAD - 1] = (uint8_t) t->id.len;
    /* (an unused key may have no data pointer) */

    if (t->id.len) {
        memcpy(raw + DGI_TOKEN_HEAD, t->id.data, t->id.len);
    }

    if (t->key.len) {
        memcpy(raw + DGI_TOKEN_HEAD + t->id.len, t->key.data, t->key.len);
    }

    len = DGI_TOKEN_HEAD + t->id.len + t->key.len;

    p = dgi_alloc(ctx->mem, 1 + (len + 2) / 3 * 4);
    if (p == NULL) {
        return dgi_nomem(ctx);
    }

    o = 0;
    p[o++] = '1';

    for (n = 0; n < len; n += 3) {
        v = (uint32_t) raw[n] << 16;

        if (n + 1 < len) {
            v |= (uint32_t) raw[n + 1] << 8;
        }

        if (n + 2 < len) {
            v |= raw[n + 2];
        }

        p[o++] = dgi_b64[v >> 18];
        p[o++] = dgi_b64[(v >> 12) & 63];

        if (n + 1 < len) {
            p[o++] = dgi_b64[(v >> 6) & 63];
        }

        if (n + 2 < len) {
            p[o++] = dgi_b64[v & 63];
        }
    }

    out->data = (uint8_t *) p;
    out->len = o;

    return DG_OK;
}


static int
dgi_b64_value(uint8_t c)
{
    const char  *p;

    if (c == '\0') {
        return -1;
    }

    p = strchr(dgi_b64, c);

    return p ? (int) (p - dgi_b64) : -1;
}


int
dg_token_in(dg_ctx_t *ctx, ProtobufCBinaryData in, dg_token_t *t)
{
    int       i, d;
    char     *copy;
    size_t    n, len, bits, idlen;
    uint8_t   raw[DGI_TOKEN_MAX + 3];
    uint32_t  acc;
    uint64_t  task;

    if (in.len < 2 || in.data[0] != '1'
        || (in.len - 1) * 3 / 4 > sizeof(raw) - 3 || (in.len - 1) % 4 == 1)
    {
        goto bad;
    }

    len = 0;
    acc = 0;
    bits = 0;

    for (n = 1; n < in.len; n++) {
        d = dgi_b64_value(in.data[n]);
        if (d < 0) {
            goto bad;
        }

        acc = acc << 6 | (uint32_t) d;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            raw[len++] = (uint8_t) (acc >> bits);
        }

        acc &= (1u << bits) - 1;
    }

    if (len < DGI_TOKEN_HEAD || raw[0] > DS_WORK_ENTITY) {
        goto bad;
    }

    idlen = (size_t) raw[DGI_TOKEN_HEAD - 2] << 8 | raw[DGI_TOKEN_HEAD - 1];

    if (idlen > len - DGI_TOKEN_HEAD || idlen > DS_ID_MAX
        || len - DGI_TOKEN_HEAD - idlen > DS_ID_MAX)
    {
        goto bad;
    }

    copy = dgi_alloc(ctx->mem, len - DGI_TOKEN_HEAD + 1);
    if (copy == NULL) {
        return dgi_nomem(ctx);
    }

    memcpy(copy, raw + DGI_TOKEN_HEAD, len - DGI_TOKEN_HEAD);

    t->kind = (ds_work_kind_e) raw[0];
    memcpy(t->lease, raw + 1, DS_LEASE_LEN);

    task = 0;

    for (i = 0; i < 8; i++) {
        task = task << 8 | raw[1 + DS_LEASE_LEN + i];
    }

    t->task = (int64_t) task;
    t->id.data = copy;
    t->id.len = idlen;
    t->key.data = copy + idlen;
    t->key.len = len - DGI_TOKEN_HEAD - idlen;

    return DG_OK;

bad:

    return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                         "'completionToken' is not a token this server "
                         "gave out");
}


static int
dgi_token_kind(dg_ctx_t *ctx, ProtobufCBinaryData in, ds_work_kind_e kind,
    dg_token_t *t)
{
    static const char  *kinds[] = { "orchestration", "activity", "entity" };

    if (dg_token_in(ctx, in, t) != DG_OK) {
        return ctx->status.code;
    }

    if (t->kind != kind) {
        return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                             "'completionToken' is of an %s work item, not "
                             "of an %s one", kinds[t->kind], kinds[kind]);
    }

    return DG_OK;
}


/* the op's work inputs from a token */

static dg_token_t *
dgi_work_op(dg_ctx_t *ctx, ds_op_type_e type, const dg_token_t *t,
    ds_op_t *op)
{
    dg_token_t  *keep;

    /* the lease must outlive this call: op points at it */

    keep = dgi_alloc(ctx->mem, sizeof(dg_token_t));
    if (keep == NULL) {
        return NULL;
    }

    *keep = *t;

    memset(&op->in, 0, sizeof(op->in));
    op->type = type;
    op->in.work.kind = t->kind;
    op->in.work.id = t->id;
    op->in.work.key = t->key;
    op->in.work.task = t->task;
    op->in.work.lease = keep->lease;

    return keep;
}


/* --- claimed items --------------------------------------------------------*/

static int
dgi_orchestrator_item(dg_ctx_t *ctx, ds_op_t *op, const ds_work_item_t *item,
    WorkItem *wi)
{
    int                   rc;
    ds_str_t              exec;
    dg_events_t           past, fresh;
    HistoryEvent         *started;
    OrchestratorRequest  *req;

    req = dgi_alloc(ctx->mem, sizeof(OrchestratorRequest));
    if (req == NULL) {
        return dgi_nomem(ctx);
    }

    orchestrator_request__init(req);

    if (dg_execution_out(ctx, item->execution, &exec) != DG_OK) {
        return ctx->status.code;
    }

    req->instanceid = dgi_bytes(item->id);
    req->executionid = dgi_value_out(ctx, exec);

    dg_events_init(&past, ctx);
    past.instance_id = item->id;
    past.execution_id = exec;

    rc = ds_op_item_events(op, item, DS_LIST_HISTORY, dg_events_add, &past);

    if (past.rc != DG_OK) {
        return past.rc;
    }

    if (rc != DS_OK) {
        return dg_status_set(&ctx->status, DG_UNAVAILABLE,
                             "the store failed reading a history");
    }

    /*
     * The new events start with the episode's OrchestratorStarted: its
     * time is the orchestration's clock, and the completion records the
     * same event at the same time.
     */

    fresh = past;
    dg_events_next(&fresh);

    started = dgi_alloc(ctx->mem, sizeof(HistoryEvent));
    if (started == NULL) {
        return dgi_nomem(ctx);
    }

    history_event__init(started);
    started->eventid = -1;
    started->timestamp = dg_time_out(ctx, item->timestamp);
    started->event_type_case = HISTORY_EVENT__EVENT_TYPE_ORCHESTRATOR_STARTED;
    started->orchestratorstarted =
        dgi_alloc(ctx->mem, sizeof(OrchestratorStartedEvent));

    if (started->timestamp == NULL || started->orchestratorstarted == NULL) {
        return dgi_nomem(ctx);
    }

    orchestrator_started_event__init(started->orchestratorstarted);

    fresh.size = 16;
    fresh.events = dgi_alloc(ctx->mem, fresh.size * sizeof(HistoryEvent *));
    if (fresh.events == NULL) {
        return dgi_nomem(ctx);
    }

    fresh.events[fresh.n++] = started;

    rc = ds_op_item_events(op, item, DS_LIST_MESSAGES, dg_events_add,
                           &fresh);

    if (fresh.rc != DG_OK) {
        return fresh.rc;
    }

    if (rc != DS_OK) {
        return dg_status_set(&ctx->status, DG_UNAVAILABLE,
                             "the store failed reading messages");
    }

    req->pastevents = past.events;
    req->n_pastevents = past.n;
    req->newevents = fresh.events;
    req->n_newevents = fresh.n;

    if (req->executionid == NULL || ctx->nomem) {
        return dgi_nomem(ctx);
    }

    wi->request_case = WORK_ITEM__REQUEST_ORCHESTRATOR_REQUEST;
    wi->orchestratorrequest = req;

    return DG_OK;
}


static int
dgi_activity_item(dg_ctx_t *ctx, const ds_work_item_t *item, WorkItem *wi)
{
    ds_str_t          exec;
    ActivityRequest  *req;

    req = dgi_alloc(ctx->mem, sizeof(ActivityRequest));
    if (req == NULL) {
        return dgi_nomem(ctx);
    }

    activity_request__init(req);

    if (dg_execution_out(ctx, item->execution, &exec) != DG_OK) {
        return ctx->status.code;
    }

    /* a backend that does not say which execution an activity is of */
    if (item->execution == 0) {
        exec.len = 0;
    }

    req->name = dgi_bytes(item->name);
    req->input = dgi_value_out(ctx, item->input);
    req->taskid = (int32_t) item->task_id;

    /* a versioned activity: the worker dispatches by name and version */

    if (item->version.len) {
        req->version = dgi_value_out(ctx, item->version);
    }

    if (dgi_tags_out(ctx, item->tags,
                     &activity_request__tags_entry__descriptor,
                     &req->n_tags, (void ***) &req->tags)
        != DG_OK)
    {
        return ctx->status.code;
    }

    req->orchestrationinstance = dgi_instance_out(ctx, item->id, exec);

    if (req->orchestrationinstance == NULL || ctx->nomem) {
        return dgi_nomem(ctx);
    }

    wi->request_case = WORK_ITEM__REQUEST_ACTIVITY_REQUEST;
    wi->activityrequest = req;

    return DG_OK;
}


typedef struct {
    dg_ctx_t             *ctx;
    EntityBatchRequest   *req;
    size_t                size;
    int                   rc;
} dgi_ops_t;


/* one queued operation: {"operation":..,"input":..,"timestamp":..} */

static int
dgi_entity_op(void *data, uint64_t seq, ds_str_t json)
{
    int                 n;
    char               *id;
    size_t              size;
    ds_str_t            s;
    dgi_ops_t          *ops = data;
    dg_ctx_t           *ctx = ops->ctx;
    OperationRequest   *o, **a;

    if (ops->req->n_operations == ops->size) {
        size = ops->size ? ops->size * 2 : 8;

        a = dgi_alloc(ctx->mem, size * sizeof(OperationRequest *));
        if (a == NULL) {
            goto nomem;
        }

        if (ops->size) {
            memcpy(a, ops->req->operations,
                   ops->size * sizeof(OperationRequest *));
        }

        ops->req->operations = a;
        ops->size = size;
    }

    o = dgi_alloc(ctx->mem, sizeof(OperationRequest));
    if (o == NULL) {
        goto nomem;
    }

    operation_request__init(o);

    (void) dgi_member_text(ctx, json, "operation", &s);
    o->operation = dgi_bytes(s);
    o->input = dgi_value_out(ctx, dgi_member(json, "input"));

    /*
     * a request id when the store keeps one (a call's), else one made of
     * the queue's seq (a signal's), shaped as a GUID: the .NET SDK parses
     * every operation's request id as one and fails the batch otherwise
     */

    if (dgi_member_text(ctx, json, "requestId", &s) && s.len) {
        o->requestid = dgi_bytes(s);

    } else {
        id = dgi_alloc(ctx->mem, DGI_SEQ_GUID_LEN + 1);
        if (id == NULL) {
            goto nomem;
        }

        n = snprintf(id, DGI_SEQ_GUID_LEN + 1,
                     "00000000-0000-0000-%04x-%012llx",
                     (unsigned) ((seq >> 48) & 0xffff),
                     (unsigned long long) (seq & 0xffffffffffffULL));
        o->requestid.data = (uint8_t *) id;
        o->requestid.len = (size_t) n;
    }

    if (ctx->nomem) {
        goto nomem;
    }

    ops->req->operations[ops->req->n_operations++] = o;

    return 0;

nomem:

    ops->rc = dgi_nomem(ctx);

    return 1;
}


static int
dgi_entity_item(dg_ctx_t *ctx, ds_op_t *op, const ds_work_item_t *item,
    WorkItem *wi)
{
    int                  rc;
    dgi_ops_t            ops;
    EntityBatchRequest  *req;

    req = dgi_alloc(ctx->mem, sizeof(EntityBatchRequest));
    if (req == NULL) {
        return dgi_nomem(ctx);
    }

    entity_batch_request__init(req);

    req->instanceid = dgi_bytes(item->id);
    req->entitystate = dgi_value_out(ctx, item->input);

    ops.ctx = ctx;
    ops.req = req;
    ops.size = 0;
    ops.rc = DG_OK;

    rc = ds_op_item_events(op, item, DS_LIST_OPERATIONS, dgi_entity_op,
                           &ops);

    if (ops.rc != DG_OK) {
        return ops.rc;
    }

    if (rc != DS_OK) {
        return dg_status_set(&ctx->status, DG_UNAVAILABLE,
                             "the store failed reading operations");
    }

    if (ctx->nomem) {
        return dgi_nomem(ctx);
    }

    wi->request_case = WORK_ITEM__REQUEST_ENTITY_REQUEST;
    wi->entityrequest = req;

    return DG_OK;
}


int
dg_work_item_out(dg_ctx_t *ctx, ds_op_t *op, const ds_work_item_t *item,
    WorkItem **out)
{
    int          rc;
    WorkItem    *wi;
    dg_token_t   t;

    wi = dgi_alloc(ctx->mem, sizeof(WorkItem));
    if (wi == NULL) {
        return dgi_nomem(ctx);
    }

    work_item__init(wi);

    memset(&t, 0, sizeof(dg_token_t));
    t.kind = item->kind;
    memcpy(t.lease, item->lease, DS_LEASE_LEN);

    switch (item->kind) {

    case DS_WORK_ORCHESTRATION:
        t.id = item->id;
        rc = dgi_orchestrator_item(ctx, op, item, wi);
        break;

    case DS_WORK_ACTIVITY:
        t.id = item->id;
        t.task = item->task_id;
        rc = dgi_activity_item(ctx, item, wi);
        break;

    default:
        /*
         * entities are completed by name and key; the task id, unused,
         * carries the number of operations + 1, so that a completion
         * can be held to one result for each (0: a token of a server
         * that did not count them)
         */
        t.id = item->name;
        t.key = item->key;
        rc = dgi_entity_item(ctx, op, item, wi);

        if (rc == DG_OK) {
            t.task = (int64_t) wi->entityrequest->n_operations + 1;
        }

        break;
    }

    if (rc != DG_OK) {
        return rc;
    }

    rc = dg_token_out(ctx, &t, &wi->completiontoken);
    if (rc != DG_OK) {
        return rc;
    }

    *out = wi;

    return DG_OK;
}


/* --- completions ----------------------------------------------------------*/

static const char *
dgi_action_kind(const OrchestratorAction *a)
{
    switch (a->orchestrator_action_type_case) {
    case DGI_ACT_SCHEDULE_TASK:
        return "scheduleTask";
    case DGI_ACT_CREATE_SUB_ORCHESTRATION:
        return "createSubOrchestration";
    case DGI_ACT_CREATE_TIMER:
        return "createTimer";
    case DGI_ACT_SEND_EVENT:
        return "sendEvent";
    case DGI_ACT_COMPLETE_ORCHESTRATION:
        return "completeOrchestration";
    case DGI_ACT_TERMINATE_ORCHESTRATION:
        return "terminateOrchestration";
    case DGI_ACT_SEND_ENTITY_MESSAGE:
        return "sendEntityMessage";
    case DGI_ACT_REWIND_ORCHESTRATION:
        return "rewindOrchestration";
    default:
        return "(none)";
    }
}


/*
 * Events carried over into a new execution: the SDKs carry the external
 * events an orchestration had not yet taken, as EventRaised history
 * events; the store wants them as it records them.
 */

static int
dgi_carryover_in(dg_ctx_t *ctx, const CompleteOrchestrationAction *c,
    size_t i, ds_action_t *d)
{
    int                  rc;
    char                *p, field[128];
    size_t               k, n, len;
    int64_t              at;
    ds_str_t            *events, name, input;
    const HistoryEvent  *he;

    if (c->n_carryoverevents == 0) {
        return DG_OK;
    }

    events = dgi_alloc(ctx->mem, c->n_carryoverevents * sizeof(ds_str_t));
    if (events == NULL) {
        return dgi_nomem(ctx);
    }

    for (k = 0; k < c->n_carryoverevents; k++) {
        he = c->carryoverevents[k];

        if (he->event_type_case != HISTORY_EVENT__EVENT_TYPE_EVENT_RAISED) {
            return dg_status_set(&ctx->status, DG_UNIMPLEMENTED,
                                 "action %zu (completeOrchestration): "
                                 "'carryoverEvents[%zu]' is not an "
                                 "eventRaised event, the only kind carried "
                                 "over", i, k);
        }

        snprintf(field, sizeof(field), "actions[%zu].completeOrchestration."
                 "carryoverEvents[%zu].input", i, k);

        rc = dgi_json_in(ctx, he->eventraised->input, field, &input);
        if (rc != DG_OK) {
            return rc;
        }

        snprintf(field, sizeof(field), "actions[%zu].completeOrchestration."
                 "carryoverEvents[%zu].timestamp", i, k);

        rc = dg_time_in(ctx, he->timestamp, field, &at);
        if (rc != DG_OK) {
            return rc;
        }

        name = dgi_str(he->eventraised->name);

        /* {"EventType":"EventRaised","Timestamp":"..","EventId":-1,
            "Name":"..","Input":..} */

        len = sizeof("{\"EventType\":\"EventRaised\",\"Timestamp\":\"\","
                     "\"EventId\":-1,\"Name\":\"\",\"Input\":null}")
              + DS_TIME_FRAC_LEN + ds_json_escape_len(name.data, name.len)
              + input.len;

        p = dgi_alloc(ctx->mem, len);
        if (p == NULL) {
            return dgi_nomem(ctx);
        }

        n = (size_t) sprintf(p, "{\"EventType\":\"EventRaised\","
                             "\"Timestamp\":\"");
        n += ds_time_format_frac(at, p + n);
        n += (size_t) sprintf(p + n, "\",\"EventId\":-1,\"Name\":\"");
        n += ds_json_escape(name.data, name.len, p + n);
        n += (size_t) sprintf(p + n, "\",\"Input\":");

        if (input.len) {
            memcpy(p + n, input.data, input.len);
            n += input.len;

        } else {
            n += (size_t) sprintf(p + n, "null");
        }

        p[n++] = '}';

        events[k].data = p;
        events[k].len = n;
    }

    d->carryover = events;
    d->ncarryover = c->n_carryoverevents;

    return DG_OK;
}


/* entity calls and critical sections (a signal is an action of its own) */

static int
dgi_entity_action_in(dg_ctx_t *ctx, const SendEntityMessageAction *em,
    size_t i, ds_action_t *d)
{
    int                                 rc;
    char                                field[128];
    size_t                              k;
    ds_str_t                           *set;
    const StringValue                  *target;
    const EntityUnlockSentEvent        *unlock;
    const EntityOperationCalledEvent   *call;
    const EntityLockRequestedEvent     *lock;

    switch (em->entity_message_type_case) {

    case DGI_ENTITY_CALL:
        call = em->entityoperationcalled;
        d->type = DS_ACT_CALL_ENTITY;
        d->name = dgi_str(call->operation);
        d->request_id = dgi_str(call->requestid);
        target = call->targetinstanceid;

        snprintf(field, sizeof(field), "actions[%zu].sendEntityMessage."
                 "entityOperationCalled.input", i);

        rc = dgi_json_in(ctx, call->input, field, &d->input);
        if (rc != DG_OK) {
            return rc;
        }

        break;

    case DGI_ENTITY_LOCK:
        lock = em->entitylockrequested;
        d->type = DS_ACT_LOCK_ENTITIES;
        d->request_id = dgi_str(lock->criticalsectionid);

        set = dgi_alloc(ctx->mem, (lock->n_lockset + 1) * sizeof(ds_str_t));
        if (set == NULL) {
            return dgi_nomem(ctx);
        }

        for (k = 0; k < lock->n_lockset; k++) {
            set[k] = dgi_str(lock->lockset[k]);
        }

        d->lock_set = set;
        d->nlock = lock->n_lockset;

        return DG_OK;

    case DGI_ENTITY_UNLOCK:
        unlock = em->entityunlocksent;
        d->type = DS_ACT_UNLOCK_ENTITY;
        d->request_id = dgi_str(unlock->criticalsectionid);
        target = unlock->targetinstanceid;
        break;

    default:
        return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                             "action %zu (sendEntityMessage) has no "
                             "message", i);
    }

    if (target == NULL) {
        return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                             "action %zu (sendEntityMessage): "
                             "'targetInstanceId' is missing", i);
    }

    snprintf(field, sizeof(field), "actions[%zu].sendEntityMessage."
             "targetInstanceId", i);

    return dg_entity_id(ctx, target->value, field, &d->entity_name,
                        &d->entity_key);
}


/* one action; i is its index in the response, for the messages */

static int
dgi_action_in(dg_ctx_t *ctx, const OrchestratorAction *a, size_t i,
    ds_action_t *d)
{
    int                                  rc;
    char                                 field[64], target[128];
    const CompleteOrchestrationAction   *c;
    const SendEntityMessageAction       *em;
    const EntityOperationSignaledEvent  *sig;

    memset(d, 0, sizeof(ds_action_t));
    d->id = a->id;

    snprintf(field, sizeof(field), "actions[%zu].%s", i, dgi_action_kind(a));

    switch (a->orchestrator_action_type_case) {

    case DGI_ACT_SCHEDULE_TASK:
        d->type = DS_ACT_SCHEDULE_ACTIVITY;
        d->name = dgi_str(a->scheduletask->name);

        if (a->scheduletask->version != NULL) {
            d->version = dgi_str(a->scheduletask->version->value);
        }

        rc = dgi_tags_in(ctx, a->scheduletask->n_tags,
                         (void **) a->scheduletask->tags, &d->tags);
        if (rc != DG_OK) {
            return rc;
        }

        return dgi_json_in(ctx, a->scheduletask->input, field, &d->input);

    case DGI_ACT_CREATE_SUB_ORCHESTRATION:
        d->type = DS_ACT_START_SUB;
        d->name = dgi_str(a->createsuborchestration->name);
        d->instance_id = dgi_str(a->createsuborchestration->instanceid);

        if (a->createsuborchestration->version != NULL) {
            d->version = dgi_str(a->createsuborchestration->version->value);
        }

        rc = dgi_tags_in(ctx, a->createsuborchestration->n_tags,
                         (void **) a->createsuborchestration->tags,
                         &d->tags);
        if (rc != DG_OK) {
            return rc;
        }

        return dgi_json_in(ctx, a->createsuborchestration->input, field,
                           &d->input);

    case DGI_ACT_CREATE_TIMER:
        d->type = DS_ACT_CREATE_TIMER;

        if (a->createtimer->fireat == NULL) {
            return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                                 "action %zu (createTimer): 'fireAt' is "
                                 "missing", i);
        }

        snprintf(target, sizeof(target), "actions[%zu].createTimer.fireAt",
                 i);

        return dg_time_in(ctx, a->createtimer->fireat, target, &d->fire_at);

    case DGI_ACT_SEND_EVENT:
        d->type = DS_ACT_RAISE_EVENT;
        d->name = dgi_str(a->sendevent->name);

        if (a->sendevent->instance != NULL) {
            d->instance_id = dgi_str(a->sendevent->instance->instanceid);
        }

        if (d->instance_id.len == 0) {
            return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                                 "action %zu (sendEvent): "
                                 "'instance.instanceId' is missing", i);
        }

        return dgi_json_in(ctx, a->sendevent->data, field, &d->input);

    case DGI_ACT_COMPLETE_ORCHESTRATION:
        c = a->completeorchestration;

        switch (c->orchestrationstatus) {

        case ORCHESTRATION_STATUS__ORCHESTRATION_STATUS_COMPLETED:
            d->type = DS_ACT_COMPLETE;
            return dgi_json_in(ctx, c->result, field, &d->input);

        case ORCHESTRATION_STATUS__ORCHESTRATION_STATUS_CONTINUED_AS_NEW:
            d->type = DS_ACT_CONTINUE_AS_NEW;

            if (c->newversion != NULL) {
                d->version = dgi_str(c->newversion->value);
            }

            rc = dgi_carryover_in(ctx, c, i, d);
            if (rc != DG_OK) {
                return rc;
            }

            return dgi_json_in(ctx, c->result, field, &d->input);

        case ORCHESTRATION_STATUS__ORCHESTRATION_STATUS_FAILED:
            d->type = DS_ACT_FAIL;

            if (c->failuredetails != NULL) {
                return dgi_failure_in(ctx, c->failuredetails, &d->reason,
                                      &d->details);
            }

            return dgi_json_in(ctx, c->result, field, &d->reason);

        default:
            return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                                 "action %zu (completeOrchestration): "
                                 "'orchestrationStatus' %d is not "
                                 "Completed, Failed or ContinuedAsNew", i,
                                 (int) c->orchestrationstatus);
        }

    case DGI_ACT_SEND_ENTITY_MESSAGE:
        em = a->sendentitymessage;

        if (em->entity_message_type_case != DGI_ENTITY_SIGNAL) {
            return dgi_entity_action_in(ctx, em, i, d);
        }

        sig = em->entityoperationsignaled;
        d->type = DS_ACT_SIGNAL_ENTITY;
        d->name = dgi_str(sig->operation);
        /* with a request id it is recorded as the SDKs replay it */
        d->request_id = dgi_str(sig->requestid);

        if (sig->targetinstanceid == NULL) {
            return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                                 "action %zu (sendEntityMessage): "
                                 "'entityOperationSignaled."
                                 "targetInstanceId' is missing", i);
        }

        snprintf(target, sizeof(target), "actions[%zu].sendEntityMessage."
                 "entityOperationSignaled.targetInstanceId", i);

        rc = dg_entity_id(ctx, sig->targetinstanceid->value, target,
                          &d->entity_name, &d->entity_key);
        if (rc != DG_OK) {
            return rc;
        }

        snprintf(target, sizeof(target), "actions[%zu].sendEntityMessage."
                 "entityOperationSignaled.scheduledTime", i);

        rc = dg_time_in(ctx, sig->scheduledtime, target, &d->fire_at);
        if (rc != DG_OK) {
            return rc;
        }

        return dgi_json_in(ctx, sig->input, field, &d->input);

    case DGI_ACT_TERMINATE_ORCHESTRATION:
        /* the reason is the terminated instance's output, JSON */
        d->type = DS_ACT_TERMINATE;
        d->instance_id = dgi_str(a->terminateorchestration->instanceid);
        d->recurse = a->terminateorchestration->recurse;

        return dgi_json_in(ctx, a->terminateorchestration->reason, field,
                           &d->input);

    case DGI_ACT_REWIND_ORCHESTRATION:
        /*
         * the SDKs send it only in answer to an ExecutionRewound event
         * after a failed execution; the store rewinds by itself and
         * never delivers one
         */
        return dg_status_set(&ctx->status, DG_UNIMPLEMENTED,
                             "action %zu (%s) is not supported", i,
                             dgi_action_kind(a));

    default:
        return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                             "action %zu has no type", i);
    }
}


/* the store's fault in a completion's actions, in the response's words */

static int
dgi_action_fault(dg_ctx_t *ctx, const OrchestratorResponse *res,
    const size_t *from, const ds_action_fault_t *f)
{
    char                       buf[160];
    size_t                     i;
    const char                *kind, *field;
    const OrchestratorAction  *a;

    i = from[f->index];
    a = res->actions[i];
    kind = dgi_action_kind(a);

    switch (f->field) {
    case DS_FIELD_ID:
        field = "id";
        break;
    case DS_FIELD_NAME:
        field = a->orchestrator_action_type_case
                == DGI_ACT_SEND_ENTITY_MESSAGE
                ? "entityOperationSignaled.operation" : "name";
        break;
    case DS_FIELD_INSTANCE_ID:
        field = a->orchestrator_action_type_case
                == DGI_ACT_SEND_EVENT
                ? "instance.instanceId" : "instanceId";
        break;
    case DS_FIELD_VALUE:
        field = "version, tags or lockSet";
        break;
    case DS_FIELD_REQUEST_ID:
        field = "requestId or criticalSectionId";
        break;
    default:
        field = "targetInstanceId";
        break;
    }

    switch (f->error) {

    case DS_ACTION_NOT_LAST:
        return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                             "action %zu (%s) ends the orchestration but is "
                             "not the last action", i, kind);

    case DS_ACTION_ID_NEGATIVE:
        return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                             "action %zu (%s): 'id' must not be negative",
                             i, kind);

    case DS_ACTION_ID_TWICE:
        return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                             "action %zu (%s): 'id' %lld is the id of "
                             "action %zu too", i, kind,
                             (long long) a->id, from[f->other]);

    case DS_ACTION_NAME:
        (void) ds_name_fault_text(&f->name, buf, sizeof(buf));

        return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                             "action %zu (%s): '%s' %s", i, kind, field,
                             buf);

    default:
        return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                             "action %zu (%s): '%s' is not valid", i, kind,
                             field);
    }
}


/*
 * A completion refused for what it holds (INVALID_ARGUMENT,
 * UNIMPLEMENTED) under a token that is valid: the SDKs neither retry nor
 * abandon it, so the item would come back at every lease expiry and the
 * instance stay Running for ever. The work fails instead, with the
 * refusal as its failure (ErrorType the status name, not retriable); the
 * call is answered as a completion. 0: refused, reason and details set.
 */

static int
dgi_refused(dg_ctx_t *ctx, int rc, ds_str_t *reason, ds_str_t *details)
{
    int                 n;
    char               *p;
    const char         *code;
    TaskFailureDetails  fd;

    if (rc != DG_INVALID_ARGUMENT && rc != DG_UNIMPLEMENTED) {
        return -1;
    }

    code = dg_code_name(rc);

    p = dgi_alloc(ctx->mem, ctx->status.len + 64);
    if (p == NULL) {
        (void) dgi_nomem(ctx);
        return -1;
    }

    n = sprintf(p, "the server refused the completion: ");
    memcpy(p + n, ctx->status.message, ctx->status.len);

    task_failure_details__init(&fd);
    fd.errortype.data = (uint8_t *) code;
    fd.errortype.len = strlen(code);
    fd.errormessage.data = (uint8_t *) p;
    fd.errormessage.len = (size_t) n + ctx->status.len;
    fd.isnonretriable = 1;

    if (dgi_failure_in(ctx, &fd, reason, details) != DG_OK) {
        return -1;
    }

    ctx->status.code = DG_OK;
    ctx->status.len = 0;

    return 0;
}


static int
dgi_orchestrator_actions_in(dg_ctx_t *ctx, const OrchestratorResponse *res,
    const dg_token_t *t, ds_op_t *op)
{
    int                rc;
    size_t             i, n, *from;
    ds_action_t       *actions;
    ds_action_fault_t  f;

    if (res->ispartial) {
        return dg_status_set(&ctx->status, DG_UNIMPLEMENTED,
                             "chunked completions ('isPartial') are not "
                             "supported");
    }

    /*
     * The custom status first: the finishing action must stay last.
     * Every response sets it, an absent one to none (null), as the
     * reference sidecar does: an SDK replays the orchestration at each
     * episode, so the status is the one its code set in this replay,
     * and a status it no longer sets is gone.
     */

    n = res->n_actions + 1;

    actions = dgi_alloc(ctx->mem, (n + 1) * sizeof(ds_action_t));
    from = dgi_alloc(ctx->mem, (n + 1) * sizeof(size_t));

    if (actions == NULL || from == NULL) {
        return dgi_nomem(ctx);
    }

    memset(&actions[0], 0, sizeof(ds_action_t));
    actions[0].type = DS_ACT_SET_CUSTOM_STATUS;
    from[0] = 0;

    rc = dgi_json_in(ctx, res->customstatus, "customStatus",
                     &actions[0].input);
    if (rc != DG_OK) {
        return rc;
    }

    n = 1;

    for (i = 0; i < res->n_actions; i++, n++) {
        rc = dgi_action_in(ctx, res->actions[i], i, &actions[n]);
        if (rc != DG_OK) {
            return rc;
        }

        from[n] = i;
    }

    rc = ds_work_actions_check(t->id, actions, n, &f);

    if (rc == DS_INVALID) {
        /* actions[0] is always the custom status's: no action of res */

        if (f.index == 0) {
            return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                                 "'customStatus' is not valid");
        }

        return dgi_action_fault(ctx, res, from, &f);
    }

    if (rc != DS_OK) {
        return dgi_nomem(ctx);
    }

    if (res->numeventsprocessed && res->numeventsprocessed->value < 0) {
        return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                             "'numEventsProcessed' must not be negative, "
                             "not %d", (int) res->numeventsprocessed->value);
    }

    if (dgi_work_op(ctx, DS_OP_WORK_COMPLETE, t, op) == NULL) {
        return dgi_nomem(ctx);
    }

    op->in.work.actions = actions;
    op->in.work.nactions = n;

    /*
     * the worker ran the episode on the first messages of newEvents
     * (those after its OrchestratorStarted) only: the others wait in
     * the inbox for the next episode; unset, it took them all
     */

    if (res->numeventsprocessed) {
        op->in.work.partial = 1;
        op->in.work.processed = (size_t) res->numeventsprocessed->value;
    }

    return DG_OK;
}


int
dg_orchestrator_done_in(dg_ctx_t *ctx, const OrchestratorResponse *res,
    ds_op_t *op)
{
    int           rc;
    dg_token_t    t;
    ds_action_t  *fail;

    rc = dgi_token_kind(ctx, res->completiontoken, DS_WORK_ORCHESTRATION,
                        &t);
    if (rc != DG_OK) {
        return rc;
    }

    if (res->instanceid.len
        && (res->instanceid.len != t.id.len
            || memcmp(res->instanceid.data, t.id.data, t.id.len) != 0))
    {
        return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                             "'instanceId' is not the instance of "
                             "'completionToken'");
    }

    rc = dgi_orchestrator_actions_in(ctx, res, &t, op);

    if (rc != DG_INVALID_ARGUMENT && rc != DG_UNIMPLEMENTED) {
        return rc;
    }

    fail = dgi_alloc(ctx->mem, sizeof(ds_action_t));
    if (fail == NULL) {
        return dgi_nomem(ctx);
    }

    /* the id the SDKs give a failure of their own */
    memset(fail, 0, sizeof(ds_action_t));
    fail->type = DS_ACT_FAIL;
    fail->id = -1;

    if (dgi_refused(ctx, rc, &fail->reason, &fail->details) != 0) {
        return ctx->status.code;
    }

    if (dgi_work_op(ctx, DS_OP_WORK_COMPLETE, &t, op) == NULL) {
        return dgi_nomem(ctx);
    }

    op->in.work.actions = fail;
    op->in.work.nactions = 1;

    return DG_OK;
}


int
dg_activity_done_in(dg_ctx_t *ctx, const ActivityResponse *res,
    ds_op_t *op)
{
    int         rc, failed;
    ds_str_t    result, reason, details;
    dg_token_t  t;

    rc = dgi_token_kind(ctx, res->completiontoken, DS_WORK_ACTIVITY, &t);
    if (rc != DG_OK) {
        return rc;
    }

    if ((res->instanceid.len
         && (res->instanceid.len != t.id.len
             || memcmp(res->instanceid.data, t.id.data, t.id.len) != 0))
        || (res->taskid && res->taskid != t.task))
    {
        return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                             "'instanceId' and 'taskId' are not the task "
                             "of 'completionToken'");
    }

    result.data = "";
    result.len = 0;
    reason = result;
    details = result;

    failed = res->failuredetails != NULL;

    if (failed) {
        rc = dgi_failure_in(ctx, res->failuredetails, &reason, &details);

    } else {
        rc = dgi_json_in(ctx, res->result, "result", &result);
    }

    if (rc != DG_OK) {
        if (dgi_refused(ctx, rc, &reason, &details) != 0) {
            return ctx->status.code;
        }

        failed = 1;
        result.len = 0;
    }

    if (dgi_work_op(ctx, DS_OP_WORK_COMPLETE, &t, op) == NULL) {
        return dgi_nomem(ctx);
    }

    op->in.work.failed = failed;
    op->in.work.result = result;
    op->in.work.reason = reason;
    op->in.work.details = details;

    return DG_OK;
}


/* the operations' results, in their order: calls get them back */

static int
dgi_entity_results_in(dg_ctx_t *ctx, const EntityBatchResult *res,
    ds_op_t *op)
{
    int                      rc;
    char                     field[64];
    size_t                   i;
    ds_entity_result_t      *r;
    const OperationResult   *o;

    if (res->n_results == 0) {
        return DG_OK;
    }

    r = dgi_alloc(ctx->mem, res->n_results * sizeof(ds_entity_result_t));
    if (r == NULL) {
        return dgi_nomem(ctx);
    }

    memset(r, 0, res->n_results * sizeof(ds_entity_result_t));

    for (i = 0; i < res->n_results; i++) {
        o = res->results[i];

        switch (o->result_type_case) {

        case OPERATION_RESULT__RESULT_TYPE_SUCCESS:
            snprintf(field, sizeof(field), "results[%zu].success.result", i);
            rc = dgi_json_in(ctx, o->success->result, field, &r[i].output);
            break;

        case OPERATION_RESULT__RESULT_TYPE_FAILURE:
            r[i].failed = 1;

            if (o->failure->failuredetails == NULL) {
                rc = DG_OK;
                break;
            }

            rc = dgi_failure_in(ctx, o->failure->failuredetails,
                                &r[i].reason, &r[i].details);
            break;

        default:
            rc = DG_OK;
            break;
        }

        if (rc != DG_OK) {
            return rc;
        }
    }

    op->in.work.results = r;
    op->in.work.nresults = res->n_results;

    return DG_OK;
}


/*
 * What the batch's operations sent: signals to entities and starts of
 * orchestrations (without a parent), each at its scheduledTime when one
 * is given (a signal then waits in a timer, a start is Pending till
 * then, as a scheduled CreateInstanceRequest is).
 */

static int
dgi_entity_actions_in(dg_ctx_t *ctx, const EntityBatchResult *res,
    ds_op_t *op)
{
    int                                 rc;
    char                                field[96];
    size_t                              i;
    ds_action_t                        *a;
    const OperationAction              *o;
    const SendSignalAction             *sig;
    const StartNewOrchestrationAction  *start;

    if (res->n_actions == 0) {
        return DG_OK;
    }

    a = dgi_alloc(ctx->mem, res->n_actions * sizeof(ds_action_t));
    if (a == NULL) {
        return dgi_nomem(ctx);
    }

    memset(a, 0, res->n_actions * sizeof(ds_action_t));

    for (i = 0; i < res->n_actions; i++) {
        o = res->actions[i];
        a[i].id = o->id;

        switch (o->operation_action_type_case) {

        case OPERATION_ACTION__OPERATION_ACTION_TYPE_SEND_SIGNAL:
            sig = o->sendsignal;
            a[i].type = DS_ACT_SIGNAL_ENTITY;

            snprintf(field, sizeof(field), "actions[%zu].sendSignal."
                     "instanceId", i);
            rc = dg_entity_id(ctx, sig->instanceid, field, &a[i].entity_name,
                              &a[i].entity_key);
            if (rc != DG_OK) {
                return rc;
            }

            snprintf(field, sizeof(field), "actions[%zu].sendSignal.name", i);
            rc = dgi_operation_in(ctx, sig->name, field, &a[i].name);
            if (rc != DG_OK) {
                return rc;
            }

            snprintf(field, sizeof(field), "actions[%zu].sendSignal.input",
                     i);
            rc = dgi_json_in(ctx, sig->input, field, &a[i].input);
            if (rc != DG_OK) {
                return rc;
            }

            snprintf(field, sizeof(field), "actions[%zu].sendSignal."
                     "scheduledTime", i);
            rc = dg_time_in(ctx, sig->scheduledtime, field, &a[i].fire_at);
            break;

        case OPERATION_ACTION__OPERATION_ACTION_TYPE_START_NEW_ORCHESTRATION:
            start = o->startneworchestration;
            a[i].type = DS_ACT_START_SUB;

            snprintf(field, sizeof(field), "actions[%zu]."
                     "startNewOrchestration.instanceId", i);
            rc = dgi_id_in(ctx, start->instanceid, field, &a[i].instance_id);
            if (rc != DG_OK) {
                return rc;
            }

            snprintf(field, sizeof(field), "actions[%zu]."
                     "startNewOrchestration.name", i);
            rc = dgi_name_in(ctx, start->name, field, &a[i].name);
            if (rc != DG_OK) {
                return rc;
            }

            if (start->version != NULL) {
                a[i].version = dgi_str(start->version->value);
            }

            snprintf(field, sizeof(field), "actions[%zu]."
                     "startNewOrchestration.input", i);
            rc = dgi_json_in(ctx, start->input, field, &a[i].input);
            if (rc != DG_OK) {
                return rc;
            }

            snprintf(field, sizeof(field), "actions[%zu]."
                     "startNewOrchestration.scheduledTime", i);
            rc = dg_time_in(ctx, start->scheduledtime, field, &a[i].fire_at);
            break;

        default:
            return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                                 "entity action %zu is neither sendSignal "
                                 "nor startNewOrchestration", i);
        }

        if (rc != DG_OK) {
            return rc;
        }
    }

    op->in.work.actions = a;
    op->in.work.nactions = res->n_actions;

    return DG_OK;
}


int
dg_entity_done_in(dg_ctx_t *ctx, const EntityBatchResult *res, ds_op_t *op)
{
    int         rc;
    ds_str_t    state, reason, details;
    dg_token_t  t;

    rc = dgi_token_kind(ctx, res->completiontoken, DS_WORK_ENTITY, &t);
    if (rc != DG_OK) {
        return rc;
    }

    if (res->failuredetails != NULL) {
        /*
         * the batch failed as a whole (the worker's own error): each of
         * its operations fails with these details, as the Scheduler
         * records it; results, state and actions are not read
         */

        rc = dgi_failure_in(ctx, res->failuredetails, &reason, &details);
        if (rc != DG_OK) {
            return rc;
        }

        if (dgi_work_op(ctx, DS_OP_WORK_COMPLETE, &t, op) == NULL) {
            return dgi_nomem(ctx);
        }

        op->in.work.failed = 1;
        op->in.work.reason = reason;
        op->in.work.details = details;

        return DG_OK;
    }

    /*
     * one result for each operation delivered: the store answers a call
     * left without one as completed with null and drops its operation,
     * so a short (or long) list is refused and nothing applied; the
     * lease stays, the batch comes back when it expires
     */

    if (t.task > 0 && (uint64_t) res->n_results != (uint64_t) t.task - 1) {
        return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                             "'results' has %zu results, the batch has "
                             "%lld operations", res->n_results,
                             (long long) t.task - 1);
    }

    rc = dgi_json_in(ctx, res->entitystate, "entityState", &state);
    if (rc != DG_OK) {
        return rc;
    }

    if (dgi_work_op(ctx, DS_OP_WORK_COMPLETE, &t, op) == NULL) {
        return dgi_nomem(ctx);
    }

    /* no state: the entity deleted it */
    op->in.work.delete_state = res->entitystate == NULL;
    op->in.work.result = state;

    rc = dgi_entity_results_in(ctx, res, op);
    if (rc != DG_OK) {
        return rc;
    }

    return dgi_entity_actions_in(ctx, res, op);
}


int
dg_abandon_in(dg_ctx_t *ctx, ds_work_kind_e kind, ProtobufCBinaryData token,
    ds_op_t *op)
{
    int         rc;
    dg_token_t  t;

    rc = dgi_token_kind(ctx, token, kind, &t);
    if (rc != DG_OK) {
        return rc;
    }

    if (dgi_work_op(ctx, DS_OP_WORK_ABANDON, &t, op) == NULL) {
        return dgi_nomem(ctx);
    }

    return DG_OK;
}


/* a renewal of the lease a token carries, by lease_us from now */

int
dg_renew_in(dg_ctx_t *ctx, ds_work_kind_e kind, ProtobufCBinaryData token,
    int64_t lease_us, ds_op_t *op)
{
    int         rc;
    dg_token_t  t;

    rc = dgi_token_kind(ctx, token, kind, &t);
    if (rc != DG_OK) {
        return rc;
    }

    if (dgi_work_op(ctx, DS_OP_WORK_RENEW, &t, op) == NULL) {
        return dgi_nomem(ctx);
    }

    op->in.work.lease_us = lease_us;

    return DG_OK;
}


/* --- the stream of work items ---------------------------------------------*/

int
dg_work_filter_in(dg_ctx_t *ctx, const GetWorkItemsRequest *req,
    ds_work_kind_e kind, ds_claim_filter_t *filter, size_t *concurrency)
{
    int                     rc;
    char                    field[64];
    size_t                  i, n;
    int32_t                 max;
    ds_str_t               *names, none;
    const char             *what;
    ds_name_fault_t         f;
    ProtobufCBinaryData     name;
    const WorkItemFilters  *wf;

    memset(filter, 0, sizeof(ds_claim_filter_t));
    none.data = "";
    none.len = 0;

    wf = req->workitemfilters;

    switch (kind) {

    case DS_WORK_ORCHESTRATION:
        max = req->maxconcurrentorchestrationworkitems;
        n = wf ? wf->n_orchestrations : 0;
        what = "orchestrations";
        break;

    case DS_WORK_ACTIVITY:
        max = req->maxconcurrentactivityworkitems;
        n = wf ? wf->n_activities : 0;
        what = "activities";
        break;

    default:
        max = req->maxconcurrententityworkitems;
        n = wf ? wf->n_entities : 0;
        what = "entities";
        break;
    }

    *concurrency = max > 0 ? (size_t) max : 0;

    if (n == 0) {
        return DG_OK;
    }

    if (n > DG_FILTER_NAMES_MAX) {
        return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                             "'workItemFilters.%s' has %zu names, more "
                             "than %d", what, n, DG_FILTER_NAMES_MAX);
    }

    names = dgi_alloc(ctx->mem, n * sizeof(ds_str_t));
    if (names == NULL) {
        return dgi_nomem(ctx);
    }

    for (i = 0; i < n; i++) {
        name = kind == DS_WORK_ORCHESTRATION ? wf->orchestrations[i]->name
               : kind == DS_WORK_ACTIVITY ? wf->activities[i]->name
               : wf->entities[i]->name;

        snprintf(field, sizeof(field), "workItemFilters.%s[%zu].name", what,
                 i);

        if (kind != DS_WORK_ENTITY) {
            rc = dgi_name_in(ctx, name, field, &names[i]);
            if (rc != DG_OK) {
                return rc;
            }

            continue;
        }

        names[i] = dgi_str(name);

        if (ds_name_entity(names[i], none, &f) != DS_OK) {
            return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                                 "'%s' is not an entity name", field);
        }
    }

    filter->names = names;
    filter->nnames = n;

    return DG_OK;
}


int
dg_health_ping_out(dg_ctx_t *ctx, WorkItem **out)
{
    WorkItem    *wi;
    HealthPing  *hp;

    wi = dgi_alloc(ctx->mem, sizeof(WorkItem));
    hp = dgi_alloc(ctx->mem, sizeof(HealthPing));

    if (wi == NULL || hp == NULL) {
        return dgi_nomem(ctx);
    }

    work_item__init(wi);
    health_ping__init(hp);

    wi->request_case = WORK_ITEM__REQUEST_HEALTH_PING;
    wi->healthping = hp;

    *out = wi;

    return DG_OK;
}


int
dg_chunk_out(dg_ctx_t *ctx, HistoryEvent **events, size_t n,
    HistoryChunk **out)
{
    HistoryChunk  *c;

    c = dgi_alloc(ctx->mem, sizeof(HistoryChunk));
    if (c == NULL) {
        return dgi_nomem(ctx);
    }

    history_chunk__init(c);

    c->events = events;
    c->n_events = n;

    *out = c;

    return DG_OK;
}
