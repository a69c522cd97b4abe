/*
 * Copyright (C) ngx_durable authors
 *
 * Orchestration work items: the engine's descriptor (ds_work.c) for
 * instances in the ready index (kind 'o').
 *
 * A claim fires the hub's due timers first. An entry whose instance is
 * gone or points elsewhere is stale; one that is terminal, suspended or
 * has an empty inbox leaves the index. A claimed instance gets the lease
 * (token, expiry, and "upto": the inbox seq delivered under it) and the
 * episode's clock (the claim time).
 */


#include <string.h>

#include "ds_key.h"


static int ds_orch_fire(ds_txn_t *txn, ds_str_t hub, int64_t now);
static int ds_orch_item_key(const unsigned char *item, size_t len,
    dsi_work_rec_t *r);
static int ds_orch_key_of(ds_str_t hub, ds_str_t id, ds_str_t key,
    int64_t task_id, dsi_work_rec_t *r);
static int ds_orch_get(ds_txn_t *txn, ds_str_t hub, dsi_work_rec_t *r);
static int ds_orch_put(ds_txn_t *txn, ds_str_t hub, dsi_work_rec_t *r);
static int ds_orch_verdict(ds_txn_t *txn, ds_str_t hub, dsi_work_rec_t *r,
    int64_t at, dsi_verdict_e *verdict);
static void ds_orch_taken(dsi_work_rec_t *r, int64_t now);
static ds_str_t ds_orch_name(const dsi_work_rec_t *r);
static void ds_orch_view(const dsi_work_rec_t *r, ds_work_item_t *it);
static int ds_orch_refuse(const dsi_work_rec_t *r, dsi_verb_e verb);
static void ds_orch_released(dsi_work_rec_t *r, int abandon, int64_t now);
static int64_t ds_orch_stamp(const dsi_work_rec_t *r);


const dsi_work_kind_t  dsi_work_orchestration = {
    DS_READY_ORCH,
    0,
    ds_orch_fire,
    ds_orch_item_key,
    ds_orch_key_of,
    ds_orch_get,
    ds_orch_put,
    ds_orch_verdict,
    NULL,
    ds_orch_taken,
    ds_orch_name,
    ds_orch_view,
    ds_orch_refuse,
    ds_orch_released,
    ds_orch_stamp
};


static int
ds_orch_fire(ds_txn_t *txn, ds_str_t hub, int64_t now)
{
    size_t  fired;

    return ds_work_fire_timers(txn, hub, now, DS_CLAIM_TIMERS, &fired);
}


static int
ds_orch_item_key(const unsigned char *item, size_t len, dsi_work_rec_t *r)
{
    r->id.data = (const char *) item;
    r->id.len = len;

    return DS_OK;
}


static int
ds_orch_key_of(ds_str_t hub, ds_str_t id, ds_str_t key, int64_t task_id,
    dsi_work_rec_t *r)
{
    (void) hub;
    (void) key;
    (void) task_id;

    /* ds_instance_get() checks the key */
    r->id = id;

    return DS_OK;
}


static int
ds_orch_get(ds_txn_t *txn, ds_str_t hub, dsi_work_rec_t *r)
{
    int            rc;
    ds_instance_t  *inst;

    inst = &r->u.inst;

    rc = ds_instance_get(txn, hub, r->id, inst);
    if (rc != DS_OK) {
        return rc;
    }

    /* the record as stored, for the put (its strings are in the map) */
    r->old = *inst;
    r->writes = ds_txn_writes(txn);

    r->lease = inst->lease;
    r->lease_expires = &inst->lease_expires;
    r->ready_at = &inst->ready_at;
    r->lease_upto = &inst->lease_upto;
    r->done_lease = inst->done_lease;
    r->done_digest = &inst->done_digest;

    return DS_OK;
}


/*
 * Nothing written since the get (a claim, renew or abandon changes the
 * record in memory only): the record read is the one stored, and its
 * strings still valid, so the indexes are updated from it without a
 * third read of the record per claim. A write in between cannot happen
 * in ds_work.c; should one come, the old record may be gone: refused.
 * So a count or index change a claim needs belongs in the put
 * (dsi_instance_write()), never between the get and it.
 */

static int
ds_orch_put(ds_txn_t *txn, ds_str_t hub, dsi_work_rec_t *r)
{
    if (ds_txn_writes(txn) != r->writes) {
        dsi_txn_set_error(txn, "an instance written between its get and put");
        return DS_ERROR;
    }

    return dsi_instance_write(txn, hub, r->id, &r->u.inst, &r->old);
}


static int
ds_orch_verdict(ds_txn_t *txn, ds_str_t hub, dsi_work_rec_t *r, int64_t at,
    dsi_verdict_e *verdict)
{
    int             rc;
    uint64_t        last;
    ds_instance_t  *inst;

    inst = &r->u.inst;

    if (inst->ready_at != at) {
        *verdict = DSI_WORK_STALE;
        return DS_OK;
    }

    last = 0;

    if (!ds_status_is_terminal(inst->status)
        && inst->status != DS_SUSPENDED)
    {
        rc = dsi_seq_last(txn, DS_DB_INBOX, hub, r->id, &last);
        if (rc != DS_OK) {
            return rc;
        }
    }

    r->upto = last;
    *verdict = last ? DSI_WORK_TAKE : DSI_WORK_IDLE;

    return DS_OK;
}


static void
ds_orch_taken(dsi_work_rec_t *r, int64_t now)
{
    r->u.inst.episode_at = now;
}


static ds_str_t
ds_orch_name(const dsi_work_rec_t *r)
{
    return r->u.inst.name;
}


static void
ds_orch_view(const dsi_work_rec_t *r, ds_work_item_t *it)
{
    it->name = r->u.inst.name;
    it->input = r->u.inst.input;
    it->execution = r->u.inst.execution;
    it->timestamp = r->u.inst.episode_at;
    it->status = r->u.inst.status;
}


/*
 * A write other than the lease holder's that appends to the history keeps
 * the lease (a suspension, a resumption) and sets updated; a delivery to
 * the inbox does not: so an unchanged updated says that the history is as
 * claimed.
 */

static int64_t
ds_orch_stamp(const dsi_work_rec_t *r)
{
    return r->u.inst.updated;
}


/* a completion of a terminal instance (terminated meanwhile) is moot */

static int
ds_orch_refuse(const dsi_work_rec_t *r, dsi_verb_e verb)
{
    if (verb == DSI_WORK_COMPLETE && ds_status_is_terminal(r->u.inst.status))
    {
        return DS_GONE;
    }

    return DS_OK;
}


/*
 * A suspended or terminal instance stays where it is in the index when
 * its lease is given up, and an instance out of the index (suspended
 * meanwhile) stays out of it when its lease is renewed.
 */

static void
ds_orch_released(dsi_work_rec_t *r, int abandon, int64_t now)
{
    ds_instance_t  *inst;

    (void) now;

    inst = &r->u.inst;

    if (abandon) {
        inst->lease_upto = 0;

        if (inst->status == DS_SUSPENDED
            || ds_status_is_terminal(inst->status))
        {
            inst->ready_at = r->old_ready_at;
        }

    } else if (r->old_ready_at == 0) {
        inst->ready_at = 0;
    }
}
