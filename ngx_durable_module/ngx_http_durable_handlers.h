
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_HANDLERS_H_INCLUDED_
#define _NGX_HTTP_DURABLE_HANDLERS_H_INCLUDED_


#include "ngx_http_durable_module.h"


ngx_uint_t ngx_http_durable_op_has_body(ds_route_op_e op);
ngx_int_t ngx_http_durable_run_op(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_parse_view(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_render_view(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_op_t *op, ngx_str_t *out);

/* ngx_http_durable_instances.c */
ngx_int_t ngx_http_durable_status(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_list(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_purge_one(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_purge_many(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);

/* ngx_http_durable_control.c */
ngx_int_t ngx_http_durable_raise_event(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_control(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);

/* ngx_http_durable_worker.c */
ngx_int_t ngx_http_durable_worker(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);

/* ngx_http_durable_entities.c */
ngx_int_t ngx_http_durable_entity_signal(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_entity_get(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_entity_list(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);

/* ngx_http_durable_orchestrators.c */
ngx_int_t ngx_http_durable_start(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_restart(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_new_id(ngx_http_request_t *r, ngx_str_t *id);


#endif /* _NGX_HTTP_DURABLE_HANDLERS_H_INCLUDED_ */
