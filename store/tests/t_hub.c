
/*
 * Copyright (C) ngx_durable authors
 *
 * Whole hubs (ds_hub.c): walking, copying under another name, deleting in
 * batches, listing, and a copy of the environment.
 */


#include <stdlib.h>

#include "t_work.h"
#include "ds_rows.h"


typedef struct {
    char               *data;
    size_t              len;
    size_t              records;
} t_dump_t;


static void t_hub_fill(ds_env_t *env, const char *hub);
static int t_hub_dump(ds_env_t *env, const char *hub, t_dump_t *d);
static int t_hub_copy(ds_env_t *from, const char *hub, ds_env_t *to,
    const char *to_hub);
static void t_hub_walk_copy(void);
static void t_hub_delete(void);
static void t_hub_put(void);
static void t_hub_env_copy(void);
static void t_hub_rows(void);
static void t_hub_check_json(void);


void
t_hub(void)
{
    t_hub_walk_copy();
    t_hub_delete();
    t_hub_put();
    t_hub_env_copy();
    t_hub_rows();
    t_hub_check_json();
}


/* instances with history and inbox messages, an entity with operations */

static void
t_hub_fill(ds_env_t *env, const char *hub)
{
    ds_txn_t       *txn;
    ds_instance_t   inst;

    T(ds_txn_begin(env, NULL, 1, &txn) == DS_OK);
    T(ds_op_start(txn, t_s(hub), t_s("one"), t_s("Hello"), t_s("[1,2]"),
                  1000000, &inst) == DS_OK);
    T(ds_op_start(txn, t_s(hub), t_s("two"), t_s("Hello"), t_s(""),
                  2000000, &inst) == DS_OK);
    T(ds_op_raise_event(txn, t_s(hub), t_s("two"), t_s("Go"), t_s("7"),
                        3000000) == DS_OK);
    T(ds_op_terminate(txn, t_s(hub), t_s("one"), t_s("\"stop\""),
                      4000000) == DS_OK);
    T(ds_entity_signal(txn, t_s(hub), t_s("Counter"), t_s("k"), t_s("add"),
                       t_s("1"), 5000000) == DS_OK);
    T(ds_txn_commit(txn) == DS_OK);
}


static int
t_hub_record(void *data, unsigned table, ds_str_t key, ds_str_t value)
{
    char      *p;
    t_dump_t  *d = data;

    p = realloc(d->data, d->len + 32 + key.len + value.len);
    if (p == NULL) {
        return -1;
    }

    d->data = p;
    d->len += sprintf(p + d->len, "%u %zu %zu ", table, key.len, value.len);
    memcpy(p + d->len, key.data, key.len);
    d->len += key.len;
    memcpy(p + d->len, value.data, value.len);
    d->len += value.len;
    d->records++;

    return 0;
}


static int
t_hub_dump(ds_env_t *env, const char *hub, t_dump_t *d)
{
    int        rc;
    ds_txn_t  *txn;

    memset(d, 0, sizeof(t_dump_t));

    if (ds_txn_begin(env, NULL, 0, &txn) != DS_OK) {
        return DS_ERROR;
    }

    rc = ds_hub_walk(txn, t_s(hub), t_hub_record, d);
    ds_txn_abort(txn);

    return rc;
}


typedef struct {
    ds_txn_t           *txn;
    ds_str_t            hub;
    int                 rc;
} t_copy_t;


static int
t_hub_put_cb(void *data, unsigned table, ds_str_t key, ds_str_t value)
{
    t_copy_t  *c = data;

    c->rc = ds_hub_put(c->txn, c->hub, table, key, value);

    return c->rc != DS_OK;
}


static int
t_hub_copy(ds_env_t *from, const char *hub, ds_env_t *to,
    const char *to_hub)
{
    int        rc;
    ds_txn_t  *rtxn;
    t_copy_t   c;

    if (ds_txn_begin(from, NULL, 0, &rtxn) != DS_OK) {
        return DS_ERROR;
    }

    if (ds_txn_begin(to, NULL, 1, &c.txn) != DS_OK) {
        ds_txn_abort(rtxn);
        return DS_ERROR;
    }

    c.hub = t_s(to_hub);
    c.rc = DS_OK;

    rc = ds_hub_walk(rtxn, t_s(hub), t_hub_put_cb, &c);
    ds_txn_abort(rtxn);

    if (rc == DS_OK) {
        rc = ds_check_txn(c.txn, t_s(to_hub), NULL, NULL, NULL);
    }

    if (rc != DS_OK) {
        ds_txn_abort(c.txn);
        return c.rc != DS_OK ? c.rc : rc;
    }

    return ds_txn_commit(c.txn);
}


static int
t_hub_name(void *data, ds_str_t hub)
{
    char  *names = data;

    strncat(names, hub.data, hub.len);
    strcat(names, ",");

    return 0;
}


static void
t_hub_walk_copy(void)
{
    char             *dir1, *dir2, names[128];
    ds_env_t         *env1, *env2;
    ds_txn_t         *txn;
    t_dump_t          a, b;
    ds_check_stats_t  st;

    dir1 = t_tmpdir();
    dir2 = t_tmpdir();
    env1 = t_open(dir1, 1 << 22, DS_SYNC_NONE);
    env2 = t_open(dir2, 1 << 22, DS_SYNC_NONE);

    t_hub_fill(env1, "Hub");
    t_hub_fill(env1, "Hub2");

    T(t_hub_dump(env1, "Hub", &a) == DS_OK);
    T(a.records > 10);

    /* a hub that is a prefix of another holds none of its records */
    T(t_hub_dump(env1, "Hu", &b) == DS_OK);
    T_INT(b.records, 0);
    free(b.data);

    /* copied under another name: the same records, consistent */
    T(t_hub_copy(env1, "Hub", env2, "Moved") == DS_OK);
    T(t_hub_dump(env2, "Moved", &b) == DS_OK);
    T_INT(b.records, a.records);
    T(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    T(t_consistent(env2, t_s("Moved"), &st));
    T_INT(st.instances, 2);
    T_INT(st.entities, 1);
    free(b.data);

    /* into a hub that has the records already: refused */
    T_INT(t_hub_copy(env1, "Hub", env2, "Moved"), DS_CONFLICT);

    names[0] = '\0';
    T(ds_txn_begin(env1, NULL, 0, &txn) == DS_OK);
    T(ds_hub_list(txn, t_hub_name, names) == DS_OK);
    ds_txn_abort(txn);
    T_STR(t_s(names), "Hub,Hub2,");

    free(a.data);
    ds_env_close(env1);
    ds_env_close(env2);
    t_rmdir(dir1);
    t_rmdir(dir2);
}


static void
t_hub_delete(void)
{
    int               more, rounds;
    char             *dir, names[128];
    size_t            deleted, total;
    ds_env_t         *env;
    ds_txn_t         *txn;
    t_dump_t          a, b;

    dir = t_tmpdir();
    env = t_open(dir, 1 << 22, DS_SYNC_NONE);

    t_hub_fill(env, "Hub");
    t_hub_fill(env, "Hub2");
    T(t_hub_dump(env, "Hub", &a) == DS_OK);
    T(t_hub_dump(env, "Hub2", &b) == DS_OK);

    /* in batches of 3 records, each its own txn */

    total = 0;
    rounds = 0;

    do {
        T(ds_txn_begin(env, NULL, 1, &txn) == DS_OK);
        T(ds_hub_delete(txn, t_s("Hub"), 3, &deleted, &more) == DS_OK);
        T(ds_txn_commit(txn) == DS_OK);
        T(deleted <= 3);
        total += deleted;
        rounds++;
    } while (more && rounds < 1000);

    T_INT(total, a.records);
    T(rounds > 1);
    free(a.data);

    T(t_hub_dump(env, "Hub", &a) == DS_OK);
    T_INT(a.records, 0);
    free(a.data);

    /* the other hub is untouched and consistent */
    T(t_hub_dump(env, "Hub2", &a) == DS_OK);
    T(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    T(t_consistent(env, t_s(""), NULL));
    free(a.data);
    free(b.data);

    names[0] = '\0';
    T(ds_txn_begin(env, NULL, 0, &txn) == DS_OK);
    T(ds_hub_list(txn, t_hub_name, names) == DS_OK);
    ds_txn_abort(txn);
    T_STR(t_s(names), "Hub2,");

    ds_env_close(env);
    t_rmdir(dir);
}


static void
t_hub_put(void)
{
    char      *dir, key[600];
    ds_env_t  *env;
    ds_txn_t  *txn;

    dir = t_tmpdir();
    env = t_open(dir, 1 << 22, DS_SYNC_NONE);

    memset(key, 'k', sizeof(key));

    T(ds_txn_begin(env, NULL, 1, &txn) == DS_OK);
    T_INT(ds_hub_put(txn, t_s("Hub"), DS_TABLE_COUNT, t_s("a"), t_s("")),
          DS_INVALID);
    T_INT(ds_hub_put(txn, t_s("Hub"), 3, t_s(""), t_s("")), DS_INVALID);
    T_INT(ds_hub_put(txn, t_s(""), 3, t_s("a"), t_s("")), DS_INVALID);
    T_INT(ds_hub_put(txn, t_s("Hub"), 3,
                     (ds_str_t) { key, sizeof(key) }, t_s("")),
          DS_INVALID);
    T_INT(ds_hub_put(txn, t_s("Hub"), 9, t_s("@e@k"), t_s("x")), DS_OK);
    T_INT(ds_hub_put(txn, t_s("Hub"), 9, t_s("@e@k"), t_s("y")),
          DS_CONFLICT);
    ds_txn_abort(txn);

    T_STR(t_s(ds_table_name(0)), "instances");
    T_STR(t_s(ds_table_name(DS_TABLE_COUNT - 1)), "entity_ops");
    T(ds_table_name(DS_TABLE_COUNT) == NULL);
    T_INT(ds_table_by_name("history", 7), 3);
    T_INT(ds_table_by_name("histor", 6), -1);

    ds_env_close(env);
    t_rmdir(dir);
}


static void
t_hub_env_copy(void)
{
    char       *dir, *copy, err[256];
    ds_env_t   *env, *env2;
    t_dump_t    a, b;

    dir = t_tmpdir();
    copy = t_tmpdir();
    env = t_open(dir, 1 << 22, DS_SYNC_NONE);

    t_hub_fill(env, "Hub");
    T(ds_env_copy(env, copy, 1, err, sizeof(err)) == DS_OK);

    /* a second copy into the same place fails: data.mdb exists */
    T(ds_env_copy(env, copy, 0, err, sizeof(err)) == DS_ERROR);
    T(strstr(err, copy) != NULL);

    env2 = t_open(copy, 1 << 22, DS_SYNC_NONE);
    T(t_hub_dump(env, "Hub", &a) == DS_OK);
    T(t_hub_dump(env2, "Hub", &b) == DS_OK);
    T(a.records > 0 && a.len == b.len
      && memcmp(a.data, b.data, a.len) == 0);
    T(t_consistent(env2, t_s(""), NULL));
    free(a.data);
    free(b.data);

    ds_env_close(env);
    ds_env_close(env2);
    t_rmdir(dir);
    t_rmdir(copy);
}


/* rows (ds_rows.c): a hub read as rows and written back row by row */

typedef struct {
    ds_txn_t           *txn;
    ds_str_t            hub;
    size_t              rows[DS_ROW_KINDS];
    int                 rc;
} t_rows_t;


static int
t_hub_row(void *data, const ds_row_t *row)
{
    t_rows_t  *r = data;

    r->rows[row->kind]++;
    r->rc = ds_rows_put(r->txn, r->hub, row);

    return r->rc != DS_OK;
}


static void
t_hub_rows(void)
{
    char             *dir1, *dir2;
    ds_env_t         *env1, *env2;
    ds_txn_t         *rtxn;
    t_act_t           act;
    t_ent_t           ent;
    t_orch_t          o;
    t_rows_t          r;
    t_dump_t          a, b;
    ds_row_t          bad;
    ds_action_t       acts[3];

    dir1 = t_tmpdir();
    dir2 = t_tmpdir();
    env1 = t_open(dir1, 1 << 22, DS_SYNC_NONE);
    env2 = t_open(dir2, 1 << 22, DS_SYNC_NONE);

    /* every kind of record: a leased activity and one waiting, a timer,
       an entity with state and a queued operation */

    t_hub_fill(env1, "Hub");
    T(t_claim_o(env1, t_s("Hub"), 6000000, 60000000, 8, 1, &o) == DS_OK);
    T_INT(o.n, 1);
    acts[0] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 0, "Say", "\"hi\"");
    acts[1] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 1, "Say", NULL);
    acts[2] = t_act(DS_ACT_CREATE_TIMER, 2, NULL, NULL);
    acts[2].fire_at = 90000000;
    T(t_complete_o(env1, t_s("Hub"), "two", 1, acts, 3, 7000000, NULL)
      == DS_OK);
    T(t_claim_a(env1, t_s("Hub"), 8000000, 60000000, 1, 2, &act) == DS_OK);
    T_INT(act.n, 1);
    T(t_claim_e(env1, t_s("Hub"), 8000000, 60000000, 1, 3, &ent) == DS_OK);
    T_INT(ent.n, 1);
    T(t_start(env1, t_s("Hub"), "three", "Hello", "3", 9000000) == DS_OK);

    /* and a signal waiting for its time: a timer that carries it */
    T(ds_txn_begin(env1, NULL, 1, &rtxn) == DS_OK);
    T(ds_entity_signal_at(rtxn, t_s("Hub"), t_s("counter"), t_s("later"),
                          t_s("add"), t_s("1"), 95000000, 9000000)
      == DS_OK);
    T(ds_txn_commit(rtxn) == DS_OK);

    T(ds_txn_begin(env1, NULL, 0, &rtxn) == DS_OK);
    T(ds_txn_begin(env2, NULL, 1, &r.txn) == DS_OK);
    memset(r.rows, 0, sizeof(r.rows));
    r.hub = t_s("Rows");
    r.rc = DS_OK;

    T(ds_rows_walk(rtxn, t_s("Hub"), t_hub_row, &r) == DS_OK);
    T_INT(r.rc, DS_OK);
    T_INT(r.rows[DS_ROW_INSTANCE], 3);
    T_INT(r.rows[DS_ROW_ACTIVITY], 2);
    T_INT(r.rows[DS_ROW_TIMER], 2);
    T_INT(r.rows[DS_ROW_ENTITY], 1);
    T(r.rows[DS_ROW_HISTORY] > 4 && r.rows[DS_ROW_INBOX] > 0);
    ds_txn_abort(rtxn);

    /* the index entries follow from the rows: consistent, and the same
       records as the hub read */

    T(ds_check_txn(r.txn, t_s("Rows"), NULL, NULL, NULL) == DS_OK);

    /* rows no record can hold */

    memset(&bad, 0, sizeof(ds_row_t));
    bad.kind = DS_ROW_HISTORY;
    bad.id = t_s("x");
    T_INT(ds_rows_put(r.txn, t_s("Rows"), &bad), DS_INVALID);
    bad.kind = DS_ROW_ACTIVITY;
    bad.act.done = 1;
    bad.act.ready_at = 5;
    T_INT(ds_rows_put(r.txn, t_s("Rows"), &bad), DS_INVALID);
    bad.kind = DS_ROW_ENTITY;
    bad.id = t_s("no-at-sign");
    T_INT(ds_rows_put(r.txn, t_s("Rows"), &bad), DS_INVALID);
    bad.kind = DS_ROW_TIMER;
    bad.text = t_s("{\"operation\":\"add\"}");
    T_INT(ds_rows_put(r.txn, t_s("Rows"), &bad), DS_INVALID);

    T(ds_txn_commit(r.txn) == DS_OK);

    T(t_hub_dump(env1, "Hub", &a) == DS_OK);
    T(t_hub_dump(env2, "Rows", &b) == DS_OK);
    T_INT(b.records, a.records);
    T(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);

    free(a.data);
    free(b.data);
    ds_env_close(env1);
    ds_env_close(env2);
    t_rmdir(dir1);
    t_rmdir(dir2);
}


/*
 * ds_check_txn() reports a JSON text the API would serve as stored that
 * is not JSON: a hub copied with one kind of record edited, the rest kept.
 */

typedef struct {
    ds_txn_t           *txn;
    unsigned            tables;     /* bit per table to edit */
    const char         *from;       /* its first occurrence, or NULL: */
    const char         *to;         /* the first byte becomes 'x' */
    const char         *want;       /* the problem expected */
    size_t              problems;
    size_t              wanted;
} t_json_edit_t;


static int
t_hub_edit_cb(void *data, unsigned table, ds_str_t key, ds_str_t value)
{
    int             rc;
    char           *buf, *p;
    size_t          n;
    t_json_edit_t  *e = data;

    buf = malloc(value.len + 1);
    if (buf == NULL) {
        return -1;
    }

    memcpy(buf, value.data, value.len);

    if (e->tables & (1u << table) && value.len) {
        if (e->from == NULL) {
            buf[0] = 'x';

        } else {
            n = strlen(e->from);

            for (p = buf; p + n <= buf + value.len; p++) {
                if (memcmp(p, e->from, n) == 0) {
                    memcpy(p, e->to, n);
                    break;
                }
            }
        }
    }

    value.data = buf;
    rc = ds_hub_put(e->txn, t_s("B"), table, key, value);
    free(buf);

    return rc != DS_OK;
}


static void
t_hub_edit_problem(void *data, const char *problem, ds_str_t hub,
    ds_str_t id)
{
    t_json_edit_t  *e = data;

    (void) hub;
    (void) id;

    e->problems++;
    e->wanted += (e->want != NULL && strcmp(problem, e->want) == 0);
}


static void
t_hub_check_json(void)
{
    char            *dir1, *dir2;
    size_t           i;
    ds_env_t        *from, *to;
    ds_txn_t        *rtxn;
    t_ent_t          ent;
    t_orch_t         o;
    ds_action_t      acts[1];
    t_json_edit_t    e;

    static const struct {
        unsigned     tables;
        const char  *from, *to, *want;
    } cases[] = {
        { 0, NULL, NULL, NULL },
        { 1u << DS_DB_HISTORY, NULL, NULL, "history event is not JSON" },
        { 1u << DS_DB_INBOX, NULL, NULL, "inbox message is not JSON" },
        { 1u << DS_DB_ENTITY_OPS, NULL, NULL, "entity operation is not JSON" },
        /* the record and its list copy alike: consistent but for it */
        { 1u << DS_DB_INSTANCES | 1u << DS_DB_BY_CREATED, "[1,2]", "[1,,]",
          "instance input is not JSON" },
        { 1u << DS_DB_ACTIVITIES, "\"hi\"", "'hi'",
          "activity input is not JSON" },
        { 1u << DS_DB_TIMERS, "{\"", "x\"",
          "scheduled entity operation is not JSON" },
        { 1u << DS_DB_ENTITIES, "{\"n\"", "x\"n\"",
          "entity state is not JSON" },
    };

    dir1 = t_tmpdir();
    dir2 = t_tmpdir();
    from = t_open(dir1, 1 << 22, DS_SYNC_NONE);
    to = t_open(dir2, 1 << 22, DS_SYNC_NONE);

    /* and an activity with an input, a signal waiting for its time, an
       entity with state; a message and an operation queued after the
       claims took the first ones */
    t_hub_fill(from, "H");
    T(t_claim_o(from, t_s("H"), 6000000, 60000000, 8, 1, &o) == DS_OK);
    T_INT(o.n, 1);
    acts[0] = t_act(DS_ACT_SCHEDULE_ACTIVITY, 0, "Say", "\"hi\"");
    T(t_complete_o(from, t_s("H"), "two", 1, acts, 1, 7000000, NULL)
      == DS_OK);
    T(t_claim_e(from, t_s("H"), 8000000, 60000000, 1, 3, &ent) == DS_OK);
    T_INT(ent.n, 1);
    T(ds_txn_begin(from, NULL, 1, &rtxn) == DS_OK);
    T(ds_work_complete_entity(rtxn, t_s("H"), t_s(ent.name[0]),
                              t_s(ent.key[0]), t_tok(3), 0,
                              t_s("{\"n\":1}"), 8500000) == DS_OK);
    T(ds_entity_signal(rtxn, t_s("H"), t_s("Counter"), t_s("k"),
                       t_s("add"), t_s("2"), 8600000) == DS_OK);
    T(ds_entity_signal_at(rtxn, t_s("H"), t_s("counter"), t_s("later"),
                          t_s("add"), t_s("1"), 95000000, 9000000)
      == DS_OK);
    T(ds_op_raise_event(rtxn, t_s("H"), t_s("two"), t_s("Go"), t_s("8"),
                        9000000) == DS_OK);
    T(ds_txn_commit(rtxn) == DS_OK);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&e, 0, sizeof(e));
        e.tables = cases[i].tables;
        e.from = cases[i].from;
        e.to = cases[i].to;
        e.want = cases[i].want;

        T(ds_txn_begin(from, NULL, 0, &rtxn) == DS_OK);
        T(ds_txn_begin(to, NULL, 1, &e.txn) == DS_OK);
        T(ds_hub_walk(rtxn, t_s("H"), t_hub_edit_cb, &e) == DS_OK);
        ds_txn_abort(rtxn);

        if (e.want == NULL) {
            T(ds_check_txn(e.txn, t_s("B"), t_hub_edit_problem, &e, NULL)
              == DS_OK);
            T_INT(e.problems, 0);

        } else {
            T(ds_check_txn(e.txn, t_s("B"), t_hub_edit_problem, &e, NULL)
              == DS_ERROR);
            T(e.wanted >= 1);
            T_INT(e.problems, e.wanted);
        }

        ds_txn_abort(e.txn);
    }

    ds_env_close(from);
    ds_env_close(to);
    t_rmdir(dir1);
    t_rmdir(dir2);
}
