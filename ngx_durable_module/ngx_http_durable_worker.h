
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_WORKER_H_INCLUDED_
#define _NGX_HTTP_DURABLE_WORKER_H_INCLUDED_


#include "ngx_http_durable_module.h"


typedef struct ngx_http_durable_work_batch_s  ngx_http_durable_work_batch_t;


/* a completion, renewal or abandonment: its store operation, op.data */
typedef struct {
    ds_op_t                         op;
    ds_route_work_action_e          action;
    uint8_t                         lease[DS_LEASE_LEN];
    int                             rc;         /* out, when one of several */
    ngx_http_durable_work_batch_t  *batch;      /* the request's, if several */
} ngx_http_durable_work_t;


/* the completions of one request that completes several items */
struct ngx_http_durable_work_batch_s {
    ngx_http_durable_work_t    *items;
    ngx_uint_t                  n;
    ngx_uint_t                  pending;
    int                         claim_rc;   /* of the claim=, if any */
    unsigned                    claim:1;    /* claims after completing */
};


ngx_int_t ngx_http_durable_worker(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
ngx_int_t ngx_http_durable_work_post(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_work_t *k);
void ngx_http_durable_work_prepare(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_work_t *k);
void ngx_http_durable_work_log(ngx_http_durable_ctx_t *ctx,
    ngx_http_durable_work_t *k, int rc);
void ngx_http_durable_work_count(ds_op_t *op, ds_route_work_action_e action,
    int rc);
void ngx_http_durable_work_lifecycle(ngx_http_request_t *r, ds_op_t *op,
    ds_route_work_action_e action, int rc);
ngx_uint_t ngx_http_durable_work_refusal(int rc, ngx_uint_t *status,
    const char **message);


#endif /* _NGX_HTTP_DURABLE_WORKER_H_INCLUDED_ */
