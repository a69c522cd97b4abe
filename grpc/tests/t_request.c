
/*
 * Copyright (C) ngx_durable authors
 *
 * The client's requests as operations: fields in place, names and JSON
 * checked with the field named, the purge, query and entity shapes.
 */


#include "t.h"


static dg_ctx_t  ctx;


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


#define T_MSG(w)        T_BYTES(ctx.status.message, ctx.status.len, w)


static void
t_request_start(void)
{
    ds_op_t                            op;
    dg_start_t                         st;
    Timestamp                          ts;
    OrchestrationStatus                rs[2];
    CreateInstanceRequest              req;
    OrchestrationIdReusePolicy         pol;
    CreateInstanceRequest__TagsEntry   e1, e2, *tags[2];

    create_instance_request__init(&req);
    req.instanceid = t_b("order-1");
    req.name = t_b("Hello");
    req.input = t_sv(" { \"city\" : \"Tokyo\" } ");

    T_INT(dg_start_in(&ctx, &req, &op, &st), DG_OK);
    T_INT(op.type, DS_OP_START);
    T_STR(op.in.start.id, "order-1");
    T_STR(op.in.start.name, "Hello");
    T_STR(op.in.start.input, "{\"city\":\"Tokyo\"}");
    T_INT(st.version.len, 0);
    T_INT(st.tags.len, 0);
    T_INT(st.scheduled, 0);
    T_INT(st.replace, 0);

    /* version, tags, a scheduled time and a reuse policy */

    req.version = t_sv("1.2");
    create_instance_request__tags_entry__init(&e1);
    create_instance_request__tags_entry__init(&e2);
    e1.key = "team";
    e1.value = "a\"b";
    e2.key = "k";
    e2.value = "";
    tags[0] = &e1;
    tags[1] = &e2;
    req.n_tags = 2;
    req.tags = tags;
    timestamp__init(&ts);
    ts.seconds = 1700000000;
    ts.nanos = 500000000;
    req.scheduledstarttimestamp = &ts;
    orchestration_id_reuse_policy__init(&pol);
    rs[0] = ORCHESTRATION_STATUS__ORCHESTRATION_STATUS_COMPLETED;
    rs[1] = ORCHESTRATION_STATUS__ORCHESTRATION_STATUS_FAILED;
    pol.n_replaceablestatus = 2;
    pol.replaceablestatus = rs;
    req.orchestrationidreusepolicy = &pol;

    T_INT(dg_start_in(&ctx, &req, &op, &st), DG_OK);
    T_STR(st.version, "1.2");
    T_STR(st.tags, "{\"team\":\"a\\\"b\",\"k\":\"\"}");
    T_INT(st.scheduled, 1700000000500000LL);
    T_INT(st.replace, DS_STATUS_MASK(DS_COMPLETED)
                      | DS_STATUS_MASK(DS_FAILED));

    /* no id: left for the caller to make */

    req.instanceid = t_b("");
    T_INT(dg_start_in(&ctx, &req, &op, &st), DG_OK);
    T_INT(op.in.start.id.len, 0);

    /* refusals name the field */

    req.instanceid = t_b("a/b");
    T_INT(dg_start_in(&ctx, &req, &op, &st), DG_INVALID_ARGUMENT);
    T(strstr(ctx.status.message, "'instanceId'") != NULL);

    req.instanceid = t_b("ok");
    req.name = t_b("");
    T_INT(dg_start_in(&ctx, &req, &op, &st), DG_INVALID_ARGUMENT);
    T(strncmp(ctx.status.message, "'name' ", 7) == 0);

    req.name = t_b("Hello");
    req.input = t_sv("{\"a\":");
    T_INT(dg_start_in(&ctx, &req, &op, &st), DG_INVALID_ARGUMENT);
    T(strncmp(ctx.status.message, "'input' is not JSON", 19) == 0);

    req.input = t_sv("[[[[1]]]]");
    T_INT(dg_start_in(&ctx, &req, &op, &st), DG_INVALID_ARGUMENT);

    req.input = NULL;
    rs[1] = (OrchestrationStatus) 9;
    T_INT(dg_start_in(&ctx, &req, &op, &st), DG_INVALID_ARGUMENT);
    T(strstr(ctx.status.message, "replaceableStatus") != NULL);
    rs[1] = ORCHESTRATION_STATUS__ORCHESTRATION_STATUS_FAILED;

    /* a start time that would wrap is refused, not stored */

    ts.seconds = 9223372036853LL;
    ts.nanos = INT32_MAX;
    T_INT(dg_start_in(&ctx, &req, &op, &st), DG_INVALID_ARGUMENT);
    T(strncmp(ctx.status.message, "'scheduledStartTimestamp.nanos' ", 32)
      == 0);

    ts.seconds = -9223372036853LL;
    ts.nanos = 0;
    T_INT(dg_start_in(&ctx, &req, &op, &st), DG_INVALID_ARGUMENT);
    T(strncmp(ctx.status.message, "'scheduledStartTimestamp.seconds' ",
              34) == 0);
}


static void
t_request_control(void)
{
    int                     flag;
    ds_op_t                 op;
    SuspendRequest          sus;
    TerminateRequest        term;
    RaiseEventRequest       raise;
    GetInstanceRequest      get;
    RestartInstanceRequest  rst;

    raise_event_request__init(&raise);
    raise.instanceid = t_b("i1");
    raise.name = t_b("Approval");
    raise.input = t_sv("true");
    T_INT(dg_raise_in(&ctx, &raise, &op), DG_OK);
    T_INT(op.type, DS_OP_RAISE_EVENT);
    T_STR(op.in.control.id, "i1");
    T_STR(op.in.control.name, "Approval");
    T_STR(op.in.control.data, "true");

    raise.name = t_b("a\x01");
    T_INT(dg_raise_in(&ctx, &raise, &op), DG_INVALID_ARGUMENT);

    /* a terminate's output is JSON, a suspend's reason plain text */

    terminate_request__init(&term);
    term.instanceid = t_b("i1");
    term.output = t_sv("\"stop\"");
    term.recursive = 1;
    T_INT(dg_terminate_in(&ctx, &term, &op, &flag), DG_OK);
    T_INT(op.type, DS_OP_TERMINATE);
    T_STR(op.in.control.data, "\"stop\"");
    T_INT(flag, 1);

    suspend_request__init(&sus);
    sus.instanceid = t_b("i1");
    sus.reason = t_sv("a \"pause\"");
    T_INT(dg_suspend_in(&ctx, &sus, &op), DG_OK);
    T_INT(op.type, DS_OP_SUSPEND);
    T_STR(op.in.control.data, "\"a \\\"pause\\\"\"");

    sus.reason = NULL;
    T_INT(dg_suspend_in(&ctx, &sus, &op), DG_OK);
    T_INT(op.in.control.data.len, 0);

    /* an empty reason as protobuf-c unpacks it: no data pointer (found
       by fuzz_grpc under UBSan) */

    sus.reason = t_sv("");
    sus.reason->value.data = NULL;
    T_INT(dg_suspend_in(&ctx, &sus, &op), DG_OK);
    T_STR(op.in.control.data, "\"\"");

    get_instance_request__init(&get);
    get.instanceid = t_b("@e@k");
    T_INT(dg_get_in(&ctx, &get, &op, &flag), DG_INVALID_ARGUMENT);
    get.instanceid = t_b("i1");
    get.getinputsandoutputs = 1;
    T_INT(dg_get_in(&ctx, &get, &op, &flag), DG_OK);
    T_INT(op.type, DS_OP_STATUS);
    T_INT(flag, 1);

    restart_instance_request__init(&rst);
    rst.instanceid = t_b("i1");
    T_INT(dg_restart_in(&ctx, &rst, &op, &flag), DG_OK);
    T_INT(op.type, DS_OP_RESTART);
    T_STR(op.in.start.from, "i1");
    T_STR(op.in.start.id, "i1");
    T_INT(flag, 0);

    rst.restartwithnewinstanceid = 1;
    T_INT(dg_restart_in(&ctx, &rst, &op, &flag), DG_OK);
    T_INT(op.in.start.id.len, 0);
    T_INT(flag, 1);
}


static void
t_request_purge(void)
{
    Timestamp              to;
    dg_purge_t             p;
    InstanceBatch          batch;
    OrchestrationStatus    rs[1];
    PurgeInstanceFilter    f;
    ProtobufCBinaryData    ids[2];
    PurgeInstancesRequest  req;

    purge_instances_request__init(&req);
    T_INT(dg_purge_in(&ctx, &req, &p), DG_INVALID_ARGUMENT);

    req.request_case = PURGE_INSTANCES_REQUEST__REQUEST_INSTANCE_ID;
    req.instanceid = t_b("done-1");
    req.recursive = 1;
    T_INT(dg_purge_in(&ctx, &req, &p), DG_OK);
    T_INT(p.op.type, DS_OP_PURGE);
    T_STR(p.op.in.control.id, "done-1");
    T_INT(p.recursive, 1);

    purge_instance_filter__init(&f);
    timestamp__init(&to);
    to.seconds = 10;
    f.createdtimeto = &to;
    rs[0] = ORCHESTRATION_STATUS__ORCHESTRATION_STATUS_COMPLETED;
    f.n_runtimestatus = 1;
    f.runtimestatus = rs;
    req.request_case = PURGE_INSTANCES_REQUEST__REQUEST_PURGE_INSTANCE_FILTER;
    req.purgeinstancefilter = &f;
    T_INT(dg_purge_in(&ctx, &req, &p), DG_OK);
    T_INT(p.op.type, DS_OP_PURGE_BATCH);
    T(p.op.in.purge.query == &p.query);
    T_INT(p.query.created_from, INT64_MIN);
    T_INT(p.query.created_to, 10000000);
    T_INT(p.query.status_mask, DS_STATUS_MASK(DS_COMPLETED));
    T_INT(p.op.in.purge.max, DG_PURGE_MAX);

    /* a bound at the epoch narrows (0 would mean no bound to the store) */
    to.seconds = 0;
    f.createdtimefrom = &to;
    T_INT(dg_purge_in(&ctx, &req, &p), DG_OK);
    T_INT(p.query.created_from, 1);
    T_INT(p.query.created_to, -1);

    to.nanos = -1;
    T_INT(dg_purge_in(&ctx, &req, &p), DG_INVALID_ARGUMENT);
    T(strncmp(ctx.status.message,
              "'purgeInstanceFilter.createdTimeFrom.nanos' ", 44) == 0);
    to.nanos = 0;
    f.createdtimefrom = NULL;

    instance_batch__init(&batch);
    ids[0] = t_b("a");
    ids[1] = t_b("b");
    batch.n_instanceids = 2;
    batch.instanceids = ids;
    req.request_case = PURGE_INSTANCES_REQUEST__REQUEST_INSTANCE_BATCH;
    req.instancebatch = &batch;
    T_INT(dg_purge_in(&ctx, &req, &p), DG_OK);
    T_INT(p.nids, 2);
    T_STR(p.ids[1], "b");

    ids[1] = t_b("#");
    T_INT(dg_purge_in(&ctx, &req, &p), DG_INVALID_ARGUMENT);
    T(strstr(ctx.status.message, "instanceBatch.instanceIds") != NULL);

    batch.n_instanceids = DG_PURGE_MAX + 1;
    T_INT(dg_purge_in(&ctx, &req, &p), DG_INVALID_ARGUMENT);
}


static void
t_request_query(void)
{
    int                     io;
    ds_op_t                 op;
    ds_query_t              q;
    InstanceQuery           iq;
    dg_list_ids_t           li;
    ds_instance_t           inst;
    OrchestrationStatus     rs[2];
    QueryInstancesRequest   req;
    ListInstanceIdsRequest  lreq;
    Timestamp               from;

    query_instances_request__init(&req);
    T_INT(dg_query_in(&ctx, &req, &op, &q, &io), DG_OK);
    T_INT(op.type, DS_OP_LIST);
    T_INT(q.top, DG_PAGE_DEFAULT);
    T_INT(io, 0);

    instance_query__init(&iq);
    rs[0] = ORCHESTRATION_STATUS__ORCHESTRATION_STATUS_RUNNING;
    rs[1] = ORCHESTRATION_STATUS__ORCHESTRATION_STATUS_PENDING;
    iq.n_runtimestatus = 2;
    iq.runtimestatus = rs;
    iq.maxinstancecount = 5;
    iq.instanceidprefix = t_sv("order-");
    iq.continuationtoken = t_sv("abc");
    iq.fetchinputsandoutputs = 1;
    req.query = &iq;
    T_INT(dg_query_in(&ctx, &req, &op, &q, &io), DG_OK);
    T_INT(q.status_mask, DS_STATUS_MASK(DS_RUNNING)
                         | DS_STATUS_MASK(DS_PENDING));
    T_INT(q.top, 5);
    T(q.scan_budget >= q.top);
    T_STR(q.id_prefix, "order-");
    T_STR(q.token, "abc");
    T_INT(io, 1);

    iq.maxinstancecount = 1000000;
    T_INT(dg_query_in(&ctx, &req, &op, &q, &io), DG_OK);
    T_INT(q.top, DG_PAGE_MAX);

    iq.maxinstancecount = -1;
    T_INT(dg_query_in(&ctx, &req, &op, &q, &io), DG_INVALID_ARGUMENT);

    /* ListInstanceIds: ended instances, filtered by completion time */

    list_instance_ids_request__init(&lreq);
    timestamp__init(&from);
    from.seconds = 100;
    lreq.completedtimefrom = &from;
    T_INT(dg_list_ids_in(&ctx, &lreq, &op, &q, &li), DG_OK);
    T_INT(q.status_mask, DS_TERMINAL_MASK);

    memset(&inst, 0, sizeof(inst));
    inst.status = DS_COMPLETED;
    inst.updated = 100000000;
    T(dg_list_ids_match(&li, &inst));
    inst.updated = 99999999;
    T(!dg_list_ids_match(&li, &inst));
}


static void
t_request_entity(void)
{
    int                   st;
    ds_op_t               op;
    ds_str_t              name, key, prefix;
    ds_entity_t           e;
    Timestamp             at;
    EntityQuery           eq;
    Int32Value            page;
    GetEntityRequest      get;
    SignalEntityRequest   sig;
    QueryEntitiesRequest  qreq;

    T_INT(dg_entity_id(&ctx, t_b("@counter@c1"), "x", &name, &key), DG_OK);
    T_STR(name, "counter");
    T_STR(key, "c1");
    T_INT(dg_entity_id(&ctx, t_b("@counter@"), "x", &name, &key), DG_OK);
    T_INT(key.len, 0);
    T_INT(dg_entity_id(&ctx, t_b("counter"), "x", &name, &key),
          DG_INVALID_ARGUMENT);
    T_INT(dg_entity_id(&ctx, t_b("@@k"), "x", &name, &key),
          DG_INVALID_ARGUMENT);
    T_INT(dg_entity_id(&ctx, t_b("@a@k/1"), "x", &name, &key),
          DG_INVALID_ARGUMENT);
    T(strstr(ctx.status.message, "key") != NULL);

    signal_entity_request__init(&sig);
    sig.instanceid = t_b("@counter@c1");
    sig.name = t_b("add");
    sig.input = t_sv("5");
    T_INT(dg_signal_in(&ctx, &sig, &op), DG_OK);
    T_INT(op.type, DS_OP_ENTITY_SIGNAL);
    T_STR(op.in.entity.name, "counter");
    T_STR(op.in.entity.key, "c1");
    T_STR(op.in.entity.operation, "add");
    T_STR(op.in.entity.input, "5");

    /* the empty operation name, the reference's default; a bad one not */
    sig.name = t_b("");
    T_INT(dg_signal_in(&ctx, &sig, &op), DG_OK);
    T(op.in.entity.operation.data != NULL);
    T_STR(op.in.entity.operation, "");
    sig.name = t_b("a/b");
    T_INT(dg_signal_in(&ctx, &sig, &op), DG_INVALID_ARGUMENT);

    get_entity_request__init(&get);
    get.instanceid = t_b("@counter@c1");
    get.includestate = 1;
    T_INT(dg_entity_get_in(&ctx, &get, &op, &st), DG_OK);
    T_INT(op.type, DS_OP_ENTITY_GET);
    T_INT(st, 1);

    query_entities_request__init(&qreq);
    entity_query__init(&eq);
    eq.instanceidstartswith = t_sv("@counter@c");
    int32_value__init(&page);
    page.value = 7;
    eq.pagesize = &page;
    qreq.query = &eq;
    T_INT(dg_entity_query_in(&ctx, &qreq, &op, &st, &prefix), DG_OK);
    T_INT(op.type, DS_OP_ENTITY_LIST);
    T_STR(op.in.entity_list.name, "counter");
    T_STR(prefix, "c");
    T_INT(op.in.entity_list.top, 7);
    T_INT(op.in.entity_list.from, 0);
    T_INT(op.in.entity_list.to, 0);

    /* bounds: one at the epoch narrows (0 is no bound to the store) */
    timestamp__init(&at);
    eq.lastmodifiedfrom = &at;
    eq.lastmodifiedto = &at;
    T_INT(dg_entity_query_in(&ctx, &qreq, &op, &st, &prefix), DG_OK);
    T_INT(op.in.entity_list.from, 1);
    T_INT(op.in.entity_list.to, -1);
    at.seconds = 5;
    T_INT(dg_entity_query_in(&ctx, &qreq, &op, &st, &prefix), DG_OK);
    T_INT(op.in.entity_list.from, 5000000);
    T_INT(op.in.entity_list.to, 5000000);
    eq.lastmodifiedfrom = NULL;
    at.seconds = INT64_MAX;
    T_INT(dg_entity_query_in(&ctx, &qreq, &op, &st, &prefix),
          DG_INVALID_ARGUMENT);
    T(strncmp(ctx.status.message, "'query.lastModifiedTo.seconds' ", 31)
      == 0);
    eq.lastmodifiedto = NULL;

    memset(&e, 0, sizeof(e));
    e.key = t_s("c1");
    T(dg_entity_match(prefix, &e));
    e.key = t_s("d1");
    T(!dg_entity_match(prefix, &e));

    eq.instanceidstartswith = t_sv("counter");
    T_INT(dg_entity_query_in(&ctx, &qreq, &op, &st, &prefix),
          DG_INVALID_ARGUMENT);
}


static void
t_request_sdk(void)
{
    uint64_t                      exec;
    ds_op_t                       op;
    CleanEntityStorageRequest     clean;
    StreamInstanceHistoryRequest  hist;

    stream_instance_history_request__init(&hist);
    hist.instanceid = t_b("i1");
    clean_entity_storage_request__init(&clean);
    clean.removeemptyentities = 1;

    T_INT(dg_history_in(&ctx, &hist, &op, &exec), DG_OK);
    T_INT(op.type, DS_OP_HISTORY);
    T_STR(op.in.history.id, "i1");
    T_INT(op.in.history.from, 1);
    T_INT(op.in.history.max_events, DG_CHUNK_EVENTS);
    T_INT(exec, 0);

    hist.executionid = t_sv("12");
    T_INT(dg_history_in(&ctx, &hist, &op, &exec), DG_OK);
    T_INT(exec, 12);
    hist.executionid = t_sv("-1");
    T_INT(dg_history_in(&ctx, &hist, &op, &exec), DG_INVALID_ARGUMENT);

    clean.continuationtoken = t_sv("tok");
    T_INT(dg_clean_in(&ctx, &clean, &op), DG_OK);
    T_INT(op.type, DS_OP_ENTITY_CLEAN);
    T_STR(op.in.entity_clean.token_in, "tok");
    T_INT(op.in.entity_clean.remove_empty, 1);
    T_INT(op.in.entity_clean.release_orphaned, 0);
}


void
t_request(void)
{
    dg_ctx_init(&ctx, t_mem, 3);

    t_request_start();
    t_request_control();
    t_request_purge();
    t_request_query();
    t_request_entity();
    t_request_sdk();
}
