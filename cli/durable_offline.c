
/*
 * Copyright (C) ngx_durable authors
 *
 * The offline commands: they open a store directory (an LMDB environment)
 * next to a running nginx or without one. stats, export, import and
 * delete-task-hub work on hubs through the store library (ds_hub.c);
 * backup, restore and compact work on the whole environment.
 *
 * A store is an LMDB directory or a PostgreSQL conninfo: check, stats,
 * export, import and delete-task-hub hand a conninfo to durable_pg.c;
 * backup, restore and compact are LMDB's (PostgreSQL has its own tools).
 */


#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "durable.h"
#include "ds_rows.h"


#define DU_EXPORT_FORMAT    1
#define DU_DELETE_BATCH     10000
#define DU_IMPORT_MAP       ((size_t) 1 << 30)
#define DU_JSON_DEPTH       2048    /* the most durable_task_json_depth
                                       allows: what a store may hold */


static int du_lmdb_only(void);
static int du_first_record(void *data, unsigned table, ds_str_t key,
    ds_str_t value);
static int du_stats(int argc, char **argv);
static int du_export(int argc, char **argv);
static int du_import(int argc, char **argv);
static int du_delete_hub(int argc, char **argv);
static int du_backup(int argc, char **argv);
static int du_restore(int argc, char **argv);
static int du_compact(int argc, char **argv);


const du_command_t  du_cmd_stats = {
    "stats", du_stats,
    "count a store's records, hub by hub",
    "  STORE                 the store directory or PostgreSQL conninfo\n"
    "  --hub HUB             only this hub (default: every hub)\n"
};

const du_command_t  du_cmd_export = {
    "export", du_export,
    "write a hub's records as JSON lines (docs/export-format.md)",
    "  STORE                 the store directory or PostgreSQL conninfo\n"
    "  --hub HUB             the hub (default " DU_DEFAULT_HUB ")\n"
    "  --output FILE         write there (default: standard output)\n"
};

const du_command_t  du_cmd_import = {
    "import", du_import,
    "read a hub exported by durable export into a store",
    "  STORE                 the store directory, created when absent,\n"
    "                        or a PostgreSQL conninfo\n"
    "  --input FILE          read from there (default: standard input)\n"
    "  --hub HUB             import under this name (default: the one in\n"
    "                        the export)\n"
    "  --map-size BYTES      LMDB map size of a new store (default 1 GiB)\n"
    "                        or of PostgreSQL's scratch copy (64 GiB)\n"
    "The hub must have no records yet; the import is one transaction and\n"
    "is committed only when the imported hub checks consistent.\n"
};

const du_command_t  du_cmd_delete_hub = {
    "delete-task-hub", du_delete_hub,
    "delete every record of one hub",
    "  STORE                 the store directory or PostgreSQL conninfo\n"
    "  --hub HUB             the hub (required)\n"
    "Deletes in transactions of 10000 records (PostgreSQL: in one); exit 1\n"
    "when the hub has no records.\n"
};

const du_command_t  du_cmd_backup = {
    "backup", du_backup,
    "copy a store, consistent, while nginx runs",
    "  STORE                 the store directory\n"
    "  DEST                  a new or empty directory for the copy\n"
    "The copy is compacted (free pages left out) and checked.\n"
};

const du_command_t  du_cmd_restore = {
    "restore", du_restore,
    "put a backup in place of a store (nginx stopped)",
    "  BACKUP                a directory made by durable backup\n"
    "  STORE                 the store directory, created when absent\n"
    "  --force               replace a store that has data; refused all\n"
    "                        the same while a process has it open\n"
};

const du_command_t  du_cmd_compact = {
    "compact", du_compact,
    "rewrite a store without its free pages (nginx stopped)",
    "  STORE                 the store directory\n"
    "Refused (exit 1) while a process, such as nginx, has the store open.\n"
};


/*
 * A PostgreSQL conninfo, as libpq takes it, rather than a directory: a
 * URI, or "key=value ..." whose key has no '/', so that a directory path
 * with '=' in one of its names ("/var/lib/a=b") stays a path.
 */

int
du_is_conninfo(const char *store)
{
    const char  *eq;

    if (strncmp(store, "postgres://", 11) == 0
        || strncmp(store, "postgresql://", 13) == 0)
    {
        return 1;
    }

    eq = strchr(store, '=');

    return eq != NULL && eq != store
           && memchr(store, '/', (size_t) (eq - store)) == NULL;
}


static int
du_lmdb_only(void)
{
    du_error("a PostgreSQL conninfo: this command works on an LMDB store "
             "directory (PostgreSQL's own tools, pg_basebackup, pg_dump "
             "and VACUUM, back up and compact a database)");

    return DU_EXIT_USAGE;
}


/*
 * 1 when dir is a directory without data.mdb: LMDB would make a new store
 * there, which no command that only reads a store may do. 0 otherwise,
 * the open saying what else is wrong.
 */

int
du_store_missing(const char *dir)
{
    char         path[4096];
    struct stat  st;

    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)
        || (size_t) snprintf(path, sizeof(path), "%s/data.mdb", dir)
           >= sizeof(path))
    {
        return 0;
    }

    return stat(path, &st) != 0 && errno == ENOENT;
}


/*
 * Opens the store directory; a conninfo is refused, a missing directory
 * or a directory without a store is created only when asked. Prints the
 * error, returns the exit code.
 */

int
du_offline_open(const char *store, size_t map_size, int create,
    ds_env_t **env)
{
    char           err[256];
    struct stat    st;
    ds_env_conf_t  conf;

    if (du_is_conninfo(store)) {
        return du_lmdb_only();
    }

    if (stat(store, &st) != 0) {
        if (errno != ENOENT || !create || mkdir(store, 0700) != 0) {
            du_error("store \"%s\": %s", store, strerror(errno));
            return DU_EXIT_UNAVAILABLE;
        }

    } else if (!S_ISDIR(st.st_mode)) {
        du_error("store \"%s\" is not a directory", store);
        return DU_EXIT_UNAVAILABLE;
    }

    if (!create && du_store_missing(store)) {
        du_error("no store in \"%s\": it has no data.mdb", store);
        return DU_EXIT_UNAVAILABLE;
    }

    memset(&conf, 0, sizeof(ds_env_conf_t));
    conf.path = store;
    conf.map_size = map_size;
    conf.sync = DS_SYNC_FULL;

    if (ds_env_open(env, &conf, err, sizeof(err)) != DS_OK) {
        du_error("%s", err);
        return DU_EXIT_UNAVAILABLE;
    }

    return DU_EXIT_OK;
}


/*
 * Whether another process has the environment open. LMDB's lock file
 * carries a shared fcntl() lock on its first byte from every process that
 * has the environment open: taking it exclusively fails while one does.
 * Call before opening the store here (fcntl locks are per process).
 * 1: in use, 0: not, -1: error.
 */

int
du_store_in_use(const char *dir)
{
    int           fd, rc;
    char          path[4096];
    struct flock  fl;

    if ((size_t) snprintf(path, sizeof(path), "%s/lock.mdb", dir)
        >= sizeof(path))
    {
        return -1;
    }

    fd = open(path, O_RDWR);
    if (fd == -1) {
        return errno == ENOENT ? 0 : -1;
    }

    memset(&fl, 0, sizeof(struct flock));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 1;

    rc = fcntl(fd, F_SETLK, &fl);

    /* closing the descriptor drops the lock, if it was taken */
    close(fd);

    if (rc == 0) {
        return 0;
    }

    return (errno == EACCES || errno == EAGAIN) ? 1 : -1;
}


/* options of the offline commands: --hub, --map-size and positionals */

typedef struct {
    const char         *hub;
    const char         *output;
    const char         *input;
    size_t              map_size;
    int                 force;
    int                 npos;
    const char         *pos[2];
} du_args_t;


static int
du_parse(int argc, char **argv, const du_command_t *cmd, du_args_t *a,
    int npos, const char *allowed)
{
    int          i, rc;
    const char  *v;

    memset(a, 0, sizeof(du_args_t));

    for (i = 1; i < argc; i++) {

        if (du_flag(argv, i, "--json")) {
            continue;
        }

        if (strstr(allowed, "force") && du_flag(argv, i, "--force")) {
            a->force = 1;
            continue;
        }

        if (strstr(allowed, "hub")
            && ((rc = du_opt(argc, argv, &i, "--hub", &a->hub)) != 0
                || (rc = du_opt(argc, argv, &i, "--task-hub", &a->hub))
                   != 0))
        {
            if (rc < 0) {
                return du_usage_error(cmd, "--hub needs a value");
            }

            continue;
        }

        if (strstr(allowed, "output")
            && (rc = du_opt(argc, argv, &i, "--output", &a->output)) != 0)
        {
            if (rc < 0) {
                return du_usage_error(cmd, "--output needs a value");
            }

            continue;
        }

        if (strstr(allowed, "input")
            && (rc = du_opt(argc, argv, &i, "--input", &a->input)) != 0)
        {
            if (rc < 0) {
                return du_usage_error(cmd, "--input needs a value");
            }

            continue;
        }

        if (strstr(allowed, "map")
            && (rc = du_opt(argc, argv, &i, "--map-size", &v)) != 0)
        {
            if (rc < 0 || du_size(v, &a->map_size) != 0) {
                return du_usage_error(cmd, "--map-size needs a number of "
                                      "bytes");
            }

            continue;
        }

        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return du_usage_error(cmd, "unknown option \"%s\"", argv[i]);
        }

        if (a->npos == npos) {
            return du_usage_error(cmd, "unexpected \"%s\"", argv[i]);
        }

        a->pos[a->npos++] = argv[i];
    }

    /* backup, restore and compact: directories, never a database */

    for (i = 0; strstr(allowed, "lmdb") && i < a->npos; i++) {
        if (du_is_conninfo(a->pos[i])) {
            return du_lmdb_only();
        }
    }

    if (a->npos < npos) {
        return du_usage_error(cmd, "%s", npos == 1 ? "no store directory"
                              : "two directories are needed");
    }

    if (a->hub != NULL) {
        ds_str_t  s;

        s.data = a->hub;
        s.len = strlen(a->hub);

        if (s.len == 0 || s.len > DS_HUB_MAX) {
            return du_usage_error(cmd, "a hub name has 1 to %d bytes",
                                  DS_HUB_MAX);
        }
    }

    return DU_EXIT_OK;
}


static ds_str_t
du_str(const char *s)
{
    ds_str_t  r;

    r.data = s;
    r.len = strlen(s);

    return r;
}


/* stats ------------------------------------------------------------------ */

typedef struct {
    size_t              tables[DS_TABLE_COUNT];
    size_t              status[DS_STATUS_COUNT];
    size_t              bytes;
} du_hub_stats_t;


static int
du_stats_record(void *data, unsigned table, ds_str_t key, ds_str_t value)
{
    du_hub_stats_t  *st = data;

    st->tables[table]++;
    st->bytes += key.len + value.len;

    /* by_status keys: status(1) created(8) id */
    if (strcmp(ds_table_name(table), "by_status") == 0
        && (unsigned char) key.data[0] < DS_STATUS_COUNT)
    {
        st->status[(unsigned char) key.data[0]]++;
    }

    return 0;
}


typedef struct {
    ds_txn_t           *txn;
    size_t              hubs;
    int                 failed;
} du_stats_ctx_t;


static int
du_stats_hub(void *data, ds_str_t hub)
{
    unsigned         i, n;
    du_hub_stats_t   st;
    du_stats_ctx_t  *ctx = data;

    memset(&st, 0, sizeof(du_hub_stats_t));

    if (ds_hub_walk(ctx->txn, hub, du_stats_record, &st) != DS_OK) {
        ctx->failed = 1;
        return -1;
    }

    if (du_json) {
        printf("%s{\"hub\":", ctx->hubs ? "," : "");
        du_json_print_str(stdout, hub.data, hub.len);
        printf(",\"bytes\":%zu,\"status\":{", st.bytes);

        for (i = 0, n = 0; i < DS_STATUS_COUNT; i++) {
            if (st.status[i]) {
                printf("%s\"%s\":%zu", n++ ? "," : "",
                       ds_status_name((ds_status_e) i), st.status[i]);
            }
        }

        fputs("},\"records\":{", stdout);

        for (i = 0; i < DS_TABLE_COUNT; i++) {
            printf("%s\"%s\":%zu", i ? "," : "", ds_table_name(i),
                   st.tables[i]);
        }

        fputs("}}", stdout);

    } else {
        printf("hub %.*s\n  instances %zu", (int) hub.len, hub.data,
               st.tables[0]);

        for (i = 0, n = 0; i < DS_STATUS_COUNT; i++) {
            if (st.status[i]) {
                printf("%s%s %zu", n++ ? ", " : " (",
                       ds_status_name((ds_status_e) i), st.status[i]);
            }
        }

        printf("%s\n", n ? ")" : "");

        for (i = 1; i < DS_TABLE_COUNT; i++) {
            printf("  %-12s %zu\n", ds_table_name(i), st.tables[i]);
        }

        printf("  bytes        %zu (keys and values)\n", st.bytes);
    }

    ctx->hubs++;

    return 0;
}


static int
du_stats(int argc, char **argv)
{
    int             rc;
    char            path[4096];
    ds_env_t       *env;
    du_args_t       a;
    struct stat     sb;
    du_stats_ctx_t  ctx;

    if (du_wants_help(argc, argv, &du_cmd_stats)) {
        return DU_EXIT_OK;
    }

    rc = du_parse(argc, argv, &du_cmd_stats, &a, 1, "hub");
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    if (du_is_conninfo(a.pos[0])) {
        return du_pg_stats(a.pos[0], a.hub);
    }

    rc = du_offline_open(a.pos[0], 0, 0, &env);
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    memset(&ctx, 0, sizeof(du_stats_ctx_t));

    if (ds_txn_begin(env, NULL, 0, &ctx.txn) != DS_OK) {
        du_error("cannot begin a read transaction");
        ds_env_close(env);
        return DU_EXIT_UNAVAILABLE;
    }

    /* a hub that is not there is said, as by export and check */

    if (a.hub != NULL && !du_hub_exists(ctx.txn, du_str(a.hub))) {
        ds_txn_abort(ctx.txn);
        ds_env_close(env);
        du_no_hub("durable", du_str(a.hub));
        return DU_EXIT_FAILED;
    }

    snprintf(path, sizeof(path), "%s/data.mdb", a.pos[0]);
    sb.st_size = 0;
    (void) stat(path, &sb);

    if (du_json) {
        printf("{\"store\":");
        du_json_print_str(stdout, a.pos[0], strlen(a.pos[0]));
        printf(",\"file_bytes\":%lld,\"hubs\":[", (long long) sb.st_size);

    } else {
        printf("store %s: data.mdb %lld bytes\n", a.pos[0],
               (long long) sb.st_size);
    }

    if (a.hub != NULL) {
        rc = du_stats_hub(&ctx, du_str(a.hub)) == 0 ? DS_OK : DS_ERROR;

    } else {
        rc = ds_hub_list(ctx.txn, du_stats_hub, &ctx);
    }

    if (du_json) {
        printf("]}\n");
    }

    ds_txn_abort(ctx.txn);
    ds_env_close(env);

    if (rc != DS_OK) {
        du_error("reading the store failed");
        return DU_EXIT_UNAVAILABLE;
    }

    return DU_EXIT_OK;
}


/* export ----------------------------------------------------------------- */

typedef struct {
    FILE               *out;
    char               *buf;
    size_t              size;
    size_t              records;
} du_export_t;


static int
du_export_b64(du_export_t *x, ds_str_t s)
{
    char    *p;
    size_t   n;

    n = 4 * ((s.len + 2) / 3) + 1;

    if (n > x->size) {
        p = realloc(x->buf, n);
        if (p == NULL) {
            return -1;
        }

        x->buf = p;
        x->size = n;
    }

    n = du_base64_encode((const unsigned char *) s.data, s.len, x->buf);

    fputc('"', x->out);
    fwrite(x->buf, 1, n, x->out);
    fputc('"', x->out);

    return 0;
}


static int
du_export_record(void *data, unsigned table, ds_str_t key, ds_str_t value)
{
    du_export_t  *x = data;

    fprintf(x->out, "{\"type\":\"%s\",\"key\":", ds_table_name(table));

    if (du_export_b64(x, key) != 0) {
        return -1;
    }

    fputs(",\"value\":", x->out);

    if (du_export_b64(x, value) != 0) {
        return -1;
    }

    fputs("}\n", x->out);
    x->records++;

    return ferror(x->out) ? -1 : 0;
}


/*
 * Whether the hub has a record: an LMDB store keeps nothing else of a
 * hub, so one without is no hub (as delete-task-hub has it). 1 or 0.
 */

int
du_hub_exists(ds_txn_t *txn, ds_str_t hub)
{
    int  exists;

    exists = 0;
    (void) ds_hub_walk(txn, hub, du_first_record, &exists);

    return exists;
}


/* "no hub" of a --hub that names none, escaped as the check's ids are */

void
du_no_hub(const char *prog, ds_str_t hub)
{
    fprintf(stderr, "%s: no hub \"", prog);
    du_print_str(stderr, hub);
    fputs("\" in the store\n", stderr);
}


/*
 * Writes the hub's lines from one read txn of env: the export is one
 * consistent snapshot of the hub. need_hub: a hub without records is
 * refused (DS_NOTFOUND), as no hub. DS_OK, or the error (printed).
 */

int
du_export_env(ds_env_t *env, ds_str_t hub, FILE *out, size_t *records,
    int need_hub)
{
    int          rc, err;
    char         now[DS_TIME_FRAC_LEN + 1];
    ds_txn_t    *txn;
    du_export_t  x;

    memset(&x, 0, sizeof(du_export_t));
    x.out = out;

    if (ds_txn_begin(env, NULL, 0, &txn) != DS_OK) {
        du_error("cannot begin a read transaction");
        return DS_UNAVAILABLE;
    }

    if (need_hub && !du_hub_exists(txn, hub)) {
        ds_txn_abort(txn);
        du_no_hub("durable", hub);
        return DS_NOTFOUND;
    }

    now[ds_time_format_frac(ds_time_now(), now)] = '\0';

    fprintf(x.out, "{\"type\":\"header\",\"format\":%d,\"layout\":\"lmdb\","
            "\"hub\":", DU_EXPORT_FORMAT);
    du_json_print_str(x.out, hub.data, hub.len);
    fprintf(x.out, ",\"exported\":\"%s\"}\n", now);

    rc = ds_hub_walk(txn, hub, du_export_record, &x);

    if (rc == DS_OK) {
        fprintf(x.out, "{\"type\":\"end\",\"records\":%zu}\n", x.records);
    }

    ds_txn_abort(txn);
    free(x.buf);

    *records = x.records;

    err = fflush(x.out) != 0 ? errno : 0;

    if (err != 0 || ferror(x.out)) {
        /* the output's failure on stdout is said once, by main() */

        if (x.out != stdout) {
            du_error("the export failed: writing the output failed%s%s",
                     err ? ": " : "", err ? strerror(err) : "");
        }

        return DS_ERROR;
    }

    if (rc != DS_OK) {
        du_error("the export failed: %s", ds_strerror(rc));
    }

    return rc;
}


static int
du_export(int argc, char **argv)
{
    int          rc;
    FILE        *out;
    char        *tmp;
    size_t       records, len;
    ds_str_t     hub;
    ds_env_t    *env;
    du_args_t    a;

    if (du_wants_help(argc, argv, &du_cmd_export)) {
        return DU_EXIT_OK;
    }

    rc = du_parse(argc, argv, &du_cmd_export, &a, 1, "hub output");
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    hub = du_str(a.hub ? a.hub : DU_DEFAULT_HUB);
    env = NULL;

    if (!du_is_conninfo(a.pos[0])) {
        rc = du_offline_open(a.pos[0], 0, 0, &env);
        if (rc != DU_EXIT_OK) {
            return rc;
        }
    }

    out = stdout;
    tmp = NULL;

    /*
     * A file is written under a name of its own next to it and renamed
     * once the export is whole: a failed export leaves an earlier one
     */

    if (a.output != NULL) {
        len = strlen(a.output) + sizeof(".tmp.") + 20;
        tmp = malloc(len);
        if (tmp == NULL) {
            du_error("out of memory");

            if (env != NULL) {
                ds_env_close(env);
            }

            return DU_EXIT_FAILED;
        }

        snprintf(tmp, len, "%s.tmp.%ld", a.output, (long) getpid());

        out = fopen(tmp, "w");
        if (out == NULL) {
            du_error("cannot write \"%s\": %s", tmp, strerror(errno));
            free(tmp);

            if (env != NULL) {
                ds_env_close(env);
            }

            return DU_EXIT_FAILED;
        }
    }

    if (env == NULL) {
        rc = du_pg_export(a.pos[0], hub, out, &records);

    } else {
        rc = du_export_env(env, hub, out, &records, 1) == DS_OK
             ? DU_EXIT_OK : DU_EXIT_FAILED;
        ds_env_close(env);
    }

    if (out != stdout && fclose(out) != 0 && rc == DU_EXIT_OK) {
        du_error("the export failed: %s", strerror(errno));
        rc = DU_EXIT_FAILED;
    }

    if (tmp != NULL) {
        if (rc == DU_EXIT_OK && rename(tmp, a.output) != 0) {
            du_error("cannot rename \"%s\" to \"%s\": %s", tmp, a.output,
                     strerror(errno));
            rc = DU_EXIT_FAILED;
        }

        if (rc != DU_EXIT_OK) {
            (void) unlink(tmp);
        }

        free(tmp);
    }

    if (rc == DU_EXIT_OK && !du_json) {
        fprintf(stderr, "durable: exported %zu records of hub \"%s\"\n",
                records, hub.data);
    }

    return rc;
}


/* import ----------------------------------------------------------------- */

static int
du_first_record(void *data, unsigned table, ds_str_t key, ds_str_t value)
{
    (void) table;
    (void) key;
    (void) value;

    *(int *) data = 1;

    return 1;
}


static void
du_problem(void *data, const char *problem, ds_str_t hub, ds_str_t id)
{
    (void) data;

    fputs("durable: hub \"", stderr);
    du_print_str(stderr, hub);
    fputs("\" id \"", stderr);
    du_print_str(stderr, id);
    fprintf(stderr, "\": %s\n", problem);
}


/* 0: s is JSON the API may copy out as it is; -1: err says what is wrong */

static int
du_json_ok(const char *what, ds_str_t s, char *err, size_t err_len)
{
    int              rc;
    ds_json_error_t  e;

    rc = dsi_json_check(s.data, s.len, DU_JSON_DEPTH, &e);

    if (rc == 1) {
        return 0;
    }

    if (rc < 0) {
        snprintf(err, err_len, "out of memory checking the %s", what);

    } else if (e.too_deep) {
        snprintf(err, err_len, "the %s nests deeper than %d", what,
                 DU_JSON_DEPTH);

    } else {
        snprintf(err, err_len, "the %s is not JSON: %s at position %zu",
                 what, e.text, e.position);
    }

    return -1;
}


/*
 * The JSON texts of a record that the API and the worker protocol serve
 * verbatim (an instance's input, output, custom status, tags and failure
 * details, a history event, an inbox message, an activity's input, an
 * entity's state, a queued or scheduled entity operation) must be JSON;
 * a record that does not decode is left to the check.
 */

static int
du_import_json(unsigned table, ds_str_t value, char *err, size_t err_len)
{
    ds_str_t       text;
    ds_erec_t      ent;
    ds_instance_t  inst;
    ds_activity_t  act;

    switch (table) {

    case DS_DB_INSTANCES:
        if (dsi_record_decode(value.data, value.len, &inst) != DS_OK) {
            return 0;
        }

        /* len 0: none (null) */
        return (inst.input.len
                && du_json_ok("input", inst.input, err, err_len) != 0)
               || (inst.output.len
                   && du_json_ok("output", inst.output, err, err_len) != 0)
               || (inst.custom_status.len
                   && du_json_ok("custom status", inst.custom_status, err,
                                 err_len) != 0)
               || (inst.tags.len
                   && du_json_ok("tags object", inst.tags, err, err_len) != 0)
               || (inst.failure.len
                   && du_json_ok("failure details value", inst.failure, err,
                                 err_len) != 0)
               ? -1 : 0;

    case DS_DB_HISTORY:
        return du_json_ok("history event", value, err, err_len);

    case DS_DB_INBOX:
        return du_json_ok("message", value, err, err_len);

    case DS_DB_ENTITY_OPS:
        return du_json_ok("entity operation", value, err, err_len);

    case DS_DB_ACTIVITIES:
        if (dsi_activity_decode(value.data, value.len, &act) != DS_OK) {
            return 0;
        }

        /* a versioned call's tags go to workers as a map of strings */

        if (ds_tags_check(act.tags) != DS_OK) {
            snprintf(err, err_len, "the activity tags are not a JSON "
                     "object of strings");
            return -1;
        }

        if (act.input.len == 0) {
            return 0;
        }

        return du_json_ok("activity input", act.input, err, err_len);

    case DS_DB_TIMERS:
        /* fire_at(8) [the message of a scheduled entity signal] */
        if (value.len <= 8) {
            return 0;
        }

        text.data = value.data + 8;
        text.len = value.len - 8;

        return du_json_ok("scheduled entity operation", text, err, err_len);

    case DS_DB_ENTITIES:
        if (dsi_erec_decode(value.data, value.len, &ent) != DS_OK
            || !ent.has_state || ent.state.len == 0)
        {
            return 0;
        }

        return du_json_ok("entity state", ent.state, err, err_len);

    default:
        return 0;
    }
}


/* one line's field, base64-decoded into buf (grown as needed) */

static int
du_import_field(json_t *rec, const char *name, unsigned char **buf,
    size_t *size, ds_str_t *out)
{
    size_t          len, n;
    json_t         *v;
    unsigned char  *p;

    v = json_object_get(rec, name);
    if (!json_is_string(v)) {
        return -1;
    }

    len = json_string_length(v);
    n = len / 4 * 3 + 1;

    if (n > *size) {
        p = realloc(*buf, n);
        if (p == NULL) {
            return -1;
        }

        *buf = p;
        *size = n;
    }

    if (du_base64_decode(json_string_value(v), len, *buf, &n) != 0) {
        return -1;
    }

    out->data = (const char *) *buf;
    out->len = n;

    return 0;
}


/*
 * An instance's or entity's record key is its id: one the API would
 * refuse could not be reached through it (ds_names.c). Every other
 * record names an instance or entity by id too, and the check refuses
 * it without one of these records. 0, or -1 when printed.
 */

static int
du_has_upper(ds_str_t s)
{
    size_t  i;

    for (i = 0; i < s.len; i++) {
        if (s.data[i] >= 'A' && s.data[i] <= 'Z') {
            return 1;
        }
    }

    return 0;
}


static int
du_import_id(unsigned table, ds_str_t key, size_t lineno, const char *type)
{
    int              rc, upper;
    char             why[160];
    const char      *at, *what, *part;
    ds_str_t         name, ekey;
    ds_name_fault_t  f;

    /* an empty key is ds_hub_put's to refuse */
    if (key.len == 0) {
        return 0;
    }

    part = "it";
    upper = 0;
    f.error = DS_NAME_OK;

    if (table == DS_DB_INSTANCES) {
        what = "instance id";
        rc = ds_name_instance_id(key, &f);

    } else if (table == DS_DB_ENTITIES) {
        what = "entity id";
        at = key.len > 1 && key.data[0] == '@'
             ? memchr(key.data + 1, '@', key.len - 1) : NULL;
        rc = DS_INVALID;

        if (at != NULL) {
            name.data = key.data + 1;
            name.len = (size_t) (at - name.data);
            ekey.data = at + 1;
            ekey.len = key.len - name.len - 2;
            rc = ds_name_entity(name, ekey, &f);
            part = f.part == DS_NAME_PART_NAME ? "its name"
                   : f.part == DS_NAME_PART_KEY ? "its key"
                   : "its name and key";

            /* the API looks an entity up by its name lower-cased */
            if (rc == DS_OK && du_has_upper(name)) {
                rc = DS_INVALID;
                part = "its name";
                upper = 1;
            }
        }

    } else {
        return 0;
    }

    if (rc == DS_OK) {
        return 0;
    }

    if (upper) {
        snprintf(why, sizeof(why), "must be lower-case");

    } else if (f.error == DS_NAME_OK) {
        snprintf(why, sizeof(why), "is not \"@name@key\"");

    } else {
        ds_name_fault_text(&f, why, sizeof(why));
    }

    fprintf(stderr, "durable: import: line %zu: %s record: the %s \"",
            lineno, type, what);
    du_print_str(stderr, key);
    fprintf(stderr, "\" cannot be reached through the API: %s %s\n", part,
            why);

    return -1;
}


/*
 * Reads an export into the hub (hub_opt, or the export's) of the LMDB
 * store in dir, created when absent: one txn, committed when the hub
 * checks consistent. hub_buf gets the hub's name. Prints errors; returns
 * the exit code.
 */

int
du_import_file(const char *dir, FILE *in, const char *hub_opt,
    size_t map_size, char *hub_buf, size_t *nrecords)
{
    int              rc, prc, table, ended, exists;
    char            *line, err[160];
    size_t           cap, lineno, records, ksize, vsize;
    ssize_t          len;
    json_t          *rec, *v;
    ds_str_t         hub, key, value;
    ds_env_t        *env;
    ds_txn_t        *txn;
    const char      *type, *why;
    unsigned char   *kbuf, *vbuf;
    json_error_t     jerr;

    line = NULL;
    cap = 0;
    kbuf = NULL;
    vbuf = NULL;
    ksize = 0;
    vsize = 0;
    lineno = 0;
    records = 0;
    ended = 0;
    env = NULL;
    txn = NULL;
    rec = NULL;
    hub.data = NULL;
    hub.len = 0;
    rc = DU_EXIT_FAILED;

    while ((len = getline(&line, &cap, in)) != -1) {
        lineno++;

        json_decref(rec);
        rec = json_loadb(line, (size_t) len, 0, &jerr);

        type = json_string_value(json_object_get(rec, "type"));
        if (type == NULL) {
            du_error("import: line %zu: not an object with a \"type\"",
                     lineno);
            goto done;
        }

        if (ended) {
            du_error("import: line %zu: data after the end", lineno);
            goto done;
        }

        if (lineno == 1) {
            if (strcmp(type, "header") != 0
                || json_integer_value(json_object_get(rec, "format"))
                   != DU_EXPORT_FORMAT
                || !json_is_string(json_object_get(rec, "hub")))
            {
                du_error("import: line 1 is not a header of format %d",
                         DU_EXPORT_FORMAT);
                goto done;
            }

            /* the only layout there is (docs/export-format.md) */
            v = json_object_get(rec, "layout");

            if (!json_is_string(v)
                || strcmp(json_string_value(v), "lmdb") != 0)
            {
                du_error("import: line 1: the layout is not \"lmdb\", the "
                         "only one this version reads");
                goto done;
            }

            v = json_object_get(rec, "hub");
            hub = du_str(hub_opt ? hub_opt : json_string_value(v));

            if (ds_name_hub(hub) != DS_OK) {
                fputs("durable: import: hub \"", stderr);
                du_print_str(stderr, hub);
                fputs("\" cannot be reached through the API: a hub name "
                      "has 1 to 50 letters, digits, '-' and '_', starting "
                      "with a letter\n", stderr);
                goto done;
            }

            memcpy(hub_buf, hub.data, hub.len + 1);
            hub.data = hub_buf;

            if (map_size == 0) {
                char         path[4096];
                struct stat  sb;

                snprintf(path, sizeof(path), "%s/data.mdb", dir);
                map_size = stat(path, &sb) == 0 ? 0 : DU_IMPORT_MAP;
            }

            rc = du_offline_open(dir, map_size, 1, &env);
            if (rc != DU_EXIT_OK) {
                goto done;
            }

            rc = DU_EXIT_FAILED;

            if (ds_txn_begin(env, NULL, 1, &txn) != DS_OK) {
                du_error("cannot begin a write transaction");
                rc = DU_EXIT_UNAVAILABLE;
                goto done;
            }

            exists = 0;
            (void) ds_hub_walk(txn, hub, du_first_record, &exists);

            if (exists) {
                du_error("import: hub \"%s\" has records already; "
                         "durable delete-task-hub removes them", hub.data);
                goto done;
            }

            continue;
        }

        if (strcmp(type, "end") == 0) {
            v = json_object_get(rec, "records");

            if (!json_is_integer(v)) {
                du_error("import: line %zu: the end's \"records\" is not "
                         "an integer", lineno);
                goto done;
            }

            if (json_integer_value(v) != (json_int_t) records) {
                du_error("import: the end says %lld records, %zu were read",
                         (long long) json_integer_value(
                             json_object_get(rec, "records")),
                         records);
                goto done;
            }

            ended = 1;
            continue;
        }

        table = ds_table_by_name(type, strlen(type));

        if (table < 0
            || du_import_field(rec, "key", &kbuf, &ksize, &key) != 0
            || du_import_field(rec, "value", &vbuf, &vsize, &value) != 0)
        {
            du_error("import: line %zu: not a record of format %d", lineno,
                     DU_EXPORT_FORMAT);
            goto done;
        }

        if (du_import_json((unsigned) table, value, err, sizeof(err)) != 0)
        {
            du_error("import: line %zu: %s record: %s", lineno, type, err);
            goto done;
        }

        if (du_import_id((unsigned) table, key, lineno, type) != 0) {
            goto done;
        }

        prc = ds_hub_put(txn, hub, (unsigned) table, key, value);

        /* the hub and table are valid: DS_INVALID is about the key */
        if (prc == DS_INVALID) {
            du_error("import: line %zu: the key is %s", lineno,
                     key.len ? "longer than the store's keys can be"
                             : "empty");
            goto done;
        }

        if (prc == DS_CONFLICT) {
            du_error("import: line %zu: a %s record with the same key came "
                     "before", lineno, type);
            goto done;
        }

        if (prc != DS_OK) {
            /* LMDB's text when the txn kept one */
            why = ds_txn_error(txn);
            du_error("import: line %zu: the record cannot be written: %s",
                     lineno, strcmp(why, "no error") != 0 ? why
                                                          : ds_strerror(prc));
            goto done;
        }

        records++;
    }

    if (ferror(in)) {
        du_error("import: reading failed: %s", strerror(errno));
        goto done;
    }

    if (!ended) {
        du_error("import: the input ends early (no end line): truncated?");
        goto done;
    }

    if (ds_check_txn(txn, hub, du_problem, NULL, NULL) != DS_OK) {
        du_error("import: the imported hub is not consistent; nothing "
                 "was written");
        goto done;
    }

    rc = ds_txn_commit(txn);
    txn = NULL;

    if (rc != DS_OK) {
        du_error("import: the commit failed: %s", ds_strerror(rc));
        rc = DU_EXIT_UNAVAILABLE;
        goto done;
    }

    *nrecords = records;
    rc = DU_EXIT_OK;

done:

    if (lineno == 0) {
        du_error("import: the input is empty");
    }

    if (txn != NULL) {
        ds_txn_abort(txn);
    }

    if (env != NULL) {
        ds_env_close(env);
    }

    json_decref(rec);
    free(line);
    free(kbuf);
    free(vbuf);

    return rc;
}


static int
du_import(int argc, char **argv)
{
    int         rc;
    FILE       *in;
    size_t      records;
    du_args_t   a;
    char        hub[DS_HUB_MAX + 1];

    if (du_wants_help(argc, argv, &du_cmd_import)) {
        return DU_EXIT_OK;
    }

    rc = du_parse(argc, argv, &du_cmd_import, &a, 1, "hub input map");
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    in = stdin;

    if (a.input != NULL) {
        in = fopen(a.input, "r");
        if (in == NULL) {
            du_error("cannot read \"%s\": %s", a.input, strerror(errno));
            return DU_EXIT_FAILED;
        }
    }

    records = 0;

    if (du_is_conninfo(a.pos[0])) {
        rc = du_pg_import(a.pos[0], in, a.hub, a.map_size, hub, &records);

    } else {
        rc = du_import_file(a.pos[0], in, a.hub, a.map_size, hub, &records);
    }

    if (in != stdin) {
        fclose(in);
    }

    if (rc != DU_EXIT_OK) {
        return rc;
    }

    if (du_json) {
        printf("{\"hub\":");
        du_json_print_str(stdout, hub, strlen(hub));
        printf(",\"records\":%zu}\n", records);

    } else {
        printf("imported %zu records into hub \"%s\"\n", records, hub);
    }

    return DU_EXIT_OK;
}


/* delete-task-hub -------------------------------------------------------- */

static int
du_delete_hub(int argc, char **argv)
{
    int        rc, more;
    size_t     deleted, total;
    ds_str_t   hub;
    ds_env_t  *env;
    ds_txn_t  *txn;
    du_args_t  a;

    if (du_wants_help(argc, argv, &du_cmd_delete_hub)) {
        return DU_EXIT_OK;
    }

    rc = du_parse(argc, argv, &du_cmd_delete_hub, &a, 1, "hub");
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    if (a.hub == NULL) {
        return du_usage_error(&du_cmd_delete_hub, "--hub is required");
    }

    hub = du_str(a.hub);
    total = 0;

    if (du_is_conninfo(a.pos[0])) {
        rc = du_pg_delete_hub(a.pos[0], hub, &total);
        if (rc != DU_EXIT_OK) {
            return rc;
        }

        goto deleted;
    }

    rc = du_offline_open(a.pos[0], 0, 0, &env);
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    /* batches: each a transaction of its own, nginx writes in between */

    do {
        if (ds_txn_begin(env, NULL, 1, &txn) != DS_OK) {
            du_error("cannot begin a write transaction");
            ds_env_close(env);
            return DU_EXIT_UNAVAILABLE;
        }

        rc = ds_hub_delete(txn, hub, DU_DELETE_BATCH, &deleted, &more);

        if (rc == DS_OK) {
            rc = ds_txn_commit(txn);

        } else {
            du_error("deleting failed: %s", ds_txn_error(txn));
            ds_txn_abort(txn);
        }

        if (rc != DS_OK) {
            ds_env_close(env);
            du_error("hub \"%s\": %zu records deleted before the failure",
                     a.hub, total);
            return DU_EXIT_UNAVAILABLE;
        }

        total += deleted;

    } while (more);

    ds_env_close(env);

deleted:

    if (du_json) {
        printf("{\"hub\":");
        du_json_print_str(stdout, hub.data, hub.len);
        printf(",\"recordsDeleted\":%zu}\n", total);

    } else {
        printf("hub \"%s\": %zu records deleted\n", a.hub, total);
    }

    if (total == 0) {
        du_error("hub \"%s\" has no records", a.hub);
        return DU_EXIT_FAILED;
    }

    return DU_EXIT_OK;
}


/* backup, restore, compact ----------------------------------------------- */

static int
du_dir_empty_or_new(const char *dir, int *created)
{
    DIR            *d;
    struct dirent  *e;

    *created = 0;

    if (mkdir(dir, 0700) == 0) {
        *created = 1;
        return 0;
    }

    if (errno != EEXIST) {
        du_error("cannot make \"%s\": %s", dir, strerror(errno));
        return -1;
    }

    d = opendir(dir);
    if (d == NULL) {
        du_error("cannot read \"%s\": %s", dir, strerror(errno));
        return -1;
    }

    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            closedir(d);
            du_error("\"%s\" is not empty", dir);
            return 1;
        }
    }

    closedir(d);

    return 0;
}


/* ds_check of a whole store; prints the problems */

static int
du_check_dir(const char *dir, ds_check_stats_t *st)
{
    int        rc;
    ds_env_t  *env;

    rc = du_offline_open(dir, 0, 0, &env);
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    memset(st, 0, sizeof(ds_check_stats_t));
    rc = ds_check(env, du_str(""), du_problem, NULL, st);
    ds_env_close(env);

    if (rc != DS_OK) {
        du_error("\"%s\" is not consistent", dir);
        return DU_EXIT_FAILED;
    }

    return DU_EXIT_OK;
}


static long long
du_file_size(const char *dir)
{
    char         path[4096];
    struct stat  sb;

    snprintf(path, sizeof(path), "%s/data.mdb", dir);

    return stat(path, &sb) == 0 ? (long long) sb.st_size : -1;
}


static void
du_report_copy(const char *what, const char *dir, ds_check_stats_t *st)
{
    if (du_json) {
        printf("{\"%s\":", what);
        du_json_print_str(stdout, dir, strlen(dir));
        printf(",\"file_bytes\":%lld,\"instances\":%zu,\"entities\":%zu}\n",
               du_file_size(dir), st->instances, st->entities);

    } else {
        printf("%s %s: data.mdb %lld bytes, %zu instances, %zu entities, "
               "consistent\n", what, dir, du_file_size(dir), st->instances,
               st->entities);
    }
}


static int
du_backup(int argc, char **argv)
{
    int               rc, created;
    char              err[512];
    ds_env_t         *env;
    du_args_t         a;
    ds_check_stats_t  st;

    if (du_wants_help(argc, argv, &du_cmd_backup)) {
        return DU_EXIT_OK;
    }

    rc = du_parse(argc, argv, &du_cmd_backup, &a, 2, "lmdb");
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    rc = du_offline_open(a.pos[0], 0, 0, &env);
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    rc = du_dir_empty_or_new(a.pos[1], &created);
    if (rc != 0) {
        ds_env_close(env);
        return DU_EXIT_FAILED;
    }

    rc = ds_env_copy(env, a.pos[1], 1, err, sizeof(err));
    ds_env_close(env);

    if (rc != DS_OK) {
        du_error("%s", err);
        return DU_EXIT_FAILED;
    }

    rc = du_check_dir(a.pos[1], &st);
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    du_report_copy("backup", a.pos[1], &st);

    return DU_EXIT_OK;
}


/* copies src to dst through a temporary file and a rename */

static int
du_copy_file(const char *src, const char *dst)
{
    int      in, out, rc;
    char     tmp[4096], buf[65536];
    ssize_t  n;

    if ((size_t) snprintf(tmp, sizeof(tmp), "%s.restore", dst)
        >= sizeof(tmp))
    {
        return -1;
    }

    in = open(src, O_RDONLY);
    if (in == -1) {
        du_error("cannot read \"%s\": %s", src, strerror(errno));
        return -1;
    }

    out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out == -1) {
        du_error("cannot write \"%s\": %s", tmp, strerror(errno));
        close(in);
        return -1;
    }

    rc = 0;

    while ((n = read(in, buf, sizeof(buf))) > 0) {
        if (write(out, buf, (size_t) n) != n) {
            rc = -1;
            break;
        }
    }

    if (n < 0 || fsync(out) != 0) {
        rc = -1;
    }

    close(in);

    if (close(out) != 0 || rc != 0 || rename(tmp, dst) != 0) {
        du_error("copying \"%s\" to \"%s\" failed: %s", src, dst,
                 strerror(errno));
        unlink(tmp);
        return -1;
    }

    return 0;
}


static int
du_restore(int argc, char **argv)
{
    int               rc;
    char              src[4096], dst[4096];
    du_args_t         a;
    struct stat       sb;
    ds_check_stats_t  st;

    if (du_wants_help(argc, argv, &du_cmd_restore)) {
        return DU_EXIT_OK;
    }

    rc = du_parse(argc, argv, &du_cmd_restore, &a, 2, "force lmdb");
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    if ((size_t) snprintf(src, sizeof(src), "%s/data.mdb", a.pos[0])
        >= sizeof(src)
        || (size_t) snprintf(dst, sizeof(dst), "%s/data.mdb", a.pos[1])
           >= sizeof(dst))
    {
        return du_usage_error(&du_cmd_restore, "a path is too long");
    }

    if (stat(src, &sb) != 0) {
        du_error("\"%s\" is not a backup: %s", a.pos[0], strerror(errno));
        return DU_EXIT_FAILED;
    }

    /* the backup itself must be sound before anything is replaced */

    rc = du_check_dir(a.pos[0], &st);
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    if (mkdir(a.pos[1], 0700) != 0 && errno != EEXIST) {
        du_error("cannot make \"%s\": %s", a.pos[1], strerror(errno));
        return DU_EXIT_UNAVAILABLE;
    }

    if (stat(dst, &sb) == 0 && !a.force) {
        du_error("\"%s\" has a store already; --force replaces it",
                 a.pos[1]);
        return DU_EXIT_FAILED;
    }

    rc = du_store_in_use(a.pos[1]);
    if (rc != 0) {
        du_error("\"%s\" is %s; stop nginx first", a.pos[1],
                 rc > 0 ? "open in another process" : "not accessible");
        return DU_EXIT_FAILED;
    }

    if (du_copy_file(src, dst) != 0) {
        return DU_EXIT_FAILED;
    }

    rc = du_check_dir(a.pos[1], &st);
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    du_report_copy("restored", a.pos[1], &st);

    return DU_EXIT_OK;
}


static int
du_compact(int argc, char **argv)
{
    int               rc, created;
    char              tmp[4000], src[4096], dst[4096], err[512];
    long long         before;
    ds_env_t         *env;
    du_args_t         a;
    ds_check_stats_t  st;

    if (du_wants_help(argc, argv, &du_cmd_compact)) {
        return DU_EXIT_OK;
    }

    rc = du_parse(argc, argv, &du_cmd_compact, &a, 1, "lmdb");
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    /*
     * A live nginx keeps its map of the old file: swapping the file under
     * it would lose its later writes. Only a store nobody has open.
     */

    rc = du_store_in_use(a.pos[0]);
    if (rc != 0) {
        du_error("\"%s\" is %s; stop nginx first (durable backup copies "
                 "a live store)", a.pos[0],
                 rc > 0 ? "open in another process" : "not accessible");
        return DU_EXIT_FAILED;
    }

    if ((size_t) snprintf(tmp, sizeof(tmp), "%s/compact.tmp", a.pos[0])
        >= sizeof(tmp))
    {
        return du_usage_error(&du_cmd_compact, "the path is too long");
    }

    snprintf(src, sizeof(src), "%s/data.mdb", tmp);
    snprintf(dst, sizeof(dst), "%s/data.mdb", a.pos[0]);

    before = du_file_size(a.pos[0]);

    rc = du_offline_open(a.pos[0], 0, 0, &env);
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    if (du_dir_empty_or_new(tmp, &created) != 0) {
        ds_env_close(env);
        return DU_EXIT_FAILED;
    }

    rc = ds_env_copy(env, tmp, 1, err, sizeof(err));
    ds_env_close(env);

    if (rc != DS_OK) {
        du_error("%s", err);
        unlink(src);
        rmdir(tmp);
        return DU_EXIT_FAILED;
    }

    rc = du_check_dir(tmp, &st);

    if (rc == DU_EXIT_OK && rename(src, dst) != 0) {
        du_error("cannot rename \"%s\": %s", src, strerror(errno));
        rc = DU_EXIT_FAILED;
    }

    snprintf(src, sizeof(src), "%s/lock.mdb", tmp);
    unlink(src);
    snprintf(src, sizeof(src), "%s/data.mdb", tmp);
    unlink(src);
    rmdir(tmp);

    if (rc != DU_EXIT_OK) {
        return rc;
    }

    if (du_json) {
        printf("{\"store\":");
        du_json_print_str(stdout, a.pos[0], strlen(a.pos[0]));
        printf(",\"bytes_before\":%lld,\"bytes_after\":%lld}\n", before,
               du_file_size(a.pos[0]));

    } else {
        printf("compacted %s: data.mdb %lld bytes, was %lld\n", a.pos[0],
               du_file_size(a.pos[0]), before);
    }

    return DU_EXIT_OK;
}
