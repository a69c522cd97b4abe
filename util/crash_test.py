#!/usr/bin/env python3
"""Fault injection for ngx_durable: writes under load while nginx workers
are SIGKILLed, or while nginx reloads and upgrades its binary.

    python3 util/crash_test.py --mode crash|crash-nosync|crash-loop|reload|all \
        [--seconds 60] [--clients 4] [--prefix build/stress]

`make stress` runs --mode all (QUICK=1: 10 s per mode). Each mode starts
its own nginx (a master and two workers, prefix build/stress/<mode>, the
config from util/stress/nginx.conf.in), drives starts with unique explicit
ids and raise-events to them over keep-alive connections, and records
every request and whether it was acknowledged (a 2xx received). Then it
stops nginx and checks:

  * build/durable-check: the store is consistent (records, indexes,
    inboxes, the ready index agree);
  * every acknowledged start exists with its input; every instance in the
    store is one whose start was sent (and, if unacknowledged, is whole);
  * every acknowledged raise-event is in its instance's inbox exactly once;
    no event is there twice, none that was never sent;
  * every read of an acknowledged instance (any worker, right after the
    acknowledgement) finds it;
  * no 5xx answer, no partial response;
  * crash modes: nginx restarts on the store and serves what was written;
  * reload mode: requests whose connection closed before any response
    byte are retried (as keep-alive clients do); a retried start that
    finds its id taken (409) means a write was applied but never answered;
  * the LMDB reader table holds no slot of a dead process at the end and
    does not grow across reloads; the master never maps the store.

Stdlib only. Every loop is bounded in time; every nginx started here is
stopped on every exit path. Exit status 0 when every check passed.
"""

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

from ports import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HUB = 'DurableFunctionsHub'

# masters started (or exec'ed by an upgrade) here: stopped at exit
MASTERS = set()


def log(msg):
    print('[stress %s] %s' % (time.strftime('%H:%M:%S'), msg), flush=True)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is dead for our purposes
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def children(ppid):
    """pids of the processes whose parent is ppid"""
    out = []
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % d) as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == ppid and fields[0] != 'Z':
            out.append(int(d))
    return out


def maps_store(pid):
    try:
        with open('/proc/%d/maps' % pid) as f:
            return 'data.mdb' in f.read()
    except OSError:
        return False


def stop_master(pid, sig=signal.SIGTERM, wait=15):
    """stops one master we started and, failing that, its workers"""
    if not alive(pid):
        MASTERS.discard(pid)
        return
    kids = children(pid)
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
    end = time.time() + wait
    while time.time() < end and alive(pid):
        time.sleep(0.05)
    if alive(pid):
        log('master %d did not stop; SIGKILL' % pid)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    # workers of a master that died without them
    for k in kids:
        if alive(k):
            try:
                os.kill(k, signal.SIGKILL)
            except ProcessLookupError:
                pass
    MASTERS.discard(pid)


def cleanup(*_):
    for pid in list(MASTERS):
        stop_master(pid, signal.SIGTERM, 5)


def on_signal(signum, _frame):
    cleanup()
    sys.exit(128 + signum)


# ---------------------------------------------------------------- nginx


class Nginx:
    def __init__(self, args, mode, sync, store_extra=''):
        self.args = args
        self.prefix = os.path.join(args.prefix, mode)
        self.data = os.path.join(self.prefix, 'data')
        self.port = free_port()
        shutil.rmtree(self.prefix, ignore_errors=True)
        os.makedirs(os.path.join(self.prefix, 'conf'))
        os.makedirs(os.path.join(self.prefix, 'logs'))
        with open(os.path.join(HERE, 'stress', 'nginx.conf.in')) as f:
            conf = f.read()
        user = 'user root;' if os.geteuid() == 0 else ''
        for k, v in (('@MODULE@', os.path.abspath(args.module)),
                     ('@USER@', user), ('@DATA@', self.data),
                     ('@SYNC@', sync), ('@STORE_EXTRA@', store_extra),
                     ('@PORT@', str(self.port))):
            conf = conf.replace(k, v)
        self.conf = os.path.join(self.prefix, 'conf', 'nginx.conf')
        with open(self.conf, 'w') as f:
            f.write(conf)
        self.pidfile = os.path.join(self.prefix, 'logs', 'nginx.pid')

    def cmd(self, *extra):
        return [self.args.nginx, '-p', self.prefix + '/', '-c', self.conf] \
            + list(extra)

    def master(self):
        try:
            with open(self.pidfile) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def start(self):
        r = subprocess.run(self.cmd(), capture_output=True, text=True,
                           timeout=30)
        if r.returncode != 0:
            raise RuntimeError('nginx did not start: ' + r.stderr)
        end = time.time() + 10
        while time.time() < end:
            pid = self.master()
            if pid:
                MASTERS.add(pid)
                if len(children(pid)) >= 2 and self.ready():
                    return pid
            time.sleep(0.05)
        raise RuntimeError('nginx did not come up')

    def ready(self):
        try:
            c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=2)
            c.request('GET', '/durabletask/instances?top=1')
            ok = c.getresponse().status == 200
            c.close()
            return ok
        except OSError:
            return False

    def workers(self):
        pid = self.master()
        return children(pid) if pid else []

    def reload(self):
        r = subprocess.run(self.cmd('-s', 'reload'), capture_output=True,
                           text=True, timeout=30)
        return r.returncode == 0

    def upgrade(self):
        """USR2 to the master, then QUIT to the old one once the new one
        serves: returns (old, new) pids"""
        old = self.master()
        os.kill(old, signal.SIGUSR2)
        end = time.time() + 10
        new = None
        while time.time() < end:
            pid = self.master()
            if pid and pid != old and os.path.exists(self.pidfile + '.oldbin'):
                new = pid
                MASTERS.add(new)
                if len(children(new)) >= 2:
                    break
            time.sleep(0.05)
        if new is None:
            raise RuntimeError('binary upgrade: no new master')
        time.sleep(0.5)
        os.kill(old, signal.SIGQUIT)
        end = time.time() + 20
        while time.time() < end and alive(old):
            time.sleep(0.05)
        if alive(old):
            raise RuntimeError('binary upgrade: old master %d still there'
                               % old)
        MASTERS.discard(old)
        return old, new

    def stop(self):
        pid = self.master()
        if pid:
            stop_master(pid, signal.SIGQUIT, 20)

    def error_log(self):
        try:
            with open(os.path.join(self.prefix, 'logs', 'error.log')) as f:
                return f.read()
        except OSError:
            return ''


def reader_table(data):
    """(slots holding a snapshot, slots of dead pids, readers used
    high-water); a live worker keeps one reset slot (txnid "-") for its
    next read, which holds no snapshot and is not counted as in use"""
    live = dead = used = 0
    try:
        r = subprocess.run(['mdb_stat', '-r', data], capture_output=True,
                           text=True, timeout=10)
        for line in r.stdout.splitlines():
            m = re.match(r'\s*(\d+)\s+[0-9a-fA-F]+\s+(\S+)', line)
            if m:
                if not alive(int(m.group(1))):
                    dead += 1
                elif m.group(2) != '-':
                    live += 1
        r = subprocess.run(['mdb_stat', '-e', data], capture_output=True,
                           text=True, timeout=10)
        m = re.search(r'Number of readers used:\s*(\d+)', r.stdout)
        used = int(m.group(1)) if m else -1
    except (OSError, subprocess.SubprocessError):
        return (-1, -1, -1)
    return (live, dead, used)


# ---------------------------------------------------------------- load


class NoResponse(Exception):
    """the connection closed (or reset) before any response byte"""


class Refused(Exception):
    """no connection: nothing was sent"""


class Partial(Exception):
    """some of the response came, not all of it"""


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.starts = {}    # id -> {'input': obj, 'state': ..., 'tries': n}
        self.events = {}    # uid -> {'id': instance, 'state': ...}
        self.requests = 0
        self.statuses = {}
        self.noresp = 0     # attempts that got no response byte
        self.retries = 0
        self.partial = 0
        self.timeouts = 0
        self.retry_conflicts = 0
        self.reads = 0
        self.read_misses = 0    # an acknowledged instance not found

    def count(self, status):
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1


class Client(threading.Thread):
    def __init__(self, idx, run, port, stop, stats, retry):
        super().__init__(daemon=True)
        self.idx = idx
        self.run_id = run
        self.port = port
        self.stop = stop
        self.stats = stats
        self.retry = retry
        self.conn = None
        self.rng = random.Random(run * 1000 + idx)
        self.acked = []

    def connect(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection('127.0.0.1', self.port,
                                                   timeout=15)
        return self.conn

    def drop(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def once(self, method, path, body):
        c = self.connect()
        data = None if body is None else json.dumps(body).encode()
        if c.sock is None:
            try:
                c.connect()
            except OSError:
                self.drop()
                raise Refused()
        try:
            c.request(method, path, body=data,
                      headers={'Content-Type': 'application/json'})
        except (BrokenPipeError, ConnectionResetError,
                ConnectionAbortedError):
            self.drop()
            raise NoResponse()
        try:
            resp = c.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError,
                BrokenPipeError, ConnectionAbortedError):
            self.drop()
            raise NoResponse()
        except socket.timeout:
            self.drop()
            raise
        except (http.client.HTTPException, OSError):
            self.drop()
            raise Partial()
        try:
            payload = resp.read()
        except (http.client.HTTPException, OSError):
            self.drop()
            raise Partial()
        if resp.will_close:
            self.drop()
        return resp.status, payload

    def call(self, method, path, body, rec, idempotent=False):
        """one logical request: returns the status, or None (no answer)"""
        tries = 0
        while True:
            tries += 1
            with self.stats.lock:
                self.stats.requests += 1
            rec['sent'] = True
            try:
                status, _ = self.once(method, path, body)
            except NoResponse:
                with self.stats.lock:
                    self.stats.noresp += 1
                # retry like a keep-alive client: the request may never
                # have been read; bounded, and not after the run ends
                if (self.retry or idempotent) and tries < 5:
                    with self.stats.lock:
                        self.stats.retries += 1
                    time.sleep(0.01 * tries)
                    continue
                rec['state'] = 'noresp'
                return None
            except socket.timeout:
                with self.stats.lock:
                    self.stats.timeouts += 1
                rec['state'] = 'timeout'
                return None
            except Partial:
                with self.stats.lock:
                    self.stats.partial += 1
                rec['state'] = 'partial'
                return None
            except Refused:
                # no listener while a worker restarts: nothing was sent
                if tries < 50 and not self.stop.is_set():
                    time.sleep(0.02)
                    continue
                rec['state'] = 'refused'
                return None
            self.stats.count(status)
            rec['tries'] = tries
            if 200 <= status < 300:
                rec['state'] = 'ack'
            else:
                rec['state'] = 'status:%d' % status
            return status

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            dice = self.rng.random()
            if not self.acked or dice < 0.35:
                iid = 'r%d-c%d-%d' % (self.run_id, self.idx, n)
                inp = {'client': self.idx, 'n': n,
                       'pad': 'x' * self.rng.randrange(0, 400)}
                rec = {'input': inp, 'state': 'unsent', 'sent': False}
                with self.stats.lock:
                    self.stats.starts[iid] = rec
                st = self.call('POST', '/durabletask/orchestrators/Stress/'
                               + iid, inp, rec)
                if st == 409 and rec.get('tries', 1) > 1:
                    # an earlier attempt of this very start was applied
                    with self.stats.lock:
                        self.stats.retry_conflicts += 1
                    rec['state'] = 'applied-unanswered'
                if rec['state'] in ('ack', 'applied-unanswered'):
                    self.acked.append(iid)
            elif dice < 0.8:
                iid = self.rng.choice(self.acked)
                uid = 'u%d-c%d-%d' % (self.run_id, self.idx, n)
                rec = {'id': iid, 'state': 'unsent', 'sent': False}
                with self.stats.lock:
                    self.stats.events[uid] = rec
                self.call('POST', '/durabletask/instances/%s/raiseEvent/ev'
                          % iid, {'u': uid}, rec)
            else:
                # reads: an acknowledged start is visible from any worker
                # at once (reads are idempotent: always retried)
                iid = self.rng.choice(self.acked)
                rec = {'state': 'unsent', 'sent': False}
                st = self.call('GET', '/durabletask/instances/%s'
                               '?showInput=false' % iid, None, rec, True)
                with self.stats.lock:
                    self.stats.reads += 1
                    if st is not None and st != 202:
                        self.stats.read_misses += 1
        self.drop()


# ---------------------------------------------------------------- checks


def dump_store(args, data):
    r = subprocess.run([args.check, data], capture_output=True, text=True,
                       timeout=300)
    check_out = r.stdout + r.stderr
    consistent = r.returncode == 0
    r = subprocess.run([args.check, '--dump', HUB, data], capture_output=True,
                       text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError('durable-check --dump failed: ' + r.stderr)
    instances = {}
    for line in r.stdout.splitlines():
        o = json.loads(line)
        instances[o['id']] = o
    return consistent, check_out, instances


def event_uid(msg):
    if msg.get('EventType') != 'EventRaised':
        return None
    inp = msg.get('Input')
    if isinstance(inp, str):
        try:
            inp = json.loads(inp)
        except ValueError:
            return None
    return inp.get('u') if isinstance(inp, dict) else None


def verify(stats, instances):
    """returns (problems, figures)"""
    problems = []
    f = {'starts_sent': 0, 'starts_acked': 0, 'starts_unacked_present': 0,
         'events_sent': 0, 'events_acked': 0, 'events_unacked_present': 0,
         'lost_starts': 0, 'lost_events': 0, 'doubled_events': 0,
         'phantom_instances': 0, 'phantom_events': 0, 'bad_inputs': 0}

    seen = {}
    for iid, o in instances.items():
        for m in o['inbox'] + o['history']:
            uid = event_uid(m)
            if uid is None:
                continue
            seen.setdefault(uid, []).append(iid)

    for iid, rec in stats.starts.items():
        if not rec['sent']:
            continue
        f['starts_sent'] += 1
        acked = rec['state'] in ('ack', 'applied-unanswered')
        if rec['state'] == 'ack':
            f['starts_acked'] += 1
        o = instances.get(iid)
        if o is None:
            if acked:
                f['lost_starts'] += 1
                problems.append('acknowledged start %s is missing' % iid)
            continue
        if not acked:
            f['starts_unacked_present'] += 1
        if o['input'] != rec['input'] or o['name'] != 'Stress':
            f['bad_inputs'] += 1
            problems.append('instance %s: input or name differs' % iid)
        started = [m for m in o['inbox'] if
                   m.get('EventType') == 'ExecutionStarted']
        if len(started) != 1:
            problems.append('instance %s: %d ExecutionStarted messages'
                            % (iid, len(started)))

    for iid in instances:
        rec = stats.starts.get(iid)
        if rec is None or not rec['sent']:
            f['phantom_instances'] += 1
            problems.append('instance %s exists but was never sent' % iid)

    for uid, rec in stats.events.items():
        if not rec['sent']:
            continue
        f['events_sent'] += 1
        where = seen.get(uid, [])
        if rec['state'] == 'ack':
            f['events_acked'] += 1
            if not where:
                f['lost_events'] += 1
                problems.append('acknowledged event %s to %s is missing'
                                % (uid, rec['id']))
        elif where:
            f['events_unacked_present'] += 1
        if len(where) > 1:
            f['doubled_events'] += 1
            problems.append('event %s is there %d times (state %s)'
                            % (uid, len(where), rec['state']))
        if where and any(w != rec['id'] for w in where):
            problems.append('event %s landed on another instance' % uid)

    for uid in seen:
        rec = stats.events.get(uid)
        if rec is None or not rec['sent']:
            f['phantom_events'] += 1
            problems.append('event %s is there but was never sent' % uid)

    return problems, f


# ---------------------------------------------------------------- modes


def run_mode(args, mode, seconds, run_id):
    sync = 'off' if mode in ('crash-nosync', 'crash-loop') else 'on'
    # crash modes also run the periodic stale-reader sweep often;
    # crash-loop commits in the event loop (writes=loop)
    extra = 'reader_check=2s' if mode.startswith('crash') else ''
    if mode == 'crash-loop':
        extra += ' writes=loop'
    ngx = Nginx(args, mode, sync, extra)
    log('%s: nginx on 127.0.0.1:%d, prefix %s, sync=%s, %d s, %d clients'
        % (mode, ngx.port, ngx.prefix, sync, seconds, args.clients))

    master = ngx.start()
    result = {'mode': mode, 'seconds': seconds, 'sync': sync}
    problems = []

    if maps_store(master):
        problems.append('the master maps the store (opened before fork)')

    stats = Stats()
    stop = threading.Event()
    clients = [Client(i, run_id, ngx.port, stop, stats, mode == 'reload')
               for i in range(args.clients)]
    for c in clients:
        c.start()

    rng = random.Random(run_id)
    kills = reloads = upgrades = 0
    readers = []
    t0 = time.time()
    deadline = t0 + seconds
    upgrade_at = t0 + seconds * 0.4

    try:
        while time.time() < deadline:
            if mode.startswith('crash'):
                time.sleep(rng.uniform(0.5, 1.0))
                ws = ngx.workers()
                if ws:
                    victim = rng.choice(ws)
                    try:
                        os.kill(victim, signal.SIGKILL)
                        kills += 1
                    except ProcessLookupError:
                        pass
                continue

            time.sleep(1.0)
            if upgrades == 0 and time.time() >= upgrade_at:
                old, new = ngx.upgrade()
                upgrades += 1
                log('reload: binary upgrade, master %d -> %d' % (old, new))
                if maps_store(new):
                    problems.append('the new master maps the store')
            elif ngx.reload():
                reloads += 1
            else:
                problems.append('nginx -s reload failed')
            readers.append(reader_table(ngx.data))
    finally:
        stop.set()
        for c in clients:
            c.join(30)

    # quiet: every read txn has ended; a respawned worker cleared the
    # slots of killed ones at its start (mdb_reader_check)
    time.sleep(1.5)
    final_readers = reader_table(ngx.data)
    master = ngx.master()
    if master and maps_store(master):
        problems.append('the master maps the store')

    ngx.stop()
    elog = ngx.error_log()

    consistent, check_out, instances = dump_store(args, ngx.data)
    if not consistent:
        problems.append('durable-check: store inconsistent:\n' + check_out)

    vp, fig = verify(stats, instances)
    problems += vp

    fivexx = sum(n for s, n in stats.statuses.items() if s >= 500)
    if fivexx:
        problems.append('%d answers were 5xx: %s' % (fivexx, stats.statuses))
    unexpected = {s: n for s, n in stats.statuses.items()
                  if s not in (200, 202) and s < 500}
    if unexpected:
        problems.append('unexpected statuses: %s' % unexpected)
    if stats.read_misses:
        problems.append('%d reads of acknowledged instances were not 202'
                        % stats.read_misses)
    if stats.partial:
        problems.append('%d partial responses' % stats.partial)
    if mode == 'reload' and stats.retry_conflicts:
        problems.append('%d retried starts found their id taken: a write '
                        'was applied but never answered'
                        % stats.retry_conflicts)

    if final_readers[1] > 0:
        problems.append('%d reader slots of dead processes at the end'
                        % final_readers[1])
    if final_readers[0] > 0:
        problems.append('%d reader slots in use after the load stopped'
                        % final_readers[0])
    if mode == 'reload' and len(readers) >= 6:
        third = len(readers) // 3
        first = max(r[2] for r in readers[:third])
        last = max(r[2] for r in readers[-third:])
        if last > first + 4:
            problems.append('reader table grows across reloads: %d -> %d'
                            % (first, last))

    for pat in (r'\[alert\]', r'\[emerg\]', r'\[crit\]'):
        lines = [l for l in elog.splitlines() if re.search(pat, l)]
        # the master's notice of a killed worker is [alert] "exited on
        # signal 9": that is the test, not a fault
        lines = [l for l in lines if 'exited on signal 9' not in l]
        if lines:
            problems.append('error log: %d %s lines, first: %s'
                            % (len(lines), pat, lines[0]))

    if mode.startswith('crash') and consistent:
        # restart on the crashed store: it opens and serves what it holds
        master = ngx.start()
        acked = [i for i, r in stats.starts.items() if r['state'] == 'ack']
        bad = 0
        for iid in rng.sample(acked, min(50, len(acked))):
            c = http.client.HTTPConnection('127.0.0.1', ngx.port, timeout=10)
            c.request('GET', '/durabletask/instances/' + iid)
            r = c.getresponse()
            body = r.read()
            c.close()
            if r.status != 202 or json.loads(body).get('input') \
                    != stats.starts[iid]['input']:
                bad += 1
        ngx.stop()
        if bad:
            problems.append('after the restart %d acknowledged instances '
                            'read back wrong' % bad)
        result['reread_after_restart'] = min(50, len(acked)) - bad

    result.update(fig)
    result.update({
        'requests': stats.requests, 'statuses': stats.statuses,
        'no_response': stats.noresp, 'retries': stats.retries,
        'timeouts': stats.timeouts, 'partial': stats.partial,
        'retry_conflicts': stats.retry_conflicts,
        'reads': stats.reads, 'read_misses': stats.read_misses,
        'kills': kills, 'reloads': reloads, 'upgrades': upgrades,
        'readers_final': final_readers,
        # commit gates of killed workers taken over (writes=loop)
        'gates_taken_over': len(re.findall(r'commit gate \d+ taken over',
                                           elog)),
        'readers_used_max': max([r[2] for r in readers] + [final_readers[2]]),
        'store_instances': len(instances),
        'problems': problems,
    })
    return result


def summary(r):
    lines = ['%s (sync=%s, %d s):' % (r['mode'], r['sync'], r['seconds']),
             '  requests %d (no response byte %d, retried %d, timeouts %d, '
             'partial %d), statuses %s'
             % (r['requests'], r['no_response'], r['retries'],
                r['timeouts'], r['partial'],
                ' '.join('%s:%d' % kv for kv in sorted(r['statuses'].items()))),
             '  starts sent %d, acknowledged %d, unacknowledged but present '
             '%d; events sent %d, acknowledged %d, unacknowledged but '
             'present %d'
             % (r['starts_sent'], r['starts_acked'],
                r['starts_unacked_present'], r['events_sent'],
                r['events_acked'], r['events_unacked_present']),
             '  reads of acknowledged instances %d, not found %d'
             % (r['reads'], r['read_misses']),
             '  kills %d (commit gates taken over %d), reloads %d, binary '
             'upgrades %d; reader table at the end: %d holding a snapshot, '
             '%d of dead processes, high-water %d'
             % (r['kills'], r.get('gates_taken_over', 0), r['reloads'],
                r['upgrades'], r['readers_final'][0], r['readers_final'][1],
                r['readers_final'][2]),
             '  LOST: starts %d, events %d; DOUBLED events %d; phantoms %d; '
             'applied-but-unanswered %d'
             % (r['lost_starts'], r['lost_events'], r['doubled_events'],
                r['phantom_instances'] + r['phantom_events'],
                r['retry_conflicts'])]
    if 'reread_after_restart' in r:
        lines.append('  after restart: %d acknowledged instances read back'
                     % r['reread_after_restart'])
    lines.append('  => ' + ('OK' if not r['problems'] else
                            'FAILED:\n    ' + '\n    '.join(
                                p for p in r['problems'][:20])))
    return '\n'.join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--nginx', default='/usr/sbin/nginx')
    ap.add_argument('--module', default=os.path.join(
        ROOT, 'build/nginx/objs/ngx_http_durable_module.so'))
    ap.add_argument('--check', default=os.path.join(ROOT,
                                                    'build/durable-check'))
    ap.add_argument('--prefix', default=os.path.join(ROOT, 'build/stress'))
    ap.add_argument('--mode', default='all',
                    choices=['crash', 'crash-nosync', 'crash-loop', 'reload',
                             'all'])
    ap.add_argument('--seconds', type=float, default=60,
                    help='per mode; "all" splits crash time over the '
                    'three crash modes')
    ap.add_argument('--clients', type=int, default=4)
    ap.add_argument('--json', help='write the figures here')
    args = ap.parse_args()

    args.nginx = os.path.abspath(args.nginx)   # USR2 re-executes argv[0]
    args.prefix = os.path.abspath(args.prefix)
    args.seconds = max(2.0, min(args.seconds, 1800))
    args.clients = max(1, min(args.clients, 32))
    for p in (args.nginx, args.module, args.check):
        if not os.path.exists(p):
            sys.exit('missing %s (make build check-tool)' % p)
    if shutil.which('mdb_stat') is None:
        sys.exit('mdb_stat missing: apt-get install lmdb-utils')

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    if args.mode == 'all':
        plan = [('crash', args.seconds / 3), ('crash-nosync', args.seconds / 3),
                ('crash-loop', args.seconds / 3), ('reload', args.seconds)]
    else:
        plan = [(args.mode, args.seconds)]

    results = []
    try:
        for i, (mode, secs) in enumerate(plan):
            try:
                results.append(run_mode(args, mode, int(secs),
                                        int(time.time()) % 100000 * 10 + i))
            except Exception as e:     # a harness failure fails the mode
                results.append({'mode': mode, 'problems': ['%s: %r'
                                                           % (mode, e)]})
                log('%s: %r' % (mode, e))
            finally:
                cleanup()
    finally:
        cleanup()

    print()
    for r in results:
        if 'requests' in r:
            print(summary(r))
        else:
            print('%s: FAILED: %s' % (r['mode'], r['problems']))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1, sort_keys=True)

    failed = [r['mode'] for r in results if r['problems']]
    print('\nstress: ' + ('FAILED: ' + ', '.join(failed) if failed
                          else 'all modes passed'))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
