
/*
 * Copyright (C) ngx_durable authors
 *
 * The arena: malloc()ed blocks freed together, and the allocators that
 * protobuf-c is handed (frees are no-ops: the owner frees all at once).
 */


#include <stdlib.h>

#include "durable_grpc.h"
#include "dg_internal.h"


#define DG_ARENA_BLOCK      8192
#define DG_ALIGN            16


struct dg_arena_block_s {
    dg_arena_block_t   *next;
    size_t              size;
    size_t              used;
    /* aligned data follows */
};


#define DG_HEAD                                                              \
    ((sizeof(dg_arena_block_t) + DG_ALIGN - 1) & ~(size_t) (DG_ALIGN - 1))
#define dg_block_data(b)    ((uint8_t *) (b) + DG_HEAD)


static void *dgi_pb_alloc(void *data, size_t size);
static void dgi_pb_free(void *data, void *p);


void
dg_arena_init(dg_arena_t *a)
{
    a->blocks = NULL;
    a->used = 0;
}


void *
dg_arena_alloc(void *arena, size_t size)
{
    size_t             want;
    uint8_t           *p;
    dg_arena_t        *a = arena;
    dg_arena_block_t  *b;

    if (size > (size_t) -1 - DG_ALIGN) {
        return NULL;
    }

    size = (size + DG_ALIGN - 1) & ~(size_t) (DG_ALIGN - 1);

    if (size == 0) {
        size = DG_ALIGN;
    }

    b = a->blocks;

    if (b == NULL || b->size - b->used < size) {
        want = size > DG_ARENA_BLOCK / 4 ? size : DG_ARENA_BLOCK;

        if (want > (size_t) -1 - DG_HEAD) {
            return NULL;
        }

        b = malloc(DG_HEAD + want);
        if (b == NULL) {
            return NULL;
        }

        b->size = want;
        b->used = 0;

        /* a large block goes behind the current one, which keeps room */

        if (a->blocks != NULL && want != DG_ARENA_BLOCK) {
            b->next = a->blocks->next;
            a->blocks->next = b;

        } else {
            b->next = a->blocks;
            a->blocks = b;
        }
    }

    p = dg_block_data(b) + b->used;
    b->used += size;
    a->used += size;

    return p;
}


void
dg_arena_free(dg_arena_t *a)
{
    dg_arena_block_t  *b, *next;

    for (b = a->blocks; b != NULL; b = next) {
        next = b->next;
        free(b);
    }

    dg_arena_init(a);
}


dg_mem_t
dg_arena_mem(dg_arena_t *a)
{
    dg_mem_t  m;

    m.alloc = dg_arena_alloc;
    m.data = a;

    return m;
}


void *
dgi_alloc(dg_mem_t mem, size_t size)
{
    return mem.alloc(mem.data, size);
}


void
dgi_pb_allocator(dgi_pb_mem_t *pm, dg_mem_t mem)
{
    pm->mem = mem;
    pm->nomem = 0;
    pm->allocator.alloc = dgi_pb_alloc;
    pm->allocator.free = dgi_pb_free;
    pm->allocator.allocator_data = pm;
}


static void *
dgi_pb_alloc(void *data, size_t size)
{
    void          *p;
    dgi_pb_mem_t  *pm = data;

    p = pm->mem.alloc(pm->mem.data, size);

    if (p == NULL) {
        pm->nomem = 1;
    }

    return p;
}


static void
dgi_pb_free(void *data, void *p)
{
    (void) data;
    (void) p;
}
