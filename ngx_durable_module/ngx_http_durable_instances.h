
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_INSTANCES_H_INCLUDED_
#define _NGX_HTTP_DURABLE_INSTANCES_H_INCLUDED_


#include "ngx_http_durable_module.h"


ngx_int_t ngx_http_durable_status(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_list(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_purge_one(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_purge_many(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_parse_view(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_render_view(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_op_t *op, ngx_str_t *out);


#endif /* _NGX_HTTP_DURABLE_INSTANCES_H_INCLUDED_ */
