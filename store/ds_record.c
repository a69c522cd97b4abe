/*
 * Copyright (C) ngx_durable authors
 *
 * The instance record, a versioned binary layout (version 7):
 *
 *   version(1) status(1) suspended_from(1) done_status(1)
 *   created(8) updated(8) execution(8)
 *   ready_at(8) lease_expires(8) lease_upto(8) inbox_seq(8)
 *   parent_task(8) parent_execution(8)
 *   lease(16) done_lease(16) episode_at(8) done_digest(8)
 *   scheduled_start(8) parent_created(8)
 *   name_len(4) input_len(4) output_len(4) custom_status_len(4)
 *   parent_id_len(4) version_len(4) tags_len(4) failure_len(4)
 *   name input output custom_status parent_id version tags failure
 *
 * Version 6 is the same without parent_created; version 5 also without
 * the failure string; version 4 also without scheduled_start and
 * without the version and tags strings; version 3 also without
 * done_digest. All are still read (the missing fields read as zero and
 * empty). Each record is written in the oldest version that holds it:
 * version 4, 16 bytes shorter, for what every instance started over
 * HTTP is, 5 for the SDKs' start options, 6 for a failure with details,
 * 7 for a sub-orchestration that knows its parent's created time.
 * Integers are big-endian; the bytes are read with no alignment
 * assumed. Older versions are not read.
 */


#include <string.h>

#include "ds_key.h"


#define DS_RECORD_VERSION   7
#define DS_RECORD_V6        6
#define DS_RECORD_V5        5
#define DS_RECORD_V4        4
#define DS_RECORD_V3        3
#define DS_RECORD_STRS      8
#define DS_RECORD_STRS_V5   7
#define DS_RECORD_STRS_V4   5
#define DS_RECORD_LENS      140
#define DS_RECORD_LENS_V5   132
#define DS_RECORD_LENS_V4   124
#define DS_RECORD_LENS_V3   116


static void ds_record_strs(const ds_instance_t *inst, const ds_str_t **s);
static int ds_record_version(const ds_instance_t *inst, size_t *lens,
    size_t *nstrs);


/* the strings in their order in the record */

static void
ds_record_strs(const ds_instance_t *inst, const ds_str_t **s)
{
    s[0] = &inst->name;
    s[1] = &inst->input;
    s[2] = &inst->output;
    s[3] = &inst->custom_status;
    s[4] = &inst->parent_id;
    s[5] = &inst->version;
    s[6] = &inst->tags;
    s[7] = &inst->failure;
}


/* the oldest version that holds the record, its header and strings */

static int
ds_record_version(const ds_instance_t *inst, size_t *lens, size_t *nstrs)
{
    *lens = DS_RECORD_LENS;
    *nstrs = DS_RECORD_STRS;

    if (inst->parent_created != 0) {
        return DS_RECORD_VERSION;
    }

    *lens = DS_RECORD_LENS_V5;

    if (inst->failure.len) {
        return DS_RECORD_V6;
    }

    if (inst->scheduled_start != 0 || inst->version.len != 0
        || inst->tags.len != 0)
    {
        *nstrs = DS_RECORD_STRS_V5;
        return DS_RECORD_V5;
    }

    *lens = DS_RECORD_LENS_V4;
    *nstrs = DS_RECORD_STRS_V4;

    return DS_RECORD_V4;
}


size_t
dsi_record_size(const ds_instance_t *inst)
{
    size_t           i, size, lens, nstrs;
    const ds_str_t  *s[DS_RECORD_STRS];

    (void) ds_record_version(inst, &lens, &nstrs);
    ds_record_strs(inst, s);

    size = lens + 4 * nstrs;

    for (i = 0; i < nstrs; i++) {
        size += s[i]->len;
    }

    return size;
}


void
dsi_record_encode(const ds_instance_t *inst, unsigned char *p)
{
    size_t           i, lens, nstrs;
    const ds_str_t  *s[DS_RECORD_STRS];

    p[0] = (unsigned char) ds_record_version(inst, &lens, &nstrs);

    if (lens >= DS_RECORD_LENS_V5) {
        dsi_put_i64(p + 124, inst->scheduled_start);
    }

    if (lens == DS_RECORD_LENS) {
        dsi_put_i64(p + 132, inst->parent_created);
    }

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

    ds_record_strs(inst, s);

    for (i = 0; i < nstrs; i++) {
        dsi_put_u32(p + lens + 4 * i, (uint32_t) s[i]->len);
    }

    p += lens + 4 * nstrs;

    for (i = 0; i < nstrs; i++) {
        if (s[i]->len) {
            memcpy(p, s[i]->data, s[i]->len);
            p += s[i]->len;
        }
    }
}


int
dsi_record_decode(const void *data, size_t len, ds_instance_t *inst)
{
    size_t                i, lens, nstrs, header, total, n[DS_RECORD_STRS];
    ds_str_t             *s[DS_RECORD_STRS];
    const unsigned char  *p;

    p = data;

    if (len < 1) {
        return DS_ERROR;
    }

    switch (p[0]) {

    case DS_RECORD_VERSION:
        lens = DS_RECORD_LENS;
        nstrs = DS_RECORD_STRS;
        break;

    case DS_RECORD_V6:
        lens = DS_RECORD_LENS_V5;
        nstrs = DS_RECORD_STRS;
        break;

    case DS_RECORD_V5:
        lens = DS_RECORD_LENS_V5;
        nstrs = DS_RECORD_STRS_V5;
        break;

    case DS_RECORD_V4:
        lens = DS_RECORD_LENS_V4;
        nstrs = DS_RECORD_STRS_V4;
        break;

    case DS_RECORD_V3:
        lens = DS_RECORD_LENS_V3;
        nstrs = DS_RECORD_STRS_V4;
        break;

    default:
        return DS_ERROR;
    }

    header = lens + 4 * nstrs;

    if (len < header
        || p[1] >= DS_STATUS_COUNT || p[2] >= DS_STATUS_COUNT
        || p[3] >= DS_STATUS_COUNT)
    {
        return DS_ERROR;
    }

    total = header;

    for (i = 0; i < DS_RECORD_STRS; i++) {
        n[i] = (i < nstrs) ? dsi_get_u32(p + lens + 4 * i) : 0;

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
    inst->scheduled_start = lens >= DS_RECORD_LENS_V5
                            ? dsi_get_i64(p + 124) : 0;
    inst->parent_created = lens == DS_RECORD_LENS
                           ? dsi_get_i64(p + 132) : 0;

    ds_record_strs(inst, (const ds_str_t **) s);

    p += header;

    for (i = 0; i < DS_RECORD_STRS; i++) {
        s[i]->data = (const char *) p;
        s[i]->len = n[i];
        p += n[i];
    }

    return DS_OK;
}
