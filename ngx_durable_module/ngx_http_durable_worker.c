
/*
 * Copyright (C) ngx_durable authors
 *
 * The worker protocol (docs/worker-protocol.md): claim, complete, renew and
 * abandon orchestration, activity and entity work items. A claim with
 * "wait" long-polls: a short timer watches the shared change counter and
 * the earliest time work becomes visible, never blocking the event loop.
 */


#include <jansson.h>

#include "ngx_http_durable_module.h"
#include "ngx_http_durable_worker.h"
#include "ds_jspan.h"
#include "ngx_http_durable_log.h"
#include "ngx_http_durable_metrics.h"
#include "ngx_http_durable_params.h"
#include "ngx_http_durable_random.h"
#include "ngx_http_durable_render.h"
#include "ngx_http_durable_store.h"
#include "ngx_http_durable_variables.h"
#include "ngx_http_durable_wait.h"
#include "ngx_http_durable_writer.h"



typedef struct {
    ngx_http_durable_out_t     *out;
    ngx_uint_t                  count;
    ngx_uint_t                  first;
} ngx_http_durable_claim_t;


typedef struct ngx_http_durable_work_batch_s  ngx_http_durable_work_batch_t;


/* a completion, renewal or abandonment: its store operation, op.data */
typedef struct {
    ds_op_t                         op;
    ds_route_work_action_e          action;
    uint8_t                         lease[DS_LEASE_LEN];
    int                             rc;         /* out, when one of several */
    ngx_http_durable_work_batch_t  *batch;      /* the request's, if several */
} ngx_http_durable_work_t;


/* the completions of one request that completes several items */
struct ngx_http_durable_work_batch_s {
    ngx_http_durable_work_t    *items;
    ngx_uint_t                  n;
    ngx_uint_t                  pending;
};


/* a parsed request body: the minified text and its jansson tree */
typedef struct {
    ds_str_t  text;
    json_t   *root;
} ngx_http_durable_body_t;


static ngx_int_t ngx_http_durable_claim(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
static ngx_int_t ngx_http_durable_claim_names(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
static ngx_int_t ngx_http_durable_claim_post(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
static void ngx_http_durable_claim_begin(void *data);
static ngx_int_t ngx_http_durable_claim_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_write_t *w);
static ngx_int_t ngx_http_durable_claim_wait(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t expired);
static ngx_int_t ngx_http_durable_claim_answer(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
static int ngx_http_durable_claim_item(void *data, ds_op_t *op,
    const ds_work_item_t *item);
static ngx_http_durable_out_t *ngx_http_durable_item_begin(
    ngx_http_durable_claim_t *cl);
static int ngx_http_durable_item_end(ngx_http_durable_claim_t *cl, int rc,
    const uint8_t *lease, int64_t expires);
static int ngx_http_durable_add_event(void *data, uint64_t seq,
    ds_str_t event);
static void ngx_http_durable_out_lease(ngx_http_durable_out_t *out,
    const uint8_t *lease, int64_t expires);

static ngx_int_t ngx_http_durable_complete(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
static ngx_int_t ngx_http_durable_complete_many(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_body_t *in);
static ngx_int_t ngx_http_durable_parse_completion(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_body_t *in,
    ngx_http_durable_work_t *k);
static ngx_int_t ngx_http_durable_parse_orchestration(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_body_t *in,
    ngx_http_durable_work_t *k);
static ngx_int_t ngx_http_durable_parse_activity(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_body_t *in,
    ngx_http_durable_work_t *k);
static ngx_int_t ngx_http_durable_parse_entity(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_body_t *in,
    ngx_http_durable_work_t *k);
static ngx_int_t ngx_http_durable_lease_op(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
static ngx_int_t ngx_http_durable_parse_action(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, json_t *obj, ds_str_t *span,
    ds_action_t *act);
static ngx_int_t ngx_http_durable_action_error(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, const ds_action_t *acts,
    const ds_action_fault_t *f);
static ngx_int_t ngx_http_durable_work_post(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_work_t *k);
static void ngx_http_durable_work_prepare(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_work_t *k);
static void ngx_http_durable_work_count(ngx_http_durable_work_t *k, int rc);
static void ngx_http_durable_work_lifecycle(ngx_http_request_t *r,
    ngx_http_durable_work_t *k, int rc);
static ngx_uint_t ngx_http_durable_work_refusal(int rc, ngx_uint_t *status,
    const char **message);
static ngx_int_t ngx_http_durable_many_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_write_t *w);
static ngx_int_t ngx_http_durable_many_answer(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_work_batch_t *b);
static ngx_int_t ngx_http_durable_work_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_write_t *w);

static ngx_int_t ngx_http_durable_body_parse(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_body_t *body,
    ngx_uint_t many);
static ngx_int_t ngx_http_durable_get_string(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, json_t *obj, const char *name,
    ngx_uint_t required, ds_str_t *out);
static ngx_int_t ngx_http_durable_get_int(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, json_t *obj, const char *name,
    int64_t *out);
static ngx_int_t ngx_http_durable_get_lease(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, json_t *obj, uint8_t *lease);
static ngx_int_t ngx_http_durable_get_work_key(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, json_t *obj, ngx_http_durable_work_t *k);
static ngx_int_t ngx_http_durable_get_entity(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, json_t *obj, ds_str_t *name,
    ds_str_t *key);
static void ngx_http_durable_get_raw(ds_str_t *span,
    const char *name, ds_str_t *out);
static ngx_int_t ngx_http_durable_quote(ngx_http_request_t *r, ds_str_t *s);
static void ngx_http_durable_json_cleanup(void *data);


ngx_int_t
ngx_http_durable_worker(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx)
{
    switch (ctx->route.work_action) {

    case DS_ROUTE_WORK_CLAIM:
        return ngx_http_durable_claim(r, ctx);

    case DS_ROUTE_WORK_COMPLETE:
        return ngx_http_durable_complete(r, ctx);

    default:
        return ngx_http_durable_lease_op(r, ctx);
    }
}


/* claim */

static ngx_int_t
ngx_http_durable_claim(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx)
{
    ds_op_t                      *op;
    ngx_uint_t                    max;
    ngx_http_durable_claim_t     *cl;
    ngx_http_durable_loc_conf_t  *dlcf;

    static const ds_work_kind_e  kinds[] = {
        DS_WORK_ORCHESTRATION, DS_WORK_ACTIVITY, DS_WORK_ENTITY
    };

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    ctx->claim_wait = 0;

    if (ngx_http_durable_param_uint(r, ctx, DS_ROUTE_Q_MAX, 1, 1,
                                    dlcf->worker_max_items, &max)
        != NGX_OK
        || (ctx->query.set[DS_ROUTE_Q_WAIT]
            && ngx_http_durable_param_seconds(r, ctx, DS_ROUTE_Q_WAIT,
                                              dlcf->worker_max_wait,
                                              &ctx->claim_wait)
               != NGX_OK)
        || ngx_http_durable_claim_names(r, ctx) != NGX_OK)
    {
        return ngx_http_durable_fail(r, ctx);
    }

    ctx->claim_max = max;

    ctx->claim_tokens = ngx_pnalloc(r->pool, max * DS_LEASE_LEN);
    if (ctx->claim_tokens == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->claim_op = ngx_pcalloc(r->pool, sizeof(ds_op_t));
    if (ctx->claim_op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cl = ngx_palloc(r->pool, sizeof(ngx_http_durable_claim_t));
    if (cl == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->claim_out = ngx_palloc(r->pool, sizeof(ngx_http_durable_out_t));
    if (ctx->claim_out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * sized so that the writer thread rarely has to grow it, and on the
     * heap, as the thread may grow it
     */

    if (ngx_http_durable_out_heap(ctx->claim_out, r->pool, 16384 * max)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cl->out = ctx->claim_out;

    /* one operation, submitted again by every attempt */

    op = ctx->claim_op;
    op->type = DS_OP_WORK_CLAIM;
    op->hub = ngx_http_durable_ds_str(&ctx->hub);
    op->in.claim.kind = kinds[ctx->route.work_kind];
    op->in.claim.lease_us = (int64_t) dlcf->worker_lease * 1000;
    op->in.claim.max = max;
    op->in.claim.tokens = ctx->claim_tokens;
    op->in.claim.filter = &ctx->claim_filter;
    op->in.claim.begin = ngx_http_durable_claim_begin;
    op->in.claim.item = ngx_http_durable_claim_item;
    op->in.claim.item_data = cl;

    /* read before trying: a change during the try wakes the wait */
    ngx_http_durable_wait_mark(ctx);

    return ngx_http_durable_claim_post(r, ctx);
}


/*
 * names=A&names=B: only items of these names (orchestrator, activity or
 * entity names). A name per value, because names may contain commas.
 */

static ngx_int_t
ngx_http_durable_claim_names(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx)
{
    size_t     i, n;
    ds_str_t  *names;

    n = ctx->query.nnames;

    if (n == 0) {
        return NGX_OK;
    }

    if (n > DS_ROUTE_NAMES_MAX) {
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "At most %d 'names' may be given.",
                   DS_ROUTE_NAMES_MAX);
    }

    names = ngx_palloc(r->pool, n * sizeof(ds_str_t));
    if (names == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (ngx_http_durable_check_name(r, ctx, "value of 'names'",
                                        &ctx->query.names[i], DS_NAME_MAX)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        names[i].data = (const char *) ctx->query.names[i].data;
        names[i].len = ctx->query.names[i].len;
    }

    ctx->claim_filter.names = names;
    ctx->claim_filter.nnames = n;

    return NGX_OK;
}


static ngx_int_t
ngx_http_durable_claim_post(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx)
{
    ngx_http_durable_random(ctx->claim_tokens,
                            ctx->claim_max * DS_LEASE_LEN);

    return ngx_http_durable_write(r, ctx, ctx->claim_op,
                                  ngx_http_durable_claim_done);
}


static ngx_int_t
ngx_http_durable_claim_wait(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t expired)
{
    if (!ctx->wait_news) {
        /* the deadline, and nothing new since the last try */
        return ngx_http_durable_claim_answer(r, ctx);
    }

    ctx->claim_expired = expired;

    return ngx_http_durable_claim_post(r, ctx);
}


/*
 * The start of each claim attempt, in the writer thread (due timers fire
 * in it too): items are rendered into ctx->claim_out while the txn holds
 * them, from the start again when the attempt is applied again.
 */

static void
ngx_http_durable_claim_begin(void *data)
{
    ngx_http_durable_claim_t  *cl = data;

    cl->out->pos = cl->out->start;
    ngx_http_durable_out_literal(cl->out, "{\"items\":[");
    cl->count = 0;
}


static ngx_int_t
ngx_http_durable_claim_done(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx,
    ngx_http_durable_write_t *w)
{
    ds_op_t  *op = w->op;

    int64_t    now, delay;
    ngx_int_t  rc;

    if (w->rc != DS_OK) {
        return ngx_http_durable_store_error(r, ctx, w->rc, w->what);
    }

    /* the work kinds of the route and of the store go in the same order */
    ngx_http_durable_metrics_claimed((ds_work_kind_e) ctx->route.work_kind,
                                     op->out.claim.claimed,
                                     ctx->claim_filter.expired);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "durable claim: %uz items, %uz of other names, kind:%d",
                   op->out.claim.claimed, ctx->claim_filter.skipped,
                   ctx->route.work_kind);

    if (op->out.claim.claimed || ctx->claim_wait == 0 || ctx->claim_expired)
    {
        return ngx_http_durable_claim_answer(r, ctx);
    }

    if (!ctx->waiting) {
        /* only a notification or visible work makes a claim worth trying */
        rc = ngx_http_durable_wait(r, ctx, ctx->claim_wait, ctx->claim_wait,
                                   ngx_http_durable_claim_wait);
    } else {
        rc = ngx_http_durable_wait_again(r, ctx);
    }

    /* a timer or a lease that runs out makes work visible without one */

    if (op->out.claim.visible != INT64_MAX) {
        now = ds_time_now();
        delay = op->out.claim.visible > now
                ? (op->out.claim.visible - now + 999) / 1000 : 0;

        if (delay < (int64_t) ctx->claim_wait) {
            ngx_http_durable_wait_due(ctx, (ngx_msec_t) delay);
        }
    }

    return rc;
}


static ngx_int_t
ngx_http_durable_claim_answer(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx)
{
    ngx_str_t  body;

    ngx_http_durable_out_literal(ctx->claim_out, "]}");

    if (ctx->claim_out->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.data = ctx->claim_out->start;
    body.len = ctx->claim_out->pos - ctx->claim_out->start;

    return ngx_http_durable_send(r, NGX_HTTP_OK, &body);
}


/*
 * An item of any kind: its key members, name and input (an entity's
 * state), then the stored events it carries (an orchestration's history
 * and messages, an entity's operations) and the lease.
 */

static int
ngx_http_durable_claim_item(void *data, ds_op_t *op,
    const ds_work_item_t *item)
{
    ngx_http_durable_claim_t  *cl = data;

    int                      rc;
    u_char                   buf[NGX_INT64_LEN];
    ngx_http_durable_out_t  *out;

    out = ngx_http_durable_item_begin(cl);

    if (item->kind == DS_WORK_ENTITY) {
        ngx_http_durable_out_literal(out, "{\"entity\":{\"name\":");
        ngx_http_durable_out_string(out, item->name.data, item->name.len);
        ngx_http_durable_out_literal(out, ",\"key\":");
        ngx_http_durable_out_string(out, item->key.data, item->key.len);
        ngx_http_durable_out_literal(out, "},\"state\":");
        ngx_http_durable_out_json(out, item->input.data, item->input.len);

    } else {
        ngx_http_durable_out_literal(out, "{\"instanceId\":");
        ngx_http_durable_out_string(out, item->id.data, item->id.len);

        if (item->kind == DS_WORK_ACTIVITY) {
            ngx_http_durable_out_literal(out, ",\"taskId\":");
            ngx_http_durable_out_add(out, buf,
                                     ngx_sprintf(buf, "%L", item->task_id)
                                     - buf);
        }

        ngx_http_durable_out_literal(out, ",\"name\":");
        ngx_http_durable_out_string(out, item->name.data, item->name.len);

        if (item->kind == DS_WORK_ORCHESTRATION) {
            ngx_http_durable_out_literal(out, ",\"executionId\":\"");
            ngx_http_durable_out_add(out, buf,
                                     ngx_sprintf(buf, "%uL", item->execution)
                                     - buf);
            ngx_http_durable_out_literal(out, "\"");
        }

        ngx_http_durable_out_literal(out, ",\"input\":");
        ngx_http_durable_out_json(out, item->input.data, item->input.len);
    }

    switch (item->kind) {

    case DS_WORK_ORCHESTRATION:

        /* the episode's clock: replays see it as OrchestratorStarted */
        ngx_http_durable_out_literal(out, ",\"timestamp\":");
        ngx_http_durable_out_time(out, item->timestamp);

        ngx_http_durable_out_literal(out, ",\"history\":[");
        cl->first = 1;

        rc = ds_op_item_events(op, item, DS_LIST_HISTORY,
                               ngx_http_durable_add_event, cl);
        if (rc != DS_OK && rc != DS_NOTFOUND) {
            return 1;
        }

        ngx_http_durable_out_literal(out, "],\"messages\":[");
        cl->first = 1;

        /* exactly what the completion will consume */
        rc = ds_op_item_events(op, item, DS_LIST_MESSAGES,
                               ngx_http_durable_add_event, cl);
        break;

    case DS_WORK_ENTITY:
        ngx_http_durable_out_literal(out, ",\"operations\":[");
        cl->first = 1;

        rc = ds_op_item_events(op, item, DS_LIST_OPERATIONS,
                               ngx_http_durable_add_event, cl);
        break;

    default:
        ngx_http_durable_out_lease(out, item->lease, item->lease_expires);
        return out->failed;
    }

    return ngx_http_durable_item_end(cl, rc, item->lease, item->lease_expires);
}


/* the items of a claim are comma separated */

static ngx_http_durable_out_t *
ngx_http_durable_item_begin(ngx_http_durable_claim_t *cl)
{
    if (cl->count++) {
        ngx_http_durable_out_literal(cl->out, ",");
    }

    return cl->out;
}


/*
 * Closes the array of stored events an item ends with (rc: of reading
 * them) and adds the lease; nonzero stops the claim.
 */

static int
ngx_http_durable_item_end(ngx_http_durable_claim_t *cl, int rc,
    const uint8_t *lease, int64_t expires)
{
    if (rc != DS_OK && rc != DS_NOTFOUND) {
        return 1;
    }

    ngx_http_durable_out_literal(cl->out, "]");
    ngx_http_durable_out_lease(cl->out, lease, expires);

    return cl->out->failed;
}


/* history events and messages are copied as stored, comma separated */

static int
ngx_http_durable_add_event(void *data, uint64_t seq, ds_str_t event)
{
    ngx_http_durable_claim_t  *cl = data;

    if (!cl->first) {
        ngx_http_durable_out_literal(cl->out, ",");
    }

    cl->first = 0;
    ngx_http_durable_out_add(cl->out, event.data, event.len);

    return 0;
}


static void
ngx_http_durable_out_lease(ngx_http_durable_out_t *out, const uint8_t *lease,
    int64_t expires)
{
    u_char  hex[2 * DS_LEASE_LEN];

    ngx_hex_dump(hex, (u_char *) lease, DS_LEASE_LEN);

    ngx_http_durable_out_literal(out, ",\"lease\":\"");
    ngx_http_durable_out_add(out, hex, sizeof(hex));
    ngx_http_durable_out_literal(out, "\",\"leaseExpires\":");
    ngx_http_durable_out_time(out, expires);
    ngx_http_durable_out_literal(out, "}");
}


/*
 * complete: the body is one completion, or an array of completions that
 * become writes of one batch and are answered together
 */

static ngx_int_t
ngx_http_durable_complete(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx)
{
    ngx_http_durable_body_t   in;
    ngx_http_durable_work_t  *k;

    if (ngx_http_durable_body_parse(r, ctx, &in, 1) != NGX_OK) {
        return ngx_http_durable_fail(r, ctx);
    }

    if (json_is_array(in.root)) {
        return ngx_http_durable_complete_many(r, ctx, &in);
    }

    k = ngx_pcalloc(r->pool, sizeof(ngx_http_durable_work_t));
    if (k == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_durable_parse_completion(r, ctx, &in, k) != NGX_OK) {
        return ngx_http_durable_fail(r, ctx);
    }

    return ngx_http_durable_work_post(r, ctx, k);
}


/* all are parsed before any is queued: a malformed one applies nothing */

static ngx_int_t
ngx_http_durable_complete_many(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_body_t *in)
{
    ngx_int_t                       rc;
    ngx_uint_t                      i, n;
    ngx_http_durable_write_t      **ws;
    ngx_http_durable_body_t         item;
    ds_jspan_iter_t                 it;
    ngx_http_durable_work_t        *k;
    ngx_http_durable_work_batch_t  *b;
    ngx_http_durable_loc_conf_t    *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    n = json_array_size(in->root);

    if (n == 0 || n > dlcf->worker_max_items) {
        return ngx_http_durable_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "An array of completions holds 1 to %ui of them.",
                   dlcf->worker_max_items);
    }

    b = ngx_palloc(r->pool, sizeof(ngx_http_durable_work_batch_t));
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->items = ngx_pcalloc(r->pool, n * sizeof(ngx_http_durable_work_t));
    if (b->items == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->n = n;
    b->pending = n;

    if (!ds_jspan_iter(&it, (u_char *) in->text.data, in->text.len)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < n; i++) {
        k = &b->items[i];
        k->batch = b;

        item.root = json_array_get(in->root, i);

        if (!ds_jspan_next(&it, NULL, &item.text)) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (!json_is_object(item.root)) {
            return ngx_http_durable_send_error(r, NGX_HTTP_BAD_REQUEST,
                       "Every completion in the array must be an object.");
        }

        if (ngx_http_durable_parse_completion(r, ctx, &item, k) != NGX_OK) {
            return ngx_http_durable_fail(r, ctx);
        }

        ngx_http_durable_work_prepare(r, ctx, k);
    }

    ws = ngx_palloc(r->pool, n * sizeof(ngx_http_durable_write_t *));
    if (ws == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < n; i++) {
        ws[i] = ngx_http_durable_write_alloc(r, &b->items[i].op,
                                             ngx_http_durable_many_done);
        if (ws[i] == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* from here nothing fails: the last write to be done answers */

    rc = NGX_DONE;

    for (i = 0; i < n; i++) {
        rc = ngx_http_durable_write_queue(r, ctx, ws[i], i == n - 1);
    }

    ngx_http_durable_write_post(ctx);

    return rc;
}


static ngx_int_t
ngx_http_durable_parse_completion(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_body_t *in,
    ngx_http_durable_work_t *k)
{
    switch (ctx->route.work_kind) {

    case DS_ROUTE_WORK_ORCHESTRATIONS:
        return ngx_http_durable_parse_orchestration(r, ctx, in, k);

    case DS_ROUTE_WORK_ACTIVITIES:
        return ngx_http_durable_parse_activity(r, ctx, in, k);

    default:
        return ngx_http_durable_parse_entity(r, ctx, in, k);
    }
}


static ngx_int_t
ngx_http_durable_parse_orchestration(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_body_t *in,
    ngx_http_durable_work_t *k)
{
    size_t             i, n;
    json_t            *actions;
    ds_action_t       *acts;
    ds_action_fault_t  fault;
    ds_str_t           list, span;
    ds_jspan_iter_t    it;

    if (ngx_http_durable_get_work_key(r, ctx, in->root, k) != NGX_OK) {
        return NGX_ERROR;
    }

    actions = json_object_get(in->root, "actions");
    n = 0;
    acts = NULL;

    if (actions) {
        if (!json_is_array(actions)
            || !ds_jspan_member((u_char *) in->text.data, in->text.len,
                                "actions", &list)
            || !ds_jspan_iter(&it, (u_char *) list.data, list.len))
        {
            return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                       "The member 'actions' must be an array.");
        }

        n = json_array_size(actions);

        acts = ngx_pcalloc(r->pool, (n ? n : 1) * sizeof(ds_action_t));
        if (acts == NULL) {
            return NGX_ERROR;
        }

        for (i = 0; i < n; i++) {
            if (!ds_jspan_next(&it, NULL, &span)
                || ngx_http_durable_parse_action(r, ctx,
                                                 json_array_get(actions, i),
                                                 &span, &acts[i])
                   != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    /* names and ids by the store's rules: a 400 that names the action */

    switch (ds_work_actions_check(k->op.in.work.id, acts, n, &fault)) {

    case DS_OK:
        break;

    case DS_INVALID:
        return ngx_http_durable_action_error(r, ctx, acts, &fault);

    default:
        return NGX_ERROR;
    }

    k->op.in.work.actions = acts;
    k->op.in.work.nactions = n;

    return NGX_OK;
}


static ngx_int_t
ngx_http_durable_parse_activity(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_body_t *in,
    ngx_http_durable_work_t *k)
{
    int       failed;
    json_t   *failure;
    ds_str_t  result, reason, details;
    ds_str_t  span;

    if (ngx_http_durable_get_work_key(r, ctx, in->root, k) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memzero(&reason, sizeof(ds_str_t));
    ngx_memzero(&details, sizeof(ds_str_t));
    ngx_http_durable_get_raw(&in->text, "result", &result);

    failure = json_object_get(in->root, "failure");
    failed = (failure != NULL && !json_is_null(failure));

    if (failed) {
        if (!json_is_object(failure)
            || !ds_jspan_member((u_char *) in->text.data, in->text.len,
                                "failure", &span))
        {
            return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                       "The member 'failure' must be an object.");
        }

        if (ngx_http_durable_get_string(r, ctx, failure, "reason", 0, &reason)
            != NGX_OK
            || ngx_http_durable_quote(r, &reason) != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_http_durable_get_raw(&span, "details", &details);
    }

    k->op.in.work.failed = failed;
    k->op.in.work.result = result;
    k->op.in.work.reason = reason;
    k->op.in.work.details = details;

    return NGX_OK;
}


static ngx_int_t
ngx_http_durable_parse_entity(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_body_t *in,
    ngx_http_durable_work_t *k)
{
    json_t    *del;
    ds_str_t   state;

    if (ngx_http_durable_get_work_key(r, ctx, in->root, k) != NGX_OK) {
        return NGX_ERROR;
    }

    del = json_object_get(in->root, "delete");
    ngx_http_durable_get_raw(&in->text, "state", &state);

    k->op.in.work.delete_state = json_is_true(del);
    k->op.in.work.result = state;

    return NGX_OK;
}


/* renew and abandon */

static ngx_int_t
ngx_http_durable_lease_op(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx)
{
    ngx_http_durable_body_t   in;
    ngx_http_durable_work_t  *k;

    k = ngx_pcalloc(r->pool, sizeof(ngx_http_durable_work_t));
    if (k == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_durable_body_parse(r, ctx, &in, 0) != NGX_OK
        || ngx_http_durable_get_work_key(r, ctx, in.root, k) != NGX_OK)
    {
        return ngx_http_durable_fail(r, ctx);
    }

    return ngx_http_durable_work_post(r, ctx, k);
}


static ngx_int_t
ngx_http_durable_work_post(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx,
    ngx_http_durable_work_t *k)
{
    ngx_http_durable_work_prepare(r, ctx, k);

    return ngx_http_durable_write(r, ctx, &k->op,
                                  ngx_http_durable_work_done);
}


static void
ngx_http_durable_work_prepare(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_work_t *k)
{
    ngx_http_durable_loc_conf_t  *dlcf;

    static const ds_work_kind_e  kinds[] = {
        DS_WORK_ORCHESTRATION, DS_WORK_ACTIVITY, DS_WORK_ENTITY
    };

    /* in the order of ds_route_work_action_e */
    static const ds_op_type_e  types[] = {
        DS_OP_WORK_CLAIM, DS_OP_WORK_COMPLETE, DS_OP_WORK_RENEW,
        DS_OP_WORK_ABANDON
    };

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    k->action = ctx->route.work_action;
    k->op.type = types[k->action];
    k->op.data = k;
    k->op.hub = ngx_http_durable_ds_str(&ctx->hub);
    k->op.in.work.kind = kinds[ctx->route.work_kind];
    k->op.in.work.lease = k->lease;
    k->op.in.work.lease_us = (int64_t) dlcf->worker_lease * 1000;
}


/* the answer, with the status codes of docs/worker-protocol.md */

static ngx_int_t
ngx_http_durable_work_done(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx,
    ngx_http_durable_write_t *w)
{
    ngx_http_durable_work_t  *k = w->op->data;

    u_char      *p;
    ngx_str_t    body;
    ngx_uint_t   status;
    const char  *message;

    ngx_http_durable_work_count(k, w->rc);
    ngx_http_durable_work_lifecycle(r, k, w->rc);

    if (ngx_http_durable_work_refusal(w->rc, &status, &message)) {
        return ngx_http_durable_send_error(r, status, message);
    }

    if (w->rc != DS_OK) {
        return ngx_http_durable_store_error(r, ctx, w->rc, w->what);
    }

    p = ngx_pnalloc(r->pool, sizeof("{\"runtimeStatus\":\"\"}")
                             + DS_TIME_FRAC_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.data = p;

    if (k->action == DS_ROUTE_WORK_RENEW) {
        p = ngx_cpymem(p, "{\"leaseExpires\":\"",
                       sizeof("{\"leaseExpires\":\"") - 1);
        p += ds_time_format_frac(k->op.out.work.expires, (char *) p);
        p = ngx_cpymem(p, "\"}", 2);

    } else if (k->action == DS_ROUTE_WORK_COMPLETE
               && k->op.in.work.kind == DS_WORK_ORCHESTRATION)
    {
        p = ngx_sprintf(p, "{\"runtimeStatus\":\"%s\"}",
                        ds_status_name(k->op.out.work.status));

        ngx_http_durable_log_status(ctx, k->op.out.work.status);
        ctx->log_id.data = (u_char *) k->op.in.work.id.data;
        ctx->log_id.len = k->op.in.work.id.len;

    } else {
        p = ngx_cpymem(p, "{}", 2);
    }

    body.len = p - body.data;

    return ngx_http_durable_send(r, NGX_HTTP_OK, &body);
}


/* what a renew, abandon or completion did, for the metrics */

static void
ngx_http_durable_work_count(ngx_http_durable_work_t *k, int rc)
{
    switch (rc) {

    case DS_OK:
        if (k->action == DS_ROUTE_WORK_COMPLETE) {
            ngx_http_durable_metrics_completed(k->op.in.work.kind);

        } else if (k->action == DS_ROUTE_WORK_RENEW) {
            ngx_http_durable_metrics_lease(NGX_HTTP_DURABLE_LEASE_GRANTED);
        }

        break;

    case DS_CONFLICT:
    case DS_MISMATCH:
        ngx_http_durable_metrics_lease(NGX_HTTP_DURABLE_LEASE_REFUSED);
        break;

    default:
        break;
    }
}


/*
 * the lifecycle line of a completion that finished an orchestration; a
 * failure gives the reason of its failing action, if it has one
 */

static void
ngx_http_durable_work_lifecycle(ngx_http_request_t *r,
    ngx_http_durable_work_t *k, int rc)
{
    size_t              i;
    ds_str_t            reason;
    const char         *change;
    const ds_action_t  *a;

    if (rc != DS_OK
        || k->action != DS_ROUTE_WORK_COMPLETE
        || k->op.in.work.kind != DS_WORK_ORCHESTRATION)
    {
        return;
    }

    reason.data = NULL;
    reason.len = 0;

    switch (k->op.out.work.status) {

    case DS_COMPLETED:
        change = "completed";
        break;

    case DS_CONTINUED_AS_NEW:
        change = "continued as new";
        break;

    case DS_FAILED:
        change = "failed";

        for (i = 0; i < k->op.in.work.nactions; i++) {
            a = &k->op.in.work.actions[i];

            if (a->type == DS_ACT_FAIL) {
                reason = a->reason;
            }
        }

        break;

    default:
        return;
    }

    ngx_http_durable_lifecycle(r, k->op.in.work.id, change, reason);
}


/* a refusal of the store: its status code and message */

static ngx_uint_t
ngx_http_durable_work_refusal(int rc, ngx_uint_t *status,
    const char **message)
{
    switch (rc) {

    case DS_NOTFOUND:
        *status = NGX_HTTP_NOT_FOUND;
        *message = "The work item does not exist (any more).";
        return 1;

    case DS_CONFLICT:
        *status = NGX_HTTP_CONFLICT;
        *message = "The lease is not current: it expired and the item was "
                   "claimed again, or it was abandoned.";
        return 1;

    case DS_MISMATCH:
        *status = NGX_HTTP_CONFLICT;
        *message = "A different completion was already applied under this "
                   "lease; only an identical retry gets its answer.";
        return 1;

    case DS_GONE:
        *status = NGX_HTTP_DURABLE_GONE;
        *message = "The instance is no longer running: it was terminated "
                   "(or finished) meanwhile.";
        return 1;

    case DS_INVALID:
        *status = NGX_HTTP_BAD_REQUEST;
        *message = "The actions are not valid: at most one finishing "
                   "action, last; every schedule id once.";
        return 1;

    default:
        return 0;
    }
}


/* one completion of several is done: the last one answers for all */

static ngx_int_t
ngx_http_durable_many_done(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx,
    ngx_http_durable_write_t *w)
{
    ngx_http_durable_work_t  *k = w->op->data;

    ngx_http_durable_work_batch_t  *b = k->batch;

    k->rc = w->rc;

    ngx_http_durable_work_count(k, w->rc);
    ngx_http_durable_work_lifecycle(r, k, w->rc);

    if (--b->pending) {
        return NGX_DONE;
    }

    return ngx_http_durable_many_answer(r, ctx, b);
}


/*
 * 200 and an array of results, in the order of the completions:
 * {"status":200[,"runtimeStatus":".."]} or {"status":409,"Message":".."}.
 * A store failure (full, I/O) answers the request as a whole: some items
 * may be applied, and sending them again is safe (a completion with the
 * same lease token answers the same and changes nothing).
 */

static ngx_int_t
ngx_http_durable_many_answer(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_work_batch_t *b)
{
    u_char                   *p;
    size_t                    len;
    ngx_str_t                 body;
    ngx_uint_t                i, status;
    const char               *message;
    ngx_http_durable_work_t  *k;

    /* a store failure answers for all; else the exact length, in the
     * same branches as the writing below */

    len = sizeof("[]") - 1 + b->n - 1;

    for (i = 0; i < b->n; i++) {
        k = &b->items[i];

        if (ngx_http_durable_work_refusal(k->rc, &status, &message)) {
            len += sizeof("{\"status\":NNN,\"Message\":\"\"}") - 1
                   + ngx_strlen(message);

        } else if (k->rc != DS_OK) {
            return ngx_http_durable_store_error(r, ctx, k->rc,
                                                "completing work");

        } else if (k->op.in.work.kind == DS_WORK_ORCHESTRATION) {
            len += sizeof("{\"status\":200,\"runtimeStatus\":\"\"}") - 1
                   + ngx_strlen(ds_status_name(k->op.out.work.status));

        } else {
            len += sizeof("{\"status\":200}") - 1;
        }
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.data = p;
    *p++ = '[';

    for (i = 0; i < b->n; i++) {
        k = &b->items[i];

        if (i) {
            *p++ = ',';
        }

        if (ngx_http_durable_work_refusal(k->rc, &status, &message)) {
            p = ngx_sprintf(p, "{\"status\":%ui,\"Message\":\"%s\"}",
                            status, message);

        } else if (k->op.in.work.kind == DS_WORK_ORCHESTRATION) {
            p = ngx_sprintf(p, "{\"status\":200,\"runtimeStatus\":\"%s\"}",
                            ds_status_name(k->op.out.work.status));

        } else {
            p = ngx_cpymem(p, "{\"status\":200}",
                           sizeof("{\"status\":200}") - 1);
        }
    }

    *p++ = ']';
    body.len = p - body.data;

    return ngx_http_durable_send(r, NGX_HTTP_OK, &body);
}


/* the action types, in the order of ds_action_type_e */

typedef struct {
    const char        *name;
    ds_action_type_e   type;
    unsigned           needs_id:1;
    unsigned           needs_name:1;
    const char        *input;      /* the member holding its JSON */
} ngx_http_durable_action_type_t;


static const ngx_http_durable_action_type_t  ngx_http_durable_actions[] = {
    { "scheduleActivity", DS_ACT_SCHEDULE_ACTIVITY, 1, 1, "input" },
    { "createTimer", DS_ACT_CREATE_TIMER, 1, 0, NULL },
    { "startSubOrchestration", DS_ACT_START_SUB, 1, 1, "input" },
    { "raiseEvent", DS_ACT_RAISE_EVENT, 0, 1, "input" },
    { "signalEntity", DS_ACT_SIGNAL_ENTITY, 0, 0, "input" },
    { "setCustomStatus", DS_ACT_SET_CUSTOM_STATUS, 0, 0, "customStatus" },
    { "complete", DS_ACT_COMPLETE, 0, 0, "output" },
    { "fail", DS_ACT_FAIL, 0, 0, NULL },
    { "continueAsNew", DS_ACT_CONTINUE_AS_NEW, 0, 0, "input" }
};

#define NGX_HTTP_DURABLE_ACTIONS                                             \
    (sizeof(ngx_http_durable_actions) / sizeof(ngx_http_durable_actions[0]))


static ngx_int_t
ngx_http_durable_parse_action(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, json_t *obj, ds_str_t *span,
    ds_action_t *act)
{
    ds_str_t                               type, fire;
    const ngx_http_durable_action_type_t  *t, *end;

    if (!json_is_object(obj)) {
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "Every action must be an object.");
    }

    if (ngx_http_durable_get_string(r, ctx, obj, "type", 1, &type) != NGX_OK) {
        return NGX_ERROR;
    }

    end = ngx_http_durable_actions + NGX_HTTP_DURABLE_ACTIONS;

    for (t = ngx_http_durable_actions; t < end; t++) {
        if (type.len == ngx_strlen(t->name)
            && ngx_strncmp(type.data, t->name, type.len) == 0)
        {
            break;
        }
    }

    if (t == end) {
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "Unknown action type '%*s'.", type.len, type.data);
    }

    act->type = t->type;
    act->id = -1;

    if (t->needs_id
        && ngx_http_durable_get_int(r, ctx, obj, "id", &act->id) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_durable_get_string(r, ctx, obj, "name", t->needs_name,
                                    &act->name)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (t->input) {
        ngx_http_durable_get_raw(span, t->input, &act->input);
    }

    switch (act->type) {

    case DS_ACT_START_SUB:
        return ngx_http_durable_get_string(r, ctx, obj, "instanceId", 0,
                                           &act->instance_id);

    case DS_ACT_RAISE_EVENT:
        return ngx_http_durable_get_string(r, ctx, obj, "instanceId", 1,
                                           &act->instance_id);

    case DS_ACT_SIGNAL_ENTITY:
        if (ngx_http_durable_get_entity(r, ctx, obj, &act->entity_name,
                                        &act->entity_key)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        return ngx_http_durable_get_string(r, ctx, obj, "operation", 1,
                                           &act->name);

    case DS_ACT_CREATE_TIMER:
        if (ngx_http_durable_get_string(r, ctx, obj, "fireAt", 1, &fire)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ds_time_parse(fire.data, fire.len, &act->fire_at) != DS_OK) {
            return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                       "The fireAt '%*s' is not an ISO 8601 time.",
                       fire.len, fire.data);
        }

        return NGX_OK;

    case DS_ACT_FAIL:
        if (ngx_http_durable_get_string(r, ctx, obj, "reason", 0,
                                        &act->reason)
            != NGX_OK
            || ngx_http_durable_quote(r, &act->reason) != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_http_durable_get_raw(span, "details", &act->details);
        return NGX_OK;

    default:
        return NGX_OK;
    }
}


/* "Action 2 (startSubOrchestration): 'instanceId' must ..." */

static ngx_int_t
ngx_http_durable_action_error(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, const ds_action_t *acts,
    const ds_action_fault_t *f)
{
    char         text[NGX_HTTP_DURABLE_FAULT_LEN];
    const char  *type, *member, *dflt;

    type = ((ngx_uint_t) acts[f->index].type < NGX_HTTP_DURABLE_ACTIONS)
           ? ngx_http_durable_actions[acts[f->index].type].name : "unknown";

    switch (f->error) {

    case DS_ACTION_NOT_LAST:
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "Action %uz (%s): a finishing action must be the last "
                   "one.", f->index, type);

    case DS_ACTION_ID_TWICE:
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "Action %uz (%s): 'id' %L is the id of action %uz too; "
                   "schedule ids must be unique.", f->index, type,
                   acts[f->index].id, f->other);

    case DS_ACTION_NAME:
        break;

    default:
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "Action %uz (%s) is not valid.", f->index, type);
    }

    switch (f->field) {

    case DS_FIELD_NAME:
        member = (acts[f->index].type == DS_ACT_SIGNAL_ENTITY)
                 ? "'operation'" : "'name'";
        break;

    case DS_FIELD_INSTANCE_ID:
        member = "'instanceId'";
        break;

    case DS_FIELD_ENTITY_NAME:
        member = "'entity.name'";
        break;

    case DS_FIELD_ENTITY_KEY:
        member = "'entity.key'";
        break;

    case DS_FIELD_ENTITY:
        member = "'entity' name and key";
        break;

    default:
        member = "'id'";
        break;
    }

    dflt = f->defaulted ? " (by default '<parent id>:<id>')" : "";

    ds_name_fault_text(&f->name, text, sizeof(text));

    return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
               "Action %uz (%s): %s%s %s.", f->index, type, member, dflt,
               text);
}


/* request bodies: validated and minified once, then parsed */

static ngx_int_t
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


static ngx_int_t
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


static ngx_int_t
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

static ngx_int_t
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

static ngx_int_t
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

static ngx_int_t
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

static void
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

