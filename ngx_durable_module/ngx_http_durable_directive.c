
/*
 * Copyright (C) ngx_durable authors
 *
 * The directive setters: durable_task, durable_task_store, the keys and
 * keys files, durable_task_hub and durable_task_public_url.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_directive.h"
#include "ngx_http_durable_handler.h"
#include "ngx_http_durable_metrics.h"
#include "ngx_http_durable_notify.h"
#include "ngx_http_durable_render.h"


#define NGX_HTTP_DURABLE_MAP_SIZE      (1024 * 1024 * 1024)
#define NGX_HTTP_DURABLE_READER_CHECK  60000
#define NGX_HTTP_DURABLE_PG_POOL_MAX   64


static ngx_int_t ngx_http_durable_store_dir(ngx_conf_t *cf, ngx_str_t *path,
    ngx_str_t *dir);
static char *ngx_http_durable_store_pg(ngx_conf_t *cf,
    ngx_http_durable_store_t *st, ngx_uint_t seen);
static ngx_int_t ngx_http_durable_key_add(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_array_t **keys, u_char *data, size_t len);


static ngx_str_t  ngx_http_durable_default_prefixes[] = {
    ngx_string("/runtime/webhooks/durabletask"),
    ngx_string("/admin/extensions/DurableTaskExtension")
};


/* durable_task [prefix ...]; */

char *
ngx_http_durable_task(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_durable_loc_conf_t *dlcf = conf;

    ngx_str_t                 *value, *src, *base;
    ngx_uint_t                 i, n;
    ds_str_t                  *sv;
    ngx_http_core_loc_conf_t  *clcf;

    if (dlcf->prefixes != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    /* the gRPC and metrics directives refuse a handler set before them */

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != NULL) {
        return "cannot share a location with another handler "
               "(durable_task_grpc, durable_task_metrics, ...)";
    }

    value = cf->args->elts;

    if (cf->args->nelts > 1) {
        src = &value[1];
        n = cf->args->nelts - 1;

    } else {
        src = ngx_http_durable_default_prefixes;
        n = sizeof(ngx_http_durable_default_prefixes) / sizeof(ngx_str_t);
    }

    dlcf->prefixes = ngx_array_create(cf->pool, n,
                                      sizeof(ds_str_t));
    dlcf->bases = ngx_array_create(cf->pool, n, sizeof(ngx_str_t));
    if (dlcf->prefixes == NULL || dlcf->bases == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (src[i].len == 0 || src[i].data[0] != '/') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid durable_task prefix \"%V\": "
                               "it must start with \"/\"", &src[i]);
            return NGX_CONF_ERROR;
        }

        sv = ngx_array_push(dlcf->prefixes);
        if (sv == NULL) {
            return NGX_CONF_ERROR;
        }

        /* stored without trailing slashes; "/" becomes the empty prefix */

        sv->data = (const char *) src[i].data;
        sv->len = src[i].len;

        while (sv->len && sv->data[sv->len - 1] == '/') {
            sv->len--;
        }

        /* the base of check-status URLs under this prefix */

        base = ngx_array_push(dlcf->bases);
        if (base == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_http_durable_canonical_base(sv, base);
    }

    clcf->handler = ngx_http_durable_handler;

    return NGX_CONF_OK;
}


/*
 * durable_task_store name path=dir [max_size=size] [reserve=size|N%]
 *                    [sync=on|off] [flush=time] [thread_pool=name|off]
 *                    [writes=thread|loop] [reader_check=time|off]
 *                    [reads=now|later];
 * durable_task_store name backend=postgres conninfo=string [pool=N]
 *                    [timeout=time];
 *
 * Every refusal names the parameter, what is wrong with it and what is
 * accepted: this is the first directive a new user writes.
 */

#define NGX_HTTP_DURABLE_STORE_SYNTAX                                        \
    "durable_task_store name path=dir [max_size=size] [reserve=size|N%] "    \
    "[sync=on|off] [flush=time] [thread_pool=name|off] "                     \
    "[writes=thread|loop] [reader_check=time|off] [reads=now|later]; "      \
    "or durable_task_store name backend=postgres conninfo=string "           \
    "[pool=N] [timeout=time]"

typedef enum {
    NGX_HTTP_DURABLE_SP_PATH = 0,
    NGX_HTTP_DURABLE_SP_MAX_SIZE,
    NGX_HTTP_DURABLE_SP_SYNC,
    NGX_HTTP_DURABLE_SP_FLUSH,
    NGX_HTTP_DURABLE_SP_THREAD_POOL,
    NGX_HTTP_DURABLE_SP_WRITES,
    NGX_HTTP_DURABLE_SP_READER_CHECK,
    NGX_HTTP_DURABLE_SP_RESERVE,
    NGX_HTTP_DURABLE_SP_READS,
    NGX_HTTP_DURABLE_SP_BACKEND,
    NGX_HTTP_DURABLE_SP_CONNINFO,
    NGX_HTTP_DURABLE_SP_POOL,
    NGX_HTTP_DURABLE_SP_TIMEOUT
} ngx_http_durable_store_param_e;

/* the parameters of an LMDB store only */
#define NGX_HTTP_DURABLE_SP_LMDB                                             \
    ((1 << NGX_HTTP_DURABLE_SP_PATH) | (1 << NGX_HTTP_DURABLE_SP_MAX_SIZE)   \
     | (1 << NGX_HTTP_DURABLE_SP_SYNC) | (1 << NGX_HTTP_DURABLE_SP_FLUSH)    \
     | (1 << NGX_HTTP_DURABLE_SP_THREAD_POOL)                                \
     | (1 << NGX_HTTP_DURABLE_SP_WRITES)                                     \
     | (1 << NGX_HTTP_DURABLE_SP_READER_CHECK)                               \
     | (1 << NGX_HTTP_DURABLE_SP_RESERVE) | (1 << NGX_HTTP_DURABLE_SP_READS))

/* in the order of ngx_http_durable_store_param_e */
static ngx_str_t  ngx_http_durable_store_params[] = {
    ngx_string("path"),
    ngx_string("max_size"),
    ngx_string("sync"),
    ngx_string("flush"),
    ngx_string("thread_pool"),
    ngx_string("writes"),
    ngx_string("reader_check"),
    ngx_string("reserve"),
    ngx_string("reads"),
    ngx_string("backend"),
    ngx_string("conninfo"),
    ngx_string("pool"),
    ngx_string("timeout"),
    ngx_null_string
};


char *
ngx_http_durable_store(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_durable_main_conf_t *dmcf = conf;

    u_char                    *eq;
    ssize_t                    size;
    ngx_str_t                 *value, s, name, pool;
    ngx_uint_t                 i, k, seen;
    ngx_path_t                *path;
    ngx_file_info_t            fi;
    ngx_http_durable_store_t  *st;

    value = cf->args->elts;

    if (ngx_strlchr(value[1].data, value[1].data + value[1].len, '=')
        != NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "durable_task_store needs a name before its "
                           "parameters, e.g. \"durable_task_store default "
                           "%V\"; the syntax is \""
                           NGX_HTTP_DURABLE_STORE_SYNTAX "\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    st = dmcf->stores.elts;

    for (i = 0; i < dmcf->stores.nelts; i++) {
        if (st[i].name.len == value[1].len
            && ngx_strncmp(st[i].name.data, value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate durable_task_store \"%V\"",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (dmcf->stores.nelts == 0
        && (ngx_http_durable_notify_add_zone(cf) != NGX_OK
            || ngx_http_durable_metrics_add_zone(cf) != NGX_OK))
    {
        return NGX_CONF_ERROR;
    }

    st = ngx_array_push(&dmcf->stores);
    if (st == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(st, sizeof(ngx_http_durable_store_t));

    st->name = value[1];
    st->index = dmcf->stores.nelts - 1;
    st->map_size = NGX_HTTP_DURABLE_MAP_SIZE;
    st->sync = DS_SYNC_FULL;
    st->flush = 100;
    st->reader_check = NGX_HTTP_DURABLE_READER_CHECK;

    ngx_str_null(&pool);

    seen = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        eq = ngx_strlchr(value[i].data, value[i].data + value[i].len, '=');

        if (eq == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown durable_task_store parameter "
                               "\"%V\": parameters are name=value (the "
                               "directory is path=dir), as in "
                               "\"" NGX_HTTP_DURABLE_STORE_SYNTAX "\"",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        name.data = value[i].data;
        name.len = eq - value[i].data;
        s.data = eq + 1;
        s.len = value[i].data + value[i].len - s.data;

        for (k = 0; ngx_http_durable_store_params[k].len; k++) {
            if (ngx_http_durable_store_params[k].len == name.len
                && ngx_strncmp(ngx_http_durable_store_params[k].data,
                               name.data, name.len) == 0)
            {
                break;
            }
        }

        if (ngx_http_durable_store_params[k].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown durable_task_store parameter "
                               "\"%V\": use path=, max_size=, sync=, "
                               "flush=, thread_pool=, writes=, "
                               "reader_check=, reserve=, reads=, "
                               "backend=, conninfo=, pool= or timeout=",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        if (seen & (1 << k)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "durable_task_store \"%V\": \"%V=\" is "
                               "given more than once", &st->name, &name);
            return NGX_CONF_ERROR;
        }

        seen |= 1 << k;

        switch (k) {

        case NGX_HTTP_DURABLE_SP_PATH:

            if (s.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid durable_task_store parameter "
                                   "\"%V\": use path=dir, the directory "
                                   "of the store", &value[i]);
                return NGX_CONF_ERROR;
            }

            if (ngx_conf_full_name(cf->cycle, &s, 0) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            st->path = s;
            break;

        case NGX_HTTP_DURABLE_SP_MAX_SIZE:

            size = ngx_parse_offset(&s);
            if (size == NGX_ERROR || size < 1024 * 1024) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid max_size \"%V\": use a size of "
                                   "at least 1m", &s);
                return NGX_CONF_ERROR;
            }

            st->map_size = (size_t) size;
            break;

        case NGX_HTTP_DURABLE_SP_RESERVE:

            if (s.len > 1 && s.data[s.len - 1] == '%') {
                size = ngx_atoi(s.data, s.len - 1);
                if (size >= 1 && size <= 50) {
                    st->reserve_pct = (ngx_uint_t) size;
                }

            } else {
                size = ngx_parse_offset(&s);
                if (size > 0) {
                    st->reserve = (size_t) size;
                }
            }

            if (st->reserve == 0 && st->reserve_pct == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid reserve \"%V\": use a size "
                                   "such as 64m or a percentage of max_size "
                                   "from 1%% to 50%%", &s);
                return NGX_CONF_ERROR;
            }

            break;

        case NGX_HTTP_DURABLE_SP_SYNC:

            if (s.len == 2 && ngx_strncmp(s.data, "on", 2) == 0) {
                st->sync = DS_SYNC_FULL;

            } else if (s.len == 3 && ngx_strncmp(s.data, "off", 3) == 0) {
                st->sync = DS_SYNC_NONE;

            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid durable_task_store parameter "
                                   "\"%V\": use on or off (sync=on or "
                                   "sync=off)", &value[i]);
                return NGX_CONF_ERROR;
            }

            break;

        case NGX_HTTP_DURABLE_SP_FLUSH:

            st->flush = ngx_parse_time(&s, 0);
            if (st->flush == (ngx_msec_t) NGX_ERROR || st->flush == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid durable_task_store parameter "
                                   "\"%V\": use a time above 0, e.g. "
                                   "flush=100ms", &value[i]);
                return NGX_CONF_ERROR;
            }

            break;

        case NGX_HTTP_DURABLE_SP_THREAD_POOL:

            if (s.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid durable_task_store parameter "
                                   "\"%V\": use thread_pool=name (a "
                                   "\"thread_pool\" of the main context) "
                                   "or thread_pool=off", &value[i]);
                return NGX_CONF_ERROR;
            }

            pool = s;
            break;

        case NGX_HTTP_DURABLE_SP_WRITES:

            if (s.len == 6 && ngx_strncmp(s.data, "thread", 6) == 0) {
                st->loop_writes = 0;

            } else if (s.len == 4 && ngx_strncmp(s.data, "loop", 4) == 0) {
                st->loop_writes = 1;

            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid durable_task_store parameter "
                                   "\"%V\": use thread or loop "
                                   "(writes=thread or writes=loop)",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            break;

        case NGX_HTTP_DURABLE_SP_READS:

            /* later: as a store on the network answers, for tests */

            if (s.len == 3 && ngx_strncmp(s.data, "now", 3) == 0) {
                st->reads_later = 0;

            } else if (s.len == 5 && ngx_strncmp(s.data, "later", 5) == 0) {
                st->reads_later = 1;

            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid durable_task_store parameter "
                                   "\"%V\": use now or later "
                                   "(reads=now or reads=later)",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            break;

        case NGX_HTTP_DURABLE_SP_BACKEND:

            if (s.len == 4 && ngx_strncmp(s.data, "lmdb", 4) == 0) {
                st->backend = DS_BACKEND_LMDB;

            } else if (s.len == 8 && ngx_strncmp(s.data, "postgres", 8) == 0) {
                st->backend = DS_BACKEND_POSTGRES;

            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid durable_task_store parameter "
                                   "\"%V\": use lmdb or postgres "
                                   "(backend=lmdb or backend=postgres)",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            break;

        case NGX_HTTP_DURABLE_SP_CONNINFO:

            st->conninfo = s;
            break;

        case NGX_HTTP_DURABLE_SP_POOL:

            st->pg_pool = ngx_atoi(s.data, s.len);
            if (st->pg_pool == (ngx_uint_t) NGX_ERROR || st->pg_pool == 0
                || st->pg_pool > NGX_HTTP_DURABLE_PG_POOL_MAX)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid durable_task_store parameter "
                                   "\"%V\": use a number of connections "
                                   "from 1 to %d, e.g. pool=4", &value[i],
                                   NGX_HTTP_DURABLE_PG_POOL_MAX);
                return NGX_CONF_ERROR;
            }

            break;

        case NGX_HTTP_DURABLE_SP_TIMEOUT:

            st->pg_timeout = ngx_parse_time(&s, 0);
            if (st->pg_timeout == (ngx_msec_t) NGX_ERROR
                || st->pg_timeout == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid durable_task_store parameter "
                                   "\"%V\": use a time above 0, e.g. "
                                   "timeout=5s", &value[i]);
                return NGX_CONF_ERROR;
            }

            break;

        default: /* NGX_HTTP_DURABLE_SP_READER_CHECK */

            if (s.len == 3 && ngx_strncmp(s.data, "off", 3) == 0) {
                st->reader_check = 0;
                break;
            }

            st->reader_check = ngx_parse_time(&s, 0);
            if (st->reader_check == (ngx_msec_t) NGX_ERROR
                || st->reader_check == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid durable_task_store parameter "
                                   "\"%V\": use a time above 0, e.g. "
                                   "reader_check=60s, or reader_check=off",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }
        }
    }

    if (st->backend == DS_BACKEND_POSTGRES) {
        return ngx_http_durable_store_pg(cf, st, seen);
    }

    if (seen & ((1 << NGX_HTTP_DURABLE_SP_CONNINFO)
                | (1 << NGX_HTTP_DURABLE_SP_POOL)
                | (1 << NGX_HTTP_DURABLE_SP_TIMEOUT)))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "durable_task_store \"%V\": conninfo=, pool= "
                           "and timeout= are for backend=postgres",
                           &st->name);
        return NGX_CONF_ERROR;
    }

    if (st->path.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "durable_task_store \"%V\": path= is required, "
                           "e.g. \"durable_task_store %V "
                           "path=/var/lib/nginx/durable\"",
                           &st->name, &st->name);
        return NGX_CONF_ERROR;
    }

    /* the reserve that only terminate and purge may use (store default) */

    if (st->reserve_pct) {
        st->reserve = st->map_size / 100 * st->reserve_pct;
    }

    if (st->reserve > st->map_size / 2) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "durable_task_store \"%V\": reserve= must be "
                           "at most half of max_size", &st->name);
        return NGX_CONF_ERROR;
    }

    /* LMDB's pages are the OS pages; less does not fit one transaction */

    if ((st->reserve_pct || st->reserve)
        && st->reserve < DS_RESERVE_PAGES * ngx_pagesize)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "durable_task_store \"%V\": reserve= must be "
                           "at least %uz (%d pages of %uz bytes), the room "
                           "one write needs; raise it or max_size",
                           &st->name, DS_RESERVE_PAGES * ngx_pagesize,
                           DS_RESERVE_PAGES, ngx_pagesize);
        return NGX_CONF_ERROR;
    }

    /*
     * like nginx's temp paths: the directory is created at startup and
     * handed to the user of nginx's processes, who creates the LMDB
     * files in it (see ngx_http_durable_paths.c)
     */

    if (ngx_file_info(st->path.data, &fi) != NGX_FILE_ERROR
        && !ngx_is_dir(&fi))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "durable_task_store \"%V\": path \"%V\" is not "
                           "a directory", &st->name, &st->path);
        return NGX_CONF_ERROR;
    }

    /* LMDB forbids opening one environment twice in a process */

    if (ngx_http_durable_store_dir(cf, &st->path, &st->dir) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    st = dmcf->stores.elts;

    for (i = 0; i + 1 < dmcf->stores.nelts; i++) {
        if (st[i].dir.len == st[dmcf->stores.nelts - 1].dir.len
            && ngx_strncmp(st[i].dir.data, st[dmcf->stores.nelts - 1].dir.data,
                           st[i].dir.len)
               == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "durable_task_store \"%V\" uses the "
                               "directory of durable_task_store \"%V\" "
                               "(\"%V\"): give each store its own path=",
                               &st[dmcf->stores.nelts - 1].name, &st[i].name,
                               &st[i].dir);
            return NGX_CONF_ERROR;
        }
    }

    st = &st[dmcf->stores.nelts - 1];

    /* a synced commit waits for the disk: never in the event loop */

    if (st->loop_writes && st->sync != DS_SYNC_NONE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "durable_task_store \"%V\": writes=loop needs "
                           "sync=off (a synced commit waits for the disk)",
                           &st->name);
        return NGX_CONF_ERROR;
    }

#if (NGX_THREADS)

    /* without thread_pool=, the store's own thread in each process */

    if (pool.len == 0) {
        st->own_thread = 1;

    } else if (!(pool.len == 3 && ngx_strncmp(pool.data, "off", 3) == 0)) {
        st->thread_pool = ngx_thread_pool_add(cf, &pool);
        if (st->thread_pool == NULL) {
            return NGX_CONF_ERROR;
        }
    }

#endif

    path = ngx_pcalloc(cf->pool, sizeof(ngx_path_t));
    if (path == NULL) {
        return NGX_CONF_ERROR;
    }

    path->name = st->path;
    path->conf_file = cf->conf_file->file.name.data;
    path->line = cf->conf_file->line;

    if (ngx_add_path(cf, &path) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * A PostgreSQL store: its conninfo with host names resolved now, since
 * libpq's own lookup would block the event loop; a name that later moves
 * to another address needs a reload.
 */

static char *
ngx_http_durable_store_pg(ngx_conf_t *cf, ngx_http_durable_store_t *st,
    ngx_uint_t seen)
{
#if (NGX_HTTP_DURABLE_PG)
    char      *conninfo, *resolved, err[256];
    size_t     len;
#endif

    if (seen & NGX_HTTP_DURABLE_SP_LMDB) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "durable_task_store \"%V\": backend=postgres "
                           "takes conninfo=, pool= and timeout= only; "
                           "path=, max_size=, reserve=, sync=, flush=, "
                           "thread_pool=, writes=, reader_check= and "
                           "reads= are for LMDB stores", &st->name);
        return NGX_CONF_ERROR;
    }

    /* LMDB's reader slots: none here */
    st->reader_check = 0;

#if (NGX_HTTP_DURABLE_PG)

    if (st->conninfo.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "durable_task_store \"%V\": backend=postgres "
                           "needs conninfo=, e.g. \"conninfo=host=db1 "
                           "dbname=durable\"", &st->name);
        return NGX_CONF_ERROR;
    }

    conninfo = ngx_pnalloc(cf->pool, st->conninfo.len + 1);
    if (conninfo == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(conninfo, st->conninfo.data, st->conninfo.len);
    conninfo[st->conninfo.len] = '\0';

    if (ds_pg_conninfo_resolve(conninfo, &resolved, err, sizeof(err))
        != DS_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "durable_task_store \"%V\": %s", &st->name,
                           err);
        return NGX_CONF_ERROR;
    }

    len = ngx_strlen(resolved);

    st->conninfo.data = ngx_pnalloc(cf->pool, len + 1);
    if (st->conninfo.data == NULL) {
        free(resolved);
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(st->conninfo.data, resolved, len + 1);
    st->conninfo.len = len;
    free(resolved);

    return NGX_CONF_OK;

#else

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "durable_task_store \"%V\": this nginx module was "
                       "built without libpq, so backend=postgres is not "
                       "available (Debian: apt-get install libpq-dev, then "
                       "build again)", &st->name);
    return NGX_CONF_ERROR;

#endif
}


/*
 * The directory a store path names, for comparing stores: the real path
 * when it exists, else the real path of its parent with the last name,
 * else the path with "//", "/./", "/../" and trailing slashes folded.
 */

static ngx_int_t
ngx_http_durable_store_dir(ngx_conf_t *cf, ngx_str_t *path, ngx_str_t *dir)
{
    u_char  *p, *q, *last, *norm, *slash;
    char     real[NGX_MAX_PATH];
    size_t   len;

    if (realpath((char *) path->data, real) != NULL) {
        goto found;
    }

    norm = ngx_pnalloc(cf->pool, path->len + 1);
    if (norm == NULL) {
        return NGX_ERROR;
    }

    q = norm;
    last = path->data + path->len;

    for (p = path->data; p < last; /* void */) {

        while (p < last && *p == '/') {
            p++;
        }

        slash = ngx_strlchr(p, last, '/');
        len = (slash ? slash : last) - p;

        if (len == 1 && p[0] == '.') {
            /* void */

        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            while (q > norm && *--q != '/') { /* void */ }

        } else if (len) {
            *q++ = '/';
            q = ngx_cpymem(q, p, len);
        }

        p += len;
    }

    if (q == norm) {
        *q++ = '/';
    }

    *q = '\0';

    dir->data = norm;
    dir->len = q - norm;

    /* an existing parent: its real path and the name to be created */

    slash = norm + dir->len;
    while (*--slash != '/') { /* void */ }

    if (slash == norm) {
        return NGX_OK;
    }

    *slash = '\0';
    p = (u_char *) realpath((char *) norm, real);
    *slash = '/';

    if (p == NULL) {
        return NGX_OK;
    }

    len = ngx_strlen(real);

    if (len + (norm + dir->len - slash) >= NGX_MAX_PATH) {
        return NGX_OK;
    }

    ngx_cpystrn((u_char *) real + (len == 1 ? 0 : len), slash,
                norm + dir->len - slash + 1);

found:

    len = ngx_strlen(real);

    dir->data = ngx_pnalloc(cf->pool, len + 1);
    if (dir->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dir->data, real, len + 1);
    dir->len = len;

    return NGX_OK;
}


/*
 * durable_task_keys and durable_task_worker_keys: repeatable lists, and
 * with them durable_task_keys_file and durable_task_worker_keys_file
 */

static ngx_int_t
ngx_http_durable_key_add(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_array_t **keys, u_char *data, size_t len)
{
    ngx_str_t  *key;

    if (len < 8) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "a \"%V\" key must have at least 8 "
                           "characters", &cmd->name);
        return NGX_ERROR;
    }

    if (*keys == NGX_CONF_UNSET_PTR) {
        *keys = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
        if (*keys == NULL) {
            return NGX_ERROR;
        }
    }

    key = ngx_array_push(*keys);
    if (key == NULL) {
        return NGX_ERROR;
    }

    key->data = data;
    key->len = len;

    return NGX_OK;
}


char *
ngx_http_durable_keys(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t     *value;
    ngx_uint_t     i;
    ngx_array_t  **keys;

    keys = (ngx_array_t **) (p + cmd->offset);

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        /* the key itself is not logged: it may be a real one */

        if ((value[i].len && value[i].data[0] == '$')
            || ngx_strnstr(value[i].data, "${", value[i].len) != NULL)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "a \"%V\" key looks like a variable "
                               "(\"$NAME\" or \"${NAME}\"): nginx does not "
                               "expand variables here, the text itself "
                               "would be the key; keep the keys in a file "
                               "and use \"%V_file\"", &cmd->name,
                               &cmd->name);
            return NGX_CONF_ERROR;
        }

        if (ngx_http_durable_key_add(cf, cmd, keys, value[i].data,
                                     value[i].len)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/*
 * durable_task_keys_file path: one key a line; empty lines and lines
 * starting with "#" are skipped, trailing white space (and CR) dropped.
 * Read once, here, by the master; a file other users may read or change
 * is refused, as ssh refuses a private key anyone can read.
 */

#define NGX_HTTP_DURABLE_KEYS_FILE_MAX  65536

char *
ngx_http_durable_keys_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    char             *rv;
    u_char           *buf, *line, *end, *last, *key;
    size_t            size;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_str_t        *value, name;
    ngx_uint_t        found, lines;
    ngx_array_t     **keys;
    ngx_file_info_t   fi;

    keys = (ngx_array_t **) (p + cmd->offset);

    value = cf->args->elts;
    name = value[1];

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%V\": cannot read the keys file \"%s\"",
                           &cmd->name, name.data);
        return NGX_CONF_ERROR;
    }

    rv = NGX_CONF_ERROR;
    buf = NULL;
    size = 0;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%s\" failed", name.data);
        goto done;
    }

    if (!ngx_is_file(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": \"%s\" is not a regular file",
                           &cmd->name, name.data);
        goto done;
    }

    /* o+x alone gives others nothing of a file they cannot read */

    if (ngx_file_access(&fi) & 006) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": the keys file \"%s\" is readable or "
                           "writable by other users (mode 0%ui%ui%ui): run "
                           "\"chmod o-rw %s\"", &cmd->name, name.data,
                           NGX_HTTP_DURABLE_MODE(&fi), name.data);
        goto done;
    }

    if (ngx_file_size(&fi) > NGX_HTTP_DURABLE_KEYS_FILE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": the keys file \"%s\" is larger than "
                           "%d bytes", &cmd->name, name.data,
                           NGX_HTTP_DURABLE_KEYS_FILE_MAX);
        goto done;
    }

    size = (size_t) ngx_file_size(&fi);

    buf = ngx_pnalloc(cf->temp_pool, size + 1);
    if (buf == NULL) {
        goto done;
    }

    n = ngx_read_fd(fd, buf, size);
    if (n == -1 || (size_t) n != size) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, n == -1 ? ngx_errno : 0,
                           "\"%V\": cannot read the keys file \"%s\"",
                           &cmd->name, name.data);
        goto done;
    }

    found = 0;
    last = buf + size;

    lines = 0;

    for (line = buf; line < last; line = end + 1) {

        lines++;

        end = ngx_strlchr(line, last, LF);
        if (end == NULL) {
            end = last;
        }

        n = end - line;

        while (n && (line[n - 1] == CR || line[n - 1] == ' '
                     || line[n - 1] == '\t'))
        {
            n--;
        }

        if (n == 0 || line[0] == '#') {
            continue;
        }

        if (n < 8) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": the key on line %ui of \"%s\" has "
                               "fewer than 8 characters", &cmd->name,
                               lines, name.data);
            goto done;
        }

        key = ngx_pnalloc(cf->pool, n);
        if (key == NULL) {
            goto done;
        }

        ngx_memcpy(key, line, n);

        if (ngx_http_durable_key_add(cf, cmd, keys, key, n) != NGX_OK) {
            goto done;
        }

        found++;
    }

    if (found == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": the keys file \"%s\" holds no key "
                           "(one key a line; \"#\" starts a comment line)",
                           &cmd->name, name.data);
        goto done;
    }

    rv = NGX_CONF_OK;

done:

    if (buf) {
        ngx_explicit_memzero(buf, size);
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%s\" failed", name.data);
    }

    return rv;
}


char *
ngx_http_durable_hub(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_durable_loc_conf_t *dlcf = conf;

    ngx_str_t  *value;

    if (dlcf->hub.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (!ngx_http_durable_hub_valid(value[1].data, value[1].len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid task hub name \"%V\": use 1 to 50 "
                           "letters, digits, '-' and '_', starting with a "
                           "letter", &value[1]);
        return NGX_CONF_ERROR;
    }

    dlcf->hub = value[1];

    return NGX_CONF_OK;
}


char *
ngx_http_durable_public_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_durable_loc_conf_t *dlcf = conf;

    ngx_str_t  *value, *url;

    if (dlcf->public_url.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    url = &value[1];

    if (!((url->len > 7 && ngx_strncmp(url->data, "http://", 7) == 0)
          || (url->len > 8 && ngx_strncmp(url->data, "https://", 8) == 0)))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid durable_task_public_url \"%V\": use "
                           "http://host[:port][/path] or "
                           "https://host[:port][/path]", url);
        return NGX_CONF_ERROR;
    }

    while (url->len && url->data[url->len - 1] == '/') {
        url->len--;
    }

    dlcf->public_url = *url;

    return NGX_CONF_OK;
}
