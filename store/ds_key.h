/*
 * Copyright (C) ngx_durable authors
 *
 * Key layouts (keys sort bytewise, integers are big-endian):
 *
 *   instances   hub 0 id
 *   by_created  hub 0 created(8) id
 *   by_status   hub 0 status(1) created(8) id
 *   history     hub 0 id 0 seq(8)
 *   inbox       hub 0 id 0 seq(8)
 *
 * created is stored with its sign bit flipped, so negative times sort
 * before positive ones. Hubs and ids never contain a 0 byte (checked by
 * ds_key_valid), so "hub 0 id 0" prefixes one instance exactly.
 */


#ifndef DS_KEY_H
#define DS_KEY_H


#include "ds_internal.h"


#define DS_KEY_BUF          512


int ds_key_valid(ds_str_t hub, ds_str_t id);
int ds_key_hub_valid(ds_str_t hub);

void ds_put_u64(unsigned char *p, uint64_t v);
uint64_t ds_get_u64(const unsigned char *p);
uint64_t ds_created_enc(int64_t created);
int64_t ds_created_dec(uint64_t v);

size_t ds_key_hub(unsigned char *buf, ds_str_t hub);
size_t ds_key_instance(unsigned char *buf, ds_str_t hub, ds_str_t id);
size_t ds_key_created(unsigned char *buf, ds_str_t hub, int64_t created,
    ds_str_t id);
size_t ds_key_status(unsigned char *buf, ds_str_t hub, ds_status_e status,
    int64_t created, ds_str_t id);
size_t ds_key_seq(unsigned char *buf, ds_str_t hub, ds_str_t id,
    uint64_t seq);


#endif /* DS_KEY_H */
