/*
 * Copyright (C) ngx_durable authors
 *
 * JSON ingest: validate once (ds_json_check.c), keep the original bytes
 * minus insignificant whitespace; JSON string escaping.
 */


#include <stdio.h>
#include <string.h>

#include "ds_internal.h"


static int ds_json_space(unsigned char c);


int
ds_json_depth_ok(const char *in, size_t len, unsigned max_depth)
{
    int        in_str, esc;
    size_t     i, depth;
    char       c;

    in_str = 0;
    esc = 0;
    depth = 0;

    for (i = 0; i < len; i++) {
        c = in[i];

        if (in_str) {
            if (esc) {
                esc = 0;

            } else if (c == '\\') {
                esc = 1;

            } else if (c == '"') {
                in_str = 0;
            }

            continue;
        }

        switch (c) {

        case '"':
            in_str = 1;
            break;

        case '[':
        case '{':
            if (++depth > max_depth) {
                return 0;
            }

            break;

        case ']':
        case '}':
            if (depth) {
                depth--;
            }

            break;

        default:
            break;
        }
    }

    return 1;
}


int
ds_json_ingest(const char *in, size_t len, unsigned max_depth, char *out,
    size_t *out_len, char *err, size_t err_len)
{
    int              rc, spaced;
    size_t           i;
    ds_json_error_t  error;

    for (i = 0; i < len && ds_json_space((unsigned char) in[i]); i++) {
        /* void */
    }

    if (i == len) {
        *out_len = 0;
        return DS_OK;
    }

    rc = dsi_json_check_spaced(in, len, max_depth, &error, &spaced);

    if (rc < 0) {
        snprintf(err, err_len, "out of memory");
        return DS_ERROR;
    }

    if (rc == 0 && error.too_deep) {
        snprintf(err, err_len, "JSON nesting deeper than %u", max_depth);
        return DS_INVALID;
    }

    if (rc == 0) {
        snprintf(err, err_len, "invalid JSON at line %zu, column %zu "
                 "(position %zu): %s", error.line, error.column,
                 error.position, error.text);
        return DS_INVALID;
    }

    if (!spaced) {
        /* minified already, as workers and SDKs send their bodies */

        if (out != in) {
            memcpy(out, in, len);
        }

        *out_len = len;

        return DS_OK;
    }

    *out_len = dsi_json_minify(in, len, out);

    return DS_OK;
}


/* out may be in: it is written no faster than in is read */

size_t
dsi_json_minify(const char *in, size_t len, char *out)
{
    int     in_str, esc;
    char    c;
    size_t  i, n;

    in_str = 0;
    esc = 0;
    n = 0;

    for (i = 0; i < len; i++) {
        c = in[i];

        if (in_str) {
            if (esc) {
                esc = 0;

            } else if (c == '\\') {
                esc = 1;

            } else if (c == '"') {
                in_str = 0;
            }

        } else if (ds_json_space((unsigned char) c)) {
            continue;

        } else if (c == '"') {
            in_str = 1;
        }

        out[n++] = c;
    }

    return n;
}


/*
 * The length of the leading bytes that need no escaping: printable ASCII
 * other than '"' and '\\'. Eight bytes at a time: for each test, a byte's
 * high bit ends up set where the byte fails it (a borrow may flag a byte
 * after one that failed too, which only sends the word to the byte loop).
 */

#define DS_ONES   0x0101010101010101ULL
#define DS_HIGHS  0x8080808080808080ULL

#define ds_has_zero(v)  (((v) - DS_ONES) & ~(v))

size_t
dsi_json_plain_prefix(const unsigned char *p, size_t len)
{
    size_t    i;
    uint64_t  x, bad;

    for (i = 0; i + 8 <= len; i += 8) {
        memcpy(&x, p + i, 8);

        bad = ((x - DS_ONES * 0x20) & ~x)           /* < 0x20 */
              | x                                   /* >= 0x80 */
              | ds_has_zero(x ^ (DS_ONES * '"'))
              | ds_has_zero(x ^ (DS_ONES * '\\'))
              | ds_has_zero(x ^ (DS_ONES * 0x7f));

        if (bad & DS_HIGHS) {
            break;
        }
    }

    for ( /* void */ ; i < len; i++) {
        if (p[i] < 0x20 || p[i] > 0x7e || p[i] == '"' || p[i] == '\\') {
            break;
        }
    }

    return i;
}


size_t
ds_json_escape_len(const char *in, size_t len)
{
    size_t                i, n, seq, skip;
    const unsigned char  *p;

    p = (const unsigned char *) in;

    /* the common case, plain ASCII with nothing to escape: its own length */

    i = dsi_json_plain_prefix(p, len);
    if (i == len) {
        return len;
    }

    n = i;

    for ( /* void */ ; i < len; /* void */) {
        if (p[i] == '"' || p[i] == '\\' || p[i] == '\b' || p[i] == '\f'
            || p[i] == '\n' || p[i] == '\r' || p[i] == '\t')
        {
            n += 2;
            i++;
            continue;
        }

        if (p[i] < 0x20) {
            n += 6;
            i++;
            continue;
        }

        seq = dsi_json_utf8_seq(p + i, len - i, &skip);

        if (seq) {
            n += seq;
            i += seq;

        } else {
            n += 6;
            i += skip;
        }
    }

    return n;
}


size_t
ds_json_escape(const char *in, size_t len, char *out)
{
    char                  *o;
    size_t                 i, seq, skip;
    const unsigned char   *p;
    static const char      hex[] = "0123456789abcdef";

    p = (const unsigned char *) in;

    /* an empty text may have no data at all: memcpy() wants some */

    if (len == 0) {
        return 0;
    }

    i = dsi_json_plain_prefix(p, len);
    memcpy(out, in, i);
    o = out + i;

    for ( /* void */ ; i < len; /* void */) {
        switch (p[i]) {

        case '"':
            *o++ = '\\';
            *o++ = '"';
            i++;
            continue;

        case '\\':
            *o++ = '\\';
            *o++ = '\\';
            i++;
            continue;

        case '\b':
            *o++ = '\\';
            *o++ = 'b';
            i++;
            continue;

        case '\f':
            *o++ = '\\';
            *o++ = 'f';
            i++;
            continue;

        case '\n':
            *o++ = '\\';
            *o++ = 'n';
            i++;
            continue;

        case '\r':
            *o++ = '\\';
            *o++ = 'r';
            i++;
            continue;

        case '\t':
            *o++ = '\\';
            *o++ = 't';
            i++;
            continue;

        default:
            break;
        }

        if (p[i] < 0x20) {
            *o++ = '\\';
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[p[i] >> 4];
            *o++ = hex[p[i] & 0xf];
            i++;
            continue;
        }

        seq = dsi_json_utf8_seq(p + i, len - i, &skip);

        if (seq) {
            while (seq--) {
                *o++ = (char) p[i++];
            }

        } else {
            *o++ = '\\';
            *o++ = 'u';
            *o++ = 'f';
            *o++ = 'f';
            *o++ = 'f';
            *o++ = 'd';
            i += skip;
        }
    }

    return (size_t) (o - out);
}


int
ds_json_text_or_string(const char *in, size_t len, unsigned max_depth,
    char *out, size_t *out_len)
{
    size_t           n;
    ds_json_error_t  error;

    /* blank text is the empty string, as the reference makes it */

    for (n = 0; n < len && ds_json_space((unsigned char) in[n]); n++) {
        /* void */
    }

    if (n == len) {
        out[0] = '"';
        out[1] = '"';
        *out_len = 2;
        return DS_OK;
    }

    /* out of memory (a huge real) is not JSON here: kept as a string */

    if (dsi_json_check(in, len, max_depth, &error) == 1) {
        *out_len = dsi_json_minify(in, len, out);
        return DS_OK;
    }

    out[0] = '"';
    n = ds_json_escape(in, len, out + 1);
    out[n + 1] = '"';
    *out_len = n + 2;

    return DS_OK;
}


static int
ds_json_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}


/*
 * Returns the length of the valid UTF-8 sequence at p, or 0 and in *skip
 * the length of its longest invalid prefix (one U+FFFD replaces it).
 */

size_t
dsi_json_utf8_seq(const unsigned char *p, size_t n, size_t *skip)
{
    size_t         i, need;
    unsigned char  lo, hi;

    lo = 0x80;
    hi = 0xbf;

    if (p[0] < 0x80) {
        return 1;
    }

    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        need = 2;

    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        need = 3;

        if (p[0] == 0xe0) {
            lo = 0xa0;

        } else if (p[0] == 0xed) {
            hi = 0x9f;     /* no surrogates */
        }

    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        need = 4;

        if (p[0] == 0xf0) {
            lo = 0x90;

        } else if (p[0] == 0xf4) {
            hi = 0x8f;     /* nothing above U+10FFFF */
        }

    } else {
        *skip = 1;
        return 0;
    }

    for (i = 1; i < need; i++) {
        if (i >= n || p[i] < lo || p[i] > hi) {
            *skip = i;
            return 0;
        }

        lo = 0x80;
        hi = 0xbf;
    }

    return need;
}
