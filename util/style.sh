#!/bin/sh
# nginx-style gate over our C sources: 80 columns, no tabs, no // comments,
# no trailing spaces, every allocation checked for NULL
# (util/style-alloc.awk), no ONLY/LAST left in tests, no txn-level store
# call in the nginx glue or the gRPC codec.  `make test` runs it
# (check-style); exit 1 on any finding.

cd "$(dirname "$0")/.." || exit 2

files=$(git ls-files 'ngx_durable_module/*.c' 'ngx_durable_module/*.h' \
        'store/*.c' 'store/*.h' \
        'store/tests/*.c' 'store/tests/*.h' 'fuzz/*.c' 'util/*.c' \
        'grpc/*.c' 'grpc/*.h' 'grpc/tests/*.c' 'grpc/tests/*.h' \
        'cli/*.c' 'cli/*.h' \
        'bench/*.c' 'bench/*.h' 't/tools/*.c' 2>/dev/null)
status=0

report() {
    [ -n "$2" ] || return 0
    echo "style: $1:"
    echo "$2" | head -20
    status=1
}

report "lines over 80 columns" \
    "$(awk 'length($0) > 80 { print FILENAME ":" FNR }' $files)"
report "tab characters" "$(grep -n "$(printf '\t')" $files)"
report "// comments" "$(grep -n '^[^"]*//' $files | grep -v ':\/\/')"
report "trailing spaces" "$(grep -n '[[:space:]]$' $files)"
report "allocations not checked for NULL" \
    "$(awk -f util/style-alloc.awk $files)"
# front ends submit operations (ds_op_*, store/durable_store.h); txns,
# records and the work-item engine are the backend's, so the glue never
# holds a txn or a pointer into the map outside an op's callbacks
glue=$(git ls-files 'ngx_durable_module/*.c' 'ngx_durable_module/*.h' \
       'grpc/*.c' 'grpc/*.h' ':!grpc/tests/*')
txn_api='\bds_txn_t\b|\bds_(txn|instance|history|inbox|entity|hub)_[a-z_]+\('
txn_api="$txn_api"'|\bds_work_(claim|complete|renew|abandon|next|fire)[a-z_]*\('
txn_api="$txn_api"'|\bds_op_(start|raise_event|terminate|suspend|resume)\('
txn_api="$txn_api"'|\bds_op_(rewind|purge)\('
# nor which backend a store uses: ops go through ds_store_submit()
txn_api="$txn_api"'|\bds_env_[a-z_]+\(|\bds_op_(read|batch|apply)\('
report "txn-level store calls in the glue (use ds_op_t)" \
    "$(grep -nE "$txn_api" $glue)"
report "ONLY or LAST left in t/" \
    "$(grep -rln '^--- \(ONLY\|LAST\)' t --include='*.t')"

exit $status
