#!/usr/bin/env python3
"""make test-cli: every command of durable (cli/), end to end.

Starts nginx with the example config (util/runtime.sh; a system key and
a worker key instead of anonymous access, on a free port) and the example
worker, then runs the online commands against it and the offline ones
against its store: while nginx runs (check, stats, export, import,
backup, delete-task-hub; compact refused) and after it stopped (compact,
restore). Each check compares
the exit code and what the command printed with what the server or the
store holds. Prints TAP; exits 1 when a check failed.

Environment: NGINX, MODULE_SO, DURABLE (paths; make test-cli sets them).
"""

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
MODULE_SO = os.environ.get(
    "MODULE_SO", os.path.join(ROOT, "build/nginx/objs/ngx_http_durable_module.so"))
DURABLE = os.environ.get("DURABLE", os.path.join(ROOT, "build/durable"))
HUB = "DurableFunctionsHub"
KEY = "cli-system-key"
WORKER_KEY = "cli-worker-key"

count = 0
failed = 0


def ok(cond, name, detail=""):
    global count, failed
    count += 1
    if cond:
        print("ok %d - %s" % (count, name))
    else:
        failed += 1
        print("not ok %d - %s" % (count, name))
        if detail:
            for line in str(detail).splitlines()[-15:]:
                print("#   " + line)
    return cond


def durable(*args, env=None, name="durable"):
    r = subprocess.run([DURABLE] + list(args), capture_output=True,
                       text=True, timeout=120, env=env)
    r.detail = "$ %s %s\nrc %d\nstdout: %s\nstderr: %s" % (
        name, " ".join(args), r.returncode, r.stdout, r.stderr)
    return r


def durable_full(*args):
    """durable with its standard output on /dev/full: no write succeeds"""
    with open("/dev/full", "w") as full:
        r = subprocess.run([DURABLE] + list(args), stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=120)
    r.detail = "$ durable %s > /dev/full\nrc %d\nstderr: %s" % (
        " ".join(args), r.returncode, r.stderr)
    return r


def full_ok(r, name):
    """a command whose output was lost says so, once, and fails"""
    return ok(r.returncode != 0 and "writing the output failed" in r.stderr
              and sum("fail" in line
                      for line in r.stderr.splitlines()) == 1,
              name + " > /dev/full: one error, exit %d" % r.returncode,
              r.detail)


def as_json(r):
    try:
        return json.loads(r.stdout)
    except ValueError:
        return None


class Server:
    """nginx with examples/nginx.conf and this test's keys, started by
    util/runtime.sh (the helper the other tests source) in a fresh runtime
    directory, build/cli-test; SIGTERM to the helper stops nginx."""

    def __init__(self, tmp):
        self.proc = subprocess.Popen(
            [os.path.join(ROOT, "util/runtime.sh"), "serve", "test-cli",
             "build/cli-test", KEY, WORKER_KEY],
            stdout=subprocess.PIPE, text=True,
            stderr=open(os.path.join(tmp, "runtime.log"), "w"),
            env=dict(os.environ, NGINX=NGINX, MODULE_SO=MODULE_SO))
        line = self.proc.stdout.readline().split()
        if len(line) != 2:
            self.stop()
            raise RuntimeError("nginx did not start: see %s/runtime.log"
                               % tmp)
        self.port = int(line[0])
        self.dir = line[1]
        self.base = ("http://127.0.0.1:%d/runtime/webhooks/durabletask"
                     % self.port)
        self.store = os.path.join(self.dir, "data")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
        self.proc = None


class FakeServer:
    """an HTTP server in a thread that answers every request with what
    answer(method, path, headers) returns: (code, headers, body); for
    answers a real nginx never gives. requests: (method, path, headers)."""

    def __init__(self, answer):
        fake = self
        self.answer = answer
        self.requests = []

        class Handler(BaseHTTPRequestHandler):
            def reply(self):
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                fake.requests.append((self.command, self.path,
                                      dict(self.headers)))
                code, headers, body = fake.answer(self.command, self.path,
                                                  self.headers)
                if not isinstance(body, bytes):
                    body = json.dumps(body).encode()
                self.send_response(code)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_DELETE = reply

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()
        self.base = "http://127.0.0.1:%d/api" % self.httpd.server_port

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def fake_durable(answer, *args):
    """durable COMMAND ... against a FakeServer giving answer"""
    fake = FakeServer(answer)
    try:
        r = durable(args[0], "--url", fake.base, "--key", KEY, *args[1:])
    finally:
        fake.stop()
    r.requests = fake.requests
    return r


def wait_status(srv, iid, statuses, seconds=60):
    st = None
    for _ in range(seconds * 5):
        r = durable("get-runtime-status", "--url", srv.base, "--key", KEY,
                    "--id", iid, "--json")
        st = as_json(r)
        if r.returncode == 0 and st and st.get("runtimeStatus") in statuses:
            return st
        time.sleep(0.2)
    return st


def export_lines(path):
    """the export without its header (it carries the export's time)"""
    with open(path) as f:
        lines = f.read().splitlines()
    return lines[1:]


def test_help():
    r = durable("--help")
    ok(r.returncode == 0 and "Exit status" in r.stdout, "durable --help",
       r.detail)
    names = [l.split()[0] for l in r.stdout.splitlines()
             if l.startswith("  ")]
    ok(len(names) == 19, "--help lists 19 commands", names)
    # every exit code of durable.h, in the summary and in the manual page
    codes = []
    with open(os.path.join(ROOT, "cli/durable.h")) as f:
        for line in f:
            w = line.split()
            if len(w) >= 3 and w[0] == "#define" \
               and w[1].startswith("DU_EXIT_"):
                codes.append(w[2])
    summary = " ".join(r.stdout[r.stdout.find("Exit status:"):].split())
    with open(os.path.join(ROOT, "cli/durable.1")) as f:
        manual = f.read().split(".SH EXIT STATUS", 1)[-1]
        manual = manual.split("\n.SH ", 1)[0]
    ok(len(codes) > 1
       and all(re.search(r"[:;] %s " % c, summary) for c in codes)
       and all("\n.B %s\n" % c in manual for c in codes),
       "--help and durable.1 list every exit code " + ",".join(codes),
       summary)
    # durable.1 names every option an online command takes, in the
    # command's own entry, and every alias the option table accepts
    with open(os.path.join(ROOT, "cli/durable.1")) as f:
        section = f.read().split(".SH ONLINE COMMANDS", 1)[-1]
        section = section.split("\n.SH ", 1)[0]
    entries = section.split("\n.TP\n")
    common = ("--url", "--key", "--task-hub", "--connection", "--json",
              "--help")
    missing = []
    for n in names:
        r = durable(n, "--help")
        ok(r.returncode == 0 and r.stdout.startswith("usage: durable " + n)
           and "--json" in r.stdout, "durable %s --help" % n, r.detail)
        if "--url" not in r.stdout:
            continue
        entry = " ".join(e for e in entries
                         if n.replace("-", "\\-") in e.split("\n", 1)[0])
        missing += ["%s %s" % (n, o) for o in
                    (l.split()[0] for l in r.stdout.splitlines()
                     if l.startswith("  --"))
                    if o not in common
                    and o.replace("-", "\\-") not in entry]
    with open(os.path.join(ROOT, "cli/durable_online.c")) as f:
        aliases = re.findall(r'\{ "(--[a-z-]+)", "--', f.read())
    missing += [a for a in aliases
                if a.replace("-", "\\-") not in section]
    ok(aliases and not missing,
       "durable.1 lists the online commands' options and aliases",
       missing)
    # --version: the package's version, from debian/changelog
    with open(os.path.join(ROOT, "debian/changelog")) as f:
        version = re.match(r"\S+ \(([^)]+)\)", f.readline()).group(1)
    r = durable("--version")
    ok(r.returncode == 0 and r.stdout == "durable %s\n" % version
       and r.stderr == "", "durable --version: durable " + version,
       r.detail)
    r = durable("--help")
    with open(os.path.join(ROOT, "cli/durable.1")) as f:
        manual = f.read()
    ok("durable --version" in r.stdout
       and ".B durable\n.B \\-\\-version\n" in manual,
       "--help and durable.1 name durable --version", r.stdout)
    r = durable()
    ok(r.returncode == 2, "no command: exit 2", r.detail)
    r = durable("no-such-command")
    ok(r.returncode == 2 and "unknown command" in r.stderr,
       "an unknown command: exit 2", r.detail)
    r = durable("check", "--bogus", "/nonexistent")
    ok(r.returncode == 2, "check: an unknown option: exit 2", r.detail)
    r = durable("check", "--map-size", "lots", "/nonexistent")
    ok(r.returncode == 2 and r.stderr.startswith("durable check: --map-size"),
       "check: a bad --map-size: exit 2, said by durable check", r.detail)

    # the man page documents every command and renders without warnings
    if shutil.which("man") is None:
        ok(True, "durable.1 # SKIP no man here (Debian: man-db)")
        return
    man = subprocess.run(["man", "--warnings", "-l", "-P", "cat",
                          os.path.join(ROOT, "cli/durable.1")],
                         capture_output=True, text=True,
                         env=dict(os.environ, MANWIDTH="80"))
    missing = [n for n in names if n not in man.stdout]
    ok(man.returncode == 0 and not man.stderr and not missing,
       "durable.1 names every command, without warnings",
       man.stderr + " missing: %s" % missing)


def test_no_store(tmp):
    """the commands that read a store refuse a directory with none (no
    data.mdb), exit 3, and leave it as it was: LMDB would make one"""
    empty = os.path.join(tmp, "nostore")
    os.mkdir(empty)
    dest = os.path.join(tmp, "nostore-backup")
    checker = os.path.join(os.path.dirname(DURABLE), "durable-check")
    for args in (["check", empty], ["check", "--json", empty],
                 ["check", "--list-ids", HUB, empty],
                 ["stats", empty], ["export", empty],
                 ["delete-task-hub", "--hub", HUB, empty],
                 ["backup", empty, dest], ["compact", empty]):
        r = durable(*args)
        ok(r.returncode == 3 and "has no data.mdb" in r.stderr
           and os.listdir(empty) == [] and not os.path.exists(dest),
           "durable %s of a directory without a store: exit 3, nothing "
           "made" % " ".join(a for a in args if a not in (empty, dest)),
           r.detail + "\nleft: %s" % os.listdir(empty))
    r = subprocess.run([checker, empty], capture_output=True, text=True)
    ok(r.returncode == 2 and "has no data.mdb" in r.stderr
       and os.listdir(empty) == [],
       "durable-check of a directory without a store: exit 2, nothing made",
       r.stdout + r.stderr)
    shutil.rmtree(empty)


def test_escaped_answers():
    """what a server sends reaches the terminal escaped, as durable check
    prints ids: no control byte of an answer is printed as it is"""
    esc = "\u001b[31m"
    status = {"instanceId": "i" + esc, "name": "n" + esc,
              "runtimeStatus": "Completed" + esc,
              "createdTime": "2026-12-06T00:00:00Z" + esc,
              "lastUpdatedTime": "2026-12-06T00:00:01Z" + esc,
              "input": None, "customStatus": esc, "output": esc,
              "historyEvents": [{"EventType": "ExecutionStarted" + esc,
                                 "Timestamp": "2026-12-06T00:00:00Z" + esc,
                                 "Name": "n" + esc, "Input": esc}]}
    for args, code, headers, body, out in (
            (["get-runtime-status", "--id", "i", "--show-history"], 200, {},
             status, "stdout"),
            (["get-history", "--id", "i"], 200, {}, status, "stdout"),
            (["get-instances"], 200,
             {"x-ms-continuation-token": "t\x1b[31m"}, [status],
             "stdout stderr"),
            (["start-new", "--name", "n"], 202, {},
             {"id": "i" + esc, "statusQueryGetUri": "u" + esc}, "stdout"),
            (["terminate", "--id", "i\x1b[31m"], 202, {}, b"", "stdout"),
            (["terminate", "--id", "i"], 400, {},
             {"Message": "bad" + esc}, "stderr"),
            (["terminate", "--id", "i"], 400, {},
             b"bad \x1b[31m", "stderr"),
            (["get-runtime-status", "--id", "i"], 200, {},
             b"\x1b[31m", "stderr")):
        r = fake_durable(lambda m, p, h: (code, headers, body), *args)
        text = r.stdout + r.stderr
        ok("\x1b" not in text
           and all("\\u001b" in getattr(r, o) for o in out.split()),
           "%s, HTTP %d: the answer's ESC printed escaped"
           % (" ".join(args).encode("unicode_escape").decode(), code),
           r.detail)

    # DEL and the C1 controls, which JSON would leave as they are
    c1 = {"Message": "bad \u009b31m \u007f"}
    r = fake_durable(lambda m, p, h: (400, {}, c1), "terminate", "--id", "i")
    ok(r.returncode != 0 and "\u009b" not in r.stderr
       and "\x7f" not in r.stderr and "\\u009b31m \\u007f" in r.stderr,
       "an answer's C1 control and DEL printed escaped", r.detail)


def test_unexpected_answers():
    """an answer without what the command prints is a server failure
    (exit 3), in either output, never a success printing null"""
    for args, code, body in (
            (["get-runtime-status", "--id", "i"], 200, {}),
            (["get-runtime-status", "--id", "i", "--json"], 202,
             {"instanceId": 5}),
            (["get-runtime-status", "--id", "i", "--show-history"], 200,
             {"instanceId": "i", "name": "n", "runtimeStatus": "Completed",
              "createdTime": "t", "lastUpdatedTime": "t"}),
            (["get-history", "--id", "i"], 200,
             {"historyEvents": [{"Timestamp": "t", "Name": "n"}]}),
            (["get-instances"], 200, [{"instanceId": "i"}]),
            (["get-instances", "--json"], 200, [1]),
            (["get-instances"], 200, {"instances": []}),
            (["start-new", "--name", "n"], 202, {"id": None}),
            (["purge-history", "--id", "i"], 200, {}),
            (["purge-history", "--id", "i", "--json"], 200,
             {"instancesDeleted": "1"}),
            (["get-runtime-status", "--id", "i"], 200, b"<html></html>")):
        r = fake_durable(lambda m, p, h: (code, {}, body), *args)
        ok(r.returncode == 3 and ("unexpected answer" in r.stderr
                                  or "not JSON" in r.stderr)
           and "null" not in r.stdout.replace('"continuationToken":null',
                                              ""),
           "%s, HTTP %d %s: exit 3" % (" ".join(args), code,
                                       json.dumps(body)[:40]
                                       if not isinstance(body, bytes)
                                       else "(not JSON)"), r.detail)


def test_repeated_token():
    """get-instances --all stops when the server hands out a token it gave
    before; the server here fails the 50th request, which ends the
    endless walk of a tool that would follow it round"""
    for tokens in (["A"], ["A", "B"]):
        served = []

        def answer(method, path, headers, tokens=tokens, served=served):
            sent = headers.get("x-ms-continuation-token")
            served.append(sent)
            if len(served) >= 50:
                return 500, {}, b"enough"
            i = tokens.index(sent) + 1 if sent else 0
            return (200, {"x-ms-continuation-token": tokens[i % len(tokens)]},
                    [{"instanceId": "i%d" % len(served), "name": "n",
                      "runtimeStatus": "Running", "createdTime": "t",
                      "lastUpdatedTime": "t"}])

        fake = FakeServer(answer)
        try:
            r = durable("get-instances", "--url", fake.base, "--key", KEY,
                        "--all", "--json")
        finally:
            fake.stop()
        ok(r.returncode == 3 and "a second time" in r.stderr
           and len(fake.requests) == len(tokens) + 1
           and len((as_json(r) or {}).get("instances", [])) == len(tokens) + 1,
           "get-instances --all, tokens %s again and again: stops, exit 3"
           % "".join(tokens), r.detail + "\nrequests %d" % len(fake.requests))


def test_full_output():
    """output that cannot be written is an error (online commands and
    --help; the offline ones in test_offline_live)"""
    if not os.path.exists("/dev/full"):
        ok(True, "output to /dev/full # SKIP no /dev/full here")
        return
    status = {"instanceId": "i", "name": "n", "runtimeStatus": "Running",
              "createdTime": "t", "lastUpdatedTime": "t"}
    fake = FakeServer(lambda m, p, h: (200, {}, [status] if "/instances?"
                                       in p else status))
    try:
        b = ["--url", fake.base, "--key", KEY]
        full_ok(durable_full("get-instances", "--json", *b),
                "get-instances --json")
        full_ok(durable_full("get-instances", *b), "get-instances")
        full_ok(durable_full("get-runtime-status", "--id", "i", *b),
                "get-runtime-status")
    finally:
        fake.stop()
    full_ok(durable_full("--help"), "durable --help")


def test_online(srv):
    b = ["--url", srv.base, "--key", KEY]

    r = durable("start-new", *b)
    ok(r.returncode == 2 and "--name is required" in r.stderr,
       "start-new without --name: exit 2", r.detail)
    r = durable("terminate", *b)
    ok(r.returncode == 2, "terminate without --id: exit 2", r.detail)
    r = durable("get-instances", *b, "--id", "x")
    ok(r.returncode == 2 and "unknown option" in r.stderr,
       "get-instances takes no --id: exit 2", r.detail)
    r = durable("raise-event", *b, "--id", "x", "--event-name", "e",
                "--name", "n")
    ok(r.returncode == 2, "raise-event takes no --name: exit 2", r.detail)
    r = durable("get-instances", "--url", "http://127.0.0.1:1/x",
                "--key", KEY)
    ok(r.returncode == 3 and "Couldn't connect" in r.stderr
       and "hint: nothing answered there: nginx may not be running, or "
           "--url (or DURABLE_URL) is wrong" in r.stderr,
       "no server: exit 3, a hint naming --url", r.detail)
    r = durable("get-instances", "--url", srv.base, "--key", "wrong")
    ok(r.returncode == 4 and "401" in r.stderr
       and "hint: the key of --key (or DURABLE_KEY) was refused"
           in r.stderr, "a wrong key: exit 4, a hint naming --key",
       r.detail)
    env = {k: v for k, v in os.environ.items() if k != "DURABLE_KEY"}
    r = durable("get-instances", "--url", srv.base, env=env)
    ok(r.returncode == 4 and "HTTP 401: A key is required" in r.stderr
       and "hint: this server wants a key: pass a system key with "
           "--key KEY or in DURABLE_KEY" in r.stderr,
       "no key: exit 4, a hint naming --key and DURABLE_KEY", r.detail)
    r = durable("get-runtime-status", "--url", srv.base, "--id", "x",
                env=dict(env, DURABLE_KEY=""))
    ok(r.returncode == 4 and "hint: this server wants a key" in r.stderr,
       "an empty DURABLE_KEY: no key, the same hint", r.detail)

    # the key may come from the environment instead of the command line
    env = dict(os.environ, DURABLE_KEY=KEY, DURABLE_URL=srv.base)
    r = durable("start-new", "--name", "HelloSequence", "--id", "seq-1",
                "--json", env=env)
    st = as_json(r)
    ok(r.returncode == 0 and st and st.get("id") == "seq-1"
       and "statusQueryGetUri" in st, "start-new --json (DURABLE_KEY)",
       r.detail)

    r = durable("start-new", *b, "--name", "HelloSequence")
    ok(r.returncode == 0 and r.stdout.startswith("started "),
       "start-new: a made id, human output", r.detail)
    r = durable("start-new", *b, "--name", "Approval", "--id", "appr-1",
                "--input", "600")
    ok(r.returncode == 0, "start-new Approval appr-1", r.detail)
    # func durable's option names work too
    r = durable("start-new", *b, "--function-name", "Approval", "--id",
                "appr-2", "--input", "600", "--task-hub-name", HUB,
                "--connection-string-setting", "Storage")
    ok(r.returncode == 0, "start-new Approval appr-2", r.detail)
    r = durable("start-new", *b, "--name", "Approval", "--id", "fail-1",
                "--input", '{"timeout":"soon"}')
    ok(r.returncode == 0, "start-new an Approval that fails", r.detail)
    # an id is one path segment: '+', '%' and ' ' are sent escaped (a hub
    # of its own: the listings below count the instances of theirs)
    e = b + ["--task-hub", "Escapes"]
    r = durable("start-new", *e, "--name", "Hello", "--id", "a+b%41 c")
    ok(r.returncode == 0, "start-new with '+', '%' and ' ' in its id",
       r.detail)
    r = durable("get-runtime-status", *e, "--id", "a+b%41 c", "--json")
    st = as_json(r)
    ok(r.returncode == 0 and st and st.get("instanceId") == "a+b%41 c",
       "that id as it was given", r.detail)
    r = durable("start-new", *b, "--name", "Hello", "--id", "@bad")
    ok(r.returncode == 1 and "HTTP 400" in r.stderr,
       "start-new with a bad id: exit 1 and the server's message", r.detail)

    st = wait_status(srv, "seq-1", ["Completed"])
    ok(st and st["runtimeStatus"] == "Completed"
       and "Hello Tokyo!" in json.dumps(st["output"]),
       "seq-1 completes (get-runtime-status --json)", st)

    r = durable("get-runtime-status", *b, "--id", "seq-1")
    ok(r.returncode == 0 and "runtimeStatus    Completed" in r.stdout
       and "Hello Tokyo!" in r.stdout, "get-runtime-status, human",
       r.detail)
    r = durable("get-runtime-status", *b, "--id", "seq-1", "--show-history",
                "--json")
    st = as_json(r)
    ok(r.returncode == 0 and st and len(st.get("historyEvents", [])) > 2,
       "get-runtime-status --show-history", r.detail)
    r = durable("get-runtime-status", *b, "--id", "nope")
    ok(r.returncode == 1 and "404" in r.stderr,
       "get-runtime-status of no instance: exit 1", r.detail)

    r = durable("get-history", *b, "--id", "seq-1", "--json")
    ev = as_json(r)
    types = [e.get("EventType") for e in ev or []]
    ok(r.returncode == 0 and types[:1] == ["ExecutionStarted"]
       and types[-1:] == ["ExecutionCompleted"]
       and types.count("TaskCompleted") == 5,
       "get-history --json: started, 5 results, completed", types)
    r = durable("get-history", *b, "--id", "seq-1")
    ok(r.returncode == 0 and "ExecutionCompleted" in r.stdout
       and "SayHello" in r.stdout, "get-history, human", r.detail)

    st = wait_status(srv, "fail-1", ["Failed"])
    ok(st and st["runtimeStatus"] == "Failed", "fail-1 fails", st)
    wait_status(srv, "appr-1", ["Running"])
    wait_status(srv, "appr-2", ["Running"])
    r = durable("start-new", *b, "--name", "Approval", "--id", "appr-1")
    ok(r.returncode == 1 and "HTTP 409" in r.stderr,
       "start-new with the id of an active instance: exit 1", r.detail)

    # the list: pages of one, tokens, filters
    r = durable("get-instances", *b, "--json", "--all")
    page = as_json(r)
    ids = sorted(i["instanceId"] for i in (page or {}).get("instances", []))
    ok(r.returncode == 0 and len(ids) == 5 and "seq-1" in ids
       and page["continuationToken"] is None,
       "get-instances --all: the five instances", r.detail)
    r = durable("get-instances", *b, "--json", "--top", "2")
    page = as_json(r)
    ok(r.returncode == 0 and page and len(page["instances"]) == 2
       and page["continuationToken"], "get-instances --top 2: a token",
       r.detail)
    seen = [i["instanceId"] for i in page["instances"]]
    while page and page["continuationToken"]:
        r = durable("get-instances", *b, "--json", "--top", "2",
                    "--continuation-token", page["continuationToken"])
        page = as_json(r)
        seen += [i["instanceId"] for i in (page or {}).get("instances", [])]
    ok(sorted(seen) == ids, "--continuation-token walks every page", seen)
    r = durable("get-instances", *b, "--top", "2")
    ok(r.returncode == 0 and len(r.stdout.splitlines()) == 2
       and "--continuation-token" in r.stderr,
       "get-instances, human: the next token on stderr", r.detail)
    r = durable("get-instances", *b, "--json", "--runtime-status",
                "Running,Failed", "--id-prefix", "appr")
    page = as_json(r)
    ok(page and sorted(i["instanceId"] for i in page["instances"])
       == ["appr-1", "appr-2"], "get-instances: status and prefix",
       r.detail)
    r = durable("get-instances", *b, "--runtime-status", "Bogus")
    ok(r.returncode == 1, "get-instances with a bad status: exit 1",
       r.detail)

    # events, suspend, resume, terminate, rewind
    r = durable("raise-event", *b, "--id", "appr-1", "--event-name",
                "Approval", "--event-data", "true", "--json")
    ok(r.returncode == 0 and as_json(r) == {"instanceId": "appr-1",
                                             "result": "event raised"},
       "raise-event", r.detail)
    st = wait_status(srv, "appr-1", ["Completed"])
    ok(st and st["output"] == "approved", "the event reached appr-1", st)
    r = durable("raise-event", *b, "--id", "appr-1", "--event-name", "X")
    ok(r.returncode == 1 and "410" in r.stderr,
       "raise-event to a completed instance: exit 1", r.detail)
    r = durable("raise-event", *b, "--id", "nope", "--event-name", "X")
    ok(r.returncode == 1, "raise-event to no instance: exit 1", r.detail)

    r = durable("suspend", *b, "--id", "appr-2", "--reason", "pause")
    ok(r.returncode == 0 and "appr-2: suspended" in r.stdout, "suspend",
       r.detail)
    st = wait_status(srv, "appr-2", ["Suspended"], 5)
    ok(st and st["runtimeStatus"] == "Suspended", "appr-2 is Suspended", st)
    r = durable("resume", *b, "--id", "appr-2")
    ok(r.returncode == 0, "resume", r.detail)
    st = wait_status(srv, "appr-2", ["Running"], 5)
    ok(st and st["runtimeStatus"] == "Running", "appr-2 runs again", st)
    r = durable("terminate", *b, "--id", "appr-2", "--reason", "enough")
    ok(r.returncode == 0, "terminate", r.detail)
    st = wait_status(srv, "appr-2", ["Terminated"], 5)
    ok(st and st["output"] == "enough", "appr-2 is Terminated", st)
    r = durable("terminate", *b, "--id", "appr-2")
    ok(r.returncode == 1, "terminate a terminated instance: exit 1",
       r.detail)
    r = durable("rewind", *b, "--id", "appr-2")
    ok(r.returncode == 1, "rewind a terminated instance: exit 1", r.detail)
    r = durable("rewind", *b, "--id", "fail-1", "--reason", "again")
    ok(r.returncode == 0 and "fail-1: rewound" in r.stdout,
       "rewind a failed instance", r.detail)

    # an entity for the export
    urllib.request.urlopen(urllib.request.Request(
        srv.base + "/entities/Counter/k?op=add", data=b"5", method="POST",
        headers={"x-functions-key": KEY,
                 "Content-Type": "application/json"}), timeout=30)
    wait_status(srv, "fail-1", ["Failed"])


def test_purge(srv):
    b = ["--url", srv.base, "--key", KEY]
    r = durable("purge-history", *b)
    ok(r.returncode == 2, "purge-history needs --id or a filter", r.detail)
    r = durable("purge-history", *b, "--id", "appr-2", "--json")
    ok(r.returncode == 0 and as_json(r) == {"instancesDeleted": 1},
       "purge-history --id", r.detail)
    r = durable("purge-history", *b, "--id", "appr-2")
    ok(r.returncode == 1 and "nothing purged" in r.stdout,
       "purge-history of no instance: exit 1", r.detail)
    r = durable("purge-history", *b, "--created-after",
                "2000-01-01T00:00:00Z", "--runtime-status", "Failed")
    ok(r.returncode == 0 and r.stdout == "1 instances deleted\n",
       "purge-history by filter", r.detail)


def test_offline_live(srv, tmp):
    store = srv.store

    r = durable("check", store)
    ok(r.returncode == 0 and "consistent" in r.stdout,
       "check next to a live nginx", r.detail)
    r = durable("check", "--json", store)
    st = as_json(r)
    ok(r.returncode == 0 and st and st["consistent"] is True
       and st["stats"]["instances"] >= 3 and st["problems"] == [],
       "check --json", r.detail)
    r = durable("check", os.path.join(tmp, "absent"))
    ok(r.returncode == 3, "check of no store: exit 3", r.detail)
    r = durable("check", "host=%s port=1 dbname=durable" % tmp)
    ok(r.returncode == 3 and "cannot connect to the database" in r.stderr,
       "a PostgreSQL conninfo with no server: exit 3", r.detail)

    r = subprocess.run([os.path.join(os.path.dirname(DURABLE),
                                     "durable-check"), store],
                       capture_output=True, text=True)
    ok(r.returncode == 0 and r.stdout.endswith("consistent\n"),
       "durable-check, the old name, still checks", r.stdout + r.stderr)

    r = durable("stats", "--json", store)
    st = as_json(r)
    hubs = {h["hub"]: h for h in (st or {}).get("hubs", [])}
    ok(r.returncode == 0 and HUB in hubs
       and hubs[HUB]["status"] == {"Completed": 3}
       and hubs[HUB]["records"]["entities"] == 2,
       "stats --json: statuses and entities (Counter k, approvals)",
       r.detail)
    # a hub with no records is none: said, exit 1, nothing exported
    for args in (["export"], ["check"], ["check", "--json"], ["stats"],
                 ["stats", "--json"]):
        r = durable(*args, "--hub", "NoSuch", store)
        ok(r.returncode == 1 and 'no hub "NoSuch"' in r.stderr
           and "consistent" not in r.stdout and "header" not in r.stdout,
           "durable %s --hub NoSuch: no hub, exit 1" % " ".join(args),
           r.detail)
    for opt in ("--list-ids", "--dump"):
        r = durable("check", opt, "NoSuch", store)
        ok(r.returncode == 1 and 'no hub "NoSuch"' in r.stderr
           and r.stdout == "",
           "durable check %s NoSuch: no hub, exit 1" % opt, r.detail)

    # an earlier export is left as it was by one that fails
    prev = os.path.join(os.path.dirname(store), "prev.jsonl")
    with open(prev, "w") as f:
        f.write("an earlier export\n")
    r = durable("export", "--hub", "NoSuch", "--output", prev, store)
    ok(r.returncode == 1 and open(prev).read() == "an earlier export\n"
       and not [n for n in os.listdir(os.path.dirname(prev))
                if n.startswith("prev.jsonl.tmp")],
       "a failed export --output leaves the file and no other", r.detail)
    r = durable("export", "--hub", HUB, "--output", prev, store)
    ok(r.returncode == 0 and open(prev).read().startswith('{"type":"header"'),
       "an export --output replaces the file", r.detail)
    os.unlink(prev)
    r = subprocess.run([os.path.join(os.path.dirname(DURABLE),
                                     "durable-check"), "--hub", "NoSuch",
                        store], capture_output=True, text=True)
    ok(r.returncode == 1 and 'no hub "NoSuch"' in r.stderr,
       "durable-check --hub NoSuch: no hub, exit 1", r.stdout + r.stderr)
    r = durable("check", "--hub", HUB, store)
    ok(r.returncode == 0 and r.stdout.endswith("consistent\n"),
       "check --hub of a hub that is there", r.detail)
    # check takes --name=value as every command does, durable-check too
    r2 = durable("check", "--hub=" + HUB, store)
    ok(r2.returncode == 0 and r2.stdout == r.stdout,
       "check --hub=HUB: as check --hub HUB", r2.detail)
    r = durable("check", "--list-ids", HUB, store)
    r2 = durable("check", "--list-ids=" + HUB, "--map-size=0", store)
    ok(r.returncode == 0 and r.stdout and r2.returncode == 0
       and r2.stdout == r.stdout,
       "check --list-ids=HUB --map-size=0: as check --list-ids HUB",
       r.detail + "\n" + r2.detail)
    r = subprocess.run([os.path.join(os.path.dirname(DURABLE),
                                     "durable-check"), "--hub=NoSuch",
                        store], capture_output=True, text=True)
    ok(r.returncode == 1 and 'no hub "NoSuch"' in r.stderr,
       "durable-check --hub=NoSuch: no hub, exit 1", r.stdout + r.stderr)

    for args in (["stats", "--json"], ["stats"], ["check"],
                 ["check", "--json"], ["check", "--list-ids", HUB],
                 ["export"]):
        full_ok(durable_full(*args, store), "durable " + " ".join(args))
    r = durable("stats", store)
    ok(r.returncode == 0 and "hub " + HUB in r.stdout
       and "instances 3 (Completed 3)" in r.stdout, "stats, human",
       r.detail)

    # export, import into a fresh store, export again: the same records
    exp1 = os.path.join(tmp, "exp1.jsonl")
    r = durable("export", store, "--output", exp1)
    ok(r.returncode == 0, "export", r.detail)
    lines = export_lines(exp1)
    types = {json.loads(l)["type"] for l in lines}
    ok({"instances", "history", "entities", "end"} <= types,
       "export holds instances, history, entities", types)

    fresh = os.path.join(tmp, "fresh")
    r = durable("import", fresh, "--input", exp1, "--json")
    ok(r.returncode == 0 and as_json(r) == {"hub": HUB,
                                             "records": len(lines) - 1},
       "import into a new store", r.detail)
    exp2 = os.path.join(tmp, "exp2.jsonl")
    r = durable("export", fresh, "--output", exp2)
    ok(r.returncode == 0 and export_lines(exp2) == lines,
       "the re-export equals the export, byte for byte", r.detail)
    r = durable("check", fresh)
    ok(r.returncode == 0, "the imported store checks consistent", r.detail)
    r = durable("import", fresh, "--input", exp1)
    ok(r.returncode == 1 and "has records already" in r.stderr,
       "import into a hub that has records: exit 1", r.detail)

    r = durable("import", fresh, "--input", exp1, "--hub", "Copy")
    ok(r.returncode == 0, "import under another hub name", r.detail)
    r = durable("export", fresh, "--hub", "Copy")
    ok(r.returncode == 0 and r.stdout.splitlines()[1:] == lines,
       "the renamed hub has the same records", r.detail)

    cut = os.path.join(tmp, "cut.jsonl")
    with open(cut, "w") as f:
        f.write("\n".join(open(exp1).read().splitlines()[:-3]) + "\n")
    r = durable("import", fresh, "--input", cut, "--hub", "Cut")
    ok(r.returncode == 1 and "truncated" in r.stderr,
       "a truncated export is refused", r.detail)
    bad = os.path.join(tmp, "bad.jsonl")
    with open(bad, "w") as f:
        f.write(open(exp1).read().replace('"type":"history"',
                                          '"type":"histories"', 1))
    r = durable("import", fresh, "--input", bad, "--hub", "Bad")
    ok(r.returncode == 1 and "not a record" in r.stderr,
       "an unknown record type is refused", r.detail)
    r = durable("stats", "--json", fresh)
    ok(sorted(h["hub"] for h in as_json(r)["hubs"]) == ["Copy", HUB],
       "refused imports wrote nothing", r.detail)

    # a hub that would be inconsistent is not committed
    incons = os.path.join(tmp, "incons.jsonl")
    with open(incons, "w") as f:
        kept = [l for l in open(exp1).read().splitlines()
                if '"type":"by_created"' not in l]
        kept[-1] = json.dumps({"type": "end", "records": len(kept) - 2},
                              separators=(",", ":"))
        f.write("\n".join(kept) + "\n")
    r = durable("import", fresh, "--input", incons, "--hub", "Incons")
    ok(r.returncode == 1 and "not consistent" in r.stderr,
       "an export without an index is refused by the check", r.detail)

    test_import_refused(tmp, fresh, exp1)

    r = durable("delete-task-hub", fresh)
    ok(r.returncode == 2, "delete-task-hub needs --hub", r.detail)
    r = durable("delete-task-hub", fresh, "--hub", "Copy", "--json")
    ok(r.returncode == 0
       and as_json(r) == {"hub": "Copy", "recordsDeleted": len(lines) - 1},
       "delete-task-hub", r.detail)
    r = durable("delete-task-hub", fresh, "--hub", "Copy")
    ok(r.returncode == 1, "delete-task-hub of an empty hub: exit 1",
       r.detail)
    r = durable("stats", "--json", fresh)
    ok([h["hub"] for h in as_json(r)["hubs"]] == [HUB],
       "the other hub stays", r.detail)
    r = durable("check", fresh)
    ok(r.returncode == 0, "consistent after delete-task-hub", r.detail)

    # backup of the live store; compact refused while nginx has it open
    bak = os.path.join(tmp, "backup")
    r = durable("backup", store, bak)
    ok(r.returncode == 0 and "consistent" in r.stdout,
       "backup of a live store", r.detail)
    r = durable("export", bak)
    ok(r.returncode == 0 and r.stdout.splitlines()[1:] == lines,
       "the backup holds the same hub", r.detail)
    r = durable("backup", store, bak)
    ok(r.returncode == 1 and "not empty" in r.stderr,
       "backup into a directory that is not empty: exit 1", r.detail)
    r = durable("compact", store)
    ok(r.returncode == 1 and "stop nginx first" in r.stderr,
       "compact of a live store is refused", r.detail)
    r = durable("restore", bak, store)
    ok(r.returncode == 1 and "--force" in r.stderr,
       "restore over a store needs --force", r.detail)
    r = durable("restore", "--force", bak, store)
    ok(r.returncode == 1 and "stop nginx first" in r.stderr,
       "restore --force over a live store is refused", r.detail)
    r = durable("restore", bak, os.path.join(tmp, "restored"))
    ok(r.returncode == 0, "restore into a new directory", r.detail)
    r = durable("restore", bak, os.path.join(tmp, "a=b"))
    ok(r.returncode == 0, "restore into a directory named with '='",
       r.detail)
    r = durable("check", os.path.join(tmp, "a=b"))
    ok(r.returncode == 0 and "consistent" in r.stdout,
       "a directory path with '=' in it is a store, not a conninfo",
       r.detail)
    r = durable("export", os.path.join(tmp, "restored"))
    ok(r.stdout.splitlines()[1:] == lines, "the restored store", r.detail)
    return bak, lines


def edited_export(tmp, exp1, name, edit):
    """exp1 with edit(header, records) applied (records as dicts, their
    key and value decoded); the end line counts the records unless edit
    returns an end of its own. Returns the path and the records."""
    with open(exp1) as f:
        lines = f.read().splitlines()
    header = json.loads(lines[0])
    recs = []
    for l in lines[1:-1]:
        rec = json.loads(l)
        rec["key"] = base64.b64decode(rec["key"])
        rec["value"] = base64.b64decode(rec["value"])
        recs.append(rec)
    end = edit(header, recs)
    if end is None:
        end = {"type": "end", "records": len(recs)}
    out = [header]
    for rec in recs:
        out.append({"type": rec["type"],
                    "key": base64.b64encode(rec["key"]).decode(),
                    "value": base64.b64encode(rec["value"]).decode()})
    path = os.path.join(tmp, name + ".jsonl")
    with open(path, "w") as f:
        for o in out + [end]:
            f.write(json.dumps(o, separators=(",", ":")) + "\n")
    return path, recs


def first_line(recs, type_, cond=lambda rec: True):
    """the line number (the header is line 1) of the first such record"""
    for i, rec in enumerate(recs):
        if rec["type"] == type_ and cond(rec):
            return i + 2
    return None


def test_import_refused(tmp, fresh, exp1):
    """what would leave a hub the API cannot serve is refused, naming the
    line and what is wrong, and nothing is written"""

    def history_not_json(header, recs):
        for rec in recs:
            if rec["type"] == "history":
                rec["value"] = b"nope"
                return None

    path, recs = edited_export(tmp, exp1, "hist", history_not_json)
    n = first_line(recs, "history")
    r = durable("import", fresh, "--input", path, "--hub", "Hist")
    ok(r.returncode == 1
       and "line %d: history record: the history event is not JSON" % n
       in r.stderr, "a history event that is not JSON is refused",
       r.detail)

    # appr-1's input 600 in its record and in its by_created list copy,
    # so that the hub is consistent but for the JSON
    def input_not_json(header, recs):
        for rec in recs:
            if (rec["type"] in ("instances", "by_created")
                    and rec["key"].endswith(b"appr-1")):
                assert b"600" in rec["value"]
                rec["value"] = rec["value"].replace(b"600", b"6 0", 1)

    path, recs = edited_export(tmp, exp1, "input", input_not_json)
    n = first_line(recs, "instances", lambda rec: rec["key"] == b"appr-1")
    r = durable("import", fresh, "--input", path, "--hub", "Input")
    ok(r.returncode == 1
       and "line %d: instances record: the input is not JSON" % n
       in r.stderr, "an instance input that is not JSON is refused",
       r.detail)

    # an unlocked entity's record ends with its state (store/ds_entity.c:
    # flag 1 of byte 1 says it has one); no JSON value ends with ','
    def entity_state_not_json(header, recs):
        for rec in recs:
            if rec["type"] == "entities" and rec["value"][1] & 1:
                rec["value"] = rec["value"][:-1] + b","
                rec["edited"] = True
                return None

    path, recs = edited_export(tmp, exp1, "state", entity_state_not_json)
    n = first_line(recs, "entities", lambda rec: "edited" in rec)
    r = durable("import", fresh, "--input", path, "--hub", "State")
    ok(n is not None and r.returncode == 1
       and "line %d: entities record: the entity state is not JSON" % n
       in r.stderr, "an entity state that is not JSON is refused",
       r.detail)

    # an activity record of the version 3 layout (store/ds_activity.c:
    # a versioned call's version and tags), whose tags are not JSON
    def activity_tags_not_json(header, recs):
        for rec in recs:
            if rec["type"] == "activities" and len(rec["value"]) >= 52:
                v = rec["value"]
                rec["value"] = (b"\x03" + v[1:52] + (0).to_bytes(4, "big")
                                + (1).to_bytes(4, "big") + v[52:] + b"{")
                rec["edited"] = True
                return None

    path, recs = edited_export(tmp, exp1, "tags", activity_tags_not_json)
    n = first_line(recs, "activities", lambda rec: "edited" in rec)
    r = durable("import", fresh, "--input", path, "--hub", "Tags")
    ok(n is not None and r.returncode == 1
       and "line %d: activities record: the activity tags are not a JSON "
       "object of strings" % n in r.stderr,
       "activity tags that are not JSON are refused", r.detail)

    # hub names the API cannot reach
    r = durable("import", fresh, "--input", exp1, "--hub", "a b")
    ok(r.returncode == 1 and "cannot be reached through the API"
       in r.stderr, "import --hub \"a b\" is refused", r.detail)
    for hub in ("bad hub/x", "Hub\u00e9", "9lives"):
        def header_hub(header, recs, hub=hub):
            header["hub"] = hub
        path, recs = edited_export(tmp, exp1, "hubname", header_hub)
        r = durable("import", fresh, "--input", path)
        ok(r.returncode == 1 and "cannot be reached through the API"
           in r.stderr, "a header hub %r is refused" % hub, r.detail)

    # ids the API refuses: renamed in every key that holds them, the hub
    # stays consistent, so only the name rule refuses it
    for old, new, type_, said in (
            (b"appr-1", b"appr\x1b]1", "instances",
             'the instance id "appr\\u001b]1" cannot be reached through '
             'the API: it must not contain control characters'),
            (b"appr-1", b"@ppr-1", "instances",
             "it must not start with '@'"),
            (b"@counter@k", b"@coun/er@k", "entities",
             'the entity id "@coun/er@k" cannot be reached through the '
             "API: its name must not contain '/'"),
            (b"@counter@k", b"@Counter@k", "entities",
             'the entity id "@Counter@k" cannot be reached through the '
             "API: its name must be lower-case")):
        def rename(header, recs, old=old, new=new):
            for rec in recs:
                rec["key"] = rec["key"].replace(old, new)
        path, recs = edited_export(tmp, exp1, "badid", rename)
        n = first_line(recs, type_, lambda rec: rec["key"] == new)
        r = durable("import", fresh, "--input", path, "--hub", "BadId")
        ok(n is not None and r.returncode == 1
           and "line %d: %s record: " % (n, type_) in r.stderr
           and said in r.stderr and "\x1b" not in r.stderr,
           "import of the %s id %r is refused"
           % ("entity" if type_ == "entities" else "instance", new),
           r.detail)

    # an id from the file reaches the terminal escaped
    def escape_id(header, recs):
        recs.append({"type": "history", "value": b"{}",
                     "key": b"\x1b[31mx\x00" + (1).to_bytes(8, "big")})

    path, recs = edited_export(tmp, exp1, "escape", escape_id)
    r = durable("import", fresh, "--input", path, "--hub", "Escape")
    ok(r.returncode == 1 and "not consistent" in r.stderr
       and "\x1b" not in r.stderr and "\\u001b[31mx" in r.stderr,
       "the check's problems print ids escaped", r.detail)

    # what ds_hub_put refuses, said
    def duplicate(header, recs):
        recs.append(dict(recs[first_line(recs, "history") - 2]))

    path, recs = edited_export(tmp, exp1, "dup", duplicate)
    r = durable("import", fresh, "--input", path, "--hub", "Dup")
    ok(r.returncode == 1 and "line %d: a history record with the same key "
       "came before" % (len(recs) + 1) in r.stderr,
       "a duplicate record is refused as one", r.detail)
    for name, key, said in (("empty", b"", "the key is empty"),
                            ("long", b"k" * 2000, "the key is longer")):
        def bad_key(header, recs, key=key):
            recs[first_line(recs, "history") - 2]["key"] = key
        path, recs = edited_export(tmp, exp1, name, bad_key)
        n = first_line(recs, "history")
        r = durable("import", fresh, "--input", path, "--hub", "Key")
        ok(r.returncode == 1 and "line %d: %s" % (n, said) in r.stderr,
           "an import with a %s key says so" % name, r.detail)

    # the header's layout and the end's count
    for layout in ("pg", None):
        def set_layout(header, recs, layout=layout):
            if layout is None:
                del header["layout"]
            else:
                header["layout"] = layout
        path, recs = edited_export(tmp, exp1, "layout", set_layout)
        r = durable("import", fresh, "--input", path, "--hub", "Layout")
        ok(r.returncode == 1 and "the layout is not" in r.stderr,
           "a header with layout %r is refused" % layout, r.detail)

    def string_count(header, recs):
        del recs[:]
        return {"type": "end", "records": "0"}

    path, recs = edited_export(tmp, exp1, "count", string_count)
    r = durable("import", fresh, "--input", path, "--hub", "Count")
    ok(r.returncode == 1 and "is not an integer" in r.stderr,
       "an end with \"records\":\"0\" is refused", r.detail)

    r = durable("stats", "--json", fresh)
    ok(sorted(h["hub"] for h in as_json(r)["hubs"]) == ["Copy", HUB],
       "the refused imports wrote nothing", r.detail)


def test_offline_stopped(srv, tmp, bak, lines):
    store = srv.store
    r = durable("compact", "--json", store)
    st = as_json(r)
    ok(r.returncode == 0 and st and st["bytes_after"] > 0,
       "compact of a stopped store", r.detail)
    r = durable("export", store)
    ok(r.stdout.splitlines()[1:] == lines and
       durable("check", store).returncode == 0,
       "compacted: same records, consistent", r.detail)
    r = durable("delete-task-hub", store, "--hub", HUB)
    ok(r.returncode == 0, "delete the hub of the stopped store", r.detail)
    r = durable("restore", "--force", bak, store)
    ok(r.returncode == 0, "restore --force over a stopped store", r.detail)
    r = durable("export", store)
    ok(r.stdout.splitlines()[1:] == lines, "the hub is back", r.detail)


def main():
    for p in (NGINX, MODULE_SO, DURABLE):
        if not os.path.exists(p):
            sys.exit("test-cli: missing %s (make build and build/durable)"
                     % p)
    tmp = tempfile.mkdtemp(prefix="durable-cli.")
    os.chmod(tmp, 0o755)
    srv = worker = None
    try:
        test_help()
        test_no_store(tmp)
        test_escaped_answers()
        test_unexpected_answers()
        test_repeated_token()
        test_full_output()
        srv = Server(tmp)
        worker = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "examples/worker/worker.py"),
             "--url", srv.base, "--key", WORKER_KEY, "--wait", "1"],
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(tmp, "worker.log"), "w"))
        test_online(srv)
        test_purge(srv)
        bak, lines = test_offline_live(srv, tmp)
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        srv.stop()
        test_offline_stopped(srv, tmp, bak, lines)
    finally:
        if worker and worker.poll() is None:
            worker.kill()
            worker.wait()
        if srv:
            srv.stop()
    print("1..%d" % count)
    if failed:
        print("# test-cli: %d of %d failed; files in %s"
              % (failed, count, tmp))
        return 1
    shutil.rmtree(tmp)
    print("# test-cli: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
