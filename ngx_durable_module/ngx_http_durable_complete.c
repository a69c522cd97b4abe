
/*
 * Copyright (C) ngx_durable authors
 *
 * Completions of the worker protocol: the body is one completion, or an
 * array of them answered together; an orchestration's completion carries
 * the actions its episode decided. With claim=KIND the same batch claims
 * items of that kind after applying the completions, so that a worker
 * needs one round trip per step.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_complete.h"
#include "ngx_http_durable_claim.h"
#include "ds_jspan.h"
#include "ngx_http_durable_json.h"
#include "ngx_http_durable_params.h"
#include "ngx_http_durable_render.h"
#include "ngx_http_durable_store.h"
#include "ngx_http_durable_worker.h"
#include "ngx_http_durable_writer.h"


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
static ngx_int_t ngx_http_durable_parse_action(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *span, size_t index,
    ds_action_t *act);
static ngx_int_t ngx_http_durable_get_needed(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *span, const char *name,
    ngx_uint_t needed, ds_str_t *out);
static ngx_int_t ngx_http_durable_action_error(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, const ds_action_t *acts,
    const ds_action_fault_t *f);
static ngx_int_t ngx_http_durable_many_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static ngx_int_t ngx_http_durable_many_claimed(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static ngx_int_t ngx_http_durable_many_answer(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_work_batch_t *b);


/*
 * complete: the body is one completion, or an array of completions that
 * become writes of one batch and are answered together; with claim=,
 * one completion too is answered as the array form is, next to the items
 */

ngx_int_t
ngx_http_durable_complete(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx)
{
    ngx_http_durable_body_t   in;
    ngx_http_durable_work_t  *k;

    if (ngx_http_durable_body_parse(r, ctx, &in, 1) != NGX_OK) {
        return ngx_http_durable_fail(r, ctx);
    }

    if (ngx_http_durable_json_array(&in.text)
        || ctx->query.set[DS_ROUTE_Q_CLAIM])
    {
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


/*
 * all are parsed before any is queued: a malformed one applies nothing;
 * with claim= a claim follows them in their batch (one commit) and sees
 * what they made claimable
 */

static ngx_int_t
ngx_http_durable_complete_many(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_body_t *in)
{
    ngx_int_t                       rc;
    ngx_uint_t                      i, n, calls, array;
    ds_route_work_kind_e            kind;
    ngx_http_durable_call_t       **cs;
    ds_str_t                        span;
    ngx_http_durable_body_t         item;
    ds_jspan_iter_t                 it;
    ngx_http_durable_work_t        *k;
    ngx_http_durable_work_batch_t  *b;
    ngx_http_durable_loc_conf_t    *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    array = ngx_http_durable_json_array(&in->text);
    n = 1;

    if (array) {
        if (!ds_jspan_iter(&it, (u_char *) in->text.data, in->text.len)) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        for (n = 0; ds_jspan_next(&it, NULL, &span); n++) {
            /* void */
        }
    }

    if (n == 0 || n > dlcf->worker_max_items) {
        return ngx_http_durable_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "An array of completions holds 1 to %ui of them.",
                   dlcf->worker_max_items);
    }

    b = ngx_pcalloc(r->pool, sizeof(ngx_http_durable_work_batch_t));
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->items = ngx_pcalloc(r->pool, n * sizeof(ngx_http_durable_work_t));
    if (b->items == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->n = n;
    b->claim = ctx->query.set[DS_ROUTE_Q_CLAIM];

    if (b->claim
        && (ngx_http_durable_claim_kind(r, ctx, &kind) != NGX_OK
            || ngx_http_durable_claim_prepare(r, ctx, kind) != NGX_OK))
    {
        return ngx_http_durable_fail(r, ctx);
    }

    if (array) {
        if (!ds_jspan_iter(&it, (u_char *) in->text.data, in->text.len)) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* a 400 says which completion, counted from 0 as actions */
        ctx->in_completions = 1;
    }

    for (i = 0; i < n; i++) {
        k = &b->items[i];
        k->batch = b;

        if (array) {
            if (!ds_jspan_next(&it, NULL, &item.text)) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ctx->err_completion = i;

        } else {
            item = *in;
        }

        if (!ngx_http_durable_json_object(&item.text)) {
            (void) ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                       "Every completion in the array must be an object.");
            return ngx_http_durable_fail(r, ctx);
        }

        if (ngx_http_durable_parse_completion(r, ctx, &item, k) != NGX_OK) {
            return ngx_http_durable_fail(r, ctx);
        }

        ngx_http_durable_work_prepare(r, ctx, k);
    }

    ctx->in_completions = 0;

    calls = n + b->claim;

    cs = ngx_palloc(r->pool, calls * sizeof(ngx_http_durable_call_t *));
    if (cs == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < calls; i++) {
        if (i < n) {
            cs[i] = ngx_http_durable_call_alloc(r, &b->items[i].op,
                                                ngx_http_durable_many_done);

        } else {
            ctx->claim_op->data = b;
            cs[i] = ngx_http_durable_call_alloc(r, ctx->claim_op,
                                                ngx_http_durable_many_claimed);
        }

        if (cs[i] == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cs[i]->group = &b->pending;
    }

    b->pending = calls;

    /*
     * from here nothing fails: one batch; the last call holds the
     * request, and whichever call is answered last answers for all
     */

    rc = NGX_DONE;

    for (i = 0; i < calls; i++) {
        rc = ngx_http_durable_call_submit(r, ctx->store, cs[i],
                                          i == calls - 1
                                          ? NGX_HTTP_DURABLE_HOLD
                                          : NGX_HTTP_DURABLE_MORE);
    }

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
    size_t             n, cap;
    ds_action_t       *acts, *more;
    ds_action_fault_t  fault;
    ds_str_t           list, span;
    ds_jspan_iter_t    it;

    if (ngx_http_durable_get_work_key(r, ctx, &in->text, k) != NGX_OK) {
        return NGX_ERROR;
    }

    n = 0;
    acts = NULL;

    if (ngx_http_durable_get_member(r, ctx, &in->text, "actions", &list)) {
        if (!ngx_http_durable_json_array(&list)
            || !ds_jspan_iter(&it, (u_char *) list.data, list.len))
        {
            return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                       "The member 'actions' must be an array.");
        }

        /*
         * The array grows as its actions parse, so that a body of many
         * bad ones (a 1 MB array of zeros) is refused at its first one,
         * not after an action record (about 230 bytes) was allocated for
         * every element; a good action takes tens of bytes of body.
         */

        cap = 0;

        while (ds_jspan_next(&it, NULL, &span)) {
            if (n == cap) {
                cap = cap ? 2 * cap : 16;

                more = ngx_palloc(r->pool, cap * sizeof(ds_action_t));
                if (more == NULL) {
                    return NGX_ERROR;
                }

                if (n) {
                    ngx_memcpy(more, acts, n * sizeof(ds_action_t));
                }

                acts = more;
            }

            ngx_memzero(&acts[n], sizeof(ds_action_t));

            if (ngx_http_durable_parse_action(r, ctx, &span, n, &acts[n])
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            /*
             * its names and id by the store's rules at once, so that the
             * first bad action is the one answered, whatever is wrong
             * with it, and a body of many is refused at the first
             */

            switch (ds_work_actions_check(k->op.in.work.id, &acts[n], 1,
                                          &fault))
            {
            case DS_OK:
                break;

            case DS_INVALID:
                fault.index = n;
                return ngx_http_durable_action_error(r, ctx, acts, &fault);

            default:
                return NGX_ERROR;
            }

            n++;
        }
    }

    /*
     * the rules between actions (a finishing one last, schedule ids
     * unique): a 400 that names the action
     */

    switch (ds_work_actions_order_check(acts, n, &fault)) {

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
    ds_str_t  result, reason, details;
    ds_str_t  span;

    if (ngx_http_durable_get_work_key(r, ctx, &in->text, k) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memzero(&reason, sizeof(ds_str_t));
    ngx_memzero(&details, sizeof(ds_str_t));
    ngx_http_durable_get_raw(r, ctx, &in->text, "result", &result);

    /* a failure member that is null is none */
    ngx_http_durable_get_raw(r, ctx, &in->text, "failure", &span);
    failed = (span.len != 0);

    if (failed) {
        if (!ngx_http_durable_json_object(&span)) {
            return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                       "The member 'failure' must be an object.");
        }

        if (ngx_http_durable_get_string(r, ctx, &span, "reason", 0, &reason)
            != NGX_OK
            || ngx_http_durable_quote(r, &reason) != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_http_durable_get_raw(r, ctx, &span, "details", &details);
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
    ds_str_t    del, state;
    ngx_uint_t  drop;

    if (ngx_http_durable_get_work_key(r, ctx, &in->text, k) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the body is minified: a boolean is the bare word; null is none */
    ngx_http_durable_get_raw(r, ctx, &in->text, "delete", &del);
    ngx_http_durable_get_raw(r, ctx, &in->text, "state", &state);

    if (del.len == 4 && ngx_strncmp(del.data, "true", 4) == 0) {
        drop = 1;

    } else if (del.len == 0
               || (del.len == 5 && ngx_strncmp(del.data, "false", 5) == 0))
    {
        drop = 0;

    } else {
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "The member 'delete' must be true or false.");
    }

    /*
     * no state (absent or null) deletes the entity, as a gRPC worker's
     * result without entityState does: a worker whose state became
     * undefined drops the member, and that must not keep a null state
     */

    k->op.in.work.delete_state = drop || state.len == 0;
    k->op.in.work.result = state;

    return NGX_OK;
}


/*
 * One completion of several is done: the one answered last answers for
 * all (the writer counted it out of b->pending, its call's group).
 */

static ngx_int_t
ngx_http_durable_many_done(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx,
    ngx_http_durable_call_t *c)
{
    ngx_http_durable_work_t  *k = c->op->data;

    ngx_http_durable_work_batch_t  *b = k->batch;

    k->rc = c->rc;

    ngx_http_durable_work_log(ctx, k, c->rc);
    ngx_http_durable_work_count(&k->op, k->action, c->rc);
    ngx_http_durable_work_lifecycle(r, &k->op, k->action, c->rc);

    if (b->pending) {
        return NGX_DONE;
    }

    return ngx_http_durable_many_answer(r, ctx, b);
}


/* the claim that followed the completions is done */

static ngx_int_t
ngx_http_durable_many_claimed(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    ngx_http_durable_work_batch_t  *b = c->op->data;

    b->claim_rc = c->rc;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "durable claim after completions: %uz items, rc:%d, "
                   "kind:%d", c->op->out.claim.claimed, c->rc,
                   (int) ctx->claim_kind);

    if (b->pending) {
        return NGX_DONE;
    }

    return ngx_http_durable_many_answer(r, ctx, b);
}


/*
 * 200 and an array of results, in the order of the completions:
 * {"status":200[,"runtimeStatus":".."]} or {"status":409,"Message":".."};
 * with claim=, {"results":[...],"items":[...]}. A store failure (full,
 * I/O) answers the request as a whole: some items may be applied, and
 * sending them again is safe (a completion with the same lease token
 * answers the same and changes nothing); the items claimed with them
 * become claimable again when their leases run out.
 */

static ngx_int_t
ngx_http_durable_many_answer(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_work_batch_t *b)
{
    u_char                   *p;
    size_t                    len;
    ngx_str_t                 body, items;
    ngx_uint_t                i, status;
    const char               *message;
    ngx_http_durable_work_t  *k;

    if (b->claim) {
        if (b->claim_rc != DS_OK) {
            return ngx_http_durable_store_error(r, ctx, b->claim_rc,
                                                "claiming work");
        }

        if (ngx_http_durable_claim_items(ctx, &items) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else {
        ngx_str_null(&items);
    }

    /* a store failure answers for all; else the exact length, in the
     * same branches as the writing below; the items' object,
     * {"items":[...]}, follows {"results":[...] in a buffer of its own,
     * its '{' made the ',' between them */

    len = sizeof("[]") - 1 + b->n - 1;

    if (b->claim) {
        len += sizeof("{\"results\":") - 1;
    }

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

    if (b->claim) {
        p = ngx_cpymem(p, "{\"results\":", sizeof("{\"results\":") - 1);
    }

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

    if (!b->claim) {
        return ngx_http_durable_send(r, NGX_HTTP_OK, &body);
    }

    /* the items follow as they were rendered: {"items":[...]} less its
       '{', after a ',' that takes its place */

    items.data[0] = ',';

    return ngx_http_durable_send_pair(r, NGX_HTTP_OK, &body, &items);
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


static ngx_int_t ngx_http_durable_parse_members(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *span,
    const ngx_http_durable_action_type_t *t, ds_action_t *act);


/*
 * One action, the one at index in "actions". Its errors name it: "Action
 * 3: ..." until its type is known, then "Action 3 (raiseEvent): ...";
 * the errors of its members through ngx_http_durable_member_error(). An
 * empty name is left to the rules of names (ds_work_actions_check()),
 * whose words say what a name must be.
 */

static ngx_int_t
ngx_http_durable_parse_action(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *span, size_t index,
    ds_action_t *act)
{
    ngx_int_t                              rc;
    ds_str_t                               type;
    const ngx_http_durable_action_type_t  *t, *end;

    if (!ngx_http_durable_json_object(span)) {
        return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "Action %uz: an action must be a JSON object.", index);
    }

    ctx->in_action = 1;
    ctx->err_action = index;
    ctx->err_action_type = NULL;

    if (ngx_http_durable_get_string(r, ctx, span, "type", 0, &type)
        != NGX_OK)
    {
        goto done;
    }

    if (type.data == NULL) {
        (void) ngx_http_durable_member_error(r, ctx, "type", "is required");
        goto done;
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
        (void) ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                   "Action %uz: unknown type '%*s'.", index, type.len,
                   type.data);
        goto done;
    }

    ctx->err_action_type = t->name;

    rc = ngx_http_durable_parse_members(r, ctx, span, t, act);

    ctx->in_action = 0;

    return rc;

done:

    ctx->in_action = 0;

    return NGX_ERROR;
}


/* the members of an action of type t */

static ngx_int_t
ngx_http_durable_parse_members(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *span,
    const ngx_http_durable_action_type_t *t, ds_action_t *act)
{
    char             text[NGX_HTTP_DURABLE_FAULT_LEN];
    ds_str_t         fire;
    ds_name_fault_t  fault;

    act->type = t->type;
    act->id = -1;

    if (t->needs_id
        && ngx_http_durable_get_int(r, ctx, span, "id", &act->id) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_durable_get_needed(r, ctx, span, "name", t->needs_name,
                                    &act->name)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (t->input) {
        ngx_http_durable_get_raw(r, ctx, span, t->input, &act->input);
    }

    switch (act->type) {

    case DS_ACT_START_SUB:
        if (ngx_http_durable_get_string(r, ctx, span, "instanceId", 0,
                                        &act->instance_id)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        /*
         * only an absent (or null) id gets the default: "" is an id the
         * rule refuses, not an unset one, or the child would not be the
         * one the worker named
         */

        if (act->instance_id.data != NULL && act->instance_id.len == 0) {
            (void) ds_name_instance_id(act->instance_id, &fault);
            ds_name_fault_text(&fault, text, sizeof(text));

            return ngx_http_durable_member_error(r, ctx, "instanceId",
                                                 text);
        }

        return NGX_OK;

    case DS_ACT_RAISE_EVENT:
        return ngx_http_durable_get_needed(r, ctx, span, "instanceId", 1,
                                           &act->instance_id);

    case DS_ACT_SIGNAL_ENTITY:
        if (ngx_http_durable_get_entity(r, ctx, span, &act->entity_name,
                                        &act->entity_key)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        return ngx_http_durable_get_needed(r, ctx, span, "operation", 1,
                                           &act->name);

    case DS_ACT_CREATE_TIMER:
        if (ngx_http_durable_get_needed(r, ctx, span, "fireAt", 1, &fire)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ds_time_parse(fire.data, fire.len, &act->fire_at) != DS_OK) {
            return ngx_http_durable_set_error(r, ctx, NGX_HTTP_BAD_REQUEST,
                       "Action %ui (%s): 'fireAt' '%*s' is not an ISO 8601 "
                       "time.", ctx->err_action, t->name, fire.len,
                       fire.data);
        }

        return NGX_OK;

    case DS_ACT_FAIL:
        if (ngx_http_durable_get_string(r, ctx, span, "reason", 0,
                                        &act->reason)
            != NGX_OK
            || ngx_http_durable_quote(r, &act->reason) != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_http_durable_get_raw(r, ctx, span, "details", &act->details);
        return NGX_OK;

    default:
        return NGX_OK;
    }
}


/*
 * A string member an action needs when needed: absent or null is a 400,
 * an empty string is read as one, for the rules of names to word
 */

static ngx_int_t
ngx_http_durable_get_needed(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_str_t *span, const char *name,
    ngx_uint_t needed, ds_str_t *out)
{
    if (ngx_http_durable_get_string(r, ctx, span, name, 0, out) != NGX_OK) {
        return NGX_ERROR;
    }

    if (needed && out->data == NULL) {
        return ngx_http_durable_member_error(r, ctx, name, "is required");
    }

    return NGX_OK;
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
