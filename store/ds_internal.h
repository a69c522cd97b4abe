/*
 * Copyright (C) ngx_durable authors
 *
 * Store internals shared by the ds_*.c files; not part of the public API.
 */


#ifndef DS_INTERNAL_H
#define DS_INTERNAL_H


#include <lmdb.h>

#include "durable_store.h"


/* named databases, opened once by ds_env_open */
enum {
    DS_DB_INSTANCES = 0,
    DS_DB_BY_CREATED,
    DS_DB_BY_STATUS,
    DS_DB_HISTORY,
    DS_DB_INBOX,
    DS_DB_COUNT
};

#define DS_MAX_DBS          16
#define DS_ERR_LEN          160


struct ds_env_s {
    MDB_env            *env;
    MDB_dbi             dbi[DS_DB_COUNT];
    char               *path;
};


struct ds_txn_s {
    ds_env_t           *env;
    MDB_txn            *txn;
    int                 write;
    char                err[DS_ERR_LEN];
};


#define ds_dbi(txn, db)     ((txn)->env->dbi[db])


/* ds_env.c */
int ds_lmdb_rc(ds_txn_t *txn, int rc);
void ds_txn_set_error(ds_txn_t *txn, const char *what);


/* ds_record.c: the versioned instance record */
size_t ds_record_size(const ds_instance_t *inst);
void ds_record_encode(const ds_instance_t *inst, unsigned char *p);
int ds_record_decode(const void *data, size_t len, ds_instance_t *inst);


/* ds_instance.c */
int ds_instance_remove(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    const ds_instance_t *old);


/* ds_seq.c: per-instance sequences (history, inbox) */
int ds_seq_append(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    ds_str_t value, uint64_t *seq);
int ds_seq_read(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    ds_event_cb cb, void *data);
int ds_seq_delete(ds_txn_t *txn, int db, ds_str_t hub, ds_str_t id,
    uint64_t upto);


/* ds_json.c */
size_t ds_json_minify(const char *in, size_t len, char *out);


#endif /* DS_INTERNAL_H */
