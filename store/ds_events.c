/*
 * Copyright (C) ngx_durable authors
 *
 * Building the JSON text of history events and messages:
 *
 *   {"EventType":"<type>","Timestamp":"<now>","EventId":<id>,<members>}
 *
 * EventType comes first and every event has a Timestamp and an EventId.
 * A ds_buf_t grows as members are added; running out of memory is
 * remembered and reported once, by dsi_ev_end().
 */


#include <stdlib.h>
#include <string.h>

#include "ds_internal.h"


#define DS_BUF_MIN          256


static char *ds_ev_name(ds_buf_t *b, const char *field, size_t n);
static char *ds_buf_room(ds_buf_t *b, size_t n);


void
dsi_buf_init(ds_buf_t *b)
{
    b->data = NULL;
    b->len = 0;
    b->size = 0;
    b->members = 0;
    b->oom = 0;
    b->time_len = 0;
}


void
dsi_buf_reset(ds_buf_t *b)
{
    b->len = 0;
    b->members = 0;
    b->oom = 0;
}


void
dsi_buf_free(ds_buf_t *b)
{
    free(b->data);
    dsi_buf_init(b);
}


static char *
ds_buf_room(ds_buf_t *b, size_t n)
{
    char    *p;
    size_t   size;

    if (b->oom) {
        return NULL;
    }

    if (b->size - b->len >= n) {
        return b->data + b->len;
    }

    size = b->size ? b->size : DS_BUF_MIN;

    while (size - b->len < n) {
        if (size > ((size_t) -1) / 2) {
            b->oom = 1;
            return NULL;
        }

        size *= 2;
    }

    p = realloc(b->data, size);
    if (p == NULL) {
        b->oom = 1;
        return NULL;
    }

    b->data = p;
    b->size = size;

    return b->data + b->len;
}


void
dsi_buf_add(ds_buf_t *b, const char *s, size_t len)
{
    char  *p;

    if (len == 0) {
        return;
    }

    p = ds_buf_room(b, len);
    if (p == NULL) {
        return;
    }

    memcpy(p, s, len);
    b->len += len;
}


void
dsi_ev_open(ds_buf_t *b)
{
    dsi_buf_reset(b);
    dsi_buf_add(b, "{", 1);
}


/*
 * Every history event has an EventId, as the SDKs' replay reads it: the
 * action id for what an action made (TaskScheduled, TimerCreated, ...),
 * -1 for the rest, as the Durable Task Framework records them. type
 * is written as it is, unescaped: it must be a literal of the store's
 * own with nothing to escape (letters only), never a caller's text.
 */

void
dsi_ev_begin(ds_buf_t *b, const char *type, int64_t event_id, int64_t now)
{
    char    *p;
    size_t   len;

    len = strlen(type);

    dsi_ev_open(b);

    /* not escaped: see above */
    p = ds_ev_name(b, "EventType", len + 2);

    if (p != NULL) {
        *p++ = '"';
        memcpy(p, type, len);
        p += len;
        *p++ = '"';

        b->len = (size_t) (p - b->data);
    }

    dsi_ev_time(b, "Timestamp", now);
    dsi_ev_int(b, "EventId", event_id);
}


/*
 * ,"field": -- and room for n more bytes after it, in one reservation:
 * returns where they go, or NULL (out of memory, remembered)
 */

static char *
ds_ev_name(ds_buf_t *b, const char *field, size_t n)
{
    char    *p;
    size_t   len;

    len = strlen(field);

    p = ds_buf_room(b, len + 4 + n);
    if (p == NULL) {
        return NULL;
    }

    if (b->members++) {
        *p++ = ',';
    }

    *p++ = '"';
    memcpy(p, field, len);
    p += len;
    *p++ = '"';
    *p++ = ':';

    b->len = (size_t) (p - b->data);

    return p;
}


/* a JSON string member: s is escaped */

void
dsi_ev_str(ds_buf_t *b, const char *field, ds_str_t s)
{
    char  *p;

    p = ds_ev_name(b, field, ds_json_escape_len(s.data, s.len) + 2);
    if (p == NULL) {
        return;
    }

    *p++ = '"';
    p += ds_json_escape(s.data, s.len, p);
    *p++ = '"';

    b->len = (size_t) (p - b->data);
}


/* a JSON text member, null when empty */

void
dsi_ev_json(ds_buf_t *b, const char *field, ds_str_t json)
{
    char  *p;

    if (json.len == 0) {
        json.data = "null";
        json.len = 4;
    }

    p = ds_ev_name(b, field, json.len);
    if (p == NULL) {
        return;
    }

    memcpy(p, json.data, json.len);
    b->len += json.len;
}


void
dsi_ev_int(ds_buf_t *b, const char *field, int64_t v)
{
    char      *p, *q, num[24];
    size_t     n;
    uint64_t   u;

    /*
     * digits written out: snprintf() was about 2% of the writer's time
     * in the end-to-end benchmark (every event has an EventId)
     */

    u = v < 0 ? 0 - (uint64_t) v : (uint64_t) v;
    q = num + sizeof(num);

    do {
        *--q = (char) ('0' + u % 10);
        u /= 10;
    } while (u);

    if (v < 0) {
        *--q = '-';
    }

    n = (size_t) (num + sizeof(num) - q);

    p = ds_ev_name(b, field, n);
    if (p == NULL) {
        return;
    }

    memcpy(p, q, n);
    b->len += n;
}


void
dsi_ev_time(ds_buf_t *b, const char *field, int64_t us)
{
    char  *p, text[DS_TIME_FRAC_LEN + 1];

    p = ds_ev_name(b, field, DS_TIME_FRAC_LEN + 2);
    if (p == NULL) {
        return;
    }

    /* the events of an episode share a time: formatted once */
    if (b->time_len == 0 || b->time != us) {
        b->time_len = ds_time_format_frac(us, text);
        b->time = us;
        memcpy(b->time_text, text, b->time_len);
    }

    *p++ = '"';
    memcpy(p, b->time_text, b->time_len);
    p += b->time_len;
    *p++ = '"';

    b->len = (size_t) (p - b->data);
}


/* closes the object; event points into b, valid until b changes */

int
dsi_ev_end(ds_txn_t *txn, ds_buf_t *b, ds_str_t *event)
{
    dsi_buf_add(b, "}", 1);

    if (b->oom) {
        dsi_txn_set_error(txn, "out of memory");
        return DS_ERROR;
    }

    event->data = b->data;
    event->len = b->len;

    return DS_OK;
}


/*
 * {"EventType":"<type>","Timestamp":"<now>","EventId":-1
 *  [,"<name_field>":"<name>"],"<json_field>":<json|null>}; event->data is
 * malloc()ed. type and the field names go in unescaped: literals with
 * nothing to escape (dsi_ev_begin()).
 */

int
dsi_event_build(ds_txn_t *txn, const char *type, int64_t now,
    const char *name_field, ds_str_t name, const char *json_field,
    ds_str_t json, ds_str_t *event)
{
    int       rc;
    ds_buf_t  b;

    dsi_buf_init(&b);
    dsi_ev_begin(&b, type, -1, now);

    if (name_field) {
        dsi_ev_str(&b, name_field, name);
    }

    dsi_ev_json(&b, json_field, json);

    rc = dsi_ev_end(txn, &b, event);
    if (rc != DS_OK) {
        dsi_buf_free(&b);
    }

    return rc;
}
