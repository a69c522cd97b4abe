/*
 * Copyright (C) ngx_durable authors
 *
 * History and inbox sequences.
 */


#include <stdlib.h>

#include "t.h"


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

    T_INT(ds_inbox_consume(txn, hub, a, 2), DS_OK);
    memset(&e, 0, sizeof(e));
    T_INT(ds_inbox_read(txn, hub, a, t_event_cb, &e), DS_OK);
    T_INT(e.n, 3);
    T(e.seqs[0] == 3 && e.seqs[2] == 5);

    T_INT(ds_inbox_append(txn, hub, a, t_s("{\"x\":6}"), &seq), DS_OK);
    T_INT(seq, 6);
    T_INT(ds_inbox_consume(txn, hub, a, 0), DS_OK);
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

    T_INT(ds_inbox_consume(txn, hub, ab, 2500), DS_OK);
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

    ds_env_close(env);
    t_rmdir(dir);
}
