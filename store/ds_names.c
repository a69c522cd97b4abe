/*
 * Copyright (C) ngx_durable authors
 *
 * The rules for the names and ids that clients and workers supply:
 * instance ids, orchestrator, activity and event names, entity names and
 * keys. One set, so the management API, the worker protocol and any other
 * front end accept and refuse the same spellings. A check fills a
 * ds_name_fault_t that says what is wrong, and ds_name_fault_text() words
 * it for a message.
 */


#include <stdio.h>
#include <string.h>

#include "ds_internal.h"


static int ds_name_fail(ds_name_fault_t *f, ds_name_error_e error,
    size_t len, size_t at);


/*
 * A task hub's name, as the API takes it (taskHub, durable_task_hub) and
 * so as an import may write it: 1 to DS_HUB_MAX letters, digits, '-' and
 * '_', starting with a letter
 */

int
ds_name_hub(ds_str_t hub)
{
    size_t         i;
    unsigned char  c;

    if (hub.len == 0 || hub.len > DS_HUB_MAX) {
        return DS_INVALID;
    }

    for (i = 0; i < hub.len; i++) {
        c = (unsigned char) hub.data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (i > 0 && ((c >= '0' && c <= '9') || c == '-'
                            || c == '_'))))
        {
            return DS_INVALID;
        }
    }

    return DS_OK;
}


/* 1 to max bytes; no '/', '\', '?', '#' nor control characters; UTF-8 */

int
ds_name_check(ds_str_t s, size_t max, ds_name_fault_t *f)
{
    size_t          i, bad;
    unsigned char   c;

    f->max = max;

    if (s.len == 0 || s.len > max) {
        return ds_name_fail(f, DS_NAME_LENGTH, s.len, 0);
    }

    for (i = 0; i < s.len; i++) {
        c = (unsigned char) s.data[i];

        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\' || c == '?'
            || c == '#')
        {
            f->byte = c;
            return ds_name_fail(f, DS_NAME_CHAR, s.len, i);
        }
    }

    bad = dsi_utf8_bad((const unsigned char *) s.data, s.len);

    if (bad != s.len) {
        f->byte = (unsigned char) s.data[bad];
        return ds_name_fail(f, DS_NAME_UTF8, s.len, bad);
    }

    f->error = DS_NAME_OK;

    return DS_OK;
}


/* "@..." is how the store spells entity ids: no instance may take it */

int
ds_name_instance_id(ds_str_t id, ds_name_fault_t *f)
{
    if (ds_name_check(id, DS_ID_MAX, f) != DS_OK) {
        return DS_INVALID;
    }

    if (id.data[0] == '@') {
        return ds_name_fail(f, DS_NAME_LEADING_AT, id.len, 0);
    }

    return DS_OK;
}


/*
 * An entity: the name as any name and without '@' (it ends the name in
 * "@name@key"), the key empty or as any name, and the two together short
 * enough for "@name@key" to be an id. f->part says which one is wrong.
 */

int
ds_name_entity(ds_str_t name, ds_str_t key, ds_name_fault_t *f)
{
    const char  *at;

    f->part = DS_NAME_PART_NAME;

    if (ds_name_check(name, DS_NAME_MAX, f) != DS_OK) {
        return DS_INVALID;
    }

    at = memchr(name.data, '@', name.len);

    if (at != NULL) {
        f->byte = '@';
        return ds_name_fail(f, DS_NAME_AT, name.len,
                            (size_t) (at - name.data));
    }

    f->part = DS_NAME_PART_KEY;

    if (key.len && ds_name_check(key, DS_NAME_MAX, f) != DS_OK) {
        return DS_INVALID;
    }

    f->part = DS_NAME_PART_BOTH;
    f->max = DS_ID_MAX - 2;

    if (name.len + key.len > f->max) {
        return ds_name_fail(f, DS_NAME_PAIR_LENGTH, name.len + key.len, 0);
    }

    f->error = DS_NAME_OK;

    return DS_OK;
}


/* "must ..." or "is ...", to follow the name of what was checked */

size_t
ds_name_fault_text(const ds_name_fault_t *f, char *buf, size_t size)
{
    int  n;

    switch (f->error) {

    case DS_NAME_LENGTH:
        n = snprintf(buf, size, "must have 1 to %zu bytes, not %zu",
                     f->max, f->len);
        break;

    case DS_NAME_PAIR_LENGTH:
        n = snprintf(buf, size, "must not have more than %zu bytes "
                     "together, not %zu", f->max, f->len);
        break;

    case DS_NAME_CHAR:
        if (f->byte < 0x20 || f->byte == 0x7f) {
            n = snprintf(buf, size, "must not contain control characters "
                         "(0x%02x at byte %zu)", f->byte, f->at);
        } else {
            n = snprintf(buf, size, "must not contain '/', '\\', '?' or "
                         "'#' ('%c' at byte %zu)", f->byte, f->at);
        }
        break;

    case DS_NAME_UTF8:
        n = snprintf(buf, size, "is not valid UTF-8 (0x%02x at byte %zu)",
                     f->byte, f->at);
        break;

    case DS_NAME_LEADING_AT:
        n = snprintf(buf, size, "must not start with '@' (entity ids do)");
        break;

    case DS_NAME_AT:
        n = snprintf(buf, size, "must not contain '@' (at byte %zu)", f->at);
        break;

    default:
        n = snprintf(buf, size, "is valid");
        break;
    }

    if (n < 0) {
        n = 0;
    }

    return (size_t) n < size ? (size_t) n : (size ? size - 1 : 0);
}


static int
ds_name_fail(ds_name_fault_t *f, ds_name_error_e error, size_t len,
    size_t at)
{
    f->error = error;
    f->len = len;
    f->at = at;

    return DS_INVALID;
}


/*
 * The offset of the first byte that does not start a well-formed UTF-8
 * sequence (RFC 3629: no overlong forms, no surrogates, at most
 * U+10FFFF), or len: by the rules JSON text follows (ds_json.c), so that
 * a name is exactly what a JSON string may hold.
 */

/*
 * A version (of an activity, a child, a new execution) reaches workers in
 * a protobuf string and PostgreSQL in a text: UTF-8 without NUL.
 */

int
dsi_version_ok(ds_str_t v)
{
    return v.len <= DS_NAME_MAX
           && dsi_utf8_bad((const unsigned char *) v.data, v.len) == v.len
           && (v.len == 0 || memchr(v.data, '\0', v.len) == NULL);
}


size_t
dsi_utf8_bad(const unsigned char *p, size_t len)
{
    size_t  i, n, skip;

    for (i = 0; i < len; i += n) {
        n = dsi_json_utf8_seq(p + i, len - i, &skip);
        if (n == 0) {
            return i;
        }
    }

    return len;
}
