
/*
 * Copyright (C) ngx_durable authors
 *
 * The worker's calls of the gRPC service: Hello, GetWorkItems (a server
 * stream of work items), the completions and the abandons.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_grpc.h"


/* Hello: an Empty for an Empty, once the store is there */

ngx_int_t
ngx_http_durable_grpc_hello(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    Empty  empty = EMPTY__INIT;

    return ngx_http_durable_grpc_reply(r, &empty.base);
}
