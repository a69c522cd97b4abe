/*
 * Copyright (C) ngx_durable authors
 *
 * Leases, the steps that the three kinds of work item (orchestration
 * instances, activities, entities) share: checking a claim's arguments
 * and a presented token, taking, renewing or giving up a lease, and where
 * an item with new work goes in the ready index. Every kind keeps its
 * lease as a token, an expiry and a ready_at in its own record; these
 * work on those fields.
 */


#include <string.h>

#include "ds_key.h"


int
dsi_lease_none(const uint8_t *lease)
{
    size_t  i;

    for (i = 0; i < DS_LEASE_LEN; i++) {
        if (lease[i]) {
            return 0;
        }
    }

    return 1;
}


int
dsi_lease_eq(const uint8_t *a, const uint8_t *b)
{
    return memcmp(a, b, DS_LEASE_LEN) == 0;
}


/* the token presented is a lease and the one held */

int
dsi_lease_held(const uint8_t *lease, const uint8_t *held)
{
    return !dsi_lease_none(lease) && dsi_lease_eq(lease, held);
}


/* a lease of lease_us from now: positive, and its expiry fits */

int
dsi_lease_time_valid(int64_t now, int64_t lease_us)
{
    return lease_us >= 1 && now <= INT64_MAX - lease_us;
}


/* a claim of at most max items: max tokens, none of them all zero */

int
dsi_claim_valid(ds_str_t hub, int64_t now, int64_t lease_us, size_t max,
    const uint8_t *tokens)
{
    size_t  i;

    if (!dsi_key_hub_valid(hub) || !dsi_lease_time_valid(now, lease_us)) {
        return 0;
    }

    for (i = 0; i < max; i++) {
        if (dsi_lease_none(tokens + i * DS_LEASE_LEN)) {
            return 0;
        }
    }

    return 1;
}


/* a claim: the item is ready again (claimable) when the lease expires */

void
dsi_lease_take(uint8_t *lease, int64_t *lease_expires, int64_t *ready_at,
    const uint8_t *token, int64_t now, int64_t lease_us)
{
    memcpy(lease, token, DS_LEASE_LEN);
    *lease_expires = now + lease_us;
    *ready_at = *lease_expires;
}


/*
 * Renews a lease to lease_us from now (*expires: the new expiry), the
 * ready entry moving with it; with abandon set gives the lease up and the
 * item is ready now.
 */

void
dsi_lease_renew(uint8_t *lease, int64_t *lease_expires, int64_t *ready_at,
    int64_t now, int64_t lease_us, int64_t *expires, int abandon)
{
    if (abandon) {
        memset(lease, 0, DS_LEASE_LEN);
        *lease_expires = 0;
        *ready_at = dsi_ready_time(now);

    } else {
        *lease_expires = now + lease_us;
        *ready_at = *lease_expires;
        *expires = *lease_expires;
    }
}


/*
 * An item given new work: with a live lease it stays where the claim put
 * it (the lease expiry); otherwise it is ready now, or earlier if it
 * already was.
 */

void
dsi_lease_ready(const uint8_t *lease, int64_t lease_expires,
    int64_t *ready_at, int64_t now)
{
    if (!dsi_lease_none(lease) && lease_expires > now) {
        if (*ready_at == 0) {
            *ready_at = lease_expires;
        }

    } else if (*ready_at == 0 || *ready_at > now) {
        *ready_at = dsi_ready_time(now);
    }
}
