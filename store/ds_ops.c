/*
 * Copyright (C) ngx_durable authors
 *
 * Lifecycle operations. Each checks first and writes after, so the
 * DS_NOTFOUND, DS_CONFLICT, DS_GONE and DS_PRECONDITION answers leave the
 * transaction untouched; after any other error the caller aborts it.
 */


#include <stdlib.h>
#include <string.h>

#include "ds_internal.h"


static int ds_event_build(ds_txn_t *txn, const char *type, int64_t now,
    const char *name_field, ds_str_t name, const char *json_field,
    ds_str_t json, ds_str_t *event);
static char *ds_cpy(char *p, const char *s, size_t len);
static int ds_op_get_active(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_instance_t *inst);
static int ds_op_update(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    const ds_instance_t *inst, int history, int clear_inbox,
    ds_str_t event);


int
ds_op_start(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_str_t name,
    ds_str_t input, int64_t now, ds_instance_t *inst)
{
    int            rc, existed;
    uint64_t       execution;
    ds_str_t       event;
    ds_instance_t  old, rec;

    if (name.len > DS_NAME_MAX) {
        return DS_INVALID;
    }

    rc = ds_instance_get(txn, hub, id, &old);

    if (rc == DS_OK) {
        if (!ds_status_is_terminal(old.status)) {
            *inst = old;
            return DS_CONFLICT;
        }

        execution = old.execution + 1;
        existed = 1;

    } else if (rc == DS_NOTFOUND) {
        execution = 1;
        existed = 0;

    } else {
        return rc;
    }

    /* the event and the record copy name and input before any write */

    rc = ds_event_build(txn, "ExecutionStarted", now, "Name", name, "Input",
                        input, &event);
    if (rc != DS_OK) {
        return rc;
    }

    memset(&rec, 0, sizeof(ds_instance_t));
    rec.status = DS_PENDING;
    rec.suspended_from = DS_PENDING;
    rec.created = now;
    rec.updated = now;
    rec.execution = execution;
    rec.name = name;
    rec.input = input;

    rc = ds_instance_put(txn, hub, id, &rec);

    if (rc == DS_OK && existed) {
        rc = ds_history_clear(txn, hub, id);

        if (rc == DS_OK) {
            rc = ds_inbox_clear(txn, hub, id);
        }
    }

    if (rc == DS_OK) {
        rc = ds_inbox_append(txn, hub, id, event, NULL);
    }

    free((void *) event.data);

    if (rc == DS_OK) {
        *inst = rec;
    }

    return rc;
}


int
ds_op_raise_event(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_str_t name,
    ds_str_t data, int64_t now)
{
    int            rc;
    ds_str_t       event;
    ds_instance_t  inst;

    if (name.len > DS_NAME_MAX) {
        return DS_INVALID;
    }

    rc = ds_op_get_active(txn, hub, id, &inst);
    if (rc != DS_OK) {
        return rc;
    }

    rc = ds_event_build(txn, "EventRaised", now, "Name", name, "Input", data,
                        &event);
    if (rc != DS_OK) {
        return rc;
    }

    rc = ds_inbox_append(txn, hub, id, event, NULL);

    free((void *) event.data);

    return rc;
}


int
ds_op_terminate(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_str_t reason,
    int64_t now)
{
    int            rc;
    ds_str_t       event, none;
    ds_instance_t  inst;

    rc = ds_op_get_active(txn, hub, id, &inst);
    if (rc != DS_OK) {
        return rc;
    }

    none.data = NULL;
    none.len = 0;

    rc = ds_event_build(txn, "ExecutionTerminated", now, NULL, none, "Input",
                        reason, &event);
    if (rc != DS_OK) {
        return rc;
    }

    inst.status = DS_TERMINATED;
    inst.output = reason;
    inst.updated = now;

    return ds_op_update(txn, hub, id, &inst, 1, 1, event);
}


int
ds_op_suspend(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_str_t reason,
    int64_t now)
{
    int            rc;
    ds_str_t       event, none;
    ds_instance_t  inst;

    rc = ds_op_get_active(txn, hub, id, &inst);
    if (rc != DS_OK) {
        return rc;
    }

    if (inst.status == DS_SUSPENDED) {
        return DS_OK;
    }

    none.data = NULL;
    none.len = 0;

    rc = ds_event_build(txn, "ExecutionSuspended", now, NULL, none,
                        "Reason", reason, &event);
    if (rc != DS_OK) {
        return rc;
    }

    inst.suspended_from = inst.status;
    inst.status = DS_SUSPENDED;
    inst.updated = now;

    return ds_op_update(txn, hub, id, &inst, 1, 0, event);
}


int
ds_op_resume(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_str_t reason,
    int64_t now)
{
    int            rc;
    ds_str_t       event, none;
    ds_instance_t  inst;

    rc = ds_op_get_active(txn, hub, id, &inst);
    if (rc != DS_OK) {
        return rc;
    }

    if (inst.status != DS_SUSPENDED) {
        return DS_OK;
    }

    none.data = NULL;
    none.len = 0;

    rc = ds_event_build(txn, "ExecutionResumed", now, NULL, none, "Reason",
                        reason, &event);
    if (rc != DS_OK) {
        return rc;
    }

    inst.status = inst.suspended_from;

    if (inst.status == DS_SUSPENDED) {
        /* not written by ds_op_suspend(); be safe with old records */
        inst.status = DS_RUNNING;
    }

    inst.updated = now;

    return ds_op_update(txn, hub, id, &inst, 1, 0, event);
}


int
ds_op_rewind(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_str_t reason,
    int64_t now)
{
    int            rc;
    ds_str_t       event, none;
    ds_instance_t  inst;

    rc = ds_instance_get(txn, hub, id, &inst);
    if (rc != DS_OK) {
        return rc;
    }

    if (inst.status != DS_FAILED) {
        return ds_status_is_terminal(inst.status) ? DS_GONE
                                                  : DS_PRECONDITION;
    }

    none.data = NULL;
    none.len = 0;

    rc = ds_event_build(txn, "ExecutionRewound", now, NULL, none, "Reason",
                        reason, &event);
    if (rc != DS_OK) {
        return rc;
    }

    inst.status = DS_RUNNING;
    inst.updated = now;

    return ds_op_update(txn, hub, id, &inst, 0, 0, event);
}


int
ds_op_purge(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_status_e *status)
{
    int            rc;
    ds_instance_t  inst;

    rc = ds_instance_get(txn, hub, id, &inst);
    if (rc != DS_OK) {
        return rc;
    }

    *status = inst.status;

    if (!ds_status_is_terminal(inst.status)) {
        return DS_PRECONDITION;
    }

    return ds_instance_remove(txn, hub, id, &inst);
}


/* DS_NOTFOUND if missing, DS_GONE if terminal */

static int
ds_op_get_active(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_instance_t *inst)
{
    int  rc;

    rc = ds_instance_get(txn, hub, id, inst);
    if (rc != DS_OK) {
        return rc;
    }

    return ds_status_is_terminal(inst->status) ? DS_GONE : DS_OK;
}


/* writes the record, then the event to the history or the inbox */

static int
ds_op_update(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    const ds_instance_t *inst, int history, int clear_inbox, ds_str_t event)
{
    int  rc;

    rc = ds_instance_put(txn, hub, id, inst);

    if (rc == DS_OK && clear_inbox) {
        rc = ds_inbox_clear(txn, hub, id);
    }

    if (rc == DS_OK) {
        if (history) {
            rc = ds_history_append(txn, hub, id, event, NULL);

        } else {
            rc = ds_inbox_append(txn, hub, id, event, NULL);
        }
    }

    free((void *) event.data);

    return rc;
}


/*
 * {"EventType":"<type>","Timestamp":"<now>"[,"<name_field>":"<name>"],
 *  "<json_field>":<json|null>}; event->data is malloc()ed.
 */

static int
ds_event_build(ds_txn_t *txn, const char *type, int64_t now,
    const char *name_field, ds_str_t name, const char *json_field,
    ds_str_t json, ds_str_t *event)
{
    char    *buf, *p;
    size_t   size, tlen;

    tlen = strlen(type);

    size = sizeof("{\"EventType\":\"\",\"Timestamp\":\"\"") - 1 + tlen
           + DS_TIME_FRAC_LEN
           + sizeof(",\"\":") - 1 + strlen(json_field)
           + (json.len ? json.len : 4) + 1;

    if (name_field) {
        size += sizeof(",\"\":\"\"") - 1 + strlen(name_field)
                + ds_json_escape_len(name.data, name.len);
    }

    buf = malloc(size + 1);
    if (buf == NULL) {
        ds_txn_set_error(txn, "out of memory");
        return DS_ERROR;
    }

    p = ds_cpy(buf, "{\"EventType\":\"", 14);
    p = ds_cpy(p, type, tlen);
    p = ds_cpy(p, "\",\"Timestamp\":\"", 15);
    p += ds_time_format_frac(now, p);
    *p++ = '"';

    if (name_field) {
        p = ds_cpy(p, ",\"", 2);
        p = ds_cpy(p, name_field, strlen(name_field));
        p = ds_cpy(p, "\":\"", 3);
        p += ds_json_escape(name.data, name.len, p);
        *p++ = '"';
    }

    p = ds_cpy(p, ",\"", 2);
    p = ds_cpy(p, json_field, strlen(json_field));
    p = ds_cpy(p, "\":", 2);

    if (json.len) {
        p = ds_cpy(p, json.data, json.len);

    } else {
        p = ds_cpy(p, "null", 4);
    }

    *p++ = '}';

    event->data = buf;
    event->len = (size_t) (p - buf);

    return DS_OK;
}


static char *
ds_cpy(char *p, const char *s, size_t len)
{
    if (len) {
        memcpy(p, s, len);
    }

    return p + len;
}
