/*
 * Copyright (C) ngx_durable authors
 *
 * History: the events an instance has gone through, in order.
 */


#include "ds_internal.h"


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
