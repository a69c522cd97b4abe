
/*
 * Copyright (C) ngx_durable authors
 *
 * A store's own thread in an nginx process: where its write batches and
 * flushes run unless thread_pool= names an nginx pool.
 *
 * Why not nginx's pool: ngx_thread_task_post() signals the pool's
 * condition variable, and glibc before 2.41 may make that signal wait
 * until threads woken by earlier signals have been scheduled; the event
 * loop then sleeps for as long as the kernel takes to run them (tens of
 * milliseconds on a busy host). Here no call of the event loop can wait
 * for the thread: the queues are lists under a mutex held only to link
 * or unlink a job (never across work), the thread sleeps in read() on an
 * eventfd the loop writes to (a write to an eventfd or a non-blocking
 * pipe returns at once), and finished jobs come back through a second
 * eventfd that the event loop watches as a read event, whose handler
 * runs their done(). nginx's own notification (ngx_notify) is left to
 * the thread pools, which own it. Where eventfd is missing, pipes do.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_durable_thread.h"


#if (NGX_THREADS)

#include <pthread.h>

#if (NGX_HAVE_SYS_EVENTFD_H)
#include <sys/eventfd.h>
#endif


/* a wake-up channel: one eventfd, or a pipe's two ends */
typedef struct {
    ngx_fd_t                      in;       /* read */
    ngx_fd_t                      out;      /* written; == in, eventfd */
    ngx_uint_t                    nonblocking;  /* in */
} ngx_http_durable_chan_t;


struct ngx_http_durable_thread_s {
    pthread_t                     tid;
    pthread_mutex_t               mutex;    /* todo, done, stop */
    ngx_http_durable_job_t       *todo;
    ngx_http_durable_job_t      **todo_last;
    ngx_http_durable_job_t       *done;
    ngx_http_durable_job_t      **done_last;
    ngx_uint_t                    stop;
    ngx_http_durable_chan_t       wake;     /* loop -> thread, blocking */
    ngx_http_durable_chan_t       back;     /* thread -> loop */
    ngx_connection_t             *conn;     /* back.in in the event loop */
    ngx_log_t                    *log;
    ngx_str_t                     name;
#if (NGX_HTTP_DURABLE_TEST_FAULTS)
    ngx_uint_t                    faults;
#endif
};


/*
 * Test builds only (DURABLE_TEST_FAULTS_BUILD=1 at configure time, see
 * config): failures that no test can cause from outside, named in the
 * environment variable DURABLE_TEST_FAULTS (set for the workers with
 * nginx's env directive), e.g. "thread_start": the thread cannot be
 * made; "thread_wake": the event loop cannot wake it; "thread_wait": it
 * cannot wait for work.
 */

#define NGX_HTTP_DURABLE_FAULT_START  0x01
#define NGX_HTTP_DURABLE_FAULT_WAKE   0x02
#define NGX_HTTP_DURABLE_FAULT_WAIT   0x04


static ngx_int_t ngx_http_durable_chan_open(ngx_http_durable_chan_t *ch,
    ngx_uint_t nonblocking, ngx_log_t *log);
static void ngx_http_durable_chan_close(ngx_http_durable_chan_t *ch);
static ngx_int_t ngx_http_durable_chan_signal(ngx_http_durable_chan_t *ch);
static ngx_int_t ngx_http_durable_chan_drain(ngx_http_durable_chan_t *ch);
static void ngx_http_durable_thread_close(ngx_http_durable_thread_t *t);
static void *ngx_http_durable_thread_cycle(void *data);
static void ngx_http_durable_thread_back(ngx_event_t *ev);

#if (NGX_HTTP_DURABLE_TEST_FAULTS)
static ngx_uint_t ngx_http_durable_thread_faults(void);
static ngx_err_t ngx_http_durable_thread_fault(ngx_http_durable_thread_t *t,
    ngx_uint_t fault);
#else
#define ngx_http_durable_thread_fault(t, fault)  0
#endif


/*
 * Starts the thread of store name; NULL when it cannot (logged here):
 * the caller then works in the event loop.
 */

ngx_http_durable_thread_t *
ngx_http_durable_thread_start(ngx_cycle_t *cycle, ngx_str_t *name)
{
    int                         err;
    sigset_t                    all, old;
    ngx_connection_t           *c;
    ngx_http_durable_thread_t  *t;

    t = ngx_pcalloc(cycle->pool, sizeof(ngx_http_durable_thread_t));
    if (t == NULL) {
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "durable: store \"%V\": no memory for a thread of "
                      "its own, its writes run in the event loop", name);
        return NULL;
    }

    t->todo_last = &t->todo;
    t->done_last = &t->done;
    t->log = cycle->log;
    t->name = *name;
    t->wake.in = NGX_INVALID_FILE;
    t->wake.out = NGX_INVALID_FILE;
    t->back.in = NGX_INVALID_FILE;
    t->back.out = NGX_INVALID_FILE;

#if (NGX_HTTP_DURABLE_TEST_FAULTS)
    t->faults = ngx_http_durable_thread_faults();

    if (t->faults) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "durable: store \"%V\": DURABLE_TEST_FAULTS makes its "
                      "thread fail", name);
    }
#endif

    err = pthread_mutex_init(&t->mutex, NULL);
    if (err != 0) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, err,
                      "durable: store \"%V\": pthread_mutex_init() failed",
                      name);
        return NULL;
    }

    if (ngx_http_durable_chan_open(&t->wake, 0, cycle->log) != NGX_OK
        || ngx_http_durable_chan_open(&t->back, 1, cycle->log) != NGX_OK)
    {
        goto failed;
    }

    c = ngx_get_connection((ngx_socket_t) t->back.in, cycle->log);
    if (c == NULL) {
        goto failed;
    }

    c->data = t;
    c->log = cycle->log;
    c->read->handler = ngx_http_durable_thread_back;
    c->read->log = cycle->log;

    t->conn = c;

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        goto failed;
    }

    /*
     * signals are the event loop's: the thread never sees one, save the
     * faults its own work raises, which must reach ASan or a handler
     */

    (void) sigfillset(&all);
    (void) sigdelset(&all, SIGSEGV);
    (void) sigdelset(&all, SIGBUS);
    (void) sigdelset(&all, SIGFPE);
    (void) sigdelset(&all, SIGILL);
    (void) pthread_sigmask(SIG_BLOCK, &all, &old);

    err = ngx_http_durable_thread_fault(t, NGX_HTTP_DURABLE_FAULT_START);

    if (err == 0) {
        err = pthread_create(&t->tid, NULL, ngx_http_durable_thread_cycle,
                             t);
    }

    (void) pthread_sigmask(SIG_SETMASK, &old, NULL);

    if (err != 0) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, err,
                      "durable: store \"%V\": pthread_create() failed",
                      name);
        goto failed;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, cycle->log, 0,
                   "durable store \"%V\": own thread started", name);

    return t;

failed:

    /* the cause is logged already */

    ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                  "durable: store \"%V\": no thread of its own, its writes "
                  "run in the event loop", name);

    ngx_http_durable_thread_close(t);

    return NULL;
}


/*
 * Queues job for the thread; called in the event loop. NGX_ERROR when
 * the thread cannot be woken: the job is not queued, the caller does it.
 * A job queued already is not queued again: a logic error, logged, but
 * the job comes back once and only its thread works on it.
 */

ngx_int_t
ngx_http_durable_thread_post(ngx_http_durable_thread_t *t,
    ngx_http_durable_job_t *job)
{
    ngx_http_durable_job_t  **jp;

    if (job->posted) {
        ngx_log_error(NGX_LOG_ALERT, t->log, 0,
                      "durable: store \"%V\": a job posted twice", &t->name);
        return NGX_OK;
    }

    job->next = NULL;
    job->posted = 1;

    (void) pthread_mutex_lock(&t->mutex);
    *t->todo_last = job;
    t->todo_last = &job->next;
    (void) pthread_mutex_unlock(&t->mutex);

    if (!ngx_http_durable_thread_fault(t, NGX_HTTP_DURABLE_FAULT_WAKE)
        && ngx_http_durable_chan_signal(&t->wake) == NGX_OK)
    {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, t->log, 0,
                       "durable store \"%V\": job handed to its own thread",
                       &t->name);
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_ALERT, t->log, ngx_errno,
                  "durable: store \"%V\": waking its thread failed",
                  &t->name);

    /* take it back unless the thread took it meanwhile */

    (void) pthread_mutex_lock(&t->mutex);

    for (jp = &t->todo; *jp != NULL; jp = &(*jp)->next) {
        if (*jp == job) {
            *jp = job->next;
            if (t->todo_last == &job->next) {
                t->todo_last = jp;
            }

            job->posted = 0;
            break;
        }
    }

    (void) pthread_mutex_unlock(&t->mutex);

    return job->posted ? NGX_OK : NGX_ERROR;
}


/*
 * Tells the thread to stop once its queue is empty and waits for it; the
 * jobs it finished meanwhile are not answered (the process exits).
 */

void
ngx_http_durable_thread_stop(ngx_http_durable_thread_t *t)
{
    int  err;

    (void) pthread_mutex_lock(&t->mutex);
    t->stop = 1;
    (void) pthread_mutex_unlock(&t->mutex);

    if (ngx_http_durable_chan_signal(&t->wake) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, t->log, ngx_errno,
                      "durable: store \"%V\": waking its thread failed",
                      &t->name);
    }

    err = pthread_join(t->tid, NULL);
    if (err != 0) {
        ngx_log_error(NGX_LOG_ALERT, t->log, err,
                      "durable: store \"%V\": pthread_join() failed",
                      &t->name);
    }

    ngx_http_durable_thread_close(t);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, t->log, 0,
                   "durable store \"%V\": own thread stopped, unanswered:%d",
                   &t->name, t->done != NULL);
}


static void
ngx_http_durable_thread_close(ngx_http_durable_thread_t *t)
{
    if (t->conn != NULL) {
        /* closes back.in, and forgets its event */
        ngx_close_connection(t->conn);
        t->conn = NULL;

        if (t->back.out == t->back.in) {
            t->back.out = NGX_INVALID_FILE;
        }

        t->back.in = NGX_INVALID_FILE;
    }

    ngx_http_durable_chan_close(&t->back);
    ngx_http_durable_chan_close(&t->wake);

    (void) pthread_mutex_destroy(&t->mutex);
}


static void *
ngx_http_durable_thread_cycle(void *data)
{
    ngx_http_durable_thread_t  *t = data;

    ngx_uint_t               stop, failed;
    ngx_http_durable_job_t  *job;

    failed = 0;

    for ( ;; ) {
        (void) pthread_mutex_lock(&t->mutex);

        job = t->todo;

        if (job != NULL) {
            t->todo = job->next;
            if (t->todo == NULL) {
                t->todo_last = &t->todo;
            }
        }

        stop = t->stop;

        (void) pthread_mutex_unlock(&t->mutex);

        if (job == NULL) {
            if (stop) {
                return NULL;
            }

            /* a job posted since the look above has written to wake */

            if (ngx_http_durable_thread_fault(t, NGX_HTTP_DURABLE_FAULT_WAIT)
                || ngx_http_durable_chan_drain(&t->wake) != NGX_OK)
            {

                /* logged once: it would fail as often as it looks */

                if (!failed) {
                    ngx_log_error(NGX_LOG_ALERT, t->log, ngx_errno,
                                  "durable: store \"%V\": its thread failed "
                                  "to wait, it looks every 100 ms instead",
                                  &t->name);
                    failed = 1;
                }

                ngx_msleep(100);
            }

            continue;
        }

        job->work(job->data);

        (void) pthread_mutex_lock(&t->mutex);
        job->next = NULL;
        *t->done_last = job;
        t->done_last = &job->next;
        (void) pthread_mutex_unlock(&t->mutex);

        if (ngx_http_durable_chan_signal(&t->back) != NGX_OK) {
            ngx_log_error(NGX_LOG_ALERT, t->log, ngx_errno,
                          "durable: store \"%V\": its thread failed to "
                          "hand back a job", &t->name);
        }
    }
}


/* the event loop: jobs came back, run their done() */

static void
ngx_http_durable_thread_back(ngx_event_t *ev)
{
    ngx_connection_t           *c = ev->data;
    ngx_http_durable_thread_t  *t = c->data;

    ngx_http_durable_job_t  *job, *next;

    ev->ready = 0;

    /* drained first: a job added after the take below wakes again */

    if (ngx_http_durable_chan_drain(&t->back) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, t->log, ngx_errno,
                      "durable: store \"%V\": reading its thread's "
                      "notification failed", &t->name);
    }

    (void) pthread_mutex_lock(&t->mutex);
    job = t->done;
    t->done = NULL;
    t->done_last = &t->done;
    (void) pthread_mutex_unlock(&t->mutex);

    for ( /* void */ ; job != NULL; job = next) {
        next = job->next;
        job->posted = 0;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, t->log, 0,
                       "durable store \"%V\": job of its own thread done",
                       &t->name);

        /* may post the job again */
        job->done(job->data);
    }

    /* event ports need it again after each event; others keep it */

    if (ngx_handle_read_event(ev, 0) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, t->log, 0,
                      "durable: store \"%V\": watching its thread's "
                      "notification failed", &t->name);
    }
}


static ngx_int_t
ngx_http_durable_chan_open(ngx_http_durable_chan_t *ch,
    ngx_uint_t nonblocking, ngx_log_t *log)
{
#if (NGX_HAVE_SYS_EVENTFD_H)

    int  fd;

    ch->nonblocking = nonblocking;

    fd = eventfd(0, EFD_CLOEXEC | (nonblocking ? EFD_NONBLOCK : 0));
    if (fd == -1) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno, "eventfd() failed");
        return NGX_ERROR;
    }

    /* a write adds to a 64-bit counter: it never blocks */

    ch->in = fd;
    ch->out = fd;

#else

    int  fds[2];

    ch->nonblocking = nonblocking;

    if (pipe(fds) == -1) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno, "pipe() failed");
        return NGX_ERROR;
    }

    ch->in = fds[0];
    ch->out = fds[1];

    /* a full pipe is a wake-up pending already: the writer never waits */

    if (ngx_nonblocking(ch->out) == -1
        || (nonblocking && ngx_nonblocking(ch->in) == -1))
    {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      ngx_nonblocking_n " failed");
        ngx_http_durable_chan_close(ch);
        return NGX_ERROR;
    }

    (void) fcntl(ch->in, F_SETFD, FD_CLOEXEC);
    (void) fcntl(ch->out, F_SETFD, FD_CLOEXEC);

#endif

    return NGX_OK;
}


static void
ngx_http_durable_chan_close(ngx_http_durable_chan_t *ch)
{
    if (ch->out != NGX_INVALID_FILE && ch->out != ch->in) {
        (void) close(ch->out);
    }

    if (ch->in != NGX_INVALID_FILE) {
        (void) close(ch->in);
    }

    ch->in = NGX_INVALID_FILE;
    ch->out = NGX_INVALID_FILE;
}


static ngx_int_t
ngx_http_durable_chan_signal(ngx_http_durable_chan_t *ch)
{
    ssize_t  n;

#if (NGX_HAVE_SYS_EVENTFD_H)
    uint64_t  one = 1;
#else
    u_char    one = 1;
#endif

    do {
        n = write(ch->out, &one, sizeof(one));
    } while (n == -1 && ngx_errno == NGX_EINTR);

    if (n == -1 && ngx_errno != NGX_EAGAIN) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Reads what signals left: at once for a non-blocking end, else after
 * waiting for one.
 */

static ngx_int_t
ngx_http_durable_chan_drain(ngx_http_durable_chan_t *ch)
{
    ssize_t  n;

#if (NGX_HAVE_SYS_EVENTFD_H)
    uint64_t  count;
#else
    u_char    count[64];
#endif

    do {
        n = read(ch->in, (void *) &count, sizeof(count));
    } while (n == -1 && ngx_errno == NGX_EINTR);

    if (n == -1 && ngx_errno != NGX_EAGAIN) {
        return NGX_ERROR;
    }

#if !(NGX_HAVE_SYS_EVENTFD_H)

    /* a pipe holds a byte per signal; a blocking end wakes once more */

    while (ch->nonblocking && n == (ssize_t) sizeof(count)) {
        n = read(ch->in, count, sizeof(count));
    }

#endif

    return NGX_OK;
}

#if (NGX_HTTP_DURABLE_TEST_FAULTS)

static ngx_uint_t
ngx_http_durable_thread_faults(void)
{
    char        *v;
    ngx_uint_t   faults;

    v = getenv("DURABLE_TEST_FAULTS");
    if (v == NULL) {
        return 0;
    }

    faults = 0;

    if (ngx_strstr(v, "thread_start") != NULL) {
        faults |= NGX_HTTP_DURABLE_FAULT_START;
    }

    if (ngx_strstr(v, "thread_wake") != NULL) {
        faults |= NGX_HTTP_DURABLE_FAULT_WAKE;
    }

    if (ngx_strstr(v, "thread_wait") != NULL) {
        faults |= NGX_HTTP_DURABLE_FAULT_WAIT;
    }

    return faults;
}


/*
 * whether fault is on: then it fails as the real call would, with EBADF
 * set as errno and returned, for a call that returns its error
 */

static ngx_err_t
ngx_http_durable_thread_fault(ngx_http_durable_thread_t *t, ngx_uint_t fault)
{
    if (t->faults & fault) {
        ngx_set_errno(NGX_EBADF);
        return NGX_EBADF;
    }

    return 0;
}

#endif


#endif /* NGX_THREADS */
