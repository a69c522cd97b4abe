
/*
 * Copyright (C) ngx_durable authors
 *
 * A store's life in each nginx process: opened at process start (or on
 * demand, when that failed), closed at exit; and the answers when a store
 * fails. What the backend needs beyond the directive's settings (LMDB's
 * reader check timer, its txn flags) is the backend's own business.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_store.h"
#include "ngx_http_durable_log.h"
#include "ngx_http_durable_metrics.h"
#include "ngx_http_durable_notify.h"
#include "ngx_http_durable_render.h"
#include "ngx_http_durable_writer.h"


#define NGX_HTTP_DURABLE_RETRY_OPEN    1


static ngx_str_t  ngx_http_durable_retry_after = ngx_string("1");


static ngx_int_t ngx_http_durable_open_store(ngx_log_t *log,
    ngx_http_durable_store_t *st);


/* open lazily again when init_process could not (e.g. a full disk) */

ngx_int_t
ngx_http_durable_store_ready(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx)
{
    ngx_http_durable_store_t  *st;

    st = ctx->store;

    if (st->ds) {
        return NGX_OK;
    }

    if (ngx_time() >= st->retry
        && ngx_http_durable_open_store(ngx_http_durable_log(r), st) == NGX_OK)
    {
        return NGX_OK;
    }

    ngx_http_durable_metrics_error(NGX_HTTP_DURABLE_ERR_UNAVAILABLE);

    return ngx_http_durable_set_error(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
               "The store '%V' is not available; see the error log.",
               &st->name);
}


ngx_int_t
ngx_http_durable_store_error(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, int rc, const char *what)
{
    switch (rc) {

    case DS_FULL:
        ngx_http_durable_metrics_error(NGX_HTTP_DURABLE_ERR_FULL);
        ngx_log_error(NGX_LOG_ERR, ngx_http_durable_log(r), 0,
                      "durable: store \"%V\" is full while %s: its "
                      "max_size is reached or its disk is full",
                      &ctx->store->name, what);
        return ngx_http_durable_send_error(r, NGX_HTTP_DURABLE_STORE_FULL,
                   "The store '%V' is full; terminate and purge "
                   "instances, raise its max_size or free disk space.",
                   &ctx->store->name);

    case DS_INVALID:
        return ngx_http_durable_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "The request names a key the store cannot hold.");

    case DS_UNAVAILABLE:
        /*
         * the database did not answer within the store's timeout=,
         * cancelled the batch at its statement_timeout, or failed it
         * with an error that asks for a retry (PostgreSQL)
         */
        ngx_http_durable_metrics_error(NGX_HTTP_DURABLE_ERR_UNAVAILABLE);

        if (ngx_http_durable_add_header(r, "Retry-After",
                                        &ngx_http_durable_retry_after)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_durable_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                   "The store '%V' is unavailable while %s: it did not "
                   "answer in time, or its database asked for a retry; "
                   "retry later.", &ctx->store->name, what);

    case DS_SCHEMA:
        /* logged once by the store, when it found the version */
        ngx_http_durable_metrics_error(NGX_HTTP_DURABLE_ERR_UNAVAILABLE);

        if (ngx_http_durable_add_header(r, "Retry-After",
                                        &ngx_http_durable_retry_after)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_durable_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                   "The store '%V' is not available: its database's schema "
                   "or functions are not those this nginx serves; see the "
                   "error log.", &ctx->store->name);

    case DS_UNSUPPORTED:
        return ngx_http_durable_send_error(r, NGX_HTTP_NOT_IMPLEMENTED,
                   "The store '%V' uses a backend that does not support "
                   "%s yet.", &ctx->store->name, what);

    case DS_STOPPED:
        /*
         * a write refused after a failed flush: the store logs the stop
         * at alert and its refusals once a second, a line for each
         * request would flood the log; no Retry-After, the stop lasts
         * until nginx is started again
         */
        ngx_http_durable_metrics_error(NGX_HTTP_DURABLE_ERR_STOPPED);
        ngx_log_error(NGX_LOG_INFO, ngx_http_durable_log(r), 0,
                      "durable: store \"%V\" refused a write while %s: %s",
                      &ctx->store->name, what, ds_strerror(rc));
        return ngx_http_durable_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                   "The store '%V' takes no writes: a flush of its data "
                   "failed; see the error log.", &ctx->store->name);

    default:
        ngx_http_durable_metrics_error(NGX_HTTP_DURABLE_ERR_STORE);
        ngx_log_error(NGX_LOG_ERR, ngx_http_durable_log(r), 0,
                      "durable: store \"%V\" failed while %s: %s",
                      &ctx->store->name, what, ds_strerror(rc));
        return ngx_http_durable_send_error(r,
                   NGX_HTTP_INTERNAL_SERVER_ERROR,
                   "The store failed while %s.", what);
    }
}


static ngx_int_t
ngx_http_durable_open_store(ngx_log_t *log, ngx_http_durable_store_t *st)
{
    char             err[256];
    ds_store_conf_t  conf;

    ngx_memzero(&conf, sizeof(ds_store_conf_t));

    conf.backend = st->backend;
    conf.conninfo = (const char *) st->conninfo.data;
    conf.pool = st->pg_pool;
    conf.timeout_ms = st->pg_timeout;
    conf.env.path = (const char *) st->path.data;
    conf.env.map_size = st->map_size;
    conf.env.reserve = st->reserve;
    conf.env.sync = st->sync;
    conf.reader_check_ms = st->reader_check;

    /* a failed flush stops the store's writes in every process */

    if (st->backend == DS_BACKEND_LMDB) {
        conf.env.stop = ngx_http_durable_store_stop(&st->dir);
    }

    err[0] = '\0';

    if (ngx_http_durable_host_open(st, &conf, err, sizeof(err)) != NGX_OK) {
        st->retry = ngx_time() + NGX_HTTP_DURABLE_RETRY_OPEN;

        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "durable: store \"%V\": %s", &st->name, err);
        return NGX_ERROR;
    }

    if (st->backend == DS_BACKEND_LMDB) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "durable: store \"%V\" opened at \"%V\"",
                      &st->name, &st->path);

    } else {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "durable: store \"%V\" opened on PostgreSQL",
                      &st->name);
    }

    return NGX_OK;
}


#if (NGX_HTTP_DURABLE_TEST_FAULTS)

/*
 * Test builds only (DURABLE_TEST_FAULTS_BUILD=1, see config): with
 * DURABLE_TEST_FAULTS=store_flush in its environment, every flush of a
 * store after a commit fails with EIO in the first worker process
 * (t/254-flush-fault.t); init_process, once the stores are open
 */

void
ngx_http_durable_store_faults(ngx_cycle_t *cycle)
{
    char  *v;

    v = getenv("DURABLE_TEST_FAULTS");

    if (v == NULL || ngx_strstr(v, "store_flush") == NULL
        || ngx_process != NGX_PROCESS_WORKER || ngx_worker != 0)
    {
        return;
    }

    ds_store_flushes_fail();

    ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                  "durable: DURABLE_TEST_FAULTS makes the flushes of the "
                  "stores fail in this process");
}

#endif


ngx_int_t
ngx_http_durable_store_init(ngx_cycle_t *cycle, ngx_http_durable_store_t *st)
{
    /*
     * a process that fails init_process is not respawned: a store that
     * cannot be opened answers 503 instead, and is retried on demand
     */

    if (ngx_http_durable_host_init(cycle, st) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the backend clears stale reader slots every reader_check= */

    (void) ngx_http_durable_open_store(cycle->log, st);

    return NGX_OK;
}


void
ngx_http_durable_store_exit(ngx_http_durable_store_t *st)
{
    ngx_http_durable_host_exit(st);
}
