
/*
 * Copyright (C) ngx_durable authors
 *
 * durable schema init|upgrade|version: the PostgreSQL schema of a task
 * hub store (docs/postgres.md), created and upgraded only here, never by
 * nginx at request time. The SQL is store/pg/, carried in the binary
 * (store/pg/embed.sh). Blocking libpq: this is a command-line tool.
 *
 * init and upgrade run in one transaction under an advisory lock, so two
 * operators (or two deploy scripts) never apply a version twice; the
 * functions are created again by both. upgrade --to N stops at version N
 * and creates the functions all the same, which serve every version
 * from DSI_PG_SCHEMA_MIN: so a database gets the functions of a new
 * release before the modules of the old one are replaced, at a version
 * they still serve (docs/postgres.md, "Several hosts"). Hence no --to
 * below DSI_PG_SCHEMA_MIN, and no upgrade over functions of a higher
 * level than DSI_PG_FUNCTIONS, a newer release's: theirs would be
 * replaced by older ones and the modules that need them would refuse
 * the database.
 *
 * A version that alters a table waits for the transactions using it, and
 * every query of that table waits behind the upgrade's queued lock: the
 * waits are bounded by DU_PG_LOCK_TIMEOUT, past which the upgrade gives
 * up, changes nothing and exits DU_EXIT_BUSY.
 */


#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "durable.h"
#include "pg/ds_pg_schema.h"


/* pg_advisory_xact_lock() key of schema changes: "durable" in ASCII */
#define DU_PG_LOCK          "110852352189036"

/*
 * the longest wait for a table lock: long enough for the module's
 * transactions (milliseconds) to end, short enough that the requests
 * queued behind the upgrade are answered within a store's default
 * timeout=5s
 */
#define DU_PG_LOCK_TIMEOUT  "3s"

/* SQLSTATEs of a lock not had: lock_not_available, deadlock_detected */
#define DU_PG_LOCK_TIMEDOUT "55P03"
#define DU_PG_DEADLOCK      "40P01"


typedef struct {
    const char         *action;
    const char         *conninfo;
    long                partitions;     /* 0: the schema's default */
    int                 to;             /* 0: the latest version */
} du_schema_args_t;


static int du_schema(int argc, char **argv);
static int du_schema_parse(int argc, char **argv, du_schema_args_t *a);
static int du_schema_connect(const char *conninfo, PGconn **conn);
static int du_schema_version_of(PGconn *conn, int *version);
static int du_schema_level_of(PGconn *conn, int *level);
static int du_schema_apply(PGconn *conn, const du_pg_sql_t *sql);
static int du_schema_exec(PGconn *conn, const char *what, const char *sql);
static int du_schema_change(PGconn *conn, const du_schema_args_t *a,
    int init, int *from, int *to);
static int du_schema_latest(void);


const du_command_t  du_cmd_schema = {
    "schema", du_schema,
    "create, upgrade or show the schema of a PostgreSQL store",
    "  init                  create the schema in an empty database\n"
    "  upgrade               bring the schema to this tool's version\n"
    "  --to N                upgrade: to version N only, from the\n"
    "                        database's up to this tool's, and not below\n"
    "                        the oldest its functions serve; the\n"
    "                        functions are this tool's all the same\n"
    "  version               show the database's and this tool's version\n"
    "                        and level of the functions\n"
    "  --conninfo CONNINFO   the database, as libpq takes it (required;\n"
    "                        PG* variables fill what it leaves out)\n"
    "  --partitions N        init: partitions of each new hub, 1 to 4096\n"
    "                        (default 16)\n"
    "Exit status 1: init of a database that has the schema, upgrade of\n"
    "one that has none or a newer one (or newer than --to) or newer\n"
    "functions, version when the versions or the levels differ.\n"
    "Exit status 5 (busy): another transaction held a table the change\n"
    "needs for over " DU_PG_LOCK_TIMEOUT "; nothing was changed: retry.\n"
};


static int
du_schema(int argc, char **argv)
{
    int               rc, version, level, from, to;
    PGconn           *conn;
    du_schema_args_t  a;

    if (du_wants_help(argc, argv, &du_cmd_schema)) {
        return DU_EXIT_OK;
    }

    rc = du_schema_parse(argc, argv, &a);
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    rc = du_schema_connect(a.conninfo, &conn);
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    if (strcmp(a.action, "version") == 0) {
        level = 0;
        rc = du_schema_version_of(conn, &version);

        if (rc == DU_EXIT_OK && version != 0) {
            rc = du_schema_level_of(conn, &level);
        }

        if (rc == DU_EXIT_OK) {
            if (du_json) {
                printf("{\"version\":%d,\"level\":%d,\"tool\":%d,"
                       "\"tool_level\":%d}\n", version, level,
                       du_schema_latest(), DSI_PG_FUNCTIONS);

            } else {
                printf("schema version %d, functions level %d "
                       "(this tool: %d, level %d)\n", version, level,
                       du_schema_latest(), DSI_PG_FUNCTIONS);
            }

            rc = version == du_schema_latest() && level == DSI_PG_FUNCTIONS
                 ? DU_EXIT_OK : DU_EXIT_FAILED;
        }

    } else {
        rc = du_schema_change(conn, &a, strcmp(a.action, "init") == 0,
                              &from, &to);

        if (rc == DU_EXIT_OK) {
            if (du_json) {
                printf("{\"from\":%d,\"version\":%d}\n", from, to);

            } else if (from == du_schema_latest()) {
                printf("schema version %d: up to date, functions created "
                       "again\n", from);

            } else if (from == to) {
                printf("schema version %d kept (this tool's: %d), "
                       "functions created again\n", from,
                       du_schema_latest());

            } else {
                printf("schema version %d, from %d\n", to, from);
            }
        }
    }

    PQfinish(conn);

    return rc;
}


static int
du_schema_parse(int argc, char **argv, du_schema_args_t *a)
{
    int          i, rc;
    long         to;
    char        *end;
    const char  *v;

    memset(a, 0, sizeof(du_schema_args_t));

    for (i = 1; i < argc; i++) {

        if (du_flag(argv, i, "--json")) {
            continue;
        }

        if ((rc = du_opt(argc, argv, &i, "--conninfo", &a->conninfo)) != 0) {
            if (rc < 0) {
                return du_usage_error(&du_cmd_schema,
                                      "--conninfo needs a value");
            }

            continue;
        }

        if ((rc = du_opt(argc, argv, &i, "--partitions", &v)) != 0) {
            a->partitions = rc > 0 ? strtol(v, &end, 10) : 0;

            if (rc < 0 || *v < '0' || *v > '9' || *end != '\0'
                || a->partitions < 1 || a->partitions > 4096)
            {
                return du_usage_error(&du_cmd_schema,
                                      "--partitions needs a number from 1 "
                                      "to 4096");
            }

            continue;
        }

        if ((rc = du_opt(argc, argv, &i, "--to", &v)) != 0) {
            to = rc > 0 ? strtol(v, &end, 10) : 0;

            /* this tool's functions do not fit the tables of older ones */
            if (rc < 0 || *v < '0' || *v > '9' || *end != '\0'
                || to < DSI_PG_SCHEMA_MIN || to > du_schema_latest())
            {
                return du_usage_error(&du_cmd_schema,
                                      "--to needs a version from %d, the "
                                      "oldest this tool's functions serve, "
                                      "to %d, this tool's",
                                      DSI_PG_SCHEMA_MIN, du_schema_latest());
            }

            a->to = (int) to;
            continue;
        }

        if (argv[i][0] == '-' || a->action != NULL) {
            return du_usage_error(&du_cmd_schema, "unexpected \"%s\"",
                                  argv[i]);
        }

        a->action = argv[i];
    }

    if (a->action == NULL
        || (strcmp(a->action, "init") != 0
            && strcmp(a->action, "upgrade") != 0
            && strcmp(a->action, "version") != 0))
    {
        return du_usage_error(&du_cmd_schema,
                              "say init, upgrade or version");
    }

    if (a->conninfo == NULL) {
        return du_usage_error(&du_cmd_schema, "--conninfo is required");
    }

    if (a->partitions && strcmp(a->action, "init") != 0) {
        return du_usage_error(&du_cmd_schema,
                              "--partitions is only for init");
    }

    if (a->to && strcmp(a->action, "upgrade") != 0) {
        return du_usage_error(&du_cmd_schema, "--to is only for upgrade");
    }

    return DU_EXIT_OK;
}


static int
du_schema_connect(const char *conninfo, PGconn **conn)
{
    *conn = PQconnectdb(conninfo);

    if (*conn == NULL || PQstatus(*conn) != CONNECTION_OK) {
        du_error("cannot connect to the database: %s",
                 *conn ? PQerrorMessage(*conn) : "out of memory");
        PQfinish(*conn);
        return DU_EXIT_UNAVAILABLE;
    }

    /* CREATE OR REPLACE and IF EXISTS talk at NOTICE level */
    return du_schema_exec(*conn, "a session setting",
                          "SET client_min_messages = warning");
}


/* 0 when the database has no schema */

static int
du_schema_version_of(PGconn *conn, int *version)
{
    int        rc;
    PGresult  *res;

    res = PQexec(conn,
                 "SELECT CASE WHEN to_regclass('durable.schema_version') "
                 "IS NULL THEN -1 END");

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        du_error("cannot read the schema version: %s",
                 PQerrorMessage(conn));
        PQclear(res);
        return DU_EXIT_UNAVAILABLE;
    }

    rc = PQgetisnull(res, 0, 0);
    PQclear(res);

    if (!rc) {
        *version = 0;
        return DU_EXIT_OK;
    }

    res = PQexec(conn, "SELECT coalesce(max(version), 0) "
                       "FROM durable.schema_version");

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        du_error("cannot read the schema version: %s",
                 PQerrorMessage(conn));
        PQclear(res);
        return DU_EXIT_UNAVAILABLE;
    }

    *version = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);

    return DU_EXIT_OK;
}


/*
 * durable.functions_level(), 0 when there is none (the functions of a
 * release before it); the database has the schema
 */

static int
du_schema_level_of(PGconn *conn, int *level)
{
    int        none;
    PGresult  *res;

    /* looked for first: a call of a missing function fails the query */
    res = PQexec(conn, "SELECT to_regprocedure('durable.functions_level()')"
                       " IS NULL");

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        du_error("cannot read the functions' level: %s",
                 PQerrorMessage(conn));
        PQclear(res);
        return DU_EXIT_UNAVAILABLE;
    }

    none = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);

    if (none) {
        *level = 0;
        return DU_EXIT_OK;
    }

    res = PQexec(conn, "SELECT durable.functions_level()");

    /* a query that fails is answered as the one above */
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        du_error("cannot read the functions' level: %s",
                 PQerrorMessage(conn));
        PQclear(res);
        return DU_EXIT_UNAVAILABLE;
    }

    if (PQgetisnull(res, 0, 0)) {
        du_error("durable.functions_level() answers NULL");
        PQclear(res);
        return DU_EXIT_FAILED;
    }

    *level = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);

    return DU_EXIT_OK;
}


/*
 * init (the database must have no schema) or upgrade (it must have one,
 * not newer than this tool, nor than --to, with functions of no higher
 * level than this tool's): the missing versions in order up to --to or
 * this tool's, then the functions, in one transaction; *from is the
 * version found, *to the one made
 */

static int
du_schema_change(PGconn *conn, const du_schema_args_t *a, int init,
    int *from, int *to)
{
    int          rc, i, level;
    char         sql[128];
    const char  *rollback;

    rc = du_schema_exec(conn, "beginning a transaction", "BEGIN");
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    rollback = "ROLLBACK";
    *to = a->to ? a->to : du_schema_latest();

    rc = du_schema_exec(conn, "taking the schema lock",
                        "SELECT pg_advisory_xact_lock(" DU_PG_LOCK ")");
    if (rc != DU_EXIT_OK) {
        goto failed;
    }

    /* after the advisory lock: another upgrade is waited for in full */
    rc = du_schema_exec(conn, "setting the lock timeout",
                        "SET LOCAL lock_timeout = '" DU_PG_LOCK_TIMEOUT "'");
    if (rc != DU_EXIT_OK) {
        goto failed;
    }

    rc = du_schema_version_of(conn, from);
    if (rc != DU_EXIT_OK) {
        goto failed;
    }

    if (init && *from != 0) {
        du_error("the database has the schema already (version %d); "
                 "durable schema upgrade brings it up to date", *from);
        rc = DU_EXIT_FAILED;
        goto failed;
    }

    if (!init && *from == 0) {
        du_error("the database has no schema: durable schema init "
                 "creates it");
        rc = DU_EXIT_FAILED;
        goto failed;
    }

    if (*from > du_schema_latest()) {
        du_error("the schema is version %d, newer than this tool's %d: "
                 "upgrade the tool", *from, du_schema_latest());
        rc = DU_EXIT_FAILED;
        goto failed;
    }

    if (!init) {
        rc = du_schema_level_of(conn, &level);
        if (rc != DU_EXIT_OK) {
            goto failed;
        }

        if (level > DSI_PG_FUNCTIONS) {
            du_error("the database's functions are level %d, newer than "
                     "this tool's %d: it would replace them with older "
                     "ones; run the newer release's durable schema "
                     "upgrade; nothing was changed", level,
                     DSI_PG_FUNCTIONS);
            rc = DU_EXIT_FAILED;
            goto failed;
        }
    }

    if (*from > *to) {
        du_error("the schema is version %d, newer than --to %d: an "
                 "upgrade never takes a version back; nothing was changed",
                 *from, *to);
        rc = DU_EXIT_FAILED;
        goto failed;
    }

    for (i = 0; du_pg_migrations[i].name != NULL; i++) {
        if (du_pg_migrations[i].version <= *from
            || du_pg_migrations[i].version > *to)
        {
            continue;
        }

        rc = du_schema_apply(conn, &du_pg_migrations[i]);
        if (rc != DU_EXIT_OK) {
            goto failed;
        }
    }

    rc = du_schema_apply(conn, &du_pg_functions);
    if (rc != DU_EXIT_OK) {
        goto failed;
    }

    if (a->partitions) {
        snprintf(sql, sizeof(sql), "UPDATE durable.settings SET value = "
                 "'%ld' WHERE name = 'partitions'", a->partitions);

        rc = du_schema_exec(conn, "setting the partitions", sql);
        if (rc != DU_EXIT_OK) {
            goto failed;
        }
    }

    rollback = NULL;

    return du_schema_exec(conn, "committing", "COMMIT");

failed:

    if (rollback != NULL) {
        PQclear(PQexec(conn, rollback));
    }

    return rc;
}


/* one file's statements, sent as one text */

static int
du_schema_apply(PGconn *conn, const du_pg_sql_t *sql)
{
    int     rc;
    char   *text, *p;
    size_t  i, len;

    len = 1;

    for (i = 0; sql->lines[i] != NULL; i++) {
        len += strlen(sql->lines[i]);
    }

    text = malloc(len);
    if (text == NULL) {
        du_error("out of memory");
        return DU_EXIT_FAILED;
    }

    p = text;

    for (i = 0; sql->lines[i] != NULL; i++) {
        len = strlen(sql->lines[i]);
        memcpy(p, sql->lines[i], len);
        p += len;
    }

    *p = '\0';

    rc = du_schema_exec(conn, sql->name, text);

    free(text);

    return rc;
}


static int
du_schema_exec(PGconn *conn, const char *what, const char *sql)
{
    int              busy;
    PGresult        *res;
    const char      *state;
    ExecStatusType   st;

    res = PQexec(conn, sql);
    st = PQresultStatus(res);

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        PQclear(res);
        return DU_EXIT_OK;
    }

    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    busy = state != NULL && (strcmp(state, DU_PG_LOCK_TIMEDOUT) == 0
                             || strcmp(state, DU_PG_DEADLOCK) == 0);
    PQclear(res);

    if (busy) {
        du_error("database busy: %s: another transaction holds a table "
                 "it needs (waited up to " DU_PG_LOCK_TIMEOUT "); nothing "
                 "was changed, retry: %s", what, PQerrorMessage(conn));
        return DU_EXIT_BUSY;
    }

    du_error("%s: %s", what, PQerrorMessage(conn));

    return PQstatus(conn) == CONNECTION_OK ? DU_EXIT_FAILED
                                           : DU_EXIT_UNAVAILABLE;
}


static int
du_schema_latest(void)
{
    int  i, v;

    v = 0;

    for (i = 0; du_pg_migrations[i].name != NULL; i++) {
        v = du_pg_migrations[i].version;
    }

    return v;
}
