/*
 * Copyright (C) ngx_durable authors
 *
 * Times: microseconds since the epoch, UTC; ISO 8601 in and out. The civil
 * date arithmetic is done here (no timegm/mktime, no locale).
 */


#include <string.h>
#include <time.h>

#include "durable_store.h"


#define DS_US               1000000
#define DS_DAY_S            86400

/* formatting clamps to 0000-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z */
#define DS_DAYS_MIN         (-719528)
#define DS_DAYS_MAX         2932896


static int64_t ds_days_from_civil(int64_t y, unsigned m, unsigned d);
static void ds_civil_from_days(int64_t z, int64_t *y, unsigned *m,
    unsigned *d);
static int ds_digits(const char *p, size_t n, unsigned *v);
static unsigned ds_month_days(int64_t y, unsigned m);
static size_t ds_time_format(int64_t us, char *buf, int frac);


/*
 * The last day formatted, per thread: the times formatted one after
 * another (a batch's events, an answer's created and updated, a
 * history's events) are mostly of one day, whose date is then copied
 * rather than worked out again (the format was 2.3% of the store
 * thread's instructions in the end-to-end run, callgrind; keeping the
 * last second instead hit one time in two).
 */
static __thread int64_t  ds_time_last_day = INT64_MIN;
static __thread char     ds_time_last_date[10];     /* "2018-03-10" */


int64_t
ds_time_now(void)
{
    struct timespec  ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        return 0;
    }

    return (int64_t) ts.tv_sec * DS_US + ts.tv_nsec / 1000;
}


int64_t
ds_time_mono(void)
{
    struct timespec  ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }

    return (int64_t) ts.tv_sec * DS_US + ts.tv_nsec / 1000;
}


int
ds_time_parse(const char *s, size_t len, int64_t *us)
{
    int          sign;
    unsigned     y, mo, d, h, mi, sec, oh, om, frac, v, n;
    int64_t      t;
    const char  *p, *end;

    p = s;
    end = s + len;
    h = mi = sec = frac = 0;
    oh = om = 0;
    sign = 1;

    if (len < 10 || s[4] != '-' || s[7] != '-' || !ds_digits(s, 4, &y)
        || !ds_digits(s + 5, 2, &mo) || !ds_digits(s + 8, 2, &d))
    {
        return DS_INVALID;
    }

    p += 10;

    if (mo < 1 || mo > 12 || d < 1 || d > ds_month_days(y, mo)) {
        return DS_INVALID;
    }

    if (p < end) {
        if (*p != 'T' && *p != 't') {
            return DS_INVALID;
        }

        p++;

        if (end - p < 5 || p[2] != ':' || !ds_digits(p, 2, &h)
            || !ds_digits(p + 3, 2, &mi) || h > 23 || mi > 59)
        {
            return DS_INVALID;
        }

        p += 5;

        if (p < end && *p == ':') {
            if (end - p < 3 || !ds_digits(p + 1, 2, &sec) || sec > 59) {
                return DS_INVALID;
            }

            p += 3;

            if (p < end && *p == '.') {
                p++;

                /* keep microseconds, truncate the rest */
                for (n = 0; p < end && *p >= '0' && *p <= '9'; n++, p++) {
                    if (n < 6) {
                        frac = frac * 10 + (unsigned) (*p - '0');
                    }
                }

                if (n < 1 || n > 9) {
                    return DS_INVALID;
                }

                for ( /* void */ ; n < 6; n++) {
                    frac *= 10;
                }
            }
        }

        if (p < end) {
            if (*p == 'Z' || *p == 'z') {
                p++;

            } else if (*p == '+' || *p == '-') {
                sign = (*p == '-') ? -1 : 1;
                p++;

                if (end - p < 2 || !ds_digits(p, 2, &oh)) {
                    return DS_INVALID;
                }

                p += 2;

                if (p < end && *p == ':') {
                    p++;
                }

                if (end - p < 2 || !ds_digits(p, 2, &om) || oh > 23
                    || om > 59)
                {
                    return DS_INVALID;
                }

                p += 2;

            } else {
                return DS_INVALID;
            }
        }
    }

    if (p != end) {
        return DS_INVALID;
    }

    v = (h * 60 + mi) * 60 + sec;

    t = ds_days_from_civil(y, mo, d) * DS_DAY_S + v
        - sign * (int64_t) ((oh * 60 + om) * 60);

    /*
     * an offset may carry the instant out of the years 0000 to 9999,
     * which the formatter clamps: such a time would fire (or filter) at
     * one instant and read as another
     */

    if (t < ds_days_from_civil(0, 1, 1) * DS_DAY_S
        || t >= ds_days_from_civil(10000, 1, 1) * DS_DAY_S)
    {
        return DS_INVALID;
    }

    *us = t * DS_US + frac;

    return DS_OK;
}


/*
 * A time given as a filter's bound (ds_query_t, the entity list's from
 * and to), where 0 means "no bound": a bound of exactly the epoch moves
 * one microsecond inwards, so that it narrows the filter as asked
 * instead of opening it. Only something made at that very instant is
 * then left out; nothing outside the bound is ever matched (a purge
 * deletes no more than asked).
 */

int64_t
ds_query_bound(int64_t us, int upper)
{
    if (us != 0) {
        return us;
    }

    return upper ? -1 : 1;
}


size_t
ds_time_format_s(int64_t us, char *buf)
{
    return ds_time_format(us, buf, 0);
}


size_t
ds_time_format_frac(int64_t us, char *buf)
{
    return ds_time_format(us, buf, 1);
}


static size_t
ds_time_format(int64_t us, char *buf, int frac)
{
    int       i;
    char     *p;
    int64_t   days, secs, y, rest;
    unsigned  m, d, f;

    /* floor division: negative times round toward the past */
    secs = us / DS_US;
    rest = us % DS_US;

    if (rest < 0) {
        secs--;
        rest += DS_US;
    }

    days = secs / DS_DAY_S;
    secs %= DS_DAY_S;

    if (secs < 0) {
        days--;
        secs += DS_DAY_S;
    }

    if (days < DS_DAYS_MIN) {
        days = DS_DAYS_MIN;
        secs = 0;
        rest = 0;

    } else if (days > DS_DAYS_MAX) {
        days = DS_DAYS_MAX;
        secs = DS_DAY_S - 1;
        rest = DS_US - 1;
    }

    p = buf;

    if (days == ds_time_last_day) {
        memcpy(p, ds_time_last_date, 10);
        p += 10;
        goto time_of_day;
    }

    ds_civil_from_days(days, &y, &m, &d);

    *p++ = (char) ('0' + y / 1000);
    *p++ = (char) ('0' + y / 100 % 10);
    *p++ = (char) ('0' + y / 10 % 10);
    *p++ = (char) ('0' + y % 10);
    *p++ = '-';
    *p++ = (char) ('0' + m / 10);
    *p++ = (char) ('0' + m % 10);
    *p++ = '-';
    *p++ = (char) ('0' + d / 10);
    *p++ = (char) ('0' + d % 10);

    memcpy(ds_time_last_date, buf, 10);
    ds_time_last_day = days;

time_of_day:

    *p++ = 'T';
    *p++ = (char) ('0' + secs / 36000);
    *p++ = (char) ('0' + secs / 3600 % 10);
    *p++ = ':';
    *p++ = (char) ('0' + secs % 3600 / 600);
    *p++ = (char) ('0' + secs % 3600 / 60 % 10);
    *p++ = ':';
    *p++ = (char) ('0' + secs % 60 / 10);
    *p++ = (char) ('0' + secs % 10);

    if (frac && rest) {
        /* .NET "FFFFFFF": 7 digits of 100 ns, trailing zeros dropped */
        f = (unsigned) rest * 10;
        *p++ = '.';

        for (i = 6; i >= 0; i--) {
            p[i] = (char) ('0' + f % 10);
            f /= 10;
        }

        p += 7;

        while (p[-1] == '0') {
            p--;
        }
    }

    *p++ = 'Z';
    *p = '\0';

    return (size_t) (p - buf);
}


/* the caller has checked that n bytes are there */

static int
ds_digits(const char *p, size_t n, unsigned *v)
{
    size_t  i;

    *v = 0;

    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return 0;
        }

        *v = *v * 10 + (unsigned) (p[i] - '0');
    }

    return 1;
}


static unsigned
ds_month_days(int64_t y, unsigned m)
{
    static const unsigned  days[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) {
        return 29;
    }

    return days[m - 1];
}


/* Howard Hinnant's days_from_civil / civil_from_days */

static int64_t
ds_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t  era, yoe, doy, doe;

    y -= (m <= 2);
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}


static void
ds_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t  era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (unsigned) (doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned) (mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}
