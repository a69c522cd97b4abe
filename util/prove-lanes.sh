#!/usr/bin/env bash
# Runs Test::Nginx files in several prove processes at once ("lanes"),
# each with a servroot and an error log of its own.
#
#   util/prove-lanes.sh [--alone FILE]... LANES DIR [PROVE_ARGS...] \
#       -- FILE_OR_DIR...
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
#
# A file named by --alone runs once the lanes are done, by itself, with
# DIR/alone as its servroot: t/249 stops the whole PostgreSQL cluster for
# a while, which would hold up the files of the other lanes.

set -uo pipefail

alone=()
while [ "${1:-}" = "--alone" ]; do
    alone+=("$2")
    shift 2
done

lanes=$1
dir=$2
shift 2

args=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    args+=("$1")
    shift
done
[ $# -gt 0 ] && shift

given=()
for p in "$@"; do
    if [ -d "$p" ]; then
        given+=("${p%/}"/*.t)
    else
        given+=("$p")
    fi
done

# the files of the lanes, and those of --alone that were given
files=()
last=()
for f in "${given[@]}"; do
    for a in "${alone[@]}"; do
        if [ "$f" -ef "$a" ]; then
            last+=("$f")
            continue 2
        fi
    done
    files+=("$f")
done

if [ "${#given[@]}" -eq 0 ]; then
    echo "prove-lanes: no test files given" >&2
    exit 2
fi

# runs prove over the files named after $1 (a lane or "alone")
prove_in() {
    local name=$1
    shift
    rm -rf "$dir/lane-$name"
    mkdir -p "$dir/lane-$name"
    (
        export TEST_NGINX_SERVROOT="$dir/lane-$name/servroot"
        if [ -n "${TEST_NGINX_ERROR_LOG:-}" ]; then
            export TEST_NGINX_ERROR_LOG="$dir/lane-$name/error.log"
        fi
        prove "${args[@]}" "$@" 2>&1 | sed -u "s/^/[$name] /"
    )
}

rc=0
[ "$lanes" -ge 1 ] 2> /dev/null || lanes=1
# no more lanes than files (none when every file runs alone)
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
    prove_in "$i" "${mine[@]}" &
    pids+=($!)
done

for pid in "${pids[@]}"; do
    wait "$pid" || rc=1
done

if [ "${#last[@]}" -gt 0 ]; then
    prove_in alone "${last[@]}" || rc=1
fi
exit $rc
