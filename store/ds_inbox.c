/*
 * Copyright (C) ngx_durable authors
 *
 * Inbox: messages waiting for the worker, consumed in order.
 *
 * Messages are numbered from the record's inbox counter (inbox_seq), so a
 * seq is never handed out twice to one record even when the inbox was
 * emptied meanwhile: a lease's "upto" never covers a later message.
 * Delivering a message makes the instance ready (dsi_ready_mark()); so does
 * ds_inbox_append() when the instance has a record (ready at the clock's
 * now: it takes no time argument).
 *
 * Values read from LMDB are valid only until the next write, so a record
 * read with ds_instance_get() is written back before the message is.
 */


#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ds_internal.h"
#include "ds_jspan.h"


/* how many of ds_inbox_answer()'s kinds answer tasks, not entities */
#define DS_INBOX_TASK_ANSWERS  5

/* room for an event type read by ds_inbox_type(): longer ones are none */
#define DS_INBOX_TYPE_MAX      64


/*
 * A lock grant as the store writes it: its set, the store's own member,
 * comes last, after the members of the public event
 */
#define DS_INBOX_GRANT         "{\"EventType\":\"EntityLockGranted\","
#define DS_INBOX_GRANT_SET     ",\"LockSet\":["


static int ds_inbox_reserve(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_instance_t *inst, int64_t now, uint64_t *seq);
static int ds_inbox_answer(ds_txn_t *txn, uint64_t seq, const MDB_val *val,
    void *data);
static int ds_inbox_type(const MDB_val *val, char *buf, ds_str_t *type);
static int ds_str_eq(ds_str_t s, const char *z);
static int ds_inbox_grant(ds_txn_t *txn, uint64_t seq, const MDB_val *val,
    void *data);
static int ds_inbox_release(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_str_t span, ds_str_t carried, const ds_action_t *a, size_t n,
    int64_t now);
static int ds_inbox_lock_set(ds_txn_t *txn, uint64_t seq,
    const MDB_val *val, void *data);
static int ds_inbox_public_cb(void *data, uint64_t seq, ds_str_t event);
static int ds_inbox_grant_of(ds_txn_t *txn, uint64_t seq,
    const MDB_val *val, void *data);


/* a reader's callback, given each message as workers see it */
typedef struct {
    ds_txn_t           *txn;
    ds_event_cb         cb;
    void               *data;
} ds_inbox_public_t;


/* a walk of the inbox for the grant of a critical section */
typedef struct {
    ds_str_t            cs;
    int                 found;
} ds_inbox_find_t;


/* a walk of the history for the lock set of a critical section */
typedef struct {
    ds_str_t            span;           /* its id, a JSON string */
    ds_buf_t           *set;
} ds_inbox_set_t;


/*
 * With a record: numbered from its counter, and the instance made ready
 * (the record is written); without one a plain append.
 */

int
ds_inbox_append(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_str_t message, uint64_t *seq)
{
    int            rc;
    uint64_t       n;
    ds_instance_t  inst, old;

    rc = ds_instance_get(txn, hub, id, &inst);

    if (rc == DS_NOTFOUND) {
        return dsi_seq_append(txn, DS_DB_INBOX, hub, id, message, seq);
    }

    if (rc != DS_OK) {
        return rc;
    }

    old = inst;

    rc = ds_inbox_reserve(txn, hub, id, &inst, ds_time_now(), &n);
    if (rc != DS_OK) {
        return rc;
    }

    /*
     * nothing written since the read, in any table: old still holds, and
     * the indexes are updated from it (dsi_instance_write())
     */
    rc = dsi_instance_write(txn, hub, id, &inst, &old);

    if (rc == DS_OK) {
        rc = dsi_seq_put(txn, DS_DB_INBOX, hub, id, n, message);
    }

    if (rc == DS_OK && seq) {
        *seq = n;
    }

    return rc;
}


int
ds_inbox_read(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_event_cb cb, void *data)
{
    return dsi_seq_read(txn, DS_DB_INBOX, hub, id, cb, data);
}


/*
 * What a work item delivers: each message as workers see it. A reader
 * may keep what it is given as long as the txn lives (a gRPC item points
 * into it till it is packed), as it keeps the values read from the map:
 * a grant's public text is made in memory of the txn (dsi_txn_keep()).
 */

int
ds_inbox_read_upto(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    uint64_t upto, ds_event_cb cb, void *data)
{
    ds_inbox_public_t  p;

    p.txn = txn;
    p.cb = cb;
    p.data = data;

    return dsi_seq_read_upto(txn, DS_DB_INBOX, hub, id, upto,
                             ds_inbox_public_cb, &p);
}


static int
ds_inbox_public_cb(void *data, uint64_t seq, ds_str_t event)
{
    char               *text;
    ds_str_t            head;
    ds_inbox_public_t  *p;

    p = data;

    if (!dsi_inbox_public(event, &head)) {
        return p->cb(p->data, seq, event);
    }

    text = dsi_txn_keep(p->txn, head.len + 1);
    if (text == NULL) {
        /* as a callback that fails: the read stops */
        dsi_txn_set_error(p->txn, "out of memory");
        return 1;
    }

    memcpy(text, head.data, head.len);
    text[head.len] = '}';

    event.data = text;
    event.len = head.len + 1;

    return p->cb(p->data, seq, event);
}


/*
 * 1 when msg is a lock grant that carries its set (the store's own
 * member, last): head is the text before it, and the public event is
 * head and "}"; 0 for any other message, which is shown as it is.
 */

int
dsi_inbox_public(ds_str_t msg, ds_str_t *head)
{
    const char  *p, *end;

    static const char  grant[] = DS_INBOX_GRANT;
    static const char  set[] = DS_INBOX_GRANT_SET;

    if (msg.len < sizeof(grant) - 1 + sizeof(set) - 1 + 2
        || memcmp(msg.data, grant, sizeof(grant) - 1) != 0
        || memcmp(msg.data + msg.len - 2, "]}", 2) != 0)
    {
        return 0;
    }

    /*
     * a quote inside a JSON string is escaped: the first ,"LockSet":[
     * is the member's own
     */

    end = msg.data + msg.len - (sizeof(set) - 1);

    for (p = msg.data + sizeof(grant) - 2; p < end; p++) {
        if (*p == ',' && memcmp(p, set, sizeof(set) - 1) == 0) {
            head->data = msg.data;
            head->len = (size_t) (p - msg.data);
            return 1;
        }
    }

    return 0;
}


/*
 * Tells owner (its execution and created time; 0: any) that it holds the
 * lock of the critical section cs: EntityLockGranted {CriticalSectionId},
 * and its set (the JSON text of the array of ids), which no worker sees,
 * so that a grant no one takes is released by what it carries itself
 * (dsi_inbox_drop_grants()).
 */

int
dsi_inbox_grant(ds_txn_t *txn, ds_str_t hub, ds_str_t owner,
    uint64_t execution, int64_t created, ds_str_t cs, ds_str_t set,
    int64_t now)
{
    int       rc;
    ds_buf_t  b;
    ds_str_t  msg;

    dsi_buf_init(&b);
    dsi_ev_begin(&b, "EntityLockGranted", -1, now);
    dsi_ev_str(&b, "CriticalSectionId", cs);

    if (set.len >= 2 && set.data[0] == '[') {
        dsi_ev_json(&b, "LockSet", set);
    }

    rc = dsi_ev_end(txn, &b, &msg);

    if (rc == DS_OK) {
        rc = dsi_inbox_deliver(txn, hub, owner, execution, created, msg,
                               now, 0);
    }

    dsi_buf_free(&b);

    return rc;
}


int
ds_inbox_clear(ds_txn_t *txn, ds_str_t hub, ds_str_t id)
{
    return dsi_seq_delete(txn, DS_DB_INBOX, hub, id, UINT64_MAX);
}


/* takes the next seq from the counter and marks the instance ready */

static int
ds_inbox_reserve(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_instance_t *inst, int64_t now, uint64_t *seq)
{
    int       rc;
    uint64_t  last;

    rc = dsi_seq_last(txn, DS_DB_INBOX, hub, id, &last);
    if (rc != DS_OK) {
        return rc;
    }

    if (last < inst->inbox_seq) {
        last = inst->inbox_seq;
    }

    if (last == UINT64_MAX) {
        dsi_txn_set_error(txn, "inbox sequence exhausted");
        return DS_ERROR;
    }

    *seq = last + 1;
    inst->inbox_seq = *seq;

    dsi_ready_mark(inst, now);

    return DS_OK;
}


/*
 * Appends a message to the inbox of inst, updates inst in memory (inbox
 * counter, ready_at); the caller writes the record. The string fields of
 * inst must not point into the map (see above): dsi_inbox_deliver() is the
 * variant for a record that is read here.
 */

int
dsi_inbox_push(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_instance_t *inst,
    ds_str_t message, int64_t now)
{
    int       rc;
    uint64_t  seq;

    rc = ds_inbox_reserve(txn, hub, id, inst, now, &seq);
    if (rc != DS_OK) {
        return rc;
    }

    return dsi_seq_put(txn, DS_DB_INBOX, hub, id, seq, message);
}


/*
 * Delivers a message to an instance that exists and is not terminal (and,
 * when execution is not 0, still runs that execution; when created is not
 * 0, was created then: not an instance purged and started again under
 * the same id, whose execution numbers begin again); otherwise the
 * message is dropped and DS_OK returned, as the reference does, or with
 * strict set DS_NOTFOUND / DS_GONE returned and nothing written.
 */

int
dsi_inbox_deliver(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    uint64_t execution, int64_t created, ds_str_t message, int64_t now,
    int strict)
{
    int            rc;
    uint64_t       seq;
    ds_instance_t  inst, old;

    rc = ds_instance_get(txn, hub, id, &inst);

    if (rc == DS_NOTFOUND) {
        return strict ? DS_NOTFOUND : DS_OK;
    }

    if (rc != DS_OK) {
        return rc;
    }

    if (ds_status_is_terminal(inst.status)) {
        return strict ? DS_GONE : DS_OK;
    }

    if ((execution != 0 && inst.execution != execution)
        || (created != 0 && inst.created != created))
    {
        return DS_OK;
    }

    old = inst;

    rc = ds_inbox_reserve(txn, hub, id, &inst, now, &seq);
    if (rc != DS_OK) {
        return rc;
    }

    /*
     * nothing written since the read, in any table: old still holds, and
     * the indexes are updated from it (dsi_instance_write())
     */
    rc = dsi_instance_write(txn, hub, id, &inst, &old);
    if (rc != DS_OK) {
        return rc;
    }

    return dsi_seq_put(txn, DS_DB_INBOX, hub, id, seq, message);
}


/*
 * Deletes the answers to an execution that ended (an activity's or a
 * sub-orchestration's result, a fired timer; with entities, an entity's
 * answer to a call) from the inbox, from seq "from" on: those that came
 * while its last episode ran. A continue-as-new drops them all, as its
 * new execution numbers tasks and timers from 0 again and would take
 * them for its own. A rewind drops what it schedules again (activities,
 * timers, sub-orchestrations), so that each task gets one result, and
 * keeps an entity's answer: it sends no call again. Events raised and
 * control messages stay; entity lock grants are dropped, and their locks
 * released, by dsi_inbox_drop_grants() when an execution completes,
 * continues as new or is terminated (a failed one keeps them for a
 * rewind, which sends again only the lock requests whose grant no one
 * holds).
 */

int
dsi_inbox_drop_answers(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    uint64_t from, int entities)
{
    return dsi_seq_each_from(txn, DS_DB_INBOX, hub, id, from, UINT64_MAX,
                             ds_inbox_answer, &entities);
}


static int
ds_inbox_answer(ds_txn_t *txn, uint64_t seq, const MDB_val *val, void *data)
{
    char                 buf[DS_INBOX_TYPE_MAX];
    size_t               i, kinds;
    ds_str_t             type;

    /* the answers to tasks, then (DS_INBOX_TASK_ANSWERS on) entities' */
    static const char   *answers[] = {
        "TaskCompleted", "TaskFailed", "TimerFired",
        "SubOrchestrationInstanceCompleted",
        "SubOrchestrationInstanceFailed",
        "EntityOperationCompleted", "EntityOperationFailed"
    };

    (void) txn;
    (void) seq;

    kinds = *(int *) data ? sizeof(answers) / sizeof(answers[0])
                          : DS_INBOX_TASK_ANSWERS;

    if (!ds_inbox_type(val, buf, &type)) {
        return DSI_EACH_NEXT;
    }

    for (i = 0; i < kinds; i++) {
        if (ds_str_eq(type, answers[i])) {
            return DSI_EACH_DELETE;
        }
    }

    return DSI_EACH_NEXT;
}


/*
 * A stored message's "EventType" (1), pointing into the message or into
 * buf (DS_INBOX_TYPE_MAX bytes). The store writes it first,
 * {"EventType":"X",...}, which is read at a glance; a message the store
 * did not write (an event carried over, a record imported) is valid
 * JSON that may order or space its members otherwise, and is parsed. A
 * message that is not an object, or whose type is not a string that
 * fits buf, has none (0).
 */

static int
ds_inbox_type(const MDB_val *val, char *buf, ds_str_t *type)
{
    int          rc;
    size_t       len;
    json_t      *j, *v;
    const char  *p, *q;

    static const char  prefix[] = "{\"EventType\":\"";

    p = val->mv_data;
    len = val->mv_size;

    if (len > sizeof(prefix) - 1
        && memcmp(p, prefix, sizeof(prefix) - 1) == 0)
    {
        p += sizeof(prefix) - 1;
        len -= sizeof(prefix) - 1;
        q = memchr(p, '"', len);

        if (q != NULL && memchr(p, '\\', (size_t) (q - p)) == NULL) {
            /* a type of the store's own: no escape in it */
            type->data = p;
            type->len = (size_t) (q - p);
            return 1;
        }
    }

    j = json_loadb(val->mv_data, val->mv_size, JSON_ALLOW_NUL, NULL);
    if (j == NULL) {
        return 0;
    }

    v = json_object_get(j, "EventType");
    rc = 0;

    if (json_is_string(v) && json_string_length(v) <= DS_INBOX_TYPE_MAX) {
        type->len = json_string_length(v);
        memcpy(buf, json_string_value(v), type->len);
        type->data = buf;
        rc = 1;
    }

    json_decref(j);

    return rc;
}


static int
ds_str_eq(ds_str_t s, const char *z)
{
    return strlen(z) == s.len && memcmp(s.data, z, s.len) == 0;
}


/*
 * The lock grants that came after the messages of an execution's last
 * episode (seq "from" on) when the execution ends (not by a failure,
 * whose grants wait for a rewind) or continues as new: no one will take
 * them (the new execution never asked for them), so each is deleted
 * and its lock released at once (dsi_entity_release()), so that the
 * entities' queues move on. The set of a critical section is the one
 * the grant carries (dsi_inbox_grant()); a grant written before it
 * carried one goes by the completion's own request (a: its actions) or
 * the EntityLockRequested in the history, which is still the ended
 * execution's. A release can grant a waiting request of the same
 * execution, whose grant comes here too: the walk repeats until none.
 */

int
dsi_inbox_drop_grants(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    uint64_t from, const ds_action_t *a, size_t n, int64_t now)
{
    int         rc;
    size_t      pos, round;
    ds_buf_t    spans;
    ds_str_t    span, set;

    dsi_buf_init(&spans);
    rc = DS_OK;

    for (round = 0; round < DS_LOCK_SET_MAX; round++) {
        dsi_buf_reset(&spans);

        rc = dsi_seq_each_from(txn, DS_DB_INBOX, hub, id, from, UINT64_MAX,
                               ds_inbox_grant, &spans);
        if (rc != DS_OK) {
            break;
        }

        if (spans.oom) {
            dsi_txn_set_error(txn, "out of memory");
            rc = DS_ERROR;
            break;
        }

        if (spans.len == 0) {
            break;
        }

        /*
         * each grant's critical section id and its set (or nothing),
         * each ended by a 0 byte
         */

        for (pos = 0; rc == DS_OK && pos < spans.len; /* void */) {
            span.data = spans.data + pos;
            span.len = strlen(span.data);
            pos += span.len + 1;

            set.data = spans.data + pos;
            set.len = strlen(set.data);
            pos += set.len + 1;

            rc = ds_inbox_release(txn, hub, id, span, set, a, n, now);
        }

        if (rc != DS_OK) {
            break;
        }
    }

    dsi_buf_free(&spans);

    return rc;
}


static int
ds_inbox_grant(ds_txn_t *txn, uint64_t seq, const MDB_val *val, void *data)
{
    char       buf[DS_INBOX_TYPE_MAX];
    ds_buf_t  *spans;
    ds_str_t   cs, set, type;

    (void) txn;
    (void) seq;

    spans = data;

    if (!ds_inbox_type(val, buf, &type)
        || !ds_str_eq(type, "EntityLockGranted"))
    {
        return DSI_EACH_NEXT;
    }

    /* JSON text holds no 0 byte: it ends the id, and the set, in spans */

    if (ds_jspan_member(val->mv_data, val->mv_size, "CriticalSectionId",
                        &cs)
        && cs.len >= 2 && cs.data[0] == '"')
    {
        dsi_buf_add(spans, cs.data, cs.len);
        dsi_buf_add(spans, "", 1);

        if (ds_jspan_member(val->mv_data, val->mv_size, "LockSet", &set)
            && set.len >= 2 && set.data[0] == '[')
        {
            dsi_buf_add(spans, set.data, set.len);
        }

        dsi_buf_add(spans, "", 1);
    }

    return DSI_EACH_DELETE;
}


/*
 * releases the lock of the critical section whose id is span (JSON):
 * carried is the set its grant carried (JSON), or empty
 */

static int
ds_inbox_release(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_str_t span,
    ds_str_t carried, const ds_action_t *a, size_t n, int64_t now)
{
    int              rc;
    char            *buf;
    size_t           i, len;
    ds_buf_t         set;
    ds_str_t         cs, json;
    ds_inbox_set_t   w;

    buf = malloc(span.len);
    if (buf == NULL) {
        dsi_txn_set_error(txn, "out of memory");
        return DS_ERROR;
    }

    if (!ds_jspan_decode(span, buf, span.len, &len)) {
        /* the store wrote it: not to be */
        free(buf);
        return DS_OK;
    }

    cs.data = buf;
    cs.len = len;

    if (carried.len) {
        rc = dsi_entity_release(txn, hub, id, cs, carried, now);
        free(buf);
        return rc;
    }

    dsi_buf_init(&set);

    for (i = 0; i < n; i++) {
        if (a[i].type == DS_ACT_LOCK_ENTITIES
            && a[i].request_id.len == cs.len
            && memcmp(a[i].request_id.data, cs.data, cs.len) == 0)
        {
            /* {"s":[...]}: the array is what follows "s": */
            dsi_ev_open(&set);
            dsi_lock_set_json(&set, "s", &a[i]);
            dsi_buf_add(&set, "}", 1);
            break;
        }
    }

    rc = DS_OK;

    if (set.len == 0) {
        w.span = span;
        w.set = &set;

        rc = dsi_seq_each(txn, DS_DB_HISTORY, hub, id, UINT64_MAX,
                          ds_inbox_lock_set, &w);
    }

    if (rc == DS_OK && set.oom) {
        dsi_txn_set_error(txn, "out of memory");
        rc = DS_ERROR;
    }

    if (rc == DS_OK && set.len
        && ds_jspan_member((const unsigned char *) set.data, set.len, "s",
                           &json))
    {
        rc = dsi_entity_release(txn, hub, id, cs, json, now);
    }

    dsi_buf_free(&set);
    free(buf);

    return rc;
}


static int
ds_inbox_lock_set(ds_txn_t *txn, uint64_t seq, const MDB_val *val,
    void *data)
{
    ds_str_t         type, cs, set;
    ds_inbox_set_t  *w;

    static const char  requested[] = "\"EntityLockRequested\"";

    (void) txn;
    (void) seq;

    w = data;

    if (!ds_jspan_member(val->mv_data, val->mv_size, "EventType", &type)
        || type.len != sizeof(requested) - 1
        || memcmp(type.data, requested, type.len) != 0
        || !ds_jspan_member(val->mv_data, val->mv_size, "CriticalSectionId",
                            &cs)
        || cs.len != w->span.len
        || memcmp(cs.data, w->span.data, cs.len) != 0
        || !ds_jspan_member(val->mv_data, val->mv_size, "LockSet", &set))
    {
        return DSI_EACH_NEXT;
    }

    /* copied: the map's value goes with the next write */
    dsi_ev_open(w->set);
    dsi_ev_json(w->set, "s", set);
    dsi_buf_add(w->set, "}", 1);

    return DS_OK;
}


/* *found 1 when a grant of the critical section cs waits in the inbox */

int
dsi_inbox_has_grant(ds_txn_t *txn, ds_str_t hub, ds_str_t id, ds_str_t cs,
    int *found)
{
    int              rc;
    ds_inbox_find_t  f;

    f.cs = cs;
    f.found = 0;

    rc = dsi_seq_each(txn, DS_DB_INBOX, hub, id, UINT64_MAX,
                      ds_inbox_grant_of, &f);

    *found = f.found;

    return rc;
}


static int
ds_inbox_grant_of(ds_txn_t *txn, uint64_t seq, const MDB_val *val,
    void *data)
{
    int               rc;
    char              buf[DS_INBOX_TYPE_MAX], *id;
    size_t            len;
    ds_str_t          type, span;
    ds_inbox_find_t  *f;

    (void) seq;

    f = data;

    if (!ds_inbox_type(val, buf, &type)
        || !ds_str_eq(type, "EntityLockGranted")
        || !ds_jspan_member(val->mv_data, val->mv_size, "CriticalSectionId",
                            &span)
        || span.len < 2 || span.data[0] != '"')
    {
        return DSI_EACH_NEXT;
    }

    id = malloc(span.len);
    if (id == NULL) {
        dsi_txn_set_error(txn, "out of memory");
        return DS_ERROR;
    }

    rc = DSI_EACH_NEXT;

    if (ds_jspan_decode(span, id, span.len, &len) && len == f->cs.len
        && memcmp(id, f->cs.data, len) == 0)
    {
        f->found = 1;
        rc = DS_OK;
    }

    free(id);

    return rc;
}
