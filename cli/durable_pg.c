
/*
 * Copyright (C) ngx_durable authors
 *
 * The offline commands on a PostgreSQL store (docs/postgres.md): check,
 * stats, export, import and delete-task-hub, given a conninfo where a
 * store directory would be. Blocking libpq: this is a command-line tool.
 *
 * Export and import keep the one format of docs/export-format.md (format
 * 1, the LMDB layout), so that a hub moves between the backends both
 * ways. A hub's rows go through a scratch LMDB store in a temporary
 * directory, written row by row with the index entries each implies
 * (store/ds_rows.c):
 *
 *   export  rows of one REPEATABLE READ snapshot -> scratch store, checked
 *           -> its lines, as an LMDB store's export writes them;
 *   import  lines -> scratch store, checked as an LMDB import is -> rows,
 *           by COPY, in one transaction on the database;
 *   check   rows of every hub -> scratch store -> the LMDB store's
 *           consistency check, plus what only the tables can get wrong
 *           (a row in the wrong partition).
 *
 * So the rules of a consistent hub are written once (store/ds_check.c),
 * and an LMDB hub moved to PostgreSQL and back exports the same lines.
 */


#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "durable.h"
#include "ds_rows.h"
#include "pg/ds_pg_schema.h"


/* a scratch store's map: sparse, only what is written takes room */
#define DU_PG_SCRATCH_MAP   ((size_t) 1 << 36)
#define DU_PG_COPY_BUF      65536


typedef struct {
    char                dir[4096];
    ds_env_t           *env;
} du_scratch_t;


/* a table and the columns the rows are read and written with */
typedef struct {
    const char         *table;
    const char         *select;     /* from the table, every value */
    const char         *columns;    /* the same, as COPY names them */
} du_pg_table_t;


/*
 * By kind of row (ds_row_kind_e). Integers are read as bigint, so that
 * every one is 8 bytes in a binary result; booleans as 0 or 1.
 */
static const du_pg_table_t  du_pg_tables[DS_ROW_KINDS] = {
    { "instances",
      "id, status::bigint, suspended_from::bigint, done_status::bigint, "
      "created, updated, execution, ready_at, lease_expires, lease_upto, "
      "inbox_seq, parent_task, parent_execution, episode_at, done_digest, "
      "scheduled_start, lease, done_lease, name, input, output, "
      "custom_status, parent_id, version, tags, failure",
      "id, status, suspended_from, done_status, created, updated, "
      "execution, ready_at, lease_expires, lease_upto, inbox_seq, "
      "parent_task, parent_execution, episode_at, done_digest, "
      "scheduled_start, lease, done_lease, name, input, output, "
      "custom_status, parent_id, version, tags, failure" },
    { "history", "id, seq, event", "id, seq, event" },
    { "inbox", "id, seq, message", "id, seq, message" },
    { "activities",
      "id, task_id, done::int::bigint, ready_at, lease_expires, "
      "done_digest, lease, name, input",
      "id, task_id, done, ready_at, lease_expires, done_digest, lease, "
      "name, input" },
    { "timers", "id, timer_id, due, fire_at, message",
      "id, timer_id, due, fire_at, message" },
    { "entities",
      "id, has_state::int::bigint, last_op, ready_at, lease_expires, "
      "lease_upto, op_seq, done_digest, lease, done_lease, state, owner, cs",
      "id, has_state, last_op, ready_at, lease_expires, lease_upto, "
      "op_seq, done_digest, lease, done_lease, state, owner, cs" },
    { "entity_ops", "id, seq, operation", "id, seq, operation" }
};


/*
 * activities from schema version 8 on: an activity's version and tags
 * too (the LMDB record's version 3). On 6 and 7 they are absent: an
 * import of a hub whose activities have none goes on, one with them is
 * refused (du_pg_copy_row()), rather than losing them unsaid.
 */
static const du_pg_table_t  du_pg_activities_v8 = {
    "activities",
    "id, task_id, done::int::bigint, ready_at, lease_expires, "
    "done_digest, lease, name, input, version, tags",
    "id, task_id, done, ready_at, lease_expires, done_digest, lease, "
    "name, input, version, tags"
};


/*
 * instances from schema version 9 on: a sub-orchestration's parent's
 * created time too (the LMDB record's version 7; NULL is its 0). On 6 to
 * 8 it is absent, and an import drops it: the modules that serve those
 * versions deliver a child's end by the execution alone.
 */
static const du_pg_table_t  du_pg_instances_v9 = {
    "instances",
    "id, status::bigint, suspended_from::bigint, done_status::bigint, "
    "created, updated, execution, ready_at, lease_expires, lease_upto, "
    "inbox_seq, parent_task, parent_execution, episode_at, done_digest, "
    "scheduled_start, lease, done_lease, name, input, output, "
    "custom_status, parent_id, version, tags, failure, parent_created",
    "id, status, suspended_from, done_status, created, updated, "
    "execution, ready_at, lease_expires, lease_upto, inbox_seq, "
    "parent_task, parent_execution, episode_at, done_digest, "
    "scheduled_start, lease, done_lease, name, input, output, "
    "custom_status, parent_id, version, tags, failure, parent_created"
};


/* the database's schema version, as du_pg_connect() found it */
static int  du_pg_version;


typedef struct {
    ds_str_t            hub;
    ds_txn_t           *txn;
    ds_check_cb         cb;         /* NULL: a bad row is an error */
    void               *data;
    size_t              problems;
    size_t              rows;
} du_pg_load_t;


typedef struct {
    PGconn             *conn;
    int                 kind;       /* the COPY in progress; -1 none */
    char               *buf;
    size_t              len;
    size_t              rows;
    int                 col;        /* columns of the line so far */
    int                 failed;
} du_pg_copy_t;


static const ds_str_t  du_pg_true = { "t", 1 };
static const ds_str_t  du_pg_false = { "f", 1 };


static int du_pg_exec(PGconn *conn, const char *what, const char *sql,
    const char *hub);
static int du_pg_schema_latest(void);
static const du_pg_table_t *du_pg_table(int kind);
static int du_scratch_open(du_scratch_t *s);
static void du_scratch_close(du_scratch_t *s);
static int du_pg_load(PGconn *conn, du_pg_load_t *ld);
static int du_pg_load_row(du_pg_load_t *ld, int kind, const PGresult *res);
static int du_pg_hubs(PGconn *conn, const char *hub, PGresult **res);
static int du_pg_copy_row(void *data, const ds_row_t *row);
static int du_pg_copy_end(du_pg_copy_t *c);


/*
 * Connects and checks the schema: its version must be one whose tables
 * and columns this tool's are, DSI_PG_SCHEMA_MIN to this tool's, as
 * nginx serves them: the commands read and write no more than those
 * (a database midway through the upgrade of several hosts is one).
 * Prints the error, returns the exit code.
 */

int
du_pg_connect(const char *conninfo, PGconn **conn)
{
    int        version;
    PGresult  *res;

    *conn = PQconnectdb(conninfo);

    if (*conn == NULL || PQstatus(*conn) != CONNECTION_OK) {
        du_error("cannot connect to the database: %s",
                 *conn ? PQerrorMessage(*conn) : "out of memory");
        PQfinish(*conn);
        *conn = NULL;
        return DU_EXIT_UNAVAILABLE;
    }

    /* 0: no schema (the table is looked for first: a query of a
       missing table fails however it is guarded) */

    res = PQexec(*conn, "SELECT to_regclass('durable.schema_version') IS NULL");

    if (PQresultStatus(res) == PGRES_TUPLES_OK
        && PQgetvalue(res, 0, 0)[0] == 'f')
    {
        PQclear(res);
        res = PQexec(*conn, "SELECT coalesce(max(version), 0)"
                            " FROM durable.schema_version");

    } else if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        PQclear(res);
        res = PQexec(*conn, "SELECT 0");
    }

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        du_error("cannot read the schema version: %s",
                 PQerrorMessage(*conn));
        PQclear(res);
        PQfinish(*conn);
        *conn = NULL;
        return DU_EXIT_UNAVAILABLE;
    }

    version = atoi(PQgetvalue(res, 0, 0));
    du_pg_version = version;
    PQclear(res);

    if (version < DSI_PG_SCHEMA_MIN || version > du_pg_schema_latest()) {
        du_error("the database's schema is version %d, this tool works "
                 "with %d to %d: %s", version, DSI_PG_SCHEMA_MIN,
                 du_pg_schema_latest(),
                 version == 0 ? "durable schema init creates it"
                 : version < DSI_PG_SCHEMA_MIN
                   ? "durable schema upgrade brings it up to date"
                   : "upgrade the tool");
        PQfinish(*conn);
        *conn = NULL;
        return DU_EXIT_FAILED;
    }

    return DU_EXIT_OK;
}


/* a kind's table and columns in the database's schema version */

static const du_pg_table_t *
du_pg_table(int kind)
{
    if (kind == DS_ROW_ACTIVITY && du_pg_version >= 8) {
        return &du_pg_activities_v8;
    }

    if (kind == DS_ROW_INSTANCE && du_pg_version >= 9) {
        return &du_pg_instances_v9;
    }

    return &du_pg_tables[kind];
}


static int
du_pg_schema_latest(void)
{
    int  i, v;

    v = 0;

    for (i = 0; du_pg_migrations[i].name != NULL; i++) {
        v = du_pg_migrations[i].version;
    }

    return v;
}


/* a statement, with the hub as $1 when given */

static int
du_pg_exec(PGconn *conn, const char *what, const char *sql, const char *hub)
{
    PGresult        *res;
    ExecStatusType   st;

    res = PQexecParams(conn, sql, hub ? 1 : 0, NULL, &hub, NULL, NULL, 0);
    st = PQresultStatus(res);
    PQclear(res);

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        return DU_EXIT_OK;
    }

    du_error("%s: %s", what, PQerrorMessage(conn));

    return PQstatus(conn) == CONNECTION_OK ? DU_EXIT_FAILED
                                           : DU_EXIT_UNAVAILABLE;
}


/* the scratch store: a new directory under $TMPDIR, no fsync */

static int
du_scratch_open(du_scratch_t *s)
{
    char           err[256];
    const char    *tmp;
    ds_env_conf_t  conf;

    tmp = getenv("TMPDIR");
    if (tmp == NULL || *tmp == '\0') {
        tmp = "/tmp";
    }

    s->env = NULL;

    if ((size_t) snprintf(s->dir, sizeof(s->dir), "%s/durable-XXXXXX", tmp)
        >= sizeof(s->dir) || mkdtemp(s->dir) == NULL)
    {
        du_error("cannot make a scratch directory in \"%s\": %s", tmp,
                 strerror(errno));
        s->dir[0] = '\0';
        return DU_EXIT_UNAVAILABLE;
    }

    memset(&conf, 0, sizeof(ds_env_conf_t));
    conf.path = s->dir;
    conf.map_size = DU_PG_SCRATCH_MAP;
    conf.sync = DS_SYNC_NONE;

    if (ds_env_open(&s->env, &conf, err, sizeof(err)) != DS_OK) {
        du_error("scratch store: %s", err);
        s->env = NULL;
        du_scratch_close(s);
        return DU_EXIT_UNAVAILABLE;
    }

    return DU_EXIT_OK;
}


static void
du_scratch_close(du_scratch_t *s)
{
    char  path[4200];

    if (s->env != NULL) {
        ds_env_close(s->env);
        s->env = NULL;
    }

    if (s->dir[0] == '\0') {
        return;
    }

    snprintf(path, sizeof(path), "%s/data.mdb", s->dir);
    (void) unlink(path);
    snprintf(path, sizeof(path), "%s/lock.mdb", s->dir);
    (void) unlink(path);
    (void) rmdir(s->dir);
    s->dir[0] = '\0';
}


/* the hubs that have rows (or only the one asked for), one a row */

static int
du_pg_hubs(PGconn *conn, const char *hub, PGresult **res)
{
    *res = PQexecParams(conn,
        "SELECT hub FROM (SELECT hub FROM durable.hubs"
        " UNION SELECT DISTINCT hub FROM durable.instances"
        " UNION SELECT DISTINCT hub FROM durable.entities) h"
        " WHERE $1::text IS NULL OR hub = $1 ORDER BY hub",
        1, NULL, &hub, NULL, NULL, 0);

    if (PQresultStatus(*res) != PGRES_TUPLES_OK) {
        du_error("cannot list the hubs: %s", PQerrorMessage(conn));
        PQclear(*res);
        *res = NULL;
        return DU_EXIT_UNAVAILABLE;
    }

    return DU_EXIT_OK;
}


/* rows into the scratch store ------------------------------------------- */

static int64_t
du_pg_i64(const PGresult *res, int col)
{
    const unsigned char  *p;

    if (PQgetisnull(res, 0, col) || PQgetlength(res, 0, col) != 8) {
        return 0;
    }

    p = (const unsigned char *) PQgetvalue(res, 0, col);

    return (int64_t) ((uint64_t) p[0] << 56 | (uint64_t) p[1] << 48
                      | (uint64_t) p[2] << 40 | (uint64_t) p[3] << 32
                      | (uint64_t) p[4] << 24 | (uint64_t) p[5] << 16
                      | (uint64_t) p[6] << 8 | (uint64_t) p[7]);
}


static ds_str_t
du_pg_str(const PGresult *res, int col)
{
    ds_str_t  s;

    s.data = PQgetvalue(res, 0, col);
    s.len = PQgetisnull(res, 0, col) ? 0 : (size_t) PQgetlength(res, 0, col);

    return s;
}


/* a lease: NULL is none (all zero); -1 for another length than 16 */

static int
du_pg_lease(const PGresult *res, int col, uint8_t *lease)
{
    memset(lease, 0, DS_LEASE_LEN);

    if (PQgetisnull(res, 0, col)) {
        return 0;
    }

    if (PQgetlength(res, 0, col) != DS_LEASE_LEN) {
        return -1;
    }

    memcpy(lease, PQgetvalue(res, 0, col), DS_LEASE_LEN);

    return 0;
}


/*
 * Every row of the hub, table by table, into ld->txn; a row that no
 * record can hold is a problem for ld->cb or, without one, an error.
 */

static int
du_pg_load(PGconn *conn, du_pg_load_t *ld)
{
    int          kind, rc;
    char         sql[1024];
    PGresult    *res;
    const char  *hub;

    hub = ld->hub.data;

    for (kind = 0; kind < DS_ROW_KINDS; kind++) {

        snprintf(sql, sizeof(sql), "SELECT %s FROM durable.%s WHERE hub = $1",
                 du_pg_table(kind)->select, du_pg_tables[kind].table);

        /* binary results, one row at a time: a hub may be large */

        if (!PQsendQueryParams(conn, sql, 1, NULL, &hub, NULL, NULL, 1)
            || !PQsetSingleRowMode(conn))
        {
            du_error("reading %s: %s", du_pg_tables[kind].table,
                     PQerrorMessage(conn));
            return DU_EXIT_UNAVAILABLE;
        }

        rc = DU_EXIT_OK;

        while ((res = PQgetResult(conn)) != NULL) {

            if (PQresultStatus(res) == PGRES_SINGLE_TUPLE && rc == DU_EXIT_OK) {
                rc = du_pg_load_row(ld, kind, res);

            } else if (PQresultStatus(res) != PGRES_TUPLES_OK
                       && PQresultStatus(res) != PGRES_SINGLE_TUPLE)
            {
                du_error("reading %s: %s", du_pg_tables[kind].table,
                         PQerrorMessage(conn));
                rc = DU_EXIT_UNAVAILABLE;
            }

            PQclear(res);
        }

        if (rc != DU_EXIT_OK) {
            return rc;
        }
    }

    return DU_EXIT_OK;
}


static int
du_pg_load_row(du_pg_load_t *ld, int kind, const PGresult *res)
{
    int             rc, bad;
    ds_row_t        row;
    ds_instance_t  *inst;
    ds_activity_t  *act;
    ds_erec_t      *ent;

    memset(&row, 0, sizeof(ds_row_t));
    row.kind = (ds_row_kind_e) kind;
    row.id = du_pg_str(res, 0);
    bad = 0;

    switch (row.kind) {

    case DS_ROW_INSTANCE:
        inst = &row.inst;
        inst->status = (ds_status_e) du_pg_i64(res, 1);
        inst->suspended_from = (ds_status_e) du_pg_i64(res, 2);
        inst->done_status = (ds_status_e) du_pg_i64(res, 3);
        inst->created = du_pg_i64(res, 4);
        inst->updated = du_pg_i64(res, 5);
        inst->execution = (uint64_t) du_pg_i64(res, 6);
        inst->ready_at = du_pg_i64(res, 7);
        inst->lease_expires = du_pg_i64(res, 8);
        inst->lease_upto = (uint64_t) du_pg_i64(res, 9);
        inst->inbox_seq = (uint64_t) du_pg_i64(res, 10);
        inst->parent_task = du_pg_i64(res, 11);
        inst->parent_execution = (uint64_t) du_pg_i64(res, 12);
        inst->episode_at = du_pg_i64(res, 13);
        inst->done_digest = (uint64_t) du_pg_i64(res, 14);
        inst->scheduled_start = du_pg_i64(res, 15);
        bad = du_pg_lease(res, 16, inst->lease)
              | du_pg_lease(res, 17, inst->done_lease);
        inst->name = du_pg_str(res, 18);
        inst->input = du_pg_str(res, 19);
        inst->output = du_pg_str(res, 20);
        inst->custom_status = du_pg_str(res, 21);
        inst->parent_id = du_pg_str(res, 22);
        inst->version = du_pg_str(res, 23);
        inst->tags = du_pg_str(res, 24);
        inst->failure = du_pg_str(res, 25);

        if (du_pg_version >= 9) {
            inst->parent_created = du_pg_i64(res, 26);
        }

        break;

    case DS_ROW_HISTORY:
    case DS_ROW_INBOX:
    case DS_ROW_ENTITY_OP:
        row.n = du_pg_i64(res, 1);
        row.text = du_pg_str(res, 2);
        break;

    case DS_ROW_ACTIVITY:
        act = &row.act;
        row.n = du_pg_i64(res, 1);
        act->done = du_pg_i64(res, 2) != 0;
        act->ready_at = du_pg_i64(res, 3);
        act->lease_expires = du_pg_i64(res, 4);
        act->done_digest = (uint64_t) du_pg_i64(res, 5);
        bad = du_pg_lease(res, 6, act->lease);
        act->name = du_pg_str(res, 7);
        act->input = du_pg_str(res, 8);

        if (PQnfields(res) > 10) {
            act->version = du_pg_str(res, 9);
            act->tags = du_pg_str(res, 10);
        }

        break;

    case DS_ROW_TIMER:
        row.n = du_pg_i64(res, 1);
        row.due = du_pg_i64(res, 2);
        row.fire_at = du_pg_i64(res, 3);
        row.text = du_pg_str(res, 4);
        break;

    default: /* DS_ROW_ENTITY */
        ent = &row.ent;
        ent->has_state = du_pg_i64(res, 1) != 0;
        ent->last_op = du_pg_i64(res, 2);
        ent->ready_at = du_pg_i64(res, 3);
        ent->lease_expires = du_pg_i64(res, 4);
        ent->lease_upto = (uint64_t) du_pg_i64(res, 5);
        ent->op_seq = (uint64_t) du_pg_i64(res, 6);
        ent->done_digest = (uint64_t) du_pg_i64(res, 7);
        bad = du_pg_lease(res, 8, ent->lease)
              | du_pg_lease(res, 9, ent->done_lease);
        ent->state = du_pg_str(res, 10);
        ent->owner = du_pg_str(res, 11);
        ent->cs = du_pg_str(res, 12);
        break;
    }

    rc = bad ? DS_INVALID : ds_rows_put(ld->txn, ld->hub, &row);

    if (rc == DS_OK) {
        ld->rows++;
        return DU_EXIT_OK;
    }

    if (rc == DS_INVALID && ld->cb != NULL) {
        ld->problems++;
        ld->cb(ld->data, bad ? "a lease that is not 16 bytes"
                             : "a row that breaks the store's rules",
               ld->hub, row.id);
        return DU_EXIT_OK;
    }

    du_error("hub \"%s\" %s \"%.*s\": %s", ld->hub.data,
             du_pg_tables[kind].table, (int) row.id.len, row.id.data,
             rc == DS_INVALID ? "a row that breaks the store's rules"
                              : ds_txn_error(ld->txn));

    return rc == DS_INVALID ? DU_EXIT_FAILED : DU_EXIT_UNAVAILABLE;
}


/* check ------------------------------------------------------------------ */

/*
 * Rows in another partition than their id's, or of a hub without its
 * partitions row: a claim or a status would not find them.
 */

static int
du_pg_check_partitions(PGconn *conn, ds_str_t hub, ds_check_cb cb,
    void *data, size_t *problems)
{
    int          i, kind;
    char         sql[512];
    ds_str_t     id;
    PGresult    *res;
    const char  *problem;

    for (kind = 0; kind < DS_ROW_KINDS; kind++) {

        snprintf(sql, sizeof(sql),
                 "SELECT x.id, h.hub IS NULL FROM durable.%s x"
                 " LEFT JOIN durable.hubs h ON h.hub = x.hub"
                 " WHERE x.hub = $1 AND (h.hub IS NULL OR x.partition"
                 " <> durable.partition_of(h.partitions, x.id))",
                 du_pg_tables[kind].table);

        res = PQexecParams(conn, sql, 1, NULL, &hub.data, NULL, NULL, 0);

        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            du_error("checking the partitions: %s", PQerrorMessage(conn));
            PQclear(res);
            return DU_EXIT_UNAVAILABLE;
        }

        for (i = 0; i < PQntuples(res); i++) {
            id.data = PQgetvalue(res, i, 0);
            id.len = (size_t) PQgetlength(res, i, 0);
            problem = PQgetvalue(res, i, 1)[0] == 't'
                      ? "a row of a hub that has no partitions row"
                      : "a row in another partition than its id's";

            (*problems)++;
            cb(data, problem, hub, id);
        }

        PQclear(res);
    }

    return DU_EXIT_OK;
}


/*
 * The counts of durable.counts (its slots summed, as durable.stats()
 * reads them) against the rows they count: instances per status, ready
 * rows per kind and timers. The triggers keep them in the transaction
 * that changes the rows, so in one snapshot they must agree.
 */

static int
du_pg_check_counts(PGconn *conn, ds_str_t hub, ds_check_cb cb,
    void *data, size_t *problems)
{
    int          i, class, code;
    char         problem[160];
    ds_str_t     none;
    PGresult    *res;
    const char  *what;

    static const char  *kinds[] = { "orchestration", "activity", "entity" };

    res = PQexecParams(conn,
        "WITH actual (class, code, n) AS ("
        "  SELECT 0, status, count(*) FROM durable.instances"
        "   WHERE hub = $1 GROUP BY status"
        "  UNION ALL SELECT 1, 0, count(*) FROM durable.instances"
        "   WHERE hub = $1 AND ready_at > 0"
        "  UNION ALL SELECT 1, 1, count(*) FROM durable.activities"
        "   WHERE hub = $1 AND ready_at > 0"
        "  UNION ALL SELECT 1, 2, count(*) FROM durable.entities"
        "   WHERE hub = $1 AND ready_at > 0"
        "  UNION ALL SELECT 2, 0, count(*) FROM durable.timers"
        "   WHERE hub = $1),"
        " kept (class, code, n) AS ("
        "  SELECT class, code, sum(n) FROM durable.counts"
        "   WHERE hub = $1 GROUP BY class, code)"
        " SELECT class, code, coalesce(k.n, 0), coalesce(a.n, 0)"
        " FROM actual a FULL JOIN kept k USING (class, code)"
        " WHERE coalesce(k.n, 0) <> coalesce(a.n, 0)"
        " ORDER BY class, code",
        1, NULL, &hub.data, NULL, NULL, 0);

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        du_error("checking the counts: %s", PQerrorMessage(conn));
        PQclear(res);
        return DU_EXIT_UNAVAILABLE;
    }

    none.data = "";
    none.len = 0;

    for (i = 0; i < PQntuples(res); i++) {
        class = atoi(PQgetvalue(res, i, 0));
        code = atoi(PQgetvalue(res, i, 1));

        if (class == 0) {
            what = ds_status_name((ds_status_e) code);
            snprintf(problem, sizeof(problem), "the count of %s instances",
                     what ? what : "?");

        } else if (class == 1 && code >= 0 && code <= 2) {
            snprintf(problem, sizeof(problem), "the count of ready %s "
                     "rows", kinds[code]);

        } else if (class == 2) {
            snprintf(problem, sizeof(problem), "the count of timers");

        } else {
            snprintf(problem, sizeof(problem), "a count of class %d code %d",
                     class, code);
        }

        snprintf(problem + strlen(problem), sizeof(problem) - strlen(problem),
                 " is %s, the rows are %s", PQgetvalue(res, i, 2),
                 PQgetvalue(res, i, 3));

        (*problems)++;
        cb(data, problem, hub, none);
    }

    PQclear(res);

    return DU_EXIT_OK;
}


/*
 * The consistency check of every hub (or one): the LMDB store's on a
 * scratch copy of the rows, in one snapshot, the partitions and the
 * counts of durable.counts. Counts in st are the scratch store's. DS_OK
 * consistent, DS_ERROR a problem was reported, DS_NOTFOUND no such hub,
 * DS_UNAVAILABLE the check could not run (both printed).
 */

int
du_pg_check(PGconn *conn, const char *hub, ds_check_cb cb, void *data,
    ds_check_stats_t *st)
{
    int            i, rc;
    size_t         problems;
    ds_str_t       h;
    PGresult      *hubs;
    ds_txn_t      *txn;
    du_scratch_t   s;
    du_pg_load_t   ld;

    memset(st, 0, sizeof(ds_check_stats_t));

    if (du_pg_exec(conn, "beginning a snapshot", "BEGIN ISOLATION LEVEL "
                   "REPEATABLE READ READ ONLY", NULL) != DU_EXIT_OK
        || du_pg_hubs(conn, hub, &hubs) != DU_EXIT_OK)
    {
        return DS_UNAVAILABLE;
    }

    if (hub != NULL && PQntuples(hubs) == 0) {
        h.data = hub;
        h.len = strlen(hub);
        du_no_hub("durable", h);
        PQclear(hubs);
        PQclear(PQexec(conn, "ROLLBACK"));
        return DS_NOTFOUND;
    }

    if (du_scratch_open(&s) != DU_EXIT_OK) {
        PQclear(hubs);
        return DS_UNAVAILABLE;
    }

    if (ds_txn_begin(s.env, NULL, 1, &txn) != DS_OK) {
        du_error("scratch store: cannot begin a transaction");
        PQclear(hubs);
        du_scratch_close(&s);
        return DS_UNAVAILABLE;
    }

    problems = 0;
    rc = DU_EXIT_OK;

    for (i = 0; rc == DU_EXIT_OK && i < PQntuples(hubs); i++) {
        h.data = PQgetvalue(hubs, i, 0);
        h.len = (size_t) PQgetlength(hubs, i, 0);

        memset(&ld, 0, sizeof(du_pg_load_t));
        ld.hub = h;
        ld.txn = txn;
        ld.cb = cb;
        ld.data = data;

        rc = du_pg_load(conn, &ld);
        problems += ld.problems;

        if (rc == DU_EXIT_OK) {
            rc = du_pg_check_partitions(conn, h, cb, data, &problems);
        }

        if (rc == DU_EXIT_OK) {
            rc = du_pg_check_counts(conn, h, cb, data, &problems);
        }
    }

    PQclear(hubs);
    PQclear(PQexec(conn, "ROLLBACK"));

    if (rc == DU_EXIT_OK) {
        h.data = hub ? hub : "";
        h.len = hub ? strlen(hub) : 0;

        rc = ds_check_txn(txn, h, cb, data, st);

        if (rc != DS_OK && st->problems == 0) {
            du_error("the check could not run: %s", ds_txn_error(txn));
            rc = DU_EXIT_UNAVAILABLE;

        } else {
            rc = DU_EXIT_OK;
        }
    }

    ds_txn_abort(txn);
    du_scratch_close(&s);

    if (rc != DU_EXIT_OK) {
        return DS_UNAVAILABLE;
    }

    st->problems += problems;

    return st->problems ? DS_ERROR : DS_OK;
}


/* stats ------------------------------------------------------------------ */

int
du_pg_stats(const char *conninfo, const char *hub)
{
    int          rc, i, j, kind, n;
    char         sql[256];
    PGconn      *conn;
    ds_str_t     name;
    PGresult    *hubs, *res;
    const char  *h, *status;

    rc = du_pg_connect(conninfo, &conn);
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    res = PQexec(conn, "SELECT coalesce(sum(pg_total_relation_size(c.oid)),"
                       " 0), (SELECT max(version)"
                       " FROM durable.schema_version)"
                       " FROM pg_class c JOIN pg_namespace n"
                       " ON n.oid = c.relnamespace"
                       " WHERE n.nspname = 'durable' AND c.relkind = 'r'");

    if (PQresultStatus(res) != PGRES_TUPLES_OK
        || du_pg_exec(conn, "beginning a snapshot", "BEGIN ISOLATION LEVEL "
                      "REPEATABLE READ READ ONLY", NULL) != DU_EXIT_OK
        || du_pg_hubs(conn, hub, &hubs) != DU_EXIT_OK)
    {
        du_error("reading the store failed: %s", PQerrorMessage(conn));
        PQclear(res);
        PQfinish(conn);
        return DU_EXIT_UNAVAILABLE;
    }

    if (hub != NULL && PQntuples(hubs) == 0) {
        name.data = hub;
        name.len = strlen(hub);
        du_no_hub("durable", name);
        PQclear(hubs);
        PQclear(res);
        PQfinish(conn);
        return DU_EXIT_FAILED;
    }

    if (du_json) {
        printf("{\"database\":");
        du_json_print_str(stdout, PQdb(conn), strlen(PQdb(conn)));
        printf(",\"schema_version\":%s,\"bytes\":%s,\"hubs\":[",
               PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 0));

    } else {
        printf("database %s: schema version %s, tables %s bytes\n",
               PQdb(conn), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 0));
    }

    PQclear(res);
    rc = DU_EXIT_OK;

    for (i = 0; rc == DU_EXIT_OK && i < PQntuples(hubs); i++) {
        h = PQgetvalue(hubs, i, 0);

        /* the statuses, then one count a table */

        res = PQexecParams(conn,
            "SELECT status, count(*) FROM durable.instances WHERE hub = $1"
            " GROUP BY status ORDER BY status", 1, NULL, &h, NULL, NULL, 0);

        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            rc = DU_EXIT_UNAVAILABLE;
            PQclear(res);
            break;
        }

        if (du_json) {
            printf("%s{\"hub\":", i ? "," : "");
            du_json_print_str(stdout, h, strlen(h));
            fputs(",\"status\":{", stdout);

        } else {
            printf("hub %s\n  statuses    ", h);
        }

        for (j = 0; j < PQntuples(res); j++) {
            n = atoi(PQgetvalue(res, j, 0));
            status = n >= 0 && n < DS_STATUS_COUNT
                     ? ds_status_name((ds_status_e) n) : "unknown";

            if (du_json) {
                printf("%s\"%s\":%s", j ? "," : "", status,
                       PQgetvalue(res, j, 1));

            } else {
                printf("%s%s %s", j ? ", " : "", status,
                       PQgetvalue(res, j, 1));
            }
        }

        fputs(du_json ? "},\"records\":{" : j ? "\n" : "none\n", stdout);
        PQclear(res);

        for (kind = 0; kind < DS_ROW_KINDS; kind++) {
            snprintf(sql, sizeof(sql),
                     "SELECT count(*) FROM durable.%s WHERE hub = $1",
                     du_pg_tables[kind].table);

            res = PQexecParams(conn, sql, 1, NULL, &h, NULL, NULL, 0);

            if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                rc = DU_EXIT_UNAVAILABLE;
                PQclear(res);
                break;
            }

            printf(du_json ? "%s\"%s\":%s" : "%s  %-12s %s\n",
                   kind && du_json ? "," : "", du_pg_tables[kind].table,
                   PQgetvalue(res, 0, 0));
            PQclear(res);
        }

        if (du_json) {
            fputs("}}", stdout);
        }
    }

    if (du_json) {
        printf("]}\n");
    }

    PQclear(hubs);
    PQfinish(conn);

    if (rc != DU_EXIT_OK) {
        du_error("reading the store failed");
    }

    return rc;
}


/* export ----------------------------------------------------------------- */

int
du_pg_export(const char *conninfo, ds_str_t hub, FILE *out, size_t *records)
{
    int            rc;
    PGconn        *conn;
    PGresult      *hubs;
    ds_txn_t      *txn;
    du_scratch_t   s;
    du_pg_load_t   ld;

    rc = du_pg_connect(conninfo, &conn);
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    rc = du_scratch_open(&s);
    if (rc != DU_EXIT_OK) {
        PQfinish(conn);
        return rc;
    }

    if (ds_txn_begin(s.env, NULL, 1, &txn) != DS_OK) {
        du_error("scratch store: cannot begin a transaction");
        rc = DU_EXIT_UNAVAILABLE;
        goto done;
    }

    /* one snapshot: the export is the hub at one moment */

    rc = du_pg_exec(conn, "beginning a snapshot", "BEGIN ISOLATION LEVEL "
                    "REPEATABLE READ READ ONLY", NULL);

    /* a hub with a row in durable.hubs but no records is one (empty) */

    if (rc == DU_EXIT_OK) {
        rc = du_pg_hubs(conn, hub.data, &hubs);

        if (rc == DU_EXIT_OK && PQntuples(hubs) == 0) {
            du_no_hub("durable", hub);
            rc = DU_EXIT_FAILED;
        }

        PQclear(hubs);
    }

    if (rc == DU_EXIT_OK) {
        memset(&ld, 0, sizeof(du_pg_load_t));
        ld.hub = hub;
        ld.txn = txn;

        rc = du_pg_load(conn, &ld);
    }

    if (rc == DU_EXIT_OK
        && ds_check_txn(txn, hub, NULL, NULL, NULL) != DS_OK)
    {
        du_error("hub \"%s\" is not consistent (durable check says how): "
                 "not exported", hub.data);
        rc = DU_EXIT_FAILED;
    }

    if (rc != DU_EXIT_OK) {
        ds_txn_abort(txn);
        goto done;
    }

    if (ds_txn_commit(txn) != DS_OK) {
        du_error("scratch store: the commit failed");
        rc = DU_EXIT_UNAVAILABLE;
        goto done;
    }

    rc = du_export_env(s.env, hub, out, records, 0) == DS_OK
         ? DU_EXIT_OK : DU_EXIT_FAILED;

done:

    du_scratch_close(&s);
    PQfinish(conn);

    return rc;
}


/* import ----------------------------------------------------------------- */

static void
du_pg_copy_add(du_pg_copy_t *c, const char *s, size_t len)
{
    if (c->failed) {
        return;
    }

    if (c->len + len > DU_PG_COPY_BUF) {
        if (c->len
            && PQputCopyData(c->conn, c->buf, (int) c->len) != 1)
        {
            c->failed = 1;
            return;
        }

        c->len = 0;

        if (len > DU_PG_COPY_BUF) {
            if (PQputCopyData(c->conn, s, (int) len) != 1) {
                c->failed = 1;
            }

            return;
        }
    }

    memcpy(c->buf + c->len, s, len);
    c->len += len;
}


/* a text value of COPY's text format: \N for NULL (when allowed) */

static void
du_pg_copy_text(du_pg_copy_t *c, ds_str_t s, int null)
{
    size_t       i, start;
    const char  *esc;

    if (c->col++) {
        du_pg_copy_add(c, "\t", 1);
    }

    if (s.len == 0 && null) {
        du_pg_copy_add(c, "\\N", 2);
        return;
    }

    start = 0;

    for (i = 0; i < s.len; i++) {
        switch (s.data[i]) {
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default: continue;
        }

        du_pg_copy_add(c, s.data + start, i - start);
        du_pg_copy_add(c, esc, 2);
        start = i + 1;
    }

    du_pg_copy_add(c, s.data + start, s.len - start);
}


static void
du_pg_copy_int(du_pg_copy_t *c, int64_t v)
{
    char      buf[32];
    ds_str_t  s;

    s.len = (size_t) snprintf(buf, sizeof(buf), "%lld", (long long) v);
    s.data = buf;

    du_pg_copy_text(c, s, 0);
}


/* an integer whose 0 is none: NULL */

static void
du_pg_copy_nint(du_pg_copy_t *c, int64_t v)
{
    ds_str_t  none;

    if (v != 0) {
        du_pg_copy_int(c, v);
        return;
    }

    none.data = NULL;
    none.len = 0;
    du_pg_copy_text(c, none, 1);
}


/* a lease as bytea's hex input (its backslash escaped); none is NULL */

static void
du_pg_copy_lease(du_pg_copy_t *c, const uint8_t *lease)
{
    char      buf[3 + 2 * DS_LEASE_LEN];
    size_t    i;
    ds_str_t  s;

    if (dsi_lease_none(lease)) {
        s.len = 0;
        du_pg_copy_text(c, s, 1);
        return;
    }

    buf[0] = '\\';
    buf[1] = 'x';

    for (i = 0; i < DS_LEASE_LEN; i++) {
        snprintf(buf + 2 + 2 * i, 3, "%02x", lease[i]);
    }

    s.data = buf;
    s.len = 2 + 2 * DS_LEASE_LEN;

    du_pg_copy_text(c, s, 0);
}


/*
 * One row of the scratch store as a line of its table's COPY, in
 * du_pg_tables' column order; a new kind ends the COPY of the one before
 * and starts its own.
 */

static int
du_pg_copy_row(void *data, const ds_row_t *row)
{
    char                  sql[1024];
    PGresult             *res;
    du_pg_copy_t         *c = data;
    const ds_instance_t  *inst;
    const ds_activity_t  *act;
    const ds_erec_t      *ent;

    if ((int) row->kind != c->kind) {
        if (c->kind != -1 && du_pg_copy_end(c) != 0) {
            return -1;
        }

        snprintf(sql, sizeof(sql), "COPY du_%s (%s) FROM STDIN",
                 du_pg_tables[row->kind].table,
                 du_pg_table((int) row->kind)->columns);

        res = PQexec(c->conn, sql);

        if (PQresultStatus(res) != PGRES_COPY_IN) {
            du_error("import: %s", PQerrorMessage(c->conn));
            PQclear(res);
            c->failed = 1;
            return -1;
        }

        PQclear(res);
        c->kind = (int) row->kind;
    }

    c->col = 0;
    du_pg_copy_text(c, row->id, 0);

    switch (row->kind) {

    case DS_ROW_INSTANCE:
        inst = &row->inst;
        du_pg_copy_int(c, inst->status);
        du_pg_copy_int(c, inst->suspended_from);
        du_pg_copy_int(c, inst->done_status);
        du_pg_copy_int(c, inst->created);
        du_pg_copy_int(c, inst->updated);
        du_pg_copy_int(c, (int64_t) inst->execution);
        du_pg_copy_int(c, inst->ready_at);
        du_pg_copy_int(c, inst->lease_expires);
        du_pg_copy_int(c, (int64_t) inst->lease_upto);
        du_pg_copy_int(c, (int64_t) inst->inbox_seq);
        du_pg_copy_int(c, inst->parent_task);
        du_pg_copy_int(c, (int64_t) inst->parent_execution);
        du_pg_copy_int(c, inst->episode_at);
        du_pg_copy_int(c, (int64_t) inst->done_digest);
        du_pg_copy_int(c, inst->scheduled_start);
        du_pg_copy_lease(c, inst->lease);
        du_pg_copy_lease(c, inst->done_lease);
        du_pg_copy_text(c, inst->name, 0);
        du_pg_copy_text(c, inst->input, 1);
        du_pg_copy_text(c, inst->output, 1);
        du_pg_copy_text(c, inst->custom_status, 1);
        du_pg_copy_text(c, inst->parent_id, 1);
        du_pg_copy_text(c, inst->version, 1);
        du_pg_copy_text(c, inst->tags, 1);
        du_pg_copy_text(c, inst->failure, 1);

        if (du_pg_version >= 9) {
            du_pg_copy_nint(c, inst->parent_created);
        }

        break;

    case DS_ROW_HISTORY:
    case DS_ROW_INBOX:
    case DS_ROW_ENTITY_OP:
        du_pg_copy_int(c, row->n);
        du_pg_copy_text(c, row->text, 0);
        break;

    case DS_ROW_ACTIVITY:
        act = &row->act;

        if (du_pg_version < 8 && (act->version.len || act->tags.len)) {
            du_error("import: the activity %lld of instance \"%.*s\" has "
                     "a version or tags, which the database's schema "
                     "version %d has no columns for: they need version 8 "
                     "(durable schema upgrade); nothing imported",
                     (long long) row->n, (int) row->id.len, row->id.data,
                     du_pg_version);
            c->failed = 1;
            return -1;
        }

        du_pg_copy_int(c, row->n);
        du_pg_copy_text(c, act->done ? du_pg_true : du_pg_false, 0);
        du_pg_copy_int(c, act->ready_at);
        du_pg_copy_int(c, act->lease_expires);
        du_pg_copy_int(c, (int64_t) act->done_digest);
        du_pg_copy_lease(c, act->lease);
        du_pg_copy_text(c, act->name, 1);
        du_pg_copy_text(c, act->input, 1);

        if (du_pg_version >= 8) {
            du_pg_copy_text(c, act->version, 1);
            du_pg_copy_text(c, act->tags, 1);
        }

        break;

    case DS_ROW_TIMER:
        du_pg_copy_int(c, row->n);
        du_pg_copy_int(c, row->due);
        du_pg_copy_int(c, row->fire_at);
        du_pg_copy_text(c, row->text, 1);
        break;

    default: /* DS_ROW_ENTITY */
        ent = &row->ent;
        du_pg_copy_text(c, ent->has_state ? du_pg_true : du_pg_false, 0);
        du_pg_copy_int(c, ent->last_op);
        du_pg_copy_int(c, ent->ready_at);
        du_pg_copy_int(c, ent->lease_expires);
        du_pg_copy_int(c, (int64_t) ent->lease_upto);
        du_pg_copy_int(c, (int64_t) ent->op_seq);
        du_pg_copy_int(c, (int64_t) ent->done_digest);
        du_pg_copy_lease(c, ent->lease);
        du_pg_copy_lease(c, ent->done_lease);
        du_pg_copy_text(c, ent->state, 1);
        du_pg_copy_text(c, ent->owner, 1);
        du_pg_copy_text(c, ent->cs, 1);
        break;
    }

    du_pg_copy_add(c, "\n", 1);
    c->rows++;

    return c->failed ? -1 : 0;
}


static int
du_pg_copy_end(du_pg_copy_t *c)
{
    PGresult  *res;

    if (!c->failed && c->len
        && PQputCopyData(c->conn, c->buf, (int) c->len) != 1)
    {
        c->failed = 1;
    }

    c->len = 0;

    if (PQputCopyEnd(c->conn, c->failed ? "the import failed" : NULL) != 1) {
        c->failed = 1;
    }

    while ((res = PQgetResult(c->conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && !c->failed) {
            du_error("import: %s", PQerrorMessage(c->conn));
            c->failed = 1;
        }

        PQclear(res);
    }

    c->kind = -1;

    return c->failed ? -1 : 0;
}


/*
 * The rows of the scratch store's hub into empty staging tables by COPY,
 * then into the tables with their partitions, in the caller's
 * transaction.
 */

static int
du_pg_copy_hub(PGconn *conn, ds_env_t *env, const char *hub)
{
    int           rc, kind;
    char          sql[2048];
    ds_str_t      h;
    PGresult     *res;
    ds_txn_t     *txn;
    du_pg_copy_t  c;
    const char   *params[2];
    char          parts[16];

    for (kind = 0; kind < DS_ROW_KINDS; kind++) {
        snprintf(sql, sizeof(sql), "CREATE TEMP TABLE du_%s ON COMMIT DROP"
                 " AS SELECT %s FROM durable.%s WITH NO DATA",
                 du_pg_tables[kind].table, du_pg_table(kind)->columns,
                 du_pg_tables[kind].table);

        rc = du_pg_exec(conn, "import: a staging table", sql, NULL);
        if (rc != DU_EXIT_OK) {
            return rc;
        }
    }

    if (ds_txn_begin(env, NULL, 0, &txn) != DS_OK) {
        du_error("scratch store: cannot begin a transaction");
        return DU_EXIT_UNAVAILABLE;
    }

    memset(&c, 0, sizeof(du_pg_copy_t));
    c.conn = conn;
    c.kind = -1;
    c.buf = malloc(DU_PG_COPY_BUF);

    if (c.buf == NULL) {
        du_error("out of memory");
        ds_txn_abort(txn);
        return DU_EXIT_FAILED;
    }

    h.data = hub;
    h.len = strlen(hub);

    rc = ds_rows_walk(txn, h, du_pg_copy_row, &c);

    if (c.kind != -1 && du_pg_copy_end(&c) != 0) {
        rc = DS_ERROR;
    }

    ds_txn_abort(txn);
    free(c.buf);

    if (rc != DS_OK) {
        if (!c.failed) {
            du_error("import: reading the scratch store failed");
        }

        return DU_EXIT_FAILED;
    }

    /* the hub's partitions: its own, or the default for a new hub */

    res = PQexecParams(conn, "SELECT durable.hub_partitions($1, true)", 1,
                       NULL, &hub, NULL, NULL, 0);

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        du_error("import: %s", PQerrorMessage(conn));
        PQclear(res);
        return DU_EXIT_FAILED;
    }

    snprintf(parts, sizeof(parts), "%s", PQgetvalue(res, 0, 0));
    params[0] = hub;
    params[1] = parts;
    rc = DU_EXIT_OK;

    for (kind = 0; rc == DU_EXIT_OK && kind < DS_ROW_KINDS; kind++) {
        snprintf(sql, sizeof(sql), "INSERT INTO durable.%s (hub, partition,"
                 " %s) SELECT $1, durable.partition_of($2::integer, id), %s"
                 " FROM du_%s", du_pg_tables[kind].table,
                 du_pg_table(kind)->columns, du_pg_table(kind)->columns,
                 du_pg_tables[kind].table);

        PQclear(res);
        res = PQexecParams(conn, sql, 2, NULL, params, NULL, NULL, 0);

        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            du_error("import: %s", PQerrorMessage(conn));
            rc = DU_EXIT_FAILED;
        }
    }

    PQclear(res);

    return rc;
}


int
du_pg_import(const char *conninfo, FILE *in, const char *hub_opt,
    size_t map_size, char *hub_buf, size_t *records)
{
    int            rc;
    PGconn        *conn;
    PGresult      *res;
    du_scratch_t   s;

    rc = du_pg_connect(conninfo, &conn);
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    /* the lines into a scratch store first: checked as an LMDB import */

    rc = du_scratch_open(&s);
    if (rc != DU_EXIT_OK) {
        PQfinish(conn);
        return rc;
    }

    ds_env_close(s.env);
    s.env = NULL;

    rc = du_import_file(s.dir, in, hub_opt,
                        map_size ? map_size : DU_PG_SCRATCH_MAP, hub_buf,
                        records);
    if (rc != DU_EXIT_OK) {
        goto done;
    }

    rc = du_offline_open(s.dir, 0, 0, &s.env);
    if (rc != DU_EXIT_OK) {
        goto done;
    }

    rc = du_pg_exec(conn, "beginning a transaction", "BEGIN", NULL);
    if (rc != DU_EXIT_OK) {
        goto done;
    }

    /*
     * The hub's row, made if new and locked before the hub is found
     * empty: a start of a new hub's first instance in nginx inserts the
     * same row (durable.hub_partitions()), so it waits for this
     * transaction, then finds the imported hub; another import or a
     * delete-task-hub of the hub waits for the lock.
     */

    rc = du_pg_exec(conn, "import: the hub's row",
                    "SELECT durable.hub_partitions($1, true)", hub_buf);

    if (rc == DU_EXIT_OK) {
        rc = du_pg_exec(conn, "import: locking the hub",
                        "SELECT 1 FROM durable.hubs WHERE hub = $1"
                        " FOR UPDATE", hub_buf);
    }

    if (rc != DU_EXIT_OK) {
        PQclear(PQexec(conn, "ROLLBACK"));
        goto done;
    }

    /* the hub must be empty */

    res = PQexecParams(conn,
        "SELECT EXISTS (SELECT 1 FROM durable.instances WHERE hub = $1)"
        " OR EXISTS (SELECT 1 FROM durable.entities WHERE hub = $1)",
        1, NULL, (const char *const *) &hub_buf, NULL, NULL, 0);

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        du_error("import: %s", PQerrorMessage(conn));
        rc = DU_EXIT_UNAVAILABLE;

    } else if (PQgetvalue(res, 0, 0)[0] == 't') {
        du_error("import: hub \"%s\" has records already; durable "
                 "delete-task-hub removes them", hub_buf);
        rc = DU_EXIT_FAILED;
    }

    PQclear(res);

    if (rc == DU_EXIT_OK) {
        rc = du_pg_copy_hub(conn, s.env, hub_buf);
    }

    /* workers and waiters on any host learn of the imported work */

    if (rc == DU_EXIT_OK) {
        rc = du_pg_exec(conn, "import", "SELECT durable.wake($1)", hub_buf);
    }

    if (rc == DU_EXIT_OK) {
        rc = du_pg_exec(conn, "import: the commit", "COMMIT", NULL);

    } else {
        PQclear(PQexec(conn, "ROLLBACK"));
    }

done:

    du_scratch_close(&s);
    PQfinish(conn);

    return rc;
}


/* delete-task-hub -------------------------------------------------------- */

int
du_pg_delete_hub(const char *conninfo, ds_str_t hub, size_t *deleted)
{
    int          rc, kind;
    char         sql[256];
    PGconn      *conn;
    PGresult    *res;

    rc = du_pg_connect(conninfo, &conn);
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    *deleted = 0;

    /* one transaction: another host sees the hub whole or gone */

    rc = du_pg_exec(conn, "beginning a transaction", "BEGIN", NULL);

    for (kind = 0; rc == DU_EXIT_OK && kind < DS_ROW_KINDS; kind++) {
        snprintf(sql, sizeof(sql), "DELETE FROM durable.%s WHERE hub = $1",
                 du_pg_tables[kind].table);

        res = PQexecParams(conn, sql, 1, NULL, &hub.data, NULL, NULL, 0);

        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            du_error("deleting failed: %s", PQerrorMessage(conn));
            rc = DU_EXIT_UNAVAILABLE;

        } else {
            *deleted += strtoul(PQcmdTuples(res), NULL, 10);
        }

        PQclear(res);
    }

    if (rc == DU_EXIT_OK) {
        rc = du_pg_exec(conn, "deleting the hub",
                        "DELETE FROM durable.hubs WHERE hub = $1", hub.data);
    }

    if (rc == DU_EXIT_OK) {
        rc = du_pg_exec(conn, "the commit", "COMMIT", NULL);
    }

    PQfinish(conn);

    return rc;
}
