
/*
 * Copyright (C) ngx_durable authors
 */


#include <string.h>

#include "ds_route.h"


#define DS_ROUTE_SEGMENTS_MAX  5


typedef struct {
    const char    *word;
    ds_route_op_e  op;
} ds_route_word_t;


const char  *ds_route_op_names[] = {
    NULL,                   /* DS_ROUTE_OP_NONE */
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
typedef char  ds_route_op_names_check[
    sizeof(ds_route_op_names) / sizeof(char *)
    == DS_ROUTE_OP_WORKER + 1 ? 1 : -1];


const char  *ds_route_work_action_names[] = {
    "claim",
    "complete",
    "renew",
    "abandon"
};


const char  *ds_route_param_names[] = {
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
    "claim",
    NULL
};


static const ds_route_word_t  ds_route_instance_ops[] = {
    { "terminate", DS_ROUTE_OP_TERMINATE },
    { "suspend", DS_ROUTE_OP_SUSPEND },
    { "resume", DS_ROUTE_OP_RESUME },
    { "rewind", DS_ROUTE_OP_REWIND },
    { "restart", DS_ROUTE_OP_RESTART },
    { NULL, DS_ROUTE_OP_NONE }
};


static int
ds_route_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}


static int
ds_route_equal_ci(const unsigned char *a, size_t alen,
    const char *b)
{
    size_t  i;

    for (i = 0; i < alen; i++) {
        if (b[i] == '\0'
            || ds_route_lower(a[i]) != ds_route_lower(b[i]))
        {
            return 0;
        }
    }

    return b[alen] == '\0';
}


static int
ds_route_seg_is(const ds_str_t *seg, const char *word)
{
    return ds_route_equal_ci((const unsigned char *) seg->data, seg->len,
                             word);
}


static int
ds_route_hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c = ds_route_lower(c);

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
ds_route_unescape(unsigned char *dst, const unsigned char *src,
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

        hi = (len - i < 3) ? -1 : ds_route_hex(src[i + 1]);
        lo = (len - i < 3) ? -1 : ds_route_hex(src[i + 2]);

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

static const unsigned char  ds_route_form_class[256] = {
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
ds_route_form_escape_len(const unsigned char *src, size_t len)
{
    size_t  i, n;

    n = len;

    for (i = 0; i < len; i++) {
        n += ds_route_form_class[src[i]] ? 0 : 2;
    }

    return n;
}


size_t
ds_route_form_escape(unsigned char *dst, const unsigned char *src,
    size_t len)
{
    size_t          i;
    unsigned char  *p;

    static const char  hex[] = "0123456789ABCDEF";

    p = dst;

    for (i = 0; i < len; i++) {

        switch (ds_route_form_class[src[i]]) {

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
ds_route_match_prefix(const ds_str_t *prefixes,
    size_t nprefixes, const unsigned char *path, size_t len, size_t *plen)
{
    size_t  i, j, n;

    for (i = 0; i < nprefixes; i++) {
        n = prefixes[i].len;

        if (n > len || (n < len && path[n] != '/')) {
            continue;
        }

        for (j = 0; j < n; j++) {
            if (ds_route_lower(path[j])
                != ds_route_lower(prefixes[i].data[j]))
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
ds_route_instances(ds_route_t *route,
    ds_str_t *seg, size_t n, unsigned method)
{
    const ds_route_word_t  *w;

    switch (n) {

    case 1:
        route->allow = DS_ROUTE_GET | DS_ROUTE_DELETE;
        route->op = (method == DS_ROUTE_DELETE)
                    ? DS_ROUTE_OP_PURGE_MANY
                    : DS_ROUTE_OP_LIST;
        break;

    case 2:
        route->allow = DS_ROUTE_GET | DS_ROUTE_DELETE;
        route->op = (method == DS_ROUTE_DELETE)
                    ? DS_ROUTE_OP_PURGE_ONE
                    : DS_ROUTE_OP_STATUS;
        break;

    case 3:
        for (w = ds_route_instance_ops; w->word; w++) {
            if (ds_route_seg_is(&seg[2], w->word)) {
                break;
            }
        }

        if (w->word == NULL) {
            return DS_ROUTE_NOT_FOUND;
        }

        route->allow = DS_ROUTE_POST;
        route->op = w->op;
        break;

    case 4:
        if (!ds_route_seg_is(&seg[2], "raiseEvent")) {
            return DS_ROUTE_NOT_FOUND;
        }

        route->allow = DS_ROUTE_POST;
        route->op = DS_ROUTE_OP_RAISE_EVENT;
        route->event = seg[3];
        break;

    default:
        return DS_ROUTE_NOT_FOUND;
    }

    if (n >= 2) {
        route->id = seg[1];
        route->has_id = 1;
    }

    return DS_ROUTE_OK;
}


static const char  *ds_route_work_kinds[] = {
    "orchestrations", "activities", "entities", NULL
};

static const char  *ds_route_work_actions[] = {
    "claim", "complete", "renew", "abandon", NULL
};


static int
ds_route_worker(ds_route_t *route,
    ds_str_t *seg, size_t n)
{
    int  kind, action;

    if (n != 3) {
        return DS_ROUTE_NOT_FOUND;
    }

    for (kind = 0; ds_route_work_kinds[kind]; kind++) {
        if (ds_route_seg_is(&seg[1], ds_route_work_kinds[kind]))
        {
            break;
        }
    }

    for (action = 0; ds_route_work_actions[action]; action++) {
        if (ds_route_seg_is(&seg[2],
                            ds_route_work_actions[action]))
        {
            break;
        }
    }

    if (ds_route_work_kinds[kind] == NULL
        || ds_route_work_actions[action] == NULL)
    {
        return DS_ROUTE_NOT_FOUND;
    }

    route->allow = DS_ROUTE_POST;
    route->op = DS_ROUTE_OP_WORKER;
    route->work_kind = (ds_route_work_kind_e) kind;
    route->work_action = (ds_route_work_action_e) action;

    return DS_ROUTE_OK;
}


static int
ds_route_entities(ds_route_t *route,
    ds_str_t *seg, size_t n, unsigned method)
{
    if (n > 3) {
        return DS_ROUTE_NOT_FOUND;
    }

    if (n == 1) {
        route->allow = DS_ROUTE_GET;
        route->op = DS_ROUTE_OP_ENTITY_LIST;
        return DS_ROUTE_OK;
    }

    route->allow = DS_ROUTE_GET | DS_ROUTE_POST
                   | DS_ROUTE_DELETE;
    route->name = seg[1];

    if (n == 3) {
        route->id = seg[2];
        route->has_id = 1;
    }

    if (method != DS_ROUTE_GET) {
        route->op = DS_ROUTE_OP_ENTITY_SIGNAL;

    } else {
        route->op = (n == 3) ? DS_ROUTE_OP_ENTITY_GET
                             : DS_ROUTE_OP_ENTITY_LIST;
    }

    return DS_ROUTE_OK;
}


/*
 * path: the raw request path (no query); scratch: room for len bytes,
 * the decoded segments point into it.
 */

int
ds_route(ds_route_t *route,
    const ds_str_t *prefixes, size_t nprefixes,
    unsigned method, const unsigned char *path, size_t len,
    unsigned char *scratch)
{
    int       rc, bad, found;
    size_t    n, plen, start, end, i, k;
    ds_str_t  seg[DS_ROUTE_SEGMENTS_MAX];

    memset(route, 0, sizeof(ds_route_t));

    found = ds_route_match_prefix(prefixes, nprefixes, path, len,
                                  &plen);
    if (found < 0) {
        return DS_ROUTE_NOT_FOUND;
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
            return DS_ROUTE_EMPTY;
        }

        if (n == DS_ROUTE_SEGMENTS_MAX) {
            return DS_ROUTE_NOT_FOUND;
        }

        seg[n].data = (const char *) scratch;
        seg[n].len = ds_route_unescape(scratch, path + i, k - i,
                                       &bad);
        if (bad) {
            return DS_ROUTE_ENCODING;
        }

        scratch += seg[n].len;
        n++;
        i = k + 1;
    }

    if (n == 0) {
        return DS_ROUTE_NOT_FOUND;
    }

    if (ds_route_seg_is(&seg[0], "orchestrators")) {
        if (n < 2 || n > 3) {
            return DS_ROUTE_NOT_FOUND;
        }

        route->allow = DS_ROUTE_POST;
        route->op = DS_ROUTE_OP_START;
        route->name = seg[1];

        if (n == 3) {
            route->id = seg[2];
            route->has_id = 1;
        }

        rc = DS_ROUTE_OK;

    } else if (ds_route_seg_is(&seg[0], "instances")) {
        rc = ds_route_instances(route, seg, n, method);

    } else if (ds_route_seg_is(&seg[0], "entities")) {
        rc = ds_route_entities(route, seg, n, method);

    } else if (ds_route_seg_is(&seg[0], "worker")) {
        rc = ds_route_worker(route, seg, n);

    } else {
        rc = DS_ROUTE_NOT_FOUND;
    }

    if (rc == DS_ROUTE_OK && !(route->allow & method)) {
        rc = DS_ROUTE_METHOD;
    }

    if (rc != DS_ROUTE_OK && rc != DS_ROUTE_METHOD)
    {
        route->op = DS_ROUTE_OP_NONE;
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
ds_route_param_lookup(const unsigned char *raw, size_t len)
{
    int            hi, lo, c, i, past;
    size_t         k, n;
    unsigned char  name[DS_ROUTE_PARAM_LEN];

    n = 0;
    past = 0;       /* past the name: only trailing space may follow */

    for (k = 0; k < len; k++) {
        c = raw[k];

        if (c == '+') {
            c = ' ';

        } else if (c == '%' && len - k >= 3) {
            hi = ds_route_hex(raw[k + 1]);
            lo = ds_route_hex(raw[k + 2]);

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

    for (i = 0; ds_route_param_names[i]; i++) {
        if (ds_route_equal_ci(name, n,
                              ds_route_param_names[i]))
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
ds_route_query_next(const unsigned char *args, size_t len,
    size_t *pos, ds_str_t *name, ds_str_t *value)
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

        name->data = (const char *) args + i;
        name->len = eq - i;
        value->data = (const char *) args + eq + 1;
        value->len = k - eq - 1;

        *pos = k + 1;

        return 1;
    }

    *pos = len;

    return 0;
}


static void
ds_route_trim(ds_str_t *v)
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
 * and trimmed of spaces and tabs: before the decoding only for the texts
 * (instanceIdPrefix, reason, op, names), so that an escaped space at an
 * edge stays theirs, as in the reference. runtimeStatus may repeat: its
 * values are joined with ','. names may repeat: each value is one name,
 * kept in q->names (the first DS_ROUTE_NAMES_MAX of them; q->nnames
 * counts all). Any other parameter may repeat only with the same value;
 * given twice with different values it is an error: the index of the
 * first such parameter is returned (-1: all fine). code is the key's
 * to judge (where no key is asked for, it is ignored): two values of it
 * set q->code_twice instead.
 * scratch: room for 2 * len bytes.
 */

int
ds_route_parse_query(ds_route_query_t *q,
    const unsigned char *args, size_t len, unsigned char *scratch)
{
    int             idx, dup;
    size_t          i;
    unsigned char  *list;
    ds_str_t        name, raw, value;

    memset(q, 0, sizeof(ds_route_query_t));

    /* the second half of scratch holds the joined runtimeStatus list */
    list = scratch + len;
    q->v[DS_ROUTE_Q_RUNTIMESTATUS].data = (const char *) list;

    dup = -1;
    i = 0;

    while (ds_route_query_next(args, len, &i, &name, &raw)) {

        idx = ds_route_param_lookup((const unsigned char *) name.data,
                                    name.len);
        if (idx < 0) {
            continue;
        }

        ds_route_trim(&raw);

        value.data = (const char *) scratch;
        value.len = ds_route_unescape(scratch,
                                      (const unsigned char *) raw.data,
                                      raw.len, NULL);

        scratch += value.len;

        /* in a text an escaped space at an edge ("+", "%20") is its own */

        if (idx != DS_ROUTE_Q_IDPREFIX && idx != DS_ROUTE_Q_REASON
            && idx != DS_ROUTE_Q_OP && idx != DS_ROUTE_Q_NAMES)
        {
            ds_route_trim(&value);
        }

        if (idx == DS_ROUTE_Q_NAMES) {
            if (q->nnames < DS_ROUTE_NAMES_MAX) {
                q->names[q->nnames] = value;
            }

            q->nnames++;
            q->v[idx] = value;

        } else if (idx == DS_ROUTE_Q_RUNTIMESTATUS) {
            if (q->set[idx]) {
                *list++ = ',';
            }

            memcpy(list, value.data, value.len);
            list += value.len;
            q->v[idx].len = (size_t) (list
                            - (const unsigned char *) q->v[idx].data);

        } else {
            /* the same value again is no conflict: clients send that */

            if (q->set[idx]
                && (q->v[idx].len != value.len
                    || memcmp(q->v[idx].data, value.data, value.len) != 0))
            {
                if (idx == DS_ROUTE_Q_CODE) {
                    q->code_twice = 1;

                } else if (dup < 0) {
                    dup = idx;
                }
            }

            q->v[idx] = value;
        }

        q->set[idx] = 1;
    }

    return dup;
}
