
/*
 * Copyright (C) ngx_durable authors
 *
 * libFuzzer target: ISO 8601 parsing and the two output formats.
 *
 * Input: the text to parse; its first 8 bytes, when there are 8, are also
 * formatted as a time in µs.
 *
 * Checked: ds_time_parse() accepts only text of the documented shape
 * (digits where digits go); what it accepts inside 0000-01-01 ..
 * 9999-12-31 formats with ds_time_format_frac() and parses back to the
 * same µs, and ds_time_format_s() to the same second; outside, the
 * output is clamped to the first or last representable time. Both
 * formatters write their documented length plus a NUL, into buffers of
 * exactly that size, for any int64_t.
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "durable_store.h"


#define FUZZ_US         1000000
#define FUZZ_MIN_US     (-62167219200LL * FUZZ_US)  /* 0000-01-01T00:00Z */
#define FUZZ_MAX_US     (253402300800LL * FUZZ_US - 1)


#define FUZZ_CHECK(cond)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fuzz_fail(__FILE__, __LINE__, #cond);                            \
        }                                                                    \
    } while (0)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
fuzz_fail(const char *file, int line, const char *expr)
{
    fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, expr);
    abort();
}


static int64_t
fuzz_floor_s(int64_t us)
{
    int64_t  s;

    s = us / FUZZ_US;

    if (us % FUZZ_US < 0) {
        s--;
    }

    return s * FUZZ_US;
}


/* formats us both ways into exact-size buffers; checks the shapes */

static void
fuzz_format(int64_t us)
{
    char     *s, *f;
    size_t    n, m;
    int64_t   back, clamped;

    s = malloc(DS_TIME_S_LEN + 1);
    f = malloc(DS_TIME_FRAC_LEN + 1);
    if (s == NULL || f == NULL) {
        abort();
    }

    n = ds_time_format_s(us, s);
    FUZZ_CHECK(n == DS_TIME_S_LEN && strlen(s) == n);

    m = ds_time_format_frac(us, f);
    FUZZ_CHECK(m >= DS_TIME_S_LEN && m <= DS_TIME_FRAC_LEN
               && strlen(f) == m);
    FUZZ_CHECK(m == DS_TIME_S_LEN || (f[19] == '.' && f[m - 2] != '0'));

    /* both share the date and time of day */
    FUZZ_CHECK(memcmp(s, f, 19) == 0 && f[m - 1] == 'Z');

    clamped = us < FUZZ_MIN_US ? FUZZ_MIN_US
              : us > FUZZ_MAX_US ? FUZZ_MAX_US : us;

    FUZZ_CHECK(ds_time_parse(f, m, &back) == DS_OK);
    FUZZ_CHECK(back == clamped);

    FUZZ_CHECK(ds_time_parse(s, n, &back) == DS_OK);
    FUZZ_CHECK(back == fuzz_floor_s(clamped));

    free(s);
    free(f);
}


/* the shape ds_time_parse() documents: digits, separators, Z or offset */

static int
fuzz_shape_ok(const char *p, size_t len)
{
    size_t  i;

    if (len < 10) {
        return 0;
    }

    for (i = 0; i < 10; i++) {
        if ((i == 4 || i == 7) ? p[i] != '-' : (p[i] < '0' || p[i] > '9')) {
            return 0;
        }
    }

    for (i = 10; i < len; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || strchr("Tt:.Zz+-", p[i])
              != NULL) || p[i] == '\0')
        {
            return 0;
        }
    }

    return 1;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int       rc;
    char     *in;
    size_t    i;
    int64_t   us;
    uint64_t  v;

    in = malloc(size ? size : 1);
    if (in == NULL) {
        abort();
    }

    if (size) {
        memcpy(in, data, size);
    }

    us = 0x5a5a;
    rc = ds_time_parse(in, size, &us);
    FUZZ_CHECK(rc == DS_OK || rc == DS_INVALID);

    if (rc == DS_OK) {
        FUZZ_CHECK(fuzz_shape_ok(in, size));

        /* an offset of less than a day around the years 0000-9999 */
        FUZZ_CHECK(us >= FUZZ_MIN_US - 86400LL * FUZZ_US
                   && us <= FUZZ_MAX_US + 86400LL * FUZZ_US);

        fuzz_format(us);

    } else {
        FUZZ_CHECK(us == 0x5a5a);
    }

    if (size >= 8) {
        v = 0;

        for (i = 0; i < 8; i++) {
            v = (v << 8) | data[i];
        }

        memcpy(&us, &v, sizeof(us));
        fuzz_format(us);
    }

    free(in);

    return 0;
}
