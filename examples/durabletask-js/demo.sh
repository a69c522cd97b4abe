#!/usr/bin/env bash
# make demo-grpc: nginx with examples/nginx.conf (the HTTP API on $PORT,
# the gRPC service on $GRPC_PORT), the JavaScript SDK application of this
# directory placing one order over gRPC, and the order read back over
# the HTTP management API.
#
#   examples/durabletask-js/demo.sh   (after make build and npm ci here)
#
# Exits 0 only if the order reads Completed over HTTP with the output the
# application printed, and an instance of an orchestrator the application
# does not register (Hello, examples/worker's), started in the same hub
# before it, is still Pending after it: the application's worker claims
# only its own functions' work (workItemFilters), as the README promises,
# and nginx logged no [alert], [crit] or [emerg] (a worker process that
# died is logged at [alert]). nginx runs in the background under
# build/demo-grpc, or DEMO_DIR (relative to the repository; elsewhere as
# root when nginx's worker user cannot reach it: util/runtime.sh), and is
# stopped on every way out. NODE picks the Node that runs the
# application: by default the one pinned in package.json.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/util/runtime.sh"

PORT=${PORT:-8080}
GRPC_PORT=${GRPC_PORT:-4001}
nginx=${NGINX:-/usr/sbin/nginx}
unset NGINX                             # nginx's own (upgrade sockets)
MODULE_SO=${MODULE_SO:-$root/build/nginx/objs/ngx_http_durable_module.so}
node=${NODE:-$here/node_modules/.bin/node}

base=http://127.0.0.1:$PORT/runtime/webhooks/durabletask
prefix=
nginx_pid=

say() { printf 'demo-grpc: %s\n' "$*"; }

stop() {
    if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
        kill -TERM "$nginx_pid" 2>/dev/null || true
        wait "$nginx_pid" 2>/dev/null || true
    fi
    nginx_pid=
}

fail() {
    say "FAILED: $*"
    for log in nginx app; do
        if [ -n "$prefix" ] && [ -s "$prefix/$log.log" ]; then
            echo "---- last lines of $prefix/$log.log"
            tail -n 20 "$prefix/$log.log"
        fi
    done
    exit 1
}

trap stop EXIT
trap 'say interrupted; exit 130' INT TERM

[ -f "$MODULE_SO" ] || fail "no $MODULE_SO: run make build first"
[ -x "$node" ] || fail "no $node: run npm ci in $here (make demo-grpc does)"

# ---- nginx, as make run starts it but in the background

runtime_port_free "$PORT" "make demo-grpc" || exit 1
runtime_port_free "$GRPC_PORT" "make demo-grpc" GRPC_PORT 4101 || exit 1
prefix=$(runtime_prefix "$root" "${DEMO_DIR:-build/demo-grpc}") || exit 1
rm -rf "$prefix"
(umask 022 && mkdir -p "$prefix/conf")
runtime_conf "$root/examples/nginx.conf" "$PORT" "$MODULE_SO" "$GRPC_PORT" \
    > "$prefix/conf/nginx.conf"

"$nginx" -p "$prefix/" -c conf/nginx.conf -e stderr -g 'daemon off;' \
    > "$prefix/nginx.log" 2>&1 &
nginx_pid=$!

# up when the API answers and the pid file is written (nginx writes it
# once it holds its listening sockets, the gRPC port's too)
code=000
for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base/instances?top=1" \
           || true)
    [ "$code" = 200 ] && [ -s "$prefix/nginx.pid" ] && break
    kill -0 "$nginx_pid" 2>/dev/null || fail "nginx did not start"
    sleep 0.1
done
[ "$code" = 200 ] && [ -s "$prefix/nginx.pid" ] ||
    fail "nginx does not answer on port $PORT ($code)"
say "nginx: HTTP API on 127.0.0.1:$PORT, gRPC on 127.0.0.1:$GRPC_PORT"

# ---- another worker's instance in the same hub, which app.js must leave

other=demo-grpc-other-$$
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
       "$base/orchestrators/Hello/$other" \
       -H 'Content-Type: application/json' -d '{"city":"Oslo"}') || code=000
[ "$code" = 202 ] || fail "starting Hello $other answered $code"

# ---- the application: its worker and client over gRPC

DURABLE_GRPC=127.0.0.1:$GRPC_PORT "$node" "$here/app.js" \
    > "$prefix/app.log" 2>&1 || fail "the application failed"
sed 's/^/demo-grpc: app: /' "$prefix/app.log"
id=$(sed -n 's/^instanceId=//p' "$prefix/app.log" | tail -n 1)
[ -n "$id" ] || fail "the application printed no instance id"

# ---- the order over the HTTP API

code=$(curl -s -o "$prefix/status.json" -w '%{http_code}' \
       "$base/instances/$id") || code=000
[ "$code" = 200 ] || fail "GET $base/instances/$id answered $code"

"$node" - "$prefix/status.json" "$prefix/app.log" <<'EOF' ||
const fs = require('fs');
const status = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const printed = fs.readFileSync(process.argv[3], 'utf8')
  .match(/^output: (.*)$/m);
console.log(`demo-grpc: over HTTP: runtimeStatus: ${status.runtimeStatus}`);
console.log(`demo-grpc: over HTTP: output: ${JSON.stringify(status.output)}`);
process.exit(status.runtimeStatus === 'Completed' && printed
  && JSON.stringify(status.output) === JSON.stringify(JSON.parse(printed[1]))
  ? 0 : 1);
EOF
    fail "the order does not read Completed over HTTP"

# ---- Hello is no function of app.js: its instance waits for a worker
# that has it (without workItemFilters the SDK claims it and fails it)

code=$(curl -s -o "$prefix/other.json" -w '%{http_code}' \
       "$base/instances/$other") || code=000
[ "$code" = 202 ] || [ "$code" = 200 ] ||
    fail "GET $base/instances/$other answered $code"
other_status=$(sed -n 's/.*"runtimeStatus":"\([A-Za-z]*\)".*/\1/p' \
               "$prefix/other.json")
say "another worker's Hello $other: runtimeStatus: $other_status"
[ "$other_status" = Pending ] ||
    fail "app.js took Hello $other: $(cat "$prefix/other.json")"

stop
if grep -E '\[(alert|crit|emerg)\]' "$prefix/nginx.log"; then
    fail "nginx logged the lines above"
fi
say "OK"
