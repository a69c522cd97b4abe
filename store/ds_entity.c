/*
 * Copyright (C) ngx_durable authors
 *
 * Durable entities. An entity "@name@key" (name lower-cased, key case
 * sensitive) has a record in the entities db and a queue of operations in
 * entity_ops ("hub 0 @name@key 0 seq(8)"), numbered from the record's
 * counter like an instance inbox. An entity with queued operations is in
 * the ready index (kind 'e'); a claim leases it with all its queued
 * operations, so one batch at a time runs per entity, in order.
 *
 * Record (version 2):
 *
 *   version(1) flags(1) reserved(2) last_op(8) ready_at(8)
 *   lease_expires(8) lease_upto(8) op_seq(8) lease(16) done_lease(16)
 *   done_digest(8) state_len(4) state
 *
 * Version 1 is the same without done_digest; it is still read (the
 * digest of the last completion then is 0: not known).
 *
 * flags: 1 = has state (state_len 0 then means JSON null). A record
 * without state stays after a delete, so that a retried completion is
 * answered from done_lease; get and list do not see it.
 */


#include <stdlib.h>
#include <string.h>

#include "ds_key.h"


#define DS_ENTITY_VERSION   2
#define DS_ENTITY_HEADER    88
#define DS_ENTITY_V1        1
#define DS_ENTITY_HEADER_V1 80
#define DS_ENTITY_STATE     0x01
#define DS_ENTITY_STACK     1024
#define DS_ETOKEN_VERSION   2
#define DS_ETOKEN_RAW_MAX   (1 + DS_ID_MAX)


static int ds_entity_item_key(const unsigned char *item, size_t len,
    dsi_work_rec_t *r);
static int ds_entity_key_of(ds_str_t hub, ds_str_t id, ds_str_t key,
    int64_t task_id, dsi_work_rec_t *r);
static int ds_entity_work_get(ds_txn_t *txn, ds_str_t hub,
    dsi_work_rec_t *r);
static int ds_entity_work_put(ds_txn_t *txn, ds_str_t hub,
    dsi_work_rec_t *r);
static int ds_entity_verdict(ds_txn_t *txn, ds_str_t hub, dsi_work_rec_t *r,
    int64_t at, dsi_verdict_e *verdict);
static ds_str_t ds_entity_name(const dsi_work_rec_t *r);
static void ds_entity_view(const dsi_work_rec_t *r, ds_work_item_t *it);
static int ds_erec_get(ds_txn_t *txn, ds_str_t hub, ds_str_t eid,
    ds_erec_t *rec);
static int ds_erec_put(ds_txn_t *txn, ds_str_t hub, ds_str_t eid,
    const ds_erec_t *rec, int64_t old_ready_at);
static int ds_erec_decode(const void *data, size_t len, ds_erec_t *rec);
static int ds_entity_split(ds_str_t eid, ds_str_t *name, ds_str_t *key);
static int ds_bytes_cmp(const unsigned char *a, size_t al,
    const unsigned char *b, size_t bl);


const dsi_work_kind_t  dsi_work_entity = {
    DS_READY_ENTITY,
    1,
    NULL,
    ds_entity_item_key,
    ds_entity_key_of,
    ds_entity_work_get,
    ds_entity_work_put,
    ds_entity_verdict,
    NULL,
    NULL,
    ds_entity_name,
    ds_entity_view,
    NULL,
    NULL
};


/*
 * "@name@key" into buf (DS_ID_MAX bytes), the name lower-cased. The name
 * must not be empty nor contain '@'; neither may contain a 0 byte.
 */

int
dsi_entity_id(ds_str_t name, ds_str_t key, unsigned char *buf, ds_str_t *eid)
{
    size_t  i, n;

    if (name.len == 0 || name.len > DS_ID_MAX
        || key.len > DS_ID_MAX - 2 - name.len
        || memchr(name.data, '@', name.len) != NULL
        || memchr(name.data, '\0', name.len) != NULL
        || (key.len && memchr(key.data, '\0', key.len) != NULL))
    {
        return DS_INVALID;
    }

    n = 0;
    buf[n++] = '@';

    for (i = 0; i < name.len; i++) {
        buf[n++] = (name.data[i] >= 'A' && name.data[i] <= 'Z')
                   ? (unsigned char) (name.data[i] - 'A' + 'a')
                   : (unsigned char) name.data[i];
    }

    buf[n++] = '@';

    if (key.len) {
        memcpy(buf + n, key.data, key.len);
        n += key.len;
    }

    eid->data = (const char *) buf;
    eid->len = n;

    return DS_OK;
}


int
ds_entity_signal(ds_txn_t *txn, ds_str_t hub, ds_str_t name, ds_str_t key,
    ds_str_t operation, ds_str_t input, int64_t now)
{
    int              rc;
    int64_t          old_ready_at;
    uint64_t         last, seq;
    ds_buf_t         b;
    ds_str_t         eid, msg;
    ds_erec_t        rec;
    unsigned char    eb[DS_ID_MAX];
    ds_name_fault_t  f;

    if (!dsi_key_hub_valid(hub)
        || ds_name_check(operation, DS_NAME_MAX, &f) != DS_OK
        || dsi_entity_id(name, key, eb, &eid) != DS_OK)
    {
        return DS_INVALID;
    }

    /* "delete" frees what the entity holds: it may use the reserve */

    rc = dsi_room(txn, (operation.len == sizeof("delete") - 1
                        && memcmp(operation.data, "delete",
                                  sizeof("delete") - 1) == 0)
                       ? DS_ROOM_END : DS_ROOM_ADD);
    if (rc != DS_OK) {
        return rc;
    }

    rc = ds_erec_get(txn, hub, eid, &rec);

    if (rc == DS_NOTFOUND) {
        memset(&rec, 0, sizeof(ds_erec_t));

    } else if (rc != DS_OK) {
        return rc;
    }

    old_ready_at = rec.ready_at;

    rc = dsi_seq_last(txn, DS_DB_ENTITY_OPS, hub, eid, &last);
    if (rc != DS_OK) {
        return rc;
    }

    if (last < rec.op_seq) {
        last = rec.op_seq;
    }

    if (last == UINT64_MAX) {
        dsi_txn_set_error(txn, "entity operation sequence exhausted");
        return DS_ERROR;
    }

    seq = last + 1;
    rec.op_seq = seq;

    dsi_lease_ready(rec.lease, rec.lease_expires, &rec.ready_at, now);

    dsi_buf_init(&b);
    dsi_ev_open(&b);
    dsi_ev_str(&b, "operation", operation);
    dsi_ev_json(&b, "input", input);
    dsi_ev_time(&b, "timestamp", now);

    rc = dsi_ev_end(txn, &b, &msg);

    if (rc == DS_OK) {
        rc = ds_erec_put(txn, hub, eid, &rec, old_ready_at);
    }

    if (rc == DS_OK) {
        rc = dsi_seq_put(txn, DS_DB_ENTITY_OPS, hub, eid, seq, msg);
    }

    dsi_buf_free(&b);

    return rc;
}


int
ds_entity_read_ops(ds_txn_t *txn, ds_str_t hub, ds_str_t name, ds_str_t key,
    uint64_t upto, ds_event_cb cb, void *data)
{
    ds_str_t       eid;
    unsigned char  eb[DS_ID_MAX];

    if (dsi_entity_id(name, key, eb, &eid) != DS_OK) {
        return DS_INVALID;
    }

    return dsi_seq_read_upto(txn, DS_DB_ENTITY_OPS, hub, eid, upto, cb, data);
}


int
ds_work_complete_entity(ds_txn_t *txn, ds_str_t hub, ds_str_t name,
    ds_str_t key, const uint8_t *lease, int delete_state, ds_str_t state,
    int64_t now)
{
    int             rc, replay;
    int64_t         old_ready_at;
    uint64_t        last, digest;
    ds_str_t        eid;
    ds_erec_t       rec;
    dsi_digest_t    d;
    dsi_work_rec_t  r;

    memset(&r, 0, sizeof(dsi_work_rec_t));

    if (ds_entity_key_of(hub, name, key, 0, &r) != DS_OK) {
        return DS_INVALID;
    }

    dsi_digest_init(&d, DS_WORK_ENTITY);
    dsi_digest_int(&d, delete_state);

    if (!delete_state) {
        dsi_digest_str(&d, state);
    }

    digest = dsi_digest_end(&d);

    rc = dsi_work_fence(txn, hub, &dsi_work_entity, &r, lease, digest,
                        &replay);

    if (rc != DS_OK || replay) {
        /* a replay: a retry of the last completion */
        return rc;
    }

    eid = r.id;
    rec = r.u.ent;

    /* a completion that deletes the state frees space: the reserve's */

    rc = dsi_room(txn, delete_state ? DS_ROOM_END : DS_ROOM_ADD);
    if (rc != DS_OK) {
        return rc;
    }

    /* rec.state is replaced first: nothing of rec points into the map */

    rec.has_state = !delete_state;

    if (delete_state) {
        rec.state.data = NULL;
        rec.state.len = 0;

    } else {
        rec.state = state;
    }

    old_ready_at = rec.ready_at;

    rc = dsi_seq_delete(txn, DS_DB_ENTITY_OPS, hub, eid, rec.lease_upto);
    if (rc != DS_OK) {
        return rc;
    }

    rc = dsi_seq_last(txn, DS_DB_ENTITY_OPS, hub, eid, &last);
    if (rc != DS_OK) {
        return rc;
    }

    rec.last_op = now;
    memcpy(rec.done_lease, lease, DS_LEASE_LEN);
    rec.done_digest = digest;
    memset(rec.lease, 0, DS_LEASE_LEN);
    rec.lease_expires = 0;
    rec.ready_at = last ? dsi_ready_time(now) : 0;

    return ds_erec_put(txn, hub, eid, &rec, old_ready_at);
}


/* the engine's hooks (ds_work.c); an entry is "@name@key" */

static int
ds_entity_item_key(const unsigned char *item, size_t len, dsi_work_rec_t *r)
{
    r->id.data = (const char *) item;
    r->id.len = len;

    return ds_entity_split(r->id, &r->name, &r->key);
}


static int
ds_entity_key_of(ds_str_t hub, ds_str_t id, ds_str_t key, int64_t task_id,
    dsi_work_rec_t *r)
{
    (void) task_id;

    if (!dsi_key_hub_valid(hub)
        || dsi_entity_id(id, key, r->eid, &r->id) != DS_OK)
    {
        return DS_INVALID;
    }

    return ds_entity_split(r->id, &r->name, &r->key);
}


static int
ds_entity_work_get(ds_txn_t *txn, ds_str_t hub, dsi_work_rec_t *r)
{
    int         rc;
    ds_erec_t  *rec;

    rec = &r->u.ent;

    rc = ds_erec_get(txn, hub, r->id, rec);
    if (rc != DS_OK) {
        return rc;
    }

    r->lease = rec->lease;
    r->lease_expires = &rec->lease_expires;
    r->ready_at = &rec->ready_at;
    r->lease_upto = &rec->lease_upto;
    r->done_lease = rec->done_lease;
    r->done_digest = &rec->done_digest;

    return DS_OK;
}


static int
ds_entity_work_put(ds_txn_t *txn, ds_str_t hub, dsi_work_rec_t *r)
{
    return ds_erec_put(txn, hub, r->id, &r->u.ent, r->old_ready_at);
}


static int
ds_entity_verdict(ds_txn_t *txn, ds_str_t hub, dsi_work_rec_t *r,
    int64_t at, dsi_verdict_e *verdict)
{
    int       rc;
    uint64_t  last;

    if (r->u.ent.ready_at != at) {
        *verdict = DSI_WORK_STALE;
        return DS_OK;
    }

    rc = dsi_seq_last(txn, DS_DB_ENTITY_OPS, hub, r->id, &last);
    if (rc != DS_OK) {
        return rc;
    }

    r->upto = last;
    *verdict = last ? DSI_WORK_TAKE : DSI_WORK_IDLE;

    return DS_OK;
}


static ds_str_t
ds_entity_name(const dsi_work_rec_t *r)
{
    return r->name;
}


static void
ds_entity_view(const dsi_work_rec_t *r, ds_work_item_t *it)
{
    it->name = r->name;
    it->key = r->key;

    if (r->u.ent.has_state) {
        it->input = r->u.ent.state;
    }
}


/* name and key of the result are the arguments */

int
ds_entity_get(ds_txn_t *txn, ds_str_t hub, ds_str_t name, ds_str_t key,
    ds_entity_t *entity)
{
    int            rc;
    ds_str_t       eid;
    ds_erec_t      rec;
    unsigned char  eb[DS_ID_MAX];

    if (!dsi_key_hub_valid(hub) || dsi_entity_id(name, key, eb, &eid) != DS_OK)
    {
        return DS_INVALID;
    }

    rc = ds_erec_get(txn, hub, eid, &rec);
    if (rc != DS_OK) {
        return rc;
    }

    if (!rec.has_state) {
        return DS_NOTFOUND;
    }

    entity->name = name;
    entity->key = key;
    entity->state = rec.state;
    entity->last_op = rec.last_op;

    return DS_OK;
}


/*
 * Entities with state in id order: all of them (name.len 0) or those of
 * one lower-cased name, last_op in [from, to] (0: open), at most top per
 * page, at most scan_budget records examined (0: no bound). Token:
 * base64url of "version(2) @name@key", the last record examined; a list
 * resumes strictly after it. Entity name and key point into the map.
 */

int
ds_entity_list(ds_txn_t *txn, ds_str_t hub, ds_str_t name,
    int64_t from, int64_t to, size_t top, size_t scan_budget,
    ds_str_t token_in, ds_entity_cb cb, void *data, char *token,
    size_t *token_len)
{
    int            rc, have_pos, after;
    size_t         hlen, count, examined, raw_len, pos_len;
    MDB_val        key, val;
    ds_str_t       eid, pfx, none;
    ds_erec_t      rec;
    MDB_cursor    *cur;
    ds_entity_t    e;
    unsigned char  kb[DS_KEY_BUF], pb[DS_ID_MAX];
    unsigned char  raw[DS_ETOKEN_RAW_MAX], pos[DS_ETOKEN_RAW_MAX];

    *token_len = 0;

    if (!dsi_key_hub_valid(hub) || top == 0) {
        return DS_INVALID;
    }

    raw_len = 0;

    if (token_in.len
        && (dsi_b64url_decode(token_in, raw, DS_ETOKEN_RAW_MAX, &raw_len)
            != DS_OK || raw_len < 2 || raw[0] != DS_ETOKEN_VERSION))
    {
        return DS_INVALID;
    }

    from = from ? from : INT64_MIN;
    to = to ? to : INT64_MAX;

    /* the range: ids that begin with "@" or "@name@" */

    if (name.len) {
        none.data = "";
        none.len = 0;

        if (dsi_entity_id(name, none, pb, &pfx) != DS_OK) {
            return DS_INVALID;
        }

    } else {
        pb[0] = '@';
        pfx.data = (const char *) pb;
        pfx.len = 1;
    }

    /* resume strictly after the token's id unless it lies before */

    hlen = dsi_key_hub(kb, hub);
    after = raw_len > 1
            && ds_bytes_cmp(raw + 1, raw_len - 1,
                            (const unsigned char *) pfx.data, pfx.len) >= 0;

    if (after) {
        memcpy(kb + hlen, raw + 1, raw_len - 1);
        key.mv_size = hlen + raw_len - 1;

    } else {
        memcpy(kb + hlen, pfx.data, pfx.len);
        key.mv_size = hlen + pfx.len;
    }

    key.mv_data = kb;

    rc = mdb_cursor_open(txn->txn, ds_dbi(txn, DS_DB_ENTITIES), &cur);
    if (rc != 0) {
        return dsi_lmdb_rc(txn, rc);
    }

    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);

    if (rc == 0 && after && key.mv_size == hlen + raw_len - 1
        && memcmp((unsigned char *) key.mv_data + hlen, raw + 1,
                  raw_len - 1) == 0)
    {
        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    }

    count = 0;
    examined = 0;
    have_pos = 0;
    pos_len = 0;

    for ( /* void */ ;
         rc == 0 && key.mv_size >= hlen + pfx.len
         && memcmp(key.mv_data, kb, hlen) == 0
         && memcmp((unsigned char *) key.mv_data + hlen, pfx.data, pfx.len)
            == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
    {
        if (count == top || (scan_budget && examined == scan_budget)) {
            if (have_pos) {
                raw[0] = DS_ETOKEN_VERSION;
                memcpy(raw + 1, pos, pos_len);
                *token_len = dsi_b64url_encode(raw, pos_len + 1, token);
            }

            break;
        }

        examined++;

        eid.data = (const char *) key.mv_data + hlen;
        eid.len = key.mv_size - hlen;

        if (eid.len > DS_ID_MAX
            || ds_erec_decode(val.mv_data, val.mv_size, &rec) != DS_OK
            || ds_entity_split(eid, &e.name, &e.key) != DS_OK)
        {
            mdb_cursor_close(cur);
            dsi_txn_set_error(txn, "corrupt entity record");
            return DS_ERROR;
        }

        memcpy(pos, eid.data, eid.len);
        pos_len = eid.len;
        have_pos = 1;

        if (!rec.has_state || rec.last_op < from || rec.last_op > to) {
            continue;
        }

        count++;

        e.state = rec.state;
        e.last_op = rec.last_op;

        if (cb(data, &e) != 0) {
            mdb_cursor_close(cur);
            dsi_txn_set_error(txn, "stopped by the callback");
            *token_len = 0;
            return DS_ERROR;
        }
    }

    mdb_cursor_close(cur);

    return (rc == 0 || rc == MDB_NOTFOUND) ? DS_OK : dsi_lmdb_rc(txn, rc);
}


static int
ds_bytes_cmp(const unsigned char *a, size_t al, const unsigned char *b,
    size_t bl)
{
    int  c;

    c = memcmp(a, b, al < bl ? al : bl);

    if (c != 0) {
        return c;
    }

    return (al > bl) - (al < bl);
}


/* "@name@key": the name ends at the second '@' */

static int
ds_entity_split(ds_str_t eid, ds_str_t *name, ds_str_t *key)
{
    const char  *at;

    if (eid.len < 2 || eid.data[0] != '@') {
        return DS_INVALID;
    }

    at = memchr(eid.data + 1, '@', eid.len - 1);
    if (at == NULL || at == eid.data + 1) {
        return DS_INVALID;
    }

    name->data = eid.data + 1;
    name->len = (size_t) (at - name->data);
    key->data = at + 1;
    key->len = eid.len - name->len - 2;

    return DS_OK;
}


static int
ds_erec_get(ds_txn_t *txn, ds_str_t hub, ds_str_t eid, ds_erec_t *rec)
{
    int            rc;
    MDB_val        key, val;
    unsigned char  kb[DS_KEY_BUF];

    if (!dsi_key_valid(hub, eid)) {
        return DS_INVALID;
    }

    key.mv_data = kb;
    key.mv_size = dsi_key_instance(kb, hub, eid);

    rc = mdb_get(txn->txn, ds_dbi(txn, DS_DB_ENTITIES), &key, &val);
    if (rc != 0) {
        return dsi_lmdb_rc(txn, rc);
    }

    if (ds_erec_decode(val.mv_data, val.mv_size, rec) != DS_OK) {
        dsi_txn_set_error(txn, "corrupt entity record");
        return DS_ERROR;
    }

    return DS_OK;
}


/*
 * Writes the record and moves its ready entry from old_ready_at (0: none)
 * to rec->ready_at. The record is encoded first: rec may point into the
 * map.
 */

static int
ds_erec_put(ds_txn_t *txn, ds_str_t hub, ds_str_t eid, const ds_erec_t *rec,
    int64_t old_ready_at)
{
    int             rc;
    size_t          size;
    MDB_val         key, val;
    unsigned char  *buf, *p, stack[DS_ENTITY_STACK], kb[DS_KEY_BUF];

    if ((uint64_t) rec->state.len > 0xffffffffu) {
        return DS_INVALID;
    }

    size = DS_ENTITY_HEADER + rec->state.len;

    if (size <= sizeof(stack)) {
        buf = stack;

    } else {
        buf = malloc(size);
        if (buf == NULL) {
            dsi_txn_set_error(txn, "out of memory");
            return DS_ERROR;
        }
    }

    p = buf;
    p[0] = DS_ENTITY_VERSION;
    p[1] = rec->has_state ? DS_ENTITY_STATE : 0;
    p[2] = 0;
    p[3] = 0;
    dsi_put_i64(p + 4, rec->last_op);
    dsi_put_i64(p + 12, rec->ready_at);
    dsi_put_i64(p + 20, rec->lease_expires);
    dsi_put_u64(p + 28, rec->lease_upto);
    dsi_put_u64(p + 36, rec->op_seq);
    memcpy(p + 44, rec->lease, DS_LEASE_LEN);
    memcpy(p + 60, rec->done_lease, DS_LEASE_LEN);
    dsi_put_u64(p + 76, rec->done_digest);
    dsi_put_u32(p + 84, (uint32_t) rec->state.len);

    if (rec->state.len) {
        memcpy(p + DS_ENTITY_HEADER, rec->state.data, rec->state.len);
    }

    rc = dsi_ready_move(txn, hub, DS_READY_ENTITY, old_ready_at,
                       rec->ready_at, (const unsigned char *) eid.data,
                       eid.len);

    if (rc == DS_OK) {
        key.mv_data = kb;
        key.mv_size = dsi_key_instance(kb, hub, eid);
        val.mv_data = buf;
        val.mv_size = size;

        rc = dsi_lmdb_rc(txn, dsi_put(txn, DS_DB_ENTITIES,
                                     &key, &val, 0));
    }

    if (buf != stack) {
        free(buf);
    }

    return rc;
}


/* for ds_check(): DS_ERROR when the record or its id is malformed */

int
dsi_entity_info(ds_str_t eid, const void *data, size_t len,
    int64_t *ready_at)
{
    ds_str_t   name, key;
    ds_erec_t  rec;

    if (ds_entity_split(eid, &name, &key) != DS_OK
        || ds_erec_decode(data, len, &rec) != DS_OK)
    {
        return DS_ERROR;
    }

    *ready_at = rec.ready_at;

    return DS_OK;
}


static int
ds_erec_decode(const void *data, size_t len, ds_erec_t *rec)
{
    size_t                header;
    const unsigned char  *p;

    p = data;

    if (len < 1) {
        return DS_ERROR;
    }

    header = p[0] == DS_ENTITY_V1 ? DS_ENTITY_HEADER_V1 : DS_ENTITY_HEADER;

    /* the state's length is the header's last 4 bytes in both versions */

    if (len < header || (p[0] != DS_ENTITY_VERSION && p[0] != DS_ENTITY_V1)
        || dsi_get_u32(p + header - 4) != len - header)
    {
        return DS_ERROR;
    }

    rec->has_state = (p[1] & DS_ENTITY_STATE) != 0;
    rec->last_op = dsi_get_i64(p + 4);
    rec->ready_at = dsi_get_i64(p + 12);
    rec->lease_expires = dsi_get_i64(p + 20);
    rec->lease_upto = dsi_get_u64(p + 28);
    rec->op_seq = dsi_get_u64(p + 36);
    memcpy(rec->lease, p + 44, DS_LEASE_LEN);
    memcpy(rec->done_lease, p + 60, DS_LEASE_LEN);
    rec->done_digest = p[0] == DS_ENTITY_V1 ? 0 : dsi_get_u64(p + 76);
    rec->state.data = (const char *) p + header;
    rec->state.len = len - header;

    return DS_OK;
}
