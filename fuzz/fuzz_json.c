
/*
 * Copyright (C) ngx_durable authors
 *
 * libFuzzer target: JSON ingest, the depth check, string escaping, the
 * "JSON text or else a string" rule of reasons, and the span scanner of
 * the module (store/ds_jspan.c) over ingested text.
 *
 * Input: byte 0 picks the nesting limit, the rest is the text.
 *
 * Checked, with jansson as the oracle:
 *   - ds_json_ingest() accepts exactly what jansson accepts (within the
 *     depth limit); its output is the input without the whitespace outside
 *     strings, parses to an equal value, is one whole JSON value (nothing
 *     after it), and ingests to itself;
 *   - ds_json_depth_ok() agrees with the depth of jansson's tree;
 *   - ds_json_escape() writes ds_json_escape_len() bytes that are valid
 *     JSON string content, equal to the input when it is valid UTF-8;
 *   - ds_json_text_or_string() gives valid JSON in the buffer size the
 *     module allocates: the ingested text, or the input as a string;
 *   - jspan: iterating an object or array finds every member or element
 *     jansson sees, each span parses to an equal value, and
 *     ds_jspan_member() finds each plain key; a string span decodes
 *     (ds_jspan_decode) to jansson's string, an integer span reads
 *     (ds_jspan_int) as jansson's integer, and no other span does;
 *   - ds_jspan_decode() of the raw input, when it starts and ends with a
 *     quote, succeeds exactly when jansson reads it as a string, and
 *     gives the same bytes.
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "durable_store.h"
#include "ds_jspan.h"


#define FUZZ_JSON_FLAGS     (JSON_DECODE_ANY | JSON_ALLOW_NUL)
#define FUZZ_SPAN_WORK      4096


#define FUZZ_CHECK(cond)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fuzz_fail(__FILE__, __LINE__, #cond);                            \
        }                                                                    \
    } while (0)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static size_t  fuzz_span_work;


static void
fuzz_fail(const char *file, int line, const char *expr)
{
    fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, expr);
    abort();
}


static int
fuzz_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}


/* an independent minifier: drop whitespace outside strings */

static size_t
fuzz_minify(const char *in, size_t len, char *out)
{
    int     in_str;
    size_t  i, n;

    in_str = 0;
    n = 0;

    for (i = 0; i < len; i++) {
        if (in_str) {
            if (in[i] == '\\' && i + 1 < len) {
                out[n++] = in[i++];

            } else if (in[i] == '"') {
                in_str = 0;
            }

        } else if (fuzz_space((unsigned char) in[i])) {
            continue;

        } else if (in[i] == '"') {
            in_str = 1;
        }

        out[n++] = in[i];
    }

    return n;
}


static size_t
fuzz_depth(json_t *j)
{
    size_t       i, d, max;
    json_t      *v;
    const char  *k;

    if (!json_is_array(j) && !json_is_object(j)) {
        return 0;
    }

    max = 0;

    if (json_is_array(j)) {
        json_array_foreach(j, i, v) {
            d = fuzz_depth(v);
            max = d > max ? d : max;
        }

    } else {
        json_object_foreach(j, k, v) {
            d = fuzz_depth(v);
            max = d > max ? d : max;
        }
    }

    return max + 1;
}


/* the deepest nesting of valid JSON text, counted on the text itself */

static size_t
fuzz_text_depth(const char *in, size_t len)
{
    int     in_str;
    size_t  i, d, max;

    in_str = 0;
    d = 0;
    max = 0;

    for (i = 0; i < len; i++) {
        if (in_str) {
            if (in[i] == '\\') {
                i++;

            } else if (in[i] == '"') {
                in_str = 0;
            }

            continue;
        }

        if (in[i] == '"') {
            in_str = 1;

        } else if (in[i] == '[' || in[i] == '{') {
            d++;
            max = d > max ? d : max;

        } else if (in[i] == ']' || in[i] == '}') {
            d--;
        }
    }

    return max;
}


/* jansson, except that it skips a raw 0 byte after numbers and literals */

static json_t *
fuzz_load(const char *p, size_t len)
{
    json_error_t  error;

    if (memchr(p, '\0', len) != NULL) {
        return NULL;
    }

    return json_loadb(p, len, FUZZ_JSON_FLAGS, &error);
}


/* the key text of a span (without quotes) decoded as a JSON string */

static json_t *
fuzz_key(const ds_str_t *k)
{
    char    *buf;
    json_t  *j;

    buf = malloc(k->len + 2);
    if (buf == NULL) {
        abort();
    }

    buf[0] = '"';
    memcpy(buf + 1, k->data, k->len);
    buf[k->len + 1] = '"';

    j = fuzz_load(buf, k->len + 2);

    free(buf);

    return j;
}


/* a scalar's span read as the span reader reads it, against jansson's */

static void
fuzz_scalar(const char *s, size_t len, json_t *j)
{
    int        ok;
    char      *buf;
    size_t     n;
    int64_t    v;
    ds_str_t   span;

    span.data = s;
    span.len = len;

    ok = ds_jspan_int(span, &v);
    FUZZ_CHECK(ok == json_is_integer(j));
    FUZZ_CHECK(!ok || v == (int64_t) json_integer_value(j));

    buf = malloc(len ? len : 1);
    if (buf == NULL) {
        abort();
    }

    ok = ds_jspan_decode(span, buf, len, &n);
    FUZZ_CHECK(ok == json_is_string(j));

    if (ok) {
        FUZZ_CHECK(n == json_string_length(j)
                   && memcmp(buf, json_string_value(j), n) == 0);

        /* in place, as rewind decodes */
        memcpy(buf, s, len);
        span.data = buf;
        FUZZ_CHECK(ds_jspan_decode(span, buf, len, &n)
                   && n == json_string_length(j)
                   && memcmp(buf, json_string_value(j), n) == 0);
    }

    free(buf);
}


static void
fuzz_spans(const char *s, size_t len, json_t *j)
{
    int                   found;
    size_t                i, n, cap;
    json_t               *v, *kj, *last;
    const char           *key;
    ds_str_t              k, val, *keys, *vals;
    ds_jspan_iter_t       it;
    const unsigned char  *p;

    p = (const unsigned char *) s;

    if (fuzz_span_work++ > FUZZ_SPAN_WORK) {
        return;
    }

    /* a whole value spans the whole text */
    FUZZ_CHECK(ds_jspan_skip(p, p + len) == len);

    if (!json_is_array(j) && !json_is_object(j)) {
        FUZZ_CHECK(!ds_jspan_iter(&it, p, len));
        fuzz_scalar(s, len, j);
        return;
    }

    FUZZ_CHECK(ds_jspan_iter(&it, p, len));

    if (json_is_array(j)) {
        n = 0;

        while (ds_jspan_next(&it, NULL, &val)) {
            FUZZ_CHECK(n < json_array_size(j));
            FUZZ_CHECK(val.data >= s && val.data + val.len <= s + len);

            v = fuzz_load((const char *) val.data, val.len);
            FUZZ_CHECK(v != NULL);
            FUZZ_CHECK(json_equal(v, json_array_get(j, n)));
            fuzz_spans(val.data, val.len, v);
            json_decref(v);
            n++;
        }

        FUZZ_CHECK(n == json_array_size(j));
        return;
    }

    /* an object: collect the members as the scanner sees them */

    cap = len / 2 + 1;
    keys = malloc(cap * sizeof(ds_str_t));
    vals = malloc(cap * sizeof(ds_str_t));
    if (keys == NULL || vals == NULL) {
        abort();
    }

    n = 0;

    while (ds_jspan_next(&it, &k, &val)) {
        FUZZ_CHECK(n < cap);
        FUZZ_CHECK(k.data > s && k.data + k.len < s + len);
        FUZZ_CHECK(val.data >= s && val.data + val.len <= s + len);

        keys[n] = k;
        vals[n] = val;
        n++;
    }

    /* duplicates collapse in jansson, never in the text */
    FUZZ_CHECK(n >= json_object_size(j));

    for (i = 0; i < n; i++) {
        kj = fuzz_key(&keys[i]);
        FUZZ_CHECK(kj != NULL && json_is_string(kj));

        v = fuzz_load((const char *) vals[i].data, vals[i].len);
        FUZZ_CHECK(v != NULL);

        /* every member the scanner finds is one jansson has */
        FUZZ_CHECK(json_object_getn(j, json_string_value(kj),
                                    json_string_length(kj))
                   != NULL);

        fuzz_spans(vals[i].data, vals[i].len, v);

        json_decref(v);
        json_decref(kj);
    }

    /* jansson keeps the last of duplicate members: so must the spans */

    json_object_foreach(j, key, v) {
        last = NULL;
        found = -1;

        for (i = 0; i < n; i++) {
            kj = fuzz_key(&keys[i]);

            if (strlen(key) == json_string_length(kj)
                && memcmp(key, json_string_value(kj), strlen(key)) == 0)
            {
                json_decref(last);
                last = fuzz_load((const char *) vals[i].data, vals[i].len);
            }

            /* jspan_member() compares the key as written */
            if (found < 0 && keys[i].len == strlen(key)
                && memcmp(keys[i].data, key, keys[i].len) == 0)
            {
                found = (int) i;
            }

            json_decref(kj);
        }

        FUZZ_CHECK(last != NULL && json_equal(last, v));
        json_decref(last);

        /* a key written as it reads is found by name, first one first */

        if (found >= 0) {
            FUZZ_CHECK(ds_jspan_member(p, len, key, &val));
            FUZZ_CHECK(val.data == vals[found].data
                       && val.len == vals[found].len);
        }
    }

    free(keys);
    free(vals);
}


static void
fuzz_ingest(const char *in, size_t len, unsigned depth)
{
    int           rc, ok;
    char          err[256];
    char         *out, *out2, *mini;
    size_t        out_len, out2_len, mini_len, d;
    json_t       *j, *jo;
    json_error_t  error;

    out = malloc(len ? len : 1);
    out2 = malloc(len ? len : 1);
    mini = malloc(len ? len : 1);
    if (out == NULL || out2 == NULL || mini == NULL) {
        abort();
    }

    rc = ds_json_ingest(in, len, depth, out, &out_len, err, sizeof(err));
    FUZZ_CHECK(rc == DS_OK || rc == DS_INVALID);

    j = fuzz_load(in, len);
    d = j ? fuzz_text_depth(in, len) : 0;

    if (j != NULL) {
        /* without duplicate keys, jansson's tree is that deep */
        jo = json_loadb(in, len, FUZZ_JSON_FLAGS | JSON_REJECT_DUPLICATES,
                        &error);
        if (jo != NULL) {
            FUZZ_CHECK(fuzz_depth(jo) == d);
            json_decref(jo);
        }

        /* the depth check agrees */
        FUZZ_CHECK(ds_json_depth_ok(in, len, depth) == (d <= depth));
        FUZZ_CHECK(ds_json_depth_ok(in, len, (unsigned) d));
        FUZZ_CHECK(d == 0 || !ds_json_depth_ok(in, len, (unsigned) d - 1));
    }

    mini_len = fuzz_minify(in, len, mini);
    ok = (mini_len == 0) || (j != NULL && d <= depth);

    FUZZ_CHECK((rc == DS_OK) == ok);

    if (rc == DS_OK) {
        FUZZ_CHECK(out_len == mini_len && memcmp(out, mini, out_len) == 0);

        if (out_len) {
            /* one whole value: nothing parses after it */
            jo = json_loadb(out, out_len, FUZZ_JSON_FLAGS
                                          | JSON_DISABLE_EOF_CHECK,
                            &error);
            FUZZ_CHECK(jo != NULL);
            FUZZ_CHECK(error.position == (int) out_len);
            FUZZ_CHECK(json_equal(j, jo));
            json_decref(jo);

            FUZZ_CHECK(!fuzz_space((unsigned char) out[0])
                       && !fuzz_space((unsigned char) out[out_len - 1]));

            /* idempotent */
            rc = ds_json_ingest(out, out_len, depth, out2, &out2_len, err,
                                sizeof(err));
            FUZZ_CHECK(rc == DS_OK && out2_len == out_len
                       && memcmp(out, out2, out_len) == 0);

            fuzz_span_work = 0;
            fuzz_spans(out, out_len, j);
        }
    }

    json_decref(j);
    free(out);
    free(out2);
    free(mini);
}


/* the raw input as a string span: the decoder agrees with jansson */

static void
fuzz_decode(const char *in, size_t len)
{
    int       ok;
    char     *buf;
    size_t    n;
    json_t   *j;
    ds_str_t  span;

    if (len < 2 || in[0] != '"' || in[len - 1] != '"') {
        return;
    }

    buf = malloc(len);
    if (buf == NULL) {
        abort();
    }

    span.data = in;
    span.len = len;

    ok = ds_jspan_decode(span, buf, len, &n);

    j = fuzz_load(in, len);
    FUZZ_CHECK(ok == (j != NULL && json_is_string(j)));

    if (ok) {
        FUZZ_CHECK(n == json_string_length(j)
                   && memcmp(buf, json_string_value(j), n) == 0);

        /* the decoded text is never longer; one byte less is too little */
        FUZZ_CHECK(n <= len - 2);
        FUZZ_CHECK(n == 0 || !ds_jspan_decode(span, buf, n - 1, &n));
    }

    json_decref(j);
    free(buf);
}


static void
fuzz_escape(const char *in, size_t len)
{
    char    *buf;
    size_t   elen, n;
    json_t  *j, *s;

    elen = ds_json_escape_len(in, len);
    FUZZ_CHECK(elen >= len && elen <= 6 * len);

    buf = malloc(elen + 2);
    if (buf == NULL) {
        abort();
    }

    buf[0] = '"';
    n = ds_json_escape(in, len, buf + 1);
    FUZZ_CHECK(n == elen);
    buf[n + 1] = '"';

    j = fuzz_load(buf, n + 2);
    FUZZ_CHECK(j != NULL && json_is_string(j));

    /* valid UTF-8 comes back byte for byte */
    s = json_stringn(in, len);
    if (s != NULL) {
        FUZZ_CHECK(json_equal(j, s));
        json_decref(s);
    }

    json_decref(j);
    free(buf);
}


static void
fuzz_text_or_string(const char *in, size_t len, unsigned depth)
{
    int      rc;
    char    *out;
    size_t   out_len, n, i;
    json_t  *j, *t, *s;

    /* the size ngx_http_durable_params.c allocates */
    n = ds_json_escape_len(in, len) + 2;

    out = malloc(n);
    if (out == NULL) {
        abort();
    }

    rc = ds_json_text_or_string(in, len, depth, out, &out_len);
    FUZZ_CHECK(rc == DS_OK);
    FUZZ_CHECK(out_len <= n);

    /* blank text is the empty string */
    for (i = 0; i < len && strchr(" \t\r\n", in[i]) != NULL
                && in[i] != '\0'; i++)
    {
        /* void */
    }

    if (i == len) {
        FUZZ_CHECK(out_len == 2 && memcmp(out, "\"\"", 2) == 0);
        free(out);
        return;
    }

    j = fuzz_load(out, out_len);
    FUZZ_CHECK(j != NULL);

    t = fuzz_load(in, len);

    if (t != NULL && fuzz_text_depth(in, len) <= depth) {
        FUZZ_CHECK(json_equal(j, t));

    } else {
        FUZZ_CHECK(json_is_string(j));

        s = json_stringn(in, len);
        if (s != NULL) {
            FUZZ_CHECK(json_equal(j, s));
            json_decref(s);
        }
    }

    json_decref(t);
    json_decref(j);
    free(out);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char      *in;
    unsigned   depth;

    if (size < 1) {
        return 0;
    }

    depth = data[0] % 40;

    /* a copy of exactly the text: reads past it are caught */
    size--;
    in = malloc(size ? size : 1);
    if (in == NULL) {
        abort();
    }

    memcpy(in, data + 1, size);

    fuzz_ingest(in, size, depth);
    fuzz_decode(in, size);
    fuzz_escape(in, size);
    fuzz_text_or_string(in, size, depth);

    free(in);

    return 0;
}
