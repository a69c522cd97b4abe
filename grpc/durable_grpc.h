
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
 * is malformed, nests messages more than DG_NESTING_MAX deep (protobuf-c
 * would recurse for each level: TaskFailureDetails holds its own type),
 * holds more than DG_UNKNOWN_MAX fields its type does not know (or one
 * for every 16 bytes of a larger message), or memory
 * runs out (*nomem is then set; nomem may be NULL). Strings are declared
 * bytes in durable_task.proto, so nothing in them is cut at a NUL.
 */

#define DG_NESTING_MAX      100
/* failure details nested by innerFailure: deeper levels are left out */
#define DG_FAILURE_DEPTH    8
#define DG_UNKNOWN_MAX      10000
ProtobufCMessage *dg_unpack(const ProtobufCMessageDescriptor *desc,
    const uint8_t *data, size_t len, dg_mem_t mem, int *nomem);


/*
 * Conversions. A dg_ctx_t carries the memory and the JSON depth limit of
 * one call; a conversion answers DG_OK or a status code, with the words
 * in ctx->status (INVALID_ARGUMENT names the field, and for actions the
 * action's index and kind).
 *
 * JSON: the SDKs send inputs, outputs and custom status as JSON text in
 * StringValue fields; they are validated and minified as the HTTP API
 * does (ds_json_ingest), unset is JSON null (length 0). Reasons are
 * plain text and become JSON strings.
 */

typedef struct {
    dg_mem_t            mem;
    unsigned            json_depth;
    unsigned            nomem;          /* the allocator failed once */
    dg_status_t         status;
} dg_ctx_t;

void dg_ctx_init(dg_ctx_t *ctx, dg_mem_t mem, unsigned json_depth);

/*
 * A call's request message (dg_unpack() with ctx's memory); NULL with
 * the refusal in ctx->status: INVALID_ARGUMENT for a malformed message,
 * RESOURCE_EXHAUSTED when memory ran out (ctx->nomem is set too).
 */
ProtobufCMessage *dg_request_unpack(dg_ctx_t *ctx,
    const ProtobufCMessageDescriptor *desc, const uint8_t *data,
    size_t len);

/*
 * Timestamp <-> µs since the epoch. dg_time_in(): NULL is 0; nanos outside
 * 0..999999999 or seconds outside the dates the store formats (0000-01-01
 * to 9999-12-31) are refused with INVALID_ARGUMENT naming field.
 */
#define DG_TIME_S_MIN       (-62167219200LL)    /* 0000-01-01T00:00:00Z */
#define DG_TIME_S_MAX       253402300799LL      /* 9999-12-31T23:59:59Z */

int dg_time_in(dg_ctx_t *ctx, const Timestamp *ts, const char *field,
    int64_t *us);
Timestamp *dg_time_out(dg_ctx_t *ctx, int64_t us);


/* --- the client's requests: fill op->type and op->in ---------------------
 *
 * The caller sets hub, now, data and done. Ids and names are checked by
 * the store's name rules (ds_names.c) here, so the answer can name the
 * field.
 */

/*
 * What a start carries besides id, name and input; the members of the
 * store's ds_start_opts_t (the caller copies them into in.start.opts):
 * version (len 0: none), tags (a compact JSON object of strings, len 0:
 * none), scheduled (µs, 0: at once) and replace (the id reuse policy's
 * statuses, DS_STATUS_MASK bits; 0: none given).
 */
typedef struct {
    ds_str_t            version;
    ds_str_t            tags;
    int64_t             scheduled;
    unsigned            replace;
} dg_start_t;

/* an empty instanceId is left empty: the caller makes one */
int dg_start_in(dg_ctx_t *ctx, const CreateInstanceRequest *req,
    ds_op_t *op, dg_start_t *start);
int dg_get_in(dg_ctx_t *ctx, const GetInstanceRequest *req, ds_op_t *op,
    int *inputs);
int dg_raise_in(dg_ctx_t *ctx, const RaiseEventRequest *req, ds_op_t *op);
int dg_terminate_in(dg_ctx_t *ctx, const TerminateRequest *req,
    ds_op_t *op, int *recursive);
int dg_suspend_in(dg_ctx_t *ctx, const SuspendRequest *req, ds_op_t *op);
int dg_resume_in(dg_ctx_t *ctx, const ResumeRequest *req, ds_op_t *op);
int dg_rewind_in(dg_ctx_t *ctx, const RewindInstanceRequest *req,
    ds_op_t *op);
/* in.start.from is the instance; in.start.id too, unless *new_id: the
   caller then makes a new id */
int dg_restart_in(dg_ctx_t *ctx, const RestartInstanceRequest *req,
    ds_op_t *op, int *new_id);

#define DG_PURGE_MAX        500     /* instances one purge call deletes */

/*
 * A purge: of one instance (DS_OP_PURGE in op), by filter
 * (DS_OP_PURGE_BATCH in op, over query; isComplete is !out.purge.more),
 * or of a list of ids (ids, nids: one DS_OP_PURGE each, op holds none).
 */
typedef struct {
    ds_op_t             op;
    ds_query_t          query;
    ds_str_t           *ids;
    size_t              nids;
    int                 recursive;
} dg_purge_t;

int dg_purge_in(dg_ctx_t *ctx, const PurgeInstancesRequest *req,
    dg_purge_t *purge);

#define DG_PAGE_DEFAULT     100     /* a query without a page size */
#define DG_PAGE_MAX         1000

/*
 * A query's page ends, with a token, once its items reach this many bytes
 * (or durable_task_list_max_bytes, if less): under the 4 MiB that gRPC
 * clients accept in a message by default
 */
#define DG_PAGE_BYTES       (3 * 1024 * 1024)

/* DS_OP_LIST over query; the caller sets item, item_data and token */
int dg_query_in(dg_ctx_t *ctx, const QueryInstancesRequest *req,
    ds_op_t *op, ds_query_t *query, int *inputs);

/*
 * ListInstanceIds: DS_OP_LIST over query (terminal statuses unless
 * listed); the store has no completed-time index, so the caller keeps
 * the instances dg_list_ids_match() accepts (completed_from/to, µs).
 */
typedef struct {
    int64_t             completed_from;
    int64_t             completed_to;
} dg_list_ids_t;

int dg_list_ids_in(dg_ctx_t *ctx, const ListInstanceIdsRequest *req,
    ds_op_t *op, ds_query_t *query, dg_list_ids_t *ids);
int dg_list_ids_match(const dg_list_ids_t *ids, const ds_instance_t *inst);

/* "@name@key" into its parts, checked by ds_name_entity() */
int dg_entity_id(dg_ctx_t *ctx, ProtobufCBinaryData id, const char *field,
    ds_str_t *name, ds_str_t *key);
int dg_signal_in(dg_ctx_t *ctx, const SignalEntityRequest *req,
    ds_op_t *op);
int dg_entity_get_in(dg_ctx_t *ctx, const GetEntityRequest *req,
    ds_op_t *op, int *state);
/*
 * DS_OP_ENTITY_LIST; instanceIdStartsWith is "@name" or "@name@..." (a
 * key prefix is the caller's to check: *key_prefix, dg_entity_match()).
 */
int dg_entity_query_in(dg_ctx_t *ctx, const QueryEntitiesRequest *req,
    ds_op_t *op, int *state, ds_str_t *key_prefix);
int dg_entity_match(ds_str_t key_prefix, const ds_entity_t *e);

/*
 * Reads and writes of the store's additions for the SDKs (docs/grpc.md);
 * UNIMPLEMENTED with a store that lacks them.
 *
 * StreamInstanceHistory: DS_OP_HISTORY from the first event, chunks of
 * at most DG_CHUNK_EVENTS events and DG_CHUNK_BYTES bytes; the caller
 * reads on from out.history.next. *execution: the execution asked for
 * (its executionId), 0 for any.
 */
#define DG_CHUNK_EVENTS     256
#define DG_CHUNK_BYTES      (256 * 1024)

int dg_history_in(dg_ctx_t *ctx, const StreamInstanceHistoryRequest *req,
    ds_op_t *op, uint64_t *execution);

/* CleanEntityStorage: one batch, DS_OP_ENTITY_CLEAN; the caller gives the
   token buffer (in.entity_clean.token) */
#define DG_CLEAN_MAX        1000

int dg_clean_in(dg_ctx_t *ctx, const CleanEntityStorageRequest *req,
    ds_op_t *op);


/* --- answers ----------------------------------------------------------- */

/* the instance as OrchestrationState; inputs: with input and output */
int dg_state_out(dg_ctx_t *ctx, ds_str_t id, const ds_instance_t *inst,
    int inputs, OrchestrationState **out);
/* an instance's tags (a JSON object of strings, len 0: none) into st */
int dg_state_tags_out(dg_ctx_t *ctx, ds_str_t tags, OrchestrationState *st);
/* an entity; state: with its serialized state */
int dg_entity_out(dg_ctx_t *ctx, const ds_entity_t *e, int state,
    EntityMetadata **out);
/* an execution number as the SDKs' executionId text */
int dg_execution_out(dg_ctx_t *ctx, uint64_t execution, ds_str_t *out);


/*
 * History: the store's events (JSON, docs/worker-protocol.md) as
 * HistoryEvent messages, collected in order. dg_events_add() fits
 * ds_event_cb (data: the dg_events_t). Event ids are the store's
 * (EventId, -1 where an event has none); an EventSent written with -1
 * (by older stores) gets the id its action had, as the SDKs number all
 * actions of an execution in one sequence: the one after the last id of
 * the execution. Before any id of the execution is known, that sequence
 * is taken to start at 0 (the .NET, Java and Go SDKs); the first id that
 * comes then says where it started (the JavaScript and Python SDKs start
 * at 1), and the sends guessed before it in this collection are
 * renumbered.
 */
typedef struct {
    dg_ctx_t           *ctx;
    HistoryEvent      **events;
    size_t              n;
    size_t              size;
    int                 rc;             /* the first failure */
    ds_str_t            instance_id;    /* for ExecutionStarted, or len 0 */
    ds_str_t            execution_id;

    /* the numbering of the execution so far, kept by dg_events_next() */
    int64_t             last_id;        /* -1: none yet */
    int                 known;          /* an id of the store's was seen */
    size_t              guessed;        /* sends numbered before it */
    size_t              from;           /* its first event in events */
} dg_events_t;

void dg_events_init(dg_events_t *ev, dg_ctx_t *ctx);
/* empties ev for the next events of the same history (a chunk) */
void dg_events_next(dg_events_t *ev);
/*
 * For a reader that learns the execution after its events (a
 * DS_OP_HISTORY's out.history.execution comes in done()): the instance
 * (id, execution) of the ExecutionStarted events collected without one.
 */
int dg_events_instance(dg_events_t *ev, ds_str_t id, uint64_t execution);
int dg_events_add(void *data, uint64_t seq, ds_str_t event);
/* one event (valid JSON from the store) */
int dg_event_out(dg_ctx_t *ctx, ds_str_t event, HistoryEvent **out);


/* --- work items and completions -------------------------------------------
 *
 * A completion token carries the work item's kind, key and lease, so
 * that a completion names exactly the lease it was given.
 */
typedef struct {
    ds_work_kind_e      kind;
    ds_str_t            id;             /* instance id, or entity name */
    ds_str_t            key;            /* entity key */
    int64_t             task;           /* activity: its task id */
    uint8_t             lease[DS_LEASE_LEN];
} dg_token_t;

int dg_token_out(dg_ctx_t *ctx, const dg_token_t *t,
    ProtobufCBinaryData *out);
int dg_token_in(dg_ctx_t *ctx, ProtobufCBinaryData in, dg_token_t *t);

/*
 * A claimed item as a WorkItem, inside the claim's item callback (op is
 * the claim): an orchestration's history becomes pastEvents, and its
 * delivered messages newEvents behind an OrchestratorStarted at the
 * episode's time (the time its completion records); an activity its
 * ActivityRequest; an entity an EntityBatchRequest with its operations.
 * The WorkItem points into the store: pack it before the callback
 * returns.
 */
int dg_work_item_out(dg_ctx_t *ctx, ds_op_t *op, const ds_work_item_t *item,
    WorkItem **out);

/*
 * GetWorkItems: the work-item filters of one kind as a claim filter
 * (names checked; versions are not kept by the store and not matched)
 * and the request's concurrency limit of that kind (0: none given). More
 * than DG_FILTER_NAMES_MAX names of a kind are refused: an SDK sends one
 * per function it registered, and each claim matches against them.
 */
#define DG_FILTER_NAMES_MAX 1000

int dg_work_filter_in(dg_ctx_t *ctx, const GetWorkItemsRequest *req,
    ds_work_kind_e kind, ds_claim_filter_t *filter, size_t *concurrency);
/* the keep-alive item of an idle GetWorkItems stream */
int dg_health_ping_out(dg_ctx_t *ctx, WorkItem **out);
/* StreamInstanceHistory: n events (of a dg_events_t) as one chunk */
int dg_chunk_out(dg_ctx_t *ctx, HistoryEvent **events, size_t n,
    HistoryChunk **out);

/* completions and abandons: DS_OP_WORK_COMPLETE / _ABANDON in op */
int dg_orchestrator_done_in(dg_ctx_t *ctx, const OrchestratorResponse *res,
    ds_op_t *op);
int dg_activity_done_in(dg_ctx_t *ctx, const ActivityResponse *res,
    ds_op_t *op);
int dg_entity_done_in(dg_ctx_t *ctx, const EntityBatchResult *res,
    ds_op_t *op);
int dg_abandon_in(dg_ctx_t *ctx, ds_work_kind_e kind,
    ProtobufCBinaryData token, ds_op_t *op);
/* a stream's renewal of an item it holds: DS_OP_WORK_RENEW in op */
int dg_renew_in(dg_ctx_t *ctx, ds_work_kind_e kind,
    ProtobufCBinaryData token, int64_t lease_us, ds_op_t *op);


#endif /* DURABLE_GRPC_H */
