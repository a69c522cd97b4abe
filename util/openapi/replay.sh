#!/usr/bin/env bash
# make test-openapi, its second half: nginx with examples/nginx.conf
# (runtime_start of util/runtime.sh: a fresh runtime directory,
# build/openapi-replay, on a free port), then replay.js against it: one
# request per route and status code that docs/openapi.yaml lists. A second
# nginx, the same configuration with keys (build/openapi-replay-keys),
# answers the 401s. Does not touch a running make run. Both nginx are
# stopped on every way out. FILL_MAP is util/openapi/fill_map.c built
# (make test-openapi builds it): replay.js fills the small store's map
# with it.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/util/runtime.sh"

keyed_pid=
stop_both() {
    runtime_stop
    if [ -n "$keyed_pid" ] && kill -0 "$keyed_pid" 2>/dev/null; then
        kill -TERM "$keyed_pid" 2>/dev/null || true
        wait "$keyed_pid" 2>/dev/null || true
    fi
}
trap stop_both EXIT
trap 'exit 130' INT TERM

runtime_start replay-keys build/openapi-replay-keys \
    replay-system-key replay-worker-key
keyed_pid=$RUNTIME_PID
keyed_url=$RUNTIME_URL
keyed_dir=$RUNTIME_DIR
RUNTIME_PID=

# a tiny store that the replay fills (507) and one that cannot be opened,
# its data.mdb a directory (503), both selected with ?connection=
RUNTIME_PREPARE='mkdir -p replay-broken/data.mdb
    [ "$(id -u)" != 0 ] || chown -R "$RUNTIME_USER" replay-broken' \
RUNTIME_STORES="    durable_task_store replay-full path=replay-full max_size=1m;
    durable_task_store replay-broken path=replay-broken;" \
runtime_start replay build/openapi-replay

cd "$root"
"${NODE:-node}" util/openapi/replay.js --url "$RUNTIME_URL" \
    --spec docs/openapi.yaml \
    --router store/ds_route.c \
    --routes docs/http-api.md \
    --keyed-url "$keyed_url" \
    --full-store "$RUNTIME_DIR/replay-full" \
    --fill-map "${FILL_MAP:-$root/build/openapi-fill-map}" \
    || { echo "replay: nginx logs: $RUNTIME_DIR/nginx.log," \
              "$keyed_dir/nginx.log" >&2; exit 1; }
