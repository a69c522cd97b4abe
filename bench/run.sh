#!/bin/bash
# ngx_durable benchmark suite (bench/README.md): `make bench`.
#
#   bench/run.sh            the full suite (about 6-8 minutes)
#   QUICK=1 bench/run.sh    scaled down, under 2 minutes
#
# Builds the module (make build), the helpers (bench/loader.c,
# bench/apply.c, bench/commitloop.c, bench/worker.c) under
# build/bench/bin, then runs bench/bench.py, which starts its own nginx
# (prefix build/bench/prefix, port $BENCH_PORT, default 18480), runs every
# scenario, prints the table and writes bench/results.md. See
# bench/README.md.

set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=$ROOT/build/bench
PREFIX=$BENCH/prefix
NGINX=${NGINX:-/usr/sbin/nginx}
CC=${CC:-cc}

for tool in wrk h2load curl python3 "$CC"; do
    if ! command -v "$tool" > /dev/null; then
        echo "bench: '$tool' is missing (Debian: apt-get install -y wrk" \
             "nghttp2-client curl python3 gcc; make bench installs" \
             "them)" >&2
        exit 1
    fi
done

# stop whatever this run started, however it ends
cleanup() {
    if [ -n "${driver:-}" ] && kill -0 "$driver" 2> /dev/null; then
        kill -TERM "$driver" 2> /dev/null || true
        wait "$driver" 2> /dev/null || true
    fi
    if [ -s "$PREFIX/nginx.pid" ]; then
        pid=$(cat "$PREFIX/nginx.pid")
        if kill -0 "$pid" 2> /dev/null \
           && grep -q "$PREFIX" "/proc/$pid/cmdline" 2> /dev/null; then
            kill -QUIT "$pid" 2> /dev/null || true
            for _ in $(seq 50); do
                kill -0 "$pid" 2> /dev/null || break
                sleep 0.1
            done
            kill -KILL "$pid" 2> /dev/null || true
        fi
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

make -s build

mkdir -p "$BENCH/bin"
make -s -C store BUILD="$BENCH/store" "$BENCH/store/libdurable_store.a" \
    > /dev/null
CFLAGS_B="-O2 -g -Wall -Wextra"
$CC $CFLAGS_B -std=c99 -Istore bench/loader.c \
    "$BENCH/store/libdurable_store.a" -llmdb -ljansson -o "$BENCH/bin/loader"
$CC $CFLAGS_B -std=c99 -Istore bench/apply.c \
    "$BENCH/store/libdurable_store.a" -llmdb -ljansson -o "$BENCH/bin/apply"
$CC $CFLAGS_B -std=c99 bench/commitloop.c -llmdb -o "$BENCH/bin/commitloop"
$CC $CFLAGS_B -std=gnu11 -pthread bench/worker.c -ljansson \
    -o "$BENCH/bin/worker"

# nginx takes $NGINX for inherited sockets: the driver gets BENCH_NGINX
BENCH_NGINX=$NGINX env -u NGINX python3 bench/bench.py &
driver=$!
wait "$driver"
