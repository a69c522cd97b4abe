
/*
 * Copyright (C) ngx_durable authors
 *
 * Unit tests of the JSON span scanner.
 */


#include <stdio.h>
#include <string.h>

#include "ngx_http_durable_jspan.h"


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


static int
member_is(const char *obj, const char *name, const char *expect)
{
    ngx_http_durable_sv_t  v;

    if (!ngx_http_durable_jspan_member((const unsigned char *) obj,
                                       strlen(obj), name, &v))
    {
        return expect == NULL;
    }

    return expect && v.len == strlen(expect)
           && memcmp(v.data, expect, v.len) == 0;
}


int
main(void)
{
    size_t                    n;
    ngx_http_durable_sv_t     v, k;
    ngx_http_durable_jiter_t  it;

    static const char  obj[] =
        "{\"a\":1.0e+10,\"b\":\"x\\\"},[\",\"c\":[1,{\"d\":[]}],"
        "\"e\":null,\"f\":{\"g\":\"}\"}}";
    static const char  arr[] = "[1,\"x\",[2,3],{},true]";

    CHECK(member_is(obj, "a", "1.0e+10"));
    CHECK(member_is(obj, "b", "\"x\\\"},[\""));
    CHECK(member_is(obj, "c", "[1,{\"d\":[]}]"));
    CHECK(member_is(obj, "e", "null"));
    CHECK(member_is(obj, "f", "{\"g\":\"}\"}"));
    CHECK(member_is(obj, "g", NULL));
    CHECK(member_is("{}", "a", NULL));
    CHECK(member_is("[1]", "a", NULL));
    CHECK(member_is("", "a", NULL));

    CHECK(ngx_http_durable_jspan_iter(&it, (const unsigned char *) arr,
                                      strlen(arr)));
    n = 0;
    while (ngx_http_durable_jspan_next(&it, NULL, &v)) {
        n++;
        if (n == 3) {
            CHECK(v.len == 5 && memcmp(v.data, "[2,3]", 5) == 0);
        }
    }
    CHECK(n == 5);

    CHECK(ngx_http_durable_jspan_iter(&it, (const unsigned char *) "{}", 2));
    CHECK(!ngx_http_durable_jspan_next(&it, &k, &v));

    CHECK(ngx_http_durable_jspan_skip((const unsigned char *) "\"ab\"x",
                                      (const unsigned char *) "\"ab\"x" + 5)
          == 4);

    printf("%d passed, %d failed\n", passed, failed);

    return failed ? 1 : 0;
}
