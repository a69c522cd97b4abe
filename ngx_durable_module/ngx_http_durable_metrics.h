
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_METRICS_H_INCLUDED_
#define _NGX_HTTP_DURABLE_METRICS_H_INCLUDED_


#include "ngx_http_durable_module.h"


typedef enum {
    NGX_HTTP_DURABLE_LEASE_GRANTED = 0,
    NGX_HTTP_DURABLE_LEASE_EXPIRED,
    NGX_HTTP_DURABLE_LEASE_REFUSED,
    NGX_HTTP_DURABLE_LEASE_LAST
} ngx_http_durable_lease_e;


typedef enum {
    NGX_HTTP_DURABLE_ERR_FULL = 0,      /* the store is full */
    NGX_HTTP_DURABLE_ERR_STORE,         /* the store failed */
    NGX_HTTP_DURABLE_ERR_UNAVAILABLE,   /* the store cannot be opened */
    NGX_HTTP_DURABLE_ERR_STOPPED,       /* a write refused by the stop */
    NGX_HTTP_DURABLE_ERR_LAST
} ngx_http_durable_err_e;


ngx_int_t ngx_http_durable_metrics_add_zone(ngx_conf_t *cf);
ngx_int_t ngx_http_durable_metrics_init(ngx_conf_t *cf);
char *ngx_http_durable_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

void ngx_http_durable_metrics_claimed(ds_work_kind_e kind, size_t n,
    size_t expired);
void ngx_http_durable_metrics_completed(ds_work_kind_e kind);
void ngx_http_durable_metrics_lease(ngx_http_durable_lease_e what);
void ngx_http_durable_metrics_wait(ngx_int_t delta);
void ngx_http_durable_metrics_init_process(void);
void ngx_http_durable_metrics_take_zone(ngx_cycle_t *cycle);
void ngx_http_durable_metrics_error(ngx_http_durable_err_e cause);
void ngx_http_durable_metrics_batch(ngx_uint_t writes, uint64_t us,
    uint64_t waited);
void ngx_http_durable_metrics_loop(uint64_t us);


#endif /* _NGX_HTTP_DURABLE_METRICS_H_INCLUDED_ */
