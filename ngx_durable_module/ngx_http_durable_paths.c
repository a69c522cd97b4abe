/*
 * Copyright (C) ngx_durable authors
 *
 * Store directories for the user of nginx's processes.
 *
 * Each process opens the stores in init_process, after it has become the
 * "user" of nginx.conf. A directory that user cannot reach would show only
 * as a 503 on every request, so the master prepares and checks every store
 * directory before any process starts: it creates the directory and
 * hands it to that user as nginx does with its temp paths
 * (ngx_create_paths(), which runs next and then finds nothing to do), and
 * refuses the configuration when a parent directory is not searchable or
 * the directory or its files are not writable by that user.
 *
 * This is the init_conf of a core module: the core modules' init_conf run
 * once the whole file is parsed ("user" may come after http{}) and after
 * the core module has resolved "user", and a refusal there fails
 * "nginx -t", a start, or a reload (which then keeps the old
 * configuration). The http module's hooks run inside http{}, too early;
 * init_module runs late enough but its failure exits the master.
 *
 * The check reads the permission bits (owner, group and supplementary
 * groups, others); ACLs are not consulted.
 *
 * The same init_conf checks a PostgreSQL store's conninfo against the
 * environment the worker processes will have ("env" directives, which
 * may come after http{} too): libpq reads PGHOST, PGHOSTADDR, PGSERVICE
 * and PGSERVICEFILE when it connects, in the event loop, and would look
 * up a host name they give.
 */


#include "ngx_http_durable_module.h"


/* the permission bits of one class (owner, group, others) */
#define NGX_HTTP_DURABLE_MAY_READ     4
#define NGX_HTTP_DURABLE_MAY_WRITE    2
#define NGX_HTTP_DURABLE_MAY_SEARCH   1


typedef struct {
    ngx_uid_t                   uid;
    ngx_gid_t                   gid;
    gid_t                      *groups;
    int                         ngroups;
    char                       *name;
    ngx_uint_t                  hand_over;   /* the master runs as root */
} ngx_http_durable_ids_t;


static char *ngx_http_durable_paths_init_conf(ngx_cycle_t *cycle,
    void *conf);
static ngx_int_t ngx_http_durable_paths_ids(ngx_cycle_t *cycle,
    ngx_http_durable_ids_t *ids);
static ngx_int_t ngx_http_durable_paths_prepare(ngx_cycle_t *cycle,
    ngx_http_durable_ids_t *ids, ngx_http_durable_store_t *st);
static ngx_int_t ngx_http_durable_paths_walk(ngx_cycle_t *cycle,
    ngx_http_durable_ids_t *ids, ngx_http_durable_store_t *st, u_char *dir);
static ngx_uint_t ngx_http_durable_paths_permits(ngx_http_durable_ids_t *ids,
    ngx_file_info_t *fi, ngx_uint_t want);
#if (NGX_HTTP_DURABLE_PG)
static ngx_int_t ngx_http_durable_paths_pg_env(ngx_cycle_t *cycle,
    ngx_http_durable_main_conf_t *dmcf);
#endif


static ngx_core_module_t  ngx_http_durable_paths_module_ctx = {
    ngx_string("durable_paths"),
    NULL,
    ngx_http_durable_paths_init_conf
};


ngx_module_t  ngx_http_durable_paths_module = {
    NGX_MODULE_V1,
    &ngx_http_durable_paths_module_ctx,    /* module context */
    NULL,                                  /* module directives */
    NGX_CORE_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* the LMDB files of a store directory */

static ngx_str_t  ngx_http_durable_paths_files[] = {
    ngx_string("data.mdb"),
    ngx_string("lock.mdb")
};


static char *
ngx_http_durable_paths_init_conf(ngx_cycle_t *cycle, void *conf)
{
    ngx_uint_t                     i;
    ngx_http_durable_ids_t         ids;
    ngx_http_durable_store_t      *st;
    ngx_http_durable_main_conf_t  *dmcf;

    /* "nginx -s" parses the file only to find the pid file */

    if (ngx_process == NGX_PROCESS_SIGNALLER) {
        return NGX_CONF_OK;
    }

    dmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_durable_module);
    if (dmcf == NULL || dmcf->stores.nelts == 0) {
        return NGX_CONF_OK;
    }

#if (NGX_HTTP_DURABLE_PG)

    if (ngx_http_durable_paths_pg_env(cycle, dmcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

#endif

    if (ngx_http_durable_paths_ids(cycle, &ids) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    st = dmcf->stores.elts;

    for (i = 0; i < dmcf->stores.nelts; i++) {
        if (st[i].backend != DS_BACKEND_LMDB) {
            /* a database's, no directory */
            continue;
        }

        if (ngx_http_durable_paths_prepare(cycle, &ids, &st[i]) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* the identity the processes will have (ngx_worker_process_init()) */

static ngx_int_t
ngx_http_durable_paths_ids(ngx_cycle_t *cycle, ngx_http_durable_ids_t *ids)
{
    int               n;
    struct passwd    *pw;
    ngx_core_conf_t  *ccf;

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    ngx_memzero(ids, sizeof(ngx_http_durable_ids_t));

    if (ccf->user != (ngx_uid_t) NGX_CONF_UNSET_UINT) {
        ids->uid = ccf->user;
        ids->gid = ccf->group;
        ids->name = ccf->username;
        ids->hand_over = 1;

        n = 16;

        for ( ;; ) {
            ids->groups = ngx_palloc(cycle->pool, n * sizeof(gid_t));
            if (ids->groups == NULL) {
                return NGX_ERROR;
            }

            ids->ngroups = n;

            if (getgrouplist(ids->name, ids->gid, ids->groups, &ids->ngroups)
                != -1)
            {
                return NGX_OK;
            }

            if (ids->ngroups <= n) {
                /* the user has no group list: its own group only */
                ids->ngroups = 0;
                return NGX_OK;
            }

            n = ids->ngroups;
        }
    }

    /* not root: the processes keep the master's identity */

    ids->uid = geteuid();
    ids->gid = getegid();

    ids->name = "(the user nginx runs as)";

    pw = getpwuid(ids->uid);

    if (pw) {
        n = ngx_strlen(pw->pw_name) + 1;

        ids->name = ngx_pnalloc(cycle->pool, n);
        if (ids->name == NULL) {
            return NGX_ERROR;
        }

        (void) ngx_cpystrn((u_char *) ids->name, (u_char *) pw->pw_name, n);
    }

    n = getgroups(0, NULL);
    if (n <= 0) {
        return NGX_OK;
    }

    ids->groups = ngx_palloc(cycle->pool, n * sizeof(gid_t));
    if (ids->groups == NULL) {
        return NGX_ERROR;
    }

    ids->ngroups = getgroups(n, ids->groups);
    if (ids->ngroups < 0) {
        ids->ngroups = 0;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_durable_paths_prepare(ngx_cycle_t *cycle,
    ngx_http_durable_ids_t *ids, ngx_http_durable_store_t *st)
{
    u_char           *dir, *file, *p;
    ngx_err_t         err;
    ngx_str_t        *name;
    ngx_uint_t        i;
    ngx_file_info_t   fi;

    dir = st->path.data;

    if (ngx_create_dir(dir, 0700) == NGX_FILE_ERROR) {
        err = ngx_errno;

        if (err != NGX_EEXIST) {

            /* not root: a parent nginx's own user cannot search, named */

            if (err == NGX_EACCES
                && ngx_http_durable_paths_walk(cycle, ids, st, dir)
                   != NGX_OK)
            {
                return NGX_ERROR;
            }

            /* every parent searchable: the last one is not writable */

            if (err == NGX_EACCES) {
                ngx_log_error(NGX_LOG_EMERG, cycle->log, err,
                              "durable_task_store \"%V\": the worker user "
                              "\"%s\" cannot create the store directory "
                              "\"%s\": its parent is not writable by it; "
                              "create \"%s\" for user \"%s\", or set "
                              "\"user\", or choose another path=",
                              &st->name, ids->name, dir, dir, ids->name);
                return NGX_ERROR;
            }

            ngx_log_error(NGX_LOG_EMERG, cycle->log, err,
                          "durable_task_store \"%V\": " ngx_create_dir_n
                          " \"%s\" failed%s", &st->name, dir,
                          err == NGX_ENOENT
                          ? ": create its parent directory first" : "");
            return NGX_ERROR;
        }
    }

    if (ngx_file_info(dir, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                      "durable_task_store \"%V\": " ngx_file_info_n
                      " \"%s\" failed", &st->name, dir);
        return NGX_ERROR;
    }

    if (!ngx_is_dir(&fi)) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "durable_task_store \"%V\": path \"%s\" is not a "
                      "directory", &st->name, dir);
        return NGX_ERROR;
    }

    if (ids->hand_over) {
        if (fi.st_uid != ids->uid) {
            if (chown((const char *) dir, ids->uid, -1) == -1) {
                ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                              "durable_task_store \"%V\": chown(\"%s\", %d) "
                              "failed", &st->name, dir, ids->uid);
                return NGX_ERROR;
            }

            ngx_log_debug2(NGX_LOG_DEBUG_CORE, cycle->log, 0,
                           "durable store dir \"%s\" handed to uid %d",
                           dir, ids->uid);

            fi.st_uid = ids->uid;
        }

        if ((fi.st_mode & S_IRWXU) != S_IRWXU) {
            fi.st_mode |= S_IRWXU;

            if (chmod((const char *) dir, fi.st_mode) == -1) {
                ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                              "durable_task_store \"%V\": chmod() \"%s\" "
                              "failed", &st->name, dir);
                return NGX_ERROR;
            }
        }
    }

    if (ids->uid == 0) {
        return NGX_OK;
    }

    /* the path as written, then through its symbolic links */

    if (ngx_http_durable_paths_walk(cycle, ids, st, dir) != NGX_OK
        || ngx_http_durable_paths_walk(cycle, ids, st, st->dir.data)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (!ngx_http_durable_paths_permits(ids, &fi,
                                        NGX_HTTP_DURABLE_MAY_WRITE
                                        |NGX_HTTP_DURABLE_MAY_SEARCH))
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "durable_task_store \"%V\": the worker user \"%s\" "
                      "cannot create files in \"%s\" (owner uid %d, mode "
                      "0%ui%ui%ui): give the directory to user \"%s\", or set "
                      "\"user\", or choose another path=", &st->name,
                      ids->name, dir, fi.st_uid,
                      NGX_HTTP_DURABLE_MODE(&fi), ids->name);
        return NGX_ERROR;
    }

    /* files left by a run as another user, e.g. "user root" */

    for (i = 0; i < 2; i++) {
        name = &ngx_http_durable_paths_files[i];

        file = ngx_pnalloc(cycle->pool, st->path.len + 1 + name->len + 1);
        if (file == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(file, dir, st->path.len);
        *p++ = '/';
        p = ngx_cpymem(p, name->data, name->len);
        *p = '\0';

        if (ngx_file_info(file, &fi) == NGX_FILE_ERROR) {
            continue;
        }

        if (!ngx_http_durable_paths_permits(ids, &fi,
                                            NGX_HTTP_DURABLE_MAY_READ
                                            |NGX_HTTP_DURABLE_MAY_WRITE))
        {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                          "durable_task_store \"%V\": the worker user "
                          "\"%s\" cannot read and write \"%s\" (owner uid "
                          "%d, mode 0%ui%ui%ui): run \"chown -R %s %s\", or "
                          "set \"user\", or choose another path=", &st->name,
                          ids->name, file, fi.st_uid,
                          NGX_HTTP_DURABLE_MODE(&fi), ids->name, dir);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* every directory above dir must be searchable by the processes' user */

static ngx_int_t
ngx_http_durable_paths_walk(ngx_cycle_t *cycle, ngx_http_durable_ids_t *ids,
    ngx_http_durable_store_t *st, u_char *dir)
{
    u_char           *p;
    ngx_file_info_t   fi;

    for (p = dir + 1; *p; p++) {

        if (*p != '/') {
            continue;
        }

        *p = '\0';

        if (ngx_file_info(dir, &fi) == NGX_FILE_ERROR) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                          "durable_task_store \"%V\": " ngx_file_info_n
                          " \"%s\" failed", &st->name, dir);
            *p = '/';
            return NGX_ERROR;
        }

        if (!ngx_http_durable_paths_permits(ids, &fi,
                                            NGX_HTTP_DURABLE_MAY_SEARCH))
        {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                          "durable_task_store \"%V\": the worker user "
                          "\"%s\" cannot reach the store directory: \"%s\" "
                          "is not searchable by it (owner uid %d, mode "
                          "0%ui%ui%ui); make every parent directory "
                          "searchable by user \"%s\", or set \"user\", or "
                          "choose another path=", &st->name, ids->name, dir,
                          fi.st_uid, NGX_HTTP_DURABLE_MODE(&fi),
                          ids->name);
            *p = '/';
            return NGX_ERROR;
        }

        *p = '/';
    }

    return NGX_OK;
}


/* want: NGX_HTTP_DURABLE_MAY_* bits, all of them */

static ngx_uint_t
ngx_http_durable_paths_permits(ngx_http_durable_ids_t *ids,
    ngx_file_info_t *fi, ngx_uint_t want)
{
    int         i;
    ngx_uint_t  bits;

    if (fi->st_uid == ids->uid) {
        bits = fi->st_mode >> 6;
        goto done;
    }

    if (fi->st_gid == ids->gid) {
        bits = fi->st_mode >> 3;
        goto done;
    }

    for (i = 0; i < ids->ngroups; i++) {
        if (fi->st_gid == ids->groups[i]) {
            bits = fi->st_mode >> 3;
            goto done;
        }
    }

    bits = fi->st_mode;

done:

    return (bits & want) == want;
}


#if (NGX_HTTP_DURABLE_PG)

/*
 * The environment of the worker processes as ngx_set_environment() will
 * make it: each "env NAME=value", and each bare "env NAME" with the
 * master's value; every PostgreSQL store's conninfo is checked with it.
 */

static ngx_int_t
ngx_http_durable_paths_pg_env(ngx_cycle_t *cycle,
    ngx_http_durable_main_conf_t *dmcf)
{
    char                      **env, *value, err[512];
    size_t                      len;
    ngx_uint_t                  i, n;
    ngx_str_t                  *var;
    ngx_core_conf_t            *ccf;
    ngx_http_durable_store_t   *st;

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    env = ngx_palloc(cycle->pool, (ccf->env.nelts + 1) * sizeof(char *));
    if (env == NULL) {
        return NGX_ERROR;
    }

    var = ccf->env.elts;
    n = 0;

    for (i = 0; i < ccf->env.nelts; i++) {
        if (var[i].data[var[i].len] == '=') {
            /* "env NAME=value": the whole argument, NUL-terminated */
            env[n++] = (char *) var[i].data;
            continue;
        }

        value = getenv((char *) var[i].data);

        if (value == NULL) {
            continue;
        }

        len = var[i].len + 1 + ngx_strlen(value) + 1;

        env[n] = ngx_pnalloc(cycle->pool, len);
        if (env[n] == NULL) {
            return NGX_ERROR;
        }

        (void) ngx_snprintf((u_char *) env[n], len, "%V=%s%Z", &var[i],
                            value);
        n++;
    }

    env[n] = NULL;

    st = dmcf->stores.elts;

    for (i = 0; i < dmcf->stores.nelts; i++) {
        if (st[i].backend != DS_BACKEND_POSTGRES) {
            continue;
        }

        if (ds_pg_conninfo_env_check((char *) st[i].conninfo.data, env,
                                     err, sizeof(err))
            != DS_OK)
        {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                          "durable_task_store \"%V\": %s", &st[i].name,
                          err);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}

#endif
