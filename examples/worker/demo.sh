#!/usr/bin/env bash
# make demo: nginx with examples/nginx.conf, the example worker, and one
# HelloSequence started and polled over the management API, end to end.
#
#   examples/worker/demo.sh         (after make build; PORT=9090 to move)
#
# Exits 0 only if the instance Completed with the five greetings. nginx and
# the worker run in the background under build/demo (as root, elsewhere
# when nginx's worker user cannot reach it: util/runtime.sh) and are
# stopped on every way out. A port in use fails at once.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/util/runtime.sh"

PORT=${PORT:-8080}
nginx=${NGINX:-/usr/sbin/nginx}
unset NGINX                             # nginx's own (upgrade sockets)
PYTHON=${PYTHON:-python3}
MODULE_SO=${MODULE_SO:-$root/build/nginx/objs/ngx_http_durable_module.so}
PREFIX=${DEMO_PREFIX:-}                 # default: build/demo (runtime.sh)
TIMEOUT=${DEMO_TIMEOUT:-60}             # seconds to wait for completion
WORKER_KEY=${DURABLE_WORKER_KEY:-}      # when the config wants a worker key

base=http://127.0.0.1:$PORT/runtime/webhooks/durabletask
nginx_pid=
worker_pid=

say() { printf 'demo: %s\n' "$*"; }

stop() {
    # the worker first (SIGTERM: it finishes the item in hand), then nginx
    if [ -n "$worker_pid" ] && kill -0 "$worker_pid" 2>/dev/null; then
        kill -TERM "$worker_pid" 2>/dev/null || true
        wait "$worker_pid" 2>/dev/null || true
    fi
    if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
        kill -TERM "$nginx_pid" 2>/dev/null || true
        wait "$nginx_pid" 2>/dev/null || true
    fi
    worker_pid= nginx_pid=
}

fail() {
    say "FAILED: $*"
    for log in nginx worker; do
        if [ -s "$PREFIX/$log.log" ]; then
            echo "---- last lines of $PREFIX/$log.log"
            tail -n 20 "$PREFIX/$log.log"
        fi
    done
    exit 1
}

trap stop EXIT
trap 'say interrupted; exit 130' INT TERM

[ -f "$MODULE_SO" ] || fail "no $MODULE_SO: run make build first"

# ---- nginx, like make run but in the background with its own prefix

runtime_port_free "$PORT" "make demo" || exit 1
if [ -z "${DEMO_PREFIX:-}" ]; then
    PREFIX=$(runtime_prefix "$root" build/demo) || exit 1
fi
rm -rf "$PREFIX"
(umask 022 && mkdir -p "$PREFIX/conf")
runtime_conf "$root/examples/nginx.conf" "$PORT" "$MODULE_SO" \
    > "$PREFIX/conf/nginx.conf"

"$nginx" -p "$PREFIX/" -c conf/nginx.conf -e stderr -g 'daemon off;' \
    > "$PREFIX/nginx.log" 2>&1 &
nginx_pid=$!

# up when it answers and has written its pid file, which nginx does only
# once it holds its listening sockets: the answer is this nginx's
for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base/instances?top=1" \
           || true)
    [ "$code" = 200 ] && [ -s "$PREFIX/nginx.pid" ] && break
    kill -0 "$nginx_pid" 2>/dev/null || fail "nginx did not start"
    sleep 0.1
done
[ "$code" = 200 ] && [ -s "$PREFIX/nginx.pid" ] ||
    fail "nginx does not answer on port $PORT ($code)"
say "nginx on 127.0.0.1:$PORT (prefix $PREFIX)"

# ---- the worker

# --wait 2: a stop waits for the claims in flight, keep them short
"$PYTHON" "$here/worker.py" --url "$base" ${WORKER_KEY:+--key "$WORKER_KEY"} \
    --wait 2 > "$PREFIX/worker.log" 2>&1 &
worker_pid=$!
say "worker started (log: $PREFIX/worker.log)"

# ---- start a HelloSequence and follow its Location until 200

headers=$(curl -s -D - -o "$PREFIX/start.json" -X POST \
          -H 'Content-Type: application/json' \
          "$base/orchestrators/HelloSequence") || fail "start request"
status=$(printf '%s\n' "$headers" | sed -n '1s/^HTTP[^ ]* \([0-9]*\).*/\1/p')
location=$(printf '%s\n' "$headers" | tr -d '\r' |
           sed -n 's/^[Ll]ocation: *//p')
[ "$status" = 202 ] && [ -n "$location" ] ||
    fail "start answered $status: $(cat "$PREFIX/start.json")"
say "started HelloSequence: $location"

deadline=$((SECONDS + TIMEOUT))
while :; do
    code=$(curl -s -o "$PREFIX/status.json" -w '%{http_code}' "$location") ||
        code=000
    [ "$code" = 200 ] && break
    [ "$code" = 202 ] || fail "status answered $code"
    kill -0 "$worker_pid" 2>/dev/null || fail "the worker exited"
    [ "$SECONDS" -lt "$deadline" ] ||
        fail "not done after ${TIMEOUT}s: $(cat "$PREFIX/status.json")"
    sleep 0.5
done

# ---- the verdict

"$PYTHON" - "$PREFIX/status.json" <<'EOF' || fail "unexpected final status"
import json, sys
status = json.load(open(sys.argv[1]))
print("demo: runtimeStatus: %s" % status.get("runtimeStatus"))
print("demo: output: %s" % json.dumps(status.get("output")))
expected = ["Hello %s!" % c for c in
            ("Tokyo", "Seattle", "London", "Paris", "Cairo")]
sys.exit(0 if status.get("runtimeStatus") == "Completed"
         and status.get("output") == expected else 1)
EOF

stop
say "OK"
