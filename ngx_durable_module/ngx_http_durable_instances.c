
/*
 * Copyright (C) ngx_durable authors
 *
 * Reading and purging instances: GET B/instances/{id} (with the wait
 * long-poll), GET B/instances, DELETE B/instances/{id} and
 * DELETE B/instances?createdTimeFrom=...
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_instances.h"
#include "ngx_http_durable_history.h"
#include "ngx_http_durable_log.h"
#include "ngx_http_durable_params.h"
#include "ngx_http_durable_render.h"
#include "ngx_http_durable_store.h"
#include "ngx_http_durable_variables.h"
#include "ngx_http_durable_wait.h"
#include "ngx_http_durable_writer.h"


/* a status long-poll reads again without a notification (a purge) */
#define NGX_HTTP_DURABLE_REREAD        1000    /* ms */


/* how a status read answers an instance that is still active */
typedef enum {
    NGX_HTTP_DURABLE_VIEW_NOW = 0,      /* answer it */
    NGX_HTTP_DURABLE_VIEW_BEGIN,        /* begin the wait= long-poll */
    NGX_HTTP_DURABLE_VIEW_AGAIN         /* wait on, unless it changed */
} ngx_http_durable_view_e;


/*
 * A status read, made once per request and used by every read of its
 * wait: what its done() found and rendered.
 */
typedef struct {
    ds_op_t                     op;
    ngx_http_durable_call_t     call;
    ngx_http_request_t         *request;
    ngx_http_durable_ctx_t     *ctx;
    ngx_http_durable_view_e     mode;
    ngx_msec_t                  wait;       /* VIEW_BEGIN */
    ngx_str_t                   body;
    ds_status_e                 status;
    ngx_int_t                   rc;
} ngx_http_durable_view_t;


/* an instance list page, rendered while the store reads it */
typedef struct {
    ds_op_t                     op;
    ds_query_t                  query;
    u_char                      token[DS_TOKEN_MAX];
    ngx_http_request_t         *request;
    ngx_uint_t                  show_input;
    ngx_chain_t                *first;
    ngx_chain_t               **last;
    off_t                       len;
    ngx_uint_t                  count;
    size_t                      max_bytes;
    ngx_uint_t                  full;
    ngx_uint_t                  skipped;    /* read after the page was full */
    u_char                      cut[DS_TOKEN_MAX]; /* a page cut short's */
    size_t                      cut_len;
} ngx_http_durable_list_ctx_t;


static ngx_int_t ngx_http_durable_status_read(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_view_e mode,
    ngx_msec_t wait);
static void ngx_http_durable_status_got(ds_op_t *op);
static ngx_int_t ngx_http_durable_status_answer(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static ngx_int_t ngx_http_durable_status_wait(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t expired);
static int ngx_http_durable_list_item(void *data, ds_str_t id,
    const ds_instance_t *inst);
static ngx_int_t ngx_http_durable_list_answer(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static ngx_int_t ngx_http_durable_purge_one_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static ngx_int_t ngx_http_durable_purge_batch_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static ngx_int_t ngx_http_durable_purge_next(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static void ngx_http_durable_purge_pause(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
static void ngx_http_durable_purge_resume(ngx_event_t *ev);


ngx_int_t
ngx_http_durable_parse_view(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx)
{
    ngx_uint_t  show_input, show_history, show_output, return500;

    if (ngx_http_durable_param_bool(r, ctx, DS_ROUTE_Q_SHOWINPUT, 1,
                                    &show_input)
        != NGX_OK
        || ngx_http_durable_param_bool(r, ctx,
                                       DS_ROUTE_Q_SHOWHISTORY, 0,
                                       &show_history)
           != NGX_OK
        || ngx_http_durable_param_bool(r, ctx,
                                       DS_ROUTE_Q_SHOWHISTORYOUTPUT,
                                       0, &show_output)
           != NGX_OK
        || ngx_http_durable_param_bool(r, ctx, DS_ROUTE_Q_RETURN500,
                                       0, &return500)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->show_input = show_input;
    ctx->show_history = show_history;
    ctx->show_output = show_output;
    ctx->return500 = return500;

    return NGX_OK;
}


ngx_int_t
ngx_http_durable_status(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx)
{
    ngx_msec_t                    wait;
    ngx_http_durable_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    wait = 0;

    if (ngx_http_durable_parse_view(r, ctx) != NGX_OK
        || (ctx->query.set[DS_ROUTE_Q_WAIT]
            && ngx_http_durable_param_seconds(r, ctx,
                                              DS_ROUTE_Q_WAIT,
                                              dlcf->max_wait, &wait)
               != NGX_OK))
    {
        return ngx_http_durable_fail(r, ctx);
    }

    ctx->wait_id.data = (u_char *) ctx->route.id.data;
    ctx->wait_id.len = ctx->route.id.len;

    if (wait == 0) {
        return ngx_http_durable_status_read(r, ctx, NGX_HTTP_DURABLE_VIEW_NOW,
                                            0);
    }

    /* long-poll: answer as soon as the status changes */

    ngx_http_durable_wait_mark(ctx);

    return ngx_http_durable_status_read(r, ctx, NGX_HTTP_DURABLE_VIEW_BEGIN,
                                        wait);
}


static ngx_int_t
ngx_http_durable_status_wait(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t expired)
{
    ngx_int_t  rc;

    rc = ngx_http_durable_status_read(r, ctx,
                                      expired ? NGX_HTTP_DURABLE_VIEW_NOW
                                              : NGX_HTTP_DURABLE_VIEW_AGAIN,
                                      0);

    return ngx_http_durable_wait_answered(rc);
}


/*
 * Reads the instance; the answer follows the status table of
 * docs/http-api.md. Outside VIEW_NOW an instance whose status has not
 * changed since the wait began is not answered: the request waits.
 */

static ngx_int_t
ngx_http_durable_status_read(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_view_e mode,
    ngx_msec_t wait)
{
    ngx_http_durable_view_t  *v;

    v = ctx->wait_read;

    if (v == NULL) {
        v = ngx_palloc(r->pool, sizeof(ngx_http_durable_view_t));
        if (v == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->wait_read = v;
    }

    ngx_memzero(&v->op, sizeof(ds_op_t));

    v->request = r;
    v->ctx = ctx;
    v->mode = mode;
    v->wait = wait;
    v->rc = NGX_OK;
    ngx_str_null(&v->body);

    v->op.type = DS_OP_STATUS;
    v->op.hub = ngx_http_durable_ds_str(&ctx->hub);
    v->op.in.control.id = ngx_http_durable_ds_str(&ctx->wait_id);
    v->op.in.control.history = ctx->show_history;
    v->op.done = ngx_http_durable_status_got;
    v->op.data = v;

    ngx_http_durable_call_init(&v->call, r, &v->op,
                               ngx_http_durable_status_answer);

    return ngx_http_durable_call_submit(r, ctx->store, &v->call,
                                        NGX_HTTP_DURABLE_HOLD);
}


static ngx_int_t
ngx_http_durable_status_answer(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    ngx_str_t                     url;
    ngx_uint_t                    status;
    ngx_http_durable_view_t      *v;
    ngx_http_durable_loc_conf_t  *dlcf;

    static ngx_str_t  retry = ngx_string("5");

    v = c->op->data;

    if (v->rc == NGX_DECLINED) {
        /* still active, as it was when the wait began */

        if (v->mode == NGX_HTTP_DURABLE_VIEW_BEGIN) {
            return ngx_http_durable_wait(r, ctx, v->wait,
                                         NGX_HTTP_DURABLE_REREAD,
                                         ngx_http_durable_status_wait);
        }

        return ngx_http_durable_wait_again(r, ctx);
    }

    if (c->rc == DS_NOTFOUND) {
        return ngx_http_durable_send(r, NGX_HTTP_NOT_FOUND, NULL);
    }

    if (c->rc != DS_OK) {
        return ngx_http_durable_store_error(r, ctx, c->rc, "reading");
    }

    if (v->rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    switch (v->status) {

    case DS_COMPLETED:
        status = NGX_HTTP_OK;
        break;

    case DS_FAILED:
        status = (ctx->return500 || dlcf->v1_status_codes)
                 ? NGX_HTTP_INTERNAL_SERVER_ERROR : NGX_HTTP_OK;
        break;

    case DS_TERMINATED:
    case DS_CANCELED:
        status = dlcf->v1_status_codes ? NGX_HTTP_BAD_REQUEST : NGX_HTTP_OK;
        break;

    default:
        if (ngx_http_durable_request_url(r, ctx, &url) != NGX_OK
            || ngx_http_durable_add_header(r, "Location", &url) != NGX_OK
            || ngx_http_durable_add_header(r, "Retry-After", &retry)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        status = NGX_HTTP_ACCEPTED;
    }

    return ngx_http_durable_send(r, status, &v->body);
}


/*
 * The status read, while the store holds the record: an instance still
 * active as when the wait began is not answered (v->rc NGX_DECLINED);
 * any other is rendered.
 */

static void
ngx_http_durable_status_got(ds_op_t *op)
{
    ngx_http_durable_view_t  *v = op->data;

    const ds_instance_t     *inst;
    ngx_http_durable_ctx_t  *ctx;

    ctx = v->ctx;
    inst = op->out.status.inst;

    if (v->mode != NGX_HTTP_DURABLE_VIEW_NOW
        && op->rc == DS_OK && !ds_status_is_terminal(inst->status))
    {
        if (!ctx->waiting) {
            ctx->wait_status = inst->status;
            v->rc = NGX_DECLINED;
            return;
        }

        if (inst->status == ctx->wait_status) {
            v->rc = NGX_DECLINED;
            return;
        }
    }

    if (op->rc != DS_OK) {
        return;
    }

    v->status = inst->status;

    if (ngx_http_durable_render_view(v->request, ctx, op, &v->body)
        != NGX_OK)
    {
        v->rc = NGX_ERROR;
    }
}


/* the status payload of ctx->wait_id, with history when asked for */

ngx_int_t
ngx_http_durable_render_view(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_op_t *op, ngx_str_t *out)
{
    ngx_str_t             history, *hist;
    const ds_instance_t  *inst;

    inst = op->out.status.inst;

    ngx_http_durable_log_status(ctx, inst->status);

    hist = NULL;

    if (ctx->show_history && inst->status != DS_PENDING) {
        if (ngx_http_durable_render_history(r, op, ctx->show_input,
                                            ctx->show_output, &history)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        hist = history.len ? &history : NULL;
    }

    return ngx_http_durable_render_status(r, &ctx->wait_id,
                                          (ds_instance_t *) inst,
                                          ctx->show_input, hist, out);
}


ngx_int_t
ngx_http_durable_list(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx)
{
    unsigned                      mask;
    ds_query_t                   *q;
    ngx_uint_t                    top, show_input;
    ds_str_t                     *prefix;
    ngx_http_durable_list_ctx_t  *lc;
    ngx_http_durable_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    /* the op, its query and its output outlive this call: an answer */

    lc = ngx_pcalloc(r->pool, sizeof(ngx_http_durable_list_ctx_t));
    if (lc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q = &lc->query;

    if (ngx_http_durable_param_time(r, ctx, DS_ROUTE_Q_CREATEDFROM,
                                    0, INT64_MIN, &q->created_from)
        != NGX_OK
        || ngx_http_durable_param_time(r, ctx, DS_ROUTE_Q_CREATEDTO,
                                       1, INT64_MAX, &q->created_to)
           != NGX_OK
        || ngx_http_durable_param_statuses(r, ctx, &mask) != NGX_OK
        || ngx_http_durable_param_bool(r, ctx, DS_ROUTE_Q_SHOWINPUT,
                                       1, &show_input)
           != NGX_OK
        || ngx_http_durable_param_uint(r, ctx, DS_ROUTE_Q_TOP, 100, 1,
                                       dlcf->max_top, &top)
           != NGX_OK)
    {
        return ngx_http_durable_fail(r, ctx);
    }

    prefix = &ctx->query.v[DS_ROUTE_Q_IDPREFIX];

    q->status_mask = mask;
    q->id_prefix.data = (const char *) prefix->data;
    q->id_prefix.len = prefix->len;
    q->top = top;
    q->scan_budget = ngx_max(dlcf->scan_budget, top);

    if (ngx_http_durable_token_in(r, ctx, &q->token) != NGX_OK) {
        return ngx_http_durable_fail(r, ctx);
    }

    lc->request = r;
    lc->show_input = show_input;
    lc->first = NULL;
    lc->last = &lc->first;
    lc->len = 0;
    lc->count = 0;
    lc->max_bytes = dlcf->list_max_bytes;

    lc->op.type = DS_OP_LIST;
    lc->op.hub = ngx_http_durable_ds_str(&ctx->hub);
    lc->op.in.list.query = q;
    lc->op.in.list.item = ngx_http_durable_list_item;
    lc->op.in.list.item_data = lc;
    lc->op.in.list.token = (char *) lc->token;

    return ngx_http_durable_submit(r, ctx, &lc->op,
                                   ngx_http_durable_list_answer);
}


static ngx_int_t
ngx_http_durable_list_answer(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    ngx_buf_t                    *b;
    ngx_str_t                     value;
    ngx_chain_t                  *cl;
    ngx_http_durable_list_ctx_t  *lc;

    lc = c->op->in.list.item_data;

    if (c->rc == DS_INVALID) {
        return ngx_http_durable_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "The continuation token is not valid.");
    }

    if (c->rc != DS_OK) {
        return ngx_http_durable_store_error(r, ctx, c->rc, "listing");
    }

    if ((lc->skipped
         ? ngx_http_durable_token_out(r, lc->cut, lc->cut_len)
         : ngx_http_durable_token_out(r, lc->token,
                                      c->op->out.list.token_len))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (lc->count == 0) {
        ngx_str_set(&value, "[]");
        return ngx_http_durable_send(r, NGX_HTTP_OK, &value);
    }

    /* each item carries the '[' or ',' before it; the ']' comes last */

    b = ngx_calloc_buf(r->pool);
    cl = ngx_alloc_chain_link(r->pool);
    if (b == NULL || cl == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = (u_char *) "]";
    b->last = b->pos + 1;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    cl->buf = b;
    cl->next = NULL;
    *lc->last = cl;
    lc->len++;

    return ngx_http_durable_send_chain(r, NGX_HTTP_OK, lc->first, lc->len);
}


static int
ngx_http_durable_list_item(void *data, ds_str_t id, const ds_instance_t *inst)
{
    ngx_http_durable_list_ctx_t  *lc = data;

    ngx_buf_t    *b;
    ngx_str_t     body, sid;
    ngx_chain_t  *cl;

    /*
     * A page takes no item that would carry its body past
     * durable_task_list_max_bytes, but its first: it ends with the token
     * after its last item, whatever the store read beyond it, so that
     * large inputs cannot make a page (and the request's pool) grow to
     * top times their size.
     */

    if (lc->full) {
        lc->skipped++;
        return 0;
    }

    sid.data = (u_char *) id.data;
    sid.len = id.len;

    if (ngx_http_durable_render_status(lc->request, &sid,
                                       (ds_instance_t *) inst, lc->show_input,
                                       NULL, &body)
        != NGX_OK)
    {
        return 1;
    }

    if (lc->max_bytes && lc->count && lc->cut_len
        && (size_t) lc->len + body.len + 1 > lc->max_bytes)
    {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, lc->request->connection->log, 0,
                       "durable list: page full at %O bytes, %ui items",
                       lc->len, lc->count);

        lc->full = 1;
        lc->skipped++;
        return 0;
    }

    b = ngx_calloc_buf(lc->request->pool);
    cl = ngx_alloc_chain_link(lc->request->pool);
    if (b == NULL || cl == NULL) {
        return 1;
    }

    /* the byte before each item, '[' or ',', is written into its buffer */

    b->start = ngx_pnalloc(lc->request->pool, body.len + 1);
    if (b->start == NULL) {
        return 1;
    }

    b->pos = b->start;
    b->start[0] = lc->count ? ',' : '[';
    b->last = ngx_cpymem(b->start + 1, body.data, body.len);
    b->end = b->last;
    b->temporary = 1;

    cl->buf = b;
    cl->next = NULL;
    *lc->last = cl;
    lc->last = &cl->next;

    lc->len += body.len + 1;
    lc->count++;

    if (lc->max_bytes) {
        /* the token after this item, should the page end with it */
        lc->cut_len = ds_list_token(inst->created, id, (char *) lc->cut);
    }

    return 0;
}


ngx_int_t
ngx_http_durable_purge_one(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx)
{
    ds_op_t  *op;

    op = ngx_pcalloc(r->pool, sizeof(ds_op_t));
    if (op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    op->type = DS_OP_PURGE;
    op->hub = ngx_http_durable_ds_str(&ctx->hub);
    op->in.control.id = ngx_http_durable_ds_str(&ctx->route.id);

    return ngx_http_durable_submit(r, ctx, op,
                                   ngx_http_durable_purge_one_done);
}


static ngx_int_t
ngx_http_durable_purge_one_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    ngx_str_t  body;
    ds_str_t   none = { NULL, 0 };

    switch (c->rc) {

    case DS_OK:
        ngx_http_durable_lifecycle(r, c->op->in.control.id, "purged", none);
        ngx_str_set(&body, "{\"instancesDeleted\":1}");
        return ngx_http_durable_send(r, NGX_HTTP_OK, &body);

    case DS_NOTFOUND:
        return ngx_http_durable_send(r, NGX_HTTP_NOT_FOUND, NULL);

    case DS_PRECONDITION:
        ngx_http_durable_log_status(ctx, c->op->out.control.status);
        return ngx_http_durable_send_json_string(r,
                   NGX_HTTP_PRECONDITION_FAILED,
                   "Only orchestrations in a terminal state can be purged, "
                   "but the orchestration with instance ID %*s has status %s",
                   ctx->route.id.len, ctx->route.id.data,
                   ds_status_name(c->op->out.control.status));

    default:
        return ngx_http_durable_store_error(r, ctx, c->rc, c->what);
    }
}


/*
 * Purge by filter runs in batches, each its own write, with the event loop
 * free between them: a huge purge never holds anything long. It is
 * background work, paced (durable_task_purge_pace): after a batch that
 * took T, the next one waits on a timer for T * (100 - pace) / pace, so
 * that the purge takes at most that share of the writer and of a core.
 * Other writes run in batches of their own meanwhile.
 */

ngx_int_t
ngx_http_durable_purge_many(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx)
{
    unsigned                      mask;
    ds_op_t                      *op;
    ngx_http_durable_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    ngx_memzero(&ctx->purge, sizeof(ds_query_t));

    if (!ctx->query.set[DS_ROUTE_Q_CREATEDFROM]
        || ctx->query.v[DS_ROUTE_Q_CREATEDFROM].len == 0)
    {
        return ngx_http_durable_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "Please provide value for 'createdTimeFrom' parameter.");
    }

    if (ngx_http_durable_param_time(r, ctx, DS_ROUTE_Q_CREATEDFROM,
                                    0, 0, &ctx->purge.created_from)
        != NGX_OK
        || ngx_http_durable_param_time(r, ctx, DS_ROUTE_Q_CREATEDTO,
                                       1, ds_time_now(), &ctx->purge.created_to)
           != NGX_OK
        || ngx_http_durable_param_statuses(r, ctx, &mask) != NGX_OK)
    {
        return ngx_http_durable_fail(r, ctx);
    }

    /* only terminal instances are ever purged */

    if (mask && (mask & DS_TERMINAL_MASK) == 0) {
        return ngx_http_durable_send(r, NGX_HTTP_NOT_FOUND, NULL);
    }

    op = ngx_pcalloc(r->pool, sizeof(ds_op_t));
    if (op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->purge.status_mask = mask & DS_TERMINAL_MASK;
    ctx->purged = 0;
    ctx->purge_op = op;
    ctx->purge_owed = 0;

    op->type = DS_OP_PURGE_BATCH;
    op->hub = ngx_http_durable_ds_str(&ctx->hub);
    op->in.purge.query = &ctx->purge;
    op->in.purge.max = dlcf->purge_batch;

    /* 0: a batch ends after its first instance */
    op->in.purge.max_us = dlcf->purge_batch_time
                          ? (int64_t) dlcf->purge_batch_time * 1000 : -1;

    return ngx_http_durable_submit(r, ctx, op,
                                   ngx_http_durable_purge_batch_done);
}


static ngx_int_t
ngx_http_durable_purge_batch_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    ds_op_t  *op = c->op;

    u_char                       *p;
    ngx_str_t                     body;
    ngx_http_durable_loc_conf_t  *dlcf;

    /*
     * a batch copies every page it changes before the pages it frees can
     * be reused: in a store full up to its reserve a large batch may not
     * fit where a smaller one does
     */

    if (c->rc == DS_FULL && op->in.purge.max > 1) {
        op->in.purge.max /= 2;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "durable purge: store full, batches of %uz",
                       op->in.purge.max);

        return ngx_http_durable_submit(r, ctx, op,
                                       ngx_http_durable_purge_batch_done);
    }

    if (c->rc != DS_OK) {
        return ngx_http_durable_store_error(r, ctx, c->rc, c->what);
    }

    ctx->purged += op->out.purge.deleted;

    /* a batch deletes without naming what it deleted: its count only */

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    if (dlcf->lifecycle_log && op->out.purge.deleted) {
        ngx_log_error(NGX_LOG_INFO, ngx_http_durable_log(r), 0,
                      "durable: %uz instances of hub \"%V\": purged "
                      "(by filter)", op->out.purge.deleted, &ctx->hub);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "durable purge: %ui deleted, more:%d", ctx->purged,
                   op->out.purge.more);

    if (op->out.purge.more) {
        return ngx_http_durable_purge_next(r, ctx, c);
    }

    if (ctx->purged == 0) {
        return ngx_http_durable_send(r, NGX_HTTP_NOT_FOUND, NULL);
    }

    p = ngx_pnalloc(r->pool, sizeof("{\"instancesDeleted\":}") - 1
                             + NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.data = p;
    body.len = ngx_sprintf(p, "{\"instancesDeleted\":%ui}", ctx->purged) - p;

    return ngx_http_durable_send(r, NGX_HTTP_OK, &body);
}


/*
 * The next batch of a purge, at once or after a pause that the batch
 * just done earned. The pause is made in whole milliseconds (nginx's
 * timers); what is left of it is owed to the next one. While it lasts,
 * the request is held as if a batch were on its way (count, blocked):
 * a client that goes away meanwhile does not stop the purge, just as it
 * does not during a batch. A process that shuts down purges without
 * pausing: the timer is not cancelable (it must fire for the purge to
 * go on), so a long pause is made a second at a time, and one that a
 * shutdown finds running ends with its current second.
 */

static ngx_int_t
ngx_http_durable_purge_next(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    uint64_t                      took;
    ngx_event_t                  *ev;
    ngx_http_durable_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    if (ngx_exiting) {
        ctx->purge_owed = 0;

    } else if (dlcf->purge_pace < 100) {
        /* from the submit to the answer: queued, applied and committed */
        took = ngx_http_durable_usec() - c->queued;

        ctx->purge_owed += took * (100 - dlcf->purge_pace)
                           / dlcf->purge_pace;
    }

    if (ctx->purge_owed < 1000) {
        return ngx_http_durable_submit(r, ctx, ctx->purge_op,
                                       ngx_http_durable_purge_batch_done);
    }

    ev = ctx->purge_ev;

    if (ev == NULL) {
        ev = ngx_pcalloc(r->pool, sizeof(ngx_event_t));
        if (ev == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ev->handler = ngx_http_durable_purge_resume;
        ev->data = r;
        ev->log = r->connection->log;

        ctx->purge_ev = ev;
    }

    ngx_http_durable_purge_pause(r, ctx);

    r->main->count++;
    r->main->blocked++;
    r->aio = 1;

    return NGX_DONE;
}


/* arms the next second at most of the pause owed, 1 ms at least */

static void
ngx_http_durable_purge_pause(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx)
{
    ngx_msec_t  pause;

    pause = (ngx_msec_t) ngx_min(ctx->purge_owed / 1000, 1000);

    ctx->purge_owed -= (uint64_t) pause * 1000;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "durable purge: pause %Mms after %ui deleted",
                   pause, ctx->purged);

    ngx_add_timer(ctx->purge_ev, pause);
}


static void
ngx_http_durable_purge_resume(ngx_event_t *ev)
{
    ngx_int_t                rc;
    ngx_connection_t        *c;
    ngx_http_request_t      *r;
    ngx_http_durable_ctx_t  *ctx;

    r = ev->data;
    c = r->connection;

    ctx = ngx_http_get_module_ctx(r, ngx_http_durable_module);

    if (ngx_exiting) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "durable purge: pause cut short by a shutdown after "
                       "%ui deleted", ctx->purged);

        ctx->purge_owed = 0;

    } else if (ctx->purge_owed >= 1000) {
        /* a pause longer than a second: its next second */
        ngx_http_durable_purge_pause(r, ctx);
        return;

    } else {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "durable purge: pause over, next batch after %ui "
                       "deleted", ctx->purged);
    }

    r->main->blocked--;
    r->aio = 0;

    rc = ngx_http_durable_submit(r, ctx, ctx->purge_op,
                                 ngx_http_durable_purge_batch_done);

    ngx_http_finalize_request(r, ngx_http_durable_finish(r, rc));
    ngx_http_run_posted_requests(c);
}
