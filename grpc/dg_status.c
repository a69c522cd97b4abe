
/*
 * Copyright (C) ngx_durable authors
 *
 * gRPC status codes: names, the store's answers mapped to them, and the
 * percent-encoding of grpc-message.
 */


#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "durable_grpc.h"
#include "dg_internal.h"


static const char  *dg_code_names[] = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
    "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"
};


const char *
dg_code_name(int code)
{
    if (code < 0
        || (size_t) code >= sizeof(dg_code_names) / sizeof(dg_code_names[0]))
    {
        return "UNKNOWN";
    }

    return dg_code_names[code];
}


int
dg_status_set(dg_status_t *st, dg_code_e code, const char *fmt, ...)
{
    int      n;
    va_list  args;

    va_start(args, fmt);
    n = vsnprintf(st->message, DG_MESSAGE_MAX, fmt, args);
    va_end(args);

    st->code = code;
    st->len = n < 0 ? 0 : (size_t) n < DG_MESSAGE_MAX ? (size_t) n
                                                       : DG_MESSAGE_MAX - 1;

    return code;
}


/* the instance (or entity) an operation is about, for the message */

static ds_str_t
dgi_op_subject(const ds_op_t *op)
{
    ds_str_t  none = { "", 0 };

    switch (op->type) {

    case DS_OP_START:
    case DS_OP_RESTART:
        return op->in.start.id;

    case DS_OP_RAISE_EVENT:
    case DS_OP_TERMINATE:
    case DS_OP_SUSPEND:
    case DS_OP_RESUME:
    case DS_OP_REWIND:
    case DS_OP_PURGE:
    case DS_OP_STATUS:
        return op->in.control.id;

    case DS_OP_WORK_COMPLETE:
    case DS_OP_WORK_RENEW:
    case DS_OP_WORK_ABANDON:
        return op->in.work.id;

    case DS_OP_HISTORY:
        return op->in.history.id;

    default:
        return none;
    }
}


static int
dgi_is_work(const ds_op_t *op)
{
    return op->type == DS_OP_WORK_COMPLETE || op->type == DS_OP_WORK_RENEW
           || op->type == DS_OP_WORK_ABANDON;
}


int
dg_status_from_op(const ds_op_t *op, dg_status_t *st)
{
    int          n;
    ds_str_t     id;
    ds_status_e  status;

    id = dgi_op_subject(op);
    n = id.len > 200 ? 200 : (int) id.len;

    switch (op->rc) {

    case DS_OK:
        return dg_status_set(st, DG_OK, "%s", "");

    case DS_NOTFOUND:
        if (dgi_is_work(op)) {
            return dg_status_set(st, DG_NOT_FOUND,
                                 "the work item of '%.*s' is gone", n,
                                 id.data);
        }

        if (op->type == DS_OP_RESTART) {
            return dg_status_set(st, DG_NOT_FOUND, "no instance '%.*s'",
                                 (int) (op->in.start.from.len > 200
                                        ? 200 : op->in.start.from.len),
                                 op->in.start.from.data);
        }

        if (op->type == DS_OP_ENTITY_GET) {
            return dg_status_set(st, DG_NOT_FOUND,
                                 "entity '@%.*s@%.*s' has no state",
                                 (int) (op->in.entity.name.len > 200
                                        ? 200 : op->in.entity.name.len),
                                 op->in.entity.name.data,
                                 (int) (op->in.entity.key.len > 200
                                        ? 200 : op->in.entity.key.len),
                                 op->in.entity.key.data);
        }

        return dg_status_set(st, DG_NOT_FOUND, "no instance '%.*s'", n,
                             id.data);

    case DS_CONFLICT:
        if (dgi_is_work(op)) {
            return dg_status_set(st, DG_FAILED_PRECONDITION,
                                 "the completion token of '%.*s' is not "
                                 "the current lease of its work item", n,
                                 id.data);
        }

        status = op->out.start.status;

        return dg_status_set(st, DG_ALREADY_EXISTS,
                             "an orchestration instance with id '%.*s' is "
                             "already %s", n, id.data,
                             ds_status_name(status));

    case DS_GONE:
        if (dgi_is_work(op)) {
            return dg_status_set(st, DG_FAILED_PRECONDITION,
                                 "instance '%.*s' ended while its work "
                                 "item was leased", n, id.data);
        }

        return dg_status_set(st, DG_FAILED_PRECONDITION,
                             "instance '%.*s' has already ended", n,
                             id.data);

    case DS_PRECONDITION:
        status = op->out.control.status;

        if (op->type == DS_OP_PURGE) {
            return dg_status_set(st, DG_FAILED_PRECONDITION,
                                 "instance '%.*s' is %s: only ended "
                                 "instances can be purged", n, id.data,
                                 ds_status_name(status));
        }

        if (op->type == DS_OP_REWIND) {
            return dg_status_set(st, DG_FAILED_PRECONDITION,
                                 "instance '%.*s' is %s: only failed "
                                 "instances can be rewound", n, id.data,
                                 ds_status_name(status));
        }

        return dg_status_set(st, DG_FAILED_PRECONDITION,
                             "instance '%.*s' is %s", n, id.data,
                             ds_status_name(status));

    case DS_FULL:
        return dg_status_set(st, DG_RESOURCE_EXHAUSTED,
                             "the store is full: %s was refused; "
                             "terminate and purge instances to make room",
                             ds_op_what(op->type));

    case DS_INVALID:
        if (op->type == DS_OP_LIST || op->type == DS_OP_ENTITY_LIST
            || op->type == DS_OP_ENTITY_CLEAN)
        {
            return dg_status_set(st, DG_INVALID_ARGUMENT,
                                 "the continuation token is not one this "
                                 "server gave out");
        }

        return dg_status_set(st, DG_INVALID_ARGUMENT,
                             "the store refused the arguments of %s",
                             ds_op_what(op->type));

    case DS_MISMATCH:
        return dg_status_set(st, DG_FAILED_PRECONDITION,
                             "another completion was applied under this "
                             "completion token of '%.*s'", n, id.data);

    case DS_UNAVAILABLE:
        /*
         * a network backend's timeout (the outcome is unknown), or its
         * database's "try again" (a deadlock, a read-only server)
         */
        return dg_status_set(st, DG_UNAVAILABLE,
                             "the store is unavailable while %s: it did "
                             "not answer in time, or its database asked "
                             "for a retry; retry later",
                             ds_op_what(op->type));

    case DS_UNSUPPORTED:
        return dg_status_set(st, DG_UNIMPLEMENTED,
                             "the store's backend does not support %s yet",
                             ds_op_what(op->type));

    case DS_SCHEMA:
        /* nothing was sent; the store logged the version it found */
        return dg_status_set(st, DG_UNAVAILABLE,
                             "the store's database schema or functions are "
                             "not those this server serves; see its error "
                             "log");

    case DS_STOPPED:
        /* until nginx is started again: a retry fails the same way */
        return dg_status_set(st, DG_UNAVAILABLE,
                             "the store takes no writes: a flush of its "
                             "data failed; see the server's error log");

    default:
        return dg_status_set(st, DG_UNAVAILABLE,
                             "the store failed while %s: retry later",
                             ds_op_what(op->type));
    }
}


static int
dgi_percent_keep(unsigned char c)
{
    return c >= ' ' && c <= '~' && c != '%';
}


size_t
dg_percent_encode_len(const char *in, size_t len)
{
    size_t  i, n;

    for (i = 0, n = 0; i < len; i++) {
        n += dgi_percent_keep((unsigned char) in[i]) ? 1 : 3;
    }

    return n;
}


size_t
dg_percent_encode(const char *in, size_t len, char *out)
{
    size_t          i, n;
    unsigned char   c;
    static const char  hex[] = "0123456789ABCDEF";

    for (i = 0, n = 0; i < len; i++) {
        c = (unsigned char) in[i];

        if (dgi_percent_keep(c)) {
            out[n++] = (char) c;
            continue;
        }

        out[n++] = '%';
        out[n++] = hex[c >> 4];
        out[n++] = hex[c & 0x0f];
    }

    return n;
}
