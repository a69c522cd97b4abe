
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_AUTH_H_INCLUDED_
#define _NGX_HTTP_DURABLE_AUTH_H_INCLUDED_


#include "ngx_http_durable_module.h"


ngx_int_t ngx_http_durable_authenticate(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_table_elt_t *ngx_http_durable_header_in(ngx_http_request_t *r,
    const char *name, size_t len);


#endif /* _NGX_HTTP_DURABLE_AUTH_H_INCLUDED_ */
