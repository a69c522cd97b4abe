
/*
 * Copyright (C) ngx_durable authors
 *
 * The calls and answers of restart, rewind, history chunks, recursive
 * terminate and purge, and the figures for monitoring
 * (functions/70-control.sql): ds_pg_op.c hands these types here. A
 * STATS answer stays in its result until done() has read it through the
 * accessors at the end.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_internal.h"
#include "ds_pg.h"


/* the columns of durable.stats()'s rows */
#define DSI_PG_ST_HUB       1
#define DSI_PG_ST_CLASS     2
#define DSI_PG_ST_CODE      3
#define DSI_PG_ST_N         4
#define DSI_PG_ST_OLDEST    5


static int64_t dsi_pg_size(size_t n);


int
dsi_pg_control_call(const ds_op_t *op, dsi_pg_call_t *call)
{
    switch (op->type) {

    case DS_OP_RESTART:
        call->stmt.sql = "SELECT rc, status, error "
                         "FROM durable.restart($1, $2, $3)";
        dsi_pg_param_str(call, op->hub);
        dsi_pg_param_str(call, op->in.start.id);
        dsi_pg_param_str(call, op->in.start.from);
        break;

    case DS_OP_REWIND:
        call->stmt.sql = "SELECT rc, status, error "
                         "FROM durable.rewind($1, $2, $3)";
        dsi_pg_param_str(call, op->hub);
        dsi_pg_param_str(call, op->in.control.id);
        dsi_pg_param_json(call, op->in.control.data);
        break;

    case DS_OP_HISTORY:
        if (op->in.history.item == NULL) {
            return DS_INVALID;
        }

        call->stmt.sql = "SELECT * FROM durable.history_chunk($1, $2, $3, "
                         "$4, $5)";
        dsi_pg_param_str(call, op->hub);
        dsi_pg_param_str(call, op->in.history.id);
        dsi_pg_param_int(call, op->in.history.from > (uint64_t) INT64_MAX
                               ? INT64_MAX : (int64_t) op->in.history.from);
        dsi_pg_param_int(call, dsi_pg_size(op->in.history.max_events));
        dsi_pg_param_int(call, dsi_pg_size(op->in.history.max_bytes));
        break;

    case DS_OP_TERMINATE:
        call->stmt.sql = "SELECT rc, NULL::smallint, error "
                         "FROM durable.terminate_tree($1, $2, $3)";
        dsi_pg_param_str(call, op->hub);
        dsi_pg_param_str(call, op->in.control.id);
        dsi_pg_param_json(call, op->in.control.data);
        break;

    case DS_OP_PURGE:
        call->stmt.sql = "SELECT rc, status, error, purged "
                         "FROM durable.purge_tree($1, $2)";
        dsi_pg_param_str(call, op->hub);
        dsi_pg_param_str(call, op->in.control.id);
        break;

    case DS_OP_STATS:
        call->stmt.sql = "SELECT * FROM durable.stats()";
        break;

    default:
        return DS_UNSUPPORTED;
    }

    return dsi_pg_finish(call);
}


/* the answer of a call above: op->rc is set from the last row already */

int
dsi_pg_control_answer(ds_op_t *op, const PGresult *res)
{
    int       i, rows, seq, ev;
    uint64_t  n;

    rows = PQntuples(res);

    switch (op->type) {

    case DS_OP_RESTART:
        op->out.start.status = (ds_status_e) dsi_pg_int(res, 0, 1);
        break;

    case DS_OP_REWIND:
        op->out.control.status = (ds_status_e) dsi_pg_int(res, 0, 1);
        op->out.control.changed = (op->rc == DS_OK);
        break;

    case DS_OP_PURGE:
        /* recursive: the tree's count; durable.purge(): the one */
        op->out.control.status = (ds_status_e) dsi_pg_int(res, 0, 1);
        op->out.control.purged = op->in.control.recurse
                                 ? (size_t) dsi_pg_int(res, 0, 3)
                                 : (op->rc == DS_OK);
        break;

    case DS_OP_HISTORY:
        op->out.history.next = 0;

        if (op->rc != DS_OK) {
            break;
        }

        seq = dsi_pg_col(res, "seq");
        ev = dsi_pg_col(res, "event");

        if (seq < 0 || ev < 0) {
            op->rc = DS_ERROR;
            return DS_ERROR;
        }

        for (i = 0; i < rows - 1; i++) {
            n = (uint64_t) dsi_pg_int(res, i, seq);

            if (op->in.history.item(op->in.history.item_data, n,
                                    dsi_pg_text(res, i, ev))
                != 0)
            {
                op->rc = DS_ERROR;
                return DS_OK;
            }
        }

        op->out.history.next = (uint64_t) dsi_pg_int(res, rows - 1,
                                                     dsi_pg_col(res, "next"));
        op->out.history.execution =
            (uint64_t) dsi_pg_int(res, rows - 1, dsi_pg_col(res, "execution"));
        op->out.history.status =
            (ds_status_e) dsi_pg_int(res, rows - 1, dsi_pg_col(res, "status"));
        break;

    default:
        break;
    }

    return DS_OK;
}


/*
 * The figures of a STATS answer, during its done(): as ds_counts_each()
 * (statuses and ready entries, hub by hub), ds_ready_oldest() and
 * ds_timers_total()
 */

int
dsi_pg_stats_each(const PGresult *res, ds_count_cb cb, void *data)
{
    int         i, rows;
    int64_t     class;
    ds_count_t  c;

    rows = PQntuples(res);

    for (i = 0; i < rows - 1; i++) {
        class = dsi_pg_int(res, i, DSI_PG_ST_CLASS);

        if (class > 1) {
            continue;
        }

        memset(&c, 0, sizeof(ds_count_t));
        c.what = class == 0 ? DS_COUNT_STATUS : DS_COUNT_READY;
        c.status = (ds_status_e) dsi_pg_int(res, i, DSI_PG_ST_CODE);
        c.kind = (ds_work_kind_e) dsi_pg_int(res, i, DSI_PG_ST_CODE);
        c.count = (uint64_t) dsi_pg_int(res, i, DSI_PG_ST_N);

        if (cb(data, dsi_pg_text(res, i, DSI_PG_ST_HUB), &c) != 0) {
            return DS_ERROR;
        }
    }

    return DS_OK;
}


int
dsi_pg_stats_oldest(const PGresult *res, ds_str_t hub, ds_work_kind_e kind,
    int64_t *at)
{
    int       i, rows;
    ds_str_t  h;

    if ((unsigned) kind > DS_WORK_ENTITY) {
        return DS_INVALID;
    }

    rows = PQntuples(res);

    for (i = 0; i < rows - 1; i++) {
        h = dsi_pg_text(res, i, DSI_PG_ST_HUB);

        if (dsi_pg_int(res, i, DSI_PG_ST_CLASS) == 1
            && dsi_pg_int(res, i, DSI_PG_ST_CODE) == (int64_t) kind
            && h.len == hub.len && memcmp(h.data, hub.data, hub.len) == 0
            && !PQgetisnull(res, i, DSI_PG_ST_OLDEST))
        {
            *at = dsi_pg_int(res, i, DSI_PG_ST_OLDEST);
            return DS_OK;
        }
    }

    return DS_NOTFOUND;
}


int
dsi_pg_stats_timers(const PGresult *res, uint64_t *n)
{
    int  i, rows;

    rows = PQntuples(res);
    *n = 0;

    for (i = 0; i < rows - 1; i++) {
        if (dsi_pg_int(res, i, DSI_PG_ST_CLASS) == 2) {
            *n += (uint64_t) dsi_pg_int(res, i, DSI_PG_ST_N);
        }
    }

    return DS_OK;
}


/* a bound for SQL's bigint; 0 stays "none" */

static int64_t
dsi_pg_size(size_t n)
{
    return n > (size_t) INT64_MAX ? INT64_MAX : (int64_t) n;
}
