/*
 * Copyright (C) ngx_durable authors
 *
 * The store's threads under ThreadSanitizer (make -C store tsan). The
 * unit tests (t_store.c) turn a fake loop by hand and run each task's
 * work() in it, so no race between the loop and the store's thread can
 * show there. Here a host runs the tasks on real threads as the nginx
 * glue does (ngx_durable_module/ngx_http_durable_writer.c): a queue of
 * jobs under a mutex held only to link or unlink, worker threads that
 * take them (one, as the store's own thread; two, as a thread_pool=),
 * and the finished jobs handed back to the loop, which runs their
 * handlers. lock_wait() sets a bit in a word per process in shared
 * memory, lock_waiters() scans the words, as _notify.c does.
 *
 * Two processes write to one store file, each through its own store
 * handle (LMDB's documentation forbids opening one environment twice
 * in a process: its file locks are per process, so a second open would
 * take the first one's lock file for its own). The parent forks before
 * either makes a thread, so each is checked by its own ThreadSanitizer.
 * Each writes to its own hub so that its counts are its own to check;
 * both contend for the one write lock.
 *
 * Steps, each process's outcome checked (every op answered exactly once,
 * counts as submitted), no timing assumed:
 *
 *   handover  the parent's batch commits; a write queued before the loop
 *             answers it is handed to the thread first (its answer sees
 *             a task running), and an answer's submit is applied later
 *   waiters   the child's task says it waits for the write lock and
 *             stays there until told; meanwhile the parent's next batch
 *             is not handed over early (lock_waiters()), it starts once
 *             the answers are done
 *   load      both at once: runs of starts (with a duplicate: a
 *             conflict in the same batch), claims whose answers submit
 *             the completions of what they claimed, a purge of the
 *             Completed whose answers submit its next batch; the parent
 *             with its own thread and sync=on, a run() refused now and
 *             then (the batch is applied in the loop); the child with a
 *             pool of two threads, sync=off and its flush task, and the
 *             reader check timer
 *   close     once every op is answered: threads stopped, store closed
 *   loop      the child opens the file again with writes=loop: batches
 *             in the loop behind a commit gate that is held now and
 *             then, the flush task on the pool every millisecond
 *
 * At the end the file is checked (ds_check), each hub.
 *
 * The files go in the directory the one argument names, which must not
 * exist: made here, removed at the end. A failed check aborts and leaves
 * it; make -C store tsan names one in its build directory, and removes
 * it before each run.
 *
 * The parent also writes to a second store of its own during the load,
 * with a thread of its own: the tasks of its two stores set and clear
 * their bits of the process's one word at once, as the glue's do.
 */


#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "durable_store.h"


#define T_EVS           8       /* the LMDB store inits 6 */
#define T_THREADS       2
#define T_PROCS         2
#define T_N             2000    /* instances per process */
#define T_RUN           6       /* starts per run, then a duplicate */
#define T_CLAIM_MAX     16
#define T_PURGE_MAX     8
#define T_LEASE_US      (600 * 1000000LL)
#define T_ID_LEN        32
#define T_GUARD_S       120     /* a hang fails instead of waiting */
#define T_SIDE_N        1000    /* starts to the parent's second store */
#define T_SIDE_RUN      4
#define T_LOOP_N        1000    /* starts of the writes=loop store */
#define T_DIR_MAX       200     /* the directory's name, in bytes */
#define T_PATH_MAX      (T_DIR_MAX + 16) /* a file in it */


/* a check that ends the process: the outcome must be the expected one */
#define T_OK(c)                                                              \
    do {                                                                     \
        if (!(c)) {                                                          \
            fprintf(stderr, "t_tsan: %s:%d: failed: %s\n", __FILE__,         \
                    __LINE__, #c);                                           \
            abort();                                                         \
        }                                                                    \
    } while (0)


typedef struct t_host_s  t_host_t;
typedef struct t_hev_s   t_hev_t;


/* what the host keeps for a ds_event_t: ds_event_t.host */
struct t_hev_s {
    ds_event_t         *ev;
    t_host_t           *h;
    t_hev_t            *next;           /* in todo or fin, under mu */
    int                 posted;         /* 1: this iteration, 2: next */
    int64_t             at;             /* a timer's time, µs; -1: none */
    int                 task;           /* run() to its handler */
};


struct t_host_s {
    /* the loop's */
    t_hev_t             evs[T_EVS];
    size_t              nevs;
    ds_store_t         *st;
    const char         *who;
    size_t              tasks;          /* run() accepted */
    size_t              in_flight;      /* tasks not handled yet */
    size_t              refused;        /* run() answered -1 */
    unsigned            refuse_every;   /* run() refuses each n-th, 0 no */
    unsigned            runs;
    size_t              submitted;
    size_t              answered;
    size_t              overlapped;     /* answers while a task ran */
    size_t              waiters_seen;   /* lock_waiters() non-zero */
    size_t              applied;
    size_t              wakes;
    size_t              lines;
    size_t              errors;         /* log lines above notice */
    int                 pending;
    int64_t             nap_us;         /* the longest wait of a turn */
    int                 loop_writes;    /* writes=loop, set before open */
    unsigned            gate_tries;
    size_t              gate_taken;
    size_t              gate_released;

    /* the threads' queue, under mu */
    pthread_mutex_t     mu;
    pthread_cond_t      work_cv;
    pthread_cond_t      fin_cv;
    t_hev_t            *todo;
    t_hev_t           **todo_last;
    t_hev_t            *fin;
    t_hev_t           **fin_last;
    int                 stop;
    pthread_t           tids[T_THREADS];
    unsigned            nthreads;

    /* lock_wait(): this process's word, the others' too; its bit */
    unsigned           *words;
    unsigned            slot;
    unsigned            bit;
    unsigned            lock_waits;     /* atomic: the threads add */

    /*
     * hold: the next lock_wait(1) tells hold_tell and waits until
     * hold_until answers (set by the loop before the run() that starts
     * the task, cleared after its answer)
     */
    int                 hold;
    int                 hold_tell;
    int                 hold_until;
};


typedef struct {
    ds_op_t             op;
    t_host_t           *h;
    int                 answers;
    size_t              tasks;          /* h->tasks during done() */
    size_t              in_flight;      /* h->in_flight during done() */
    ds_op_t            *then;           /* submitted by done() */
    char                id[T_ID_LEN];
    uint8_t             lease[DS_LEASE_LEN];
    ds_action_t         act;
    ds_status_e         status;         /* a status read's */
} t_op_t;


typedef struct {
    char                id[T_ID_LEN];
    uint8_t             lease[DS_LEASE_LEN];
} t_item_t;


/* one process's load */
typedef struct {
    t_host_t           *h;
    t_host_t           *side;           /* a second store, or NULL */
    ds_str_t            hub;
    t_op_t              starts[T_N];
    t_op_t              dups[T_N / T_RUN + 1];
    t_op_t              comps[T_N];
    t_op_t              reads[T_N];
    size_t              nstarts;
    size_t              ndups;

    t_op_t              claim;
    uint8_t             tokens[T_CLAIM_MAX * DS_LEASE_LEN];
    t_item_t            items[T_CLAIM_MAX];
    size_t              nitems;         /* by the item callback */
    int                 claiming;
    int                 claim_empty;    /* the last claim found nothing */
    size_t              claims;
    size_t              claimed;
    uint64_t            token_seq;

    size_t              completed;      /* answered DS_OK, Completed */

    ds_query_t          query;
    t_op_t              purges[2];
    int                 purging;        /* 1 running, 2 done */
    size_t              purge_base;     /* completed when it began */
    size_t              purged;
    size_t              purge_batches;

    t_op_t              sides[T_SIDE_N];
    size_t              nsides;
} t_load_t;


static void t_parent(const char *dir, unsigned *words, int to_child,
    int from_child);
static void t_child(const char *dir, unsigned *words, int to_parent,
    int from_parent);
static void t_handover(t_host_t *h, ds_str_t hub);
static void t_waiters(t_host_t *h, ds_str_t hub, int to_child,
    int from_child);
static void t_load(t_host_t *h, ds_str_t hub, t_host_t *side);
static void t_load_starts(t_load_t *l);
static void t_load_claim(t_load_t *l);
static int t_load_side(t_load_t *l);
static void t_loop_writes(t_host_t *h, ds_str_t hub);
static void t_load_check(t_load_t *l);
static void t_check_file(const char *dir);
static void t_start_op(t_op_t *o, t_host_t *h, ds_str_t hub,
    const char *fmt, unsigned n);
static void t_submit(t_host_t *h, t_op_t *o, unsigned flags);
static void t_done(ds_op_t *op);
static void t_claim_done(ds_op_t *op);
static void t_claim_begin(void *data);
static int t_claim_item(void *data, ds_op_t *op, const ds_work_item_t *item);
static void t_comp_done(ds_op_t *op);
static void t_purge_done(ds_op_t *op);
static void t_host_open(t_host_t *h, const char *who, const char *dir,
    unsigned nthreads, unsigned *words, unsigned slot, ds_sync_e sync,
    int64_t flush_ms, int64_t check_ms);
static void t_host_close(t_host_t *h);
static void t_turn(t_host_t *h, int wait);
static void t_run_until_answered(t_host_t *h);
static void t_wait_fin(t_host_t *h);
static void *t_worker(void *data);
static int64_t t_now(void);
static ds_str_t t_str(const char *s);
static void *t_zalloc(size_t size);
static void t_report(void *data, const char *problem, ds_str_t hub,
    ds_str_t id);
static void t_tell(int fd);
static void t_hear(int fd);
static void t_rmdir(const char *dir);
static int t_h_init(void *host, ds_event_t *ev);
static int t_h_run(void *host, ds_event_t *ev);
static void t_h_post(void *host, ds_event_t *ev, int next);
static void t_h_timer(void *host, ds_event_t *ev, int64_t ms);
static void t_h_cancel(void *host, ds_event_t *ev);
static void t_h_wake(void *host);
static void t_h_pending(void *host, int any);
static void t_h_applied(void *host, size_t n, int64_t us, int64_t waited);
static void t_h_log(void *host, ds_log_e level, const char *msg);
static void t_h_lock_wait(void *host, int on);
static int t_h_lock_waiters(void *host);
static int t_h_gate_try(void *host);
static void t_h_gate_release(void *host);


int
main(int argc, char **argv)
{
    int          fd, status, up[2], down[2];
    char         path[T_PATH_MAX];
    pid_t        child;
    unsigned    *words;
    const char  *dir;

    if (argc != 2 || strlen(argv[1]) > T_DIR_MAX) {
        fprintf(stderr, "usage: t_tsan DIR (not there yet, at most %d "
                "bytes)\n", T_DIR_MAX);
        return 1;
    }

    dir = argv[1];

    if (mkdir(dir, 0700) == -1) {
        perror(dir);
        return 1;
    }

    /* the processes' lock-wait words, as nginx's shared zone holds them */

    snprintf(path, sizeof(path), "%s/waits", dir);

    fd = open(path, O_RDWR | O_CREAT, 0600);
    T_OK(fd != -1);
    T_OK(ftruncate(fd, T_PROCS * sizeof(unsigned)) == 0);

    words = mmap(NULL, T_PROCS * sizeof(unsigned), PROT_READ | PROT_WRITE,
                 MAP_SHARED, fd, 0);
    T_OK(words != MAP_FAILED);
    (void) close(fd);

    T_OK(pipe(up) == 0 && pipe(down) == 0);

    /* before any thread: each process gets a ThreadSanitizer of its own */

    child = fork();
    T_OK(child != -1);

    if (child == 0) {
        (void) close(up[0]);
        (void) close(down[1]);
        alarm(T_GUARD_S);
        t_child(dir, words, up[1], down[0]);
        return 0;
    }

    (void) close(up[1]);
    (void) close(down[0]);
    alarm(T_GUARD_S);

    t_parent(dir, words, down[1], up[0]);

    T_OK(waitpid(child, &status, 0) == child);

    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "t_tsan: the child process failed (status %d)\n",
                status);
        return 1;
    }

    t_check_file(dir);

    (void) munmap(words, T_PROCS * sizeof(unsigned));

    snprintf(path, sizeof(path), "%s/side", dir);
    t_rmdir(path);
    t_rmdir(dir);

    printf("t_tsan: ok\n");

    return 0;
}


static void
t_parent(const char *dir, unsigned *words, int to_child, int from_child)
{
    char       side_dir[T_PATH_MAX];
    t_host_t  *h, *side;

    h = t_zalloc(sizeof(t_host_t));
    side = t_zalloc(sizeof(t_host_t));

    t_host_open(h, "parent", dir, 1, words, 0, DS_SYNC_FULL, 0, 0);

    /* the child's store is open and idle: no task of it waits */
    t_hear(from_child);

    /* a hub apart: the load's claims take any Pending of theirs */
    t_handover(h, t_str("hubA0"));
    t_waiters(h, t_str("hubA0"), to_child, from_child);

    /* both at once from here */
    t_tell(to_child);

    /*
     * a second store of this process, its own thread: the tasks of both
     * set and clear their bits of the process's one word at once, as the
     * glue's stores do
     */

    snprintf(side_dir, sizeof(side_dir), "%s/side", dir);
    T_OK(mkdir(side_dir, 0700) == 0);

    side->bit = 2;
    t_host_open(side, "side", side_dir, 1, words, 0, DS_SYNC_NONE, 0, 0);

    /* two loops in one: neither may sleep long on its own tasks */
    h->nap_us = 1000;
    side->nap_us = 1000;

    h->refuse_every = 5;
    t_load(h, t_str("hubA"), side);

    t_host_close(side);
    t_host_close(h);
    free(side);
    free(h);
}


static void
t_child(const char *dir, unsigned *words, int to_parent, int from_parent)
{
    t_op_t     o;
    t_host_t  *h;

    h = t_zalloc(sizeof(t_host_t));

    t_host_open(h, "child", dir, T_THREADS, words, 1, DS_SYNC_NONE, 2, 5);

    t_tell(to_parent);

    /* waiters: this task waits for the write lock until the parent says */

    t_hear(from_parent);

    h->hold = 1;
    h->hold_tell = to_parent;
    h->hold_until = from_parent;

    t_start_op(&o, h, t_str("hubB0"), "held%u", 0);
    t_submit(h, &o, 0);
    t_run_until_answered(h);

    T_OK(o.answers == 1);
    T_OK(o.op.rc == DS_OK);
    h->hold = 0;

    /* load */

    t_hear(from_parent);
    t_load(h, t_str("hubB"), NULL);

    t_host_close(h);
    free(h);

    /* the same file again, writes=loop: the flush task on the pool */

    h = t_zalloc(sizeof(t_host_t));
    h->loop_writes = 1;

    t_host_open(h, "child loop", dir, T_THREADS, words, 1, DS_SYNC_NONE, 1,
                0);
    t_loop_writes(h, t_str("hubL"));

    t_host_close(h);
    free(h);
}


/*
 * A committed batch's task is done, its handler not run yet, when a write
 * comes: the handler hands that write to the thread before the loop
 * answers the batch. The answer submits another write, applied after.
 */

static void
t_handover(t_host_t *h, ds_str_t hub)
{
    t_op_t  a, b, c;

    t_start_op(&a, h, hub, "ho%u", 1);
    t_start_op(&b, h, hub, "ho%u", 2);
    t_start_op(&c, h, hub, "ho%u", 3);
    a.then = &c.op;

    t_submit(h, &a, 0);
    T_OK(h->tasks == 1);

    /* the batch of a committed; its answer not given yet */
    t_wait_fin(h);

    t_submit(h, &b, 0);
    T_OK(h->tasks == 1);

    t_run_until_answered(h);

    /* b was handed over before a was answered */
    T_OK(a.answers == 1 && a.op.rc == DS_OK);
    T_OK(a.tasks == 2);
    T_OK(a.in_flight == 1);

    /* c joined b's batch, if b's task was not holding the lock yet */
    T_OK(b.answers == 1 && b.op.rc == DS_OK);
    T_OK(c.answers == 1 && c.op.rc == DS_OK);
    T_OK(h->tasks == 2 || h->tasks == 3);
    T_OK(ds_store_busy(h->st) == 0);
    T_OK(h->pending == 0);
}


/*
 * The child's task waits for the write lock (as lock_wait() told): the
 * parent's next batch starts after the answers of the one committed.
 */

static void
t_waiters(t_host_t *h, ds_str_t hub, int to_child, int from_child)
{
    size_t  seen, tasks;
    t_op_t  a, b;

    t_start_op(&a, h, hub, "wt%u", 1);
    t_start_op(&b, h, hub, "wt%u", 2);

    seen = h->waiters_seen;
    tasks = h->tasks;

    t_submit(h, &a, 0);
    t_wait_fin(h);
    t_submit(h, &b, 0);
    T_OK(h->tasks == tasks + 1);

    /* the child submits; its task tells lock_wait(1), then holds */
    t_tell(to_child);
    t_hear(from_child);

    t_turn(h, 0);

    T_OK(a.answers == 1 && a.op.rc == DS_OK);
    T_OK(a.tasks == tasks + 1);
    T_OK(a.in_flight == 0);
    T_OK(h->waiters_seen > seen);

    /* after the answers: b's batch */
    T_OK(h->tasks == tasks + 2);

    /* the child's task may go on */
    t_tell(to_child);

    t_run_until_answered(h);

    T_OK(b.answers == 1 && b.op.rc == DS_OK);
    T_OK(ds_store_busy(h->st) == 0);
}


/*
 * Starts in runs, claims, completions submitted by the claims' answers,
 * a purge alongside; turns the loop whenever there is nothing to submit.
 */

static void
t_load(t_host_t *h, ds_str_t hub, t_host_t *side)
{
    size_t     i;
    t_op_t    *o;
    t_load_t  *l;

    l = t_zalloc(sizeof(t_load_t));

    l->h = h;
    l->side = side;
    l->hub = hub;
    l->query.status_mask = DS_STATUS_MASK(DS_COMPLETED);

    for (i = 0; i < 2; i++) {
        o = &l->purges[i];
        o->h = h;
        o->op.type = DS_OP_PURGE_BATCH;
        o->op.hub = hub;
        o->op.in.purge.query = &l->query;
        o->op.in.purge.max = T_PURGE_MAX;
        o->op.done = t_purge_done;
        o->op.data = l;
    }

    while (l->nstarts < T_N || l->completed < T_N || l->claiming
           || l->purging != 2 || h->answered != h->submitted
           || (side != NULL
               && (l->nsides < T_SIDE_N
                   || side->answered != side->submitted)))
    {
        int  did;

        did = 0;

        if (l->nstarts < T_N) {
            t_load_starts(l);
            did = 1;
        }

        if (!l->claiming && l->claimed < T_N && !l->claim_empty) {
            t_load_claim(l);
            did = 1;
        }

        if (l->purging == 0 && l->completed >= T_N / 2) {
            /* the Completed so far are committed: all of them purged */
            l->purging = 1;
            l->purge_base = l->completed;
            t_submit(h, &l->purges[0], 0);
            did = 1;
        }

        if (side != NULL) {
            did |= t_load_side(l);
            t_turn(side, 0);
        }

        /* a claim that found nothing waits for a commit first */
        t_turn(h, !did);
        l->claim_empty = 0;
    }

    t_load_check(l);

    printf("t_tsan %s: %zu ops answered; %zu tasks, %zu refused (applied "
           "in the loop), %zu answers while a task ran, lock waiters seen "
           "%zu times; %zu claims, %zu purge batches deleted %zu\n",
           h->who, h->answered, h->tasks, h->refused, h->overlapped,
           h->waiters_seen, l->claims, l->purge_batches, l->purged);

    if (side != NULL) {
        printf("t_tsan %s: %zu ops answered; %zu tasks, %zu answers while "
               "a task ran\n", side->who, side->answered, side->tasks,
               side->overlapped);
    }

    free(l);
}


/* a run of starts, its last a duplicate of its first: one batch */

static void
t_load_starts(t_load_t *l)
{
    size_t   i, first;
    t_op_t  *o;

    first = l->nstarts;

    for (i = 0; i < T_RUN && l->nstarts < T_N; i++) {
        o = &l->starts[l->nstarts];
        t_start_op(o, l->h, l->hub, "i%u", (unsigned) l->nstarts);
        l->nstarts++;

        t_submit(l->h, o, DS_SUBMIT_MORE);
    }

    o = &l->dups[l->ndups++];
    t_start_op(o, l->h, l->hub, "i%u", (unsigned) first);
    t_submit(l->h, o, 0);
}


/* the second store: runs of starts, a few runs in flight at most */

static int
t_load_side(t_load_t *l)
{
    size_t     i;
    t_op_t    *o;
    t_host_t  *side = l->side;

    if (l->nsides == T_SIDE_N
        || side->submitted - side->answered >= 4 * T_SIDE_RUN)
    {
        return 0;
    }

    for (i = 0; i < T_SIDE_RUN && l->nsides < T_SIDE_N; i++) {
        o = &l->sides[l->nsides];
        t_start_op(o, side, t_str("hubS"), "s%u", (unsigned) l->nsides);
        l->nsides++;

        t_submit(side, o,
                 (i + 1 < T_SIDE_RUN && l->nsides < T_SIDE_N)
                 ? DS_SUBMIT_MORE : 0);
    }

    return 1;
}


/*
 * writes=loop (sync=off): batches in the loop behind the commit gate,
 * which another process holds at every third try, while the flush task
 * syncs the file on the pool every millisecond
 */

static void
t_loop_writes(t_host_t *h, ds_str_t hub)
{
    int      did;
    size_t   i, n;
    t_op_t  *ops, *o;

    ops = t_zalloc(T_LOOP_N * sizeof(t_op_t));
    n = 0;

    while (n < T_LOOP_N || h->answered != h->submitted) {
        did = 0;

        if (n < T_LOOP_N && h->submitted - h->answered < 4 * T_SIDE_RUN) {
            for (i = 0; i < T_SIDE_RUN && n < T_LOOP_N; i++, n++) {
                o = &ops[n];
                t_start_op(o, h, hub, "l%u", (unsigned) n);
                t_submit(h, o, (i + 1 < T_SIDE_RUN && n + 1 < T_LOOP_N)
                               ? DS_SUBMIT_MORE : 0);
            }

            did = 1;
        }

        t_turn(h, !did);
    }

    for (i = 0; i < T_LOOP_N; i++) {
        T_OK(ops[i].answers == 1);
        T_OK(ops[i].op.rc == DS_OK);
    }

    t_run_until_answered(h);

    T_OK(h->applied == T_LOOP_N);
    T_OK(h->gate_taken > 0 && h->gate_taken == h->gate_released);
    T_OK(h->gate_tries > h->gate_taken);
    T_OK(ds_store_busy(h->st) == 0);
    T_OK(h->errors == 0);

    printf("t_tsan %s: %zu ops answered; %zu tasks (flushes), gate taken "
           "%zu times in %u tries\n", h->who, h->answered, h->tasks,
           h->gate_taken, h->gate_tries);

    free(ops);
}


static void
t_load_claim(t_load_t *l)
{
    size_t    i;
    t_op_t   *o;
    uint8_t  *tok;

    o = &l->claim;

    memset(o, 0, sizeof(t_op_t));
    o->h = l->h;
    o->op.type = DS_OP_WORK_CLAIM;
    o->op.hub = l->hub;
    o->op.done = t_claim_done;
    o->op.data = l;

    /* each lease a token of its own */

    for (i = 0; i < T_CLAIM_MAX; i++) {
        tok = &l->tokens[i * DS_LEASE_LEN];
        memset(tok, 0, DS_LEASE_LEN);
        tok[0] = (uint8_t) l->h->slot + 1;
        l->token_seq++;
        memcpy(tok + 1, &l->token_seq, sizeof(l->token_seq));
    }

    o->op.in.claim.kind = DS_WORK_ORCHESTRATION;
    o->op.in.claim.lease_us = T_LEASE_US;
    o->op.in.claim.max = T_CLAIM_MAX;
    o->op.in.claim.tokens = l->tokens;
    o->op.in.claim.begin = t_claim_begin;
    o->op.in.claim.item = t_claim_item;
    o->op.in.claim.item_data = l;

    l->claiming = 1;
    l->claims++;

    t_submit(l->h, o, 0);
}


/* in the writer's thread, once per apply of the claim */

static void
t_claim_begin(void *data)
{
    t_load_t  *l = data;

    l->nitems = 0;
}


/* in the writer's thread: the item into the loop's memory */

static int
t_claim_item(void *data, ds_op_t *op, const ds_work_item_t *item)
{
    t_load_t  *l = data;
    t_item_t  *it;

    (void) op;

    if (l->nitems == T_CLAIM_MAX || item->id.len >= T_ID_LEN) {
        return 1;
    }

    it = &l->items[l->nitems++];

    memcpy(it->id, item->id.data, item->id.len);
    it->id[item->id.len] = '\0';
    memcpy(it->lease, item->lease, DS_LEASE_LEN);

    return 0;
}


/* the claim's answer submits the completions of its items, one run */

static void
t_claim_done(ds_op_t *op)
{
    size_t     i, n;
    t_op_t    *o;
    t_load_t  *l = op->data;

    t_done(op);

    T_OK(op->rc == DS_OK);
    T_OK(op->out.claim.claimed == l->nitems);

    l->claiming = 0;
    l->claim_empty = (l->nitems == 0);
    l->claimed += l->nitems;
    T_OK(l->claimed <= T_N);

    for (i = 0; i < l->nitems; i++) {
        T_OK(l->items[i].id[0] == 'i');
        n = strtoul(l->items[i].id + 1, NULL, 10);
        T_OK(n < T_N);

        /* each instance is claimed once: the leases do not run out */
        o = &l->comps[n];
        T_OK(o->h == NULL);

        o->h = l->h;
        o->op.type = DS_OP_WORK_COMPLETE;
        o->op.hub = l->hub;
        o->op.done = t_comp_done;
        o->op.data = l;

        memcpy(o->id, l->items[i].id, T_ID_LEN);
        memcpy(o->lease, l->items[i].lease, DS_LEASE_LEN);

        o->act.type = DS_ACT_COMPLETE;
        o->act.input.data = "\"ok\"";
        o->act.input.len = 4;

        o->op.in.work.kind = DS_WORK_ORCHESTRATION;
        o->op.in.work.id.data = o->id;
        o->op.in.work.id.len = strlen(o->id);
        o->op.in.work.lease = o->lease;
        o->op.in.work.actions = &o->act;
        o->op.in.work.nactions = 1;

        t_submit(l->h, o, i + 1 < l->nitems ? DS_SUBMIT_MORE : 0);
    }
}


static void
t_comp_done(ds_op_t *op)
{
    t_load_t  *l = op->data;

    t_done(op);

    T_OK(op->rc == DS_OK);
    T_OK(op->out.work.status == DS_COMPLETED);
    T_OK(op->out.work.changed == 1);

    l->completed++;
}


/* a purge batch's answer submits the next one while matches are left */

static void
t_purge_done(ds_op_t *op)
{
    t_op_t    *next;
    t_load_t  *l = op->data;

    t_done(op);

    T_OK(op->rc == DS_OK);

    l->purged += op->out.purge.deleted;
    l->purge_batches++;

    if (!op->out.purge.more) {
        l->purging = 2;
        return;
    }

    /* the other one: this one is the store's until done() returns */
    next = &l->purges[op == &l->purges[0].op ? 1 : 0];
    next->answers = 0;
    t_submit(l->h, next, 0);
}


/* every instance Completed or purged; every op answered once */

static void
t_load_check(t_load_t *l)
{
    size_t     i, found, gone;
    t_op_t    *o;
    t_host_t  *h = l->h;

    T_OK(l->completed == T_N);
    T_OK(l->claimed == T_N);

    for (i = 0; i < T_N; i++) {
        T_OK(l->starts[i].answers == 1);
        T_OK(l->starts[i].op.rc == DS_OK);
        T_OK(l->comps[i].answers == 1);
    }

    /* each duplicate met its first in the same batch, Pending */

    for (i = 0; i < l->ndups; i++) {
        T_OK(l->dups[i].answers == 1);
        T_OK(l->dups[i].op.rc == DS_CONFLICT);
        T_OK(l->dups[i].op.out.start.status == DS_PENDING);
    }

    T_OK(l->purge_batches >= 1);
    T_OK(l->purged >= l->purge_base);
    T_OK(l->purged <= T_N);

    /* reads, answered before submit returns */

    found = 0;
    gone = 0;

    for (i = 0; i < T_N; i++) {
        o = &l->reads[i];
        memset(o, 0, sizeof(t_op_t));
        snprintf(o->id, sizeof(o->id), "i%u", (unsigned) i);

        o->h = h;
        o->op.type = DS_OP_STATUS;
        o->op.hub = l->hub;
        o->op.in.control.id.data = o->id;
        o->op.in.control.id.len = strlen(o->id);
        o->op.done = t_done;
        o->op.data = o;

        t_submit(h, o, 0);
        T_OK(o->answers == 1);

        if (o->op.rc == DS_NOTFOUND) {
            gone++;

        } else {
            T_OK(o->op.rc == DS_OK);
            T_OK(o->status == DS_COMPLETED);
            found++;
        }
    }

    T_OK(gone == l->purged);
    T_OK(found + gone == T_N);

    T_OK(h->answered == h->submitted);

    /* a flush task may still run; once it is done nothing is pending */
    t_run_until_answered(h);
    T_OK(ds_store_busy(h->st) == 0);
    T_OK(h->pending == 0);
    T_OK(h->errors == 0);
    T_OK(h->applied > 0 && h->wakes > 0);

    if (l->side == NULL) {
        return;
    }

    for (i = 0; i < T_SIDE_N; i++) {
        T_OK(l->sides[i].answers == 1);
        T_OK(l->sides[i].op.rc == DS_OK);
    }

    T_OK(l->side->answered == l->side->submitted);
    T_OK(l->side->errors == 0);
}


/* the store file after both processes closed it: consistent, each hub */

static void
t_check_file(const char *dir)
{
    size_t             i;
    ds_env_t          *env;
    ds_env_conf_t      conf;
    ds_check_stats_t   stats;
    char               err[256];
    static const char *hubs[] = { "hubA0", "hubB0", "hubA", "hubB",
                                  "hubL" };

    memset(&conf, 0, sizeof(conf));
    conf.path = dir;
    conf.map_size = 64 * 1024 * 1024;

    T_OK(ds_env_open(&env, &conf, err, sizeof(err)) == DS_OK);

    for (i = 0; i < sizeof(hubs) / sizeof(hubs[0]); i++) {
        memset(&stats, 0, sizeof(stats));
        T_OK(ds_check(env, t_str(hubs[i]), t_report, NULL, &stats)
             == DS_OK);
    }

    ds_env_close(env);
}


static void
t_start_op(t_op_t *o, t_host_t *h, ds_str_t hub, const char *fmt,
    unsigned n)
{
    memset(o, 0, sizeof(t_op_t));

    snprintf(o->id, sizeof(o->id), fmt, n);

    o->h = h;
    o->op.type = DS_OP_START;
    o->op.hub = hub;
    o->op.in.start.id.data = o->id;
    o->op.in.start.id.len = strlen(o->id);
    o->op.in.start.name.data = "Hello";
    o->op.in.start.name.len = 5;
    o->op.done = t_done;
    o->op.data = o;
}


static void
t_submit(t_host_t *h, t_op_t *o, unsigned flags)
{
    o->h = h;
    h->submitted++;

    ds_store_submit(h->st, &o->op, flags);
}


/* every answer: once, in the loop; what the host was doing then */

static void
t_done(ds_op_t *op)
{
    t_op_t    *o;
    t_host_t  *h;

    /* op is the first member of every t_op_t */
    o = (t_op_t *) op;
    h = o->h;

    T_OK(o->answers == 0);
    o->answers++;
    o->tasks = h->tasks;
    o->in_flight = h->in_flight;

    h->answered++;
    h->overlapped += (h->in_flight > 0);

    if (op->type == DS_OP_STATUS && op->rc == DS_OK) {
        o->status = op->out.status.inst->status;
    }

    if (o->then != NULL) {
        t_submit(h, (t_op_t *) o->then, 0);
    }
}


/* --- the host ------------------------------------------------------- */


static void
t_host_open(t_host_t *h, const char *who, const char *dir,
    unsigned nthreads, unsigned *words, unsigned slot, ds_sync_e sync,
    int64_t flush_ms, int64_t check_ms)
{
    char             err[256];
    unsigned         i;
    ds_host_t        host;
    ds_store_conf_t  conf;

    h->who = who;
    h->todo_last = &h->todo;
    h->fin_last = &h->fin;
    h->words = words;
    h->slot = slot;
    h->bit = h->bit ? h->bit : 1;
    h->nap_us = h->nap_us ? h->nap_us : 10000;
    h->nthreads = nthreads;

    T_OK(pthread_mutex_init(&h->mu, NULL) == 0);
    T_OK(pthread_cond_init(&h->work_cv, NULL) == 0);
    T_OK(pthread_cond_init(&h->fin_cv, NULL) == 0);

    for (i = 0; i < nthreads; i++) {
        T_OK(pthread_create(&h->tids[i], NULL, t_worker, h) == 0);
    }

    memset(&host, 0, sizeof(ds_host_t));
    host.data = h;
    host.init = t_h_init;
    host.run = t_h_run;
    host.post = t_h_post;
    host.timer = t_h_timer;
    host.cancel = t_h_cancel;
    host.wake = t_h_wake;
    host.pending = t_h_pending;
    host.applied = t_h_applied;
    host.log = t_h_log;
    host.log_level = DS_LOG_DEBUG;
    host.lock_wait = t_h_lock_wait;
    host.lock_waiters = t_h_lock_waiters;
    host.gate_try = t_h_gate_try;
    host.gate_release = t_h_gate_release;

    memset(&conf, 0, sizeof(conf));
    conf.name = who;
    conf.backend = DS_BACKEND_LMDB;
    conf.env.path = dir;
    conf.env.map_size = 64 * 1024 * 1024;
    conf.env.sync = sync;
    conf.writes = h->loop_writes ? DS_WRITES_LOOP : DS_WRITES_THREAD;
    conf.flush_ms = flush_ms;
    conf.reader_check_ms = check_ms;

    if (ds_store_open(&h->st, &conf, &host, err, sizeof(err)) != DS_OK) {
        fprintf(stderr, "t_tsan %s: ds_store_open: %s\n", who, err);
        abort();
    }
}


/* as the glue's exit: the threads end once idle, then the store closes */

static void
t_host_close(t_host_t *h)
{
    unsigned  i;

    t_run_until_answered(h);

    T_OK(ds_store_busy(h->st) == 0);
    T_OK(h->in_flight == 0);

    T_OK(pthread_mutex_lock(&h->mu) == 0);
    h->stop = 1;
    T_OK(pthread_cond_broadcast(&h->work_cv) == 0);
    T_OK(pthread_mutex_unlock(&h->mu) == 0);

    for (i = 0; i < h->nthreads; i++) {
        T_OK(pthread_join(h->tids[i], NULL) == 0);
    }

    T_OK(h->todo == NULL && h->fin == NULL);

    ds_store_close(h->st);
    h->st = NULL;

    T_OK(h->pending == 0);
    T_OK((__atomic_load_n(&h->words[h->slot], __ATOMIC_SEQ_CST) & h->bit)
         == 0);
    T_OK(h->loop_writes
         || __atomic_load_n(&h->lock_waits, __ATOMIC_SEQ_CST) > 0);

    (void) pthread_cond_destroy(&h->fin_cv);
    (void) pthread_cond_destroy(&h->work_cv);
    (void) pthread_mutex_destroy(&h->mu);
}


/*
 * One iteration of the loop: finished tasks' handlers, due timers, then
 * the posted events (those posted for the next iteration wait for it).
 * With wait, it first sleeps until a task ends or a timer is due (at
 * most 10 ms) unless something is posted.
 */

static void
t_turn(t_host_t *h, int wait)
{
    size_t           i;
    int64_t          now, sleep_us;
    t_hev_t         *fin, *next, *he;
    struct timespec  ts;

    now = t_now();
    sleep_us = h->nap_us;

    for (i = 0; i < h->nevs; i++) {
        he = &h->evs[i];

        if (he->posted == 1) {
            sleep_us = 0;
        }

        if (he->at >= 0 && he->at - now < sleep_us) {
            sleep_us = he->at > now ? he->at - now : 0;
        }
    }

    T_OK(pthread_mutex_lock(&h->mu) == 0);

    if (wait && h->fin == NULL && sleep_us > 0) {
        T_OK(clock_gettime(CLOCK_REALTIME, &ts) == 0);

        ts.tv_nsec += (long) (sleep_us * 1000);
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;

        (void) pthread_cond_timedwait(&h->fin_cv, &h->mu, &ts);
    }

    fin = h->fin;
    h->fin = NULL;
    h->fin_last = &h->fin;

    T_OK(pthread_mutex_unlock(&h->mu) == 0);

    for ( /* void */ ; fin; fin = next) {
        next = fin->next;
        fin->next = NULL;
        fin->task = 0;
        h->in_flight--;

        fin->ev->handler(fin->ev);
    }

    now = t_now();

    for (i = 0; i < h->nevs; i++) {
        he = &h->evs[i];

        if (he->at >= 0 && he->at <= now) {
            he->at = -1;
            he->ev->handler(he->ev);
        }
    }

    /* posted with next 0 during these handlers run in this iteration */

    for (i = 0; i < h->nevs; i++) {
        he = &h->evs[i];

        if (he->posted == 1) {
            he->posted = 0;
            he->ev->handler(he->ev);

            /* from the first again: the handler may have posted */
            i = (size_t) -1;
        }
    }

    for (i = 0; i < h->nevs; i++) {
        if (h->evs[i].posted == 2) {
            h->evs[i].posted = 1;
        }
    }
}


static void
t_run_until_answered(t_host_t *h)
{
    while (h->answered != h->submitted || h->in_flight) {
        t_turn(h, 1);
    }
}


/* until a task has ended, without running its handler */

static void
t_wait_fin(t_host_t *h)
{
    T_OK(pthread_mutex_lock(&h->mu) == 0);

    while (h->fin == NULL) {
        T_OK(pthread_cond_wait(&h->fin_cv, &h->mu) == 0);
    }

    T_OK(pthread_mutex_unlock(&h->mu) == 0);
}


/* a thread of the pool: a job's work, then it goes back to the loop */

static void *
t_worker(void *data)
{
    t_host_t  *h = data;
    t_hev_t   *he;

    T_OK(pthread_mutex_lock(&h->mu) == 0);

    for ( ;; ) {
        while (h->todo == NULL && !h->stop) {
            T_OK(pthread_cond_wait(&h->work_cv, &h->mu) == 0);
        }

        if (h->todo == NULL) {
            break;
        }

        he = h->todo;
        h->todo = he->next;

        if (h->todo == NULL) {
            h->todo_last = &h->todo;
        }

        T_OK(pthread_mutex_unlock(&h->mu) == 0);

        he->ev->work(he->ev);

        T_OK(pthread_mutex_lock(&h->mu) == 0);

        he->next = NULL;
        *h->fin_last = he;
        h->fin_last = &he->next;

        T_OK(pthread_cond_signal(&h->fin_cv) == 0);
    }

    T_OK(pthread_mutex_unlock(&h->mu) == 0);

    return NULL;
}


static int
t_h_init(void *host, ds_event_t *ev)
{
    t_host_t  *h = host;
    t_hev_t   *he;

    if (h->nevs == T_EVS) {
        return -1;
    }

    he = &h->evs[h->nevs++];
    he->ev = ev;
    he->h = h;
    he->at = -1;

    ev->host = he;

    return 0;
}


static int
t_h_run(void *host, ds_event_t *ev)
{
    t_host_t  *h = host;
    t_hev_t   *he = ev->host;

    if (h->refuse_every && ++h->runs % h->refuse_every == 0) {
        /* as a full queue of a pool: the store works in the loop */
        h->refused++;
        return -1;
    }

    T_OK(!he->task);

    he->task = 1;
    h->tasks++;
    h->in_flight++;

    T_OK(pthread_mutex_lock(&h->mu) == 0);

    he->next = NULL;
    *h->todo_last = he;
    h->todo_last = &he->next;

    T_OK(pthread_cond_signal(&h->work_cv) == 0);
    T_OK(pthread_mutex_unlock(&h->mu) == 0);

    return 0;
}


static void
t_h_post(void *host, ds_event_t *ev, int next)
{
    t_hev_t  *he = ev->host;

    (void) host;

    if (he->posted == 0) {
        he->posted = next ? 2 : 1;
    }
}


static void
t_h_timer(void *host, ds_event_t *ev, int64_t ms)
{
    t_hev_t  *he = ev->host;

    (void) host;

    T_OK(ms >= 0);
    he->at = t_now() + ms * 1000;
}


static void
t_h_cancel(void *host, ds_event_t *ev)
{
    t_hev_t  *he = ev->host;

    (void) host;

    he->at = -1;
    he->posted = 0;
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

    T_OK(h->pending != any);
    h->pending = any;
}


static void
t_h_applied(void *host, size_t n, int64_t us, int64_t waited)
{
    t_host_t  *h = host;

    T_OK(us >= 0 && waited >= 0 && waited <= us);
    h->applied += n;
}


static void
t_h_log(void *host, ds_log_e level, const char *msg)
{
    t_host_t  *h = host;

    h->lines++;

    if (level < DS_LOG_NOTICE) {
        fprintf(stderr, "t_tsan %s: %s\n", h->who, msg);
        h->errors++;
    }
}


/* in the task's thread: a bit in this process's word, as _notify.c */

static void
t_h_lock_wait(void *host, int on)
{
    char       c;
    t_host_t  *h = host;

    if (on) {
        (void) __atomic_fetch_or(&h->words[h->slot], h->bit,
                                 __ATOMIC_SEQ_CST);

    } else {
        (void) __atomic_fetch_and(&h->words[h->slot], ~h->bit,
                                  __ATOMIC_SEQ_CST);
    }

    (void) __atomic_fetch_add(&h->lock_waits, (unsigned) on,
                              __ATOMIC_SEQ_CST);

    if (on && h->hold) {
        /* waits long, as behind another process's commit and fsync */
        t_tell(h->hold_tell);
        T_OK(read(h->hold_until, &c, 1) == 1);
    }
}


/* in the loop: whether a task of any process waits for the lock */

static int
t_h_lock_waiters(void *host)
{
    unsigned   i;
    t_host_t  *h = host;

    for (i = 0; i < T_PROCS; i++) {
        if (__atomic_load_n(&h->words[i], __ATOMIC_SEQ_CST) & h->bit) {
            h->waiters_seen++;
            return 1;
        }
    }

    return 0;
}


static void
t_report(void *data, const char *problem, ds_str_t hub, ds_str_t id)
{
    (void) data;

    fprintf(stderr, "t_tsan: check: %s: hub \"%.*s\" id \"%.*s\"\n",
            problem, (int) hub.len, hub.data, (int) id.len,
            id.data ? id.data : "");
}


/* zeroed memory of the test, or the test ends */

static void *
t_zalloc(size_t size)
{
    void  *p;

    p = calloc(1, size);
    if (p == NULL) {
        perror("calloc");
        abort();
    }

    return p;
}


static ds_str_t
t_str(const char *s)
{
    ds_str_t  r;

    r.data = s;
    r.len = strlen(s);

    return r;
}


/* the commit gate (writes=loop): another process holds it now and then */

static int
t_h_gate_try(void *host)
{
    t_host_t  *h = host;

    T_OK(h->loop_writes);

    if (++h->gate_tries % 3 == 0) {
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


static int64_t
t_now(void)
{
    struct timespec  ts;

    T_OK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);

    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


static void
t_tell(int fd)
{
    T_OK(write(fd, "x", 1) == 1);
}


static void
t_hear(int fd)
{
    char  c;

    T_OK(read(fd, &c, 1) == 1);
}


static void
t_rmdir(const char *dir)
{
    char            path[512];
    DIR            *d;
    struct dirent  *e;

    d = opendir(dir);
    T_OK(d != NULL);

    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }

        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        (void) unlink(path);
    }

    (void) closedir(d);
    (void) rmdir(dir);
}
