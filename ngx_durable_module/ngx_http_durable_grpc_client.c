
/*
 * Copyright (C) ngx_durable authors
 *
 * The client's calls of the gRPC service: start, read, wait for, raise,
 * terminate, suspend, resume, rewind, restart, purge, query and list
 * instances, read their history; signal, read, query and clean entities.
 * Each request becomes a store operation through the codec
 * (grpc/durable_grpc.h), submitted to the store; a read's answer is
 * packed in its done(), while the store holds what it points to.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_control.h"
#include "ngx_http_durable_grpc.h"
#include "ngx_http_durable_log.h"
#include "ngx_http_durable_orchestrators.h"
#include "ngx_http_durable_params.h"
#include "ngx_http_durable_variables.h"
#include "ngx_http_durable_wait.h"
#include "ngx_http_durable_writer.h"


/*
 * ms: a wait re-reads without a notification only for what notifies no
 * one: a purge of the instance, a write by a program outside nginx
 * (durable import)
 */
#define NGX_HTTP_DURABLE_GRPC_REREAD    60000


/* a read and what its answer needs */
typedef struct {
    ngx_http_request_t             *request;
    ngx_http_durable_grpc_ctx_t    *grpc;
    ds_op_t                         op;
    ds_query_t                      query;
    int                             inputs;     /* with input and output */
    ngx_uint_t                      completion; /* WaitForInstanceCompletion */
    ngx_uint_t                      ready;      /* the wait is over */
    ngx_uint_t                      expired;    /* the wait's deadline */
    ngx_http_durable_call_t         call;       /* a wait's, made again */
    OrchestrationState            **states;     /* a query's page */
    EntityMetadata                **entities;   /* an entity query's */
    ProtobufCBinaryData            *ids;        /* ListInstanceIds' */
    size_t                          nstates;
    size_t                          size;
    ds_str_t                        key_prefix; /* of an entity query */
    dg_list_ids_t                   list_ids;
    dg_events_t                     events;     /* a history chunk's */
    uint64_t                        execution;  /* asked for; 0: any */
    ngx_uint_t                      fixed;      /* by the first chunk */
    int                             rc;         /* of the codec */
    char                            token[DS_TOKEN_MAX];
    size_t                          bytes;      /* a query page's items */
    size_t                          max_bytes;
    ngx_uint_t                      full;
    ngx_uint_t                      skipped;    /* read once it was full */
    char                            cut[DS_TOKEN_MAX]; /* its token then */
    size_t                          cut_len;
} ngx_http_durable_grpc_read_t;


/* a purge, and the operations of a purge of a list of ids */
typedef struct {
    dg_purge_t                      purge;
    ds_op_t                        *ops;
    ngx_uint_t                      pending;    /* ops not answered */
} ngx_http_durable_grpc_purge_t;


static ngx_int_t ngx_http_durable_grpc_control(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g, int rc);
static ngx_int_t ngx_http_durable_grpc_start_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static ngx_int_t ngx_http_durable_grpc_empty_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static ngx_int_t ngx_http_durable_grpc_purge_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static ngx_int_t ngx_http_durable_grpc_purged_one(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static ngx_http_durable_grpc_read_t *ngx_http_durable_grpc_read_alloc(
    ngx_http_request_t *r, ngx_http_durable_grpc_ctx_t *g);
static void ngx_http_durable_grpc_got(ds_op_t *op);
static ngx_int_t ngx_http_durable_grpc_wait_read(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t expired);
static ngx_int_t ngx_http_durable_grpc_waited(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static ngx_int_t ngx_http_durable_grpc_read_submit(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g, ngx_http_durable_grpc_read_t *rd);
static ngx_int_t ngx_http_durable_grpc_read_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static int ngx_http_durable_grpc_query_item(void *data, ds_str_t id,
    const ds_instance_t *inst);
static void ngx_http_durable_grpc_queried(ds_op_t *op);
static ngx_int_t ngx_http_durable_grpc_restart_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static void ngx_http_durable_grpc_entity_got(ds_op_t *op);
static int ngx_http_durable_grpc_entity_item(void *data,
    const ds_entity_t *entity);
static void ngx_http_durable_grpc_entities(ds_op_t *op);
static int ngx_http_durable_grpc_id_item(void *data, ds_str_t id,
    const ds_instance_t *inst);
static void ngx_http_durable_grpc_ids(ds_op_t *op);
static void ngx_http_durable_grpc_history_got(ds_op_t *op);
static ngx_int_t ngx_http_durable_grpc_cleaned(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static ngx_int_t ngx_http_durable_grpc_history_next(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g, ngx_http_durable_grpc_read_t *rd);
static void ngx_http_durable_grpc_history_writer(ngx_http_request_t *r);
static ngx_int_t ngx_http_durable_grpc_history_chunk(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);


/* StartInstance */

ngx_int_t
ngx_http_durable_grpc_start(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    ds_op_t                *op;
    ngx_str_t               id;
    dg_start_t              start;
    CreateInstanceRequest  *req;

    req = (CreateInstanceRequest *) ngx_http_durable_grpc_unpack(r, g,
              &create_instance_request__descriptor);
    if (req == NULL) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    op = ngx_pcalloc(r->pool, sizeof(ds_op_t));
    if (op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (dg_start_in(&g->dc, req, op, &start) != DG_OK) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    op->in.start.opts.version = start.version;
    op->in.start.opts.tags = start.tags;
    op->in.start.opts.scheduled = start.scheduled;
    op->in.start.opts.replace = start.replace;

    /* the SDKs make the id; a client that does not gets one */

    if (op->in.start.id.len == 0) {
        if (ngx_http_durable_new_id(r, &id) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        op->in.start.id = ngx_http_durable_ds_str(&id);
    }

    op->hub = ngx_http_durable_ds_str(&g->base.hub);

    g->base.log_id.data = (u_char *) op->in.start.id.data;
    g->base.log_id.len = op->in.start.id.len;

    return ngx_http_durable_submit(r, &g->base, op,
                                  ngx_http_durable_grpc_start_done);
}


static ngx_int_t
ngx_http_durable_grpc_start_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    ds_op_t                      *op = c->op;
    CreateInstanceResponse        res = CREATE_INSTANCE_RESPONSE__INIT;
    ngx_http_durable_grpc_ctx_t  *g;

    g = ngx_http_durable_grpc_ctx(ctx);

    if (c->rc != DS_OK) {
        return ngx_http_durable_grpc_op_status(r, g, op);
    }

    ngx_http_durable_log_status(ctx, DS_PENDING);
    ngx_http_durable_lifecycle(r, op->in.start.id, "created",
                               op->in.start.name);

    res.instanceid.data = (uint8_t *) op->in.start.id.data;
    res.instanceid.len = op->in.start.id.len;

    return ngx_http_durable_grpc_reply(r, &res.base);
}


/*
 * RaiseEvent, TerminateInstance, SuspendInstance, ResumeInstance,
 * RewindInstance and SignalEntity: an operation each, an answer without
 * fields. Terminate's "recursive" ends the instance's sub-orchestrations
 * too (dg_request.c sets the op's recurse).
 */

ngx_int_t
ngx_http_durable_grpc_raise(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    RaiseEventRequest  *req;

    req = (RaiseEventRequest *) ngx_http_durable_grpc_unpack(r, g,
              &raise_event_request__descriptor);
    if (req == NULL) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    return ngx_http_durable_grpc_control(r, g,
                                         dg_raise_in(&g->dc, req, &g->op));
}


ngx_int_t
ngx_http_durable_grpc_terminate(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    int                recursive;
    TerminateRequest  *req;

    req = (TerminateRequest *) ngx_http_durable_grpc_unpack(r, g,
              &terminate_request__descriptor);
    if (req == NULL) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    return ngx_http_durable_grpc_control(r, g,
               dg_terminate_in(&g->dc, req, &g->op, &recursive));
}


ngx_int_t
ngx_http_durable_grpc_suspend(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    SuspendRequest  *req;

    req = (SuspendRequest *) ngx_http_durable_grpc_unpack(r, g,
              &suspend_request__descriptor);
    if (req == NULL) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    return ngx_http_durable_grpc_control(r, g,
                                         dg_suspend_in(&g->dc, req, &g->op));
}


ngx_int_t
ngx_http_durable_grpc_resume(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    ResumeRequest  *req;

    req = (ResumeRequest *) ngx_http_durable_grpc_unpack(r, g,
              &resume_request__descriptor);
    if (req == NULL) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    return ngx_http_durable_grpc_control(r, g,
                                         dg_resume_in(&g->dc, req, &g->op));
}


ngx_int_t
ngx_http_durable_grpc_rewind(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    RewindInstanceRequest  *req;

    req = (RewindInstanceRequest *) ngx_http_durable_grpc_unpack(r, g,
              &rewind_instance_request__descriptor);
    if (req == NULL) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    return ngx_http_durable_grpc_control(r, g,
                                         dg_rewind_in(&g->dc, req, &g->op));
}


ngx_int_t
ngx_http_durable_grpc_signal(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    SignalEntityRequest  *req;

    req = (SignalEntityRequest *) ngx_http_durable_grpc_unpack(r, g,
              &signal_entity_request__descriptor);
    if (req == NULL) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    return ngx_http_durable_grpc_control(r, g,
                                         dg_signal_in(&g->dc, req, &g->op));
}


/* the operation the codec made of the request (rc), to the writer */

static ngx_int_t
ngx_http_durable_grpc_control(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g, int rc)
{
    ds_op_t  *op = &g->op;

    if (rc != DG_OK) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    op->hub = ngx_http_durable_ds_str(&g->base.hub);

    if (op->type != DS_OP_ENTITY_SIGNAL) {
        g->base.log_id.data = (u_char *) op->in.control.id.data;
        g->base.log_id.len = op->in.control.id.len;
    }

    return ngx_http_durable_submit(r, &g->base, op,
                                  ngx_http_durable_grpc_empty_done);
}


/* their answers have no fields: one packing serves them all */

static ngx_int_t
ngx_http_durable_grpc_empty_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    Empty  empty = EMPTY__INIT;

    if (c->rc != DS_OK) {
        return ngx_http_durable_grpc_op_status(r,
                   ngx_http_durable_grpc_ctx(ctx), c->op);
    }

    ngx_http_durable_control_lifecycle(r, c->op);

    return ngx_http_durable_grpc_reply(r, &empty.base);
}


/*
 * PurgeInstances: one instance, one batch by filter (isComplete says
 * whether matches may be left; the SDK calls again), or a list of ids,
 * one operation each in one batch of the writer.
 */

ngx_int_t
ngx_http_durable_grpc_purge(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    size_t                          i, n;
    ds_op_t                        *ops;
    ngx_int_t                       rc;
    dg_purge_t                     *purge;
    PurgeInstancesRequest          *req;
    ngx_http_durable_call_t       **cs;
    ngx_http_durable_grpc_purge_t  *pg;

    req = (PurgeInstancesRequest *) ngx_http_durable_grpc_unpack(r, g,
              &purge_instances_request__descriptor);
    if (req == NULL) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    pg = ngx_pcalloc(r->pool, sizeof(ngx_http_durable_grpc_purge_t));
    if (pg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    purge = &pg->purge;

    if (dg_purge_in(&g->dc, req, purge) != DG_OK) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    g->data = pg;
    n = purge->nids;

    if (n == 0) {
        purge->op.hub = ngx_http_durable_ds_str(&g->base.hub);

        return ngx_http_durable_submit(r, &g->base, &purge->op,
                                      ngx_http_durable_grpc_purge_done);
    }

    ops = ngx_pcalloc(r->pool, n * sizeof(ds_op_t));
    cs = ngx_palloc(r->pool, n * sizeof(ngx_http_durable_call_t *));
    if (ops == NULL || cs == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pg->ops = ops;

    /* every call first: a failure after a submit would free the request */

    for (i = 0; i < n; i++) {
        ops[i].type = DS_OP_PURGE;
        ops[i].hub = ngx_http_durable_ds_str(&g->base.hub);
        ops[i].in.control.id = purge->ids[i];
        ops[i].in.control.recurse = purge->recursive;

        cs[i] = ngx_http_durable_call_alloc(r, &ops[i],
                                            ngx_http_durable_grpc_purged_one);
        if (cs[i] == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cs[i]->group = &pg->pending;
    }

    pg->pending = n;

    /*
     * one batch; the last call holds the request, and whichever call is
     * answered last answers for all
     */

    rc = NGX_DONE;

    for (i = 0; i < n; i++) {
        rc = ngx_http_durable_call_submit(r, g->base.store, cs[i],
                                          i == n - 1 ? NGX_HTTP_DURABLE_HOLD
                                                     : NGX_HTTP_DURABLE_MORE);
    }

    return rc;
}


/* one of a list: the last one answered answers for all */

static ngx_int_t
ngx_http_durable_grpc_purged_one(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    ngx_http_durable_grpc_purge_t  *pg;

    pg = ngx_http_durable_grpc_ctx(ctx)->data;

    if (pg->pending) {
        return NGX_DONE;
    }

    return ngx_http_durable_grpc_purge_done(r, ctx, c);
}


static ngx_int_t
ngx_http_durable_grpc_purge_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    size_t                          i, deleted;
    ds_op_t                        *op, *ops;
    BoolValue                       complete = BOOL_VALUE__INIT;
    PurgeInstancesResponse          res = PURGE_INSTANCES_RESPONSE__INIT;
    ngx_http_durable_grpc_ctx_t    *g;
    ngx_http_durable_grpc_purge_t  *pg;

    g = ngx_http_durable_grpc_ctx(ctx);
    pg = g->data;
    op = c->op;

    if (pg->purge.nids) {
        /* a list: what was there and terminal is deleted, the rest kept */

        ops = pg->ops;
        deleted = 0;

        for (i = 0; i < pg->purge.nids; i++) {
            switch (ops[i].rc) {

            case DS_OK:
                deleted += ops[i].out.control.purged;
                break;

            case DS_NOTFOUND:
            case DS_PRECONDITION:
                break;

            default:
                return ngx_http_durable_grpc_op_status(r, g, &ops[i]);
            }
        }

        res.deletedinstancecount = (int32_t) deleted;

        return ngx_http_durable_grpc_reply(r, &res.base);
    }

    switch (c->rc) {

    case DS_OK:
        if (op->type == DS_OP_PURGE_BATCH) {
            res.deletedinstancecount = (int32_t) op->out.purge.deleted;
            complete.value = !op->out.purge.more;
            res.iscomplete = &complete;

        } else {
            res.deletedinstancecount = (int32_t) op->out.control.purged;
        }

        break;

    case DS_NOTFOUND:
        /* nothing to purge is no error: the count says so */
        break;

    default:
        return ngx_http_durable_grpc_op_status(r, g, op);
    }

    return ngx_http_durable_grpc_reply(r, &res.base);
}


/* GetInstance */

ngx_int_t
ngx_http_durable_grpc_get(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    GetInstanceRequest            *req;
    ngx_http_durable_grpc_read_t  *rd;

    req = (GetInstanceRequest *) ngx_http_durable_grpc_unpack(r, g,
              &get_instance_request__descriptor);
    if (req == NULL) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    rd = ngx_http_durable_grpc_read_alloc(r, g);
    if (rd == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (dg_get_in(&g->dc, req, &rd->op, &rd->inputs) != DG_OK) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    rd->op.done = ngx_http_durable_grpc_got;
    rd->ready = 1;

    g->base.log_id.data = (u_char *) rd->op.in.control.id.data;
    g->base.log_id.len = rd->op.in.control.id.len;

    return ngx_http_durable_grpc_read_submit(r, g, rd);
}


/*
 * WaitForInstanceStart and WaitForInstanceCompletion: the status read at
 * once, and again at each notification until it is what the client waits
 * for, never by a short timer: a thousand held waits read nothing while
 * nothing is written. The SDKs send no deadline: then the call is held
 * until that happens or the client cancels it (the wait's cleanup frees
 * it); a process that shuts down answers UNAVAILABLE, so the client asks
 * another one.
 */

ngx_int_t
ngx_http_durable_grpc_wait(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    GetInstanceRequest            *req;
    ngx_http_durable_grpc_read_t  *rd;

    req = (GetInstanceRequest *) ngx_http_durable_grpc_unpack(r, g,
              &get_instance_request__descriptor);
    if (req == NULL) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    rd = ngx_http_durable_grpc_read_alloc(r, g);
    if (rd == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (dg_get_in(&g->dc, req, &rd->op, &rd->inputs) != DG_OK) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    g->base.log_id.data = (u_char *) rd->op.in.control.id.data;
    g->base.log_id.len = rd->op.in.control.id.len;

    rd->completion = (g->rpc->name.len
                      == sizeof("WaitForInstanceCompletion") - 1);

    g->data = rd;

    /* before the first read: a change after it wakes the wait */
    ngx_http_durable_wait_mark(&g->base);

    return ngx_http_durable_grpc_wait_read(r, &g->base, 0);
}


/* each read of a wait, the first and those its wake-ups make */

static ngx_int_t
ngx_http_durable_grpc_wait_read(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t expired)
{
    ngx_http_durable_grpc_ctx_t   *g;
    ngx_http_durable_grpc_read_t  *rd;

    g = ngx_http_durable_grpc_ctx(ctx);
    rd = g->data;

    rd->ready = 0;
    rd->expired = expired;
    g->frame = NULL;

    rd->op.hub = ngx_http_durable_ds_str(&ctx->hub);
    rd->op.done = ngx_http_durable_grpc_got;

    ngx_http_durable_call_init(&rd->call, r, &rd->op,
                               ngx_http_durable_grpc_waited);

    return ngx_http_durable_call_submit(r, ctx->store, &rd->call,
                                        NGX_HTTP_DURABLE_HOLD);
}


static ngx_int_t
ngx_http_durable_grpc_waited(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    ngx_int_t                      rc;
    ngx_http_durable_grpc_ctx_t   *g;
    ngx_http_durable_grpc_read_t  *rd;

    g = ngx_http_durable_grpc_ctx(ctx);
    rd = g->data;

    if (c->rc != DS_OK && c->rc != DS_NOTFOUND) {
        rc = ngx_http_durable_grpc_op_status(r, g, c->op);
        goto answered;
    }

    if (rd->ready) {
        rc = ngx_http_durable_grpc_reply_frame(r, g);
        goto answered;
    }

    if (!ctx->waiting) {
        return ngx_http_durable_wait(r, ctx,
                                     ngx_http_durable_grpc_left(g,
                                         NGX_HTTP_DURABLE_WAIT_MAX * 1000),
                                     NGX_HTTP_DURABLE_GRPC_REREAD,
                                     ngx_http_durable_grpc_wait_read);
    }

    if (rd->expired) {
        if (ngx_exiting) {
            rc = ngx_http_durable_grpc_status(r, DG_UNAVAILABLE,
                     "The server is shutting down; call again.");
            goto answered;
        }

        if (g->has_deadline) {
            rc = ngx_http_durable_grpc_status(r, DG_DEADLINE_EXCEEDED,
                     "The instance did not %s before the deadline.",
                     rd->completion ? "complete" : "start");
            goto answered;
        }

        /* no deadline: the longest wait passed, and the call goes on */

        ctx->wait_deadline = ngx_current_msec
                             + NGX_HTTP_DURABLE_WAIT_MAX * 1000;
    }

    return ngx_http_durable_wait_again(r, ctx);

answered:

    /* an answer that flow control holds back is sent all the same */

    return ngx_http_durable_wait_answered(rc);
}


static ngx_http_durable_grpc_read_t *
ngx_http_durable_grpc_read_alloc(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    ngx_http_durable_grpc_read_t  *rd;
    ngx_http_durable_loc_conf_t   *dlcf;

    rd = ngx_pcalloc(r->pool, sizeof(ngx_http_durable_grpc_read_t));
    if (rd == NULL) {
        return NULL;
    }

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    rd->request = r;
    rd->grpc = g;
    rd->op.data = rd;
    rd->max_bytes = (dlcf->list_max_bytes && dlcf->list_max_bytes
                                             < DG_PAGE_BYTES)
                    ? dlcf->list_max_bytes : DG_PAGE_BYTES;

    return rd;
}


/*
 * Whether m, a query's next item, would carry its page past the bound:
 * it then goes to the next page (not the first item, which has to go
 * somewhere), and so does every later one. Else it is counted; the
 * caller makes the token after it.
 */

static ngx_uint_t
ngx_http_durable_grpc_page_full(ngx_http_durable_grpc_read_t *rd,
    const ProtobufCMessage *m)
{
    size_t  size;

    size = protobuf_c_message_get_packed_size(m);

    if (rd->nstates && rd->cut_len && rd->bytes + size > rd->max_bytes) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, rd->request->connection->log, 0,
                       "durable grpc query: page full at %uz bytes, "
                       "%uz items", rd->bytes, rd->nstates);

        rd->full = 1;
        rd->skipped++;
        return 1;
    }

    rd->bytes += size;

    return 0;
}


/*
 * A status read's answer, packed while the store holds the instance; a
 * wait's is packed only once the status is what it waits for.
 */

static void
ngx_http_durable_grpc_got(ds_op_t *op)
{
    ngx_http_durable_grpc_read_t  *rd = op->data;

    ds_status_e                    status;
    GetInstanceResponse            res = GET_INSTANCE_RESPONSE__INIT;
    ngx_http_durable_grpc_ctx_t   *g;

    g = rd->grpc;

    if (op->rc == DS_NOTFOUND) {
        /* exists is false: the SDKs answer "no such instance" */
        rd->ready = 1;
        (void) ngx_http_durable_grpc_pack(rd->request, g, &res.base);
        return;
    }

    if (op->rc != DS_OK) {
        return;
    }

    status = op->out.status.inst->status;

    ngx_http_durable_log_status(&g->base, status);

    if (!rd->ready) {
        rd->ready = rd->completion ? ds_status_is_terminal(status)
                                   : status != DS_PENDING;
        if (!rd->ready) {
            return;
        }
    }

    res.exists = 1;

    if (dg_state_out(&g->dc, op->in.control.id, op->out.status.inst,
                     rd->inputs, &res.orchestrationstate)
        != DG_OK)
    {
        return;
    }

    (void) ngx_http_durable_grpc_pack(rd->request, g, &res.base);
}


/* QueryInstances: one page, and the token of the next */

ngx_int_t
ngx_http_durable_grpc_query(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    QueryInstancesRequest         *req;
    ngx_http_durable_grpc_read_t  *rd;

    req = (QueryInstancesRequest *) ngx_http_durable_grpc_unpack(r, g,
              &query_instances_request__descriptor);
    if (req == NULL) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    rd = ngx_http_durable_grpc_read_alloc(r, g);
    if (rd == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (dg_query_in(&g->dc, req, &rd->op, &rd->query, &rd->inputs)
        != DG_OK)
    {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    rd->size = rd->query.top;
    rd->states = ngx_palloc(r->pool, rd->size * sizeof(OrchestrationState *));
    if (rd->states == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rd->op.done = ngx_http_durable_grpc_queried;
    rd->op.in.list.item = ngx_http_durable_grpc_query_item;
    rd->op.in.list.item_data = rd;
    rd->op.in.list.token = rd->token;

    return ngx_http_durable_grpc_read_submit(r, g, rd);
}


static int
ngx_http_durable_grpc_query_item(void *data, ds_str_t id,
    const ds_instance_t *inst)
{
    ngx_http_durable_grpc_read_t  *rd = data;

    if (rd->full) {
        /* the page is full: the rest is for the next one */
        rd->skipped++;
        return 0;
    }

    if (rd->nstates == rd->size) {
        return 1;
    }

    rd->rc = dg_state_out(&rd->grpc->dc, id, inst, rd->inputs,
                          &rd->states[rd->nstates]);
    if (rd->rc != DG_OK) {
        return 1;
    }

    if (ngx_http_durable_grpc_page_full(rd,
                                        &rd->states[rd->nstates]->base))
    {
        return 0;
    }

    rd->cut_len = ds_list_token(inst->created, id, rd->cut);
    rd->nstates++;

    return 0;
}


static void
ngx_http_durable_grpc_queried(ds_op_t *op)
{
    ngx_http_durable_grpc_read_t  *rd = op->data;

    StringValue             token = STRING_VALUE__INIT;
    QueryInstancesResponse  res = QUERY_INSTANCES_RESPONSE__INIT;

    if (op->rc != DS_OK || rd->rc != DG_OK) {
        return;
    }

    res.n_orchestrationstate = rd->nstates;
    res.orchestrationstate = rd->states;

    if (rd->skipped) {
        token.value.data = (uint8_t *) rd->cut;
        token.value.len = rd->cut_len;
        res.continuationtoken = &token;

    } else if (op->out.list.token_len) {
        token.value.data = (uint8_t *) rd->token;
        token.value.len = op->out.list.token_len;
        res.continuationtoken = &token;
    }

    (void) ngx_http_durable_grpc_pack(rd->request, rd->grpc, &res.base);
}


/* RestartInstance: the same name and input, under its id or a new one */

ngx_int_t
ngx_http_durable_grpc_restart(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    int                      new_id;
    ngx_str_t                id;
    RestartInstanceRequest  *req;

    req = (RestartInstanceRequest *) ngx_http_durable_grpc_unpack(r, g,
              &restart_instance_request__descriptor);
    if (req == NULL) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    if (dg_restart_in(&g->dc, req, &g->op, &new_id) != DG_OK) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    if (new_id) {
        if (ngx_http_durable_new_id(r, &id) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        g->op.in.start.id = ngx_http_durable_ds_str(&id);
    }

    g->op.hub = ngx_http_durable_ds_str(&g->base.hub);

    return ngx_http_durable_submit(r, &g->base, &g->op,
                                  ngx_http_durable_grpc_restart_done);
}


static ngx_int_t
ngx_http_durable_grpc_restart_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    ds_op_t                  *op = c->op;
    RestartInstanceResponse   res = RESTART_INSTANCE_RESPONSE__INIT;

    if (c->rc != DS_OK) {
        return ngx_http_durable_grpc_op_status(r,
                   ngx_http_durable_grpc_ctx(ctx), op);
    }

    ngx_http_durable_lifecycle(r, op->in.start.id, "created, restarting",
                               op->in.start.from);

    res.instanceid.data = (uint8_t *) op->in.start.id.data;
    res.instanceid.len = op->in.start.id.len;

    return ngx_http_durable_grpc_reply(r, &res.base);
}


/* GetEntity */

ngx_int_t
ngx_http_durable_grpc_entity_get(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    GetEntityRequest              *req;
    ngx_http_durable_grpc_read_t  *rd;

    req = (GetEntityRequest *) ngx_http_durable_grpc_unpack(r, g,
              &get_entity_request__descriptor);
    if (req == NULL) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    rd = ngx_http_durable_grpc_read_alloc(r, g);
    if (rd == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (dg_entity_get_in(&g->dc, req, &rd->op, &rd->inputs) != DG_OK) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    rd->op.done = ngx_http_durable_grpc_entity_got;

    return ngx_http_durable_grpc_read_submit(r, g, rd);
}


static void
ngx_http_durable_grpc_entity_got(ds_op_t *op)
{
    ngx_http_durable_grpc_read_t  *rd = op->data;

    GetEntityResponse  res = GET_ENTITY_RESPONSE__INIT;

    if (op->rc == DS_OK) {
        res.exists = 1;

        rd->rc = dg_entity_out(&rd->grpc->dc, op->out.entity.entity,
                               rd->inputs, &res.entity);
        if (rd->rc != DG_OK) {
            return;
        }

    } else if (op->rc != DS_NOTFOUND) {
        return;
    }

    (void) ngx_http_durable_grpc_pack(rd->request, rd->grpc, &res.base);
}


/* QueryEntities: a page of entities with state */

ngx_int_t
ngx_http_durable_grpc_entity_query(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    QueryEntitiesRequest          *req;
    ngx_http_durable_grpc_read_t  *rd;

    req = (QueryEntitiesRequest *) ngx_http_durable_grpc_unpack(r, g,
              &query_entities_request__descriptor);
    if (req == NULL) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    rd = ngx_http_durable_grpc_read_alloc(r, g);
    if (rd == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (dg_entity_query_in(&g->dc, req, &rd->op, &rd->inputs,
                           &rd->key_prefix)
        != DG_OK)
    {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    rd->size = rd->op.in.entity_list.top;
    rd->entities = ngx_palloc(r->pool, rd->size * sizeof(EntityMetadata *));
    if (rd->entities == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rd->op.done = ngx_http_durable_grpc_entities;
    rd->op.in.entity_list.item = ngx_http_durable_grpc_entity_item;
    rd->op.in.entity_list.item_data = rd;
    rd->op.in.entity_list.token = rd->token;

    return ngx_http_durable_grpc_read_submit(r, g, rd);
}


static int
ngx_http_durable_grpc_entity_item(void *data, const ds_entity_t *entity)
{
    ngx_http_durable_grpc_read_t  *rd = data;

    if (!dg_entity_match(rd->key_prefix, entity)) {
        return 0;
    }

    if (rd->full) {
        rd->skipped++;
        return 0;
    }

    if (rd->nstates == rd->size) {
        return 1;
    }

    rd->rc = dg_entity_out(&rd->grpc->dc, entity, rd->inputs,
                           &rd->entities[rd->nstates]);
    if (rd->rc != DG_OK) {
        return 1;
    }

    if (ngx_http_durable_grpc_page_full(rd,
                                        &rd->entities[rd->nstates]->base))
    {
        return 0;
    }

    rd->cut_len = ds_list_entity_token(entity->name, entity->key, rd->cut);
    rd->nstates++;

    return 0;
}


static void
ngx_http_durable_grpc_entities(ds_op_t *op)
{
    ngx_http_durable_grpc_read_t  *rd = op->data;

    StringValue            token = STRING_VALUE__INIT;
    QueryEntitiesResponse  res = QUERY_ENTITIES_RESPONSE__INIT;

    if (op->rc != DS_OK || rd->rc != DG_OK) {
        return;
    }

    res.n_entities = rd->nstates;
    res.entities = rd->entities;

    if (rd->skipped) {
        token.value.data = (uint8_t *) rd->cut;
        token.value.len = rd->cut_len;
        res.continuationtoken = &token;

    } else if (op->out.list.token_len) {
        token.value.data = (uint8_t *) rd->token;
        token.value.len = op->out.list.token_len;
        res.continuationtoken = &token;
    }

    (void) ngx_http_durable_grpc_pack(rd->request, rd->grpc, &res.base);
}


/* ListInstanceIds: the ids of a page of terminal instances */

ngx_int_t
ngx_http_durable_grpc_list_ids(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    ListInstanceIdsRequest        *req;
    ngx_http_durable_grpc_read_t  *rd;

    req = (ListInstanceIdsRequest *) ngx_http_durable_grpc_unpack(r, g,
              &list_instance_ids_request__descriptor);
    if (req == NULL) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    rd = ngx_http_durable_grpc_read_alloc(r, g);
    if (rd == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (dg_list_ids_in(&g->dc, req, &rd->op, &rd->query, &rd->list_ids)
        != DG_OK)
    {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    rd->size = rd->query.top;
    rd->ids = ngx_palloc(r->pool, rd->size * sizeof(ProtobufCBinaryData));
    if (rd->ids == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rd->op.done = ngx_http_durable_grpc_ids;
    rd->op.in.list.item = ngx_http_durable_grpc_id_item;
    rd->op.in.list.item_data = rd;
    rd->op.in.list.token = rd->token;

    return ngx_http_durable_grpc_read_submit(r, g, rd);
}


static int
ngx_http_durable_grpc_id_item(void *data, ds_str_t id,
    const ds_instance_t *inst)
{
    ngx_http_durable_grpc_read_t  *rd = data;

    if (!dg_list_ids_match(&rd->list_ids, inst)) {
        return 0;
    }

    if (rd->nstates == rd->size) {
        return 1;
    }

    /* packed in done(), while the store still holds the id */
    rd->ids[rd->nstates].data = (uint8_t *) id.data;
    rd->ids[rd->nstates].len = id.len;
    rd->nstates++;

    return 0;
}


static void
ngx_http_durable_grpc_ids(ds_op_t *op)
{
    ngx_http_durable_grpc_read_t  *rd = op->data;

    StringValue              token = STRING_VALUE__INIT;
    ListInstanceIdsResponse  res = LIST_INSTANCE_IDS_RESPONSE__INIT;

    if (op->rc != DS_OK) {
        return;
    }

    res.n_instanceids = rd->nstates;
    res.instanceids = rd->ids;

    if (op->out.list.token_len) {
        token.value.data = (uint8_t *) rd->token;
        token.value.len = op->out.list.token_len;
        res.lastinstancekey = &token;
    }

    (void) ngx_http_durable_grpc_pack(rd->request, rd->grpc, &res.base);
}


/*
 * StreamInstanceHistory: the history in chunks (the codec's size), a
 * message each, read one after the other from the store: the next once
 * the last is sent, so that a client that reads slowly holds one chunk
 * in memory, not the whole history.
 */

ngx_int_t
ngx_http_durable_grpc_history(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    StreamInstanceHistoryRequest  *req;
    ngx_http_durable_grpc_read_t  *rd;

    req = (StreamInstanceHistoryRequest *) ngx_http_durable_grpc_unpack(r, g,
              &stream_instance_history_request__descriptor);
    if (req == NULL) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    rd = ngx_http_durable_grpc_read_alloc(r, g);
    if (rd == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (dg_history_in(&g->dc, req, &rd->op, &rd->execution) != DG_OK) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    rd->op.hub = ngx_http_durable_ds_str(&g->base.hub);
    rd->op.in.history.item = dg_events_add;
    rd->op.in.history.item_data = &rd->events;
    rd->op.done = ngx_http_durable_grpc_history_got;

    g->data = rd;
    g->base.log_id.data = (u_char *) rd->op.in.history.id.data;
    g->base.log_id.len = rd->op.in.history.id.len;

    dg_events_init(&rd->events, &g->dc);

    ngx_http_durable_call_init(&rd->call, r, &rd->op,
                               ngx_http_durable_grpc_history_chunk);

    return ngx_http_durable_call_submit(r, g->base.store, &rd->call,
                                        NGX_HTTP_DURABLE_HOLD);
}


/* a chunk read: sent, and the next one asked for */

static ngx_int_t
ngx_http_durable_grpc_history_chunk(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    ngx_int_t                      rc;
    ngx_http_durable_grpc_ctx_t   *g;
    ngx_http_durable_grpc_read_t  *rd;

    g = ngx_http_durable_grpc_ctx(ctx);
    rd = c->op->data;

    if (c->rc != DS_OK) {
        return ngx_http_durable_grpc_op_status(r, g, c->op);
    }

    if (rd->rc != DG_OK) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    if (rd->execution && rd->op.out.history.execution != rd->execution) {
        /* a restart or ContinueAsNew began another one meanwhile */

        if (rd->fixed) {
            return ngx_http_durable_grpc_status(r, DG_ABORTED,
                       "The instance began another execution while its "
                       "history was read; read it again.");
        }

        return ngx_http_durable_grpc_status(r, DG_NOT_FOUND,
                   "The execution asked for is not the instance's "
                   "current one.");
    }

    if (rd->execution == 0) {
        /* none asked for: the chunks after the first are of its one */
        rd->execution = rd->op.out.history.execution;
        rd->fixed = 1;
    }

    if (g->frame == NULL) {
        /* the chunk could not be packed: once streaming, only trailers */
        return ngx_http_durable_grpc_status(r, DG_INTERNAL,
                   "The answer could not be made.");
    }

    if (!g->streaming) {
        rc = ngx_http_durable_grpc_stream_open(r, g);
        if (rc == NGX_ERROR || rc > NGX_OK) {
            return rc;
        }
    }

    if (ngx_http_durable_grpc_send_frame(r, g->frame, g->frame_len)
        == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    if (rd->op.out.history.next == 0) {
        return ngx_http_durable_grpc_status(r, DG_OK, NULL);
    }

    if (r->out != NULL || r->buffered) {
        /* flow control holds the chunk: the writer reads the next */

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "durable grpc history: waits for the chunk to go");

        /* a reset or a closed connection meanwhile ends the request */

        r->main->count++;
        r->read_event_handler = ngx_http_test_reading;
        r->write_event_handler = ngx_http_durable_grpc_history_writer;

        return NGX_DONE;
    }

    return ngx_http_durable_grpc_history_next(r, g, rd);
}


static void
ngx_http_durable_grpc_history_writer(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_http_durable_ctx_t        *ctx;
    ngx_http_durable_grpc_ctx_t   *g;

    if (ngx_http_output_filter(r, NULL) == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    if (r->out != NULL || r->buffered) {
        return;
    }

    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    ctx = ngx_http_get_module_ctx(r, ngx_http_durable_module);
    g = ngx_http_durable_grpc_ctx(ctx);

    rc = ngx_http_durable_grpc_history_next(r, g, g->data);

    /* NGX_DONE too: the count the wait for the window took */
    ngx_http_finalize_request(r, rc);
}


/* the read of the chunk after the last one */

static ngx_int_t
ngx_http_durable_grpc_history_next(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g, ngx_http_durable_grpc_read_t *rd)
{
    if (g->has_deadline && ngx_http_durable_grpc_left(g, 1) == 0) {
        return ngx_http_durable_grpc_status(r, DG_DEADLINE_EXCEEDED,
                   "The deadline passed before the history was read.");
    }

    /* event ids an EventSent lacks follow the ids before it */

    dg_events_next(&rd->events);

    g->frame = NULL;
    rd->op.in.history.from = rd->op.out.history.next;
    rd->op.done = ngx_http_durable_grpc_history_got;

    ngx_http_durable_call_init(&rd->call, r, &rd->op,
                               ngx_http_durable_grpc_history_chunk);

    return ngx_http_durable_call_submit(r, g->base.store, &rd->call,
                                        NGX_HTTP_DURABLE_HOLD);
}


static void
ngx_http_durable_grpc_history_got(ds_op_t *op)
{
    ngx_http_durable_grpc_read_t  *rd = op->data;

    HistoryChunk  chunk = HISTORY_CHUNK__INIT;

    if (op->rc != DS_OK) {
        return;
    }

    if (rd->events.rc != DG_OK) {
        rd->rc = rd->events.rc;
        return;
    }

    /* ExecutionStarted names its instance, as in an OrchestratorRequest */

    rd->rc = dg_events_instance(&rd->events, op->in.history.id,
                                op->out.history.execution);
    if (rd->rc != DG_OK) {
        return;
    }

    chunk.n_events = rd->events.n;
    chunk.events = rd->events.events;

    (void) ngx_http_durable_grpc_pack(rd->request, rd->grpc, &chunk.base);
}


/* a read handed to the store; read_done() answers with its message */

static ngx_int_t
ngx_http_durable_grpc_read_submit(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g, ngx_http_durable_grpc_read_t *rd)
{
    rd->op.hub = ngx_http_durable_ds_str(&g->base.hub);

    return ngx_http_durable_submit(r, &g->base, &rd->op,
                                   ngx_http_durable_grpc_read_done);
}


static ngx_int_t
ngx_http_durable_grpc_read_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    ngx_http_durable_grpc_ctx_t   *g;
    ngx_http_durable_grpc_read_t  *rd;

    g = ngx_http_durable_grpc_ctx(ctx);
    rd = c->op->data;

    /* an instance or entity that is not there is an answer too */

    if (c->rc != DS_OK
        && !(c->rc == DS_NOTFOUND
             && (c->op->type == DS_OP_STATUS
                 || c->op->type == DS_OP_ENTITY_GET)))
    {
        return ngx_http_durable_grpc_op_status(r, g, c->op);
    }

    if (rd->rc != DG_OK) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    return ngx_http_durable_grpc_reply_frame(r, g);
}


/* CleanEntityStorage: one batch; the SDK calls again with the token */

ngx_int_t
ngx_http_durable_grpc_clean(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    char                       *token;
    CleanEntityStorageRequest  *req;

    req = (CleanEntityStorageRequest *) ngx_http_durable_grpc_unpack(r, g,
              &clean_entity_storage_request__descriptor);
    if (req == NULL) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    if (dg_clean_in(&g->dc, req, &g->op) != DG_OK) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    token = ngx_pnalloc(r->pool, DS_TOKEN_MAX);
    if (token == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    g->op.hub = ngx_http_durable_ds_str(&g->base.hub);
    g->op.in.entity_clean.token = token;

    return ngx_http_durable_submit(r, &g->base, &g->op,
                                   ngx_http_durable_grpc_cleaned);
}


static ngx_int_t
ngx_http_durable_grpc_cleaned(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    ds_op_t                     *op = c->op;
    StringValue                  token = STRING_VALUE__INIT;
    CleanEntityStorageResponse   res = CLEAN_ENTITY_STORAGE_RESPONSE__INIT;

    if (c->rc != DS_OK) {
        return ngx_http_durable_grpc_op_status(r,
                   ngx_http_durable_grpc_ctx(ctx), op);
    }

    res.emptyentitiesremoved = (int32_t) op->out.entity_clean.removed;
    res.orphanedlocksreleased = (int32_t) op->out.entity_clean.released;

    if (op->out.entity_clean.token_len) {
        token.value.data = (uint8_t *) op->in.entity_clean.token;
        token.value.len = op->out.entity_clean.token_len;
        res.continuationtoken = &token;
    }

    return ngx_http_durable_grpc_reply(r, &res.base);
}
