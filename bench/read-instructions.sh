#!/bin/bash
# bench/read-instructions.sh: the instructions nginx's event loop spends
# per status GET (scenarios 1 and 2's requests, and a Pending instance's
# 202) and per `return 200` of the history view's size, counted by
# callgrind, so that two builds of the module compare without the host's
# noise (bench/README.md, "A read in instructions").
#
#   bench/read-instructions.sh [MODULE_SO]    default: make build's module
#
# One nginx process (master_process off, one worker) runs under valgrind
# --tool=callgrind with a sync=off store. A plain nginx first runs a
# hello-sequence of 48 activities through the worker protocol (50 events
# in its showHistory view, as scenario 2's), one of none (scenario 1's
# instance) and starts a third; then h2load sends READ_N requests
# of each kind over READ_CONNS connections, after READ_WARM of the same
# kind that are not counted; callgrind's counters are zeroed before and
# dumped after each kind. Prints a line a kind: instructions per
# request. Environment: READ_PORT (18495), READ_N (20000), READ_WARM
# (2000), READ_CONNS (16), READ_OUT (build/read-ir): the directory of the
# run (its callgrind files are kept for callgrind_annotate).

set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
NGINX=${NGINX:-/usr/sbin/nginx}
SO=${1:-$ROOT/build/nginx/objs/ngx_http_durable_module.so}
OUT=${READ_OUT:-$ROOT/build/read-ir}
PORT=${READ_PORT:-18495}
N=${READ_N:-20000}
WARM=${READ_WARM:-2000}
CONNS=${READ_CONNS:-16}
B=/runtime/webhooks/durabletask
Q="taskHub=Reads&connection=reads"

ME=read-instructions
. bench/callgrind.sh

cg_need valgrind callgrind_control h2load python3

[ -f "$SO" ] || { echo "read-instructions: no module at $SO" >&2; exit 1; }

rm -rf "$OUT" && mkdir -p "$OUT/logs" "$OUT/data/reads"

# the instances: history-1 runs 48 activities (50 events in its view:
# ExecutionStarted, a TaskCompleted each, ExecutionCompleted; the view
# folds each TaskScheduled into its TaskCompleted), small-1 none (row 1's
# Completed instance), pending-1 is only started (a 202 with Location)
python3 - "$OUT/make-history.py" <<'EOF'
import sys
open(sys.argv[1], "w").write('''
import http.client, json, sys

port, b, q = int(sys.argv[1]), sys.argv[2], sys.argv[3]
c = http.client.HTTPConnection("127.0.0.1", port)


def req(method, path, body):
    c.request(method, path, body=json.dumps(body).encode(),
              headers={"content-type": "application/json"})
    r = c.getresponse()
    data = r.read()
    if r.status not in (200, 202):
        sys.exit("read-instructions: %s %s: %d %r"
                 % (method, path, r.status, data[:200]))
    return json.loads(data) if data else None


def claim(kind):
    items = req("POST", "%s/worker/%s/claim?max=1&wait=5&%s"
                % (b, kind, q), {})["items"]
    if len(items) != 1:
        sys.exit("read-instructions: a %s claim got %d items"
                 % (kind, len(items)))
    return items[0]


def run(iid, n):
    req("POST", "%s/orchestrators/Seq/%s?%s" % (b, iid, q), {"n": n})
    for k in range(n + 1):
        o = claim("orchestrations")
        done = k == n
        act = {"type": "complete", "output": "done"} if done else \\
            {"type": "scheduleActivity", "id": k, "name": "Step",
             "input": k}
        req("POST", "%s/worker/orchestrations/complete?%s" % (b, q),
            {"instanceId": iid, "lease": o["lease"], "actions": [act]})
        if done:
            break
        a = claim("activities")
        req("POST", "%s/worker/activities/complete?%s" % (b, q),
            {"instanceId": iid, "taskId": a["taskId"],
             "lease": a["lease"], "result": "r%d" % k})


run("history-1", 48)
run("small-1", 0)
req("POST", "%s/orchestrators/Seq/pending-1?%s" % (b, q), {"n": 0})
''')
EOF

# nginx.conf; $1: the baseline's size, its body made of map variables as
# bench.py makes them (a configuration token is limited to 4 KB)
conf() {
    local i n maps="" parts="" user=""

    for ((i = 0; i < $1; i += 3000)); do
        n=$(($1 - i < 3000 ? $1 - i : 3000))
        maps+="    map \$request_method \$body_$i {"
        maps+=" default '$(printf "%${n}s" "" | tr ' ' x)'; }"$'\n'
        parts+="\$body_$i"
    done

    # the second start finds the store the first made as this user
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
    durable_task_store reads path=data/reads max_size=1g sync=off;
$maps
    server {
        listen 127.0.0.1:$PORT;
        location $B/ {
            durable_task;
            durable_task_anonymous on;
        }
        location = /baseline/history {
            default_type "application/json; charset=utf-8";
            return 200 '$parts';
        }
    }
}
EOF
}

vg=
trap cg_stop EXIT

history="$B/instances/history-1?showHistory=true&$Q"
small="$B/instances/small-1?$Q"
pending="$B/instances/pending-1?$Q"

# the data, by a plain nginx; then the view's size is known
conf 1
cg_start
python3 "$OUT/make-history.py" "$PORT" "$B" "$Q"
size=$(curl -sf "http://127.0.0.1:$PORT$history" | wc -c)
events=$(curl -sf "http://127.0.0.1:$PORT$history" \
         | python3 -c 'import json, sys
print(len(json.load(sys.stdin)["historyEvents"]))')
cg_stop

conf "$size"
cg_start valgrind --tool=callgrind --separate-threads=yes \
    --callgrind-out-file="$OUT/callgrind.out"

# each kind: its dump is the next part, callgrind.out.K-01 (the loop)
kinds=("status showHistory, $events events, $size B"
       "status, small Completed instance (200)"
       "status, Pending instance (202, Location)"
       "return 200 of the history's size")
paths=("$history" "$small" "$pending" "/baseline/history")

for k in 0 1 2 3; do
    cg_load "$WARM" "${paths[$k]}"
    cg_control -z
    cg_load "$N" "${paths[$k]}"
    cg_control -d
done

cg_stop
trap - EXIT

cg_per_request "$N" "${kinds[@]}"
