
/*
 * Copyright (C) ngx_durable authors
 *
 * Acting on one instance: raiseEvent, terminate, suspend, resume, rewind.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_control.h"
#include "ngx_http_durable_log.h"
#include "ngx_http_durable_params.h"
#include "ngx_http_durable_render.h"
#include "ngx_http_durable_store.h"
#include "ngx_http_durable_variables.h"
#include "ngx_http_durable_writer.h"


static ngx_int_t ngx_http_durable_reason_string(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *out);
static ngx_int_t ngx_http_durable_read_status(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
static void ngx_http_durable_status_got(ds_op_t *op);
static ngx_int_t ngx_http_durable_bad_event_answer(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static ngx_int_t ngx_http_durable_control_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);


ngx_int_t
ngx_http_durable_raise_event(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx)
{
    ds_op_t      *op;
    ds_str_t      data;
    ngx_uint_t    valid;

    if (ngx_http_durable_check_name(r, ctx, "event name", &ctx->route.event,
                                    DS_NAME_MAX)
        != NGX_OK)
    {
        return ngx_http_durable_fail(r, ctx);
    }

    if (!ngx_http_durable_json_media(r)) {
        valid = 0;
        ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                                   "Only application/json request content "
                                   "is supported.");

    } else {
        valid = (ngx_http_durable_ingest_body(r, ctx, &data) == NGX_OK);
    }

    if (!valid) {
        /* 404 and 410 come before a bad body, as in the reference */
        return ngx_http_durable_read_status(r, ctx);
    }

    op = ngx_pcalloc(r->pool, sizeof(ds_op_t));
    if (op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    op->type = DS_OP_RAISE_EVENT;
    op->hub = ngx_http_durable_ds_str(&ctx->hub);
    op->in.control.id = ngx_http_durable_ds_str(&ctx->route.id);
    op->in.control.name = ngx_http_durable_ds_str(&ctx->route.event);
    op->in.control.data = data;

    return ngx_http_durable_submit(r, ctx, op, ngx_http_durable_control_done);
}


/* terminate, suspend, resume and rewind: applied at once, no user code */

ngx_int_t
ngx_http_durable_control(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx)
{
    int        rc;
    ds_op_t   *op;
    ds_str_t   reason;

    if (ctx->route.op == DS_ROUTE_OP_TERMINATE) {
        rc = ngx_http_durable_param_reason(r, ctx, &reason);

    } else {
        rc = ngx_http_durable_reason_string(r, ctx, &reason);
    }

    if (rc != NGX_OK) {
        return ngx_http_durable_fail(r, ctx);
    }

    op = ngx_pcalloc(r->pool, sizeof(ds_op_t));
    if (op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (ctx->route.op) {

    case DS_ROUTE_OP_TERMINATE:
        op->type = DS_OP_TERMINATE;
        break;

    case DS_ROUTE_OP_SUSPEND:
        op->type = DS_OP_SUSPEND;
        break;

    case DS_ROUTE_OP_RESUME:
        op->type = DS_OP_RESUME;
        break;

    default: /* DS_ROUTE_OP_REWIND */
        op->type = DS_OP_REWIND;
        break;
    }

    op->hub = ngx_http_durable_ds_str(&ctx->hub);
    op->in.control.id = ngx_http_durable_ds_str(&ctx->route.id);
    op->in.control.data = reason;

    return ngx_http_durable_submit(r, ctx, op, ngx_http_durable_control_done);
}


static ngx_int_t
ngx_http_durable_control_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    ds_op_t  *op = c->op;

    switch (c->rc) {

    case DS_OK:
        ngx_http_durable_control_lifecycle(r, op);
        return ngx_http_durable_send(r, NGX_HTTP_ACCEPTED, NULL);

    case DS_NOTFOUND:
        return ngx_http_durable_send(r, NGX_HTTP_NOT_FOUND, NULL);

    case DS_GONE:
        return ngx_http_durable_send(r, NGX_HTTP_DURABLE_GONE, NULL);

    case DS_PRECONDITION:
        ngx_http_durable_log_status(ctx, op->out.control.status);
        return ngx_http_durable_send_json_string(r,
                   NGX_HTTP_PRECONDITION_FAILED,
                   "This orchestration has status %s, but only "
                   "orchestrations in the \"Failed\" state can be "
                   "rewound.", ds_status_name(op->out.control.status));

    default:
        return ngx_http_durable_store_error(r, ctx, c->rc, c->what);
    }
}


/*
 * the lifecycle line of a control operation that changed the status (not
 * of a suspend of a suspended instance, say), the reason after
 */

void
ngx_http_durable_control_lifecycle(ngx_http_request_t *r, ds_op_t *op)
{
    const char  *change;

    if (!op->out.control.changed) {
        return;
    }

    switch (op->type) {

    case DS_OP_TERMINATE:
        change = "terminated";
        break;

    case DS_OP_SUSPEND:
        change = "suspended";
        break;

    case DS_OP_RESUME:
        change = "resumed";
        break;

    case DS_OP_REWIND:
        change = "rewound";
        break;

    default:    /* an event changes no status */
        return;
    }

    ngx_http_durable_lifecycle(r, op->in.control.id, change,
                               op->in.control.data);
}


/* the reason of suspend, resume and rewind: always a JSON string */

static ngx_int_t
ngx_http_durable_reason_string(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *out)
{
    char      *p;
    ds_str_t  *v;

    v = &ctx->query.v[DS_ROUTE_Q_REASON];

    out->data = NULL;
    out->len = 0;

    if (!ctx->query.set[DS_ROUTE_Q_REASON]) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, ds_json_escape_len((char *) v->data, v->len)
                             + 2);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    *p++ = '"';
    p += ds_json_escape((char *) v->data, v->len, p);
    *p++ = '"';
    out->len = p - out->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_durable_read_status(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx)
{
    ds_op_t      *op;
    ds_status_e  *status;

    op = ngx_pcalloc(r->pool, sizeof(ds_op_t));
    status = ngx_palloc(r->pool, sizeof(ds_status_e));
    if (op == NULL || status == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *status = DS_RUNNING;

    op->type = DS_OP_STATUS;
    op->hub = ngx_http_durable_ds_str(&ctx->hub);
    op->in.control.id = ngx_http_durable_ds_str(&ctx->route.id);
    op->done = ngx_http_durable_status_got;
    op->data = status;

    return ngx_http_durable_submit(r, ctx, op,
                                   ngx_http_durable_bad_event_answer);
}


static void
ngx_http_durable_status_got(ds_op_t *op)
{
    ds_status_e  *status = op->data;

    if (op->rc == DS_OK) {
        *status = op->out.status.inst->status;
    }
}


/* an event with a bad body: the instance's 404 or 410 first, else 400 */

static ngx_int_t
ngx_http_durable_bad_event_answer(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    ds_status_e  *status = c->op->data;

    if (c->rc == DS_NOTFOUND) {
        return ngx_http_durable_send(r, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (c->rc == DS_OK && ds_status_is_terminal(*status)) {
        return ngx_http_durable_send(r, NGX_HTTP_DURABLE_GONE, NULL);
    }

    return ngx_http_durable_fail(r, ctx);
}
