
/*
 * Copyright (C) ngx_durable authors
 *
 * The store's records as answers: OrchestrationState, EntityMetadata,
 * and the failure details both of them and the history carry.
 */


#include <stdio.h>
#include <string.h>

#include "durable_grpc.h"
#include "dg_internal.h"
#include "ds_jspan.h"


int
dg_execution_out(dg_ctx_t *ctx, uint64_t execution, ds_str_t *out)
{
    char  *p;
    int    n;

    p = dgi_alloc(ctx->mem, 24);
    if (p == NULL) {
        return dg_status_set(&ctx->status, DG_RESOURCE_EXHAUSTED,
                             "out of memory");
    }

    n = snprintf(p, 24, "%llu", (unsigned long long) execution);

    out->data = p;
    out->len = (size_t) n;

    return DG_OK;
}


OrchestrationInstance *
dgi_instance_out(dg_ctx_t *ctx, ds_str_t id, ds_str_t execution_id)
{
    OrchestrationInstance  *oi;

    oi = dgi_alloc(ctx->mem, sizeof(OrchestrationInstance));
    if (oi == NULL) {
        return NULL;
    }

    orchestration_instance__init(oi);
    oi->instanceid = dgi_bytes(id);

    if (execution_id.len) {
        oi->executionid = dgi_value_out(ctx, execution_id);
        if (oi->executionid == NULL) {
            return NULL;
        }
    }

    return oi;
}


int
dg_state_out(dg_ctx_t *ctx, ds_str_t id, const ds_instance_t *inst,
    int inputs, OrchestrationState **out)
{
    ds_str_t             exec;
    OrchestrationState  *st;

    st = dgi_alloc(ctx->mem, sizeof(OrchestrationState));
    if (st == NULL) {
        goto nomem;
    }

    orchestration_state__init(st);

    st->instanceid = dgi_bytes(id);
    st->name = dgi_bytes(inst->name);
    st->orchestrationstatus = (OrchestrationStatus) inst->status;

    st->createdtimestamp = dg_time_out(ctx, inst->created);
    st->lastupdatedtimestamp = dg_time_out(ctx, inst->updated);

    if (st->createdtimestamp == NULL || st->lastupdatedtimestamp == NULL) {
        goto nomem;
    }

    if (ds_status_is_terminal(inst->status)) {
        st->completedtimestamp = dg_time_out(ctx, inst->updated);
        if (st->completedtimestamp == NULL) {
            goto nomem;
        }
    }

    if (dg_execution_out(ctx, inst->execution, &exec) != DG_OK) {
        return ctx->status.code;
    }

    st->executionid = dgi_value_out(ctx, exec);

    /* a custom status is always sent, as the Scheduler does */

    if (inst->custom_status.len) {
        st->customstatus = dgi_value_out(ctx, inst->custom_status);
    }

    if (inst->parent_id.len) {
        st->parentinstanceid = dgi_value_out(ctx, inst->parent_id);
    }

    if (inst->status == DS_FAILED) {
        /* the reason is the output, the details are kept beside it */
        st->failuredetails = dgi_failure_out(ctx, inst->output,
                                             inst->failure);
        if (st->failuredetails == NULL) {
            goto nomem;
        }

    } else if (inputs) {
        st->output = dgi_value_out(ctx, inst->output);
    }

    if (inputs) {
        st->input = dgi_value_out(ctx, inst->input);
    }

    st->version = dgi_value_out(ctx, inst->version);

    if (inst->scheduled_start) {
        st->scheduledstarttimestamp = dg_time_out(ctx,
                                                  inst->scheduled_start);
        if (st->scheduledstarttimestamp == NULL) {
            goto nomem;
        }
    }

    if (dg_state_tags_out(ctx, inst->tags, st) != DG_OK) {
        return ctx->status.code;
    }

    if (st->executionid == NULL || ctx->nomem
        || (inst->custom_status.len && st->customstatus == NULL)
        || (inst->parent_id.len && st->parentinstanceid == NULL)
        || (inputs && inst->input.len && st->input == NULL)
        || (inputs && inst->status != DS_FAILED && inst->output.len
            && st->output == NULL))
    {
        goto nomem;
    }

    *out = st;

    return DG_OK;

nomem:

    return dg_status_set(&ctx->status, DG_RESOURCE_EXHAUSTED,
                         "out of memory");
}


/* a NUL-terminated copy of a JSON string's text (map fields are strings) */

static char *
dgi_cstr(dg_ctx_t *ctx, ds_str_t json)
{
    char    *p;
    size_t   len;

    p = dgi_alloc(ctx->mem, json.len + 1);
    if (p == NULL) {
        return NULL;
    }

    if (dgi_unescape(json, p, &len) != 0) {
        len = 0;
    }

    p[len] = '\0';

    return p;
}


/* one builder fills them all, the entry's own descriptor naming which */

int
dgi_tags_out(dg_ctx_t *ctx, ds_str_t tags,
    const ProtobufCMessageDescriptor *desc, size_t *n_out, void ***out)
{
    size_t            n, i;
    ds_str_t          k, v, kj;
    dgi_tag_entry_t  *e, **entries;
    ds_jspan_iter_t   it;

    *n_out = 0;
    *out = NULL;

    if (!ds_jspan_iter(&it, (const unsigned char *) tags.data, tags.len)) {
        return DG_OK;
    }

    for (n = 0; ds_jspan_next(&it, &k, &v); n++) {
        /* void */
    }

    if (n == 0) {
        return DG_OK;
    }

    entries = dgi_alloc(ctx->mem, n * sizeof(dgi_tag_entry_t *));
    if (entries == NULL) {
        goto nomem;
    }

    (void) ds_jspan_iter(&it, (const unsigned char *) tags.data, tags.len);

    for (i = 0; i < n && ds_jspan_next(&it, &k, &v); i++) {
        e = dgi_alloc(ctx->mem, sizeof(dgi_tag_entry_t));
        if (e == NULL) {
            goto nomem;
        }

        protobuf_c_message_init(desc, e);

        /* the key without its quotes: put them back to unescape it */
        kj.data = k.data - 1;
        kj.len = k.len + 2;

        e->key = dgi_cstr(ctx, kj);
        e->value = dgi_cstr(ctx, v);

        if (e->key == NULL || e->value == NULL) {
            goto nomem;
        }

        entries[i] = e;
    }

    *n_out = i;
    *out = (void **) entries;

    return DG_OK;

nomem:

    return dg_status_set(&ctx->status, DG_RESOURCE_EXHAUSTED,
                         "out of memory");
}


int
dg_state_tags_out(dg_ctx_t *ctx, ds_str_t tags, OrchestrationState *st)
{
    return dgi_tags_out(ctx, tags,
                        &orchestration_state__tags_entry__descriptor,
                        &st->n_tags, (void ***) &st->tags);
}


int
dg_entity_out(dg_ctx_t *ctx, const ds_entity_t *e, int state,
    EntityMetadata **out)
{
    char            *p;
    size_t           len;
    EntityMetadata  *m;

    m = dgi_alloc(ctx->mem, sizeof(EntityMetadata));
    len = e->name.len + e->key.len + 2;
    p = dgi_alloc(ctx->mem, len);

    if (m == NULL || p == NULL) {
        return dg_status_set(&ctx->status, DG_RESOURCE_EXHAUSTED,
                             "out of memory");
    }

    entity_metadata__init(m);

    p[0] = '@';
    memcpy(p + 1, e->name.data, e->name.len);
    p[e->name.len + 1] = '@';
    if (e->key.len) {
        memcpy(p + e->name.len + 2, e->key.data, e->key.len);
    }

    m->instanceid.data = (uint8_t *) p;
    m->instanceid.len = len;

    m->lastmodifiedtime = dg_time_out(ctx, e->last_op);

    if (state && e->state.len) {
        m->serializedstate = dgi_value_out(ctx, e->state);
    }

    m->lockedby = dgi_value_out(ctx, e->locked_by);

    if (m->lastmodifiedtime == NULL || ctx->nomem
        || (state && e->state.len && m->serializedstate == NULL))
    {
        return dg_status_set(&ctx->status, DG_RESOURCE_EXHAUSTED,
                             "out of memory");
    }

    *out = m;

    return DG_OK;
}
