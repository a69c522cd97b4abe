
/*
 * Copyright (C) ngx_durable authors
 *
 * The worker protocol (docs/worker-protocol.md): a request goes to its
 * claim (_claim.c), completion (_complete.c), renewal or abandonment.  A
 * completion, renewal or abandonment of one item is a write of the
 * store; here it is submitted, counted and answered.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_worker.h"
#include "ngx_http_durable_claim.h"
#include "ngx_http_durable_complete.h"
#include "ngx_http_durable_json.h"
#include "ngx_http_durable_log.h"
#include "ngx_http_durable_metrics.h"
#include "ngx_http_durable_params.h"
#include "ngx_http_durable_render.h"
#include "ngx_http_durable_store.h"
#include "ngx_http_durable_variables.h"
#include "ngx_http_durable_writer.h"


static ngx_int_t ngx_http_durable_lease_op(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx);
static ngx_int_t ngx_http_durable_work_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);


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
        || ngx_http_durable_get_work_key(r, ctx, &in.text, k) != NGX_OK)
    {
        return ngx_http_durable_fail(r, ctx);
    }

    return ngx_http_durable_work_post(r, ctx, k);
}


ngx_int_t
ngx_http_durable_work_post(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx,
    ngx_http_durable_work_t *k)
{
    ngx_http_durable_work_prepare(r, ctx, k);

    return ngx_http_durable_submit(r, ctx, &k->op,
                                   ngx_http_durable_work_done);
}


void
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
    ngx_http_durable_call_t *c)
{
    ngx_http_durable_work_t  *k = c->op->data;

    u_char      *p;
    ngx_str_t    body;
    ngx_uint_t   status;
    const char  *message;

#if (NGX_DEBUG)
    static const char  *actions[] = { "claim", "complete", "renew",
                                      "abandon" };
#endif

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "durable work: %s of \"%*s\" (kind:%d), rc:%d",
                   actions[k->action], (size_t) k->op.in.work.id.len,
                   k->op.in.work.id.data, (int) k->op.in.work.kind, c->rc);

    ngx_http_durable_work_count(&k->op, k->action, c->rc);
    ngx_http_durable_work_lifecycle(r, &k->op, k->action, c->rc);

    if (ngx_http_durable_work_refusal(c->rc, &status, &message)) {
        return ngx_http_durable_send_error(r, status, message);
    }

    if (c->rc != DS_OK) {
        return ngx_http_durable_store_error(r, ctx, c->rc, c->what);
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

        ngx_http_durable_work_log(ctx, k, c->rc);

    } else {
        p = ngx_cpymem(p, "{}", 2);
    }

    body.len = p - body.data;

    return ngx_http_durable_send(r, NGX_HTTP_OK, &body);
}


/*
 * $durable_instance_id and $durable_runtime_status of a request that
 * completed one orchestration: a body of one completion, an object or an
 * array of one, with claim= or without; a request of several completions
 * names no one instance, and logs neither
 */

void
ngx_http_durable_work_log(ngx_http_durable_ctx_t *ctx,
    ngx_http_durable_work_t *k, int rc)
{
    if (rc != DS_OK
        || k->action != DS_ROUTE_WORK_COMPLETE
        || k->op.in.work.kind != DS_WORK_ORCHESTRATION
        || (k->batch && k->batch->n != 1))
    {
        return;
    }

    ngx_http_durable_log_status(ctx, k->op.out.work.status);
    ctx->log_id.data = (u_char *) k->op.in.work.id.data;
    ctx->log_id.len = k->op.in.work.id.len;
}


/*
 * what a renew, abandon or completion did, for the metrics; the gRPC
 * completions and abandons are counted here too
 */

void
ngx_http_durable_work_count(ds_op_t *op, ds_route_work_action_e action,
    int rc)
{
    switch (rc) {

    case DS_OK:
        if (action == DS_ROUTE_WORK_COMPLETE) {
            ngx_http_durable_metrics_completed(op->in.work.kind);

        } else if (action == DS_ROUTE_WORK_RENEW) {
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
 * the lifecycle line of a completion that changed an orchestration's
 * status (not of a replay, nor of an episode that left it Running); a
 * failure gives the reason of its failing action, if it has one
 */

void
ngx_http_durable_work_lifecycle(ngx_http_request_t *r, ds_op_t *op,
    ds_route_work_action_e action, int rc)
{
    size_t              i;
    ds_str_t            reason;
    const char         *change;
    const ds_action_t  *a;

    if (rc != DS_OK
        || action != DS_ROUTE_WORK_COMPLETE
        || op->in.work.kind != DS_WORK_ORCHESTRATION
        || !op->out.work.changed)
    {
        return;
    }

    reason.data = NULL;
    reason.len = 0;

    switch (op->out.work.status) {

    case DS_RUNNING:
        change = "running";
        break;

    case DS_COMPLETED:
        change = "completed";
        break;

    case DS_CONTINUED_AS_NEW:
        change = "continued as new";
        break;

    case DS_TERMINATED:
        /*
         * a termination of an ancestor's tree among the actions ended
         * the instance; which one did is not known here: no reason
         */
        change = "terminated";
        break;

    case DS_FAILED:
        change = "failed";

        for (i = 0; i < op->in.work.nactions; i++) {
            a = &op->in.work.actions[i];

            if (a->type == DS_ACT_FAIL) {
                reason = a->reason;
            }
        }

        break;

    default:
        return;
    }

    ngx_http_durable_lifecycle(r, op->in.work.id, change, reason);
}


/* a refusal of the store: its status code and message */

ngx_uint_t
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
