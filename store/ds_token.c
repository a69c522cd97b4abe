/*
 * Copyright (C) ngx_durable authors
 *
 * base64url without padding, for opaque continuation tokens. Decoding is
 * strict: the alphabet only, no padding, zero unused bits.
 */


#include "ds_internal.h"


static int ds_b64_value(unsigned char c);


static const char  ds_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


/* out has room for (n + 2) / 3 * 4 bytes */

size_t
dsi_b64url_encode(const unsigned char *raw, size_t n, char *out)
{
    char      *p;
    size_t     i;
    uint32_t   v;

    p = out;

    for (i = 0; i + 2 < n; i += 3) {
        v = ((uint32_t) raw[i] << 16) | ((uint32_t) raw[i + 1] << 8)
            | raw[i + 2];
        *p++ = ds_b64[v >> 18];
        *p++ = ds_b64[(v >> 12) & 63];
        *p++ = ds_b64[(v >> 6) & 63];
        *p++ = ds_b64[v & 63];
    }

    if (n - i == 1) {
        v = (uint32_t) raw[i] << 16;
        *p++ = ds_b64[v >> 18];
        *p++ = ds_b64[(v >> 12) & 63];

    } else if (n - i == 2) {
        v = ((uint32_t) raw[i] << 16) | ((uint32_t) raw[i + 1] << 8);
        *p++ = ds_b64[v >> 18];
        *p++ = ds_b64[(v >> 12) & 63];
        *p++ = ds_b64[(v >> 6) & 63];
    }

    return (size_t) (p - out);
}


/* DS_INVALID for a malformed token or one longer than max raw bytes */

int
dsi_b64url_decode(ds_str_t in, unsigned char *raw, size_t max, size_t *n)
{
    int                   d;
    size_t                i, bits, len;
    uint32_t              v;
    const unsigned char  *p;

    p = (const unsigned char *) in.data;

    if (in.len > DS_TOKEN_MAX || in.len % 4 == 1
        || (in.len / 4) * 3 + (in.len % 4 ? in.len % 4 - 1 : 0) > max)
    {
        return DS_INVALID;
    }

    len = 0;
    v = 0;
    bits = 0;

    for (i = 0; i < in.len; i++) {
        d = ds_b64_value(p[i]);
        if (d < 0) {
            return DS_INVALID;
        }

        v = (v << 6) | (uint32_t) d;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            raw[len++] = (unsigned char) (v >> bits);
            v &= ((uint32_t) 1 << bits) - 1;
        }
    }

    if (v != 0) {
        return DS_INVALID;
    }

    *n = len;

    return DS_OK;
}


static int
ds_b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '-') {
        return 62;
    }

    if (c == '_') {
        return 63;
    }

    return -1;
}
