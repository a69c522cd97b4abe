#!/bin/sh
# nginx-style gate over our C sources: 80 columns, no tabs, no // comments,
# no trailing spaces, every allocation checked for NULL
# (util/style-alloc.awk), no ONLY/LAST left in tests.  `make test` runs it
# (check-style); exit 1 on any finding.

cd "$(dirname "$0")/.." || exit 2

files=$(git ls-files 'ngx_durable_module/*.c' 'ngx_durable_module/*.h' \
        'store/*.c' 'store/*.h' \
        'store/tests/*.c' 'store/tests/*.h' 'fuzz/*.c' 'util/*.c' \
        'cli/*.c' 'cli/*.h' \
        'bench/*.c' 2>/dev/null)
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
report "ONLY or LAST left in t/" \
    "$(grep -rln '^--- \(ONLY\|LAST\)' t --include='*.t')"

exit $status
