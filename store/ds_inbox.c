/*
 * Copyright (C) ngx_durable authors
 *
 * Inbox: messages waiting for the worker, consumed in order.
 */


#include "ds_internal.h"


int
ds_inbox_append(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_str_t message, uint64_t *seq)
{
    return ds_seq_append(txn, DS_DB_INBOX, hub, id, message, seq);
}


int
ds_inbox_read(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_event_cb cb, void *data)
{
    return ds_seq_read(txn, DS_DB_INBOX, hub, id, cb, data);
}


int
ds_inbox_consume(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    uint64_t upto_seq)
{
    return ds_seq_delete(txn, DS_DB_INBOX, hub, id, upto_seq);
}


int
ds_inbox_clear(ds_txn_t *txn, ds_str_t hub, ds_str_t id)
{
    return ds_seq_delete(txn, DS_DB_INBOX, hub, id, UINT64_MAX);
}
