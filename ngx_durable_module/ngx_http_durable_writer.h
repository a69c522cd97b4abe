
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_WRITER_H_INCLUDED_
#define _NGX_HTTP_DURABLE_WRITER_H_INCLUDED_


#include "ngx_http_durable_module.h"


typedef struct ngx_http_durable_write_s  ngx_http_durable_write_t;

/*
 * Runs in the event loop once the batch is durable, with w->op's results
 * and w->rc; answers the request.
 */
typedef ngx_int_t (*ngx_http_durable_written_pt)(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_write_t *w);


/*
 * A store operation on its way: the writer applies w->op with
 * ds_op_apply() in a batch's txn, in a thread of the pool or in the loop,
 * and may apply it a second time in a nested txn when another write of
 * the batch failed after writing (ds_op_apply() only sets results).
 */
struct ngx_http_durable_write_s {
    ngx_http_durable_write_t     *next;
    ngx_http_request_t           *request;
    ds_op_t                      *op;       /* op->data: the front end's */
    ngx_http_durable_written_pt   done;
    const char                   *what;     /* for error messages */
    int                           rc;       /* ds_rc_e of apply + commit */
    uint64_t                      queued;   /* us, for $durable_store_ms */
    unsigned                      hold:1;   /* holds the request */
};


ngx_int_t ngx_http_durable_writer_init(ngx_cycle_t *cycle,
    ngx_http_durable_store_t *st);
void ngx_http_durable_writer_exit(ngx_http_durable_store_t *st);
ngx_int_t ngx_http_durable_write(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_op_t *op,
    ngx_http_durable_written_pt done);
ngx_http_durable_write_t *ngx_http_durable_write_alloc(ngx_http_request_t *r,
    ds_op_t *op, ngx_http_durable_written_pt done);
ngx_int_t ngx_http_durable_write_queue(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_write_t *w,
    ngx_uint_t hold);
void ngx_http_durable_write_post(ngx_http_durable_ctx_t *ctx);


#endif /* _NGX_HTTP_DURABLE_WRITER_H_INCLUDED_ */
