
/*
 * Copyright (C) ngx_durable authors
 *
 * The assertion harness of the codec's unit tests.
 */


#ifndef DG_T_H
#define DG_T_H


#include <stdio.h>
#include <string.h>

#include "durable_grpc.h"


extern unsigned long  t_passed;
extern unsigned long  t_failed;
extern dg_arena_t     t_arena;     /* the tests' own messages */
extern dg_mem_t       t_mem;       /* the codec's: exact mallocs */


void t_check(int ok, const char *file, int line, const char *expr);
void t_check_int(long long got, long long want, const char *file, int line,
    const char *expr);
void t_check_mem(const void *got, size_t got_len, const char *want,
    const char *file, int line, const char *expr);

#define T(c)            t_check((c) != 0, __FILE__, __LINE__, #c)
#define T_INT(a, b)     t_check_int((long long) (a), (long long) (b),        \
                                    __FILE__, __LINE__, #a " == " #b)
/* a (pointer, length) pair, a ds_str_t or a ProtobufCBinaryData */
#define T_BYTES(p, n, w) t_check_mem((p), (n), (w), __FILE__, __LINE__, #p)
#define T_STR(s, w)     T_BYTES((s).data, (s).len, (w))

ds_str_t t_s(const char *s);
ProtobufCBinaryData t_b(const char *s);


void t_frame(void);
void t_status(void);
void t_request(void);
void t_history(void);
void t_work(void);


#endif /* DG_T_H */
