
/*
 * Copyright (C) ngx_durable authors
 *
 * Starting instances: POST B/orchestrators/{name}[/{id}] and
 * POST B/instances/{id}/restart, each with the optional wait for
 * completion (timeout, pollingInterval / retryInterval).
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_handlers.h"
#include "ngx_http_durable_notify.h"
#include "ngx_http_durable_params.h"
#include "ngx_http_durable_render.h"
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


/* a start or a restart, as the writer thread applies it */
typedef struct {
    ds_str_t                    hub;
    ds_str_t                    name;
    ds_str_t                    input;
    ds_str_t                    from;       /* restart: the original id */
    ngx_str_t                   id;
    ds_status_e                 status;     /* of an active namesake */
    ngx_http_durable_wait_args_t  wa;
    unsigned                    restart:1;
} ngx_http_durable_start_t;


static ngx_int_t ngx_http_durable_parse_wait(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_wait_args_t *wa);
static ngx_int_t ngx_http_durable_new_id(ngx_http_request_t *r,
    ngx_str_t *id);
static int ngx_http_durable_start_apply(ds_txn_t *txn,
    ngx_http_durable_write_t *w);
static ngx_int_t ngx_http_durable_start_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_write_t *w);
static ngx_int_t ngx_http_durable_started(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_str_t *id,
    ngx_http_durable_wait_args_t *wa);
static ngx_int_t ngx_http_durable_start_wait(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t expired);
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
        || ngx_http_durable_ingest_body(r, ctx, &s->input) != NGX_OK)
    {
        return ngx_http_durable_fail(r, ctx);
    }

    if (ctx->route.has_id) {
        s->id.data = (u_char *) ctx->route.id.data;
        s->id.len = ctx->route.id.len;

    } else if (ngx_http_durable_new_id(r, &s->id) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    s->hub = ngx_http_durable_ds_str(&ctx->hub);
    s->name = ngx_http_durable_ds_str(&ctx->route.name);
    ctx->log_id = s->id;

    return ngx_http_durable_write(r, ctx, ngx_http_durable_start_apply,
                                  ngx_http_durable_start_done, s,
                                  "starting");
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

    } else {
        s->id.data = (u_char *) ctx->route.id.data;
        s->id.len = ctx->route.id.len;
    }

    s->hub = ngx_http_durable_ds_str(&ctx->hub);
    s->from = ngx_http_durable_ds_str(&ctx->route.id);
    s->restart = 1;
    ctx->log_id = s->id;

    return ngx_http_durable_write(r, ctx, ngx_http_durable_start_apply,
                                  ngx_http_durable_start_done, s,
                                  "restarting");
}


/* in the writer thread */

static int
ngx_http_durable_start_apply(ds_txn_t *txn, ngx_http_durable_write_t *w)
{
    ngx_http_durable_start_t  *s = w->data;

    int            rc;
    ds_instance_t  inst;

    if (s->restart) {
        rc = ds_instance_get(txn, s->hub, s->from, &inst);
        if (rc != DS_OK) {
            return rc;
        }

        /* ds_op_start copies name and input before it writes */
        s->name = inst.name;
        s->input = inst.input;
    }

    rc = ds_op_start(txn, s->hub, ngx_http_durable_ds_str(&s->id), s->name,
                     s->input, ds_time_now(), &inst);

    if (rc == DS_CONFLICT) {
        s->status = inst.status;
    }

    return rc;
}


static ngx_int_t
ngx_http_durable_start_done(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx,
    ngx_http_durable_write_t *w)
{
    ngx_http_durable_start_t  *s = w->data;

    switch (w->rc) {

    case DS_OK:
        ngx_http_durable_log_status(ctx, DS_PENDING);
        ngx_http_durable_notify();
        return ngx_http_durable_started(r, ctx, &s->id, &s->wa);

    case DS_CONFLICT:
        ngx_http_durable_log_status(ctx, s->status);
        return ngx_http_durable_send_error(r, NGX_HTTP_CONFLICT,
                   "An instance with ID '%V' already exists with status %s; "
                   "only a terminal instance can be replaced.", &s->id,
                   ds_status_name(s->status));

    case DS_NOTFOUND:
        return ngx_http_durable_send(r, NGX_HTTP_NOT_FOUND, NULL);

    default:
        return ngx_http_durable_store_error(r, ctx, w->rc, w->what, NULL);
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
 * more per start.
 */

static ngx_int_t
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
    ngx_int_t  rc;

    if (!wa->wait) {
        return ngx_http_durable_check_status(r, ctx, id);
    }

    ctx->wait_id = *id;
    ngx_http_durable_wait_mark(ctx);

    rc = ngx_http_durable_start_wait(r, ctx, wa->timeout == 0);
    if (rc != NGX_AGAIN) {
        return rc;
    }

    return ngx_http_durable_wait(r, ctx, wa->timeout, wa->interval,
                                 ngx_http_durable_start_wait);
}


static ngx_int_t
ngx_http_durable_start_wait(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t expired)
{
    int             rc;
    ds_txn_t       *txn;
    ngx_str_t       body;
    ds_instance_t   inst;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "durable wait: reading the status of \"%V\"",
                   &ctx->wait_id);

    rc = ngx_http_durable_read_txn(ctx, &txn);
    if (rc != DS_OK) {
        return ngx_http_durable_store_error(r, ctx, rc, "reading", NULL);
    }

    rc = ds_instance_get(txn, ngx_http_durable_ds_str(&ctx->hub),
                         ngx_http_durable_ds_str(&ctx->wait_id), &inst);

    if (rc == DS_OK) {
        ngx_http_durable_log_status(ctx, inst.status);
    }

    if (rc != DS_OK || !ds_status_is_terminal(inst.status)) {
        ngx_http_durable_read_done(ctx, txn);

        if (rc != DS_OK && rc != DS_NOTFOUND) {
            return ngx_http_durable_store_error(r, ctx, rc, "reading", NULL);
        }

        return expired ? ngx_http_durable_check_status(r, ctx, &ctx->wait_id)
                       : NGX_AGAIN;
    }

    if (inst.status == DS_COMPLETED) {
        /* the output itself is the body */

        body.len = inst.output.len ? inst.output.len : 4;
        body.data = ngx_pnalloc(r->pool, body.len);
        if (body.data == NULL) {
            ngx_http_durable_read_done(ctx, txn);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(body.data, inst.output.len ? inst.output.data : "null",
                   body.len);
        ngx_http_durable_read_done(ctx, txn);

        return ngx_http_durable_send(r, NGX_HTTP_OK, &body);
    }

    rc = ngx_http_durable_render_view(r, ctx, txn, &inst, &body);
    ngx_http_durable_read_done(ctx, txn);

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_durable_send(r, NGX_HTTP_OK, &body);
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
