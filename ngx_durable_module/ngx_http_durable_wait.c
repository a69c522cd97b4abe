
/*
 * Copyright (C) ngx_durable authors
 *
 * Holding a request without blocking the worker: a timer on the request
 * context calls a handler until it answers or the deadline passes. The
 * timer is deleted by a cleanup handler if the request ends first (the
 * client went away). A worker that shuts down gracefully (reload, binary
 * upgrade, quit) answers its waiting requests at their next tick, as if
 * their deadline had come, instead of holding its exit for up to
 * durable_task_max_wait: clients poll again and reach the new workers.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_wait.h"


#define NGX_HTTP_DURABLE_WAIT_TICK  1000     /* ms */


static void ngx_http_durable_wait_handler(ngx_event_t *ev);
static void ngx_http_durable_wait_cleanup(void *data);


ngx_int_t
ngx_http_durable_wait(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx,
    ngx_msec_t timeout, ngx_msec_t interval, ngx_http_durable_wait_pt handler)
{
    ngx_http_cleanup_t  *cln;

    if (!ctx->waiting) {
        cln = ngx_http_cleanup_add(r, 0);
        if (cln == NULL) {
            return NGX_ERROR;
        }

        cln->handler = ngx_http_durable_wait_cleanup;
        cln->data = ctx;

        ctx->wait_ev.handler = ngx_http_durable_wait_handler;
        ctx->wait_ev.data = r;
        ctx->wait_ev.log = r->connection->log;
        ctx->waiting = 1;
    }

    ctx->wait_handler = handler;
    ctx->wait_deadline = ngx_current_msec + timeout;

    /* a tick at least every second notices a shutdown soon enough */
    ctx->wait_interval = ngx_min(ngx_min(interval, timeout),
                                 NGX_HTTP_DURABLE_WAIT_TICK);

    ngx_add_timer(&ctx->wait_ev, ctx->wait_interval);

    /* a client that closes the connection ends the request */
    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    r->main->count++;

    return NGX_DONE;
}


/* goes on waiting, with what is left of the deadline */

ngx_int_t
ngx_http_durable_wait_again(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx)
{
    ngx_msec_t  left;

    left = (ngx_msec_int_t) (ctx->wait_deadline - ngx_current_msec) > 0
           ? ctx->wait_deadline - ngx_current_msec : 0;

    ngx_add_timer(&ctx->wait_ev, ngx_min(ctx->wait_interval, left));

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_durable_wait_handler(ngx_event_t *ev)
{
    ngx_int_t                rc;
    ngx_msec_t               left;
    ngx_connection_t        *c;
    ngx_http_request_t      *r;
    ngx_http_durable_ctx_t  *ctx;

    r = ev->data;
    c = r->connection;

    ctx = ngx_http_get_module_ctx(r, ngx_http_durable_module);

    left = (ngx_msec_int_t) (ctx->wait_deadline - ngx_current_msec) > 0
           ? ctx->wait_deadline - ngx_current_msec : 0;

    rc = ctx->wait_handler(r, ctx, left == 0 || ngx_exiting);

    if (rc == NGX_AGAIN) {
        ngx_add_timer(&ctx->wait_ev, ngx_min(ctx->wait_interval, left));
        return;
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_durable_wait_cleanup(void *data)
{
    ngx_http_durable_ctx_t  *ctx = data;

    if (ctx->wait_ev.timer_set) {
        ngx_del_timer(&ctx->wait_ev);
    }
}
