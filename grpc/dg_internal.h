
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


#endif /* DG_INTERNAL_H */
