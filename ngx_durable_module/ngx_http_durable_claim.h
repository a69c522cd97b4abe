
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_CLAIM_H_INCLUDED_
#define _NGX_HTTP_DURABLE_CLAIM_H_INCLUDED_


#include "ngx_http_durable_module.h"


ngx_int_t ngx_http_durable_claim(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_claim_kind(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_route_work_kind_e *kind);
ngx_int_t ngx_http_durable_claim_prepare(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_route_work_kind_e kind);
ngx_int_t ngx_http_durable_claim_items(ngx_http_durable_ctx_t *ctx,
    ngx_str_t *items);


#endif /* _NGX_HTTP_DURABLE_CLAIM_H_INCLUDED_ */
