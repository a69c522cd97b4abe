
/*
 * Copyright (C) ngx_durable authors
 */


#include <stdlib.h>

#include "t.h"


unsigned long  t_passed;
unsigned long  t_failed;
dg_arena_t     t_arena;
dg_mem_t       t_mem;


/*
 * The codec's memory in the tests: one malloc() per allocation, of the
 * exact size, so that the sanitizers see a write past any of them (in an
 * arena's block it would go unnoticed). Freed at the end of each suite.
 */

static void   **t_blocks;
static size_t   t_nblocks, t_size;


static void *
t_exact_alloc(void *data, size_t size)
{
    void   *p, **b;

    (void) data;

    if (t_nblocks == t_size) {
        t_size = t_size ? t_size * 2 : 256;

        b = realloc(t_blocks, t_size * sizeof(void *));
        if (b == NULL) {
            return NULL;
        }

        t_blocks = b;
    }

    p = malloc(size ? size : 1);
    if (p == NULL) {
        return NULL;
    }

    t_blocks[t_nblocks++] = p;

    return p;
}


static void
t_exact_free(void)
{
    size_t  i;

    for (i = 0; i < t_nblocks; i++) {
        free(t_blocks[i]);
    }

    free(t_blocks);
    t_blocks = NULL;
    t_nblocks = 0;
    t_size = 0;
}


static const struct {
    const char  *name;
    void       (*run)(void);
} t_suites[] = {
    { "frame", t_frame },
    { "status", t_status },
    { "request", t_request },
    { "history", t_history },
    { "work", t_work },
};


int
main(int argc, char **argv)
{
    size_t         i;
    unsigned long  before;

    for (i = 0; i < sizeof(t_suites) / sizeof(t_suites[0]); i++) {
        if (argc > 1 && strcmp(argv[1], t_suites[i].name) != 0) {
            continue;
        }

        dg_arena_init(&t_arena);
        t_mem.alloc = t_exact_alloc;
        t_mem.data = NULL;

        before = t_failed;
        t_suites[i].run();
        printf("%-10s %s\n", t_suites[i].name,
               t_failed == before ? "ok" : "FAILED");

        dg_arena_free(&t_arena);
        t_exact_free();
    }

    printf("%lu passed, %lu failed\n", t_passed, t_failed);

    return t_failed ? 1 : 0;
}


void
t_check(int ok, const char *file, int line, const char *expr)
{
    if (ok) {
        t_passed++;
        return;
    }

    t_failed++;
    fprintf(stderr, "FAIL %s:%d: %s\n", file, line, expr);
}


void
t_check_int(long long got, long long want, const char *file, int line,
    const char *expr)
{
    if (got == want) {
        t_passed++;
        return;
    }

    t_failed++;
    fprintf(stderr, "FAIL %s:%d: %s: got %lld, want %lld\n", file, line,
            expr, got, want);
}


void
t_check_mem(const void *got, size_t got_len, const char *want,
    const char *file, int line, const char *expr)
{
    size_t  n;

    n = strlen(want);

    if (got_len == n && (n == 0 || memcmp(got, want, n) == 0)) {
        t_passed++;
        return;
    }

    t_failed++;
    fprintf(stderr, "FAIL %s:%d: %s: got \"%.*s\", want \"%s\"\n", file,
            line, expr, (int) got_len, got_len ? (const char *) got : "",
            want);
}


ds_str_t
t_s(const char *s)
{
    ds_str_t  r;

    r.data = s;
    r.len = strlen(s);

    return r;
}


ProtobufCBinaryData
t_b(const char *s)
{
    ProtobufCBinaryData  b;

    b.data = (uint8_t *) s;
    b.len = strlen(s);

    return b;
}
