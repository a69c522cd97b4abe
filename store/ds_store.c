/*
 * Copyright (C) ngx_durable authors
 *
 * The store as front ends see it: open a backend, submit ops, learn how
 * many are pending. What is common to every backend lives here: the
 * count of pending ops that keeps an exiting host process alive, the
 * promise that each op is answered exactly once, and the log hook. The
 * backends are behind dsi_backend_t (ds_backend.h).
 */


#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_backend.h"
#include "ds_internal.h"


int
ds_store_open(ds_store_t **stp, const ds_store_conf_t *conf,
    const ds_host_t *host, char *err, size_t errlen)
{
    int                   rc;
    ds_store_t           *st;
    const dsi_backend_t  *backend;

    *stp = NULL;

    switch (conf->backend) {

    case DS_BACKEND_LMDB:
        backend = &dsi_backend_lmdb;
        break;

#ifdef DS_HAVE_PG
    case DS_BACKEND_POSTGRES:
        backend = &dsi_backend_pg;
        break;
#endif

    default:
        backend = NULL;
        break;
    }

    if (backend == NULL || host->post == NULL || host->timer == NULL
        || host->cancel == NULL || host->init == NULL)
    {
        snprintf(err, errlen, "no such backend in this build, or a host "
                 "without posts and timers");
        return DS_INVALID;
    }

    st = calloc(1, sizeof(ds_store_t));
    if (st == NULL) {
        snprintf(err, errlen, "out of memory");
        return DS_ERROR;
    }

    st->backend = backend;
    st->host = *host;
    snprintf(st->name, sizeof(st->name), "%s",
             conf->name ? conf->name : "");

    rc = st->backend->open(st, conf, err, errlen);
    if (rc != DS_OK) {
        free(st);
        return rc;
    }

    dsi_store_log(st, DS_LOG_DEBUG, "durable store \"%s\": opened, %s",
                  st->name, st->backend->name);

    *stp = st;

    return DS_OK;
}


void
ds_store_submit(ds_store_t *st, ds_op_t *op, unsigned flags)
{
    /* done()'s accessors (ds_op_history(), ...) ask this backend */
    op->store = st;

    st->backend->submit(st, op, flags);
}


size_t
ds_store_busy(const ds_store_t *st)
{
    return st->busy;
}


size_t
ds_store_batch(const ds_store_t *st)
{
    return st->batch;
}


int
ds_store_readers(ds_store_t *st, unsigned *used, unsigned *max)
{
    if (st->backend->readers == NULL) {
        return DS_INVALID;
    }

    return st->backend->readers(st, used, max);
}


int
ds_store_reader_check(ds_store_t *st, int *dead)
{
    if (st->backend->reader_check == NULL) {
        return DS_INVALID;
    }

    return st->backend->reader_check(st, dead);
}


void
ds_store_close(ds_store_t *st)
{
    if (st == NULL) {
        return;
    }

    dsi_store_log(st, DS_LOG_DEBUG, "durable store \"%s\": closed, %zu "
                  "ops pending", st->name, st->busy);

    st->backend->close(st);
    free(st);
}


void
dsi_store_take(ds_store_t *st, ds_op_t *op)
{
    (void) op;

    if (st->busy++ == 0 && st->host.pending != NULL) {
        st->host.pending(st->host.data, 1);
    }
}


void
dsi_store_answer(ds_store_t *st, ds_op_t *op)
{
    /* counted until after done(): an op it submits keeps the store busy */

    op->done(op);

    dsi_store_answered(st, op);
}


void
dsi_store_answered(ds_store_t *st, ds_op_t *op)
{
    (void) op;

    if (--st->busy == 0 && st->host.pending != NULL) {
        st->host.pending(st->host.data, 0);
    }
}


int
dsi_store_logs(const ds_store_t *st, ds_log_e level)
{
    return st->host.log != NULL && level <= st->host.log_level;
}


void
dsi_store_log(ds_store_t *st, ds_log_e level, const char *fmt, ...)
{
    char     msg[DS_STORE_LOG_LEN];
    va_list  args;

    if (!dsi_store_logs(st, level)) {
        return;
    }

    va_start(args, fmt);
    vsnprintf(msg, sizeof(msg), fmt, args);
    va_end(args);

    st->host.log(st->host.data, level, msg);
}


/* ds_store_flushes_fail()'s stand-in for fdatasync() */

static int
ds_store_flush_fails(int fd)
{
    (void) fd;

    errno = EIO;

    return -1;
}


void
ds_store_flushes_fail(void)
{
    dsi_fdatasync = ds_store_flush_fails;
}
