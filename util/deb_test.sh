#!/bin/sh
# make test-deb: installs the package `make deb` built on this machine's
# nginx, checks what it put where, runs `nginx -t` and one request against
# a minimal configuration that loads the module through modules-enabled,
# then purges the package and checks that the system is as it was.
#
#   util/deb_test.sh build/deb/libnginx-mod-http-durable_<version>_<arch>.deb
#
# Needs root (dpkg); skipped otherwise. The system's nginx service is never
# touched: a policy-rc.d that refuses every action is in place while the
# package is installed and purged (the nginx-reload trigger then does
# nothing), and the test's own nginx runs from a temporary prefix on a free
# loopback port with its own pid file.

set -eu

PKG=libnginx-mod-http-durable
ENABLED=/etc/nginx/modules-enabled
SNIPPET=/usr/share/nginx/modules-available/mod-http-durable.conf
MODULE=/usr/lib/nginx/modules/ngx_http_durable_module.so
STORE=/var/lib/nginx/durable
NGINX=${NGINX:-/usr/sbin/nginx}

if [ "$(id -u)" != 0 ]; then
    echo "test-deb: SKIPPED: installing and purging a package needs root"
    exit 0
fi

deb=${1:?usage: util/deb_test.sh PACKAGE.deb}
[ -f "$deb" ] || { echo "test-deb: no such file: $deb" >&2; exit 1; }

failed=0
ok()   { echo "ok - $*"; }
fail() { echo "not ok - $*"; failed=1; }
check() {
    what=$1; shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}

pkg_state() {
    dpkg-query -W -f='${db:Status-Abbrev}\n' "$PKG" 2>/dev/null || echo absent
}

# what the package may touch, as owner, mode and name (not times: other
# nginx processes on this machine may use /var/lib/nginx's temp paths)
system_state() {
    pkg_state
    find "$ENABLED" /usr/share/nginx/modules-available /usr/lib/nginx/modules \
        /usr/bin/durable /usr/bin/durable-check /usr/share/doc/$PKG \
        /usr/share/ngx_durable \
        -maxdepth 1 -printf '%p %u %g %m %l\n' 2>/dev/null | sort
    find /var/lib/nginx -maxdepth 1 -printf '%p %u %g %m\n' | sort
}

case "$(pkg_state)" in
    absent|un*|pn*) ;;
    *) echo "test-deb: $PKG is installed here; the test would purge it," \
            "remove it first" >&2
       exit 1 ;;
esac

# purge deletes the store directory: never run where one already exists
if [ -e "$STORE" ]; then
    echo "test-deb: $STORE exists; the test would delete it on purge" >&2
    exit 1
fi

tmp=$(mktemp -d /tmp/ngx_durable-deb.XXXXXX)
chmod 0755 "$tmp"
system_state > "$tmp/before"

policy=
installed=
cleanup() {
    rc=$?
    if [ -f "$tmp/prefix/nginx.pid" ]; then
        kill -QUIT "$(cat "$tmp/prefix/nginx.pid")" 2>/dev/null || true
        sleep 1
    fi
    if [ -n "$installed" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$PKG" \
            > /dev/null 2>&1 || true
    fi
    [ -n "$policy" ] && rm -f /usr/sbin/policy-rc.d
    rm -rf "$tmp"
    exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    policy=1
fi

echo "# dpkg -i $deb"
installed=1
if ! dpkg -i "$deb" > "$tmp/install.log" 2>&1; then
    cat "$tmp/install.log"
    fail "dpkg -i installs the package (dependencies: see above)"
    exit 1
fi
ok "dpkg -i installs the package"

check "the module is in /usr/lib/nginx/modules" test -f "$MODULE"
check "the load snippet loads it" \
    grep -qx 'load_module modules/ngx_http_durable_module.so;' "$SNIPPET"
check "the snippet is enabled in $ENABLED" \
    test "$(readlink "$ENABLED/50-mod-http-durable.conf")" = "$SNIPPET"
check "$STORE is www-data's, mode 750" \
    test "$(stat -c '%U:%G %a' "$STORE")" = "www-data:www-data 750"
check "durable is installed with its man page" \
    test -x /usr/bin/durable -a -f /usr/share/man/man1/durable.1.gz
check "durable-check and its man page are links to durable's" \
    test "$(readlink -f /usr/bin/durable-check)" = /usr/bin/durable -a \
         "$(readlink -f /usr/share/man/man1/durable-check.1.gz)" = \
         /usr/share/man/man1/durable.1.gz
check "docs and examples are installed" \
    test -f /usr/share/doc/$PKG/docs/worker-protocol.md.gz -a \
         -f /usr/share/doc/$PKG/examples/nginx.conf
check "the dashboard is in /usr/share/ngx_durable/ui" \
    test -f /usr/share/ngx_durable/ui/index.html -a \
         -f /usr/share/ngx_durable/ui/app.js
# served by a location as it is: dh_compress must not have touched it
check "the OpenAPI document is /usr/share/ngx_durable/openapi.yaml" \
    test -f /usr/share/ngx_durable/openapi.yaml

# a free loopback port, and a minimal configuration around the snippet
port=$(python3 -c 'import socket; s = socket.socket(); \
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# the snippet's "modules/..." is relative to nginx's prefix: a prefix of
# one's own needs the link Debian's prefix (/usr/share/nginx) has
mkdir -p "$tmp/prefix/logs"
ln -s /usr/lib/nginx/modules "$tmp/prefix/modules"
cat > "$tmp/prefix/nginx.conf" <<CONF
user  www-data;
include  $ENABLED/*.conf;

pid        $tmp/prefix/nginx.pid;
error_log  $tmp/prefix/logs/error.log info;

events {
    worker_connections  64;
}

http {
    access_log  off;
    client_body_temp_path  $tmp/prefix/body;
    proxy_temp_path        $tmp/prefix/proxy;
    fastcgi_temp_path      $tmp/prefix/fastcgi;
    uwsgi_temp_path        $tmp/prefix/uwsgi;
    scgi_temp_path         $tmp/prefix/scgi;

    durable_task_store  default  path=$STORE max_size=16m;

    server {
        listen  127.0.0.1:$port;

        location /runtime/webhooks/durabletask/ {
            durable_task;
            durable_task_anonymous  on;
        }

        location /durable/ui/ {
            alias  /usr/share/ngx_durable/ui/;
        }

        location = /openapi.yaml {
            alias  /usr/share/ngx_durable/openapi.yaml;
        }
    }
}
CONF

ngx() { "$NGINX" -p "$tmp/prefix/" -c "$tmp/prefix/nginx.conf" "$@"; }

if ngx -t > "$tmp/t.log" 2>&1; then
    ok "nginx -t accepts a configuration that uses the snippet"
else
    cat "$tmp/t.log"
    fail "nginx -t accepts a configuration that uses the snippet"
fi

if ngx 2> "$tmp/start.log"; then
    ok "nginx starts on 127.0.0.1:$port"
    status=$(curl -s -o "$tmp/body.json" -w '%{http_code}' -X POST \
        "http://127.0.0.1:$port/runtime/webhooks/durabletask/orchestrators/Hello/deb-test-1")
    check "a start request answers 202 (got $status)" test "$status" = 202
    status=$(curl -s -o /dev/null -w '%{http_code}' \
        "http://127.0.0.1:$port/durable/ui/")
    check "the dashboard is served from the package (got $status)" \
        test "$status" = 200
    status=$(curl -s -o "$tmp/openapi.yaml" -w '%{http_code}' \
        "http://127.0.0.1:$port/openapi.yaml")
    check "the OpenAPI document is served from the package (got $status)" \
        grep -q '^openapi: 3\.1' "$tmp/openapi.yaml"
    kill -QUIT "$(cat "$tmp/prefix/nginx.pid")"
    for i in 1 2 3 4 5 6 7 8 9 10; do
        [ -f "$tmp/prefix/nginx.pid" ] || break
        sleep 1
    done
    check "nginx stops" test ! -f "$tmp/prefix/nginx.pid"
    /usr/bin/durable check "$STORE" > "$tmp/check.log" 2>&1 || true
    check "durable check finds the one instance in $STORE, consistent" \
        sh -c 'grep -qx "instances 1" "$1" && grep -qx consistent "$1"' \
        sh "$tmp/check.log"
    /usr/bin/durable-check "$STORE" > "$tmp/check.log" 2>&1 || true
    check "durable-check, the old name, too" \
        sh -c 'grep -qx "instances 1" "$1" && grep -qx consistent "$1"' \
        sh "$tmp/check.log"
else
    cat "$tmp/start.log" "$tmp/prefix/logs/error.log" 2>/dev/null || true
    fail "nginx starts on 127.0.0.1:$port"
fi

echo "# apt-get purge $PKG"
if DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$PKG" \
        > "$tmp/purge.log" 2>&1; then
    installed=
    ok "apt-get purge removes the package"
else
    cat "$tmp/purge.log"
    fail "apt-get purge removes the package"
fi

system_state > "$tmp/after"
if diff -u "$tmp/before" "$tmp/after"; then
    ok "the system is as it was"
else
    fail "the system is as it was (diff above)"
fi

if [ "$failed" = 0 ]; then
    echo "test-deb: PASS"
else
    echo "test-deb: FAIL"
fi
exit $failed
