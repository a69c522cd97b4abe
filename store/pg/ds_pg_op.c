
/*
 * Copyright (C) ngx_durable authors
 *
 * Operations (ds_op_t) as calls of the schema's functions, and their
 * answers read back into the op: the PostgreSQL backend's half of "logic
 * in shared C, thin SQL" (docs/postgres.md). The checks and the event
 * members are the LMDB store's own (ds_events.c), so both backends store
 * the same bytes; the database adds only the envelope and its time.
 *
 * Parameters are text, NUL-terminated copies in one block per call; JSON
 * of length 0 (null) is sent as SQL NULL.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_internal.h"
#include "ds_pg.h"


/*
 * status reads of one hub in one durable.status_many() at most: bounds
 * the search for an id read twice, done once for each read
 */
#define DSI_PG_STATUS_MAX   256
/*
 * ops a read looks at from its own on for others of its hub: a read alone
 * for its hub does not scan the rest of the batch, so the grouping is
 * linear in the batch however its hubs mix
 */
#define DSI_PG_STATUS_AHEAD 256

/* a call's row while a batch's statements are made: not placed yet */
#define DSI_PG_UNPLACED     -2


static int dsi_pg_batchable(const ds_op_t *op);
static int dsi_pg_status_groupable(const ds_op_t *op, const char *hub);
static void dsi_pg_array_add(ds_buf_t *b, const char *s);
static void dsi_pg_param_array(dsi_pg_call_t *run, const ds_op_t *op,
    size_t n, int k);
static void dsi_pg_status_group(ds_op_t *op, dsi_pg_stmt_t *stmts,
    size_t *nstmts, dsi_pg_call_t *runs, size_t *nruns);
static void dsi_pg_instance_row(const PGresult *res, int row, int status,
    int tail, ds_instance_t *inst);
static int dsi_pg_status_row(ds_op_t *op, const PGresult *res, int row,
    ds_instance_t *inst);


int
dsi_pg_op_call(const ds_op_t *op, dsi_pg_call_t *call)
{
    const ds_query_t       *q;
    const ds_start_opts_t  *opts;

    memset(call, 0, sizeof(dsi_pg_call_t));
    dsi_buf_init(&call->buf);

    if (dsi_pg_entity_op(op)) {
        return dsi_pg_entity_call(op, call);
    }

    switch (op->type) {

    case DS_OP_START:
        opts = &op->in.start.opts;

        if (opts->version.len > DS_NAME_MAX
            || ds_tags_check(opts->tags) != DS_OK)
        {
            return DS_INVALID;
        }

        call->stmt.sql = "SELECT rc, status, error FROM durable.start_opts("
                         "$1, $2, $3, $4, $5, $6, $7, $8, $9)";
        dsi_pg_param_str(call, op->hub);
        dsi_pg_param_str(call, op->in.start.id);
        dsi_pg_param_str(call, op->in.start.name);
        dsi_pg_param_json(call, op->in.start.input);

        /* ExecutionStarted's members but ScheduledStartTime, as dsi_start() */
        dsi_ev_open(&call->buf);
        dsi_ev_str(&call->buf, "Name", op->in.start.name);
        dsi_ev_json(&call->buf, "Input", op->in.start.input);

        if (opts->version.len) {
            dsi_ev_str(&call->buf, "Version", opts->version);
        }

        if (opts->tags.len) {
            dsi_ev_json(&call->buf, "Tags", opts->tags);
        }

        if (call->buf.oom) {
            return DS_ERROR;
        }

        dsi_pg_param(call, call->buf.data + 1, call->buf.len - 1, 0);
        dsi_pg_param(call, opts->version.data, opts->version.len,
                     opts->version.len == 0);
        dsi_pg_param_json(call, opts->tags);
        dsi_pg_param_int(call, opts->scheduled);
        dsi_pg_param_int(call, (int64_t) opts->replace);
        break;

    case DS_OP_RAISE_EVENT:
        if (op->in.control.name.len > DS_NAME_MAX) {
            return DS_INVALID;
        }

        call->stmt.sql = "SELECT rc, NULL::smallint, error "
                         "FROM durable.raise_event($1, $2, $3)";
        dsi_pg_param_str(call, op->hub);
        dsi_pg_param_str(call, op->in.control.id);

        if (dsi_pg_members(call, "Name", op->in.control.name, "Input",
                           op->in.control.data)
            != DS_OK)
        {
            return DS_ERROR;
        }

        break;

    case DS_OP_TERMINATE:
    case DS_OP_SUSPEND:
    case DS_OP_RESUME:
        if (op->in.control.recurse) {
            return dsi_pg_control_call(op, call);
        }

        /* with whether the status changed, for the lifecycle log */
        call->stmt.sql = "SELECT rc, NULL::smallint, error, changed "
                         "FROM durable.control($1, $2, $3, $4)";
        dsi_pg_param_int(call, op->type == DS_OP_TERMINATE ? 0
                               : op->type == DS_OP_SUSPEND ? 1 : 2);
        dsi_pg_param_str(call, op->hub);
        dsi_pg_param_str(call, op->in.control.id);
        dsi_pg_param_json(call, op->in.control.data);
        break;

    case DS_OP_PURGE:
        if (op->in.control.recurse) {
            return dsi_pg_control_call(op, call);
        }

        call->stmt.sql = "SELECT rc, status, error "
                         "FROM durable.purge($1, $2)";
        dsi_pg_param_str(call, op->hub);
        dsi_pg_param_str(call, op->in.control.id);
        break;

    case DS_OP_PURGE_BATCH:
        q = op->in.purge.query;

        /* the SQL takes no prefix: refused, as ds_instance_purge() does */
        if (q->id_prefix.len) {
            return DS_INVALID;
        }

        /*
         * bounded by max_us as on LMDB, and by a quarter of the session's
         * statement_timeout: a batch of large histories that outlasts
         * the server's bound would be rolled back at every try
         */
        call->stmt.sql = "SELECT rc, deleted, more, error "
                         "FROM durable.purge_batch_for($1, $2, $3, $4, $5, "
                         "$6)";
        dsi_pg_param_str(call, op->hub);
        dsi_pg_param_int(call, q->created_from);
        dsi_pg_param_int(call, q->created_to);
        dsi_pg_param_int(call, dsi_pg_mask(q->status_mask));
        dsi_pg_param_int(call, (int64_t) (op->in.purge.max > 0x7fffffff
                                          ? 0x7fffffff : op->in.purge.max));
        dsi_pg_param_int(call, op->in.purge.max_us);
        break;

    case DS_OP_STATUS:
        /* the history is half the read's cost: only for who reads it */
        call->stmt.sql = op->in.control.history
                         ? "SELECT * FROM durable.status($1, $2, true)"
                         : "SELECT * FROM durable.status($1, $2, false)";
        dsi_pg_param_str(call, op->hub);
        dsi_pg_param_str(call, op->in.control.id);
        break;

    case DS_OP_LIST:
        q = op->in.list.query;

        if (q->top == 0 || q->top > 0x7fffffff) {
            return DS_INVALID;
        }

        call->stmt.sql = "SELECT * FROM durable.list_page_opts($1, $2, $3, "
                         "$4, $5, $6, $7, $8)";
        dsi_pg_param_str(call, op->hub);
        dsi_pg_param_int(call, q->created_from);
        dsi_pg_param_int(call, q->created_to);
        dsi_pg_param_int(call, dsi_pg_mask(q->status_mask));
        dsi_pg_param_str(call, q->id_prefix);
        dsi_pg_param_int(call, (int64_t) q->top);
        dsi_pg_param_int(call, (int64_t) (q->scan_budget > 0x7fffffff
                                          ? 0x7fffffff : q->scan_budget));
        dsi_pg_param(call, q->token.data, q->token.len, q->token.len == 0);
        break;

    case DS_OP_WORK_CLAIM:
        if (op->in.claim.kind == DS_WORK_ACTIVITY) {
            return dsi_pg_activity_call(op, call);
        }

        if (op->in.claim.kind != DS_WORK_ORCHESTRATION) {
            return DS_UNSUPPORTED;
        }

        if (op->in.claim.max > 1000) {
            return DS_INVALID;
        }

        call->stmt.sql = "SELECT * FROM durable.claim_orchestrations($1, "
                         "$2, $3, $4)";
        dsi_pg_param_str(call, op->hub);
        dsi_pg_param_int(call, op->in.claim.lease_us);

        if (dsi_pg_tokens(call, op->in.claim.tokens, op->in.claim.max)
            != DS_OK
            || dsi_pg_names(call, op->in.claim.filter) != DS_OK)
        {
            return DS_ERROR;
        }

        break;

    case DS_OP_WORK_RENEW:
    case DS_OP_WORK_ABANDON:
        if (op->in.work.kind == DS_WORK_ACTIVITY) {
            return dsi_pg_activity_call(op, call);
        }

        if (op->in.work.kind != DS_WORK_ORCHESTRATION) {
            return DS_UNSUPPORTED;
        }

        dsi_pg_param_str(call, op->hub);
        dsi_pg_param_str(call, op->in.work.id);
        dsi_pg_param_lease(call, op->in.work.lease);

        if (op->type == DS_OP_WORK_RENEW) {
            call->stmt.sql = "SELECT rc, expires, error FROM "
                             "durable.renew_orchestration($1, $2, $3, $4)";
            dsi_pg_param_int(call, op->in.work.lease_us);

        } else {
            call->stmt.sql = "SELECT rc, NULL::bigint, error FROM "
                             "durable.abandon_orchestration($1, $2, $3)";
        }

        break;

    case DS_OP_RESTART:
    case DS_OP_REWIND:
    case DS_OP_HISTORY:
    case DS_OP_STATS:
        return dsi_pg_control_call(op, call);

    case DS_OP_WORK_COMPLETE:
        if (op->in.work.kind == DS_WORK_ACTIVITY) {
            return dsi_pg_activity_call(op, call);
        }

        if (op->in.work.kind == DS_WORK_ORCHESTRATION) {
            return dsi_pg_orchestration_complete(op, call);
        }

        return DS_UNSUPPORTED;

    default:
        /* not served yet (docs/postgres.md) */
        return DS_UNSUPPORTED;
    }

    return dsi_pg_finish(call);
}


void
dsi_pg_call_free(dsi_pg_call_t *call)
{
    free(call->mem);
    dsi_buf_free(&call->buf);
    call->mem = NULL;
}


/* a start durable.start_batch() can take: no scheduled time, no policy */

static int
dsi_pg_batchable(const ds_op_t *op)
{
    const dsi_pg_call_t  *call;

    call = op->backend;

    return op->type == DS_OP_START && op->in.start.opts.scheduled == 0
           && op->in.start.opts.replace == 0 && call->stmt.nparams == 9;
}


/*
 * a status read durable.status_many() can take: without the history, of
 * hub, and not in a statement yet
 */

static int
dsi_pg_status_groupable(const ds_op_t *op, const char *hub)
{
    const dsi_pg_call_t  *call;

    call = op->backend;

    return op->type == DS_OP_STATUS && !op->in.control.history
           && call->row == DSI_PG_UNPLACED && call->stmt.nparams == 2
           && strcmp(call->values[0], hub) == 0;
}


/* s as an element of a text[] literal: quoted, " and \ escaped */

static void
dsi_pg_array_add(ds_buf_t *b, const char *s)
{
    if (s == NULL) {
        dsi_buf_add(b, "NULL", 4);
        return;
    }

    dsi_buf_add(b, "\"", 1);

    for ( /* void */ ; *s; s++) {
        if (*s == '"' || *s == '\\') {
            dsi_buf_add(b, "\\", 1);
        }

        dsi_buf_add(b, s, 1);
    }

    dsi_buf_add(b, "\"", 1);
}


/* parameter k of the run's n calls as a text[] literal */

static void
dsi_pg_param_array(dsi_pg_call_t *run, const ds_op_t *op, size_t n, int k)
{
    size_t                i;
    const dsi_pg_call_t  *call;

    run->buf.len = 0;
    dsi_buf_add(&run->buf, "{", 1);

    for (i = 0; i < n; i++, op = op->next) {
        call = op->backend;

        if (i) {
            dsi_buf_add(&run->buf, ",", 1);
        }

        dsi_pg_array_add(&run->buf, call->stmt.values[k]);
    }

    dsi_buf_add(&run->buf, "}", 1);

    if (run->buf.oom) {
        run->oom = 1;
        return;
    }

    dsi_pg_param(run, run->buf.data, run->buf.len, 0);
}


size_t
dsi_pg_batch_stmts(ds_op_t *ops, dsi_pg_stmt_t *stmts, dsi_pg_call_t *runs,
    size_t *nruns)
{
    int             k;
    size_t          n, i, nstmts;
    ds_op_t        *op, *end;
    dsi_pg_call_t  *call, *run;

    nstmts = 0;
    *nruns = 0;

    for (op = ops; op; op = op->next) {
        ((dsi_pg_call_t *) op->backend)->row = DSI_PG_UNPLACED;
    }

    for (op = ops; op; op = end) {
        call = op->backend;
        end = op->next;

        if (call->row != DSI_PG_UNPLACED) {
            /* a status read already in a hub's statement */
            continue;
        }

        if (op->type == DS_OP_STATUS) {
            dsi_pg_status_group(op, stmts, &nstmts, runs, nruns);
            continue;
        }

        /* the run of starts of op's hub that op begins */
        n = 1;

        if (dsi_pg_batchable(op)) {
            while (end && dsi_pg_batchable(end)
                   && strcmp(((dsi_pg_call_t *) end->backend)->values[0],
                             call->values[0]) == 0)
            {
                n++;
                end = end->next;
            }
        }

        if (n > 1) {
            run = &runs[*nruns];
            memset(run, 0, sizeof(dsi_pg_call_t));
            dsi_buf_init(&run->buf);

            run->stmt.sql = "SELECT rc, status, error FROM "
                            "durable.start_batch($1, $2, $3, $4, $5, $6, "
                            "$7)";
            dsi_pg_param(run, call->values[0], strlen(call->values[0]), 0);

            /* ids, names, inputs, members, versions, tags */
            for (k = 1; k <= 6; k++) {
                dsi_pg_param_array(run, op, n, k);
            }

            if (dsi_pg_finish(run) == DS_OK) {
                (*nruns)++;

                for (i = 0; i < n; i++, op = op->next) {
                    call = op->backend;
                    call->at = nstmts;
                    call->row = (int) i;
                }

                stmts[nstmts++] = run->stmt;
                continue;
            }

            /* out of memory: each start its own statement, as alone */
            dsi_pg_call_free(run);
        }

        for ( /* void */ ; op != end; op = op->next) {
            call = op->backend;
            call->at = nstmts;
            call->row = -1;
            stmts[nstmts++] = call->stmt;
        }
    }

    return nstmts;
}


/*
 * The status reads without history of op's hub among the
 * DSI_PG_STATUS_AHEAD ops from op on: one call of durable.status_many()
 * with each id once, a read's row that of its id; a read alone, or one
 * that wants the history, is its own durable.status(). The reads further
 * on make groups of their own, from the first of them.
 */

static void
dsi_pg_status_group(ds_op_t *op, dsi_pg_stmt_t *stmts, size_t *nstmts,
    dsi_pg_call_t *runs, size_t *nruns)
{
    int             row, nids;
    size_t          n, at, seen;
    ds_op_t        *o;
    const char     *hub, *ids[DSI_PG_STATUS_MAX];
    dsi_pg_call_t  *call, *c, *run;

    call = op->backend;
    hub = call->values[0];
    at = *nstmts;
    n = 0;

    if (dsi_pg_status_groupable(op, hub)) {
        for (o = op, seen = 0;
             o && n < DSI_PG_STATUS_MAX && seen < DSI_PG_STATUS_AHEAD;
             o = o->next, seen++)
        {
            n += dsi_pg_status_groupable(o, hub);
        }
    }

    if (n < 2) {
        call->at = at;
        call->row = -1;
        stmts[(*nstmts)++] = call->stmt;
        return;
    }

    run = &runs[*nruns];
    memset(run, 0, sizeof(dsi_pg_call_t));
    dsi_buf_init(&run->buf);
    dsi_buf_add(&run->buf, "{", 1);

    nids = 0;

    for (o = op; o && n; o = o->next) {
        if (!dsi_pg_status_groupable(o, hub)) {
            continue;
        }

        c = o->backend;

        /* an id read twice is read once */
        for (row = 0; row < nids && strcmp(ids[row], c->values[1]) != 0;
             row++)
        {
            /* void */
        }

        if (row == nids) {
            if (nids) {
                dsi_buf_add(&run->buf, ",", 1);
            }

            dsi_pg_array_add(&run->buf, c->values[1]);
            ids[nids++] = c->values[1];
        }

        c->at = at;
        c->row = row;
        n--;
    }

    dsi_buf_add(&run->buf, "}", 1);

    run->stmt.sql = "SELECT * FROM durable.status_many($1, $2)";
    dsi_pg_param(run, hub, strlen(hub), 0);

    if (run->buf.oom) {
        run->oom = 1;

    } else {
        dsi_pg_param(run, run->buf.data, run->buf.len, 0);
    }

    if (dsi_pg_finish(run) == DS_OK) {
        (*nruns)++;
        stmts[(*nstmts)++] = run->stmt;
        return;
    }

    /* out of memory: each read its own statement, as alone */
    dsi_pg_call_free(run);

    for (o = op, seen = 0; o && seen < DSI_PG_STATUS_AHEAD;
         o = o->next, seen++)
    {
        c = o->backend;

        if (c->row >= 0 && c->at == at) {
            c->at = (*nstmts);
            c->row = -1;
            stmts[(*nstmts)++] = c->stmt;
        }
    }
}


/*
 * op's answer in row of a statement of several ops' (durable.start_batch()
 * or durable.status_many()); a STATUS's inst as dsi_pg_op_answer()'s
 */

int
dsi_pg_row_answer(ds_op_t *op, const PGresult *res, int row,
    ds_instance_t *inst)
{
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) <= row) {
        op->rc = DS_ERROR;
        return DS_ERROR;
    }

    op->rc = (int) dsi_pg_int(res, row, 0);

    if (op->type == DS_OP_STATUS) {
        return dsi_pg_status_row(op, res, row, inst);
    }

    op->out.start.status = (ds_status_e) dsi_pg_int(res, row, 1);

    return DS_OK;
}


/*
 * The answer of op's call: op->rc and out. A STATUS fills *inst with
 * strings pointing into res, valid while res is; a LIST calls the item
 * callback for each row and copies the token. DS_OK when res could be
 * read (op->rc is then the operation's answer), DS_ERROR otherwise.
 */

int
dsi_pg_op_answer(ds_op_t *op, const PGresult *res, ds_instance_t *inst,
    ds_entity_t *entity)
{
    int             i, rows, c, rc;
    size_t          len;
    ds_str_t        id, token;
    void           *answer;
    dsi_pg_claim_t  claim;
    ds_work_item_t  item;

    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) < 1) {
        op->rc = DS_ERROR;
        return DS_ERROR;
    }

    rows = PQntuples(res);
    op->rc = (int) dsi_pg_int(res, rows - 1, 0);

    if (dsi_pg_entity_op(op)) {
        return dsi_pg_entity_answer(op, res, entity);
    }

    switch (op->type) {

    case DS_OP_START:
        op->out.start.status = (ds_status_e) dsi_pg_int(res, 0, 1);
        break;

    case DS_OP_PURGE:
    case DS_OP_RESTART:
    case DS_OP_REWIND:
    case DS_OP_HISTORY:
        return dsi_pg_control_answer(op, res);

    case DS_OP_TERMINATE:
    case DS_OP_SUSPEND:
    case DS_OP_RESUME:
        if (!op->in.control.recurse) {
            op->out.control.changed = op->rc == DS_OK
                                      && PQgetvalue(res, 0, 3)[0] == 't';
        }

        break;

    case DS_OP_PURGE_BATCH:
        op->out.purge.deleted = (size_t) dsi_pg_int(res, 0, 1);
        op->out.purge.more = PQgetvalue(res, 0, 2)[0] == 't';
        break;

    case DS_OP_STATUS:
        return dsi_pg_status_row(op, res, 0, inst);

    case DS_OP_LIST:
        op->out.list.token_len = 0;

        if (op->rc != DS_OK) {
            break;
        }

        c = dsi_pg_col(res, "token");
        if (c < 0 || dsi_pg_col(res, "scheduled_start") != c + 1) {
            op->rc = DS_ERROR;
            return DS_ERROR;
        }

        for (i = 0; i < rows - 1; i++) {
            id = dsi_pg_text(res, i, 1);
            dsi_pg_instance_row(res, i, 2, c + 1, inst);
            inst->parent_task = -1;

            if (op->in.list.item(op->in.list.item_data, id, inst) != 0) {
                op->rc = DS_ERROR;
                return DS_OK;
            }
        }

        token = dsi_pg_text(res, rows - 1, c);
        len = token.len < DS_TOKEN_MAX ? token.len : 0;
        memcpy(op->in.list.token, token.data, len);
        op->out.list.token_len = len;
        break;

    case DS_OP_WORK_CLAIM:
        op->out.claim.claimed = 0;
        op->out.claim.visible = INT64_MAX;

        if (op->in.claim.filter != NULL) {
            /* names filter in the query: nothing passed over */
            op->in.claim.filter->skipped = 0;
            op->in.claim.filter->more = 0;
            op->in.claim.filter->expired = 0;
        }

        if (op->in.claim.begin != NULL) {
            op->in.claim.begin(op->in.claim.item_data);
        }

        if (op->rc != DS_OK) {
            break;
        }

        if (op->in.claim.kind == DS_WORK_ACTIVITY) {
            return dsi_pg_activity_claimed(op, res);
        }

        /* the backend's answer again once the items are read */
        answer = op->backend;
        claim.res = res;
        claim.keep = NULL;
        op->backend = &claim;

        for (i = 0; i < rows - 1; i++) {
            claim.row = i;
            memset(&item, 0, sizeof(ds_work_item_t));
            item.kind = DS_WORK_ORCHESTRATION;
            item.id = dsi_pg_text(res, i, 1);
            item.name = dsi_pg_text(res, i, 2);
            item.input = dsi_pg_text(res, i, 3);
            item.execution = (uint64_t) dsi_pg_int(res, i, 4);
            item.timestamp = dsi_pg_int(res, i, 5);
            item.status = (ds_status_e) dsi_pg_int(res, i, 6);
            item.upto = (uint64_t) dsi_pg_int(res, i, 7);
            item.lease_expires = dsi_pg_int(res, i, 8);
            item.lease = op->in.claim.tokens + (size_t) i * DS_LEASE_LEN;

            rc = op->in.claim.item(op->in.claim.item_data, op, &item);
            dsi_pg_keep_free(&claim.keep);

            if (rc != 0) {
                op->backend = answer;
                op->out.claim.claimed = 0;
                op->rc = DS_ERROR;
                return DS_OK;
            }
        }

        op->backend = answer;
        op->out.claim.claimed = (size_t) (rows - 1);
        op->out.claim.visible = dsi_pg_int(res, rows - 1, 12);

        if (op->in.claim.filter != NULL) {
            /* the last row's upto: items claimed from leases that ran out */
            op->in.claim.filter->expired = (size_t) dsi_pg_int(res, rows - 1,
                                                               7);
        }

        break;

    case DS_OP_WORK_RENEW:
        op->out.work.expires = dsi_pg_int(res, 0, 1);
        break;

    case DS_OP_WORK_COMPLETE:
        if (op->in.work.kind == DS_WORK_ORCHESTRATION) {
            dsi_pg_orchestration_completed(op, res);
        }

        break;

    default:
        break;
    }

    return DS_OK;
}


/*
 * The columns of an instance that a row of a list page and one of a
 * status read share, into inst (cleared first): created, updated,
 * execution, name, input, output, custom_status and parent_id are
 * columns 3 to 10 of both; the status is column status (the list's
 * column 1 is the id, the status read's 2 its suspended_from), and
 * scheduled_start, version, tags and failure follow each other from
 * column tail (-1: the function has none).
 */

static void
dsi_pg_instance_row(const PGresult *res, int row, int status, int tail,
    ds_instance_t *inst)
{
    memset(inst, 0, sizeof(ds_instance_t));
    inst->status = (ds_status_e) dsi_pg_int(res, row, status);
    inst->created = dsi_pg_int(res, row, 3);
    inst->updated = dsi_pg_int(res, row, 4);
    inst->execution = (uint64_t) dsi_pg_int(res, row, 5);
    inst->name = dsi_pg_text(res, row, 6);
    inst->input = dsi_pg_text(res, row, 7);
    inst->output = dsi_pg_text(res, row, 8);
    inst->custom_status = dsi_pg_text(res, row, 9);
    inst->parent_id = dsi_pg_text(res, row, 10);

    if (tail >= 0) {
        inst->scheduled_start = dsi_pg_int(res, row, tail);
        inst->version = dsi_pg_text(res, row, tail + 1);
        inst->tags = dsi_pg_text(res, row, tail + 2);
        inst->failure = dsi_pg_text(res, row, tail + 3);
    }
}


/*
 * A STATUS answer's instance, from row of durable.status() or of
 * durable.status_many(), whose columns are the same up to done_digest
 * and then found by name; op->rc is already row's rc
 */

static int
dsi_pg_status_row(ds_op_t *op, const PGresult *res, int row,
    ds_instance_t *inst)
{
    op->out.status.inst = NULL;

    if (op->rc != DS_OK) {
        return DS_OK;
    }

    /* schema version 4's columns: by name, after the others */
    dsi_pg_instance_row(res, row, 1, dsi_pg_col(res, "scheduled_start"),
                        inst);
    inst->suspended_from = (ds_status_e) dsi_pg_int(res, row, 2);
    inst->parent_task = dsi_pg_int(res, row, 11);
    inst->parent_execution = (uint64_t) dsi_pg_int(res, row, 12);
    inst->ready_at = dsi_pg_int(res, row, 13);
    inst->lease_expires = dsi_pg_int(res, row, 15);
    inst->episode_at = dsi_pg_int(res, row, 16);
    inst->lease_upto = (uint64_t) dsi_pg_int(res, row, 17);
    inst->inbox_seq = (uint64_t) dsi_pg_int(res, row, 18);
    inst->done_status = (ds_status_e) dsi_pg_int(res, row, 19);
    inst->done_digest = (uint64_t) dsi_pg_int(res, row, 21);

    if (dsi_pg_bytes16(res, row, 14, inst->lease) != 0
        || dsi_pg_bytes16(res, row, 20, inst->done_lease) != 0)
    {
        op->rc = DS_ERROR;
        return DS_ERROR;
    }

    op->out.status.inst = inst;

    return DS_OK;
}


/*
 * During a claim's item callback: the item's history or messages, from
 * its row of the answer
 */

int
dsi_pg_op_item_events(const ds_op_t *op, const ds_work_item_t *item,
    ds_list_e list, ds_event_cb cb, void *data)
{
    int              c;
    dsi_pg_claim_t  *claim;

    (void) item;

    claim = op->backend;

    if (claim == NULL || op->type != DS_OP_WORK_CLAIM) {
        return DS_INVALID;
    }

    if (list == DS_LIST_OPERATIONS) {
        /* an entity claim's backend is ds_pg_entity.c's */
        return op->in.claim.kind == DS_WORK_ENTITY
               ? dsi_pg_entity_ops(claim, cb, data) : DS_INVALID;
    }

    c = dsi_pg_col(claim->res, list == DS_LIST_HISTORY ? "history"
                                                      : "messages");

    if (c < 0 || PQgetisnull(claim->res, claim->row, c)) {
        return DS_ERROR;
    }

    return dsi_pg_array_keep(PQgetvalue(claim->res, claim->row, c), cb, data,
                             &claim->keep);
}


/*
 * The events of a STATUS answer's history (res: its result), in order:
 * the text of a PostgreSQL array of strings, {"..","..."}, unquoted;
 * valid until dsi_pg_keep_free(keep).
 */

int
dsi_pg_op_history(const PGresult *res, ds_event_cb cb, void *data,
    dsi_pg_keep_t **keep)
{
    int  c;

    c = dsi_pg_col(res, "history");

    if (c < 0 || PQntuples(res) < 1 || PQgetisnull(res, 0, c)) {
        return DS_NOTFOUND;
    }

    return dsi_pg_array_keep(PQgetvalue(res, 0, c), cb, data, keep);
}
