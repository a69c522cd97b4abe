/*
 * Copyright (C) ngx_durable authors
 *
 * A test's helper: holds an LMDB store's write lock for a while, so that
 * the writes nginx takes meanwhile queue up and form one batch when it is
 * let go (t/425-batch-redo.t). Usage:
 *
 *     hold-write-lock DIR SECONDS
 *
 * It prints "held" once it holds the lock, and lets it go after SECONDS
 * or when its standard input closes, whichever comes first. Nothing is
 * written: the write txn is aborted.
 */


#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <lmdb.h>


int
main(int argc, char **argv)
{
    int            rc;
    char           buf[64];
    double         seconds;
    MDB_env       *env;
    MDB_txn       *txn;
    struct pollfd  pfd;

    if (argc != 3 || (seconds = atof(argv[2])) <= 0) {
        fprintf(stderr, "usage: hold-write-lock DIR SECONDS\n");
        return 2;
    }

    rc = mdb_env_create(&env);

    /* 0: the map size the store was written with, whatever it is */

    if (rc == 0) {
        rc = mdb_env_set_mapsize(env, 0);
    }

    if (rc == 0) {
        rc = mdb_env_open(env, argv[1], 0, 0600);
    }

    if (rc == 0) {
        rc = mdb_txn_begin(env, NULL, 0, &txn);
    }

    if (rc != 0) {
        fprintf(stderr, "hold-write-lock: %s: %s\n", argv[1],
                mdb_strerror(rc));
        return 1;
    }

    printf("held\n");
    (void) fflush(stdout);

    pfd.fd = STDIN_FILENO;
    pfd.events = POLLIN;

    /* input (or its end) lets go early: the test is done waiting */

    if (poll(&pfd, 1, (int) (seconds * 1000)) > 0) {
        (void) read(STDIN_FILENO, buf, sizeof(buf));
    }

    mdb_txn_abort(txn);
    mdb_env_close(env);

    return 0;
}
