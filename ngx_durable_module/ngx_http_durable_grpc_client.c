
/*
 * Copyright (C) ngx_durable authors
 *
 * The client's calls of the gRPC service: start, read, wait for, raise,
 * terminate, suspend, resume, purge and query instances. Each request
 * becomes a store operation through the codec (grpc/durable_grpc.h):
 * writes go to the writer, reads are answered at once and packed while
 * the store holds what they read.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_grpc.h"
#include "ngx_http_durable_handlers.h"
#include "ngx_http_durable_params.h"
#include "ngx_http_durable_variables.h"
#include "ngx_http_durable_wait.h"
#include "ngx_http_durable_writer.h"


#define NGX_HTTP_DURABLE_GRPC_REREAD    1000    /* ms, a wait's re-read */


/* a read and what its answer needs */
typedef struct {
    ngx_http_request_t             *request;
    ngx_http_durable_grpc_ctx_t    *grpc;
    ds_op_t                         op;
    ds_query_t                      query;
    int                             inputs;     /* with input and output */
    ngx_uint_t                      completion; /* WaitForInstanceCompletion */
    ngx_uint_t                      ready;      /* the wait is over */
    OrchestrationState            **states;     /* a query's page */
    size_t                          nstates;
    size_t                          size;
    int                             rc;         /* of the codec */
    char                            token[DS_TOKEN_MAX];
} ngx_http_durable_grpc_read_t;


static ngx_int_t ngx_http_durable_grpc_start_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_write_t *w);
static ngx_int_t ngx_http_durable_grpc_empty_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_write_t *w);
static ngx_int_t ngx_http_durable_grpc_purge_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_write_t *w);
static ngx_http_durable_grpc_read_t *ngx_http_durable_grpc_read_alloc(
    ngx_http_request_t *r, ngx_http_durable_grpc_ctx_t *g);
static void ngx_http_durable_grpc_got(ds_op_t *op);
static ngx_int_t ngx_http_durable_grpc_wait_read(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t expired);
static int ngx_http_durable_grpc_query_item(void *data, ds_str_t id,
    const ds_instance_t *inst);
static void ngx_http_durable_grpc_queried(ds_op_t *op);
static ngx_int_t ngx_http_durable_grpc_refused(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);


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
        return ngx_http_durable_grpc_refused(r, g);
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

    return ngx_http_durable_write(r, &g->base, op,
                                  ngx_http_durable_grpc_start_done);
}


static ngx_int_t
ngx_http_durable_grpc_start_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_write_t *w)
{
    ds_op_t                      *op = w->op;
    CreateInstanceResponse        res = CREATE_INSTANCE_RESPONSE__INIT;
    ngx_http_durable_grpc_ctx_t  *g;

    g = ngx_http_durable_grpc_ctx(ctx);

    if (w->rc != DS_OK) {
        return ngx_http_durable_grpc_op_status(r, g, op);
    }

    ngx_http_durable_log_status(ctx, DS_PENDING);

    res.instanceid.data = (uint8_t *) op->in.start.id.data;
    res.instanceid.len = op->in.start.id.len;

    return ngx_http_durable_grpc_reply(r, &res.base);
}


/* RaiseEvent, TerminateInstance, SuspendInstance, ResumeInstance */

ngx_int_t
ngx_http_durable_grpc_control(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    int                rc, recursive;
    ds_op_t           *op;
    ngx_str_t         *name;
    ProtobufCMessage  *m;

    op = ngx_pcalloc(r->pool, sizeof(ds_op_t));
    if (op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    name = (ngx_str_t *) &g->rpc->name;

    /* the four differ in their request only: by the method's name */

    switch (name->data[0]) {

    case 'R':
        if (name->data[1] == 'a') {
            m = ngx_http_durable_grpc_unpack(r, g,
                                             &raise_event_request__descriptor);
            rc = m ? dg_raise_in(&g->dc, (RaiseEventRequest *) m, op) : 0;

        } else {
            m = ngx_http_durable_grpc_unpack(r, g,
                                             &resume_request__descriptor);
            rc = m ? dg_resume_in(&g->dc, (ResumeRequest *) m, op) : 0;
        }

        break;

    case 'T':
        m = ngx_http_durable_grpc_unpack(r, g,
                                         &terminate_request__descriptor);
        rc = m ? dg_terminate_in(&g->dc, (TerminateRequest *) m, op,
                                 &recursive)
               : 0;
        break;

    default:    /* 'S' */
        m = ngx_http_durable_grpc_unpack(r, g,
                                         &suspend_request__descriptor);
        rc = m ? dg_suspend_in(&g->dc, (SuspendRequest *) m, op) : 0;
        break;
    }

    if (m == NULL) {
        return ngx_http_durable_grpc_refused(r, g);
    }

    if (rc != DG_OK) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    op->hub = ngx_http_durable_ds_str(&g->base.hub);

    return ngx_http_durable_write(r, &g->base, op,
                                  ngx_http_durable_grpc_empty_done);
}


/* the four answer messages without fields: one packing serves them all */

static ngx_int_t
ngx_http_durable_grpc_empty_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_write_t *w)
{
    Empty  empty = EMPTY__INIT;

    if (w->rc != DS_OK) {
        return ngx_http_durable_grpc_op_status(r,
                   ngx_http_durable_grpc_ctx(ctx), w->op);
    }

    return ngx_http_durable_grpc_reply(r, &empty.base);
}


/*
 * PurgeInstances: one instance, or one batch by filter (isComplete says
 * whether matches may be left; the SDK calls again).
 */

ngx_int_t
ngx_http_durable_grpc_purge(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    dg_purge_t             *purge;
    PurgeInstancesRequest  *req;

    req = (PurgeInstancesRequest *) ngx_http_durable_grpc_unpack(r, g,
              &purge_instances_request__descriptor);
    if (req == NULL) {
        return ngx_http_durable_grpc_refused(r, g);
    }

    purge = ngx_pcalloc(r->pool, sizeof(dg_purge_t));
    if (purge == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (dg_purge_in(&g->dc, req, purge) != DG_OK) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    if (purge->nids) {
        return ngx_http_durable_grpc_status(r, DG_UNIMPLEMENTED,
                   "A purge of a list of instance ids is not implemented "
                   "yet: purge them one by one.");
    }

    purge->op.hub = ngx_http_durable_ds_str(&g->base.hub);

    return ngx_http_durable_write(r, &g->base, &purge->op,
                                  ngx_http_durable_grpc_purge_done);
}


static ngx_int_t
ngx_http_durable_grpc_purge_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_write_t *w)
{
    ds_op_t                 *op = w->op;
    BoolValue                complete = BOOL_VALUE__INIT;
    PurgeInstancesResponse   res = PURGE_INSTANCES_RESPONSE__INIT;

    switch (w->rc) {

    case DS_OK:
        if (op->type == DS_OP_PURGE_BATCH) {
            res.deletedinstancecount = (int32_t) op->out.purge.deleted;
            complete.value = !op->out.purge.more;
            res.iscomplete = &complete;

        } else {
            res.deletedinstancecount = 1;
        }

        break;

    case DS_NOTFOUND:
        /* nothing to purge is no error: the count says so */
        break;

    default:
        return ngx_http_durable_grpc_op_status(r,
                   ngx_http_durable_grpc_ctx(ctx), op);
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
        return ngx_http_durable_grpc_refused(r, g);
    }

    rd = ngx_http_durable_grpc_read_alloc(r, g);
    if (rd == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (dg_get_in(&g->dc, req, &rd->op, &rd->inputs) != DG_OK) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    rd->op.hub = ngx_http_durable_ds_str(&g->base.hub);
    rd->op.done = ngx_http_durable_grpc_got;
    rd->ready = 1;

    (void) ngx_http_durable_read(&g->base, &rd->op);

    if (rd->op.rc != DS_OK && rd->op.rc != DS_NOTFOUND) {
        return ngx_http_durable_grpc_op_status(r, g, &rd->op);
    }

    return ngx_http_durable_grpc_reply_frame(r, g);
}


/*
 * WaitForInstanceStart and WaitForInstanceCompletion: the status read at
 * once, and again at each notification until it is what the client waits
 * for. The SDKs send no deadline: then the call is held until that
 * happens or the client cancels it (the wait's cleanup frees it); a
 * process that shuts down answers UNAVAILABLE, so the client asks
 * another one.
 */

ngx_int_t
ngx_http_durable_grpc_wait(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    ngx_int_t                      rc;
    GetInstanceRequest            *req;
    ngx_http_durable_grpc_read_t  *rd;

    req = (GetInstanceRequest *) ngx_http_durable_grpc_unpack(r, g,
              &get_instance_request__descriptor);
    if (req == NULL) {
        return ngx_http_durable_grpc_refused(r, g);
    }

    rd = ngx_http_durable_grpc_read_alloc(r, g);
    if (rd == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (dg_get_in(&g->dc, req, &rd->op, &rd->inputs) != DG_OK) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    rd->op.hub = ngx_http_durable_ds_str(&g->base.hub);
    rd->op.done = ngx_http_durable_grpc_got;
    rd->completion = (g->rpc->name.len
                      == sizeof("WaitForInstanceCompletion") - 1);

    g->data = rd;

    /* before the first read: a change after it wakes the wait */
    ngx_http_durable_wait_mark(&g->base);

    rc = ngx_http_durable_grpc_wait_read(r, &g->base, 0);
    if (rc != NGX_AGAIN) {
        return rc;
    }

    return ngx_http_durable_wait(r, &g->base,
                                 ngx_http_durable_grpc_left(g,
                                     NGX_HTTP_DURABLE_WAIT_MAX * 1000),
                                 NGX_HTTP_DURABLE_GRPC_REREAD,
                                 ngx_http_durable_grpc_wait_read);
}


static ngx_int_t
ngx_http_durable_grpc_wait_read(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t expired)
{
    ngx_http_durable_grpc_ctx_t   *g;
    ngx_http_durable_grpc_read_t  *rd;

    g = ngx_http_durable_grpc_ctx(ctx);
    rd = g->data;

    rd->ready = 0;
    g->frame = NULL;

    (void) ngx_http_durable_read(ctx, &rd->op);

    if (rd->op.rc != DS_OK && rd->op.rc != DS_NOTFOUND) {
        return ngx_http_durable_grpc_op_status(r, g, &rd->op);
    }

    if (rd->ready) {
        return ngx_http_durable_grpc_reply_frame(r, g);
    }

    if (!expired) {
        return NGX_AGAIN;
    }

    if (ngx_exiting) {
        return ngx_http_durable_grpc_status(r, DG_UNAVAILABLE,
                   "The server is shutting down; call again.");
    }

    if (g->has_deadline) {
        return ngx_http_durable_grpc_status(r, DG_DEADLINE_EXCEEDED,
                   "The instance did not %s before the deadline.",
                   rd->completion ? "complete" : "start");
    }

    /* no deadline: the longest wait passed, and the call goes on */

    ctx->wait_deadline = ngx_current_msec + NGX_HTTP_DURABLE_WAIT_MAX * 1000;

    return NGX_AGAIN;
}


static ngx_http_durable_grpc_read_t *
ngx_http_durable_grpc_read_alloc(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    ngx_http_durable_grpc_read_t  *rd;

    rd = ngx_pcalloc(r->pool, sizeof(ngx_http_durable_grpc_read_t));
    if (rd == NULL) {
        return NULL;
    }

    rd->request = r;
    rd->grpc = g;
    rd->op.data = rd;

    return rd;
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
        return ngx_http_durable_grpc_refused(r, g);
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

    rd->op.hub = ngx_http_durable_ds_str(&g->base.hub);
    rd->op.done = ngx_http_durable_grpc_queried;
    rd->op.in.list.item = ngx_http_durable_grpc_query_item;
    rd->op.in.list.item_data = rd;
    rd->op.in.list.token = rd->token;

    (void) ngx_http_durable_read(&g->base, &rd->op);

    if (rd->op.rc != DS_OK) {
        return ngx_http_durable_grpc_op_status(r, g, &rd->op);
    }

    if (rd->rc != DG_OK) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    return ngx_http_durable_grpc_reply_frame(r, g);
}


static int
ngx_http_durable_grpc_query_item(void *data, ds_str_t id,
    const ds_instance_t *inst)
{
    ngx_http_durable_grpc_read_t  *rd = data;

    if (rd->nstates == rd->size) {
        return 1;
    }

    rd->rc = dg_state_out(&rd->grpc->dc, id, inst, rd->inputs,
                          &rd->states[rd->nstates]);
    if (rd->rc != DG_OK) {
        return 1;
    }

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

    if (op->out.list.token_len) {
        token.value.data = (uint8_t *) rd->token;
        token.value.len = op->out.list.token_len;
        res.continuationtoken = &token;
    }

    (void) ngx_http_durable_grpc_pack(rd->request, rd->grpc, &res.base);
}


/* a request that is not the method's message, or no memory for it */

static ngx_int_t
ngx_http_durable_grpc_refused(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    if (g->base.err_status == 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_durable_grpc_status(r, DG_INVALID_ARGUMENT, "%V",
                                        &g->base.err);
}
