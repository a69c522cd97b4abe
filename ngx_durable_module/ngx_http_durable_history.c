
/*
 * Copyright (C) ngx_durable authors
 *
 * The showHistory view: stored Durable Task history events reshaped the
 * way the reference implementation shows them (docs/http-api.md).
 * Events are stored as compact JSON the store wrote itself, so the view
 * works on spans of those bytes: members are dropped, renamed or added,
 * values are copied as they are, nothing is parsed into a tree.
 *
 * A worker keeps the last views it rendered, each with the stored events
 * it was made from. The view is a function of those bytes and of the two
 * flags only, so a history whose events are byte for byte the same gets
 * the kept view: the events are compared, not parsed again (the parse
 * was about half of a showHistory GET's instructions, callgrind). A view
 * also notes the store's snapshot it was last found right in (LMDB: the
 * last commit its read saw); a read of the same snapshot cannot have
 * other events, so it takes the view without walking them (the walk and
 * comparison were half of what was left).
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_history.h"
#include "ngx_http_durable_log.h"
#include "ds_jspan.h"
#include "ngx_http_durable_render.h"


#define ngx_http_durable_sv_is(v, s)                                         \
    ((v)->len == sizeof(s) - 1 && ngx_memcmp((v)->data, s, sizeof(s) - 1) == 0)


/* the members the view looks at, told apart once when collected */

#define NGX_HTTP_DURABLE_M_OTHER             0
#define NGX_HTTP_DURABLE_M_EVENTTYPE         1
#define NGX_HTTP_DURABLE_M_TIMESTAMP         2
#define NGX_HTTP_DURABLE_M_EVENTID           3
#define NGX_HTTP_DURABLE_M_ISPLAYED          4
#define NGX_HTTP_DURABLE_M_TASKSCHEDULEDID   5
#define NGX_HTTP_DURABLE_M_INPUT             6
#define NGX_HTTP_DURABLE_M_RESULT            7
#define NGX_HTTP_DURABLE_M_NAME              8
#define NGX_HTTP_DURABLE_M_VERSION           9
#define NGX_HTTP_DURABLE_M_TAGS              10
#define NGX_HTTP_DURABLE_M_ORCHINSTANCE      11
#define NGX_HTTP_DURABLE_M_PARENTINSTANCE    12
#define NGX_HTTP_DURABLE_M_ORCHSTATUS        13
#define NGX_HTTP_DURABLE_M_TIMERID           14


/* event types, the same way */

#define NGX_HTTP_DURABLE_T_OTHER             0
#define NGX_HTTP_DURABLE_T_STARTED           1  /* ExecutionStarted */
#define NGX_HTTP_DURABLE_T_COMPLETED         2  /* ExecutionCompleted */
#define NGX_HTTP_DURABLE_T_TASKSCHEDULED     3
#define NGX_HTTP_DURABLE_T_SUBCREATED        4
#define NGX_HTTP_DURABLE_T_RESULT            5  /* Task*, SubOrch* results */
#define NGX_HTTP_DURABLE_T_TIMERFIRED        6
#define NGX_HTTP_DURABLE_T_ORCHESTRATOR      7  /* Orchestrator* markers */


/*
 * An event's view is at most twice its text (a renamed member or a status
 * name over a short original), the text of its scheduled event and this.
 */

#define NGX_HTTP_DURABLE_EVENT_EXTRA         64


/* arrays sized for about 100 events, as in the benchmark's history */

#define NGX_HTTP_DURABLE_EVENTS_INIT         128
#define NGX_HTTP_DURABLE_MEMBERS_INIT        512


/*
 * The kept views: slots per worker process, chosen by a hash of the
 * store, hub, id and flags, and the largest entry kept (its events'
 * text, their lengths and the view): at most 2 MB per worker.
 */

#define NGX_HTTP_DURABLE_VIEWS               32
#define NGX_HTTP_DURABLE_VIEW_MAX            (64 * 1024)


typedef struct {
    ds_str_t    key;        /* without its quotes */
    ds_str_t    value;      /* raw JSON */
    ngx_uint_t  code;       /* NGX_HTTP_DURABLE_M_* */
} ngx_http_durable_member_t;


typedef struct {
    ngx_uint_t  first;      /* its members in members[] */
    ngx_uint_t  n;
    size_t      len;        /* of its text */
    ngx_uint_t  type;       /* NGX_HTTP_DURABLE_T_* */
    ds_str_t    event_id;   /* EventId, raw number */
    ds_str_t    scheduled;  /* TaskScheduledId, raw */
    ngx_int_t   merged;     /* index of its scheduled event */
    ngx_uint_t  drop;
} ngx_http_durable_event_t;


typedef struct {
    const void                 *store;
    ds_snapshot_t               snap;       /* the view is right in it;
                                               env 0: none known */
    ngx_uint_t                  flags;
    ngx_str_t                   hub;
    ngx_str_t                   id;
    ngx_uint_t                  nevents;
    size_t                     *lens;       /* of each stored event */
    u_char                     *text;       /* the events, end to end */
    ngx_str_t                   view;
} ngx_http_durable_view_entry_t;


typedef struct {
    ngx_http_durable_view_entry_t  *entry;
    ngx_uint_t                      n;
    u_char                         *pos;
    ngx_uint_t                      differs;
} ngx_http_durable_compare_t;


typedef struct {
    ngx_pool_t                 *pool;
    ds_str_t                   *texts;      /* every event as stored */
    ngx_uint_t                  ntexts;
    ngx_uint_t                  texts_max;
    size_t                      texts_len;
    ngx_http_durable_event_t   *events;
    ngx_uint_t                  nevents;
    ngx_uint_t                  events_max;
    ngx_http_durable_member_t  *members;
    ngx_uint_t                  nmembers;
    ngx_uint_t                  members_max;
    size_t                      size;       /* the view's length at most */
    ngx_uint_t                  failed;
} ngx_http_durable_collect_t;


static ngx_int_t ngx_http_durable_render_events(ngx_http_request_t *r,
    ds_op_t *op, ngx_uint_t show_input, ngx_uint_t show_output,
    ngx_http_durable_collect_t *col, ngx_str_t *out);
static ngx_int_t ngx_http_durable_read_history(ngx_http_request_t *r,
    ds_op_t *op, ds_event_cb cb, void *data);
static ngx_uint_t ngx_http_durable_view_slot(ds_op_t *op, ngx_uint_t flags);
static ngx_uint_t ngx_http_durable_view_kept(ds_op_t *op,
    ngx_http_durable_view_entry_t *e, ngx_uint_t flags);
static int ngx_http_durable_compare_event(void *data, uint64_t seq,
    ds_str_t event);
static void ngx_http_durable_view_keep(ngx_log_t *log, ds_op_t *op,
    ngx_uint_t slot, ngx_uint_t flags, ngx_http_durable_collect_t *col,
    ngx_str_t *view, ds_snapshot_t *snap);
static int ngx_http_durable_collect_event(void *data, uint64_t seq,
    ds_str_t event);
static void *ngx_http_durable_grow(ngx_pool_t *pool, void *elts,
    ngx_uint_t *max, size_t size);
static ngx_uint_t ngx_http_durable_member_code(ds_str_t *key);
static ngx_uint_t ngx_http_durable_event_type(ds_str_t *type);
static void ngx_http_durable_merge(ngx_http_durable_event_t *ev,
    ngx_uint_t n);
static u_char *ngx_http_durable_render_event(u_char *p,
    ngx_http_durable_event_t *ev, ngx_http_durable_event_t *all,
    ngx_http_durable_member_t *m, ngx_uint_t show_input,
    ngx_uint_t show_output);
static ngx_uint_t ngx_http_durable_dropped_member(ngx_uint_t type,
    ngx_uint_t code, ngx_uint_t show_input, ngx_uint_t show_output);
static u_char *ngx_http_durable_out_member(u_char *p, ngx_uint_t *first,
    const char *key, size_t len, ds_str_t *value);
static u_char *ngx_http_durable_out_run(u_char *p, ngx_uint_t *first,
    u_char *run, u_char *end);


static ngx_http_durable_view_entry_t  *ngx_http_durable_views[
    NGX_HTTP_DURABLE_VIEWS];


/*
 * The view of op's history; out->len 0 when it has no event to show.
 * A kept view is not copied: out is valid until the next call.
 */

ngx_int_t
ngx_http_durable_render_history(ngx_http_request_t *r, ds_op_t *op,
    ngx_uint_t show_input, ngx_uint_t show_output, ngx_str_t *out)
{
    ngx_uint_t                      slot, flags;
    ds_snapshot_t                   snap;
    ngx_http_durable_compare_t      cmp;
    ngx_http_durable_collect_t      col;
    ngx_http_durable_view_entry_t  *e;

    ngx_str_null(out);

    flags = (show_input ? 1 : 0) | (show_output ? 2 : 0);
    slot = ngx_http_durable_view_slot(op, flags);
    e = ngx_http_durable_views[slot];

    if (ds_op_snapshot(op, &snap) != DS_OK) {
        ngx_memzero(&snap, sizeof(ds_snapshot_t));
    }

    if (e != NULL && ngx_http_durable_view_kept(op, e, flags)) {

        /*
         * same snapshot: the events are not read (nor do read_history()'s
         * check and test fault run)
         */

        if (snap.env != 0
            && e->snap.env == snap.env && e->snap.txn == snap.txn)
        {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "durable history view kept: %ui events, "
                           "slot %ui, same snapshot", e->nevents, slot);
            *out = e->view;
            return NGX_OK;
        }

        cmp.entry = e;
        cmp.n = 0;
        cmp.pos = e->text;
        cmp.differs = 0;

        if (ngx_http_durable_read_history(r, op,
                                          ngx_http_durable_compare_event,
                                          &cmp)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (!cmp.differs && cmp.n == e->nevents) {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "durable history view kept: %ui events, "
                           "slot %ui, events compared", e->nevents, slot);
            e->snap = snap;
            *out = e->view;
            return NGX_OK;
        }
    }

    if (ngx_http_durable_render_events(r, op, show_input, show_output, &col,
                                       out)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_durable_view_keep(r->connection->log, op, slot, flags, &col,
                               out, &snap);

    return NGX_OK;
}


static ngx_int_t
ngx_http_durable_render_events(ngx_http_request_t *r, ds_op_t *op,
    ngx_uint_t show_input, ngx_uint_t show_output,
    ngx_http_durable_collect_t *colp, ngx_str_t *out)
{
    u_char                      *p;
    size_t                       size;
    ngx_uint_t                   i, n, first;
    ngx_http_durable_out_t       buf;
    ngx_http_durable_event_t    *ev;
    ngx_http_durable_collect_t   col;

    col.pool = r->pool;
    col.texts_max = NGX_HTTP_DURABLE_EVENTS_INIT;
    col.ntexts = 0;
    col.texts_len = 0;
    col.events_max = NGX_HTTP_DURABLE_EVENTS_INIT;
    col.members_max = NGX_HTTP_DURABLE_MEMBERS_INIT;
    col.nevents = 0;
    col.nmembers = 0;
    col.size = 2;
    col.failed = 0;

    col.events = ngx_palloc(r->pool, NGX_HTTP_DURABLE_EVENTS_INIT
                                     * sizeof(ngx_http_durable_event_t));
    col.members = ngx_palloc(r->pool, NGX_HTTP_DURABLE_MEMBERS_INIT
                                      * sizeof(ngx_http_durable_member_t));
    col.texts = ngx_palloc(r->pool, NGX_HTTP_DURABLE_EVENTS_INIT
                                    * sizeof(ds_str_t));

    if (col.events == NULL || col.members == NULL || col.texts == NULL) {
        return NGX_ERROR;
    }

    /* the event texts point into the store: valid during the op's done() */

    if (ngx_http_durable_read_history(r, op, ngx_http_durable_collect_event,
                                      &col)
        != NGX_OK
        || col.failed)
    {
        return NGX_ERROR;
    }

    ev = col.events;
    n = col.nevents;

    ngx_http_durable_merge(ev, n);

    /*
     * Sized once, for the events as stored and what the view usually adds
     * to each; the room of each event is checked against its own bound.
     */

    if (ngx_http_durable_out_init(&buf, r->pool, col.size) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_durable_out_literal(&buf, "[");
    first = 1;

    for (i = 0; i < n; i++) {
        if (ev[i].drop) {
            continue;
        }

        size = 2 * ev[i].len + NGX_HTTP_DURABLE_EVENT_EXTRA;

        if (ev[i].merged >= 0) {
            size += ev[ev[i].merged].len;
        }

        if (!ngx_http_durable_out_reserve(&buf, size)) {
            return NGX_ERROR;
        }

        p = buf.pos;

        if (!first) {
            *p++ = ',';
        }

        first = 0;
        buf.pos = ngx_http_durable_render_event(p, &ev[i], ev, col.members,
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

    *colp = col;

    return NGX_OK;
}



/*
 * The events of a status read, during its done(); a read that did not
 * ask for them fails here, logged, rather than show an empty history.
 */

static ngx_int_t
ngx_http_durable_read_history(ngx_http_request_t *r, ds_op_t *op,
    ds_event_cb cb, void *data)
{
    int  rc;

    rc = ds_op_history(op, cb, data);

#if (NGX_HTTP_DURABLE_TEST_FAULTS)
    {
        char  *v;

        /* a store that fails to read the events (t/253) */

        v = getenv("DURABLE_TEST_FAULTS");

        if (v != NULL && ngx_strstr(v, "history_read") != NULL) {
            ngx_log_error(NGX_LOG_WARN, ngx_http_durable_log(r), 0,
                          "durable: DURABLE_TEST_FAULTS makes a history "
                          "read fail");
            rc = DS_ERROR;
        }
    }
#endif

    if (rc == DS_OK || rc == DS_NOTFOUND) {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_ALERT, ngx_http_durable_log(r), 0,
                  "durable history of \"%*s\" not read%s: %s",
                  op->in.control.id.len,
                  (u_char *) op->in.control.id.data,
                  op->in.control.history ? "" : " (not asked for)",
                  ds_strerror(rc));

    return NGX_ERROR;
}


/* the slot of a view: a hash of what names it */

static ngx_uint_t
ngx_http_durable_view_slot(ds_op_t *op, ngx_uint_t flags)
{
    uint32_t  h;

    h = ngx_murmur_hash2((u_char *) op->in.control.id.data,
                         op->in.control.id.len);
    h ^= ngx_murmur_hash2((u_char *) op->hub.data, op->hub.len) * 31;
    h ^= (uint32_t) ((uintptr_t) op->store >> 4) + (uint32_t) flags;

    return h % NGX_HTTP_DURABLE_VIEWS;
}


/* whether e is the view of op's instance with these flags */

static ngx_uint_t
ngx_http_durable_view_kept(ds_op_t *op, ngx_http_durable_view_entry_t *e,
    ngx_uint_t flags)
{
    return e->store == op->store
           && e->flags == flags
           && e->id.len == op->in.control.id.len
           && e->hub.len == op->hub.len
           && ngx_memcmp(e->id.data, op->in.control.id.data, e->id.len) == 0
           && ngx_memcmp(e->hub.data, op->hub.data, e->hub.len) == 0;
}


/*
 * Each stored event against the kept one at the same place; a walk does
 * not stop on a difference (a callback's stop is an error of the read).
 */

static int
ngx_http_durable_compare_event(void *data, uint64_t seq, ds_str_t event)
{
    ngx_http_durable_compare_t  *cmp = data;

    ngx_http_durable_view_entry_t  *e;

    e = cmp->entry;

    if (cmp->differs) {
        return 0;
    }

    if (cmp->n == e->nevents
        || e->lens[cmp->n] != event.len
        || ngx_memcmp(cmp->pos, event.data, event.len) != 0)
    {
        cmp->differs = 1;
        return 0;
    }

    cmp->pos += event.len;
    cmp->n++;

    return 0;
}


/*
 * The view just rendered replaces the slot's: one allocation holds the
 * entry, its names, the events' lengths and text, and the view.
 */

static void
ngx_http_durable_view_keep(ngx_log_t *log, ds_op_t *op, ngx_uint_t slot,
    ngx_uint_t flags, ngx_http_durable_collect_t *col, ngx_str_t *view,
    ds_snapshot_t *snap)
{
    u_char                         *p;
    size_t                          size;
    ngx_uint_t                      i;
    ngx_http_durable_view_entry_t  *e;

    size = sizeof(ngx_http_durable_view_entry_t)
           + col->ntexts * sizeof(size_t) + col->texts_len + view->len
           + op->hub.len + op->in.control.id.len;

    if (size > NGX_HTTP_DURABLE_VIEW_MAX) {
        return;
    }

    e = ngx_alloc(size, log);
    if (e == NULL) {
        return;
    }

    p = (u_char *) e + sizeof(ngx_http_durable_view_entry_t);

    e->store = op->store;
    e->snap = *snap;
    e->flags = flags;
    e->nevents = col->ntexts;

    e->lens = (size_t *) p;
    p += col->ntexts * sizeof(size_t);

    e->text = p;

    for (i = 0; i < col->ntexts; i++) {
        e->lens[i] = col->texts[i].len;
        p = ngx_cpymem(p, col->texts[i].data, col->texts[i].len);
    }

    e->view.data = p;
    e->view.len = view->len;
    p = ngx_cpymem(p, view->data, view->len);

    e->hub.data = p;
    e->hub.len = op->hub.len;
    p = ngx_cpymem(p, op->hub.data, op->hub.len);

    e->id.data = p;
    e->id.len = op->in.control.id.len;
    ngx_memcpy(p, op->in.control.id.data, op->in.control.id.len);

    if (ngx_http_durable_views[slot] != NULL) {
        ngx_free(ngx_http_durable_views[slot]);
    }

    ngx_http_durable_views[slot] = e;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, log, 0,
                   "durable history view kept in slot %ui: %ui events, "
                   "%uz bytes", slot, e->nevents, size);
}


static int
ngx_http_durable_collect_event(void *data, uint64_t seq, ds_str_t event)
{
    ngx_http_durable_collect_t  *col = data;

    ngx_uint_t                   code, typed;
    ds_str_t                     key, value, type;
    ds_jspan_iter_t              it;
    ngx_http_durable_event_t    *ev;
    ngx_http_durable_member_t   *m;

    static const char            marker[] = "{\"EventType\":\"Orchestrator";

    /* every event is noted, for the kept view's comparison */

    if (col->ntexts == col->texts_max) {
        col->texts = ngx_http_durable_grow(col->pool, col->texts,
                                           &col->texts_max, sizeof(ds_str_t));
        if (col->texts == NULL) {
            col->failed = 1;
            return 1;
        }
    }

    col->texts[col->ntexts++] = event;
    col->texts_len += event.len;

    /*
     * Half of a history is Orchestrator* markers, which the view leaves
     * out: as the store writes them, they are told by their first bytes.
     */

    if (event.len > sizeof(marker) - 1 + sizeof("Completed\"") - 1
        && ngx_memcmp(event.data, marker, sizeof(marker) - 1) == 0)
    {
        value.data = (const char *) event.data + sizeof(marker) - 1;

        if ((ngx_memcmp(value.data, "Started\"", sizeof("Started\"") - 1)
             == 0
             && (value.data[8] == ',' || value.data[8] == '}'))
            || (ngx_memcmp(value.data, "Completed\"",
                           sizeof("Completed\"") - 1)
                == 0
                && (value.data[10] == ',' || value.data[10] == '}')))
        {
            return 0;
        }
    }

    if (col->nevents == col->events_max) {
        col->events = ngx_http_durable_grow(col->pool, col->events,
                                            &col->events_max,
                                            sizeof(ngx_http_durable_event_t));
        if (col->events == NULL) {
            col->failed = 1;
            return 1;
        }
    }

    ev = &col->events[col->nevents];

    ev->first = col->nmembers;
    ev->n = 0;
    ev->type = NGX_HTTP_DURABLE_T_OTHER;
    ev->event_id.len = 0;
    ev->scheduled.len = 0;
    ev->merged = -1;
    ev->drop = 0;

    typed = 0;

    /*
     * One pass: the members are kept, the three that matter noted; an
     * Orchestrator* marker written some other way is left out here.
     */

    if (!ds_jspan_iter(&it, (const u_char *) event.data,
                       event.len))
    {
        return 0;
    }

    while (ds_jspan_next(&it, &key, &value)) {

        code = ngx_http_durable_member_code(&key);

        switch (code) {

        case NGX_HTTP_DURABLE_M_EVENTTYPE:
            if (value.len >= 2 && value.data[0] == '"') {
                type.data = value.data + 1;
                type.len = value.len - 2;
                typed = (type.len != 0);
                ev->type = ngx_http_durable_event_type(&type);

                if (ev->type == NGX_HTTP_DURABLE_T_ORCHESTRATOR) {
                    col->nmembers = ev->first;
                    return 0;
                }
            }

            break;

        case NGX_HTTP_DURABLE_M_EVENTID:
            ev->event_id = value;
            break;

        case NGX_HTTP_DURABLE_M_TASKSCHEDULEDID:
            ev->scheduled = value;
            break;

        default:
            break;
        }

        if (col->nmembers == col->members_max) {
            col->members = ngx_http_durable_grow(col->pool, col->members,
                               &col->members_max,
                               sizeof(ngx_http_durable_member_t));
            if (col->members == NULL) {
                col->failed = 1;
                return 1;
            }
        }

        m = &col->members[col->nmembers++];

        m->key = key;
        m->value = value;
        m->code = code;
    }

    if (!typed) {
        /* not an event the store wrote: left out of the view */
        col->nmembers = ev->first;
        return 0;
    }

    ev->n = col->nmembers - ev->first;
    ev->len = event.len;

    col->nevents++;
    col->size += event.len + NGX_HTTP_DURABLE_EVENT_EXTRA;

    return 0;
}


static void *
ngx_http_durable_grow(ngx_pool_t *pool, void *elts, ngx_uint_t *max,
    size_t size)
{
    void  *p;

    p = ngx_palloc(pool, 2 * *max * size);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, elts, *max * size);
    *max *= 2;

    return p;
}


static ngx_uint_t
ngx_http_durable_member_code(ds_str_t *key)
{
    switch (key->len) {

    case 4:
        if (ngx_http_durable_sv_is(key, "Name")) {
            return NGX_HTTP_DURABLE_M_NAME;
        }

        if (ngx_http_durable_sv_is(key, "Tags")) {
            return NGX_HTTP_DURABLE_M_TAGS;
        }

        break;

    case 5:
        if (ngx_http_durable_sv_is(key, "Input")) {
            return NGX_HTTP_DURABLE_M_INPUT;
        }

        break;

    case 6:
        if (ngx_http_durable_sv_is(key, "Result")) {
            return NGX_HTTP_DURABLE_M_RESULT;
        }

        break;

    case 7:
        if (ngx_http_durable_sv_is(key, "EventId")) {
            return NGX_HTTP_DURABLE_M_EVENTID;
        }

        if (ngx_http_durable_sv_is(key, "Version")) {
            return NGX_HTTP_DURABLE_M_VERSION;
        }

        if (ngx_http_durable_sv_is(key, "TimerId")) {
            return NGX_HTTP_DURABLE_M_TIMERID;
        }

        break;

    case 8:
        if (ngx_http_durable_sv_is(key, "IsPlayed")) {
            return NGX_HTTP_DURABLE_M_ISPLAYED;
        }

        break;

    case 9:
        if (ngx_http_durable_sv_is(key, "EventType")) {
            return NGX_HTTP_DURABLE_M_EVENTTYPE;
        }

        if (ngx_http_durable_sv_is(key, "Timestamp")) {
            return NGX_HTTP_DURABLE_M_TIMESTAMP;
        }

        break;

    case 14:
        if (ngx_http_durable_sv_is(key, "ParentInstance")) {
            return NGX_HTTP_DURABLE_M_PARENTINSTANCE;
        }

        break;

    case 15:
        if (ngx_http_durable_sv_is(key, "TaskScheduledId")) {
            return NGX_HTTP_DURABLE_M_TASKSCHEDULEDID;
        }

        break;

    case 19:
        if (ngx_http_durable_sv_is(key, "OrchestrationStatus")) {
            return NGX_HTTP_DURABLE_M_ORCHSTATUS;
        }

        break;

    case 21:
        if (ngx_http_durable_sv_is(key, "OrchestrationInstance")) {
            return NGX_HTTP_DURABLE_M_ORCHINSTANCE;
        }

        break;
    }

    return NGX_HTTP_DURABLE_M_OTHER;
}


static ngx_uint_t
ngx_http_durable_event_type(ds_str_t *type)
{
    if (ngx_http_durable_sv_is(type, "OrchestratorStarted")
        || ngx_http_durable_sv_is(type, "OrchestratorCompleted"))
    {
        return NGX_HTTP_DURABLE_T_ORCHESTRATOR;
    }

    if (ngx_http_durable_sv_is(type, "TaskScheduled")) {
        return NGX_HTTP_DURABLE_T_TASKSCHEDULED;
    }

    if (ngx_http_durable_sv_is(type, "TaskCompleted")
        || ngx_http_durable_sv_is(type, "TaskFailed")
        || ngx_http_durable_sv_is(type, "SubOrchestrationInstanceCompleted")
        || ngx_http_durable_sv_is(type, "SubOrchestrationInstanceFailed"))
    {
        return NGX_HTTP_DURABLE_T_RESULT;
    }

    if (ngx_http_durable_sv_is(type, "ExecutionStarted")) {
        return NGX_HTTP_DURABLE_T_STARTED;
    }

    if (ngx_http_durable_sv_is(type, "ExecutionCompleted")) {
        return NGX_HTTP_DURABLE_T_COMPLETED;
    }

    if (ngx_http_durable_sv_is(type, "SubOrchestrationInstanceCreated")) {
        return NGX_HTTP_DURABLE_T_SUBCREATED;
    }

    if (ngx_http_durable_sv_is(type, "TimerFired")) {
        return NGX_HTTP_DURABLE_T_TIMERFIRED;
    }

    return NGX_HTTP_DURABLE_T_OTHER;
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

        if (ev[i].type != NGX_HTTP_DURABLE_T_RESULT
            || ev[i].scheduled.len == 0)
        {
            continue;
        }

        for (j = i; j-- > 0; /* void */) {
            if ((ev[j].type == NGX_HTTP_DURABLE_T_TASKSCHEDULED
                 || ev[j].type == NGX_HTTP_DURABLE_T_SUBCREATED)
                && !ev[j].drop
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


/*
 * Members the view keeps as they are go out in runs: the text from the
 * first one's key to the last one's value, commas included, in one copy.
 */

static u_char *
ngx_http_durable_render_event(u_char *p, ngx_http_durable_event_t *ev,
    ngx_http_durable_event_t *all, ngx_http_durable_member_t *m,
    ngx_uint_t show_input, ngx_uint_t show_output)
{
    u_char                     *run, *end;
    ngx_int_t                   st;
    ngx_uint_t                  first;
    ds_str_t                    time, name, input;
    ngx_http_durable_member_t  *mm, *last;
    ngx_http_durable_event_t   *sch;

    static ds_str_t  statuses[] = {
        { "\"Running\"", sizeof("\"Running\"") - 1 },
        { "\"Completed\"", sizeof("\"Completed\"") - 1 },
        { "\"ContinuedAsNew\"", sizeof("\"ContinuedAsNew\"") - 1 },
        { "\"Failed\"", sizeof("\"Failed\"") - 1 },
        { "\"Canceled\"", sizeof("\"Canceled\"") - 1 },
        { "\"Terminated\"", sizeof("\"Terminated\"") - 1 },
        { "\"Pending\"", sizeof("\"Pending\"") - 1 },
        { "\"Suspended\"", sizeof("\"Suspended\"") - 1 }
    };

    *p++ = '{';
    first = 1;
    run = NULL;
    end = NULL;

    mm = &m[ev->first];
    last = mm + ev->n;

    for ( /* void */ ; mm < last; mm++) {

        if (ngx_http_durable_dropped_member(ev->type, mm->code, show_input,
                                            show_output))
        {
            continue;
        }

        if (mm->code == NGX_HTTP_DURABLE_M_NAME
            && ev->type == NGX_HTTP_DURABLE_T_STARTED)
        {
            p = ngx_http_durable_out_run(p, &first, run, end);
            run = NULL;

            p = ngx_http_durable_out_member(p, &first, "FunctionName",
                                            sizeof("FunctionName") - 1,
                                            &mm->value);
            continue;
        }

        if (mm->code == NGX_HTTP_DURABLE_M_ORCHSTATUS
            && ev->type == NGX_HTTP_DURABLE_T_COMPLETED)
        {
            st = ngx_atoi((u_char *) mm->value.data, mm->value.len);

            if (st >= 0 && st < 8) {
                p = ngx_http_durable_out_run(p, &first, run, end);
                run = NULL;

                p = ngx_http_durable_out_member(p, &first,
                                                (const char *) mm->key.data,
                                                mm->key.len, &statuses[st]);
                continue;
            }
        }

        /* kept as it is: it extends the run when it follows it */

        if (run && (u_char *) mm->key.data == end + 2 && *end == ',') {
            end = (u_char *) mm->value.data + mm->value.len;
            continue;
        }

        p = ngx_http_durable_out_run(p, &first, run, end);

        run = (u_char *) mm->key.data - 1;
        end = (u_char *) mm->value.data + mm->value.len;
    }

    p = ngx_http_durable_out_run(p, &first, run, end);

    if (ev->merged >= 0) {
        sch = &all[ev->merged];
        time.len = 0;
        name.len = 0;
        input.len = 0;

        mm = &m[sch->first];
        last = mm + sch->n;

        for ( /* void */ ; mm < last; mm++) {

            switch (mm->code) {

            case NGX_HTTP_DURABLE_M_TIMESTAMP:
                time = mm->value;
                break;

            case NGX_HTTP_DURABLE_M_NAME:
                name = mm->value;
                break;

            case NGX_HTTP_DURABLE_M_INPUT:
                input = mm->value;
                break;

            default:
                break;
            }
        }

        if (time.len) {
            p = ngx_http_durable_out_member(p, &first, "ScheduledTime",
                                            sizeof("ScheduledTime") - 1,
                                            &time);
        }

        if (name.len) {
            p = ngx_http_durable_out_member(p, &first, "FunctionName",
                                            sizeof("FunctionName") - 1,
                                            &name);
        }

        if (show_input && input.len) {
            p = ngx_http_durable_out_member(p, &first, "Input",
                                            sizeof("Input") - 1, &input);
        }
    }

    *p++ = '}';

    return p;
}


/* what the reference removes from each event (docs/http-api.md) */

static ngx_uint_t
ngx_http_durable_dropped_member(ngx_uint_t type, ngx_uint_t code,
    ngx_uint_t show_input, ngx_uint_t show_output)
{
    switch (code) {

    case NGX_HTTP_DURABLE_M_OTHER:
    case NGX_HTTP_DURABLE_M_EVENTTYPE:
    case NGX_HTTP_DURABLE_M_TIMESTAMP:
    case NGX_HTTP_DURABLE_M_NAME:
    case NGX_HTTP_DURABLE_M_ORCHSTATUS:
        return 0;

    case NGX_HTTP_DURABLE_M_EVENTID:
    case NGX_HTTP_DURABLE_M_ISPLAYED:
    case NGX_HTTP_DURABLE_M_TASKSCHEDULEDID:
        return 1;

    case NGX_HTTP_DURABLE_M_INPUT:
        return !show_input;

    case NGX_HTTP_DURABLE_M_RESULT:
        return !show_output;

    case NGX_HTTP_DURABLE_M_VERSION:
        return type == NGX_HTTP_DURABLE_T_STARTED
               || type == NGX_HTTP_DURABLE_T_TASKSCHEDULED;

    case NGX_HTTP_DURABLE_M_ORCHINSTANCE:
    case NGX_HTTP_DURABLE_M_PARENTINSTANCE:
    case NGX_HTTP_DURABLE_M_TAGS:
        return type == NGX_HTTP_DURABLE_T_STARTED;

    case NGX_HTTP_DURABLE_M_TIMERID:
        return type == NGX_HTTP_DURABLE_T_TIMERFIRED;
    }

    return 0;
}


/* a member the view writes itself */

static u_char *
ngx_http_durable_out_member(u_char *p, ngx_uint_t *first, const char *key,
    size_t len, ds_str_t *value)
{
    if (!*first) {
        *p++ = ',';
    }

    *first = 0;

    *p++ = '"';
    p = ngx_cpymem(p, key, len);
    *p++ = '"';
    *p++ = ':';

    return ngx_cpymem(p, value->data, value->len);
}


/* members copied as they are, from run to end (none when run is NULL) */

static u_char *
ngx_http_durable_out_run(u_char *p, ngx_uint_t *first, u_char *run,
    u_char *end)
{
    if (run == NULL) {
        return p;
    }

    if (!*first) {
        *p++ = ',';
    }

    *first = 0;

    return ngx_cpymem(p, run, end - run);
}
