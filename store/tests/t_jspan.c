
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


/* a JSON string span decoded: its bytes, or NULL where it is refused */

static const struct {
    const char  *span;
    const char  *want;
    size_t       want_len;
} t_decodes[] = {
    { "\"\"", "", 0 },
    { "\"plain\"", "plain", 5 },
    { "\"a\\\"b\\\\c\\/d\"", "a\"b\\c/d", 7 },
    { "\"\\b\\f\\n\\r\\t\"", "\b\f\n\r\t", 5 },
    { "\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac", 6 },
    { "\"\\ud83d\\ude00!\"", "\xf0\x9f\x98\x80!", 5 },
    { "\"x\\u0000y\"", "x\0y", 3 },
    { "\"\xc3\xa9\x7f\"", "\xc3\xa9\x7f", 3 },
    { "\"\\ud83d\"", NULL, 0 },                 /* a lone high half */
    { "\"\\ude00\"", NULL, 0 },                 /* a lone low half */
    { "\"\\ud83d\\u0041\"", NULL, 0 },
    { "\"\\u00g0\"", NULL, 0 },
    { "\"\\u00e\"", NULL, 0 },
    { "\"\\x\"", NULL, 0 },
    { "\"a\\\"", NULL, 0 },                     /* the end escaped */
    { "\"a\"b\"", NULL, 0 },
    { "\"\x01\"", NULL, 0 },
    { "\"\xc3\"", NULL, 0 },                     /* cut UTF-8 */
    { "\"\xed\xa0\x80\"", NULL, 0 },           /* a raw surrogate */
    { "\"\xc0\xaf\"", NULL, 0 },                /* overlong */
    { "\"", NULL, 0 },
    { "abc", NULL, 0 },
    { "\"abc", NULL, 0 },
    { "1", NULL, 0 }
};


/* an integer span read: its value, or refused */

static const struct {
    const char  *span;
    int          ok;
    int64_t      want;
} t_ints[] = {
    { "0", 1, 0 },
    { "-0", 1, 0 },
    { "42", 1, 42 },
    { "-17", 1, -17 },
    { "9223372036854775807", 1, INT64_MAX },
    { "-9223372036854775808", 1, INT64_MIN },
    { "9223372036854775808", 0, 0 },
    { "-9223372036854775809", 0, 0 },
    { "99999999999999999999", 0, 0 },
    { "01", 0, 0 },
    { "1.0", 0, 0 },
    { "1e3", 0, 0 },
    { "-", 0, 0 },
    { "", 0, 0 },
    { "\"1\"", 0, 0 },
    { "null", 0, 0 }
};


static void
t_jspan_decode(void)
{
    char      buf[64];
    size_t    i, len;
    int64_t   v;
    ds_str_t  span;

    for (i = 0; i < sizeof(t_decodes) / sizeof(t_decodes[0]); i++) {
        span = t_s(t_decodes[i].span);
        len = 0;

        if (t_decodes[i].want == NULL) {
            T(!ds_jspan_decode(span, buf, sizeof(buf), &len));
            continue;
        }

        T(ds_jspan_decode(span, buf, sizeof(buf), &len));
        T_INT(len, t_decodes[i].want_len);
        T(memcmp(buf, t_decodes[i].want, t_decodes[i].want_len) == 0);

        /* no longer than the span's inside, and too small a buffer fails */
        T(len <= span.len - 2);
        T(len == 0 || !ds_jspan_decode(span, buf, len - 1, &len));
    }

    /* in place */
    memcpy(buf, "\"a\\u00e9\\n\"", 11);
    span.data = buf;
    span.len = 11;              /* buf has no terminating 0 */
    T(ds_jspan_decode(span, buf, 11, &len));
    T_INT(len, 4);
    T(memcmp(buf, "a\xc3\xa9\n", 4) == 0);

    for (i = 0; i < sizeof(t_ints) / sizeof(t_ints[0]); i++) {
        v = 0;
        T_INT(ds_jspan_int(t_s(t_ints[i].span), &v), t_ints[i].ok);
        T(!t_ints[i].ok || v == t_ints[i].want);
    }
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

    t_jspan_decode();
}
