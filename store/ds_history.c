/*
 * Copyright (C) ngx_durable authors
 *
 * History: the events an instance has gone through, in order.
 */


#include "ds_internal.h"


typedef struct {
    ds_event_cb         cb;
    void               *data;
    size_t              max_events;
    size_t              max_bytes;
    size_t              events;
    size_t              bytes;
    uint64_t            next;
} ds_chunk_t;


static int ds_history_chunk_one(ds_txn_t *txn, uint64_t seq,
    const MDB_val *val, void *data);


int
ds_history_append(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_str_t event, uint64_t *seq)
{
    return dsi_seq_append(txn, DS_DB_HISTORY, hub, id, event, seq);
}


int
ds_history_read(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_event_cb cb, void *data)
{
    return dsi_seq_read(txn, DS_DB_HISTORY, hub, id, cb, data);
}


int
ds_history_clear(ds_txn_t *txn, ds_str_t hub, ds_str_t id)
{
    return dsi_seq_delete(txn, DS_DB_HISTORY, hub, id, UINT64_MAX);
}


/*
 * One chunk of a history: the events from seq "from" on, while they fit
 * the bounds. *next is the seq of the first event left out, 0 when the
 * history was read to its end.
 */

int
ds_history_chunk(ds_txn_t *txn, ds_str_t hub, ds_str_t id, uint64_t from,
    size_t max_events, size_t max_bytes, ds_event_cb cb, void *data,
    uint64_t *next)
{
    int         rc;
    ds_chunk_t  ch;

    ch.cb = cb;
    ch.data = data;
    ch.max_events = max_events;
    ch.max_bytes = max_bytes;
    ch.events = 0;
    ch.bytes = 0;
    ch.next = 0;

    rc = dsi_seq_each_from(txn, DS_DB_HISTORY, hub, id, from, UINT64_MAX,
                           ds_history_chunk_one, &ch);

    *next = (rc == DS_OK) ? ch.next : 0;

    return rc;
}


static int
ds_history_chunk_one(ds_txn_t *txn, uint64_t seq, const MDB_val *val,
    void *data)
{
    ds_str_t     event;
    ds_chunk_t  *ch;

    ch = data;

    /* the first event of a chunk is read whatever its size */

    if (ch->events
        && ((ch->max_events && ch->events == ch->max_events)
            || (ch->max_bytes && ch->bytes + val->mv_size > ch->max_bytes)))
    {
        ch->next = seq;
        return DS_OK;
    }

    event.data = val->mv_data;
    event.len = val->mv_size;

    if (ch->cb(ch->data, seq, event) != 0) {
        dsi_txn_set_error(txn, "stopped by the callback");
        return DS_ERROR;
    }

    ch->events++;
    ch->bytes += val->mv_size;

    return DSI_EACH_NEXT;
}
