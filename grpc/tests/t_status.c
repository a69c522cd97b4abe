
/*
 * Copyright (C) ngx_durable authors
 *
 * Status codes: the store's answers mapped per operation, the message,
 * and grpc-message's percent-encoding.
 */


#include "t.h"


static void
t_status_ops(void)
{
    ds_op_t      op;
    dg_status_t  st;

    memset(&op, 0, sizeof(op));

    op.type = DS_OP_START;
    op.in.start.id = t_s("order-1");
    op.rc = DS_CONFLICT;
    op.out.start.status = DS_RUNNING;
    T_INT(dg_status_from_op(&op, &st), DG_ALREADY_EXISTS);
    T_BYTES(st.message, st.len, "an orchestration instance with id "
            "'order-1' is already Running");

    op.rc = DS_FULL;
    T_INT(dg_status_from_op(&op, &st), DG_RESOURCE_EXHAUSTED);
    op.rc = DS_ERROR;
    T_INT(dg_status_from_op(&op, &st), DG_UNAVAILABLE);
    T_BYTES(st.message, st.len, "the store failed while starting: retry "
            "later");
    op.rc = DS_STOPPED;
    T_INT(dg_status_from_op(&op, &st), DG_UNAVAILABLE);
    T_BYTES(st.message, st.len, "the store takes no writes: a flush of its "
            "data failed; see the server's error log");
    op.rc = DS_UNAVAILABLE;
    T_INT(dg_status_from_op(&op, &st), DG_UNAVAILABLE);
    T_BYTES(st.message, st.len, "the store is unavailable while starting: "
            "it did not answer in time, or its database asked for a retry; "
            "retry later");
    op.rc = DS_UNSUPPORTED;
    T_INT(dg_status_from_op(&op, &st), DG_UNIMPLEMENTED);
    T_BYTES(st.message, st.len, "the store's backend does not support "
            "starting yet");
    op.rc = DS_SCHEMA;
    T_INT(dg_status_from_op(&op, &st), DG_UNAVAILABLE);
    T_BYTES(st.message, st.len, "the store's database schema or functions "
            "are not those this server serves; see its error log");
    op.rc = DS_OK;
    T_INT(dg_status_from_op(&op, &st), DG_OK);
    T_INT(st.len, 0);

    memset(&op, 0, sizeof(op));
    op.type = DS_OP_RAISE_EVENT;
    op.in.control.id = t_s("x");
    op.rc = DS_NOTFOUND;
    T_INT(dg_status_from_op(&op, &st), DG_NOT_FOUND);
    T_BYTES(st.message, st.len, "no instance 'x'");
    op.rc = DS_GONE;
    T_INT(dg_status_from_op(&op, &st), DG_FAILED_PRECONDITION);
    op.rc = DS_INVALID;
    T_INT(dg_status_from_op(&op, &st), DG_INVALID_ARGUMENT);

    op.type = DS_OP_PURGE;
    op.rc = DS_PRECONDITION;
    op.out.control.status = DS_RUNNING;
    T_INT(dg_status_from_op(&op, &st), DG_FAILED_PRECONDITION);
    T_BYTES(st.message, st.len, "instance 'x' is Running: only ended "
            "instances can be purged");

    /* the work-item calls: a stale token is no conflict of ids */

    memset(&op, 0, sizeof(op));
    op.type = DS_OP_WORK_COMPLETE;
    op.in.work.id = t_s("x");
    op.rc = DS_CONFLICT;
    T_INT(dg_status_from_op(&op, &st), DG_FAILED_PRECONDITION);
    op.rc = DS_MISMATCH;
    T_INT(dg_status_from_op(&op, &st), DG_FAILED_PRECONDITION);
    op.rc = DS_NOTFOUND;
    T_INT(dg_status_from_op(&op, &st), DG_NOT_FOUND);

    memset(&op, 0, sizeof(op));
    op.type = DS_OP_ENTITY_GET;
    op.in.entity.name = t_s("counter");
    op.in.entity.key = t_s("c1");
    op.rc = DS_NOTFOUND;
    T_INT(dg_status_from_op(&op, &st), DG_NOT_FOUND);
    T_BYTES(st.message, st.len, "entity '@counter@c1' has no state");

    memset(&op, 0, sizeof(op));
    op.type = DS_OP_LIST;
    op.rc = DS_INVALID;
    T_INT(dg_status_from_op(&op, &st), DG_INVALID_ARGUMENT);
    T_BYTES(st.message, st.len, "the continuation token is not one this "
            "server gave out");

    memset(&op, 0, sizeof(op));
    op.type = DS_OP_RESTART;
    op.in.start.id = t_s("new");
    op.in.start.from = t_s("old");
    op.rc = DS_NOTFOUND;
    T_INT(dg_status_from_op(&op, &st), DG_NOT_FOUND);
    T_BYTES(st.message, st.len, "no instance 'old'");
}


static void
t_status_names(void)
{
    T(strcmp(dg_code_name(DG_OK), "OK") == 0);
    T(strcmp(dg_code_name(DG_UNAUTHENTICATED), "UNAUTHENTICATED") == 0);
    T(strcmp(dg_code_name(17), "UNKNOWN") == 0);
    T(strcmp(dg_code_name(-1), "UNKNOWN") == 0);
}


static void
t_status_percent(void)
{
    char         out[64];
    size_t       n;
    dg_status_t  st;
    const char  *in = "50% done\n\xc3\xa9~";

    T_INT(dg_percent_encode_len(in, strlen(in)), 20);
    n = dg_percent_encode(in, strlen(in), out);
    T_BYTES(out, n, "50%25 done%0A%C3%A9~");
    T_INT(n, dg_percent_encode_len(in, strlen(in)));

    /* a message longer than the buffer is cut, not overrun */

    memset(out, 'a', sizeof(out) - 1);
    out[sizeof(out) - 1] = '\0';
    dg_status_set(&st, DG_INTERNAL, "%s%s%s%s%s%s%s%s%s", out, out, out,
                  out, out, out, out, out, out);
    T_INT(st.len, DG_MESSAGE_MAX - 1);
}


void
t_status(void)
{
    t_status_ops();
    t_status_names();
    t_status_percent();
}
