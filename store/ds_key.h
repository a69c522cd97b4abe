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
 *   ready       hub 0 kind(1) visible_at(8) item
 *                 kind 'o': item = instance id
 *                 kind 'a': item = instance id 0 task_id(8)
 *                 kind 'e': item = entity id "@name@key"
 *   activities  hub 0 id 0 task_id(8)
 *   timers      hub 0 due(8) id 0 timer_id(8)
 *   timer_ix    hub 0 id 0 timer_id(8)         (value: due(8))
 *   entities    hub 0 "@name@key"
 *   entity_ops  hub 0 "@name@key" 0 seq(8)
 *
 * created, visible_at and due are stored with their sign bit flipped, so
 * negative times sort before positive ones; task and timer ids are >= 0.
 * Hubs and ids never contain a 0 byte (checked by dsi_key_valid), so
 * "hub 0 id 0" prefixes one instance exactly.
 */


#ifndef DS_KEY_H
#define DS_KEY_H


#include "ds_internal.h"


#define DS_KEY_BUF          512


int dsi_key_valid(ds_str_t hub, ds_str_t id);
int dsi_key_hub_valid(ds_str_t hub);

void dsi_put_u64(unsigned char *p, uint64_t v);
uint64_t dsi_get_u64(const unsigned char *p);
void dsi_put_i64(unsigned char *p, int64_t v);
int64_t dsi_get_i64(const unsigned char *p);
void dsi_put_u32(unsigned char *p, uint32_t v);
uint32_t dsi_get_u32(const unsigned char *p);
uint64_t dsi_created_enc(int64_t created);
int64_t dsi_created_dec(uint64_t v);

size_t dsi_key_hub(unsigned char *buf, ds_str_t hub);
size_t dsi_key_instance(unsigned char *buf, ds_str_t hub, ds_str_t id);
size_t dsi_key_created(unsigned char *buf, ds_str_t hub, int64_t created,
    ds_str_t id);
size_t dsi_key_status(unsigned char *buf, ds_str_t hub, ds_status_e status,
    int64_t created, ds_str_t id);
size_t dsi_key_seq(unsigned char *buf, ds_str_t hub, ds_str_t id,
    uint64_t seq);
size_t dsi_key_ready(unsigned char *buf, ds_str_t hub, int kind, int64_t at,
    const unsigned char *item, size_t len);
size_t dsi_key_timer(unsigned char *buf, ds_str_t hub, int64_t due,
    ds_str_t id, int64_t timer_id);
size_t dsi_item_activity(unsigned char *buf, ds_str_t id, int64_t task_id);


#endif /* DS_KEY_H */
