#!/usr/bin/env bash
# make test-grpc: the gRPC service against the JavaScript SDK
# (@microsoft/durabletask-js, pinned in package-lock.json with the Node
# that runs it) and Node's http2 module. Each test file starts nginx of
# its own (lib/nginx.js) under build/grpc-test, or where util/runtime.sh
# says when nginx's worker user cannot reach the clone. With
# GRPC_TEST_PG_CONNINFO set (a conninfo naming a database with the
# schema, PGHOST and the others set for createdb) each nginx's store is a
# PostgreSQL database of its own, made from that one; make
# test-grpc-postgres sets them, and lib/backend.js lists what is skipped
# there.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/util/runtime.sh"

export NGINX=${NGINX:-/usr/sbin/nginx}
export MODULE_SO=${MODULE_SO:-$root/build/nginx/objs/ngx_http_durable_module.so}
node=${NODE:-$here/node_modules/.bin/node}

[ -f "$MODULE_SO" ] || { echo "test-grpc: no $MODULE_SO: make build" >&2;
                         exit 1; }

GRPC_TEST_DIR=$(runtime_prefix "$root" build/grpc-test)
export GRPC_TEST_DIR
if [ "$(id -u)" = 0 ]; then
    export GRPC_TEST_USER="$RUNTIME_USER $(id -gn "$RUNTIME_USER")"
fi

cd "$here"
# three files at a time (GRPC_TEST_CONCURRENCY): each starts its own nginx
# on free ports in a directory of its own, and most of a file's time is
# waiting (leases, timers, long polls), so this takes a third of the time
# one at a time does, on 2 cores too
exec "$node" --test --test-concurrency="${GRPC_TEST_CONCURRENCY:-3}" \
    "${@:-test/}"
