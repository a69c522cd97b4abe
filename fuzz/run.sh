#!/usr/bin/env bash
# fuzz/run.sh BUILD SECONDS TARGET...
#
# Runs each libFuzzer target for SECONDS on its seeds (fuzz/corpus/<t>, read
# only) and the corpus earlier runs grew (BUILD/corpus/<t>), with the
# target's dictionary when there is one. A crash, a leak, a timeout or a
# failed invariant stops the run: the input is kept in BUILD/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."

build=$1; secs=$2; shift 2
mkdir -p "$build/artifacts"

for t in "$@"; do
    mkdir -p "$build/corpus/$t"
    dict=()
    [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
    log="$build/$t.log"
    start=$(date +%s)
    if ! "$build/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
            -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" \
            "${dict[@]}" "$build/corpus/$t" "fuzz/corpus/$t" > "$log" 2>&1
    then
        tail -60 "$log"
        echo "fuzz: $t FAILED (log: $log, input: $build/artifacts/$t-*)"
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz: $t ok, ${runs:-?} runs in $(( $(date +%s) - start )) s"
done
