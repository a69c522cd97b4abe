
/*
 * Copyright (C) ngx_durable authors
 *
 * JSON and names on their way between protocol buffers and the store:
 * StringValue fields, JSON strings and their text, members of the
 * store's events (by spans, ds_jspan.h), tags, checked names, times.
 */


#include <stdlib.h>
#include <string.h>

#include "durable_grpc.h"
#include "dg_internal.h"
#include "ds_jspan.h"


#define DG_US               1000000


void
dg_ctx_init(dg_ctx_t *ctx, dg_mem_t mem, unsigned json_depth)
{
    memset(ctx, 0, sizeof(dg_ctx_t));

    ctx->mem = mem;
    ctx->json_depth = json_depth;
}


ds_str_t
dgi_str(ProtobufCBinaryData b)
{
    ds_str_t  s;

    s.data = b.len ? (const char *) b.data : "";
    s.len = b.len;

    return s;
}


ProtobufCBinaryData
dgi_bytes(ds_str_t s)
{
    ProtobufCBinaryData  b;

    /* protobuf-c packs from it and never writes to it */
    b.data = (uint8_t *) (uintptr_t) s.data;
    b.len = s.len;

    return b;
}


/* a compact JSON object of the tags, each key and value escaped */

int
dgi_tags_in(dg_ctx_t *ctx, size_t n, void **entries, ds_str_t *out)
{
    char              *p;
    size_t             i, len, kl, vl;
    dgi_tag_entry_t  **e = (dgi_tag_entry_t **) entries;

    out->data = "";
    out->len = 0;

    if (n == 0) {
        return DG_OK;
    }

    len = 2;

    for (i = 0; i < n; i++) {
        kl = e[i]->key ? strlen(e[i]->key) : 0;
        vl = e[i]->value ? strlen(e[i]->value) : 0;

        len += ds_json_escape_len(e[i]->key ? e[i]->key : "", kl)
               + ds_json_escape_len(e[i]->value ? e[i]->value : "", vl) + 6;
    }

    p = dgi_alloc(ctx->mem, len);
    if (p == NULL) {
        return dg_status_set(&ctx->status, DG_RESOURCE_EXHAUSTED,
                             "out of memory");
    }

    len = 0;
    p[len++] = '{';

    for (i = 0; i < n; i++) {
        if (i) {
            p[len++] = ',';
        }

        p[len++] = '"';
        len += ds_json_escape(e[i]->key ? e[i]->key : "",
                              e[i]->key ? strlen(e[i]->key) : 0, p + len);
        p[len++] = '"';
        p[len++] = ':';
        p[len++] = '"';
        len += ds_json_escape(e[i]->value ? e[i]->value : "",
                              e[i]->value ? strlen(e[i]->value) : 0,
                              p + len);
        p[len++] = '"';
    }

    p[len++] = '}';

    out->data = p;
    out->len = len;

    return DG_OK;
}


int
dgi_json_in(dg_ctx_t *ctx, const StringValue *v, const char *field,
    ds_str_t *out)
{
    int     rc;
    char   *p, err[128];
    size_t  len;

    out->data = "";
    out->len = 0;

    if (v == NULL || v->value.len == 0) {
        return DG_OK;
    }

    p = dgi_alloc(ctx->mem, v->value.len);
    if (p == NULL) {
        return dg_status_set(&ctx->status, DG_RESOURCE_EXHAUSTED,
                             "out of memory");
    }

    rc = ds_json_ingest((const char *) v->value.data, v->value.len,
                        ctx->json_depth, p, &len, err, sizeof(err));

    if (rc != DS_OK) {
        return dg_status_set(&ctx->status, rc == DS_INVALID
                                           ? DG_INVALID_ARGUMENT
                                           : DG_RESOURCE_EXHAUSTED,
                             "'%s' is not JSON: %s", field, err);
    }

    out->data = p;
    out->len = len;

    return DG_OK;
}


int
dgi_text_in(dg_ctx_t *ctx, const StringValue *v, ds_str_t *out)
{
    char      *p;
    size_t     n;
    ds_str_t   text;

    out->data = "";
    out->len = 0;

    if (v == NULL) {
        return DG_OK;
    }

    /* an empty bytes field has no data pointer at all */
    text = dgi_str(v->value);

    n = ds_json_escape_len(text.data, text.len);

    p = dgi_alloc(ctx->mem, n + 2);
    if (p == NULL) {
        return dg_status_set(&ctx->status, DG_RESOURCE_EXHAUSTED,
                             "out of memory");
    }

    p[0] = '"';
    n = ds_json_escape(text.data, text.len, p + 1);
    p[n + 1] = '"';

    out->data = p;
    out->len = n + 2;

    return DG_OK;
}


StringValue *
dgi_value_out(dg_ctx_t *ctx, ds_str_t s)
{
    StringValue  *v;

    if (s.len == 0) {
        return NULL;
    }

    v = dgi_alloc(ctx->mem, sizeof(StringValue));
    if (v == NULL) {
        ctx->nomem = 1;
        return NULL;
    }

    string_value__init(v);
    v->value = dgi_bytes(s);

    return v;
}


static int
dgi_hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}


static int
dgi_u4(const char *p, const char *end, unsigned *u)
{
    int  i, h;

    if (end - p < 4) {
        return -1;
    }

    *u = 0;

    for (i = 0; i < 4; i++) {
        h = dgi_hex((unsigned char) p[i]);
        if (h < 0) {
            return -1;
        }

        *u = *u << 4 | (unsigned) h;
    }

    return 0;
}


/* the byte of a one-letter escape; 0 for 'u' and what is no escape */

static int
dgi_escaped(char c)
{
    static const char  from[] = "\"\\/bfnrt";
    static const char  to[] = "\"\\/\b\f\n\r\t";
    const char        *p;

    if (c == '\0') {
        return 0;
    }

    p = strchr(from, c);

    return p ? (unsigned char) to[p - from] : 0;
}


int
dgi_unescape(ds_str_t json, char *out, size_t *len)
{
    int             c;
    char           *o;
    unsigned        u, lo;
    const char     *p, *end;

    if (json.len < 2 || json.data[0] != '"' || json.data[json.len - 1] != '"')
    {
        return -1;
    }

    p = json.data + 1;
    end = json.data + json.len - 1;
    o = out;

    while (p < end) {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }

        if (++p == end) {
            return -1;
        }

        c = dgi_escaped(*p++);

        if (c > 0) {
            *o++ = (char) c;
            continue;
        }

        if (p[-1] != 'u') {
            return -1;
        }

        if (dgi_u4(p, end, &u) != 0) {
            return -1;
        }

        p += 4;

        if (u >= 0xd800 && u <= 0xdbff) {
            if (end - p < 6 || p[0] != '\\' || p[1] != 'u'
                || dgi_u4(p + 2, end, &lo) != 0
                || lo < 0xdc00 || lo > 0xdfff)
            {
                return -1;
            }

            p += 6;
            u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);

        } else if (u >= 0xdc00 && u <= 0xdfff) {
            return -1;
        }

        /* UTF-8 is never longer than the escape it came from */

        if (u < 0x80) {
            *o++ = (char) u;

        } else if (u < 0x800) {
            *o++ = (char) (0xc0 | u >> 6);
            *o++ = (char) (0x80 | (u & 0x3f));

        } else if (u < 0x10000) {
            *o++ = (char) (0xe0 | u >> 12);
            *o++ = (char) (0x80 | ((u >> 6) & 0x3f));
            *o++ = (char) (0x80 | (u & 0x3f));

        } else {
            *o++ = (char) (0xf0 | u >> 18);
            *o++ = (char) (0x80 | ((u >> 12) & 0x3f));
            *o++ = (char) (0x80 | ((u >> 6) & 0x3f));
            *o++ = (char) (0x80 | (u & 0x3f));
        }
    }

    *len = (size_t) (o - out);

    return 0;
}


int
dgi_text_out(dg_ctx_t *ctx, ds_str_t json, ds_str_t *text)
{
    char    *p;
    size_t   len;

    *text = json;

    if (json.len < 2 || json.data[0] != '"') {
        return DG_OK;
    }

    /* most strings need no unescaping: point into them */

    if (memchr(json.data, '\\', json.len) == NULL) {
        text->data = json.data + 1;
        text->len = json.len - 2;
        return DG_OK;
    }

    p = dgi_alloc(ctx->mem, json.len);
    if (p == NULL) {
        return dg_status_set(&ctx->status, DG_RESOURCE_EXHAUSTED,
                             "out of memory");
    }

    if (dgi_unescape(json, p, &len) != 0) {
        return DG_OK;
    }

    text->data = p;
    text->len = len;

    return DG_OK;
}


ds_str_t
dgi_member(ds_str_t event, const char *name)
{
    ds_str_t  v;

    if (!ds_jspan_member((const unsigned char *) event.data, event.len, name,
                         &v)
        || (v.len == 4 && memcmp(v.data, "null", 4) == 0))
    {
        v.data = "";
        v.len = 0;
    }

    return v;
}


int
dgi_member_int(ds_str_t event, const char *name, int64_t *v)
{
    char       buf[24], *end;
    ds_str_t   s;
    long long  n;

    s = dgi_member(event, name);

    if (s.len == 0 || s.len >= sizeof(buf)) {
        return 0;
    }

    memcpy(buf, s.data, s.len);
    buf[s.len] = '\0';

    n = strtoll(buf, &end, 10);

    if (*end != '\0') {
        return 0;
    }

    *v = (int64_t) n;

    return 1;
}


int
dgi_member_text(dg_ctx_t *ctx, ds_str_t event, const char *name,
    ds_str_t *text)
{
    ds_str_t  s;

    s = dgi_member(event, name);

    if (s.len == 0) {
        text->data = "";
        text->len = 0;
        return 0;
    }

    return dgi_text_out(ctx, s, text) == DG_OK;
}


static int
dgi_name_fault(dg_ctx_t *ctx, const char *field, ds_name_fault_t *f)
{
    char  buf[160];

    (void) ds_name_fault_text(f, buf, sizeof(buf));

    return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT, "'%s' %s", field,
                         buf);
}


int
dgi_name_in(dg_ctx_t *ctx, ProtobufCBinaryData b, const char *field,
    ds_str_t *out)
{
    ds_name_fault_t  f;

    *out = dgi_str(b);

    if (ds_name_check(*out, DS_NAME_MAX, &f) != DS_OK) {
        return dgi_name_fault(ctx, field, &f);
    }

    return DG_OK;
}


/* an entity operation's name: empty (the reference's default) or a name */

int
dgi_operation_in(dg_ctx_t *ctx, ProtobufCBinaryData b, const char *field,
    ds_str_t *out)
{
    if (b.len == 0) {
        out->data = "";
        out->len = 0;
        return DG_OK;
    }

    return dgi_name_in(ctx, b, field, out);
}


int
dgi_id_in(dg_ctx_t *ctx, ProtobufCBinaryData b, const char *field,
    ds_str_t *out)
{
    ds_name_fault_t  f;

    *out = dgi_str(b);

    if (ds_name_instance_id(*out, &f) != DS_OK) {
        return dgi_name_fault(ctx, field, &f);
    }

    return DG_OK;
}


int
dgi_status_mask(dg_ctx_t *ctx, size_t n, const OrchestrationStatus *s,
    const char *field, unsigned *mask)
{
    size_t  i;

    *mask = 0;

    for (i = 0; i < n; i++) {
        if ((unsigned) s[i] >= DS_STATUS_COUNT) {
            return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                                 "'%s' has %d, which is no status", field,
                                 (int) s[i]);
        }

        *mask |= DS_STATUS_MASK(s[i]);
    }

    return DG_OK;
}


int
dg_time_in(dg_ctx_t *ctx, const Timestamp *ts, const char *field,
    int64_t *us)
{
    if (ts == NULL) {
        *us = 0;
        return DG_OK;
    }

    /*
     * nanos out of their range are no Timestamp, and seconds beyond the
     * dates the store formats would wrap or clamp: both are refused
     */

    if (ts->nanos < 0 || ts->nanos > 999999999) {
        return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                             "'%s.nanos' is %ld, not in 0..999999999",
                             field, (long) ts->nanos);
    }

    if (ts->seconds < DG_TIME_S_MIN || ts->seconds > DG_TIME_S_MAX) {
        return dg_status_set(&ctx->status, DG_INVALID_ARGUMENT,
                             "'%s.seconds' is %lld, not in %lld..%lld "
                             "(0000-01-01 to 9999-12-31)", field,
                             (long long) ts->seconds,
                             (long long) DG_TIME_S_MIN,
                             (long long) DG_TIME_S_MAX);
    }

    *us = ts->seconds * DG_US + ts->nanos / 1000;

    return DG_OK;
}


Timestamp *
dg_time_out(dg_ctx_t *ctx, int64_t us)
{
    int64_t     s, r;
    Timestamp  *ts;

    ts = dgi_alloc(ctx->mem, sizeof(Timestamp));
    if (ts == NULL) {
        return NULL;
    }

    timestamp__init(ts);

    /* nanos are never negative: floor the seconds */

    s = us / DG_US;
    r = us % DG_US;

    if (r < 0) {
        s--;
        r += DG_US;
    }

    ts->seconds = s;
    ts->nanos = (int32_t) (r * 1000);

    return ts;
}
