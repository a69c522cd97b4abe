
/*
 * Copyright (C) ngx_durable authors
 *
 * durable check: the store's consistency checker (ds_check) as a command;
 * also the older durable-check, which durable is when called by that name
 * (options as below; errors exit 2 there, 3 in durable check).
 *
 *   durable check [--map-size BYTES] [--hub HUB] [--json] DIR
 *       checks every hub (or one), prints the counts and each problem;
 *       exit 0 when consistent, 1 when a problem was found, 2 on errors
 *   durable check [--map-size BYTES] --list-ids HUB DIR
 *       one line per instance: id TAB runtime status (ids, as hub names
 *       in problems, escaped as in a JSON string)
 *   durable check [--map-size BYTES] --dump HUB DIR
 *       one JSON object per line and instance: id, status, name, input,
 *       and the inbox and history messages as stored
 *   durable check --stale-reader DIR
 *       for tests: takes a reader slot and exits without giving it back,
 *       like a worker killed inside a read txn; prints the slot's pid
 *
 * The environment is opened as nginx workers open it (no lock other than
 * LMDB's own), so the tool may run next to a live nginx: it reads one
 * consistent snapshot. With --map-size 0 (the default) LMDB adopts the
 * size the store was last opened with.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>

#include "durable.h"


typedef struct {
    size_t              count;
    int                 dump;
    ds_txn_t           *txn;
    ds_str_t            hub;
    int                 failed;
} dc_list_t;


static int dc_run(int argc, char **argv, int legacy);


const du_command_t  du_cmd_check = {
    "check", du_check,
    "check a store's records and indexes for consistency",
    "  STORE                 the store directory or PostgreSQL conninfo\n"
    "  --hub HUB             only this hub (default: every hub)\n"
    "  --map-size BYTES      LMDB map size (default: the store's own)\n"
    "  --list-ids HUB        instead: one line per instance, id TAB status\n"
    "  --dump HUB            instead: one JSON line per instance, with its\n"
    "                        inbox and history as stored\n"
    "  --stale-reader        for tests: leave a reader slot to a dead pid\n"
    "Exit 0 when consistent, 1 when a problem was found.\n"
};


static void
dc_usage(void)
{
    fprintf(stderr,
            "usage: durable-check [--map-size BYTES] [--hub HUB] DIR\n"
            "       durable-check [--map-size BYTES] --list-ids HUB DIR\n"
            "       durable-check [--map-size BYTES] --dump HUB DIR\n"
            "       durable-check --stale-reader DIR\n");
}


int
du_check(int argc, char **argv)
{
    if (du_wants_help(argc, argv, &du_cmd_check)) {
        return DU_EXIT_OK;
    }

    return dc_run(argc, argv, 0);
}


int
du_check_legacy(int argc, char **argv)
{
    du_json = 0;

    return dc_run(argc, argv, 1);
}


static void
dc_problem(void *data, const char *problem, ds_str_t hub, ds_str_t id)
{
    size_t  *n = data;

    if (du_json) {
        printf("%s{\"hub\":", (*n)++ ? "," : "");
        du_json_print_str(stdout, hub.data, hub.len);
        fputs(",\"id\":", stdout);
        du_json_print_str(stdout, id.data, id.len);
        fputs(",\"problem\":", stdout);
        du_json_print_str(stdout, problem, strlen(problem));
        putchar('}');
        return;
    }

    (*n)++;

    printf("problem: hub \"");
    du_print_str(stdout, hub);
    printf("\" id \"");
    du_print_str(stdout, id);
    printf("\": %s\n", problem);
}


/* a JSON string of arbitrary bytes (ids may hold any printable byte) */

static void
dc_json_string(ds_str_t s)
{
    char    *buf;
    size_t   n;

    buf = malloc(ds_json_escape_len(s.data, s.len) + 1);
    if (buf == NULL) {
        fputs("null", stdout);
        return;
    }

    n = ds_json_escape(s.data, s.len, buf);

    putchar('"');
    fwrite(buf, 1, n, stdout);
    putchar('"');

    free(buf);
}


static void
dc_json_text(ds_str_t s)
{
    if (s.len == 0) {
        fputs("null", stdout);
        return;
    }

    fwrite(s.data, 1, s.len, stdout);
}


static int
dc_event(void *data, uint64_t seq, ds_str_t event)
{
    size_t  *n = data;

    (void) seq;

    if ((*n)++) {
        putchar(',');
    }

    dc_json_text(event);

    return 0;
}


static int
dc_instance(void *data, ds_str_t id, const ds_instance_t *inst)
{
    dc_list_t  *l = data;
    size_t      n;

    l->count++;

    if (!l->dump) {
        du_print_str(stdout, id);
        printf("\t%s\n", ds_status_name(inst->status));
        return 0;
    }

    fputs("{\"id\":", stdout);
    dc_json_string(id);
    printf(",\"status\":\"%s\",\"name\":", ds_status_name(inst->status));
    dc_json_string(inst->name);
    fputs(",\"input\":", stdout);
    dc_json_text(inst->input);
    printf(",\"execution\":%llu,\"inbox\":[",
           (unsigned long long) inst->execution);

    n = 0;

    if (ds_inbox_read(l->txn, l->hub, id, dc_event, &n) != DS_OK) {
        l->failed = 1;
    }

    fputs("],\"history\":[", stdout);

    n = 0;

    if (ds_history_read(l->txn, l->hub, id, dc_event, &n) != DS_OK) {
        l->failed = 1;
    }

    fputs("]}\n", stdout);

    return 0;
}


static int
dc_list(ds_env_t *env, const char *hub, int dump)
{
    int         rc;
    char        token[DS_TOKEN_MAX + 1];
    size_t      token_len;
    ds_query_t  q;
    dc_list_t   l;

    memset(&l, 0, sizeof(dc_list_t));
    l.dump = dump;
    l.hub.data = hub;
    l.hub.len = strlen(hub);

    /* one read txn: a consistent snapshot of the whole hub */

    rc = ds_txn_begin(env, NULL, 0, &l.txn);
    if (rc != DS_OK) {
        fprintf(stderr, "durable-check: cannot begin a read txn: %s\n",
                ds_strerror(rc));
        return 2;
    }

    memset(&q, 0, sizeof(ds_query_t));
    q.created_from = INT64_MIN;
    q.created_to = INT64_MAX;
    q.top = 1000;
    q.scan_budget = 100000;

    for ( ;; ) {
        token_len = 0;

        rc = ds_instance_list(l.txn, l.hub, &q, dc_instance, &l, token,
                              &token_len);
        if (rc != DS_OK) {
            fprintf(stderr, "durable-check: listing hub \"%s\" failed: %s\n",
                    hub, ds_strerror(rc));
            ds_txn_abort(l.txn);
            return 2;
        }

        if (token_len == 0) {
            break;
        }

        token[token_len] = '\0';
        q.token.data = token;
        q.token.len = token_len;
    }

    ds_txn_abort(l.txn);

    if (l.failed) {
        fprintf(stderr, "durable-check: reading messages failed\n");
        return 2;
    }

    fprintf(stderr, "durable-check: %zu instances in hub \"%s\"\n",
            l.count, hub);

    return 0;
}


static int
dc_run(int argc, char **argv, int legacy)
{
    int               rc, i, mode, unavailable;
    char              err[256];
    char             *end;
    size_t            problems;
    ds_str_t          hub;
    ds_env_t         *env;
    PGconn           *conn;
    size_t            k;
    const char       *dir, *hub_name, *value;
    ds_env_conf_t     conf;
    ds_check_stats_t  st;

    static const char  *modes[] = { "--hub", "--list-ids", "--dump" };

    memset(&conf, 0, sizeof(ds_env_conf_t));
    conf.sync = DS_SYNC_FULL;

    dir = NULL;
    hub_name = NULL;
    unavailable = legacy ? 2 : DU_EXIT_UNAVAILABLE;
    mode = 0;   /* 0: check, 1: list ids, 2: dump, 3: stale reader */

    /* "--name value" or "--name=value", as every command takes them */

    for (i = 1; i < argc; i++) {

        if ((rc = du_opt(argc, argv, &i, "--map-size", &value)) != 0) {
            if (rc > 0) {
                conf.map_size = strtoull(value, &end, 10);
            }

            if (rc < 0 || *end != '\0') {
                if (!legacy) {
                    return du_usage_error(&du_cmd_check, "--map-size needs "
                                          "a number of bytes");
                }

                dc_usage();
                return 2;
            }

            continue;
        }

        for (k = 0; k < 3; k++) {
            rc = du_opt(argc, argv, &i, modes[k], &value);
            if (rc != 0) {
                break;
            }
        }

        if (rc < 0) {
            if (!legacy) {
                return du_usage_error(&du_cmd_check, "%s needs a hub name",
                                      modes[k]);
            }

            dc_usage();
            return 2;
        }

        if (rc > 0) {
            mode = (int) k;
            hub_name = value;
            continue;
        }

        if (strcmp(argv[i], "--stale-reader") == 0) {
            mode = 3;
            continue;
        }

        if (!legacy && strcmp(argv[i], "--json") == 0) {
            continue;
        }

        if (argv[i][0] == '-' || dir != NULL) {
            if (!legacy) {
                return du_usage_error(&du_cmd_check, "unexpected \"%s\"",
                                      argv[i]);
            }

            dc_usage();
            return 2;
        }

        dir = argv[i];
    }

    if (dir == NULL) {
        if (!legacy) {
            return du_usage_error(&du_cmd_check, "no store directory");
        }

        dc_usage();
        return 2;
    }

    conn = NULL;
    env = NULL;

    if (!legacy && du_is_conninfo(dir)) {
        if (mode) {
            return du_usage_error(&du_cmd_check, "--list-ids, --dump and "
                                  "--stale-reader need a store directory");
        }

        rc = du_pg_connect(dir, &conn);
        if (rc != DU_EXIT_OK) {
            return rc;
        }

    } else {
        if (du_store_missing(dir)) {
            fprintf(stderr, "durable-check: no store in \"%s\": it has no "
                    "data.mdb\n", dir);
            return unavailable;
        }

        conf.path = dir;

        rc = ds_env_open(&env, &conf, err, sizeof(err));
        if (rc != DS_OK) {
            fprintf(stderr, "durable-check: %s\n", err);
            return unavailable;
        }
    }

    if (mode == 3) {
        ds_txn_t  *txn;

        if (ds_txn_begin(env, NULL, 0, &txn) != DS_OK) {
            fprintf(stderr, "durable-check: cannot begin a read txn\n");
            return unavailable;
        }

        printf("%ld\n", (long) getpid());
        fflush(stdout);

        /* no abort, no close: the slot stays taken by a dead pid */
        _exit(0);
    }

    hub.data = hub_name ? hub_name : "";
    hub.len = hub_name ? strlen(hub_name) : 0;

    /*
     * a hub that is not there is an answer to say, not "consistent" nor
     * an empty list
     */

    if (hub_name != NULL && env != NULL) {
        ds_txn_t  *txn;

        if (ds_txn_begin(env, NULL, 0, &txn) != DS_OK) {
            fprintf(stderr, "durable-check: cannot begin a read txn\n");
            ds_env_close(env);
            return unavailable;
        }

        rc = du_hub_exists(txn, hub);
        ds_txn_abort(txn);

        if (!rc) {
            du_no_hub(legacy ? "durable-check" : "durable", hub);
            ds_env_close(env);
            return 1;
        }
    }

    if (mode) {
        rc = dc_list(env, hub_name, mode == 2);
        ds_env_close(env);
        return rc ? unavailable : 0;
    }

    problems = 0;
    memset(&st, 0, sizeof(ds_check_stats_t));

    if (du_json) {
        fputs("{\"problems\":[", stdout);
    }

    if (conn != NULL) {
        /* the scratch copy's counts; DS_UNAVAILABLE: printed, no run */
        rc = du_pg_check(conn, hub_name, dc_problem, &problems, &st);
        PQfinish(conn);

        if (rc == DS_UNAVAILABLE || rc == DS_NOTFOUND) {
            if (du_json) {
                printf("]}\n");
            }

            return rc == DS_NOTFOUND ? 1 : unavailable;
        }

    } else {
        rc = ds_check(env, hub, dc_problem, &problems, &st);
        ds_env_close(env);
    }

    if (du_json) {
        printf("],\"consistent\":%s,\"stats\":{\"instances\":%zu,"
               "\"by_created\":%zu,\"by_status\":%zu,\"history\":%zu,"
               "\"inbox\":%zu,\"ready\":%zu,\"activities\":%zu,"
               "\"timers\":%zu,\"entities\":%zu,\"entity_ops\":%zu,"
               "\"problems\":%zu}}\n",
               rc == DS_OK ? "true" : "false",
               st.instances, st.by_created, st.by_status, st.history,
               st.inbox, st.ready, st.activities, st.timers, st.entities,
               st.entity_ops, st.problems);

    } else {
        printf("instances %zu\nby_created %zu\nby_status %zu\n"
               "history %zu\ninbox %zu\nready %zu\nactivities %zu\n"
               "timers %zu\nentities %zu\nentity_ops %zu\nproblems %zu\n",
               st.instances, st.by_created, st.by_status, st.history,
               st.inbox, st.ready, st.activities, st.timers, st.entities,
               st.entity_ops, st.problems);
    }

    if (rc == DS_OK) {
        if (!du_json) {
            printf("consistent\n");
        }

        return 0;
    }

    if (st.problems == 0 && problems == 0) {
        fprintf(stderr, "durable-check: the check could not run: %s\n",
                ds_strerror(rc));
        return unavailable;
    }

    if (!du_json) {
        printf("INCONSISTENT\n");
    }

    return 1;
}
