
/*
 * Copyright (C) ngx_durable authors
 *
 * nginx has no wake-up between worker processes: a counter in a small
 * shared memory zone is bumped by every write that may create work, and
 * waiting claims poll it with a short timer (design.md §6).
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_notify.h"


static ngx_int_t ngx_http_durable_notify_init_zone(ngx_shm_zone_t *zone,
    void *data);


static ngx_atomic_t  *ngx_http_durable_notify_counter;
static ngx_atomic_t   ngx_http_durable_notify_local;


ngx_int_t
ngx_http_durable_notify_add_zone(ngx_conf_t *cf)
{
    ngx_shm_zone_t  *zone;

    static ngx_str_t  name = ngx_string("ngx_http_durable_notify");

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
        /* a reload keeps the counter of the running workers */
        zone->data = data;
        ngx_http_durable_notify_counter = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (zone->shm.exists) {
        zone->data = shpool->data;
        ngx_http_durable_notify_counter = shpool->data;
        return NGX_OK;
    }

    ngx_http_durable_notify_counter = ngx_slab_calloc(shpool,
                                                      sizeof(ngx_atomic_t));
    if (ngx_http_durable_notify_counter == NULL) {
        return NGX_ERROR;
    }

    shpool->data = (void *) ngx_http_durable_notify_counter;
    zone->data = shpool->data;

    return NGX_OK;
}


void
ngx_http_durable_notify(void)
{
    ngx_atomic_t  *counter;

    counter = ngx_http_durable_notify_counter
              ? ngx_http_durable_notify_counter
              : &ngx_http_durable_notify_local;

    (void) ngx_atomic_fetch_add(counter, 1);
}


ngx_atomic_uint_t
ngx_http_durable_notify_seq(void)
{
    return ngx_http_durable_notify_counter ? *ngx_http_durable_notify_counter
                                           : ngx_http_durable_notify_local;
}
