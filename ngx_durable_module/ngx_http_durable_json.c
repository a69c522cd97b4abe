
/*
 * Copyright (C) ngx_durable authors
 *
 * The JSON bodies of the worker protocol: parsed once into a jansson
 * tree, kept with their minified text, and the accessors of their members
 * that answer a 400 naming the member.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_json.h"
#include "ds_jspan.h"
#include "ngx_http_durable_params.h"
#include "ngx_http_durable_render.h"


static ngx_int_t ngx_http_durable_get_lease(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, json_t *obj, uint8_t *lease);
static void ngx_http_durable_json_cleanup(void *data);


/* request bodies: validated and minified once, then parsed */

ngx_int_t
ngx_http_durable_body_parse(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_body_t *body,
    ngx_uint_t many)
{
    ds_str_t             text;
    json_error_t         err;
    ngx_pool_cleanup_t  *cln;

    if (ngx_http_durable_ingest_body(r, ctx, &text) != NGX_OK) {
        return NGX_ERROR;
    }

    body->text.data = text.data;
    body->text.len = text.len;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    body->root = json_loadb(text.data, text.len, JSON_ALLOW_NUL, &err);

    if (body->root == NULL
        || !(json_is_object(body->root)
             || (many && json_is_array(body->root))))
    {
        json_decref(body->root);
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   many ? "The request body must be a JSON object, or an "
                          "array of them."
                        : "The request body must be a JSON object.");
    }

    cln->handler = ngx_http_durable_json_cleanup;
    cln->data = body->root;

    return NGX_OK;
}


ngx_int_t
ngx_http_durable_get_string(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, json_t *obj, const char *name,
    ngx_uint_t required, ds_str_t *out)
{
    json_t  *v;

    v = json_object_get(obj, name);

    if (v == NULL || json_is_null(v)) {
        out->data = NULL;
        out->len = 0;

        if (!required) {
            return NGX_OK;
        }

        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "The member '%s' is required.", name);
    }

    if (!json_is_string(v)) {
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "The member '%s' must be a string.", name);
    }

    out->data = json_string_value(v);
    out->len = json_string_length(v);

    if (required && out->len == 0) {
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "The member '%s' must not be empty.", name);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_durable_get_int(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx,
    json_t *obj, const char *name, int64_t *out)
{
    json_t  *v;

    v = json_object_get(obj, name);

    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "The member '%s' must be a non-negative integer.", name);
    }

    *out = json_integer_value(v);

    return NGX_OK;
}


static ngx_int_t
ngx_http_durable_get_lease(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx,
    json_t *obj, uint8_t *lease)
{
    ds_str_t    s;
    ngx_int_t   n;
    ngx_uint_t  i;

    if (ngx_http_durable_get_string(r, ctx, obj, "lease", 1, &s) != NGX_OK) {
        return NGX_ERROR;
    }

    if (s.len != 2 * DS_LEASE_LEN) {
        goto invalid;
    }

    for (i = 0; i < DS_LEASE_LEN; i++) {
        n = ngx_hextoi((u_char *) s.data + 2 * i, 2);
        if (n == NGX_ERROR) {
            goto invalid;
        }

        lease[i] = (uint8_t) n;
    }

    return NGX_OK;

invalid:

    return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
               "The member 'lease' is not a lease token.");
}


/*
 * The item a completion, renew or abandon names, by kind: "instanceId",
 * "instanceId" and "taskId", or "entity"; then its "lease".
 */

ngx_int_t
ngx_http_durable_get_work_key(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, json_t *obj, ngx_http_durable_work_t *k)
{
    ngx_int_t  rc;

    switch (ctx->route.work_kind) {

    case DS_ROUTE_WORK_ORCHESTRATIONS:
        rc = ngx_http_durable_get_string(r, ctx, obj, "instanceId", 1,
                                         &k->op.in.work.id);
        break;

    case DS_ROUTE_WORK_ACTIVITIES:
        rc = ngx_http_durable_get_string(r, ctx, obj, "instanceId", 1,
                                         &k->op.in.work.id);
        if (rc == NGX_OK) {
            rc = ngx_http_durable_get_int(r, ctx, obj, "taskId",
                                          &k->op.in.work.task);
        }
        break;

    default:
        rc = ngx_http_durable_get_entity(r, ctx, obj, &k->op.in.work.id,
                                         &k->op.in.work.key);
        break;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_durable_get_lease(r, ctx, obj, k->lease);
}


/* {"entity":{"name":..,"key":..}}: the name lower-cased */

ngx_int_t
ngx_http_durable_get_entity(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, json_t *obj, ds_str_t *name, ds_str_t *key)
{
    u_char  *p;
    json_t  *e;

    e = json_object_get(obj, "entity");

    if (!json_is_object(e)) {
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "The member 'entity' must be an object with 'name' and "
                   "'key'.");
    }

    if (ngx_http_durable_get_string(r, ctx, e, "name", 1, name) != NGX_OK
        || ngx_http_durable_get_string(r, ctx, e, "key", 0, key) != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, name->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_strlow(p, (u_char *) name->data, name->len);
    name->data = (char *) p;

    if (key->data == NULL) {
        key->data = "";
    }

    return NGX_OK;
}


/* a failure's reason is stored as a JSON string: s becomes one */

ngx_int_t
ngx_http_durable_quote(ngx_http_request_t *r, ds_str_t *s)
{
    char  *p;

    p = ngx_pnalloc(r->pool, ds_json_escape_len(s->data, s->len) + 2);
    if (p == NULL) {
        return NGX_ERROR;
    }

    p[0] = '"';
    s->len = ds_json_escape(s->data, s->len, p + 1) + 2;
    p[s->len - 1] = '"';
    s->data = p;

    return NGX_OK;
}


/* the raw JSON text of a member, as the client sent it (minified) */

void
ngx_http_durable_get_raw(ds_str_t *span, const char *name,
    ds_str_t *out)
{
    ds_str_t  v;

    out->data = NULL;
    out->len = 0;

    if (ds_jspan_member((u_char *) span->data, span->len, name, &v)
        && !(v.len == 4 && ngx_strncmp(v.data, "null", 4) == 0))
    {
        out->data = (const char *) v.data;
        out->len = v.len;
    }
}


static void
ngx_http_durable_json_cleanup(void *data)
{
    json_decref((json_t *) data);
}
