/*
 * Copyright (C) ngx_durable authors
 *
 * Instance records: put, get, replace, delete and index maintenance.
 */


#include <stddef.h>
#include <stdlib.h>

#include "t.h"
#include "ds_key.h"


static void t_instance_basic(void);
static void t_instance_keys(void);
static void t_instance_check(void);
static void t_instance_list_copy(void);
static long t_copy_of(ds_env_t *env, ds_str_t hub, const char *id,
    int64_t created, unsigned char *copy);
static int t_list_copy_cb(void *data, ds_str_t id, const ds_instance_t *inst);
static int t_count_status(ds_env_t *env, ds_str_t hub, unsigned mask);
static void t_instance_relist(void);
static int t_relist_cb(void *data, ds_str_t id, const ds_instance_t *inst);
static void t_instance_parent_record(void);
static void t_instance_parent_reused(void);
static int t_parent_count_cb(void *data, uint64_t seq, ds_str_t event);
static int t_parent_inbox(ds_env_t *env, ds_str_t hub, const char *id);


void
t_instance(void)
{
    t_instance_basic();
    t_instance_keys();
    t_instance_check();
    t_instance_list_copy();
    t_instance_relist();
    t_instance_parent_record();
    t_instance_parent_reused();
}


/*
 * The fields a list shows, each with how a test changes it alone: a
 * status flips between Running and Pending, a number grows by one, a
 * string becomes value (none of them has it before)
 */

typedef enum {
    T_FIELD_STATUS = 0,
    T_FIELD_I64,
    T_FIELD_U64,
    T_FIELD_STR
} t_field_kind_e;

typedef struct {
    const char         *name;
    size_t              offset;         /* in ds_instance_t */
    t_field_kind_e      kind;
    const char         *value;          /* T_FIELD_STR */
} t_relist_field_t;

#define T_FIELD(f, kind, value)                                              \
    { #f, offsetof(ds_instance_t, f), kind, value }

static const t_relist_field_t  t_relist_fields[] = {
    T_FIELD(status, T_FIELD_STATUS, NULL),
    T_FIELD(suspended_from, T_FIELD_STATUS, NULL),
    T_FIELD(created, T_FIELD_I64, NULL),
    T_FIELD(updated, T_FIELD_I64, NULL),
    T_FIELD(execution, T_FIELD_U64, NULL),
    T_FIELD(parent_task, T_FIELD_I64, NULL),
    T_FIELD(parent_execution, T_FIELD_U64, NULL),
    T_FIELD(parent_created, T_FIELD_I64, NULL),
    T_FIELD(scheduled_start, T_FIELD_I64, NULL),
    T_FIELD(name, T_FIELD_STR, "Renamed"),
    T_FIELD(input, T_FIELD_STR, "\"in\""),
    T_FIELD(output, T_FIELD_STR, "\"out\""),
    T_FIELD(custom_status, T_FIELD_STR, "\"custom\""),
    T_FIELD(parent_id, T_FIELD_STR, "parent"),
    T_FIELD(version, T_FIELD_STR, "2.0"),
    T_FIELD(tags, T_FIELD_STR, "{\"k\":\"v\"}"),
    T_FIELD(failure, T_FIELD_STR, "{\"errorType\":\"E\"}")
};

#define T_RELIST_FIELDS                                                      \
    (sizeof(t_relist_fields) / sizeof(t_relist_fields[0]))


static void t_relist_change(ds_instance_t *inst,
    const t_relist_field_t *f);


typedef struct {
    int                 items;
    size_t              len;
    unsigned char       copy[DS_LIST_COPY_MAX];     /* of the last item */
} t_relist_t;


/*
 * Each field the list copy keeps, changed alone, rewrites the copy: the
 * list query then shows the record as it is now.
 */

static void
t_instance_relist(void)
{
    char            *dir, token[DS_TOKEN_MAX];
    size_t           field, token_len, len;
    ds_env_t        *env;
    ds_txn_t        *txn;
    ds_str_t         hub;
    ds_query_t       q;
    t_relist_t       listed;
    ds_instance_t    inst;
    unsigned char    want[DS_LIST_COPY_MAX];

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_put(env, hub, "a", DS_RUNNING, 10), DS_OK);

    memset(&q, 0, sizeof(q));
    q.top = 10;

    for (field = 0; field < T_RELIST_FIELDS; field++) {
        T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
        T_INT(ds_instance_get(txn, hub, t_s("a"), &inst), DS_OK);
        t_relist_change(&inst, &t_relist_fields[field]);
        T_INT(ds_instance_put(txn, hub, t_s("a"), &inst), DS_OK);
        T_INT(ds_txn_commit(txn), DS_OK);

        T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
        T_INT(ds_instance_get(txn, hub, t_s("a"), &inst), DS_OK);
        len = dsi_list_copy(&inst, want);

        listed.items = 0;
        T_INT(ds_instance_list(txn, hub, &q, t_relist_cb, &listed, token,
                               &token_len), DS_OK);
        ds_txn_abort(txn);

        T(len > 0);
        T_INT(listed.items, 1);

        if (listed.len != len || memcmp(listed.copy, want, len) != 0) {
            fprintf(stderr, "the list copy missed the field %s\n",
                    t_relist_fields[field].name);
            T(0);
        }
    }

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


static void
t_relist_change(ds_instance_t *inst, const t_relist_field_t *f)
{
    unsigned char  *p;
    ds_status_e    *status;

    p = (unsigned char *) inst + f->offset;

    switch (f->kind) {

    case T_FIELD_STATUS:
        status = (ds_status_e *) p;
        *status = (*status == DS_RUNNING) ? DS_PENDING : DS_RUNNING;
        break;

    case T_FIELD_I64:
        (*(int64_t *) p)++;
        break;

    case T_FIELD_U64:
        (*(uint64_t *) p)++;
        break;

    default:
        *(ds_str_t *) p = t_s(f->value);
        break;
    }
}


static int
t_relist_cb(void *data, ds_str_t id, const ds_instance_t *inst)
{
    t_relist_t  *listed;

    (void) id;

    listed = data;
    listed->items++;
    listed->len = dsi_list_copy(inst, listed->copy);

    return 0;
}


static void
t_instance_basic(void)
{
    char             *dir, *big;
    ds_env_t         *env;
    ds_txn_t         *txn;
    ds_str_t          hub, id;
    ds_instance_t     inst, got;
    ds_check_stats_t  st;

    hub = t_s("Hub");
    id = t_s("one");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    memset(&inst, 0, sizeof(inst));
    inst.status = DS_RUNNING;
    inst.suspended_from = DS_PENDING;
    inst.created = -5;
    inst.updated = 1234567890123456LL;
    inst.execution = 7;
    inst.name = t_s("Name");
    inst.input = t_s("{\"a\":1}");
    inst.output = t_s("\"out\"");
    inst.custom_status = t_s("[true]");

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_instance_get(txn, hub, id, &got), DS_NOTFOUND);
    T_INT(ds_instance_delete(txn, hub, id), DS_NOTFOUND);
    T_INT(ds_instance_put(txn, hub, id, &inst), DS_OK);
    T_INT(ds_instance_get(txn, hub, id, &got), DS_OK);
    T_INT(got.status, DS_RUNNING);
    T_INT(got.suspended_from, DS_PENDING);
    T_INT(got.created, -5);
    T_INT(got.updated, 1234567890123456LL);
    T_INT(got.execution, 7);
    T_STR(got.name, "Name");
    T_STR(got.input, "{\"a\":1}");
    T_STR(got.output, "\"out\"");
    T_STR(got.custom_status, "[true]");
    T_INT(ds_txn_commit(txn), DS_OK);

    T(t_consistent(env, hub, &st));
    T_INT(st.by_status, 1);
    T_INT(t_count_status(env, hub, DS_STATUS_MASK(DS_RUNNING)), 1);

    /* replace from the record itself: fields point into the map */
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_instance_get(txn, hub, id, &got), DS_OK);
    got.status = DS_COMPLETED;
    got.output = t_s("42");
    T_INT(ds_instance_put(txn, hub, id, &got), DS_OK);
    T_INT(ds_instance_get(txn, hub, id, &got), DS_OK);
    T_INT(got.status, DS_COMPLETED);
    T_STR(got.name, "Name");
    T_STR(got.input, "{\"a\":1}");
    T_STR(got.output, "42");
    T_STR(got.custom_status, "[true]");
    T_INT(ds_txn_commit(txn), DS_OK);

    T(t_consistent(env, hub, &st));
    T_INT(st.instances, 1);
    T_INT(st.by_status, 1);
    T_INT(t_count_status(env, hub, DS_STATUS_MASK(DS_RUNNING)), 0);
    T_INT(t_count_status(env, hub, DS_STATUS_MASK(DS_COMPLETED)), 1);

    /* a new created time moves both index entries */
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_instance_get(txn, hub, id, &got), DS_OK);
    got.created = 99;
    T_INT(ds_instance_put(txn, hub, id, &got), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    T(t_consistent(env, hub, &st));
    T_INT(st.by_created, 1);
    T_INT(st.by_status, 1);

    /* a big record, history and inbox; delete takes everything */
    big = t_alloc(200000);
    memset(big, '7', 200000);
    big[0] = '"';               /* JSON, as the check wants */
    big[199999] = '"';
    inst.input.data = big;
    inst.input.len = 200000;

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_instance_put(txn, hub, t_s("two"), &inst), DS_OK);
    T_INT(ds_history_append(txn, hub, id, t_s("{}"), NULL), DS_OK);
    T_INT(ds_inbox_append(txn, hub, id, t_s("{}"), NULL), DS_OK);
    T_INT(ds_instance_get(txn, hub, t_s("two"), &got), DS_OK);
    T_INT(got.input.len, 200000);
    T(memcmp(got.input.data, big, 200000) == 0);
    T_INT(ds_txn_commit(txn), DS_OK);
    free(big);

    T(t_consistent(env, hub, &st));
    T_INT(st.instances, 2);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_instance_delete(txn, hub, id), DS_OK);
    T_INT(ds_instance_get(txn, hub, id, &got), DS_NOTFOUND);
    T_INT(ds_txn_commit(txn), DS_OK);

    T(t_consistent(env, hub, &st));
    T_INT(st.instances, 1);
    T_INT(st.by_created, 1);
    T_INT(st.by_status, 1);
    T_INT(st.history, 0);
    T_INT(st.inbox, 0);

    /* hubs are separate namespaces */
    T_INT(t_put(env, t_s("Other"), "one", DS_RUNNING, 5), DS_OK);
    T(t_consistent(env, hub, &st));
    T_INT(st.instances, 1);
    T(t_consistent(env, t_s(""), &st));
    T_INT(st.instances, 2);
    T_INT(st.by_status, 2);

    ds_env_close(env);
    t_rmdir(dir);
}


static void
t_instance_keys(void)
{
    char           *dir, hubmax[DS_HUB_MAX + 2], idmax[DS_ID_MAX + 2];
    ds_env_t       *env;
    ds_txn_t       *txn;
    ds_str_t        hub, id;
    ds_instance_t   inst;

    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    memset(hubmax, 'h', sizeof(hubmax));
    memset(idmax, 'i', sizeof(idmax));

    memset(&inst, 0, sizeof(inst));
    inst.name = t_s("N");

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);

    hub.data = hubmax;
    hub.len = DS_HUB_MAX;
    id.data = idmax;
    id.len = DS_ID_MAX;

    /* longest keys fit, one byte more does not */
    T_INT(ds_instance_put(txn, hub, id, &inst), DS_OK);
    T_INT(ds_history_append(txn, hub, id, t_s("{}"), NULL), DS_OK);
    T_INT(ds_instance_get(txn, hub, id, &inst), DS_OK);

    hub.len = DS_HUB_MAX + 1;
    T_INT(ds_instance_put(txn, hub, id, &inst), DS_INVALID);
    T_INT(ds_instance_get(txn, hub, id, &inst), DS_INVALID);
    hub.len = DS_HUB_MAX;
    id.len = DS_ID_MAX + 1;
    T_INT(ds_instance_put(txn, hub, id, &inst), DS_INVALID);
    T_INT(ds_history_append(txn, hub, id, t_s("{}"), NULL), DS_INVALID);
    id.len = 0;
    T_INT(ds_instance_get(txn, hub, id, &inst), DS_INVALID);
    T_INT(ds_instance_get(txn, t_s(""), t_s("x"), &inst), DS_INVALID);

    /* a 0 byte would make key prefixes ambiguous */
    id.data = "a\0b";
    id.len = 3;
    T_INT(ds_instance_put(txn, t_s("H"), id, &inst), DS_INVALID);

    inst.status = (ds_status_e) 8;
    T_INT(ds_instance_put(txn, t_s("H"), t_s("x"), &inst), DS_INVALID);

    T_INT(ds_txn_commit(txn), DS_OK);

    T(t_consistent(env, t_s(""), NULL));

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
t_count_status(ds_env_t *env, ds_str_t hub, unsigned mask)
{
    int         n;
    char        token[DS_TOKEN_MAX];
    size_t      token_len;
    ds_txn_t   *txn;
    ds_query_t  q;

    memset(&q, 0, sizeof(q));
    q.top = 1000;
    q.status_mask = mask;
    n = 0;

    if (ds_txn_begin(env, NULL, 0, &txn) != DS_OK) {
        return -1;
    }

    if (ds_instance_list(txn, hub, &q, t_count_cb, &n, token, &token_len)
        != DS_OK)
    {
        n = -1;
    }

    ds_txn_abort(txn);

    return n;
}


static void
t_problem_cb(void *data, const char *problem, ds_str_t hub, ds_str_t id)
{
    (void) hub;
    (void) id;

    snprintf(data, 64, "%s", problem);
}


/* ds_check() finds what is broken; lists and purges step over it */

static void
t_instance_check(void)
{
    int               more;
    char             *dir, problem[64];
    size_t            deleted;
    MDB_val           key, val;
    ds_env_t         *env;
    ds_txn_t         *txn;
    ds_str_t          hub;
    ds_query_t        q;
    unsigned char     kb[DS_KEY_BUF];
    ds_check_stats_t  st;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_put(env, hub, "a", DS_COMPLETED, 10), DS_OK);
    T_INT(t_put(env, hub, "b", DS_COMPLETED, 20), DS_OK);
    T(t_consistent(env, hub, NULL));

    /* history without a record */
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_history_append(txn, hub, t_s("ghost"), t_s("{}"), NULL), DS_OK);
    problem[0] = '\0';
    T_INT(ds_check_txn(txn, hub, t_problem_cb, problem, &st), DS_ERROR);
    T_INT(st.problems, 1);
    T(strcmp(problem, "entry without instance record") == 0);
    ds_txn_abort(txn);

    /* a record without its by_created entry */
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    key.mv_data = kb;
    key.mv_size = dsi_key_created(kb, hub, 10, t_s("a"));
    T_INT(mdb_del(txn->txn, ds_dbi(txn, DS_DB_BY_CREATED), &key, NULL), 0);
    T_INT(ds_check_txn(txn, hub, t_problem_cb, problem, &st), DS_ERROR);
    T_INT(st.problems, 1);
    T(strcmp(problem, "record without by_created entry") == 0);
    ds_txn_abort(txn);

    /* stale index entries: listed past, purged away */
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    key.mv_size = dsi_key_status(kb, hub, DS_FAILED, 15, t_s("gone"));
    val.mv_data = kb;
    val.mv_size = 0;
    T_INT(mdb_put(txn->txn, ds_dbi(txn, DS_DB_BY_STATUS), &key, &val, 0), 0);
    key.mv_size = dsi_key_created(kb, hub, 15, t_s("gone"));
    T_INT(mdb_put(txn->txn, ds_dbi(txn, DS_DB_BY_CREATED), &key, &val, 0), 0);
    T_INT(ds_txn_commit(txn), DS_OK);

    /* two entries without a record, and a Failed count that is missing */
    T_INT(ds_check(env, hub, NULL, NULL, &st), DS_ERROR);
    T_INT(st.problems, 3);

    memset(&q, 0, sizeof(q));
    q.top = 10;
    T_INT(t_count_status(env, hub, 0), 2);
    T_INT(t_count_status(env, hub, DS_STATUS_MASK(DS_FAILED)), 0);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    q.status_mask = DS_STATUS_MASK(DS_FAILED);
    T_INT(ds_instance_purge(txn, hub, &q, 10, &deleted, &more), DS_OK);
    T_INT(deleted, 0);
    T_INT(ds_txn_commit(txn), DS_OK);

    T_INT(ds_check(env, hub, NULL, NULL, &st), DS_ERROR);
    T_INT(st.problems, 1);
    T_INT(st.by_status, 2);


    ds_env_close(env);
    t_rmdir(dir);
}


/* the by_created value of id: *copy and its length, -1 without entry */

static long
t_copy_of(ds_env_t *env, ds_str_t hub, const char *id, int64_t created,
    unsigned char *copy)
{
    long            len;
    MDB_val         key, val;
    ds_txn_t       *txn;
    unsigned char   kb[DS_KEY_BUF];

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    key.mv_data = kb;
    key.mv_size = dsi_key_created(kb, hub, created, t_s(id));

    len = -1;

    if (mdb_get(txn->txn, ds_dbi(txn, DS_DB_BY_CREATED), &key, &val) == 0) {
        len = (long) val.mv_size;
        memcpy(copy, val.mv_data, val.mv_size);
    }

    ds_txn_abort(txn);

    return len;
}


static int
t_list_copy_cb(void *data, ds_str_t id, const ds_instance_t *inst)
{
    char  *out = data;

    /* "id:status:name:output;" per item */
    snprintf(out + strlen(out), 256 - strlen(out), "%.*s:%d:%.*s:%.*s;",
             (int) id.len, id.data, (int) inst->status,
             (int) inst->name.len, inst->name.data,
             (int) inst->output.len, inst->output.data);

    return 0;
}


/*
 * The by_created entry carries the record's list copy, kept in step by
 * every write but a worker field's; a list reads its items from it, or
 * from the record where the value is empty (a store of before).
 */

static void
t_instance_list_copy(void)
{
    char            *dir, listed[256], problem[64];
    long             len;
    size_t           token_len;
    MDB_val          key, val;
    ds_env_t        *env;
    ds_txn_t        *txn;
    ds_str_t         hub;
    ds_query_t       q;
    ds_instance_t    inst;
    unsigned char    kb[DS_KEY_BUF], copy[DS_LIST_COPY_MAX];
    unsigned char    before[DS_LIST_COPY_MAX], want[DS_LIST_COPY_MAX];
    ds_check_stats_t  st;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_put(env, hub, "a", DS_RUNNING, 10), DS_OK);
    T_INT(t_put(env, hub, "b", DS_RUNNING, 20), DS_OK);

    /* the copy is the record with its worker fields cleared */
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_instance_get(txn, hub, t_s("a"), &inst), DS_OK);
    T_INT((long) dsi_list_copy(&inst, want), (long) dsi_record_size(&inst));
    ds_txn_abort(txn);

    len = t_copy_of(env, hub, "a", 10, before);
    T_INT(len, (long) dsi_record_size(&inst));
    T(len > 0 && memcmp(before, want, len) == 0);

    /* a lease and a ready time leave the copy as it was */
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_instance_get(txn, hub, t_s("a"), &inst), DS_OK);
    inst.ready_at = 77;
    inst.lease_expires = 88;
    memset(inst.lease, 0xab, DS_LEASE_LEN);
    T_INT(ds_instance_put(txn, hub, t_s("a"), &inst), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    T_INT(t_copy_of(env, hub, "a", 10, copy), len);
    T(memcmp(copy, before, len) == 0);

    /* what a list shows is rewritten, and listed from the copy */
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_instance_get(txn, hub, t_s("a"), &inst), DS_OK);
    inst.status = DS_COMPLETED;
    inst.output = t_s("\"done\"");
    T_INT(ds_instance_put(txn, hub, t_s("a"), &inst), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    T(t_copy_of(env, hub, "a", 10, copy) > len);
    T(t_consistent(env, hub, NULL));

    memset(&q, 0, sizeof(q));
    q.top = 10;
    listed[0] = '\0';
    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_instance_list(txn, hub, &q, t_list_copy_cb, listed, (char *) kb,
                           &token_len), DS_OK);
    ds_txn_abort(txn);
    T(strcmp(listed, "a:1:Orch:\"done\";b:0:Orch:;") == 0);

    /* an empty value, as a store of before has: the record is read */
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    key.mv_data = kb;
    key.mv_size = dsi_key_created(kb, hub, 10, t_s("a"));
    val.mv_data = kb;
    val.mv_size = 0;
    T_INT(mdb_put(txn->txn, ds_dbi(txn, DS_DB_BY_CREATED), &key, &val, 0), 0);
    T_INT(ds_txn_commit(txn), DS_OK);

    T(t_consistent(env, hub, NULL));
    listed[0] = '\0';
    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_instance_list(txn, hub, &q, t_list_copy_cb, listed, (char *) kb,
                           &token_len), DS_OK);
    ds_txn_abort(txn);
    T(strcmp(listed, "a:1:Orch:\"done\";b:0:Orch:;") == 0);

    /* a copy that is not the record's is a problem ds_check() names */
    val.mv_data = before;
    val.mv_size = (size_t) t_copy_of(env, hub, "b", 20, before);
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    key.mv_size = dsi_key_created(kb, hub, 10, t_s("a"));
    T_INT(mdb_put(txn->txn, ds_dbi(txn, DS_DB_BY_CREATED), &key, &val, 0), 0);
    problem[0] = '\0';
    T_INT(ds_check_txn(txn, hub, t_problem_cb, problem, &st), DS_ERROR);
    T_INT(st.problems, 1);
    T(strcmp(problem, "list copy does not match its record") == 0);
    ds_txn_abort(txn);

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * A child's record keeps its parent's created time (version 7); a record
 * without one is written as before, and one of version 6 reads as 0.
 */

static void
t_instance_parent_record(void)
{
    size_t          size, size6;
    ds_instance_t   inst, got;
    unsigned char   rec[512], old[512];

    memset(&inst, 0, sizeof(inst));
    inst.status = DS_RUNNING;
    inst.created = 5000;
    inst.updated = 5001;
    inst.execution = 1;
    inst.name = t_s("Child");
    inst.input = t_s("\"in\"");
    inst.parent_id = t_s("P");
    inst.parent_task = 3;
    inst.parent_execution = 2;
    inst.parent_created = -1234567;
    inst.failure = t_s("{\"errorType\":\"E\"}");

    size = dsi_record_size(&inst);
    T(size <= sizeof(rec));
    dsi_record_encode(&inst, rec);
    T_INT(rec[0], 7);

    memset(&got, 0, sizeof(got));
    T_INT(dsi_record_decode(rec, size, &got), DS_OK);
    T_INT(got.parent_created, -1234567);
    T_INT(got.parent_task, 3);
    T_INT(got.parent_execution, 2);
    T_INT(got.created, 5000);
    T_STR(got.parent_id, "P");
    T_STR(got.name, "Child");
    T_STR(got.failure, "{\"errorType\":\"E\"}");

    /* the same record as version 6 wrote it: no parent_created */
    memcpy(old, rec, 132);
    memcpy(old + 132, rec + 140, size - 140);
    old[0] = 6;
    size6 = size - 8;

    memset(&got, 0xff, sizeof(got));
    T_INT(dsi_record_decode(old, size6, &got), DS_OK);
    T_INT(got.parent_created, 0);
    T_INT(got.parent_task, 3);
    T_INT(got.parent_execution, 2);
    T_STR(got.parent_id, "P");
    T_STR(got.name, "Child");
    T_STR(got.failure, "{\"errorType\":\"E\"}");

    /* a version 6 record 8 bytes longer is refused, not misread */
    T_INT(dsi_record_decode(old, size6 + 8, &got), DS_ERROR);

    /* without it, the oldest version that holds the rest, as before */
    inst.parent_created = 0;
    T_INT(dsi_record_size(&inst), size6);
    dsi_record_encode(&inst, rec);
    T_INT(rec[0], 6);
    T(memcmp(rec, old, size6) == 0);

    inst.failure = t_s("");
    dsi_record_encode(&inst, rec);
    T_INT(rec[0], 4);
    T_INT(dsi_record_decode(rec, dsi_record_size(&inst), &got), DS_OK);
    T_INT(got.parent_created, 0);
}


/*
 * A parent purged and started again under its id (execution 1 again)
 * does not get the end of a child its first life started; the same
 * parent does, and a child of an older record (no created time) reaches
 * it as before.
 */

static void
t_instance_parent_reused(void)
{
    char            *dir;
    ds_env_t        *env;
    ds_txn_t        *txn;
    ds_str_t         hub, none;
    dsi_start_t      s;
    ds_status_e      status;
    ds_instance_t    p, c;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);
    none = t_s("");

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_op_start(txn, hub, t_s("P"), t_s("Parent"), none, 1000, &p),
          DS_OK);

    memset(&s, 0, sizeof(s));
    s.name = t_s("Child");
    s.parent_id = t_s("P");
    s.parent_name = t_s("Parent");
    s.parent_task = 0;
    s.parent_execution = p.execution;
    s.parent_created = p.created;
    T_INT(dsi_start(txn, hub, t_s("C"), &s, 1000, &c), DS_OK);
    T_INT(dsi_start(txn, hub, t_s("D"), &s, 1000, &c), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_instance_get(txn, hub, t_s("C"), &c), DS_OK);
    T_INT(c.parent_created, 1000);
    T_INT(c.parent_execution, 1);
    ds_txn_abort(txn);

    /* the parent ends without its children, is purged, starts again */
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_op_terminate(txn, hub, t_s("P"), none, 2000), DS_OK);
    T_INT(ds_op_purge(txn, hub, t_s("P"), &status), DS_OK);
    T_INT(ds_op_start(txn, hub, t_s("P"), t_s("Parent"), none, 3000, &p),
          DS_OK);
    T_INT(p.execution, 1);
    T_INT(ds_txn_commit(txn), DS_OK);
    T_INT(t_parent_inbox(env, hub, "P"), 1);

    /* the old children's ends: terminated, or told as a child ends */
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_op_terminate(txn, hub, t_s("C"), none, 4000), DS_OK);
    T_INT(dsi_notify_parent(txn, hub, t_s("P"), 0, 1, 1000, 0, t_s("1"),
                            none, none, 4000), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);
    T_INT(t_parent_inbox(env, hub, "P"), 1);

    /* the parent of now gets its own child's end, and an older record's */
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(dsi_notify_parent(txn, hub, t_s("P"), 0, 1, 3000, 0, t_s("1"),
                            none, none, 4000), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);
    T_INT(t_parent_inbox(env, hub, "P"), 2);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(dsi_notify_parent(txn, hub, t_s("P"), 0, 1, 0, 0, t_s("1"),
                            none, none, 4000), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);
    T_INT(t_parent_inbox(env, hub, "P"), 3);

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


static int
t_parent_inbox(ds_env_t *env, ds_str_t hub, const char *id)
{
    int        n;
    ds_txn_t  *txn;

    n = 0;
    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_inbox_read(txn, hub, t_s(id), t_parent_count_cb, &n), DS_OK);
    ds_txn_abort(txn);

    return n;
}


static int
t_parent_count_cb(void *data, uint64_t seq, ds_str_t event)
{
    (void) seq;
    (void) event;

    (*(int *) data)++;

    return 0;
}
