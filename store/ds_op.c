
/*
 * Copyright (C) ngx_durable authors
 *
 * Operations as data: one entry point that applies a front end's
 * ds_op_t in the writer's txn. The contracts are in durable_store.h; this
 * file maps each type onto the store's functions, with the reads a
 * refusal needs to word its answer (the status of a namesake, of an
 * instance that cannot be rewound or purged), and applies batches of them
 * in one txn for a writer's group commit.
 */


#include <stdio.h>
#include <string.h>

#include "ds_backend.h"
#include "ds_internal.h"


typedef struct {
    ds_op_t            *op;
    dsi_claim_notes_t  *notes;
} ds_op_noting_t;


static int ds_op_apply_start(ds_txn_t *txn, ds_op_t *op, int64_t now);
static int ds_op_apply_claim(ds_txn_t *txn, ds_op_t *op, int64_t now);
static int ds_op_claim_item(void *data, ds_txn_t *txn,
    const ds_work_item_t *item);
static int ds_op_claim_note(void *data, const dsi_work_note_t *note);
static int ds_op_batch_run(ds_env_t *env, ds_op_t *ops, dsi_op_more_pt more,
    void *data, dsi_op_times_t *times, dsi_claim_notes_t *notes, char *err,
    size_t errlen);
static int ds_op_apply_work(ds_txn_t *txn, ds_op_t *op, int64_t now);
static void ds_op_batch_nested(ds_env_t *env, ds_op_t *batch,
    dsi_claim_notes_t *notes, char *err, size_t errlen);
static void ds_op_batch_commit(ds_txn_t *txn, ds_op_t *batch,
    size_t applied, char *err, size_t errlen);
static void ds_op_batch_error(ds_txn_t *txn, char *err, size_t errlen);
static const dsi_backend_t *ds_op_backend(const ds_op_t *op);
static void ds_op_batch_fail(ds_op_t *batch, int rc, int all);
static void ds_op_stamp_id(ds_op_t *op, int64_t now);


static const struct {
    const char         *what;
    int                 wakes;
} ds_op_table[DS_OP_COUNT] = {
    { "starting", 1 },                  /* DS_OP_START */
    { "restarting", 1 },                /* DS_OP_RESTART */
    { "raising an event", 1 },          /* DS_OP_RAISE_EVENT */
    { "updating", 1 },                  /* DS_OP_TERMINATE */
    { "updating", 1 },                  /* DS_OP_SUSPEND */
    { "updating", 1 },                  /* DS_OP_RESUME */
    { "updating", 1 },                  /* DS_OP_REWIND */
    { "purging", 0 },                   /* DS_OP_PURGE */
    { "purging", 0 },                   /* DS_OP_PURGE_BATCH */
    { "signalling", 1 },                /* DS_OP_ENTITY_SIGNAL */
    { "claiming", 0 },                  /* DS_OP_WORK_CLAIM */
    { "completing work", 1 },           /* DS_OP_WORK_COMPLETE */
    { "completing work", 1 },           /* DS_OP_WORK_RENEW */
    { "completing work", 1 },           /* DS_OP_WORK_ABANDON */
    { "reading", 0 },                   /* DS_OP_STATUS */
    { "reading", 0 },                   /* DS_OP_ENTITY_GET */
    { "listing", 0 },                   /* DS_OP_LIST */
    { "listing", 0 },                   /* DS_OP_ENTITY_LIST */
    { "reading", 0 },                   /* DS_OP_STATS */
    { "reading", 0 },                   /* DS_OP_HISTORY */
    { "cleaning entities", 1 }          /* DS_OP_ENTITY_CLEAN */
};


int
ds_op_apply(ds_txn_t *txn, ds_op_t *op)
{
    int            rc;
    int64_t        now, deadline;
    uint64_t       writes;
    ds_status_e    status;
    ds_instance_t  inst;

    now = op->now ? op->now : ds_time_now();
    writes = ds_txn_writes(txn);

    switch (op->type) {

    case DS_OP_START:
    case DS_OP_RESTART:
        rc = ds_op_apply_start(txn, op, now);
        break;

    case DS_OP_RAISE_EVENT:
        rc = ds_op_raise_event(txn, op->hub, op->in.control.id,
                               op->in.control.name, op->in.control.data,
                               now);
        break;

    case DS_OP_TERMINATE:
        rc = op->in.control.recurse
             ? ds_op_terminate_tree(txn, op->hub, op->in.control.id,
                                    op->in.control.data, now)
             : ds_op_terminate(txn, op->hub, op->in.control.id,
                               op->in.control.data, now);
        break;

    case DS_OP_SUSPEND:
        rc = ds_op_suspend(txn, op->hub, op->in.control.id,
                           op->in.control.data, now);
        break;

    case DS_OP_RESUME:
        rc = ds_op_resume(txn, op->hub, op->in.control.id,
                          op->in.control.data, now);
        break;

    case DS_OP_REWIND:
        rc = ds_op_rewind(txn, op->hub, op->in.control.id,
                          op->in.control.data, now);

        /* the refusal names the status the instance has */

        if (rc == DS_PRECONDITION
            && ds_instance_get(txn, op->hub, op->in.control.id, &inst)
               == DS_OK)
        {
            op->out.control.status = inst.status;
        }

        break;

    case DS_OP_PURGE:
        status = DS_RUNNING;
        op->out.control.purged = 0;

        if (op->in.control.recurse) {
            rc = ds_op_purge_tree(txn, op->hub, op->in.control.id, &status,
                                  &op->out.control.purged);

        } else {
            rc = ds_op_purge(txn, op->hub, op->in.control.id, &status);
            op->out.control.purged = (rc == DS_OK);
        }

        op->out.control.status = status;
        break;

    case DS_OP_PURGE_BATCH:
        op->out.purge.deleted = 0;
        op->out.purge.more = 0;

        deadline = op->in.purge.max_us
                   ? ds_time_mono() + op->in.purge.max_us : 0;

        rc = ds_instance_purge_until(txn, op->hub, op->in.purge.query,
                                     op->in.purge.max, deadline,
                                     &op->out.purge.deleted,
                                     &op->out.purge.more);

        /* a batch that deleted nothing found nothing more to delete */
        op->out.purge.more = op->out.purge.more && op->out.purge.deleted;
        break;

    case DS_OP_ENTITY_SIGNAL:
        rc = ds_entity_signal_at(txn, op->hub, op->in.entity.name,
                                 op->in.entity.key, op->in.entity.operation,
                                 op->in.entity.input, op->in.entity.at, now);
        break;

    case DS_OP_ENTITY_CLEAN:
        rc = ds_entity_clean(txn, op->hub, op->in.entity_clean.token_in,
                             op->in.entity_clean.max,
                             op->in.entity_clean.remove_empty,
                             op->in.entity_clean.release_orphaned, now,
                             &op->out.entity_clean.removed,
                             &op->out.entity_clean.released,
                             op->in.entity_clean.token,
                             &op->out.entity_clean.token_len);
        break;

    case DS_OP_WORK_CLAIM:
        rc = ds_op_apply_claim(txn, op, now);
        break;

    case DS_OP_WORK_COMPLETE:
    case DS_OP_WORK_RENEW:
    case DS_OP_WORK_ABANDON:
        rc = ds_op_apply_work(txn, op, now);
        break;

    default:
        rc = DS_INVALID;
        break;
    }

    switch (op->type) {

    case DS_OP_TERMINATE:
    case DS_OP_SUSPEND:
    case DS_OP_RESUME:
    case DS_OP_REWIND:
        /* these write exactly when they change the status */
        op->out.control.changed = (rc == DS_OK
                                   && ds_txn_writes(txn) != writes);
        break;

    default:
        break;
    }

    op->rc = rc;

    return rc;
}


const char *
ds_op_what(ds_op_type_e type)
{
    return (unsigned) type < DS_OP_COUNT ? ds_op_table[type].what
                                         : "applying";
}


int
ds_op_wakes(ds_op_type_e type)
{
    return (unsigned) type < DS_OP_COUNT && ds_op_table[type].wakes;
}


static int
ds_op_apply_start(ds_txn_t *txn, ds_op_t *op, int64_t now)
{
    int              rc;
    ds_str_t         id, name, input;
    ds_instance_t    inst;
    ds_start_opts_t  opts;

    name = op->in.start.name;
    input = op->in.start.input;
    opts = op->in.start.opts;

    if (op->type == DS_OP_RESTART) {
        rc = ds_instance_get(txn, op->hub, op->in.start.from, &inst);
        if (rc != DS_OK) {
            return rc;
        }

        /* the start copies the strings before it writes */
        name = inst.name;
        input = inst.input;

        memset(&opts, 0, sizeof(ds_start_opts_t));
        opts.version = inst.version;
        opts.tags = inst.tags;
    }

    id = op->in.start.id;

    if (op->in.start.stamp && id.len == DS_ID_STAMP_LEN) {
        ds_op_stamp_id(op, now);
        id.data = op->out.start.id;
    }

    rc = ds_op_start_opts(txn, op->hub, id, name, input, &opts, now, &inst);

    if (rc == DS_CONFLICT) {
        op->out.start.status = inst.status;
    }

    return rc;
}


/*
 * The first 15 hex digits of a made id become the time of its write, taken
 * under the write lock: the ids of all processes' starts then come in
 * increasing order, each B-tree keyed by id is appended to at its end, and
 * LMDB leaves its leaves full (an insert before the last key of a full page
 * splits it in the middle, and that half page never fills again).
 */

static void
ds_op_stamp_id(ds_op_t *op, int64_t now)
{
    int         i;
    uint64_t    t;
    const char  hex[] = "0123456789abcdef";

    memcpy(op->out.start.id, op->in.start.id.data, DS_ID_STAMP_LEN);

    /* 12 digits of the ms since 1970, then 3 of the µs in that ms */

    t = (uint64_t) (now > 0 ? now : 0);
    t = (t / 1000) << 12 | (t % 1000);

    for (i = 14; i >= 0; i--) {
        op->out.start.id[i] = hex[t & 0xf];
        t >>= 4;
    }

    op->out.start.stamped = 1;
}


static int
ds_op_apply_claim(ds_txn_t *txn, ds_op_t *op, int64_t now)
{
    int                 rc;
    size_t              nnames;
    ds_op_noting_t      noting;
    ds_claim_filter_t  *filter;

    filter = op->in.claim.filter;
    nnames = filter ? filter->nnames : 0;

    op->out.claim.claimed = 0;
    op->out.claim.visible = INT64_MAX;

    if (op->in.claim.begin != NULL) {
        op->in.claim.begin(op->in.claim.item_data);
    }

    if (txn->notes != NULL && dsi_work_notes(op->in.claim.kind)) {
        /* a batch's: the items are rendered after its commit */
        noting.op = op;
        noting.notes = txn->notes;

        rc = dsi_work_claim_noted(txn, op->hub, op->in.claim.kind, now,
                                  op->in.claim.lease_us, op->in.claim.max,
                                  op->in.claim.tokens, filter,
                                  ds_op_claim_note, &noting,
                                  &op->out.claim.claimed);

    } else {
        op->backend = txn;

        rc = ds_work_claim(txn, op->hub, op->in.claim.kind, now,
                           op->in.claim.lease_us, op->in.claim.max,
                           op->in.claim.tokens, filter, ds_op_claim_item,
                           op, &op->out.claim.claimed);

        op->backend = NULL;
    }

    if (rc != DS_OK) {
        return rc;
    }

    if (nnames == 0) {
        return ds_work_next_visible(txn, op->hub, op->in.claim.kind,
                                    &op->out.claim.visible);
    }

    if (filter->more) {
        /* visible entries the bounded claim did not reach: a second on */
        op->out.claim.visible = now + 1000000;
        return DS_OK;
    }

    /* every visible entry was passed over: none of them is for us */

    return ds_work_next_after(txn, op->hub, op->in.claim.kind, now,
                              &op->out.claim.visible);
}


/* a claimed item noted into the batch's list, for its op */

static int
ds_op_claim_note(void *data, const dsi_work_note_t *note)
{
    ds_op_noting_t  *noting = data;

    return dsi_claim_notes_add(noting->notes, noting->op, note) != DS_OK;
}


/* the item as the front end sees it: through the op, without the txn */

static int
ds_op_claim_item(void *data, ds_txn_t *txn, const ds_work_item_t *item)
{
    ds_op_t  *op = data;

    (void) txn;

    return op->in.claim.item(op->in.claim.item_data, op, item);
}


int
ds_op_item_events(ds_op_t *op, const ds_work_item_t *item, ds_list_e list,
    ds_event_cb cb, void *data)
{
    const dsi_backend_t  *be;

    be = ds_op_backend(op);

    if (op->type != DS_OP_WORK_CLAIM || be->item_events == NULL) {
        return DS_INVALID;
    }

    return be->item_events(op, item, list, cb, data);
}


static int
ds_op_apply_work(ds_txn_t *txn, ds_op_t *op, int64_t now)
{
    ds_str_t  key;

    key = op->in.work.key;

    if (key.data == NULL) {
        key.data = "";
    }

    switch (op->type) {

    case DS_OP_WORK_RENEW:
        return ds_work_renew(txn, op->hub, op->in.work.kind, op->in.work.id,
                             key, op->in.work.task, op->in.work.lease, now,
                             op->in.work.lease_us, &op->out.work.expires);

    case DS_OP_WORK_ABANDON:
        return ds_work_abandon(txn, op->hub, op->in.work.kind,
                               op->in.work.id, key, op->in.work.task,
                               op->in.work.lease, now);

    default:
        break;
    }

    /* set by an orchestration's completion only, and not when refused */

    op->out.work.changed = 0;

    switch (op->in.work.kind) {

    case DS_WORK_ORCHESTRATION:
        return dsi_work_complete_orchestration(txn, op->hub,
                                               op->in.work.id,
                                               op->in.work.lease,
                                               op->in.work.actions,
                                               op->in.work.nactions,
                                               op->in.work.partial
                                               ? op->in.work.processed
                                               : SIZE_MAX,
                                               now, &op->out.work.status,
                                               &op->out.work.changed);

    case DS_WORK_ACTIVITY:
        return ds_work_complete_activity(txn, op->hub, op->in.work.id,
                                         op->in.work.task, op->in.work.lease,
                                         op->in.work.failed,
                                         op->in.work.result,
                                         op->in.work.reason,
                                         op->in.work.details, now);

    default:
        if (op->in.work.failed) {
            return ds_work_fail_entity(txn, op->hub, op->in.work.id, key,
                                       op->in.work.lease,
                                       op->in.work.reason,
                                       op->in.work.details, now);
        }

        return ds_work_complete_entity_results(txn, op->hub, op->in.work.id,
                                               key, op->in.work.lease,
                                               op->in.work.delete_state,
                                               op->in.work.result,
                                               op->in.work.results,
                                               op->in.work.nresults,
                                               op->in.work.actions,
                                               op->in.work.nactions, now);
    }
}


/*
 * The ops of a batch run one after another in the batch's txn. One that
 * fails without having written anything (a refusal: conflict, not found,
 * stale lease, no room left but the reserve) leaves the txn as it was, so
 * the batch goes on. One that fails after writing (a full map, an I/O
 * error, a check that comes late) would leave half of itself behind, and
 * a store error may leave the txn unusable: the txn is dropped. If
 * nothing of the batch had been applied yet, the ops after it go on in a
 * new txn; otherwise the batch runs again with each op in a nested txn of
 * its own, so that the failing one fails alone (nested txns copy every
 * page they touch, hence not the first choice).
 */

int
ds_op_batch(ds_env_t *env, ds_op_t *ops)
{
    return dsi_op_batch(env, ops, NULL, 0);
}


/* as ds_op_batch(), keeping the text of the first store error in err */

int
dsi_op_batch(ds_env_t *env, ds_op_t *ops, char *err, size_t errlen)
{
    return dsi_op_batch_more(env, ops, NULL, NULL, NULL, err, errlen);
}


/*
 * The claims of a batch note their items, and the items are rendered once
 * the batch has committed (ds_claim_notes.c): the write lock is not held
 * for that.
 */

int
dsi_op_batch_more(ds_env_t *env, ds_op_t *ops, dsi_op_more_pt more,
    void *data, dsi_op_times_t *times, char *err, size_t errlen)
{
    int                redone;
    dsi_claim_notes_t  notes;

    if (errlen) {
        err[0] = '\0';
    }

    memset(&notes, 0, sizeof(dsi_claim_notes_t));

    redone = ds_op_batch_run(env, ops, more, data, times, &notes, err,
                             errlen);

    if (times) {
        times->committed = ds_time_mono();
    }

    if (notes.n) {
        dsi_claim_notes_render(env, &notes, err, errlen);

        if (times) {
            times->rendered = ds_time_mono();
            times->outcome = notes.outcome;
        }
    }

    dsi_claim_notes_free(&notes);

    return redone;
}


static int
ds_op_batch_run(ds_env_t *env, ds_op_t *ops, dsi_op_more_pt more,
    void *data, dsi_op_times_t *times, dsi_claim_notes_t *notes, char *err,
    size_t errlen)
{
    int        rc;
    size_t     applied;
    uint64_t   before;
    ds_op_t   *op;
    ds_txn_t  *txn;

again:

    /* the notes of a txn given up are void */
    notes->n = 0;

    rc = dsi_txn_begin_err(env, NULL, 1, &txn, err, errlen);
    if (rc != DS_OK) {
        ds_op_batch_fail(ops, rc, 1);
        return 0;
    }

    txn->notes = notes;

    /*
     * the first begin's: a batch begun again after leading refusals had
     * the lock a moment ago, and its wait is the first one
     */

    if (times && times->locked == 0) {
        times->locked = ds_time_mono();
    }

    if (more) {
        /* the lock is ours: what came meanwhile joins this commit */
        more(data);
    }

    applied = 0;

    for (op = ops; op; op = op->next) {
        before = ds_txn_writes(txn);

        if (ds_op_apply(txn, op) == DS_OK) {
            applied++;
            continue;
        }

        /*
         * a DS_FULL with nothing written is the store's reserve refusing
         * an operation that adds data: the txn is as it was
         */

        if (ds_txn_writes(txn) == before && op->rc != DS_ERROR) {
            continue;
        }

        ds_op_batch_error(txn, err, errlen);
        ds_txn_abort(txn);

        if (applied == 0) {
            /* the ops before it were refusals: their answers stand */

            ops = op->next;

            if (ops == NULL) {
                return 0;
            }

            goto again;
        }

        ds_op_batch_nested(env, ops, notes, err, errlen);

        return 1;
    }

    /*
     * The count changes the ops kept are written here, not in the commit:
     * one that fails (a full map) fails the op that made it alone when
     * the batch runs nested, each op writing its own in its child txn.
     */

    if (applied && dsi_counts_flush(txn) != DS_OK) {
        ds_op_batch_error(txn, err, errlen);
        ds_txn_abort(txn);
        ds_op_batch_nested(env, ops, notes, err, errlen);

        return 1;
    }

    if (times && applied) {
        times->applied = ds_time_mono();
    }

    ds_op_batch_commit(txn, ops, applied, err, errlen);

    return 0;
}


/* the txn's error text, unless the batch kept one already */

static void
ds_op_batch_error(ds_txn_t *txn, char *err, size_t errlen)
{
    const char  *text;

    if (errlen == 0 || err[0] != '\0') {
        return;
    }

    text = ds_txn_error(txn);

    if (strcmp(text, "no error") != 0) {
        snprintf(err, errlen, "%s", text);
    }
}


static void
ds_op_batch_nested(ds_env_t *env, ds_op_t *batch, dsi_claim_notes_t *notes,
    char *err, size_t errlen)
{
    int        rc;
    size_t     applied, noted;
    ds_op_t   *op;
    ds_txn_t  *txn, *child;

    notes->n = 0;

    rc = dsi_txn_begin_err(env, NULL, 1, &txn, err, errlen);
    if (rc != DS_OK) {
        ds_op_batch_fail(batch, rc, 1);
        return;
    }

    txn->notes = notes;
    applied = 0;

    for (op = batch; op; op = op->next) {

        op->rc = ds_txn_begin(env, txn, 1, &child);
        if (op->rc != DS_OK) {
            continue;
        }

        /* a child given up takes its notes with it */
        noted = notes->n;

        if (ds_op_apply(child, op) != DS_OK) {
            if (op->rc == DS_ERROR || op->rc == DS_FULL) {
                ds_op_batch_error(child, err, errlen);
            }

            ds_txn_abort(child);
            notes->n = noted;
            continue;
        }

        op->rc = dsi_txn_commit_err(child, err, errlen);

        if (op->rc == DS_OK) {
            applied++;
        }
    }

    ds_op_batch_commit(txn, batch, applied, err, errlen);
}


static void
ds_op_batch_commit(ds_txn_t *txn, ds_op_t *batch, size_t applied,
    char *err, size_t errlen)
{
    int  rc;

    if (applied == 0) {
        ds_txn_abort(txn);
        return;
    }

    rc = dsi_txn_commit_err(txn, err, errlen);

    if (rc != DS_OK) {
        /*
         * nothing of the batch is known durable: a failed commit wrote
         * nothing, but one whose flush failed may be visible
         */
        ds_op_batch_fail(batch, rc, 0);
    }
}


/* all ops fail with rc, or those that had succeeded (refusals stand) */

static void
ds_op_batch_fail(ds_op_t *batch, int rc, int all)
{
    ds_op_t  *op;

    for (op = batch; op; op = op->next) {
        if (all || op->rc == DS_OK) {
            op->rc = rc;
        }
    }
}


int
ds_op_read(ds_env_t *env, ds_op_t *op)
{
    int            rc, begun;
    ds_txn_t      *txn;
    ds_entity_t    entity;
    ds_instance_t  inst;

    op->backend = NULL;

    rc = ds_txn_begin(env, NULL, 0, &txn);
    begun = (rc == DS_OK);

    if (begun) {
        op->backend = txn;

        switch (op->type) {

        case DS_OP_STATUS:
            rc = ds_instance_get(txn, op->hub, op->in.control.id, &inst);
            op->out.status.inst = (rc == DS_OK) ? &inst : NULL;
            break;

        case DS_OP_ENTITY_GET:
            rc = ds_entity_get(txn, op->hub, op->in.entity.name,
                               op->in.entity.key, &entity);
            op->out.entity.entity = (rc == DS_OK) ? &entity : NULL;
            break;

        case DS_OP_LIST:
            op->out.list.token_len = 0;
            rc = ds_instance_list(txn, op->hub, op->in.list.query,
                                  op->in.list.item, op->in.list.item_data,
                                  op->in.list.token,
                                  &op->out.list.token_len);
            break;

        case DS_OP_ENTITY_LIST:
            op->out.list.token_len = 0;
            rc = ds_entity_list(txn, op->hub, op->in.entity_list.name,
                                op->in.entity_list.from,
                                op->in.entity_list.to,
                                op->in.entity_list.top,
                                op->in.entity_list.scan_budget,
                                op->in.entity_list.token_in,
                                op->in.entity_list.item,
                                op->in.entity_list.item_data,
                                op->in.entity_list.token,
                                &op->out.list.token_len);
            break;

        case DS_OP_STATS:
            /* done() reads what it needs in this snapshot */
            break;

        case DS_OP_HISTORY:
            op->out.history.next = 0;
            rc = ds_instance_get(txn, op->hub, op->in.history.id, &inst);

            if (rc == DS_OK) {
                op->out.history.execution = inst.execution;
                op->out.history.status = inst.status;

                rc = ds_history_chunk(txn, op->hub, op->in.history.id,
                                      op->in.history.from,
                                      op->in.history.max_events,
                                      op->in.history.max_bytes,
                                      op->in.history.item,
                                      op->in.history.item_data,
                                      &op->out.history.next);
            }

            break;

        default:
            rc = DS_INVALID;
            break;
        }
    }

    op->rc = rc;

    /*
     * done() may free op (its request ends) or submit it again (a page
     * of several reads): after it only the local txn is touched, and
     * op->backend means nothing any more
     */

    if (op->done != NULL) {
        op->done(op);
    }

    if (begun) {
        ds_txn_abort(txn);
    }

    return rc;
}


/*
 * The accessors of done(): the backend that answered op reads its answer.
 * An op applied without a store (ds_op_read(), ds_op_batch()) is LMDB's.
 */

static const dsi_backend_t *
ds_op_backend(const ds_op_t *op)
{
    return op->store != NULL ? op->store->backend : &dsi_backend_lmdb;
}


int
ds_op_history(ds_op_t *op, ds_event_cb cb, void *data)
{
    const dsi_backend_t  *be;

    be = ds_op_backend(op);

    /* a read that did not ask for the history may not have it */

    if (op->type != DS_OP_STATUS || !op->in.control.history
        || be->history == NULL)
    {
        return DS_INVALID;
    }

    return be->history(op, cb, data);
}


const char *
ds_op_error(const ds_op_t *op)
{
    const dsi_backend_t  *be;

    be = ds_op_backend(op);

    if (be->error == NULL) {
        return ds_strerror(op->rc);
    }

    return be->error(op);
}


/* the figures of a DS_OP_STATS read, during its done() */

int
ds_op_counts_each(ds_op_t *op, ds_count_cb cb, void *data)
{
    const dsi_backend_t  *be;

    be = ds_op_backend(op);

    if (op->type != DS_OP_STATS || be->counts_each == NULL) {
        return DS_INVALID;
    }

    return be->counts_each(op, cb, data);
}


int
ds_op_ready_oldest(ds_op_t *op, ds_str_t hub, ds_work_kind_e kind,
    int64_t *at)
{
    const dsi_backend_t  *be;

    be = ds_op_backend(op);

    if (op->type != DS_OP_STATS || be->ready_oldest == NULL) {
        return DS_INVALID;
    }

    return be->ready_oldest(op, hub, kind, at);
}


int
ds_op_timers_total(ds_op_t *op, uint64_t *n)
{
    const dsi_backend_t  *be;

    be = ds_op_backend(op);

    if (op->type != DS_OP_STATS || be->timers_total == NULL) {
        return DS_INVALID;
    }

    return be->timers_total(op, n);
}


int
ds_op_space(ds_op_t *op, ds_space_t *sp)
{
    const dsi_backend_t  *be;

    be = ds_op_backend(op);

    if (op->type != DS_OP_STATS || be->space == NULL) {
        return DS_INVALID;
    }

    return be->space(op, sp);
}


/* during a read's done(): what it read, when the backend can tell */

int
ds_op_snapshot(ds_op_t *op, ds_snapshot_t *snap)
{
    const dsi_backend_t  *be;

    be = ds_op_backend(op);

    if (!dsi_op_is_read(op->type) || be->snapshot == NULL) {
        return DS_INVALID;
    }

    return be->snapshot(op, snap);
}


/*
 * Whether a backend answers the type with ds_op_read() (a read); every
 * type ds_op_read() serves is listed here, or the LMDB backend queues it
 * as a write (t_store.c checks the reads).
 */

int
dsi_op_is_read(ds_op_type_e type)
{
    switch (type) {

    case DS_OP_STATUS:
    case DS_OP_ENTITY_GET:
    case DS_OP_LIST:
    case DS_OP_ENTITY_LIST:
    case DS_OP_STATS:
    case DS_OP_HISTORY:
        return 1;

    default:
        return 0;
    }
}
