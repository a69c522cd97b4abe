#!/bin/sh
# The store library's global symbols are its public API (declared in a
# public header: store/*.h but the internal ds_internal.h, ds_key.h and
# ds_backend.h) or private to the library, named dsi_: a global function
# of neither kind is a private one that lost its prefix, or a public one
# missing from its header.  Exit 1 and list each.
#
#   util/check-store-exports.sh build/libdurable_store.a

lib=${1:?usage: check-store-exports.sh LIBRARY.a}
store=$(dirname "$0")/../store
headers=$(ls "$store"/*.h \
          | grep -v -e '/ds_internal\.h$' -e '/ds_key\.h$' -e '/ds_backend\.h$')

status=0

for s in $(nm -g --defined-only "$lib" | awk 'NF == 3 { print $3 }' \
           | sort -u)
do
    case "$s" in
    dsi_* | __*)
        # private, or made by the compiler (ASan's __odr_asan.NAME)
        continue
        ;;
    esac

    if ! grep -qw "$s" $headers; then
        echo "check-store-exports: $s is global, not dsi_ and in no" \
             "public header"
        status=1
    fi
done

[ $status = 0 ] && echo "check-store-exports: $lib exports its API only"
exit $status
