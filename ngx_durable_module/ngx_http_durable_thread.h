
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_THREAD_H_INCLUDED_
#define _NGX_HTTP_DURABLE_THREAD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#if (NGX_THREADS)

typedef struct ngx_http_durable_thread_s  ngx_http_durable_thread_t;
typedef struct ngx_http_durable_job_s     ngx_http_durable_job_t;

typedef void (*ngx_http_durable_job_pt)(void *data);

/* a job of the thread: the caller's memory, posted once at a time */
struct ngx_http_durable_job_s {
    ngx_http_durable_job_pt       work;     /* in the thread */
    ngx_http_durable_job_pt       done;     /* in the event loop, after */
    void                         *data;
    ngx_http_durable_job_t       *next;
    unsigned                      posted:1;
};


ngx_http_durable_thread_t *ngx_http_durable_thread_start(ngx_cycle_t *cycle,
    ngx_str_t *name);
ngx_int_t ngx_http_durable_thread_post(ngx_http_durable_thread_t *t,
    ngx_http_durable_job_t *job);
void ngx_http_durable_thread_stop(ngx_http_durable_thread_t *t);

#endif


#endif /* _NGX_HTTP_DURABLE_THREAD_H_INCLUDED_ */
