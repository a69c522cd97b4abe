/*
 * Copyright (C) ngx_durable authors
 *
 * Helpers for the worker protocol tests: claims and completions in their
 * own transactions, with what the items carried copied out.
 */


#ifndef T_WORK_H
#define T_WORK_H


#include "t.h"


#define T_ITEMS     8
#define T_TEXT      4096


typedef struct {
    size_t          n;
    char            id[T_ITEMS][64];
    uint64_t        upto[T_ITEMS];
    int64_t         expires[T_ITEMS];
    ds_status_e     status[T_ITEMS];
    char            input[T_ITEMS][256];
    char            history[T_ITEMS][T_TEXT];   /* EventTypes, "," */
    char            messages[T_ITEMS][T_TEXT];  /* texts, "\n" */
    size_t          nmessages[T_ITEMS];
} t_orch_t;


typedef struct {
    size_t          n;
    char            id[T_ITEMS][64];
    int64_t         task_id[T_ITEMS];
    uint64_t        execution[T_ITEMS];
    char            name[T_ITEMS][64];
    char            input[T_ITEMS][256];
    char            version[T_ITEMS][64];
    char            tags[T_ITEMS][128];
    int64_t         expires[T_ITEMS];
} t_act_t;


typedef struct {
    size_t          n;
    char            name[T_ITEMS][64];
    char            key[T_ITEMS][64];
    char            state[T_ITEMS][256];
    char            ops[T_ITEMS][T_TEXT];      /* texts, "\n" */
    size_t          nops[T_ITEMS];
    uint64_t        upto[T_ITEMS];
} t_ent_t;


const uint8_t *t_tok(int n);
int t_claim_o(ds_env_t *env, ds_str_t hub, int64_t now, int64_t lease_us,
    size_t max, int tok, t_orch_t *o);
int t_complete_o(ds_env_t *env, ds_str_t hub, const char *id, int tok,
    const ds_action_t *a, size_t n, int64_t now, ds_status_e *status);
int t_claim_a(ds_env_t *env, ds_str_t hub, int64_t now, int64_t lease_us,
    size_t max, int tok, t_act_t *a);
int t_complete_a(ds_env_t *env, ds_str_t hub, const char *id,
    int64_t task_id, int tok, int failed, const char *result, int64_t now);
int t_claim_e(ds_env_t *env, ds_str_t hub, int64_t now, int64_t lease_us,
    size_t max, int tok, t_ent_t *e);
typedef struct {
    size_t          n;
    char            id[T_ITEMS][64];
    char            name[T_ITEMS][64];
    size_t          skipped;
    int             more;
} t_named_t;

int t_claim_named(ds_env_t *env, ds_str_t hub, ds_work_kind_e kind,
    int64_t now, size_t max, int tok, const char *const *names,
    t_named_t *c);
int t_run(ds_env_t *env, int (*op)(ds_txn_t *txn, void *data), void *data);
void t_history_types(ds_env_t *env, ds_str_t hub, const char *id, char *out,
    size_t size);
size_t t_history_text(ds_env_t *env, ds_str_t hub, const char *id,
    char *out, size_t size);
size_t t_inbox_count(ds_env_t *env, ds_str_t hub, const char *id);
int t_get(ds_env_t *env, ds_str_t hub, const char *id, ds_instance_t *inst,
    char *output, size_t size);
int t_start(ds_env_t *env, ds_str_t hub, const char *id, const char *name,
    const char *input, int64_t now);
int t_downgrade(ds_env_t *env, int db, const unsigned char *key,
    size_t klen, size_t at, int version);
ds_action_t t_act(ds_action_type_e type, int64_t id, const char *name,
    const char *input);
ds_op_t t_op_of(ds_op_type_e type, const char *id, int64_t now);


void t_work(void);
void t_entity(void);
void t_sdk(void);
void t_hub(void);
void t_counts(void);


#endif /* T_WORK_H */
