
/*
 * Copyright (C) ngx_durable authors
 *
 * libFuzzer target: the router (raw method + path -> operation) and the
 * query parser, with the form escaping they rely on.
 *
 * Input: byte 0 picks the method bits, byte 1 the prefix put in front of
 * the rest (none, or one of the three configured prefixes); the rest up
 * to the first '?' is the path, what follows it the query string.
 *
 * Checked: route() writes at most len bytes of scratch and every segment
 * it returns lies inside them; its answer is consistent (an operation and
 * allowed methods exactly when OK or METHOD); parse_query() writes at most
 * 2 * len bytes, returns values inside scratch, trimmed, and a duplicate
 * index that is set; each name the pair splitter returns is found by
 * param_lookup() (which the log masking uses) exactly as by decoding,
 * trimming and comparing it in full, and a parameter is set exactly when
 * some pair names it; unescape(form_escape(x)) == x and form_escape_len()
 * is the length form_escape() writes.
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_route.h"


#define FUZZ_CHECK(cond)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fuzz_fail(__FILE__, __LINE__, #cond);                            \
        }                                                                    \
    } while (0)


#define SV(s)  { s, sizeof(s) - 1 }


static ds_str_t  prefixes[] = {
    SV("/runtime/webhooks/durabletask"),
    SV("/admin/extensions/DurableTaskExtension"),
    SV("/durabletask")
};

#define NPREFIXES  (sizeof(prefixes) / sizeof(prefixes[0]))


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
fuzz_fail(const char *file, int line, const char *expr)
{
    fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, expr);
    abort();
}


static int
fuzz_inside(const ds_str_t *v, const unsigned char *buf, size_t size)
{
    const unsigned char  *p;

    if (v->len == 0) {
        return 1;
    }

    p = (const unsigned char *) v->data;

    return p >= buf && p + v->len <= buf + size;
}


static int
fuzz_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}


/* an independent prefix match: case-insensitive, then '/' or the end */

static int
fuzz_prefix_matches(const unsigned char *path, size_t len)
{
    size_t  i, j, n;

    for (i = 0; i < NPREFIXES; i++) {
        n = prefixes[i].len;

        if (n > len || (n < len && path[n] != '/')) {
            continue;
        }

        for (j = 0; j < n; j++) {
            if (fuzz_lower(path[j]) != fuzz_lower(prefixes[i].data[j])) {
                break;
            }
        }

        if (j == n) {
            return (int) i;
        }
    }

    return -1;
}


static void
fuzz_route(unsigned method, const unsigned char *path, size_t len)
{
    int             rc, rc2, pfx;
    unsigned char  *scratch, *copy;
    ds_route_t      r, r2;

    /* exactly len bytes: AddressSanitizer catches a write past them */
    scratch = malloc(len ? len : 1);
    copy = malloc(len ? len : 1);
    if (scratch == NULL || copy == NULL) {
        abort();
    }

    if (len) {
        memcpy(copy, path, len);
    }

    rc = ds_route(&r, prefixes, NPREFIXES, method, copy, len,
                  scratch);

    /* the path is not modified */
    FUZZ_CHECK(len == 0 || memcmp(copy, path, len) == 0);

    FUZZ_CHECK(rc >= DS_ROUTE_OK
               && rc <= DS_ROUTE_ENCODING);

    pfx = fuzz_prefix_matches(path, len);

    if (pfx < 0) {
        FUZZ_CHECK(rc == DS_ROUTE_NOT_FOUND);

    } else if (rc != DS_ROUTE_NOT_FOUND) {
        FUZZ_CHECK(r.prefix == (size_t) pfx);
    }

    FUZZ_CHECK(fuzz_inside(&r.name, scratch, len));
    FUZZ_CHECK(fuzz_inside(&r.id, scratch, len));
    FUZZ_CHECK(fuzz_inside(&r.event, scratch, len));

    if (rc == DS_ROUTE_OK
        || rc == DS_ROUTE_METHOD)
    {
        FUZZ_CHECK(r.op != DS_ROUTE_OP_NONE);
        FUZZ_CHECK(r.allow != 0);
        FUZZ_CHECK((rc == DS_ROUTE_OK)
                   == ((r.allow & method) != 0));

        /* the path parameters of a route are never empty */
        FUZZ_CHECK(!r.has_id || r.id.len > 0);

        if (r.op == DS_ROUTE_OP_START) {
            FUZZ_CHECK(r.name.len > 0);
        }

        if (r.op == DS_ROUTE_OP_RAISE_EVENT) {
            FUZZ_CHECK(r.has_id && r.event.len > 0);
        }

        switch (r.op) {
        case DS_ROUTE_OP_STATUS:
        case DS_ROUTE_OP_PURGE_ONE:
        case DS_ROUTE_OP_TERMINATE:
        case DS_ROUTE_OP_SUSPEND:
        case DS_ROUTE_OP_RESUME:
        case DS_ROUTE_OP_REWIND:
        case DS_ROUTE_OP_RESTART:
            FUZZ_CHECK(r.has_id);
            break;

        default:
            break;
        }

    } else {
        FUZZ_CHECK(r.op == DS_ROUTE_OP_NONE);
    }

    /* deterministic: a second call gives the same answer */

    rc2 = ds_route(&r2, prefixes, NPREFIXES, method, copy,
                   len, scratch);
    FUZZ_CHECK(rc2 == rc && r2.op == r.op && r2.allow == r.allow
               && r2.has_id == r.has_id && r2.id.len == r.id.len
               && r2.name.len == r.name.len && r2.event.len == r.event.len);

    free(scratch);
    free(copy);
}


/* the parameter a raw name stands for, by decoding it into a buffer */

static int
fuzz_name_index(const unsigned char *raw, size_t len)
{
    int             i;
    size_t          n, k;
    unsigned char  *buf, *p;

    buf = malloc(len ? len : 1);
    if (buf == NULL) {
        abort();
    }

    n = ds_route_unescape(buf, raw, len, NULL);
    p = buf;

    while (n && (p[0] == ' ' || p[0] == '\t')) {
        p++;
        n--;
    }

    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) {
        n--;
    }

    for (i = 0; ds_route_param_names[i]; i++) {
        if (strlen(ds_route_param_names[i]) != n) {
            continue;
        }

        for (k = 0; k < n; k++) {
            if (fuzz_lower(p[k])
                != fuzz_lower(ds_route_param_names[i][k]))
            {
                break;
            }
        }

        if (k == n) {
            break;
        }
    }

    free(buf);

    return ds_route_param_names[i] ? i : -1;
}


static void
fuzz_query(const unsigned char *args, size_t len)
{
    int               dup, i, idx;
    size_t            size, pos;
    unsigned char    *scratch, *copy, named[DS_ROUTE_Q_COUNT];
    ds_str_t         *v, name, value;
    ds_route_query_t  q;

    size = 2 * len;

    scratch = malloc(size ? size : 1);
    copy = malloc(len ? len : 1);
    if (scratch == NULL || copy == NULL) {
        abort();
    }

    if (len) {
        memcpy(copy, args, len);
    }

    dup = ds_route_parse_query(&q, copy, len, scratch);

    FUZZ_CHECK(len == 0 || memcmp(copy, args, len) == 0);
    FUZZ_CHECK(dup >= -1 && dup < DS_ROUTE_Q_COUNT);
    FUZZ_CHECK(dup != DS_ROUTE_Q_RUNTIMESTATUS && dup != DS_ROUTE_Q_CODE);
    FUZZ_CHECK(dup < 0 || q.set[dup]);

    for (i = 0; i < DS_ROUTE_Q_COUNT; i++) {
        v = &q.v[i];

        FUZZ_CHECK(q.set[i] == 0 || q.set[i] == 1);
        FUZZ_CHECK(q.set[i] || v->len == 0);
        FUZZ_CHECK(fuzz_inside(v, scratch, size));

        /* the texts are trimmed before their decoding only */

        if (v->len && i != DS_ROUTE_Q_RUNTIMESTATUS
            && i != DS_ROUTE_Q_IDPREFIX && i != DS_ROUTE_Q_REASON
            && i != DS_ROUTE_Q_OP && i != DS_ROUTE_Q_NAMES)
        {
            FUZZ_CHECK(v->data[0] != ' ' && v->data[0] != '\t');
            FUZZ_CHECK(v->data[v->len - 1] != ' '
                       && v->data[v->len - 1] != '\t');
        }
    }

    /* a parameter only comes from a "name=" somewhere in the string */
    for (i = 0; i < DS_ROUTE_Q_COUNT; i++) {
        if (q.set[i]) {
            FUZZ_CHECK(len > 0 && memchr(args, '=', len) != NULL);
        }
    }

    /* the pairs and names the log masking sees are the parser's */

    memset(named, 0, sizeof(named));
    pos = 0;

    while (ds_route_query_next(copy, len, &pos, &name, &value)) {
        FUZZ_CHECK(name.len > 0 && fuzz_inside(&name, copy, len)
                   && fuzz_inside(&value, copy, len)
                   && name.data + name.len + 1 == value.data);

        idx = ds_route_param_lookup((const unsigned char *) name.data,
                                    name.len);
        FUZZ_CHECK(idx == fuzz_name_index((const unsigned char *) name.data,
                                          name.len));

        if (idx >= 0) {
            named[idx] = 1;
        }
    }

    FUZZ_CHECK(pos == len);

    for (i = 0; i < DS_ROUTE_Q_COUNT; i++) {
        FUZZ_CHECK(named[i] == q.set[i]);
    }

    free(scratch);
    free(copy);
}


static void
fuzz_escape(const unsigned char *s, size_t len)
{
    int             bad;
    size_t          elen, n, m;
    unsigned char  *esc, *back, *dec;

    elen = ds_route_form_escape_len(s, len);
    FUZZ_CHECK(elen >= len && elen <= 3 * len);

    esc = malloc(elen ? elen : 1);
    back = malloc(len ? len : 1);
    dec = malloc(len ? len : 1);
    if (esc == NULL || back == NULL || dec == NULL) {
        abort();
    }

    n = ds_route_form_escape(esc, s, len);
    FUZZ_CHECK(n == elen);

    /* only the form-safe characters, '+' and "%XX" */
    for (m = 0; m < n; m++) {
        FUZZ_CHECK((esc[m] >= 'a' && esc[m] <= 'z')
                   || (esc[m] >= 'A' && esc[m] <= 'Z')
                   || (esc[m] >= '0' && esc[m] <= '9')
                   || strchr("-_.!*()+%", esc[m]) != NULL);
    }

    bad = 0;
    m = ds_route_unescape(back, esc, n, &bad);
    FUZZ_CHECK(!bad);
    FUZZ_CHECK(m == len && (len == 0 || memcmp(back, s, len) == 0));

    /* decoding never grows; lenient decoding never fails */

    bad = 0;
    m = ds_route_unescape(dec, s, len, &bad);
    FUZZ_CHECK(m <= len);

    m = ds_route_unescape(dec, s, len, NULL);
    FUZZ_CHECK(m <= len);

    free(esc);
    free(back);
    free(dec);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t          plen, path_len, qlen, i;
    unsigned        method;
    unsigned char  *path;
    const uint8_t  *rest, *query;

    if (size < 2) {
        return 0;
    }

    /* mostly one method bit, sometimes none or several */
    method = data[0] & 0x07;
    if (data[0] & 0x80) {
        method = 1u << (data[0] % 3);
    }

    rest = data + 2;
    size -= 2;

    query = memchr(rest, '?', size);
    path_len = query ? (size_t) (query - rest) : size;

    if (query) {
        query++;
        qlen = size - path_len - 1;

    } else {
        query = rest + size;
        qlen = 0;
    }

    i = data[1] % (NPREFIXES + 1);
    plen = (i < NPREFIXES) ? prefixes[i].len : 0;

    path = malloc(plen + path_len + 1);
    if (path == NULL) {
        abort();
    }

    if (plen) {
        memcpy(path, prefixes[i].data, plen);
    }

    if (path_len) {
        memcpy(path + plen, rest, path_len);
    }

    fuzz_route(method, path, plen + path_len);
    fuzz_query(query, qlen);
    fuzz_escape(rest, size);

    free(path);

    return 0;
}
