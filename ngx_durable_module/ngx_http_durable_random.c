
/*
 * Copyright (C) ngx_durable authors
 *
 * Random bytes for lease tokens and instance ids.
 */


#include "ngx_http_durable_module.h"
#include "ngx_http_durable_random.h"

#if (NGX_LINUX)
#include <sys/random.h>
#endif


static void ngx_http_durable_random_fill(u_char *buf, size_t len);


/*
 * Lease tokens and instance ids. getrandom() fills a pool of bytes at a
 * time; the pool belongs to the process that filled it, so a process
 * never hands out bytes its master or a sibling has too.
 */

#define NGX_HTTP_DURABLE_RANDOM_POOL  512

void
ngx_http_durable_random(u_char *buf, size_t len)
{
    size_t         n;
    static u_char  pool[NGX_HTTP_DURABLE_RANDOM_POOL];
    static size_t  left;
    static pid_t   owner;

    if (owner != ngx_pid) {
        owner = ngx_pid;
        left = 0;
    }

    while (len) {
        if (left == 0) {
            ngx_http_durable_random_fill(pool, sizeof(pool));
            left = sizeof(pool);
        }

        n = ngx_min(len, left);

        /* bytes are used once: taken from the end, then wiped */
        ngx_memcpy(buf, pool + left - n, n);
        ngx_memzero(pool + left - n, n);

        buf += n;
        len -= n;
        left -= n;
    }
}


static void
ngx_http_durable_random_fill(u_char *buf, size_t len)
{
    size_t   i;
#if (NGX_LINUX)
    ssize_t  n;

    /* reads of up to 256 bytes are whole; a signal may cut longer ones */

    for (i = 0; i < len; i += n) {
        n = getrandom(buf + i, ngx_min(len - i, 256), 0);

        if (n == -1 && errno == EINTR) {
            n = 0;
            continue;
        }

        if (n <= 0) {
            break;
        }
    }

    if (i >= len) {
        return;
    }
#endif

    for (i = 0; i < len; i++) {
        buf[i] = (u_char) (ngx_random() ^ (ngx_current_msec >> (i % 8)));
    }
}
