
/*
 * Copyright (C) ngx_durable authors
 *
 * durable: the operators' command-line tool. Commands of two kinds: online
 * ones talk to a running nginx over the HTTP API (durable_online.c),
 * offline ones open a store directly (durable_offline.c, durable_check.c);
 * schema creates and upgrades a PostgreSQL store's (durable_schema.c).
 * Plain C99 over the store library, jansson, LMDB, libcurl and libpq.
 */


#ifndef DURABLE_H
#define DURABLE_H


#include <stddef.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "durable_store.h"


/* exit codes: scripts rely on them (durable(1), EXIT STATUS) */
#define DU_EXIT_OK          0   /* done */
#define DU_EXIT_FAILED      1   /* refused, not found, inconsistent */
#define DU_EXIT_USAGE       2   /* bad command line */
#define DU_EXIT_UNAVAILABLE 3   /* store or server unreachable, I/O */
#define DU_EXIT_KEY         4   /* the server refused the key (401) */
#define DU_EXIT_BUSY        5   /* tables in use: nothing done, retry */

#define DU_DEFAULT_HUB      "DurableFunctionsHub"


typedef struct {
    const char         *name;
    int               (*run)(int argc, char **argv);
    const char         *summary;
    const char         *usage;      /* options, one per line */
} du_command_t;


/* durable.c: options and output shared by the commands */
extern int  du_json;                /* --json given */

int du_usage_error(const du_command_t *cmd, const char *fmt, ...);
int du_wants_help(int argc, char **argv, const du_command_t *cmd);
int du_opt(int argc, char **argv, int *i, const char *name,
    const char **value);
int du_flag(char **argv, int i, const char *name);
int du_size(const char *s, size_t *v);
void du_error(const char *fmt, ...);
void du_json_print_str(FILE *f, const char *s, size_t len);
void du_print_str(FILE *f, ds_str_t s);
void du_print_text(FILE *f, const char *s, int width);
size_t du_base64_encode(const unsigned char *in, size_t len, char *out);
int du_base64_decode(const char *in, size_t len, unsigned char *out,
    size_t *out_len);


/* durable_check.c */
int du_check(int argc, char **argv);
int du_check_legacy(int argc, char **argv);
extern const du_command_t  du_cmd_check;

/* durable_offline.c */
int du_is_conninfo(const char *store);
int du_offline_open(const char *store, size_t map_size, int create,
    ds_env_t **env);
int du_store_missing(const char *dir);
int du_store_in_use(const char *dir);
int du_hub_exists(ds_txn_t *txn, ds_str_t hub);
void du_no_hub(const char *prog, ds_str_t hub);
int du_export_env(ds_env_t *env, ds_str_t hub, FILE *out, size_t *records,
    int need_hub);
int du_import_file(const char *dir, FILE *in, const char *hub_opt,
    size_t map_size, char *hub_buf, size_t *records);
extern const du_command_t  du_cmd_stats;
extern const du_command_t  du_cmd_export;
extern const du_command_t  du_cmd_import;
extern const du_command_t  du_cmd_delete_hub;
extern const du_command_t  du_cmd_backup;
extern const du_command_t  du_cmd_restore;
extern const du_command_t  du_cmd_compact;

/* durable_pg.c: the offline commands on a PostgreSQL store; each prints
   its errors and returns the exit code */
int du_pg_connect(const char *conninfo, PGconn **conn);
int du_pg_check(PGconn *conn, const char *hub, ds_check_cb cb, void *data,
    ds_check_stats_t *st);
int du_pg_stats(const char *conninfo, const char *hub);
int du_pg_export(const char *conninfo, ds_str_t hub, FILE *out,
    size_t *records);
int du_pg_import(const char *conninfo, FILE *in, const char *hub_opt,
    size_t map_size, char *hub_buf, size_t *records);
int du_pg_delete_hub(const char *conninfo, ds_str_t hub, size_t *deleted);

/* durable_schema.c, and the SQL of store/pg that store/pg/embed.sh
   writes into the build: numbered migrations ending with a NULL name */
typedef struct {
    int                 version;
    const char         *name;
    const char *const  *lines;
} du_pg_sql_t;

extern const du_pg_sql_t   du_pg_migrations[];
extern const du_pg_sql_t   du_pg_functions;
extern const du_command_t  du_cmd_schema;

/* durable_online.c */
extern const du_command_t  du_cmd_start_new;
extern const du_command_t  du_cmd_get_status;
extern const du_command_t  du_cmd_get_history;
extern const du_command_t  du_cmd_get_instances;
extern const du_command_t  du_cmd_raise_event;
extern const du_command_t  du_cmd_terminate;
extern const du_command_t  du_cmd_suspend;
extern const du_command_t  du_cmd_resume;
extern const du_command_t  du_cmd_rewind;
extern const du_command_t  du_cmd_purge;


#endif /* DURABLE_H */
