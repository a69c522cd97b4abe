
/*
 * Copyright (C) ngx_durable authors
 *
 * durable_task_metrics: a page in the Prometheus text format (0.0.4).
 *
 * What the store holds (instances by status, ready entries by kind, the
 * oldest ready entry, timers, map size and use, readers) is read from the
 * store when the page is asked for, so every process answers the
 * same. What happens in the processes (requests, claims, completions,
 * leases, waits, commits, errors, the event loop's probe) is counted
 * with atomic adds in a shared memory zone of its own, so the figures
 * are those of all the processes together, and they survive a reload.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_auth.h"
#include "ngx_http_durable_log.h"
#include "ngx_http_durable_metrics.h"
#include "ngx_http_durable_probe.h"
#include "ngx_http_durable_render.h"
#include "ngx_http_durable_variables.h"
#include "ngx_http_durable_writer.h"


/* operations (ds_route_op_e), then the worker actions */
#define NGX_HTTP_DURABLE_M_OPS      (DS_ROUTE_OP_WORKER + 4)
#define NGX_HTTP_DURABLE_M_CODE0    100
#define NGX_HTTP_DURABLE_M_CODES    500
#define NGX_HTTP_DURABLE_M_WRITES   9
#define NGX_HTTP_DURABLE_M_MS       11
#define NGX_HTTP_DURABLE_M_LOOP     7


typedef struct {
    ngx_atomic_t                requests[NGX_HTTP_DURABLE_M_OPS]
                                        [NGX_HTTP_DURABLE_M_CODES];
    ngx_atomic_t                claims[3];
    ngx_atomic_t                completions[3];
    ngx_atomic_t                leases[NGX_HTTP_DURABLE_LEASE_LAST];
    /* by process slot: a killed process's is reset by its successor */
    ngx_atomic_t                waits[NGX_MAX_PROCESSES];
    ngx_atomic_t                errors[NGX_HTTP_DURABLE_ERR_LAST];
    ngx_atomic_t                batches;
    ngx_atomic_t                batch_writes;
    ngx_atomic_t                writes_le[NGX_HTTP_DURABLE_M_WRITES];
    ngx_atomic_t                commit_us;
    ngx_atomic_t                lock_wait_us;   /* of commit_us */
    ngx_atomic_t                commit_le[NGX_HTTP_DURABLE_M_MS];
    /* durable_task_loop_probe: its ticks, their CPU time in us */
    ngx_atomic_t                loop_ticks;
    ngx_atomic_t                loop_us;
    ngx_atomic_t                loop_le[NGX_HTTP_DURABLE_M_LOOP];
} ngx_http_durable_metrics_shm_t;


/* the families read from the stores; the last one, up, is not read */
#define NGX_HTTP_DURABLE_M_PASSES   8


/*
 * The page: one DS_OP_STATS read of each store in turn, each rendering
 * every family's samples of its store into that family's buffer.
 */
typedef struct {
    ngx_http_durable_out_t     *out;       /* of the pass rendered */
    ngx_http_durable_store_t   *store;
    ngx_http_request_t         *request;
    ds_op_t                    *op;        /* the DS_OP_STATS read */
    ngx_uint_t                  pass;
    int64_t                     now;
    ngx_uint_t                  next;      /* the store to read next */
    ds_op_t                     stats;
    ngx_http_durable_call_t     call;
    ngx_http_durable_out_t      passes[NGX_HTTP_DURABLE_M_PASSES];
} ngx_http_durable_metrics_page_t;


static ngx_int_t ngx_http_durable_metrics_init_zone(ngx_shm_zone_t *zone,
    void *data);
static ngx_int_t ngx_http_durable_metrics_log(ngx_http_request_t *r);
static ngx_int_t ngx_http_durable_metrics_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_durable_metrics_next(ngx_http_request_t *r,
    ngx_http_durable_metrics_page_t *pg);
static ngx_int_t ngx_http_durable_metrics_read(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c);
static ngx_int_t ngx_http_durable_metrics_send(ngx_http_request_t *r,
    ngx_http_durable_metrics_page_t *pg);
static void ngx_http_durable_metrics_store(ds_op_t *op);
static int ngx_http_durable_metrics_pass(ngx_http_durable_metrics_page_t *pg,
    ds_op_t *op);
static int ngx_http_durable_metrics_count(void *data, ds_str_t hub,
    const ds_count_t *c);
static void ngx_http_durable_metrics_process(ngx_http_durable_out_t *out,
    ngx_msec_t loop_probe);
static void ngx_http_durable_metrics_head(ngx_http_durable_out_t *out,
    const char *name, const char *type, const char *help);
static void ngx_http_durable_metrics_label(ngx_http_durable_out_t *out,
    const char *name, const u_char *value, size_t len);
static void ngx_http_durable_metrics_observe(ngx_atomic_t *le,
    const uint64_t *bounds, ngx_uint_t n, uint64_t v);
static void ngx_http_durable_metrics_histogram(ngx_http_durable_out_t *out,
    const char *name, ngx_atomic_t *le, const char **bounds, ngx_uint_t n,
    ngx_atomic_t *count, const char *sum);


static ngx_http_durable_metrics_shm_t  *ngx_http_durable_metrics_shm;
static ngx_http_durable_metrics_shm_t   ngx_http_durable_metrics_local;


static const char  *ngx_http_durable_kind_names[3] = {
    "orchestration", "activity", "entity"
};

static const char  *ngx_http_durable_lease_names[] = {
    "granted", "expired", "refused"
};

static const char  *ngx_http_durable_err_names[] = {
    "store_full", "store_failed", "store_unavailable", "store_stopped"
};

/* upper bounds: writes of a batch */
static uint64_t     ngx_http_durable_writes_le[NGX_HTTP_DURABLE_M_WRITES] = {
    1, 2, 4, 8, 16, 32, 64, 128, 256
};

static const char  *ngx_http_durable_writes_text[] = {
    "1", "2", "4", "8", "16", "32", "64", "128", "256"
};

/* upper bounds: commit times in us */
static uint64_t     ngx_http_durable_us_le[NGX_HTTP_DURABLE_M_MS] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000,
    5000000
};

static const char  *ngx_http_durable_us_text[] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
    "0.25", "1", "5"
};

/* the event loop's CPU time between two ticks of its probe, in us */
static uint64_t     ngx_http_durable_loop_le[NGX_HTTP_DURABLE_M_LOOP] = {
    1000, 2000, 5000, 10000, 20000, 50000, 100000
};

static const char  *ngx_http_durable_loop_text[] = {
    "0.001", "0.002", "0.005", "0.01", "0.02", "0.05", "0.1"
};


ngx_int_t
ngx_http_durable_metrics_add_zone(ngx_conf_t *cf)
{
    size_t           size;
    ngx_shm_zone_t  *zone;

    static ngx_str_t  name = ngx_string("ngx_http_durable_metrics");

    /*
     * A reload reuses the zone of the old configuration when its name,
     * size and module are the same, and then its counters go on
     * (init_zone). The size is the slab pool's 8 pages plus the counters'
     * own size, to the byte (rounded up to pages, a few counters more
     * could fit in the same size): code whose counters are laid out
     * otherwise asks for another size, and nginx makes it a new zone (its
     * counters start at zero) rather than handing it one of the old
     * layout. A change that keeps the struct's size must change the size
     * here too. (A reload does not load a new build of the module: the
     * running one stays, and a restart or binary upgrade makes new zones
     * anyway; this is for whatever path would.)
     */

    size = 8 * ngx_pagesize + sizeof(ngx_http_durable_metrics_shm_t);

    zone = ngx_shared_memory_add(cf, &name, size, &ngx_http_durable_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_http_durable_metrics_init_zone;

    return NGX_OK;
}


/* a function of its own: init_module finds the zone by it (take_zone) */

static ngx_int_t
ngx_http_durable_metrics_init_zone(ngx_shm_zone_t *zone, void *data)
{
    /* a reload goes on counting where the old processes were */
    return ngx_http_durable_zone_init(zone, data,
                                      sizeof(ngx_http_durable_metrics_shm_t));
}


/* init_module: the zone of the cycle taken, or none (docs in module.c) */

void
ngx_http_durable_metrics_take_zone(ngx_cycle_t *cycle)
{
    ngx_http_durable_metrics_shm = ngx_http_durable_zone_data(cycle,
                                       ngx_http_durable_metrics_init_zone);
}


static ngx_http_durable_metrics_shm_t *
ngx_http_durable_m(void)
{
    return ngx_http_durable_metrics_shm ? ngx_http_durable_metrics_shm
                                        : &ngx_http_durable_metrics_local;
}


/* postconfiguration: requests are counted when they are logged */

ngx_int_t
ngx_http_durable_metrics_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_durable_metrics_log;

    return NGX_OK;
}


static ngx_int_t
ngx_http_durable_metrics_log(ngx_http_request_t *r)
{
    ngx_uint_t               op, code;
    ngx_http_durable_ctx_t  *ctx;

    ctx = ngx_http_durable_variables_ctx(r);

    /* the HTTP API's requests; a gRPC call's route is only its key's */

    if (ctx == NULL || r != r->main || ctx->log_op.len) {
        return NGX_OK;
    }

    op = ctx->route.op;

    if (op == DS_ROUTE_OP_WORKER) {
        op += ctx->route.work_action;
    }

    code = r->headers_out.status;

    if (op >= NGX_HTTP_DURABLE_M_OPS || code < NGX_HTTP_DURABLE_M_CODE0
        || code >= NGX_HTTP_DURABLE_M_CODE0 + NGX_HTTP_DURABLE_M_CODES)
    {
        return NGX_OK;
    }

    (void) ngx_atomic_fetch_add(
               &ngx_http_durable_m()->requests[op]
                                  [code - NGX_HTTP_DURABLE_M_CODE0], 1);

    return NGX_OK;
}


void
ngx_http_durable_metrics_claimed(ds_work_kind_e kind, size_t n,
    size_t expired)
{
    ngx_http_durable_metrics_shm_t  *m;

    m = ngx_http_durable_m();

    if (n) {
        (void) ngx_atomic_fetch_add(&m->claims[kind], n);
        (void) ngx_atomic_fetch_add(
                   &m->leases[NGX_HTTP_DURABLE_LEASE_GRANTED], n);
    }

    if (expired) {
        (void) ngx_atomic_fetch_add(
                   &m->leases[NGX_HTTP_DURABLE_LEASE_EXPIRED], expired);
    }
}


void
ngx_http_durable_metrics_completed(ds_work_kind_e kind)
{
    (void) ngx_atomic_fetch_add(&ngx_http_durable_m()->completions[kind], 1);
}


void
ngx_http_durable_metrics_lease(ngx_http_durable_lease_e what)
{
    (void) ngx_atomic_fetch_add(&ngx_http_durable_m()->leases[what], 1);
}


void
ngx_http_durable_metrics_wait(ngx_int_t delta)
{
    ngx_atomic_t  *waits;

    waits = &ngx_http_durable_m()->waits[ngx_process_slot];

    (void) ngx_atomic_fetch_add(waits, (ngx_atomic_int_t) delta);
}


/*
 * init_process: the waits of this slot were those of a process that is
 * gone; one that exited cleanly left 0, one that was killed may not have
 */

void
ngx_http_durable_metrics_init_process(void)
{
    ngx_http_durable_m()->waits[ngx_process_slot] = 0;
}


void
ngx_http_durable_metrics_error(ngx_http_durable_err_e cause)
{
    (void) ngx_atomic_fetch_add(&ngx_http_durable_m()->errors[cause], 1);
}


/* a committed batch; called in pool threads too: atomics only */

void
ngx_http_durable_metrics_batch(ngx_uint_t writes, uint64_t us,
    uint64_t waited)
{
    ngx_http_durable_metrics_shm_t  *m;

    m = ngx_http_durable_m();

    (void) ngx_atomic_fetch_add(&m->batches, 1);
    (void) ngx_atomic_fetch_add(&m->batch_writes, writes);
    (void) ngx_atomic_fetch_add(&m->commit_us, (ngx_atomic_int_t) us);
    (void) ngx_atomic_fetch_add(&m->lock_wait_us,
                                (ngx_atomic_int_t) waited);

    /* the count first, then the buckets: see metrics_observe */

    ngx_http_durable_metrics_observe(m->writes_le,
                                     ngx_http_durable_writes_le,
                                     NGX_HTTP_DURABLE_M_WRITES, writes);
    ngx_http_durable_metrics_observe(m->commit_le, ngx_http_durable_us_le,
                                     NGX_HTTP_DURABLE_M_MS, us);
}


/* a sample of durable_task_loop_probe (probe.c): the CPU time of a tick */

void
ngx_http_durable_metrics_loop(uint64_t us)
{
    ngx_http_durable_metrics_shm_t  *m;

    m = ngx_http_durable_m();

    /* the count first, then the buckets: see metrics_observe */

    (void) ngx_atomic_fetch_add(&m->loop_ticks, 1);
    (void) ngx_atomic_fetch_add(&m->loop_us, (ngx_atomic_int_t) us);

    ngx_http_durable_metrics_observe(m->loop_le, ngx_http_durable_loop_le,
                                     NGX_HTTP_DURABLE_M_LOOP, us);
}


/*
 * v counted in every bucket of le whose bound is at least v. The buckets
 * are cumulative, as the format has them. The caller adds to the count
 * (the +Inf bucket) first, and here the buckets are added to from the
 * largest bound down, while the page reads them from the smallest up and
 * the count last: a page read meanwhile never shows a bucket above a
 * larger one, since a smaller one is read first and added to last.
 */

static void
ngx_http_durable_metrics_observe(ngx_atomic_t *le, const uint64_t *bounds,
    ngx_uint_t n, uint64_t v)
{
    ngx_uint_t  i;

    for (i = n; i-- > 0; /* void */) {
        if (v > bounds[i]) {
            break;
        }

        (void) ngx_atomic_fetch_add(&le[i], 1);
    }
}


char *
ngx_http_durable_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == ngx_http_durable_metrics_handler) {
        return "is duplicate";
    }

    if (clcf->handler != NULL) {
        return "cannot share a location with another handler "
               "(durable_task, proxy_pass, ...)";
    }

    clcf->handler = ngx_http_durable_metrics_handler;

    return NGX_CONF_OK;
}


/* the families read from the stores, one pass each: name, type, help */
static const char  *ngx_http_durable_store_heads[][3] = {
    { "durable_instances", "gauge",
      "Instances by store, task hub and runtime status." },
    { "durable_queue_depth", "gauge",
      "Work items in the ready index by store, task hub and kind, "
      "visible now or later." },
    { "durable_ready_oldest_age_seconds", "gauge",
      "Age of the oldest work item visible now, by store, task hub "
      "and kind." },
    { "durable_timers", "gauge",
      "Durable timers waiting, by store." },
    { "durable_store_map_size_bytes", "gauge",
      "The size of the store's map (max_size)." },
    { "durable_store_used_bytes", "gauge",
      "Bytes of the store's map its live data takes." },
    { "durable_store_readers", "gauge",
      "Reader slots of the store in use." },
    { "durable_store_readers_max", "gauge",
      "Reader slots of the store." },
    { "durable_store_up", "gauge",
      "1 when this worker process has the store open." }
};


/*
 * The page takes the keys of its location as the API does (system or
 * worker keys, or none with durable_task_anonymous on).
 */

static ngx_int_t
ngx_http_durable_metrics_handler(ngx_http_request_t *r)
{
    int                               rc;
    u_char                           *scratch;
    ngx_int_t                         brc;
    ngx_uint_t                        i;
    ngx_http_durable_ctx_t           *ctx;
    ngx_http_durable_metrics_page_t  *pg;

    brc = ngx_http_discard_request_body(r);
    if (brc != NGX_OK) {
        return brc;
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_durable_send_method_not_allowed(r,
                   DS_ROUTE_GET|NGX_HTTP_DURABLE_ALLOW_HEAD);
    }

    /* a ctx for the key check only: it is not set, so not counted */

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_durable_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    scratch = ngx_pnalloc(r->pool, 2 * r->args.len + 1);
    if (scratch == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ds_route_parse_query(&ctx->query, r->args.data, r->args.len,
                              scratch);
    if (rc >= 0) {
        return ngx_http_durable_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "The query parameter '%s' is given more than once.",
                   ds_route_param_names[rc]);
    }

    if (ngx_http_durable_authenticate(r, ctx) != NGX_OK) {
        return ngx_http_durable_fail(r, ctx);
    }

#if (NGX_HTTP_DURABLE_TEST_FAULTS)
    /* a stall of the loop for t/252-loop-probe.t */
    ngx_http_durable_probe_test_fault(r->connection->log);
#endif

    pg = ngx_pcalloc(r->pool, sizeof(ngx_http_durable_metrics_page_t));
    if (pg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pg->request = r;

    for (i = 0; i < NGX_HTTP_DURABLE_M_PASSES; i++) {
        if (ngx_http_durable_out_init(&pg->passes[i], r->pool, 1024)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_durable_metrics_next(r, pg);
}


/*
 * Reads the stores one after another: a store that answers at once is
 * followed in this loop, one that answers later from its answer.
 */

static ngx_int_t
ngx_http_durable_metrics_next(ngx_http_request_t *r,
    ngx_http_durable_metrics_page_t *pg)
{
    ngx_int_t                      rc;
    ngx_http_durable_store_t      *st;
    ngx_http_durable_main_conf_t  *dmcf;

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_durable_module);

    while (pg->next < dmcf->stores.nelts) {
        st = (ngx_http_durable_store_t *) dmcf->stores.elts + pg->next++;

        if (st->ds == NULL) {
            continue;
        }

        pg->store = st;
        pg->now = ds_time_now();

        /* one snapshot of the store, read in the done() handler */

        ngx_memzero(&pg->stats, sizeof(ds_op_t));
        pg->stats.type = DS_OP_STATS;
        pg->stats.done = ngx_http_durable_metrics_store;
        pg->stats.data = pg;

        ngx_http_durable_call_init(&pg->call, r, &pg->stats,
                                   ngx_http_durable_metrics_read);

        rc = ngx_http_durable_call_submit(r, st, &pg->call,
                                          NGX_HTTP_DURABLE_HOLD);
        if (rc != NGX_AGAIN) {
            return rc;
        }
    }

    return ngx_http_durable_metrics_send(r, pg);
}


static ngx_int_t
ngx_http_durable_metrics_read(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_call_t *c)
{
    ngx_http_durable_metrics_page_t  *pg = c->op->data;

    if (c->answered) {
        /* the loop of ngx_http_durable_metrics_next() goes on */
        return NGX_AGAIN;
    }

    return ngx_http_durable_metrics_next(r, pg);
}


static ngx_int_t
ngx_http_durable_metrics_send(ngx_http_request_t *r,
    ngx_http_durable_metrics_page_t *pg)
{
    ngx_buf_t                     *b;
    ngx_int_t                      brc;
    ngx_uint_t                     i, pass;
    ngx_chain_t                    cl;
    const char                   **head;
    ngx_http_durable_out_t         out, *po;
    ngx_http_durable_store_t      *st;
    ngx_http_durable_main_conf_t  *dmcf;

    static ngx_str_t  type = ngx_string("text/plain; version=0.0.4; "
                                        "charset=utf-8");

    dmcf = ngx_http_get_module_main_conf(r, ngx_http_durable_module);

    if (ngx_http_durable_out_init(&out, r->pool, 4096) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the families read from the stores, each family's samples together */

    for (pass = 0; pass < sizeof(ngx_http_durable_store_heads)
                      / sizeof(ngx_http_durable_store_heads[0]); pass++) {

        head = ngx_http_durable_store_heads[pass];
        ngx_http_durable_metrics_head(&out, head[0], head[1], head[2]);

        if (pass < NGX_HTTP_DURABLE_M_PASSES) {
            po = &pg->passes[pass];
            out.failed |= po->failed;
            ngx_http_durable_out_add(&out, po->start, po->pos - po->start);
            continue;
        }

        st = dmcf->stores.elts;

        for (i = 0; i < dmcf->stores.nelts; i++, st++) {
            ngx_http_durable_out_literal(&out, "durable_store_up{");
            ngx_http_durable_metrics_label(&out, "store", st->name.data,
                                           st->name.len);
            ngx_http_durable_out_add(&out, "} ", 2);
            ngx_http_durable_out_add(&out, st->ds ? "1\n" : "0\n", 2);
        }
    }

    ngx_http_durable_metrics_process(&out, dmcf->loop_probe);

    if (out.failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = out.start;
    b->last = out.pos;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    cl.buf = b;
    cl.next = NULL;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_type = type;
    r->headers_out.content_type_len = type.len;
    r->headers_out.content_length_n = b->last - b->pos;

    brc = ngx_http_send_header(r);

    if (brc == NGX_ERROR || brc > NGX_OK || r->header_only) {
        return brc;
    }

    return ngx_http_output_filter(r, &cl);
}


/* every pass of the page over one store, in its DS_OP_STATS read */

static void
ngx_http_durable_metrics_store(ds_op_t *op)
{
    ngx_http_durable_metrics_page_t  *pg = op->data;

    ngx_uint_t                 pass;
    ngx_http_durable_store_t  *st;

    pg->op = op;
    st = pg->store;

    if (op->rc != DS_OK) {
        ngx_log_error(NGX_LOG_ERR, ngx_http_durable_log(pg->request), 0,
                      "durable: store \"%V\": no read for the metrics "
                      "page: %s", &st->name, ds_op_error(op));
        ngx_http_durable_metrics_error(NGX_HTTP_DURABLE_ERR_STORE);
        return;
    }

    for (pass = 0; pass < NGX_HTTP_DURABLE_M_PASSES; pass++) {
        pg->pass = pass;
        pg->out = &pg->passes[pass];

        if (ngx_http_durable_metrics_pass(pg, op) != DS_OK) {
            /* logged once: the passes after it would fail alike */
            ngx_log_error(NGX_LOG_ERR, ngx_http_durable_log(pg->request),
                          0, "durable: store \"%V\" failed while reading "
                          "metrics: %s", &st->name, ds_op_error(op));
            ngx_http_durable_metrics_error(NGX_HTTP_DURABLE_ERR_STORE);
            return;
        }
    }
}


static int
ngx_http_durable_metrics_pass(ngx_http_durable_metrics_page_t *pg,
    ds_op_t *op)
{
    int                          rc;
    unsigned                     used, max;
    uint64_t                     timers;
    ds_space_t                   sp;
    ngx_uint_t                   pass;
    const char                 **head;
    ngx_http_durable_out_t      *out;
    ngx_http_durable_store_t    *st;

    out = pg->out;
    st = pg->store;
    pass = pg->pass;
    head = ngx_http_durable_store_heads[pass];

    rc = DS_OK;
    timers = 0;
    used = 0;
    max = 0;

    if (pass >= 4 && st->backend != DS_BACKEND_LMDB) {
        /* a map and its readers are LMDB's: absent (docs/postgres.md) */
        return DS_OK;
    }

    switch (pass) {

    case 0:
    case 1:
    case 2:
        rc = ds_op_counts_each(op, ngx_http_durable_metrics_count,
                               pg);
        break;

    case 3:
        rc = ds_op_timers_total(op, &timers);
        if (rc == DS_OK) {
            ngx_http_durable_out_literal(out, "durable_timers{");
            ngx_http_durable_metrics_label(out, "store",
                                           st->name.data,
                                           st->name.len);
            out->pos = ngx_http_durable_out_reserve(out, 32)
                       ? ngx_sprintf(out->pos, "} %uL\n", timers)
                       : out->pos;
        }
        break;

    case 4:
    case 5:
        rc = ds_op_space(op, &sp);
        if (rc == DS_OK) {
            ngx_http_durable_out_add(out, head[0], ngx_strlen(head[0]));
            ngx_http_durable_out_add(out, "{", 1);
            ngx_http_durable_metrics_label(out, "store",
                                           st->name.data,
                                           st->name.len);
            out->pos = ngx_http_durable_out_reserve(out, 32)
                       ? ngx_sprintf(out->pos, "} %uz\n",
                                     pass == 4 ? sp.map_size
                                               : sp.used)
                       : out->pos;
        }
        break;

    default:
        rc = ds_store_readers(st->ds, &used, &max);
        if (rc == DS_OK) {
            ngx_http_durable_out_add(out, head[0], ngx_strlen(head[0]));
            ngx_http_durable_out_add(out, "{", 1);
            ngx_http_durable_metrics_label(out, "store",
                                           st->name.data,
                                           st->name.len);
            out->pos = ngx_http_durable_out_reserve(out, 32)
                       ? ngx_sprintf(out->pos, "} %ud\n",
                                     pass == 6 ? used : max)
                       : out->pos;
        }
        break;
    }

    return rc;
}


static int
ngx_http_durable_metrics_count(void *data, ds_str_t hub, const ds_count_t *c)
{
    ngx_http_durable_metrics_page_t *pg = data;

    int                      rc;
    int64_t                  at, age;
    const char              *name;
    ngx_http_durable_out_t  *out;

    out = pg->out;

    if ((pg->pass == 0) != (c->what == DS_COUNT_STATUS)) {
        return 0;
    }

    name = (pg->pass == 0) ? "durable_instances{"
         : (pg->pass == 1) ? "durable_queue_depth{"
         : "durable_ready_oldest_age_seconds{";

    age = 0;

    if (pg->pass == 2) {
        rc = ds_op_ready_oldest(pg->op, hub, c->kind, &at);

        if (rc != DS_OK && rc != DS_NOTFOUND) {
            return -1;
        }

        /* an entry not visible yet waits for its time: no age */
        if (rc == DS_OK && at < pg->now) {
            age = pg->now - at;
        }
    }

    ngx_http_durable_out_add(out, name, ngx_strlen(name));
    ngx_http_durable_metrics_label(out, "store", pg->store->name.data,
                                   pg->store->name.len);
    ngx_http_durable_out_add(out, ",", 1);
    ngx_http_durable_metrics_label(out, "hub", (u_char *) hub.data,
                                   hub.len);
    ngx_http_durable_out_add(out, ",", 1);

    if (pg->pass == 0) {
        name = ds_status_name(c->status);
        ngx_http_durable_metrics_label(out, "runtime_status", (u_char *) name,
                                       ngx_strlen(name));

    } else {
        name = ngx_http_durable_kind_names[c->kind];
        ngx_http_durable_metrics_label(out, "kind", (u_char *) name,
                                       ngx_strlen(name));
    }

    if (!ngx_http_durable_out_reserve(out, 48)) {
        return 0;
    }

    if (pg->pass == 2) {
        out->pos = ngx_sprintf(out->pos, "} %L.%06L\n",
                               age / 1000000, age % 1000000);

    } else {
        out->pos = ngx_sprintf(out->pos, "} %uL\n", c->count);
    }

    return 0;
}


/* the families counted in shared memory */

static void
ngx_http_durable_metrics_process(ngx_http_durable_out_t *out,
    ngx_msec_t loop_probe)
{
    u_char                           sum[NGX_INT64_LEN + 8];
    ngx_uint_t                       op, code, i;
    const char                      *name;
    ngx_atomic_int_t                 waits;
    ngx_atomic_uint_t                n;
    ngx_http_durable_metrics_shm_t  *m;

    m = ngx_http_durable_m();

    ngx_http_durable_metrics_head(out, "durable_requests_total", "counter",
        "Requests to the API and the worker protocol by operation and "
        "status code.");

    for (op = 1; op < NGX_HTTP_DURABLE_M_OPS; op++) {
        name = (op < DS_ROUTE_OP_WORKER)
               ? ds_route_op_names[op]
               : ds_route_work_action_names[
                     op - DS_ROUTE_OP_WORKER];

        for (code = 0; code < NGX_HTTP_DURABLE_M_CODES; code++) {
            n = m->requests[op][code];

            if (n == 0 || !ngx_http_durable_out_reserve(out, 128)) {
                continue;
            }

            out->pos = ngx_sprintf(out->pos,
                           "durable_requests_total{op=\"%s\",code=\"%ui\"} "
                           "%uA\n", name, code + NGX_HTTP_DURABLE_M_CODE0, n);
        }
    }

    ngx_http_durable_metrics_head(out, "durable_claims_total", "counter",
        "Work items claimed, by kind.");

    for (i = 0; i < 3; i++) {
        if (ngx_http_durable_out_reserve(out, 80)) {
            out->pos = ngx_sprintf(out->pos,
                           "durable_claims_total{kind=\"%s\"} %uA\n",
                           ngx_http_durable_kind_names[i], m->claims[i]);
        }
    }

    ngx_http_durable_metrics_head(out, "durable_completions_total",
        "counter", "Work items completed, by kind.");

    for (i = 0; i < 3; i++) {
        if (ngx_http_durable_out_reserve(out, 80)) {
            out->pos = ngx_sprintf(out->pos,
                           "durable_completions_total{kind=\"%s\"} %uA\n",
                           ngx_http_durable_kind_names[i],
                           m->completions[i]);
        }
    }

    for (i = 0; i < NGX_HTTP_DURABLE_LEASE_LAST; i++) {
        if (!ngx_http_durable_out_reserve(out, 256)) {
            continue;
        }

        out->pos = ngx_sprintf(out->pos,
                       "# HELP durable_leases_%s_total Leases %s%s.\n"
                       "# TYPE durable_leases_%s_total counter\n"
                       "durable_leases_%s_total %uA\n",
                       ngx_http_durable_lease_names[i],
                       ngx_http_durable_lease_names[i],
                       i == NGX_HTTP_DURABLE_LEASE_GRANTED
                       ? " by claims and renewals"
                       : i == NGX_HTTP_DURABLE_LEASE_EXPIRED
                       ? ": items claimed again after their lease ran out"
                       : ": renewals, abandons and completions refused "
                         "with 409",
                       ngx_http_durable_lease_names[i],
                       ngx_http_durable_lease_names[i], m->leases[i]);
    }

    ngx_http_durable_metrics_head(out, "durable_waits_open", "gauge",
        "Requests waiting for an answer: starts and restarts with "
        "timeout=, status waits, long-polling claims, gRPC waits and "
        "work-item streams.");

    waits = 0;

    for (i = 0; i < NGX_MAX_PROCESSES; i++) {
        waits += (ngx_atomic_int_t) m->waits[i];
    }

    if (ngx_http_durable_out_reserve(out, 64)) {
        out->pos = ngx_sprintf(out->pos, "durable_waits_open %A\n", waits);
    }

    ngx_http_durable_metrics_head(out, "durable_errors_total", "counter",
        "Errors by cause.");

    for (i = 0; i < NGX_HTTP_DURABLE_ERR_LAST; i++) {
        if (ngx_http_durable_out_reserve(out, 80)) {
            out->pos = ngx_sprintf(out->pos,
                           "durable_errors_total{cause=\"%s\"} %uA\n",
                           ngx_http_durable_err_names[i], m->errors[i]);
        }
    }

    ngx_http_durable_metrics_head(out, "durable_commit_batch_writes",
        "histogram", "Writes (operations) committed together in one "
        "batch.");

    ngx_sprintf(sum, "%uA%Z", m->batch_writes);

    ngx_http_durable_metrics_histogram(out, "durable_commit_batch_writes",
        m->writes_le, ngx_http_durable_writes_text,
        NGX_HTTP_DURABLE_M_WRITES, &m->batches, (char *) sum);

    ngx_http_durable_metrics_head(out, "durable_commit_seconds",
        "histogram", "A batch's time: the wait for the write lock, the "
        "apply, the commit and its flush.");

    n = m->commit_us;
    ngx_sprintf(sum, "%uA.%06uA%Z", n / 1000000, n % 1000000);

    ngx_http_durable_metrics_histogram(out, "durable_commit_seconds",
        m->commit_le, ngx_http_durable_us_text, NGX_HTTP_DURABLE_M_MS,
        &m->batches, (char *) sum);

    ngx_http_durable_metrics_head(out,
        "durable_write_lock_wait_seconds_total", "counter",
        "Of the batches' time, what they waited for the store's write "
        "lock, which another process's batch held.");

    n = m->lock_wait_us;

    if (ngx_http_durable_out_reserve(out, 80)) {
        out->pos = ngx_sprintf(out->pos,
                               "durable_write_lock_wait_seconds_total "
                               "%uA.%06uA\n", n / 1000000, n % 1000000);
    }

    /*
     * only with the probe on: without it, zero counts would read as a
     * loop that never stalled; after a reload that turned it off, what
     * it counted before stays in the zone, unshown
     */

    if (loop_probe == 0) {
        return;
    }

    ngx_http_durable_metrics_head(out, "durable_event_loop_busy_seconds",
        "histogram", "The event loop's CPU time between two ticks of the "
        "probe (durable_task_loop_probe).");

    n = m->loop_us;
    ngx_sprintf(sum, "%uA.%06uA%Z", n / 1000000, n % 1000000);

    ngx_http_durable_metrics_histogram(out,
        "durable_event_loop_busy_seconds", m->loop_le,
        ngx_http_durable_loop_text, NGX_HTTP_DURABLE_M_LOOP, &m->loop_ticks,
        (char *) sum);
}


static void
ngx_http_durable_metrics_histogram(ngx_http_durable_out_t *out,
    const char *name, ngx_atomic_t *le, const char **bounds, ngx_uint_t n,
    ngx_atomic_t *counted, const char *sum)
{
    ngx_uint_t         i;
    ngx_atomic_uint_t  count;

    /* from the smallest bound up, and the count last: see metrics_observe */

    for (i = 0; i < n; i++) {
        if (ngx_http_durable_out_reserve(out, 128)) {
            out->pos = ngx_sprintf(out->pos, "%s_bucket{le=\"%s\"} %uA\n",
                                   name, bounds[i], le[i]);
        }
    }

    count = *counted;

    if (ngx_http_durable_out_reserve(out, 256)) {
        out->pos = ngx_sprintf(out->pos,
                               "%s_bucket{le=\"+Inf\"} %uA\n"
                               "%s_sum %s\n"
                               "%s_count %uA\n",
                               name, count, name, sum, name, count);
    }
}


static void
ngx_http_durable_metrics_head(ngx_http_durable_out_t *out, const char *name,
    const char *type, const char *help)
{
    size_t  len;

    len = 2 * ngx_strlen(name) + ngx_strlen(type) + ngx_strlen(help) + 32;

    if (ngx_http_durable_out_reserve(out, len)) {
        out->pos = ngx_sprintf(out->pos, "# HELP %s %s\n# TYPE %s %s\n",
                               name, help, name, type);
    }
}


/* name="value", the value escaped as the format wants (\\, \", \n) */

static void
ngx_http_durable_metrics_label(ngx_http_durable_out_t *out, const char *name,
    const u_char *value, size_t len)
{
    u_char  *p;
    size_t   i;

    if (!ngx_http_durable_out_reserve(out, ngx_strlen(name) + 2 * len + 3)) {
        return;
    }

    p = ngx_sprintf(out->pos, "%s=\"", name);

    for (i = 0; i < len; i++) {
        switch (value[i]) {
        case '\\':
        case '"':
            *p++ = '\\';
            *p++ = value[i];
            break;
        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;
        default:
            *p++ = value[i];
        }
    }

    *p++ = '"';
    out->pos = p;
}
