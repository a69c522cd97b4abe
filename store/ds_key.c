/*
 * Copyright (C) ngx_durable authors
 */


#include <string.h>

#include "ds_key.h"


static size_t ds_key_cpy(unsigned char *p, ds_str_t s);


int
dsi_key_hub_valid(ds_str_t hub)
{
    return hub.data != NULL && hub.len >= 1 && hub.len <= DS_HUB_MAX
           && memchr(hub.data, '\0', hub.len) == NULL;
}


int
dsi_key_valid(ds_str_t hub, ds_str_t id)
{
    return dsi_key_hub_valid(hub)
           && id.data != NULL && id.len >= 1 && id.len <= DS_ID_MAX
           && memchr(id.data, '\0', id.len) == NULL;
}


void
dsi_put_u64(unsigned char *p, uint64_t v)
{
    /* written out, as dsi_get_u64: a byte swap and one store */

    p[0] = (unsigned char) (v >> 56);
    p[1] = (unsigned char) (v >> 48);
    p[2] = (unsigned char) (v >> 40);
    p[3] = (unsigned char) (v >> 32);
    p[4] = (unsigned char) (v >> 24);
    p[5] = (unsigned char) (v >> 16);
    p[6] = (unsigned char) (v >> 8);
    p[7] = (unsigned char) v;
}


uint64_t
dsi_get_u64(const unsigned char *p)
{
    /* written out: compilers make one load and a byte swap of it */

    return ((uint64_t) p[0] << 56) | ((uint64_t) p[1] << 48)
           | ((uint64_t) p[2] << 40) | ((uint64_t) p[3] << 32)
           | ((uint64_t) p[4] << 24) | ((uint64_t) p[5] << 16)
           | ((uint64_t) p[6] << 8) | (uint64_t) p[7];
}


void
dsi_put_i64(unsigned char *p, int64_t v)
{
    dsi_put_u64(p, (uint64_t) v);
}


int64_t
dsi_get_i64(const unsigned char *p)
{
    /* two's complement without implementation-defined casts */
    return dsi_created_dec(dsi_get_u64(p) ^ ((uint64_t) 1 << 63));
}


void
dsi_put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) (v >> 24);
    p[1] = (unsigned char) (v >> 16);
    p[2] = (unsigned char) (v >> 8);
    p[3] = (unsigned char) v;
}


uint32_t
dsi_get_u32(const unsigned char *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | p[3];
}


uint64_t
dsi_created_enc(int64_t created)
{
    return (uint64_t) created ^ ((uint64_t) 1 << 63);
}


int64_t
dsi_created_dec(uint64_t v)
{
    v ^= (uint64_t) 1 << 63;

    /* two's complement conversion without implementation-defined casts */
    if (v >= ((uint64_t) 1 << 63)) {
        return -(int64_t) (~v) - 1;
    }

    return (int64_t) v;
}


static size_t
ds_key_cpy(unsigned char *p, ds_str_t s)
{
    if (s.len) {
        memcpy(p, s.data, s.len);
    }

    return s.len;
}


size_t
dsi_key_hub(unsigned char *buf, ds_str_t hub)
{
    size_t  n;

    n = ds_key_cpy(buf, hub);
    buf[n++] = '\0';

    return n;
}


size_t
dsi_key_instance(unsigned char *buf, ds_str_t hub, ds_str_t id)
{
    size_t  n;

    n = dsi_key_hub(buf, hub);

    return n + ds_key_cpy(buf + n, id);
}


size_t
dsi_key_created(unsigned char *buf, ds_str_t hub, int64_t created,
    ds_str_t id)
{
    size_t  n;

    n = dsi_key_hub(buf, hub);
    dsi_put_u64(buf + n, dsi_created_enc(created));
    n += 8;

    return n + ds_key_cpy(buf + n, id);
}


size_t
dsi_key_status(unsigned char *buf, ds_str_t hub, ds_status_e status,
    int64_t created, ds_str_t id)
{
    size_t  n;

    n = dsi_key_hub(buf, hub);
    buf[n++] = (unsigned char) status;
    dsi_put_u64(buf + n, dsi_created_enc(created));
    n += 8;

    return n + ds_key_cpy(buf + n, id);
}


size_t
dsi_key_seq(unsigned char *buf, ds_str_t hub, ds_str_t id, uint64_t seq)
{
    size_t  n;

    n = dsi_key_instance(buf, hub, id);
    buf[n++] = '\0';
    dsi_put_u64(buf + n, seq);

    return n + 8;
}


size_t
dsi_key_ready(unsigned char *buf, ds_str_t hub, int kind, int64_t at,
    const unsigned char *item, size_t len)
{
    size_t  n;

    n = dsi_key_hub(buf, hub);
    buf[n++] = (unsigned char) kind;
    dsi_put_u64(buf + n, dsi_created_enc(at));
    n += 8;

    if (len) {
        memcpy(buf + n, item, len);
    }

    return n + len;
}


size_t
dsi_key_timer(unsigned char *buf, ds_str_t hub, int64_t due, ds_str_t id,
    int64_t timer_id)
{
    size_t  n;

    n = dsi_key_hub(buf, hub);
    dsi_put_u64(buf + n, dsi_created_enc(due));
    n += 8;
    n += ds_key_cpy(buf + n, id);
    buf[n++] = '\0';
    dsi_put_u64(buf + n, (uint64_t) timer_id);

    return n + 8;
}


/* the ready item of an activity: "id 0 task_id(8)" */

size_t
dsi_item_activity(unsigned char *buf, ds_str_t id, int64_t task_id)
{
    size_t  n;

    n = ds_key_cpy(buf, id);
    buf[n++] = '\0';
    dsi_put_u64(buf + n, (uint64_t) task_id);

    return n + 8;
}
