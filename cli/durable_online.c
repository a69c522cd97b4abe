
/*
 * Copyright (C) ngx_durable authors
 *
 * The online commands: the HTTP management API of a running nginx
 * (docs/http-api.md), through libcurl. Each command is one request, but
 * get-instances --all, which follows continuation tokens.
 *
 * The base URL is a mount of the API (default the 2.x family on
 * 127.0.0.1:8080); the key goes in the x-functions-key header, never in
 * the URL, and may come from DURABLE_KEY instead of the command line.
 */


#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "durable.h"


#define DU_DEFAULT_URL  "http://127.0.0.1:8080/runtime/webhooks/durabletask"


typedef struct {
    const char         *url;
    const char         *key;
    const char         *hub;
    const char         *connection;
    const char         *id;
    const char         *name;
    const char         *input;
    const char         *event_name;
    const char         *event_data;
    const char         *reason;
    const char         *created_after;
    const char         *created_before;
    const char         *status;
    const char         *prefix;
    const char         *top;
    const char         *token;
    int                 all;
    int                 show_input;
    int                 show_history;
} du_online_t;


typedef struct {
    long                code;
    char               *body;
    size_t              len;
    char                token[DS_TOKEN_MAX + 1];
} du_http_t;


/* a growing query string or path, in one malloc'd buffer */
typedef struct {
    char               *data;
    size_t              len;
    size_t              size;
    int                 oom;
} du_buf_t;


static int du_online(int argc, char **argv);
static int du_usage_names(const char *usage, const char *name);


#define DU_COMMON                                                             \
    "  --url URL             the API's base (default $DURABLE_URL, else\n"    \
    "                        " DU_DEFAULT_URL ")\n"                           \
    "  --key KEY             a system key (default $DURABLE_KEY)\n"           \
    "  --task-hub HUB        the hub (default: nginx's durable_task_hub)\n"   \
    "  --connection NAME     the store, by its durable_task_store name\n"

const du_command_t  du_cmd_start_new = {
    "start-new", du_online,
    "start an orchestration instance",
    "  --name NAME           the orchestrator (required)\n"
    "  --id ID               the instance id (default: nginx makes one)\n"
    "  --input JSON          its input (default null)\n"
    DU_COMMON
};

const du_command_t  du_cmd_get_status = {
    "get-runtime-status", du_online,
    "show an instance's status",
    "  --id ID               the instance (required)\n"
    "  --show-input          include the input\n"
    "  --show-history        include the history\n"
    DU_COMMON
};

const du_command_t  du_cmd_get_history = {
    "get-history", du_online,
    "show an instance's history, results included",
    "  --id ID               the instance (required)\n"
    DU_COMMON
};

const du_command_t  du_cmd_get_instances = {
    "get-instances", du_online,
    "list instances, a page at a time",
    "  --created-after TIME  created at or after (ISO 8601)\n"
    "  --created-before TIME created at or before\n"
    "  --runtime-status S,S  in one of these statuses\n"
    "  --id-prefix PREFIX    ids that start with this\n"
    "  --top N               page size (default: nginx's, 100)\n"
    "  --continuation-token T  the page after the one that gave T\n"
    "  --all                 follow the tokens to the last page\n"
    "  --show-input          include the inputs\n"
    DU_COMMON
};

const du_command_t  du_cmd_raise_event = {
    "raise-event", du_online,
    "send an event to an instance",
    "  --id ID               the instance (required)\n"
    "  --event-name NAME     the event (required)\n"
    "  --event-data JSON     its data (default null)\n"
    DU_COMMON
};

const du_command_t  du_cmd_terminate = {
    "terminate", du_online,
    "terminate an instance",
    "  --id ID               the instance (required)\n"
    "  --reason TEXT         why (becomes its output)\n"
    DU_COMMON
};

const du_command_t  du_cmd_suspend = {
    "suspend", du_online,
    "suspend an instance",
    "  --id ID               the instance (required)\n"
    "  --reason TEXT         why\n"
    DU_COMMON
};

const du_command_t  du_cmd_resume = {
    "resume", du_online,
    "resume a suspended instance",
    "  --id ID               the instance (required)\n"
    "  --reason TEXT         why\n"
    DU_COMMON
};

const du_command_t  du_cmd_rewind = {
    "rewind", du_online,
    "rewind a failed instance",
    "  --id ID               the instance (required)\n"
    "  --reason TEXT         why\n"
    DU_COMMON
};

const du_command_t  du_cmd_purge = {
    "purge-history", du_online,
    "delete one instance, or the terminal ones a filter selects",
    "  --id ID               this instance, or else a filter:\n"
    "  --created-after TIME  created at or after (required for a filter)\n"
    "  --created-before TIME created at or before (default now)\n"
    "  --runtime-status S,S  among the terminal statuses\n"
    "Exit 1 when nothing was deleted.\n"
    DU_COMMON
};


static void
du_buf_add(du_buf_t *b, const char *s, size_t len)
{
    char    *p;
    size_t   size;

    if (b->len + len + 1 > b->size) {
        size = 2 * (b->len + len + 1);
        p = realloc(b->data, size);
        if (p == NULL) {
            b->oom = 1;
            return;
        }

        b->data = p;
        b->size = size;
    }

    memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
}


static void
du_buf_str(du_buf_t *b, const char *s)
{
    du_buf_add(b, s, strlen(s));
}


/* a path segment or a query value, percent-encoded */

static void
du_buf_esc(du_buf_t *b, CURL *curl, const char *s)
{
    char  *e;

    e = curl_easy_escape(curl, s, (int) strlen(s));
    if (e == NULL) {
        b->oom = 1;
        return;
    }

    du_buf_str(b, e);
    curl_free(e);
}


static void
du_buf_param(du_buf_t *b, CURL *curl, const char *name, const char *value)
{
    if (value == NULL) {
        return;
    }

    du_buf_add(b, strchr(b->data, '?') ? "&" : "?", 1);
    du_buf_str(b, name);
    du_buf_add(b, "=", 1);
    du_buf_esc(b, curl, value);
}


static size_t
du_http_body(char *data, size_t size, size_t n, void *user)
{
    char       *p;
    du_http_t  *res = user;

    p = realloc(res->body, res->len + size * n + 1);
    if (p == NULL) {
        return 0;
    }

    res->body = p;
    memcpy(res->body + res->len, data, size * n);
    res->len += size * n;
    res->body[res->len] = '\0';

    return size * n;
}


static size_t
du_http_header(char *data, size_t size, size_t n, void *user)
{
    size_t      len, name;
    du_http_t  *res = user;

    static const char  token[] = "x-ms-continuation-token:";

    len = size * n;
    name = sizeof(token) - 1;

    if (len > name && strncasecmp(data, token, name) == 0) {
        data += name;
        len -= name;

        while (len && (*data == ' ' || *data == '\t')) {
            data++;
            len--;
        }

        while (len && (data[len - 1] == '\r' || data[len - 1] == '\n'
                       || data[len - 1] == ' '))
        {
            len--;
        }

        if (len <= DS_TOKEN_MAX) {
            memcpy(res->token, data, len);
            res->token[len] = '\0';
        }
    }

    return size * n;
}


/*
 * One request: url is complete. Returns an exit code: 0 with any HTTP
 * answer, 3 when there was none.
 */

static int
du_http(CURL *curl, const du_online_t *o, const char *method,
    const char *url, const char *body, const char *token, du_http_t *res)
{
    int                 rc;
    char                hdr[1024];
    CURLcode            code;
    struct curl_slist  *headers;

    memset(res, 0, sizeof(du_http_t));
    headers = NULL;
    rc = DU_EXIT_OK;

    if (o->key != NULL && o->key[0] != '\0') {
        snprintf(hdr, sizeof(hdr), "x-functions-key: %s", o->key);
        headers = curl_slist_append(headers, hdr);
    }

    if (token != NULL) {
        snprintf(hdr, sizeof(hdr), "x-ms-continuation-token: %s", token);
        headers = curl_slist_append(headers, hdr);
    }

    if (body != NULL) {
        headers = curl_slist_append(headers,
                                    "Content-Type: application/json");
    }

    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, du_http_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, res);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, du_http_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, res);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);

    if (body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long) strlen(body));

    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
    }

    code = curl_easy_perform(curl);

    if (code != CURLE_OK) {
        du_error("%s %s: %s", method, url, curl_easy_strerror(code));
        rc = DU_EXIT_UNAVAILABLE;

        /* nothing answered: the operator's first two guesses */

        if (code == CURLE_COULDNT_CONNECT
            || code == CURLE_COULDNT_RESOLVE_HOST)
        {
            du_error("hint: nothing answered there: nginx may not be "
                     "running, or --url (or DURABLE_URL) is wrong");
        }

    } else {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res->code);
    }

    curl_slist_free_all(headers);

    return rc;
}


/*
 * An answer the command did not want: 401 and 5xx say the server cannot
 * be used (3), the others that the operation failed (1). The Message of a
 * JSON error is printed.
 */

static int
du_http_failed(const du_command_t *cmd, const du_online_t *o,
    const du_http_t *res)
{
    json_t      *j;
    const char  *msg;

    j = res->len ? json_loadb(res->body, res->len, 0, NULL) : NULL;
    msg = json_string_value(json_object_get(j, "Message"));

    if (msg == NULL) {
        switch (res->code) {
        case 404:
            msg = "not found";
            break;
        case 410:
            msg = "the instance is terminal";
            break;
        default:
            msg = res->len ? res->body : "no message";
        }
    }

    /* the server's words, escaped: no control byte reaches a terminal */
    fprintf(stderr, "durable %s: HTTP %ld: ", cmd->name, res->code);
    du_print_text(stderr, msg, 0);
    fputc('\n', stderr);
    json_decref(j);

    /* a refused key is the caller's to fix, not a server that is down */

    if (res->code == 401) {
        if (o->key == NULL || o->key[0] == '\0') {
            fprintf(stderr, "durable %s: hint: this server wants a key: "
                    "pass a system key with --key KEY or in DURABLE_KEY\n",
                    cmd->name);

        } else {
            fprintf(stderr, "durable %s: hint: the key of --key (or "
                    "DURABLE_KEY) was refused: it must be one of the "
                    "server's system keys\n", cmd->name);
        }

        return DU_EXIT_KEY;
    }

    return (res->code >= 500) ? DU_EXIT_UNAVAILABLE : DU_EXIT_FAILED;
}


static const char *
du_jstr(json_t *o, const char *name)
{
    json_t  *v;

    v = json_object_get(o, name);

    return json_is_string(v) ? json_string_value(v) : NULL;
}


/* a JSON value on one line, compact; null for a missing one */

static void
du_print_json(const char *label, json_t *v)
{
    char  *s;

    s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    printf("%-16s %s\n", label, s ? s : "null");
    free(s);
}


/* a label and a string of the answer, escaped */

static void
du_print_field(const char *label, json_t *o, const char *name)
{
    printf("%-16s ", label);
    du_print_text(stdout, du_jstr(o, name), 0);
    putchar('\n');
}


static void
du_print_status(json_t *st)
{
    du_print_field("instanceId", st, "instanceId");
    du_print_field("name", st, "name");
    du_print_field("runtimeStatus", st, "runtimeStatus");
    du_print_field("createdTime", st, "createdTime");
    du_print_field("lastUpdatedTime", st, "lastUpdatedTime");
    du_print_json("input", json_object_get(st, "input"));
    du_print_json("customStatus", json_object_get(st, "customStatus"));
    du_print_json("output", json_object_get(st, "output"));
}


static void
du_print_history(json_t *events)
{
    size_t       i;
    json_t      *ev, *v;
    const char  *what, *ts;

    json_array_foreach(events, i, ev) {
        what = du_jstr(ev, "FunctionName");
        if (what == NULL) {
            what = du_jstr(ev, "Name");
        }

        ts = du_jstr(ev, "Timestamp");
        du_print_text(stdout, ts ? ts : "-", 0);
        fputs("  ", stdout);
        du_print_text(stdout, du_jstr(ev, "EventType"), 34);
        putchar(' ');
        du_print_text(stdout, what ? what : "", 0);

        v = json_object_get(ev, "Result");
        if (v == NULL) {
            v = json_object_get(ev, "Input");
        }

        if (v != NULL) {
            char  *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

            printf("  %s", s ? s : "");
            free(s);
        }

        putchar('\n');
    }
}


/*
 * The members the output needs, as the API gives them: NULL when o has
 * them all, else the first one missing or not a string.
 */

static const char *
du_lacks(json_t *o, const char *const *names)
{
    for ( /* void */ ; *names != NULL; names++) {
        if (du_jstr(o, *names) == NULL) {
            return *names;
        }
    }

    return NULL;
}


static const char *const  du_status_members[] = {
    "instanceId", "name", "runtimeStatus", "createdTime", "lastUpdatedTime",
    NULL
};


static const char *
du_lacks_events(json_t *events)
{
    size_t             i;
    json_t            *ev;
    const char        *what;

    /* the history view leaves out an event without a type (a time, the
       store writes with every event, is not required) */
    static const char *const  members[] = { "EventType", NULL };

    if (!json_is_array(events)) {
        return "historyEvents";
    }

    json_array_foreach(events, i, ev) {
        what = du_lacks(ev, members);
        if (what != NULL) {
            return what;
        }
    }

    return NULL;
}


/*
 * Whether the answer has what the command prints, in either output: a
 * server that is not the API's, or a proxy's page, is not a success.
 * Prints the error; 0 or the exit code.
 */

static int
du_check_answer(const du_command_t *cmd, const du_http_t *res, json_t *j,
    int show_history)
{
    json_t       *v;
    const char   *what;

    static const char *const  started[] = { "id", "statusQueryGetUri", NULL };

    what = NULL;

    if (cmd == &du_cmd_start_new) {
        what = du_lacks(j, started);

    } else if (cmd == &du_cmd_get_status) {
        what = du_lacks(j, du_status_members);

        if (what == NULL && show_history) {
            what = du_lacks_events(json_object_get(j, "historyEvents"));
        }

    } else if (cmd == &du_cmd_get_history) {
        what = du_lacks_events(json_object_get(j, "historyEvents"));

    } else if (cmd == &du_cmd_get_instances) {
        if (!json_is_array(j)) {
            what = "a list";
        }

    } else if (cmd == &du_cmd_purge) {
        v = json_object_get(j, "instancesDeleted");

        if (!json_is_integer(v) || json_integer_value(v) < 0) {
            what = "instancesDeleted";
        }
    }

    if (what == NULL) {
        return DU_EXIT_OK;
    }

    fprintf(stderr, "durable %s: HTTP %ld: an unexpected answer, without "
            "%s%s\n", cmd->name, res->code,
            strcmp(what, "a list") == 0 ? "" : "a valid ", what);

    return DU_EXIT_UNAVAILABLE;
}


static json_t *
du_parse_body(const du_command_t *cmd, const du_http_t *res)
{
    json_t        *j;
    json_error_t   err;

    j = json_loadb(res->body ? res->body : "", res->len, JSON_DECODE_ANY,
                   &err);
    if (j == NULL) {
        /* jansson's text may quote the body */
        fprintf(stderr, "durable %s: HTTP %ld with a body that is not "
                "JSON: ", cmd->name, res->code);
        du_print_text(stderr, err.text, 0);
        fputc('\n', stderr);
    }

    return j;
}


/* whether the help text lists the option: "  --name VALUE" or "--name\n" */

static int
du_usage_names(const char *usage, const char *name)
{
    size_t       n;
    const char  *p;

    n = strlen(name);

    for (p = strstr(usage, name); p != NULL; p = strstr(p + n, name)) {
        if ((p == usage || p[-1] == ' ')
            && (p[n] == ' ' || p[n] == '\n'))
        {
            return 1;
        }
    }

    return 0;
}


static int
du_parse_online(int argc, char **argv, const du_command_t *cmd,
    du_online_t *o)
{
    int       i, rc;
    size_t    k;

    /* the names of func durable's options are aliases */
    static const struct {
        const char  *name;
        const char  *canon;     /* as the command's help names it */
        size_t       off;
    } opts[] = {
        { "--url", NULL, offsetof(du_online_t, url) },
        { "--key", NULL, offsetof(du_online_t, key) },
        { "--task-hub", NULL, offsetof(du_online_t, hub) },
        { "--task-hub-name", "--task-hub", offsetof(du_online_t, hub) },
        { "--connection", NULL, offsetof(du_online_t, connection) },
        { "--connection-string-setting", "--connection",
          offsetof(du_online_t, connection) },
        { "--id", NULL, offsetof(du_online_t, id) },
        { "--name", NULL, offsetof(du_online_t, name) },
        { "--function-name", "--name", offsetof(du_online_t, name) },
        { "--input", NULL, offsetof(du_online_t, input) },
        { "--event-name", NULL, offsetof(du_online_t, event_name) },
        { "--event-data", NULL, offsetof(du_online_t, event_data) },
        { "--reason", NULL, offsetof(du_online_t, reason) },
        { "--created-after", NULL, offsetof(du_online_t, created_after) },
        { "--created-before", NULL, offsetof(du_online_t, created_before) },
        { "--runtime-status", NULL, offsetof(du_online_t, status) },
        { "--id-prefix", NULL, offsetof(du_online_t, prefix) },
        { "--top", NULL, offsetof(du_online_t, top) },
        { "--continuation-token", NULL, offsetof(du_online_t, token) },
    };

    memset(o, 0, sizeof(du_online_t));

    for (i = 1; i < argc; i++) {

        if (du_flag(argv, i, "--json")) {
            continue;
        }

        if (du_flag(argv, i, "--all") && cmd == &du_cmd_get_instances) {
            o->all = 1;
            continue;
        }

        if (du_flag(argv, i, "--show-input")
            && du_usage_names(cmd->usage, "--show-input"))
        {
            o->show_input = 1;
            continue;
        }

        if (du_flag(argv, i, "--show-history")
            && du_usage_names(cmd->usage, "--show-history"))
        {
            o->show_history = 1;
            continue;
        }

        for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
            /* an option is only taken where the command's help names it */
            if (!du_usage_names(cmd->usage,
                                opts[k].canon ? opts[k].canon
                                              : opts[k].name))
            {
                continue;
            }

            rc = du_opt(argc, argv, &i, opts[k].name,
                        (const char **) ((char *) o + opts[k].off));
            if (rc < 0) {
                return du_usage_error(cmd, "%s needs a value", opts[k].name);
            }

            if (rc > 0) {
                break;
            }
        }

        if (k == sizeof(opts) / sizeof(opts[0])) {
            return du_usage_error(cmd, "unknown option \"%s\"", argv[i]);
        }
    }

    if (o->url == NULL) {
        o->url = getenv("DURABLE_URL");
    }

    if (o->url == NULL || o->url[0] == '\0') {
        o->url = DU_DEFAULT_URL;
    }

    if (o->key == NULL) {
        o->key = getenv("DURABLE_KEY");
    }

    if (cmd == &du_cmd_start_new && o->name == NULL) {
        return du_usage_error(cmd, "--name is required");
    }

    if (cmd == &du_cmd_raise_event && o->event_name == NULL) {
        return du_usage_error(cmd, "--event-name is required");
    }

    if (cmd == &du_cmd_purge) {
        if ((o->id == NULL) == (o->created_after == NULL)) {
            return du_usage_error(cmd, "either --id or --created-after");
        }

        if (o->id != NULL && (o->created_before || o->status)) {
            return du_usage_error(cmd, "--id takes no filter");
        }

    } else if (o->id == NULL && cmd != &du_cmd_start_new
               && cmd != &du_cmd_get_instances)
    {
        return du_usage_error(cmd, "--id is required");
    }

    if (o->all && o->token != NULL) {
        return du_usage_error(cmd, "--all starts from the first page");
    }

    return DU_EXIT_OK;
}


/*
 * The base URL, a path and the parameters every route takes: id and
 * tail_arg are the caller's, escaped as path segments; tail is a fixed
 * word of the route.
 */

static void
du_url(du_buf_t *b, CURL *curl, const du_online_t *o, const char *route,
    const char *id, const char *tail, const char *tail_arg)
{
    size_t  n;

    n = strlen(o->url);

    while (n && o->url[n - 1] == '/') {
        n--;
    }

    du_buf_add(b, o->url, n);
    du_buf_add(b, "/", 1);
    du_buf_str(b, route);

    if (id != NULL) {
        du_buf_add(b, "/", 1);
        du_buf_esc(b, curl, id);
    }

    if (tail != NULL) {
        du_buf_add(b, "/", 1);
        du_buf_str(b, tail);
    }

    if (tail_arg != NULL) {
        du_buf_add(b, "/", 1);
        du_buf_esc(b, curl, tail_arg);
    }

    du_buf_param(b, curl, "taskHub", o->hub);
    du_buf_param(b, curl, "connection", o->connection);
}


/*
 * Whether --all was given this token before, as the hashes of the
 * tokens seen (FNV-1a, 64 bits: a false match is not to be met): a
 * server that hands one out again would be followed round for ever.
 * 1: seen, 0: not (and now remembered), -1: out of memory.
 */

typedef struct {
    uint64_t           *hash;
    size_t              n;
    size_t              size;
} du_seen_t;


static int
du_token_seen(du_seen_t *seen, const char *token)
{
    size_t          i;
    uint64_t        h, *p;
    const uint8_t  *c;

    h = 14695981039346656037ULL;

    for (c = (const uint8_t *) token; *c; c++) {
        h = (h ^ *c) * 1099511628211ULL;
    }

    for (i = 0; i < seen->n; i++) {
        if (seen->hash[i] == h) {
            return 1;
        }
    }

    if (seen->n == seen->size) {
        seen->size = seen->size ? 2 * seen->size : 64;
        p = realloc(seen->hash, seen->size * sizeof(uint64_t));
        if (p == NULL) {
            return -1;
        }

        seen->hash = p;
    }

    seen->hash[seen->n++] = h;

    return 0;
}


static int
du_run_list(const du_command_t *cmd, CURL *curl, const du_online_t *o)
{
    int          rc, first, seen_rc;
    char         token[DS_TOKEN_MAX + 1];
    size_t       i;
    json_t      *page, *st;
    du_buf_t     url;
    du_http_t    res;
    du_seen_t    seen;
    const char  *what;

    memset(&url, 0, sizeof(du_buf_t));
    du_url(&url, curl, o, "instances", NULL, NULL, NULL);
    du_buf_param(&url, curl, "createdTimeFrom", o->created_after);
    du_buf_param(&url, curl, "createdTimeTo", o->created_before);
    du_buf_param(&url, curl, "runtimeStatus", o->status);
    du_buf_param(&url, curl, "instanceIdPrefix", o->prefix);
    du_buf_param(&url, curl, "top", o->top);
    du_buf_param(&url, curl, "showInput", o->show_input ? "true" : "false");

    if (url.oom) {
        free(url.data);
        du_error("out of memory");
        return DU_EXIT_UNAVAILABLE;
    }

    token[0] = '\0';

    if (o->token != NULL) {
        snprintf(token, sizeof(token), "%s", o->token);
    }

    if (du_json) {
        fputs("{\"instances\":[", stdout);
    }

    first = 1;
    rc = DU_EXIT_OK;
    memset(&seen, 0, sizeof(du_seen_t));

    for ( ;; ) {
        rc = du_http(curl, o, "GET", url.data, NULL,
                     token[0] ? token : NULL, &res);
        if (rc != DU_EXIT_OK) {
            break;
        }

        if (res.code != 200) {
            rc = du_http_failed(cmd, o, &res);
            free(res.body);
            break;
        }

        page = du_parse_body(cmd, &res);
        free(res.body);

        if (page == NULL) {
            rc = DU_EXIT_UNAVAILABLE;
            break;
        }

        rc = du_check_answer(cmd, &res, page, 0);

        json_array_foreach(page, i, st) {
            if (rc == DU_EXIT_OK) {
                what = du_lacks(st, du_status_members);

                if (what != NULL) {
                    fprintf(stderr, "durable %s: HTTP %ld: an unexpected "
                            "answer, an instance without a valid %s\n",
                            cmd->name, res.code, what);
                    rc = DU_EXIT_UNAVAILABLE;
                }
            }
        }

        if (rc != DU_EXIT_OK) {
            json_decref(page);
            break;
        }

        json_array_foreach(page, i, st) {
            if (du_json) {
                char  *s = json_dumps(st, JSON_COMPACT);

                printf("%s%s", first ? "" : ",", s ? s : "null");
                free(s);

            } else {
                du_print_text(stdout, du_jstr(st, "instanceId"), 36);
                putchar(' ');
                du_print_text(stdout, du_jstr(st, "runtimeStatus"), 16);
                putchar(' ');
                du_print_text(stdout, du_jstr(st, "createdTime"), 0);
                fputs("  ", stdout);
                du_print_text(stdout, du_jstr(st, "name"), 0);
                putchar('\n');
            }

            first = 0;
        }

        json_decref(page);
        memcpy(token, res.token, sizeof(token));

        if (!o->all || token[0] == '\0') {
            break;
        }

        seen_rc = du_token_seen(&seen, token);

        if (seen_rc != 0) {
            if (seen_rc < 0) {
                du_error("out of memory");

            } else {
                fprintf(stderr, "durable %s: the server gave continuation "
                        "token '", cmd->name);
                du_print_text(stderr, token, 0);
                fputs("' a second time: --all stops there\n", stderr);
            }

            rc = DU_EXIT_UNAVAILABLE;
            break;
        }
    }

    free(url.data);
    free(seen.hash);

    if (du_json) {
        fputs("],\"continuationToken\":", stdout);

        if (rc == DU_EXIT_OK && token[0]) {
            du_json_print_str(stdout, token, strlen(token));

        } else {
            fputs("null", stdout);
        }

        fputs("}\n", stdout);

    } else if (rc == DU_EXIT_OK && token[0]) {
        /* the next page: on stderr, the list stays clean for pipes */
        fputs("more: --continuation-token '", stderr);
        du_print_text(stderr, token, 0);
        fputs("'\n", stderr);
    }

    return rc;
}


static int
du_online(int argc, char **argv)
{
    int                  rc, want;
    json_t              *j;
    du_buf_t             url;
    du_http_t            res;
    du_online_t          o;
    const char          *method, *body, *what;
    const du_command_t  *cmd;
    CURL                *curl;

    size_t               i;
    const du_command_t  *cmds[] = {
        &du_cmd_start_new, &du_cmd_get_status, &du_cmd_get_history,
        &du_cmd_get_instances, &du_cmd_raise_event, &du_cmd_terminate,
        &du_cmd_suspend, &du_cmd_resume, &du_cmd_rewind, &du_cmd_purge
    };

    cmd = NULL;

    for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (strcmp(argv[0], cmds[i]->name) == 0) {
            cmd = cmds[i];
        }
    }

    if (du_wants_help(argc, argv, cmd)) {
        return DU_EXIT_OK;
    }

    rc = du_parse_online(argc, argv, cmd, &o);
    if (rc != DU_EXIT_OK) {
        return rc;
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0
        || (curl = curl_easy_init()) == NULL)
    {
        du_error("libcurl cannot start");
        return DU_EXIT_UNAVAILABLE;
    }

    if (cmd == &du_cmd_get_instances) {
        rc = du_run_list(cmd, curl, &o);
        curl_easy_cleanup(curl);
        curl_global_cleanup();
        return rc;
    }

    memset(&url, 0, sizeof(du_buf_t));
    method = "POST";
    body = NULL;
    want = 202;
    what = NULL;

    if (cmd == &du_cmd_start_new) {
        du_url(&url, curl, &o, "orchestrators", o.name, NULL, o.id);
        body = o.input ? o.input : "";

    } else if (cmd == &du_cmd_get_status || cmd == &du_cmd_get_history) {
        du_url(&url, curl, &o, "instances", o.id, NULL, NULL);
        method = "GET";
        want = 200;

        if (cmd == &du_cmd_get_history) {
            du_buf_param(&url, curl, "showHistory", "true");
            du_buf_param(&url, curl, "showHistoryOutput", "true");

        } else {
            du_buf_param(&url, curl, "showInput",
                         o.show_input ? "true" : "false");
            du_buf_param(&url, curl, "showHistory",
                         o.show_history ? "true" : "false");
        }

    } else if (cmd == &du_cmd_raise_event) {
        du_url(&url, curl, &o, "instances", o.id, "raiseEvent",
               o.event_name);
        body = o.event_data ? o.event_data : "";
        what = "event raised";

    } else if (cmd == &du_cmd_purge) {
        du_url(&url, curl, &o, "instances", o.id, NULL, NULL);
        du_buf_param(&url, curl, "createdTimeFrom", o.created_after);
        du_buf_param(&url, curl, "createdTimeTo", o.created_before);
        du_buf_param(&url, curl, "runtimeStatus", o.status);
        method = "DELETE";
        want = 200;

    } else {
        du_url(&url, curl, &o, "instances", o.id, cmd->name, NULL);
        du_buf_param(&url, curl, "reason", o.reason);
        what = cmd == &du_cmd_terminate ? "terminated"
               : cmd == &du_cmd_suspend ? "suspended"
               : cmd == &du_cmd_resume ? "resumed" : "rewound";
    }

    if (url.oom) {
        du_error("out of memory");
        rc = DU_EXIT_UNAVAILABLE;
        goto done;
    }

    rc = du_http(curl, &o, method, url.data, body, NULL, &res);
    if (rc != DU_EXIT_OK) {
        goto done;
    }

    /* a status read answers 202 for an active instance, 200 otherwise */

    if (res.code != want && !(want == 200 && res.code == 202
                              && strcmp(method, "GET") == 0))
    {
        if (cmd == &du_cmd_purge && res.code == 404) {
            if (du_json) {
                printf("{\"instancesDeleted\":0}\n");

            } else {
                printf("nothing purged\n");
            }

            rc = DU_EXIT_FAILED;

        } else {
            rc = du_http_failed(cmd, &o, &res);
        }

        free(res.body);
        goto done;
    }

    if (what != NULL) {
        if (du_json) {
            fputs("{\"instanceId\":", stdout);
            du_json_print_str(stdout, o.id, strlen(o.id));
            printf(",\"result\":\"%s\"}\n", what);

        } else {
            du_print_text(stdout, o.id, 0);
            printf(": %s\n", what);
        }

        free(res.body);
        goto done;
    }

    j = du_parse_body(cmd, &res);
    free(res.body);

    if (j == NULL) {
        rc = DU_EXIT_UNAVAILABLE;
        goto done;
    }

    rc = du_check_answer(cmd, &res, j, o.show_history);
    if (rc != DU_EXIT_OK) {
        json_decref(j);
        goto done;
    }

    if (du_json) {
        char  *s;

        s = json_dumps(cmd == &du_cmd_get_history
                       ? json_object_get(j, "historyEvents") : j,
                       JSON_COMPACT | JSON_ENCODE_ANY);
        printf("%s\n", s ? s : "[]");
        free(s);

    } else if (cmd == &du_cmd_start_new) {
        fputs("started ", stdout);
        du_print_text(stdout, du_jstr(j, "id"), 0);
        putchar('\n');
        du_print_field("statusQueryGetUri", j, "statusQueryGetUri");

    } else if (cmd == &du_cmd_get_status) {
        du_print_status(j);

        if (o.show_history) {
            printf("historyEvents\n");
            du_print_history(json_object_get(j, "historyEvents"));
        }

    } else if (cmd == &du_cmd_get_history) {
        du_print_history(json_object_get(j, "historyEvents"));

    } else {
        printf("%lld instances deleted\n", (long long) json_integer_value(
                   json_object_get(j, "instancesDeleted")));
    }

    json_decref(j);

done:

    free(url.data);
    curl_easy_cleanup(curl);
    curl_global_cleanup();

    return rc;
}
