#!/usr/bin/env python3
"""make test-quickstart: the README's Quick start, run as it is written.

    python3 util/quickstart_test.py         (as root; skipped otherwise)
    python3 util/quickstart_test.py --self-test   (the README parser only)

A git clone of this checkout (a copy of its files if it has uncommitted
changes) goes to a new mode-700 directory, as in root's home:
nginx started as root runs its workers as nobody, who cannot reach it,
which is the case the Quick start must survive. There, in the order of
the section, the fenced blocks run:

* ```sh: every line is a command that runs in a terminal of its own until
  Ctrl-C (make run, make worker). It starts in the background, in its own
  session; then 127.0.0.1:8080 must answer.
* ```console: every "$ command" (with its "\\" continuation lines) runs to
  its end, must exit 0 and print the lines shown under it: a line of
  "..." (indented or not) stands for any number of lines, "..." within a
  line for any text. A command that only reads (no -X, not make) is
  repeated for up to 30 s until it prints that, as one polls. NAME=value
  lines set a variable for the commands after them.

8080 and 9090 in the text are replaced by free ports. Also checked: the
runtime directory make run prints is the one the README describes, and a
second make run or make demo on the port in use fails and says why. At
the end the background commands get SIGINT (Ctrl-C) and must stop.
"""

import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from ports import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD_WAIT = 600        # seconds for make run to build and answer
POLL_WAIT = 30          # seconds a reading command is repeated
STOP_WAIT = 30          # seconds for a background command to stop


class Failed(Exception):
    pass


def say(msg):
    print("quickstart: %s" % msg, flush=True)


def answers(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def copy_clone(dest):
    """A git clone of this checkout, as a user would make; if the tree has
    changes not committed, a copy of its files (tracked, and new ones not
    ignored) instead, so those are what is tested. Returns how."""
    try:
        dirty = subprocess.run(
            ["git", "-C", ROOT, "status", "--porcelain"], check=True,
            capture_output=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        dirty = None
    if dirty == b"":
        subprocess.run(["git", "clone", "--quiet", ROOT, dest], check=True)
        return "git clone"
    if dirty is None:           # not a git checkout: all but the outputs
        shutil.copytree(ROOT, dest, symlinks=True,
                        ignore=shutil.ignore_patterns(
                            ".git", "build", "var", "servroot*"))
        return "copy (not a git checkout)"
    out = subprocess.run(
        ["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others",
         "--exclude-standard"], check=True, capture_output=True).stdout
    for p in (p for p in out.decode().split("\0") if p):
        src, dst = os.path.join(ROOT, p), os.path.join(dest, p)
        if not os.path.lexists(src):    # deleted, not yet committed
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst, follow_symlinks=False)
    return "copy (the tree has uncommitted changes)"


def quickstart_blocks(readme):
    """[(kind, lines)] of the fenced blocks of the Quick start section."""
    with open(readme) as f:
        text = f.read()
    m = re.search(r"^## Quick start\n(.*?)^## ", text, re.M | re.S)
    if not m:
        raise Failed("README.md has no Quick start section")
    blocks = re.findall(r"^```(\w*)\n(.*?)^```$", m.group(1), re.M | re.S)
    if not blocks:
        raise Failed("the Quick start has no fenced blocks")
    for kind, body in blocks:
        if not kind:
            raise Failed("a fenced block without a language in the Quick "
                         "start (sh or console): %r"
                         % body.splitlines()[:1])
    return [(kind, body.splitlines()) for kind, body in blocks]


def console_steps(lines):
    """[(command, expected lines)] of a console block."""
    steps = []
    i = 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            raise Failed("console block: %r is not under a command"
                         % lines[i])
        cmd = [lines[i][2:]]
        while cmd[-1].endswith("\\"):
            i += 1
            cmd.append(lines[i])
        i += 1
        expected = []
        while i < len(lines) and not lines[i].startswith("$ "):
            expected.append(lines[i])
            i += 1
        steps.append(("\n".join(cmd), expected))
    return steps


def pattern(expected):
    """The regex of an expected output ("..." lines and elisions)."""
    parts = []
    for line in expected:
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append("[^\n]*?".join(re.escape(piece)
                                        for piece in line.split("..."))
                         + r"\n")
    return re.compile("".join(parts))


class Quickstart:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="quickstart-")
        os.chmod(self.tmp, 0o700)
        self.clone = os.path.join(self.tmp, "ngx_durable")
        # free_port() never gives a port twice
        self.ports = {"8080": free_port(), "9090": free_port()}
        self.port = self.ports["8080"]
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS",
                                 "MAKEOVERRIDES", "NGINX")}
        self.env["PORT"] = str(self.port)
        self.background = []    # (command, Popen, log path)
        self.variables = []     # NAME=value lines so far
        self.count = 0

    def text(self, s):
        for word, port in self.ports.items():
            s = s.replace(word, str(port))
        return s

    # ---- the blocks -------------------------------------------------------

    def start(self, line):
        cmd = self.text(line.split("#", 1)[0].strip())
        if not cmd:
            return
        log = os.path.join(self.tmp, "bg%d.log" % len(self.background))

        def child():
            os.setsid()
            # a terminal's Ctrl-C works on it even if ours ignores SIGINT
            signal.signal(signal.SIGINT, signal.SIG_DFL)

        with open(log, "wb") as out:
            proc = subprocess.Popen(["bash", "-c", cmd], cwd=self.clone,
                                    env=self.env, stdout=out,
                                    stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL,
                                    preexec_fn=child)
        self.background.append((cmd, proc, log))
        say("started in the background: %s" % cmd)
        deadline = time.monotonic() + BUILD_WAIT
        while not answers(self.port):
            if proc.poll() is not None:
                raise Failed("%s exited (%s) before 127.0.0.1:%d answered"
                             % (cmd, proc.returncode, self.port))
            if time.monotonic() > deadline:
                raise Failed("127.0.0.1:%d does not answer after %ds"
                             % (self.port, BUILD_WAIT))
            time.sleep(0.5)

    def run(self, cmd, timeout=300):
        script = "\n".join(self.variables + [cmd])
        r = subprocess.run(["bash", "-c", script], cwd=self.clone,
                           env=self.env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                           timeout=timeout)
        out = r.stdout.decode(errors="replace").replace("\r\n", "\n")
        if out and not out.endswith("\n"):
            out += "\n"
        return r.returncode, out

    def step(self, cmd, expected):
        cmd = self.text(cmd)
        if re.fullmatch(r"[A-Za-z_]\w*=\S*", cmd):
            self.variables.append(cmd)
            return
        want = pattern([self.text(line) for line in expected])
        polls = "-X" not in cmd and "make" not in cmd
        deadline = time.monotonic() + (POLL_WAIT if polls else 0)
        while True:
            status, out = self.run(cmd)
            if status == 0 and want.fullmatch(out):
                break
            if time.monotonic() >= deadline:
                raise Failed("$ %s\nexit status %d; expected:\n%s\n"
                             "got:\n%s" % (cmd, status,
                                           "\n".join(expected), out))
            time.sleep(0.5)
        self.count += 1
        say("ok %d: %s" % (self.count, cmd.splitlines()[0]))

    # ---- what the README says besides -------------------------------------

    def check_runtime_dir(self):
        """make run's banner names the runtime directory; as root in a
        private clone it is /var/tmp/ngx_durable-<hash>/var, with the
        store in it."""
        with open(self.background[0][2], errors="replace") as f:
            m = re.search(r"^runtime directory: (\S+) ", f.read(), re.M)
        if not m:
            raise Failed("make run did not print its runtime directory")
        digest = hashlib.sha256(self.clone.encode()).hexdigest()[:16]
        want = "/var/tmp/ngx_durable-%s/var" % digest
        if m.group(1) != want:
            raise Failed("runtime directory %s, not %s" % (m.group(1), want))
        if not os.path.exists(os.path.join(want, "data", "data.mdb")):
            raise Failed("no store in %s/data" % want)
        self.count += 1
        say("ok %d: the runtime directory is %s" % (self.count, want))

    def check_port_taken(self):
        for target in ("run", "demo"):
            status, out = self.run("make %s" % target, timeout=120)
            said = "127.0.0.1:%d is in use" % self.port
            if status == 0 or said not in out:
                raise Failed("make %s on the port in use: exit status %d, "
                             "output:\n%s" % (target, status, out))
            self.count += 1
            say("ok %d: make %s on the port in use fails: %s"
                % (self.count, target, said))
        # the gRPC port in use names its own variable
        status, out = self.run("PORT=%d GRPC_PORT=%d make run"
                               % (free_port(), self.port), timeout=120)
        said = "e.g. GRPC_PORT=4101 make run"
        if status == 0 or said not in out:
            raise Failed("make run on a gRPC port in use: exit status %d, "
                         "output:\n%s" % (status, out))
        self.count += 1
        say("ok %d: make run on a gRPC port in use fails: %s"
            % (self.count, said))

    def stop(self):
        """Ctrl-C, last started first; each must end, and nginx with it."""
        for cmd, proc, _ in reversed(self.background):
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(STOP_WAIT)
            except subprocess.TimeoutExpired:
                raise Failed("%s did not stop on SIGINT" % cmd)
        deadline = time.monotonic() + STOP_WAIT
        while answers(self.port):
            if time.monotonic() > deadline:
                raise Failed("127.0.0.1:%d still answers after make run "
                             "stopped" % self.port)
            time.sleep(0.2)
        self.count += 1
        say("ok %d: Ctrl-C stopped %s" % (self.count, ", ".join(
            cmd for cmd, _, _ in self.background)))

    def cleanup(self):
        for _, proc, _ in self.background:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
        digest = hashlib.sha256(self.clone.encode()).hexdigest()[:16]
        shutil.rmtree("/var/tmp/ngx_durable-%s" % digest, ignore_errors=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def main(self):
        how = copy_clone(self.clone)
        say("%s in %s (mode 700); ports %d and %d"
            % (how, self.clone, self.ports["8080"], self.ports["9090"]))
        blocks = quickstart_blocks(os.path.join(self.clone, "README.md"))
        for kind, lines in blocks:
            if kind == "sh":
                for line in lines:
                    self.start(line)
            elif kind == "console":
                for cmd, expected in console_steps(lines):
                    self.step(cmd, expected)
            else:
                raise Failed("a ```%s block in the Quick start: only sh "
                             "and console are run" % kind)
        if not self.background:
            raise Failed("the Quick start starts nothing (no sh block)")
        self.check_runtime_dir()
        self.check_port_taken()
        self.stop()


def self_test():
    """The README parser alone: a fence without a language fails."""
    with tempfile.TemporaryDirectory() as tmp:
        readme = os.path.join(tmp, "README.md")
        with open(readme, "w") as f:
            f.write("## Quick start\n\n```sh\nmake run\n```\n\n"
                    "```\n$ curl -s localhost:8080/\n```\n\n## Next\n")
        try:
            quickstart_blocks(readme)
        except Failed as exc:
            if "without a language" in str(exc):
                say("self-test ok: %s" % exc)
                return 0
        say("self-test FAILED: a fence without a language was accepted")
        return 1


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if self_test() != 0:
        return 1
    if os.geteuid() != 0:
        say("skipped: run as root, it checks the Quick start where nginx's "
            "workers (nobody) cannot reach the clone")
        return 0
    qs = Quickstart()
    try:
        qs.main()
    except (Failed, subprocess.TimeoutExpired) as exc:
        say("FAILED: %s" % exc)
        for cmd, _, log in qs.background:
            with open(log, errors="replace") as f:
                tail = f.read()[-3000:]
            print("---- %s (last lines)\n%s" % (cmd, tail))
        return 1
    finally:
        qs.cleanup()
    say("OK: %d checks" % qs.count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
