
/*
 * Copyright (C) ngx_durable authors
 *
 * The worker's calls of the gRPC service: Hello, GetWorkItems, the
 * completions and the abandons.
 *
 * GetWorkItems is a server stream that lives as long as the worker: it
 * waits as a long-poll claim does (ngx_http_durable_wait.c: woken by the
 * notifications of any process, and when leased work becomes visible
 * again), claims each kind of work in one batch of the writer, and sends
 * every item it took as one message. It keeps the worker's concurrency
 * limits: an item counts until its completion or abandon comes, through
 * this process or another one (an SDK may send them on another
 * connection than the stream's: the processes share the leases they
 * release, ngx_http_durable_notify.c), or its lease runs out. An idle
 * stream gets a HealthPing every ping interval, which keeps proxies from
 * closing it. While the stream lasts, the leases of the items it handed
 * out are renewed every third of the lease, so that an item worked on
 * longer than the lease is not handed out again; they run out when the
 * stream is gone. A process that shuts down ends its
 * streams with status OK: the SDKs connect again, to the new processes,
 * and what was handed out stays leased to them. A stream whose client
 * went away (reset, or its connection closed) abandons what it handed
 * out, and what a claim took meanwhile, so that another worker gets it
 * at once rather than when the lease runs out.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_grpc.h"
#include "ngx_http_durable_log.h"
#include "ngx_http_durable_metrics.h"
#include "ngx_http_durable_notify.h"
#include "ngx_http_durable_params.h"
#include "ngx_http_durable_random.h"
#include "ngx_http_durable_render.h"
#include "ngx_http_durable_variables.h"
#include "ngx_http_durable_wait.h"
#include "ngx_http_durable_worker.h"
#include "ngx_http_durable_writer.h"


#define NGX_HTTP_DURABLE_GRPC_KINDS      3
/* a stream ends, and the SDK opens another, after sending this much */
#define NGX_HTTP_DURABLE_GRPC_STREAM_MAX (64 * 1024 * 1024)


typedef struct ngx_http_durable_grpc_stream_s  ngx_http_durable_grpc_stream_t;
typedef struct ngx_http_durable_grpc_frame_s  ngx_http_durable_grpc_frame_t;


/* an item handed out and not completed yet: it counts toward the limit */
typedef struct {
    ngx_queue_t                      queue;
    ds_work_kind_e                   kind;
    int64_t                          expires;   /* µs: the lease's end */
    uint8_t                          lease[DS_LEASE_LEN];
    ngx_str_t                        token;     /* to abandon it */
} ngx_http_durable_grpc_lease_t;


/* an item packed in the writer's thread, in the claim's arena */
struct ngx_http_durable_grpc_frame_s {
    ngx_http_durable_grpc_frame_t   *next;
    uint8_t                         *data;
    size_t                           len;
    int64_t                          expires;
    uint8_t                          lease[DS_LEASE_LEN];
    ProtobufCBinaryData              token;     /* the item's, packed */
};


/* an abandon or renewal that outlives its stream: malloc()ed */
typedef struct {
    ds_op_t                          op;
    dg_arena_t                       arena;
    dg_ctx_t                         dc;
} ngx_http_durable_grpc_abandon_t;


/* the claims of one kind of work */
typedef struct {
    ngx_http_durable_grpc_stream_t  *stream;
    ds_op_t                          op;
    ngx_http_durable_call_t          call;      /* made again each time */
    ds_claim_filter_t                filter;
    uint8_t                         *tokens;
    ngx_uint_t                       limit;     /* items at once */
    ngx_uint_t                       inflight;
    unsigned                         on:1;      /* claimed at all */
    unsigned                         queued:1;  /* in this attempt */

    /* filled in the writer's thread: malloc()ed memory, not the pool's */
    dg_arena_t                       arena;
    dg_ctx_t                         dc;
    ngx_http_durable_grpc_frame_t   *frames;
    ngx_http_durable_grpc_frame_t  **last;
} ngx_http_durable_grpc_claim_t;


struct ngx_http_durable_grpc_stream_s {
    ngx_http_request_t              *request;
    ngx_http_durable_grpc_ctx_t     *grpc;
    ngx_http_durable_grpc_claim_t    claims[NGX_HTTP_DURABLE_GRPC_KINDS];
    ngx_queue_t                      leases;
    ngx_queue_t                      free;      /* lease records to reuse */
    ngx_queue_t                      queue;     /* among the streams */
    ngx_msec_t                       ping;      /* interval */
    ngx_msec_t                       quiet_since;   /* the last message */
    ngx_msec_t                       renew;     /* interval */
    ngx_msec_t                       renewed;   /* the last renewal */
    int64_t                          lease_us;
    ngx_atomic_uint_t                released;  /* read of the ring so far */
    size_t                           sent;
    ngx_buf_t                        ping_buf;  /* the ping, reused */
    ngx_uint_t                       pending;   /* claims not answered */
    unsigned                         claiming:1;    /* in the writer */
    unsigned                         closed:1;      /* the request ended */
    unsigned                         held:1;    /* a tick skipped */
};


static ngx_int_t ngx_http_durable_grpc_filters(ngx_http_request_t *r,
    ngx_http_durable_grpc_stream_t *st, GetWorkItemsRequest *req);
static ngx_int_t ngx_http_durable_grpc_claim(ngx_http_request_t *r,
    ngx_http_durable_grpc_stream_t *st);
static void ngx_http_durable_grpc_claim_begin(void *data);
static int ngx_http_durable_grpc_claim_item(void *data, ds_op_t *op,
    const ds_work_item_t *item);
static ngx_int_t ngx_http_durable_grpc_claimed(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static ngx_int_t ngx_http_durable_grpc_claimed_one(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static ngx_int_t ngx_http_durable_grpc_send_items(ngx_http_request_t *r,
    ngx_http_durable_grpc_stream_t *st, ngx_http_durable_grpc_claim_t *cl);
static ngx_int_t ngx_http_durable_grpc_stream_wait(ngx_http_request_t *r,
    ngx_http_durable_grpc_stream_t *st);
static ngx_int_t ngx_http_durable_grpc_stream_wake(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t expired);
static ngx_int_t ngx_http_durable_grpc_ping(ngx_http_request_t *r,
    ngx_http_durable_grpc_stream_t *st);
static void ngx_http_durable_grpc_stream_writer(ngx_http_request_t *r);
static void ngx_http_durable_grpc_stream_cleanup(void *data);
static void ngx_http_durable_grpc_expire(ngx_http_durable_grpc_stream_t *st);
static void ngx_http_durable_grpc_released(int rc);
static ngx_uint_t ngx_http_durable_grpc_release_one(
    ngx_http_durable_grpc_stream_t *st, const uint8_t *lease);
static void ngx_http_durable_grpc_renew(ngx_http_durable_grpc_stream_t *st);
static void ngx_http_durable_grpc_item_op(ngx_http_durable_grpc_stream_t *st,
    ds_op_type_e type, ds_work_kind_e kind, const u_char *token, size_t len);
static void ngx_http_durable_grpc_item_done(ds_op_t *op);
static ngx_http_durable_grpc_lease_t *ngx_http_durable_grpc_lease_find(
    const uint8_t *lease, ngx_http_durable_grpc_stream_t **stp);
static ngx_int_t ngx_http_durable_grpc_work_id(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_op_t *op);
static ngx_int_t ngx_http_durable_grpc_work_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);


/* the streams of this process, for completions to wake */
static ngx_queue_t  ngx_http_durable_grpc_streams;
static ngx_uint_t   ngx_http_durable_grpc_streams_init;


/* Hello: an Empty for an Empty, once the store is there */

ngx_int_t
ngx_http_durable_grpc_hello(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    Empty  empty = EMPTY__INIT;

    return ngx_http_durable_grpc_reply(r, &empty.base);
}


/* GetWorkItems */

ngx_int_t
ngx_http_durable_grpc_work_items(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    ngx_int_t                        rc;
    ngx_uint_t                       k;
    int32_t                          limits[NGX_HTTP_DURABLE_GRPC_KINDS];
    ngx_http_cleanup_t              *cln;
    GetWorkItemsRequest             *req;
    ngx_http_durable_grpc_claim_t   *cl;
    ngx_http_durable_grpc_stream_t  *st;
    ngx_http_durable_loc_conf_t     *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    req = (GetWorkItemsRequest *) ngx_http_durable_grpc_unpack(r, g,
                                          &get_work_items_request__descriptor);
    if (req == NULL) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    st = ngx_pcalloc(r->pool, sizeof(ngx_http_durable_grpc_stream_t));
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    st->request = r;
    st->grpc = g;
    st->ping = dlcf->grpc_ping;
    st->quiet_since = ngx_current_msec;
    st->lease_us = (int64_t) dlcf->worker_lease * 1000;
    st->renew = dlcf->worker_lease / 3;
    st->renewed = ngx_current_msec;
    ngx_queue_init(&st->leases);
    ngx_queue_init(&st->free);

    /* releases before the stream are of no item of it */
    st->released = ngx_http_durable_released_head();

    g->data = st;

    limits[DS_WORK_ORCHESTRATION] = req->maxconcurrentorchestrationworkitems;
    limits[DS_WORK_ACTIVITY] = req->maxconcurrentactivityworkitems;
    limits[DS_WORK_ENTITY] = req->maxconcurrententityworkitems;

    for (k = 0; k < NGX_HTTP_DURABLE_GRPC_KINDS; k++) {
        cl = &st->claims[k];
        cl->stream = st;
        cl->on = 1;

        /* no limit given: durable_task_worker_max_items at a time */
        cl->limit = limits[k] > 0 ? (ngx_uint_t) limits[k]
                                  : dlcf->worker_max_items;

        cl->tokens = ngx_pnalloc(r->pool, ngx_min(cl->limit,
                                                  dlcf->worker_max_items)
                                          * DS_LEASE_LEN);
        if (cl->tokens == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cl->op.type = DS_OP_WORK_CLAIM;
        cl->op.hub = ngx_http_durable_ds_str(&g->base.hub);
        cl->op.data = cl;
        cl->op.in.claim.kind = (ds_work_kind_e) k;
        cl->op.in.claim.lease_us = st->lease_us;
        cl->op.in.claim.tokens = cl->tokens;
        cl->op.in.claim.filter = &cl->filter;
        cl->op.in.claim.begin = ngx_http_durable_grpc_claim_begin;
        cl->op.in.claim.item = ngx_http_durable_grpc_claim_item;
        cl->op.in.claim.item_data = cl;
    }

    if (ngx_http_durable_grpc_filters(r, st, req) != NGX_OK) {
        return ngx_http_durable_grpc_status(r, DG_INVALID_ARGUMENT, "%V",
                                            &g->base.err);
    }

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_durable_grpc_stream_cleanup;
    cln->data = st;

    if (!ngx_http_durable_grpc_streams_init) {
        ngx_queue_init(&ngx_http_durable_grpc_streams);
        ngx_http_durable_grpc_streams_init = 1;
    }

    ngx_queue_insert_tail(&ngx_http_durable_grpc_streams, &st->queue);

    /* the headers at once: the SDK is connected */

    rc = ngx_http_durable_grpc_stream_open(r, g);
    if (rc == NGX_ERROR || rc > NGX_OK) {
        return rc;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "durable grpc stream: opened, limits %ui %ui %ui",
                   st->claims[0].limit, st->claims[1].limit,
                   st->claims[2].limit);

    /* before the first claim: a change after it wakes the stream */
    ngx_http_durable_wait_mark(&g->base);

    rc = ngx_http_durable_grpc_claim(r, st);
    if (rc != NGX_AGAIN) {
        return rc;
    }

    return ngx_http_durable_grpc_stream_wait(r, st);
}


/*
 * The work-item filters: a worker that sends them gets only items of the
 * names listed, and no items of a kind it lists no name of. The SDKs send
 * one name per orchestrator, activity or entity they registered; more
 * than DG_FILTER_NAMES_MAX of a kind is refused, as every claim of the
 * stream matches its items against them in the writer's thread.
 */

static ngx_int_t
ngx_http_durable_grpc_filters(ngx_http_request_t *r,
    ngx_http_durable_grpc_stream_t *st, GetWorkItemsRequest *req)
{
    size_t                n[NGX_HTTP_DURABLE_GRPC_KINDS], i;
    ds_str_t             *names;
    ngx_uint_t            k;
    WorkItemFilters      *f;
    ProtobufCBinaryData  *name;

    static const char    *what[] = {
        "orchestrations", "activities", "entities"
    };

    f = req->workitemfilters;

    if (f == NULL) {
        return NGX_OK;
    }

    n[DS_WORK_ORCHESTRATION] = f->n_orchestrations;
    n[DS_WORK_ACTIVITY] = f->n_activities;
    n[DS_WORK_ENTITY] = f->n_entities;

    for (k = 0; k < NGX_HTTP_DURABLE_GRPC_KINDS; k++) {
        if (n[k] == 0) {
            st->claims[k].on = 0;
            continue;
        }

        if (n[k] > DG_FILTER_NAMES_MAX) {
            return ngx_http_durable_set_error(r, &st->grpc->base,
                       NGX_HTTP_BAD_REQUEST,
                       "'workItemFilters.%s' has %uz names, more than %d",
                       what[k], n[k], DG_FILTER_NAMES_MAX);
        }

        names = ngx_palloc(r->pool, n[k] * sizeof(ds_str_t));
        if (names == NULL) {
            return NGX_ERROR;
        }

        for (i = 0; i < n[k]; i++) {
            switch (k) {
            case DS_WORK_ORCHESTRATION:
                name = &f->orchestrations[i]->name;
                break;
            case DS_WORK_ACTIVITY:
                name = &f->activities[i]->name;
                break;
            default:
                name = &f->entities[i]->name;
                break;
            }

            names[i].data = (const char *) name->data;
            names[i].len = name->len;

            if (ngx_http_durable_check_name(r, &st->grpc->base,
                                            "work item filter name",
                                            &names[i], DS_NAME_MAX)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        /* sorted once: each claim then searches them */
        ds_claim_filter_sort(&st->claims[k].filter, (ds_work_kind_e) k,
                             names, n[k]);
    }

    return NGX_OK;
}


/*
 * One attempt: a claim of each kind that is below its limit, all in one
 * batch of the writer; the store may answer them in any order, and the
 * last to be answered sends what they took. NGX_AGAIN: every kind is at
 * its limit, nothing was queued.
 */

static ngx_int_t
ngx_http_durable_grpc_claim(ngx_http_request_t *r,
    ngx_http_durable_grpc_stream_t *st)
{
    ngx_int_t                       rc;
    ngx_uint_t                      k, n, last;
    ngx_http_durable_call_t        *cs[NGX_HTTP_DURABLE_GRPC_KINDS];
    ngx_http_durable_grpc_claim_t  *cl;
    ngx_http_durable_loc_conf_t    *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_durable_module);

    ngx_http_durable_grpc_expire(st);

    n = 0;

    for (k = 0; k < NGX_HTTP_DURABLE_GRPC_KINDS; k++) {
        cl = &st->claims[k];
        cl->queued = 0;

        if (!cl->on || cl->inflight >= cl->limit) {
            continue;
        }

        cl->op.in.claim.max = ngx_min(cl->limit - cl->inflight,
                                      dlcf->worker_max_items);

        ngx_http_durable_random(cl->tokens,
                                cl->op.in.claim.max * DS_LEASE_LEN);

        cs[n] = &cl->call;
        ngx_http_durable_call_init(cs[n], r, &cl->op,
                                   ngx_http_durable_grpc_claimed_one);

        cl->queued = 1;
        n++;
    }

    if (n == 0) {
        return NGX_AGAIN;
    }

    st->pending = n;

    for (k = 0; k < n; k++) {
        cs[k]->group = &st->pending;
    }

    st->claiming = 1;

    rc = NGX_DONE;
    last = n - 1;

    for (k = 0; k < n; k++) {
        rc = ngx_http_durable_call_submit(r, st->grpc->base.store, cs[k],
                                          k == last ? NGX_HTTP_DURABLE_HOLD
                                                    : NGX_HTTP_DURABLE_MORE);
    }

    return rc;
}


/* in the writer's context, at each apply of the claim: from the start */

static void
ngx_http_durable_grpc_claim_begin(void *data)
{
    ngx_http_durable_grpc_claim_t  *cl = data;

    dg_arena_free(&cl->arena);
    dg_arena_init(&cl->arena);
    dg_ctx_init(&cl->dc, dg_arena_mem(&cl->arena), 0);

    cl->frames = NULL;
    cl->last = &cl->frames;
}


/* an item as a WorkItem, packed while the claim's txn holds it */

static int
ngx_http_durable_grpc_claim_item(void *data, ds_op_t *op,
    const ds_work_item_t *item)
{
    ngx_http_durable_grpc_claim_t  *cl = data;

    WorkItem                       *wi;
    ngx_http_durable_grpc_frame_t  *f;

    f = dg_arena_alloc(&cl->arena, sizeof(ngx_http_durable_grpc_frame_t));
    if (f == NULL) {
        return 1;
    }

    if (dg_work_item_out(&cl->dc, op, item, &wi) != DG_OK
        || dg_pack(&wi->base, cl->dc.mem, &f->data, &f->len) != DG_OK)
    {
        return 1;
    }

    f->next = NULL;
    f->expires = item->lease_expires;
    f->token = wi->completiontoken;
    memcpy(f->lease, item->lease, DS_LEASE_LEN);

    *cl->last = f;
    cl->last = &f->next;

    return 0;
}


/*
 * A claim of several kinds: the one answered last answers them all,
 * whichever it is (a backend may refuse one at once, while the others
 * wait for the database)
 */

static ngx_int_t
ngx_http_durable_grpc_claimed_one(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    ngx_http_durable_grpc_stream_t  *st;

    st = ngx_http_durable_grpc_ctx(ctx)->data;

    if (st->pending) {
        return NGX_OK;
    }

    return ngx_http_durable_grpc_claimed(r, ctx, c);
}


static ngx_int_t
ngx_http_durable_grpc_claimed(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    int64_t                          now, delay, visible;
    ngx_int_t                        rc;
    ngx_uint_t                       k, more;
    ngx_http_durable_grpc_ctx_t     *g;
    ngx_http_durable_grpc_frame_t   *f;
    ngx_http_durable_grpc_claim_t   *cl;
    ngx_http_durable_grpc_stream_t  *st;

    g = ngx_http_durable_grpc_ctx(ctx);
    st = g->data;

    st->claiming = 0;

    if (st->closed) {
        /* the client went away meanwhile: what was taken goes back */

        for (k = 0; k < NGX_HTTP_DURABLE_GRPC_KINDS; k++) {
            cl = &st->claims[k];

            for (f = cl->queued && cl->op.rc == DS_OK ? cl->frames : NULL;
                 f;
                 f = f->next)
            {
                ngx_http_durable_grpc_item_op(st, DS_OP_WORK_ABANDON,
                                              cl->op.in.claim.kind,
                                              f->token.data, f->token.len);
            }

            dg_arena_free(&cl->arena);
        }

        return NGX_ERROR;
    }

    more = 0;
    visible = INT64_MAX;
    rc = NGX_OK;

    for (k = 0; k < NGX_HTTP_DURABLE_GRPC_KINDS; k++) {
        cl = &st->claims[k];

        if (!cl->queued) {
            continue;
        }

        if (rc == NGX_OK && cl->op.rc != DS_OK) {
            /* the stream ends; the SDK calls again */
            rc = ngx_http_durable_grpc_op_status(r, g, &cl->op);
            if (rc == NGX_OK) {
                rc = NGX_DONE;
            }
        }

        if (rc == NGX_OK) {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "durable grpc stream: kind %ui, %uz items",
                           k, cl->op.out.claim.claimed);

            ngx_http_durable_metrics_claimed(cl->op.in.claim.kind,
                                             cl->op.out.claim.claimed,
                                             cl->filter.expired);

            if (ngx_http_durable_grpc_send_items(r, st, cl) != NGX_OK) {
                rc = NGX_ERROR;
            }

            /* as many as asked for: more may be there */
            more |= (cl->op.out.claim.claimed == cl->op.in.claim.max
                     || cl->filter.more);
            visible = ngx_min(visible, cl->op.out.claim.visible);

        } else if (cl->op.rc == DS_OK) {
            /*
             * the stream ends for another kind's failure: what this kind
             * took in the same batch is never sent, and goes back now
             * rather than when its lease runs out
             */

            for (f = cl->frames; f; f = f->next) {
                ngx_http_durable_grpc_item_op(st, DS_OP_WORK_ABANDON,
                                              cl->op.in.claim.kind,
                                              f->token.data, f->token.len);
            }
        }

        dg_arena_free(&cl->arena);
    }

    if (rc != NGX_OK) {
        return rc == NGX_DONE ? NGX_OK : rc;
    }

    if (st->sent >= NGX_HTTP_DURABLE_GRPC_STREAM_MAX) {
        /* the request's pool holds what was sent: begin another */
        return ngx_http_durable_grpc_status(r, DG_OK, NULL);
    }

    rc = ctx->waiting ? ngx_http_durable_wait_again(r, ctx)
                      : ngx_http_durable_grpc_stream_wait(r, st);

    if (more) {
        ngx_http_durable_wait_due(ctx, 0);

    } else if (visible != INT64_MAX) {
        /* a timer or a lease that runs out makes work visible */
        now = ds_time_now();
        delay = visible > now ? (visible - now + 999) / 1000 : 0;

        if (delay < (int64_t) st->ping) {
            ngx_http_durable_wait_due(ctx, (ngx_msec_t) delay);
        }
    }

    return rc;
}


/* the items of a claim, one message each, now in the request's memory */

static ngx_int_t
ngx_http_durable_grpc_send_items(ngx_http_request_t *r,
    ngx_http_durable_grpc_stream_t *st, ngx_http_durable_grpc_claim_t *cl)
{
    u_char                         *p;
    ngx_queue_t                    *q;
    ngx_http_durable_grpc_frame_t  *f;
    ngx_http_durable_grpc_lease_t  *l;

    for (f = cl->frames; f; f = f->next) {

        p = ngx_pnalloc(r->pool, f->len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(p, f->data, f->len);

        if (ngx_http_durable_grpc_send_frame(r, p, f->len) == NGX_ERROR) {
            return NGX_ERROR;
        }

        st->sent += f->len;
        st->quiet_since = ngx_current_msec;

        if (!ngx_queue_empty(&st->free)) {
            q = ngx_queue_head(&st->free);
            ngx_queue_remove(q);
            l = ngx_queue_data(q, ngx_http_durable_grpc_lease_t, queue);

        } else {
            l = ngx_palloc(r->pool, sizeof(ngx_http_durable_grpc_lease_t));
            if (l == NULL) {
                return NGX_ERROR;
            }
        }

        l->kind = cl->op.in.claim.kind;
        l->expires = f->expires;
        ngx_memcpy(l->lease, f->lease, DS_LEASE_LEN);

        l->token.len = f->token.len;
        l->token.data = ngx_pnalloc(r->pool, f->token.len);
        if (l->token.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(l->token.data, f->token.data, f->token.len);

        ngx_queue_insert_tail(&st->leases, &l->queue);
        cl->inflight++;
    }

    return NGX_OK;
}


/*
 * Waits as a long-poll does; woken every ping interval, or every renewal
 * interval when that is shorter, without a notification: an idle stream
 * is pinged, the leases it holds are renewed.
 */

static ngx_int_t
ngx_http_durable_grpc_stream_wait(ngx_http_request_t *r,
    ngx_http_durable_grpc_stream_t *st)
{
    ngx_int_t  rc;

    rc = ngx_http_durable_wait(r, &st->grpc->base,
                               ngx_http_durable_grpc_left(st->grpc,
                                   NGX_HTTP_DURABLE_WAIT_MAX * 1000),
                               ngx_min(st->ping, st->renew),
                               ngx_http_durable_grpc_stream_wake);

    /* messages that flow control held back go when the window opens */
    r->write_event_handler = ngx_http_durable_grpc_stream_writer;

    return rc;
}


static ngx_int_t
ngx_http_durable_grpc_stream_wake(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_uint_t expired)
{
    ngx_int_t                        rc;
    ngx_http_durable_grpc_stream_t  *st;

    st = ngx_http_durable_grpc_ctx(ctx)->data;

    if (ngx_exiting) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "durable grpc stream: ends, the process exits");

        /* held back by flow control is answered all the same */
        return ngx_http_durable_wait_answered(
                   ngx_http_durable_grpc_status(r, DG_OK, NULL));
    }

    if (expired) {
        if (st->grpc->has_deadline
            && ngx_http_durable_grpc_left(st->grpc, 1) == 0)
        {
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "durable grpc stream: ends, its deadline passed");

            return ngx_http_durable_wait_answered(
                       ngx_http_durable_grpc_status(r, DG_DEADLINE_EXCEEDED,
                           "The stream's deadline passed."));
        }

        /* no deadline, or a later one: the stream goes on */
        ctx->wait_deadline = ngx_current_msec
                             + ngx_http_durable_grpc_left(st->grpc,
                                   NGX_HTTP_DURABLE_WAIT_MAX * 1000);
    }

    if (ngx_current_msec - st->renewed >= st->renew) {
        ngx_http_durable_grpc_renew(st);
    }

    if (r->out != NULL || r->buffered) {
        /*
         * flow control or a slow client holds back what was sent: no
         * ping and no claim pile up behind it; the writer brings the
         * next tick forward when it is gone
         */

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "durable grpc stream: output held, no claim");

        st->held = 1;
        return NGX_AGAIN;
    }

    if (ngx_current_msec - st->quiet_since >= st->ping) {
        if (ngx_http_durable_grpc_ping(r, st) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (!ctx->wait_news) {
        return NGX_AGAIN;
    }

    rc = ngx_http_durable_grpc_claim(r, st);

    /* NGX_DONE: the claim went to the writer, which goes on waiting */
    return rc;
}


/*
 * A ping costs the request's pool nothing after the first: the stream may
 * live for days, and its pool is freed only at its end (what a stream
 * sends otherwise counts toward NGX_HTTP_DURABLE_GRPC_STREAM_MAX). The
 * frame is packed once, its buffer reused; HTTP/2 keeps that buffer in
 * the DATA frame it queues and moves its pos as the bytes reach the
 * socket, so while pos is short of last the last ping is still queued
 * (a client that reads slowly) and none is added behind it.
 */

static ngx_int_t
ngx_http_durable_grpc_ping(ngx_http_request_t *r,
    ngx_http_durable_grpc_stream_t *st)
{
    size_t        len;
    uint8_t      *frame;
    ngx_buf_t    *b;
    WorkItem      wi = WORK_ITEM__INIT;
    HealthPing    ping = HEALTH_PING__INIT;
    ngx_chain_t   out;

    st->quiet_since = ngx_current_msec;
    b = &st->ping_buf;

    if (b->start == NULL) {
        wi.request_case = WORK_ITEM__REQUEST_HEALTH_PING;
        wi.healthping = &ping;

        if (dg_pack(&wi.base, ngx_http_durable_grpc_mem(r->pool), &frame,
                    &len)
            != DG_OK)
        {
            return NGX_ERROR;
        }

        b->start = frame;
        b->end = frame + len;

    } else if (b->pos != b->last) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "durable grpc stream: health ping still queued");
        return NGX_OK;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "durable grpc stream: health ping");

    b->pos = b->start;
    b->last = b->end;
    b->memory = 1;
    b->flush = 1;

    out.buf = b;
    out.next = NULL;

    if (ngx_http_output_filter(r, &out) == NGX_ERROR) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_durable_grpc_stream_writer(ngx_http_request_t *r)
{
    ngx_http_durable_ctx_t          *ctx;
    ngx_http_durable_grpc_stream_t  *st;

    if (r->out == NULL && !r->buffered) {
        return;
    }

    if (ngx_http_output_filter(r, NULL) == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_durable_module);
    st = ngx_http_durable_grpc_ctx(ctx)->data;

    if (st->held && r->out == NULL && !r->buffered) {
        /* sent: the ticks it skipped are made up at once */
        st->held = 0;
        ngx_http_durable_wait_due(ctx, 0);
    }
}


/*
 * The request ends (the client cancelled, the connection closed). nginx
 * runs cleanups before it waits for a claim in the writer's thread: that
 * claim's arenas are freed when it is done.
 */

static void
ngx_http_durable_grpc_stream_cleanup(void *data)
{
    ngx_http_durable_grpc_stream_t  *st = data;

    ngx_uint_t                      k;
    ngx_queue_t                    *q;
    ngx_http_durable_grpc_lease_t  *l;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, st->request->connection->log, 0,
                   "durable grpc stream: closed, claiming:%ui error:%ui",
                   (ngx_uint_t) st->claiming,
                   (ngx_uint_t) st->request->connection->error);

    ngx_queue_remove(&st->queue);
    st->closed = 1;

    /*
     * a stream the client reset, or whose connection closed: its items
     * go back at once; one that this process ended (a shutdown, a long
     * stream begun again) leaves them to the SDK, which completes them
     * over its next connection
     */

    if (st->request->connection->error && !ngx_exiting && !ngx_terminate) {
        for (q = ngx_queue_head(&st->leases);
             q != ngx_queue_sentinel(&st->leases);
             q = ngx_queue_next(q))
        {
            l = ngx_queue_data(q, ngx_http_durable_grpc_lease_t, queue);
            ngx_http_durable_grpc_item_op(st, DS_OP_WORK_ABANDON, l->kind,
                                          l->token.data, l->token.len);
        }
    }

    if (st->claiming) {
        return;
    }

    for (k = 0; k < NGX_HTTP_DURABLE_GRPC_KINDS; k++) {
        dg_arena_free(&st->claims[k].arena);
    }
}


/* the leases of what the stream holds, extended by a lease from now */

static void
ngx_http_durable_grpc_renew(ngx_http_durable_grpc_stream_t *st)
{
    ngx_queue_t                    *q, *next;
    ngx_http_durable_grpc_lease_t  *l;

    st->renewed = ngx_current_msec;

    /* a renewal refused at once releases its record: the next is kept */

    for (q = ngx_queue_head(&st->leases);
         q != ngx_queue_sentinel(&st->leases);
         q = next)
    {
        next = ngx_queue_next(q);
        l = ngx_queue_data(q, ngx_http_durable_grpc_lease_t, queue);

        ngx_http_durable_grpc_item_op(st, DS_OP_WORK_RENEW, l->kind,
                                      l->token.data, l->token.len);
    }
}


/*
 * An item's abandon (of a stream that is gone) or renewal, by its token:
 * the op lives in memory of its own, as the request may be freed before
 * the store answers. A failure only costs the wait for the lease to run
 * out.
 */

static void
ngx_http_durable_grpc_item_op(ngx_http_durable_grpc_stream_t *st,
    ds_op_type_e type, ds_work_kind_e kind, const u_char *token, size_t len)
{
    int                               rc;
    char                             *hub;
    ngx_str_t                        *h;
    ProtobufCBinaryData               t;
    ngx_http_durable_grpc_abandon_t  *a;

    a = ngx_alloc(sizeof(ngx_http_durable_grpc_abandon_t), ngx_cycle->log);
    if (a == NULL) {
        return;
    }

    ngx_memzero(&a->op, sizeof(ds_op_t));
    dg_arena_init(&a->arena);
    dg_ctx_init(&a->dc, dg_arena_mem(&a->arena), 0);

    h = &st->grpc->base.hub;

    t.len = len;
    t.data = dg_arena_alloc(&a->arena, len ? len : 1);
    hub = dg_arena_alloc(&a->arena, h->len ? h->len : 1);

    if (t.data == NULL || hub == NULL) {
        goto failed;
    }

    ngx_memcpy(t.data, token, len);

    rc = (type == DS_OP_WORK_RENEW)
         ? dg_renew_in(&a->dc, kind, t, st->lease_us, &a->op)
         : dg_abandon_in(&a->dc, kind, t, &a->op);

    if (rc != DG_OK) {
        goto failed;
    }

    ngx_memcpy(hub, h->data, h->len);
    a->op.hub.data = hub;
    a->op.hub.len = h->len;
    a->op.data = a;
    a->op.done = ngx_http_durable_grpc_item_done;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "durable grpc stream: %s an item of kind %ui",
                   type == DS_OP_WORK_RENEW ? "renews" : "abandons",
                   (ngx_uint_t) kind);

    ds_store_submit(st->grpc->base.store->ds, &a->op, 0);

    return;

failed:

    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                  "durable grpc stream: an item is left to its lease: %*s",
                  a->dc.status.len, a->dc.status.message);

    dg_arena_free(&a->arena);
    ngx_free(a);
}


static void
ngx_http_durable_grpc_item_done(ds_op_t *op)
{
    ngx_http_durable_grpc_abandon_t  *a = op->data;

    ngx_http_durable_grpc_lease_t   *l;
    ngx_http_durable_grpc_stream_t  *st;

    /* DS_CONFLICT, DS_NOTFOUND: completed or claimed again meanwhile */

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "durable grpc stream: %s an item: %d",
                   op->type == DS_OP_WORK_RENEW ? "renewed" : "abandoned",
                   op->rc);

    /* counted as the worker protocol's renewals and abandons are */

    ngx_http_durable_work_count(op, op->type == DS_OP_WORK_RENEW
                                    ? DS_ROUTE_WORK_RENEW
                                    : DS_ROUTE_WORK_ABANDON,
                                op->rc);

    if (op->type == DS_OP_WORK_RENEW) {
        l = ngx_http_durable_grpc_lease_find(op->in.work.lease, &st);

        if (l != NULL && op->rc == DS_OK) {
            l->expires = op->out.work.expires;

        } else if (l != NULL) {
            /* no longer the stream's: it does not count any more */
            (void) ngx_http_durable_grpc_release_one(st, op->in.work.lease);
            ngx_http_durable_wait_due(&st->grpc->base, 0);
        }
    }

    dg_arena_free(&a->arena);
    ngx_free(a);
}


/*
 * Items whose lease ran out no longer count: the store hands them again;
 * nor those completed or abandoned through any process meanwhile.
 */

static void
ngx_http_durable_grpc_expire(ngx_http_durable_grpc_stream_t *st)
{
    int64_t                         now;
    u_char                          lease[DS_LEASE_LEN];
    ngx_queue_t                    *q, *next;
    ngx_http_durable_grpc_lease_t  *l;

    while (ngx_http_durable_released_next(&st->released, lease) == NGX_OK) {
        if (!ngx_queue_empty(&st->leases)) {
            (void) ngx_http_durable_grpc_release_one(st, lease);
        }
    }

    now = ds_time_now();

    for (q = ngx_queue_head(&st->leases);
         q != ngx_queue_sentinel(&st->leases);
         q = next)
    {
        next = ngx_queue_next(q);
        l = ngx_queue_data(q, ngx_http_durable_grpc_lease_t, queue);

        if (l->expires <= now) {
            ngx_queue_remove(q);
            ngx_queue_insert_tail(&st->free, q);
            st->claims[l->kind].inflight--;
        }
    }
}


/*
 * The streams of this process with items out look at the ring at their
 * next tick; a refusal wrote nothing, and those of the other processes
 * are told by a notification.
 */

static void
ngx_http_durable_grpc_released(int rc)
{
    ngx_queue_t                     *q;
    ngx_http_durable_grpc_stream_t  *st;

    if (rc != DS_OK) {
        ngx_http_durable_notify();
    }

    if (!ngx_http_durable_grpc_streams_init) {
        return;
    }

    for (q = ngx_queue_head(&ngx_http_durable_grpc_streams);
         q != ngx_queue_sentinel(&ngx_http_durable_grpc_streams);
         q = ngx_queue_next(q))
    {
        st = ngx_queue_data(q, ngx_http_durable_grpc_stream_t, queue);

        if (!ngx_queue_empty(&st->leases)) {
            ngx_http_durable_wait_due(&st->grpc->base, 0);
        }
    }
}


/* a lease released: the stream's item of that lease no longer counts */

static ngx_uint_t
ngx_http_durable_grpc_release_one(ngx_http_durable_grpc_stream_t *st,
    const uint8_t *lease)
{
    ngx_queue_t                    *q;
    ngx_http_durable_grpc_lease_t  *l;

    for (q = ngx_queue_head(&st->leases);
         q != ngx_queue_sentinel(&st->leases);
         q = ngx_queue_next(q))
    {
        l = ngx_queue_data(q, ngx_http_durable_grpc_lease_t, queue);

        if (ngx_memcmp(l->lease, lease, DS_LEASE_LEN) != 0) {
            continue;
        }

        ngx_queue_remove(q);
        ngx_queue_insert_tail(&st->free, q);
        st->claims[l->kind].inflight--;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, st->request->connection->log, 0,
                       "durable grpc stream: an item of kind %ui released",
                       (ngx_uint_t) l->kind);

        return 1;
    }

    return 0;
}


/* the record of a lease among the streams of this process, or NULL */

static ngx_http_durable_grpc_lease_t *
ngx_http_durable_grpc_lease_find(const uint8_t *lease,
    ngx_http_durable_grpc_stream_t **stp)
{
    ngx_queue_t                     *s, *q;
    ngx_http_durable_grpc_lease_t   *l;
    ngx_http_durable_grpc_stream_t  *st;

    if (!ngx_http_durable_grpc_streams_init || lease == NULL) {
        return NULL;
    }

    for (s = ngx_queue_head(&ngx_http_durable_grpc_streams);
         s != ngx_queue_sentinel(&ngx_http_durable_grpc_streams);
         s = ngx_queue_next(s))
    {
        st = ngx_queue_data(s, ngx_http_durable_grpc_stream_t, queue);

        for (q = ngx_queue_head(&st->leases);
             q != ngx_queue_sentinel(&st->leases);
             q = ngx_queue_next(q))
        {
            l = ngx_queue_data(q, ngx_http_durable_grpc_lease_t, queue);

            if (ngx_memcmp(l->lease, lease, DS_LEASE_LEN) == 0) {
                *stp = st;
                return l;
            }
        }
    }

    return NULL;
}


/*
 * CompleteOrchestratorTask, CompleteActivityTask, CompleteEntityTask,
 * and the three Abandon*: the completion token says which item and
 * lease.
 */

ngx_int_t
ngx_http_durable_grpc_work(ngx_http_request_t *r,
    ngx_http_durable_grpc_ctx_t *g)
{
    int                 rc;
    u_char             *name;
    ds_op_t            *op;
    ProtobufCMessage   *m;

    op = ngx_pcalloc(r->pool, sizeof(ds_op_t));
    if (op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    name = g->rpc->name.data;
    rc = DG_OK;

    if (name[0] == 'C') {
        /* "Complete" and the kind */
        if (name[8] == 'O') {
            m = ngx_http_durable_grpc_unpack(r, g,
                                         &orchestrator_response__descriptor);
            if (m) {
                rc = dg_orchestrator_done_in(&g->dc,
                                             (OrchestratorResponse *) m, op);
            }

        } else if (name[8] == 'A') {
            m = ngx_http_durable_grpc_unpack(r, g,
                                             &activity_response__descriptor);
            if (m) {
                rc = dg_activity_done_in(&g->dc, (ActivityResponse *) m, op);
            }

        } else {
            m = ngx_http_durable_grpc_unpack(r, g,
                                             &entity_batch_result__descriptor);
            if (m) {
                rc = dg_entity_done_in(&g->dc, (EntityBatchResult *) m, op);
            }
        }

    } else {
        /*
         * "AbandonTask" and the kind; the three requests are alike, a
         * completion token in field 1
         */

        m = ngx_http_durable_grpc_unpack(r, g,
                               &abandon_orchestration_task_request__descriptor);
        if (m) {
            rc = dg_abandon_in(&g->dc,
                     name[11] == 'O' ? DS_WORK_ORCHESTRATION
                     : name[11] == 'A' ? DS_WORK_ACTIVITY : DS_WORK_ENTITY,
                     ((AbandonOrchestrationTaskRequest *) m)->completiontoken,
                     op);
        }
    }

    if (m == NULL || rc != DG_OK) {
        return ngx_http_durable_grpc_codec_status(r, g);
    }

    if (ngx_http_durable_grpc_work_id(r, &g->base, op) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    op->hub = ngx_http_durable_ds_str(&g->base.hub);

    return ngx_http_durable_submit(r, &g->base, op,
                                  ngx_http_durable_grpc_work_done);
}


/*
 * $durable_instance_id of a completion or abandon: the instance its token
 * names, whether the store applies it or not; an activity's is the
 * orchestration's it belongs to, an entity's "@name@key" (the name
 * lower-cased, as the store names it)
 */

static ngx_int_t
ngx_http_durable_grpc_work_id(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ds_op_t *op)
{
    if (op->in.work.kind == DS_WORK_ENTITY) {
        return ngx_http_durable_entity_log_id(r->pool, op->in.work.id,
                                              op->in.work.key, &ctx->log_id);
    }

    ctx->log_id.data = (u_char *) op->in.work.id.data;
    ctx->log_id.len = op->in.work.id.len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_durable_grpc_work_done(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    Empty                   empty = EMPTY__INIT;
    ds_route_work_action_e  action;

    /*
     * done, refused or stale: the lease no longer counts, in whichever
     * process's stream handed the item out; each looks at its next wake
     * (the write woke them, and a refusal wrote nothing: the stream has
     * its re-read interval, or the next write)
     */
    if (c->op->in.work.lease != NULL) {
        ngx_http_durable_notify_released(c->op->in.work.lease);
        ngx_http_durable_grpc_released(c->rc);
    }

    /* counted and logged as the HTTP worker protocol's are */
    action = (ngx_http_durable_grpc_ctx(ctx)->rpc->name.data[0] == 'C')
             ? DS_ROUTE_WORK_COMPLETE : DS_ROUTE_WORK_ABANDON;

    ngx_http_durable_work_count(c->op, action, c->rc);
    ngx_http_durable_work_lifecycle(r, c->op, action, c->rc);

    if (c->rc != DS_OK) {
        return ngx_http_durable_grpc_op_status(r,
                   ngx_http_durable_grpc_ctx(ctx), c->op);
    }

    /* $durable_runtime_status: the orchestration's after the completion */
    if (action == DS_ROUTE_WORK_COMPLETE
        && c->op->in.work.kind == DS_WORK_ORCHESTRATION)
    {
        ngx_http_durable_log_status(ctx, c->op->out.work.status);
    }

    return ngx_http_durable_grpc_reply(r, &empty.base);
}
