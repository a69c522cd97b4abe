
/*
 * Copyright (C) ngx_durable authors
 *
 * The showHistory view: stored Durable Task history events reshaped the
 * way the reference implementation shows them (reference-behaviour.md §7).
 * The only place where stored JSON is parsed, and only when asked for.
 */


#include <jansson.h>

#include "ngx_http_durable_module.h"
#include "ngx_http_durable_history.h"


static int ngx_http_durable_collect_event(void *data, uint64_t seq,
    ds_str_t event);
static void ngx_http_durable_reshape(json_t *events, ngx_uint_t show_input,
    ngx_uint_t show_output);
static ngx_uint_t ngx_http_durable_merge_scheduled(json_t *events, size_t i,
    json_t *ev, const char *completed, const char *failed);
static ngx_uint_t ngx_http_durable_event_is(json_t *ev, const char *type);
static void ngx_http_durable_history_cleanup(void *data);


ngx_int_t
ngx_http_durable_render_history(ngx_http_request_t *r, ds_txn_t *txn,
    ds_str_t hub, ds_str_t id, ngx_uint_t show_input, ngx_uint_t show_output,
    ngx_str_t *out)
{
    int                  rc;
    char                *text;
    json_t              *events;
    ngx_pool_cleanup_t  *cln;

    ngx_str_null(out);

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    events = json_array();
    if (events == NULL) {
        return NGX_ERROR;
    }

    /* freed with the request whatever happens below */
    cln->handler = ngx_http_durable_history_cleanup;
    cln->data = events;

    rc = ds_history_read(txn, hub, id, ngx_http_durable_collect_event,
                         events);
    if (rc != DS_OK && rc != DS_NOTFOUND) {
        return NGX_ERROR;
    }

    ngx_http_durable_reshape(events, show_input, show_output);

    if (json_array_size(events) == 0) {
        return NGX_OK;
    }

    text = json_dumps(events, JSON_COMPACT | JSON_PRESERVE_ORDER
                              | JSON_ENCODE_ANY);
    if (text == NULL) {
        return NGX_ERROR;
    }

    out->len = ngx_strlen(text);
    out->data = ngx_pnalloc(r->pool, out->len);
    if (out->data == NULL) {
        free(text);
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, text, out->len);
    free(text);

    return NGX_OK;
}


static int
ngx_http_durable_collect_event(void *data, uint64_t seq, ds_str_t event)
{
    json_t  *events = data;

    json_t        *ev;
    json_error_t   err;

    ev = json_loadb(event.data, event.len, JSON_ALLOW_NUL, &err);
    if (ev == NULL || !json_is_object(ev)) {
        json_decref(ev);
        return 0;
    }

    return json_array_append_new(events, ev) == 0 ? 0 : 1;
}


static void
ngx_http_durable_reshape(json_t *events, ngx_uint_t show_input,
    ngx_uint_t show_output)
{
    size_t   i;
    json_t  *ev, *st;

    static const char  *statuses[] = {
        "Running", "Completed", "ContinuedAsNew", "Failed", "Canceled",
        "Terminated", "Pending", "Suspended"
    };

    i = 0;

    while (i < json_array_size(events)) {
        ev = json_array_get(events, i);

        if (ngx_http_durable_event_is(ev, "OrchestratorStarted")
            || ngx_http_durable_event_is(ev, "OrchestratorCompleted"))
        {
            json_array_remove(events, i);
            continue;
        }

        if ((ngx_http_durable_event_is(ev, "TaskScheduled")
             && ngx_http_durable_merge_scheduled(events, i, ev,
                                                 "TaskCompleted",
                                                 "TaskFailed"))
            || (ngx_http_durable_event_is(ev,
                                          "SubOrchestrationInstanceCreated")
                && ngx_http_durable_merge_scheduled(events, i, ev,
                                         "SubOrchestrationInstanceCompleted",
                                         "SubOrchestrationInstanceFailed")))
        {
            json_array_remove(events, i);
            continue;
        }

        if (ngx_http_durable_event_is(ev, "TaskScheduled")) {
            json_object_del(ev, "Version");

        } else if (ngx_http_durable_event_is(ev, "ExecutionStarted")) {
            st = json_object_get(ev, "Name");
            if (st) {
                json_object_set(ev, "FunctionName", st);
                json_object_del(ev, "Name");
            }

            json_object_del(ev, "OrchestrationInstance");
            json_object_del(ev, "ParentInstance");
            json_object_del(ev, "Version");
            json_object_del(ev, "Tags");

        } else if (ngx_http_durable_event_is(ev, "ExecutionCompleted")) {
            st = json_object_get(ev, "OrchestrationStatus");
            if (json_is_integer(st) && json_integer_value(st) >= 0
                && json_integer_value(st) < 8)
            {
                json_object_set_new(ev, "OrchestrationStatus",
                         json_string(statuses[json_integer_value(st)]));
            }

        } else if (ngx_http_durable_event_is(ev, "TimerFired")) {
            json_object_del(ev, "TimerId");
        }

        json_object_del(ev, "TaskScheduledId");
        json_object_del(ev, "IsPlayed");

        if (!show_output) {
            json_object_del(ev, "Result");
        }

        if (!show_input) {
            json_object_del(ev, "Input");
        }

        i++;
    }

    /* EventId was kept for matching until every event was seen */

    for (i = 0; i < json_array_size(events); i++) {
        json_object_del(json_array_get(events, i), "EventId");
    }
}


/*
 * A scheduled event with a completion: the completion carries its
 * FunctionName, ScheduledTime and Input, and the scheduled event goes.
 */

static ngx_uint_t
ngx_http_durable_merge_scheduled(json_t *events, size_t i, json_t *ev,
    const char *completed, const char *failed)
{
    size_t   k;
    json_t  *id, *done, *v;

    id = json_object_get(ev, "EventId");
    if (!json_is_integer(id)) {
        return 0;
    }

    for (k = i + 1; k < json_array_size(events); k++) {
        done = json_array_get(events, k);

        if (!ngx_http_durable_event_is(done, completed)
            && !ngx_http_durable_event_is(done, failed))
        {
            continue;
        }

        if (!json_equal(json_object_get(done, "TaskScheduledId"), id)) {
            continue;
        }

        v = json_object_get(ev, "Timestamp");
        if (v) {
            json_object_set(done, "ScheduledTime", v);
        }

        v = json_object_get(ev, "Name");
        if (v) {
            json_object_set(done, "FunctionName", v);
        }

        v = json_object_get(ev, "Input");
        if (v) {
            json_object_set(done, "Input", v);
        }

        return 1;
    }

    return 0;
}


static ngx_uint_t
ngx_http_durable_event_is(json_t *ev, const char *type)
{
    const char  *s;

    s = json_string_value(json_object_get(ev, "EventType"));

    return s != NULL && ngx_strcmp(s, type) == 0;
}


static void
ngx_http_durable_history_cleanup(void *data)
{
    json_decref((json_t *) data);
}
