
/*
 * Copyright (C) ngx_durable authors
 *
 * Unit tests of the JSON span scanner.
 */


#include "t.h"
#include "ds_jspan.h"



static int
member_is(const char *obj, const char *name, const char *expect)
{
    ds_str_t  v;

    if (!ds_jspan_member((const unsigned char *) obj,
                         strlen(obj), name, &v))
    {
        return expect == NULL;
    }

    return expect && v.len == strlen(expect)
           && memcmp(v.data, expect, v.len) == 0;
}


void
t_jspan(void)
{
    size_t           n;
    ds_str_t         v, k;
    ds_jspan_iter_t  it;

    static const char  obj[] =
        "{\"a\":1.0e+10,\"b\":\"x\\\"},[\",\"c\":[1,{\"d\":[]}],"
        "\"e\":null,\"f\":{\"g\":\"}\"}}";
    static const char  arr[] = "[1,\"x\",[2,3],{},true]";

    T(member_is(obj, "a", "1.0e+10"));
    T(member_is(obj, "b", "\"x\\\"},[\""));
    T(member_is(obj, "c", "[1,{\"d\":[]}]"));
    T(member_is(obj, "e", "null"));
    T(member_is(obj, "f", "{\"g\":\"}\"}"));
    T(member_is(obj, "g", NULL));
    T(member_is("{}", "a", NULL));
    T(member_is("[1]", "a", NULL));
    T(member_is("", "a", NULL));

    T(ds_jspan_iter(&it, (const unsigned char *) arr,
                    strlen(arr)));
    n = 0;
    while (ds_jspan_next(&it, NULL, &v)) {
        n++;
        if (n == 3) {
            T(v.len == 5 && memcmp(v.data, "[2,3]", 5) == 0);
        }
    }
    T(n == 5);

    T(ds_jspan_iter(&it, (const unsigned char *) "{}", 2));
    T(!ds_jspan_next(&it, &k, &v));

    T(ds_jspan_skip((const unsigned char *) "\"ab\"x",
                    (const unsigned char *) "\"ab\"x" + 5)
          == 4);
}
