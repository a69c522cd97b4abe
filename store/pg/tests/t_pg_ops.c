
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

#include "ds_backend.h"
#include "ds_key.h"
#include "ds_pg.h"


#define T_BUF           8192


static unsigned long   t_passed, t_failed;
static const char     *t_hub = "hub";     /* of t_op() and t_inbox() */
static ds_env_t       *t_env;
static dsi_pg_conn_t  *t_pg;
static size_t          t_expired;         /* the last claim's, on LMDB */


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
    char                custom_status[128];
    int                 created;        /* set, not after the last update */
    char                version[64];
    char                tags[64];
    char                failure[64];
    int                 scheduled;      /* scheduled_start != 0 */
    char                history[T_BUF]; /* events, Timestamps blanked */
    char                ids[T_BUF];     /* a list's, space-separated */
    char                items[T_BUF];   /* a claim's, events blanked */
    char                entity[T_BUF];  /* an entity's, or a page of them */
    char                counts[T_BUF];  /* a STATS answer, sorted */
    int                 pg;             /* the backend: 1 PostgreSQL */
} t_seen_t;


static void t_stats_seen(ds_op_t *op, const PGresult *res, t_seen_t *seen);
static PGresult *t_read(const char *sql, int nparams, const char **params);
static int64_t t_pg_now(void);
static int t_created(ds_str_t hub, ds_str_t id, const int64_t *lt,
    const int64_t *pt);


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


/*
 * appends an event with its Timestamp's value left out, and the created
 * time of an entity message's sender (each backend's clock made it)
 */

static int
t_event(void *data, uint64_t seq, ds_str_t ev)
{
    char         *h, *end;
    size_t        len;
    const char   *p, *ts;
    static const char  key[] = "\"Timestamp\":\"";
    static const char  low[] = "\"timestamp\":\"";
    static const char  born[] = "\"parentCreated\":";

    (void) seq;

    h = data;
    len = strlen(h);
    end = h + T_BUF - 2;
    h += len;

    for (p = ev.data; p < ev.data + ev.len && h < end; p++) {
        *h++ = *p;

        ts = p + 1 - (sizeof(key) - 1);

        /* an entity operation's own "timestamp" too */
        if (ts >= ev.data && (memcmp(ts, key, sizeof(key) - 1) == 0
                              || memcmp(ts, low, sizeof(low) - 1) == 0))
        {
            while (p + 1 < ev.data + ev.len && p[1] != '"') {
                p++;
            }
        }

        ts = p + 1 - (sizeof(born) - 1);

        if (ts >= ev.data && memcmp(ts, born, sizeof(born) - 1) == 0) {
            while (p + 1 < ev.data + ev.len && p[1] >= '0' && p[1] <= '9') {
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
    t_copy(seen->custom_status, sizeof(seen->custom_status),
           inst->custom_status);
    seen->created = inst->created > 0 && inst->created <= inst->updated;
    t_copy(seen->version, sizeof(seen->version), inst->version);
    t_copy(seen->tags, sizeof(seen->tags), inst->tags);
    t_copy(seen->failure, sizeof(seen->failure), inst->failure);
    seen->scheduled = inst->scheduled_start != 0;
}


/*
 * An entity as get and list answer it, last_op as whether it is set,
 * added to buf (T_BUF bytes, a t_seen_t's entity or a walk's own)
 */

static void
t_entity_keep(char *buf, const ds_entity_t *e)
{
    char    *p;
    size_t   len;

    p = buf + strlen(buf);
    len = T_BUF - (size_t) (p - buf);

    snprintf(p, len, "%.*s|%.*s|%.*s|%d|%.*s\n", (int) e->name.len,
             e->name.data, (int) e->key.len, e->key.data,
             (int) e->state.len, e->state.data, e->last_op != 0,
             (int) e->locked_by.len, e->locked_by.data);
}


static int
t_entity_item(void *data, const ds_entity_t *e)
{
    t_entity_keep(data, e);

    return 0;
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

    if (op->type == DS_OP_ENTITY_GET && op->rc == DS_OK) {
        t_entity_keep(seen->entity, op->out.entity.entity);
    }

    if (op->type == DS_OP_STATS && op->rc == DS_OK) {
        t_stats_seen(op, NULL, seen);
    }
}


/*
 * A listed instance: its id, status, name, custom status and parent,
 * whether its created time is set and not after its last update (each
 * backend has its own clock), and what a start may carry when it has any
 * (version, tags, whether scheduled, failure details), as the gRPC front
 * end renders a listed instance from them. A list that outgrows the
 * buffer is cut there, alike on both backends.
 */

static int
t_list_item(void *data, ds_str_t id, const ds_instance_t *inst)
{
    char    *ids;
    size_t   len;

    ids = data;
    len = strlen(ids);

    snprintf(ids + len, T_BUF - len, "%.*s(%d|%d|%.*s|%.*s|%.*s)",
             (int) id.len, id.data, (int) inst->status,
             inst->created > 0 && inst->created <= inst->updated,
             (int) inst->name.len, inst->name.data,
             (int) inst->custom_status.len, inst->custom_status.data,
             (int) inst->parent_id.len, inst->parent_id.data);

    if (inst->version.len || inst->tags.len || inst->scheduled_start
        || inst->failure.len)
    {
        len = strlen(ids);
        snprintf(ids + len, T_BUF - len, "{%.*s|%.*s|%d|%.*s}",
                 (int) inst->version.len, inst->version.data,
                 (int) inst->tags.len, inst->tags.data,
                 inst->scheduled_start != 0, (int) inst->failure.len,
                 inst->failure.data);
    }

    len = strlen(ids);
    snprintf(ids + len, T_BUF - len, " ");

    return 0;
}


/*
 * An entity's operations, kept as pointers, with their seqs in the queue:
 * rendered once all are read, as the gRPC front end packs them, so they
 * must stay valid for the whole item callback
 */

#define T_OPS_MAX  16

typedef struct {
    ds_str_t            ev[T_OPS_MAX];
    uint64_t            seq[T_OPS_MAX];
    size_t              n;
} t_ops_t;


static int
t_queued_op(void *data, uint64_t seq, ds_str_t ev)
{
    t_ops_t  *ops;

    ops = data;

    if (ops->n == T_OPS_MAX) {
        return 1;
    }

    ops->ev[ops->n] = ev;
    ops->seq[ops->n++] = seq;

    return 0;
}


/* a claimed item, as a front end renders it, times as durations */

static int
t_claim_item(void *data, ds_op_t *op, const ds_work_item_t *item)
{
    int        rc;
    char      *p;
    size_t     i, len;
    t_ops_t    ops;
    t_seen_t  *seen;

    seen = data;
    p = seen->items + strlen(seen->items);
    len = T_BUF - (size_t) (p - seen->items);

    if (item->kind == DS_WORK_ENTITY) {
        snprintf(p, len, "%.*s %.*s %.*s %.*s upto %llu token %d\n",
                 (int) item->id.len, item->id.data, (int) item->name.len,
                 item->name.data, (int) item->key.len, item->key.data,
                 (int) item->input.len, item->input.data,
                 (unsigned long long) item->upto, item->lease[0]);

        ops.n = 0;
        rc = seen->pg
             ? dsi_pg_op_item_events(op, item, DS_LIST_OPERATIONS,
                                     t_queued_op, &ops)
             : ds_op_item_events(op, item, DS_LIST_OPERATIONS, t_queued_op,
                                 &ops);

        for (i = 0; i < ops.n; i++) {
            len = strlen(seen->items);
            snprintf(seen->items + len, T_BUF - len, "%llu ",
                     (unsigned long long) ops.seq[i]);
            (void) t_event(seen->items, ops.seq[i], ops.ev[i]);
        }

        return rc != DS_OK;
    }

    if (item->kind == DS_WORK_ACTIVITY) {
        /* no clock of the episode: the lease's expiry is each one's own */
        snprintf(p, len, "%.*s task %lld %.*s %.*s exec %llu token %d "
                 "version %d:%.*s tags %d:%.*s\n",
                 (int) item->id.len, item->id.data, (long long) item->task_id,
                 (int) item->name.len, item->name.data,
                 (int) item->input.len, item->input.data,
                 (unsigned long long) item->execution, item->lease[0],
                 (int) item->version.len, (int) item->version.len,
                 item->version.data, (int) item->tags.len,
                 (int) item->tags.len, item->tags.data);
        return 0;
    }

    snprintf(p, len, "%.*s %.*s %.*s exec %llu status %d upto %llu "
             "lease %lld token %d\n", (int) item->id.len, item->id.data,
             (int) item->name.len, item->name.data, (int) item->input.len,
             item->input.data, (unsigned long long) item->execution,
             (int) item->status, (unsigned long long) item->upto,
             (long long) (item->lease_expires - item->timestamp),
             item->lease[0]);

    /* an orchestration has no operations: its claim's answer has none */
    ops.n = 0;
    T(!seen->pg
      || dsi_pg_op_item_events(op, item, DS_LIST_OPERATIONS, t_queued_op,
                               &ops) == DS_INVALID);

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

    if (dsi_op_is_read(op->type)) {
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
    PGresult       *res;
    ds_entity_t     entity;
    ds_instance_t   inst;
    dsi_pg_call_t   call;

    rc = dsi_pg_op_call(op, &call);

    if (rc != DS_OK) {
        op->rc = rc;
        dsi_pg_call_free(&call);
        return;
    }

    read = dsi_op_is_read(op->type);

    T(dsi_pg_conn_send(t_pg, &call.stmt, 1, !read) == 0);
    T(t_drive(t_pg) == DSI_PG_READY);
    T(read || dsi_pg_conn_committed(t_pg));

    res = dsi_pg_conn_result(t_pg, 0);
    rc = dsi_pg_op_answer(op, res, &inst, &entity);
    T(rc == DS_OK);

    if (rc != DS_OK) {
        printf("# %s\n",
               PQresultErrorMessage(dsi_pg_conn_result(t_pg, 0)));
    }

    if (op->type == DS_OP_STATUS && op->rc == DS_OK) {
        t_keep(seen, op->out.status.inst);
        T(dsi_pg_op_history(res, t_event, seen->history, NULL) == DS_OK);
        t_kept(res, seen->history);
    }

    if (op->type == DS_OP_ENTITY_GET && op->rc == DS_OK) {
        t_entity_keep(seen->entity, op->out.entity.entity);
    }

    if (op->type == DS_OP_STATS && op->rc == DS_OK) {
        t_stats_seen(op, dsi_pg_conn_result(t_pg, 0), seen);
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
    int                ok;
    char               ltoken[DS_TOKEN_MAX], ptoken[DS_TOKEN_MAX];
    int64_t            lt[2], pt[2];
    ds_op_t            lop, pop;
    t_seen_t          *ls, *ps;
    ds_claim_filter_t  lfilter, pfilter;

    ls = calloc(1, sizeof(t_seen_t));
    ps = calloc(1, sizeof(t_seen_t));

    if (ls == NULL || ps == NULL) {
        abort();
    }

    lop = *op;
    pop = *op;
    memset(&lfilter, 0, sizeof(ds_claim_filter_t));
    memset(&pfilter, 0, sizeof(ds_claim_filter_t));

    ps->pg = 1;

    if (op->type == DS_OP_WORK_CLAIM) {
        lop.in.claim.item = t_claim_item;
        lop.in.claim.item_data = ls;
        pop.in.claim.item = t_claim_item;
        pop.in.claim.item_data = ps;

        /* each a filter of its own, as the module always passes one */
        if (op->in.claim.filter != NULL) {
            lfilter = *op->in.claim.filter;
            pfilter = *op->in.claim.filter;
        }

        lop.in.claim.filter = &lfilter;
        pop.in.claim.filter = &pfilter;
    }

    if (op->type == DS_OP_ENTITY_LIST) {
        lop.in.entity_list.item = t_entity_item;
        lop.in.entity_list.item_data = ls->entity;
        lop.in.entity_list.token = ltoken;
        pop.in.entity_list.item = t_entity_item;
        pop.in.entity_list.item_data = ps->entity;
        pop.in.entity_list.token = ptoken;
    }

    if (op->type == DS_OP_ENTITY_CLEAN) {
        lop.in.entity_clean.token = ltoken;
        pop.in.entity_clean.token = ptoken;
    }

    if (op->type == DS_OP_HISTORY) {
        lop.in.history.item = t_event;
        lop.in.history.item_data = ls->history;
        pop.in.history.item = t_event;
        pop.in.history.item_data = ps->history;
    }

    if (op->type == DS_OP_LIST) {
        lop.in.list.item = t_list_item;
        lop.in.list.item_data = ls->ids;
        lop.in.list.token = ltoken;
        pop.in.list.item = t_list_item;
        pop.in.list.item_data = ps->ids;
        pop.in.list.token = ptoken;
    }

    /*
     * A start's created time, on each backend's own clock: this
     * process's around the LMDB op, the server's around PostgreSQL's
     * (t_created())
     */

    lt[0] = ds_time_now();
    t_lmdb(&lop, ls);
    lt[1] = ds_time_now();

    pt[0] = (op->type == DS_OP_START) ? t_pg_now() : 0;
    t_pg_op(&pop, ps);
    pt[1] = (op->type == DS_OP_START) ? t_pg_now() : 0;

    ok = lop.rc == pop.rc;

    switch (op->type) {

    case DS_OP_START:
        ok = ok && (lop.rc != DS_CONFLICT
                    || lop.out.start.status == pop.out.start.status)
             && (lop.rc != DS_OK
                 || t_created(op->hub, op->in.start.id, lt, pt));
        break;

    case DS_OP_REWIND:
        ok = ok && (lop.rc != DS_PRECONDITION
                    || lop.out.control.status == pop.out.control.status);
        break;

    case DS_OP_TERMINATE:
    case DS_OP_SUSPEND:
    case DS_OP_RESUME:
        /* whether the status changed: the lifecycle log line's cue */
        ok = ok && (op->in.control.recurse
                    || lop.out.control.changed
                       == pop.out.control.changed);
        break;

    case DS_OP_RESTART:
        ok = ok && (lop.rc != DS_CONFLICT
                    || lop.out.start.status == pop.out.start.status);
        break;

    case DS_OP_PURGE:
        ok = ok && (lop.rc == DS_NOTFOUND
                    || lop.out.control.status == pop.out.control.status)
             && lop.out.control.purged == pop.out.control.purged;
        break;

    case DS_OP_HISTORY:
        ok = ok && strcmp(ls->history, ps->history) == 0
             && (lop.rc != DS_OK
                 || (lop.out.history.next == pop.out.history.next
                     && lop.out.history.execution
                        == pop.out.history.execution
                     && lop.out.history.status == pop.out.history.status));
        break;

    case DS_OP_STATS:
        ok = ok && strcmp(ls->counts, ps->counts) == 0;
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
        /* the items claimed again after their lease ran out too */
        t_expired = lfilter.expired;
        ok = ok && lop.out.claim.claimed == pop.out.claim.claimed
             && strcmp(ls->items, ps->items) == 0
             && (lop.out.claim.visible == INT64_MAX)
                == (pop.out.claim.visible == INT64_MAX)
             && lfilter.expired == pfilter.expired;
        break;

    case DS_OP_ENTITY_GET:
        ok = ok && strcmp(ls->entity, ps->entity) == 0;
        break;

    case DS_OP_ENTITY_LIST:
        /* the tokens too, byte for byte */
        ok = ok && strcmp(ls->entity, ps->entity) == 0
             && lop.out.list.token_len == pop.out.list.token_len
             && memcmp(ltoken, ptoken, lop.out.list.token_len) == 0;
        break;

    case DS_OP_ENTITY_CLEAN:
        ok = ok && lop.out.entity_clean.removed
                   == pop.out.entity_clean.removed
             && lop.out.entity_clean.released
                == pop.out.entity_clean.released
             && lop.out.entity_clean.token_len
                == pop.out.entity_clean.token_len
             && memcmp(ltoken, ptoken, lop.out.entity_clean.token_len)
                == 0;
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
        printf("#   claim: expired %zu and %zu\n", lfilter.expired,
               pfilter.expired);
        printf("#   work: status %d and %d, changed %d and %d\n",
               (int) lop.out.work.status, (int) pop.out.work.status,
               lop.out.work.changed, pop.out.work.changed);
        printf("#   items:\n%s#   and:\n%s", ls->items, ps->items);
        printf("#   entities:\n%s#   and:\n%s", ls->entity, ps->entity);
        printf("#   counts:\n%s#   and:\n%s", ls->counts, ps->counts);
        printf("#   custom status: %s and %s\n", ls->custom_status,
               ps->custom_status);
        printf("#   lmdb: %s|%s|%s|%d|%d\n%s#   pg:   %s|%s|%s|%d|%d\n%s",
               ls->ids, ls->name, ls->output, (int) ls->status,
               (int) ls->inbox_seq, ls->history, ps->ids, ps->name,
               ps->output, (int) ps->status, (int) ps->inbox_seq,
               ps->history);
    }

    free(ls);
    free(ps);
}


/* a read of the PostgreSQL store: its result, released by the caller */

static PGresult *
t_read(const char *sql, int nparams, const char **params)
{
    dsi_pg_stmt_t  stmt;

    stmt.sql = sql;
    stmt.nparams = nparams;
    stmt.values = params;

    T(dsi_pg_conn_send(t_pg, &stmt, 1, 0) == 0);
    T(t_drive(t_pg) == DSI_PG_READY);

    return dsi_pg_conn_result(t_pg, 0);
}


/* the database's clock, as its functions read "now" (durable.now_us()) */

static int64_t
t_pg_now(void)
{
    int64_t    now;
    PGresult  *res;

    res = t_read("SELECT durable.now_us()", 0, NULL);
    T(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1);

    now = (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
          ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;

    dsi_pg_conn_release(t_pg);

    return now;
}


/*
 * The created time a start gave id, on each backend. Each stamps it with
 * its own clock, read once for the op: LMDB with this process's
 * (ds_time_now() at apply), PostgreSQL with the server's
 * (clock_timestamp() in durable.now_us()). The two differ by the time
 * between the ops at least, and the server may be another host whose
 * clock is off from ours by any amount, so no relation between them is
 * asserted (nor an equality, nor an order). What holds exactly is
 * each against its own clock: within the window read on that clock
 * around the op (lt: ours around the LMDB op; pt: the server's around
 * PostgreSQL's), and equal to the updated time stamped from the same
 * read. Later answers (status reads, lists) can then only be checked for
 * a created time that is set and not after the last update (t_keep(),
 * t_list_item()).
 */

static int
t_created(ds_str_t hub, ds_str_t id, const int64_t *lt, const int64_t *pt)
{
    int             ok;
    char            h[DS_ID_MAX + 1], i[DS_ID_MAX + 1];
    int64_t         lc, lu, pc, pu;
    ds_txn_t       *txn;
    PGresult       *res;
    const char     *params[2];
    ds_instance_t   inst;

    lc = -1;
    lu = -1;

    T(ds_txn_begin(t_env, NULL, 0, &txn) == DS_OK);

    if (ds_instance_get(txn, hub, id, &inst) == DS_OK) {
        lc = inst.created;
        lu = inst.updated;
    }

    ds_txn_abort(txn);

    t_copy(h, sizeof(h), hub);
    t_copy(i, sizeof(i), id);
    params[0] = h;
    params[1] = i;

    pc = -1;
    pu = -1;

    res = t_read("SELECT created, updated FROM durable.instances "
                 "WHERE hub = $1 AND id = $2", 2, params);

    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        pc = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        pu = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    }

    dsi_pg_conn_release(t_pg);

    ok = lt[0] <= lc && lc <= lt[1] && lc == lu
         && pt[0] <= pc && pc <= pt[1] && pc == pu;

    if (!ok) {
        printf("#   created %s: lmdb %lld (updated %lld) in [%lld, %lld], "
               "pg %lld (updated %lld) in [%lld, %lld]\n", i,
               (long long) lc, (long long) lu, (long long) lt[0],
               (long long) lt[1], (long long) pc, (long long) pu,
               (long long) pt[0], (long long) pt[1]);
    }

    return ok;
}


/* the inbox of id on both backends, Timestamps blanked, must agree */

static void
t_inbox(int line, const char *id)
{
    int              i, ok;
    char            *l, *p;
    ds_txn_t        *txn;
    PGresult        *res;
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
    res = t_read("SELECT message FROM durable.inbox "
                 "WHERE hub = $1 AND id = $2 ORDER BY seq",
                 2, params);
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
        /* the script compares both stores' histories */
        op.in.control.history = (type == DS_OP_STATUS);
    }

    return &op;
}


/*
 * A status read brings the history only when its caller asked for it:
 * the history is half of what the read costs the server
 */

static void
t_status_history(int line, const char *id)
{
    int             with, rc[2];
    size_t          events[2];
    ds_op_t        *op;
    t_held_t        held;
    dsi_pg_call_t   call;

    for (with = 0; with < 2; with++) {
        op = t_op(DS_OP_STATUS, id, NULL, NULL);
        op->in.control.history = with;

        T(dsi_pg_op_call(op, &call) == DS_OK);
        T(dsi_pg_conn_send(t_pg, &call.stmt, 1, 0) == 0);
        T(t_drive(t_pg) == DSI_PG_READY);

        held.n = 0;
        rc[with] = dsi_pg_op_history(dsi_pg_conn_result(t_pg, 0), t_hold,
                                     &held, NULL);
        events[with] = held.n;

        dsi_pg_conn_release(t_pg);
        dsi_pg_call_free(&call);
    }

    t_check(rc[0] == DS_NOTFOUND && events[0] == 0, line,
            "a status read not asking for the history has none");
    t_check(rc[1] == DS_OK && events[1] > 0, line,
            "a status read asking for the history has it");
}


static void
t_script(void)
{
    char        longname[300];
    ds_op_t    *op, pop;
    t_seen_t   *seen;
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
    t_status_history(__LINE__, "a1");
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

    /* a prefix is the list's: refused, nothing purged */
    q.id_prefix = t_s("a");
    t_both(__LINE__, op);
    seen = calloc(1, sizeof(t_seen_t));
    if (seen == NULL) {
        abort();
    }
    pop = *op;
    t_pg_op(&pop, seen);
    T(pop.rc == DS_INVALID && pop.out.purge.deleted == 0);
    free(seen);
    q.id_prefix = t_s("");

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


/* a count as a line: hub, what, code, count, whether an oldest exists */

typedef struct {
    ds_op_t            *op;
    const PGresult     *res;
    char                lines[64][96];
    size_t              n;
} t_counts_t;


static int
t_count_line(void *data, ds_str_t hub, const ds_count_t *c)
{
    int          rc;
    int64_t      at;
    t_counts_t  *t;

    t = data;

    if (t->n == 64) {
        return 1;
    }

    at = 0;
    rc = DS_NOTFOUND;

    if (c->what == DS_COUNT_READY) {
        rc = t->res ? dsi_pg_stats_oldest(t->res, hub, c->kind, &at)
                    : ds_op_ready_oldest(t->op, hub, c->kind, &at);
    }

    snprintf(t->lines[t->n++], 96, "%.*s %s %d %llu%s\n", (int) hub.len,
             hub.data, c->what == DS_COUNT_STATUS ? "status" : "ready",
             c->what == DS_COUNT_STATUS ? (int) c->status : (int) c->kind,
             (unsigned long long) c->count,
             rc == DS_OK && at > 0 ? " oldest" : "");

    return 0;
}


static int
t_line_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}


/* every count, sorted (the backends give them in their own orders) */

static void
t_stats_seen(ds_op_t *op, const PGresult *res, t_seen_t *seen)
{
    int          rc;
    size_t       i;
    uint64_t     timers;
    t_counts_t  *t;

    t = calloc(1, sizeof(t_counts_t));
    if (t == NULL) {
        abort();
    }

    t->op = op;
    t->res = res;

    rc = res ? dsi_pg_stats_each(res, t_count_line, t)
             : ds_op_counts_each(op, t_count_line, t);
    T(rc == DS_OK);

    qsort(t->lines, t->n, sizeof(t->lines[0]), t_line_cmp);

    for (i = 0; i < t->n; i++) {
        strcat(seen->counts, t->lines[i]);
    }

    rc = res ? dsi_pg_stats_timers(res, &timers)
             : ds_op_timers_total(op, &timers);
    T(rc == DS_OK);

    snprintf(seen->counts + strlen(seen->counts), 32, "timers %llu\n",
             (unsigned long long) timers);

    free(t);
}


static ds_op_t *
t_restart(const char *id, const char *from)
{
    ds_op_t  *op;

    op = t_op(DS_OP_START, id, NULL, NULL);
    op->type = DS_OP_RESTART;
    op->in.start.from = t_s(from);

    return op;
}


static ds_op_t *
t_history(const char *id, uint64_t from, size_t max_events,
    size_t max_bytes)
{
    ds_op_t  *op;

    op = t_op(DS_OP_HISTORY, NULL, NULL, NULL);
    op->in.history.id = t_s(id);
    op->in.history.from = from;
    op->in.history.max_events = max_events;
    op->in.history.max_bytes = max_bytes;

    return op;
}


/*
 * Restart, history in chunks, recursive terminate and purge, and the
 * counts of the monitoring page after all the ops before
 */

static void
t_control(void)
{
    ds_op_t  *op;

    t_both(__LINE__, t_op(DS_OP_STATS, NULL, NULL, NULL));

    /* a name to escape, kept by restart as a start writes it */
    t_both(__LINE__, t_op(DS_OP_START, "r1", "N\"a\\m\te \xc3\xa9\x01",
                          "{\"k\":[1,2]}"));
    t_both(__LINE__, t_restart("r2", "r1"));
    t_both(__LINE__, t_op(DS_OP_STATUS, "r2", NULL, NULL));
    t_inbox(__LINE__, "r2");
    t_both(__LINE__, t_restart("r2", "r1"));
    t_both(__LINE__, t_restart("r3", "nope"));
    t_both(__LINE__, t_restart("r3", ""));
    t_both(__LINE__, t_restart("", "r1"));

    /* a history of three events, read in chunks */
    t_both(__LINE__, t_op(DS_OP_SUSPEND, "r1", NULL, "\"a\""));
    t_both(__LINE__, t_op(DS_OP_RESUME, "r1", NULL, "\"b\""));
    t_both(__LINE__, t_op(DS_OP_TERMINATE, "r1", NULL, "\"c\""));
    t_both(__LINE__, t_history("r1", 0, 0, 0));
    t_both(__LINE__, t_history("r1", 0, 2, 0));
    t_both(__LINE__, t_history("r1", 3, 2, 0));
    t_both(__LINE__, t_history("r1", 2, 0, 1));
    t_both(__LINE__, t_history("r1", 4, 0, 0));
    t_both(__LINE__, t_history("r2", 0, 0, 0));
    t_both(__LINE__, t_history("nope", 0, 0, 0));
    t_both(__LINE__, t_history("", 0, 0, 0));

    /* a restart of a terminal instance over itself: a new execution */
    t_both(__LINE__, t_restart("r1", "r1"));
    t_both(__LINE__, t_history("r1", 0, 0, 0));
    t_both(__LINE__, t_op(DS_OP_STATUS, "r1", NULL, NULL));

    /* recursive terminate and purge, of instances without children */
    op = t_op(DS_OP_TERMINATE, "r2", NULL, "\"all\"");
    op->in.control.recurse = 1;
    t_both(__LINE__, op);
    t_both(__LINE__, op);
    t_both(__LINE__, t_op(DS_OP_STATUS, "r2", NULL, NULL));

    op = t_op(DS_OP_PURGE, "r1", NULL, NULL);
    op->in.control.recurse = 1;
    t_both(__LINE__, op);
    op = t_op(DS_OP_PURGE, "r2", NULL, NULL);
    op->in.control.recurse = 1;
    t_both(__LINE__, op);
    t_both(__LINE__, op);
    op = t_op(DS_OP_PURGE, "", NULL, NULL);
    op->in.control.recurse = 1;
    t_both(__LINE__, op);

    t_both(__LINE__, t_op(DS_OP_STATS, NULL, NULL, NULL));
}


/*
 * A Failed instance with the history given on both backends, as a
 * completion would leave it: started by the op, then its record and
 * history set directly
 */

static void
t_failed_instance(const char *id, const char *const *events, size_t n)
{
    char            name[64], input[64], *arr, *p;
    size_t          i;
    ds_txn_t       *txn;
    const char     *q, *params[2];
    dsi_pg_stmt_t   stmt;
    ds_instance_t   inst;

    t_both(__LINE__, t_op(DS_OP_START, id, "Main", "{\"m\":1}"));

    T(ds_txn_begin(t_env, NULL, 1, &txn) == DS_OK);
    T(ds_instance_get(txn, t_s("hub"), t_s(id), &inst) == DS_OK);

    /* copied: they point into the map the put writes */
    t_copy(name, sizeof(name), inst.name);
    t_copy(input, sizeof(input), inst.input);
    inst.name = t_s(name);
    inst.input = t_s(input);
    inst.status = DS_FAILED;
    inst.ready_at = 0;
    inst.output = t_s("\"boom\"");
    T(ds_instance_put(txn, t_s("hub"), t_s(id), &inst) == DS_OK);
    T(ds_inbox_clear(txn, t_s("hub"), t_s(id)) == DS_OK);

    for (i = 0; i < n; i++) {
        T(ds_history_append(txn, t_s("hub"), t_s(id), t_s(events[i]), NULL)
          == DS_OK);
    }

    T(ds_txn_commit(txn) == DS_OK);

    /* the events as a text[] literal */
    arr = calloc(1, T_BUF);
    if (arr == NULL) {
        abort();
    }

    p = arr;
    *p++ = '{';

    for (i = 0; i < n; i++) {
        *p++ = i ? ',' : '"';

        if (i) {
            *p++ = '"';
        }

        for (q = events[i]; *q; q++) {
            if (*q == '"' || *q == '\\') {
                *p++ = '\\';
            }

            *p++ = *q;
        }

        *p++ = '"';
    }

    *p++ = '}';

    params[0] = id;
    params[1] = arr;
    stmt.sql = "WITH u AS (UPDATE durable.instances i SET status = 3, "
               "ready_at = 0, output = '\"boom\"' WHERE i.hub = 'hub' "
               "AND i.id = $1 RETURNING i.partition), "
               "d AS (DELETE FROM durable.inbox m WHERE m.hub = 'hub' "
               "AND m.id = $1) "
               "INSERT INTO durable.history (hub, partition, id, seq, event) "
               "SELECT 'hub', u.partition, $1, e.ord, e.ev "
               "FROM u, unnest($2::text[]) WITH ORDINALITY e(ev, ord)";
    stmt.nparams = 2;
    stmt.values = params;

    T(dsi_pg_conn_send(t_pg, &stmt, 1, 1) == 0);
    T(t_drive(t_pg) == DSI_PG_READY);
    T(dsi_pg_conn_committed(t_pg));
    dsi_pg_conn_release(t_pg);

    free(arr);
}


/*
 * Rewind: the failure leaves the history, what was pending is scheduled
 * again (an activity, a timer, a sub-orchestration that is gone, started
 * again under its parent); with nothing pending, ExecutionRewound is a
 * message
 */

static void
t_rewind(void)
{
    ds_op_t  *op;

    static const char *const  f1[] = {
        "{\"EventType\":\"ExecutionStarted\",\"Timestamp\":"
            "\"2024-01-01T00:00:00Z\",\"EventId\":-1,\"Name\":\"Main\"}",
        "{\"EventType\":\"TaskScheduled\",\"Timestamp\":"
            "\"2024-01-01T00:00:01Z\",\"EventId\":0,\"Name\":\"A \\\"q\\\"\","
            "\"Input\":[1]}",
        "{\"EventType\":\"TaskFailed\",\"Timestamp\":"
            "\"2024-01-01T00:00:02Z\",\"EventId\":-1,\"TaskScheduledId\":0}",
        "{\"EventType\":\"TaskScheduled\",\"Timestamp\":"
            "\"2024-01-01T00:00:03Z\",\"EventId\":1,\"Name\":\"B\"}",
        "{\"EventType\":\"TaskCompleted\",\"Timestamp\":"
            "\"2024-01-01T00:00:04Z\",\"EventId\":-1,\"TaskScheduledId\":1,"
            "\"Result\":2}",
        "{\"EventType\":\"TimerCreated\",\"Timestamp\":"
            "\"2024-01-01T00:00:05Z\",\"EventId\":2,"
            "\"FireAt\":\"2030-01-01T00:00:00.5Z\"}",
        "{\"EventType\":\"SubOrchestrationInstanceCreated\",\"Timestamp\":"
            "\"2024-01-01T00:00:06Z\",\"EventId\":3,\"Name\":\"Sub\","
            "\"InstanceId\":\"f1-sub\",\"Input\":{\"s\":1}}",
        "{\"EventType\":\"SubOrchestrationInstanceFailed\",\"Timestamp\":"
            "\"2024-01-01T00:00:07Z\",\"EventId\":-1,\"TaskScheduledId\":3}",
        "not an event",
        "{\"EventType\":\"ExecutionCompleted\",\"Timestamp\":"
            "\"2024-01-01T00:00:08Z\",\"EventId\":4,"
            "\"OrchestrationStatus\":3,\"Result\":null}"
    };
    static const char *const  f2[] = {
        "{\"EventType\":\"ExecutionStarted\",\"Timestamp\":"
            "\"2024-01-01T00:00:00Z\",\"EventId\":-1,\"Name\":\"Main\"}",
        "{\"EventType\":\"ExecutionCompleted\",\"Timestamp\":"
            "\"2024-01-01T00:00:08Z\",\"EventId\":0,"
            "\"OrchestrationStatus\":3,\"Result\":null}"
    };

    t_failed_instance("f1", f1, sizeof(f1) / sizeof(f1[0]));
    t_both(__LINE__, t_op(DS_OP_STATUS, "f1", NULL, NULL));

    t_both(__LINE__, t_op(DS_OP_REWIND, "f1", NULL, "\"again\""));
    t_both(__LINE__, t_op(DS_OP_STATUS, "f1", NULL, NULL));
    t_inbox(__LINE__, "f1-sub");
    t_both(__LINE__, t_op(DS_OP_STATUS, "f1-sub", NULL, NULL));

    /* not Failed any more: refused with its status */
    t_both(__LINE__, t_op(DS_OP_REWIND, "f1", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_REWIND, "nope", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_REWIND, "", NULL, NULL));

    t_failed_instance("f2", f2, sizeof(f2) / sizeof(f2[0]));
    t_both(__LINE__, t_op(DS_OP_REWIND, "f2", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_STATUS, "f2", NULL, NULL));
    t_inbox(__LINE__, "f2");

    /* a terminal status other than Failed */
    t_both(__LINE__, t_op(DS_OP_TERMINATE, "f2", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_REWIND, "f2", NULL, NULL));

    /* activities ready and a timer, counted alike */
    t_both(__LINE__, t_op(DS_OP_STATS, NULL, NULL, NULL));

    op = t_op(DS_OP_TERMINATE, "f1", NULL, NULL);
    op->in.control.recurse = 1;
    t_both(__LINE__, op);
    t_both(__LINE__, t_op(DS_OP_STATUS, "f1-sub", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_STATS, NULL, NULL, NULL));
}


/*
 * A message put in an entity's queue by an orchestration's completion:
 * on LMDB by dsi_entity_send(), on PostgreSQL by durable.entity_message()
 * (what an orchestration's completion is to call), with the same members
 * around the timestamp
 */

static void
t_send(int line, const char *eid, const char *before, const char *after)
{
    int             lrc, prc;
    char            msg[1024], ts[DS_TIME_FRAC_LEN + 1];
    int64_t         now;
    ds_txn_t       *txn;
    PGresult       *res;
    dsi_pg_stmt_t   stmt;
    const char     *params[4];

    now = ds_time_now();
    ts[ds_time_format_frac(now, ts)] = '\0';
    snprintf(msg, sizeof(msg), "{%s,\"timestamp\":\"%s\"%s}", before, ts,
             after ? after : "");

    T(ds_txn_begin(t_env, NULL, 1, &txn) == DS_OK);
    lrc = dsi_entity_send(txn, t_s("hub"), t_s(eid), t_s(msg), now);

    if (lrc == DS_OK) {
        T(ds_txn_commit(txn) == DS_OK);

    } else {
        ds_txn_abort(txn);
    }

    params[0] = "hub";
    params[1] = eid;
    params[2] = before;
    params[3] = after;
    stmt.sql = "SELECT durable.entity_message($1, $2, $3, $4, "
               "durable.now_us())";
    stmt.nparams = 4;
    stmt.values = params;

    T(dsi_pg_conn_send(t_pg, &stmt, 1, 1) == 0);
    T(t_drive(t_pg) == DSI_PG_READY);
    T(dsi_pg_conn_committed(t_pg));

    res = dsi_pg_conn_result(t_pg, 0);
    prc = PQresultStatus(res) == PGRES_TUPLES_OK
          ? atoi(PQgetvalue(res, 0, 0)) : -1;
    dsi_pg_conn_release(t_pg);

    t_check(lrc == prc, line, "the same answer to a message");

    if (lrc != prc) {
        printf("#   rc %d and %d\n", lrc, prc);
    }
}


static int
t_queued(ds_txn_t *txn, uint64_t seq, const MDB_val *val, void *data)
{
    (void) txn;

    (void) t_event(data, seq, (ds_str_t) { val->mv_data, val->mv_size });

    return DSI_EACH_NEXT;
}


/*
 * An entity on both backends: its whole queue, timestamps blanked,
 * whether it is ready and whether it is locked
 */

static void
t_entity_rec(int line, const char *eid)
{
    int              ok, locked;
    char            *l, *p;
    int64_t          ready_at;
    MDB_val          key, val;
    ds_txn_t        *txn;
    PGresult        *res;
    const char      *params[2];
    unsigned char    kb[DS_KEY_BUF];

    l = calloc(1, T_BUF);
    p = calloc(1, T_BUF);

    if (l == NULL || p == NULL) {
        abort();
    }

    T(ds_txn_begin(t_env, NULL, 0, &txn) == DS_OK);

    key.mv_data = kb;
    key.mv_size = dsi_key_instance(kb, t_s("hub"), t_s(eid));

    if (mdb_get(txn->txn, ds_dbi(txn, DS_DB_ENTITIES), &key, &val) == 0) {
        T(dsi_entity_info(t_s(eid), val.mv_data, val.mv_size, &ready_at,
                          &locked) == DS_OK);
        snprintf(l, T_BUF, "ready %d locked %d\n", ready_at != 0, locked);
        T(dsi_seq_each(txn, DS_DB_ENTITY_OPS, t_s("hub"), t_s(eid),
                       UINT64_MAX, t_queued, l) == DS_OK);

    } else {
        strcpy(l, "none\n");
    }

    ds_txn_abort(txn);

    params[0] = "hub";
    params[1] = eid;
    res = t_read("SELECT e.ready_at <> 0, e.owner IS NOT NULL, "
                 "ARRAY(SELECT o.operation FROM durable.entity_ops o "
                 "WHERE o.hub = e.hub AND o.id = e.id ORDER BY o.seq) "
                 "FROM durable.entities e WHERE e.hub = $1 AND e.id = $2",
                 2, params);
    T(PQresultStatus(res) == PGRES_TUPLES_OK);

    if (PQntuples(res) == 1) {
        snprintf(p, T_BUF, "ready %d locked %d\n",
                 PQgetvalue(res, 0, 0)[0] == 't',
                 PQgetvalue(res, 0, 1)[0] == 't');
        T(dsi_pg_array(PQgetvalue(res, 0, 2), t_event, p) == DS_OK);

    } else {
        strcpy(p, "none\n");
    }

    dsi_pg_conn_release(t_pg);

    ok = strcmp(l, p) == 0;
    t_check(ok, line, "the same entity on both backends");

    if (!ok) {
        printf("#   %s lmdb:\n%s#   pg:\n%s", eid, l, p);
    }

    free(l);
    free(p);
}


static ds_op_t *
t_entity_op(ds_op_type_e type, const char *name, const char *key,
    const char *operation, const char *input)
{
    static ds_op_t  op;

    memset(&op, 0, sizeof(ds_op_t));
    op.type = type;
    op.hub = t_s("hub");

    if (type == DS_OP_ENTITY_SIGNAL || type == DS_OP_ENTITY_GET) {
        op.in.entity.name = t_s(name);
        op.in.entity.key = t_s(key);
        op.in.entity.operation = t_s(operation);
        op.in.entity.input = t_s(input);

    } else {
        op.in.work.kind = DS_WORK_ENTITY;
        op.in.work.id = t_s(name);
        op.in.work.key = t_s(key);
        op.in.work.result = t_s(input);
    }

    return &op;
}


static ds_op_t *
t_entity_claim(size_t max, const uint8_t *tokens, ds_claim_filter_t *f)
{
    ds_op_t  *op;

    op = t_op(DS_OP_WORK_CLAIM, NULL, NULL, NULL);
    op->in.claim.kind = DS_WORK_ENTITY;
    op->in.claim.lease_us = 60000000;
    op->in.claim.max = max;
    op->in.claim.tokens = tokens;
    op->in.claim.filter = f;

    return op;
}


/*
 * Entities: signals, calls and a critical section from an orchestration
 * (its messages as its completion sends them), claims, completions with
 * results and actions, renewals, abandons, get, list and clean
 */

static void
t_entities(void)
{
    size_t              i;
    uint8_t             tokens[5 * DS_LEASE_LEN], zero[DS_LEASE_LEN];
    ds_op_t            *op;
    ds_str_t            name;
    ds_action_t         acts[2];
    ds_claim_filter_t   filter;
    ds_entity_result_t  res[3];

    static const char  lock[] =
        "\"lock\":\"cs1\",\"lockSet\":[\"@counter@k1\",\"@counter@k2\"],"
        "\"position\":0,\"parentInstanceId\":\"o1\",\"parentExecution\":1";

    for (i = 0; i < sizeof(tokens); i++) {
        tokens[i] = (uint8_t) (i / DS_LEASE_LEN + 0x41);
    }

    memset(zero, 0, sizeof(zero));

    t_both(__LINE__, t_op(DS_OP_START, "o1", "Orch", NULL));

    /* signals: the name folded to lower case; bad names and ids */
    t_both(__LINE__, t_entity_op(DS_OP_ENTITY_SIGNAL, "Counter", "k1",
                                 "add", "1"));
    t_both(__LINE__, t_entity_op(DS_OP_ENTITY_SIGNAL, "counter", "k1",
                                 "add", "{\"n\":\"\\u00e9\\\"\"}"));
    t_both(__LINE__, t_entity_op(DS_OP_ENTITY_SIGNAL, "a@b", "k1", "add",
                                 NULL));
    t_both(__LINE__, t_entity_op(DS_OP_ENTITY_SIGNAL, "counter", "k1", "",
                                 NULL));
    t_both(__LINE__, t_entity_op(DS_OP_ENTITY_GET, "counter", "k1", NULL,
                                 NULL));

    /* a call from o1, then its lock request behind it */
    t_send(__LINE__, "@counter@k1", "\"operation\":\"get\",\"input\":null",
           ",\"requestId\":\"r1\",\"parentInstanceId\":\"o1\","
           "\"parentExecution\":1");
    t_send(__LINE__, "@counter@k1", lock, NULL);
    t_send(__LINE__, "", "\"operation\":\"x\",\"input\":null", NULL);
    t_entity_rec(__LINE__, "@counter@k1");

    /* the three operations, the lock request stopping the claim */
    t_both(__LINE__, t_entity_claim(2, tokens, NULL));
    t_both(__LINE__, t_entity_claim(1, tokens + DS_LEASE_LEN, NULL));

    /* done: state 3, the call answered, a signal sent; then the lock */
    memset(res, 0, sizeof(res));
    res[2].output = t_s("3");
    memset(acts, 0, sizeof(acts));
    acts[0].type = DS_ACT_SIGNAL_ENTITY;
    acts[0].name = t_s("ping");
    acts[0].entity_name = t_s("Other");
    acts[0].entity_key = t_s("x");
    acts[0].input = t_s("[true]");
    acts[1].type = DS_ACT_START_SUB;
    acts[1].name = t_s("Started");
    acts[1].instance_id = t_s("s1");
    acts[1].input = t_s("\"in\"");

    op = t_entity_op(DS_OP_WORK_COMPLETE, "counter", "k1", NULL, "3");
    op->in.work.lease = zero;
    t_both(__LINE__, op);

    op = t_entity_op(DS_OP_WORK_COMPLETE, "counter", "k1", NULL, "3");
    op->in.work.lease = tokens;
    op->in.work.results = res;
    op->in.work.nresults = 3;
    op->in.work.actions = acts;
    op->in.work.nactions = 2;
    t_both(__LINE__, op);
    t_both(__LINE__, op);

    op->in.work.nactions = 1;
    t_both(__LINE__, op);

    t_inbox(__LINE__, "o1");
    t_entity_rec(__LINE__, "@counter@k1");
    t_entity_rec(__LINE__, "@counter@k2");
    t_entity_rec(__LINE__, "@other@x");
    t_both(__LINE__, t_op(DS_OP_STATUS, "s1", NULL, NULL));
    t_both(__LINE__, t_entity_op(DS_OP_ENTITY_GET, "Counter", "k1", NULL,
                                 NULL));

    /* locked: a signal from elsewhere waits; other@x runs */
    t_both(__LINE__, t_entity_op(DS_OP_ENTITY_SIGNAL, "counter", "k1",
                                 "add", "5"));
    t_both(__LINE__, t_entity_claim(3, tokens + DS_LEASE_LEN, NULL));
    t_entity_rec(__LINE__, "@counter@k1");

    /* the holder's call runs first; its unlock lets the signal run */
    t_send(__LINE__, "@counter@k1", "\"operation\":\"get\",\"input\":null",
           ",\"requestId\":\"r2\",\"parentInstanceId\":\"o1\","
           "\"parentExecution\":1");
    t_send(__LINE__, "@counter@k1",
           "\"unlock\":\"cs1\",\"parentInstanceId\":\"o1\","
           "\"parentExecution\":1", NULL);
    t_entity_rec(__LINE__, "@counter@k1");

    memset(&filter, 0, sizeof(ds_claim_filter_t));
    name = t_s("COUNTER");
    filter.names = &name;
    filter.nnames = 1;
    t_both(__LINE__, t_entity_claim(2, tokens + 2 * DS_LEASE_LEN, &filter));

    /* renew, abandon, and the next claim takes the same operations */
    op = t_entity_op(DS_OP_WORK_RENEW, "counter", "k1", NULL, NULL);
    op->in.work.lease = tokens + 2 * DS_LEASE_LEN;
    op->in.work.lease_us = 120000000;
    t_both(__LINE__, op);
    op->in.work.lease = tokens;
    t_both(__LINE__, op);
    op->in.work.id = t_s("nobody");
    t_both(__LINE__, op);

    op = t_entity_op(DS_OP_WORK_ABANDON, "counter", "k1", NULL, NULL);
    op->in.work.lease = tokens + 2 * DS_LEASE_LEN;
    t_both(__LINE__, op);
    t_both(__LINE__, op);

    t_both(__LINE__, t_entity_claim(2, tokens + 3 * DS_LEASE_LEN, NULL));

    /* the call fails, the state goes */
    res[0].failed = 1;
    res[0].reason = t_s("\"no\"");
    res[0].details = t_s("{\"d\":1}");
    op = t_entity_op(DS_OP_WORK_COMPLETE, "counter", "k1", NULL, NULL);
    op->in.work.lease = tokens + 3 * DS_LEASE_LEN;
    op->in.work.delete_state = 1;
    op->in.work.results = res;
    op->in.work.nresults = 1;
    t_both(__LINE__, op);
    t_inbox(__LINE__, "o1");
    t_entity_rec(__LINE__, "@counter@k1");
    t_both(__LINE__, t_entity_op(DS_OP_ENTITY_GET, "counter", "k1", NULL,
                                 NULL));
}


/*
 * Every page of an entity list, or every step of a clean-up, on each
 * backend, each following its own tokens: the same entities, counts and
 * tokens, byte for byte
 */

static void
t_entity_walk(int line, ds_op_type_e type, const char *name, size_t top,
    size_t budget, int64_t to)
{
    int        pg, steps[2];
    char      *seen[2], token[DS_TOKEN_MAX], next[DS_TOKEN_MAX];
    char      *p;
    size_t     len;
    t_seen_t  *ts;
    ds_op_t    op;

    for (pg = 0; pg < 2; pg++) {
        seen[pg] = calloc(1, T_BUF);
        ts = calloc(1, sizeof(t_seen_t));

        if (seen[pg] == NULL || ts == NULL) {
            abort();
        }

        ts->pg = pg;
        steps[pg] = 0;
        len = 0;

        do {
            memset(&op, 0, sizeof(ds_op_t));
            op.type = type;
            op.hub = t_s("hub");

            if (type == DS_OP_ENTITY_LIST) {
                op.in.entity_list.name = t_s(name);
                op.in.entity_list.to = to;
                op.in.entity_list.top = top;
                op.in.entity_list.scan_budget = budget;
                op.in.entity_list.token_in.data = token;
                op.in.entity_list.token_in.len = len;
                op.in.entity_list.item = t_entity_item;
                op.in.entity_list.item_data = seen[pg];
                op.in.entity_list.token = next;

            } else {
                op.in.entity_clean.max = top;
                op.in.entity_clean.remove_empty = 1;
                op.in.entity_clean.release_orphaned = 1;
                op.in.entity_clean.token_in.data = token;
                op.in.entity_clean.token_in.len = len;
                op.in.entity_clean.token = next;
            }

            if (pg) {
                t_pg_op(&op, ts);

            } else {
                t_lmdb(&op, ts);
            }

            T(op.rc == DS_OK);

            len = type == DS_OP_ENTITY_LIST ? op.out.list.token_len
                                            : op.out.entity_clean.token_len;
            memcpy(token, next, len);

            p = seen[pg] + strlen(seen[pg]);

            if (type == DS_OP_ENTITY_CLEAN) {
                snprintf(p, T_BUF - (size_t) (p - seen[pg]),
                         "removed %zu released %zu ",
                         op.out.entity_clean.removed,
                         op.out.entity_clean.released);
                p += strlen(p);
            }

            snprintf(p, T_BUF - (size_t) (p - seen[pg]), "| %.*s\n",
                     (int) len, token);
            steps[pg]++;

        } while (op.rc == DS_OK && len && steps[pg] < 50);

        free(ts);
    }

    t_check(steps[0] == steps[1] && strcmp(seen[0], seen[1]) == 0, line,
            "the same walk on both backends");

    if (steps[0] != steps[1] || strcmp(seen[0], seen[1]) != 0) {
        printf("#   lmdb %d:\n%s#   pg %d:\n%s", steps[0], seen[0],
               steps[1], seen[1]);
    }

    free(seen[0]);
    free(seen[1]);
}


/* entities with state, of two names, listed and cleaned */

static void
t_entity_lists(void)
{
    size_t              i;
    uint8_t             tokens[4 * DS_LEASE_LEN];
    ds_op_t            *op;
    ds_str_t            name;
    dsi_pg_call_t       call;
    ds_claim_filter_t   filter;

    static const char *const  keys[] = { "a1", "a2", "a\"3", "b1" };

    for (i = 0; i < sizeof(tokens); i++) {
        tokens[i] = (uint8_t) (i / DS_LEASE_LEN + 0x61);
    }

    memset(&filter, 0, sizeof(ds_claim_filter_t));
    filter.names = &name;
    filter.nnames = 1;

    /* each signalled, claimed by its name and given a state */
    for (i = 0; i < 4; i++) {
        name = t_s(i < 3 ? "acct" : "bank");
        t_both(__LINE__, t_entity_op(DS_OP_ENTITY_SIGNAL, name.data, keys[i],
                                     "set", "1"));
        t_both(__LINE__, t_entity_claim(1, tokens + i * DS_LEASE_LEN,
                                        &filter));

        op = t_entity_op(DS_OP_WORK_COMPLETE, name.data, keys[i], NULL,
                         i == 1 ? NULL : "{\"v\":1}");
        op->in.work.lease = tokens + i * DS_LEASE_LEN;
        t_both(__LINE__, op);
    }

    t_entity_walk(__LINE__, DS_OP_ENTITY_LIST, NULL, 1, 0, 0);
    t_entity_walk(__LINE__, DS_OP_ENTITY_LIST, NULL, 2, 1, 0);
    t_entity_walk(__LINE__, DS_OP_ENTITY_LIST, NULL, 10, 0, 0);
    t_entity_walk(__LINE__, DS_OP_ENTITY_LIST, "ACCT", 2, 0, 0);
    t_entity_walk(__LINE__, DS_OP_ENTITY_LIST, "bank", 1, 0, 0);
    t_entity_walk(__LINE__, DS_OP_ENTITY_LIST, "none", 1, 0, 0);
    t_entity_walk(__LINE__, DS_OP_ENTITY_LIST, NULL, 3, 0, 1);

    /* a bad token, a bad name */
    op = t_op(DS_OP_ENTITY_LIST, NULL, NULL, NULL);
    op->in.entity_list.top = 1;
    op->in.entity_list.token_in = t_s("AQ");
    t_both(__LINE__, op);
    op->in.entity_list.token_in = t_s("not*a*token");
    t_both(__LINE__, op);
    op->in.entity_list.token_in = t_s(NULL);
    op->in.entity_list.name = t_s("a@b");
    t_both(__LINE__, op);

    /* "@a@" and a byte no text holds: refused before the database */
    op->in.entity_list.name = t_s(NULL);
    op->in.entity_list.token_in = t_s("AkBhQP8");
    T(dsi_pg_op_call(op, &call) == DS_INVALID);
    dsi_pg_call_free(&call);

    /* o1 holds @counter@k2: released once o1 is gone; then removed */
    t_entity_walk(__LINE__, DS_OP_ENTITY_CLEAN, NULL, 1, 0, 0);
    t_entity_rec(__LINE__, "@counter@k2");
    t_both(__LINE__, t_op(DS_OP_TERMINATE, "o1", NULL, NULL));
    t_entity_walk(__LINE__, DS_OP_ENTITY_CLEAN, NULL, 2, 0, 0);
    t_entity_rec(__LINE__, "@counter@k2");
    t_entity_walk(__LINE__, DS_OP_ENTITY_CLEAN, NULL, 100, 0, 0);
    t_entity_walk(__LINE__, DS_OP_ENTITY_LIST, NULL, 10, 0, 0);
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
    char            token[DS_TOKEN_MAX], ids[T_BUF];
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


/*
 * Results that came while a failing episode ran, then a rewind: what they
 * answer is scheduled again, and they leave the inbox on both backends
 */

static void
t_rewind_late(void)
{
    size_t       i;
    uint8_t      tk[8 * DS_LEASE_LEN];
    ds_op_t     *op;
    ds_action_t  a[2];

    for (i = 0; i < sizeof(tk); i++) {
        tk[i] = (uint8_t) (0x60 + i / DS_LEASE_LEN);
    }

    t_hub = "late";

    t_both(__LINE__, t_op(DS_OP_START, "rl", "Late", NULL));
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk, "Late");
    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_SCHEDULE_ACTIVITY;
    a[0].id = 0;
    a[0].name = t_s("A");
    t_complete(__LINE__, "rl", tk, a, 1);

    /* the activity answers while an episode for an event runs */
    t_claim(__LINE__, DS_WORK_ACTIVITY, 1, tk + DS_LEASE_LEN, NULL);
    t_both(__LINE__, t_op(DS_OP_RAISE_EVENT, "rl", "ev", "1"));
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + 2 * DS_LEASE_LEN,
            "Late");
    t_activity(__LINE__, DS_OP_WORK_COMPLETE, "rl", 0, tk + DS_LEASE_LEN, 0,
               "\"late\"");
    t_inbox(__LINE__, "rl");

    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_FAIL;
    a[0].reason = t_s("\"boom\"");
    a[0].details = t_s("null");
    t_complete(__LINE__, "rl", tk + 2 * DS_LEASE_LEN, a, 1);
    t_inbox(__LINE__, "rl");

    /* scheduled again, and answered once */
    t_both(__LINE__, t_op(DS_OP_REWIND, "rl", NULL, "\"again\""));
    t_claim(__LINE__, DS_WORK_ACTIVITY, 1, tk + 3 * DS_LEASE_LEN, NULL);
    t_activity(__LINE__, DS_OP_WORK_COMPLETE, "rl", 0, tk + 3 * DS_LEASE_LEN,
               0, "\"again\"");
    t_inbox(__LINE__, "rl");
    t_both(__LINE__, t_op(DS_OP_STATS, NULL, NULL, NULL));

    /* an entity's answer stays: the rewind sends no call again */
    t_both(__LINE__, t_op(DS_OP_START, "re", "Caller", NULL));
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + 4 * DS_LEASE_LEN,
            "Caller");
    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_CALL_ENTITY;
    a[0].id = 0;
    a[0].request_id = t_s("call-1");
    a[0].entity_name = t_s("counter");
    a[0].entity_key = t_s("a");
    a[0].name = t_s("add");
    t_complete(__LINE__, "re", tk + 4 * DS_LEASE_LEN, a, 1);

    t_both(__LINE__, t_op(DS_OP_RAISE_EVENT, "re", "ev", "1"));
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + 5 * DS_LEASE_LEN,
            "Caller");
    op = t_entity_claim(1, tk + 6 * DS_LEASE_LEN, NULL);
    op->hub = t_s(t_hub);
    t_both(__LINE__, op);
    op = t_entity_op(DS_OP_WORK_COMPLETE, "counter", "a", NULL, "1");
    op->hub = t_s(t_hub);
    op->in.work.lease = tk + 6 * DS_LEASE_LEN;
    t_both(__LINE__, op);

    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_FAIL;
    a[0].reason = t_s("\"boom\"");
    a[0].details = t_s("null");
    t_complete(__LINE__, "re", tk + 5 * DS_LEASE_LEN, a, 1);
    t_both(__LINE__, t_op(DS_OP_REWIND, "re", NULL, NULL));
    t_inbox(__LINE__, "re");

    t_hub = "hub";
}


/*
 * A custom status as an orchestration sets it: none at the start, then
 * one with escapes, kept by an episode that sets none, replaced by the
 * last; and one set before a continue-as-new. Status reads and a list
 * show it on both backends.
 */

/* a custom status set, then a second action, in one completion */

static void
t_custom_then(ds_action_t *a, const char *status, ds_action_type_e type,
    const char *input)
{
    memset(a, 0, 2 * sizeof(ds_action_t));
    a[0].type = DS_ACT_SET_CUSTOM_STATUS;
    a[0].input = t_s(status);
    a[1].type = type;
    a[1].input = t_s(input);
}


static void
t_custom(void)
{
    size_t       i;
    uint8_t      tk[4 * DS_LEASE_LEN];
    ds_op_t     *op;
    ds_query_t   q;
    ds_action_t  a[2];

    for (i = 0; i < sizeof(tk); i++) {
        tk[i] = (uint8_t) (0xe0 + i / DS_LEASE_LEN);
    }

    t_hub = "custom";

    t_both(__LINE__, t_op(DS_OP_START, "cs1", "Custom", NULL));
    t_both(__LINE__, t_op(DS_OP_STATUS, "cs1", NULL, NULL));

    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk, "Custom");
    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_SET_CUSTOM_STATUS;
    a[0].input = t_s("{\"step\":1,\"note\":\"a\\\"b\\u00e9\"}");
    t_complete(__LINE__, "cs1", tk, a, 1);
    t_both(__LINE__, t_op(DS_OP_STATUS, "cs1", NULL, NULL));

    /* an episode that sets none keeps it */
    t_both(__LINE__, t_op(DS_OP_RAISE_EVENT, "cs1", "go", "1"));
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + DS_LEASE_LEN,
            "Custom");
    t_complete(__LINE__, "cs1", tk + DS_LEASE_LEN, a, 0);
    t_both(__LINE__, t_op(DS_OP_STATUS, "cs1", NULL, NULL));

    /* the last one, set with the output */
    t_both(__LINE__, t_op(DS_OP_RAISE_EVENT, "cs1", "go", "2"));
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + 2 * DS_LEASE_LEN,
            "Custom");
    t_custom_then(a, "\"two\"", DS_ACT_COMPLETE, "\"done\"");
    t_complete(__LINE__, "cs1", tk + 2 * DS_LEASE_LEN, a, 2);
    t_both(__LINE__, t_op(DS_OP_STATUS, "cs1", NULL, NULL));

    /* set, then continued as new: what the new execution shows */
    t_both(__LINE__, t_op(DS_OP_START, "cs2", "Custom", NULL));
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + 3 * DS_LEASE_LEN,
            "Custom");
    t_custom_then(a, "[1,null]", DS_ACT_CONTINUE_AS_NEW, "2");
    t_complete(__LINE__, "cs2", tk + 3 * DS_LEASE_LEN, a, 2);
    t_both(__LINE__, t_op(DS_OP_STATUS, "cs2", NULL, NULL));

    memset(&q, 0, sizeof(ds_query_t));
    q.top = 10;
    op = t_op(DS_OP_LIST, NULL, NULL, NULL);
    op->in.list.query = &q;
    t_both(__LINE__, op);

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
    ds_op_t     *op;
    ds_query_t   q;
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

    /* listed with what their starts carried and the failure's details */
    memset(&q, 0, sizeof(ds_query_t));
    q.top = 10;
    op = t_op(DS_OP_LIST, NULL, NULL, NULL);
    op->in.list.query = &q;
    t_both(__LINE__, op);

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


/*
 * An orchestration's completion with every entity action: its history
 * events, the messages queued at each entity (a lock set taken entity
 * by entity, granted at the last) and the grant in its inbox
 */

static void
t_entity_actions(void)
{
    size_t       i;
    uint8_t      tk[DS_LEASE_LEN];
    ds_str_t     set[2];
    ds_action_t  a[5];

    for (i = 0; i < sizeof(tk); i++) {
        tk[i] = 0x70;
    }

    /* t_entity_rec() reads hub "hub" */
    t_hub = "hub";

    t_both(__LINE__, t_op(DS_OP_START, "ea\"1", "Acts", NULL));
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk, "Acts");

    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_SIGNAL_ENTITY;
    a[0].id = 0;
    a[0].entity_name = t_s("Tally");
    a[0].entity_key = t_s("k\"1");
    a[0].name = t_s("add");
    a[0].input = t_s("1");
    a[1].type = DS_ACT_SIGNAL_ENTITY;
    a[1].id = 1;
    a[1].request_id = t_s("r-1");
    a[1].entity_name = t_s("Tally");
    a[1].entity_key = t_s("k2");
    a[1].name = t_s("add");
    a[1].input = t_s("{\"n\":\"\\\"\"}");
    a[2].type = DS_ACT_CALL_ENTITY;
    a[2].id = 2;
    a[2].request_id = t_s("r-2");
    a[2].entity_name = t_s("Tally");
    a[2].entity_key = t_s("k2");
    a[2].name = t_s("get");
    set[0] = t_s("@Tally@a");
    set[1] = t_s("@tally@b\"");
    a[3].type = DS_ACT_LOCK_ENTITIES;
    a[3].id = 3;
    a[3].request_id = t_s("cs-1");
    a[3].lock_set = set;
    a[3].nlock = 2;
    a[4].type = DS_ACT_UNLOCK_ENTITY;
    a[4].id = 4;
    a[4].request_id = t_s("cs-0");
    a[4].entity_name = t_s("Tally");
    a[4].entity_key = t_s("k2");

    t_complete(__LINE__, "ea\"1", tk, a, 5);
    t_both(__LINE__, t_op(DS_OP_STATUS, "ea\"1", NULL, NULL));
    t_entity_rec(__LINE__, "@tally@k\"1");
    t_entity_rec(__LINE__, "@tally@k2");
    t_entity_rec(__LINE__, "@tally@a");
    t_entity_rec(__LINE__, "@tally@b\"");
    t_inbox(__LINE__, "ea\"1");
}


/*
 * A completion that terminates another instance with the
 * sub-orchestrations it started: the whole tree ends, as on LMDB
 */

static void
t_terminate_tree(void)
{
    size_t       i;
    uint8_t      tk[2 * DS_LEASE_LEN];
    ds_action_t  a[1];

    for (i = 0; i < sizeof(tk); i++) {
        tk[i] = (uint8_t) (0x30 + i / DS_LEASE_LEN);
    }

    t_hub = "tree-act";

    t_both(__LINE__, t_op(DS_OP_START, "ta-root", "Root", NULL));
    t_both(__LINE__, t_op(DS_OP_START, "ta-top", "Top", NULL));

    /* Top starts a child */
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk, "Top");
    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_START_SUB;
    a[0].id = 0;
    a[0].name = t_s("Kid");
    a[0].instance_id = t_s("ta-kid");
    t_complete(__LINE__, "ta-top", tk, a, 1);

    /* Root terminates Top and what it started */
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + DS_LEASE_LEN, "Root");
    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_TERMINATE;
    a[0].instance_id = t_s("ta-top");
    a[0].input = t_s("\"down\"");
    a[0].recurse = 1;
    t_complete(__LINE__, "ta-root", tk + DS_LEASE_LEN, a, 1);

    t_both(__LINE__, t_op(DS_OP_STATUS, "ta-top", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_STATUS, "ta-kid", NULL, NULL));
}


/*
 * What PostgreSQL holds, for what t_both() cannot tell (the two
 * backends could agree on a wrong answer): the one value of sql, which
 * takes t_hub and id as $1 and $2, must be want
 */

static void
t_pg_is(int line, const char *sql, const char *id, const char *want)
{
    int          ok;
    PGresult    *res;
    const char  *params[2];

    params[0] = t_hub;
    params[1] = id;
    res = t_read(sql, 2, params);

    ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
         && strcmp(PQgetvalue(res, 0, 0), want) == 0;
    t_check(ok, line, "PostgreSQL holds what it should");

    if (!ok) {
        printf("#   %s (%s): %s, want %s\n", sql, id,
               PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
               ? PQgetvalue(res, 0, 0) : PQresultErrorMessage(res), want);
    }

    dsi_pg_conn_release(t_pg);
}


/* parent, claimed by its name, starts child as its sub-orchestration */

static void
t_self_sub(int line, const char *parent, const char *pname,
    const char *child, const char *name, const uint8_t *lease)
{
    ds_action_t  a[1];

    t_claim(line, DS_WORK_ORCHESTRATION, 1, lease, pname);

    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_START_SUB;
    a[0].id = 0;
    a[0].name = t_s(name);
    a[0].instance_id = t_s(child);
    t_complete(line, parent, lease, a, 1);
}


/*
 * A completion that terminates the tree of its parent or grandparent,
 * and so its own instance: the same answer (Terminated, changed), the
 * same records and histories, the actions after the termination applied
 * on neither; a termination of the parent alone leaves the child going
 * on, on both (store/pg/tests/063-completion-self-terminate.sql holds
 * PostgreSQL's to what it should be)
 */

static void
t_self_terminate(void)
{
    size_t       i;
    uint8_t      tk[16 * DS_LEASE_LEN];
    ds_action_t  a[8];

    for (i = 0; i < sizeof(tk); i++) {
        tk[i] = (uint8_t) (0x50 + i / DS_LEASE_LEN);
    }

    t_hub = "self-term";

    /*
     * the child, Running since a first episode, ends its parent's tree,
     * then would do more
     */

    t_both(__LINE__, t_op(DS_OP_START, "st-p", "SP", NULL));
    t_both(__LINE__, t_op(DS_OP_START, "st-o", "SO", NULL));
    t_self_sub(__LINE__, "st-p", "SP", "st-c", "SC", tk);
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + 11 * DS_LEASE_LEN,
            "SC");

    /* its first episode starts a child, which the tree's walk ends */

    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_START_SUB;
    a[0].id = 0;
    a[0].name = t_s("SE");
    a[0].instance_id = t_s("st-e");
    t_complete(__LINE__, "st-c", tk + 11 * DS_LEASE_LEN, a, 1);
    t_both(__LINE__, t_op(DS_OP_RAISE_EVENT, "st-c", "go", "1"));
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + DS_LEASE_LEN, "SC");

    /*
     * before the termination: a custom status (kept), an event to
     * another instance (sent) and a timer (dropped with the instance's
     * work); after it, an event that is not sent
     */

    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_SET_CUSTOM_STATUS;
    a[0].input = t_s("\"cs\"");
    a[1].type = DS_ACT_RAISE_EVENT;
    a[1].id = 1;
    a[1].instance_id = t_s("st-o");
    a[1].name = t_s("before");
    a[2].type = DS_ACT_CREATE_TIMER;
    a[2].id = 2;
    a[2].fire_at = 4102444800000000LL;
    a[3].type = DS_ACT_TERMINATE;
    a[3].instance_id = t_s("st-p");
    a[3].input = t_s("\"down\"");
    a[3].recurse = 1;
    a[4].type = DS_ACT_SCHEDULE_ACTIVITY;
    a[4].id = 3;
    a[4].name = t_s("SA");
    a[4].input = t_s("1");
    a[5].type = DS_ACT_START_SUB;
    a[5].id = 4;
    a[5].name = t_s("SK");
    a[5].instance_id = t_s("st-k");
    a[6].type = DS_ACT_RAISE_EVENT;
    a[6].id = 5;
    a[6].instance_id = t_s("st-o");
    a[6].name = t_s("after");
    t_complete(__LINE__, "st-c", tk + DS_LEASE_LEN, a, 7);
    t_complete(__LINE__, "st-c", tk + DS_LEASE_LEN, a, 7);
    t_complete(__LINE__, "st-c", tk + 10 * DS_LEASE_LEN, a, 7);

    t_both(__LINE__, t_op(DS_OP_STATUS, "st-p", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_STATUS, "st-c", NULL, NULL));
    t_pg_is(__LINE__, "SELECT concat_ws(' ', custom_status, status, "
            "output) FROM durable.instances WHERE hub = $1 AND id = $2",
            "st-c", "\"cs\" 5 \"down\"");
    t_pg_is(__LINE__, "SELECT count(*) FROM durable.timers "
            "WHERE hub = $1 AND id = $2", "st-c", "0");
    t_both(__LINE__, t_op(DS_OP_STATUS, "st-e", NULL, NULL));
    t_pg_is(__LINE__, "SELECT concat_ws(' ', status, output) "
            "FROM durable.instances WHERE hub = $1 AND id = $2", "st-e",
            "5 \"down\"");
    t_both(__LINE__, t_op(DS_OP_STATUS, "st-k", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_STATUS, "st-o", NULL, NULL));
    t_inbox(__LINE__, "st-o");
    t_pg_is(__LINE__, "SELECT string_agg(message::json ->> 'EventType', ',' "
            "ORDER BY seq) FROM durable.inbox WHERE hub = $1 AND id = $2",
            "st-o", "ExecutionStarted,EventRaised");
    t_pg_is(__LINE__, "SELECT string_agg(message::json ->> 'Name', ',' "
            "ORDER BY seq) FROM durable.inbox WHERE hub = $1 AND id = $2",
            "st-o", "SO,before");
    t_claim(__LINE__, DS_WORK_ACTIVITY, 1, tk + 2 * DS_LEASE_LEN, "SA");

    /* the grandchild ends its grandparent's, after an event to itself */

    t_both(__LINE__, t_op(DS_OP_START, "st-g0", "SG0", NULL));
    t_self_sub(__LINE__, "st-g0", "SG0", "st-g1", "SG1",
               tk + 3 * DS_LEASE_LEN);
    t_self_sub(__LINE__, "st-g1", "SG1", "st-g2", "SG2",
               tk + 4 * DS_LEASE_LEN);
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + 5 * DS_LEASE_LEN,
            "SG2");

    /*
     * suspended while its episode runs (the fence takes a completion of
     * a Suspended instance), and finishing after the termination: the
     * finish is not applied
     */

    t_both(__LINE__, t_op(DS_OP_SUSPEND, "st-g2", NULL, "\"nap\""));
    t_pg_is(__LINE__, "SELECT status FROM durable.instances "
            "WHERE hub = $1 AND id = $2", "st-g2", "7");

    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_RAISE_EVENT;
    a[0].id = -1;
    a[0].instance_id = t_s("st-g2");
    a[0].name = t_s("self");
    a[1].type = DS_ACT_TERMINATE;
    a[1].instance_id = t_s("st-g0");
    a[1].input = t_s("\"all\"");
    a[1].recurse = 1;
    a[2].type = DS_ACT_SCHEDULE_ACTIVITY;
    a[2].id = 1;
    a[2].name = t_s("SA");
    a[2].input = t_s("1");
    a[3].type = DS_ACT_COMPLETE;
    a[3].id = 2;
    a[3].input = t_s("\"done\"");
    t_complete(__LINE__, "st-g2", tk + 5 * DS_LEASE_LEN, a, 4);

    t_both(__LINE__, t_op(DS_OP_STATUS, "st-g0", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_STATUS, "st-g1", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_STATUS, "st-g2", NULL, NULL));
    t_pg_is(__LINE__, "SELECT concat_ws(' ', status, output) "
            "FROM durable.instances WHERE hub = $1 AND id = $2", "st-g2",
            "5 \"all\"");
    t_claim(__LINE__, DS_WORK_ACTIVITY, 1, tk + 6 * DS_LEASE_LEN, "SA");

    /* the parent alone: the child goes on */

    t_both(__LINE__, t_op(DS_OP_START, "st-n0", "SN0", NULL));
    t_self_sub(__LINE__, "st-n0", "SN0", "st-n1", "SN1",
               tk + 7 * DS_LEASE_LEN);
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + 8 * DS_LEASE_LEN,
            "SN1");

    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_TERMINATE;
    a[0].instance_id = t_s("st-n0");
    a[0].input = t_s("\"one\"");
    a[1].type = DS_ACT_SCHEDULE_ACTIVITY;
    a[1].id = 1;
    a[1].name = t_s("SB");
    a[1].input = t_s("1");
    t_complete(__LINE__, "st-n1", tk + 8 * DS_LEASE_LEN, a, 2);

    t_both(__LINE__, t_op(DS_OP_STATUS, "st-n0", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_STATUS, "st-n1", NULL, NULL));
    t_claim(__LINE__, DS_WORK_ACTIVITY, 1, tk + 9 * DS_LEASE_LEN, "SB");

    /*
     * an episode that continues as new writes no history: the child it
     * started before the termination, which the walk cannot find there,
     * ends too, and the history keeps nothing of the episode. A start
     * before it that another's active instance refused leaves that one
     * as it was; a start after it is not made.
     */

    t_both(__LINE__, t_op(DS_OP_START, "st-q0", "SQ0", NULL));
    t_both(__LINE__, t_op(DS_OP_START, "st-qx", "SQX", NULL));
    t_self_sub(__LINE__, "st-q0", "SQ0", "st-q1", "SQ1",
               tk + 12 * DS_LEASE_LEN);
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + 13 * DS_LEASE_LEN,
            "SQ1");
    t_complete(__LINE__, "st-q1", tk + 13 * DS_LEASE_LEN, NULL, 0);
    t_both(__LINE__, t_op(DS_OP_RAISE_EVENT, "st-q1", "go", "1"));
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + 14 * DS_LEASE_LEN,
            "SQ1");

    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_START_SUB;
    a[0].id = 1;
    a[0].name = t_s("SQX");
    a[0].instance_id = t_s("st-qx");
    a[1].type = DS_ACT_START_SUB;
    a[1].id = 2;
    a[1].name = t_s("SQK");
    a[1].instance_id = t_s("st-qk");
    a[2].type = DS_ACT_TERMINATE;
    a[2].instance_id = t_s("st-q0");
    a[2].input = t_s("\"again\"");
    a[2].recurse = 1;
    a[3].type = DS_ACT_START_SUB;
    a[3].id = 3;
    a[3].name = t_s("SQA");
    a[3].instance_id = t_s("st-qa");
    a[4].type = DS_ACT_CONTINUE_AS_NEW;
    a[4].id = 4;
    a[4].input = t_s("2");
    t_complete(__LINE__, "st-q1", tk + 14 * DS_LEASE_LEN, a, 5);

    t_both(__LINE__, t_op(DS_OP_STATUS, "st-q0", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_STATUS, "st-q1", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_STATUS, "st-qk", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_STATUS, "st-qx", NULL, NULL));
    t_both(__LINE__, t_op(DS_OP_STATUS, "st-qa", NULL, NULL));
    t_pg_is(__LINE__, "SELECT concat_ws(' ', status, parent_id IS NULL, "
            "output IS NULL) FROM durable.instances "
            "WHERE hub = $1 AND id = $2", "st-qx", "6 t t");
    t_pg_is(__LINE__, "SELECT concat_ws(' ', status, output) "
            "FROM durable.instances WHERE hub = $1 AND id = $2", "st-q1",
            "5 \"again\"");
    t_pg_is(__LINE__, "SELECT concat_ws(' ', status, output) "
            "FROM durable.instances WHERE hub = $1 AND id = $2", "st-qk",
            "5 \"again\"");
    t_pg_is(__LINE__, "SELECT string_agg(event::json ->> 'EventType', ',' "
            "ORDER BY seq) FROM durable.history WHERE hub = $1 AND id = $2",
            "st-q1", "OrchestratorStarted,ExecutionStarted,"
            "OrchestratorCompleted,ExecutionTerminated");

    t_hub = "hub";
}


/*
 * durable.time_text() writes a time as the C formatter does, its range's
 * ends too: a time past 9999 or before year 0 is clamped, year 0 is 0000
 */

static void
t_time_text(void)
{
    int             ok;
    char            c[64], num[32];
    size_t          i, n;
    PGresult       *res;
    const char     *params[1];

    static const int64_t  times[] = {
        0, 1, -1, 1520690251123456LL, 253402300799999999LL,
        253402300800000000LL, INT64_MAX, -62135596800000000LL,
        -62135596800000001LL, -62150000000000000LL, -62167219200000000LL,
        -62167219200000001LL, INT64_MIN
    };

    for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        n = ds_time_format_frac(times[i], c);
        c[n] = '\0';

        snprintf(num, sizeof(num), "%lld", (long long) times[i]);
        params[0] = num;

        res = t_read("SELECT durable.time_text($1::bigint)", 1, params);
        ok = PQresultStatus(res) == PGRES_TUPLES_OK
             && strcmp(PQgetvalue(res, 0, 0), c) == 0;
        t_check(ok, __LINE__, "a time written as the C formatter does");

        if (!ok) {
            printf("#   %s: C %s, SQL %s\n", num, c,
                   PQresultStatus(res) == PGRES_TUPLES_OK
                   ? PQgetvalue(res, 0, 0) : PQresultErrorMessage(res));
        }

        dsi_pg_conn_release(t_pg);
    }
}


/* an entity timer's message on LMDB, after its seq (the timer id) */

typedef struct {
    ds_str_t            eid;
    char               *text;
} t_timers_t;


static int
t_timer_msg(ds_txn_t *txn, uint64_t seq, const MDB_val *val, void *data)
{
    size_t          len;
    MDB_val         key, tv;
    t_timers_t     *t;
    unsigned char   kb[DS_KEY_BUF];

    t = data;

    if (val->mv_size != 8) {
        return DS_ERROR;
    }

    key.mv_data = kb;
    key.mv_size = dsi_key_timer(kb, t_s("hub"),
                                dsi_get_i64((unsigned char *) val->mv_data),
                                t->eid, (int64_t) seq);

    if (mdb_get(txn->txn, ds_dbi(txn, DS_DB_TIMERS), &key, &tv) != 0
        || tv.mv_size <= 8)
    {
        return DS_ERROR;
    }

    len = strlen(t->text);
    snprintf(t->text + len, T_BUF - len, "%llu ", (unsigned long long) seq);
    (void) t_event(t->text, seq, (ds_str_t) { (char *) tv.mv_data + 8,
                                              tv.mv_size - 8 });

    return DSI_EACH_NEXT;
}


/*
 * The signals an entity has waiting for their time, on both backends:
 * each timer's id and the message it carries, timestamps blanked
 */

static void
t_entity_timers(int line, const char *eid)
{
    int             i, ok;
    char           *l, *p;
    size_t          len;
    ds_txn_t       *txn;
    PGresult       *res;
    t_timers_t      t;
    const char     *params[2];

    l = calloc(1, T_BUF);
    p = calloc(1, T_BUF);

    if (l == NULL || p == NULL) {
        abort();
    }

    t.eid = t_s(eid);
    t.text = l;

    T(ds_txn_begin(t_env, NULL, 0, &txn) == DS_OK);
    T(dsi_seq_each(txn, DS_DB_TIMER_IX, t_s("hub"), t.eid, UINT64_MAX,
                   t_timer_msg, &t) == DS_OK);
    ds_txn_abort(txn);

    params[0] = "hub";
    params[1] = eid;
    res = t_read("SELECT timer_id, message FROM durable.timers "
                 "WHERE hub = $1 AND id = $2 ORDER BY timer_id",
                 2, params);
    T(PQresultStatus(res) == PGRES_TUPLES_OK);

    for (i = 0; i < PQntuples(res); i++) {
        len = strlen(p);
        snprintf(p + len, T_BUF - len, "%s ", PQgetvalue(res, i, 0));
        (void) t_event(p, 0, t_s(PQgetvalue(res, i, 1)));
    }

    dsi_pg_conn_release(t_pg);

    ok = strcmp(l, p) == 0;
    t_check(ok, line, "the same scheduled signals on both backends");

    if (!ok) {
        printf("#   %s lmdb:\n%s#   pg:\n%s", eid, l, p);
    }

    free(l);
    free(p);
}


/*
 * Signals scheduled for later, by a client, an orchestration and an
 * entity: they wait as timers of their entities, signals sent meanwhile
 * run before them, a claim says when to look again, and once due the
 * claim queues and hands them out
 */

static void
t_scheduled(void)
{
    size_t              i;
    int64_t             at;
    uint8_t             tk[5 * DS_LEASE_LEN];
    ds_op_t            *op;
    ds_str_t            name;
    ds_action_t         a[1];
    ds_claim_filter_t   filter;

    for (i = 0; i < sizeof(tk); i++) {
        tk[i] = (uint8_t) (0x50 + i / DS_LEASE_LEN);
    }

    /* t_entity_rec() reads hub "hub" */
    t_hub = "hub";

    memset(&filter, 0, sizeof(ds_claim_filter_t));
    name = t_s("sched");
    filter.names = &name;
    filter.nnames = 1;

    at = ds_time_now() + 1500000;

    /* from a client, then one for now that does not wait behind it */
    op = t_entity_op(DS_OP_ENTITY_SIGNAL, "Sched", "a", "add", "2");
    op->in.entity.at = at;
    t_both(__LINE__, op);
    op = t_entity_op(DS_OP_ENTITY_SIGNAL, "sched", "a", "add", "1");
    op->in.entity.at = ds_time_now() - 1000000;
    t_both(__LINE__, op);
    op = t_entity_op(DS_OP_ENTITY_SIGNAL, "sched", "a", "add", "3");
    op->in.entity.at = at;
    t_both(__LINE__, op);
    t_entity_timers(__LINE__, "@sched@a");
    t_entity_rec(__LINE__, "@sched@a");

    /* the entity's completion sends one for later */
    t_both(__LINE__, t_entity_claim(2, tk, &filter));

    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_SIGNAL_ENTITY;
    a[0].name = t_s("add");
    a[0].entity_name = t_s("Sched");
    a[0].entity_key = t_s("c");
    a[0].input = t_s("{\"from\":\"a\"}");
    a[0].fire_at = at;
    op = t_entity_op(DS_OP_WORK_COMPLETE, "sched", "a", NULL, "1");
    op->in.work.lease = tk;
    op->in.work.actions = a;
    op->in.work.nactions = 1;
    t_both(__LINE__, op);

    /* an orchestration's completion, one for later */
    t_both(__LINE__, t_op(DS_OP_START, "sched-o", "SchedOrch", NULL));
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + DS_LEASE_LEN,
            "SchedOrch");
    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_SIGNAL_ENTITY;
    a[0].id = 0;
    a[0].name = t_s("add");
    a[0].entity_name = t_s("Sched");
    a[0].entity_key = t_s("b");
    a[0].input = t_s("5");
    a[0].fire_at = at;
    t_complete(__LINE__, "sched-o", tk + DS_LEASE_LEN, a, 1);
    t_both(__LINE__, t_op(DS_OP_STATUS, "sched-o", NULL, NULL));

    t_entity_timers(__LINE__, "@sched@b");
    t_entity_timers(__LINE__, "@sched@c");
    t_entity_rec(__LINE__, "@sched@a");
    t_entity_rec(__LINE__, "@sched@b");
    t_entity_rec(__LINE__, "@sched@c");

    /* nothing to run yet, but a time to look again */
    t_both(__LINE__, t_entity_claim(3, tk + 2 * DS_LEASE_LEN, &filter));

    while (ds_time_now() < at + 200000) {
        (void) poll(NULL, 0, 100);
    }

    /* due: the claim fires them and takes all three */
    t_both(__LINE__, t_entity_claim(3, tk + 2 * DS_LEASE_LEN, &filter));
    t_entity_timers(__LINE__, "@sched@a");
    t_entity_rec(__LINE__, "@sched@a");
    t_entity_rec(__LINE__, "@sched@b");
    t_entity_rec(__LINE__, "@sched@c");
}


/*
 * An entity batch that failed as a whole (ds_work_fail_entity()): the
 * state stays, each call is answered with the failure, the lease goes;
 * fenced as any completion
 */

static void
t_entity_fail(void)
{
    size_t              i;
    uint8_t             tk[4 * DS_LEASE_LEN];
    ds_op_t            *op;
    ds_str_t            name;
    ds_claim_filter_t   filter;

    static const char  call[] =
        ",\"requestId\":\"f1\",\"parentInstanceId\":\"ef\","
        "\"parentExecution\":1";

    for (i = 0; i < sizeof(tk); i++) {
        tk[i] = (uint8_t) (0x50 + i / DS_LEASE_LEN);
    }

    /* t_entity_rec() reads hub "hub" */
    t_hub = "hub";

    memset(&filter, 0, sizeof(ds_claim_filter_t));
    name = t_s("faulty");
    filter.names = &name;
    filter.nnames = 1;

    t_both(__LINE__, t_op(DS_OP_START, "ef", "Caller", NULL));

    /* a state first */
    t_both(__LINE__, t_entity_op(DS_OP_ENTITY_SIGNAL, "Faulty", "k", "set",
                                 "7"));
    t_both(__LINE__, t_entity_claim(1, tk, &filter));
    op = t_entity_op(DS_OP_WORK_COMPLETE, "faulty", "k", NULL,
                     "{\"n\":7}");
    op->in.work.lease = tk;
    t_both(__LINE__, op);

    /* a call, a signal, another call; and an entity without state */
    t_send(__LINE__, "@faulty@k", "\"operation\":\"get\",\"input\":null",
           call);
    t_both(__LINE__, t_entity_op(DS_OP_ENTITY_SIGNAL, "faulty", "k", "add",
                                 "1"));
    t_send(__LINE__, "@faulty@k", "\"operation\":\"add\",\"input\":2",
           ",\"requestId\":\"f2\",\"parentInstanceId\":\"ef\","
           "\"parentExecution\":1");
    t_both(__LINE__, t_entity_op(DS_OP_ENTITY_SIGNAL, "faulty", "new",
                                 "add", "1"));
    t_both(__LINE__, t_entity_claim(2, tk + DS_LEASE_LEN, &filter));

    op = t_entity_op(DS_OP_WORK_COMPLETE, "faulty", "k", NULL, NULL);
    op->in.work.lease = tk + DS_LEASE_LEN;
    op->in.work.failed = 1;
    op->in.work.reason = t_s("\"bo\\\"om\"");
    op->in.work.details = t_s("{\"at\":[1]}");
    t_both(__LINE__, op);

    /* again: the same answer, nothing more; other details: a mismatch */
    t_both(__LINE__, op);
    op->in.work.details = t_s("{\"at\":[2]}");
    t_both(__LINE__, op);

    t_inbox(__LINE__, "ef");
    t_entity_rec(__LINE__, "@faulty@k");
    t_both(__LINE__, t_entity_op(DS_OP_ENTITY_GET, "faulty", "k", NULL,
                                 NULL));

    /* under the other entity's lease: no state before, none after */
    op = t_entity_op(DS_OP_WORK_COMPLETE, "faulty", "new", NULL, NULL);
    op->in.work.lease = tk + DS_LEASE_LEN;
    op->in.work.failed = 1;
    op->in.work.reason = t_s("\"no\"");
    t_both(__LINE__, op);
    op->in.work.lease = tk + 2 * DS_LEASE_LEN;
    t_both(__LINE__, op);
    t_entity_rec(__LINE__, "@faulty@new");
    t_both(__LINE__, t_entity_op(DS_OP_ENTITY_GET, "faulty", "new", NULL,
                                 NULL));

    /* a stale lease, an entity that does not exist */
    op->in.work.lease = tk + 3 * DS_LEASE_LEN;
    t_both(__LINE__, op);
    op->in.work.key = t_s("none");
    t_both(__LINE__, op);
}


/*
 * What an entity's batch starts: an orchestration with a version and
 * tags, and one for later, as a start with those options makes them
 */

static void
t_entity_starts(void)
{
    size_t              i;
    uint8_t             tk[DS_LEASE_LEN];
    ds_op_t            *op;
    ds_str_t            name;
    ds_action_t         acts[3];
    ds_claim_filter_t   filter;

    for (i = 0; i < sizeof(tk); i++) {
        tk[i] = 0x5c;
    }

    t_hub = "hub";

    memset(&filter, 0, sizeof(ds_claim_filter_t));
    name = t_s("starter");
    filter.names = &name;
    filter.nnames = 1;

    t_both(__LINE__, t_entity_op(DS_OP_ENTITY_SIGNAL, "starter", "k", "go",
                                 NULL));
    t_both(__LINE__, t_entity_claim(1, tk, &filter));

    memset(acts, 0, sizeof(acts));
    acts[0].type = DS_ACT_START_SUB;
    acts[0].name = t_s("Tagged");
    acts[0].instance_id = t_s("es1");
    acts[0].input = t_s("[1]");
    acts[0].version = t_s("2.\"1");
    acts[0].tags = t_s("{\"t\":\"\\u00e9\"}");
    acts[1].type = DS_ACT_START_SUB;
    acts[1].name = t_s("Later");
    acts[1].instance_id = t_s("es2");
    acts[1].version = t_s("1");
    acts[1].fire_at = 4102444800000001LL;
    acts[2].type = DS_ACT_START_SUB;
    acts[2].name = t_s("Past");
    acts[2].instance_id = t_s("es3");
    acts[2].fire_at = 1000000;

    op = t_entity_op(DS_OP_WORK_COMPLETE, "starter", "k", NULL, "1");
    op->in.work.lease = tk;
    op->in.work.actions = acts;
    op->in.work.nactions = 3;
    t_both(__LINE__, op);

    /* a retry answers the same; another time is another completion */
    t_both(__LINE__, op);
    acts[1].fire_at++;
    t_both(__LINE__, op);

    for (i = 0; i < 3; i++) {
        t_both(__LINE__, t_op(DS_OP_STATUS, i == 0 ? "es1"
                                           : i == 1 ? "es2" : "es3",
                              NULL, NULL));
        t_inbox(__LINE__, i == 0 ? "es1" : i == 1 ? "es2" : "es3");
    }

    /* the one for later is not claimed before its time */
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk, "Later");
}


/* a claim of one item of name for 200 ms */

static void
t_lapse_claim(int line, ds_work_kind_e kind, const char *name,
    const uint8_t *token)
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
    op->in.claim.lease_us = 200000;
    op->in.claim.max = 1;
    op->in.claim.tokens = token;
    op->in.claim.filter = &filter;
    t_both(line, op);
}


/*
 * Leases that run out: an activity and an entity claimed again once their
 * lease has expired are counted as such (the metrics' expired leases);
 * claimed again after an abandon, they are not
 */

static void
t_lapse(void)
{
    size_t        i;
    uint8_t       tk[4 * DS_LEASE_LEN];
    ds_op_t      *op;
    ds_action_t   a;

    for (i = 0; i < sizeof(tk); i++) {
        tk[i] = (uint8_t) (0x61 + i / DS_LEASE_LEN);
    }

    t_hub = "lapse";

    /* the activity of l1's first episode, and a signal */
    t_both(__LINE__, t_op(DS_OP_START, "l1", "Lapse", NULL));
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk, "Lapse");

    memset(&a, 0, sizeof(ds_action_t));
    a.type = DS_ACT_SCHEDULE_ACTIVITY;
    a.name = t_s("Slow");
    t_complete(__LINE__, "l1", tk, &a, 1);

    op = t_entity_op(DS_OP_ENTITY_SIGNAL, "slow", "k", "add", "1");
    op->hub = t_s(t_hub);
    t_both(__LINE__, op);

    /* leased, then claimed again well after the lease ran out */
    t_lapse_claim(__LINE__, DS_WORK_ACTIVITY, "Slow", tk + DS_LEASE_LEN);
    T(t_expired == 0);
    t_lapse_claim(__LINE__, DS_WORK_ENTITY, "slow", tk + DS_LEASE_LEN);
    T(t_expired == 0);

    (void) poll(NULL, 0, 1200);

    t_lapse_claim(__LINE__, DS_WORK_ACTIVITY, "Slow", tk + 2 * DS_LEASE_LEN);
    T(t_expired == 1);
    t_lapse_claim(__LINE__, DS_WORK_ENTITY, "slow", tk + 2 * DS_LEASE_LEN);
    T(t_expired == 1);

    /* an abandon clears the lease: the next claim takes over none */
    t_activity(__LINE__, DS_OP_WORK_ABANDON, "l1", 0, tk + 2 * DS_LEASE_LEN,
               0, NULL);

    op = t_entity_op(DS_OP_WORK_ABANDON, "slow", "k", NULL, NULL);
    op->hub = t_s(t_hub);
    op->in.work.lease = tk + 2 * DS_LEASE_LEN;
    t_both(__LINE__, op);

    t_lapse_claim(__LINE__, DS_WORK_ACTIVITY, "Slow", tk + 3 * DS_LEASE_LEN);
    T(t_expired == 0);
    t_lapse_claim(__LINE__, DS_WORK_ENTITY, "slow", tk + 3 * DS_LEASE_LEN);
    T(t_expired == 0);
}


/*
 * An activity's version and tags (a gRPC ScheduleTaskAction's), kept by
 * the orchestration's completion and by a rewind for the claimed item,
 * which a worker's ActivityRequest carries; an activity without them,
 * scheduled again in the same row, has none left; a tombstone none
 */

static void
t_activity_options(void)
{
    size_t        i;
    uint8_t       tk[6 * DS_LEASE_LEN];
    ds_action_t   a[3];

    static const char *const  f[] = {
        "{\"EventType\":\"ExecutionStarted\",\"Timestamp\":"
            "\"2024-01-01T00:00:00Z\",\"EventId\":-1,\"Name\":\"Main\"}",
        "{\"EventType\":\"TaskScheduled\",\"Timestamp\":"
            "\"2024-01-01T00:00:01Z\",\"EventId\":0,\"Name\":\"Vers\","
            "\"Input\":1,\"Version\":\"2.\\\"0\","
            "\"Tags\":{ \"k\" :\t\"v w\\\" x\" ,\"\":\"\"}}",
        "{\"EventType\":\"TaskScheduled\",\"Timestamp\":"
            "\"2024-01-01T00:00:02Z\",\"EventId\":1,\"Name\":\"Vers\","
            "\"Version\":\"\",\"Tags\":[1]}",
        "{\"EventType\":\"TaskFailed\",\"Timestamp\":"
            "\"2024-01-01T00:00:03Z\",\"EventId\":-1,\"TaskScheduledId\":0}",
        "{\"EventType\":\"ExecutionCompleted\",\"Timestamp\":"
            "\"2024-01-01T00:00:04Z\",\"EventId\":2,"
            "\"OrchestrationStatus\":3,\"Result\":null}"
    };

    for (i = 0; i < sizeof(tk); i++) {
        tk[i] = (uint8_t) (0x71 + i / DS_LEASE_LEN);
    }

    /* rewound: both pending calls again, with what their events say */
    t_hub = "hub";
    t_failed_instance("vt", f, sizeof(f) / sizeof(f[0]));
    t_both(__LINE__, t_op(DS_OP_REWIND, "vt", NULL, NULL));
    t_claim(__LINE__, DS_WORK_ACTIVITY, 3, tk, "Vers");

    t_hub = "actopt";

    t_both(__LINE__, t_op(DS_OP_START, "v1", "Ver", NULL));
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk, "Ver");

    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_SCHEDULE_ACTIVITY;
    a[0].id = 0;
    a[0].name = t_s("Act");
    a[0].input = t_s("[1]");
    a[0].version = t_s("1.2 \"b\"");
    a[0].tags = t_s("{\"team\":\"x\\\"y\",\"k\":\"\"}");
    a[1].type = DS_ACT_SCHEDULE_ACTIVITY;
    a[1].id = 1;
    a[1].name = t_s("Act");
    a[1].tags = t_s("{\"only\":\"tags\"}");
    a[2].type = DS_ACT_SCHEDULE_ACTIVITY;
    a[2].id = 2;
    a[2].name = t_s("Act");
    a[2].version = t_s("3");

    t_complete(__LINE__, "v1", tk, a, 3);
    t_claim(__LINE__, DS_WORK_ACTIVITY, 4, tk + DS_LEASE_LEN, NULL);

    /* completed: a tombstone; the next episode schedules a plain one */
    t_activity(__LINE__, DS_OP_WORK_COMPLETE, "v1", 0, tk + DS_LEASE_LEN,
               0, "7");
    t_claim(__LINE__, DS_WORK_ORCHESTRATION, 1, tk + 2 * DS_LEASE_LEN,
            "Ver");

    memset(a, 0, sizeof(a));
    a[0].type = DS_ACT_SCHEDULE_ACTIVITY;
    a[0].id = 3;
    a[0].name = t_s("Plain");
    t_complete(__LINE__, "v1", tk + 2 * DS_LEASE_LEN, a, 1);
    t_claim(__LINE__, DS_WORK_ACTIVITY, 2, tk + 3 * DS_LEASE_LEN, "Plain");
    t_both(__LINE__, t_op(DS_OP_STATUS, "v1", NULL, NULL));

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

    t_pg = dsi_pg_conn_start(argv[1], 0, err, sizeof(err));
    if (t_pg == NULL || t_drive(t_pg) != DSI_PG_READY) {
        fprintf(stderr, "connect: %s\n",
                t_pg ? dsi_pg_conn_error(t_pg) : err);
        return 1;
    }

    t_script();
    t_claims();
    t_entities();
    t_entity_lists();

    /* instances c1, c2, b3 remain; then some more */
    t_both(__LINE__, t_op(DS_OP_START, "d4", "N", NULL));
    t_both(__LINE__, t_op(DS_OP_START, "c5", "N", NULL));
    t_both(__LINE__, t_op(DS_OP_START, "d6", "N", NULL));
    t_pages(__LINE__, 1, 0, NULL);
    t_pages(__LINE__, 2, 0, NULL);
    t_pages(__LINE__, 4, 0, "c");
    t_pages(__LINE__, 4, 2, "d");
    t_pages(__LINE__, 10, 1, NULL);

    t_control();
    t_rewind();
    t_token();
    t_work();
    t_rewind_late();
    t_custom();
    t_opts();
    t_partial();
    t_entity_actions();
    t_terminate_tree();
    t_self_terminate();
    t_scheduled();
    t_time_text();
    t_entity_fail();
    t_entity_starts();
    t_lapse();
    t_activity_options();

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
