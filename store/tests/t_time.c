/*
 * Copyright (C) ngx_durable authors
 *
 * Status names and times.
 */


#include "t.h"


#define T_D     1520640000LL        /* 2018-03-10T00:00:00Z, seconds */


static void t_statuses(void);
static void t_time_parse(void);
static void t_time_format(void);
static void t_query_bound(void);
static void t_time_range(void);
static int64_t t_parse(const char *s, int *rc);


void
t_time(void)
{
    t_statuses();
    t_time_parse();
    t_time_format();
    t_query_bound();
    t_time_range();
}


static void
t_statuses(void)
{
    int          i;
    const char  *bad[] = {
        "", " Running", "Running ", "Runnin", "Runningg", "Unknown", "0",
        "Continued As New"
    };

    T(strcmp(ds_status_name(DS_RUNNING), "Running") == 0);
    T(strcmp(ds_status_name(DS_COMPLETED), "Completed") == 0);
    T(strcmp(ds_status_name(DS_CONTINUED_AS_NEW), "ContinuedAsNew") == 0);
    T(strcmp(ds_status_name(DS_FAILED), "Failed") == 0);
    T(strcmp(ds_status_name(DS_CANCELED), "Canceled") == 0);
    T(strcmp(ds_status_name(DS_TERMINATED), "Terminated") == 0);
    T(strcmp(ds_status_name(DS_PENDING), "Pending") == 0);
    T(strcmp(ds_status_name(DS_SUSPENDED), "Suspended") == 0);

    for (i = 0; i < DS_STATUS_COUNT; i++) {
        T_INT(ds_status_parse(ds_status_name(i),
                              strlen(ds_status_name(i))), i);
    }

    T_INT(ds_status_parse("running", 7), DS_RUNNING);
    T_INT(ds_status_parse("RUNNING", 7), DS_RUNNING);
    T_INT(ds_status_parse("continuedasnew", 14), DS_CONTINUED_AS_NEW);
    T_INT(ds_status_parse("sUsPeNdEd", 9), DS_SUSPENDED);
    T_INT(ds_status_parse("Runningx", 7), DS_RUNNING);

    for (i = 0; i < (int) (sizeof(bad) / sizeof(bad[0])); i++) {
        T_INT(ds_status_parse(bad[i], strlen(bad[i])), -1);
    }

    T(!ds_status_is_terminal(DS_RUNNING));
    T(!ds_status_is_terminal(DS_PENDING));
    T(!ds_status_is_terminal(DS_SUSPENDED));
    T(!ds_status_is_terminal(DS_CONTINUED_AS_NEW));
    T(ds_status_is_terminal(DS_COMPLETED));
    T(ds_status_is_terminal(DS_FAILED));
    T(ds_status_is_terminal(DS_CANCELED));
    T(ds_status_is_terminal(DS_TERMINATED));
}


static void
t_time_parse(void)
{
    int          i, rc;
    const char  *bad[] = {
        "", "2018", "2018-3-10", "2018-03-1", "2018-03-10T",
        "2018-03-10T13", "2018-03-10T13:5", "2018-03-10T13:57:",
        "2018-03-10T13:57:3", "2018-03-10T13:57:31.",
        "2018-03-10T13:57:31.1234567890", "2018-03-10T13:57:31Zx",
        "2018-03-10 13:57:31", " 2018-03-10", "2018-03-10 ",
        "2018-03-10T13:57:31+2", "2018-03-10T13:57:31+02:0",
        "2018-03-10T13:57:31+0200x", "2018-03-10T13:57:31+24:00",
        "2018-03-10T13:57:31+02:60", "2018-03-10T13:57:31+",
        "2018-03-10Z", "2018-03-10T13:57.5", "+2018-03-10", "2018/03/10",
        "2018-03-10T24:00", "2018-03-10T23:60", "2018-03-10T23:59:60",
        "2018-13-01", "2018-00-10", "2018-01-00", "2018-01-32",
        "2018-04-31", "2019-02-29", "1900-02-29", "2018-03-10T13:57:31.5.",
        "2018-03-10T13:57:31GMT", "2018-03-10x", "abcd-ef-gh"
    };

    T_INT(t_parse("2018-03-10T13:57:31Z", &rc), 1520690251000000LL);
    T_INT(rc, DS_OK);
    T_INT(t_parse("2018-03-10t13:57:31z", &rc), 1520690251000000LL);
    T_INT(t_parse("2018-03-10T13:57:31", &rc), 1520690251000000LL);
    T_INT(t_parse("2018-03-10T23:59Z", &rc), (T_D + 86340) * 1000000);
    T_INT(t_parse("2018-03-10T23:59", &rc), (T_D + 86340) * 1000000);
    T_INT(t_parse("2018-03-10", &rc), T_D * 1000000);
    T_INT(t_parse("2018-03-10T13:57:31+02:00", &rc),
          (1520690251LL - 7200) * 1000000);
    T_INT(t_parse("2018-03-10T13:57:31+0200", &rc),
          (1520690251LL - 7200) * 1000000);
    T_INT(t_parse("2018-03-10T13:57:31-01:30", &rc),
          (1520690251LL + 5400) * 1000000);
    T_INT(t_parse("2018-03-10T13:57-0130", &rc),
          (1520690220LL + 5400) * 1000000);
    T_INT(t_parse("2018-03-10T13:57:31.1Z", &rc), 1520690251100000LL);
    T_INT(t_parse("2018-03-10T13:57:31.1234567Z", &rc),
          1520690251123456LL);
    T_INT(t_parse("2018-03-10T13:57:31.123456789+00:00", &rc),
          1520690251123456LL);
    T_INT(t_parse("2018-03-10T13:57:31.0000009", &rc), 1520690251000000LL);
    T_INT(t_parse("2018-03-10T13:57:31.000001Z", &rc), 1520690251000001LL);
    T_INT(t_parse("1970-01-01T00:00:00Z", &rc), 0);
    T_INT(t_parse("1969-12-31T23:59:59.5Z", &rc), -500000);
    T_INT(t_parse("2020-02-29", &rc), 1582934400LL * 1000000);
    T_INT(rc, DS_OK);
    T_INT(t_parse("2000-02-29", &rc), 951782400LL * 1000000);
    T_INT(rc, DS_OK);
    T_INT(t_parse("2016-12-31T23:59:59Z", &rc), 1483228799LL * 1000000);
    T_INT(t_parse("0000-01-01", &rc), -62167219200LL * 1000000);
    T_INT(rc, DS_OK);
    T_INT(t_parse("9999-12-31T23:59:59.999999Z", &rc),
          253402300799999999LL);
    T_INT(rc, DS_OK);

    for (i = 0; i < (int) (sizeof(bad) / sizeof(bad[0])); i++) {
        t_parse(bad[i], &rc);

        if (rc != DS_INVALID) {
            fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
        }

        T_INT(rc, DS_INVALID);
    }

    /* the length is honoured: no NUL needed, nothing read beyond */
    T_INT(ds_time_parse("2018-03-10Tjunk", 10, &(int64_t) { 0 }), DS_OK);
}


static void
t_time_format(void)
{
    char     buf[DS_TIME_FRAC_LEN + 1];
    int      rc;
    size_t   n;
    int64_t  v, now;

    n = ds_time_format_s(1520690251123400LL, buf);
    T_INT(n, DS_TIME_S_LEN);
    T(strcmp(buf, "2018-03-10T13:57:31Z") == 0);

    n = ds_time_format_frac(1520690251123400LL, buf);
    T_INT(n, strlen("2018-03-10T13:57:31.1234Z"));
    T(strcmp(buf, "2018-03-10T13:57:31.1234Z") == 0);

    ds_time_format_frac(1520690251000000LL, buf);
    T(strcmp(buf, "2018-03-10T13:57:31Z") == 0);

    ds_time_format_frac(1520690251000001LL, buf);
    T(strcmp(buf, "2018-03-10T13:57:31.000001Z") == 0);

    n = ds_time_format_frac(1520690251999999LL, buf);
    T(strcmp(buf, "2018-03-10T13:57:31.999999Z") == 0);
    T(n <= DS_TIME_FRAC_LEN);

    ds_time_format_frac(-500000, buf);
    T(strcmp(buf, "1969-12-31T23:59:59.5Z") == 0);

    ds_time_format_s(951782400LL * 1000000, buf);
    T(strcmp(buf, "2000-02-29T00:00:00Z") == 0);

    ds_time_format_s(INT64_MIN, buf);
    T(strcmp(buf, "0000-01-01T00:00:00Z") == 0);

    ds_time_format_frac(INT64_MAX, buf);
    T(strcmp(buf, "9999-12-31T23:59:59.999999Z") == 0);

    /*
     * the last day's date is kept: the same time of another day, the
     * next second, a clamped time and back each get their own
     */
    ds_time_format_frac(1520690251500000LL, buf);
    T(strcmp(buf, "2018-03-10T13:57:31.5Z") == 0);
    ds_time_format_frac(1520690251500000LL + 86400LL * 1000000, buf);
    T(strcmp(buf, "2018-03-11T13:57:31.5Z") == 0);
    ds_time_format_s(1520690252000000LL + 86400LL * 1000000, buf);
    T(strcmp(buf, "2018-03-11T13:57:32Z") == 0);
    ds_time_format_s(INT64_MAX, buf);
    T(strcmp(buf, "9999-12-31T23:59:59Z") == 0);
    ds_time_format_s(INT64_MAX - 1, buf);
    T(strcmp(buf, "9999-12-31T23:59:59Z") == 0);
    ds_time_format_frac(1520690251000007LL, buf);
    T(strcmp(buf, "2018-03-10T13:57:31.000007Z") == 0);
    ds_time_format_s(INT64_MIN, buf);
    T(strcmp(buf, "0000-01-01T00:00:00Z") == 0);
    ds_time_format_frac(-1, buf);
    T(strcmp(buf, "1969-12-31T23:59:59.999999Z") == 0);
    ds_time_format_frac(-86400LL * 1000000 - 1, buf);
    T(strcmp(buf, "1969-12-30T23:59:59.999999Z") == 0);

    /* format and parse are inverse over a wide span */
    rc = 1;

    for (v = -62167219200LL * 1000000; v < 253402300799LL * 1000000;
         v += 987654321987LL)
    {
        n = ds_time_format_frac(v, buf);
        rc &= ds_time_parse(buf, n, &now) == DS_OK && now == v;
    }

    T(rc);

    now = ds_time_now();
    T(now > 1700000000LL * 1000000);
    T(now < 4102444800LL * 1000000);
}


/* an offset that carries a time out of the years 0000-9999 is refused */

static void
t_time_range(void)
{
    int  rc;

    (void) t_parse("9999-12-31T23:59:59.999999Z", &rc);
    T(rc == DS_OK);
    (void) t_parse("9999-12-31T23:59:59.999999-23:59", &rc);
    T(rc == DS_INVALID);
    (void) t_parse("9999-12-31T00:00:00-23:59", &rc);
    T(rc == DS_OK);
    (void) t_parse("0000-01-01T00:00:00Z", &rc);
    T(rc == DS_OK);
    (void) t_parse("0000-01-01T00:00:00+23:59", &rc);
    T(rc == DS_INVALID);
    (void) t_parse("0000-01-01T23:59:00+23:59", &rc);
    T(rc == DS_OK);
}


/* 0 is "no bound" to the stores: a bound at the epoch moves inwards */

static void
t_query_bound(void)
{
    int      rc;
    int64_t  epoch;

    epoch = t_parse("1970-01-01T01:00+01:00", &rc);
    T(rc == DS_OK && epoch == 0);

    T(ds_query_bound(epoch, 0) == 1);
    T(ds_query_bound(epoch, 1) == -1);
    T(ds_query_bound(-1, 0) == -1);
    T(ds_query_bound(1, 1) == 1);
    T(ds_query_bound(INT64_MIN, 0) == INT64_MIN);
    T(ds_query_bound(INT64_MAX, 1) == INT64_MAX);
}

static int64_t
t_parse(const char *s, int *rc)
{
    int64_t  v;

    v = -1;
    *rc = ds_time_parse(s, strlen(s), &v);

    return v;
}
