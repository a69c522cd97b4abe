
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_RANDOM_H_INCLUDED_
#define _NGX_HTTP_DURABLE_RANDOM_H_INCLUDED_


#include "ngx_http_durable_module.h"


void ngx_http_durable_random(u_char *buf, size_t len);


#endif /* _NGX_HTTP_DURABLE_RANDOM_H_INCLUDED_ */
