
/*
 * Copyright (C) ngx_durable authors
 *
 * The PostgreSQL connections of ds_pg_conn.c against the cluster of
 * util/pg.sh (run.sh runs this with a database made by durable schema
 * init): conninfo checks (services refused, the environment's hosts
 * checked) and resolution, a batch as one transaction, a failed batch that
 * the next one recovers from, the server's bounds of a session
 * (statement_timeout, a failed transaction ended at once), reads that fail
 * alone (a failed prepare among them), a connection lost in the middle of
 * a batch, a listener woken once a batch, TCP keepalive on the socket
 * (ours, or the conninfo's), and, with the server stopped (SIGSTOP), calls
 * that go on returning instead of waiting.
 *
 *   t_pg_conn CONNINFO POSTMASTER_PID_FILE
 *
 * CONNINFO must give hostaddr (or a socket directory). A hang is a
 * failure: alarm() ends the test.
 */


#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "ds_pg.h"


#define T_WATCHDOG_S    120
#define T_POLL_MS       100


static unsigned long  t_passed, t_failed;


#define T(c)  t_check((c) != 0, __LINE__, #c)


static void
t_check(int ok, int line, const char *expr)
{
    if (ok) {
        t_passed++;
        return;
    }

    t_failed++;
    printf("not ok - line %d: %s\n", line, expr);
}


/*
 * Steps c, waiting in poll() for what it wants, at most polls times:
 * the loop a host runs. WAIT when it is not done by then.
 */

static dsi_pg_step_e
t_drive(dsi_pg_conn_t *c, int polls)
{
    short          events;
    unsigned       wants;
    dsi_pg_step_e  st;
    struct pollfd  pfd;

    for ( ;; ) {
        st = dsi_pg_conn_step(c);

        if (st != DSI_PG_WAIT || polls-- == 0) {
            return st;
        }

        wants = dsi_pg_conn_wants(c);
        events = 0;

        if (wants & DSI_PG_WANT_READ) {
            events |= POLLIN;
        }

        if (wants & DSI_PG_WANT_WRITE) {
            events |= POLLOUT;
        }

        pfd.fd = dsi_pg_conn_fd(c);
        pfd.events = events;
        pfd.revents = 0;

        (void) poll(&pfd, 1, T_POLL_MS);
    }
}


/*
 * A connection to conninfo, started and driven to DSI_PG_READY; NULL,
 * the check failed, when it could not be made
 */

static dsi_pg_conn_t *
t_conn_ready(const char *conninfo)
{
    char            err[256];
    dsi_pg_conn_t  *c;
    dsi_pg_step_e   st;

    c = dsi_pg_conn_start(conninfo, 0, err, sizeof(err));
    T(c != NULL);
    if (c == NULL) {
        printf("# %s\n", err);
        return NULL;
    }

    st = t_drive(c, 100);
    T(st == DSI_PG_READY);

    if (st != DSI_PG_READY) {
        printf("# %s\n", dsi_pg_conn_error(c));
        dsi_pg_conn_close(c);
        return NULL;
    }

    return c;
}


static const char *
t_value(const dsi_pg_conn_t *c, size_t i)
{
    PGresult  *res;

    res = dsi_pg_conn_result(c, i);

    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) < 1) {
        return "(no row)";
    }

    return PQgetvalue(res, 0, 0);
}


/* environments of the worker processes: "NAME=value", NULL last */

static const char *const  t_env_name[] = {
    "TZ=UTC", "PGHOST=db.example", NULL
};
static const char *const  t_env_addr[] = {
    "PGHOST=db.example", "PGHOSTADDR=10.0.0.1", NULL
};
static const char *const  t_env_socket[] = {
    "PGHOSTX=db.example", "PGHOST=/var/run/postgresql", NULL
};
static const char *const  t_env_service[] = {
    "PGSERVICE=durable", NULL
};
static const char *const  t_env_servicefile[] = {
    "PGSERVICEFILE=/etc/pg_service.conf", NULL
};


static void
t_conninfo(void)
{
    char  *out, err[256];

    /* names are refused; addresses, sockets and hostaddr are not */
    T(dsi_pg_conninfo_check("host=db.example port=5432", err,
                            sizeof(err)) == -1);
    T(strstr(err, "db.example") != NULL);
    T(dsi_pg_conninfo_check("host=127.0.0.1", err, sizeof(err)) == 0);
    T(dsi_pg_conninfo_check("host=::1", err, sizeof(err)) == 0);
    T(dsi_pg_conninfo_check("host=/var/run/postgresql", err,
                            sizeof(err)) == 0);
    T(dsi_pg_conninfo_check("host=db hostaddr=10.0.0.1", err,
                            sizeof(err)) == 0);
    T(dsi_pg_conninfo_check("host=/tmp,db hostaddr=,10.0.0.1", err,
                            sizeof(err)) == 0);
    T(dsi_pg_conninfo_check("host=/tmp,db hostaddr=10.0.0.2,", err,
                            sizeof(err)) == -1);
    T(dsi_pg_conninfo_check("postgresql://db.example/x", err,
                            sizeof(err)) == -1);
    T(dsi_pg_conninfo_check("dbname=x", err, sizeof(err)) == 0);
    T(dsi_pg_conninfo_check("nonsense", err, sizeof(err)) == -1);
    T(dsi_pg_conn_start("host=db.example", 0, err, sizeof(err)) == NULL);

    /*
     * a service: libpq reads the service file when it connects, and
     * PQconninfoParse() does not show the host it may give
     */
    T(dsi_pg_conninfo_check("service=durable dbname=x", err,
                            sizeof(err)) == -1);
    T(strstr(err, "service=") != NULL);
    /* a libpq without servicefile= (15) refuses it as bad conninfo */
    T(dsi_pg_conninfo_check("servicefile=/etc/pg_service.conf "
                            "hostaddr=10.0.0.1", err, sizeof(err)) == -1);
    T(strstr(err, "servicefile") != NULL);
    T(dsi_pg_conn_start("service=durable", 0, err, sizeof(err)) == NULL);
    T(dsi_pg_conninfo_resolve("service=durable", &out, err,
                              sizeof(err)) == -1);

    /* what libpq takes from the environment where the conninfo is silent */
    T(dsi_pg_conninfo_check_env("dbname=x", (char **) t_env_name, err,
                                sizeof(err)) == -1);
    T(strstr(err, "db.example") != NULL && strstr(err, "PGHOST") != NULL);
    T(dsi_pg_conninfo_check_env("host=10.0.0.1 dbname=x",
                                (char **) t_env_name, err, sizeof(err))
      == 0);
    T(dsi_pg_conninfo_check_env("dbname=x", (char **) t_env_addr, err,
                                sizeof(err)) == 0);
    T(dsi_pg_conninfo_check_env("dbname=x", (char **) t_env_socket, err,
                                sizeof(err)) == 0);
    T(dsi_pg_conninfo_check_env("dbname=x", (char **) t_env_service, err,
                                sizeof(err)) == -1);
    T(strstr(err, "PGSERVICE ") != NULL);
    T(dsi_pg_conninfo_check_env("hostaddr=10.0.0.1",
                                (char **) t_env_servicefile, err,
                                sizeof(err)) == -1);
    T(strstr(err, "PGSERVICEFILE") != NULL);
    T(dsi_pg_conninfo_check_env("dbname=x", NULL, err, sizeof(err)) == 0);

    /* resolved at configuration time: then nothing is left to look up */
    T(dsi_pg_conninfo_resolve("host=localhost port=5 dbname=x "
                              "target_session_attrs=read-write", &out, err,
                              sizeof(err)) == 0);
    if (out != NULL) {
        T(strstr(out, "hostaddr='") != NULL);
        T(strstr(out, "127.0.0.1") != NULL || strstr(out, "::1") != NULL);
        T(strstr(out, "dbname='x'") != NULL);
        T(strstr(out, "target_session_attrs='read-write'") != NULL);
        T(dsi_pg_conninfo_check(out, err, sizeof(err)) == 0);
        free(out);
    }

    T(dsi_pg_conninfo_resolve("postgresql://localhost:5,127.0.0.1:6/x",
                              &out, err, sizeof(err)) == 0);
    if (out != NULL) {
        T(strstr(out, "port='5,") != NULL);
        T(strstr(out, ",6'") != NULL);
        T(dsi_pg_conninfo_check(out, err, sizeof(err)) == 0);
        free(out);
    }

    T(dsi_pg_conninfo_resolve("host=/tmp,localhost port=5", &out, err,
                              sizeof(err)) == 0);
    if (out != NULL) {
        T(strstr(out, "host='/tmp,localhost") != NULL);
        T(strstr(out, "hostaddr=',") != NULL);
        T(dsi_pg_conninfo_check(out, err, sizeof(err)) == 0);
        free(out);
    }

    T(dsi_pg_conninfo_resolve("host=name.invalid", &out, err,
                              sizeof(err)) == -1);
    T(strstr(err, "name.invalid") != NULL);
    T(dsi_pg_conninfo_resolve("host=a,b port=1,2,3", &out, err,
                              sizeof(err)) == -1);
}


static void
t_batches(const char *conninfo)
{
    dsi_pg_conn_t  *c;
    dsi_pg_stmt_t   stmts[3];

    static const char *const  start[] = {
        "hub", "c1", "N", NULL, "\"Name\":\"N\""
    };
    static const char *const  again[] = {
        "hub", "c1", "N", NULL, ""
    };
    static const char *const  event[] = {
        "hub", "missing", "\"Name\":\"e\""
    };
    static const char *const  after[] = {
        "hub", "c2", "N", NULL, ""
    };
    static const char *const  status[] = {
        "hub", "c2"
    };

    c = t_conn_ready(conninfo);
    if (c == NULL) {
        return;
    }

    /* three operations, one transaction, one round trip */
    stmts[0].sql = "SELECT rc FROM durable.start($1, $2, $3, $4, $5)";
    stmts[0].nparams = 5;
    stmts[0].values = start;
    stmts[1].sql = stmts[0].sql;
    stmts[1].nparams = 5;
    stmts[1].values = again;
    stmts[2].sql = "SELECT rc FROM durable.raise_event($1, $2, $3)";
    stmts[2].nparams = 3;
    stmts[2].values = event;

    T(dsi_pg_conn_send(c, stmts, 3, 1) == 0);
    T(dsi_pg_conn_send(c, stmts, 3, 1) == -1);
    T(t_drive(c, 100) == DSI_PG_READY);
    T(strcmp(t_value(c, 0), "0") == 0);
    T(strcmp(t_value(c, 1), "2") == 0);
    T(strcmp(t_value(c, 2), "1") == 0);
    T(dsi_pg_conn_committed(c));
    dsi_pg_conn_release(c);

    /* a statement that fails aborts the batch, COMMIT included */
    stmts[0].sql = "SELECT 1 / 0";
    stmts[0].nparams = 0;
    stmts[0].values = NULL;
    stmts[1].sql = "SELECT rc FROM durable.start($1, $2, $3, $4, $5)";
    stmts[1].nparams = 5;
    stmts[1].values = after;

    T(dsi_pg_conn_send(c, stmts, 2, 1) == 0);
    T(t_drive(c, 100) == DSI_PG_READY);
    T(PQresultStatus(dsi_pg_conn_result(c, 0)) == PGRES_FATAL_ERROR);
    T(PQresultStatus(dsi_pg_conn_result(c, 1)) == PGRES_PIPELINE_ABORTED);
    T(!dsi_pg_conn_committed(c));
    dsi_pg_conn_release(c);

    /* the next batch starts clean: its write is there */
    T(dsi_pg_conn_send(c, &stmts[1], 1, 1) == 0);
    T(t_drive(c, 100) == DSI_PG_READY);
    T(strcmp(t_value(c, 0), "0") == 0);
    T(dsi_pg_conn_committed(c));
    dsi_pg_conn_release(c);

    /* a read, outside a transaction */
    stmts[0].sql = "SELECT status FROM durable.status($1, $2, false)";
    stmts[0].nparams = 2;
    stmts[0].values = status;

    T(dsi_pg_conn_send(c, stmts, 1, 0) == 0);
    T(t_drive(c, 100) == DSI_PG_READY);
    T(strcmp(t_value(c, 0), "6") == 0);
    T(!dsi_pg_conn_committed(c));
    dsi_pg_conn_release(c);

    /*
     * reads fail alone, the read after the one that fails answered as
     * alone; after a failed batch, whose transaction is rolled back first
     */
    stmts[1].sql = "SELECT 1 / 0";
    stmts[1].nparams = 0;
    stmts[1].values = NULL;

    T(dsi_pg_conn_send(c, &stmts[1], 1, 1) == 0);
    T(t_drive(c, 100) == DSI_PG_READY);
    T(!dsi_pg_conn_committed(c));
    dsi_pg_conn_release(c);

    stmts[2] = stmts[0];

    T(dsi_pg_conn_send(c, stmts, 3, 0) == 0);
    T(t_drive(c, 100) == DSI_PG_READY);
    T(strcmp(t_value(c, 0), "6") == 0);
    T(PQresultStatus(dsi_pg_conn_result(c, 1)) == PGRES_FATAL_ERROR);
    T(strstr(PQresultErrorMessage(dsi_pg_conn_result(c, 1)), "by zero")
      != NULL);
    T(strcmp(t_value(c, 2), "6") == 0);
    dsi_pg_conn_release(c);

    dsi_pg_conn_close(c);
}


/* the server's bounds of c's session, each its value in text */

static void
t_bounds_are(dsi_pg_conn_t *c, const char *statement, const char *idle)
{
    dsi_pg_stmt_t  stmts[2];

    stmts[0].sql = "SELECT current_setting('statement_timeout')";
    stmts[1].sql = "SELECT "
                   "current_setting('idle_in_transaction_session_timeout')";
    stmts[0].nparams = stmts[1].nparams = 0;
    stmts[0].values = stmts[1].values = NULL;

    T(dsi_pg_conn_send(c, stmts, 2, 0) == 0);
    T(t_drive(c, 100) == DSI_PG_READY);
    T(strcmp(t_value(c, 0), statement) == 0);
    T(strcmp(t_value(c, 1), idle) == 0);
    dsi_pg_conn_release(c);
}


/*
 * A connection started with a bound: its session's statement_timeout
 * and idle_in_transaction_session_timeout are the bound, unless the
 * conninfo's own options set others; a statement that outlasts it is
 * cancelled by the server (57014), its transaction rolled back before
 * the batch is answered, so that the connection, then idle longer than
 * the bound, is not ended by the server for idling in a transaction.
 */

static void
t_bounds(const char *conninfo)
{
    char            err[256], own[1024];
    const char     *state;
    dsi_pg_conn_t  *c;
    dsi_pg_stmt_t   stmt;

    c = dsi_pg_conn_start(conninfo, 300, err, sizeof(err));
    T(c != NULL);
    if (c == NULL) {
        return;
    }

    T(t_drive(c, 100) == DSI_PG_READY);
    t_bounds_are(c, "300ms", "300ms");

    stmt.sql = "SELECT pg_sleep(3)";
    stmt.nparams = 0;
    stmt.values = NULL;

    T(dsi_pg_conn_send(c, &stmt, 1, 1) == 0);
    T(t_drive(c, 100) == DSI_PG_READY);
    T(PQresultStatus(dsi_pg_conn_result(c, 0)) == PGRES_FATAL_ERROR);
    state = PQresultErrorField(dsi_pg_conn_result(c, 0), PG_DIAG_SQLSTATE);
    T(state != NULL && strcmp(state, "57014") == 0);
    T(!dsi_pg_conn_committed(c));
    dsi_pg_conn_release(c);

    /* idle past the bound, in no transaction: the connection serves on */
    (void) poll(NULL, 0, 700);

    stmt.sql = "SELECT 1";

    T(dsi_pg_conn_send(c, &stmt, 1, 1) == 0);
    T(t_drive(c, 100) == DSI_PG_READY);
    T(strcmp(t_value(c, 0), "1") == 0);
    T(dsi_pg_conn_committed(c));
    dsi_pg_conn_release(c);

    dsi_pg_conn_close(c);

    snprintf(own, sizeof(own), "%s options='-c statement_timeout=7s'",
             conninfo);

    c = dsi_pg_conn_start(own, 300, err, sizeof(err));
    T(c != NULL);
    if (c == NULL) {
        return;
    }

    T(t_drive(c, 100) == DSI_PG_READY);
    t_bounds_are(c, "7s", "300ms");
    dsi_pg_conn_close(c);

    /* no bound: the server's defaults */
    c = t_conn_ready(conninfo);
    if (c == NULL) {
        return;
    }

    t_bounds_are(c, "0", "0");
    dsi_pg_conn_close(c);
}


/*
 * Each statement text is prepared once per connection, in the batch that
 * first uses it (so a statement counting the session's prepared
 * statements counts itself), and again on a new connection; a prepare
 * that failed is made again once it can succeed.
 */

static void
t_prepared(const char *conninfo)
{
    int             round;
    dsi_pg_conn_t  *c;
    dsi_pg_stmt_t   stmts[2];

    memset(stmts, 0, sizeof(stmts));
    stmts[0].sql = "SELECT count(*) FROM pg_prepared_statements";
    stmts[1].sql = "SELECT count(*) + 0 FROM pg_prepared_statements";

    for (round = 0; round < 2; round++) {
        c = t_conn_ready(conninfo);
        if (c == NULL) {
            return;
        }

        T(dsi_pg_conn_send(c, stmts, 1, 0) == 0);
        T(t_drive(c, 100) == DSI_PG_READY);
        T(strcmp(t_value(c, 0), "1") == 0);
        dsi_pg_conn_release(c);

        /* not prepared twice: that would fail the batch */
        T(dsi_pg_conn_send(c, stmts, 2, 1) == 0);
        T(t_drive(c, 100) == DSI_PG_READY);
        T(strcmp(t_value(c, 0), "2") == 0);
        T(strcmp(t_value(c, 1), "2") == 0);
        T(dsi_pg_conn_committed(c));
        dsi_pg_conn_release(c);

        if (round == 1) {
            dsi_pg_conn_close(c);
            break;
        }

        /* a function that does not exist yet: the prepare fails */
        stmts[0].sql = "SELECT t_prepared_later()";
        T(dsi_pg_conn_send(c, stmts, 1, 0) == 0);
        T(t_drive(c, 100) == DSI_PG_READY);
        /* the prepare's error, as the statement's own */
        T(PQresultStatus(dsi_pg_conn_result(c, 0)) == PGRES_FATAL_ERROR);
        T(strstr(PQresultErrorMessage(dsi_pg_conn_result(c, 0)),
                 "t_prepared_later") != NULL);
        dsi_pg_conn_release(c);

        stmts[1].sql = "CREATE OR REPLACE FUNCTION t_prepared_later() "
                       "RETURNS integer LANGUAGE sql AS 'SELECT 7'";
        T(dsi_pg_conn_send(c, &stmts[1], 1, 0) == 0);
        T(t_drive(c, 100) == DSI_PG_READY);
        dsi_pg_conn_release(c);

        T(dsi_pg_conn_send(c, stmts, 1, 0) == 0);
        T(t_drive(c, 100) == DSI_PG_READY);
        T(strcmp(t_value(c, 0), "7") == 0);
        dsi_pg_conn_release(c);

        dsi_pg_conn_close(c);

        stmts[0].sql = "SELECT count(*) FROM pg_prepared_statements";
        stmts[1].sql = "SELECT count(*) + 0 FROM pg_prepared_statements";
    }
}


/*
 * A batch of reads whose middle statement's prepare fails (a function
 * that does not exist), all three new to the connection, so prepared in
 * the batch: the middle one answers the prepare's error, the others
 * their rows, as each would alone; the next batch goes on the same
 * connection.
 */

static void
t_prepare_alone(const char *conninfo)
{
    dsi_pg_conn_t  *c;
    dsi_pg_stmt_t   stmts[3];

    c = t_conn_ready(conninfo);
    if (c == NULL) {
        return;
    }

    memset(stmts, 0, sizeof(stmts));
    stmts[0].sql = "SELECT 'first' AS t_prepare_alone";
    stmts[1].sql = "SELECT t_prepare_alone_missing()";
    stmts[2].sql = "SELECT 'third' AS t_prepare_alone";

    T(dsi_pg_conn_send(c, stmts, 3, 0) == 0);
    T(t_drive(c, 100) == DSI_PG_READY);
    T(strcmp(t_value(c, 0), "first") == 0);
    T(PQresultStatus(dsi_pg_conn_result(c, 1)) == PGRES_FATAL_ERROR);
    T(strstr(PQresultErrorMessage(dsi_pg_conn_result(c, 1)),
             "t_prepare_alone_missing") != NULL);
    T(strcmp(t_value(c, 2), "third") == 0);
    dsi_pg_conn_release(c);

    /* the prepared ones again, the failed one tried again */
    T(dsi_pg_conn_send(c, stmts, 3, 0) == 0);
    T(t_drive(c, 100) == DSI_PG_READY);
    T(strcmp(t_value(c, 0), "first") == 0);
    T(PQresultStatus(dsi_pg_conn_result(c, 1)) == PGRES_FATAL_ERROR);
    T(strcmp(t_value(c, 2), "third") == 0);
    dsi_pg_conn_release(c);

    dsi_pg_conn_close(c);
}


/*
 * The connection lost in the middle of a batch of reads, a sync after
 * each: the statement that ends its own session fails it, and a step
 * says so (no wait for the statements after it, which never come). No
 * result is asked for after that (ds_pg.h promises none); closing frees
 * whatever was read (the leak check). A new connection serves again.
 */

static void
t_lost(const char *conninfo)
{
    dsi_pg_conn_t  *c;
    dsi_pg_stmt_t   stmts[4];

    c = t_conn_ready(conninfo);
    if (c == NULL) {
        return;
    }

    memset(stmts, 0, sizeof(stmts));
    stmts[0].sql = "SELECT 'before' AS t_lost";
    stmts[1].sql = "SELECT pg_terminate_backend(pg_backend_pid())";
    stmts[2].sql = "SELECT 'after' AS t_lost";
    stmts[3].sql = "SELECT 'later' AS t_lost";

    T(dsi_pg_conn_send(c, stmts, 4, 0) == 0);
    T(t_drive(c, 100) == DSI_PG_FAILED);
    T(dsi_pg_conn_error(c)[0] != '\0');
    T(dsi_pg_conn_wants(c) == 0);

    /* broken: it takes no other batch */
    T(dsi_pg_conn_send(c, stmts, 1, 0) == -1);
    dsi_pg_conn_close(c);

    c = t_conn_ready(conninfo);
    if (c == NULL) {
        return;
    }

    T(dsi_pg_conn_send(c, stmts, 1, 0) == 0);
    T(t_drive(c, 100) == DSI_PG_READY);
    T(strcmp(t_value(c, 0), "before") == 0);
    dsi_pg_conn_release(c);
    dsi_pg_conn_close(c);
}


/* polls an idle listener at most polls times: the notifications */

static int
t_listen(dsi_pg_conn_t *c, int polls, char *payloads, size_t size)
{
    int            n;
    char           one[64];
    struct pollfd  pfd;

    n = 0;

    while (polls-- > 0) {
        pfd.fd = dsi_pg_conn_fd(c);
        pfd.events = POLLIN;
        pfd.revents = 0;

        (void) poll(&pfd, 1, T_POLL_MS);

        if (dsi_pg_conn_step(c) == DSI_PG_FAILED) {
            return -1;
        }

        while (dsi_pg_conn_notified(c, one, sizeof(one))) {
            n++;
            strncat(payloads, one, size - strlen(payloads) - 2);
            strcat(payloads, " ");
        }

        if (n && polls > 5) {
            /* a few more, to see that nothing else comes */
            polls = 5;
        }
    }

    return n;
}


/*
 * Wake-ups across connections: a listener hears one notification per
 * committed batch and hub, with the hub as payload
 */

static void
t_notify(const char *conninfo)
{
    char            err[256], heard[256];
    dsi_pg_conn_t  *l, *w;
    dsi_pg_stmt_t   stmts[3], listen;

    static const char *const  s1[] = { "nh", "n1", "N", NULL, "" };
    static const char *const  s2[] = { "nh", "n2", "N", NULL, "" };
    static const char *const  s3[] = { "other", "n1", "N", NULL, "" };

    l = dsi_pg_conn_start(conninfo, 0, err, sizeof(err));
    w = dsi_pg_conn_start(conninfo, 0, err, sizeof(err));
    T(l != NULL && w != NULL);
    if (l == NULL || w == NULL) {
        return;
    }

    T(t_drive(l, 100) == DSI_PG_READY);
    T(t_drive(w, 100) == DSI_PG_READY);

    listen.sql = "LISTEN durable";
    listen.nparams = 0;
    listen.values = NULL;
    T(dsi_pg_conn_send(l, &listen, 1, 0) == 0);
    T(t_drive(l, 100) == DSI_PG_READY);
    dsi_pg_conn_release(l);

    stmts[0].sql = "SELECT rc FROM durable.start($1, $2, $3, $4, $5)";
    stmts[0].nparams = 5;
    stmts[0].values = s1;
    stmts[1] = stmts[0];
    stmts[1].values = s2;
    stmts[2] = stmts[0];
    stmts[2].values = s3;

    /* two starts in hub nh: one notification */
    T(dsi_pg_conn_send(w, stmts, 2, 1) == 0);
    T(t_drive(w, 100) == DSI_PG_READY);
    T(dsi_pg_conn_committed(w));
    dsi_pg_conn_release(w);

    heard[0] = '\0';
    T(t_listen(l, 100, heard, sizeof(heard)) == 1);
    T(strcmp(heard, "nh ") == 0);

    /* a refusal and a start in another hub: one, for that hub */
    T(dsi_pg_conn_send(w, &stmts[1], 2, 1) == 0);
    T(t_drive(w, 100) == DSI_PG_READY);
    dsi_pg_conn_release(w);

    heard[0] = '\0';
    T(t_listen(l, 100, heard, sizeof(heard)) == 1);
    T(strcmp(heard, "other ") == 0);

    dsi_pg_conn_close(l);
    dsi_pg_conn_close(w);
}


/*
 * The server stopped: a connection being made and a batch in flight
 * both wait for the socket and return to the loop; once the server
 * goes on, both finish
 */

static void
t_stopped(const char *conninfo, const char *pidfile)
{
    int             backend;
    long            pid;
    char            err[256];
    FILE           *f;
    dsi_pg_conn_t  *busy, *fresh;
    dsi_pg_stmt_t   stmt;

    f = fopen(pidfile, "r");
    T(f != NULL);
    if (f == NULL) {
        return;
    }

    pid = 0;
    T(fscanf(f, "%ld", &pid) == 1 && pid > 1);
    fclose(f);

    busy = t_conn_ready(conninfo);
    if (busy == NULL) {
        return;
    }

    stmt.sql = "SELECT pg_backend_pid()";
    stmt.nparams = 0;
    stmt.values = NULL;
    T(dsi_pg_conn_send(busy, &stmt, 1, 0) == 0);
    T(t_drive(busy, 100) == DSI_PG_READY);
    backend = atoi(t_value(busy, 0));
    T(backend > 1);
    dsi_pg_conn_release(busy);

    T(kill((pid_t) pid, SIGSTOP) == 0);
    T(kill((pid_t) backend, SIGSTOP) == 0);

    stmt.sql = "SELECT 1";
    T(dsi_pg_conn_send(busy, &stmt, 1, 0) == 0);

    fresh = dsi_pg_conn_start(conninfo, 0, err, sizeof(err));
    T(fresh != NULL);

    /* each call returns; neither can finish while the server sleeps */
    T(t_drive(busy, 10) == DSI_PG_WAIT);
    if (fresh != NULL) {
        T(t_drive(fresh, 10) == DSI_PG_WAIT);
    }

    T(kill((pid_t) backend, SIGCONT) == 0);
    T(kill((pid_t) pid, SIGCONT) == 0);

    T(t_drive(busy, 300) == DSI_PG_READY);
    T(strcmp(t_value(busy, 0), "1") == 0);
    dsi_pg_conn_release(busy);

    if (fresh != NULL) {
        T(t_drive(fresh, 300) == DSI_PG_READY);
    }

    dsi_pg_conn_close(busy);
    dsi_pg_conn_close(fresh);
}


/* a TCP option's value on a connection's socket, -1 when unreadable */

static int
t_sockopt(dsi_pg_conn_t *c, int level, int name)
{
    int        v;
    socklen_t  len;

    len = sizeof(v);

    if (getsockopt(dsi_pg_conn_fd(c), level, name, &v, &len) != 0) {
        return -1;
    }

    return v;
}


/*
 * keepalive: probes after 30 s of silence, every 10 s, 3 of them, unless
 * the conninfo says otherwise (CONNINFO is over TCP: hostaddr)
 */

static void
t_keepalive(const char *conninfo)
{
    char            err[256], own[1024];
    dsi_pg_conn_t  *c;

    c = dsi_pg_conn_start(conninfo, 0, err, sizeof(err));
    T(c != NULL && t_drive(c, 50) == DSI_PG_READY);

    if (c != NULL) {
        T(t_sockopt(c, SOL_SOCKET, SO_KEEPALIVE) == 1);
        T(t_sockopt(c, IPPROTO_TCP, TCP_KEEPIDLE)
          == atoi(DSI_PG_KEEPALIVES_IDLE));
        T(t_sockopt(c, IPPROTO_TCP, TCP_KEEPINTVL)
          == atoi(DSI_PG_KEEPALIVES_INTERVAL));
        T(t_sockopt(c, IPPROTO_TCP, TCP_KEEPCNT)
          == atoi(DSI_PG_KEEPALIVES_COUNT));
        dsi_pg_conn_close(c);
    }

    snprintf(own, sizeof(own), "%s keepalives_idle=7", conninfo);

    c = dsi_pg_conn_start(own, 0, err, sizeof(err));
    T(c != NULL && t_drive(c, 50) == DSI_PG_READY);

    if (c != NULL) {
        T(t_sockopt(c, IPPROTO_TCP, TCP_KEEPIDLE) == 7);
        T(t_sockopt(c, IPPROTO_TCP, TCP_KEEPINTVL)
          == atoi(DSI_PG_KEEPALIVES_INTERVAL));
        dsi_pg_conn_close(c);
    }
}


/*
 * An answer that is all in the socket when the loop looks: one step must
 * read it whole, since a loop that watches edges is not told again about
 * what a step left there (libpq reads 16 KB at a time below 32 KB)
 */

static void
t_whole(const char *conninfo)
{
    dsi_pg_conn_t  *c;
    dsi_pg_stmt_t   stmt;

    c = t_conn_ready(conninfo);
    if (c == NULL) {
        return;
    }

    stmt.sql = "SELECT repeat('x', 24000)";
    stmt.nparams = 0;
    stmt.values = NULL;

    T(dsi_pg_conn_send(c, &stmt, 1, 0) == 0);

    /* the server has answered by then: nothing more will arrive */
    (void) poll(NULL, 0, 500);

    T(dsi_pg_conn_step(c) == DSI_PG_READY);
    T(PQgetlength(dsi_pg_conn_result(c, 0), 0, 0) == 24000);

    dsi_pg_conn_release(c);
    dsi_pg_conn_close(c);
}


int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: t_pg_conn CONNINFO POSTMASTER_PID_FILE\n");
        return 2;
    }

    alarm(T_WATCHDOG_S);

    t_conninfo();
    t_batches(argv[1]);
    t_bounds(argv[1]);
    t_whole(argv[1]);
    t_prepared(argv[1]);
    t_prepare_alone(argv[1]);
    t_lost(argv[1]);
    t_notify(argv[1]);
    t_keepalive(argv[1]);
    t_stopped(argv[1], argv[2]);

    printf("%s - ds_pg_conn: %lu passed, %lu failed\n",
           t_failed ? "not ok" : "ok", t_passed, t_failed);

    return t_failed ? 1 : 0;
}
