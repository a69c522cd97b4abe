
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_PARAMS_H_INCLUDED_
#define _NGX_HTTP_DURABLE_PARAMS_H_INCLUDED_


#include "ngx_http_durable_module.h"


/* room for a fault of ds_names.c in words */
#define NGX_HTTP_DURABLE_FAULT_LEN  128


/*
 * Each returns NGX_OK, or NGX_ERROR with a 400 message recorded in the
 * request context (answered by ngx_http_durable_fail()).
 */

ngx_int_t ngx_http_durable_param_bool(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t idx, ngx_uint_t dflt,
    ngx_uint_t *out);
ngx_int_t ngx_http_durable_param_uint(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t idx, ngx_uint_t dflt,
    ngx_uint_t min, ngx_uint_t max, ngx_uint_t *out);
ngx_int_t ngx_http_durable_param_seconds(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t idx, time_t max,
    ngx_msec_t *out);
ngx_int_t ngx_http_durable_param_time(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t idx, ngx_uint_t upper,
    int64_t dflt, int64_t *out);
ngx_int_t ngx_http_durable_param_statuses(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, unsigned *mask);
ngx_int_t ngx_http_durable_param_reason(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *out);
ngx_int_t ngx_http_durable_check_name(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, const char *what,
    ds_str_t *name, size_t max);
ngx_int_t ngx_http_durable_check_instance_id(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *id);
ngx_int_t ngx_http_durable_check_entity(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *name,
    ds_str_t *key);
ngx_int_t ngx_http_durable_name_error(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, const char *what, ds_name_fault_t *f);
ngx_int_t ngx_http_durable_ingest_body(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *out);
ngx_int_t ngx_http_durable_ingest_body_as(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *out, const char *what);
ngx_uint_t ngx_http_durable_json_media(ngx_http_request_t *r);
ngx_int_t ngx_http_durable_token_in(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *token);


#define ngx_http_durable_ds_str(s)                                           \
    ((ds_str_t) { (const char *) (s)->data, (s)->len })


#endif /* _NGX_HTTP_DURABLE_PARAMS_H_INCLUDED_ */
