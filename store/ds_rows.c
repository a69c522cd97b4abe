
/*
 * Copyright (C) ngx_durable authors
 *
 * A hub's records as rows (ds_rows.h). The walk reads the tables that
 * hold records and skips the index tables, whose entries follow from the
 * records; the put writes a record with the entries it implies, through
 * the functions the operations use (dsi_instance_write() and the
 * activity's and entity's own), so the layout is known in one place.
 */


#include <string.h>

#include "ds_key.h"
#include "ds_rows.h"


static int ds_rows_record(void *data, unsigned table, ds_str_t key,
    ds_str_t value);
static int ds_rows_seq_key(ds_str_t key, ds_str_t *id, int64_t *n);
static int ds_rows_put_seq(ds_txn_t *txn, int db, ds_str_t hub,
    const ds_row_t *row);
static int ds_rows_put_timer(ds_txn_t *txn, ds_str_t hub,
    const ds_row_t *row);


typedef struct {
    ds_row_cb           cb;
    void               *data;
} ds_rows_walk_t;


static const char  *ds_row_kind_names[DS_ROW_KINDS] = {
    "instances", "history", "inbox", "activities", "timers", "entities",
    "entity_ops"
};


const char *
ds_row_kind_name(ds_row_kind_e kind)
{
    return (unsigned) kind < DS_ROW_KINDS ? ds_row_kind_names[kind] : NULL;
}


int
ds_rows_walk(ds_txn_t *txn, ds_str_t hub, ds_row_cb cb, void *data)
{
    ds_rows_walk_t  w;

    w.cb = cb;
    w.data = data;

    return ds_hub_walk(txn, hub, ds_rows_record, &w);
}


/* one record of ds_hub_walk(), its key without "hub 0" */

static int
ds_rows_record(void *data, unsigned table, ds_str_t key, ds_str_t value)
{
    ds_row_t         row;
    ds_rows_walk_t  *w = data;

    memset(&row, 0, sizeof(ds_row_t));

    switch (table) {

    case DS_DB_INSTANCES:
        row.kind = DS_ROW_INSTANCE;
        row.id = key;

        if (dsi_record_decode(value.data, value.len, &row.inst) != DS_OK) {
            return -1;
        }

        break;

    case DS_DB_HISTORY:
    case DS_DB_INBOX:
    case DS_DB_ENTITY_OPS:
        row.kind = table == DS_DB_HISTORY ? DS_ROW_HISTORY
                   : table == DS_DB_INBOX ? DS_ROW_INBOX : DS_ROW_ENTITY_OP;
        row.text = value;

        if (ds_rows_seq_key(key, &row.id, &row.n) != DS_OK) {
            return -1;
        }

        break;

    case DS_DB_ACTIVITIES:
        row.kind = DS_ROW_ACTIVITY;

        if (ds_rows_seq_key(key, &row.id, &row.n) != DS_OK
            || dsi_activity_decode(value.data, value.len, &row.act) != DS_OK)
        {
            return -1;
        }

        break;

    case DS_DB_TIMERS:
        /* due(8) id 0 timer_id(8) -> fire_at(8) [message] */
        row.kind = DS_ROW_TIMER;

        if (key.len < 8 || value.len < 8) {
            return -1;
        }

        row.due = dsi_created_dec(dsi_get_u64((const unsigned char *)
                                              key.data));
        row.fire_at = dsi_get_i64((const unsigned char *) value.data);

        /* a scheduled entity signal's message */
        row.text.data = value.data + 8;
        row.text.len = value.len - 8;
        key.data += 8;
        key.len -= 8;

        if (ds_rows_seq_key(key, &row.id, &row.n) != DS_OK) {
            return -1;
        }

        break;

    case DS_DB_ENTITIES:
        row.kind = DS_ROW_ENTITY;
        row.id = key;

        if (dsi_erec_decode(value.data, value.len, &row.ent) != DS_OK) {
            return -1;
        }

        break;

    default:
        /* by_created, by_status, ready, timer_ix: they follow */
        return 0;
    }

    return w->cb(w->data, &row);
}


/* "id 0 n(8)" */

static int
ds_rows_seq_key(ds_str_t key, ds_str_t *id, int64_t *n)
{
    const unsigned char  *p;

    p = (const unsigned char *) key.data;

    if (key.len < 10 || p[key.len - 9] != '\0') {
        return DS_ERROR;
    }

    id->data = key.data;
    id->len = key.len - 9;
    *n = (int64_t) dsi_get_u64(p + key.len - 8);

    return DS_OK;
}


int
ds_rows_put(ds_txn_t *txn, ds_str_t hub, const ds_row_t *row)
{
    switch (row->kind) {

    case DS_ROW_INSTANCE:
        return dsi_instance_write(txn, hub, row->id, &row->inst, NULL);

    case DS_ROW_HISTORY:
        return ds_rows_put_seq(txn, DS_DB_HISTORY, hub, row);

    case DS_ROW_INBOX:
        return ds_rows_put_seq(txn, DS_DB_INBOX, hub, row);

    case DS_ROW_ENTITY_OP:
        return ds_rows_put_seq(txn, DS_DB_ENTITY_OPS, hub, row);

    case DS_ROW_ACTIVITY:
        return dsi_activity_write(txn, hub, row->id, row->n, &row->act);

    case DS_ROW_TIMER:
        return ds_rows_put_timer(txn, hub, row);

    case DS_ROW_ENTITY:
        return dsi_erec_write(txn, hub, row->id, &row->ent);

    default:
        return DS_INVALID;
    }
}


static int
ds_rows_put_seq(ds_txn_t *txn, int db, ds_str_t hub, const ds_row_t *row)
{
    MDB_val        key, val;
    unsigned char  kb[DS_KEY_BUF];

    if (!dsi_key_valid(hub, row->id) || row->n < 0 || row->text.len == 0) {
        return DS_INVALID;
    }

    key.mv_data = kb;
    key.mv_size = dsi_key_seq(kb, hub, row->id, (uint64_t) row->n);
    val.mv_data = (void *) row->text.data;
    val.mv_size = row->text.len;

    return dsi_lmdb_rc(txn, dsi_put(txn, db, &key, &val, 0));
}


/*
 * The timer and its entry in timer_ix, as dsi_timer_create() makes them,
 * or dsi_timer_signal() when it carries an entity's message
 */

static int
ds_rows_put_timer(ds_txn_t *txn, ds_str_t hub, const ds_row_t *row)
{
    int            rc;
    MDB_val        key, val;
    ds_buf_t       b;
    unsigned char  kb[DS_KEY_BUF], vb[8];

    if (!dsi_key_valid(hub, row->id) || row->n < 0
        || (row->text.len
            && (row->id.len == 0 || row->id.data[0] != '@')))
    {
        return DS_INVALID;
    }

    dsi_buf_init(&b);
    dsi_put_i64(vb, row->fire_at);
    dsi_buf_add(&b, (const char *) vb, 8);
    dsi_buf_add(&b, row->text.data, row->text.len);

    if (b.oom) {
        dsi_buf_free(&b);
        dsi_txn_set_error(txn, "out of memory");
        return DS_ERROR;
    }

    key.mv_data = kb;
    key.mv_size = dsi_key_timer(kb, hub, row->due, row->id, row->n);
    val.mv_data = b.data;
    val.mv_size = b.len;

    rc = dsi_put(txn, DS_DB_TIMERS, &key, &val, 0);

    dsi_buf_free(&b);

    if (rc != 0) {
        return dsi_lmdb_rc(txn, rc);
    }

    key.mv_size = dsi_key_seq(kb, hub, row->id, (uint64_t) row->n);
    dsi_put_i64(vb, row->due);
    val.mv_data = vb;
    val.mv_size = 8;

    return dsi_lmdb_rc(txn, dsi_put(txn, DS_DB_TIMER_IX, &key, &val, 0));
}
