
/*
 * Copyright (C) ngx_durable authors
 *
 * durable_task_loop_probe: how long the event loop of a worker process
 * runs between two looks at its timers. Each worker process arms a timer
 * that arms itself again every interval; at each tick it reads the CPU
 * clock of the thread that runs the event loop and counts the CPU time
 * used since the tick before in the histogram
 * durable_event_loop_busy_seconds of the metrics page (metrics.c). nginx
 * runs the timers that are due once per turn of its loop, so with a short
 * interval a sample well over it is one turn (the events handled between
 * two looks at the timers) that long on the CPU: a handler holding the
 * loop. With a long one a sample adds up many short turns.
 *
 * CPU time, not wall time: on a host whose cores are shared (by nginx's
 * workers, the stores' threads, load generators), a process waits for a
 * core for tens of milliseconds while its loop has work ready. The wall
 * time between two ticks counts that wait as a stall of the loop; the
 * thread's CPU time does not, and so tells the module's own work from
 * the host's scheduling. The other side of it: a handler that blocks
 * without using the CPU (a page fault that reads the disk, a lock) holds
 * the loop without being counted. The clock is the thread's
 * (CLOCK_THREAD_CPUTIME_ID), not the process's: the work of the stores'
 * own threads and of nginx's thread pools is not the loop's.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_metrics.h"
#include "ngx_http_durable_probe.h"

#include <time.h>


#define NGX_HTTP_DURABLE_PROBE_MAX  1000     /* ms: the longest interval */


#ifdef CLOCK_THREAD_CPUTIME_ID

static void ngx_http_durable_probe_tick(ngx_event_t *ev);
static ngx_int_t ngx_http_durable_probe_cpu(uint64_t *ns);


/*
 * per process: the probe's timer, its interval and its last reading; the
 * timer's data is a connection of no descriptor, as nginx's debug log of
 * timers reads one there
 */
static ngx_event_t       ngx_http_durable_probe_ev;
static ngx_connection_t  ngx_http_durable_probe_conn;
static ngx_msec_t        ngx_http_durable_probe_interval;
static uint64_t          ngx_http_durable_probe_last;     /* ns of CPU */
static ngx_uint_t        ngx_http_durable_probe_read;     /* last is set */

#endif


/* durable_task_loop_probe off | interval; http{} only */

char *
ngx_http_durable_loop_probe(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_durable_main_conf_t *dmcf = conf;

    ngx_int_t   ms;
    ngx_str_t  *value;

    if (dmcf->loop_probe != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        dmcf->loop_probe = 0;
        return NGX_CONF_OK;
    }

    ms = ngx_parse_time(&value[1], 0);

    if (ms == NGX_ERROR || ms < 1 || ms > NGX_HTTP_DURABLE_PROBE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"durable_task_loop_probe\" takes off or an "
                           "interval from 1ms to 1s, not \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

#ifndef CLOCK_THREAD_CPUTIME_ID

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"durable_task_loop_probe\" reads the clock "
                       "CLOCK_THREAD_CPUTIME_ID, which this system lacks");
    return NGX_CONF_ERROR;

#else

    dmcf->loop_probe = (ngx_msec_t) ms;

    /* the samples of all the processes are counted together */

    if (ngx_http_durable_metrics_add_zone(cf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

#endif
}


/*
 * init_process of a worker process: the probe's timer is cancelable, so
 * that it never keeps a process that shuts down
 */

void
ngx_http_durable_probe_init_process(ngx_cycle_t *cycle, ngx_msec_t interval)
{
#ifdef CLOCK_THREAD_CPUTIME_ID

    ngx_event_t  *ev;

    if (interval == 0) {
        return;
    }

    ngx_http_durable_probe_interval = interval;
    ngx_http_durable_probe_read = 0;

    ngx_http_durable_probe_conn.fd = (ngx_socket_t) -1;

    ev = &ngx_http_durable_probe_ev;
    ev->handler = ngx_http_durable_probe_tick;
    ev->log = cycle->log;
    ev->data = &ngx_http_durable_probe_conn;
    ev->cancelable = 1;

    ngx_add_timer(ev, interval);

#endif
}


#ifdef CLOCK_THREAD_CPUTIME_ID

/*
 * The first tick only reads the clock: the time before it is the other
 * modules' start in this process, not a turn of the loop.
 */

static void
ngx_http_durable_probe_tick(ngx_event_t *ev)
{
    uint64_t  now;

    /*
     * the log of the cycle now running: in single-process mode a reload
     * does not run init_process again, and the first cycle's log goes
     * with that cycle
     */
    ev->log = ngx_cycle->log;

    if (ngx_http_durable_probe_cpu(&now) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, ev->log, ngx_errno,
                      "durable: clock_gettime(CLOCK_THREAD_CPUTIME_ID) "
                      "failed, durable_task_loop_probe stops");
        return;
    }

    if (ngx_http_durable_probe_read) {
        ngx_http_durable_metrics_loop((now - ngx_http_durable_probe_last)
                                      / 1000);
    }

    ngx_http_durable_probe_last = now;
    ngx_http_durable_probe_read = 1;

    ngx_add_timer(ev, ngx_http_durable_probe_interval);
}


/* the CPU time of the calling thread, in nanoseconds */

static ngx_int_t
ngx_http_durable_probe_cpu(uint64_t *ns)
{
    struct timespec  ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == -1) {
        return NGX_ERROR;
    }

    *ns = (uint64_t) ts.tv_sec * 1000000000 + (uint64_t) ts.tv_nsec;

    return NGX_OK;
}

#endif


#if (NGX_HTTP_DURABLE_TEST_FAULTS)

/*
 * Test builds only (DURABLE_TEST_FAULTS_BUILD=1 at configure time, see
 * config): the handler that calls this (the metrics page's) holds the
 * event loop for 30 ms when the environment variable DURABLE_TEST_FAULTS
 * names "loop_spin" (on the CPU: 30 ms of the thread's CPU time) or
 * "loop_sleep" (asleep, on no CPU), as a stall of the loop would.
 */

void
ngx_http_durable_probe_test_fault(ngx_log_t *log)
{
    char             *v;
    struct timespec   ts;
#ifdef CLOCK_THREAD_CPUTIME_ID
    uint64_t          start, now;
#endif

    v = getenv("DURABLE_TEST_FAULTS");
    if (v == NULL) {
        return;
    }

    if (ngx_strstr(v, "loop_sleep") != NULL) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "durable: DURABLE_TEST_FAULTS makes the event loop "
                      "sleep 30 ms");

        ts.tv_sec = 0;
        ts.tv_nsec = 30000000;

        while (nanosleep(&ts, &ts) == -1 && ngx_errno == NGX_EINTR) {
            /* the rest of it */
        }
    }

#ifdef CLOCK_THREAD_CPUTIME_ID

    if (ngx_strstr(v, "loop_spin") != NULL
        && ngx_http_durable_probe_cpu(&start) == NGX_OK)
    {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "durable: DURABLE_TEST_FAULTS makes the event loop "
                      "spin 30 ms");

        do {
            if (ngx_http_durable_probe_cpu(&now) != NGX_OK) {
                break;
            }

        } while (now - start < 30000000);
    }

#endif
}

#endif
