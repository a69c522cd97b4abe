
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_ORCHESTRATORS_H_INCLUDED_
#define _NGX_HTTP_DURABLE_ORCHESTRATORS_H_INCLUDED_


#include "ngx_http_durable_module.h"


ngx_int_t ngx_http_durable_start(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_restart(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_new_id(ngx_http_request_t *r, ngx_str_t *id);


#endif /* _NGX_HTTP_DURABLE_ORCHESTRATORS_H_INCLUDED_ */
