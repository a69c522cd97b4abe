
/*
 * Copyright (C) ngx_durable authors
 */


#ifndef _NGX_HTTP_DURABLE_DIRECTIVE_H_INCLUDED_
#define _NGX_HTTP_DURABLE_DIRECTIVE_H_INCLUDED_


#include "ngx_http_durable_module.h"


char *ngx_http_durable_task(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_durable_store(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_durable_keys(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_durable_keys_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_durable_hub(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_durable_public_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_DURABLE_DIRECTIVE_H_INCLUDED_ */
