#!/usr/bin/env bash
# make test-metrics: the metrics page of examples/nginx.conf, after a
# start, a claim, a completion and a refusal, is valid Prometheus text
# for promtool (Debian's prometheus package) and carries every family the
# README lists. nginx runs with that config (runtime_start of
# util/runtime.sh: a fresh runtime directory, build/metrics-check/runtime,
# on a free port), and is stopped on every way out.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$root/util/runtime.sh"

PROMTOOL=${PROMTOOL:-promtool}
out=$root/build/metrics-check

trap runtime_stop EXIT
trap 'exit 130' INT TERM

fail() {
    echo "test-metrics: $*" >&2
    [ -n "${RUNTIME_DIR:-}" ] && echo "test-metrics: nginx log:" \
        "$RUNTIME_DIR/nginx.log" >&2
    exit 1
}

command -v "$PROMTOOL" > /dev/null \
    || fail "no promtool: apt-get install prometheus"

rm -rf "$out"
mkdir -p "$out"
runtime_start test-metrics build/metrics-check/runtime

url=$RUNTIME_URL
api=$url/runtime/webhooks/durabletask

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
