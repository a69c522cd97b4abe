
/*
 * Copyright (C) ngx_durable authors
 *
 * PostgreSQL connections that never block (ds_pg.h): connecting with
 * PQconnectStart()/PQconnectPoll(), batches sent in pipeline mode on a
 * non-blocking socket and read back with PQconsumeInput(), PQisBusy()
 * and PQgetResult() when the socket is readable.
 *
 * A batch is BEGIN, the statements, COMMIT and one sync, flushed
 * together: one round trip. In pipeline mode each statement's results
 * end with a NULL from PQgetResult(), and the sync's own result
 * (PGRES_PIPELINE_SYNC) ends the batch. A statement that fails aborts
 * the rest up to the sync (PGRES_PIPELINE_ABORTED), COMMIT included, and
 * leaves the transaction open and failed: the next batch starts with a
 * ROLLBACK of it.
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


#define DSI_PG_HOSTS_MAX    64
#define DSI_PG_ERR_LEN      256
#define DSI_PG_ADDR_LEN     64      /* a numeric IPv6 address and scope */


typedef enum {
    DSI_PG_CONNECTING = 0,
    DSI_PG_IDLE,
    DSI_PG_BUSY,
    DSI_PG_BROKEN
} dsi_pg_state_e;


struct dsi_pg_conn_s {
    PGconn                     *pg;
    dsi_pg_state_e              state;
    PostgresPollingStatusType   poll;       /* connecting: what it awaits */
    int                         flushing;   /* output left to send */
    int                         transaction;
    size_t                      skip;       /* results before the batch's
                                               statements: ROLLBACK, BEGIN */
    size_t                      expected;   /* results of the batch */
    size_t                      nresults;
    PGresult                  **results;
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
static int dsi_pg_keep(dsi_pg_conn_t *c, PGresult *res);
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
} dsi_pg_hosts_t;


static int
dsi_pg_hosts(const char *conninfo, dsi_pg_hosts_t *h, char *err,
    size_t errlen)
{
    char              *msg;
    PQconninfoOption  *o;

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
        }
    }

    return 0;
}


int
dsi_pg_conninfo_check(const char *conninfo, char *err, size_t errlen)
{
    int              rc;
    char            *hosts[DSI_PG_HOSTS_MAX], *addrs[DSI_PG_HOSTS_MAX];
    char            *hcopy, *acopy;
    size_t           nh, na, i;
    dsi_pg_hosts_t   h;

    if (dsi_pg_hosts(conninfo, &h, err, errlen) != 0) {
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

    if (dsi_pg_hosts(conninfo, &h, err, errlen) != 0) {
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
 * "dbname"), so its own keepalives settings take their place.
 */
static const char *const  dsi_pg_keys[] = {
    "keepalives", "keepalives_idle", "keepalives_interval",
    "keepalives_count", "dbname", NULL
};


dsi_pg_conn_t *
dsi_pg_conn_start(const char *conninfo, char *err, size_t errlen)
{
    dsi_pg_conn_t  *c;
    const char     *values[] = {
        DSI_PG_KEEPALIVES, DSI_PG_KEEPALIVES_IDLE,
        DSI_PG_KEEPALIVES_INTERVAL, DSI_PG_KEEPALIVES_COUNT, NULL, NULL
    };

    values[4] = conninfo;

    if (dsi_pg_conninfo_check(conninfo, err, errlen) != 0) {
        return NULL;
    }

    c = calloc(1, sizeof(dsi_pg_conn_t));
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    c->pg = PQconnectStartParams(dsi_pg_keys, values, 1);

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
 * The results that arrived; READY once the sync's has. libpq reads once
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

            if (c->nresults != c->expected) {
                snprintf(c->err, DSI_PG_ERR_LEN, "%zu results for %zu "
                         "statements", c->nresults, c->expected);
                c->state = DSI_PG_BROKEN;
                return DSI_PG_FAILED;
            }

            c->state = DSI_PG_IDLE;
            return DSI_PG_READY;
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
    int     rollback;
    size_t  i;

    if (c->state != DSI_PG_IDLE || c->nresults != 0) {
        snprintf(c->err, DSI_PG_ERR_LEN, "a batch is in flight");
        return -1;
    }

    /* a transaction left open by a failed batch ends first */
    rollback = PQtransactionStatus(c->pg) != PQTRANS_IDLE;

    c->transaction = transaction ? 1 : 0;
    c->skip = (size_t) rollback + (size_t) c->transaction;
    c->expected = c->skip + n + (size_t) c->transaction;
    c->results = calloc(c->expected + 1, sizeof(PGresult *));

    if (c->results == NULL) {
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

    if (transaction
        && PQsendQueryParams(c->pg, "BEGIN", 0, NULL, NULL, NULL, NULL, 0)
           != 1)
    {
        dsi_pg_fail(c, "sending");
        return -1;
    }

    for (i = 0; i < n; i++) {
        if (PQsendQueryParams(c->pg, stmts[i].sql, stmts[i].nparams, NULL,
                              stmts[i].values, NULL, NULL, 0)
            != 1)
        {
            dsi_pg_fail(c, "sending");
            return -1;
        }
    }

    if ((transaction
         && PQsendQueryParams(c->pg, "COMMIT", 0, NULL, NULL, NULL, NULL, 0)
            != 1)
        || PQpipelineSync(c->pg) != 1)
    {
        dsi_pg_fail(c, "sending");
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
    return c->results[c->skip + i];
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
    c->results = NULL;
    c->nresults = 0;
    c->expected = 0;
    c->skip = 0;
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
    if (c == NULL) {
        return;
    }

    dsi_pg_conn_release(c);
    PQfinish(c->pg);
    free(c);
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
