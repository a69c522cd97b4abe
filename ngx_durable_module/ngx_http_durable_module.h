
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_MODULE_H_INCLUDED_
#define _NGX_HTTP_DURABLE_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "durable_store.h"
#include "ds_route.h"


#define NGX_HTTP_DURABLE_DEFAULT_HUB   "DurableFunctionsHub"

/* status codes nginx has no names for */
#define NGX_HTTP_DURABLE_GONE          410
#define NGX_HTTP_DURABLE_STORE_FULL    507

#define NGX_HTTP_DURABLE_WAIT_MAX      3600
#define NGX_HTTP_DURABLE_TOKEN_HEADER  "x-ms-continuation-token"
#define NGX_HTTP_DURABLE_DEPTH_MAX     2048

/* the permission bits as three octal digits, for "0%ui%ui%ui" */
#define NGX_HTTP_DURABLE_MODE(fi)                                            \
    (ngx_uint_t) (ngx_file_access(fi) >> 6 & 7),                             \
    (ngx_uint_t) (ngx_file_access(fi) >> 3 & 7),                             \
    (ngx_uint_t) (ngx_file_access(fi) & 7)


/* a named store, declared by durable_task_store: LMDB or PostgreSQL */
typedef struct {
    ngx_str_t                   name;
    ngx_uint_t                  backend;    /* ds_backend_e */
    ngx_str_t                   conninfo;   /* postgres: resolved, NUL */
    ngx_uint_t                  pg_pool;    /* postgres: 0, the default */
    ngx_msec_t                  pg_timeout; /* postgres: 0, the default */
    ngx_str_t                   path;
    ngx_str_t                   dir;        /* real path, for duplicates */
    size_t                      map_size;
    size_t                      reserve;    /* bytes; 0: the store's */
    ngx_uint_t                  reserve_pct;    /* reserve=N% */
    ds_sync_e                   sync;
    ngx_msec_t                  flush;
    ngx_msec_t                  reader_check;   /* 0: off */
    ngx_flag_t                  loop_writes;    /* writes=loop */
    ngx_flag_t                  reads_later;    /* reads=later */
    ngx_uint_t                  index;          /* among the stores */

#if (NGX_THREADS)
    ngx_thread_pool_t          *thread_pool; /* nginx's, thread_pool= */
    ngx_flag_t                  own_thread;  /* no thread_pool=: its own */
#endif

    ds_store_t                 *ds;         /* per process */
    void                       *host;       /* per process */
    time_t                      retry;      /* next open attempt */
} ngx_http_durable_store_t;


typedef struct {
    ngx_array_t                 stores;     /* ngx_http_durable_store_t */
    ngx_msec_t                  loop_probe; /* its interval; 0: off */
} ngx_http_durable_main_conf_t;


typedef struct {
    ngx_array_t                *prefixes;   /* ngx_str_t; NULL: off */
    ngx_array_t                *bases;      /* ngx_str_t: B of each prefix */
    ngx_str_t                   hub;
    ngx_http_durable_store_t   *store;
    ngx_str_t                   store_name;
    ngx_array_t                *keys;       /* ngx_str_t */
    ngx_flag_t                  anonymous;
    ngx_flag_t                  trust_forwarded;
    ngx_str_t                   public_url;
    ngx_flag_t                  v1_status_codes;
    ngx_flag_t                  lifecycle_log;
    ngx_flag_t                  grpc;       /* durable_task_grpc */
    ngx_msec_t                  grpc_ping;
    time_t                      max_wait;
    ngx_uint_t                  max_top;
    ngx_uint_t                  scan_budget;
    size_t                      list_max_bytes; /* a page's body, about */
    ngx_uint_t                  purge_batch;
    ngx_msec_t                  purge_batch_time;
    ngx_uint_t                  purge_pace;     /* % of the time, 1-100 */
    ngx_uint_t                  json_depth;
    size_t                      max_query;

    ngx_array_t                *worker_keys; /* ngx_str_t */
    ngx_msec_t                  worker_lease;
    ngx_uint_t                  worker_max_items;
    time_t                      worker_max_wait;
} ngx_http_durable_loc_conf_t;


/*
 * A growing buffer for responses of unknown size: in the request pool, or
 * (heap, for a claim, which a thread fills) malloc'd, or taken from those
 * the process keeps, and given back when the pool is destroyed
 * (ngx_http_durable_out_heap()).
 */
typedef struct {
    u_char                     *start;
    u_char                     *pos;
    u_char                     *end;
    ngx_pool_t                 *pool;
    ngx_uint_t                  failed;
    unsigned                    heap:1;
} ngx_http_durable_out_t;


typedef struct ngx_http_durable_ctx_s  ngx_http_durable_ctx_t;

/*
 * Called by a wait (ngx_http_durable_wait.c) when a notification came, a
 * re-read is due (ctx->wait_news is then 1), or the deadline passed
 * ("expired": answer now).  Returns NGX_AGAIN to go on waiting, NGX_DONE
 * when its read went to the writer (which calls
 * ngx_http_durable_wait_again() or answers), or the result of sending the
 * response, whose NGX_AGAIN (output held back) goes through
 * ngx_http_durable_wait_answered().
 */
typedef ngx_int_t (*ngx_http_durable_wait_pt)(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t expired);


/* per request state */
struct ngx_http_durable_ctx_s {
    ds_route_t                 route;
    ds_route_query_t           query;

    ngx_str_t                  hub;
    ngx_str_t                  connection;  /* as the client named it */
    ngx_http_durable_store_t  *store;
    ngx_str_t                  key;         /* that authenticated it */
    ngx_log_t                 *log;         /* keys masked: see _log.c */

    ngx_str_t                  body;        /* request body, contiguous */
    void                      *members;     /* of an object of it: see
                                               ngx_http_durable_json.c */

    /*
     * a 4xx found while parsing, answered by ngx_http_durable_fail(); in
     * an array of completions, led by "Completion 2: " (err_completion)
     */
    ngx_uint_t                  err_status;
    ngx_str_t                   err;
    ngx_uint_t                  err_completion;
    unsigned                    in_completions:1;

    /*
     * while an action of a completion is parsed: its position and, once
     * known, its type, which the errors of its members name ("Action 2
     * (scheduleActivity): 'id' must ...")
     */
    ngx_uint_t                  err_action;
    const char                 *err_action_type;
    unsigned                    in_action:1;

    /* waiting: see ngx_http_durable_wait.c */
    ngx_event_t                 wait_ev;
    ngx_msec_t                  wait_deadline;
    ngx_http_durable_wait_pt    wait_handler;
    ngx_uint_t                  wait_status;
    ngx_str_t                   wait_id;
    ngx_msec_t                  wait_reread; /* without a notification */
    ngx_msec_t                  wait_next;   /* when a read is due */
    ngx_atomic_uint_t           wait_seq;    /* the notifications seen */
    void                       *wait_read;   /* its read, made once */
    unsigned                    waiting:1;
    unsigned                    wait_ended:1; /* its cleanup ran */
    unsigned                    wait_news:1; /* woken, not only expired */
    unsigned                    show_input:1;
    unsigned                    show_history:1;
    unsigned                    show_output:1;
    unsigned                    return500:1;

    /* claims of the worker protocol */
    ngx_uint_t                  claim_max;
    ds_route_work_kind_e        claim_kind;
    u_char                     *claim_tokens;
    ngx_msec_t                  claim_wait;
    ngx_uint_t                  claim_expired;
    ngx_http_durable_out_t     *claim_out;
    ds_op_t                    *claim_op;       /* every attempt's */
    ds_claim_filter_t           claim_filter;   /* names=; nnames 0: any */

    /* purge by filter, batch after batch, paused between them */
    ds_query_t                  purge;
    ngx_uint_t                  purged;
    ds_op_t                    *purge_op;
    ngx_event_t                *purge_ev;
    uint64_t                    purge_owed;     /* pause not yet made, us */

    /* for the access log variables: ngx_http_durable_variables.c */
    ngx_str_t                   log_id;         /* a start's instance */
    ngx_str_t                   log_op;         /* a gRPC call's method */
    ds_status_e                 log_status;
    ngx_uint_t                  batch_writes;   /* of the last write */
    uint64_t                    store_us;
    unsigned                    log_status_set:1;
    unsigned                    store_timed:1;
};


typedef ngx_int_t (*ngx_http_durable_handler_pt)(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);


ngx_int_t ngx_http_durable_zone_init(ngx_shm_zone_t *zone, void *data,
    size_t size);
void *ngx_http_durable_zone_data(ngx_cycle_t *cycle,
    ngx_shm_zone_init_pt init);


extern ngx_module_t  ngx_http_durable_module;


#endif /* _NGX_HTTP_DURABLE_MODULE_H_INCLUDED_ */
