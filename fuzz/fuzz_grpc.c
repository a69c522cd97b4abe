
/*
 * Copyright (C) ngx_durable authors
 *
 * libFuzzer target: the gRPC codec (grpc/): framing, unpacking every
 * request the service takes, the conversions of requests into the
 * store's operations, history events into messages, and completion
 * tokens.
 *
 * Input: byte 0 picks what the rest is:
 *   0      a request body: cut into pieces (sizes from byte 1) and fed
 *          to the frame reader; each whole message is unpacked as every
 *          request type and converted;
 *   1..N   one message of request type N (the table below), unpacked
 *          and converted;
 *   0xfe   JSON: ingested as the store does, then converted as a history
 *          event (the store's events are JSON objects);
 *   0xff   a completion token.
 *
 * Checked:
 *   - the reader gives out exactly the messages framed in the input,
 *     never a byte past it, and refuses a message over the limit before
 *     keeping any of it;
 *   - a conversion answers DG_OK or an error status with a message;
 *     what it answers DG_OK for is packable (every field it set is
 *     sane), and the actions of a completion pass the store's checks;
 *   - a token read back, written again and read reads the same;
 *   - percent-encoding writes exactly the length it predicts.
 * Memory is one malloc() per allocation of the codec, of the exact size
 * (AddressSanitizer sees a write past any of them, which an arena block
 * would hide), all freed after each input.
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "durable_grpc.h"


#define FUZZ_MAX_MESSAGE    65536


#define FUZZ_CHECK(cond)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fuzz_fail(__FILE__, __LINE__, #cond);                            \
        }                                                                    \
    } while (0)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


typedef struct {
    void              **blocks;
    size_t              n;
    size_t              size;
} fuzz_mem_t;


static void *
fuzz_alloc(void *data, size_t size)
{
    void        *p, **b;
    fuzz_mem_t  *m = data;

    if (m->n == m->size) {
        m->size = m->size ? m->size * 2 : 64;

        b = realloc(m->blocks, m->size * sizeof(void *));
        if (b == NULL) {
            return NULL;
        }

        m->blocks = b;
    }

    p = malloc(size ? size : 1);
    if (p == NULL) {
        return NULL;
    }

    m->blocks[m->n++] = p;

    return p;
}


static void
fuzz_free(fuzz_mem_t *m)
{
    size_t  i;

    for (i = 0; i < m->n; i++) {
        free(m->blocks[i]);
    }

    free(m->blocks);
}


static void
fuzz_fail(const char *file, int line, const char *expr)
{
    fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, expr);
    abort();
}


static const ProtobufCMessageDescriptor  *fuzz_types[] = {
    &create_instance_request__descriptor,
    &get_instance_request__descriptor,
    &raise_event_request__descriptor,
    &terminate_request__descriptor,
    &suspend_request__descriptor,
    &resume_request__descriptor,
    &rewind_instance_request__descriptor,
    &restart_instance_request__descriptor,
    &purge_instances_request__descriptor,
    &query_instances_request__descriptor,
    &list_instance_ids_request__descriptor,
    &signal_entity_request__descriptor,
    &get_entity_request__descriptor,
    &query_entities_request__descriptor,
    &orchestrator_response__descriptor,
    &activity_response__descriptor,
    &entity_batch_result__descriptor,
    &abandon_activity_task_request__descriptor,
    &abandon_orchestration_task_request__descriptor,
    &abandon_entity_task_request__descriptor,
    &get_work_items_request__descriptor,
    &stream_instance_history_request__descriptor,
    &clean_entity_storage_request__descriptor,
    &empty__descriptor,
};

#define FUZZ_TYPES  (sizeof(fuzz_types) / sizeof(fuzz_types[0]))


static void
fuzz_status(const dg_ctx_t *ctx, int rc)
{
    char  out[DG_MESSAGE_MAX * 3];

    if (rc == DG_OK) {
        return;
    }

    FUZZ_CHECK(rc == (int) ctx->status.code);
    FUZZ_CHECK(ctx->status.len > 0 && ctx->status.len < DG_MESSAGE_MAX);
    FUZZ_CHECK(dg_percent_encode(ctx->status.message, ctx->status.len, out)
               == dg_percent_encode_len(ctx->status.message,
                                        ctx->status.len));
}


static void
fuzz_packs(dg_ctx_t *ctx, const ProtobufCMessage *m)
{
    size_t    len;
    uint8_t  *out;

    FUZZ_CHECK(protobuf_c_message_check(m));
    FUZZ_CHECK(dg_pack(m, ctx->mem, &out, &len) == DG_OK);
    FUZZ_CHECK(dg_unpack(m->descriptor, out + DG_PREFIX_LEN,
                         len - DG_PREFIX_LEN, ctx->mem, NULL) != NULL);
}


static void
fuzz_convert(dg_ctx_t *ctx, const ProtobufCMessage *m)
{
    int                 rc, flag;
    ds_op_t             op;
    uint64_t            execution;
    ds_str_t            prefix;
    dg_start_t          start;
    dg_purge_t          purge;
    ds_query_t          query;
    dg_list_ids_t       ids;
    ds_action_fault_t   fault;
    const void         *d = m->descriptor;

    memset(&op, 0, sizeof(op));
    rc = DG_OK;

    if (d == &create_instance_request__descriptor) {
        rc = dg_start_in(ctx, (const CreateInstanceRequest *) m, &op,
                         &start);
        if (rc == DG_OK) {
            FUZZ_CHECK(start.tags.len == 0 || start.tags.data[0] == '{');
        }

    } else if (d == &get_instance_request__descriptor) {
        rc = dg_get_in(ctx, (const GetInstanceRequest *) m, &op, &flag);

    } else if (d == &raise_event_request__descriptor) {
        rc = dg_raise_in(ctx, (const RaiseEventRequest *) m, &op);

    } else if (d == &terminate_request__descriptor) {
        rc = dg_terminate_in(ctx, (const TerminateRequest *) m, &op, &flag);

    } else if (d == &suspend_request__descriptor) {
        rc = dg_suspend_in(ctx, (const SuspendRequest *) m, &op);

    } else if (d == &resume_request__descriptor) {
        rc = dg_resume_in(ctx, (const ResumeRequest *) m, &op);

    } else if (d == &rewind_instance_request__descriptor) {
        rc = dg_rewind_in(ctx, (const RewindInstanceRequest *) m, &op);

    } else if (d == &restart_instance_request__descriptor) {
        rc = dg_restart_in(ctx, (const RestartInstanceRequest *) m, &op,
                           &flag);

    } else if (d == &purge_instances_request__descriptor) {
        rc = dg_purge_in(ctx, (const PurgeInstancesRequest *) m, &purge);
        if (rc == DG_OK) {
            FUZZ_CHECK(purge.nids <= DG_PURGE_MAX);
        }

    } else if (d == &query_instances_request__descriptor) {
        rc = dg_query_in(ctx, (const QueryInstancesRequest *) m, &op,
                         &query, &flag);
        if (rc == DG_OK) {
            FUZZ_CHECK(query.top >= 1 && query.top <= DG_PAGE_MAX);
            FUZZ_CHECK(query.scan_budget >= query.top);
            FUZZ_CHECK(query.token.len <= DS_TOKEN_MAX);
        }

    } else if (d == &list_instance_ids_request__descriptor) {
        rc = dg_list_ids_in(ctx, (const ListInstanceIdsRequest *) m, &op,
                            &query, &ids);

    } else if (d == &signal_entity_request__descriptor) {
        rc = dg_signal_in(ctx, (const SignalEntityRequest *) m, &op);

    } else if (d == &get_entity_request__descriptor) {
        rc = dg_entity_get_in(ctx, (const GetEntityRequest *) m, &op, &flag);

    } else if (d == &query_entities_request__descriptor) {
        rc = dg_entity_query_in(ctx, (const QueryEntitiesRequest *) m, &op,
                                &flag, &prefix);

    } else if (d == &orchestrator_response__descriptor) {
        rc = dg_orchestrator_done_in(ctx, (const OrchestratorResponse *) m,
                                     &op);
        if (rc == DG_OK) {
            FUZZ_CHECK(ds_work_actions_check(op.in.work.id,
                                             op.in.work.actions,
                                             op.in.work.nactions, &fault)
                       == DS_OK);
        }

    } else if (d == &activity_response__descriptor) {
        rc = dg_activity_done_in(ctx, (const ActivityResponse *) m, &op);

    } else if (d == &entity_batch_result__descriptor) {
        rc = dg_entity_done_in(ctx, (const EntityBatchResult *) m, &op);

    } else if (d == &abandon_activity_task_request__descriptor) {
        rc = dg_abandon_in(ctx, DS_WORK_ACTIVITY,
                 ((const AbandonActivityTaskRequest *) m)->completiontoken,
                 &op);

    } else if (d == &abandon_orchestration_task_request__descriptor) {
        rc = dg_abandon_in(ctx, DS_WORK_ORCHESTRATION,
             ((const AbandonOrchestrationTaskRequest *) m)->completiontoken,
             &op);

    } else if (d == &stream_instance_history_request__descriptor) {
        rc = dg_history_in(ctx, (const StreamInstanceHistoryRequest *) m,
                           &op, &execution);

    } else if (d == &clean_entity_storage_request__descriptor) {
        rc = dg_clean_in(ctx, (const CleanEntityStorageRequest *) m, &op);

    } else if (d == &abandon_entity_task_request__descriptor) {
        rc = dg_abandon_in(ctx, DS_WORK_ENTITY,
                 ((const AbandonEntityTaskRequest *) m)->completiontoken,
                 &op);
    }

    fuzz_status(ctx, rc);
}


static void
fuzz_message(dg_ctx_t *ctx, size_t type, const uint8_t *p, size_t len)
{
    ProtobufCMessage  *m;

    m = dg_unpack(fuzz_types[type], p, len, ctx->mem, NULL);

    if (m != NULL) {
        fuzz_convert(ctx, m);
    }
}


static void
fuzz_frames(dg_ctx_t *ctx, const uint8_t *data, size_t size)
{
    int             rc;
    size_t          piece, len, t, total;
    dg_reader_t     r;
    dg_status_t     st;
    const uint8_t  *p, *end;

    if (size < 2) {
        return;
    }

    piece = (size_t) data[0] % 16 + 1;
    p = data + 1;
    end = data + size;
    total = 0;

    dg_reader_init(&r, 1024, ctx->mem);

    while (p < end) {
        len = (size_t) (end - p) < piece ? (size_t) (end - p) : piece;

        while (len) {
            rc = dg_reader_feed(&r, &p, &len);
            FUZZ_CHECK(p <= end);

            if (rc == DG_FRAME_MORE) {
                FUZZ_CHECK(len == 0);
                break;
            }

            if (rc != DG_FRAME_MESSAGE) {
                FUZZ_CHECK(dg_reader_status(&r, rc, &st) != DG_OK);
                FUZZ_CHECK(dg_reader_feed(&r, &p, &len) == rc);
                return;
            }

            FUZZ_CHECK(r.msg_len <= 1024);
            total += DG_PREFIX_LEN + r.msg_len;
            FUZZ_CHECK(total <= size - 1);

            for (t = 0; t < FUZZ_TYPES; t++) {
                fuzz_message(ctx, t, r.msg, r.msg_len);
            }
        }
    }

    FUZZ_CHECK(dg_reader_clean_end(&r) == (total == size - 1));
}


static void
fuzz_event(dg_ctx_t *ctx, const uint8_t *data, size_t size)
{
    int            rc;
    char          *json, err[128];
    size_t         len;
    ds_str_t       ev;
    dg_events_t    events;

    json = ctx->mem.alloc(ctx->mem.data, size + 1);
    if (json == NULL) {
        return;
    }

    if (ds_json_ingest((const char *) data, size, 64, json, &len, err,
                       sizeof(err)) != DS_OK
        || len == 0 || json[0] != '{')
    {
        return;
    }

    ev.data = json;
    ev.len = len;

    dg_events_init(&events, ctx);
    events.instance_id.data = "i";
    events.instance_id.len = 1;

    /* twice: the second sees the first's ids */

    rc = dg_events_add(&events, 1, ev);
    FUZZ_CHECK(rc == 0);
    rc = dg_events_add(&events, 2, ev);
    FUZZ_CHECK(rc == 0);

    fuzz_packs(ctx, &events.events[0]->base);
    fuzz_packs(ctx, &events.events[1]->base);
}


static void
fuzz_token(dg_ctx_t *ctx, const uint8_t *data, size_t size)
{
    dg_token_t           t, back;
    ProtobufCBinaryData  in, out;

    in.data = (uint8_t *) (uintptr_t) data;
    in.len = size;

    if (dg_token_in(ctx, in, &t) != DG_OK) {
        fuzz_status(ctx, ctx->status.code);
        return;
    }

    FUZZ_CHECK(dg_token_out(ctx, &t, &out) == DG_OK);

    /* unused bits of the last base64 digit may differ: compare decoded */

    FUZZ_CHECK(dg_token_in(ctx, out, &back) == DG_OK);
    FUZZ_CHECK(back.kind == t.kind && back.task == t.task);
    FUZZ_CHECK(back.id.len == t.id.len && back.key.len == t.key.len);
    FUZZ_CHECK(memcmp(back.id.data, t.id.data, t.id.len) == 0);
    FUZZ_CHECK(memcmp(back.key.data, t.key.data, t.key.len) == 0);
    FUZZ_CHECK(memcmp(back.lease, t.lease, DS_LEASE_LEN) == 0);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dg_mem_t    mem;
    dg_ctx_t    ctx;
    fuzz_mem_t  blocks;

    if (size < 1 || size > FUZZ_MAX_MESSAGE) {
        return 0;
    }

    memset(&blocks, 0, sizeof(fuzz_mem_t));
    mem.alloc = fuzz_alloc;
    mem.data = &blocks;
    dg_ctx_init(&ctx, mem, 64);

    if (data[0] == 0) {
        fuzz_frames(&ctx, data + 1, size - 1);

    } else if (data[0] <= FUZZ_TYPES) {
        fuzz_message(&ctx, data[0] - 1, data + 1, size - 1);

    } else if (data[0] == 0xfe) {
        fuzz_event(&ctx, data + 1, size - 1);

    } else if (data[0] == 0xff) {
        fuzz_token(&ctx, data + 1, size - 1);
    }

    fuzz_free(&blocks);

    return 0;
}
