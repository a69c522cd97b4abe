
/*
 * Copyright (C) ngx_durable authors
 *
 * PostgreSQL connections that never block (ds_pg.h): connecting with
 * PQconnectStart()/PQconnectPoll(), batches sent in pipeline mode on a
 * non-blocking socket and read back with PQconsumeInput(), PQisBusy()
 * and PQgetResult() when the socket is readable.
 *
 * A batch of writes is BEGIN, the statements, COMMIT and one sync,
 * sent without waiting for any answer (dsi_pg_sync()): one round trip.
 * In pipeline mode each statement's results end with a NULL from
 * PQgetResult(), and the sync's own result (PGRES_PIPELINE_SYNC) ends
 * the batch. A statement that fails aborts the rest up to the sync
 * (PGRES_PIPELINE_ABORTED), COMMIT included, and leaves the transaction
 * open and failed: a ROLLBACK of it and a sync follow at once, and the
 * batch ends with that sync's result (dsi_pg_end_failed()). A batch that
 * finds a transaction open all the same starts with a ROLLBACK.
 *
 * A batch without a transaction (reads) has a sync after each of its
 * statements, and after the ROLLBACK and each prepare before them: the
 * server aborts only up to the next sync, so a statement that fails
 * fails alone and the others are answered as they would be by
 * themselves. The batch ends with the last sync's result; it is still
 * sent without waiting for any answer: one round trip.
 *
 * Each statement text is prepared once per connection (PQsendPrepare(),
 * in the pipeline of the first batch that uses it, before its BEGIN) and
 * then only bound and executed (PQsendQueryPrepared()): the server
 * parses and plans "SELECT ... FROM durable.f($1, ...)" once instead of
 * at every call. The names live as long as the connection: a new one
 * prepares again. A prepare that fails is forgotten, to be tried again,
 * and so is a statement whose cached plan the server no longer uses (an
 * upgrade replaced its function with other columns): under a new name.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <poll.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "ds_pg.h"


extern char  **environ;


#define DSI_PG_HOSTS_MAX    64
#define DSI_PG_ERR_LEN      256
#define DSI_PG_ADDR_LEN     64      /* a numeric IPv6 address and scope */
#define DSI_PG_PREPARED_MAX 128     /* then the others are parsed each time */
#define DSI_PG_NAME_LEN     16


typedef enum {
    DSI_PG_CONNECTING = 0,
    DSI_PG_IDLE,
    DSI_PG_BUSY,
    DSI_PG_BROKEN
} dsi_pg_state_e;


typedef struct {
    char                       *sql;        /* NULL: a free slot */
    uint32_t                    hash;
    unsigned                    name;       /* "ds_<name>" */
} dsi_pg_prepared_t;


struct dsi_pg_conn_s {
    PGconn                     *pg;
    dsi_pg_state_e              state;
    PostgresPollingStatusType   poll;       /* connecting: what it awaits */
    int                         flushing;   /* output left to send */
    int                         transaction;
    int                         ending;     /* a failed transaction's
                                               ROLLBACK in flight */
    size_t                      skip;       /* results before the batch's
                                               statements: ROLLBACK, BEGIN */
    size_t                      expected;   /* results of the batch */
    size_t                      syncs;      /* syncs sent, */
    size_t                      synced;     /* their results read */
    size_t                      nresults;
    PGresult                  **results;
    size_t                      nprepare;   /* prepares of the batch, */
    size_t                     *prepare;    /* their slots, in order */
    size_t                     *prepared_by;    /* a statement's prepare
                                                   result, or SIZE_MAX */
    dsi_pg_prepared_t           prepared[DSI_PG_PREPARED_MAX];
    unsigned                    names;      /* the last name given */
    char                        err[DSI_PG_ERR_LEN];
};


typedef struct {
    char                       *data;
    size_t                      len;
    size_t                      size;
    int                         oom;
} dsi_pg_buf_t;


static void dsi_pg_fail(dsi_pg_conn_t *c, const char *what);
static dsi_pg_step_e dsi_pg_read(dsi_pg_conn_t *c);
static int dsi_pg_end_failed(dsi_pg_conn_t *c);
static int dsi_pg_keep(dsi_pg_conn_t *c, PGresult *res);
static int dsi_pg_sync(dsi_pg_conn_t *c);
static int dsi_pg_prepare(dsi_pg_conn_t *c, const dsi_pg_stmt_t *stmt);
static int dsi_pg_send_stmt(dsi_pg_conn_t *c, const dsi_pg_stmt_t *stmt);
static int dsi_pg_find(dsi_pg_conn_t *c, const char *sql, uint32_t hash);
static uint32_t dsi_pg_hash(const char *sql);
static void dsi_pg_prepared_check(dsi_pg_conn_t *c);
static char *dsi_pg_options(const char *conninfo, int64_t bound_ms);
static size_t dsi_pg_split(char *list, char **items, size_t max);
static int dsi_pg_is_socket(const char *host);
static int dsi_pg_is_address(const char *host);
static void dsi_pg_add(dsi_pg_buf_t *b, const char *s, size_t len);
static void dsi_pg_add_value(dsi_pg_buf_t *b, const char *key,
    const char *value);


/* the conninfo's host, hostaddr and port lists, copied for splitting */

typedef struct {
    PQconninfoOption           *opts;
    char                       *host;
    char                       *hostaddr;
    char                       *port;
    unsigned                    host_env:1;     /* host is PGHOST's */
} dsi_pg_hosts_t;


/* a variable of env ("NAME=value" strings, NULL last), or NULL */

static const char *
dsi_pg_env(char *const *env, const char *name)
{
    size_t  len;

    len = strlen(name);

    for ( /* void */ ; env != NULL && *env != NULL; env++) {
        if (strncmp(*env, name, len) == 0 && (*env)[len] == '=') {
            return *env + len + 1;
        }
    }

    return NULL;
}


/*
 * The conninfo parsed, with what libpq would take from env (NULL: none)
 * where the conninfo says nothing: PGHOST and PGHOSTADDR. A service
 * (service=, servicefile=, PGSERVICE, PGSERVICEFILE) is refused: libpq
 * reads the service file when it connects, and the host it may find
 * there would be looked up then, which PQconninfoParse() cannot show.
 */

static int
dsi_pg_hosts(const char *conninfo, char *const *env, dsi_pg_hosts_t *h,
    char *err, size_t errlen)
{
    char              *msg;
    size_t             i;
    const char        *v;
    PQconninfoOption  *o;

    static const char *const  services[] = { "PGSERVICE", "PGSERVICEFILE" };

    memset(h, 0, sizeof(dsi_pg_hosts_t));

    h->opts = PQconninfoParse(conninfo, &msg);

    if (h->opts == NULL) {
        snprintf(err, errlen, "bad conninfo: %s",
                 msg ? msg : "out of memory");
        PQfreemem(msg);
        return -1;
    }

    for (o = h->opts; o->keyword != NULL; o++) {
        if (o->val == NULL || o->val[0] == '\0') {
            continue;
        }

        if (strcmp(o->keyword, "host") == 0) {
            h->host = o->val;

        } else if (strcmp(o->keyword, "hostaddr") == 0) {
            h->hostaddr = o->val;

        } else if (strcmp(o->keyword, "port") == 0) {
            h->port = o->val;

        } else if (strcmp(o->keyword, "service") == 0
                   || strcmp(o->keyword, "servicefile") == 0)
        {
            snprintf(err, errlen, "%s= is refused: libpq reads the "
                     "service file when it connects, and would look up a "
                     "host name found there, which blocks; give the "
                     "service's settings in conninfo instead",
                     o->keyword);
            goto failed;
        }
    }

    for (i = 0; i < 2; i++) {
        v = dsi_pg_env(env, services[i]);

        if (v != NULL && v[0] != '\0') {
            snprintf(err, errlen, "%s is set in the environment of the "
                     "worker processes: libpq would read the service file "
                     "when it connects, and look up a host name found "
                     "there, which blocks; give the service's settings in "
                     "conninfo instead, and do not pass %s to nginx's "
                     "workers (env)", services[i], services[i]);
            goto failed;
        }
    }

    /* libpq's defaults, each where the conninfo has none */

    v = dsi_pg_env(env, "PGHOST");

    if (h->host == NULL && v != NULL && v[0] != '\0') {
        h->host = (char *) v;
        h->host_env = 1;
    }

    v = dsi_pg_env(env, "PGHOSTADDR");

    if (h->hostaddr == NULL && v != NULL && v[0] != '\0') {
        h->hostaddr = (char *) v;
    }

    return 0;

failed:

    PQconninfoFree(h->opts);
    h->opts = NULL;

    return -1;
}


int
dsi_pg_conninfo_check(const char *conninfo, char *err, size_t errlen)
{
    /* the variables libpq will read in this process, when it connects */
    return dsi_pg_conninfo_check_env(conninfo, environ, err, errlen);
}


int
dsi_pg_conninfo_check_env(const char *conninfo, char *const *env,
    char *err, size_t errlen)
{
    int              rc;
    char            *hosts[DSI_PG_HOSTS_MAX], *addrs[DSI_PG_HOSTS_MAX];
    char            *hcopy, *acopy;
    size_t           nh, na, i;
    dsi_pg_hosts_t   h;

    if (dsi_pg_hosts(conninfo, env, &h, err, errlen) != 0) {
        return -1;
    }

    hcopy = strdup(h.host ? h.host : "");
    acopy = strdup(h.hostaddr ? h.hostaddr : "");
    rc = -1;

    if (hcopy == NULL || acopy == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }

    nh = dsi_pg_split(hcopy, hosts, DSI_PG_HOSTS_MAX);
    na = dsi_pg_split(acopy, addrs, DSI_PG_HOSTS_MAX);

    for (i = 0; i < nh; i++) {
        if ((i < na && addrs[i][0] != '\0') || dsi_pg_is_socket(hosts[i])
            || dsi_pg_is_address(hosts[i]))
        {
            continue;
        }

        if (h.host_env) {
            snprintf(err, errlen, "host \"%s\", of PGHOST in the "
                     "environment of the worker processes, is a name: "
                     "looking it up would block, so give host= in "
                     "conninfo (resolved when the configuration is read), "
                     "or an address or a socket directory in PGHOST",
                     hosts[i]);
            goto done;
        }

        snprintf(err, errlen, "host \"%s\" is a name: looking it up would "
                 "block, so give its address in hostaddr, or resolve the "
                 "conninfo when the configuration is read", hosts[i]);
        goto done;
    }

    rc = 0;

done:

    free(hcopy);
    free(acopy);
    PQconninfoFree(h.opts);

    return rc;
}


int
dsi_pg_conninfo_resolve(const char *conninfo, char **out, char *err,
    size_t errlen)
{
    int                rc, n;
    char              *hosts[DSI_PG_HOSTS_MAX], *ports[DSI_PG_HOSTS_MAX];
    char              *hcopy, *pcopy;
    char               addr[DSI_PG_ADDR_LEN];
    size_t             nh, np, i;
    const char        *port;
    dsi_pg_buf_t       b, hb, ab, pb;
    struct addrinfo    hints, *res, *ai;
    dsi_pg_hosts_t     h;
    PQconninfoOption  *o;

    *out = NULL;

    /* the environment's hosts are checked, not resolved: NULL here */
    if (dsi_pg_hosts(conninfo, NULL, &h, err, errlen) != 0) {
        return -1;
    }

    memset(&b, 0, sizeof(dsi_pg_buf_t));
    memset(&hb, 0, sizeof(dsi_pg_buf_t));
    memset(&ab, 0, sizeof(dsi_pg_buf_t));
    memset(&pb, 0, sizeof(dsi_pg_buf_t));

    /* libpq counts the servers in host=, or in hostaddr= without it */
    hcopy = strdup(h.host ? h.host : (h.hostaddr ? h.hostaddr : ""));
    pcopy = strdup(h.port ? h.port : "");
    rc = -1;

    if (hcopy == NULL || pcopy == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }

    nh = dsi_pg_split(hcopy, hosts, DSI_PG_HOSTS_MAX);
    np = dsi_pg_split(pcopy, ports, DSI_PG_HOSTS_MAX);

    if (np > 1 && np != nh) {
        snprintf(err, errlen, "bad conninfo: %zu hosts and %zu ports", nh,
                 np);
        goto done;
    }

    /* with hostaddr given, libpq looks nothing up: nothing to do */

    if (h.hostaddr != NULL || h.host == NULL) {
        for (o = h.opts; o->keyword != NULL; o++) {
            dsi_pg_add_value(&b, o->keyword, o->val);
        }

        goto finish;
    }

    n = 0;

    for (i = 0; i < nh; i++) {
        port = np == 0 ? "" : ports[np == 1 ? 0 : i];

        if (dsi_pg_is_socket(hosts[i]) || hosts[i][0] == '\0') {
            /* an empty hostaddr entry: libpq uses the host as it is */
            dsi_pg_add(&hb, n ? "," : "", n ? 1 : 0);
            dsi_pg_add(&hb, hosts[i], strlen(hosts[i]));
            dsi_pg_add(&ab, n ? "," : "", n ? 1 : 0);
            dsi_pg_add(&pb, n ? "," : "", n ? 1 : 0);
            dsi_pg_add(&pb, port, strlen(port));
            n++;
            continue;
        }

        memset(&hints, 0, sizeof(struct addrinfo));
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;

        if (getaddrinfo(hosts[i], NULL, &hints, &res) != 0) {
            snprintf(err, errlen, "cannot resolve host \"%s\"", hosts[i]);
            goto done;
        }

        for (ai = res; ai != NULL; ai = ai->ai_next) {
            if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr),
                            NULL, 0, NI_NUMERICHOST) != 0
                || n == DSI_PG_HOSTS_MAX)
            {
                continue;
            }

            dsi_pg_add(&hb, n ? "," : "", n ? 1 : 0);
            dsi_pg_add(&hb, hosts[i], strlen(hosts[i]));
            dsi_pg_add(&ab, n ? "," : "", n ? 1 : 0);
            dsi_pg_add(&ab, addr, strlen(addr));
            dsi_pg_add(&pb, n ? "," : "", n ? 1 : 0);
            dsi_pg_add(&pb, port, strlen(port));
            n++;
        }

        freeaddrinfo(res);
    }

    dsi_pg_add(&hb, "", 1);
    dsi_pg_add(&ab, "", 1);
    dsi_pg_add(&pb, "", 1);

    if (hb.oom || ab.oom || pb.oom) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }

    for (o = h.opts; o->keyword != NULL; o++) {
        if (strcmp(o->keyword, "host") == 0) {
            dsi_pg_add_value(&b, "host", hb.data);
            dsi_pg_add_value(&b, "hostaddr", ab.data);

        } else if (strcmp(o->keyword, "port") == 0) {
            dsi_pg_add_value(&b, "port", np ? pb.data : NULL);

        } else if (strcmp(o->keyword, "hostaddr") != 0) {
            dsi_pg_add_value(&b, o->keyword, o->val);
        }
    }

finish:

    dsi_pg_add(&b, "", 1);

    if (b.oom) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }

    *out = b.data;
    b.data = NULL;
    rc = 0;

done:

    free(b.data);
    free(hb.data);
    free(ab.data);
    free(pb.data);
    free(hcopy);
    free(pcopy);
    PQconninfoFree(h.opts);

    return rc;
}


/*
 * TCP keepalive, so that a peer gone without a word (a host lost, a
 * network cut) is found: the first probe after 30 s of silence, then
 * every 10 s, the connection given up after 3 unanswered, within about
 * a minute. The conninfo comes after these defaults (expanded from
 * "dbname"), so its own keepalives settings take their place. The
 * options come last, as libpq takes the last value of a key: the
 * server's bounds, then the conninfo's own options (dsi_pg_options()).
 */
static const char *const  dsi_pg_keys[] = {
    "keepalives", "keepalives_idle", "keepalives_interval",
    "keepalives_count", "dbname", "options", NULL
};


dsi_pg_conn_t *
dsi_pg_conn_start(const char *conninfo, int64_t bound_ms, char *err,
    size_t errlen)
{
    char           *options;
    dsi_pg_conn_t  *c;
    const char     *values[] = {
        DSI_PG_KEEPALIVES, DSI_PG_KEEPALIVES_IDLE,
        DSI_PG_KEEPALIVES_INTERVAL, DSI_PG_KEEPALIVES_COUNT, NULL, NULL,
        NULL
    };

    if (dsi_pg_conninfo_check(conninfo, err, errlen) != 0) {
        return NULL;
    }

    options = NULL;

    if (bound_ms > 0) {
        options = dsi_pg_options(conninfo, bound_ms);
        if (options == NULL) {
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
    }

    values[4] = conninfo;
    values[5] = options;

    c = calloc(1, sizeof(dsi_pg_conn_t));
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        free(options);
        return NULL;
    }

    c->pg = PQconnectStartParams(dsi_pg_keys, values, 1);

    /* libpq has copied the values */
    free(options);

    if (c->pg == NULL) {
        snprintf(err, errlen, "out of memory");
        free(c);
        return NULL;
    }

    c->state = DSI_PG_CONNECTING;

    /* libpq: act as if the last poll said writing */
    c->poll = PGRES_POLLING_WRITING;

    if (PQstatus(c->pg) == CONNECTION_BAD) {
        dsi_pg_fail(c, "connecting");
    }

    return c;
}


/*
 * The startup options: the server's bounds of a statement and of a
 * session idle in a transaction, so that a batch the caller gave up on
 * (its timer closed the connection, which a backend waiting for a lock
 * does not notice) is rolled back by the server instead of going on,
 * holding its locks, and committing later; and the functions' errors
 * that say "try again" (durable.transient() of 00-common.sql) given back
 * with their SQLSTATE, not answered as rc 8. The conninfo's own options
 * (or PGOPTIONS, which libpq reads only when none are given) follow, so
 * that they may set other values. malloc()ed; NULL: out of memory.
 */

static char *
dsi_pg_options(const char *conninfo, int64_t bound_ms)
{
    char              *out, *msg;
    size_t             len;
    const char        *own;
    PQconninfoOption  *opts, *o;

    opts = PQconninfoParse(conninfo, &msg);
    PQfreemem(msg);

    /* a conninfo that does not parse fails to connect, with libpq's word */
    own = NULL;

    for (o = opts; o != NULL && o->keyword != NULL; o++) {
        if (strcmp(o->keyword, "options") == 0 && o->val != NULL
            && o->val[0] != '\0')
        {
            own = o->val;
        }
    }

    if (own == NULL) {
        own = getenv("PGOPTIONS");
    }

    len = 192 + (own ? strlen(own) : 0);

    out = malloc(len);
    if (out == NULL) {
        PQconninfoFree(opts);
        return NULL;
    }

    snprintf(out, len, "-c statement_timeout=%lld "
             "-c idle_in_transaction_session_timeout=%lld "
             "-c durable.raise_transient=on%s%s",
             (long long) bound_ms, (long long) bound_ms,
             own ? " " : "", own ? own : "");

    PQconninfoFree(opts);

    return out;
}


int
dsi_pg_conn_fd(const dsi_pg_conn_t *c)
{
    return PQsocket(c->pg);
}


unsigned
dsi_pg_conn_wants(const dsi_pg_conn_t *c)
{
    switch (c->state) {

    case DSI_PG_CONNECTING:
        return c->poll == PGRES_POLLING_READING ? DSI_PG_WANT_READ
                                                : DSI_PG_WANT_WRITE;

    case DSI_PG_BUSY:
        return DSI_PG_WANT_READ | (c->flushing ? DSI_PG_WANT_WRITE : 0);

    case DSI_PG_IDLE:
        /* a server that goes away, a notification */
        return DSI_PG_WANT_READ;

    default:
        return 0;
    }
}


dsi_pg_step_e
dsi_pg_conn_step(dsi_pg_conn_t *c)
{
    switch (c->state) {

    case DSI_PG_CONNECTING:
        c->poll = PQconnectPoll(c->pg);

        if (c->poll == PGRES_POLLING_FAILED) {
            dsi_pg_fail(c, "connecting");
            return DSI_PG_FAILED;
        }

        if (c->poll != PGRES_POLLING_OK) {
            return DSI_PG_WAIT;
        }

        if (PQsetnonblocking(c->pg, 1) != 0
            || PQenterPipelineMode(c->pg) != 1)
        {
            dsi_pg_fail(c, "entering pipeline mode");
            return DSI_PG_FAILED;
        }

        c->state = DSI_PG_IDLE;
        return DSI_PG_READY;

    case DSI_PG_BUSY:
        if (c->flushing) {
            c->flushing = PQflush(c->pg);

            if (c->flushing < 0) {
                dsi_pg_fail(c, "sending");
                return DSI_PG_FAILED;
            }
        }

        return dsi_pg_read(c);

    case DSI_PG_IDLE:
        if (PQconsumeInput(c->pg) != 1) {
            dsi_pg_fail(c, "reading");
            return DSI_PG_FAILED;
        }

        return DSI_PG_WAIT;

    default:
        return DSI_PG_FAILED;
    }
}


/*
 * The results that arrived; READY once the last sync's has. libpq reads once
 * per PQconsumeInput() below 32 KB: what is left in the socket would
 * never be announced again to a loop that watches edges, so the socket is
 * read until it has nothing more (a poll() that does not wait).
 */

static dsi_pg_step_e
dsi_pg_read(dsi_pg_conn_t *c)
{
    int            nulls;
    PGresult      *res;
    struct pollfd  pfd;

again:

    if (PQconsumeInput(c->pg) != 1) {
        dsi_pg_fail(c, "reading");
        return DSI_PG_FAILED;
    }

    nulls = 0;

    while (!PQisBusy(c->pg)) {
        res = PQgetResult(c->pg);

        if (res == NULL) {
            /* the end of one statement's results; two: nothing queued */
            if (++nulls == 2) {
                if (PQstatus(c->pg) == CONNECTION_BAD) {
                    dsi_pg_fail(c, "reading");
                    return DSI_PG_FAILED;
                }

                break;
            }

            continue;
        }

        nulls = 0;

        if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
            PQclear(res);

            if (++c->synced < c->syncs) {
                continue;
            }

            if (c->nresults != c->expected) {
                snprintf(c->err, DSI_PG_ERR_LEN, "%zu results for %zu "
                         "statements", c->nresults, c->expected);
                c->state = DSI_PG_BROKEN;
                return DSI_PG_FAILED;
            }

            if (dsi_pg_end_failed(c) != 0) {
                return DSI_PG_FAILED;
            }

            if (c->synced < c->syncs) {
                /* the ROLLBACK's sync is the batch's last now */
                continue;
            }

            dsi_pg_prepared_check(c);

            c->state = DSI_PG_IDLE;
            return DSI_PG_READY;
        }

        if (c->ending) {
            /* the ROLLBACK's own result */
            PQclear(res);
            continue;
        }

        if (dsi_pg_keep(c, res) != 0) {
            return DSI_PG_FAILED;
        }
    }

    pfd.fd = PQsocket(c->pg);
    pfd.events = POLLIN;
    pfd.revents = 0;

    if (poll(&pfd, 1, 0) == 1
        && (pfd.revents & (POLLIN | POLLHUP | POLLERR)))
    {
        goto again;
    }

    return DSI_PG_WAIT;
}


/*
 * A batch's transaction that failed (a statement failed outside its
 * savepoint, or the server cancelled one for statement_timeout) stays
 * open, aborted, until a ROLLBACK: sent now, in the same pipeline,
 * rather than with the next batch, so that the connection does not wait
 * idle in a transaction, which idle_in_transaction_session_timeout would
 * have the server end. The batch is answered after it: one round trip
 * more, for a failed batch only. 0, or -1 (broken).
 */

static int
dsi_pg_end_failed(dsi_pg_conn_t *c)
{
    if (!c->transaction || c->ending
        || PQtransactionStatus(c->pg) != PQTRANS_INERROR)
    {
        return 0;
    }

    if (PQsendQueryParams(c->pg, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0)
        != 1)
    {
        dsi_pg_fail(c, "sending");
        return -1;
    }

    if (dsi_pg_sync(c) != 0) {
        return -1;
    }

    c->ending = 1;
    c->flushing = PQflush(c->pg);

    if (c->flushing < 0) {
        dsi_pg_fail(c, "sending");
        return -1;
    }

    return 0;
}


/* one result per statement: a statement's second result is dropped */

static int
dsi_pg_keep(dsi_pg_conn_t *c, PGresult *res)
{
    if (c->nresults == c->expected) {
        PQclear(res);
        snprintf(c->err, DSI_PG_ERR_LEN, "more results than statements");
        c->state = DSI_PG_BROKEN;
        return -1;
    }

    c->results[c->nresults++] = res;

    return 0;
}


int
dsi_pg_conn_send(dsi_pg_conn_t *c, const dsi_pg_stmt_t *stmts, size_t n,
    int transaction)
{
    int     rollback, alone, k;
    size_t  i, j, nprepare;

    if (c->state != DSI_PG_IDLE || c->nresults != 0) {
        snprintf(c->err, DSI_PG_ERR_LEN, "a batch is in flight");
        return -1;
    }

    /* a transaction left open by a failed batch ends first */
    rollback = PQtransactionStatus(c->pg) != PQTRANS_IDLE;

    c->transaction = transaction ? 1 : 0;
    c->syncs = 0;
    c->synced = 0;

    /* without a transaction each statement fails alone: a sync each */
    alone = !c->transaction;

    /* results: ROLLBACK, the prepares (n at most), BEGIN, n, COMMIT */
    c->results = calloc((size_t) rollback + 2 * n + 2, sizeof(PGresult *));
    c->prepare = calloc(2 * n + 1, sizeof(size_t));

    if (c->results == NULL || c->prepare == NULL) {
        free(c->results);
        free(c->prepare);
        c->results = NULL;
        c->prepare = NULL;
        snprintf(c->err, DSI_PG_ERR_LEN, "out of memory");
        return -1;
    }

    if (rollback
        && PQsendQueryParams(c->pg, "ROLLBACK", 0, NULL, NULL, NULL, NULL,
                             0)
           != 1)
    {
        dsi_pg_fail(c, "sending");
        return -1;
    }

    if (rollback && alone && dsi_pg_sync(c) != 0) {
        return -1;
    }

    /* outside the batch's transaction: a failure leaves none open */
    c->nprepare = 0;
    c->prepared_by = c->prepare + n;

    for (i = 0; i < n; i++) {
        nprepare = c->nprepare;

        if (dsi_pg_prepare(c, &stmts[i]) != 0) {
            return -1;
        }

        if (alone && c->nprepare != nprepare && dsi_pg_sync(c) != 0) {
            return -1;
        }
    }

    for (i = 0; i < n; i++) {
        c->prepared_by[i] = SIZE_MAX;
        k = dsi_pg_find(c, stmts[i].sql, dsi_pg_hash(stmts[i].sql));

        for (j = 0; k >= 0 && j < c->nprepare; j++) {
            if (c->prepare[j] == (size_t) k) {
                c->prepared_by[i] = (size_t) rollback + j;
            }
        }
    }

    c->skip = (size_t) rollback + c->nprepare + (size_t) c->transaction;
    c->expected = c->skip + n + (size_t) c->transaction;

    if (transaction
        && PQsendQueryParams(c->pg, "BEGIN", 0, NULL, NULL, NULL, NULL, 0)
           != 1)
    {
        dsi_pg_fail(c, "sending");
        return -1;
    }

    for (i = 0; i < n; i++) {
        if (dsi_pg_send_stmt(c, &stmts[i]) != 0) {
            dsi_pg_fail(c, "sending");
            return -1;
        }

        if (alone && dsi_pg_sync(c) != 0) {
            return -1;
        }
    }

    if (transaction
        && PQsendQueryParams(c->pg, "COMMIT", 0, NULL, NULL, NULL, NULL, 0)
           != 1)
    {
        dsi_pg_fail(c, "sending");
        return -1;
    }

    /* the batch's last sync: a transaction's, or an empty batch's */
    if ((transaction || c->syncs == 0) && dsi_pg_sync(c) != 0) {
        return -1;
    }

    c->state = DSI_PG_BUSY;
    c->flushing = PQflush(c->pg);

    if (c->flushing < 0) {
        dsi_pg_fail(c, "sending");
        return -1;
    }

    return 0;
}


PGresult *
dsi_pg_conn_result(const dsi_pg_conn_t *c, size_t i)
{
    size_t     p;
    PGresult  *res;

    res = c->results[c->skip + i];

    /*
     * a statement whose prepare failed: the prepare's error is its own,
     * whether the statement was aborted (in a transaction) or refused
     * for want of the prepared name (after a sync)
     */
    p = c->prepared_by != NULL ? c->prepared_by[i] : SIZE_MAX;

    if (p != SIZE_MAX
        && (PQresultStatus(res) == PGRES_PIPELINE_ABORTED
            || PQresultStatus(res) == PGRES_FATAL_ERROR)
        && PQresultStatus(c->results[p]) == PGRES_FATAL_ERROR)
    {
        return c->results[p];
    }

    return res;
}


/*
 * The result of a batch's COMMIT, or NULL (no transaction, or not all of
 * the batch answered): its error, when every statement passed and the
 * COMMIT failed all the same (a serialization failure found at commit,
 * a deferred constraint's)
 */

PGresult *
dsi_pg_conn_commit_result(const dsi_pg_conn_t *c)
{
    if (!c->transaction || c->expected == 0 || c->nresults != c->expected) {
        return NULL;
    }

    return c->results[c->expected - 1];
}


int
dsi_pg_conn_committed(const dsi_pg_conn_t *c)
{
    return c->transaction && c->nresults == c->expected
           && PQresultStatus(c->results[c->expected - 1])
              == PGRES_COMMAND_OK;
}


void
dsi_pg_conn_release(dsi_pg_conn_t *c)
{
    size_t  i;

    for (i = 0; i < c->nresults; i++) {
        PQclear(c->results[i]);
    }

    free(c->results);
    free(c->prepare);
    c->results = NULL;
    c->prepare = NULL;
    c->prepared_by = NULL;
    c->nprepare = 0;
    c->nresults = 0;
    c->expected = 0;
    c->ending = 0;
    c->skip = 0;
    c->syncs = 0;
    c->synced = 0;
}


int
dsi_pg_conn_notified(dsi_pg_conn_t *c, char *payload, size_t size)
{
    size_t     n;
    PGnotify  *nf;

    if (c->state == DSI_PG_CONNECTING || c->state == DSI_PG_BROKEN) {
        return 0;
    }

    nf = PQnotifies(c->pg);
    if (nf == NULL) {
        return 0;
    }

    n = strlen(nf->extra);
    n = n < size - 1 ? n : size - 1;
    memcpy(payload, nf->extra, n);
    payload[n] = '\0';

    PQfreemem(nf);

    return 1;
}


const char *
dsi_pg_conn_error(const dsi_pg_conn_t *c)
{
    return c->err;
}


void
dsi_pg_conn_close(dsi_pg_conn_t *c)
{
    size_t  i;

    if (c == NULL) {
        return;
    }

    dsi_pg_conn_release(c);
    PQfinish(c->pg);

    for (i = 0; i < DSI_PG_PREPARED_MAX; i++) {
        free(c->prepared[i].sql);
    }

    free(c);
}


/*
 * A sync in the pipeline. libpq 17 only queues it (PQsendPipelineSync()):
 * libpq writes its output buffer as a batch fills it, the PQflush() at
 * the end of dsi_pg_conn_send() sends what is left, and what the socket
 * did not take then goes with the flushes of dsi_pg_conn_step() once it
 * is writable. An older libpq flushes at each sync (PQpipelineSync()):
 * a batch of reads, a sync after each statement, goes in a write per
 * statement. Neither waits for an answer.
 */

static int
dsi_pg_sync(dsi_pg_conn_t *c)
{
#ifdef LIBPQ_HAS_SEND_PIPELINE_SYNC
    if (PQsendPipelineSync(c->pg) != 1) {
#else
    if (PQpipelineSync(c->pg) != 1) {
#endif
        dsi_pg_fail(c, "sending");
        return -1;
    }

    c->syncs++;

    return 0;
}


/*
 * The statement's text prepared on this connection, in this batch when
 * it is new to it; a text the table has no room for stays unnamed.
 */

static int
dsi_pg_prepare(dsi_pg_conn_t *c, const dsi_pg_stmt_t *stmt)
{
    int       k;
    char      name[DSI_PG_NAME_LEN];
    uint32_t  hash;

    hash = dsi_pg_hash(stmt->sql);

    if (dsi_pg_find(c, stmt->sql, hash) >= 0) {
        return 0;
    }

    for (k = 0; k < DSI_PG_PREPARED_MAX; k++) {
        if (c->prepared[k].sql == NULL) {
            break;
        }
    }

    if (k == DSI_PG_PREPARED_MAX) {
        return 0;
    }

    c->prepared[k].sql = strdup(stmt->sql);

    if (c->prepared[k].sql == NULL) {
        return 0;
    }

    c->prepared[k].hash = hash;
    c->prepared[k].name = ++c->names;
    snprintf(name, sizeof(name), "ds_%u", c->prepared[k].name);

    if (PQsendPrepare(c->pg, name, stmt->sql, stmt->nparams, NULL) != 1) {
        dsi_pg_fail(c, "sending");
        return -1;
    }

    c->prepare[c->nprepare++] = (size_t) k;

    return 0;
}


static int
dsi_pg_send_stmt(dsi_pg_conn_t *c, const dsi_pg_stmt_t *stmt)
{
    int   k;
    char  name[DSI_PG_NAME_LEN];

    k = dsi_pg_find(c, stmt->sql, dsi_pg_hash(stmt->sql));

    if (k < 0) {
        return PQsendQueryParams(c->pg, stmt->sql, stmt->nparams, NULL,
                                 stmt->values, NULL, NULL, 0)
               == 1 ? 0 : -1;
    }

    snprintf(name, sizeof(name), "ds_%u", c->prepared[k].name);

    return PQsendQueryPrepared(c->pg, name, stmt->nparams, stmt->values,
                               NULL, NULL, 0) == 1 ? 0 : -1;
}


/*
 * After the batch's sync: a prepare that failed is to be made again, and
 * so is a statement the server refused for its stale plan (0A000,
 * "cached plan must not change result type").
 */

static void
dsi_pg_prepared_check(dsi_pg_conn_t *c)
{
    int          k;
    size_t       i, first;
    const char  *state;
    PGresult    *res;

    first = c->skip - c->nprepare - (size_t) c->transaction;

    for (i = 0; i < c->nprepare; i++) {
        if (PQresultStatus(c->results[first + i]) != PGRES_COMMAND_OK) {
            free(c->prepared[c->prepare[i]].sql);
            c->prepared[c->prepare[i]].sql = NULL;
        }
    }

    for (i = c->skip; i < c->nresults; i++) {
        res = c->results[i];

        if (PQresultStatus(res) != PGRES_FATAL_ERROR) {
            continue;
        }

        state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

        if (state == NULL || strcmp(state, "0A000") != 0) {
            continue;
        }

        for (k = 0; k < DSI_PG_PREPARED_MAX; k++) {
            /* which statement it was is not kept: all are made again */
            free(c->prepared[k].sql);
            c->prepared[k].sql = NULL;
        }

        return;
    }
}


static int
dsi_pg_find(dsi_pg_conn_t *c, const char *sql, uint32_t hash)
{
    int  k;

    for (k = 0; k < DSI_PG_PREPARED_MAX; k++) {
        if (c->prepared[k].sql != NULL && c->prepared[k].hash == hash
            && strcmp(c->prepared[k].sql, sql) == 0)
        {
            return k;
        }
    }

    return -1;
}


/* FNV-1a */

static uint32_t
dsi_pg_hash(const char *sql)
{
    uint32_t  h;

    for (h = 2166136261u; *sql; sql++) {
        h = (h ^ (unsigned char) *sql) * 16777619u;
    }

    return h;
}


/* libpq's message, on one line, after what was being done */

static void
dsi_pg_fail(dsi_pg_conn_t *c, const char *what)
{
    char  *p;

    snprintf(c->err, DSI_PG_ERR_LEN, "%s: %s", what,
             PQerrorMessage(c->pg));

    for (p = c->err; *p; p++) {
        if (*p == '\n') {
            *p = ' ';
        }
    }

    c->state = DSI_PG_BROKEN;
}


/* splits a comma list in place; an empty list has no items */

static size_t
dsi_pg_split(char *list, char **items, size_t max)
{
    size_t  n;
    char   *p;

    if (list[0] == '\0') {
        return 0;
    }

    n = 0;
    items[n++] = list;

    for (p = list; *p && n < max; p++) {
        if (*p == ',') {
            *p = '\0';
            items[n++] = p + 1;
        }
    }

    return n;
}


/* a socket directory, or an abstract socket (libpq: '@') */

static int
dsi_pg_is_socket(const char *host)
{
    return host[0] == '/' || host[0] == '@';
}


static int
dsi_pg_is_address(const char *host)
{
    unsigned char  buf[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, host, buf) == 1
           || inet_pton(AF_INET6, host, buf) == 1;
}


static void
dsi_pg_add(dsi_pg_buf_t *b, const char *s, size_t len)
{
    char    *p;
    size_t   size;

    if (b->oom || len == 0) {
        return;
    }

    if (b->size - b->len < len) {
        size = b->size ? b->size : 128;

        while (size - b->len < len) {
            size *= 2;
        }

        p = realloc(b->data, size);
        if (p == NULL) {
            b->oom = 1;
            return;
        }

        b->data = p;
        b->size = size;
    }

    memcpy(b->data + b->len, s, len);
    b->len += len;
}


/* key='value' with ' and \ escaped, after a space; nothing for NULL */

static void
dsi_pg_add_value(dsi_pg_buf_t *b, const char *key, const char *value)
{
    const char  *p;

    if (value == NULL) {
        return;
    }

    if (b->len) {
        dsi_pg_add(b, " ", 1);
    }

    dsi_pg_add(b, key, strlen(key));
    dsi_pg_add(b, "='", 2);

    for (p = value; *p; p++) {
        if (*p == '\'' || *p == '\\') {
            dsi_pg_add(b, "\\", 1);
        }

        dsi_pg_add(b, p, 1);
    }

    dsi_pg_add(b, "'", 1);
}
