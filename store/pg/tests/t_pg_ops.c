
/*
 * Copyright (C) ngx_durable authors
 *
 * The same operations on both backends, the answers compared: each
 * ds_op_t of a script is applied to an LMDB store (ds_op_batch(),
 * ds_op_read()) and to PostgreSQL (ds_pg_op.c over ds_pg_conn.c), and
 * must get the same rc, the same outputs, the same records and the same
 * history, byte for byte but for the times. Then the continuation token
 * of one position, made by each backend.
 *
 *   t_pg_ops CONNINFO
 */


#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ds_pg.h"


#define T_BUF           8192


static unsigned long   t_passed, t_failed;
static const char     *t_hub = "hub";     /* of t_op() and t_inbox() */
static ds_env_t       *t_env;
static dsi_pg_conn_t  *t_pg;


#define T(c)  t_check((c) != 0, __LINE__, #c)


static void
t_check(int ok, int line, const char *expr)
{
    if (ok) {
        t_passed++;
        return;
    }

    t_failed++;
    printf("not ok - line %d: %s\n", line, expr);
}


/* what a read answered, kept past done() for the comparison */

typedef struct {
    ds_status_e         status;
    ds_status_e         suspended_from;
    uint64_t            execution;
    uint64_t            inbox_seq;
    int64_t             parent_task;
    int                 ready;          /* ready_at != 0 */
    char                name[64];
    char                input[64];
    char                output[64];
    char                version[64];
    char                tags[64];
    char                failure[64];
    int                 scheduled;      /* scheduled_start != 0 */
    char                history[T_BUF]; /* events, Timestamps blanked */
    char                ids[T_BUF];     /* a list's, space-separated */
    char                items[T_BUF];   /* a claim's, events blanked */
    int                 pg;             /* the backend: 1 PostgreSQL */
} t_seen_t;


static ds_str_t
t_s(const char *s)
{
    ds_str_t  r;

    r.data = s;
    r.len = s ? strlen(s) : 0;

    return r;
}


static void
t_copy(char *dst, size_t size, ds_str_t s)
{
    size_t  n;

    n = s.len < size - 1 ? s.len : size - 1;
    memcpy(dst, s.data, n);
    dst[n] = '\0';
}


/* appends an event with its Timestamp's value left out */

static int
t_event(void *data, uint64_t seq, ds_str_t ev)
{
    char         *h, *end;
    size_t        len;
    const char   *p, *ts;
    static const char  key[] = "\"Timestamp\":\"";

    (void) seq;

    h = data;
    len = strlen(h);
    end = h + T_BUF - 2;
    h += len;

    for (p = ev.data; p < ev.data + ev.len && h < end; p++) {
        *h++ = *p;

        ts = p + 1 - (sizeof(key) - 1);

        if (ts >= ev.data && memcmp(ts, key, sizeof(key) - 1) == 0) {
            while (p + 1 < ev.data + ev.len && p[1] != '"') {
                p++;
            }
        }
    }

    *h++ = '\n';
    *h = '\0';

    return 0;
}


static void
t_keep(t_seen_t *seen, const ds_instance_t *inst)
{
    seen->status = inst->status;
    seen->suspended_from = inst->suspended_from;
    seen->execution = inst->execution;
    seen->inbox_seq = inst->inbox_seq;
    seen->parent_task = inst->parent_task;
    seen->ready = inst->ready_at != 0;
    t_copy(seen->name, sizeof(seen->name), inst->name);
    t_copy(seen->input, sizeof(seen->input), inst->input);
    t_copy(seen->output, sizeof(seen->output), inst->output);
    t_copy(seen->version, sizeof(seen->version), inst->version);
    t_copy(seen->tags, sizeof(seen->tags), inst->tags);
    t_copy(seen->failure, sizeof(seen->failure), inst->failure);
    seen->scheduled = inst->scheduled_start != 0;
}


static void
t_lmdb_done(ds_op_t *op)
{
    t_seen_t  *seen;

    seen = op->data;

    if (op->type == DS_OP_STATUS && op->rc == DS_OK) {
        t_keep(seen, op->out.status.inst);
        (void) ds_op_history(op, t_event, seen->history);
    }
}


static int
t_list_item(void *data, ds_str_t id, const ds_instance_t *inst)
{
    char  *ids;

    (void) inst;

    ids = data;
    strncat(ids, id.data, id.len);
    strcat(ids, " ");

    return 0;
}


/* a claimed item, as a front end renders it, times as durations */

static int
t_claim_item(void *data, ds_op_t *op, const ds_work_item_t *item)
{
    int        rc;
    char      *p;
    size_t     len;
    t_seen_t  *seen;

    seen = data;
    p = seen->items + strlen(seen->items);
    len = T_BUF - (size_t) (p - seen->items);

    if (item->kind == DS_WORK_ACTIVITY) {
        /* no clock of the episode: the lease's expiry is each one's own */
        snprintf(p, len, "%.*s task %lld %.*s %.*s exec %llu token %d\n",
                 (int) item->id.len, item->id.data, (long long) item->task_id,
                 (int) item->name.len, item->name.data,
                 (int) item->input.len, item->input.data,
                 (unsigned long long) item->execution, item->lease[0]);
        return 0;
    }

    snprintf(p, len, "%.*s %.*s %.*s exec %llu status %d upto %llu "
             "lease %lld token %d\n", (int) item->id.len, item->id.data,
             (int) item->name.len, item->name.data, (int) item->input.len,
             item->input.data, (unsigned long long) item->execution,
             (int) item->status, (unsigned long long) item->upto,
             (long long) (item->lease_expires - item->timestamp),
             item->lease[0]);

    rc = seen->pg
         ? dsi_pg_op_item_events(op, item, DS_LIST_HISTORY, t_event,
                                 seen->items)
         : ds_op_item_events(op, item, DS_LIST_HISTORY, t_event, seen->items);

    if (rc == DS_OK) {
        strcat(seen->items, "--\n");

        rc = seen->pg
             ? dsi_pg_op_item_events(op, item, DS_LIST_MESSAGES, t_event,
                                     seen->items)
             : ds_op_item_events(op, item, DS_LIST_MESSAGES, t_event,
                                 seen->items);
    }

    return rc != DS_OK;
}


/* one op on LMDB: a write in a batch of its own, or a read */

static void
t_lmdb(ds_op_t *op, t_seen_t *seen)
{
    op->data = seen;
    op->done = t_lmdb_done;
    op->next = NULL;

    if (op->type == DS_OP_STATUS || op->type == DS_OP_LIST) {
        (void) ds_op_read(t_env, op);

    } else {
        (void) ds_op_batch(t_env, op);
    }
}


static dsi_pg_step_e
t_drive(dsi_pg_conn_t *c)
{
    int            polls;
    short          events;
    unsigned       wants;
    dsi_pg_step_e  st;
    struct pollfd  pfd;

    for (polls = 0; polls < 600; polls++) {
        st = dsi_pg_conn_step(c);

        if (st != DSI_PG_WAIT) {
            return st;
        }

        wants = dsi_pg_conn_wants(c);
        events = (wants & DSI_PG_WANT_READ ? POLLIN : 0)
                 | (wants & DSI_PG_WANT_WRITE ? POLLOUT : 0);

        pfd.fd = dsi_pg_conn_fd(c);
        pfd.events = events;
        pfd.revents = 0;

        (void) poll(&pfd, 1, 100);
    }

    return DSI_PG_WAIT;
}


/* the events a front end was handed, kept to be read after the call */

typedef struct {
    ds_str_t            ev[64];
    size_t              n;
} t_held_t;


static int
t_hold(void *data, uint64_t seq, ds_str_t ev)
{
    t_held_t  *h;

    (void) seq;

    h = data;

    if (h->n < 64) {
        h->ev[h->n++] = ev;
    }

    return 0;
}


/*
 * A history's events stay valid until the answer is done with, as the
 * module renders them after it has collected them all
 */

static void
t_kept(const PGresult *res, const char *history)
{
    char           *text;
    size_t          i;
    t_held_t        held;
    dsi_pg_keep_t  *keep;

    text = calloc(1, T_BUF);
    if (text == NULL) {
        abort();
    }

    keep = NULL;
    held.n = 0;

    T(dsi_pg_op_history(res, t_hold, &held, &keep) == DS_OK);

    for (i = 0; i < held.n; i++) {
        (void) t_event(text, 0, held.ev[i]);
    }

    dsi_pg_keep_free(&keep);

    t_check(strcmp(text, history) == 0, __LINE__,
            "a history's events stay valid after the read");
    free(text);
}


/* the same op on PostgreSQL: a write in a transaction of its own */

static void
t_pg_op(ds_op_t *op, t_seen_t *seen)
{
    int             rc, read;
    ds_instance_t   inst;
    dsi_pg_call_t   call;

    rc = dsi_pg_op_call(op, &call);

    if (rc != DS_OK) {
        op->rc = rc;
        dsi_pg_call_free(&call);
        return;
    }

    read = op->type == DS_OP_STATUS || op->type == DS_OP_LIST;

    T(dsi_pg_conn_send(t_pg, &call.stmt, 1, !read) == 0);
    T(t_drive(t_pg) == DSI_PG_READY);
    T(read || dsi_pg_conn_committed(t_pg));

    rc = dsi_pg_op_answer(op, dsi_pg_conn_result(t_pg, 0), &inst);
    T(rc == DS_OK);

    if (rc != DS_OK) {
        printf("# %s\n",
               PQresultErrorMessage(dsi_pg_conn_result(t_pg, 0)));
    }

    if (op->type == DS_OP_STATUS && op->rc == DS_OK) {
        t_keep(seen, op->out.status.inst);
        T(dsi_pg_op_history(dsi_pg_conn_result(t_pg, 0), t_event,
                            seen->history, NULL) == DS_OK);
        t_kept(dsi_pg_conn_result(t_pg, 0), seen->history);
    }

    dsi_pg_conn_release(t_pg);
    dsi_pg_call_free(&call);
}


/*
 * Runs op on both and compares; op is filled by the caller, its outputs
 * are compared by type
 */

static void
t_both(int line, ds_op_t *op)
{
    int        ok;
    char       ltoken[DS_TOKEN_MAX], ptoken[DS_TOKEN_MAX];
    ds_op_t    lop, pop;
    t_seen_t  *ls, *ps;

    ls = calloc(1, sizeof(t_seen_t));
    ps = calloc(1, sizeof(t_seen_t));

    if (ls == NULL || ps == NULL) {
        abort();
    }

    lop = *op;
    pop = *op;

    ps->pg = 1;

    if (op->type == DS_OP_WORK_CLAIM) {
        lop.in.claim.item = t_claim_item;
        lop.in.claim.item_data = ls;
        pop.in.claim.item = t_claim_item;
        pop.in.claim.item_data = ps;
    }

    if (op->type == DS_OP_LIST) {
        lop.in.list.item = t_list_item;
        lop.in.list.item_data = ls->ids;
        lop.in.list.token = ltoken;
        pop.in.list.item = t_list_item;
        pop.in.list.item_data = ps->ids;
        pop.in.list.token = ptoken;
    }

    t_lmdb(&lop, ls);
    t_pg_op(&pop, ps);

    ok = lop.rc == pop.rc;

    switch (op->type) {

    case DS_OP_START:
        ok = ok && (lop.rc != DS_CONFLICT
                    || lop.out.start.status == pop.out.start.status);
        break;

    case DS_OP_PURGE:
        ok = ok && (lop.rc == DS_NOTFOUND
                    || lop.out.control.status == pop.out.control.status)
             && lop.out.control.purged == pop.out.control.purged;
        break;

    case DS_OP_PURGE_BATCH:
        ok = ok && lop.out.purge.deleted == pop.out.purge.deleted
             && lop.out.purge.more == pop.out.purge.more;
        break;

    case DS_OP_STATUS:
        ps->pg = 0;
        ok = ok && memcmp(ls, ps, sizeof(t_seen_t)) == 0;
        break;

    case DS_OP_LIST:
        ok = ok && strcmp(ls->ids, ps->ids) == 0
             && (lop.out.list.token_len == 0)
                == (pop.out.list.token_len == 0);
        break;

    case DS_OP_WORK_CLAIM:
        ok = ok && lop.out.claim.claimed == pop.out.claim.claimed
             && strcmp(ls->items, ps->items) == 0
             && (lop.out.claim.visible == INT64_MAX)
                == (pop.out.claim.visible == INT64_MAX);
        break;

    case DS_OP_WORK_COMPLETE:
        ok = ok && (lop.rc != DS_OK
                    || op->in.work.kind != DS_WORK_ORCHESTRATION
                    || (lop.out.work.status == pop.out.work.status
                        && lop.out.work.changed == pop.out.work.changed));
        break;

    case DS_OP_WORK_RENEW:
        /* each on its own clock: the lease from now, within a minute */
        ok = ok && (lop.rc != DS_OK
                    || (lop.out.work.expires - ds_time_now()
                        > op->in.work.lease_us - 60000000
                        && pop.out.work.expires > 0));
        break;

    default:
        break;
    }

    t_check(ok, line, "the same answer from both backends");

    if (!ok) {
        printf("#   type %d: rc %d and %d\n", op->type, lop.rc, pop.rc);
        printf("#   work: status %d and %d, changed %d and %d\n",
               (int) lop.out.work.status, (int) pop.out.work.status,
               lop.out.work.changed, pop.out.work.changed);
        printf("#   items:\n%s#   and:\n%s", ls->items, ps->items);
        printf("#   lmdb: %s|%s|%s|%d|%d\n%s#   pg:   %s|%s|%s|%d|%d\n%s",
               ls->ids, ls->name, ls->output, (int) ls->status,
               (int) ls->inbox_seq, ls->history, ps->ids, ps->name,
               ps->output, (int) ps->status, (int) ps->inbox_seq,
               ps->history);
    }

    free(ls);
    free(ps);
}


/* the inbox of id on both backends, Timestamps blanked, must agree */

static void
t_inbox(int line, const char *id)
{
    int              i, ok;
    char            *l, *p;
    ds_txn_t        *txn;
    PGresult        *res;
    dsi_pg_stmt_t    stmt;
    const char      *params[2];

    l = calloc(1, T_BUF);
    p = calloc(1, T_BUF);

    if (l == NULL || p == NULL) {
        abort();
    }

    T(ds_txn_begin(t_env, NULL, 0, &txn) == DS_OK);
    T(ds_inbox_read(txn, t_s(t_hub), t_s(id), t_event, l) == DS_OK);
    ds_txn_abort(txn);

    params[0] = t_hub;
    params[1] = id;
    stmt.sql = "SELECT message FROM durable.inbox "
               "WHERE hub = $1 AND id = $2 ORDER BY seq";
    stmt.nparams = 2;
    stmt.values = params;

    T(dsi_pg_conn_send(t_pg, &stmt, 1, 0) == 0);
    T(t_drive(t_pg) == DSI_PG_READY);

    res = dsi_pg_conn_result(t_pg, 0);
    T(PQresultStatus(res) == PGRES_TUPLES_OK);

    for (i = 0; i < PQntuples(res); i++) {
        (void) t_event(p, 0, t_s(PQgetvalue(res, i, 0)));
    }

    dsi_pg_conn_release(t_pg);

    ok = l[0] != '\0' && strcmp(l, p) == 0;
    t_check(ok, line, "the same inbox on both backends");

    if (!ok) {
        printf("#   lmdb:\n%s#   pg:\n%s", l, p);
    }

    free(l);
    free(p);
}


static ds_op_t *
t_op(ds_op_type_e type, const char *id, const char *name,
    const char *data)
{
    static ds_op_t  op;

    memset(&op, 0, sizeof(ds_op_t));
    op.type = type;
    op.hub = t_s(t_hub);

    if (type == DS_OP_START) {
        op.in.start.id = t_s(id);
        op.in.start.name = t_s(name);
        op.in.start.input = t_s(data);

    } else {
        op.in.control.id = t_s(id);
        op.in.control.name = t_s(name);
        op.in.control.data = t_s(data);
    }

    return &op;
}


static void
t_script(void)
{
    char        longname[300];
    ds_op_t    *op;
    ds_query_t  q;

    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';

    t_both(__LINE__, t_op(DS_OP_START, "a1", "Hello",
                          "{\"x\":[1,\"\\u00e9\"]}"));
    t_both(__LINE__, t_op(DS_OP_START, "a1", "Hello", NULL));
    t_both(__LINE__, t_op(DS_OP_START, "a9", longname, NULL));
    t_both(__LINE__, t_op(DS_OP_STATUS, "a1", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_RAISE_EVENT, "a1", "go \"now\"", "2"));
    t_both(__LINE__, t_op(DS_OP_RAISE_EVENT, "zz", "go", NULL));
    t_both(__LINE__, t_op(DS_OP_RAISE_EVENT, "a1", longname, NULL));
    t_inbox(__LINE__, "a1");
    t_both(__LINE__, t_op(DS_OP_SUSPEND, "a1", NULL, "\"nap\""));
    t_both(__LINE__, t_op(DS_OP_SUSPEND, "a1", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_STATUS, "a1", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_RESUME, "a1", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_RESUME, "a1", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_PURGE, "a1", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_TERMINATE, "a1", NULL, "\"bye\""));
    t_both(__LINE__, t_op(DS_OP_TERMINATE, "a1", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_RAISE_EVENT, "a1", "late", NULL));
    t_both(__LINE__, t_op(DS_OP_STATUS, "a1", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_START, "a1", "Again", NULL));
    t_both(__LINE__, t_op(DS_OP_STATUS, "a1", NULL, NULL));
    t_inbox(__LINE__, "a1");
    t_both(__LINE__, t_op(DS_OP_START, "a2", "Two", NULL));
    t_both(__LINE__, t_op(DS_OP_START, "b3", "Three", NULL));
    t_both(__LINE__, t_op(DS_OP_TERMINATE, "a1", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_TERMINATE, "a2", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_SUSPEND, "zz", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_STATUS, "zz", NULL, NULL));

    /* ids the keys cannot hold: empty, over 256 bytes */
    t_both(__LINE__, t_op(DS_OP_STATUS, "", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_RAISE_EVENT, longname, "e", NULL));
    t_both(__LINE__, t_op(DS_OP_TERMINATE, longname, NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_SUSPEND, "", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_PURGE, longname, NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_START, longname, "N", NULL));

    /* lists: pages of 2, a prefix, a status */
    memset(&q, 0, sizeof(ds_query_t));
    q.top = 2;
    op = t_op(DS_OP_LIST, NULL, NULL, NULL);
    op->in.list.query = &q;
    t_both(__LINE__, op);

    q.top = 5;
    q.id_prefix = t_s("a");
    op = t_op(DS_OP_LIST, NULL, NULL, NULL);
    op->in.list.query = &q;
    t_both(__LINE__, op);

    q.id_prefix = t_s(NULL);
    q.status_mask = DS_STATUS_MASK(DS_PENDING);
    op = t_op(DS_OP_LIST, NULL, NULL, NULL);
    op->in.list.query = &q;
    t_both(__LINE__, op);

    q.status_mask = 1u << 12;
    op = t_op(DS_OP_LIST, NULL, NULL, NULL);
    op->in.list.query = &q;
    t_both(__LINE__, op);

    q.status_mask = 0;
    q.token = t_s("not*a*token");
    op = t_op(DS_OP_LIST, NULL, NULL, NULL);
    op->in.list.query = &q;
    t_both(__LINE__, op);

    /* purges by filter, one at a time, then nothing left */
    memset(&q, 0, sizeof(ds_query_t));
    op = t_op(DS_OP_PURGE_BATCH, NULL, NULL, NULL);
    op->in.purge.query = &q;
    op->in.purge.max = 1;
    t_both(__LINE__, op);
    t_both(__LINE__, op);
    t_both(__LINE__, op);

    q.status_mask = 1u << 12;
    t_both(__LINE__, op);

    t_both(__LINE__, t_op(DS_OP_PURGE, "b3", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_PURGE, "a1", NULL, NULL));
}


/* claims, renewals and abandons of orchestrations, by name and not */

static void
t_claims(void)
{
    size_t             i;
    uint8_t            tokens[3 * DS_LEASE_LEN], zero[DS_LEASE_LEN];
    ds_op_t           *op;
    ds_str_t           b;
    ds_claim_filter_t  filter;

    for (i = 0; i < sizeof(tokens); i++) {
        tokens[i] = (uint8_t) (i / DS_LEASE_LEN + 1);
    }

    memset(zero, 0, sizeof(zero));

    t_both(__LINE__, t_op(DS_OP_START, "c1", "A", "[1]"));
    t_both(__LINE__, t_op(DS_OP_START, "c2", "B", NULL));
    t_both(__LINE__, t_op(DS_OP_RAISE_EVENT, "c1", "e", "{}"));

    /* by name: c2 only */
    memset(&filter, 0, sizeof(ds_claim_filter_t));
    b = t_s("B");
    filter.names = &b;
    filter.nnames = 1;

    op = t_op(DS_OP_WORK_CLAIM, NULL, NULL, NULL);
    op->in.claim.kind = DS_WORK_ORCHESTRATION;
    op->in.claim.lease_us = 60000000;
    op->in.claim.max = 1;
    op->in.claim.tokens = tokens;
    op->in.claim.filter = &filter;
    t_both(__LINE__, op);

    /* any name: c1, with both its messages; then nothing is left */
    op = t_op(DS_OP_WORK_CLAIM, NULL, NULL, NULL);
    op->in.claim.kind = DS_WORK_ORCHESTRATION;
    op->in.claim.lease_us = 60000000;
    op->in.claim.max = 2;
    op->in.claim.tokens = tokens + DS_LEASE_LEN;
    t_both(__LINE__, op);
    t_both(__LINE__, op);

    /* renew: the token held, another, none, no instance */
    op = t_op(DS_OP_WORK_RENEW, NULL, NULL, NULL);
    op->in.work.kind = DS_WORK_ORCHESTRATION;
    op->in.work.id = t_s("c1");
    op->in.work.lease = tokens + DS_LEASE_LEN;
    op->in.work.lease_us = 120000000;
    t_both(__LINE__, op);
    op->in.work.lease = tokens;
    t_both(__LINE__, op);
    op->in.work.lease = zero;
    t_both(__LINE__, op);
    op->in.work.id = t_s("nope");
    t_both(__LINE__, op);

    /* abandon: then c1 is claimable at once, again with both messages */
    op = t_op(DS_OP_WORK_ABANDON, NULL, NULL, NULL);
    op->in.work.kind = DS_WORK_ORCHESTRATION;
    op->in.work.id = t_s("c1");
    op->in.work.lease = tokens + DS_LEASE_LEN;
    t_both(__LINE__, op);
    t_both(__LINE__, op);

    op = t_op(DS_OP_WORK_CLAIM, NULL, NULL, NULL);
    op->in.claim.kind = DS_WORK_ORCHESTRATION;
    op->in.claim.lease_us = 60000000;
    op->in.claim.max = 1;
    op->in.claim.tokens = tokens + 2 * DS_LEASE_LEN;
    t_both(__LINE__, op);

    /* terminated: its lease is void */
    t_both(__LINE__, t_op(DS_OP_TERMINATE, "c2", NULL, NULL));

    op = t_op(DS_OP_WORK_ABANDON, NULL, NULL, NULL);
    op->in.work.kind = DS_WORK_ORCHESTRATION;
    op->in.work.id = t_s("c2");
    op->in.work.lease = tokens;
    t_both(__LINE__, op);

    /* an all-zero token is no lease */
    op = t_op(DS_OP_WORK_CLAIM, NULL, NULL, NULL);
    op->in.claim.kind = DS_WORK_ORCHESTRATION;
    op->in.claim.lease_us = 60000000;
    op->in.claim.max = 1;
    op->in.claim.tokens = zero;
    t_both(__LINE__, op);
}


/*
 * Every page of a list on each backend, each following its own tokens:
 * the same ids, the same number of pages
 */

static void
t_pages(int line, size_t top, size_t budget, const char *prefix)
{
    int          pg, pages[2];
    char        *ids[2], token[DS_TOKEN_MAX], next[DS_TOKEN_MAX];
    t_seen_t    *seen;
    ds_op_t      op;
    ds_query_t   q;

    for (pg = 0; pg < 2; pg++) {
        ids[pg] = calloc(1, T_BUF);
        seen = calloc(1, sizeof(t_seen_t));

        if (ids[pg] == NULL || seen == NULL) {
            abort();
        }

        memset(&q, 0, sizeof(ds_query_t));
        q.top = top;
        q.scan_budget = budget;
        q.id_prefix = t_s(prefix);
        pages[pg] = 0;

        do {
            memset(&op, 0, sizeof(ds_op_t));
            op.type = DS_OP_LIST;
            op.hub = t_s("hub");
            op.in.list.query = &q;
            op.in.list.item = t_list_item;
            op.in.list.item_data = ids[pg];
            op.in.list.token = next;

            if (pg) {
                seen->pg = 1;
                t_pg_op(&op, seen);

            } else {
                t_lmdb(&op, seen);
            }

            T(op.rc == DS_OK);
            strcat(ids[pg], "| ");
            memcpy(token, next, op.out.list.token_len);
            q.token.data = token;
            q.token.len = op.out.list.token_len;
            pages[pg]++;

        } while (op.rc == DS_OK && op.out.list.token_len && pages[pg] < 50);

        free(seen);
    }

    t_check(pages[0] == pages[1] && strcmp(ids[0], ids[1]) == 0, line,
            "the same pages from both backends");

    if (pages[0] != pages[1] || strcmp(ids[0], ids[1]) != 0) {
        printf("#   lmdb %d: %s\n#   pg %d:   %s\n", pages[0], ids[0],
               pages[1], ids[1]);
    }

    free(ids[0]);
    free(ids[1]);
}


/* the token after (created, id): LMDB's list, PostgreSQL's encoder */

static void
t_token(void)
{
    int             rc;
    char            token[DS_TOKEN_MAX], ids[64];
    size_t          len;
    ds_txn_t       *txn;
    ds_query_t      q;
    ds_instance_t   inst;
    dsi_pg_stmt_t   stmt;

    static const char *const  params[] = {
        "-1520690251123456", "t\xc3\xa9-1"
    };

    T(ds_txn_begin(t_env, NULL, 1, &txn) == DS_OK);

    memset(&inst, 0, sizeof(ds_instance_t));
    inst.status = DS_COMPLETED;
    inst.name = t_s("N");
    inst.created = -1520690251123456LL;
    T(ds_instance_put(txn, t_s("tok"), t_s("t\xc3\xa9-1"), &inst)
      == DS_OK);
    inst.created = 1;
    T(ds_instance_put(txn, t_s("tok"), t_s("t2"), &inst) == DS_OK);

    memset(&q, 0, sizeof(ds_query_t));
    q.top = 1;
    ids[0] = '\0';
    len = 0;
    rc = ds_instance_list(txn, t_s("tok"), &q, t_list_item, ids, token,
                          &len);
    T(rc == DS_OK && len > 0);
    ds_txn_abort(txn);

    stmt.sql = "SELECT durable.token_encode($1, $2)";
    stmt.nparams = 2;
    stmt.values = params;

    T(dsi_pg_conn_send(t_pg, &stmt, 1, 0) == 0);
    T(t_drive(t_pg) == DSI_PG_READY);
    T(PQresultStatus(dsi_pg_conn_result(t_pg, 0)) == PGRES_TUPLES_OK);
    T((size_t) PQgetlength(dsi_pg_conn_result(t_pg, 0), 0, 0) == len
      && memcmp(PQgetvalue(dsi_pg_conn_result(t_pg, 0), 0, 0), token, len)
         == 0);
    dsi_pg_conn_release(t_pg);
}


/* a claim of max items of kind with the tokens given */

static void
t_claim(int line, ds_work_kind_e kind, size_t max, const uint8_t *tokens,
    const char *name)
{
    ds_op_t            *op;
    ds_str_t            names;
    ds_claim_filter_t   filter;

    memset(&filter, 0, sizeof(ds_claim_filter_t));
    names = t_s(name);
    filter.names = &names;
    filter.nnames = 1;

    op = t_op(DS_OP_WORK_CLAIM, NULL, NULL, NULL);
    op->in.claim.kind = kind;
    op->in.claim.lease_us = 60000000;
    op->in.claim.max = max;
    op->in.claim.tokens = tokens;
    op->in.claim.filter = name ? &filter : NULL;
    t_both(line, op);
}


static void
t_complete(int line, const char *id, const uint8_t *lease,
    const ds_action_t *a, size_t n)
{
    ds_op_t  *op;

    op = t_op(DS_OP_WORK_COMPLETE, NULL, NULL, NULL);
    op->in.work.kind = DS_WORK_ORCHESTRATION;
    op->in.work.id = t_s(id);
    op->in.work.lease = lease;
    op->in.work.actions = a;
    op->in.work.nactions = n;
    t_both(line, op);
}


static void
t_activity(int line, ds_op_type_e type, const char *id, int64_t task,
    const uint8_t *lease, int failed, const char *result)
{
    ds_op_t  *op;

    op = t_op(type, NULL, NULL, NULL);
    op->in.work.kind = DS_WORK_ACTIVITY;
    op->in.work.id = t_s(id);
    op->in.work.task = task;
    op->in.work.lease = lease;
    op->in.work.lease_us = 60000000;
    op->in.work.failed = failed;
    op->in.work.result = t_s(failed ? NULL : result);
    op->in.work.reason = t_s(failed ? result : NULL);
    op->in.work.details = t_s(failed ? "{\"at\":\"x\\\"y\"}" : NULL);
    t_both(line, op);
}


/*
 * Orchestration completions with every action they may carry, and the
 * activities they schedule: claimed, renewed, abandoned, completed
 */

static void
t_work(void)
{
    size_t       i;
    uint8_t      tk[12 * DS_LEASE_LEN], zero[DS_LEASE_LEN];
    ds_str_t     carry;
    ds_action_t  a[8];

    for (i = 0; i < sizeof(tk); i++) {
        tk[i] = (uint8_t) (0x40 + i / DS_LEASE_LEN);
    }

    memset(zero, 0, sizeof(zero));

    /* a hub of its own: no item of the scripts before is claimed here */
    t_hub = "work";

    t_both(__LINE__, t_op(DS_OP_START, "w\"1", "Or\"ch", "{\"n\":1}"));
    t_both(__LINE__, t_op(DS_OP_START, "busy", "Busy", NULL));
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk, "Or\"ch");

    /* an episode with every kind of action the backend serves */
    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_SCHEDULE_ACTIVITY;
    a[0].id = 0;
    a[0].name = t_s("Say \"hi\"");
    a[0].input = t_s("[1,\"a\\\"b\"]");
    a[1].type = DS_ACT_CREATE_TIMER;
    a[1].id = 1;
    a[1].fire_at = 4102444800123456LL;
    a[2].type = DS_ACT_START_SUB;
    a[2].id = 2;
    a[2].name = t_s("Child");
    a[2].input = t_s("{\"c\":true}");
    a[3].type = DS_ACT_START_SUB;
    a[3].id = 3;
    a[3].name = t_s("Child");
    a[3].instance_id = t_s("busy");
    a[4].type = DS_ACT_RAISE_EVENT;
    a[4].instance_id = t_s("nobody");
    a[4].name = t_s("lost");
    a[5].type = DS_ACT_RAISE_EVENT;
    a[5].instance_id = t_s("w\"1");
    a[5].name = t_s("self");
    a[5].input = t_s("7");
    a[6].type = DS_ACT_SET_CUSTOM_STATUS;
    a[6].input = t_s("\"half\"");

    /* not the lease; then the lease; again; another body under it */
    t_complete(__LINE__, "w\"1", tk + DS_LEASE_LEN, a, 7);
    t_complete(__LINE__, "w\"1", zero, a, 7);
    t_complete(__LINE__, "w\"1", tk, a, 7);
    t_complete(__LINE__, "w\"1", tk, a, 7);
    t_complete(__LINE__, "w\"1", tk, a, 6);
    t_complete(__LINE__, "nobody", tk, a, 7);
    t_both(__LINE__, t_op(DS_OP_STATUS, "w\"1", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_STATUS, "w\"1:2", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_STATUS, "busy", NULL, NULL));
    t_inbox(__LINE__, "w\"1");
    t_inbox(__LINE__, "w\"1:2");

    /* the activity: claimed, renewed, abandoned, claimed again */
    t_claim(__LINE__, DS_WORK_ACTIVITY, 2, tk + DS_LEASE_LEN, NULL);
    t_claim(__LINE__, DS_WORK_ACTIVITY, 1, tk + 2 * DS_LEASE_LEN, NULL);
    t_activity(__LINE__, DS_OP_WORK_RENEW, "w\"1", 0, tk + DS_LEASE_LEN, 0,
               NULL);
    t_activity(__LINE__, DS_OP_WORK_RENEW, "w\"1", 0, tk, 0, NULL);
    t_activity(__LINE__, DS_OP_WORK_RENEW, "w\"1", 5, tk, 0, NULL);
    t_activity(__LINE__, DS_OP_WORK_RENEW, "w\"1", -1, tk, 0, NULL);
    t_activity(__LINE__, DS_OP_WORK_ABANDON, "w\"1", 0, tk, 0, NULL);
    t_activity(__LINE__, DS_OP_WORK_ABANDON, "w\"1", 0, tk + DS_LEASE_LEN,
               0, NULL);
    t_activity(__LINE__, DS_OP_WORK_ABANDON, "w\"1", 0, tk + DS_LEASE_LEN,
               0, NULL);
    t_claim(__LINE__, DS_WORK_ACTIVITY, 1, tk + 3 * DS_LEASE_LEN,
            "Say \"hi\"");

    /* completed: the old lease, then the current one, a retry, another */
    t_activity(__LINE__, DS_OP_WORK_COMPLETE, "w\"1", 0, tk + DS_LEASE_LEN,
               0, "42");
    t_activity(__LINE__, DS_OP_WORK_COMPLETE, "w\"1", 0,
               tk + 3 * DS_LEASE_LEN, 0, "{\"r\":\"\\u00e9\"}");
    t_activity(__LINE__, DS_OP_WORK_COMPLETE, "w\"1", 0,
               tk + 3 * DS_LEASE_LEN, 0, "{\"r\":\"\\u00e9\"}");
    t_activity(__LINE__, DS_OP_WORK_COMPLETE, "w\"1", 0,
               tk + 3 * DS_LEASE_LEN, 1, "\"no\"");
    t_activity(__LINE__, DS_OP_WORK_RENEW, "w\"1", 0, tk + 3 * DS_LEASE_LEN,
               0, NULL);
    t_activity(__LINE__, DS_OP_WORK_COMPLETE, "w\"1", 9,
               tk + 3 * DS_LEASE_LEN, 0, NULL);
    t_inbox(__LINE__, "w\"1");

    /* the child: claimed (the parent's lease held still), completed */
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + 4 * DS_LEASE_LEN,
            "Or\"ch");
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + 5 * DS_LEASE_LEN,
            "Child");
    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_COMPLETE;
    a[0].input = t_s("\"done\"");
    t_complete(__LINE__, "w\"1:2", tk + 5 * DS_LEASE_LEN, a, 1);
    t_complete(__LINE__, "w\"1:2", tk + 5 * DS_LEASE_LEN, a, 1);
    t_both(__LINE__, t_op(DS_OP_STATUS, "w\"1:2", NULL, NULL));
    t_inbox(__LINE__, "w\"1");

    /* the parent continues as new; messages arrived meanwhile */
    t_both(__LINE__, t_op(DS_OP_RAISE_EVENT, "w\"1", "later", "\"l\""));
    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_SCHEDULE_ACTIVITY;
    a[0].id = 4;
    a[0].name = t_s("Moot");
    carry = t_s("{\"EventType\":\"EventRaised\",\"Name\":\"kept\"}");
    a[1].type = DS_ACT_CONTINUE_AS_NEW;
    a[1].input = t_s("{\"n\":2}");
    a[1].carryover = &carry;
    a[1].ncarryover = 1;
    t_complete(__LINE__, "w\"1", tk + 4 * DS_LEASE_LEN, a, 2);
    t_both(__LINE__, t_op(DS_OP_STATUS, "w\"1", NULL, NULL));
    t_inbox(__LINE__, "w\"1");
    t_claim(__LINE__, DS_WORK_ACTIVITY, 1, tk + 7 * DS_LEASE_LEN, NULL);

    /* bad actions under a live lease; then it fails */
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + 8 * DS_LEASE_LEN,
            "Or\"ch");
    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_COMPLETE;
    a[1].type = DS_ACT_CREATE_TIMER;
    t_complete(__LINE__, "w\"1", tk + 8 * DS_LEASE_LEN, a, 2);
    t_complete(__LINE__, "w\"1", tk + 7 * DS_LEASE_LEN, a, 2);
    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_CREATE_TIMER;
    a[0].id = 5;
    a[0].fire_at = 1;
    a[1].type = DS_ACT_FAIL;
    a[1].reason = t_s("\"bad \\\"luck\\\"\"");
    a[1].details = t_s("{\"stack\":[1,2]}");
    t_complete(__LINE__, "w\"1", tk + 8 * DS_LEASE_LEN, a, 2);
    t_complete(__LINE__, "w\"1", tk + 8 * DS_LEASE_LEN, a, 2);
    t_both(__LINE__, t_op(DS_OP_STATUS, "w\"1", NULL, NULL));

    /* terminated under its lease: the completion is moot */
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + 9 * DS_LEASE_LEN,
            "Busy");
    t_both(__LINE__, t_op(DS_OP_TERMINATE, "busy", NULL, NULL));
    t_complete(__LINE__, "busy", tk + 9 * DS_LEASE_LEN, a, 0);
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + 10 * DS_LEASE_LEN,
            NULL);

    t_hub = "hub";
}


/* a start with options */

static void
t_start(int line, const char *id, const char *version, const char *tags,
    int64_t scheduled, unsigned replace)
{
    ds_op_t  *op;

    op = t_op(DS_OP_START, id, "Versioned", "[3]");
    op->in.start.opts.version = t_s(version);
    op->in.start.opts.tags = t_s(tags);
    op->in.start.opts.scheduled = scheduled;
    op->in.start.opts.replace = replace;
    t_both(line, op);
}


/*
 * What a start may carry (version, tags, a time, an id reuse policy), a
 * child's version and tags, a new execution's version, a failure's
 * details
 */

static void
t_opts(void)
{
    char         longname[300];
    size_t       i;
    uint8_t      tk[6 * DS_LEASE_LEN];
    ds_action_t  a[2];

    for (i = 0; i < sizeof(tk); i++) {
        tk[i] = (uint8_t) (0x80 + i / DS_LEASE_LEN);
    }

    memset(longname, 'v', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';

    t_hub = "opts";

    t_start(__LINE__, "v1", "1.0\"x", "{\"a\":\"b\\n\"}", 0, 0);
    t_both(__LINE__, t_op(DS_OP_STATUS, "v1", NULL, NULL));
    t_inbox(__LINE__, "v1");

    /* id reuse: Pending is not in the policy, then it is */
    t_start(__LINE__, "v1", NULL, NULL, 0, DS_STATUS_MASK(DS_COMPLETED));
    t_start(__LINE__, "v1", "1.0\"x", NULL, 0,
            DS_STATUS_MASK(DS_PENDING) | DS_STATUS_MASK(DS_RUNNING));
    t_both(__LINE__, t_op(DS_OP_STATUS, "v1", NULL, NULL));
    t_inbox(__LINE__, "v1");
    t_start(__LINE__, "v1", NULL, NULL, 0, 1u << 12);

    /* for later; bad tags, a version too long */
    t_start(__LINE__, "v2", NULL, NULL, 4102444800000001LL, 0);
    t_both(__LINE__, t_op(DS_OP_STATUS, "v2", NULL, NULL));
    t_inbox(__LINE__, "v2");
    t_start(__LINE__, "v3", NULL, "[1]", 0, 0);
    t_start(__LINE__, "v3", longname, NULL, 0, 0);

    /* a child with a version and tags of its own */
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk, "Versioned");
    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_START_SUB;
    a[0].id = 0;
    a[0].name = t_s("Kid");
    a[0].instance_id = t_s("v1c");
    a[0].version = t_s("2");
    a[0].tags = t_s("{\"t\":\"u\"}");
    t_complete(__LINE__, "v1", tk, a, 1);
    t_both(__LINE__, t_op(DS_OP_STATUS, "v1", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_STATUS, "v1c", NULL, NULL));
    t_inbox(__LINE__, "v1c");

    /* the child continues as new with a version; then fails */
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + DS_LEASE_LEN, "Kid");
    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_CONTINUE_AS_NEW;
    a[0].input = t_s("9");
    a[0].version = t_s("3\\\\");
    t_complete(__LINE__, "v1c", tk + DS_LEASE_LEN, a, 1);
    t_both(__LINE__, t_op(DS_OP_STATUS, "v1c", NULL, NULL));
    t_inbox(__LINE__, "v1c");

    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + 2 * DS_LEASE_LEN,
            "Kid");
    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_FAIL;
    a[0].reason = t_s("\"oops\"");
    a[0].details = t_s("{\"d\":1}");
    t_complete(__LINE__, "v1c", tk + 2 * DS_LEASE_LEN, a, 1);
    t_both(__LINE__, t_op(DS_OP_STATUS, "v1c", NULL, NULL));
    t_inbox(__LINE__, "v1");

    t_hub = "hub";
}


/*
 * A completion that took only some of the messages (gRPC's
 * numEventsProcessed) and terminates other instances
 */

static void
t_partial(void)
{
    size_t       i;
    uint8_t      tk[2 * DS_LEASE_LEN];
    ds_op_t     *op;
    ds_action_t  a[2];

    for (i = 0; i < sizeof(tk); i++) {
        tk[i] = (uint8_t) (0xc0 + i / DS_LEASE_LEN);
    }

    t_hub = "partial";

    t_both(__LINE__, t_op(DS_OP_START, "p1", "P", NULL));
    t_both(__LINE__, t_op(DS_OP_START, "p2", "Q", NULL));
    t_both(__LINE__, t_op(DS_OP_RAISE_EVENT, "p1", "one", "1"));
    t_both(__LINE__, t_op(DS_OP_RAISE_EVENT, "p1", "two", "2"));
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk, "P");

    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_TERMINATE;
    a[0].instance_id = t_s("p2");
    a[0].input = t_s("\"stop\"");
    a[1].type = DS_ACT_TERMINATE;
    a[1].instance_id = t_s("nobody");

    op = t_op(DS_OP_WORK_COMPLETE, NULL, NULL, NULL);
    op->in.work.kind = DS_WORK_ORCHESTRATION;
    op->in.work.id = t_s("p1");
    op->in.work.lease = tk;
    op->in.work.actions = a;
    op->in.work.nactions = 2;
    op->in.work.partial = 1;
    op->in.work.processed = 2;
    t_both(__LINE__, op);
    t_both(__LINE__, op);

    /* another count of messages is another completion */
    op->in.work.processed = 3;
    t_both(__LINE__, op);

    t_both(__LINE__, t_op(DS_OP_STATUS, "p1", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_STATUS, "p2", NULL, NULL));
    t_inbox(__LINE__, "p1");

    /* the one left comes in the next episode */
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + DS_LEASE_LEN, "P");

    /* the terminated one purged: one instance */
    t_both(__LINE__, t_op(DS_OP_PURGE, "p2", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_PURGE, "p2", NULL, NULL));

    t_hub = "hub";
}


int
main(int argc, char **argv)
{
    char           err[256], dir[] = "/tmp/t_pg_ops.XXXXXX", path[300];
    ds_env_conf_t  conf;

    if (argc != 2) {
        fprintf(stderr, "usage: t_pg_ops CONNINFO\n");
        return 2;
    }

    alarm(300);

    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }

    memset(&conf, 0, sizeof(ds_env_conf_t));
    conf.path = dir;
    conf.map_size = 64 << 20;
    conf.sync = DS_SYNC_NONE;

    if (ds_env_open(&t_env, &conf, err, sizeof(err)) != DS_OK) {
        fprintf(stderr, "ds_env_open: %s\n", err);
        return 1;
    }

    t_pg = dsi_pg_conn_start(argv[1], err, sizeof(err));
    if (t_pg == NULL || t_drive(t_pg) != DSI_PG_READY) {
        fprintf(stderr, "connect: %s\n",
                t_pg ? dsi_pg_conn_error(t_pg) : err);
        return 1;
    }

    t_script();
    t_claims();

    /* instances c1, c2, b3 remain; then some more */
    t_both(__LINE__, t_op(DS_OP_START, "d4", "N", NULL));
    t_both(__LINE__, t_op(DS_OP_START, "c5", "N", NULL));
    t_both(__LINE__, t_op(DS_OP_START, "d6", "N", NULL));
    t_pages(__LINE__, 1, 0, NULL);
    t_pages(__LINE__, 2, 0, NULL);
    t_pages(__LINE__, 4, 0, "c");
    t_pages(__LINE__, 4, 2, "d");
    t_pages(__LINE__, 10, 1, NULL);

    t_token();
    t_work();
    t_opts();
    t_partial();

    dsi_pg_conn_close(t_pg);
    ds_env_close(t_env);

    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/lock.mdb", dir);
    unlink(path);
    rmdir(dir);

    printf("%s - ds_pg_op against LMDB: %lu passed, %lu failed\n",
           t_failed ? "not ok" : "ok", t_passed, t_failed);

    return t_failed ? 1 : 0;
}
