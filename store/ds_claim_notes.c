
/*
 * Copyright (C) ngx_durable authors
 *
 * Claimed items rendered after their batch's commit. Under LMDB the
 * processes of a host take turns at one write lock, and a claim that
 * rendered its items inside the write txn (an orchestration's history
 * and messages read and copied into the front end's answer) held the lock
 * for that work too. A batch's claims note their items instead
 * (dsi_work_claim_noted()): the ready entry's key, the lease taken, the
 * record's stamp (an instance's updated time) and what the record does
 * not keep. Once the batch has committed and the lock is free, one read
 * txn reads each noted item again and hands it to its op's callback, as
 * the claim would have.
 *
 * The item is what the claim saw, or it is not handed over: one whose
 * lease is no longer the one taken (terminated, purged or restarted
 * meanwhile by another process) is left out, and one another write
 * changed but left leased (suspended meanwhile, which appends to the
 * history) is left out and given back; its op's count of claimed items
 * says so. A callback that fails (out of memory) fails its op, whose
 * claim is committed: its items are given back too. Items are given back
 * by giving up their leases in a write txn of their own, so that they are
 * claimable at once, as if the claim had not taken them; should that
 * fail, they come back when the leases run out.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_internal.h"


static void dsi_claim_notes_render_op(dsi_claim_notes_t *cn,
    ds_txn_t *txn, ds_op_t *op, dsi_claim_note_t *note, size_t n,
    char *err, size_t errlen);
static void dsi_claim_notes_abandon(ds_env_t *env, dsi_claim_notes_t *cn);


int
dsi_claim_notes_add(dsi_claim_notes_t *cn, ds_op_t *op,
    const dsi_work_note_t *note)
{
    size_t             max;
    dsi_claim_note_t  *notes;

    if (cn->n == cn->max) {
        max = cn->max ? 2 * cn->max : 16;

        notes = realloc(cn->notes, max * sizeof(dsi_claim_note_t));
        if (notes == NULL) {
            return DS_ERROR;
        }

        cn->notes = notes;
        cn->max = max;
    }

    cn->notes[cn->n].op = op;
    cn->notes[cn->n].give_back = 0;
    cn->notes[cn->n].note = *note;
    cn->n++;

    return DS_OK;
}


/*
 * The notes of each op come together, in the order of the batch; only the
 * ops whose claim stands (rc DS_OK after the commit) are rendered.
 */

void
dsi_claim_notes_render(ds_env_t *env, dsi_claim_notes_t *cn, char *err,
    size_t errlen)
{
    int        rc;
    size_t     i, j;
    ds_op_t   *op;
    ds_txn_t  *txn;

    txn = NULL;
    memset(&cn->outcome, 0, sizeof(dsi_claim_outcome_t));

    for (i = 0; i < cn->n; i = j) {
        op = cn->notes[i].op;

        for (j = i + 1; j < cn->n && cn->notes[j].op == op; j++) {
            /* void */
        }

        if (op->rc != DS_OK) {
            continue;
        }

        if (txn == NULL) {
            /* the writer's thread: the loop's spare reader is not ours */
            rc = dsi_txn_begin_own(env, &txn, err, errlen);

            if (rc != DS_OK) {
                txn = NULL;
                op->rc = rc;
            }
        }

        if (txn != NULL) {
            dsi_claim_notes_render_op(cn, txn, op, &cn->notes[i], j - i,
                                      err, errlen);
        }

        if (op->rc != DS_OK) {
            while (i < j) {
                cn->notes[i++].give_back = 1;
            }
        }
    }

    for (i = 0; i < cn->n; i++) {
        /* kept until their give-up commits */
        cn->outcome.kept += cn->notes[i].give_back;
    }

    if (txn != NULL) {
        ds_txn_abort(txn);
    }

    if (cn->outcome.kept) {
        dsi_claim_notes_abandon(env, cn);
    }

    cn->n = 0;
}


/*
 * The leases of the items given back, given up. The write lock is taken
 * again at once, past other processes' waiting writers: acceptable on
 * paths that a race of a few milliseconds or out of memory take. Once
 * committed, the outcome's given_back counts them, and the batch's answer
 * wakes the waiting claims (a claim that waits until the next change would
 * not see them before their leases' expiry). What fails here is left to
 * run out: the outcome's kept counts those items and its kept_error says
 * why, for the batch's answer to log (the batch's own error text may be an
 * op's).
 */

static void
dsi_claim_notes_abandon(ds_env_t *env, dsi_claim_notes_t *cn)
{
    int        rc;
    char      *err;
    size_t     i, given, errlen;
    int64_t    now;
    ds_txn_t  *txn;

    err = cn->outcome.kept_error;
    errlen = sizeof(cn->outcome.kept_error);

    if (dsi_txn_begin_err(env, NULL, 1, &txn, err, errlen) != DS_OK) {
        return;
    }

    given = 0;

    for (i = 0; i < cn->n; i++) {
        if (!cn->notes[i].give_back) {
            continue;
        }

        now = cn->notes[i].op->now ? cn->notes[i].op->now : ds_time_now();

        rc = dsi_work_item_abandon(txn, cn->notes[i].op->hub,
                                   &cn->notes[i].note, now);

        if (rc == DS_OK) {
            given++;
            continue;
        }

        /* ended or taken over meanwhile: nothing of ours to give up */
        if (rc != DS_NOTFOUND && rc != DS_CONFLICT && rc != DS_GONE) {
            snprintf(err, errlen, "giving back claimed items: %s",
                     ds_txn_error(txn));

            ds_txn_abort(txn);
            return;
        }
    }

    if (dsi_txn_commit_err(txn, err, errlen) == DS_OK) {
        cn->outcome.given_back = given;
        cn->outcome.kept = 0;
    }
}


static void
dsi_claim_notes_render_op(dsi_claim_notes_t *cn, ds_txn_t *txn, ds_op_t *op,
    dsi_claim_note_t *note, size_t n, char *err, size_t errlen)
{
    int             rc;
    size_t          i, rendered;
    ds_work_item_t  it;

    rendered = 0;

    for (i = 0; i < n; i++) {
        rc = dsi_work_item_read(txn, op->hub, &note[i].note, &it);

        if (rc == DS_NOTFOUND || rc == DS_CONFLICT) {
            /* ended or taken over since the claim: nothing to hand out */
            cn->outcome.left_out++;
            continue;
        }

        if (rc == DS_PRECONDITION) {
            /* changed since the claim, still ours: not as claimed */
            note[i].give_back = 1;
            cn->outcome.left_out++;
            continue;
        }

        if (rc == DS_OK) {
            op->backend = txn;
            rc = op->in.claim.item(op->in.claim.item_data, op, &it);
            op->backend = NULL;

            if (rc != 0) {
                dsi_txn_set_error(txn, "stopped by the callback");
                rc = DS_ERROR;
            }
        }

        if (rc != DS_OK) {
            if (errlen && err[0] == '\0') {
                snprintf(err, errlen, "rendering a claimed item: %s",
                         ds_txn_error(txn));
            }

            op->rc = rc;
            break;
        }

        rendered++;
    }

    /* a failed op hands out nothing: its items' leases are given up */
    op->out.claim.claimed = (op->rc == DS_OK) ? rendered : 0;
    cn->outcome.rendered += op->out.claim.claimed;
}


void
dsi_claim_notes_free(dsi_claim_notes_t *cn)
{
    free(cn->notes);

    cn->notes = NULL;
    cn->n = 0;
    cn->max = 0;
}
