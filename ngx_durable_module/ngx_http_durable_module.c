
/*
 * Copyright (C) ngx_durable authors
 *
 * The module: its directives, configuration contexts (create, merge) and
 * the hooks nginx calls in each process, which open and close the stores.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_directive.h"
#include "ngx_http_durable_grpc.h"
#include "ngx_http_durable_metrics.h"
#include "ngx_http_durable_notify.h"
#include "ngx_http_durable_probe.h"
#include "ngx_http_durable_render.h"
#include "ngx_http_durable_store.h"
#include "ngx_http_durable_variables.h"


static ngx_int_t ngx_http_durable_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_durable_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_durable_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_durable_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_durable_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_durable_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_durable_init_process(ngx_cycle_t *cycle);
static void ngx_http_durable_exit_process(ngx_cycle_t *cycle);


static ngx_conf_num_bounds_t  ngx_http_durable_top_bounds = {
    ngx_conf_check_num_bounds, 1, 100000
};

static ngx_conf_num_bounds_t  ngx_http_durable_depth_bounds = {
    ngx_conf_check_num_bounds, 1, NGX_HTTP_DURABLE_DEPTH_MAX
};

static ngx_conf_num_bounds_t  ngx_http_durable_items_bounds = {
    ngx_conf_check_num_bounds, 1, 1000
};

static ngx_conf_num_bounds_t  ngx_http_durable_budget_bounds = {
    ngx_conf_check_num_bounds, 1, 10000000
};

static ngx_conf_num_bounds_t  ngx_http_durable_percent_bounds = {
    ngx_conf_check_num_bounds, 1, 100
};


static ngx_command_t  ngx_http_durable_commands[] = {

    { ngx_string("durable_task"),
      NGX_HTTP_LOC_CONF|NGX_CONF_ANY,
      ngx_http_durable_task,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("durable_task_store"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_durable_store,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("durable_task_connection"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, store_name),
      NULL },

    { ngx_string("durable_task_hub"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_durable_hub,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, hub),
      NULL },

    { ngx_string("durable_task_keys"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_durable_keys,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, keys),
      NULL },

    { ngx_string("durable_task_keys_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_durable_keys_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, keys),
      NULL },

    { ngx_string("durable_task_anonymous"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, anonymous),
      NULL },

    { ngx_string("durable_task_trust_forwarded"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, trust_forwarded),
      NULL },

    { ngx_string("durable_task_public_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_durable_public_url,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, public_url),
      NULL },

    { ngx_string("durable_task_v1_status_codes"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, v1_status_codes),
      NULL },

    { ngx_string("durable_task_lifecycle_log"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, lifecycle_log),
      NULL },

    { ngx_string("durable_task_max_wait"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, max_wait),
      NULL },

    { ngx_string("durable_task_max_top"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, max_top),
      &ngx_http_durable_top_bounds },

    { ngx_string("durable_task_list_scan_budget"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, scan_budget),
      &ngx_http_durable_budget_bounds },

    { ngx_string("durable_task_list_max_bytes"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, list_max_bytes),
      NULL },

    { ngx_string("durable_task_purge_batch"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, purge_batch),
      &ngx_http_durable_budget_bounds },

    { ngx_string("durable_task_purge_batch_time"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, purge_batch_time),
      NULL },

    { ngx_string("durable_task_purge_pace"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, purge_pace),
      &ngx_http_durable_percent_bounds },

    { ngx_string("durable_task_max_query"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, max_query),
      NULL },

    { ngx_string("durable_task_worker_keys"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_durable_keys,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, worker_keys),
      NULL },

    { ngx_string("durable_task_worker_keys_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_durable_keys_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, worker_keys),
      NULL },

    { ngx_string("durable_task_worker_lease"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, worker_lease),
      NULL },

    { ngx_string("durable_task_worker_max_items"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, worker_max_items),
      &ngx_http_durable_items_bounds },

    { ngx_string("durable_task_worker_max_wait"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, worker_max_wait),
      NULL },

    { ngx_string("durable_task_grpc"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_durable_grpc,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("durable_task_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_durable_metrics,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("durable_task_loop_probe"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_durable_loop_probe,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("durable_task_json_depth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, json_depth),
      &ngx_http_durable_depth_bounds },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_durable_module_ctx = {
    ngx_http_durable_add_variables,        /* preconfiguration */
    ngx_http_durable_postconfiguration,    /* postconfiguration */

    ngx_http_durable_create_main_conf,     /* create main configuration */
    ngx_http_durable_init_main_conf,       /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_durable_create_loc_conf,      /* create location configuration */
    ngx_http_durable_merge_loc_conf        /* merge location configuration */
};


ngx_module_t  ngx_http_durable_module = {
    NGX_MODULE_V1,
    &ngx_http_durable_module_ctx,          /* module context */
    ngx_http_durable_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_durable_init_module,          /* init module */
    ngx_http_durable_init_process,         /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_durable_exit_process,         /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/*
 * In the master, once a configuration is taken (init_module runs for no
 * other): the module's zones are those of this cycle, or none when it
 * asked for none (no store; no probe for the metrics zone). Not what a
 * zone's init saw: a reload that fails after it frees the zones it set
 * up, and the processes started later (a respawn among them) must reach
 * only memory their cycle has.
 */

static ngx_int_t
ngx_http_durable_init_module(ngx_cycle_t *cycle)
{
    ngx_http_durable_notify_take_zone(cycle);
    ngx_http_durable_metrics_take_zone(cycle);

    return NGX_OK;
}


/*
 * The init of the module's zones (notify.c, metrics.c): their data is
 * size bytes, zeroed in a new zone. Each zone calls it from an init of
 * its own, as ngx_http_durable_zone_data() tells the zones apart by
 * their init. zone->data only: init_module takes it once the cycle is
 * taken.
 */

ngx_int_t
ngx_http_durable_zone_init(ngx_shm_zone_t *zone, void *data, size_t size)
{
    void             *sh;
    ngx_slab_pool_t  *shpool;

    if (data) {
        /* a reload: the zone of the old cycle, its data as it is */
        zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (zone->shm.exists) {
        zone->data = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_calloc(shpool, size);
    if (sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = sh;
    zone->data = sh;

    return NGX_OK;
}


/* the data of the cycle's zone of the module that init sets up, or NULL */

void *
ngx_http_durable_zone_data(ngx_cycle_t *cycle, ngx_shm_zone_init_pt init)
{
    ngx_uint_t        i;
    ngx_shm_zone_t   *zone;
    ngx_list_part_t  *part;

    part = &cycle->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (zone[i].tag == &ngx_http_durable_module && zone[i].init == init) {
            return zone[i].data;
        }
    }
}


static ngx_int_t
ngx_http_durable_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                     i;
    ngx_http_durable_store_t      *st;
    ngx_http_durable_main_conf_t  *dmcf;

    dmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_durable_module);
    if (dmcf == NULL) {
        return NGX_OK;
    }

    /* in the zones, or in this process's memory without them */
    ngx_http_durable_metrics_init_process();
    ngx_http_durable_lock_waits_reset();

    /*
     * the cache manager and loader serve no requests: no store, no thread
     * of one, no connections to PostgreSQL
     */

    if (ngx_process == NGX_PROCESS_HELPER) {
        return NGX_OK;
    }

    st = dmcf->stores.elts;

    for (i = 0; i < dmcf->stores.nelts; i++) {
        if (ngx_http_durable_store_init(cycle, &st[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }

#if (NGX_HTTP_DURABLE_TEST_FAULTS)
    ngx_http_durable_store_faults(cycle);
#endif

    ngx_http_durable_probe_init_process(cycle, dmcf->loop_probe);

    return NGX_OK;
}


static void
ngx_http_durable_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                     i;
    ngx_http_durable_store_t      *st;
    ngx_http_durable_main_conf_t  *dmcf;

    dmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_durable_module);
    if (dmcf == NULL) {
        return;
    }

    st = dmcf->stores.elts;

    /* the thread pools have finished their tasks by now */

    for (i = 0; i < dmcf->stores.nelts; i++) {
        ngx_http_durable_store_exit(&st[i]);
    }

    ngx_http_durable_out_exit(cycle);
}


/* the metrics' log handler, the gRPC endpoint's header filter */

static ngx_int_t
ngx_http_durable_postconfiguration(ngx_conf_t *cf)
{
    if (ngx_http_durable_metrics_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_durable_grpc_init(cf);
}


static void *
ngx_http_durable_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_durable_main_conf_t  *dmcf;

    dmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_durable_main_conf_t));
    if (dmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&dmcf->stores, cf->pool, 2,
                       sizeof(ngx_http_durable_store_t))
        != NGX_OK)
    {
        return NULL;
    }

    dmcf->loop_probe = NGX_CONF_UNSET_MSEC;

    return dmcf;
}


static char *
ngx_http_durable_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_durable_main_conf_t *dmcf = conf;

    ngx_conf_init_msec_value(dmcf->loop_probe, 0);

    return NGX_CONF_OK;
}


static void *
ngx_http_durable_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_durable_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_durable_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->hub = { 0, NULL };
     *     conf->store = NULL;
     *     conf->store_name = { 0, NULL };
     *     conf->public_url = { 0, NULL };
     */

    conf->prefixes = NGX_CONF_UNSET_PTR;
    conf->bases = NGX_CONF_UNSET_PTR;
    conf->keys = NGX_CONF_UNSET_PTR;
    conf->anonymous = NGX_CONF_UNSET;
    conf->trust_forwarded = NGX_CONF_UNSET;
    conf->v1_status_codes = NGX_CONF_UNSET;
    conf->lifecycle_log = NGX_CONF_UNSET;
    conf->grpc = NGX_CONF_UNSET;
    conf->grpc_ping = NGX_CONF_UNSET_MSEC;
    conf->max_wait = NGX_CONF_UNSET;
    conf->max_top = NGX_CONF_UNSET_UINT;
    conf->scan_budget = NGX_CONF_UNSET_UINT;
    conf->list_max_bytes = NGX_CONF_UNSET_SIZE;
    conf->purge_batch = NGX_CONF_UNSET_UINT;
    conf->purge_batch_time = NGX_CONF_UNSET_MSEC;
    conf->purge_pace = NGX_CONF_UNSET_UINT;
    conf->json_depth = NGX_CONF_UNSET_UINT;
    conf->max_query = NGX_CONF_UNSET_SIZE;
    conf->worker_keys = NGX_CONF_UNSET_PTR;
    conf->worker_lease = NGX_CONF_UNSET_MSEC;
    conf->worker_max_items = NGX_CONF_UNSET_UINT;
    conf->worker_max_wait = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_durable_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_durable_loc_conf_t *prev = parent;
    ngx_http_durable_loc_conf_t *conf = child;

    ngx_uint_t                     i;
    ngx_http_durable_store_t      *st;
    ngx_http_durable_main_conf_t  *dmcf;

    ngx_conf_merge_ptr_value(conf->prefixes, prev->prefixes, NULL);
    ngx_conf_merge_ptr_value(conf->bases, prev->bases, NULL);
    ngx_conf_merge_str_value(conf->hub, prev->hub,
                             NGX_HTTP_DURABLE_DEFAULT_HUB);
    ngx_conf_merge_str_value(conf->store_name, prev->store_name, "");
    ngx_conf_merge_ptr_value(conf->keys, prev->keys, NULL);
    ngx_conf_merge_value(conf->anonymous, prev->anonymous, 0);
    ngx_conf_merge_value(conf->trust_forwarded, prev->trust_forwarded, 0);
    ngx_conf_merge_str_value(conf->public_url, prev->public_url, "");
    ngx_conf_merge_value(conf->v1_status_codes, prev->v1_status_codes, 0);
    ngx_conf_merge_value(conf->lifecycle_log, prev->lifecycle_log, 0);
    ngx_conf_merge_value(conf->grpc, prev->grpc, 0);
    ngx_conf_merge_msec_value(conf->grpc_ping, prev->grpc_ping, 30000);
    ngx_conf_merge_sec_value(conf->max_wait, prev->max_wait, 120);
    ngx_conf_merge_uint_value(conf->max_top, prev->max_top, 1000);
    ngx_conf_merge_uint_value(conf->scan_budget, prev->scan_budget, 10000);
    ngx_conf_merge_size_value(conf->list_max_bytes, prev->list_max_bytes,
                              8 * 1024 * 1024);
    ngx_conf_merge_uint_value(conf->purge_batch, prev->purge_batch, 1000);
    ngx_conf_merge_msec_value(conf->purge_batch_time,
                              prev->purge_batch_time, 5);
    ngx_conf_merge_uint_value(conf->purge_pace, prev->purge_pace, 50);
    ngx_conf_merge_uint_value(conf->json_depth, prev->json_depth, 64);
    ngx_conf_merge_size_value(conf->max_query, prev->max_query, 4096);
    ngx_conf_merge_ptr_value(conf->worker_keys, prev->worker_keys, NULL);
    ngx_conf_merge_msec_value(conf->worker_lease, prev->worker_lease, 60000);
    ngx_conf_merge_uint_value(conf->worker_max_items, prev->worker_max_items,
                              100);
    ngx_conf_merge_sec_value(conf->worker_max_wait, prev->worker_max_wait, 60);

    if (conf->worker_max_wait > NGX_HTTP_DURABLE_WAIT_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"durable_task_worker_max_wait\" must not "
                           "exceed %ds", NGX_HTTP_DURABLE_WAIT_MAX);
        return NGX_CONF_ERROR;
    }

    if (conf->worker_lease < 100
        || conf->worker_lease > NGX_HTTP_DURABLE_WAIT_MAX * 1000)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"durable_task_worker_lease\" must be from "
                           "100ms to %ds", NGX_HTTP_DURABLE_WAIT_MAX);
        return NGX_CONF_ERROR;
    }

    if (conf->max_wait > NGX_HTTP_DURABLE_WAIT_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"durable_task_max_wait\" must not exceed %ds",
                           NGX_HTTP_DURABLE_WAIT_MAX);
        return NGX_CONF_ERROR;
    }

    if (conf->prefixes == NULL && !conf->grpc) {
        return NGX_CONF_OK;
    }

    /* the API or the gRPC service is served here: it needs a store */

    dmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_durable_module);
    st = dmcf->stores.elts;

    if (dmcf->stores.nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"durable_task\" needs a store: declare one "
                           "with \"durable_task_store\" in http{}");
        return NGX_CONF_ERROR;
    }

    if (conf->store_name.len == 0) {
        conf->store = &st[0];
        return NGX_CONF_OK;
    }

    for (i = 0; i < dmcf->stores.nelts; i++) {
        if (st[i].name.len == conf->store_name.len
            && ngx_strncmp(st[i].name.data, conf->store_name.data,
                           conf->store_name.len) == 0)
        {
            conf->store = &st[i];
            return NGX_CONF_OK;
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"durable_task_connection\" names an unknown store "
                       "\"%V\"", &conf->store_name);

    return NGX_CONF_ERROR;
}
