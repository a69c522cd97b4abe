/*
 * Copyright (C) ngx_durable authors
 *
 * The instance record, a versioned binary layout:
 *
 *   version(1) status(1) suspended_from(1) reserved(1)
 *   created(8) updated(8) execution(8)
 *   name_len(4) input_len(4) output_len(4) custom_status_len(4)
 *   name input output custom_status
 *
 * Integers are big-endian; the bytes are read with no alignment assumed.
 */


#include <string.h>

#include "ds_key.h"


#define DS_RECORD_VERSION   1
#define DS_RECORD_HEADER    44


static void ds_put_u32(unsigned char *p, uint32_t v);
static uint32_t ds_get_u32(const unsigned char *p);


size_t
ds_record_size(const ds_instance_t *inst)
{
    return DS_RECORD_HEADER + inst->name.len + inst->input.len
           + inst->output.len + inst->custom_status.len;
}


void
ds_record_encode(const ds_instance_t *inst, unsigned char *p)
{
    size_t           i;
    const ds_str_t  *s[4];

    p[0] = DS_RECORD_VERSION;
    p[1] = (unsigned char) inst->status;
    p[2] = (unsigned char) inst->suspended_from;
    p[3] = 0;
    ds_put_u64(p + 4, (uint64_t) inst->created);
    ds_put_u64(p + 12, (uint64_t) inst->updated);
    ds_put_u64(p + 20, inst->execution);

    s[0] = &inst->name;
    s[1] = &inst->input;
    s[2] = &inst->output;
    s[3] = &inst->custom_status;

    for (i = 0; i < 4; i++) {
        ds_put_u32(p + 28 + 4 * i, (uint32_t) s[i]->len);
    }

    p += DS_RECORD_HEADER;

    for (i = 0; i < 4; i++) {
        if (s[i]->len) {
            memcpy(p, s[i]->data, s[i]->len);
            p += s[i]->len;
        }
    }
}


int
ds_record_decode(const void *data, size_t len, ds_instance_t *inst)
{
    size_t                i, total, n[4];
    ds_str_t             *s[4];
    const unsigned char  *p;

    p = data;

    if (len < DS_RECORD_HEADER || p[0] != DS_RECORD_VERSION
        || p[1] >= DS_STATUS_COUNT || p[2] >= DS_STATUS_COUNT)
    {
        return DS_ERROR;
    }

    total = DS_RECORD_HEADER;

    for (i = 0; i < 4; i++) {
        n[i] = ds_get_u32(p + 28 + 4 * i);

        if (n[i] > len - total) {
            return DS_ERROR;
        }

        total += n[i];
    }

    if (total != len) {
        return DS_ERROR;
    }

    inst->status = (ds_status_e) p[1];
    inst->suspended_from = (ds_status_e) p[2];
    inst->created = ds_created_dec(ds_get_u64(p + 4) ^ ((uint64_t) 1 << 63));
    inst->updated = ds_created_dec(ds_get_u64(p + 12) ^ ((uint64_t) 1 << 63));
    inst->execution = ds_get_u64(p + 20);

    s[0] = &inst->name;
    s[1] = &inst->input;
    s[2] = &inst->output;
    s[3] = &inst->custom_status;

    p += DS_RECORD_HEADER;

    for (i = 0; i < 4; i++) {
        s[i]->data = (const char *) p;
        s[i]->len = n[i];
        p += n[i];
    }

    return DS_OK;
}


static void
ds_put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) (v >> 24);
    p[1] = (unsigned char) (v >> 16);
    p[2] = (unsigned char) (v >> 8);
    p[3] = (unsigned char) v;
}


static uint32_t
ds_get_u32(const unsigned char *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | p[3];
}
