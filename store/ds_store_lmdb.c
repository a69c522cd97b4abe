/*
 * Copyright (C) ngx_durable authors
 *
 * The LMDB backend of ds_store_t: reads answered at once, writes by group
 * commit. Writes are queued in submit order and applied in batches: one
 * write txn (a failing op aborts only itself: ds_op_batch()), one commit,
 * so one fsync for the whole batch; each op is answered in the loop once
 * its batch is durable.
 *
 * With writes=thread one batch at a time runs as a host task (a thread of
 * nginx's pool): the loop never waits for fsync or for the write lock
 * another process holds. Once the task holds the write lock, the ops
 * that arrived while it waited for it (another process's commit, its
 * fsync) join its batch, up to the last submit that ended a run (a
 * request's ops stay together); ops that arrive later form the next
 * batch. So a write waits behind one commit at most, not two (one that
 * an answer submits may, below).
 * The next batch starts as soon as one is committed, before its ops are
 * answered, when no task of any process waits for the write lock (the
 * host's lock_waiters()): the thread applies the next while the loop
 * answers, rather than waiting for it (what the answers submit waits
 * for the next batch but one, unless the running one still waits for
 * the write lock and takes it). When another task waits, the next batch
 * starts after the answers, as the lock is not fair: a task asking for
 * it again at once could pass the waiting one, again and again.
 * If the host cannot run the task (no threads, a full queue), the batch
 * is applied in the loop rather than failed. With writes=loop the batch
 * runs in the loop after the events of its next iteration (a post with
 * next 1): what this iteration and that one submit is one batch, and an
 * op that an answer submits (a purge's next batch) waits for it, so other
 * clients are served in between. It first takes the host's commit gate;
 * while another process holds it, the batch waits an iteration more (a
 * millisecond, after a few tries), so the loop does not sleep on LMDB's
 * write lock while the host's other processes commit.
 *
 * With reads_later (tests of front ends), reads are answered after the
 * loop's events and the writes of a batch last first, as a network
 * backend may answer them.
 *
 * A sync=off store is flushed every flush_ms by a task, when anything was
 * written since the last flush; a host without threads does not flush
 * (the kernel does). A failed flush stops the writes, as with sync=on
 * (ds_env_sync()).
 */


#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_backend.h"
#include "ds_internal.h"


/* the writes a stopped store refuses: logged once a second at most */
int64_t  dsi_refused_log = 1000000;


/* writes=loop: gate tries posted to the next iteration before a timer */
#define DSI_LMDB_GATE_POSTS  3


/* what a batch took (µs) and what its claims' render after it did */

typedef struct {
    int64_t             took;
    int64_t             waited;         /* for the write lock */
    int64_t             committed;      /* in mdb_txn_commit */
    int64_t             rendered;       /* claimed items after it */
    dsi_claim_outcome_t outcome;        /* what those came to */
} dsi_lmdb_spent_t;


/* a committed batch, kept apart from the next one while it is answered */

typedef struct {
    ds_op_t            *ops;
    size_t              n;
    dsi_lmdb_spent_t    spent;
    int                 redone;
    char                error[DS_STORE_LOG_LEN];
} dsi_lmdb_done_t;


typedef struct {
    ds_store_t         *store;
    ds_env_t           *env;

    /* the queue: the task takes from it too, under mu */
    pthread_mutex_t     mu;
    ds_op_t            *queue;
    ds_op_t           **last;
    ds_op_t            *tail;
    ds_op_t            *cut;            /* the last op of a complete run */
    size_t              queued;

    ds_op_t            *batch;          /* being applied */
    ds_op_t            *batch_tail;
    size_t              batch_n;
    ds_op_t            *reads;          /* reads_later: to answer */
    ds_op_t           **reads_last;
    int64_t             flush_ms;
    ds_event_t          task;           /* a batch in a task */
    ds_event_t          apply;          /* a batch in the loop */
    ds_event_t          sync;           /* a flush in a task */
    ds_event_t          flush;          /* the flush timer */
    ds_event_t          read;           /* reads_later: answers them */
    ds_event_t          check;          /* the reader check timer */
    int64_t             check_ms;

    /* set by the task, read in the loop once it is done */
    dsi_lmdb_spent_t    spent;
    int                 redone;
    int                 sync_rc;
    int                 sync_errno;     /* of a failed flush */
    char                error[DS_STORE_LOG_LEN];  /* LMDB's, of a failure */

    unsigned            gate_waits;     /* tries since the gate was free */

    /* the writes the stop refused: dsi_lmdb_refused() */
    int64_t             refused_at;     /* last logged, ds_time_mono() */
    size_t              refused;        /* since, not logged */

    /*
     * set at open; the task reads it while the loop changes the flags
     * below, so it is not one of them (bits of one word)
     */
    unsigned            loop;           /* batches in the loop */
    int                 waiting;        /* the task told lock_wait() */

    unsigned            busy:1;         /* a batch is being applied */
    unsigned            answering:1;    /* a batch's ops are answered */
    unsigned            syncing:1;
    unsigned            dirty:1;        /* written since the last flush */
    unsigned            reads_later:1;
    unsigned            stop_logged:1;  /* writes stopped by a failed
                                           flush: logged, once */
} dsi_lmdb_t;


static int dsi_lmdb_open(ds_store_t *st, const ds_store_conf_t *conf,
    char *err, size_t errlen);
static void dsi_lmdb_submit(ds_store_t *st, ds_op_t *op, unsigned flags);
static int dsi_lmdb_readers(ds_store_t *st, unsigned *used, unsigned *max);
static int dsi_lmdb_reader_check(ds_store_t *st, int *dead);
static void dsi_lmdb_close(ds_store_t *st);
static void dsi_lmdb_post(dsi_lmdb_t *lm);
static void dsi_lmdb_take(dsi_lmdb_t *lm);
static void dsi_lmdb_untake(dsi_lmdb_t *lm);
static void dsi_lmdb_detach(dsi_lmdb_t *lm, dsi_lmdb_done_t *done);
static void dsi_lmdb_take_more(void *data);
static void dsi_lmdb_started(dsi_lmdb_t *lm, size_t n, const char *where);
static void dsi_lmdb_apply(dsi_lmdb_t *lm);
static void dsi_lmdb_answer(dsi_lmdb_t *lm, dsi_lmdb_done_t *done);
static void dsi_lmdb_reverse(dsi_lmdb_done_t *done);
static void dsi_lmdb_task_work(ds_event_t *ev);
static void dsi_lmdb_task_done(ds_event_t *ev);
static void dsi_lmdb_apply_handler(ds_event_t *ev);
static void dsi_lmdb_stop_log(dsi_lmdb_t *lm);
static void dsi_lmdb_refused(dsi_lmdb_t *lm, size_t refused, size_t n,
    const char *error);
static void dsi_lmdb_flush_handler(ds_event_t *ev);
static void dsi_lmdb_sync_work(ds_event_t *ev);
static void dsi_lmdb_sync_done(ds_event_t *ev);
static void dsi_lmdb_read(dsi_lmdb_t *lm, ds_op_t *op);
static void dsi_lmdb_read_handler(ds_event_t *ev);
static void dsi_lmdb_check_handler(ds_event_t *ev);
static int dsi_lmdb_history(ds_op_t *op, ds_event_cb cb, void *data);
static int dsi_lmdb_item_events(ds_op_t *op, const ds_work_item_t *item,
    ds_list_e list, ds_event_cb cb, void *data);
static const char *dsi_lmdb_error(const ds_op_t *op);
static int dsi_lmdb_counts_each(ds_op_t *op, ds_count_cb cb, void *data);
static int dsi_lmdb_ready_oldest(ds_op_t *op, ds_str_t hub,
    ds_work_kind_e kind, int64_t *at);
static int dsi_lmdb_timers_total(ds_op_t *op, uint64_t *n);
static int dsi_lmdb_space(ds_op_t *op, ds_space_t *sp);
static int dsi_lmdb_snapshot(ds_op_t *op, ds_snapshot_t *snap);


const dsi_backend_t  dsi_backend_lmdb = {
    "lmdb",
    dsi_lmdb_open,
    dsi_lmdb_submit,
    dsi_lmdb_readers,
    dsi_lmdb_reader_check,
    dsi_lmdb_close,
    dsi_lmdb_history,
    dsi_lmdb_item_events,
    dsi_lmdb_error,
    dsi_lmdb_counts_each,
    dsi_lmdb_ready_oldest,
    dsi_lmdb_timers_total,
    dsi_lmdb_space,
    dsi_lmdb_snapshot
};


static int
dsi_lmdb_open(ds_store_t *st, const ds_store_conf_t *conf, char *err,
    size_t errlen)
{
    int            rc;
    ds_host_t     *host;
    dsi_lmdb_t    *lm;
    ds_env_conf_t  env;

    host = &st->host;

    lm = calloc(1, sizeof(dsi_lmdb_t));
    if (lm == NULL) {
        snprintf(err, errlen, "out of memory");
        return DS_ERROR;
    }

    if (pthread_mutex_init(&lm->mu, NULL) != 0) {
        snprintf(err, errlen, "pthread_mutex_init() failed");
        free(lm);
        return DS_ERROR;
    }

    lm->store = st;
    lm->last = &lm->queue;
    lm->reads_last = &lm->reads;
    lm->loop = (conf->writes == DS_WRITES_LOOP || host->run == NULL);
    lm->reads_later = (conf->reads_later != 0);

    lm->task.work = dsi_lmdb_task_work;
    lm->task.handler = dsi_lmdb_task_done;
    lm->apply.handler = dsi_lmdb_apply_handler;
    lm->sync.work = dsi_lmdb_sync_work;
    lm->sync.handler = dsi_lmdb_sync_done;
    lm->flush.handler = dsi_lmdb_flush_handler;
    lm->read.handler = dsi_lmdb_read_handler;
    lm->check.handler = dsi_lmdb_check_handler;

    lm->task.data = lm;
    lm->apply.data = lm;
    lm->sync.data = lm;
    lm->flush.data = lm;
    lm->read.data = lm;
    lm->check.data = lm;

    if (host->init(host->data, &lm->task) != 0
        || host->init(host->data, &lm->apply) != 0
        || host->init(host->data, &lm->sync) != 0
        || host->init(host->data, &lm->flush) != 0
        || host->init(host->data, &lm->read) != 0
        || host->init(host->data, &lm->check) != 0)
    {
        snprintf(err, errlen, "out of memory");
        (void) pthread_mutex_destroy(&lm->mu);
        free(lm);
        return DS_ERROR;
    }

    /*
     * read txns in the loop, write txns in pool threads: not bound to a
     * thread; only the loop begins read txns, so one reset reader is
     * reused
     */

    env = conf->env;
    env.no_tls = 1;
    env.reuse_reader = 1;

    rc = ds_env_open(&lm->env, &env, err, errlen);
    if (rc != DS_OK) {
        (void) pthread_mutex_destroy(&lm->mu);
        free(lm);
        return rc;
    }

    st->be = lm;

    /* relaxed durability: flushed in a task now and then */

    if (conf->env.sync == DS_SYNC_NONE && conf->flush_ms > 0
        && host->run != NULL)
    {
        lm->flush_ms = conf->flush_ms;
        host->timer(host->data, &lm->flush, lm->flush_ms);
    }

    /*
     * a process killed inside a read txn leaves its reader slot behind;
     * opening the env clears such slots, and so does this timer, for the
     * slots of processes killed later
     */

    if (conf->reader_check_ms > 0) {
        lm->check_ms = conf->reader_check_ms;
        host->timer(host->data, &lm->check, lm->check_ms);
    }

    dsi_store_log(st, DS_LOG_DEBUG, "durable store \"%s\": writes in %s",
                  st->name, lm->loop ? "the loop" : "a thread");

    return DS_OK;
}


static void
dsi_lmdb_close(ds_store_t *st)
{
    ds_host_t   *host;
    dsi_lmdb_t  *lm;

    lm = st->be;
    host = &st->host;

    host->cancel(host->data, &lm->flush);
    host->cancel(host->data, &lm->apply);
    host->cancel(host->data, &lm->read);
    host->cancel(host->data, &lm->check);

    ds_env_close(lm->env);
    (void) pthread_mutex_destroy(&lm->mu);
    free(lm);
    st->be = NULL;
}


static int
dsi_lmdb_readers(ds_store_t *st, unsigned *used, unsigned *max)
{
    dsi_lmdb_t  *lm = st->be;

    return ds_env_readers(lm->env, used, max);
}


static int
dsi_lmdb_reader_check(ds_store_t *st, int *dead)
{
    dsi_lmdb_t  *lm = st->be;

    return ds_env_reader_check(lm->env, dead);
}


/*
 * A read and its done(); one turned away while this process adopts the
 * map another process grew (DS_UNAVAILABLE: its client gets 503 with
 * Retry-After) says so at info, as nothing else would.
 */

static void
dsi_lmdb_read(dsi_lmdb_t *lm, ds_op_t *op)
{
    if (ds_op_read(lm->env, op) == DS_UNAVAILABLE) {
        dsi_store_log(lm->store, DS_LOG_INFO, "durable: a read of store "
                      "\"%s\" answered unavailable: this process adopts "
                      "the map another process grew with a later txn",
                      lm->store->name);
    }
}


static void
dsi_lmdb_submit(ds_store_t *st, ds_op_t *op, unsigned flags)
{
    dsi_lmdb_t  *lm = st->be;

    size_t  queued;

    if (dsi_op_is_read(op->type)) {

        if (!lm->reads_later) {
            /* the map is at hand: done() runs in the read txn, now */
            dsi_lmdb_read(lm, op);

        } else {
            /* as a network backend: the answer comes after this event */

            dsi_store_take(st, op);

            op->next = NULL;
            *lm->reads_last = op;
            lm->reads_last = &op->next;

            st->host.post(st->host.data, &lm->read, 0);
        }

        /* any submit without MORE ends a run of writes held with it */

        if (!(flags & DS_SUBMIT_MORE)) {
            (void) pthread_mutex_lock(&lm->mu);
            lm->cut = lm->tail;
            (void) pthread_mutex_unlock(&lm->mu);

            dsi_lmdb_post(lm);
        }

        return;
    }

    dsi_store_take(st, op);

    op->next = NULL;

    (void) pthread_mutex_lock(&lm->mu);

    *lm->last = op;
    lm->last = &op->next;
    lm->tail = op;
    queued = ++lm->queued;

    if (!(flags & DS_SUBMIT_MORE)) {
        lm->cut = op;
    }

    (void) pthread_mutex_unlock(&lm->mu);

    dsi_store_log(st, DS_LOG_DEBUG, "durable store \"%s\": queued %s, "
                  "%zu in the queue%s, op:%0*" PRIXPTR, st->name,
                  ds_op_what(op->type), queued,
                  (flags & DS_SUBMIT_MORE) ? ", more follow" : "",
                  DSI_PTR_WIDTH, (uintptr_t) op);

    if (!(flags & DS_SUBMIT_MORE)) {
        dsi_lmdb_post(lm);
    }
}


/* starts a batch of what is queued, unless one is applied already */

static void
dsi_lmdb_post(dsi_lmdb_t *lm)
{
    size_t            n;
    ds_host_t        *host;
    dsi_lmdb_done_t   done;

    /*
     * a batch in a task takes what is queued while it waits for the
     * write lock, and its end posts the rest: the queue is the task's
     * meanwhile; while a batch is answered, what the answers submit
     * gathers, posted once the last is answered
     */

    if (!lm->loop && (lm->busy || lm->answering)) {
        return;
    }

    if (lm->queue == NULL) {
        return;
    }

    host = &lm->store->host;

    if (lm->loop) {
        host->post(host->data, &lm->apply, 1);
        return;
    }

    do {
        dsi_lmdb_take(lm);

        lm->busy = 1;

        /* the task may add to batch_n at once: its size now, for the log */
        n = lm->batch_n;

        if (host->run(host->data, &lm->task) == 0) {
            dsi_lmdb_started(lm, n, "a thread");
            return;
        }

        /*
         * the host cannot run it now (a full queue): apply here rather
         * than fail the ops; busy, so that what answers submit waits for
         * this loop
         */

        dsi_lmdb_started(lm, n, "the loop, with no thread for it");

        dsi_lmdb_apply(lm);
        dsi_lmdb_detach(lm, &done);
        dsi_lmdb_answer(lm, &done);

        lm->busy = 0;

    } while (lm->queue);
}


static void
dsi_lmdb_take(dsi_lmdb_t *lm)
{
    (void) pthread_mutex_lock(&lm->mu);

    lm->batch = lm->queue;
    lm->batch_tail = lm->tail;
    lm->batch_n = lm->queued;
    lm->queue = NULL;
    lm->last = &lm->queue;
    lm->tail = NULL;
    lm->cut = NULL;
    lm->queued = 0;

    (void) pthread_mutex_unlock(&lm->mu);
}


/*
 * The taken batch back in the queue, when no thread could take it: only
 * in the loop, right after dsi_lmdb_take() and with no task running, so
 * the queue is still empty.
 */

static void
dsi_lmdb_untake(dsi_lmdb_t *lm)
{
    (void) pthread_mutex_lock(&lm->mu);

    lm->queue = lm->batch;
    lm->last = &lm->batch_tail->next;
    lm->tail = lm->batch_tail;
    lm->queued = lm->batch_n;

    lm->batch = NULL;
    lm->batch_tail = NULL;
    lm->batch_n = 0;

    (void) pthread_mutex_unlock(&lm->mu);
}


/* the applied batch and its outcome, out of the way of the next one */

static void
dsi_lmdb_detach(dsi_lmdb_t *lm, dsi_lmdb_done_t *done)
{
    done->ops = lm->batch;
    done->n = lm->batch_n;
    done->spent = lm->spent;
    done->redone = lm->redone;

    if (lm->error[0] != '\0') {
        memcpy(done->error, lm->error, sizeof(done->error));
        lm->error[0] = '\0';

    } else {
        done->error[0] = '\0';
    }

    lm->batch = NULL;
    lm->batch_tail = NULL;
    lm->batch_n = 0;
}


/*
 * In the batch's thread, the write lock held: the complete runs queued
 * since the batch was taken join it (a run still being submitted, after
 * lm->cut, stays for the next batch).
 */

static void
dsi_lmdb_take_more(void *data)
{
    dsi_lmdb_t  *lm = data;

    size_t      n;
    ds_op_t    *op;
    ds_host_t  *host;

    /* the write lock is held: no longer waiting for it */

    host = &lm->store->host;

    if (lm->waiting) {
        lm->waiting = 0;
        host->lock_wait(host->data, 0);
    }

    (void) pthread_mutex_lock(&lm->mu);

    if (lm->cut != NULL && lm->batch_tail != NULL) {
        n = 1;

        for (op = lm->queue; op != lm->cut; op = op->next) {
            n++;
        }

        lm->batch_tail->next = lm->queue;
        lm->batch_tail = lm->cut;
        lm->batch_n += n;

        lm->queue = lm->cut->next;
        lm->cut->next = NULL;
        lm->queued -= n;

        if (lm->queue == NULL) {
            lm->last = &lm->queue;
            lm->tail = NULL;
        }

        lm->cut = NULL;
    }

    (void) pthread_mutex_unlock(&lm->mu);
}


/* logged once the batch runs where it says, not before */

static void
dsi_lmdb_started(dsi_lmdb_t *lm, size_t n, const char *where)
{
    dsi_store_log(lm->store, DS_LOG_DEBUG, "durable store \"%s\": batch "
                  "of %zu started in %s", lm->store->name, n, where);
}


/* the batch, applied and committed where it runs (maybe a thread) */

static void
dsi_lmdb_apply(dsi_lmdb_t *lm)
{
    int64_t         start, end;
    ds_host_t      *host;
    dsi_op_times_t  t;

    /* a monotonic clock: a step of the wall clock makes no wait */
    start = ds_time_mono();
    memset(&t, 0, sizeof(dsi_op_times_t));

    host = &lm->store->host;
    lm->waiting = (host->lock_wait != NULL && !lm->loop);

    if (lm->waiting) {
        host->lock_wait(host->data, 1);
    }

    lm->redone = dsi_op_batch_more(lm->env, lm->batch,
                                   lm->loop ? NULL : dsi_lmdb_take_more,
                                   lm, &t, lm->error, sizeof(lm->error));

    if (lm->waiting) {
        lm->waiting = 0;
        host->lock_wait(host->data, 0);
    }

    /* to the commit's end: the rendering of claimed items after it is not */
    end = t.committed ? t.committed : ds_time_mono();
    lm->spent.took = end > start ? end - start : 0;

    /* the split of took for the debug log: no commit, none counted */
    lm->spent.waited = t.locked > start ? t.locked - start : 0;
    lm->spent.committed = (t.applied && end > t.applied)
                          ? end - t.applied : 0;
    lm->spent.rendered = t.rendered > end ? t.rendered - end : 0;
    lm->spent.outcome = t.outcome;
}


/* in the loop: the batch's outcome is logged and each op answered */

static void
dsi_lmdb_answer(dsi_lmdb_t *lm, dsi_lmdb_done_t *done)
{
    int                   wake;
    size_t                applied, refused, failed, unavailable, stopped;
    ds_op_t              *op, *next;
    ds_host_t            *host;
    ds_store_t           *st;
    dsi_lmdb_spent_t     *sp;
    dsi_claim_outcome_t  *oc;

    st = lm->store;
    host = &st->host;
    sp = &done->spent;
    oc = &sp->outcome;

    applied = 0;
    refused = 0;
    failed = 0;
    unavailable = 0;
    stopped = 0;
    wake = 0;

    for (op = done->ops; op; op = op->next) {
        if (op->rc == DS_OK) {
            applied++;
            wake |= ds_op_wakes(op->type);

        } else if (op->rc == DS_UNAVAILABLE) {
            unavailable++;
            refused++;

        } else if (op->rc == DS_STOPPED) {
            stopped++;
            refused++;

        } else if (op->rc == DS_FULL || op->rc == DS_ERROR) {
            failed++;
            dsi_store_log(st, DS_LOG_DEBUG, "durable store \"%s\": %s "
                          "failed: %s", st->name, ds_op_what(op->type),
                          ds_strerror(op->rc));

        } else {
            refused++;
        }
    }

    /*
     * the text the ops' answers cannot carry, once for the batch: a
     * failure each time (the batch whose flush stopped the store's writes
     * too), the writes the stop refused once a second with their count
     */

    if (failed && done->error[0] != '\0') {
        dsi_store_log(st, DS_LOG_ERR, "durable: %zu of a batch of %zu "
                      "writes to store \"%s\" failed: %s", failed,
                      done->n, st->name, done->error);
    }

    if (oc->kept) {
        dsi_store_log(st, DS_LOG_ERR, "durable: giving back %zu claimed "
                      "items after a batch of %zu writes to store \"%s\" "
                      "failed, claimable again when their leases run out: "
                      "%s", oc->kept, done->n, st->name, oc->kept_error);
    }

    if (stopped) {
        dsi_lmdb_refused(lm, stopped, done->n, done->error);
    }

    if ((failed || stopped) && dsi_env_stopped(lm->env)) {
        dsi_lmdb_stop_log(lm);
    }

    if (unavailable && done->error[0] != '\0') {
        /* at info: clients get 503 with Retry-After, and retry */
        dsi_store_log(st, DS_LOG_INFO, "durable: %zu of a batch of %zu "
                      "writes to store \"%s\" answered unavailable: %s",
                      unavailable, done->n, st->name, done->error);
    }

    if (done->redone) {
        /* at info: nested txns cost more, an operator may ask why */
        dsi_store_log(st, DS_LOG_INFO, "durable: a write failed in a "
                      "batch of %zu writes to store \"%s\": the batch was "
                      "redone, each write in a nested txn", done->n,
                      st->name);
    }

    dsi_store_log(st, DS_LOG_DEBUG, "durable store \"%s\": batch of %zu "
                  "applied in %lldus (write lock waited %lldus, commit "
                  "%lldus): %zu ok, %zu refused, %zu failed", st->name,
                  done->n, (long long) sp->took,
                  (long long) sp->waited, (long long) sp->committed,
                  applied, refused, failed);

    if (oc->rendered || oc->left_out || oc->given_back) {
        dsi_store_log(st, DS_LOG_DEBUG, "durable store \"%s\": %zu "
                      "claimed items rendered after the commit in %lldus, "
                      "%zu left out (ended or changed since the claim), "
                      "%zu given back", st->name, oc->rendered,
                      (long long) sp->rendered, oc->left_out,
                      oc->given_back);
    }

    if (applied) {
        dsi_store_log(st, DS_LOG_DEBUG, "durable store \"%s\": batch of "
                      "%zu committed", st->name, done->n);

        lm->dirty = 1;

        if (host->applied != NULL) {
            host->applied(host->data, applied, sp->took, sp->waited);
        }
    }

    /*
     * waiting claims and status polls look again: once for the batch;
     * claimed items given back after the commit are claimable again
     */

    if ((wake || oc->given_back) && host->wake != NULL) {
        host->wake(host->data);
    }

    /* each op is answered now, in the order it was submitted */

    dsi_store_log(st, DS_LOG_DEBUG, "durable batch of %zu writes to store "
                  "\"%s\" done", done->n, st->name);

    st->batch = done->n;

    if (lm->reads_later) {
        /* as a network backend may: in another order, here the reverse */
        dsi_lmdb_reverse(done);
    }

    for (op = done->ops, done->ops = NULL; op; op = next) {
        next = op->next;
        op->next = NULL;

        dsi_store_log(st, DS_LOG_DEBUG, "durable store \"%s\": answers "
                      "%s, rc:%d, op:%0*" PRIXPTR, st->name,
                      ds_op_what(op->type), op->rc, DSI_PTR_WIDTH,
                      (uintptr_t) op);

        dsi_store_answer(st, op);
    }

    st->batch = 0;
}


static void
dsi_lmdb_reverse(dsi_lmdb_done_t *done)
{
    ds_op_t  *op, *next, *first;

    first = NULL;

    for (op = done->ops; op; op = next) {
        next = op->next;
        op->next = first;
        first = op;
    }

    done->ops = first;
}


/*
 * In the thread, a long write lets the loop have the core now and then
 * (dsi_txn_give_way()); a batch the loop applies itself, when no thread
 * could take it, does not. Only this batch's write txns read the flag,
 * and one batch runs at a time.
 */

static void
dsi_lmdb_task_work(ds_event_t *ev)
{
    dsi_lmdb_t  *lm = ev->data;

    lm->env->give_way = 1;
    dsi_lmdb_apply(lm);
    lm->env->give_way = 0;
}


static void
dsi_lmdb_task_done(ds_event_t *ev)
{
    dsi_lmdb_t  *lm = ev->data;

    size_t            n;
    ds_host_t        *host;
    dsi_lmdb_done_t   done;

    host = &lm->store->host;

    dsi_lmdb_detach(lm, &done);

    lm->busy = 0;

    /*
     * what arrived meanwhile is the next batch, applied in the thread
     * while this one is answered here (if no thread can take it now,
     * it is put back and posted after the answers)
     */

    if (lm->queue != NULL
        && (host->lock_waiters == NULL
            || host->lock_waiters(host->data) == 0))
    {
        dsi_lmdb_take(lm);

        lm->busy = 1;
        n = lm->batch_n;

        if (host->run(host->data, &lm->task) == 0) {
            dsi_lmdb_started(lm, n, "a thread");

        } else {
            lm->busy = 0;
            dsi_lmdb_untake(lm);
        }
    }

    lm->answering = 1;
    dsi_lmdb_answer(lm, &done);
    lm->answering = 0;

    dsi_lmdb_post(lm);
}


/* a batch in the loop: what the last two iterations' events submitted */

static void
dsi_lmdb_apply_handler(ds_event_t *ev)
{
    int               gate;
    ds_host_t        *host;
    dsi_lmdb_t       *lm;
    dsi_lmdb_done_t   done;

    lm = ev->data;
    host = &lm->store->host;

    if (lm->queue == NULL) {
        /* a gate timer after a post took the batch, or the reverse */
        return;
    }

    gate = host->gate_try ? host->gate_try(host->data) : -1;

    if (gate == 0) {
        /*
         * another process commits: serve clients meanwhile, try again;
         * a post to the next iteration polls without waiting, so after
         * a few tries wait a millisecond instead of spinning the CPU
         */

        lm->gate_waits++;

        dsi_store_log(lm->store, DS_LOG_DEBUG, "durable store \"%s\": "
                      "another process commits, try %u", lm->store->name,
                      lm->gate_waits);

        if (lm->gate_waits < DSI_LMDB_GATE_POSTS) {
            host->post(host->data, &lm->apply, 1);

        } else {
            host->timer(host->data, &lm->apply, 1);
        }

        return;
    }

    lm->gate_waits = 0;

    dsi_lmdb_take(lm);
    dsi_lmdb_started(lm, lm->batch_n, "the loop");
    dsi_lmdb_apply(lm);

    if (gate == 1) {
        host->gate_release(host->data);
    }

    /* ops that answers submit are posted as the next batch */
    dsi_lmdb_detach(lm, &done);
    dsi_lmdb_answer(lm, &done);
}


/*
 * A failed flush, of this process or another, stops the store's writes
 * (ds_env.c): once in each process, an alert says what to do
 */

static void
dsi_lmdb_stop_log(dsi_lmdb_t *lm)
{
    if (lm->stop_logged) {
        return;
    }

    lm->stop_logged = 1;

    dsi_store_log(lm->store, DS_LOG_ALERT, "durable: store \"%s\" takes no "
                  "writes from now on: a flush of it failed, in this "
                  "process or another, so what is on disk may be behind "
                  "what was committed; stop nginx, check the store "
                  "(durable check) before starting it again",
                  lm->store->name);
}


/*
 * The writes of a stopped store are refused (DS_STOPPED), each batch of
 * them, as long as the process runs: under load a line for each would
 * flood the log. The first is logged at once, then one at most every
 * dsi_refused_log µs, with the count of the writes refused since the
 * last (those of batches not logged wait for the next that is).
 */

static void
dsi_lmdb_refused(dsi_lmdb_t *lm, size_t refused, size_t n,
    const char *error)
{
    int64_t      now;
    ds_store_t  *st;

    st = lm->store;
    now = ds_time_mono();

    if (lm->refused_at != 0 && now - lm->refused_at < dsi_refused_log) {
        lm->refused += refused;
        return;
    }

    if (error[0] == '\0') {
        error = ds_strerror(DS_STOPPED);
    }

    if (lm->refused == 0) {
        dsi_store_log(st, DS_LOG_ERR, "durable: %zu of a batch of %zu "
                      "writes to store \"%s\" refused: %s", refused, n,
                      st->name, error);

    } else {
        dsi_store_log(st, DS_LOG_ERR, "durable: %zu of a batch of %zu "
                      "writes to store \"%s\" refused, and %zu more since "
                      "the last such line (one a second at most): %s",
                      refused, n, st->name, lm->refused, error);
    }

    lm->refused_at = now ? now : 1;
    lm->refused = 0;
}


static void
dsi_lmdb_flush_handler(ds_event_t *ev)
{
    ds_host_t   *host;
    dsi_lmdb_t  *lm;

    lm = ev->data;
    host = &lm->store->host;

    if (lm->dirty && !lm->syncing
        && host->run(host->data, &lm->sync) == 0)
    {
        lm->dirty = 0;
        lm->syncing = 1;

        /* busy until it ends: the env must not be closed under the task */
        dsi_store_take(lm->store, NULL);
    }

    host->timer(host->data, &lm->flush, lm->flush_ms);
}


static void
dsi_lmdb_sync_work(ds_event_t *ev)
{
    dsi_lmdb_t  *lm = ev->data;

    lm->sync_rc = ds_env_sync(lm->env);
    lm->sync_errno = (lm->sync_rc == DS_OK) ? 0 : errno;
}


static void
dsi_lmdb_sync_done(ds_event_t *ev)
{
    dsi_lmdb_t  *lm = ev->data;

    lm->syncing = 0;
    dsi_store_answered(lm->store, NULL);

    dsi_store_log(lm->store, DS_LOG_DEBUG, "durable store \"%s\" flushed: "
                  "%d", lm->store->name, lm->sync_rc);

    if (lm->sync_rc == DS_OK) {
        return;
    }

    /* the writes stop as with sync=on (ds_env_sync()): said once here */

    dsi_store_log(lm->store, DS_LOG_ALERT, "durable: flushing store \"%s\" "
                  "failed: %s", lm->store->name,
                  lm->sync_errno ? strerror(lm->sync_errno)
                                 : ds_strerror(lm->sync_rc));

    dsi_lmdb_stop_log(lm);
}


static void
dsi_lmdb_check_handler(ds_event_t *ev)
{
    int          dead;
    dsi_lmdb_t  *lm;

    lm = ev->data;
    dead = 0;

    if (ds_env_reader_check(lm->env, &dead) != DS_OK) {
        dsi_store_log(lm->store, DS_LOG_ALERT, "durable: store \"%s\": "
                      "mdb_reader_check() failed", lm->store->name);

    } else if (dead) {
        dsi_store_log(lm->store, DS_LOG_NOTICE, "durable: store \"%s\": "
                      "cleared %d stale reader slot(s)", lm->store->name,
                      dead);
    }

    lm->store->host.timer(lm->store->host.data, &lm->check, lm->check_ms);
}


/* reads_later: what was submitted before this event, answered now */

static void
dsi_lmdb_read_handler(ds_event_t *ev)
{
    ds_op_t     *op, *next;
    dsi_lmdb_t  *lm;

    lm = ev->data;

    op = lm->reads;
    lm->reads = NULL;
    lm->reads_last = &lm->reads;

    dsi_store_log(lm->store, DS_LOG_DEBUG, "durable store \"%s\": reads "
                  "answered later", lm->store->name);

    for ( /* void */ ; op; op = next) {
        next = op->next;
        op->next = NULL;

        dsi_lmdb_read(lm, op);
        dsi_store_answered(lm->store, op);
    }
}


/*
 * What done() reads of an answer: op->backend is the read txn of
 * ds_op_read() (or a claim's write txn during its item callback), and
 * means nothing outside of them (ds_op_read() cannot clear it: done()
 * may have freed op).
 */

static int
dsi_lmdb_history(ds_op_t *op, ds_event_cb cb, void *data)
{
    if (op->backend == NULL) {
        return DS_INVALID;
    }

    return ds_history_read(op->backend, op->hub, op->in.control.id, cb,
                           data);
}


static int
dsi_lmdb_item_events(ds_op_t *op, const ds_work_item_t *item,
    ds_list_e list, ds_event_cb cb, void *data)
{
    ds_txn_t  *txn;

    txn = op->backend;

    if (txn == NULL) {
        return DS_INVALID;
    }

    switch (list) {

    case DS_LIST_HISTORY:
        return ds_history_read(txn, op->hub, item->id, cb, data);

    case DS_LIST_MESSAGES:
        /* exactly what the completion will consume */
        return ds_inbox_read_upto(txn, op->hub, item->id, item->upto, cb,
                                  data);

    default:
        return ds_entity_read_ops(txn, op->hub, item->name, item->key,
                                  item->upto, cb, data);
    }
}


static const char *
dsi_lmdb_error(const ds_op_t *op)
{
    if (op->rc == DS_ERROR && op->backend != NULL) {
        return ds_txn_error(op->backend);
    }

    return ds_strerror(op->rc);
}


static int
dsi_lmdb_counts_each(ds_op_t *op, ds_count_cb cb, void *data)
{
    if (op->backend == NULL) {
        return DS_INVALID;
    }

    return ds_counts_each(op->backend, cb, data);
}


static int
dsi_lmdb_ready_oldest(ds_op_t *op, ds_str_t hub, ds_work_kind_e kind,
    int64_t *at)
{
    if (op->backend == NULL) {
        return DS_INVALID;
    }

    return ds_ready_oldest(op->backend, hub, kind, at);
}


static int
dsi_lmdb_timers_total(ds_op_t *op, uint64_t *n)
{
    if (op->backend == NULL) {
        return DS_INVALID;
    }

    return ds_timers_total(op->backend, n);
}


static int
dsi_lmdb_space(ds_op_t *op, ds_space_t *sp)
{
    if (op->backend == NULL) {
        return DS_INVALID;
    }

    return ds_txn_space(op->backend, sp);
}


static int
dsi_lmdb_snapshot(ds_op_t *op, ds_snapshot_t *snap)
{
    if (op->backend == NULL) {
        return DS_INVALID;
    }

    return dsi_txn_snapshot(op->backend, snap);
}
