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
 * result delivered when it completed, and left alone when it runs. The
 * instance is Running and its output cleared.
 *
 * The results of what is rescheduled make the instance runnable. When
 * nothing was, ExecutionRewound goes to the inbox instead of the history
 * so that an episode replays the history without the failure.
 */


#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ds_key.h"


typedef struct {
    uint64_t            seq;
    json_t             *ev;
    const char         *type;
    int64_t             id;         /* EventId, TaskScheduledId, TimerId */
} ds_hev_t;


typedef struct {
    ds_txn_t           *txn;
    ds_hev_t           *ev;
    size_t              n;
    size_t              size;
    int                 failed;
} ds_hist_t;


static int ds_hist_cb(void *data, uint64_t seq, ds_str_t event);
static void ds_hist_free(ds_hist_t *h);
static int ds_is(const ds_hev_t *e, const char *type);
static int ds_has_result(const ds_hist_t *h, const char *type, int64_t id);
static ds_str_t ds_json_member_str(json_t *ev, const char *name);
static char *ds_json_member_text(json_t *ev, const char *name,
    ds_str_t *text);
static int ds_rewind_sub(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_instance_t *inst, const ds_hev_t *e, int64_t now, unsigned depth,
    int *pending);


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
    char          *mem, *text;
    size_t         i;
    int64_t        fire_at;
    uint64_t       last;
    ds_str_t       event, none, name, input, s;
    ds_hist_t      h;
    ds_hev_t      *e;
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
    h.txn = txn;

    rc = ds_history_read(txn, hub, id, ds_hist_cb, &h);

    if (rc == DS_OK && h.failed) {
        dsi_txn_set_error(txn, "out of memory");
        rc = DS_ERROR;
    }

    none.data = NULL;
    none.len = 0;
    pending = 0;
    event.data = NULL;

    /* the failure leaves the history */

    for (i = 0; rc == DS_OK && i < h.n; i++) {
        e = &h.ev[i];

        if (ds_is(e, "TaskFailed")
            || ds_is(e, "SubOrchestrationInstanceFailed")
            || (ds_is(e, "ExecutionCompleted")
                && json_integer_value(json_object_get(e->ev,
                                                      "OrchestrationStatus"))
                   == DS_FAILED))
        {
            rc = dsi_seq_del_one(txn, DS_DB_HISTORY, hub, id, e->seq);
            e->type = "";
        }
    }

    /* what is pending is scheduled again */

    for (i = 0; rc == DS_OK && i < h.n; i++) {
        e = &h.ev[i];

        if (e->id < 0) {
            continue;
        }

        if (ds_is(e, "TaskScheduled")
            && !ds_has_result(&h, "TaskCompleted", e->id))
        {
            name = ds_json_member_str(e->ev, "Name");
            text = ds_json_member_text(e->ev, "Input", &input);

            if (name.len == 0 || (text == NULL && input.len)) {
                free(text);
                continue;
            }

            rc = dsi_activity_schedule(txn, hub, id, e->id, name, input, now);
            free(text);
            pending = 1;

        } else if (ds_is(e, "TimerCreated")
                   && !ds_has_result(&h, "TimerFired", e->id))
        {
            s = ds_json_member_str(e->ev, "FireAt");

            if (s.len && ds_time_parse(s.data, s.len, &fire_at) == DS_OK) {
                rc = dsi_timer_create(txn, hub, id, e->id, fire_at);
                pending = 1;
            }

        } else if (ds_is(e, "SubOrchestrationInstanceCreated")
                   && !ds_has_result(&h, "SubOrchestrationInstanceCompleted",
                                     e->id))
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
        inst.updated = now;
        inst.ready_at = 0;

        if (last) {
            dsi_ready_mark(&inst, now);
        }

        rc = ds_instance_put(txn, hub, id, &inst);
    }

    free((void *) event.data);
    ds_hist_free(&h);
    free(mem);

    return rc;
}


/*
 * A sub-orchestration without a result: rewound when it failed, its
 * result delivered when it completed, started again when it is gone or
 * ended otherwise, left alone when it runs.
 */

static int
ds_rewind_sub(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_instance_t *inst,
    const ds_hev_t *e, int64_t now, unsigned depth, int *pending)
{
    int            rc;
    char          *text;
    ds_buf_t       b;
    ds_str_t       child, name, input, msg, none;
    dsi_start_t    s;
    ds_instance_t  c;

    child = ds_json_member_str(e->ev, "InstanceId");

    if (!dsi_key_valid(hub, child)) {
        return DS_OK;
    }

    rc = ds_instance_get(txn, hub, child, &c);

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

    name = ds_json_member_str(e->ev, "Name");
    text = ds_json_member_text(e->ev, "Input", &input);

    if (name.len == 0 || (text == NULL && input.len)) {
        free(text);
        return DS_OK;
    }

    memset(&s, 0, sizeof(dsi_start_t));
    s.name = name;
    s.input = input;
    s.parent_id = id;
    s.parent_task = e->id;
    s.parent_execution = inst->execution;

    rc = dsi_start(txn, hub, child, &s, now, &c);
    free(text);

    *pending = 1;

    return rc == DS_CONFLICT ? DS_OK : rc;
}


static int
ds_hist_cb(void *data, uint64_t seq, ds_str_t event)
{
    json_t      *ev, *v;
    ds_hev_t    *p;
    ds_hist_t   *h;
    const char  *type;

    h = data;

    ev = json_loadb(event.data, event.len, 0, NULL);
    if (ev == NULL || !json_is_object(ev)) {
        /* not ours to judge: it stays as it is */
        json_decref(ev);
        return 0;
    }

    type = json_string_value(json_object_get(ev, "EventType"));
    if (type == NULL) {
        json_decref(ev);
        return 0;
    }

    if (h->n == h->size) {
        h->size = h->size ? 2 * h->size : 32;
        p = realloc(h->ev, h->size * sizeof(ds_hev_t));

        if (p == NULL) {
            json_decref(ev);
            h->failed = 1;
            return 1;
        }

        h->ev = p;
    }

    p = &h->ev[h->n++];
    p->seq = seq;
    p->ev = ev;
    p->type = type;

    /* a result's id is the one it refers to; every event has an EventId */

    v = json_object_get(ev, "TaskScheduledId");

    if (v == NULL) {
        v = json_object_get(ev, "TimerId");
    }

    if (v == NULL) {
        v = json_object_get(ev, "EventId");
    }

    p->id = json_is_integer(v) ? (int64_t) json_integer_value(v) : -1;

    return 0;
}


static void
ds_hist_free(ds_hist_t *h)
{
    size_t  i;

    for (i = 0; i < h->n; i++) {
        json_decref(h->ev[i].ev);
    }

    free(h->ev);
}


static int
ds_is(const ds_hev_t *e, const char *type)
{
    return strcmp(e->type, type) == 0;
}


static int
ds_has_result(const ds_hist_t *h, const char *type, int64_t id)
{
    size_t  i;

    for (i = 0; i < h->n; i++) {
        if (h->ev[i].id == id && ds_is(&h->ev[i], type)) {
            return 1;
        }
    }

    return 0;
}


/* a string member; len 0 when absent */

static ds_str_t
ds_json_member_str(json_t *ev, const char *name)
{
    json_t    *v;
    ds_str_t   s;

    v = json_object_get(ev, name);

    s.data = json_string_value(v);
    s.len = s.data ? json_string_length(v) : 0;

    return s;
}


/*
 * A member as compact JSON text (len 0 for null or absent); returns the
 * allocation to free. NULL with text->len 1: out of memory.
 */

static char *
ds_json_member_text(json_t *ev, const char *name, ds_str_t *text)
{
    char    *p;
    json_t  *v;

    text->data = NULL;
    text->len = 0;

    v = json_object_get(ev, name);

    if (v == NULL || json_is_null(v)) {
        return NULL;
    }

    p = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);

    if (p == NULL) {
        text->len = 1;
        return NULL;
    }

    text->data = p;
    text->len = strlen(p);

    return p;
}
