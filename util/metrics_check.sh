#!/usr/bin/env bash
# make test-metrics: the metrics page of examples/nginx.conf, after a
# start, a claim, a completion and a refusal, is valid Prometheus text
# for promtool (Debian's prometheus package) and carries every family the
# README lists. nginx runs as make run sets it up (util/runtime.sh), in a
# fresh runtime directory (build/metrics-check) on a free port, and is
# stopped on every way out.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$root/util/runtime.sh"

nginx=${NGINX:-/usr/sbin/nginx}
unset NGINX                             # nginx's own (upgrade sockets)
MODULE_SO=${MODULE_SO:-$root/build/nginx/objs/ngx_http_durable_module.so}
PROMTOOL=${PROMTOOL:-promtool}
out=$root/build/metrics-check
nginx_pid=

stop() {
    if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
        kill -TERM "$nginx_pid" 2>/dev/null || true
        wait "$nginx_pid" 2>/dev/null || true
    fi
    nginx_pid=
}

trap stop EXIT
trap 'exit 130' INT TERM

fail() {
    echo "test-metrics: $*" >&2
    exit 1
}

[ -f "$MODULE_SO" ] || fail "no $MODULE_SO: make build"
command -v "$PROMTOOL" > /dev/null \
    || fail "no promtool: apt-get install prometheus"

port=$(python3 -c 'import socket; s = socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

rm -rf "$out"
mkdir -p "$out"
prefix=$(runtime_prefix "$root" build/metrics-check/runtime)
rm -rf "$prefix"
(umask 022 && mkdir -p "$prefix/conf")
runtime_conf "$root/examples/nginx.conf" "$port" "$MODULE_SO" \
    > "$prefix/conf/nginx.conf"

"$nginx" -p "$prefix/" -c conf/nginx.conf -e stderr -g 'daemon off;' \
    > "$out/nginx.log" 2>&1 &
nginx_pid=$!

url=http://127.0.0.1:$port
api=$url/runtime/webhooks/durabletask
code=000
for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url/durable/metrics" \
           || true)
    [ "$code" = 200 ] && break
    kill -0 "$nginx_pid" 2>/dev/null || break
    sleep 0.1
done
[ "$code" = 200 ] || { tail -n 20 "$out/nginx.log" >&2;
                       fail "no metrics page at $url/durable/metrics ($code)"; }

# figures to show: an instance, a claim and its completion, a refusal
curl -s -o /dev/null -X POST "$api/orchestrators/Hello/metrics-check"
curl -s -o /dev/null "$api/instances/no-such-instance"
lease=$(curl -s -X POST "$api/worker/orchestrations/claim" \
        | python3 -c 'import json, sys
items = json.load(sys.stdin)["items"]
print(items[0]["lease"] if items else "")')
[ -n "$lease" ] || fail "nothing claimed"
curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
    -d "{\"instanceId\":\"metrics-check\",\"lease\":\"$lease\",
         \"actions\":[{\"type\":\"complete\",\"output\":1}]}" \
    "$api/worker/orchestrations/complete"

curl -s -o "$out/metrics.txt" -D "$out/headers.txt" "$url/durable/metrics"

grep -qi '^content-type: text/plain; version=0.0.4' "$out/headers.txt" \
    || fail "the page is not text/plain; version=0.0.4"

"$PROMTOOL" check metrics < "$out/metrics.txt" \
    || fail "promtool refused the page ($out/metrics.txt)"

for family in durable_instances durable_queue_depth \
    durable_ready_oldest_age_seconds durable_timers \
    durable_store_map_size_bytes durable_store_used_bytes \
    durable_store_readers durable_store_readers_max durable_store_up \
    durable_requests_total durable_claims_total durable_completions_total \
    durable_leases_granted_total durable_leases_expired_total \
    durable_leases_refused_total durable_waits_open durable_errors_total \
    durable_commit_batch_writes durable_commit_seconds
do
    grep -q "^# TYPE $family " "$out/metrics.txt" \
        || fail "no $family in the page"
done

completed='store="default",hub="DurableFunctionsHub",runtime_status="Completed"'
grep -q "^durable_instances{$completed} 1\$" "$out/metrics.txt" \
    || fail "the completed instance is not counted"

echo "test-metrics: promtool accepts the page ($out/metrics.txt)"
