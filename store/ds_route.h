
/*
 * Copyright (C) ngx_durable authors
 *
 * Method + raw path -> operation and path parameters; raw query string ->
 * the known parameters. Plain C without nginx headers, so the unit tests
 * and the fuzzers link it directly.
 */


#ifndef DS_ROUTE_H
#define DS_ROUTE_H


#include <stddef.h>

#include "durable_store.h"


#define DS_ROUTE_GET      0x01
#define DS_ROUTE_POST     0x02
#define DS_ROUTE_DELETE   0x04


typedef enum {
    DS_ROUTE_OP_NONE = 0,
    DS_ROUTE_OP_START,
    DS_ROUTE_OP_STATUS,
    DS_ROUTE_OP_LIST,
    DS_ROUTE_OP_PURGE_ONE,
    DS_ROUTE_OP_PURGE_MANY,
    DS_ROUTE_OP_RAISE_EVENT,
    DS_ROUTE_OP_TERMINATE,
    DS_ROUTE_OP_SUSPEND,
    DS_ROUTE_OP_RESUME,
    DS_ROUTE_OP_REWIND,
    DS_ROUTE_OP_RESTART,
    DS_ROUTE_OP_ENTITY_GET,
    DS_ROUTE_OP_ENTITY_LIST,
    DS_ROUTE_OP_ENTITY_SIGNAL,
    DS_ROUTE_OP_WORKER
} ds_route_op_e;


/*
 * Stable lower-case names of the operations, as $durable_op logs them
 * (README, "Variables"): indexed by ds_route_op_e, and for
 * DS_ROUTE_OP_WORKER by ds_route_work_action_e.
 */
extern const char  *ds_route_op_names[];
extern const char  *ds_route_work_action_names[];


/* B/worker/{kind}/{action} */

typedef enum {
    DS_ROUTE_WORK_ORCHESTRATIONS = 0,
    DS_ROUTE_WORK_ACTIVITIES,
    DS_ROUTE_WORK_ENTITIES
} ds_route_work_kind_e;


typedef enum {
    DS_ROUTE_WORK_CLAIM = 0,
    DS_ROUTE_WORK_COMPLETE,
    DS_ROUTE_WORK_RENEW,
    DS_ROUTE_WORK_ABANDON
} ds_route_work_action_e;


typedef enum {
    DS_ROUTE_OK = 0,
    DS_ROUTE_NOT_FOUND,   /* no such route */
    DS_ROUTE_METHOD,      /* route exists, method does not */
    DS_ROUTE_EMPTY,       /* empty segment inside the path */
    DS_ROUTE_ENCODING     /* bad percent-encoding */
} ds_route_rc_e;


typedef struct {
    ds_route_op_e           op;
    unsigned                allow;      /* methods of the route */
    size_t                  prefix;     /* index of the matched prefix */

    ds_str_t                name;       /* orchestrator or entity */
    ds_str_t                id;         /* instance id or entity key */
    ds_str_t                event;      /* raiseEvent name */
    ds_route_work_kind_e    work_kind;
    ds_route_work_action_e  work_action;
    unsigned                has_id:1;
} ds_route_t;


typedef enum {
    DS_ROUTE_Q_TASKHUB = 0,
    DS_ROUTE_Q_CONNECTION,
    DS_ROUTE_Q_CODE,
    DS_ROUTE_Q_SHOWINPUT,
    DS_ROUTE_Q_SHOWHISTORY,
    DS_ROUTE_Q_SHOWHISTORYOUTPUT,
    DS_ROUTE_Q_RETURN500,
    DS_ROUTE_Q_CREATEDFROM,
    DS_ROUTE_Q_CREATEDTO,
    DS_ROUTE_Q_RUNTIMESTATUS,
    DS_ROUTE_Q_IDPREFIX,
    DS_ROUTE_Q_TOP,
    DS_ROUTE_Q_TIMEOUT,
    DS_ROUTE_Q_POLLINGINTERVAL,
    DS_ROUTE_Q_RETRYINTERVAL,
    DS_ROUTE_Q_WAIT,
    DS_ROUTE_Q_REASON,
    DS_ROUTE_Q_NEWID,
    DS_ROUTE_Q_OP,
    DS_ROUTE_Q_OPFROM,
    DS_ROUTE_Q_OPTO,
    DS_ROUTE_Q_FETCHSTATE,
    DS_ROUTE_Q_MAX,
    DS_ROUTE_Q_NAMES,
    DS_ROUTE_Q_CLAIM,
    DS_ROUTE_Q_COUNT
} ds_route_param_e;


/* a claim's names=: repeated, one name each (names may hold commas) */
#define DS_ROUTE_NAMES_MAX  32


typedef struct {
    ds_str_t       v[DS_ROUTE_Q_COUNT];
    unsigned char  set[DS_ROUTE_Q_COUNT];
    ds_str_t       names[DS_ROUTE_NAMES_MAX];
    size_t         nnames;     /* all given: may exceed MAX */
    unsigned       code_twice:1;   /* code= with two values: not a dup */
} ds_route_query_t;


extern const char  *ds_route_param_names[];

/* longer than the longest parameter name */
#define DS_ROUTE_PARAM_LEN  40


int ds_route(ds_route_t *route,
    const ds_str_t *prefixes, size_t nprefixes,
    unsigned method, const unsigned char *path, size_t len,
    unsigned char *scratch);
int ds_route_parse_query(ds_route_query_t *q,
    const unsigned char *args, size_t len, unsigned char *scratch);
int ds_route_query_next(const unsigned char *args, size_t len,
    size_t *pos, ds_str_t *name, ds_str_t *value);
int ds_route_param_lookup(const unsigned char *raw, size_t len);
size_t ds_route_unescape(unsigned char *dst,
    const unsigned char *src, size_t len, int *bad);
size_t ds_route_form_escape(unsigned char *dst,
    const unsigned char *src, size_t len);
size_t ds_route_form_escape_len(const unsigned char *src,
    size_t len);


#endif /* DS_ROUTE_H */
