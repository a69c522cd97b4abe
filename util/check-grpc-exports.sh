#!/bin/sh
# The gRPC codec's global symbols are its public API, dg_ names declared
# in grpc/durable_grpc.h, its private dgi_ names, or the code protoc-c
# generates from grpc/durable_task.proto (each defined in the generated
# code, which the build puts in GEN_DIR). Anything else is a private
# function that lost its prefix or static, or a public one missing from
# the header. Exit 1 and list each.
#
#   util/check-grpc-exports.sh build/libdurable_grpc.a [GEN_DIR]

lib=${1:?usage: check-grpc-exports.sh LIBRARY.a [GEN_DIR]}
gen=${2:-$(dirname "$lib")/gen}
api=$(dirname "$0")/../grpc/durable_grpc.h
generated=$gen/durable_task.pb-c.c

[ -f "$generated" ] || {
    echo "check-grpc-exports: no $generated"
    exit 1
}

status=0

for s in $(nm -g --defined-only "$lib" | awk 'NF == 3 { print $3 }' \
           | sort -u)
do
    case "$s" in
    dgi_* | __*)
        # private, or made by the compiler (ASan's __odr_asan.NAME)
        continue
        ;;
    dg_*)
        grep -qw "$s" "$api" && continue
        echo "check-grpc-exports: $s is global and not in durable_grpc.h"
        ;;
    *__*)
        grep -qw "$s" "$generated" && continue
        echo "check-grpc-exports: $s is not protoc-c's"
        ;;
    *)
        echo "check-grpc-exports: $s is global, neither dg_, dgi_ nor" \
             "generated"
        ;;
    esac

    status=1
done

[ $status = 0 ] && echo "check-grpc-exports: $lib exports its API only"
exit $status
