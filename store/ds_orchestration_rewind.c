/*
 * Copyright (C) ngx_durable authors
 *
 * Rewind of a Failed instance. The failure leaves the replayed history:
 * the ExecutionCompleted (Failed) event, every TaskFailed and every
 * SubOrchestrationInstanceFailed event are deleted, and an
 * ExecutionRewound {Reason} event stays visible. What the history shows
 * as pending is scheduled again, matched by TaskScheduledId == EventId
 * (TimerId for timers): activities (TaskScheduled without TaskCompleted)
 * become new work items, timers (TimerCreated without TimerFired) are
 * created again, and a sub-orchestration without a result is rewound
 * when it failed, restarted when it is gone or ended otherwise, its
 * result delivered when it completed, and left alone when it runs. An
 * instance under the child's id that is not this life's child (another
 * parent's, or the old life's of an id purged and started again) is left
 * alone too, and the sub-orchestration fails instead: a
 * SubOrchestrationInstanceFailed goes to the inbox, so that the rewound
 * code sees the task fail. The instance is Running and its output
 * cleared.
 *
 * Results of activities, timers and sub-orchestrations that came while
 * the failing episode ran, waiting in the inbox, are dropped first
 * (dsi_inbox_drop_answers()): what they answer is scheduled again, so
 * that each task gets one result. An entity's answer stays: no call is
 * sent again. A lock grant that came while the failing episode ran
 * stays too; a lock request (EntityLockRequested) whose grant neither
 * the history nor the inbox holds, and which no entity of its set has
 * any more (its grant came after the failure, and was released as no
 * one took it), is sent again once the instance runs, so that the
 * rewound execution gets its grant.
 *
 * The results of what is rescheduled make the instance runnable. When
 * nothing was, ExecutionRewound goes to the inbox instead of the history
 * so that an episode replays the history without the failure.
 */


#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ds_key.h"
#include "ds_jspan.h"


/* the ErrorType of a sub-orchestration whose id another instance holds */
#define DS_REWIND_ID_TAKEN  "SubOrchestrationIdTaken"


/* the events rewind looks at; the rest are DS_HEV_OTHER */
typedef enum {
    DS_HEV_OTHER = 0,
    DS_HEV_EXECUTION_COMPLETED,
    DS_HEV_TASK_SCHEDULED,
    DS_HEV_TASK_COMPLETED,
    DS_HEV_TASK_FAILED,
    DS_HEV_TIMER_CREATED,
    DS_HEV_TIMER_FIRED,
    DS_HEV_SUB_CREATED,
    DS_HEV_SUB_COMPLETED,
    DS_HEV_SUB_FAILED,
    DS_HEV_LOCK_REQUESTED,
    DS_HEV_LOCK_GRANTED
} ds_hev_type_e;


/*
 * One event of the history, read by spans of its text: strings decoded in
 * place (a decoded string is never longer), Input kept as its JSON text
 */
typedef struct {
    uint64_t            seq;
    size_t              off;        /* its text in ds_hist_t.text */
    size_t              len;
    ds_hev_type_e       type;
    int64_t             id;         /* EventId, TaskScheduledId, TimerId */
    int                 failed;     /* an ExecutionCompleted of a failure */
    ds_str_t            name;       /* Name; len 0: absent, not a string */
    ds_str_t            input;      /* Input; len 0: absent or null */
    ds_str_t            fire_at;    /* FireAt */
    ds_str_t            instance;   /* InstanceId */
    ds_str_t            version;    /* Version */
    ds_str_t            tags;       /* Tags, as its JSON text */
    ds_str_t            cs;         /* CriticalSectionId */
    ds_str_t            lock_set;   /* LockSet, as its JSON text */
    int                 resend;     /* a lock request to send again */
} ds_hev_t;


typedef struct {
    ds_hev_t           *ev;
    size_t              n;
    size_t              size;
    ds_buf_t            text;       /* the events' text, copied */
    int                 failed;
} ds_hist_t;


static int ds_hist_cb(void *data, uint64_t seq, ds_str_t event);
static int ds_hist_parse(ds_hist_t *h);
static int ds_hev_parse(ds_hev_t *e, char *text);
static ds_str_t ds_hev_string(ds_str_t span);
static int ds_member_is(ds_str_t key, const char *name);
static void ds_hist_free(ds_hist_t *h);
static int ds_has_result(const ds_hist_t *h, ds_hev_type_e type, int64_t id);
static int ds_rewind_sub(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_instance_t *inst, const ds_hev_t *e, int64_t now, unsigned depth,
    int *pending);
static int ds_rewind_sub_taken(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_instance_t *inst, const ds_hev_t *e, int64_t now);
static int ds_has_grant(const ds_hist_t *h, ds_str_t cs);
static int ds_rewind_lock_check(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    const ds_hist_t *h, ds_hev_t *e);
static int ds_rewind_lock(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    const ds_instance_t *inst, const ds_hev_t *e, int64_t now);
static int ds_lock_first(ds_str_t set, unsigned char *buf, ds_str_t *eid);


int
ds_op_rewind(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_str_t reason,
    int64_t now)
{
    int  rc;

    rc = dsi_room(txn, DS_ROOM_ADD);
    if (rc != DS_OK) {
        return rc;
    }

    return dsi_rewind(txn, hub, id, reason, now, 0);
}


int
dsi_rewind(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_str_t reason,
    int64_t now, unsigned depth)
{
    int            rc, pending;
    char          *mem;
    size_t         i;
    int64_t        fire_at;
    uint64_t       last;
    ds_str_t       event, none;
    ds_hist_t      h;
    ds_hev_t      *e;
    ds_activity_t  call;
    ds_instance_t  inst;

    rc = ds_instance_get(txn, hub, id, &inst);
    if (rc != DS_OK) {
        return rc;
    }

    if (inst.status != DS_FAILED) {
        return ds_status_is_terminal(inst.status) ? DS_GONE
                                                  : DS_PRECONDITION;
    }

    rc = dsi_instance_own(txn, &inst, &mem);
    if (rc != DS_OK) {
        return rc;
    }

    memset(&h, 0, sizeof(ds_hist_t));
    dsi_buf_init(&h.text);

    /* copied: what a read points to moves once the txn writes */

    rc = ds_history_read(txn, hub, id, ds_hist_cb, &h);

    if (rc == DS_OK && (h.failed || h.text.oom || !ds_hist_parse(&h))) {
        dsi_txn_set_error(txn, "out of memory");
        rc = DS_ERROR;
    }

    none.data = NULL;
    none.len = 0;
    pending = 0;
    event.data = NULL;

    /*
     * Results that came while the failing episode ran wait in the inbox;
     * what they answer is scheduled again below, so they go (else a task
     * would get two); an entity's answer stays, as no call is sent again
     */

    if (rc == DS_OK) {
        rc = dsi_inbox_drop_answers(txn, hub, id, 1, 0);
    }

    /* the failure leaves the history */

    for (i = 0; rc == DS_OK && i < h.n; i++) {
        e = &h.ev[i];

        if (e->type == DS_HEV_TASK_FAILED || e->type == DS_HEV_SUB_FAILED
            || (e->type == DS_HEV_EXECUTION_COMPLETED && e->failed))
        {
            rc = dsi_seq_del_one(txn, DS_DB_HISTORY, hub, id, e->seq);
            e->type = DS_HEV_OTHER;
        }
    }

    /* what is pending is scheduled again */

    for (i = 0; rc == DS_OK && i < h.n; i++) {
        e = &h.ev[i];

        if (e->type == DS_HEV_LOCK_REQUESTED) {
            /* whatever its EventId, as on PostgreSQL */
            rc = ds_rewind_lock_check(txn, hub, id, &h, e);
            pending |= e->resend;
            continue;
        }

        if (e->id < 0) {
            continue;
        }

        if (e->type == DS_HEV_TASK_SCHEDULED
            && !ds_has_result(&h, DS_HEV_TASK_COMPLETED, e->id))
        {
            if (e->name.len == 0) {
                continue;
            }

            memset(&call, 0, sizeof(ds_activity_t));
            call.name = e->name;
            call.input = e->input;
            call.version = e->version;
            call.tags = e->tags;

            rc = dsi_activity_schedule(txn, hub, id, e->id, &call, now);
            pending = 1;

        } else if (e->type == DS_HEV_TIMER_CREATED
                   && !ds_has_result(&h, DS_HEV_TIMER_FIRED, e->id))
        {
            if (e->fire_at.len
                && ds_time_parse(e->fire_at.data, e->fire_at.len, &fire_at)
                   == DS_OK)
            {
                rc = dsi_timer_create(txn, hub, id, e->id, fire_at);
                pending = 1;
            }

        } else if (e->type == DS_HEV_SUB_CREATED
                   && !ds_has_result(&h, DS_HEV_SUB_COMPLETED, e->id))
        {
            rc = ds_rewind_sub(txn, hub, id, &inst, e, now, depth, &pending);
        }
    }

    if (rc == DS_OK) {
        rc = dsi_event_build(txn, "ExecutionRewound", now, NULL, none,
                            "Reason", reason, &event);
    }

    if (rc == DS_OK) {
        if (pending) {
            rc = ds_history_append(txn, hub, id, event, NULL);

        } else {
            rc = dsi_inbox_push(txn, hub, id, &inst, event, now);
        }
    }

    if (rc == DS_OK) {
        rc = dsi_seq_last(txn, DS_DB_INBOX, hub, id, &last);
    }

    if (rc == DS_OK) {
        inst.status = DS_RUNNING;
        inst.output = none;
        inst.failure = none;
        inst.updated = now;
        inst.ready_at = 0;

        if (last) {
            dsi_ready_mark(&inst, now);
        }

        rc = ds_instance_put(txn, hub, id, &inst);
    }

    /*
     * the lock requests last: an entity may grant at once, to the
     * instance that runs again (a grant to a Failed one is released)
     */

    for (i = 0; rc == DS_OK && i < h.n; i++) {
        if (h.ev[i].resend) {
            rc = ds_rewind_lock(txn, hub, id, &inst, &h.ev[i], now);
        }
    }

    free((void *) event.data);
    ds_hist_free(&h);
    free(mem);

    return rc;
}


/*
 * A sub-orchestration without a result: rewound when it failed, its
 * result delivered when it completed, started again when it is gone or
 * ended otherwise, left alone when it runs. When the instance under its
 * id is not this life's child (dsi_parent_is()) it is left alone too,
 * and the task fails (ds_rewind_sub_taken()).
 */

static int
ds_rewind_sub(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_instance_t *inst,
    const ds_hev_t *e, int64_t now, unsigned depth, int *pending)
{
    int            rc;
    ds_buf_t       b;
    ds_str_t       child, msg, none;
    dsi_start_t    s;
    ds_instance_t  c;

    child = e->instance;

    if (!dsi_key_valid(hub, child)) {
        return DS_OK;
    }

    rc = ds_instance_get(txn, hub, child, &c);

    /*
     * another's instance under the id (the old life's child of an id
     * purged and started again, whose start this life was refused): left
     * alone: neither rewound nor started again, its output not taken;
     * the task fails instead, so that the rewound code hears of it
     */

    if (rc == DS_OK && !dsi_parent_is(&c, id, inst->created)) {
        *pending = 1;
        return ds_rewind_sub_taken(txn, hub, id, inst, e, now);
    }

    if (rc == DS_OK && !ds_status_is_terminal(c.status)) {
        *pending = 1;
        return DS_OK;
    }

    if (rc == DS_OK && c.status == DS_FAILED) {
        if (depth >= DS_REWIND_DEPTH) {
            return DS_OK;
        }

        none.data = NULL;
        none.len = 0;

        *pending = 1;

        return dsi_rewind(txn, hub, child, none, now, depth + 1);
    }

    if (rc == DS_OK && c.status == DS_COMPLETED) {
        dsi_buf_init(&b);
        dsi_ev_begin(&b, "SubOrchestrationInstanceCompleted", -1, now);
        dsi_ev_int(&b, "TaskScheduledId", e->id);
        dsi_ev_json(&b, "Result", c.output);

        rc = dsi_ev_end(txn, &b, &msg);

        if (rc == DS_OK) {
            rc = dsi_inbox_push(txn, hub, id, inst, msg, now);
            *pending = 1;
        }

        dsi_buf_free(&b);

        return rc;
    }

    if (rc != DS_OK && rc != DS_NOTFOUND) {
        return rc;
    }

    if (e->name.len == 0) {
        return DS_OK;
    }

    memset(&s, 0, sizeof(dsi_start_t));
    s.name = e->name;
    s.input = e->input;
    s.parent_id = id;
    s.parent_name = inst->name;
    s.parent_version = inst->version;
    s.parent_task = e->id;
    s.parent_execution = inst->execution;
    s.parent_created = inst->created;

    rc = dsi_start(txn, hub, child, &s, now, &c);

    *pending = 1;

    return rc == DS_CONFLICT ? DS_OK : rc;
}


/*
 * The sub-orchestration e fails: its id belongs to another instance. The
 * parent gets SubOrchestrationInstanceFailed {TaskScheduledId, Reason,
 * Details}, as from a failed child, Details in the shape the gRPC codec
 * stores a failure in (ErrorType DS_REWIND_ID_TAKEN).
 */

static int
ds_rewind_sub_taken(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_instance_t *inst, const ds_hev_t *e, int64_t now)
{
    int       rc;
    char      rb[DS_ID_MAX + 96];
    ds_buf_t  b, d;
    ds_str_t  reason, details, msg, type, no;

    reason.len = (size_t) snprintf(rb, sizeof(rb),
                     "sub-orchestration '%.*s' cannot be rewound: its id "
                     "now belongs to another instance",
                     (int) e->instance.len, e->instance.data);
    reason.data = rb;

    type.data = DS_REWIND_ID_TAKEN;
    type.len = sizeof(DS_REWIND_ID_TAKEN) - 1;
    no.data = "false";
    no.len = sizeof("false") - 1;

    dsi_buf_init(&d);
    dsi_ev_open(&d);
    dsi_ev_str(&d, "ErrorType", type);
    dsi_ev_str(&d, "ErrorMessage", reason);
    dsi_ev_json(&d, "IsNonRetriable", no);

    rc = dsi_ev_end(txn, &d, &details);

    dsi_buf_init(&b);

    if (rc == DS_OK) {
        rc = dsi_ev_sub_failed(txn, &b, e->id, reason, 0, details, now, &msg);
    }

    if (rc == DS_OK) {
        rc = dsi_inbox_push(txn, hub, id, inst, msg, now);
    }

    dsi_buf_free(&b);
    dsi_buf_free(&d);

    return rc;
}


/*
 * Whether the lock request e is to be sent again (e->resend): its grant
 * is neither in the history nor in the inbox, and the request is no
 * longer on its way through its set.
 */

static int
ds_rewind_lock_check(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    const ds_hist_t *h, ds_hev_t *e)
{
    int            rc, found;
    ds_str_t       eid;
    unsigned char  eb[DS_ID_MAX];

    if (e->cs.len == 0 || ds_has_grant(h, e->cs)
        || ds_lock_first(e->lock_set, eb, &eid) != DS_OK)
    {
        return DS_OK;
    }

    rc = dsi_inbox_has_grant(txn, hub, id, e->cs, &found);

    if (rc == DS_OK && !found) {
        rc = dsi_entity_lock_pending(txn, hub, eid, id, e->cs, &found);
    }

    if (rc == DS_OK && !found) {
        e->resend = 1;
    }

    return rc;
}


/* the lock request e again, from this execution, to its set's first */

static int
ds_rewind_lock(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    const ds_instance_t *inst, const ds_hev_t *e, int64_t now)
{
    int            rc;
    ds_buf_t       b;
    ds_str_t       eid, msg;
    unsigned char  eb[DS_ID_MAX];

    if (ds_lock_first(e->lock_set, eb, &eid) != DS_OK) {
        return DS_OK;
    }

    /* as ds_entity_message() writes it */

    dsi_buf_init(&b);
    dsi_ev_open(&b);
    dsi_ev_str(&b, "lock", e->cs);
    dsi_ev_json(&b, "lockSet", e->lock_set);
    dsi_ev_int(&b, "position", 0);
    dsi_ev_str(&b, "parentInstanceId", id);
    dsi_ev_int(&b, "parentExecution", (int64_t) inst->execution);
    dsi_ev_int(&b, "parentCreated", inst->created);
    dsi_ev_time(&b, "timestamp", now);

    rc = dsi_ev_end(txn, &b, &msg);

    if (rc == DS_OK) {
        rc = dsi_entity_send(txn, hub, eid, msg, now);
    }

    dsi_buf_free(&b);

    return rc;
}


/* the first entity of a lock set (JSON), as the store keys it */

static int
ds_lock_first(ds_str_t set, unsigned char *buf, ds_str_t *eid)
{
    int          rc;
    json_t      *j, *v;
    ds_str_t     id;

    if (set.len < 2 || set.data[0] != '[') {
        return DS_INVALID;
    }

    j = json_loadb(set.data, set.len, 0, NULL);
    if (j == NULL) {
        return DS_INVALID;
    }

    v = json_array_get(j, 0);
    rc = DS_INVALID;

    if (json_is_string(v)) {
        id.data = json_string_value(v);
        id.len = json_string_length(v);
        rc = dsi_entity_canon(id, buf, eid);
    }

    json_decref(j);

    return rc;
}


/* each event's text is copied; it is read once the history is whole */

static int
ds_hist_cb(void *data, uint64_t seq, ds_str_t event)
{
    ds_hev_t   *p;
    ds_hist_t  *h;

    h = data;

    if (h->n == h->size) {
        h->size = h->size ? 2 * h->size : 32;
        p = realloc(h->ev, h->size * sizeof(ds_hev_t));

        if (p == NULL) {
            h->failed = 1;
            return 1;
        }

        h->ev = p;
    }

    p = &h->ev[h->n];
    memset(p, 0, sizeof(ds_hev_t));

    p->seq = seq;
    p->off = h->text.len;
    p->len = event.len;

    dsi_buf_add(&h->text, event.data, event.len);

    if (h->text.oom) {
        return 1;
    }

    h->n++;

    return 0;
}


/*
 * Reads the events; one that is not a JSON object with a string EventType
 * is not ours to judge: it is left out and stays in the history as it is.
 * The store writes events minified; one that came otherwise (an import)
 * is minified in place for the span reader. Returns 0 when out of memory.
 */

static int
ds_hist_parse(ds_hist_t *h)
{
    int              rc;
    char            *p;
    size_t           i, n;
    ds_json_error_t  err;

    n = 0;

    for (i = 0; i < h->n; i++) {
        h->ev[n] = h->ev[i];
        p = h->text.data + h->ev[n].off;

        rc = dsi_json_check(p, h->ev[n].len, UINT_MAX, &err);
        if (rc < 0) {
            return 0;
        }

        if (rc == 0) {
            continue;
        }

        h->ev[n].len = dsi_json_minify(p, h->ev[n].len, p);

        if (ds_hev_parse(&h->ev[n], h->text.data)) {
            n++;
        }
    }

    h->n = n;

    return 1;
}


static int
ds_hev_parse(ds_hev_t *e, char *text)
{
    char              buf[sizeof("SubOrchestrationInstanceCompleted")];
    size_t            i, len;
    int64_t           status;
    ds_str_t          key, value, type, event_id, scheduled, timer, st;
    ds_jspan_iter_t   it;
    const char       *p;

    static const struct {
        const char     *name;
        ds_hev_type_e   type;
    } types[] = {
        { "ExecutionCompleted", DS_HEV_EXECUTION_COMPLETED },
        { "TaskScheduled", DS_HEV_TASK_SCHEDULED },
        { "TaskCompleted", DS_HEV_TASK_COMPLETED },
        { "TaskFailed", DS_HEV_TASK_FAILED },
        { "TimerCreated", DS_HEV_TIMER_CREATED },
        { "TimerFired", DS_HEV_TIMER_FIRED },
        { "SubOrchestrationInstanceCreated", DS_HEV_SUB_CREATED },
        { "SubOrchestrationInstanceCompleted", DS_HEV_SUB_COMPLETED },
        { "SubOrchestrationInstanceFailed", DS_HEV_SUB_FAILED },
        { "EntityLockRequested", DS_HEV_LOCK_REQUESTED },
        { "EntityLockGranted", DS_HEV_LOCK_GRANTED }
    };

    p = text + e->off;

    if (e->len == 0 || p[0] != '{'
        || !ds_jspan_iter(&it, (const unsigned char *) p, e->len))
    {
        return 0;
    }

    type.data = NULL;
    event_id.data = NULL;
    scheduled.data = NULL;
    timer.data = NULL;
    st.data = NULL;

    /* the last of members of the same name counts, as in a parser */

    while (ds_jspan_next(&it, &key, &value)) {

        if (ds_member_is(key, "EventType")) {
            type = value;

        } else if (ds_member_is(key, "EventId")) {
            event_id = value;

        } else if (ds_member_is(key, "TaskScheduledId")) {
            scheduled = value;

        } else if (ds_member_is(key, "TimerId")) {
            timer = value;

        } else if (ds_member_is(key, "OrchestrationStatus")) {
            st = value;

        } else if (ds_member_is(key, "Name")) {
            e->name = value;

        } else if (ds_member_is(key, "Input")) {
            e->input = value;

        } else if (ds_member_is(key, "FireAt")) {
            e->fire_at = value;

        } else if (ds_member_is(key, "InstanceId")) {
            e->instance = value;

        } else if (ds_member_is(key, "Version")) {
            e->version = value;

        } else if (ds_member_is(key, "Tags")) {
            e->tags = value;

        } else if (ds_member_is(key, "CriticalSectionId")) {
            e->cs = value;

        } else if (ds_member_is(key, "LockSet")) {
            e->lock_set = value;
        }
    }

    if (type.data == NULL || type.data[0] != '"') {
        return 0;
    }

    e->type = DS_HEV_OTHER;

    if (!ds_jspan_decode(type, buf, sizeof(buf), &len)) {
        len = 0;    /* too long for buf: none of ours */
    }

    for (i = 0; len && i < sizeof(types) / sizeof(types[0]); i++) {
        if (strlen(types[i].name) == len
            && memcmp(types[i].name, buf, len) == 0)
        {
            e->type = types[i].type;
            break;
        }
    }

    /*
     * a result's id is the one it refers to (every event has an EventId,
     * -1 on results): TaskScheduledId, then TimerId, then EventId
     */

    value = scheduled.data ? scheduled : timer.data ? timer : event_id;

    if (value.data == NULL || !ds_jspan_int(value, &e->id)) {
        e->id = -1;
    }

    e->failed = st.data && ds_jspan_int(st, &status) && status == DS_FAILED;

    /* each string is decoded within its own span: the others stay valid */

    e->name = ds_hev_string(e->name);
    e->fire_at = ds_hev_string(e->fire_at);
    e->instance = ds_hev_string(e->instance);
    e->version = ds_hev_string(e->version);
    e->cs = ds_hev_string(e->cs);

    if (e->tags.len && e->tags.data[0] != '{') {
        e->tags.len = 0;
    }

    if (e->input.len == 4 && memcmp(e->input.data, "null", 4) == 0) {
        e->input.len = 0;
    }

    return 1;
}


/* a string member decoded in place; len 0 when absent or not a string */

static ds_str_t
ds_hev_string(ds_str_t span)
{
    size_t    len;
    ds_str_t  s;

    s.data = span.data;
    s.len = 0;

    if (span.data
        && ds_jspan_decode(span, (char *) span.data, span.len, &len))
    {
        s.len = len;
    }

    return s;
}


/* whether a member is name: as the store writes it, or escaped */

static int
ds_member_is(ds_str_t key, const char *name)
{
    char      buf[32];
    size_t    len;
    ds_str_t  quoted;

    if (memchr(key.data, '\\', key.len) == NULL) {
        return key.len == strlen(name)
               && memcmp(key.data, name, key.len) == 0;
    }

    /* an escaped name ("Event\u0054ype", from an import): decode it */

    quoted.data = key.data - 1;
    quoted.len = key.len + 2;

    return ds_jspan_decode(quoted, buf, sizeof(buf), &len)
           && len == strlen(name) && memcmp(buf, name, len) == 0;
}


static void
ds_hist_free(ds_hist_t *h)
{
    free(h->ev);
    dsi_buf_free(&h->text);
}


/* whether the history holds the grant of the critical section cs */

static int
ds_has_grant(const ds_hist_t *h, ds_str_t cs)
{
    size_t  i;

    for (i = 0; i < h->n; i++) {
        if (h->ev[i].type == DS_HEV_LOCK_GRANTED
            && h->ev[i].cs.len == cs.len
            && memcmp(h->ev[i].cs.data, cs.data, cs.len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static int
ds_has_result(const ds_hist_t *h, ds_hev_type_e type, int64_t id)
{
    size_t  i;

    for (i = 0; i < h->n; i++) {
        if (h->ev[i].id == id && h->ev[i].type == type) {
            return 1;
        }
    }

    return 0;
}
