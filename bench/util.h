/*
 * Copyright (C) ngx_durable authors
 *
 * What the bench helpers (the C files of bench/) share. Include it after
 * the system headers: clock_gettime() needs the file's _POSIX_C_SOURCE
 * (or _GNU_SOURCE), defined before any of them.
 */


#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H


#include <time.h>


/* seconds on the monotonic clock, for the lengths of runs and calls */

static inline double
now_s(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}


#endif /* BENCH_UTIL_H */
