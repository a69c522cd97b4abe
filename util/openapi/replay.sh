#!/usr/bin/env bash
# make test-openapi, its second half: nginx with examples/nginx.conf
# (runtime_start of util/runtime.sh: a fresh runtime directory,
# build/openapi-replay, on a free port), then replay.js against it: one
# request per route and status code that docs/openapi.yaml lists. Does not
# touch a running make run. nginx is stopped on every way out.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/util/runtime.sh"

trap runtime_stop EXIT
trap 'exit 130' INT TERM

runtime_start replay build/openapi-replay

cd "$root"
"${NODE:-node}" util/openapi/replay.js --url "$RUNTIME_URL" \
    --spec docs/openapi.yaml \
    --router store/ds_route.c \
    --routes docs/http-api.md \
    || { echo "replay: nginx log: $RUNTIME_DIR/nginx.log" >&2; exit 1; }
