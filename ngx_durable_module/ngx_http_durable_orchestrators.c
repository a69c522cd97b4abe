
/*
 * Copyright (C) ngx_durable authors
 *
 * Starting instances: POST B/orchestrators/{name}[/{id}] and
 * POST B/instances/{id}/restart, each with the optional wait for
 * completion (timeout, pollingInterval / retryInterval).
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_orchestrators.h"
#include "ngx_http_durable_instances.h"
#include "ngx_http_durable_log.h"
#include "ngx_http_durable_params.h"
#include "ngx_http_durable_random.h"
#include "ngx_http_durable_render.h"
#include "ngx_http_durable_store.h"
#include "ngx_http_durable_variables.h"
#include "ngx_http_durable_wait.h"
#include "ngx_http_durable_writer.h"


#define NGX_HTTP_DURABLE_ID_LEN        32

/*
 * A waiting start reads the status when a notification comes (see
 * ngx_http_durable_wait.c) and, without one, every pollingInterval, which
 * is never shorter than NGX_HTTP_DURABLE_WAIT_REREAD ms.
 */
#define NGX_HTTP_DURABLE_WAIT_REREAD   1000


typedef struct {
    ngx_uint_t                  wait;
    ngx_msec_t                  timeout;
    ngx_msec_t                  interval;
} ngx_http_durable_wait_args_t;


/* what a waiting start does with an instance not finished yet */
typedef enum {
    NGX_HTTP_DURABLE_READ_NOW = 0,      /* answer 202 */
    NGX_HTTP_DURABLE_READ_BEGIN,        /* begin to wait */
    NGX_HTTP_DURABLE_READ_AGAIN         /* wait on */
} ngx_http_durable_read_e;


/*
 * The status read of a waiting start, made once per request and used by
 * every read of its wait: what its done() found.
 */
typedef struct {
    ds_op_t                     op;
    ngx_http_durable_call_t     call;
    ngx_http_request_t         *request;
    ngx_http_durable_ctx_t     *ctx;
    ngx_http_durable_read_e     mode;
    ngx_http_durable_wait_args_t  wa;   /* READ_BEGIN */
    ngx_str_t                   body;
    ngx_int_t                   rc;     /* NGX_AGAIN: not finished */
} ngx_http_durable_start_read_t;


/* a start or a restart: the store operation and what the answer needs */
typedef struct {
    ds_op_t                     op;
    ngx_str_t                   id;
    ngx_http_durable_wait_args_t  wa;
} ngx_http_durable_start_t;


static ngx_int_t ngx_http_durable_parse_wait(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_wait_args_t *wa);
static ngx_int_t ngx_http_durable_start_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static ngx_int_t ngx_http_durable_started(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_str_t *id,
    ngx_http_durable_wait_args_t *wa);
static ngx_int_t ngx_http_durable_start_wait(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t expired);
static ngx_int_t ngx_http_durable_start_read(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_read_e mode,
    ngx_http_durable_wait_args_t *wa);
static void ngx_http_durable_start_got(ds_op_t *op);
static ngx_int_t ngx_http_durable_start_read_answer(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static ngx_int_t ngx_http_durable_check_status(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_str_t *id);


ngx_int_t
ngx_http_durable_start(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx)
{
    ngx_http_durable_start_t  *s;

    s = ngx_pcalloc(r->pool, sizeof(ngx_http_durable_start_t));
    if (s == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_durable_check_name(r, ctx, "orchestrator name",
                                    &ctx->route.name, DS_NAME_MAX)
        != NGX_OK
        || (ctx->route.has_id
            && ngx_http_durable_check_instance_id(r, ctx, &ctx->route.id)
               != NGX_OK)
        || ngx_http_durable_parse_wait(r, ctx, &s->wa) != NGX_OK
        || ngx_http_durable_parse_view(r, ctx) != NGX_OK
        || ngx_http_durable_ingest_body(r, ctx, &s->op.in.start.input)
           != NGX_OK)
    {
        return ngx_http_durable_fail(r, ctx);
    }

    if (ctx->route.has_id) {
        s->id.data = (u_char *) ctx->route.id.data;
        s->id.len = ctx->route.id.len;

    } else if (ngx_http_durable_new_id(r, &s->id) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;

    } else {
        s->op.in.start.stamp = 1;
    }

    s->op.type = DS_OP_START;
    s->op.hub = ngx_http_durable_ds_str(&ctx->hub);
    s->op.in.start.id = ngx_http_durable_ds_str(&s->id);
    s->op.in.start.name = ngx_http_durable_ds_str(&ctx->route.name);
    s->op.data = s;
    ctx->log_id = s->id;

    return ngx_http_durable_submit(r, ctx, &s->op,
                                   ngx_http_durable_start_done);
}


ngx_int_t
ngx_http_durable_restart(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx)
{
    ngx_uint_t                 new_id;
    ngx_http_durable_start_t  *s;

    s = ngx_pcalloc(r->pool, sizeof(ngx_http_durable_start_t));
    if (s == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_durable_param_bool(r, ctx, DS_ROUTE_Q_NEWID, 1,
                                    &new_id)
        != NGX_OK
        || ngx_http_durable_parse_wait(r, ctx, &s->wa) != NGX_OK
        || ngx_http_durable_parse_view(r, ctx) != NGX_OK)
    {
        return ngx_http_durable_fail(r, ctx);
    }

    if (new_id) {
        if (ngx_http_durable_new_id(r, &s->id) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        s->op.in.start.stamp = 1;

    } else {
        s->id.data = (u_char *) ctx->route.id.data;
        s->id.len = ctx->route.id.len;
    }

    s->op.type = DS_OP_RESTART;
    s->op.hub = ngx_http_durable_ds_str(&ctx->hub);
    s->op.in.start.id = ngx_http_durable_ds_str(&s->id);
    s->op.in.start.from = ngx_http_durable_ds_str(&ctx->route.id);
    s->op.data = s;
    ctx->log_id = s->id;

    return ngx_http_durable_submit(r, ctx, &s->op,
                                   ngx_http_durable_start_done);
}


static ngx_int_t
ngx_http_durable_start_done(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx,
    ngx_http_durable_call_t *c)
{
    ngx_http_durable_start_t  *s = c->op->data;

    if (s->op.out.start.stamped) {
        /* the store put the time of the write at the front of our id */
        ngx_memcpy(s->id.data, s->op.out.start.id, DS_ID_STAMP_LEN);

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "durable start: id stamped \"%V\"", &s->id);
    }

    switch (c->rc) {

    case DS_OK:
        ngx_http_durable_log_status(ctx, DS_PENDING);
        ngx_http_durable_lifecycle(r, s->op.in.start.id,
                                   s->op.type == DS_OP_RESTART
                                   ? "created, restarting" : "created",
                                   s->op.type == DS_OP_RESTART
                                   ? s->op.in.start.from
                                   : s->op.in.start.name);
        return ngx_http_durable_started(r, ctx, &s->id, &s->wa);

    case DS_CONFLICT:
        ngx_http_durable_log_status(ctx, s->op.out.start.status);
        return ngx_http_durable_send_error(r, NGX_HTTP_CONFLICT,
                   "An instance with ID '%V' already exists with status %s; "
                   "only a terminal instance can be replaced.", &s->id,
                   ds_status_name(s->op.out.start.status));

    case DS_NOTFOUND:
        return ngx_http_durable_send(r, NGX_HTTP_NOT_FOUND, NULL);

    default:
        return ngx_http_durable_store_error(r, ctx, c->rc, c->what);
    }
}


static ngx_int_t
ngx_http_durable_parse_wait(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_wait_args_t *wa)
{
    ngx_uint_t                    idx;
    ngx_http_durable_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    wa->wait = ctx->query.set[DS_ROUTE_Q_TIMEOUT];
    wa->timeout = 0;
    wa->interval = 1000;

    if (!wa->wait) {
        return NGX_OK;
    }

    if (ngx_http_durable_param_seconds(r, ctx, DS_ROUTE_Q_TIMEOUT,
                                       dlcf->max_wait, &wa->timeout)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    idx = ctx->query.set[DS_ROUTE_Q_POLLINGINTERVAL]
          ? DS_ROUTE_Q_POLLINGINTERVAL
          : DS_ROUTE_Q_RETRYINTERVAL;

    if (ctx->query.set[idx]) {
        if (ngx_http_durable_param_seconds(r, ctx, idx, dlcf->max_wait,
                                           &wa->interval)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (wa->interval > wa->timeout) {
            return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                       "The %s (%M ms) must not be longer than the timeout "
                       "(%M ms).", ds_route_param_names[idx],
                       wa->interval, wa->timeout);
        }
    }

    /* 0 would read the store every millisecond for each waiter */

    if (wa->interval < NGX_HTTP_DURABLE_WAIT_REREAD) {
        wa->interval = NGX_HTTP_DURABLE_WAIT_REREAD;
    }

    return NGX_OK;
}


/*
 * A new id: 32 lower-case hex digits, as the reference makes them. The
 * first 12 are the milliseconds since 1970 (as in a version 7 UUID), the
 * other 20 are random: ids made close in time sit together in the store's
 * B-trees, so a batch of starts dirties a few pages rather than one or
 * more per start. A start asks the store to stamp it (in.start.stamp):
 * the first 15 digits become the time of the write, and the ids of all
 * processes come to the B-trees in order.
 */

ngx_int_t
ngx_http_durable_new_id(ngx_http_request_t *r, ngx_str_t *id)
{
    uint64_t     ms;
    ngx_uint_t   i;
    ngx_time_t  *tp;
    u_char       bytes[NGX_HTTP_DURABLE_ID_LEN / 2];

    tp = ngx_timeofday();
    ms = (uint64_t) tp->sec * 1000 + tp->msec;

    for (i = 0; i < 6; i++) {
        bytes[i] = (u_char) (ms >> (40 - 8 * i));
    }

    ngx_http_durable_random(bytes + 6, sizeof(bytes) - 6);

    id->data = ngx_pnalloc(r->pool, NGX_HTTP_DURABLE_ID_LEN);
    if (id->data == NULL) {
        return NGX_ERROR;
    }

    id->len = ngx_hex_dump(id->data, bytes, sizeof(bytes)) - id->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_durable_started(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx,
    ngx_str_t *id, ngx_http_durable_wait_args_t *wa)
{
    if (!wa->wait) {
        return ngx_http_durable_check_status(r, ctx, id);
    }

    ctx->wait_id = *id;
    ngx_http_durable_wait_mark(ctx);

    return ngx_http_durable_start_read(r, ctx,
                                       wa->timeout == 0
                                       ? NGX_HTTP_DURABLE_READ_NOW
                                       : NGX_HTTP_DURABLE_READ_BEGIN,
                                       wa);
}


static ngx_int_t
ngx_http_durable_start_wait(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t expired)
{
    ngx_int_t  rc;

    rc = ngx_http_durable_start_read(r, ctx,
                                     expired ? NGX_HTTP_DURABLE_READ_NOW
                                             : NGX_HTTP_DURABLE_READ_AGAIN,
                                     NULL);

    return ngx_http_durable_wait_answered(rc);
}


static ngx_int_t
ngx_http_durable_start_read(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_read_e mode,
    ngx_http_durable_wait_args_t *wa)
{
    ngx_http_durable_start_read_t  *sr;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "durable wait: reading the status of \"%V\"",
                   &ctx->wait_id);

    sr = ctx->wait_read;

    if (sr == NULL) {
        sr = ngx_palloc(r->pool, sizeof(ngx_http_durable_start_read_t));
        if (sr == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->wait_read = sr;
    }

    ngx_memzero(&sr->op, sizeof(ds_op_t));

    sr->request = r;
    sr->ctx = ctx;
    sr->mode = mode;
    sr->rc = NGX_AGAIN;
    ngx_str_null(&sr->body);

    if (wa != NULL) {
        sr->wa = *wa;
    }

    sr->op.type = DS_OP_STATUS;
    sr->op.hub = ngx_http_durable_ds_str(&ctx->hub);
    sr->op.in.control.id = ngx_http_durable_ds_str(&ctx->wait_id);
    sr->op.in.control.history = ctx->show_history;
    sr->op.done = ngx_http_durable_start_got;
    sr->op.data = sr;

    ngx_http_durable_call_init(&sr->call, r, &sr->op,
                               ngx_http_durable_start_read_answer);

    return ngx_http_durable_call_submit(r, ctx->store, &sr->call,
                                        NGX_HTTP_DURABLE_HOLD);
}


static ngx_int_t
ngx_http_durable_start_read_answer(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    ngx_http_durable_start_read_t  *sr = c->op->data;

    if (c->rc != DS_OK && c->rc != DS_NOTFOUND) {
        return ngx_http_durable_store_error(r, ctx, c->rc, "reading");
    }

    switch (sr->rc) {

    case NGX_AGAIN:
        /* not there, or not finished yet */

        switch (sr->mode) {

        case NGX_HTTP_DURABLE_READ_NOW:
            return ngx_http_durable_check_status(r, ctx, &ctx->wait_id);

        case NGX_HTTP_DURABLE_READ_BEGIN:
            return ngx_http_durable_wait(r, ctx, sr->wa.timeout,
                                         sr->wa.interval,
                                         ngx_http_durable_start_wait);

        default:
            return ngx_http_durable_wait_again(r, ctx);
        }

    case NGX_OK:
        return ngx_http_durable_send(r, NGX_HTTP_OK, &sr->body);

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}


/*
 * The status read of a waiting start: a finished instance is answered
 * with its output when it completed, else with its status payload.
 */

static void
ngx_http_durable_start_got(ds_op_t *op)
{
    ngx_http_durable_start_read_t  *sr = op->data;

    ngx_str_t            *body;
    const ds_instance_t  *inst;

    if (op->rc != DS_OK) {
        return;
    }

    inst = op->out.status.inst;
    body = &sr->body;

    ngx_http_durable_log_status(sr->ctx, inst->status);

    if (!ds_status_is_terminal(inst->status)) {
        return;
    }

    sr->rc = NGX_ERROR;

    if (inst->status == DS_COMPLETED) {
        /* the output itself is the body */

        body->len = inst->output.len ? inst->output.len : 4;
        body->data = ngx_pnalloc(sr->request->pool, body->len);
        if (body->data == NULL) {
            return;
        }

        ngx_memcpy(body->data, inst->output.len ? inst->output.data : "null",
                   body->len);

        sr->rc = NGX_OK;
        return;
    }

    if (ngx_http_durable_render_view(sr->request, sr->ctx, op, body)
        == NGX_OK)
    {
        sr->rc = NGX_OK;
    }
}


/* 202 with the check-status payload, Location and Retry-After */

static ngx_int_t
ngx_http_durable_check_status(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_str_t *id)
{
    ngx_str_t  body, location;

    static ngx_str_t  retry = ngx_string("10");

    if (ngx_http_durable_render_check_status(r, ctx, id, &body, &location)
        != NGX_OK
        || ngx_http_durable_add_header(r, "Location", &location) != NGX_OK
        || ngx_http_durable_add_header(r, "Retry-After", &retry) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_durable_send(r, NGX_HTTP_ACCEPTED, &body);
}
