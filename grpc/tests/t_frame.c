
/*
 * Copyright (C) ngx_durable authors
 *
 * Framing: messages split at every byte, several in one piece, the limit,
 * the flags, the end of a body, pack/unpack round trips, and a request
 * message unpacked with an allocator that fails.
 */


#include "t.h"


/* an allocator that gives t_mem's first t_fail_after blocks, then none */

static size_t  t_fail_after, t_fail_given;


static void *
t_fail_alloc(void *data, size_t size)
{
    (void) data;

    if (t_fail_given == t_fail_after) {
        return NULL;
    }

    t_fail_given++;

    return t_mem.alloc(t_mem.data, size);
}


static size_t
t_frame_put(uint8_t *out, uint8_t flag, const char *msg, size_t len)
{
    dg_prefix_write(out, len);
    out[0] = flag;
    memcpy(out + DG_PREFIX_LEN, msg, len);

    return DG_PREFIX_LEN + len;
}


static void
t_frame_pieces(void)
{
    int             rc;
    size_t          n, len, step, got;
    uint8_t         body[64];
    const uint8_t  *p;
    dg_reader_t     r;

    n = t_frame_put(body, 0, "hello", 5);
    n += t_frame_put(body + n, 0, "", 0);
    n += t_frame_put(body + n, 0, "world!", 6);

    /* every piece size from one byte to the whole body */

    for (step = 1; step <= n; step++) {
        dg_reader_init(&r, 16, t_mem);
        got = 0;

        for (p = body; p < body + n; ) {
            len = (size_t) (body + n - p) < step ? (size_t) (body + n - p)
                                                 : step;

            while (len) {
                rc = dg_reader_feed(&r, &p, &len);

                if (rc == DG_FRAME_MORE) {
                    T_INT(len, 0);
                    continue;
                }

                T_INT(rc, DG_FRAME_MESSAGE);

                if (rc != DG_FRAME_MESSAGE) {
                    return;
                }

                got++;

                if (got == 1) {
                    T_BYTES(r.msg, r.msg_len, "hello");

                } else if (got == 2) {
                    T_BYTES(r.msg, r.msg_len, "");

                } else {
                    T_BYTES(r.msg, r.msg_len, "world!");
                }
            }
        }

        T_INT(got, 3);
        T_INT(r.messages, 3);
        T(dg_reader_clean_end(&r));
    }
}


static void
t_frame_errors(void)
{
    int             rc;
    size_t          n, len;
    uint8_t         body[64];
    dg_status_t     st;
    const uint8_t  *p;
    dg_reader_t     r;

    /* one byte over the limit: refused on the prefix alone */

    dg_reader_init(&r, 4, t_mem);
    n = t_frame_put(body, 0, "hello", 5);
    p = body;
    len = DG_PREFIX_LEN;
    rc = dg_reader_feed(&r, &p, &len);
    T_INT(rc, DG_FRAME_TOO_LARGE);
    T_INT(dg_reader_status(&r, rc, &st), DG_RESOURCE_EXHAUSTED);
    T_BYTES(st.message, st.len,
            "a message of 5 bytes is longer than the limit of 4");

    /* and the error sticks */
    len = n - DG_PREFIX_LEN;
    T_INT(dg_reader_feed(&r, &p, &len), DG_FRAME_TOO_LARGE);

    /* exactly the limit is accepted */

    dg_reader_init(&r, 5, t_mem);
    p = body;
    len = n;
    T_INT(dg_reader_feed(&r, &p, &len), DG_FRAME_MESSAGE);

    /* the compressed flag, and a flag that is no flag */

    dg_reader_init(&r, 64, t_mem);
    n = t_frame_put(body, 1, "x", 1);
    p = body;
    len = n;
    rc = dg_reader_feed(&r, &p, &len);
    T_INT(rc, DG_FRAME_COMPRESSED);
    T_INT(dg_reader_status(&r, rc, &st), DG_UNIMPLEMENTED);

    dg_reader_init(&r, 64, t_mem);
    n = t_frame_put(body, 0x80, "x", 1);
    p = body;
    len = n;
    rc = dg_reader_feed(&r, &p, &len);
    T_INT(rc, DG_FRAME_BAD_FLAG);
    T_INT(dg_reader_status(&r, rc, &st), DG_INTERNAL);

    /* a body that ends inside a prefix or inside a message */

    dg_reader_init(&r, 64, t_mem);
    n = t_frame_put(body, 0, "hello", 5);
    p = body;
    len = 3;
    T_INT(dg_reader_feed(&r, &p, &len), DG_FRAME_MORE);
    T(!dg_reader_clean_end(&r));

    len = 4;
    T_INT(dg_reader_feed(&r, &p, &len), DG_FRAME_MORE);
    T(!dg_reader_clean_end(&r));
    T_INT(dg_reader_status(&r, DG_FRAME_MORE, &st), DG_INTERNAL);

    /* nothing at all is a clean end */

    dg_reader_init(&r, 64, t_mem);
    T(dg_reader_clean_end(&r));
    T_INT(dg_reader_status(&r, DG_FRAME_MORE, &st), DG_OK);
}


static void
t_frame_pack(void)
{
    int                  nomem;
    size_t               len;
    uint8_t             *out;
    RaiseEventRequest    req, *back;

    raise_event_request__init(&req);
    req.instanceid = t_b("abc");
    req.name = t_b("Ping");

    T_INT(dg_pack(&req.base, t_mem, &out, &len), DG_OK);
    T_INT(len, DG_PREFIX_LEN + 11);
    T_INT(out[0], 0);
    T_INT(out[4], 11);

    back = (RaiseEventRequest *) dg_unpack(&raise_event_request__descriptor,
                                           out + DG_PREFIX_LEN,
                                           len - DG_PREFIX_LEN, t_mem,
                                           &nomem);
    T(back != NULL);

    if (back != NULL) {
        T_BYTES(back->instanceid.data, back->instanceid.len, "abc");
        T_BYTES(back->name.data, back->name.len, "Ping");
        T(back->input == NULL);
    }

    /* a string with a NUL byte keeps its length */

    req.instanceid.data = (uint8_t *) "a\0b";
    req.instanceid.len = 3;
    T_INT(dg_pack(&req.base, t_mem, &out, &len), DG_OK);
    back = (RaiseEventRequest *) dg_unpack(&raise_event_request__descriptor,
                                           out + DG_PREFIX_LEN,
                                           len - DG_PREFIX_LEN, t_mem,
                                           NULL);
    T(back != NULL && back->instanceid.len == 3);

    /* a field that claims more bytes than there are */

    out[DG_PREFIX_LEN + 1] = 100;
    back = (RaiseEventRequest *) dg_unpack(&raise_event_request__descriptor,
                                           out + DG_PREFIX_LEN,
                                           len - DG_PREFIX_LEN, t_mem,
                                           &nomem);
    T(back == NULL);
    T_INT(nomem, 0);
}


/*
 * A request message as a call's: malformed is INVALID_ARGUMENT, memory
 * that runs out at any of the unpack's allocations RESOURCE_EXHAUSTED,
 * each with words naming the message.
 */

static void
t_frame_request(void)
{
    size_t              len, n;
    uint8_t            *out;
    dg_mem_t            fail;
    dg_ctx_t            ctx;
    StringValue         input;
    RaiseEventRequest   req, *back;

    raise_event_request__init(&req);
    string_value__init(&input);
    req.instanceid = t_b("abc");
    req.name = t_b("Ping");
    input.value = t_b("{\"n\":1}");
    req.input = &input;

    T_INT(dg_pack(&req.base, t_mem, &out, &len), DG_OK);
    out += DG_PREFIX_LEN;
    len -= DG_PREFIX_LEN;

    dg_ctx_init(&ctx, t_mem, 64);
    back = (RaiseEventRequest *) dg_request_unpack(&ctx,
               &raise_event_request__descriptor, out, len);
    T(back != NULL && back->input != NULL);
    T_INT(ctx.status.code, DG_OK);
    T_INT(ctx.nomem, 0);

    /* fail the first allocation, then the second, ... until none fails */

    fail.alloc = t_fail_alloc;
    fail.data = NULL;

    for (n = 0; n < 64; n++) {
        t_fail_after = n;
        t_fail_given = 0;

        dg_ctx_init(&ctx, fail, 64);
        back = (RaiseEventRequest *) dg_request_unpack(&ctx,
                   &raise_event_request__descriptor, out, len);

        if (back != NULL) {
            break;
        }

        T_INT(ctx.status.code, DG_RESOURCE_EXHAUSTED);
        T_INT(ctx.nomem, 1);
        T(ctx.status.len > 0
          && strstr(ctx.status.message, "out of memory") != NULL
          && strstr(ctx.status.message, "RaiseEventRequest") != NULL);
    }

    /* the message, its instance id, name and input, and the input's text */
    T(n >= 2);
    T(back != NULL && back->input != NULL);
    T_INT(ctx.status.code, DG_OK);

    /* malformed: a field that claims more bytes than there are */

    out[1] = 100;
    dg_ctx_init(&ctx, t_mem, 64);
    back = (RaiseEventRequest *) dg_request_unpack(&ctx,
               &raise_event_request__descriptor, out, len);
    T(back == NULL);
    T_INT(ctx.status.code, DG_INVALID_ARGUMENT);
    T_INT(ctx.nomem, 0);
    T_BYTES(ctx.status.message, ctx.status.len,
            "the request is not a valid RaiseEventRequest message");
}


/*
 * An ActivityResponse whose failureDetails holds innerFailure within
 * innerFailure, wraps TaskFailureDetails in all (the message itself is
 * one level more), written from the inside out; *len its size
 */

static uint8_t *
t_frame_nested(size_t wraps, size_t *len)
{
    size_t    i, n, k;
    uint8_t  *buf, *p, v[10];

    n = 5 * wraps + 3;
    buf = t_mem.alloc(t_mem.data, n);
    T(buf != NULL);

    if (buf == NULL) {
        return NULL;
    }

    /* p is where the inner message starts; each wrap goes before it */

    p = buf + n;

    for (i = 0; i < wraps; i++) {
        k = 0;
        n = (size_t) (buf + 5 * wraps + 3 - p);

        do {
            v[k++] = (uint8_t) ((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
            n >>= 7;
        } while (n);

        p -= k;
        memcpy(p, v, k);
        *--p = 0x22;            /* field 4, length-delimited */
    }

    p -= 3;
    memcpy(p, "\x0a\x01x", 3);   /* instanceId "x" */

    *len = (size_t) (buf + 5 * wraps + 3 - p);

    return p;
}


/*
 * protobuf-c unpacks nested messages by recursion: past DG_NESTING_MAX
 * levels the message is refused before it is unpacked (10,000 levels
 * crashed an nginx worker)
 */

static void
t_frame_nesting(void)
{
    size_t             len;
    uint8_t           *msg;
    dg_ctx_t           ctx;
    ActivityResponse  *back;

    msg = t_frame_nested(DG_NESTING_MAX - 1, &len);
    dg_ctx_init(&ctx, t_mem, 64);
    back = (ActivityResponse *) dg_request_unpack(&ctx,
               &activity_response__descriptor, msg, len);
    T(back != NULL && back->failuredetails != NULL);
    T_INT(ctx.status.code, DG_OK);

    msg = t_frame_nested(DG_NESTING_MAX, &len);
    dg_ctx_init(&ctx, t_mem, 64);
    back = (ActivityResponse *) dg_request_unpack(&ctx,
               &activity_response__descriptor, msg, len);
    T(back == NULL);
    T_INT(ctx.status.code, DG_INVALID_ARGUMENT);
    T_BYTES(ctx.status.message, ctx.status.len,
            "the ActivityResponse message nests messages more than 100 "
            "deep");

    msg = t_frame_nested(100000, &len);
    T(dg_unpack(&activity_response__descriptor, msg, len, t_mem, NULL)
      == NULL);
}


/*
 * Unknown fields (field 15, a varint: 2 bytes each) are kept up to
 * DG_UNKNOWN_MAX, in all levels together, or one for every 16 bytes of a
 * larger message; past it the message is refused (protobuf-c keeps each
 * in a struct of its own: 20 times their size)
 */

static void
t_frame_unknown(void)
{
    size_t              n;
    uint8_t            *msg;
    dg_ctx_t            ctx;
    RaiseEventRequest  *back;

    msg = t_mem.alloc(t_mem.data, 2 * (DG_UNKNOWN_MAX + 1));
    T(msg != NULL);

    if (msg == NULL) {
        return;
    }

    for (n = 0; n < DG_UNKNOWN_MAX + 1; n++) {
        msg[2 * n] = 0x78;
        msg[2 * n + 1] = 0x01;
    }

    dg_ctx_init(&ctx, t_mem, 64);
    back = (RaiseEventRequest *) dg_request_unpack(&ctx,
               &raise_event_request__descriptor, msg, 2 * DG_UNKNOWN_MAX);
    T(back != NULL && back->base.n_unknown_fields == DG_UNKNOWN_MAX);

    dg_ctx_init(&ctx, t_mem, 64);
    back = (RaiseEventRequest *) dg_request_unpack(&ctx,
               &raise_event_request__descriptor, msg,
               2 * (DG_UNKNOWN_MAX + 1));
    T(back == NULL);
    T_INT(ctx.status.code, DG_INVALID_ARGUMENT);
    T_BYTES(ctx.status.message, ctx.status.len,
            "the RaiseEventRequest message has more than 10000 fields this "
            "server does not know");

    /*
     * a larger message may hold one for every 16 bytes: 20,000 unknown
     * fields of 20 bytes (a newer SDK's field on each of many actions)
     */

    msg = t_mem.alloc(t_mem.data, 20 * 20000);
    T(msg != NULL);

    if (msg == NULL) {
        return;
    }

    memset(msg, 'x', 20 * 20000);

    for (n = 0; n < 20000; n++) {
        msg[20 * n] = 0x7a;         /* field 15, length-delimited */
        msg[20 * n + 1] = 18;
    }

    dg_ctx_init(&ctx, t_mem, 64);
    back = (RaiseEventRequest *) dg_request_unpack(&ctx,
               &raise_event_request__descriptor, msg, 20 * 20000);
    T(back != NULL && back->base.n_unknown_fields == 20000);
}


void
t_frame(void)
{
    t_frame_pieces();
    t_frame_errors();
    t_frame_pack();
    t_frame_request();
    t_frame_nesting();
    t_frame_unknown();
}
