
/*
 * Copyright (C) ngx_durable authors
 *
 * Acting on one instance: raiseEvent, terminate, suspend, resume, rewind.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_handlers.h"
#include "ngx_http_durable_notify.h"
#include "ngx_http_durable_params.h"
#include "ngx_http_durable_render.h"
#include "ngx_http_durable_variables.h"
#include "ngx_http_durable_writer.h"


/* one operation on one instance, as the writer thread applies it */
typedef struct {
    ds_route_op_e  op;
    ds_str_t       hub;
    ds_str_t       id;
    ds_str_t       name;       /* event name */
    ds_str_t       data;       /* event data, or the reason */
    ds_status_e    status;     /* when refused */
} ngx_http_durable_control_t;


static ngx_int_t ngx_http_durable_reason_string(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *out);
static int ngx_http_durable_read_status(ngx_http_durable_ctx_t *ctx,
    ds_status_e *status);
static int ngx_http_durable_control_apply(ds_txn_t *txn,
    ngx_http_durable_write_t *w);
static ngx_int_t ngx_http_durable_control_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_write_t *w);


ngx_int_t
ngx_http_durable_raise_event(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx)
{
    int                          rc;
    ds_str_t                     data;
    ngx_uint_t                   valid;
    ds_status_e                  status;
    ngx_http_durable_control_t  *c;

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

        rc = ngx_http_durable_read_status(ctx, &status);

        if (rc == DS_NOTFOUND) {
            return ngx_http_durable_send(r, NGX_HTTP_NOT_FOUND, NULL);
        }

        if (rc == DS_OK && ds_status_is_terminal(status)) {
            return ngx_http_durable_send(r, NGX_HTTP_DURABLE_GONE, NULL);
        }

        return ngx_http_durable_fail(r, ctx);
    }

    c = ngx_pcalloc(r->pool, sizeof(ngx_http_durable_control_t));
    if (c == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    c->op = ctx->route.op;
    c->hub = ngx_http_durable_ds_str(&ctx->hub);
    c->id = ngx_http_durable_ds_str(&ctx->route.id);
    c->name = ngx_http_durable_ds_str(&ctx->route.event);
    c->data = data;

    return ngx_http_durable_write(r, ctx, ngx_http_durable_control_apply,
                                  ngx_http_durable_control_done, c,
                                  "raising an event");
}


/* terminate, suspend, resume and rewind: applied at once, no user code */

ngx_int_t
ngx_http_durable_control(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx)
{
    int                          rc;
    ds_str_t                     reason;
    ngx_http_durable_control_t  *c;

    if (ctx->route.op == DS_ROUTE_OP_TERMINATE) {
        rc = ngx_http_durable_param_reason(r, ctx, &reason);

    } else {
        rc = ngx_http_durable_reason_string(r, ctx, &reason);
    }

    if (rc != NGX_OK) {
        return ngx_http_durable_fail(r, ctx);
    }

    c = ngx_pcalloc(r->pool, sizeof(ngx_http_durable_control_t));
    if (c == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    c->op = ctx->route.op;
    c->hub = ngx_http_durable_ds_str(&ctx->hub);
    c->id = ngx_http_durable_ds_str(&ctx->route.id);
    c->data = reason;

    return ngx_http_durable_write(r, ctx, ngx_http_durable_control_apply,
                                  ngx_http_durable_control_done, c,
                                  "updating");
}


/* in the writer thread */

static int
ngx_http_durable_control_apply(ds_txn_t *txn, ngx_http_durable_write_t *w)
{
    ngx_http_durable_control_t  *c = w->data;

    int            rc;
    int64_t        now;
    ds_instance_t  inst;

    now = ds_time_now();

    switch (c->op) {

    case DS_ROUTE_OP_RAISE_EVENT:
        return ds_op_raise_event(txn, c->hub, c->id, c->name, c->data, now);

    case DS_ROUTE_OP_TERMINATE:
        return ds_op_terminate(txn, c->hub, c->id, c->data, now);

    case DS_ROUTE_OP_SUSPEND:
        return ds_op_suspend(txn, c->hub, c->id, c->data, now);

    case DS_ROUTE_OP_RESUME:
        return ds_op_resume(txn, c->hub, c->id, c->data, now);

    default: /* DS_ROUTE_OP_REWIND */
        rc = ds_op_rewind(txn, c->hub, c->id, c->data, now);

        if (rc == DS_PRECONDITION
            && ds_instance_get(txn, c->hub, c->id, &inst) == DS_OK)
        {
            c->status = inst.status;
        }

        return rc;
    }
}


static ngx_int_t
ngx_http_durable_control_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_write_t *w)
{
    ngx_http_durable_control_t  *c = w->data;

    switch (w->rc) {

    case DS_OK:
        ngx_http_durable_notify();
        return ngx_http_durable_send(r, NGX_HTTP_ACCEPTED, NULL);

    case DS_NOTFOUND:
        return ngx_http_durable_send(r, NGX_HTTP_NOT_FOUND, NULL);

    case DS_GONE:
        return ngx_http_durable_send(r, NGX_HTTP_DURABLE_GONE, NULL);

    case DS_PRECONDITION:
        ngx_http_durable_log_status(ctx, c->status);
        return ngx_http_durable_send_json_string(r,
                   NGX_HTTP_PRECONDITION_FAILED,
                   "This orchestration has status %s, but only "
                   "orchestrations in the \"Failed\" state can be "
                   "rewound.", ds_status_name(c->status));

    default:
        return ngx_http_durable_store_error(r, ctx, w->rc, w->what, NULL);
    }
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


static int
ngx_http_durable_read_status(ngx_http_durable_ctx_t *ctx, ds_status_e *status)
{
    int             rc;
    ds_txn_t       *txn;
    ds_instance_t   inst;

    rc = ngx_http_durable_read_txn(ctx, &txn);
    if (rc != DS_OK) {
        return rc;
    }

    rc = ds_instance_get(txn, ngx_http_durable_ds_str(&ctx->hub),
                         ngx_http_durable_ds_str(&ctx->route.id), &inst);
    if (rc == DS_OK) {
        *status = inst.status;
    }

    ngx_http_durable_read_done(ctx, txn);

    return rc;
}
