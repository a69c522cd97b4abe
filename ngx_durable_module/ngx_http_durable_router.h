
/*
 * Copyright (C) ngx_durable authors
 *
 * Method + raw path -> operation and path parameters; raw query string ->
 * the known parameters. Plain C without nginx headers, so the unit tests
 * and the fuzzers link it directly.
 */


#ifndef _NGX_HTTP_DURABLE_ROUTER_H_INCLUDED_
#define _NGX_HTTP_DURABLE_ROUTER_H_INCLUDED_


#include <stddef.h>


typedef struct {
    size_t                      len;
    unsigned char              *data;
} ngx_http_durable_sv_t;


#define NGX_HTTP_DURABLE_GET      0x01
#define NGX_HTTP_DURABLE_POST     0x02
#define NGX_HTTP_DURABLE_DELETE   0x04


typedef enum {
    NGX_HTTP_DURABLE_OP_NONE = 0,
    NGX_HTTP_DURABLE_OP_START,
    NGX_HTTP_DURABLE_OP_STATUS,
    NGX_HTTP_DURABLE_OP_LIST,
    NGX_HTTP_DURABLE_OP_PURGE_ONE,
    NGX_HTTP_DURABLE_OP_PURGE_MANY,
    NGX_HTTP_DURABLE_OP_RAISE_EVENT,
    NGX_HTTP_DURABLE_OP_TERMINATE,
    NGX_HTTP_DURABLE_OP_SUSPEND,
    NGX_HTTP_DURABLE_OP_RESUME,
    NGX_HTTP_DURABLE_OP_REWIND,
    NGX_HTTP_DURABLE_OP_RESTART,
    NGX_HTTP_DURABLE_OP_ENTITY_GET,
    NGX_HTTP_DURABLE_OP_ENTITY_LIST,
    NGX_HTTP_DURABLE_OP_ENTITY_SIGNAL,
    NGX_HTTP_DURABLE_OP_WORKER
} ngx_http_durable_op_e;


/*
 * Stable lower-case names of the operations, as $durable_op logs them
 * (README, "Variables"): indexed by ngx_http_durable_op_e, and for
 * NGX_HTTP_DURABLE_OP_WORKER by ngx_http_durable_work_action_e.
 */
extern const char  *ngx_http_durable_op_names[];
extern const char  *ngx_http_durable_work_action_names[];


/* B/worker/{kind}/{action} */

typedef enum {
    NGX_HTTP_DURABLE_WORK_ORCHESTRATIONS = 0,
    NGX_HTTP_DURABLE_WORK_ACTIVITIES,
    NGX_HTTP_DURABLE_WORK_ENTITIES
} ngx_http_durable_work_kind_e;


typedef enum {
    NGX_HTTP_DURABLE_WORK_CLAIM = 0,
    NGX_HTTP_DURABLE_WORK_COMPLETE,
    NGX_HTTP_DURABLE_WORK_RENEW,
    NGX_HTTP_DURABLE_WORK_ABANDON
} ngx_http_durable_work_action_e;


typedef enum {
    NGX_HTTP_DURABLE_ROUTE_OK = 0,
    NGX_HTTP_DURABLE_ROUTE_NOT_FOUND,   /* no such route */
    NGX_HTTP_DURABLE_ROUTE_METHOD,      /* route exists, method does not */
    NGX_HTTP_DURABLE_ROUTE_EMPTY,       /* empty segment inside the path */
    NGX_HTTP_DURABLE_ROUTE_ENCODING     /* bad percent-encoding */
} ngx_http_durable_route_rc_e;


typedef struct {
    ngx_http_durable_op_e       op;
    unsigned                    allow;      /* methods of the route */
    size_t                      prefix;     /* index of the matched prefix */

    ngx_http_durable_sv_t       name;       /* orchestrator or entity */
    ngx_http_durable_sv_t       id;         /* instance id or entity key */
    ngx_http_durable_sv_t       event;      /* raiseEvent name */
    ngx_http_durable_work_kind_e    work_kind;
    ngx_http_durable_work_action_e  work_action;
    unsigned                    has_id:1;
} ngx_http_durable_route_t;


typedef enum {
    NGX_HTTP_DURABLE_Q_TASKHUB = 0,
    NGX_HTTP_DURABLE_Q_CONNECTION,
    NGX_HTTP_DURABLE_Q_CODE,
    NGX_HTTP_DURABLE_Q_SHOWINPUT,
    NGX_HTTP_DURABLE_Q_SHOWHISTORY,
    NGX_HTTP_DURABLE_Q_SHOWHISTORYOUTPUT,
    NGX_HTTP_DURABLE_Q_RETURN500,
    NGX_HTTP_DURABLE_Q_CREATEDFROM,
    NGX_HTTP_DURABLE_Q_CREATEDTO,
    NGX_HTTP_DURABLE_Q_RUNTIMESTATUS,
    NGX_HTTP_DURABLE_Q_IDPREFIX,
    NGX_HTTP_DURABLE_Q_TOP,
    NGX_HTTP_DURABLE_Q_TIMEOUT,
    NGX_HTTP_DURABLE_Q_POLLINGINTERVAL,
    NGX_HTTP_DURABLE_Q_RETRYINTERVAL,
    NGX_HTTP_DURABLE_Q_WAIT,
    NGX_HTTP_DURABLE_Q_REASON,
    NGX_HTTP_DURABLE_Q_NEWID,
    NGX_HTTP_DURABLE_Q_OP,
    NGX_HTTP_DURABLE_Q_OPFROM,
    NGX_HTTP_DURABLE_Q_OPTO,
    NGX_HTTP_DURABLE_Q_FETCHSTATE,
    NGX_HTTP_DURABLE_Q_MAX,
    NGX_HTTP_DURABLE_Q_NAMES,
    NGX_HTTP_DURABLE_Q_COUNT
} ngx_http_durable_param_e;


/* a claim's names=: repeated, one name each (names may hold commas) */
#define NGX_HTTP_DURABLE_NAMES_MAX  32


typedef struct {
    ngx_http_durable_sv_t       v[NGX_HTTP_DURABLE_Q_COUNT];
    unsigned char               set[NGX_HTTP_DURABLE_Q_COUNT];
    ngx_http_durable_sv_t       names[NGX_HTTP_DURABLE_NAMES_MAX];
    size_t                      nnames;     /* all given: may exceed MAX */
} ngx_http_durable_query_t;


extern const char  *ngx_http_durable_param_names[];

/* longer than the longest parameter name */
#define NGX_HTTP_DURABLE_PARAM_LEN  40


int ngx_http_durable_route(ngx_http_durable_route_t *route,
    const ngx_http_durable_sv_t *prefixes, size_t nprefixes,
    unsigned method, const unsigned char *path, size_t len,
    unsigned char *scratch);
int ngx_http_durable_parse_query(ngx_http_durable_query_t *q,
    const unsigned char *args, size_t len, unsigned char *scratch);
int ngx_http_durable_query_next(const unsigned char *args, size_t len,
    size_t *pos, ngx_http_durable_sv_t *name, ngx_http_durable_sv_t *value);
int ngx_http_durable_param_lookup(const unsigned char *raw, size_t len);
size_t ngx_http_durable_unescape(unsigned char *dst,
    const unsigned char *src, size_t len, int *bad);
size_t ngx_http_durable_form_escape(unsigned char *dst,
    const unsigned char *src, size_t len);
size_t ngx_http_durable_form_escape_len(const unsigned char *src,
    size_t len);


#endif /* _NGX_HTTP_DURABLE_ROUTER_H_INCLUDED_ */
