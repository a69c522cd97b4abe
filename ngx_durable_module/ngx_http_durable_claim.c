
/*
 * Copyright (C) ngx_durable authors
 *
 * Claims of the worker protocol: up to max= items of one kind, each with
 * a new lease.  A claim with "wait" long-polls: a short timer watches the
 * shared change counter and the earliest time work becomes visible,
 * never blocking the event loop.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_claim.h"
#include "ngx_http_durable_metrics.h"
#include "ngx_http_durable_params.h"
#include "ngx_http_durable_random.h"
#include "ngx_http_durable_render.h"
#include "ngx_http_durable_store.h"
#include "ngx_http_durable_wait.h"
#include "ngx_http_durable_writer.h"


typedef struct {
    ngx_http_durable_out_t     *out;
    ngx_uint_t                  count;
    ngx_uint_t                  first;
} ngx_http_durable_claim_t;


static ngx_int_t ngx_http_durable_claim_names(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
static ngx_int_t ngx_http_durable_claim_post(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
static void ngx_http_durable_claim_begin(void *data);
static ngx_int_t ngx_http_durable_claim_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
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


/* the work kinds of the route and of the store go in the same order */

static const ds_work_kind_e  ngx_http_durable_claim_kinds[] = {
    DS_WORK_ORCHESTRATION, DS_WORK_ACTIVITY, DS_WORK_ENTITY
};


ngx_int_t
ngx_http_durable_claim(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx)
{
    ngx_http_durable_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    ctx->claim_wait = 0;

    if (ngx_http_durable_claim_prepare(r, ctx, ctx->route.work_kind)
        != NGX_OK
        || (ctx->query.set[DS_ROUTE_Q_WAIT]
            && ngx_http_durable_param_seconds(r, ctx, DS_ROUTE_Q_WAIT,
                                              dlcf->worker_max_wait,
                                              &ctx->claim_wait)
               != NGX_OK))
    {
        return ngx_http_durable_fail(r, ctx);
    }

    /* read before trying: a change during the try wakes the wait */
    ngx_http_durable_wait_mark(ctx);

    /* the first try: its tokens are drawn; later tries draw them anew */
    return ngx_http_durable_submit(r, ctx, ctx->claim_op,
                                   ngx_http_durable_claim_done);
}


/*
 * claim=KIND of a completion: the kind of the items claimed after the
 * completions, in their batch
 */

ngx_int_t
ngx_http_durable_claim_kind(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_route_work_kind_e *kind)
{
    ds_str_t    *v;
    ngx_uint_t   i;

    static ngx_str_t  words[] = {
        ngx_string("orchestrations"),
        ngx_string("activities"),
        ngx_string("entities")
    };

    v = &ctx->query.v[DS_ROUTE_Q_CLAIM];

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (v->len == words[i].len
            && ngx_strncmp(v->data, words[i].data, v->len) == 0)
        {
            *kind = (ds_route_work_kind_e) i;
            return NGX_OK;
        }
    }

    return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
               "The parameter 'claim' must be 'orchestrations', "
               "'activities' or 'entities'.");
}


/*
 * The claim op of a request: max= and names= parsed, its lease tokens
 * and output allocated; NGX_ERROR with the request's error set.
 */

ngx_int_t
ngx_http_durable_claim_prepare(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_route_work_kind_e kind)
{
    ds_op_t                      *op;
    ngx_uint_t                    max;
    ngx_http_durable_claim_t     *cl;
    ngx_http_durable_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    if (ngx_http_durable_param_uint(r, ctx, DS_ROUTE_Q_MAX, 1, 1,
                                    dlcf->worker_max_items, &max)
        != NGX_OK
        || ngx_http_durable_claim_names(r, ctx) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->claim_max = max;
    ctx->claim_kind = kind;

    ctx->claim_tokens = ngx_pnalloc(r->pool, max * DS_LEASE_LEN);
    if (ctx->claim_tokens == NULL) {
        return NGX_ERROR;
    }

    ctx->claim_op = ngx_pcalloc(r->pool, sizeof(ds_op_t));
    if (ctx->claim_op == NULL) {
        return NGX_ERROR;
    }

    cl = ngx_palloc(r->pool, sizeof(ngx_http_durable_claim_t));
    if (cl == NULL) {
        return NGX_ERROR;
    }

    ctx->claim_out = ngx_palloc(r->pool, sizeof(ngx_http_durable_out_t));
    if (ctx->claim_out == NULL) {
        return NGX_ERROR;
    }

    /*
     * sized so that the writer thread rarely has to grow it, and on the
     * heap, as the thread may grow it
     */

    if (ngx_http_durable_out_heap(ctx->claim_out, r->pool, 16384 * max)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    cl->out = ctx->claim_out;

    /* one operation, submitted again by every attempt */

    op = ctx->claim_op;
    op->type = DS_OP_WORK_CLAIM;
    op->hub = ngx_http_durable_ds_str(&ctx->hub);
    op->in.claim.kind = ngx_http_durable_claim_kinds[kind];
    op->in.claim.lease_us = (int64_t) dlcf->worker_lease * 1000;
    op->in.claim.max = max;
    op->in.claim.tokens = ctx->claim_tokens;
    op->in.claim.filter = &ctx->claim_filter;
    op->in.claim.begin = ngx_http_durable_claim_begin;
    op->in.claim.item = ngx_http_durable_claim_item;
    op->in.claim.item_data = cl;

    ngx_http_durable_random(ctx->claim_tokens, max * DS_LEASE_LEN);

    return NGX_OK;
}


/*
 * The items of a claim that ran (its op answered DS_OK), as the JSON
 * object {"items":[...]}; NGX_ERROR if it could not be rendered.
 */

ngx_int_t
ngx_http_durable_claim_items(ngx_http_durable_ctx_t *ctx, ngx_str_t *items)
{
    ds_op_t  *op = ctx->claim_op;

    ngx_http_durable_metrics_claimed(ngx_http_durable_claim_kinds[
                                         ctx->claim_kind],
                                     op->out.claim.claimed,
                                     ctx->claim_filter.expired);

    ngx_http_durable_out_literal(ctx->claim_out, "]}");

    if (ctx->claim_out->failed) {
        return NGX_ERROR;
    }

    items->data = ctx->claim_out->start;
    items->len = ctx->claim_out->pos - ctx->claim_out->start;

    return NGX_OK;
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

    return ngx_http_durable_submit(r, ctx, ctx->claim_op,
                                   ngx_http_durable_claim_done);
}


static ngx_int_t
ngx_http_durable_claim_wait(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t expired)
{
    ngx_int_t  rc;

    if (!ctx->wait_news) {
        /* the deadline, and nothing new since the last try */
        rc = ngx_http_durable_claim_answer(r, ctx);

    } else {
        ctx->claim_expired = expired;
        rc = ngx_http_durable_claim_post(r, ctx);
    }

    return ngx_http_durable_wait_answered(rc);
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
    ngx_http_durable_call_t *c)
{
    ds_op_t  *op = c->op;

    int64_t    now, delay;
    ngx_int_t  rc;

    if (c->rc != DS_OK) {
        return ngx_http_durable_store_error(r, ctx, c->rc, c->what);
    }

    ngx_http_durable_metrics_claimed(ngx_http_durable_claim_kinds[
                                         ctx->claim_kind],
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
