#!/usr/bin/env bash
# make test-ui: the dashboard (ui/) in a real browser. nginx with
# examples/nginx.conf, set up as make run sets it up (util/runtime.sh) but
# in a fresh runtime directory (build/ui-test/runtime) on a free port, with
# keys instead of anonymous access; then ui.js drives Debian's headless
# Chromium through puppeteer-core against it. The screenshots stay in
# build/ui-test/. nginx is stopped on every way out.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/util/runtime.sh"

nginx=${NGINX:-/usr/sbin/nginx}
unset NGINX                             # nginx's own (upgrade sockets)
MODULE_SO=${MODULE_SO:-$root/build/nginx/objs/ngx_http_durable_module.so}
out=$root/build/ui-test
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

[ -f "$MODULE_SO" ] || { echo "test-ui: no $MODULE_SO: make build" >&2;
                         exit 1; }

port=$(python3 -c 'import socket; s = socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# keys of this run: the page must send the one typed into it
key=ui-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
worker_key=uiw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')

rm -rf "$out"
mkdir -p "$out"
prefix=$(runtime_prefix "$root" build/ui-test/runtime)
rm -rf "$prefix"
(umask 022 && mkdir -p "$prefix/conf" "$prefix/ui")
runtime_conf "$root/examples/nginx.conf" "$port" "$MODULE_SO" \
    | sed "s/durable_task_anonymous  *on;/durable_task_keys $key;\
 durable_task_worker_keys $worker_key;/" > "$prefix/conf/nginx.conf"
grep -q "durable_task_keys $key" "$prefix/conf/nginx.conf" \
    || { echo "test-ui: could not set keys in the example config" >&2;
         exit 1; }
# what util/run.sh copies
install -m 644 "$root/docs/openapi.yaml" "$prefix/openapi.yaml"
install -m 644 "$root"/ui/* "$prefix/ui/"

"$nginx" -p "$prefix/" -c conf/nginx.conf -e stderr -g 'daemon off;' \
    > "$out/nginx.log" 2>&1 &
nginx_pid=$!

code=000
for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' \
           "http://127.0.0.1:$port/durable/ui/" || true)
    [ "$code" = 200 ] && [ -s "$prefix/nginx.pid" ] && break
    kill -0 "$nginx_pid" 2>/dev/null || break
    sleep 0.1
done
if [ "$code" != 200 ]; then
    echo "test-ui: nginx does not serve /durable/ui/ on port $port ($code)" >&2
    tail -n 20 "$out/nginx.log" >&2
    exit 1
fi

cd "$root"
UI_URL="http://127.0.0.1:$port" UI_KEY=$key UI_WORKER_KEY=$worker_key \
UI_OUT=$out CHROMIUM=${CHROMIUM:-/usr/bin/chromium} \
    timeout 150 "${NODE:-node}" "$here/ui.js" \
    || { echo "test-ui: nginx log: $out/nginx.log" >&2; exit 1; }
