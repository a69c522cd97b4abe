
/*
 * Copyright (C) ngx_durable authors
 *
 * Typed query parameters and name checks. Invalid values are errors that
 * name the parameter, never silently ignored.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_auth.h"
#include "ngx_http_durable_params.h"
#include "ngx_http_durable_render.h"


#define ngx_http_durable_pname(idx)  ds_route_param_names[idx]


ngx_int_t
ngx_http_durable_param_bool(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t idx, ngx_uint_t dflt,
    ngx_uint_t *out)
{
    ds_str_t  *v;

    v = &ctx->query.v[idx];

    if (!ctx->query.set[idx]) {
        *out = dflt;
        return NGX_OK;
    }

    if (v->len == 4
        && ngx_strncasecmp((u_char *) v->data, (u_char *) "true", 4) == 0)
    {
        *out = 1;
        return NGX_OK;
    }

    if (v->len == 5
        && ngx_strncasecmp((u_char *) v->data, (u_char *) "false", 5) == 0)
    {
        *out = 0;
        return NGX_OK;
    }

    return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
               "The value '%*s' of '%s' is not a boolean: use true or false.",
               v->len, v->data, ngx_http_durable_pname(idx));
}


ngx_int_t
ngx_http_durable_param_uint(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t idx, ngx_uint_t dflt,
    ngx_uint_t min, ngx_uint_t max, ngx_uint_t *out)
{
    ngx_int_t  n;
    ds_str_t  *v;

    v = &ctx->query.v[idx];

    if (!ctx->query.set[idx]) {
        *out = dflt;
        return NGX_OK;
    }

    n = (v->len && v->len <= 9) ? ngx_atoi((u_char *) v->data, v->len)
                                : NGX_ERROR;

    if (n == NGX_ERROR || (ngx_uint_t) n < min || (ngx_uint_t) n > max) {
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "The value '%*s' of '%s' is not an integer from %ui "
                   "to %ui.", v->len, v->data, ngx_http_durable_pname(idx),
                   min, max);
    }

    *out = (ngx_uint_t) n;

    return NGX_OK;
}


/* seconds, with an optional fraction ("1.5"), at most max */

ngx_int_t
ngx_http_durable_param_seconds(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t idx, time_t max, ngx_msec_t *out)
{
    u_char     *p, *end;
    ngx_uint_t  ms, scale, digits;
    ds_str_t   *v;

    v = &ctx->query.v[idx];
    p = (u_char *) v->data;
    end = p + v->len;

    ms = 0;
    digits = 0;

    while (p < end && *p >= '0' && *p <= '9' && ms <= 1000000000) {
        ms = ms * 10 + (*p++ - '0');
        digits++;
    }

    ms *= 1000;

    if (p < end && *p == '.') {
        p++;

        for (scale = 100; p < end && *p >= '0' && *p <= '9'; p++) {
            ms += (*p - '0') * scale;
            scale /= 10;
            digits++;
        }
    }

    if (p != end || digits == 0) {
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "The value '%*s' of '%s' is not a number of seconds.",
                   v->len, v->data, ngx_http_durable_pname(idx));
    }

    if (ms > (ngx_uint_t) max * 1000) {
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "The value '%*s' of '%s' is more than the longest wait "
                   "allowed here, %T seconds.", v->len, v->data,
                   ngx_http_durable_pname(idx), max);
    }

    *out = (ngx_msec_t) ms;

    return NGX_OK;
}


/* a filter's bound (upper: its "To"), or dflt when not given */

ngx_int_t
ngx_http_durable_param_time(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t idx, ngx_uint_t upper,
    int64_t dflt, int64_t *out)
{
    u_char    *t, *sp;
    size_t     tail;
    ds_str_t  *v;

    v = &ctx->query.v[idx];

    if (!ctx->query.set[idx] || v->len == 0) {
        *out = dflt;
        return NGX_OK;
    }

    t = (u_char *) v->data;

    /*
     * "...T13:57:31+02:00" sent without escaping its '+' arrives as
     * "...T13:57:31 02:00": a space there can only be such a '+'
     */

    sp = ngx_strlchr(t, t + v->len, ' ');
    tail = sp ? (size_t) (t + v->len - sp) - 1 : 0;

    if (sp != NULL && sp > t && (tail == 4 || tail == 5)
        && ngx_strlchr(sp + 1, t + v->len, ' ') == NULL)
    {
        t = ngx_pnalloc(r->pool, v->len);
        if (t == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(t, v->data, v->len);
        t[sp - (u_char *) v->data] = '+';
    }

    if (ds_time_parse((char *) t, v->len, out) != DS_OK) {
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "The value '%*s' of '%s' is not an ISO 8601 date and "
                   "time.", v->len, v->data, ngx_http_durable_pname(idx));
    }

    *out = ds_query_bound(*out, upper ? 1 : 0);

    return NGX_OK;
}


/* runtimeStatus: a comma list (repeats were joined by the parser) */

ngx_int_t
ngx_http_durable_param_statuses(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, unsigned *mask)
{
    int        st;
    u_char    *p, *end, *item, *last;
    ds_str_t  *v;

    v = &ctx->query.v[DS_ROUTE_Q_RUNTIMESTATUS];

    *mask = 0;

    if (!ctx->query.set[DS_ROUTE_Q_RUNTIMESTATUS]) {
        return NGX_OK;
    }

    p = (u_char *) v->data;
    end = p + v->len;

    while (p <= end) {
        item = p;
        last = ngx_strlchr(p, end, ',');
        if (last == NULL) {
            last = end;
        }

        p = last + 1;

        while (item < last && (*item == ' ' || *item == '\t')) {
            item++;
        }

        while (last > item && (last[-1] == ' ' || last[-1] == '\t')) {
            last--;
        }

        if (item == last) {
            continue;
        }

        st = ds_status_parse((char *) item, last - item);
        if (st < 0) {
            return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                       "The runtimeStatus '%*s' is unknown: use Pending, "
                       "Running, Completed, ContinuedAsNew, Failed, "
                       "Canceled, Terminated or Suspended.",
                       last - item, item);
        }

        *mask |= DS_STATUS_MASK(st);
    }

    return NGX_OK;
}


/* reason: JSON when it is JSON, otherwise a JSON string of the text */

ngx_int_t
ngx_http_durable_param_reason(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *out)
{
    char                         *p;
    size_t                        len;
    ds_str_t                     *v;
    ngx_http_durable_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    v = &ctx->query.v[DS_ROUTE_Q_REASON];

    out->data = NULL;
    out->len = 0;

    if (!ctx->query.set[DS_ROUTE_Q_REASON]) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, ds_json_escape_len((char *) v->data, v->len)
                             + 2);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (ds_json_text_or_string((char *) v->data, v->len, dlcf->json_depth,
                               p, &len)
        != DS_OK)
    {
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "The reason could not be stored.");
    }

    out->data = p;
    out->len = len;

    return NGX_OK;
}


/* ids, names and keys: the store's rules (ds_names.c), 400 if broken */

ngx_int_t
ngx_http_durable_check_name(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, const char *what,
    ds_str_t *name, size_t max)
{
    ds_name_fault_t  f;

    if (ds_name_check(ngx_http_durable_ds_str(name), max, &f) != DS_OK) {
        return ngx_http_durable_name_error(r, ctx, what, &f);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_durable_check_instance_id(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *id)
{
    ds_name_fault_t  f;

    if (ds_name_instance_id(ngx_http_durable_ds_str(id), &f) != DS_OK) {
        return ngx_http_durable_name_error(r, ctx, "instance id", &f);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_durable_check_entity(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *name,
    ds_str_t *key)
{
    ds_name_fault_t  f;

    static const char  *what[] = {
        "entity name", "entity key", "entity name and key"
    };

    if (ds_name_entity(ngx_http_durable_ds_str(name),
                       ngx_http_durable_ds_str(key), &f)
        != DS_OK)
    {
        return ngx_http_durable_name_error(r, ctx, what[f.part], &f);
    }

    return NGX_OK;
}


/* "The <what> must ...": the fault in the store's words */

ngx_int_t
ngx_http_durable_name_error(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, const char *what, ds_name_fault_t *f)
{
    char  text[NGX_HTTP_DURABLE_FAULT_LEN];

    ds_name_fault_text(f, text, sizeof(text));

    return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                                      "The %s %s.", what, text);
}


/* a JSON body: validated once, stored compact; empty means null */

ngx_int_t
ngx_http_durable_ingest_body(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *out)
{
    return ngx_http_durable_ingest_body_as(r, ctx, out,
                                           "The request body is not valid "
                                           "JSON: ");
}


/* the same, with the words before the parser's message */

ngx_int_t
ngx_http_durable_ingest_body_as(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *out, const char *what)
{
    char                         *p;
    size_t                        len;
    char                          err[256];
    ngx_http_durable_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    out->data = NULL;
    out->len = 0;

    if (ctx->body.len == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, ctx->body.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    err[0] = '\0';

    if (ds_json_ingest((char *) ctx->body.data, ctx->body.len,
                       dlcf->json_depth, p, &len, err, sizeof(err))
        != DS_OK)
    {
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                                          "%s%s", what, err);
    }

    out->data = p;
    out->len = len;

    return NGX_OK;
}


/* Content-Type: application/json, parameters allowed, any case */

ngx_uint_t
ngx_http_durable_json_media(ngx_http_request_t *r)
{
    u_char     *p, *end;
    ngx_str_t  *type;

    static const char  json[] = "application/json";

    if (r->headers_in.content_type == NULL) {
        return 0;
    }

    type = &r->headers_in.content_type->value;

    if (type->len < sizeof(json) - 1
        || ngx_strncasecmp(type->data, (u_char *) json, sizeof(json) - 1)
           != 0)
    {
        return 0;
    }

    p = type->data + sizeof(json) - 1;
    end = type->data + type->len;

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    return p == end || *p == ';';
}


/* the x-ms-continuation-token request header of lists; absent: empty */

ngx_int_t
ngx_http_durable_token_in(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx,
    ds_str_t *token)
{
    ngx_table_elt_t  *h;

    token->data = NULL;
    token->len = 0;

    h = ngx_http_durable_header_in(r, NGX_HTTP_DURABLE_TOKEN_HEADER,
                                   sizeof(NGX_HTTP_DURABLE_TOKEN_HEADER) - 1);
    if (h == NULL || h->value.len == 0) {
        return NGX_OK;
    }

    if (h->value.len > DS_TOKEN_MAX) {
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "The continuation token is not valid.");
    }

    token->data = (const char *) h->value.data;
    token->len = h->value.len;

    return NGX_OK;
}
