
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_NOTIFY_H_INCLUDED_
#define _NGX_HTTP_DURABLE_NOTIFY_H_INCLUDED_


#include "ngx_http_durable_module.h"


ngx_int_t ngx_http_durable_notify_add_zone(ngx_conf_t *cf);
void ngx_http_durable_notify(void);
ngx_atomic_uint_t ngx_http_durable_notify_seq(void);
void ngx_http_durable_notify_released(const u_char *lease);
ngx_atomic_uint_t ngx_http_durable_released_head(void);
ngx_int_t ngx_http_durable_released_next(ngx_atomic_uint_t *from,
    u_char *lease);
ngx_uint_t ngx_http_durable_gate_index(ngx_uint_t store);
ngx_int_t ngx_http_durable_gate_try(ngx_uint_t index, ngx_log_t *log);
void ngx_http_durable_gate_release(ngx_uint_t index);
void ngx_http_durable_lock_wait(ngx_uint_t index, ngx_uint_t on);
ngx_uint_t ngx_http_durable_lock_waiting(ngx_uint_t index);
void ngx_http_durable_lock_waits_reset(void);
void ngx_http_durable_notify_take_zone(ngx_cycle_t *cycle);
int *ngx_http_durable_store_stop(ngx_str_t *dir);


#endif /* _NGX_HTTP_DURABLE_NOTIFY_H_INCLUDED_ */
