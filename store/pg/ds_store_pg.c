
/*
 * Copyright (C) ngx_durable authors
 *
 * The PostgreSQL backend of ds_store_t (docs/postgres.md): a pool of
 * connections in each process, driven by the host's loop through its
 * watch callback, and one more connection that has run LISTEN.
 *
 * Ops are queued as they are submitted, reads and writes apart, and sent
 * after the events of the loop's iteration on an idle connection: what
 * is queued of a kind is one batch, one pipeline, one round trip; a
 * batch of writes is one transaction (each function runs its body in a
 * savepoint, so a refusal or a failure stays the op's own). One batch
 * of writes at most is in flight per process: the NOTIFY of each
 * writing transaction holds a lock of the database from its commit's
 * start to its end, so concurrent writing transactions would commit one
 * after the other anyway, each waiting for the others' WAL flushes;
 * writes that arrive meanwhile wait and make the next batch bigger
 * (group commit). Reads do not wait for it: they go on any idle
 * connection, as an LMDB reader does not wait for the writer, but the
 * last one while a batch of writes could go (dsi_pgs_dispatch()). Answers
 * come through done() once the COMMIT has succeeded, in the order the
 * ops of the batch were submitted.
 *
 * Nothing waits: a connect and a batch are bounded by the host's timers
 * (timeout_ms), and so is an op's wait in the queue. An op whose batch
 * was lost (connection broken, no answer in time) or that found no
 * connection answers DS_UNAVAILABLE; the connection is closed and made
 * again after a pause. The server bounds each statement a little under
 * timeout_ms (DSI_PGS_SERVER_MS()): a batch it cancelled answers
 * DS_UNAVAILABLE too, rolled back, on a connection that stays up.
 * Types the schema has no function for yet answer DS_UNSUPPORTED at
 * once.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_backend.h"
#include "ds_internal.h"
#include "ds_pg.h"


#define DSI_PGS_POOL        4       /* a writer, readers meanwhile */
#define DSI_PGS_WRITERS     1       /* batches of writes in flight: 2
                                       measured no faster (one commit at
                                       a time, see above) */
/*
 * writes in a batch at most: each runs in its own savepoint, a
 * subtransaction with its own xid, and past 64 of them in a transaction
 * PostgreSQL's snapshots of every other backend have to look them up in
 * pg_subtrans instead of in the writer's PGPROC
 */
#define DSI_PGS_WRITES_MAX  64
#define DSI_PGS_TIMEOUT_MS  5000
#define DSI_PGS_RETRY_MS    1000
#define DSI_PGS_SCHEMA_MS   5000        /* a refused schema, looked at again */
#define DSI_PGS_POOL_MAX    64
/*
 * the server's own bound of a statement and of a session idle in a
 * transaction (statement_timeout, idle_in_transaction_session_timeout):
 * a tenth under timeout_ms, so that a batch waiting on a lock is
 * cancelled and rolled back by the server, and answered so, just before
 * the batch's timer would close the connection, whose backend would not
 * notice and would go on to commit once it had the lock
 */
#define DSI_PGS_SERVER_MS(t)    ((t) - (t) / 10)
#define DSI_PGS_PAYLOAD     256

/* dsi_pgc_transient(): why a statement failed for a moment */
#define DSI_PGS_CANCELLED   1
#define DSI_PGS_CONFLICT    2
#define DSI_PGS_REFUSED     3


typedef enum {
    DSI_PGC_DOWN = 0,           /* no connection; the timer retries */
    DSI_PGC_CONNECTING,
    DSI_PGC_IDLE,
    DSI_PGC_BUSY                /* a batch (or LISTEN) in flight */
} dsi_pgc_state_e;


typedef struct dsi_pgs_s  dsi_pgs_t;


typedef struct {
    dsi_pgs_t          *pgs;
    dsi_pg_conn_t      *conn;
    dsi_pgc_state_e     state;
    int                 fd;             /* watched, or -1 */
    unsigned            what;
    ds_event_t          io;             /* socket ready, or a step posted */
    ds_event_t          timer;          /* connect, batch, retry */
    ds_op_t            *ops;            /* the batch in flight */
    size_t              nops;
    size_t              reads;          /* of them, in pgs->reading;
                                           0 once counted out, so a
                                           batch ended twice counts
                                           once (nops stays until the
                                           answers) */
    dsi_pg_stmt_t      *stmts;
    size_t              nstmts;
    int64_t             sent;           /* µs */
    unsigned            writes:1;       /* the batch is of writes */
    unsigned            listen:1;       /* the LISTEN connection */
    unsigned            checking:1;     /* the schema's version asked */
    unsigned            was_up:1;       /* for the log: up, then lost */
} dsi_pgc_t;


typedef struct {
    ds_op_t            *first;
    ds_op_t           **last;
    size_t              n;
    int64_t             since;          /* µs, when the first was queued */
} dsi_pgs_queue_t;


struct dsi_pgs_s {
    ds_store_t         *store;
    char               *conninfo;
    size_t              npool;
    dsi_pgc_t          *conns;          /* npool, then the listener */
    dsi_pgs_queue_t     reads;
    dsi_pgs_queue_t     writes;
    size_t              writing;        /* batches of writes in flight */
    size_t              reading;        /* reads in flight */
    int64_t             timeout_ms;
    ds_event_t          kick;           /* sends what is queued */
    ds_event_t          expire;         /* the queue's bound */
    unsigned            refused:1;      /* a schema of a version not served */
    int                 version;        /* the one served, once logged */
    char                why[DS_STORE_LOG_LEN];  /* its message */
};


/*
 * an answer as ds_op_history() and the others read it, through the
 * vtable: op->backend during done()
 */
typedef struct {
    const PGresult     *res;
    const char         *err;
    dsi_pg_keep_t      *keep;           /* the history's events, read */
} dsi_pgs_answer_t;


static int dsi_pgs_open(ds_store_t *st, const ds_store_conf_t *conf,
    char *err, size_t errlen);
static void dsi_pgs_submit(ds_store_t *st, ds_op_t *op, unsigned flags);
static void dsi_pgs_close(ds_store_t *st);
static void dsi_pgs_kick_handler(ds_event_t *ev);
static void dsi_pgs_expire_handler(ds_event_t *ev);
static void dsi_pgs_dispatch(dsi_pgs_t *pgs);
static dsi_pgc_t *dsi_pgs_idle(dsi_pgs_t *pgs, size_t keep);
static void dsi_pgs_take(dsi_pgs_t *pgs, dsi_pgs_queue_t *q, dsi_pgc_t *c);
static void dsi_pgs_bound(dsi_pgs_t *pgs);
static void dsi_pgs_fail_queue(dsi_pgs_t *pgs, dsi_pgs_queue_t *q,
    const char *why);
static void dsi_pgc_batch_end(dsi_pgc_t *c);
static void dsi_pgc_connect(dsi_pgc_t *c);
static void dsi_pgc_send(dsi_pgc_t *c);
static void dsi_pgc_io_handler(ds_event_t *ev);
static void dsi_pgc_timer_handler(ds_event_t *ev);
static void dsi_pgc_step(dsi_pgc_t *c);
static void dsi_pgc_ready(dsi_pgc_t *c);
static void dsi_pgc_answer(dsi_pgc_t *c);
static size_t dsi_pgc_again(dsi_pgc_t *c);
static void dsi_pgs_release(dsi_pgs_t *pgs, const ds_op_t *claim,
    const PGresult *res);
static void dsi_pgs_released(ds_op_t *op);
static int dsi_pgc_transient(const PGresult *res);
static int dsi_pgc_checked(dsi_pgc_t *c);
static void dsi_pgc_notified(dsi_pgc_t *c);
static void dsi_pgc_fail(dsi_pgc_t *c, const char *why);
static void dsi_pgc_watch(dsi_pgc_t *c);
static void dsi_pgc_unwatch(dsi_pgc_t *c);
static void dsi_pgs_answer_op(dsi_pgs_t *pgs, ds_op_t *op, int rc,
    const char *err);
static int dsi_pgs_history(ds_op_t *op, ds_event_cb cb, void *data);
static int dsi_pgs_item_events(ds_op_t *op, const ds_work_item_t *item,
    ds_list_e list, ds_event_cb cb, void *data);
static const char *dsi_pgs_error(const ds_op_t *op);
static int dsi_pgs_counts_each(ds_op_t *op, ds_count_cb cb, void *data);
static int dsi_pgs_ready_oldest(ds_op_t *op, ds_str_t hub,
    ds_work_kind_e kind, int64_t *at);
static int dsi_pgs_timers_total(ds_op_t *op, uint64_t *n);


const dsi_backend_t  dsi_backend_pg = {
    "postgres",
    dsi_pgs_open,
    dsi_pgs_submit,
    NULL,
    NULL,
    dsi_pgs_close,
    dsi_pgs_history,
    dsi_pgs_item_events,
    dsi_pgs_error,
    dsi_pgs_counts_each,
    dsi_pgs_ready_oldest,
    dsi_pgs_timers_total,
    NULL,                               /* no map: LMDB's figure only */
    NULL                                /* no snapshot the reads can tell
                                           apart: views compare events */
};


int
ds_pg_conninfo_resolve(const char *conninfo, char **out, char *err,
    size_t errlen)
{
    return dsi_pg_conninfo_resolve(conninfo, out, err, errlen) == 0
           ? DS_OK : DS_INVALID;
}


int
ds_pg_conninfo_env_check(const char *conninfo, char *const *env,
    char *err, size_t errlen)
{
    return dsi_pg_conninfo_check_env(conninfo, env, err, errlen) == 0
           ? DS_OK : DS_INVALID;
}


static int
dsi_pgs_open(ds_store_t *st, const ds_store_conf_t *conf, char *err,
    size_t errlen)
{
    size_t      i;
    ds_host_t  *host;
    dsi_pgc_t  *c;
    dsi_pgs_t  *pgs;

    host = &st->host;

    if (host->watch == NULL) {
        snprintf(err, errlen, "the host cannot watch sockets");
        return DS_INVALID;
    }

    if (conf->conninfo == NULL || conf->pool > DSI_PGS_POOL_MAX) {
        snprintf(err, errlen, "no conninfo, or a pool over %d",
                 DSI_PGS_POOL_MAX);
        return DS_INVALID;
    }

    /* refused here rather than at each connect: it cannot change */
    if (dsi_pg_conninfo_check(conf->conninfo, err, errlen) != 0) {
        return DS_INVALID;
    }

    pgs = calloc(1, sizeof(dsi_pgs_t));
    if (pgs == NULL) {
        snprintf(err, errlen, "out of memory");
        return DS_ERROR;
    }

    pgs->store = st;
    pgs->reads.last = &pgs->reads.first;
    pgs->writes.last = &pgs->writes.first;
    pgs->npool = conf->pool ? conf->pool : DSI_PGS_POOL;
    pgs->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms
                                           : DSI_PGS_TIMEOUT_MS;
    pgs->conninfo = strdup(conf->conninfo);
    pgs->conns = calloc(pgs->npool + 1, sizeof(dsi_pgc_t));

    pgs->kick.handler = dsi_pgs_kick_handler;
    pgs->kick.data = pgs;
    pgs->expire.handler = dsi_pgs_expire_handler;
    pgs->expire.data = pgs;

    if (pgs->conninfo == NULL || pgs->conns == NULL
        || host->init(host->data, &pgs->kick) != 0
        || host->init(host->data, &pgs->expire) != 0)
    {
        goto nomem;
    }

    for (i = 0; i <= pgs->npool; i++) {
        c = &pgs->conns[i];
        c->pgs = pgs;
        c->fd = -1;
        c->listen = (i == pgs->npool);
        c->io.handler = dsi_pgc_io_handler;
        c->io.data = c;
        c->timer.handler = dsi_pgc_timer_handler;
        c->timer.data = c;

        if (host->init(host->data, &c->io) != 0
            || host->init(host->data, &c->timer) != 0)
        {
            goto nomem;
        }
    }

    st->be = pgs;

    /* connects start now and go on in the loop */

    for (i = 0; i <= pgs->npool; i++) {
        dsi_pgc_connect(&pgs->conns[i]);
    }

    dsi_store_log(st, DS_LOG_DEBUG, "durable store \"%s\": %zu "
                  "connections and a listener, bound %lldms", st->name,
                  pgs->npool, (long long) pgs->timeout_ms);

    return DS_OK;

nomem:

    snprintf(err, errlen, "out of memory");
    free(pgs->conninfo);
    free(pgs->conns);
    free(pgs);

    return DS_ERROR;
}


static void
dsi_pgs_close(ds_store_t *st)
{
    size_t      i;
    ds_host_t  *host;
    dsi_pgc_t  *c;
    dsi_pgs_t  *pgs;

    pgs = st->be;
    host = &st->host;

    host->cancel(host->data, &pgs->kick);
    host->cancel(host->data, &pgs->expire);

    for (i = 0; i <= pgs->npool; i++) {
        c = &pgs->conns[i];

        host->cancel(host->data, &c->io);
        host->cancel(host->data, &c->timer);
        dsi_pgc_unwatch(c);

        /* ops in flight are dropped without done(), as the API says */
        free(c->stmts);
        dsi_pg_conn_close(c->conn);
    }

    free(pgs->conninfo);
    free(pgs->conns);
    free(pgs);
    st->be = NULL;
}


static void
dsi_pgs_submit(ds_store_t *st, ds_op_t *op, unsigned flags)
{
    int               rc;
    ds_host_t        *host;
    dsi_pgs_t        *pgs;
    dsi_pg_call_t    *call;
    dsi_pgs_queue_t  *q;

    pgs = st->be;
    host = &st->host;

    call = malloc(sizeof(dsi_pg_call_t));
    if (call == NULL) {
        op->rc = DS_ERROR;
        op->done(op);
        return;
    }

    rc = dsi_pg_op_call(op, call);

    if (rc != DS_OK) {
        /* refused before any call, or a type without a function yet */
        dsi_pg_call_free(call);
        free(call);

        dsi_store_log(st, DS_LOG_DEBUG, "durable store \"%s\": %s "
                      "answered at once: %s", st->name,
                      ds_op_what(op->type), ds_strerror(rc));

        op->rc = rc;
        op->done(op);
        return;
    }

    /* the backend's until done(): the call */
    op->backend = call;
    call->queued = ds_time_now();

    dsi_store_take(st, op);

    q = dsi_op_is_read(op->type) ? &pgs->reads : &pgs->writes;

    op->next = NULL;
    *q->last = op;
    q->last = &op->next;

    if (q->n++ == 0) {
        q->since = call->queued;

        if (pgs->reads.n + pgs->writes.n == 1) {
            host->timer(host->data, &pgs->expire, pgs->timeout_ms);
        }
    }

    dsi_store_log(st, DS_LOG_DEBUG, "durable store \"%s\": queued %s, %zu "
                  "in the queue%s", st->name, ds_op_what(op->type),
                  q->n, (flags & DS_SUBMIT_MORE) ? ", more follow" : "");

    if (!(flags & DS_SUBMIT_MORE)) {
        /* after this iteration's events: what they submit joins */
        host->post(host->data, &pgs->kick, 0);
    }
}


static void
dsi_pgs_kick_handler(ds_event_t *ev)
{
    dsi_pgs_dispatch(ev->data);
}


/* a queue waited longer than the bound: no connection could take it */

static void
dsi_pgs_expire_handler(ds_event_t *ev)
{
    int64_t     edge;
    dsi_pgs_t  *pgs = ev->data;

    /* the queue that is not that old yet gets the rest of its time */
    edge = ds_time_now() - pgs->timeout_ms * 1000 + 1000;

    if (pgs->reads.n && pgs->reads.since <= edge) {
        dsi_pgs_fail_queue(pgs, &pgs->reads, "no connection took it in "
                           "time");
    }

    if (pgs->writes.n && pgs->writes.since <= edge) {
        dsi_pgs_fail_queue(pgs, &pgs->writes, "no connection took it in "
                           "time");
    }

    dsi_pgs_bound(pgs);
}


/*
 * What is queued goes on idle connections: the writes as one batch when
 * no other batch of writes is in flight, the reads as others, one on each
 * idle connection left, DSI_PG_READS_MAX reads in each at most. While
 * a batch of writes could go and more reads are queued or in flight
 * than one batch takes, the last idle connection is kept for the
 * writes: such a backlog would otherwise take every connection and the
 * next write would wait for a read batch's round trip. Fewer reads take
 * it: keeping it then would leave reads a connection fewer under a load
 * of reads alone (a quarter of a pool of 4), while a write waits for a
 * batch of DSI_PG_READS_MAX reads at most. With a batch of writes in
 * flight, its connection is the one the next writes take; with one
 * connection up, reads and writes share it. The kept connection stays
 * idle even while every other waits on a lock: the reads queued then
 * wait for a batch's answer, or for the bounds (docs/postgres.md).
 */

static void
dsi_pgs_dispatch(dsi_pgs_t *pgs)
{
    size_t      i, up, keep;
    dsi_pgc_t  *c;

    if (pgs->writes.n && pgs->writing < DSI_PGS_WRITERS
        && (c = dsi_pgs_idle(pgs, 0)) != NULL)
    {
        pgs->writing++;
        dsi_pgs_take(pgs, &pgs->writes, c);
    }

    up = 0;

    for (i = 0; i < pgs->npool; i++) {
        up += pgs->conns[i].state == DSI_PGC_IDLE
              || pgs->conns[i].state == DSI_PGC_BUSY;
    }

    /* a pool of one, or with one connection up, keeps none */
    keep = (up > 1 && pgs->writing < DSI_PGS_WRITERS
            && pgs->reads.n + pgs->reading > DSI_PG_READS_MAX);

    while (pgs->reads.n && (c = dsi_pgs_idle(pgs, keep)) != NULL) {
        dsi_pgs_take(pgs, &pgs->reads, c);
    }

    if (pgs->reads.n + pgs->writes.n == 0) {
        return;
    }

    for (i = 0; i < pgs->npool; i++) {
        if (pgs->conns[i].state != DSI_PGC_DOWN) {
            /* the first connection that becomes idle takes the rest */
            dsi_pgs_bound(pgs);
            return;
        }
    }

    /* the database is out of reach: no reason to wait for it */
    dsi_pgs_fail_queue(pgs, &pgs->reads, "no connection to the database");
    dsi_pgs_fail_queue(pgs, &pgs->writes, "no connection to the database");
    dsi_pgs_bound(pgs);
}


/* an idle connection, when more than keep of them are idle */

static dsi_pgc_t *
dsi_pgs_idle(dsi_pgs_t *pgs, size_t keep)
{
    size_t      i, n;
    dsi_pgc_t  *c;

    c = NULL;
    n = 0;

    for (i = 0; i < pgs->npool; i++) {
        if (pgs->conns[i].state != DSI_PGC_IDLE) {
            continue;
        }

        if (c == NULL) {
            c = &pgs->conns[i];
        }

        n++;
    }

    return n > keep ? c : NULL;
}


/* a queue's ops become c's batch; its own send may fail it at once */

static void
dsi_pgs_take(dsi_pgs_t *pgs, dsi_pgs_queue_t *q, dsi_pgc_t *c)
{
    size_t    n;
    ds_op_t  *op, **cut;

    c->writes = (q == &pgs->writes);
    n = c->writes ? DSI_PGS_WRITES_MAX : DSI_PG_READS_MAX;
    n = q->n > n ? n : q->n;

    c->ops = q->first;
    c->nops = n;

    if (!c->writes) {
        c->reads = n;
        pgs->reading += n;
    }

    cut = &q->first;

    for (op = q->first; n--; op = op->next) {
        cut = &op->next;
    }

    q->first = *cut;
    *cut = NULL;
    q->n -= c->nops;

    if (q->first == NULL) {
        q->last = &q->first;

    } else {
        /* the rest's bound is its first op's, however long the queue */
        q->since = ((dsi_pg_call_t *) q->first->backend)->queued;
    }

    dsi_pgs_bound(pgs);
    dsi_pgc_send(c);
}


/* a batch is over, answered or failed: the pool's counts of it go */

static void
dsi_pgc_batch_end(dsi_pgc_t *c)
{
    dsi_pgs_t  *pgs = c->pgs;

    if (c->writes) {
        c->writes = 0;
        pgs->writing--;
    }

    pgs->reading -= c->reads;
    c->reads = 0;
}


/* the bound of the oldest queue's wait, or none when nothing waits */

static void
dsi_pgs_bound(dsi_pgs_t *pgs)
{
    int64_t     since, left;
    ds_host_t  *host;

    host = &pgs->store->host;
    host->cancel(host->data, &pgs->expire);

    if (pgs->reads.n + pgs->writes.n == 0) {
        return;
    }

    since = pgs->reads.n ? pgs->reads.since : INT64_MAX;

    if (pgs->writes.n && pgs->writes.since < since) {
        since = pgs->writes.since;
    }

    left = pgs->timeout_ms - (ds_time_now() - since) / 1000;
    host->timer(host->data, &pgs->expire, left > 1 ? left : 1);
}


static void
dsi_pgs_fail_queue(dsi_pgs_t *pgs, dsi_pgs_queue_t *q, const char *why)
{
    int          rc;
    ds_op_t     *op, *next;

    op = q->first;

    if (pgs->refused) {
        /* the schema's message was logged once, when it was found */
        rc = DS_SCHEMA;
        why = pgs->why;

    } else {
        rc = DS_UNAVAILABLE;
    }

    if (op != NULL) {
        dsi_store_log(pgs->store, pgs->refused ? DS_LOG_DEBUG : DS_LOG_ERR,
                      "durable: store \"%s\": %zu ops unanswered: %s",
                      pgs->store->name, q->n, why);
    }

    q->first = NULL;
    q->last = &q->first;
    q->n = 0;

    for ( /* void */ ; op; op = next) {
        next = op->next;
        op->next = NULL;

        dsi_pgs_answer_op(pgs, op, rc, why);
    }
}


static void
dsi_pgc_connect(dsi_pgc_t *c)
{
    char        err[DS_STORE_LOG_LEN];
    ds_host_t  *host;
    dsi_pgs_t  *pgs;

    pgs = c->pgs;
    host = &pgs->store->host;

    c->conn = dsi_pg_conn_start(pgs->conninfo,
                                DSI_PGS_SERVER_MS(pgs->timeout_ms), err,
                                sizeof(err));

    if (c->conn == NULL) {
        dsi_store_log(pgs->store, DS_LOG_ALERT, "durable: store \"%s\": "
                      "%s", pgs->store->name, err);
        c->state = DSI_PGC_DOWN;
        host->timer(host->data, &c->timer, DSI_PGS_RETRY_MS);
        return;
    }

    c->state = DSI_PGC_CONNECTING;
    host->timer(host->data, &c->timer, pgs->timeout_ms);

    dsi_store_log(pgs->store, DS_LOG_DEBUG, "durable store \"%s\": "
                  "connecting%s", pgs->store->name,
                  c->listen ? " the listener" : "");

    /* the first step may fail at once (no server on a socket) */
    dsi_pgc_step(c);
}


/* sends the batch of c->ops; or LISTEN on the listener */

static void
dsi_pgc_send(dsi_pgc_t *c)
{
    int             tx, rc;
    size_t          i, nruns;
    ds_op_t        *op;
    ds_host_t      *host;
    dsi_pgs_t      *pgs;
    dsi_pg_call_t  *call, *runs;

    static const dsi_pg_stmt_t  listen = { "LISTEN durable", 0, NULL };
    static const dsi_pg_stmt_t  check = {
        "SELECT max(version), durable.functions_level() "
        "FROM durable.schema_version", 0, NULL
    };

    pgs = c->pgs;
    host = &pgs->store->host;

    if (c->listen || c->checking) {
        if (dsi_pg_conn_send(c->conn, c->listen ? &listen : &check, 1, 0)
            != 0)
        {
            dsi_pgc_fail(c, dsi_pg_conn_error(c->conn));
            return;
        }

    } else {
        c->stmts = calloc(c->nops, sizeof(dsi_pg_stmt_t));

        if (c->stmts == NULL) {
            dsi_pgc_fail(c, "out of memory");
            return;
        }

        tx = 0;

        for (op = c->ops, i = 0; op; op = op->next, i++) {
            call = op->backend;
            call->at = i;
            call->row = -1;
            c->stmts[i] = call->stmt;
            tx |= !dsi_op_is_read(op->type);
        }

        c->nstmts = c->nops;
        nruns = 0;

        /* a run of starts, or a hub's status reads, is one statement */
        runs = c->nops > 1 ? calloc(c->nops / 2 + 1, sizeof(dsi_pg_call_t))
                           : NULL;

        if (runs != NULL) {
            c->nstmts = dsi_pg_batch_stmts(c->ops, c->stmts, runs, &nruns);
        }

        rc = dsi_pg_conn_send(c->conn, c->stmts, c->nstmts, tx);

        /* libpq has copied the parameters */
        for (i = 0; i < nruns; i++) {
            dsi_pg_call_free(&runs[i]);
        }

        free(runs);

        if (rc != 0) {
            dsi_pgc_fail(c, dsi_pg_conn_error(c->conn));
            return;
        }

        dsi_store_log(pgs->store, DS_LOG_DEBUG, "durable store \"%s\": "
                      "batch of %zu sent as %zu statements%s",
                      pgs->store->name, c->nops, c->nstmts,
                      tx ? " in a transaction" : "");
    }

    c->state = DSI_PGC_BUSY;
    c->sent = ds_time_now();
    host->timer(host->data, &c->timer, pgs->timeout_ms);

    dsi_pgc_watch(c);

    /* libpq may have read answers while it sent: look in a moment */
    host->post(host->data, &c->io, 0);
}


static void
dsi_pgc_io_handler(ds_event_t *ev)
{
    dsi_pgc_step(ev->data);
}


static void
dsi_pgc_timer_handler(ds_event_t *ev)
{
    char        why[64];
    dsi_pgc_t  *c;

    c = ev->data;

    switch (c->state) {

    case DSI_PGC_DOWN:
        dsi_pgc_connect(c);
        return;

    case DSI_PGC_CONNECTING:
    case DSI_PGC_BUSY:
        snprintf(why, sizeof(why), "no answer in %lldms",
                 (long long) c->pgs->timeout_ms);
        dsi_pgc_fail(c, why);
        return;

    default:
        return;
    }
}


static void
dsi_pgc_step(dsi_pgc_t *c)
{
    dsi_pg_step_e  rc;

    if (c->conn == NULL) {
        return;
    }

    /* libpq may close the socket and open another while it connects */
    if (c->state == DSI_PGC_CONNECTING) {
        dsi_pgc_unwatch(c);
    }

    rc = dsi_pg_conn_step(c->conn);

    if (c->listen) {
        dsi_pgc_notified(c);
    }

    switch (rc) {

    case DSI_PG_FAILED:
        dsi_pgc_fail(c, dsi_pg_conn_error(c->conn));
        return;

    case DSI_PG_READY:
        dsi_pgc_ready(c);
        return;

    default:
        dsi_pgc_watch(c);
        return;
    }
}


static void
dsi_pgc_ready(dsi_pgc_t *c)
{
    ds_host_t  *host;
    dsi_pgs_t  *pgs;

    pgs = c->pgs;
    host = &pgs->store->host;

    host->cancel(host->data, &c->timer);

    if (c->state == DSI_PGC_CONNECTING) {
        dsi_store_log(pgs->store, c->was_up ? DS_LOG_NOTICE : DS_LOG_DEBUG,
                      "durable: store \"%s\": %s connected",
                      pgs->store->name, c->listen ? "listener" : "connection");

        c->was_up = 1;
        c->state = DSI_PGC_IDLE;

        /* a pool connection takes ops once the schema is known */
        c->checking = !c->listen;
        dsi_pgc_send(c);
        return;
    }

    /* a batch's answers are in */

    dsi_pgc_batch_end(c);

    if (c->listen) {
        dsi_pg_conn_release(c->conn);

        /*
         * LISTEN is answered: what other hosts notified while there was
         * no listener (a reconnect, or before the first) was never heard,
         * so the host wakes once, and its waiters read again
         */
        dsi_store_log(pgs->store, DS_LOG_DEBUG, "durable store \"%s\": "
                      "listening, waking the host once", pgs->store->name);

        if (host->wake != NULL) {
            host->wake(host->data);
        }

    } else if (c->checking) {
        c->checking = 0;

        if (dsi_pgc_checked(c) != DS_OK) {
            return;
        }

        dsi_store_log(pgs->store, DS_LOG_DEBUG, "durable store \"%s\": "
                      "connection takes ops", pgs->store->name);

    } else {
        dsi_pgc_answer(c);
    }

    c->state = DSI_PGC_IDLE;
    dsi_pgc_watch(c);

    /* what was queued meanwhile is the next batch */
    if (!c->listen) {
        dsi_pgs_dispatch(pgs);
    }
}


/* in submit order: each op's answer, once the batch committed */

static void
dsi_pgc_answer(dsi_pgc_t *c)
{
    int               committed, tx, wake, row, transient, how;
    size_t            i, n, nw, applied, again;
    int64_t           took;
    ds_op_t          *op, *next;
    PGresult         *res;
    ds_host_t        *host;
    dsi_pgs_t        *pgs;
    ds_store_t       *st;
    const char       *why;
    ds_entity_t       entity;
    ds_instance_t     inst;
    dsi_pg_call_t    *call;
    dsi_pgs_answer_t  ans;

    pgs = c->pgs;
    st = pgs->store;
    host = &st->host;

    nw = 0;

    for (op = c->ops; op; op = op->next) {
        nw += !dsi_op_is_read(op->type);
    }

    tx = (nw != 0);

    committed = !tx || dsi_pg_conn_committed(c->conn);
    took = ds_time_now() - c->sent;
    applied = 0;
    wake = 0;
    transient = 0;
    again = 0;
    n = c->nops;

    if (!committed) {
        /* the statement that failed outside its savepoint says why */
        why = "COMMIT failed";

        for (i = 0; i < c->nstmts; i++) {
            res = dsi_pg_conn_result(c->conn, i);

            if (PQresultStatus(res) == PGRES_FATAL_ERROR) {
                why = PQresultErrorMessage(res);
                transient = dsi_pgc_transient(res);
                break;
            }
        }

        /*
         * every statement passed, the COMMIT did not: a serialization
         * failure found at commit (under serializable isolation), or a
         * deferred trigger's error, taken as a statement's would be
         */
        res = dsi_pg_conn_commit_result(c->conn);

        if (i == c->nstmts && res != NULL
            && PQresultStatus(res) == PGRES_FATAL_ERROR)
        {
            why = PQresultErrorMessage(res);
            transient = dsi_pgc_transient(res);
        }

        if (transient == DSI_PGS_CONFLICT) {
            again = dsi_pgc_again(c);
        }

        /* libpq's message ends with a newline */
        dsi_store_log(st, again == n ? DS_LOG_NOTICE : DS_LOG_ERR,
                      "durable: store \"%s\": a batch of %zu failed to "
                      "commit%s: %.*s", st->name, n,
                      again == n ? ", sent again"
                      : again ? ", some of it sent again" : "",
                      (int) strcspn(why, "\n"), why);

        n = c->nops;
    }

    op = c->ops;
    c->ops = NULL;
    c->nops = 0;

    for ( /* void */ ; op; op = next) {
        next = op->next;
        op->next = NULL;

        call = op->backend;
        op->backend = NULL;

        res = dsi_pg_conn_result(c->conn, call->at);
        row = call->row;

        ans.res = res;
        ans.err = NULL;
        ans.keep = NULL;
        op->backend = &ans;

        if (!committed && transient == DSI_PGS_CANCELLED) {
            /* rolled back: as a lost answer, to retry, but not applied */
            op->rc = DS_UNAVAILABLE;
            ans.err = "the database cancelled the batch (statement_timeout, "
                      "under the store's timeout=): not applied";

        } else if (!committed && transient) {
            op->rc = DS_UNAVAILABLE;
            ans.err = "the database rolled the batch back, for a moment "
                      "(a deadlock, a read-only server, a lock timeout, "
                      "a shutdown): not applied";

        } else if (!committed) {
            op->rc = DS_ERROR;
            ans.err = "the batch's transaction failed";

        } else if ((row < 0 ? dsi_pg_op_answer(op, res, &inst, &entity)
                            : dsi_pg_row_answer(op, res, row, &inst))
                   != DS_OK)
        {
            ans.err = PQresultErrorMessage(res);

            how = dsi_pgc_transient(res);

            if (how) {
                /*
                 * a read the server cancelled, or refused for a moment:
                 * as one not answered
                 */
                op->rc = DS_UNAVAILABLE;

                dsi_store_log(st, DS_LOG_ERR, "durable: store \"%s\": %s "
                              "%s by the database: %.*s", st->name,
                              ds_op_what(op->type),
                              how == DSI_PGS_CANCELLED
                              ? "cancelled" : "refused for a moment",
                              (int) strcspn(ans.err, "\n"), ans.err);
            }

        } else if (op->rc == DS_OK && !dsi_op_is_read(op->type)) {
            applied++;
            wake |= ds_op_wakes(op->type);
        }

        if (op->rc == DS_ERROR && ans.err == NULL
            && PQfnumber(res, "error") >= 0
            && !PQgetisnull(res, row < 0 ? 0 : row,
                            PQfnumber(res, "error")))
        {
            ans.err = PQgetvalue(res, row < 0 ? 0 : row,
                                 PQfnumber(res, "error"));
        }

        if (op->rc == DS_ERROR) {
            dsi_store_log(st, DS_LOG_DEBUG, "durable store \"%s\": %s "
                          "failed: %s", st->name, ds_op_what(op->type),
                          ans.err ? ans.err : "");
        }

        if (committed && op->type == DS_OP_WORK_CLAIM && op->rc != DS_OK) {
            /* before done(), which may free the tokens */
            dsi_pgs_release(pgs, op, res);
        }

        /* as LMDB's: the writes of the batch, to a write's done() only */
        st->batch = dsi_op_is_read(op->type) ? 0 : nw;

        /*
         * done() may free op or submit it again (a purge's next batch):
         * after it only what is local here is touched
         */

        dsi_store_answer(st, op);

        dsi_pg_keep_free(&ans.keep);
        dsi_pg_call_free(call);
        free(call);
    }

    st->batch = 0;

    dsi_store_log(st, DS_LOG_DEBUG, "durable store \"%s\": batch of %zu "
                  "answered in %lldus, %zu applied", st->name, n,
                  (long long) took, applied);

    free(c->stmts);
    c->stmts = NULL;
    dsi_pg_conn_release(c->conn);

    if (applied && host->applied != NULL) {
        host->applied(host->data, applied, took, 0);
    }

    /* other hosts hear the batch's NOTIFY; this one wakes its own now */
    if (wake && host->wake != NULL) {
        host->wake(host->data);
    }
}


/*
 * A claim whose item callback failed (or whose answer could not be read)
 * answers DS_ERROR, nothing claimed, as on LMDB, where the callback's
 * failure aborts the claim's transaction and no item is leased. Here the
 * claim has committed: its items are leased, and nobody would work on
 * them until the leases ran out (lease_us, often a minute or more),
 * those the callback had rendered too. So each lease is let go at once
 * by an abandon of the backend's own, queued now (before the claim's
 * done(), so that a claim its owner submits then comes after it), which
 * makes the item claimable again, as it was before the claim. An
 * abandon that cannot be made (out of memory) leaves its lease to run
 * out; one that finds the lease gone (a terminate meanwhile) changes
 * nothing.
 */

typedef struct {
    ds_op_t             op;
    uint8_t             lease[DS_LEASE_LEN];
    char                text[];         /* the hub, then the id */
} dsi_pgs_release_t;


static void
dsi_pgs_release(dsi_pgs_t *pgs, const ds_op_t *claim, const PGresult *res)
{
    int                 i, rows;
    char               *p;
    size_t              len;
    ds_str_t            id;
    dsi_pgs_release_t  *r;

    rows = PQntuples(res);

    if (PQresultStatus(res) != PGRES_TUPLES_OK || rows < 2
        || (size_t) rows - 1 > claim->in.claim.max
        || dsi_pg_int(res, rows - 1, 0) != DS_OK)
    {
        return;
    }

    for (i = 0; i < rows - 1; i++) {
        len = (size_t) PQgetlength(res, i, 1);

        r = malloc(sizeof(dsi_pgs_release_t) + claim->hub.len + len);
        if (r == NULL) {
            dsi_store_log(pgs->store, DS_LOG_ERR, "durable: store \"%s\": "
                          "a lease of a failed claim left to run out: out "
                          "of memory", pgs->store->name);
            continue;
        }

        memset(&r->op, 0, sizeof(ds_op_t));
        memcpy(r->lease, claim->in.claim.tokens + (size_t) i * DS_LEASE_LEN,
               DS_LEASE_LEN);

        p = r->text;
        memcpy(p, claim->hub.data, claim->hub.len);
        r->op.hub = (ds_str_t) { p, claim->hub.len };
        p += claim->hub.len;
        memcpy(p, PQgetvalue(res, i, 1), len);
        id = (ds_str_t) { p, len };

        r->op.type = DS_OP_WORK_ABANDON;
        r->op.in.work.kind = claim->in.claim.kind;
        r->op.in.work.id = id;
        r->op.in.work.lease = r->lease;
        r->op.done = dsi_pgs_released;

        if (claim->in.claim.kind == DS_WORK_ACTIVITY) {
            r->op.in.work.task = dsi_pg_int(res, i, 2);

        } else if (claim->in.claim.kind == DS_WORK_ENTITY
                   && dsi_entity_split(id, &r->op.in.work.id,
                                       &r->op.in.work.key)
                      != DS_OK)
        {
            free(r);
            continue;
        }

        dsi_pgs_submit(pgs->store, &r->op,
                       i < rows - 2 ? DS_SUBMIT_MORE : 0);
    }
}


/* an abandon of dsi_pgs_release()'s, answered: its answer is not needed */

static void
dsi_pgs_released(ds_op_t *op)
{
    free(op);
}


/*
 * A batch of writes rolled back for a deadlock or a serialization
 * failure: another transaction took the locks it wanted in another
 * order, or changed its rows meanwhile, and has gone on since, so the
 * same statements in a new transaction will most likely pass. Its ops
 * go back to the front of the queue of writes, in their order, to be
 * the next batch, which the caller's dispatch sends at once on this
 * connection, now idle: each op once, and only while less than half
 * of timeout= has passed since its submit, so that its answer comes
 * within about one and a half times timeout= at worst. The others
 * stay in c->ops, to be answered DS_UNAVAILABLE. The number of ops
 * sent again.
 */

static size_t
dsi_pgc_again(dsi_pgc_t *c)
{
    size_t            n;
    int64_t           edge;
    ds_op_t          *op, *next, *first, **last, **keep;
    dsi_pgs_t        *pgs;
    dsi_pg_call_t    *call;
    dsi_pgs_queue_t  *q;

    pgs = c->pgs;
    q = &pgs->writes;

    edge = ds_time_now() - pgs->timeout_ms * 1000 / 2;

    first = NULL;
    last = &first;
    n = 0;

    op = c->ops;
    c->ops = NULL;
    keep = &c->ops;
    c->nops = 0;

    for ( /* void */ ; op; op = next) {
        next = op->next;
        op->next = NULL;
        call = op->backend;

        if (!call->again && call->queued > edge) {
            call->again = 1;
            *last = op;
            last = &op->next;
            n++;

        } else {
            *keep = op;
            keep = &op->next;
            c->nops++;
        }
    }

    if (n == 0) {
        return 0;
    }

    *last = q->first;
    q->first = first;

    if (q->n == 0) {
        q->last = last;
    }

    q->n += n;
    q->since = ((dsi_pg_call_t *) first->backend)->queued;

    return n;
}


/*
 * A statement that failed for a moment, its transaction, if any, rolled
 * back: DSI_PGS_CANCELLED, the server cancelled it (57014,
 * query_canceled) for statement_timeout (DSI_PGS_SERVER_MS()) or by an
 * administrator's pg_cancel_backend(); DSI_PGS_CONFLICT, a deadlock
 * (40P01) or a serialization failure (40001), which the same statements
 * may not meet again; DSI_PGS_REFUSED, a read-only server (25006, a
 * standby, or one the operator made so), a lock timeout (55P03), a
 * shutdown (57P01, 57P02, 57P03) or too many connections (53300). The
 * functions give these back with their SQLSTATE (durable.transient()).
 * 0: any other answer.
 */

static int
dsi_pgc_transient(const PGresult *res)
{
    size_t       i;
    const char  *state;

    static const char  *refused[] = {
        "25006", "55P03", "57P01", "57P02", "57P03", "53300"
    };

    if (PQresultStatus(res) != PGRES_FATAL_ERROR) {
        return 0;
    }

    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

    if (state == NULL) {
        return 0;
    }

    if (strcmp(state, "57014") == 0) {
        return DSI_PGS_CANCELLED;
    }

    if (strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0) {
        return DSI_PGS_CONFLICT;
    }

    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        if (strcmp(state, refused[i]) == 0) {
            return DSI_PGS_REFUSED;
        }
    }

    return 0;
}


/*
 * The schema's version and its functions' level, asked for on each new
 * connection: nginx serves versions DSI_PG_SCHEMA_MIN to DSI_PG_SCHEMA
 * with functions of DSI_PG_FUNCTIONS or above, and never makes or changes
 * a schema. The version served is logged when it is first found or
 * changes; another (or none, or older functions) is logged once, the
 * connection closed and made again later to look again (an operator may
 * upgrade meanwhile), and ops are answered DS_SCHEMA until then. DS_OK:
 * the connection takes ops.
 */

static int
dsi_pgc_checked(dsi_pgc_t *c)
{
    int                v, level;
    char               why[DS_STORE_LOG_LEN];
    PGresult          *res;
    ds_host_t         *host;
    dsi_pgs_t         *pgs;
    const char        *state;
    ExecStatusType     st;

    pgs = c->pgs;
    host = &pgs->store->host;

    res = dsi_pg_conn_result(c->conn, 0);
    st = PQresultStatus(res);
    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    v = -1;
    level = 0;

    if (st == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        v = (int) dsi_pg_int(res, 0, 0);
        level = (int) dsi_pg_int(res, 0, 1);

    } else if (state != NULL && strcmp(state, "42883") == 0) {
        /*
         * no functions_level(): functions older than any level, refused
         * for that whatever the version, which the failed query hid
         */
        v = DSI_PG_SCHEMA;

    } else if (state != NULL
               && (strcmp(state, "42P01") == 0
                   || strcmp(state, "3F000") == 0))
    {
        /* no schema_version table, or no schema durable */
        v = 0;
    }

    if (v < 0) {
        snprintf(why, sizeof(why), "cannot read the schema's version: "
                 "%.*s", (int) strcspn(PQresultErrorMessage(res), "\n"),
                 PQresultErrorMessage(res));
        dsi_pg_conn_release(c->conn);
        dsi_pgc_fail(c, why);
        return DS_ERROR;
    }

    dsi_pg_conn_release(c->conn);

    if (v >= DSI_PG_SCHEMA_MIN && v <= DSI_PG_SCHEMA
        && level >= DSI_PG_FUNCTIONS)
    {
        if (pgs->refused) {
            pgs->refused = 0;
            pgs->version = v;
            dsi_store_log(pgs->store, DS_LOG_NOTICE, "durable: store "
                          "\"%s\": the database's schema is version %d, "
                          "served again", pgs->store->name, v);

        } else if (pgs->version != v) {
            pgs->version = v;
            dsi_store_log(pgs->store, DS_LOG_INFO, "durable: store "
                          "\"%s\": the database's schema is version %d "
                          "(this nginx serves %d to %d)", pgs->store->name,
                          v, DSI_PG_SCHEMA_MIN, DSI_PG_SCHEMA);
        }

        return DS_OK;
    }

    if (v == 0) {
        snprintf(why, sizeof(why), "the database has no durable schema; "
                 "make it with \"durable schema init\"");

    } else if (v < DSI_PG_SCHEMA_MIN) {
        snprintf(why, sizeof(why), "the database's schema is version %d, "
                 "this nginx needs %d to %d; bring it up with \"durable "
                 "schema upgrade\"", v, DSI_PG_SCHEMA_MIN, DSI_PG_SCHEMA);

    } else if (v > DSI_PG_SCHEMA) {
        snprintf(why, sizeof(why), "the database's schema is version %d, "
                 "newer than this nginx knows (%d); upgrade the module", v,
                 DSI_PG_SCHEMA);

    } else {
        snprintf(why, sizeof(why), "the database's functions are of level "
                 "%d, older than this nginx's %d; run \"durable schema "
                 "upgrade\" of this nginx's release", level,
                 DSI_PG_FUNCTIONS);
    }

    if (!pgs->refused || strcmp(why, pgs->why) != 0) {
        dsi_store_log(pgs->store, DS_LOG_ALERT, "durable: store \"%s\": "
                      "%s", pgs->store->name, why);
        memcpy(pgs->why, why, sizeof(why));
        pgs->refused = 1;
    }

    /* closed, quietly: made again later to look again */
    host->cancel(host->data, &c->timer);
    host->cancel(host->data, &c->io);
    dsi_pgc_unwatch(c);
    dsi_pg_conn_close(c->conn);
    c->conn = NULL;
    c->state = DSI_PGC_DOWN;
    c->was_up = 0;
    host->timer(host->data, &c->timer, DSI_PGS_SCHEMA_MS);

    /* nothing else may take the queue: it is answered now */
    dsi_pgs_dispatch(pgs);

    return DS_SCHEMA;
}


/* the listener: one wake-up for what the step read, whatever the hubs */

static void
dsi_pgc_notified(dsi_pgc_t *c)
{
    int         n;
    char        payload[DSI_PGS_PAYLOAD];
    ds_host_t  *host;

    n = 0;

    while (dsi_pg_conn_notified(c->conn, payload, sizeof(payload))) {
        n++;
    }

    if (n == 0) {
        return;
    }

    dsi_store_log(c->pgs->store, DS_LOG_DEBUG, "durable store \"%s\": %d "
                  "notifications", c->pgs->store->name, n);

    host = &c->pgs->store->host;

    if (host->wake != NULL) {
        host->wake(host->data);
    }
}


/* the connection is closed, its batch answered, a connect comes later */

static void
dsi_pgc_fail(dsi_pgc_t *c, const char *why)
{
    char         reason[DS_STORE_LOG_LEN];
    ds_op_t     *op, *next;
    ds_host_t   *host;
    dsi_pgs_t   *pgs;

    pgs = c->pgs;
    host = &pgs->store->host;

    /* why may be the connection's own error text, freed with it below */
    snprintf(reason, sizeof(reason), "%s", why);
    why = reason;

    /* once per outage at err; the retries that fail too at info */
    dsi_store_log(pgs->store, c->was_up ? DS_LOG_ERR : DS_LOG_INFO,
                  "durable: store \"%s\": %s lost: %s", pgs->store->name,
                  c->listen ? "listener" : "connection", why);

    c->was_up = 0;
    c->checking = 0;

    dsi_pgc_batch_end(c);

    host->cancel(host->data, &c->timer);
    host->cancel(host->data, &c->io);
    dsi_pgc_unwatch(c);

    op = c->ops;
    c->ops = NULL;
    c->nops = 0;

    free(c->stmts);
    c->stmts = NULL;

    dsi_pg_conn_close(c->conn);
    c->conn = NULL;
    c->state = DSI_PGC_DOWN;

    host->timer(host->data, &c->timer, DSI_PGS_RETRY_MS);

    /* applied or not, nobody knows: the client retries */
    for ( /* void */ ; op; op = next) {
        next = op->next;
        op->next = NULL;

        dsi_pgs_answer_op(pgs, op, DS_UNAVAILABLE, why);
    }

    if (!c->listen) {
        dsi_pgs_dispatch(pgs);
    }
}


/* the host watches the socket for what the connection wants now */

static void
dsi_pgc_watch(dsi_pgc_t *c)
{
    int         fd;
    unsigned    what;
    ds_host_t  *host;

    host = &c->pgs->store->host;

    fd = c->conn ? dsi_pg_conn_fd(c->conn) : -1;
    what = fd >= 0 ? dsi_pg_conn_wants(c->conn) : 0;

    if (c->fd != -1 && c->fd != fd) {
        /* libpq closed the socket it had (a lost connection) */
        (void) host->watch(host->data, &c->io, c->fd, DS_WATCH_CLOSED);
        c->fd = -1;
        c->what = 0;
    }

    if (fd == -1 || (fd == c->fd && what == c->what)) {
        return;
    }

    if (host->watch(host->data, &c->io, fd, what) != 0) {
        c->fd = -1;
        c->what = 0;

        if (c->conn != NULL && c->state != DSI_PGC_DOWN) {
            dsi_pgc_fail(c, "the host cannot watch the socket");
        }

        return;
    }

    c->fd = what ? fd : -1;
    c->what = what;
}


/* before libpq may close or replace the socket */

static void
dsi_pgc_unwatch(dsi_pgc_t *c)
{
    int         fd;
    ds_host_t  *host;

    if (c->fd == -1) {
        return;
    }

    host = &c->pgs->store->host;
    fd = c->conn ? dsi_pg_conn_fd(c->conn) : -1;

    (void) host->watch(host->data, &c->io, c->fd,
                       fd == c->fd ? 0 : DS_WATCH_CLOSED);
    c->fd = -1;
    c->what = 0;
}


/* an op answered without a result: rc, and why for ds_op_error() */

static void
dsi_pgs_answer_op(dsi_pgs_t *pgs, ds_op_t *op, int rc, const char *err)
{
    dsi_pg_call_t     *call;
    dsi_pgs_answer_t   ans;

    call = op->backend;
    op->backend = NULL;

    ans.res = NULL;
    ans.err = err;
    ans.keep = NULL;

    op->rc = rc;
    op->backend = &ans;

    if (op->type == DS_OP_WORK_CLAIM && op->in.claim.begin != NULL) {
        op->out.claim.claimed = 0;
        op->out.claim.visible = INT64_MAX;
        op->in.claim.begin(op->in.claim.item_data);
    }

    /* as above: op may be gone, or submitted again */

    dsi_store_answer(pgs->store, op);

    if (call != NULL) {
        dsi_pg_call_free(call);
        free(call);
    }
}


static int
dsi_pgs_history(ds_op_t *op, ds_event_cb cb, void *data)
{
    dsi_pgs_answer_t  *ans = op->backend;

    if (ans == NULL || ans->res == NULL || op->rc != DS_OK) {
        return DS_INVALID;
    }

    /* the events stay until done() ends: the caller may keep them */
    return dsi_pg_op_history(ans->res, cb, data, &ans->keep);
}


static int
dsi_pgs_item_events(ds_op_t *op, const ds_work_item_t *item,
    ds_list_e list, ds_event_cb cb, void *data)
{
    return dsi_pg_op_item_events(op, item, list, cb, data);
}


static const char *
dsi_pgs_error(const ds_op_t *op)
{
    const dsi_pgs_answer_t  *ans = op->backend;

    if (ans != NULL && op->rc != DS_OK && ans->err != NULL) {
        return ans->err;
    }

    return ds_strerror(op->rc);
}


/* the figures of a STATS answer (durable.stats()), during its done() */

static int
dsi_pgs_counts_each(ds_op_t *op, ds_count_cb cb, void *data)
{
    const dsi_pgs_answer_t  *ans = op->backend;

    if (ans == NULL || ans->res == NULL || op->rc != DS_OK) {
        return DS_INVALID;
    }

    return dsi_pg_stats_each(ans->res, cb, data);
}


static int
dsi_pgs_ready_oldest(ds_op_t *op, ds_str_t hub, ds_work_kind_e kind,
    int64_t *at)
{
    const dsi_pgs_answer_t  *ans = op->backend;

    if (ans == NULL || ans->res == NULL || op->rc != DS_OK) {
        return DS_INVALID;
    }

    return dsi_pg_stats_oldest(ans->res, hub, kind, at);
}


static int
dsi_pgs_timers_total(ds_op_t *op, uint64_t *n)
{
    const dsi_pgs_answer_t  *ans = op->backend;

    if (ans == NULL || ans->res == NULL || op->rc != DS_OK) {
        return DS_INVALID;
    }

    return dsi_pg_stats_timers(ans->res, n);
}
