
/*
 * Copyright (C) ngx_durable authors
 *
 * A hub's records as rows, one table per kind of record: what a store
 * laid out as tables with columns (the PostgreSQL backend, store/pg/)
 * holds. For the operators' tool, which moves hubs between the backends
 * (cli/durable_pg.c): ds_rows_walk() reads an LMDB hub as rows, and
 * ds_rows_put() writes a row into an LMDB hub with its index entries
 * (by_created, by_status, ready, timer_ix), so that a hub written row by
 * row checks consistent (ds_check_txn) when the rows were.
 */


#ifndef DS_ROWS_H
#define DS_ROWS_H


#include "ds_internal.h"


typedef enum {
    DS_ROW_INSTANCE = 0,
    DS_ROW_HISTORY,
    DS_ROW_INBOX,
    DS_ROW_ACTIVITY,
    DS_ROW_TIMER,
    DS_ROW_ENTITY,
    DS_ROW_ENTITY_OP,
    DS_ROW_KINDS
} ds_row_kind_e;


/* strings point into the store (a walk) or the caller's memory (a put) */
typedef struct {
    ds_row_kind_e       kind;
    ds_str_t            id;         /* instance id; entity "@name@key" */
    int64_t             n;          /* seq, task id or timer id */
    ds_str_t            text;       /* history event, inbox message,
                                       queued entity operation; the
                                       message a timer carries (a
                                       scheduled entity signal), or
                                       empty */
    int64_t             due;        /* timer: when it is fired */
    int64_t             fire_at;    /* timer: its FireAt */
    ds_instance_t       inst;
    ds_activity_t       act;
    ds_erec_t           ent;
} ds_row_t;


typedef int (*ds_row_cb)(void *data, const ds_row_t *row);

/* the rows of one hub, kind by kind in ds_row_kind_e order, each in key
   order; a callback's non-zero answer stops the walk (DS_ERROR) */
int ds_rows_walk(ds_txn_t *txn, ds_str_t hub, ds_row_cb cb, void *data);

/* DS_INVALID for a row no record can hold; a record there is replaced */
int ds_rows_put(ds_txn_t *txn, ds_str_t hub, const ds_row_t *row);

const char *ds_row_kind_name(ds_row_kind_e kind);


#endif /* DS_ROWS_H */
