
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

    /* refused first: a bad name, then an id used twice */

    actions[1]->scheduletask->name = t_b("");
    T_INT(dg_orchestrator_done_in(&ctx, &res, &op), DG_INVALID_ARGUMENT);
    T(strncmp(ctx.status.message, "action 1 (scheduleTask): 'name' ", 32)
      == 0);
    actions[1]->scheduletask->name = t_b("Fail");
    actions[1]->id = 1;
    T_INT(dg_orchestrator_done_in(&ctx, &res, &op), DG_INVALID_ARGUMENT);
    T_BYTES(ctx.status.message, ctx.status.len, "action 1 (scheduleTask): "
            "'id' 1 is the id of action 0 too");
    actions[1]->id = 2;

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

    res.completiontoken = wi->completiontoken;
    T_INT(dg_orchestrator_done_in(&ctx, &res, &op), DG_INVALID_ARGUMENT);
    T(strstr(ctx.status.message, "activity work item") != NULL);

    activity_response__init(&ares);
    ares.instanceid = t_b("o1");
    ares.taskid = 1;
    ares.result = t_sv("\"Hello Tokyo\"");
    ares.completiontoken = wi->completiontoken;
    T_INT(dg_activity_done_in(&ctx, &ares, &op), DG_OK);
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


static void
t_work_entity(void)
{
    int                  state;
    ds_op_t              op;
    WorkItem            *wi;
    t_read_t             r;
    EntityBatchResult    res;
    GetEntityRequest     get;
    SignalEntityRequest  sig;

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
    T(wi->entityrequest->operations[0]->requestid.len > 0);

    entity_batch_result__init(&res);
    res.entitystate = t_sv("5");
    res.completiontoken = wi->completiontoken;
    T_INT(dg_entity_done_in(&ctx, &res, &op), DG_OK);
    T_INT(op.in.work.delete_state, 0);
    T_INT(t_write(&op, T_T0 + 2000000), DS_OK);

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

    T_INT(dg_health_ping_out(&ctx, &wi), DG_OK);
    T_INT(wi->request_case, WORK_ITEM__REQUEST_HEALTH_PING);

    T_INT(dg_event_out(&ctx, t_s("{\"EventType\":\"OrchestratorStarted\","
                                 "\"Timestamp\":\"2024-01-02T03:04:05Z\"}"),
                       &events[0]), DG_OK);
    T_INT(dg_chunk_out(&ctx, events, 1, &chunk), DG_OK);
    T_INT(chunk->n_events, 1);
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
        ds_env_close(env);
    }

    t_work_tokens();
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
