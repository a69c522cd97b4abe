
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_STORE_H_INCLUDED_
#define _NGX_HTTP_DURABLE_STORE_H_INCLUDED_


#include "ngx_http_durable_module.h"


ngx_int_t ngx_http_durable_store_init(ngx_cycle_t *cycle,
    ngx_http_durable_store_t *st);
void ngx_http_durable_store_exit(ngx_http_durable_store_t *st);
#if (NGX_HTTP_DURABLE_TEST_FAULTS)
void ngx_http_durable_store_faults(ngx_cycle_t *cycle);
#endif
ngx_int_t ngx_http_durable_store_ready(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_store_error(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, int rc, const char *what);


#endif /* _NGX_HTTP_DURABLE_STORE_H_INCLUDED_ */
