
/*
 * Copyright (C) ngx_durable authors
 *
 * Durable entities (docs/http-api.md): signal, read the state, list.
 * The worker protocol runs the operations.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_handlers.h"
#include "ngx_http_durable_notify.h"
#include "ngx_http_durable_params.h"
#include "ngx_http_durable_render.h"
#include "ngx_http_durable_variables.h"
#include "ngx_http_durable_writer.h"




typedef struct {
    ds_str_t                    hub;
    ds_str_t                    name;
    ds_str_t                    key;
    ds_str_t                    op;
    ds_str_t                    input;
} ngx_http_durable_signal_t;


typedef struct {
    ngx_http_durable_out_t      out;
    ngx_uint_t                  fetch_state;
    ngx_uint_t                  count;
} ngx_http_durable_entity_list_t;


static ngx_int_t ngx_http_durable_entity_id(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *name, ds_str_t *key);
static int ngx_http_durable_entity_item(void *data,
    const ds_entity_t *entity);
static int ngx_http_durable_signal_apply(ds_txn_t *txn,
    ngx_http_durable_write_t *w);
static ngx_int_t ngx_http_durable_signal_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_write_t *w);


ngx_int_t
ngx_http_durable_entity_signal(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx)
{
    char                       *p;
    ds_str_t                    name, key, op, input;
    ds_str_t                   *v;
    ngx_http_durable_signal_t  *sg;

    if (ngx_http_durable_entity_id(r, ctx, &name, &key) != NGX_OK) {
        return ngx_http_durable_fail(r, ctx);
    }

    if (r->method == NGX_HTTP_DELETE) {
        op.data = "delete";
        op.len = sizeof("delete") - 1;

    } else {
        v = &ctx->query.v[DS_ROUTE_Q_OP];
        op.data = (const char *) v->data;
        op.len = v->len;
    }

    /* JSON when declared so; any other body is a string input */

    if (ctx->body.len == 0 || ngx_http_durable_json_media(r)) {
        if (ngx_http_durable_ingest_body(r, ctx, &input) != NGX_OK) {
            ctx->err.len = ngx_min(ctx->err.len, 900);
            return ngx_http_durable_send_error(r, NGX_HTTP_BAD_REQUEST,
                       "Could not parse JSON content: %V", &ctx->err);
        }

    } else {
        p = ngx_pnalloc(r->pool, ds_json_escape_len((char *) ctx->body.data,
                                                    ctx->body.len) + 2);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        input.data = p;
        *p++ = '"';
        p += ds_json_escape((char *) ctx->body.data, ctx->body.len, p);
        *p++ = '"';
        input.len = p - input.data;
    }

    sg = ngx_palloc(r->pool, sizeof(ngx_http_durable_signal_t));
    if (sg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sg->hub = ngx_http_durable_ds_str(&ctx->hub);
    sg->name = name;
    sg->key = key;
    sg->op = op;
    sg->input = input;

    return ngx_http_durable_write(r, ctx, ngx_http_durable_signal_apply,
                                  ngx_http_durable_signal_done, sg,
                                  "signalling");
}


/* in the writer thread */

static int
ngx_http_durable_signal_apply(ds_txn_t *txn, ngx_http_durable_write_t *w)
{
    ngx_http_durable_signal_t  *sg = w->data;

    return ds_entity_signal(txn, sg->hub, sg->name, sg->key, sg->op,
                            sg->input, ds_time_now());
}


static ngx_int_t
ngx_http_durable_signal_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_write_t *w)
{
    if (w->rc != DS_OK) {
        return ngx_http_durable_store_error(r, ctx, w->rc, w->what, NULL);
    }

    ngx_http_durable_notify();

    return ngx_http_durable_send(r, NGX_HTTP_ACCEPTED, NULL);
}


ngx_int_t
ngx_http_durable_entity_get(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx)
{
    int           rc;
    ds_str_t      name, key;
    ds_txn_t     *txn;
    ngx_str_t     body;
    ds_entity_t   entity;

    /* "$" is the empty key, on reads only */

    if (ctx->route.id.len == 1 && ctx->route.id.data[0] == '$') {
        ctx->route.has_id = 0;
    }

    if (ngx_http_durable_entity_id(r, ctx, &name, &key) != NGX_OK) {
        return ngx_http_durable_fail(r, ctx);
    }

    rc = ngx_http_durable_read_txn(ctx, &txn);
    if (rc != DS_OK) {
        return ngx_http_durable_store_error(r, ctx, rc, "reading", NULL);
    }

    rc = ds_entity_get(txn, ngx_http_durable_ds_str(&ctx->hub), name, key,
                       &entity);

    if (rc == DS_OK && entity.state.len) {
        body.len = entity.state.len;
        body.data = ngx_pnalloc(r->pool, body.len);
        if (body.data == NULL) {
            ngx_http_durable_read_done(ctx, txn);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(body.data, entity.state.data, body.len);
        ngx_http_durable_read_done(ctx, txn);

        return ngx_http_durable_send(r, NGX_HTTP_OK, &body);
    }

    ngx_http_durable_read_done(ctx, txn);

    if (rc == DS_OK || rc == DS_NOTFOUND) {
        return ngx_http_durable_send(r, NGX_HTTP_NOT_FOUND, NULL);
    }

    return ngx_http_durable_store_error(r, ctx, rc, "reading", NULL);
}


ngx_int_t
ngx_http_durable_entity_list(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx)
{
    int                             rc;
    u_char                          token[DS_TOKEN_MAX];
    size_t                          token_len;
    int64_t                         from, to;
    ds_str_t                        name, tok;
    ds_txn_t                       *txn;
    ngx_str_t                       body;
    ngx_uint_t                      top;
    ngx_http_durable_loc_conf_t    *dlcf;
    ngx_http_durable_entity_list_t  el;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    if (ngx_http_durable_param_time(r, ctx, DS_ROUTE_Q_OPFROM,
                                    INT64_MIN, &from)
        != NGX_OK
        || ngx_http_durable_param_time(r, ctx, DS_ROUTE_Q_OPTO,
                                       INT64_MAX, &to)
           != NGX_OK
        || ngx_http_durable_param_bool(r, ctx, DS_ROUTE_Q_FETCHSTATE,
                                       0, &el.fetch_state)
           != NGX_OK
        || ngx_http_durable_param_uint(r, ctx, DS_ROUTE_Q_TOP, 100, 1,
                                       dlcf->max_top, &top)
           != NGX_OK)
    {
        return ngx_http_durable_fail(r, ctx);
    }

    name.data = NULL;
    name.len = 0;

    if (ctx->route.name.len) {
        if (ngx_http_durable_check_name(r, ctx, "entity name",
                                        &ctx->route.name, DS_NAME_MAX)
            != NGX_OK)
        {
            return ngx_http_durable_fail(r, ctx);
        }

        ngx_strlow((u_char *) ctx->route.name.data,
                   (u_char *) ctx->route.name.data,
                   ctx->route.name.len);
        name = ngx_http_durable_ds_str(&ctx->route.name);
    }

    if (ngx_http_durable_token_in(r, ctx, &tok) != NGX_OK) {
        return ngx_http_durable_fail(r, ctx);
    }

    if (ngx_http_durable_out_init(&el.out, r->pool, 1024) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_durable_out_literal(&el.out, "[");
    el.count = 0;

    rc = ngx_http_durable_read_txn(ctx, &txn);
    if (rc != DS_OK) {
        return ngx_http_durable_store_error(r, ctx, rc, "listing", NULL);
    }

    token_len = 0;

    rc = ds_entity_list(txn, ngx_http_durable_ds_str(&ctx->hub), name, from,
                        to, top, ngx_max(dlcf->scan_budget, top), tok,
                        ngx_http_durable_entity_item, &el, (char *) token,
                        &token_len);
    ngx_http_durable_read_done(ctx, txn);

    if (rc == DS_INVALID) {
        return ngx_http_durable_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "The continuation token is not valid.");
    }

    if (rc != DS_OK) {
        return ngx_http_durable_store_error(r, ctx, rc, "listing", NULL);
    }

    ngx_http_durable_out_literal(&el.out, "]");

    if (el.out.failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_durable_token_out(r, token, token_len) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.data = el.out.start;
    body.len = el.out.pos - el.out.start;

    return ngx_http_durable_send(r, NGX_HTTP_OK, &body);
}


static int
ngx_http_durable_entity_item(void *data, const ds_entity_t *entity)
{
    ngx_http_durable_entity_list_t  *el = data;

    if (el->count++) {
        ngx_http_durable_out_literal(&el->out, ",");
    }

    ngx_http_durable_out_literal(&el->out, "{\"entityId\":{\"name\":");
    ngx_http_durable_out_string(&el->out, entity->name.data,
                                entity->name.len);
    ngx_http_durable_out_literal(&el->out, ",\"key\":");
    ngx_http_durable_out_string(&el->out, entity->key.data, entity->key.len);
    ngx_http_durable_out_literal(&el->out, "},\"lastOperationTime\":");
    ngx_http_durable_out_time(&el->out, entity->last_op);
    ngx_http_durable_out_literal(&el->out, ",\"state\":");
    ngx_http_durable_out_json(&el->out, entity->state.data,
                              el->fetch_state ? entity->state.len : 0);
    ngx_http_durable_out_literal(&el->out, "}");

    return el->out.failed;
}


/* name lower-cased, no '@'; key case-sensitive; "@name@key" an id */

static ngx_int_t
ngx_http_durable_entity_id(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx,
    ds_str_t *name, ds_str_t *key)
{
    ds_str_t  *n, *k;

    n = &ctx->route.name;
    k = &ctx->route.id;

    if (!ctx->route.has_id) {
        k->len = 0;

    } else if (k->len == 0) {
        /* an empty segment: the empty key is no segment (or "$") */
        return ngx_http_durable_check_name(r, ctx, "entity key", k,
                                           DS_NAME_MAX);
    }

    if (ngx_http_durable_check_entity(r, ctx, n, k) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_strlow((u_char *) n->data, (u_char *) n->data, n->len);

    *name = ngx_http_durable_ds_str(n);
    key->data = k->len ? (const char *) k->data : "";
    key->len = k->len;

    return NGX_OK;
}

