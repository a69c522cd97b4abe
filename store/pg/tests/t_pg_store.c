
/*
 * Copyright (C) ngx_durable authors
 *
 * The PostgreSQL backend behind ds_store_submit() (ds_store_pg.c), driven
 * by a host of this file whose loop is poll(): ops answered through done()
 * in the loop, a batch of ops submitted together answered as one, an op
 * without a function yet refused at once, a write through one store waking
 * the other store's host (its listener), a listener that connects again
 * waking its host once for what was notified while it was down, and, with
 * every process of the server stopped (SIGSTOP), ops answered
 * DS_UNAVAILABLE after the bound while the loop goes on; once the server
 * goes on, the store serves again. A database whose schema is of a version
 * this build does not serve is refused, once in the log, its ops answered
 * DS_SCHEMA until it is right; one at DSI_PG_SCHEMA_MIN is served, its
 * version logged; so are functions older than DSI_PG_FUNCTIONS, or none. A
 * batch of starts whose one statement cannot be put together (memory
 * refused) goes as one statement per start, each answered as alone. Reads
 * go in batches of DSI_PG_READS_MAX, in few writes to the socket, leave
 * the last idle connection to the writes, fail alone, and are each
 * answered DS_UNAVAILABLE when their connection is lost mid-batch. A batch
 * waiting for a lock longer than the bound is ended by the server
 * (statement_timeout), not applied; one the server cancels answers
 * DS_UNAVAILABLE on a connection kept. A batch rolled back for a deadlock
 * or a serialization failure, found by a statement or at its COMMIT, is
 * sent again once. A claim whose item callback fails lets its leases go,
 * for each kind of item.
 *
 *   t_pg_store CONNINFO POSTMASTER_PID_FILE
 */


#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "ds_internal.h"
#include "ds_pg.h"


#define T_WATCHDOG_S    120
#define T_EVENTS_MAX    256     /* of every store the test opens */
#define T_BOUND_MS      500
#define T_OWN_BOUND_MS  10000   /* a store of a test's own (t_own()) */
#define T_MANY          100
#define T_ROUND         160     /* over two batches: the queue never empties */
/*
 * writes to a socket the loop makes at most to send a batch of reads
 * (ds_pg.h): a sync each of its statements, and the prepares'
 */
#define T_READ_SENDS    130


static unsigned long  t_passed, t_failed;


#define T(c)  t_check((c) != 0, __LINE__, #c)


static void
t_check(int ok, int line, const char *expr)
{
    if (ok) {
        t_passed++;
        return;
    }

    t_failed++;
    printf("not ok - line %d: %s\n", line, expr);
}


/*
 * The allocations of the store's code: this program is linked with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc (Makefile), so its calls
 * of those come here; libpq's and libc's own do not, nor strdup()'s,
 * made inside libc, the store's included. Armed, the t_nomem_at-th of
 * them from then on fails, that one alone.
 */

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);

static int     t_nomem_armed;
static size_t  t_nomem_at, t_nomem_seen;


static int
t_nomem(void)
{
    if (!t_nomem_armed || t_nomem_seen++ != t_nomem_at) {
        return 0;
    }

    t_nomem_armed = 0;

    return 1;
}


static void
t_nomem_arm(size_t at)
{
    t_nomem_at = at;
    t_nomem_seen = 0;
    t_nomem_armed = 1;
}


void *
__wrap_malloc(size_t size)
{
    return t_nomem() ? NULL : __real_malloc(size);
}


void *
__wrap_calloc(size_t n, size_t size)
{
    return t_nomem() ? NULL : __real_calloc(n, size);
}


void *
__wrap_realloc(void *p, size_t size)
{
    return t_nomem() ? NULL : __real_realloc(p, size);
}


/*
 * libpq's writes to its sockets, counted: this send() comes before the C
 * library's for libpq too
 */

static size_t  t_sends;


ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
    t_sends++;

    return sendto(fd, buf, len, flags, NULL, 0);
}


/* the host: every event it knows, and what it waits for on each */

typedef struct {
    ds_event_t         *ev;
    int                 posted;
    int64_t             due;            /* ms on ds_time_now()'s clock */
    int                 fd;
    unsigned            what;
} t_ev_t;


typedef struct {
    int                 wakes;
    int                 pending;
    int                 alerts;
    size_t              sent_ops;       /* the last batch of writes sent */
    size_t              sent_stmts;     /* as so many statements */
    int                 listening;      /* times the listener connected */
    int                 listener_lost;  /* times it was lost */
    size_t              read_ops;       /* the last batch of reads sent */
    size_t              read_stmts;
    size_t              read_batches;   /* batches of reads sent */
    size_t              read_log[4][2]; /* the first ones' ops, stmts */
    size_t              read_sends;     /* t_sends at the last one, */
    size_t              read_sends_most;    /* the most one took */
    int                 served;         /* the schema version logged */
    size_t              ready;          /* connections that took ops */
    size_t              lost;           /* pool connections lost */
} t_host_t;


static t_ev_t   t_evs[T_EVENTS_MAX];
static size_t   t_nevs;
static int      t_iterations;


static int64_t
t_ms(void)
{
    return ds_time_now() / 1000;
}


static int
t_init(void *host, ds_event_t *ev)
{
    t_ev_t  *e;

    (void) host;

    if (t_nevs == T_EVENTS_MAX) {
        return -1;
    }

    e = &t_evs[t_nevs++];
    e->ev = ev;
    e->due = -1;
    e->fd = -1;
    ev->host = e;

    return 0;
}


static void
t_post(void *host, ds_event_t *ev, int next)
{
    (void) host;
    (void) next;

    ((t_ev_t *) ev->host)->posted = 1;
}


static void
t_timer(void *host, ds_event_t *ev, int64_t ms)
{
    (void) host;

    ((t_ev_t *) ev->host)->due = t_ms() + ms;
}


static void
t_cancel(void *host, ds_event_t *ev)
{
    t_ev_t  *e = ev->host;

    (void) host;

    e->posted = 0;
    e->due = -1;
}


static int
t_watch(void *host, ds_event_t *ev, int fd, unsigned what)
{
    t_ev_t  *e = ev->host;

    (void) host;

    e->fd = (what & (DS_WATCH_READ | DS_WATCH_WRITE)) ? fd : -1;
    e->what = what & (DS_WATCH_READ | DS_WATCH_WRITE);

    return 0;
}


static void
t_wake(void *host)
{
    ((t_host_t *) host)->wakes++;
}


static void
t_pending(void *host, int any)
{
    ((t_host_t *) host)->pending = any;
}


static void
t_log(void *host, ds_log_e level, const char *msg)
{
    size_t       ops, stmts;
    const char  *p;

    p = strstr(msg, "batch of ");

    if (p != NULL
        && sscanf(p, "batch of %zu sent as %zu", &ops, &stmts) == 2)
    {
        if (strstr(p, "in a transaction") != NULL) {
            ((t_host_t *) host)->sent_ops = ops;
            ((t_host_t *) host)->sent_stmts = stmts;

        } else {
            t_host_t  *th = host;

            th->read_ops = ops;
            th->read_stmts = stmts;

            if (th->read_batches < 4) {
                th->read_log[th->read_batches][0] = ops;
                th->read_log[th->read_batches][1] = stmts;
            }

            if (t_sends - th->read_sends > th->read_sends_most) {
                th->read_sends_most = t_sends - th->read_sends;
            }

            th->read_sends = t_sends;

            th->read_batches++;
        }
    }

    if (strstr(msg, "connection takes ops") != NULL) {
        ((t_host_t *) host)->ready++;
    }

    if (strstr(msg, "connection lost") != NULL) {
        ((t_host_t *) host)->lost++;
    }

    if (strstr(msg, "listener connected") != NULL) {
        ((t_host_t *) host)->listening++;
    }

    if (strstr(msg, "listener lost") != NULL) {
        ((t_host_t *) host)->listener_lost++;
    }

    p = strstr(msg, "schema is version ");

    if (p != NULL && strstr(p, "this nginx serves") != NULL) {
        ((t_host_t *) host)->served = atoi(p + strlen("schema is version "));
    }

    if (level <= DS_LOG_ALERT) {
        ((t_host_t *) host)->alerts++;
    }

    if (level <= DS_LOG_ERR || getenv("T_VERBOSE") != NULL) {
        printf("# %s\n", msg);
    }
}


/* the events posted, as an iteration of the loop runs them first */

static void
t_posts(void)
{
    size_t  i;

    for (i = 0; i < t_nevs; i++) {
        if (t_evs[i].posted) {
            t_evs[i].posted = 0;
            t_evs[i].ev->handler(t_evs[i].ev);
        }
    }
}


/* one iteration of the loop: posts, then sockets or timers */

static void
t_iterate(void)
{
    int            n;
    size_t         i, nfds, map[T_EVENTS_MAX];
    int64_t        now, wait;
    struct pollfd  pfds[T_EVENTS_MAX];

    t_iterations++;

    t_posts();

    now = t_ms();
    wait = 100;
    nfds = 0;

    for (i = 0; i < t_nevs; i++) {
        if (t_evs[i].posted) {
            wait = 0;
        }

        if (t_evs[i].due >= 0 && t_evs[i].due - now < wait) {
            wait = t_evs[i].due > now ? t_evs[i].due - now : 0;
        }

        if (t_evs[i].fd >= 0) {
            pfds[nfds].fd = t_evs[i].fd;
            pfds[nfds].events = ((t_evs[i].what & DS_WATCH_READ) ? POLLIN : 0)
                                | ((t_evs[i].what & DS_WATCH_WRITE)
                                   ? POLLOUT : 0);
            pfds[nfds].revents = 0;
            map[nfds++] = i;
        }
    }

    n = poll(pfds, nfds, (int) wait);

    for (i = 0; n > 0 && i < nfds; i++) {
        if (pfds[i].revents && t_evs[map[i]].fd == pfds[i].fd) {
            t_evs[map[i]].ev->handler(t_evs[map[i]].ev);
        }
    }

    now = t_ms();

    for (i = 0; i < t_nevs; i++) {
        if (t_evs[i].due >= 0 && t_evs[i].due <= now) {
            t_evs[i].due = -1;
            t_evs[i].ev->handler(t_evs[i].ev);
        }
    }
}


/* ops and their answers */

typedef struct {
    ds_op_t             op;
    int                 answered;
    size_t              batch;
    size_t              events;
    int                 history_rc;
    ds_status_e         status;
    ds_store_t         *store;
    uint64_t            terminated;     /* a STATS answer's */
    int                 counts_rc;
    int                 timers_rc;
    int                 space_rc;
    char                error[256];     /* ds_op_error() in done() */
    unsigned            order;          /* of the answers */
    char                inst[1024];     /* a STATUS's record, as text */
} t_call_t;


static unsigned  t_answers;


static int
t_count_event(void *data, uint64_t seq, ds_str_t ev)
{
    (void) seq;
    (void) ev;

    ((t_call_t *) data)->events++;

    return 0;
}


static int
t_count(void *data, ds_str_t hub, const ds_count_t *count)
{
    if (hub.len == 3 && memcmp(hub.data, "hub", 3) == 0
        && count->what == DS_COUNT_STATUS
        && count->status == DS_TERMINATED)
    {
        ((t_call_t *) data)->terminated = count->count;
    }

    return 0;
}


/* every field of a record, to hold one answer to another */

static void
t_render(char *p, size_t size, const ds_instance_t *r)
{
    snprintf(p, size, "%d %d %lld %lld %llu [%.*s] [%.*s] [%.*s] [%.*s] "
             "[%.*s] %lld %llu %lld %lld %lld %llu %llu %d %02x%02x "
             "%02x%02x %llu %lld [%.*s] [%.*s] [%.*s]",
             (int) r->status, (int) r->suspended_from,
             (long long) r->created, (long long) r->updated,
             (unsigned long long) r->execution,
             (int) r->name.len, r->name.data,
             (int) r->input.len, r->input.data,
             (int) r->output.len, r->output.data,
             (int) r->custom_status.len, r->custom_status.data,
             (int) r->parent_id.len, r->parent_id.data,
             (long long) r->parent_task,
             (unsigned long long) r->parent_execution,
             (long long) r->ready_at, (long long) r->lease_expires,
             (long long) r->episode_at,
             (unsigned long long) r->lease_upto,
             (unsigned long long) r->inbox_seq, (int) r->done_status,
             r->lease[0], r->lease[15], r->done_lease[0],
             r->done_lease[15], (unsigned long long) r->done_digest,
             (long long) r->scheduled_start,
             (int) r->version.len, r->version.data,
             (int) r->tags.len, r->tags.data,
             (int) r->failure.len, r->failure.data);
}


static void
t_done(ds_op_t *op)
{
    uint64_t    n;
    ds_space_t  sp;
    t_call_t   *c = (t_call_t *) op;

    c->answered++;
    c->order = ++t_answers;
    c->batch = ds_store_batch(c->store);
    snprintf(c->error, sizeof(c->error), "%s", ds_op_error(op));

    if (op->type == DS_OP_STATUS && op->rc == DS_OK) {
        c->status = op->out.status.inst->status;
        c->history_rc = ds_op_history(op, t_count_event, c);
        t_render(c->inst, sizeof(c->inst), op->out.status.inst);
    }

    if (op->type == DS_OP_STATS && op->rc == DS_OK) {
        c->counts_rc = ds_op_counts_each(op, t_count, c);
        c->timers_rc = ds_op_timers_total(op, &n);
        c->space_rc = ds_op_space(op, &sp);
    }
}


static void
t_op(t_call_t *c, ds_store_t *st, ds_op_type_e type, const char *id)
{
    memset(c, 0, sizeof(t_call_t));
    c->store = st;
    c->op.type = type;
    c->op.hub = (ds_str_t) { "hub", 3 };
    c->op.done = t_done;

    if (type == DS_OP_START) {
        c->op.in.start.id = (ds_str_t) { id, strlen(id) };
        c->op.in.start.name = (ds_str_t) { "Hello", 5 };

    } else {
        c->op.in.control.id = (ds_str_t) { id, strlen(id) };
        c->op.in.control.name = (ds_str_t) { "Go", 2 };
        c->op.in.control.history = (type == DS_OP_STATUS);
    }
}


/* the loop runs until call is answered, or the watchdog ends it */

static void
t_run(t_call_t *c)
{
    while (!c->answered) {
        t_iterate();
    }
}


static ds_store_t *
t_open(const char *conninfo, t_host_t *th, int64_t bound, size_t pool)
{
    char             err[256];
    ds_host_t        host;
    ds_store_t      *st;
    ds_store_conf_t  conf;

    memset(&host, 0, sizeof(ds_host_t));
    host.data = th;
    host.init = t_init;
    host.post = t_post;
    host.timer = t_timer;
    host.cancel = t_cancel;
    host.watch = t_watch;
    host.wake = t_wake;
    host.pending = t_pending;
    host.log = t_log;
    host.log_level = DS_LOG_DEBUG;

    memset(&conf, 0, sizeof(ds_store_conf_t));
    conf.name = "pg";
    conf.backend = DS_BACKEND_POSTGRES;
    conf.conninfo = conninfo;
    conf.pool = pool;
    conf.timeout_ms = bound;

    st = NULL;

    if (ds_store_open(&st, &conf, &host, err, sizeof(err)) != DS_OK) {
        printf("# open: %s\n", err);
        return NULL;
    }

    return st;
}


static void
t_refusals(const char *conninfo)
{
    char             err[256];
    ds_host_t        host;
    ds_store_t      *st;
    t_host_t         th;
    ds_store_conf_t  conf;

    memset(&th, 0, sizeof(t_host_t));
    memset(&host, 0, sizeof(ds_host_t));
    host.data = &th;
    host.init = t_init;
    host.post = t_post;
    host.timer = t_timer;
    host.cancel = t_cancel;

    memset(&conf, 0, sizeof(ds_store_conf_t));
    conf.backend = DS_BACKEND_POSTGRES;
    conf.conninfo = conninfo;

    /* a host that cannot watch sockets */
    T(ds_store_open(&st, &conf, &host, err, sizeof(err)) == DS_INVALID);
    T(strstr(err, "watch") != NULL);

    /* a name libpq would look up, blocking the loop */
    host.watch = t_watch;
    conf.conninfo = "host=db.example dbname=x";
    T(ds_store_open(&st, &conf, &host, err, sizeof(err)) == DS_INVALID);
    T(strstr(err, "db.example") != NULL);

    /* a service, whose file libpq would read when it connects */
    conf.conninfo = "service=durable dbname=x";
    T(ds_store_open(&st, &conf, &host, err, sizeof(err)) == DS_INVALID);
    T(strstr(err, "service=") != NULL);
}


static void
t_serve(ds_store_t *st, t_host_t *th)
{
    size_t    i;
    uint8_t   lease[DS_LEASE_LEN];
    t_call_t  a, b, c, d, s, calls[3];

    memset(lease, 0x11, sizeof(lease));

    /* one op, answered in the loop, never before submit returns */
    t_op(&a, st, DS_OP_START, "one");
    ds_store_submit(st, &a.op, 0);
    T(a.answered == 0);
    T(ds_store_busy(st) == 1 && th->pending == 1);
    t_run(&a);
    T(a.answered == 1 && a.op.rc == DS_OK);
    T(ds_store_busy(st) == 0 && th->pending == 0);
    T(th->wakes > 0);

    /* submitted together: one batch, each its own answer, in order */
    t_op(&calls[0], st, DS_OP_START, "two");
    t_op(&calls[1], st, DS_OP_START, "one");
    t_op(&calls[2], st, DS_OP_RAISE_EVENT, "one");

    for (i = 0; i < 3; i++) {
        ds_store_submit(st, &calls[i].op, i < 2 ? DS_SUBMIT_MORE : 0);
    }

    t_run(&calls[2]);

    for (i = 0; i < 3; i++) {
        T(calls[i].answered == 1 && calls[i].batch == 3);
    }

    T(calls[0].op.rc == DS_OK);
    T(calls[1].op.rc == DS_CONFLICT);
    T(calls[1].op.out.start.status == DS_PENDING);
    T(calls[2].op.rc == DS_OK);

    /*
     * a statement that fails outside its function's savepoint (text the
     * database refuses) aborts the transaction: the batch fails as one
     */
    t_op(&calls[0], st, DS_OP_START, "fine");
    t_op(&calls[1], st, DS_OP_START, "bad\xff");
    ds_store_submit(st, &calls[0].op, DS_SUBMIT_MORE);
    ds_store_submit(st, &calls[1].op, 0);
    t_run(&calls[1]);
    T(calls[0].answered == 1 && calls[0].op.rc == DS_ERROR);
    T(calls[1].answered == 1 && calls[1].op.rc == DS_ERROR);

    /* a read: the record and its history during done() */
    t_op(&s, st, DS_OP_STATUS, "one");
    ds_store_submit(st, &s.op, 0);
    t_run(&s);
    T(s.op.rc == DS_OK && s.status == DS_PENDING);
    /* a Pending instance's ExecutionStarted is a message, not history */
    T(s.history_rc == DS_OK && s.events == 0);

    /* one that did not ask for the history cannot read it */
    t_op(&s, st, DS_OP_STATUS, "one");
    s.op.in.control.history = 0;
    ds_store_submit(st, &s.op, 0);
    t_run(&s);
    T(s.op.rc == DS_OK && s.history_rc == DS_INVALID);

    t_op(&b, st, DS_OP_STATUS, "none");
    ds_store_submit(st, &b.op, 0);
    t_run(&b);
    T(b.op.rc == DS_NOTFOUND);

    /* terminate, then purge */
    t_op(&c, st, DS_OP_TERMINATE, "two");
    ds_store_submit(st, &c.op, 0);
    t_run(&c);
    T(c.op.rc == DS_OK);

    t_op(&d, st, DS_OP_PURGE, "two");
    ds_store_submit(st, &d.op, 0);
    t_run(&d);
    T(d.op.rc == DS_OK);

    /* an entity batch failed as a whole goes to the database too */
    t_op(&a, st, DS_OP_WORK_COMPLETE, "one");
    a.op.in.work.kind = DS_WORK_ENTITY;
    a.op.in.work.id = (ds_str_t) { "counter", 7 };
    a.op.in.work.key = (ds_str_t) { "one", 3 };
    a.op.in.work.lease = lease;
    a.op.in.work.failed = 1;
    a.op.in.work.reason = (ds_str_t) { "\"x\"", 3 };
    ds_store_submit(st, &a.op, 0);
    T(a.answered == 0);
    t_run(&a);
    T(a.op.rc == DS_NOTFOUND);

    /* a signal scheduled for later goes to the database like any other */
    t_op(&a, st, DS_OP_ENTITY_SIGNAL, "one");
    a.op.in.entity.name = (ds_str_t) { "counter", 7 };
    a.op.in.entity.key = (ds_str_t) { "one", 3 };
    a.op.in.entity.operation = (ds_str_t) { "add", 3 };
    a.op.in.entity.input = (ds_str_t) { "1", 1 };
    a.op.in.entity.at = ds_time_now() + 60000000;
    ds_store_submit(st, &a.op, 0);
    T(a.answered == 0);
    t_run(&a);
    T(a.op.rc == DS_OK);

    /* a start for later goes to the database like any other */
    t_op(&a, st, DS_OP_START, "later");
    a.op.in.start.opts.scheduled = ds_time_now() + 1000000;
    ds_store_submit(st, &a.op, 0);
    t_run(&a);
    T(a.op.rc == DS_OK);

    /* a recursive terminate goes to the database, as a plain one */
    t_op(&a, st, DS_OP_START, "tree");
    ds_store_submit(st, &a.op, 0);
    t_run(&a);
    T(a.op.rc == DS_OK);

    t_op(&a, st, DS_OP_TERMINATE, "tree");
    a.op.in.control.recurse = 1;
    ds_store_submit(st, &a.op, 0);
    T(a.answered == 0);
    t_run(&a);
    T(a.op.rc == DS_OK);

    /* the figures: counted, no map of LMDB's */
    t_op(&a, st, DS_OP_STATS, "");
    ds_store_submit(st, &a.op, 0);
    t_run(&a);
    T(a.op.rc == DS_OK && a.counts_rc == DS_OK && a.timers_rc == DS_OK);
    T(a.terminated >= 1);
    T(a.space_rc == DS_INVALID);
}


/*
 * Starts of one batch: a run of plain starts of one hub is one statement
 * (durable.start_batch()), which answers each as it would alone: a new
 * id, the same id again (a conflict with the first), an active instance,
 * a terminal one (replaced); a start for later is a statement of its own
 */

static void
t_starts(ds_store_t *st, t_host_t *th)
{
    size_t    i;
    t_call_t  calls[7];

    static const char  *ids[7] = {
        "sb-new", "sb-new", "one", "tree", "sb-other", "sb-later", "sb-last"
    };

    for (i = 0; i < 7; i++) {
        t_op(&calls[i], st, DS_OP_START, ids[i]);
    }

    calls[5].op.in.start.opts.scheduled = ds_time_now() + 60000000;

    for (i = 0; i < 7; i++) {
        ds_store_submit(st, &calls[i].op, i < 6 ? DS_SUBMIT_MORE : 0);
    }

    t_run(&calls[6]);

    for (i = 0; i < 7; i++) {
        T(calls[i].answered == 1 && calls[i].batch == 7);
    }

    T(th->sent_ops == 7 && th->sent_stmts == 3);

    T(calls[0].op.rc == DS_OK);
    T(calls[1].op.rc == DS_CONFLICT);
    T(calls[1].op.out.start.status == DS_PENDING);
    T(calls[2].op.rc == DS_CONFLICT);
    T(calls[2].op.out.start.status == DS_PENDING);
    T(calls[3].op.rc == DS_OK);
    T(calls[4].op.rc == DS_OK);
    T(calls[5].op.rc == DS_OK);
    T(calls[6].op.rc == DS_OK);

    /* the terminal one was started again */
    t_op(&calls[0], st, DS_OP_STATUS, "tree");
    ds_store_submit(st, &calls[0].op, 0);
    t_run(&calls[0]);
    T(calls[0].op.rc == DS_OK && calls[0].status == DS_PENDING);
}


/*
 * Starts of one batch while memory runs out: the allocation that fails
 * is the first after the ops are queued, then the second, and so on.
 * The first is the batch's list of statements: the batch is lost like a
 * connection, and that is left out. Those that follow, while the one
 * statement of the starts is put together (the list of runs, the
 * arrays, the parameters), make each start a statement of its own, and
 * each is answered as alone. The first allocation after those is
 * libpq's side of the send (lost, as the first) or nothing (the starts
 * in one statement): the end of the test. A store with one connection,
 * its listener up: nothing else of the store allocates meanwhile.
 */

static void
t_starts_nomem(const char *conninfo)
{
    int          lost;
    int64_t      end;
    char         ids[4][32];
    size_t       at, i, apart;
    t_host_t     th;
    t_call_t     calls[4];
    ds_store_t  *st;

    memset(&th, 0, sizeof(t_host_t));

    st = t_open(conninfo, &th, 2000, 1);
    T(st != NULL);

    if (st == NULL) {
        return;
    }

    t_op(&calls[0], st, DS_OP_STATUS, "one");
    ds_store_submit(st, &calls[0].op, 0);
    t_run(&calls[0]);
    T(calls[0].op.rc == DS_OK);

    end = ds_time_now() + 20000000;

    while (!th.listening && ds_time_now() < end) {
        t_iterate();
    }

    T(th.listening);

    if (!th.listening) {
        printf("#   the listener did not connect in 20 s\n");
        ds_store_close(st);
        return;
    }

    apart = 0;

    for (at = 1; at < 32; at++) {
        snprintf(ids[0], sizeof(ids[0]), "nomem-%zu", at);
        snprintf(ids[1], sizeof(ids[1]), "nomem-%zu", at);
        snprintf(ids[2], sizeof(ids[2]), "one");
        snprintf(ids[3], sizeof(ids[3]), "nomem-%zu-b", at);

        for (i = 0; i < 4; i++) {
            t_op(&calls[i], st, DS_OP_START, ids[i]);
            ds_store_submit(st, &calls[i].op, i < 3 ? DS_SUBMIT_MORE : 0);
        }

        th.sent_ops = 0;
        th.sent_stmts = 0;
        t_nomem_arm(at);

        t_run(&calls[3]);

        t_nomem_armed = 0;

        lost = 1;

        for (i = 0; i < 4; i++) {
            lost &= calls[i].answered == 1
                    && calls[i].op.rc == DS_UNAVAILABLE
                    && strstr(calls[i].error, "out of memory") != NULL;
        }

        if (lost || (th.sent_ops == 4 && th.sent_stmts == 1)) {
            break;
        }

        /* each start a statement of its own */
        T(th.sent_ops == 4 && th.sent_stmts == 4);
        apart++;

        for (i = 0; i < 4; i++) {
            T(calls[i].answered == 1 && calls[i].batch == 4);
        }

        T(calls[0].op.rc == DS_OK);
        T(calls[1].op.rc == DS_CONFLICT);
        T(calls[1].op.out.start.status == DS_PENDING);
        T(calls[2].op.rc == DS_CONFLICT);
        T(calls[2].op.out.start.status == DS_PENDING);
        T(calls[3].op.rc == DS_OK);
    }

    /* at least the list of runs and the arrays' text */
    T(apart >= 2);
    T(at < 32);

    if (apart < 2 || at == 32) {
        printf("#   %zu batches apart, the last at allocation %zu\n",
               apart, at);
    }

    ds_store_close(st);
}


/*
 * n reads of calls, submitted as one: each answered once, in order in
 * its batch of DSI_PG_READS_MAX (the batches go on connections of their
 * own); then each read again alone, a batch of one as one statement,
 * which answers as it did in the batch (a read already asked alone in
 * this call is not asked again). The log of th is the batched reads'.
 */

static void
t_reads_as_alone(ds_store_t *st, t_host_t *th, t_call_t *calls, size_t n)
{
    size_t     i, j, nb, log[4][2], last[2], sends;
    t_call_t  *alone;

    alone = calloc(n, sizeof(t_call_t));
    T(alone != NULL);
    if (alone == NULL) {
        return;
    }

    th->read_batches = 0;
    th->read_sends_most = 0;

    for (i = 0; i < n; i++) {
        ds_store_submit(st, &calls[i].op, i + 1 < n ? DS_SUBMIT_MORE : 0);
    }

    /* the batches are sent in the next iteration: their writes from now */
    th->read_sends = t_sends;

    for (i = 0; i < n; i++) {
        t_run(&calls[i]);
    }

    nb = th->read_batches;
    memcpy(log, th->read_log, sizeof(log));
    last[0] = th->read_ops;
    last[1] = th->read_stmts;
    sends = th->read_sends_most;

    for (i = 0; i < n; i++) {
        T(calls[i].answered == 1);
        T(calls[i].order == calls[i - i % DSI_PG_READS_MAX].order
                            + i % DSI_PG_READS_MAX);

        for (j = 0; j < i; j++) {
            if (alone[j].answered
                && calls[j].op.hub.len == calls[i].op.hub.len
                && memcmp(calls[j].op.hub.data, calls[i].op.hub.data,
                          calls[i].op.hub.len) == 0
                && strcmp(calls[j].op.in.control.id.data,
                          calls[i].op.in.control.id.data) == 0)
            {
                break;
            }
        }

        if (j == i) {
            t_op(&alone[i], st, DS_OP_STATUS, calls[i].op.in.control.id.data);
            alone[i].op.hub = calls[i].op.hub;
            alone[i].op.in.control.history = 0;
            ds_store_submit(st, &alone[i].op, 0);
            t_run(&alone[i]);
            T(th->read_ops == 1 && th->read_stmts == 1);
        }

        T(calls[i].op.rc == alone[j].op.rc);
        T(strcmp(calls[i].inst, alone[j].inst) == 0);

        if (calls[i].op.rc != alone[j].op.rc) {
            printf("#   read %zu: %d \"%s\", alone %d\n", i,
                   calls[i].op.rc, calls[i].error, alone[j].op.rc);
        }
    }

    th->read_batches = nb;
    memcpy(th->read_log, log, sizeof(log));
    th->read_ops = last[0];
    th->read_stmts = last[1];
    th->read_sends_most = sends;

    free(alone);
}


/* a read of status without the history, of hub */

static void
t_read(t_call_t *c, ds_store_t *st, const char *hub, const char *id)
{
    t_op(c, st, DS_OP_STATUS, id);
    c->op.hub = (ds_str_t) { hub, strlen(hub) };
    c->op.in.control.history = 0;
}


/*
 * Status reads of one batch: those of one hub without the history are
 * one statement (durable.status_many()), an id read twice read once,
 * wherever they are in the batch; one that wants the history and one of
 * another hub are statements of their own. Each is answered in submit
 * order with what it gets alone: found, not found, the same id again.
 */

static void
t_status_many(ds_store_t *st, t_host_t *th)
{
    size_t    i;
    t_call_t  calls[8];

    static const char  *ids[8] = {
        "one", "nope", "one", "one", "sb-later", "one", "nope", "tree"
    };

    for (i = 0; i < 8; i++) {
        t_read(&calls[i], st, i == 5 ? "elsewhere" : "hub", ids[i]);
        calls[i].op.in.control.history = (i == 3);
    }

    t_reads_as_alone(st, th, calls, 8);

    /* one, nope, sb-later and tree; the history; the other hub */
    T(th->read_ops == 8 && th->read_stmts == 3);

    T(calls[0].op.rc == DS_OK && calls[0].status == DS_PENDING);
    T(calls[0].history_rc == DS_INVALID);
    T(calls[1].op.rc == DS_NOTFOUND && calls[6].op.rc == DS_NOTFOUND);
    T(calls[3].op.rc == DS_OK && calls[3].history_rc == DS_OK);
    T(calls[4].op.rc == DS_OK && calls[4].status == DS_PENDING);
    T(calls[5].op.rc == DS_NOTFOUND);
    T(calls[7].op.rc == DS_OK);
    T(strlen(calls[4].inst) > 0 && strcmp(calls[4].inst, calls[7].inst) != 0);
}


/* the statements of a batch of ops reads, every other of "hub" */

static size_t
t_half_stmts(size_t ops)
{
    /* a group of "hub" in each window of 256 ops, the others alone */
    return ops / 2 + (ops + 255) / 256;
}


/*
 * dsi_pg_batch_stmts() called on n status reads of "hub" (with odd,
 * each odd one of a hub of its own), read i of id "id<ids[i]>": the
 * statements it makes of them, apart from the dispatch's
 * DSI_PG_READS_MAX (whose batches are smaller than a group can be with
 * libpq < 17). Fills at[] and row[] with each read's statement and row,
 * *ngroups with the durable.status_many() calls and nids[] with the ids
 * in each (the first 8); the number of statements.
 */

static size_t
t_group(size_t n, int odd, const size_t *ids, size_t *at, int *row,
    size_t *ngroups, size_t *nids)
{
    char            *names;
    size_t           i, k, nruns, nstmts;
    ds_op_t         *ops;
    const char      *p;
    dsi_pg_call_t   *calls, *runs;
    dsi_pg_stmt_t   *stmts;

    nstmts = 0;
    *ngroups = 0;
    memset(nids, 0, 8 * sizeof(size_t));

    ops = calloc(n, sizeof(ds_op_t));
    calls = calloc(n, sizeof(dsi_pg_call_t));
    runs = calloc(n / 2 + 1, sizeof(dsi_pg_call_t));
    stmts = calloc(n, sizeof(dsi_pg_stmt_t));
    names = calloc(n, 64);

    if (ops == NULL || calls == NULL || runs == NULL || stmts == NULL
        || names == NULL)
    {
        T(0);
        goto done;
    }

    for (i = 0; i < n; i++) {
        ops[i].type = DS_OP_STATUS;
        ops[i].next = i + 1 < n ? &ops[i + 1] : NULL;

        if (odd && i % 2) {
            snprintf(&names[i * 64], 32, "lone%zu", i);
            ops[i].hub = (ds_str_t) { &names[i * 64],
                                      strlen(&names[i * 64]) };
        } else {
            ops[i].hub = (ds_str_t) { "hub", 3 };
        }

        snprintf(&names[i * 64 + 32], 32, "id%zu", ids[i]);
        ops[i].in.control.id = (ds_str_t) { &names[i * 64 + 32],
                                            strlen(&names[i * 64 + 32]) };

        T(dsi_pg_op_call(&ops[i], &calls[i]) == DS_OK);
        ops[i].backend = &calls[i];
    }

    nstmts = dsi_pg_batch_stmts(ops, stmts, runs, &nruns);

    for (i = 0; i < n; i++) {
        at[i] = calls[i].at;
        row[i] = calls[i].row;
    }

    /* a group's ids: an array literal, an element between quotes */
    for (i = 0; i < nstmts; i++) {
        if (strstr(stmts[i].sql, "status_many") == NULL) {
            continue;
        }

        for (k = 0, p = stmts[i].values[1]; (p = strchr(p, '"')) != NULL;
             p++, k++)
        {
            /* void */
        }

        if (*ngroups < 8) {
            nids[*ngroups] = k / 2;
        }

        (*ngroups)++;
    }

    T(nruns == *ngroups);

    for (i = 0; i < nruns; i++) {
        dsi_pg_call_free(&runs[i]);
    }

    for (i = 0; i < n; i++) {
        dsi_pg_call_free(&calls[i]);
    }

done:

    free(ops);
    free(calls);
    free(runs);
    free(stmts);
    free(names);

    return nstmts;
}


/*
 * A group of one hub's reads holds 256 of them at most, and a read looks
 * for others of its hub among the 256 ops from its own on: both bind
 * however the dispatch cuts batches (dsi_pg_batch_stmts() alone, on more
 * reads than a batch of libpq < 17 holds). 300 reads of one hub, ids
 * read again and again, then each once: two groups, of 256 and 44 reads.
 * 1100 reads, every other of a hub of its own: "hub"'s are a group in
 * each window of 256 ops, 128 reads each, the last one 38; the others
 * a statement each, in op order.
 */

static void
t_groups(void)
{
    int      *row;
    size_t    i, n, bad, nstmts, ngroups, nids[8], *at, *ids;

    n = 1100;
    at = calloc(n, sizeof(size_t));
    row = calloc(n, sizeof(int));
    ids = calloc(n, sizeof(size_t));
    T(at != NULL && row != NULL && ids != NULL);

    if (at == NULL || row == NULL || ids == NULL) {
        goto done;
    }

    for (i = 0; i < 300; i++) {
        ids[i] = i % 4;
    }

    nstmts = t_group(300, 0, ids, at, row, &ngroups, nids);
    T(nstmts == 2 && ngroups == 2);
    T(nids[0] == 4 && nids[1] == 4);

    for (i = 0, bad = 0; i < 300; i++) {
        bad += at[i] != (i < 256 ? 0 : 1) || row[i] != (int) (i % 4);
    }

    T(bad == 0);

    for (i = 0; i < 300; i++) {
        ids[i] = i;
    }

    nstmts = t_group(300, 0, ids, at, row, &ngroups, nids);
    T(nstmts == 2 && ngroups == 2);
    T(nids[0] == 256 && nids[1] == 44);
    T(at[255] == 0 && row[255] == 255 && at[256] == 1 && row[256] == 0);
    T(at[299] == 1 && row[299] == 43);

    for (i = 0; i < n; i++) {
        ids[i] = i;
    }

    nstmts = t_group(n, 1, ids, at, row, &ngroups, nids);
    T(nstmts == n / 2 + 5 && ngroups == 5);
    T(nids[0] == 128 && nids[3] == 128 && nids[4] == 38);

    /* a group is made at its first read, a lone read in op order */
    for (i = 0, bad = 0; i < n; i++) {
        bad += at[i] != (i / 256) * 129 + (i % 2 ? (i % 256 + 1) / 2 : 0)
               || row[i] != (i % 2 ? -1 : (int) (i % 256 / 2));
    }

    T(bad == 0);

    if (nstmts != n / 2 + 5) {
        printf("#   1100 reads: %zu statements, %zu groups\n", nstmts,
               ngroups);
    }

done:

    free(at);
    free(row);
    free(ids);
}


/*
 * Status reads past a read batch's most, and a group whose statement
 * fails, through the store: 300 reads of one hub are two groups in one
 * batch (libpq 17), or as many batches as DSI_PG_READS_MAX makes (before
 * it, where a batch never holds more reads than a group, so t_groups()
 * holds the groups' bounds); 1100 reads go as batches of DSI_PG_READS_MAX
 * and the rest, "hub"'s reads a group in each window of 256 ops; a
 * group that fails fails each of its reads, with the statement's error.
 */

static void
t_status_big(ds_store_t *st, t_host_t *th)
{
    char       *hubs;
    size_t      i, k, n, nb;
    t_call_t   *calls;

    static const char  *ids[4] = { "one", "nope", "sb-later", "tree" };

    n = 1100;
    calls = calloc(n, sizeof(t_call_t));
    hubs = calloc(n, 16);
    T(calls != NULL && hubs != NULL);

    if (calls == NULL || hubs == NULL) {
        free(calls);
        free(hubs);
        return;
    }

    /* 300 reads of one hub, ids read again and again */
    for (i = 0; i < 300; i++) {
        t_read(&calls[i], st, "hub", ids[i % 4]);
    }

    t_reads_as_alone(st, th, calls, 300);

    nb = (300 + DSI_PG_READS_MAX - 1) / DSI_PG_READS_MAX;
    T(th->read_batches == nb);
    T(th->read_log[0][0] == (nb > 1 ? DSI_PG_READS_MAX : 300));
    T(th->read_log[0][1] == (nb > 1 ? 1 : 2));

    /*
     * 1100 reads, every other of a hub of its own: as many batches as
     * the most of one takes, the last of the rest; in each, the reads of
     * "hub" in windows of 256 ops are groups
     */
    for (i = 0; i < n; i++) {
        if (i % 2) {
            snprintf(&hubs[i * 16], 16, "lone%zu", i);
            t_read(&calls[i], st, &hubs[i * 16], ids[i % 4]);

        } else {
            t_read(&calls[i], st, "hub", ids[i % 4]);
        }
    }

    t_reads_as_alone(st, th, calls, n);

    nb = (n + DSI_PG_READS_MAX - 1) / DSI_PG_READS_MAX;
    k = n - (nb - 1) * DSI_PG_READS_MAX;

    T(th->read_batches == nb);
    T(th->read_log[0][0] == DSI_PG_READS_MAX);
    T(th->read_log[0][1] == t_half_stmts(DSI_PG_READS_MAX));
    T(th->read_ops == k && th->read_stmts == t_half_stmts(k));

    /* however many statements, the loop writes to the socket so often */
    T(th->read_sends_most > 0 && th->read_sends_most <= T_READ_SENDS);

    if (th->read_sends_most > T_READ_SENDS) {
        printf("#   %zu writes to send a batch of reads\n",
               th->read_sends_most);
    }

    if (th->read_log[0][1] != t_half_stmts(DSI_PG_READS_MAX)) {
        printf("#   batches %zu: %zu as %zu, last %zu as %zu\n",
               th->read_batches, th->read_log[0][0], th->read_log[0][1],
               th->read_ops, th->read_stmts);
    }

    /*
     * one read alone, then three of a hub the database refuses (not
     * UTF-8) as one statement: each of the three gets its error
     */
    for (i = 0; i < 4; i++) {
        t_read(&calls[i], st, i ? "bad\xff" : "hub", ids[i]);
    }

    t_reads_as_alone(st, th, calls, 4);

    T(th->read_log[0][0] == 4 && th->read_log[0][1] == 2);
    T(calls[0].op.rc == DS_OK);

    for (i = 1; i < 4; i++) {
        T(calls[i].op.rc == DS_ERROR);
        T(strstr(calls[i].error, "UTF8") != NULL);
    }

    if (strstr(calls[1].error, "UTF8") == NULL) {
        printf("#   %d: %s\n", calls[1].op.rc, calls[1].error);
    }

    free(calls);
    free(hubs);
}


/*
 * A batch of reads whose second statement fails (a hub the database
 * refuses): the reads sent after it are answered as alone, not aborted
 * with it; the failing read has the server's error
 */

static void
t_reads_alone(ds_store_t *st, t_host_t *th)
{
    size_t     i;
    t_call_t   calls[4];

    static const char  *ids[4] = { "one", "one", "nope", "one" };
    static const char  *hubs[4] = { "hub", "bad\xff", "hub", "other" };

    for (i = 0; i < 4; i++) {
        t_read(&calls[i], st, hubs[i], ids[i]);
    }

    t_reads_as_alone(st, th, calls, 4);

    /* "hub"'s two reads are one statement, before the refused one */
    T(th->read_batches == 1);
    T(th->read_log[0][0] == 4 && th->read_log[0][1] == 3);

    T(calls[1].op.rc == DS_ERROR);
    T(strstr(calls[1].error, "UTF8") != NULL);
    T(calls[0].op.rc == DS_OK);
    T(calls[2].op.rc == DS_NOTFOUND && calls[3].op.rc == DS_NOTFOUND);
}


/* the loop runs until n connections in all have taken ops on th's store */

static void
t_ready(t_host_t *th, size_t n)
{
    int  i;

    for (i = 0; i < 600 && th->ready < n; i++) {
        t_iterate();
    }

    T(th->ready >= n);
}


/*
 * A store of its own, of pool connections, all of them up: its sessions
 * named name (application_name), its bound far longer than the test's
 * waits (the reads of a backlog count their wait from their submit).
 * NULL, the check failed, when it could not be opened.
 */

static ds_store_t *
t_own(const char *conninfo, const char *name, t_host_t *th, size_t pool)
{
    char         ci[1024];
    ds_store_t  *st;

    memset(th, 0, sizeof(t_host_t));

    snprintf(ci, sizeof(ci), "%s application_name=%s", conninfo, name);

    st = t_open(ci, th, T_OWN_BOUND_MS, pool);
    T(st != NULL);

    if (st != NULL) {
        t_ready(th, pool);
    }

    return st;
}


/*
 * n reads of "hub" submitted as one, with the history: a statement each,
 * slower than one for all
 */

static t_call_t *
t_backlog(ds_store_t *st, t_host_t *th, size_t n)
{
    size_t     i;
    t_call_t  *calls;

    calls = calloc(n, sizeof(t_call_t));
    T(calls != NULL);
    if (calls == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        t_read(&calls[i], st, "hub", i % 2 ? "one" : "nope");
        calls[i].op.in.control.history = 1;
    }

    th->read_batches = 0;
    th->sent_ops = 0;

    for (i = 0; i < n; i++) {
        ds_store_submit(st, &calls[i].op, i + 1 < n ? DS_SUBMIT_MORE : 0);
    }

    return calls;
}


/* the loop runs until the reads of t_backlog() are answered, and frees them */

static void
t_backlog_answered(t_call_t *calls, size_t n)
{
    size_t  i;

    if (calls == NULL) {
        return;
    }

    for (i = 0; i < n; i++) {
        t_run(&calls[i]);
        T(calls[i].op.rc == (i % 2 ? DS_OK : DS_NOTFOUND));
    }

    free(calls);
}


/*
 * Another session's lock on the instances, taken (on) or let go: the
 * reads of a batch sent meanwhile wait for it, so that the batch cannot
 * be answered by the step that follows its sending, which reads on
 * while answers keep coming (a warm connection, a quick server), and
 * the dispatch after it sees the batch in flight.
 */

/* another session, for t_hold() */

static PGconn *
t_holder(const char *conninfo)
{
    PGconn  *x;

    x = PQconnectdb(conninfo);
    T(PQstatus(x) == CONNECTION_OK);

    return x;
}


static void
t_hold(PGconn *x, int on)
{
    PGresult  *res;

    res = PQexec(x, on ? "BEGIN; LOCK TABLE durable.instances "
                         "IN ACCESS EXCLUSIVE MODE"
                       : "ROLLBACK");
    T(PQresultStatus(res) == PGRES_COMMAND_OK);
    PQclear(res);
}


/*
 * A backlog of reads leaves the last idle connection to the writes:
 * 1100 reads take one connection of two, the rest wait for it, and a
 * write submitted next is sent on the other at once, while the reads'
 * answers are held (t_hold(); only the posted events run, no poll).
 */

static void
t_reads_leave_writer(ds_store_t *st, t_host_t *th, const char *conninfo)
{
    size_t     n;
    PGconn    *x;
    t_call_t  *calls, w, r;

    x = t_holder(conninfo);
    t_hold(x, 1);

    n = 1100;
    calls = t_backlog(st, th, n);

    t_posts();
    T(th->read_batches == 1 && th->read_log[0][0] == DSI_PG_READS_MAX);

    /* the reads in flight count: one more read leaves it too */
    t_read(&r, st, "hub", "one");
    ds_store_submit(st, &r.op, 0);
    t_posts();
    T(th->read_batches == 1);

    t_op(&w, st, DS_OP_RAISE_EVENT, "one");
    ds_store_submit(st, &w.op, 0);
    t_posts();
    T(th->sent_ops == 1);

    t_hold(x, 0);
    PQfinish(x);

    t_run(&w);
    T(w.op.rc == DS_OK);

    t_run(&r);
    T(r.op.rc == DS_OK);

    t_backlog_answered(calls, n);
}


/*
 * A pool of two, on a store of its own (t_own()): reads leave a
 * connection to the writes (t_reads_leave_writer()). One of its
 * connections ended by another session: the one left is up, so reads
 * go on it at once, not after the lost one's retry, a backlog of them
 * too (none is kept with one connection up); once that one takes ops
 * again, the pool is two again and reads leave it to the writes anew.
 */

static void
t_pool_two(const char *conninfo)
{
    int          i;
    size_t       n, lost;
    PGconn      *x;
    PGresult    *res;
    t_call_t    *calls;
    t_host_t     host, *th;
    ds_store_t  *st;

    th = &host;

    st = t_own(conninfo, "t_pool_two", th, 2);
    if (st == NULL) {
        return;
    }

    t_reads_leave_writer(st, th, conninfo);

    x = PQconnectdb(conninfo);
    T(PQstatus(x) == CONNECTION_OK);

    lost = th->lost;

    res = PQexec(x, "SELECT count(pg_terminate_backend(pid)) "
                 "FROM (SELECT pid FROM pg_stat_activity "
                 "WHERE application_name = 't_pool_two' "
                 "AND query <> 'LISTEN durable' LIMIT 1) one");
    T(PQresultStatus(res) == PGRES_TUPLES_OK
      && strcmp(PQgetvalue(res, 0, 0), "1") == 0);
    PQclear(res);
    PQfinish(x);

    for (i = 0; i < 300 && th->lost == lost; i++) {
        t_iterate();
    }

    T(th->lost == lost + 1);

    /*
     * the connection left takes reads at once, a backlog too: with one
     * connection up none is kept for the writes
     */
    n = DSI_PG_READS_MAX + 1;
    calls = t_backlog(st, th, n);
    t_posts();
    T(th->read_batches >= 1 && th->read_log[0][0] == DSI_PG_READS_MAX);

    t_backlog_answered(calls, n);

    /* the lost one is made again after the retry's pause */
    t_ready(th, 3);
    t_reads_leave_writer(st, th, conninfo);

    ds_store_close(st);
}


/*
 * A pool of one keeps no connection for the writes: a backlog of reads
 * goes on its connection at once, the reads a batch takes, and the rest
 * once that batch is answered (kept, its one connection would take no
 * read until the queue's bound answered them all DS_UNAVAILABLE).
 */

static void
t_pool_one(const char *conninfo)
{
    size_t       n;
    t_call_t    *calls;
    t_host_t     host, *th;
    ds_store_t  *st;

    th = &host;

    st = t_own(conninfo, "t_pool_one", th, 1);
    if (st == NULL) {
        return;
    }

    /* a batch at once (the second too, should the first be answered) */
    n = DSI_PG_READS_MAX + 1;
    calls = t_backlog(st, th, n);
    t_posts();
    T(th->read_batches >= 1 && th->read_log[0][0] == DSI_PG_READS_MAX);

    t_backlog_answered(calls, n);
    T(th->read_batches == 2 && th->read_log[1][0] == 1);

    ds_store_close(st);
}


/*
 * A pool of three, a batch of writes in flight: its connection is the
 * one the next writes take, so a backlog of reads goes on both others
 * at once.
 */

static void
t_pool_three(const char *conninfo)
{
    size_t       n;
    PGconn      *x;
    t_call_t    *calls, w;
    t_host_t     host, *th;
    ds_store_t  *st;

    th = &host;

    st = t_own(conninfo, "t_pool_three", th, 3);
    if (st == NULL) {
        return;
    }

    /*
     * answers held (t_hold()): a batch answered at once would let the
     * read left over go as a third batch
     */
    x = t_holder(conninfo);
    t_hold(x, 1);

    t_op(&w, st, DS_OP_RAISE_EVENT, "one");
    ds_store_submit(st, &w.op, DS_SUBMIT_MORE);

    n = 2 * DSI_PG_READS_MAX + 1;
    calls = t_backlog(st, th, n);

    t_posts();
    T(th->sent_ops == 1);
    T(th->read_batches == 2);

    t_hold(x, 0);
    PQfinish(x);

    t_run(&w);
    T(w.op.rc == DS_OK);

    t_backlog_answered(calls, n);

    ds_store_close(st);
}


/*
 * The edge of a backlog: the reads in flight and those queued count
 * together, and a backlog is more than DSI_PG_READS_MAX of them. On a
 * pool of two, with DSI_PG_READS_MAX - 1 reads in flight, one more makes
 * DSI_PG_READS_MAX, no backlog: it goes at once on the other connection;
 * with DSI_PG_READS_MAX in flight, one more is a backlog and leaves that
 * connection to the writes, sent once the batch is answered. The batch
 * is held (t_hold()) until then: answered at once, it would leave its
 * connection to the read more.
 */

static void
t_backlog_edge(const char *conninfo)
{
    size_t       n, want;
    PGconn      *x;
    t_call_t    *calls, r;
    t_host_t     host, *th;
    ds_store_t  *st;

    th = &host;

    st = t_own(conninfo, "t_backlog_edge", th, 2);
    if (st == NULL) {
        return;
    }

    x = t_holder(conninfo);

    for (n = DSI_PG_READS_MAX - 1; n <= DSI_PG_READS_MAX; n++) {
        t_hold(x, 1);

        calls = t_backlog(st, th, n);
        t_posts();
        T(th->read_batches == 1 && th->read_log[0][0] == n);

        t_read(&r, st, "hub", "one");
        ds_store_submit(st, &r.op, 0);
        t_posts();

        /* DSI_PG_READS_MAX reads in all go at once, one more waits */
        want = n + 1 == DSI_PG_READS_MAX ? 2 : 1;
        T(th->read_batches == want);

        if (th->read_batches != want) {
            printf("#   %zu reads in flight, one more: %zu batches sent\n",
                   n, th->read_batches);
        }

        t_hold(x, 0);

        t_run(&r);
        T(r.op.rc == DS_OK);

        t_backlog_answered(calls, n);
        T(th->read_batches == 2);
    }

    PQfinish(x);
    ds_store_close(st);
}


/*
 * Reads that are no backlog take the last idle connection too: with one
 * batch of reads in flight on a pool of 2, the next reads go at once on
 * the other connection (kept for the writes, a load of reads alone would
 * have a connection fewer)
 */

static void
t_reads_take_last(ds_store_t *st, t_host_t *th)
{
    size_t    i;
    t_call_t  calls[6];

    for (i = 0; i < 6; i++) {
        t_read(&calls[i], st, "hub", i % 2 ? "one" : "nope");
    }

    th->read_batches = 0;

    for (i = 0; i < 3; i++) {
        ds_store_submit(st, &calls[i].op, i < 2 ? DS_SUBMIT_MORE : 0);
    }

    t_posts();
    T(th->read_batches == 1);

    for (i = 3; i < 6; i++) {
        ds_store_submit(st, &calls[i].op, i < 5 ? DS_SUBMIT_MORE : 0);
    }

    t_posts();
    T(th->read_batches == 2);

    for (i = 0; i < 6; i++) {
        t_run(&calls[i]);
        T(calls[i].op.rc == (i % 2 ? DS_OK : DS_NOTFOUND));
    }
}


/* one statement on a blocking connection of its own, for the test */

static void
t_sql(const char *conninfo, const char *sql)
{
    PGconn    *pg;
    PGresult  *res;

    pg = PQconnectdb(conninfo);
    res = PQexec(pg, sql);
    T(PQresultStatus(res) == PGRES_COMMAND_OK);
    PQclear(res);
    PQfinish(pg);
}


/*
 * A database whose schema is newer than this build's: refused, logged
 * once however many ops come, each answered DS_SCHEMA with the reason;
 * served again once the version is right (looked at every 5 s)
 */

static void
t_schema(const char *conninfo)
{
    int          i;
    int64_t      end;
    t_host_t     th;
    t_call_t     a;
    ds_store_t  *st;

    memset(&th, 0, sizeof(t_host_t));

    t_sql(conninfo, "INSERT INTO durable.schema_version (version) "
                    "VALUES (999)");

    st = t_open(conninfo, &th, 2000, 2);
    T(st != NULL);

    if (st == NULL) {
        return;
    }

    for (i = 0; i < 3; i++) {
        t_op(&a, st, DS_OP_STATUS, "one");
        ds_store_submit(st, &a.op, 0);
        t_run(&a);
        T(a.op.rc == DS_SCHEMA);
        T(strstr(a.error, "version 999") != NULL);
    }

    T(th.alerts == 1);

    t_sql(conninfo, "DELETE FROM durable.schema_version "
                    "WHERE version = 999");

    end = ds_time_now() + 20000000;

    do {
        t_op(&a, st, DS_OP_STATUS, "one");
        ds_store_submit(st, &a.op, 0);
        t_run(&a);

        if (a.op.rc == DS_SCHEMA) {
            /* the next look at the version is due in a few seconds */
            for (i = 0; i < 20; i++) {
                t_iterate();
            }
        }

    } while (a.op.rc == DS_SCHEMA && ds_time_now() < end);

    T(a.op.rc == DS_OK);
    T(th.alerts == 1);

    if (a.op.rc != DS_OK) {
        printf("#   %d: %s\n", a.op.rc, a.error);
    }

    ds_store_close(st);
}


/*
 * Versions served: one at DSI_PG_SCHEMA_MIN (the rows of the newer ones
 * taken out) is served, the version found logged; the one below it (its
 * row taken out too) is refused as needing an upgrade. The rows are put
 * back.
 */

static void
t_schema_range(const char *conninfo)
{
    char         sql[256];
    t_host_t     th;
    t_call_t     a;
    ds_store_t  *st;

    snprintf(sql, sizeof(sql), "DELETE FROM durable.schema_version "
             "WHERE version > %d", DSI_PG_SCHEMA_MIN);
    t_sql(conninfo, sql);

    memset(&th, 0, sizeof(t_host_t));
    st = t_open(conninfo, &th, 2000, 1);
    T(st != NULL);

    if (st != NULL) {
        t_op(&a, st, DS_OP_STATUS, "one");
        ds_store_submit(st, &a.op, 0);
        t_run(&a);
        T(a.op.rc == DS_OK);
        T(th.served == DSI_PG_SCHEMA_MIN);
        T(th.alerts == 0);

        if (a.op.rc != DS_OK) {
            printf("#   %d: %s\n", a.op.rc, a.error);
        }

        ds_store_close(st);
    }

    snprintf(sql, sizeof(sql), "DELETE FROM durable.schema_version "
             "WHERE version >= %d", DSI_PG_SCHEMA_MIN);
    t_sql(conninfo, sql);

    memset(&th, 0, sizeof(t_host_t));
    st = t_open(conninfo, &th, 2000, 1);
    T(st != NULL);

    if (st != NULL) {
        t_op(&a, st, DS_OP_STATUS, "one");
        ds_store_submit(st, &a.op, 0);
        t_run(&a);
        T(a.op.rc == DS_SCHEMA);
        T(strstr(a.error, "schema upgrade") != NULL);
        T(th.served == 0);
        T(th.alerts == 1);
        ds_store_close(st);
    }

    snprintf(sql, sizeof(sql), "INSERT INTO durable.schema_version "
             "(version) SELECT v FROM generate_series(%d, %d) v "
             "ON CONFLICT DO NOTHING", DSI_PG_SCHEMA_MIN, DSI_PG_SCHEMA);
    t_sql(conninfo, sql);
}


/*
 * The functions' level: none (an older release's functions) or one below
 * DSI_PG_FUNCTIONS is refused as the versions are, naming the upgrade to
 * run; one above it (a newer release's functions) is served. The
 * function is put back.
 */

static void
t_functions_level(const char *conninfo)
{
    int          i;
    char         sql[256];
    t_host_t     th;
    t_call_t     a;
    ds_store_t  *st;

    static const int  levels[] = { -1, DSI_PG_FUNCTIONS - 1,
                                   DSI_PG_FUNCTIONS + 1 };

    for (i = 0; i < 3; i++) {
        if (levels[i] < 0) {
            snprintf(sql, sizeof(sql),
                     "DROP FUNCTION durable.functions_level()");

        } else {
            snprintf(sql, sizeof(sql), "CREATE OR REPLACE FUNCTION "
                     "durable.functions_level() RETURNS integer "
                     "LANGUAGE sql STABLE AS 'SELECT %d'", levels[i]);
        }

        t_sql(conninfo, sql);

        memset(&th, 0, sizeof(t_host_t));
        st = t_open(conninfo, &th, 2000, 1);
        T(st != NULL);

        if (st == NULL) {
            continue;
        }

        t_op(&a, st, DS_OP_STATUS, "one");
        ds_store_submit(st, &a.op, 0);
        t_run(&a);

        if (levels[i] > DSI_PG_FUNCTIONS) {
            T(a.op.rc == DS_OK);
            T(th.served == DSI_PG_SCHEMA);
            T(th.alerts == 0);

        } else {
            T(a.op.rc == DS_SCHEMA);
            T(strstr(a.error, "functions are of level") != NULL);
            T(strstr(a.error, "durable schema upgrade") != NULL);
            T(th.served == 0);
            T(th.alerts == 1);
        }

        if ((a.op.rc == DS_OK) != (levels[i] > DSI_PG_FUNCTIONS)) {
            printf("#   level %d: %d: %s\n", levels[i], a.op.rc, a.error);
        }

        ds_store_close(st);
    }

    snprintf(sql, sizeof(sql), "CREATE OR REPLACE FUNCTION "
             "durable.functions_level() RETURNS integer "
             "LANGUAGE sql STABLE AS 'SELECT %d'", DSI_PG_FUNCTIONS);
    t_sql(conninfo, sql);
}


/*
 * One batch of writes in flight: a write that waits for a row lock holds
 * back the writes submitted after it, which then go as one batch, but
 * not the reads, which go on the other connection meanwhile.
 */

static void
t_writer(ds_store_t *st, const char *conninfo)
{
    PGconn    *x;
    PGresult  *res;
    t_call_t   w1, w2, w3, r;

    x = PQconnectdb(conninfo);
    T(PQstatus(x) == CONNECTION_OK);

    res = PQexec(x, "BEGIN; SELECT 1 FROM durable.instances "
                 "WHERE hub = 'hub' AND id = 'one' FOR UPDATE");
    T(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1);
    PQclear(res);

    t_op(&w1, st, DS_OP_RAISE_EVENT, "one");
    ds_store_submit(st, &w1.op, 0);
    t_iterate();

    /* w1 is in flight, waiting for the lock */
    T(ds_store_busy(st) == 1);

    t_op(&w2, st, DS_OP_START, "three");
    t_op(&r, st, DS_OP_STATUS, "one");
    ds_store_submit(st, &w2.op, DS_SUBMIT_MORE);
    ds_store_submit(st, &r.op, 0);
    t_iterate();

    t_op(&w3, st, DS_OP_START, "four");
    ds_store_submit(st, &w3.op, 0);

    t_run(&r);
    T(r.op.rc == DS_OK);
    T(w1.answered == 0 && w2.answered == 0 && w3.answered == 0);

    res = PQexec(x, "COMMIT");
    T(PQresultStatus(res) == PGRES_COMMAND_OK);
    PQclear(res);

    t_run(&w1);
    t_run(&w2);
    t_run(&w3);
    T(w1.answered == 1 && w1.op.rc == DS_OK && w1.batch == 1);
    T(w2.answered == 1 && w2.op.rc == DS_OK && w2.batch == 2);
    T(w3.answered == 1 && w3.op.rc == DS_OK && w3.batch == 2);

    PQfinish(x);
}


/*
 * Writes submitted together beyond a batch's most (64, one savepoint
 * each: the subtransactions a PostgreSQL backend keeps in its PGPROC)
 * go in the batches that follow, in order.
 */

static void
t_batch_most(ds_store_t *st)
{
    int       first, rest;
    char      ids[T_MANY][16];
    size_t    i;
    t_call_t  *calls;

    calls = calloc(T_MANY, sizeof(t_call_t));
    T(calls != NULL);
    if (calls == NULL) {
        return;
    }

    for (i = 0; i < T_MANY; i++) {
        snprintf(ids[i], sizeof(ids[i]), "many-%zu", i);
        t_op(&calls[i], st, DS_OP_START, ids[i]);
        ds_store_submit(st, &calls[i].op, i + 1 < T_MANY ? DS_SUBMIT_MORE
                                                          : 0);
    }

    t_run(&calls[T_MANY - 1]);

    first = 1;
    rest = 1;

    for (i = 0; i < T_MANY; i++) {
        if (i < 64) {
            first &= calls[i].answered == 1 && calls[i].op.rc == DS_OK
                     && calls[i].batch == 64;

        } else {
            rest &= calls[i].answered == 1 && calls[i].op.rc == DS_OK
                    && calls[i].batch == T_MANY - 64;
        }
    }

    T(first);
    T(rest);

    free(calls);
}


/*
 * Writes that keep coming while batches go: the queue of writes is never
 * empty for longer than the bound, yet no op in it waits that long, and
 * none is answered "no connection took it in time".
 */

static void
t_sustained(ds_store_t *st)
{
    int        k;
    char       ids[2][T_ROUND][32];
    size_t     i, round, failed;
    int64_t    end;
    t_call_t  *calls[2];

    calls[0] = calloc(T_ROUND, sizeof(t_call_t));
    calls[1] = calloc(T_ROUND, sizeof(t_call_t));
    T(calls[0] != NULL && calls[1] != NULL);
    if (calls[0] == NULL || calls[1] == NULL) {
        free(calls[0]);
        free(calls[1]);
        return;
    }

    failed = 0;
    end = t_ms() + 3 * T_BOUND_MS;

    /* the next round is queued before the last one's answers are in */
    for (round = 0; round < 2 || t_ms() < end; round++) {
        k = round % 2;

        for (i = 0; i < T_ROUND; i++) {
            snprintf(ids[k][i], sizeof(ids[k][i]), "sus-%zu-%zu", round, i);
            t_op(&calls[k][i], st, DS_OP_START, ids[k][i]);
            ds_store_submit(st, &calls[k][i].op,
                            i + 1 < T_ROUND ? DS_SUBMIT_MORE : 0);
        }

        if (round == 0) {
            continue;
        }

        /*
         * every op of the last round answered before the next reuses
         * it: one the bound answered early may precede others still in
         * a batch
         */
        for (i = 0; i < T_ROUND; i++) {
            t_run(&calls[!k][i]);
            failed += calls[!k][i].op.rc != DS_OK;
        }
    }

    for (i = 0; i < T_ROUND; i++) {
        t_run(&calls[(round - 1) % 2][i]);
        failed += calls[(round - 1) % 2][i].op.rc != DS_OK;
    }

    T(failed == 0);

    free(calls[0]);
    free(calls[1]);
}


/*
 * how many backends of the database wait for a lock; with terminate,
 * those that are ended
 */

static int
t_lock_waiters(PGconn *x, int terminate)
{
    int        n;
    PGresult  *res;

    res = PQexec(x, terminate
                    ? "SELECT count(pg_terminate_backend(pid)) "
                      "FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                      "AND backend_type = 'client backend' "
                      "AND datname = current_database()"
                    : "SELECT count(*) FROM pg_stat_activity "
                      "WHERE wait_event_type = 'Lock' "
                      "AND backend_type = 'client backend' "
                      "AND datname = current_database()");

    n = PQresultStatus(res) == PGRES_TUPLES_OK ? atoi(PQgetvalue(res, 0, 0))
                                                : -1;
    PQclear(res);

    return n;
}


/*
 * A connection lost in the middle of a batch of reads, a sync after
 * each statement: the first run by the server, the second waiting
 * for a lock (entities, held by another session) when its backend is
 * ended. Every op of the batch is answered DS_UNAVAILABLE, none twice,
 * the loop does not wait for the rest, what was read is freed (the leak
 * check), and the pool connects again. A store of its own, whose bound
 * is far longer than the test's waits: the loss, not the bound, ends
 * the batch.
 */

static void
t_lost_batch(const char *conninfo)
{
    int          i;
    size_t       lost, ready;
    PGconn      *x, *y;
    PGresult    *res;
    t_call_t     calls[3], s;
    t_host_t     host, *th;
    ds_store_t  *st;

    th = &host;

    st = t_own(conninfo, "t_lost_batch", th, 2);
    if (st == NULL) {
        return;
    }

    /* y looks outside x's transaction, which sees activity once */
    x = PQconnectdb(conninfo);
    y = PQconnectdb(conninfo);
    T(PQstatus(x) == CONNECTION_OK && PQstatus(y) == CONNECTION_OK);

    res = PQexec(x, "BEGIN; LOCK TABLE durable.entities "
                 "IN ACCESS EXCLUSIVE MODE");
    T(PQresultStatus(res) == PGRES_COMMAND_OK);
    PQclear(res);

    t_read(&calls[0], st, "hub", "one");
    calls[0].op.in.control.history = 1;

    t_op(&calls[1], st, DS_OP_ENTITY_GET, "");
    calls[1].op.in.entity.name = (ds_str_t) { "counter", 7 };
    calls[1].op.in.entity.key = (ds_str_t) { "one", 3 };

    t_read(&calls[2], st, "elsewhere", "one");

    for (i = 0; i < 3; i++) {
        ds_store_submit(st, &calls[i].op, i < 2 ? DS_SUBMIT_MORE : 0);
    }

    for (i = 0; i < 100 && t_lock_waiters(y, 0) == 0; i++) {
        t_iterate();
    }

    T(th->read_ops == 3 && th->read_stmts == 3);
    T(t_lock_waiters(y, 0) == 1);

    /*
     * the server has run the first statement, since the second waits;
     * the loop goes on, and no read of the batch is answered before all
     */
    for (i = 0; i < 5; i++) {
        t_iterate();
    }

    T(calls[0].answered == 0);

    lost = th->lost;
    ready = th->ready;
    T(t_lock_waiters(y, 1) == 1);

    for (i = 0; i < 3; i++) {
        t_run(&calls[i]);
    }

    for (i = 0; i < 3; i++) {
        T(calls[i].answered == 1 && calls[i].op.rc == DS_UNAVAILABLE);
        T(calls[i].error[0] != '\0');
    }

    res = PQexec(x, "ROLLBACK");
    T(PQresultStatus(res) == PGRES_COMMAND_OK);
    PQclear(res);
    PQfinish(x);
    PQfinish(y);

    /* the lost connection is made again: then the pool serves */
    for (i = 0; i < 100; i++) {
        t_op(&s, st, DS_OP_ENTITY_GET, "");
        s.op.in.entity.name = (ds_str_t) { "counter", 7 };
        s.op.in.entity.key = (ds_str_t) { "one", 3 };
        ds_store_submit(st, &s.op, 0);
        t_run(&s);

        if (s.op.rc != DS_UNAVAILABLE) {
            break;
        }

        t_iterate();
    }

    T(s.op.rc == DS_OK || s.op.rc == DS_NOTFOUND);
    T(th->lost == lost + 1);

    t_ready(th, ready + 1);

    for (i = 0; i < 3; i++) {
        T(calls[i].answered == 1);
    }

    ds_store_close(st);
}


/*
 * The store's connections lost (their backends ended by another
 * session): ops answer again once they are back, on statements prepared
 * anew.
 */

static void
t_reconnect(ds_store_t *st, const char *conninfo)
{
    int        i;
    PGconn    *x;
    PGresult  *res;
    t_call_t   s;

    /* the store's connections have prepared the statements */
    t_op(&s, st, DS_OP_STATUS, "one");
    ds_store_submit(st, &s.op, 0);
    t_run(&s);
    T(s.op.rc == DS_OK);

    x = PQconnectdb(conninfo);
    T(PQstatus(x) == CONNECTION_OK);

    res = PQexec(x, "SELECT count(pg_terminate_backend(pid)) "
                 "FROM pg_stat_activity WHERE datname = current_database() "
                 "AND pid <> pg_backend_pid()");
    T(PQresultStatus(res) == PGRES_TUPLES_OK);
    PQclear(res);
    PQfinish(x);

    /* the first ops may find the connections lost; then they are back */
    for (i = 0; i < 100; i++) {
        t_op(&s, st, DS_OP_STATUS, "one");
        ds_store_submit(st, &s.op, 0);
        t_run(&s);

        if (s.op.rc == DS_OK) {
            break;
        }

        T(s.op.rc == DS_UNAVAILABLE);

        /* the retry timer's turn */
        t_iterate();
    }

    T(s.op.rc == DS_OK && s.status == DS_PENDING);

    t_op(&s, st, DS_OP_RAISE_EVENT, "one");
    ds_store_submit(st, &s.op, 0);
    t_run(&s);
    T(s.op.rc == DS_OK);
}


/* the number a query of one row and column answers, or -1 */

static int
t_number(PGconn *x, const char *sql)
{
    int        n;
    PGresult  *res;

    res = PQexec(x, sql);
    n = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
        ? atoi(PQgetvalue(res, 0, 0)) : -1;
    PQclear(res);

    return n;
}


/*
 * A write that waits for a row lock another session holds longer than
 * the store's bound (T_BOUND_MS) answers DS_UNAVAILABLE, and the server,
 * whose statement_timeout is under that bound, ends the statement and
 * rolls the batch back: no backend of the store's waits for the lock
 * any more, and once the lock is let go the write has not been applied.
 * (A batch's timer closes its connection, which a backend waiting for a
 * lock does not notice: without the server's own bound it would go on,
 * its locks held, and commit once it had the lock.) The store serves on.
 */

static void
t_server_bound(const char *conninfo)
{
    int          i, inbox, n;
    char         ci[1024];
    PGconn      *x, *y;
    PGresult    *res;
    t_call_t     a;
    t_host_t     th;
    ds_store_t  *st;

    static const char  *waiting =
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE application_name = 't_server_bound' "
        "AND wait_event_type = 'Lock'";
    static const char  *busy =
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE application_name = 't_server_bound' AND state <> 'idle'";
    static const char  *events =
        "SELECT count(*) FROM durable.inbox "
        "WHERE hub = 'hub' AND id = 'bound-1'";

    memset(&th, 0, sizeof(t_host_t));
    snprintf(ci, sizeof(ci), "%s application_name=t_server_bound",
             conninfo);

    st = t_open(ci, &th, T_BOUND_MS, 1);
    T(st != NULL);
    if (st == NULL) {
        return;
    }

    t_ready(&th, 1);

    t_op(&a, st, DS_OP_START, "bound-1");
    ds_store_submit(st, &a.op, 0);
    t_run(&a);
    T(a.op.rc == DS_OK);

    /* y looks outside x's transaction, which sees activity once */
    x = t_holder(conninfo);
    y = t_holder(conninfo);

    inbox = t_number(y, events);
    T(inbox >= 0);

    res = PQexec(x, "BEGIN; SELECT 1 FROM durable.instances "
                 "WHERE hub = 'hub' AND id = 'bound-1' FOR UPDATE");
    T(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1);
    PQclear(res);

    t_op(&a, st, DS_OP_RAISE_EVENT, "bound-1");
    ds_store_submit(st, &a.op, 0);
    t_run(&a);
    T(a.op.rc == DS_UNAVAILABLE);
    T(a.error[0] != '\0');

    /* the lock still held: the server has ended the wait, or soon does */
    n = t_number(y, waiting);

    for (i = 0; i < 50 && n != 0; i++) {
        t_iterate();
        n = t_number(y, waiting);
    }

    T(n == 0);

    res = PQexec(x, "ROLLBACK");
    T(PQresultStatus(res) == PGRES_COMMAND_OK);
    PQclear(res);

    /* a backend that had gone on would be done once none is busy */
    n = t_number(y, busy);

    for (i = 0; i < 50 && n != 0; i++) {
        t_iterate();
        n = t_number(y, busy);
    }

    T(n == 0);
    T(t_number(y, events) == inbox);

    /* the store serves on, and the same write is applied now */
    for (i = 0; i < 100; i++) {
        t_op(&a, st, DS_OP_RAISE_EVENT, "bound-1");
        ds_store_submit(st, &a.op, 0);
        t_run(&a);

        if (a.op.rc != DS_UNAVAILABLE) {
            break;
        }

        t_iterate();
    }

    T(a.op.rc == DS_OK);
    T(t_number(y, events) == inbox + 1);

    PQfinish(x);
    PQfinish(y);
    ds_store_close(st);
}


/*
 * A statement the server cancels (57014: here pg_cancel_backend(), as
 * statement_timeout does) while it waits for a lock: a read answers
 * DS_UNAVAILABLE alone, a write's batch is rolled back and answers
 * DS_UNAVAILABLE, not applied, and the connection serves on, not lost.
 */

static void
t_cancelled(const char *conninfo)
{
    int          i, k, n;
    size_t       lost;
    PGconn      *x, *y;
    t_call_t     a;
    t_host_t     th;
    ds_store_t  *st;

    static const char  *cancel =
        "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = 't_cancelled' "
        "AND wait_event_type = 'Lock'";
    static const char  *events =
        "SELECT count(*) FROM durable.inbox "
        "WHERE hub = 'hub' AND id = 'one'";

    st = t_own(conninfo, "t_cancelled", &th, 1);
    if (st == NULL) {
        return;
    }

    lost = th.lost;

    /* y looks outside x's transaction, which sees activity once */
    x = t_holder(conninfo);
    y = t_holder(conninfo);

    n = t_number(y, events);
    T(n >= 0);

    t_hold(x, 1);

    for (i = 0; i < 2; i++) {
        if (i == 0) {
            t_read(&a, st, "hub", "one");

        } else {
            t_op(&a, st, DS_OP_RAISE_EVENT, "one");
        }

        ds_store_submit(st, &a.op, 0);

        for (k = 0; k < 300 && t_lock_waiters(y, 0) == 0 && !a.answered;
             k++)
        {
            t_iterate();
        }

        T(t_number(y, cancel) == 1);
        t_run(&a);
        T(a.op.rc == DS_UNAVAILABLE);
        T(strstr(a.error, i == 0 ? "canceling" : "not applied") != NULL);
    }

    t_hold(x, 0);

    T(t_number(y, events) == n);

    /* on the same connection */
    t_op(&a, st, DS_OP_RAISE_EVENT, "one");
    ds_store_submit(st, &a.op, 0);
    t_run(&a);
    T(a.op.rc == DS_OK);
    T(t_number(y, events) == n + 1);
    T(th.lost == lost);

    PQfinish(x);
    PQfinish(y);
    ds_store_close(st);
}


/*
 * A write the database refuses for a moment answers DS_UNAVAILABLE (503
 * with Retry-After, gRPC UNAVAILABLE), its batch rolled back, where the
 * functions' exception handlers made it rc 8, DS_ERROR (500): on a
 * read-only session (25006, a standby's answer) and past a lock timeout
 * (55P03); a serialization failure and a deadlock: t_conflicts(). Reads
 * serve on the read-only session, and nothing was applied.
 */

static void
t_transient(const char *conninfo)
{
    int          i, n;
    char         ci[1024];
    PGconn      *x, *y;
    PGresult    *res;
    t_call_t     a;
    t_host_t     th;
    ds_store_t  *st;

    static const char  *events =
        "SELECT count(*) FROM durable.inbox "
        "WHERE hub = 'hub' AND id = 'one'";
    static const char  *options[] = {
        "-c default_transaction_read_only=on",
        "-c lock_timeout=200"
    };

    x = t_holder(conninfo);
    y = t_holder(conninfo);

    n = t_number(y, events);
    T(n >= 0);

    for (i = 0; i < 2; i++) {
        snprintf(ci, sizeof(ci), "%s options='%s'", conninfo, options[i]);

        st = t_own(ci, "t_transient", &th, 1);
        if (st == NULL) {
            continue;
        }

        if (i == 1) {
            res = PQexec(x, "BEGIN; SELECT 1 FROM durable.instances "
                         "WHERE hub = 'hub' AND id = 'one' FOR UPDATE");
            T(PQresultStatus(res) == PGRES_TUPLES_OK);
            PQclear(res);
        }

        t_op(&a, st, DS_OP_RAISE_EVENT, "one");
        ds_store_submit(st, &a.op, 0);
        t_run(&a);

        if (i == 1) {
            res = PQexec(x, "ROLLBACK");
            T(PQresultStatus(res) == PGRES_COMMAND_OK);
            PQclear(res);
        }
        T(a.op.rc == DS_UNAVAILABLE);
        T(strstr(a.error, "not applied") != NULL);

        if (a.op.rc != DS_UNAVAILABLE) {
            printf("#   %s: %d: %s\n", options[i], a.op.rc, a.error);
        }

        if (i == 0) {
            t_op(&a, st, DS_OP_START, "read-only");
            ds_store_submit(st, &a.op, 0);
            t_run(&a);
            T(a.op.rc == DS_UNAVAILABLE);

            t_read(&a, st, "hub", "one");
            ds_store_submit(st, &a.op, 0);
            t_run(&a);
            T(a.op.rc == DS_OK);
        }

        ds_store_close(st);
    }

    T(t_number(y, events) == n);

    PQfinish(x);
    PQfinish(y);
}


/*
 * x's query answered, the loop not run meanwhile, so that the store
 * reads its batch's failure, and sends the batch again, only after x
 * has what it waited for: a batch sent again at once could take the
 * row before x's backend, woken by the failed batch's end, is back on
 * the CPU, and win the race the test means it to lose (a deadlock
 * again; a row changed not under it but after it). Its results are
 * dropped; 0 when one is an error.
 */

static int
t_settle(PGconn *x)
{
    int        ok;
    PGresult  *res;

    ok = 1;

    while ((res = PQgetResult(x)) != NULL) {
        ok = ok && PQresultStatus(res) != PGRES_FATAL_ERROR;
        PQclear(res);
    }

    return ok;
}


/* the loop runs until n backends wait for a lock, or c is answered */

static void
t_waiters(PGconn *y, int n, t_call_t *c)
{
    int  k;

    for (k = 0; k < 300 && t_lock_waiters(y, 0) != n && !c->answered; k++) {
        t_iterate();
    }
}


/*
 * A batch of writes rolled back for a deadlock (40P01) or a
 * serialization failure (40001) is sent again, the whole of it, and
 * applied. A deadlock between two hosts' batches that take two
 * instances in opposite orders: the store's batch (a raise to each)
 * holds the first and waits for the second, which another session x
 * holds and then asks for the first; the store's session, which looks
 * for the deadlock first, is the one PostgreSQL rolls back,
 * and the batch sent again waits for x and is applied once x commits.
 * Sent again once only: a repeatable read session whose row another
 * session changes meanwhile, and another again before the batch sent
 * again has the row, answers DS_UNAVAILABLE the second time, and has
 * applied nothing.
 */

static void
t_conflicts(const char *conninfo)
{
    int          n;
    char         ci[1024];
    PGconn      *x, *y, *z;
    PGresult    *res;
    t_call_t     a, b;
    t_host_t     th;
    ds_store_t  *st;

    static const char  *events =
        "SELECT count(*) FROM durable.inbox "
        "WHERE hub = 'hub' AND id IN ('dl-a', 'dl-b')";

    x = t_holder(conninfo);
    y = t_holder(conninfo);
    z = t_holder(conninfo);

    /*
     * a backend looks for a deadlock once, deadlock_timeout after it
     * starts to wait: the store's, after x has asked for dl-a (in the
     * next few iterations of the loop), and before x's own
     */
    snprintf(ci, sizeof(ci), "%s options='-c deadlock_timeout=1s'",
             conninfo);

    st = t_own(ci, "t_conflicts", &th, 1);
    if (st == NULL) {
        goto done;
    }

    t_op(&a, st, DS_OP_START, "dl-a");
    t_op(&b, st, DS_OP_START, "dl-b");
    ds_store_submit(st, &a.op, DS_SUBMIT_MORE);
    ds_store_submit(st, &b.op, 0);
    t_run(&a);
    t_run(&b);
    T(a.op.rc == DS_OK && b.op.rc == DS_OK);

    n = t_number(y, events);
    T(n >= 0);

    res = PQexec(x, "SET deadlock_timeout = '1min'; BEGIN; "
                 "SELECT 1 FROM durable.instances "
                 "WHERE hub = 'hub' AND id = 'dl-b' FOR UPDATE");
    T(PQresultStatus(res) == PGRES_TUPLES_OK);
    PQclear(res);

    t_op(&a, st, DS_OP_RAISE_EVENT, "dl-a");
    t_op(&b, st, DS_OP_RAISE_EVENT, "dl-b");
    ds_store_submit(st, &a.op, DS_SUBMIT_MORE);
    ds_store_submit(st, &b.op, 0);

    /* the batch holds dl-a and waits for dl-b: x asks for dl-a */
    t_waiters(y, 1, &b);
    T(!b.answered);

    T(PQsendQuery(x, "SELECT 1 FROM durable.instances "
                  "WHERE hub = 'hub' AND id = 'dl-a' FOR UPDATE") == 1);

    /* x has dl-a once the batch is rolled back; sent again, it waits */
    T(t_settle(x));
    t_waiters(y, 1, &b);
    T(!a.answered && !b.answered);

    res = PQexec(x, "COMMIT");
    T(PQresultStatus(res) == PGRES_COMMAND_OK);
    PQclear(res);

    t_run(&a);
    t_run(&b);
    T(a.op.rc == DS_OK);
    T(b.op.rc == DS_OK);
    T(t_number(y, events) == n + 2);

    if (a.op.rc != DS_OK || b.op.rc != DS_OK) {
        printf("#   deadlock: %d (%s), %d (%s)\n", a.op.rc, a.error,
               b.op.rc, b.error);
    }

    ds_store_close(st);

    /* repeatable read: x, then z, change dl-a's row under the batch */
    snprintf(ci, sizeof(ci), "%s options='-c default_transaction_isolation"
             "=repeatable\\\\ read'", conninfo);

    st = t_own(ci, "t_conflicts", &th, 1);
    if (st == NULL) {
        goto done;
    }

    res = PQexec(x, "BEGIN; UPDATE durable.instances SET updated = updated "
                 "WHERE hub = 'hub' AND id = 'dl-a'");
    T(PQresultStatus(res) == PGRES_COMMAND_OK);
    PQclear(res);

    t_op(&a, st, DS_OP_RAISE_EVENT, "dl-a");
    ds_store_submit(st, &a.op, 0);

    /* the batch waits for x, then z behind it */
    t_waiters(y, 1, &a);

    T(PQsendQuery(z, "BEGIN; UPDATE durable.instances "
                  "SET updated = updated "
                  "WHERE hub = 'hub' AND id = 'dl-a'") == 1);

    t_waiters(y, 2, &a);
    T(!a.answered);

    res = PQexec(x, "COMMIT");
    T(PQresultStatus(res) == PGRES_COMMAND_OK);
    PQclear(res);

    /* the batch failed, z changed the row, the batch sent again waits */
    T(t_settle(z));
    t_waiters(y, 1, &a);
    T(!a.answered);

    res = PQexec(z, "COMMIT");
    T(PQresultStatus(res) == PGRES_COMMAND_OK);
    PQclear(res);

    t_run(&a);
    T(a.op.rc == DS_UNAVAILABLE);
    T(strstr(a.error, "not applied") != NULL);
    T(t_number(y, events) == n + 2);

    if (a.op.rc != DS_UNAVAILABLE) {
        printf("#   twice: %d (%s)\n", a.op.rc, a.error);
    }

    ds_store_close(st);

done:

    PQfinish(x);
    PQfinish(y);
    PQfinish(z);
}


/*
 * A serialization failure found at COMMIT, every statement of the batch
 * passed, is taken as one of a statement: the batch is sent again, once,
 * and applied; failing again, answered DS_UNAVAILABLE, not applied. A
 * store of serializable sessions; a deferred trigger of the test's
 * (t_ssi_set) on its raise's inbox row reads row a and writes row b of
 * a table of its own, then waits, at the batch's COMMIT, for a lock x
 * holds (a key each try, from a sequence); meanwhile z, serializable,
 * reads b and writes a, and commits: a write skew, the store's
 * transaction the pivot, which PostgreSQL finds at its commit once x
 * lets the lock go (40001, "during commit attempt").
 */

static const char  *t_ssi_set[] = {
    "CREATE TABLE public.t_ssi (k text PRIMARY KEY, v integer NOT NULL)",
    "INSERT INTO public.t_ssi VALUES ('a', 0), ('b', 0)",
    "CREATE SEQUENCE public.t_ssi_try",
    "CREATE FUNCTION public.t_ssi() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN "
    "    PERFORM v FROM public.t_ssi WHERE k = 'a'; "
    "    UPDATE public.t_ssi SET v = v + 1 WHERE k = 'b'; "
    "    PERFORM pg_advisory_xact_lock(nextval('public.t_ssi_try')); "
    "    RETURN NULL; "
    "END $$",
    "CREATE CONSTRAINT TRIGGER t_ssi AFTER INSERT ON durable.inbox "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
    "WHEN (NEW.hub = 'hub' AND NEW.id = 'ssi') "
    "EXECUTE FUNCTION public.t_ssi()",
    NULL
};

static const char  *t_ssi_unset[] = {
    "DROP TRIGGER t_ssi ON durable.inbox",
    "DROP FUNCTION public.t_ssi()",
    "DROP SEQUENCE public.t_ssi_try",
    "DROP TABLE public.t_ssi",
    NULL
};


static void
t_exec(PGconn *x, const char *sql)
{
    PGresult  *res;

    res = PQexec(x, sql);
    T(PQresultStatus(res) == PGRES_COMMAND_OK
      || PQresultStatus(res) == PGRES_TUPLES_OK);

    if (PQresultStatus(res) != PGRES_COMMAND_OK
        && PQresultStatus(res) != PGRES_TUPLES_OK)
    {
        printf("#   %s: %s", sql, PQresultErrorMessage(res));
    }

    PQclear(res);
}


/*
 * z commits a write skew against the batch once it waits at its COMMIT
 * for the lock of its try; then x lets that lock go
 */

static void
t_skew(PGconn *x, PGconn *y, PGconn *z, t_call_t *c, int try)
{
    int   k;
    char  sql[128];

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_locks "
             "WHERE locktype = 'advisory' AND objid = %d AND NOT granted",
             try);

    for (k = 0; k < 300 && t_number(y, sql) != 1 && !c->answered; k++) {
        t_iterate();
    }

    T(!c->answered);

    t_exec(z, "BEGIN ISOLATION LEVEL SERIALIZABLE");
    t_exec(z, "SELECT v FROM public.t_ssi WHERE k = 'b'");
    t_exec(z, "UPDATE public.t_ssi SET v = v + 1 WHERE k = 'a'");
    t_exec(z, "COMMIT");

    snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%d)", try);
    t_exec(x, sql);
}


static void
t_commit_conflicts(const char *conninfo)
{
    int          n, i;
    char         ci[1024];
    PGconn      *x, *y, *z;
    t_call_t     a;
    t_host_t     th;
    ds_store_t  *st;

    static const char  *events =
        "SELECT count(*) FROM durable.inbox "
        "WHERE hub = 'hub' AND id = 'ssi'";

    x = t_holder(conninfo);
    y = t_holder(conninfo);
    z = t_holder(conninfo);

    snprintf(ci, sizeof(ci), "%s options='-c default_transaction_isolation"
             "=serializable'", conninfo);

    st = t_own(ci, "t_commit_conflicts", &th, 1);
    if (st == NULL) {
        goto done;
    }

    t_op(&a, st, DS_OP_START, "ssi");
    ds_store_submit(st, &a.op, 0);
    t_run(&a);
    T(a.op.rc == DS_OK);

    for (i = 0; t_ssi_set[i] != NULL; i++) {
        t_exec(y, t_ssi_set[i]);
    }

    /* the tries' locks: 1 and 2 the first raise's, 3 and 4 the second's */
    t_exec(x, "SELECT pg_advisory_lock(k) FROM generate_series(1, 4) k");

    n = t_number(y, events);
    T(n >= 0);

    /* once: failed at COMMIT, sent again, applied */
    t_op(&a, st, DS_OP_RAISE_EVENT, "ssi");
    ds_store_submit(st, &a.op, 0);

    t_skew(x, y, z, &a, 1);
    t_exec(x, "SELECT pg_advisory_unlock(2)");

    t_run(&a);
    T(a.op.rc == DS_OK);
    T(t_number(y, events) == n + 1);

    if (a.op.rc != DS_OK) {
        printf("#   once: %d (%s)\n", a.op.rc, a.error);
    }

    /* twice: the batch sent again fails at COMMIT too */
    t_op(&a, st, DS_OP_RAISE_EVENT, "ssi");
    ds_store_submit(st, &a.op, 0);

    t_skew(x, y, z, &a, 3);
    t_skew(x, y, z, &a, 4);

    t_run(&a);
    T(a.op.rc == DS_UNAVAILABLE);
    T(strstr(a.error, "not applied") != NULL);
    T(t_number(y, events) == n + 1);

    if (a.op.rc != DS_UNAVAILABLE) {
        printf("#   twice: %d (%s)\n", a.op.rc, a.error);
    }

    for (i = 0; t_ssi_unset[i] != NULL; i++) {
        t_exec(y, t_ssi_unset[i]);
    }

    ds_store_close(st);

done:

    PQfinish(x);
    PQfinish(y);
    PQfinish(z);
}


/* a claim's item callback: counts, and fails at the item data says */

typedef struct {
    int                 items;
    int                 fail_at;        /* 0: never */
    int                 first;          /* the item whose id is "rel-1" */
} t_items_t;


static int
t_item(void *data, ds_op_t *op, const ds_work_item_t *item)
{
    t_items_t  *ti = data;

    (void) op;

    if (item->id.len == 5 && memcmp(item->id.data, "rel-1", 5) == 0) {
        ti->first = ti->items;
    }

    return ++ti->items == ti->fail_at;
}


static void
t_claim(t_call_t *c, ds_store_t *st, t_items_t *ti, uint8_t *tokens,
    size_t max)
{
    size_t  i;

    memset(c, 0, sizeof(t_call_t));
    c->store = st;
    c->op.type = DS_OP_WORK_CLAIM;
    c->op.hub = (ds_str_t) { "rel", 3 };
    c->op.done = t_done;
    c->op.in.claim.kind = DS_WORK_ORCHESTRATION;
    c->op.in.claim.lease_us = 600000000;
    c->op.in.claim.max = max;
    c->op.in.claim.item = t_item;
    c->op.in.claim.item_data = ti;

    for (i = 0; i < max * DS_LEASE_LEN; i++) {
        tokens[i] = (uint8_t) rand();
    }

    c->op.in.claim.tokens = tokens;
}


/*
 * A claim whose item callback fails answers DS_ERROR, nothing claimed;
 * on LMDB nothing is leased either, its transaction aborted, but here
 * the claim has committed: its items' leases are let go at once, so
 * that the next claim takes them, the one the callback rendered before
 * it failed too, rather than after the lease (10 minutes here). For
 * each kind of item (t_claim_twice()): orchestrations, the two
 * activities an episode schedules (abandons by task id), and two
 * entities signalled (abandons by name and key).
 */

static int
t_claim_twice(ds_store_t *st, ds_work_kind_e kind, uint8_t *tokens)
{
    t_call_t   a, b;
    t_items_t  ti;

    /* the second item fails: both were leased by the claim */
    memset(&ti, 0, sizeof(t_items_t));
    ti.fail_at = 2;
    t_claim(&a, st, &ti, tokens, 4);
    a.op.in.claim.kind = kind;
    ds_store_submit(st, &a.op, 0);
    t_run(&a);
    T(a.op.rc == DS_ERROR);
    T(a.op.out.claim.claimed == 0);
    T(ti.items == 2);

    /* claimable again at once, both */
    memset(&ti, 0, sizeof(t_items_t));
    t_claim(&b, st, &ti, tokens, 4);
    b.op.in.claim.kind = kind;
    ds_store_submit(st, &b.op, 0);
    t_run(&b);
    T(b.op.rc == DS_OK);
    T(b.op.out.claim.claimed == 2);
    T(ti.items == 2);

    if (b.op.out.claim.claimed != 2) {
        printf("#   kind %d claimed again: %zu\n", (int) kind,
               b.op.out.claim.claimed);
    }

    return ti.first;
}


static void
t_claim_release(ds_store_t *st)
{
    int          first;
    size_t       i;
    uint8_t      tokens[4 * DS_LEASE_LEN];
    t_call_t     a, b;
    ds_action_t  act[2];

    static const char  *ids[] = { "rel-1", "rel-2" };

    t_op(&a, st, DS_OP_START, ids[0]);
    t_op(&b, st, DS_OP_START, ids[1]);
    a.op.hub = (ds_str_t) { "rel", 3 };
    b.op.hub = (ds_str_t) { "rel", 3 };
    ds_store_submit(st, &a.op, DS_SUBMIT_MORE);
    ds_store_submit(st, &b.op, 0);
    t_run(&a);
    t_run(&b);
    T(a.op.rc == DS_OK && b.op.rc == DS_OK);

    first = t_claim_twice(st, DS_WORK_ORCHESTRATION, tokens);

    /*
     * rel-1's episode, under the lease of the last claim, schedules two:
     * tasks 0 and 1 of one instance, told apart by the abandons
     */
    memset(act, 0, sizeof(act));
    act[0].type = DS_ACT_SCHEDULE_ACTIVITY;
    act[0].name = (ds_str_t) { "Rel", 3 };
    act[1] = act[0];
    act[1].id = 1;

    memset(&a, 0, sizeof(t_call_t));
    a.store = st;
    a.op.type = DS_OP_WORK_COMPLETE;
    a.op.hub = (ds_str_t) { "rel", 3 };
    a.op.done = t_done;
    a.op.in.work.kind = DS_WORK_ORCHESTRATION;
    a.op.in.work.id = (ds_str_t) { ids[0], strlen(ids[0]) };
    a.op.in.work.lease = tokens + first * DS_LEASE_LEN;
    a.op.in.work.actions = act;
    a.op.in.work.nactions = 2;
    ds_store_submit(st, &a.op, 0);
    t_run(&a);
    T(a.op.rc == DS_OK);

    t_claim_twice(st, DS_WORK_ACTIVITY, tokens);

    for (i = 0; i < 2; i++) {
        memset(&a, 0, sizeof(t_call_t));
        a.store = st;
        a.op.type = DS_OP_ENTITY_SIGNAL;
        a.op.hub = (ds_str_t) { "rel", 3 };
        a.op.done = t_done;
        a.op.in.entity.name = (ds_str_t) { "counter", 7 };
        a.op.in.entity.key = (ds_str_t) { ids[i], strlen(ids[i]) };
        a.op.in.entity.operation = (ds_str_t) { "add", 3 };
        a.op.in.entity.input = (ds_str_t) { "1", 1 };
        ds_store_submit(st, &a.op, 0);
        t_run(&a);
        T(a.op.rc == DS_OK);
    }

    t_claim_twice(st, DS_WORK_ENTITY, tokens);
}


/*
 * A purge by filter of instances with large histories, on a store whose
 * timeout= is short: each batch stops within a share of the server's
 * statement_timeout (durable.purge_batch_for()), so none is cancelled
 * and rolled back, and the purge goes to its end, a batch after another,
 * however large the batch's count. (Deleting all of them in one batch,
 * as durable.purge_batch() did, took longer than the bound: each try was
 * cancelled, DS_UNAVAILABLE.)
 */

#define T_PURGE_N       300     /* terminated instances, */
#define T_PURGE_EVENTS  1000    /* each with this many events */
#define T_PURGE_MS      250     /* the store's timeout= */

static void
t_purge_bound(const char *conninfo)
{
    int          k;
    char         sql[512];
    size_t       deleted, batches;
    t_call_t     a;
    t_host_t     th;
    ds_query_t   q;
    ds_store_t  *st;
    PGconn      *y;

    snprintf(sql, sizeof(sql),
             "DO $$ BEGIN FOR i IN 1..%d LOOP "
             "PERFORM durable.start('big', 'b' || i, 'N', NULL, ''); "
             "PERFORM durable.terminate('big', 'b' || i, NULL); "
             "END LOOP; END $$", T_PURGE_N);
    t_sql(conninfo, sql);

    snprintf(sql, sizeof(sql),
             "INSERT INTO durable.history "
             "SELECT i.hub, i.partition, i.id, 100 + g, repeat('x', 200) "
             "FROM durable.instances i, generate_series(1, %d) g "
             "WHERE i.hub = 'big'", T_PURGE_EVENTS);
    t_sql(conninfo, sql);

    memset(&th, 0, sizeof(t_host_t));
    st = t_open(conninfo, &th, T_PURGE_MS, 1);
    T(st != NULL);
    if (st == NULL) {
        return;
    }

    t_ready(&th, 1);

    memset(&q, 0, sizeof(ds_query_t));
    deleted = 0;
    batches = 0;

    for (k = 0; k < 10 * T_PURGE_N; k++) {
        memset(&a, 0, sizeof(t_call_t));
        a.store = st;
        a.op.type = DS_OP_PURGE_BATCH;
        a.op.hub = (ds_str_t) { "big", 3 };
        a.op.done = t_done;
        a.op.in.purge.query = &q;
        a.op.in.purge.max = 1000;
        a.op.in.purge.max_us = 0;

        ds_store_submit(st, &a.op, 0);
        t_run(&a);

        if (a.op.rc != DS_OK) {
            break;
        }

        batches++;
        deleted += a.op.out.purge.deleted;

        if (!a.op.out.purge.more) {
            break;
        }
    }

    T(a.op.rc == DS_OK);
    T(deleted == T_PURGE_N);
    T(batches > 1);

    if (a.op.rc != DS_OK || deleted != T_PURGE_N) {
        printf("#   purge: %d (%s) after %zu batches, %zu deleted\n",
               a.op.rc, a.error, batches, deleted);
    }

    y = t_holder(conninfo);
    T(t_number(y, "SELECT count(*) FROM durable.history "
                  "WHERE hub = 'big'") == 0);
    PQfinish(y);

    ds_store_close(st);
}


/* a write through one store wakes the other's host: its listener */

static void
t_wakes(t_host_t *th, ds_store_t *other)
{
    int       i;
    t_call_t  a;

    /* the other store's connections are up once it answers */
    t_op(&a, other, DS_OP_STATUS, "one");
    ds_store_submit(other, &a.op, 0);
    t_run(&a);

    th->wakes = 0;

    t_op(&a, other, DS_OP_RAISE_EVENT, "one");
    ds_store_submit(other, &a.op, 0);
    t_run(&a);
    T(a.op.rc == DS_OK);

    /* generous: the notification comes soon after the commit */
    for (i = 0; i < 300 && th->wakes == 0; i++) {
        t_iterate();
    }

    T(th->wakes > 0);
}


/*
 * 1 once the listener of the sessions named name has run LISTEN and its
 * backend was ended
 */

static int
t_end_listener(PGconn *x, const char *name)
{
    int           n;
    PGresult     *res;
    const char   *values[1];

    values[0] = name;

    res = PQexecParams(x, "SELECT count(pg_terminate_backend(pid)) "
                       "FROM pg_stat_activity WHERE application_name = $1 "
                       "AND query = 'LISTEN durable' AND state = 'idle'",
                       1, NULL, values, NULL, NULL, 0);

    n = PQresultStatus(res) == PGRES_TUPLES_OK ? atoi(PQgetvalue(res, 0, 0))
                                                : -1;
    PQclear(res);

    return n == 1;
}


/*
 * The listener's backend ended, and a write made through the other store
 * while it is down: its NOTIFY reaches no listener of this store's, so
 * once the listener is back and has run LISTEN, the host wakes once for
 * what it may have missed.
 */

static void
t_relisten(const char *conninfo, ds_store_t *other)
{
    int          i, ended;
    PGconn      *x;
    t_call_t     a;
    t_host_t     host, *th;
    ds_store_t  *st;

    th = &host;

    st = t_own(conninfo, "t_relisten", th, 1);
    if (st == NULL) {
        return;
    }

    x = PQconnectdb(conninfo);
    T(PQstatus(x) == CONNECTION_OK);

    ended = 0;

    for (i = 0; i < 300 && !ended; i++) {
        t_iterate();
        ended = t_end_listener(x, "t_relisten");
    }

    T(ended);
    T(th->listening == 1);

    for (i = 0; i < 300 && th->listener_lost == 0; i++) {
        t_iterate();
    }

    T(th->listener_lost == 1);

    th->wakes = 0;

    t_op(&a, other, DS_OP_RAISE_EVENT, "one");
    ds_store_submit(other, &a.op, 0);
    t_run(&a);
    T(a.op.rc == DS_OK);

    /* the write went while the listener was down: it retries in 1 s */
    T(th->listening == 1);
    T(th->wakes == 0);

    for (i = 0; i < 300 && th->listening == 1; i++) {
        t_iterate();
    }

    T(th->listening == 2);

    /* its LISTEN takes a round trip or two */
    for (i = 0; i < 50 && th->wakes == 0; i++) {
        t_iterate();
    }

    T(th->wakes == 1);

    PQfinish(x);
    ds_store_close(st);
}


/* every process of the server, stopped or resumed */

static void
t_signal_server(long pid, int sig)
{
    DIR            *d;
    long            ppid;
    char            path[300], comm[64], state;
    FILE           *f;
    struct dirent  *de;

    T(kill((pid_t) pid, sig) == 0);

    d = opendir("/proc");
    if (d == NULL) {
        return;
    }

    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9') {
            continue;
        }

        snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);

        f = fopen(path, "r");
        if (f == NULL) {
            continue;
        }

        if (fscanf(f, "%*d %63s %c %ld", comm, &state, &ppid) == 3
            && ppid == pid)
        {
            (void) kill((pid_t) atol(de->d_name), sig);
        }

        fclose(f);
    }

    closedir(d);
}


static void
t_stopped(ds_store_t *st, const char *pidfile)
{
    int       i, before;
    long      pid;
    FILE     *f;
    t_call_t  a, b;

    f = fopen(pidfile, "r");
    T(f != NULL);
    if (f == NULL) {
        return;
    }

    pid = 0;
    T(fscanf(f, "%ld", &pid) == 1 && pid > 1);
    fclose(f);

    t_signal_server(pid, SIGSTOP);

    /* the loop goes on; the op gets its answer after the bound */
    t_op(&a, st, DS_OP_STATUS, "one");
    ds_store_submit(st, &a.op, 0);
    before = t_iterations;
    t_run(&a);
    T(a.op.rc == DS_UNAVAILABLE);
    T(t_iterations - before > 1);

    t_op(&b, st, DS_OP_START, "three");
    ds_store_submit(st, &b.op, 0);
    t_run(&b);
    T(b.op.rc == DS_UNAVAILABLE);

    t_signal_server(pid, SIGCONT);

    /* connections are made again: within some retries, served */
    for (i = 0; i < 60; i++) {
        t_op(&a, st, DS_OP_STATUS, "one");
        ds_store_submit(st, &a.op, 0);
        t_run(&a);

        if (a.op.rc != DS_UNAVAILABLE) {
            break;
        }

        for (before = t_iterations; t_iterations - before < 5; ) {
            t_iterate();
        }
    }

    T(a.op.rc == DS_OK);
}


int
main(int argc, char **argv)
{
    t_host_t     th, other_th;
    ds_store_t  *st, *other;

    if (argc != 3) {
        fprintf(stderr, "usage: t_pg_store CONNINFO POSTMASTER_PID_FILE\n");
        return 2;
    }

    alarm(T_WATCHDOG_S);

    t_refusals(argv[1]);
    t_groups();

    memset(&th, 0, sizeof(t_host_t));
    memset(&other_th, 0, sizeof(t_host_t));

    st = t_open(argv[1], &th, T_BOUND_MS, 2);
    other = t_open(argv[1], &other_th, T_BOUND_MS, 2);
    T(st != NULL && other != NULL);

    if (st != NULL && other != NULL) {
        t_serve(st, &th);
        t_starts(st, &th);
        t_starts_nomem(argv[1]);
        t_status_many(st, &th);
        t_status_big(st, &th);
        t_reads_alone(st, &th);
        t_pool_one(argv[1]);
        t_pool_two(argv[1]);
        t_pool_three(argv[1]);
        t_backlog_edge(argv[1]);
        t_reads_take_last(st, &th);
        t_writer(st, argv[1]);
        t_claim_release(st);
        t_batch_most(st);
        t_sustained(st);
        t_schema(argv[1]);
        t_schema_range(argv[1]);
        t_functions_level(argv[1]);
        t_wakes(&th, other);
        t_relisten(argv[1], other);
        t_lost_batch(argv[1]);
        t_server_bound(argv[1]);
        t_cancelled(argv[1]);
        t_transient(argv[1]);
        t_conflicts(argv[1]);
        t_commit_conflicts(argv[1]);
        t_purge_bound(argv[1]);
        t_reconnect(st, argv[1]);
        t_stopped(st, argv[2]);
    }

    ds_store_close(st);
    ds_store_close(other);

    printf("%s - the PostgreSQL store: %lu passed, %lu failed\n",
           t_failed ? "not ok" : "ok", t_passed, t_failed);

    return t_failed ? 1 : 0;
}
