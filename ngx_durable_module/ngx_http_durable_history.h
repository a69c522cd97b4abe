
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_HISTORY_H_INCLUDED_
#define _NGX_HTTP_DURABLE_HISTORY_H_INCLUDED_


#include "ngx_http_durable_module.h"


ngx_int_t ngx_http_durable_render_history(ngx_http_request_t *r,
    ds_op_t *op, ngx_uint_t show_input, ngx_uint_t show_output,
    ngx_str_t *out);


#endif /* _NGX_HTTP_DURABLE_HISTORY_H_INCLUDED_ */
