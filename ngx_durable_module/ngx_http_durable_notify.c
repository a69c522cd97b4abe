
/*
 * Copyright (C) ngx_durable authors
 *
 * What nginx's processes share, in a small shared memory zone:
 *
 *   - nginx has no wake-up between its processes: a counter is bumped
 *     by every write that may create work, and waiting claims poll it
 *     with a short timer (docs/disk-and-event-loop.md);
 *   - commit gates: a process that commits in its event loop (writes=loop,
 *     thread_pool=off) takes its store's gate first, without waiting; if
 *     another process holds it, the batch waits for the next iteration of
 *     the event loop instead of sleeping on LMDB's write lock. The gate is
 *     advice: LMDB's write lock still orders the commits. So a gate held
 *     by a process that is gone is taken over, and one held for longer
 *     than NGX_HTTP_DURABLE_GATE_PATIENCE (a stuck or stopped holder, a
 *     killed one whose pid was reused) is ignored: the process commits
 *     without it, waiting on LMDB's lock as it would without gates. A
 *     store's gate is its place among the stores; past 64 they share;
 *   - the leases of work items completed or abandoned lately, in a ring:
 *     a gRPC work-item stream counts the items it handed out toward the
 *     worker's limits, and the completion may come through any process
 *     (ngx_http_durable_grpc_worker.c). A stream that falls more than
 *     the ring behind misses some, which then count until their lease
 *     runs out, as they would without the ring;
 *   - lock waits: a word per process slot, a bit per store (stores past
 *     the word's bits share one), set while a store's task of the process
 *     waits for LMDB's write lock; a batch is handed to its task before
 *     the last one is answered only when no bit of its store is set
 *     (docs/design.md, "The writer");
 *   - stop words: one per store directory (its real path's hash), which
 *     the store sets when a flush of it fails, and which then refuses
 *     writes in every process (ds_env_conf_t's stop). A reload keeps the
 *     zone, so its new processes stay stopped too; only a new master
 *     (nginx started again, a binary upgrade) has words that are clear.
 *     Words are never given back: a master that sees more store
 *     directories than NGX_HTTP_DURABLE_STOPS gives the rest none, and
 *     their stop is their process's own, as without the zone.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_notify.h"


#define NGX_HTTP_DURABLE_GATES          64

/* ms: a gate held longer is ignored; one held 1 ms is checked for life */
#define NGX_HTTP_DURABLE_GATE_PATIENCE  100

#define NGX_HTTP_DURABLE_RELEASED       1024

/* the stores a process's tasks wait for, one bit each (shared past it) */
#define NGX_HTTP_DURABLE_WAIT_BITS      (8 * sizeof(ngx_atomic_uint_t))

/* the store directories a master's processes may share stop words for */
#define NGX_HTTP_DURABLE_STOPS          128


typedef struct {
    ngx_atomic_t                pid;        /* 0: free */
    ngx_atomic_t                since;      /* ngx_current_msec when taken */
} ngx_http_durable_gate_t;


/* a released lease; seq is its place in the ring plus one once written */
typedef struct {
    ngx_atomic_t                seq;
    u_char                      lease[DS_LEASE_LEN];
} ngx_http_durable_released_t;


/* a store directory's stop word; key 0: free */
typedef struct {
    ngx_atomic_t                key;        /* ngx_http_durable_dir_key() */
    int                         stop;       /* the store's, atomic */
} ngx_http_durable_stop_t;


typedef struct {
    ngx_atomic_t                seq;
    ngx_http_durable_gate_t     gates[NGX_HTTP_DURABLE_GATES];
    ngx_atomic_t                released_seq;   /* places taken */
    ngx_http_durable_released_t released[NGX_HTTP_DURABLE_RELEASED];
    /* by process slot: the gates whose stores its tasks wait to write */
    ngx_atomic_t                lock_waits[NGX_MAX_PROCESSES];
    ngx_atomic_t                lock_wait_pids[NGX_MAX_PROCESSES];
    ngx_http_durable_stop_t     stops[NGX_HTTP_DURABLE_STOPS];
} ngx_http_durable_shared_t;


static ngx_int_t ngx_http_durable_notify_init_zone(ngx_shm_zone_t *zone,
    void *data);
static ngx_uint_t ngx_http_durable_lock_waiter_gone(
    ngx_http_durable_shared_t *sh, ngx_uint_t slot, ngx_atomic_uint_t word);
static ngx_atomic_uint_t ngx_http_durable_dir_key(ngx_str_t *dir);


static ngx_http_durable_shared_t  *ngx_http_durable_shared;
static ngx_http_durable_shared_t   ngx_http_durable_shared_local;


ngx_int_t
ngx_http_durable_notify_add_zone(ngx_conf_t *cf)
{
    ngx_shm_zone_t  *zone;

    /*
     * the layout changed with the gates: a zone of its own name; with
     * the ring, then with the lock waits, then with their pids, then
     * with the stop words: a size of its own each time, so that a reload
     * from a module without them makes a new zone instead of taking the
     * old one
     */
    static ngx_str_t  name = ngx_string("ngx_http_durable_shared");

    zone = ngx_shared_memory_add(cf, &name, 25 * ngx_pagesize,
                                 &ngx_http_durable_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_http_durable_notify_init_zone;

    return NGX_OK;
}


/* a function of its own: init_module finds the zone by it (take_zone) */

static ngx_int_t
ngx_http_durable_notify_init_zone(ngx_shm_zone_t *zone, void *data)
{
    /* a reload keeps the counter and gates of the running processes */
    return ngx_http_durable_zone_init(zone, data,
                                      sizeof(ngx_http_durable_shared_t));
}


/* init_module: the zone of the cycle taken, or none (docs in module.c) */

void
ngx_http_durable_notify_take_zone(ngx_cycle_t *cycle)
{
    ngx_http_durable_shared = ngx_http_durable_zone_data(cycle,
                                  ngx_http_durable_notify_init_zone);
}


static ngx_http_durable_shared_t *
ngx_http_durable_shm(void)
{
    return ngx_http_durable_shared ? ngx_http_durable_shared
                                   : &ngx_http_durable_shared_local;
}


void
ngx_http_durable_notify(void)
{
    (void) ngx_atomic_fetch_add(&ngx_http_durable_shm()->seq, 1);
}


ngx_atomic_uint_t
ngx_http_durable_notify_seq(void)
{
    return ngx_http_durable_shm()->seq;
}


/*
 * A work item's lease is released (completed, abandoned, refused): every
 * process's streams look for it in the ring. The place is taken first,
 * the lease written, then the place marked written.
 */

void
ngx_http_durable_notify_released(const u_char *lease)
{
    ngx_atomic_uint_t             n;
    ngx_http_durable_shared_t    *sh;
    ngx_http_durable_released_t  *e;

    sh = ngx_http_durable_shm();

    n = ngx_atomic_fetch_add(&sh->released_seq, 1);
    e = &sh->released[n % NGX_HTTP_DURABLE_RELEASED];

    e->seq = 0;
    ngx_memory_barrier();
    ngx_memcpy(e->lease, lease, DS_LEASE_LEN);
    ngx_memory_barrier();
    e->seq = n + 1;
}


/* where the ring is now: a stream reads from there on */

ngx_atomic_uint_t
ngx_http_durable_released_head(void)
{
    return ngx_http_durable_shm()->released_seq;
}


/*
 * The released lease at *from into lease, and *from past it: NGX_OK;
 * NGX_DONE: none written after *from yet (*from stays, to look again
 * later); a place written over since is skipped.
 */

ngx_int_t
ngx_http_durable_released_next(ngx_atomic_uint_t *from, u_char *lease)
{
    ngx_atomic_uint_t             head, seq;
    ngx_http_durable_shared_t    *sh;
    ngx_http_durable_released_t  *e;

    sh = ngx_http_durable_shm();

    for ( ;; ) {
        head = sh->released_seq;

        if (*from == head) {
            return NGX_DONE;
        }

        if (head - *from > NGX_HTTP_DURABLE_RELEASED) {
            /* fell behind the ring: what was written over is lost */
            *from = head - NGX_HTTP_DURABLE_RELEASED;
        }

        e = &sh->released[*from % NGX_HTTP_DURABLE_RELEASED];

        seq = e->seq;
        ngx_memory_barrier();

        if (seq == *from + 1) {
            ngx_memcpy(lease, e->lease, DS_LEASE_LEN);
            ngx_memory_barrier();

            if (e->seq == seq) {
                (*from)++;
                return NGX_OK;
            }

            /* written over while copied */
            (*from)++;
            continue;
        }

        if (seq > *from + 1) {
            (*from)++;
            continue;
        }

        if (head - *from > NGX_HTTP_DURABLE_RELEASED / 2) {
            /* taken long ago and never written: its writer died */
            (*from)++;
            continue;
        }

        /* taken, not written yet */
        return NGX_DONE;
    }
}


ngx_uint_t
ngx_http_durable_gate_index(ngx_uint_t store)
{
    return store % NGX_HTTP_DURABLE_GATES;
}


/*
 * NGX_OK: this process holds the gate now (release it after the commit);
 * NGX_AGAIN: another process commits, try again in the next iteration;
 * NGX_DECLINED: commit without the gate
 */

ngx_int_t
ngx_http_durable_gate_try(ngx_uint_t index, ngx_log_t *log)
{
    ngx_atomic_uint_t         owner;
    ngx_msec_int_t            held;
    ngx_http_durable_gate_t  *gate;

    gate = &ngx_http_durable_shm()->gates[index];

    if (ngx_atomic_cmp_set(&gate->pid, 0, ngx_pid)) {
        gate->since = ngx_current_msec;
        return NGX_OK;
    }

    owner = gate->pid;

    /* each process has its own cached time: the holder's may be ahead */
    held = (ngx_msec_int_t) (ngx_current_msec - (ngx_msec_t) gate->since);
    held = ngx_max(held, 0);

    if (owner == 0 || (held < 1 && owner != (ngx_atomic_uint_t) ngx_pid)) {
        return NGX_AGAIN;
    }

    /* killed while it held the gate (its commit was never finished) */

    if (kill((ngx_pid_t) owner, 0) == -1 && ngx_errno == NGX_ESRCH
        && ngx_atomic_cmp_set(&gate->pid, owner, ngx_pid))
    {
        gate->since = ngx_current_msec;

        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "durable: commit gate %ui taken over from process "
                      "%P, which is gone", index, (ngx_pid_t) owner);
        return NGX_OK;
    }

    if (held >= NGX_HTTP_DURABLE_GATE_PATIENCE
        || owner == (ngx_atomic_uint_t) ngx_pid)
    {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                       "durable: commit gate %ui held by %P too long, "
                       "committing without it", index, (ngx_pid_t) owner);
        return NGX_DECLINED;
    }

    return NGX_AGAIN;
}


/*
 * Any thread: this process's task of the store of gate index begins to
 * wait for the store's write lock (on), or no longer does. A bit in the
 * process's own word, so that a process killed while it waited leaves
 * nothing behind once its slot is taken again (lock_waits_reset()), or
 * once another process finds it gone (lock_waiter_gone()).
 */

void
ngx_http_durable_lock_wait(ngx_uint_t index, ngx_uint_t on)
{
    ngx_atomic_t       *word;
    ngx_atomic_uint_t   bit, old, set;

    word = &ngx_http_durable_shm()->lock_waits[ngx_process_slot];
    bit = (ngx_atomic_uint_t) 1 << (index % NGX_HTTP_DURABLE_WAIT_BITS);

    /* the process's tasks of other stores may change the word too */

    do {
        old = *word;
        set = on ? (old | bit) : (old & ~bit);

    } while (!ngx_atomic_cmp_set(word, old, set));
}


/* whether a task of any process waits for that store's write lock */

ngx_uint_t
ngx_http_durable_lock_waiting(ngx_uint_t index)
{
    ngx_uint_t                  slot;
    ngx_atomic_uint_t           bit, word;
    ngx_http_durable_shared_t  *sh;

    sh = ngx_http_durable_shm();
    bit = (ngx_atomic_uint_t) 1 << (index % NGX_HTTP_DURABLE_WAIT_BITS);

    for (slot = 0; slot < NGX_MAX_PROCESSES; slot++) {
        word = sh->lock_waits[slot];

        if (!(word & bit)) {
            continue;
        }

        if (slot != (ngx_uint_t) ngx_process_slot
            && ngx_http_durable_lock_waiter_gone(sh, slot, word))
        {
            continue;
        }

        return 1;
    }

    return 0;
}


/*
 * Whether the process of slot, whose word has bits set, is gone: killed
 * while its task waited, and not replaced in its slot (an old worker of
 * a reload), it would keep the early handover off until the slot is
 * taken again. Its word is cleared, unless it changed meanwhile (a new
 * process took the slot: lock_waits_reset()).
 */

static ngx_uint_t
ngx_http_durable_lock_waiter_gone(ngx_http_durable_shared_t *sh,
    ngx_uint_t slot, ngx_atomic_uint_t word)
{
    ngx_atomic_uint_t  pid;

    /* the pid read after the word: a new owner writes them in turn */
    ngx_memory_barrier();

    pid = sh->lock_wait_pids[slot];

    if (pid == 0
        || kill((ngx_pid_t) pid, 0) == 0
        || ngx_errno != NGX_ESRCH)
    {
        return 0;
    }

    if (!ngx_atomic_cmp_set(&sh->lock_waits[slot], word, 0)) {
        /* changed meanwhile: a new process's, maybe */
        return 0;
    }

    ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                  "durable: process %P, gone, waited for a store's "
                  "write lock: its wait is cleared", (ngx_pid_t) pid);

    return 1;
}


/*
 * init_process: what a process killed in this slot was waiting for, and
 * whose the slot's word is now
 */

void
ngx_http_durable_lock_waits_reset(void)
{
    ngx_http_durable_shared_t  *sh;

    sh = ngx_http_durable_shm();

    sh->lock_waits[ngx_process_slot] = 0;
    sh->lock_wait_pids[ngx_process_slot] = (ngx_atomic_uint_t) ngx_pid;
}


void
ngx_http_durable_gate_release(ngx_uint_t index)
{
    ngx_http_durable_gate_t  *gate;

    gate = &ngx_http_durable_shm()->gates[index];

    (void) ngx_atomic_cmp_set(&gate->pid, ngx_pid, 0);
}


/*
 * The stop word of the store in directory dir (its real path) for
 * ds_env_conf_t's stop: the same in every process of the master, taken
 * by the first that opens the store. NULL when every word is taken.
 */

int *
ngx_http_durable_store_stop(ngx_str_t *dir)
{
    ngx_uint_t                  i;
    ngx_atomic_uint_t           key;
    ngx_http_durable_stop_t    *w;
    ngx_http_durable_shared_t  *sh;

    sh = ngx_http_durable_shm();
    key = ngx_http_durable_dir_key(dir);

    for (i = 0; i < NGX_HTTP_DURABLE_STOPS; i++) {
        w = &sh->stops[(key + i) % NGX_HTTP_DURABLE_STOPS];

        if (w->key == 0) {
            (void) ngx_atomic_cmp_set(&w->key, 0, key);
        }

        /* taken now, by this process or another, for this dir or not */

        if (w->key == key) {
            return &w->stop;
        }
    }

    return NULL;
}


/* FNV-1a of the directory, never 0 (a free word's key) */

static ngx_atomic_uint_t
ngx_http_durable_dir_key(ngx_str_t *dir)
{
    size_t             i;
    uint64_t           h;
    ngx_atomic_uint_t  key;

    h = 14695981039346656037ULL;

    for (i = 0; i < dir->len; i++) {
        h ^= dir->data[i];
        h *= 1099511628211ULL;
    }

    key = (ngx_atomic_uint_t) (h ^ (h >> 32));

    return key ? key : 1;
}
