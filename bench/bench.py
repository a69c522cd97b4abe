#!/usr/bin/env python3
"""ngx_durable benchmark driver (bench/README.md); bench/run.sh runs it.

Starts its own nginx (prefix build/bench/prefix, port BENCH_PORT), creates
the data each scenario needs, runs the scenarios with wrk and the helper
programs built by run.sh (build/bench/bin), prints the table and writes
bench/results.md. Standard library only.

Environment (all optional):
  QUICK=1             short runs and scaled-down counts (under 2 minutes)
  BENCH_PORT=18480    nginx's port (BENCH_GRPC_PORT, one more: its HTTP/2)
  BENCH_DURATION      seconds per wrk run (default 10, QUICK 3)
  BENCH_WORKERS=2     nginx worker_processes
  BENCH_CONNS=32      wrk connections of the throughput runs
  BENCH_START_CONNS=256   wrk connections of the sync=on start run (4a)
  BENCH_BIG=1000000   instances of the large hub (QUICK: 200000)
  BENCH_E2E_SECONDS   measured seconds of the end-to-end run (20, QUICK 5)
  BENCH_E2E_STARTERS  starter threads of the end-to-end worker (128)
  BENCH_E2E_RUNNERS   its runners, each on its own connection (16)
  BENCH_E2E_INFLIGHT  orchestrations it keeps in flight at most (4000)
  BENCH_E2E_STORE=fs  the store of the end-to-end run: fs (sync=on), or
                      nosyncpool (sync=off: flushed every 100 ms, not
                      at each commit) to see what fsync costs; the
                      row's name says which, and a full run refuses any
                      other than fs (results.md judges sync=on)
  BENCH_MEM_WARMUP / BENCH_MEM_REQUESTS   scenario 7 counts
                      (100000 / 1000000; QUICK 20000 / 100000)
  BENCH_GET_RATE      paced GET rate of scenario 5 (default 5000/s)
  BENCH_START_RATE    paced start rate of scenario 5 (default 1000/s)
  BENCH_EXTRA_MAIN, BENCH_EXTRA_HTTP   directives added to the main and http
                      blocks (e.g. a thread_pool the module may need)
  BENCH_NGINX=/usr/sbin/nginx   the nginx binary (run.sh sets it from NGINX)
  BENCH_PG=0          leave out the PostgreSQL rows (bench/bench_pg.py,
                      which has its own knobs)
  BENCH_ROWS=6,9      run only the scenarios listed, comma-separated (1
                      and 2, the status GETs, which run together; 3c,
                      random-id paging and its 1K baseline; 4a,
                      the durable starts and their commit loop; 4b,
                      the relaxed starts and return 200; 6, the
                      end to end; 9, the purge, on a store holding P1
                      and RK alone), print their rows and leave
                      bench/results.md as it is
"""

import datetime
import http.client
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.path.join(ROOT, "build", "bench")
BIN = os.path.join(BUILD, "bin")
PREFIX = os.path.join(BUILD, "prefix")
LUA = os.path.join(HERE, "lua")
MODULE_SO = os.path.join(ROOT, "build", "nginx", "objs",
                         "ngx_http_durable_module.so")

QUICK = os.environ.get("QUICK", "") not in ("", "0")
PORT = int(os.environ.get("BENCH_PORT", "18480"))
GRPC_PORT = int(os.environ.get("BENCH_GRPC_PORT", str(PORT + 1)))
DUR = float(os.environ.get("BENCH_DURATION", "3" if QUICK else "10"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
WORKERS_ALL = WORKERS       # WORKERS is 1 for row 6′ only
CONNS = int(os.environ.get("BENCH_CONNS", "32"))
START_CONNS = int(os.environ.get("BENCH_START_CONNS", "256"))
BIG = int(os.environ.get("BENCH_BIG", "200000" if QUICK else "1000000"))
SMALL = 1000
E2E_SECS = float(os.environ.get("BENCH_E2E_SECONDS", "5" if QUICK else "20"))
E2E_STARTERS = int(os.environ.get("BENCH_E2E_STARTERS", "128"))
E2E_RUNNERS = int(os.environ.get("BENCH_E2E_RUNNERS", "16"))
E2E_INFLIGHT = int(os.environ.get("BENCH_E2E_INFLIGHT", "4000"))
E2E_STORE = os.environ.get("BENCH_E2E_STORE", "fs")
E2E_SYNC = {"fs": "sync=on", "nosyncpool": "sync=off"}
MEM_WARM = int(os.environ.get("BENCH_MEM_WARMUP",
                              "20000" if QUICK else "100000"))
MEM_REQS = int(os.environ.get("BENCH_MEM_REQUESTS",
                              "100000" if QUICK else "1000000"))
MEM_STEPS = 5
GET_RATE = float(os.environ.get("BENCH_GET_RATE", "5000"))
START_RATE = float(os.environ.get("BENCH_START_RATE", "1000"))
ROWS = os.environ.get("BENCH_ROWS", "")
NGINX = os.environ.get("BENCH_NGINX", "/usr/sbin/nginx")
# nginx reads $NGINX as inherited listening sockets (binary upgrade): never
# pass it on
os.environ.pop("NGINX", None)

# one map size per store: the loader opens "big" with the same one
MAP = {"fs": 4 << 30, "nosync": 4 << 30, "big": 4 << 30}

B = "/runtime/webhooks/durabletask"
URL = "http://127.0.0.1:%d" % PORT

nginx_started = False
children = []


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


# ---- nginx ---------------------------------------------------------------

def baseline_conf(bodies):
    """locations and maps answering bodies of the given sizes"""
    locs, maps = [], []
    for name, size in sorted(bodies.items()):
        body = "x" * size
        locs.append("        location = /baseline/%s {" % name)
        locs.append('            default_type  "application/json; '
                    'charset=utf-8";')
        if size <= 3000:
            locs.append("            return  200 '%s';" % body)
        else:
            parts = []
            for i in range(0, size, 3000):
                var = "$bench_%s_%d" % (name, i // 3000)
                maps.append("    map $request_method %s {" % var)
                maps.append("        default '%s';" % body[i:i + 3000])
                maps.append("    }")
                parts.append(var)
            locs.append("            return  200 '%s';" % "".join(parts))
        locs.append("        }")
    return "\n".join(locs), "\n".join(maps)


def render_conf(bodies):
    with open(os.path.join(HERE, "nginx.conf.in")) as f:
        s = f.read()
    locs, maps = baseline_conf(bodies)
    rep = {
        "MODULE_SO": MODULE_SO, "WORKERS": str(WORKERS), "PORT": str(PORT),
        "GRPC_PORT": str(GRPC_PORT),
        "MAP_SIZE_FS": str(MAP["fs"]), "MAP_SIZE_NOSYNC": str(MAP["nosync"]),
        "MAP_SIZE_BIG": str(MAP["big"]),
        "EXTRA_MAIN": os.environ.get("BENCH_EXTRA_MAIN", ""),
        "EXTRA_HTTP": os.environ.get("BENCH_EXTRA_HTTP", ""),
        "BASELINES": locs, "BASELINE_MAPS": maps,
    }
    for k, v in rep.items():
        s = s.replace("@%s@" % k, v)
    with open(os.path.join(PREFIX, "conf", "nginx.conf"), "w") as f:
        f.write(s)


def nginx_cmd(*extra):
    return [NGINX, "-p", PREFIX + "/", "-c", "conf/nginx.conf",
            "-e", "logs/error.log"] + list(extra)


def master_pid():
    try:
        with open(os.path.join(PREFIX, "nginx.pid")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def worker_pids():
    m = master_pid()
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[1]) == m and "worker process" in cmdline(int(d)):
            pids.append(int(d))
    return sorted(pids)


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def wait_port():
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", PORT), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("bench: nginx does not answer on port %d; see %s" %
             (PORT, os.path.join(PREFIX, "logs", "error.log")))


def start_nginx():
    global nginx_started
    if os.path.exists(os.path.join(PREFIX, "nginx.pid")):
        stop_nginx()
    shutil.rmtree(PREFIX, ignore_errors=True)
    for d in ("conf", "logs", "data"):
        os.makedirs(os.path.join(PREFIX, d), exist_ok=True)
    render_conf({"status": 1, "history": 1, "start": 1, "list": 1})
    r = subprocess.run(nginx_cmd("-t", "-q"), capture_output=True, text=True)
    if r.returncode:
        sys.exit("bench: nginx -t failed:\n" + r.stderr)
    subprocess.run(nginx_cmd(), check=True)
    nginx_started = True
    wait_port()
    # the workers open the stores in init_process: wait for the files
    for _ in range(100):
        if all(os.path.exists(os.path.join(PREFIX, "data", s, "data.mdb"))
               for s in MAP):
            break
        time.sleep(0.05)
    wait_workers()


def wait_workers():
    for _ in range(200):
        if len(worker_pids()) == WORKERS:
            return
        time.sleep(0.05)


def reload_nginx(bodies):
    old = set(worker_pids())
    render_conf(bodies)
    subprocess.run(nginx_cmd("-s", "reload"), check=True)
    for _ in range(400):
        now = set(worker_pids())
        if len(now) == WORKERS and not (now & old):
            break
        time.sleep(0.05)
    # and the old workers are gone
    for _ in range(200):
        if not any(os.path.exists("/proc/%d" % p) for p in old):
            break
        time.sleep(0.05)
    wait_port()


def stop_nginx():
    global nginx_started
    m = master_pid()
    if m:
        try:
            os.kill(m, signal.SIGQUIT)
        except ProcessLookupError:
            pass
        for _ in range(100):
            if not os.path.exists("/proc/%d" % m):
                break
            time.sleep(0.05)
        else:
            try:
                os.kill(m, signal.SIGKILL)
            except ProcessLookupError:
                pass
    nginx_started = False


def cleanup(*_):
    for p in children:
        if p.poll() is None:
            p.kill()
    if nginx_started:
        stop_nginx()


def on_signal(signum, frame):
    cleanup()
    sys.exit(128 + signum)


# ---- HTTP helpers ----------------------------------------------------------

class Client:
    def __init__(self):
        self.c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)

    def req(self, method, path, body=None, headers=None):
        h = {"Content-Type": "application/json"} if body is not None else {}
        h.update(headers or {})
        data = None if body is None else (
            body if isinstance(body, (bytes, str)) else json.dumps(body))
        try:
            self.c.request(method, path, body=data, headers=h)
            r = self.c.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError,
                BrokenPipeError):
            # a connection left idle past keepalive_timeout while the
            # load scenarios ran (again, on a busy machine) was closed by
            # nginx; a GET may be sent again on a new one, anything else
            # would be a second write
            if method != "GET":
                raise
            self.c.close()
            self.c.request(method, path, body=data, headers=h)
            r = self.c.getresponse()
        raw = r.read()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), raw


def q(hub, conn):
    return "taskHub=%s&connection=%s" % (hub, conn)


def run_sequence(c, hub, conn, iid, activities):
    """starts iid and runs it through the worker protocol: `activities`
    activities in a row, then complete; returns the final status code"""
    s, _, body = c.req("POST", "%s/orchestrators/Seq/%s?%s" %
                       (B, iid, q(hub, conn)), {"n": activities})
    if s != 202:
        sys.exit("bench: start %s: %d %s" % (iid, s, body[:200]))
    for k in range(activities + 1):
        s, _, body = c.req("POST", "%s/worker/orchestrations/claim?max=1&"
                           "wait=5&%s" % (B, q(hub, conn)), b"")
        items = json.loads(body)["items"]
        if len(items) != 1 or items[0]["instanceId"] != iid:
            sys.exit("bench: claim for %s: %r" % (iid, body[:300]))
        it = items[0]
        if k < activities:
            actions = [{"type": "scheduleActivity", "id": k,
                        "name": "Step", "input": k}]
        else:
            actions = [{"type": "complete", "output": "done"}]
        s, _, body = c.req("POST", "%s/worker/orchestrations/complete?%s" %
                           (B, q(hub, conn)),
                           {"instanceId": iid, "lease": it["lease"],
                            "actions": actions})
        if s != 200:
            sys.exit("bench: complete %s: %d %s" % (iid, s, body[:200]))
        if k == activities:
            break
        s, _, body = c.req("POST", "%s/worker/activities/claim?max=1&"
                           "wait=5&%s" % (B, q(hub, conn)), b"")
        a = json.loads(body)["items"][0]
        s, _, body = c.req("POST", "%s/worker/activities/complete?%s" %
                           (B, q(hub, conn)),
                           {"instanceId": iid, "taskId": a["taskId"],
                            "lease": a["lease"], "result": "r%d" % k})
        if s != 200:
            sys.exit("bench: activity %s: %d %s" % (iid, s, body[:200]))


def history_count(c, iid):
    s, _, body = c.req("GET", "%s/instances/%s?showHistory=true&%s" %
                       (B, iid, q("Bench", "fs")))
    return len(json.loads(body).get("historyEvents") or [])


def loader(store, hub, n, prefix=None, random_ids=False, status=None):
    cmd = [os.path.join(BIN, "loader"), "-p",
           os.path.join(PREFIX, "data", store), "-m", str(MAP[store]),
           "-H", hub, "-n", str(n)]
    if prefix:
        cmd += ["-i", prefix]
    if random_ids:
        cmd += ["-r"]
    if status is not None:
        cmd += ["-S", str(status)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit("bench: loader failed: " + r.stderr)
    log("%s/%s: %s" % (store, hub, r.stdout.strip()))
    m = re.search(r"in ([\d.]+) s \((\d+)/s\)", r.stdout)
    return float(m.group(1)), int(m.group(2))


# ---- wrk ----------------------------------------------------------------------

def cpu_of(pids):
    t = 0.0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        t += (int(fields[11]) + int(fields[12]))
    return t / os.sysconf("SC_CLK_TCK")


def machine_cpu():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return sum(v), sum(v) - v[3] - v[4], v[4]


def wrk_cmd(path, script, conns=None, duration=None, threads=1, env=None):
    e = dict(os.environ)
    e["BENCH_LUA_DIR"] = LUA
    e["BENCH_THREADS"] = str(threads)
    e.update(env or {})
    cmd = ["wrk", "-t%d" % threads, "-c%d" % (conns or CONNS),
           "-d%ds" % max(1, round(duration or DUR)), "--timeout", "10s",
           "--latency", "-s", os.path.join(LUA, script), URL + path]
    return cmd, e


def parse_wrk(out, what):
    m = re.search(r"^BENCH_RESULT (\{.*\})$", out, re.M)
    if not m:
        sys.exit("bench: no result from wrk (%s):\n%s" % (what, out[-2000:]))
    r = json.loads(m.group(1))
    bad = r["errors_status"] + r["errors_connect"] + r["errors_read"] + \
        r["errors_write"] + r["errors_timeout"]
    r["errors"] = bad
    if bad:
        log("%s: %d errors (status %d, connect %d, read %d, timeout %d)" %
            (what, bad, r["errors_status"], r["errors_connect"],
             r["errors_read"], r["errors_timeout"]))
    return r


def measured(cmd, env=None):
    """runs a load generator: its result, and the CPU of nginx, of the
    generator and of the rest of the machine while it ran (% of a core)"""
    pids = worker_pids() + [master_pid()]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    n0 = cpu_of(pids)
    m0 = machine_cpu()
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.time() - t0
    n1 = cpu_of(pids)
    m1 = machine_cpu()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = {"nginx_cpu_pct": 100 * (n1 - n0) / wall,
           "wrk_cpu_pct": 100 * ((ru1.ru_utime + ru1.ru_stime)
                                 - (ru0.ru_utime + ru0.ru_stime)) / wall}
    busy = 100.0 * os.cpu_count() * (m1[1] - m0[1]) / max(1, m1[0] - m0[0])
    cpu["other_cpu_pct"] = max(0.0, busy - cpu["nginx_cpu_pct"]
                               - cpu["wrk_cpu_pct"])
    return r, cpu


def reported(what, res, generator):
    """a run's figures, into the CPU table and the log"""
    cpu_rows.append((what, res["rps"], res["nginx_cpu_pct"],
                     res["wrk_cpu_pct"], res["other_cpu_pct"]))
    log("%-40s %10.0f req/s  p50 %7.3f ms  p99 %7.3f ms  "
        "(CPU: nginx %3.0f%%, %s %3.0f%%, other %3.0f%%)" %
        (what, res["rps"], res["p50_ms"], res["p99_ms"],
         res["nginx_cpu_pct"], generator, res["wrk_cpu_pct"],
         res["other_cpu_pct"]))
    return res


def wrk(what, path, script="get.lua", **kw):
    cmd, env = wrk_cmd(path, script, **kw)
    r, cpu = measured(cmd, env)
    if r.returncode:
        sys.exit("bench: wrk failed (%s): %s" % (what, r.stderr))
    res = parse_wrk(r.stdout, what)
    res.update(cpu)
    return reported(what, res, "wrk")


# ---- HTTP/2 and gRPC (h2load) ------------------------------------------------

def grpc_message(fields):
    """a gRPC frame of a protobuf message: fields are (number, bytes)"""
    msg = b""
    for num, value in fields:
        n, length = [], len(value)
        while True:
            n.append((length & 0x7f) | (0x80 if length > 0x7f else 0))
            length >>= 7
            if not length:
                break
        msg += bytes([num << 3 | 2]) + bytes(n) + value
    return b"\0" + struct.pack(">I", len(msg)) + msg


GRPC_HEADERS = ["content-type: application/grpc", "te: trailers"]


def grpc_call(path, body, headers=()):
    """one call with curl: (grpc-status, response body bytes)"""
    bf = os.path.join(BUILD, "grpc-call.bin")
    with open(bf, "wb") as f:
        f.write(body)
    hf = os.path.join(BUILD, "grpc-call.headers")
    r = subprocess.run(["curl", "-s", "--http2-prior-knowledge", "-D", hf,
                        "--data-binary", "@" + bf] +
                       sum([["-H", h] for h in GRPC_HEADERS + list(headers)],
                           []) +
                       ["http://127.0.0.1:%d%s" % (GRPC_PORT, path)],
                       capture_output=True)
    with open(hf, "rb") as f:
        m = re.search(rb"^grpc-status: *(\d+)", f.read(), re.M | re.I)
    return (int(m.group(1)) if m else None), r.stdout


def h2load(what, path, body=None, headers=(), conns=None, streams=1):
    """h2load against the HTTP/2 port; p50/p99 from its request log"""
    logf = os.path.join(BUILD, "h2load.log")
    cmd = ["h2load", "-t", "1", "-c", str(conns or CONNS), "-m",
           str(streams), "-D", str(max(1, round(DUR))), "--warm-up-time=1",
           "--log-file=" + logf]
    if body is not None:
        bf = os.path.join(BUILD, "h2load-body.bin")
        with open(bf, "wb") as f:
            f.write(body)
        cmd += ["-d", bf]
    for h in headers:
        cmd += ["-H", h]
    cmd.append("http://127.0.0.1:%d%s" % (GRPC_PORT, path))
    r, cpu = measured(cmd)
    m = re.search(r"finished in [\d.]+\w*, ([\d.]+) req/s", r.stdout)
    ok = re.search(r"requests: \d+ total, \d+ started, (\d+) done, "
                   r"(\d+) succeeded", r.stdout)
    if r.returncode or not m or not ok:
        sys.exit("bench: h2load failed (%s): %s %s" %
                 (what, r.stdout[-1500:], r.stderr[-500:]))
    lat = []
    with open(logf) as f:
        for line in f:
            cols = line.split("\t")
            if len(cols) >= 3 and cols[1].startswith("2"):
                lat.append(int(cols[2]) / 1000.0)
    lat.sort()
    if not lat:
        sys.exit("bench: h2load (%s): no 2xx answer" % what)
    res = {"rps": float(m.group(1)),
           "p50_ms": lat[len(lat) // 2],
           "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
           "errors": int(ok.group(1)) - int(ok.group(2))}
    res.update(cpu)
    return reported(what, res, "h2load")


def sdk_e2e():
    """scenario 11: hello-sequence orchestrations through the JavaScript
    SDK's worker and client (bench/sdk-e2e.js, one Node process) against
    durable_task_grpc; the CPU of nginx and of the SDK's process"""
    node = os.path.join(ROOT, "t", "grpc", "node_modules", ".bin", "node")
    mods = os.path.join(ROOT, "t", "grpc", "node_modules")
    if not os.path.exists(os.path.join(mods, "@microsoft", "durabletask-js")):
        notes.append("Scenario 11 skipped: the JavaScript SDK is not "
                     "installed (make test-grpc installs t/grpc's npm "
                     "packages).")
        return None
    inflight = int(os.environ.get("BENCH_SDK_INFLIGHT", "64"))
    # an orchestration takes seconds here: a window of several of them
    secs = max(10.0, E2E_SECS / 2)
    env = dict(os.environ, NODE_PATH=mods)
    cmd = [node, os.path.join(HERE, "sdk-e2e.js"),
           "127.0.0.1:%d" % GRPC_PORT, str(secs), "5", str(inflight)]
    log("end to end over gRPC: %s" % " ".join(cmd))
    r, cpu = measured(cmd, env)
    if r.returncode:
        sys.exit("bench: sdk-e2e.js failed: " + r.stderr[-1500:])
    res = json.loads(r.stdout.strip().splitlines()[-1])
    res.update(cpu)
    reported("end to end over gRPC (JavaScript SDK)", res, "SDK")
    # the SDK's process, not nginx, is expected to be the bottleneck
    bound = "the %s is the bottleneck" % (
        "SDK" if res["wrk_cpu_pct"] > res["nginx_cpu_pct"] else "nginx")
    if max(res["wrk_cpu_pct"], res["nginx_cpu_pct"]) < 80:
        bound = "neither saturates a core (the SDK's process uses %.1f× " \
            "nginx's CPU): round trips and fsync'd commits set the pace" % (
                res["wrk_cpu_pct"] / max(0.1, res["nginx_cpu_pct"]))
    rows.append({
        "scenario": "11. end to end over gRPC: hello-sequence (5 activities)"
                    ", JavaScript SDK worker, sync=on",
        "rps": "%.0f orch/s" % res["rps"],
        "p50": "%.0f ms" % res["p50_ms"], "p99": "%.0f ms" % res["p99_ms"],
        "base": "CPU: nginx %.0f%%, SDK %.0f%%" % (res["nginx_cpu_pct"],
                                                  res["wrk_cpu_pct"]),
        "ratio": "—", "target": "(information: the SDK is the bottleneck)",
        "result": "info",
    })
    notes.append("Scenario 11: bench/sdk-e2e.js runs the JavaScript SDK's "
                 "TaskHubGrpcWorker (the orchestration and its activity) "
                 "and TaskHubGrpcClient in one Node process: %d starters "
                 "each schedule an orchestration and wait for its "
                 "completion (WaitForInstanceCompletion), counted over "
                 "%.0f s after a 5 s warm-up on the fs store: %d completed, "
                 "%d started, %d errors; latency is from the start to the "
                 "completion. CPU over the whole run (100%% = one core): "
                 "nginx %.0f%%, the SDK's process %.0f%%: %s. Sample "
                 "output %s." %
                 (inflight, secs, res["completed"], res["started"],
                  res["errors"], res["nginx_cpu_pct"], res["wrk_cpu_pct"],
                  bound, res["sample"]))
    return res


# ---- the table -------------------------------------------------------------

rows = []
cpu_rows = []
notes = []
pairs = []       # quiet_pair(): each row's two runs of each side
flush_probe = None   # flush_probe_run(): (scattered, one run, span, trials)


def row(scenario, res, base, base_label, ratio, target, ok, ratio_fmt="%.2f×",
        base_p99=None):
    """base_p99: the p99 (ms) of the row's baseline, measured in this run"""
    rows.append({
        "scenario": scenario,
        "rps": "%.0f" % res["rps"] if res and "rps" in res else "—",
        "p50": "%.2f ms" % res["p50_ms"] if res and "p50_ms" in res else "—",
        "p99": "%.2f ms" % res["p99_ms"] if res and "p99_ms" in res else "—",
        "base_p99": "%.2f ms" % base_p99 if base_p99 is not None else "—",
        "base": base_label if base_label else (
            "%.0f" % base if base is not None else "—"),
        "ratio": (ratio_fmt % ratio) if ratio is not None else "—",
        "target": target,
        "result": "info" if ok is None else "pass" if ok else "FAIL",
    })


COLS = [("scenario", "scenario"), ("rps", "req/s"), ("p50", "p50"),
        ("p99", "p99"), ("base_p99", "baseline p99"), ("base", "baseline"),
        ("ratio", "ratio"), ("target", "target"), ("result", "pass/fail")]


def cell(r, k):
    """a row's cell; rows appended without a baseline p99 show a dash"""
    return r.get(k, "—")


def table_text():
    w = {k: max(len(h), *(len(cell(r, k)) for r in rows)) for k, h in COLS}
    lines = ["  ".join(h.ljust(w[k]) for k, h in COLS),
             "  ".join("-" * w[k] for k, _ in COLS)]
    for r in rows:
        lines.append("  ".join(cell(r, k).ljust(w[k]) for k, _ in COLS))
    return "\n".join(lines)


def table_md():
    lines = ["| " + " | ".join(h for _, h in COLS) + " |",
             "|" + "|".join("---" for _ in COLS) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(cell(r, k) for k, _ in COLS) + " |")
    return "\n".join(lines)


def store_disk():
    """the stores' filesystem: (findmnt's [source, fstype], the name of its
    disk under /sys/block)"""
    dev = subprocess.run(["findmnt", "-no", "SOURCE,FSTYPE", "-T", BUILD],
                         capture_output=True, text=True).stdout.split()
    name = os.path.basename(dev[0]) if dev else ""
    base = re.sub(r"p?\d+$", "", name) if not name.startswith("vd") \
        else re.sub(r"\d+$", "", name)
    return dev, base


def block_writes(stat):
    """a /sys/block/DEV/stat line: (write requests completed, sectors of
    512 bytes written)"""
    f = stat.split()
    return int(f[4]), int(f[6])


def disk_writes():
    """the stores' disk's write requests and sectors so far, or None"""
    try:
        with open("/sys/block/%s/stat" % store_disk()[1]) as f:
            return block_writes(f.read())
    except (OSError, IndexError, ValueError):
        return None


def disk_writes_text(d0, d1, batches):
    """the disk's write requests between two disk_writes(), per batch"""
    if d0 is None or d1 is None or batches <= 0:
        return "the disk's write requests were not readable"
    reqs = d1[0] - d0[0]
    kb = (d1[1] - d0[1]) / 2.0
    return ("the stores' disk took %.0f write requests a batch, %.1f KB "
            "each on average (the whole disk's, over the run)" %
            (reqs / batches, kb / reqs if reqs else 0))


FLUSH_PAGES = 480
FLUSH_SPAN = 32768          # pages of the probe's file: 128 MB


def flush_probe_run(trials=15, span=FLUSH_SPAN):
    """how this disk's fdatasync() grows with scattered pages: the median
    time after writing FLUSH_PAGES pages of 4 KB at random places in a
    file of span pages, and after writing as many in one run, interleaved;
    in the stores' directory, before nginx has load"""
    path = os.path.join(PREFIX, "data", "flush-probe")
    page = os.urandom(4096)
    scattered, adjacent = [], []
    rnd = random.Random(7)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for i in range(0, span, 256):
            os.pwrite(fd, page * min(256, span - i), i * 4096)
        os.fsync(fd)
        run = page * FLUSH_PAGES
        for _ in range(trials):
            for p in rnd.sample(range(span), FLUSH_PAGES):
                os.pwrite(fd, page, p * 4096)
            t = time.perf_counter()
            os.fdatasync(fd)
            scattered.append(time.perf_counter() - t)
            os.pwrite(fd, run, rnd.randrange(span - FLUSH_PAGES) * 4096)
            t = time.perf_counter()
            os.fdatasync(fd)
            adjacent.append(time.perf_counter() - t)
    finally:
        os.close(fd)
        os.unlink(path)
    scattered.sort()
    adjacent.sort()
    return (1000 * scattered[len(scattered) // 2],
            1000 * adjacent[len(adjacent) // 2], span, trials)


def flush_probe_text(probe):
    scattered, adjacent, span, trials = probe
    return ("fdatasync() after writing %d pages of 4 KB: %.2f ms when "
            "scattered over %d MB, %.2f ms when in one run (median of %d "
            "each)" % (FLUSH_PAGES, scattered, span * 4096 >> 20, adjacent,
                       trials))


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    disk = "unknown"
    try:
        dev, base = store_disk()
        rot = open("/sys/block/%s/queue/rotational" % base).read().strip()
        virt = " (virtio, virtual disk: the rotational flag may not reflect " \
            "the backing storage)" if base.startswith("vd") else ""
        disk = "%s, %s, %s%s" % (dev[0], dev[1] if len(dev) > 1 else "?",
                                 "rotational" if rot == "1" else
                                 "non-rotational", virt)
    except (OSError, IndexError):
        pass
    if flush_probe:
        disk += "; " + flush_probe_text(flush_probe)
    hyper = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True,
                             text=True).stdout
        m = re.search(r"Hypervisor vendor:\s*(\S+)", out)
        if m:
            hyper = " (virtual machine, %s)" % m.group(1)
    except OSError:
        pass
    ngv = subprocess.run([NGINX, "-v"], capture_output=True,
                         text=True).stderr.strip()
    wv = subprocess.run(["wrk", "-v"], capture_output=True,
                        text=True).stdout.splitlines()
    return [
        "CPU: %s, %d cores%s" % (model, os.cpu_count(), hyper),
        "Kernel: %s %s" % (platform.system(), platform.release()),
        "Disk of the stores: %s" % disk,
        "nginx: %s, %d worker processes; load generator: %s, on the same "
        "cores" % (ngv.replace("nginx version: ", ""), WORKERS,
                   wv[0].split(" Copyright")[0] if wv else "wrk"),
    ]


def write_results(commit, started_at, elapsed):
    mode = "QUICK (scaled down: see the notes)" if QUICK else "full"
    out = ["<!-- generated by bench/run.sh; do not edit by hand -->",
           "", "Run of %s (%s mode, %.0f s), module at commit `%s`." %
           (started_at, mode, elapsed, commit), ""]
    out += ["* " + m for m in machine()]
    out += ["", table_md(), "",
            "CPU while each load ran (100% = one core; 2 cores = 200%):", "",
            "| run | req/s | nginx CPU | load generator CPU | rest of the "
            "machine |", "|---|---|---|---|---|"]
    for what, rps, n, w, o in cpu_rows:
        out.append("| %s | %.0f | %.0f%% | %.0f%% | %s |" %
                   (what, rps, n, w, "—" if o is None else "%.0f%%" % o))
    out += ["", "Notes:", ""] + ["* " + n for n in notes] + [""]
    with open(os.path.join(HERE, "results.md"), "w") as f:
        f.write("\n".join(out))


# ---- scenarios -------------------------------------------------------------

def other_load(seconds=2.0):
    """CPU used by other processes before the run: (percent of one core,
    the busiest processes)"""
    def snap():
        t = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/stat" % d) as f:
                        st = f.read()
                except OSError:
                    continue
                name = st[st.index("(") + 1:st.rindex(")")]
                fields = st[st.rindex(")") + 2:].split()
                t[int(d)] = (name, int(fields[11]) + int(fields[12]))
        return t
    m0, p0 = machine_cpu(), snap()
    time.sleep(seconds)
    m1, p1 = machine_cpu(), snap()
    busy = 100.0 * os.cpu_count() * (m1[1] - m0[1]) / max(1, m1[0] - m0[0])
    tck = os.sysconf("SC_CLK_TCK")
    top = []
    for pid, (name, t) in p1.items():
        if pid in p0 and pid != os.getpid():
            pct = 100.0 * (t - p0[pid][1]) / tck / seconds
            if pct >= 5:
                top.append((pct, name, pid))
    top.sort(reverse=True)
    return busy, top[:5]


NOISY = 25.0     # % of a core used by others during a run: run it again


def merged(a, b, worse):
    """two runs of one load as one: the mean rate and CPU, the worse p50
    and p99 (worse: max for a measurement, min for a baseline, whose
    latencies divide), the larger CPU of other processes, errors summed;
    the two rates kept for the notes"""
    res = dict(a)
    for k in ("rps", "nginx_cpu_pct", "wrk_cpu_pct"):
        res[k] = (a[k] + b[k]) / 2
    for k in ("p50_ms", "p99_ms"):
        res[k] = worse(a[k], b[k])
    res["other_cpu_pct"] = max(a["other_cpu_pct"], b["other_cpu_pct"])
    res["errors"] = a.get("errors", 0) + b.get("errors", 0)
    res["runs"] = (a["rps"], b["rps"])
    return res


def abba(fm, fb):
    """a measurement and its baseline in the order m, b, b, m: the host's
    speed drifts within a minute by more than a ratio's margin, and a
    steady drift moves the two sums alike, where m then b charges it all
    to one side. Returns (m, b), each merged from its two runs"""
    m1 = fm()
    b1 = fb()
    b2 = fb()
    m2 = fm()
    return merged(m1, m2, max), merged(b1, b2, min)


def quiet_pair(row_id, fm, fb, tries=3):
    """row row_id's measurement fm() and its baseline fb(), in ABBA order
    (abba()), until no run saw more than NOISY % of a core used by other
    processes, at most `tries` times; keeps the quietest attempt, says so
    in the notes, and notes each side's two rates"""
    name = "Scenario " + row_id
    best = None
    for i in range(tries):
        res = abba(fm, fb)
        noise = max(r["other_cpu_pct"] for r in res)
        if best is None or noise < best[0]:
            best = (noise, res)
        if noise <= NOISY:
            break
        log("%s: other processes used %.0f%% of a core: again" %
            (name, noise))
    if i:
        notes.append("%s was measured %d times because other processes "
                     "were busy; the quietest attempt is reported (others "
                     "used %.0f%% of a core during it)%s." %
                     (name, i + 1, best[0],
                      ": still noisy" if best[0] > NOISY else ""))
    m, b = best[1]
    pairs.append((row_id, m["runs"], b["runs"]))
    return best[1]


MOVED = 1.5      # row 5's runs alone differ more: the host moved


def alone_spread(a, b):
    """how far apart two p99s of the same load are, as a ratio >= 1"""
    return max(a, b) / max(min(a, b), 1e-6)


def steady_triple(fn, tries=3):
    """runs fn() (row 5's run alone, with starts and alone again, and the
    pacer's result) until its two runs alone agree within MOVED×, at most
    `tries` times: a p99 measured while the host moved under one of them
    compares nothing. Returns the attempt whose runs alone agree best, the
    number of attempts and that attempt's spread"""
    best = None
    for i in range(tries):
        res = fn()
        spread = alone_spread(res[0]["p99_ms"], res[2]["p99_ms"])
        if best is None or spread < best[0]:
            best = (spread, res)
        if spread <= MOVED:
            break
        log("scenario 5: its runs alone differ %.2f×: again" % spread)
    return best[1], i + 1, best[0]


def rss_growth(seen, pids):
    """the largest growth of one worker's RssAnon, in % of its value after
    the warm-up, from its lowest reading to its last: a leak only grows,
    while a fall (malloc handing pages back after the warm-up's peak) is
    not one, and growth after a fall still counts in full"""
    worst = 0.0
    for p in pids:
        low = min(x[p] for x in seen)
        worst = max(worst, (seen[-1][p] - low) * 100.0 / seen[0][p])
    return worst


def rss_anon(pids):
    out = {}
    for p in pids:
        with open("/proc/%d/status" % p) as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    out[p] = int(line.split()[1])
    return out


# ---- read paths on a large store: filtered list, purge, start and reload --
#
# One hub of the "big" store serves the three: P1 holds BIG Completed
# instances, then 1,000 Running ones (created after them); RK holds 1,000
# Running instances only, the filtered list's reference.

RUNNING, COMPLETED = 0, 1


def load_large_hubs():
    """fills P1 and RK; returns the loader's time for P1's terminal part"""
    lt = loader("big", "P1", BIG, status=COMPLETED)
    loader("big", "P1", SMALL, status=RUNNING)
    loader("big", "RK", SMALL, prefix="rk-", status=RUNNING)
    return lt


def scenario_list_random(p1, conns):
    """3c: paging over BIG instances with random ids, vs p1 (1K paging)"""
    path = "%s/instances?top=100&%s" % (B, q("R1", "big"))
    p3 = wrk("list paging, %dK hub, random ids" % (BIG // 1000), path,
             script="list_page.lua", conns=conns)
    big = "1M" if BIG == 1000000 else "%dK" % (BIG // 1000)
    ratio = p3["p50_ms"] / p1["p50_ms"]
    row("3c. as 3b, %s instances with client-chosen random ids" % big, p3,
        None, "1K: p50 %.2f ms" % p1["p50_ms"], ratio, "p50 ≤ 1.3× of 1K",
        ratio <= 1.3, base_p99=p1["p99_ms"])


def scenario_list_running(conns):
    """3d: runtimeStatus=Running pages over BIG + 1K instances vs 1K"""
    path = "%s/instances?top=100&runtimeStatus=Running&%s"
    f1 = wrk("list Running paging, 1K running hub", path % (B, q("RK", "big")),
             script="list_page.lua", conns=conns)
    f2 = wrk("list Running paging, %dK + 1K running hub" % (BIG // 1000),
             path % (B, q("P1", "big")), script="list_page.lua", conns=conns)
    big = "1M" if BIG == 1000000 else "%dK" % (BIG // 1000)
    ratio = f2["p50_ms"] / f1["p50_ms"]
    row("3d. list runtimeStatus=Running, paging, %s instances of which 1K "
        "running (vs 1K running)" % big, f2, None,
        "1K: p50 %.2f ms" % f1["p50_ms"], ratio, "p50 ≤ 1.5× of 1K",
        ratio <= 1.5, base_p99=f1["p99_ms"])


def paced_during(path, rate, work):
    """paced GETs of path from before work() starts until it returns:
    (wrk's result, work()'s result, work()'s seconds)"""
    cmd, env = wrk_cmd(path, "get.lua", conns=16, duration=3600,
                       env={"BENCH_RATE": str(rate)})
    pids = worker_pids() + [master_pid()]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    n0, m0, t0 = cpu_of(pids), machine_cpu(), time.time()
    g = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    children.append(g)
    time.sleep(1)
    w0 = time.time()
    out = work()
    secs = time.time() - w0
    # wrk prints its figures when interrupted
    g.send_signal(signal.SIGINT)
    gout, _ = g.communicate(timeout=60)
    wall = time.time() - t0
    res = parse_wrk(gout, "paced GETs")
    n1, m1 = cpu_of(pids), machine_cpu()
    # wrk has been waited for: its CPU is in the children's usage (work()
    # runs in this process)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    res["nginx_cpu_pct"] = 100 * (n1 - n0) / wall
    res["wrk_cpu_pct"] = 100 * ((ru1.ru_utime + ru1.ru_stime)
                                - (ru0.ru_utime + ru0.ru_stime)) / wall
    busy = 100.0 * os.cpu_count() * (m1[1] - m0[1]) / max(1, m1[0] - m0[0])
    res["other_cpu_pct"] = max(0.0, busy - res["nginx_cpu_pct"]
                               - res["wrk_cpu_pct"])
    return res, out, secs


LOOP_FAMILY = "durable_event_loop_busy_seconds"
LOOP_BUCKET_RE = re.compile(r'^%s_bucket\{le="([^"]+)"\} (\d+)$'
                            % LOOP_FAMILY)
# a loop sample over this many seconds fails row 9 (issue 16)
LOOP_STALL = 0.01
# the histogram's last finite bound (ngx_http_durable_metrics.c)
LOOP_LAST = 0.1


def loop_histogram(page):
    """the buckets of durable_event_loop_busy_seconds in a /metrics page
    (durable_task_loop_probe): {upper bound in s (+Inf: inf): count};
    empty when the page has none (the probe is off)"""
    h = {}
    for line in page.splitlines():
        m = LOOP_BUCKET_RE.match(line)
        if m:
            h[float(m.group(1))] = int(m.group(2))
    return h


def loop_window(h0, h1):
    """what the probe counted between two readings of its histogram:
    ticks (samples), over (samples above LOOP_STALL), largest (the
    smallest bound every sample is under, inf when one is over the last
    bound; None without samples); None when the page had no histogram"""
    if not h1 or float("inf") not in h1 or LOOP_STALL not in h1:
        return None
    d = {b: n - h0.get(b, 0) for b, n in h1.items()}
    ticks = d[float("inf")]
    return {"ticks": ticks, "over": ticks - d[LOOP_STALL],
            "largest": min(b for b, n in d.items() if n == ticks)
            if ticks else None}


def loop_text(w):
    """a window of loop_window(), for the row and the log"""
    if w is None:
        return "no loop probe"
    if not w["ticks"]:
        return "0 loop ticks"
    b = w["largest"]
    return "%d loop ticks, %d over %g ms, largest %s" % (
        w["ticks"], w["over"], LOOP_STALL * 1000,
        "> %g ms" % (LOOP_LAST * 1000)
        if b == float("inf") else "≤ %g ms" % (b * 1000))


def purge_ok(ratio, loop):
    """row 9's judgement: GET p99 within 2x idle, and the probe ticked
    during the purge with no sample above LOOP_STALL (no ticks, or no
    probe, is no evidence: a failure)"""
    return (ratio <= 2 and loop is not None and loop["ticks"] > 0
            and loop["over"] == 0)


def loop_read(c):
    """the probe's histogram now (every worker process's samples)"""
    s, _, body = c.req("GET", "/metrics")
    if s != 200:
        sys.exit("bench: GET /metrics: %d" % s)
    return loop_histogram(body.decode())


def scenario_purge(rate):
    """9: purge by filter of P1's BIG Completed instances; status GETs of
    an instance of the same store paced alongside, against the same
    pacing idle; the event loop judged by its own probe
    (durable_task_loop_probe), read before and after each pacing"""
    st_path = "%s/instances/rk-0?%s" % (B, q("RK", "big"))
    g_env = {"BENCH_RATE": str(rate)}
    mc = Client()
    h0 = loop_read(mc)
    idle = wrk("status paced %d/s, before the purge" % rate, st_path,
               conns=16, env=g_env)
    h1 = loop_read(mc)
    loop_idle = loop_window(h0, h1)
    log("event loop, idle pacing: %s" % loop_text(loop_idle))
    purge_path = "%s/instances?createdTimeFrom=1970-01-01T00:00:00Z&" \
        "runtimeStatus=Completed&%s" % (B, q("P1", "big"))

    def purge():
        c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=3600)
        c.request("DELETE", purge_path)
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body

    h2 = loop_read(mc)
    res, (st, body), secs = paced_during(st_path, rate, purge)
    h3 = loop_read(mc)
    reported("status paced %d/s, during the purge" % rate, res, "wrk")
    loop = loop_window(h2, h3)
    log("event loop, purge pacing: %s" % loop_text(loop))
    if st != 200:
        sys.exit("bench: purge by filter: %d %s" % (st, body[:200]))
    deleted = json.loads(body)["instancesDeleted"]
    ratio = res["p99_ms"] / idle["p99_ms"]
    big = "1M" if BIG == 1000000 else "%dK" % (BIG // 1000)
    row("9. purge by filter, %s terminal instances: status GET at %d/s "
        "during it" % (big, rate), res, None,
        "purge %.1f s (%.0f instances/s); %s (idle: %s); longest GET "
        "%.2f ms (idle: %.2f ms); p99 idle %.2f ms"
        % (secs, deleted / secs, loop_text(loop), loop_text(loop_idle),
           res["max_ms"], idle["max_ms"], idle["p99_ms"]),
        ratio, "GET p99 ≤ 2× idle, no event-loop sample > 10 ms",
        purge_ok(ratio, loop), base_p99=idle["p99_ms"])
    notes.append("Scenario 9: DELETE instances?runtimeStatus=Completed on a "
                 "hub of %d Completed and 1,000 Running instances (bench/"
                 "loader -S); %d deleted in %.1f s, in batches of "
                 "durable_task_purge_batch (1,000) and "
                 "durable_task_purge_batch_time (5 ms) at most, in the "
                 "store's own thread, paced by "
                 "durable_task_purge_pace (50: the writer busy half of "
                 "the time at most). Status GETs of an "
                 "instance of the same store paced "
                 "at %d/s by wrk from 1 s before the purge to its end. The "
                 "event loop is judged by its own probe "
                 "(durable_task_loop_probe 1ms: each worker's event-loop "
                 "CPU time between two ticks, durable_event_loop_busy_"
                 "seconds, read from /metrics before and after each "
                 "pacing): during the purge %s (idle pacing: %s). The "
                 "longest GET, %.2f ms (idle: %.2f ms), is information: "
                 "on a shared host it includes the time nginx waits for "
                 "a core, as the idle figure shows." % (
                     BIG, deleted, secs, rate, loop_text(loop),
                     loop_text(loop_idle), res["max_ms"], idle["max_ms"]))


def commit_totals(c):
    """the group-commit counters of /metrics: batches, writes, seconds,
    seconds of those waited for the write lock (every store's: scenario 6
    writes to one store only)"""
    s, _, body = c.req("GET", "/metrics")
    v = {}
    for line in body.decode().splitlines():
        for k in ("durable_commit_batch_writes_sum",
                  "durable_commit_batch_writes_count",
                  "durable_commit_seconds_sum",
                  "durable_write_lock_wait_seconds_total"):
            if line.startswith(k + " "):
                v[k] = float(line.split()[1])
    return (v.get("durable_commit_batch_writes_count", 0),
            v.get("durable_commit_batch_writes_sum", 0),
            v.get("durable_commit_seconds_sum", 0),
            v.get("durable_write_lock_wait_seconds_total", 0))


def scenario_e2e(c, one=False):
    """(6) bench/worker runs hello-sequences end to end on store fs (or
    BENCH_E2E_STORE's); one: 6′, the same with one worker process, for
    information"""
    pids = worker_pids() + [master_pid()]
    cmd = [os.path.join(BIN, "worker"), "-p", str(PORT), "-B", B,
           "-q", q("E2E", E2E_STORE), "-d", str(E2E_SECS), "-w", "3",
           "-s", str(E2E_STARTERS), "-c", str(max(1, E2E_RUNNERS // 2)),
           "-i", str(E2E_INFLIGHT), "-P", ",".join(map(str, pids))]
    log("end to end: %s" % " ".join(cmd))
    k0 = commit_totals(c)
    d0 = disk_writes()
    t0 = time.time()
    w = subprocess.run(cmd, capture_output=True, text=True,
                       timeout=E2E_SECS + 60)
    wall = max(1e-3, time.time() - t0)
    d1 = disk_writes()
    k1 = commit_totals(c)
    # over the worker's whole run, its warm-up included
    nb = max(1, k1[0] - k0[0])
    batch_writes = (k1[1] - k0[1]) / nb
    batch_ms = 1000 * (k1[2] - k0[2]) / nb
    lock_ms = 1000 * (k1[3] - k0[3]) / nb
    # the lock is one for all processes: their batches' time less their
    # waits is about the time it was held (and the meta page's flushes
    # after it), out of the run's
    held_pct = 100 * max(0.0, (k1[2] - k0[2]) - (k1[3] - k0[3])) / wall
    if w.returncode:
        sys.exit("bench: worker failed: " + w.stderr)
    e2e = json.loads(w.stdout.strip().splitlines()[-1])
    if w.stderr.strip():
        log("worker: " + w.stderr.strip()[:500])
    # check one finished instance
    s, _, body = c.req("GET", "%s/instances?runtimeStatus=Completed&top=1&%s"
                       % (B, q("E2E", E2E_STORE)))
    done = json.loads(body)
    check = "no completed instance found"
    nev = 0
    if done:
        check = "sample output %s" % json.dumps(done[0].get("output"))
        s, _, body = c.req("GET", "%s/instances/%s?showHistory=true&%s" % (
            B, done[0]["instanceId"], q("E2E", E2E_STORE)))
        nev = len(json.loads(body).get("historyEvents") or [])
    secs = e2e["seconds"]
    ncpu = e2e["nginx_cpu_s"] / secs * 100
    wcpu = e2e["worker_cpu_s"] / secs * 100
    # history events: as the showHistory view counts those of one finished
    # instance; per core: of the CPU nginx used, and of the machine's
    evs = e2e["orchestrations_per_s"] * nev
    ev_core = evs / (ncpu / 100) if ncpu else 0
    wis = e2e.get("work_items_per_s", 0)
    log("end to end: %.0f orchestrations/s, %.0f requests/s, nginx %.0f%% "
        "CPU, worker %.0f%% CPU, machine busy %.0f%%, iowait %.0f%%; "
        "%d history events each, %.0f events/s; %s" %
        (e2e["orchestrations_per_s"], e2e["requests_per_s"], ncpu, wcpu,
         e2e["machine_busy_pct"], e2e["iowait_pct"], nev, evs, check))
    if one:
        rows.append({
            "scenario": "6′. as 6, one nginx worker process",
            "rps": "%.0f orch/s (%.0f HTTP req/s)" % (
                e2e["orchestrations_per_s"], e2e["requests_per_s"]),
            "p50": "—", "p99": "—",
            "base": "CPU: nginx %.0f%%, worker %.0f%%; batches of %.0f "
                    "writes, %.1f ms each, %s disk writes each" % (
                        ncpu, wcpu, batch_writes, batch_ms,
                        "%.0f" % ((d1[0] - d0[0]) / nb)
                        if d0 and d1 else "?"),
            "ratio": "—", "target": "(information)", "result": "info",
        })
        notes.append("Scenario 6′: as 6, after a reload to one nginx "
                     "worker process (then back to %d), on the store row "
                     "6 filled: one writer thread, whose task has LMDB's "
                     "write lock to itself and takes the next batch while "
                     "the loop answers the last; %.0f orchestrations/s, "
                     "%d errors." % (WORKERS_ALL, e2e["orchestrations_per_s"],
                                     e2e["errors"]))
        return
    rows.append({
        "scenario": "6. end to end: hello-sequence (5 activities), %s"
                    % E2E_SYNC[E2E_STORE],
        "rps": "%.0f orch/s (%.0f HTTP req/s)" % (
            e2e["orchestrations_per_s"], e2e["requests_per_s"]),
        "p50": "—", "p99": "—",
        "base": "CPU: nginx %.0f%%, worker %.0f%%; %.0f work items/s "
                "(%.0f per core of the machine); %.0f history events/s, "
                "%.0f per core of nginx CPU, %.0f per core of the machine" %
                (ncpu, wcpu, wis, wis / os.cpu_count(), evs, ev_core,
                 evs / os.cpu_count()),
        "ratio": "—", "target": "≥ 3,000 orch/s",
        "result": "pass" if e2e["orchestrations_per_s"] >= 3000 else "FAIL",
    })
    cpu_rows.append(("end to end (load generator = bench/worker)",
                     e2e["requests_per_s"], ncpu, wcpu,
                     max(0.0, e2e["machine_busy_pct"] * os.cpu_count()
                         - ncpu - wcpu)))
    notes.append("Scenario 6: bench/worker.c (C): %d starter "
                 "threads keep at most %d orchestrations in flight; %d "
                 "runners, each on its own keep-alive connection, send the "
                 "completions of the items they hold in one request (the "
                 "array form) with claim= of the other kind (max=100), so "
                 "that its answer brings their next items: one request and "
                 "one batch per step; a runner that holds nothing claims "
                 "(wait=1). Work items: completions answered 200 "
                 "(episodes and activities, 11 per orchestration). "
                 "History events per orchestration: %d (the "
                 "showHistory view of a finished one); per core: of the "
                 "CPU nginx used (the worker's is not counted), and of the "
                 "machine's %d cores, shared with the worker. "
                 "Measured %.0f s after a 3 s warm-up: %d orchestrations "
                 "completed, %d started, %d HTTP requests, %d errors; CPU "
                 "(100%% = one core): nginx %.0f%%, worker %.0f%%, whole "
                 "machine busy %.0f%%, iowait %.0f%%. %s." %
                 (E2E_STARTERS, E2E_INFLIGHT,
                  2 * max(1, E2E_RUNNERS // 2), nev,
                  os.cpu_count(), secs,
                  e2e["completed"], e2e["started"], e2e["requests"],
                  e2e["errors"], ncpu, wcpu, e2e["machine_busy_pct"],
                  e2e["iowait_pct"], check[0].upper() + check[1:]))
    # what bounds the row: the worker's own counts, and the CPU of one
    # orchestration on each side (the rate one core of each could carry)
    n = max(1, e2e["completed"])
    ng_ms = 1000 * e2e["nginx_cpu_s"] / n
    wk_ms = 1000 * e2e["worker_cpu_s"] / n
    notes.append("Scenario 6, what bounds it: %.0f orchestrations in "
                 "flight on average; %.1f completions per runner request "
                 "(%d requests); %d claims of idle runners, %d of them "
                 "empty; a start answered in %.1f ms on average (each "
                 "starter has one start in flight, so starts/s ≈ starters "
                 "/ that time). Batches (the whole run, warm-up "
                 "included): %.0f writes each on average, %.1f ms from "
                 "the batch's start to its commit, of which %.1f ms "
                 "waiting for LMDB's write lock while another process's "
                 "batch held it; the batches' time less their "
                 "waits, summed over the processes, was %.0f%% of the "
                 "run's (it counts each commit's flush of the meta page, "
                 "made after the lock is let go, so it may pass 100%%: "
                 "near it, the lock is seldom free); %s. CPU per "
                 "orchestration: nginx %.2f ms "
                 "(%.0f orchestrations/s, %.0f work items/s per core), "
                 "worker %.2f ms (%.0f orchestrations/s per core)." %
                 (e2e.get("inflight_avg", 0),
                  e2e.get("items_per_complete", 0), e2e.get("completes", 0),
                  e2e.get("idle_claims", 0), e2e.get("idle_claims_empty", 0),
                  e2e.get("start_ms", 0), batch_writes, batch_ms, lock_ms,
                  held_pct, disk_writes_text(d0, d1, nb), ng_ms,
                  1000 / ng_ms if ng_ms else 0,
                  11000 / ng_ms if ng_ms else 0, wk_ms,
                  1000 / wk_ms if wk_ms else 0))


def scenario_e2e_one(bodies):
    """(6′) row 6 with one worker process: nginx reloaded to one and back"""
    global WORKERS
    if WORKERS == 1:
        return
    WORKERS = 1
    reload_nginx(bodies)
    scenario_e2e(Client(), one=True)
    WORKERS = WORKERS_ALL
    reload_nginx(bodies)


def first_answer(path, limit=60.0):
    """seconds until path answers 200, polled every millisecond"""
    t0 = time.time()
    while time.time() - t0 < limit:
        try:
            c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            c.close()
            if r.status == 200:
                return time.time() - t0
        except OSError:
            pass
        time.sleep(0.001)
    sys.exit("bench: %s did not answer within %.0f s" % (path, limit))


def scenario_start_reload():
    """10: nginx started, then reloaded, with the big store (every hub
    the bench loaded): time to the first answer of a list on it, against
    a return 200 of the same start"""
    path = "%s/instances?top=1&%s" % (B, q("M1", "big"))
    stop_nginx()
    global nginx_started
    t0 = time.time()
    subprocess.run(nginx_cmd(), check=True)
    nginx_started = True
    first_answer("/baseline/status")
    base = time.time() - t0
    first_answer(path)
    dur = time.time() - t0
    old = set(worker_pids())
    t0 = time.time()
    subprocess.run(nginx_cmd("-s", "reload"), check=True)
    for _ in range(4000):
        now = set(worker_pids())
        if len(now) == WORKERS and not (now & old):
            break
        time.sleep(0.001)
    first_answer(path)
    rel = time.time() - t0
    row("10. nginx start, then reload, with the big store (%d instances)" %
        (2 * BIG + 3 * SMALL), None, None,
        "start: first list %.0f ms (return 200: %.0f ms); reload: new "
        "workers answering in %.0f ms" % (dur * 1000, base * 1000,
                                          rel * 1000),
        None, "time reported; no scan of the store at start", None)
    notes.append("Scenario 10: times from the nginx command to the first "
                 "200 of a list on the big store (polled every ms on a new "
                 "connection), and from `nginx -s reload` until every worker "
                 "is new and the list answers. Opening a store reads no "
                 "table: mdb_env_open, the reader table check, the named "
                 "databases opened and one read of the counts' mark (a "
                 "store made before the counts is counted once, then "
                 "marked).")


def scenario_start_sync():
    """(4a) durable starts at START_CONNS connections against the one-put
    commit loop: the row added, (result, loop rate, loop p99) returned"""
    cl_dir = os.path.join(PREFIX, "data", "commitloop")
    os.makedirs(cl_dir, exist_ok=True)
    out = subprocess.run([os.path.join(BIN, "commitloop"), cl_dir,
                          str(min(DUR, 5))], capture_output=True, text=True)
    m = re.search(r"rate ([\d.]+)", out.stdout)
    if not m:
        sys.exit("bench: commitloop: " + out.stdout + out.stderr)
    loop_rate = float(m.group(1))
    mp = re.search(r"p99 ([\d.]+)", out.stdout)
    loop_p99 = float(mp.group(1)) if mp else None
    log("commit loop (one put per fsync'd mdb_txn_commit): %.0f commits/s" %
        loop_rate)
    s_fs = wrk("start, sync=on, %d connections" % START_CONNS,
               "%s/orchestrators/Hello?%s" % (B, q("Starts", "fs")),
               script="post.lua", conns=START_CONNS)
    ratio = s_fs["rps"] / loop_rate
    row("4a. start (POST orchestrators), sync=on, %d connections" %
        START_CONNS, s_fs, loop_rate,
        "%.0f commits/s (one-put commit loop)" % loop_rate, ratio,
        "≥ 25× commit loop", ratio >= 25, base_p99=loop_p99)
    return s_fs, loop_rate, loop_p99


def scenario_start_relaxed(bodies):
    """(4b) relaxed starts at START_CONNS connections against return 200
    of the same size (bodies["start"], served by the configuration):
    the row added, (result, baseline) returned"""
    s_ns, b4 = quiet_pair(
        "4b",
        lambda: wrk("start, sync=off, %d connections" % START_CONNS,
                    "%s/orchestrators/Hello?%s" % (B, q("Starts", "nosync")),
                    script="post.lua", conns=START_CONNS),
        lambda: wrk("baseline start (%d B), %d connections" %
                    (bodies["start"], START_CONNS), "/baseline/start",
                    script="post.lua", conns=START_CONNS))
    ratio = s_ns["rps"] / b4["rps"]
    row("4b. start, sync=off (relaxed), %d connections" % START_CONNS, s_ns,
        b4["rps"], None, ratio, "≥ 0.7× return 200", ratio >= 0.7,
        base_p99=b4["p99_ms"])
    return s_ns, b4


def status_data(c):
    """the small instance and the 50-event history of rows 1 and 2, made
    through the worker protocol: their paths and answers' sizes"""
    log("creating the small instance and the 50-event history through the "
        "worker protocol")
    run_sequence(c, "Bench", "fs", "small-1", 0)
    # how many showHistory events an activity adds (the view may merge
    # TaskScheduled into TaskCompleted): calibrate, then aim at 50
    run_sequence(c, "Bench", "fs", "probe-2", 2)
    e0 = history_count(c, "small-1")
    e2 = history_count(c, "probe-2")
    per = max(1, (e2 - e0) // 2)
    acts = max(0, round((50 - e0) / per))
    log("showHistory: %d events without activities, %d per activity: "
        "%d activities" % (e0, per, acts))
    run_sequence(c, "Bench", "fs", "hist-50", acts)
    st_path = "%s/instances/small-1?%s" % (B, q("Bench", "fs"))
    hist_path = "%s/instances/hist-50?showHistory=true&%s" % \
        (B, q("Bench", "fs"))
    s, _, small_body = c.req("GET", st_path)
    s2, _, hist_body = c.req("GET", hist_path)
    nev = len(json.loads(hist_body).get("historyEvents", []))
    if s != 200 or s2 != 200:
        sys.exit("bench: status answers %d / %d" % (s, s2))
    log("small status: %d bytes; history: %d events, %d bytes" %
        (len(small_body), nev, len(hist_body)))
    return {"st_path": st_path, "hist_path": hist_path, "events": nev,
            "status": len(small_body), "history": len(hist_body)}


def scenario_status(sd, bodies):
    """(1) and (2): status GETs against return 200 of their sizes, nginx
    reloaded with those baselines; row 1's figures"""
    c = Client()
    s, _, b = c.req("GET", "/baseline/history")
    if len(b) != bodies["history"]:
        sys.exit("bench: baseline body %d bytes, expected %d" %
                 (len(b), bodies["history"]))

    # warm up both paths
    wrk("warm-up (not reported)", sd["st_path"], duration=2)
    cpu_rows.pop()

    # ---- (1) status of a small instance ----
    r1, b1 = quiet_pair(
        "1", lambda: wrk("status small", sd["st_path"]),
        lambda: wrk("baseline status (%d B)" % bodies["status"],
                    "/baseline/status"))
    ratio = r1["rps"] / b1["rps"]
    row("1. GET status, small instance (%d B)" % bodies["status"], r1,
        b1["rps"], None, ratio, "≥ 0.7× return 200", ratio >= 0.7,
        base_p99=b1["p99_ms"])

    # ---- (2) status with 50 history events ----
    r2, b2 = quiet_pair(
        "2",
        lambda: wrk("status showHistory (%d events)" % sd["events"],
                    sd["hist_path"]),
        lambda: wrk("baseline history (%d B)" % bodies["history"],
                    "/baseline/history"))
    ratio = r2["rps"] / b2["rps"]
    row("2. GET status showHistory=true, %d events (%d B)" %
        (sd["events"], bodies["history"]), r2, b2["rps"], None, ratio,
        "≥ 0.7× return 200", ratio >= 0.7, base_p99=b2["p99_ms"])
    return r1


def only_rows():
    """BENCH_ROWS: the rows named, printed; results.md is left alone"""
    want = set(ROWS.split(","))
    if not want <= {"1", "2", "3c", "4a", "4b", "6", "9"}:
        sys.exit("bench: BENCH_ROWS=%s: only 1, 2, 3c, 4a, 4b, 6 and 9 can "
                 "run alone" % ROWS)
    if want & {"1", "2"}:
        # both: the data and the reload are shared
        sd = status_data(Client())
        reload_nginx({"status": sd["status"], "history": sd["history"],
                      "list": 1, "start": 1})
        scenario_status(sd, {"status": sd["status"],
                             "history": sd["history"]})
    if "3c" in want:
        loader("big", "K1", SMALL)
        loader("big", "R1", BIG, random_ids=True)
        p1 = wrk("list paging, 1K hub", "%s/instances?top=100&%s"
                 % (B, q("K1", "big")), script="list_page.lua", conns=1)
        scenario_list_random(p1, 1)
    if "4a" in want:
        scenario_start_sync()
    if "4b" in want:
        s, _, body = Client().req("POST", "%s/orchestrators/Hello?%s" %
                                  (B, q("Sizes", "nosync")), {"n": 1})
        if s != 202:
            sys.exit("bench: a start answered %d" % s)
        bodies = {"status": 1, "history": 1, "list": 1,
                  "start": len(body)}
        reload_nginx(bodies)
        scenario_start_relaxed(bodies)
    if "6" in want:
        scenario_e2e(Client())
    if "9" in want:
        lt = load_large_hubs()
        log("P1: %d Completed instances in %.1f s" % (BIG, lt[0]))
        scenario_purge(GET_RATE)
    pairs_note()
    stop_nginx()
    print()
    print(table_text())
    print()
    for n in notes:
        print("* " + n)


def pairs_note():
    """the note of quiet_pair()'s runs, when any ran"""
    if not pairs:
        return
    runs = ["%s %.0f and %.0f against %.0f and %.0f (%.2f×, %.2f×)" %
            (row_id, m[0], m[1], b[0], b[1], m[0] / b[0], m[1] / b[1])
            for row_id, m, b in pairs]
    notes.append("Rows %s ran in the order measurement, baseline, "
                 "baseline, measurement: a side's req/s is the mean of "
                 "its two runs, its p50 and p99 the worse of the two (a "
                 "measurement's larger, a baseline's smaller), and the "
                 "ratio that of the sums, so that a host whose speed "
                 "drifts during the four runs moves both sides alike. "
                 "req/s of each row's measurement, first and second run, "
                 "against its baseline's, first and second, then the "
                 "ratios of the first runs and of the second: %s."
                 % (", ".join(r for r, _, _ in pairs), "; ".join(runs)))


def dirty(root):
    """whether a tracked file of the clone at root differs from its commit;
    the run's own outputs, left by the run before, do not count"""
    changed = subprocess.run(["git", "-C", root, "status", "--porcelain",
                              "--untracked-files=no", "--", ".",
                              ":!bench/results.md", ":!docs/benchmarks.md"],
                             capture_output=True, text=True).stdout.strip()
    return changed != ""


def e2e_store_refused(store, rows):
    """why BENCH_E2E_STORE cannot be used in this run, or None"""
    if store not in E2E_SYNC:
        return "BENCH_E2E_STORE=%s: fs or nosyncpool" % store
    if store != "fs" and not rows:
        return ("BENCH_E2E_STORE=%s is for BENCH_ROWS=6 runs: results.md "
                "judges row 6 with sync=on" % store)
    return None


def main():
    t_start = time.time()
    started_at = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC")
    commit = subprocess.run(["git", "-C", ROOT, "describe", "--always"],
                            capture_output=True,
                            text=True).stdout.strip() or "unknown"
    if dirty(ROOT):
        commit += "-dirty"
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    refused = e2e_store_refused(E2E_STORE, ROWS)
    if refused:
        sys.exit("bench: " + refused)

    busy, top = other_load()
    load_note = "Other load on the machine before the run: %.0f%% of one " \
        "core busy%s." % (busy, (" (" + ", ".join(
            "%s %.0f%%" % (n, p) for p, n, _ in top) + ")") if top else "")
    log(load_note)
    if busy > 20:
        log("WARNING: the machine is not idle; the figures will be noisy")
    global flush_probe
    log("starting nginx on port %d (prefix %s)" % (PORT, PREFIX))
    start_nginx()
    flush_probe = flush_probe_run()
    log("disk of the stores: " + flush_probe_text(flush_probe))
    if ROWS:
        only_rows()
        return
    c = Client()

    # ---- data ----
    sd = status_data(c)

    lt1k = loader("big", "K1", SMALL)
    ltbig = loader("big", "M1", BIG)
    ltrnd = loader("big", "R1", BIG, random_ids=True)
    loader("nosync", "Mixed", 1000, "m-")
    lt_p1 = load_large_hubs()
    notes.append("Loader (bench/loader.c, store library, 50,000 starts per "
                 "transaction): %d instances in %.1f s (%d/s) with ids made "
                 "the way the module makes them (milliseconds of the "
                 "created time, then random digits: a hub filled by starts "
                 "without ids), %.1f s (%d/s) with 32 random hex digits "
                 "(ids a client chose), %.1f s (%d/s) put Completed "
                 "(scenario 9's hub)." %
                 (BIG, ltbig[0], ltbig[1], ltrnd[0], ltrnd[1], lt_p1[0],
                  lt_p1[1]))

    start_path = "%s/orchestrators/Hello?%s" % (B, q("Sizes", "nosync"))
    s, _, start_body = c.req("POST", start_path, {"n": 1})
    list_path = "%s/instances?top=100&%s" % (B, q("K1", "big"))
    s, _, list_body = c.req("GET", list_path)
    get_instance = grpc_message([(1, b"small-1")])
    gs, grpc_body = grpc_call("/TaskHubSidecarService/GetInstance",
                              get_instance, ["taskhub: Bench"])
    if gs != 0 or len(grpc_body) < 6:
        sys.exit("bench: GetInstance over gRPC: grpc-status %s, %d bytes" %
                 (gs, len(grpc_body)))
    bodies = {"status": sd["status"], "history": sd["history"],
              "start": len(start_body), "list": len(list_body),
              "grpc": len(grpc_body)}
    log("baseline bodies: %s; reloading nginx" % bodies)
    reload_nginx(bodies)
    c = Client()
    r1 = scenario_status(sd, bodies)
    st_path = sd["st_path"]

    # ---- (3) list top=100: 1K vs big hub ----
    # one connection: the latency of a page, not of a queue behind it
    # (with few connections the kernel may give one worker all of them)
    lc = 1
    l1 = wrk("list top=100, 1K hub", list_path, conns=lc)
    lbig_path = "%s/instances?top=100&%s" % (B, q("M1", "big"))
    l2 = wrk("list top=100, %dK hub" % (BIG // 1000), lbig_path, conns=lc)
    lb = wrk("baseline list (%d B)" % bodies["list"], "/baseline/list",
             conns=lc)
    ratio = l2["p50_ms"] / l1["p50_ms"]
    big = "1M" if BIG == 1000000 else "%dK" % (BIG // 1000)
    row("3a. list top=100, first page, %s instances (vs 1K)" % big, l2,
        None, "1K: p50 %.2f ms, p99 %.2f ms, %.0f req/s (return 200: %.0f)"
        % (l1["p50_ms"], l1["p99_ms"], l1["rps"], lb["rps"]), ratio,
        "p50 ≤ 1.5× of 1K", ratio <= 1.5, base_p99=l1["p99_ms"])
    p1 = wrk("list paging, 1K hub", list_path, script="list_page.lua",
             conns=lc)
    p2 = wrk("list paging, %dK hub" % (BIG // 1000), lbig_path,
             script="list_page.lua", conns=lc)
    ratio = p2["p50_ms"] / p1["p50_ms"]
    row("3b. list top=100, continuation paging, %s (vs 1K)" % big, p2,
        None, "1K: p50 %.2f ms, p99 %.2f ms" % (p1["p50_ms"], p1["p99_ms"]),
        ratio, "p50 ≤ 1.5× of 1K", ratio <= 1.5, base_p99=p1["p99_ms"])
    scenario_list_random(p1, lc)
    scenario_list_running(lc)
    notes.append("List runs use %d connections; paging follows "
                 "x-ms-continuation-token (bench/lua/list_page.lua) and "
                 "starts over at the end of the hub. A page reads its 100 "
                 "records by id: with the module's ids they sit in creation "
                 "order in the store (3b); with random ids every record is "
                 "on a page of its own, mostly out of the CPU caches (3c)."
                 % lc)

    # ---- (4) starts ----
    s_fs, loop_rate, loop_p99 = scenario_start_sync()
    s_fs32 = wrk("start, sync=on, %d connections" % CONNS,
                 "%s/orchestrators/Hello?%s" % (B, q("Starts", "fs")),
                 script="post.lua")
    row("4a′. as 4a, %d connections" % CONNS, s_fs32, loop_rate,
        "%.0f commits/s" % loop_rate, s_fs32["rps"] / loop_rate,
        "(information)", None, base_p99=loop_p99)
    s_ns, b4 = scenario_start_relaxed(bodies)
    # 4a's target in absolute terms, against nginx's own rate: on a fast
    # disk, 25 commit loops may ask for more than return 200 answers
    notes.append("Scenario 4a's target, 25 × the commit loop, is %.0f "
                 "starts/s in this run; return 200 answered %.0f POSTs/s "
                 "at the same %d connections (4b's baseline), so the "
                 "target is %.2f× nginx's own rate on this host%s. 4a "
                 "reached %.2f× return 200, and %.2f× the relaxed starts "
                 "of 4b (the cost of waiting for the disk)."
                 % (25 * loop_rate, b4["rps"], START_CONNS,
                    25 * loop_rate / b4["rps"],
                    " (out of reach of any module)"
                    if 25 * loop_rate > b4["rps"] else "",
                    s_fs["rps"] / b4["rps"], s_fs["rps"] / s_ns["rps"]))
    # the tail: no start waits behind more than one batch
    tail = max(s_fs["p99_ms"], s_ns["p99_ms"]) / b4["p99_ms"]
    row("4c. p99 of starts at %d connections, the worse of 4a and 4b, vs "
        "return 200's p99" % START_CONNS, None, None,
        "p99 4a %.2f ms, 4b %.2f ms" % (s_fs["p99_ms"], s_ns["p99_ms"]),
        tail, "≤ 3× return 200's p99", tail <= 3, base_p99=b4["p99_ms"])
    s_ns32, b432 = quiet_pair(
        "4b′",
        lambda: wrk("start, sync=off, %d connections" % CONNS,
                    "%s/orchestrators/Hello?%s" % (B, q("Starts", "nosync")),
                    script="post.lua"),
        lambda: wrk("baseline start (%d B), %d connections" %
                    (bodies["start"], CONNS), "/baseline/start",
                    script="post.lua"))
    row("4b′. as 4b, %d connections" % CONNS, s_ns32, b432["rps"], None,
        s_ns32["rps"] / b432["rps"], "(information)", None,
        base_p99=b432["p99_ms"])
    s_nsp = wrk("start, sync=off writes=thread, %d connections" % START_CONNS,
                "%s/orchestrators/Hello?%s" % (B, q("Starts", "nosyncpool")),
                script="post.lua", conns=START_CONNS)
    row("4b″. as 4b, writes=thread (the default: commits in the pool)",
        s_nsp, b4["rps"], None, s_nsp["rps"] / b4["rps"], "(information)",
        None, base_p99=b4["p99_ms"])
    notes.append("Start runs: body {\"n\":1}, no id (the module makes "
                 "them), %d connections (group commit shares a commit "
                 "among the writes that arrive together: the more clients, "
                 "the larger the batches; 4a′ and 4b′ show %d, and the "
                 "baseline of 4b′ runs with %d too); store nosync commits "
                 "in the event loop (writes=loop), store nosyncpool (4b″, "
                 "against 4b's baseline) in the thread pool; the commit loop "
                 "(bench/commitloop.c) runs in its own environment on the "
                 "same filesystem." % (START_CONNS, CONNS, CONNS))

    # ---- (5) GET p99 with starts alongside ----
    get_rate = GET_RATE
    if r1["rps"] * 0.5 < get_rate:
        get_rate = round(r1["rps"] * 0.5)
        notes.append("Scenario 5: the paced GET rate was lowered to %d/s "
                     "(half the measured status capacity)." % get_rate)
    g_env = {"BENCH_RATE": str(get_rate)}

    def triple():
        g0 = wrk("status paced %d/s, alone" % get_rate, st_path, conns=16,
                 env=g_env)
        cmd, env = wrk_cmd("%s/orchestrators/Hello?%s" % (B, q("Load", "fs")),
                           "post.lua", conns=32, duration=DUR + 2,
                           env={"BENCH_RATE": str(START_RATE)})
        pacer = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        children.append(pacer)
        time.sleep(1)
        g1 = wrk("status paced %d/s, with starts" % get_rate, st_path,
                 conns=16, env=g_env)
        pout, perr = pacer.communicate()
        pr = parse_wrk(pout, "start pacer")
        g0b = wrk("status paced %d/s, alone again" % get_rate, st_path,
                  conns=16, env=g_env)
        return g0, g1, g0b, pr

    (g0, g1, g0b, pr), tries, spread = steady_triple(triple)
    if tries > 1:
        notes.append("Scenario 5 was measured %d times: the p99s of its "
                     "two runs alone differed by more than %.1f× (the host "
                     "moved under them); the attempt whose runs alone agree "
                     "best is reported (%.2f×)%s." %
                     (tries, MOVED, spread,
                      ": still apart" if spread > MOVED else ""))
    # other load on the machine moves p99; the lower of the two "alone"
    # runs is the reference (the stricter comparison)
    alone = (g0["p99_ms"], g0b["p99_ms"])
    if g0b["p99_ms"] < g0["p99_ms"]:
        g0 = g0b
    log("start pacer: %.0f starts/s achieved (target %.0f), p99 %.2f ms" %
        (pr["rps"], START_RATE, pr["p99_ms"]))
    ratio = g1["p99_ms"] / g0["p99_ms"]
    ok = ratio <= 2 and pr["rps"] >= 0.9 * START_RATE
    row("5. GET status p99 at %d/s, with %.0f starts/s (sync=on) alongside"
        % (get_rate, pr["rps"]), g1, None,
        "p99 alone %.2f ms (runs before/after: %.2f / %.2f ms)" %
        (g0["p99_ms"], alone[0], alone[1]), ratio,
        "p99 ≤ 2× alone, at %.0f starts/s" % START_RATE, ok,
        base_p99=g0["p99_ms"])
    notes.append("Scenario 5: GETs and starts are paced by wrk's delay() "
                 "hook (bench/lua/pace.lua; wrk 4.1 has no -R), so latency "
                 "is measured from the write of each request without "
                 "coordinated-omission correction. Start pacer achieved "
                 "%.0f starts/s (target %.0f), its own p50 %.2f ms, p99 "
                 "%.2f ms." % (pr["rps"], START_RATE, pr["p50_ms"],
                               pr["p99_ms"]))

    # ---- (6) end to end ----
    scenario_e2e(c)
    scenario_e2e_one(bodies)

    # ---- (7) RssAnon across mixed requests ----
    menv = {"BENCH_BASE": B, "BENCH_QUERY": q("Mixed", "nosync"),
            "BENCH_IDS": "1000", "BENCH_PREFIX": "m-"}
    mixed_path = "%s/instances/m-0?%s" % (B, q("Mixed", "nosync"))
    menv["BENCH_COUNT"] = str(MEM_WARM)
    wrk("mixed warm-up (%d requests)" % MEM_WARM, mixed_path,
        script="mixed.lua", conns=16, duration=600, env=menv)
    wp = worker_pids()
    rss0 = rss_anon(wp)
    seen = [rss0]
    step = MEM_REQS // MEM_STEPS
    mres = None
    for i in range(MEM_STEPS):
        menv["BENCH_COUNT"] = str(step)
        mres = wrk("mixed %d/%d (%d requests)" % (i + 1, MEM_STEPS, step),
                   mixed_path, script="mixed.lua", conns=16, duration=600,
                   env=menv)
        seen.append(rss_anon(wp))
    rss1 = seen[-1]
    if set(rss1) != set(rss0) or worker_pids() != wp:
        sys.exit("bench: nginx workers changed during the memory run")
    trail = [sum(x.values()) for x in seen]
    growth = rss_growth(seen, wp)
    per = ", ".join("pid %d: %d → %d kB" % (p, rss0[p], rss1[p]) for p in wp)
    row("7. worker RssAnon after %dK warm-up, then %dK mixed" %
        (MEM_WARM // 1000, MEM_REQS // 1000), mres, None,
        per, growth, "growth ≤ 5%", growth <= 5,
        ratio_fmt="%.1f%% max growth")
    notes.append("Scenario 7: mix per 20 requests: 12 GET status (1,000 "
                 "ids), 2 list top=10, 3 starts, 3 raise events "
                 "(bench/lua/mixed.lua), 16 connections, on the sync=off "
                 "store to bound the run time (RssAnon does not depend on "
                 "fsync). Sum of RssAnon of the workers after the warm-up "
                 "and after each fifth: %s kB." %
                 " → ".join(str(x) for x in trail))
    # ---- (8) gRPC GetInstance vs return 200 over HTTP/2 ----
    r8, b8 = quiet_pair(
        "8",
        lambda: h2load("gRPC GetInstance",
                       "/TaskHubSidecarService/GetInstance",
                       body=get_instance,
                       headers=GRPC_HEADERS + ["taskhub: Bench"],
                       streams=10),
        lambda: h2load("baseline HTTP/2 (%d B)" % bodies["grpc"],
                       "/baseline/grpc", streams=10))
    ratio8 = r8["rps"] / b8["rps"]
    row("8. gRPC GetInstance, small instance (%d B), HTTP/2" %
        bodies["grpc"], r8, None,
        "%.0f (p99 %.2f ms)" % (b8["rps"], b8["p99_ms"]), ratio8,
        "≥ 0.5× return 200 over HTTP/2", ratio8 >= 0.5,
        base_p99=b8["p99_ms"])
    notes.append("Scenario 8: h2load (one thread, %d connections, 10 "
                 "streams each) sends GetInstance of the small instance "
                 "over HTTP/2 without TLS to durable_task_grpc, then GETs "
                 "a return 200 of the same answer size on the same "
                 "server; errors: %d / %d." %
                 (CONNS, r8["errors"], b8["errors"]))

    # ---- (9) purge by filter, (10) start and reload: the large store ----
    scenario_purge(get_rate)
    scenario_start_reload()

    # ---- (11) end to end through the JavaScript SDK over gRPC ----
    sdk_e2e()

    # ---- (12-16) PostgreSQL, nginx and a cluster of their own ----
    if os.environ.get("BENCH_PG", "1") != "0":
        import bench_pg
        bench_pg.run(sys.modules[__name__])

    if QUICK:
        notes.append("QUICK mode: %.0f s per wrk run, %d instances in the "
                     "large hub instead of 1,000,000, end to end measured "
                     "%.0f s, memory warm-up %d and %d mixed requests "
                     "instead of 100,000 and 1,000,000: the figures are "
                     "indicative only." % (DUR, BIG, E2E_SECS, MEM_WARM,
                                           MEM_REQS))
    notes.append(load_note + " The \"rest of the machine\" column above "
                 "is what was busy besides nginx and the load generator "
                 "during each run (other processes, kernel threads such as "
                 "the journal's flushes).")
    notes.append("Load generator and nginx share the %d cores: wrk (one "
                 "thread) takes CPU from nginx in every run, the baselines "
                 "included, so ratios are fairer than absolute figures." %
                 os.cpu_count())
    pairs_note()

    stop_nginx()
    elapsed = time.time() - t_start
    print()
    print(table_text())
    print()
    for n in notes:
        print("* " + n)
    write_results(commit, started_at, elapsed)
    log("wrote bench/results.md (%.0f s)" % elapsed)


if __name__ == "__main__":
    try:
        main()
    finally:
        cleanup()
