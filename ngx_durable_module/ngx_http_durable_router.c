
/*
 * Copyright (C) ngx_durable authors
 */


#include <string.h>

#include "ngx_http_durable_router.h"


#define NGX_HTTP_DURABLE_SEGMENTS_MAX  5


typedef struct {
    const char                 *word;
    ngx_http_durable_op_e       op;
} ngx_http_durable_word_t;


const char  *ngx_http_durable_op_names[] = {
    NULL,                   /* NGX_HTTP_DURABLE_OP_NONE */
    "start",
    "status",
    "list",
    "purge",
    "purge_filter",
    "raise_event",
    "terminate",
    "suspend",
    "resume",
    "rewind",
    "restart",
    "entity_get",
    "entity_list",
    "entity_signal",
    "worker"                /* named by its action, below */
};


/* a name for every operation: the build fails when one is missing */
typedef char  ngx_http_durable_op_names_check[
    sizeof(ngx_http_durable_op_names) / sizeof(char *)
    == NGX_HTTP_DURABLE_OP_WORKER + 1 ? 1 : -1];


const char  *ngx_http_durable_work_action_names[] = {
    "claim",
    "complete",
    "renew",
    "abandon"
};


const char  *ngx_http_durable_param_names[] = {
    "taskHub",
    "connection",
    "code",
    "showInput",
    "showHistory",
    "showHistoryOutput",
    "returnInternalServerErrorOnFailure",
    "createdTimeFrom",
    "createdTimeTo",
    "runtimeStatus",
    "instanceIdPrefix",
    "top",
    "timeout",
    "pollingInterval",
    "retryInterval",
    "wait",
    "reason",
    "restartWithNewInstanceId",
    "op",
    "lastOperationTimeFrom",
    "lastOperationTimeTo",
    "fetchState",
    "max",
    "names",
    NULL
};


static const ngx_http_durable_word_t  ngx_http_durable_instance_ops[] = {
    { "terminate", NGX_HTTP_DURABLE_OP_TERMINATE },
    { "suspend", NGX_HTTP_DURABLE_OP_SUSPEND },
    { "resume", NGX_HTTP_DURABLE_OP_RESUME },
    { "rewind", NGX_HTTP_DURABLE_OP_REWIND },
    { "restart", NGX_HTTP_DURABLE_OP_RESTART },
    { NULL, NGX_HTTP_DURABLE_OP_NONE }
};


static int
ngx_http_durable_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}


static int
ngx_http_durable_equal_ci(const unsigned char *a, size_t alen,
    const char *b)
{
    size_t  i;

    for (i = 0; i < alen; i++) {
        if (b[i] == '\0'
            || ngx_http_durable_lower(a[i]) != ngx_http_durable_lower(b[i]))
        {
            return 0;
        }
    }

    return b[alen] == '\0';
}


static int
ngx_http_durable_seg_is(const ngx_http_durable_sv_t *seg, const char *word)
{
    return ngx_http_durable_equal_ci(seg->data, seg->len, word);
}


static int
ngx_http_durable_hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c = ngx_http_durable_lower(c);

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


/*
 * Percent-decoding; '+' is a space in path segments and query values.
 * With bad == NULL a '%' without two hex digits is kept as text, as the
 * reference decodes query strings (clients paste reasons unencoded).
 */

size_t
ngx_http_durable_unescape(unsigned char *dst, const unsigned char *src,
    size_t len, int *bad)
{
    int             hi, lo;
    size_t          i;
    unsigned char  *p;

    p = dst;

    for (i = 0; i < len; i++) {

        if (src[i] == '+') {
            *p++ = ' ';
            continue;
        }

        if (src[i] != '%') {
            *p++ = src[i];
            continue;
        }

        hi = (len - i < 3) ? -1 : ngx_http_durable_hex(src[i + 1]);
        lo = (len - i < 3) ? -1 : ngx_http_durable_hex(src[i + 2]);

        if (hi < 0 || lo < 0) {
            if (bad == NULL) {
                *p++ = '%';
                continue;
            }

            *bad = 1;
            return 0;
        }

        *p++ = (unsigned char) (hi * 16 + lo);
        i += 2;
    }

    return (size_t) (p - dst);
}


/*
 * WebUtility.UrlEncode, as the reference builds its URLs: letters, digits
 * and "-_.!*()" as they are, ' ' as '+', every other byte as %XX
 */

static const unsigned char  ngx_http_durable_form_class[256] = {
    /* 0: %XX, 1: as is, 2: '+' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 0,    /*  !"#$%&'()*+,-./ */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,    /* 0-9 :;<=>? */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,    /* @A-O */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,    /* P-Z [\\]^_ */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,    /* `a-o */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0     /* p-z {|}~ DEL */
};


size_t
ngx_http_durable_form_escape_len(const unsigned char *src, size_t len)
{
    size_t  i, n;

    n = len;

    for (i = 0; i < len; i++) {
        n += ngx_http_durable_form_class[src[i]] ? 0 : 2;
    }

    return n;
}


size_t
ngx_http_durable_form_escape(unsigned char *dst, const unsigned char *src,
    size_t len)
{
    size_t          i;
    unsigned char  *p;

    static const char  hex[] = "0123456789ABCDEF";

    p = dst;

    for (i = 0; i < len; i++) {

        switch (ngx_http_durable_form_class[src[i]]) {

        case 1:
            *p++ = src[i];
            break;

        case 2:
            *p++ = '+';
            break;

        default:
            *p++ = '%';
            *p++ = hex[src[i] >> 4];
            *p++ = hex[src[i] & 0x0f];
        }
    }

    return (size_t) (p - dst);
}


static int
ngx_http_durable_match_prefix(const ngx_http_durable_sv_t *prefixes,
    size_t nprefixes, const unsigned char *path, size_t len, size_t *plen)
{
    size_t  i, j, n;

    for (i = 0; i < nprefixes; i++) {
        n = prefixes[i].len;

        if (n > len || (n < len && path[n] != '/')) {
            continue;
        }

        for (j = 0; j < n; j++) {
            if (ngx_http_durable_lower(path[j])
                != ngx_http_durable_lower(prefixes[i].data[j]))
            {
                break;
            }
        }

        if (j == n) {
            *plen = n;
            return (int) i;
        }
    }

    return -1;
}


static int
ngx_http_durable_route_instances(ngx_http_durable_route_t *route,
    ngx_http_durable_sv_t *seg, size_t n, unsigned method)
{
    const ngx_http_durable_word_t  *w;

    switch (n) {

    case 1:
        route->allow = NGX_HTTP_DURABLE_GET | NGX_HTTP_DURABLE_DELETE;
        route->op = (method == NGX_HTTP_DURABLE_DELETE)
                    ? NGX_HTTP_DURABLE_OP_PURGE_MANY
                    : NGX_HTTP_DURABLE_OP_LIST;
        break;

    case 2:
        route->allow = NGX_HTTP_DURABLE_GET | NGX_HTTP_DURABLE_DELETE;
        route->op = (method == NGX_HTTP_DURABLE_DELETE)
                    ? NGX_HTTP_DURABLE_OP_PURGE_ONE
                    : NGX_HTTP_DURABLE_OP_STATUS;
        break;

    case 3:
        for (w = ngx_http_durable_instance_ops; w->word; w++) {
            if (ngx_http_durable_seg_is(&seg[2], w->word)) {
                break;
            }
        }

        if (w->word == NULL) {
            return NGX_HTTP_DURABLE_ROUTE_NOT_FOUND;
        }

        route->allow = NGX_HTTP_DURABLE_POST;
        route->op = w->op;
        break;

    case 4:
        if (!ngx_http_durable_seg_is(&seg[2], "raiseEvent")) {
            return NGX_HTTP_DURABLE_ROUTE_NOT_FOUND;
        }

        route->allow = NGX_HTTP_DURABLE_POST;
        route->op = NGX_HTTP_DURABLE_OP_RAISE_EVENT;
        route->event = seg[3];
        break;

    default:
        return NGX_HTTP_DURABLE_ROUTE_NOT_FOUND;
    }

    if (n >= 2) {
        route->id = seg[1];
        route->has_id = 1;
    }

    return NGX_HTTP_DURABLE_ROUTE_OK;
}


static const char  *ngx_http_durable_work_kinds[] = {
    "orchestrations", "activities", "entities", NULL
};

static const char  *ngx_http_durable_work_actions[] = {
    "claim", "complete", "renew", "abandon", NULL
};


static int
ngx_http_durable_route_worker(ngx_http_durable_route_t *route,
    ngx_http_durable_sv_t *seg, size_t n)
{
    int  kind, action;

    if (n != 3) {
        return NGX_HTTP_DURABLE_ROUTE_NOT_FOUND;
    }

    for (kind = 0; ngx_http_durable_work_kinds[kind]; kind++) {
        if (ngx_http_durable_seg_is(&seg[1], ngx_http_durable_work_kinds[kind]))
        {
            break;
        }
    }

    for (action = 0; ngx_http_durable_work_actions[action]; action++) {
        if (ngx_http_durable_seg_is(&seg[2],
                                    ngx_http_durable_work_actions[action]))
        {
            break;
        }
    }

    if (ngx_http_durable_work_kinds[kind] == NULL
        || ngx_http_durable_work_actions[action] == NULL)
    {
        return NGX_HTTP_DURABLE_ROUTE_NOT_FOUND;
    }

    route->allow = NGX_HTTP_DURABLE_POST;
    route->op = NGX_HTTP_DURABLE_OP_WORKER;
    route->work_kind = (ngx_http_durable_work_kind_e) kind;
    route->work_action = (ngx_http_durable_work_action_e) action;

    return NGX_HTTP_DURABLE_ROUTE_OK;
}


static int
ngx_http_durable_route_entities(ngx_http_durable_route_t *route,
    ngx_http_durable_sv_t *seg, size_t n, unsigned method)
{
    if (n > 3) {
        return NGX_HTTP_DURABLE_ROUTE_NOT_FOUND;
    }

    if (n == 1) {
        route->allow = NGX_HTTP_DURABLE_GET;
        route->op = NGX_HTTP_DURABLE_OP_ENTITY_LIST;
        return NGX_HTTP_DURABLE_ROUTE_OK;
    }

    route->allow = NGX_HTTP_DURABLE_GET | NGX_HTTP_DURABLE_POST
                   | NGX_HTTP_DURABLE_DELETE;
    route->name = seg[1];

    if (n == 3) {
        route->id = seg[2];
        route->has_id = 1;
    }

    if (method != NGX_HTTP_DURABLE_GET) {
        route->op = NGX_HTTP_DURABLE_OP_ENTITY_SIGNAL;

    } else {
        route->op = (n == 3) ? NGX_HTTP_DURABLE_OP_ENTITY_GET
                             : NGX_HTTP_DURABLE_OP_ENTITY_LIST;
    }

    return NGX_HTTP_DURABLE_ROUTE_OK;
}


/*
 * path: the raw request path (no query); scratch: room for len bytes,
 * the decoded segments point into it.
 */

int
ngx_http_durable_route(ngx_http_durable_route_t *route,
    const ngx_http_durable_sv_t *prefixes, size_t nprefixes,
    unsigned method, const unsigned char *path, size_t len,
    unsigned char *scratch)
{
    int                     rc, bad, found;
    size_t                  n, plen, start, end, i, k;
    ngx_http_durable_sv_t   seg[NGX_HTTP_DURABLE_SEGMENTS_MAX];

    memset(route, 0, sizeof(ngx_http_durable_route_t));

    found = ngx_http_durable_match_prefix(prefixes, nprefixes, path, len,
                                          &plen);
    if (found < 0) {
        return NGX_HTTP_DURABLE_ROUTE_NOT_FOUND;
    }

    route->prefix = (size_t) found;

    /* leading and trailing slashes are ignored */

    start = plen;
    while (start < len && path[start] == '/') {
        start++;
    }

    end = len;
    while (end > start && path[end - 1] == '/') {
        end--;
    }

    n = 0;
    bad = 0;
    i = start;

    while (i < end) {
        k = i;
        while (k < end && path[k] != '/') {
            k++;
        }

        if (k == i) {
            return NGX_HTTP_DURABLE_ROUTE_EMPTY;
        }

        if (n == NGX_HTTP_DURABLE_SEGMENTS_MAX) {
            return NGX_HTTP_DURABLE_ROUTE_NOT_FOUND;
        }

        seg[n].data = scratch;
        seg[n].len = ngx_http_durable_unescape(scratch, path + i, k - i,
                                               &bad);
        if (bad) {
            return NGX_HTTP_DURABLE_ROUTE_ENCODING;
        }

        scratch += seg[n].len;
        n++;
        i = k + 1;
    }

    if (n == 0) {
        return NGX_HTTP_DURABLE_ROUTE_NOT_FOUND;
    }

    if (ngx_http_durable_seg_is(&seg[0], "orchestrators")) {
        if (n < 2 || n > 3) {
            return NGX_HTTP_DURABLE_ROUTE_NOT_FOUND;
        }

        route->allow = NGX_HTTP_DURABLE_POST;
        route->op = NGX_HTTP_DURABLE_OP_START;
        route->name = seg[1];

        if (n == 3) {
            route->id = seg[2];
            route->has_id = 1;
        }

        rc = NGX_HTTP_DURABLE_ROUTE_OK;

    } else if (ngx_http_durable_seg_is(&seg[0], "instances")) {
        rc = ngx_http_durable_route_instances(route, seg, n, method);

    } else if (ngx_http_durable_seg_is(&seg[0], "entities")) {
        rc = ngx_http_durable_route_entities(route, seg, n, method);

    } else if (ngx_http_durable_seg_is(&seg[0], "worker")) {
        rc = ngx_http_durable_route_worker(route, seg, n);

    } else {
        rc = NGX_HTTP_DURABLE_ROUTE_NOT_FOUND;
    }

    if (rc == NGX_HTTP_DURABLE_ROUTE_OK && !(route->allow & method)) {
        rc = NGX_HTTP_DURABLE_ROUTE_METHOD;
    }

    if (rc != NGX_HTTP_DURABLE_ROUTE_OK && rc != NGX_HTTP_DURABLE_ROUTE_METHOD)
    {
        route->op = NGX_HTTP_DURABLE_OP_NONE;
    }

    return rc;
}


/*
 * The parameter a raw (still encoded) name stands for, or -1. The name is
 * decoded as the parser decodes it ("%63ode", "+code", "CODE%20" are all
 * "code") without a buffer: the log masker calls this too, and must find
 * exactly the parameters the parser finds.
 */

int
ngx_http_durable_param_lookup(const unsigned char *raw, size_t len)
{
    int            hi, lo, c, i, past;
    size_t         k, n;
    unsigned char  name[NGX_HTTP_DURABLE_PARAM_LEN];

    n = 0;
    past = 0;       /* past the name: only trailing space may follow */

    for (k = 0; k < len; k++) {
        c = raw[k];

        if (c == '+') {
            c = ' ';

        } else if (c == '%' && len - k >= 3) {
            hi = ngx_http_durable_hex(raw[k + 1]);
            lo = ngx_http_durable_hex(raw[k + 2]);

            if (hi >= 0 && lo >= 0) {
                c = hi * 16 + lo;
                k += 2;
            }
        }

        if (c == ' ' || c == '\t') {
            past = (n > 0);
            continue;
        }

        if (past || n == sizeof(name)) {
            return -1;
        }

        name[n++] = (unsigned char) c;
    }

    for (i = 0; ngx_http_durable_param_names[i]; i++) {
        if (ngx_http_durable_equal_ci(name, n,
                                      ngx_http_durable_param_names[i]))
        {
            return i;
        }
    }

    return -1;
}


/*
 * The next name=value pair of a query string at or after *pos: pairs are
 * separated by '&', the name ends at the first '='; a pair without '=' or
 * with an empty name is skipped. Returns 0 at the end.
 */

int
ngx_http_durable_query_next(const unsigned char *args, size_t len,
    size_t *pos, ngx_http_durable_sv_t *name, ngx_http_durable_sv_t *value)
{
    size_t  i, k, eq;

    for (i = *pos; i < len; i = k + 1) {
        eq = 0;

        for (k = i; k < len && args[k] != '&'; k++) {
            if (args[k] == '=' && eq == 0) {
                eq = k;
            }
        }

        if (eq == 0 || eq == i) {
            continue;
        }

        name->data = (unsigned char *) args + i;
        name->len = eq - i;
        value->data = (unsigned char *) args + eq + 1;
        value->len = k - eq - 1;

        *pos = k + 1;

        return 1;
    }

    *pos = len;

    return 0;
}


static void
ngx_http_durable_trim(ngx_http_durable_sv_t *v)
{
    while (v->len && (v->data[0] == ' ' || v->data[0] == '\t')) {
        v->data++;
        v->len--;
    }

    while (v->len && (v->data[v->len - 1] == ' '
                      || v->data[v->len - 1] == '\t'))
    {
        v->len--;
    }
}


/*
 * Parameter names are case-insensitive, names and values percent-decoded
 * and trimmed. runtimeStatus may repeat: its values are joined with ','.
 * names may repeat: each value is one name, kept in q->names (the first
 * NGX_HTTP_DURABLE_NAMES_MAX of them; q->nnames counts all). Any other
 * parameter may repeat only with the same (decoded, trimmed)
 * value; given twice with different values it is an error: the index of
 * the first such parameter is returned (-1: all fine).
 * scratch: room for 2 * len bytes.
 */

int
ngx_http_durable_parse_query(ngx_http_durable_query_t *q,
    const unsigned char *args, size_t len, unsigned char *scratch)
{
    int                     idx, dup;
    size_t                  i;
    unsigned char          *list;
    ngx_http_durable_sv_t   name, raw, value;

    memset(q, 0, sizeof(ngx_http_durable_query_t));

    /* the second half of scratch holds the joined runtimeStatus list */
    list = scratch + len;
    q->v[NGX_HTTP_DURABLE_Q_RUNTIMESTATUS].data = list;

    dup = -1;
    i = 0;

    while (ngx_http_durable_query_next(args, len, &i, &name, &raw)) {

        idx = ngx_http_durable_param_lookup(name.data, name.len);
        if (idx < 0) {
            continue;
        }

        value.data = scratch;
        value.len = ngx_http_durable_unescape(scratch, raw.data, raw.len,
                                              NULL);

        scratch += value.len;
        ngx_http_durable_trim(&value);

        if (idx == NGX_HTTP_DURABLE_Q_NAMES) {
            if (q->nnames < NGX_HTTP_DURABLE_NAMES_MAX) {
                q->names[q->nnames] = value;
            }

            q->nnames++;
            q->v[idx] = value;

        } else if (idx == NGX_HTTP_DURABLE_Q_RUNTIMESTATUS) {
            if (q->set[idx]) {
                *list++ = ',';
            }

            memcpy(list, value.data, value.len);
            list += value.len;
            q->v[idx].len = (size_t) (list - q->v[idx].data);

        } else {
            /* the same value again is no conflict: clients send that */

            if (q->set[idx] && dup < 0
                && (q->v[idx].len != value.len
                    || memcmp(q->v[idx].data, value.data, value.len) != 0))
            {
                dup = idx;
            }

            q->v[idx] = value;
        }

        q->set[idx] = 1;
    }

    return dup;
}
