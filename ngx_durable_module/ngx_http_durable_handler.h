
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_HANDLER_H_INCLUDED_
#define _NGX_HTTP_DURABLE_HANDLER_H_INCLUDED_


#include "ngx_http_durable_module.h"


ngx_int_t ngx_http_durable_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_durable_hub_valid(u_char *p, size_t len);
/* for the gRPC front end, which checks its calls as the API does */
ngx_int_t ngx_http_durable_read_body(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_select_hub(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_select_store(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);


#endif /* _NGX_HTTP_DURABLE_HANDLER_H_INCLUDED_ */
