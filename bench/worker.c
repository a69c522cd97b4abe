/*
 * Copyright (C) ngx_durable authors
 *
 * bench/worker: a minimal batching worker for the end-to-end benchmark
 * (docs/worker-protocol.md). It starts HelloSequence orchestrations over
 * the management API and runs them: each is five SayHello activities in a
 * row, then completes with the five greetings.
 *
 *   worker -p PORT [-B BASE] [-q QUERY] [-d SECONDS] [-w WARMUP]
 *          [-c COMPLETERS] [-s STARTERS] [-i INFLIGHT] [-m MAX] [-W WAIT]
 *          [-b BATCH] [-C 0|1] [-P PID,PID,...]
 *
 * Threads, each with its own keep-alive HTTP/1.1 connection to 127.0.0.1:
 *   - STARTERS threads POST B/orchestrators/HelloSequence while fewer than
 *     INFLIGHT started orchestrations are unfinished;
 *   - with -C 1 (the default), 2 * COMPLETERS runners: each sends the
 *     completions of the items it holds, all in one JSON array, with
 *     claim= of the other kind (B/worker/orchestrations/complete
 *     ?claim=activities&max=MAX and the reverse), so the answer brings
 *     its next items: one request per step. A runner that holds nothing
 *     claims (wait=WAIT), orchestrations and activities in turn. It reads
 *     the answers in place (js_next(), below), not with jansson;
 *   - with -C 0, one claimer per kind POSTs B/worker/{orchestrations,
 *     activities}/claim?max=MAX&wait=WAIT (long-poll), decides every
 *     item (jansson) and queues their completions, BATCH (default 50) to
 *     a JSON array, one request each (-b 1: one completion per request),
 *     and COMPLETERS (default 8) threads per kind POST them concurrently.
 * STARTERS defaults to 16 (each has one start in flight): row 16 of the
 * benchmark runs with the default, row 6 with 128.
 * After WARMUP seconds it counts orchestrations whose completion answered
 * "Completed" for SECONDS seconds, and reads the CPU time (utime + stime,
 * /proc/<pid>/stat) of the PIDs given with -P (nginx) and of itself over
 * the same window. Prints one JSON line:
 *   {"orchestrations_per_s":..,"completed":..,"started":..,"seconds":..,
 *    "nginx_cpu_s":..,"worker_cpu_s":..,"machine_busy_pct":..,
 *    "iowait_pct":..,"errors":..,"requests":..,"requests_per_s":..,
 *    "work_items_per_s":..,"inflight_avg":..,"items_per_complete":..,
 *    "completes":..,"idle_claims":..,"idle_claims_empty":..,
 *    "start_ms":..}
 * work items: completions answered 200 (orchestration episodes and
 * activities), the unit of published Durable Task backend figures.
 * The last six say what bounds the rate: the orchestrations in flight
 * (sampled every 10 ms), the completions per runner request and their
 * count, the claims of runners that held nothing (and how many came back
 * empty: work lacked), and the mean time of a start.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "util.h"


#define NACT        5
#define MAX_PIDS    16

static const char  *cities[NACT] = {
    "Tokyo", "Seattle", "London", "Paris", "Cairo"
};

static int          port = 8080;
static const char  *base = "/runtime/webhooks/durabletask";
static const char  *query = "";
static int          claim_max = 100;
static int          claim_wait = 1;
static int          batch_max = 50;     /* completions per request */
static long         inflight_max = 4000;
static int          chain = 1;          /* complete?claim=: -C */

static atomic_int   stopping;
static atomic_long  started, completed, errors, requests;
static atomic_long  work_items;         /* completions answered 200 */

/* starters wait here while INFLIGHT orchestrations are unfinished */
static pthread_mutex_t  inflight_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t   inflight_cv = PTHREAD_COND_INITIALIZER;

/* what bounds the rate: the last six members of the output */
static atomic_long  runner_posts;       /* completions sent with claim= */
static atomic_long  runner_items;       /* completions in them */
static atomic_long  idle_claims;        /* plain claims of idle runners */
static atomic_long  idle_empty;         /* those that came back empty */
static atomic_long  start_us;           /* time spent in starts */


/* the benchmark cannot go on without memory: it stops at once */

static void *
must(void *p)
{
    if (p == NULL) {
        fprintf(stderr, "worker: out of memory\n");
        abort();
    }

    return p;
}


/*
 * jansson's allocations come from a per-thread arena that is reset once a
 * thread holds no JSON value (after each answer is decided), rather than
 * from malloc: an answer of 100 items with their histories is thousands
 * of small values, and malloc and free were a third of the worker's CPU
 * (perf). What does not fit in the arena goes to malloc.
 */

#define ARENA_SIZE  (16 << 20)

typedef struct {
    char    *base;
    size_t   used;
} arena_t;

static __thread arena_t  arena;


static void *
arena_alloc(size_t n)
{
    void  *p;

    n = (n + 15) & ~(size_t) 15;

    if (arena.base == NULL) {
        arena.base = must(malloc(ARENA_SIZE));
    }

    if (arena.used + n > ARENA_SIZE) {
        return malloc(n);
    }

    p = arena.base + arena.used;
    arena.used += n;
    return p;
}


static void
arena_free(void *p)
{
    if (arena.base == NULL || (char *) p < arena.base
        || (char *) p >= arena.base + ARENA_SIZE)
    {
        free(p);
    }
}


/* the thread holds no JSON value any more */

static void
arena_reset(void)
{
    arena.used = 0;
}


/* a value's compact text in memory of malloc's, for another thread */

static char *
dump(json_t *v)
{
    char    *s;
    size_t   n;

    n = json_dumpb(v, NULL, 0, JSON_COMPACT);
    s = must(malloc(n + 1));
    json_dumpb(v, s, n, JSON_COMPACT);
    s[n] = '\0';

    return s;
}


/* ---- a blocking keep-alive HTTP/1.1 client --------------------------- */

typedef struct {
    int      fd;
    char    *buf;
    size_t   cap, len;      /* bytes buffered */
    char    *body;          /* the last answer's body (in buf) */
    size_t   body_len;
} conn_t;


static int
conn_open(conn_t *c)
{
    int                 one = 1;
    struct sockaddr_in  sa;

    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0) {
        return -1;
    }

    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (connect(c->fd, (struct sockaddr *) &sa, sizeof(sa)) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }

    c->len = 0;
    return 0;
}


static void
conn_close(conn_t *c)
{
    if (c->fd >= 0) {
        close(c->fd);
    }
    c->fd = -1;
    c->len = 0;
}


static int
read_more(conn_t *c)
{
    ssize_t  n;

    if (c->cap - c->len < 65536) {
        c->cap = c->cap ? c->cap * 2 : 262144;
        c->buf = realloc(c->buf, c->cap);
        if (c->buf == NULL) {
            abort();
        }
    }

    for ( ;; ) {
        n = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
        if (n > 0) {
            c->len += n;
            c->buf[c->len] = '\0';
            return 0;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        return -1;
    }
}


static int
write_all(int fd, const char *p, size_t n)
{
    ssize_t  w;

    while (n) {
        w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return -1;
        }
        p += w;
        n -= w;
    }

    return 0;
}


/*
 * One request; returns the status (0 on a transport error). The body is
 * c->body (NUL-terminated) until the next request on c.
 */

static int
http_post(conn_t *c, const char *path, const char *body, size_t body_len)
{
    int      status, chunked, tries;
    char     head[2048], *end, *p, *line;
    size_t   hlen, clen, need, consumed, chunk;

    for (tries = 0; tries < 2; tries++) {

        if (c->fd < 0 && conn_open(c) != 0) {
            return 0;
        }

        hlen = snprintf(head, sizeof(head),
                        "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Content-Type: application/json\r\n"
                        "Content-Length: %zu\r\n\r\n", path, body_len);

        /* the previous answer was consumed whole: the buffer is empty */
        c->len = 0;

        if (write_all(c->fd, head, hlen) != 0
            || (body_len && write_all(c->fd, body, body_len) != 0))
        {
            conn_close(c);
            continue;
        }

        while ((end = c->len ? strstr(c->buf, "\r\n\r\n") : NULL) == NULL) {
            if (read_more(c) != 0) {
                break;
            }
        }

        if (end == NULL) {
            conn_close(c);
            if (c->len == 0) {
                continue;       /* keep-alive closed by the server: retry */
            }
            return 0;
        }

        atomic_fetch_add(&requests, 1);

        status = 0;
        sscanf(c->buf, "HTTP/1.%*d %d", &status);

        clen = 0;
        chunked = 0;
        *end = '\0';

        for (line = strstr(c->buf, "\r\n"); line; line = strstr(line, "\r\n")) {
            line += 2;
            if (strncasecmp(line, "Content-Length:", 15) == 0) {
                clen = strtoul(line + 15, NULL, 10);
            } else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0
                       && strstr(line, "chunked"))
            {
                chunked = 1;
            }
        }

        p = end + 4;
        consumed = p - c->buf;

        if (!chunked) {
            need = consumed + clen;
            while (c->len < need) {
                if (read_more(c) != 0) {
                    conn_close(c);
                    return 0;
                }
                p = c->buf + consumed;
            }
            c->body = c->buf + consumed;
            c->body_len = clen;
            c->body[clen] = '\0';
            return status;
        }

        /* chunked: decode in place */
        {
            size_t  out = consumed, pos = consumed;

            for ( ;; ) {
                char  *crlf;

                while ((crlf = memmem(c->buf + pos, c->len - pos, "\r\n", 2))
                       == NULL)
                {
                    if (read_more(c) != 0) {
                        conn_close(c);
                        return 0;
                    }
                }

                chunk = strtoul(c->buf + pos, NULL, 16);
                pos = crlf - c->buf + 2;

                while (c->len < pos + chunk + 2) {
                    if (read_more(c) != 0) {
                        conn_close(c);
                        return 0;
                    }
                }

                if (chunk == 0) {
                    break;
                }

                memmove(c->buf + out, c->buf + pos, chunk);
                out += chunk;
                pos += chunk + 2;
            }

            c->body = c->buf + consumed;
            c->body_len = out - consumed;
            c->body[c->body_len] = '\0';
            return status;
        }
    }

    return 0;
}


/* ---- a bounded queue of completion requests -------------------------- */

typedef struct {
    char  *path;
    char  *body;    /* one completion, or an array of several */
    int    final;   /* an orchestration completion that finishes it */
} job_t;

typedef struct {
    pthread_mutex_t  mu;
    pthread_cond_t   not_empty, not_full;
    job_t           *jobs;
    size_t           cap, head, n;
} queue_t;


static void
queue_init(queue_t *q, size_t cap)
{
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    q->jobs = must(calloc(cap, sizeof(job_t)));
    q->cap = cap;
    q->head = 0;
    q->n = 0;
}


static void
queue_push(queue_t *q, job_t j)
{
    pthread_mutex_lock(&q->mu);
    while (q->n == q->cap) {
        pthread_cond_wait(&q->not_full, &q->mu);
    }
    q->jobs[(q->head + q->n) % q->cap] = j;
    q->n++;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
}


static int
queue_pop(queue_t *q, job_t *j)
{
    struct timespec  ts;

    pthread_mutex_lock(&q->mu);
    while (q->n == 0) {
        if (atomic_load(&stopping)) {
            pthread_mutex_unlock(&q->mu);
            return -1;
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&q->not_empty, &q->mu, &ts);
    }
    *j = q->jobs[q->head];
    q->head = (q->head + 1) % q->cap;
    q->n--;
    pthread_cond_signal(&q->not_full);
    pthread_mutex_unlock(&q->mu);
    return 0;
}


static queue_t  orch_q, act_q;


static char *
mkpath(const char *fmt, ...)
{
    char     *s, *r;
    va_list   ap;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0) {
        abort();
    }
    va_end(ap);

    if (asprintf(&r, "%s%s%s%s", base, s, strchr(s, '?') ? "&" : "?",
                 query) < 0)
    {
        abort();
    }
    free(s);
    return r;
}


/* ---- the orchestration: HelloSequence -------------------------------- */

static void
collect(json_t *events, json_t *results, int *scheduled, int *failed)
{
    size_t       i;
    json_t      *ev;
    const char  *t;

    json_array_foreach(events, i, ev) {
        t = json_string_value(json_object_get(ev, "EventType"));
        if (t == NULL) {
            continue;
        }
        if (strcmp(t, "TaskScheduled") == 0) {
            (*scheduled)++;
        } else if (strcmp(t, "TaskCompleted") == 0) {
            json_t  *r = json_object_get(ev, "Result");
            json_array_append(results, r ? r : json_null());
        } else if (strcmp(t, "TaskFailed") == 0) {
            (*failed)++;
        }
    }
}


static job_t
decide_orchestration(json_t *item)
{
    int      scheduled = 0, failed = 0, done;
    job_t    j;
    json_t  *results, *actions, *a, *body;

    results = json_array();
    collect(json_object_get(item, "history"), results, &scheduled, &failed);
    collect(json_object_get(item, "messages"), results, &scheduled, &failed);
    done = (int) json_array_size(results);

    actions = json_array();
    j.final = 0;

    if (failed) {
        a = json_pack("{s:s,s:s}", "type", "fail", "reason", "activity failed");
        json_array_append_new(actions, a);
        j.final = 1;

    } else if (done >= NACT) {
        a = json_pack("{s:s,s:O}", "type", "complete", "output", results);
        json_array_append_new(actions, a);
        j.final = 1;

    } else if (scheduled == done) {
        a = json_pack("{s:s,s:i,s:s,s:s}", "type", "scheduleActivity",
                      "id", scheduled, "name", "SayHello",
                      "input", cities[scheduled]);
        json_array_append_new(actions, a);
    }

    body = json_pack("{s:O,s:O,s:o}",
                     "instanceId", json_object_get(item, "instanceId"),
                     "lease", json_object_get(item, "lease"),
                     "actions", actions);
    j.body = dump(body);
    j.path = NULL;
    json_decref(body);
    json_decref(results);

    return j;
}


static job_t
decide_activity(json_t *item)
{
    job_t        j;
    char         greeting[300];
    json_t      *body;
    const char  *in;

    in = json_string_value(json_object_get(item, "input"));
    snprintf(greeting, sizeof(greeting), "Hello %s!", in ? in : "?");

    body = json_pack("{s:O,s:O,s:O,s:s}",
                     "instanceId", json_object_get(item, "instanceId"),
                     "taskId", json_object_get(item, "taskId"),
                     "lease", json_object_get(item, "lease"),
                     "result", greeting);
    j.body = dump(body);
    j.path = NULL;
    j.final = 0;
    json_decref(body);

    return j;
}


/*
 * ---- the answers, read in place ----------------------------------------
 *
 * A runner reads each answer where it lies instead of building jansson
 * values of it: the items carry their whole history, and jansson's parse
 * of it was two thirds of the worker's CPU, which shares the two cores
 * with nginx. The scan knows JSON's grammar well enough to step over any
 * value (strings with escapes, nesting); the module's answers are valid
 * JSON, and anything the scan cannot step over counts as an error.
 */

typedef struct {
    const char  *p;
    size_t       len;
} span_t;


static const char *
js_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
        p++;
    }

    return p;
}


/* past one value, or NULL; nesting past JS_DEPTH is refused */

#define JS_DEPTH    64

static const char *
js_skip(const char *p, const char *end)
{
    int   depth;
    char  open[JS_DEPTH];

    p = js_ws(p, end);
    depth = 0;

    while (p < end) {
        switch (*p) {

        case '"':
            for (p++; p < end && *p != '"'; p++) {
                if (*p == '\\') {
                    p++;
                }
            }

            if (p >= end) {
                return NULL;
            }

            p++;
            break;

        case '{':
        case '[':
            if (depth == JS_DEPTH) {
                return NULL;
            }

            open[depth++] = *p++;
            break;

        case '}':
        case ']':
            if (depth == 0 || open[depth - 1] != (*p == '}' ? '{' : '[')) {
                return NULL;
            }

            depth--;
            p++;
            break;

        case ',':
        case ':':
            if (depth == 0) {
                return NULL;
            }

            p++;
            break;

        default:
            /* a number, true, false, null, or space inside */
            if (depth == 0) {
                while (p < end && *p != ',' && *p != '}' && *p != ']'
                       && *p != ' ' && *p != '\n' && *p != '\t'
                       && *p != '\r')
                {
                    p++;
                }

                return p;
            }

            p++;
            break;
        }

        if (depth == 0) {
            return p;
        }
    }

    return NULL;
}


/*
 * The next element of an array or member of an object: *pp points at
 * the '[' or '{', or past the last element taken. key is set for an
 * object (the name without its quotes). 1: one taken; 0: the end; -1:
 * not JSON.
 */

static int
js_next(const char **pp, const char *end, span_t *key, span_t *val)
{
    const char  *p, *q;

    p = js_ws(*pp, end);

    if (p >= end) {
        return -1;
    }

    if (*p == '[' || *p == '{' || *p == ',') {
        p = js_ws(p + 1, end);
    }

    if (p < end && (*p == ']' || *p == '}')) {
        *pp = p + 1;
        return 0;
    }

    if (key) {
        if (p >= end || *p != '"') {
            return -1;
        }

        q = js_skip(p, end);
        if (q == NULL) {
            return -1;
        }

        key->p = p + 1;
        key->len = (size_t) (q - p - 2);
        p = js_ws(q, end);

        if (p >= end || *p != ':') {
            return -1;
        }

        p = js_ws(p + 1, end);
    }

    q = js_skip(p, end);
    if (q == NULL) {
        return -1;
    }

    val->p = p;
    val->len = (size_t) (q - p);
    *pp = q;

    return 1;
}


static int
js_is(span_t s, const char *lit)
{
    size_t  n = strlen(lit);

    return s.len == n && memcmp(s.p, lit, n) == 0;
}


/*
 * The values of n names in one pass over the object, so that a long
 * member (an item's history) is stepped over once: vals[i].len is 0
 * where names[i] is absent (no JSON value is empty); the first of two
 * members of a name counts. 1: all found (the rest of the object is not
 * read); 0: not all; -1: not JSON.
 */

static int
js_members(span_t obj, const char **names, span_t *vals, int n)
{
    int          i, rc, found;
    span_t       k, v;
    const char  *p, *end;

    p = obj.p;
    end = obj.p + obj.len;

    if (obj.len == 0 || *p != '{') {
        return -1;
    }

    for (i = 0; i < n; i++) {
        vals[i].p = NULL;
        vals[i].len = 0;
    }

    found = 0;

    while ((rc = js_next(&p, end, &k, &v)) == 1) {
        for (i = 0; i < n; i++) {
            if (vals[i].len == 0 && js_is(k, names[i])) {
                vals[i] = v;

                if (++found == n) {
                    return 1;
                }

                break;
            }
        }
    }

    return rc;
}


/* an object's member (the first of that name); 0: none, -1: not JSON */

static int
js_member(span_t obj, const char *name, span_t *val)
{
    return js_members(obj, &name, val, 1);
}


/* a text of malloc's, for another thread: printf's, into a grown buffer */

typedef struct {
    char    *p;
    size_t   len, cap;
} out_t;


static void
out_add(out_t *o, const char *fmt, ...)
{
    int      n;
    va_list  ap;

    for ( ;; ) {
        va_start(ap, fmt);
        n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);

        if (n >= 0 && o->len + (size_t) n < o->cap) {
            o->len += (size_t) n;
            return;
        }

        o->cap = o->cap ? o->cap * 2 : 1024;
        o->p = must(realloc(o->p, o->cap));
    }
}


/* an orchestration's history or messages: what its code needs of them */

static int
scan_events(span_t events, out_t *results, int *done, int *scheduled,
    int *failed)
{
    int          rc;
    span_t       ev, t, r;
    const char  *p, *end;

    if (events.len == 0 || events.p[0] != '[') {
        return -1;
    }

    p = events.p;
    end = events.p + events.len;

    while ((rc = js_next(&p, end, NULL, &ev)) == 1) {
        if (js_member(ev, "EventType", &t) != 1) {
            continue;
        }

        if (js_is(t, "\"TaskScheduled\"")) {
            (*scheduled)++;

        } else if (js_is(t, "\"TaskCompleted\"")) {
            if (js_member(ev, "Result", &r) != 1) {
                r.p = "null";
                r.len = 4;
            }

            out_add(results, "%s%.*s", *done ? "," : "", (int) r.len, r.p);
            (*done)++;

        } else if (js_is(t, "\"TaskFailed\"")) {
            (*failed)++;
        }
    }

    return rc;
}


/* decide_orchestration(), on the item's text; NULL: not JSON */

static char *
decide_orchestration_text(span_t item)
{
    int          done = 0, scheduled = 0, failed = 0;
    out_t        results = { NULL, 0, 0 }, body = { NULL, 0, 0 };
    span_t       m[4], id, lease;
    const char  *names[4] = { "instanceId", "lease", "history", "messages" };

    if (js_members(item, names, m, 4) < 0
        || m[0].len == 0 || m[1].len == 0 || m[2].len == 0
        || scan_events(m[2], &results, &done, &scheduled, &failed) < 0
        || (m[3].len
            && scan_events(m[3], &results, &done, &scheduled, &failed) < 0))
    {
        free(results.p);
        return NULL;
    }

    id = m[0];
    lease = m[1];

    out_add(&body, "{\"instanceId\":%.*s,\"lease\":%.*s,\"actions\":[",
            (int) id.len, id.p, (int) lease.len, lease.p);

    if (failed) {
        out_add(&body, "{\"type\":\"fail\",\"reason\":\"activity failed\"}");

    } else if (done >= NACT) {
        out_add(&body, "{\"type\":\"complete\",\"output\":[%.*s]}",
                (int) results.len, results.p ? results.p : "");

    } else if (scheduled == done) {
        out_add(&body, "{\"type\":\"scheduleActivity\",\"id\":%d,"
                "\"name\":\"SayHello\",\"input\":\"%s\"}",
                scheduled, cities[scheduled]);
    }

    out_add(&body, "]}");
    free(results.p);

    return body.p;
}


/*
 * decide_activity(), on the item's text: the greeting keeps the input
 * string's text as it is, escapes included, which stay valid inside the
 * new string; NULL: not JSON
 */

static char *
decide_activity_text(span_t item)
{
    out_t   body = { NULL, 0, 0 };
    span_t  id, task, lease, in;

    if (js_member(item, "instanceId", &id) != 1
        || js_member(item, "taskId", &task) != 1
        || js_member(item, "lease", &lease) != 1)
    {
        return NULL;
    }

    if (js_member(item, "input", &in) != 1 || in.len < 2 || in.p[0] != '"') {
        in.p = "\"?\"";
        in.len = 3;
    }

    out_add(&body, "{\"instanceId\":%.*s,\"taskId\":%.*s,\"lease\":%.*s,"
            "\"result\":\"Hello %.*s!\"}",
            (int) id.len, id.p, (int) task.len, task.p,
            (int) lease.len, lease.p, (int) in.len - 2, in.p + 1);

    return body.p;
}


/* ---- threads --------------------------------------------------------- */

typedef struct {
    int       kind;     /* 0 orchestrations, 1 activities */
} kind_arg_t;


static void *
claimer(void *arg)
{
    int            kind = ((kind_arg_t *) arg)->kind, status, n;
    char          *path, *cpath, *batch = NULL;
    size_t         i, len, blen = 0, cap = 0;
    conn_t         c = { -1, NULL, 0, 0, NULL, 0 };
    job_t          j;
    json_t        *root, *items, *item;
    json_error_t   e;

    path = mkpath("/worker/%s/claim?max=%d&wait=%d",
                  kind ? "activities" : "orchestrations", claim_max,
                  claim_wait);
    cpath = mkpath("/worker/%s/complete",
                   kind ? "activities" : "orchestrations");

    while (!atomic_load(&stopping)) {
        status = http_post(&c, path, "", 0);
        if (status != 200) {
            atomic_fetch_add(&errors, 1);
            if (status == 0) {
                usleep(10000);
            }
            continue;
        }

        arena_reset();
        root = json_loadb(c.body, c.body_len, 0, &e);
        if (root == NULL) {
            atomic_fetch_add(&errors, 1);
            continue;
        }

        items = json_object_get(root, "items");
        n = 0;
        json_array_foreach(items, i, item) {
            j = kind ? decide_activity(item) : decide_orchestration(item);
            j.path = cpath;

            if (batch_max <= 1) {
                queue_push(kind ? &act_q : &orch_q, j);
                continue;
            }

            /* several completions in one request: a JSON array */
            len = strlen(j.body);
            if (n == 0) {
                blen = 0;
                cap = 4096;
                batch = must(malloc(cap));
                batch[blen++] = '[';
            } else {
                batch[blen++] = ',';
            }
            if (blen + len + 2 > cap) {
                while (blen + len + 2 > cap) {
                    cap *= 2;
                }
                batch = must(realloc(batch, cap));
            }
            memcpy(batch + blen, j.body, len);
            blen += len;
            free(j.body);

            if (++n == batch_max || i == json_array_size(items) - 1) {
                batch[blen++] = ']';
                batch[blen] = '\0';
                j.body = batch;
                queue_push(kind ? &act_q : &orch_q, j);
                n = 0;
            }
        }
        json_decref(root);
    }

    return NULL;
}


static long
count_in(const char *p, size_t len, const char *what)
{
    size_t       n = strlen(what);
    long         c = 0;
    const char  *end = p + len;

    while ((p = memmem(p, (size_t) (end - p), what, n))) {
        c++;
        p += n;
    }

    return c;
}


/* n orchestrations finished: starters may start as many */

static void
finished(long n)
{
    if (n == 0) {
        return;
    }

    atomic_fetch_add(&completed, n);

    /* one starter a finished orchestration: waking them all would cost
     * more CPU than the starts they make */
    pthread_mutex_lock(&inflight_mu);
    while (n-- > 0) {
        pthread_cond_signal(&inflight_cv);
    }
    pthread_mutex_unlock(&inflight_mu);
}


/* the results of an array of completions: finished ones, and work items */

static void
count_completed(const char *p, size_t len)
{
    finished(count_in(p, len, "\"runtimeStatus\":\"Completed\""));
    atomic_fetch_add(&work_items, count_in(p, len, "{\"status\":200"));
}


static void *
completer(void *arg)
{
    int      kind = ((kind_arg_t *) arg)->kind, status;
    conn_t   c = { -1, NULL, 0, 0, NULL, 0 };
    job_t    j;

    while (queue_pop(kind ? &act_q : &orch_q, &j) == 0) {
        status = http_post(&c, j.path, j.body, strlen(j.body));
        if (status != 200) {
            atomic_fetch_add(&errors, 1);
            if (atomic_load(&errors) < 5) {
                fprintf(stderr, "worker: complete: %d %.200s\n", status,
                        status ? c.body : "(transport error)");
            }
        } else if (j.body[0] == '[') {
            /* one result per completion: count the finished ones */
            count_completed(c.body, c.body_len);
        } else {
            atomic_fetch_add(&work_items, 1);

            if (j.final && strstr(c.body, "Completed")) {
                finished(1);
            }
        }
        free(j.body);
    }

    return NULL;
}


/* appends one completion to a JSON array being built */

static void
array_add(char **buf, size_t *len, size_t *cap, const char *item)
{
    size_t  n = strlen(item);

    while (*len + n + 2 > *cap) {
        *cap = *cap ? *cap * 2 : 65536;
        *buf = must(realloc(*buf, *cap));
    }

    (*buf)[*len] = *len ? ',' : '[';
    (*len)++;
    memcpy(*buf + *len, item, n);
    *len += n;
    (*buf)[*len] = '\0';
}


/*
 * -C 1: completes what it holds and claims the other kind in the same
 * request; claims (with wait) only when it holds nothing
 */

static void *
runner(void *arg)
{
    int            kind = ((kind_arg_t *) arg)->kind, status, idle = 0, rc;
    char          *claim[2], *complete[2], *body = NULL, *one;
    long           n;
    size_t         i, len, cap = 0;
    span_t         answer, items, item;
    conn_t         c = { -1, NULL, 0, 0, NULL, 0 };
    const char    *p;

    for (i = 0; i < 2; i++) {
        claim[i] = mkpath("/worker/%s/claim?max=%d&wait=%d",
                          i ? "activities" : "orchestrations", claim_max,
                          claim_wait);
        complete[i] = mkpath("/worker/%s/complete?claim=%s&max=%d",
                             i ? "activities" : "orchestrations",
                             i ? "orchestrations" : "activities",
                             claim_max);
    }

    /* the items of the last answer, in c's buffer until the next post */
    items.p = "[]";
    items.len = 2;

    while (!atomic_load(&stopping)) {

        if (items.len <= 2) {
            /* nothing held: claim, the two kinds in turn */
            kind = idle++ & 1;
            status = http_post(&c, claim[kind], "", 0);
            atomic_fetch_add(&idle_claims, 1);

            if (status == 200 && strstr(c.body, "\"items\":[]")) {
                atomic_fetch_add(&idle_empty, 1);
            }

        } else {
            idle = 0;
            len = 0;
            n = 0;
            p = items.p;

            while ((rc = js_next(&p, items.p + items.len, NULL, &item))
                   == 1)
            {
                one = kind ? decide_activity_text(item)
                           : decide_orchestration_text(item);
                if (one == NULL) {
                    break;
                }

                array_add(&body, &len, &cap, one);
                free(one);
                n++;
            }

            if (rc != 0) {
                /* not the JSON the module sends: drop it and claim */
                atomic_fetch_add(&errors, 1);
            }

            if (rc != 0 || n == 0) {
                items.len = 0;
                continue;
            }

            body[len++] = ']';
            body[len] = '\0';

            status = http_post(&c, complete[kind], body, len);
            atomic_fetch_add(&runner_posts, 1);
            atomic_fetch_add(&runner_items, n);

            if (status == 200) {
                count_completed(c.body, c.body_len);
                kind ^= 1;
            }
        }

        items.len = 0;

        if (status != 200) {
            atomic_fetch_add(&errors, 1);
            if (atomic_load(&errors) < 5) {
                fprintf(stderr, "worker: runner: %d %.200s\n", status,
                        status ? c.body : "(transport error)");
            }
            if (status == 0) {
                usleep(10000);
            }
            continue;
        }

        answer.p = c.body;
        answer.len = c.body_len;

        if (js_member(answer, "items", &items) != 1 || items.p[0] != '[') {
            atomic_fetch_add(&errors, 1);
            items.len = 0;
        }
    }

    free(body);

    return NULL;
}


static void *
starter(void *arg)
{
    int              status;
    char            *path;
    double           t;
    conn_t           c = { -1, NULL, 0, 0, NULL, 0 };
    struct timespec  ts;

    (void) arg;
    path = mkpath("/orchestrators/HelloSequence");

    while (!atomic_load(&stopping)) {
        if (atomic_load(&started) - atomic_load(&completed) >= inflight_max) {
            /* sleeping, not polling: hundreds of starters polled every
             * millisecond took a core */
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 100000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_mutex_lock(&inflight_mu);
            if (atomic_load(&started) - atomic_load(&completed)
                >= inflight_max)
            {
                pthread_cond_timedwait(&inflight_cv, &inflight_mu, &ts);
            }
            pthread_mutex_unlock(&inflight_mu);
            continue;
        }
        t = now_s();
        status = http_post(&c, path, "\"bench\"", 7);
        atomic_fetch_add(&start_us, (long) ((now_s() - t) * 1e6));
        if (status == 202) {
            atomic_fetch_add(&started, 1);
        } else {
            atomic_fetch_add(&errors, 1);
            if (atomic_load(&errors) < 5) {
                fprintf(stderr, "worker: start: %d %.200s\n", status,
                        status ? c.body : "(transport error)");
            }
            if (status == 0) {
                usleep(10000);
            }
        }
    }

    return NULL;
}


/* the counts that say what bounds the rate, at one moment */

static void
evidence(long *v)
{
    v[0] = atomic_load(&runner_posts);
    v[1] = atomic_load(&runner_items);
    v[2] = atomic_load(&idle_claims);
    v[3] = atomic_load(&idle_empty);
    v[4] = atomic_load(&start_us);
}


/* ---- CPU accounting -------------------------------------------------- */

static double
proc_cpu_s(long pid)
{
    char    path[64], buf[2048], *p;
    FILE   *f;
    size_t  n;
    unsigned long  ut = 0, st = 0;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';

    /* fields after the command name: state is field 3, utime 14, stime 15 */
    p = strrchr(buf, ')');
    if (p == NULL) {
        return 0;
    }
    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
           &ut, &st);

    return (double) (ut + st) / sysconf(_SC_CLK_TCK);
}


static void
machine_cpu(double *busy, double *iowait, double *total)
{
    FILE                *f;
    unsigned long long   v[8] = { 0 };

    f = fopen("/proc/stat", "r");
    if (f == NULL) {
        return;
    }
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
               &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
    {
        fclose(f);
        return;
    }
    fclose(f);

    *total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
    *iowait = v[4];
    *busy = *total - v[3] - v[4];
}


/*
 * -T KIND: the completions a runner would send for the answer on
 * standard input (items of KIND: 0 orchestrations, 1 activities), each
 * ended by 0x1e, and after it as jansson's decide_*() makes it, for
 * bench/tests/test_worker_scan.py. Exits 1 if the answer is not read.
 */

static int
decide_stdin(int kind)
{
    int            rc;
    char          *one, buf[1 << 16];
    size_t         n, i;
    span_t         answer, items, item;
    json_t        *root, *jitems, *jitem;
    job_t          j;
    const char    *p;
    json_error_t   e;

    n = fread(buf, 1, sizeof(buf) - 1, stdin);
    buf[n] = '\0';
    answer.p = buf;
    answer.len = n;

    root = json_loadb(buf, n, 0, &e);
    jitems = json_object_get(root, "items");

    if (js_member(answer, "items", &items) != 1 || items.p[0] != '[') {
        json_decref(root);
        return 1;
    }

    p = items.p;
    i = 0;

    while ((rc = js_next(&p, items.p + items.len, NULL, &item)) == 1) {
        one = kind ? decide_activity_text(item)
                   : decide_orchestration_text(item);
        if (one == NULL) {
            json_decref(root);
            return 1;
        }

        jitem = json_array_get(jitems, i++);
        j = kind ? decide_activity(jitem) : decide_orchestration(jitem);

        printf("%s\x1e%s\x1e", one, j.body);
        free(one);
        free(j.body);
    }

    json_decref(root);

    return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
    int          opt, i, ncomp = 8, nstart = 16, npids = 0;
    long         pids[MAX_PIDS];
    double       secs = 10, warm = 3, t0, t1, ng0 = 0, ng1 = 0, w0, w1;
    double       b0 = 0, io0 = 0, tot0 = 0, b1 = 0, io1 = 0, tot1 = 0;
    long         c0, c1, s0, s1, r0, r1, k0, k1, ev0[5], ev1[5], nfl;
    double       fl, tw;
    char        *p, *tok;
    pthread_t    th;
    kind_arg_t   kinds[2] = { { 0 }, { 1 } };

    while ((opt = getopt(argc, argv, "p:B:q:d:w:c:s:i:m:W:b:C:P:T:")) != -1)
    {
        switch (opt) {
        case 'T': return decide_stdin(atoi(optarg));
        case 'p': port = atoi(optarg); break;
        case 'B': base = optarg; break;
        case 'q': query = optarg; break;
        case 'd': secs = atof(optarg); break;
        case 'w': warm = atof(optarg); break;
        case 'c': ncomp = atoi(optarg); break;
        case 's': nstart = atoi(optarg); break;
        case 'i': inflight_max = atol(optarg); break;
        case 'm': claim_max = atoi(optarg); break;
        case 'W': claim_wait = atoi(optarg); break;
        case 'b': batch_max = atoi(optarg); break;
        case 'C': chain = atoi(optarg); break;
        case 'P':
            p = must(strdup(optarg));
            for (tok = strtok(p, ","); tok && npids < MAX_PIDS;
                 tok = strtok(NULL, ","))
            {
                pids[npids++] = atol(tok);
            }
            break;
        default:
            fprintf(stderr, "usage: worker -p PORT [-B BASE] [-q QUERY] "
                    "[-d S] [-w S] [-c N] [-s N] [-i N] [-m N] [-W S] "
                    "[-b N] [-C 0|1] [-P PIDS] [-T 0|1]\n");
            return 2;
        }
    }

    json_set_alloc_funcs(arena_alloc, arena_free);

    queue_init(&orch_q, 4096);
    queue_init(&act_q, 4096);

    for (i = 0; chain && i < ncomp; i++) {
        pthread_create(&th, NULL, runner, &kinds[0]);
        pthread_detach(th);
        pthread_create(&th, NULL, runner, &kinds[1]);
        pthread_detach(th);
    }

    for (i = 0; !chain && i < 2; i++) {
        pthread_create(&th, NULL, claimer, &kinds[i]);
        pthread_detach(th);
    }

    for (i = 0; !chain && i < ncomp; i++) {
        pthread_create(&th, NULL, completer, &kinds[0]);
        pthread_detach(th);
        pthread_create(&th, NULL, completer, &kinds[1]);
        pthread_detach(th);
    }

    for (i = 0; i < nstart; i++) {
        pthread_create(&th, NULL, starter, NULL);
        pthread_detach(th);
    }

    usleep((useconds_t) (warm * 1e6));

    t0 = now_s();
    c0 = atomic_load(&completed);
    s0 = atomic_load(&started);
    r0 = atomic_load(&requests);
    k0 = atomic_load(&work_items);
    for (i = 0; i < npids; i++) {
        ng0 += proc_cpu_s(pids[i]);
    }
    w0 = proc_cpu_s(getpid());
    machine_cpu(&b0, &io0, &tot0);
    evidence(ev0);

    /* the orchestrations in flight, sampled every 10 ms */
    fl = 0;
    nfl = 0;
    do {
        usleep(10000);
        fl += atomic_load(&started) - atomic_load(&completed);
        nfl++;
        tw = now_s() - t0;
    } while (tw < secs);

    t1 = now_s();
    c1 = atomic_load(&completed);
    s1 = atomic_load(&started);
    r1 = atomic_load(&requests);
    k1 = atomic_load(&work_items);
    for (i = 0; i < npids; i++) {
        ng1 += proc_cpu_s(pids[i]);
    }
    w1 = proc_cpu_s(getpid());
    machine_cpu(&b1, &io1, &tot1);
    evidence(ev1);

    atomic_store(&stopping, 1);

    printf("{\"orchestrations_per_s\":%.1f,\"completed\":%ld,"
           "\"started\":%ld,\"seconds\":%.3f,\"nginx_cpu_s\":%.2f,"
           "\"worker_cpu_s\":%.2f,\"machine_busy_pct\":%.1f,"
           "\"iowait_pct\":%.1f,\"errors\":%ld,\"requests\":%ld,"
           "\"requests_per_s\":%.1f,\"work_items_per_s\":%.1f,"
           "\"inflight_avg\":%.0f,\"items_per_complete\":%.1f,"
           "\"completes\":%ld,\"idle_claims\":%ld,"
           "\"idle_claims_empty\":%ld,\"start_ms\":%.2f}\n",
           (c1 - c0) / (t1 - t0), c1 - c0, s1 - s0, t1 - t0, ng1 - ng0,
           w1 - w0, tot1 > tot0 ? 100.0 * (b1 - b0) / (tot1 - tot0) : 0.0,
           tot1 > tot0 ? 100.0 * (io1 - io0) / (tot1 - tot0) : 0.0,
           atomic_load(&errors), r1 - r0, (r1 - r0) / (t1 - t0),
           (k1 - k0) / (t1 - t0), fl / nfl,
           ev1[0] > ev0[0]
               ? (double) (ev1[1] - ev0[1]) / (ev1[0] - ev0[0]) : 0.0,
           ev1[0] - ev0[0], ev1[2] - ev0[2], ev1[3] - ev0[3],
           s1 > s0 ? (ev1[4] - ev0[4]) / 1e3 / (s1 - s0) : 0.0);
    fflush(stdout);

    _exit(0);
}
