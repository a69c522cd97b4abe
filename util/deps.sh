#!/bin/sh
# Install the Debian packages that building, running and testing need.
# Quick when nothing is missing; as root it installs what is missing,
# otherwise it prints the one apt-get line to run.
#
#   util/deps.sh          all of them: make deps, what the tests need
#   util/deps.sh build    what make build, make run, make (all), make
#                         install, make worker and make demo need: the
#                         compiler, nginx and its module's libraries,
#                         curl and python3 (make deps-build)

set -e

# build and run: the module (libpq-dev for backend=postgres, as the
# tests' build has it), build/durable (libcurl), nginx, and what
# util/runtime.sh and the example worker run (curl, python3)
build_pkgs="make gcc nginx-core nginx-dev liblmdb-dev libjansson-dev
      libcurl4-openssl-dev libprotobuf-c-dev protobuf-c-compiler
      libpq-dev curl python3"

# the tests besides: a PostgreSQL server, Test::Nginx's Perl modules,
# mdb_stat, the fuzzers' clang and valgrind
test_pkgs="lmdb-utils postgresql-15
      perl libtest-base-perl libtest-longstring-perl libtext-diff-perl
      libipc-run-perl liblist-moreutils-perl libwww-perl
      clang libclang-rt-14-dev valgrind"

case "${1:-all}" in
    build) pkgs=$build_pkgs ;;
    all)   pkgs="$build_pkgs $test_pkgs" ;;
    *)     echo "usage: util/deps.sh [build|all]" >&2; exit 2 ;;
esac

[ -n "$DURABLE_EXTRA_DEPS" ] && pkgs="$pkgs $DURABLE_EXTRA_DEPS"

missing=
for p in $pkgs; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *" installed") ;;
        *) missing="$missing $p" ;;
    esac
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
    echo "deps: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # nginx-core starts a system nginx on port 80 when installed by hand;
    # policy-rc.d keeps the service down, we only need the binary.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get install -y -qq --no-install-recommends $missing
else
    echo "deps: missing Debian packages; as root, run:"
    echo "    apt-get update && apt-get install -y$missing"
    exit 1
fi
