
/*
 * Copyright (C) ngx_durable authors
 *
 * The client's requests as the store's operations (ds_op_t inputs).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "durable_grpc.h"
#include "dg_internal.h"


static void
dgi_op_init(ds_op_t *op, ds_op_type_e type)
{
    memset(&op->in, 0, sizeof(op->in));
    op->type = type;
}


static int
dgi_nomem(dg_ctx_t *ctx)
{
    return dg_status_set(&ctx->status, DG_RESOURCE_EXHAUSTED,
                         "out of memory");
}


int
dg_start_in(dg_ctx_t *ctx, const CreateInstanceRequest *req, ds_op_t *op,
    dg_start_t *start)
{
    int  rc;

    dgi_op_init(op, DS_OP_START);
    memset(start, 0, sizeof(dg_start_t));

    if (req->instanceid.len) {
        rc = dgi_id_in(ctx, req->instanceid, "instanceId", &op->in.start.id);
        if (rc != DG_OK) {
            return rc;
        }
    }

    rc = dgi_name_in(ctx, req->name, "name", &op->in.start.name);
    if (rc != DG_OK) {
        return rc;
    }

    rc = dgi_json_in(ctx, req->input, "input", &op->in.start.input);
    if (rc != DG_OK) {
        return rc;
    }

    if (req->version != NULL && req->version->value.len) {
        rc = dgi_name_in(ctx, req->version->value, "version",
                         &start->version);
        if (rc != DG_OK) {
            return rc;
        }
    }

    rc = dgi_tags_in(ctx, req->n_tags, (void **) req->tags, &start->tags);
    if (rc != DG_OK) {
        return rc;
    }

    rc = dg_time_in(ctx, req->scheduledstarttimestamp,
                    "scheduledStartTimestamp", &start->scheduled);
    if (rc != DG_OK) {
        return rc;
    }

    if (req->orchestrationidreusepolicy != NULL) {
        rc = dgi_status_mask(ctx,
                     req->orchestrationidreusepolicy->n_replaceablestatus,
                     req->orchestrationidreusepolicy->replaceablestatus,
                     "orchestrationIdReusePolicy.replaceableStatus",
                     &start->replace);
        if (rc != DG_OK) {
            return rc;
        }
    }

    op->in.start.opts.version = start->version;
    op->in.start.opts.tags = start->tags;
    op->in.start.opts.scheduled = start->scheduled;
    op->in.start.opts.replace = start->replace;

    return DG_OK;
}


int
dg_get_in(dg_ctx_t *ctx, const GetInstanceRequest *req, ds_op_t *op,
    int *inputs)
{
    dgi_op_init(op, DS_OP_STATUS);
    *inputs = req->getinputsandoutputs;

    return dgi_id_in(ctx, req->instanceid, "instanceId", &op->in.control.id);
}


int
dg_raise_in(dg_ctx_t *ctx, const RaiseEventRequest *req, ds_op_t *op)
{
    int  rc;

    dgi_op_init(op, DS_OP_RAISE_EVENT);

    rc = dgi_id_in(ctx, req->instanceid, "instanceId", &op->in.control.id);
    if (rc != DG_OK) {
        return rc;
    }

    rc = dgi_name_in(ctx, req->name, "name", &op->in.control.name);
    if (rc != DG_OK) {
        return rc;
    }

    return dgi_json_in(ctx, req->input, "input", &op->in.control.data);
}


int
dg_terminate_in(dg_ctx_t *ctx, const TerminateRequest *req, ds_op_t *op,
    int *recursive)
{
    int  rc;

    dgi_op_init(op, DS_OP_TERMINATE);
    *recursive = req->recursive;
    op->in.control.recurse = req->recursive;

    rc = dgi_id_in(ctx, req->instanceid, "instanceId", &op->in.control.id);
    if (rc != DG_OK) {
        return rc;
    }

    /* the SDKs send the output as JSON */
    return dgi_json_in(ctx, req->output, "output", &op->in.control.data);
}


static int
dgi_control_in(dg_ctx_t *ctx, ds_op_type_e type, ProtobufCBinaryData id,
    const StringValue *reason, ds_op_t *op)
{
    int  rc;

    dgi_op_init(op, type);

    rc = dgi_id_in(ctx, id, "instanceId", &op->in.control.id);
    if (rc != DG_OK) {
        return rc;
    }

    /* reasons are plain text */
    return dgi_text_in(ctx, reason, &op->in.control.data);
}


int
dg_suspend_in(dg_ctx_t *ctx, const SuspendRequest *req, ds_op_t *op)
{
    return dgi_control_in(ctx, DS_OP_SUSPEND, req->instanceid, req->reason,
                          op);
}


int
dg_resume_in(dg_ctx_t *ctx, const ResumeRequest *req, ds_op_t *op)
{
    return dgi_control_in(ctx, DS_OP_RESUME, req->instanceid, req->reason,
                          op);
}


int
dg_rewind_in(dg_ctx_t *ctx, const RewindInstanceRequest *req, ds_op_t *op)
{
    return dgi_control_in(ctx, DS_OP_REWIND, req->instanceid, req->reason,
                          op);
}


int
dg_restart_in(dg_ctx_t *ctx, const RestartInstanceRequest *req,
    ds_op_t *op, int *new_id)
{
    int  rc;

    dgi_op_init(op, DS_OP_RESTART);
    *new_id = req->restartwithnewinstanceid;

    rc = dgi_id_in(ctx, req->instanceid, "instanceId", &op->in.start.from);
    if (rc != DG_OK) {
        return rc;
    }

    if (!*new_id) {
        op->in.start.id = op->in.start.from;
    }

    return DG_OK;
}


static void
dgi_query_init(ds_query_t *q)
{
    memset(q, 0, sizeof(ds_query_t));

    q->created_from = INT64_MIN;
    q->created_to = INT64_MAX;
}


/*
 * An open end of a range is an unset Timestamp; field names the range's
 * message ("query."), its ends are field + "createdTimeFrom" and so on.
 */

static int
dgi_range_in(dg_ctx_t *ctx, const Timestamp *from, const Timestamp *to,
    const char *field, const char *what, int64_t *f, int64_t *t)
{
    int   rc;
    char  name[96];

    *f = INT64_MIN;
    *t = INT64_MAX;

    if (from != NULL) {
        snprintf(name, sizeof(name), "%s%sTimeFrom", field, what);

        rc = dg_time_in(ctx, from, name, f);
        if (rc != DG_OK) {
            return rc;
        }

        *f = ds_query_bound(*f, 0);
    }

    if (to != NULL) {
        snprintf(name, sizeof(name), "%s%sTimeTo", field, what);

        rc = dg_time_in(ctx, to, name, t);
        if (rc != DG_OK) {
            return rc;
        }

        *t = ds_query_bound(*t, 1);
    }

    return DG_OK;
}


int
dg_purge_in(dg_ctx_t *ctx, const PurgeInstancesRequest *req,
    dg_purge_t *purge)
{
    int                         rc;
    size_t                      i;
    const InstanceBatch        *b;
    const PurgeInstanceFilter  *f;

    memset(purge, 0, sizeof(dg_purge_t));
    dgi_query_init(&purge->query);
    purge->recursive = req->recursive;

    switch (req->request_case) {

    case PURGE_INSTANCES_REQUEST__REQUEST_INSTANCE_ID:
        dgi_op_init(&purge->op, DS_OP_PURGE);
        purge->op.in.control.recurse = req->recursive;

        return dgi_id_in(ctx, req->instanceid, "instanceId",
                         &purge->op.in.control.id);

    case PURGE_INSTANCES_REQUEST__REQUEST_PURGE_INSTANCE_FILTER:
        f = req->purgeinstancefilter;

        dgi_op_init(&purge->op, DS_OP_PURGE_BATCH);
        rc = dgi_range_in(ctx, f->createdtimefrom, f->createdtimeto,
                          "purgeInstanceFilter.", "created",
                          &purge->query.created_from,
                          &purge->query.created_to);
        if (rc != DG_OK) {
            return rc;
        }

        rc = dgi_status_mask(ctx, f->n_runtimestatus, f->runtimestatus,
                             "purgeInstanceFilter.runtimeStatus",
                             &purge->query.status_mask);
        if (rc != DG_OK) {
            return rc;
        }

        purge->query.top = DG_PURGE_MAX;
        purge->query.scan_budget = DG_PURGE_MAX * 10;
        purge->op.in.purge.query = &purge->query;
        purge->op.in.purge.max = DG_PURGE_MAX;

        return DG_OK;

    case PURGE_INSTANCES_REQUEST__REQUEST_INSTANCE_BATCH:
        b = req->instancebatch;

        if (b->n_instanceids > DG_PURGE_MAX) {
            return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                                 "'instanceBatch.instanceIds' has %zu ids, "
                                 "more than %d", b->n_instanceids,
                                 DG_PURGE_MAX);
        }

        purge->ids = dgi_alloc(ctx->mem,
                               (b->n_instanceids + 1) * sizeof(ds_str_t));
        if (purge->ids == NULL) {
            return dgi_nomem(ctx);
        }

        for (i = 0; i < b->n_instanceids; i++) {
            rc = dgi_id_in(ctx, b->instanceids[i],
                           "instanceBatch.instanceIds", &purge->ids[i]);
            if (rc != DG_OK) {
                return rc;
            }
        }

        purge->nids = b->n_instanceids;

        return DG_OK;

    default:
        return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                             "a purge needs 'instanceId', "
                             "'purgeInstanceFilter' or 'instanceBatch'");
    }
}


static int
dgi_page(dg_ctx_t *ctx, int32_t n, const char *field, size_t *top)
{
    if (n < 0) {
        return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                             "'%s' is negative", field);
    }

    *top = n == 0 ? DG_PAGE_DEFAULT
                  : n > DG_PAGE_MAX ? DG_PAGE_MAX : (size_t) n;

    return DG_OK;
}


static int
dgi_token_in(dg_ctx_t *ctx, const StringValue *v, const char *field,
    ds_str_t *token)
{
    token->data = "";
    token->len = 0;

    if (v == NULL) {
        return DG_OK;
    }

    if (v->value.len > DS_TOKEN_MAX) {
        return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                             "'%s' is not a continuation token of this "
                             "server", field);
    }

    *token = dgi_str(v->value);

    return DG_OK;
}


int
dg_query_in(dg_ctx_t *ctx, const QueryInstancesRequest *req, ds_op_t *op,
    ds_query_t *query, int *inputs)
{
    int                   rc;
    const InstanceQuery  *q;

    dgi_op_init(op, DS_OP_LIST);
    dgi_query_init(query);
    op->in.list.query = query;
    *inputs = 0;

    q = req->query;

    if (q == NULL) {
        query->top = DG_PAGE_DEFAULT;
        query->scan_budget = query->top * 10;
        return DG_OK;
    }

    *inputs = q->fetchinputsandoutputs;

    rc = dgi_range_in(ctx, q->createdtimefrom, q->createdtimeto, "query.",
                      "created", &query->created_from, &query->created_to);
    if (rc != DG_OK) {
        return rc;
    }

    rc = dgi_status_mask(ctx, q->n_runtimestatus, q->runtimestatus,
                         "query.runtimeStatus", &query->status_mask);
    if (rc != DG_OK) {
        return rc;
    }

    rc = dgi_page(ctx, q->maxinstancecount, "query.maxInstanceCount",
                  &query->top);
    if (rc != DG_OK) {
        return rc;
    }

    query->scan_budget = query->top * 10;

    if (q->instanceidprefix != NULL && q->instanceidprefix->value.len) {
        query->id_prefix = dgi_str(q->instanceidprefix->value);

        if (query->id_prefix.len > DS_ID_MAX) {
            return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                                 "'query.instanceIdPrefix' is longer than "
                                 "an id");
        }
    }

    return dgi_token_in(ctx, q->continuationtoken, "query.continuationToken",
                        &query->token);
}


int
dg_list_ids_in(dg_ctx_t *ctx, const ListInstanceIdsRequest *req,
    ds_op_t *op, ds_query_t *query, dg_list_ids_t *ids)
{
    int  rc;

    dgi_op_init(op, DS_OP_LIST);
    dgi_query_init(query);
    op->in.list.query = query;

    rc = dgi_status_mask(ctx, req->n_runtimestatus, req->runtimestatus,
                         "runtimeStatus", &query->status_mask);
    if (rc != DG_OK) {
        return rc;
    }

    /* only ended instances have a completed time */

    if (query->status_mask == 0) {
        query->status_mask = DS_TERMINAL_MASK;
    }

    rc = dgi_range_in(ctx, req->completedtimefrom, req->completedtimeto,
                      "", "completed", &ids->completed_from,
                      &ids->completed_to);
    if (rc != DG_OK) {
        return rc;
    }

    rc = dgi_page(ctx, req->pagesize, "pageSize", &query->top);
    if (rc != DG_OK) {
        return rc;
    }

    query->scan_budget = query->top * 10;

    return dgi_token_in(ctx, req->lastinstancekey, "lastInstanceKey",
                        &query->token);
}


int
dg_list_ids_match(const dg_list_ids_t *ids, const ds_instance_t *inst)
{
    if (ids->completed_from == INT64_MIN && ids->completed_to == INT64_MAX) {
        return 1;
    }

    return ds_status_is_terminal(inst->status)
           && inst->updated >= ids->completed_from
           && inst->updated <= ids->completed_to;
}


int
dg_entity_id(dg_ctx_t *ctx, ProtobufCBinaryData id, const char *field,
    ds_str_t *name, ds_str_t *key)
{
    char             buf[160];
    const char      *p, *at;
    ds_name_fault_t  f;

    p = (const char *) id.data;

    if (id.len < 2 || p[0] != '@'
        || (at = memchr(p + 1, '@', id.len - 1)) == NULL)
    {
        return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                             "'%s' is not an entity id \"@name@key\"",
                             field);
    }

    name->data = p + 1;
    name->len = (size_t) (at - p - 1);
    key->data = at + 1;
    key->len = id.len - (size_t) (at + 1 - p);

    if (ds_name_entity(*name, *key, &f) != DS_OK) {
        (void) ds_name_fault_text(&f, buf, sizeof(buf));

        return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                             "'%s': the entity %s %s", field,
                             f.part == DS_NAME_PART_KEY ? "key" : "name",
                             buf);
    }

    return DG_OK;
}


int
dg_signal_in(dg_ctx_t *ctx, const SignalEntityRequest *req, ds_op_t *op)
{
    int  rc;

    dgi_op_init(op, DS_OP_ENTITY_SIGNAL);

    rc = dg_entity_id(ctx, req->instanceid, "instanceId",
                      &op->in.entity.name, &op->in.entity.key);
    if (rc != DG_OK) {
        return rc;
    }

    rc = dgi_operation_in(ctx, req->name, "name", &op->in.entity.operation);
    if (rc != DG_OK) {
        return rc;
    }

    /* the store holds a signal scheduled later until its time */
    rc = dg_time_in(ctx, req->scheduledtime, "scheduledTime",
                    &op->in.entity.at);
    if (rc != DG_OK) {
        return rc;
    }

    return dgi_json_in(ctx, req->input, "input", &op->in.entity.input);
}


int
dg_entity_get_in(dg_ctx_t *ctx, const GetEntityRequest *req, ds_op_t *op,
    int *state)
{
    dgi_op_init(op, DS_OP_ENTITY_GET);
    *state = req->includestate;

    return dg_entity_id(ctx, req->instanceid, "instanceId",
                        &op->in.entity.name, &op->in.entity.key);
}


int
dg_entity_query_in(dg_ctx_t *ctx, const QueryEntitiesRequest *req,
    ds_op_t *op, int *state, ds_str_t *key_prefix)
{
    int                 rc;
    const char         *p, *at;
    ds_str_t            s;
    const EntityQuery  *q;

    dgi_op_init(op, DS_OP_ENTITY_LIST);
    op->in.entity_list.top = DG_PAGE_DEFAULT;
    op->in.entity_list.scan_budget = DG_PAGE_DEFAULT * 10;
    key_prefix->data = "";
    key_prefix->len = 0;
    *state = 0;

    q = req->query;

    if (q == NULL) {
        return DG_OK;
    }

    *state = q->includestate;

    if (q->instanceidstartswith != NULL
        && q->instanceidstartswith->value.len)
    {
        s = dgi_str(q->instanceidstartswith->value);
        p = s.data;

        /* "@name@key-prefix", or a prefix of "@name" taken as the name */

        if (p[0] != '@') {
            return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                                 "'query.instanceIdStartsWith' must start "
                                 "with '@'");
        }

        at = memchr(p + 1, '@', s.len - 1);

        op->in.entity_list.name.data = p + 1;
        op->in.entity_list.name.len = at ? (size_t) (at - p - 1)
                                         : s.len - 1;

        if (at) {
            key_prefix->data = at + 1;
            key_prefix->len = s.len - (size_t) (at + 1 - p);
        }
    }

    op->in.entity_list.from = 0;
    op->in.entity_list.to = 0;

    if (q->lastmodifiedfrom != NULL) {
        rc = dg_time_in(ctx, q->lastmodifiedfrom, "query.lastModifiedFrom",
                        &op->in.entity_list.from);
        if (rc != DG_OK) {
            return rc;
        }

        op->in.entity_list.from = ds_query_bound(op->in.entity_list.from, 0);
    }

    if (q->lastmodifiedto != NULL) {
        rc = dg_time_in(ctx, q->lastmodifiedto, "query.lastModifiedTo",
                        &op->in.entity_list.to);
        if (rc != DG_OK) {
            return rc;
        }

        op->in.entity_list.to = ds_query_bound(op->in.entity_list.to, 1);
    }

    if (q->pagesize != NULL) {
        rc = dgi_page(ctx, q->pagesize->value, "query.pageSize",
                      &op->in.entity_list.top);
        if (rc != DG_OK) {
            return rc;
        }

        op->in.entity_list.scan_budget = op->in.entity_list.top * 10;
    }

    return dgi_token_in(ctx, q->continuationtoken, "query.continuationToken",
                        &op->in.entity_list.token_in);
}


int
dg_entity_match(ds_str_t key_prefix, const ds_entity_t *e)
{
    return e->key.len >= key_prefix.len
           && memcmp(e->key.data, key_prefix.data, key_prefix.len) == 0;
}


int
dg_history_in(dg_ctx_t *ctx, const StreamInstanceHistoryRequest *req,
    ds_op_t *op, uint64_t *execution)
{
    int                  rc;
    char                 buf[24], *end;
    ds_str_t             id;
    unsigned long long   n;

    dgi_op_init(op, DS_OP_HISTORY);
    *execution = 0;

    rc = dgi_id_in(ctx, req->instanceid, "instanceId", &id);
    if (rc != DG_OK) {
        return rc;
    }

    op->in.history.id = id;
    op->in.history.from = 1;
    op->in.history.max_events = DG_CHUNK_EVENTS;
    op->in.history.max_bytes = DG_CHUNK_BYTES;

    if (req->executionid == NULL || req->executionid->value.len == 0) {
        return DG_OK;
    }

    /* this server's executionIds are execution numbers */

    if (req->executionid->value.len >= sizeof(buf)) {
        goto bad;
    }

    memcpy(buf, req->executionid->value.data, req->executionid->value.len);
    buf[req->executionid->value.len] = '\0';

    n = strtoull(buf, &end, 10);

    if (*end != '\0' || buf[0] < '0' || buf[0] > '9') {
        goto bad;
    }

    *execution = (uint64_t) n;

    return DG_OK;

bad:

    return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                         "'executionId' is not an execution of this server");
}


int
dg_clean_in(dg_ctx_t *ctx, const CleanEntityStorageRequest *req,
    ds_op_t *op)
{
    int       rc;
    ds_str_t  token;

    dgi_op_init(op, DS_OP_ENTITY_CLEAN);

    rc = dgi_token_in(ctx, req->continuationtoken, "continuationToken",
                      &token);
    if (rc != DG_OK) {
        return rc;
    }

    op->in.entity_clean.token_in = token;
    op->in.entity_clean.max = DG_CLEAN_MAX;
    op->in.entity_clean.remove_empty = req->removeemptyentities;
    op->in.entity_clean.release_orphaned = req->releaseorphanedlocks;

    return DG_OK;
}
