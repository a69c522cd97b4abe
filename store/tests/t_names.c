/*
 * Copyright (C) ngx_durable authors
 *
 * The rules for names and ids (ds_names.c) and the checks of a
 * completion's actions that apply them.
 */


#include <stddef.h>

#include "t.h"


static void t_name_rules(void);
static void t_name_utf8(void);
static void t_name_instance_ids(void);
static void t_name_entities(void);
static void t_name_texts(void);
static void t_name_actions(void);
static void t_name_hubs(void);
static ds_str_t t_n(const char *s, size_t len);
static ds_str_t t_long(char c, size_t len);
static int t_fault(ds_str_t s, ds_name_error_e error, size_t at);
static int t_text(const ds_name_fault_t *f, const char *want);


void
t_names(void)
{
    t_name_rules();
    t_name_utf8();
    t_name_instance_ids();
    t_name_entities();
    t_name_texts();
    t_name_actions();
    t_name_hubs();
}


static void
t_name_rules(void)
{
    size_t            i;
    ds_name_fault_t   f;

    const char  *good[] = {
        "a", "a:b", "a b", "a@b", "@counter@c1", "order-42.x_y~z", "%2F",
        "\xc3\xa9t\xc3\xa9"
    };

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        T_INT(ds_name_check(t_s(good[i]), DS_NAME_MAX, &f), DS_OK);
        T_INT(f.error, DS_NAME_OK);
    }

    T_INT(ds_name_check(t_long('n', 256), 256, &f), DS_OK);

    T(t_fault(t_s(""), DS_NAME_LENGTH, 0));
    T(t_fault(t_long('n', 257), DS_NAME_LENGTH, 0));
    T(t_fault(t_long('n', 300), DS_NAME_LENGTH, 0));

    T(t_fault(t_s("a/b"), DS_NAME_CHAR, 1));
    T(t_fault(t_s("a\\b"), DS_NAME_CHAR, 1));
    T(t_fault(t_s("ab?"), DS_NAME_CHAR, 2));
    T(t_fault(t_s("#"), DS_NAME_CHAR, 0));
    T(t_fault(t_s("a\r\nb"), DS_NAME_CHAR, 1));
    T(t_fault(t_s("a\tb"), DS_NAME_CHAR, 1));
    T(t_fault(t_s("a\x7f"), DS_NAME_CHAR, 1));
    T(t_fault(t_n("a\0b", 3), DS_NAME_CHAR, 1));

    /* the bad byte is reported */

    T_INT(ds_name_check(t_s("x\ny"), DS_NAME_MAX, &f), DS_INVALID);
    T_INT(f.byte, '\n');
    T_INT(f.len, 3);

    /* max is the caller's */

    T_INT(ds_name_check(t_s("abcd"), 3, &f), DS_INVALID);
    T_INT(f.error, DS_NAME_LENGTH);
    T_INT(f.max, 3);
    T_INT(f.len, 4);
}


static void
t_name_utf8(void)
{
    size_t  i;

    const char  *good[] = {
        "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf",
        "\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80",
        "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf"
    };

    ds_name_fault_t  f;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        T_INT(ds_name_check(t_s(good[i]), DS_NAME_MAX, &f), DS_OK);
    }

    T(t_fault(t_s("a\xc3"), DS_NAME_UTF8, 1));              /* cut short */
    T(t_fault(t_s("\xc3(x"), DS_NAME_UTF8, 0));             /* no follow */
    T(t_fault(t_s("\x80"), DS_NAME_UTF8, 0));               /* alone */
    T(t_fault(t_s("\xc0\xaf"), DS_NAME_UTF8, 0));           /* overlong */
    T(t_fault(t_s("\xc1\xbf"), DS_NAME_UTF8, 0));
    T(t_fault(t_s("\xe0\x9f\xbf"), DS_NAME_UTF8, 0));
    T(t_fault(t_s("\xf0\x8f\xbf\xbf"), DS_NAME_UTF8, 0));
    T(t_fault(t_s("ab\xed\xa0\x80"), DS_NAME_UTF8, 2));     /* surrogate */
    T(t_fault(t_s("\xf4\x90\x80\x80"), DS_NAME_UTF8, 0));   /* > U+10FFFF */
    T(t_fault(t_s("\xf5\x80\x80\x80"), DS_NAME_UTF8, 0));
    T(t_fault(t_s("\xe2\x82"), DS_NAME_UTF8, 0));
    T(t_fault(t_s("\xe2\x82("), DS_NAME_UTF8, 0));
    T(t_fault(t_s("\xff"), DS_NAME_UTF8, 0));
}


static void
t_name_instance_ids(void)
{
    ds_name_fault_t  f;

    T_INT(ds_name_instance_id(t_s("order-42"), &f), DS_OK);
    T_INT(ds_name_instance_id(t_s("a@b"), &f), DS_OK);
    T_INT(ds_name_instance_id(t_s("parent:0"), &f), DS_OK);
    T_INT(ds_name_instance_id(t_long('i', DS_ID_MAX), &f), DS_OK);

    T_INT(ds_name_instance_id(t_s("@counter@c1"), &f), DS_INVALID);
    T_INT(f.error, DS_NAME_LEADING_AT);

    T_INT(ds_name_instance_id(t_long('i', 300), &f), DS_INVALID);
    T_INT(f.error, DS_NAME_LENGTH);
    T_INT(f.len, 300);
    T_INT(f.max, DS_ID_MAX);

    T_INT(ds_name_instance_id(t_s("a/b"), &f), DS_INVALID);
    T_INT(f.error, DS_NAME_CHAR);

    T_INT(ds_name_instance_id(t_s(""), &f), DS_INVALID);
    T_INT(f.error, DS_NAME_LENGTH);
}


static void
t_name_entities(void)
{
    ds_name_fault_t  f;

    T_INT(ds_name_entity(t_s("counter"), t_s("c1"), &f), DS_OK);
    T_INT(ds_name_entity(t_s("Counter"), t_s(""), &f), DS_OK);
    T_INT(ds_name_entity(t_s("counter"), t_s("@counter@c1"), &f), DS_OK);
    T_INT(ds_name_entity(t_long('n', 200), t_long('k', 54), &f), DS_OK);

    T_INT(ds_name_entity(t_s("@counter@c1"), t_s(""), &f), DS_INVALID);
    T_INT(f.error, DS_NAME_AT);
    T_INT(f.part, DS_NAME_PART_NAME);
    T_INT(f.at, 0);

    T_INT(ds_name_entity(t_s("count@er"), t_s("k"), &f), DS_INVALID);
    T_INT(f.error, DS_NAME_AT);
    T_INT(f.at, 5);

    T_INT(ds_name_entity(t_s("a/b"), t_s("k"), &f), DS_INVALID);
    T_INT(f.error, DS_NAME_CHAR);
    T_INT(f.part, DS_NAME_PART_NAME);

    T_INT(ds_name_entity(t_s(""), t_s("k"), &f), DS_INVALID);
    T_INT(f.error, DS_NAME_LENGTH);
    T_INT(f.part, DS_NAME_PART_NAME);

    T_INT(ds_name_entity(t_s("counter"), t_s("a\r\nb"), &f), DS_INVALID);
    T_INT(f.error, DS_NAME_CHAR);
    T_INT(f.part, DS_NAME_PART_KEY);
    T_INT(f.byte, '\r');

    T_INT(ds_name_entity(t_s("counter"), t_long('k', 300), &f), DS_INVALID);
    T_INT(f.error, DS_NAME_LENGTH);
    T_INT(f.part, DS_NAME_PART_KEY);

    /* "@name@key" must fit an id */

    T_INT(ds_name_entity(t_long('n', 200), t_long('k', 55), &f), DS_INVALID);
    T_INT(f.error, DS_NAME_PAIR_LENGTH);
    T_INT(f.part, DS_NAME_PART_BOTH);
    T_INT(f.len, 255);
    T_INT(f.max, DS_ID_MAX - 2);
}


static void
t_name_texts(void)
{
    char             buf[8];
    ds_name_fault_t  f;

    T_INT(ds_name_check(t_long('x', 300), DS_ID_MAX, &f), DS_INVALID);
    T(t_text(&f, "must have 1 to 256 bytes, not 300"));

    T_INT(ds_name_check(t_s("a/b"), DS_ID_MAX, &f), DS_INVALID);
    T(t_text(&f, "must not contain '/', '\\', '?' or '#' ('/' at byte 1)"));

    T_INT(ds_name_check(t_s("a\r\nb"), DS_ID_MAX, &f), DS_INVALID);
    T(t_text(&f, "must not contain control characters (0x0d at byte 1)"));

    T_INT(ds_name_check(t_s("\xc0\xaf"), DS_ID_MAX, &f), DS_INVALID);
    T(t_text(&f, "is not valid UTF-8 (0xc0 at byte 0)"));

    T_INT(ds_name_instance_id(t_s("@counter@c1"), &f), DS_INVALID);
    T(t_text(&f, "must not start with '@' (entity ids do)"));

    T_INT(ds_name_entity(t_s("a@b"), t_s(""), &f), DS_INVALID);
    T(t_text(&f, "must not contain '@' (at byte 1)"));

    T_INT(ds_name_entity(t_long('n', 200), t_long('k', 60), &f), DS_INVALID);
    T(t_text(&f, "must not have more than 254 bytes together, not 260"));

    /* a short buffer: cut, terminated, the length of what was written */

    T_INT(ds_name_check(t_long('x', 300), DS_ID_MAX, &f), DS_INVALID);
    T_INT(ds_name_fault_text(&f, buf, sizeof(buf)), 7);
    T(strcmp(buf, "must ha") == 0);
}


/*
 * A bad name or id in one action of t_name_actions(): the member of
 * a[index] it replaces, its value (NULL: len bytes of fill), and the fault
 */

typedef struct {
    size_t              index;
    size_t              member;
    const char         *value;
    char                fill;
    size_t              len;
    ds_action_field_e   field;
    ds_name_error_e     error;
} t_bad_name_t;

static const t_bad_name_t  t_bad_names[] = {

    /* a sub-orchestration's own id, its orchestrator's name */
    { 2, offsetof(ds_action_t, instance_id), NULL, 'c', 300,
      DS_FIELD_INSTANCE_ID, DS_NAME_LENGTH },
    { 2, offsetof(ds_action_t, instance_id), "@counter@c1", 0, 0,
      DS_FIELD_INSTANCE_ID, DS_NAME_LEADING_AT },
    { 2, offsetof(ds_action_t, name), "a/b", 0, 0,
      DS_FIELD_NAME, DS_NAME_CHAR },

    /* an activity's name */
    { 0, offsetof(ds_action_t, name), "a\r\nb", 0, 0,
      DS_FIELD_NAME, DS_NAME_CHAR },
    { 0, offsetof(ds_action_t, name), NULL, 'a', 257,
      DS_FIELD_NAME, DS_NAME_LENGTH },

    /* an event's target and name */
    { 3, offsetof(ds_action_t, instance_id), "@counter@c1", 0, 0,
      DS_FIELD_INSTANCE_ID, DS_NAME_LEADING_AT },
    { 3, offsetof(ds_action_t, instance_id), "a/b", 0, 0,
      DS_FIELD_INSTANCE_ID, DS_NAME_CHAR },
    { 3, offsetof(ds_action_t, name), "P#ng", 0, 0,
      DS_FIELD_NAME, DS_NAME_CHAR },

    /* the operation of a signal: a name like the others, or empty */
    { 4, offsetof(ds_action_t, name), "a\001b", 0, 0,
      DS_FIELD_NAME, DS_NAME_CHAR },
    { 4, offsetof(ds_action_t, name), "\xed\xa0\x80", 0, 0,
      DS_FIELD_NAME, DS_NAME_UTF8 },
    { 4, offsetof(ds_action_t, name), "\xc0\xaf", 0, 0,
      DS_FIELD_NAME, DS_NAME_UTF8 },
    { 4, offsetof(ds_action_t, name), NULL, 'o', 257,
      DS_FIELD_NAME, DS_NAME_LENGTH },

    /* the entity of a signal */
    { 4, offsetof(ds_action_t, entity_name), "@counter@c1", 0, 0,
      DS_FIELD_ENTITY_NAME, DS_NAME_AT },
    { 4, offsetof(ds_action_t, entity_key), "a/b", 0, 0,
      DS_FIELD_ENTITY_KEY, DS_NAME_CHAR },
    { 4, offsetof(ds_action_t, entity_key), NULL, 'k', 250,
      DS_FIELD_ENTITY, DS_NAME_PAIR_LENGTH }
};


static void
t_name_actions(void)
{
    char                 big[512];
    size_t               i;
    ds_str_t            *field, keep;
    const t_bad_name_t  *b;
    ds_action_t          a[6];
    ds_action_fault_t    f;

    memset(a, 0, sizeof(a));

    a[0].type = DS_ACT_SCHEDULE_ACTIVITY;
    a[0].id = 0;
    a[0].name = t_s("Say@Hello:\xc3\xa9");
    a[1].type = DS_ACT_CREATE_TIMER;
    a[1].id = 1;
    a[2].type = DS_ACT_START_SUB;
    a[2].id = 2;
    a[2].name = t_s("@counter@c1");
    a[2].instance_id = t_long('c', DS_ID_MAX);
    a[3].type = DS_ACT_RAISE_EVENT;
    a[3].id = -1;
    a[3].name = t_s("Ping");
    a[3].instance_id = t_s("other@x");
    a[4].type = DS_ACT_SIGNAL_ENTITY;
    a[4].id = -1;
    a[4].name = t_s("add");
    a[4].entity_name = t_s("Counter");
    a[4].entity_key = t_s("@counter@c1");
    a[5].type = DS_ACT_COMPLETE;
    a[5].id = -1;

    T_INT(ds_work_actions_check(t_s("p"), a, 6, &f), DS_OK);
    T_INT(f.error, DS_ACTION_OK);

    /* each name or id an action carries, broken one at a time */

    for (i = 0; i < sizeof(t_bad_names) / sizeof(t_bad_names[0]); i++) {
        b = &t_bad_names[i];
        field = (ds_str_t *) ((char *) &a[b->index] + b->member);
        keep = *field;

        if (b->value) {
            *field = t_s(b->value);

        } else {
            memset(big, b->fill, b->len);
            *field = t_n(big, b->len);
        }

        T_INT(ds_work_actions_check(t_s("p"), a, 6, &f), DS_INVALID);
        T_INT(f.error, DS_ACTION_NAME);
        T_INT(f.index, b->index);
        T_INT(f.field, b->field);
        T_INT(f.name.error, b->error);
        T_INT(f.defaulted, 0);

        if (b->value == NULL && b->error == DS_NAME_LENGTH) {
            T_INT(f.name.len, b->len);
        }

        *field = keep;
    }

    T_INT(ds_work_actions_check(t_s("p"), a, 6, &f), DS_OK);

    /* a signal's operation may be empty: the reference's default */

    a[4].name = t_s("");
    T_INT(ds_work_actions_check(t_s("p"), a, 6, &f), DS_OK);
    a[4].name = t_s("add");

    /* an activity's version reaches workers as a protobuf string */

    a[0].version = t_s("2.\xc3\xa9");
    T_INT(ds_work_actions_check(t_s("p"), a, 6, &f), DS_OK);
    a[0].version = t_s("2.\xff");
    T_INT(ds_work_actions_check(t_s("p"), a, 6, &f), DS_INVALID);
    T_INT(f.error, DS_ACTION_VALUE);
    T_INT(f.index, 0);
    T_INT(f.field, DS_FIELD_VALUE);

    /* nor a NUL, which PostgreSQL's text cannot hold; a child's too */

    a[0].version = t_n("v\0x", 3);
    T_INT(ds_work_actions_check(t_s("p"), a, 6, &f), DS_INVALID);
    T_INT(f.index, 0);
    a[0].version = t_s("");
    a[2].version = t_n("v\0x", 3);
    T_INT(ds_work_actions_check(t_s("p"), a, 6, &f), DS_INVALID);
    T_INT(f.error, DS_ACTION_VALUE);
    T_INT(f.index, 2);
    a[2].version = t_s("\xc3");
    T_INT(ds_work_actions_check(t_s("p"), a, 6, &f), DS_INVALID);
    T_INT(f.index, 2);
    a[2].version = t_s("");

    /* without one, a sub-orchestration's id is "<parent id>:<id>", which
       must fit too */

    a[2].instance_id = t_s("");
    T_INT(ds_work_actions_check(t_s("p"), a, 6, &f), DS_OK);
    T_INT(ds_work_actions_check(t_long('p', 255), a, 6, &f), DS_INVALID);
    T_INT(f.index, 2);
    T_INT(f.field, DS_FIELD_INSTANCE_ID);
    T_INT(f.name.error, DS_NAME_LENGTH);
    T_INT(f.name.len, 257);
    T_INT(f.defaulted, 1);
    T_INT(ds_work_actions_check(t_long('p', 254), a, 6, &f), DS_OK);

    /* a later action's id is its own, not a default */

    a[3].instance_id = t_s("a/b");
    T_INT(ds_work_actions_check(t_s("p"), a, 6, &f), DS_INVALID);
    T_INT(f.index, 3);
    T_INT(f.defaulted, 0);
    a[3].instance_id = t_s("other@x");

    /* a schedule id twice: the later action, and the earlier one */

    a[1].id = 0;
    T_INT(ds_work_actions_check(t_s("p"), a, 6, &f), DS_INVALID);
    T_INT(f.error, DS_ACTION_ID_TWICE);
    T_INT(f.index, 1);
    T_INT(f.other, 0);

    /* the same from the rules between actions alone, and the bad
       names those leave to the check of each action */

    T_INT(ds_work_actions_order_check(a, 6, &f), DS_INVALID);
    T_INT(f.error, DS_ACTION_ID_TWICE);
    T_INT(f.index, 1);
    T_INT(f.other, 0);
    a[1].id = 1;
    a[0].name = t_s("a/b");
    T_INT(ds_work_actions_order_check(a, 6, &f), DS_OK);
    T_INT(f.error, DS_ACTION_OK);
    a[0].name = t_s("Say@Hello:\xc3\xa9");

    /* a finishing action before the last */

    a[5].type = DS_ACT_SET_CUSTOM_STATUS;
    a[3].type = DS_ACT_FAIL;
    T_INT(ds_work_actions_check(t_s("p"), a, 6, &f), DS_INVALID);
    T_INT(f.error, DS_ACTION_NOT_LAST);
    T_INT(f.index, 3);
    T_INT(ds_work_actions_order_check(a, 6, &f), DS_INVALID);
    T_INT(f.error, DS_ACTION_NOT_LAST);
    T_INT(f.index, 3);
    T_INT(ds_work_actions_order_check(a, 4, &f), DS_OK);

    for (i = 0; i < 6; i++) {
        a[i].type = DS_ACT_SET_CUSTOM_STATUS;
    }

    a[2].type = (ds_action_type_e) 99;
    T_INT(ds_work_actions_check(t_s("p"), a, 6, &f), DS_INVALID);
    T_INT(f.error, DS_ACTION_TYPE);
    T_INT(f.index, 2);
}


static ds_str_t
t_n(const char *s, size_t len)
{
    ds_str_t  r;

    r.data = s;
    r.len = len;

    return r;
}


/* a string of len bytes c, valid until the next call with this len */

static ds_str_t
t_long(char c, size_t len)
{
    static char  buf[2][512];
    static int   n;

    n ^= 1;
    memset(buf[n], c, len);

    return t_n(buf[n], len);
}


static int
t_fault(ds_str_t s, ds_name_error_e error, size_t at)
{
    ds_name_fault_t  f;

    return ds_name_check(s, DS_NAME_MAX, &f) == DS_INVALID
           && f.error == error && f.at == at;
}


static int
t_text(const ds_name_fault_t *f, const char *want)
{
    char    buf[128];
    size_t  n;

    n = ds_name_fault_text(f, buf, sizeof(buf));

    if (n != strlen(want) || strcmp(buf, want) != 0) {
        fprintf(stderr, "    got \"%s\"\n", buf);
        return 0;
    }

    return 1;
}


/* hub names: the API's rule, which an import applies too */

static void
t_name_hubs(void)
{
    size_t  i;

    const char  *good[] = { "a", "DurableFunctionsHub", "h-1_x", "Z9" };
    const char  *bad[] = { "", "9lives", "-a", "_a", "a b", "bad/x",
                           "Hub\xc3\xa9", "a.b" };

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        T_INT(ds_name_hub(t_s(good[i])), DS_OK);
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        T_INT(ds_name_hub(t_s(bad[i])), DS_INVALID);
    }

    T_INT(ds_name_hub(t_long('a', DS_HUB_MAX)), DS_OK);
    T_INT(ds_name_hub(t_long('a', DS_HUB_MAX + 1)), DS_INVALID);
}
