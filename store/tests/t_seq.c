/*
 * Copyright (C) ngx_durable authors
 *
 * History and inbox sequences.
 */


#include <stdlib.h>

#include "t.h"
#include "ds_key.h"


/*
 * Deletes the messages of id's inbox with seq <= upto. Only the tests
 * take a prefix off an inbox: a completion takes the messages it was
 * delivered itself (ds_orchestration_complete.c), so this is not the
 * library's API but what it does with dsi_seq_delete().
 */

static int
t_inbox_consume(ds_txn_t *txn, ds_str_t hub, ds_str_t id, uint64_t upto)
{
    return dsi_seq_delete(txn, DS_DB_INBOX, hub, id, upto);
}


typedef struct {
    uint64_t    seqs[4096];
    char        last[64];
    size_t      n;
    size_t      stop_at;
} t_events_t;


static int
t_event_cb(void *data, uint64_t seq, ds_str_t event)
{
    t_events_t  *e;

    e = data;

    if (e->n < 4096) {
        e->seqs[e->n] = seq;
    }

    e->n++;
    snprintf(e->last, sizeof(e->last), "%.*s", (int) event.len, event.data);

    return e->stop_at && e->n == e->stop_at;
}


/* dsi_seq_each(): deletes the even seqs, stops at stop_at */

typedef struct {
    uint64_t    seen[16];
    size_t      n;
    uint64_t    stop_at;
    int         stop_rc;
} t_each_t;


static int
t_each_cb(ds_txn_t *txn, uint64_t seq, const MDB_val *val, void *data)
{
    t_each_t  *e;

    (void) txn;
    (void) val;

    e = data;

    if (e->n < 16) {
        e->seen[e->n] = seq;
    }

    e->n++;

    if (seq == e->stop_at) {
        return e->stop_rc;
    }

    return seq % 2 ? DSI_EACH_NEXT : DSI_EACH_DELETE;
}


static void
t_seq_each(ds_env_t *env, ds_str_t hub)
{
    size_t      i;
    uint64_t    seq;
    ds_str_t    a, ab;
    ds_txn_t   *txn;
    t_each_t    e;
    t_events_t  ev;

    a = t_s("each");
    ab = t_s("each2");

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);

    for (i = 1; i <= 8; i++) {
        T_INT(ds_inbox_append(txn, hub, a, t_s("{}"), &seq), DS_OK);
        T_INT(ds_inbox_append(txn, hub, ab, t_s("{}"), &seq), DS_OK);
    }

    /* upto bounds the walk; deletes keep the walk going, in order */
    memset(&e, 0, sizeof(e));
    T_INT(dsi_seq_each(txn, DS_DB_INBOX, hub, a, 5, t_each_cb, &e), DS_OK);
    T_INT(e.n, 5);
    T(e.seen[0] == 1 && e.seen[1] == 2 && e.seen[4] == 5);

    memset(&ev, 0, sizeof(ev));
    T_INT(ds_inbox_read(txn, hub, a, t_event_cb, &ev), DS_OK);
    T_INT(ev.n, 6);
    T(ev.seqs[0] == 1 && ev.seqs[1] == 3 && ev.seqs[2] == 5
      && ev.seqs[3] == 6);

    /* another id sharing the prefix is untouched */
    memset(&ev, 0, sizeof(ev));
    T_INT(ds_inbox_read(txn, hub, ab, t_event_cb, &ev), DS_OK);
    T_INT(ev.n, 8);

    /* DS_OK from the callback stops without an error */
    memset(&e, 0, sizeof(e));
    e.stop_at = 5;
    e.stop_rc = DS_OK;
    T_INT(dsi_seq_each(txn, DS_DB_INBOX, hub, a, UINT64_MAX, t_each_cb, &e),
          DS_OK);
    T_INT(e.n, 3);
    T_INT(e.seen[2], 5);

    /* an error code stops and is returned; nothing after it is touched */
    memset(&e, 0, sizeof(e));
    e.stop_at = 6;
    e.stop_rc = DS_CONFLICT;
    T_INT(dsi_seq_each(txn, DS_DB_INBOX, hub, a, UINT64_MAX, t_each_cb, &e),
          DS_CONFLICT);
    T_INT(e.n, 4);

    memset(&ev, 0, sizeof(ev));
    T_INT(ds_inbox_read(txn, hub, a, t_event_cb, &ev), DS_OK);
    T_INT(ev.n, 6);

    /* to the end: the even ones go */
    memset(&e, 0, sizeof(e));
    T_INT(dsi_seq_each(txn, DS_DB_INBOX, hub, a, UINT64_MAX, t_each_cb, &e),
          DS_OK);
    T_INT(e.n, 6);

    memset(&ev, 0, sizeof(ev));
    T_INT(ds_inbox_read(txn, hub, a, t_event_cb, &ev), DS_OK);
    T_INT(ev.n, 4);
    T(ev.seqs[0] == 1 && ev.seqs[1] == 3 && ev.seqs[2] == 5
      && ev.seqs[3] == 7);

    T_INT(dsi_seq_each(txn, DS_DB_INBOX, hub, t_s(""), UINT64_MAX, t_each_cb,
                       &e), DS_INVALID);

    ds_txn_abort(txn);
}


void
t_seq(void)
{
    int           ok;
    char         *dir, value[200];
    size_t        i;
    uint64_t      seq;
    ds_env_t     *env;
    ds_txn_t     *txn;
    ds_str_t      hub, a, ab;
    t_events_t    e;

    hub = t_s("Hub");
    a = t_s("a");
    ab = t_s("ab");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);

    /* interleaved appends to "a" and "ab" keep separate sequences */
    for (i = 1; i <= 3; i++) {
        snprintf(value, sizeof(value), "{\"a\":%zu}", i);
        T_INT(ds_history_append(txn, hub, a, t_s(value), &seq), DS_OK);
        T_INT(seq, i);
        snprintf(value, sizeof(value), "{\"ab\":%zu}", i);
        T_INT(ds_history_append(txn, hub, ab, t_s(value), &seq), DS_OK);
        T_INT(seq, i);
    }

    memset(&e, 0, sizeof(e));
    T_INT(ds_history_read(txn, hub, a, t_event_cb, &e), DS_OK);
    T_INT(e.n, 3);
    T(e.seqs[0] == 1 && e.seqs[1] == 2 && e.seqs[2] == 3);
    T(strcmp(e.last, "{\"a\":3}") == 0);

    memset(&e, 0, sizeof(e));
    e.stop_at = 2;
    T_INT(ds_history_read(txn, hub, ab, t_event_cb, &e), DS_ERROR);
    T_INT(e.n, 2);

    T_INT(ds_history_clear(txn, hub, a), DS_OK);
    memset(&e, 0, sizeof(e));
    T_INT(ds_history_read(txn, hub, a, t_event_cb, &e), DS_OK);
    T_INT(e.n, 0);
    memset(&e, 0, sizeof(e));
    T_INT(ds_history_read(txn, hub, ab, t_event_cb, &e), DS_OK);
    T_INT(e.n, 3);

    /* inbox: append, consume a prefix, append again */
    for (i = 1; i <= 5; i++) {
        T_INT(ds_inbox_append(txn, hub, a, t_s("{}"), &seq), DS_OK);
        T_INT(seq, i);
    }

    T_INT(t_inbox_consume(txn, hub, a, 2), DS_OK);
    memset(&e, 0, sizeof(e));
    T_INT(ds_inbox_read(txn, hub, a, t_event_cb, &e), DS_OK);
    T_INT(e.n, 3);
    T(e.seqs[0] == 3 && e.seqs[2] == 5);

    T_INT(ds_inbox_append(txn, hub, a, t_s("{\"x\":6}"), &seq), DS_OK);
    T_INT(seq, 6);
    T_INT(t_inbox_consume(txn, hub, a, 0), DS_OK);
    memset(&e, 0, sizeof(e));
    T_INT(ds_inbox_read(txn, hub, a, t_event_cb, &e), DS_OK);
    T_INT(e.n, 4);
    T(strcmp(e.last, "{\"x\":6}") == 0);

    /* history of "a" and the inbox are separate databases */
    memset(&e, 0, sizeof(e));
    T_INT(ds_history_read(txn, hub, a, t_event_cb, &e), DS_OK);
    T_INT(e.n, 0);

    T_INT(ds_inbox_clear(txn, hub, a), DS_OK);
    memset(&e, 0, sizeof(e));
    T_INT(ds_inbox_read(txn, hub, a, t_event_cb, &e), DS_OK);
    T_INT(e.n, 0);

    T_INT(ds_inbox_read(txn, hub, t_s(""), t_event_cb, &e), DS_INVALID);
    T_INT(ds_txn_commit(txn), DS_OK);

    /* many entries over many pages: consume deletes exactly the prefix */
    memset(value, 'v', sizeof(value) - 1);
    value[sizeof(value) - 1] = '\0';

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);

    ok = 1;

    for (i = 1; i <= 3000; i++) {
        ok &= ds_inbox_append(txn, hub, ab, t_s(value), &seq) == DS_OK
              && seq == i;
        ok &= ds_inbox_append(txn, hub, a, t_s(value), &seq) == DS_OK
              && seq == i;
    }

    T(ok);

    T_INT(t_inbox_consume(txn, hub, ab, 2500), DS_OK);
    memset(&e, 0, sizeof(e));
    T_INT(ds_inbox_read(txn, hub, ab, t_event_cb, &e), DS_OK);
    T_INT(e.n, 500);
    T_INT(e.seqs[0], 2501);
    T_INT(e.seqs[499], 3000);

    T_INT(ds_inbox_clear(txn, hub, ab), DS_OK);
    memset(&e, 0, sizeof(e));
    T_INT(ds_inbox_read(txn, hub, ab, t_event_cb, &e), DS_OK);
    T_INT(e.n, 0);
    memset(&e, 0, sizeof(e));
    T_INT(ds_inbox_read(txn, hub, a, t_event_cb, &e), DS_OK);
    T_INT(e.n, 3000);
    T_INT(ds_txn_commit(txn), DS_OK);

    t_seq_each(env, hub);

    ds_env_close(env);
    t_rmdir(dir);
}
