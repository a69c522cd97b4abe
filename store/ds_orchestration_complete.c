/*
 * Copyright (C) ngx_durable authors
 *
 * Completing an orchestration episode: fencing by lease, validating the
 * actions, then in the caller's transaction: the delivered messages move
 * from the inbox into the history between OrchestratorStarted and
 * OrchestratorCompleted, one history event per action, the effects of the
 * actions (activities, timers, sub-orchestrations, events, signals) and
 * the new status of the record. A termination that ends the instance
 * itself (the tree of an ancestor) ends the completion there.
 *
 * The record read at the start is kept in memory until it is written at
 * the end; its strings are copied first, because a value read from LMDB
 * is valid only until the next write. Messages to the instance itself (an
 * event raised on itself, a refused sub-orchestration) go through that
 * copy.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_key.h"


typedef struct {
    ds_txn_t           *txn;
    ds_buf_t            data;
    size_t             *lens;
    size_t              n;
    size_t              size;
    size_t              max;            /* taken at most; others stay */
    int                 oom;
    uint64_t            upto;           /* ds_msgs_take(): delivered */
    int                 more;           /* it saw one it left */
    int                 shown;          /* copied as workers see them */
} ds_msgs_t;


typedef struct {
    int64_t             id;
    size_t              index;
} ds_sched_id_t;


/* how deep a carried-over event's JSON may nest */
#define DS_CARRYOVER_DEPTH  64


static int ds_actions_check(ds_str_t hub, ds_str_t id,
    const ds_action_t *a, size_t n);
static int ds_action_check(ds_str_t id, const ds_action_t *a, int last,
    ds_action_fault_t *f);
static int ds_child_check(ds_str_t id, const ds_action_t *a,
    ds_action_fault_t *f);
static int ds_request_check(const ds_action_t *a, ds_action_fault_t *f);
static int ds_carryover_check(const ds_action_t *a, ds_action_fault_t *f);
static int ds_carryover(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_instance_t *inst, const ds_action_t *fin, uint64_t upto, int64_t now);
static int ds_take_later(ds_txn_t *txn, uint64_t seq, const MDB_val *val,
    void *data);
static int ds_lock_check(const ds_action_t *a, ds_action_fault_t *f);
static int ds_entity_message(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    const ds_instance_t *inst, const ds_action_t *a, int64_t now,
    ds_buf_t *b);
static int ds_lock_set_escaped(ds_buf_t *set, ds_str_t s);
static int ds_action_fail(ds_action_fault_t *f, ds_action_error_e error,
    ds_action_field_e field);
static int ds_action_ids_check(const ds_action_t *a, size_t n,
    ds_action_fault_t *f);
static int ds_id_cmp(const void *a, const void *b);
static int ds_is_finish(ds_action_type_e type);
static int ds_child_id(ds_str_t id, const ds_action_t *a, char *buf,
    ds_str_t *child);
static int ds_msgs_cb(void *data, uint64_t seq, ds_str_t event);
static int ds_msgs_take(ds_txn_t *txn, uint64_t seq, const MDB_val *val,
    void *data);
static int ds_history_next(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    uint64_t *seq, ds_str_t event);
static int ds_complete_history(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_msgs_t *msgs, const ds_action_t *a, size_t n, int64_t now);
static int ds_action_event(ds_txn_t *txn, ds_str_t id, const ds_action_t *a,
    int64_t now, ds_buf_t *b, ds_str_t *event);
static int ds_continue_parent(ds_txn_t *txn, ds_str_t hub,
    const ds_instance_t *inst, ds_buf_t *b);
static int ds_complete_effects(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_instance_t *inst, const ds_action_t *a, size_t n, int64_t now,
    int *ended);
static int ds_complete_ended(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    const ds_instance_t *inst, const uint8_t *lease, uint64_t digest,
    ds_status_e *status);
static int ds_complete_orphans(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    int64_t created, const ds_action_t *a, size_t n, ds_str_t reason,
    int64_t now);


int
ds_work_complete_orchestration(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    const uint8_t *lease, const ds_action_t *actions, size_t nactions,
    int64_t now, ds_status_e *status)
{
    int  changed;

    return dsi_work_complete_orchestration(txn, hub, id, lease, actions,
                                           nactions, SIZE_MAX, now, status,
                                           &changed);
}


/*
 * *changed: 1 when the completion changed the runtime status or began a
 * new execution; 0 for a replay and an episode that leaves the status.
 * A termination among the actions that ends this instance too (the tree
 * of an ancestor) ends the completion there: see ds_complete_ended().
 */

int
dsi_work_complete_orchestration(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    const uint8_t *lease, const ds_action_t *actions, size_t nactions,
    size_t processed, int64_t now, ds_status_e *status, int *changed)
{
    int                 rc, replay, ended;
    char               *mem;
    uint64_t            upto, last, digest, inbox_writes;
    ds_buf_t            b;
    ds_str_t            none, msg;
    ds_msgs_t           msgs;
    ds_instance_t       inst, cur;
    dsi_work_rec_t      r;
    const ds_action_t  *fin;

    /* actions NULL with nactions > 0 is refused after the fence */
    digest = dsi_work_complete_digest(actions, actions ? nactions : 0,
                                      processed);

    memset(&r, 0, sizeof(dsi_work_rec_t));
    r.id = id;

    rc = dsi_work_fence(txn, hub, &dsi_work_orchestration, &r, lease,
                        digest, &replay);
    if (rc != DS_OK) {
        return rc;
    }

    *changed = 0;

    if (replay) {
        /* a retry of the last completion: its answer, nothing applied */
        *status = r.u.inst.done_status;
        return DS_OK;
    }

    inst = r.u.inst;

    if ((nactions && actions == NULL)
        || ds_actions_check(hub, id, actions, nactions) != DS_OK)
    {
        return DS_INVALID;
    }

    rc = dsi_room(txn, DS_ROOM_ADD);
    if (rc != DS_OK) {
        return rc;
    }

    fin = (nactions && ds_is_finish(actions[nactions - 1].type))
          ? &actions[nactions - 1] : NULL;

    rc = dsi_instance_own(txn, &inst, &mem);
    if (rc != DS_OK) {
        return rc;
    }

    upto = inst.lease_upto;

    /*
     * The delivered messages, copied before anything else is written, and
     * taken out of the inbox in the same walk; messages the worker did not
     * take wait for the next episode.
     */

    memset(&msgs, 0, sizeof(ds_msgs_t));
    msgs.txn = txn;
    /* a finished execution takes them all: nothing is left to run them */
    msgs.max = fin ? SIZE_MAX : processed;
    dsi_buf_init(&msgs.data);
    dsi_buf_init(&b);

    msgs.upto = upto;
    msgs.shown = 1;

    rc = dsi_seq_each(txn, DS_DB_INBOX, hub, id, UINT64_MAX, ds_msgs_take,
                      &msgs);

    inbox_writes = dsi_txn_db_writes(txn, DS_DB_INBOX);

    if (rc == DS_OK && msgs.oom) {
        dsi_txn_set_error(txn, "out of memory");
        rc = DS_ERROR;
    }

    if (rc != DS_OK) {
        goto done;
    }

    if (fin == NULL || fin->type != DS_ACT_CONTINUE_AS_NEW) {
        /* the episode's clock is the one its worker saw: the claim time */
        rc = ds_complete_history(txn, hub, id, &msgs, actions, nactions,
                                 inst.episode_at ? inst.episode_at : now);
        if (rc != DS_OK) {
            goto done;
        }
    }

    rc = ds_complete_effects(txn, hub, id, &inst, actions, nactions, now,
                             &ended);
    if (rc != DS_OK) {
        goto done;
    }

    if (ended) {
        rc = ds_complete_ended(txn, hub, id, &inst, lease, digest, status);

        if (rc == DS_OK) {
            *changed = 1;
        }

        goto done;
    }

    if (fin != NULL && fin->type != DS_ACT_FAIL) {
        /*
         * the execution ends: lock grants that came after its episode's
         * messages are released, each by the set it carries. A failure
         * keeps them, and their locks: the rewound execution takes them
         * from the inbox (a rewind sends again only the requests whose
         * grant no one holds).
         */
        rc = dsi_inbox_drop_grants(txn, hub, id, upto + 1, actions,
                                   nactions, now);
        if (rc != DS_OK) {
            goto done;
        }
    }

    none.data = NULL;
    none.len = 0;

    if (fin == NULL) {
        if (inst.status == DS_SUSPENDED) {
            inst.suspended_from = DS_RUNNING;

        } else {
            inst.status = DS_RUNNING;
        }

    } else if (fin->type == DS_ACT_COMPLETE) {
        inst.status = DS_COMPLETED;
        inst.output = fin->input;

        rc = dsi_notify_parent(txn, hub, inst.parent_id, inst.parent_task,
                               inst.parent_execution, inst.parent_created, 0,
                               fin->input, none, none, now);

    } else if (fin->type == DS_ACT_FAIL) {
        inst.status = DS_FAILED;
        inst.output = fin->reason;
        /* details "null" are none: the record stays in its version */
        inst.failure = (fin->details.len == 4
                        && memcmp(fin->details.data, "null", 4) == 0)
                       ? none : fin->details;

        rc = dsi_notify_parent(txn, hub, inst.parent_id, inst.parent_task,
                               inst.parent_execution, inst.parent_created, 1,
                               none, fin->reason, fin->details, now);

    } else {
        /*
         * ContinueAsNew: a new execution with an empty history. Its
         * ExecutionStarted takes the seq of the last delivered message
         * (free now), so messages that arrived meanwhile stay after it.
         */

        inst.status = DS_CONTINUED_AS_NEW;
        inst.input = fin->input;
        inst.output = none;
        inst.execution++;

        if (fin->version.len) {
            inst.version = fin->version;
        }

        /* and the locks the ended execution may still hold */
        rc = dsi_entity_history_drop(txn, hub, id, now);

        if (rc == DS_OK) {
            dsi_ev_begin(&b, "ExecutionStarted", -1, now);
            dsi_ev_str(&b, "Name", inst.name);
            dsi_ev_json(&b, "Input", fin->input);

            if (inst.version.len) {
                dsi_ev_str(&b, "Version", inst.version);
            }

            if (inst.tags.len) {
                dsi_ev_json(&b, "Tags", inst.tags);
            }

            rc = ds_continue_parent(txn, hub, &inst, &b);
        }

        if (rc == DS_OK) {
            rc = dsi_ev_end(txn, &b, &msg);
        }

        if (rc == DS_OK) {
            /* upto is >= 1 for a claimed item; be safe with others */
            rc = upto ? dsi_seq_put(txn, DS_DB_INBOX, hub, id, upto, msg)
                      : dsi_inbox_push(txn, hub, id, &inst, msg, now);
        }

        /* what answers the ended execution came too late for it */

        if (rc == DS_OK) {
            rc = dsi_inbox_drop_answers(txn, hub, id, upto + 1, 1);
        }

        if (rc == DS_OK && fin->ncarryover) {
            rc = ds_carryover(txn, hub, id, &inst, fin, upto, now);
        }
    }

    if (rc == DS_OK && fin != NULL) {
        /* the execution ended: its pending activities and timers are moot */
        rc = dsi_drop_work(txn, hub, id, 0);
    }

    if (rc != DS_OK) {
        goto done;
    }

    last = 0;

    if (!ds_status_is_terminal(inst.status) && inst.status != DS_SUSPENDED) {

        if (dsi_txn_db_writes(txn, DS_DB_INBOX) == inbox_writes) {
            /* the inbox is as the walk left it: messages remain or not */
            last = msgs.more;

        } else {
            rc = dsi_seq_last(txn, DS_DB_INBOX, hub, id, &last);
            if (rc != DS_OK) {
                goto done;
            }
        }
    }

    /*
     * an entity may have answered through the stored record meanwhile
     * (a lock granted at once): its inbox counter must not go back
     */

    rc = ds_instance_get(txn, hub, id, &cur);
    if (rc != DS_OK) {
        goto done;
    }

    if (cur.inbox_seq > inst.inbox_seq) {
        inst.inbox_seq = cur.inbox_seq;
    }

    inst.updated = now;
    memset(inst.lease, 0, DS_LEASE_LEN);
    inst.lease_expires = 0;
    inst.lease_upto = 0;
    memcpy(inst.done_lease, lease, DS_LEASE_LEN);
    inst.done_digest = digest;
    inst.done_status = inst.status;
    inst.ready_at = last ? dsi_ready_time(now) : 0;

    /* cur was read last, with nothing written since: no second read */
    rc = dsi_instance_write(txn, hub, id, &inst, &cur);

    if (rc == DS_OK) {
        *status = inst.status;
        *changed = (inst.status != r.u.inst.status || fin != NULL);
    }

done:

    dsi_buf_free(&b);
    dsi_buf_free(&msgs.data);
    free(msgs.lens);
    free(mem);

    return rc;
}


/*
 * The completion terminated the tree of one of this instance's
 * ancestors, and with it this instance (ds_op_terminate() wrote its
 * record: Terminated, the termination's reason as output, its inbox and
 * work dropped, ExecutionTerminated last in its history). Nothing else
 * of the record held in memory is written over that, and the actions
 * after the termination were not applied; the record only takes the
 * custom status (an action before the termination may have set it), the
 * fence's answer, so that a retry is answered as this completion was,
 * and the inbox counter, which messages to itself may have raised in
 * memory before the termination.
 */

static int
ds_complete_ended(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    const ds_instance_t *inst, const uint8_t *lease, uint64_t digest,
    ds_status_e *status)
{
    int            rc;
    ds_instance_t  cur, rec;

    rc = ds_instance_get(txn, hub, id, &cur);
    if (rc != DS_OK) {
        return rc;
    }

    rec = cur;

    /* the custom status the completion set before the termination */
    rec.custom_status = inst->custom_status;

    if (inst->inbox_seq > rec.inbox_seq) {
        rec.inbox_seq = inst->inbox_seq;
    }

    memcpy(rec.done_lease, lease, DS_LEASE_LEN);
    rec.done_digest = digest;
    rec.done_status = cur.status;

    /* cur was read last, with nothing written since: no second read */
    rc = dsi_instance_write(txn, hub, id, &rec, &cur);

    if (rc == DS_OK) {
        *status = cur.status;
    }

    return rc;
}


/* every field of every action, in order */

uint64_t
dsi_work_complete_digest(const ds_action_t *a, size_t n, size_t processed)
{
    size_t        i, k;
    dsi_digest_t  d;

    dsi_digest_init(&d, DS_WORK_ORCHESTRATION);
    dsi_digest_int(&d, (int64_t) n);

    /* a completion that took every message digests as it always did */
    if (processed != SIZE_MAX) {
        dsi_digest_int(&d, (int64_t) processed);
    }

    for (i = 0; i < n; i++) {
        dsi_digest_int(&d, (int64_t) a[i].type);
        dsi_digest_int(&d, a[i].id);
        dsi_digest_str(&d, a[i].name);
        dsi_digest_str(&d, a[i].instance_id);
        dsi_digest_str(&d, a[i].entity_name);
        dsi_digest_str(&d, a[i].entity_key);
        dsi_digest_str(&d, a[i].input);
        dsi_digest_str(&d, a[i].reason);
        dsi_digest_str(&d, a[i].details);
        dsi_digest_int(&d, a[i].fire_at);
        dsi_digest_str(&d, a[i].version);
        dsi_digest_str(&d, a[i].tags);
        dsi_digest_str(&d, a[i].request_id);

        if (a[i].recurse) {
            dsi_digest_int(&d, a[i].recurse);
        }

        for (k = 0; a[i].lock_set && k < a[i].nlock; k++) {
            dsi_digest_str(&d, a[i].lock_set[k]);
        }

        for (k = 0; a[i].carryover && k < a[i].ncarryover; k++) {
            dsi_digest_str(&d, a[i].carryover[k]);
        }
    }

    return dsi_digest_end(&d);
}


static int
ds_is_finish(ds_action_type_e type)
{
    return type == DS_ACT_COMPLETE || type == DS_ACT_FAIL
           || type == DS_ACT_CONTINUE_AS_NEW;
}


/* the checks of ds_work_actions_check, for the completion itself */

static int
ds_actions_check(ds_str_t hub, ds_str_t id, const ds_action_t *a, size_t n)
{
    ds_action_fault_t  f;

    if (!dsi_key_hub_valid(hub)) {
        return DS_INVALID;
    }

    return ds_work_actions_check(id, a, n, &f);
}


/*
 * A finishing action only last; names and ids by the rules of ds_names.c;
 * schedule ids (activities, timers, sub-orchestrations) >= 0 and unique.
 */

int
ds_work_actions_check(ds_str_t id, const ds_action_t *a, size_t n,
    ds_action_fault_t *f)
{
    size_t  i;

    memset(f, 0, sizeof(ds_action_fault_t));

    for (i = 0; i < n; i++) {
        f->index = i;
        f->defaulted = 0;

        if (ds_action_check(id, &a[i], i == n - 1, f) != DS_OK) {
            return DS_INVALID;
        }
    }

    return ds_action_ids_check(a, n, f);
}


/*
 * The rules between actions alone, for a front end that has checked each
 * action by itself already (ds_work_actions_check() on one action at a
 * time): a finishing action only last, schedule ids unique.
 */

int
ds_work_actions_order_check(const ds_action_t *a, size_t n,
    ds_action_fault_t *f)
{
    size_t  i;

    memset(f, 0, sizeof(ds_action_fault_t));

    for (i = 0; i + 1 < n; i++) {
        switch (a[i].type) {

        case DS_ACT_COMPLETE:
        case DS_ACT_FAIL:
        case DS_ACT_CONTINUE_AS_NEW:
            f->index = i;
            return ds_action_fail(f, DS_ACTION_NOT_LAST, DS_FIELD_ID);

        default:
            break;
        }
    }

    return ds_action_ids_check(a, n, f);
}


static int
ds_action_check(ds_str_t id, const ds_action_t *a, int last,
    ds_action_fault_t *f)
{
    switch (a->type) {

    case DS_ACT_SCHEDULE_ACTIVITY:
        if (a->id < 0) {
            return ds_action_fail(f, DS_ACTION_ID_NEGATIVE, DS_FIELD_ID);
        }

        if (ds_name_check(a->name, DS_NAME_MAX, &f->name) != DS_OK) {
            return ds_action_fail(f, DS_ACTION_NAME, DS_FIELD_NAME);
        }

        if (!dsi_version_ok(a->version) || ds_tags_check(a->tags) != DS_OK)
        {
            return ds_action_fail(f, DS_ACTION_VALUE, DS_FIELD_VALUE);
        }

        return DS_OK;

    case DS_ACT_CREATE_TIMER:
        if (a->id < 0) {
            return ds_action_fail(f, DS_ACTION_ID_NEGATIVE, DS_FIELD_ID);
        }

        return DS_OK;

    case DS_ACT_START_SUB:
        if (a->id < 0) {
            return ds_action_fail(f, DS_ACTION_ID_NEGATIVE, DS_FIELD_ID);
        }

        if (ds_name_check(a->name, DS_NAME_MAX, &f->name) != DS_OK) {
            return ds_action_fail(f, DS_ACTION_NAME, DS_FIELD_NAME);
        }

        if (!dsi_version_ok(a->version) || ds_tags_check(a->tags) != DS_OK)
        {
            return ds_action_fail(f, DS_ACTION_VALUE, DS_FIELD_VALUE);
        }

        return ds_child_check(id, a, f);

    case DS_ACT_RAISE_EVENT:
        if (ds_name_instance_id(a->instance_id, &f->name) != DS_OK) {
            return ds_action_fail(f, DS_ACTION_NAME, DS_FIELD_INSTANCE_ID);
        }

        if (ds_name_check(a->name, DS_NAME_MAX, &f->name) != DS_OK) {
            return ds_action_fail(f, DS_ACTION_NAME, DS_FIELD_NAME);
        }

        return DS_OK;

    case DS_ACT_SIGNAL_ENTITY:
        /* the operation: empty or a name, as for signals over HTTP */

        if (a->name.len && ds_name_check(a->name, DS_NAME_MAX, &f->name)
                           != DS_OK)
        {
            return ds_action_fail(f, DS_ACTION_NAME, DS_FIELD_NAME);
        }

        if (ds_name_entity(a->entity_name, a->entity_key, &f->name)
            != DS_OK)
        {
            return ds_action_fail(f, DS_ACTION_NAME,
                                  f->name.part == DS_NAME_PART_NAME
                                  ? DS_FIELD_ENTITY_NAME
                                  : f->name.part == DS_NAME_PART_KEY
                                  ? DS_FIELD_ENTITY_KEY : DS_FIELD_ENTITY);
        }

        return a->request_id.len ? ds_request_check(a, f) : DS_OK;

    case DS_ACT_CALL_ENTITY:
        if (a->name.len && ds_name_check(a->name, DS_NAME_MAX, &f->name)
                           != DS_OK)
        {
            return ds_action_fail(f, DS_ACTION_NAME, DS_FIELD_NAME);
        }

        /* fall through */

    case DS_ACT_UNLOCK_ENTITY:
        if (ds_name_entity(a->entity_name, a->entity_key, &f->name)
            != DS_OK)
        {
            return ds_action_fail(f, DS_ACTION_NAME,
                                  f->name.part == DS_NAME_PART_NAME
                                  ? DS_FIELD_ENTITY_NAME
                                  : f->name.part == DS_NAME_PART_KEY
                                  ? DS_FIELD_ENTITY_KEY : DS_FIELD_ENTITY);
        }

        return ds_request_check(a, f);

    case DS_ACT_LOCK_ENTITIES:
        return ds_lock_check(a, f);

    case DS_ACT_SET_CUSTOM_STATUS:
        return DS_OK;

    case DS_ACT_TERMINATE:
        if (ds_name_instance_id(a->instance_id, &f->name) != DS_OK) {
            return ds_action_fail(f, DS_ACTION_NAME, DS_FIELD_INSTANCE_ID);
        }

        /* its own end is a completion's finishing action */
        if (a->instance_id.len == id.len
            && memcmp(a->instance_id.data, id.data, id.len) == 0)
        {
            return ds_action_fail(f, DS_ACTION_VALUE, DS_FIELD_INSTANCE_ID);
        }

        return DS_OK;

    case DS_ACT_COMPLETE:
    case DS_ACT_FAIL:
    case DS_ACT_CONTINUE_AS_NEW:
        if (!last) {
            return ds_action_fail(f, DS_ACTION_NOT_LAST, DS_FIELD_ID);
        }

        if (a->type == DS_ACT_CONTINUE_AS_NEW) {
            return ds_carryover_check(a, f);
        }

        return DS_OK;

    default:
        return ds_action_fail(f, DS_ACTION_TYPE, DS_FIELD_ID);
    }
}


/* a new version, and carried-over events: JSON objects */

static int
ds_carryover_check(const ds_action_t *a, ds_action_fault_t *f)
{
    size_t           i;
    ds_json_error_t  err;

    if (!dsi_version_ok(a->version)
        || (a->ncarryover && a->carryover == NULL))
    {
        return ds_action_fail(f, DS_ACTION_VALUE, DS_FIELD_VALUE);
    }

    for (i = 0; i < a->ncarryover; i++) {
        if (a->carryover[i].len == 0 || a->carryover[i].data[0] != '{'
            || dsi_json_check(a->carryover[i].data, a->carryover[i].len,
                              DS_CARRYOVER_DEPTH, &err) != 1)
        {
            return ds_action_fail(f, DS_ACTION_VALUE, DS_FIELD_VALUE);
        }
    }

    return DS_OK;
}


/*
 * ContinueAsNew with events carried over: they follow the new
 * ExecutionStarted, ahead of the messages that arrived meanwhile, which
 * are taken out and queued again after them.
 */

static int
ds_carryover(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_instance_t *inst,
    const ds_action_t *fin, uint64_t upto, int64_t now)
{
    int        rc;
    size_t     i, off;
    ds_str_t   msg;
    ds_msgs_t  later;

    memset(&later, 0, sizeof(ds_msgs_t));
    later.txn = txn;
    later.max = SIZE_MAX;
    dsi_buf_init(&later.data);

    rc = dsi_seq_each_from(txn, DS_DB_INBOX, hub, id, upto + 1, UINT64_MAX,
                           ds_take_later, &later);

    if (rc == DS_OK && later.oom) {
        dsi_txn_set_error(txn, "out of memory");
        rc = DS_ERROR;
    }

    for (i = 0; rc == DS_OK && i < fin->ncarryover; i++) {
        rc = dsi_inbox_push(txn, hub, id, inst, fin->carryover[i], now);
    }

    for (i = 0, off = 0; rc == DS_OK && i < later.n; i++) {
        msg.data = later.data.data + off;
        msg.len = later.lens[i];
        off += later.lens[i];

        rc = dsi_inbox_push(txn, hub, id, inst, msg, now);
    }

    dsi_buf_free(&later.data);
    free(later.lens);

    return rc;
}


/* copies a message that came after the episode's, and deletes it */

static int
ds_take_later(ds_txn_t *txn, uint64_t seq, const MDB_val *val, void *data)
{
    ds_str_t  msg;

    (void) txn;

    msg.data = val->mv_data;
    msg.len = val->mv_size;

    if (ds_msgs_cb(data, seq, msg) != 0) {
        return DS_OK;
    }

    return DSI_EACH_DELETE;
}


/*
 * A message of the inbox: one delivered under the lease (seq <= upto) is
 * copied, and deleted when the worker took it. The first one it did not
 * take, or one that came later, ends the walk: it and the rest stay, and
 * more says that some do.
 */

static int
ds_msgs_take(ds_txn_t *txn, uint64_t seq, const MDB_val *val, void *data)
{
    ds_str_t    msg;
    ds_msgs_t  *m;

    (void) txn;

    m = data;

    if (seq > m->upto || m->n >= m->max) {
        m->more = 1;
        return DS_OK;
    }

    msg.data = val->mv_data;
    msg.len = val->mv_size;

    if (ds_msgs_cb(data, seq, msg) != 0) {
        /* out of memory: the caller sees m->oom */
        return DS_OK;
    }

    return DSI_EACH_DELETE;
}


/* a request or critical section id: a name, as the SDKs make GUIDs */

static int
ds_request_check(const ds_action_t *a, ds_action_fault_t *f)
{
    if (ds_name_check(a->request_id, DS_NAME_MAX, &f->name) != DS_OK) {
        return ds_action_fail(f, DS_ACTION_NAME, DS_FIELD_REQUEST_ID);
    }

    return DS_OK;
}


/* a lock set: 1 to DS_LOCK_SET_MAX entity ids "@name@key", each once */

static int
ds_lock_check(const ds_action_t *a, ds_action_fault_t *f)
{
    size_t         i, k;
    ds_str_t       eid, other;
    unsigned char  eb[DS_ID_MAX], ob[DS_ID_MAX];

    if (a->nlock == 0 || a->nlock > DS_LOCK_SET_MAX || a->lock_set == NULL)
    {
        return ds_action_fail(f, DS_ACTION_VALUE, DS_FIELD_VALUE);
    }

    for (i = 0; i < a->nlock; i++) {
        if (dsi_entity_canon(a->lock_set[i], eb, &eid) != DS_OK) {
            return ds_action_fail(f, DS_ACTION_VALUE, DS_FIELD_VALUE);
        }

        /* an entity twice would wait for its own lock */

        for (k = 0; k < i; k++) {
            if (dsi_entity_canon(a->lock_set[k], ob, &other) == DS_OK
                && other.len == eid.len
                && memcmp(other.data, eid.data, eid.len) == 0)
            {
                return ds_action_fail(f, DS_ACTION_VALUE, DS_FIELD_VALUE);
            }
        }
    }

    return ds_request_check(a, f);
}


/* the sub-orchestration's id: given, or "<parent id>:<id>" */

static int
ds_child_check(ds_str_t id, const ds_action_t *a, ds_action_fault_t *f)
{
    int       n;
    char      cb[DS_ID_MAX];
    ds_str_t  child;

    f->defaulted = (a->instance_id.len == 0);

    if (ds_child_id(id, a, cb, &child) != DS_OK) {
        n = snprintf(NULL, 0, ":%lld", (long long) a->id);

        f->name.error = DS_NAME_LENGTH;
        f->name.len = id.len + (n > 0 ? (size_t) n : 0);
        f->name.max = DS_ID_MAX;

        return ds_action_fail(f, DS_ACTION_NAME, DS_FIELD_INSTANCE_ID);
    }

    if (ds_name_instance_id(child, &f->name) != DS_OK) {
        return ds_action_fail(f, DS_ACTION_NAME, DS_FIELD_INSTANCE_ID);
    }

    return DS_OK;
}


static int
ds_action_fail(ds_action_fault_t *f, ds_action_error_e error,
    ds_action_field_e field)
{
    f->error = error;
    f->field = field;

    return DS_INVALID;
}


/* duplicate schedule ids: a copy sorted by id, then by position */

static int
ds_action_ids_check(const ds_action_t *a, size_t n, ds_action_fault_t *f)
{
    int             rc;
    size_t          i, k;
    ds_sched_id_t  *ids, stack[64];

    ids = stack;

    if (n > sizeof(stack) / sizeof(stack[0])) {
        ids = malloc(n * sizeof(ds_sched_id_t));
        if (ids == NULL) {
            return DS_ERROR;
        }
    }

    for (i = 0, k = 0; i < n; i++) {
        if (a[i].type == DS_ACT_SCHEDULE_ACTIVITY
            || a[i].type == DS_ACT_CREATE_TIMER
            || a[i].type == DS_ACT_START_SUB)
        {
            ids[k].id = a[i].id;
            ids[k].index = i;
            k++;
        }
    }

    qsort(ids, k, sizeof(ds_sched_id_t), ds_id_cmp);

    rc = DS_OK;

    for (i = 1; i < k; i++) {
        if (ids[i].id == ids[i - 1].id) {
            f->index = ids[i].index;
            f->other = ids[i - 1].index;
            rc = ds_action_fail(f, DS_ACTION_ID_TWICE, DS_FIELD_ID);
            break;
        }
    }

    if (ids != stack) {
        free(ids);
    }

    return rc;
}


static int
ds_id_cmp(const void *a, const void *b)
{
    const ds_sched_id_t  *x = a, *y = b;

    if (x->id != y->id) {
        return (x->id > y->id) - (x->id < y->id);
    }

    return (x->index > y->index) - (x->index < y->index);
}


/* the action's instance id, or "<parent id>:<id>" (buf: DS_ID_MAX) */

static int
ds_child_id(ds_str_t id, const ds_action_t *a, char *buf, ds_str_t *child)
{
    int   n;
    char  num[24];

    if (a->instance_id.len) {
        *child = a->instance_id;
        return DS_OK;
    }

    n = snprintf(num, sizeof(num), ":%lld", (long long) a->id);

    if (n < 0 || id.len + (size_t) n > DS_ID_MAX) {
        return DS_INVALID;
    }

    memcpy(buf, id.data, id.len);
    memcpy(buf + id.len, num, (size_t) n);

    child->data = buf;
    child->len = id.len + (size_t) n;

    return DS_OK;
}


/* copies a message; its callers leave those over max in the inbox */

static int
ds_msgs_cb(void *data, uint64_t seq, ds_str_t event)
{
    size_t     *lens;
    ds_str_t    head;
    ds_msgs_t  *m;

    (void) seq;

    m = data;

    if (m->n == m->size) {
        m->size = m->size ? 2 * m->size : 16;
        lens = realloc(m->lens, m->size * sizeof(size_t));

        if (lens == NULL) {
            m->oom = 1;
            return 1;
        }

        m->lens = lens;
    }

    /* the history keeps the event workers see: a grant without its set */

    if (m->shown && dsi_inbox_public(event, &head)) {
        dsi_buf_add(&m->data, head.data, head.len);
        dsi_buf_add(&m->data, "}", 1);
        event.len = head.len + 1;

    } else {
        dsi_buf_add(&m->data, event.data, event.len);
    }

    if (m->data.oom) {
        m->oom = 1;
        return 1;
    }

    m->lens[m->n++] = event.len;

    return 0;
}


/*
 * OrchestratorStarted, the delivered messages as they are, one event per
 * action, OrchestratorCompleted. The history's last seq is looked up once
 * for the episode's events, not once per event.
 */

static int
ds_complete_history(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_msgs_t *msgs, const ds_action_t *a, size_t n, int64_t now)
{
    int       rc;
    size_t    i, off;
    uint64_t  seq;
    ds_buf_t  b;
    ds_str_t  ev;

    rc = dsi_seq_last(txn, DS_DB_HISTORY, hub, id, &seq);
    if (rc != DS_OK) {
        return rc;
    }

    dsi_buf_init(&b);

    dsi_ev_begin(&b, "OrchestratorStarted", -1, now);

    rc = dsi_ev_end(txn, &b, &ev);

    if (rc == DS_OK) {
        rc = ds_history_next(txn, hub, id, &seq, ev);
    }

    for (i = 0, off = 0; rc == DS_OK && i < msgs->n; i++) {
        ev.data = msgs->data.data + off;
        ev.len = msgs->lens[i];
        off += msgs->lens[i];

        rc = ds_history_next(txn, hub, id, &seq, ev);
    }

    for (i = 0; rc == DS_OK && i < n; i++) {
        rc = ds_action_event(txn, id, &a[i], now, &b, &ev);

        if (rc == DS_NOTFOUND) {
            /* no event for this action */
            rc = DS_OK;
            continue;
        }

        if (rc == DS_OK) {
            rc = ds_history_next(txn, hub, id, &seq, ev);
        }
    }

    if (rc == DS_OK) {
        dsi_ev_begin(&b, "OrchestratorCompleted", -1, now);
        rc = dsi_ev_end(txn, &b, &ev);
    }

    if (rc == DS_OK) {
        rc = ds_history_next(txn, hub, id, &seq, ev);
    }

    dsi_buf_free(&b);

    return rc;
}


/* the event after *seq, as ds_history_append() puts it */

static int
ds_history_next(ds_txn_t *txn, ds_str_t hub, ds_str_t id, uint64_t *seq,
    ds_str_t event)
{
    if (*seq == UINT64_MAX) {
        dsi_txn_set_error(txn, "sequence exhausted");
        return DS_ERROR;
    }

    (*seq)++;

    return dsi_seq_put(txn, DS_DB_HISTORY, hub, id, *seq, event);
}


/* the history event of an action into b; DS_NOTFOUND: it has none */

static int
ds_action_event(ds_txn_t *txn, ds_str_t id, const ds_action_t *a,
    int64_t now, ds_buf_t *b, ds_str_t *event)
{
    int            rc;
    char           cb[DS_ID_MAX];
    ds_buf_t       fd;
    ds_str_t       child, eid, fdj;
    unsigned char  eb[DS_ID_MAX];

    switch (a->type) {

    case DS_ACT_SCHEDULE_ACTIVITY:
        dsi_ev_begin(b, "TaskScheduled", a->id, now);
        dsi_ev_str(b, "Name", a->name);
        dsi_ev_json(b, "Input", a->input);

        /* a versioned activity: the worker dispatches by both */

        if (a->version.len) {
            dsi_ev_str(b, "Version", a->version);
        }

        if (a->tags.len) {
            dsi_ev_json(b, "Tags", a->tags);
        }

        break;

    case DS_ACT_CREATE_TIMER:
        dsi_ev_begin(b, "TimerCreated", a->id, now);
        dsi_ev_time(b, "FireAt", a->fire_at);
        break;

    case DS_ACT_START_SUB:
        (void) ds_child_id(id, a, cb, &child);

        dsi_ev_begin(b, "SubOrchestrationInstanceCreated", a->id, now);
        dsi_ev_str(b, "Name", a->name);
        dsi_ev_str(b, "InstanceId", child);
        dsi_ev_json(b, "Input", a->input);

        if (a->version.len) {
            dsi_ev_str(b, "Version", a->version);
        }

        break;

    case DS_ACT_RAISE_EVENT:
        dsi_ev_begin(b, "EventSent", a->id, now);
        dsi_ev_str(b, "InstanceId", a->instance_id);
        dsi_ev_str(b, "Name", a->name);
        dsi_ev_json(b, "Input", a->input);
        break;

    case DS_ACT_SIGNAL_ENTITY:
        (void) dsi_entity_id(a->entity_name, a->entity_key, eb, &eid);

        if (a->request_id.len == 0) {
            /* as the JSON worker protocol has always recorded it */
            dsi_ev_begin(b, "EventSent", a->id, now);
            dsi_ev_str(b, "InstanceId", eid);
            dsi_ev_str(b, "Name", a->name);
            dsi_ev_json(b, "Input", a->input);
            break;
        }

        /* fall through */

    case DS_ACT_CALL_ENTITY:
        (void) dsi_entity_id(a->entity_name, a->entity_key, eb, &eid);

        dsi_ev_begin(b, a->type == DS_ACT_CALL_ENTITY
                        ? "EntityOperationCalled" : "EntityOperationSignaled",
                     a->id, now);
        dsi_ev_str(b, "RequestId", a->request_id);
        dsi_ev_str(b, "Operation", a->name);
        dsi_ev_json(b, "Input", a->input);
        dsi_ev_str(b, "TargetInstanceId", eid);
        break;

    case DS_ACT_LOCK_ENTITIES:
        dsi_ev_begin(b, "EntityLockRequested", a->id, now);
        dsi_ev_str(b, "CriticalSectionId", a->request_id);
        dsi_lock_set_json(b, "LockSet", a);
        dsi_ev_int(b, "Position", 0);
        break;

    case DS_ACT_UNLOCK_ENTITY:
        (void) dsi_entity_id(a->entity_name, a->entity_key, eb, &eid);

        dsi_ev_begin(b, "EntityUnlockSent", a->id, now);
        dsi_ev_str(b, "CriticalSectionId", a->request_id);
        dsi_ev_str(b, "TargetInstanceId", eid);
        break;

    case DS_ACT_COMPLETE:
        dsi_ev_begin(b, "ExecutionCompleted", a->id, now);
        dsi_ev_int(b, "OrchestrationStatus", DS_COMPLETED);
        dsi_ev_json(b, "Result", a->input);
        break;

    case DS_ACT_FAIL:
        dsi_buf_init(&fd);
        dsi_ev_open(&fd);
        dsi_ev_json(&fd, "Reason", a->reason);
        dsi_ev_json(&fd, "Details", a->details);

        rc = dsi_ev_end(txn, &fd, &fdj);
        if (rc != DS_OK) {
            dsi_buf_free(&fd);
            return rc;
        }

        dsi_ev_begin(b, "ExecutionCompleted", a->id, now);
        dsi_ev_int(b, "OrchestrationStatus", DS_FAILED);
        dsi_ev_json(b, "Result", a->reason);
        dsi_ev_json(b, "FailureDetails", fdj);

        dsi_buf_free(&fd);
        break;

    default:
        /* setCustomStatus; continueAsNew clears the history anyway */
        return DS_NOTFOUND;
    }

    return dsi_ev_end(txn, b, event);
}


/*
 * A sub-orchestration that continues as new keeps its parent, and its new
 * ExecutionStarted names it again; the parent's name and version are read
 * from its record (none if it is gone). Nothing is written until the
 * event is built: what the read points to stays valid.
 */

static int
ds_continue_parent(ds_txn_t *txn, ds_str_t hub, const ds_instance_t *inst,
    ds_buf_t *b)
{
    int            rc;
    dsi_start_t    s;
    ds_instance_t  parent;

    if (inst->parent_id.len == 0) {
        return DS_OK;
    }

    memset(&s, 0, sizeof(dsi_start_t));
    s.parent_id = inst->parent_id;
    s.parent_task = inst->parent_task;
    s.parent_execution = inst->parent_execution;

    rc = ds_instance_get(txn, hub, inst->parent_id, &parent);

    if (rc == DS_OK) {
        s.parent_name = parent.name;
        s.parent_version = parent.version;

    } else if (rc != DS_NOTFOUND) {
        return rc;
    }

    dsi_ev_parent(b, &s);

    return DS_OK;
}


/*
 * What the actions do besides history. Activities and timers of an
 * episode that finishes the execution are not scheduled: they would be
 * dropped at once. *ended: a termination ended this instance too, and
 * the actions after it were not applied; for an episode that continues
 * as new, the children the actions before it started end then too
 * (ds_complete_orphans()).
 */

static int
ds_complete_effects(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_instance_t *inst, const ds_action_t *a, size_t n, int64_t now,
    int *ended)
{
    int            rc, finishing;
    char           cb[DS_ID_MAX], rb[DS_ID_MAX + 64];
    size_t         i;
    ds_buf_t       b;
    ds_str_t       child, msg, none, reason;
    dsi_start_t    s;
    ds_activity_t  call;
    ds_instance_t  cinst;

    finishing = n && ds_is_finish(a[n - 1].type);

    none.data = NULL;
    none.len = 0;

    dsi_buf_init(&b);
    rc = DS_OK;
    *ended = 0;

    for (i = 0; rc == DS_OK && !*ended && i < n; i++) {
        switch (a[i].type) {

        case DS_ACT_SCHEDULE_ACTIVITY:
            if (!finishing) {
                memset(&call, 0, sizeof(ds_activity_t));
                call.name = a[i].name;
                call.input = a[i].input;
                call.version = a[i].version;
                call.tags = a[i].tags;

                rc = dsi_activity_schedule(txn, hub, id, a[i].id, &call,
                                           now);
            }

            break;

        case DS_ACT_CREATE_TIMER:
            if (!finishing) {
                rc = dsi_timer_create(txn, hub, id, a[i].id, a[i].fire_at);
            }

            break;

        case DS_ACT_START_SUB:
            (void) ds_child_id(id, &a[i], cb, &child);

            if (child.len == id.len
                && memcmp(child.data, id.data, id.len) == 0)
            {
                /* itself: active, so refused below */
                rc = DS_CONFLICT;

            } else {
                memset(&s, 0, sizeof(dsi_start_t));
                s.name = a[i].name;
                s.input = a[i].input;
                s.version = a[i].version;
                s.tags = a[i].tags;
                s.parent_id = id;
                s.parent_name = inst->name;
                s.parent_version = inst->version;
                s.parent_task = a[i].id;
                s.parent_execution = inst->execution;
                s.parent_created = inst->created;

                rc = dsi_start(txn, hub, child, &s, now, &cinst);
            }

            if (rc != DS_CONFLICT) {
                break;
            }

            /* the parent hears of it as of a failed sub-orchestration */

            reason.len = (size_t) snprintf(rb, sizeof(rb),
                             "An active instance with ID '%.*s' already "
                             "exists.", (int) child.len, child.data);
            reason.data = rb;

            rc = dsi_ev_sub_failed(txn, &b, a[i].id, reason, 0, none, now,
                                   &msg);

            if (rc == DS_OK) {
                rc = dsi_inbox_push(txn, hub, id, inst, msg, now);
            }

            break;

        case DS_ACT_RAISE_EVENT:
            dsi_ev_begin(&b, "EventRaised", -1, now);
            dsi_ev_str(&b, "Name", a[i].name);
            dsi_ev_json(&b, "Input", a[i].input);

            rc = dsi_ev_end(txn, &b, &msg);
            if (rc != DS_OK) {
                break;
            }

            if (a[i].instance_id.len == id.len
                && memcmp(a[i].instance_id.data, id.data, id.len) == 0)
            {
                rc = dsi_inbox_push(txn, hub, id, inst, msg, now);

            } else {
                rc = dsi_inbox_deliver(txn, hub, a[i].instance_id, 0, 0, msg,
                                      now, 0);
            }

            break;

        case DS_ACT_SIGNAL_ENTITY:
            rc = ds_entity_signal_at(txn, hub, a[i].entity_name,
                                     a[i].entity_key, a[i].name, a[i].input,
                                     a[i].fire_at, now);
            break;

        case DS_ACT_CALL_ENTITY:
        case DS_ACT_LOCK_ENTITIES:
        case DS_ACT_UNLOCK_ENTITY:
            rc = ds_entity_message(txn, hub, id, inst, &a[i], now, &b);
            break;

        case DS_ACT_SET_CUSTOM_STATUS:
            inst->custom_status = a[i].input;
            break;

        case DS_ACT_TERMINATE:
            rc = a[i].recurse
                 ? ds_op_terminate_tree(txn, hub, a[i].instance_id,
                                        a[i].input, now)
                 : ds_op_terminate(txn, hub, a[i].instance_id, a[i].input,
                                   now);

            /* missing or ended already: dropped, as events are */
            if (rc == DS_NOTFOUND || rc == DS_GONE) {
                rc = DS_OK;
                break;
            }

            /* only a tree's walk can reach this instance */

            if (rc != DS_OK || !a[i].recurse) {
                break;
            }

            /*
             * this instance ended too when the tree terminated is an
             * ancestor's (itself is refused as a target): nothing after
             * the termination is applied
             */

            rc = ds_instance_get(txn, hub, id, &cinst);

            if (rc == DS_OK && ds_status_is_terminal(cinst.status)) {
                *ended = 1;
            }

            break;

        default:
            /* finishing actions: the caller */
            break;
        }
    }

    dsi_buf_free(&b);

    /* i is one past the termination that ended it */

    if (rc == DS_OK && *ended && a[n - 1].type == DS_ACT_CONTINUE_AS_NEW) {
        rc = ds_complete_orphans(txn, hub, id, inst->created, a, i - 1,
                                 a[i - 1].input, now);
    }

    return rc;
}


/*
 * The walk that ended this instance found its children in its history,
 * and an episode that continues as new writes none: the children the
 * first n actions started would go on with their parent Terminated. They
 * end here, with their trees, as the walk would have ended them, with
 * one exception: each orphan's tree is walked as a termination's own,
 * 16 levels below the orphan, not in what is left of the first walk's
 * 16 levels. An orphan ends even when this instance was the walk's 16th
 * level, and its descendants down to 16 levels below it.
 */

static int
ds_complete_orphans(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    int64_t created, const ds_action_t *a, size_t n, ds_str_t reason,
    int64_t now)
{
    int            rc;
    char           cb[DS_ID_MAX];
    size_t         i;
    ds_str_t       child;
    ds_instance_t  c;

    for (i = 0; i < n; i++) {
        if (a[i].type != DS_ACT_START_SUB
            || ds_child_id(id, &a[i], cb, &child) != DS_OK)
        {
            continue;
        }

        rc = ds_instance_get(txn, hub, child, &c);

        if (rc == DS_NOTFOUND) {
            continue;
        }

        if (rc != DS_OK) {
            return rc;
        }

        /*
         * another's instance (a start refused as it held the id; a
         * child of an earlier life of this id, purged and started
         * again, is another's) or ended: skipped. A start refused
         * because an active child of this instance held the id passes,
         * and that child ends here if the walk left it: a child of an
         * earlier execution, which no history of this one names.
         */

        if (!dsi_parent_is(&c, id, created)
            || ds_status_is_terminal(c.status))
        {
            continue;
        }

        rc = ds_op_terminate_tree(txn, hub, child, reason, now);

        if (rc != DS_OK && rc != DS_GONE && rc != DS_NOTFOUND) {
            return rc;
        }
    }

    return DS_OK;
}


/*
 * "field":["@a@1","@b@2"], the lock set in canonical ids (the PostgreSQL
 * backend renders its events with it too)
 */

void
dsi_lock_set_json(ds_buf_t *b, const char *field, const ds_action_t *a)
{
    size_t         i;
    ds_buf_t       set;
    ds_str_t       eid, json;
    unsigned char  eb[DS_ID_MAX];

    dsi_buf_init(&set);
    dsi_buf_add(&set, "[", 1);

    for (i = 0; i < a->nlock; i++) {
        (void) dsi_entity_canon(a->lock_set[i], eb, &eid);

        if (i) {
            dsi_buf_add(&set, ",", 1);
        }

        dsi_buf_add(&set, "\"", 1);

        /* a key may hold a '"', which JSON escapes */
        json.len = ds_json_escape_len(eid.data, eid.len);

        if (json.len == eid.len) {
            dsi_buf_add(&set, eid.data, eid.len);

        } else {
            b->oom |= ds_lock_set_escaped(&set, eid);
        }

        dsi_buf_add(&set, "\"", 1);
    }

    dsi_buf_add(&set, "]", 1);

    b->oom |= set.oom;
    json.data = set.data;
    json.len = set.len;

    dsi_ev_json(b, field, json);
    dsi_buf_free(&set);
}


static int
ds_lock_set_escaped(ds_buf_t *set, ds_str_t s)
{
    char  *p;

    p = malloc(ds_json_escape_len(s.data, s.len) + 1);
    if (p == NULL) {
        return 1;
    }

    dsi_buf_add(set, p, ds_json_escape(s.data, s.len, p));
    free(p);

    return 0;
}


/*
 * A call, lock or unlock request to an entity's queue, with this
 * instance's life as the sender (id, execution, created time), so that
 * answers and grants come back to it, and to no later life of its id.
 */

static int
ds_entity_message(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    const ds_instance_t *inst, const ds_action_t *a, int64_t now,
    ds_buf_t *b)
{
    int            rc;
    ds_str_t       eid, msg;
    unsigned char  eb[DS_ID_MAX];

    if (a->type == DS_ACT_LOCK_ENTITIES) {
        rc = dsi_entity_canon(a->lock_set[0], eb, &eid);

    } else {
        rc = dsi_entity_id(a->entity_name, a->entity_key, eb, &eid);
    }

    if (rc != DS_OK) {
        return DS_INVALID;
    }

    dsi_ev_open(b);

    switch (a->type) {

    case DS_ACT_CALL_ENTITY:
        dsi_ev_str(b, "operation", a->name);
        dsi_ev_json(b, "input", a->input);
        dsi_ev_time(b, "timestamp", now);
        dsi_ev_str(b, "requestId", a->request_id);
        break;

    case DS_ACT_LOCK_ENTITIES:
        dsi_ev_str(b, "lock", a->request_id);
        dsi_lock_set_json(b, "lockSet", a);
        dsi_ev_int(b, "position", 0);
        break;

    default:
        dsi_ev_str(b, "unlock", a->request_id);
        break;
    }

    dsi_ev_str(b, "parentInstanceId", id);
    dsi_ev_int(b, "parentExecution", (int64_t) inst->execution);
    dsi_ev_int(b, "parentCreated", inst->created);

    if (a->type != DS_ACT_CALL_ENTITY) {
        dsi_ev_time(b, "timestamp", now);
    }

    rc = dsi_ev_end(txn, b, &msg);
    if (rc != DS_OK) {
        return rc;
    }

    return dsi_entity_send(txn, hub, eid, msg, now);
}
