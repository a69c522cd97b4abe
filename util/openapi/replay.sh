#!/usr/bin/env bash
# make test-openapi, its second half: nginx with examples/nginx.conf, set up
# as make run sets it up (util/runtime.sh) but in a fresh runtime directory
# (build/openapi-replay) on a free port, then replay.js against it: one
# request per route and status code that docs/openapi.yaml lists. Does not
# touch a running make run. nginx is stopped on every way out.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/util/runtime.sh"

nginx=${NGINX:-/usr/sbin/nginx}
unset NGINX                             # nginx's own (upgrade sockets)
MODULE_SO=${MODULE_SO:-$root/build/nginx/objs/ngx_http_durable_module.so}
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

[ -f "$MODULE_SO" ] || { echo "replay: no $MODULE_SO: make build" >&2;
                         exit 1; }

# a port nobody listens on now (the kernel's choice, then released)
port=$(python3 -c 'import socket; s = socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

prefix=$(runtime_prefix "$root" build/openapi-replay)
rm -rf "$prefix"
(umask 022 && mkdir -p "$prefix/conf")
runtime_conf "$root/examples/nginx.conf" "$port" "$MODULE_SO" \
    > "$prefix/conf/nginx.conf"
install -m 644 "$root/docs/openapi.yaml" "$prefix/openapi.yaml"

"$nginx" -p "$prefix/" -c conf/nginx.conf -e stderr -g 'daemon off;' \
    > "$prefix/nginx.log" 2>&1 &
nginx_pid=$!

# up when it answers and has written its pid file (it holds its sockets)
code=000
for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' \
           "http://127.0.0.1:$port/openapi.yaml" || true)
    [ "$code" = 200 ] && [ -s "$prefix/nginx.pid" ] && break
    kill -0 "$nginx_pid" 2>/dev/null || break
    sleep 0.1
done
if [ "$code" != 200 ]; then
    echo "replay: nginx does not answer on port $port ($code)" >&2
    tail -n 20 "$prefix/nginx.log" >&2
    exit 1
fi

cd "$root"
"${NODE:-node}" util/openapi/replay.js --url "http://127.0.0.1:$port" \
    --spec docs/openapi.yaml \
    --router store/ds_route.c \
    --routes docs/http-api.md \
    || { echo "replay: nginx log: $prefix/nginx.log" >&2; exit 1; }
