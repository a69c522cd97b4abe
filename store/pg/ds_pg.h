
/*
 * Copyright (C) ngx_durable authors
 *
 * The PostgreSQL backend's connections (docs/postgres.md): libpq driven
 * without ever blocking, by an event loop that watches one socket per
 * connection. Plain C99 over libpq; no nginx header, no loop of its own:
 * the caller asks which readiness a connection waits for
 * (dsi_pg_conn_wants()), watches its socket (the host's watch callback of
 * ds_host_t), and calls dsi_pg_conn_step() when it is ready. Time is the
 * caller's too: it bounds connects and batches with its own timers.
 *
 * Host names are resolved at configuration time only
 * (dsi_pg_conninfo_resolve()); dsi_pg_conn_start() refuses a conninfo that
 * would make libpq look a name up, since getaddrinfo() blocks: one that
 * names a service, or leaves the host to a PGHOST that is a name.
 *
 * The backend behind ds_store_submit() is ds_store_pg.c. These files
 * stay under store/pg/ so that the store library and its tools build
 * without libpq; the module builds them with -DDS_HAVE_PG (config).
 */


#ifndef DS_PG_H
#define DS_PG_H


#include <stddef.h>

#include <libpq-fe.h>

#include "ds_internal.h"
#include "ds_pg_schema.h"


/* the keepalive settings a conninfo gets unless it has its own */
#define DSI_PG_KEEPALIVES           "1"
#define DSI_PG_KEEPALIVES_IDLE      "30"
#define DSI_PG_KEEPALIVES_INTERVAL  "10"
#define DSI_PG_KEEPALIVES_COUNT     "3"


/*
 * Reads in a batch at most (ds_store_pg.c): a queue grown while the
 * database stalled goes out in batches of this, on as many idle
 * connections, so that sending one batch stays short in the event loop.
 * Each statement of a batch of reads has a sync of its own, and a libpq
 * without PQsendPipelineSync() (before 17) writes to the socket at each
 * sync: sending 1024 statements, a sync after each, took 1024 send()
 * calls, 2.5 ms at best and 7.6 on average on a loaded 2-core host
 * (libpq 15, TCP on 127.0.0.1), 128 took 0.3 and 1.3 ms. libpq 17
 * sends a batch as its output buffer fills: a few writes, not one per
 * statement.
 */
#ifdef LIBPQ_HAS_SEND_PIPELINE_SYNC
#define DSI_PG_READS_MAX    1024
#else
#define DSI_PG_READS_MAX    128
#endif


#define DSI_PG_WANT_READ    1       /* as DS_WATCH_READ */
#define DSI_PG_WANT_WRITE   2       /* as DS_WATCH_WRITE */


typedef enum {
    DSI_PG_WAIT = 0,        /* watch the socket again (it may change) */
    DSI_PG_READY,           /* connected, or the batch's answers are in */
    DSI_PG_FAILED           /* broken: dsi_pg_conn_error() says why */
} dsi_pg_step_e;


typedef struct {
    const char         *sql;        /* one statement, $1.. parameters */
    int                 nparams;
    const char *const  *values;     /* text, NULL for SQL NULL */
} dsi_pg_stmt_t;


typedef struct dsi_pg_conn_s  dsi_pg_conn_t;


/*
 * conninfo with every host name replaced by its addresses in hostaddr
 * (host kept, for TLS and for the server's name in errors), a name with
 * several addresses becoming as many hosts, in getaddrinfo()'s order;
 * socket directories and given hostaddrs stay. Blocks in getaddrinfo():
 * configuration time only. *out is malloc()ed. 0, or -1 with err set.
 */
int dsi_pg_conninfo_resolve(const char *conninfo, char **out, char *err,
    size_t errlen);

/*
 * 0 when libpq will look up no name for conninfo, with the PGHOST and
 * PGHOSTADDR of env ("NAME=value" strings, NULL last; environ for this
 * process's) where the conninfo gives none; -1 with err set. A service
 * is refused, in conninfo (service=, servicefile=) or env (PGSERVICE,
 * PGSERVICEFILE): its hosts would be read when libpq connects.
 */
int dsi_pg_conninfo_check_env(const char *conninfo, char *const *env,
    char *err, size_t errlen);

/* the same, with this process's environment: libpq's when it connects */
int dsi_pg_conninfo_check(const char *conninfo, char *err, size_t errlen);

/*
 * Starts connecting (PQconnectStart: no waiting). NULL with err set when
 * conninfo is refused (see above) or out of memory. The connection is in
 * non-blocking and pipeline mode once connected. With bound_ms above 0
 * the session's statement_timeout and idle_in_transaction_session_timeout
 * are bound_ms (startup options, before the conninfo's own options, which
 * may set others): the server ends on its own a statement, and so the
 * batch, that the caller stopped waiting for.
 */
dsi_pg_conn_t *dsi_pg_conn_start(const char *conninfo, int64_t bound_ms,
    char *err, size_t errlen);

/* the socket to watch now, and for what; the socket changes while libpq
   tries one host after another, so ask again after every step */
int dsi_pg_conn_fd(const dsi_pg_conn_t *c);
unsigned dsi_pg_conn_wants(const dsi_pg_conn_t *c);

/* advances the connection after its socket was ready (or at any time) */
dsi_pg_step_e dsi_pg_conn_step(dsi_pg_conn_t *c);

/*
 * Sends n statements in one round trip, after a connect answered
 * DSI_PG_READY and before the previous batch's results were released;
 * with transaction set wrapped in BEGIN and COMMIT. Then step until
 * DSI_PG_READY. 0, or -1 (the connection is broken).
 */
int dsi_pg_conn_send(dsi_pg_conn_t *c, const dsi_pg_stmt_t *stmts,
    size_t n, int transaction);

/*
 * After DSI_PG_READY of a batch: statement i's result (libpq's; never
 * NULL; PGRES_PIPELINE_ABORTED after a failed statement of the same
 * transaction), and whether its COMMIT succeeded (1; 0 failed or none).
 * dsi_pg_conn_release() frees them, for the next batch. After
 * DSI_PG_FAILED (or a send that failed) neither is to be asked: which
 * statements were answered before the failure is not known (none, when
 * it was found before any answer was read), and dsi_pg_conn_close()
 * frees what was read.
 */
PGresult *dsi_pg_conn_result(const dsi_pg_conn_t *c, size_t i);
int dsi_pg_conn_committed(const dsi_pg_conn_t *c);
PGresult *dsi_pg_conn_commit_result(const dsi_pg_conn_t *c);
void dsi_pg_conn_release(dsi_pg_conn_t *c);

/*
 * A notification that arrived (LISTEN, sent as a statement): 1 with its
 * payload copied into payload (cut to size - 1 bytes), 0 when none is
 * left. Each step reads what the socket has, so ask after every step;
 * an idle listening connection wants to read, and its steps answer WAIT.
 */
int dsi_pg_conn_notified(dsi_pg_conn_t *c, char *payload, size_t size);

const char *dsi_pg_conn_error(const dsi_pg_conn_t *c);
void dsi_pg_conn_close(dsi_pg_conn_t *c);


/*
 * An operation as a call of its function (ds_pg_op.c): stmt, with the
 * parameters in mem. dsi_pg_op_call(): DS_OK; DS_INVALID for arguments
 * refused before any call; DS_UNSUPPORTED for the types (and work kinds)
 * not served yet; DS_ERROR when out of memory. Free with
 * dsi_pg_call_free() once answered.
 */

#define DSI_PG_PARAMS_MAX   20

typedef struct {
    dsi_pg_stmt_t       stmt;
    const char         *values[DSI_PG_PARAMS_MAX];
    size_t              off[DSI_PG_PARAMS_MAX];
    int                 nparams;
    int                 oom;
    char               *mem;
    size_t              len;
    size_t              size;
    ds_buf_t            buf;            /* an event's members */
    int64_t             queued;         /* µs: the store's queue, since */
    size_t              at;             /* its statement in the batch */
    int                 row;            /* its row there; -1: its own */
    unsigned            again:1;        /* sent again after a deadlock */
} dsi_pg_call_t;

int dsi_pg_op_call(const ds_op_t *op, dsi_pg_call_t *call);
void dsi_pg_call_free(dsi_pg_call_t *call);

/*
 * The statements of a batch, ops in submit order, into stmts (one an op
 * at most): in a batch of writes, a run of starts of one hub without
 * options but a version and tags is one call of durable.start_batch();
 * in a batch of reads, the status reads of one hub without the history,
 * wherever they are, one call of durable.status_many() with each id
 * once. Their parameters are made in runs (nops / 2 of them at most;
 * free them with dsi_pg_call_free() once sent). Each op's call gets its
 * statement and row (-1: a statement of its own, dsi_pg_op_answer();
 * else dsi_pg_row_answer()). The number of statements and *nruns.
 */
size_t dsi_pg_batch_stmts(ds_op_t *ops, dsi_pg_stmt_t *stmts,
    dsi_pg_call_t *runs, size_t *nruns);
int dsi_pg_row_answer(ds_op_t *op, const PGresult *res, int row,
    ds_instance_t *inst);
/* blocks of unescaped events, kept while a front end may point at them */
typedef struct dsi_pg_keep_s  dsi_pg_keep_t;

/* a STATUS answer points inst, an ENTITY_GET entity, into res */
int dsi_pg_op_answer(ds_op_t *op, const PGresult *res, ds_instance_t *inst,
    ds_entity_t *entity);
int dsi_pg_op_history(const PGresult *res, ds_event_cb cb, void *data,
    dsi_pg_keep_t **keep);
int dsi_pg_op_item_events(const ds_op_t *op, const ds_work_item_t *item,
    ds_list_e list, ds_event_cb cb, void *data);

/*
 * ds_pg_control.c: restart, history chunks, recursive terminate and
 * purge, stats; the figures of a STATS answer as ds_op_counts_each(),
 * ds_op_ready_oldest() and ds_op_timers_total() give them
 */
int dsi_pg_control_call(const ds_op_t *op, dsi_pg_call_t *call);
int dsi_pg_control_answer(ds_op_t *op, const PGresult *res);
int dsi_pg_stats_each(const PGresult *res, ds_count_cb cb, void *data);
int dsi_pg_stats_oldest(const PGresult *res, ds_str_t hub,
    ds_work_kind_e kind, int64_t *at);
int dsi_pg_stats_timers(const PGresult *res, uint64_t *n);


/* op->backend during a claim's item callback: the answer and its row */
typedef struct {
    const PGresult     *res;
    int                 row;
    dsi_pg_keep_t      *keep;       /* the item's events, read */
} dsi_pg_claim_t;


/* entities (ds_pg_entity.c): the ops it serves, their calls and answers */
int dsi_pg_entity_op(const ds_op_t *op);
int dsi_pg_entity_call(const ds_op_t *op, dsi_pg_call_t *call);
int dsi_pg_entity_answer(ds_op_t *op, const PGresult *res,
    ds_entity_t *entity);
int dsi_pg_entity_ops(const dsi_pg_claim_t *claim, ds_event_cb cb,
    void *data);

/* activity work items (ds_pg_activity.c) */
int dsi_pg_activity_call(const ds_op_t *op, dsi_pg_call_t *call);
int dsi_pg_activity_claimed(ds_op_t *op, const PGresult *res);

/* orchestration completions (ds_pg_orchestration.c) */
int dsi_pg_orchestration_complete(const ds_op_t *op, dsi_pg_call_t *call);
void dsi_pg_orchestration_completed(ds_op_t *op, const PGresult *res);


/*
 * The shared parts of a call (ds_pg_call.c). Parameters are added in the
 * order of the function's arguments; dsi_pg_finish() points the statement
 * at them (DS_ERROR when one could not be added). dsi_pg_members() adds an
 * event's members: "name_field":"name","json_field":json.
 */
void dsi_pg_param(dsi_pg_call_t *call, const char *s, size_t len, int null);
void dsi_pg_param_str(dsi_pg_call_t *call, ds_str_t s);
void dsi_pg_param_json(dsi_pg_call_t *call, ds_str_t s);
void dsi_pg_param_int(dsi_pg_call_t *call, int64_t v);
void dsi_pg_param_lease(dsi_pg_call_t *call, const uint8_t *lease);
int dsi_pg_tokens(dsi_pg_call_t *call, const uint8_t *tokens, size_t n);
int dsi_pg_names(dsi_pg_call_t *call, const ds_claim_filter_t *f);
int dsi_pg_members(dsi_pg_call_t *call, const char *name_field,
    ds_str_t name, const char *json_field, ds_str_t json);
int dsi_pg_mask(unsigned mask);
int dsi_pg_finish(dsi_pg_call_t *call);

/* an answer's columns: integers (NULL is 0), text (NULL is length 0),
   a lease (NULL is none; -1 when malformed), a column by name (-1) */
int64_t dsi_pg_int(const PGresult *res, int row, int col);
ds_str_t dsi_pg_text(const PGresult *res, int row, int col);
int dsi_pg_bytes16(const PGresult *res, int row, int col, uint8_t *out);
int dsi_pg_col(const PGresult *res, const char *name);

/*
 * the events of a text[] as PostgreSQL writes it, {"..",".."}, in order;
 * with _keep valid until dsi_pg_keep_free(keep), else during cb only
 */
int dsi_pg_array(const char *p, ds_event_cb cb, void *data);
int dsi_pg_array_keep(const char *p, ds_event_cb cb, void *data,
    dsi_pg_keep_t **keep);
void dsi_pg_keep_free(dsi_pg_keep_t **keep);


#endif /* DS_PG_H */
