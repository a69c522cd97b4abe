/*
 * Copyright (C) ngx_durable authors
 */


#include <stdio.h>
#include <stdlib.h>

#include "ds_key.h"
#include "t_work.h"


static uint8_t  t_tokens[64][DS_LEASE_LEN];


/* tokens n, n+1, ... are consecutive in one array (n < 56) */

const uint8_t *
t_tok(int n)
{
    int  i;

    /* a test asking past the array is the test's bug: stop it there */
    if (n < 0 || n >= 64) {
        fprintf(stderr, "t_tok(%d): tokens are 0 to 63\n", n);
        abort();
    }

    for (i = 0; i < 64; i++) {
        memset(t_tokens[i], 0, DS_LEASE_LEN);
        t_tokens[i][0] = 0xa5;
        t_tokens[i][DS_LEASE_LEN - 1] = (uint8_t) (i + 1);
    }

    return t_tokens[n];
}


static void
t_cat(char *out, size_t size, const char *sep, const char *s, size_t len)
{
    size_t  n;

    n = strlen(out);

    if (n && sep) {
        snprintf(out + n, size - n, "%s", sep);
        n = strlen(out);
    }

    snprintf(out + n, size - n, "%.*s", (int) len, s);
}


/* the value of "EventType" */

static void
t_type(char *out, size_t size, ds_str_t ev)
{
    char        head[128];
    const char  *p, *q;

    /* event text is not NUL-terminated: look at a copy of its head */
    snprintf(head, sizeof(head), "%.*s", (int) ev.len, ev.data);

    p = strstr(head, "\"EventType\":\"");

    if (p == NULL) {
        t_cat(out, size, ",", "?", 1);
        return;
    }

    p += 13;
    q = strchr(p, '"');

    t_cat(out, size, ",", p, q ? (size_t) (q - p) : 0);
}


typedef struct {
    char       *out;
    size_t      size;
    size_t      n;
} t_acc_t;


/* an empty text in out, no events counted yet */

static void
t_acc_init(t_acc_t *acc, char *out, size_t size)
{
    out[0] = '\0';
    acc->out = out;
    acc->size = size;
    acc->n = 0;
}


/* ends a write txn: commits on DS_OK, aborts otherwise */

static int
t_end(ds_txn_t *txn, int rc)
{
    if (rc != DS_OK) {
        ds_txn_abort(txn);
        return rc;
    }

    return ds_txn_commit(txn);
}


/*
 * A claim of kind in a write txn of its own, with token tok: cb takes
 * each item into data, which counts them in *n. DS_ERROR when that is
 * not what the claim says it claimed.
 */

static int
t_claim_into(ds_env_t *env, ds_str_t hub, ds_work_kind_e kind, int64_t now,
    int64_t lease_us, size_t max, int tok, ds_claim_filter_t *f,
    ds_work_item_cb cb, void *data, const size_t *n)
{
    int        rc;
    size_t     claimed;
    ds_txn_t  *txn;

    if (ds_txn_begin(env, NULL, 1, &txn) != DS_OK) {
        return DS_ERROR;
    }

    rc = ds_work_claim(txn, hub, kind, now, lease_us, max, t_tok(tok), f, cb,
                       data, &claimed);

    if (rc == DS_OK && claimed != *n) {
        rc = DS_ERROR;
    }

    return t_end(txn, rc);
}


static int
t_types_cb(void *data, uint64_t seq, ds_str_t ev)
{
    t_acc_t  *a;

    (void) seq;

    a = data;
    a->n++;
    t_type(a->out, a->size, ev);

    return 0;
}


static int
t_text_cb(void *data, uint64_t seq, ds_str_t ev)
{
    t_acc_t  *a;

    (void) seq;

    a = data;
    a->n++;
    t_cat(a->out, a->size, "\n", ev.data, ev.len);

    return 0;
}


static int
t_orch_cb(void *data, ds_txn_t *txn, const ds_work_item_t *it)
{
    size_t    i;
    t_acc_t   acc;
    t_orch_t  *o;

    o = data;
    i = o->n++;

    if (i >= T_ITEMS) {
        return 1;
    }

    snprintf(o->id[i], sizeof(o->id[i]), "%.*s", (int) it->id.len,
             it->id.data);
    snprintf(o->input[i], sizeof(o->input[i]), "%.*s",
             (int) it->input.len, it->input.data ? it->input.data : "");
    o->upto[i] = it->upto;
    o->expires[i] = it->lease_expires;
    o->status[i] = it->status;

    t_acc_init(&acc, o->history[i], T_TEXT);

    if (ds_history_read(txn, t_s("Hub"), it->id, t_types_cb, &acc) != DS_OK)
    {
        return 1;
    }

    t_acc_init(&acc, o->messages[i], T_TEXT);

    if (ds_inbox_read_upto(txn, t_s("Hub"), it->id, it->upto, t_text_cb,
                           &acc)
        != DS_OK)
    {
        return 1;
    }

    o->nmessages[i] = acc.n;

    return 0;
}


int
t_claim_o(ds_env_t *env, ds_str_t hub, int64_t now, int64_t lease_us,
    size_t max, int tok, t_orch_t *o)
{
    memset(o, 0, sizeof(t_orch_t));

    return t_claim_into(env, hub, DS_WORK_ORCHESTRATION, now, lease_us,
                        max, tok, NULL, t_orch_cb, o, &o->n);
}


int
t_complete_o(ds_env_t *env, ds_str_t hub, const char *id, int tok,
    const ds_action_t *a, size_t n, int64_t now, ds_status_e *status)
{
    int          rc;
    ds_txn_t    *txn;
    ds_status_e  st;

    if (ds_txn_begin(env, NULL, 1, &txn) != DS_OK) {
        return DS_ERROR;
    }

    st = DS_STATUS_COUNT;

    rc = ds_work_complete_orchestration(txn, hub, t_s(id), t_tok(tok), a, n,
                                        now, &st);

    if (rc == DS_OK && status) {
        *status = st;
    }

    return t_end(txn, rc);
}


static int
t_act_cb(void *data, ds_txn_t *txn, const ds_work_item_t *it)
{
    size_t    i;
    t_act_t  *a;

    (void) txn;

    a = data;
    i = a->n++;

    if (i >= T_ITEMS) {
        return 1;
    }

    snprintf(a->id[i], sizeof(a->id[i]), "%.*s", (int) it->id.len,
             it->id.data);
    snprintf(a->name[i], sizeof(a->name[i]), "%.*s", (int) it->name.len,
             it->name.data);
    snprintf(a->input[i], sizeof(a->input[i]), "%.*s", (int) it->input.len,
             it->input.data ? it->input.data : "");
    snprintf(a->version[i], sizeof(a->version[i]), "%.*s",
             (int) it->version.len, it->version.data ? it->version.data : "");
    snprintf(a->tags[i], sizeof(a->tags[i]), "%.*s", (int) it->tags.len,
             it->tags.data ? it->tags.data : "");
    a->task_id[i] = it->task_id;
    a->execution[i] = it->execution;
    a->expires[i] = it->lease_expires;

    return 0;
}


int
t_claim_a(ds_env_t *env, ds_str_t hub, int64_t now, int64_t lease_us,
    size_t max, int tok, t_act_t *a)
{
    memset(a, 0, sizeof(t_act_t));

    return t_claim_into(env, hub, DS_WORK_ACTIVITY, now, lease_us,
                        max, tok, NULL, t_act_cb, a, &a->n);
}


int
t_complete_a(ds_env_t *env, ds_str_t hub, const char *id, int64_t task_id,
    int tok, int failed, const char *result, int64_t now)
{
    int        rc;
    ds_txn_t  *txn;

    if (ds_txn_begin(env, NULL, 1, &txn) != DS_OK) {
        return DS_ERROR;
    }

    rc = ds_work_complete_activity(txn, hub, t_s(id), task_id, t_tok(tok),
                                   failed, failed ? t_s(NULL) : t_s(result),
                                   failed ? t_s(result) : t_s(NULL),
                                   failed ? t_s("\"stack\"") : t_s(NULL),
                                   now);

    return t_end(txn, rc);
}


static int
t_ent_cb(void *data, ds_txn_t *txn, const ds_work_item_t *it)
{
    size_t    i;
    t_acc_t   acc;
    t_ent_t  *e;

    e = data;
    i = e->n++;

    if (i >= T_ITEMS) {
        return 1;
    }

    snprintf(e->name[i], sizeof(e->name[i]), "%.*s", (int) it->name.len,
             it->name.data);
    snprintf(e->key[i], sizeof(e->key[i]), "%.*s", (int) it->key.len,
             it->key.data);
    snprintf(e->state[i], sizeof(e->state[i]), "%.*s", (int) it->input.len,
             it->input.data ? it->input.data : "");
    e->upto[i] = it->upto;

    t_acc_init(&acc, e->ops[i], T_TEXT);

    if (ds_entity_read_ops(txn, t_s("Hub"), it->name, it->key, it->upto,
                           t_text_cb, &acc)
        != DS_OK)
    {
        return 1;
    }

    e->nops[i] = acc.n;

    return 0;
}


int
t_claim_e(ds_env_t *env, ds_str_t hub, int64_t now, int64_t lease_us,
    size_t max, int tok, t_ent_t *e)
{
    memset(e, 0, sizeof(t_ent_t));

    return t_claim_into(env, hub, DS_WORK_ENTITY, now, lease_us,
                        max, tok, NULL, t_ent_cb, e, &e->n);
}


/* runs op in a write txn: commit on DS_OK, abort otherwise */

int
t_run(ds_env_t *env, int (*op)(ds_txn_t *txn, void *data), void *data)
{
    int        rc;
    ds_txn_t  *txn;

    if (ds_txn_begin(env, NULL, 1, &txn) != DS_OK) {
        return DS_ERROR;
    }

    rc = op(txn, data);

    return t_end(txn, rc);
}


void
t_history_types(ds_env_t *env, ds_str_t hub, const char *id, char *out,
    size_t size)
{
    t_acc_t    acc;
    ds_txn_t  *txn;

    t_acc_init(&acc, out, size);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_history_read(txn, hub, t_s(id), t_types_cb, &acc), DS_OK);
    ds_txn_abort(txn);
}


size_t
t_history_text(ds_env_t *env, ds_str_t hub, const char *id, char *out,
    size_t size)
{
    t_acc_t    acc;
    ds_txn_t  *txn;

    t_acc_init(&acc, out, size);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_history_read(txn, hub, t_s(id), t_text_cb, &acc), DS_OK);
    ds_txn_abort(txn);

    return acc.n;
}


size_t
t_inbox_count(ds_env_t *env, ds_str_t hub, const char *id)
{
    char       buf[T_TEXT];
    t_acc_t    acc;
    ds_txn_t  *txn;

    t_acc_init(&acc, buf, sizeof(buf));

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_inbox_read(txn, hub, t_s(id), t_text_cb, &acc), DS_OK);
    ds_txn_abort(txn);

    return acc.n;
}


/* a copy of the record; output copied to out */

int
t_get(ds_env_t *env, ds_str_t hub, const char *id, ds_instance_t *inst,
    char *output, size_t size)
{
    int        rc;
    ds_txn_t  *txn;

    if (ds_txn_begin(env, NULL, 0, &txn) != DS_OK) {
        return DS_ERROR;
    }

    rc = ds_instance_get(txn, hub, t_s(id), inst);

    if (rc == DS_OK && output) {
        snprintf(output, size, "%.*s", (int) inst->output.len,
                 inst->output.data ? inst->output.data : "");
    }

    /* the strings die with the txn */
    inst->name.data = NULL;
    inst->input.data = NULL;
    inst->output.data = NULL;
    inst->custom_status.data = NULL;
    inst->parent_id.data = NULL;
    inst->version.data = NULL;
    inst->tags.data = NULL;
    inst->failure.data = NULL;

    ds_txn_abort(txn);

    return rc;
}


int
t_start(ds_env_t *env, ds_str_t hub, const char *id, const char *name,
    const char *input, int64_t now)
{
    int            rc;
    ds_txn_t      *txn;
    ds_instance_t  inst;

    if (ds_txn_begin(env, NULL, 1, &txn) != DS_OK) {
        return DS_ERROR;
    }

    rc = ds_op_start(txn, hub, t_s(id), t_s(name), t_s(input), now, &inst);

    return t_end(txn, rc);
}


/* an op of type on id in hub "Hub" at now; its other members zero */

ds_op_t
t_op_of(ds_op_type_e type, const char *id, int64_t now)
{
    ds_op_t  op;

    memset(&op, 0, sizeof(op));

    op.type = type;
    op.hub = t_s("Hub");
    op.now = now;

    switch (type) {

    case DS_OP_START:
    case DS_OP_RESTART:
        op.in.start.id = t_s(id);
        break;

    case DS_OP_ENTITY_GET:
    case DS_OP_LIST:
    case DS_OP_ENTITY_LIST:
        break;

    case DS_OP_WORK_COMPLETE:
    case DS_OP_WORK_RENEW:
    case DS_OP_WORK_ABANDON:
        op.in.work.id = t_s(id);
        break;

    default:
        op.in.control.id = t_s(id);
        break;
    }

    return op;
}


ds_action_t
t_act(ds_action_type_e type, int64_t id, const char *name, const char *input)
{
    ds_action_t  a;

    memset(&a, 0, sizeof(a));
    a.type = type;
    a.id = id;
    a.name = t_s(name);
    a.input = t_s(input);

    return a;
}


/*
 * Rewrites a record in the layout of the version before the digest: the
 * 8 bytes at "at" go and the first byte becomes version.
 */

int
t_downgrade(ds_env_t *env, int db, const unsigned char *key, size_t klen,
    size_t at, int version)
{
    int             rc;
    MDB_val         k, v;
    ds_txn_t       *txn;
    unsigned char  *buf;

    if (ds_txn_begin(env, NULL, 1, &txn) != DS_OK) {
        return DS_ERROR;
    }

    k.mv_data = (void *) key;
    k.mv_size = klen;

    rc = dsi_get(txn, db, &k, &v);

    if (rc != 0 || v.mv_size < at + 8) {
        ds_txn_abort(txn);
        return DS_ERROR;
    }

    buf = malloc(v.mv_size);
    if (buf == NULL) {
        ds_txn_abort(txn);
        return DS_ERROR;
    }

    memcpy(buf, v.mv_data, at);
    memcpy(buf + at, (unsigned char *) v.mv_data + at + 8,
           v.mv_size - at - 8);
    buf[0] = (unsigned char) version;

    v.mv_data = buf;
    v.mv_size -= 8;

    rc = dsi_put(txn, db, &k, &v, 0);
    free(buf);

    if (rc != 0) {
        ds_txn_abort(txn);
        return DS_ERROR;
    }

    return ds_txn_commit(txn);
}


static int
t_named_cb(void *data, ds_txn_t *txn, const ds_work_item_t *it)
{
    size_t     i;
    t_named_t  *c;

    (void) txn;

    c = data;
    i = c->n++;

    if (i >= T_ITEMS) {
        return 1;
    }

    snprintf(c->id[i], sizeof(c->id[i]), "%.*s", (int) it->id.len,
             it->id.data);
    snprintf(c->name[i], sizeof(c->name[i]), "%.*s", (int) it->name.len,
             it->name.data);

    return 0;
}


/* a claim by name: names is NULL-terminated */

int
t_claim_named(ds_env_t *env, ds_str_t hub, ds_work_kind_e kind, int64_t now,
    size_t max, int tok, const char *const *names, t_named_t *c)
{
    int                rc;
    ds_str_t           list[8];
    ds_claim_filter_t  f;

    memset(c, 0, sizeof(t_named_t));
    memset(&f, 0, sizeof(ds_claim_filter_t));

    while (names[f.nnames] != NULL && f.nnames < 8) {
        list[f.nnames] = t_s(names[f.nnames]);
        f.nnames++;
    }

    f.names = list;

    rc = t_claim_into(env, hub, kind, now, 60000000, max, tok, &f,
                      t_named_cb, c, &c->n);

    c->skipped = f.skipped;
    c->more = f.more;

    return rc;
}
