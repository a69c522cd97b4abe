
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_RENDER_H_INCLUDED_
#define _NGX_HTTP_DURABLE_RENDER_H_INCLUDED_


#include "ngx_http_durable_module.h"


ngx_int_t ngx_http_durable_out_init(ngx_http_durable_out_t *out,
    ngx_pool_t *pool, size_t size);
ngx_int_t ngx_http_durable_out_heap(ngx_http_durable_out_t *out,
    ngx_pool_t *pool, size_t size);
void ngx_http_durable_out_exit(ngx_cycle_t *cycle);
ngx_uint_t ngx_http_durable_out_reserve(ngx_http_durable_out_t *out,
    size_t len);
void ngx_http_durable_out_add(ngx_http_durable_out_t *out, const void *data,
    size_t len);
void ngx_http_durable_out_string(ngx_http_durable_out_t *out,
    const void *data, size_t len);
void ngx_http_durable_out_json(ngx_http_durable_out_t *out,
    const void *data, size_t len);
void ngx_http_durable_out_time(ngx_http_durable_out_t *out, int64_t us);

#define ngx_http_durable_out_literal(out, s)                                 \
    ngx_http_durable_out_add(out, s, sizeof(s) - 1)

ngx_int_t ngx_http_durable_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *json);
ngx_int_t ngx_http_durable_send_pair(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *first, ngx_str_t *second);
ngx_int_t ngx_http_durable_send_chain(ngx_http_request_t *r,
    ngx_uint_t status, ngx_chain_t *out, off_t len);
ngx_int_t ngx_http_durable_send_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *fmt, ...);
ngx_int_t ngx_http_durable_finish(ngx_http_request_t *r, ngx_int_t rc);
ngx_int_t ngx_http_durable_send_json_string(ngx_http_request_t *r,
    ngx_uint_t status, const char *fmt, ...);
/* allow: DS_ROUTE_* bits, and this one where HEAD is served too */
#define NGX_HTTP_DURABLE_ALLOW_HEAD  0x100

ngx_int_t ngx_http_durable_send_method_not_allowed(ngx_http_request_t *r,
    unsigned allow);
ngx_int_t ngx_http_durable_set_error(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t status, const char *fmt, ...);
ngx_int_t ngx_http_durable_fail(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_add_header(ngx_http_request_t *r,
    const char *name, ngx_str_t *value);
ngx_int_t ngx_http_durable_token_out(ngx_http_request_t *r,
    const u_char *token, size_t len);

ngx_int_t ngx_http_durable_render_status(ngx_http_request_t *r,
    ngx_str_t *id, ds_instance_t *inst, ngx_uint_t show_input,
    ngx_str_t *history, ngx_str_t *out);
ngx_int_t ngx_http_durable_render_check_status(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_str_t *id, ngx_str_t *out,
    ngx_str_t *location);
ngx_int_t ngx_http_durable_request_url(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_str_t *out);
ngx_uint_t ngx_http_durable_host_valid(u_char *p, size_t len);


void ngx_http_durable_canonical_base(ds_str_t *prefix,
    ngx_str_t *out);


#endif /* _NGX_HTTP_DURABLE_RENDER_H_INCLUDED_ */
