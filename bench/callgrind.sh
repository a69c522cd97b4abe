# bench/callgrind.sh: what the instruction counts (e2e-instructions.sh,
# read-instructions.sh, start-instructions.sh) share, sourced by them:
# the tools' check, one nginx started (under callgrind or not) and
# stopped, callgrind_control, h2load's requests and the count a request.
# The script sets ME (its name, for messages), NGINX, OUT (the run's
# directory, with nginx.conf), PORT and, for cg_load, CONNS before it
# calls these; vg is the nginx process.

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

# h2load: $1 requests of the path $2 over CONNS connections, each answer
# 2xx; the arguments after them are h2load's (a request body, a header)
cg_load() {
    local n=$1 path=$2 out

    shift 2
    out=$(h2load --h1 -c "$CONNS" -m 1 -n "$n" "$@" \
          "http://127.0.0.1:$PORT$path")
    echo "$out" | grep -q "^status codes: $n 2xx" || {
        echo "$ME: not every answer was 2xx: $path" >&2
        echo "$out" >&2
        exit 1
    }
}

# the event loop's instructions a request of each kind named, from the
# dump of each in turn (callgrind.out.K-01, K from 1), $1 requests each:
# its "summary:" line, the events since the counters were zeroed; the sum
# of its cost lines ("totals:", only when there is no summary) ran 9%
# higher after a 300,000-request warm-up, with the same call counts
cg_per_request() {
    python3 - "$OUT" "$@" <<'PY'
import sys

out, n, kinds = sys.argv[1], int(sys.argv[2]), sys.argv[3:]

for k, what in enumerate(kinds):
    found = {}
    for line in open("%s/callgrind.out.%d-01" % (out, k + 1)):
        for key in ("summary:", "totals:"):
            if line.startswith(key):
                found[key] = int(line.split()[1])
    total = found.get("summary:", found.get("totals:", 0))
    if not total:
        sys.exit("nothing counted for %s" % what)
    print("%-48s %8d instructions a request" % (what, total // n))
PY
}
