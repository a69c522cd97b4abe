
/*
 * Copyright (C) ngx_durable authors
 *
 * Completing an orchestration episode on PostgreSQL: the call of
 * durable.complete_orchestration() (store/pg/functions/
 * 50-orchestration-complete.sql) and its answer. The actions are checked
 * by ds_work_actions_check() and every event's members rendered here
 * with the LMDB store's builders, as ds_orchestration_complete.c renders
 * them; the digest is the same function's, so a retry under the same
 * lease is recognised alike on both backends. The actions travel as
 * parallel arrays, one element per action (the SQL file lists them).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_internal.h"
#include "ds_pg.h"


enum {
    DSI_PGO_KINDS = 0,
    DSI_PGO_IDS,
    DSI_PGO_NUMS,
    DSI_PGO_ETYPES,
    DSI_PGO_EMEMBERS,
    DSI_PGO_A,
    DSI_PGO_B,
    DSI_PGO_C,
    DSI_PGO_D,
    DSI_PGO_E,
    DSI_PGO_VERSION,
    DSI_PGO_TAGS,
    DSI_PGO_CARRY,
    DSI_PGO_ARRAYS
};


typedef struct {
    ds_buf_t            arr[DSI_PGO_ARRAYS];
    ds_buf_t            m;              /* one element's members */
} dsi_pgo_t;


static void dsi_pgo_action(dsi_pgo_t *o, ds_str_t id, const ds_action_t *a);
static void dsi_pgo_null(dsi_pgo_t *o, int which);
static void dsi_pgo_add(dsi_pgo_t *o, int which, const char *s, size_t len,
    int null);
static void dsi_pgo_str(dsi_pgo_t *o, int which, ds_str_t s);
static void dsi_pgo_json(dsi_pgo_t *o, int which, ds_str_t s);
static void dsi_pgo_int(dsi_pgo_t *o, int which, int64_t v);
static void dsi_pgo_members(dsi_pgo_t *o, int which);
static void dsi_pgo_child(ds_str_t id, const ds_action_t *a, char *buf,
    ds_str_t *child);


int
dsi_pg_orchestration_complete(const ds_op_t *op, dsi_pg_call_t *call)
{
    int                 i, invalid, rc;
    size_t              k, n, processed;
    dsi_pgo_t           o;
    const ds_action_t  *a;
    ds_action_fault_t   fault;

    a = op->in.work.actions;
    n = op->in.work.nactions;
    processed = op->in.work.partial ? op->in.work.processed : SIZE_MAX;

    invalid = (n && a == NULL)
              || ds_work_actions_check(op->in.work.id, a, a ? n : 0, &fault)
                 != DS_OK;

    call->stmt.sql = "SELECT rc, status, changed, error FROM "
                     "durable.complete_orchestration($1, $2, $3, $4, $5, "
                     "$6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
                     "$17, $18, $19)";
    dsi_pg_param_str(call, op->hub);
    dsi_pg_param_str(call, op->in.work.id);
    dsi_pg_param_lease(call, op->in.work.lease);
    dsi_pg_param_int(call, (int64_t) dsi_work_complete_digest(a, a ? n : 0,
                                                              processed));
    dsi_pg_param(call, invalid ? "t" : "f", 1, 0);
    dsi_pg_param_int(call, processed > INT64_MAX ? -1 : (int64_t) processed);

    for (i = 0; i < DSI_PGO_ARRAYS; i++) {
        dsi_buf_init(&o.arr[i]);
        dsi_buf_add(&o.arr[i], "{", 1);
    }

    dsi_buf_init(&o.m);

    for (k = 0; !invalid && k < n; k++) {
        dsi_pgo_action(&o, op->in.work.id, &a[k]);
    }

    if (!invalid && n && a[n - 1].type == DS_ACT_CONTINUE_AS_NEW) {
        for (k = 0; k < a[n - 1].ncarryover; k++) {
            dsi_pgo_add(&o, DSI_PGO_CARRY, a[n - 1].carryover[k].data,
                        a[n - 1].carryover[k].len, 0);
        }
    }

    rc = o.m.oom ? DS_ERROR : DS_OK;

    for (i = 0; i < DSI_PGO_ARRAYS; i++) {
        dsi_buf_add(&o.arr[i], "}", 1);

        if (o.arr[i].oom) {
            rc = DS_ERROR;

        } else {
            dsi_pg_param(call, o.arr[i].data, o.arr[i].len, 0);
        }

        dsi_buf_free(&o.arr[i]);
    }

    dsi_buf_free(&o.m);

    if (rc != DS_OK) {
        return rc;
    }

    return dsi_pg_finish(call);
}


/* one element of every array for the action */

static void
dsi_pgo_action(dsi_pgo_t *o, ds_str_t id, const ds_action_t *a)
{
    int            n;
    char           cb[DS_ID_MAX], rb[DS_ID_MAX + 64];
    ds_buf_t       fd;
    ds_str_t       child, reason, none, eid;
    unsigned char  eb[DS_ID_MAX];

    none.data = NULL;
    none.len = 0;
    child = none;
    eid = none;

    dsi_pgo_int(o, DSI_PGO_KINDS, a->type);
    dsi_pgo_int(o, DSI_PGO_IDS, a->id);

    if (a->type == DS_ACT_CREATE_TIMER
        || (a->type == DS_ACT_SIGNAL_ENTITY && a->fire_at > 0))
    {
        dsi_pgo_int(o, DSI_PGO_NUMS, a->fire_at);

    } else {
        dsi_pgo_null(o, DSI_PGO_NUMS);
    }

    if (a->type == DS_ACT_START_SUB) {
        dsi_pgo_child(id, a, cb, &child);
    }

    /* checked by ds_work_actions_check() */

    if (a->type == DS_ACT_LOCK_ENTITIES) {
        (void) dsi_entity_canon(a->lock_set[0], eb, &eid);

    } else if (a->type == DS_ACT_SIGNAL_ENTITY
               || a->type == DS_ACT_CALL_ENTITY
               || a->type == DS_ACT_UNLOCK_ENTITY)
    {
        (void) dsi_entity_id(a->entity_name, a->entity_key, eb, &eid);
    }

    /* the history event: its type, then its members */

    dsi_ev_open(&o->m);

    switch (a->type) {

    case DS_ACT_SCHEDULE_ACTIVITY:
        dsi_pgo_add(o, DSI_PGO_ETYPES, "TaskScheduled", 13, 0);
        dsi_ev_str(&o->m, "Name", a->name);
        dsi_ev_json(&o->m, "Input", a->input);

        if (a->version.len) {
            dsi_ev_str(&o->m, "Version", a->version);
        }

        if (a->tags.len) {
            dsi_ev_json(&o->m, "Tags", a->tags);
        }

        break;

    case DS_ACT_CREATE_TIMER:
        dsi_pgo_add(o, DSI_PGO_ETYPES, "TimerCreated", 12, 0);
        dsi_ev_time(&o->m, "FireAt", a->fire_at);
        break;

    case DS_ACT_START_SUB:
        dsi_pgo_add(o, DSI_PGO_ETYPES, "SubOrchestrationInstanceCreated",
                    31, 0);
        dsi_ev_str(&o->m, "Name", a->name);
        dsi_ev_str(&o->m, "InstanceId", child);
        dsi_ev_json(&o->m, "Input", a->input);

        if (a->version.len) {
            dsi_ev_str(&o->m, "Version", a->version);
        }

        break;

    case DS_ACT_RAISE_EVENT:
        dsi_pgo_add(o, DSI_PGO_ETYPES, "EventSent", 9, 0);
        dsi_ev_str(&o->m, "InstanceId", a->instance_id);
        dsi_ev_str(&o->m, "Name", a->name);
        dsi_ev_json(&o->m, "Input", a->input);
        break;

    case DS_ACT_SIGNAL_ENTITY:
        if (a->request_id.len == 0) {
            /* as the JSON worker protocol has always recorded it */
            dsi_pgo_add(o, DSI_PGO_ETYPES, "EventSent", 9, 0);
            dsi_ev_str(&o->m, "InstanceId", eid);
            dsi_ev_str(&o->m, "Name", a->name);
            dsi_ev_json(&o->m, "Input", a->input);
            break;
        }

        /* fall through */

    case DS_ACT_CALL_ENTITY:
        if (a->type == DS_ACT_CALL_ENTITY) {
            dsi_pgo_add(o, DSI_PGO_ETYPES, "EntityOperationCalled", 21, 0);

        } else {
            dsi_pgo_add(o, DSI_PGO_ETYPES, "EntityOperationSignaled", 23,
                        0);
        }

        dsi_ev_str(&o->m, "RequestId", a->request_id);
        dsi_ev_str(&o->m, "Operation", a->name);
        dsi_ev_json(&o->m, "Input", a->input);
        dsi_ev_str(&o->m, "TargetInstanceId", eid);
        break;

    case DS_ACT_LOCK_ENTITIES:
        dsi_pgo_add(o, DSI_PGO_ETYPES, "EntityLockRequested", 19, 0);
        dsi_ev_str(&o->m, "CriticalSectionId", a->request_id);
        dsi_lock_set_json(&o->m, "LockSet", a);
        dsi_ev_int(&o->m, "Position", 0);
        break;

    case DS_ACT_UNLOCK_ENTITY:
        dsi_pgo_add(o, DSI_PGO_ETYPES, "EntityUnlockSent", 16, 0);
        dsi_ev_str(&o->m, "CriticalSectionId", a->request_id);
        dsi_ev_str(&o->m, "TargetInstanceId", eid);
        break;

    case DS_ACT_COMPLETE:
        dsi_pgo_add(o, DSI_PGO_ETYPES, "ExecutionCompleted", 18, 0);
        dsi_ev_int(&o->m, "OrchestrationStatus", DS_COMPLETED);
        dsi_ev_json(&o->m, "Result", a->input);
        break;

    case DS_ACT_FAIL:
        dsi_buf_init(&fd);
        dsi_ev_open(&fd);
        dsi_ev_json(&fd, "Reason", a->reason);
        dsi_ev_json(&fd, "Details", a->details);
        dsi_buf_add(&fd, "}", 1);

        dsi_pgo_add(o, DSI_PGO_ETYPES, "ExecutionCompleted", 18, 0);
        dsi_ev_int(&o->m, "OrchestrationStatus", DS_FAILED);
        dsi_ev_json(&o->m, "Result", a->reason);

        if (fd.oom) {
            o->m.oom = 1;

        } else {
            dsi_ev_json(&o->m, "FailureDetails",
                        (ds_str_t) { fd.data, fd.len });
        }

        dsi_buf_free(&fd);
        break;

    default:
        /*
         * custom status, termination; continue-as-new clears the history
         * anyway
         */
        break;
    }

    if (a->type == DS_ACT_SET_CUSTOM_STATUS
        || a->type == DS_ACT_CONTINUE_AS_NEW
        || a->type == DS_ACT_TERMINATE)
    {
        dsi_pgo_null(o, DSI_PGO_ETYPES);
        dsi_pgo_null(o, DSI_PGO_EMEMBERS);

    } else {
        dsi_pgo_members(o, DSI_PGO_EMEMBERS);
    }

    /* what the action does: a, b, c, d, e */

    switch (a->type) {

    case DS_ACT_SCHEDULE_ACTIVITY:
        dsi_pgo_str(o, DSI_PGO_A, a->name);
        dsi_pgo_null(o, DSI_PGO_B);
        dsi_pgo_json(o, DSI_PGO_C, a->input);
        dsi_pgo_null(o, DSI_PGO_D);
        dsi_pgo_null(o, DSI_PGO_E);
        break;

    case DS_ACT_START_SUB:
        dsi_pgo_str(o, DSI_PGO_A, child);
        dsi_pgo_str(o, DSI_PGO_B, a->name);
        dsi_pgo_json(o, DSI_PGO_C, a->input);

        /* the child's ExecutionStarted; SQL adds its ParentInstance */
        dsi_ev_open(&o->m);
        dsi_ev_str(&o->m, "Name", a->name);
        dsi_ev_json(&o->m, "Input", a->input);

        if (a->version.len) {
            dsi_ev_str(&o->m, "Version", a->version);
        }

        if (a->tags.len) {
            dsi_ev_json(&o->m, "Tags", a->tags);
        }

        dsi_pgo_members(o, DSI_PGO_D);

        /* the parent's message when the id is active already */
        n = snprintf(rb, sizeof(rb), "An active instance with ID '%.*s' "
                     "already exists.", (int) child.len, child.data);
        reason.data = rb;
        reason.len = n > 0 ? (size_t) n : 0;

        dsi_ev_open(&o->m);
        dsi_ev_int(&o->m, "TaskScheduledId", a->id);
        dsi_ev_str(&o->m, "Reason", reason);
        dsi_ev_json(&o->m, "Details", none);
        dsi_pgo_members(o, DSI_PGO_E);
        break;

    case DS_ACT_RAISE_EVENT:
        dsi_pgo_str(o, DSI_PGO_A, a->instance_id);
        dsi_pgo_null(o, DSI_PGO_B);
        dsi_pgo_null(o, DSI_PGO_C);

        dsi_ev_open(&o->m);
        dsi_ev_str(&o->m, "Name", a->name);
        dsi_ev_json(&o->m, "Input", a->input);
        dsi_pgo_members(o, DSI_PGO_D);
        dsi_pgo_null(o, DSI_PGO_E);
        break;

    case DS_ACT_SIGNAL_ENTITY:
    case DS_ACT_CALL_ENTITY:
    case DS_ACT_LOCK_ENTITIES:
    case DS_ACT_UNLOCK_ENTITY:
        /*
         * the entity and the message's members before and after its
         * timestamp, as ds_orchestration_complete.c orders them; SQL adds
         * "parentExecution" and "parentCreated" last to those this
         * instance sends
         */
        dsi_pgo_str(o, DSI_PGO_A, eid);
        dsi_pgo_null(o, DSI_PGO_B);
        dsi_pgo_null(o, DSI_PGO_C);

        dsi_ev_open(&o->m);

        if (a->type == DS_ACT_LOCK_ENTITIES) {
            dsi_ev_str(&o->m, "lock", a->request_id);
            dsi_lock_set_json(&o->m, "lockSet", a);
            dsi_ev_int(&o->m, "position", 0);

        } else if (a->type == DS_ACT_UNLOCK_ENTITY) {
            dsi_ev_str(&o->m, "unlock", a->request_id);

        } else {
            dsi_ev_str(&o->m, "operation", a->name);
            dsi_ev_json(&o->m, "input", a->input);
        }

        if (a->type == DS_ACT_LOCK_ENTITIES
            || a->type == DS_ACT_UNLOCK_ENTITY)
        {
            dsi_ev_str(&o->m, "parentInstanceId", id);
        }

        dsi_pgo_members(o, DSI_PGO_D);

        if (a->type == DS_ACT_CALL_ENTITY) {
            dsi_ev_open(&o->m);
            dsi_ev_str(&o->m, "requestId", a->request_id);
            dsi_ev_str(&o->m, "parentInstanceId", id);
            dsi_pgo_members(o, DSI_PGO_E);

        } else {
            dsi_pgo_null(o, DSI_PGO_E);
        }

        break;

    case DS_ACT_CONTINUE_AS_NEW:
        dsi_pgo_null(o, DSI_PGO_A);
        dsi_pgo_null(o, DSI_PGO_B);
        dsi_pgo_json(o, DSI_PGO_C, a->input);

        /* the new ExecutionStarted after its Name, which SQL has */
        dsi_ev_open(&o->m);
        dsi_ev_json(&o->m, "Input", a->input);
        dsi_pgo_members(o, DSI_PGO_D);
        dsi_pgo_null(o, DSI_PGO_E);
        break;

    default:
        /*
         * timer, custom status, complete; fail: reason and details;
         * terminate: the instance, "tree" when recursive, the reason
         */
        if (a->type == DS_ACT_TERMINATE) {
            dsi_pgo_str(o, DSI_PGO_A, a->instance_id);

        } else {
            dsi_pgo_null(o, DSI_PGO_A);
        }

        if (a->type == DS_ACT_FAIL) {
            dsi_pgo_json(o, DSI_PGO_B, a->details);
            dsi_pgo_json(o, DSI_PGO_C, a->reason);

        } else if (a->type == DS_ACT_TERMINATE && a->recurse) {
            /* its sub-orchestrations too */
            dsi_pgo_add(o, DSI_PGO_B, "tree", 4, 0);
            dsi_pgo_json(o, DSI_PGO_C, a->input);

        } else {
            dsi_pgo_null(o, DSI_PGO_B);
            dsi_pgo_json(o, DSI_PGO_C, a->input);
        }

        dsi_pgo_null(o, DSI_PGO_D);
        dsi_pgo_null(o, DSI_PGO_E);
        break;
    }

    /*
     * a child's or an activity's version and tags (the activity's row
     * keeps them for its worker, on schema 8), a new execution's version
     */

    if (a->type == DS_ACT_START_SUB || a->type == DS_ACT_CONTINUE_AS_NEW
        || a->type == DS_ACT_SCHEDULE_ACTIVITY)
    {
        dsi_pgo_add(o, DSI_PGO_VERSION, a->version.data, a->version.len,
                    a->version.len == 0);

    } else {
        dsi_pgo_null(o, DSI_PGO_VERSION);
    }

    if (a->type == DS_ACT_START_SUB || a->type == DS_ACT_SCHEDULE_ACTIVITY) {
        dsi_pgo_json(o, DSI_PGO_TAGS, a->tags);

    } else {
        dsi_pgo_null(o, DSI_PGO_TAGS);
    }
}


static void
dsi_pgo_null(dsi_pgo_t *o, int which)
{
    dsi_pgo_add(o, which, NULL, 0, 1);
}


/* an element of an array literal: quoted, '"' and '\' escaped, or NULL */

static void
dsi_pgo_add(dsi_pgo_t *o, int which, const char *s, size_t len, int null)
{
    size_t     i, from;
    ds_buf_t  *b;

    b = &o->arr[which];

    if (b->len > 1) {
        dsi_buf_add(b, ",", 1);
    }

    if (null) {
        dsi_buf_add(b, "NULL", 4);
        return;
    }

    dsi_buf_add(b, "\"", 1);

    for (i = 0, from = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\') {
            dsi_buf_add(b, s + from, i - from);
            dsi_buf_add(b, "\\", 1);
            from = i;
        }
    }

    dsi_buf_add(b, s + from, len - from);
    dsi_buf_add(b, "\"", 1);
}


static void
dsi_pgo_str(dsi_pgo_t *o, int which, ds_str_t s)
{
    dsi_pgo_add(o, which, s.data, s.len, 0);
}


/* JSON null (length 0) is SQL NULL */

static void
dsi_pgo_json(dsi_pgo_t *o, int which, ds_str_t s)
{
    dsi_pgo_add(o, which, s.data, s.len, s.len == 0);
}


static void
dsi_pgo_int(dsi_pgo_t *o, int which, int64_t v)
{
    int   n;
    char  num[24];

    n = snprintf(num, sizeof(num), "%lld", (long long) v);
    dsi_pgo_add(o, which, num, (size_t) n, 0);
}


/* the members gathered in o->m, without the "{" that opened them */

static void
dsi_pgo_members(dsi_pgo_t *o, int which)
{
    if (o->m.oom) {
        o->arr[which].oom = 1;
        return;
    }

    dsi_pgo_add(o, which, o->m.data + 1, o->m.len - 1, 0);
}


/* the action's instance id, or "<parent id>:<id>" (checked to fit) */

static void
dsi_pgo_child(ds_str_t id, const ds_action_t *a, char *buf, ds_str_t *child)
{
    int   n;
    char  num[24];

    if (a->instance_id.len) {
        *child = a->instance_id;
        return;
    }

    n = snprintf(num, sizeof(num), ":%lld", (long long) a->id);

    if (n < 0 || id.len + (size_t) n > DS_ID_MAX) {
        /* ds_work_actions_check() refused it before */
        child->data = id.data;
        child->len = id.len;
        return;
    }

    memcpy(buf, id.data, id.len);
    memcpy(buf + id.len, num, (size_t) n);

    child->data = buf;
    child->len = id.len + (size_t) n;
}


/* the answer: out.work.status and changed; op->rc is set */

void
dsi_pg_orchestration_completed(ds_op_t *op, const PGresult *res)
{
    op->out.work.status = (ds_status_e) dsi_pg_int(res, 0, 1);
    op->out.work.changed = PQgetvalue(res, 0, 2)[0] == 't';
}
