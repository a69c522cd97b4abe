
/*
 * Copyright (C) ngx_durable authors
 *
 * The showHistory view: stored Durable Task history events reshaped the
 * way the reference implementation shows them (reference-behaviour.md §7).
 * Events are stored as compact JSON the store wrote itself, so the view
 * works on spans of those bytes: members are dropped, renamed or added,
 * values are copied as they are, nothing is parsed into a tree.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_history.h"
#include "ngx_http_durable_jspan.h"
#include "ngx_http_durable_render.h"


#define ngx_http_durable_sv_is(v, s)                                         \
    ((v)->len == sizeof(s) - 1 && ngx_memcmp((v)->data, s, (v)->len) == 0)


typedef struct {
    ngx_http_durable_sv_t       key;        /* without its quotes */
    ngx_http_durable_sv_t       value;      /* raw JSON */
} ngx_http_durable_member_t;


typedef struct {
    ngx_uint_t                  first;      /* its members in members[] */
    ngx_uint_t                  n;
    ngx_http_durable_sv_t       type;       /* EventType, without quotes */
    ngx_http_durable_sv_t       event_id;   /* EventId, raw number */
    ngx_http_durable_sv_t       scheduled;  /* TaskScheduledId, raw */
    ngx_int_t                   merged;     /* index of its scheduled event */
    unsigned                    drop:1;
} ngx_http_durable_event_t;


typedef struct {
    ngx_array_t                 events;     /* ngx_http_durable_event_t */
    ngx_array_t                 members;    /* ngx_http_durable_member_t */
    ngx_uint_t                  failed;
} ngx_http_durable_collect_t;


static int ngx_http_durable_collect_event(void *data, uint64_t seq,
    ds_str_t event);
static void ngx_http_durable_merge(ngx_http_durable_event_t *ev,
    ngx_uint_t n);
static void ngx_http_durable_render_event(ngx_http_durable_out_t *out,
    ngx_http_durable_event_t *ev, ngx_http_durable_event_t *all,
    ngx_http_durable_member_t *m, ngx_uint_t show_input,
    ngx_uint_t show_output);
static ngx_uint_t ngx_http_durable_is_schedule(ngx_http_durable_sv_t *type);
static ngx_uint_t ngx_http_durable_is_result(ngx_http_durable_sv_t *type);
static ngx_uint_t ngx_http_durable_dropped_member(
    ngx_http_durable_sv_t *type, ngx_http_durable_sv_t *key,
    ngx_uint_t show_input, ngx_uint_t show_output);
static void ngx_http_durable_out_member(ngx_http_durable_out_t *out,
    ngx_uint_t *first, const char *key, ngx_http_durable_sv_t *value);


ngx_int_t
ngx_http_durable_render_history(ngx_http_request_t *r, ds_txn_t *txn,
    ds_str_t hub, ds_str_t id, ngx_uint_t show_input, ngx_uint_t show_output,
    ngx_str_t *out)
{
    int                          rc;
    ngx_uint_t                   i, n, first;
    ngx_http_durable_out_t       buf;
    ngx_http_durable_event_t    *ev;
    ngx_http_durable_collect_t   col;

    ngx_str_null(out);

    if (ngx_array_init(&col.events, r->pool, 64,
                       sizeof(ngx_http_durable_event_t))
        != NGX_OK
        || ngx_array_init(&col.members, r->pool, 384,
                          sizeof(ngx_http_durable_member_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    col.failed = 0;

    /* the event texts point into the map: valid while txn lives */

    rc = ds_history_read(txn, hub, id, ngx_http_durable_collect_event, &col);
    if ((rc != DS_OK && rc != DS_NOTFOUND) || col.failed) {
        return NGX_ERROR;
    }

    ev = col.events.elts;
    n = col.events.nelts;

    ngx_http_durable_merge(ev, n);

    if (ngx_http_durable_out_init(&buf, r->pool, 256 * (n + 1)) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_durable_out_literal(&buf, "[");
    first = 1;

    for (i = 0; i < n; i++) {
        if (ev[i].drop) {
            continue;
        }

        if (!first) {
            ngx_http_durable_out_literal(&buf, ",");
        }

        first = 0;
        ngx_http_durable_render_event(&buf, &ev[i], ev, col.members.elts,
                                      show_input, show_output);
    }

    ngx_http_durable_out_literal(&buf, "]");

    if (buf.failed) {
        return NGX_ERROR;
    }

    if (!first) {
        out->data = buf.start;
        out->len = buf.pos - buf.start;
    }

    return NGX_OK;
}


static int
ngx_http_durable_collect_event(void *data, uint64_t seq, ds_str_t event)
{
    ngx_http_durable_collect_t  *col = data;

    ngx_http_durable_sv_t       key, value;
    ngx_http_durable_jiter_t    it;
    ngx_http_durable_event_t   *ev;
    ngx_http_durable_member_t  *m;

    ev = ngx_array_push(&col->events);
    if (ev == NULL) {
        col->failed = 1;
        return 1;
    }

    ngx_memzero(ev, sizeof(ngx_http_durable_event_t));

    ev->first = col->members.nelts;
    ev->merged = -1;

    /* one pass: the members are kept, the three that matter noted */

    if (ngx_http_durable_jspan_iter(&it, (const u_char *) event.data,
                                    event.len))
    {
        while (ngx_http_durable_jspan_next(&it, &key, &value)) {

            m = ngx_array_push(&col->members);
            if (m == NULL) {
                col->failed = 1;
                return 1;
            }

            m->key = key;
            m->value = value;
            ev->n++;

            if (ngx_http_durable_sv_is(&key, "EventType")) {
                if (value.len >= 2 && value.data[0] == '"') {
                    ev->type.data = value.data + 1;
                    ev->type.len = value.len - 2;
                }

            } else if (ngx_http_durable_sv_is(&key, "EventId")) {
                ev->event_id = value;

            } else if (ngx_http_durable_sv_is(&key, "TaskScheduledId")) {
                ev->scheduled = value;
            }
        }
    }

    if (ev->type.len == 0) {
        /* not an event the store wrote: left out of the view */
        col->members.nelts = ev->first;
        col->events.nelts--;
        return 0;
    }

    ev->drop = ngx_http_durable_sv_is(&ev->type, "OrchestratorStarted")
               || ngx_http_durable_sv_is(&ev->type, "OrchestratorCompleted");

    return 0;
}


/*
 * A result (TaskCompleted, TaskFailed, SubOrchestrationInstance*) takes
 * the name, input and time of its scheduled event, which then goes.
 */

static void
ngx_http_durable_merge(ngx_http_durable_event_t *ev, ngx_uint_t n)
{
    ngx_uint_t  i, j;

    for (i = 0; i < n; i++) {

        if (!ngx_http_durable_is_result(&ev[i].type)
            || ev[i].scheduled.len == 0)
        {
            continue;
        }

        for (j = i; j-- > 0; /* void */) {
            if (ngx_http_durable_is_schedule(&ev[j].type) && !ev[j].drop
                && ev[j].event_id.len == ev[i].scheduled.len
                && ngx_memcmp(ev[j].event_id.data, ev[i].scheduled.data,
                              ev[i].scheduled.len) == 0)
            {
                ev[i].merged = (ngx_int_t) j;
                ev[j].drop = 1;
                break;
            }
        }
    }
}


static void
ngx_http_durable_render_event(ngx_http_durable_out_t *out,
    ngx_http_durable_event_t *ev, ngx_http_durable_event_t *all,
    ngx_http_durable_member_t *m, ngx_uint_t show_input,
    ngx_uint_t show_output)
{
    ngx_int_t                   st;
    ngx_uint_t                  i, first, started;
    ngx_http_durable_sv_t       value, time, name, input;
    ngx_http_durable_member_t  *mm;
    ngx_http_durable_event_t   *sch;

    static const char  *statuses[] = {
        "\"Running\"", "\"Completed\"", "\"ContinuedAsNew\"", "\"Failed\"",
        "\"Canceled\"", "\"Terminated\"", "\"Pending\"", "\"Suspended\""
    };

    started = ngx_http_durable_sv_is(&ev->type, "ExecutionStarted");

    ngx_http_durable_out_literal(out, "{");
    first = 1;

    for (i = 0; i < ev->n; i++) {
        mm = &m[ev->first + i];

        if (ngx_http_durable_dropped_member(&ev->type, &mm->key, show_input,
                                            show_output))
        {
            continue;
        }

        if (started && ngx_http_durable_sv_is(&mm->key, "Name")) {
            ngx_http_durable_out_member(out, &first, "FunctionName",
                                        &mm->value);
            continue;
        }

        value = mm->value;

        if (ngx_http_durable_sv_is(&mm->key, "OrchestrationStatus")
            && ngx_http_durable_sv_is(&ev->type, "ExecutionCompleted"))
        {
            st = ngx_atoi(value.data, value.len);

            if (st >= 0 && st < 8) {
                value.data = (u_char *) statuses[st];
                value.len = ngx_strlen(statuses[st]);
            }
        }

        if (!first) {
            ngx_http_durable_out_literal(out, ",");
        }

        first = 0;
        ngx_http_durable_out_literal(out, "\"");
        ngx_http_durable_out_add(out, mm->key.data, mm->key.len);
        ngx_http_durable_out_literal(out, "\":");
        ngx_http_durable_out_add(out, value.data, value.len);
    }

    if (ev->merged >= 0) {
        sch = &all[ev->merged];
        ngx_memzero(&time, sizeof(time));
        ngx_memzero(&name, sizeof(name));
        ngx_memzero(&input, sizeof(input));

        for (i = 0; i < sch->n; i++) {
            mm = &m[sch->first + i];

            if (ngx_http_durable_sv_is(&mm->key, "Timestamp")) {
                time = mm->value;

            } else if (ngx_http_durable_sv_is(&mm->key, "Name")) {
                name = mm->value;

            } else if (ngx_http_durable_sv_is(&mm->key, "Input")) {
                input = mm->value;
            }
        }

        if (time.len) {
            ngx_http_durable_out_member(out, &first, "ScheduledTime", &time);
        }

        if (name.len) {
            ngx_http_durable_out_member(out, &first, "FunctionName", &name);
        }

        if (show_input && input.len) {
            ngx_http_durable_out_member(out, &first, "Input", &input);
        }
    }

    ngx_http_durable_out_literal(out, "}");
}


static ngx_uint_t
ngx_http_durable_is_schedule(ngx_http_durable_sv_t *type)
{
    return ngx_http_durable_sv_is(type, "TaskScheduled")
           || ngx_http_durable_sv_is(type, "SubOrchestrationInstanceCreated");
}


static ngx_uint_t
ngx_http_durable_is_result(ngx_http_durable_sv_t *type)
{
    return ngx_http_durable_sv_is(type, "TaskCompleted")
           || ngx_http_durable_sv_is(type, "TaskFailed")
           || ngx_http_durable_sv_is(type,
                                     "SubOrchestrationInstanceCompleted")
           || ngx_http_durable_sv_is(type, "SubOrchestrationInstanceFailed");
}


/* what the reference removes from each event (§7) */

static ngx_uint_t
ngx_http_durable_dropped_member(ngx_http_durable_sv_t *type,
    ngx_http_durable_sv_t *key, ngx_uint_t show_input, ngx_uint_t show_output)
{
    if (ngx_http_durable_sv_is(key, "EventId")
        || ngx_http_durable_sv_is(key, "IsPlayed")
        || ngx_http_durable_sv_is(key, "TaskScheduledId"))
    {
        return 1;
    }

    if (!show_input && ngx_http_durable_sv_is(key, "Input")) {
        return 1;
    }

    if (!show_output && ngx_http_durable_sv_is(key, "Result")) {
        return 1;
    }

    if (ngx_http_durable_sv_is(type, "ExecutionStarted")) {
        return ngx_http_durable_sv_is(key, "OrchestrationInstance")
               || ngx_http_durable_sv_is(key, "ParentInstance")
               || ngx_http_durable_sv_is(key, "Version")
               || ngx_http_durable_sv_is(key, "Tags");
    }

    if (ngx_http_durable_sv_is(type, "TaskScheduled")) {
        return ngx_http_durable_sv_is(key, "Version");
    }

    if (ngx_http_durable_sv_is(type, "TimerFired")) {
        return ngx_http_durable_sv_is(key, "TimerId");
    }

    return 0;
}


static void
ngx_http_durable_out_member(ngx_http_durable_out_t *out, ngx_uint_t *first,
    const char *key, ngx_http_durable_sv_t *value)
{
    if (!*first) {
        ngx_http_durable_out_literal(out, ",");
    }

    *first = 0;

    ngx_http_durable_out_literal(out, "\"");
    ngx_http_durable_out_add(out, key, ngx_strlen(key));
    ngx_http_durable_out_literal(out, "\":");
    ngx_http_durable_out_add(out, value->data, value->len);
}
