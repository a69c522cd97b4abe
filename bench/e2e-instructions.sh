#!/bin/bash
# bench/e2e-instructions.sh: the instructions nginx spends per end-to-end
# hello-sequence (scenario 6's workload), counted by callgrind, so that
# two builds of the module compare without the host's noise
# (bench/README.md, "The module's path, in instructions").
#
#   bench/e2e-instructions.sh [MODULE_SO]     default: make build's module
#
# One nginx process (master_process off, one worker, the store's own
# thread included) runs under valgrind --tool=callgrind with store "fs"
# (sync=on, as row 6) and no event-loop probe (its ticks would count
# time, not work). bench/worker drives it for E2E_WARM seconds, then
# callgrind's counters are zeroed, the worker counts its finished
# orchestrations for E2E_SECONDS more, and the counters are dumped when
# it exits. Prints one line: instructions per orchestration (in all, in
# the event loop and in the store's thread) and per HTTP request, with
# the worker's figures. Environment: E2E_PORT (18490),
# E2E_WARM (10), E2E_SECONDS (40), E2E_STARTERS (16), E2E_RUNNERS (2),
# E2E_INFLIGHT (200), E2E_OUT (build/e2e-ir): the directory of the run
# (its callgrind files, one a thread, are kept for callgrind_annotate).

set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
NGINX=${NGINX:-/usr/sbin/nginx}
SO=${1:-$ROOT/build/nginx/objs/ngx_http_durable_module.so}
OUT=${E2E_OUT:-$ROOT/build/e2e-ir}
PORT=${E2E_PORT:-18490}
WARM=${E2E_WARM:-10}
SECS=${E2E_SECONDS:-40}

ME=e2e-instructions
. bench/callgrind.sh

cg_need valgrind callgrind_control "${CC:-cc}"

[ -f "$SO" ] || { echo "e2e-instructions: no module at $SO" >&2; exit 1; }

rm -rf "$OUT" && mkdir -p "$OUT/logs" "$OUT/data/fs"
"${CC:-cc}" -O2 -std=gnu11 -pthread bench/worker.c -ljansson \
    -o "$OUT/worker"

cat > "$OUT/nginx.conf" <<EOF
load_module $SO;
master_process off;
daemon off;
worker_processes 1;
error_log logs/error.log warn;
pid nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path client_body_temp;
    keepalive_requests 100000000;
    durable_task_store fs path=data/fs max_size=2g sync=on;
    server {
        listen 127.0.0.1:$PORT;
        location /runtime/webhooks/durabletask/ {
            durable_task;
            durable_task_anonymous on;
            client_body_buffer_size 64k;
        }
    }
}
EOF

stop() {
    if [ -n "${wk:-}" ]; then
        kill "$wk" 2> /dev/null || true
    fi
    cg_stop
}
trap stop EXIT

cg_start valgrind --tool=callgrind --separate-threads=yes \
    --callgrind-out-file="$OUT/callgrind.out"

"$OUT/worker" -p "$PORT" -w "$WARM" -d "$SECS" \
    -s "${E2E_STARTERS:-16}" -c "${E2E_RUNNERS:-2}" \
    -i "${E2E_INFLIGHT:-200}" > "$OUT/worker.json" &
wk=$!

sleep "$WARM"
cg_control -z
wait "$wk"
wk=
cg_control -d
stop
trap - EXIT

python3 - "$OUT" <<'EOF'
import glob, json, sys

out = sys.argv[1]
w = json.load(open(out + "/worker.json"))

# the dump callgrind_cg_control -d asked for, a file per thread
# (callgrind.out.1-01 the event loop, the others the store's threads):
# the "summary:" line of each ("totals:" only without one, as in
# bench/callgrind.sh's cg_per_request)
threads = {}
for f in sorted(glob.glob(out + "/callgrind.out.1-*")):
    found = {}
    for line in open(f):
        for key in ("summary:", "totals:"):
            if line.startswith(key):
                found[key] = int(line.split()[1])
    threads[f.rsplit("-", 1)[1]] = found.get("summary:",
                                             found.get("totals:", 0))

ir = sum(threads.values())
loop = threads.get("01", 0)

if not w["completed"] or not ir:
    sys.exit("e2e-instructions: nothing counted (see %s)" % out)

if w["errors"]:
    sys.exit("e2e-instructions: the worker saw %d errors (see %s)"
             % (w["errors"], out))

n = w["completed"]
print("instructions per orchestration %d (event loop %d, store's thread "
      "%d), per request %d (%d orchestrations, %d requests, %.0f "
      "completions a request)"
      % (ir / n, loop / n, (ir - loop) / n, ir / w["requests"], n,
         w["requests"], w["items_per_complete"]))
EOF
