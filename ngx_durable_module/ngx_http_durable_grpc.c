
/*
 * Copyright (C) ngx_durable authors
 *
 * The Durable Task gRPC service (TaskHubSidecarService) over nginx's
 * HTTP/2: durable_task_grpc, the call's checks (HTTP/2, POST,
 * application/grpc, the method, grpc-timeout, keys, the task hub), the
 * request message deframed, and the answers: a message and its trailers,
 * a Trailers-Only status, or the messages of a server stream. The methods
 * themselves are in ngx_http_durable_grpc_client.c and _grpc_worker.c.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_auth.h"
#include "ngx_http_durable_grpc.h"
#include "ngx_http_durable_handler.h"
#include "ngx_http_durable_log.h"
#include "ngx_http_durable_metrics.h"
#include "ngx_http_durable_render.h"
#include "ngx_http_durable_store.h"
#include "ngx_http_durable_variables.h"


#define NGX_HTTP_DURABLE_GRPC_SERVICE   "/TaskHubSidecarService/"


/* an HTTP status of nginx's and the gRPC status it becomes */
typedef struct {
    ngx_uint_t                          http;
    ngx_uint_t                          code;
    const char                         *text;
} ngx_http_durable_grpc_page_t;


static ngx_int_t ngx_http_durable_grpc_handler(ngx_http_request_t *r);
static void ngx_http_durable_grpc_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_durable_grpc_call(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
static ngx_int_t ngx_http_durable_grpc_refuse(ngx_http_request_t *r,
    ngx_uint_t code, const char *fmt, ...);
static ngx_int_t ngx_http_durable_grpc_vstatus(ngx_http_request_t *r,
    ngx_uint_t code, const char *fmt, va_list args);
static ngx_int_t ngx_http_durable_grpc_media(ngx_http_request_t *r);
static const ngx_http_durable_grpc_rpc_t *ngx_http_durable_grpc_method(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_durable_grpc_timeout(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
static ngx_int_t ngx_http_durable_grpc_keys(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g);
static ngx_int_t ngx_http_durable_grpc_deframe(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g, dg_status_t *st);
static ngx_int_t ngx_http_durable_grpc_only(ngx_http_request_t *r,
    ngx_uint_t code, u_char *text, size_t len);
static ngx_int_t ngx_http_durable_grpc_fields(ngx_http_request_t *r,
    ngx_list_t *list, ngx_uint_t code, u_char *text, size_t len);
static ngx_int_t ngx_http_durable_grpc_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_durable_grpc_header(ngx_http_request_t *r,
    ngx_list_t *list, const char *name, u_char *value, size_t len);
static void *ngx_http_durable_grpc_alloc(void *pool, size_t size);


/* worker calls take worker keys, every other call system keys */

static ngx_http_durable_grpc_rpc_t  ngx_http_durable_grpc_rpcs[] = {

    { ngx_string("Hello"), ngx_http_durable_grpc_hello, 1 },
    { ngx_string("GetWorkItems"), ngx_http_durable_grpc_work_items, 1 },
    { ngx_string("CompleteOrchestratorTask"), ngx_http_durable_grpc_work, 1 },
    { ngx_string("CompleteActivityTask"), ngx_http_durable_grpc_work, 1 },
    { ngx_string("CompleteEntityTask"), ngx_http_durable_grpc_work, 1 },
    { ngx_string("AbandonTaskOrchestratorWorkItem"),
      ngx_http_durable_grpc_work, 1 },
    { ngx_string("AbandonTaskActivityWorkItem"),
      ngx_http_durable_grpc_work, 1 },
    { ngx_string("AbandonTaskEntityWorkItem"),
      ngx_http_durable_grpc_work, 1 },

    { ngx_string("StartInstance"), ngx_http_durable_grpc_start, 0 },
    { ngx_string("GetInstance"), ngx_http_durable_grpc_get, 0 },
    { ngx_string("WaitForInstanceStart"), ngx_http_durable_grpc_wait, 0 },
    { ngx_string("WaitForInstanceCompletion"),
      ngx_http_durable_grpc_wait, 0 },
    { ngx_string("RaiseEvent"), ngx_http_durable_grpc_raise, 0 },
    { ngx_string("TerminateInstance"), ngx_http_durable_grpc_terminate, 0 },
    { ngx_string("SuspendInstance"), ngx_http_durable_grpc_suspend, 0 },
    { ngx_string("ResumeInstance"), ngx_http_durable_grpc_resume, 0 },
    { ngx_string("PurgeInstances"), ngx_http_durable_grpc_purge, 0 },
    { ngx_string("QueryInstances"), ngx_http_durable_grpc_query, 0 },
    { ngx_string("RewindInstance"), ngx_http_durable_grpc_rewind, 0 },
    { ngx_string("RestartInstance"), ngx_http_durable_grpc_restart, 0 },
    { ngx_string("ListInstanceIds"), ngx_http_durable_grpc_list_ids, 0 },
    { ngx_string("StreamInstanceHistory"), ngx_http_durable_grpc_history,
      0 },
    { ngx_string("SignalEntity"), ngx_http_durable_grpc_signal, 0 },
    { ngx_string("GetEntity"), ngx_http_durable_grpc_entity_get, 0 },
    { ngx_string("QueryEntities"), ngx_http_durable_grpc_entity_query,
      0 },
    { ngx_string("CleanEntityStorage"), ngx_http_durable_grpc_clean, 0 },

    { ngx_null_string, NULL, 0 }
};


/*
 * nginx's HTTP answers to a call as gRPC statuses (docs/grpc.md): the
 * mapping the gRPC project publishes for HTTP statuses, but for what
 * nginx means by some of them: 400 is a body that is not what its
 * headers say, 413 a body over the limit, and 5xx other than a gateway's
 * a failure of the server
 */

static ngx_http_durable_grpc_page_t  ngx_http_durable_grpc_pages[] = {

    { NGX_HTTP_BAD_REQUEST, DG_INVALID_ARGUMENT,
      "The request is malformed, or its body is not what its headers "
      "say" },
    { NGX_HTTP_UNAUTHORIZED, DG_UNAUTHENTICATED,
      "The call is not authenticated" },
    { NGX_HTTP_FORBIDDEN, DG_PERMISSION_DENIED,
      "The call is forbidden" },
    { NGX_HTTP_NOT_FOUND, DG_UNIMPLEMENTED,
      "The call's path was not found" },
    { NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, DG_RESOURCE_EXHAUSTED,
      "The request is larger than client_max_body_size" },
    { NGX_HTTP_TOO_MANY_REQUESTS, DG_UNAVAILABLE,
      "Too many calls: retry later" },
    { NGX_HTTP_BAD_GATEWAY, DG_UNAVAILABLE,
      "The service is unavailable: retry later" },
    { NGX_HTTP_SERVICE_UNAVAILABLE, DG_UNAVAILABLE,
      "The service is unavailable: retry later" },
    { NGX_HTTP_GATEWAY_TIME_OUT, DG_UNAVAILABLE,
      "The service is unavailable: retry later" },

    { 0, 0, NULL }
};

static ngx_http_durable_grpc_page_t  ngx_http_durable_grpc_page_4xx =
    { 0, DG_UNKNOWN, "The call was refused" };

static ngx_http_durable_grpc_page_t  ngx_http_durable_grpc_page_5xx =
    { 0, DG_INTERNAL, "The call failed" };


static ngx_http_output_header_filter_pt  ngx_http_durable_grpc_next_header;


/* durable_task_grpc [ping=time]; */

char *
ngx_http_durable_grpc(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_durable_loc_conf_t *dlcf = conf;

    ngx_str_t                 *value, s;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == ngx_http_durable_grpc_handler) {
        return "is duplicate";
    }

    if (clcf->handler != NULL) {
        return "cannot share a location with another handler "
               "(durable_task, proxy_pass, ...)";
    }

#if !(NGX_HTTP_V2)
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"durable_task_grpc\" needs nginx built with "
                       "the HTTP/2 module (--with-http_v2_module)");
    return NGX_CONF_ERROR;
#endif

    value = cf->args->elts;

    if (cf->args->nelts == 2) {
        if (ngx_strncmp(value[1].data, "ping=", 5) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\": "
                               "durable_task_grpc takes only ping=time",
                               &value[1]);
            return NGX_CONF_ERROR;
        }

        s.data = value[1].data + 5;
        s.len = value[1].len - 5;

        dlcf->grpc_ping = ngx_parse_time(&s, 0);

        if (dlcf->grpc_ping == (ngx_msec_t) NGX_ERROR
            || dlcf->grpc_ping < 100)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid ping interval \"%V\": a time of "
                               "100ms or more, such as 30s", &s);
            return NGX_CONF_ERROR;
        }
    }

    dlcf->grpc = 1;
    clcf->handler = ngx_http_durable_grpc_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_durable_grpc_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_http_durable_ctx_t       *ctx;
    ngx_http_durable_grpc_ctx_t  *g;
    ngx_http_durable_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    g = ngx_pcalloc(r->pool, sizeof(ngx_http_durable_grpc_ctx_t));
    if (g == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = &g->base;

    dg_ctx_init(&g->dc, ngx_http_durable_grpc_mem(r->pool),
                dlcf->json_depth);

    ngx_http_set_ctx(r, ctx, ngx_http_durable_module);

    if (ngx_http_durable_variables_keep(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* what is not a gRPC call gets an HTTP answer */

#if (NGX_HTTP_V2)
    if (r->stream == NULL)
#endif
    {
        return ngx_http_durable_send_error(r, NGX_HTTP_VERSION_NOT_SUPPORTED,
                   "gRPC calls need HTTP/2: use a \"listen ... http2\" "
                   "port.");
    }

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_durable_send_method_not_allowed(r, DS_ROUTE_POST);
    }

    if (!ngx_http_durable_grpc_media(r)) {
        return ngx_http_durable_send_error(r,
                   NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                   "gRPC calls have the content type application/grpc.");
    }

    /* a gRPC call from here on: every answer is a gRPC status */

    g->call = 1;
    g->rpc = ngx_http_durable_grpc_method(r);

    if (g->rpc) {
        /* $durable_op names the method */
        ctx->log_op = g->rpc->name;
    }

    if (ngx_http_durable_grpc_keys(r, g) != NGX_OK) {
        return ngx_http_durable_grpc_refuse(r, DG_UNAUTHENTICATED, "%V",
                                            &ctx->err);
    }

    if (g->rpc == NULL || g->rpc->handler == NULL) {
        return ngx_http_durable_grpc_refuse(r, DG_UNIMPLEMENTED,
                   "The method %V is not implemented by ngx_durable.",
                   &r->uri);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "durable grpc: call %V", &g->rpc->name);

    if (ngx_http_durable_grpc_timeout(r, g) != NGX_OK
        || ngx_http_durable_select_hub(r, ctx) != NGX_OK
        || ngx_http_durable_select_store(r, ctx) != NGX_OK)
    {
        return ngx_http_durable_grpc_refuse(r, DG_INVALID_ARGUMENT, "%V",
                                            &ctx->err);
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_durable_grpc_body_handler);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_durable_grpc_body_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_http_durable_ctx_t       *ctx;
    ngx_http_durable_grpc_ctx_t  *g;

    ctx = ngx_http_get_module_ctx(r, ngx_http_durable_module);
    g = ngx_http_durable_grpc_ctx(ctx);

    rc = ngx_http_durable_read_body(r, ctx);
    if (rc == NGX_OK) {
        rc = ngx_http_durable_grpc_call(r, g);
    }

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_http_durable_grpc_call(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    dg_status_t              st;
    ngx_http_durable_ctx_t  *ctx = &g->base;

    if (ngx_http_durable_grpc_deframe(r, g, &st) != NGX_OK) {
        return ngx_http_durable_grpc_status(r, st.code, "%*s", st.len,
                                            st.message);
    }

    if (g->has_deadline
        && (ngx_msec_int_t) (g->deadline - ngx_current_msec) <= 0)
    {
        return ngx_http_durable_grpc_status(r, DG_DEADLINE_EXCEEDED,
                   "The deadline passed before the call was served.");
    }

    if (ngx_http_durable_store_ready(r, ctx) != NGX_OK) {
        return ngx_http_durable_grpc_status(r, DG_UNAVAILABLE, "%V",
                                            &ctx->err);
    }

    return g->rpc->handler(r, g);
}


/* an answer before the request body was read: it is discarded */

static ngx_int_t
ngx_http_durable_grpc_refuse(ngx_http_request_t *r, ngx_uint_t code,
    const char *fmt, ...)
{
    ngx_int_t  rc;
    va_list    args;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    va_start(args, fmt);
    rc = ngx_http_durable_grpc_vstatus(r, code, fmt, args);
    va_end(args);

    return rc;
}


/*
 * Ends the call with a status: a Trailers-Only answer (one HEADERS frame
 * that ends the stream) when nothing was sent yet, the trailers of the
 * messages sent otherwise.
 */

ngx_int_t
ngx_http_durable_grpc_status(ngx_http_request_t *r, ngx_uint_t code,
    const char *fmt, ...)
{
    ngx_int_t  rc;
    va_list    args;

    va_start(args, fmt);
    rc = ngx_http_durable_grpc_vstatus(r, code, fmt, args);
    va_end(args);

    return rc;
}


static ngx_int_t
ngx_http_durable_grpc_vstatus(ngx_http_request_t *r, ngx_uint_t code,
    const char *fmt, va_list args)
{
    u_char  *p;
    u_char   text[DG_MESSAGE_MAX];

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "durable grpc: status %ui", code);

    p = fmt ? ngx_vslprintf(text, text + sizeof(text), fmt, args) : text;

    if (!r->header_sent) {
        if (ngx_http_durable_grpc_only(r, code, text, p - text) != NGX_OK) {
            return NGX_ERROR;
        }

        return ngx_http_send_header(r);
    }

    if (ngx_http_durable_grpc_fields(r, &r->headers_out.trailers, code,
                                     text, p - text)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_send_special(r, NGX_HTTP_LAST);
}


/* the headers of a Trailers-Only answer: one HEADERS frame, no body */

static ngx_int_t
ngx_http_durable_grpc_only(ngx_http_request_t *r, ngx_uint_t code,
    u_char *text, size_t len)
{
    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.status_line.len = 0;
    ngx_str_set(&r->headers_out.content_type, "application/grpc");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = -1;
    r->header_only = 1;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    return ngx_http_durable_grpc_fields(r, &r->headers_out.headers, code,
                                        text, len);
}


/* grpc-status and, when there is a text, grpc-message */

static ngx_int_t
ngx_http_durable_grpc_fields(ngx_http_request_t *r, ngx_list_t *list,
    ngx_uint_t code, u_char *text, size_t len)
{
    u_char  *msg, *status;
    size_t   n;

    status = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (status == NULL) {
        return NGX_ERROR;
    }

    n = ngx_sprintf(status, "%ui", code) - status;

    if (ngx_http_durable_grpc_header(r, list, "grpc-status", status, n)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (len == 0) {
        return NGX_OK;
    }

    n = dg_percent_encode_len((char *) text, len);

    msg = ngx_pnalloc(r->pool, n);
    if (msg == NULL) {
        return NGX_ERROR;
    }

    dg_percent_encode((char *) text, len, (char *) msg);

    return ngx_http_durable_grpc_header(r, list, "grpc-message", msg, n);
}


/* postconfiguration: the header filter below */

ngx_int_t
ngx_http_durable_grpc_init(ngx_conf_t *cf)
{
    ngx_http_durable_grpc_next_header = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_durable_grpc_header_filter;

    return NGX_OK;
}


/*
 * nginx answers some calls in HTTP, with a page that the SDKs cannot read
 * and report as a transport error: before the handler runs (deny, allow,
 * auth_request, limit_req, limit_conn, "return", a body over
 * client_max_body_size by its content-length) or while the handler reads
 * the body (too large, or not as long as its content-length), and when
 * the handler fails. On the gRPC endpoint such an answer becomes a
 * Trailers-Only status: HTTP 200, grpc-status and grpc-message in the
 * headers, no body (nginx sends none after a header-only answer). What
 * the handler answers in HTTP to a request that is not a gRPC call
 * (HTTP/1, not POST, another content type) stays as it is.
 *
 * $status keeps the HTTP status nginx decided (r->err_status, which the
 * log prefers to the status sent), so that the access log still tells a
 * deny or a rate limit; $durable_grpc_status tells what the client got.
 */

static ngx_int_t
ngx_http_durable_grpc_header_filter(ngx_http_request_t *r)
{
    u_char                        *p;
    u_char                         text[DG_MESSAGE_MAX];
    ngx_uint_t                     status;
    ngx_http_core_loc_conf_t      *clcf;
    ngx_http_durable_loc_conf_t   *dlcf;
    ngx_http_durable_grpc_page_t  *page;

    status = r->headers_out.status;

    if (status < NGX_HTTP_BAD_REQUEST || r != r->main) {
        return ngx_http_durable_grpc_next_header(r);
    }

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    if (dlcf == NULL || !dlcf->grpc
#if (NGX_HTTP_V2)
        || r->stream == NULL
#endif
        || !ngx_http_durable_grpc_media(r))
    {
        return ngx_http_durable_grpc_next_header(r);
    }

    /*
     * a body over the limit wherever the endpoint's flag is inherited:
     * nginx may refuse it before any handler runs
     */

    if (status != NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
        && !ngx_http_durable_grpc_is_call(r))
    {
        return ngx_http_durable_grpc_next_header(r);
    }

    for (page = ngx_http_durable_grpc_pages; page->http; page++) {
        if (page->http == status) {
            break;
        }
    }

    if (page->http == 0) {
        page = status >= NGX_HTTP_INTERNAL_SERVER_ERROR
               ? &ngx_http_durable_grpc_page_5xx
               : &ngx_http_durable_grpc_page_4xx;
    }

    if (status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
        clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

        p = ngx_slprintf(text, text + sizeof(text),
                         "%s (%O bytes, HTTP %ui).", page->text,
                         clcf->client_max_body_size, status);

    } else {
        p = ngx_slprintf(text, text + sizeof(text), "%s (HTTP %ui).",
                         page->text, status);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "durable grpc: the answer %ui as status %ui",
                   status, page->code);

    if (r->err_status == 0) {
        /* an answer of its own ("return 403 text"): logged as one */
        r->err_status = status;
    }

    if (ngx_http_durable_grpc_only(r, page->code, text, p - text) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_durable_grpc_next_header(r);
}


/*
 * A request of the endpoint that nginx answered is a call when the
 * handler took it as one, or, answered before the handler ran, when the
 * handler would have: HTTP/2 and application/grpc (the filter checked
 * them) and POST. The location may be the API's (dlcf->grpc is
 * inherited): only durable_task_grpc's own locations count.
 */

ngx_int_t
ngx_http_durable_grpc_is_call(ngx_http_request_t *r)
{
    ngx_http_durable_ctx_t    *ctx;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->handler != ngx_http_durable_grpc_handler) {
        return 0;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_durable_module);

    if (ctx == NULL) {
        return r->method == NGX_HTTP_POST;
    }

    return ngx_http_durable_grpc_ctx(ctx)->call;
}


/*
 * $durable_grpc_status: the grpc-status the answer carried, in its
 * headers (Trailers-Only) or in its trailers; not found when it carried
 * none (an HTTP answer, a call reset before its status)
 */

ngx_int_t
ngx_http_durable_grpc_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_uint_t        i, n;
    ngx_list_t       *lists[2];
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    lists[0] = &r->headers_out.headers;
    lists[1] = &r->headers_out.trailers;

    for (n = 0; n < 2; n++) {
        part = &lists[n]->part;
        h = part->elts;

        for (i = 0; /* void */ ; i++) {

            if (i >= part->nelts) {
                if (part->next == NULL) {
                    break;
                }

                part = part->next;
                h = part->elts;
                i = 0;
            }

            if (h[i].hash == 0
                || h[i].key.len != sizeof("grpc-status") - 1
                || ngx_strncasecmp(h[i].key.data, (u_char *) "grpc-status",
                                   sizeof("grpc-status") - 1)
                   != 0)
            {
                continue;
            }

            v->data = h[i].value.data;
            v->len = h[i].value.len;
            v->valid = 1;
            v->no_cacheable = 0;
            v->not_found = 0;

            return NGX_OK;
        }
    }

    v->not_found = 1;

    return NGX_OK;
}


/*
 * An operation's refusal or failure as a gRPC status, in the codec's
 * words; what is the store's fault is logged, once, here.
 */

ngx_int_t
ngx_http_durable_grpc_op_status(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g, ds_op_t *op)
{
    dg_status_t              st;
    ngx_http_durable_ctx_t  *ctx = &g->base;

    (void) dg_status_from_op(op, &st);

    switch (op->rc) {

    case DS_FULL:
        ngx_http_durable_metrics_error(NGX_HTTP_DURABLE_ERR_FULL);
        ngx_log_error(NGX_LOG_ERR, ngx_http_durable_log(r), 0,
                      "durable: store \"%V\" is full while serving "
                      "gRPC %V", &ctx->store->name, &g->rpc->name);
        break;

    case DS_ERROR:
        ngx_http_durable_metrics_error(NGX_HTTP_DURABLE_ERR_STORE);
        ngx_log_error(NGX_LOG_ERR, ngx_http_durable_log(r), 0,
                      "durable: store \"%V\" failed while serving gRPC "
                      "%V: %s", &ctx->store->name, &g->rpc->name,
                      ds_strerror(op->rc));
        break;

    case DS_STOPPED:
        /* the store logged the stop, and its refusals once a second */
        ngx_http_durable_metrics_error(NGX_HTTP_DURABLE_ERR_STOPPED);
        ngx_log_error(NGX_LOG_INFO, ngx_http_durable_log(r), 0,
                      "durable: store \"%V\" refused a write while serving "
                      "gRPC %V: %s", &ctx->store->name, &g->rpc->name,
                      ds_strerror(op->rc));
        break;

    case DS_UNAVAILABLE:
    case DS_SCHEMA:
        /* a database late or of another version: logged by the store */
        ngx_http_durable_metrics_error(NGX_HTTP_DURABLE_ERR_UNAVAILABLE);
        break;

    default:
        break;
    }

    return ngx_http_durable_grpc_status(r, st.code, "%*s", st.len,
                                        st.message);
}


/* a unary answer: the headers, one message, the trailers */

ngx_int_t
ngx_http_durable_grpc_reply(ngx_http_request_t *r,
    const ProtobufCMessage *msg)
{
    ngx_int_t                rc;
    ngx_http_durable_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_durable_module);

    rc = ngx_http_durable_grpc_stream_open(r, ngx_http_durable_grpc_ctx(ctx));
    if (rc == NGX_ERROR || rc > NGX_OK) {
        return rc;
    }

    rc = ngx_http_durable_grpc_stream_send(r, msg);
    if (rc == NGX_ERROR) {
        return rc;
    }

    return ngx_http_durable_grpc_status(r, DG_OK, NULL);
}


/*
 * Packs an answer into g->frame: in a read's done(), while the store
 * holds the bytes the answer points to.
 */

ngx_int_t
ngx_http_durable_grpc_pack(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g, const ProtobufCMessage *msg)
{
    int  rc;

    rc = dg_pack(msg, ngx_http_durable_grpc_mem(r->pool), &g->frame,
                 &g->frame_len);

    return rc == DG_OK ? NGX_OK : NGX_ERROR;
}


/* a unary answer packed before with ngx_http_durable_grpc_pack() */

ngx_int_t
ngx_http_durable_grpc_reply_frame(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    ngx_int_t  rc;

    if (g->frame == NULL) {
        return ngx_http_durable_grpc_status(r, DG_INTERNAL,
                   "The answer could not be made.");
    }

    rc = ngx_http_durable_grpc_stream_open(r, g);
    if (rc == NGX_ERROR || rc > NGX_OK) {
        return rc;
    }

    rc = ngx_http_durable_grpc_send_frame(r, g->frame, g->frame_len);
    if (rc == NGX_ERROR) {
        return rc;
    }

    return ngx_http_durable_grpc_status(r, DG_OK, NULL);
}


/* what the codec refused, in its words */

ngx_int_t
ngx_http_durable_grpc_codec_status(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    return ngx_http_durable_grpc_status(r, g->dc.status.code, "%*s",
                                        g->dc.status.len,
                                        g->dc.status.message);
}


/* the headers of an answer with messages; the status follows them */

ngx_int_t
ngx_http_durable_grpc_stream_open(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    r->headers_out.status = NGX_HTTP_OK;
    ngx_str_set(&r->headers_out.content_type, "application/grpc");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_length_n = -1;
    r->expect_trailers = 1;

    g->streaming = 1;

    return ngx_http_send_header(r);
}


ngx_int_t
ngx_http_durable_grpc_stream_send(ngx_http_request_t *r,
    const ProtobufCMessage *msg)
{
    size_t    len;
    uint8_t  *frame;

    if (dg_pack(msg, ngx_http_durable_grpc_mem(r->pool), &frame, &len)
        != DG_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_durable_grpc_send_frame(r, frame, len);
}


/* a message packed before, flushed to the client */

ngx_int_t
ngx_http_durable_grpc_send_frame(ngx_http_request_t *r, u_char *frame,
    size_t len)
{
    ngx_buf_t    *b;
    ngx_chain_t   out;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = frame;
    b->last = frame + len;
    b->memory = 1;
    b->flush = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* what is left of the call's deadline, at most max ms */

ngx_msec_t
ngx_http_durable_grpc_left(ngx_http_durable_grpc_ctx_t *g, ngx_msec_t max)
{
    ngx_msec_int_t  left;

    if (!g->has_deadline) {
        return max;
    }

    left = (ngx_msec_int_t) (g->deadline - ngx_current_msec);

    if (left <= 0) {
        return 0;
    }

    return ngx_min((ngx_msec_t) left, max);
}


/* application/grpc, alone or with a "+format" or parameters */

static ngx_int_t
ngx_http_durable_grpc_media(ngx_http_request_t *r)
{
    u_char     *p;
    size_t      len;
    ngx_str_t  *type;

    if (r->headers_in.content_type == NULL) {
        return 0;
    }

    type = &r->headers_in.content_type->value;

    len = sizeof("application/grpc") - 1;

    if (type->len < len
        || ngx_strncasecmp(type->data, (u_char *) "application/grpc", len)
           != 0)
    {
        return 0;
    }

    if (type->len == len) {
        return 1;
    }

    p = type->data + len;

    return *p == '+' || *p == ';';
}


/* "/TaskHubSidecarService/<Method>": the contract declares no package */

static const ngx_http_durable_grpc_rpc_t *
ngx_http_durable_grpc_method(ngx_http_request_t *r)
{
    u_char                       *name;
    size_t                        len, n;
    ngx_http_durable_grpc_rpc_t  *rpc;

    n = sizeof(NGX_HTTP_DURABLE_GRPC_SERVICE) - 1;

    if (r->uri.len <= n
        || ngx_strncmp(r->uri.data, NGX_HTTP_DURABLE_GRPC_SERVICE, n) != 0)
    {
        return NULL;
    }

    name = r->uri.data + n;
    len = r->uri.len - n;

    for (rpc = ngx_http_durable_grpc_rpcs; rpc->name.len; rpc++) {
        if (rpc->name.len == len
            && ngx_strncmp(rpc->name.data, name, len) == 0)
        {
            return rpc;
        }
    }

    return NULL;
}


/*
 * grpc-timeout: at most 8 digits and a unit, H M S m u n. A deadline
 * under a millisecond counts as one; the waits are what it bounds.
 */

static ngx_int_t
ngx_http_durable_grpc_timeout(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    u_char           *p, unit;
    size_t            len, i;
    uint64_t          n, ms;
    ngx_table_elt_t  *h;

    h = ngx_http_durable_header_in(r, "grpc-timeout",
                                   sizeof("grpc-timeout") - 1);
    if (h == NULL) {
        return NGX_OK;
    }

    p = h->value.data;
    len = h->value.len;

    if (len < 2 || len > 9) {
        goto invalid;
    }

    n = 0;

    for (i = 0; i < len - 1; i++) {
        if (p[i] < '0' || p[i] > '9') {
            goto invalid;
        }

        n = n * 10 + (p[i] - '0');
    }

    unit = p[len - 1];

    switch (unit) {
    case 'H':
        ms = n * 3600000;
        break;
    case 'M':
        ms = n * 60000;
        break;
    case 'S':
        ms = n * 1000;
        break;
    case 'm':
        ms = n;
        break;
    case 'u':
        ms = (n + 999) / 1000;
        break;
    case 'n':
        ms = (n + 999999) / 1000000;
        break;
    default:
        goto invalid;
    }

    /* beyond the longest wait the module holds, it changes nothing */

    if (ms > (uint64_t) NGX_HTTP_DURABLE_WAIT_MAX * 1000) {
        return NGX_OK;
    }

    g->has_deadline = 1;
    g->deadline = ngx_current_msec + (ngx_msec_t) ms;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "durable grpc: deadline in %uLms", ms);

    return NGX_OK;

invalid:

    return ngx_http_durable_set_error(r, &g->base, NGX_HTTP_BAD_REQUEST,
               "The grpc-timeout '%V' is not 1 to 8 digits and a unit "
               "(H, M, S, m, u, n).", &h->value);
}


/*
 * Keys as the HTTP API takes them (ngx_http_durable_auth.c): the bearer
 * token of "authorization" stands where the API's "code" parameter
 * does, so "x-functions-key" comes first and the token counts only
 * without it. The route says which keys: a worker
 * call's (Hello, GetWorkItems, Complete*, Abandon*) worker keys, the
 * others system keys, an unknown method either, so that nobody without a
 * key learns which methods exist.
 */

static ngx_int_t
ngx_http_durable_grpc_keys(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    size_t                   len;
    ngx_table_elt_t         *h;
    ngx_http_durable_ctx_t  *ctx = &g->base;

    if (g->rpc == NULL) {
        ctx->route.op = DS_ROUTE_OP_NONE;

    } else if (g->rpc->worker) {
        ctx->route.op = DS_ROUTE_OP_WORKER;

    } else {
        ctx->route.op = DS_ROUTE_OP_STATUS;
    }

    h = ngx_http_durable_header_in(r, "authorization",
                                   sizeof("authorization") - 1);

    len = sizeof("Bearer ") - 1;

    if (h && h->value.len > len
        && ngx_strncasecmp(h->value.data, (u_char *) "Bearer ", len) == 0)
    {
        ctx->query.v[DS_ROUTE_Q_CODE].data = (char *) h->value.data + len;
        ctx->query.v[DS_ROUTE_Q_CODE].len = h->value.len - len;
    }

    if (ngx_http_durable_authenticate(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the hub, as the Scheduler's SDK packages send it */

    h = ngx_http_durable_header_in(r, "taskhub", sizeof("taskhub") - 1);

    if (h) {
        ctx->query.v[DS_ROUTE_Q_TASKHUB].data = (char *) h->value.data;
        ctx->query.v[DS_ROUTE_Q_TASKHUB].len = h->value.len;
    }

    return NGX_OK;
}


/*
 * Unary and server-streaming calls carry exactly one request message:
 * the body must be one frame, read by the codec. What it refuses keeps
 * its code (a compressed message is UNIMPLEMENTED, one over the limit
 * RESOURCE_EXHAUSTED); a body that is not one whole message is the
 * client's mistake, INVALID_ARGUMENT.
 */

static ngx_int_t
ngx_http_durable_grpc_deframe(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g, dg_status_t *st)
{
    int                      rc;
    size_t                   len;
    dg_reader_t              rd;
    const uint8_t           *p;
    ngx_http_core_loc_conf_t *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    p = g->base.body.data;
    len = g->base.body.len;

    dg_reader_init(&rd, clcf->client_max_body_size > 0
                        ? (size_t) clcf->client_max_body_size : len,
                   ngx_http_durable_grpc_mem(r->pool));

    rc = dg_reader_feed(&rd, &p, &len);

    if (rc == DG_FRAME_TOO_LARGE && clcf->client_max_body_size == 0) {
        /* no limit but the body's end, which the message goes past */
        rc = DG_FRAME_MORE;
    }

    switch (rc) {

    case DG_FRAME_MESSAGE:
        if (len == 0) {
            g->msg.data = (u_char *) rd.msg;
            g->msg.len = rd.msg_len;
            return NGX_OK;
        }

        dg_status_set(st, DG_INVALID_ARGUMENT,
                      "the request has more than one message");
        return NGX_ERROR;

    case DG_FRAME_MORE:
        if (rd.have_prefix == 0) {
            dg_status_set(st, DG_INVALID_ARGUMENT,
                          "the request has no message");
            return NGX_ERROR;
        }

        (void) dg_reader_status(&rd, rc, st);
        st->code = DG_INVALID_ARGUMENT;
        return NGX_ERROR;

    case DG_FRAME_BAD_FLAG:
        (void) dg_reader_status(&rd, rc, st);
        st->code = DG_INVALID_ARGUMENT;
        return NGX_ERROR;

    default:
        (void) dg_reader_status(&rd, rc, st);
        return NGX_ERROR;
    }
}


/*
 * The request message as the method's type; NULL: g->dc.status says why
 * (ngx_http_durable_grpc_codec_status() answers it), INVALID_ARGUMENT for
 * a malformed message, RESOURCE_EXHAUSTED when the pool ran out.
 */

ProtobufCMessage *
ngx_http_durable_grpc_unpack(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g, const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage  *m;

    m = dg_request_unpack(&g->dc, desc, g->msg.data, g->msg.len);

    if (m == NULL) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "durable grpc: %s refused, status %d",
                       desc->name, g->dc.status.code);
    }

    return m;
}


static ngx_int_t
ngx_http_durable_grpc_header(ngx_http_request_t *r, ngx_list_t *list,
    const char *name, u_char *value, size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(list);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = value;
    h->value.len = len;

    return NGX_OK;
}


static void *
ngx_http_durable_grpc_alloc(void *pool, size_t size)
{
    return ngx_palloc(pool, size);
}


/* the codec's allocator: the request's pool */

dg_mem_t
ngx_http_durable_grpc_mem(ngx_pool_t *pool)
{
    dg_mem_t  mem;

    mem.alloc = ngx_http_durable_grpc_alloc;
    mem.data = pool;

    return mem;
}
