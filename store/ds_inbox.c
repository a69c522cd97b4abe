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


#include <string.h>

#include "ds_internal.h"


/* how many of ds_inbox_answer()'s kinds answer tasks, not entities */
#define DS_INBOX_TASK_ANSWERS  5


static int ds_inbox_reserve(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    ds_instance_t *inst, int64_t now, uint64_t *seq);
static int ds_inbox_answer(ds_txn_t *txn, uint64_t seq, const MDB_val *val,
    void *data);


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


int
ds_inbox_read_upto(ds_txn_t *txn, ds_str_t hub, ds_str_t id,
    uint64_t upto, ds_event_cb cb, void *data)
{
    return dsi_seq_read_upto(txn, DS_DB_INBOX, hub, id, upto, cb, data);
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
 * keeps an entity's answer: it sends no call again. Events raised,
 * control messages and entity lock grants (which name the instance, not
 * the execution) stay.
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
    size_t               i, len, n, kinds;
    const char          *p;
    static const char    prefix[] = "{\"EventType\":\"";

    /* the answers to tasks, then (DS_INBOX_TASK_ANSWERS on) entities' */
    static const char   *answers[] = {
        "TaskCompleted\"", "TaskFailed\"", "TimerFired\"",
        "SubOrchestrationInstanceCompleted\"",
        "SubOrchestrationInstanceFailed\"",
        "EntityOperationCompleted\"", "EntityOperationFailed\""
    };

    (void) txn;
    (void) seq;

    kinds = *(int *) data ? sizeof(answers) / sizeof(answers[0])
                          : DS_INBOX_TASK_ANSWERS;

    if (val->mv_size < sizeof(prefix) - 1
        || memcmp(val->mv_data, prefix, sizeof(prefix) - 1) != 0)
    {
        return DSI_EACH_NEXT;
    }

    p = (const char *) val->mv_data + sizeof(prefix) - 1;
    len = val->mv_size - (sizeof(prefix) - 1);

    for (i = 0; i < kinds; i++) {
        n = strlen(answers[i]);

        if (len >= n && memcmp(p, answers[i], n) == 0) {
            return DSI_EACH_DELETE;
        }
    }

    return DSI_EACH_NEXT;
}
