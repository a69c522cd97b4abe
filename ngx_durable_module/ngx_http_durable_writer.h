
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_WRITER_H_INCLUDED_
#define _NGX_HTTP_DURABLE_WRITER_H_INCLUDED_


#include "ngx_http_durable_module.h"


typedef struct ngx_http_durable_call_s  ngx_http_durable_call_t;

/*
 * Runs in the event loop once the store answered c->op (c->rc is its
 * ds_rc_e), after the op's own done() if it had one; returns what the
 * request is finalized with (or NGX_DONE when it waits on). With
 * c->answered, the store answered before the submit returned and the
 * value goes back to the submitter instead. ctx is NULL for a request
 * outside the API (the metrics page).
 */
typedef ngx_int_t (*ngx_http_durable_answer_pt)(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);


/*
 * A store operation on its way (ngx_http_durable_submit()). While the
 * store holds the op, op->done and op->data are this file's; they are
 * the front end's again before its done() and answer run.
 */
struct ngx_http_durable_call_s {
    ngx_http_request_t           *request;
    ngx_http_durable_store_t     *store;
    ds_op_t                      *op;       /* op->data: the front end's */
    ngx_http_durable_answer_pt    answer;
    ds_op_done_pt                 got;      /* the front end's op->done */
    void                         *data;     /* the front end's op->data */
    const char                   *what;     /* for error messages */
    int                           rc;       /* ds_rc_e */
    uint64_t                      queued;   /* us, for $durable_store_ms */
    ngx_uint_t                   *group;    /* calls of the request not
                                               answered yet, or NULL */
    unsigned                      hold:1;   /* holds the request */
    unsigned                      submitting:1;
    unsigned                      answered:1;   /* before submit returned */
};


/* ngx_http_durable_call_submit() flags */
#define NGX_HTTP_DURABLE_HOLD   1   /* the call holds the request */
#define NGX_HTTP_DURABLE_MORE   2   /* more calls follow at once */


ngx_int_t ngx_http_durable_host_init(ngx_cycle_t *cycle,
    ngx_http_durable_store_t *st);
ngx_int_t ngx_http_durable_host_open(ngx_http_durable_store_t *st,
    ds_store_conf_t *conf, char *err, size_t errlen);
void ngx_http_durable_host_exit(ngx_http_durable_store_t *st);
ngx_int_t ngx_http_durable_submit(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_op_t *op,
    ngx_http_durable_answer_pt answer);
ngx_http_durable_call_t *ngx_http_durable_call_alloc(ngx_http_request_t *r,
    ds_op_t *op, ngx_http_durable_answer_pt answer);
void ngx_http_durable_call_init(ngx_http_durable_call_t *c,
    ngx_http_request_t *r, ds_op_t *op, ngx_http_durable_answer_pt answer);
ngx_int_t ngx_http_durable_call_submit(ngx_http_request_t *r,
    ngx_http_durable_store_t *st, ngx_http_durable_call_t *c,
    ngx_uint_t flags);


#endif /* _NGX_HTTP_DURABLE_WRITER_H_INCLUDED_ */
