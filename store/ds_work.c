/*
 * Copyright (C) ngx_durable authors
 *
 * The work-item engine: claim, renew, abandon and the completion lease
 * fence, written once for orchestrations, activities and entities. A kind
 * is a descriptor (dsi_work_kind_t) with its ready-index kind and hooks
 * that read and write its record, say whether a ready entry is work, and
 * hand a claimed item to the caller; the engine keeps the order of steps
 * and the lease rules (ds_work_lease.c) the same for all of them.
 *
 * A claim walks the due entries of the kind's ready index from the front.
 * An entry whose record is gone, malformed or points elsewhere is stale
 * and deleted; an item with nothing to do leaves the index (ready_at 0);
 * one whose work is moot is dropped by its kind; otherwise the item takes
 * the caller's token and its entry moves to the lease expiry.
 */


#include <stdlib.h>
#include <string.h>

#include "ds_key.h"


static int dsi_work_claim_any(ds_txn_t *txn, ds_str_t hub,
    ds_work_kind_e kind, int64_t now, int64_t lease_us, size_t max,
    const uint8_t *tokens, ds_claim_filter_t *filter, ds_work_item_cb cb,
    dsi_work_note_cb note_cb, void *data, size_t *claimed);
static const dsi_work_kind_t *dsi_work_kind(ds_work_kind_e kind);
static int dsi_work_note_key(const dsi_work_note_t *note, dsi_work_rec_t *r,
    const dsi_work_kind_t **kind);
static int dsi_work_wanted(const dsi_work_kind_t *k, const dsi_work_rec_t *r,
    const ds_claim_filter_t *filter);
static int dsi_work_lease(ds_txn_t *txn, ds_str_t hub, ds_work_kind_e kind,
    ds_str_t id, ds_str_t key, int64_t task_id, const uint8_t *lease,
    int64_t now, int64_t lease_us, int64_t *expires, int abandon);


/*
 * Entries a filtered claim passes over stay in the index; the walk goes
 * on after the last of them (pos), so each is examined once per claim.
 */

int
ds_work_claim(ds_txn_t *txn, ds_str_t hub, ds_work_kind_e kind,
    int64_t now, int64_t lease_us, size_t max, const uint8_t *tokens,
    ds_claim_filter_t *filter, ds_work_item_cb cb, void *data,
    size_t *claimed)
{
    return dsi_work_claim_any(txn, hub, kind, now, lease_us, max, tokens,
                              filter, cb, NULL, data, claimed);
}


int
dsi_work_claim_noted(ds_txn_t *txn, ds_str_t hub, ds_work_kind_e kind,
    int64_t now, int64_t lease_us, size_t max, const uint8_t *tokens,
    ds_claim_filter_t *filter, dsi_work_note_cb cb, void *data,
    size_t *claimed)
{
    if (!dsi_work_notes(kind)) {
        return DS_INVALID;
    }

    return dsi_work_claim_any(txn, hub, kind, now, lease_us, max, tokens,
                              filter, NULL, cb, data, claimed);
}


int
dsi_work_notes(ds_work_kind_e kind)
{
    const dsi_work_kind_t  *k;

    k = dsi_work_kind(kind);

    return k != NULL && k->stamp != NULL;
}


static int
dsi_work_claim_any(ds_txn_t *txn, ds_str_t hub, ds_work_kind_e kind,
    int64_t now, int64_t lease_us, size_t max, const uint8_t *tokens,
    ds_claim_filter_t *filter, ds_work_item_cb cb, dsi_work_note_cb note_cb,
    void *data, size_t *claimed)
{
    int                     rc;
    size_t                  len, pos_len, examined;
    int64_t                 at, pos_at;
    const uint8_t          *token;
    dsi_verdict_e           verdict;
    dsi_work_rec_t          r;
    ds_work_item_t          it;
    dsi_work_note_t         note;
    const dsi_work_kind_t  *k;
    unsigned char           item[DS_KEY_BUF], pos[DS_KEY_BUF];

    *claimed = 0;
    pos_len = 0;
    pos_at = INT64_MIN;

    if (filter != NULL) {
        filter->skipped = 0;
        filter->more = 0;
        filter->expired = 0;
    }

    k = dsi_work_kind(kind);

    if (k == NULL || !dsi_claim_valid(hub, now, lease_us, max, tokens)) {
        return DS_INVALID;
    }

    if (k->before_claim != NULL) {
        rc = k->before_claim(txn, hub, now);
        if (rc != DS_OK) {
            return rc;
        }
    }

    for (examined = 0; *claimed < max && examined < max + DS_CLAIM_SCAN;
         examined++)
    {
        rc = dsi_ready_seek(txn, hub, k->ready, pos_at, pos, pos_len, &at,
                           item, &len);

        if (rc == DS_NOTFOUND || (rc == DS_OK && at > now)) {
            break;
        }

        if (rc != DS_OK) {
            return rc;
        }

        memset(&r, 0, sizeof(dsi_work_rec_t));

        rc = k->item_key(item, len, &r);

        if (rc == DS_OK) {
            rc = k->get(txn, hub, &r);
        }

        if (rc == DS_OK) {
            rc = k->verdict(txn, hub, &r, at, &verdict);

        } else if (rc == DS_NOTFOUND || rc == DS_INVALID) {
            /* an entry without its record: ds_check() reports those */
            rc = DS_OK;
            verdict = DSI_WORK_STALE;
        }

        if (rc != DS_OK) {
            return rc;
        }

        r.old_ready_at = at;

        switch (verdict) {

        case DSI_WORK_STALE:
            rc = dsi_ready_del(txn, hub, k->ready, at, item, len);
            break;

        case DSI_WORK_IDLE:
            /* nothing to run: out of the index */
            *r.ready_at = 0;
            rc = k->put(txn, hub, &r);
            break;

        case DSI_WORK_DROP:
            rc = k->drop(txn, hub, &r);
            break;

        case DSI_WORK_TAKE:
            break;
        }

        if (rc != DS_OK) {
            return rc;
        }

        if (verdict != DSI_WORK_TAKE) {
            continue;
        }

        if (!dsi_work_wanted(k, &r, filter)) {
            filter->skipped++;
            pos_at = at;
            pos_len = len;
            memcpy(pos, item, len);
            continue;
        }

        token = tokens + *claimed * DS_LEASE_LEN;

        /* completions and abandons clear the lease: this one ran out */
        if (filter != NULL && !dsi_lease_none(r.lease)) {
            filter->expired++;
        }

        dsi_lease_take(r.lease, r.lease_expires, r.ready_at, token, now,
                      lease_us);

        if (r.lease_upto != NULL) {
            *r.lease_upto = r.upto;
        }

        if (k->taken != NULL) {
            k->taken(&r, now);
        }

        rc = k->put(txn, hub, &r);
        if (rc != DS_OK) {
            return rc;
        }

        if (note_cb != NULL) {
            /* rendered after the commit: the record is read then */

            if (len > sizeof(note.key)) {
                dsi_txn_set_error(txn, "a ready entry too long to note");
                return DS_ERROR;
            }

            note.kind = kind;
            note.key_len = len;
            memcpy(note.key, item, len);
            note.upto = r.upto;
            note.execution = r.execution;
            note.lease_expires = *r.lease_expires;
            note.lease = token;
            note.stamp = k->stamp(&r);

            (*claimed)++;

            if (note_cb(data, &note) != 0) {
                dsi_txn_set_error(txn, "stopped by the callback");
                return DS_ERROR;
            }

            continue;
        }

        /* read it again: the item points into the map for the callback */

        rc = k->get(txn, hub, &r);
        if (rc != DS_OK) {
            return rc == DS_NOTFOUND ? DS_ERROR : rc;
        }

        (*claimed)++;

        if (cb == NULL) {
            continue;
        }

        memset(&it, 0, sizeof(ds_work_item_t));
        it.kind = kind;
        it.id = r.id;
        it.upto = r.upto;
        it.lease_expires = *r.lease_expires;
        it.lease = token;

        k->view(&r, &it);

        if (cb(data, txn, &it) != 0) {
            dsi_txn_set_error(txn, "stopped by the callback");
            return DS_ERROR;
        }
    }

    if (filter != NULL && *claimed < max && examined == max + DS_CLAIM_SCAN)
    {
        filter->more = 1;
    }

    return DS_OK;
}


/*
 * The record read again in another txn: the lease must still be the one
 * the claim took (a termination, purge or restart clears it or the
 * record), and the record's stamp the same (a suspension keeps the lease
 * but appends to the history); the item is then what the claim saw, upto
 * noted with it.
 */

int
dsi_work_item_read(ds_txn_t *txn, ds_str_t hub, const dsi_work_note_t *note,
    ds_work_item_t *it)
{
    int                     rc;
    dsi_work_rec_t          r;
    const dsi_work_kind_t  *k;

    rc = dsi_work_note_key(note, &r, &k);

    if (rc == DS_OK) {
        rc = k->get(txn, hub, &r);
    }

    if (rc != DS_OK) {
        return rc;
    }

    if (*r.lease_expires != note->lease_expires
        || memcmp(r.lease, note->lease, DS_LEASE_LEN) != 0)
    {
        return DS_CONFLICT;
    }

    if (k->stamp(&r) != note->stamp) {
        return DS_PRECONDITION;
    }

    r.upto = note->upto;
    r.execution = note->execution;

    memset(it, 0, sizeof(ds_work_item_t));
    it->kind = note->kind;
    it->id = r.id;
    it->upto = note->upto;
    it->lease_expires = note->lease_expires;
    it->lease = note->lease;

    k->view(&r, it);

    return DS_OK;
}


int
dsi_work_item_abandon(ds_txn_t *txn, ds_str_t hub,
    const dsi_work_note_t *note, int64_t now)
{
    int                     rc;
    ds_str_t                none;
    dsi_work_rec_t          r;
    const dsi_work_kind_t  *k;

    rc = dsi_work_note_key(note, &r, &k);
    if (rc != DS_OK) {
        return rc;
    }

    none.data = NULL;
    none.len = 0;

    return ds_work_abandon(txn, hub, note->kind, r.id, none, r.task_id,
                           note->lease, now);
}


/* a noted item's kind, and its key in r */

static int
dsi_work_note_key(const dsi_work_note_t *note, dsi_work_rec_t *r,
    const dsi_work_kind_t **kind)
{
    const dsi_work_kind_t  *k;

    k = dsi_work_kind(note->kind);
    if (k == NULL || k->stamp == NULL) {
        return DS_INVALID;
    }

    *kind = k;
    memset(r, 0, sizeof(dsi_work_rec_t));

    return k->item_key(note->key, note->key_len, r);
}


/* names in length, then byte order; fold: A-Z as a-z */

static int
dsi_work_name_cmp(const ds_str_t *a, const ds_str_t *b, int fold)
{
    size_t         i;
    unsigned char  ca, cb;

    if (a->len != b->len) {
        return a->len < b->len ? -1 : 1;
    }

    for (i = 0; i < a->len; i++) {
        ca = (unsigned char) a->data[i];
        cb = (unsigned char) b->data[i];

        if (fold) {
            ca = (ca >= 'A' && ca <= 'Z') ? ca - 'A' + 'a' : ca;
            cb = (cb >= 'A' && cb <= 'Z') ? cb - 'A' + 'a' : cb;
        }

        if (ca != cb) {
            return ca < cb ? -1 : 1;
        }
    }

    return 0;
}


static int
dsi_work_name_sort(const void *a, const void *b)
{
    return dsi_work_name_cmp(a, b, 0);
}


static int
dsi_work_name_sort_fold(const void *a, const void *b)
{
    return dsi_work_name_cmp(a, b, 1);
}


void
ds_claim_filter_sort(ds_claim_filter_t *filter, ds_work_kind_e kind,
    ds_str_t *names, size_t n)
{
    const dsi_work_kind_t  *k;

    k = dsi_work_kind(kind);

    filter->names = names;
    filter->nnames = n;
    filter->sorted = 0;

    if (k == NULL || n == 0) {
        return;
    }

    qsort(names, n, sizeof(ds_str_t),
          k->fold ? dsi_work_name_sort_fold : dsi_work_name_sort);

    filter->sorted = 1;
}


/* a record's name and a filter's: a lower-case letter of the record's
   matches the upper-case one where the kind folds */

static int
dsi_work_name_is(const dsi_work_kind_t *k, ds_str_t name, const ds_str_t *f)
{
    size_t  j;

    if (f->len != name.len) {
        return 0;
    }

    for (j = 0; j < name.len; j++) {
        if (name.data[j] != f->data[j]
            && !(k->fold && name.data[j] >= 'a' && name.data[j] <= 'z'
                 && f->data[j] == name.data[j] - 'a' + 'A'))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * Sorted names: the first not ordered before the record's name, by a
 * binary search; a name that matches it compares equal to it folded, so
 * only those that follow and compare equal are tried.
 */

static int
dsi_work_wanted(const dsi_work_kind_t *k, const dsi_work_rec_t *r,
    const ds_claim_filter_t *filter)
{
    size_t    i, lo, hi, mid;
    ds_str_t  name;

    if (filter == NULL || filter->nnames == 0) {
        return 1;
    }

    name = k->name(r);

    if (!filter->sorted) {
        for (i = 0; i < filter->nnames; i++) {
            if (dsi_work_name_is(k, name, &filter->names[i])) {
                return 1;
            }
        }

        return 0;
    }

    lo = 0;
    hi = filter->nnames;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (dsi_work_name_cmp(&filter->names[mid], &name, k->fold) < 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    for (i = lo; i < filter->nnames
                 && dsi_work_name_cmp(&filter->names[i], &name, k->fold) == 0;
         i++)
    {
        if (dsi_work_name_is(k, name, &filter->names[i])) {
            return 1;
        }
    }

    return 0;
}


/*
 * The completion fence. r holds the item's key, digest is the one of the
 * completion presented. DS_OK with *replay 0: the lease is current, apply
 * the completion; DS_OK with *replay 1: the lease and the digest are
 * those of the last completion (or its digest is not known), answer as it
 * did and apply nothing; DS_MISMATCH: the lease of the last completion
 * with another body. Otherwise the refusal: DS_CONFLICT for no lease or
 * another one, or what the kind refuses (a terminal orchestration:
 * DS_GONE).
 */

int
dsi_work_fence(ds_txn_t *txn, ds_str_t hub, const dsi_work_kind_t *k,
    dsi_work_rec_t *r, const uint8_t *lease, uint64_t digest, int *replay)
{
    int  rc;

    *replay = 0;

    rc = k->get(txn, hub, r);
    if (rc != DS_OK) {
        return rc;
    }

    if (dsi_lease_none(lease)) {
        return DS_CONFLICT;
    }

    if (r->done_lease != NULL && dsi_lease_eq(lease, r->done_lease)) {

        if (*r->done_digest != 0 && *r->done_digest != digest) {
            return DS_MISMATCH;
        }

        *replay = 1;
        return DS_OK;
    }

    if (k->refuse != NULL) {
        rc = k->refuse(r, DSI_WORK_COMPLETE);
        if (rc != DS_OK) {
            return rc;
        }
    }

    return dsi_lease_eq(lease, r->lease) ? DS_OK : DS_CONFLICT;
}


int
ds_work_renew(ds_txn_t *txn, ds_str_t hub, ds_work_kind_e kind,
    ds_str_t id, ds_str_t key, int64_t task_id, const uint8_t *lease,
    int64_t now, int64_t lease_us, int64_t *expires)
{
    return dsi_work_lease(txn, hub, kind, id, key, task_id, lease, now,
                          lease_us, expires, 0);
}


int
ds_work_abandon(ds_txn_t *txn, ds_str_t hub, ds_work_kind_e kind,
    ds_str_t id, ds_str_t key, int64_t task_id, const uint8_t *lease,
    int64_t now)
{
    return dsi_work_lease(txn, hub, kind, id, key, task_id, lease, now, 0,
                          NULL, 1);
}


/* renew, or with abandon set give the lease up and be ready now */

static int
dsi_work_lease(ds_txn_t *txn, ds_str_t hub, ds_work_kind_e kind,
    ds_str_t id, ds_str_t key, int64_t task_id, const uint8_t *lease,
    int64_t now, int64_t lease_us, int64_t *expires, int abandon)
{
    int                     rc;
    dsi_work_rec_t          r;
    const dsi_work_kind_t  *k;

    k = dsi_work_kind(kind);

    if (k == NULL) {
        return DS_INVALID;
    }

    memset(&r, 0, sizeof(dsi_work_rec_t));

    if (k->key_of(hub, id, key, task_id, &r) != DS_OK
        || (!abandon && !dsi_lease_time_valid(now, lease_us)))
    {
        return DS_INVALID;
    }

    rc = k->get(txn, hub, &r);
    if (rc != DS_OK) {
        return rc;
    }

    if (k->refuse != NULL) {
        rc = k->refuse(&r, abandon ? DSI_WORK_ABANDON : DSI_WORK_RENEW);
        if (rc != DS_OK) {
            return rc;
        }
    }

    if (!dsi_lease_held(lease, r.lease)) {
        return DS_CONFLICT;
    }

    r.old_ready_at = *r.ready_at;

    dsi_lease_renew(r.lease, r.lease_expires, r.ready_at, now, lease_us,
                   expires, abandon);

    if (k->released != NULL) {
        k->released(&r, abandon, now);
    }

    return k->put(txn, hub, &r);
}


#define DSI_FNV_OFFSET  0xcbf29ce484222325ULL
#define DSI_FNV_PRIME   0x100000001b3ULL


void
dsi_digest_init(dsi_digest_t *d, ds_work_kind_e kind)
{
    d->h = DSI_FNV_OFFSET;
    dsi_digest_int(d, (int64_t) kind);
}


void
dsi_digest_int(dsi_digest_t *d, int64_t v)
{
    int       i;
    uint64_t  u;

    u = (uint64_t) v;

    for (i = 0; i < 8; i++) {
        d->h = (d->h ^ (u & 0xff)) * DSI_FNV_PRIME;
        u >>= 8;
    }
}


void
dsi_digest_str(dsi_digest_t *d, ds_str_t s)
{
    size_t  i;

    dsi_digest_int(d, (int64_t) s.len);

    for (i = 0; i < s.len; i++) {
        d->h = (d->h ^ (unsigned char) s.data[i]) * DSI_FNV_PRIME;
    }
}


uint64_t
dsi_digest_end(const dsi_digest_t *d)
{
    return d->h ? d->h : 1;
}


static const dsi_work_kind_t *
dsi_work_kind(ds_work_kind_e kind)
{
    switch (kind) {

    case DS_WORK_ORCHESTRATION:
        return &dsi_work_orchestration;

    case DS_WORK_ACTIVITY:
        return &dsi_work_activity;

    case DS_WORK_ENTITY:
        return &dsi_work_entity;

    default:
        return NULL;
    }
}
