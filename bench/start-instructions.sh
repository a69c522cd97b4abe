#!/bin/bash
# bench/start-instructions.sh: the instructions nginx spends per relaxed
# start (scenario 4b's request) and per `return 200` of the start's
# answer size, counted by callgrind, so that two builds of the module
# compare without the host's noise (bench/README.md, "A relaxed start in
# instructions").
#
#   bench/start-instructions.sh [MODULE_SO]   default: make build's module
#
# One nginx process (master_process off, one worker) runs under valgrind
# --tool=callgrind with a sync=off store that commits in the event loop
# (writes=loop), so the batch is counted with the loop. h2load sends
# START_N starts (POST, body {"n":1}, no id) over START_CONNS
# connections after START_WARM that are not counted, then as many POSTs
# to the `return 200`; callgrind's counters are zeroed before and dumped
# after each. Prints a line a kind: instructions per request.
# Environment: START_PORT (18496), START_N (20000), START_WARM (5000),
# START_CONNS (16), START_OUT (build/start-ir): the directory of the run
# (its callgrind files are kept for callgrind_annotate).

set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
NGINX=${NGINX:-/usr/sbin/nginx}
SO=${1:-$ROOT/build/nginx/objs/ngx_http_durable_module.so}
OUT=${START_OUT:-$ROOT/build/start-ir}
PORT=${START_PORT:-18496}
N=${START_N:-20000}
WARM=${START_WARM:-5000}
CONNS=${START_CONNS:-16}
B=/runtime/webhooks/durabletask
Q="taskHub=Starts&connection=starts"

ME=start-instructions
. bench/callgrind.sh

cg_need valgrind callgrind_control h2load python3 curl

[ -f "$SO" ] || { echo "start-instructions: no module at $SO" >&2; exit 1; }

rm -rf "$OUT" && mkdir -p "$OUT/logs" "$OUT/data/starts"
printf '{"n":1}' > "$OUT/body.json"

# the baseline answers a body of the start's size ($1)
conf() {
    local user=""

    [ "$(id -u)" != 0 ] || user="user root;"

    cat > "$OUT/nginx.conf" <<EOF
load_module $SO;
$user
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
    durable_task_store starts path=data/starts max_size=1g sync=off
                       writes=loop;
    server {
        listen 127.0.0.1:$PORT;
        location $B/ {
            durable_task;
            durable_task_anonymous on;
        }
        location = /baseline/start {
            default_type "application/json; charset=utf-8";
            return 200 '$(printf "%${1}s" "" | tr ' ' x)';
        }
    }
}
EOF
}

vg=
trap cg_stop EXIT

start="$B/orchestrators/Hello?$Q"

# the answer's size, from a plain nginx
conf 1
cg_start
size=$(curl -sf -X POST -H 'content-type: application/json' \
       --data-binary @"$OUT/body.json" "http://127.0.0.1:$PORT$start" \
       | wc -c)
cg_stop

conf "$size"
cg_start valgrind --tool=callgrind --separate-threads=yes \
    --callgrind-out-file="$OUT/callgrind.out"

kinds=("relaxed start (202, $size B)" "return 200 of the start's size")
paths=("$start" "/baseline/start")

for k in 0 1; do
    cg_load "$WARM" "${paths[$k]}" -d "$OUT/body.json" \
        -H 'content-type: application/json'
    cg_control -z
    cg_load "$N" "${paths[$k]}" -d "$OUT/body.json" \
        -H 'content-type: application/json'
    cg_control -d
done

cg_stop
trap - EXIT

cg_per_request "$N" "${kinds[@]}"
