
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_PROBE_H_INCLUDED_
#define _NGX_HTTP_DURABLE_PROBE_H_INCLUDED_


#include "ngx_http_durable_module.h"


char *ngx_http_durable_loop_probe(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_durable_probe_init_process(ngx_cycle_t *cycle,
    ngx_msec_t interval);

#if (NGX_HTTP_DURABLE_TEST_FAULTS)
void ngx_http_durable_probe_test_fault(ngx_log_t *log);
#endif


#endif /* _NGX_HTTP_DURABLE_PROBE_H_INCLUDED_ */
