
/*
 * Copyright (C) ngx_durable authors
 *
 * The host of each store in an nginx process, and store calls on their
 * way. The store (ds_store_t, store/durable_store.h) does the work
 * behind the asynchronous boundary: the write queue and its group commit,
 * a pool thread or the event loop, the flush of a sync=off store. It asks
 * this file for what only nginx has: thread pool tasks, posted events and
 * timers, the store's own thread (ngx_http_durable_thread.c), the commit
 * gate in shared memory (ngx_http_durable_notify.c),
 * the notification of waiters, the metrics and the log, and the sockets of
 * a network backend, watched by the event loop. Which backend a store
 * uses is not known here.
 *
 * A request hands an op to its store with ngx_http_durable_submit(). The
 * store answers through op->done(), exactly once, before the submit
 * returns (an LMDB read) or later (a write once its batch is durable, a
 * network backend's read): the call holds the request (count, blocked,
 * aio) until then, and the front end's answer finalizes it. An answer
 * that comes before the submit returns is given back to the caller
 * instead, as a handler's return value.
 *
 * A process that shuts down gracefully (reload, binary upgrade, quit)
 * exits once no timer but cancelable ones is left. A request whose op is
 * pending in the store has no timer of its own, so a non-cancelable
 * "guard" timer is armed while the store has any op pending: the process
 * stays until every op it took is applied and answered, and no client
 * ever retries a write that was applied but not answered.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_metrics.h"
#include "ngx_http_durable_notify.h"
#include "ngx_http_durable_render.h"
#include "ngx_http_durable_thread.h"
#include "ngx_http_durable_variables.h"
#include "ngx_http_durable_writer.h"


/* how often the guard timer looks again while ops are pending, ms */
#define NGX_HTTP_DURABLE_GUARD       1000

/* how long an exiting process waits for them, ms, by default */
#define NGX_HTTP_DURABLE_GUARD_EXIT  60000


/* a store's host in this process: ds_host_t.data */
typedef struct {
    ngx_http_durable_store_t     *store;
    ngx_uint_t                    gate;
    ngx_event_t                   guard;
    ngx_log_t                    *log;
    ngx_pool_t                   *pool;
    ngx_array_t                   evs;      /* host_ev_t *, made once */
    ngx_uint_t                    nevs;     /* given to this open */
    ngx_uint_t                    made;     /* by this open, for debug */
    ngx_msec_t                    give_up;  /* exiting: the guard's end */
#if (NGX_THREADS)
    ngx_http_durable_thread_t    *thread;   /* its own, or NULL */
#endif
    unsigned                      exiting:1;
} ngx_http_durable_host_t;


/* what nginx keeps for a ds_event_t: ds_event_t.host */
typedef struct {
    ds_event_t                   *ev;
    ngx_event_t                   event;    /* posts, timers */
    ngx_connection_t             *conn;     /* a watched socket, or NULL */
#if (NGX_THREADS)
    ngx_thread_task_t            *task;     /* in an nginx pool */
    ngx_http_durable_job_t        job;      /* in the store's own thread */
#endif
} ngx_http_durable_host_ev_t;


static int ngx_http_durable_host_ev_init(void *host, ds_event_t *ev);
static void ngx_http_durable_host_handler(ngx_event_t *ev);
static void ngx_http_durable_host_post(void *host, ds_event_t *ev,
    int next);
static void ngx_http_durable_host_timer(void *host, ds_event_t *ev,
    int64_t ms);
static void ngx_http_durable_host_cancel(void *host, ds_event_t *ev);
static int ngx_http_durable_host_gate_try(void *host);
static void ngx_http_durable_host_gate_release(void *host);
static void ngx_http_durable_host_lock_wait(void *host, int on);
static int ngx_http_durable_host_lock_waiters(void *host);
static void ngx_http_durable_host_wake(void *host);
static void ngx_http_durable_host_pending(void *host, int any);
static void ngx_http_durable_host_applied(void *host, size_t n,
    int64_t us, int64_t waited);
static void ngx_http_durable_host_log(void *host, ds_log_e level,
    const char *msg);
static ds_log_e ngx_http_durable_host_log_level(ngx_log_t *log);
static int ngx_http_durable_host_watch(void *host, ds_event_t *ev, int fd,
    unsigned what);
static void ngx_http_durable_host_unwatch(ngx_http_durable_host_ev_t *he,
    ngx_uint_t closed);
static void ngx_http_durable_host_io(ngx_event_t *ev);
static void ngx_http_durable_guard_handler(ngx_event_t *ev);
static void ngx_http_durable_call_done(ds_op_t *op);
static void ngx_http_durable_call_answer(ngx_http_durable_call_t *c);
static ngx_uint_t ngx_http_durable_call_last(ngx_http_durable_call_t *c);
#if (NGX_THREADS)
static int ngx_http_durable_host_run(void *host, ds_event_t *ev);
static void ngx_http_durable_host_work(void *data, ngx_log_t *log);
static void ngx_http_durable_host_job(void *data);
static void ngx_http_durable_host_job_done(void *data);
#endif


ngx_int_t
ngx_http_durable_host_init(ngx_cycle_t *cycle, ngx_http_durable_store_t *st)
{
    ngx_http_durable_host_t  *h;

    h = ngx_pcalloc(cycle->pool, sizeof(ngx_http_durable_host_t));
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->store = st;
    h->gate = ngx_http_durable_gate_index(st->index);
    h->log = cycle->log;
    h->pool = cycle->pool;

    /* a store that fails to open is opened again under traffic */
    if (ngx_array_init(&h->evs, cycle->pool, 8,
                       sizeof(ngx_http_durable_host_ev_t *))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* not cancelable: a process that shuts down waits for its ops */
    h->guard.handler = ngx_http_durable_guard_handler;
    h->guard.data = h;
    h->guard.log = cycle->log;

    st->host = h;

#if (NGX_THREADS)

    /* only LMDB hands work to a thread; without it, the loop works */

    if (st->own_thread && st->backend == DS_BACKEND_LMDB) {
        h->thread = ngx_http_durable_thread_start(cycle, &st->name);
    }

#endif

    return NGX_OK;
}


/* opens the store with this process as its host */

ngx_int_t
ngx_http_durable_host_open(ngx_http_durable_store_t *st,
    ds_store_conf_t *conf, char *err, size_t errlen)
{
    ds_host_t                 host;
    ngx_http_durable_host_t  *h;

    h = st->host;

    ngx_memzero(&host, sizeof(ds_host_t));

    host.data = h;
    host.init = ngx_http_durable_host_ev_init;
    host.post = ngx_http_durable_host_post;
    host.timer = ngx_http_durable_host_timer;
    host.cancel = ngx_http_durable_host_cancel;
    host.gate_try = ngx_http_durable_host_gate_try;
    host.gate_release = ngx_http_durable_host_gate_release;
    host.lock_wait = ngx_http_durable_host_lock_wait;
    host.lock_waiters = ngx_http_durable_host_lock_waiters;
    host.wake = ngx_http_durable_host_wake;
    host.pending = ngx_http_durable_host_pending;
    host.applied = ngx_http_durable_host_applied;
    host.log = ngx_http_durable_host_log;
    host.log_level = ngx_http_durable_host_log_level(h->log);
    host.watch = ngx_http_durable_host_watch;

    conf->name = (const char *) st->name.data;
    conf->writes = st->loop_writes ? DS_WRITES_LOOP : DS_WRITES_THREAD;
    conf->flush_ms = st->flush;
    conf->reads_later = st->reads_later;

#if (NGX_THREADS)
    if (st->thread_pool != NULL || h->thread != NULL) {
        host.run = ngx_http_durable_host_run;
    }
#endif

    /* the events of a failed open are given to the next one */
    h->nevs = 0;
    h->made = 0;

    if (ds_store_open(&st->ds, conf, &host, err, errlen) != DS_OK) {
        st->ds = NULL;
    }

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, h->log, 0,
                   "durable host \"%V\": %ui events, %ui new, open:%d",
                   &st->name, h->nevs, h->made, st->ds != NULL);

    return st->ds != NULL ? NGX_OK : NGX_ERROR;
}


void
ngx_http_durable_host_exit(ngx_http_durable_store_t *st)
{
    ngx_http_durable_host_t  *h;

    h = st->host;

    if (h != NULL && h->guard.timer_set) {
        ngx_del_timer(&h->guard);
    }

#if (NGX_THREADS)

    /* its last batch or flush ends before the store closes */

    if (h != NULL && h->thread != NULL) {
        ngx_http_durable_thread_stop(h->thread);
        h->thread = NULL;
    }

#endif

    if (st->ds != NULL) {
        ds_store_close(st->ds);
        st->ds = NULL;
    }
}


static int
ngx_http_durable_host_ev_init(void *host, ds_event_t *ev)
{
    ngx_http_durable_host_t  *h = host;

    ngx_http_durable_host_ev_t  *he, **hep;

    if (h->nevs < h->evs.nelts) {
        /* made for an open that failed: nothing of it is armed */
        hep = h->evs.elts;
        he = hep[h->nevs];

    } else {
        he = ngx_pcalloc(h->pool, sizeof(ngx_http_durable_host_ev_t));
        if (he == NULL) {
            return -1;
        }

        hep = ngx_array_push(&h->evs);
        if (hep == NULL) {
            return -1;
        }

        *hep = he;
        h->made++;
    }

    h->nevs++;

    he->ev = ev;

    /* the store's timers never hold a process that shuts down */
    he->event.handler = ngx_http_durable_host_handler;
    he->event.data = he;
    he->event.log = h->log;
    he->event.cancelable = 1;

#if (NGX_THREADS)

    if (h->store->thread_pool != NULL && ev->work != NULL
        && he->task == NULL)
    {
        he->task = ngx_thread_task_alloc(h->pool, 0);
        if (he->task == NULL) {
            return -1;
        }

        he->task->ctx = he;
        he->task->handler = ngx_http_durable_host_work;
        he->task->event.handler = ngx_http_durable_host_handler;
        he->task->event.data = he;
        he->task->event.log = h->log;
    }

    if (h->thread != NULL && ev->work != NULL) {
        he->job.work = ngx_http_durable_host_job;
        he->job.done = ngx_http_durable_host_job_done;
        he->job.data = he;
    }

#endif

    ev->host = he;

    return 0;
}


static void
ngx_http_durable_host_handler(ngx_event_t *ev)
{
    ngx_http_durable_host_ev_t  *he = ev->data;

    he->ev->handler(he->ev);
}


#if (NGX_THREADS)

static int
ngx_http_durable_host_run(void *host, ds_event_t *ev)
{
    ngx_http_durable_host_t     *h = host;
    ngx_http_durable_host_ev_t  *he = ev->host;

    if (h->thread != NULL) {
        return ngx_http_durable_thread_post(h->thread, &he->job) == NGX_OK
               ? 0 : -1;
    }

    if (he->task == NULL
        || ngx_thread_task_post(h->store->thread_pool, he->task) != NGX_OK)
    {
        /* the pool's queue is full: the store works in the loop */
        return -1;
    }

    return 0;
}


static void
ngx_http_durable_host_work(void *data, ngx_log_t *log)
{
    ngx_http_durable_host_ev_t  *he = data;

    he->ev->work(he->ev);
}


static void
ngx_http_durable_host_job(void *data)
{
    ngx_http_durable_host_ev_t  *he = data;

    he->ev->work(he->ev);
}


static void
ngx_http_durable_host_job_done(void *data)
{
    ngx_http_durable_host_ev_t  *he = data;

    he->ev->handler(he->ev);
}

#endif


static void
ngx_http_durable_host_post(void *host, ds_event_t *ev, int next)
{
    ngx_http_durable_host_ev_t  *he = ev->host;

    if (!he->event.posted) {
        ngx_post_event(&he->event,
                       next ? &ngx_posted_next_events : &ngx_posted_events);
    }
}


static void
ngx_http_durable_host_timer(void *host, ds_event_t *ev, int64_t ms)
{
    ngx_http_durable_host_ev_t  *he = ev->host;

    ngx_add_timer(&he->event, (ngx_msec_t) ms);
}


static void
ngx_http_durable_host_cancel(void *host, ds_event_t *ev)
{
    ngx_http_durable_host_ev_t  *he = ev->host;

    if (he->event.timer_set) {
        ngx_del_timer(&he->event);
    }

    if (he->event.posted) {
        ngx_delete_posted_event(&he->event);
    }
}


/*
 * A network backend's socket in the event loop: a connection of nginx's
 * on the backend's fd (the backend's library owns the fd, reads and
 * writes it, and closes it), whose events call the store back.
 */

static int
ngx_http_durable_host_watch(void *host, ds_event_t *ev, int fd,
    unsigned what)
{
    ngx_http_durable_host_t     *h = host;
    ngx_http_durable_host_ev_t  *he = ev->host;

    ngx_connection_t  *c;

    c = he->conn;

    if (c != NULL
        && (c->fd != (ngx_socket_t) fd
            || !(what & (DS_WATCH_READ | DS_WATCH_WRITE))))
    {
        ngx_http_durable_host_unwatch(he, what & DS_WATCH_CLOSED);
        c = NULL;
    }

    if (!(what & (DS_WATCH_READ | DS_WATCH_WRITE))) {
        return 0;
    }

    if (c == NULL) {
        c = ngx_get_connection((ngx_socket_t) fd, h->log);
        if (c == NULL) {
            return -1;
        }

        c->data = he;
        c->log = h->log;
        c->read->handler = ngx_http_durable_host_io;
        c->write->handler = ngx_http_durable_host_io;
        c->read->log = h->log;
        c->write->log = h->log;

        he->conn = c;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, h->log, 0,
                       "durable store socket %d watched", fd);
    }

    if ((what & DS_WATCH_READ)
        && ngx_handle_read_event(c->read, 0) != NGX_OK)
    {
        goto failed;
    }

    if (what & DS_WATCH_WRITE) {
        if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
            goto failed;
        }

    } else if (c->write->active
               && !(ngx_event_flags & NGX_USE_CLEAR_EVENT))
    {
        /* a level-triggered loop would call back at once, forever */
        if (ngx_del_event(c->write, NGX_WRITE_EVENT, 0) != NGX_OK) {
            goto failed;
        }
    }

    return 0;

failed:

    ngx_http_durable_host_unwatch(he, 0);

    return -1;
}


/* forgets the socket; closed: the library closed the fd already */

static void
ngx_http_durable_host_unwatch(ngx_http_durable_host_ev_t *he,
    ngx_uint_t closed)
{
    ngx_uint_t         flags;
    ngx_connection_t  *c;

    c = he->conn;
    he->conn = NULL;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "durable store socket %d unwatched, closed:%ui",
                   c->fd, closed);

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    /* NGX_CLOSE_EVENT: the fd is gone, the kernel forgot it already */
    flags = closed ? NGX_CLOSE_EVENT : 0;

    if (ngx_del_conn) {
        (void) ngx_del_conn(c, flags);

    } else {
        if (c->read->active || c->read->disabled) {
            (void) ngx_del_event(c->read, NGX_READ_EVENT, flags);
        }

        if (c->write->active || c->write->disabled) {
            (void) ngx_del_event(c->write, NGX_WRITE_EVENT, flags);
        }
    }

    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;
}


static void
ngx_http_durable_host_io(ngx_event_t *ev)
{
    ngx_connection_t            *c = ev->data;
    ngx_http_durable_host_ev_t  *he = c->data;

    /* the library reads and writes: nginx must register again */
    ev->ready = 0;

    he->ev->handler(he->ev);
}


static int
ngx_http_durable_host_gate_try(void *host)
{
    ngx_http_durable_host_t  *h = host;

    switch (ngx_http_durable_gate_try(h->gate, h->log)) {

    case NGX_OK:
        return 1;

    case NGX_AGAIN:
        return 0;

    default:
        return -1;
    }
}


static void
ngx_http_durable_host_gate_release(void *host)
{
    ngx_http_durable_host_t  *h = host;

    ngx_http_durable_gate_release(h->gate);
}


/*
 * where the batch is applied: a thread (the pool's or the store's own),
 * or the loop when none takes it; so no log, no pool memory
 */

static void
ngx_http_durable_host_lock_wait(void *host, int on)
{
    ngx_http_durable_host_t  *h = host;

    ngx_http_durable_lock_wait(h->gate, on);
}


static int
ngx_http_durable_host_lock_waiters(void *host)
{
    ngx_http_durable_host_t  *h = host;

    return ngx_http_durable_lock_waiting(h->gate) != 0;
}


static void
ngx_http_durable_host_wake(void *host)
{
    ngx_http_durable_notify();
}


static void
ngx_http_durable_host_pending(void *host, int any)
{
    ngx_http_durable_host_t  *h = host;

    if (any) {
        if (!h->guard.timer_set) {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, h->log, 0,
                           "durable host \"%V\": guard armed, ops pending",
                           &h->store->name);

            ngx_add_timer(&h->guard, NGX_HTTP_DURABLE_GUARD);
        }

        return;
    }

    /* nothing pending: a process that shuts down may go */

    if (h->guard.timer_set) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, h->log, 0,
                       "durable host \"%V\": guard cleared, no op pending",
                       &h->store->name);

        ngx_del_timer(&h->guard);
    }
}


static void
ngx_http_durable_host_applied(void *host, size_t n, int64_t us,
    int64_t waited)
{
    ngx_http_durable_metrics_batch(n, us, waited);
}


static void
ngx_http_durable_host_log(void *host, ds_log_e level, const char *msg)
{
    ngx_http_durable_host_t  *h = host;

    ngx_uint_t  l;

    switch (level) {

    case DS_LOG_DEBUG:
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, h->log, 0, "%s", msg);
        return;

    case DS_LOG_ALERT:
        l = NGX_LOG_ALERT;
        break;

    case DS_LOG_ERR:
        l = NGX_LOG_ERR;
        break;

    case DS_LOG_NOTICE:
        l = NGX_LOG_NOTICE;
        break;

    default:
        l = NGX_LOG_INFO;
        break;
    }

    ngx_log_error(l, h->log, 0, "%s", msg);
}


/* the store formats only the lines the log keeps */

static ds_log_e
ngx_http_durable_host_log_level(ngx_log_t *log)
{
#if (NGX_DEBUG)
    if (log->log_level & NGX_LOG_DEBUG_HTTP) {
        return DS_LOG_DEBUG;
    }
#endif

    if (log->log_level >= NGX_LOG_INFO) {
        return DS_LOG_INFO;
    }

    if (log->log_level >= NGX_LOG_NOTICE) {
        return DS_LOG_NOTICE;
    }

    if (log->log_level >= NGX_LOG_ERR) {
        return DS_LOG_ERR;
    }

    return DS_LOG_ALERT;
}


/*
 * Ops are still pending: keep the process. An exiting one waits for them
 * as long as worker_shutdown_timeout (or a minute without it), so that a
 * backend that hangs does not keep it for ever.
 */

static void
ngx_http_durable_guard_handler(ngx_event_t *ev)
{
    ngx_http_durable_host_t  *h = ev->data;

    size_t            busy;
    ngx_msec_t        limit;
    ngx_core_conf_t  *ccf;

    busy = h->store->ds != NULL ? ds_store_busy(h->store->ds) : 0;

    if (busy == 0) {
        return;
    }

    if (ngx_exiting) {

        if (!h->exiting) {
            ccf = (ngx_core_conf_t *) ngx_get_conf(ngx_cycle->conf_ctx,
                                                   ngx_core_module);

            limit = ccf->shutdown_timeout ? ccf->shutdown_timeout
                                          : NGX_HTTP_DURABLE_GUARD_EXIT;

            h->exiting = 1;
            h->give_up = ngx_current_msec + limit;

        } else if ((ngx_msec_int_t) (ngx_current_msec - h->give_up) >= 0) {
            ngx_log_error(NGX_LOG_ALERT, h->log, 0,
                          "durable: store \"%V\": %uz operations still "
                          "pending at the end of the shutdown, the process "
                          "exits without their answers",
                          &h->store->name, busy);
            return;
        }
    }

    ngx_add_timer(ev, NGX_HTTP_DURABLE_GUARD);
}


/* submits one op that holds the request until the store answers it */

ngx_int_t
ngx_http_durable_submit(ngx_http_request_t *r, ngx_http_durable_ctx_t *ctx,
    ds_op_t *op, ngx_http_durable_answer_pt answer)
{
    ngx_http_durable_call_t  *c;

    c = ngx_http_durable_call_alloc(r, op, answer);
    if (c == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_durable_call_submit(r, ctx->store, c,
                                        NGX_HTTP_DURABLE_HOLD);
}


ngx_http_durable_call_t *
ngx_http_durable_call_alloc(ngx_http_request_t *r, ds_op_t *op,
    ngx_http_durable_answer_pt answer)
{
    ngx_http_durable_call_t  *c;

    c = ngx_palloc(r->pool, sizeof(ngx_http_durable_call_t));
    if (c == NULL) {
        return NULL;
    }

    ngx_http_durable_call_init(c, r, op, answer);

    return c;
}


/* a call in the caller's memory: one a wait makes once and reuses */

void
ngx_http_durable_call_init(ngx_http_durable_call_t *c, ngx_http_request_t *r,
    ds_op_t *op, ngx_http_durable_answer_pt answer)
{
    ngx_memzero(c, sizeof(ngx_http_durable_call_t));

    c->request = r;
    c->op = op;
    c->answer = answer;
    c->what = ds_op_what(op->type);
}


/*
 * Hands c->op to the store. A request with several ops submits them all
 * with NGX_HTTP_DURABLE_MORE but the last, so that they share a batch.
 * The call with NGX_HTTP_DURABLE_HOLD (one per request, the last of
 * several: nginx counts blocking operations of a request in 8 bits)
 * holds the request: NGX_DONE. The store may answer them in any order;
 * calls that share a c->group counter (set to their number before the
 * first submit) hold the request until the last of them is answered,
 * whichever it is, and that one's answer finalizes it. When the store
 * answered before the submit returned, the request is not held and the
 * answer's return value is returned.
 */

ngx_int_t
ngx_http_durable_call_submit(ngx_http_request_t *r,
    ngx_http_durable_store_t *st, ngx_http_durable_call_t *c,
    ngx_uint_t flags)
{
    ds_op_t                 *op;
    ngx_http_durable_ctx_t  *ctx;

    op = c->op;
    c->store = st;

    c->got = op->done;
    c->data = op->data;
    op->done = ngx_http_durable_call_done;
    op->data = c;

    c->queued = ngx_http_durable_usec();

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "durable op submitted: %s, hold:%ui, op:%p", c->what,
                   (ngx_uint_t) (flags & NGX_HTTP_DURABLE_HOLD ? 1 : 0), op);

    if (flags & NGX_HTTP_DURABLE_HOLD) {
        /* the request outlives a client that goes away meanwhile */
        c->hold = 1;
        r->main->count++;
        r->main->blocked++;
        r->aio = 1;
    }

    c->submitting = 1;

    ds_store_submit(st->ds, op,
                    (flags & NGX_HTTP_DURABLE_MORE) ? DS_SUBMIT_MORE : 0);

    c->submitting = 0;

    if (!c->answered) {
        return NGX_DONE;
    }

    /* answered at once: the caller answers, as a handler returning */

    ctx = ngx_http_get_module_ctx(r, ngx_http_durable_module);

    if (!ngx_http_durable_call_last(c)) {
        /* others of the request are pending: the last one finalizes */
        (void) c->answer(r, ctx, c);
        return c->hold ? NGX_DONE : NGX_OK;
    }

    if (!c->hold) {
        (void) c->answer(r, ctx, c);
        return NGX_OK;
    }

    r->main->count--;
    r->main->blocked--;
    r->aio = 0;

    return c->answer(r, ctx, c);
}


/* whether c is the last call of its request to be answered */

static ngx_uint_t
ngx_http_durable_call_last(ngx_http_durable_call_t *c)
{
    if (c->group == NULL) {
        return c->hold;
    }

    return --*c->group == 0;
}


/* op->done() of every call: the store answered */

static void
ngx_http_durable_call_done(ds_op_t *op)
{
    size_t                    batch;
    ngx_http_request_t       *r;
    ngx_http_durable_call_t  *c;

    c = op->data;
    r = c->request;

    op->data = c->data;
    op->done = c->got;
    c->rc = op->rc;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "durable op done: %s, rc:%d, op:%p", c->what, c->rc, op);

    /* a read's done(): what op->out points to is held during it only */

    if (c->got != NULL) {
        c->got(op);
    }

    /* a request's other ops share the batch of the one that holds */

    if (c->hold) {
        batch = ds_store_batch(c->store->ds);

        ngx_http_durable_log_store(r, ngx_http_durable_usec() - c->queued,
                                   batch);
    }

    if (c->submitting) {
        c->answered = 1;
        return;
    }

    ngx_http_durable_call_answer(c);
}


static void
ngx_http_durable_call_answer(ngx_http_durable_call_t *c)
{
    ngx_int_t                rc;
    ngx_connection_t        *conn;
    ngx_http_request_t      *r;
    ngx_http_durable_ctx_t  *ctx;

    r = c->request;
    conn = r->connection;

    ctx = ngx_http_get_module_ctx(r, ngx_http_durable_module);

    if (!ngx_http_durable_call_last(c)) {
        /* one of several: the request stays held for the last one */
        (void) c->answer(r, ctx, c);
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, conn->log, 0,
                   "durable op answers the request: %s, hold:%ui", c->what,
                   (ngx_uint_t) c->hold);

    r->main->blocked--;
    r->aio = 0;

    rc = c->answer(r, ctx, c);

    ngx_http_finalize_request(r, ngx_http_durable_finish(r, rc));
    ngx_http_run_posted_requests(conn);
}
