
/*
 * Copyright (C) ngx_durable authors
 *
 * libFuzzer target: continuation tokens of ds_instance_list().
 *
 * A store with a few dozen instances (ties in created time, negative
 * times, odd id bytes, a 256-byte id, neighbour hubs) is made once in
 * LLVMFuzzerInitialize. Input: 6 bytes of filter (status mask, created
 * range, page size, scan budget, id prefix), then the token text.
 *
 * Checked: a token an independent strict decoder rejects gives DS_INVALID;
 * a valid one gives DS_OK and, with the tokens that follow it, exactly the
 * matching instances strictly after its position, in (created, id) order:
 * none repeated, none skipped; every returned token decodes; the number of
 * pages is bounded.
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "durable_store.h"


#define FUZZ_CHECK(cond)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fuzz_fail(__FILE__, __LINE__, #cond);                            \
        }                                                                    \
    } while (0)


#define FUZZ_N          48
#define FUZZ_RAW_MAX    (1 + 8 + DS_ID_MAX)
#define FUZZ_BASE       1520690251000000LL


typedef struct {
    char                id[DS_ID_MAX];
    size_t              len;
    int64_t             created;
    ds_status_e         status;
} fuzz_inst_t;


typedef struct {
    size_t              n;
    size_t              max;
    size_t              idx[FUZZ_N];
    int                 overflow;
} fuzz_page_t;


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static ds_env_t     *env;
static char          dir[64];
static fuzz_inst_t   insts[FUZZ_N];
static ds_str_t      hub = { "H", 1 };

static const int64_t  fuzz_times[] = {
    0, FUZZ_BASE, FUZZ_BASE + 3, FUZZ_BASE + 7, FUZZ_BASE + 11, -2000000,
    -1, 1, INT64_MIN, INT64_MAX, FUZZ_BASE + 5, FUZZ_BASE - 1
};

static const char  *fuzz_prefixes[] = {
    "", "i", "i1", "i3", "\x01", "z", "\xc3", "i2", "j"
};


static void
fuzz_fail(const char *file, int line, const char *expr)
{
    fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, expr);
    abort();
}


static void
fuzz_cleanup(void)
{
    char  path[128];

    ds_env_close(env);

    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/lock.mdb", dir);
    unlink(path);
    rmdir(dir);
}


static void
fuzz_put(ds_txn_t *txn, ds_str_t h, const fuzz_inst_t *fi)
{
    ds_str_t       id;
    ds_instance_t  inst;

    memset(&inst, 0, sizeof(inst));
    inst.status = fi->status;
    inst.suspended_from = DS_RUNNING;
    inst.created = fi->created;
    inst.updated = fi->created;
    inst.execution = 1;
    inst.name.data = "Orch";
    inst.name.len = 4;

    id.data = fi->id;
    id.len = fi->len;

    FUZZ_CHECK(ds_instance_put(txn, h, id, &inst) == DS_OK);
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int            i;
    char           err[256];
    ds_str_t       other;
    ds_txn_t      *txn;
    fuzz_inst_t   *fi;
    ds_env_conf_t  conf;

    (void) argc;
    (void) argv;

    strcpy(dir, "/tmp/fuzz_token.XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        abort();
    }

    memset(&conf, 0, sizeof(conf));
    conf.path = dir;
    conf.map_size = 16 * 1024 * 1024;
    conf.sync = DS_SYNC_NONE;

    if (ds_env_open(&env, &conf, err, sizeof(err)) != DS_OK) {
        fprintf(stderr, "ds_env_open: %s\n", err);
        abort();
    }

    atexit(fuzz_cleanup);

    for (i = 0; i < FUZZ_N; i++) {
        fi = &insts[i];

        /* created times in runs of ties, some before the epoch */
        fi->created = (i % 6 == 5) ? -2000000 - i / 6
                                   : FUZZ_BASE + (i / 3) % 12;
        fi->status = (ds_status_e) ((i * 5) % DS_STATUS_COUNT);
        fi->len = (size_t) snprintf(fi->id, sizeof(fi->id), "i%d", i);
    }

    /* odd ids: control bytes, UTF-8, the longest id, a prefix of another */
    insts[40].len = 2;
    memcpy(insts[40].id, "\x01\x02", 2);
    insts[41].len = 2;
    memcpy(insts[41].id, "\xc3\xa9", 2);
    insts[42].len = DS_ID_MAX;
    memset(insts[42].id, 'z', DS_ID_MAX);
    insts[43].len = 1;
    memcpy(insts[43].id, "i", 1);
    insts[44].len = 3;
    memcpy(insts[44].id, "\xff\xff\xff", 3);

    FUZZ_CHECK(ds_txn_begin(env, NULL, 1, &txn) == DS_OK);

    for (i = 0; i < FUZZ_N; i++) {
        fuzz_put(txn, hub, &insts[i]);
    }

    /* neighbours that must never show up */
    other.data = "H2";
    other.len = 2;
    fuzz_put(txn, other, &insts[0]);
    other.data = "G";
    other.len = 1;
    fuzz_put(txn, other, &insts[1]);

    FUZZ_CHECK(ds_txn_commit(txn) == DS_OK);
    FUZZ_CHECK(ds_check(env, hub, NULL, NULL, NULL) == DS_OK);

    return 0;
}


static int
fuzz_b64(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    return c == '-' ? 62 : (c == '_' ? 63 : -1);
}


/* strict base64url without padding: the documented token format */

static int
fuzz_token_decode(const unsigned char *p, size_t len, unsigned char *raw,
    size_t *n)
{
    int       d[4];
    size_t    i, j, k, out;

    if (len > DS_TOKEN_MAX || len % 4 == 1) {
        return 0;
    }

    out = 0;

    for (i = 0; i < len; i += 4) {
        k = (len - i < 4) ? len - i : 4;

        for (j = 0; j < k; j++) {
            d[j] = fuzz_b64(p[i + j]);
            if (d[j] < 0) {
                return 0;
            }
        }

        for ( /* void */ ; j < 4; j++) {
            d[j] = 0;
        }

        /* k bytes of text carry k - 1 bytes; unused bits must be zero */
        if ((k == 2 && (d[1] & 0x0f)) || (k == 3 && (d[2] & 0x03))) {
            return 0;
        }

        if (out + k - 1 > FUZZ_RAW_MAX) {
            return 0;
        }

        raw[out++] = (unsigned char) (d[0] << 2 | d[1] >> 4);

        if (k > 2) {
            raw[out++] = (unsigned char) ((d[1] & 0x0f) << 4 | d[2] >> 2);
        }

        if (k > 3) {
            raw[out++] = (unsigned char) ((d[2] & 0x03) << 6 | d[3]);
        }
    }

    if (out < 1 + 8 || raw[0] != 1) {
        return 0;
    }

    *n = out;

    return 1;
}


static void
fuzz_suffix(const fuzz_inst_t *fi, unsigned char *s, size_t *len)
{
    int       i;
    uint64_t  v;

    v = (uint64_t) fi->created ^ ((uint64_t) 1 << 63);

    for (i = 7; i >= 0; i--) {
        s[i] = (unsigned char) (v & 0xff);
        v >>= 8;
    }

    memcpy(s + 8, fi->id, fi->len);
    *len = 8 + fi->len;
}


static int
fuzz_bytes_cmp(const unsigned char *a, size_t al, const unsigned char *b,
    size_t bl)
{
    int  c;

    c = memcmp(a, b, al < bl ? al : bl);

    return c ? c : (al > bl) - (al < bl);
}


static int
fuzz_inst_cmp(const void *a, const void *b)
{
    size_t         al, bl;
    unsigned char  as[8 + DS_ID_MAX], bs[8 + DS_ID_MAX];

    fuzz_suffix(&insts[*(const size_t *) a], as, &al);
    fuzz_suffix(&insts[*(const size_t *) b], bs, &bl);

    return fuzz_bytes_cmp(as, al, bs, bl);
}


static int
fuzz_collect(void *data, ds_str_t id, const ds_instance_t *inst)
{
    size_t        i;
    fuzz_page_t  *pg;

    pg = data;

    for (i = 0; i < FUZZ_N; i++) {
        if (insts[i].len == id.len && memcmp(insts[i].id, id.data, id.len)
            == 0)
        {
            break;
        }
    }

    FUZZ_CHECK(i < FUZZ_N);
    FUZZ_CHECK(inst->status == insts[i].status
               && inst->created == insts[i].created);

    if (pg->n == pg->max) {
        pg->overflow = 1;
        return 0;
    }

    pg->idx[pg->n++] = i;

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int             rc, valid;
    char           *token, *text;
    size_t          i, n, raw_len, tlen, slen, pages, want_n;
    size_t          want[FUZZ_N];
    ds_txn_t       *txn;
    ds_query_t      q;
    fuzz_page_t     got;
    const char     *pfx;
    fuzz_inst_t    *fi;
    unsigned char   raw[FUZZ_RAW_MAX + 4], s[8 + DS_ID_MAX];

    if (size < 6) {
        return 0;
    }

    memset(&q, 0, sizeof(q));
    q.status_mask = data[0];
    q.created_from = fuzz_times[data[1] % 12];
    q.created_to = fuzz_times[data[2] % 12];
    q.top = 1 + data[3] % 8;
    q.scan_budget = data[4] % 4 == 0 ? 0 : data[4] % 16 + 1;
    pfx = fuzz_prefixes[data[5] % 9];
    q.id_prefix.data = pfx;
    q.id_prefix.len = strlen(pfx);

    tlen = size - 6;
    text = malloc(tlen ? tlen : 1);
    token = malloc(DS_TOKEN_MAX);
    if (text == NULL || token == NULL) {
        abort();
    }

    if (tlen) {
        memcpy(text, data + 6, tlen);
    }

    q.token.data = text;
    q.token.len = tlen;

    raw_len = 0;
    valid = (tlen == 0) || fuzz_token_decode(data + 6, tlen, raw, &raw_len);

    /* what the first page and the pages after it must hold */

    want_n = 0;

    for (i = 0; i < FUZZ_N; i++) {
        fi = &insts[i];

        if (q.status_mask && !(q.status_mask & DS_STATUS_MASK(fi->status))) {
            continue;
        }

        if ((q.created_from && fi->created < q.created_from)
            || (q.created_to && fi->created > q.created_to)
            || fi->len < q.id_prefix.len
            || memcmp(fi->id, pfx, q.id_prefix.len) != 0)
        {
            continue;
        }

        fuzz_suffix(fi, s, &slen);

        if (raw_len && fuzz_bytes_cmp(s, slen, raw + 1, raw_len - 1) <= 0) {
            continue;
        }

        want[want_n++] = i;
    }

    qsort(want, want_n, sizeof(size_t), fuzz_inst_cmp);

    memset(&got, 0, sizeof(got));
    got.max = FUZZ_N;

    FUZZ_CHECK(ds_txn_begin(env, NULL, 0, &txn) == DS_OK);

    for (pages = 0; /* void */ ; pages++) {
        /* every page examines at least one entry */
        FUZZ_CHECK(pages <= FUZZ_N + 1);

        n = 0;
        rc = ds_instance_list(txn, hub, &q, fuzz_collect, &got, token, &n);

        if (pages == 0 && !valid) {
            FUZZ_CHECK(rc == DS_INVALID && n == 0 && got.n == 0);
            break;
        }

        FUZZ_CHECK(rc == DS_OK);
        FUZZ_CHECK(!got.overflow);

        if (n == 0) {
            break;
        }

        FUZZ_CHECK(n <= DS_TOKEN_MAX);
        FUZZ_CHECK(fuzz_token_decode((unsigned char *) token, n, raw,
                                     &raw_len));

        memcpy(text, token, n < tlen ? n : tlen);

        if (n > tlen) {
            free(text);
            text = malloc(n);
            if (text == NULL) {
                abort();
            }

            memcpy(text, token, n);
            tlen = n;
        }

        q.token.data = text;
        q.token.len = n;
    }

    ds_txn_abort(txn);

    if (valid) {
        /* no instance repeated, none skipped, in order */
        FUZZ_CHECK(got.n == want_n);

        for (i = 0; i < want_n; i++) {
            FUZZ_CHECK(got.idx[i] == want[i]);
        }
    }

    free(text);
    free(token);

    return 0;
}
