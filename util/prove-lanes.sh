#!/usr/bin/env bash
# Runs Test::Nginx files in several prove processes at once ("lanes"),
# each with a servroot and an error log of its own.
#
#   util/prove-lanes.sh LANES DIR [PROVE_ARGS...] -- FILE_OR_DIR...
#
# Why not prove -jN: a suite that sets TEST_NGINX_SERVROOT or
# TEST_NGINX_ERROR_LOG (the sanitizer and PostgreSQL runs keep theirs out
# of t/) gives every file prove runs at once the same servroot and log,
# with the runner here as with the real Test::Nginx, and two nginx would
# share them. So each lane gets DIR/lane-N/servroot and, when the
# environment names an error log, DIR/lane-N/error.log; files are dealt
# to the lanes largest first, each to the lane with the fewest bytes so
# far (a file's size stands for its run time). Every line a lane prints
# is prefixed "[N] "; the exit status is the worst of the lanes'.

set -uo pipefail

lanes=$1
dir=$2
shift 2

args=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    args+=("$1")
    shift
done
[ $# -gt 0 ] && shift

files=()
for p in "$@"; do
    if [ -d "$p" ]; then
        files+=("$p"/*.t)
    else
        files+=("$p")
    fi
done

if [ "${#files[@]}" -eq 0 ]; then
    echo "prove-lanes: no test files given" >&2
    exit 2
fi
[ "$lanes" -ge 1 ] 2> /dev/null || lanes=1
[ "$lanes" -gt "${#files[@]}" ] && lanes=${#files[@]}

# largest first, each to the lightest lane
declare -a load lane_files
for ((i = 0; i < lanes; i++)); do
    load[i]=0
    lane_files[i]=""
done
while read -r size f; do
    best=0
    for ((i = 1; i < lanes; i++)); do
        [ "${load[i]}" -lt "${load[best]}" ] && best=$i
    done
    load[best]=$((load[best] + size))
    lane_files[best]+="$f"$'\n'
done < <(for f in "${files[@]}"; do
             printf '%s %s\n' "$(wc -c < "$f")" "$f"
         done | sort -rn)

pids=()
for ((i = 0; i < lanes; i++)); do
    mapfile -t mine < <(printf '%s' "${lane_files[i]}" | sort)
    rm -rf "$dir/lane-$i"
    mkdir -p "$dir/lane-$i"
    (
        export TEST_NGINX_SERVROOT="$dir/lane-$i/servroot"
        if [ -n "${TEST_NGINX_ERROR_LOG:-}" ]; then
            export TEST_NGINX_ERROR_LOG="$dir/lane-$i/error.log"
        fi
        prove "${args[@]}" "${mine[@]}" 2>&1 | sed -u "s/^/[$i] /"
    ) &
    pids+=($!)
done

rc=0
for pid in "${pids[@]}"; do
    wait "$pid" || rc=1
done
exit $rc
