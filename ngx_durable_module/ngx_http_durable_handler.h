
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_HANDLER_H_INCLUDED_
#define _NGX_HTTP_DURABLE_HANDLER_H_INCLUDED_


#include "ngx_http_durable_module.h"


ngx_int_t ngx_http_durable_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_durable_hub_valid(u_char *p, size_t len);


#endif /* _NGX_HTTP_DURABLE_HANDLER_H_INCLUDED_ */
