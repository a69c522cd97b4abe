/*
 * Copyright (C) ngx_durable authors
 *
 * What a backend implements behind ds_store_t (durable_store.h), and the
 * helpers ds_store.c gives it. Private to the library: dsi_ names. A
 * second backend adds a dsi_backend_t, a value of ds_backend_e and a case
 * in ds_store_open(); front ends do not change.
 */


#ifndef DS_BACKEND_H
#define DS_BACKEND_H


#include "durable_store.h"


#define DS_STORE_NAME_LEN   64
#define DS_STORE_LOG_LEN    256

/*
 * an op's address in debug lines, "op:%0*" PRIXPTR: as nginx's %p prints
 * it (upper-case hex, zero-padded), so that the glue's lines and the
 * store's can be matched
 */
#define DSI_PTR_WIDTH       ((int) (2 * sizeof(void *)))


/*
 * open      fills st->be from conf; DS_OK, or an error with err filled.
 * submit    takes op as ds_store_submit() says; a read that it answers at
 *           once calls op->done() itself; every op it keeps calls
 *           dsi_store_take() now and dsi_store_answer() once done.
 * readers, reader_check: may be NULL (DS_INVALID).
 * close     cancels the backend's events and frees st->be.
 *
 * The rest serve ds_op_history() and the other accessors of
 * durable_store.h that a front end calls during done() (a claim: during
 * its item callback), through the op's store (op->store): each reads the
 * answer wherever the backend keeps it (LMDB: the txn in op->backend).
 * ds_op.c checks the op's type first. NULL: DS_INVALID (error: the
 * text of op->rc).
 */
typedef struct {
    const char         *name;
    int               (*open)(ds_store_t *st, const ds_store_conf_t *conf,
                            char *err, size_t errlen);
    void              (*submit)(ds_store_t *st, ds_op_t *op,
                            unsigned flags);
    int               (*readers)(ds_store_t *st, unsigned *used,
                            unsigned *max);
    int               (*reader_check)(ds_store_t *st, int *dead);
    void              (*close)(ds_store_t *st);

    int               (*history)(ds_op_t *op, ds_event_cb cb, void *data);
    int               (*item_events)(ds_op_t *op, const ds_work_item_t *item,
                            ds_list_e list, ds_event_cb cb, void *data);
    const char       *(*error)(const ds_op_t *op);
    int               (*counts_each)(ds_op_t *op, ds_count_cb cb,
                            void *data);
    int               (*ready_oldest)(ds_op_t *op, ds_str_t hub,
                            ds_work_kind_e kind, int64_t *at);
    int               (*timers_total)(ds_op_t *op, uint64_t *n);
    int               (*space)(ds_op_t *op, ds_space_t *sp);
    int               (*snapshot)(ds_op_t *op, ds_snapshot_t *snap);
} dsi_backend_t;


struct ds_store_s {
    const dsi_backend_t  *backend;
    ds_host_t             host;
    char                  name[DS_STORE_NAME_LEN];
    size_t                busy;         /* taken, not answered */
    size_t                batch;        /* during a write's done() */
    void                 *be;           /* the backend's */
};


extern const dsi_backend_t  dsi_backend_lmdb;
#ifdef DS_HAVE_PG
/* store/pg/ds_store_pg.c, built with libpq and -DDS_HAVE_PG */
extern const dsi_backend_t  dsi_backend_pg;
#endif


/* whether ds_op_read() answers the type (ds_op.c) */
int dsi_op_is_read(ds_op_type_e type);
/*
 * an op the backend answers later, counted as pending; NULL: work of its
 * own that closing must wait for (a flush task)
 */
void dsi_store_take(ds_store_t *st, ds_op_t *op);
/* calls op->done() of a taken op, exactly once */
void dsi_store_answer(ds_store_t *st, ds_op_t *op);
/* a taken op whose done() the backend called itself */
void dsi_store_answered(ds_store_t *st, ds_op_t *op);
/* a line for the host's log, printf-like, when the host wants the level */
void dsi_store_log(ds_store_t *st, ds_log_e level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
int dsi_store_logs(const ds_store_t *st, ds_log_e level);


#endif /* DS_BACKEND_H */
