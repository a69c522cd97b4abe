
/*
 * Copyright (C) ngx_durable authors
 *
 * What the worker processes share, in a small shared memory zone:
 *
 *   - nginx has no wake-up between worker processes: a counter is bumped
 *     by every write that may create work, and waiting claims poll it
 *     with a short timer (design.md §6);
 *   - commit gates: a worker that commits in its event loop (writes=loop,
 *     thread_pool=off) takes its store's gate first, without waiting; if
 *     another worker holds it, the batch waits for the next iteration of
 *     the event loop instead of sleeping on LMDB's write lock. Stores
 *     share the gates by a hash of their name (sharing one only makes two
 *     stores take turns). A gate held by a process that is gone is taken
 *     over.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_notify.h"


#define NGX_HTTP_DURABLE_GATES  64


typedef struct {
    ngx_atomic_t                seq;
    ngx_atomic_t                gates[NGX_HTTP_DURABLE_GATES];  /* pids */
} ngx_http_durable_shared_t;


static ngx_int_t ngx_http_durable_notify_init_zone(ngx_shm_zone_t *zone,
    void *data);


static ngx_http_durable_shared_t  *ngx_http_durable_shared;
static ngx_http_durable_shared_t   ngx_http_durable_shared_local;


ngx_int_t
ngx_http_durable_notify_add_zone(ngx_conf_t *cf)
{
    ngx_shm_zone_t  *zone;

    /* the layout changed with the gates: a zone of its own name */
    static ngx_str_t  name = ngx_string("ngx_http_durable_shared");

    zone = ngx_shared_memory_add(cf, &name, 8 * ngx_pagesize,
                                 &ngx_http_durable_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_http_durable_notify_init_zone;

    return NGX_OK;
}


static ngx_int_t
ngx_http_durable_notify_init_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_slab_pool_t  *shpool;

    if (data) {
        /* a reload keeps the counter and gates of the running workers */
        zone->data = data;
        ngx_http_durable_shared = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (zone->shm.exists) {
        zone->data = shpool->data;
        ngx_http_durable_shared = shpool->data;
        return NGX_OK;
    }

    ngx_http_durable_shared = ngx_slab_calloc(shpool,
                                  sizeof(ngx_http_durable_shared_t));
    if (ngx_http_durable_shared == NULL) {
        return NGX_ERROR;
    }

    shpool->data = ngx_http_durable_shared;
    zone->data = shpool->data;

    return NGX_OK;
}


static ngx_http_durable_shared_t *
ngx_http_durable_shm(void)
{
    return ngx_http_durable_shared ? ngx_http_durable_shared
                                   : &ngx_http_durable_shared_local;
}


void
ngx_http_durable_notify(void)
{
    (void) ngx_atomic_fetch_add(&ngx_http_durable_shm()->seq, 1);
}


ngx_atomic_uint_t
ngx_http_durable_notify_seq(void)
{
    return ngx_http_durable_shm()->seq;
}


ngx_uint_t
ngx_http_durable_gate_index(ngx_str_t *store)
{
    return ngx_crc32_short(store->data, store->len) % NGX_HTTP_DURABLE_GATES;
}


/* 1: this process holds the gate now; 0: another one does */

ngx_uint_t
ngx_http_durable_gate_try(ngx_uint_t gate, ngx_log_t *log)
{
    ngx_atomic_t       *lock;
    ngx_atomic_uint_t   owner;

    lock = &ngx_http_durable_shm()->gates[gate];

    if (ngx_atomic_cmp_set(lock, 0, ngx_pid)) {
        return 1;
    }

    owner = *lock;

    /* killed while it held the gate (its commit was never finished) */

    if (owner != 0
        && kill((ngx_pid_t) owner, 0) == -1 && ngx_errno == NGX_ESRCH
        && ngx_atomic_cmp_set(lock, owner, ngx_pid))
    {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "durable: commit gate %ui taken over from process "
                      "%P, which is gone", gate, (ngx_pid_t) owner);
        return 1;
    }

    return 0;
}


void
ngx_http_durable_gate_release(ngx_uint_t gate)
{
    ngx_atomic_t  *lock;

    lock = &ngx_http_durable_shm()->gates[gate];

    (void) ngx_atomic_cmp_set(lock, ngx_pid, 0);
}
