/*
 * Copyright (C) ngx_durable authors
 *
 * The LMDB environment and transactions.
 */


#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ds_internal.h"


#define DS_FILE_MODE        0660
#define DS_RESIZE_TRIES     4
#define DS_RESIZE_WAIT      2000    /* 1 ms steps waiting for txns */
#define DSI_GIVE_WAY_US     100     /* dsi_txn_give_way() */


static int ds_map_adopt(ds_env_t *env, int top, int write);
static int ds_txn_begin_any(ds_env_t *env, ds_txn_t *parent, int write,
    int own, ds_txn_t **txnp, char *err, size_t errlen);
static int ds_txn_cursor(ds_txn_t *txn, int db);
static int ds_txn_measure(ds_txn_t *txn, ds_space_t *space,
    unsigned *depth);
static int ds_env_count(ds_env_t *env, MDB_txn *mtxn);
static int ds_txn_flush(ds_env_t *env, char *err, size_t errlen);
static void ds_txn_unkeep(ds_txn_t *txn);


/*
 * The shared holds of map_lock the calling thread has, of any store's
 * env: a remap must wait for every one of this env, and one the thread
 * holds itself never ends while it waits (ds_map_adopt()).
 */
static __thread unsigned  ds_map_holds;

/* the last number an env was given: its serial (ds_op_snapshot()), 1 on */
static uint64_t  ds_env_serials;


static void
ds_map_lock(ds_env_t *env, int top)
{
    if (top && env->locking) {
        (void) pthread_rwlock_rdlock(&env->map_lock);
        ds_map_holds++;
    }
}


static void
ds_map_unlock(ds_env_t *env, int top)
{
    if (top && env->locking) {
        ds_map_holds--;
        (void) pthread_rwlock_unlock(&env->map_lock);
    }
}


static const char  *ds_db_names[DS_DB_COUNTS] = {
    "instances", "by_created", "by_status", "history", "inbox", "ready",
    "activities", "timers", "timer_ix", "entities", "entity_ops"
};

int  (*dsi_fdatasync)(int fd) = fdatasync;
int  (*dsi_yield)(void) = sched_yield;


/* in the main db, with the counts: a hub is never empty, so never this */
static const char   ds_counts_mark[] = "\0counts-1";


int
ds_env_open(ds_env_t **envp, const ds_env_conf_t *conf, char *err,
    size_t err_len)
{
    int          rc, dead, i, stopped;
    unsigned     flags, created;
    MDB_val      key, val;
    MDB_txn     *txn;
    MDB_stat     st;
    ds_env_t    *env;
    const char  *step;

    *envp = NULL;

    if (conf == NULL || conf->path == NULL || conf->path[0] == '\0') {
        snprintf(err, err_len, "store path is empty");
        return DS_INVALID;
    }

    env = calloc(1, sizeof(ds_env_t));
    if (env == NULL) {
        snprintf(err, err_len, "out of memory opening \"%s\"", conf->path);
        return DS_ERROR;
    }

    env->reuse_reader = conf->reuse_reader;
    env->serial = __atomic_add_fetch(&ds_env_serials, 1, __ATOMIC_RELAXED);
    env->reserve = conf->reserve;
    env->stop = conf->stop ? conf->stop : &env->flush_failed;

    env->path = malloc(strlen(conf->path) + 1);
    if (env->path == NULL) {
        free(env);
        snprintf(err, err_len, "out of memory opening \"%s\"", conf->path);
        return DS_ERROR;
    }

    strcpy(env->path, conf->path);

    step = "mdb_env_create()";
    rc = mdb_env_create(&env->env);
    if (rc != 0) {
        env->env = NULL;
        goto failed;
    }

    if (conf->map_size) {
        step = "mdb_env_set_mapsize()";
        rc = mdb_env_set_mapsize(env->env, conf->map_size);
        if (rc != 0) {
            goto failed;
        }
    }

    if (conf->max_readers) {
        step = "mdb_env_set_maxreaders()";
        rc = mdb_env_set_maxreaders(env->env, conf->max_readers);
        if (rc != 0) {
            goto failed;
        }
    }

    step = "mdb_env_set_maxdbs()";
    rc = mdb_env_set_maxdbs(env->env, DS_MAX_DBS);
    if (rc != 0) {
        goto failed;
    }

    flags = 0;

    if (conf->sync == DS_SYNC_NONE) {
        flags |= MDB_NOSYNC;

    } else {
        /* the meta page is flushed by dsi_txn_commit_err(), unlocked */
        flags |= MDB_NOMETASYNC;
        env->flush_meta = 1;
    }

    if (conf->no_tls) {
        flags |= MDB_NOTLS;
    }

    step = "mdb_env_open()";
    rc = mdb_env_open(env->env, conf->path, flags, DS_FILE_MODE);
    if (rc != 0) {
        goto failed;
    }

    step = "mdb_env_stat()";
    rc = mdb_env_stat(env->env, &st);
    if (rc != 0) {
        goto failed;
    }

    env->psize = st.ms_psize;

    step = "mdb_reader_check()";
    rc = mdb_reader_check(env->env, &dead);
    if (rc != 0) {
        goto failed;
    }

    /*
     * A flush of the store failed before, in another process sharing the
     * stop word (a reload's new worker opens it after an old one's
     * failed): the open writes nothing, so its txn is a read txn, and a
     * store that needs a write to open (a db or the counts missing) is
     * not opened
     */

    stopped = dsi_env_stopped(env);

    step = "mdb_txn_begin()";
    rc = mdb_txn_begin(env->env, NULL, stopped ? MDB_RDONLY : 0, &txn);
    if (rc != 0) {
        goto failed;
    }

    step = "mdb_dbi_open()";
    created = 0;

    for (i = 0; i < DS_DB_COUNTS; i++) {
        rc = mdb_dbi_open(txn, ds_db_names[i], 0, &env->dbi[i]);

        if (rc == MDB_NOTFOUND && stopped) {
            mdb_txn_abort(txn);
            goto stopped;
        }

        if (rc == MDB_NOTFOUND) {
            rc = mdb_dbi_open(txn, ds_db_names[i], MDB_CREATE, &env->dbi[i]);
            created |= 1u << i;
        }

        if (rc != 0) {
            mdb_txn_abort(txn);
            goto failed;
        }
    }

    /* the unnamed db that holds the names, for ds_txn_space() */

    rc = mdb_dbi_open(txn, NULL, 0, &env->main_dbi);
    if (rc != 0) {
        mdb_txn_abort(txn);
        goto failed;
    }

    /*
     * The counts (ds_counts.c) live in the main db, whose page every
     * write txn rewrites anyway. A store made before them has no mark:
     * they are built from the indexes, once, in this txn.
     */

    env->dbi[DS_DB_COUNTS] = env->main_dbi;

    key.mv_data = (void *) ds_counts_mark;
    key.mv_size = sizeof(ds_counts_mark) - 1;

    rc = mdb_get(txn, env->main_dbi, &key, &val);

    if (rc == MDB_NOTFOUND && stopped) {
        mdb_txn_abort(txn);
        goto stopped;
    }

    if (rc == MDB_NOTFOUND) {
        step = "building the counts";
        rc = (created & (1u << DS_DB_BY_STATUS)) ? 0
                                                 : ds_env_count(env, txn);
        if (rc == 0) {
            val.mv_data = (void *) ds_counts_mark;
            val.mv_size = 0;
            rc = mdb_put(txn, env->main_dbi, &key, &val, 0);
        }
    }

    if (rc != 0) {
        mdb_txn_abort(txn);
        goto failed;
    }

    step = "mdb_txn_commit()";
    rc = mdb_txn_commit(txn);
    if (rc != 0) {
        goto failed;
    }

    /* a read txn's commit wrote nothing to flush */

    if (env->flush_meta && !stopped && ds_env_sync(env) != DS_OK) {
        step = "fdatasync()";
        rc = errno ? errno : EIO;
        goto failed;
    }

    if (conf->no_tls) {
        step = "pthread_rwlock_init()";
        rc = pthread_rwlock_init(&env->map_lock, NULL);
        if (rc != 0) {
            goto failed;
        }

        env->locking = 1;
    }

    *envp = env;

    return DS_OK;

failed:

    snprintf(err, err_len, "cannot open store \"%s\": %s failed: %s",
             conf->path, step, mdb_strerror(rc));

    if (env->env) {
        mdb_env_close(env->env);
    }

    free(env->path);
    free(env);

    return rc == MDB_MAP_FULL ? DS_FULL : DS_ERROR;

stopped:

    snprintf(err, err_len, "cannot open store \"%s\": opening it needs a "
             "write (a database or the counts are missing), and a flush of "
             "it failed before, in this process or another that has it "
             "open, so it takes no writes", conf->path);

    mdb_env_close(env->env);
    free(env->path);
    free(env);

    return DS_ERROR;
}


void
ds_env_close(ds_env_t *env)
{
    if (env == NULL) {
        return;
    }

    if (env->spare) {
        mdb_txn_abort(env->spare->txn);
        free(env->spare);
    }

    mdb_env_close(env->env);

    if (env->locking) {
        (void) pthread_rwlock_destroy(&env->map_lock);
    }

    free(env->path);
    free(env);
}


/*
 * The flush of a store without sync at commit, in a task: fdatasync() of
 * the data file, which is all mdb_env_sync() does without MDB_WRITEMAP
 * (never set here). Newer LMDB versions read the meta pages through the
 * map in mdb_env_sync() first, which a remap in another thread
 * (ds_map_adopt()) would pull from under it; the file descriptor needs
 * no map, so no lock, and no remap waits behind a flush.
 *
 * A failed flush stops the writes as ds_txn_flush()'s does: the kernel
 * may have dropped the pages it was to write, and later commits would
 * rest on them. errno is kept for the caller.
 */

int
ds_env_sync(ds_env_t *env)
{
    mdb_filehandle_t  fd;

    if (mdb_env_get_fd(env->env, &fd) != 0) {
        return DS_ERROR;
    }

    if (dsi_fdatasync(fd) == 0) {
        return DS_OK;
    }

    __atomic_store_n(env->stop, 1, __ATOMIC_RELEASE);

    return DS_ERROR;
}


int
ds_env_reader_check(ds_env_t *env, int *dead)
{
    int  n;

    n = 0;

    if (mdb_reader_check(env->env, &n) != 0) {
        return DS_ERROR;
    }

    if (dead) {
        *dead = n;
    }

    return DS_OK;
}


const char *
ds_env_path(ds_env_t *env)
{
    return env->path;
}


int
ds_txn_begin(ds_env_t *env, ds_txn_t *parent, int write, ds_txn_t **txnp)
{
    return dsi_txn_begin_err(env, parent, write, txnp, NULL, 0);
}


/* as ds_txn_begin(), with LMDB's text of a failure in err (errlen > 0) */

int
dsi_txn_begin_err(ds_env_t *env, ds_txn_t *parent, int write,
    ds_txn_t **txnp, char *err, size_t errlen)
{
    return ds_txn_begin_any(env, parent, write, 0, txnp, err, errlen);
}


/*
 * A read txn of a thread other than the one that begins the others: it
 * neither takes nor leaves the spare reader, which only that one thread
 * may touch (reuse_reader)
 */

int
dsi_txn_begin_own(ds_env_t *env, ds_txn_t **txnp, char *err, size_t errlen)
{
    return ds_txn_begin_any(env, NULL, 0, 1, txnp, err, errlen);
}


static int
ds_txn_begin_any(ds_env_t *env, ds_txn_t *parent, int write, int own,
    ds_txn_t **txnp, char *err, size_t errlen)
{
    int        rc, arc, tries, reading, top;
    unsigned   flags;
    MDB_txn   *ptxn;
    ds_txn_t  *txn;

    *txnp = NULL;

    if (parent != NULL && !parent->write) {
        return DS_INVALID;
    }

    if (parent != NULL) {
        /* the child reads the counts as the parent has them */
        rc = dsi_counts_flush(parent);
        if (rc != DS_OK) {
            if (errlen) {
                snprintf(err, errlen, "beginning a txn: %s",
                         ds_txn_error(parent));
            }

            return rc;
        }
    }

    /*
     * With threads, a top-level txn, read or write, holds map_lock shared
     * until it ends (ds_map_adopt()); a write txn takes it before it
     * waits for LMDB's write lock. Child txns take nothing: their parent
     * holds it.
     */

    reading = (!write && parent == NULL);
    top = (parent == NULL);

    if (write && top && dsi_env_stopped(env)) {
        if (errlen) {
            snprintf(err, errlen, "beginning a txn: a flush of the store "
                     "failed before, in this process or another that has "
                     "it open, so what is on disk may be behind what was "
                     "committed; writes are refused while the processes "
                     "that share the stop run");
        }

        return DS_STOPPED;
    }

    ds_map_lock(env, top);

    /*
     * A reset read txn keeps its reader slot: renewing it takes no lock
     * on the reader table and allocates nothing.
     */

    if (reading && !own && env->spare != NULL) {
        txn = env->spare;
        env->spare = NULL;

        if (mdb_txn_renew(txn->txn) == 0) {
            txn->writes = 0;
            txn->ncounts = 0;
            txn->keep = NULL;
            txn->err[0] = '\0';
            *txnp = txn;
            return DS_OK;
        }

        mdb_txn_abort(txn->txn);
        free(txn);
    }

    txn = malloc(sizeof(ds_txn_t));
    if (txn == NULL) {
        ds_map_unlock(env, top);
        dsi_err_set(err, errlen, "beginning a txn", ENOMEM);
        return DS_ERROR;
    }

    txn->env = env;
    txn->top = top;
    txn->own = own;
    txn->write = (parent != NULL || write);
    txn->writes = 0;
    memset(txn->put, 0, sizeof(txn->put));
    memset(txn->walk, 0, sizeof(txn->walk));
    memset(txn->db_writes, 0, sizeof(txn->db_writes));
    txn->walking = 0;
    txn->ncounts = 0;
    txn->keep = NULL;
    txn->gave_way = (txn->write && env->give_way) ? ds_time_mono()
                                                  : INT64_MAX;
    txn->parent = parent;
    txn->notes = parent ? parent->notes : NULL;
    txn->room.map_size = 0;
    txn->room_added = 0;
    txn->room_depth = 0;
    txn->err[0] = '\0';

    flags = txn->write ? 0 : MDB_RDONLY;
    ptxn = parent ? parent->txn : NULL;

    for (tries = 0; /* void */; tries++) {

        if (top && write) {
            (void) __atomic_add_fetch(&env->write_begins, 1,
                                      __ATOMIC_SEQ_CST);
        }

        rc = mdb_txn_begin(env->env, ptxn, flags, &txn->txn);

        if (top && write) {
            (void) __atomic_sub_fetch(&env->write_begins, 1,
                                      __ATOMIC_SEQ_CST);
        }

        /* another process grew the map: adopt its size and retry */
        if (rc == MDB_MAP_RESIZED && tries < DS_RESIZE_TRIES) {
            arc = ds_map_adopt(env, top, write);

            if (arc == 0) {
                continue;
            }

            if (arc == EAGAIN || arc == EDEADLK) {
                rc = arc;
            }
        }

        break;
    }

    if (rc != 0) {
        free(txn);
        ds_map_unlock(env, top);
        dsi_err_set(err, errlen, rc == EAGAIN
                    ? "adopting the map another process grew, which a "
                      "write txn of this process is about to do"
                    : rc == EDEADLK
                    ? "adopting the map another process grew, which a "
                      "txn this thread has open still reads"
                    : "beginning a txn", rc);
        return rc == MDB_MAP_FULL ? DS_FULL
               : (rc == EAGAIN || rc == EDEADLK) ? DS_UNAVAILABLE
               : DS_ERROR;
    }

    *txnp = txn;

    return DS_OK;
}


int
ds_txn_commit(ds_txn_t *txn)
{
    return dsi_txn_commit_err(txn, NULL, 0);
}


/* as ds_txn_commit(), with LMDB's text of a failure in err (errlen > 0) */

int
dsi_txn_commit_err(ds_txn_t *txn, char *err, size_t errlen)
{
    int           rc, top, flush;
    size_t        id;
    ds_env_t     *env;
    MDB_envinfo   info;

    env = txn->env;
    top = txn->top;

    if (txn->ncounts) {
        rc = dsi_counts_flush(txn);

        if (rc != DS_OK) {
            if (errlen && err[0] == '\0') {
                snprintf(err, errlen, "committing: %s", txn->err);
            }

            mdb_txn_abort(txn->txn);
            ds_txn_unkeep(txn);
            free(txn);
            ds_map_unlock(env, top);

            return rc;
        }
    }

    flush = (top && txn->write && env->flush_meta);
    id = flush ? mdb_txn_id(txn->txn) : 0;

    /* the child's puts are the parent's now: its room is measured again */
    if (txn->parent != NULL) {
        txn->parent->room.map_size = 0;
    }

    rc = mdb_txn_commit(txn->txn);
    ds_txn_unkeep(txn);
    free(txn);

    if (rc == 0 && flush) {
        /* a txn that changed nothing writes no meta page, so no flush */
        flush = !(mdb_env_info(env->env, &info) == 0
                  && info.me_last_txnid < id);
    }

    ds_map_unlock(env, top);

    if (rc == 0) {
        return flush ? ds_txn_flush(env, err, errlen) : DS_OK;
    }

    dsi_err_set(err, errlen, "committing", rc);

    /*
     * a full disk fails the commit as a whole, like a full map: nothing
     * of the txn is written and the environment stays usable
     */

    if (rc == MDB_MAP_FULL || rc == MDB_TXN_FULL || rc == ENOSPC
        || rc == EDQUOT)
    {
        return DS_FULL;
    }

    /*
     * LMDB's own flush of the data failed: a flush of another process's
     * commit may have dropped pages this process's next txn builds on
     * (Linux reports such an error once to each open file), so it is
     * taken as ds_txn_flush() takes its own
     */

    if (flush && rc == EIO) {
        __atomic_store_n(env->stop, 1, __ATOMIC_RELEASE);
    }

    return DS_ERROR;
}


/*
 * The end of a commit with sync=on. LMDB flushes the data pages before it
 * writes the meta page that makes them the store's state; with
 * MDB_NOMETASYNC it leaves that page unflushed, and this flushes it,
 * after LMDB's write lock is released: another process's writer applies
 * its batch meanwhile instead of waiting for this flush too. Nothing is
 * answered before it returns, so what a client is told is stored is on
 * disk as before. A failed flush may have dropped what it was to write
 * (Linux reports such an error once), so no write is accepted after it.
 */

static int
ds_txn_flush(ds_env_t *env, char *err, size_t errlen)
{
    int               e;
    mdb_filehandle_t  fd;

    e = mdb_env_get_fd(env->env, &fd);

    if (e == 0) {
        if (dsi_fdatasync(fd) == 0) {
            return DS_OK;
        }

        e = errno;
    }

    __atomic_store_n(env->stop, 1, __ATOMIC_RELEASE);

    if (errlen && err[0] == '\0') {
        snprintf(err, errlen, "flushing the commit: %s", strerror(e));
    }

    return DS_ERROR;
}


/*
 * A failed flush stops the writes of every process that shares the word
 * (the host gives one in its shared memory: ds_env_conf_t's stop): their
 * commits build on pages the failed flush may have dropped, and after a
 * failed fsync the kernel may have dropped theirs too
 */

int
dsi_env_stopped(ds_env_t *env)
{
    return __atomic_load_n(env->stop, __ATOMIC_ACQUIRE) != 0;
}


/* a block of dsi_txn_keep(): its bytes follow it */
typedef struct ds_keep_s  ds_keep_t;

struct ds_keep_s {
    ds_keep_t          *next;
};


void *
dsi_txn_keep(ds_txn_t *txn, size_t size)
{
    ds_keep_t  *k;

    if (size > SIZE_MAX - sizeof(ds_keep_t)) {
        return NULL;
    }

    k = malloc(sizeof(ds_keep_t) + size);
    if (k == NULL) {
        return NULL;
    }

    k->next = txn->keep;
    txn->keep = k;

    return k + 1;
}


static void
ds_txn_unkeep(ds_txn_t *txn)
{
    ds_keep_t  *k;

    while (txn->keep != NULL) {
        k = txn->keep;
        txn->keep = k->next;
        free(k);
    }
}


void
ds_txn_abort(ds_txn_t *txn)
{
    int        reading, top;
    ds_env_t  *env;

    if (txn == NULL) {
        return;
    }

    env = txn->env;
    reading = !txn->write;
    top = txn->top;

    ds_txn_unkeep(txn);

    if (reading && !txn->own && env->reuse_reader && env->spare == NULL) {
        mdb_txn_reset(txn->txn);
        env->spare = txn;

    } else {
        mdb_txn_abort(txn->txn);
        free(txn);
    }

    ds_map_unlock(env, top);
}


/* dsi_counts_build() in the txn of ds_env_open(); an LMDB code */

static int
ds_env_count(ds_env_t *env, MDB_txn *mtxn)
{
    int       rc;
    ds_txn_t  txn;

    memset(&txn, 0, sizeof(ds_txn_t));
    txn.env = env;
    txn.txn = mtxn;
    txn.write = 1;

    rc = dsi_counts_build(&txn);

    if (rc == DS_OK) {
        rc = dsi_counts_flush(&txn);
    }

    return (rc == DS_OK) ? 0 : (rc == DS_FULL) ? MDB_MAP_FULL : EIO;
}


/*
 * Adopts the map size another process grew the file to. With threads the
 * remap waits, a bounded time, until no top-level txn of this process is
 * alive, read or write (the caller's own hold of map_lock is let go
 * meanwhile). Write txns count too: mdb_txn_begin() reads the meta pages
 * through the map as soon as it has LMDB's write lock, which it may have
 * waited for while another process grew the map and committed.
 *
 * A read that must adopt while a write txn of this process is in its
 * begin gives up at once (EAGAIN: the read answers DS_UNAVAILABLE, to be
 * retried): that begin waits for another process's write lock, as long
 * as that process holds it, and the event loop must not wait with it.
 * The write txn adopts the map itself once its begin returns: it finds
 * the map too small as well. Once a write txn has begun, it holds LMDB's
 * write lock, nothing was committed since, and no read finds the map too
 * small until it ends. A waiting adopter stops as soon as another thread
 * adopted (map_gen).
 *
 * A thread may hold map_lock shared twice: a read whose done() begins
 * another read, or applies a batch in the loop (no thread for it). The
 * inner begin cannot adopt while the outer txn's hold keeps the remap
 * waiting, so it gives up at once (EDEADLK: DS_UNAVAILABLE, as above)
 * rather than make the event loop wait for a hold that cannot end
 * meanwhile; the next txn after the outer one ends adopts. The count of
 * holds is the thread's, over every env: an outer txn of another store
 * turns the inner begin away too (both rare; the retry is cheap). A read
 * the loop begins while its own write txn is open (writes=loop) never
 * has to adopt, as above.
 */

static int
ds_map_adopt(ds_env_t *env, int top, int write)
{
    int              i, rc, adopted;
    unsigned         gen;
    struct timespec  ms;

    if (!env->locking) {
        return mdb_env_set_mapsize(env->env, 0);
    }

    if (!top) {
        /* a child txn: its parent holds map_lock, the remap would wait */
        return EBUSY;
    }

    if (ds_map_holds > 1) {
        /* this thread holds another txn open: the remap would wait */
        return EDEADLK;
    }

    /* written under the exclusive lock: read while the caller holds it */
    gen = env->map_gen;

    (void) pthread_rwlock_unlock(&env->map_lock);

    rc = EBUSY;
    ms.tv_sec = 0;
    ms.tv_nsec = 1000000;

    for (i = 0; i < DS_RESIZE_WAIT; i++) {
        if (pthread_rwlock_trywrlock(&env->map_lock) == 0) {
            rc = 0;

            if (env->map_gen == gen) {
                rc = mdb_env_set_mapsize(env->env, 0);
                env->map_gen += (rc == 0);
            }

            (void) pthread_rwlock_unlock(&env->map_lock);
            break;
        }

        /* another thread adopted meanwhile: begin again */

        if (pthread_rwlock_tryrdlock(&env->map_lock) == 0) {
            adopted = (env->map_gen != gen);
            (void) pthread_rwlock_unlock(&env->map_lock);

            if (adopted) {
                rc = 0;
                break;
            }
        }

        if (!write
            && __atomic_load_n(&env->write_begins, __ATOMIC_SEQ_CST) != 0)
        {
            rc = EAGAIN;
            break;
        }

        (void) nanosleep(&ms, NULL);
    }

    (void) pthread_rwlock_rdlock(&env->map_lock);

    return rc;
}


/*
 * A long write of the store's own thread (a purge batch: it calls here
 * between instances) gives way to other threads every DSI_GIVE_WAY_US.
 * On a host with few cores an event loop woken by a request may find its
 * core held by this thread, and the scheduler left it waiting there for
 * milliseconds while the other core idled (perf sched: reads' p99 during
 * a purge was seven times idle). sched_yield() puts this thread behind
 * the loop; when nothing waits it returns at once. The write lock stays
 * held: what runs instead is a loop's turn, not another write. Batches
 * of requests' writes do not give way: they are what those requests
 * wait for (starts were 8% slower when they did).
 */

void
dsi_txn_give_way(ds_txn_t *txn)
{
    if (ds_time_mono() - txn->gave_way < DSI_GIVE_WAY_US) {
        return;
    }

    (void) dsi_yield();

    txn->gave_way = ds_time_mono();
}


/*
 * Puts and deletes attempted in this txn (not in its children). An
 * operation that failed while the count stayed the same left the txn as
 * it found it, so a batch can go on in the same txn.
 */

uint64_t
ds_txn_writes(ds_txn_t *txn)
{
    return txn->writes;
}


/*
 * LMDB's id of a read txn is that of the last commit it sees, and ids
 * only grow while the file is mapped, so within one env it tells the
 * snapshot. A write txn's id is of the commit it will make, its data
 * still changing: none.
 */

int
dsi_txn_snapshot(ds_txn_t *txn, ds_snapshot_t *snap)
{
    if (txn->write) {
        return DS_INVALID;
    }

    snap->env = txn->env->serial;
    snap->txn = (uint64_t) mdb_txn_id(txn->txn);

    return DS_OK;
}


/* the same for one db */

uint64_t
dsi_txn_db_writes(ds_txn_t *txn, int db)
{
    return txn->db_writes[db];
}


/*
 * Puts go through one cursor per db, kept for the txn (LMDB closes a write
 * txn's cursors when it ends). A cursor left on a leaf page checks that
 * page's first and last keys before it searches from the root: the next
 * key of a run made in time order (ids, created times, sequence numbers)
 * is placed without a descent from the root.
 */

int
dsi_put(ds_txn_t *txn, int db, MDB_val *key, MDB_val *val, unsigned flags)
{
    int  rc;

    txn->writes++;
    txn->db_writes[db]++;
    txn->room_added += DSI_ROOM_PUT(txn, key, val);

    rc = ds_txn_cursor(txn, db);
    if (rc != 0) {
        return rc;
    }

    return mdb_cursor_put(txn->put[db], key, val, flags);
}


/*
 * mdb_get(); in a write txn through the cursor of dsi_put(), which the
 * read leaves where the put of a record it looked up descends to
 */

int
dsi_get(ds_txn_t *txn, int db, MDB_val *key, MDB_val *val)
{
    int      rc;
    MDB_val  k;

    if (!txn->write) {
        return mdb_get(txn->txn, ds_dbi(txn, db), key, val);
    }

    rc = ds_txn_cursor(txn, db);
    if (rc != 0) {
        return rc;
    }

    /* a copy: the caller's key never comes to point into the map */
    k = *key;

    return mdb_cursor_get(txn->put[db], &k, val, MDB_SET);
}


/*
 * Right after a dsi_get() in a write txn that found key, with nothing
 * else done in db since: the kept cursor is on it, so its value is
 * replaced (MDB_CURRENT) or it is deleted without a second search.
 */

int
dsi_put_found(ds_txn_t *txn, int db, MDB_val *key, MDB_val *val)
{
    txn->writes++;
    txn->db_writes[db]++;
    txn->room_added += DSI_ROOM_PUT(txn, key, val);

    return mdb_cursor_put(txn->put[db], key, val, MDB_CURRENT);
}


int
dsi_del_found(ds_txn_t *txn, int db)
{
    txn->writes++;
    txn->db_writes[db]++;
    txn->room_added += DSI_ROOM_DEL(txn);

    return mdb_cursor_del(txn->put[db], 0);
}


static int
ds_txn_cursor(ds_txn_t *txn, int db)
{
    int  rc;

    if (txn->put[db] != NULL) {
        return 0;
    }

    rc = mdb_cursor_open(txn->txn, ds_dbi(txn, db), &txn->put[db]);
    if (rc != 0) {
        txn->put[db] = NULL;
    }

    return rc;
}


/*
 * mdb_del(); in a write txn through the cursor of dsi_put() too: mdb_del()
 * sets up a cursor of its own and descends from the root each time, where
 * the kept one finds a key on the leaf page it is on (an entry moved in
 * the index it was just put in, a count updated again) without a descent
 */

int
dsi_del(ds_txn_t *txn, int db, MDB_val *key, MDB_val *val)
{
    int      rc;
    MDB_val  k, v;

    txn->writes++;
    txn->db_writes[db]++;
    txn->room_added += DSI_ROOM_DEL(txn);

    if (!txn->write || val != NULL) {
        return mdb_del(txn->txn, ds_dbi(txn, db), key, val);
    }

    rc = ds_txn_cursor(txn, db);
    if (rc != 0) {
        return rc;
    }

    /* a copy: the caller's key never comes to point into the map */
    k = *key;

    rc = mdb_cursor_get(txn->put[db], &k, &v, MDB_SET);
    if (rc != 0) {
        return rc;
    }

    return mdb_cursor_del(txn->put[db], 0);
}


/*
 * A cursor for a lookup that runs no callback while it is positioned
 * (dsi_seq_last(), a ready index seek): in a write txn the kept one of
 * dsi_put(), whose position is only a hint and often already on the
 * page looked for, so neither open nor close nor a descent from the root;
 * in a read txn a new one. dsi_cursor_done() closes what this opened.
 */

int
dsi_cursor_seek(ds_txn_t *txn, int db, MDB_cursor **cur)
{
    int  rc;

    if (!txn->write) {
        return mdb_cursor_open(txn->txn, ds_dbi(txn, db), cur);
    }

    rc = ds_txn_cursor(txn, db);
    if (rc != 0) {
        return rc;
    }

    *cur = txn->put[db];

    return 0;
}


void
dsi_cursor_done(ds_txn_t *txn, int db, MDB_cursor *cur)
{
    if (cur != txn->put[db]) {
        mdb_cursor_close(cur);
    }
}


/* txn->walking has a bit per db */
typedef char ds_walk_bits[DS_DB_COUNT <= 32 ? 1 : -1];


/*
 * A cursor for a walk whose callbacks may run other store code: in a
 * write txn a second kept cursor of the db, unless a walk of the same db
 * has it now (a walk inside a walk's callback gets a new one); in a read
 * txn a new one. dsi_cursor_walk_done() gives it back or closes it.
 */

int
dsi_cursor_walk(ds_txn_t *txn, int db, MDB_cursor **cur)
{
    int  rc;

    if (!txn->write || (txn->walking & (1u << db))) {
        return mdb_cursor_open(txn->txn, ds_dbi(txn, db), cur);
    }

    if (txn->walk[db] == NULL) {
        rc = mdb_cursor_open(txn->txn, ds_dbi(txn, db), &txn->walk[db]);
        if (rc != 0) {
            txn->walk[db] = NULL;
            return rc;
        }
    }

    txn->walking |= 1u << db;
    *cur = txn->walk[db];

    return 0;
}


void
dsi_cursor_walk_done(ds_txn_t *txn, int db, MDB_cursor *cur)
{
    if (cur == txn->walk[db]) {
        txn->walking &= ~(1u << db);
        return;
    }

    mdb_cursor_close(cur);
}


/* cur is a cursor of db */

int
dsi_cursor_del(ds_txn_t *txn, int db, MDB_cursor *cur, unsigned flags)
{
    txn->writes++;
    txn->db_writes[db]++;
    txn->room_added += DSI_ROOM_DEL(txn);

    return mdb_cursor_del(cur, flags);
}


const char *
ds_txn_error(ds_txn_t *txn)
{
    return txn->err[0] ? txn->err : "no error";
}


/* "what: LMDB's text" into err, unless empty (errlen 0) or kept already */

void
dsi_err_set(char *err, size_t errlen, const char *what, int rc)
{
    if (errlen == 0 || err[0] != '\0') {
        return;
    }

    snprintf(err, errlen, "%s: %s", what, mdb_strerror(rc));
}


void
dsi_txn_set_error(ds_txn_t *txn, const char *what)
{
    snprintf(txn->err, sizeof(txn->err), "%s", what);
}


/*
 * The space measure. LMDB never shrinks its file: pages freed by deletes
 * go to its freelist and are reused by later writes, and the last page
 * number (me_last_pgno) stays where the store was at its fullest. That
 * high-water mark would still read "full" after a purge, so use is counted
 * as the pages of the live B-trees instead: every named db and the main
 * db that names them, as this txn sees them (its own writes included),
 * plus the two meta pages. Free pages are not counted, so the measure goes
 * down after a purge. Left out: the freelist's own pages (8 bytes a free
 * page, small) and the pages freed by txns that readers still see, which
 * LMDB cannot reuse yet; the reserve covers both. The count changes a
 * write txn keeps are not written yet, hence not counted either: a few
 * small records at most, which the reserve covers too.
 */

int
ds_txn_space(ds_txn_t *txn, ds_space_t *space)
{
    unsigned  depth;

    return ds_txn_measure(txn, space, &depth);
}


/* ds_txn_space(), and the depth of the deepest tree in *depth */

static int
ds_txn_measure(ds_txn_t *txn, ds_space_t *space, unsigned *depth)
{
    int          i, rc;
    size_t       pages;
    MDB_stat     st;
    MDB_envinfo  info;

    rc = mdb_env_info(txn->env->env, &info);
    if (rc != 0) {
        return dsi_lmdb_rc(txn, rc);
    }

    rc = mdb_stat(txn->txn, txn->env->main_dbi, &st);
    if (rc != 0) {
        return dsi_lmdb_rc(txn, rc);
    }

    pages = 2 + st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
    *depth = st.ms_depth;

    /* the counts are in the main db */
    for (i = 0; i < DS_DB_COUNTS; i++) {
        rc = mdb_stat(txn->txn, ds_dbi(txn, i), &st);
        if (rc != 0) {
            return dsi_lmdb_rc(txn, rc);
        }

        pages += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;

        if (st.ms_depth > *depth) {
            *depth = st.ms_depth;
        }
    }

    space->used = pages * st.ms_psize;
    space->map_size = info.me_mapsize;
    space->reserve = txn->env->reserve;

    if (space->reserve == 0) {
        space->reserve = info.me_mapsize / DS_RESERVE_PART;

        if (space->reserve < DS_RESERVE_PAGES * st.ms_psize) {
            space->reserve = DS_RESERVE_PAGES * st.ms_psize;
        }
    }

    return DS_OK;
}


/*
 * Called by the operations that write data (durable_store.h, "Space")
 * before they write anything: DS_FULL once the live data reaches the map
 * size less the reserve (DS_ROOM_ADD) or less half of it (DS_ROOM_END),
 * and the txn stays as it was.
 *
 * The measure (a dozen mdb_stat() calls) was a tenth of a start's apply.
 * A txn takes it once and then adds to it, for every put and delete
 * since, a bound on what that can add to the live pages, with d the
 * depth of the deepest tree measured: a put its bytes (an overflow value
 * takes them and a page's header more) and d + 3 pages (a split that
 * climbs to the root, a new root, one to spare for a tree that grew a
 * level), a delete d + 1 pages (a rebalance may put a longer separator
 * into a branch page, which then splits, up to the root). It measures
 * again only when measure and bounds reach the limit, so a verdict is the
 * one a fresh measure would give. A child txn measures for itself; the
 * parent measures again after a child's commit (dsi_txn_commit_err()).
 */

int
dsi_room(ds_txn_t *txn, int kind)
{
    int     rc;
    size_t  keep;

    if (txn->room.map_size != 0) {
        keep = (kind == DS_ROOM_END) ? txn->room.reserve / 2
                                     : txn->room.reserve;

        if (txn->room.used + txn->room_added + keep < txn->room.map_size) {
            return DS_OK;
        }
    }

    rc = ds_txn_measure(txn, &txn->room, &txn->room_depth);
    if (rc != DS_OK) {
        txn->room.map_size = 0;
        return rc;
    }

    txn->room_added = 0;

    keep = (kind == DS_ROOM_END) ? txn->room.reserve / 2 : txn->room.reserve;

    if (txn->room.used + keep >= txn->room.map_size) {
        dsi_txn_set_error(txn, (kind == DS_ROOM_END)
                              ? "the store is full up to the half of its "
                                "reserve that only purge may use"
                              : "the store is full up to its reserve, "
                                "which only terminate and purge may use");
        return DS_FULL;
    }

    return DS_OK;
}


/* maps an LMDB code to ds_rc_e and keeps its text for ds_txn_error() */

int
dsi_lmdb_rc(ds_txn_t *txn, int rc)
{
    switch (rc) {

    case 0:
        return DS_OK;

    case MDB_NOTFOUND:
        return DS_NOTFOUND;

    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
        dsi_txn_set_error(txn, mdb_strerror(rc));
        return DS_FULL;

    default:
        dsi_txn_set_error(txn, mdb_strerror(rc));
        return DS_ERROR;
    }
}


const char *
ds_strerror(int rc)
{
    switch (rc) {
    case DS_OK:
        return "ok";
    case DS_NOTFOUND:
        return "not found";
    case DS_CONFLICT:
        return "an active instance with this id exists";
    case DS_GONE:
        return "instance is in a terminal status";
    case DS_PRECONDITION:
        return "instance status forbids the operation";
    case DS_FULL:
        return "store full";
    case DS_INVALID:
        return "invalid argument";
    case DS_MISMATCH:
        return "another completion was applied under this lease";
    case DS_ERROR:
        return "store error";
    case DS_UNAVAILABLE:
        return "store unavailable";
    case DS_UNSUPPORTED:
        return "not supported by the store's backend";
    case DS_SCHEMA:
        return "the database's schema is of an unknown version";
    case DS_STOPPED:
        return "writes stopped after a failed flush of the store";
    default:
        return "unknown error";
    }
}
