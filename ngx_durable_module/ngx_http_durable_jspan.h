
/*
 * Copyright (C) ngx_durable authors
 *
 * Spans of values inside JSON text that was validated and minified
 * (ds_json_ingest): values are stored as the bytes the client sent, never
 * re-serialized. Plain C without nginx headers.
 */


#ifndef _NGX_HTTP_DURABLE_JSPAN_H_INCLUDED_
#define _NGX_HTTP_DURABLE_JSPAN_H_INCLUDED_


#include "ngx_http_durable_router.h"


typedef struct {
    const unsigned char        *pos;
    const unsigned char        *end;
} ngx_http_durable_jiter_t;


size_t ngx_http_durable_jspan_skip(const unsigned char *p,
    const unsigned char *end);
int ngx_http_durable_jspan_iter(ngx_http_durable_jiter_t *it,
    const unsigned char *p, size_t len);
int ngx_http_durable_jspan_next(ngx_http_durable_jiter_t *it,
    ngx_http_durable_sv_t *key, ngx_http_durable_sv_t *value);
int ngx_http_durable_jspan_member(const unsigned char *obj, size_t len,
    const char *name, ngx_http_durable_sv_t *value);


#endif /* _NGX_HTTP_DURABLE_JSPAN_H_INCLUDED_ */
