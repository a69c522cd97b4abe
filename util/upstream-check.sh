#!/bin/sh
# Optional check, never part of `make test`: builds upstream nginx 1.22.1
# (the tarball inside Debian's source package, fetched with apt-get source)
# with this module compiled in statically (--add-module), then runs a part
# of the Test::Nginx suite against that binary. Needs root (a deb-src entry
# is added for the download and removed again) and Debian's registry.

set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=$ROOT/build/upstream
TESTS=${TESTS:-"t/001-sanity.t t/100-start.t t/120-list.t t/300-worker-orchestrations.t t/310-worker-entities.t"}

mkdir -p "$DIR"
cd "$DIR"

if [ ! -f nginx_1.22.1.orig.tar.gz ]; then
    src=/etc/apt/sources.list.d/zz-ngx-durable-src.sources
    trap 'rm -f "$src"' EXIT
    cat > "$src" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt-get update -qq
    apt-get source -qq --download-only nginx
    rm -f "$src"
    apt-get update -qq
fi

rm -rf nginx-1.22.1
tar xzf nginx_1.22.1.orig.tar.gz
cd nginx-1.22.1

./configure --with-threads --with-debug --add-module="$ROOT" \
    > "$DIR/configure.log" 2>&1
make -j2 > "$DIR/make.log" 2>&1
echo "upstream-check: built $(./objs/nginx -v 2>&1) with the module inside"

cd "$ROOT"
rm -rf "$DIR/t-data" && mkdir -p "$DIR/t-data"
make -s check-tool
TEST_NGINX_RANDOMIZE=1 TEST_NGINX_SERVROOT="$DIR/servroot" \
TEST_NGINX_BINARY="$DIR/nginx-1.22.1/objs/nginx" \
TEST_NGINX_DATA_DIR="$DIR/t-data" DURABLE_CHECK="$ROOT/build/durable-check" \
    prove -I t/lib $TESTS
