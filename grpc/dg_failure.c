
/*
 * Copyright (C) ngx_durable authors
 *
 * Failure details (TaskFailureDetails) and the store's JSON for them:
 * {"ErrorType", "ErrorMessage", "StackTrace", "IsNonRetriable"}, with
 * "InnerFailure" (the same object, nested) and "Properties" (an object)
 * when the worker gave them. A property's value is an encoded
 * google.protobuf.Value on the wire (durable_task.proto keeps it as
 * bytes); it is stored as the JSON that Value stands for, and encoded
 * again on the way out.
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "durable_grpc.h"
#include "dg_internal.h"
#include "ds_jspan.h"


/* google.protobuf.Value's fields, as keys (field << 3 | wire type) */
#define DGI_PV_NULL         0x08    /* 1, varint */
#define DGI_PV_NUMBER       0x11    /* 2, 64-bit */
#define DGI_PV_STRING       0x1a    /* 3, length-delimited */
#define DGI_PV_BOOL         0x20    /* 4, varint */
#define DGI_PV_STRUCT       0x2a    /* 5, length-delimited */
#define DGI_PV_LIST         0x32    /* 6, length-delimited */
/* field 1 of Struct (its entries), of an entry (key), of ListValue */
#define DGI_PV_FIELD1       0x0a
#define DGI_PV_FIELD2       0x12    /* an entry's value */

/* the room kept for a field's length: a varint of up to 35 bits */
#define DGI_LEN_ROOM        5


typedef struct {
    dg_ctx_t           *ctx;
    char               *data;
    size_t              len;
    size_t              size;
    int                 oom;
} dgi_buf_t;


static void dgi_buf_init(dgi_buf_t *b, dg_ctx_t *ctx);
static char *dgi_buf_room(dgi_buf_t *b, size_t n);
static void dgi_buf_add(dgi_buf_t *b, const void *p, size_t n);
static void dgi_buf_escape(dgi_buf_t *b, const char *s, size_t n);
static size_t dgi_varint(uint8_t *c, uint64_t v);
static void dgi_buf_varint(dgi_buf_t *b, uint64_t v);
static size_t dgi_field_open(dgi_buf_t *b, uint8_t tag);
static void dgi_field_close(dgi_buf_t *b, size_t at);
static int dgi_pv_field(const uint8_t **p, const uint8_t *end,
    uint64_t *key, uint64_t *num, const uint8_t **data, size_t *len);
static int dgi_pv_json(const uint8_t *p, size_t len, unsigned depth,
    dgi_buf_t *b);
static void dgi_pv_text(ds_str_t json, dgi_buf_t *b);
static int dgi_json_pv(dg_ctx_t *ctx, ds_str_t json, unsigned depth,
    dgi_buf_t *b);
static int dgi_failure_json(dg_ctx_t *ctx, const TaskFailureDetails *fd,
    unsigned depth, dgi_buf_t *b);
static void dgi_details_out(dg_ctx_t *ctx, ds_str_t details,
    unsigned depth, TaskFailureDetails *fd);


static int
dgi_nomem(dg_ctx_t *ctx)
{
    return dg_status_set(&ctx->status, DG_RESOURCE_EXHAUSTED,
                         "out of memory");
}


/* --- a buffer that grows in the call's memory (old blocks stay in it) -- */

static void
dgi_buf_init(dgi_buf_t *b, dg_ctx_t *ctx)
{
    b->ctx = ctx;
    b->data = NULL;
    b->len = 0;
    b->size = 0;
    b->oom = 0;
}


static char *
dgi_buf_room(dgi_buf_t *b, size_t n)
{
    char    *p;
    size_t   size;

    if (b->oom) {
        return NULL;
    }

    if (b->size - b->len >= n) {
        return b->data + b->len;
    }

    size = b->size ? b->size : 64;

    while (size - b->len < n) {
        size *= 2;
    }

    p = dgi_alloc(b->ctx->mem, size);
    if (p == NULL) {
        b->oom = 1;
        return NULL;
    }

    if (b->len) {
        memcpy(p, b->data, b->len);
    }

    b->data = p;
    b->size = size;

    return p + b->len;
}


static void
dgi_buf_add(dgi_buf_t *b, const void *p, size_t n)
{
    char  *o;

    o = dgi_buf_room(b, n);
    if (o == NULL) {
        return;
    }

    if (n) {
        memcpy(o, p, n);
    }

    b->len += n;
}


/* a JSON string of s */

static void
dgi_buf_escape(dgi_buf_t *b, const char *s, size_t n)
{
    char  *o;

    o = dgi_buf_room(b, ds_json_escape_len(s, n) + 2);
    if (o == NULL) {
        return;
    }

    o[0] = '"';
    b->len += 1 + ds_json_escape(s, n, o + 1);
    b->data[b->len++] = '"';
}


/* v as a protobuf varint into c (room for 10 bytes): its length */

static size_t
dgi_varint(uint8_t *c, uint64_t v)
{
    size_t  n;

    n = 0;

    do {
        c[n] = (uint8_t) (v & 0x7f);
        v >>= 7;

        if (v) {
            c[n] |= 0x80;
        }

        n++;
    } while (v);

    return n;
}


static void
dgi_buf_varint(dgi_buf_t *b, uint64_t v)
{
    uint8_t  c[10];

    dgi_buf_add(b, c, dgi_varint(c, v));
}


/*
 * A length-delimited field written in place: its tag, then room for the
 * longest length a buffer can need (DGI_LEN_ROOM bytes of varint); once
 * its content is written, the length goes in and the content moves up
 * over the room left. Nested fields so cost a move of their content per
 * level, not a copy of it into a buffer of each level's own.
 */

static size_t
dgi_field_open(dgi_buf_t *b, uint8_t tag)
{
    static const char  room[DGI_LEN_ROOM] = { 0 };

    dgi_buf_add(b, &tag, 1);
    dgi_buf_add(b, room, DGI_LEN_ROOM);

    return b->len;
}


static void
dgi_field_close(dgi_buf_t *b, size_t at)
{
    uint8_t  c[10];
    size_t   n, len;

    if (b->oom) {
        return;
    }

    len = b->len - at;

    if ((uint64_t) len >> (7 * DGI_LEN_ROOM)) {
        b->oom = 1;
        return;
    }

    n = dgi_varint(c, len);

    memcpy(b->data + at - DGI_LEN_ROOM, c, n);
    memmove(b->data + at - DGI_LEN_ROOM + n, b->data + at, len);
    b->len -= DGI_LEN_ROOM - n;
}


/* --- google.protobuf.Value <-> JSON -------------------------------------*/

/*
 * One field at *p: its key, and its varint (num) or its bytes (data,
 * len: of a 64-bit, 32-bit or length-delimited field). -1: malformed.
 */

static int
dgi_pv_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    unsigned  shift;

    *v = 0;

    for (shift = 0; shift < 64 && *p < end; shift += 7) {
        *v |= (uint64_t) (**p & 0x7f) << shift;

        if ((*(*p)++ & 0x80) == 0) {
            return 0;
        }
    }

    return -1;
}


static int
dgi_pv_field(const uint8_t **p, const uint8_t *end, uint64_t *key,
    uint64_t *num, const uint8_t **data, size_t *len)
{
    uint64_t  n;

    if (dgi_pv_varint(p, end, key) != 0) {
        return -1;
    }

    *num = 0;
    *data = *p;
    *len = 0;

    switch (*key & 7) {

    case 0:
        return dgi_pv_varint(p, end, num);

    case 1:
    case 5:
        n = (*key & 7) == 1 ? 8 : 4;
        break;

    case 2:
        if (dgi_pv_varint(p, end, &n) != 0) {
            return -1;
        }

        *data = *p;
        break;

    default:
        return -1;
    }

    if (n > (uint64_t) (end - *p)) {
        return -1;
    }

    *len = (size_t) n;
    *p += n;

    return 0;
}


/* a number as JSON: the shortest form that reads back the same */

static void
dgi_pv_number(double d, dgi_buf_t *b)
{
    int   n;
    char  num[32];

    /* not JSON numbers: strings, as protobuf's JSON mapping gives them */

    if (isnan(d)) {
        dgi_buf_add(b, "\"NaN\"", 5);
        return;
    }

    if (isinf(d)) {
        if (d > 0) {
            dgi_buf_add(b, "\"Infinity\"", 10);

        } else {
            dgi_buf_add(b, "\"-Infinity\"", 11);
        }

        return;
    }

    n = snprintf(num, sizeof(num), "%.15g", d);

    if (strtod(num, NULL) != d) {
        n = snprintf(num, sizeof(num), "%.17g", d);
    }

    dgi_buf_add(b, num, (size_t) n);
}


/* an encoded Value as JSON; -1: malformed, or nested deeper than depth */

static int
dgi_pv_json(const uint8_t *p, size_t len, unsigned depth, dgi_buf_t *b)
{
    int             first;
    double          d;
    size_t          n, ln, kn, vn;
    uint64_t        key, num, bits, k;
    const uint8_t  *end, *data, *q, *qend, *ldata, *lend, *kdata, *vdata;

    if (depth == 0) {
        return -1;
    }

    /* an empty Value may come without its bytes (p NULL) */
    end = (len == 0) ? p : p + len;
    key = 0;
    num = 0;
    data = NULL;
    n = 0;

    /* the kind is a oneof: the last one given counts */

    while (p < end) {
        if (dgi_pv_field(&p, end, &k, &bits, &q, &ln) != 0) {
            return -1;
        }

        if (k == DGI_PV_NULL || k == DGI_PV_NUMBER || k == DGI_PV_STRING
            || k == DGI_PV_BOOL || k == DGI_PV_STRUCT || k == DGI_PV_LIST)
        {
            key = k;
            num = bits;
            data = q;
            n = ln;
        }
    }

    switch (key) {

    case DGI_PV_NUMBER:
        bits = 0;

        for (k = 0; k < 8; k++) {
            bits |= (uint64_t) data[k] << (8 * k);
        }

        memcpy(&d, &bits, sizeof(double));
        dgi_pv_number(d, b);
        return 0;

    case DGI_PV_STRING:
        /* (UTF-8 is checked once the whole object is written) */
        dgi_buf_escape(b, (const char *) data, n);
        return 0;

    case DGI_PV_BOOL:
        if (num) {
            dgi_buf_add(b, "true", 4);

        } else {
            dgi_buf_add(b, "false", 5);
        }

        return 0;

    case DGI_PV_STRUCT:
    case DGI_PV_LIST:
        dgi_buf_add(b, key == DGI_PV_STRUCT ? "{" : "[", 1);
        q = data;
        qend = data + n;
        first = 1;

        while (q < qend) {
            if (dgi_pv_field(&q, qend, &k, &bits, &ldata, &ln) != 0) {
                return -1;
            }

            if (k != DGI_PV_FIELD1) {
                continue;
            }

            if (!first) {
                dgi_buf_add(b, ",", 1);
            }

            first = 0;

            if (key == DGI_PV_LIST) {
                if (dgi_pv_json(ldata, ln, depth - 1, b) != 0) {
                    return -1;
                }

                continue;
            }

            /* a Struct's entry: key (1) and value (2) */

            kdata = NULL;
            kn = 0;
            vdata = NULL;
            vn = 0;
            lend = ldata + ln;

            while (ldata < lend) {
                if (dgi_pv_field(&ldata, lend, &k, &bits, &data, &ln) != 0) {
                    return -1;
                }

                if (k == DGI_PV_FIELD1) {
                    kdata = data;
                    kn = ln;

                } else if (k == DGI_PV_FIELD2) {
                    vdata = data;
                    vn = ln;
                }
            }

            dgi_buf_escape(b, kdata ? (const char *) kdata : "", kn);
            dgi_buf_add(b, ":", 1);

            if (dgi_pv_json(vdata ? vdata : (const uint8_t *) "", vn,
                            depth - 1, b)
                != 0)
            {
                return -1;
            }
        }

        dgi_buf_add(b, key == DGI_PV_STRUCT ? "}" : "]", 1);
        return 0;

    default:
        /* NullValue, or no kind at all */
        dgi_buf_add(b, "null", 4);
        return 0;
    }
}


/* a string_value of JSON text as it is (valid JSON is valid UTF-8) */

static void
dgi_pv_text(ds_str_t json, dgi_buf_t *b)
{
    dgi_buf_add(b, "\x1a", 1);
    dgi_buf_varint(b, json.len);
    dgi_buf_add(b, json.data, json.len);
}


/*
 * A JSON value (valid and minified) as an encoded Value; -1: fails. A
 * number a double cannot hold (past 1.8e308) goes out as a string_value
 * of its text; so does an object or array with members at the last
 * level depth allows, whole, so that a value nested deeper is cut
 * there, not lost (an empty one fits there as it is).
 */

static int
dgi_json_pv(dg_ctx_t *ctx, ds_str_t json, unsigned depth, dgi_buf_t *b)
{
    int                   i;
    char                 *s, num[64];
    double                d;
    size_t                n;
    uint64_t              bits;
    uint8_t               le[8];
    size_t                value_at, entry_at, item_at;
    ds_str_t              key, value;
    ds_jspan_iter_t       it;
    const unsigned char  *p, *end;

    if (depth == 0 || json.len == 0) {
        return -1;
    }

    switch (json.data[0]) {

    case 'n':
        dgi_buf_add(b, "\x08\x00", 2);
        return 0;

    case 't':
        dgi_buf_add(b, "\x20\x01", 2);
        return 0;

    case 'f':
        dgi_buf_add(b, "\x20\x00", 2);
        return 0;

    case '"':
        s = dgi_alloc(ctx->mem, json.len);
        if (s == NULL) {
            b->oom = 1;
            return -1;
        }

        if (dgi_unescape(json, s, &n) != 0) {
            return -1;
        }

        dgi_buf_add(b, "\x1a", 1);
        dgi_buf_varint(b, n);
        dgi_buf_add(b, s, n);
        return 0;

    case '{':
        if (depth == 1 && json.len > 2) {
            /*
             * the last level: an object with members goes out as its
             * text; an empty one ("{}", minified) fits as it is
             */
            dgi_pv_text(json, b);
            return 0;
        }

        if (!ds_jspan_iter(&it, (const unsigned char *) json.data,
                           json.len))
        {
            return -1;
        }

        value_at = dgi_field_open(b, DGI_PV_STRUCT);

        while (ds_jspan_next(&it, &key, &value)) {
            /* the key without its quotes: put them back */
            key.data--;
            key.len += 2;

            s = dgi_alloc(ctx->mem, key.len);
            if (s == NULL) {
                b->oom = 1;
                return -1;
            }

            if (dgi_unescape(key, s, &n) != 0) {
                return -1;
            }

            entry_at = dgi_field_open(b, DGI_PV_FIELD1);
            dgi_buf_add(b, "\x0a", 1);
            dgi_buf_varint(b, n);
            dgi_buf_add(b, s, n);

            item_at = dgi_field_open(b, DGI_PV_FIELD2);

            if (dgi_json_pv(ctx, value, depth - 1, b) != 0) {
                return -1;
            }

            dgi_field_close(b, item_at);
            dgi_field_close(b, entry_at);
        }

        dgi_field_close(b, value_at);

        return b->oom ? -1 : 0;

    case '[':
        if (depth == 1 && json.len > 2) {
            dgi_pv_text(json, b);
            return 0;
        }

        value_at = dgi_field_open(b, DGI_PV_LIST);
        p = (const unsigned char *) json.data + 1;
        end = (const unsigned char *) json.data + json.len - 1;

        while (p < end) {
            n = ds_jspan_skip(p, end);
            if (n == 0) {
                return -1;
            }

            value.data = (const char *) p;
            value.len = n;
            item_at = dgi_field_open(b, DGI_PV_FIELD1);

            if (dgi_json_pv(ctx, value, depth - 1, b) != 0) {
                return -1;
            }

            dgi_field_close(b, item_at);

            p += n;

            if (p < end && *p == ',') {
                p++;
            }
        }

        dgi_field_close(b, value_at);

        return b->oom ? -1 : 0;

    default:
        s = num;

        if (json.len >= sizeof(num)) {
            /* a long number: as many digits as a worker stored */
            s = dgi_alloc(ctx->mem, json.len + 1);
            if (s == NULL) {
                b->oom = 1;
                return -1;
            }
        }

        memcpy(s, json.data, json.len);
        s[json.len] = '\0';
        d = strtod(s, NULL);

        if (!isfinite(d)) {
            /* beyond a double: its text, as a string_value */
            dgi_pv_text(json, b);
            return 0;
        }

        memcpy(&bits, &d, sizeof(double));

        for (i = 0; i < 8; i++) {
            le[i] = (uint8_t) (bits >> (8 * i));
        }

        dgi_buf_add(b, "\x11", 1);
        dgi_buf_add(b, le, 8);
        return 0;
    }
}


/* --- failure details in: the store's JSON -------------------------------*/

int
dgi_failure_in(dg_ctx_t *ctx, const TaskFailureDetails *fd, ds_str_t *reason,
    ds_str_t *details)
{
    int          rc;
    dgi_buf_t    b;
    StringValue  v;

    string_value__init(&v);
    v.value = fd->errormessage;

    rc = dgi_text_in(ctx, &v, reason);
    if (rc != DG_OK) {
        return rc;
    }

    dgi_buf_init(&b, ctx);

    rc = dgi_failure_json(ctx, fd, DG_FAILURE_DEPTH, &b);
    if (rc != DG_OK) {
        return rc;
    }

    if (b.oom) {
        return dgi_nomem(ctx);
    }

    details->data = b.data;
    details->len = b.len;

    return DG_OK;
}


/*
 * {"ErrorType":"..","ErrorMessage":"..","StackTrace":".."|null,
 *  "IsNonRetriable":false[,"InnerFailure":{..}][,"Properties":{..}]}
 */

static int
dgi_failure_json(dg_ctx_t *ctx, const TaskFailureDetails *fd,
    unsigned depth, dgi_buf_t *b)
{
    int        rc;
    char      *p, err[128];
    size_t     i, n;
    ds_str_t   s;
    dgi_buf_t  props;

    dgi_buf_add(b, "{\"ErrorType\":", 13);
    s = dgi_str(fd->errortype);
    dgi_buf_escape(b, s.data, s.len);
    dgi_buf_add(b, ",\"ErrorMessage\":", 16);
    s = dgi_str(fd->errormessage);
    dgi_buf_escape(b, s.data, s.len);
    dgi_buf_add(b, ",\"StackTrace\":", 14);

    if (fd->stacktrace != NULL) {
        s = dgi_str(fd->stacktrace->value);
        dgi_buf_escape(b, s.data, s.len);

    } else {
        dgi_buf_add(b, "null", 4);
    }

    if (fd->isnonretriable) {
        dgi_buf_add(b, ",\"IsNonRetriable\":true", 22);

    } else {
        dgi_buf_add(b, ",\"IsNonRetriable\":false", 23);
    }

    /*
     * a chain longer than depth is cut there: refusing it would refuse
     * the failure itself (and wedge an entity whose operation keeps
     * failing so), while SDKs build the chain from exceptions' causes
     * without a bound
     */

    if (fd->innerfailure != NULL && depth > 1) {
        dgi_buf_add(b, ",\"InnerFailure\":", 16);

        rc = dgi_failure_json(ctx, fd->innerfailure, depth - 1, b);
        if (rc != DG_OK) {
            return rc;
        }
    }

    if (fd->n_properties) {
        dgi_buf_init(&props, ctx);
        dgi_buf_add(&props, "{", 1);

        for (i = 0; i < fd->n_properties; i++) {
            if (i) {
                dgi_buf_add(&props, ",", 1);
            }

            p = fd->properties[i]->key;
            dgi_buf_escape(&props, p ? p : "", p ? strlen(p) : 0);
            dgi_buf_add(&props, ":", 1);

            if (dgi_pv_json(fd->properties[i]->value.data,
                            fd->properties[i]->value.len, ctx->json_depth,
                            &props)
                != 0)
            {
                if (props.oom) {
                    return dgi_nomem(ctx);
                }

                return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                                     "'failureDetails.properties' value "
                                     "%zu is not a google.protobuf.Value "
                                     "(or nests too deep)", i);
            }
        }

        dgi_buf_add(&props, "}", 1);

        if (props.oom) {
            return dgi_nomem(ctx);
        }

        /* checked as the SDKs' JSON is (bytes that are not UTF-8 were
           escaped as U+FFFD) */

        p = dgi_alloc(ctx->mem, props.len);
        if (p == NULL) {
            return dgi_nomem(ctx);
        }

        rc = ds_json_ingest(props.data, props.len, ctx->json_depth, p, &n,
                            err, sizeof(err));

        if (rc == DS_ERROR) {
            /* out of memory: the worker may send it again */
            return dgi_nomem(ctx);
        }

        if (rc != DS_OK) {
            return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                                 "'failureDetails.properties' is not "
                                 "valid: %s", err);
        }

        dgi_buf_add(b, ",\"Properties\":", 14);
        dgi_buf_add(b, p, n);
    }

    dgi_buf_add(b, "}", 1);

    return b->oom ? dgi_nomem(ctx) : DG_OK;
}


/* --- failure details out -------------------------------------------------*/

/*
 * From the store's reason (JSON) and details (JSON): the details give
 * ErrorType, StackTrace, IsNonRetriable, and InnerFailure and Properties
 * when they have them. NULL: out of memory.
 */

TaskFailureDetails *
dgi_failure_out(dg_ctx_t *ctx, ds_str_t reason, ds_str_t details)
{
    ds_str_t             text;
    TaskFailureDetails  *fd;

    fd = dgi_alloc(ctx->mem, sizeof(TaskFailureDetails));
    if (fd == NULL) {
        return NULL;
    }

    task_failure_details__init(fd);

    if (dgi_text_out(ctx, reason, &text) != DG_OK) {
        return NULL;
    }

    fd->errormessage = dgi_bytes(text);

    dgi_details_out(ctx, details, DG_FAILURE_DEPTH, fd);

    return ctx->nomem ? NULL : fd;
}


/* a failure's details into fd; an inner failure past depth is left out */

static void
dgi_details_out(dg_ctx_t *ctx, ds_str_t details, unsigned depth,
    TaskFailureDetails *fd)
{
    char                                  *key;
    size_t                                 n, i, len;
    ds_str_t                               text, v, props, name, value;
    dgi_buf_t                              b;
    ds_jspan_iter_t                        it;
    TaskFailureDetails__PropertiesEntry  **entries, *e;

    if (details.len == 0 || details.data[0] != '{') {
        return;
    }

    if (dgi_member_text(ctx, details, "ErrorType", &text)) {
        fd->errortype = dgi_bytes(text);
    }

    if (fd->errormessage.len == 0
        && dgi_member_text(ctx, details, "ErrorMessage", &text))
    {
        fd->errormessage = dgi_bytes(text);
    }

    if (dgi_member_text(ctx, details, "StackTrace", &text)) {
        fd->stacktrace = dgi_value_out(ctx, text);
    }

    v = dgi_member(details, "IsNonRetriable");
    fd->isnonretriable = (v.len == 4 && memcmp(v.data, "true", 4) == 0);

    v = dgi_member(details, "InnerFailure");

    if (depth > 1 && v.len && v.data[0] == '{') {
        fd->innerfailure = dgi_alloc(ctx->mem, sizeof(TaskFailureDetails));
        if (fd->innerfailure == NULL) {
            ctx->nomem = 1;
            return;
        }

        task_failure_details__init(fd->innerfailure);
        dgi_details_out(ctx, v, depth - 1, fd->innerfailure);
    }

    props = dgi_member(details, "Properties");

    if (props.len == 0 || props.data[0] != '{') {
        return;
    }

    n = 0;

    if (ds_jspan_iter(&it, (const unsigned char *) props.data, props.len)) {
        while (ds_jspan_next(&it, &name, &value)) {
            n++;
        }
    }

    if (n == 0) {
        return;
    }

    entries = dgi_alloc(ctx->mem, n * sizeof(*entries));
    if (entries == NULL) {
        ctx->nomem = 1;
        return;
    }

    i = 0;
    (void) ds_jspan_iter(&it, (const unsigned char *) props.data, props.len);

    while (i < n && ds_jspan_next(&it, &name, &value)) {
        e = dgi_alloc(ctx->mem, sizeof(*e));
        key = dgi_alloc(ctx->mem, name.len + 3);

        if (e == NULL || key == NULL) {
            ctx->nomem = 1;
            return;
        }

        /* a value that cannot be encoded (none the codec stores) is
           left out; the key comes without its quotes */

        dgi_buf_init(&b, ctx);
        name.data--;
        name.len += 2;

        if (dgi_unescape(name, key, &len) != 0
            || dgi_json_pv(ctx, value, DG_NESTING_MAX, &b) != 0)
        {
            if (b.oom) {
                ctx->nomem = 1;
                return;
            }

            continue;
        }

        key[len] = '\0';
        task_failure_details__properties_entry__init(e);
        e->key = key;
        e->value.data = (uint8_t *) b.data;
        e->value.len = b.len;
        entries[i++] = e;
    }

    fd->properties = entries;
    fd->n_properties = i;
}
