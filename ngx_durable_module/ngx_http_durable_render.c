
/*
 * Copyright (C) ngx_durable authors
 *
 * Responses: the JSON error envelope, status payloads and the check-status
 * payload with its management URLs.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_auth.h"
#include "ngx_http_durable_grpc.h"
#include "ngx_http_durable_render.h"


#define NGX_HTTP_DURABLE_MESSAGE_MAX  1024

/*
 * claim buffers kept for reuse: how many at most, their bytes in all, the
 * largest one kept, and how many times larger than asked a kept one may be
 */
#define NGX_HTTP_DURABLE_OUT_KEEP        32
#define NGX_HTTP_DURABLE_OUT_KEEP_BYTES  (8 * 1024 * 1024)
#define NGX_HTTP_DURABLE_OUT_KEEP_MAX    (4 * 1024 * 1024)
#define NGX_HTTP_DURABLE_OUT_KEEP_SLACK  4


typedef struct {
    u_char                       *start;
    size_t                        size;
} ngx_http_durable_out_kept_t;


typedef struct {
    ngx_http_durable_out_kept_t   buf[NGX_HTTP_DURABLE_OUT_KEEP];
    ngx_uint_t                    n;
    size_t                        size;     /* of all of them */
} ngx_http_durable_out_keep_t;


static void ngx_http_durable_discard_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_durable_host_url(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_str_t *out);
static ngx_uint_t ngx_http_durable_url_byte_escaped(u_char c);
static u_char *ngx_http_durable_json_str(u_char *p, u_char *s, size_t len);
static u_char *ngx_http_durable_json_raw(u_char *p, ds_str_t *v);
static void ngx_http_durable_out_free(void *data);


/*
 * Heap buffers of finished claims, kept for the next ones of the process,
 * smallest first; only the event loop takes and returns them.
 */

static ngx_http_durable_out_keep_t  ngx_http_durable_out_keep;


static ngx_str_t  ngx_http_durable_json_type =
    ngx_string("application/json; charset=utf-8");

static ngx_str_t  ngx_http_durable_canonical_bases[] = {
    ngx_string("/runtime/webhooks/durabletask"),
    ngx_string("/admin/extensions/DurableTaskExtension")
};


ngx_int_t
ngx_http_durable_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *json)
{
    ngx_buf_t    *b;
    ngx_chain_t   out;

    if (json == NULL) {
        ngx_http_durable_discard_body(r);

        r->headers_out.status = status;
        r->headers_out.content_length_n = 0;
        r->header_only = 1;

        return ngx_http_send_header(r);
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = json->data;
    b->last = json->data + json->len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_durable_send_chain(r, status, &out, json->len);
}


/* an answer in two parts, sent as they are instead of copied into one */

ngx_int_t
ngx_http_durable_send_pair(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *first, ngx_str_t *second)
{
    ngx_buf_t    *b1, *b2;
    ngx_chain_t   out[2];

    b1 = ngx_calloc_buf(r->pool);
    b2 = ngx_calloc_buf(r->pool);
    if (b1 == NULL || b2 == NULL) {
        return NGX_ERROR;
    }

    b1->pos = first->data;
    b1->last = first->data + first->len;
    b1->memory = 1;

    b2->pos = second->data;
    b2->last = second->data + second->len;
    b2->memory = 1;
    b2->last_buf = (r == r->main) ? 1 : 0;
    b2->last_in_chain = 1;

    out[0].buf = b1;
    out[0].next = &out[1];
    out[1].buf = b2;
    out[1].next = NULL;

    return ngx_http_durable_send_chain(r, status, out,
                                       first->len + second->len);
}


ngx_int_t
ngx_http_durable_send_chain(ngx_http_request_t *r, ngx_uint_t status,
    ngx_chain_t *out, off_t len)
{
    ngx_int_t  rc;

    ngx_http_durable_discard_body(r);

    r->headers_out.status = status;
    r->headers_out.content_type = ngx_http_durable_json_type;
    r->headers_out.content_type_len = ngx_http_durable_json_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = len;

    if (r->method == NGX_HTTP_HEAD) {
        r->header_only = 1;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, out);
}


/*
 * Called before every answer's header. An answer sent before the body was
 * read (a refusal found in the request line or the headers) must not
 * leave the body on a keep-alive connection, where it would be parsed as
 * the next request: it is discarded. Once the body is read, or already
 * being discarded, ngx_http_discard_request_body() does nothing.
 */

static void
ngx_http_durable_discard_body(ngx_http_request_t *r)
{
    if (ngx_http_discard_request_body(r) != NGX_OK) {
        /* an unreadable body: whatever follows it cannot be trusted */
        r->keepalive = 0;
    }
}


static ngx_int_t
ngx_http_durable_send_message(ngx_http_request_t *r, ngx_uint_t status,
    const char *open, const char *close, u_char *msg, size_t len)
{
    u_char     *p;
    size_t      olen, clen;
    ngx_str_t   body;

    olen = ngx_strlen(open);
    clen = ngx_strlen(close);

    body.data = ngx_pnalloc(r->pool,
                            olen + ds_json_escape_len((char *) msg, len)
                            + clen);
    if (body.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(body.data, open, olen);
    p += ds_json_escape((char *) msg, len, (char *) p);
    p = ngx_cpymem(p, close, clen);

    body.len = p - body.data;

    return ngx_http_durable_send(r, status, &body);
}


/* {"Message":"..."}; the message names what is wrong */

ngx_int_t
ngx_http_durable_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *fmt, ...)
{
    u_char   *p;
    va_list   args;
    u_char    msg[NGX_HTTP_DURABLE_MESSAGE_MAX];

    va_start(args, fmt);
    p = ngx_vslprintf(msg, msg + sizeof(msg), fmt, args);
    va_end(args);

    return ngx_http_durable_send_message(r, status, "{\"Message\":\"", "\"}",
                                         msg, p - msg);
}


/*
 * A request's last value: a 500 that nothing was sent for yet (a failed
 * allocation, a history that could not be read while rendering) gets a
 * {"Message":...} body, as every other failure, not nginx's HTML page.
 * The cause was logged where it happened.
 */

ngx_int_t
ngx_http_durable_finish(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_durable_loc_conf_t  *dlcf;

    if (rc != NGX_HTTP_INTERNAL_SERVER_ERROR || r->header_sent) {
        return rc;
    }

    /*
     * a gRPC call's failures are its status, not a body; whether a
     * request is one is the location's own durable_task_grpc, not one a
     * nested location inherits from its server
     */

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);
    if (dlcf->grpc && ngx_http_durable_grpc_is_call(r)) {
        return rc;
    }

    return ngx_http_durable_send_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
               "The server could not answer the request; its error log "
               "says why.");
}


/* a JSON string literal body, as the reference sends its 412s */

ngx_int_t
ngx_http_durable_send_json_string(ngx_http_request_t *r, ngx_uint_t status,
    const char *fmt, ...)
{
    u_char   *p;
    va_list   args;
    u_char    msg[NGX_HTTP_DURABLE_MESSAGE_MAX];

    va_start(args, fmt);
    p = ngx_vslprintf(msg, msg + sizeof(msg), fmt, args);
    va_end(args);

    return ngx_http_durable_send_message(r, status, "\"", "\"", msg, p - msg);
}


ngx_int_t
ngx_http_durable_set_error(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t status, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    ctx->err.data = ngx_pnalloc(r->pool, NGX_HTTP_DURABLE_MESSAGE_MAX);
    if (ctx->err.data == NULL) {
        return NGX_ERROR;
    }

    /* the lead is short (a completion's position in an array) */
    p = ctx->err.data;

    if (ctx->in_completions) {
        p = ngx_sprintf(p, "Completion %ui: ", ctx->err_completion);
    }

    va_start(args, fmt);
    p = ngx_vslprintf(p, ctx->err.data + NGX_HTTP_DURABLE_MESSAGE_MAX, fmt,
                      args);
    va_end(args);

    ctx->err.len = p - ctx->err.data;
    ctx->err_status = status;

    return NGX_ERROR;
}


ngx_int_t
ngx_http_durable_fail(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx)
{
    if (ctx->err_status == 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_durable_send_message(r, ctx->err_status,
                                         "{\"Message\":\"", "\"}",
                                         ctx->err.data, ctx->err.len);
}


ngx_int_t
ngx_http_durable_send_method_not_allowed(ngx_http_request_t *r,
    unsigned allow)
{
    u_char     *p;
    ngx_str_t   value;

    /* each name is written with its ", ": room for all four */
    p = ngx_pnalloc(r->pool, sizeof("GET, HEAD, POST, DELETE, ") - 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    value.data = p;

    if (allow & DS_ROUTE_GET) {
        p = ngx_cpymem(p, "GET, ", 5);
    }

    if (allow & NGX_HTTP_DURABLE_ALLOW_HEAD) {
        p = ngx_cpymem(p, "HEAD, ", 6);
    }

    if (allow & DS_ROUTE_POST) {
        p = ngx_cpymem(p, "POST, ", 6);
    }

    if (allow & DS_ROUTE_DELETE) {
        p = ngx_cpymem(p, "DELETE, ", 8);
    }

    value.len = p - value.data - 2;

    if (ngx_http_durable_add_header(r, "Allow", &value) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_durable_send_error(r, NGX_HTTP_NOT_ALLOWED,
               "The method %V is not allowed here; allowed: %V.",
               &r->method_name, &value);
}


ngx_int_t
ngx_http_durable_add_header(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value = *value;

    return NGX_OK;
}


/* the next page's token, only while more results may remain */

ngx_int_t
ngx_http_durable_token_out(ngx_http_request_t *r, const u_char *token,
    size_t len)
{
    ngx_str_t  value;

    if (len == 0) {
        return NGX_OK;
    }

    value.data = ngx_pnalloc(r->pool, len);
    if (value.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(value.data, token, len);
    value.len = len;

    return ngx_http_durable_add_header(r, NGX_HTTP_DURABLE_TOKEN_HEADER,
                                       &value);
}


/*
 * {"name":..,"instanceId":..,"runtimeStatus":..,"input":..,
 *  "customStatus":..,"output":..,"createdTime":..,"lastUpdatedTime":..
 *  [,"historyEvents":[..]]}
 * JSON fields are copied as stored: nothing is parsed.
 */

ngx_int_t
ngx_http_durable_render_status(ngx_http_request_t *r, ngx_str_t *id,
    ds_instance_t *inst, ngx_uint_t show_input, ngx_str_t *history,
    ngx_str_t *out)
{
    u_char      *p;
    size_t       len;
    const char  *status;
    ds_str_t     none;

    static const char  head[] = "{\"name\":\"";

    status = ds_status_name(inst->status);
    none.data = NULL;
    none.len = 0;

    len = sizeof(head) - 1
          + ds_json_escape_len(inst->name.data, inst->name.len)
          + sizeof("\",\"instanceId\":\"") - 1
          + ds_json_escape_len((char *) id->data, id->len)
          + sizeof("\",\"runtimeStatus\":\"") - 1 + ngx_strlen(status)
          + sizeof("\",\"input\":") - 1
          + (show_input && inst->input.len ? inst->input.len : 4)
          + sizeof(",\"customStatus\":") - 1
          + (inst->custom_status.len ? inst->custom_status.len : 4)
          + sizeof(",\"output\":") - 1
          + (inst->output.len ? inst->output.len : 4)
          + sizeof(",\"createdTime\":\"\",\"lastUpdatedTime\":\"\"") - 1
          + 2 * DS_TIME_S_LEN
          + (history ? sizeof(",\"historyEvents\":") - 1 + history->len : 0)
          + 1;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    p = ngx_cpymem(p, head, sizeof(head) - 1);
    p = ngx_http_durable_json_str(p, (u_char *) inst->name.data,
                                  inst->name.len);
    p = ngx_cpymem(p, "\",\"instanceId\":\"",
                   sizeof("\",\"instanceId\":\"") - 1);
    p = ngx_http_durable_json_str(p, id->data, id->len);
    p = ngx_cpymem(p, "\",\"runtimeStatus\":\"",
                   sizeof("\",\"runtimeStatus\":\"") - 1);
    p = ngx_cpymem(p, status, ngx_strlen(status));
    p = ngx_cpymem(p, "\",\"input\":", sizeof("\",\"input\":") - 1);
    p = ngx_http_durable_json_raw(p, show_input ? &inst->input : &none);
    p = ngx_cpymem(p, ",\"customStatus\":", sizeof(",\"customStatus\":") - 1);
    p = ngx_http_durable_json_raw(p, &inst->custom_status);
    p = ngx_cpymem(p, ",\"output\":", sizeof(",\"output\":") - 1);
    p = ngx_http_durable_json_raw(p, &inst->output);
    p = ngx_cpymem(p, ",\"createdTime\":\"", sizeof(",\"createdTime\":\"") - 1);
    p += ds_time_format_s(inst->created, (char *) p);
    p = ngx_cpymem(p, "\",\"lastUpdatedTime\":\"",
                   sizeof("\",\"lastUpdatedTime\":\"") - 1);
    p += ds_time_format_s(inst->updated, (char *) p);
    *p++ = '"';

    if (history) {
        p = ngx_cpymem(p, ",\"historyEvents\":",
                       sizeof(",\"historyEvents\":") - 1);
        p = ngx_cpymem(p, history->data, history->len);
    }

    *p++ = '}';

    out->len = p - out->data;

    return NGX_OK;
}


/*
 * The check-status payload (docs/http-api.md). Returns the status URL in
 * *location for the Location header; ids are form-encoded, so no header
 * can be split through them.
 */

ngx_int_t
ngx_http_durable_render_check_status(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_str_t *id, ngx_str_t *out,
    ngx_str_t *location)
{
    u_char                       *p, *q, *inst;
    size_t                        len, ilen, qlen;
    ngx_str_t                     host, base, einst;
    ngx_uint_t                    i;
    ngx_http_durable_loc_conf_t  *dlcf;

    /* each URL member: ,"key":"{inst}{tail}{Q}" */

    static const struct {
        ngx_str_t    key;
        ngx_str_t    tail;     /* after {base}/instances/{ID}, before {Q} */
    } urls[] = {
        { ngx_string(",\"statusQueryGetUri\":\""), ngx_string("?") },
        { ngx_string(",\"sendEventPostUri\":\""),
          ngx_string("/raiseEvent/{eventName}?") },
        { ngx_string(",\"terminatePostUri\":\""),
          ngx_string("/terminate?reason={text}&") },
        { ngx_string(",\"purgeHistoryDeleteUri\":\""), ngx_string("?") },
        { ngx_string(",\"restartPostUri\":\""), ngx_string("/restart?") },
        { ngx_string(",\"suspendPostUri\":\""),
          ngx_string("/suspend?reason={text}&") },
        { ngx_string(",\"resumePostUri\":\""),
          ngx_string("/resume?reason={text}&") },
        { ngx_string(",\"rewindPostUri\":\""),
          ngx_string("/rewind?reason={text}&") }
    };

    if (ngx_http_durable_host_url(r, ctx, &host) != NGX_OK) {
        return NGX_ERROR;
    }

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);
    base = ((ngx_str_t *) dlcf->bases->elts)[ctx->route.prefix];

    /* {host}{base}/instances/{ID} */

    ilen = host.len + base.len + sizeof("/instances/") - 1
           + ds_route_form_escape_len(id->data, id->len);

    inst = ngx_pnalloc(r->pool, ilen);
    if (inst == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(inst, host.data, host.len);
    p = ngx_cpymem(p, base.data, base.len);
    p = ngx_cpymem(p, "/instances/", sizeof("/instances/") - 1);
    p += ds_route_form_escape(p, id->data, id->len);

    /* {Q}: taskHub=..&connection=..[&code=..] */

    qlen = sizeof("taskHub=&connection=") - 1
           + ds_route_form_escape_len(ctx->hub.data, ctx->hub.len)
           + ds_route_form_escape_len(ctx->connection.data,
                                      ctx->connection.len)
           + (ctx->key.len ? sizeof("&code=") - 1
              + ds_route_form_escape_len(ctx->key.data,
                                         ctx->key.len) : 0);

    q = ngx_pnalloc(r->pool, qlen);
    if (q == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(q, "taskHub=", sizeof("taskHub=") - 1);
    p += ds_route_form_escape(p, ctx->hub.data, ctx->hub.len);
    p = ngx_cpymem(p, "&connection=", sizeof("&connection=") - 1);
    p += ds_route_form_escape(p, ctx->connection.data,
                              ctx->connection.len);

    if (ctx->key.len) {
        p = ngx_cpymem(p, "&code=", sizeof("&code=") - 1);
        p += ds_route_form_escape(p, ctx->key.data, ctx->key.len);
    }

    /* the Location header */

    location->len = ilen + 1 + qlen;
    location->data = ngx_pnalloc(r->pool, location->len);
    if (location->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(location->data, inst, ilen);
    *p++ = '?';
    ngx_memcpy(p, q, qlen);

    /*
     * the payload; the instance URL is JSON-escaped once (a public URL may
     * hold '"') and copied into each of the eight URLs; {Q} is form-encoded
     * names and values, nothing in it needs escaping
     */

    einst.len = ds_json_escape_len((char *) inst, ilen);

    if (einst.len == ilen) {
        /* nothing to escape, as in most URLs */
        einst.data = inst;

    } else {
        einst.data = ngx_pnalloc(r->pool, einst.len);
        if (einst.data == NULL) {
            return NGX_ERROR;
        }

        (void) ds_json_escape((char *) inst, ilen, (char *) einst.data);
    }

    len = sizeof("{\"id\":\"\"}") - 1
          + ds_json_escape_len((char *) id->data, id->len);

    for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        len += urls[i].key.len + einst.len + urls[i].tail.len + qlen + 1;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    p = ngx_cpymem(p, "{\"id\":\"", sizeof("{\"id\":\"") - 1);
    p = ngx_http_durable_json_str(p, id->data, id->len);
    *p++ = '"';

    for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        p = ngx_cpymem(p, urls[i].key.data, urls[i].key.len);
        p = ngx_cpymem(p, einst.data, einst.len);
        p = ngx_cpymem(p, urls[i].tail.data, urls[i].tail.len);
        p = ngx_cpymem(p, q, qlen);
        *p++ = '"';
    }

    *p++ = '}';

    out->len = p - out->data;

    return NGX_OK;
}


/* this request's own URL, for the Location of a 202 status answer */

ngx_int_t
ngx_http_durable_request_url(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_str_t *out)
{
    u_char      c, *p;
    size_t      i, n;
    ngx_str_t   host;

    if (ngx_http_durable_host_url(r, ctx, &host) != NGX_OK) {
        return NGX_ERROR;
    }

    /*
     * the request line as it came, but for the bytes a URL must not hold
     * as they are (nginx lets bytes >= 0x80, quotes and angle brackets
     * through): those are percent-encoded, '%' itself is kept as sent
     */

    n = 0;

    for (i = 0; i < r->unparsed_uri.len; i++) {
        n += ngx_http_durable_url_byte_escaped(r->unparsed_uri.data[i]);
    }

    out->len = host.len + r->unparsed_uri.len + 2 * n;
    out->data = ngx_pnalloc(r->pool, out->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(out->data, host.data, host.len);

    if (n == 0) {
        ngx_memcpy(p, r->unparsed_uri.data, r->unparsed_uri.len);
        return NGX_OK;
    }

    for (i = 0; i < r->unparsed_uri.len; i++) {
        c = r->unparsed_uri.data[i];

        if (ngx_http_durable_url_byte_escaped(c)) {
            *p++ = '%';
            *p++ = "0123456789ABCDEF"[c >> 4];
            *p++ = "0123456789ABCDEF"[c & 0xf];

        } else {
            *p++ = c;
        }
    }

    return NGX_OK;
}


/*
 * A byte of a request's URI that a URL in a header carries escaped: the
 * controls, space, bytes >= 0x7f and "<>\^`{|}, a bit each (a search of
 * the list for every byte was a fifth of a 202 status GET, callgrind).
 */

static ngx_uint_t
ngx_http_durable_url_byte_escaped(u_char c)
{
    static uint32_t  escaped[] = {
        0xffffffff,     /* 0x00-0x1f */
        0x50000005,     /* 0x20-0x3f: space " < > */
        0x50000000,     /* 0x40-0x5f: \ ^ */
        0xb8000001,     /* 0x60-0x7f: ` { | } DEL */
        0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff
    };

    return (escaped[c >> 5] >> (c & 0x1f)) & 1;
}


/* the scheme and host[:port]: configured, forwarded (when trusted), direct */

static ngx_int_t
ngx_http_durable_host_url(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx,
    ngx_str_t *out)
{
    u_char                       *p;
    size_t                        len;
    u_char                        addr[NGX_SOCKADDR_STRLEN];
    ngx_str_t                     scheme, host;
    ngx_table_elt_t              *h;
    ngx_http_core_srv_conf_t     *cscf;
    ngx_http_durable_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    if (dlcf->public_url.len) {
        *out = dlcf->public_url;
        return NGX_OK;
    }

    ngx_str_set(&scheme, "http");

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        ngx_str_set(&scheme, "https");
    }
#endif

    if (r->headers_in.host) {
        host = r->headers_in.host->value;

    } else {
        /*
         * HTTP/1.0 without Host: the server's name, unless it is none
         * (server_name ""), the catch-all "_", a wildcard or a regex;
         * then the address the request came to, with its port
         */

        cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
        host = cscf->server_name;

        if ((host.len == 1 && host.data[0] == '_')
            || !ngx_http_durable_host_valid(host.data, host.len))
        {
            host.data = addr;
            host.len = NGX_SOCKADDR_STRLEN;

            if (ngx_connection_local_sockaddr(r->connection, &host, 1)
                != NGX_OK
                || !ngx_http_durable_host_valid(host.data, host.len))
            {
                ngx_str_set(&host, "localhost");
            }
        }
    }

    if (dlcf->trust_forwarded) {
        h = ngx_http_durable_header_in(r, "X-Forwarded-Proto",
                                       sizeof("X-Forwarded-Proto") - 1);
        if (h) {
            if (h->value.len >= 5
                && ngx_strncasecmp(h->value.data, (u_char *) "https", 5) == 0
                && (h->value.len == 5 || h->value.data[5] == ','))
            {
                ngx_str_set(&scheme, "https");

            } else if (h->value.len >= 4
                       && ngx_strncasecmp(h->value.data, (u_char *) "http", 4)
                          == 0
                       && (h->value.len == 4 || h->value.data[4] == ','))
            {
                ngx_str_set(&scheme, "http");
            }
        }

        h = ngx_http_durable_header_in(r, "X-Forwarded-Host",
                                       sizeof("X-Forwarded-Host") - 1);
        if (h) {
            /* the first of a list; ignored unless a plain host[:port] */

            p = ngx_strlchr(h->value.data, h->value.data + h->value.len, ',');
            len = p ? (size_t) (p - h->value.data) : h->value.len;

            if (ngx_http_durable_host_valid(h->value.data, len)) {
                host.data = h->value.data;
                host.len = len;
            }
        }
    }

    out->len = scheme.len + sizeof("://") - 1 + host.len;
    out->data = ngx_pnalloc(r->pool, out->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(out->data, scheme.data, scheme.len);
    p = ngx_cpymem(p, "://", sizeof("://") - 1);
    ngx_memcpy(p, host.data, host.len);

    return NGX_OK;
}


/*
 * host[:port] as URLs are built from it: a name of letters, digits, '-',
 * '_' and dots (an IPv4 address is one; no label begins or ends with
 * '-'), or an IPv6 address in brackets (two colons at least); then an
 * optional port of 1 to 5 digits, 1 to 65535 with no leading zero.
 * Nothing else ('@', quotes, '\\', '{', '<', spaces, bytes >= 0x80...)
 * can reach a URL or a header.
 */

ngx_uint_t
ngx_http_durable_host_valid(u_char *p, size_t len)
{
    size_t      i, start;
    ngx_uint_t  colon, port;

    if (len == 0 || len > 255) {
        return 0;
    }

    i = 0;

    if (p[0] == '[') {
        colon = 0;

        for (i = 1; i < len && p[i] != ']'; i++) {
            if (p[i] == ':') {
                colon++;
                continue;
            }

            if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')
                  || (p[i] >= 'A' && p[i] <= 'F') || p[i] == '.'))
            {
                return 0;
            }
        }

        /* an IPv6 address has two colons at least ("::") */

        if (i == len || colon < 2) {
            return 0;
        }

        i++;

    } else {
        start = 0;

        for ( /* void */ ; i < len && p[i] != ':'; i++) {
            if (p[i] == '.') {
                /*
                 * no empty label, none that ends with '-'; one trailing
                 * dot ends a full name
                 */
                if (i == start || p[i - 1] == '-') {
                    return 0;
                }

                start = i + 1;
                continue;
            }

            /* nor one that starts with '-' */
            if (p[i] == '-' && i == start) {
                return 0;
            }

            if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')
                  || (p[i] >= '0' && p[i] <= '9') || p[i] == '-'
                  || p[i] == '_'))
            {
                return 0;
            }
        }

        if (i == 0 || p[i - 1] == '-') {
            return 0;
        }
    }

    if (i == len) {
        return 1;
    }

    /* 1 to 5 digits, no leading zero */

    if (p[i++] != ':' || i == len || len - i > 5 || p[i] == '0') {
        return 0;
    }

    port = 0;

    for ( /* void */ ; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return 0;
        }

        port = port * 10 + (p[i] - '0');
    }

    /* port 0 names no port a client can connect to */
    return port >= 1 && port <= 65535;
}


/*
 * B of a prefix, at configuration time: the canonical 2.x or 1.x prefix,
 * or the custom mount as configured
 */

void
ngx_http_durable_canonical_base(ds_str_t *prefix, ngx_str_t *out)
{
    ngx_uint_t  i;

    for (i = 0; i < 2; i++) {
        if (prefix->len == ngx_http_durable_canonical_bases[i].len
            && ngx_strncasecmp((u_char *) prefix->data,
                               ngx_http_durable_canonical_bases[i].data,
                               prefix->len) == 0)
        {
            *out = ngx_http_durable_canonical_bases[i];
            return;
        }
    }

    out->data = (u_char *) prefix->data;
    out->len = prefix->len;
}


static u_char *
ngx_http_durable_json_str(u_char *p, u_char *s, size_t len)
{
    return p + ds_json_escape((char *) s, len, (char *) p);
}


static u_char *
ngx_http_durable_json_raw(u_char *p, ds_str_t *v)
{
    if (v->len == 0) {
        return ngx_cpymem(p, "null", 4);
    }

    return ngx_cpymem(p, v->data, v->len);
}


ngx_int_t
ngx_http_durable_out_init(ngx_http_durable_out_t *out, ngx_pool_t *pool,
    size_t size)
{
    out->start = ngx_pnalloc(pool, size);
    if (out->start == NULL) {
        return NGX_ERROR;
    }

    out->pos = out->start;
    out->end = out->start + size;
    out->pool = pool;
    out->failed = 0;
    out->heap = 0;

    return NGX_OK;
}


/*
 * A buffer that grows with malloc(), not in the pool: the writer's thread
 * renders claimed items into it, and a pool must not grow from a thread
 * while the event loop uses it. The pool's cleanup keeps it for a later
 * claim or frees it (ngx_http_durable_out_free()). A kept buffer has its
 * pages mapped: fresh memory from malloc() would make the writer's thread
 * take a page fault for each page it renders into while it holds the
 * store's write lock.
 *
 * A claim takes the smallest kept buffer that is large enough, unless
 * even that one is more than NGX_HTTP_DURABLE_OUT_KEEP_SLACK times what it
 * asks for: a claim of one item must not hold the buffer a claim of a
 * hundred would use for as long as it waits.
 */

ngx_int_t
ngx_http_durable_out_heap(ngx_http_durable_out_t *out, ngx_pool_t *pool,
    size_t size)
{
    ngx_uint_t                    i;
    ngx_pool_cleanup_t           *cln;
    ngx_http_durable_out_keep_t  *keep;

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    keep = &ngx_http_durable_out_keep;

    for (i = 0; i < keep->n; i++) {
        if (keep->buf[i].size >= size) {
            break;
        }
    }

    if (i < keep->n
        && keep->buf[i].size <= NGX_HTTP_DURABLE_OUT_KEEP_SLACK * size)
    {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, pool->log, 0,
                       "durable claim buffer: taken again, %uz bytes for %uz",
                       keep->buf[i].size, size);

        out->start = keep->buf[i].start;
        size = keep->buf[i].size;

        keep->size -= size;
        keep->n--;

        ngx_memmove(&keep->buf[i], &keep->buf[i + 1],
                    (keep->n - i) * sizeof(ngx_http_durable_out_kept_t));

    } else {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pool->log, 0,
                       "durable claim buffer: allocated %uz bytes", size);

        out->start = ngx_alloc(size, pool->log);
        if (out->start == NULL) {
            return NGX_ERROR;
        }
    }

    cln->handler = ngx_http_durable_out_free;
    cln->data = out;

    out->pos = out->start;
    out->end = out->start + size;
    out->pool = pool;
    out->failed = 0;
    out->heap = 1;

    return NGX_OK;
}


/*
 * Keeps a claim's buffer while the kept ones stay within
 * NGX_HTTP_DURABLE_OUT_KEEP buffers and NGX_HTTP_DURABLE_OUT_KEEP_BYTES in
 * all; to make room, the smallest kept buffers give way to a larger one.
 * A buffer over NGX_HTTP_DURABLE_OUT_KEEP_MAX is never kept.
 */

static void
ngx_http_durable_out_free(void *data)
{
    ngx_http_durable_out_t  *out = data;

    size_t                        size, bytes;
    ngx_uint_t                    i, n;
    ngx_http_durable_out_keep_t  *keep;

    keep = &ngx_http_durable_out_keep;
    size = out->end - out->start;

    /* the smallest n kept buffers, smaller than this one, give way */

    n = 0;
    bytes = keep->size;

    while (n < keep->n && keep->buf[n].size < size
           && (keep->n - n == NGX_HTTP_DURABLE_OUT_KEEP
               || bytes + size > NGX_HTTP_DURABLE_OUT_KEEP_BYTES))
    {
        bytes -= keep->buf[n].size;
        n++;
    }

    if (size > NGX_HTTP_DURABLE_OUT_KEEP_MAX
        || keep->n - n == NGX_HTTP_DURABLE_OUT_KEEP
        || bytes + size > NGX_HTTP_DURABLE_OUT_KEEP_BYTES)
    {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, out->pool->log, 0,
                       "durable claim buffer: freed %uz bytes", size);

        ngx_free(out->start);
        return;
    }

    for (i = 0; i < n; i++) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, out->pool->log, 0,
                       "durable claim buffer: freed %uz bytes kept, "
                       "for %uz", keep->buf[i].size, size);

        ngx_free(keep->buf[i].start);
    }

    keep->n -= n;
    keep->size = bytes;

    ngx_memmove(&keep->buf[0], &keep->buf[n],
                keep->n * sizeof(ngx_http_durable_out_kept_t));

    for (i = keep->n; i > 0 && keep->buf[i - 1].size > size; i--) {
        keep->buf[i] = keep->buf[i - 1];
    }

    keep->buf[i].start = out->start;
    keep->buf[i].size = size;
    keep->n++;
    keep->size += size;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, out->pool->log, 0,
                   "durable claim buffer: kept %uz bytes, %ui kept, "
                   "%uz bytes in all", size, keep->n, keep->size);
}


/* at the process's exit: the kept buffers */

void
ngx_http_durable_out_exit(ngx_cycle_t *cycle)
{
    ngx_uint_t                    i;
    ngx_http_durable_out_keep_t  *keep;

    keep = &ngx_http_durable_out_keep;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, cycle->log, 0,
                   "durable claim buffers: %ui freed at exit, %uz bytes",
                   keep->n, keep->size);

    for (i = 0; i < keep->n; i++) {
        ngx_free(keep->buf[i].start);
    }

    keep->n = 0;
    keep->size = 0;
}


/* room for len more bytes at out->pos; 0 when memory ran out */

ngx_uint_t
ngx_http_durable_out_reserve(ngx_http_durable_out_t *out, size_t len)
{
    u_char  *p;
    size_t   size;

    if (out->failed) {
        return 0;
    }

    if ((size_t) (out->end - out->pos) >= len) {
        return 1;
    }

    size = ngx_max(2 * (size_t) (out->end - out->start),
                   (size_t) (out->pos - out->start) + len);

    if (out->heap) {
        /* maybe in a thread: the cycle's log, not the request's */
        p = ngx_alloc(size, ngx_cycle->log);

    } else {
        p = ngx_pnalloc(out->pool, size);
    }

    if (p == NULL) {
        out->failed = 1;
        return 0;
    }

    out->pos = ngx_cpymem(p, out->start, out->pos - out->start);

    if (out->heap) {
        ngx_free(out->start);
    }

    out->start = p;
    out->end = p + size;

    return 1;
}


void
ngx_http_durable_out_add(ngx_http_durable_out_t *out, const void *data,
    size_t len)
{
    if (ngx_http_durable_out_reserve(out, len)) {
        out->pos = ngx_cpymem(out->pos, data, len);
    }
}


/* a JSON string literal, quotes included */

void
ngx_http_durable_out_string(ngx_http_durable_out_t *out, const void *data,
    size_t len)
{
    if (ngx_http_durable_out_reserve(out, ds_json_escape_len(data, len) + 2))
    {
        *out->pos++ = '"';
        out->pos += ds_json_escape(data, len, (char *) out->pos);
        *out->pos++ = '"';
    }
}


/* stored JSON text; empty means null */

void
ngx_http_durable_out_json(ngx_http_durable_out_t *out, const void *data,
    size_t len)
{
    if (len == 0) {
        ngx_http_durable_out_literal(out, "null");
        return;
    }

    ngx_http_durable_out_add(out, data, len);
}


void
ngx_http_durable_out_time(ngx_http_durable_out_t *out, int64_t us)
{
    if (ngx_http_durable_out_reserve(out, DS_TIME_FRAC_LEN + 3)) {
        *out->pos++ = '"';
        out->pos += ds_time_format_frac(us, (char *) out->pos);
        *out->pos++ = '"';
    }
}
