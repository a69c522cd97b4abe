
/*
 * Copyright (C) ngx_durable authors
 *
 * Entity operations as calls of the functions of 60-entity.sql, and
 * their answers: signals, get, list, clean, and the claim, renewal,
 * abandon and completion of entity work items. As for the other kinds,
 * C checks names and renders members with the LMDB store's builders; the
 * continuation tokens of lists and clean-ups are decoded and encoded
 * here, so they are the LMDB store's byte for byte, and the completion's
 * digest is ds_entity.c's.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_internal.h"
#include "ds_pg.h"


#define DSI_PG_ETOKEN_RAW   (1 + DS_ID_MAX)
#define DSI_PG_INT_MAX      0x7fffffff


/*
 * op->backend during an entity's item callback: the claim's answer and
 * row, and the item's operations unescaped, each with its seq in the
 * queue. They stay for the whole callback, since a front end may point
 * into them until it has rendered the item (gRPC does).
 */
typedef struct {
    dsi_pg_claim_t      claim;          /* first: what ds_pg_op.c reads */
    ds_buf_t            text;
    size_t             *lens;
    uint64_t           *seqs;
    size_t              n;
    size_t              size;
    const char         *next;           /* the rest of the seqs' bigint[] */
    int                 bad;
} dsi_pg_eclaim_t;


static int dsi_pg_entity_eid(ds_str_t name, ds_str_t key, unsigned char *buf,
    ds_str_t *eid);
static int dsi_pg_entity_token(dsi_pg_call_t *call, ds_str_t token);
static void dsi_pg_entity_token_out(const PGresult *res, int row, int col,
    char *token, size_t *token_len);
static int dsi_pg_entity_complete(const ds_op_t *op, dsi_pg_call_t *call);
static int dsi_pg_entity_fail(const ds_op_t *op, dsi_pg_call_t *call,
    ds_str_t eid);
static void dsi_pg_elem_int(ds_buf_t *b, int64_t v);
static void dsi_pg_elem(ds_buf_t *b, const char *s, size_t len, int null,
    int first);
static int dsi_pg_entity_claimed(ds_op_t *op, const PGresult *res);
static int dsi_pg_entity_listed(ds_op_t *op, const PGresult *res);
static int dsi_pg_entity_decode(dsi_pg_eclaim_t *ec, const PGresult *res,
    int row);
static int dsi_pg_entity_one(void *data, uint64_t n, ds_str_t ev);
static void dsi_pg_entity_free(dsi_pg_eclaim_t *ec);


/* the ops of entities: this file's calls and answers */

int
dsi_pg_entity_op(const ds_op_t *op)
{
    switch (op->type) {

    case DS_OP_ENTITY_SIGNAL:
    case DS_OP_ENTITY_GET:
    case DS_OP_ENTITY_LIST:
    case DS_OP_ENTITY_CLEAN:
        return 1;

    case DS_OP_WORK_CLAIM:
        return op->in.claim.kind == DS_WORK_ENTITY;

    case DS_OP_WORK_COMPLETE:
    case DS_OP_WORK_RENEW:
    case DS_OP_WORK_ABANDON:
        return op->in.work.kind == DS_WORK_ENTITY;

    default:
        return 0;
    }
}


int
dsi_pg_entity_call(const ds_op_t *op, dsi_pg_call_t *call)
{
    int              rc;
    ds_str_t         eid, pfx, none;
    unsigned char    eb[DS_ID_MAX];
    ds_name_fault_t  f;

    none.data = "";
    none.len = 0;

    switch (op->type) {

    case DS_OP_ENTITY_SIGNAL:
        if ((op->in.entity.operation.len
             && ds_name_check(op->in.entity.operation, DS_NAME_MAX, &f)
                != DS_OK)
            || dsi_pg_entity_eid(op->in.entity.name, op->in.entity.key, eb,
                                 &eid)
               != DS_OK)
        {
            return DS_INVALID;
        }

        /* a time later than the database's clock: the signal waits */

        call->stmt.sql = "SELECT rc, error "
                         "FROM durable.entity_signal($1, $2, $3, $4)";
        dsi_pg_param_str(call, op->hub);
        dsi_pg_param_str(call, eid);

        if (dsi_pg_members(call, "operation", op->in.entity.operation,
                           "input", op->in.entity.input)
            != DS_OK)
        {
            return DS_ERROR;
        }

        dsi_pg_param_int(call, op->in.entity.at);
        break;

    case DS_OP_ENTITY_GET:
        if (dsi_pg_entity_eid(op->in.entity.name, op->in.entity.key, eb,
                              &eid)
            != DS_OK)
        {
            return DS_INVALID;
        }

        call->stmt.sql = "SELECT rc, state, last_op, owner "
                         "FROM durable.entity_get($1, $2)";
        dsi_pg_param_str(call, op->hub);
        dsi_pg_param_str(call, eid);
        break;

    case DS_OP_ENTITY_LIST:
        if (op->in.entity_list.top == 0) {
            return DS_INVALID;
        }

        /* the range: ids that begin with "@" or "@name@" */

        if (op->in.entity_list.name.len) {
            if (dsi_pg_entity_eid(op->in.entity_list.name, none, eb, &pfx)
                != DS_OK)
            {
                return DS_INVALID;
            }

        } else {
            pfx.data = "@";
            pfx.len = 1;
        }

        call->stmt.sql = "SELECT * FROM durable.entity_list($1, $2, $3, "
                         "$4, $5, $6, $7)";
        dsi_pg_param_str(call, op->hub);
        dsi_pg_param_str(call, pfx);
        dsi_pg_param_int(call, op->in.entity_list.from);
        dsi_pg_param_int(call, op->in.entity_list.to);
        dsi_pg_param_int(call, (int64_t) (op->in.entity_list.top
                                          > DSI_PG_INT_MAX
                                          ? DSI_PG_INT_MAX
                                          : op->in.entity_list.top));
        dsi_pg_param_int(call, (int64_t) (op->in.entity_list.scan_budget
                                          > DSI_PG_INT_MAX
                                          ? DSI_PG_INT_MAX
                                          : op->in.entity_list.scan_budget));

        if (dsi_pg_entity_token(call, op->in.entity_list.token_in)
            != DS_OK)
        {
            return DS_INVALID;
        }

        break;

    case DS_OP_ENTITY_CLEAN:
        if (op->in.entity_clean.max == 0) {
            return DS_INVALID;
        }

        call->stmt.sql = "SELECT rc, removed, released, pos, error "
                         "FROM durable.entity_clean($1, $2, $3, $4, $5)";
        dsi_pg_param_str(call, op->hub);

        if (dsi_pg_entity_token(call, op->in.entity_clean.token_in)
            != DS_OK)
        {
            return DS_INVALID;
        }

        dsi_pg_param_int(call, (int64_t) (op->in.entity_clean.max
                                          > DSI_PG_INT_MAX
                                          ? DSI_PG_INT_MAX
                                          : op->in.entity_clean.max));
        dsi_pg_param(call, op->in.entity_clean.remove_empty ? "t" : "f", 1,
                     0);
        dsi_pg_param(call, op->in.entity_clean.release_orphaned ? "t" : "f",
                     1, 0);
        break;

    case DS_OP_WORK_CLAIM:
        if (op->in.claim.max > 1000) {
            return DS_INVALID;
        }

        call->stmt.sql = "SELECT * FROM durable.claim_entities($1, $2, $3, "
                         "$4)";
        dsi_pg_param_str(call, op->hub);
        dsi_pg_param_int(call, op->in.claim.lease_us);

        if (dsi_pg_tokens(call, op->in.claim.tokens, op->in.claim.max)
            != DS_OK
            || dsi_pg_names(call, op->in.claim.filter) != DS_OK)
        {
            return DS_ERROR;
        }

        break;

    case DS_OP_WORK_RENEW:
    case DS_OP_WORK_ABANDON:
        if (dsi_pg_entity_eid(op->in.work.id, op->in.work.key, eb, &eid)
            != DS_OK)
        {
            return DS_INVALID;
        }

        call->stmt.sql = "SELECT rc, expires, error "
                         "FROM durable.lease_entity($1, $2, $3, $4, $5)";
        dsi_pg_param_str(call, op->hub);
        dsi_pg_param_str(call, eid);
        dsi_pg_param_lease(call, op->in.work.lease);
        dsi_pg_param_int(call, op->type == DS_OP_WORK_RENEW
                               ? op->in.work.lease_us : 0);
        dsi_pg_param(call, op->type == DS_OP_WORK_ABANDON ? "t" : "f", 1, 0);
        break;

    case DS_OP_WORK_COMPLETE:
        rc = dsi_pg_entity_complete(op, call);
        if (rc != DS_OK) {
            return rc;
        }

        break;

    default:
        return DS_UNSUPPORTED;
    }

    return dsi_pg_finish(call);
}


/*
 * The answer of an entity op, after dsi_pg_op_answer() set op->rc from
 * the last row; a GET points *entity into res.
 */

int
dsi_pg_entity_answer(ds_op_t *op, const PGresult *res, ds_entity_t *entity)
{
    int  rows;

    rows = PQntuples(res);

    switch (op->type) {

    case DS_OP_ENTITY_GET:
        op->out.entity.entity = NULL;

        if (op->rc != DS_OK) {
            break;
        }

        memset(entity, 0, sizeof(ds_entity_t));
        entity->name = op->in.entity.name;
        entity->key = op->in.entity.key;
        entity->state = dsi_pg_text(res, 0, 1);
        entity->last_op = dsi_pg_int(res, 0, 2);
        entity->locked_by = dsi_pg_text(res, 0, 3);
        op->out.entity.entity = entity;
        break;

    case DS_OP_ENTITY_LIST:
        return dsi_pg_entity_listed(op, res);

    case DS_OP_ENTITY_CLEAN:
        op->out.entity_clean.removed = 0;
        op->out.entity_clean.released = 0;
        op->out.entity_clean.token_len = 0;

        if (op->rc != DS_OK) {
            break;
        }

        op->out.entity_clean.removed = (size_t) dsi_pg_int(res, 0, 1);
        op->out.entity_clean.released = (size_t) dsi_pg_int(res, 0, 2);
        dsi_pg_entity_token_out(res, 0, 3, op->in.entity_clean.token,
                                &op->out.entity_clean.token_len);
        break;

    case DS_OP_WORK_CLAIM:
        return dsi_pg_entity_claimed(op, res);

    case DS_OP_WORK_RENEW:
        op->out.work.expires = dsi_pg_int(res, rows - 1, 1);
        break;

    default:
        break;
    }

    return DS_OK;
}


/* during a claim's item callback: the entity's operations, in order */

int
dsi_pg_entity_ops(const dsi_pg_claim_t *claim, ds_event_cb cb, void *data)
{
    size_t                  i, off;
    ds_str_t                ev;
    const dsi_pg_eclaim_t  *ec;

    ec = (const dsi_pg_eclaim_t *) claim;

    for (i = 0, off = 0; i < ec->n; i++) {
        ev.data = ec->text.data + off;
        ev.len = ec->lens[i];
        off += ec->lens[i];

        if (cb(data, ec->seqs[i], ev) != 0) {
            return DS_ERROR;
        }
    }

    return DS_OK;
}


/* the operations of row's item, and their seqs, into ec */

static int
dsi_pg_entity_decode(dsi_pg_eclaim_t *ec, const PGresult *res, int row)
{
    int  c, s;

    dsi_buf_reset(&ec->text);
    ec->n = 0;
    ec->bad = 0;

    c = dsi_pg_col(res, "operations");
    s = dsi_pg_col(res, "seqs");

    if (c < 0 || s < 0 || PQgetisnull(res, row, c)
        || PQgetisnull(res, row, s))
    {
        return DS_ERROR;
    }

    ec->next = PQgetvalue(res, row, s);

    if (*ec->next++ != '{'
        || dsi_pg_array(PQgetvalue(res, row, c), dsi_pg_entity_one, ec)
           != DS_OK
        || ec->bad || ec->text.oom)
    {
        return DS_ERROR;
    }

    return DS_OK;
}


/* dsi_pg_array() numbers the operations from 1: each gets its seq */

static int
dsi_pg_entity_one(void *data, uint64_t n, ds_str_t ev)
{
    char             *end;
    void             *p;
    uint64_t          seq;
    dsi_pg_eclaim_t  *ec;

    (void) n;

    ec = data;
    seq = (uint64_t) strtoull(ec->next, &end, 10);

    if (end == ec->next || (*end != ',' && *end != '}')) {
        ec->bad = 1;
        return -1;
    }

    ec->next = end + 1;

    if (ec->n == ec->size) {
        ec->size = ec->size ? 2 * ec->size : 16;

        p = realloc(ec->lens, ec->size * sizeof(size_t));
        if (p == NULL) {
            ec->bad = 1;
            return -1;
        }

        ec->lens = p;

        p = realloc(ec->seqs, ec->size * sizeof(uint64_t));
        if (p == NULL) {
            ec->bad = 1;
            return -1;
        }

        ec->seqs = p;
    }

    dsi_buf_add(&ec->text, ev.data, ev.len);
    ec->lens[ec->n] = ev.len;
    ec->seqs[ec->n++] = seq;

    return ec->text.oom;
}


static void
dsi_pg_entity_free(dsi_pg_eclaim_t *ec)
{
    dsi_buf_free(&ec->text);
    free(ec->lens);
    free(ec->seqs);
}


/* "@name@key" as the LMDB store makes it, of UTF-8 the database takes */

static int
dsi_pg_entity_eid(ds_str_t name, ds_str_t key, unsigned char *buf,
    ds_str_t *eid)
{
    size_t                i, n, skip;
    const unsigned char  *p;

    if (dsi_entity_id(name, key, buf, eid) != DS_OK) {
        return DS_INVALID;
    }

    p = (const unsigned char *) eid->data;

    for (i = 0; i < eid->len; i += n) {
        n = dsi_json_utf8_seq(p + i, eid->len - i, &skip);

        if (n == 0) {
            return DS_INVALID;
        }
    }

    return DS_OK;
}


/*
 * A list's or clean-up's token_in as the id to resume after (NULL for
 * none): base64url of "version(2) @name@key", as ds_entity.c writes it.
 * An id the database cannot hold as text is refused.
 */

static int
dsi_pg_entity_token(dsi_pg_call_t *call, ds_str_t token)
{
    size_t                i, n, len, skip;
    unsigned char         raw[DSI_PG_ETOKEN_RAW];

    if (token.len == 0) {
        dsi_pg_param(call, NULL, 0, 1);
        return DS_OK;
    }

    if (dsi_b64url_decode(token, raw, sizeof(raw), &len) != DS_OK
        || len < 2 || raw[0] != DSI_ETOKEN_VERSION)
    {
        return DS_INVALID;
    }

    for (i = 1; i < len; i += n) {
        n = raw[i] ? dsi_json_utf8_seq(raw + i, len - i, &skip) : 0;

        if (n == 0) {
            return DS_INVALID;
        }
    }

    dsi_pg_param(call, (const char *) raw + 1, len - 1, 0);

    return DS_OK;
}


/* the id of res's column col as a token, none when NULL */

static void
dsi_pg_entity_token_out(const PGresult *res, int row, int col,
    char *token, size_t *token_len)
{
    ds_str_t       pos;
    unsigned char  raw[DSI_PG_ETOKEN_RAW];

    *token_len = 0;

    if (PQgetisnull(res, row, col)) {
        return;
    }

    pos = dsi_pg_text(res, row, col);

    if (pos.len == 0 || pos.len > DS_ID_MAX) {
        return;
    }

    raw[0] = DSI_ETOKEN_VERSION;
    memcpy(raw + 1, pos.data, pos.len);
    *token_len = dsi_b64url_encode(raw, pos.len + 1, token);
}


static int
dsi_pg_entity_listed(ds_op_t *op, const PGresult *res)
{
    int          i, rows;
    ds_str_t     eid;
    ds_entity_t  e;

    rows = PQntuples(res);
    op->out.list.token_len = 0;

    if (op->rc != DS_OK) {
        return DS_OK;
    }

    for (i = 0; i < rows - 1; i++) {
        memset(&e, 0, sizeof(ds_entity_t));
        eid = dsi_pg_text(res, i, 1);

        if (dsi_entity_split(eid, &e.name, &e.key) != DS_OK) {
            op->rc = DS_ERROR;
            return DS_ERROR;
        }

        e.state = dsi_pg_text(res, i, 2);
        e.last_op = dsi_pg_int(res, i, 3);
        e.locked_by = dsi_pg_text(res, i, 4);

        if (op->in.entity_list.item(op->in.entity_list.item_data, &e) != 0) {
            op->rc = DS_ERROR;
            return DS_OK;
        }
    }

    dsi_pg_entity_token_out(res, rows - 1, 5, op->in.entity_list.token,
                            &op->out.list.token_len);

    return DS_OK;
}


static int
dsi_pg_entity_claimed(ds_op_t *op, const PGresult *res)
{
    int              i, rows;
    void            *answer;
    ds_work_item_t   item;
    dsi_pg_eclaim_t  ec;

    rows = PQntuples(res);
    op->out.claim.claimed = 0;
    op->out.claim.visible = INT64_MAX;

    if (op->in.claim.filter != NULL) {
        /* names filter in the query: nothing passed over */
        op->in.claim.filter->skipped = 0;
        op->in.claim.filter->more = 0;
        op->in.claim.filter->expired = 0;
    }

    if (op->in.claim.begin != NULL) {
        op->in.claim.begin(op->in.claim.item_data);
    }

    if (op->rc != DS_OK) {
        return DS_OK;
    }

    /* the backend's answer again once the items are read */
    answer = op->backend;
    memset(&ec, 0, sizeof(dsi_pg_eclaim_t));
    dsi_buf_init(&ec.text);
    ec.claim.res = res;
    op->backend = &ec;

    for (i = 0; i < rows - 1; i++) {
        ec.claim.row = i;
        memset(&item, 0, sizeof(ds_work_item_t));
        item.kind = DS_WORK_ENTITY;
        item.id = dsi_pg_text(res, i, 1);

        if (dsi_entity_split(item.id, &item.name, &item.key) != DS_OK
            || dsi_pg_entity_decode(&ec, res, i) != DS_OK)
        {
            dsi_pg_entity_free(&ec);
            op->backend = answer;
            op->rc = DS_ERROR;
            return DS_ERROR;
        }

        if (PQgetvalue(res, i, 3)[0] == 't') {
            item.input = dsi_pg_text(res, i, 2);
        }

        item.upto = (uint64_t) dsi_pg_int(res, i, 4);
        item.lease_expires = dsi_pg_int(res, i, 5);
        item.lease = op->in.claim.tokens + (size_t) i * DS_LEASE_LEN;

        if (op->in.claim.item(op->in.claim.item_data, op, &item) != 0) {
            dsi_pg_entity_free(&ec);
            op->backend = answer;
            op->rc = DS_ERROR;
            return DS_OK;
        }
    }

    dsi_pg_entity_free(&ec);
    op->backend = answer;
    op->out.claim.claimed = (size_t) (rows - 1);
    op->out.claim.visible = dsi_pg_int(res, rows - 1, 9);

    if (op->in.claim.filter != NULL) {
        /* the last row's upto: items claimed from leases that ran out */
        op->in.claim.filter->expired = (size_t) dsi_pg_int(res, rows - 1,
                                                           4);
    }

    return DS_OK;
}


/*
 * A completion: the state, each result as {event type, members after
 * RequestId} and each action as {kind, target, name or members, ...}, in
 * text[][] literals; see durable.complete_entity()
 */

static int
dsi_pg_entity_complete(const ds_op_t *op, dsi_pg_call_t *call)
{
    int                        rc, n;
    char                       at[24];
    size_t                     i;
    uint64_t                   digest;
    ds_buf_t                   arr, ev;
    ds_str_t                   eid, aid;
    unsigned char              eb[DS_ID_MAX], ab[DS_ID_MAX];
    const ds_action_t         *a;
    const ds_entity_result_t  *r;

    if (dsi_pg_entity_eid(op->in.work.id, op->in.work.key, eb, &eid)
        != DS_OK)
    {
        return DS_INVALID;
    }

    if (op->in.work.failed) {
        /* results, state and actions are not read, as on LMDB */
        return dsi_pg_entity_fail(op, call, eid);
    }

    if ((op->in.work.nresults && op->in.work.results == NULL)
        || dsi_entity_actions_check(op->in.work.actions, op->in.work.nactions)
           != DS_OK)
    {
        return DS_INVALID;
    }

    for (i = 0; i < op->in.work.nactions; i++) {
        a = &op->in.work.actions[i];

        if (a->type == DS_ACT_SIGNAL_ENTITY
            && dsi_pg_entity_eid(a->entity_name, a->entity_key, ab, &aid)
               != DS_OK)
        {
            return DS_INVALID;
        }
    }

    digest = dsi_entity_digest(op->in.work.delete_state, op->in.work.result,
                               NULL, op->in.work.results,
                               op->in.work.nresults, op->in.work.actions,
                               op->in.work.nactions);

    call->stmt.sql = "SELECT rc, error FROM durable.complete_entity($1, $2, "
                     "$3, $4, $5, $6, $7, $8)";
    dsi_pg_param_str(call, op->hub);
    dsi_pg_param_str(call, eid);
    dsi_pg_param_lease(call, op->in.work.lease);
    dsi_pg_param_int(call, (int64_t) digest);
    dsi_pg_param(call, op->in.work.delete_state ? "t" : "f", 1, 0);
    dsi_pg_param_json(call, op->in.work.result);

    dsi_buf_init(&arr);
    dsi_buf_init(&ev);

    /* {{"EntityOperationCompleted","\"Output\":1"},...} */

    dsi_buf_add(&arr, "{", 1);

    for (i = 0; i < op->in.work.nresults; i++) {
        r = &op->in.work.results[i];

        dsi_ev_open(&ev);

        if (r->failed) {
            dsi_ev_json(&ev, "Reason", r->reason);
            dsi_ev_json(&ev, "Details", r->details);

        } else {
            dsi_ev_json(&ev, "Output", r->output);
        }

        dsi_buf_add(&arr, i ? ",{" : "{", i ? 2 : 1);
        dsi_pg_elem(&arr, r->failed ? "EntityOperationFailed"
                                    : "EntityOperationCompleted",
                    r->failed ? sizeof("EntityOperationFailed") - 1
                              : sizeof("EntityOperationCompleted") - 1,
                    0, 1);
        dsi_pg_elem(&arr, ev.data + 1, ev.len - 1, 0, 0);
        dsi_buf_add(&arr, "}", 1);
    }

    dsi_buf_add(&arr, "}", 1);

    if (arr.oom || ev.oom) {
        dsi_buf_free(&arr);
        dsi_buf_free(&ev);
        return DS_ERROR;
    }

    dsi_pg_param(call, arr.data, arr.len, 0);

    /*
     * {{"signal","@e@k","\"operation\":..",NULL,NULL,NULL,NULL,NULL},
     *  {"start",id,name,members,input,time,version,tags},...}
     */

    dsi_buf_reset(&arr);
    dsi_buf_add(&arr, "{", 1);

    for (i = 0; i < op->in.work.nactions; i++) {
        a = &op->in.work.actions[i];

        dsi_buf_add(&arr, i ? ",{" : "{", i ? 2 : 1);
        dsi_ev_open(&ev);

        if (a->type == DS_ACT_SIGNAL_ENTITY) {
            (void) dsi_pg_entity_eid(a->entity_name, a->entity_key, ab,
                                     &aid);
            dsi_ev_str(&ev, "operation", a->name);
            dsi_ev_json(&ev, "input", a->input);

            dsi_pg_elem(&arr, "signal", 6, 0, 1);
            dsi_pg_elem(&arr, aid.data, aid.len, 0, 0);
            dsi_pg_elem(&arr, ev.data + 1, ev.len - 1, 0, 0);

            if (a->fire_at > 0) {
                n = snprintf(at, sizeof(at), "%lld", (long long) a->fire_at);
                dsi_pg_elem(&arr, at, (size_t) n, 0, 0);

            } else {
                dsi_pg_elem(&arr, NULL, 0, 1, 0);
            }

            dsi_pg_elem(&arr, NULL, 0, 1, 0);
            dsi_pg_elem(&arr, NULL, 0, 1, 0);
            dsi_pg_elem(&arr, NULL, 0, 1, 0);
            dsi_pg_elem(&arr, NULL, 0, 1, 0);

        } else {
            /* ExecutionStarted's members but ScheduledStartTime, as
               dsi_start() writes them */
            dsi_ev_str(&ev, "Name", a->name);
            dsi_ev_json(&ev, "Input", a->input);

            if (a->version.len) {
                dsi_ev_str(&ev, "Version", a->version);
            }

            if (a->tags.len) {
                dsi_ev_json(&ev, "Tags", a->tags);
            }

            dsi_pg_elem(&arr, "start", 5, 0, 1);
            dsi_pg_elem(&arr, a->instance_id.data, a->instance_id.len, 0, 0);
            dsi_pg_elem(&arr, a->name.data, a->name.len, 0, 0);
            dsi_pg_elem(&arr, ev.data + 1, ev.len - 1, 0, 0);
            dsi_pg_elem(&arr, a->input.data, a->input.len,
                        a->input.len == 0, 0);
            dsi_pg_elem_int(&arr, a->fire_at);
            dsi_pg_elem(&arr, a->version.data, a->version.len,
                        a->version.len == 0, 0);
            dsi_pg_elem(&arr, a->tags.data, a->tags.len, a->tags.len == 0,
                        0);
        }

        dsi_buf_add(&arr, "}", 1);
    }

    dsi_buf_add(&arr, "}", 1);
    arr.oom |= ev.oom;

    rc = DS_OK;

    if (arr.oom) {
        rc = DS_ERROR;

    } else {
        dsi_pg_param(call, arr.data, arr.len, 0);
    }

    dsi_buf_free(&arr);
    dsi_buf_free(&ev);

    return rc;
}


/*
 * A batch that failed as a whole (ds_work_fail_entity()): the failure's
 * members, "Reason":..,"Details":.., answer each call; the digest is
 * LMDB's for a failure
 */

static int
dsi_pg_entity_fail(const ds_op_t *op, dsi_pg_call_t *call, ds_str_t eid)
{
    ds_str_t            none;
    ds_buf_t            ev;
    ds_entity_result_t  failure;

    none.data = "";
    none.len = 0;

    memset(&failure, 0, sizeof(ds_entity_result_t));
    failure.failed = 1;
    failure.output = none;
    failure.reason = op->in.work.reason;
    failure.details = op->in.work.details;

    call->stmt.sql = "SELECT rc, error FROM durable.fail_entity($1, $2, $3, "
                     "$4, $5)";
    dsi_pg_param_str(call, op->hub);
    dsi_pg_param_str(call, eid);
    dsi_pg_param_lease(call, op->in.work.lease);
    dsi_pg_param_int(call, (int64_t) dsi_entity_digest(0, none, &failure,
                                                       NULL, 0, NULL, 0));

    dsi_buf_init(&ev);
    dsi_ev_open(&ev);
    dsi_ev_json(&ev, "Reason", failure.reason);
    dsi_ev_json(&ev, "Details", failure.details);

    if (ev.oom) {
        dsi_buf_free(&ev);
        return DS_ERROR;
    }

    dsi_pg_param(call, ev.data + 1, ev.len - 1, 0);
    dsi_buf_free(&ev);

    return DS_OK;
}


/* a time as an element of an array literal, never the first of its row */

static void
dsi_pg_elem_int(ds_buf_t *b, int64_t v)
{
    char  num[24];

    dsi_buf_add(b, num, (size_t) snprintf(num, sizeof(num), ",%lld",
                                          (long long) v));
}


/* an element of an array literal, quoted, or NULL; a comma before all
   but the first of its row */

static void
dsi_pg_elem(ds_buf_t *b, const char *s, size_t len, int null, int first)
{
    size_t  i, from;

    if (!first) {
        dsi_buf_add(b, ",", 1);
    }

    if (null) {
        dsi_buf_add(b, "NULL", 4);
        return;
    }

    dsi_buf_add(b, "\"", 1);

    for (i = 0, from = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\') {
            dsi_buf_add(b, s + from, i - from);
            dsi_buf_add(b, "\\", 1);
            from = i;
        }
    }

    dsi_buf_add(b, s + from, len - from);
    dsi_buf_add(b, "\"", 1);
}
