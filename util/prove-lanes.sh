#!/usr/bin/env bash
# Runs Test::Nginx files in several lanes at once, each lane with a
# servroot and an error log of its own.
#
#   util/prove-lanes.sh [--alone FILE]... LANES DIR [PROVE_ARGS...] \
#       -- FILE_OR_DIR...
#
# Why not prove -jN: a suite that sets TEST_NGINX_SERVROOT or
# TEST_NGINX_ERROR_LOG (the sanitizer and PostgreSQL runs keep theirs out
# of t/) gives every file prove runs at once the same servroot and log,
# with the runner here as with the real Test::Nginx, and two nginx would
# share them. So each lane gets DIR/lane-N/servroot and, when the
# environment names an error log, DIR/lane-N/error.log. The files wait
# in one queue, largest first (a file's size stands for its run time);
# a lane that is free runs the next one with prove. Every line a lane
# prints is prefixed "[N] "; a file that passes prints its own line
# only, one that fails its whole report too. The last line counts the
# files and names those that failed; the exit status is 1 if any did.
#
# A file named by --alone runs once the lanes are done, by itself, with
# DIR/lane-alone as its servroot: t/249 stops the whole PostgreSQL
# cluster for a while, which would hold up the files of the other lanes.

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

if [ "${#given[@]}" -eq 0 ]; then
    echo "prove-lanes: no test files given" >&2
    exit 2
fi

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

[ "$lanes" -ge 1 ] 2> /dev/null || lanes=1
# no more lanes than files (none when every file runs alone)
[ "$lanes" -gt "${#files[@]}" ] && lanes=${#files[@]}

mkdir -p "$dir"
queue=$dir/lanes.queue
for f in "${files[@]}"; do
    printf '%s %s\n' "$(wc -c < "$f")" "$f"
done | sort -rn | cut -d' ' -f2- > "$queue"
echo 0 > "$queue.next"
: > "$queue.failed"

# the next file of the queue, or nothing once it is empty
next_file() {
    local n
    {
        flock 9
        n=$(cat "$queue.next")
        echo $((n + 1)) > "$queue.next"
    } 9>> "$queue.lock"
    sed -n "$((n + 1))p" "$queue"
}

# the lines of prove's summary of one file that passed (or was skipped)
summary='^(All tests successful\.|Files=1, Tests=.*|Result: (PASS|NOTESTS))$'

# one lane: prove over each file it takes from the queue, or over the
# files given after $1 (its name) when there are any
lane() {
    local name=$1 f out
    shift
    rm -rf "$dir/lane-$name"
    mkdir -p "$dir/lane-$name"
    export TEST_NGINX_SERVROOT="$dir/lane-$name/servroot"
    if [ -n "${TEST_NGINX_ERROR_LOG:-}" ]; then
        export TEST_NGINX_ERROR_LOG="$dir/lane-$name/error.log"
    fi
    out="$dir/lane-$name/prove.out"
    while :; do
        if [ $# -gt 0 ]; then
            f=$1
            shift
        else
            [ "$name" = alone ] && return
            f=$(next_file)
            [ -n "$f" ] || return
        fi
        # the file's lines as they come; its summary only if it failed
        if prove "${args[@]}" "$f" > "$out" 2>&1; then
            grep -v -E "$summary" "$out" | sed "s/^/[$name] /"
        else
            sed "s/^/[$name] /" "$out"
            echo "$f" >> "$queue.failed"
        fi
    done
}

pids=()
for ((i = 0; i < lanes; i++)); do
    lane "$i" &
    pids+=($!)
done
for pid in "${pids[@]}"; do
    wait "$pid"
done

if [ "${#last[@]}" -gt 0 ]; then
    lane alone "${last[@]}"
fi

failed=$(paste -sd' ' "$queue.failed")
echo "prove-lanes: ${#given[@]} files in $lanes lanes" \
     "(${#last[@]} alone after them): ${failed:-none} failed"
[ -z "$failed" ]
