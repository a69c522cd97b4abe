#!/bin/sh
# make test-install: `make install` into temporary DESTDIRs, and the files
# it wrote compared with the list the README's Installation section gives:
#   1. the defaults (PREFIX=/usr/local, the module of build/nginx-release:
#      `make build`'s flags without the test faults hook)
#   2. PREFIX=/opt/durable INSTALL_MODULE= (nginx built with --add-module)
#   3. after make (all), make install builds nothing: what it would run
#      with every target remade (make -B -n) beyond what make (all) would
#      is its own copying, so `make && sudo make install` compiles
#      nothing as root
# Runs as any user; needs make (all) made (make test-install does it).
# durable-check and its man page are symbolic links to durable's.

set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/ngx_durable-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

failed=0

# the files under PREFIX, with their modes; $2 = yes: with the module
expected() {
    prefix=$1
    doc=$prefix/share/doc/ngx_durable
    {
        echo "755 $prefix/bin/durable"
        echo "777 $prefix/bin/durable-check"
        echo "644 $prefix/share/man/man1/durable.1"
        echo "777 $prefix/share/man/man1/durable-check.1"
        echo "644 $doc/README.md"
        echo "644 $doc/LICENSE"
        for f in "$top"/docs/*; do
            echo "644 $doc/docs/${f##*/}"
        done
        echo "644 $doc/examples/nginx.conf"
        echo "644 $doc/examples/worker/README.md"
        echo "644 $doc/examples/worker/durable_worker.py"
        echo "755 $doc/examples/worker/worker.py"
        echo "644 $doc/examples/worker/test_replay.py"
        echo "644 $doc/examples/worker/test_e2e.py"
        for f in "$top"/ui/*; do
            echo "644 $prefix/share/ngx_durable/ui/${f##*/}"
        done
        if [ "$2" = yes ]; then
            echo "644 $prefix/lib/nginx/modules/ngx_http_durable_module.so"
        fi
    } | sort
}

run() {
    name=$1 prefix=$2 module=$3
    shift 3
    dest=$tmp/$name

    if ! ${MAKE:-make} -s -C "$top" install DESTDIR="$dest" "$@" \
            > "$tmp/$name.log" 2>&1; then
        cat "$tmp/$name.log"
        echo "not ok - $name: make install${*:+ $*}"
        failed=1
        return
    fi

    expected "$prefix" "$module" > "$tmp/$name.expected"
    (cd "$dest" && find . ! -type d -printf '%m /%P\n' | sort) \
        > "$tmp/$name.got"

    if diff -u "$tmp/$name.expected" "$tmp/$name.got"; then
        echo "ok - $name: make install${*:+ $*} wrote the expected files"
    else
        echo "not ok - $name: make install${*:+ $*} (diff: expected, got)"
        failed=1
    fi

    # the installed copies are the ones the clone built, and the module
    # has no hook of test faults (its environment variable's name is in
    # the hook's code only)
    so=lib/nginx/modules/ngx_http_durable_module.so
    if [ "$module" = yes ] && ! cmp -s \
            "$top/build/nginx-release/objs/${so##*/}" "$dest$prefix/$so"
    then
        echo "not ok - $name: the installed module is not build/'s"
        failed=1
    fi
    if [ "$module" = yes ] \
            && grep -q DURABLE_TEST_FAULTS "$dest$prefix/$so"; then
        echo "not ok - $name: the installed module has the test faults hook"
        failed=1
    fi
    for tool in durable durable-check; do
        if "$dest$prefix/bin/$tool" > /dev/null 2>&1; [ $? != 2 ]; then
            echo "not ok - $name: the installed $tool does not run"
            failed=1
        fi
    done
}

# the lines of make -B -n install that make -B -n all has not, but for
# install's own commands (install, ln, chmod) and continuation lines
make_n() {
    ${MAKE:-make} -s -C "$top" -B -n "$1" > "$tmp/$1.n" 2>&1 || {
        cat "$tmp/$1.n"
        echo "not ok - make -B -n $1 failed"
        failed=1
    }
}
make_n all
make_n install
grep -vxF -f "$tmp/all.n" "$tmp/install.n" \
    | grep -v -e '^[[:space:]]' -e '^install ' -e '^ln ' -e '^chmod ' \
    > "$tmp/only-install.n" || true
if [ -s "$tmp/only-install.n" ]; then
    cat "$tmp/only-install.n"
    echo "not ok - make install builds what make (all) does not (above)"
    failed=1
else
    echo "ok - make install builds nothing make (all) does not"
fi

run default /usr/local yes
run static /opt/durable no PREFIX=/opt/durable INSTALL_MODULE=

if [ "$failed" = 0 ]; then
    echo "test-install: PASS"
else
    echo "test-install: FAIL"
fi
exit $failed
