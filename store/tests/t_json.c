/*
 * Copyright (C) ngx_durable authors
 *
 * JSON ingest, depth limit, escaping, text-or-string, event members.
 */


#include <stdlib.h>

#include "t.h"
#include "ds_internal.h"


static int t_ingest(const char *in, unsigned depth, const char *want,
    char *err);
static int t_escape(const char *in, size_t len, const char *want);
static int t_tos(const char *in, const char *want);
static int t_ingest_len_ok(const char *in, size_t len, unsigned depth);
static int t_refused(const char *in, unsigned depth, const char *why);
static int t_ingest_each(const char **in, size_t n, int accepted);
static int t_ev_int(int64_t v, const char *want);


void
t_json(void)
{
    int     i, k, plain;
    char    err[256], *deep, buf[64];
    size_t  n;
    const char  *bad[] = {
        "{", "[1,]", "tru", "1 2", "'a'", "\"\xff\"", "{\"a\"}", "[1]x",
        "\"a\x01\"", "nul", "01", "+1", "\"\\x\""
    };
    const char  *good[] = {
        "[]", "{}", " [ ] ", "{ }", "[[],{}]", "{\"\":{\"\":[]}}", "-0",
        "0.5", "1E5", "1e-5", "1.5e+5", "-9223372036854775808", "1e-400",
        "1.7976931348623157e308", "\"\x7f\"", "\"\\ud83d\\ude00\"",
        "\"\\u00e9\\/\\b\\f\\n\\r\\t\"", "\"\xf4\x8f\xbf\xbf\"",
        "{\"a\":\"\\u0000\"}", "[true,false,null]", "\"\xe2\x82\xac\""
    };
    const char  *refused[] = {
        "[", "]", "{\"a\":1,}", "[1,]", "[,1]", "{,}", "{\"a\" 1}", "{1:2}",
        "-", "-a", "1.", ".5", "1e", "1e+", "0x1", "1.5.5", "truex", "true1",
        "nulll", "\"\\ud83d\"", "\"\\ude00\"", "\"\\ud83d\\u0041\"",
        "\"\\u12\"", "\"\\u12g4\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"",
        "\"\xf4\x90\x80\x80\"", "\"\x80\"", "\"abc", "\"\\", "[1 2]",
        "{\"a\":1 \"b\":2}", "1.7976931348623159e308", "\xef\xbb\xbf{}",
        "{]", "[}", "\"\n\""
    };

    T(t_ingest("  { \"a b\" : [ 1 , 2.50 , 1.0e+10 ] ,\n\t\"s\":\" x \\\" y \""
               " }  ", 64, "{\"a b\":[1,2.50,1.0e+10],\"s\":\" x \\\" y \"}",
               err));
    T(t_ingest("", 64, "", err));
    T(t_ingest(" \n\t\r ", 64, "", err));
    T(t_ingest("\"incr\"", 64, "\"incr\"", err));
    T(t_ingest(" -0.000e-5 ", 64, "-0.000e-5", err));
    T(t_ingest("true", 64, "true", err));
    T(t_ingest("null", 64, "null", err));
    T(t_ingest("\"\\u0000\"", 64, "\"\\u0000\"", err));
    T(t_ingest("\"é \\\\ \\\"[{\"", 0, "\"é \\\\ \\\"[{\"", err));
    T(t_ingest("[[[1]]]", 3, "[[[1]]]", err));
    T(t_ingest("9223372036854775807", 3, "9223372036854775807", err));

    T(!t_ingest("[[[1]]]", 2, NULL, err));
    T(strcmp(err, "JSON nesting deeper than 2") == 0);
    T(!t_ingest("{\"a\":{\"b\":{}}}", 2, NULL, err));

    T(t_refused("123456789012345678901234567890", 64, "too big integer"));
    T(t_refused("[9223372036854775808]", 64, "too big integer"));
    T(t_refused("1e400", 64, "real number overflow"));

    for (i = 0; i < (int) (sizeof(bad) / sizeof(bad[0])); i++) {
        if (t_ingest(bad[i], 64, NULL, err)) {
            fprintf(stderr, "  accepted %s\n", bad[i]);
            T(0);

        } else {
            T(strstr(err, "invalid JSON at line 1") != NULL);
        }
    }

    /* what dsi_json_check() accepts and refuses, as jansson does */

    T(t_ingest_each(good, sizeof(good) / sizeof(good[0]), 1));
    T(t_ingest_each(refused, sizeof(refused) / sizeof(refused[0]), 0));

    T(t_refused("-9223372036854775809", 64, "too big negative integer"));
    T(t_refused("-1.5e309", 64, "real number overflow"));
    T(t_refused("{\"a\\u0000\":1}", 64, "NUL byte in object key"));
    T(t_refused("[1,\n 2,\n x]", 64, "line 3, column 2 (position 9)"));

    /* a long real goes to strtod() through the heap */
    deep = t_alloc(400);
    memset(deep, '1', 399);
    deep[1] = '.';
    T(t_ingest_len_ok(deep, 399, 8));
    memcpy(deep + 390, "e99999999", 9);
    T(!t_ingest_len_ok(deep, 399, 8));
    T(ds_json_ingest(deep, 399, 8, deep, &n, err, sizeof(err))
      == DS_INVALID);
    T(strstr(err, "real number overflow") != NULL);
    free(deep);

    /* a raw 0 byte that jansson would skip (found by fuzz/fuzz_json) */
    T(ds_json_ingest("[1\0]", 4, 8, buf, &n, err, sizeof(err))
      == DS_INVALID);
    T(strstr(err, "invalid JSON at line 1") != NULL);
    T(ds_json_ingest("{\"a\":true\0}", 11, 8, buf, &n, err, sizeof(err))
      == DS_INVALID);
    T(ds_json_ingest("null\0\n", 6, 8, buf, &n, err, sizeof(err))
      == DS_INVALID);
    T(ds_json_text_or_string("1\0", 2, 8, buf, &n) == DS_OK);
    T(n == 9 && memcmp(buf, "\"1\\u0000\"", 9) == 0);

    /* in place */
    strcpy(buf, " [ 1 , \" a \" ] ");
    T_INT(ds_json_ingest(buf, strlen(buf), 8, buf, &n, err, sizeof(err)),
          DS_OK);
    T(n == 9 && memcmp(buf, "[1,\" a \"]", 9) == 0);

    /* minified already (spaces in strings only): copied, in place or not;
       one space between tokens anywhere, or a line end, and it is
       minified */
    memset(buf, 'x', 32);
    T_INT(ds_json_ingest("{\"a\":\"b c\",\"d\":[1,{}]}", 22, 8, buf, &n,
                         err, sizeof(err)),
          DS_OK);
    T(n == 22 && memcmp(buf, "{\"a\":\"b c\",\"d\":[1,{}]}", 22) == 0);
    strcpy(buf, "[\"  \",true]");
    T_INT(ds_json_ingest(buf, 11, 8, buf, &n, err, sizeof(err)), DS_OK);
    T(n == 11 && memcmp(buf, "[\"  \",true]", 11) == 0);
    T_INT(ds_json_ingest("[\"  \",true]\n", 12, 8, buf, &n, err,
                         sizeof(err)),
          DS_OK);
    T(n == 11 && memcmp(buf, "[\"  \",true]", 11) == 0);
    T_INT(ds_json_ingest("{\"a\":[1,\t2]}", 12, 8, buf, &n, err,
                         sizeof(err)),
          DS_OK);
    T(n == 11 && memcmp(buf, "{\"a\":[1,2]}", 11) == 0);

    /* depth scanning: strings and escapes do not count */
    T(ds_json_depth_ok("\"[[[[\"", 6, 0));
    T(ds_json_depth_ok("[\"\\\"[[[\"]", 10, 1));
    T(!ds_json_depth_ok("[\"\\\\\"[[]]", 10, 2));
    T(ds_json_depth_ok("[\"\\\\\"[[]]]", 10, 3));

    deep = t_alloc(2 * 2049 + 1);
    memset(deep, '[', 2048);
    memset(deep + 2048, ']', 2048);
    T(ds_json_depth_ok(deep, 4096, 2048));
    T(t_ingest_len_ok(deep, 4096, 2048));
    memset(deep, '[', 2049);
    memset(deep + 2049, ']', 2049);
    T(!ds_json_depth_ok(deep, 4098, 2048));

    /* jansson counts values, not containers: nothing in the 2048th */
    free(deep);
    deep = t_alloc(4200);
    memset(deep, '[', 2048);
    deep[2048] = '1';
    memset(deep + 2049, ']', 2048);
    T(ds_json_depth_ok(deep, 4097, 2048));
    T(!t_ingest_len_ok(deep, 4097, 2048));
    memset(deep, '[', 2047);
    memcpy(deep + 2047, "{\"a\":1}", 7);
    memset(deep + 2054, ']', 2047);
    T(ds_json_depth_ok(deep, 4101, 2048));
    T(!t_ingest_len_ok(deep, 4101, 2048));
    memset(deep, '[', 2048);
    memset(deep + 2048, ']', 2048);
    T(t_ingest_len_ok(deep, 4096, 2048));
    free(deep);

    /* escaping */
    /*
     * every byte value at every place of two 8-byte words: a string with
     * one such byte is its own length escaped exactly when the byte is
     * ASCII from ' ' up, other than '"' and '\\' (8 bytes are tested at
     * once)
     */

    for (i = 0; i < 256; i++) {
        for (k = 0; k < 19; k++) {
            memset(buf, 'a', 19);
            buf[k] = (char) i;
            plain = i >= 0x20 && i <= 0x7f && i != '"' && i != '\\';

            if ((ds_json_escape_len(buf, 19) == 19) != plain) {
                fprintf(stderr, "  byte 0x%02x at %d\n", (unsigned) i,
                        (int) k);
                T(0);
            }
        }
    }

    T(t_escape("plain", 5, "plain"));
    T(t_escape("a\"b\\c\n\r\t\b\f\x01\x1f\x7f", 13,
               "a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\x7f"));
    T(t_escape("a\0b", 3, "a\\u0000b"));
    T(t_escape("é€😀", strlen("é€😀"), "é€😀"));
    T(t_escape("\xff", 1, "\\ufffd"));
    T(t_escape("a\xc3", 2, "a\\ufffd"));
    T(t_escape("\xe2\x82x", 3, "\\ufffdx"));
    T(t_escape("\xc0\xaf", 2, "\\ufffd\\ufffd"));
    T(t_escape("\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd"));
    T(t_escape("\xf4\x90\x80\x80", 4, "\\ufffd\\ufffd\\ufffd\\ufffd"));
    T(t_escape("\xf0\x9f\x98", 3, "\\ufffd"));
    T(t_escape("\xf4\x8f\xbf\xbf", 4, "\xf4\x8f\xbf\xbf"));
    T(t_escape("", 0, ""));

    /* JSON text follows the same rules, raw or escaped */
    T(ds_json_ingest("\"\xed\xa0\x80\"", 5, 64, buf, &n, err, sizeof(err))
      == DS_INVALID);
    T(ds_json_ingest("\"\xc0\xaf\"", 4, 64, buf, &n, err, sizeof(err))
      == DS_INVALID);
    T(ds_json_ingest("\"\xf4\x90\x80\x80\"", 6, 64, buf, &n, err,
                     sizeof(err))
      == DS_INVALID);
    T(ds_json_ingest("\"\\ud800\"", 8, 64, buf, &n, err, sizeof(err))
      == DS_INVALID);
    T(ds_json_ingest("\"\xf0\x9f\x98\x80\"", 6, 64, buf, &n, err,
                     sizeof(err))
      == DS_OK);

    /* text or string */
    T(t_tos("", "\"\""));
    T(t_tos(" {\"a\": 1} ", "{\"a\":1}"));
    T(t_tos("123", "123"));
    T(t_tos("hello", "\"hello\""));
    T(t_tos("say \"hi\"\n", "\"say \\\"hi\\\"\\n\""));
    T(t_tos("  ", "\"\""));
    T(t_tos(" \t\r\n", "\"\""));
    T(t_tos(" x ", "\" x \""));
    T(t_tos("[[[[1]]]]", "\"[[[[1]]]]\""));
    T(t_tos("\xff", "\"\\ufffd\""));
    T(t_tos("99999999999999999999999", "\"99999999999999999999999\""));

    /* an event's integer members, the extremes included */
    T(t_ev_int(0, "{\"EventId\":0"));
    T(t_ev_int(-1, "{\"EventId\":-1"));
    T(t_ev_int(7, "{\"EventId\":7"));
    T(t_ev_int(1234567890, "{\"EventId\":1234567890"));
    T(t_ev_int(INT64_MAX, "{\"EventId\":9223372036854775807"));
    T(t_ev_int(INT64_MIN, "{\"EventId\":-9223372036854775808"));
}


static int
t_ingest_len_ok(const char *in, size_t len, unsigned depth)
{
    int     rc;
    char   *out, err[256];
    size_t  n;

    out = t_alloc(len);
    rc = ds_json_ingest(in, len, depth, out, &n, err, sizeof(err));
    rc = (rc == DS_OK && n == len && memcmp(in, out, len) == 0);
    free(out);

    return rc;
}


/* in is refused, and the message says why */

static int
t_refused(const char *in, unsigned depth, const char *why)
{
    char  err[256];

    if (t_ingest(in, depth, NULL, err) || strstr(err, why) == NULL) {
        fprintf(stderr, "  %s: \"%s\", not \"%s\"\n", in, err, why);
        return 0;
    }

    return 1;
}


/* each of in is accepted (or each refused), at the deepest nesting */

static int
t_ingest_each(const char **in, size_t n, int accepted)
{
    int     ok;
    char    err[256];
    size_t  i;

    ok = 1;

    for (i = 0; i < n; i++) {
        if (t_ingest(in[i], 2048, NULL, err) != accepted) {
            fprintf(stderr, "  %s %s %s\n", accepted ? "refused" : "accepted",
                    in[i], err);
            ok = 0;
        }
    }

    return ok;
}


static int
t_ingest(const char *in, unsigned depth, const char *want, char *err)
{
    int     rc;
    char    out[256];
    size_t  n;

    err[0] = '\0';
    n = 12345;

    rc = ds_json_ingest(in, strlen(in), depth, out, &n, err, 256);

    if (want == NULL) {
        return rc == DS_OK;
    }

    if (rc != DS_OK || n != strlen(want) || memcmp(out, want, n) != 0) {
        fprintf(stderr, "  ingest %s: rc %d \"%.*s\" %s\n", in, rc,
                rc == DS_OK ? (int) n : 0, out, err);
        return 0;
    }

    return 1;
}


static int
t_escape(const char *in, size_t len, const char *want)
{
    char    out[256];
    size_t  n;

    n = ds_json_escape(in, len, out);

    if (n != ds_json_escape_len(in, len) || n != strlen(want)
        || memcmp(out, want, n) != 0)
    {
        fprintf(stderr, "  escape: got \"%.*s\" (%zu, len %zu)\n", (int) n,
                out, n, ds_json_escape_len(in, len));
        return 0;
    }

    return 1;
}


static int
t_tos(const char *in, const char *want)
{
    int     rc;
    char   *out;
    size_t  n, len;

    len = strlen(in);
    out = t_alloc(ds_json_escape_len(in, len) + 2);

    rc = ds_json_text_or_string(in, len, 3, out, &n) == DS_OK
         && n == strlen(want) && memcmp(out, want, n) == 0;

    if (!rc) {
        fprintf(stderr, "  text_or_string: got \"%.*s\"\n", (int) n, out);
    }

    free(out);

    return rc;
}


static int
t_ev_int(int64_t v, const char *want)
{
    int       ok;
    ds_buf_t  b;

    dsi_buf_init(&b);
    dsi_ev_open(&b);
    dsi_ev_int(&b, "EventId", v);
    /* a second member is comma separated */
    dsi_ev_int(&b, "N", v);

    ok = !b.oom && b.len > strlen(want)
         && memcmp(b.data, want, strlen(want)) == 0
         && b.data[strlen(want)] == ','
         && b.len == 2 * strlen(want) - strlen("{\"EventId\":")
                     + strlen(",\"N\":");

    if (!ok) {
        fprintf(stderr, "  %lld: %.*s\n", (long long) v, (int) b.len,
                b.data);
    }

    dsi_buf_free(&b);

    return ok;
}
