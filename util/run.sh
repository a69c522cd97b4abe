#!/usr/bin/env bash
# make run: nginx in the foreground with examples/nginx.conf on
# 127.0.0.1:$PORT (the gRPC service on $GRPC_PORT), the error log on the
# terminal; Ctrl-C stops it.
# The runtime directory (conf, store, temp files) is ./var, or where
# util/runtime.sh says when nginx's worker user cannot reach the clone.

set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/util/runtime.sh"

PORT=${PORT:-8080}
GRPC_PORT=${GRPC_PORT:-4001}
nginx=${NGINX:-/usr/sbin/nginx}
MODULE_SO=${MODULE_SO:-$root/build/nginx/objs/ngx_http_durable_module.so}
# nginx takes $NGINX for the sockets of a binary upgrade
unset NGINX

[ -f "$MODULE_SO" ] || { echo "make run: no $MODULE_SO: make build" >&2;
                         exit 1; }
runtime_port_free "$PORT" "make run"
runtime_port_free "$GRPC_PORT" "make run" GRPC_PORT 4101
prefix=$(runtime_prefix "$root" var)
mkdir -p "$prefix/conf"
runtime_conf "$root/examples/nginx.conf" "$PORT" "$MODULE_SO" "$GRPC_PORT" \
    > "$prefix/conf/nginx.conf"
runtime_store_owner "$prefix"
# served by the example config at /openapi.yaml
install -m 644 "$root/docs/openapi.yaml" "$prefix/openapi.yaml"
# and the dashboard at /durable/ui/ (a fresh copy: no stale files)
rm -rf "$prefix/ui"
install -d -m 755 "$prefix/ui"
install -m 644 "$root"/ui/* "$prefix/ui/"

echo "ngx_durable on http://127.0.0.1:$PORT/ (Ctrl-C stops it)"
echo "dashboard: http://127.0.0.1:$PORT/durable/ui/"
echo "Durable Task SDKs (gRPC): 127.0.0.1:$GRPC_PORT"
echo "runtime directory: $prefix (store: $prefix/data)"
exec "$nginx" -p "$prefix/" -c conf/nginx.conf -e stderr -g 'daemon off;'
