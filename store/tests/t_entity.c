/*
 * Copyright (C) ngx_durable authors
 *
 * Durable entities: signals, claims one batch at a time per entity, in
 * order, state, delete, get and list.
 */


#include <stdlib.h>

#include "ds_key.h"
#include "t_work.h"


#define T0          1520690251000000LL
#define T_LEASE     60000000LL


static void t_entity_ops(void);
static void t_entity_list(void);
static void t_entity_from_orch(void);
static void t_entity_full(void);
static void t_entity_scheduled(void);
static void t_entity_batch(void);


void
t_entity(void)
{
    t_entity_ops();
    t_entity_list();
    t_entity_from_orch();
    t_entity_full();
    t_entity_scheduled();
    t_entity_batch();
}


static int
t_signal(ds_env_t *env, const char *name, const char *key, const char *op,
    const char *input, int64_t now)
{
    int        rc;
    ds_txn_t  *txn;

    if (ds_txn_begin(env, NULL, 1, &txn) != DS_OK) {
        return DS_ERROR;
    }

    rc = ds_entity_signal(txn, t_s("Hub"), t_s(name), t_s(key), t_s(op),
                          t_s(input), now);

    if (rc != DS_OK) {
        ds_txn_abort(txn);
        return rc;
    }

    return ds_txn_commit(txn);
}


static int
t_ecomplete(ds_env_t *env, const char *name, const char *key, int tok,
    int del, const char *state, int64_t now)
{
    int        rc;
    ds_txn_t  *txn;

    if (ds_txn_begin(env, NULL, 1, &txn) != DS_OK) {
        return DS_ERROR;
    }

    rc = ds_work_complete_entity(txn, t_s("Hub"), t_s(name), t_s(key),
                                 t_tok(tok), del, t_s(state), now);

    if (rc != DS_OK) {
        ds_txn_abort(txn);
        return rc;
    }

    return ds_txn_commit(txn);
}


static int
t_eget(ds_env_t *env, const char *name, const char *key, char *state,
    size_t size, int64_t *last_op)
{
    int          rc;
    ds_txn_t    *txn;
    ds_entity_t  e;

    if (ds_txn_begin(env, NULL, 0, &txn) != DS_OK) {
        return DS_ERROR;
    }

    rc = ds_entity_get(txn, t_s("Hub"), t_s(name), t_s(key), &e);

    if (rc == DS_OK) {
        snprintf(state, size, "%.*s", (int) e.state.len,
                 e.state.data ? e.state.data : "");

        if (last_op) {
            *last_op = e.last_op;
        }
    }

    ds_txn_abort(txn);

    return rc;
}


static void
t_entity_ops(void)
{
    char              *dir, state[64];
    size_t             i, klen;
    int64_t            last, when;
    ds_env_t          *env;
    ds_txn_t          *txn;
    ds_str_t           hub;
    t_ent_t            e;
    ds_check_stats_t   cs;
    t_named_t          named;
    unsigned char      kb[DS_KEY_BUF];
    static const char *counter[] = { "COUNTER", NULL };

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_signal(env, "", "k", "add", "1", T0), DS_INVALID);
    T_INT(t_signal(env, "a@b", "k", "add", "1", T0), DS_INVALID);

    /* the operation follows the name rules: control, bad UTF-8 */
    T_INT(t_signal(env, "counter", "c1", "a\001b", "1", T0), DS_INVALID);
    T_INT(t_signal(env, "counter", "c1", "\xed\xa0\x80", "1", T0),
          DS_INVALID);
    T_INT(t_signal(env, "counter", "c1", "\xc0\xaf", "1", T0), DS_INVALID);

    T_INT(t_signal(env, "Counter", "c1", "add", "1", T0), DS_OK);
    T_INT(t_signal(env, "counter", "c1", "add", "2", T0 + 1), DS_OK);
    T_INT(t_signal(env, "counter", "C1", "reset", NULL, T0 + 2), DS_OK);

    /* no state yet */
    T_INT(t_eget(env, "counter", "c1", state, sizeof(state), NULL),
          DS_NOTFOUND);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_work_next_visible(txn, hub, DS_WORK_ENTITY, &when), DS_OK);
    T_INT(when, T0);
    ds_txn_abort(txn);

    T_INT(t_claim_e(env, hub, T0 + 3, T_LEASE, 8, 0, &e), DS_OK);
    /* in the order they became ready */
    T_INT(e.n, 2);
    T(strcmp(e.name[1], "counter") == 0);
    T(strcmp(e.key[1], "C1") == 0);
    T_INT(e.nops[1], 1);
    T(strcmp(e.name[0], "counter") == 0);
    T(strcmp(e.key[0], "c1") == 0);
    T(e.state[0][0] == '\0');
    T_INT(e.nops[0], 2);
    T(strcmp(e.ops[0],
             "{\"operation\":\"add\",\"input\":1,"
             "\"timestamp\":\"2018-03-10T13:57:31Z\"}\n"
             "{\"operation\":\"add\",\"input\":2,"
             "\"timestamp\":\"2018-03-10T13:57:31.000001Z\"}") == 0);

    /* one lease at a time per entity */
    T_INT(t_signal(env, "counter", "c1", "add", "4", T0 + 4), DS_OK);
    T_INT(t_claim_e(env, hub, T0 + 5, T_LEASE, 8, 2, &e), DS_OK);
    T_INT(e.n, 0);

    T_INT(t_ecomplete(env, "counter", "c1", 0, 0, "3", T0 + 6), DS_OK);
    /* the retry: the same answer; another body under that lease: refused */
    T_INT(t_ecomplete(env, "counter", "c1", 0, 0, "3", T0 + 7), DS_OK);
    T_INT(t_ecomplete(env, "counter", "c1", 0, 0, "99", T0 + 7),
          DS_MISMATCH);
    T_INT(t_ecomplete(env, "counter", "c1", 0, 1, NULL, T0 + 7),
          DS_MISMATCH);

    /* a version 1 record (no digest) still reads; its retries replay */
    klen = dsi_key_instance(kb, hub, t_s("@counter@c1"));
    T_INT(t_downgrade(env, DS_DB_ENTITIES, kb, klen, 76, 1), DS_OK);
    T(t_consistent(env, hub, NULL));
    T_INT(t_ecomplete(env, "counter", "c1", 0, 0, "99", T0 + 7), DS_OK);
    T_INT(t_ecomplete(env, "counter", "c1", 1, 0, "99", T0 + 7),
          DS_CONFLICT);
    T_INT(t_ecomplete(env, "counter", "nope", 1, 0, "99", T0 + 7),
          DS_NOTFOUND);

    T_INT(t_eget(env, "counter", "c1", state, sizeof(state), &last), DS_OK);
    T(strcmp(state, "3") == 0);
    T_INT(last, T0 + 6);
    T(t_consistent(env, hub, NULL));

    /* the operation that arrived meanwhile comes next, with the state */
    T_INT(t_claim_e(env, hub, T0 + 8, T_LEASE, 8, 2, &e), DS_OK);
    T_INT(e.n, 1);
    T(strcmp(e.key[0], "c1") == 0);
    T(strcmp(e.state[0], "3") == 0);
    T_INT(e.nops[0], 1);
    T(strstr(e.ops[0], "\"input\":4") != NULL);

    /* an expired lease: claimable again, the old token stale */
    T_INT(t_claim_e(env, hub, T0 + 8 + T_LEASE, T_LEASE, 8, 3, &e), DS_OK);
    T_INT(e.n, 2);
    T_INT(t_ecomplete(env, "counter", "c1", 2, 0, "7", T0 + 9 + T_LEASE),
          DS_CONFLICT);

    /* the key is case-sensitive, the name not */
    T_INT(t_ecomplete(env, "COUNTER", "C1", 3, 0, "0", T0 + 10 + T_LEASE),
          DS_OK);
    T_INT(t_ecomplete(env, "counter", "c1", 4, 1, NULL, T0 + 10 + T_LEASE),
          DS_OK);
    T_INT(t_eget(env, "counter", "c1", state, sizeof(state), NULL),
          DS_NOTFOUND);
    T_INT(t_eget(env, "Counter", "C1", state, sizeof(state), NULL), DS_OK);
    T(strcmp(state, "0") == 0);

    /* deleted: retried delete answers the same */
    T_INT(t_ecomplete(env, "counter", "c1", 4, 1, NULL, T0 + 11 + T_LEASE),
          DS_OK);

    T(t_consistent(env, hub, &cs));
    T_INT(cs.entities, 2);
    T_INT(cs.entity_ops, 0);
    T_INT(cs.ready, 0);

    T_INT(t_claim_e(env, hub, T0 + 3 * T_LEASE, T_LEASE, 8, 5, &e), DS_OK);
    T_INT(e.n, 0);

    /* a claim by entity name: compared lower-cased; others stay */
    T_INT(t_signal(env, "other", "o1", "add", "1", T0 + 4 * T_LEASE), DS_OK);
    T_INT(t_signal(env, "counter", "n1", "add", "1", T0 + 4 * T_LEASE),
          DS_OK);
    T_INT(t_claim_named(env, hub, DS_WORK_ENTITY, T0 + 4 * T_LEASE, 8, 6,
                        counter, &named), DS_OK);
    T_INT(named.n, 1);
    T(strcmp(named.id[0], "@counter@n1") == 0);
    T(strcmp(named.name[0], "counter") == 0);
    T_INT(named.skipped, 1);
    T_INT(t_claim_e(env, hub, T0 + 4 * T_LEASE, T_LEASE, 8, 7, &e), DS_OK);
    T_INT(e.n, 1);
    T(strcmp(e.name[0], "other") == 0);

    /* the empty operation name is the reference's default */
    T_INT(t_signal(env, "counter", "e0", "", "1", T0 + 5 * T_LEASE), DS_OK);
    T_INT(t_claim_e(env, hub, T0 + 5 * T_LEASE, T_LEASE, 8, 8, &e), DS_OK);

    for (i = 0; i < e.n && strcmp(e.key[i], "e0") != 0; i++) {
        /* void */
    }

    T(i < e.n && strncmp(e.ops[i], "{\"operation\":\"\",\"input\":1,",
                         sizeof("{\"operation\":\"\",\"input\":1,") - 1)
                 == 0);

    ds_env_close(env);
    t_rmdir(dir);
}


typedef struct {
    size_t      n;
    char        ids[64][32];
} t_elist_t;


static int
t_elist_cb(void *data, const ds_entity_t *e)
{
    t_elist_t  *l;

    l = data;

    if (l->n < 64) {
        snprintf(l->ids[l->n], sizeof(l->ids[0]), "%.*s/%.*s",
                 (int) e->name.len, e->name.data, (int) e->key.len,
                 e->key.data);
    }

    l->n++;

    return 0;
}


static int
t_count_inst(void *data, ds_str_t id, const ds_instance_t *inst)
{
    (void) id;
    (void) inst;

    ((t_elist_t *) data)->n++;

    return 0;
}


/* pages of a list until the token ends; returns the number of pages */

static size_t
t_elist(ds_env_t *env, const char *name, int64_t from, int64_t to,
    size_t top, size_t budget, t_elist_t *l)
{
    char       token[DS_TOKEN_MAX], prev[DS_TOKEN_MAX];
    size_t     len, pages;
    ds_txn_t  *txn;

    memset(l, 0, sizeof(t_elist_t));
    len = 0;
    pages = 0;

    do {
        memcpy(prev, token, len);
        T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
        T_INT(ds_entity_list(txn, t_s("Hub"), t_s(name), from, to, top,
                             budget, (ds_str_t) { prev, len }, t_elist_cb,
                             l, token, &len), DS_OK);
        ds_txn_abort(txn);
        pages++;
    } while (len && pages < 100);

    return pages;
}


static void
t_entity_list(void)
{
    int               i;
    char             *dir, key[16];
    size_t            len;
    ds_env_t         *env;
    ds_txn_t         *txn;
    ds_str_t          hub;
    t_ent_t           e;
    t_elist_t         l;
    char              token[DS_TOKEN_MAX];

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    for (i = 0; i < 10; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        T_INT(t_signal(env, i % 2 ? "beta" : "alpha", key, "set", "1",
                       T0 + i), DS_OK);
    }

    /* a signal alone makes no state: nothing listed */
    T_INT(t_elist(env, "", 0, 0, 100, 0, &l), 1);
    T_INT(l.n, 0);

    for (i = 0; i < 5; i++) {
        T_INT(t_claim_e(env, hub, T0 + 100, T_LEASE, 2, 2 * i, &e), DS_OK);
        T_INT(e.n, 2);
        T_INT(t_ecomplete(env, e.name[0], e.key[0], 2 * i, 0, "{}",
                          T0 + 100 + 2 * i), DS_OK);
        T_INT(t_ecomplete(env, e.name[1], e.key[1], 2 * i + 1, 0, "[]",
                          T0 + 101 + 2 * i), DS_OK);
    }

    T_INT(t_elist(env, "", 0, 0, 100, 0, &l), 1);
    T_INT(l.n, 10);
    T(strcmp(l.ids[0], "alpha/k0") == 0);
    T(strcmp(l.ids[4], "alpha/k8") == 0);
    T(strcmp(l.ids[5], "beta/k1") == 0);

    T_INT(t_elist(env, "beta", 0, 0, 100, 0, &l), 1);
    T_INT(l.n, 5);
    T(strcmp(l.ids[0], "beta/k1") == 0);

    T_INT(t_elist(env, "Alpha", 0, 0, 100, 0, &l), 1);
    T_INT(l.n, 5);

    T_INT(t_elist(env, "alph", 0, 0, 100, 0, &l), 1);
    T_INT(l.n, 0);

    /* pages of 3, and a scan budget of 1 */
    T_INT(t_elist(env, "", 0, 0, 3, 0, &l), 4);
    T_INT(l.n, 10);
    T(strcmp(l.ids[9], "beta/k9") == 0);
    T_INT(t_elist(env, "beta", 0, 0, 100, 1, &l), 5);
    T_INT(l.n, 5);

    /* last operation time range, inclusive */
    T_INT(t_elist(env, "", T0 + 102, T0 + 104, 100, 0, &l), 1);
    T_INT(l.n, 3);

    /* a malformed token */
    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_entity_list(txn, hub, t_s(""), 0, 0, 10, 0, t_s("AQ*"),
                         t_elist_cb, &l, token, &len), DS_INVALID);
    T_INT(ds_entity_list(txn, hub, t_s(""), 0, 0, 0, 0, t_s(""),
                         t_elist_cb, &l, token, &len), DS_INVALID);
    ds_txn_abort(txn);

    /* entities are not instances */
    {
        ds_query_t  q;
        size_t      tl;

        memset(&q, 0, sizeof(q));
        q.top = 100;
        l.n = 0;
        T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
        T_INT(ds_instance_list(txn, hub, &q, t_count_inst, &l, token, &tl),
              DS_OK);
        ds_txn_abort(txn);
        T_INT(l.n, 0);
    }

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/* signalEntity from an orchestration */

static void
t_entity_from_orch(void)
{
    char              *dir, hist[T_TEXT];
    ds_env_t          *env;
    ds_str_t           hub;
    t_ent_t            e;
    t_orch_t           o;
    ds_action_t        act;
    ds_status_e        st;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_start(env, hub, "o", "O", "", T0), DS_OK);
    T_INT(t_claim_o(env, hub, T0 + 1, T_LEASE, 1, 0, &o), DS_OK);

    /* as the JSON worker protocol sends it: no id */
    act = t_act(DS_ACT_SIGNAL_ENTITY, -1, "add", "5");
    act.entity_name = t_s("Counter");
    act.entity_key = t_s("x");
    T_INT(t_complete_o(env, hub, "o", 0, &act, 1, T0 + 2, &st), DS_OK);

    t_history_text(env, hub, "o", hist, sizeof(hist));
    T(strstr(hist, "{\"EventType\":\"EventSent\","
                   "\"Timestamp\":\"2018-03-10T13:57:31.000001Z\","
                   "\"EventId\":-1,\"InstanceId\":\"@counter@x\","
                   "\"Name\":\"add\",\"Input\":5}") != NULL);

    T_INT(t_claim_e(env, hub, T0 + 3, T_LEASE, 1, 1, &e), DS_OK);
    T_INT(e.n, 1);
    T(strcmp(e.name[0], "counter") == 0);
    T(strcmp(e.key[0], "x") == 0);
    T(strstr(e.ops[0], "{\"operation\":\"add\",\"input\":5,") != NULL);

    T(t_consistent(env, hub, NULL));

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * A store filled with entity state: a signal that adds is refused, while
 * a "delete" signal and the completion that deletes the state may use the
 * reserve, so the state can be removed through the API.
 */

static void
t_entity_full(void)
{
    int             i, rc;
    char           *dir, id[32], input[2100];
    ds_env_t       *env;
    ds_txn_t       *txn;
    t_ent_t         e;
    ds_instance_t   inst;

    dir = t_tmpdir();
    env = t_open(dir, 1024 * 1024, DS_SYNC_NONE);

    memset(input, 'x', sizeof(input) - 1);
    input[0] = '"';
    input[sizeof(input) - 2] = '"';
    input[sizeof(input) - 1] = '\0';

    /* the entity's state first, then instances until the store is full */

    T_INT(t_signal(env, "big", "k", "set", "1", T0), DS_OK);
    T_INT(t_claim_e(env, t_s("Hub"), T0 + 1, T_LEASE, 8, 1, &e), DS_OK);
    T_INT(e.n, 1);
    T_INT(t_ecomplete(env, "big", "k", 1, 0, input, T0 + 2), DS_OK);

    rc = DS_OK;

    for (i = 0; i < 5000 && rc == DS_OK; i++) {
        snprintf(id, sizeof(id), "f-%d", i);

        T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
        rc = ds_op_start(txn, t_s("Hub"), t_s(id), t_s("O"), t_s(input),
                         T0 + 3, &inst);
        if (rc == DS_OK) {
            T_INT(ds_txn_commit(txn), DS_OK);

        } else {
            ds_txn_abort(txn);
        }
    }

    T_INT(rc, DS_FULL);

    T_INT(t_signal(env, "big", "k", "add", "1", T0 + 4), DS_FULL);
    T_INT(t_signal(env, "big", "k", "delete", NULL, T0 + 4), DS_OK);
    T_INT(t_claim_e(env, t_s("Hub"), T0 + 5, T_LEASE, 8, 2, &e), DS_OK);
    T_INT(e.n, 1);
    T_INT(t_ecomplete(env, "big", "k", 2, 1, NULL, T0 + 6), DS_OK);

    ds_env_close(env);
    t_rmdir(dir);
}


static int
t_signal_at(ds_env_t *env, const char *op, int64_t at, int64_t now)
{
    int        rc;
    ds_txn_t  *txn;

    if (ds_txn_begin(env, NULL, 1, &txn) != DS_OK) {
        return DS_ERROR;
    }

    rc = ds_entity_signal_at(txn, t_s("Hub"), t_s("counter"), t_s("s"),
                             t_s(op), t_s("1"), at, now);

    if (rc != DS_OK) {
        ds_txn_abort(txn);
        return rc;
    }

    return ds_txn_commit(txn);
}


/* a signal scheduled later is held until then; later ones pass it */

static void
t_entity_scheduled(void)
{
    char              *dir;
    int64_t            when;
    ds_env_t          *env;
    ds_txn_t          *txn;
    ds_str_t           hub;
    t_ent_t            e;
    ds_check_stats_t   cs;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(t_signal_at(env, "later", T0 + 1000000, T0), DS_OK);
    /* a time already past: at once */
    T_INT(t_signal_at(env, "now", T0 - 5, T0 + 1), DS_OK);

    T(t_consistent(env, hub, &cs));
    T_INT(cs.timers, 1);

    T_INT(t_claim_e(env, hub, T0 + 2, T_LEASE, 8, 0, &e), DS_OK);
    T_INT(e.n, 1);
    T_INT(e.nops[0], 1);
    T(strstr(e.ops[0], "\"now\"") != NULL);
    T_INT(t_ecomplete(env, "counter", "s", 0, 0, "1", T0 + 3), DS_OK);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_work_next_visible(txn, hub, DS_WORK_ENTITY, &when), DS_OK);
    T_INT(when, T0 + 1000000);
    ds_txn_abort(txn);

    T_INT(t_claim_e(env, hub, T0 + 999999, T_LEASE, 8, 1, &e), DS_OK);
    T_INT(e.n, 0);

    T_INT(t_claim_e(env, hub, T0 + 1000000, T_LEASE, 8, 2, &e), DS_OK);
    T_INT(e.n, 1);
    T_INT(e.nops[0], 1);
    T(strstr(e.ops[0], "\"later\"") != NULL);
    T(strcmp(e.state[0], "1") == 0);
    T_INT(t_ecomplete(env, "counter", "s", 2, 0, "2", T0 + 1000001), DS_OK);

    T(t_consistent(env, hub, &cs));
    T_INT(cs.timers, 0);
    T_INT(cs.entity_ops, 0);

    ds_env_close(env);
    t_rmdir(dir);
}


/* a lease delivers one batch: 5,000 operations, or 2 MiB past the first */

static void
t_entity_batch(void)
{
    int        tok;
    char      *dir, *big;
    size_t     i, len;
    int64_t    now;
    ds_env_t  *env;
    ds_str_t   hub;
    t_ent_t    e;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);
    now = T0;
    tok = 0;

    for (i = 0; i < 5001; i++) {
        T_INT(t_signal(env, "many", "k", "add", "1", now++), DS_OK);
    }

    T_INT(t_claim_e(env, hub, now++, T_LEASE, 8, tok, &e), DS_OK);
    T_INT(e.n, 1);
    T_INT(e.nops[0], 5000);
    T_INT(t_ecomplete(env, "many", "k", tok++, 0, "5000", now++), DS_OK);

    /* the rest is ready again at once */
    T_INT(t_claim_e(env, hub, now++, T_LEASE, 8, tok, &e), DS_OK);
    T_INT(e.n, 1);
    T_INT(e.nops[0], 1);
    T_INT(t_ecomplete(env, "many", "k", tok++, 0, "5001", now++), DS_OK);

    /* inputs of 900,000 bytes: two a batch */
    len = 900000;
    big = malloc(3 * 1024 * 1024 + 3);
    if (big == NULL) {
        abort();
    }

    memset(big, 'x', 3 * 1024 * 1024 + 2);
    big[0] = '"';
    big[len + 1] = '"';
    big[len + 2] = '\0';

    for (i = 0; i < 3; i++) {
        T_INT(t_signal(env, "large", "k", "add", big, now++), DS_OK);
    }

    T_INT(t_claim_e(env, hub, now++, T_LEASE, 8, tok, &e), DS_OK);
    T_INT(e.n, 1);
    T_INT(e.nops[0], 2);
    T_INT(t_ecomplete(env, "large", "k", tok++, 0, "2", now++), DS_OK);
    T_INT(t_claim_e(env, hub, now++, T_LEASE, 8, tok, &e), DS_OK);
    T_INT(e.n, 1);
    T_INT(e.nops[0], 1);
    T_INT(t_ecomplete(env, "large", "k", tok++, 0, "3", now++), DS_OK);

    /* one of 3 MiB goes alone, whatever its size */
    big[len + 1] = 'x';
    big[len + 2] = 'x';
    big[3 * 1024 * 1024 + 1] = '"';
    big[3 * 1024 * 1024 + 2] = '\0';
    T_INT(t_signal(env, "huge", "k", "add", big, now++), DS_OK);
    T_INT(t_signal(env, "huge", "k", "add", "1", now++), DS_OK);

    T_INT(t_claim_e(env, hub, now++, T_LEASE, 8, tok, &e), DS_OK);
    T_INT(e.n, 1);
    T_INT(e.nops[0], 1);
    T_INT(t_ecomplete(env, "huge", "k", tok++, 0, "1", now++), DS_OK);
    T_INT(t_claim_e(env, hub, now++, T_LEASE, 8, tok, &e), DS_OK);
    T_INT(e.n, 1);
    T_INT(e.nops[0], 1);
    T_INT(t_ecomplete(env, "huge", "k", tok++, 0, "2", now++), DS_OK);

    /* a state of 1.5 MB counts: with it, one of 900 KB a batch */
    big[len + 1] = 'x';
    big[1500000 + 1] = '"';
    big[1500000 + 2] = '\0';
    T_INT(t_signal(env, "stateful", "k", "add", "1", now++), DS_OK);
    T_INT(t_claim_e(env, hub, now++, T_LEASE, 8, tok, &e), DS_OK);
    T_INT(e.nops[0], 1);
    T_INT(t_ecomplete(env, "stateful", "k", tok++, 0, big, now++), DS_OK);

    big[1500000 + 1] = 'x';
    big[1500000 + 2] = 'x';
    big[len + 1] = '"';
    big[len + 2] = '\0';

    for (i = 0; i < 2; i++) {
        T_INT(t_signal(env, "stateful", "k", "add", big, now++), DS_OK);
    }

    T_INT(t_claim_e(env, hub, now++, T_LEASE, 8, tok, &e), DS_OK);
    T_INT(e.n, 1);
    T_INT(e.nops[0], 1);

    T(t_consistent(env, hub, NULL));

    free(big);
    ds_env_close(env);
    t_rmdir(dir);
}
