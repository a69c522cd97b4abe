# bench/callgrind.sh: what the instruction counts (e2e-instructions.sh,
# read-instructions.sh, start-instructions.sh) share, sourced by them:
# the tools' check, one nginx started (under callgrind or not) and
# stopped, callgrind_control.
# The script sets ME (its name, for messages), NGINX, OUT (the run's
# directory, with nginx.conf) and PORT before it calls these; vg is the
# nginx process.

# each tool named must be there
cg_need() {
    local tool

    for tool in "$@"; do
        command -v "$tool" > /dev/null || {
            echo "$ME: '$tool' is missing" >&2
            exit 1
        }
    done
}

# "$@": a command in front of nginx (valgrind's), or none; returns when
# this nginx answers a list of the module (another server on the port
# would not: nginx then fails to listen and exits)
cg_start() {
    local list="http://127.0.0.1:$PORT/runtime/webhooks/durabletask/instances"

    "$@" "$NGINX" -p "$OUT" -c "$OUT/nginx.conf" -e "$OUT/logs/error.log" \
        > "$OUT/valgrind.log" 2>&1 &
    vg=$!

    for _ in $(seq 600); do
        kill -0 "$vg" 2> /dev/null || {
            echo "$ME: nginx exited; see $OUT/logs/error.log and" \
                 "$OUT/valgrind.log" >&2
            exit 1
        }
        curl -sf "$list" 2> /dev/null | grep -q '^\[' && return
        sleep 0.1
    done

    echo "$ME: nginx did not answer" >&2
    exit 1
}

# nginx asked to quit, killed after 10 s
cg_stop() {
    if [ -n "${vg:-}" ] && kill -0 "$vg" 2> /dev/null; then
        kill -QUIT "$vg" 2> /dev/null || true
        for _ in $(seq 100); do
            kill -0 "$vg" 2> /dev/null || break
            sleep 0.1
        done
        kill -KILL "$vg" 2> /dev/null || true
    fi
    vg=
}

# callgrind_control says "Error" (and exits 0) when it finds no process
cg_control() {
    if callgrind_control "$1" "$vg" 2>&1 | grep -q Error; then
        echo "$ME: callgrind_control $1 failed" >&2
        exit 1
    fi
}
