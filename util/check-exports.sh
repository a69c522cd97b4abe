#!/bin/sh
# The dynamic module must export what nginx looks up with dlsym() and
# nothing else (ngx_durable_module/ngx_http_durable_module.map).  Prints
# each unexpected or missing symbol and exits 1 when there is one.
#
#   util/check-exports.sh build/nginx/objs/ngx_http_durable_module.so

so=${1:?usage: check-exports.sh MODULE.so}

expected="ngx_http_durable_module
ngx_module_names
ngx_module_order
ngx_modules"

actual=$(nm -D --defined-only "$so" | awk '{ print $3 }' | sort) || exit 2

# comm needs sorted input: lines only in one of the two lists
extra=$(printf '%s\n' "$actual" | comm -23 - /dev/fd/3 3<<END
$expected
END
)
missing=$(printf '%s\n' "$expected" | comm -23 - /dev/fd/3 3<<END
$actual
END
)

status=0

if [ -n "$extra" ]; then
    echo "check-exports: $so exports symbols nginx does not look up:"
    echo "$extra" | head -20
    status=1
fi

if [ -n "$missing" ]; then
    echo "check-exports: $so lacks symbols nginx looks up:"
    echo "$missing"
    status=1
fi

[ $status = 0 ] && echo "check-exports: $so exports only nginx's symbols"
exit $status
