/*
 * Copyright (C) ngx_durable authors
 *
 * Starting orchestrations and sub-orchestrations, telling a parent that a
 * sub-orchestration finished, and dropping the pending work of an
 * execution that ended.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_internal.h"


/*
 * Creates the record (or replaces a terminal one: a new execution with an
 * empty history, inbox and no pending work, and the entity locks the old
 * one may still hold released) with an ExecutionStarted
 * message, ready now or at the scheduled start. An active instance:
 * DS_CONFLICT, *inst = its record. The strings of s may point into the
 * map: the record is the first write.
 */

int
dsi_start(ds_txn_t *txn, ds_str_t hub, ds_str_t id, const dsi_start_t *s,
    int64_t now, ds_instance_t *inst)
{
    int            rc, existed;
    int64_t        at;
    uint64_t       seq;
    ds_buf_t       b;
    ds_str_t       event;
    ds_instance_t  old, rec;

    if (s->name.len > DS_NAME_MAX || s->parent_id.len > DS_ID_MAX
        || s->version.len > DS_NAME_MAX || s->parent_name.len > DS_NAME_MAX
        || s->parent_version.len > DS_NAME_MAX)
    {
        return DS_INVALID;
    }

    rc = ds_instance_get(txn, hub, id, &old);

    memset(&rec, 0, sizeof(ds_instance_t));

    if (rc == DS_OK) {
        if (!ds_status_is_terminal(old.status)) {
            *inst = old;
            return DS_CONFLICT;
        }

        /* counters and the last completion outlive the execution */
        rec.execution = old.execution + 1;
        rec.inbox_seq = old.inbox_seq;
        rec.done_status = old.done_status;
        memcpy(rec.done_lease, old.done_lease, DS_LEASE_LEN);
        rec.done_digest = old.done_digest;
        existed = 1;

    } else if (rc == DS_NOTFOUND) {
        rec.execution = 1;
        rec.done_status = DS_PENDING;
        existed = 0;

    } else {
        return rc;
    }

    if (rec.inbox_seq == UINT64_MAX) {
        dsi_txn_set_error(txn, "inbox sequence exhausted");
        return DS_ERROR;
    }

    /* a start scheduled for later is Pending and invisible until then */
    at = (s->scheduled > now) ? s->scheduled : now;

    /* the event and the record copy the strings before any write */

    dsi_buf_init(&b);
    dsi_ev_begin(&b, "ExecutionStarted", -1, now);
    dsi_ev_str(&b, "Name", s->name);
    dsi_ev_json(&b, "Input", s->input);

    if (s->version.len) {
        dsi_ev_str(&b, "Version", s->version);
    }

    if (s->tags.len) {
        dsi_ev_json(&b, "Tags", s->tags);
    }

    if (s->scheduled > now) {
        dsi_ev_time(&b, "ScheduledStartTime", s->scheduled);
    }

    dsi_ev_parent(&b, s);

    rc = dsi_ev_end(txn, &b, &event);
    if (rc != DS_OK) {
        dsi_buf_free(&b);
        return rc;
    }

    rec.status = DS_PENDING;
    rec.suspended_from = DS_PENDING;
    rec.created = now;
    rec.updated = now;
    rec.name = s->name;
    rec.input = s->input;
    rec.version = s->version;
    rec.tags = s->tags;
    rec.scheduled_start = (s->scheduled > now) ? s->scheduled : 0;
    rec.parent_id = s->parent_id;
    rec.parent_task = s->parent_id.len ? s->parent_task : -1;
    rec.parent_execution = s->parent_id.len ? s->parent_execution : 0;
    rec.parent_created = s->parent_id.len ? s->parent_created : 0;
    rec.ready_at = dsi_ready_time(at);

    /* the old inbox is cleared: the new message follows the counter */
    seq = rec.inbox_seq + 1;
    rec.inbox_seq = seq;

    /* nothing was written since old was read */
    rc = dsi_instance_write(txn, hub, id, &rec, existed ? &old : NULL);

    if (rc == DS_OK && existed) {
        rc = dsi_entity_history_drop(txn, hub, id, now);

        if (rc == DS_OK) {
            rc = ds_inbox_clear(txn, hub, id);
        }

        if (rc == DS_OK) {
            rc = dsi_drop_work(txn, hub, id, 1);
        }
    }

    if (rc == DS_OK) {
        rc = dsi_seq_put(txn, DS_DB_INBOX, hub, id, seq, event);
    }

    dsi_buf_free(&b);

    if (rc == DS_OK) {
        *inst = rec;
    }

    return rc;
}


/*
 * The ParentInstance member of a sub-orchestration's ExecutionStarted, as
 * the Durable Task Framework records it: {Name, Version, TaskScheduleId,
 * OrchestrationInstance: {InstanceId, ExecutionId}}. The SDKs give the
 * child its parent from it. Nothing without a parent.
 */

void
dsi_ev_parent(ds_buf_t *b, const dsi_start_t *s)
{
    int       n;
    char      num[24];
    ds_str_t  exec;
    ds_buf_t  inst, parent;

    if (s->parent_id.len == 0) {
        return;
    }

    n = snprintf(num, sizeof(num), "%llu",
                 (unsigned long long) s->parent_execution);
    exec.data = num;
    exec.len = (size_t) n;

    dsi_buf_init(&inst);
    dsi_ev_open(&inst);
    dsi_ev_str(&inst, "InstanceId", s->parent_id);
    dsi_ev_str(&inst, "ExecutionId", exec);
    dsi_buf_add(&inst, "}", 1);

    dsi_buf_init(&parent);
    dsi_ev_open(&parent);
    dsi_ev_str(&parent, "Name", s->parent_name);

    if (s->parent_version.len) {
        dsi_ev_str(&parent, "Version", s->parent_version);
    }

    dsi_ev_int(&parent, "TaskScheduleId", s->parent_task);

    if (!inst.oom) {
        exec.data = inst.data;
        exec.len = inst.len;
        dsi_ev_json(&parent, "OrchestrationInstance", exec);
    }

    dsi_buf_add(&parent, "}", 1);

    if (inst.oom || parent.oom) {
        /* the event's end reports it */
        b->oom = 1;

    } else {
        exec.data = parent.data;
        exec.len = parent.len;
        dsi_ev_json(b, "ParentInstance", exec);
    }

    dsi_buf_free(&inst);
    dsi_buf_free(&parent);
}


/*
 * SubOrchestrationInstanceCompleted {TaskScheduledId, Result} or
 * SubOrchestrationInstanceFailed {TaskScheduledId, Reason, Details} to the
 * parent, if it still runs the execution that started the child: the
 * same execution number and, when the child knows it (parent_created not
 * 0), the same created time. A parent purged and started again under its
 * id numbers its executions from 1 again, and its own children's task
 * ids may be the old child's: only its created time tells it apart. The
 * arguments must not point into the map.
 */

int
dsi_notify_parent(ds_txn_t *txn, ds_str_t hub, ds_str_t parent_id,
    int64_t parent_task, uint64_t parent_execution, int64_t parent_created,
    int failed, ds_str_t result, ds_str_t reason, ds_str_t details,
    int64_t now)
{
    int       rc;
    ds_buf_t  b;
    ds_str_t  msg;

    if (parent_id.len == 0) {
        return DS_OK;
    }

    dsi_buf_init(&b);

    if (failed) {
        rc = dsi_ev_sub_failed(txn, &b, parent_task, reason, 1, details, now,
                               &msg);

    } else {
        dsi_ev_begin(&b, "SubOrchestrationInstanceCompleted", -1, now);
        dsi_ev_int(&b, "TaskScheduledId", parent_task);
        dsi_ev_json(&b, "Result", result);

        rc = dsi_ev_end(txn, &b, &msg);
    }

    if (rc == DS_OK) {
        rc = dsi_inbox_deliver(txn, hub, parent_id, parent_execution,
                               parent_created, msg, now, 0);
    }

    dsi_buf_free(&b);

    return rc;
}


/*
 * SubOrchestrationInstanceFailed {TaskScheduledId, Reason, Details} in b,
 * the answer to the parent's task task, however the child failed: it ran
 * and failed or was terminated (dsi_notify_parent()), its start was
 * refused (an active instance has its id), or a rewind cannot take it
 * again (its id belongs to another instance now). reason is text, written
 * escaped, or with reason_json JSON text written as it is (null when
 * empty); details is JSON text (null when empty). *msg points into b.
 */

int
dsi_ev_sub_failed(ds_txn_t *txn, ds_buf_t *b, int64_t task, ds_str_t reason,
    int reason_json, ds_str_t details, int64_t now, ds_str_t *msg)
{
    dsi_ev_begin(b, "SubOrchestrationInstanceFailed", -1, now);
    dsi_ev_int(b, "TaskScheduledId", task);

    if (reason_json) {
        dsi_ev_json(b, "Reason", reason);

    } else {
        dsi_ev_str(b, "Reason", reason);
    }

    dsi_ev_json(b, "Details", details);

    return dsi_ev_end(txn, b, msg);
}


/*
 * Drops the live activities and the timers of an instance, and with
 * tombstones set the tombstones of its completed activities too.
 */

int
dsi_drop_work(ds_txn_t *txn, ds_str_t hub, ds_str_t id, int tombstones)
{
    int  rc;

    rc = dsi_activity_drop_all(txn, hub, id, tombstones);
    if (rc != DS_OK) {
        return rc;
    }

    return dsi_timer_drop_all(txn, hub, id);
}


/*
 * 1 when child names id as its parent, and the parent's life that started
 * it is the one created at created: the tree walks (recursive terminate
 * and purge, the orphans of a completion that ended its own instance)
 * take only such children. An id purged and started again is another
 * life, and the old life's children, which still name the id, are not
 * its own. A child that does not know its parent's created time (started
 * before record version 7; parent_created 0) goes by the id alone, as
 * does a created of 0.
 */

int
dsi_parent_is(const ds_instance_t *child, ds_str_t id, int64_t created)
{
    if (child->parent_id.len != id.len
        || memcmp(child->parent_id.data, id.data, id.len) != 0)
    {
        return 0;
    }

    return child->parent_created == 0 || created == 0
           || child->parent_created == created;
}
