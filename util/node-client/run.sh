#!/bin/sh
# Optional check: the official durable-functions Node client (majors 1, 2
# and 3, unmodified) against ngx_durable. Not part of `make test`.
#
#   util/node-client/run.sh            all majors
#   util/node-client/run.sh 3          only durable-functions 3.x
#   PORT=18081 VERBOSE=1 util/node-client/run.sh
#
# It installs durable-functions@1, @2 and @3 under build/node-check/v1..v3
# when missing (needs node and npm, and the npm registry), builds the module
# when build/nginx/objs/ngx_http_durable_module.so is missing (make build),
# writes build/node-check/nginx.conf from nginx.conf.in, starts its own nginx
# (prefix build/node-check/, a fresh store in build/node-check/data), runs the
# check scripts and stops nginx. Every request is logged with its headers
# and body in build/node-check/logs/access.log.
#
# Exit status: 0 when every check passes (KNOWN divergences do not count).

set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/util/node-client
DIR=$ROOT/build/node-check
PORT=${PORT:-18080}
NGINX=${NGINX:-/usr/sbin/nginx}
MODULE_SO=$ROOT/build/nginx/objs/ngx_http_durable_module.so
MAJORS=${*:-1 2 3}

command -v node >/dev/null || { echo "run.sh: node is required" >&2; exit 2; }

mkdir -p "$DIR"

for v in $MAJORS; do
    if [ ! -d "$DIR/v$v/node_modules/durable-functions" ]; then
        echo "installing durable-functions@$v into $DIR/v$v"
        npm install --prefix "$DIR/v$v" --no-audit --no-fund --loglevel=error \
            "durable-functions@$v" >/dev/null
    fi
done

if [ ! -f "$MODULE_SO" ]; then
    make -C "$ROOT" build
fi

ngx() {
    "$NGINX" -p "$DIR/" -c "$DIR/nginx.conf" -e "$DIR/logs/error.log" "$@"
}

# stops the nginx of this prefix (ours, by its pid file) and waits for it
stop() {
    if [ -f "$DIR/nginx.pid" ]; then
        ngx -s quit 2>/dev/null || true
        n=0
        while [ -f "$DIR/nginx.pid" ] && [ $n -lt 50 ]; do
            sleep 0.1
            n=$((n + 1))
        done
    fi
}

# a fresh nginx prefix: config, logs, temp dirs, store
mkdir -p "$DIR/logs"
[ -f "$DIR/nginx.conf" ] && stop
rm -rf "$DIR/data" "$DIR/logs"
mkdir -p "$DIR/logs"
sed -e "s#@MODULE_SO@#$MODULE_SO#" -e "s#@PORT@#$PORT#" \
    "$HERE/nginx.conf.in" > "$DIR/nginx.conf"

ngx -t -q
ngx
trap stop EXIT
trap 'exit 130' INT TERM

# wait until the listener answers (any HTTP status will do)
i=0
until node -e "require('http').get('http://127.0.0.1:$PORT/durabletask/instances?top=1',
                 () => process.exit(0)).on('error', () => process.exit(1))" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -ge 50 ]; then
        echo "run.sh: nginx does not answer on port $PORT; see $DIR/logs/error.log" >&2
        exit 2
    fi
    sleep 0.1
done

export DURABLE_BASE="http://127.0.0.1:$PORT"
export NODE_CHECK_DIR="$DIR"

failed=""
for v in $MAJORS; do
    node "$HERE/check-v$v.js" || failed="$failed $v"
    echo
done

if grep -E '\[(alert|crit|emerg)\]' "$DIR/logs/error.log" >/dev/null; then
    echo "run.sh: nginx logged alerts:"
    grep -E '\[(alert|crit|emerg)\]' "$DIR/logs/error.log"
    failed="$failed nginx"
fi

echo "requests: $DIR/logs/access.log"
if [ -n "$failed" ]; then
    echo "FAILED:$failed"
    exit 1
fi
echo "all checks passed"
