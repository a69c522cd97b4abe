
/*
 * Copyright (C) ngx_durable authors
 *
 * The codec of the Durable Task gRPC front end (docs/grpc.md): gRPC
 * message framing, status codes, and the conversions between the
 * service's protocol buffers (durable_task.proto, compiled by protoc-c)
 * and the store's operation layer (store/durable_store.h). Plain C over
 * protobuf-c and jansson, no nginx headers: the nginx glue, the unit
 * tests (grpc/tests) and the fuzzer (fuzz/fuzz_grpc.c) link it.
 *
 * Memory: whatever the codec builds (unpacked requests, answers to pack,
 * the store's inputs) comes from the caller's allocator, dg_mem_t, and
 * is never freed one piece at a time: an nginx pool, or the dg_arena_t
 * below (for threads and tests). Answers point at their sources (the
 * request, or the store's bytes during a read's done()) rather than copy
 * them, so pack them while those live.
 */


#ifndef DURABLE_GRPC_H
#define DURABLE_GRPC_H


#include <stddef.h>
#include <stdint.h>

#include "durable_store.h"
#include "durable_task.pb-c.h"


/* an allocator: NULL when out of memory; the owner frees all at once */
typedef struct {
    void             *(*alloc)(void *data, size_t size);
    void               *data;
} dg_mem_t;

/* a malloc()ed arena, for code that runs outside nginx's pools */
typedef struct dg_arena_block_s  dg_arena_block_t;

typedef struct {
    dg_arena_block_t   *blocks;
    size_t              used;           /* bytes handed out, for tests */
} dg_arena_t;

void dg_arena_init(dg_arena_t *a);
void *dg_arena_alloc(void *arena, size_t size);
void dg_arena_free(dg_arena_t *a);
/* a dg_mem_t that allocates from a */
dg_mem_t dg_arena_mem(dg_arena_t *a);


/* gRPC status codes, as on the wire */
typedef enum {
    DG_OK = 0,
    DG_CANCELLED = 1,
    DG_UNKNOWN = 2,
    DG_INVALID_ARGUMENT = 3,
    DG_DEADLINE_EXCEEDED = 4,
    DG_NOT_FOUND = 5,
    DG_ALREADY_EXISTS = 6,
    DG_PERMISSION_DENIED = 7,
    DG_RESOURCE_EXHAUSTED = 8,
    DG_FAILED_PRECONDITION = 9,
    DG_ABORTED = 10,
    DG_OUT_OF_RANGE = 11,
    DG_UNIMPLEMENTED = 12,
    DG_INTERNAL = 13,
    DG_UNAVAILABLE = 14,
    DG_DATA_LOSS = 15,
    DG_UNAUTHENTICATED = 16
} dg_code_e;

#define DG_MESSAGE_MAX      512     /* a status message, bytes */

/* a status: the code and its grpc-message text (not NUL-terminated) */
typedef struct {
    dg_code_e           code;
    size_t              len;
    char                message[DG_MESSAGE_MAX];
} dg_status_t;

/* "NOT_FOUND", ...; "UNKNOWN" for a value that is not a code */
const char *dg_code_name(int code);
/* sets code and message (printf-style, cut at DG_MESSAGE_MAX); returns code */
int dg_status_set(dg_status_t *st, dg_code_e code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/*
 * A store operation's answer as a gRPC status. Meanings depend on the
 * operation (op->type): DS_CONFLICT is ALREADY_EXISTS for a start and
 * FAILED_PRECONDITION (a stale completion token) for the work-item
 * calls; DS_FULL is RESOURCE_EXHAUSTED, DS_ERROR UNAVAILABLE. The
 * message names the instance (op's in.*.id) and, where the store says
 * it, the status that refused the call. Returns st->code.
 */
int dg_status_from_op(const ds_op_t *op, dg_status_t *st);

/*
 * grpc-message is percent-encoded: every byte outside ' '..'~', and '%'
 * itself, becomes %XX. dg_percent_encode_len() is the exact length of the
 * encoding; dg_percent_encode() writes it to out and returns it.
 */
size_t dg_percent_encode_len(const char *in, size_t len);
size_t dg_percent_encode(const char *in, size_t len, char *out);


/*
 * Framing. Each gRPC message is a 5-byte prefix (a compressed flag, then
 * the length, 32 bits big-endian) and the message. A reader takes the
 * bytes of a request body as they arrive, in pieces of any size, and
 * gives out whole messages; a message longer than max is refused before
 * any of it is kept, as is the compressed flag (this server negotiates
 * no grpc-encoding) and a flag other than 0 and 1.
 */

#define DG_PREFIX_LEN       5

typedef enum {
    DG_FRAME_MORE = 0,      /* all input taken, no whole message yet */
    DG_FRAME_MESSAGE,       /* a message: msg, msg_len; input may remain */
    DG_FRAME_TOO_LARGE,     /* RESOURCE_EXHAUSTED */
    DG_FRAME_COMPRESSED,    /* UNIMPLEMENTED */
    DG_FRAME_BAD_FLAG,      /* INTERNAL: not a gRPC prefix */
    DG_FRAME_NOMEM          /* RESOURCE_EXHAUSTED, from the allocator */
} dg_frame_rc_e;

typedef struct {
    size_t              max;            /* longest message accepted */
    dg_mem_t            mem;

    /* out, after DG_FRAME_MESSAGE: valid until the allocator is freed */
    const uint8_t      *msg;
    size_t              msg_len;
    size_t              messages;       /* given out so far */

    /* state */
    uint8_t             prefix[DG_PREFIX_LEN];
    size_t              have_prefix;
    uint8_t            *buf;
    size_t              need;           /* the message's length */
    size_t              have;
    int                 error;          /* sticks once answered */
} dg_reader_t;

void dg_reader_init(dg_reader_t *r, size_t max, dg_mem_t mem);
/*
 * Takes bytes from *in (at most *len of them), advances *in and *len by
 * what it used, and answers one of dg_frame_rc_e. After
 * DG_FRAME_MESSAGE, call again with the rest. Once an error is answered
 * the reader keeps answering it.
 */
int dg_reader_feed(dg_reader_t *r, const uint8_t **in, size_t *len);
/* at the end of the body: 1 when no message was left half read */
int dg_reader_clean_end(const dg_reader_t *r);
/* the status of an error answered by dg_reader_feed() */
int dg_reader_status(const dg_reader_t *r, int rc, dg_status_t *st);

/* writes the prefix of an uncompressed message of len bytes */
void dg_prefix_write(uint8_t *out, size_t len);

/*
 * Packs msg behind its prefix into memory from mem: *out, *out_len
 * (DG_PREFIX_LEN + the packed size). Returns DG_OK, or
 * DG_RESOURCE_EXHAUSTED when out of memory or the message is too long.
 */
int dg_pack(const ProtobufCMessage *msg, dg_mem_t mem, uint8_t **out,
    size_t *out_len);

/*
 * Unpacks a message of the type desc with memory from mem: NULL when it
 * is malformed (or memory runs out: *nomem is then set; nomem may be
 * NULL). Strings are declared bytes in durable_task.proto, so nothing
 * in them is cut at a NUL.
 */
ProtobufCMessage *dg_unpack(const ProtobufCMessageDescriptor *desc,
    const uint8_t *data, size_t len, dg_mem_t mem, int *nomem);


#endif /* DURABLE_GRPC_H */
