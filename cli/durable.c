
/*
 * Copyright (C) ngx_durable authors
 *
 * durable: the command dispatcher, --help, and the helpers the commands
 * share (options, errors, JSON strings, base64). Invoked as durable-check
 * it is the older checker, options and exit codes unchanged.
 */


#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "durable.h"


/* the package's version: the build reads it from debian/changelog */
#ifndef DU_VERSION
#error "DU_VERSION is not defined: build durable with make (Makefile)"
#endif


int  du_json;


static const du_command_t  *du_commands[] = {
    &du_cmd_start_new,
    &du_cmd_get_status,
    &du_cmd_get_history,
    &du_cmd_get_instances,
    &du_cmd_raise_event,
    &du_cmd_terminate,
    &du_cmd_suspend,
    &du_cmd_resume,
    &du_cmd_rewind,
    &du_cmd_purge,
    &du_cmd_check,
    &du_cmd_stats,
    &du_cmd_export,
    &du_cmd_import,
    &du_cmd_delete_hub,
    &du_cmd_backup,
    &du_cmd_restore,
    &du_cmd_compact,
    &du_cmd_schema,
    NULL
};


static void
du_help(FILE *f)
{
    size_t  i;

    fprintf(f,
        "usage: durable COMMAND [OPTIONS] (durable COMMAND --help)\n"
        "\n"
        "Online commands, against a running nginx (--url, --key,\n"
        "--task-hub, --connection; DURABLE_URL and DURABLE_KEY in the\n"
        "environment):\n");

    for (i = 0; du_commands[i] != NULL; i++) {
        if (du_commands[i] == &du_cmd_check) {
            fprintf(f, "\nOffline commands, on a store directory (check, "
                    "stats, export, import and\ndelete-task-hub also on a "
                    "PostgreSQL store's conninfo):\n");
        }

        if (du_commands[i] == &du_cmd_schema) {
            fprintf(f, "\nOn a PostgreSQL database:\n");
        }

        fprintf(f, "  %-20s %s\n", du_commands[i]->name,
                du_commands[i]->summary);
    }

    fprintf(f,
        "\n"
        "Every command takes --json (output for scripts) and --help; an\n"
        "option's value is the next argument or follows an = (--hub=X).\n"
        "durable --version prints the package's version.\n"
        "\n"
        "Exit status: 0 done; 1 the operation failed or was refused (no\n"
        "such instance, an inconsistent store, ...); 2 a usage error;\n"
        "3 the store or the server is unavailable; 4 the server refused\n"
        "the key (401); 5 busy: schema init or upgrade waited too long\n"
        "for a table another transaction was using and changed nothing;\n"
        "try again.\n"
        "See durable(1).\n");
}


static int
du_run(int argc, char **argv)
{
    size_t  i;

    if (argc < 2) {
        du_help(stderr);
        return DU_EXIT_USAGE;
    }

    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0
        || strcmp(argv[1], "help") == 0)
    {
        du_help(stdout);
        return DU_EXIT_OK;
    }

    if (strcmp(argv[1], "--version") == 0) {
        printf("durable %s\n", DU_VERSION);
        return DU_EXIT_OK;
    }

    for (i = 0; du_commands[i] != NULL; i++) {
        if (strcmp(argv[1], du_commands[i]->name) == 0) {
            return du_commands[i]->run(argc - 1, argv + 1);
        }
    }

    fprintf(stderr, "durable: unknown command \"%s\"\n\n", argv[1]);
    du_help(stderr);

    return DU_EXIT_USAGE;
}


int
main(int argc, char **argv)
{
    int          rc, legacy, err;
    const char  *base;

    base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    legacy = strcmp(base, "durable-check") == 0;

    rc = legacy ? du_check_legacy(argc, argv) : du_run(argc, argv);

    /*
     * Output that did not reach its file (a full disk, a closed pipe's
     * EPIPE with SIGPIPE ignored) is a failure, whatever the command
     * did: a script must not take a cut list or status for the whole.
     */

    err = fflush(stdout) != 0 ? errno : 0;

    if (err != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: writing the output failed%s%s\n",
                legacy ? "durable-check" : "durable", err ? ": " : "",
                err ? strerror(err) : "");

        if (rc == DU_EXIT_OK) {
            rc = legacy ? 2 : DU_EXIT_FAILED;
        }
    }

    return rc;
}


static void
du_command_help(FILE *f, const du_command_t *cmd)
{
    fprintf(f, "usage: durable %s [OPTIONS]\n\n%s.\n\n%s", cmd->name,
            cmd->summary, cmd->usage);
    fprintf(f, "  --json                output for scripts\n"
               "  --help                this text\n");
}


int
du_usage_error(const du_command_t *cmd, const char *fmt, ...)
{
    va_list  args;

    fprintf(stderr, "durable %s: ", cmd->name);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fprintf(stderr, "\n\n");

    du_command_help(stderr, cmd);

    return DU_EXIT_USAGE;
}


/* --help anywhere prints the command's help; --json anywhere sets du_json */

int
du_wants_help(int argc, char **argv, const du_command_t *cmd)
{
    int  i;

    du_json = 0;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            du_command_help(stdout, cmd);
            return 1;
        }

        if (strcmp(argv[i], "--json") == 0) {
            du_json = 1;
        }
    }

    return 0;
}


/*
 * "--name value" or "--name=value" at argv[*i]: 1 and *value set (*i moved
 * past it), 0 when argv[*i] is another option, -1 when the value is
 * missing.
 */

int
du_opt(int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t  n;

    n = strlen(name);

    if (strncmp(argv[*i], name, n) != 0) {
        return 0;
    }

    if (argv[*i][n] == '=') {
        *value = argv[*i] + n + 1;
        return 1;
    }

    if (argv[*i][n] != '\0') {
        return 0;
    }

    if (*i + 1 >= argc) {
        return -1;
    }

    *value = argv[++*i];

    return 1;
}


int
du_flag(char **argv, int i, const char *name)
{
    return strcmp(argv[i], name) == 0;
}


int
du_size(const char *s, size_t *v)
{
    char                *end;
    unsigned long long   n;

    if (*s < '0' || *s > '9') {
        return -1;
    }

    n = strtoull(s, &end, 10);
    if (*end != '\0' || n > (size_t) -1) {
        return -1;
    }

    *v = (size_t) n;

    return 0;
}


void
du_error(const char *fmt, ...)
{
    va_list  args;

    fprintf(stderr, "durable: ");
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
}


void
du_json_print_str(FILE *f, const char *s, size_t len)
{
    char  *buf;

    buf = malloc(ds_json_escape_len(s, len) + 1);
    if (buf == NULL) {
        fputs("null", f);
        return;
    }

    len = ds_json_escape(s, len, buf);

    fputc('"', f);
    fwrite(buf, 1, len, f);
    fputc('"', f);

    free(buf);
}


/*
 * bytes escaped as in a JSON string (without the quotes), and DEL and
 * the C1 controls (U+0080 to U+009F, which some terminals obey) as
 * \u escapes too, which JSON leaves as they are: no control byte reaches
 * the operator's terminal. The bytes written, or 0 out of memory.
 */

static size_t
du_write_escaped(FILE *f, const char *s, size_t len)
{
    char           *buf;
    size_t          i, n, out;
    unsigned char   c;
    static const char  hex[] = "0123456789abcdef";

    buf = malloc(ds_json_escape_len(s, len) + 1);
    if (buf == NULL) {
        fputs("(out of memory)", f);
        return 0;
    }

    n = ds_json_escape(s, len, buf);
    out = 0;

    for (i = 0; i < n; i++) {
        c = (unsigned char) buf[i];

        /* the escape keeps UTF-8 valid: 0xc2 here leads a character */
        if (c == 0x7f
            || (c == 0xc2 && i + 1 < n
                && (unsigned char) buf[i + 1] >= 0x80
                && (unsigned char) buf[i + 1] <= 0x9f))
        {
            if (c == 0xc2) {
                c = (unsigned char) buf[++i];
            }

            fprintf(f, "\\u00%c%c", hex[c >> 4], hex[c & 0xf]);
            out += 6;
            continue;
        }

        fputc(c, f);
        out++;
    }

    free(buf);

    return out;
}


/* bytes from a store or a file, escaped (du_write_escaped()) */

void
du_print_str(FILE *f, ds_str_t s)
{
    (void) du_write_escaped(f, s.data, s.len);
}


/*
 * text from a server, as du_print_str() prints it, padded with spaces to
 * width columns (bytes); NULL is printed as null
 */

void
du_print_text(FILE *f, const char *s, int width)
{
    size_t  len;

    if (s == NULL) {
        s = "null";
    }

    len = du_write_escaped(f, s, strlen(s));

    while (width > 0 && len < (size_t) width) {
        fputc(' ', f);
        len++;
    }
}


static const char  du_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";


/* standard base64 with padding; out holds 4 * ((len + 2) / 3) bytes */

size_t
du_base64_encode(const unsigned char *in, size_t len, char *out)
{
    char      *p;
    uint32_t   v;

    p = out;

    while (len >= 3) {
        v = (uint32_t) in[0] << 16 | (uint32_t) in[1] << 8 | in[2];
        *p++ = du_b64[v >> 18];
        *p++ = du_b64[(v >> 12) & 63];
        *p++ = du_b64[(v >> 6) & 63];
        *p++ = du_b64[v & 63];
        in += 3;
        len -= 3;
    }

    if (len) {
        v = (uint32_t) in[0] << 16 | (len == 2 ? (uint32_t) in[1] << 8 : 0);
        *p++ = du_b64[v >> 18];
        *p++ = du_b64[(v >> 12) & 63];
        *p++ = len == 2 ? du_b64[(v >> 6) & 63] : '=';
        *p++ = '=';
    }

    return p - out;
}


/* the strict inverse: padding required, nothing else accepted */

int
du_base64_decode(const char *in, size_t len, unsigned char *out,
    size_t *out_len)
{
    int            c[4];
    size_t         i, j, n;
    const char    *q;

    if (len % 4) {
        return -1;
    }

    n = 0;

    for (i = 0; i < len; i += 4) {
        for (j = 0; j < 4; j++) {
            if (in[i + j] == '=' && i + 4 == len && j >= 2) {
                c[j] = -1;
                continue;
            }

            q = in[i + j] ? strchr(du_b64, in[i + j]) : NULL;
            if (q == NULL || (j == 3 && c[2] == -1)) {
                return -1;
            }

            c[j] = (int) (q - du_b64);
        }

        out[n++] = (unsigned char) (c[0] << 2 | c[1] >> 4);

        if (c[2] != -1) {
            out[n++] = (unsigned char) ((c[1] & 15) << 4 | c[2] >> 2);

            if (c[3] != -1) {
                out[n++] = (unsigned char) ((c[2] & 3) << 6 | c[3]);
            }
        }
    }

    *out_len = n;

    return 0;
}
