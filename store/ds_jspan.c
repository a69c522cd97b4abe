
/*
 * Copyright (C) ngx_durable authors
 */


#include <string.h>

#include "ds_internal.h"
#include "ds_jspan.h"


static int ds_jspan_hex4(const unsigned char *p, const unsigned char *end,
    uint32_t *v);


/* the end of the string that starts at p (its opening quote) */

static const unsigned char *
ds_jspan_string(const unsigned char *p,
    const unsigned char *end)
{
    const unsigned char  *q, *b;

    for (p++; p < end; p = q + 1) {
        q = memchr(p, '"', (size_t) (end - p));
        if (q == NULL) {
            break;
        }

        /* a quote after an even number of backslashes ends the string */

        for (b = q; b > p && b[-1] == '\\'; b--) {
            /* void */
        }

        if (((q - b) & 1) == 0) {
            return q + 1;
        }
    }

    return end;
}


/* the length of the value at p; the text is valid and has no spaces */

size_t
ds_jspan_skip(const unsigned char *p, const unsigned char *end)
{
    size_t                depth;
    const unsigned char  *s;

    s = p;

    if (p >= end) {
        return 0;
    }

    if (*p == '"') {
        return (size_t) (ds_jspan_string(p, end) - s);
    }

    if (*p != '{' && *p != '[') {
        while (p < end && *p != ',' && *p != ':' && *p != '}' && *p != ']') {
            p++;
        }

        return (size_t) (p - s);
    }

    depth = 0;

    while (p < end) {

        if (*p == '"') {
            p = ds_jspan_string(p, end);
            continue;
        }

        if (*p == '{' || *p == '[') {
            depth++;

        } else if (*p == '}' || *p == ']') {
            if (--depth == 0) {
                return (size_t) (p + 1 - s);
            }
        }

        p++;
    }

    return (size_t) (end - s);
}


/* starts iterating the members of an object or the elements of an array */

int
ds_jspan_iter(ds_jspan_iter_t *it,
    const unsigned char *p, size_t len)
{
    if (len < 2 || (p[0] != '{' && p[0] != '[')) {
        return 0;
    }

    it->pos = p + 1;
    it->end = p + len - 1;

    return 1;
}


/*
 * The next member (key without its quotes) or element; 0 at the end.
 * The common cases are scanned here: a key or a string value whose end
 * follows no backslash, a number or literal; the rest goes through
 * jspan_skip() and jspan_string().
 */

int
ds_jspan_next(ds_jspan_iter_t *it,
    ds_str_t *key, ds_str_t *value)
{
    size_t                n;
    const unsigned char  *p, *q, *end;

    p = it->pos;
    end = it->end;

    if (p >= end) {
        return 0;
    }

    if (key) {
        q = (*p == '"') ? memchr(p + 1, '"', (size_t) (end - p - 1)) : NULL;

        if (q && q[-1] != '\\') {
            n = (size_t) (q + 1 - p);

        } else {
            n = ds_jspan_skip(p, end);
        }

        if (n < 2 || p + n >= end || p[n] != ':') {
            return 0;
        }

        key->data = (const char *) p + 1;
        key->len = n - 2;
        p += n + 1;
    }

    if (p < end && *p == '"') {
        q = memchr(p + 1, '"', (size_t) (end - p - 1));

        /* a quote after a backslash: let jspan_string() count them */

        q = (q && q[-1] != '\\') ? q + 1
                                  : ds_jspan_string(p, end);

    } else if (p < end && *p != '{' && *p != '[') {
        for (q = p; q < end; q++) {
            if (*q == ',' || *q == ':' || *q == '}' || *q == ']') {
                break;
            }
        }

    } else {
        q = p + ds_jspan_skip(p, end);
    }

    value->data = (const char *) p;
    value->len = (size_t) (q - p);

    if (q < end && *q == ',') {
        q++;
    }

    it->pos = q;

    return 1;
}


int
ds_jspan_member(const unsigned char *obj, size_t len,
    const char *name, ds_str_t *value)
{
    size_t           nlen;
    ds_str_t         key;
    ds_jspan_iter_t  it;

    if (len == 0 || obj[0] != '{'
        || !ds_jspan_iter(&it, obj, len))
    {
        return 0;
    }

    nlen = strlen(name);

    while (ds_jspan_next(&it, &key, value)) {
        if (key.len == nlen && memcmp(key.data, name, nlen) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * Decodes the JSON string at span, quotes included, into buf (size bytes).
 * Decoding never lengthens a string, so span.len - 2 bytes always do, and
 * buf may be span.data itself (decoding in place).
 * Returns 1 and the length in *len; 0 when buf is too small or span is not
 * exactly one string jansson would accept: valid UTF-8, no raw control
 * character, known escapes, surrogate escapes only in pairs ("\u0000"
 * gives a 0 byte, as jansson's JSON_ALLOW_NUL does).
 */

int
ds_jspan_decode(ds_str_t span, char *buf, size_t size, size_t *len)
{
    size_t                n, skip;
    uint32_t              c, lo;
    unsigned char        *out, *last;
    const unsigned char  *p, *end;

    p = (const unsigned char *) span.data;

    if (span.len < 2 || p[0] != '"' || p[span.len - 1] != '"') {
        return 0;
    }

    end = p + span.len - 1;
    out = (unsigned char *) buf;
    last = out + size;

    for (p++; p < end; /* void */) {

        n = dsi_json_plain_prefix(p, (size_t) (end - p));

        if (n == 0 && *p == 0x7f) {
            /* DEL needs no escape in JSON; the prefix stops at it */
            n = 1;

        } else if (n == 0 && *p >= 0x80) {
            n = dsi_json_utf8_seq(p, (size_t) (end - p), &skip);
            if (n == 0) {
                return 0;
            }
        }

        if (n) {
            if ((size_t) (last - out) < n) {
                return 0;
            }

            memmove(out, p, n);
            out += n;
            p += n;
            continue;
        }

        /* an unescaped quote or control character, or an escape */

        if (*p != '\\' || end - p < 2) {
            return 0;
        }

        switch (p[1]) {
        case '"':  c = '"';  break;
        case '\\': c = '\\'; break;
        case '/':  c = '/';  break;
        case 'b':  c = '\b'; break;
        case 'f':  c = '\f'; break;
        case 'n':  c = '\n'; break;
        case 'r':  c = '\r'; break;
        case 't':  c = '\t'; break;

        case 'u':
            if (!ds_jspan_hex4(p + 2, end, &c)) {
                return 0;
            }

            if (c >= 0xdc00 && c <= 0xdfff) {
                return 0;
            }

            if (c >= 0xd800 && c <= 0xdbff) {
                if (end - p < 12 || p[6] != '\\' || p[7] != 'u'
                    || !ds_jspan_hex4(p + 8, end, &lo)
                    || lo < 0xdc00 || lo > 0xdfff)
                {
                    return 0;
                }

                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            }

            p += 4;
            break;

        default:
            return 0;
        }

        p += 2;

        n = (c < 0x80) ? 1 : (c < 0x800) ? 2 : (c < 0x10000) ? 3 : 4;

        if ((size_t) (last - out) < n) {
            return 0;
        }

        switch (n) {
        case 1:
            *out++ = (unsigned char) c;
            break;

        case 2:
            *out++ = (unsigned char) (0xc0 | (c >> 6));
            *out++ = (unsigned char) (0x80 | (c & 0x3f));
            break;

        case 3:
            *out++ = (unsigned char) (0xe0 | (c >> 12));
            *out++ = (unsigned char) (0x80 | ((c >> 6) & 0x3f));
            *out++ = (unsigned char) (0x80 | (c & 0x3f));
            break;

        default:
            *out++ = (unsigned char) (0xf0 | (c >> 18));
            *out++ = (unsigned char) (0x80 | ((c >> 12) & 0x3f));
            *out++ = (unsigned char) (0x80 | ((c >> 6) & 0x3f));
            *out++ = (unsigned char) (0x80 | (c & 0x3f));
            break;
        }
    }

    *len = (size_t) (out - (unsigned char *) buf);

    return 1;
}


/*
 * An integer as jansson reads one: -?(0|[1-9][0-9]*), no fraction nor
 * exponent, within int64_t. Returns 1 and the value, 0 otherwise.
 */

int
ds_jspan_int(ds_str_t span, int64_t *value)
{
    int                   neg;
    uint64_t              v, max, d;
    const unsigned char  *p, *end;

    p = (const unsigned char *) span.data;
    end = p + span.len;

    neg = (p < end && *p == '-');
    p += neg;

    if (p == end || *p < '0' || *p > '9' || (*p == '0' && end - p > 1)) {
        return 0;
    }

    max = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;

    for (v = 0; p < end; p++) {
        if (*p < '0' || *p > '9') {
            return 0;
        }

        d = (uint64_t) (*p - '0');

        if (v > (max - d) / 10) {
            return 0;
        }

        v = v * 10 + d;
    }

    /* -2^63 has no positive counterpart: negate v - 1 */
    *value = !neg ? (int64_t) v : v ? -(int64_t) (v - 1) - 1 : 0;

    return 1;
}


static int
ds_jspan_hex4(const unsigned char *p, const unsigned char *end, uint32_t *v)
{
    int            i;
    unsigned char  c;

    if (end - p < 4) {
        return 0;
    }

    *v = 0;

    for (i = 0; i < 4; i++) {
        c = p[i];

        if (c >= '0' && c <= '9') {
            c -= '0';

        } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
            c = (unsigned char) ((c | 0x20) - 'a' + 10);

        } else {
            return 0;
        }

        *v = *v << 4 | c;
    }

    return 1;
}
