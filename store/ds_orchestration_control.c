/*
 * Copyright (C) ngx_durable authors
 *
 * Lifecycle operations. Each checks first and writes after, so the
 * DS_NOTFOUND, DS_CONFLICT, DS_GONE and DS_PRECONDITION answers leave the
 * transaction untouched; after any other error the caller aborts it.
 *
 * They keep the worker state in step: a message makes the instance ready
 * (ds_inbox.c), suspend takes it out of the ready index and resume puts
 * it back when messages wait, terminate and purge drop its pending work.
 * Rewind is in ds_orchestration_rewind.c.
 */


#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ds_internal.h"


/* the sub-orchestrations of an instance, NUL-separated */
typedef struct {
    ds_buf_t            ids;
    size_t              n;
} ds_children_t;


static int ds_op_get_active(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_instance_t *inst);
static int ds_children_cb(void *data, uint64_t seq, ds_str_t event);
static int ds_children(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_children_t *c);
static int ds_child_of(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    int64_t created, ds_str_t child, ds_instance_t *inst);
static int ds_terminate_tree(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_str_t reason, int64_t now, unsigned depth);
static int ds_purge_tree(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_status_e *status, size_t *purged, unsigned depth);
static int64_t ds_op_updated(const ds_instance_t *inst, int64_t now);
static int ds_op_update(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    const ds_instance_t *inst, int clear_inbox, ds_str_t event);


int
ds_op_start(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_str_t name,
    ds_str_t input, int64_t now, ds_instance_t *inst)
{
    ds_start_opts_t  opts;

    memset(&opts, 0, sizeof(ds_start_opts_t));

    return ds_op_start_opts(txn, hub, id, name, input, &opts, now, inst);
}


/*
 * With an id reuse policy (opts->replace), an instance whose status is
 * listed is replaced; an active one is terminated first, so that its
 * parent and pending work end as with a terminate. A status not listed is
 * a conflict, terminal or not.
 */

int
ds_op_start_opts(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_str_t name,
    ds_str_t input, const ds_start_opts_t *opts, int64_t now,
    ds_instance_t *inst)
{
    int            rc;
    ds_str_t       reason;
    dsi_start_t    s;
    ds_instance_t  old;

    if (opts->version.len > DS_NAME_MAX
        || ds_tags_check(opts->tags) != DS_OK)
    {
        return DS_INVALID;
    }

    rc = dsi_room(txn, DS_ROOM_ADD);
    if (rc != DS_OK) {
        return rc;
    }

    if (opts->replace) {
        rc = ds_instance_get(txn, hub, id, &old);

        if (rc == DS_OK) {
            if (!(opts->replace & DS_STATUS_MASK(old.status))) {
                *inst = old;
                return DS_CONFLICT;
            }

            if (!ds_status_is_terminal(old.status)) {
                reason.data = "\"replaced by a new start of the same id\"";
                reason.len = strlen(reason.data);

                rc = ds_op_terminate(txn, hub, id, reason, now);
                if (rc != DS_OK) {
                    return rc;
                }
            }

        } else if (rc != DS_NOTFOUND) {
            return rc;
        }
    }

    memset(&s, 0, sizeof(dsi_start_t));
    s.name = name;
    s.input = input;
    s.version = opts->version;
    s.tags = opts->tags;
    s.scheduled = opts->scheduled;
    s.parent_task = -1;

    return dsi_start(txn, hub, id, &s, now, inst);
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

    rc = dsi_room(txn, DS_ROOM_ADD);
    if (rc != DS_OK) {
        return rc;
    }

    rc = dsi_event_build(txn, "EventRaised", now, "Name", name, "Input", data,
                        &event);
    if (rc != DS_OK) {
        return rc;
    }

    rc = dsi_inbox_deliver(txn, hub, id, 0, 0, event, now, 1);

    free((void *) event.data);

    return rc;
}


/*
 * Terminated: the inbox, pending activities and timers are dropped, the
 * lease is void (a completion under it gets DS_GONE), and a parent hears
 * of it as of a failed sub-orchestration. The lock grants in the inbox,
 * which no episode will take now, are released first.
 */

int
ds_op_terminate(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_str_t reason,
    int64_t now)
{
    int            rc;
    char           pb[DS_ID_MAX];
    int64_t        ptask, pcreated;
    uint64_t       pexec;
    ds_str_t       event, none, parent;
    ds_instance_t  inst;

    rc = ds_op_get_active(txn, hub, id, &inst);
    if (rc != DS_OK) {
        return rc;
    }

    rc = dsi_room(txn, DS_ROOM_END);
    if (rc != DS_OK) {
        return rc;
    }

    rc = dsi_inbox_drop_grants(txn, hub, id, 0, NULL, 0, now);
    if (rc != DS_OK) {
        return rc;
    }

    /* read again: the record may have changed, and the map moved */

    rc = ds_op_get_active(txn, hub, id, &inst);
    if (rc != DS_OK) {
        return rc;
    }

    none.data = NULL;
    none.len = 0;

    rc = dsi_event_build(txn, "ExecutionTerminated", now, NULL, none, "Input",
                        reason, &event);
    if (rc != DS_OK) {
        return rc;
    }

    /* the parent link is copied: the record is about to be rewritten */

    parent.len = inst.parent_id.len <= DS_ID_MAX ? inst.parent_id.len : 0;
    parent.data = pb;

    if (parent.len) {
        memcpy(pb, inst.parent_id.data, parent.len);
    }

    ptask = inst.parent_task;
    pexec = inst.parent_execution;
    pcreated = inst.parent_created;

    inst.status = DS_TERMINATED;
    inst.output = reason;
    inst.updated = now;
    inst.ready_at = 0;
    memset(inst.lease, 0, DS_LEASE_LEN);
    inst.lease_expires = 0;
    inst.lease_upto = 0;

    rc = ds_op_update(txn, hub, id, &inst, 1, event);

    if (rc == DS_OK) {
        rc = dsi_drop_work(txn, hub, id, 0);
    }

    if (rc == DS_OK) {
        rc = dsi_notify_parent(txn, hub, parent, ptask, pexec, pcreated, 1,
                               none, reason, none, now);
    }

    return rc;
}


/* suspended: out of the ready index; messages and a lease stay */

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

    rc = dsi_room(txn, DS_ROOM_ADD);
    if (rc != DS_OK) {
        return rc;
    }

    none.data = NULL;
    none.len = 0;

    rc = dsi_event_build(txn, "ExecutionSuspended", now, NULL, none,
                        "Reason", reason, &event);
    if (rc != DS_OK) {
        return rc;
    }

    inst.suspended_from = inst.status;
    inst.status = DS_SUSPENDED;
    inst.updated = ds_op_updated(&inst, now);
    inst.ready_at = 0;

    return ds_op_update(txn, hub, id, &inst, 0, event);
}


/* resumed: ready again when messages wait */

int
ds_op_resume(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_str_t reason,
    int64_t now)
{
    int            rc;
    uint64_t       last;
    ds_str_t       event, none;
    ds_instance_t  inst;

    rc = ds_op_get_active(txn, hub, id, &inst);
    if (rc != DS_OK) {
        return rc;
    }

    if (inst.status != DS_SUSPENDED) {
        return DS_OK;
    }

    rc = dsi_room(txn, DS_ROOM_ADD);
    if (rc != DS_OK) {
        return rc;
    }

    rc = dsi_seq_last(txn, DS_DB_INBOX, hub, id, &last);
    if (rc != DS_OK) {
        return rc;
    }

    none.data = NULL;
    none.len = 0;

    rc = dsi_event_build(txn, "ExecutionResumed", now, NULL, none, "Reason",
                        reason, &event);
    if (rc != DS_OK) {
        return rc;
    }

    inst.status = inst.suspended_from;

    if (inst.status == DS_SUSPENDED) {
        /* not written by ds_op_suspend(); be safe with old records */
        inst.status = DS_RUNNING;
    }

    inst.updated = ds_op_updated(&inst, now);

    if (last) {
        dsi_ready_mark(&inst, now);
    }

    return ds_op_update(txn, hub, id, &inst, 0, event);
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

    return dsi_instance_remove(txn, hub, id, &inst);
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


/*
 * A suspension or resumption keeps a claim's lease and appends to the
 * history; a claimed item rendered after its commit is given back when
 * the record's updated time moved (ds_claim_notes.c), so it always
 * moves here, even when the clock gives the time of the last write.
 */

static int64_t
ds_op_updated(const ds_instance_t *inst, int64_t now)
{
    return (now > inst->updated) ? now : inst->updated + 1;
}


/*
 * writes the record (first: inst may point into the map), then the event
 * to the history; frees the event
 */

static int
ds_op_update(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    const ds_instance_t *inst, int clear_inbox, ds_str_t event)
{
    int  rc;

    rc = ds_instance_put(txn, hub, id, inst);

    if (rc == DS_OK && clear_inbox) {
        rc = ds_inbox_clear(txn, hub, id);
    }

    if (rc == DS_OK) {
        rc = ds_history_append(txn, hub, id, event, NULL);
    }

    free((void *) event.data);

    return rc;
}


/*
 * The sub-orchestrations an instance started and still parents: the
 * InstanceIds of its SubOrchestrationInstanceCreated events whose record
 * names it as parent. ids gets them NUL-separated, *n how many.
 */

static int
ds_children_cb(void *data, uint64_t seq, ds_str_t event)
{
    static const char   type[] =
        "{\"EventType\":\"SubOrchestrationInstanceCreated\"";

    json_t         *j;
    const char     *child;
    ds_children_t  *c;

    (void) seq;

    c = data;

    if (event.len < sizeof(type) - 1
        || memcmp(event.data, type, sizeof(type) - 1) != 0)
    {
        return 0;
    }

    j = json_loadb(event.data, event.len, 0, NULL);
    if (j == NULL) {
        return 0;
    }

    child = json_string_value(json_object_get(j, "InstanceId"));

    if (child != NULL) {
        dsi_buf_add(&c->ids, child, strlen(child) + 1);
        c->n++;
    }

    json_decref(j);

    return c->ids.oom;
}


static int
ds_children(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_children_t *c)
{
    int  rc;

    dsi_buf_init(&c->ids);
    c->n = 0;

    rc = ds_history_read(txn, hub, id, ds_children_cb, c);

    if (rc == DS_OK && c->ids.oom) {
        dsi_txn_set_error(txn, "out of memory");
        rc = DS_ERROR;
    }

    return rc;
}


/*
 * the child, when it exists and id, created then, is still its parent
 * (dsi_parent_is())
 */

static int
ds_child_of(ds_txn_t *txn, ds_str_t hub, ds_str_t id, int64_t created,
    ds_str_t child, ds_instance_t *inst)
{
    int  rc;

    rc = ds_instance_get(txn, hub, child, inst);

    if (rc == DS_OK && !dsi_parent_is(inst, id, created)) {
        return DS_NOTFOUND;
    }

    return rc;
}


/*
 * Terminates the instance, then the active sub-orchestrations it
 * started, theirs, and so on, DS_TREE_DEPTH levels down. The answer is
 * the instance's own.
 */

int
ds_op_terminate_tree(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_str_t reason, int64_t now)
{
    return ds_terminate_tree(txn, hub, id, reason, now, 0);
}


static int
ds_terminate_tree(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_str_t reason, int64_t now, unsigned depth)
{
    int             rc;
    size_t          i, off;
    int64_t         created;
    ds_str_t        child;
    ds_instance_t   inst;
    ds_children_t   c;

    /* the children first: the history is read before it grows */

    rc = ds_children(txn, hub, id, &c);

    if (rc == DS_OK) {
        rc = ds_op_terminate(txn, hub, id, reason, now);
    }

    /* the life of the id that started them: its created time */

    created = 0;

    if (rc == DS_OK && c.n) {
        rc = ds_instance_get(txn, hub, id, &inst);
        created = inst.created;
    }

    for (i = 0, off = 0; rc == DS_OK && i < c.n && depth < DS_TREE_DEPTH;
         i++)
    {
        child.data = c.ids.data + off;
        child.len = strlen(child.data);
        off += child.len + 1;

        if (ds_child_of(txn, hub, id, created, child, &inst) != DS_OK
            || ds_status_is_terminal(inst.status))
        {
            continue;
        }

        rc = ds_terminate_tree(txn, hub, child, reason, now, depth + 1);

        if (rc == DS_GONE || rc == DS_NOTFOUND) {
            rc = DS_OK;
        }
    }

    dsi_buf_free(&c.ids);

    return rc;
}


/*
 * Purges a terminal instance, then the terminal sub-orchestrations it
 * started, theirs, and so on; active ones stay. *purged counts them all.
 */

int
ds_op_purge_tree(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_status_e *status, size_t *purged)
{
    *purged = 0;

    return ds_purge_tree(txn, hub, id, status, purged, 0);
}


static int
ds_purge_tree(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_status_e *status,
    size_t *purged, unsigned depth)
{
    int             rc;
    size_t          i, off;
    int64_t         created;
    ds_str_t        child;
    ds_status_e     st;
    ds_instance_t   inst;
    ds_children_t   c;

    rc = ds_instance_get(txn, hub, id, &inst);
    if (rc != DS_OK) {
        return rc;
    }

    *status = inst.status;
    created = inst.created;

    if (!ds_status_is_terminal(inst.status)) {
        return DS_PRECONDITION;
    }

    rc = ds_children(txn, hub, id, &c);

    if (rc == DS_OK) {
        rc = ds_op_purge(txn, hub, id, &st);
    }

    if (rc == DS_OK) {
        (*purged)++;
    }

    for (i = 0, off = 0; rc == DS_OK && i < c.n && depth < DS_TREE_DEPTH;
         i++)
    {
        child.data = c.ids.data + off;
        child.len = strlen(child.data);
        off += child.len + 1;

        if (ds_child_of(txn, hub, id, created, child, &inst) != DS_OK
            || !ds_status_is_terminal(inst.status))
        {
            continue;
        }

        rc = ds_purge_tree(txn, hub, child, &st, purged, depth + 1);
    }

    dsi_buf_free(&c.ids);

    return rc;
}
