
/*
 * Copyright (C) ngx_durable authors
 *
 * Activity work items on PostgreSQL: the calls of claim, renew, abandon
 * and completion (store/pg/functions/40-activity.sql) and their answers.
 * The completion's digest and its message's members are the LMDB store's
 * (ds_activity.c), so a retry is recognised alike and the instance's
 * inbox gets the same bytes.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_internal.h"
#include "ds_pg.h"


static int dsi_pg_activity_complete(const ds_op_t *op, dsi_pg_call_t *call);


int
dsi_pg_activity_call(const ds_op_t *op, dsi_pg_call_t *call)
{
    switch (op->type) {

    case DS_OP_WORK_CLAIM:
        if (op->in.claim.max > 1000) {
            return DS_INVALID;
        }

        /* with each item's version and tags (functions of level 4) */
        call->stmt.sql = "SELECT * FROM durable.claim_activities_opts($1, "
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
        dsi_pg_param_str(call, op->hub);
        dsi_pg_param_str(call, op->in.work.id);
        dsi_pg_param_int(call, op->in.work.task);
        dsi_pg_param_lease(call, op->in.work.lease);

        if (op->type == DS_OP_WORK_RENEW) {
            call->stmt.sql = "SELECT rc, expires, error FROM "
                             "durable.renew_activity($1, $2, $3, $4, $5)";
            dsi_pg_param_int(call, op->in.work.lease_us);

        } else {
            call->stmt.sql = "SELECT rc, NULL::bigint, error FROM "
                             "durable.abandon_activity($1, $2, $3, $4)";
        }

        break;

    case DS_OP_WORK_COMPLETE:
        if (dsi_pg_activity_complete(op, call) != DS_OK) {
            return DS_ERROR;
        }

        break;

    default:
        return DS_UNSUPPORTED;
    }

    return dsi_pg_finish(call);
}


/* the digest and the message's members, as ds_work_complete_activity() */

static int
dsi_pg_activity_complete(const ds_op_t *op, dsi_pg_call_t *call)
{
    dsi_digest_t  d;

    dsi_digest_init(&d, DS_WORK_ACTIVITY);
    dsi_digest_int(&d, op->in.work.failed);

    if (op->in.work.failed) {
        dsi_digest_str(&d, op->in.work.reason);
        dsi_digest_str(&d, op->in.work.details);

    } else {
        dsi_digest_str(&d, op->in.work.result);
    }

    call->stmt.sql = "SELECT rc, NULL::bigint, error FROM "
                     "durable.complete_activity($1, $2, $3, $4, $5, $6, $7)";
    dsi_pg_param_str(call, op->hub);
    dsi_pg_param_str(call, op->in.work.id);
    dsi_pg_param_int(call, op->in.work.task);
    dsi_pg_param_lease(call, op->in.work.lease);
    dsi_pg_param_int(call, (int64_t) dsi_digest_end(&d));
    dsi_pg_param(call, op->in.work.failed ? "t" : "f", 1, 0);

    dsi_ev_open(&call->buf);
    dsi_ev_int(&call->buf, "TaskScheduledId", op->in.work.task);

    if (op->in.work.failed) {
        dsi_ev_json(&call->buf, "Reason", op->in.work.reason);
        dsi_ev_json(&call->buf, "Details", op->in.work.details);

    } else {
        dsi_ev_json(&call->buf, "Result", op->in.work.result);
    }

    if (call->buf.oom) {
        return DS_ERROR;
    }

    /* without the "{" that opened them */
    dsi_pg_param(call, call->buf.data + 1, call->buf.len - 1, 0);

    return DS_OK;
}


/*
 * A claim's answer: the item callback for each row; op->rc is set.
 * DS_OK when res could be read.
 */

int
dsi_pg_activity_claimed(ds_op_t *op, const PGresult *res)
{
    int             i, rows;
    ds_work_item_t  item;

    rows = PQntuples(res);

    for (i = 0; i < rows - 1; i++) {
        memset(&item, 0, sizeof(ds_work_item_t));
        item.kind = DS_WORK_ACTIVITY;
        item.id = dsi_pg_text(res, i, 1);
        item.task_id = dsi_pg_int(res, i, 2);
        item.name = dsi_pg_text(res, i, 3);
        item.input = dsi_pg_text(res, i, 4);
        item.execution = (uint64_t) dsi_pg_int(res, i, 5);
        item.lease_expires = dsi_pg_int(res, i, 6);
        item.version = dsi_pg_text(res, i, 8);
        item.tags = dsi_pg_text(res, i, 9);
        item.lease = op->in.claim.tokens + (size_t) i * DS_LEASE_LEN;

        if (op->in.claim.item(op->in.claim.item_data, op, &item) != 0) {
            op->out.claim.claimed = 0;
            op->rc = DS_ERROR;
            return DS_OK;
        }
    }

    op->out.claim.claimed = (size_t) (rows - 1);
    op->out.claim.visible = dsi_pg_int(res, rows - 1, 7);

    if (op->in.claim.filter != NULL) {
        /* the last row's execution: items claimed from leases that ran out */
        op->in.claim.filter->expired = (size_t) dsi_pg_int(res, rows - 1,
                                                           5);
    }

    return DS_OK;
}
