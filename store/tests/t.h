/*
 * Copyright (C) ngx_durable authors
 *
 * A tiny assertion harness for the store's unit tests.
 */


#ifndef T_H
#define T_H


#include <stdio.h>
#include <string.h>

#include "durable_store.h"


extern unsigned long  t_passed;
extern unsigned long  t_failed;


void t_check(int ok, const char *file, int line, const char *expr);
void t_check_int(long long got, long long want, const char *file, int line,
    const char *expr);
void t_check_str(ds_str_t got, const char *want, const char *file, int line,
    const char *expr);

#define T(c)            t_check((c) != 0, __FILE__, __LINE__, #c)
#define T_INT(a, b)     t_check_int((long long) (a), (long long) (b),        \
                                    __FILE__, __LINE__, #a " == " #b)
#define T_STR(s, w)     t_check_str((s), (w), __FILE__, __LINE__, #s)


/* t_open_flags(): ds_env_conf_t's no_tls and reuse_reader */
#define T_NO_TLS        0x01
#define T_REUSE_READER  0x02


ds_str_t t_s(const char *s);
void *t_alloc(size_t size);
char *t_tmpdir(void);
void t_rmdir(char *dir);
ds_env_t *t_open(const char *dir, size_t map_size, ds_sync_e sync);
ds_env_t *t_open_flags(const char *dir, size_t map_size, ds_sync_e sync,
    unsigned flags);
ds_env_t *t_open_reserve(const char *dir, size_t map_size, size_t reserve);
int t_consistent(ds_env_t *env, ds_str_t hub, ds_check_stats_t *stats);
/* the counts and their mark dropped: a store made before the counts */
void t_drop_counts(ds_env_t *env);
int t_put(ds_env_t *env, ds_str_t hub, const char *id, ds_status_e status,
    int64_t created);


void t_env(void);
void t_instance(void);
void t_seq(void);
void t_query(void);
void t_ops(void);
void t_time(void);
void t_json(void);
void t_names(void);
void t_op_data(void);
void t_claim_notes(void);
void t_route(void);
void t_jspan(void);
void t_store(void);


#endif /* T_H */
