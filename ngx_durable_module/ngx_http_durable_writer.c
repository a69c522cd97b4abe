
/*
 * Copyright (C) ngx_durable authors
 *
 * Group commit. Writes of a store are queued per nginx process and
 * applied in batches: one LMDB write transaction (a failing write aborts
 * only itself: see ds_op_batch() in the store), one commit, so one fsync
 * for the whole batch. Requests are answered in the event loop once their
 * batch is durable.
 *
 * By default one batch at a time runs in a thread of the store's nginx
 * thread pool, and writes that arrive meanwhile form the next batch: the
 * event loop never waits for fsync or for the write lock another process
 * holds. A relaxed store with writes=loop, or a store without a thread
 * pool, applies its batch in the event loop instead, after the events of
 * the next iteration of it (a posted event): what they and the current
 * iteration's events queued is one batch, and no thread is woken for it.
 * It first takes the store's commit gate in shared memory; while another
 * process holds it, the batch waits for the next iteration again, so the
 * event loop does not sleep on LMDB's write lock while nginx's other
 * processes commit (ngx_http_durable_notify.c).
 *
 * A process that shuts down gracefully (reload, binary upgrade, quit) exits
 * once no timer but cancelable ones is left. A request waiting for its
 * batch has no timer of its own, so a non-cancelable "guard" timer is
 * armed while any write of the process is queued or in the thread: the
 * process stays until every write it took is applied and answered, and no
 * client ever retries a write that was applied but not answered. In the
 * event loop too, where a write that an answer queues (a purge's next
 * batch) waits for the next iteration.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_metrics.h"
#include "ngx_http_durable_notify.h"
#include "ngx_http_durable_variables.h"
#include "ngx_http_durable_writer.h"


/* how often the guard timer looks again while writes are pending, ms */
#define NGX_HTTP_DURABLE_GUARD  1000


typedef struct {
    ngx_http_durable_store_t     *store;
    ngx_http_durable_write_t     *queue;
    ngx_http_durable_write_t    **last;
    ngx_http_durable_write_t     *batch;        /* in the thread */
    ngx_uint_t                    queued;
    ngx_uint_t                    batch_n;
    ngx_uint_t                    gate;         /* of batches in the loop */
#if (NGX_THREADS)
    ngx_thread_task_t            *task;
    ngx_thread_task_t            *sync_task;
#endif
    ngx_event_t                   apply;        /* a batch in the loop */
    ngx_event_t                   flush;
    ngx_event_t                   guard;
    int                           sync_rc;
    unsigned                      loop:1;       /* batches in the loop */
    unsigned                      busy:1;
    unsigned                      syncing:1;
    unsigned                      dirty:1;
    unsigned                      redone:1;     /* by nested txns */
} ngx_http_durable_writer_t;


static ngx_uint_t ngx_http_durable_apply_batch(ds_env_t *env,
    ngx_http_durable_write_t *batch);
static void ngx_http_durable_post(ngx_http_durable_writer_t *wr);
static void ngx_http_durable_take_batch(ngx_http_durable_writer_t *wr);
static void ngx_http_durable_answer_batch(ngx_http_durable_writer_t *wr);
static void ngx_http_durable_resume(ngx_http_durable_write_t *w);
static void ngx_http_durable_apply_handler(ngx_event_t *ev);
static void ngx_http_durable_guard_handler(ngx_event_t *ev);
static void ngx_http_durable_guard_done(ngx_http_durable_writer_t *wr);
static void ngx_http_durable_log_redone(ngx_http_durable_writer_t *wr,
    ngx_log_t *log);
#if (NGX_THREADS)
static void ngx_http_durable_batch_thread(void *data, ngx_log_t *log);
static void ngx_http_durable_batch_done(ngx_event_t *ev);
static void ngx_http_durable_flush_handler(ngx_event_t *ev);
static void ngx_http_durable_sync_thread(void *data, ngx_log_t *log);
static void ngx_http_durable_sync_done(ngx_event_t *ev);
#endif


ngx_int_t
ngx_http_durable_writer_init(ngx_cycle_t *cycle, ngx_http_durable_store_t *st)
{
    ngx_http_durable_writer_t  *wr;

    wr = ngx_pcalloc(cycle->pool, sizeof(ngx_http_durable_writer_t));
    if (wr == NULL) {
        return NGX_ERROR;
    }

    wr->store = st;
    wr->last = &wr->queue;
    wr->gate = ngx_http_durable_gate_index(st->index);
    st->writer = wr;

    wr->apply.handler = ngx_http_durable_apply_handler;
    wr->apply.data = wr;
    wr->apply.log = cycle->log;

    /* not cancelable: a process that shuts down waits for its writes */
    wr->guard.handler = ngx_http_durable_guard_handler;
    wr->guard.data = wr;
    wr->guard.log = cycle->log;

    wr->loop = 1;

#if (NGX_THREADS)

    if (st->thread_pool == NULL) {
        return NGX_OK;
    }

    wr->loop = st->loop_writes;

    wr->task = ngx_thread_task_alloc(cycle->pool, 0);
    wr->sync_task = ngx_thread_task_alloc(cycle->pool, 0);
    if (wr->task == NULL || wr->sync_task == NULL) {
        return NGX_ERROR;
    }

    wr->task->ctx = wr;
    wr->task->handler = ngx_http_durable_batch_thread;
    wr->task->event.handler = ngx_http_durable_batch_done;
    wr->task->event.data = wr;
    wr->task->event.log = cycle->log;

    wr->sync_task->ctx = wr;
    wr->sync_task->handler = ngx_http_durable_sync_thread;
    wr->sync_task->event.handler = ngx_http_durable_sync_done;
    wr->sync_task->event.data = wr;
    wr->sync_task->event.log = cycle->log;

    if (st->sync == DS_SYNC_NONE) {
        /* relaxed durability: flushed every st->flush off the event loop */
        wr->flush.handler = ngx_http_durable_flush_handler;
        wr->flush.data = wr;
        wr->flush.log = cycle->log;
        wr->flush.cancelable = 1;

        ngx_add_timer(&wr->flush, st->flush);
    }

#endif

    return NGX_OK;
}


void
ngx_http_durable_writer_exit(ngx_http_durable_store_t *st)
{
    ngx_http_durable_writer_t  *wr;

    wr = st->writer;

    if (wr == NULL) {
        return;
    }

    if (wr->flush.timer_set) {
        ngx_del_timer(&wr->flush);
    }

    if (wr->guard.timer_set) {
        ngx_del_timer(&wr->guard);
    }

    if (wr->apply.posted) {
        ngx_delete_posted_event(&wr->apply);
    }
}


/* queues a write and suspends the request until its batch is durable */

ngx_int_t
ngx_http_durable_write(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx,
    ds_op_t *op, ngx_http_durable_written_pt done)
{
    ngx_int_t                  rc;
    ngx_http_durable_write_t  *w;

    w = ngx_http_durable_write_alloc(r, op, done);
    if (w == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_durable_write_queue(r, ctx, w, 1);

    ngx_http_durable_write_post(ctx);

    return rc;
}


ngx_http_durable_write_t *
ngx_http_durable_write_alloc(ngx_http_request_t *r, ds_op_t *op,
    ngx_http_durable_written_pt done)
{
    ngx_http_durable_write_t  *w;

    w = ngx_pcalloc(r->pool, sizeof(ngx_http_durable_write_t));
    if (w == NULL) {
        return NULL;
    }

    w->request = r;
    w->op = op;
    w->done = done;
    w->what = ds_op_what(op->type);

    return w;
}


/*
 * Queues a write without starting a batch: a request with several writes
 * queues them all, then calls ngx_http_durable_write_post() once, so they
 * share a batch and are done in the order they were queued. Each write's
 * done() runs once it is durable. The write queued with "hold" (one per
 * request, the last of several: nginx counts blocking operations of a
 * request in 8 bits) holds the request until it is done; returns
 * NGX_DONE.
 */

ngx_int_t
ngx_http_durable_write_queue(ngx_http_request_t *r,
    ngx_http_durable_ctx_t *ctx, ngx_http_durable_write_t *w, ngx_uint_t hold)
{
    ngx_http_durable_writer_t  *wr;

    wr = ctx->store->writer;

    *wr->last = w;
    wr->last = &w->next;
    wr->queued++;

    w->queued = ngx_http_durable_usec();

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "durable write queued: %s, %ui in the queue, hold:%ui",
                   w->what, wr->queued, hold);

    if (hold) {
        /* the request outlives a client that goes away meanwhile */
        w->hold = 1;
        r->main->count++;
        r->main->blocked++;
        r->aio = 1;
    }

    if (!wr->guard.timer_set) {
        ngx_add_timer(&wr->guard, NGX_HTTP_DURABLE_GUARD);
    }

    return NGX_DONE;
}


void
ngx_http_durable_write_post(ngx_http_durable_ctx_t *ctx)
{
    ngx_http_durable_post(ctx->store->writer);
}


/*
 * A batch is applied by the store (ds_op_batch): one txn, each write
 * answered on its own. Returns 1 when the batch was run again, each write
 * in a nested txn, because one failed after writing.
 */

static ngx_uint_t
ngx_http_durable_apply_batch(ds_env_t *env, ngx_http_durable_write_t *batch)
{
    int64_t                    start, end;
    ngx_uint_t                 redone, applied;
    ngx_http_durable_write_t  *w;

    if (batch == NULL) {
        return 0;
    }

    for (w = batch; w; w = w->next) {
        w->op->next = w->next ? w->next->op : NULL;
    }

    start = ds_time_now();

    redone = ds_op_batch(env, batch->op);

    end = ds_time_now();
    applied = 0;

    for (w = batch; w; w = w->next) {
        w->rc = w->op->rc;
        applied += (w->rc == DS_OK);
    }

    /* the batch's txn, applied and committed (atomics: a pool thread) */

    if (applied) {
        ngx_http_durable_metrics_batch(applied,
                                       end > start ? end - start : 0);
    }

    return redone;
}


static void
ngx_http_durable_post(ngx_http_durable_writer_t *wr)
{
    if (wr->queue == NULL) {
        return;
    }

    if (wr->loop) {
        /*
         * The next iteration of the event loop polls without waiting and
         * runs the batch after its events: what this iteration and that
         * one queue is one batch, and a write that an answer queues (a
         * pipelined request, a purge's next batch) waits for it too, so
         * other clients are served in between.
         */

        if (!wr->apply.posted) {
            ngx_post_event(&wr->apply, &ngx_posted_next_events);
        }

        return;
    }

#if (NGX_THREADS)

    if (wr->busy) {
        return;
    }

    do {
        ngx_http_durable_take_batch(wr);

        if (ngx_thread_task_post(wr->store->thread_pool, wr->task) == NGX_OK)
        {
            wr->busy = 1;
            return;
        }

        /*
         * the pool's queue is full: apply here rather than fail the
         * writes; busy, so that what answers queue waits for this loop
         */

        wr->busy = 1;

        if (ngx_http_durable_apply_batch(wr->store->env, wr->batch)) {
            ngx_http_durable_log_redone(wr, wr->task->event.log);
        }

        ngx_http_durable_answer_batch(wr);

        wr->busy = 0;

    } while (wr->queue);

    ngx_http_durable_guard_done(wr);

#endif
}


static void
ngx_http_durable_take_batch(ngx_http_durable_writer_t *wr)
{
    wr->batch = wr->queue;
    wr->batch_n = wr->queued;
    wr->queue = NULL;
    wr->last = &wr->queue;
    wr->queued = 0;
}


/* the batch is applied: each write's done() answers, in queue order */

static void
ngx_http_durable_answer_batch(ngx_http_durable_writer_t *wr)
{
    uint64_t                   now;
    ngx_http_durable_write_t  *w, *next;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "durable batch of %ui writes to store \"%V\" done",
                   wr->batch_n, &wr->store->name);

    wr->dirty = 1;
    now = ngx_http_durable_usec();

    /* waiting claims and status polls look again: once for the batch */

    for (w = wr->batch; w; w = w->next) {
        if (w->rc == DS_OK && ds_op_wakes(w->op->type)) {
            ngx_http_durable_notify();
            break;
        }
    }

    for (w = wr->batch, wr->batch = NULL; w; w = next) {
        next = w->next;

        /* a request's other writes share the batch of the one that holds */
        if (w->hold) {
            ngx_http_durable_log_write(w->request, now - w->queued,
                                       wr->batch_n);
        }

        ngx_http_durable_resume(w);
    }
}


static void
ngx_http_durable_resume(ngx_http_durable_write_t *w)
{
    ngx_int_t                rc;
    ngx_connection_t        *c;
    ngx_http_request_t      *r;
    ngx_http_durable_ctx_t  *ctx;

    r = w->request;
    c = r->connection;

    ctx = ngx_http_get_module_ctx(r, ngx_http_durable_module);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "durable write done: %s, rc:%d", w->what, w->rc);

    if (!w->hold) {
        /* one of several: the write that holds the request answers */
        (void) w->done(r, ctx, w);
        return;
    }

    r->main->blocked--;
    r->aio = 0;

    rc = w->done(r, ctx, w);

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


/* a batch in the event loop: what the last two iterations' events queued */

static void
ngx_http_durable_apply_handler(ngx_event_t *ev)
{
    ngx_http_durable_writer_t  *wr = ev->data;

    ngx_int_t  gate;

    gate = ngx_http_durable_gate_try(wr->gate, ev->log);

    if (gate == NGX_AGAIN) {
        /* another process commits: serve clients meanwhile, then try again */

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                       "durable store \"%V\": another worker commits",
                       &wr->store->name);

        ngx_post_event(&wr->apply, &ngx_posted_next_events);
        return;
    }

    ngx_http_durable_take_batch(wr);

    if (ngx_http_durable_apply_batch(wr->store->env, wr->batch)) {
        ngx_http_durable_log_redone(wr, ev->log);
    }

    if (gate == NGX_OK) {
        ngx_http_durable_gate_release(wr->gate);
    }

    /* writes that answers queue are posted as the next batch */
    ngx_http_durable_answer_batch(wr);

    ngx_http_durable_guard_done(wr);
}


/* writes are still pending: keep the process (it re-arms only) */

static void
ngx_http_durable_guard_handler(ngx_event_t *ev)
{
    ngx_http_durable_writer_t  *wr = ev->data;

    if (wr->busy || wr->queue) {
        ngx_add_timer(ev, NGX_HTTP_DURABLE_GUARD);
    }
}


/* no write is queued or in the thread: a process that shuts down may go */

static void
ngx_http_durable_guard_done(ngx_http_durable_writer_t *wr)
{
    if (!wr->busy && wr->queue == NULL && wr->guard.timer_set) {
        ngx_del_timer(&wr->guard);
    }
}


static void
ngx_http_durable_log_redone(ngx_http_durable_writer_t *wr, ngx_log_t *log)
{
    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "durable: a write failed in a batch of %ui writes to "
                  "store \"%V\": the batch was redone, each write in a "
                  "nested txn", wr->batch_n, &wr->store->name);
}


#if (NGX_THREADS)

static void
ngx_http_durable_batch_thread(void *data, ngx_log_t *log)
{
    ngx_http_durable_writer_t  *wr = data;

    wr->redone = ngx_http_durable_apply_batch(wr->store->env, wr->batch);
}


static void
ngx_http_durable_batch_done(ngx_event_t *ev)
{
    ngx_http_durable_writer_t  *wr = ev->data;

    if (wr->redone) {
        ngx_http_durable_log_redone(wr, ev->log);
    }

    /* still busy: writes that answers queue wait for the next batch */
    ngx_http_durable_answer_batch(wr);

    wr->busy = 0;

    /* what arrived meanwhile is the next batch */
    ngx_http_durable_post(wr);

    ngx_http_durable_guard_done(wr);
}


static void
ngx_http_durable_flush_handler(ngx_event_t *ev)
{
    ngx_http_durable_writer_t  *wr = ev->data;

    if (wr->dirty && !wr->syncing
        && ngx_thread_task_post(wr->store->thread_pool, wr->sync_task)
           == NGX_OK)
    {
        wr->dirty = 0;
        wr->syncing = 1;
    }

    ngx_add_timer(ev, wr->store->flush);
}


static void
ngx_http_durable_sync_thread(void *data, ngx_log_t *log)
{
    ngx_http_durable_writer_t  *wr = data;

    wr->sync_rc = ds_env_sync(wr->store->env);
}


static void
ngx_http_durable_sync_done(ngx_event_t *ev)
{
    ngx_http_durable_writer_t  *wr = ev->data;

    wr->syncing = 0;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "durable store \"%V\" flushed: %d", &wr->store->name,
                   wr->sync_rc);

    if (wr->sync_rc != DS_OK) {
        ngx_log_error(NGX_LOG_ALERT, ev->log, 0,
                      "durable: flushing store \"%V\" failed: %s",
                      &wr->store->name, ds_strerror(wr->sync_rc));
    }
}

#endif
