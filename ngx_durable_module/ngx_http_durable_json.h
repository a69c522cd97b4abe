
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_JSON_H_INCLUDED_
#define _NGX_HTTP_DURABLE_JSON_H_INCLUDED_


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_worker.h"


/*
 * A request body of the worker protocol: its minified text, validated by
 * ds_json_ingest(); members are read from spans of it (ds_jspan), no
 * tree is built. The text must neither move nor change while the request
 * lasts: ngx_http_durable_get_member() knows an object by its place and
 * length (ctx->members), so every object looked up is a span of it.
 */
typedef struct {
    ds_str_t  text;
} ngx_http_durable_body_t;


/* the JSON type of a span of validated text, by its first byte */
#define ngx_http_durable_json_object(s)  ((s)->len && (s)->data[0] == '{')
#define ngx_http_durable_json_array(s)   ((s)->len && (s)->data[0] == '[')


ngx_int_t ngx_http_durable_body_parse(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_body_t *body,
    ngx_uint_t many);
ngx_uint_t ngx_http_durable_member(const ds_str_t *obj, const char *name,
    ds_str_t *value);
ngx_int_t ngx_http_durable_member_error(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, const char *name, const char *what);
ngx_int_t ngx_http_durable_get_string(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, const ds_str_t *obj, const char *name,
    ngx_uint_t required, ds_str_t *out);
ngx_int_t ngx_http_durable_get_int(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, const ds_str_t *obj, const char *name,
    int64_t *out);
ngx_int_t ngx_http_durable_get_work_key(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, const ds_str_t *obj,
    ngx_http_durable_work_t *k);
ngx_int_t ngx_http_durable_get_entity(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, const ds_str_t *obj, ds_str_t *name,
    ds_str_t *key);
void ngx_http_durable_get_raw(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *span, const char *name,
    ds_str_t *out);
ngx_uint_t ngx_http_durable_get_member(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, const ds_str_t *obj, const char *name,
    ds_str_t *value);
ngx_int_t ngx_http_durable_quote(ngx_http_request_t *r, ds_str_t *s);


#endif /* _NGX_HTTP_DURABLE_JSON_H_INCLUDED_ */
