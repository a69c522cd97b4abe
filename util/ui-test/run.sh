#!/usr/bin/env bash
# make test-ui: the dashboard (ui/) in a real browser. nginx with
# examples/nginx.conf (runtime_start of util/runtime.sh: a fresh runtime
# directory, build/ui-test/runtime, on a free port), with keys instead of
# anonymous access; then ui.js drives Debian's headless
# Chromium through puppeteer-core against it. The screenshots stay in
# build/ui-test/. nginx is stopped on every way out.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/util/runtime.sh"

out=$root/build/ui-test

trap runtime_stop EXIT
trap 'exit 130' INT TERM

# keys of this run: the page must send the one typed into it
key=ui-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
worker_key=uiw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')

rm -rf "$out"
mkdir -p "$out"
runtime_start test-ui build/ui-test/runtime "$key" "$worker_key"

cd "$root"
UI_URL=$RUNTIME_URL UI_KEY=$key UI_WORKER_KEY=$worker_key \
UI_OUT=$out CHROMIUM=${CHROMIUM:-/usr/bin/chromium} \
    timeout 150 "${NODE:-node}" "$here/ui.js" \
    || { echo "test-ui: nginx log: $RUNTIME_DIR/nginx.log" >&2; exit 1; }
