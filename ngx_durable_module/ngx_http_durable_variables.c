
/*
 * Copyright (C) ngx_durable authors
 *
 * Variables for access logs: what a request did in the module, read from
 * its ctx at log time. A variable that does not apply to the request is
 * "not found" ("-" in a plain log_format, empty with escape=json).
 *
 * An internal redirect (an error_page, e.g. after nginx refused a body
 * larger than client_max_body_size) clears the request's module ctxs; the
 * ctx is found again through a pool cleanup registered with it, so the
 * log line still tells what the refused request was.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_variables.h"
#include "ngx_http_durable_grpc.h"


typedef enum {
    NGX_HTTP_DURABLE_VAR_OP = 0,
    NGX_HTTP_DURABLE_VAR_HUB,
    NGX_HTTP_DURABLE_VAR_INSTANCE_ID,
    NGX_HTTP_DURABLE_VAR_RUNTIME_STATUS,
    NGX_HTTP_DURABLE_VAR_BATCH_WRITES,
    NGX_HTTP_DURABLE_VAR_STORE_MS
} ngx_http_durable_var_e;


/* what the pool cleanup keeps: the pool is shared with subrequests */
typedef struct {
    ngx_http_request_t         *request;
    ngx_http_durable_ctx_t     *ctx;
} ngx_http_durable_kept_t;


static void ngx_http_durable_variables_cleanup(void *data);
static ngx_int_t ngx_http_durable_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_durable_variable_id(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_variable_value_t *v);


static ngx_http_variable_t  ngx_http_durable_vars[] = {

    { ngx_string("durable_op"), NULL, ngx_http_durable_variable,
      NGX_HTTP_DURABLE_VAR_OP, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("durable_hub"), NULL, ngx_http_durable_variable,
      NGX_HTTP_DURABLE_VAR_HUB, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("durable_instance_id"), NULL, ngx_http_durable_variable,
      NGX_HTTP_DURABLE_VAR_INSTANCE_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("durable_runtime_status"), NULL, ngx_http_durable_variable,
      NGX_HTTP_DURABLE_VAR_RUNTIME_STATUS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("durable_batch_writes"), NULL, ngx_http_durable_variable,
      NGX_HTTP_DURABLE_VAR_BATCH_WRITES, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("durable_store_ms"), NULL, ngx_http_durable_variable,
      NGX_HTTP_DURABLE_VAR_STORE_MS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("durable_grpc_status"), NULL,
      ngx_http_durable_grpc_status_variable, 0, NGX_HTTP_VAR_NOCACHEABLE,
      0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_durable_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_durable_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/* called once the ctx is set: see the top of this file */

ngx_int_t
ngx_http_durable_variables_keep(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx)
{
    ngx_pool_cleanup_t       *cln;
    ngx_http_durable_kept_t  *kept;

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_durable_kept_t));
    if (cln == NULL) {
        return NGX_ERROR;
    }

    kept = cln->data;
    kept->request = r;
    kept->ctx = ctx;

    cln->handler = ngx_http_durable_variables_cleanup;

    return NGX_OK;
}


static void
ngx_http_durable_variables_cleanup(void *data)
{
    /* nothing to free: the cleanup only marks where the ctx is */
}


/* the request's ctx, also after an internal redirect; NULL: none */

ngx_http_durable_ctx_t *
ngx_http_durable_variables_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t       *cln;
    ngx_http_durable_ctx_t   *ctx;
    ngx_http_durable_kept_t  *kept;

    ctx = ngx_http_get_module_ctx(r, ngx_http_durable_module);

    if (ctx || !r->internal) {
        return ctx;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler != ngx_http_durable_variables_cleanup) {
            continue;
        }

        kept = cln->data;

        if (kept->request == r) {
            return kept->ctx;
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_durable_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                  *p;
    const char              *s;
    ngx_http_durable_ctx_t  *ctx;

    ctx = ngx_http_durable_variables_ctx(r);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = NULL;

    switch (data) {

    case NGX_HTTP_DURABLE_VAR_OP:
        if (ctx->log_op.len) {
            v->data = ctx->log_op.data;
            v->len = ctx->log_op.len;
            goto found;
        }

        s = (ctx->route.op == DS_ROUTE_OP_WORKER)
            ? ds_route_work_action_names[ctx->route.work_action]
            : ds_route_op_names[ctx->route.op];
        break;

    case NGX_HTTP_DURABLE_VAR_HUB:
        if (ctx->hub.len) {
            v->data = ctx->hub.data;
            v->len = ctx->hub.len;
            goto found;
        }

        break;

    case NGX_HTTP_DURABLE_VAR_INSTANCE_ID:
        return ngx_http_durable_variable_id(r, ctx, v);

    case NGX_HTTP_DURABLE_VAR_RUNTIME_STATUS:
        if (ctx->log_status_set) {
            s = ds_status_name(ctx->log_status);
        }

        break;

    case NGX_HTTP_DURABLE_VAR_BATCH_WRITES:
        if (ctx->store_timed && ctx->batch_writes) {
            p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
            if (p == NULL) {
                return NGX_ERROR;
            }

            v->data = p;
            v->len = ngx_sprintf(p, "%ui", ctx->batch_writes) - p;
            goto found;
        }

        break;

    default: /* NGX_HTTP_DURABLE_VAR_STORE_MS */
        if (ctx->store_timed) {
            p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 4);
            if (p == NULL) {
                return NGX_ERROR;
            }

            v->data = p;
            v->len = ngx_sprintf(p, "%uL.%03uL", ctx->store_us / 1000,
                                 ctx->store_us % 1000)
                     - p;
            goto found;
        }

        break;
    }

    if (s == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = (u_char *) s;
    v->len = ngx_strlen(s);

found:

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/* an entity's instance id, "@name@key": the name lower-cased, as the store */

ngx_int_t
ngx_http_durable_entity_log_id(ngx_pool_t *pool, ds_str_t name, ds_str_t key,
    ngx_str_t *id)
{
    u_char  *p;

    p = ngx_pnalloc(pool, 2 + name.len + key.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    id->data = p;

    *p++ = '@';
    ngx_strlow(p, (u_char *) name.data, name.len);
    p += name.len;
    *p++ = '@';
    p = ngx_cpymem(p, key.data, key.len);

    id->len = p - id->data;

    return NGX_OK;
}


/*
 * The id of the instance the request addressed, of the one a start or
 * restart created, or of the one a single orchestration completion
 * completed; an entity's as "@name@key" (the name lower-cased, as the
 * store names it)
 */

static ngx_int_t
ngx_http_durable_variable_id(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_variable_value_t *v)
{
    ngx_str_t  id;

    if (ctx->log_id.len) {
        v->data = ctx->log_id.data;
        v->len = ctx->log_id.len;
        goto found;
    }

    switch (ctx->route.op) {

    case DS_ROUTE_OP_NONE:
    case DS_ROUTE_OP_WORKER:
        v->not_found = 1;
        return NGX_OK;

    case DS_ROUTE_OP_ENTITY_GET:
    case DS_ROUTE_OP_ENTITY_SIGNAL:
        if (!ctx->route.has_id) {
            v->not_found = 1;
            return NGX_OK;
        }

        if (ngx_http_durable_entity_log_id(r->pool, ctx->route.name,
                                           ctx->route.id, &id)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        v->data = id.data;
        v->len = id.len;
        goto found;

    default:
        break;
    }

    if (!ctx->route.has_id || ctx->route.id.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = (u_char *) ctx->route.id.data;
    v->len = ctx->route.id.len;

found:

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


uint64_t
ngx_http_durable_usec(void)
{
#if (NGX_HAVE_CLOCK_MONOTONIC)
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
#else
    struct timeval   tv;

    ngx_gettimeofday(&tv);

    return (uint64_t) tv.tv_sec * 1000000 + tv.tv_usec;
#endif
}


/*
 * An op of the request was answered: us since it was submitted, and for a
 * write the size of its batch (0 for a read, which leaves the last one)
 */

void
ngx_http_durable_log_store(ngx_http_request_t *r, uint64_t us,
    ngx_uint_t batch)
{
    ngx_http_durable_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_durable_module);

    if (ctx == NULL) {
        return;
    }

    ctx->store_us += us;
    ctx->store_timed = 1;

    if (batch) {
        ctx->batch_writes = batch;
    }
}


/* the runtime status the answer reports */

void
ngx_http_durable_log_status(ngx_http_durable_ctx_t *ctx, ds_status_e status)
{
    ctx->log_status = status;
    ctx->log_status_set = 1;
}
