
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_COMPLETE_H_INCLUDED_
#define _NGX_HTTP_DURABLE_COMPLETE_H_INCLUDED_


#include "ngx_http_durable_module.h"


ngx_int_t ngx_http_durable_complete(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);


#endif /* _NGX_HTTP_DURABLE_COMPLETE_H_INCLUDED_ */
