/*
 * Copyright (C) ngx_durable authors
 */


#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include "t_work.h"


unsigned long  t_passed;
unsigned long  t_failed;


static const struct {
    const char  *name;
    void       (*run)(void);
} t_suites[] = {
    { "env", t_env },
    { "instance", t_instance },
    { "seq", t_seq },
    { "query", t_query },
    { "ops", t_ops },
    { "time", t_time },
    { "json", t_json },
    { "names", t_names },
    { "work", t_work },
    { "entity", t_entity },
    { "sdk", t_sdk },
    { "hub", t_hub },
    { "counts", t_counts },
    { "op", t_op_data },
    { "claim notes", t_claim_notes },
    { "route", t_route },
    { "jspan", t_jspan },
    { "store", t_store },
};


int
main(int argc, char **argv)
{
    size_t         i;
    unsigned long  before;

    for (i = 0; i < sizeof(t_suites) / sizeof(t_suites[0]); i++) {
        if (argc > 1 && strcmp(argv[1], t_suites[i].name) != 0) {
            continue;
        }

        before = t_failed;
        t_suites[i].run();
        printf("%-10s %s\n", t_suites[i].name,
               t_failed == before ? "ok" : "FAILED");
    }

    printf("%lu passed, %lu failed\n", t_passed, t_failed);

    return t_failed ? 1 : 0;
}


void
t_check(int ok, const char *file, int line, const char *expr)
{
    if (ok) {
        t_passed++;
        return;
    }

    t_failed++;
    fprintf(stderr, "FAIL %s:%d: %s\n", file, line, expr);
}


void
t_check_int(long long got, long long want, const char *file, int line,
    const char *expr)
{
    if (got == want) {
        t_passed++;
        return;
    }

    t_failed++;
    fprintf(stderr, "FAIL %s:%d: %s: got %lld, want %lld\n",
            file, line, expr, got, want);
}


void
t_check_str(ds_str_t got, const char *want, const char *file, int line,
    const char *expr)
{
    if (got.len == strlen(want)
        && (got.len == 0 || memcmp(got.data, want, got.len) == 0))
    {
        t_passed++;
        return;
    }

    t_failed++;
    fprintf(stderr, "FAIL %s:%d: %s: got \"%.*s\", want \"%s\"\n",
            file, line, expr, (int) got.len, got.data ? got.data : "",
            want);
}


ds_str_t
t_s(const char *s)
{
    ds_str_t  r;

    r.data = s;
    r.len = s ? strlen(s) : 0;

    return r;
}


/* test data: an allocation that cannot fail, or the test aborts */

void *
t_alloc(size_t size)
{
    void  *p;

    p = malloc(size);
    if (p == NULL) {
        perror("malloc");
        abort();
    }

    return p;
}


char *
t_tmpdir(void)
{
    char  *dir;

    dir = malloc(64);
    if (dir == NULL) {
        abort();
    }

    strcpy(dir, "/tmp/ds_test.XXXXXX");

    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        abort();
    }

    return dir;
}


void
t_rmdir(char *dir)
{
    DIR            *d;
    char            path[512];
    struct dirent  *e;

    d = opendir(dir);

    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
                continue;
            }

            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            unlink(path);
        }

        closedir(d);
    }

    T(rmdir(dir) == 0);
    free(dir);
}


/* opens the env of conf, or the test aborts */

static ds_env_t *
t_open_conf(const ds_env_conf_t *conf)
{
    int        rc;
    char       err[256];
    ds_env_t  *env;

    rc = ds_env_open(&env, conf, err, sizeof(err));
    if (rc != DS_OK) {
        fprintf(stderr, "ds_env_open: %s\n", err);
        abort();
    }

    return env;
}


ds_env_t *
t_open(const char *dir, size_t map_size, ds_sync_e sync)
{
    return t_open_flags(dir, map_size, sync, 0);
}


/*
 * t_open() with ds_env_conf_t's no_tls (T_NO_TLS) and reuse_reader
 * (T_REUSE_READER): the store opens its env with both (ds_store_lmdb.c)
 */

ds_env_t *
t_open_flags(const char *dir, size_t map_size, ds_sync_e sync,
    unsigned flags)
{
    ds_env_conf_t  conf;

    memset(&conf, 0, sizeof(conf));
    conf.path = dir;
    conf.map_size = map_size ? map_size : 64 * 1024 * 1024;
    conf.sync = sync;
    conf.no_tls = (flags & T_NO_TLS) != 0;
    conf.reuse_reader = (flags & T_REUSE_READER) != 0;

    return t_open_conf(&conf);
}


static void
t_report(void *data, const char *problem, ds_str_t hub, ds_str_t id)
{
    (void) data;

    fprintf(stderr, "  check: %s: hub \"%.*s\" id \"%.*s\"\n", problem,
            (int) hub.len, hub.data, (int) id.len, id.data ? id.data : "");
}


/* t_open() with a reserve of so many bytes */

ds_env_t *
t_open_reserve(const char *dir, size_t map_size, size_t reserve)
{
    ds_env_conf_t  conf;

    memset(&conf, 0, sizeof(conf));
    conf.path = dir;
    conf.map_size = map_size;
    conf.reserve = reserve;
    conf.sync = DS_SYNC_NONE;

    return t_open_conf(&conf);
}


int
t_consistent(ds_env_t *env, ds_str_t hub, ds_check_stats_t *stats)
{
    return ds_check(env, hub, t_report, NULL, stats) == DS_OK;
}


/* a bare record in its own transaction */

int
t_put(ds_env_t *env, ds_str_t hub, const char *id, ds_status_e status,
    int64_t created)
{
    int            rc;
    ds_txn_t      *txn;
    ds_instance_t  inst;

    memset(&inst, 0, sizeof(inst));
    inst.status = status;
    inst.suspended_from = DS_RUNNING;
    inst.created = created;
    inst.updated = created;
    inst.execution = 1;
    inst.name = t_s("Orch");

    rc = ds_txn_begin(env, NULL, 1, &txn);
    if (rc != DS_OK) {
        return rc;
    }

    rc = ds_instance_put(txn, hub, t_s(id), &inst);
    if (rc != DS_OK) {
        ds_txn_abort(txn);
        return rc;
    }

    return ds_txn_commit(txn);
}
