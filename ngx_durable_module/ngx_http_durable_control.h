
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_CONTROL_H_INCLUDED_
#define _NGX_HTTP_DURABLE_CONTROL_H_INCLUDED_


#include "ngx_http_durable_module.h"


ngx_int_t ngx_http_durable_raise_event(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_control(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
void ngx_http_durable_control_lifecycle(ngx_http_request_t *r, ds_op_t *op);


#endif /* _NGX_HTTP_DURABLE_CONTROL_H_INCLUDED_ */
