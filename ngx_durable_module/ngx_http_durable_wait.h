
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_WAIT_H_INCLUDED_
#define _NGX_HTTP_DURABLE_WAIT_H_INCLUDED_


#include "ngx_http_durable_module.h"


/*
 * Waits until a notification, "reread" ms without one, or "timeout" ms,
 * then calls "handler" (see ngx_http_durable_wait_pt).  Call
 * ngx_http_durable_wait_mark() before the read that found nothing yet.
 */
ngx_int_t ngx_http_durable_wait(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_msec_t timeout, ngx_msec_t reread,
    ngx_http_durable_wait_pt handler);
ngx_int_t ngx_http_durable_wait_again(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
void ngx_http_durable_wait_mark(ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_wait_answered(ngx_int_t rc);
void ngx_http_durable_wait_due(ngx_http_durable_ctx_t *ctx,
    ngx_msec_t delay);


#endif /* _NGX_HTTP_DURABLE_WAIT_H_INCLUDED_ */
