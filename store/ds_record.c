/*
 * Copyright (C) ngx_durable authors
 *
 * The instance record, a versioned binary layout (version 4):
 *
 *   version(1) status(1) suspended_from(1) done_status(1)
 *   created(8) updated(8) execution(8)
 *   ready_at(8) lease_expires(8) lease_upto(8) inbox_seq(8)
 *   parent_task(8) parent_execution(8)
 *   lease(16) done_lease(16) episode_at(8) done_digest(8)
 *   name_len(4) input_len(4) output_len(4) custom_status_len(4)
 *   parent_id_len(4)
 *   name input output custom_status parent_id
 *
 * Version 3 is the same without done_digest; it is still read (the
 * digest then is 0: not known) and written as version 4 when the record
 * is next put. Integers are big-endian; the bytes are read with no
 * alignment assumed. Older versions are not read.
 */


#include <string.h>

#include "ds_key.h"


#define DS_RECORD_VERSION   4
#define DS_RECORD_V3        3
#define DS_RECORD_STRS      5
#define DS_RECORD_LENS      124
#define DS_RECORD_LENS_V3   116
#define DS_RECORD_HEADER    (DS_RECORD_LENS + 4 * DS_RECORD_STRS)




size_t
dsi_record_size(const ds_instance_t *inst)
{
    return DS_RECORD_HEADER + inst->name.len + inst->input.len
           + inst->output.len + inst->custom_status.len
           + inst->parent_id.len;
}


void
dsi_record_encode(const ds_instance_t *inst, unsigned char *p)
{
    size_t           i;
    const ds_str_t  *s[DS_RECORD_STRS];

    p[0] = DS_RECORD_VERSION;
    p[1] = (unsigned char) inst->status;
    p[2] = (unsigned char) inst->suspended_from;
    p[3] = (unsigned char) inst->done_status;
    dsi_put_i64(p + 4, inst->created);
    dsi_put_i64(p + 12, inst->updated);
    dsi_put_u64(p + 20, inst->execution);
    dsi_put_i64(p + 28, inst->ready_at);
    dsi_put_i64(p + 36, inst->lease_expires);
    dsi_put_u64(p + 44, inst->lease_upto);
    dsi_put_u64(p + 52, inst->inbox_seq);
    dsi_put_i64(p + 60, inst->parent_task);
    dsi_put_u64(p + 68, inst->parent_execution);
    memcpy(p + 76, inst->lease, DS_LEASE_LEN);
    memcpy(p + 92, inst->done_lease, DS_LEASE_LEN);
    dsi_put_i64(p + 108, inst->episode_at);
    dsi_put_u64(p + 116, inst->done_digest);

    s[0] = &inst->name;
    s[1] = &inst->input;
    s[2] = &inst->output;
    s[3] = &inst->custom_status;
    s[4] = &inst->parent_id;

    for (i = 0; i < DS_RECORD_STRS; i++) {
        dsi_put_u32(p + DS_RECORD_LENS + 4 * i, (uint32_t) s[i]->len);
    }

    p += DS_RECORD_HEADER;

    for (i = 0; i < DS_RECORD_STRS; i++) {
        if (s[i]->len) {
            memcpy(p, s[i]->data, s[i]->len);
            p += s[i]->len;
        }
    }
}


int
dsi_record_decode(const void *data, size_t len, ds_instance_t *inst)
{
    size_t                i, lens, header, total, n[DS_RECORD_STRS];
    ds_str_t             *s[DS_RECORD_STRS];
    const unsigned char  *p;

    p = data;

    if (len < 1) {
        return DS_ERROR;
    }

    lens = p[0] == DS_RECORD_V3 ? DS_RECORD_LENS_V3 : DS_RECORD_LENS;
    header = lens + 4 * DS_RECORD_STRS;

    if (len < header
        || (p[0] != DS_RECORD_VERSION && p[0] != DS_RECORD_V3)
        || p[1] >= DS_STATUS_COUNT || p[2] >= DS_STATUS_COUNT
        || p[3] >= DS_STATUS_COUNT)
    {
        return DS_ERROR;
    }

    total = header;

    for (i = 0; i < DS_RECORD_STRS; i++) {
        n[i] = dsi_get_u32(p + lens + 4 * i);

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
    inst->done_status = (ds_status_e) p[3];
    inst->created = dsi_get_i64(p + 4);
    inst->updated = dsi_get_i64(p + 12);
    inst->execution = dsi_get_u64(p + 20);
    inst->ready_at = dsi_get_i64(p + 28);
    inst->lease_expires = dsi_get_i64(p + 36);
    inst->lease_upto = dsi_get_u64(p + 44);
    inst->inbox_seq = dsi_get_u64(p + 52);
    inst->parent_task = dsi_get_i64(p + 60);
    inst->parent_execution = dsi_get_u64(p + 68);
    memcpy(inst->lease, p + 76, DS_LEASE_LEN);
    memcpy(inst->done_lease, p + 92, DS_LEASE_LEN);
    inst->episode_at = dsi_get_i64(p + 108);
    inst->done_digest = p[0] == DS_RECORD_V3 ? 0 : dsi_get_u64(p + 116);

    s[0] = &inst->name;
    s[1] = &inst->input;
    s[2] = &inst->output;
    s[3] = &inst->custom_status;
    s[4] = &inst->parent_id;

    p += header;

    for (i = 0; i < DS_RECORD_STRS; i++) {
        s[i]->data = (const char *) p;
        s[i]->len = n[i];
        p += n[i];
    }

    return DS_OK;
}
