/*
 * Copyright (C) ngx_durable authors
 *
 * ds_store_t with a fake host: a loop that the test turns by hand, tasks
 * run in it (work, then handler), a commit gate the test can hold. Checks
 * the contract of durable_store.h: batching, refusals that do not fail
 * their neighbours, done() exactly once, the busy count, thread and loop
 * mode, reads answered before submit returns (or after the event, with
 * reads_later), the flush of sync=off.
 */


#include <errno.h>
#include <stdlib.h>

#include "t.h"
#include "../ds_backend.h"
#include "../ds_internal.h"


#define T_EVENTS    8


typedef struct {
    ds_event_t     *ev;
    int             posted;
    int             next;           /* posted for the next iteration */
    int             armed;          /* timer */
    int             task;           /* run() */
    int             worked;         /* its work() ran in run() */
} t_fake_ev_t;


typedef struct {
    t_fake_ev_t     evs[T_EVENTS];
    size_t          nevs;
    int             threads;        /* run() works */
    int             refuse_run;     /* run() answers -1 so many times */
    int             run_now;        /* run() runs work() at once, as a
                                       thread that races ahead would */
    int             gate_held;      /* gate_try() answers 0 so often */
    size_t          gate_taken;
    size_t          gate_released;
    int             lock_waiting;   /* lock_wait()'s last on */
    size_t          lock_waits;     /* lock_wait() calls with on 1 */
    int             others_wait;    /* another process's task waits */
    int             begun_waiting;  /* lock_waiting in a claim's begin */
    size_t          tasks;          /* run() accepted */
    size_t          wakes;
    size_t          applied_calls;
    size_t          applied_ops;
    int             pending;
    size_t          pending_calls;
    size_t          lines;          /* debug lines */
    size_t          batch_lines;    /* "batch of" */
    size_t          err_lines;      /* at DS_LOG_ERR */
    char            err[256];       /* the last of them */
    size_t          alert_lines;    /* at DS_LOG_ALERT */
    char            alert[256];     /* the last of them */
} t_host_t;


typedef struct {
    ds_op_t         op;
    ds_store_t     *st;
    t_host_t       *h;
    size_t          done;
    size_t          batch;          /* ds_store_batch() during done() */
    size_t          busy;           /* ds_store_busy() during done() */
    size_t          tasks;          /* the host's tasks during done() */
    size_t          seq;            /* the order answers came in, from 1 */
    size_t          then_tasks;     /* the host's tasks after then went */
    ds_op_t        *then;           /* submitted by done() */
    ds_instance_t   inst;           /* a read's, copied in done() */
} t_sop_t;


static void t_store_threads(void);
static void t_store_join(void);
static void t_store_refusal(void);
static void t_store_reads(void);
static void t_store_loop(void);
static void t_store_no_thread(void);
static void t_store_chain(void);
static void t_submit_pair(ds_store_t *st, t_host_t *h, t_sop_t *a,
    t_sop_t *b, const char *a_id, const char *b_id);
static void t_store_overlap(void);
static void t_store_answers_gather(void);
static void t_store_overlap_refused(void);
static void t_store_overlap_raced(void);
static void t_store_overlap_waiters(void);
static void t_store_overlap_no_lock_cb(void);
static void t_store_lock_told_held(void);
static void t_store_given_back_wakes(void);
static void t_store_given_back_kept(void);
static void t_store_flush(void);
static void t_store_flush_fails(void);
static void t_store_stopped_log(void);
static void t_store_late_reads(void);
static void t_store_read_freed(void);
static void t_store_more_read(void);
static void t_store_gate_timer(void);
static void t_store_error_text(void);
static void t_store_accessors(void);
static void t_store_reader_check(void);
static void t_store_late_order(void);
static void t_store_give_way(void);
static int t_store_yield(void);
static void t_order_done(ds_op_t *op);
static void t_acc_done(ds_op_t *op);
static int t_acc_history(ds_op_t *op, ds_event_cb cb, void *data);
static const char *t_acc_error(const ds_op_t *op);
static int t_acc_space(ds_op_t *op, ds_space_t *sp);
static void t_store_freeing_done(ds_op_t *op);
static ds_store_t *t_store_open(t_host_t *h, const char *dir,
    ds_writes_e writes, ds_sync_e sync, int64_t flush_ms);
static ds_store_t *t_store_open_stop(t_host_t *h, const char *dir,
    ds_writes_e writes, ds_sync_e sync, int64_t flush_ms, int *stop);
static ds_store_t *t_store_open_conf(t_host_t *h, ds_store_conf_t *conf);
static void t_turn(t_host_t *h);
static void t_claim(t_sop_t *s, ds_store_t *st, t_host_t *h,
    const uint8_t *tokens, ds_op_item_pt item);
static void t_claim_fails(t_sop_t *s, ds_store_t *st, t_host_t *h,
    const uint8_t *tokens, const char *id, size_t *wakes, size_t *errs);
static void t_start(t_sop_t *s, ds_store_t *st, t_host_t *h,
    const char *id);
static void t_done(ds_op_t *op);
static int t_h_init(void *host, ds_event_t *ev);
static int t_h_run(void *host, ds_event_t *ev);
static void t_h_post(void *host, ds_event_t *ev, int next);
static void t_h_timer(void *host, ds_event_t *ev, int64_t ms);
static void t_h_cancel(void *host, ds_event_t *ev);
static int t_h_gate_try(void *host);
static void t_h_gate_release(void *host);
static void t_h_wake(void *host);
static void t_h_pending(void *host, int any);
static void t_h_applied(void *host, size_t n, int64_t us, int64_t waited);
static void t_h_log(void *host, ds_log_e level, const char *msg);
static void t_h_lock_wait(void *host, int on);
static int t_h_lock_waiters(void *host);


static size_t  t_answers;       /* t_done() calls, for t_sop_t.seq */
static int     t_no_lock_cb;    /* t_store_open_conf(): no lock_wait() */
static int     t_yields;        /* t_store_yield() calls */


void
t_store(void)
{
    t_store_threads();
    t_store_join();
    t_store_refusal();
    t_store_reads();
    t_store_loop();
    t_store_no_thread();
    t_store_chain();
    t_store_overlap();
    t_store_answers_gather();
    t_store_overlap_refused();
    t_store_overlap_raced();
    t_store_overlap_waiters();
    t_store_overlap_no_lock_cb();
    t_store_lock_told_held();
    t_store_given_back_wakes();
    t_store_given_back_kept();
    t_store_flush();
    t_store_flush_fails();
    t_store_stopped_log();
    t_store_late_reads();
    t_store_read_freed();
    t_store_more_read();
    t_store_gate_timer();
    t_store_error_text();
    t_store_accessors();
    t_store_reader_check();
    t_store_late_order();
    t_store_give_way();
}


/* three submits, one batch in one task, one commit, each answered once */

static void
t_store_threads(void)
{
    int          i;
    char        *dir;
    t_sop_t      s[3];
    t_host_t     h;
    ds_store_t  *st;

    dir = t_tmpdir();
    st = t_store_open(&h, dir, DS_WRITES_THREAD, DS_SYNC_FULL, 0);

    t_start(&s[0], st, &h, "a");
    t_start(&s[1], st, &h, "b");
    t_start(&s[2], st, &h, "c");

    ds_store_submit(st, &s[0].op, DS_SUBMIT_MORE);
    ds_store_submit(st, &s[1].op, DS_SUBMIT_MORE);

    /* corked: no batch yet */
    T_INT(h.tasks, 0);
    T_INT(ds_store_busy(st), 2);
    T_INT(h.pending, 1);
    T_INT(h.pending_calls, 1);

    ds_store_submit(st, &s[2].op, 0);

    T_INT(h.tasks, 1);
    T_INT(ds_store_busy(st), 3);

    for (i = 0; i < 3; i++) {
        T_INT(s[i].done, 0);
    }

    t_turn(&h);

    for (i = 0; i < 3; i++) {
        T_INT(s[i].done, 1);
        T_INT(s[i].op.rc, DS_OK);
        T_INT(s[i].batch, 3);
        T_INT(s[i].busy, 3 - i);
    }

    T_INT(h.applied_calls, 1);
    T_INT(h.applied_ops, 3);
    T_INT(h.wakes, 1);
    T_INT(ds_store_busy(st), 0);
    T_INT(ds_store_batch(st), 0);
    T_INT(h.pending, 0);
    T_INT(h.pending_calls, 2);
    T_INT(h.gate_taken, 0);
    T(h.batch_lines >= 3);

    /* nothing more happens: done() ran exactly once */

    t_turn(&h);

    for (i = 0; i < 3; i++) {
        T_INT(s[i].done, 1);
    }

    ds_store_close(st);
    t_rmdir(dir);
}


/*
 * writes=thread: what is submitted after a batch's task started and
 * before it holds the write lock joins that batch (one commit, no wait
 * behind a second one), but a run of MORE submits that is not complete
 * yet does not
 */

static void
t_store_join(void)
{
    int          i;
    char        *dir;
    t_sop_t      s[5];
    t_host_t     h;
    ds_store_t  *st;

    dir = t_tmpdir();
    st = t_store_open(&h, dir, DS_WRITES_THREAD, DS_SYNC_FULL, 0);

    t_start(&s[0], st, &h, "j0");
    t_start(&s[1], st, &h, "j1");
    t_start(&s[2], st, &h, "j2");
    t_start(&s[3], st, &h, "j3");
    t_start(&s[4], st, &h, "j4");

    ds_store_submit(st, &s[0].op, 0);
    T_INT(h.tasks, 1);

    /* the task has not run yet: these come while it would wait */
    ds_store_submit(st, &s[1].op, DS_SUBMIT_MORE);
    ds_store_submit(st, &s[2].op, 0);
    T_INT(h.tasks, 1);

    t_turn(&h);

    for (i = 0; i < 3; i++) {
        T_INT(s[i].done, 1);
        T_INT(s[i].op.rc, DS_OK);
        T_INT(s[i].batch, 3);
    }

    T_INT(h.tasks, 1);
    T_INT(h.applied_calls, 1);
    T_INT(h.applied_ops, 3);
    T_INT(ds_store_busy(st), 0);

    /* a run still open stays out of the batch that runs */

    ds_store_submit(st, &s[3].op, 0);
    ds_store_submit(st, &s[4].op, DS_SUBMIT_MORE);

    t_turn(&h);

    T_INT(s[3].done, 1);
    T_INT(s[3].batch, 1);
    T_INT(s[4].done, 0);

    t_turn(&h);

    T_INT(s[4].done, 1);
    T_INT(s[4].op.rc, DS_OK);
    T_INT(h.tasks, 3);
    T_INT(ds_store_busy(st), 0);

    ds_store_close(st);
    t_rmdir(dir);
}


/* a conflict in the middle of a batch fails only itself */

static void
t_store_refusal(void)
{
    char        *dir;
    t_sop_t      s[4];
    t_host_t     h;
    ds_store_t  *st;

    dir = t_tmpdir();
    st = t_store_open(&h, dir, DS_WRITES_THREAD, DS_SYNC_FULL, 0);

    t_start(&s[0], st, &h, "x");
    t_start(&s[1], st, &h, "x");
    t_start(&s[2], st, &h, "y");

    /* a terminate of an instance that does not exist: DS_NOTFOUND */
    t_start(&s[3], st, &h, "none");
    s[3].op.type = DS_OP_TERMINATE;
    s[3].op.in.control.id = t_s("none");

    ds_store_submit(st, &s[0].op, DS_SUBMIT_MORE);
    ds_store_submit(st, &s[1].op, DS_SUBMIT_MORE);
    ds_store_submit(st, &s[3].op, DS_SUBMIT_MORE);
    ds_store_submit(st, &s[2].op, 0);

    t_turn(&h);

    T_INT(s[0].op.rc, DS_OK);
    T_INT(s[1].op.rc, DS_CONFLICT);
    T_INT(s[1].op.out.start.status, DS_PENDING);
    T_INT(s[3].op.rc, DS_NOTFOUND);
    T_INT(s[2].op.rc, DS_OK);
    T_INT(s[0].done + s[1].done + s[2].done + s[3].done, 4);
    T_INT(s[1].batch, 4);
    T_INT(h.tasks, 1);
    T_INT(h.applied_calls, 1);
    T_INT(h.applied_ops, 2);

    ds_store_close(st);
    t_rmdir(dir);
}


/* a read is answered before submit returns, busy never counts it */

static void
t_store_reads(void)
{
    char        *dir;
    t_sop_t      w, r, miss;
    t_host_t     h;
    ds_store_t  *st;

    dir = t_tmpdir();
    st = t_store_open(&h, dir, DS_WRITES_THREAD, DS_SYNC_FULL, 0);

    t_start(&w, st, &h, "r1");
    ds_store_submit(st, &w.op, 0);
    t_turn(&h);
    T_INT(w.op.rc, DS_OK);

    t_start(&r, st, &h, "r1");
    r.op.type = DS_OP_STATUS;
    r.op.in.control.id = t_s("r1");

    ds_store_submit(st, &r.op, 0);

    T_INT(r.done, 1);
    T_INT(r.op.rc, DS_OK);
    T_INT(r.inst.status, DS_PENDING);
    T_INT(r.busy, 0);
    T_INT(r.batch, 0);
    T_INT(h.pending_calls, 2);

    t_start(&miss, st, &h, "nope");
    miss.op.type = DS_OP_STATUS;
    miss.op.in.control.id = t_s("nope");

    ds_store_submit(st, &miss.op, 0);

    T_INT(miss.done, 1);
    T_INT(miss.op.rc, DS_NOTFOUND);
    T_INT(ds_store_busy(st), 0);

    /* every read type is a read: a history page too */

    t_start(&miss, st, &h, "nope");
    miss.op.type = DS_OP_HISTORY;
    miss.op.in.history.id = t_s("nope");
    miss.op.in.history.max_events = 10;

    ds_store_submit(st, &miss.op, 0);

    T_INT(miss.done, 1);
    T_INT(miss.op.rc, DS_NOTFOUND);
    T_INT(ds_store_busy(st), 0);

    ds_store_close(st);
    t_rmdir(dir);
}


/* writes=loop: no task; the batch waits an iteration, and for the gate */

static void
t_store_loop(void)
{
    char        *dir;
    t_sop_t      s[2];
    t_host_t     h;
    ds_store_t  *st;

    dir = t_tmpdir();
    st = t_store_open(&h, dir, DS_WRITES_LOOP, DS_SYNC_NONE, 0);

    h.gate_held = 1;

    t_start(&s[0], st, &h, "l1");
    t_start(&s[1], st, &h, "l2");

    /* two submits without a cork: still one batch, after the iteration */
    ds_store_submit(st, &s[0].op, 0);
    ds_store_submit(st, &s[1].op, 0);

    T_INT(s[0].done, 0);
    T_INT(h.evs[1].posted, 1);
    T_INT(h.evs[1].next, 1);

    /* another process holds the gate: nothing applied, posted again */
    t_turn(&h);

    T_INT(s[0].done, 0);
    T_INT(h.evs[1].posted, 1);
    T_INT(ds_store_busy(st), 2);

    t_turn(&h);

    T_INT(s[0].done, 1);
    T_INT(s[1].done, 1);
    T_INT(s[0].op.rc, DS_OK);
    T_INT(s[1].batch, 2);
    T_INT(h.tasks, 0);
    T_INT(h.gate_taken, 1);
    T_INT(h.gate_released, 1);
    T_INT(h.applied_calls, 1);
    T_INT(ds_store_busy(st), 0);

    /* the gate, not the task's lock wait: the loop's batches tell none */
    T_INT(h.lock_waits, 0);

    ds_store_close(st);
    t_rmdir(dir);
}


/* writes=thread, but the host cannot run the task: applied in the loop */

static void
t_store_no_thread(void)
{
    char        *dir;
    t_sop_t      s;
    t_host_t     h;
    ds_store_t  *st;

    dir = t_tmpdir();
    st = t_store_open(&h, dir, DS_WRITES_THREAD, DS_SYNC_FULL, 0);

    h.refuse_run = 1;

    t_start(&s, st, &h, "n1");
    ds_store_submit(st, &s.op, 0);

    /* answered before submit returned, without a task and without gate */
    T_INT(s.done, 1);
    T_INT(s.op.rc, DS_OK);
    T_INT(h.tasks, 0);
    T_INT(h.gate_taken, 0);
    T_INT(ds_store_busy(st), 0);
    T_INT(h.pending, 0);

    ds_store_close(st);
    t_rmdir(dir);
}


/* a done() that submits: its op is the next batch, the store stays busy */

static void
t_store_chain(void)
{
    char        *dir;
    t_sop_t      first, second;
    t_host_t     h;
    ds_store_t  *st;

    dir = t_tmpdir();
    st = t_store_open(&h, dir, DS_WRITES_THREAD, DS_SYNC_FULL, 0);

    t_start(&first, st, &h, "c1");
    t_start(&second, st, &h, "c2");
    first.then = &second.op;

    ds_store_submit(st, &first.op, 0);
    t_turn(&h);

    T_INT(first.done, 1);
    T_INT(second.done, 0);
    T_INT(h.tasks, 2);
    T_INT(ds_store_busy(st), 1);
    T_INT(h.pending, 1);
    T_INT(h.pending_calls, 1);

    t_turn(&h);

    T_INT(second.done, 1);
    T_INT(second.op.rc, DS_OK);
    T_INT(second.batch, 1);
    T_INT(ds_store_busy(st), 0);
    T_INT(h.pending_calls, 2);

    ds_store_close(st);
    t_rmdir(dir);
}


/*
 * starts of ids a_id and b_id (strings that outlive the ops): a
 * submitted alone, which starts its task, then b as a run still open,
 * which stays out of a's batch when the task holds the lock (the fake
 * host runs a task's work and its end in one turn, so nothing comes in
 * between): b is the next batch
 */

static void
t_submit_pair(ds_store_t *st, t_host_t *h, t_sop_t *a, t_sop_t *b,
    const char *a_id, const char *b_id)
{
    t_start(a, st, h, a_id);
    t_start(b, st, h, b_id);

    ds_store_submit(st, &a->op, 0);
    T_INT(h->tasks, 1);

    ds_store_submit(st, &b->op, DS_SUBMIT_MORE);
}


/*
 * writes=thread: a batch committed, the next one (what came while it
 * ran) goes to the thread before the first is answered, so the two
 * overlap; each answered once, in order
 */

static void
t_store_overlap(void)
{
    char        *dir;
    t_sop_t      a, b;
    t_host_t     h;
    ds_store_t  *st;

    dir = t_tmpdir();
    st = t_store_open(&h, dir, DS_WRITES_THREAD, DS_SYNC_FULL, 0);

    t_submit_pair(st, &h, &a, &b, "o1", "o2");
    T_INT(h.tasks, 1);

    t_turn(&h);

    /* b's task was handed over before a was answered */
    T_INT(a.done, 1);
    T_INT(a.op.rc, DS_OK);
    T_INT(a.batch, 1);
    T_INT(a.tasks, 2);
    T_INT(b.done, 0);
    T_INT(ds_store_busy(st), 1);

    t_turn(&h);

    T_INT(b.done, 1);
    T_INT(b.op.rc, DS_OK);
    T_INT(b.batch, 1);
    T(a.seq < b.seq);
    T_INT(h.tasks, 2);
    T_INT(h.applied_calls, 2);
    T_INT(ds_store_busy(st), 0);

    /* each task said it waited for the lock, and that it got it */
    T_INT(h.lock_waits, 2);
    T_INT(h.lock_waiting, 0);

    t_turn(&h);

    T_INT(a.done, 1);
    T_INT(b.done, 1);

    ds_store_close(st);
    t_rmdir(dir);
}


/*
 * what the answers of one batch submit is one batch, started once the
 * last answer is given, not one batch for the first and one for the rest
 */

static void
t_store_answers_gather(void)
{
    char        *dir;
    t_sop_t      a, b, c, d;
    t_host_t     h;
    ds_store_t  *st;

    dir = t_tmpdir();
    st = t_store_open(&h, dir, DS_WRITES_THREAD, DS_SYNC_FULL, 0);

    t_start(&a, st, &h, "g1");
    t_start(&b, st, &h, "g2");
    t_start(&c, st, &h, "g3");
    t_start(&d, st, &h, "g4");
    a.then = &c.op;
    b.then = &d.op;

    ds_store_submit(st, &a.op, DS_SUBMIT_MORE);
    ds_store_submit(st, &b.op, 0);

    t_turn(&h);

    /* no batch started while answers were given, one after them */
    T_INT(a.done, 1);
    T_INT(b.done, 1);
    T_INT(a.then_tasks, 1);
    T_INT(b.then_tasks, 1);
    T_INT(h.tasks, 2);

    t_turn(&h);

    T_INT(c.done, 1);
    T_INT(d.done, 1);
    T_INT(c.batch, 2);
    T_INT(d.batch, 2);
    T_INT(h.tasks, 2);
    T_INT(ds_store_busy(st), 0);

    ds_store_close(st);
    t_rmdir(dir);
}


/*
 * a committed batch whose successor no thread takes: the successor goes
 * back to the queue and is started after the answers, in a thread if
 * one takes it then, else in the loop; answers stay in submit order
 */

static void
t_store_overlap_refused(void)
{
    int          refusals;
    char        *dir;
    t_sop_t      a, b;
    t_host_t     h;
    ds_store_t  *st;

    for (refusals = 1; refusals <= 2; refusals++) {
        dir = t_tmpdir();
        st = t_store_open(&h, dir, DS_WRITES_THREAD, DS_SYNC_FULL, 0);

        t_submit_pair(st, &h, &a, &b, "r1", "r2");

        h.refuse_run = refusals;

        t_turn(&h);

        T_INT(a.done, 1);
        T_INT(a.op.rc, DS_OK);
        T_INT(a.tasks, 1);

        if (refusals == 1) {
            /* refused before a's answers, taken after them */
            T_INT(b.done, 0);
            T_INT(h.tasks, 2);

            t_turn(&h);

        } else {
            /* refused twice: applied in the loop, after a's answers */
            T_INT(h.tasks, 1);
        }

        T_INT(b.done, 1);
        T_INT(b.op.rc, DS_OK);
        T_INT(b.batch, 1);
        T(a.seq < b.seq);
        T_INT(ds_store_busy(st), 0);
        T_INT(h.pending, 0);

        ds_store_close(st);
        t_rmdir(dir);
    }
}


/*
 * the next batch's task applies it before the last batch is answered (a
 * thread that races ahead): the answers are still the last batch's, with
 * its own size and outcome, and what they submit waits for the next turn
 */

static void
t_store_overlap_raced(void)
{
    char        *dir;
    t_sop_t      a, b, c, d;
    t_host_t     h;
    ds_store_t  *st;

    dir = t_tmpdir();
    st = t_store_open(&h, dir, DS_WRITES_THREAD, DS_SYNC_FULL, 0);
    h.run_now = 1;

    t_start(&a, st, &h, "x1");
    t_start(&b, st, &h, "x2");
    t_start(&c, st, &h, "x3");
    t_start(&d, st, &h, "x1");      /* a conflict: refused */
    a.then = &d.op;

    ds_store_submit(st, &a.op, 0);
    T_INT(h.tasks, 1);

    /* a's batch is applied already; b and c queue for the next */
    ds_store_submit(st, &b.op, DS_SUBMIT_MORE);
    ds_store_submit(st, &c.op, DS_SUBMIT_MORE);

    t_turn(&h);

    /* b and c were applied (run_now) before a was answered, alone */
    T_INT(a.done, 1);
    T_INT(a.op.rc, DS_OK);
    T_INT(a.batch, 1);
    T_INT(a.tasks, 2);
    T_INT(b.done, 0);
    T_INT(c.done, 0);
    T_INT(h.applied_calls, 1);
    T_INT(h.applied_ops, 1);

    /* d, submitted by a's answer, waits behind b and c's batch */
    T_INT(d.done, 0);

    t_turn(&h);

    T_INT(b.done, 1);
    T_INT(c.done, 1);
    T_INT(b.batch, 2);
    T_INT(c.batch, 2);
    T(a.seq < b.seq && b.seq < c.seq);
    T_INT(h.applied_calls, 2);
    T_INT(h.applied_ops, 3);

    t_turn(&h);

    T_INT(d.done, 1);
    T_INT(d.op.rc, DS_CONFLICT);
    T_INT(d.batch, 1);
    T_INT(h.applied_calls, 2);
    T_INT(ds_store_busy(st), 0);
    T_INT(h.pending, 0);

    ds_store_close(st);
    t_rmdir(dir);
}


/*
 * another process's task waits for the write lock: the next batch is not
 * handed over before the answers (a task asking for the lock at once
 * could pass the waiting one), but right after them
 */

static void
t_store_overlap_waiters(void)
{
    char        *dir;
    t_sop_t      a, b;
    t_host_t     h;
    ds_store_t  *st;

    dir = t_tmpdir();
    st = t_store_open(&h, dir, DS_WRITES_THREAD, DS_SYNC_FULL, 0);
    h.others_wait = 1;

    t_submit_pair(st, &h, &a, &b, "w1", "w2");

    t_turn(&h);

    T_INT(a.done, 1);
    T_INT(a.op.rc, DS_OK);
    T_INT(a.tasks, 1);
    T_INT(b.done, 0);
    T_INT(h.tasks, 2);

    t_turn(&h);

    T_INT(b.done, 1);
    T_INT(b.op.rc, DS_OK);
    T(a.seq < b.seq);
    T_INT(h.lock_waits, 2);
    T_INT(h.lock_waiting, 0);
    T_INT(ds_store_busy(st), 0);

    ds_store_close(st);
    t_rmdir(dir);
}


/*
 * a host without lock_wait()/lock_waiters() (one process): the next
 * batch is handed over before the answers, as the header says
 */

static void
t_store_overlap_no_lock_cb(void)
{
    char        *dir;
    t_sop_t      a, b;
    t_host_t     h;
    ds_store_t  *st;

    dir = t_tmpdir();
    t_no_lock_cb = 1;
    st = t_store_open(&h, dir, DS_WRITES_THREAD, DS_SYNC_FULL, 0);
    t_no_lock_cb = 0;

    t_submit_pair(st, &h, &a, &b, "n1", "n2");

    t_turn(&h);

    T_INT(a.done, 1);
    T_INT(a.tasks, 2);
    T_INT(b.done, 0);

    t_turn(&h);

    T_INT(b.done, 1);
    T(a.seq < b.seq);
    T_INT(h.lock_waits, 0);
    T_INT(ds_store_busy(st), 0);

    ds_store_close(st);
    t_rmdir(dir);
}


/* a claim's begin(), in the txn: whether the task still says it waits */

static void
t_lock_begin(void *data)
{
    t_host_t  *h = data;

    h->begun_waiting = h->lock_waiting ? 1 : 2;
}


static int
t_lock_item(void *data, ds_op_t *op, const ds_work_item_t *item)
{
    (void) data;
    (void) op;
    (void) item;

    return 0;
}


/*
 * the task tells lock_wait(0) once it holds the lock, not after its
 * commit: another process's loop may hand its next batch over meanwhile
 */

static void
t_store_lock_told_held(void)
{
    char        *dir;
    t_sop_t      a;
    t_host_t     h;
    uint8_t      tokens[DS_LEASE_LEN];
    ds_store_t  *st;

    dir = t_tmpdir();
    st = t_store_open(&h, dir, DS_WRITES_THREAD, DS_SYNC_FULL, 0);

    memset(tokens, 7, sizeof(tokens));

    t_claim(&a, st, &h, tokens, t_lock_item);
    a.op.in.claim.begin = t_lock_begin;

    ds_store_submit(st, &a.op, 0);
    t_turn(&h);

    T_INT(a.done, 1);
    T_INT(h.lock_waits, 1);
    T_INT(h.begun_waiting, 2);

    ds_store_close(st);
    t_rmdir(dir);
}


/* when not NULL, the stop word t_fail_item() sets before it fails */
static int  *t_fail_stop;


/*
 * a claim's item callback that fails, as out of memory makes it; with
 * t_fail_stop, after another process's failed flush stopped the writes
 */

static int
t_fail_item(void *data, ds_op_t *op, const ds_work_item_t *item)
{
    (void) data;
    (void) op;
    (void) item;

    if (t_fail_stop != NULL) {
        *t_fail_stop = 1;
    }

    return -1;
}


/*
 * a claim whose items are given back after its commit (its callback
 * failed) wakes the waiting claims, which a claim alone does not: the
 * items are claimable again at once
 */

static void
t_store_given_back_wakes(void)
{
    char        *dir;
    size_t       wakes, errs;
    t_sop_t      a;
    t_host_t     h;
    uint8_t      tokens[DS_LEASE_LEN];
    ds_store_t  *st;

    dir = t_tmpdir();
    st = t_store_open(&h, dir, DS_WRITES_THREAD, DS_SYNC_FULL, 0);

    memset(tokens, 9, sizeof(tokens));

    t_claim_fails(&a, st, &h, tokens, "g1", &wakes, &errs);
    T_INT(h.wakes, wakes + 1);

    /* the op's failure only: the items were given back */
    T_INT(h.err_lines, errs + 1);

    /* claimable at once, its lease given up; this claim wakes no one */

    a.done = 0;
    a.op.in.claim.item = t_lock_item;
    ds_store_submit(st, &a.op, 0);
    t_turn(&h);

    T_INT(a.done, 1);
    T_INT(a.op.rc, DS_OK);
    T_INT(a.op.out.claim.claimed, 1);
    T_INT(h.wakes, wakes + 1);

    ds_store_close(st);
    t_rmdir(dir);
}


/*
 * items a claim could not give back (the give-up's txn refused: here
 * another process's failed flush stopped the writes between the claim's
 * commit and its render) are logged at error with that reason, not the
 * batch's first error (the callback's); they stay leased and wake no one
 */

static void
t_store_given_back_kept(void)
{
    int          stop;
    char        *dir;
    size_t       wakes, errs;
    t_sop_t      a;
    t_host_t     h;
    uint8_t      tokens[DS_LEASE_LEN];
    ds_store_t  *st;

    dir = t_tmpdir();
    stop = 0;
    st = t_store_open_stop(&h, dir, DS_WRITES_THREAD, DS_SYNC_FULL, 0,
                           &stop);

    memset(tokens, 9, sizeof(tokens));

    t_fail_stop = &stop;
    t_claim_fails(&a, st, &h, tokens, "k1", &wakes, &errs);
    t_fail_stop = NULL;
    T_INT(h.wakes, wakes);

    /* the op's failure, then the items kept, then the stop's alert */
    T_INT(h.err_lines, errs + 2);
    T(strstr(h.err, "durable: giving back 1 claimed items after a batch of "
                    "1 writes to store \"t\" failed, claimable again when "
                    "their leases run out: beginning a txn: a flush of the "
                    "store failed") != NULL);
    T_INT(h.alert_lines, 1);
    T(strstr(h.alert, "takes no writes from now on") != NULL);

    ds_store_close(st);
    t_rmdir(dir);
}


/* sync=off: the flush timer runs a sync task only after a write */

static void
t_store_flush(void)
{
    char        *dir;
    t_sop_t      s;
    t_host_t     h;
    ds_store_t  *st;

    dir = t_tmpdir();
    st = t_store_open(&h, dir, DS_WRITES_LOOP, DS_SYNC_NONE, 100);

    /* evs: task, apply, sync, flush */
    T_INT(h.evs[3].armed, 1);

    h.evs[3].armed = 0;
    h.evs[3].ev->handler(h.evs[3].ev);

    T_INT(h.tasks, 0);
    T_INT(h.evs[3].armed, 1);

    t_start(&s, st, &h, "f1");
    ds_store_submit(st, &s.op, 0);
    t_turn(&h);
    T_INT(s.done, 1);

    h.evs[3].armed = 0;
    h.evs[3].ev->handler(h.evs[3].ev);

    T_INT(h.tasks, 1);
    T_INT(h.evs[2].task, 1);

    /* a running flush keeps the store busy: closing now is unsafe */
    T_INT(ds_store_busy(st), 1);
    T_INT(h.pending, 1);

    t_turn(&h);

    T_INT(h.evs[2].task, 0);
    T_INT(ds_store_busy(st), 0);
    T_INT(h.pending, 0);

    ds_store_close(st);
    t_rmdir(dir);
}


/* a flush that fails, as a disk error makes it */

static int
t_store_eio(int fd)
{
    (void) fd;

    errno = EIO;

    return -1;
}


/* a write, submitted and answered in a turn of the loop (writes=loop) */

static int
t_store_write(t_sop_t *s, ds_store_t *st, t_host_t *h, const char *id)
{
    t_start(s, st, h, id);
    ds_store_submit(st, &s->op, 0);
    t_turn(h);
    T_INT(s->done, 1);

    return s->op.rc;
}


/*
 * sync=off: when the flush of the timer's task fails, the writes stop as
 * they do after a failed flush of sync=on (the kernel may have dropped
 * the pages it was to write): the failure and the stop are said once, at
 * alert, and each write after it is refused
 */

static void
t_store_flush_fails(void)
{
    int          (*saved)(int fd);
    char          *dir;
    t_sop_t        s;
    t_host_t       h;
    ds_store_t    *st;

    dir = t_tmpdir();
    st = t_store_open(&h, dir, DS_WRITES_LOOP, DS_SYNC_NONE, 100);

    T_INT(t_store_write(&s, st, &h, "f1"), DS_OK);

    /* evs: task, apply, sync, flush */
    saved = dsi_fdatasync;
    dsi_fdatasync = t_store_eio;

    h.evs[3].armed = 0;
    h.evs[3].ev->handler(h.evs[3].ev);
    T_INT(h.tasks, 1);
    t_turn(&h);

    dsi_fdatasync = saved;

    T_INT(h.alert_lines, 2);
    T(strstr(h.alert, "takes no writes from now on") != NULL);

    T_INT(t_store_write(&s, st, &h, "f2"), DS_STOPPED);
    T_INT(t_store_write(&s, st, &h, "f3"), DS_STOPPED);
    T_INT(h.alert_lines, 2);

    ds_store_close(st);
    t_rmdir(dir);
}


/*
 * A stopped store refuses every write (DS_STOPPED): the first refused
 * batch is logged at error at once, then one line a second at most
 * (dsi_refused_log), with the count of the writes refused since. Other
 * failed batches are logged each.
 */

static void
t_store_stopped_log(void)
{
    int          stop;
    char        *dir;
    int64_t      saved;
    t_sop_t      s;
    t_host_t     h;
    ds_store_t  *st;

    dir = t_tmpdir();
    stop = 0;
    st = t_store_open_stop(&h, dir, DS_WRITES_LOOP, DS_SYNC_NONE, 0, &stop);

    /* an hour's interval: a slow host (valgrind, ASan) cannot pass it */
    saved = dsi_refused_log;
    dsi_refused_log = 3600 * 1000000LL;

    T_INT(t_store_write(&s, st, &h, "l1"), DS_OK);

    /* another process's flush failed */
    stop = 1;

    T_INT(t_store_write(&s, st, &h, "l2"), DS_STOPPED);
    T_INT(h.err_lines, 1);
    T(strstr(h.err, "1 of a batch of 1 writes to store \"t\" refused: "
                    "beginning a txn: a flush of the store failed") != NULL);
    T_INT(h.alert_lines, 1);
    T(strstr(h.alert, "takes no writes from now on") != NULL);

    T_INT(t_store_write(&s, st, &h, "l3"), DS_STOPPED);
    T_INT(t_store_write(&s, st, &h, "l4"), DS_STOPPED);
    T_INT(t_store_write(&s, st, &h, "l5"), DS_STOPPED);
    T_INT(h.err_lines, 1);
    T_INT(h.alert_lines, 1);

    /* the interval has passed: the next says how many were not logged */
    dsi_refused_log = 0;

    T_INT(t_store_write(&s, st, &h, "l6"), DS_STOPPED);
    T_INT(h.err_lines, 2);
    T(strstr(h.err, "1 of a batch of 1 writes to store \"t\" refused, and 3 "
                    "more since the last such line") != NULL);
    T(strstr(h.err, "a flush of the store failed") != NULL);

    T_INT(t_store_write(&s, st, &h, "l7"), DS_STOPPED);
    T_INT(h.err_lines, 3);
    T(strstr(h.err, "1 of a batch of 1 writes to store \"t\" refused: ")
      != NULL);

    dsi_refused_log = saved;
    T_INT(h.alert_lines, 1);

    ds_store_close(st);
    t_rmdir(dir);
}


/* reads_later: a read is answered after the event, as over a network */

static void
t_store_late_reads(void)
{
    char             *dir;
    t_sop_t           w, r, r2;
    t_host_t          h;
    ds_store_t       *st;
    ds_store_conf_t   conf;

    dir = t_tmpdir();

    memset(&conf, 0, sizeof(ds_store_conf_t));
    conf.name = "late";
    conf.env.path = dir;
    conf.env.map_size = 16 * 1024 * 1024;
    conf.writes = DS_WRITES_THREAD;
    conf.reads_later = 1;

    st = t_store_open_conf(&h, &conf);

    t_start(&w, st, &h, "late");
    ds_store_submit(st, &w.op, 0);
    t_turn(&h);
    T_INT(w.op.rc, DS_OK);

    t_start(&r, st, &h, "late");
    r.op.type = DS_OP_STATUS;
    r.op.in.control.id = t_s("late");

    t_start(&r2, st, &h, "gone");
    r2.op.type = DS_OP_STATUS;
    r2.op.in.control.id = t_s("gone");
    r.then = &r2.op;

    ds_store_submit(st, &r.op, 0);

    /* not answered yet: pending, and the process must not exit */
    T_INT(r.done, 0);
    T_INT(ds_store_busy(st), 1);
    T_INT(h.pending, 1);

    t_turn(&h);

    T_INT(r.done, 1);
    T_INT(r.op.rc, DS_OK);
    T_INT(r.inst.status, DS_PENDING);
    T_INT(r.busy, 1);

    /* the read its done() submitted waits for the next turn */
    T_INT(r2.done, 0);
    T_INT(ds_store_busy(st), 1);

    t_turn(&h);

    T_INT(r2.done, 1);
    T_INT(r2.op.rc, DS_NOTFOUND);
    T_INT(ds_store_busy(st), 0);
    T_INT(h.pending, 0);

    t_turn(&h);
    T_INT(r.done, 1);
    T_INT(r2.done, 1);

    ds_store_close(st);
    t_rmdir(dir);
}



/*
 * A read's done() may free the op (its request ends there): the store
 * must not touch the op afterwards (ASan in make test-asan-unit sees it),
 * and its read txn must still end, also when reads come late.
 */

static void
t_store_read_freed(void)
{
    int              later, i;
    char            *dir;
    t_sop_t          w, *r;
    t_host_t         h;
    unsigned         used, before, max;
    ds_store_t      *st;
    ds_store_conf_t  conf;

    for (later = 0; later < 2; later++) {
        dir = t_tmpdir();

        memset(&conf, 0, sizeof(ds_store_conf_t));
        conf.name = "freed";
        conf.env.path = dir;
        conf.env.map_size = 16 * 1024 * 1024;
        conf.writes = DS_WRITES_THREAD;
        conf.reads_later = later;

        st = t_store_open_conf(&h, &conf);

        t_start(&w, st, &h, "f");
        ds_store_submit(st, &w.op, 0);
        t_turn(&h);
        T_INT(w.op.rc, DS_OK);

        /*
         * a read txn that did not end would hold its reader slot: the
         * slots in use stay as the first read left them (LMDB keeps one
         * reset txn for reuse)
         */

        for (i = 0; i < 3; i++) {
            r = malloc(sizeof(t_sop_t));
            if (r == NULL) {
                T(r != NULL);
                break;
            }

            t_start(r, st, &h, "f");
            r->op.type = DS_OP_STATUS;
            r->op.in.control.id = t_s("f");
            r->op.done = t_store_freeing_done;

            ds_store_submit(st, &r->op, 0);
            t_turn(&h);

            T_INT(ds_store_busy(st), 0);
            T_INT(ds_store_readers(st, &used, &max), DS_OK);

            if (i == 0) {
                before = used;
            }

            T_INT(used, before);
        }

        ds_store_close(st);
        t_rmdir(dir);
    }
}


/* writes held with MORE start their batch at a read without MORE */

static void
t_store_more_read(void)
{
    char        *dir;
    t_sop_t      w, r;
    t_host_t     h;
    ds_store_t  *st;
    ds_writes_e  writes;

    for (writes = DS_WRITES_THREAD; writes <= DS_WRITES_LOOP; writes++) {
        dir = t_tmpdir();
        st = t_store_open(&h, dir, writes, DS_SYNC_FULL, 0);

        t_start(&w, st, &h, "m1");
        ds_store_submit(st, &w.op, DS_SUBMIT_MORE);

        T_INT(h.tasks, 0);
        T_INT(h.evs[1].posted, 0);

        t_start(&r, st, &h, "m1");
        r.op.type = DS_OP_STATUS;
        r.op.in.control.id = t_s("m1");

        ds_store_submit(st, &r.op, 0);

        /* the read saw the store before the write: answered at once */
        T_INT(r.done, 1);
        T_INT(r.op.rc, DS_NOTFOUND);

        /* and the write is on its way without another submit */
        T_INT(h.tasks + (size_t) h.evs[1].posted, 1);

        t_turn(&h);

        T_INT(w.done, 1);
        T_INT(w.op.rc, DS_OK);
        T_INT(ds_store_busy(st), 0);

        ds_store_close(st);
        t_rmdir(dir);
    }
}


/*
 * A purge batch gives way to other threads where batches run in the
 * store's thread (writes=thread), never in the event loop: writes=loop,
 * or writes=thread when no thread could take the batch (refused: the
 * loop applies it).
 */

static void
t_store_give_way(void)
{
    int          i, run, refused, (*saved)(void);
    char        *dir, id[32];
    t_sop_t      s;
    t_host_t     h;
    ds_env_t    *env;
    ds_query_t   q;
    ds_store_t  *st;
    ds_writes_e  writes;

    saved = dsi_yield;
    dsi_yield = t_store_yield;

    memset(&q, 0, sizeof(ds_query_t));

    for (run = 0; run < 3; run++) {
        writes = (run == 2) ? DS_WRITES_LOOP : DS_WRITES_THREAD;
        refused = (run == 1);

        dir = t_tmpdir();
        env = t_open(dir, 16 * 1024 * 1024, DS_SYNC_NONE);

        for (i = 0; i < 2000; i++) {
            snprintf(id, sizeof(id), "p%04d", i);
            T_INT(t_put(env, t_s("hub"), id, DS_COMPLETED, 1000 + i),
                  DS_OK);
        }

        ds_env_close(env);

        st = t_store_open(&h, dir, writes, DS_SYNC_NONE, 0);
        h.refuse_run = refused ? 1000 : 0;

        t_start(&s, st, &h, "p");
        s.op.type = DS_OP_PURGE_BATCH;
        s.op.in.purge.query = &q;
        s.op.in.purge.max = 2000;
        s.op.in.purge.max_us = 3600000000LL;

        t_yields = 0;
        ds_store_submit(st, &s.op, 0);

        for (i = 0; i < 10 && !s.done; i++) {
            t_turn(&h);
        }

        T_INT(s.done, 1);
        T_INT(s.op.rc, DS_OK);
        T_INT(s.op.out.purge.deleted, 2000);

        if (writes == DS_WRITES_THREAD && !refused) {
            T(t_yields >= 1);

        } else {
            T_INT(t_yields, 0);
        }

        ds_store_close(st);
        t_rmdir(dir);
    }

    dsi_yield = saved;
}


static int
t_store_yield(void)
{
    t_yields++;
    return 0;
}


/* writes=loop: a gate held long is waited for with a timer, not spun */

static void
t_store_gate_timer(void)
{
    int          i;
    char        *dir;
    t_sop_t      s;
    t_host_t     h;
    ds_store_t  *st;

    dir = t_tmpdir();
    st = t_store_open(&h, dir, DS_WRITES_LOOP, DS_SYNC_NONE, 0);

    h.gate_held = 100;

    t_start(&s, st, &h, "g1");
    ds_store_submit(st, &s.op, 0);

    /* evs: task, apply, ...; a few posts first, then a timer */

    for (i = 0; i < 10 && h.evs[1].posted; i++) {
        T_INT(h.evs[1].armed, 0);
        t_turn(&h);
    }

    T(i > 1 && i < 10);
    T_INT(h.evs[1].posted, 0);
    T_INT(h.evs[1].armed, 1);
    T_INT(s.done, 0);

    /* the timer fires with the gate free: applied, tries start over */

    h.gate_held = 0;
    h.evs[1].armed = 0;
    h.evs[1].ev->handler(h.evs[1].ev);

    T_INT(s.done, 1);
    T_INT(s.op.rc, DS_OK);
    T_INT(ds_store_busy(st), 0);

    h.gate_held = 1;

    t_start(&s, st, &h, "g2");
    ds_store_submit(st, &s.op, 0);
    t_turn(&h);

    T_INT(h.evs[1].posted, 1);
    T_INT(h.evs[1].armed, 0);

    t_turn(&h);

    T_INT(s.done, 1);

    ds_store_close(st);
    t_rmdir(dir);
}


/* a write that fails in LMDB: its text is logged once for the batch */

static void
t_store_error_text(void)
{
    char             *dir, *big;
    size_t            len;
    t_sop_t           s[2];
    t_host_t          h;
    ds_store_t       *st;
    ds_store_conf_t   conf;

    dir = t_tmpdir();

    memset(&conf, 0, sizeof(ds_store_conf_t));
    conf.name = "t";
    conf.backend = DS_BACKEND_LMDB;
    conf.env.path = dir;
    conf.env.map_size = 1024 * 1024;
    conf.env.sync = DS_SYNC_FULL;

    st = t_store_open_conf(&h, &conf);

    /* an input larger than the map: LMDB's MDB_MAP_FULL, mid-write */

    len = 2 * 1024 * 1024;
    big = malloc(len);
    if (big == NULL) {
        abort();
    }

    memset(big, 'x', len);
    big[0] = '"';
    big[len - 1] = '"';

    t_start(&s[0], st, &h, "e1");
    s[0].op.in.start.input.data = big;
    s[0].op.in.start.input.len = len;
    t_start(&s[1], st, &h, "e2");
    s[1].op.in.start.input = s[0].op.in.start.input;

    ds_store_submit(st, &s[0].op, DS_SUBMIT_MORE);
    ds_store_submit(st, &s[1].op, 0);
    t_turn(&h);

    T_INT(s[0].done, 1);
    T_INT(s[1].done, 1);
    T_INT(s[0].op.rc, DS_FULL);
    T_INT(s[1].op.rc, DS_FULL);
    T_INT(h.err_lines, 1);
    T(strstr(h.err, "MDB_MAP_FULL") != NULL);
    T(strstr(h.err, "2 of a batch of 2") != NULL);

    /* a batch that succeeds logs no error, and the text is not kept */

    t_start(&s[0], st, &h, "e3");
    ds_store_submit(st, &s[0].op, 0);
    t_turn(&h);

    T_INT(s[0].op.rc, DS_OK);
    T_INT(h.err_lines, 1);

    free(big);
    ds_store_close(st);
    t_rmdir(dir);
}


/*
 * done()'s accessors ask the op's backend, not LMDB: a second backend
 * (here LMDB's vtable with three of them replaced, and no snapshots)
 * answers its own
 */

static size_t  t_acc_calls;


static void
t_store_accessors(void)
{
    char           *dir;
    t_sop_t         r;
    t_host_t        h;
    ds_store_t     *st;
    dsi_backend_t   be;

    dir = t_tmpdir();
    st = t_store_open(&h, dir, DS_WRITES_THREAD, DS_SYNC_FULL, 0);

    be = *st->backend;
    be.history = t_acc_history;
    be.error = t_acc_error;
    be.space = t_acc_space;
    be.snapshot = NULL;
    st->backend = &be;

    t_acc_calls = 0;

    t_start(&r, st, &h, "a1");
    r.op.type = DS_OP_STATUS;
    r.op.in.control.id = t_s("a1");
    r.op.in.control.history = 1;
    r.op.done = t_acc_done;

    ds_store_submit(st, &r.op, 0);

    T_INT(r.done, 1);
    T_INT(r.op.rc, DS_NOTFOUND);
    T_INT(t_acc_calls, 2);

    /* a stats read: space from the vtable, counts from LMDB's as before */

    t_start(&r, st, &h, "");
    r.op.type = DS_OP_STATS;
    r.op.done = t_acc_done;

    ds_store_submit(st, &r.op, 0);

    T_INT(r.done, 1);
    T_INT(t_acc_calls, 3);

    st->backend = &dsi_backend_lmdb;
    ds_store_close(st);
    t_rmdir(dir);
}


static void
t_acc_done(ds_op_t *op)
{
    uint64_t       n;
    t_sop_t       *s = op->data;
    ds_space_t     sp;
    ds_snapshot_t  snap;

    s->done++;

    if (op->type == DS_OP_STATUS) {
        /* a read that did not ask for the history: not even asked */
        op->in.control.history = 0;
        T_INT(ds_op_history(op, NULL, NULL), DS_INVALID);
        op->in.control.history = 1;
        T_INT(ds_op_history(op, NULL, NULL), DS_OK);
        T(strcmp(ds_op_error(op), "the fake backend's") == 0);
        /* the type is checked before the backend is asked */
        T_INT(ds_op_space(op, &sp), DS_INVALID);
        /* a backend without snapshots (PostgreSQL) says so */
        T_INT(ds_op_snapshot(op, &snap), DS_INVALID);
        return;
    }

    T_INT(ds_op_space(op, &sp), DS_OK);
    T_INT(sp.map_size, 4242);
    T_INT(ds_op_timers_total(op, &n), DS_OK);
    T_INT(n, 0);
}


static int
t_acc_history(ds_op_t *op, ds_event_cb cb, void *data)
{
    (void) op;
    (void) cb;
    (void) data;

    t_acc_calls++;

    return DS_OK;
}


static const char *
t_acc_error(const ds_op_t *op)
{
    (void) op;

    t_acc_calls++;

    return "the fake backend's";
}


static int
t_acc_space(ds_op_t *op, ds_space_t *sp)
{
    (void) op;

    t_acc_calls++;
    memset(sp, 0, sizeof(ds_space_t));
    sp->map_size = 4242;

    return DS_OK;
}


/* the LMDB backend arms its own reader check timer, and re-arms it */

static void
t_store_reader_check(void)
{
    char             *dir;
    t_host_t          h;
    ds_store_t       *st;
    ds_store_conf_t   conf;

    dir = t_tmpdir();

    memset(&conf, 0, sizeof(ds_store_conf_t));
    conf.name = "t";
    conf.backend = DS_BACKEND_LMDB;
    conf.env.path = dir;
    conf.env.map_size = 1024 * 1024;
    conf.reader_check_ms = 1000;

    st = t_store_open_conf(&h, &conf);

    /* evs: task, apply, sync, flush, read, check */
    T_INT(h.nevs, 6);
    T_INT(h.evs[5].armed, 1);

    h.evs[5].armed = 0;
    h.evs[5].ev->handler(h.evs[5].ev);

    T_INT(h.evs[5].armed, 1);
    T_INT(ds_store_busy(st), 0);

    ds_store_close(st);

    T_INT(h.evs[5].armed, 0);

    conf.reader_check_ms = 0;
    st = t_store_open_conf(&h, &conf);

    T_INT(h.evs[5].armed, 0);

    ds_store_close(st);
    t_rmdir(dir);
}


/* reads_later: a batch's writes are answered last first */

static size_t  t_order_n;
static size_t  t_order[3];


static void
t_store_late_order(void)
{
    char             *dir;
    t_sop_t           w[3];
    t_host_t          h;
    ds_store_t       *st;
    ds_store_conf_t   conf;

    dir = t_tmpdir();

    memset(&conf, 0, sizeof(ds_store_conf_t));
    conf.name = "t";
    conf.backend = DS_BACKEND_LMDB;
    conf.env.path = dir;
    conf.env.map_size = 16 * 1024 * 1024;
    conf.reads_later = 1;

    st = t_store_open_conf(&h, &conf);

    t_order_n = 0;

    t_start(&w[0], st, &h, "o1");
    t_start(&w[1], st, &h, "o2");
    t_start(&w[2], st, &h, "o3");

    w[0].op.done = t_order_done;
    w[1].op.done = t_order_done;
    w[2].op.done = t_order_done;
    w[0].batch = 0;
    w[1].batch = 1;
    w[2].batch = 2;

    ds_store_submit(st, &w[0].op, DS_SUBMIT_MORE);
    ds_store_submit(st, &w[1].op, DS_SUBMIT_MORE);
    ds_store_submit(st, &w[2].op, 0);
    t_turn(&h);

    T_INT(t_order_n, 3);
    T_INT(t_order[0], 2);
    T_INT(t_order[1], 1);
    T_INT(t_order[2], 0);
    T_INT(w[0].op.rc, DS_OK);
    T_INT(ds_store_busy(st), 0);

    ds_store_close(st);
    t_rmdir(dir);
}


/* the index of the op (in batch, before the submit) in answer order */

static void
t_order_done(ds_op_t *op)
{
    t_sop_t  *s = op->data;

    s->done++;

    if (t_order_n < 3) {
        t_order[t_order_n++] = s->batch;
    }
}


static void
t_store_freeing_done(ds_op_t *op)
{
    t_sop_t  *s = op->data;

    T_INT(op->rc, DS_OK);

    memset(s, 0, sizeof(t_sop_t));
    free(s);
}

static ds_store_t *
t_store_open(t_host_t *h, const char *dir, ds_writes_e writes,
    ds_sync_e sync, int64_t flush_ms)
{
    return t_store_open_stop(h, dir, writes, sync, flush_ms, NULL);
}


/* as t_store_open(), with the stop word stop (NULL: the env's own) */

static ds_store_t *
t_store_open_stop(t_host_t *h, const char *dir, ds_writes_e writes,
    ds_sync_e sync, int64_t flush_ms, int *stop)
{
    ds_store_conf_t  conf;

    memset(&conf, 0, sizeof(ds_store_conf_t));
    conf.name = "t";
    conf.backend = DS_BACKEND_LMDB;
    conf.env.path = dir;
    conf.env.map_size = 16 * 1024 * 1024;
    conf.env.sync = sync;
    conf.env.stop = stop;
    conf.writes = writes;
    conf.flush_ms = flush_ms;

    return t_store_open_conf(h, &conf);
}


static ds_store_t *
t_store_open_conf(t_host_t *h, ds_store_conf_t *conf)
{
    int              rc;
    char             err[256];
    ds_host_t        host;
    ds_store_t      *st;

    memset(h, 0, sizeof(t_host_t));
    h->threads = 1;

    memset(&host, 0, sizeof(ds_host_t));
    host.data = h;
    host.init = t_h_init;
    host.run = t_h_run;
    host.post = t_h_post;
    host.timer = t_h_timer;
    host.cancel = t_h_cancel;
    host.gate_try = t_h_gate_try;
    host.gate_release = t_h_gate_release;
    host.lock_wait = t_no_lock_cb ? NULL : t_h_lock_wait;
    host.lock_waiters = t_no_lock_cb ? NULL : t_h_lock_waiters;
    host.wake = t_h_wake;
    host.pending = t_h_pending;
    host.applied = t_h_applied;
    host.log = t_h_log;
    host.log_level = DS_LOG_DEBUG;

    rc = ds_store_open(&st, conf, &host, err, sizeof(err));
    if (rc != DS_OK) {
        fprintf(stderr, "ds_store_open: %s\n", err);
        abort();
    }

    return st;
}


/* one iteration: finished tasks, then events posted before it began */

static void
t_turn(t_host_t *h)
{
    size_t        i;
    int           due[T_EVENTS];
    t_fake_ev_t  *fe;

    for (i = 0; i < h->nevs; i++) {
        due[i] = h->evs[i].task || h->evs[i].posted;
    }

    for (i = 0; i < h->nevs; i++) {
        fe = &h->evs[i];

        if (!due[i]) {
            continue;
        }

        if (fe->task) {
            fe->task = 0;

            if (!fe->worked) {
                fe->ev->work(fe->ev);
            }

            fe->worked = 0;
            fe->ev->handler(fe->ev);
            continue;
        }

        fe->posted = 0;
        fe->next = 0;
        fe->ev->handler(fe->ev);
    }
}


static void
t_start(t_sop_t *s, ds_store_t *st, t_host_t *h, const char *id)
{
    memset(s, 0, sizeof(t_sop_t));

    s->st = st;
    s->h = h;
    s->op.type = DS_OP_START;
    s->op.hub = t_s("hub");
    s->op.in.start.id = t_s(id);
    s->op.in.start.name = t_s("Hello");
    s->op.done = t_done;
    s->op.data = s;
}


/* a claim of one orchestration, its items to item(h, ...) */

static void
t_claim(t_sop_t *s, ds_store_t *st, t_host_t *h, const uint8_t *tokens,
    ds_op_item_pt item)
{
    t_start(s, st, h, "none");
    memset(&s->op.in, 0, sizeof(s->op.in));

    s->op.type = DS_OP_WORK_CLAIM;
    s->op.in.claim.kind = DS_WORK_ORCHESTRATION;
    s->op.in.claim.lease_us = 60000000;
    s->op.in.claim.max = 1;
    s->op.in.claim.tokens = tokens;
    s->op.in.claim.item = item;
    s->op.in.claim.item_data = h;
}


/*
 * an orchestration id started, then a claim of it whose callback fails
 * (t_fail_item()); the host's wakes and error lines before the claim
 */

static void
t_claim_fails(t_sop_t *s, ds_store_t *st, t_host_t *h,
    const uint8_t *tokens, const char *id, size_t *wakes, size_t *errs)
{
    t_start(s, st, h, id);
    ds_store_submit(st, &s->op, 0);
    t_turn(h);
    T_INT(s->op.rc, DS_OK);

    t_claim(s, st, h, tokens, t_fail_item);

    *wakes = h->wakes;
    *errs = h->err_lines;
    ds_store_submit(st, &s->op, 0);
    t_turn(h);

    T_INT(s->done, 1);
    T_INT(s->op.rc, DS_ERROR);
    T_INT(s->op.out.claim.claimed, 0);
}


static void
t_done(ds_op_t *op)
{
    t_sop_t  *s = op->data;

    s->done++;
    s->batch = ds_store_batch(s->st);
    s->busy = ds_store_busy(s->st);
    s->tasks = s->h->tasks;
    s->seq = ++t_answers;

    if (op->type == DS_OP_STATUS && op->rc == DS_OK) {
        s->inst = *op->out.status.inst;
    }

    if (s->then != NULL) {
        ds_store_submit(s->st, s->then, 0);
        s->then_tasks = s->h->tasks;
    }
}


static int
t_h_init(void *host, ds_event_t *ev)
{
    t_host_t  *h = host;

    if (h->nevs == T_EVENTS) {
        return -1;
    }

    h->evs[h->nevs].ev = ev;
    ev->host = &h->evs[h->nevs++];

    return 0;
}


static int
t_h_run(void *host, ds_event_t *ev)
{
    t_host_t     *h = host;
    t_fake_ev_t  *fe = ev->host;

    if (!h->threads || h->refuse_run > 0) {
        h->refuse_run--;
        return -1;
    }

    T(!fe->task);

    fe->task = 1;
    h->tasks++;

    if (h->run_now) {
        fe->worked = 1;
        ev->work(ev);
    }

    return 0;
}


static void
t_h_post(void *host, ds_event_t *ev, int next)
{
    t_fake_ev_t  *fe = ev->host;

    (void) host;

    fe->posted = 1;
    fe->next = next;
}


static void
t_h_timer(void *host, ds_event_t *ev, int64_t ms)
{
    t_fake_ev_t  *fe = ev->host;

    (void) host;

    fe->armed = (ms >= 0);
}


static void
t_h_cancel(void *host, ds_event_t *ev)
{
    t_fake_ev_t  *fe = ev->host;

    (void) host;

    fe->armed = 0;
    fe->posted = 0;
}


static int
t_h_gate_try(void *host)
{
    t_host_t  *h = host;

    if (h->gate_held > 0) {
        h->gate_held--;
        return 0;
    }

    h->gate_taken++;

    return 1;
}


static void
t_h_gate_release(void *host)
{
    t_host_t  *h = host;

    h->gate_released++;
}


static void
t_h_wake(void *host)
{
    t_host_t  *h = host;

    h->wakes++;
}


static void
t_h_pending(void *host, int any)
{
    t_host_t  *h = host;

    T(h->pending != any);

    h->pending = any;
    h->pending_calls++;
}


/* a task's wait for the write lock: told once each way, in turn */

static void
t_h_lock_wait(void *host, int on)
{
    t_host_t  *h = host;

    T(h->lock_waiting != on);

    h->lock_waiting = on;
    h->lock_waits += on;
}


static int
t_h_lock_waiters(void *host)
{
    t_host_t  *h = host;

    return h->others_wait || h->lock_waiting;
}


static void
t_h_applied(void *host, size_t n, int64_t us, int64_t waited)
{
    t_host_t  *h = host;

    T(us >= 0);
    T(waited >= 0 && waited <= us);

    h->applied_calls++;
    h->applied_ops += n;
}


static void
t_h_log(void *host, ds_log_e level, const char *msg)
{
    t_host_t  *h = host;

    T(level <= DS_LOG_DEBUG);

    h->lines++;
    h->batch_lines += (strstr(msg, "batch of") != NULL);

    if (level == DS_LOG_ERR) {
        h->err_lines++;
        snprintf(h->err, sizeof(h->err), "%s", msg);
    }

    if (level == DS_LOG_ALERT) {
        h->alert_lines++;
        snprintf(h->alert, sizeof(h->alert), "%s", msg);
    }
}
