
/*
 * Copyright (C) ngx_durable authors
 *
 * Spans of values inside JSON text that was validated and minified
 * (ds_json_ingest): values are stored as the bytes the client sent, never
 * re-serialized; strings are decoded and integers read from their spans
 * only where a value is needed. Plain C without nginx headers.
 */


#ifndef DS_JSPAN_H
#define DS_JSPAN_H


#include <stddef.h>
#include <stdint.h>

#include "durable_store.h"


typedef struct {
    const unsigned char        *pos;
    const unsigned char        *end;
} ds_jspan_iter_t;


size_t ds_jspan_skip(const unsigned char *p,
    const unsigned char *end);
int ds_jspan_iter(ds_jspan_iter_t *it,
    const unsigned char *p, size_t len);
int ds_jspan_next(ds_jspan_iter_t *it,
    ds_str_t *key, ds_str_t *value);
int ds_jspan_member(const unsigned char *obj, size_t len,
    const char *name, ds_str_t *value);
int ds_jspan_decode(ds_str_t span, char *buf, size_t size, size_t *len);
int ds_jspan_int(ds_str_t span, int64_t *value);


#endif /* DS_JSPAN_H */
