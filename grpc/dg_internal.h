
/*
 * Copyright (C) ngx_durable authors
 *
 * The codec's private helpers (dgi_): shared by its files, not exported
 * by name to anybody else (util/check-grpc-exports.sh).
 */


#ifndef DG_INTERNAL_H
#define DG_INTERNAL_H


#include "durable_grpc.h"


typedef struct {
    ProtobufCAllocator  allocator;
    dg_mem_t            mem;
    int                 nomem;
} dgi_pb_mem_t;


void *dgi_alloc(dg_mem_t mem, size_t size);
void dgi_pb_allocator(dgi_pb_mem_t *pm, dg_mem_t mem);


/* a bytes field as the store's string, and back */
ds_str_t dgi_str(ProtobufCBinaryData b);
ProtobufCBinaryData dgi_bytes(ds_str_t s);

/* JSON text in a StringValue (NULL: null) validated and minified */
int dgi_json_in(dg_ctx_t *ctx, const StringValue *v, const char *field,
    ds_str_t *out);
/* plain text in a StringValue as a JSON string (NULL: null) */
int dgi_text_in(dg_ctx_t *ctx, const StringValue *v, ds_str_t *out);
/* a StringValue holding s, no copy; NULL for len 0 (JSON null) */
StringValue *dgi_value_out(dg_ctx_t *ctx, ds_str_t s);
/* a JSON string's text (unescaped), other JSON as it is */
int dgi_text_out(dg_ctx_t *ctx, ds_str_t json, ds_str_t *text);
/* a JSON string's text into out (json.len bytes at most); -1: not one */
int dgi_unescape(ds_str_t json, char *out, size_t *len);
/* a number member of an event */
int dgi_member_int(ds_str_t event, const char *name, int64_t *v);
/* a string member's text; 0: none */
int dgi_member_text(dg_ctx_t *ctx, ds_str_t event, const char *name,
    ds_str_t *text);
/* a member as JSON text (len 0: null or none) */
ds_str_t dgi_member(ds_str_t event, const char *name);

/* checked names and ids, for a field of a request */
int dgi_name_in(dg_ctx_t *ctx, ProtobufCBinaryData b, const char *field,
    ds_str_t *out);
int dgi_operation_in(dg_ctx_t *ctx, ProtobufCBinaryData b,
    const char *field, ds_str_t *out);
int dgi_id_in(dg_ctx_t *ctx, ProtobufCBinaryData b, const char *field,
    ds_str_t *out);

/* the statuses of a repeated OrchestrationStatus field as a mask */
int dgi_status_mask(dg_ctx_t *ctx, size_t n, const OrchestrationStatus *s,
    const char *field, unsigned *mask);

/*
 * Failure details (dg_failure.c): into the store's reason (a JSON string)
 * and details (JSON, docs/grpc.md), and back out of them
 */
int dgi_failure_in(dg_ctx_t *ctx, const TaskFailureDetails *fd,
    ds_str_t *reason, ds_str_t *details);
TaskFailureDetails *dgi_failure_out(dg_ctx_t *ctx, ds_str_t reason,
    ds_str_t details);
/* an OrchestrationInstance of id and execution id */
OrchestrationInstance *dgi_instance_out(dg_ctx_t *ctx, ds_str_t id,
    ds_str_t execution_id);

/*
 * protoc-c gives each map<string, string> a message of its own, all laid
 * out alike: the base, then key and value.
 */
typedef struct {
    ProtobufCMessage    base;
    char               *key;
    char               *value;
} dgi_tag_entry_t;

/* the entries of a map<string, string> as a compact JSON object */
int dgi_tags_in(dg_ctx_t *ctx, size_t n, void **entries, ds_str_t *out);
/*
 * A JSON object of strings into the entries of a map<string, string>
 * field whose entry message is desc (len 0, or no object: none).
 */
int dgi_tags_out(dg_ctx_t *ctx, ds_str_t tags,
    const ProtobufCMessageDescriptor *desc, size_t *n, void ***entries);


#endif /* DG_INTERNAL_H */
