
/*
 * Copyright (C) ngx_durable authors
 *
 * Directives, configuration, store lifecycle per worker process and the
 * content handler that routes a request to its operation.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_auth.h"
#include "ngx_http_durable_metrics.h"
#include "ngx_http_durable_log.h"
#include "ngx_http_durable_render.h"
#include "ngx_http_durable_grpc.h"
#include "ngx_http_durable_handlers.h"
#include "ngx_http_durable_notify.h"
#include "ngx_http_durable_writer.h"
#include "ngx_http_durable_variables.h"

#if (NGX_LINUX)
#include <sys/random.h>
#endif


#define NGX_HTTP_DURABLE_MAP_SIZE      (1024 * 1024 * 1024)
#define NGX_HTTP_DURABLE_RETRY_OPEN    1
#define NGX_HTTP_DURABLE_READER_CHECK  60000


static ngx_int_t ngx_http_durable_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_durable_dispatch(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
static void ngx_http_durable_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_durable_open_store(ngx_log_t *log,
    ngx_http_durable_store_t *st);

static void *ngx_http_durable_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_durable_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_durable_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static void ngx_http_durable_random_fill(u_char *buf, size_t len);
static char *ngx_http_durable_task(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_durable_store(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_durable_store_dir(ngx_conf_t *cf, ngx_str_t *path,
    ngx_str_t *dir);
static ngx_int_t ngx_http_durable_key_add(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_array_t **keys, u_char *data, size_t len);
static char *ngx_http_durable_keys(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_durable_keys_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_durable_hub(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_durable_public_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_durable_init_process(ngx_cycle_t *cycle);
static void ngx_http_durable_exit_process(ngx_cycle_t *cycle);
static void ngx_http_durable_reader_check(ngx_event_t *ev);


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

    { ngx_string("durable_task_purge_batch"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_durable_loc_conf_t, purge_batch),
      &ngx_http_durable_budget_bounds },

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
    ngx_http_durable_metrics_init,         /* postconfiguration */

    ngx_http_durable_create_main_conf,     /* create main configuration */
    NULL,                                  /* init main configuration */

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
    NULL,                                  /* init module */
    ngx_http_durable_init_process,         /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_durable_exit_process,         /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_durable_default_prefixes[] = {
    ngx_string("/runtime/webhooks/durabletask"),
    ngx_string("/admin/extensions/DurableTaskExtension")
};


static ngx_int_t
ngx_http_durable_handler(ngx_http_request_t *r)
{
    int                           rc;
    u_char                       *scratch, *q;
    size_t                        len;
    unsigned                      method;
    ngx_int_t                     status;
    ngx_http_durable_ctx_t       *ctx;
    ngx_http_durable_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_durable_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_durable_module);

    if (ngx_http_durable_variables_keep(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (r->method) {
    case NGX_HTTP_GET:
        method = DS_ROUTE_GET;
        break;
    case NGX_HTTP_POST:
        method = DS_ROUTE_POST;
        break;
    case NGX_HTTP_DELETE:
        method = DS_ROUTE_DELETE;
        break;
    default:
        method = 0;
    }

    /* the raw path: nginx's r->uri is already decoded and slash-merged */

    len = r->unparsed_uri.len;
    q = ngx_strlchr(r->unparsed_uri.data, r->unparsed_uri.data + len, '?');
    if (q) {
        len = q - r->unparsed_uri.data;
    }

    /*
     * URLs in answers are built from Host: one that is not a plain
     * host[:port] is refused on every route, before the key is checked
     */

    if (r->headers_in.host
        && !ngx_http_durable_host_valid(r->headers_in.host->value.data,
                                        r->headers_in.host->value.len))
    {
        return ngx_http_durable_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "The Host header is not a valid host[:port].");
    }

    /* bounds reasons, status lists and every other parameter */

    if (r->args.len > dlcf->max_query) {
        return ngx_http_durable_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "The query string is longer than %uz bytes.",
                   dlcf->max_query);
    }

    scratch = ngx_pnalloc(r->pool, len + 2 * r->args.len + 1);
    if (scratch == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ds_route_parse_query(&ctx->query, r->args.data, r->args.len,
                              scratch + len);
    if (rc >= 0) {
        return ngx_http_durable_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "The query parameter '%s' is given more than once.",
                   ds_route_param_names[rc]);
    }

    rc = ds_route(&ctx->route,
                  (ds_str_t *) dlcf->prefixes->elts,
                  dlcf->prefixes->nelts, method,
                  r->unparsed_uri.data, len, scratch);

    /* the key is checked first: nobody learns which routes exist */

    if (ngx_http_durable_authenticate(r, ctx) != NGX_OK) {
        return ngx_http_durable_fail(r, ctx);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "durable route: rc:%d op:%d", rc, ctx->route.op);

    switch (rc) {

    case DS_ROUTE_OK:
        break;

    case DS_ROUTE_METHOD:
        return ngx_http_durable_send_method_not_allowed(r, ctx->route.allow);

    case DS_ROUTE_EMPTY:
        return ngx_http_durable_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "The path has an empty segment.");

    case DS_ROUTE_ENCODING:
        return ngx_http_durable_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "The path has an invalid percent-encoding.");

    default:
        return ngx_http_durable_send_error(r, NGX_HTTP_NOT_FOUND,
                   "No Durable Task API route matches this path.");
    }

    if (ngx_http_durable_select_hub(r, ctx) != NGX_OK) {
        return ngx_http_durable_fail(r, ctx);
    }

    if (ngx_http_durable_select_store(r, ctx) != NGX_OK) {
        return ngx_http_durable_fail(r, ctx);
    }

    if (ngx_http_durable_op_has_body(ctx->route.op)) {
        r->request_body_in_single_buf = 1;

        status = ngx_http_read_client_request_body(r,
                                             ngx_http_durable_body_handler);
        if (status >= NGX_HTTP_SPECIAL_RESPONSE) {
            return status;
        }

        return NGX_DONE;
    }

    status = ngx_http_discard_request_body(r);
    if (status != NGX_OK) {
        return status;
    }

    return ngx_http_durable_dispatch(r, ctx);
}


static void
ngx_http_durable_body_handler(ngx_http_request_t *r)
{
    ngx_int_t                rc;
    ngx_http_durable_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_durable_module);

    rc = ngx_http_durable_read_body(r, ctx);
    if (rc == NGX_OK) {
        rc = ngx_http_durable_dispatch(r, ctx);
    }

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_http_durable_dispatch(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx)
{
    if (ngx_http_durable_store_ready(r, ctx) != NGX_OK) {
        return ngx_http_durable_fail(r, ctx);
    }

    return ngx_http_durable_run_op(r, ctx);
}


/* the body, contiguous in memory; a body in a temp file is read back */

ngx_int_t
ngx_http_durable_read_body(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx)
{
    u_char       *p;
    size_t        len;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        ngx_str_null(&ctx->body);
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        len += b->in_file ? (size_t) (b->file_last - b->file_pos)
                          : (size_t) (b->last - b->pos);
    }

    cl = r->request_body->bufs;

    if (cl->next == NULL && !cl->buf->in_file) {
        ctx->body.data = cl->buf->pos;
        ctx->body.len = len;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->body.data = p;
    ctx->body.len = len;

    for ( /* void */ ; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {
            /* a chunked body ends with an empty buffer: pos is NULL */
            if (b->last != b->pos) {
                p = ngx_cpymem(p, b->pos, b->last - b->pos);
            }

            continue;
        }

        n = ngx_read_file(b->file, p, (size_t) (b->file_last - b->file_pos),
                          b->file_pos);
        if (n != b->file_last - b->file_pos) {
            ngx_log_error(NGX_LOG_ERR, ngx_http_durable_log(r), 0,
                          "durable: could not read the request body file");
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p += n;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_durable_hub_valid(u_char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > DS_HUB_MAX) {
        return 0;
    }

    if (!((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z'))) {
        return 0;
    }

    for (i = 1; i < len; i++) {
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')
              || (p[i] >= '0' && p[i] <= '9') || p[i] == '-' || p[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}


ngx_int_t
ngx_http_durable_select_hub(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx)
{
    ds_str_t                     *v;
    ngx_http_durable_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    v = &ctx->query.v[DS_ROUTE_Q_TASKHUB];

    if (v->len == 0) {
        ctx->hub = dlcf->hub;
        return NGX_OK;
    }

    if (!ngx_http_durable_hub_valid((u_char *) v->data, v->len)) {
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "The taskHub '%*s' is not a valid task hub name: use 1 to "
                   "50 letters, digits, '-' and '_', starting with a letter.",
                   v->len, v->data);
    }

    ctx->hub.data = (u_char *) v->data;
    ctx->hub.len = v->len;

    return NGX_OK;
}


ngx_int_t
ngx_http_durable_select_store(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx)
{
    ngx_uint_t                     i;
    ds_str_t                      *v;
    ngx_http_durable_store_t      *st;
    ngx_http_durable_loc_conf_t   *dlcf;
    ngx_http_durable_main_conf_t  *dmcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);
    dmcf = ngx_http_get_module_main_conf(r, ngx_http_durable_module);

    v = &ctx->query.v[DS_ROUTE_Q_CONNECTION];

    ctx->store = dlcf->store;
    ctx->connection = dlcf->store->name;

    if (v->len == 0) {
        return NGX_OK;
    }

    st = dmcf->stores.elts;

    for (i = 0; i < dmcf->stores.nelts; i++) {
        if (st[i].name.len == v->len
            && ngx_strncmp(st[i].name.data, v->data, v->len) == 0)
        {
            ctx->store = &st[i];
            ctx->connection.data = (u_char *) v->data;
            ctx->connection.len = v->len;
            return NGX_OK;
        }
    }

    /* the reference's default connection names, which clients send */

    if ((v->len == sizeof("Storage") - 1
         && ngx_strncasecmp((u_char *) v->data, (u_char *) "Storage",
                            v->len) == 0)
        || (v->len == sizeof("AzureWebJobsStorage") - 1
            && ngx_strncasecmp((u_char *) v->data,
                               (u_char *) "AzureWebJobsStorage",
                               v->len) == 0))
    {
        ctx->connection.data = (u_char *) v->data;
        ctx->connection.len = v->len;
        return NGX_OK;
    }

    return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
               "The connection '%*s' is not a configured store.",
               v->len, v->data);
}


/* open lazily again when init_process could not (e.g. a full disk) */

ngx_int_t
ngx_http_durable_store_ready(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx)
{
    ngx_http_durable_store_t  *st;

    st = ctx->store;

    if (st->env) {
        return NGX_OK;
    }

    if (ngx_time() >= st->retry
        && ngx_http_durable_open_store(ngx_http_durable_log(r), st) == NGX_OK)
    {
        return NGX_OK;
    }

    ngx_http_durable_metrics_error(NGX_HTTP_DURABLE_ERR_UNAVAILABLE);

    return ngx_http_durable_set_error(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
               "The store '%V' is not available; see the error log.",
               &st->name);
}


ngx_int_t
ngx_http_durable_store_error(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, int rc, const char *what)
{
    switch (rc) {

    case DS_FULL:
        ngx_http_durable_metrics_error(NGX_HTTP_DURABLE_ERR_FULL);
        ngx_log_error(NGX_LOG_ERR, ngx_http_durable_log(r), 0,
                      "durable: store \"%V\" is full while %s: its "
                      "max_size is reached or its disk is full",
                      &ctx->store->name, what);
        return ngx_http_durable_send_error(r, NGX_HTTP_DURABLE_STORE_FULL,
                   "The store '%V' is full; terminate and purge "
                   "instances, raise its max_size or free disk space.",
                   &ctx->store->name);

    case DS_INVALID:
        return ngx_http_durable_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "The request names a key the store cannot hold.");

    default:
        ngx_http_durable_metrics_error(NGX_HTTP_DURABLE_ERR_STORE);
        ngx_log_error(NGX_LOG_ERR, ngx_http_durable_log(r), 0,
                      "durable: store \"%V\" failed while %s: %s",
                      &ctx->store->name, what, ds_strerror(rc));
        return ngx_http_durable_send_error(r,
                   NGX_HTTP_INTERNAL_SERVER_ERROR,
                   "The store failed while %s.", what);
    }
}


static ngx_int_t
ngx_http_durable_open_store(ngx_log_t *log, ngx_http_durable_store_t *st)
{
    int            rc;
    char           err[256];
    ds_env_conf_t  dc;

    ngx_memzero(&dc, sizeof(ds_env_conf_t));

    dc.path = (const char *) st->path.data;
    dc.map_size = st->map_size;
    dc.reserve = st->reserve;
    dc.sync = st->sync;

    /*
     * read txns in the event loop, write txns in pool threads; only the
     * event loop begins read txns, so one reset reader can be reused
     */
    dc.no_tls = 1;
    dc.reuse_reader = 1;

    err[0] = '\0';

    rc = ds_env_open(&st->env, &dc, err, sizeof(err));
    if (rc != DS_OK) {
        st->env = NULL;
        st->retry = ngx_time() + NGX_HTTP_DURABLE_RETRY_OPEN;

        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "durable: store \"%V\": %s", &st->name, err);
        return NGX_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "durable: store \"%V\" opened at \"%V\"",
                  &st->name, &st->path);

    return NGX_OK;
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

    st = dmcf->stores.elts;

    /*
     * a worker that fails init_process is not respawned: a store that
     * cannot be opened answers 503 instead, and is retried on demand
     */

    for (i = 0; i < dmcf->stores.nelts; i++) {
        if (ngx_http_durable_writer_init(cycle, &st[i]) != NGX_OK) {
            return NGX_ERROR;
        }

        (void) ngx_http_durable_open_store(cycle->log, &st[i]);

        /*
         * a worker killed inside a read txn leaves its reader slot
         * behind; ds_env_open() clears such slots, and so does this
         * timer, for the slots of workers killed later (cancelable: it
         * never holds a worker that shuts down)
         */

        if (st[i].reader_check) {
            st[i].reader_ev.handler = ngx_http_durable_reader_check;
            st[i].reader_ev.data = &st[i];
            st[i].reader_ev.log = cycle->log;
            st[i].reader_ev.cancelable = 1;

            ngx_add_timer(&st[i].reader_ev, st[i].reader_check);
        }
    }

    return NGX_OK;
}


static void
ngx_http_durable_reader_check(ngx_event_t *ev)
{
    ngx_http_durable_store_t  *st = ev->data;

    int  dead;

    if (st->env) {
        dead = 0;

        if (ds_env_reader_check(st->env, &dead) != DS_OK) {
            ngx_log_error(NGX_LOG_ALERT, ev->log, 0,
                          "durable: store \"%V\": mdb_reader_check() failed",
                          &st->name);

        } else if (dead) {
            ngx_log_error(NGX_LOG_NOTICE, ev->log, 0,
                          "durable: store \"%V\": cleared %d stale reader "
                          "slot(s)", &st->name, dead);
        }
    }

    ngx_add_timer(ev, st->reader_check);
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
        ngx_http_durable_writer_exit(&st[i]);

        if (st[i].reader_ev.timer_set) {
            ngx_del_timer(&st[i].reader_ev);
        }

        if (st[i].env) {
            ds_env_close(st[i].env);
            st[i].env = NULL;
        }
    }
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

    return dmcf;
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
    conf->purge_batch = NGX_CONF_UNSET_UINT;
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
    ngx_conf_merge_uint_value(conf->purge_batch, prev->purge_batch, 1000);
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


/* durable_task [prefix ...]; */

static char *
ngx_http_durable_task(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_durable_loc_conf_t *dlcf = conf;

    ngx_str_t                 *value, *src, *base;
    ngx_uint_t                 i, n;
    ds_str_t                  *sv;
    ngx_http_core_loc_conf_t  *clcf;

    if (dlcf->prefixes != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts > 1) {
        src = &value[1];
        n = cf->args->nelts - 1;

    } else {
        src = ngx_http_durable_default_prefixes;
        n = sizeof(ngx_http_durable_default_prefixes) / sizeof(ngx_str_t);
    }

    dlcf->prefixes = ngx_array_create(cf->pool, n,
                                      sizeof(ds_str_t));
    dlcf->bases = ngx_array_create(cf->pool, n, sizeof(ngx_str_t));
    if (dlcf->prefixes == NULL || dlcf->bases == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (src[i].len == 0 || src[i].data[0] != '/') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid durable_task prefix \"%V\": "
                               "it must start with \"/\"", &src[i]);
            return NGX_CONF_ERROR;
        }

        sv = ngx_array_push(dlcf->prefixes);
        if (sv == NULL) {
            return NGX_CONF_ERROR;
        }

        /* stored without trailing slashes; "/" becomes the empty prefix */

        sv->data = (const char *) src[i].data;
        sv->len = src[i].len;

        while (sv->len && sv->data[sv->len - 1] == '/') {
            sv->len--;
        }

        /* the base of check-status URLs under this prefix */

        base = ngx_array_push(dlcf->bases);
        if (base == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_http_durable_canonical_base(sv, base);
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_durable_handler;

    return NGX_CONF_OK;
}


/*
 * durable_task_store name path=dir [max_size=size] [reserve=size|N%]
 *                    [sync=on|off] [flush=time] [thread_pool=name|off]
 *                    [writes=thread|loop] [reader_check=time|off];
 *
 * Every refusal names the parameter, what is wrong with it and what is
 * accepted: this is the first directive a new user writes.
 */

#define NGX_HTTP_DURABLE_STORE_SYNTAX                                        \
    "durable_task_store name path=dir [max_size=size] [reserve=size|N%] "    \
    "[sync=on|off] [flush=time] [thread_pool=name|off] "                     \
    "[writes=thread|loop] [reader_check=time|off]"

typedef enum {
    NGX_HTTP_DURABLE_SP_PATH = 0,
    NGX_HTTP_DURABLE_SP_MAX_SIZE,
    NGX_HTTP_DURABLE_SP_SYNC,
    NGX_HTTP_DURABLE_SP_FLUSH,
    NGX_HTTP_DURABLE_SP_THREAD_POOL,
    NGX_HTTP_DURABLE_SP_WRITES,
    NGX_HTTP_DURABLE_SP_READER_CHECK,
    NGX_HTTP_DURABLE_SP_RESERVE
} ngx_http_durable_store_param_e;

/* in the order of ngx_http_durable_store_param_e */
static ngx_str_t  ngx_http_durable_store_params[] = {
    ngx_string("path"),
    ngx_string("max_size"),
    ngx_string("sync"),
    ngx_string("flush"),
    ngx_string("thread_pool"),
    ngx_string("writes"),
    ngx_string("reader_check"),
    ngx_string("reserve"),
    ngx_null_string
};


static char *
ngx_http_durable_store(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_durable_main_conf_t *dmcf = conf;

    u_char                    *eq;
    ssize_t                    size;
    ngx_str_t                 *value, s, name, pool;
    ngx_uint_t                 i, k, seen;
    ngx_path_t                *path;
    ngx_file_info_t            fi;
    ngx_http_durable_store_t  *st;

    value = cf->args->elts;

    if (ngx_strlchr(value[1].data, value[1].data + value[1].len, '=')
        != NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "durable_task_store needs a name before its "
                           "parameters, e.g. \"durable_task_store default "
                           "%V\"; the syntax is \""
                           NGX_HTTP_DURABLE_STORE_SYNTAX "\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    st = dmcf->stores.elts;

    for (i = 0; i < dmcf->stores.nelts; i++) {
        if (st[i].name.len == value[1].len
            && ngx_strncmp(st[i].name.data, value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate durable_task_store \"%V\"",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (dmcf->stores.nelts == 0
        && (ngx_http_durable_notify_add_zone(cf) != NGX_OK
            || ngx_http_durable_metrics_add_zone(cf) != NGX_OK))
    {
        return NGX_CONF_ERROR;
    }

    st = ngx_array_push(&dmcf->stores);
    if (st == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(st, sizeof(ngx_http_durable_store_t));

    st->name = value[1];
    st->index = dmcf->stores.nelts - 1;
    st->map_size = NGX_HTTP_DURABLE_MAP_SIZE;
    st->sync = DS_SYNC_FULL;
    st->flush = 100;
    st->reader_check = NGX_HTTP_DURABLE_READER_CHECK;

    ngx_str_set(&pool, "default");

    seen = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        eq = ngx_strlchr(value[i].data, value[i].data + value[i].len, '=');

        if (eq == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown durable_task_store parameter "
                               "\"%V\": parameters are name=value (the "
                               "directory is path=dir), as in "
                               "\"" NGX_HTTP_DURABLE_STORE_SYNTAX "\"",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        name.data = value[i].data;
        name.len = eq - value[i].data;
        s.data = eq + 1;
        s.len = value[i].data + value[i].len - s.data;

        for (k = 0; ngx_http_durable_store_params[k].len; k++) {
            if (ngx_http_durable_store_params[k].len == name.len
                && ngx_strncmp(ngx_http_durable_store_params[k].data,
                               name.data, name.len) == 0)
            {
                break;
            }
        }

        if (ngx_http_durable_store_params[k].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown durable_task_store parameter "
                               "\"%V\": use path=, max_size=, sync=, "
                               "flush=, thread_pool=, writes=, "
                               "reader_check= or reserve=", &value[i]);
            return NGX_CONF_ERROR;
        }

        if (seen & (1 << k)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "durable_task_store \"%V\": \"%V=\" is "
                               "given more than once", &st->name, &name);
            return NGX_CONF_ERROR;
        }

        seen |= 1 << k;

        switch (k) {

        case NGX_HTTP_DURABLE_SP_PATH:

            if (s.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid durable_task_store parameter "
                                   "\"%V\": use path=dir, the directory "
                                   "of the store", &value[i]);
                return NGX_CONF_ERROR;
            }

            if (ngx_conf_full_name(cf->cycle, &s, 0) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            st->path = s;
            break;

        case NGX_HTTP_DURABLE_SP_MAX_SIZE:

            size = ngx_parse_offset(&s);
            if (size == NGX_ERROR || size < 1024 * 1024) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid max_size \"%V\": use a size of "
                                   "at least 1m", &s);
                return NGX_CONF_ERROR;
            }

            st->map_size = (size_t) size;
            break;

        case NGX_HTTP_DURABLE_SP_RESERVE:

            if (s.len > 1 && s.data[s.len - 1] == '%') {
                size = ngx_atoi(s.data, s.len - 1);
                if (size >= 1 && size <= 50) {
                    st->reserve_pct = (ngx_uint_t) size;
                }

            } else {
                size = ngx_parse_offset(&s);
                if (size > 0) {
                    st->reserve = (size_t) size;
                }
            }

            if (st->reserve == 0 && st->reserve_pct == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid reserve \"%V\": use a size "
                                   "such as 64m or a percentage of max_size "
                                   "from 1%% to 50%%", &s);
                return NGX_CONF_ERROR;
            }

            break;

        case NGX_HTTP_DURABLE_SP_SYNC:

            if (s.len == 2 && ngx_strncmp(s.data, "on", 2) == 0) {
                st->sync = DS_SYNC_FULL;

            } else if (s.len == 3 && ngx_strncmp(s.data, "off", 3) == 0) {
                st->sync = DS_SYNC_NONE;

            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid durable_task_store parameter "
                                   "\"%V\": use on or off (sync=on or "
                                   "sync=off)", &value[i]);
                return NGX_CONF_ERROR;
            }

            break;

        case NGX_HTTP_DURABLE_SP_FLUSH:

            st->flush = ngx_parse_time(&s, 0);
            if (st->flush == (ngx_msec_t) NGX_ERROR || st->flush == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid durable_task_store parameter "
                                   "\"%V\": use a time above 0, e.g. "
                                   "flush=100ms", &value[i]);
                return NGX_CONF_ERROR;
            }

            break;

        case NGX_HTTP_DURABLE_SP_THREAD_POOL:

            if (s.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid durable_task_store parameter "
                                   "\"%V\": use thread_pool=name (a "
                                   "\"thread_pool\" of the main context) "
                                   "or thread_pool=off", &value[i]);
                return NGX_CONF_ERROR;
            }

            pool = s;
            break;

        case NGX_HTTP_DURABLE_SP_WRITES:

            if (s.len == 6 && ngx_strncmp(s.data, "thread", 6) == 0) {
                st->loop_writes = 0;

            } else if (s.len == 4 && ngx_strncmp(s.data, "loop", 4) == 0) {
                st->loop_writes = 1;

            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid durable_task_store parameter "
                                   "\"%V\": use thread or loop "
                                   "(writes=thread or writes=loop)",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            break;

        default: /* NGX_HTTP_DURABLE_SP_READER_CHECK */

            if (s.len == 3 && ngx_strncmp(s.data, "off", 3) == 0) {
                st->reader_check = 0;
                break;
            }

            st->reader_check = ngx_parse_time(&s, 0);
            if (st->reader_check == (ngx_msec_t) NGX_ERROR
                || st->reader_check == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid durable_task_store parameter "
                                   "\"%V\": use a time above 0, e.g. "
                                   "reader_check=60s, or reader_check=off",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }
        }
    }

    if (st->path.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "durable_task_store \"%V\": path= is required, "
                           "e.g. \"durable_task_store %V "
                           "path=/var/lib/nginx/durable\"",
                           &st->name, &st->name);
        return NGX_CONF_ERROR;
    }

    /* the reserve that only terminate and purge may use (store default) */

    if (st->reserve_pct) {
        st->reserve = st->map_size / 100 * st->reserve_pct;
    }

    if (st->reserve > st->map_size / 2) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "durable_task_store \"%V\": reserve= must be "
                           "at most half of max_size", &st->name);
        return NGX_CONF_ERROR;
    }

    /* LMDB's pages are the OS pages; less does not fit one transaction */

    if ((st->reserve_pct || st->reserve)
        && st->reserve < DS_RESERVE_PAGES * ngx_pagesize)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "durable_task_store \"%V\": reserve= must be "
                           "at least %uz (%d pages of %uz bytes), the room "
                           "one write needs; raise it or max_size",
                           &st->name, DS_RESERVE_PAGES * ngx_pagesize,
                           DS_RESERVE_PAGES, ngx_pagesize);
        return NGX_CONF_ERROR;
    }

    /*
     * like nginx's temp paths: the directory is created at startup and
     * handed to the worker user, who creates the LMDB files in it (see
     * ngx_http_durable_paths.c)
     */

    if (ngx_file_info(st->path.data, &fi) != NGX_FILE_ERROR
        && !ngx_is_dir(&fi))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "durable_task_store \"%V\": path \"%V\" is not "
                           "a directory", &st->name, &st->path);
        return NGX_CONF_ERROR;
    }

    /* LMDB forbids opening one environment twice in a process */

    if (ngx_http_durable_store_dir(cf, &st->path, &st->dir) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    st = dmcf->stores.elts;

    for (i = 0; i + 1 < dmcf->stores.nelts; i++) {
        if (st[i].dir.len == st[dmcf->stores.nelts - 1].dir.len
            && ngx_strncmp(st[i].dir.data, st[dmcf->stores.nelts - 1].dir.data,
                           st[i].dir.len)
               == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "durable_task_store \"%V\" uses the "
                               "directory of durable_task_store \"%V\" "
                               "(\"%V\"): give each store its own path=",
                               &st[dmcf->stores.nelts - 1].name, &st[i].name,
                               &st[i].dir);
            return NGX_CONF_ERROR;
        }
    }

    st = &st[dmcf->stores.nelts - 1];

    /* a synced commit waits for the disk: never in the event loop */

    if (st->loop_writes && st->sync != DS_SYNC_NONE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "durable_task_store \"%V\": writes=loop needs "
                           "sync=off (a synced commit waits for the disk)",
                           &st->name);
        return NGX_CONF_ERROR;
    }

#if (NGX_THREADS)

    if (!(pool.len == 3 && ngx_strncmp(pool.data, "off", 3) == 0)) {
        st->thread_pool = ngx_thread_pool_add(cf, &pool);
        if (st->thread_pool == NULL) {
            return NGX_CONF_ERROR;
        }
    }

#endif

    path = ngx_pcalloc(cf->pool, sizeof(ngx_path_t));
    if (path == NULL) {
        return NGX_CONF_ERROR;
    }

    path->name = st->path;
    path->conf_file = cf->conf_file->file.name.data;
    path->line = cf->conf_file->line;

    if (ngx_add_path(cf, &path) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The directory a store path names, for comparing stores: the real path
 * when it exists, else the real path of its parent with the last name,
 * else the path with "//", "/./", "/../" and trailing slashes folded.
 */

static ngx_int_t
ngx_http_durable_store_dir(ngx_conf_t *cf, ngx_str_t *path, ngx_str_t *dir)
{
    u_char  *p, *q, *last, *norm, *slash;
    char     real[NGX_MAX_PATH];
    size_t   len;

    if (realpath((char *) path->data, real) != NULL) {
        goto found;
    }

    norm = ngx_pnalloc(cf->pool, path->len + 1);
    if (norm == NULL) {
        return NGX_ERROR;
    }

    q = norm;
    last = path->data + path->len;

    for (p = path->data; p < last; /* void */) {

        while (p < last && *p == '/') {
            p++;
        }

        slash = ngx_strlchr(p, last, '/');
        len = (slash ? slash : last) - p;

        if (len == 1 && p[0] == '.') {
            /* void */

        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            while (q > norm && *--q != '/') { /* void */ }

        } else if (len) {
            *q++ = '/';
            q = ngx_cpymem(q, p, len);
        }

        p += len;
    }

    if (q == norm) {
        *q++ = '/';
    }

    *q = '\0';

    dir->data = norm;
    dir->len = q - norm;

    /* an existing parent: its real path and the name to be created */

    slash = norm + dir->len;
    while (*--slash != '/') { /* void */ }

    if (slash == norm) {
        return NGX_OK;
    }

    *slash = '\0';
    p = (u_char *) realpath((char *) norm, real);
    *slash = '/';

    if (p == NULL) {
        return NGX_OK;
    }

    len = ngx_strlen(real);

    if (len + (norm + dir->len - slash) >= NGX_MAX_PATH) {
        return NGX_OK;
    }

    ngx_cpystrn((u_char *) real + (len == 1 ? 0 : len), slash,
                norm + dir->len - slash + 1);

found:

    len = ngx_strlen(real);

    dir->data = ngx_pnalloc(cf->pool, len + 1);
    if (dir->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dir->data, real, len + 1);
    dir->len = len;

    return NGX_OK;
}


/*
 * durable_task_keys and durable_task_worker_keys: repeatable lists, and
 * with them durable_task_keys_file and durable_task_worker_keys_file
 */

static ngx_int_t
ngx_http_durable_key_add(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_array_t **keys, u_char *data, size_t len)
{
    ngx_str_t  *key;

    if (len < 8) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "a \"%V\" key must have at least 8 "
                           "characters", &cmd->name);
        return NGX_ERROR;
    }

    if (*keys == NGX_CONF_UNSET_PTR) {
        *keys = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
        if (*keys == NULL) {
            return NGX_ERROR;
        }
    }

    key = ngx_array_push(*keys);
    if (key == NULL) {
        return NGX_ERROR;
    }

    key->data = data;
    key->len = len;

    return NGX_OK;
}


static char *
ngx_http_durable_keys(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t     *value;
    ngx_uint_t     i;
    ngx_array_t  **keys;

    keys = (ngx_array_t **) (p + cmd->offset);

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        /* the key itself is not logged: it may be a real one */

        if ((value[i].len && value[i].data[0] == '$')
            || ngx_strnstr(value[i].data, "${", value[i].len) != NULL)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "a \"%V\" key looks like a variable "
                               "(\"$NAME\" or \"${NAME}\"): nginx does not "
                               "expand variables here, the text itself "
                               "would be the key; keep the keys in a file "
                               "and use \"%V_file\"", &cmd->name,
                               &cmd->name);
            return NGX_CONF_ERROR;
        }

        if (ngx_http_durable_key_add(cf, cmd, keys, value[i].data,
                                     value[i].len)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/*
 * durable_task_keys_file path: one key a line; empty lines and lines
 * starting with "#" are skipped, trailing white space (and CR) dropped.
 * Read once, here, by the master; a file other users may read or change
 * is refused, as ssh refuses a private key anyone can read.
 */

#define NGX_HTTP_DURABLE_KEYS_FILE_MAX  65536

static char *
ngx_http_durable_keys_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    char             *rv;
    u_char           *buf, *line, *end, *last, *key;
    size_t            size;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_str_t        *value, name;
    ngx_uint_t        found, lines;
    ngx_array_t     **keys;
    ngx_file_info_t   fi;

    keys = (ngx_array_t **) (p + cmd->offset);

    value = cf->args->elts;
    name = value[1];

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%V\": cannot read the keys file \"%s\"",
                           &cmd->name, name.data);
        return NGX_CONF_ERROR;
    }

    rv = NGX_CONF_ERROR;
    buf = NULL;
    size = 0;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%s\" failed", name.data);
        goto done;
    }

    if (!ngx_is_file(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": \"%s\" is not a regular file",
                           &cmd->name, name.data);
        goto done;
    }

    /* o+x alone gives others nothing of a file they cannot read */

    if (ngx_file_access(&fi) & 006) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": the keys file \"%s\" is readable or "
                           "writable by other users (mode 0%ui%ui%ui): run "
                           "\"chmod o-rw %s\"", &cmd->name, name.data,
                           NGX_HTTP_DURABLE_MODE(&fi), name.data);
        goto done;
    }

    if (ngx_file_size(&fi) > NGX_HTTP_DURABLE_KEYS_FILE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": the keys file \"%s\" is larger than "
                           "%d bytes", &cmd->name, name.data,
                           NGX_HTTP_DURABLE_KEYS_FILE_MAX);
        goto done;
    }

    size = (size_t) ngx_file_size(&fi);

    buf = ngx_pnalloc(cf->temp_pool, size + 1);
    if (buf == NULL) {
        goto done;
    }

    n = ngx_read_fd(fd, buf, size);
    if (n == -1 || (size_t) n != size) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, n == -1 ? ngx_errno : 0,
                           "\"%V\": cannot read the keys file \"%s\"",
                           &cmd->name, name.data);
        goto done;
    }

    found = 0;
    last = buf + size;

    lines = 0;

    for (line = buf; line < last; line = end + 1) {

        lines++;

        end = ngx_strlchr(line, last, LF);
        if (end == NULL) {
            end = last;
        }

        n = end - line;

        while (n && (line[n - 1] == CR || line[n - 1] == ' '
                     || line[n - 1] == '\t'))
        {
            n--;
        }

        if (n == 0 || line[0] == '#') {
            continue;
        }

        if (n < 8) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": the key on line %ui of \"%s\" has "
                               "fewer than 8 characters", &cmd->name,
                               lines, name.data);
            goto done;
        }

        key = ngx_pnalloc(cf->pool, n);
        if (key == NULL) {
            goto done;
        }

        ngx_memcpy(key, line, n);

        if (ngx_http_durable_key_add(cf, cmd, keys, key, n) != NGX_OK) {
            goto done;
        }

        found++;
    }

    if (found == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": the keys file \"%s\" holds no key "
                           "(one key a line; \"#\" starts a comment line)",
                           &cmd->name, name.data);
        goto done;
    }

    rv = NGX_CONF_OK;

done:

    if (buf) {
        ngx_explicit_memzero(buf, size);
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%s\" failed", name.data);
    }

    return rv;
}


static char *
ngx_http_durable_hub(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_durable_loc_conf_t *dlcf = conf;

    ngx_str_t  *value;

    if (dlcf->hub.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (!ngx_http_durable_hub_valid(value[1].data, value[1].len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid task hub name \"%V\": use 1 to 50 "
                           "letters, digits, '-' and '_', starting with a "
                           "letter", &value[1]);
        return NGX_CONF_ERROR;
    }

    dlcf->hub = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_durable_public_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_durable_loc_conf_t *dlcf = conf;

    ngx_str_t  *value, *url;

    if (dlcf->public_url.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    url = &value[1];

    if (!((url->len > 7 && ngx_strncmp(url->data, "http://", 7) == 0)
          || (url->len > 8 && ngx_strncmp(url->data, "https://", 8) == 0)))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid durable_task_public_url \"%V\": use "
                           "http://host[:port] or https://host[:port]", url);
        return NGX_CONF_ERROR;
    }

    while (url->len && url->data[url->len - 1] == '/') {
        url->len--;
    }

    dlcf->public_url = *url;

    return NGX_CONF_OK;
}


ngx_uint_t
ngx_http_durable_op_has_body(ds_route_op_e op)
{
    return op == DS_ROUTE_OP_START
           || op == DS_ROUTE_OP_RAISE_EVENT
           || op == DS_ROUTE_OP_ENTITY_SIGNAL
           || op == DS_ROUTE_OP_WORKER;
}


ngx_int_t
ngx_http_durable_run_op(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx)
{
    ds_route_op_e  op;

    op = ctx->route.op;

    /* an id the store cannot hold names no instance */

    if ((op == DS_ROUTE_OP_STATUS
         || op == DS_ROUTE_OP_PURGE_ONE
         || (op >= DS_ROUTE_OP_RAISE_EVENT
             && op <= DS_ROUTE_OP_RESTART))
        && ctx->route.id.len > DS_ID_MAX)
    {
        return ngx_http_durable_send(r, NGX_HTTP_NOT_FOUND, NULL);
    }

    switch (op) {

    case DS_ROUTE_OP_START:
        return ngx_http_durable_start(r, ctx);

    case DS_ROUTE_OP_STATUS:
        return ngx_http_durable_status(r, ctx);

    case DS_ROUTE_OP_LIST:
        return ngx_http_durable_list(r, ctx);

    case DS_ROUTE_OP_PURGE_ONE:
        return ngx_http_durable_purge_one(r, ctx);

    case DS_ROUTE_OP_PURGE_MANY:
        return ngx_http_durable_purge_many(r, ctx);

    case DS_ROUTE_OP_RAISE_EVENT:
        return ngx_http_durable_raise_event(r, ctx);

    case DS_ROUTE_OP_TERMINATE:
    case DS_ROUTE_OP_SUSPEND:
    case DS_ROUTE_OP_RESUME:
    case DS_ROUTE_OP_REWIND:
        return ngx_http_durable_control(r, ctx);

    case DS_ROUTE_OP_RESTART:
        return ngx_http_durable_restart(r, ctx);

    case DS_ROUTE_OP_ENTITY_SIGNAL:
        return ngx_http_durable_entity_signal(r, ctx);

    case DS_ROUTE_OP_ENTITY_GET:
        return ngx_http_durable_entity_get(r, ctx);

    case DS_ROUTE_OP_ENTITY_LIST:
        return ngx_http_durable_entity_list(r, ctx);

    case DS_ROUTE_OP_WORKER:
        return ngx_http_durable_worker(r, ctx);

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}


/*
 * Lease tokens and instance ids. getrandom() fills a pool of bytes at a
 * time; the pool belongs to the process that filled it, so a worker never
 * hands out bytes its master or a sibling has too.
 */

#define NGX_HTTP_DURABLE_RANDOM_POOL  512

void
ngx_http_durable_random(u_char *buf, size_t len)
{
    size_t         n;
    static u_char  pool[NGX_HTTP_DURABLE_RANDOM_POOL];
    static size_t  left;
    static pid_t   owner;

    if (owner != ngx_pid) {
        owner = ngx_pid;
        left = 0;
    }

    while (len) {
        if (left == 0) {
            ngx_http_durable_random_fill(pool, sizeof(pool));
            left = sizeof(pool);
        }

        n = ngx_min(len, left);

        /* bytes are used once: taken from the end, then wiped */
        ngx_memcpy(buf, pool + left - n, n);
        ngx_memzero(pool + left - n, n);

        buf += n;
        len -= n;
        left -= n;
    }
}


static void
ngx_http_durable_random_fill(u_char *buf, size_t len)
{
    size_t   i;
#if (NGX_LINUX)
    ssize_t  n;

    /* reads of up to 256 bytes are whole; a signal may cut longer ones */

    for (i = 0; i < len; i += n) {
        n = getrandom(buf + i, ngx_min(len - i, 256), 0);

        if (n == -1 && errno == EINTR) {
            n = 0;
            continue;
        }

        if (n <= 0) {
            break;
        }
    }

    if (i >= len) {
        return;
    }
#endif

    for (i = 0; i < len; i++) {
        buf[i] = (u_char) (ngx_random() ^ (ngx_current_msec >> (i % 8)));
    }
}
