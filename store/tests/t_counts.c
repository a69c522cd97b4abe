/*
 * Copyright (C) ngx_durable authors
 *
 * The counts of ds_counts.c: kept by the writes, built for an old store.
 */


#include "ds_internal.h"
#include "t_work.h"


typedef struct {
    uint64_t            status[DS_STATUS_COUNT];
    uint64_t            ready[3];
    unsigned            records;
} t_counts_t;


static int
t_count_cb(void *data, ds_str_t hub, const ds_count_t *c)
{
    t_counts_t  *t;

    t = data;

    if (hub.len != 3 || memcmp(hub.data, "Hub", 3) != 0) {
        return 0;
    }

    t->records++;

    if (c->what == DS_COUNT_STATUS) {
        t->status[c->status] = c->count;

    } else {
        t->ready[c->kind] = c->count;
    }

    return 0;
}


static void t_counts_read_txn(void);


static void
t_counts_read(ds_env_t *env, t_counts_t *t)
{
    ds_txn_t  *txn;

    memset(t, 0, sizeof(t_counts_t));

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_counts_each(txn, t_count_cb, t), DS_OK);
    ds_txn_abort(txn);
}


static void
t_counts_op(ds_env_t *env, int op, const char *id)
{
    ds_txn_t       *txn;
    ds_status_e     status;
    ds_instance_t   inst;

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);

    switch (op) {
    case 's':
        T_INT(ds_op_start(txn, t_s("Hub"), t_s(id), t_s("O"), t_s(""), 5,
                          &inst), DS_OK);
        break;
    case 't':
        T_INT(ds_op_terminate(txn, t_s("Hub"), t_s(id), t_s(""), 6), DS_OK);
        break;
    default:
        T_INT(ds_op_purge(txn, t_s("Hub"), t_s(id), &status), DS_OK);
    }

    T_INT(ds_txn_commit(txn), DS_OK);
}


/* the Pending instances and orchestrations ready of every hub */

static int
t_total_cb(void *data, ds_str_t hub, const ds_count_t *c)
{
    uint64_t  *n;

    (void) hub;

    n = data;

    if (c->what == DS_COUNT_STATUS && c->status == DS_PENDING) {
        n[0] += c->count;

    } else if (c->what == DS_COUNT_READY
               && c->kind == DS_WORK_ORCHESTRATION)
    {
        n[1] += c->count;
    }

    return 0;
}


static void
t_total(ds_txn_t *txn, uint64_t pending, uint64_t ready)
{
    uint64_t  n[2];

    n[0] = 0;
    n[1] = 0;

    T_INT(ds_counts_each(txn, t_total_cb, n), DS_OK);
    T_INT(n[0], pending);
    T_INT(n[1], ready);
}


static void
t_total_start(ds_txn_t *txn, const char *hub, const char *id)
{
    ds_instance_t  inst;

    T_INT(ds_op_start(txn, t_s(hub), t_s(id), t_s("O"), t_s(""), 5, &inst),
          DS_OK);
}


/*
 * A write txn keeps the changes of counts until it commits: more counts
 * than it keeps at once, a read of them in the txn itself, a child txn
 * aborted and one committed.
 */

static void
t_counts_txn(void)
{
    int         i;
    char       *dir, hub[16];
    ds_env_t   *env;
    ds_txn_t   *txn, *child;

    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);

    /* two counts a hub, Pending and ready: more than DS_TXN_COUNTS */
    for (i = 0; i < DS_TXN_COUNTS + 2; i++) {
        snprintf(hub, sizeof(hub), "H%d", i);
        t_total_start(txn, hub, "a");
        t_total_start(txn, "H0", hub);
    }

    t_total(txn, 2 * (DS_TXN_COUNTS + 2), 2 * (DS_TXN_COUNTS + 2));

    t_total_start(txn, "H1", "b");

    T_INT(ds_txn_begin(env, txn, 1, &child), DS_OK);
    t_total_start(child, "H1", "c");
    t_total(child, 2 * (DS_TXN_COUNTS + 2) + 2, 2 * (DS_TXN_COUNTS + 2) + 2);
    ds_txn_abort(child);

    T_INT(ds_txn_begin(env, txn, 1, &child), DS_OK);
    t_total_start(child, "H2", "c");
    T_INT(ds_txn_commit(child), DS_OK);

    T_INT(ds_op_terminate(txn, t_s("H1"), t_s("b"), t_s(""), 6), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    t_total(txn, 2 * (DS_TXN_COUNTS + 2) + 1, 2 * (DS_TXN_COUNTS + 2) + 1);
    ds_txn_abort(txn);

    for (i = 0; i < DS_TXN_COUNTS + 2; i++) {
        snprintf(hub, sizeof(hub), "H%d", i);
        T(t_consistent(env, t_s(hub), NULL));
    }

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * A count changed through a read txn is refused, and the count stays as
 * it was: a read txn has no cursor to write with.
 */

static void
t_counts_read_txn(void)
{
    char           *dir;
    MDB_val         key;
    ds_env_t       *env;
    ds_txn_t       *txn;
    t_counts_t      t;
    ds_instance_t   inst;
    unsigned char   kb[] = { 'H', 'u', 'b', 0, DS_PENDING, 'x' };

    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_op_start(txn, t_s("Hub"), t_s("a"), t_s("Hello"), t_s("1"), 1,
                      &inst), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    key.mv_data = kb;
    key.mv_size = sizeof(kb);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(dsi_count_entry(txn, DS_DB_BY_STATUS, &key, -1), DS_INVALID);
    T_INT(dsi_count_entry(txn, DS_DB_BY_STATUS, &key, 1), DS_INVALID);
    T(strstr(ds_txn_error(txn), "read txn") != NULL);
    ds_txn_abort(txn);

    t_counts_read(env, &t);
    T_INT(t.status[DS_PENDING], 1);

    ds_env_close(env);
    t_rmdir(dir);
}


void
t_counts(void)
{
    char          *dir;
    ds_env_t      *env;
    ds_txn_t      *txn;
    t_counts_t     t;
    int64_t        at;

    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    t_counts_read(env, &t);
    T_INT(t.records, 0);

    t_counts_op(env, 's', "a");
    t_counts_op(env, 's', "b");
    t_counts_read(env, &t);
    T_INT(t.status[DS_PENDING], 2);
    T_INT(t.ready[DS_WORK_ORCHESTRATION], 2);
    T_INT(t.records, 2);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_ready_oldest(txn, t_s("Hub"), DS_WORK_ORCHESTRATION, &at),
          DS_OK);
    T_INT(at, 5);
    T_INT(ds_ready_oldest(txn, t_s("Hub"), DS_WORK_ACTIVITY, &at),
          DS_NOTFOUND);
    ds_txn_abort(txn);

    t_counts_op(env, 't', "a");
    t_counts_read(env, &t);
    T_INT(t.status[DS_PENDING], 1);
    T_INT(t.status[DS_TERMINATED], 1);
    T(t_consistent(env, t_s("Hub"), NULL));

    t_counts_op(env, 'p', "a");
    t_counts_op(env, 't', "b");
    t_counts_op(env, 'p', "b");
    t_counts_read(env, &t);
    T_INT(t.records, 0);

    /* a store from before the counts: no mark and no counts */

    t_counts_op(env, 's', "c");
    t_counts_op(env, 's', "d");
    t_counts_op(env, 't', "d");

    t_drop_counts(env);

    t_counts_read(env, &t);
    T_INT(t.records, 0);
    T(!t_consistent(env, t_s("Hub"), NULL));

    ds_env_close(env);
    env = t_open(dir, 0, DS_SYNC_NONE);

    t_counts_read(env, &t);
    T_INT(t.status[DS_PENDING], 1);
    T_INT(t.status[DS_TERMINATED], 1);
    T_INT(t.ready[DS_WORK_ORCHESTRATION], 1);
    T_INT(t.records, 3);
    T(t_consistent(env, t_s("Hub"), NULL));

    ds_env_close(env);
    t_rmdir(dir);

    t_counts_txn();
    t_counts_read_txn();
}


/* the counts and their mark dropped: a store made before the counts */

void
t_drop_counts(ds_env_t *env)
{
    int          rc;
    MDB_val      key, val;
    ds_txn_t    *txn;
    MDB_cursor  *cur;

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(mdb_cursor_open(txn->txn, env->main_dbi, &cur), 0);

    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
         rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
    {
        if (memchr(key.mv_data, '\0', key.mv_size) != NULL) {
            T_INT(mdb_cursor_del(cur, 0), 0);
        }
    }

    mdb_cursor_close(cur);
    T_INT(ds_txn_commit(txn), DS_OK);
}
