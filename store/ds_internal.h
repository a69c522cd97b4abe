/*
 * Copyright (C) ngx_durable authors
 *
 * Store internals shared by the ds_*.c files; not part of the public API:
 * their functions are named dsi_ (util/check-store-exports.sh checks it).
 */


#ifndef DS_INTERNAL_H
#define DS_INTERNAL_H


#include <lmdb.h>
#include <pthread.h>

#include "durable_store.h"


/* named databases, opened once by ds_env_open */
enum {
    DS_DB_INSTANCES = 0,
    DS_DB_BY_CREATED,
    DS_DB_BY_STATUS,
    DS_DB_HISTORY,
    DS_DB_INBOX,
    DS_DB_READY,
    DS_DB_ACTIVITIES,
    DS_DB_TIMERS,
    DS_DB_TIMER_IX,
    DS_DB_ENTITIES,
    DS_DB_ENTITY_OPS,
    DS_DB_COUNTS,           /* ds_counts.c; the main db, not a table */
    DS_DB_COUNT
};


/* ready index kinds: the byte after "hub 0" */
#define DS_READY_ORCH       'o'
#define DS_READY_ACTIVITY   'a'
#define DS_READY_ENTITY     'e'

/* a claim examines at most max + this many ready entries */
#define DS_CLAIM_SCAN       1000
/* due timers fired by one claim */
#define DS_CLAIM_TIMERS     1000
/* longest chain of sub-orchestrations a rewind follows */
#define DS_REWIND_DEPTH     8
/* levels of sub-orchestrations a recursive terminate or purge follows */
#define DS_TREE_DEPTH       16

#define DS_MAX_DBS          16

/*
 * The default reserve: 1/20 (5%) of the map, and never less than
 * DS_RESERVE_PAGES (durable_store.h): on a small map 5% is less than that.
 */
#define DS_RESERVE_PART     20

#define DS_ERR_LEN          160


struct ds_env_s {
    MDB_env            *env;
    MDB_dbi             dbi[DS_DB_COUNT];
    MDB_dbi             main_dbi;       /* the names of the others */
    char               *path;
    ds_txn_t           *spare;          /* a reset read txn, or NULL */
    int                 reuse_reader;
    size_t              reserve;        /* 0: 1/DS_RESERVE_PART of map */
    size_t              psize;          /* LMDB's page size */

    /*
     * With threads (no_tls), top-level txns, read or write, hold map_lock
     * shared while they live; adopting a map another process grew remaps
     * the file, so it takes the lock exclusively (LMDB itself checks only
     * the write txn once it has begun). map_gen counts the remaps.
     */
    int                 locking;
    int                 flush_meta;     /* sync=on: MDB_NOMETASYNC, and
                                           the commit flushes the meta
                                           page itself (ds_env.c) */
    int                 flush_failed;   /* a flush failed: writes are
                                           refused from then on; atomic;
                                           the word stop points at when
                                           the conf gave none */
    int                *stop;           /* ds_env_conf_t's, shared by the
                                           processes, or &flush_failed */
    int                 give_way;       /* write txns run in a thread of
                                           their own: dsi_txn_give_way() */
    unsigned            map_gen;
    unsigned            write_begins;   /* in mdb_txn_begin(), atomic */
    uint64_t            serial;         /* no other env of the process
                                           had it: ds_op_snapshot() */
    pthread_rwlock_t    map_lock;
};


/*
 * A change of a count not written yet (ds_counts.c): a write txn adds up
 * the changes of each count and writes them when it commits, or before
 * anything reads the counts table through it or a child txn begins.
 */
#define DS_TXN_COUNTS       8

typedef struct {
    unsigned char       key[DS_HUB_MAX + 3];    /* hub 0 class code */
    size_t              len;
    int64_t             delta;
} dsi_count_delta_t;


struct ds_txn_s {
    ds_env_t           *env;
    MDB_txn            *txn;
    int                 write;
    int                 top;        /* no parent: holds env->map_lock */
    int                 own;        /* a read txn never the spare reader */
    uint64_t            writes;     /* puts and deletes attempted */
    uint64_t            db_writes[DS_DB_COUNT];     /* the same by db */
    MDB_cursor         *put[DS_DB_COUNT];   /* of dsi_put, write txns */
    MDB_cursor         *walk[DS_DB_COUNT];  /* of dsi_cursor_walk() */
    unsigned            walking;            /* its dbs walked now */
    size_t              ncounts;
    dsi_count_delta_t   counts[DS_TXN_COUNTS];
    void               *keep;       /* dsi_txn_keep()'s, freed at end */
    int64_t             gave_way;   /* ds_time_mono(), INT64_MAX: never */
    ds_txn_t           *parent;     /* of a child txn */
    /* where a batch's claims note their items; NULL: rendered in the txn */
    struct dsi_claim_notes_s  *notes;
    /* dsi_room()'s last measure and a bound on what puts added since */
    ds_space_t          room;       /* room.map_size 0: not measured */
    size_t              room_added;
    unsigned            room_depth; /* of the deepest tree measured */
    char                err[DS_ERR_LEN];
};


#define ds_dbi(txn, db)     ((txn)->env->dbi[db])


/* ds_env.c */
int dsi_lmdb_rc(ds_txn_t *txn, int rc);
int dsi_txn_begin_err(ds_env_t *env, ds_txn_t *parent, int write,
    ds_txn_t **txnp, char *err, size_t errlen);
/* a read txn that leaves the spare reader to the thread that reuses it */
int dsi_txn_begin_own(ds_env_t *env, ds_txn_t **txnp, char *err,
    size_t errlen);
int dsi_txn_commit_err(ds_txn_t *txn, char *err, size_t errlen);
void dsi_err_set(char *err, size_t errlen, const char *what, int rc);
/* ds_op.c: ds_op_batch(), keeping the first store error's text in err */
int dsi_op_batch(ds_env_t *env, ds_op_t *ops, char *err, size_t errlen);
/*
 * the same; once the write txn is begun (LMDB's write lock held), more()
 * may append ops to the list: what arrived while the lock was waited for
 */
typedef void (*dsi_op_more_pt)(void *data);
/* why claimed items could not be given back after their batch */
#define DSI_KEPT_ERROR_LEN  128
/* what a batch's claimed items came to after its commit (ds_claim_notes.c) */
typedef struct {
    size_t              rendered;   /* handed over */
    size_t              left_out;   /* ended or changed since the claim */
    size_t              given_back; /* leases given up: wakes claims */
    size_t              kept;       /* to give back, the give-up failed */
    char                kept_error[DSI_KEPT_ERROR_LEN];   /* why */
} dsi_claim_outcome_t;
/*
 * when the batch first had the write lock, when its commit began, when it
 * ended and when the claimed items were rendered after it (µs of
 * ds_time_mono(); the caller sets them all 0)
 */
typedef struct {
    int64_t             locked;
    int64_t             applied;
    int64_t             committed;
    int64_t             rendered;   /* when the claimed items were */
    dsi_claim_outcome_t outcome;    /* what they came to */
} dsi_op_times_t;
int dsi_op_batch_more(ds_env_t *env, ds_op_t *ops, dsi_op_more_pt more,
    void *data, dsi_op_times_t *times, char *err, size_t errlen);
int dsi_room(ds_txn_t *txn, int kind);
/* the snapshot a read txn reads; DS_INVALID for a write txn */
int dsi_txn_snapshot(ds_txn_t *txn, ds_snapshot_t *snap);
/* whether a failed flush, of any process sharing env->stop, stops writes */
int dsi_env_stopped(ds_env_t *env);
/* fdatasync(), or a test's stand-in for it (store/tests) */
extern int (*dsi_fdatasync)(int fd);
/* µs between two lines on the writes a stopped store refused (tests) */
extern int64_t dsi_refused_log;
/* a long write lets other threads have the core now and then (ds_env.c) */
void dsi_txn_give_way(ds_txn_t *txn);
/* sched_yield(), or a test's stand-in for it */
extern int (*dsi_yield)(void);

/*
 * dsi_room() kinds: how much of the reserve an operation may take. Purges
 * do not ask: they may take all of it, so that terminate can never leave
 * the store without room to purge what it terminated.
 */
#define DS_ROOM_ADD         0       /* none: data that only grows */
#define DS_ROOM_END         1       /* half: terminate's history event */
/*
 * what a put or a delete may add to the live pages, at most (see
 * dsi_room()): depth is the deepest tree of the last measure
 */
#define DSI_ROOM_PUT(txn, key, val)                                          \
    ((key)->mv_size + (val)->mv_size                                         \
     + ((txn)->room_depth + 3) * (txn)->env->psize)
#define DSI_ROOM_DEL(txn)                                                    \
    (((txn)->room_depth + 1) * (txn)->env->psize)

/* ds_instance.c */
int dsi_instance_write(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    const ds_instance_t *inst, const ds_instance_t *old);

/* every write goes through these: they count for ds_txn_writes() */
int dsi_put(ds_txn_t *txn, int db, MDB_val *key, MDB_val *val,
    unsigned flags);
int dsi_del(ds_txn_t *txn, int db, MDB_val *key, MDB_val *val);
int dsi_cursor_del(ds_txn_t *txn, int db, MDB_cursor *cur,
    unsigned flags);
int dsi_cursor_seek(ds_txn_t *txn, int db, MDB_cursor **cur);
void dsi_cursor_done(ds_txn_t *txn, int db, MDB_cursor *cur);
int dsi_cursor_walk(ds_txn_t *txn, int db, MDB_cursor **cur);
void dsi_cursor_walk_done(ds_txn_t *txn, int db, MDB_cursor *cur);
void dsi_txn_set_error(ds_txn_t *txn, const char *what);
/*
 * size bytes that live as long as the txn, as the values it reads do
 * (freed when it ends); NULL when out of memory
 */
void *dsi_txn_keep(ds_txn_t *txn, size_t size);
int dsi_get(ds_txn_t *txn, int db, MDB_val *key, MDB_val *val);
uint64_t dsi_txn_db_writes(ds_txn_t *txn, int db);
int dsi_put_found(ds_txn_t *txn, int db, MDB_val *key, MDB_val *val);
int dsi_del_found(ds_txn_t *txn, int db);


/* ds_events.c: building JSON events and messages */
typedef struct {
    char               *data;
    size_t              len;
    size_t              size;
    unsigned            members;
    int                 oom;
    /* the last Timestamp written: an episode's events share it */
    int64_t             time;
    size_t              time_len;       /* 0: none */
    char                time_text[DS_TIME_FRAC_LEN];
} ds_buf_t;

void dsi_buf_init(ds_buf_t *b);
void dsi_buf_reset(ds_buf_t *b);
void dsi_buf_free(ds_buf_t *b);
void dsi_buf_add(ds_buf_t *b, const char *s, size_t len);
void dsi_ev_open(ds_buf_t *b);
void dsi_ev_begin(ds_buf_t *b, const char *type, int64_t event_id,
    int64_t now);
void dsi_ev_str(ds_buf_t *b, const char *field, ds_str_t s);
void dsi_ev_json(ds_buf_t *b, const char *field, ds_str_t json);
void dsi_ev_int(ds_buf_t *b, const char *field, int64_t v);
void dsi_ev_time(ds_buf_t *b, const char *field, int64_t us);
int dsi_ev_end(ds_txn_t *txn, ds_buf_t *b, ds_str_t *event);
int dsi_event_build(ds_txn_t *txn, const char *type, int64_t now,
    const char *name_field, ds_str_t name, const char *json_field,
    ds_str_t json, ds_str_t *event);


/* ds_record.c: the versioned instance record */
size_t dsi_record_size(const ds_instance_t *inst);
void dsi_record_encode(const ds_instance_t *inst, unsigned char *p);
int dsi_record_decode(const void *data, size_t len, ds_instance_t *inst);


/* ds_instance.c */
int dsi_instance_remove(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    const ds_instance_t *old);
int dsi_instance_own(ds_txn_t *txn, ds_instance_t *inst, char **mem);

/*
 * The list copy a record's by_created entry carries: the record encoded
 * with its worker fields cleared, 0 bytes when it is over
 * DS_LIST_COPY_MAX (the list then reads the record).
 */
#define DS_LIST_COPY_MAX    512
size_t dsi_list_copy(const ds_instance_t *inst, unsigned char *buf);


/* ds_work_lease.c: the lease steps of all kinds of work item */
int dsi_lease_none(const uint8_t *lease);
int dsi_lease_eq(const uint8_t *a, const uint8_t *b);
int dsi_lease_held(const uint8_t *lease, const uint8_t *held);
int dsi_lease_time_valid(int64_t now, int64_t lease_us);
int dsi_claim_valid(ds_str_t hub, int64_t now, int64_t lease_us, size_t max,
    const uint8_t *tokens);
void dsi_lease_take(uint8_t *lease, int64_t *lease_expires, int64_t *ready_at,
    const uint8_t *token, int64_t now, int64_t lease_us);
void dsi_lease_renew(uint8_t *lease, int64_t *lease_expires,
    int64_t *ready_at, int64_t now, int64_t lease_us, int64_t *expires,
    int abandon);
void dsi_lease_ready(const uint8_t *lease, int64_t lease_expires,
    int64_t *ready_at, int64_t now);


/* ds_ready.c: the ready index */
int64_t dsi_ready_time(int64_t now);
int dsi_ready_put(ds_txn_t *txn, ds_str_t hub, int kind, int64_t at,
    const unsigned char *item, size_t len);
int dsi_ready_del(ds_txn_t *txn, ds_str_t hub, int kind, int64_t at,
    const unsigned char *item, size_t len);
int dsi_ready_move(ds_txn_t *txn, ds_str_t hub, int kind, int64_t from,
    int64_t to, const unsigned char *item, size_t len);
int dsi_ready_first(ds_txn_t *txn, ds_str_t hub, int kind, int64_t *at,
    unsigned char *item, size_t *len);
int dsi_ready_seek(ds_txn_t *txn, ds_str_t hub, int kind, int64_t from,
    const unsigned char *from_item, size_t from_len, int64_t *at,
    unsigned char *item, size_t *len);
int dsi_ready_due(ds_txn_t *txn, ds_str_t hub, int kind, int64_t now,
    int64_t *at, unsigned char *item, size_t *len);
void dsi_ready_mark(ds_instance_t *inst, int64_t now);


/* ds_inbox.c: delivering messages to instances */
int dsi_inbox_push(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_instance_t *inst, ds_str_t message, int64_t now);
int dsi_inbox_deliver(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    uint64_t execution, int64_t created, ds_str_t message, int64_t now,
    int strict);
int dsi_inbox_drop_answers(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    uint64_t from, int entities);
int dsi_inbox_drop_grants(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    uint64_t from, const ds_action_t *a, size_t n, int64_t now);
int dsi_inbox_grant(ds_txn_t *txn, ds_str_t hub, ds_str_t owner,
    uint64_t execution, int64_t created, ds_str_t cs, ds_str_t set,
    int64_t now);
int dsi_inbox_public(ds_str_t msg, ds_str_t *head);
int dsi_inbox_has_grant(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_str_t cs, int *found);


/* ds_orchestration_start.c: starting (sub-)orchestrations */
typedef struct {
    ds_str_t            name;
    ds_str_t            input;
    ds_str_t            version;        /* len 0: none */
    ds_str_t            tags;           /* checked JSON object; len 0 */
    int64_t             scheduled;      /* µs; 0: at once */
    ds_str_t            parent_id;      /* len 0: no parent */
    ds_str_t            parent_name;
    ds_str_t            parent_version; /* len 0: none */
    int64_t             parent_task;
    uint64_t            parent_execution;
    int64_t             parent_created; /* its created time; 0: unknown */
} dsi_start_t;

int dsi_start(ds_txn_t *txn, ds_str_t hub, ds_str_t id, const dsi_start_t *s,
    int64_t now, ds_instance_t *inst);
void dsi_ev_parent(ds_buf_t *b, const dsi_start_t *s);
int dsi_ev_sub_failed(ds_txn_t *txn, ds_buf_t *b, int64_t task,
    ds_str_t reason, int reason_json, ds_str_t details, int64_t now,
    ds_str_t *msg);
int dsi_notify_parent(ds_txn_t *txn, ds_str_t hub, ds_str_t parent_id,
    int64_t parent_task, uint64_t parent_execution, int64_t parent_created,
    int failed, ds_str_t result, ds_str_t reason, ds_str_t details,
    int64_t now);
int dsi_parent_is(const ds_instance_t *child, ds_str_t id, int64_t created);
int dsi_drop_work(ds_txn_t *txn, ds_str_t hub, ds_str_t id, int tombstones);


/* ds_orchestration_rewind.c */
int dsi_rewind(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_str_t reason,
    int64_t now, unsigned depth);


/* ds_work.c: the work-item engine, a descriptor per kind */
typedef struct {
    int                 done;
    int64_t             ready_at;
    int64_t             lease_expires;
    uint8_t             lease[DS_LEASE_LEN];
    uint64_t            done_digest;    /* a tombstone's; 0: not known */
    ds_str_t            name;
    ds_str_t            input;
    ds_str_t            version;        /* len 0: none */
    ds_str_t            tags;           /* JSON object; len 0: none */
} ds_activity_t;

typedef struct {
    int                 has_state;
    int64_t             last_op;
    int64_t             ready_at;
    int64_t             lease_expires;
    uint64_t            lease_upto;
    uint64_t            op_seq;
    uint8_t             lease[DS_LEASE_LEN];
    uint8_t             done_lease[DS_LEASE_LEN];
    uint64_t            done_digest;    /* 0: not known */
    ds_str_t            state;
    ds_str_t            owner;          /* the lock holder; len 0: none */
    ds_str_t            cs;             /* its critical section */
} ds_erec_t;

/* one item of any kind as the engine sees it; the kind's get sets it up */
typedef struct {
    ds_str_t            id;             /* instance id; entity "@name@key" */
    int64_t             task_id;        /* activity */
    ds_str_t            name;           /* entity name (lower-cased), key */
    ds_str_t            key;
    unsigned char       eid[DS_ID_MAX];
    union {
        ds_instance_t   inst;
        ds_activity_t   act;
        ds_erec_t       ent;
    } u;
    uint8_t            *lease;          /* the lease fields in u */
    int64_t            *lease_expires;
    int64_t            *ready_at;
    uint64_t           *lease_upto;     /* NULL: the kind has none */
    const uint8_t      *done_lease;     /* last completion's; NULL: none */
    const uint64_t     *done_digest;    /* and the digest of its body */
    int64_t             old_ready_at;   /* where the ready entry is now */
    uint64_t            upto;           /* a claim: the work delivered */
    uint64_t            execution;      /* a claimed activity: its
                                           instance's, read by the verdict */
    ds_instance_t       old;            /* an orchestration as read, and */
    uint64_t            writes;         /* ds_txn_writes() then */
} dsi_work_rec_t;

typedef enum {
    DSI_WORK_TAKE = 0,                  /* claim it */
    DSI_WORK_IDLE,                      /* nothing to do: out of the index */
    DSI_WORK_STALE,                     /* the entry is stale: delete it */
    DSI_WORK_DROP                       /* the work is moot: drop the item */
} dsi_verdict_e;

typedef enum {
    DSI_WORK_RENEW = 0,
    DSI_WORK_ABANDON,
    DSI_WORK_COMPLETE
} dsi_verb_e;

typedef struct {
    int                 ready;          /* DS_READY_* */
    int                 fold;           /* names compare lower-cased */
    /* a claim's first step (due timers fire); may be NULL */
    int               (*before_claim)(ds_txn_t *txn, ds_str_t hub,
                                      int64_t now);
    /* the key of a ready entry; DS_INVALID: malformed (a stale entry) */
    int               (*item_key)(const unsigned char *item, size_t len,
                                  dsi_work_rec_t *r);
    /* the key of renew/abandon arguments; DS_INVALID when bad */
    int               (*key_of)(ds_str_t hub, ds_str_t id, ds_str_t key,
                                int64_t task_id, dsi_work_rec_t *r);
    /* reads the record and points the lease fields at it */
    int               (*get)(ds_txn_t *txn, ds_str_t hub, dsi_work_rec_t *r);
    /* writes it, the ready entry moving from old_ready_at */
    int               (*put)(ds_txn_t *txn, ds_str_t hub, dsi_work_rec_t *r);
    /* what a due entry at "at" is; sets upto for DSI_WORK_TAKE */
    int               (*verdict)(ds_txn_t *txn, ds_str_t hub,
                                 dsi_work_rec_t *r, int64_t at,
                                 dsi_verdict_e *verdict);
    int               (*drop)(ds_txn_t *txn, ds_str_t hub,
                              dsi_work_rec_t *r);
    /* after the lease is taken, before the put; may be NULL */
    void              (*taken)(dsi_work_rec_t *r, int64_t now);
    /* the name a claim filters on */
    ds_str_t          (*name)(const dsi_work_rec_t *r);
    /* the kind's members of a claimed item (read again) */
    void              (*view)(const dsi_work_rec_t *r, ds_work_item_t *it);
    /* a refusal before the lease is compared; may be NULL */
    int               (*refuse)(const dsi_work_rec_t *r, dsi_verb_e verb);
    /* after a renew or abandon changed the lease fields; may be NULL */
    void              (*released)(dsi_work_rec_t *r, int abandon,
                                  int64_t now);
    /*
     * what tells the record as claimed from one another write changed
     * since (dsi_work_note_t); NULL: the kind's items are rendered in the
     * claim's txn (an entity's operations depend on locks other writers
     * change)
     */
    int64_t           (*stamp)(const dsi_work_rec_t *r);
} dsi_work_kind_t;

/*
 * A claimed item noted in the claim's write txn, rendered after the
 * commit in a read txn (ds_op.c): the key of its ready entry, the lease it
 * took, the record's stamp and what the record alone does not say. The
 * record is read again then; an item whose lease is no longer this one
 * (terminated, purged or restarted meanwhile) is not rendered, nor one
 * whose stamp moved (suspended meanwhile), whose lease is given back.
 */
typedef struct {
    ds_work_kind_e      kind;
    size_t              key_len;
    uint64_t            upto;
    uint64_t            execution;      /* an activity's instance's */
    int64_t             stamp;          /* the kind's stamp() then */
    int64_t             lease_expires;
    const uint8_t      *lease;          /* the caller's token */
    /* an instance id, or one, 0 and a task id(8), or an entity id */
    unsigned char       key[DS_ID_MAX + 9];
} dsi_work_note_t;

typedef int (*dsi_work_note_cb)(void *data, const dsi_work_note_t *note);

/* ds_claim_notes.c: a batch's noted items, rendered after its commit */
typedef struct {
    ds_op_t            *op;
    int                 give_back;  /* its lease, after the render */
    dsi_work_note_t     note;
} dsi_claim_note_t;

typedef struct dsi_claim_notes_s {
    dsi_claim_note_t   *notes;
    size_t              n;
    size_t              max;
    dsi_claim_outcome_t outcome;    /* of the last render */
} dsi_claim_notes_t;

int dsi_claim_notes_add(dsi_claim_notes_t *cn, ds_op_t *op,
    const dsi_work_note_t *note);
/* each op's noted items to its callback, in a read txn; empties cn */
void dsi_claim_notes_render(ds_env_t *env, dsi_claim_notes_t *cn,
    char *err, size_t errlen);
void dsi_claim_notes_free(dsi_claim_notes_t *cn);

/* whether the items of kind can be noted (the kind has stamp()) */
int dsi_work_notes(ds_work_kind_e kind);
/* ds_work_claim() with each item noted instead of handed over */
int dsi_work_claim_noted(ds_txn_t *txn, ds_str_t hub, ds_work_kind_e kind,
    int64_t now, int64_t lease_us, size_t max, const uint8_t *tokens,
    ds_claim_filter_t *filter, dsi_work_note_cb cb, void *data,
    size_t *claimed);
/*
 * A noted item read again, as the claim would have handed it over;
 * DS_NOTFOUND: gone, DS_CONFLICT: its lease is another's now,
 * DS_PRECONDITION: another write changed it since (its lease is still
 * the claim's: give it back)
 */
int dsi_work_item_read(ds_txn_t *txn, ds_str_t hub,
    const dsi_work_note_t *note, ds_work_item_t *it);
/* a noted item's lease given up (ds_work_abandon()) */
int dsi_work_item_abandon(ds_txn_t *txn, ds_str_t hub,
    const dsi_work_note_t *note, int64_t now);

extern const dsi_work_kind_t  dsi_work_orchestration;
extern const dsi_work_kind_t  dsi_work_activity;
extern const dsi_work_kind_t  dsi_work_entity;

int dsi_work_fence(ds_txn_t *txn, ds_str_t hub, const dsi_work_kind_t *k,
    dsi_work_rec_t *r, const uint8_t *lease, uint64_t digest, int *replay);

/*
 * The digest of a completion: 64-bit FNV-1a over its parsed fields, each
 * as (length, bytes), so that JSON spacing does not matter. Never 0 (that
 * means "not known" in a record).
 */
typedef struct {
    uint64_t            h;
} dsi_digest_t;

void dsi_digest_init(dsi_digest_t *d, ds_work_kind_e kind);
void dsi_digest_int(dsi_digest_t *d, int64_t v);
void dsi_digest_str(dsi_digest_t *d, ds_str_t s);
uint64_t dsi_digest_end(const dsi_digest_t *d);
/*
 * an orchestration completion's: every field of every action, in order,
 * and how many messages it took (SIZE_MAX: all)
 */
uint64_t dsi_work_complete_digest(const ds_action_t *a, size_t n,
    size_t processed);


/* ds_orchestration_complete.c */
/* processed: the delivered messages the episode took; SIZE_MAX: all */
int dsi_work_complete_orchestration(ds_txn_t *txn, ds_str_t hub,
    ds_str_t id, const uint8_t *lease, const ds_action_t *actions,
    size_t nactions, size_t processed, int64_t now, ds_status_e *status,
    int *changed);


/* ds_activity.c: activity work items */
/* call: name, input, version and tags (len 0: none) of the activity */
int dsi_activity_schedule(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    int64_t task_id, const ds_activity_t *call, int64_t now);
int dsi_activity_info(const void *data, size_t len, int *done,
    int64_t *ready_at);
int dsi_activity_drop_all(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    int tombstones);


/* ds_timer.c: durable timers */
int dsi_timer_create(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    int64_t timer_id, int64_t fire_at);
int dsi_timer_drop_all(ds_txn_t *txn, ds_str_t hub, ds_str_t id);
int dsi_timer_signal(ds_txn_t *txn, ds_str_t hub, ds_str_t eid,
    ds_str_t msg, int64_t at);
int dsi_timer_first(ds_txn_t *txn, ds_str_t hub, int64_t *due);


/* ds_entity.c: entity records; a list's token: version(1) @name@key */
#define DSI_ETOKEN_VERSION  2

int dsi_entity_id(ds_str_t name, ds_str_t key, unsigned char *buf,
    ds_str_t *eid);
int dsi_entity_info(ds_str_t eid, const void *data, size_t len,
    int64_t *ready_at, int *locked);
int dsi_entity_canon(ds_str_t id, unsigned char *buf, ds_str_t *eid);
int dsi_entity_release(ds_txn_t *txn, ds_str_t hub, ds_str_t owner,
    ds_str_t cs, ds_str_t set, int64_t now);
int dsi_entity_history_drop(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    int64_t now);
int dsi_entity_lock_pending(ds_txn_t *txn, ds_str_t hub, ds_str_t eid,
    ds_str_t owner, ds_str_t cs, int *pending);
int dsi_entity_send(ds_txn_t *txn, ds_str_t hub, ds_str_t eid, ds_str_t msg,
    int64_t now);
/* ds_orchestration_complete.c: "field":[..], a lock action's set */
void dsi_lock_set_json(ds_buf_t *b, const char *field, const ds_action_t *a);
/* shared with the PostgreSQL backend: what a completion may carry, and
   the digest that tells its retry from another body */
int dsi_entity_actions_check(const ds_action_t *a, size_t n);
uint64_t dsi_entity_digest(int delete_state, ds_str_t state,
    const ds_entity_result_t *failure, const ds_entity_result_t *results,
    size_t nresults, const ds_action_t *actions, size_t nactions);
int dsi_entity_split(ds_str_t eid, ds_str_t *name, ds_str_t *key);


/* ds_counts.c: counts of index entries, per hub */
int dsi_count_entry(ds_txn_t *txn, int db, const MDB_val *key, int delta);
int dsi_counts_build(ds_txn_t *txn);
int dsi_counts_flush(ds_txn_t *txn);


/* ds_token.c: base64url continuation tokens */
size_t dsi_b64url_encode(const unsigned char *raw, size_t n, char *out);
int dsi_b64url_decode(ds_str_t in, unsigned char *raw, size_t max,
    size_t *n);


/* ds_seq.c: per-instance sequences (history, inbox) */
int dsi_seq_append(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    ds_str_t value, uint64_t *seq);
int dsi_seq_read(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    ds_event_cb cb, void *data);
int dsi_seq_delete(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    uint64_t upto);
int dsi_seq_last(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    uint64_t *last);
int dsi_seq_put(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    uint64_t seq, ds_str_t value);
int dsi_seq_read_upto(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    uint64_t upto, ds_event_cb cb, void *data);
int dsi_seq_del_one(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    uint64_t seq);

/* what a dsi_seq_each() callback does with an entry; other values stop */
#define DSI_EACH_NEXT       (-1)
#define DSI_EACH_DELETE     (-2)

typedef int (*dsi_seq_each_pt)(ds_txn_t *txn, uint64_t seq,
    const MDB_val *val, void *data);

int dsi_seq_each(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    uint64_t upto, dsi_seq_each_pt fn, void *data);
int dsi_seq_each_from(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    uint64_t from, uint64_t upto, dsi_seq_each_pt fn, void *data);


/* ds_json.c */
size_t dsi_json_minify(const char *in, size_t len, char *out);
size_t dsi_json_plain_prefix(const unsigned char *p, size_t len);
size_t dsi_json_utf8_seq(const unsigned char *p, size_t n, size_t *skip);
size_t dsi_utf8_bad(const unsigned char *p, size_t len);
int dsi_version_ok(ds_str_t v);

/* ds_json_check.c */
typedef struct {
    size_t              line;
    size_t              column;
    size_t              position;
    unsigned            too_deep:1;     /* more containers than allowed */
    char                text[64];
} ds_json_error_t;

int dsi_json_check(const char *in, size_t len, unsigned max_depth,
    ds_json_error_t *err);
int dsi_json_check_spaced(const char *in, size_t len, unsigned max_depth,
    ds_json_error_t *err, int *spaced);


/* integers stored as 8 big-endian bytes, sign bit flipped (ds_key.c) */
#define ds_i64_enc(v)       dsi_created_enc(v)
#define ds_i64_dec(v)       dsi_created_dec(v)


/*
 * Activity and entity records as rows, for the tools (ds_rows.c): decoded,
 * and written with their ready entries (none before).
 */
int dsi_activity_decode(const void *data, size_t len, ds_activity_t *act);
int dsi_activity_write(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    int64_t task_id, const ds_activity_t *act);
int dsi_erec_decode(const void *data, size_t len, ds_erec_t *rec);
int dsi_erec_write(ds_txn_t *txn, ds_str_t hub, ds_str_t eid,
    const ds_erec_t *rec);


#endif /* DS_INTERNAL_H */
