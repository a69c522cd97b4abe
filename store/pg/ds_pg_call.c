/*
 * Copyright (C) ngx_durable authors
 *
 * The parts of an operation's call that every kind shares: parameters
 * gathered into one block (text, NUL-terminated; JSON of length 0, null,
 * sent as SQL NULL), the array literals of leases and names, an event's
 * members rendered as ds_events.c renders them, and the readers of an
 * answer's columns. ds_pg_op.c and the files of each kind use them.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_internal.h"
#include "ds_pg.h"


#define DSI_PG_NUM_LEN      24


/*
 * The events of a text[] as PostgreSQL writes it: {"..","..."}. Each is
 * unescaped into a block of its own place, so that what the callback was
 * handed stays valid until the block is freed: a front end keeps the
 * events of a history until it renders them, during done() or an item's
 * callback, as LMDB's point into its map. With keep the block is put on
 * that list, for dsi_pg_keep_free(); without it freed before the return.
 */

struct dsi_pg_keep_s {
    dsi_pg_keep_t      *next;
};


int
dsi_pg_array_keep(const char *p, ds_event_cb cb, void *data,
    dsi_pg_keep_t **keep)
{
    int             rc;
    char           *buf, *q, *ev;
    uint64_t        seq;
    dsi_pg_keep_t  *block;

    block = malloc(sizeof(dsi_pg_keep_t) + strlen(p) + 1);
    if (block == NULL) {
        return DS_ERROR;
    }

    buf = (char *) (block + 1);

    if (keep != NULL) {
        block->next = *keep;
        *keep = block;
    }

    rc = DS_OK;
    seq = 0;

    if (*p++ != '{') {
        rc = DS_ERROR;
    }

    for (q = buf; rc == DS_OK && *p != '}' && *p != '\0'; /* void */) {
        if (*p != '"') {
            /* events are objects, always quoted; NULL cannot be */
            rc = DS_ERROR;
            break;
        }

        for (ev = q, p++; *p != '"' && *p != '\0'; p++) {
            if (*p == '\\' && p[1] != '\0') {
                p++;
            }

            *q++ = *p;
        }

        if (*p++ != '"') {
            rc = DS_ERROR;
            break;
        }

        if (cb(data, ++seq, (ds_str_t) { ev, (size_t) (q - ev) }) != 0) {
            rc = DS_ERROR;
            break;
        }

        if (*p == ',') {
            p++;
        }
    }

    if (keep == NULL) {
        free(block);
    }

    return rc;
}


int
dsi_pg_array(const char *p, ds_event_cb cb, void *data)
{
    return dsi_pg_array_keep(p, cb, data, NULL);
}


void
dsi_pg_keep_free(dsi_pg_keep_t **keep)
{
    dsi_pg_keep_t  *block, *next;

    for (block = *keep; block; block = next) {
        next = block->next;
        free(block);
    }

    *keep = NULL;
}


/*
 * A status mask for SQL's integer: the statuses there are, or a bit no
 * status has when only unknown ones were asked for (0 would mean any)
 */

int
dsi_pg_mask(unsigned mask)
{
    if (mask != 0 && (mask & 0xff) == 0) {
        return 0x100;
    }

    return (int) (mask & 0xff);
}


/* the claim's tokens as a bytea[] literal: {"\\x..","\\x.."} */

int
dsi_pg_tokens(dsi_pg_call_t *call, const uint8_t *tokens, size_t n)
{
    char    digits[2 * DS_LEASE_LEN];
    size_t  i, j;

    static const char  hex[] = "0123456789abcdef";

    call->buf.len = 0;
    dsi_buf_add(&call->buf, "{", 1);

    for (i = 0; i < n; i++) {
        dsi_buf_add(&call->buf, i ? ",\"\\\\x" : "\"\\\\x", i ? 5 : 4);

        for (j = 0; j < DS_LEASE_LEN; j++) {
            digits[2 * j] = hex[tokens[i * DS_LEASE_LEN + j] >> 4];
            digits[2 * j + 1] = hex[tokens[i * DS_LEASE_LEN + j] & 15];
        }

        dsi_buf_add(&call->buf, digits, 2 * DS_LEASE_LEN);
        dsi_buf_add(&call->buf, "\"", 1);
    }

    dsi_buf_add(&call->buf, "}", 1);

    if (call->buf.oom) {
        return DS_ERROR;
    }

    dsi_pg_param(call, call->buf.data, call->buf.len, 0);

    return DS_OK;
}


/* names= as a text[] literal, each quoted; NULL for none */

int
dsi_pg_names(dsi_pg_call_t *call, const ds_claim_filter_t *f)
{
    size_t       i, j;
    const char  *s;

    if (f == NULL || f->nnames == 0) {
        dsi_pg_param(call, NULL, 0, 1);
        return DS_OK;
    }

    call->buf.len = 0;
    dsi_buf_add(&call->buf, "{", 1);

    for (i = 0; i < f->nnames; i++) {
        dsi_buf_add(&call->buf, i ? ",\"" : "\"", i ? 2 : 1);
        s = f->names[i].data;

        for (j = 0; j < f->names[i].len; j++) {
            if (s[j] == '"' || s[j] == '\\') {
                dsi_buf_add(&call->buf, "\\", 1);
            }

            dsi_buf_add(&call->buf, &s[j], 1);
        }

        dsi_buf_add(&call->buf, "\"", 1);
    }

    dsi_buf_add(&call->buf, "}", 1);

    if (call->buf.oom) {
        return DS_ERROR;
    }

    dsi_pg_param(call, call->buf.data, call->buf.len, 0);

    return DS_OK;
}


/* a lease as bytea text, \x and 32 hex digits */

void
dsi_pg_param_lease(dsi_pg_call_t *call, const uint8_t *lease)
{
    char    text[2 + 2 * DS_LEASE_LEN];
    size_t  i;

    static const char  hex[] = "0123456789abcdef";

    text[0] = '\\';
    text[1] = 'x';

    for (i = 0; i < DS_LEASE_LEN; i++) {
        text[2 + 2 * i] = hex[lease[i] >> 4];
        text[3 + 2 * i] = hex[lease[i] & 15];
    }

    dsi_pg_param(call, text, sizeof(text), 0);
}


/* an event's members as ds_events.c writes them: "N":"name","J":json */

int
dsi_pg_members(dsi_pg_call_t *call, const char *name_field, ds_str_t name,
    const char *json_field, ds_str_t json)
{
    dsi_ev_open(&call->buf);
    dsi_ev_str(&call->buf, name_field, name);
    dsi_ev_json(&call->buf, json_field, json);

    if (call->buf.oom) {
        return DS_ERROR;
    }

    /* without the "{" that opened them */
    dsi_pg_param(call, call->buf.data + 1, call->buf.len - 1, 0);

    return DS_OK;
}


/*
 * Parameters are gathered as offsets into one block, since it moves while
 * it grows; dsi_pg_finish() points the values into it.
 */

void
dsi_pg_param(dsi_pg_call_t *call, const char *s, size_t len, int null)
{
    char    *p;
    size_t   size;

    if (call->nparams == DSI_PG_PARAMS_MAX) {
        call->oom = 1;
        return;
    }

    if (null) {
        call->off[call->nparams++] = (size_t) -1;
        return;
    }

    if (call->size - call->len < len + 1) {
        size = call->size ? call->size : 512;

        while (size - call->len < len + 1) {
            size *= 2;
        }

        p = realloc(call->mem, size);
        if (p == NULL) {
            call->oom = 1;
            return;
        }

        call->mem = p;
        call->size = size;
    }

    if (len) {
        memcpy(call->mem + call->len, s, len);
    }

    call->mem[call->len + len] = '\0';
    call->off[call->nparams++] = call->len;
    call->len += len + 1;
}


void
dsi_pg_param_str(dsi_pg_call_t *call, ds_str_t s)
{
    dsi_pg_param(call, s.data, s.len, 0);
}


void
dsi_pg_param_json(dsi_pg_call_t *call, ds_str_t s)
{
    dsi_pg_param(call, s.data, s.len, s.len == 0);
}


void
dsi_pg_param_int(dsi_pg_call_t *call, int64_t v)
{
    int   n;
    char  num[DSI_PG_NUM_LEN];

    n = snprintf(num, sizeof(num), "%lld", (long long) v);
    dsi_pg_param(call, num, (size_t) n, 0);
}


int
dsi_pg_finish(dsi_pg_call_t *call)
{
    int  i;

    if (call->oom) {
        return DS_ERROR;
    }

    for (i = 0; i < call->nparams; i++) {
        call->values[i] = call->off[i] == (size_t) -1
                          ? NULL : call->mem + call->off[i];
    }

    call->stmt.nparams = call->nparams;
    call->stmt.values = call->values;

    return DS_OK;
}


int64_t
dsi_pg_int(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col)) {
        return 0;
    }

    return (int64_t) strtoll(PQgetvalue(res, row, col), NULL, 10);
}


/* SQL NULL is JSON null: length 0 */

ds_str_t
dsi_pg_text(const PGresult *res, int row, int col)
{
    ds_str_t  s;

    s.data = PQgetvalue(res, row, col);
    s.len = PQgetisnull(res, row, col) ? 0
                                        : (size_t) PQgetlength(res, row, col);

    return s;
}


/* a lease: bytea as text, \x and 32 hex digits; NULL is no lease */

int
dsi_pg_bytes16(const PGresult *res, int row, int col, uint8_t *out)
{
    int          i, hi, lo;
    const char  *p;

    memset(out, 0, DS_LEASE_LEN);

    if (PQgetisnull(res, row, col)) {
        return 0;
    }

    p = PQgetvalue(res, row, col);

    if (PQgetlength(res, row, col) != 2 + 2 * DS_LEASE_LEN
        || p[0] != '\\' || p[1] != 'x')
    {
        return -1;
    }

    for (i = 0; i < DS_LEASE_LEN; i++) {
        hi = p[2 + 2 * i];
        lo = p[3 + 2 * i];
        hi = hi <= '9' ? hi - '0' : hi - 'a' + 10;
        lo = lo <= '9' ? lo - '0' : lo - 'a' + 10;
        out[i] = (uint8_t) (hi << 4 | lo);
    }

    return 0;
}


int
dsi_pg_col(const PGresult *res, const char *name)
{
    return PQfnumber(res, name);
}
