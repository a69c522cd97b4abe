
/*
 * Copyright (C) ngx_durable authors
 *
 * The content handler: routes a request to its operation, checks the key,
 * selects the task hub and the store, reads the body and dispatches.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_handler.h"
#include "ngx_http_durable_auth.h"
#include "ngx_http_durable_control.h"
#include "ngx_http_durable_entities.h"
#include "ngx_http_durable_instances.h"
#include "ngx_http_durable_log.h"
#include "ngx_http_durable_orchestrators.h"
#include "ngx_http_durable_params.h"
#include "ngx_http_durable_render.h"
#include "ngx_http_durable_store.h"
#include "ngx_http_durable_variables.h"
#include "ngx_http_durable_worker.h"


static void ngx_http_durable_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_durable_handle(ngx_http_request_t *r);
static ngx_int_t ngx_http_durable_dispatch(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
static ngx_uint_t ngx_http_durable_op_has_body(ds_route_op_e op);
static ngx_int_t ngx_http_durable_run_op(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);


ngx_int_t
ngx_http_durable_handler(ngx_http_request_t *r)
{
    return ngx_http_durable_finish(r, ngx_http_durable_handle(r));
}


static ngx_int_t
ngx_http_durable_handle(ngx_http_request_t *r)
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

    ngx_http_finalize_request(r, ngx_http_durable_finish(r, rc));
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


ngx_int_t
ngx_http_durable_hub_valid(u_char *p, size_t len)
{
    ds_str_t  hub;

    hub.data = (const char *) p;
    hub.len = len;

    return ds_name_hub(hub) == DS_OK;
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


static ngx_uint_t
ngx_http_durable_op_has_body(ds_route_op_e op)
{
    return op == DS_ROUTE_OP_START
           || op == DS_ROUTE_OP_RAISE_EVENT
           || op == DS_ROUTE_OP_ENTITY_SIGNAL
           || op == DS_ROUTE_OP_WORKER;
}


static ngx_int_t
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
        /* but a bad event name is named first, as for any id */

        if (op == DS_ROUTE_OP_RAISE_EVENT
            && ngx_http_durable_check_name(r, ctx, "event name",
                                           &ctx->route.event, DS_NAME_MAX)
               != NGX_OK)
        {
            return ngx_http_durable_fail(r, ctx);
        }

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
