
/*
 * Copyright (C) ngx_durable authors
 *
 * Work items end to end against a store: a start over gRPC, the claimed
 * orchestration as an OrchestratorRequest, its actions completed, the
 * activities claimed and completed, the replay the next episode gets
 * (event ids, the episode's time), the final state; an entity's batch;
 * completions refused with the action and field named; tokens.
 */


#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include "t.h"


#define T_HUB           "h"
#define T_T0            1700000000000000LL
#define T_LEASE         60000000


static dg_ctx_t   ctx;
static ds_env_t  *env;


typedef struct {
    dg_ctx_t           *ctx;
    WorkItem           *wi;
    uint8_t            *packed;
    size_t              len;
    int                 rc;
} t_claim_t;


static void
t_claim_begin(void *data)
{
    t_claim_t  *c = data;

    c->wi = NULL;
    c->rc = DG_OK;
}


static int
t_claim_item(void *data, ds_op_t *op, const ds_work_item_t *item)
{
    t_claim_t  *c = data;

    /* packed here: the item points into the store until the callback
       returns */

    c->rc = dg_work_item_out(c->ctx, op, item, &c->wi);

    if (c->rc == DG_OK) {
        c->rc = dg_pack(&c->wi->base, t_mem, &c->packed, &c->len);
    }

    return c->rc != DG_OK;
}


static WorkItem *t_claim_by(ds_work_kind_e kind, int64_t now,
    ds_claim_filter_t *filter);


/* an op of the hub at a time, written in a batch of its own */

static int
t_write(ds_op_t *op, int64_t now)
{
    op->hub = t_s(T_HUB);
    op->now = now;
    op->next = NULL;
    op->data = NULL;
    op->done = NULL;

    (void) ds_op_batch(env, op);

    return op->rc;
}


/* claims one item of kind; its WorkItem, packed and read back */

static WorkItem *
t_claim(ds_work_kind_e kind, int64_t now)
{
    return t_claim_by(kind, now, NULL);
}


/* the same, of the names of filter (NULL: any) */

static WorkItem *
t_claim_by(ds_work_kind_e kind, int64_t now, ds_claim_filter_t *filter)
{
    uint8_t         tokens[DS_LEASE_LEN];
    ds_op_t         op;
    t_claim_t       c;
    static uint8_t  n;

    /* a lease of its own for each claim */
    memset(tokens, 0x5a, sizeof(tokens));
    tokens[0] = ++n;

    memset(&op, 0, sizeof(op));
    op.type = DS_OP_WORK_CLAIM;
    op.in.claim.kind = kind;
    op.in.claim.lease_us = T_LEASE;
    op.in.claim.max = 1;
    op.in.claim.tokens = tokens;
    op.in.claim.filter = filter;
    op.in.claim.begin = t_claim_begin;
    op.in.claim.item = t_claim_item;
    op.in.claim.item_data = &c;

    c.ctx = &ctx;
    c.wi = NULL;

    if (t_write(&op, now) != DS_OK || op.out.claim.claimed != 1
        || c.wi == NULL)
    {
        return NULL;
    }

    return (WorkItem *) dg_unpack(&work_item__descriptor,
                                  c.packed + DG_PREFIX_LEN,
                                  c.len - DG_PREFIX_LEN, t_mem, NULL);
}


/*
 * a completion turned into the failure of its work: one fail action (or
 * a failed activity) whose details name the status and whose reason
 * holds the refusal
 */

static int
t_refused(const ds_op_t *op, const char *code, const char *what)
{
    char      want[256];
    ds_str_t  reason, details;

    if (op->type != DS_OP_WORK_COMPLETE) {
        return 0;
    }

    if (op->in.work.kind == DS_WORK_ACTIVITY) {
        if (!op->in.work.failed) {
            return 0;
        }

        reason = op->in.work.reason;
        details = op->in.work.details;

    } else {
        if (op->in.work.nactions != 1
            || op->in.work.actions[0].type != DS_ACT_FAIL)
        {
            return 0;
        }

        reason = op->in.work.actions[0].reason;
        details = op->in.work.actions[0].details;
    }

    snprintf(want, sizeof(want), "\"the server refused the completion: %s",
             what);

    if (reason.len < strlen(want)
        || memcmp(reason.data, want, strlen(want)) != 0)
    {
        return 0;
    }

    snprintf(want, sizeof(want), "{\"ErrorType\":\"%s\",", code);

    return details.len > strlen(want) + 22
           && memcmp(details.data, want, strlen(want)) == 0
           && memcmp(details.data + details.len - 22,
                     "\"IsNonRetriable\":true}", 22) == 0;
}


static StringValue *
t_sv(const char *s)
{
    StringValue  *v;

    v = dg_arena_alloc(&t_arena, sizeof(StringValue));
    if (v == NULL) {
        return NULL;
    }

    string_value__init(v);
    v->value = t_b(s);

    return v;
}


static OrchestratorAction *
t_action(int32_t id, const char *activity, const char *input)
{
    OrchestratorAction  *a;
    ScheduleTaskAction  *s;

    a = dg_arena_alloc(&t_arena, sizeof(OrchestratorAction));
    s = dg_arena_alloc(&t_arena, sizeof(ScheduleTaskAction));

    if (a == NULL || s == NULL) {
        return NULL;
    }

    orchestrator_action__init(a);
    schedule_task_action__init(s);
    a->id = id;
    a->orchestrator_action_type_case =
        ORCHESTRATOR_ACTION__ORCHESTRATOR_ACTION_TYPE_SCHEDULE_TASK;
    a->scheduletask = s;
    s->name = t_b(activity);
    s->input = input ? t_sv(input) : NULL;

    return a;
}


#define T_SV(v, w)                                                           \
    do {                                                                     \
        T((v) != NULL);                                                      \
        if ((v) != NULL) {                                                   \
            T_BYTES((v)->value.data, (v)->value.len, w);                     \
        }                                                                    \
    } while (0)


static void
t_work_orchestration(void)
{
    ds_op_t                   op;
    WorkItem                 *wi;
    dg_start_t                st;
    dg_status_t               status;
    HistoryEvent             *he;
    SendEventAction           send;
    ActivityResponse          ares;
    OrchestrationInstance     target;
    OrchestratorRequest      *req;
    OrchestratorAction       *actions[3], done;
    OrchestratorResponse      res;
    TaskFailureDetails        fd;
    CreateInstanceRequest     creq;
    CompleteOrchestrationAction  fin;
    ProtobufCBinaryData       token1, token2;

    /* a start */

    create_instance_request__init(&creq);
    creq.instanceid = t_b("o1");
    creq.name = t_b("Hello");
    creq.input = t_sv("\"Tokyo\"");
    T_INT(dg_start_in(&ctx, &creq, &op, &st), DG_OK);
    T_INT(t_write(&op, T_T0), DS_OK);

    /* the first episode: nothing past, the start new */

    wi = t_claim(DS_WORK_ORCHESTRATION, T_T0 + 1000000);
    T(wi != NULL);

    if (wi == NULL) {
        return;
    }

    T_INT(wi->request_case, WORK_ITEM__REQUEST_ORCHESTRATOR_REQUEST);
    req = wi->orchestratorrequest;
    T_BYTES(req->instanceid.data, req->instanceid.len, "o1");
    T_INT(req->n_pastevents, 0);
    T_INT(req->n_newevents, 2);

    if (req->n_newevents != 2) {
        return;
    }

    he = req->newevents[0];
    T_INT(he->event_type_case, HISTORY_EVENT__EVENT_TYPE_ORCHESTRATOR_STARTED);
    T_INT(he->timestamp->seconds, (T_T0 + 1000000) / 1000000);
    he = req->newevents[1];
    T_INT(he->event_type_case, HISTORY_EVENT__EVENT_TYPE_EXECUTION_STARTED);
    T_BYTES(he->executionstarted->name.data,
            he->executionstarted->name.len, "Hello");
    T_SV(he->executionstarted->input, "\"Tokyo\"");
    T(wi->completiontoken.len > 0);
    token1 = wi->completiontoken;

    /* two activities, a send, a custom status */

    orchestrator_response__init(&res);
    actions[0] = t_action(1, "Say", "\"Tokyo\"");
    actions[1] = t_action(2, "Fail", NULL);
    actions[2] = dg_arena_alloc(&t_arena, sizeof(OrchestratorAction));
    T(actions[0] && actions[1] && actions[2]);
    orchestrator_action__init(actions[2]);
    send_event_action__init(&send);
    orchestration_instance__init(&target);
    target.instanceid = t_b("other");
    send.instance = &target;
    send.name = t_b("Ping");
    actions[2]->id = 3;
    actions[2]->orchestrator_action_type_case =
        ORCHESTRATOR_ACTION__ORCHESTRATOR_ACTION_TYPE_SEND_EVENT;
    actions[2]->sendevent = &send;
    res.actions = actions;
    res.n_actions = 3;
    res.customstatus = t_sv("\"step 1\"");
    res.completiontoken = token1;

    /*
     * refused first: a bad name, then an id used twice; under a valid
     * token the refusal fails the orchestration
     */

    actions[1]->scheduletask->name = t_b("");
    T_INT(dg_orchestrator_done_in(&ctx, &res, &op), DG_OK);
    T(t_refused(&op, "INVALID_ARGUMENT", "action 1 (scheduleTask): 'name' "));
    actions[1]->scheduletask->name = t_b("Fail");
    actions[1]->id = 1;
    T_INT(dg_orchestrator_done_in(&ctx, &res, &op), DG_OK);
    T(t_refused(&op, "INVALID_ARGUMENT", "action 1 (scheduleTask): "
                "'id' 1 is the id of action 0 too\""));
    actions[1]->id = 2;
    res.ispartial = 1;
    T_INT(dg_orchestrator_done_in(&ctx, &res, &op), DG_OK);
    T(t_refused(&op, "UNIMPLEMENTED", "chunked completions"));
    res.ispartial = 0;

    res.instanceid = t_b("o2");
    T_INT(dg_orchestrator_done_in(&ctx, &res, &op), DG_INVALID_ARGUMENT);
    res.instanceid = t_b("o1");

    T_INT(dg_orchestrator_done_in(&ctx, &res, &op), DG_OK);
    T_INT(op.type, DS_OP_WORK_COMPLETE);
    T_INT(op.in.work.nactions, 4);
    T_INT(t_write(&op, T_T0 + 2000000), DS_OK);
    T_INT(op.out.work.status, DS_RUNNING);

    /* the same completion again: the same answer; a token of another
       kind is refused before the store sees it */

    T_INT(dg_orchestrator_done_in(&ctx, &res, &op), DG_OK);
    T_INT(t_write(&op, T_T0 + 2000000), DS_OK);

    /* the activities */

    wi = t_claim(DS_WORK_ACTIVITY, T_T0 + 3000000);
    T(wi != NULL && wi->request_case == WORK_ITEM__REQUEST_ACTIVITY_REQUEST);

    if (wi == NULL || wi->activityrequest == NULL) {
        return;
    }

    T_BYTES(wi->activityrequest->name.data, wi->activityrequest->name.len,
            "Say");
    T_INT(wi->activityrequest->taskid, 1);
    T_SV(wi->activityrequest->input, "\"Tokyo\"");
    T_BYTES(wi->activityrequest->orchestrationinstance->instanceid.data,
            wi->activityrequest->orchestrationinstance->instanceid.len,
            "o1");
    T_SV(wi->activityrequest->orchestrationinstance->executionid, "1");

    res.completiontoken = wi->completiontoken;
    T_INT(dg_orchestrator_done_in(&ctx, &res, &op), DG_INVALID_ARGUMENT);
    T(strstr(ctx.status.message, "activity work item") != NULL);

    activity_response__init(&ares);
    ares.instanceid = t_b("o1");
    ares.taskid = 1;
    ares.result = t_sv("{not JSON");
    ares.completiontoken = wi->completiontoken;
    T_INT(dg_activity_done_in(&ctx, &ares, &op), DG_OK);
    T(t_refused(&op, "INVALID_ARGUMENT", "'result' is not JSON"));
    ares.result = t_sv("\"Hello Tokyo\"");
    T_INT(dg_activity_done_in(&ctx, &ares, &op), DG_OK);
    T_INT(op.in.work.failed, 0);
    T_INT(t_write(&op, T_T0 + 3500000), DS_OK);

    wi = t_claim(DS_WORK_ACTIVITY, T_T0 + 4000000);
    T(wi != NULL && wi->request_case == WORK_ITEM__REQUEST_ACTIVITY_REQUEST);

    if (wi == NULL || wi->activityrequest == NULL) {
        return;
    }

    T_INT(wi->activityrequest->taskid, 2);
    T(wi->activityrequest->input == NULL);

    activity_response__init(&ares);
    task_failure_details__init(&fd);
    fd.errortype = t_b("Error");
    fd.errormessage = t_b("no \"luck\"");
    ares.failuredetails = &fd;
    ares.completiontoken = wi->completiontoken;
    T_INT(dg_activity_done_in(&ctx, &ares, &op), DG_OK);
    T_INT(op.in.work.failed, 1);
    T_INT(t_write(&op, T_T0 + 4500000), DS_OK);

    /* the second episode replays the first: ids and times as recorded */

    wi = t_claim(DS_WORK_ORCHESTRATION, T_T0 + 5000000);
    T(wi != NULL && wi->orchestratorrequest != NULL);

    if (wi == NULL || wi->orchestratorrequest == NULL) {
        return;
    }

    req = wi->orchestratorrequest;
    T_INT(req->n_pastevents, 6);
    T_INT(req->n_newevents, 3);

    if (req->n_pastevents != 6 || req->n_newevents != 3) {
        return;
    }

    T_INT(req->pastevents[0]->event_type_case,
          HISTORY_EVENT__EVENT_TYPE_ORCHESTRATOR_STARTED);
    T_INT(req->pastevents[0]->timestamp->seconds,
          (T_T0 + 1000000) / 1000000);
    T_INT(req->pastevents[1]->event_type_case,
          HISTORY_EVENT__EVENT_TYPE_EXECUTION_STARTED);
    T_INT(req->pastevents[2]->event_type_case,
          HISTORY_EVENT__EVENT_TYPE_TASK_SCHEDULED);
    T_INT(req->pastevents[2]->eventid, 1);
    T_INT(req->pastevents[3]->eventid, 2);
    T_INT(req->pastevents[4]->event_type_case,
          HISTORY_EVENT__EVENT_TYPE_EVENT_SENT);
    T_INT(req->pastevents[4]->eventid, 3);
    T_INT(req->pastevents[5]->event_type_case,
          HISTORY_EVENT__EVENT_TYPE_ORCHESTRATOR_COMPLETED);

    T_INT(req->newevents[0]->timestamp->seconds,
          (T_T0 + 5000000) / 1000000);
    T_INT(req->newevents[1]->event_type_case,
          HISTORY_EVENT__EVENT_TYPE_TASK_COMPLETED);
    T_INT(req->newevents[1]->taskcompleted->taskscheduledid, 1);
    T_SV(req->newevents[1]->taskcompleted->result, "\"Hello Tokyo\"");
    T_INT(req->newevents[2]->event_type_case,
          HISTORY_EVENT__EVENT_TYPE_TASK_FAILED);
    T_BYTES(req->newevents[2]->taskfailed->failuredetails->errormessage.data,
            req->newevents[2]->taskfailed->failuredetails->errormessage.len,
            "no \"luck\"");
    T_BYTES(req->newevents[2]->taskfailed->failuredetails->errortype.data,
            req->newevents[2]->taskfailed->failuredetails->errortype.len,
            "Error");

    token2 = wi->completiontoken;

    /* the first token, with another body: refused */

    orchestrator_response__init(&res);
    res.completiontoken = token1;
    T_INT(dg_orchestrator_done_in(&ctx, &res, &op), DG_OK);
    T_INT(t_write(&op, T_T0 + 5500000), DS_MISMATCH);
    T_INT(dg_status_from_op(&op, &status), DG_FAILED_PRECONDITION);

    /* completed */

    orchestrator_action__init(&done);
    complete_orchestration_action__init(&fin);
    fin.orchestrationstatus =
        ORCHESTRATION_STATUS__ORCHESTRATION_STATUS_COMPLETED;
    fin.result = t_sv("[\"Hello Tokyo\"]");
    done.id = 4;
    done.orchestrator_action_type_case =
        ORCHESTRATOR_ACTION__ORCHESTRATOR_ACTION_TYPE_COMPLETE_ORCHESTRATION;
    done.completeorchestration = &fin;
    actions[0] = &done;
    res.actions = actions;
    res.n_actions = 1;
    res.completiontoken = token2;
    /* its replay set the custom status again, as an SDK's does */
    res.customstatus = t_sv("\"step 1\"");
    T_INT(dg_orchestrator_done_in(&ctx, &res, &op), DG_OK);
    T_INT(t_write(&op, T_T0 + 6000000), DS_OK);
    T_INT(op.out.work.status, DS_COMPLETED);
}


typedef struct {
    OrchestrationState  *st;
    EntityMetadata      *em;
    int                  inputs;
} t_read_t;


static void
t_read_done(ds_op_t *op)
{
    t_read_t  *r = op->data;

    if (op->rc != DS_OK) {
        return;
    }

    if (op->type == DS_OP_STATUS) {
        T_INT(dg_state_out(&ctx, op->in.control.id, op->out.status.inst,
                           r->inputs, &r->st), DG_OK);

    } else {
        T_INT(dg_entity_out(&ctx, op->out.entity.entity, r->inputs, &r->em),
              DG_OK);
    }
}


static void
t_work_state(void)
{
    int                 inputs;
    ds_op_t             op;
    t_read_t            r;
    GetInstanceRequest  get;

    get_instance_request__init(&get);
    get.instanceid = t_b("o1");
    get.getinputsandoutputs = 1;
    T_INT(dg_get_in(&ctx, &get, &op, &inputs), DG_OK);

    memset(&r, 0, sizeof(r));
    r.inputs = inputs;
    op.hub = t_s(T_HUB);
    op.data = &r;
    op.done = t_read_done;
    T_INT(ds_op_read(env, &op), DS_OK);
    T(r.st != NULL);

    if (r.st == NULL) {
        return;
    }

    T_INT(r.st->orchestrationstatus,
          ORCHESTRATION_STATUS__ORCHESTRATION_STATUS_COMPLETED);
    T_SV(r.st->output, "[\"Hello Tokyo\"]");
    T_SV(r.st->input, "\"Tokyo\"");
    T_SV(r.st->customstatus, "\"step 1\"");
    T(r.st->completedtimestamp != NULL);
}


/*
 * The token of an entity batch carries how many operations it delivered
 * (in its task field, plus one); a token from a build before that has
 * task 0, and its completion is not held to a result count: tokens that
 * workers hold across an upgrade must still complete their batches.
 */

static void
t_work_entity_old_token(void)
{
    ds_op_t              op;
    WorkItem            *wi;
    dg_token_t           t;
    OperationResult      result, *results[2];
    EntityBatchResult    res;
    SignalEntityRequest  sig;
    OperationResultSuccess  ok;

    signal_entity_request__init(&sig);
    sig.instanceid = t_b("@Counter@legacy");
    sig.name = t_b("add");
    sig.input = t_sv("1");
    T_INT(dg_signal_in(&ctx, &sig, &op), DG_OK);
    T_INT(t_write(&op, T_T0 + 3700000000LL), DS_OK);

    wi = t_claim(DS_WORK_ENTITY, T_T0 + 3700000001LL);
    T(wi != NULL && wi->entityrequest != NULL);

    if (wi == NULL || wi->entityrequest == NULL) {
        return;
    }

    T_INT(wi->entityrequest->n_operations, 1);

    /* this build counts: task is the count plus one */
    T_INT(dg_token_in(&ctx, wi->completiontoken, &t), DG_OK);
    T_INT(t.task, 2);

    operation_result__init(&result);
    operation_result_success__init(&ok);
    result.result_type_case = OPERATION_RESULT__RESULT_TYPE_SUCCESS;
    result.success = &ok;
    results[0] = &result;
    results[1] = &result;

    entity_batch_result__init(&res);
    res.entitystate = t_sv("1");
    res.results = results;
    res.n_results = 2;
    res.completiontoken = wi->completiontoken;
    T_INT(dg_entity_done_in(&ctx, &res, &op), DG_INVALID_ARGUMENT);

    /* the same lease in a token of an older build: no count */
    t.task = 0;
    T_INT(dg_token_out(&ctx, &t, &res.completiontoken), DG_OK);

    T_INT(dg_entity_done_in(&ctx, &res, &op), DG_OK);
    T_INT(op.in.work.nresults, 2);
    res.n_results = 0;
    T_INT(dg_entity_done_in(&ctx, &res, &op), DG_OK);
    T_INT(op.in.work.nresults, 0);

    res.n_results = 1;
    T_INT(dg_entity_done_in(&ctx, &res, &op), DG_OK);
    T_INT(op.in.work.nresults, 1);
    T_INT(t_write(&op, T_T0 + 3700000002LL), DS_OK);

    /* taken: nothing comes back */
    T(t_claim(DS_WORK_ENTITY, T_T0 + 7200000000LL) == NULL);
}


static void
t_work_entity(void)
{
    int                  state;
    char                 text[256];
    ds_op_t              op;
    WorkItem            *wi;
    t_read_t             r;
    OperationResult      result, *results[2];
    EntityBatchResult    res;
    GetEntityRequest     get;
    TaskFailureDetails   fd;
    SignalEntityRequest  sig;
    OperationResultSuccess  ok;

    signal_entity_request__init(&sig);
    sig.instanceid = t_b("@Counter@c1");
    sig.name = t_b("add");
    sig.input = t_sv("5");
    T_INT(dg_signal_in(&ctx, &sig, &op), DG_OK);
    T_INT(t_write(&op, T_T0), DS_OK);

    wi = t_claim(DS_WORK_ENTITY, T_T0 + 1000000);
    T(wi != NULL && wi->request_case == WORK_ITEM__REQUEST_ENTITY_REQUEST);

    if (wi == NULL || wi->entityrequest == NULL) {
        return;
    }

    T_BYTES(wi->entityrequest->instanceid.data,
            wi->entityrequest->instanceid.len, "@counter@c1");
    T(wi->entityrequest->entitystate == NULL);
    T_INT(wi->entityrequest->n_operations, 1);

    if (wi->entityrequest->n_operations != 1) {
        return;
    }

    T_BYTES(wi->entityrequest->operations[0]->operation.data,
            wi->entityrequest->operations[0]->operation.len, "add");
    T_SV(wi->entityrequest->operations[0]->input, "5");
    /* a signal's, made of its seq, shaped as a GUID (the .NET SDK) */
    T_BYTES(wi->entityrequest->operations[0]->requestid.data,
            wi->entityrequest->operations[0]->requestid.len,
            "00000000-0000-0000-0000-000000000001");

    operation_result__init(&result);
    operation_result_success__init(&ok);
    result.result_type_case = OPERATION_RESULT__RESULT_TYPE_SUCCESS;
    result.success = &ok;
    results[0] = &result;
    results[1] = &result;

    entity_batch_result__init(&res);
    res.entitystate = t_sv("5");
    res.completiontoken = wi->completiontoken;

    /* one result for each operation, not fewer (none), not more */
    T_INT(dg_entity_done_in(&ctx, &res, &op), DG_INVALID_ARGUMENT);
    T(strstr(ctx.status.message, "'results' has 0 results, the batch has "
             "1 operations") != NULL);
    res.results = results;
    res.n_results = 2;
    T_INT(dg_entity_done_in(&ctx, &res, &op), DG_INVALID_ARGUMENT);

    /* nothing was applied: the lease is still held */
    T(t_claim(DS_WORK_ENTITY, T_T0 + 1500000) == NULL);

    res.n_results = 1;
    T_INT(dg_entity_done_in(&ctx, &res, &op), DG_OK);
    T_INT(op.in.work.nresults, 1);
    T_INT(op.in.work.delete_state, 0);
    T_INT(t_write(&op, T_T0 + 2000000), DS_OK);

    /* a batch that failed as a whole is taken: its operations fail */

    sig.input = t_sv("7");
    T_INT(dg_signal_in(&ctx, &sig, &op), DG_OK);
    T_INT(t_write(&op, T_T0 + 2100000), DS_OK);

    wi = t_claim(DS_WORK_ENTITY, T_T0 + 2200000);
    T(wi != NULL && wi->entityrequest != NULL);

    if (wi == NULL || wi->entityrequest == NULL) {
        return;
    }

    task_failure_details__init(&fd);
    fd.errortype = t_b("TypeError");
    fd.errormessage = t_b("no factory");
    entity_batch_result__init(&res);
    res.failuredetails = &fd;
    res.completiontoken = wi->completiontoken;
    T_INT(dg_entity_done_in(&ctx, &res, &op), DG_OK);
    T_INT(op.in.work.failed, 1);
    T_BYTES(op.in.work.reason.data, op.in.work.reason.len,
            "\"no factory\"");
    snprintf(text, sizeof(text), "%.*s", (int) op.in.work.details.len,
             op.in.work.details.data);
    T(strstr(text, "\"ErrorType\":\"TypeError\"") != NULL);
    T_INT(t_write(&op, T_T0 + 2300000), DS_OK);

    /* nothing comes back at the lease's end; the state is as it was */
    T(t_claim(DS_WORK_ENTITY, T_T0 + 3600000000LL) == NULL);

    get_entity_request__init(&get);
    get.instanceid = t_b("@counter@c1");
    get.includestate = 1;
    T_INT(dg_entity_get_in(&ctx, &get, &op, &state), DG_OK);

    memset(&r, 0, sizeof(r));
    r.inputs = state;
    op.hub = t_s(T_HUB);
    op.data = &r;
    op.done = t_read_done;
    T_INT(ds_op_read(env, &op), DS_OK);
    T(r.em != NULL);

    if (r.em != NULL) {
        T_BYTES(r.em->instanceid.data, r.em->instanceid.len, "@counter@c1");
        T_SV(r.em->serializedstate, "5");
    }
}


/*
 * numEventsProcessed: the worker took only the first messages; the
 * others come in the next episode
 */

static void
t_work_events_processed(void)
{
    int                    i;
    ds_op_t                op;
    WorkItem              *wi;
    dg_start_t             st;
    Int32Value             count;
    OrchestratorAction     act, *acts[1];
    TerminateOrchestrationAction  term;
    RaiseEventRequest      raise;
    OrchestratorRequest   *req;
    OrchestratorResponse   res;
    CreateInstanceRequest  creq;

    create_instance_request__init(&creq);
    creq.instanceid = t_b("np");
    creq.name = t_b("Waiter");
    T_INT(dg_start_in(&ctx, &creq, &op, &st), DG_OK);
    T_INT(t_write(&op, T_T0 + 200000000), DS_OK);

    raise_event_request__init(&raise);
    raise.instanceid = t_b("np");
    raise.name = t_b("e");

    for (i = 0; i < 2; i++) {
        raise.input = t_sv(i ? "2" : "1");
        T_INT(dg_raise_in(&ctx, &raise, &op), DG_OK);
        T_INT(t_write(&op, T_T0 + 200000001 + i), DS_OK);
    }

    wi = t_claim(DS_WORK_ORCHESTRATION, T_T0 + 201000000);
    T(wi != NULL && wi->orchestratorrequest != NULL);

    if (wi == NULL || wi->orchestratorrequest == NULL) {
        return;
    }

    /* OrchestratorStarted, ExecutionStarted and the two events */
    T_INT(wi->orchestratorrequest->n_newevents, 4);

    int32_value__init(&count);
    orchestrator_response__init(&res);
    res.completiontoken = wi->completiontoken;
    res.numeventsprocessed = &count;

    /* a count the server cannot take fails the orchestration (unsent) */
    count.value = -1;
    T_INT(dg_orchestrator_done_in(&ctx, &res, &op), DG_OK);
    T(t_refused(&op, "INVALID_ARGUMENT", "'numEventsProcessed'"));

    /* the start and the first event */
    count.value = 2;
    T_INT(dg_orchestrator_done_in(&ctx, &res, &op), DG_OK);
    T_INT(op.in.work.partial, 1);
    T_INT(op.in.work.processed, 2);
    T_INT(t_write(&op, T_T0 + 202000000), DS_OK);

    wi = t_claim(DS_WORK_ORCHESTRATION, T_T0 + 203000000);
    T(wi != NULL && wi->orchestratorrequest != NULL);

    if (wi == NULL || wi->orchestratorrequest == NULL) {
        return;
    }

    req = wi->orchestratorrequest;
    T_INT(req->n_pastevents, 4);
    T_INT(req->n_newevents, 2);

    if (req->n_newevents == 2) {
        T_INT(req->newevents[1]->event_type_case,
              HISTORY_EVENT__EVENT_TYPE_EVENT_RAISED);
        T_SV(req->newevents[1]->eventraised->input, "2");
    }

    /* unset: every message was taken; another instance is terminated */

    creq.instanceid = t_b("np-t");
    T_INT(dg_start_in(&ctx, &creq, &op, &st), DG_OK);
    T_INT(t_write(&op, T_T0 + 203500000), DS_OK);

    orchestrator_action__init(&act);
    terminate_orchestration_action__init(&term);
    act.id = 7;
    act.orchestrator_action_type_case =
        ORCHESTRATOR_ACTION__ORCHESTRATOR_ACTION_TYPE_TERMINATE_ORCHESTRATION;
    act.terminateorchestration = &term;
    acts[0] = &act;

    orchestrator_response__init(&res);
    res.completiontoken = wi->completiontoken;
    res.actions = acts;
    res.n_actions = 1;

    /* itself: refused, so the orchestration fails (not written) */
    term.instanceid = t_b("np");
    T_INT(dg_orchestrator_done_in(&ctx, &res, &op), DG_OK);
    T(t_refused(&op, "INVALID_ARGUMENT",
                "action 0 (terminateOrchestration): 'instanceId'"));

    term.instanceid = t_b("np-t");
    term.reason = t_sv("\"stop\"");
    term.recurse = 1;
    T_INT(dg_orchestrator_done_in(&ctx, &res, &op), DG_OK);
    T_INT(op.in.work.partial, 0);
    /* the custom status, none here, comes first */
    T_INT(op.in.work.nactions, 2);
    T_INT(op.in.work.actions[0].type, DS_ACT_SET_CUSTOM_STATUS);
    T_INT(op.in.work.actions[0].input.len, 0);
    T_INT(op.in.work.actions[1].type, DS_ACT_TERMINATE);
    T_INT(op.in.work.actions[1].recurse, 1);
    T_BYTES(op.in.work.actions[1].input.data, op.in.work.actions[1].input.len,
            "\"stop\"");
    T_INT(t_write(&op, T_T0 + 204000000), DS_OK);

    /* np-t has ended: an event to it is refused */
    raise.instanceid = t_b("np-t");
    T_INT(dg_raise_in(&ctx, &raise, &op), DG_OK);
    T_INT(t_write(&op, T_T0 + 205000000), DS_GONE);
}


/*
 * an entity's batch that signals an entity and starts an orchestration,
 * for later
 */

static void
t_work_entity_actions(void)
{
    int                           inputs;
    ds_op_t                       op;
    WorkItem                     *wi;
    Timestamp                     when;
    t_read_t                      r;
    OperationAction               act[2], *acts[2];
    OperationResult               result, *results[1];
    SendSignalAction              sig;
    OperationResultSuccess        ok;
    EntityBatchResult             res;
    GetInstanceRequest            get;
    SignalEntityRequest           req;
    StartNewOrchestrationAction   start;

    signal_entity_request__init(&req);
    req.instanceid = t_b("@counter@ea");
    req.name = t_b("forward");
    T_INT(dg_signal_in(&ctx, &req, &op), DG_OK);
    T_INT(t_write(&op, T_T0 + 100000000), DS_OK);

    wi = t_claim(DS_WORK_ENTITY, T_T0 + 101000000);
    T(wi != NULL && wi->entityrequest != NULL);

    if (wi == NULL || wi->entityrequest == NULL) {
        return;
    }

    T_BYTES(wi->entityrequest->instanceid.data,
            wi->entityrequest->instanceid.len, "@counter@ea");

    send_signal_action__init(&sig);
    sig.instanceid = t_b("@counter@eb");
    sig.name = t_b("add");
    sig.input = t_sv("1");
    start_new_orchestration_action__init(&start);
    start.instanceid = t_b("from-ea");
    start.name = t_b("Echo");
    start.input = t_sv("1");
    timestamp__init(&when);
    when.seconds = 4102444800;
    start.scheduledtime = &when;

    operation_action__init(&act[0]);
    act[0].operation_action_type_case =
        OPERATION_ACTION__OPERATION_ACTION_TYPE_SEND_SIGNAL;
    act[0].sendsignal = &sig;
    operation_action__init(&act[1]);
    act[1].id = 1;
    act[1].operation_action_type_case =
        OPERATION_ACTION__OPERATION_ACTION_TYPE_START_NEW_ORCHESTRATION;
    act[1].startneworchestration = &start;
    acts[0] = &act[0];
    acts[1] = &act[1];

    operation_result__init(&result);
    operation_result_success__init(&ok);
    result.result_type_case = OPERATION_RESULT__RESULT_TYPE_SUCCESS;
    result.success = &ok;
    results[0] = &result;

    entity_batch_result__init(&res);
    res.entitystate = t_sv("1");
    res.completiontoken = wi->completiontoken;
    res.results = results;
    res.n_results = 1;
    res.actions = acts;
    res.n_actions = 2;

    /* a time out of range is named, never wrapped */
    when.nanos = -5;
    T_INT(dg_entity_done_in(&ctx, &res, &op), DG_INVALID_ARGUMENT);
    T(strncmp(ctx.status.message, "'actions[1].startNewOrchestration."
              "scheduledTime.nanos' ", 55) == 0);
    when.nanos = 0;

    /* bad targets are named before anything is queued */
    sig.instanceid = t_b("counter");
    T_INT(dg_entity_done_in(&ctx, &res, &op), DG_INVALID_ARGUMENT);
    T(strstr(ctx.status.message, "actions[0].sendSignal.instanceId")
      != NULL);
    sig.instanceid = t_b("@counter@eb");
    start.instanceid = t_b("");
    T_INT(dg_entity_done_in(&ctx, &res, &op), DG_INVALID_ARGUMENT);
    T(strstr(ctx.status.message, "actions[1].startNewOrchestration")
      != NULL);
    start.instanceid = t_b("from-ea");
    act[0].operation_action_type_case =
        OPERATION_ACTION__OPERATION_ACTION_TYPE__NOT_SET;
    T_INT(dg_entity_done_in(&ctx, &res, &op), DG_INVALID_ARGUMENT);
    act[0].operation_action_type_case =
        OPERATION_ACTION__OPERATION_ACTION_TYPE_SEND_SIGNAL;

    /* a signal of the empty operation, which the entity may forward */
    sig.name = t_b("");

    T_INT(dg_entity_done_in(&ctx, &res, &op), DG_OK);
    T_INT(op.in.work.nactions, 2);
    T_INT(t_write(&op, T_T0 + 102000000), DS_OK);

    wi = t_claim(DS_WORK_ENTITY, T_T0 + 103000000);
    T(wi != NULL && wi->entityrequest != NULL);

    if (wi != NULL && wi->entityrequest != NULL) {
        T_BYTES(wi->entityrequest->instanceid.data,
                wi->entityrequest->instanceid.len, "@counter@eb");
        T_INT(wi->entityrequest->n_operations, 1);

        if (wi->entityrequest->n_operations == 1) {
            T_SV(wi->entityrequest->operations[0]->input, "1");
            T_INT(wi->entityrequest->operations[0]->operation.len, 0);
        }
    }

    /* the orchestration was started, without a parent, for its time */
    get_instance_request__init(&get);
    get.instanceid = t_b("from-ea");
    get.getinputsandoutputs = 1;
    T_INT(dg_get_in(&ctx, &get, &op, &inputs), DG_OK);

    memset(&r, 0, sizeof(r));
    r.inputs = inputs;
    op.hub = t_s(T_HUB);
    op.data = &r;
    op.done = t_read_done;
    T_INT(ds_op_read(env, &op), DS_OK);
    T(r.st != NULL);

    if (r.st != NULL) {
        T_BYTES(r.st->name.data, r.st->name.len, "Echo");
        T_SV(r.st->input, "1");
        T(r.st->parentinstanceid == NULL);
        T_INT(r.st->orchestrationstatus,
              ORCHESTRATION_STATUS__ORCHESTRATION_STATUS_PENDING);
        T(r.st->scheduledstarttimestamp != NULL
          && r.st->scheduledstarttimestamp->seconds == 4102444800);
    }
}


static void
t_work_tokens(void)
{
    size_t               i;
    ds_op_t              op;
    dg_token_t           t, back;
    ProtobufCBinaryData  b;

    memset(&t, 0, sizeof(t));
    t.kind = DS_WORK_ENTITY;
    t.id = t_s("counter");
    t.key = t_s("k\xc3\xa9");
    t.task = -5;

    for (i = 0; i < DS_LEASE_LEN; i++) {
        t.lease[i] = (uint8_t) (i * 37);
    }

    T_INT(dg_token_out(&ctx, &t, &b), DG_OK);

    for (i = 0; i < b.len; i++) {
        T(b.data[i] > ' ' && b.data[i] < 0x7f);
    }

    T_INT(dg_token_in(&ctx, b, &back), DG_OK);
    T_INT(back.kind, DS_WORK_ENTITY);
    T_STR(back.id, "counter");
    T_STR(back.key, "k\xc3\xa9");
    T_INT(back.task, -5);
    T(memcmp(back.lease, t.lease, DS_LEASE_LEN) == 0);

    T_INT(dg_abandon_in(&ctx, DS_WORK_ENTITY, b, &op), DG_OK);
    T_INT(op.type, DS_OP_WORK_ABANDON);
    T_STR(op.in.work.key, "k\xc3\xa9");
    T_INT(dg_abandon_in(&ctx, DS_WORK_ACTIVITY, b, &op),
          DG_INVALID_ARGUMENT);

    T_INT(dg_renew_in(&ctx, DS_WORK_ENTITY, b, 1500000, &op), DG_OK);
    T_INT(op.type, DS_OP_WORK_RENEW);
    T_INT(op.in.work.lease_us, 1500000);
    T_STR(op.in.work.id, "counter");
    T(memcmp(op.in.work.lease, t.lease, DS_LEASE_LEN) == 0);
    T_INT(dg_renew_in(&ctx, DS_WORK_ORCHESTRATION, b, 1, &op),
          DG_INVALID_ARGUMENT);

    /* every truncation of a token is refused or read as another token */

    for (i = 0; i < b.len; i++) {
        ProtobufCBinaryData  cut = b;

        cut.len = i;
        T(dg_token_in(&ctx, cut, &back) != DG_OK || back.id.len < 7
          || back.key.len < 3);
    }

    T_INT(dg_token_in(&ctx, t_b("1!!!"), &back), DG_INVALID_ARGUMENT);
    T_INT(dg_token_in(&ctx, t_b(""), &back), DG_INVALID_ARGUMENT);
}


/*
 * With the store's additions for the SDKs: a start's options, an entity
 * call answered into the caller's history, a critical section, and a
 * ContinueAsNew that carries an event over.
 */

#define T_ENTITY_CALL                                                        \
    SEND_ENTITY_MESSAGE_ACTION__ENTITY_MESSAGE_TYPE_ENTITY_OPERATION_CALLED
#define T_ENTITY_LOCK                                                        \
    SEND_ENTITY_MESSAGE_ACTION__ENTITY_MESSAGE_TYPE_ENTITY_LOCK_REQUESTED
#define T_ENTITY_UNLOCK                                                      \
    SEND_ENTITY_MESSAGE_ACTION__ENTITY_MESSAGE_TYPE_ENTITY_UNLOCK_SENT


/* call 1: an entity call, 2: a lock request, 3: an unlock */

static OrchestratorAction *
t_entity_action(int32_t id, const char *target, int call)
{
    OrchestratorAction            *a;
    SendEntityMessageAction       *em;
    EntityOperationCalledEvent    *c;
    EntityLockRequestedEvent      *l;
    EntityUnlockSentEvent         *u;
    static ProtobufCBinaryData     set[1];

    a = dg_arena_alloc(&t_arena, sizeof(OrchestratorAction));
    em = dg_arena_alloc(&t_arena, sizeof(SendEntityMessageAction));
    c = dg_arena_alloc(&t_arena, sizeof(EntityOperationCalledEvent));
    l = dg_arena_alloc(&t_arena, sizeof(EntityLockRequestedEvent));
    u = dg_arena_alloc(&t_arena, sizeof(EntityUnlockSentEvent));

    if (a == NULL || em == NULL || c == NULL || l == NULL || u == NULL) {
        return NULL;
    }

    orchestrator_action__init(a);
    send_entity_message_action__init(em);
    a->id = id;
    a->orchestrator_action_type_case =
        ORCHESTRATOR_ACTION__ORCHESTRATOR_ACTION_TYPE_SEND_ENTITY_MESSAGE;
    a->sendentitymessage = em;

    if (call == 1) {
        entity_operation_called_event__init(c);
        c->requestid = t_b("req-1");
        c->operation = t_b("get");
        c->targetinstanceid = t_sv(target);
        em->entity_message_type_case = T_ENTITY_CALL;
        em->entityoperationcalled = c;

    } else if (call == 2) {
        entity_lock_requested_event__init(l);
        l->criticalsectionid = t_b("cs-1");
        set[0] = t_b(target);
        l->lockset = set;
        l->n_lockset = 1;
        em->entity_message_type_case = T_ENTITY_LOCK;
        em->entitylockrequested = l;

    } else {
        entity_unlock_sent_event__init(u);
        u->criticalsectionid = t_b("cs-1");
        u->targetinstanceid = t_sv(target);
        em->entity_message_type_case = T_ENTITY_UNLOCK;
        em->entityunlocksent = u;
    }

    return a;
}


/* completes the orchestration "s1" with one action under token */

static int
t_sdk_complete(OrchestratorAction *a, ProtobufCBinaryData token,
    int64_t now)
{
    ds_op_t               op;
    OrchestratorAction   *actions[1];
    OrchestratorResponse  res;

    orchestrator_response__init(&res);
    actions[0] = a;
    res.actions = actions;
    res.n_actions = a ? 1 : 0;
    res.completiontoken = token;

    if (dg_orchestrator_done_in(&ctx, &res, &op) != DG_OK) {
        return -1;
    }

    return t_write(&op, now);
}


static void
t_work_sdk(void)
{
    ds_op_t                         op;
    t_read_t                        r;
    WorkItem                       *wi;
    dg_start_t                      st;
    HistoryEvent                   *he, *carried[1];
    EventRaisedEvent                raised;
    OperationResult                 result, *results[1];
    EntityBatchResult               eres;
    GetInstanceRequest              get;
    OperationResultSuccess          ok;
    OrchestratorRequest            *req;
    OrchestratorAction             *a, fin;
    CreateInstanceRequest           creq;
    CompleteOrchestrationAction     can;
    CreateInstanceRequest__TagsEntry  tag, *tags[1];
    int                             inputs;

    /* a start with a version and tags */

    create_instance_request__init(&creq);
    creq.instanceid = t_b("s1");
    creq.name = t_b("Sdk");
    creq.version = t_sv("3");
    create_instance_request__tags_entry__init(&tag);
    tag.key = "team";
    tag.value = "x";
    tags[0] = &tag;
    creq.tags = tags;
    creq.n_tags = 1;
    T_INT(dg_start_in(&ctx, &creq, &op, &st), DG_OK);
    T_STR(op.in.start.opts.version, "3");
    T_INT(t_write(&op, T_T0 + 10000000), DS_OK);

    get_instance_request__init(&get);
    get.instanceid = t_b("s1");
    T_INT(dg_get_in(&ctx, &get, &op, &inputs), DG_OK);
    memset(&r, 0, sizeof(r));
    op.hub = t_s(T_HUB);
    op.data = &r;
    op.done = t_read_done;
    T_INT(ds_op_read(env, &op), DS_OK);
    T(r.st != NULL);

    if (r.st != NULL) {
        T_SV(r.st->version, "3");
        T_INT(r.st->n_tags, 1);
    }

    /* an entity call: the entity's item has the call, the answer comes
       back as EntityOperationCompleted */

    wi = t_claim(DS_WORK_ORCHESTRATION, T_T0 + 11000000);
    T(wi != NULL && wi->orchestratorrequest != NULL);

    if (wi == NULL || wi->orchestratorrequest == NULL) {
        return;
    }

    he = wi->orchestratorrequest->newevents[1];
    T_SV(he->executionstarted->version, "3");

    a = t_entity_action(1, "@counter@k", 1);
    T_INT(t_sdk_complete(a, wi->completiontoken, T_T0 + 12000000), DS_OK);

    wi = t_claim(DS_WORK_ENTITY, T_T0 + 13000000);
    T(wi != NULL && wi->entityrequest != NULL);

    if (wi == NULL || wi->entityrequest == NULL
        || wi->entityrequest->n_operations != 1)
    {
        return;
    }

    T_BYTES(wi->entityrequest->operations[0]->requestid.data,
            wi->entityrequest->operations[0]->requestid.len, "req-1");

    entity_batch_result__init(&eres);
    operation_result__init(&result);
    operation_result_success__init(&ok);
    ok.result = t_sv("7");
    result.result_type_case = OPERATION_RESULT__RESULT_TYPE_SUCCESS;
    result.success = &ok;
    results[0] = &result;
    eres.results = results;
    eres.n_results = 1;
    eres.entitystate = t_sv("7");
    eres.completiontoken = wi->completiontoken;
    T_INT(dg_entity_done_in(&ctx, &eres, &op), DG_OK);
    T_INT(op.in.work.nresults, 1);
    T_INT(t_write(&op, T_T0 + 14000000), DS_OK);

    wi = t_claim(DS_WORK_ORCHESTRATION, T_T0 + 15000000);
    T(wi != NULL && wi->orchestratorrequest != NULL);

    if (wi == NULL || wi->orchestratorrequest == NULL) {
        return;
    }

    req = wi->orchestratorrequest;
    T_INT(req->n_newevents, 2);

    if (req->n_newevents == 2) {
        he = req->newevents[1];
        T_INT(he->event_type_case,
              HISTORY_EVENT__EVENT_TYPE_ENTITY_OPERATION_COMPLETED);
        T_BYTES(he->entityoperationcompleted->requestid.data,
                he->entityoperationcompleted->requestid.len, "req-1");
        T_SV(he->entityoperationcompleted->output, "7");
    }

    T(req->n_pastevents >= 3);

    if (req->n_pastevents >= 3) {
        he = req->pastevents[2];
        T_INT(he->event_type_case,
              HISTORY_EVENT__EVENT_TYPE_ENTITY_OPERATION_CALLED);
        T_INT(he->eventid, 1);
    }

    /* a critical section: the grant comes back */

    a = t_entity_action(2, "@counter@k", 2);
    T_INT(t_sdk_complete(a, wi->completiontoken, T_T0 + 16000000), DS_OK);

    wi = t_claim(DS_WORK_ORCHESTRATION, T_T0 + 17000000);
    T(wi != NULL && wi->orchestratorrequest != NULL);

    if (wi == NULL || wi->orchestratorrequest == NULL) {
        return;
    }

    req = wi->orchestratorrequest;
    T_INT(req->n_newevents, 2);

    if (req->n_newevents == 2) {
        T_INT(req->newevents[1]->event_type_case,
              HISTORY_EVENT__EVENT_TYPE_ENTITY_LOCK_GRANTED);
    }

    /* unlocked, then continued as new with an event carried over */

    a = t_entity_action(3, "@counter@k", 3);
    T_INT(t_sdk_complete(a, wi->completiontoken, T_T0 + 18000000), DS_OK);

    /* an unlock tells the orchestration nothing: an event wakes it */

    T(t_claim(DS_WORK_ORCHESTRATION, T_T0 + 19000000) == NULL);

    memset(&op, 0, sizeof(op));
    op.type = DS_OP_RAISE_EVENT;
    op.in.control.id = t_s("s1");
    op.in.control.name = t_s("Poke");
    T_INT(t_write(&op, T_T0 + 19000000), DS_OK);

    wi = t_claim(DS_WORK_ORCHESTRATION, T_T0 + 19500000);

    T(wi != NULL && wi->orchestratorrequest != NULL);

    if (wi == NULL || wi->orchestratorrequest == NULL) {
        return;
    }

    orchestrator_action__init(&fin);
    complete_orchestration_action__init(&can);
    can.orchestrationstatus =
        ORCHESTRATION_STATUS__ORCHESTRATION_STATUS_CONTINUED_AS_NEW;
    can.result = t_sv("2");
    event_raised_event__init(&raised);
    raised.name = t_b("Kept");
    raised.input = t_sv("\"v\"");
    he = dg_arena_alloc(&t_arena, sizeof(HistoryEvent));
    T(he != NULL);

    if (he == NULL) {
        return;
    }

    history_event__init(he);
    he->eventid = -1;
    he->event_type_case = HISTORY_EVENT__EVENT_TYPE_EVENT_RAISED;
    he->eventraised = &raised;
    carried[0] = he;
    can.carryoverevents = carried;
    can.n_carryoverevents = 1;
    fin.id = 4;
    fin.orchestrator_action_type_case =
        ORCHESTRATOR_ACTION__ORCHESTRATOR_ACTION_TYPE_COMPLETE_ORCHESTRATION;
    fin.completeorchestration = &can;
    T_INT(t_sdk_complete(&fin, wi->completiontoken, T_T0 + 20000000), DS_OK);

    wi = t_claim(DS_WORK_ORCHESTRATION, T_T0 + 21000000);
    T(wi != NULL && wi->orchestratorrequest != NULL);

    if (wi == NULL || wi->orchestratorrequest == NULL) {
        return;
    }

    req = wi->orchestratorrequest;
    T_INT(req->n_pastevents, 0);
    T(req->n_newevents >= 3);

    if (req->n_newevents >= 3) {
        T_INT(req->newevents[1]->event_type_case,
              HISTORY_EVENT__EVENT_TYPE_EXECUTION_STARTED);
        T_SV(req->newevents[1]->executionstarted->input, "2");
        T_INT(req->newevents[2]->event_type_case,
              HISTORY_EVENT__EVENT_TYPE_EVENT_RAISED);
        T_SV(req->newevents[2]->eventraised->input, "\"v\"");
    }
}


static ActivityFilter  *t_many[DG_FILTER_NAMES_MAX + 1];
static ds_str_t         t_names[DG_FILTER_NAMES_MAX];
static char             t_name_text[DG_FILTER_NAMES_MAX][16];


/*
 * A filter of many names, sorted once (ds_claim_filter_sort()): a claim
 * finds the name among them as it does among unsorted ones, entity names
 * compared lower-cased, others exactly.
 */

static void
t_work_sorted(void)
{
    size_t                 i;
    ds_op_t                op;
    WorkItem              *wi;
    dg_start_t             st;
    ds_claim_filter_t      f;
    SignalEntityRequest    sig;
    CreateInstanceRequest  creq;

    /* names of one length around the wanted one, in no order */

    for (i = 0; i < DG_FILTER_NAMES_MAX; i++) {
        t_names[i].len = (size_t) sprintf(t_name_text[i], "Sort%04zu",
                                          (i * 7919) % 10000);
        t_names[i].data = t_name_text[i];
    }

    create_instance_request__init(&creq);
    creq.instanceid = t_b("sorted-1");
    creq.name = t_b("Sort0000");
    T_INT(dg_start_in(&ctx, &creq, &op, &st), DG_OK);
    T_INT(t_write(&op, T_T0 + 500000000), DS_OK);

    /* "sort0000" differs from it in case only: orchestrations don't fold */

    memset(&f, 0, sizeof(f));
    t_name_text[0][0] = 's';
    ds_claim_filter_sort(&f, DS_WORK_ORCHESTRATION, t_names,
                         DG_FILTER_NAMES_MAX);
    T_INT(f.sorted, 1);

    for (i = 1; i < f.nnames; i++) {
        T(t_names[i - 1].len <= t_names[i].len);
    }

    T(t_claim_by(DS_WORK_ORCHESTRATION, T_T0 + 501000000, &f) == NULL);

    t_name_text[0][0] = 'S';
    ds_claim_filter_sort(&f, DS_WORK_ORCHESTRATION, t_names,
                         DG_FILTER_NAMES_MAX);
    wi = t_claim_by(DS_WORK_ORCHESTRATION, T_T0 + 502000000, &f);
    T(wi != NULL && wi->orchestratorrequest != NULL);

    if (wi != NULL && wi->orchestratorrequest != NULL) {
        T_BYTES(wi->orchestratorrequest->instanceid.data,
                wi->orchestratorrequest->instanceid.len, "sorted-1");
    }

    /* an entity's name is stored lower-cased: "SORT5838" finds it */

    signal_entity_request__init(&sig);
    sig.instanceid = t_b("@Sort5838@k");
    sig.name = t_b("add");
    T_INT(dg_signal_in(&ctx, &sig, &op), DG_OK);
    T_INT(t_write(&op, T_T0 + 503000000), DS_OK);

    /* of mixed case, where the folded order is not the bytes' */

    for (i = 0; i < DG_FILTER_NAMES_MAX; i++) {
        t_names[i].len = (size_t) sprintf(t_name_text[i], "%s%04zu",
                                          i % 2 ? "sort" : "SORT",
                                          (i * 7919) % 10000);
        t_names[i].data = t_name_text[i];
    }

    /* (2 * 7919) % 10000: the third name, SORT5838 */

    t_name_text[2][3] = 'X';
    ds_claim_filter_sort(&f, DS_WORK_ENTITY, t_names, DG_FILTER_NAMES_MAX);
    T(t_claim_by(DS_WORK_ENTITY, T_T0 + 504000000, &f) == NULL);

    t_name_text[2][3] = 'T';
    ds_claim_filter_sort(&f, DS_WORK_ENTITY, t_names, DG_FILTER_NAMES_MAX);
    wi = t_claim_by(DS_WORK_ENTITY, T_T0 + 505000000, &f);
    T(wi != NULL && wi->entityrequest != NULL);

    if (wi != NULL && wi->entityrequest != NULL) {
        T_BYTES(wi->entityrequest->instanceid.data,
                wi->entityrequest->instanceid.len, "@sort5838@k");
    }
}



static void
t_work_stream(void)
{
    size_t                n;
    WorkItem             *wi;
    HistoryChunk         *chunk;
    HistoryEvent         *events[1];
    ActivityFilter        af, *afs[2];
    EntityFilter          ef, *efs[1];
    WorkItemFilters       wf;
    ds_claim_filter_t     f;
    GetWorkItemsRequest   req;

    get_work_items_request__init(&req);
    req.maxconcurrentactivityworkitems = 4;

    T_INT(dg_work_filter_in(&ctx, &req, DS_WORK_ACTIVITY, &f, &n), DG_OK);
    T_INT(f.nnames, 0);
    T_INT(n, 4);
    T_INT(dg_work_filter_in(&ctx, &req, DS_WORK_ORCHESTRATION, &f, &n),
          DG_OK);
    T_INT(n, 0);

    work_item_filters__init(&wf);
    activity_filter__init(&af);
    af.name = t_b("Say");
    afs[0] = &af;
    afs[1] = &af;
    wf.n_activities = 2;
    wf.activities = afs;
    entity_filter__init(&ef);
    ef.name = t_b("a@b");
    efs[0] = &ef;
    wf.n_entities = 1;
    wf.entities = efs;
    req.workitemfilters = &wf;

    T_INT(dg_work_filter_in(&ctx, &req, DS_WORK_ACTIVITY, &f, &n), DG_OK);
    T_INT(f.nnames, 2);
    T_STR(f.names[1], "Say");
    T_INT(dg_work_filter_in(&ctx, &req, DS_WORK_ORCHESTRATION, &f, &n),
          DG_OK);
    T_INT(f.nnames, 0);
    T_INT(dg_work_filter_in(&ctx, &req, DS_WORK_ENTITY, &f, &n),
          DG_INVALID_ARGUMENT);
    T_BYTES(ctx.status.message, ctx.status.len,
            "'workItemFilters.entities[0].name' is not an entity name");

    af.name = t_b("");
    T_INT(dg_work_filter_in(&ctx, &req, DS_WORK_ACTIVITY, &f, &n),
          DG_INVALID_ARGUMENT);
    af.name = t_b("Say");

    /* one name per registered function: DG_FILTER_NAMES_MAX, not more */

    for (n = 0; n <= DG_FILTER_NAMES_MAX; n++) {
        t_many[n] = &af;
    }

    wf.activities = t_many;
    wf.n_activities = DG_FILTER_NAMES_MAX;
    T_INT(dg_work_filter_in(&ctx, &req, DS_WORK_ACTIVITY, &f, &n), DG_OK);
    T_INT(f.nnames, DG_FILTER_NAMES_MAX);

    wf.n_activities = DG_FILTER_NAMES_MAX + 1;
    T_INT(dg_work_filter_in(&ctx, &req, DS_WORK_ACTIVITY, &f, &n),
          DG_INVALID_ARGUMENT);
    T(strncmp(ctx.status.message, "'workItemFilters.activities' has 1001 "
              "names", 38) == 0);

    T_INT(dg_health_ping_out(&ctx, &wi), DG_OK);
    T_INT(wi->request_case, WORK_ITEM__REQUEST_HEALTH_PING);

    T_INT(dg_event_out(&ctx, t_s("{\"EventType\":\"OrchestratorStarted\","
                                 "\"Timestamp\":\"2024-01-02T03:04:05Z\"}"),
                       &events[0]), DG_OK);
    T_INT(dg_chunk_out(&ctx, events, 1, &chunk), DG_OK);
    T_INT(chunk->n_events, 1);
}


/* bytes of a given length (they may hold NULs) */

static ProtobufCBinaryData
t_bin(const char *s, size_t n)
{
    ProtobufCBinaryData  b;

    b.data = (uint8_t *) s;
    b.len = n;

    return b;
}


/*
 * An activity's failure with an inner failure and properties (encoded
 * google.protobuf.Values): stored as nested JSON, given back as they
 * came; a chain deeper than DG_FAILURE_DEPTH and a value that is not a
 * Value are refused.
 */

static void
t_work_failure_details(void)
{
    int                   i;
    char                  text[1024], *p;
    ds_op_t               op;
    ds_str_t              ev;
    dg_token_t            t;
    HistoryEvent         *he;
    ActivityResponse      ares;
    TaskFailureDetails    fd[DG_FAILURE_DEPTH + 1], *out;
    ProtobufCBinaryData   token;
    TaskFailureDetails__PropertiesEntry  pe[4], *props[4];
    static const char    *keys[4] = { "code", "tag", "list", "obj" };
    static const struct {
        const char       *data;
        size_t            len;
    } values[4] = {
        /* 42.0, "x", [true,null], {"a":"b"} */
        { "\x11\x00\x00\x00\x00\x00\x00\x45\x40", 9 },
        { "\x1a\x01x", 3 },
        { "\x32\x08\x0a\x02\x20\x01\x0a\x02\x08\x00", 10 },
        { "\x2a\x0a\x0a\x08\x0a\x01" "a\x12\x03\x1a\x01" "b", 12 }
    };

    memset(&t, 0, sizeof(t));
    t.kind = DS_WORK_ACTIVITY;
    t.id = t_s("fd1");
    t.task = 3;
    T_INT(dg_token_out(&ctx, &t, &token), DG_OK);

    for (i = 0; i < DG_FAILURE_DEPTH + 1; i++) {
        task_failure_details__init(&fd[i]);
        fd[i].errortype = t_b(i == 0 ? "Outer" : "Inner");
        fd[i].errormessage = t_b("m");
    }

    fd[0].innerfailure = &fd[1];
    fd[1].isnonretriable = 1;
    fd[1].stacktrace = t_sv("at f");

    for (i = 0; i < 4; i++) {
        task_failure_details__properties_entry__init(&pe[i]);
        pe[i].key = (char *) keys[i];
        pe[i].value = t_bin(values[i].data, values[i].len);
        props[i] = &pe[i];
    }

    fd[0].properties = props;
    fd[0].n_properties = 4;

    activity_response__init(&ares);
    ares.completiontoken = token;
    ares.failuredetails = &fd[0];
    T_INT(dg_activity_done_in(&ctx, &ares, &op), DG_OK);
    T_INT(op.in.work.failed, 1);
    T_STR(op.in.work.details,
          "{\"ErrorType\":\"Outer\",\"ErrorMessage\":\"m\",\"StackTrace\":null,"
          "\"IsNonRetriable\":false,\"InnerFailure\":{\"ErrorType\":\"Inner\","
          "\"ErrorMessage\":\"m\",\"StackTrace\":\"at f\","
          "\"IsNonRetriable\":true},\"Properties\":{\"code\":42,\"tag\":\"x\","
          "\"list\":[true,null],\"obj\":{\"a\":\"b\"}}}");

    /* back out of a TaskFailed event, as the worker sent them */

    snprintf(text, sizeof(text), "{\"EventType\":\"TaskFailed\","
             "\"Timestamp\":\"2026-01-01T00:00:00Z\",\"EventId\":-1,"
             "\"TaskScheduledId\":3,\"Reason\":\"m\",\"Details\":%.*s}",
             (int) op.in.work.details.len, op.in.work.details.data);
    ev.data = text;
    ev.len = strlen(text);
    T_INT(dg_event_out(&ctx, ev, &he), DG_OK);
    T(he != NULL && he->taskfailed != NULL
      && he->taskfailed->failuredetails != NULL);

    if (he == NULL || he->taskfailed == NULL
        || he->taskfailed->failuredetails == NULL)
    {
        return;
    }

    out = he->taskfailed->failuredetails;
    T_BYTES(out->errortype.data, out->errortype.len, "Outer");
    T(out->innerfailure != NULL);

    if (out->innerfailure != NULL) {
        T_BYTES(out->innerfailure->errortype.data,
                out->innerfailure->errortype.len, "Inner");
        T_SV(out->innerfailure->stacktrace, "at f");
        T_INT(out->innerfailure->isnonretriable, 1);
        T(out->innerfailure->innerfailure == NULL);
    }

    T_INT(out->n_properties, 4);

    for (i = 0; i < 4 && (size_t) i < out->n_properties; i++) {
        T(strcmp(out->properties[i]->key, keys[i]) == 0);
        T_INT(out->properties[i]->value.len, values[i].len);
        T(out->properties[i]->value.len == values[i].len
          && memcmp(out->properties[i]->value.data, values[i].data,
                    values[i].len) == 0);
    }

    /* DG_FAILURE_DEPTH levels are taken, deeper ones left out */

    for (i = 0; i < DG_FAILURE_DEPTH; i++) {
        fd[i].innerfailure = &fd[i + 1];
    }

    fd[DG_FAILURE_DEPTH - 1].innerfailure = NULL;
    T_INT(dg_activity_done_in(&ctx, &ares, &op), DG_OK);
    snprintf(text, sizeof(text), "%.*s", (int) op.in.work.reason.len,
             op.in.work.reason.data);
    T(strstr(text, "refused") == NULL);

    fd[DG_FAILURE_DEPTH - 1].innerfailure = &fd[DG_FAILURE_DEPTH];
    T_INT(dg_activity_done_in(&ctx, &ares, &op), DG_OK);
    T_INT(op.in.work.failed, 1);
    snprintf(text, sizeof(text), "%.*s", (int) op.in.work.details.len,
             op.in.work.details.data);
    T(strncmp(text, "{\"ErrorType\":\"Outer\",",
              sizeof("{\"ErrorType\":\"Outer\",") - 1) == 0);
    T(strstr(text, "refused") == NULL);

    for (i = 0, p = text; (p = strstr(p, "\"InnerFailure\"")) != NULL; i++) {
        p++;
    }

    T_INT(i, DG_FAILURE_DEPTH - 1);
    fd[0].innerfailure = NULL;

    /* not a Value: refused; a string that is not UTF-8: U+FFFD */

    pe[1].value = t_bin("\x1a\x05x", 3);
    T_INT(dg_activity_done_in(&ctx, &ares, &op), DG_OK);
    T(t_refused(&op, "INVALID_ARGUMENT", "'failureDetails.properties' "
                "value 1 "));
    pe[1].value = t_bin("\x1a\x01\xff", 3);
    T_INT(dg_activity_done_in(&ctx, &ares, &op), DG_OK);
    snprintf(text, sizeof(text), "%.*s", (int) op.in.work.details.len,
             op.in.work.details.data);
    T(strstr(text, "\"tag\":\"\\ufffd\"") != NULL);
}


/* an allocator that fails once it has given t_budget blocks */

static int  t_budget;

static void *
t_budget_alloc(void *data, size_t size)
{
    if (t_budget-- <= 0) {
        return NULL;
    }

    return dg_arena_alloc(data, size);
}


/*
 * A failure's stored properties, converted with too little memory at each
 * step in turn: out of memory is RESOURCE_EXHAUSTED (the read is tried
 * again), never a property silently left out.
 */

static void
t_work_failure_nomem(void)
{
    int                   rc, n, lost;
    ds_str_t              ev;
    dg_ctx_t              c;
    dg_mem_t              mem;
    dg_arena_t            a;
    HistoryEvent         *he;
    TaskFailureDetails   *out;

    ev = t_s("{\"EventType\":\"TaskFailed\","
             "\"Timestamp\":\"2026-01-01T00:00:00Z\",\"EventId\":-1,"
             "\"TaskScheduledId\":3,\"Reason\":\"m\",\"Details\":"
             "{\"ErrorType\":\"E\",\"ErrorMessage\":\"m\","
             "\"Properties\":{\"obj\":{\"key\":\"a string\"}}}}");

    lost = 0;

    for (n = 0; n < 200; n++) {
        dg_arena_init(&a);
        mem.alloc = t_budget_alloc;
        mem.data = &a;
        dg_ctx_init(&c, mem, 64);
        t_budget = n;

        rc = dg_event_out(&c, ev, &he);

        if (rc == DG_OK) {
            out = he->taskfailed != NULL ? he->taskfailed->failuredetails
                                         : NULL;
            lost += out == NULL || out->n_properties != 1;
        }

        dg_arena_free(&a);

        T(rc == DG_OK || rc == DG_RESOURCE_EXHAUSTED);

        if (rc == DG_OK && t_budget >= 0) {
            break;
        }
    }

    T(n < 200);
    T_INT(lost, 0);
}


/*
 * Stored Properties the codec could not have made itself (an HTTP worker
 * stores any JSON): a number of 64 characters or more goes out as a
 * number_value, one beyond a double as a string_value of its text, and
 * a value nested deeper than DG_NESTING_MAX is cut at that level into a
 * string_value of the rest's JSON text; none is left out.
 */

static void
t_work_failure_properties_edge(void)
{
    int                   i, depth;
    char                 *text, *p, digits[72], nines[402], tail[32];
    double                d;
    size_t                len, tlen;
    uint8_t               le[9];
    uint64_t              bits;
    dg_ctx_t              c;
    ds_str_t              ev;
    dg_arena_t            a;
    HistoryEvent         *he;
    TaskFailureDetails   *fd;
    ProtobufCBinaryData  *v;

    depth = DG_NESTING_MAX + 5;

    for (i = 0; i < 70; i++) {
        digits[i] = (char) ('1' + i % 9);
    }

    digits[70] = '\0';
    memset(nines, '9', 400);
    nines[400] = '\0';

    text = malloc(1024 + 2 * (size_t) depth);
    if (text == NULL) {
        abort();
    }

    p = text + sprintf(text, "{\"EventType\":\"TaskFailed\","
                       "\"Timestamp\":\"2026-01-01T00:00:00Z\","
                       "\"EventId\":-1,\"TaskScheduledId\":3,"
                       "\"Reason\":\"m\",\"Details\":{\"ErrorType\":\"E\","
                       "\"ErrorMessage\":\"m\",\"Properties\":{"
                       "\"long\":%s,\"huge\":%s,\"deep\":", digits, nines);

    for (i = 0; i < depth; i++) {
        *p++ = '[';
    }

    *p++ = '1';

    for (i = 0; i < depth; i++) {
        *p++ = ']';
    }

    p += sprintf(p, "}}}");

    dg_arena_init(&a);
    dg_ctx_init(&c, dg_arena_mem(&a), 128);

    ev.data = text;
    ev.len = (size_t) (p - text);
    T_INT(dg_event_out(&c, ev, &he), DG_OK);

    fd = (he != NULL && he->taskfailed != NULL)
         ? he->taskfailed->failuredetails : NULL;
    T(fd != NULL && fd->n_properties == 3);

    if (fd == NULL || fd->n_properties != 3) {
        dg_arena_free(&a);
        free(text);
        return;
    }

    /* the long number: its double */
    d = strtod(digits, NULL);
    memcpy(&bits, &d, sizeof(double));
    le[0] = 0x11;

    for (i = 0; i < 8; i++) {
        le[i + 1] = (uint8_t) (bits >> (8 * i));
    }

    v = &fd->properties[0]->value;
    T(strcmp(fd->properties[0]->key, "long") == 0);
    T(v->len == 9 && memcmp(v->data, le, 9) == 0);

    /* beyond a double: its text, a string of 400 bytes */
    v = &fd->properties[1]->value;
    T(strcmp(fd->properties[1]->key, "huge") == 0);
    T(v->len == 3 + 400 && v->data[0] == 0x1a && v->data[1] == 0x90
      && v->data[2] == 0x03 && memcmp(v->data + 3, nines, 400) == 0);

    /* cut at the last level: the six levels left as text */
    tlen = (size_t) sprintf(tail, "\x1a\x0d[[[[[[1]]]]]]");
    v = &fd->properties[2]->value;
    len = v->len;
    T(strcmp(fd->properties[2]->key, "deep") == 0);
    T(len > tlen && v->data[0] == 0x32
      && memcmp(v->data + len - tlen, tail, tlen) == 0);

    dg_arena_free(&a);
    free(text);
}


/*
 * An empty object or array at the last level DG_NESTING_MAX allows fits
 * there: it goes out as an empty Struct or ListValue, not as a
 * string_value of its text ("{}", "[]"), which an SDK would read back
 * as a string.
 */

static void
t_work_failure_properties_empty(void)
{
    int                   i, k;
    char                 *text, *p;
    size_t                len;
    dg_ctx_t              c;
    ds_str_t              ev;
    dg_arena_t            a;
    HistoryEvent         *he;
    TaskFailureDetails   *fd;
    ProtobufCBinaryData  *v;

    text = malloc(1024 + 4 * DG_NESTING_MAX);
    if (text == NULL) {
        abort();
    }

    /* DG_NESTING_MAX levels each: the empty value is the last one */

    p = text + sprintf(text, "{\"EventType\":\"TaskFailed\","
                       "\"Timestamp\":\"2026-01-01T00:00:00Z\","
                       "\"EventId\":-1,\"TaskScheduledId\":3,"
                       "\"Reason\":\"m\",\"Details\":{\"ErrorType\":\"E\","
                       "\"ErrorMessage\":\"m\",\"Properties\":{");

    for (k = 0; k < 2; k++) {
        p += sprintf(p, k ? ",\"o\":" : "\"l\":");

        for (i = 0; i < DG_NESTING_MAX - 1; i++) {
            *p++ = '[';
        }

        p += sprintf(p, k ? "{}" : "[]");

        for (i = 0; i < DG_NESTING_MAX - 1; i++) {
            *p++ = ']';
        }
    }

    p += sprintf(p, "}}}");

    dg_arena_init(&a);
    dg_ctx_init(&c, dg_arena_mem(&a), 128);

    ev.data = text;
    ev.len = (size_t) (p - text);
    T_INT(dg_event_out(&c, ev, &he), DG_OK);

    fd = (he != NULL && he->taskfailed != NULL)
         ? he->taskfailed->failuredetails : NULL;
    T(fd != NULL && fd->n_properties == 2);

    if (fd == NULL || fd->n_properties != 2) {
        dg_arena_free(&a);
        free(text);
        return;
    }

    /* a list_value, then a struct_value, of no members: the last bytes */

    v = &fd->properties[0]->value;
    len = v->len;
    T(strcmp(fd->properties[0]->key, "l") == 0);
    T(len > 2 && v->data[0] == 0x32
      && memcmp(v->data + len - 2, "\x32\x00", 2) == 0);

    v = &fd->properties[1]->value;
    len = v->len;
    T(strcmp(fd->properties[1]->key, "o") == 0);
    T(len > 2 && v->data[0] == 0x32
      && memcmp(v->data + len - 2, "\x2a\x00", 2) == 0);

    dg_arena_free(&a);
    free(text);
}


/*
 * Stored Properties nested deep around a long string are encoded back in
 * memory of about their size, not of their size times their depth.
 */

static void
t_work_failure_properties_memory(void)
{
    int            i, depth;
    char          *text, *p;
    size_t         big, len;
    dg_ctx_t       c;
    ds_str_t       ev;
    dg_arena_t     a;
    HistoryEvent  *he;

    depth = 40;
    big = 256 * 1024;
    len = big + 64 * (size_t) depth + 512;

    text = malloc(len);
    if (text == NULL) {
        abort();
    }

    p = text + sprintf(text, "{\"EventType\":\"TaskFailed\","
                       "\"Timestamp\":\"2026-01-01T00:00:00Z\","
                       "\"EventId\":-1,\"TaskScheduledId\":3,"
                       "\"Reason\":\"m\",\"Details\":{\"ErrorType\":\"E\","
                       "\"ErrorMessage\":\"m\",\"Properties\":{\"p\":");

    for (i = 0; i < depth; i++) {
        p += sprintf(p, i % 2 ? "[" : "{\"k\":");
    }

    *p++ = '"';
    memset(p, 'x', big);
    p += big;
    *p++ = '"';

    for (i = depth - 1; i >= 0; i--) {
        *p++ = i % 2 ? ']' : '}';
    }

    p += sprintf(p, "}}}");

    dg_arena_init(&a);
    dg_ctx_init(&c, dg_arena_mem(&a), 128);

    ev.data = text;
    ev.len = (size_t) (p - text);
    T_INT(dg_event_out(&c, ev, &he), DG_OK);
    T(he != NULL && he->taskfailed != NULL
      && he->taskfailed->failuredetails != NULL
      && he->taskfailed->failuredetails->n_properties == 1
      && he->taskfailed->failuredetails->properties[0]->value.len > big);

    /* the string's copy and a buffer grown by doubling: under 8 times */
    T(a.used < 8 * big);

    if (a.used >= 8 * big) {
        fprintf(stderr, "  %zu bytes for a property of %zu\n", a.used, big);
    }

    dg_arena_free(&a);
    free(text);
}


/* the custom status is the one the episode's response gave, or none */

static void
t_work_custom_status(void)
{
    int                     inputs;
    ds_op_t                 op;
    ds_str_t                name;
    WorkItem               *wi;
    t_read_t                r;
    dg_start_t              st;
    GetInstanceRequest      get;
    ds_claim_filter_t       f;
    RaiseEventRequest       raise;
    OrchestratorResponse    res;
    CreateInstanceRequest   creq;

    create_instance_request__init(&creq);
    creq.instanceid = t_b("cs1");
    creq.name = t_b("Statused");
    T_INT(dg_start_in(&ctx, &creq, &op, &st), DG_OK);
    T_INT(t_write(&op, T_T0 + 400000000), DS_OK);

    memset(&f, 0, sizeof(f));
    name = t_s("Statused");
    f.names = &name;
    f.nnames = 1;

    get_instance_request__init(&get);
    get.instanceid = t_b("cs1");

    /* the first episode sets it, the second no longer does */

    wi = t_claim_by(DS_WORK_ORCHESTRATION, T_T0 + 401000000, &f);
    T(wi != NULL);

    if (wi == NULL) {
        return;
    }

    orchestrator_response__init(&res);
    res.customstatus = t_sv("{\"step\":1}");
    res.completiontoken = wi->completiontoken;
    T_INT(dg_orchestrator_done_in(&ctx, &res, &op), DG_OK);
    T_INT(t_write(&op, T_T0 + 402000000), DS_OK);

    T_INT(dg_get_in(&ctx, &get, &op, &inputs), DG_OK);
    memset(&r, 0, sizeof(r));
    op.hub = t_s(T_HUB);
    op.data = &r;
    op.done = t_read_done;
    T_INT(ds_op_read(env, &op), DS_OK);
    T(r.st != NULL);

    if (r.st != NULL) {
        T_SV(r.st->customstatus, "{\"step\":1}");
    }

    raise_event_request__init(&raise);
    raise.instanceid = t_b("cs1");
    raise.name = t_b("Go");
    T_INT(dg_raise_in(&ctx, &raise, &op), DG_OK);
    T_INT(t_write(&op, T_T0 + 403000000), DS_OK);

    wi = t_claim_by(DS_WORK_ORCHESTRATION, T_T0 + 404000000, &f);
    T(wi != NULL);

    if (wi == NULL) {
        return;
    }

    orchestrator_response__init(&res);
    res.completiontoken = wi->completiontoken;
    T_INT(dg_orchestrator_done_in(&ctx, &res, &op), DG_OK);
    T_INT(t_write(&op, T_T0 + 405000000), DS_OK);

    T_INT(dg_get_in(&ctx, &get, &op, &inputs), DG_OK);
    memset(&r, 0, sizeof(r));
    op.hub = t_s(T_HUB);
    op.data = &r;
    op.done = t_read_done;
    T_INT(ds_op_read(env, &op), DS_OK);
    T(r.st != NULL);

    if (r.st != NULL) {
        T(r.st->customstatus == NULL);
        T_INT(r.st->orchestrationstatus,
              ORCHESTRATION_STATUS__ORCHESTRATION_STATUS_RUNNING);
    }
}


/*
 * a versioned activity: the version and tags of its scheduleTask reach
 * the worker in its ActivityRequest and stay in the TaskScheduled event
 */

static void
t_work_versioned(void)
{
    size_t                   i;
    ds_op_t                  op;
    ds_str_t                 names[2];
    WorkItem                *wi;
    OrchestratorAction      *a;
    ActivityRequest         *areq;
    ActivityResponse         ares;
    ds_claim_filter_t        f;
    dg_start_t               st;
    CreateInstanceRequest    creq;
    const HistoryEvent      *he;
    ScheduleTaskAction__TagsEntry  tag, *tags[1];

    create_instance_request__init(&creq);
    creq.instanceid = t_b("ver1");
    creq.name = t_b("Versioned");
    T_INT(dg_start_in(&ctx, &creq, &op, &st), DG_OK);
    T_INT(t_write(&op, T_T0 + 300000000), DS_OK);

    memset(&f, 0, sizeof(f));
    names[0] = t_s("Versioned");
    names[1] = t_s("VersionedAct");
    f.names = names;
    f.nnames = 1;

    wi = t_claim_by(DS_WORK_ORCHESTRATION, T_T0 + 301000000, &f);
    T(wi != NULL && wi->orchestratorrequest != NULL);

    if (wi == NULL || wi->orchestratorrequest == NULL) {
        return;
    }

    a = t_action(0, "VersionedAct", "1");
    T(a != NULL);

    if (a == NULL) {
        return;
    }

    schedule_task_action__tags_entry__init(&tag);
    tag.key = "team";
    tag.value = "blue";
    tags[0] = &tag;
    a->scheduletask->version = t_sv("2.0");
    a->scheduletask->tags = tags;
    a->scheduletask->n_tags = 1;

    T_INT(t_sdk_complete(a, wi->completiontoken, T_T0 + 302000000), DS_OK);

    f.names = &names[1];
    wi = t_claim_by(DS_WORK_ACTIVITY, T_T0 + 303000000, &f);
    T(wi != NULL && wi->activityrequest != NULL);

    if (wi == NULL || wi->activityrequest == NULL) {
        return;
    }

    areq = wi->activityrequest;
    T_BYTES(areq->name.data, areq->name.len, "VersionedAct");
    T_SV(areq->version, "2.0");
    T_INT(areq->n_tags, 1);

    if (areq->n_tags == 1) {
        T(strcmp(areq->tags[0]->key, "team") == 0);
        T(strcmp(areq->tags[0]->value, "blue") == 0);
    }

    activity_response__init(&ares);
    ares.result = t_sv("2");
    ares.completiontoken = wi->completiontoken;
    T_INT(dg_activity_done_in(&ctx, &ares, &op), DG_OK);
    T_INT(t_write(&op, T_T0 + 304000000), DS_OK);

    f.names = names;
    wi = t_claim_by(DS_WORK_ORCHESTRATION, T_T0 + 305000000, &f);
    T(wi != NULL && wi->orchestratorrequest != NULL);

    if (wi == NULL || wi->orchestratorrequest == NULL) {
        return;
    }

    he = NULL;

    for (i = 0; i < wi->orchestratorrequest->n_pastevents; i++) {
        if (wi->orchestratorrequest->pastevents[i]->event_type_case
            == HISTORY_EVENT__EVENT_TYPE_TASK_SCHEDULED)
        {
            he = wi->orchestratorrequest->pastevents[i];
        }
    }

    T(he != NULL);

    if (he == NULL) {
        return;
    }

    T_INT(he->eventid, 0);
    T_SV(he->taskscheduled->version, "2.0");
    T_INT(he->taskscheduled->n_tags, 1);

    if (he->taskscheduled->n_tags == 1) {
        T(strcmp(he->taskscheduled->tags[0]->key, "team") == 0);
        T(strcmp(he->taskscheduled->tags[0]->value, "blue") == 0);
    }

    /* the lease given back: an episode that leaves nothing pending */
    T_INT(t_sdk_complete(NULL, wi->completiontoken, T_T0 + 306000000),
          DS_OK);
}


void
t_work(void)
{
    int            rc;
    char           dir[] = "/tmp/dg_test.XXXXXX", err[256], path[512];
    DIR           *d;
    struct dirent *e;
    ds_env_conf_t  conf;

    dg_ctx_init(&ctx, t_mem, 64);

    if (mkdtemp(dir) == NULL) {
        T(0);
        return;
    }

    memset(&conf, 0, sizeof(conf));
    conf.path = dir;
    conf.map_size = 16 * 1024 * 1024;
    conf.sync = DS_SYNC_NONE;

    rc = ds_env_open(&env, &conf, err, sizeof(err));
    T_INT(rc, DS_OK);

    if (rc == DS_OK) {
        t_work_orchestration();
        t_work_state();
        t_work_entity();
        t_work_entity_old_token();
        t_work_events_processed();
        t_work_sdk();
        t_work_entity_actions();
        t_work_sorted();
        t_work_versioned();
        t_work_custom_status();
        ds_env_close(env);
    }

    t_work_tokens();
    t_work_failure_details();
    t_work_failure_properties_memory();
    t_work_failure_properties_edge();
    t_work_failure_properties_empty();
    t_work_failure_nomem();
    t_work_stream();

    d = opendir(dir);

    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] != '.') {
                snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                unlink(path);
            }
        }

        closedir(d);
    }

    T(rmdir(dir) == 0);
}
