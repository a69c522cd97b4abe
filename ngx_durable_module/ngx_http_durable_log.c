
/*
 * Copyright (C) ngx_durable authors
 *
 * nginx appends the request line, query string included, to every error
 * line written in a request's context. The module writes its own lines
 * through a copy of the request's log whose handler prints the same
 * context with the value of every "code" parameter masked: no key reaches
 * the error log through the module (docs/keys-and-logs.md).
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_log.h"


static u_char *ngx_http_durable_log_handler(ngx_log_t *log, u_char *buf,
    size_t len);


ngx_log_t *
ngx_http_durable_log(ngx_http_request_t *r)
{
    ngx_log_t               *log;
    ngx_http_durable_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_durable_module);

    if (ctx && ctx->log) {
        return ctx->log;
    }

    log = ngx_palloc(r->pool, sizeof(ngx_log_t));
    if (log == NULL) {
        /* nothing better to log with; the key may show */
        return r->connection->log;
    }

    *log = *r->connection->log;
    log->handler = ngx_http_durable_log_handler;

    if (ctx) {
        ctx->log = log;
    }

    return log;
}


static u_char *
ngx_http_durable_log_handler(ngx_log_t *log, u_char *buf, size_t len)
{
    u_char              *p, *end;
    ngx_http_request_t  *r;
    ngx_http_log_ctx_t  *lctx;

    p = buf;
    end = buf + len;

    if (log->action) {
        p = ngx_snprintf(p, end - p, " while %s", log->action);
    }

    lctx = log->data;

    p = ngx_snprintf(p, end - p, ", client: %V",
                     &lctx->connection->addr_text);

    r = lctx->request;

    if (r == NULL) {
        return p;
    }

    if (r->headers_in.server.len) {
        p = ngx_snprintf(p, end - p, ", server: %V", &r->headers_in.server);
    }

    if (r->request_line.len) {
        p = ngx_snprintf(p, end - p, ", request: \"");
        p = ngx_http_durable_mask_keys(p, end, r->request_line.data,
                                       r->request_line.len);
        p = ngx_snprintf(p, end - p, "\"");
    }

    if (r->headers_in.host) {
        p = ngx_snprintf(p, end - p, ", host: \"%V\"",
                         &r->headers_in.host->value);
    }

    return p;
}


/*
 * Copies a request line with the value of every "code" parameter masked.
 * The query string is split and each name matched by the query parser's
 * own functions, so whatever spelling the parser takes for "code"
 * ("%63ode", "+CODE", "code%20") is masked too.
 */

u_char *
ngx_http_durable_mask_keys(u_char *dst, u_char *end, u_char *src, size_t len)
{
    u_char   *q, *last, *args;
    size_t    pos;
    ds_str_t  name, value;

    last = src + len;

    q = ngx_strlchr(src, last, '?');
    if (q == NULL) {
        return ngx_cpymem(dst, src, ngx_min(len, (size_t) (end - dst)));
    }

    /* the query string ends where the protocol version begins */

    args = q + 1;
    q = ngx_strlchr(args, last, ' ');
    if (q == NULL) {
        q = last;
    }

    pos = 0;

    while (ds_route_query_next(args, q - args, &pos, &name, &value))
    {
        if (ds_route_param_lookup((u_char *) name.data, name.len)
            != DS_ROUTE_Q_CODE)
        {
            continue;
        }

        dst = ngx_cpymem(dst, src,
                         ngx_min((size_t) ((u_char *) value.data - src),
                                 (size_t) (end - dst)));
        dst = ngx_cpymem(dst, "***", ngx_min(3, (size_t) (end - dst)));

        src = (u_char *) value.data + value.len;
    }

    return ngx_cpymem(dst, src, ngx_min((size_t) (last - src),
                                        (size_t) (end - dst)));
}


/*
 * durable_task_lifecycle_log: one info line per change an operation
 * applied to an instance, so that an operator can follow one instance;
 * detail (len 0: none) follows the change after a colon
 */

void
ngx_http_durable_lifecycle(ngx_http_request_t *r, ds_str_t id,
    const char *change, ds_str_t detail)
{
    ngx_http_durable_ctx_t       *ctx;
    ngx_http_durable_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_durable_module);

    if (!dlcf->lifecycle_log || ctx == NULL) {
        return;
    }

    ngx_log_error(NGX_LOG_INFO, ngx_http_durable_log(r), 0,
                  "durable: instance \"%*s\" of hub \"%V\": %s%s%*s",
                  id.len, id.data, &ctx->hub, change,
                  detail.len ? ": " : "", detail.len, detail.data);
}
