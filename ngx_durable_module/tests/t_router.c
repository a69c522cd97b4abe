
/*
 * Copyright (C) ngx_durable authors
 *
 * Unit tests of the router: raw path + method -> operation, and the
 * query parser. The router has no nginx headers, so it links directly.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_durable_router.h"


static int  passed, failed;


#define CHECK(cond)                                                          \
    do {                                                                     \
        if (cond) {                                                          \
            passed++;                                                        \
        } else {                                                             \
            failed++;                                                        \
            fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__,       \
                    #cond);                                                  \
        }                                                                    \
    } while (0)


#define SV(s)  { sizeof(s) - 1, (unsigned char *) s }


static ngx_http_durable_sv_t  prefixes[] = {
    SV("/runtime/webhooks/durabletask"),
    SV("/admin/extensions/DurableTaskExtension"),
    SV("/durabletask")
};


static unsigned char  scratch[4096];


static int
route(ngx_http_durable_route_t *r, unsigned method, const char *path)
{
    return ngx_http_durable_route(r, prefixes, 3, method,
                                  (const unsigned char *) path, strlen(path),
                                  scratch);
}


static int
sv_is(ngx_http_durable_sv_t *v, const char *s)
{
    return v->len == strlen(s) && memcmp(v->data, s, v->len) == 0;
}


static void
test_prefixes(void)
{
    ngx_http_durable_route_t  r;

    CHECK(route(&r, NGX_HTTP_DURABLE_GET,
                "/runtime/webhooks/durabletask/instances")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.op == NGX_HTTP_DURABLE_OP_LIST && r.prefix == 0);

    CHECK(route(&r, NGX_HTTP_DURABLE_GET,
                "/Runtime/WebHooks/DurableTask/Instances/")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.op == NGX_HTTP_DURABLE_OP_LIST);

    CHECK(route(&r, NGX_HTTP_DURABLE_GET,
                "/admin/extensions/durabletaskextension/instances/x")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.op == NGX_HTTP_DURABLE_OP_STATUS && r.prefix == 1);

    CHECK(route(&r, NGX_HTTP_DURABLE_GET, "/durabletask/instances/x")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.prefix == 2);

    /* a prefix must end at a slash */
    CHECK(route(&r, NGX_HTTP_DURABLE_GET, "/durabletaskX/instances")
          == NGX_HTTP_DURABLE_ROUTE_NOT_FOUND);
    CHECK(route(&r, NGX_HTTP_DURABLE_GET, "/other/instances")
          == NGX_HTTP_DURABLE_ROUTE_NOT_FOUND);
    CHECK(route(&r, NGX_HTTP_DURABLE_GET, "/durabletask")
          == NGX_HTTP_DURABLE_ROUTE_NOT_FOUND);
    CHECK(route(&r, NGX_HTTP_DURABLE_GET, "/durabletask/nonsense")
          == NGX_HTTP_DURABLE_ROUTE_NOT_FOUND);
    CHECK(r.op == NGX_HTTP_DURABLE_OP_NONE);
}


static void
test_slashes_and_decoding(void)
{
    ngx_http_durable_route_t  r;

    CHECK(route(&r, NGX_HTTP_DURABLE_GET, "/durabletask//instances/abc//")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.op == NGX_HTTP_DURABLE_OP_STATUS && sv_is(&r.id, "abc"));

    CHECK(route(&r, NGX_HTTP_DURABLE_POST,
                "/durabletask/entities//k")
          == NGX_HTTP_DURABLE_ROUTE_EMPTY);

    CHECK(route(&r, NGX_HTTP_DURABLE_GET, "/durabletask/instances/a+b%20c")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(sv_is(&r.id, "a b c"));

    CHECK(route(&r, NGX_HTTP_DURABLE_GET, "/durabletask/instances/a%2Fb")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(sv_is(&r.id, "a/b"));

    CHECK(route(&r, NGX_HTTP_DURABLE_GET, "/durabletask/instances/a%2")
          == NGX_HTTP_DURABLE_ROUTE_ENCODING);
    CHECK(route(&r, NGX_HTTP_DURABLE_GET, "/durabletask/instances/a%zz")
          == NGX_HTTP_DURABLE_ROUTE_ENCODING);

    /* literal words may be encoded too */
    CHECK(route(&r, NGX_HTTP_DURABLE_GET, "/durabletask/%69nstances/x")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.op == NGX_HTTP_DURABLE_OP_STATUS);
}


static void
test_instances(void)
{
    ngx_http_durable_route_t  r;

    CHECK(route(&r, NGX_HTTP_DURABLE_DELETE, "/durabletask/instances")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.op == NGX_HTTP_DURABLE_OP_PURGE_MANY);

    CHECK(route(&r, NGX_HTTP_DURABLE_DELETE, "/durabletask/instances/i")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.op == NGX_HTTP_DURABLE_OP_PURGE_ONE && sv_is(&r.id, "i"));

    CHECK(route(&r, NGX_HTTP_DURABLE_POST, "/durabletask/instances")
          == NGX_HTTP_DURABLE_ROUTE_METHOD);
    CHECK(r.allow == (NGX_HTTP_DURABLE_GET | NGX_HTTP_DURABLE_DELETE));

    CHECK(route(&r, NGX_HTTP_DURABLE_POST, "/durabletask/instances/i/TERMINATE")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.op == NGX_HTTP_DURABLE_OP_TERMINATE);

    CHECK(route(&r, NGX_HTTP_DURABLE_POST, "/durabletask/instances/i/suspend")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.op == NGX_HTTP_DURABLE_OP_SUSPEND);

    CHECK(route(&r, NGX_HTTP_DURABLE_POST, "/durabletask/instances/i/resume")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.op == NGX_HTTP_DURABLE_OP_RESUME);

    CHECK(route(&r, NGX_HTTP_DURABLE_POST, "/durabletask/instances/i/rewind")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.op == NGX_HTTP_DURABLE_OP_REWIND);

    CHECK(route(&r, NGX_HTTP_DURABLE_POST, "/durabletask/instances/i/restart")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.op == NGX_HTTP_DURABLE_OP_RESTART);

    CHECK(route(&r, NGX_HTTP_DURABLE_GET, "/durabletask/instances/i/restart")
          == NGX_HTTP_DURABLE_ROUTE_METHOD);
    CHECK(r.allow == NGX_HTTP_DURABLE_POST);

    CHECK(route(&r, NGX_HTTP_DURABLE_POST, "/durabletask/instances/i/explode")
          == NGX_HTTP_DURABLE_ROUTE_NOT_FOUND);

    CHECK(route(&r, NGX_HTTP_DURABLE_POST,
                "/durabletask/instances/i/raiseevent/Approval")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.op == NGX_HTTP_DURABLE_OP_RAISE_EVENT
          && sv_is(&r.id, "i") && sv_is(&r.event, "Approval"));

    CHECK(route(&r, NGX_HTTP_DURABLE_POST,
                "/durabletask/instances/i/raiseEvent")
          == NGX_HTTP_DURABLE_ROUTE_NOT_FOUND);

    CHECK(route(&r, NGX_HTTP_DURABLE_POST,
                "/durabletask/instances/i/raiseEvent/e/extra")
          == NGX_HTTP_DURABLE_ROUTE_NOT_FOUND);

    CHECK(route(&r, 0, "/durabletask/instances/i")
          == NGX_HTTP_DURABLE_ROUTE_METHOD);
}


static void
test_orchestrators_and_entities(void)
{
    ngx_http_durable_route_t  r;

    CHECK(route(&r, NGX_HTTP_DURABLE_POST, "/durabletask/Orchestrators/Hello")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.op == NGX_HTTP_DURABLE_OP_START && sv_is(&r.name, "Hello")
          && !r.has_id);

    CHECK(route(&r, NGX_HTTP_DURABLE_POST,
                "/durabletask/orchestrators/Hello/id-1/")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.has_id && sv_is(&r.id, "id-1"));

    CHECK(route(&r, NGX_HTTP_DURABLE_GET, "/durabletask/orchestrators/Hello")
          == NGX_HTTP_DURABLE_ROUTE_METHOD);
    CHECK(route(&r, NGX_HTTP_DURABLE_POST, "/durabletask/orchestrators")
          == NGX_HTTP_DURABLE_ROUTE_NOT_FOUND);
    CHECK(route(&r, NGX_HTTP_DURABLE_POST, "/durabletask/orchestrators/a/b/c")
          == NGX_HTTP_DURABLE_ROUTE_NOT_FOUND);

    CHECK(route(&r, NGX_HTTP_DURABLE_GET, "/durabletask/entities")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.op == NGX_HTTP_DURABLE_OP_ENTITY_LIST);

    CHECK(route(&r, NGX_HTTP_DURABLE_GET, "/durabletask/entities/counter")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.op == NGX_HTTP_DURABLE_OP_ENTITY_LIST
          && sv_is(&r.name, "counter"));

    CHECK(route(&r, NGX_HTTP_DURABLE_GET, "/durabletask/entities/counter/k")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.op == NGX_HTTP_DURABLE_OP_ENTITY_GET && sv_is(&r.id, "k"));

    CHECK(route(&r, NGX_HTTP_DURABLE_DELETE, "/durabletask/entities/counter")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.op == NGX_HTTP_DURABLE_OP_ENTITY_SIGNAL && !r.has_id);

    CHECK(route(&r, NGX_HTTP_DURABLE_POST, "/durabletask/entities")
          == NGX_HTTP_DURABLE_ROUTE_METHOD);
}


static void
test_worker(void)
{
    ngx_http_durable_route_t  r;

    CHECK(route(&r, NGX_HTTP_DURABLE_POST,
                "/durabletask/worker/orchestrations/claim")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.op == NGX_HTTP_DURABLE_OP_WORKER
          && r.work_kind == NGX_HTTP_DURABLE_WORK_ORCHESTRATIONS
          && r.work_action == NGX_HTTP_DURABLE_WORK_CLAIM);

    CHECK(route(&r, NGX_HTTP_DURABLE_POST,
                "/durabletask/Worker/Activities/Complete")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.work_kind == NGX_HTTP_DURABLE_WORK_ACTIVITIES
          && r.work_action == NGX_HTTP_DURABLE_WORK_COMPLETE);

    CHECK(route(&r, NGX_HTTP_DURABLE_POST,
                "/durabletask/worker/entities/abandon")
          == NGX_HTTP_DURABLE_ROUTE_OK);
    CHECK(r.work_kind == NGX_HTTP_DURABLE_WORK_ENTITIES
          && r.work_action == NGX_HTTP_DURABLE_WORK_ABANDON);

    CHECK(route(&r, NGX_HTTP_DURABLE_GET,
                "/durabletask/worker/activities/renew")
          == NGX_HTTP_DURABLE_ROUTE_METHOD);
    CHECK(route(&r, NGX_HTTP_DURABLE_POST, "/durabletask/worker/timers/claim")
          == NGX_HTTP_DURABLE_ROUTE_NOT_FOUND);
    CHECK(route(&r, NGX_HTTP_DURABLE_POST, "/durabletask/worker/activities")
          == NGX_HTTP_DURABLE_ROUTE_NOT_FOUND);
}


static int
query(ngx_http_durable_query_t *q, const char *args)
{
    return ngx_http_durable_parse_query(q, (const unsigned char *) args,
                                        strlen(args), scratch);
}


static void
test_query(void)
{
    ngx_http_durable_query_t  q;

    CHECK(query(&q, "TASKHUB=h1&showinput=false&code=a%2Bb+c") == -1);
    CHECK(q.set[NGX_HTTP_DURABLE_Q_TASKHUB]
          && sv_is(&q.v[NGX_HTTP_DURABLE_Q_TASKHUB], "h1"));
    CHECK(sv_is(&q.v[NGX_HTTP_DURABLE_Q_SHOWINPUT], "false"));
    CHECK(sv_is(&q.v[NGX_HTTP_DURABLE_Q_CODE], "a+b c"));
    CHECK(!q.set[NGX_HTTP_DURABLE_Q_TOP]);

    CHECK(query(&q, "runtimeStatus=Running,Pending&x=1&runtimestatus=failed")
          == -1);
    CHECK(sv_is(&q.v[NGX_HTTP_DURABLE_Q_RUNTIMESTATUS],
                "Running,Pending,failed"));

    CHECK(query(&q, "top=1&top=2") == NGX_HTTP_DURABLE_Q_TOP);

    /* the same value twice, compared decoded and trimmed, is no conflict */
    CHECK(query(&q, "taskHub=A&code=k&TASKHUB=%41&taskhub=+A") == -1);
    CHECK(sv_is(&q.v[NGX_HTTP_DURABLE_Q_TASKHUB], "A"));
    CHECK(query(&q, "taskHub=A&taskHub=a") == NGX_HTTP_DURABLE_Q_TASKHUB);
    CHECK(query(&q, "taskHub=A&taskHub=") == NGX_HTTP_DURABLE_Q_TASKHUB);
    CHECK(query(&q, "taskHub=A&taskHub=AB") == NGX_HTTP_DURABLE_Q_TASKHUB);
    CHECK(query(&q, "top=1&top=1&showInput=x&showInput=y&top=2")
          == NGX_HTTP_DURABLE_Q_SHOWINPUT);

    /* a list keeps every value, repeated ones too */
    CHECK(query(&q, "runtimeStatus=Pending&runtimeStatus=Pending") == -1);
    CHECK(sv_is(&q.v[NGX_HTTP_DURABLE_Q_RUNTIMESTATUS], "Pending,Pending"));

    /* a '%' that escapes nothing is text in queries, as the reference */
    CHECK(query(&q, "reason=50%%20done%&taskHub=%zz") == -1);
    CHECK(sv_is(&q.v[NGX_HTTP_DURABLE_Q_REASON], "50% done%"));
    CHECK(sv_is(&q.v[NGX_HTTP_DURABLE_Q_TASKHUB], "%zz"));

    /* items without '=' or without a name are ignored; values trimmed */
    CHECK(query(&q, "flag&=x&&top=%205%20") == -1);
    CHECK(sv_is(&q.v[NGX_HTTP_DURABLE_Q_TOP], "5"));

    CHECK(query(&q, "reason=") == -1);
    CHECK(q.set[NGX_HTTP_DURABLE_Q_REASON]
          && q.v[NGX_HTTP_DURABLE_Q_REASON].len == 0);

    CHECK(query(&q, "") == -1);

    /* names repeats, one name per value: commas are part of a name */
    CHECK(query(&q, "names=A,B&max=2&Names=%43&names=A,B") == -1);
    CHECK(q.nnames == 3 && q.set[NGX_HTTP_DURABLE_Q_NAMES]);
    CHECK(sv_is(&q.names[0], "A,B") && sv_is(&q.names[1], "C")
          && sv_is(&q.names[2], "A,B"));
    CHECK(query(&q, "max=2") == -1 && q.nnames == 0);

    /* the spellings of a name the parser takes, and so the log masker */
    CHECK(query(&q, "%63ode=k1") == -1
          && sv_is(&q.v[NGX_HTTP_DURABLE_Q_CODE], "k1"));
    CHECK(query(&q, "co%64e=k2") == -1
          && sv_is(&q.v[NGX_HTTP_DURABLE_Q_CODE], "k2"));
    CHECK(query(&q, "+code=k3") == -1
          && sv_is(&q.v[NGX_HTTP_DURABLE_Q_CODE], "k3"));
    CHECK(query(&q, "code%20=k4") == -1
          && sv_is(&q.v[NGX_HTTP_DURABLE_Q_CODE], "k4"));
    CHECK(query(&q, "%43ODE=k5") == -1
          && sv_is(&q.v[NGX_HTTP_DURABLE_Q_CODE], "k5"));
    CHECK(query(&q, "%09code+%20=k6") == -1
          && sv_is(&q.v[NGX_HTTP_DURABLE_Q_CODE], "k6"));
    CHECK(query(&q, "co+de=x&code%00=y&%code=z") == -1
          && !q.set[NGX_HTTP_DURABLE_Q_CODE]);
}


static int
lookup(const char *raw)
{
    return ngx_http_durable_param_lookup((const unsigned char *) raw,
                                         strlen(raw));
}


static void
test_param_lookup(void)
{
    size_t                 pos;
    ngx_http_durable_sv_t  name, value;

    static const char  args[] = "a=1&&b&=2&%63ode=k=v&c=";

    CHECK(lookup("code") == NGX_HTTP_DURABLE_Q_CODE);
    CHECK(lookup("%63%6F%64%65") == NGX_HTTP_DURABLE_Q_CODE);
    CHECK(lookup("++CoDe%09") == NGX_HTTP_DURABLE_Q_CODE);
    CHECK(lookup("returnInternalServerErrorOnFailure")
          == NGX_HTTP_DURABLE_Q_RETURN500);
    CHECK(lookup("codes") == -1);
    CHECK(lookup("cod") == -1);
    CHECK(lookup("") == -1);
    CHECK(lookup("%20") == -1);
    CHECK(lookup("code%2") == -1);
    CHECK(lookup("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
          == -1);

    /* the pairs the parser and the masker both see */

    pos = 0;
    CHECK(ngx_http_durable_query_next((const unsigned char *) args,
                                      sizeof(args) - 1, &pos, &name, &value)
          && sv_is(&name, "a") && sv_is(&value, "1"));
    CHECK(ngx_http_durable_query_next((const unsigned char *) args,
                                      sizeof(args) - 1, &pos, &name, &value)
          && sv_is(&name, "%63ode") && sv_is(&value, "k=v"));
    CHECK(ngx_http_durable_query_next((const unsigned char *) args,
                                      sizeof(args) - 1, &pos, &name, &value)
          && sv_is(&name, "c") && value.len == 0);
    CHECK(!ngx_http_durable_query_next((const unsigned char *) args,
                                       sizeof(args) - 1, &pos, &name,
                                       &value));
}


static void
test_form_escape(void)
{
    unsigned char  out[64];
    size_t         n;

    static const char  in[] = "a b~/+?&=\"\r\n-_.!*()";

    n = ngx_http_durable_form_escape(out, (const unsigned char *) in,
                                     sizeof(in) - 1);
    CHECK(n == ngx_http_durable_form_escape_len((const unsigned char *) in,
                                                sizeof(in) - 1));
    CHECK(n == strlen("a+b%7E%2F%2B%3F%26%3D%22%0D%0A-_.!*()"));
    CHECK(memcmp(out, "a+b%7E%2F%2B%3F%26%3D%22%0D%0A-_.!*()", n) == 0);
}


/* one distinct lower-case name per operation and worker action */

static void
test_op_names(void)
{
    int          i, j, ok;
    const char  *n, *all[NGX_HTTP_DURABLE_OP_WORKER + 4];

    CHECK(ngx_http_durable_op_names[NGX_HTTP_DURABLE_OP_NONE] == NULL);

    for (i = 0; i < NGX_HTTP_DURABLE_OP_WORKER; i++) {
        all[i] = ngx_http_durable_op_names[i + 1];
    }

    for (i = 0; i <= NGX_HTTP_DURABLE_WORK_ABANDON; i++) {
        all[NGX_HTTP_DURABLE_OP_WORKER + i] =
            ngx_http_durable_work_action_names[i];
    }

    for (i = 0; i < NGX_HTTP_DURABLE_OP_WORKER + 4; i++) {
        n = all[i];
        ok = (n != NULL && *n != '\0');

        for (; ok && *n; n++) {
            ok = (*n >= 'a' && *n <= 'z') || *n == '_';
        }

        for (j = 0; ok && j < i; j++) {
            ok = strcmp(all[i], all[j]) != 0;
        }

        CHECK(ok);
    }

    CHECK(strcmp(ngx_http_durable_op_names[NGX_HTTP_DURABLE_OP_PURGE_MANY],
                 "purge_filter") == 0);
    CHECK(strcmp(ngx_http_durable_work_action_names[
                     NGX_HTTP_DURABLE_WORK_COMPLETE], "complete") == 0);
}


int
main(void)
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

    printf("%d passed, %d failed\n", passed, failed);

    return failed ? 1 : 0;
}
