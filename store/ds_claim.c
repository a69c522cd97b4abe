/*
 * Copyright (C) ngx_durable authors
 *
 * Claiming orchestration work items, and renewing or abandoning a lease of
 * any kind of work item.
 *
 * A claim fires the hub's due timers first, then takes ready entries of
 * kind 'o' visible at "now" from the front of the index. An entry whose
 * instance is gone, terminal, suspended or has an empty inbox is stale and
 * dropped. A claimed instance gets the lease (token, expiry, and "upto":
 * the inbox seq delivered under it) and its entry moves to the expiry, so
 * an expired lease makes it claimable again under a new token.
 */


#include <string.h>

#include "ds_key.h"


static int ds_orch_renew(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    const uint8_t *lease, int64_t now, int64_t lease_us, int64_t *expires,
    int abandon);


int
ds_work_claim_orchestrations(ds_txn_t *txn, ds_str_t hub, int64_t now,
    int64_t lease_us, size_t max, const uint8_t *tokens,
    ds_orch_item_cb cb, void *data, size_t *claimed)
{
    int             rc;
    size_t          len, examined, fired;
    int64_t         at;
    uint64_t        last;
    ds_str_t        id;
    ds_instance_t   inst;
    const uint8_t  *token;
    unsigned char   item[DS_KEY_BUF];
    ds_orch_item_t  it;

    *claimed = 0;

    if (!ds_claim_valid(hub, now, lease_us, max, tokens)) {
        return DS_INVALID;
    }

    rc = ds_work_fire_timers(txn, hub, now, DS_CLAIM_TIMERS, &fired);
    if (rc != DS_OK) {
        return rc;
    }

    for (examined = 0; *claimed < max && examined < max + DS_CLAIM_SCAN;
         examined++)
    {
        rc = ds_ready_due(txn, hub, DS_READY_ORCH, now, &at, item, &len);

        if (rc == DS_NOTFOUND) {
            break;
        }

        if (rc != DS_OK) {
            return rc;
        }

        id.data = (const char *) item;
        id.len = len;

        rc = ds_instance_get(txn, hub, id, &inst);

        if (rc == DS_NOTFOUND || rc == DS_INVALID
            || (rc == DS_OK && inst.ready_at != at))
        {
            /* an entry without its record: ds_check() reports those */
            rc = ds_ready_del(txn, hub, DS_READY_ORCH, at, item, len);
            if (rc != DS_OK) {
                return rc;
            }

            continue;
        }

        if (rc != DS_OK) {
            return rc;
        }

        last = 0;

        if (!ds_status_is_terminal(inst.status)
            && inst.status != DS_SUSPENDED)
        {
            rc = ds_seq_last(txn, DS_DB_INBOX, hub, id, &last);
            if (rc != DS_OK) {
                return rc;
            }
        }

        if (last == 0) {
            /* nothing to run: out of the index */
            inst.ready_at = 0;

            rc = ds_instance_put(txn, hub, id, &inst);
            if (rc != DS_OK) {
                return rc;
            }

            continue;
        }

        token = tokens + *claimed * DS_LEASE_LEN;

        ds_lease_take(inst.lease, &inst.lease_expires, &inst.ready_at, token,
                      now, lease_us);
        inst.episode_at = now;
        inst.lease_upto = last;

        rc = ds_instance_put(txn, hub, id, &inst);
        if (rc != DS_OK) {
            return rc;
        }

        /* read it again: the item points into the map for the callback */

        rc = ds_instance_get(txn, hub, id, &inst);
        if (rc != DS_OK) {
            return rc == DS_NOTFOUND ? DS_ERROR : rc;
        }

        it.id = id;
        it.inst = &inst;
        it.upto = last;
        it.lease_expires = inst.lease_expires;
        it.lease = token;

        (*claimed)++;

        if (cb != NULL && cb(data, txn, &it) != 0) {
            ds_txn_set_error(txn, "stopped by the callback");
            return DS_ERROR;
        }
    }

    return DS_OK;
}


int
ds_work_renew(ds_txn_t *txn, ds_str_t hub, ds_work_kind_e kind,
    ds_str_t id, ds_str_t key, int64_t task_id, const uint8_t *lease,
    int64_t now, int64_t lease_us, int64_t *expires)
{
    switch (kind) {

    case DS_WORK_ORCHESTRATION:
        return ds_orch_renew(txn, hub, id, lease, now, lease_us, expires, 0);

    case DS_WORK_ACTIVITY:
        return ds_activity_renew(txn, hub, id, task_id, lease, now,
                                 lease_us, expires, 0);

    case DS_WORK_ENTITY:
        return ds_entity_renew(txn, hub, id, key, lease, now, lease_us,
                               expires, 0);

    default:
        return DS_INVALID;
    }
}


int
ds_work_abandon(ds_txn_t *txn, ds_str_t hub, ds_work_kind_e kind,
    ds_str_t id, ds_str_t key, int64_t task_id, const uint8_t *lease,
    int64_t now)
{
    switch (kind) {

    case DS_WORK_ORCHESTRATION:
        return ds_orch_renew(txn, hub, id, lease, now, 0, NULL, 1);

    case DS_WORK_ACTIVITY:
        return ds_activity_renew(txn, hub, id, task_id, lease, now, 0, NULL,
                                 1);

    case DS_WORK_ENTITY:
        return ds_entity_renew(txn, hub, id, key, lease, now, 0, NULL, 1);

    default:
        return DS_INVALID;
    }
}


static int
ds_orch_renew(ds_txn_t *txn, ds_str_t hub, ds_str_t id, const uint8_t *lease,
    int64_t now, int64_t lease_us, int64_t *expires, int abandon)
{
    int            rc;
    ds_instance_t  inst;

    if (!abandon && !ds_lease_time_valid(now, lease_us)) {
        return DS_INVALID;
    }

    rc = ds_instance_get(txn, hub, id, &inst);
    if (rc != DS_OK) {
        return rc;
    }

    if (!ds_lease_held(lease, inst.lease)) {
        return DS_CONFLICT;
    }

    /* a suspended instance stays out of the index (ready_at 0) */

    if (abandon) {
        memset(inst.lease, 0, DS_LEASE_LEN);
        inst.lease_expires = 0;
        inst.lease_upto = 0;

        if (inst.status != DS_SUSPENDED
            && !ds_status_is_terminal(inst.status))
        {
            inst.ready_at = ds_ready_time(now);
        }

    } else {
        inst.lease_expires = now + lease_us;
        *expires = inst.lease_expires;

        if (inst.ready_at != 0) {
            inst.ready_at = inst.lease_expires;
        }
    }

    return ds_instance_put(txn, hub, id, &inst);
}
