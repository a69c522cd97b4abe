/*
 * Copyright (C) ngx_durable authors
 *
 * Listing instances in (created, id) order with filters, bounded work and
 * continuation tokens; purging terminal instances by filter in batches.
 *
 * A list reads by_created, or with a status filter merges the by_status
 * ranges of the requested statuses. Each index key ends in the suffix
 * "created(8) id", and suffixes compare bytewise in (created, id) order.
 *
 * Token: base64url without padding of "version(1) created(8) id", the
 * suffix of the last index entry examined; a list resumes strictly after.
 *
 * A by_created entry carries its record's list copy (ds_instance.c): an
 * unfiltered page decodes its items from the entries it walks and reads
 * a record only where the copy is absent.
 */


#include <string.h>

#include "ds_key.h"


#define DS_TOKEN_VERSION    1
#define DS_TOKEN_RAW_MAX    (1 + 8 + DS_ID_MAX)
#define DS_ALL_MASK         ((1u << DS_STATUS_COUNT) - 1)


typedef struct {
    MDB_cursor         *cur;
    MDB_val             key;
    MDB_val             val;        /* the entry's value */
    int                 valid;      /* key is an entry inside the range */
    size_t              plen;       /* "hub 0" or "hub 0 status" */
    unsigned char       prefix[DS_KEY_BUF];
} ds_scan_t;


typedef struct {
    ds_txn_t           *txn;
    ds_scan_t           scan[DS_STATUS_COUNT];
    size_t              n;
    uint64_t            to;         /* encoded created_to */
} ds_range_t;


static int ds_range_open(ds_range_t *r, ds_txn_t *txn, ds_str_t hub,
    const ds_query_t *q, unsigned mask, const unsigned char *after,
    size_t after_len);
static void ds_range_close(ds_range_t *r);
static int ds_scan_load(ds_range_t *r, ds_scan_t *s, int rc);
static ds_scan_t *ds_range_min(ds_range_t *r);
static int ds_suffix_cmp(const ds_scan_t *a, const ds_scan_t *b);
static int ds_token_decode(ds_str_t token, unsigned char *raw, size_t *len);
static size_t ds_token_encode(const unsigned char *suffix, size_t len,
    char *token);


int
ds_instance_list(ds_txn_t *txn, ds_str_t hub, const ds_query_t *q,
    ds_instance_cb cb, void *data, char *token, size_t *token_len)
{
    int             rc, have_pos;
    size_t          count, examined, budget, raw_len, pos_len;
    unsigned        mask;
    MDB_val         key, val;
    ds_str_t        id;
    ds_scan_t      *s;
    ds_range_t      r;
    ds_instance_t   inst;
    unsigned char   raw[DS_TOKEN_RAW_MAX], pos[DS_TOKEN_RAW_MAX];
    unsigned char   kb[DS_KEY_BUF];

    *token_len = 0;

    if (!dsi_key_hub_valid(hub) || q->top == 0) {
        return DS_INVALID;
    }

    raw_len = 0;

    if (q->token.len && ds_token_decode(q->token, raw, &raw_len) != DS_OK) {
        return DS_INVALID;
    }

    mask = q->status_mask & DS_ALL_MASK;

    if (q->status_mask != 0 && mask == 0) {
        /* only unknown statuses: nothing can match */
        return DS_OK;
    }

    if (mask == DS_ALL_MASK) {
        mask = 0;
    }

    rc = ds_range_open(&r, txn, hub, q, mask, raw_len ? raw + 1 : NULL,
                       raw_len ? raw_len - 1 : 0);
    if (rc != DS_OK) {
        return rc;
    }

    budget = q->scan_budget ? q->scan_budget : (size_t) -1;
    count = 0;
    examined = 0;
    have_pos = 0;
    pos_len = 0;

    for ( ;; ) {
        s = ds_range_min(&r);

        if (s == NULL) {
            /* the range is exhausted: last page */
            break;
        }

        if (count == q->top || examined == budget) {
            if (have_pos) {
                *token_len = ds_token_encode(pos, pos_len, token);
            }

            break;
        }

        examined++;

        pos_len = s->key.mv_size - s->plen;

        if (pos_len > 8 + DS_ID_MAX) {
            dsi_txn_set_error(txn, "corrupt index entry");
            rc = DS_ERROR;
            goto done;
        }

        memcpy(pos, (unsigned char *) s->key.mv_data + s->plen, pos_len);
        have_pos = 1;

        id.data = (const char *) s->key.mv_data + s->plen + 8;
        id.len = pos_len - 8;

        /* the map's pages stay put while the txn lasts */
        val = s->val;

        rc = mdb_cursor_get(s->cur, &s->key, &s->val, MDB_NEXT);
        rc = ds_scan_load(&r, s, rc);
        if (rc != DS_OK) {
            goto done;
        }

        if (id.len < q->id_prefix.len
            || (q->id_prefix.len
                && memcmp(id.data, q->id_prefix.data, q->id_prefix.len) != 0))
        {
            continue;
        }

        if (mask != 0 || val.mv_size == 0) {
            key.mv_data = kb;
            key.mv_size = dsi_key_instance(kb, hub, id);

            rc = mdb_get(txn->txn, ds_dbi(txn, DS_DB_INSTANCES), &key, &val);

            if (rc == MDB_NOTFOUND) {
                /* a stale index entry; ds_check() reports those */
                continue;
            }

            if (rc != 0) {
                rc = dsi_lmdb_rc(txn, rc);
                goto done;
            }
        }

        if (dsi_record_decode(val.mv_data, val.mv_size, &inst) != DS_OK) {
            dsi_txn_set_error(txn, "corrupt instance record");
            rc = DS_ERROR;
            goto done;
        }

        count++;

        if (cb(data, id, &inst) != 0) {
            dsi_txn_set_error(txn, "stopped by the callback");
            *token_len = 0;
            rc = DS_ERROR;
            goto done;
        }
    }

    rc = DS_OK;

done:

    ds_range_close(&r);

    return rc;
}


int
ds_instance_purge(ds_txn_t *txn, ds_str_t hub, const ds_query_t *q,
    size_t max, size_t *deleted, int *more)
{
    return ds_instance_purge_until(txn, hub, q, max, 0, deleted, more);
}


int
ds_instance_purge_until(ds_txn_t *txn, ds_str_t hub, const ds_query_t *q,
    size_t max, int64_t deadline, size_t *deleted, int *more)
{
    int             rc, stale;
    size_t          i;
    unsigned        mask;
    ds_str_t        id;
    ds_scan_t      *s;
    ds_range_t      r;
    ds_instance_t   inst;
    unsigned char   idb[DS_ID_MAX];

    *deleted = 0;
    *more = 0;

    /* a prefix is the list's alone: each step here starts over */

    if (!dsi_key_hub_valid(hub) || q->id_prefix.len) {
        return DS_INVALID;
    }

    mask = (q->status_mask ? q->status_mask : DS_TERMINAL_MASK)
           & DS_TERMINAL_MASK;

    if (mask == 0) {
        return DS_OK;
    }

    /*
     * Deleted entries leave the index, so every step seeks to the start
     * of the range again; the cursors are reopened for each instance.
     */

    for ( ;; ) {
        rc = ds_range_open(&r, txn, hub, q, mask, NULL, 0);
        if (rc != DS_OK) {
            return rc;
        }

        s = NULL;

        for (i = 0; i < r.n; i++) {
            if (r.scan[i].valid) {
                s = &r.scan[i];
                break;
            }
        }

        if (s == NULL) {
            ds_range_close(&r);
            return DS_OK;
        }

        /* a batch that deleted none has made no progress: it goes on */

        if (*deleted == max
            || (deadline && *deleted && ds_time_mono() >= deadline))
        {
            ds_range_close(&r);
            *more = 1;
            return DS_OK;
        }

        id.len = s->key.mv_size - s->plen - 8;

        if (id.len > DS_ID_MAX) {
            ds_range_close(&r);
            dsi_txn_set_error(txn, "corrupt index entry");
            return DS_ERROR;
        }

        memcpy(idb, (unsigned char *) s->key.mv_data + s->plen + 8, id.len);
        id.data = (const char *) idb;

        /* an entry that does not match its record is stale: drop it */

        rc = ds_instance_get(txn, hub, id, &inst);

        if (rc == DS_OK) {
            stale = (inst.status != (ds_status_e) s->prefix[s->plen - 1]
                     || dsi_created_enc(inst.created)
                        != dsi_get_u64((unsigned char *) s->key.mv_data
                                      + s->plen));

        } else if (rc == DS_NOTFOUND || rc == DS_INVALID) {
            stale = 1;

        } else {
            ds_range_close(&r);
            return rc;
        }

        if (stale) {
            rc = dsi_cursor_del(txn, DS_DB_BY_STATUS, s->cur, 0);
            ds_range_close(&r);

            if (rc != 0) {
                return dsi_lmdb_rc(txn, rc);
            }

            continue;
        }

        ds_range_close(&r);

        rc = dsi_instance_remove(txn, hub, id, &inst);
        if (rc != DS_OK) {
            return rc;
        }

        (*deleted)++;

        dsi_txn_give_way(txn);
    }
}


/*
 * Opens one cursor per source (by_created, or by_status per status in
 * mask) positioned at the first entry of the range, or strictly after the
 * position "after" (a suffix) when that lies inside the range.
 */

static int
ds_range_open(ds_range_t *r, ds_txn_t *txn, ds_str_t hub,
    const ds_query_t *q, unsigned mask, const unsigned char *after,
    size_t after_len)
{
    int            rc, db, st;
    size_t         slen;
    int64_t        from, to;
    ds_scan_t     *s;
    unsigned char  start[8 + DS_ID_MAX];

    /* zero means "no filter" (durable_store.h) */
    from = q->created_from ? q->created_from : INT64_MIN;
    to = q->created_to ? q->created_to : INT64_MAX;

    r->txn = txn;
    r->n = 0;
    r->to = dsi_created_enc(to);

    dsi_put_u64(start, dsi_created_enc(from));
    slen = 8;

    if (after != NULL && after_len >= 8 && after_len <= 8 + DS_ID_MAX
        && memcmp(after, start, 8) >= 0)
    {
        memcpy(start, after, after_len);
        slen = after_len;

    } else {
        after = NULL;
    }

    db = mask ? DS_DB_BY_STATUS : DS_DB_BY_CREATED;

    for (st = 0; st < DS_STATUS_COUNT; st++) {
        if (mask && !(mask & DS_STATUS_MASK(st))) {
            continue;
        }

        s = &r->scan[r->n];
        s->valid = 0;
        s->plen = dsi_key_hub(s->prefix, hub);

        if (mask) {
            s->prefix[s->plen++] = (unsigned char) st;
        }

        memcpy(s->prefix + s->plen, start, slen);

        rc = mdb_cursor_open(txn->txn, ds_dbi(txn, db), &s->cur);
        if (rc != 0) {
            ds_range_close(r);
            return dsi_lmdb_rc(txn, rc);
        }

        r->n++;

        if (to < from) {
            /* an empty range */
            rc = MDB_NOTFOUND;

        } else {
            s->key.mv_data = s->prefix;
            s->key.mv_size = s->plen + slen;

            rc = mdb_cursor_get(s->cur, &s->key, &s->val, MDB_SET_RANGE);

            if (rc == 0 && after != NULL && s->key.mv_size == s->plen + slen
                && memcmp(s->key.mv_data, s->prefix, s->plen + slen) == 0)
            {
                rc = mdb_cursor_get(s->cur, &s->key, &s->val, MDB_NEXT);
            }
        }

        rc = ds_scan_load(r, s, rc);
        if (rc != DS_OK) {
            ds_range_close(r);
            return rc;
        }

        if (!mask) {
            break;
        }
    }

    return DS_OK;
}


static void
ds_range_close(ds_range_t *r)
{
    size_t  i;

    for (i = 0; i < r->n; i++) {
        mdb_cursor_close(r->scan[i].cur);
    }

    r->n = 0;
}


/* checks the entry a cursor moved to: same prefix and not past the range */

static int
ds_scan_load(ds_range_t *r, ds_scan_t *s, int rc)
{
    s->valid = 0;

    if (rc == MDB_NOTFOUND) {
        return DS_OK;
    }

    if (rc != 0) {
        return dsi_lmdb_rc(r->txn, rc);
    }

    if (s->key.mv_size >= s->plen + 8
        && memcmp(s->key.mv_data, s->prefix, s->plen) == 0
        && dsi_get_u64((unsigned char *) s->key.mv_data + s->plen) <= r->to)
    {
        s->valid = 1;
    }

    return DS_OK;
}


static ds_scan_t *
ds_range_min(ds_range_t *r)
{
    size_t      i;
    ds_scan_t  *min;

    min = NULL;

    for (i = 0; i < r->n; i++) {
        if (r->scan[i].valid
            && (min == NULL || ds_suffix_cmp(&r->scan[i], min) < 0))
        {
            min = &r->scan[i];
        }
    }

    return min;
}


static int
ds_suffix_cmp(const ds_scan_t *a, const ds_scan_t *b)
{
    int                   c;
    size_t                al, bl;
    const unsigned char  *ap, *bp;

    ap = (const unsigned char *) a->key.mv_data + a->plen;
    bp = (const unsigned char *) b->key.mv_data + b->plen;
    al = a->key.mv_size - a->plen;
    bl = b->key.mv_size - b->plen;

    c = memcmp(ap, bp, al < bl ? al : bl);

    if (c != 0) {
        return c;
    }

    return (al > bl) - (al < bl);
}


/*
 * The token of a page cut short after an instance it listed: the scans
 * resume strictly after the (created, id) of their index keys' suffix,
 * whichever index the filter reads.
 */

size_t
ds_list_token(int64_t created, ds_str_t id, char *token)
{
    unsigned char  suffix[8 + DS_ID_MAX];

    if (id.len > DS_ID_MAX) {
        return 0;
    }

    dsi_put_u64(suffix, dsi_created_enc(created));
    memcpy(suffix + 8, id.data, id.len);

    return ds_token_encode(suffix, 8 + id.len, token);
}


/* raw token: version(1) suffix */

static size_t
ds_token_encode(const unsigned char *suffix, size_t len, char *token)
{
    unsigned char  raw[DS_TOKEN_RAW_MAX];

    raw[0] = DS_TOKEN_VERSION;
    memcpy(raw + 1, suffix, len);

    return dsi_b64url_encode(raw, len + 1, token);
}


static int
ds_token_decode(ds_str_t token, unsigned char *raw, size_t *len)
{
    size_t  n;

    if (dsi_b64url_decode(token, raw, DS_TOKEN_RAW_MAX, &n) != DS_OK
        || n < 1 + 8 || raw[0] != DS_TOKEN_VERSION)
    {
        return DS_INVALID;
    }

    *len = n;

    return DS_OK;
}
