
/*
 * Copyright (C) ngx_durable authors
 */


#include <string.h>

#include "ds_jspan.h"


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
