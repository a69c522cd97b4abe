/*
 * Copyright (C) ngx_durable authors
 */


#include <string.h>

#include "ds_key.h"


static size_t ds_key_cpy(unsigned char *p, ds_str_t s);


int
ds_key_hub_valid(ds_str_t hub)
{
    return hub.data != NULL && hub.len >= 1 && hub.len <= DS_HUB_MAX
           && memchr(hub.data, '\0', hub.len) == NULL;
}


int
ds_key_valid(ds_str_t hub, ds_str_t id)
{
    return ds_key_hub_valid(hub)
           && id.data != NULL && id.len >= 1 && id.len <= DS_ID_MAX
           && memchr(id.data, '\0', id.len) == NULL;
}


void
ds_put_u64(unsigned char *p, uint64_t v)
{
    int  i;

    for (i = 7; i >= 0; i--) {
        p[i] = (unsigned char) (v & 0xff);
        v >>= 8;
    }
}


uint64_t
ds_get_u64(const unsigned char *p)
{
    int       i;
    uint64_t  v;

    v = 0;

    for (i = 0; i < 8; i++) {
        v = (v << 8) | p[i];
    }

    return v;
}


uint64_t
ds_created_enc(int64_t created)
{
    return (uint64_t) created ^ ((uint64_t) 1 << 63);
}


int64_t
ds_created_dec(uint64_t v)
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
ds_key_hub(unsigned char *buf, ds_str_t hub)
{
    size_t  n;

    n = ds_key_cpy(buf, hub);
    buf[n++] = '\0';

    return n;
}


size_t
ds_key_instance(unsigned char *buf, ds_str_t hub, ds_str_t id)
{
    size_t  n;

    n = ds_key_hub(buf, hub);

    return n + ds_key_cpy(buf + n, id);
}


size_t
ds_key_created(unsigned char *buf, ds_str_t hub, int64_t created,
    ds_str_t id)
{
    size_t  n;

    n = ds_key_hub(buf, hub);
    ds_put_u64(buf + n, ds_created_enc(created));
    n += 8;

    return n + ds_key_cpy(buf + n, id);
}


size_t
ds_key_status(unsigned char *buf, ds_str_t hub, ds_status_e status,
    int64_t created, ds_str_t id)
{
    size_t  n;

    n = ds_key_hub(buf, hub);
    buf[n++] = (unsigned char) status;
    ds_put_u64(buf + n, ds_created_enc(created));
    n += 8;

    return n + ds_key_cpy(buf + n, id);
}


size_t
ds_key_seq(unsigned char *buf, ds_str_t hub, ds_str_t id, uint64_t seq)
{
    size_t  n;

    n = ds_key_instance(buf, hub, id);
    buf[n++] = '\0';
    ds_put_u64(buf + n, seq);

    return n + 8;
}
