
/*
 * Copyright (C) ngx_durable authors
 *
 * System key check: the key comes from the "code" query parameter or the
 * "x-functions-key" header and is compared in constant time with every
 * configured key.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_auth.h"
#include "ngx_http_durable_log.h"
#include "ngx_http_durable_render.h"


static ngx_uint_t ngx_http_durable_key_equal(ngx_str_t *key, u_char *p,
    size_t len);


ngx_int_t
ngx_http_durable_authenticate(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx)
{
    u_char                       *p;
    size_t                        len;
    ngx_str_t                    *keys;
    ngx_uint_t                    i, n, match;
    ngx_array_t                  *sets[2];
    ngx_table_elt_t              *h;
    ngx_http_durable_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    if (dlcf->anonymous) {
        /* a "code" parameter is ignored here: clients copy URLs with one */
        return NGX_OK;
    }

    /*
     * the header first, as the Functions host: a URL copied with a stale
     * code= still works with the current key in the header
     */

    p = NULL;
    len = 0;

    h = ngx_http_durable_header_in(r, "x-functions-key",
                                   sizeof("x-functions-key") - 1);
    if (h) {
        p = h->value.data;
        len = h->value.len;
    }

    if (len == 0) {
        if (ctx->query.code_twice) {
            return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                       "The query parameter 'code' is given more than "
                       "once.");
        }

        p = (u_char *) ctx->query.v[DS_ROUTE_Q_CODE].data;
        len = ctx->query.v[DS_ROUTE_Q_CODE].len;
    }

    if (len == 0) {
        if (dlcf->grpc) {
            /* a gRPC client sends request metadata, no query string */
            return ngx_http_durable_set_error(r, ctx, NGX_HTTP_UNAUTHORIZED,
                       "A key is required: pass it in the "
                       "'authorization: Bearer KEY' or the "
                       "'x-functions-key' request metadata.");
        }

        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_UNAUTHORIZED,
                   "A key is required: pass it in the 'code' query "
                   "parameter or the 'x-functions-key' header.");
    }

    /*
     * Worker endpoints take worker keys only, the API system keys only.
     * A path that is no route takes either, so that a worker's typo gets
     * the same 404 as any unknown path. Without a valid key every path is
     * 401, so nobody learns which routes exist; a key holder learns only
     * which of the documented routes exist.
     */

    sets[0] = (ctx->route.op == DS_ROUTE_OP_WORKER)
              ? dlcf->worker_keys : dlcf->keys;
    sets[1] = (ctx->route.op == DS_ROUTE_OP_NONE)
              ? dlcf->worker_keys : NULL;

    match = 0;

    for (n = 0; n < 2; n++) {
        if (sets[n] == NULL) {
            continue;
        }

        keys = sets[n]->elts;

        /* no early exit: every key is compared */

        for (i = 0; i < sets[n]->nelts; i++) {
            if (ngx_http_durable_key_equal(&keys[i], p, len)) {
                match = 1;
                ctx->key = keys[i];
            }
        }
    }

    if (!match) {
        ngx_log_error(NGX_LOG_INFO, ngx_http_durable_log(r), 0,
                      "durable: request with a wrong key");

        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_UNAUTHORIZED,
                   "The key is not valid for this API.");
    }

    return NGX_OK;
}


/* time depends on the configured key's length only, not on the guess */

static ngx_uint_t
ngx_http_durable_key_equal(ngx_str_t *key, u_char *p, size_t len)
{
    size_t      i;
    ngx_uint_t  diff;

    diff = (key->len != len);

    for (i = 0; i < key->len; i++) {
        diff |= key->data[i] ^ (i < len ? p[i] : 0);
    }

    return diff == 0;
}


ngx_table_elt_t *
ngx_http_durable_header_in(ngx_http_request_t *r, const char *name,
    size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}
