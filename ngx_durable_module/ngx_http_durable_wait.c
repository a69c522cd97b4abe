
/*
 * Copyright (C) ngx_durable authors
 *
 * Holding a request without blocking its process, until what it waits
 * for happens or its deadline passes.  Every write that may change what a
 * waiting request reads bumps the notification counter in shared memory
 * (ngx_http_durable_notify.c), in whichever nginx process made it.  A
 * waiting request looks at that counter every
 * NGX_HTTP_DURABLE_WAIT_TICK ms, which costs one load, and calls its
 * handler only when the counter moved, when its re-read interval passed
 * without a notification (a write made by a process outside nginx, a
 * purge), or at the deadline: so a thousand idle waits read nothing.
 *
 * The timer is deleted by a cleanup handler if the request ends first (the
 * client went away).  A process that shuts down gracefully
 * (reload, binary upgrade, quit) answers its waiting requests at their next
 * tick, as if their deadline had come, instead of holding its exit for up
 * to durable_task_max_wait: clients poll again and reach the new processes.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_metrics.h"
#include "ngx_http_durable_notify.h"
#include "ngx_http_durable_render.h"
#include "ngx_http_durable_wait.h"


#define NGX_HTTP_DURABLE_WAIT_TICK  20       /* ms between looks */


static void ngx_http_durable_wait_arm(ngx_http_durable_ctx_t *ctx);
static void ngx_http_durable_wait_handler(ngx_event_t *ev);
static void ngx_http_durable_wait_cleanup(void *data);


/*
 * The notifications seen so far: called before the read that the wait
 * follows, so that a write made after that read wakes the wait.
 */

void
ngx_http_durable_wait_mark(ngx_http_durable_ctx_t *ctx)
{
    ctx->wait_seq = ngx_http_durable_notify_seq();
}


/* the handler is due again within "delay" ms, even without a notification */

void
ngx_http_durable_wait_due(ngx_http_durable_ctx_t *ctx, ngx_msec_t delay)
{
    if ((ngx_msec_int_t) (ngx_current_msec + delay - ctx->wait_next) < 0) {
        ctx->wait_next = ngx_current_msec + delay;
    }
}


ngx_int_t
ngx_http_durable_wait(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx,
    ngx_msec_t timeout, ngx_msec_t reread, ngx_http_durable_wait_pt handler)
{
    ngx_http_cleanup_t  *cln;

    /*
     * the client went away while the op before the wait was in flight
     * (an HTTP/2 stream reset): nothing would wake the request's read
     * handler again, and it would be re-read until its deadline
     */

    if (r->connection->error) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "durable wait: the request ended, no waiting");
        return NGX_ERROR;
    }

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

        /* open until the request ends: the cleanup counts it out */
        ngx_http_durable_metrics_wait(1);
    }

    ctx->wait_handler = handler;
    ctx->wait_deadline = ngx_current_msec + timeout;
    ctx->wait_reread = reread;
    ctx->wait_next = ngx_current_msec + reread;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "durable wait: begins, %Mms, re-read every %Mms, "
                   "notifications seen:%uA", timeout, reread, ctx->wait_seq);

    ngx_http_durable_wait_arm(ctx);

    /* a client that closes the connection ends the request */
    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    r->main->count++;

    return NGX_DONE;
}


/*
 * Goes on waiting, with what is left of the deadline, after a handler
 * that answered NGX_DONE (its read went to the writer) came back empty.
 * Not when the request ended meanwhile (the client closed while the read
 * was in flight): its cleanup ran, and nginx frees it once the read is
 * answered, so a timer armed now would fire on freed memory.
 */

ngx_int_t
ngx_http_durable_wait_again(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx)
{
    if (ctx->wait_ended || r->connection->error) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "durable wait: the request ended, no more waiting");
        return NGX_ERROR;
    }

    ngx_http_durable_wait_arm(ctx);

    r->main->count++;

    return NGX_DONE;
}


/*
 * What a handler that may have answered returns to the wait: NGX_AGAIN
 * from an answer means that flow control or a slow client holds part of
 * it back, and nginx sends it later. To the wait NGX_AGAIN means "nothing
 * yet": it would read again and answer the request a second time.
 */

ngx_int_t
ngx_http_durable_wait_answered(ngx_int_t rc)
{
    return rc == NGX_AGAIN ? NGX_OK : rc;
}


static void
ngx_http_durable_wait_arm(ngx_http_durable_ctx_t *ctx)
{
    ngx_msec_t  left;

    left = (ngx_msec_int_t) (ctx->wait_deadline - ngx_current_msec) > 0
           ? ctx->wait_deadline - ngx_current_msec : 0;

    ngx_add_timer(&ctx->wait_ev, ngx_min(NGX_HTTP_DURABLE_WAIT_TICK, left));
}


static void
ngx_http_durable_wait_handler(ngx_event_t *ev)
{
    ngx_int_t                rc;
    ngx_uint_t               expired;
    ngx_connection_t        *c;
    ngx_atomic_uint_t        seq;
    ngx_http_request_t      *r;
    ngx_http_durable_ctx_t  *ctx;

    r = ev->data;
    c = r->connection;

    ctx = ngx_http_get_module_ctx(r, ngx_http_durable_module);

    expired = (ngx_msec_int_t) (ctx->wait_deadline - ngx_current_msec) <= 0
              || ngx_exiting;

    seq = ngx_http_durable_notify_seq();

    if (seq == ctx->wait_seq
        && (ngx_msec_int_t) (ngx_current_msec - ctx->wait_next) < 0)
    {
        if (!expired) {
            ngx_http_durable_wait_arm(ctx);
            return;
        }

        ctx->wait_news = 0;

    } else {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "durable wait: woken, notifications:%uA->%uA",
                       ctx->wait_seq, seq);

        ctx->wait_seq = seq;
        ctx->wait_next = ngx_current_msec + ctx->wait_reread;
        ctx->wait_news = 1;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "durable wait: handler, news:%ui expired:%ui",
                   (ngx_uint_t) ctx->wait_news, expired);

    rc = ctx->wait_handler(r, ctx, expired);

    if (rc == NGX_AGAIN) {
        ngx_http_durable_wait_arm(ctx);
        return;
    }

    ngx_http_finalize_request(r, ngx_http_durable_finish(r, rc));
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_durable_wait_cleanup(void *data)
{
    ngx_http_durable_ctx_t  *ctx = data;

    ngx_http_durable_metrics_wait(-1);

    ctx->wait_ended = 1;

    if (ctx->wait_ev.timer_set) {
        ngx_del_timer(&ctx->wait_ev);
    }
}
