#!/usr/bin/env python3
"""The PostgreSQL scenarios of make bench (bench/README.md, rows 12-16).

bench.py calls run() after its own scenarios, with itself as `api` (its
row(), notes and wrk helpers); run alone, `python3 bench/bench_pg.py`
(after bench/run.sh built the module and helpers, or `make build`) runs
only these rows and prints them. Each run starts a throwaway cluster
(util/pg.sh) and two nginx of its own, A and B, on BENCH_PG_PORT and the
port after it, sharing one PostgreSQL store: two hosts on one database.
Without a cluster (no postgresql-15, or it cannot start) every row is
reported as skipped with the reason.

Rows:
  12  starts on PostgreSQL (wrk POST, 256 connections, on A) against
      pgbench running a custom script of the same inserts (the instance
      row and its ExecutionStarted message, one start per transaction),
      its best rate over 1, 8, 32 and 64 clients; target >= 3x
  13  GET status on PostgreSQL against pgbench -S (the database's own
      point select), both at 32 clients; target >= 0.7x
  14  list top=100 at 1M instances vs 1K on PostgreSQL, first page and
      continuation paging, p50; target <= 1.5x. The hubs are filled with
      generate_series straight into the tables (ids the module's way)
  15  cross-host wake-up: a claim long-polling on B, a start on A; the
      delay from the start's request to the claim's answer, p50 and p99
  16  end to end hello-sequences/s on PostgreSQL, one nginx and two
      (bench/worker on each); skipped if a probe's completion fails

Environment: BENCH_PG_ROWS (the rows to run, e.g. "12,13"; all by
default), BENCH_PG_PORT (18500), BENCH_PG_BIG (1000000, QUICK
200000), BENCH_PG_WAKES (200, QUICK 50), and bench.py's (QUICK,
BENCH_DURATION, ...).
"""

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench as _bench  # noqa: E402  (the helpers, when run alone)

ROOT = _bench.ROOT
PG_SH = os.path.join(ROOT, "util", "pg.sh")
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
PORT = int(os.environ.get("BENCH_PG_PORT", "18500"))
BIG = int(os.environ.get("BENCH_PG_BIG",
                         "200000" if _bench.QUICK else "1000000"))
WAKES = int(os.environ.get("BENCH_PG_WAKES", "50" if _bench.QUICK else "200"))
B = _bench.B
DURABLE = os.path.join(ROOT, "build", "durable")

CONF = """
load_module {module};
worker_processes  2;
error_log         logs/error.log warn;
pid               nginx.pid;
worker_rlimit_nofile  8192;

events {{
    worker_connections  4096;
}}

http {{
    access_log  off;
    client_body_temp_path  client_body_temp;
    proxy_temp_path        proxy_temp;
    fastcgi_temp_path      fastcgi_temp;
    uwsgi_temp_path        uwsgi_temp;
    scgi_temp_path         scgi_temp;
    keepalive_requests     100000000;
    keepalive_timeout      300s;

    durable_task_store  pg  backend=postgres pool=4
                        "conninfo={conninfo}";

    server {{
        listen       127.0.0.1:{port} backlog=4096 reuseport;
        location /runtime/webhooks/durabletask/ {{
            durable_task;
            durable_task_anonymous  on;
            durable_task_max_top    1000;
        }}
    }}
}}
"""


class Env:
    """the cluster and the two nginx of a run"""

    def __init__(self, api):
        self.api = api
        self.pg = None          # util/pg.sh's variables
        self.prefixes = []
        self.db = None

    def psql(self, sql, db=None):
        r = subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-At",
                            "-v", "ON_ERROR_STOP=1", "-d", db or self.db,
                            "-c", sql], capture_output=True, text=True,
                           env=self.penv())
        if r.returncode:
            raise RuntimeError("psql: " + r.stderr.strip()[:500])
        return r.stdout.strip()

    def penv(self):
        e = dict(os.environ)
        e.update(self.pg or {})
        return e

    def start(self):
        """the cluster, a database with the schema, nginx A and B: None,
        or why not"""
        if not os.path.exists(os.path.join(PG_BIN, "postgres")):
            return "no PostgreSQL 15 here (%s)" % PG_BIN
        if not os.path.exists(DURABLE):
            return "build/durable is missing (make check-tool)"
        # pgbench's 64 clients and two nginx's pools; a 1M hub in memory
        r = subprocess.run([PG_SH, "start"], capture_output=True, text=True,
                           env=dict(os.environ,
                                    DURABLE_PG_MAX_CONNECTIONS="100",
                                    DURABLE_PG_SHARED_BUFFERS="256MB"))
        if r.returncode:
            return "the cluster did not start: " + \
                (r.stderr.strip().splitlines() or ["?"])[-1]
        self.pg = dict(re.findall(r"^(\w+)='?(.*?)'?$", r.stdout, re.M))
        self.db = "bench"
        subprocess.run([os.path.join(PG_BIN, "createdb"), self.db],
                       check=True, env=self.penv())
        conninfo = self.pg["DURABLE_PG_HOSTADDR_CONNINFO"] + \
            " dbname=" + self.db
        r = subprocess.run([DURABLE, "schema", "init", "--conninfo",
                            self.pg["DURABLE_PG_CONNINFO"] + " dbname=" +
                            self.db], capture_output=True, text=True)
        if r.returncode:
            return "durable schema init: " + r.stderr.strip()
        for i, port in enumerate((PORT, PORT + 1)):
            prefix = os.path.join(_bench.BUILD, "pg-%s" % "ab"[i])
            shutil.rmtree(prefix, ignore_errors=True)
            os.makedirs(os.path.join(prefix, "conf"))
            os.makedirs(os.path.join(prefix, "logs"))
            with open(os.path.join(prefix, "conf", "nginx.conf"), "w") as f:
                f.write(CONF.format(module=_bench.MODULE_SO, port=port,
                                    conninfo=conninfo))
            r = subprocess.run(self.nginx(prefix), capture_output=True,
                               text=True)
            if r.returncode:
                return "nginx: " + r.stderr.strip()[-300:]
            self.prefixes.append(prefix)
        for port in (PORT, PORT + 1):
            if not wait_port(port):
                return "nginx does not answer on port %d" % port
        return None

    def nginx(self, prefix, *extra):
        return [_bench.NGINX, "-p", prefix + "/", "-c", "conf/nginx.conf",
                "-e", "logs/error.log"] + list(extra)

    def pids(self, which=None):
        out = []
        for i, prefix in enumerate(self.prefixes):
            if which is not None and i != which:
                continue
            try:
                with open(os.path.join(prefix, "nginx.pid")) as f:
                    m = int(f.read().strip())
            except (OSError, ValueError):
                continue
            out.append(m)
            for d in os.listdir("/proc"):
                if d.isdigit():
                    try:
                        with open("/proc/%s/stat" % d) as f:
                            st = f.read()
                    except OSError:
                        continue
                    if int(st[st.rindex(")") + 2:].split()[1]) == m:
                        out.append(int(d))
        return out

    def stop(self):
        for prefix in self.prefixes:
            subprocess.run(self.nginx(prefix, "-s", "quit"),
                           capture_output=True)
        for _ in range(50):
            if not any(os.path.exists(os.path.join(p, "nginx.pid"))
                       for p in self.prefixes):
                break
            time.sleep(0.1)
        self.prefixes = []
        if self.pg:
            subprocess.run([PG_SH, "stop", self.pg["DURABLE_PG_DIR"]],
                           capture_output=True)
            self.pg = None


def wait_port(port):
    import socket
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def q(hub):
    return "taskHub=%s&connection=pg" % hub


def req(port, method, path, body=None, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    data = None if body is None else json.dumps(body)
    h = {"Content-Type": "application/json"} if body is not None else {}
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    raw = r.read()
    c.close()
    return r.status, r.getheader("x-ms-continuation-token"), raw


def wrk(env, what, port, path, script="get.lua", conns=None, which=0):
    """bench.py's wrk run against one of this run's nginx"""
    cmd, e = _bench.wrk_cmd(path, script, conns=conns)
    cmd[-1] = "http://127.0.0.1:%d%s" % (port, path)
    pids = env.pids(which)
    n0 = _bench.cpu_of(pids)
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, env=e)
    wall = time.time() - t0
    if r.returncode:
        raise RuntimeError("wrk (%s): %s" % (what, r.stderr))
    res = _bench.parse_wrk(r.stdout, what)
    res["nginx_cpu_pct"] = 100 * (_bench.cpu_of(pids) - n0) / wall
    _bench.log("%-40s %10.0f req/s  p50 %7.3f ms  p99 %7.3f ms  (nginx "
               "CPU %3.0f%%)" % (what, res["rps"], res["p50_ms"],
                                 res["p99_ms"], res["nginx_cpu_pct"]))
    return res


def pgbench(env, what, args, clients):
    """(tps, p99 ms) without the connections' setup (64 backends starting
    on a busy machine take seconds: at least 5 s a run); p99 from
    pgbench's log of every transaction (-l: its latency in µs, the third
    field of each line)"""
    threads = min(clients, os.cpu_count() or 2)
    logdir = tempfile.mkdtemp(prefix="pgbench-", dir=_bench.BUILD)
    cmd = [os.path.join(PG_BIN, "pgbench"), "-n", "-c", str(clients),
           "-j", str(threads), "-T", str(max(5, round(_bench.DUR))),
           "-M", "prepared", "-l",
           "--log-prefix=" + os.path.join(logdir, "tx")] + args + [env.db]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True,
                           env=env.penv())
        m = re.search(r"^tps = ([\d.]+)", r.stdout, re.M)
        if r.returncode or not m:
            raise RuntimeError("pgbench (%s): %s" % (
                what, (r.stderr.strip() or r.stdout.strip())[-500:]))
        lat = []
        for name in os.listdir(logdir):
            with open(os.path.join(logdir, name)) as f:
                lat.extend(int(line.split()[2]) for line in f if line.strip())
    finally:
        shutil.rmtree(logdir, ignore_errors=True)
    if not lat:
        raise RuntimeError("pgbench (%s): no transaction logged" % what)
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] / 1000.0
    tps = float(m.group(1))
    _bench.log("%-40s %10.0f tps  p99 %7.3f ms" % (what, tps, p99))
    return tps, p99


# the inserts of one start (durable.start of 10-instance.sql): the
# instance row and its ExecutionStarted message, one transaction
START_SCRIPT = r"""
\set r random(1, 1000000000000)
\set p :r % 16
BEGIN;
INSERT INTO durable.instances (hub, partition, id, status, suspended_from,
    created, updated, execution, name, input, ready_at, inbox_seq,
    done_status)
    VALUES ('PgBench', :p, 'pgb-' || :client_id::text || '-' || :r::text,
            6, 6,
            durable.now_us(), durable.now_us(), 1, 'Hello', '{"n":1}',
            durable.now_us(), 1, 6)
    ON CONFLICT DO NOTHING;
INSERT INTO durable.inbox (hub, partition, id, seq, message)
    VALUES ('PgBench', :p, 'pgb-' || :client_id::text || '-' || :r::text, 1,
            '{"EventType":"ExecutionStarted","Timestamp":"2026-01-01T00:00:00Z","EventId":-1,"Name":"Hello","Input":{"n":1}}')
    ON CONFLICT DO NOTHING;
END;
"""


def skip_all(api, reason):
    for name in ("12. start on PostgreSQL vs pgbench inserts",
                 "13. GET status on PostgreSQL vs pgbench -S",
                 "14. list top=100 on PostgreSQL, 1M vs 1K",
                 "15. cross-host wake-up (start on A, claim on B)",
                 "16. end to end on PostgreSQL, 1 and 2 nginx"):
        skipped(api, name, reason)


def skipped(api, name, reason):
    api.rows.append({"scenario": name, "rps": "—", "p50": "—", "p99": "—",
                     "base": "—", "ratio": "—", "target": "—",
                     "result": "skipped: " + reason})


def starts(env, api):
    path = "%s/orchestrators/Hello?%s" % (B, q("PgStarts"))
    s = wrk(env, "start on PostgreSQL, %d connections" % _bench.START_CONNS,
            PORT, path, script="post.lua", conns=_bench.START_CONNS)
    script = os.path.join(_bench.BUILD, "pg-start.sql")
    with open(script, "w") as f:
        f.write(START_SCRIPT)
    rates, p99s = {}, {}
    for c in (1, 8, 32, 64):
        rates[c], p99s[c] = pgbench(env, "pgbench start inserts, %d clients"
                                    % c, ["-f", script], c)
    best = max(rates, key=rates.get)
    ratio = s["rps"] / rates[best]
    api.row("12. start on PostgreSQL, %d connections (vs pgbench inserts)" %
            _bench.START_CONNS, s, None,
            "%.0f tps (pgbench, best of 1/8/32/64 clients: %d)" %
            (rates[best], best), ratio, "≥ 3× pgbench", ratio >= 3,
            base_p99=p99s[best])
    api.notes.append("Scenario 12: pgbench runs the inserts durable.start "
                     "makes (the instance row and its ExecutionStarted "
                     "message, one start per transaction, prepared "
                     "statements) on the same database: %s tps at "
                     "1/8/32/64 clients." %
                     "/".join("%.0f" % rates[c] for c in (1, 8, 32, 64)))


def status(env, api):
    s, _, body = req(PORT, "POST", "%s/orchestrators/Hello/pg-small?%s" %
                     (B, q("PgBench2")), {"n": 1})
    if s != 202:
        raise RuntimeError("start on PostgreSQL: %d %s" % (s, body[:200]))
    path = "%s/instances/pg-small?%s" % (B, q("PgBench2"))
    r = wrk(env, "status on PostgreSQL", PORT, path)
    subprocess.run([os.path.join(PG_BIN, "pgbench"), "-i", "-q", "-s", "1",
                    env.db], capture_output=True, env=env.penv(), check=True)
    base, base_p99 = pgbench(env, "pgbench -S, %d clients" % _bench.CONNS,
                             ["-S"], _bench.CONNS)
    ratio = r["rps"] / base
    api.row("13. GET status on PostgreSQL, %d connections (vs pgbench -S)" %
            _bench.CONNS, r, None, "%.0f tps (pgbench -S, %d clients)" %
            (base, _bench.CONNS), ratio, "≥ 0.7× pgbench -S", ratio >= 0.7,
            base_p99=base_p99)


def fill(env, hub, n):
    """n instances of hub, as starts without ids would make them, straight
    into the table (generate_series): seconds taken. The count triggers
    run once for the statement (schema 6) and add the n instances to the
    hub's counts in one update."""
    t0 = time.time()
    env.psql("""
        INSERT INTO durable.instances (hub, partition, id, status,
            suspended_from, created, updated, execution, name, input,
            inbox_seq, done_status)
        SELECT '%(hub)s', durable.partition_of(p.n, x.id),
               x.id, 6, 6, x.created, x.created, 1, 'Hello', '{"n":1}',
               1, 6
        FROM (SELECT durable.hub_partitions('%(hub)s', true) AS n) p,
             (SELECT lpad(to_hex(1764892800000 + g / 10), 12, '0')
                     || substr(md5(g::text), 1, 20) AS id,
                     (1764892800000 + g / 10) * 1000 + g %% 10 AS created
              FROM generate_series(1, %(n)d) g) x;
        ANALYZE durable.instances;
    """ % {"hub": hub, "n": n})
    return time.time() - t0


def lists(env, api):
    t1k = fill(env, "PgK1", 1000)
    tbig = fill(env, "PgM1", BIG)
    big = "1M" if BIG == 1000000 else "%dK" % (BIG // 1000)
    k1 = "%s/instances?top=100&%s" % (B, q("PgK1"))
    m1 = "%s/instances?top=100&%s" % (B, q("PgM1"))
    l1 = wrk(env, "PG list top=100, 1K hub", PORT, k1, conns=1)
    l2 = wrk(env, "PG list top=100, %s hub" % big, PORT, m1, conns=1)
    ratio = l2["p50_ms"] / l1["p50_ms"]
    api.row("14a. list top=100 on PostgreSQL, first page, %s (vs 1K)" % big,
            l2, None, "1K: p50 %.2f ms, p99 %.2f ms" %
            (l1["p50_ms"], l1["p99_ms"]), ratio, "p50 ≤ 1.5× of 1K",
            ratio <= 1.5, base_p99=l1["p99_ms"])
    p1 = wrk(env, "PG list paging, 1K hub", PORT, k1,
             script="list_page.lua", conns=1)
    p2 = wrk(env, "PG list paging, %s hub" % big, PORT, m1,
             script="list_page.lua", conns=1)
    ratio = p2["p50_ms"] / p1["p50_ms"]
    api.row("14b. list top=100 on PostgreSQL, paging, %s (vs 1K)" % big, p2,
            None, "1K: p50 %.2f ms, p99 %.2f ms" %
            (p1["p50_ms"], p1["p99_ms"]), ratio, "p50 ≤ 1.5× of 1K",
            ratio <= 1.5, base_p99=p1["p99_ms"])
    api.notes.append("Scenario 14: the hubs are filled straight into "
                     "durable.instances by generate_series (%d instances "
                     "in %.1f s, 1,000 in %.1f s), ids made the way the "
                     "module makes them (12 hex digits of milliseconds, "
                     "then 20 more), one connection." % (BIG, tbig, t1k))


def wakes(env, api):
    """claims long-polling on B, each woken by a start on A"""
    delays = []
    claim = "%s/worker/orchestrations/claim?max=1&wait=10&%s" % \
        (B, q("PgWake"))
    for i in range(WAKES):
        got = {}

        def claimer():
            s, _, body = req(PORT + 1, "POST", claim, {}, timeout=20)
            got["t"] = time.monotonic()
            got["n"] = len(json.loads(body).get("items") or []) \
                if s == 200 else -s

        t = threading.Thread(target=claimer)
        t.start()
        time.sleep(0.05)        # the claim is waiting on B
        t0 = time.monotonic()
        s, _, body = req(PORT, "POST", "%s/orchestrators/Hello/wake-%d?%s" %
                         (B, i, q("PgWake")), {"n": i})
        t.join()
        if s != 202 or got.get("n") != 1:
            raise RuntimeError("wake-up %d: start %d, claim %r" %
                               (i, s, got.get("n")))
        delays.append((got["t"] - t0) * 1000)
    delays.sort()
    p50 = delays[len(delays) // 2]
    p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    api.row("15. cross-host wake-up: start on A, claim waiting on B", {
        "p50_ms": p50, "p99_ms": p99}, None, "%d wake-ups" % len(delays),
        None, "(information)", None)
    api.notes.append("Scenario 15: two nginx on one database; each time a "
                     "claim (wait=10) is waiting on B, a start is sent to "
                     "A; the delay runs from the start's request to the "
                     "claim's answer (the start's commit, its NOTIFY, B's "
                     "listening connection, the claim), %d times, one at a "
                     "time: min %.2f ms, max %.2f ms." %
                     (len(delays), delays[0], delays[-1]))


def completions_work():
    """whether the PostgreSQL store completes orchestrations: None, or
    the reason it does not"""
    hub = q("PgProbe")
    s, _, body = req(PORT, "POST", "%s/orchestrators/Seq/probe?%s" %
                     (B, hub), {"n": 1})
    s, _, body = req(PORT, "POST", "%s/worker/orchestrations/claim?max=1&"
                     "wait=5&%s" % (B, hub), {})
    items = json.loads(body).get("items") if s == 200 else None
    if not items:
        return "no orchestration to claim (%d)" % s
    s, _, body = req(PORT, "POST", "%s/worker/orchestrations/complete?%s" %
                     (B, hub), {"instanceId": "probe",
                                "lease": items[0]["lease"],
                                "actions": [{"type": "complete"}]})
    if s == 501:
        return "completions not on PostgreSQL yet"
    if s != 200:
        return "a completion answers %d" % s
    return None


def end_to_end(env, api):
    why = completions_work()
    if why:
        skipped(api, "16. end to end on PostgreSQL, 1 and 2 nginx", why)
        return
    secs = _bench.E2E_SECS
    res = []
    for hosts in (1, 2):
        procs = []
        for i in range(hosts):
            cmd = [os.path.join(_bench.BIN, "worker"), "-p",
                   str(PORT + i), "-B", B, "-q", q("PgE2E%d" % hosts),
                   "-d", str(secs), "-w", "3", "-P",
                   ",".join(map(str, env.pids(i)))]
            procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True))
        total = 0.0
        for p in procs:
            out, err = p.communicate(timeout=secs + 60)
            if p.returncode:
                raise RuntimeError("worker: " + err[-300:])
            total += json.loads(out.strip().splitlines()[-1])[
                "orchestrations_per_s"]
        res.append(total)
    api.rows.append({
        "scenario": "16. end to end on PostgreSQL: hello-sequence, 1 nginx "
                    "/ 2 nginx",
        "rps": "%.0f / %.0f orch/s" % (res[0], res[1]),
        "p50": "—", "p99": "—", "base": "—",
        "ratio": "%.2f×" % (res[1] / res[0]) if res[0] else "—",
        "target": "(information)", "result": "info"})


def run(api):
    """the PostgreSQL rows, into api.rows and api.notes"""
    env = Env(api)
    try:
        why = env.start()
        if why:
            _bench.log("PostgreSQL scenarios skipped: " + why)
            skip_all(api, why)
            return
        only = os.environ.get("BENCH_PG_ROWS", "")
        for name, fn in (("12", starts), ("13", status), ("14", lists),
                         ("15", wakes), ("16", end_to_end)):
            if only and name not in only.split(","):
                continue
            try:
                fn(env, api)
            except (RuntimeError, OSError, ValueError,
                    subprocess.SubprocessError) as e:
                _bench.log("PostgreSQL scenario %s failed: %s" % (name, e))
                skipped(api, "%s. (PostgreSQL)" % name, "failed: %s" %
                        str(e).splitlines()[0][:120])
    finally:
        env.stop()


if __name__ == "__main__":
    run(_bench)
    print(_bench.table_text())
    for n in _bench.notes:
        print("* " + n)
