
/*
 * Copyright (C) ngx_durable authors
 *
 * Unit tests of the router: raw path + method -> operation, and the
 * query parser. The router has no nginx headers, so it links directly.
 */


#include <stdlib.h>

#include "t.h"
#include "ds_route.h"


#define SV(s)  { s, sizeof(s) - 1 }


static ds_str_t  prefixes[] = {
    SV("/runtime/webhooks/durabletask"),
    SV("/admin/extensions/DurableTaskExtension"),
    SV("/durabletask")
};


static unsigned char  scratch[4096];


static int
route(ds_route_t *r, unsigned method, const char *path)
{
    return ds_route(r, prefixes, 3, method,
                    (const unsigned char *) path, strlen(path),
                    scratch);
}


static int
sv_is(ds_str_t *v, const char *s)
{
    return v->len == strlen(s) && memcmp(v->data, s, v->len) == 0;
}


static void
test_prefixes(void)
{
    ds_route_t  r;

    T(route(&r, DS_ROUTE_GET,
            "/runtime/webhooks/durabletask/instances")
          == DS_ROUTE_OK);
    T(r.op == DS_ROUTE_OP_LIST && r.prefix == 0);

    T(route(&r, DS_ROUTE_GET,
            "/Runtime/WebHooks/DurableTask/Instances/")
          == DS_ROUTE_OK);
    T(r.op == DS_ROUTE_OP_LIST);

    T(route(&r, DS_ROUTE_GET,
            "/admin/extensions/durabletaskextension/instances/x")
          == DS_ROUTE_OK);
    T(r.op == DS_ROUTE_OP_STATUS && r.prefix == 1);

    T(route(&r, DS_ROUTE_GET, "/durabletask/instances/x")
      == DS_ROUTE_OK);
    T(r.prefix == 2);

    /* a prefix must end at a slash */
    T(route(&r, DS_ROUTE_GET, "/durabletaskX/instances")
      == DS_ROUTE_NOT_FOUND);
    T(route(&r, DS_ROUTE_GET, "/other/instances")
      == DS_ROUTE_NOT_FOUND);
    T(route(&r, DS_ROUTE_GET, "/durabletask")
      == DS_ROUTE_NOT_FOUND);
    T(route(&r, DS_ROUTE_GET, "/durabletask/nonsense")
      == DS_ROUTE_NOT_FOUND);
    T(r.op == DS_ROUTE_OP_NONE);
}


static void
test_slashes_and_decoding(void)
{
    ds_route_t  r;

    T(route(&r, DS_ROUTE_GET, "/durabletask//instances/abc//")
      == DS_ROUTE_OK);
    T(r.op == DS_ROUTE_OP_STATUS && sv_is(&r.id, "abc"));

    T(route(&r, DS_ROUTE_POST,
            "/durabletask/entities//k")
          == DS_ROUTE_EMPTY);

    T(route(&r, DS_ROUTE_GET, "/durabletask/instances/a+b%20c")
      == DS_ROUTE_OK);
    T(sv_is(&r.id, "a b c"));

    T(route(&r, DS_ROUTE_GET, "/durabletask/instances/a%2Fb")
      == DS_ROUTE_OK);
    T(sv_is(&r.id, "a/b"));

    T(route(&r, DS_ROUTE_GET, "/durabletask/instances/a%2")
      == DS_ROUTE_ENCODING);
    T(route(&r, DS_ROUTE_GET, "/durabletask/instances/a%zz")
      == DS_ROUTE_ENCODING);

    /* literal words may be encoded too */
    T(route(&r, DS_ROUTE_GET, "/durabletask/%69nstances/x")
      == DS_ROUTE_OK);
    T(r.op == DS_ROUTE_OP_STATUS);
}


static void
test_instances(void)
{
    ds_route_t  r;

    T(route(&r, DS_ROUTE_DELETE, "/durabletask/instances")
      == DS_ROUTE_OK);
    T(r.op == DS_ROUTE_OP_PURGE_MANY);

    T(route(&r, DS_ROUTE_DELETE, "/durabletask/instances/i")
      == DS_ROUTE_OK);
    T(r.op == DS_ROUTE_OP_PURGE_ONE && sv_is(&r.id, "i"));

    T(route(&r, DS_ROUTE_POST, "/durabletask/instances")
      == DS_ROUTE_METHOD);
    T(r.allow == (DS_ROUTE_GET | DS_ROUTE_DELETE));

    T(route(&r, DS_ROUTE_POST, "/durabletask/instances/i/TERMINATE")
      == DS_ROUTE_OK);
    T(r.op == DS_ROUTE_OP_TERMINATE);

    T(route(&r, DS_ROUTE_POST, "/durabletask/instances/i/suspend")
      == DS_ROUTE_OK);
    T(r.op == DS_ROUTE_OP_SUSPEND);

    T(route(&r, DS_ROUTE_POST, "/durabletask/instances/i/resume")
      == DS_ROUTE_OK);
    T(r.op == DS_ROUTE_OP_RESUME);

    T(route(&r, DS_ROUTE_POST, "/durabletask/instances/i/rewind")
      == DS_ROUTE_OK);
    T(r.op == DS_ROUTE_OP_REWIND);

    T(route(&r, DS_ROUTE_POST, "/durabletask/instances/i/restart")
      == DS_ROUTE_OK);
    T(r.op == DS_ROUTE_OP_RESTART);

    T(route(&r, DS_ROUTE_GET, "/durabletask/instances/i/restart")
      == DS_ROUTE_METHOD);
    T(r.allow == DS_ROUTE_POST);

    T(route(&r, DS_ROUTE_POST, "/durabletask/instances/i/explode")
      == DS_ROUTE_NOT_FOUND);

    T(route(&r, DS_ROUTE_POST,
            "/durabletask/instances/i/raiseevent/Approval")
          == DS_ROUTE_OK);
    T(r.op == DS_ROUTE_OP_RAISE_EVENT
      && sv_is(&r.id, "i") && sv_is(&r.event, "Approval"));

    T(route(&r, DS_ROUTE_POST,
            "/durabletask/instances/i/raiseEvent")
          == DS_ROUTE_NOT_FOUND);

    T(route(&r, DS_ROUTE_POST,
            "/durabletask/instances/i/raiseEvent/e/extra")
          == DS_ROUTE_NOT_FOUND);

    T(route(&r, 0, "/durabletask/instances/i")
      == DS_ROUTE_METHOD);
}


static void
test_orchestrators_and_entities(void)
{
    ds_route_t  r;

    T(route(&r, DS_ROUTE_POST, "/durabletask/Orchestrators/Hello")
      == DS_ROUTE_OK);
    T(r.op == DS_ROUTE_OP_START && sv_is(&r.name, "Hello")
      && !r.has_id);

    T(route(&r, DS_ROUTE_POST,
            "/durabletask/orchestrators/Hello/id-1/")
          == DS_ROUTE_OK);
    T(r.has_id && sv_is(&r.id, "id-1"));

    T(route(&r, DS_ROUTE_GET, "/durabletask/orchestrators/Hello")
      == DS_ROUTE_METHOD);
    T(route(&r, DS_ROUTE_POST, "/durabletask/orchestrators")
      == DS_ROUTE_NOT_FOUND);
    T(route(&r, DS_ROUTE_POST, "/durabletask/orchestrators/a/b/c")
      == DS_ROUTE_NOT_FOUND);

    T(route(&r, DS_ROUTE_GET, "/durabletask/entities")
      == DS_ROUTE_OK);
    T(r.op == DS_ROUTE_OP_ENTITY_LIST);

    T(route(&r, DS_ROUTE_GET, "/durabletask/entities/counter")
      == DS_ROUTE_OK);
    T(r.op == DS_ROUTE_OP_ENTITY_LIST
      && sv_is(&r.name, "counter"));

    T(route(&r, DS_ROUTE_GET, "/durabletask/entities/counter/k")
      == DS_ROUTE_OK);
    T(r.op == DS_ROUTE_OP_ENTITY_GET && sv_is(&r.id, "k"));

    T(route(&r, DS_ROUTE_DELETE, "/durabletask/entities/counter")
      == DS_ROUTE_OK);
    T(r.op == DS_ROUTE_OP_ENTITY_SIGNAL && !r.has_id);

    T(route(&r, DS_ROUTE_POST, "/durabletask/entities")
      == DS_ROUTE_METHOD);
}


static void
test_worker(void)
{
    ds_route_t  r;

    T(route(&r, DS_ROUTE_POST,
            "/durabletask/worker/orchestrations/claim")
          == DS_ROUTE_OK);
    T(r.op == DS_ROUTE_OP_WORKER
      && r.work_kind == DS_ROUTE_WORK_ORCHESTRATIONS
      && r.work_action == DS_ROUTE_WORK_CLAIM);

    T(route(&r, DS_ROUTE_POST,
            "/durabletask/Worker/Activities/Complete")
          == DS_ROUTE_OK);
    T(r.work_kind == DS_ROUTE_WORK_ACTIVITIES
      && r.work_action == DS_ROUTE_WORK_COMPLETE);

    T(route(&r, DS_ROUTE_POST,
            "/durabletask/worker/entities/abandon")
          == DS_ROUTE_OK);
    T(r.work_kind == DS_ROUTE_WORK_ENTITIES
      && r.work_action == DS_ROUTE_WORK_ABANDON);

    T(route(&r, DS_ROUTE_GET,
            "/durabletask/worker/activities/renew")
          == DS_ROUTE_METHOD);
    T(route(&r, DS_ROUTE_POST, "/durabletask/worker/timers/claim")
      == DS_ROUTE_NOT_FOUND);
    T(route(&r, DS_ROUTE_POST, "/durabletask/worker/activities")
      == DS_ROUTE_NOT_FOUND);
}


static int
query(ds_route_query_t *q, const char *args)
{
    return ds_route_parse_query(q, (const unsigned char *) args,
                                strlen(args), scratch);
}


static void
test_query(void)
{
    ds_route_query_t  q;

    T(query(&q, "TASKHUB=h1&showinput=false&code=a%2Bb+c") == -1);
    T(q.set[DS_ROUTE_Q_TASKHUB]
      && sv_is(&q.v[DS_ROUTE_Q_TASKHUB], "h1"));
    T(sv_is(&q.v[DS_ROUTE_Q_SHOWINPUT], "false"));
    T(sv_is(&q.v[DS_ROUTE_Q_CODE], "a+b c"));
    T(!q.set[DS_ROUTE_Q_TOP]);

    T(query(&q, "runtimeStatus=Running,Pending&x=1&runtimestatus=failed")
      == -1);
    T(sv_is(&q.v[DS_ROUTE_Q_RUNTIMESTATUS],
            "Running,Pending,failed"));

    T(query(&q, "top=1&top=2") == DS_ROUTE_Q_TOP);

    /* the same value twice, compared decoded and trimmed, is no conflict */
    T(query(&q, "taskHub=A&code=k&TASKHUB=%41&taskhub=+A") == -1);
    T(sv_is(&q.v[DS_ROUTE_Q_TASKHUB], "A"));
    T(query(&q, "taskHub=A&taskHub=a") == DS_ROUTE_Q_TASKHUB);

    /* two keys are the key check's to judge, not a conflict here */
    T(query(&q, "code=a&code=a") == -1 && !q.code_twice);
    T(query(&q, "code=a&top=1&code=b&top=2") == DS_ROUTE_Q_TOP
      && q.code_twice);
    T(query(&q, "taskHub=A&taskHub=") == DS_ROUTE_Q_TASKHUB);
    T(query(&q, "taskHub=A&taskHub=AB") == DS_ROUTE_Q_TASKHUB);
    T(query(&q, "top=1&top=1&showInput=x&showInput=y&top=2")
      == DS_ROUTE_Q_SHOWINPUT);

    /* a list keeps every value, repeated ones too */
    T(query(&q, "runtimeStatus=Pending&runtimeStatus=Pending") == -1);
    T(sv_is(&q.v[DS_ROUTE_Q_RUNTIMESTATUS], "Pending,Pending"));

    /* a '%' that escapes nothing is text in queries, as the reference */
    T(query(&q, "reason=50%%20done%&taskHub=%zz") == -1);
    T(sv_is(&q.v[DS_ROUTE_Q_REASON], "50% done%"));
    T(sv_is(&q.v[DS_ROUTE_Q_TASKHUB], "%zz"));

    /* items without '=' or without a name are ignored; values trimmed */
    T(query(&q, "flag&=x&&top=%205%20") == -1);
    T(sv_is(&q.v[DS_ROUTE_Q_TOP], "5"));

    /* texts keep an escaped space at an edge, and lose a raw one */
    T(query(&q, "instanceIdPrefix=order%20&reason=+x+&op=%09add ") == -1);
    T(sv_is(&q.v[DS_ROUTE_Q_IDPREFIX], "order "));
    T(sv_is(&q.v[DS_ROUTE_Q_REASON], " x "));
    T(sv_is(&q.v[DS_ROUTE_Q_OP], "\tadd"));
    T(query(&q, "names=Greet%20&names=+x") == -1 && q.nnames == 2);
    T(sv_is(&q.names[0], "Greet ") && sv_is(&q.names[1], " x"));
    T(query(&q, "instanceIdPrefix=+") == -1);
    T(sv_is(&q.v[DS_ROUTE_Q_IDPREFIX], " "));

    T(query(&q, "reason=") == -1);
    T(q.set[DS_ROUTE_Q_REASON]
      && q.v[DS_ROUTE_Q_REASON].len == 0);

    T(query(&q, "") == -1);

    /* names repeats, one name per value: commas are part of a name */
    T(query(&q, "names=A,B&max=2&Names=%43&names=A,B") == -1);
    T(q.nnames == 3 && q.set[DS_ROUTE_Q_NAMES]);
    T(sv_is(&q.names[0], "A,B") && sv_is(&q.names[1], "C")
      && sv_is(&q.names[2], "A,B"));
    T(query(&q, "max=2") == -1 && q.nnames == 0);

    /* the spellings of a name the parser takes, and so the log masker */
    T(query(&q, "%63ode=k1") == -1
      && sv_is(&q.v[DS_ROUTE_Q_CODE], "k1"));
    T(query(&q, "co%64e=k2") == -1
      && sv_is(&q.v[DS_ROUTE_Q_CODE], "k2"));
    T(query(&q, "+code=k3") == -1
      && sv_is(&q.v[DS_ROUTE_Q_CODE], "k3"));
    T(query(&q, "code%20=k4") == -1
      && sv_is(&q.v[DS_ROUTE_Q_CODE], "k4"));
    T(query(&q, "%43ODE=k5") == -1
      && sv_is(&q.v[DS_ROUTE_Q_CODE], "k5"));
    T(query(&q, "%09code+%20=k6") == -1
      && sv_is(&q.v[DS_ROUTE_Q_CODE], "k6"));
    T(query(&q, "co+de=x&code%00=y&%code=z") == -1
      && !q.set[DS_ROUTE_Q_CODE]);
}


static int
lookup(const char *raw)
{
    return ds_route_param_lookup((const unsigned char *) raw,
                                 strlen(raw));
}


static void
test_param_lookup(void)
{
    size_t             pos;
    ds_str_t           name, value;

    static const char  args[] = "a=1&&b&=2&%63ode=k=v&c=";

    T(lookup("code") == DS_ROUTE_Q_CODE);
    T(lookup("%63%6F%64%65") == DS_ROUTE_Q_CODE);
    T(lookup("++CoDe%09") == DS_ROUTE_Q_CODE);
    T(lookup("returnInternalServerErrorOnFailure")
      == DS_ROUTE_Q_RETURN500);
    T(lookup("codes") == -1);
    T(lookup("cod") == -1);
    T(lookup("") == -1);
    T(lookup("%20") == -1);
    T(lookup("code%2") == -1);
    T(lookup("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
      == -1);

    /* the pairs the parser and the masker both see */

    pos = 0;
    T(ds_route_query_next((const unsigned char *) args,
                          sizeof(args) - 1, &pos, &name, &value)
          && sv_is(&name, "a") && sv_is(&value, "1"));
    T(ds_route_query_next((const unsigned char *) args,
                          sizeof(args) - 1, &pos, &name, &value)
          && sv_is(&name, "%63ode") && sv_is(&value, "k=v"));
    T(ds_route_query_next((const unsigned char *) args,
                          sizeof(args) - 1, &pos, &name, &value)
          && sv_is(&name, "c") && value.len == 0);
    T(!ds_route_query_next((const unsigned char *) args,
                           sizeof(args) - 1, &pos, &name,
                           &value));
}


static void
test_form_escape(void)
{
    unsigned char  out[64];
    size_t         n;

    static const char  in[] = "a b~/+?&=\"\r\n-_.!*()";

    n = ds_route_form_escape(out, (const unsigned char *) in,
                             sizeof(in) - 1);
    T(n == ds_route_form_escape_len((const unsigned char *) in,
                                    sizeof(in) - 1));
    T(n == strlen("a+b%7E%2F%2B%3F%26%3D%22%0D%0A-_.!*()"));
    T(memcmp(out, "a+b%7E%2F%2B%3F%26%3D%22%0D%0A-_.!*()", n) == 0);
}


/* one distinct lower-case name per operation and worker action */

static void
test_op_names(void)
{
    int          i, j, ok;
    const char  *n, *all[DS_ROUTE_OP_WORKER + 4];

    T(ds_route_op_names[DS_ROUTE_OP_NONE] == NULL);

    for (i = 0; i < DS_ROUTE_OP_WORKER; i++) {
        all[i] = ds_route_op_names[i + 1];
    }

    for (i = 0; i <= DS_ROUTE_WORK_ABANDON; i++) {
        all[DS_ROUTE_OP_WORKER + i] =
            ds_route_work_action_names[i];
    }

    for (i = 0; i < DS_ROUTE_OP_WORKER + 4; i++) {
        n = all[i];
        ok = (n != NULL && *n != '\0');

        for (; ok && *n; n++) {
            ok = (*n >= 'a' && *n <= 'z') || *n == '_';
        }

        for (j = 0; ok && j < i; j++) {
            ok = strcmp(all[i], all[j]) != 0;
        }

        T(ok);
    }

    T(strcmp(ds_route_op_names[DS_ROUTE_OP_PURGE_MANY],
             "purge_filter") == 0);
    T(strcmp(ds_route_work_action_names[
                     DS_ROUTE_WORK_COMPLETE], "complete") == 0);
}


void
t_route(void)
{
    test_prefixes();
    test_slashes_and_decoding();
    test_instances();
    test_orchestrators_and_entities();
    test_worker();
    test_query();
    test_param_lookup();
    test_form_escape();
    test_op_names();
}
