
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_VARIABLES_H_INCLUDED_
#define _NGX_HTTP_DURABLE_VARIABLES_H_INCLUDED_


#include "ngx_http_durable_module.h"


ngx_int_t ngx_http_durable_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_durable_variables_keep(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_http_durable_ctx_t *ngx_http_durable_variables_ctx(
    ngx_http_request_t *r);

uint64_t ngx_http_durable_usec(void);
void ngx_http_durable_log_store(ngx_http_request_t *r, uint64_t us,
    ngx_uint_t batch);
void ngx_http_durable_log_status(ngx_http_durable_ctx_t *ctx,
    ds_status_e status);
ngx_int_t ngx_http_durable_entity_log_id(ngx_pool_t *pool, ds_str_t name,
    ds_str_t key, ngx_str_t *id);


#endif /* _NGX_HTTP_DURABLE_VARIABLES_H_INCLUDED_ */
