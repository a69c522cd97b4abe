
/*
 * Copyright (C) ngx_durable authors
 *
 * The task hub store: instances, history, inboxes and their indexes in one
 * LMDB environment. Plain C99 over LMDB and jansson; no nginx headers, so
 * the nginx module, the unit tests, the fuzzers and a CLI all link it.
 *
 * Front ends (the nginx glue) use the operation layer only: a ds_op_t per
 * request, submitted to a ds_store_t (ds_store_submit) that answers it
 * through op->done(), at once or later, with each type's contract next to
 * ds_op_type_e. The txn-level functions are for the store's own tools,
 * tests and backends.
 *
 * Conventions:
 *   - every function returns a ds_rc_e value (errors are values);
 *   - strings are (pointer, length) pairs, never NUL-terminated in storage;
 *   - values handed out by reads point into LMDB's map and stay valid
 *     until the transaction that read them ends;
 *   - times are microseconds since the Unix epoch, UTC (int64_t);
 *   - JSON fields (input, output, custom status, events) are compact JSON
 *     text, validated once on the way in; a zero length means JSON null.
 */


#ifndef DURABLE_STORE_H
#define DURABLE_STORE_H


#include <stddef.h>
#include <stdint.h>


typedef enum {
    DS_OK = 0,
    DS_NOTFOUND,        /* no such instance, entity or record */
    DS_CONFLICT,        /* an active instance already has this id */
    DS_GONE,            /* the instance is terminal; the operation is moot */
    DS_PRECONDITION,    /* the instance is in a status that forbids it */
    DS_FULL,            /* the map is full; the transaction must abort */
    DS_INVALID,         /* bad argument: key too long, malformed token */
    DS_MISMATCH,        /* a retried completion that differs from the one
                           applied under the same lease */
    DS_ERROR,           /* I/O or other LMDB failure; see ds_txn_error() */
    DS_UNAVAILABLE,     /* a network backend did not answer in time, or
                           lost its connection: the outcome is unknown */
    DS_UNSUPPORTED,     /* the backend does not serve this operation */
    DS_SCHEMA,          /* the database's schema is of a version this
                           build does not know: nothing was sent */
    DS_STOPPED          /* a write refused, nothing of it written: a flush
                           of the store failed before (LMDB), so it takes
                           no writes while the processes sharing its stop
                           word live (under nginx: until nginx is started
                           again, a reload keeps it); the store logs the
                           refusals itself, once a second at most, and the
                           batch whose flush failed is answered DS_ERROR */
} ds_rc_e;


/* numeric values are the reference implementation's enum values */
typedef enum {
    DS_RUNNING = 0,
    DS_COMPLETED = 1,
    DS_CONTINUED_AS_NEW = 2,
    DS_FAILED = 3,
    DS_CANCELED = 4,
    DS_TERMINATED = 5,
    DS_PENDING = 6,
    DS_SUSPENDED = 7
} ds_status_e;

#define DS_STATUS_COUNT     8
#define DS_STATUS_MASK(s)   (1u << (s))
#define DS_TERMINAL_MASK    (DS_STATUS_MASK(DS_COMPLETED)                     \
                             | DS_STATUS_MASK(DS_FAILED)                      \
                             | DS_STATUS_MASK(DS_CANCELED)                    \
                             | DS_STATUS_MASK(DS_TERMINATED))

#define DS_HUB_MAX          50
#define DS_ID_MAX           256
/* an id the store may stamp with the time of its write: in.start.stamp */
#define DS_ID_STAMP_LEN     32
#define DS_NAME_MAX         256
#define DS_TOKEN_MAX        512     /* longest continuation token, bytes */
#define DS_TIME_S_LEN       20      /* "2018-03-10T13:57:31Z" */
#define DS_TIME_FRAC_LEN    28      /* "2018-03-10T13:57:31.1234567Z" */
#define DS_LEASE_LEN        16      /* lease token, bytes */


typedef struct {
    const char         *data;
    size_t              len;
} ds_str_t;


typedef struct ds_env_s  ds_env_t;
typedef struct ds_txn_s  ds_txn_t;


typedef enum {
    DS_SYNC_FULL = 0,       /* fsync on every commit (default) */
    DS_SYNC_NONE            /* MDB_NOSYNC; flushed with ds_env_sync() */
} ds_sync_e;


typedef struct {
    const char         *path;           /* directory, must exist */
    size_t              map_size;       /* bytes */
    ds_sync_e           sync;
    unsigned            max_readers;    /* 0: LMDB's default (126) */
    int                 no_tls;         /* MDB_NOTLS, for thread pools */
    int                 reuse_reader;   /* keep one reset read txn for
                                           reuse: only when a single
                                           thread begins read txns */
    size_t              reserve;        /* bytes only terminate and purge
                                           may use; 0: 5% of the map,
                                           at least 64 pages */
    int                *stop;           /* a word every process with
                                           the store open shares (in the
                                           host's shared memory), zero at
                                           first, or NULL: one of the
                                           env's own. A failed flush sets
                                           it (a commit's, ds_env_sync()'s,
                                           the open's own), and once it is
                                           set no write txn begins
                                           (ds_env.c); read and written
                                           with atomics */
} ds_env_conf_t;


/*
 * An instance record. Reads fill the ds_str_t fields with pointers into the
 * map; writes take them from the caller.
 */
typedef struct {
    ds_status_e         status;
    ds_status_e         suspended_from; /* status to resume to */
    int64_t             created;        /* µs; also the index position */
    int64_t             updated;        /* µs */
    uint64_t            execution;      /* bumped by every (re)start */
    ds_str_t            name;
    ds_str_t            input;          /* JSON text, len 0 = null */
    ds_str_t            output;
    ds_str_t            custom_status;

    /*
     * Appended for the worker protocol. A memset() record has no parent,
     * no lease and is not ready; ds_instance_put() keeps the ready index
     * in step with ready_at. The store maintains these fields itself: a
     * caller that changes a record should get it, change its own fields
     * and put it back, so the worker fields stay as they were.
     */
    ds_str_t            parent_id;      /* sub-orchestration: the parent;
                                           len 0: none */
    int64_t             parent_task;    /* its EventId in the parent, or -1 */
    uint64_t            parent_execution;   /* the parent's execution */
    int64_t             ready_at;       /* µs; 0: not in the ready index */
    int64_t             lease_expires;  /* µs */
    int64_t             episode_at;     /* claim time: the episode's clock */
    uint64_t            lease_upto;     /* inbox seq delivered under lease */
    uint64_t            inbox_seq;      /* last inbox seq handed out */
    ds_status_e         done_status;    /* answer to a retried completion */
    uint8_t             lease[DS_LEASE_LEN];        /* all zero: none */
    uint8_t             done_lease[DS_LEASE_LEN];   /* last completion */
    uint64_t            done_digest;    /* of the last completion; 0: not
                                           known (an older record) */

    /*
     * Appended for the Durable Task SDKs (record version 5; an older
     * record reads as none of them): what the start asked for.
     */
    int64_t             scheduled_start;    /* µs; 0: at once */
    ds_str_t            version;        /* len 0: none */
    ds_str_t            tags;           /* JSON object of strings, compact;
                                           len 0: none */

    /*
     * Appended for the SDKs' failure details (record version 6): a
     * Failed instance's details as its completion gave them (JSON), the
     * reason being the output. len 0: none.
     */
    ds_str_t            failure;

    /*
     * Appended for sub-orchestrations (record version 7): the parent's
     * created time when it started this child. A child's end reaches a
     * parent only while both its execution and its created time are
     * these, so a parent purged and started again under the same id
     * does not get the old child's result. 0: not known (no parent, or
     * a record written before the field), the execution alone decides.
     */
    int64_t             parent_created;
} ds_instance_t;


/*
 * list / purge filter; fields left zero mean "no filter", so a time
 * given as a bound goes through ds_query_bound() first. id_prefix is the
 * list's only: a purge with one is refused (DS_INVALID).
 */
typedef struct {
    int64_t             created_from;   /* inclusive; INT64_MIN: open */
    int64_t             created_to;     /* inclusive; INT64_MAX: open */
    unsigned            status_mask;    /* DS_STATUS_MASK bits; 0: any */
    ds_str_t            id_prefix;
    size_t              top;            /* page size, >= 1 */
    size_t              scan_budget;    /* index entries to examine, >= top */
    ds_str_t            token;          /* continuation token from client */
} ds_query_t;


typedef int (*ds_instance_cb)(void *data, ds_str_t id,
    const ds_instance_t *inst);
typedef int (*ds_event_cb)(void *data, uint64_t seq, ds_str_t event);


/* environment */

int ds_env_open(ds_env_t **envp, const ds_env_conf_t *conf,
    char *err, size_t err_len);
void ds_env_close(ds_env_t *env);
/* fdatasync() of the data file; a failure sets the stop word (above) */
int ds_env_sync(ds_env_t *env);
int ds_env_reader_check(ds_env_t *env, int *dead);
const char *ds_env_path(ds_env_t *env);


/*
 * Space. The map's last reserve bytes are kept for the operations that
 * empty a store: once the live data reaches map size less the reserve,
 * the operations that add data answer DS_FULL before they write anything
 * (ds_op_start, ds_op_raise_event, ds_op_suspend, ds_op_resume,
 * ds_op_rewind, ds_entity_signal and the ds_work_complete_*
 * completions). ds_op_terminate may use half of the reserve (it adds a
 * history event, and terminating many instances can fill a reserve), and
 * ds_op_purge and ds_instance_purge all of it, so what was terminated can
 * always be purged. An entity's "delete" signal and the completion that
 * deletes its state may use half of the reserve, as terminate does.
 * Claims, renewals and abandons rewrite what is there and are not
 * refused. A store full of active instances can thus always be
 * emptied by terminating and purging in turns. ds_txn_space() reports the
 * measure (see ds_env.c): used counts the pages of the live data as the
 * txn sees them, and goes down when data is deleted.
 */

/*
 * The least reserve, in LMDB pages (the OS page size): a write txn copies
 * the pages it changes and those it frees are reused only after the next
 * commit, so a txn needs about twice what it touches beyond the live data.
 */
#define DS_RESERVE_PAGES    64

typedef struct {
    size_t              used;           /* bytes of live pages */
    size_t              map_size;
    size_t              reserve;
} ds_space_t;


/*
 * What a read saw: two reads of one store in one process with equal
 * snapshots read the same stored data (LMDB: a number the env was given
 * when this process opened it, and the last commit the read txn sees).
 * env is never 0: a zeroed snapshot is none.
 */
typedef struct {
    uint64_t            env;
    uint64_t            txn;
} ds_snapshot_t;

int ds_txn_space(ds_txn_t *txn, ds_space_t *space);


/* transactions: one per operation; a parent makes a nested write txn */

int ds_txn_begin(ds_env_t *env, ds_txn_t *parent, int write,
    ds_txn_t **txnp);
int ds_txn_commit(ds_txn_t *txn);
void ds_txn_abort(ds_txn_t *txn);
const char *ds_txn_error(ds_txn_t *txn);
uint64_t ds_txn_writes(ds_txn_t *txn);
const char *ds_strerror(int rc);


/* instance records and their created-time and status indexes */

int ds_instance_get(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_instance_t *inst);
int ds_instance_put(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    const ds_instance_t *inst);
int ds_instance_delete(ds_txn_t *txn, ds_str_t hub, ds_str_t id);

/* a listed record's worker fields (lease, ready_at, ...) may read as 0 */
int ds_instance_list(ds_txn_t *txn, ds_str_t hub, const ds_query_t *q,
    ds_instance_cb cb, void *data, char *token, size_t *token_len);
int ds_instance_purge(ds_txn_t *txn, ds_str_t hub, const ds_query_t *q,
    size_t max, size_t *deleted, int *more);

/*
 * The continuation token (DS_TOKEN_MAX bytes at token; its length, 0 for
 * an id too long) of a list page that a front end ends after the
 * instance it names, short of what the store read: the next page starts
 * after it, on either backend.
 */
size_t ds_list_token(int64_t created, ds_str_t id, char *token);

/*
 * The same, stopping also once ds_time_mono() reaches deadline (0: none)
 * after one instance at least, *more set: a batch bounded by time.
 */
int ds_instance_purge_until(ds_txn_t *txn, ds_str_t hub,
    const ds_query_t *q, size_t max, int64_t deadline, size_t *deleted,
    int *more);


/* history and inbox: append-only sequences per instance */

int ds_history_append(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_str_t event, uint64_t *seq);
int ds_history_read(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_event_cb cb, void *data);
int ds_history_clear(ds_txn_t *txn, ds_str_t hub, ds_str_t id);
/*
 * A history in chunks (gRPC's StreamInstanceHistory): the events with
 * seq >= from (0 or 1: from the first), at most max_events of them and
 * at most max_bytes of event text (0: no bound; the first event is read
 * whatever its size); *next: the seq to read the next chunk from, 0 when
 * this chunk reached the end. A history is numbered from 1 in order; a
 * new execution (restart, ContinueAsNew) numbers its own from 1 again.
 */
int ds_history_chunk(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    uint64_t from, size_t max_events, size_t max_bytes, ds_event_cb cb,
    void *data, uint64_t *next);

/*
 * ds_inbox_append() numbers the message from the record's inbox counter
 * and makes the instance ready (at ds_time_now(): the operations take
 * "now" and are what the module uses); without a record it is a plain
 * sequence append. ds_inbox_read_upto() reads the messages with seq <=
 * upto: an orchestration work item delivers exactly those
 * (ds_work_item_t.upto), as workers see them (a lock grant without the
 * set the store keeps in it); ds_inbox_read() reads them as stored.
 */
int ds_inbox_append(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_str_t message, uint64_t *seq);
int ds_inbox_read(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_event_cb cb, void *data);
int ds_inbox_read_upto(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    uint64_t upto, ds_event_cb cb, void *data);
int ds_inbox_clear(ds_txn_t *txn, ds_str_t hub, ds_str_t id);


/* lifecycle operations: whole API operations, atomic within the txn */

int ds_op_start(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_str_t name,
    ds_str_t input, int64_t now, ds_instance_t *inst);

/*
 * What a start may carry besides name and input (DS_OP_START). Zeroed, it
 * is ds_op_start(). tags: a JSON object whose members are strings, or len
 * 0 (DS_INVALID otherwise, as a version of more than DS_NAME_MAX bytes).
 * scheduled: the instance stays Pending and is not handed to workers
 * before then; 0 or a time past: at once. replace: the id reuse policy,
 * see DS_OP_START.
 */
typedef struct {
    ds_str_t            version;
    ds_str_t            tags;
    int64_t             scheduled;      /* µs; 0: at once */
    unsigned            replace;        /* DS_STATUS_MASK bits */
} ds_start_opts_t;

int ds_op_start_opts(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_str_t name, ds_str_t input, const ds_start_opts_t *opts, int64_t now,
    ds_instance_t *inst);
/* DS_OK when tags is len 0 or a JSON object of string members */
int ds_tags_check(ds_str_t tags);
int ds_op_raise_event(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_str_t name, ds_str_t data, int64_t now);
int ds_op_terminate(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_str_t reason, int64_t now);
int ds_op_suspend(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_str_t reason, int64_t now);
int ds_op_resume(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_str_t reason, int64_t now);
int ds_op_rewind(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_str_t reason, int64_t now);
int ds_op_purge(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_status_e *status);
/*
 * Recursive forms (gRPC's TerminateInstance and PurgeInstances with
 * recursive): the instance, then the sub-orchestrations its history
 * says it started and that still name it as parent, and theirs, 16
 * levels down. A child that keeps its parent's created time (record
 * version 7) must name this life of the id: one an earlier life
 * started, before the id was purged and started again, is left alone.
 * Terminate answers as ds_op_terminate() for the instance and goes on to
 * its active children only when it terminated it; purge answers as
 * ds_op_purge(), leaves active children alone and counts in *purged
 * every instance it deleted.
 */
int ds_op_terminate_tree(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_str_t reason, int64_t now);
int ds_op_purge_tree(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_status_e *status, size_t *purged);


/* statuses */

const char *ds_status_name(ds_status_e status);
int ds_status_parse(const char *s, size_t len);
int ds_status_is_terminal(ds_status_e status);


/* time */

int64_t ds_time_now(void);
int64_t ds_time_mono(void);     /* µs of a monotonic clock, for durations */
int ds_time_parse(const char *s, size_t len, int64_t *us);
int64_t ds_query_bound(int64_t us, int upper);
size_t ds_time_format_s(int64_t us, char *buf);
size_t ds_time_format_frac(int64_t us, char *buf);


/* JSON ingest: validate once, keep the bytes, drop insignificant space */

int ds_json_ingest(const char *in, size_t len, unsigned max_depth,
    char *out, size_t *out_len, char *err, size_t err_len);
int ds_json_depth_ok(const char *in, size_t len, unsigned max_depth);
size_t ds_json_escape(const char *in, size_t len, char *out);
size_t ds_json_escape_len(const char *in, size_t len);
int ds_json_text_or_string(const char *in, size_t len, unsigned max_depth,
    char *out, size_t *out_len);


/*
 * Consistency check (tests, fault injection, a CLI): walks the records,
 * both indexes, history and inboxes of a hub (hub.len 0: of every hub) and
 * reports each mismatch through cb (may be NULL). Returns DS_OK when the
 * store is consistent, DS_ERROR when a problem was found or LMDB failed.
 * stats may be NULL. ds_check() runs in its own read transaction.
 */

typedef struct {
    size_t              instances;
    size_t              by_created;
    size_t              by_status;
    size_t              history;
    size_t              inbox;
    size_t              problems;
    size_t              ready;
    size_t              activities;     /* live ones and tombstones */
    size_t              timers;
    size_t              entities;
    size_t              entity_ops;
} ds_check_stats_t;

typedef void (*ds_check_cb)(void *data, const char *problem, ds_str_t hub,
    ds_str_t id);

int ds_check(ds_env_t *env, ds_str_t hub, ds_check_cb cb, void *data,
    ds_check_stats_t *stats);
int ds_check_txn(ds_txn_t *txn, ds_str_t hub, ds_check_cb cb, void *data,
    ds_check_stats_t *stats);


/*
 * Worker protocol (docs/worker-protocol.md). Work items of a hub are found
 * through a "ready" index ordered by the time they become visible; a claim
 * takes a lease (a caller-made random token of DS_LEASE_LEN bytes) and
 * moves the item's visibility to the lease expiry, so an expired lease
 * makes it claimable again. Items of suspended or terminal instances are
 * never handed out. Leases are fenced: a completion must present the
 * current token; the token of the last completion and a digest of its
 * parsed body are remembered, so that a retry of it answers the same
 * without applying anything twice, and another completion under that
 * token is refused with DS_MISMATCH.
 *
 * Claims: tokens holds max tokens, one per item, none all zero (that means
 * "no lease": DS_INVALID); lease_us >= 1. The callback runs inside the
 * claiming write txn; a non-zero return makes the claim DS_ERROR (abort
 * the txn). Pointers in an item are valid only during its callback. Each
 * claim does bounded work (at most max + 1000 index entries, 1000 timers).
 *
 * Orchestration item: read the history with ds_history_read() and the
 * messages with ds_inbox_read_upto(txn, hub, id, item->upto, ...): the
 * messages delivered under the lease are exactly those with seq <= upto
 * (messages that arrive later have greater seqs and wait for the next
 * episode); they are in history shape already: ExecutionStarted {Name,
 * Input, and Version, Tags, ScheduledStartTime when the start had them},
 * EventRaised {Name, Input}, TaskCompleted {TaskScheduledId,
 * Result}, TaskFailed {TaskScheduledId, Reason, Details}, TimerFired
 * {TimerId, FireAt}, SubOrchestrationInstanceCompleted {TaskScheduledId,
 * Result}, SubOrchestrationInstanceFailed {TaskScheduledId, Reason,
 * Details}, ExecutionRewound {Reason}.
 *
 * Entity item: read the operations with ds_entity_read_ops(txn, hub,
 * item->name, item->key, item->upto, ...); each is
 * {"operation":"..","input":..,"timestamp":".."}.
 *
 * Every event the store writes is {"EventType":"..","Timestamp":"..",
 * "EventId":n,...} (ds_time_format_frac). EventId is the action's id for
 * what an action made (TaskScheduled, TimerCreated,
 * SubOrchestrationInstanceCreated, EventSent, ExecutionCompleted: the
 * JSON worker protocol gives -1 where it takes no id), -1 for every
 * other event, as the Durable Task Framework records them; results refer
 * to their action by TaskScheduledId or TimerId. A completion appends to
 * the history:
 * OrchestratorStarted, the delivered messages as stored, one event per
 * action (TaskScheduled {EventId, Name, Input}, TimerCreated {EventId,
 * FireAt}, SubOrchestrationInstanceCreated {EventId, Name, InstanceId,
 * Input, Version if any}, EventSent {EventId, InstanceId, Name, Input}
 * for raiseEvent and for signalEntity (InstanceId "@name@key", Name the
 * operation),
 * ExecutionCompleted {OrchestrationStatus 1, Result} or {3, Result: the
 * reason, FailureDetails {Reason, Details}}), OrchestratorCompleted. A
 * ContinueAsNew clears the history instead and queues ExecutionStarted
 * {Name, Input, Version, Tags} (version: the action's when it has one)
 * and the events it carries over ahead of messages that arrived
 * meanwhile.
 *
 * Answers of the completions:
 *   orchestration: DS_NOTFOUND (gone), DS_OK with *status = the status
 *     after the completion (also for a retry with the same token),
 *     DS_GONE (terminal meanwhile, e.g. terminated), DS_CONFLICT (the
 *     token is not current), DS_INVALID (bad actions; nothing written);
 *   activity: DS_OK (also for a retry after success: the completed
 *     activity stays as a tombstone holding its token until the task id
 *     is scheduled again or the instance is purged or restarted),
 *     DS_NOTFOUND (no such activity, no tombstone), DS_CONFLICT (another
 *     token, or completed under another token); the result is dropped
 *     when the instance is terminal;
 *   entity: as orchestrations, without DS_GONE;
 *   all kinds: DS_MISMATCH for the token of the last completion with
 *     another body (a record written before digests were kept answers
 *     such a retry as a retry).
 * Renew and abandon: DS_NOTFOUND when the item is gone, DS_CONFLICT when
 * the token is not current. Any error other than DS_NOTFOUND, DS_GONE,
 * DS_CONFLICT and DS_INVALID may leave partial writes: abort the txn.
 *
 * Activities of a suspended instance are still handed out (their results
 * wait in its inbox). Finishing an execution (complete, fail,
 * ContinueAsNew, terminate) drops its pending activities and timers.
 */

typedef enum {
    DS_WORK_ORCHESTRATION = 0,
    DS_WORK_ACTIVITY,
    DS_WORK_ENTITY
} ds_work_kind_e;


/*
 * A claimed item of any kind; the members its kind does not have are
 * zero. Orchestration: id, name (the orchestrator), input, execution,
 * timestamp (the episode's clock: the claim time), status (after the
 * claim; Pending until the first completion), upto (inbox seq). Activity:
 * id, task_id (its TaskScheduled EventId), name, input, version and tags
 * (the call's, len 0: none; on PostgreSQL from schema version 8),
 * execution (of its instance). Entity: id ("@name@key"), name
 * (lower-cased) and key, input (the state; len 0: no
 * state), upto (operations seq). Inputs are JSON text, len 0 = null.
 */
typedef struct {
    ds_work_kind_e      kind;
    ds_str_t            id;
    ds_str_t            name;
    ds_str_t            key;
    ds_str_t            input;
    ds_str_t            version;        /* activity: len 0: none */
    ds_str_t            tags;           /* activity: JSON, len 0: none */
    int64_t             task_id;
    uint64_t            execution;
    int64_t             timestamp;
    ds_status_e         status;
    uint64_t            upto;
    int64_t             lease_expires;
    const uint8_t      *lease;
} ds_work_item_t;

/*
 * Called inside the claiming write txn, once per item, before the next
 * item is written: pointers stay valid for the call. The callback reads
 * an orchestration's history and inbox (seq <= upto) or an entity's
 * operations through txn.
 */
typedef int (*ds_work_item_cb)(void *data, ds_txn_t *txn,
    const ds_work_item_t *item);

/*
 * A claim by name: only items whose name (orchestrator, activity, or
 * entity name compared lower-cased) is one of names. Visible items of
 * other names stay as they are; they count toward the claim's bounded
 * work, so skipped says how many were passed over and more that the
 * bound was reached with visible entries left unexamined.
 */
typedef struct {
    const ds_str_t     *names;
    size_t              nnames;         /* 0: any name */
    size_t              skipped;        /* out */
    int                 more;           /* out */
    size_t              expired;        /* out: claimed from a lease that
                                           ran out */
    int                 sorted;         /* names in the order of
                                           ds_claim_filter_sort() */
} ds_claim_filter_t;

/*
 * Sorts names (n of them) for the claims of kind and sets the filter's
 * names, nnames and sorted: a claim then finds an entry's name among
 * them by a binary search, not by comparing it with each. Meant to be
 * done once for the many claims of a stream.
 */
void ds_claim_filter_sort(ds_claim_filter_t *filter, ds_work_kind_e kind,
    ds_str_t *names, size_t n);


/*
 * Names and ids that clients and workers supply (ds_names.c): instance
 * ids, orchestrator, activity and event names, entity names and keys. A
 * name has 1 to max bytes of valid UTF-8 without '/', '\', '?', '#' and
 * control characters (below 0x20, and 0x7f). An instance id is a name of
 * at most DS_ID_MAX bytes that does not start with '@'. An entity name is
 * a name without '@'; its key is empty or a name; the two together have at
 * most DS_ID_MAX - 2 bytes, so that "@name@key" is an id. A check answers
 * DS_OK or DS_INVALID with the fault filled in; ds_name_fault_text()
 * words it ("must have 1 to 256 bytes, not 300") into buf, NUL-terminated,
 * and returns its length.
 */

typedef enum {
    DS_NAME_OK = 0,
    DS_NAME_LENGTH,         /* empty, or longer than max */
    DS_NAME_CHAR,           /* '/', '\', '?', '#' or a control character */
    DS_NAME_UTF8,           /* not well-formed UTF-8 */
    DS_NAME_LEADING_AT,     /* an instance id that starts with '@' */
    DS_NAME_AT,             /* an entity name that contains '@' */
    DS_NAME_PAIR_LENGTH     /* entity name and key together too long */
} ds_name_error_e;

typedef enum {
    DS_NAME_PART_NAME = 0,
    DS_NAME_PART_KEY,
    DS_NAME_PART_BOTH
} ds_name_part_e;

typedef struct {
    ds_name_error_e     error;
    ds_name_part_e      part;           /* ds_name_entity(): which one */
    size_t              len;            /* the length checked */
    size_t              max;            /* its limit */
    size_t              at;             /* offset of the bad byte */
    unsigned char       byte;           /* the bad byte */
} ds_name_fault_t;

int ds_name_hub(ds_str_t hub);
int ds_name_check(ds_str_t s, size_t max, ds_name_fault_t *f);
int ds_name_instance_id(ds_str_t id, ds_name_fault_t *f);
int ds_name_entity(ds_str_t name, ds_str_t key, ds_name_fault_t *f);
size_t ds_name_fault_text(const ds_name_fault_t *f, char *buf, size_t size);


typedef enum {
    DS_ACT_SCHEDULE_ACTIVITY = 0,
    DS_ACT_CREATE_TIMER,
    DS_ACT_START_SUB,
    DS_ACT_RAISE_EVENT,
    DS_ACT_SIGNAL_ENTITY,
    DS_ACT_SET_CUSTOM_STATUS,
    DS_ACT_COMPLETE,
    DS_ACT_FAIL,
    DS_ACT_CONTINUE_AS_NEW,
    DS_ACT_CALL_ENTITY,         /* an operation whose result comes back */
    DS_ACT_LOCK_ENTITIES,       /* a critical section's lock request */
    DS_ACT_UNLOCK_ENTITY,       /* the end of it, one per entity */
    DS_ACT_TERMINATE            /* another instance (instance_id), input
                                   the reason, recurse its children */
} ds_action_type_e;

typedef struct {
    ds_action_type_e    type;
    int64_t             id;             /* schedule id: EventId */
    ds_str_t            name;           /* activity, orchestrator, event,
                                           entity operation */
    ds_str_t            instance_id;    /* sub-orchestration, event target */
    ds_str_t            entity_name;
    ds_str_t            entity_key;
    ds_str_t            input;          /* JSON: input, output, custom status,
                                           new input */
    ds_str_t            reason;         /* fail: JSON string */
    ds_str_t            details;        /* fail: JSON */
    int64_t             fire_at;        /* timer, µs */
    ds_str_t            version;        /* sub-orchestration; len 0: none */
    ds_str_t            tags;           /* sub-orchestration: JSON object
                                           of strings; len 0: none */
    ds_str_t            request_id;     /* call, signal: the requestId
                                           (a signal without one is
                                           recorded as EventSent); lock,
                                           unlock: the critical section */
    const ds_str_t     *lock_set;       /* lock: entity ids "@name@key" */
    size_t              nlock;
    const ds_str_t     *carryover;      /* continueAsNew: events for the
                                           new execution, history-shaped
                                           JSON objects */
    size_t              ncarryover;
    int                 recurse;        /* terminate: sub-orchestrations
                                           too */
} ds_action_t;

/*
 * What is wrong with a completion's actions (ds_work_actions_check): the
 * action at index, and which of its fields. DS_ACTION_NAME: a name or id
 * breaks the rules above (name says how); defaulted: the id is the
 * default "<parent id>:<id>". DS_ACTION_ID_TWICE: other is the index of
 * the earlier action with the same schedule id.
 */

typedef enum {
    DS_ACTION_OK = 0,
    DS_ACTION_TYPE,             /* not an action type */
    DS_ACTION_NOT_LAST,         /* a finishing action before the last */
    DS_ACTION_ID_NEGATIVE,      /* a schedule id below 0 */
    DS_ACTION_ID_TWICE,         /* a schedule id used before */
    DS_ACTION_NAME,             /* a name or id: see the name fault */
    DS_ACTION_VALUE             /* a value: tags not an object of strings,
                                   a version too long, a lock set empty */
} ds_action_error_e;

typedef enum {
    DS_FIELD_ID = 0,            /* schedule id */
    DS_FIELD_NAME,              /* activity, orchestrator, event, operation */
    DS_FIELD_INSTANCE_ID,       /* sub-orchestration id, event target */
    DS_FIELD_ENTITY_NAME,
    DS_FIELD_ENTITY_KEY,
    DS_FIELD_ENTITY,            /* name and key together */
    DS_FIELD_VALUE,             /* tags, version, lock set */
    DS_FIELD_REQUEST_ID         /* request or critical section id */
} ds_action_field_e;

typedef struct {
    ds_action_error_e   error;
    ds_action_field_e   field;
    size_t              index;
    size_t              other;
    unsigned            defaulted:1;
    ds_name_fault_t     name;
} ds_action_fault_t;


/*
 * Entities as the Durable Task SDKs use them (ds_entity.c). An
 * orchestration calls an entity (DS_ACT_CALL_ENTITY, name the operation):
 * the call waits in the entity's queue like a signal, and when a
 * completion runs it, the caller's inbox gets EntityOperationCompleted
 * {RequestId, Output} or EntityOperationFailed {RequestId, Reason,
 * Details} from the result of the same position (ds_entity_result_t; no
 * result given: completed, output null). A critical section: the
 * orchestration sends DS_ACT_LOCK_ENTITIES with its lock set (the SDKs
 * sort it); the request goes to the first entity, and each entity, when
 * the request reaches the front of its queue, is locked by the
 * orchestration and passes the request on to the next one; the last
 * tells the orchestration EntityLockGranted {CriticalSectionId}; a grant
 * no execution would take (the instance gone or ended, continued as new
 * since it asked, purged and started again, or ending with the grant not
 * yet seen) unlocks the set at once instead (dsi_entity_release()). A
 * lock an execution took and still holds when it is terminated stays
 * until a clean that releases orphaned locks, a purge of the instance, a
 * start that replaces its record, or continue-as-new
 * (dsi_entity_history_drop()): a lock names its holder by id alone,
 * which a later life or execution takes. A locked
 * entity runs only the operations its holder sends, in order; the others
 * wait. DS_ACT_UNLOCK_ENTITY (once per locked entity) unlocks it after
 * the holder's operations sent before. Lock and unlock requests never
 * reach a worker. History events of these actions: EntityOperationCalled
 * {EventId, RequestId, Operation, Input, TargetInstanceId},
 * EntityOperationSignaled (the same, for a signal with a request_id),
 * EntityLockRequested {EventId, CriticalSectionId, LockSet, Position 0},
 * EntityUnlockSent {EventId, CriticalSectionId, TargetInstanceId}. An
 * entity operation as ds_entity_read_ops() hands it out:
 * {"operation","input","timestamp"}, and for a call also "requestId",
 * "parentInstanceId", "parentExecution" and "parentCreated" (the
 * caller's life, whom the answer goes to alone).
 */

#define DS_LOCK_SET_MAX     64

typedef struct {
    int                 failed;
    ds_str_t            output;         /* JSON, len 0: null */
    ds_str_t            reason;         /* failed: JSON */
    ds_str_t            details;        /* failed: JSON */
} ds_entity_result_t;


/*
 * Orchestration claims fire the hub's due timers first (a bounded
 * number). Completion actions: ds_action_t; a finishing action (complete,
 * fail, continueAsNew) only last; names are needed for activities,
 * sub-orchestrations and events, ids >= 0 and unique among activities,
 * timers and sub-orchestrations of one completion; names, instance ids
 * and entities follow the rules of ds_names.c. A sub-orchestration
 * without instance_id is "<id>:<action id>"; one whose id is active is
 * refused with a SubOrchestrationInstanceFailed message to the parent.
 * Events to missing or terminal instances are dropped, as the reference
 * does, and so are terminations of them (DS_ACT_TERMINATE, as
 * ds_op_terminate() or with recurse ds_op_terminate_tree(); not of the
 * completing instance itself, and recorded in no history event). A
 * recursive termination of an ancestor whose walk reaches the completing
 * instance ends it too, and the completion stops there: the actions
 * after it are not applied (children the actions before it started end
 * with it), the record keeps what the termination wrote but for the
 * custom status, the fence's fields (done lease, digest, status) and the
 * inbox counter, and the answer is DS_OK with the status DS_TERMINATED
 * and changed set.
 * entity_name is lower-cased by the store.
 */

int ds_work_claim(ds_txn_t *txn, ds_str_t hub, ds_work_kind_e kind,
    int64_t now, int64_t lease_us, size_t max, const uint8_t *tokens,
    ds_claim_filter_t *filter, ds_work_item_cb cb, void *data,
    size_t *claimed);

int ds_work_complete_orchestration(ds_txn_t *txn, ds_str_t hub,
    ds_str_t id, const uint8_t *lease, const ds_action_t *actions,
    size_t nactions, int64_t now, ds_status_e *status);
/*
 * The checks ds_work_complete_orchestration makes of its actions, for a
 * front end to answer a malformed completion before it is queued:
 * DS_INVALID with the fault, DS_ERROR when out of memory.
 */
int ds_work_actions_check(ds_str_t id, const ds_action_t *actions,
    size_t nactions, ds_action_fault_t *fault);
/*
 * Only the rules between actions (a finishing action last, schedule ids
 * unique), for actions each checked by ds_work_actions_check() already.
 */
int ds_work_actions_order_check(const ds_action_t *actions, size_t nactions,
    ds_action_fault_t *fault);

int ds_work_complete_activity(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    int64_t task_id, const uint8_t *lease, int failed, ds_str_t result,
    ds_str_t reason, ds_str_t details, int64_t now);

int ds_work_complete_entity(ds_txn_t *txn, ds_str_t hub, ds_str_t name,
    ds_str_t key, const uint8_t *lease, int delete_state, ds_str_t state,
    int64_t now);
/*
 * The same with the results of the operations, in their order, and what
 * they do: actions of type DS_ACT_SIGNAL_ENTITY (entity_name, entity_key,
 * name the operation, input) and DS_ACT_START_SUB (instance_id, name,
 * input, version, tags: an orchestration without parent; an active one
 * of that id is left as it is). DS_INVALID for other actions or bad
 * names, before anything is written.
 */
int ds_work_complete_entity_results(ds_txn_t *txn, ds_str_t hub,
    ds_str_t name, ds_str_t key, const uint8_t *lease, int delete_state,
    ds_str_t state, const ds_entity_result_t *results, size_t nresults,
    const ds_action_t *actions, size_t nactions, int64_t now);
/*
 * A batch that failed as a whole (the worker's own error, not an
 * operation's): its operations are taken from the queue and each fails
 * with reason and details (JSON), so the calls among them are answered
 * EntityOperationFailed; the state stays as it was. Fenced and retried
 * as a completion.
 */
int ds_work_fail_entity(ds_txn_t *txn, ds_str_t hub, ds_str_t name,
    ds_str_t key, const uint8_t *lease, ds_str_t reason, ds_str_t details,
    int64_t now);

/*
 * id: instance id or entity name; key: entity key; task_id: activity.
 * Renew sets the expiry to now + lease_us; abandon clears the lease and
 * makes the item claimable at once.
 */
int ds_work_renew(ds_txn_t *txn, ds_str_t hub, ds_work_kind_e kind,
    ds_str_t id, ds_str_t key, int64_t task_id, const uint8_t *lease,
    int64_t now, int64_t lease_us, int64_t *expires);
int ds_work_abandon(ds_txn_t *txn, ds_str_t hub, ds_work_kind_e kind,
    ds_str_t id, ds_str_t key, int64_t task_id, const uint8_t *lease,
    int64_t now);

int ds_work_fire_timers(ds_txn_t *txn, ds_str_t hub, int64_t now,
    size_t max, size_t *fired);
/* the earliest time work of this kind becomes visible: INT64_MAX if none */
int ds_work_next_visible(ds_txn_t *txn, ds_str_t hub, ds_work_kind_e kind,
    int64_t *when);
/*
 * The same, counting only ready entries after "after" (a filtered claim
 * that examined every visible entry asks this with after = now); due
 * timers still count.
 */
int ds_work_next_after(ds_txn_t *txn, ds_str_t hub, ds_work_kind_e kind,
    int64_t after, int64_t *when);


/*
 * Durable entities: state, signals and listing (docs/http-api.md). The
 * entity id is "@name@key": the name is lower-cased by the store, must not
 * be empty nor contain '@'; the key is case-sensitive and may be empty;
 * the whole at most DS_ID_MAX bytes (DS_INVALID otherwise). A signal
 * creates the entity (without state) and queues the operation. Get answers
 * DS_NOTFOUND when there is no state (never set, or deleted); its name and
 * key are the arguments. List: entities with state in id order, all
 * (name.len 0) or of one name, last_op in [from, to] (0: open), top per
 * page, scan_budget records examined at most (0: no bound), an opaque
 * base64url token (DS_TOKEN_MAX) like instance lists; name and key passed
 * to the callback point into the map.
 */

typedef struct {
    ds_str_t            name;
    ds_str_t            key;
    ds_str_t            state;          /* JSON text, len 0 = no state */
    int64_t             last_op;        /* µs */
    ds_str_t            locked_by;      /* the lock holder; len 0: none */
} ds_entity_t;

typedef int (*ds_entity_cb)(void *data, const ds_entity_t *entity);

int ds_entity_signal(ds_txn_t *txn, ds_str_t hub, ds_str_t name,
    ds_str_t key, ds_str_t operation, ds_str_t input, int64_t now);
/*
 * A signal queued at (µs; <= now: at once). A later one is held by a
 * timer until then; signals queued meanwhile do not wait for it.
 */
int ds_entity_signal_at(ds_txn_t *txn, ds_str_t hub, ds_str_t name,
    ds_str_t key, ds_str_t operation, ds_str_t input, int64_t at,
    int64_t now);
int ds_entity_get(ds_txn_t *txn, ds_str_t hub, ds_str_t name, ds_str_t key,
    ds_entity_t *entity);
/*
 * CleanEntityStorage over at most max entity records after the token (an
 * entity list token, DS_TOKEN_MAX): with release_orphaned, a lock whose
 * holder is gone or terminal is released; with remove_empty, an entity
 * without state, queue, lock or live lease is removed. *token_len is 0
 * when no entity is left to examine.
 */
int ds_entity_clean(ds_txn_t *txn, ds_str_t hub, ds_str_t token_in,
    size_t max, int remove_empty, int release_orphaned, int64_t now,
    size_t *removed, size_t *released, char *token, size_t *token_len);
/* the runnable queued operations with seq <= upto (ds_work_item_t.upto) */
int ds_entity_read_ops(ds_txn_t *txn, ds_str_t hub, ds_str_t name,
    ds_str_t key, uint64_t upto, ds_event_cb cb, void *data);
int ds_entity_list(ds_txn_t *txn, ds_str_t hub, ds_str_t name,
    int64_t from, int64_t to, size_t top, size_t scan_budget,
    ds_str_t token_in, ds_entity_cb cb, void *data, char *token,
    size_t *token_len);

/* the same as ds_list_token(), after the entity of name and key */
size_t ds_list_entity_token(ds_str_t name, ds_str_t key, char *token);


/*
 * Counts for monitoring (ds_counts.c). ds_counts_each() calls cb with
 * every non-zero count of every hub: instances per status and ready-index
 * entries per work kind (the queue depths; an entry may be waiting for a
 * lease to expire or a retry time). They are kept in the txns that change
 * the indexes, so reading them costs one record each, not a scan. A
 * store made before the counts existed gets them built once when it is
 * first opened. ds_ready_oldest(): the visible time of a hub's first
 * ready entry of the kind (DS_NOTFOUND: none). ds_timers_total(): timers
 * waiting in the whole store. ds_env_readers(): reader slots in use.
 */

typedef enum {
    DS_COUNT_STATUS = 0,
    DS_COUNT_READY
} ds_count_what_e;

typedef struct {
    ds_count_what_e     what;
    ds_status_e         status;         /* DS_COUNT_STATUS */
    ds_work_kind_e      kind;           /* DS_COUNT_READY */
    uint64_t            count;
} ds_count_t;

typedef int (*ds_count_cb)(void *data, ds_str_t hub, const ds_count_t *c);

int ds_counts_each(ds_txn_t *txn, ds_count_cb cb, void *data);
int ds_ready_oldest(ds_txn_t *txn, ds_str_t hub, ds_work_kind_e kind,
    int64_t *at);
int ds_timers_total(ds_txn_t *txn, uint64_t *n);
int ds_env_readers(ds_env_t *env, unsigned *used, unsigned *max);


/*
 * Operations as data (ds_op.c). A front end fills a ds_op_t, hands it to
 * the writer of its store, and reads the result from it once the write is
 * durable; it never runs store code inside a transaction itself. The
 * writer calls ds_op_apply() in its write txn, batching many operations
 * in one txn: a refused operation (any rc but DS_FULL and DS_ERROR)
 * wrote nothing; after DS_FULL or DS_ERROR the txn is aborted and the
 * operation may be applied again in a fresh or nested txn, so apply only
 * ever sets outputs, never adds to them.
 *
 * Memory: the inputs (ds_str_t, arrays, tokens) belong to the caller and
 * must stay valid until the operation is answered; outputs are values,
 * except what a claim's item callback sees, valid during the call.
 * now: the operation's clock, µs; 0 takes ds_time_now() at apply.
 *
 * The contract of each type; every one may also answer DS_FULL (the map
 * is full; nothing written) and DS_ERROR (I/O; nothing written):
 *
 * DS_OP_START        in.start: id, name, input (JSON, len 0 = null),
 *                    and opts (ds_start_opts_t: version, tags, scheduled
 *                    start, replace; zero: none). Creates the instance,
 *                    Pending, with an ExecutionStarted message, ready at
 *                    the scheduled start. An existing instance: with
 *                    replace 0 a terminal one is replaced and an active
 *                    one is DS_CONFLICT; otherwise (gRPC's id reuse
 *                    policy) one whose status is in replace is replaced,
 *                    an active one terminated first (ExecutionTerminated,
 *                    its parent told, as the Scheduler does), and any
 *                    other is DS_CONFLICT. On DS_CONFLICT out.start.status
 *                    is its status. DS_INVALID: bad tags or version. Not
 *                    idempotent: a retry after success is a conflict (or,
 *                    with replace, a second replacement).
 *                    With stamp set, id is one the caller made up
 *                    (DS_ID_STAMP_LEN hex digits, the last 17 random):
 *                    a backend may replace its first 15 with the time
 *                    of the write (12 of the ms since 1970, 3 of the µs
 *                    in that ms), under its write lock, so that made
 *                    ids reach its indexes in increasing order; it then
 *                    sets out.start.stamped and out.start.id is the id.
 * DS_OP_RESTART      in.start: id (the new one), from (the instance to
 *                    restart). Starts id with from's name and input; as
 *                    DS_OP_START (stamp too), plus DS_NOTFOUND when from
 *                    does not exist.
 * DS_OP_RAISE_EVENT  in.control: id, name (event), data (JSON). Queues the
 *                    event. DS_NOTFOUND, DS_GONE (terminal), DS_INVALID
 *                    (a bad name). Each retry queues the event again.
 * DS_OP_TERMINATE,   in.control: id, data (the reason, JSON), recurse
 * DS_OP_SUSPEND,     (terminate: ds_op_terminate_tree()). DS_NOTFOUND,
 * DS_OP_RESUME       DS_GONE (terminal: a retried terminate gets it);
 *                    suspending a suspended instance or resuming one
 *                    that is not suspended is DS_OK and changes nothing,
 *                    so those retries are safe. out.control.changed: 1
 *                    when the status changed, 0 for such a retry.
 * DS_OP_REWIND       in.control: id, data (reason). Rewinds a Failed
 *                    instance (out.control.changed 1). DS_NOTFOUND;
 *                    DS_PRECONDITION when it is not Failed, with
 *                    out.control.status its status.
 * DS_OP_PURGE        in.control: id, recurse (ds_op_purge_tree()).
 *                    Deletes a terminal instance and all that is kept of
 *                    it; out.control.purged: how many instances.
 *                    DS_NOTFOUND (also on a retry); DS_PRECONDITION when
 *                    active, out.control.status.
 * DS_OP_PURGE_BATCH  in.purge: query (created range, status mask), max,
 *                    max_us. Deletes at most max terminal instances that
 *                    match, and stops once it has run for max_us (0: no
 *                    bound; negative: at once) after one at least (on
 *                    PostgreSQL also by a share of statement_timeout);
 *                    out.purge.deleted, out.purge.more (matches may be
 *                    left). Repeat until more is 0.
 * DS_OP_ENTITY_SIGNAL in.entity: name, key, operation, input (JSON), at
 *                    (µs; 0: at once). Queues an operation, creating the
 *                    entity; a later at holds it until then.
 *                    DS_INVALID: a bad entity id. Each retry queues again.
 * DS_OP_ENTITY_CLEAN in.entity_clean: token_in, max, remove_empty,
 *                    release_orphaned, token (DS_TOKEN_MAX bytes, the
 *                    caller's): one batch of ds_entity_clean().
 *                    out.entity_clean: removed, released, token_len (0:
 *                    done). DS_INVALID: a bad token. A retry examines the
 *                    same entities again and finds less to do.
 * DS_OP_WORK_CLAIM   in.claim: kind, lease_us, max, tokens (max *
 *                    DS_LEASE_LEN random bytes), filter (names=; may be
 *                    NULL), begin, item and item_data. Leases up to max
 *                    visible items, calling item once for each while the
 *                    txn holds it (in the writer's thread); begin runs
 *                    first in every apply, so that a claim applied again
 *                    renders its items from the start. out.claim.claimed;
 *                    out.claim.visible: the earliest time more work may
 *                    become visible (INT64_MAX: none known). An item
 *                    callback that fails (non-zero) fails the claim
 *                    (DS_ERROR, nothing claimed).
 * DS_OP_WORK_COMPLETE in.work: kind, key (id, key, task), lease, and the
 *                    kind's result: actions (orchestration), failed,
 *                    result, reason, details (activity), delete_state,
 *                    result as the state, the operations' results
 *                    (results, nresults) and what they sent (actions,
 *                    nactions: signals, starts, each at its fire_at
 *                    when later) (entity), or with
 *                    failed, reason and details: the whole batch failed
 *                    (ds_work_fail_entity()). An orchestration with
 *                    partial set took only the first processed of the
 *                    messages delivered (gRPC's numEventsProcessed):
 *                    only those go to the history, the others stay in
 *                    its inbox for the next episode (ignored when the
 *                    completion finishes the execution). Fenced by the
 *                    lease:
 *                    DS_NOTFOUND (no item), DS_CONFLICT (not the current
 *                    lease), DS_GONE (terminal), DS_INVALID (actions);
 *                    an identical retry under the same lease gets the
 *                    first answer, a different one DS_MISMATCH.
 *                    out.work.status: an orchestration's status after;
 *                    out.work.changed: 1 when this completion changed it
 *                    (Pending to Running, a finish, a termination of an
 *                    ancestor's tree that ended it: DS_TERMINATED) or
 *                    began a new execution, 0 for a retry or an episode
 *                    that left it as it was.
 * DS_OP_WORK_RENEW   in.work: kind, key, lease, lease_us. Extends the
 *                    lease to now + lease_us (out.work.expires).
 *                    DS_NOTFOUND, DS_CONFLICT. Idempotent.
 * DS_OP_WORK_ABANDON in.work: kind, key, lease. Releases the item for the
 *                    next claim. DS_NOTFOUND, DS_CONFLICT (also a retry).
 *
 * Reads, through ds_op_read() only; they change nothing, so any retry is
 * safe:
 *
 * DS_OP_STATUS       in.control: id, history. out.status.inst: the
 *                    instance, its strings pointing into the store, valid
 *                    during done(); ds_op_history() reads its history
 *                    there, and only when history is 1: a backend may
 *                    leave out what no one reads (PostgreSQL does), so
 *                    without it ds_op_history() fails (DS_INVALID) rather
 *                    than answer an empty history. DS_NOTFOUND.
 * DS_OP_ENTITY_GET   in.entity: name, key. out.entity.entity: its state,
 *                    valid during done(). DS_NOTFOUND: no state.
 * DS_OP_LIST         in.list: query (ds_instance_list's), item and
 *                    item_data, token (DS_TOKEN_MAX bytes, the caller's).
 *                    item is called for each instance of the page, before
 *                    done(); out.list.token_len: the continuation token's
 *                    length in token, 0 on the last page. DS_INVALID: a
 *                    bad token.
 * DS_OP_ENTITY_LIST  in.entity_list: name (len 0: all), from, to, top,
 *                    scan_budget, token_in, item and item_data, token:
 *                    as DS_OP_LIST, over entities with state.
 * DS_OP_HISTORY      in.history: id, from, max_events, max_bytes, item
 *                    and item_data: one chunk of the instance's history
 *                    as ds_history_chunk() reads it, item called for each
 *                    event before done(). out.history: next (0: the end),
 *                    execution and status of the instance, so that a
 *                    reader of several chunks sees a new execution begin.
 *                    DS_NOTFOUND.
 * DS_OP_STATS        no inputs (hub unused): during done(), the store's
 *                    figures for monitoring through ds_op_counts_each(),
 *                    ds_op_ready_oldest(), ds_op_timers_total() and
 *                    ds_op_space(), all read in one snapshot.
 */

typedef enum {
    DS_OP_START = 0,
    DS_OP_RESTART,
    DS_OP_RAISE_EVENT,
    DS_OP_TERMINATE,
    DS_OP_SUSPEND,
    DS_OP_RESUME,
    DS_OP_REWIND,
    DS_OP_PURGE,
    DS_OP_PURGE_BATCH,
    DS_OP_ENTITY_SIGNAL,
    DS_OP_WORK_CLAIM,
    DS_OP_WORK_COMPLETE,
    DS_OP_WORK_RENEW,
    DS_OP_WORK_ABANDON,
    DS_OP_STATUS,
    DS_OP_ENTITY_GET,
    DS_OP_LIST,
    DS_OP_ENTITY_LIST,
    DS_OP_STATS,
    DS_OP_HISTORY,
    DS_OP_ENTITY_CLEAN,
    DS_OP_COUNT
} ds_op_type_e;

typedef struct ds_op_s  ds_op_t;
typedef struct ds_store_s  ds_store_t;

typedef void (*ds_op_done_pt)(ds_op_t *op);

/*
 * A claimed item, once per item in the writer's context (a thread, for
 * a writer in a thread pool): render it into memory of the op's owner, not
 * of an event loop's; ds_op_item_events() reads the events it carries.
 * Under LMDB a batch's orchestrations and activities are rendered after
 * the batch has committed, in a read txn, the write lock free: an item
 * ended or changed meanwhile (terminated, purged, suspended: the last
 * given back) is not handed over, and out.claim.claimed counts those
 * that were. Non-zero stops the claim; after the commit it fails the
 * op, and its items' leases are given up at once.
 */
typedef int (*ds_op_item_pt)(void *data, ds_op_t *op,
    const ds_work_item_t *item);

typedef enum {
    DS_LIST_HISTORY = 0,        /* an orchestration's history */
    DS_LIST_MESSAGES,           /* its messages, seq <= item->upto */
    DS_LIST_OPERATIONS          /* an entity's operations, <= item->upto */
} ds_list_e;

struct ds_op_s {
    ds_op_type_e        type;
    ds_str_t            hub;
    int64_t             now;            /* µs; 0: the time of apply */
    int                 rc;             /* out: ds_rc_e */
    void               *data;           /* the front end's */
    ds_op_done_pt       done;           /* reads: the answer */
    ds_op_t            *next;           /* ds_op_batch(): the next op */
    void               *backend;        /* the backend's, during done() */
    ds_store_t         *store;          /* set by ds_store_submit(); NULL
                                           for ds_op_read()/ds_op_batch()
                                           without a store (LMDB) */

    union {
        struct {
            ds_str_t            id;
            ds_str_t            name;
            ds_str_t            input;
            ds_str_t            from;   /* restart */
            ds_start_opts_t     opts;   /* start */
            int                 stamp;  /* id made by the caller */
        } start;

        struct {
            ds_str_t            id;
            ds_str_t            name;   /* event name */
            ds_str_t            data;   /* event data, or the reason */
            int                 recurse;    /* terminate, purge */
            int                 history;    /* status: done() reads it */
        } control;

        struct {
            const ds_query_t   *query;
            size_t              max;
            int64_t             max_us;     /* 0: max bounds alone; < 0:
                                               one instance a batch */
        } purge;

        struct {
            ds_str_t            name;
            ds_str_t            key;
            ds_str_t            operation;
            ds_str_t            input;
            int64_t             at;         /* signal: µs, 0: at once */
        } entity;

        struct {
            ds_work_kind_e      kind;
            int64_t             lease_us;
            size_t              max;
            const uint8_t      *tokens;
            ds_claim_filter_t  *filter;
            void              (*begin)(void *item_data);   /* or NULL */
            ds_op_item_pt       item;
            void               *item_data;
        } claim;

        struct {
            ds_work_kind_e      kind;
            ds_str_t            id;     /* instance id, or entity name */
            ds_str_t            key;    /* entity key */
            int64_t             task;   /* activity */
            const uint8_t      *lease;
            int64_t             lease_us;       /* renew */
            const ds_action_t  *actions;
            size_t              nactions;
            int                 failed;
            int                 delete_state;
            ds_str_t            result; /* activity result, entity state */
            ds_str_t            reason;
            ds_str_t            details;
            const ds_entity_result_t  *results;     /* entity */
            size_t              nresults;
            int                 partial;        /* orchestration: */
            size_t              processed;      /* messages taken */
        } work;

        struct {
            const ds_query_t   *query;
            ds_instance_cb      item;
            void               *item_data;
            char               *token;  /* DS_TOKEN_MAX bytes */
        } list;

        struct {
            ds_str_t            name;
            int64_t             from;
            int64_t             to;
            size_t              top;
            size_t              scan_budget;
            ds_str_t            token_in;
            ds_entity_cb        item;
            void               *item_data;
            char               *token;  /* DS_TOKEN_MAX bytes */
        } entity_list;

        struct {
            ds_str_t            id;
            uint64_t            from;
            size_t              max_events;
            size_t              max_bytes;
            ds_event_cb         item;
            void               *item_data;
        } history;

        struct {
            ds_str_t            token_in;
            size_t              max;
            int                 remove_empty;
            int                 release_orphaned;
            char               *token;  /* DS_TOKEN_MAX bytes */
        } entity_clean;
    } in;

    union {
        struct {
            ds_status_e         status;
            int                 stamped;
            char                id[DS_ID_STAMP_LEN];
        } start;

        struct {
            ds_status_e         status;
            int                 changed;
            size_t              purged; /* purge: instances deleted */
        } control;

        struct {
            size_t              deleted;
            int                 more;
        } purge;

        struct {
            size_t              claimed;
            int64_t             visible;
        } claim;

        struct {
            ds_status_e         status;
            int                 changed;
            int64_t             expires;
        } work;

        struct {
            const ds_instance_t  *inst;
        } status;

        struct {
            const ds_entity_t    *entity;
        } entity;

        struct {
            size_t              token_len;
        } list;

        struct {
            uint64_t            next;
            uint64_t            execution;
            ds_status_e         status;
        } history;

        struct {
            size_t              removed;
            size_t              released;
            size_t              token_len;
        } entity_clean;
    } out;
};

/* applies op in txn (see above); returns op->rc */
int ds_op_apply(ds_txn_t *txn, ds_op_t *op);
/*
 * The group commit of a writer: applies the ops chained by next, in
 * order, in one write txn, and commits it once. Each op gets its own
 * answer in op->rc: a refusal leaves the txn as it was and the batch goes
 * on; an op that fails after writing is rolled back alone (the batch
 * runs again, each op in a nested txn, unless nothing was applied before
 * it); a failed commit fails every op that had been applied. Returns 1
 * when the batch ran again in nested txns, 0 otherwise.
 */
int ds_op_batch(ds_env_t *env, ds_op_t *ops);
/*
 * Answers a read at once: op->done(op) runs before this returns, with
 * op->rc set, also when the read failed, and while the store holds what
 * the answer points to (render it there, without copies). Returns op->rc.
 */
int ds_op_read(ds_env_t *env, ds_op_t *op);
/*
 * during a DS_OP_STATUS done() whose in.control.history is 1: the
 * instance's history events, in order; DS_INVALID otherwise
 */
int ds_op_history(ds_op_t *op, ds_event_cb cb, void *data);
/* during a claim's item callback: the stored events of the item */
int ds_op_item_events(ds_op_t *op, const ds_work_item_t *item,
    ds_list_e list, ds_event_cb cb, void *data);
/* during done(): what went wrong, for the log, when rc is DS_ERROR */
const char *ds_op_error(const ds_op_t *op);
/* during a DS_OP_STATS done(): as ds_counts_each() and the others above */
int ds_op_counts_each(ds_op_t *op, ds_count_cb cb, void *data);
int ds_op_ready_oldest(ds_op_t *op, ds_str_t hub, ds_work_kind_e kind,
    int64_t *at);
int ds_op_timers_total(ds_op_t *op, uint64_t *n);
int ds_op_space(ds_op_t *op, ds_space_t *sp);
/*
 * during a read's done(): the snapshot it read; DS_INVALID when the
 * backend cannot tell (PostgreSQL): compare what was read instead
 */
int ds_op_snapshot(ds_op_t *op, ds_snapshot_t *snap);
/* "starting", "purging", ...: what an error message says was failing */
const char *ds_op_what(ds_op_type_e type);
/* whether a successful op may give workers or waiters something new */
int ds_op_wakes(ds_op_type_e type);


/*
 * Stores (ds_store.c): the asynchronous boundary. A front end opens one
 * ds_store_t per store in each process that serves it and hands it ops,
 * one at a time, with ds_store_submit(); it never learns which backend
 * keeps the data. The store drives its own work through the callbacks of
 * its host (ds_host_t): the program around it, nginx's glue or a test.
 *
 * Threads: the ds_store_* functions, op->done() and every host callback
 * but lock_wait() are called in the host's loop, one thread; only a
 * task's work() runs elsewhere (a pool thread), or in the loop when the
 * host has no threads, and lock_wait() with it.
 *
 * The LMDB backend (ds_store_lmdb.c) answers a read before submit
 * returns, while its read txn holds what out points to; it queues a write
 * and applies the writes queued together as one batch (ds_op_batch(): one
 * txn, one commit, each op answered on its own), in a task (writes=
 * thread) or in the loop (writes=loop) behind the host's commit gate, and
 * answers the writes of a batch after its commit in the order they were
 * submitted. When the host cannot run the task (a full queue), the batch
 * is applied in the loop during the submit that starts it, so a write
 * too may be answered before submit returns. Reads are not ordered with
 * writes: a read submitted after a write may see the store without it
 * and be answered first. A network backend answers reads later, too, in
 * any order. A front end must therefore treat every op alike: done() may
 * run before submit returns or later, and in any order with its other
 * ops. An op is the store's from its submit until its done() runs, even
 * a submit made inside another op's done(): the next batch's task may
 * already run then and apply it at once. done() and the host's callbacks
 * run inside the store's code, which goes on using the store after they
 * return: none of them may close it (a host that wants to close it once
 * the last op is answered, as pending(0) tells, does so from an event of
 * its own).
 */

typedef struct ds_event_s  ds_event_t;

typedef void (*ds_event_pt)(ds_event_t *ev);

/*
 * What the store asks the host to run later: a posted call, a timer, or a
 * task (work off the loop, then handler in the loop). The store owns the
 * memory and fills handler, work and data; "host" is the host's, filled
 * by its init() once, before the event's first use.
 */
struct ds_event_s {
    ds_event_pt         handler;        /* in the loop */
    ds_event_pt         work;           /* a task's, off the loop */
    void               *data;           /* the store's */
    void               *host;           /* the host's */
};

typedef enum {
    DS_LOG_ALERT = 1,
    DS_LOG_ERR,
    DS_LOG_NOTICE,
    DS_LOG_INFO,
    DS_LOG_DEBUG
} ds_log_e;

/*
 * The host's callbacks; "host" is ds_host_t.data. The store copies the
 * struct at open. Each may be NULL where the text says so.
 *
 * init      prepares ev for run, post and timer (allocates what the host
 *           needs for it); 0, or -1 when out of memory.
 * run       runs ev->work off the loop, then ev->handler in the loop;
 *           -1 when it cannot (no threads, a full queue): the store then
 *           does the work in the loop itself. NULL: no threads.
 * post      ev->handler in the loop, after the events of this iteration
 *           (next 0) or of the next one (next 1; the loop polls without
 *           waiting first). Posting a posted event does nothing.
 * timer     ev->handler once, after ms milliseconds (ms >= 0), replacing
 *           an armed one; a timer must not keep an exiting process alive
 *           (pending() does that).
 * cancel    forgets a post or a timer of ev.
 * gate_try  the commit gate across processes, taken before the loop
 *           commits: 1 taken, 0 another process holds it (the store
 *           tries again an iteration later), -1 no gate (go on).
 *           NULL: no gate.
 * gate_release  gives the gate back after gate_try() answered 1.
 * wake      after a batch with an op that may give waiters or workers
 *           something new (ds_op_wakes()); once per batch. May be NULL.
 * pending   any 1: the store took an op to answer later while it had
 *           none; any 0: it answered the last of them. The host keeps an
 *           exiting process alive in between. May be NULL.
 * applied   a batch applied n ops and committed, in us µs, of which it
 *           waited waited µs for the store's write lock (LMDB; 0 for a
 *           backend without one); for metrics. May be NULL.
 * log       one line for the host's log, at level; called only for
 *           levels up to log_level. May be NULL.
 * watch     for a network backend: ev->handler when fd is readable
 *           (DS_WATCH_READ) or writable (DS_WATCH_WRITE), at least once
 *           after each change of readiness (edge-triggered is enough; a
 *           call when nothing changed is harmless); a later call with
 *           another what replaces it. 0 stops watching fd, which is still
 *           open; DS_WATCH_CLOSED forgets fd, which the backend's library
 *           closed already (the host must not touch it). One fd per ev.
 *           0, or -1 when the host cannot. NULL: the host cannot, and a
 *           backend that needs it refuses to open. LMDB does not use it.
 * lock_wait  on 1: this process's task of the store begins to wait for
 *           the store's write lock; on 0: it holds the lock, or gave up.
 *           Called where the batch is applied (the task's thread, or the
 *           loop when no thread takes it), never twice with the same on.
 *           A batch begun again after a failed write (ds_op_batch())
 *           waits for the lock again without telling: a rare path.
 * lock_waiters  non-zero when a task of any process (this one's too)
 *           waits for the write lock, as lock_wait() told. Called in the
 *           loop. A batch just committed hands the next one to its task
 *           before the answers only when no task waits: the lock is not
 *           fair, and a task asking again at once could pass the others.
 *           Both NULL: a host of one process, where nothing else waits
 *           (the next batch is always handed over early).
 */

#define DS_WATCH_READ   1
#define DS_WATCH_WRITE  2
#define DS_WATCH_CLOSED 4

typedef struct {
    void               *data;
    int               (*init)(void *host, ds_event_t *ev);
    int               (*run)(void *host, ds_event_t *ev);
    void              (*post)(void *host, ds_event_t *ev, int next);
    void              (*timer)(void *host, ds_event_t *ev, int64_t ms);
    void              (*cancel)(void *host, ds_event_t *ev);
    int               (*gate_try)(void *host);
    void              (*gate_release)(void *host);
    void              (*wake)(void *host);
    void              (*pending)(void *host, int any);
    void              (*applied)(void *host, size_t n, int64_t us,
                            int64_t waited);
    void              (*log)(void *host, ds_log_e level, const char *msg);
    ds_log_e            log_level;
    int               (*watch)(void *host, ds_event_t *ev, int fd,
                            unsigned what);
    void              (*lock_wait)(void *host, int on);
    int               (*lock_waiters)(void *host);
} ds_host_t;

typedef enum {
    DS_BACKEND_LMDB = 0,
    DS_BACKEND_POSTGRES         /* built with DS_HAVE_PG only */
} ds_backend_e;

typedef enum {
    DS_WRITES_THREAD = 0,       /* batches in a task (host->run) */
    DS_WRITES_LOOP              /* batches in the loop, behind the gate */
} ds_writes_e;

typedef struct {
    const char         *name;           /* for log lines */
    ds_backend_e        backend;
    ds_env_conf_t       env;            /* LMDB: the directory and more */
    ds_writes_e         writes;
    int64_t             flush_ms;       /* sync=off: fsync so often, in a
                                           task; 0: never */
    int                 reads_later;    /* answer reads after the loop's
                                           events, and a batch's writes
                                           last first, as a network
                                           backend may: tests of front
                                           ends */
    const char         *conninfo;       /* PostgreSQL: libpq's, naming
                                           no host libpq must look up */
    unsigned            pool;           /* PostgreSQL: connections, 0: 2 */
    int64_t             timeout_ms;     /* PostgreSQL: the bound of a
                                           connect and of an op's wait,
                                           0: 5000 */
    int64_t             reader_check_ms; /* LMDB: clear the reader slots
                                           of dead processes so often;
                                           0: only at open */
} ds_store_conf_t;

/* more ops follow at once: do not start a batch before the last one */
#define DS_SUBMIT_MORE  1

/*
 * ds_store_open(): *st for conf, driven through host. DS_OK, or DS_ERROR
 * (DS_INVALID: a bad conf) with a message in err.
 *
 * ds_store_submit(): takes op, whose inputs and memory stay the caller's
 * until done(); op->done must be set. op->done(op) is called exactly
 * once, in the loop, with op->rc and out set: before submit returns (an
 * LMDB read, an op refused at once, a batch the host had no thread for)
 * or later (a write once its batch is durable; a network backend's
 * read). A read's out points into the store only during done(). Writes
 * submitted with DS_SUBMIT_MORE wait for the next submit without it, of
 * any type, so that they share a batch. No order of answers is promised
 * across ops (the LMDB backend answers a batch's writes in submit order,
 * and reads at once).
 *
 * ds_store_busy(): ops taken and not answered yet, plus the backend's
 * own work in flight (a flush task): 0 when idle, when the store may be
 * closed and the process may exit. ds_store_batch(): during a write's
 * done(), the number of ops of its batch; 0 otherwise.
 *
 * ds_store_readers(), ds_store_reader_check(): a backend's reader slots
 * (ds_env_readers(), ds_env_reader_check()); DS_INVALID for a backend
 * without them.
 *
 * ds_store_close(): cancels the store's posts and timers and frees it.
 * Ops not answered yet are dropped without done(): close when busy is 0,
 * or when the process ends anyway.
 */
int ds_store_open(ds_store_t **st, const ds_store_conf_t *conf,
    const ds_host_t *host, char *err, size_t errlen);
void ds_store_submit(ds_store_t *st, ds_op_t *op, unsigned flags);
size_t ds_store_busy(const ds_store_t *st);
size_t ds_store_batch(const ds_store_t *st);
int ds_store_readers(ds_store_t *st, unsigned *used, unsigned *max);
int ds_store_reader_check(ds_store_t *st, int *dead);
void ds_store_close(ds_store_t *st);
/*
 * A host's fault injection, for its tests only: from now on every flush
 * of an LMDB store of this process fails with EIO
 */
void ds_store_flushes_fail(void);

/*
 * PostgreSQL (built with DS_HAVE_PG, store/pg/): conninfo with each host
 * name replaced by its addresses (hostaddr), so that connecting never
 * looks a name up; blocks in getaddrinfo(), so call it at configuration
 * time. *out is malloc()ed. DS_OK, or DS_INVALID with err set.
 */
int ds_pg_conninfo_resolve(const char *conninfo, char **out, char *err,
    size_t errlen);

/*
 * PostgreSQL: DS_OK when the worker processes, whose environment is env
 * ("NAME=value" strings, NULL last), would look up no name connecting
 * with conninfo: where conninfo has no host, PGHOST's must be an address
 * or a socket directory (unless PGHOSTADDR gives addresses), and no
 * service is named (service=, servicefile=, PGSERVICE, PGSERVICEFILE).
 * DS_INVALID with err set. A store's open checks its own process's
 * environment the same way.
 */
int ds_pg_conninfo_env_check(const char *conninfo, char *const *env,
    char *err, size_t errlen);


/*
 * Whole hubs, for the operators' tools (ds_hub.c). Every table's keys
 * start with "hub 0"; the record callback and ds_hub_put() take keys
 * without it, so a hub's records can be moved under another name. The
 * tables are named by ds_table_name(): instances, by_created, by_status,
 * history, inbox, ready, activities, timers, timer_ix, entities,
 * entity_ops (the layout of ds_key.h). ds_hub_put() writes one record as
 * it is (DS_CONFLICT when the key exists): an import is meant to end
 * with ds_check_txn() in the same txn. ds_hub_delete() removes at most
 * max records (0: all) and sets *more when some remain. ds_hub_list()
 * names each hub with a record in any table, in byte order. ds_env_copy()
 * writes a consistent copy of the environment into the empty directory
 * dir while other processes go on writing; compact leaves free pages out.
 */

#define DS_TABLE_COUNT      11

typedef int (*ds_record_cb)(void *data, unsigned table, ds_str_t key,
    ds_str_t value);
typedef int (*ds_hub_cb)(void *data, ds_str_t hub);

const char *ds_table_name(unsigned table);
int ds_table_by_name(const char *name, size_t len);
int ds_hub_walk(ds_txn_t *txn, ds_str_t hub, ds_record_cb cb, void *data);
int ds_hub_put(ds_txn_t *txn, ds_str_t hub, unsigned table, ds_str_t key,
    ds_str_t value);
int ds_hub_delete(ds_txn_t *txn, ds_str_t hub, size_t max, size_t *deleted,
    int *more);
int ds_hub_list(ds_txn_t *txn, ds_hub_cb cb, void *data);
int ds_env_copy(ds_env_t *env, const char *dir, int compact, char *err,
    size_t err_len);


#endif /* DURABLE_STORE_H */
