/*
 * Copyright (C) ngx_durable authors
 *
 * Environment: open errors, persistence, two writer processes, a full map,
 * nested transactions, a map grown by another process.
 */


/* syscall(): the flushes the interposed fdatasync() and fsync() make */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t.h"
#include "ds_internal.h"


static void t_env_open_errors(void);
static void t_env_reopen(void);
static void t_env_fork(void);
static void t_env_full(void);
static void t_env_reserve(void);
static void t_env_room_measure(void);
static void t_env_nested(void);
static void t_env_resized(void);
static void t_env_reuse_reader(void);
static void t_env_resize_waits(void);
static void t_env_resize_write_waits(void);
static void t_env_resize_nested(void);
static void t_env_flush(void);
static void t_env_flush_shared(void);
static void t_env_flush_lmdb(void);
static void t_env_flush_off(void);
static void t_env_open_stopped(void);
static void t_grow_elsewhere(const char *dir);
static int t_count_instances(ds_env_t *env, ds_str_t hub);
static int t_start_at(ds_env_t *env, const char *id, const char *input,
    int64_t at);
static int t_start_n(ds_env_t *env, const char *prefix, int n,
    const char *input, int64_t at);
static int t_child_ok(pid_t pid);


void
t_env(void)
{
    t_env_open_errors();
    t_env_reopen();
    t_env_fork();
    t_env_full();
    t_env_reserve();
    t_env_room_measure();
    t_env_nested();
    t_env_resized();
    t_env_reuse_reader();
    t_env_resize_waits();
    t_env_resize_write_waits();
    t_env_resize_nested();
    t_env_flush();
    t_env_flush_shared();
    t_env_flush_lmdb();
    t_env_flush_off();
    t_env_open_stopped();
}


/*
 * Starts id, an O of "Hub" with input at at, in a transaction of its
 * own: DS_OK, or what failed. No asserts here nor in t_start_n(): the
 * forked children call them, and tell how it went by themselves.
 */

static int
t_start_at(ds_env_t *env, const char *id, const char *input, int64_t at)
{
    int             rc;
    ds_txn_t       *txn;
    ds_instance_t   inst;

    rc = ds_txn_begin(env, NULL, 1, &txn);
    if (rc != DS_OK) {
        return rc;
    }

    rc = ds_op_start(txn, t_s("Hub"), t_s(id), t_s("O"), t_s(input), at,
                     &inst);
    if (rc != DS_OK) {
        ds_txn_abort(txn);
        return rc;
    }

    return ds_txn_commit(txn);
}


/* "<prefix>-0" to "<prefix>-<n - 1>", each as t_start_at() at at + i */

static int
t_start_n(ds_env_t *env, const char *prefix, int n, const char *input,
    int64_t at)
{
    int   i, rc;
    char  id[32];

    for (i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "%s-%d", prefix, i);

        rc = t_start_at(env, id, input, at + i);
        if (rc != DS_OK) {
            return rc;
        }
    }

    return DS_OK;
}


/* waits for the forked child pid: 1 when it exited with 0 */

static int
t_child_ok(pid_t pid)
{
    int  status;

    if (waitpid(pid, &status, 0) != pid) {
        return 0;
    }

    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}


/*
 * With threads, adopting a map another process grew remaps the file: it
 * must wait until the read txns of the other threads are over, or they
 * would read unmapped memory.
 */

static void
t_sleep_ms(long ms)
{
    struct timespec  ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000;

    (void) nanosleep(&ts, NULL);
}


typedef struct {
    ds_env_t           *env;
    volatile int        reading;
    volatile int        grown;
    volatile int        released;
    int                 ok;
} t_reader_t;


static void *
t_reader_thread(void *data)
{
    t_reader_t  *rd = data;

    ds_txn_t       *txn;
    ds_instance_t   inst;

    rd->ok = ds_txn_begin(rd->env, NULL, 0, &txn) == DS_OK;
    rd->reading = 1;

    /* the file grows meanwhile; then the writer tries to adopt it */

    while (!rd->grown) {
        t_sleep_ms(1);
    }

    t_sleep_ms(200);

    rd->ok = rd->ok
             && ds_instance_get(txn, t_s("Hub"), t_s("first"), &inst)
                == DS_OK
             && inst.name.len == 1 && inst.name.data[0] == 'O';

    rd->released = 1;
    ds_txn_abort(txn);

    return NULL;
}


/*
 * Another process grows the file past this process's 1 MiB map: 150
 * starts of 4 KB inputs ("big-0" to "big-149"), a commit each, with a
 * 16 MiB map. It says how that went through a pipe, not its exit status,
 * which memcheck changes when it reports the blocks the child inherited.
 * The child also inherits the thread's count of map_lock holds
 * (ds_env.c): its env is opened without threads, which never reads it.
 */

static void
t_grow_elsewhere(const char *dir)
{
    int             ok, status, fds[2];
    char            input[4002], done;
    pid_t           pid;
    ds_env_t       *big;

    memset(input, '1', sizeof(input) - 1);
    input[sizeof(input) - 1] = '\0';

    T(pipe(fds) == 0);

    pid = fork();
    T(pid >= 0);

    if (pid == 0) {
        big = t_open(dir, 16 * 1024 * 1024, DS_SYNC_NONE);
        ok = t_start_n(big, "big", 150, input, 2) == DS_OK;
        ds_env_close(big);

        done = ok ? 'y' : 'n';
        _exit(write(fds[1], &done, 1) == 1 ? 0 : 1);
    }

    close(fds[1]);
    done = 0;
    T(read(fds[0], &done, 1) == 1 && done == 'y');
    close(fds[0]);
    T(waitpid(pid, &status, 0) == pid);
    T(WIFEXITED(status));
}


static void
t_env_resize_waits(void)
{
    char           *dir;
    ds_env_t       *env;
    ds_txn_t       *txn;
    pthread_t       th;
    t_reader_t      rd;
    ds_instance_t   inst;

    dir = t_tmpdir();

    env = t_open_flags(dir, 1024 * 1024, DS_SYNC_NONE, T_NO_TLS);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_op_start(txn, t_s("Hub"), t_s("first"), t_s("O"), t_s(""), 1,
                      &inst), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    /* a reader of this process holds a txn while the file grows */

    memset(&rd, 0, sizeof(rd));
    rd.env = env;

    T(pthread_create(&th, NULL, t_reader_thread, &rd) == 0);

    while (!rd.reading) {
        t_sleep_ms(1);
    }

    t_grow_elsewhere(dir);

    rd.grown = 1;

    /* this write must adopt the bigger map, after the reader is done */
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T(rd.released);
    T_INT(ds_instance_get(txn, t_s("Hub"), t_s("big-149"), &inst), DS_OK);
    ds_txn_abort(txn);

    T(pthread_join(th, NULL) == 0);
    T(rd.ok);

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * A write txn of the task thread waits for LMDB's write lock, held by
 * another process that grew the map, while the loop begins a read that
 * must adopt the bigger map: no remap may run during the write txn's
 * begin, as mdb_txn_begin() reads the meta pages through the map once
 * it has the lock, and the read must not wait for the other process
 * either: it fails at once, without a remap. The order is made with
 * pipes and the kernel's word on where the task thread sleeps (in the
 * futex of the write lock), so the loop's read begins only then; the
 * other process lets the lock go after the read returns, or a tenth of
 * a second later. The write txn then adopts the map itself, and a read
 * after it finds what the other process wrote.
 */

typedef struct t_beginner_s  t_beginner_t;

struct t_beginner_s {
    ds_env_t           *env;
    const char         *id;         /* the last instance the child wrote */
    t_beginner_t       *until;      /* its txn stays open until it returns */
    char                self[64];   /* the thread's directory in /proc */
    volatile int        started;
    volatile int        returned;
    int                 write;
    int                 rc;
    int                 found;
    int                 waited;     /* until returned in time */
};


static void *
t_beginner_thread(void *data)
{
    t_beginner_t  *b = data;

    int             i;
    ssize_t         n;
    ds_txn_t       *txn;
    ds_instance_t   inst;

    n = readlink("/proc/thread-self", b->self, sizeof(b->self) - 1);
    b->self[n > 0 ? n : 0] = '\0';

    b->started = 1;
    b->rc = ds_txn_begin(b->env, NULL, b->write, &txn);
    b->returned = 1;

    if (b->rc == DS_OK) {
        b->found = ds_instance_get(txn, t_s("Hub"), t_s(b->id), &inst)
                   == DS_OK;

        /* longer than DS_RESIZE_WAIT, only if the other waits for this */

        for (i = 0; b->until != NULL && i < 3000; i++) {
            if (b->until->returned) {
                b->waited = 1;
                break;
            }

            t_sleep_ms(1);
        }

        ds_txn_abort(txn);
    }

    return NULL;
}


/* 1 when the thread sleeps in a futex, -1 when /proc does not say */

static int
t_in_futex(const char *self)
{
    int       fd;
    long      nr;
    char      path[128], buf[64];
    ssize_t   n;

    if (self[0] == '\0') {
        return -1;
    }

    snprintf(path, sizeof(path), "/proc/%s/syscall", self);

    fd = open(path, O_RDONLY);
    if (fd == -1) {
        return -1;
    }

    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);

    if (n <= 0) {
        return -1;
    }

    buf[n] = '\0';

    /* "running", or the number of the system call it is in */
    if (sscanf(buf, "%ld", &nr) != 1) {
        return 0;
    }

#ifdef SYS_futex_time64
    if (nr == SYS_futex_time64) {
        return 1;
    }
#endif

    return nr == SYS_futex;
}


static void
t_env_resize_write_waits(void)
{
    int             i, ok, held, early, asleep, status, up[2], down[2];
    char           *dir, id[32], input[4002], c;
    pid_t           pid;
    ds_env_t       *env, *big;
    ds_txn_t       *txn;
    pthread_t       task_th, loop_th;
    t_beginner_t    task, loop;
    ds_instance_t   inst;

    dir = t_tmpdir();
    memset(input, '1', sizeof(input) - 1);
    input[sizeof(input) - 1] = '\0';

    /* as the store opens it */
    env = t_open_flags(dir, 1024 * 1024, DS_SYNC_NONE,
                       T_NO_TLS | T_REUSE_READER);

    T(pipe(up) == 0 && pipe(down) == 0);

    pid = fork();
    T(pid >= 0);

    if (pid == 0) {
        /* grows the file past the parent's map, then holds the lock */

        close(up[0]);
        close(down[1]);

        big = t_open(dir, 16 * 1024 * 1024, DS_SYNC_NONE);
        ok = ds_txn_begin(big, NULL, 1, &txn) == DS_OK;

        for (i = 0; i < 150 && ok; i++) {
            snprintf(id, sizeof(id), "big-%d", i);
            ok = ds_op_start(txn, t_s("Hub"), t_s(id), t_s("O"),
                             t_s(input), i + 1, &inst) == DS_OK;
        }

        if (ok) {
            ok = ds_txn_commit(txn) == DS_OK
                 && ds_txn_begin(big, NULL, 1, &txn) == DS_OK;

        } else {
            ds_txn_abort(txn);
        }

        held = ok;
        c = ok ? 'h' : 'n';
        ok = write(up[1], &c, 1) == 1 && read(down[0], &c, 1) == 1 && ok;

        if (held) {
            ds_txn_abort(txn);
        }

        ds_env_close(big);

        c = ok ? 'y' : 'n';
        _exit(write(up[1], &c, 1) == 1 ? 0 : 1);
    }

    close(up[1]);
    close(down[0]);

    c = 0;
    T(read(up[0], &c, 1) == 1 && c == 'h');

    if (c != 'h') {
        T(write(down[1], "r", 1) == 1);
        close(up[0]);
        close(down[1]);
        (void) waitpid(pid, &status, 0);
        ds_env_close(env);
        t_rmdir(dir);
        return;
    }

    memset(&task, 0, sizeof(task));
    task.env = env;
    task.id = "big-149";
    task.write = 1;
    task.until = &loop;

    memset(&loop, 0, sizeof(loop));
    loop.env = env;
    loop.id = "big-149";

    /* the task's write txn begins, and waits for the write lock */

    T(pthread_create(&task_th, NULL, t_beginner_thread, &task) == 0);

    while (!task.started) {
        t_sleep_ms(1);
    }

    asleep = 0;

    for (i = 0; i < 5000 && !task.returned; i++) {
        asleep = t_in_futex(task.self);

        if (asleep != 0) {
            break;
        }

        t_sleep_ms(1);
    }

    if (asleep != 1) {
        printf("  (no /proc word on the task thread: order not checked)\n");
        t_sleep_ms(50);
    }

    /* the loop's read finds the map grown: it must not remap now */

    T(pthread_create(&loop_th, NULL, t_beginner_thread, &loop) == 0);

    /* a second: well past a read that gives up at once, well short of
       DS_RESIZE_WAIT, for which a read that waits would wait */

    for (i = 0; i < 1000 && !loop.returned; i++) {
        t_sleep_ms(1);
    }

    early = loop.returned && !task.returned;

    /* the other process lets the write lock go */

    T(write(down[1], "r", 1) == 1);
    c = 0;
    T(read(up[0], &c, 1) == 1 && c == 'y');
    close(up[0]);
    close(down[1]);
    T(waitpid(pid, &status, 0) == pid);

    T(pthread_join(task_th, NULL) == 0);
    T(pthread_join(loop_th, NULL) == 0);

    /* no remap under the task's begin: the read failed, and at once */
    T(!(asleep == 1 && loop.rc == DS_OK && early));
    T(!(asleep == 1 && !early));
    T(loop.rc == DS_OK ? loop.found : loop.rc == DS_UNAVAILABLE);
    T_INT(task.rc, DS_OK);
    T(task.found);
    T(task.waited);

    /* the write txn adopted the map: a read now finds the child's */

    T(env->map_gen == 1);

    memset(&loop, 0, sizeof(loop));
    loop.env = env;
    loop.id = "big-149";
    (void) t_beginner_thread(&loop);
    T_INT(loop.rc, DS_OK);
    T(loop.found);

    ds_env_close(env);
    t_rmdir(dir);
}


/* a reset read txn is renewed: each read still sees the latest commit */

static void
t_env_reuse_reader(void)
{
    int             i;
    char           *dir;
    ds_env_t       *env;
    ds_txn_t       *r1, *r2, *w;
    ds_instance_t   inst;

    dir = t_tmpdir();
    env = t_open_flags(dir, 8 * 1024 * 1024, DS_SYNC_FULL,
                       T_NO_TLS | T_REUSE_READER);

    for (i = 0; i < 3; i++) {
        T_INT(ds_txn_begin(env, NULL, 1, &w), DS_OK);
        T_INT(ds_op_start(w, t_s("H"), t_s(i == 0 ? "a" : i == 1 ? "b"
                                                            : "c"),
                          t_s("N"), t_s(""), 1000 + i, &inst), DS_OK);
        T_INT(ds_txn_commit(w), DS_OK);

        T_INT(ds_txn_begin(env, NULL, 0, &r1), DS_OK);
        T_INT(t_count_instances(env, t_s("H")), i + 1);
        T_INT(ds_instance_get(r1, t_s("H"), t_s(i == 0 ? "a" : i == 1 ? "b"
                                                                  : "c"),
                              &inst), DS_OK);

        /* a second reader while the first is open gets its own slot */
        T_INT(ds_txn_begin(env, NULL, 0, &r2), DS_OK);
        T(r2 != r1);
        ds_txn_abort(r2);
        ds_txn_abort(r1);
    }

    ds_env_close(env);
    t_rmdir(dir);
}


static void
t_env_open_errors(void)
{
    int            rc;
    char           err[256];
    ds_env_t      *env;
    ds_env_conf_t  conf;

    memset(&conf, 0, sizeof(conf));
    conf.path = "/tmp/ds_test_no_such_dir/x";

    rc = ds_env_open(&env, &conf, err, sizeof(err));
    T_INT(rc, DS_ERROR);
    T(env == NULL);
    T(strstr(err, "/tmp/ds_test_no_such_dir/x") != NULL);
    T(strstr(err, "No such file") != NULL);

    conf.path = "";
    T_INT(ds_env_open(&env, &conf, err, sizeof(err)), DS_INVALID);

    T(strcmp(ds_strerror(DS_FULL), "store full") == 0);
    T(strcmp(ds_strerror(DS_NOTFOUND), "not found") == 0);
    T(strcmp(ds_strerror(99), "unknown error") == 0);
}


static void
t_env_reopen(void)
{
    int            dead;
    char          *dir;
    uint64_t       seq;
    ds_env_t      *env;
    ds_txn_t      *txn;
    ds_instance_t  inst;
    ds_check_stats_t  st;
    ds_str_t       hub;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_FULL);

    T(strcmp(ds_env_path(env), dir) == 0);
    T_INT(ds_env_reader_check(env, &dead), DS_OK);
    T_INT(dead, 0);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_op_start(txn, hub, t_s("a"), t_s("Hello"), t_s("[1,2]"),
                      1000, &inst), DS_OK);
    T_INT(ds_op_start(txn, hub, t_s("b"), t_s("Hello"), t_s(""), 2000,
                      &inst), DS_OK);
    T_INT(ds_history_append(txn, hub, t_s("a"), t_s("{\"e\":1}"), &seq),
          DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);
    T_INT(ds_env_sync(env), DS_OK);
    ds_env_close(env);

    env = t_open(dir, 0, DS_SYNC_FULL);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_instance_get(txn, hub, t_s("a"), &inst), DS_OK);
    T_STR(inst.name, "Hello");
    T_STR(inst.input, "[1,2]");
    T_INT(inst.created, 1000);
    T_INT(inst.status, DS_PENDING);
    T_INT(ds_instance_get(txn, hub, t_s("b"), &inst), DS_OK);
    T_INT(inst.input.len, 0);
    T_INT(inst.created, 2000);
    ds_txn_abort(txn);

    T(t_consistent(env, hub, &st));
    T_INT(st.instances, 2);
    T_INT(st.by_created, 2);
    T_INT(st.by_status, 2);
    T_INT(st.history, 1);
    T_INT(st.inbox, 2);

    ds_env_close(env);
    t_rmdir(dir);
}


#define T_FORK_N  1000


static void
t_env_fork(void)
{
    int               p, ok;
    char             *dir, prefix[16];
    pid_t             pids[2];
    ds_env_t         *env;
    ds_str_t          hub;
    ds_check_stats_t  st;

    hub = t_s("Hub");
    dir = t_tmpdir();

    for (p = 0; p < 2; p++) {
        pids[p] = fork();
        T(pids[p] >= 0);

        if (pids[p] != 0) {
            continue;
        }

        /* the child opens its own environment after fork() */
        env = t_open(dir, 0, DS_SYNC_NONE);
        snprintf(prefix, sizeof(prefix), "p%d", p);
        ok = t_start_n(env, prefix, T_FORK_N, "null", ds_time_now())
             == DS_OK;
        ds_env_close(env);
        free(dir);
        _exit(ok ? 0 : 1);
    }

    for (p = 0; p < 2; p++) {
        T(t_child_ok(pids[p]));
    }

    env = t_open(dir, 0, DS_SYNC_NONE);

    T(t_consistent(env, hub, &st));
    T_INT(st.instances, 2 * T_FORK_N);
    T_INT(st.by_created, 2 * T_FORK_N);
    T_INT(st.by_status, 2 * T_FORK_N);
    T_INT(st.inbox, 2 * T_FORK_N);
    T_INT(t_count_instances(env, hub), 2 * T_FORK_N);

    ds_env_close(env);
    t_rmdir(dir);
}


static void
t_env_full(void)
{
    int               rc, committed, i;
    char             *dir, id[32], *input;
    size_t            n;
    ds_env_t         *env;
    ds_txn_t         *txn;
    ds_str_t          hub;
    ds_instance_t     inst;
    ds_check_stats_t  st;

    hub = t_s("Hub");
    dir = t_tmpdir();

    /* a reserve of a byte: LMDB's own MDB_MAP_FULL is what stops writes */
    env = t_open_reserve(dir, 1024 * 1024, 1);

    n = 9000;
    input = t_alloc(n + 1);
    input[0] = '"';
    memset(input + 1, 'x', n - 2);
    input[n - 1] = '"';
    input[n] = '\0';

    committed = 0;
    rc = DS_OK;

    for (i = 0; i < 1000; i++) {
        snprintf(id, sizeof(id), "full-%d", i);

        T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);

        rc = ds_op_start(txn, hub, t_s(id), t_s("Orch"), t_s(input),
                         1000 + i, &inst);
        if (rc == DS_OK) {
            rc = ds_history_append(txn, hub, t_s(id), t_s(input), NULL);
        }

        if (rc != DS_OK) {
            T_INT(rc, DS_FULL);
            T(strstr(ds_txn_error(txn), "MDB_MAP_FULL") != NULL);
            ds_txn_abort(txn);
            break;
        }

        rc = ds_txn_commit(txn);
        if (rc != DS_OK) {
            T_INT(rc, DS_FULL);
            break;
        }

        committed++;
    }

    T_INT(rc, DS_FULL);
    T(committed > 10);

    /* still readable and consistent; the failed instance left nothing */
    T(t_consistent(env, hub, &st));
    T_INT(st.instances, committed);
    T_INT(st.by_created, committed);
    T_INT(st.by_status, committed);
    T_INT(st.history, committed);
    T_INT(st.inbox, committed);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_instance_get(txn, hub, t_s("full-0"), &inst), DS_OK);
    T_INT(inst.input.len, n);
    T_INT(ds_instance_get(txn, hub, t_s(id), &inst), DS_NOTFOUND);
    ds_txn_abort(txn);

    /* deleting makes room again */
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_instance_delete(txn, hub, t_s("full-0")), DS_OK);
    T_INT(ds_instance_delete(txn, hub, t_s("full-1")), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    T(t_consistent(env, hub, &st));
    T_INT(st.instances, committed - 2);

    free(input);
    ds_env_close(env);
    t_rmdir(dir);
}


static void
t_env_nested(void)
{
    char          *dir;
    ds_env_t      *env;
    ds_txn_t      *txn, *child, *ro;
    ds_str_t       hub;
    ds_instance_t  inst;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);

    T_INT(ds_txn_begin(env, txn, 1, &child), DS_OK);
    T_INT(ds_op_start(child, hub, t_s("kept"), t_s("O"), t_s(""), 10, &inst),
          DS_OK);
    T_INT(ds_txn_commit(child), DS_OK);

    T_INT(ds_txn_begin(env, txn, 1, &child), DS_OK);
    T_INT(ds_op_start(child, hub, t_s("dropped"), t_s("O"), t_s(""), 11,
                      &inst), DS_OK);
    ds_txn_abort(child);

    T_INT(ds_txn_commit(txn), DS_OK);

    T_INT(ds_txn_begin(env, NULL, 0, &ro), DS_OK);
    T_INT(ds_instance_get(ro, hub, t_s("kept"), &inst), DS_OK);
    T_INT(ds_instance_get(ro, hub, t_s("dropped"), &inst), DS_NOTFOUND);
    T_INT(ds_txn_begin(env, ro, 1, &child), DS_INVALID);
    T(child == NULL);
    ds_txn_abort(ro);

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/* another process grows the map; this one adopts it (MDB_MAP_RESIZED) */

static void
t_env_resized(void)
{
    int            ok, fds[2];
    char          *dir, input[4002], c;
    pid_t          pid;
    ds_env_t      *env, *big;
    ds_txn_t      *txn;
    ds_str_t       hub;
    ds_instance_t  inst;

    hub = t_s("Hub");
    dir = t_tmpdir();

    /* a JSON string, as the check wants the inputs it finds to be */
    memset(input, '1', sizeof(input) - 1);
    input[0] = '"';
    input[sizeof(input) - 2] = '"';
    input[sizeof(input) - 1] = '\0';

    T(pipe(fds) == 0);

    pid = fork();
    T(pid >= 0);

    if (pid == 0) {
        /* start when the parent has its environment open */
        close(fds[1]);
        ok = read(fds[0], &c, 1) == 1;
        close(fds[0]);

        big = t_open(dir, 16 * 1024 * 1024, DS_SYNC_NONE);
        ok = ok && t_start_n(big, "big", 500, input, 1) == DS_OK;
        ds_env_close(big);
        free(dir);
        _exit(ok ? 0 : 1);
    }

    close(fds[0]);
    env = t_open(dir, 1024 * 1024, DS_SYNC_NONE);
    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    ds_txn_abort(txn);

    T(write(fds[1], "g", 1) == 1);
    close(fds[1]);

    T(t_child_ok(pid));

    /* the data of the child is past our 1 MiB map: begin must adopt it */
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_instance_get(txn, hub, t_s("big-499"), &inst), DS_OK);
    T_INT(inst.input.len, sizeof(input) - 1);
    T_INT(ds_op_start(txn, hub, t_s("after"), t_s("O"), t_s(input), 9999,
                      &inst), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    T(t_consistent(env, hub, NULL));
    T_INT(t_count_instances(env, hub), 501);

    ds_env_close(env);
    t_rmdir(dir);
}


static int
t_count_cb(void *data, ds_str_t id, const ds_instance_t *inst)
{
    (void) id;
    (void) inst;

    (*(int *) data)++;

    return 0;
}


static int
t_count_instances(ds_env_t *env, ds_str_t hub)
{
    int         n;
    char        token[DS_TOKEN_MAX];
    size_t      token_len;
    ds_txn_t   *txn;
    ds_query_t  q;

    memset(&q, 0, sizeof(q));
    q.top = 1000000;
    n = 0;

    if (ds_txn_begin(env, NULL, 0, &txn) != DS_OK) {
        return -1;
    }

    if (ds_instance_list(txn, hub, &q, t_count_cb, &n, token, &token_len)
        != DS_OK || token_len != 0)
    {
        n = -1;
    }

    ds_txn_abort(txn);

    return n;
}


/*
 * dsi_room() measures once a txn and then counts what puts and deletes
 * may have added: its verdict must still be the one a fresh measure
 * gives, for starts in one txn until the reserve is reached, and for a
 * parent whose children committed starts of their own; with inputs of
 * 600 bytes, and of 5,000 (overflow pages).
 */

static void
t_env_room_measure(void)
{
    int            rc, want, i, k, child, big, refused, per_child;
    char          *dir, id[32], *input;
    size_t         len;
    ds_env_t      *env;
    ds_txn_t      *txn, *sub;
    ds_str_t       hub, in;
    ds_space_t     sp;
    ds_instance_t  inst;

    hub = t_s("Hub");

    for (big = 0; big < 2; big++) {
        len = big ? 5000 : 600;
        input = malloc(len + 1);
        T(input != NULL);
        if (input == NULL) {
            return;
        }

        input[0] = '"';
        memset(input + 1, 'x', len - 2);
        input[len - 1] = '"';
        input[len] = '\0';
        in = t_s(input);

        /* a child's starts outweigh the bound of the txn's one start */
        per_child = big ? 5 : 100;

        for (child = 0; child < 2; child++) {
            dir = t_tmpdir();
            env = t_open(dir, 1024 * 1024, DS_SYNC_NONE);
            refused = 0;

            T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);

            for (i = 0; i < 5000 && !refused; i++) {

                if (child) {
                    T_INT(ds_txn_begin(env, txn, 1, &sub), DS_OK);

                    for (k = 0; k < per_child; k++) {
                        snprintf(id, sizeof(id), "c-%d-%d", i, k);
                        rc = ds_op_start(sub, hub, t_s(id), t_s("Orch"), in,
                                         1000 + i, &inst);
                        if (rc != DS_OK) {
                            T_INT(rc, DS_FULL);
                            break;
                        }
                    }

                    T_INT(ds_txn_commit(sub), DS_OK);
                }

                T_INT(ds_txn_space(txn, &sp), DS_OK);
                want = (sp.used + sp.reserve >= sp.map_size) ? DS_FULL
                                                             : DS_OK;

                snprintf(id, sizeof(id), "p-%d", i);
                rc = ds_op_start(txn, hub, t_s(id), t_s("Orch"), in,
                                 1000 + i, &inst);
                if (rc != want) {
                    T_INT(rc, want);
                    break;
                }

                refused = (rc == DS_FULL);
            }

            /* the reserve was reached, and LMDB's own limit never was */
            T(refused);
            T(i > (child ? 2 : (big ? 10 : 50)));
            ds_txn_abort(txn);
            ds_env_close(env);
            t_rmdir(dir);
        }

        free(input);
    }
}


/*
 * A store filled with Pending instances up to its reserve: the operations
 * that add data are refused before they write, terminate and purge may
 * use the reserve, the space measure goes down again, and starts fit
 * again after the purge.
 */

static void
t_env_reserve(void)
{
    int            rc, committed, i, more;
    char          *dir, id[32], input[602];
    size_t         deleted, full_use, batch;
    ds_env_t      *env;
    ds_txn_t      *txn;
    ds_str_t       hub;
    ds_space_t     sp;
    ds_query_t     q;
    ds_status_e    status;
    ds_instance_t  inst;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 1024 * 1024, DS_SYNC_NONE);

    input[0] = '"';
    memset(input + 1, 'x', sizeof(input) - 3);
    input[sizeof(input) - 2] = '"';
    input[sizeof(input) - 1] = '\0';

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_txn_space(txn, &sp), DS_OK);
    T_INT(sp.map_size, 1024 * 1024);
    /* 5% of 1m is less than the least default reserve, 64 pages */
    T(sp.reserve > 1024 * 1024 / 20 && sp.reserve <= 1024 * 1024 / 4);
    T(sp.used > 0 && sp.used < 64 * 1024);
    ds_txn_abort(txn);

    committed = 0;
    rc = DS_OK;

    for (i = 0; i < 10000; i++) {
        snprintf(id, sizeof(id), "r-%d", i);

        T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);

        rc = ds_op_start(txn, hub, t_s(id), t_s("Orch"), t_s(input),
                         1000 + i, &inst);
        if (rc != DS_OK) {
            T_INT(ds_txn_writes(txn), 0);
            T(strstr(ds_txn_error(txn), "reserve") != NULL);
            ds_txn_abort(txn);
            break;
        }

        T_INT(ds_txn_commit(txn), DS_OK);
        committed++;
    }

    /* refused by the reserve, never by LMDB's own MDB_MAP_FULL */
    T_INT(rc, DS_FULL);
    T(committed > 100);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_txn_space(txn, &sp), DS_OK);
    T(sp.used + sp.reserve >= sp.map_size && sp.used < sp.map_size);
    full_use = sp.used;

    /* every operation that adds data is refused, and writes nothing */
    T_INT(ds_op_raise_event(txn, hub, t_s("r-0"), t_s("E"), t_s("1"), 2),
          DS_FULL);
    T_INT(ds_op_suspend(txn, hub, t_s("r-0"), t_s(""), 2), DS_FULL);
    T_INT(ds_entity_signal(txn, hub, t_s("counter"), t_s("k"), t_s("add"),
                           t_s("1"), 2), DS_FULL);
    T_INT(ds_txn_writes(txn), 0);
    ds_txn_abort(txn);

    /* terminate each, in a txn of its own: the reserve takes them all */
    for (i = 0; i < committed; i++) {
        snprintf(id, sizeof(id), "r-%d", i);

        T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
        rc = ds_op_terminate(txn, hub, t_s(id), t_s("\"full\""), 3);
        if (rc != DS_OK) {
            T_INT(rc, DS_OK);
            ds_txn_abort(txn);
            break;
        }

        rc = ds_txn_commit(txn);
        if (rc != DS_OK) {
            T_INT(rc, DS_OK);
            break;
        }
    }

    /* half purged one by one, the rest by filter, in small batches */
    for (i = 0; i < committed / 2; i++) {
        snprintf(id, sizeof(id), "r-%d", i);

        T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
        T_INT(ds_op_purge(txn, hub, t_s(id), &status), DS_OK);
        T_INT(status, DS_TERMINATED);
        T_INT(ds_txn_commit(txn), DS_OK);
    }

    memset(&q, 0, sizeof(q));
    q.created_from = INT64_MIN;
    q.created_to = INT64_MAX;
    q.status_mask = DS_TERMINAL_MASK;

    do {
        T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
        T_INT(ds_instance_purge(txn, hub, &q, 50, &deleted, &rc), DS_OK);
        T_INT(ds_txn_commit(txn), DS_OK);
    } while (rc);

    /* the measure counts freed pages as free: far below the full mark */
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_txn_space(txn, &sp), DS_OK);
    T(sp.used < full_use / 4);

    T_INT(ds_op_start(txn, hub, t_s("again"), t_s("Orch"), t_s(input), 4,
                      &inst), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);

    /*
     * Ids in no order: each terminate's history event lands on a page of
     * its own, and terminating all of them does not fit in the reserve.
     * Terminate stops at half of it, with nothing written, and what was
     * terminated can then be purged.
     */
    t_rmdir(dir);
    dir = t_tmpdir();
    env = t_open(dir, 8 * 1024 * 1024, DS_SYNC_NONE);

    for (committed = 0; committed < 20000; committed++) {
        snprintf(id, sizeof(id), "%08x",
                 (unsigned) ((committed + 1) * 2654435761u));

        T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
        rc = ds_op_start(txn, hub, t_s(id), t_s("Orch"), t_s("1"), 5, &inst);
        if (rc != DS_OK) {
            ds_txn_abort(txn);
            break;
        }

        T_INT(ds_txn_commit(txn), DS_OK);
    }

    T_INT(rc, DS_FULL);

    for (i = 0; i < committed; i++) {
        snprintf(id, sizeof(id), "%08x", (unsigned) ((i + 1) * 2654435761u));

        T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
        rc = ds_op_terminate(txn, hub, t_s(id), t_s(""), 6);
        if (rc != DS_OK) {
            T_INT(ds_txn_writes(txn), 0);
            T(strstr(ds_txn_error(txn), "only purge") != NULL);
            ds_txn_abort(txn);
            break;
        }

        T_INT(ds_txn_commit(txn), DS_OK);
    }

    T_INT(rc, DS_FULL);
    T(i > 0 && i < committed);

    /* a batch needs room for the pages it copies: halved until it fits */
    batch = 1000;

    more = 1;

    while (more) {
        T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
        rc = ds_instance_purge(txn, hub, &q, batch, &deleted, &more);

        if (rc == DS_FULL && batch > 1) {
            ds_txn_abort(txn);
            batch /= 2;
            more = 1;
            continue;
        }

        T_INT(rc, DS_OK);
        T_INT(ds_txn_commit(txn), DS_OK);

        if (rc != DS_OK) {
            break;
        }
    }

    T(batch > 1);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_op_terminate(txn, hub, t_s(id), t_s(""), 7), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    ds_env_close(env);

    /* a reserve given in bytes */
    t_rmdir(dir);
    dir = t_tmpdir();
    env = t_open_reserve(dir, 1024 * 1024, 300 * 1024);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_txn_space(txn, &sp), DS_OK);
    T_INT(sp.reserve, 300 * 1024);

    for (i = 0; i < 10000; i++) {
        snprintf(id, sizeof(id), "b-%d", i);

        rc = ds_op_start(txn, hub, t_s(id), t_s("Orch"), t_s(input), 5,
                         &inst);
        if (rc != DS_OK) {
            break;
        }
    }

    T_INT(rc, DS_FULL);
    T_INT(ds_txn_space(txn, &sp), DS_OK);
    T(sp.used + 300 * 1024 >= sp.map_size
      && sp.used + 200 * 1024 < sp.map_size);
    T_INT(ds_txn_commit(txn), DS_OK);

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * A thread that holds a txn open begins another (a read's answer that
 * reads again, or applies a batch in the loop) after another process
 * grew the map: the inner begin cannot adopt the map while the outer
 * txn, its own, holds the old one, and must not wait for it either (it
 * would wait DS_RESIZE_WAIT in the event loop, then fail): it fails at
 * once as DS_UNAVAILABLE, read or write. Once the outer txn ends, the
 * next begin adopts and reads what the other process wrote.
 */

static void
t_env_resize_nested(void)
{
    char           *dir;
    ds_env_t       *env;
    ds_txn_t       *outer, *txn;
    ds_instance_t   inst;

    dir = t_tmpdir();

    /* as the store opens it */
    env = t_open_flags(dir, 1024 * 1024, DS_SYNC_NONE,
                       T_NO_TLS | T_REUSE_READER);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_op_start(txn, t_s("Hub"), t_s("first"), t_s("O"), t_s(""), 1,
                      &inst), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    T_INT(ds_txn_begin(env, NULL, 0, &outer), DS_OK);

    t_grow_elsewhere(dir);

    /* the outer read still sees the store as it was */
    T_INT(ds_instance_get(outer, t_s("Hub"), t_s("first"), &inst), DS_OK);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_UNAVAILABLE);
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_UNAVAILABLE);

    T_INT(ds_instance_get(outer, t_s("Hub"), t_s("first"), &inst), DS_OK);
    ds_txn_abort(outer);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_instance_get(txn, t_s("Hub"), t_s("big-149"), &inst), DS_OK);
    ds_txn_abort(txn);

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * sync=on: LMDB leaves the meta page of a commit unflushed
 * (MDB_NOMETASYNC) and the commit flushes it itself once LMDB's write
 * lock is free; a txn that changed nothing is not flushed. A failed flush
 * fails its commit, and no write txn begins after it, while reads go on.
 */

static int  t_flushes;
static int  t_flush_errno;


static int
t_fdatasync(int fd)
{
    t_flushes++;

    if (t_flush_errno) {
        errno = t_flush_errno;
        return -1;
    }

    return fdatasync(fd);
}


static int
t_start_one(ds_env_t *env, const char *id)
{
    return t_start_at(env, id, "1", 2);
}


static void
t_env_flush(void)
{
    int            (*saved)(int fd);
    char           *dir;
    char            err[256];
    ds_env_t       *env;
    ds_txn_t       *txn, *child;
    ds_instance_t   inst;

    saved = dsi_fdatasync;
    dsi_fdatasync = t_fdatasync;
    t_flush_errno = 0;

    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_FULL);

    /* a write: one flush, after the commit */
    t_flushes = 0;
    T_INT(t_start_one(env, "f1"), DS_OK);
    T_INT(t_flushes, 1);

    /* a write txn that wrote nothing: none */
    t_flushes = 0;
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);
    T_INT(t_flushes, 0);

    /* a child's commit is not the store's: only its parent's flushes */
    t_flushes = 0;
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_txn_begin(env, txn, 1, &child), DS_OK);
    T_INT(ds_op_start(child, t_s("Hub"), t_s("f2"), t_s("O"), t_s("1"), 3,
                      &inst), DS_OK);
    T_INT(ds_txn_commit(child), DS_OK);
    T_INT(t_flushes, 0);
    T_INT(ds_txn_commit(txn), DS_OK);
    T_INT(t_flushes, 1);

    /* a read: none */
    t_flushes = 0;
    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    ds_txn_abort(txn);
    T_INT(t_flushes, 0);

    /* a failed flush fails its commit; later writes are refused */
    t_flush_errno = EIO;
    T_INT(t_start_one(env, "f3"), DS_ERROR);
    t_flush_errno = 0;

    err[0] = '\0';
    T_INT(dsi_txn_begin_err(env, NULL, 1, &txn, err, sizeof(err)),
          DS_STOPPED);
    T(strstr(err, "a flush of the store failed") != NULL);

    if (txn != NULL) {
        /* begun after all: end it, or the next write waits for it */
        ds_txn_abort(txn);
    }

    /* refused as such: told apart from the failure of a commit */
    T_INT(t_start_one(env, "f4"), DS_STOPPED);
    T(strcmp(ds_strerror(DS_STOPPED),
             "writes stopped after a failed flush of the store") == 0);

    /* what was committed is still read */
    T_INT(t_count_instances(env, t_s("Hub")), 3);

    /* opened again, the store takes writes */
    ds_env_close(env);
    env = t_open(dir, 0, DS_SYNC_FULL);
    t_flushes = 0;
    T_INT(t_start_one(env, "f5"), DS_OK);
    T_INT(t_flushes, 1);
    T_INT(t_count_instances(env, t_s("Hub")), 4);
    ds_env_close(env);

    /* sync=off: a commit flushes nothing */
    env = t_open(dir, 0, DS_SYNC_NONE);
    t_flushes = 0;
    T_INT(t_start_one(env, "f6"), DS_OK);
    T_INT(t_flushes, 0);
    ds_env_close(env);

    dsi_fdatasync = saved;
    t_rmdir(dir);
}


/* the store's own flush, counted apart from LMDB's (t_env_flush_lmdb) */

static int  t_own_flushes;


static int
t_own_fdatasync(int fd)
{
    t_own_flushes++;

    if (t_flush_errno) {
        errno = t_flush_errno;
        return -1;
    }

    return (int) syscall(SYS_fdatasync, fd);
}


/* ds_env_open() of an env on dir with the stop word stop (NULL: its own) */

static int
t_open_word(ds_env_t **envp, const char *dir, int *stop, ds_sync_e sync,
    char *err, size_t errlen)
{
    ds_env_conf_t  conf;

    memset(&conf, 0, sizeof(ds_env_conf_t));
    conf.path = dir;
    conf.map_size = 64 * 1024 * 1024;
    conf.sync = sync;
    conf.stop = stop;

    return ds_env_open(envp, &conf, err, errlen);
}


/* a sync=on env on dir that shares the stop word with others */

static ds_env_t *
t_open_stop(const char *dir, int *stop)
{
    char       err[256];
    ds_env_t  *env;

    if (t_open_word(&env, dir, stop, DS_SYNC_FULL, err, sizeof(err))
        != DS_OK)
    {
        fprintf(stderr, "ds_env_open: %s\n", err);
        abort();
    }

    return env;
}


/* a word in memory a forked child shares, zero */

static int *
t_shared_word(void)
{
    void  *p;

    p = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    T(p != MAP_FAILED);

    if (p == MAP_FAILED) {
        abort();
    }

    *(int *) p = 0;

    return p;
}


/* after another process's failed flush: writes refused, reads go on */

static void
t_env_check_stopped(ds_env_t *env, int instances)
{
    char       err[256];
    ds_txn_t  *txn;

    err[0] = '\0';
    T_INT(dsi_txn_begin_err(env, NULL, 1, &txn, err, sizeof(err)),
          DS_STOPPED);
    T(strstr(err, "a flush of the store failed") != NULL);

    if (txn != NULL) {
        ds_txn_abort(txn);
    }

    T_INT(t_start_one(env, "after"), DS_STOPPED);
    T_INT(t_count_instances(env, t_s("Hub")), instances);
}


/*
 * A failed flush in one process stops the writes of every process that
 * has the store open with the same stop word (nginx's workers: a word in
 * the module's shared zone), not only its own: the kernel may have
 * dropped the other processes' dirty pages too. The other process is a
 * forked child with its own env on the file, whose store flush fails.
 */

static void
t_env_flush_shared(void)
{
    int             ok, *stop;
    char           *dir;
    pid_t           pid;
    ds_env_t       *env, *other;

    dsi_fdatasync = t_own_fdatasync;
    t_flush_errno = 0;

    stop = t_shared_word();
    dir = t_tmpdir();
    env = t_open_stop(dir, stop);

    T_INT(t_start_one(env, "s1"), DS_OK);

    pid = fork();
    T(pid >= 0);

    if (pid == 0) {
        other = t_open_stop(dir, stop);

        t_own_flushes = 0;
        t_flush_errno = EIO;
        ok = (t_start_one(other, "s2") == DS_ERROR && t_own_flushes == 1);

        /* and its own writes stop, as before */
        t_flush_errno = 0;
        ok = ok && t_start_one(other, "s3") == DS_STOPPED;

        ds_env_close(other);
        free(dir);
        _exit(ok ? 0 : 1);
    }

    T(t_child_ok(pid));
    T_INT(*stop, 1);

    /* s2 was committed, only its flush failed: it is read */
    t_env_check_stopped(env, 2);
    ds_env_close(env);

    /* opened with a word of its own (nginx started again): writes go on */
    env = t_open_stop(dir, NULL);
    T_INT(t_start_one(env, "s4"), DS_OK);
    T_INT(t_count_instances(env, t_s("Hub")), 3);
    ds_env_close(env);

    (void) munmap(stop, sizeof(int));
    dsi_fdatasync = fdatasync;
    t_rmdir(dir);
}


/*
 * LMDB's own flushes: the test binary defines fdatasync() and fsync(), so
 * liblmdb's calls, through its PLT, reach these (symbol interposition)
 * and not libc's; they count and fail with t_lmdb_errno when it is set,
 * and otherwise flush with the system call. The store's own flush goes
 * through dsi_fdatasync, which t_env_flush_lmdb points at
 * t_own_fdatasync, so what these count is LMDB's.
 */

static int  t_lmdb_flushes;
static int  t_lmdb_errno;


int
fdatasync(int fd)
{
    t_lmdb_flushes++;

    if (t_lmdb_errno) {
        errno = t_lmdb_errno;
        return -1;
    }

    return (int) syscall(SYS_fdatasync, fd);
}


/* LMDB uses it instead on filesystems whose fdatasync() it distrusts */

int
fsync(int fd)
{
    t_lmdb_flushes++;

    if (t_lmdb_errno) {
        errno = t_lmdb_errno;
        return -1;
    }

    return (int) syscall(SYS_fsync, fd);
}


/*
 * LMDB's own flush of the data, in mdb_txn_commit(), reaches the
 * interposed fdatasync(): counted apart from the store's flush. When it
 * fails with EIO the commit fails whole (no meta page was written), and
 * the writes of that process and of every process sharing its stop word
 * are refused from then on.
 */

static void
t_env_flush_lmdb(void)
{
    int             ok, *stop;
    char           *dir, err[256];
    pid_t           pid;
    ds_env_t       *env, *other;
    ds_txn_t       *txn;
    ds_instance_t   inst;

    dsi_fdatasync = t_own_fdatasync;
    t_flush_errno = 0;
    t_lmdb_errno = 0;

    stop = t_shared_word();
    dir = t_tmpdir();
    env = t_open_stop(dir, stop);

    /* a commit: LMDB flushes the data, the store the meta page */
    t_lmdb_flushes = 0;
    t_own_flushes = 0;
    T_INT(t_start_one(env, "l1"), DS_OK);
    T(t_lmdb_flushes >= 1);
    T_INT(t_own_flushes, 1);

    pid = fork();
    T(pid >= 0);

    if (pid == 0) {
        other = t_open_stop(dir, stop);
        ok = 1;

        /* LMDB's data flush fails: the commit fails, nothing flushed */
        t_lmdb_flushes = 0;
        t_own_flushes = 0;
        t_lmdb_errno = EIO;
        err[0] = '\0';

        ok = ok && ds_txn_begin(other, NULL, 1, &txn) == DS_OK;

        if (ok) {
            ok = ds_op_start(txn, t_s("Hub"), t_s("l2"), t_s("O"),
                             t_s("1"), 2, &inst) == DS_OK;
            ok = (dsi_txn_commit_err(txn, err, sizeof(err)) == DS_ERROR)
                 && ok;
        }

        ok = ok && t_lmdb_flushes >= 1 && t_own_flushes == 0
             && strstr(err, "Input/output error") != NULL;

        /* the disk answers again: still no write */
        t_lmdb_errno = 0;
        ok = ok && t_start_one(other, "l3") == DS_STOPPED;

        ds_env_close(other);
        free(dir);
        _exit(ok ? 0 : 1);
    }

    T(t_child_ok(pid));
    T_INT(*stop, 1);

    /* l2 was not committed */
    t_env_check_stopped(env, 1);
    ds_env_close(env);

    (void) munmap(stop, sizeof(int));
    dsi_fdatasync = fdatasync;
    t_rmdir(dir);
}


/*
 * sync=off: the store's flush, every flush= (ds_env_sync(), in a task),
 * stops the writes when it fails, as a failed flush of sync=on does: the
 * kernel may have dropped the pages it was to write, and later commits
 * would rest on them. errno is the flush's.
 */

static void
t_env_flush_off(void)
{
    int        *stop;
    char       *dir;
    ds_env_t   *env;

    dsi_fdatasync = t_own_fdatasync;
    t_flush_errno = 0;

    stop = t_shared_word();
    dir = t_tmpdir();

    T_INT(t_open_word(&env, dir, stop, DS_SYNC_NONE, NULL, 0), DS_OK);

    /* a commit flushes nothing; the flush does */
    t_own_flushes = 0;
    T_INT(t_start_one(env, "o1"), DS_OK);
    T_INT(t_own_flushes, 0);
    T_INT(ds_env_sync(env), DS_OK);
    T_INT(t_own_flushes, 1);
    T_INT(*stop, 0);
    T_INT(t_start_one(env, "o2"), DS_OK);

    t_flush_errno = EIO;
    errno = 0;
    T_INT(ds_env_sync(env), DS_ERROR);
    T_INT(errno, EIO);
    t_flush_errno = 0;

    T_INT(*stop, 1);

    /* o2 was committed, only the flush failed: it is read */
    t_env_check_stopped(env, 2);

    /* the disk answers again: still no write */
    T_INT(ds_env_sync(env), DS_OK);
    t_env_check_stopped(env, 2);
    ds_env_close(env);

    /* opened with a word of its own (nginx started again): writes go on */
    T_INT(t_open_word(&env, dir, NULL, DS_SYNC_NONE, NULL, 0), DS_OK);
    T_INT(t_start_one(env, "o3"), DS_OK);
    T_INT(t_count_instances(env, t_s("Hub")), 3);
    ds_env_close(env);

    (void) munmap(stop, sizeof(int));
    dsi_fdatasync = fdatasync;
    t_rmdir(dir);
}


/* the id of the store's last commit, read with LMDB alone; 0: none */

static size_t
t_last_txnid(const char *dir)
{
    size_t       id;
    MDB_env     *env;
    MDB_envinfo  info;

    id = (size_t) -1;

    if (mdb_env_create(&env) != 0) {
        return id;
    }

    if (mdb_env_set_maxdbs(env, 32) == 0
        && mdb_env_open(env, dir, MDB_RDONLY, 0600) == 0
        && mdb_env_info(env, &info) == 0)
    {
        id = info.me_last_txnid;
    }

    mdb_env_close(env);

    return id;
}


/*
 * A process that opens the store after another's flush failed (a
 * reload's new worker: the stop word lives in the master's zone) writes
 * nothing while it opens: a store that needs no write opens, its writes
 * refused; one that needs a write (a db to create, the counts to build)
 * is not opened, and nothing is committed.
 */

static void
t_env_open_stopped(void)
{
    int        word;
    char      *dir, err[256];
    size_t     id;
    ds_env_t  *env;

    dsi_fdatasync = fdatasync;
    dir = t_tmpdir();
    word = 1;

    /* a new store: its dbs would be created */
    err[0] = '\0';
    T_INT(t_open_word(&env, dir, &word, DS_SYNC_FULL, err, sizeof(err)),
          DS_ERROR);
    T(strstr(err, "a flush of it failed before") != NULL);
    T_INT(t_last_txnid(dir), 0);

    /* made with a clear word; then without its counts */
    env = t_open_stop(dir, NULL);
    T_INT(t_start_one(env, "p1"), DS_OK);
    t_drop_counts(env);
    ds_env_close(env);

    id = t_last_txnid(dir);
    T(id > 0);

    /* the counts would be built */
    err[0] = '\0';
    T_INT(t_open_word(&env, dir, &word, DS_SYNC_NONE, err, sizeof(err)),
          DS_ERROR);
    T(strstr(err, "a flush of it failed before") != NULL);
    T_INT(t_last_txnid(dir), id);

    /* opened with a clear word, the counts are built */
    env = t_open_stop(dir, NULL);
    ds_env_close(env);
    id = t_last_txnid(dir);

    /* nothing to write: it opens, reads, refuses writes, commits nothing */
    T_INT(t_open_word(&env, dir, &word, DS_SYNC_FULL, err, sizeof(err)),
          DS_OK);
    t_env_check_stopped(env, 1);
    ds_env_close(env);
    T_INT(t_last_txnid(dir), id);

    t_rmdir(dir);
}
