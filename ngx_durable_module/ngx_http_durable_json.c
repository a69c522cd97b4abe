
/*
 * Copyright (C) ngx_durable authors
 *
 * The JSON bodies of the worker protocol: validated and minified once
 * (ds_json_ingest), then read by spans of that text (ds_jspan): no tree
 * is built; the accessors of their members answer a 400 naming the
 * member. Members are found as a tree would hold them: keys decoded, the
 * last of a repeated key wins.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_json.h"
#include "ds_jspan.h"
#include "ngx_http_durable_params.h"
#include "ngx_http_durable_render.h"


static ngx_int_t ngx_http_durable_get_lease(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, const ds_str_t *obj, uint8_t *lease);
static ngx_int_t ngx_http_durable_hex_digit(u_char c);
static ngx_int_t ngx_http_durable_get_shown(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, const ds_str_t *obj, const char *name,
    const char *shown, ngx_uint_t required, ds_str_t *out);
static ngx_uint_t ngx_http_durable_key_is(ds_str_t key, const char *name,
    size_t len);


/*
 * The members of the object a request looked up last (ctx->members): the
 * lookups of one object, a completion's or an action's several members,
 * scan it once instead of once each, every value before the member
 * skipped again. The spans point into the request's body, which stays
 * where it is while the request lasts, so an object is known by its
 * place and length. An object of more members is scanned for each.
 */

#define NGX_HTTP_DURABLE_MEMBERS  16

typedef struct {
    const char  *data;
    size_t       len;
    ngx_uint_t   n;          /* NGX_HTTP_DURABLE_MEMBERS + 1: more */
    ds_str_t     key[NGX_HTTP_DURABLE_MEMBERS];
    ds_str_t     value[NGX_HTTP_DURABLE_MEMBERS];
} ngx_http_durable_members_t;


/* request bodies: validated and minified once; an object (or an array) */

ngx_int_t
ngx_http_durable_body_parse(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_body_t *body,
    ngx_uint_t many)
{
    if (ngx_http_durable_ingest_body(r, ctx, &body->text) != NGX_OK) {
        return NGX_ERROR;
    }

    if (!(ngx_http_durable_json_object(&body->text)
          || (many && ngx_http_durable_json_array(&body->text))))
    {
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   many ? "The request body must be a JSON object, or an "
                          "array of them."
                        : "The request body must be a JSON object.");
    }

    return NGX_OK;
}


/*
 * The value of member name of the object at obj, the last one if the key
 * repeats (as a tree keeps it); 0 if obj has none
 */

ngx_uint_t
ngx_http_durable_member(const ds_str_t *obj, const char *name,
    ds_str_t *value)
{
    size_t           len;
    ds_str_t         key, v;
    ngx_uint_t       found;
    ds_jspan_iter_t  it;

    if (!ngx_http_durable_json_object(obj)
        || !ds_jspan_iter(&it, (u_char *) obj->data, obj->len))
    {
        return 0;
    }

    len = ngx_strlen(name);
    found = 0;

    while (ds_jspan_next(&it, &key, &v)) {
        if (ngx_http_durable_key_is(key, name, len)) {
            *value = v;
            found = 1;
        }
    }

    return found;
}


/*
 * A key (without its quotes) spelled with escapes is compared decoded.
 * The names asked for are the module's own, with no backslash, and
 * an escape spells one character with two or more: a key as long as the
 * name matches only as it is, one shorter never, and only one longer
 * that holds an escape is decoded.
 */

static ngx_uint_t
ngx_http_durable_key_is(ds_str_t key, const char *name, size_t len)
{
    char      buf[64];
    size_t    n;
    ds_str_t  quoted;

    if (key.len == len) {
        return ngx_memcmp(key.data, name, len) == 0;
    }

    if (key.len < len) {
        return 0;
    }

    if (ngx_strlchr((u_char *) key.data, (u_char *) key.data + key.len, '\\')
        == NULL)
    {
        return 0;
    }

    /* the key with its quotes, as ds_jspan_decode() takes a string */
    quoted.data = key.data - 1;
    quoted.len = key.len + 2;

    return ds_jspan_decode(quoted, buf, sizeof(buf), &n)
           && n == len && ngx_memcmp(buf, name, len) == 0;
}


/* ngx_http_durable_member(), from the members kept for the request */

ngx_uint_t
ngx_http_durable_get_member(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx,
    const ds_str_t *obj, const char *name, ds_str_t *value)
{
    size_t                       len;
    ds_str_t                     key, v;
    ngx_uint_t                   i;
    ds_jspan_iter_t              it;
    ngx_http_durable_members_t  *m;

    m = ctx->members;

    if (m == NULL) {
        m = ngx_palloc(r->pool, sizeof(ngx_http_durable_members_t));
        if (m == NULL) {
            return ngx_http_durable_member(obj, name, value);
        }

        m->data = NULL;
        m->len = 0;
        m->n = 0;
        ctx->members = m;
    }

    if (m->data != obj->data || m->len != obj->len) {
        m->data = obj->data;
        m->len = obj->len;
        m->n = 0;

        if (ngx_http_durable_json_object(obj)
            && ds_jspan_iter(&it, (u_char *) obj->data, obj->len))
        {
            while (ds_jspan_next(&it, &key, &v)) {
                if (m->n == NGX_HTTP_DURABLE_MEMBERS) {
                    m->n++;
                    break;
                }

                m->key[m->n] = key;
                m->value[m->n] = v;
                m->n++;
            }
        }
    }

    if (m->n > NGX_HTTP_DURABLE_MEMBERS) {
        return ngx_http_durable_member(obj, name, value);
    }

    len = ngx_strlen(name);

    /* the last one if the key repeats, as ngx_http_durable_member() */

    for (i = m->n; i-- > 0; /* void */) {
        if (ngx_http_durable_key_is(m->key[i], name, len)) {
            *value = m->value[i];
            return 1;
        }
    }

    return 0;
}


/*
 * "The member 'id' must ...", or, while an action is parsed, "Action 2
 * (scheduleActivity): 'id' must ..." (ngx_http_durable_ctx_t.in_action)
 */

ngx_int_t
ngx_http_durable_member_error(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, const char *name, const char *what)
{
    if (!ctx->in_action) {
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "The member '%s' %s.", name, what);
    }

    if (ctx->err_action_type == NULL) {
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "Action %ui: '%s' %s.", ctx->err_action, name, what);
    }

    return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
               "Action %ui (%s): '%s' %s.", ctx->err_action,
               ctx->err_action_type, name, what);
}


ngx_int_t
ngx_http_durable_get_string(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, const ds_str_t *obj, const char *name,
    ngx_uint_t required, ds_str_t *out)
{
    return ngx_http_durable_get_shown(r, ctx, obj, name, name, required, out);
}


/*
 * A string member, named in errors as shown ("entity.name" for the name
 * inside "entity"). Absent or null: out->data is NULL. required: absent,
 * null or empty is a 400; else an empty string is a string of length 0.
 */

static ngx_int_t
ngx_http_durable_get_shown(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, const ds_str_t *obj, const char *name,
    const char *shown, ngx_uint_t required, ds_str_t *out)
{
    char      *p;
    size_t     n;
    ds_str_t   v;

    if (!ngx_http_durable_get_member(r, ctx, obj, name, &v)
        || (v.len == 4 && ngx_strncmp(v.data, "null", 4) == 0))
    {
        out->data = NULL;
        out->len = 0;

        if (!required) {
            return NGX_OK;
        }

        return ngx_http_durable_member_error(r, ctx, shown, "is required");
    }

    if (v.data[0] != '"') {
        return ngx_http_durable_member_error(r, ctx, shown,
                                             "must be a string");
    }

    if (ngx_strlchr((u_char *) v.data, (u_char *) v.data + v.len, '\\')
        == NULL)
    {
        /* nothing to decode: the bytes between the quotes */
        out->data = v.data + 1;
        out->len = v.len - 2;

    } else {
        p = ngx_pnalloc(r->pool, v.len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        if (!ds_jspan_decode(v, p, v.len, &n)) {
            return ngx_http_durable_member_error(r, ctx, shown,
                                                 "must be a string");
        }

        out->data = p;
        out->len = n;
    }

    if (required && out->len == 0) {
        return ngx_http_durable_member_error(r, ctx, shown,
                                             "must not be empty");
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_durable_get_int(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx,
    const ds_str_t *obj, const char *name, int64_t *out)
{
    int64_t   n;
    ds_str_t  v;

    if (!ngx_http_durable_get_member(r, ctx, obj, name, &v)
        || !ds_jspan_int(v, &n) || n < 0)
    {
        return ngx_http_durable_member_error(r, ctx, name,
                                             "must be a non-negative integer");
    }

    *out = n;

    return NGX_OK;
}


static ngx_int_t
ngx_http_durable_get_lease(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx,
    const ds_str_t *obj, uint8_t *lease)
{
    ds_str_t    s;
    ngx_int_t   hi, lo;
    ngx_uint_t  i;

    if (ngx_http_durable_get_string(r, ctx, obj, "lease", 1, &s) != NGX_OK) {
        return NGX_ERROR;
    }

    if (s.len != 2 * DS_LEASE_LEN) {
        goto invalid;
    }

    for (i = 0; i < DS_LEASE_LEN; i++) {
        hi = ngx_http_durable_hex_digit((u_char) s.data[2 * i]);
        lo = ngx_http_durable_hex_digit((u_char) s.data[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            goto invalid;
        }

        lease[i] = (uint8_t) (hi << 4 | lo);
    }

    return NGX_OK;

invalid:

    return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
               "The member 'lease' is not a lease token.");
}


/*
 * a hex digit's value, in either case; -1 for any other character. Not
 * ngx_hextoi() per byte: a completion decodes 16 bytes of lease, and its
 * general loop was 4% of the event loop's instructions end to end
 */

static ngx_int_t
ngx_http_durable_hex_digit(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


/*
 * The item a completion, renew or abandon names, by kind: "instanceId",
 * "instanceId" and "taskId", or "entity"; then its "lease".
 */

ngx_int_t
ngx_http_durable_get_work_key(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, const ds_str_t *obj,
    ngx_http_durable_work_t *k)
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

    /*
     * by the rules the item was made under: a name the store cannot hold
     * is refused here, saying so, not as the store's DS_INVALID, which
     * a completion answers as bad actions
     */

    rc = (ctx->route.work_kind == DS_ROUTE_WORK_ENTITIES)
         ? ngx_http_durable_check_entity(r, ctx, &k->op.in.work.id,
                                         &k->op.in.work.key)
         : ngx_http_durable_check_instance_id(r, ctx, &k->op.in.work.id);

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_durable_get_lease(r, ctx, obj, k->lease);
}


/*
 * {"entity":{"name":..,"key":..}}: the name lower-cased; an empty one is
 * left to the rules of names, which the callers apply
 */

ngx_int_t
ngx_http_durable_get_entity(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, const ds_str_t *obj, ds_str_t *name,
    ds_str_t *key)
{
    u_char    *p;
    ds_str_t   e;

    if (!ngx_http_durable_get_member(r, ctx, obj, "entity", &e)
        || !ngx_http_durable_json_object(&e))
    {
        return ngx_http_durable_member_error(r, ctx, "entity",
                   "must be an object with 'name' and 'key'");
    }

    if (ngx_http_durable_get_shown(r, ctx, &e, "name", "entity.name", 0,
                                   name)
        != NGX_OK
        || ngx_http_durable_get_shown(r, ctx, &e, "key", "entity.key", 0,
                                      key)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (name->data == NULL) {
        return ngx_http_durable_member_error(r, ctx, "entity.name",
                                             "is required");
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
ngx_http_durable_get_raw(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx,
    ds_str_t *span, const char *name, ds_str_t *out)
{
    ds_str_t  v;

    out->data = NULL;
    out->len = 0;

    if (ngx_http_durable_get_member(r, ctx, span, name, &v)
        && !(v.len == 4 && ngx_strncmp(v.data, "null", 4) == 0))
    {
        out->data = (const char *) v.data;
        out->len = v.len;
    }
}

