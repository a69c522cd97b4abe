
/*
 * Copyright (C) ngx_durable authors
 *
 * JSON validation without building a tree, and the nesting limit
 * (durable_task_json_depth) in the same pass: what jansson 2.14 accepts with
 * JSON_DECODE_ANY | JSON_ALLOW_NUL (fuzz/fuzz_json checks that against
 * jansson itself), in one pass and with no allocation for ordinary text.
 * Bodies are validated on every write that carries one; parsing them into
 * jansson's tree only to drop it cost about 5 mallocs and 2,000
 * instructions for a body as small as {"n":1}.
 *
 * What jansson accepts: RFC 8259 JSON, any value at the top, strings of
 * valid UTF-8 (no surrogates, nothing overlong, nothing above U+10FFFF),
 * "\u0000" in values but not in object keys, surrogate escapes only in
 * pairs, integers in the range of long long, reals that do not overflow a
 * double, values at most 2048 deep (a container at the 2048th level holds
 * nothing). A raw 0 byte is never valid
 * (jansson itself skips one after a number or a literal).
 */


#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_internal.h"
#include "ds_jspan.h"


#define DS_JSON_MAX_DEPTH   2048

/* a real whose magnitude may reach 10^300 is given to strtod() */
#define DS_JSON_REAL_SAFE   300

#define DS_JSON_REAL_STACK  64


typedef struct {
    const unsigned char  *start;
    const unsigned char  *end;
    ds_json_error_t      *err;
    unsigned              spaced:1;    /* space between tokens seen */
} ds_json_scan_t;


static int ds_json_fail(ds_json_scan_t *s, const unsigned char *at,
    const char *text);
static const unsigned char *ds_json_space_end(ds_json_scan_t *s,
    const unsigned char *p);
static const unsigned char *ds_json_string(ds_json_scan_t *s,
    const unsigned char *p, int key);
static int ds_json_hex4(const unsigned char *p, const unsigned char *end);
static const unsigned char *ds_json_number(ds_json_scan_t *s,
    const unsigned char *p, int *rc);
static int ds_json_real_overflows(const unsigned char *p, size_t len);


#define ds_json_digit(c)    ((c) >= '0' && (c) <= '9')


/*
 * 1: valid and at most max_depth containers deep; 0: not, *err says where
 * and why (err->too_deep for the nesting); -1: out of memory
 */

int
dsi_json_check(const char *in, size_t len, unsigned max_depth,
    ds_json_error_t *err)
{
    int  spaced;

    return dsi_json_check_spaced(in, len, max_depth, err, &spaced);
}


/*
 * The same, and *spaced 1 when the text has space between its tokens,
 * that is, when minifying it would change it
 */

int
dsi_json_check_spaced(const char *in, size_t len, unsigned max_depth,
    ds_json_error_t *err, int *spaced)
{
    int                   rc;
    size_t                depth, n;
    const unsigned char  *p;
    unsigned char         open;
    ds_json_scan_t        s;
    unsigned char         object[DS_JSON_MAX_DEPTH / 8];   /* bit: {} */

    s.start = (const unsigned char *) in;
    s.end = s.start + len;
    s.err = err;
    s.spaced = 0;
    err->too_deep = 0;
    *spaced = 0;

    if (memchr(in, '\0', len) != NULL) {
        return ds_json_fail(&s, memchr(s.start, '\0', len),
                            "a 0 byte in the text");
    }

    memset(object, 0, sizeof(object));

    p = s.start;
    depth = 0;

value:

    p = ds_json_space_end(&s, p);

    if (p == s.end) {
        return ds_json_fail(&s, p, "unexpected end of input");
    }

    /* every value is a level, as in jansson: a scalar in 2048 arrays too */

    if (depth == DS_JSON_MAX_DEPTH) {
        return ds_json_fail(&s, p, "maximum parsing depth reached");
    }

    switch (*p) {

    case '{':
    case '[':
        if (depth >= max_depth) {
            err->too_deep = 1;
            return ds_json_fail(&s, p, "nesting too deep");
        }

        open = *p;

        if (open == '{') {
            object[depth / 8] |= (unsigned char) (1 << (depth % 8));

        } else {
            object[depth / 8] &= (unsigned char) ~(1 << (depth % 8));
        }

        depth++;

        p = ds_json_space_end(&s, p + 1);

        if (p < s.end && *p == (open == '{' ? '}' : ']')) {
            p++;
            depth--;
            goto after;
        }

        if (open == '{') {
            goto key;
        }

        goto value;

    case '"':
        p = ds_json_string(&s, p, 0);
        if (p == NULL) {
            return 0;
        }

        goto after;

    case 't':
    case 'f':
    case 'n':
        n = (*p == 'f') ? 5 : 4;

        if ((size_t) (s.end - p) < n
            || memcmp(p, *p == 't' ? "true" : *p == 'f' ? "false" : "null",
                      n) != 0)
        {
            return ds_json_fail(&s, p, "invalid token");
        }

        p += n;
        goto after;

    default:
        p = ds_json_number(&s, p, &rc);
        if (p == NULL) {
            return rc;
        }

        goto after;
    }

key:

    p = ds_json_space_end(&s, p);

    if (p == s.end || *p != '"') {
        return ds_json_fail(&s, p, "string or '}' expected");
    }

    p = ds_json_string(&s, p, 1);
    if (p == NULL) {
        return 0;
    }

    p = ds_json_space_end(&s, p);

    if (p == s.end || *p != ':') {
        return ds_json_fail(&s, p, "':' expected");
    }

    p++;
    goto value;

after:

    /* a value ended: what may follow depends on what holds it */

    p = ds_json_space_end(&s, p);

    if (depth == 0) {
        if (p != s.end) {
            return ds_json_fail(&s, p, "end of file expected");
        }

        *spaced = s.spaced;

        return 1;
    }

    rc = (object[(depth - 1) / 8] & (1 << ((depth - 1) % 8))) != 0;

    if (p < s.end && *p == ',') {
        p++;

        if (rc) {
            goto key;
        }

        goto value;
    }

    if (p < s.end && *p == (rc ? '}' : ']')) {
        p++;
        depth--;
        goto after;
    }

    return ds_json_fail(&s, p, rc ? "'}' expected" : "']' expected");
}


static int
ds_json_fail(ds_json_scan_t *s, const unsigned char *at, const char *text)
{
    const unsigned char  *p, *line;

    s->err->line = 1;
    line = s->start;

    for (p = s->start; p < at; p++) {
        if (*p == '\n') {
            s->err->line++;
            line = p + 1;
        }
    }

    s->err->column = (size_t) (at - line) + 1;
    s->err->position = (size_t) (at - s->start);
    snprintf(s->err->text, sizeof(s->err->text), "%s", text);

    return 0;
}


static const unsigned char *
ds_json_space_end(ds_json_scan_t *s, const unsigned char *p)
{
    const unsigned char  *q;

    for (q = p; q < s->end; q++) {
        if (*q != ' ' && *q != '\n' && *q != '\r' && *q != '\t') {
            break;
        }
    }

    if (q != p) {
        s->spaced = 1;
    }

    return q;
}


/* p is at the opening quote; returns the byte after the closing one */

static const unsigned char *
ds_json_string(ds_json_scan_t *s, const unsigned char *p, int key)
{
    int                   u, u2;
    size_t                seq, skip;
    const unsigned char  *end;

    end = s->end;
    p++;

    for ( ;; ) {
        p += dsi_json_plain_prefix(p, (size_t) (end - p));

        if (p == end) {
            ds_json_fail(s, p, "premature end of input");
            return NULL;
        }

        switch (*p) {

        case '"':
            return p + 1;

        case '\\':
            if (end - p < 2) {
                ds_json_fail(s, p, "premature end of input");
                return NULL;
            }

            switch (p[1]) {

            case '"': case '\\': case '/': case 'b': case 'f': case 'n':
            case 'r': case 't':
                p += 2;
                continue;

            case 'u':
                u = ds_json_hex4(p + 2, end);
                if (u < 0) {
                    ds_json_fail(s, p, "invalid escape");
                    return NULL;
                }

                if (u == 0 && key) {
                    ds_json_fail(s, p, "NUL byte in object key not "
                                 "supported");
                    return NULL;
                }

                if (u >= 0xdc00 && u <= 0xdfff) {
                    ds_json_fail(s, p, "invalid Unicode escape");
                    return NULL;
                }

                if (u >= 0xd800 && u <= 0xdbff) {
                    u2 = (end - p >= 12 && p[6] == '\\' && p[7] == 'u')
                         ? ds_json_hex4(p + 8, end) : -1;

                    if (u2 < 0xdc00 || u2 > 0xdfff) {
                        ds_json_fail(s, p, "invalid Unicode escape");
                        return NULL;
                    }

                    p += 6;
                }

                p += 6;
                continue;

            default:
                ds_json_fail(s, p, "invalid escape");
                return NULL;
            }

        default:
            if (*p < 0x20) {
                ds_json_fail(s, p, "control character in a string");
                return NULL;
            }

            if (*p < 0x80) {
                /* DEL: the plain prefix stops there, JSON does not */
                p++;
                continue;
            }

            seq = dsi_json_utf8_seq(p, (size_t) (end - p), &skip);
            if (seq == 0) {
                ds_json_fail(s, p, "invalid UTF-8");
                return NULL;
            }

            p += seq;
        }
    }
}


static int
ds_json_hex4(const unsigned char *p, const unsigned char *end)
{
    int            i, v;
    unsigned char  c;

    if (end - p < 4) {
        return -1;
    }

    v = 0;

    for (i = 0; i < 4; i++) {
        c = p[i];

        if (ds_json_digit(c)) {
            v = v * 16 + (c - '0');

        } else if (c >= 'a' && c <= 'f') {
            v = v * 16 + (c - 'a' + 10);

        } else if (c >= 'A' && c <= 'F') {
            v = v * 16 + (c - 'A' + 10);

        } else {
            return -1;
        }
    }

    return v;
}


/* returns the byte after the number, or NULL and in *rc 0 or -1 */

static const unsigned char *
ds_json_number(ds_json_scan_t *s, const unsigned char *p, int *rc)
{
    int                   neg, real, esign;
    long                  exp;
    size_t                digits;
    const unsigned char  *start, *int_start, *end;

    static const char  max[] = "9223372036854775807";
    static const char  min[] = "9223372036854775808";

    end = s->end;
    start = p;
    *rc = 0;

    neg = (*p == '-');
    p += neg;
    int_start = p;

    if (p == end || !ds_json_digit(*p)) {
        ds_json_fail(s, start, "invalid token");
        return NULL;
    }

    if (*p == '0') {
        p++;

        if (p < end && ds_json_digit(*p)) {
            ds_json_fail(s, start, "invalid token");
            return NULL;
        }

    } else {
        while (p < end && ds_json_digit(*p)) {
            p++;
        }
    }

    digits = (size_t) (p - int_start);
    real = 0;
    exp = 0;

    if (p < end && *p == '.') {
        p++;

        if (p == end || !ds_json_digit(*p)) {
            ds_json_fail(s, start, "invalid token");
            return NULL;
        }

        while (p < end && ds_json_digit(*p)) {
            p++;
        }

        real = 1;
    }

    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        esign = 1;

        if (p < end && (*p == '+' || *p == '-')) {
            esign = (*p == '-') ? -1 : 1;
            p++;
        }

        if (p == end || !ds_json_digit(*p)) {
            ds_json_fail(s, start, "invalid token");
            return NULL;
        }

        while (p < end && ds_json_digit(*p)) {
            if (exp < 100000) {
                exp = exp * 10 + (*p - '0');
            }

            p++;
        }

        exp *= esign;
        real = 1;
    }

    if (!real) {
        /* strtoll's range, as jansson reads integers */

        if (digits > 19
            || (digits == 19
                && memcmp(int_start, neg ? min : max, 19) > 0))
        {
            ds_json_fail(s, start, neg ? "too big negative integer"
                                       : "too big integer");
            return NULL;
        }

        return p;
    }

    /* below 10^(digits + exp): only a large one can overflow */

    if ((long) digits + exp > DS_JSON_REAL_SAFE) {
        switch (ds_json_real_overflows(start, (size_t) (p - start))) {

        case 0:
            break;

        case 1:
            ds_json_fail(s, start, "real number overflow");
            return NULL;

        default:
            *rc = -1;
            return NULL;
        }
    }

    return p;
}


/*
 * strtod() of the number, as jansson does (nginx and the tools run in the
 * "C" locale, whose decimal point is '.'); -1: out of memory
 */

static int
ds_json_real_overflows(const unsigned char *p, size_t len)
{
    int     overflows;
    char   *buf, stack[DS_JSON_REAL_STACK];
    double  v;

    buf = (len < sizeof(stack)) ? stack : malloc(len + 1);
    if (buf == NULL) {
        return -1;
    }

    memcpy(buf, p, len);
    buf[len] = '\0';

    errno = 0;
    v = strtod(buf, NULL);
    overflows = (v == HUGE_VAL || v == -HUGE_VAL) && errno == ERANGE;

    if (buf != stack) {
        free(buf);
    }

    return overflows;
}


/*
 * Tags: compact JSON text of an object whose members are all strings (a
 * map of strings), or nothing (len 0): one container deep.
 */

int
ds_tags_check(ds_str_t tags)
{
    ds_str_t          key, value;
    ds_jspan_iter_t   it;
    ds_json_error_t   err;

    if (tags.len == 0) {
        return DS_OK;
    }

    if (tags.data[0] != '{'
        || dsi_json_check(tags.data, tags.len, 1, &err) != 1
        || !ds_jspan_iter(&it, (const unsigned char *) tags.data, tags.len))
    {
        return DS_INVALID;
    }

    while (ds_jspan_next(&it, &key, &value)) {
        if (value.len < 2 || value.data[0] != '"') {
            return DS_INVALID;
        }
    }

    return it.pos == it.end ? DS_OK : DS_INVALID;
}
