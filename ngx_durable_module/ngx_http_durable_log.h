
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_LOG_H_INCLUDED_
#define _NGX_HTTP_DURABLE_LOG_H_INCLUDED_


#include "ngx_http_durable_module.h"


ngx_log_t *ngx_http_durable_log(ngx_http_request_t *r);
u_char *ngx_http_durable_mask_keys(u_char *dst, u_char *end, u_char *src,
    size_t len);
void ngx_http_durable_lifecycle(ngx_http_request_t *r, ds_str_t id,
    const char *change, ds_str_t detail);


#endif /* _NGX_HTTP_DURABLE_LOG_H_INCLUDED_ */
