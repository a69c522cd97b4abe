
/*
 * Copyright (C) ngx_durable authors
 *
 * gRPC message framing: the 5-byte prefix read incrementally and
 * written, and packing and unpacking with the caller's memory.
 */


#include <string.h>

#include "durable_grpc.h"
#include "dg_internal.h"


static int dgi_shape(const ProtobufCMessageDescriptor *desc,
    const uint8_t *p, size_t len, unsigned depth, size_t *unknown);
static int dgi_varint(const uint8_t **p, const uint8_t *end, uint64_t *v);
static size_t dgi_unknown_max(size_t len);


#define DGI_SHAPE_OK        0
#define DGI_SHAPE_DEEP      1
#define DGI_SHAPE_UNKNOWN   2


void
dg_reader_init(dg_reader_t *r, size_t max, dg_mem_t mem)
{
    memset(r, 0, sizeof(dg_reader_t));

    r->max = max;
    r->mem = mem;
}


int
dg_reader_feed(dg_reader_t *r, const uint8_t **in, size_t *len)
{
    size_t    n;
    uint32_t  size;

    r->msg = NULL;
    r->msg_len = 0;

    /* an error sticks: the stream cannot be resynchronised */

    if (r->error != DG_FRAME_MORE) {
        return r->error;
    }

    while (r->have_prefix < DG_PREFIX_LEN) {
        if (*len == 0) {
            return DG_FRAME_MORE;
        }

        r->prefix[r->have_prefix++] = **in;
        (*in)++;
        (*len)--;
    }

    if (r->buf == NULL && r->need == 0) {

        /* a new prefix: check it before anything of the message is kept */

        size = (uint32_t) r->prefix[1] << 24 | (uint32_t) r->prefix[2] << 16
               | (uint32_t) r->prefix[3] << 8 | (uint32_t) r->prefix[4];

        if (r->prefix[0] > 1) {
            r->error = DG_FRAME_BAD_FLAG;
            return r->error;
        }

        if (r->prefix[0] == 1) {
            r->error = DG_FRAME_COMPRESSED;
            return r->error;
        }

        if (size > r->max) {
            r->need = size;
            r->error = DG_FRAME_TOO_LARGE;
            return r->error;
        }

        if (size == 0) {
            /* an empty message: every field at its default */
            r->have_prefix = 0;
            r->messages++;
            r->msg = (const uint8_t *) "";
            return DG_FRAME_MESSAGE;
        }

        r->buf = dgi_alloc(r->mem, size);

        r->need = size;
        r->have = 0;

        if (r->buf == NULL) {
            r->error = DG_FRAME_NOMEM;
            return r->error;
        }
    }

    n = r->need - r->have;

    if (n > *len) {
        n = *len;
    }

    memcpy(r->buf + r->have, *in, n);
    r->have += n;
    *in += n;
    *len -= n;

    if (r->have < r->need) {
        return DG_FRAME_MORE;
    }

    r->msg = r->buf;
    r->msg_len = r->need;
    r->messages++;

    r->have_prefix = 0;
    r->buf = NULL;
    r->need = 0;
    r->have = 0;

    return DG_FRAME_MESSAGE;
}


int
dg_reader_clean_end(const dg_reader_t *r)
{
    return r->have_prefix == 0;
}


int
dg_reader_status(const dg_reader_t *r, int rc, dg_status_t *st)
{
    switch (rc) {

    case DG_FRAME_TOO_LARGE:
        return dg_status_set(st, DG_RESOURCE_EXHAUSTED,
                             "a message of %zu bytes is longer than the "
                             "limit of %zu", r->need, r->max);

    case DG_FRAME_COMPRESSED:
        return dg_status_set(st, DG_UNIMPLEMENTED,
                             "compressed messages are not accepted: send "
                             "them uncompressed (grpc-encoding identity)");

    case DG_FRAME_BAD_FLAG:
        return dg_status_set(st, DG_INTERNAL,
                             "a gRPC message prefix starts with %u, not 0 "
                             "or 1", (unsigned) r->prefix[0]);

    case DG_FRAME_NOMEM:
        return dg_status_set(st, DG_RESOURCE_EXHAUSTED,
                             "out of memory for a message of %zu bytes",
                             r->need);

    default:
        if (rc == DG_FRAME_MORE && !dg_reader_clean_end(r)) {
            return dg_status_set(st, DG_INTERNAL,
                                 "the request ended inside a message");
        }

        return dg_status_set(st, DG_OK, "%s", "");
    }
}


void
dg_prefix_write(uint8_t *out, size_t len)
{
    out[0] = 0;
    out[1] = (uint8_t) (len >> 24);
    out[2] = (uint8_t) (len >> 16);
    out[3] = (uint8_t) (len >> 8);
    out[4] = (uint8_t) len;
}


int
dg_pack(const ProtobufCMessage *msg, dg_mem_t mem, uint8_t **out,
    size_t *out_len)
{
    size_t    size, done;
    uint8_t  *p;

    size = protobuf_c_message_get_packed_size(msg);

    if (size > UINT32_MAX) {
        return DG_RESOURCE_EXHAUSTED;
    }

    p = dgi_alloc(mem, DG_PREFIX_LEN + size);

    if (p == NULL) {
        return DG_RESOURCE_EXHAUSTED;
    }

    dg_prefix_write(p, size);
    done = protobuf_c_message_pack(msg, p + DG_PREFIX_LEN);

    if (done != size) {
        return DG_INTERNAL;
    }

    *out = p;
    *out_len = DG_PREFIX_LEN + size;

    return DG_OK;
}


ProtobufCMessage *
dg_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
    size_t len, dg_mem_t mem, int *nomem)
{
    size_t             unknown;
    dgi_pb_mem_t       pm;
    ProtobufCMessage  *m;

    if (nomem != NULL) {
        *nomem = 0;
    }

    /*
     * protobuf-c unpacks nested messages by recursion without a bound,
     * and keeps each unknown field in a struct of its own
     */

    unknown = dgi_unknown_max(len);

    if (dgi_shape(desc, data, len, 1, &unknown) != DGI_SHAPE_OK) {
        return NULL;
    }

    dgi_pb_allocator(&pm, mem);

    m = protobuf_c_message_unpack(desc, &pm.allocator, len, data);

    if (nomem != NULL) {
        *nomem = (m == NULL && pm.nomem);
    }

    return m;
}


/*
 * The shape of the message of type desc in p, read by the wire format
 * alone: DGI_SHAPE_DEEP when it nests messages more than DG_NESTING_MAX
 * deep, DGI_SHAPE_UNKNOWN when it holds, at every level together, more
 * fields its type does not know than *unknown allows (each would be a
 * struct of protobuf-c's: a body of 2-byte fields takes 20 times its
 * size); *unknown counts down. Anything malformed is left to protobuf-c
 * to refuse (DGI_SHAPE_OK), where it stops the walk. The walk's own
 * recursion is bounded by the depth.
 */

static int
dgi_shape(const ProtobufCMessageDescriptor *desc, const uint8_t *p,
    size_t len, unsigned depth, size_t *unknown)
{
    int                              rc;
    uint64_t                         key, n;
    const uint8_t                   *end;
    const ProtobufCFieldDescriptor  *f;

    if (depth > DG_NESTING_MAX) {
        return DGI_SHAPE_DEEP;
    }

    end = p + len;

    while (p < end) {
        if (dgi_varint(&p, end, &key) != 0) {
            return DGI_SHAPE_OK;
        }

        f = (key >> 3) <= UINT32_MAX
            ? protobuf_c_message_descriptor_get_field(desc,
                                                     (unsigned) (key >> 3))
            : NULL;

        if (f == NULL && (*unknown)-- == 0) {
            return DGI_SHAPE_UNKNOWN;
        }

        switch (key & 7) {

        case 0:     /* varint */
            if (dgi_varint(&p, end, &n) != 0) {
                return DGI_SHAPE_OK;
            }

            break;

        case 1:     /* 64-bit */
            if ((size_t) (end - p) < 8) {
                return DGI_SHAPE_OK;
            }

            p += 8;
            break;

        case 2:     /* length-delimited: a message, bytes, packed */
            if (dgi_varint(&p, end, &n) != 0 || n > (uint64_t) (end - p)) {
                return DGI_SHAPE_OK;
            }

            if (f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                rc = dgi_shape(f->descriptor, p, (size_t) n, depth + 1,
                               unknown);
                if (rc != DGI_SHAPE_OK) {
                    return rc;
                }
            }

            p += n;
            break;

        case 5:     /* 32-bit */
            if ((size_t) (end - p) < 4) {
                return DGI_SHAPE_OK;
            }

            p += 4;
            break;

        default:    /* groups and the rest: protobuf-c refuses them */
            return DGI_SHAPE_OK;
        }
    }

    return DGI_SHAPE_OK;
}


/*
 * The unknown fields a message of len bytes may hold: DG_UNKNOWN_MAX, or
 * one for every 16 bytes of a larger one, so that a large message of a
 * newer SDK (a fan-out whose every action has a field this server does
 * not know) passes, and the cost stays a small multiple of the body
 */

static size_t
dgi_unknown_max(size_t len)
{
    return len / 16 > DG_UNKNOWN_MAX ? len / 16 : DG_UNKNOWN_MAX;
}


/* a base-128 varint of at most 10 bytes; -1 if cut short or longer */

static int
dgi_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    unsigned        shift;
    const uint8_t  *q;

    *v = 0;

    for (q = *p, shift = 0; q < end && shift < 70; q++, shift += 7) {
        *v |= (uint64_t) (*q & 0x7f) << shift;

        if (!(*q & 0x80)) {
            *p = q + 1;
            return 0;
        }
    }

    return -1;
}


ProtobufCMessage *
dg_request_unpack(dg_ctx_t *ctx, const ProtobufCMessageDescriptor *desc,
    const uint8_t *data, size_t len)
{
    int                nomem, shape;
    size_t             unknown;
    ProtobufCMessage  *m;

    m = dg_unpack(desc, data, len, ctx->mem, &nomem);

    if (m != NULL) {
        return m;
    }

    unknown = dgi_unknown_max(len);

    if (nomem) {
        ctx->nomem = 1;
        dg_status_set(&ctx->status, DG_RESOURCE_EXHAUSTED,
                      "out of memory for the %s message of %zu bytes",
                      desc->name, len);

    } else if ((shape = dgi_shape(desc, data, len, 1, &unknown))
               == DGI_SHAPE_DEEP)
    {
        dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                      "the %s message nests messages more than %d deep",
                      desc->name, DG_NESTING_MAX);

    } else if (shape == DGI_SHAPE_UNKNOWN) {
        dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                      "the %s message has more than %zu fields this "
                      "server does not know", desc->name,
                      dgi_unknown_max(len));

    } else {
        dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                      "the request is not a valid %s message", desc->name);
    }

    return NULL;
}
