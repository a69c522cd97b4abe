#!/bin/sh
# make deb: the Debian package libnginx-mod-http-durable (debian/), built
# with dpkg-buildpackage from a copy of the clone in build/deb/src so that
# the clone stays clean, then checked with lintian (errors fail, other
# tags are shown). Prints the path of the .deb last.

set -e

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/deb

rm -rf "$out"
mkdir -p "$out/src"

# what a build or test run leaves in the clone stays out of the copy
(cd "$top" && tar --exclude=./.git --exclude=./build --exclude=./var \
    --exclude='./t/servroot*' --exclude=./store/build \
    --exclude=__pycache__ --exclude=node_modules -cf - .) | tar -xf - -C "$out/src"

cd "$out/src"
version=$(dpkg-parsechangelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=$out/libnginx-mod-http-durable_${version}_${arch}.deb

echo "deb: dpkg-buildpackage in $out/src (log: $out/build.log)"
if ! dpkg-buildpackage -b -us -uc > "$out/build.log" 2>&1; then
    tail -40 "$out/build.log"
    echo "deb: dpkg-buildpackage failed, see $out/build.log" >&2
    exit 1
fi

if [ ! -f "$deb" ]; then
    echo "deb: $deb was not built" >&2
    exit 1
fi

echo "deb: lintian"
lintian --fail-on error --display-info "$deb" | tee "$out/lintian.log"

echo "$deb"
