/*
 * Copyright (C) ngx_durable authors
 *
 * Lists (filters, pages, tokens, scan budget) checked against a model, and
 * filtered purges.
 */


#include <stdlib.h>

#include "t.h"
#include "ds_internal.h"


#define T_N         3000
#define T_BASE      1600000000000000LL


typedef struct {
    int64_t         created;
    char            id[16];
    ds_status_e     status;
} t_model_t;


typedef struct {
    char          (*ids)[16];
    size_t          n;
    size_t          cap;
    size_t          page;
    int             stop;
} t_got_t;


typedef struct {
    size_t          pages;
    size_t          empty_pages;    /* short pages that carried a token */
    size_t          max_page;
    int             rc;
} t_paging_t;


static t_model_t  t_model[T_N];
static int        t_yields;


static void t_query_setup(ds_env_t *env, ds_str_t hub);
static void t_query_filters(ds_env_t *env, ds_str_t hub);
static void t_query_concurrent(ds_env_t *env, ds_str_t hub);
static void t_query_tokens(ds_env_t *env, ds_str_t hub);
static void t_query_purge(void);
static void t_query_purge_time(void);
static void t_query_purge_give_way(void);
static int t_yield(void);
static size_t t_expect(const ds_query_t *q, char (*ids)[16]);
static int t_page_all(ds_env_t *env, ds_str_t hub, ds_query_t q,
    t_got_t *got, t_paging_t *pg, void (*between)(ds_env_t *env, size_t i));
static void t_same(const ds_query_t *q, ds_env_t *env, ds_str_t hub,
    int line);
static int t_got_cb(void *data, ds_str_t id, const ds_instance_t *inst);


void
t_query(void)
{
    char      *dir;
    ds_env_t  *env;
    ds_str_t   hub;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    t_query_setup(env, hub);
    t_query_filters(env, hub);
    t_query_tokens(env, hub);
    t_query_concurrent(env, hub);

    ds_env_close(env);
    t_rmdir(dir);

    t_query_purge();
    t_query_purge_time();
    t_query_purge_give_way();
}


static int
t_model_cmp(const void *a, const void *b)
{
    const t_model_t  *x = a, *y = b;

    if (x->created != y->created) {
        return x->created < y->created ? -1 : 1;
    }

    return strcmp(x->id, y->id);
}


static void
t_query_setup(ds_env_t *env, ds_str_t hub)
{
    int            ok;
    size_t         i;
    ds_txn_t      *txn;
    ds_instance_t  inst;

    memset(&inst, 0, sizeof(inst));
    inst.name = t_s("Orch");
    inst.input = t_s("1");
    ok = 1;

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);

    for (i = 0; i < T_N; i++) {
        /* three instances share each created time; ids are shuffled */
        t_model[i].created = T_BASE + (int64_t) (i / 3) * 1000;
        snprintf(t_model[i].id, sizeof(t_model[i].id), "id-%05zu",
                 (i * 7919) % T_N);
        t_model[i].status = (ds_status_e) (i % DS_STATUS_COUNT);

        inst.status = t_model[i].status;
        inst.created = t_model[i].created;
        inst.updated = inst.created;

        ok &= ds_instance_put(txn, hub, t_s(t_model[i].id), &inst) == DS_OK;
    }

    T(ok);
    T_INT(ds_txn_commit(txn), DS_OK);

    qsort(t_model, T_N, sizeof(t_model_t), t_model_cmp);
}


static void
t_query_filters(ds_env_t *env, ds_str_t hub)
{
    ds_query_t  q;

    memset(&q, 0, sizeof(q));

    q.top = 100;
    t_same(&q, env, hub, __LINE__);

    q.top = 1;
    q.scan_budget = 1;
    t_same(&q, env, hub, __LINE__);

    q.top = 37;
    q.scan_budget = 0;
    q.status_mask = DS_STATUS_MASK(DS_RUNNING) | DS_STATUS_MASK(DS_FAILED);
    t_same(&q, env, hub, __LINE__);

    q.status_mask = (1u << DS_STATUS_COUNT) - 1;
    t_same(&q, env, hub, __LINE__);

    /* inclusive to the microsecond at both ends */
    q.status_mask = 0;
    q.top = 100;
    q.created_from = t_model[500].created;
    q.created_to = t_model[1500].created;
    T(t_expect(&q, NULL) == 1005);
    t_same(&q, env, hub, __LINE__);

    q.created_from++;
    q.created_to--;
    T(t_expect(&q, NULL) == 999);
    t_same(&q, env, hub, __LINE__);

    q.created_from = 0;
    q.created_to = 0;
    q.id_prefix = t_s("id-01");
    q.top = 50;
    T(t_expect(&q, NULL) == 1000);
    t_same(&q, env, hub, __LINE__);

    q.id_prefix = t_s("id-0");
    q.status_mask = DS_STATUS_MASK(DS_COMPLETED)
                    | DS_STATUS_MASK(DS_TERMINATED)
                    | DS_STATUS_MASK(DS_PENDING);
    q.created_from = t_model[100].created;
    q.created_to = t_model[2700].created;
    q.top = 13;
    t_same(&q, env, hub, __LINE__);

    /* a budget smaller than the page gives short pages */
    q.scan_budget = 5;
    t_same(&q, env, hub, __LINE__);

    q.id_prefix = t_s("id-0299");
    q.status_mask = 0;
    q.created_from = INT64_MIN;
    q.created_to = INT64_MAX;
    q.top = 1000;
    q.scan_budget = 0;
    T(t_expect(&q, NULL) == 10);
    t_same(&q, env, hub, __LINE__);

    q.id_prefix = t_s("zzz");
    t_same(&q, env, hub, __LINE__);

    q.id_prefix = t_s("");
    q.created_from = T_BASE + 10;
    q.created_to = T_BASE + 5;
    T(t_expect(&q, NULL) == 0);
    t_same(&q, env, hub, __LINE__);

    /* only unknown status bits: nothing matches */
    q.created_from = 0;
    q.created_to = 0;
    q.status_mask = 1u << 12;
    T(t_expect(&q, NULL) == 0);
    t_same(&q, env, hub, __LINE__);

    /* a different hub sees nothing */
    q.status_mask = 0;
    t_same(&q, env, hub, __LINE__);
    {
        t_got_t     got;
        t_paging_t  pg;

        memset(&got, 0, sizeof(got));
        T_INT(t_page_all(env, t_s("Hu"), q, &got, &pg, NULL), DS_OK);
        T_INT(got.n, 0);
        free(got.ids);
    }
}


static void
t_query_tokens(ds_env_t *env, ds_str_t hub)
{
    int          i;
    char         token[DS_TOKEN_MAX], bad[DS_TOKEN_MAX + 8];
    size_t       token_len, len;
    ds_txn_t    *txn;
    ds_query_t   q;
    t_got_t      got;
    t_paging_t   pg;
    static const char  *malformed[] = {
        "!!!!", "A", "AAAAAAAAAAAAA", "AQ", "AAAAAAAAAAAA",
        "AQAAAAAAAAAA=", "AQAAAAAAAAA A", "AgAAAAAAAAAAAA"
    };

    memset(&q, 0, sizeof(q));

    /* a full last page carries no token: the peek finds nothing more */
    q.created_from = t_model[3].created;
    q.created_to = t_model[3].created;
    q.top = 3;
    memset(&got, 0, sizeof(got));
    T_INT(t_page_all(env, hub, q, &got, &pg, NULL), DS_OK);
    T_INT(got.n, 3);
    T_INT(pg.pages, 1);
    free(got.ids);

    q.top = 2;
    memset(&got, 0, sizeof(got));
    T_INT(t_page_all(env, hub, q, &got, &pg, NULL), DS_OK);
    T_INT(got.n, 3);
    T_INT(pg.pages, 2);
    free(got.ids);

    /* the token of a page resumes after it; corruptions are rejected */
    memset(&q, 0, sizeof(q));
    q.top = 10;
    memset(&got, 0, sizeof(got));

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);
    T_INT(ds_instance_list(txn, hub, &q, t_got_cb, &got, token, &token_len),
          DS_OK);
    T_INT(got.n, 10);
    T(token_len > 0 && token_len <= DS_TOKEN_MAX);

    q.token.data = token;
    q.token.len = token_len;
    got.n = 0;
    T_INT(ds_instance_list(txn, hub, &q, t_got_cb, &got, bad, &len), DS_OK);
    T_INT(got.n, 10);
    T(strcmp(got.ids[0], t_model[10].id) == 0);

    for (i = 0; i < (int) (sizeof(malformed) / sizeof(malformed[0])); i++) {
        q.token = t_s(malformed[i]);
        len = 1;
        T_INT(ds_instance_list(txn, hub, &q, t_got_cb, &got, bad, &len),
              DS_INVALID);
        T_INT(len, 0);
    }

    memset(bad, 'A', sizeof(bad));
    q.token.data = bad;
    q.token.len = DS_TOKEN_MAX + 4;
    T_INT(ds_instance_list(txn, hub, &q, t_got_cb, &got, bad, &len),
          DS_INVALID);

    /* set an unused trailing bit of the last character */
    memcpy(bad, token, token_len);
    T(token_len % 4 != 0);
    bad[token_len - 1] = (char) (bad[token_len - 1] == 'A' ? 'B'
                                 : bad[token_len - 1] + 1);
    q.token.data = bad;
    q.token.len = token_len;
    T_INT(ds_instance_list(txn, hub, &q, t_got_cb, &got, bad, &len),
          DS_INVALID);

    /* the smallest position is valid: everything follows it */
    q.token = t_s("AQAAAAAAAAAA");
    got.n = 0;
    T_INT(ds_instance_list(txn, hub, &q, t_got_cb, &got, token, &len),
          DS_OK);
    T_INT(got.n, 10);
    T(strcmp(got.ids[0], t_model[0].id) == 0);

    /* a callback that stops the list */
    memset(&q, 0, sizeof(q));
    q.top = 100;
    got.n = 0;
    got.stop = 5;
    len = 1;
    T_INT(ds_instance_list(txn, hub, &q, t_got_cb, &got, token, &len),
          DS_ERROR);
    T_INT(got.n, 5);
    T_INT(len, 0);

    q.top = 0;
    T_INT(ds_instance_list(txn, hub, &q, t_got_cb, &got, token, &len),
          DS_INVALID);

    ds_txn_abort(txn);
    free(got.ids);
}


static int
t_got_cb(void *data, ds_str_t id, const ds_instance_t *inst)
{
    t_got_t  *got;

    got = data;

    (void) inst;

    if (got->n == got->cap) {
        got->cap = got->cap ? got->cap * 2 : 256;
        got->ids = realloc(got->ids, got->cap * 16);
        if (got->ids == NULL) {
            abort();
        }
    }

    snprintf(got->ids[got->n], 16, "%.*s", (int) id.len, id.data);
    got->n++;

    return got->stop && got->n == (size_t) got->stop;
}


static int
t_page_all(ds_env_t *env, ds_str_t hub, ds_query_t q, t_got_t *got,
    t_paging_t *pg, void (*between)(ds_env_t *env, size_t i))
{
    int        rc;
    char       token[DS_TOKEN_MAX], saved[DS_TOKEN_MAX];
    size_t     token_len, before, page;
    ds_txn_t  *txn;

    memset(pg, 0, sizeof(t_paging_t));
    q.token.len = 0;

    for ( ;; ) {
        if (pg->pages > 100000) {
            return DS_ERROR;
        }

        rc = ds_txn_begin(env, NULL, 0, &txn);
        if (rc != DS_OK) {
            return rc;
        }

        before = got->n;
        token_len = 0;
        rc = ds_instance_list(txn, hub, &q, t_got_cb, got, token, &token_len);
        ds_txn_abort(txn);

        if (rc != DS_OK) {
            return rc;
        }

        page = got->n - before;
        pg->pages++;

        if (page > pg->max_page) {
            pg->max_page = page;
        }

        if (page > q.top || token_len > DS_TOKEN_MAX) {
            return DS_ERROR;
        }

        if (token_len == 0) {
            return DS_OK;
        }

        if (page == 0) {
            pg->empty_pages++;
        }

        memcpy(saved, token, token_len);
        q.token.data = saved;
        q.token.len = token_len;

        if (between) {
            between(env, pg->pages);
        }
    }
}


static size_t
t_expect(const ds_query_t *q, char (*ids)[16])
{
    size_t    i, n;
    int64_t   from, to;
    unsigned  mask;

    from = q->created_from ? q->created_from : INT64_MIN;
    to = q->created_to ? q->created_to : INT64_MAX;
    mask = q->status_mask & ((1u << DS_STATUS_COUNT) - 1);

    if (q->status_mask && mask == 0) {
        return 0;
    }

    n = 0;

    for (i = 0; i < T_N; i++) {
        if (t_model[i].created < from || t_model[i].created > to
            || (mask && !(mask & DS_STATUS_MASK(t_model[i].status)))
            || strncmp(t_model[i].id, q->id_prefix.data ? q->id_prefix.data
                                                         : "",
                       q->id_prefix.len) != 0)
        {
            continue;
        }

        if (ids) {
            strcpy(ids[n], t_model[i].id);
        }

        n++;
    }

    return n;
}


static void
t_same(const ds_query_t *q, ds_env_t *env, ds_str_t hub, int line)
{
    int          rc;
    size_t       i, n;
    t_got_t      got;
    t_paging_t   pg;
    static char  want[T_N][16];

    n = t_expect(q, want);
    memset(&got, 0, sizeof(got));

    rc = t_page_all(env, hub, *q, &got, &pg, NULL);
    T_INT(rc, DS_OK);
    T_INT(got.n, n);

    for (i = 0; i < n && i < got.n; i++) {
        if (strcmp(got.ids[i], want[i]) != 0) {
            break;
        }
    }

    if (i < n || got.n != n || rc != DS_OK) {
        fprintf(stderr, "  query at line %d: %zu of %zu ids right\n",
                line, i, n);
    }

    T(i == n);

    /*
     * With an unlimited budget only the last page may be short; a full
     * page is followed by an empty one only when entries that the id
     * prefix rejects come after it.
     */
    if (q->scan_budget == 0 && n) {
        T(pg.pages == (n + q->top - 1) / q->top
          || (pg.pages == n / q->top + 1 && n % q->top == 0
              && q->id_prefix.len));
    }

    free(got.ids);
}


static int  t_new_count;


static void
t_insert_between(ds_env_t *env, size_t page)
{
    int   i;
    char  id[32];

    (void) page;

    for (i = 0; i < 10; i++) {
        snprintf(id, sizeof(id), "new-%05d", t_new_count++);
        T_INT(t_put(env, t_s("Hub"), id, DS_RUNNING, ds_time_now()), DS_OK);
    }
}


static int
t_id_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}


static void
t_query_concurrent(ds_env_t *env, ds_str_t hub)
{
    int          dups, missing;
    size_t       i, old;
    t_got_t      got;
    t_paging_t   pg;
    ds_query_t   q;

    memset(&q, 0, sizeof(q));
    memset(&got, 0, sizeof(got));
    q.top = 100;

    t_new_count = 0;
    T_INT(t_page_all(env, hub, q, &got, &pg, t_insert_between), DS_OK);
    T(pg.pages >= T_N / 100);

    qsort(got.ids, got.n, 16, t_id_cmp);

    dups = 0;
    old = 0;

    for (i = 0; i < got.n; i++) {
        if (i && strcmp(got.ids[i], got.ids[i - 1]) == 0) {
            dups++;
        }

        if (strncmp(got.ids[i], "id-", 3) == 0) {
            old++;
        }
    }

    missing = 0;

    for (i = 0; i < T_N; i++) {
        if (bsearch(t_model[i].id, got.ids, got.n, 16, t_id_cmp) == NULL) {
            missing++;
        }
    }

    T_INT(dups, 0);
    T_INT(missing, 0);
    T_INT(old, T_N);
    T(got.n > T_N);

    free(got.ids);

    /* a tiny budget: short and empty pages with tokens, nothing lost */
    memset(&q, 0, sizeof(q));
    memset(&got, 0, sizeof(got));
    q.top = 100;
    q.scan_budget = 3;
    q.status_mask = DS_STATUS_MASK(DS_SUSPENDED);
    q.created_to = T_BASE * 2;

    T_INT(t_page_all(env, hub, q, &got, &pg, NULL), DS_OK);
    T_INT(got.n, t_expect(&q, NULL));
    T(pg.max_page <= 3);
    T(pg.pages >= got.n / 3);
    free(got.ids);
    t_same(&q, env, hub, __LINE__);

    /* entries the prefix rejects still spend the budget */
    memset(&got, 0, sizeof(got));
    q.id_prefix = t_s("id-00");
    q.status_mask = 0;
    q.scan_budget = 2;

    T_INT(t_page_all(env, hub, q, &got, &pg, NULL), DS_OK);
    T_INT(got.n, 1000);
    T(pg.empty_pages > 0);
    free(got.ids);
    t_same(&q, env, hub, __LINE__);

    T(t_consistent(env, hub, NULL));
}


static void
t_query_purge(void)
{
    int               i, batches, more, in_range, terminal;
    char             *dir, id[32];
    size_t            deleted, total;
    ds_env_t         *env;
    ds_txn_t         *txn;
    ds_str_t          hub;
    ds_query_t        q;
    ds_check_stats_t  st;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    in_range = 0;
    terminal = 0;

    for (i = 0; i < 200; i++) {
        if (ds_status_is_terminal((ds_status_e) (i % 8))) {
            terminal++;
            in_range += (i >= 50 && i <= 149);
        }

        snprintf(id, sizeof(id), "p%03d", i);
        T_INT(t_put(env, hub, id, (ds_status_e) (i % 8), 1000 + i), DS_OK);
        T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
        T_INT(ds_history_append(txn, hub, t_s(id), t_s("{}"), NULL), DS_OK);
        T_INT(ds_inbox_append(txn, hub, t_s(id), t_s("{}"), NULL), DS_OK);
        T_INT(ds_txn_commit(txn), DS_OK);
    }

    memset(&q, 0, sizeof(q));

    /* a prefix is the list's: a purge refuses it, and purges nothing */
    q.id_prefix = t_s("p00");
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_instance_purge(txn, hub, &q, 1000, &deleted, &more),
          DS_INVALID);
    T_INT(deleted, 0);
    ds_txn_abort(txn);
    q.id_prefix = t_s("");

    /* only active statuses asked for: nothing is purged */
    q.status_mask = DS_STATUS_MASK(DS_RUNNING) | DS_STATUS_MASK(DS_PENDING)
                    | DS_STATUS_MASK(DS_SUSPENDED)
                    | DS_STATUS_MASK(DS_CONTINUED_AS_NEW);
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_instance_purge(txn, hub, &q, 1000, &deleted, &more), DS_OK);
    T_INT(deleted, 0);
    T_INT(more, 0);
    T_INT(ds_txn_commit(txn), DS_OK);

    /* all terminal statuses in a range, in batches of 7 */
    q.status_mask = DS_STATUS_MASK(DS_RUNNING) | DS_STATUS_MASK(DS_FAILED)
                    | DS_STATUS_MASK(DS_COMPLETED)
                    | DS_STATUS_MASK(DS_CANCELED)
                    | DS_STATUS_MASK(DS_TERMINATED);
    q.created_from = 1050;
    q.created_to = 1149;
    total = 0;
    batches = 0;

    do {
        T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
        T_INT(ds_instance_purge(txn, hub, &q, 7, &deleted, &more), DS_OK);
        T_INT(ds_txn_commit(txn), DS_OK);
        T(deleted <= 7);
        T(more == 0 || deleted == 7);
        total += deleted;
        batches++;
    } while (more && batches < 100);

    T_INT(in_range, 51);
    T_INT(total, in_range);
    T_INT(batches, (in_range + 6) / 7);

    T(t_consistent(env, hub, &st));
    T_INT(st.instances, 200 - in_range);
    T_INT(st.history, 200 - in_range);
    T_INT(st.inbox, 200 - in_range);

    T_INT(ds_txn_begin(env, NULL, 0, &txn), DS_OK);

    for (i = 0; i < 200; i++) {
        ds_instance_t  inst;
        int            rc, gone;

        snprintf(id, sizeof(id), "p%03d", i);
        rc = ds_instance_get(txn, hub, t_s(id), &inst);
        gone = i >= 50 && i <= 149
               && ds_status_is_terminal((ds_status_e) (i % 8));
        T_INT(rc, gone ? DS_NOTFOUND : DS_OK);
    }

    ds_txn_abort(txn);

    /* mask 0: every terminal status; no range */
    memset(&q, 0, sizeof(q));
    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_instance_purge(txn, hub, &q, 1000, &deleted, &more), DS_OK);
    T_INT(deleted, terminal - in_range);
    T_INT(more, 0);
    T_INT(ds_txn_commit(txn), DS_OK);

    T(t_consistent(env, hub, &st));
    T_INT(st.instances, 200 - terminal);
    T_INT(st.by_status, 200 - terminal);

    ds_env_close(env);
    t_rmdir(dir);
}


/*
 * A purge batch in the store's thread gives way between instances, at
 * most once per 100 µs of it (dsi_txn_give_way()); where the store runs
 * writes in the event loop it never does.
 */

static void
t_query_purge_give_way(void)
{
    int             i, more, (*saved)(void);
    char           *dir, id[32];
    size_t          deleted;
    int64_t         took;
    ds_env_t       *env;
    ds_txn_t       *txn;
    ds_str_t        hub;
    ds_query_t      q;

    saved = dsi_yield;
    dsi_yield = t_yield;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);
    memset(&q, 0, sizeof(q));

    for (i = 0; i < 4000; i++) {
        snprintf(id, sizeof(id), "y%04d", i);
        T_INT(t_put(env, hub, id, DS_COMPLETED, 1000 + i), DS_OK);
    }

    /* in a thread of its own */

    env->give_way = 1;
    t_yields = 0;

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    took = ds_time_mono();
    T_INT(ds_instance_purge_until(txn, hub, &q, 2000,
                                  ds_time_mono() + 3600000000LL, &deleted,
                                  &more), DS_OK);
    took = ds_time_mono() - took;
    T_INT(ds_txn_commit(txn), DS_OK);

    T_INT(deleted, 2000);
    T(took < 100 || t_yields >= 1);
    T(t_yields <= took / 100 + 1);

    /* in the loop */

    env->give_way = 0;
    t_yields = 0;

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_instance_purge_until(txn, hub, &q, 2000,
                                  ds_time_mono() + 3600000000LL, &deleted,
                                  &more), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);

    T_INT(deleted, 2000);
    T_INT(t_yields, 0);

    dsi_yield = saved;
    ds_env_close(env);
    t_rmdir(dir);
}


static int
t_yield(void)
{
    t_yields++;
    return 0;
}


/*
 * Batches bounded by time: a deadline already past ends each batch after
 * its first instance, yet the batches purge every match; a deadline far
 * ahead leaves max alone to bound the batch.
 */

static void
t_query_purge_time(void)
{
    int               i, batches, more;
    char             *dir, id[32];
    size_t            deleted, total;
    ds_env_t         *env;
    ds_txn_t         *txn;
    ds_str_t          hub;
    ds_query_t        q;
    ds_check_stats_t  st;

    hub = t_s("Hub");
    dir = t_tmpdir();
    env = t_open(dir, 0, DS_SYNC_NONE);

    for (i = 0; i < 60; i++) {
        snprintf(id, sizeof(id), "q%03d", i);
        T_INT(t_put(env, hub, id, i < 40 ? DS_COMPLETED : DS_RUNNING,
                    1000 + i), DS_OK);
    }

    memset(&q, 0, sizeof(q));
    total = 0;
    batches = 0;

    do {
        T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
        T_INT(ds_instance_purge_until(txn, hub, &q, 1000, 1, &deleted,
                                      &more), DS_OK);
        T_INT(ds_txn_commit(txn), DS_OK);
        T_INT(deleted, 1);
        total += deleted;
        batches++;
    } while (more && batches < 100);

    T_INT(total, 40);
    T_INT(batches, 40);

    T(t_consistent(env, hub, &st));
    T_INT(st.instances, 20);

    /* the running ones are left; more of them, and a deadline far off */

    for (i = 60; i < 90; i++) {
        snprintf(id, sizeof(id), "q%03d", i);
        T_INT(t_put(env, hub, id, DS_FAILED, 1000 + i), DS_OK);
    }

    T_INT(ds_txn_begin(env, NULL, 1, &txn), DS_OK);
    T_INT(ds_instance_purge_until(txn, hub, &q, 1000,
                                  ds_time_mono() + 3600000000LL, &deleted,
                                  &more), DS_OK);
    T_INT(ds_txn_commit(txn), DS_OK);
    T_INT(deleted, 30);
    T_INT(more, 0);

    ds_env_close(env);
    t_rmdir(dir);
}
