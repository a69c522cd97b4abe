
/*
 * Copyright (C) ngx_durable authors
 *
 * Durable entities (docs/http-api.md): signal, read the state, list.
 * The worker protocol runs the operations.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_entities.h"
#include "ngx_http_durable_params.h"
#include "ngx_http_durable_render.h"
#include "ngx_http_durable_store.h"
#include "ngx_http_durable_variables.h"
#include "ngx_http_durable_writer.h"




/* an entity's state, as a read copies it */
typedef struct {
    ds_op_t                     op;
    ngx_pool_t                 *pool;
    ngx_str_t                   body;
    ngx_uint_t                  failed;
} ngx_http_durable_state_t;


/* an entity list page, rendered while the store reads it */
typedef struct {
    ds_op_t                     op;
    u_char                      token[DS_TOKEN_MAX];
    ngx_http_durable_out_t      out;
    ngx_uint_t                  fetch_state;
    ngx_uint_t                  count;
    size_t                      max_bytes;
    ngx_uint_t                  full;
    ngx_uint_t                  skipped;    /* read after the page was full */
    u_char                      cut[DS_TOKEN_MAX]; /* a page cut short's */
    size_t                      cut_len;
} ngx_http_durable_entity_list_t;


static ngx_int_t ngx_http_durable_entity_id(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *name, ds_str_t *key);
static int ngx_http_durable_entity_item(void *data,
    const ds_entity_t *entity);
static void ngx_http_durable_entity_got(ds_op_t *op);
static ngx_int_t ngx_http_durable_entity_answer(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static ngx_int_t ngx_http_durable_entity_list_answer(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static ngx_int_t ngx_http_durable_signal_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);


ngx_int_t
ngx_http_durable_entity_signal(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx)
{
    char      *p;
    ds_op_t   *op;
    ds_str_t   name, key, operation, input;
    ds_str_t  *v;

    if (ngx_http_durable_entity_id(r, ctx, &name, &key) != NGX_OK) {
        return ngx_http_durable_fail(r, ctx);
    }

    if (r->method == NGX_HTTP_DELETE) {
        operation.data = "delete";
        operation.len = sizeof("delete") - 1;

    } else {
        v = &ctx->query.v[DS_ROUTE_Q_OP];

        /*
         * workers dispatch on it: the rules of every other name, but for
         * the empty name, the reference's default (clients send no op=
         * for a signal without an operation name)
         */

        if (v->len
            && ngx_http_durable_check_name(r, ctx, "operation name (op=)",
                                           v, DS_NAME_MAX)
               != NGX_OK)
        {
            return ngx_http_durable_fail(r, ctx);
        }

        /* no op= leaves no data: the empty name has some */
        operation.data = v->len ? (const char *) v->data : "";
        operation.len = v->len;
    }

    /* JSON when declared so; any other body is a string input */

    if (ctx->body.len == 0 || ngx_http_durable_json_media(r)) {
        /* the reference's words */

        if (ngx_http_durable_ingest_body_as(r, ctx, &input,
                                            "Could not parse JSON content: ")
            != NGX_OK)
        {
            return ngx_http_durable_fail(r, ctx);
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

    op = ngx_pcalloc(r->pool, sizeof(ds_op_t));
    if (op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    op->type = DS_OP_ENTITY_SIGNAL;
    op->hub = ngx_http_durable_ds_str(&ctx->hub);
    op->in.entity.name = name;
    op->in.entity.key = key;
    op->in.entity.operation = operation;
    op->in.entity.input = input;

    return ngx_http_durable_submit(r, ctx, op, ngx_http_durable_signal_done);
}


static ngx_int_t
ngx_http_durable_signal_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    if (c->rc != DS_OK) {
        return ngx_http_durable_store_error(r, ctx, c->rc, c->what);
    }

    return ngx_http_durable_send(r, NGX_HTTP_ACCEPTED, NULL);
}


ngx_int_t
ngx_http_durable_entity_get(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx)
{
    ds_str_t                   name, key;
    ngx_http_durable_state_t  *st;

    /* "$" is the empty key, on reads only */

    if (ctx->route.id.len == 1 && ctx->route.id.data[0] == '$') {
        ctx->route.has_id = 0;
    }

    if (ngx_http_durable_entity_id(r, ctx, &name, &key) != NGX_OK) {
        return ngx_http_durable_fail(r, ctx);
    }

    st = ngx_pcalloc(r->pool, sizeof(ngx_http_durable_state_t));
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    st->pool = r->pool;

    st->op.type = DS_OP_ENTITY_GET;
    st->op.hub = ngx_http_durable_ds_str(&ctx->hub);
    st->op.in.entity.name = name;
    st->op.in.entity.key = key;
    st->op.done = ngx_http_durable_entity_got;
    st->op.data = st;

    return ngx_http_durable_submit(r, ctx, &st->op,
                                   ngx_http_durable_entity_answer);
}


static ngx_int_t
ngx_http_durable_entity_answer(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    ngx_http_durable_state_t  *st = c->op->data;

    if (st->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (c->rc == DS_OK && st->body.len) {
        return ngx_http_durable_send(r, NGX_HTTP_OK, &st->body);
    }

    if (c->rc == DS_OK || c->rc == DS_NOTFOUND) {
        return ngx_http_durable_send(r, NGX_HTTP_NOT_FOUND, NULL);
    }

    return ngx_http_durable_store_error(r, ctx, c->rc, "reading");
}


/* the state is copied while the store holds it: the answer outlives it */

static void
ngx_http_durable_entity_got(ds_op_t *op)
{
    ngx_http_durable_state_t  *st = op->data;

    const ds_entity_t  *e;

    if (op->rc != DS_OK || op->out.entity.entity->state.len == 0) {
        return;
    }

    e = op->out.entity.entity;

    st->body.data = ngx_pnalloc(st->pool, e->state.len);
    if (st->body.data == NULL) {
        st->failed = 1;
        return;
    }

    ngx_memcpy(st->body.data, e->state.data, e->state.len);
    st->body.len = e->state.len;
}


ngx_int_t
ngx_http_durable_entity_list(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx)
{
    int64_t                          from, to;
    ds_str_t                         name, nokey, tok;
    ngx_uint_t                       top;
    ngx_http_durable_loc_conf_t     *dlcf;
    ngx_http_durable_entity_list_t  *el;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    el = ngx_pcalloc(r->pool, sizeof(ngx_http_durable_entity_list_t));
    if (el == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_durable_param_time(r, ctx, DS_ROUTE_Q_OPFROM,
                                    0, INT64_MIN, &from)
        != NGX_OK
        || ngx_http_durable_param_time(r, ctx, DS_ROUTE_Q_OPTO,
                                       1, INT64_MAX, &to)
           != NGX_OK
        || ngx_http_durable_param_bool(r, ctx, DS_ROUTE_Q_FETCHSTATE,
                                       0, &el->fetch_state)
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
        /* the rules of an entity's name: no '@', room for a key */

        nokey.data = "";
        nokey.len = 0;

        if (ngx_http_durable_check_entity(r, ctx, &ctx->route.name, &nokey)
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

    if (ngx_http_durable_out_init(&el->out, r->pool, 1024) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_durable_out_literal(&el->out, "[");
    el->count = 0;
    el->max_bytes = dlcf->list_max_bytes;

    el->op.type = DS_OP_ENTITY_LIST;
    el->op.hub = ngx_http_durable_ds_str(&ctx->hub);
    el->op.in.entity_list.name = name;
    el->op.in.entity_list.from = from;
    el->op.in.entity_list.to = to;
    el->op.in.entity_list.top = top;
    el->op.in.entity_list.scan_budget = ngx_max(dlcf->scan_budget, top);
    el->op.in.entity_list.token_in = tok;
    el->op.in.entity_list.item = ngx_http_durable_entity_item;
    el->op.in.entity_list.item_data = el;
    el->op.in.entity_list.token = (char *) el->token;

    return ngx_http_durable_submit(r, ctx, &el->op,
                                   ngx_http_durable_entity_list_answer);
}


static ngx_int_t
ngx_http_durable_entity_list_answer(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    ngx_str_t                        body;
    ngx_http_durable_entity_list_t  *el;

    el = c->op->in.entity_list.item_data;

    if (c->rc == DS_INVALID) {
        return ngx_http_durable_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "The continuation token is not valid.");
    }

    if (c->rc != DS_OK) {
        return ngx_http_durable_store_error(r, ctx, c->rc, "listing");
    }

    ngx_http_durable_out_literal(&el->out, "]");

    if (el->out.failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if ((el->skipped
         ? ngx_http_durable_token_out(r, el->cut, el->cut_len)
         : ngx_http_durable_token_out(r, el->token,
                                      c->op->out.list.token_len))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.data = el->out.start;
    body.len = el->out.pos - el->out.start;

    return ngx_http_durable_send(r, NGX_HTTP_OK, &body);
}


static int
ngx_http_durable_entity_item(void *data, const ds_entity_t *entity)
{
    ngx_http_durable_entity_list_t  *el = data;

    size_t  before;

    /* full: no more items, a token after the last (as instance lists) */

    if (el->full) {
        el->skipped++;
        return 0;
    }

    before = el->out.pos - el->out.start;

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

    if (el->out.failed || !el->max_bytes) {
        return el->out.failed;
    }

    /* an item that carries the page past the bound goes to the next one */

    if (el->count > 1 && el->cut_len
        && (size_t) (el->out.pos - el->out.start) > el->max_bytes)
    {
        el->out.pos = el->out.start + before;
        el->count--;
        el->full = 1;
        el->skipped++;
        return 0;
    }

    el->cut_len = ds_list_entity_token(entity->name, entity->key,
                                       (char *) el->cut);

    return 0;
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

