
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_GRPC_H_INCLUDED_
#define _NGX_HTTP_DURABLE_GRPC_H_INCLUDED_


#include "ngx_http_durable_module.h"
#include "durable_grpc.h"


typedef struct ngx_http_durable_grpc_ctx_s  ngx_http_durable_grpc_ctx_t;

typedef ngx_int_t (*ngx_http_durable_grpc_handler_pt)(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);


/* one method of TaskHubSidecarService */
typedef struct {
    ngx_str_t                           name;
    ngx_http_durable_grpc_handler_pt    handler;    /* NULL: unimplemented */
    unsigned                            worker:1;   /* takes worker keys */
} ngx_http_durable_grpc_rpc_t;


/*
 * The request state of a call. The module's ctx comes first, so that the
 * writer and the waits, which know only that, serve gRPC calls as they
 * serve the HTTP API: ngx_http_durable_grpc_ctx() gets the rest back.
 */
struct ngx_http_durable_grpc_ctx_s {
    ngx_http_durable_ctx_t              base;

    const ngx_http_durable_grpc_rpc_t  *rpc;
    dg_ctx_t                            dc;         /* the codec's */
    ds_op_t                             op;         /* a call's write */
    ngx_str_t                           msg;        /* the request message */
    u_char                             *frame;      /* an answer packed */
    size_t                              frame_len;  /* while the store held
                                                       what it points to */
    ngx_msec_t                          deadline;   /* of grpc-timeout */
    void                               *data;       /* the RPC's */
    unsigned                            has_deadline:1;
    unsigned                            streaming:1;    /* headers sent */
    unsigned                            call:1;     /* answered with gRPC
                                                       statuses only */
};


#define ngx_http_durable_grpc_ctx(ctx)                                       \
    ((ngx_http_durable_grpc_ctx_t *) (ctx))


char *ngx_http_durable_grpc(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_durable_grpc_init(ngx_conf_t *cf);
ngx_int_t ngx_http_durable_grpc_is_call(ngx_http_request_t *r);
ngx_int_t ngx_http_durable_grpc_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

/* ngx_http_durable_grpc_client.c */
ngx_int_t ngx_http_durable_grpc_start(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
ngx_int_t ngx_http_durable_grpc_get(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
ngx_int_t ngx_http_durable_grpc_wait(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
ngx_int_t ngx_http_durable_grpc_raise(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
ngx_int_t ngx_http_durable_grpc_terminate(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
ngx_int_t ngx_http_durable_grpc_suspend(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
ngx_int_t ngx_http_durable_grpc_resume(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
ngx_int_t ngx_http_durable_grpc_rewind(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
ngx_int_t ngx_http_durable_grpc_restart(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
ngx_int_t ngx_http_durable_grpc_signal(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
ngx_int_t ngx_http_durable_grpc_entity_get(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
ngx_int_t ngx_http_durable_grpc_entity_query(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
ngx_int_t ngx_http_durable_grpc_list_ids(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
ngx_int_t ngx_http_durable_grpc_history(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
ngx_int_t ngx_http_durable_grpc_clean(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
ngx_int_t ngx_http_durable_grpc_purge(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
ngx_int_t ngx_http_durable_grpc_query(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);

/* ngx_http_durable_grpc_worker.c */
ngx_int_t ngx_http_durable_grpc_hello(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
ngx_int_t ngx_http_durable_grpc_work_items(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
ngx_int_t ngx_http_durable_grpc_work(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);

ngx_int_t ngx_http_durable_grpc_status(ngx_http_request_t *r,
    ngx_uint_t code, const char *fmt, ...);
ngx_int_t ngx_http_durable_grpc_op_status(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g, ds_op_t *op);
ngx_int_t ngx_http_durable_grpc_reply(ngx_http_request_t *r,
    const ProtobufCMessage *msg);
ngx_int_t ngx_http_durable_grpc_stream_open(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
ngx_int_t ngx_http_durable_grpc_stream_send(ngx_http_request_t *r,
    const ProtobufCMessage *msg);
ngx_int_t ngx_http_durable_grpc_send_frame(ngx_http_request_t *r,
    u_char *frame, size_t len);
ngx_int_t ngx_http_durable_grpc_reply_frame(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
ngx_int_t ngx_http_durable_grpc_pack(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g, const ProtobufCMessage *msg);
ngx_int_t ngx_http_durable_grpc_codec_status(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
ProtobufCMessage *ngx_http_durable_grpc_unpack(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g, const ProtobufCMessageDescriptor *desc);
dg_mem_t ngx_http_durable_grpc_mem(ngx_pool_t *pool);
ngx_msec_t ngx_http_durable_grpc_left(ngx_http_durable_grpc_ctx_t *g,
    ngx_msec_t max);


#endif /* _NGX_HTTP_DURABLE_GRPC_H_INCLUDED_ */
