#!/usr/bin/env python3
"""Failover of the PostgreSQL backend under load: nothing acknowledged is
lost, nothing is applied twice.

    python3 util/failover_test.py --nginx /usr/sbin/nginx \
        --module build/nginx/objs/ngx_http_durable_module.so \
        --durable build/durable [--seconds 16] [--clients 4] \
        [--workers 2] [--prefix build/failover]

`make failover` runs it (and `make stress` after its own modes). It
starts, in a directory of its own under /var/tmp (owned by the postgres
user when run as root: PostgreSQL refuses root):

  * a primary and two standbys made from it with pg_basebackup -R,
    streaming, the primary asking for synchronous_standby_names =
    'ANY 1 (s1, s2)', so a commit is acknowledged once one standby has
    it on disk;
  * two nginx (A and B, ports of their own) whose store names the three
    servers in one multi-host conninfo with
    target_session_attrs=read-write: both serve one task hub.

Clients start instances (unique ids) and raise events to the instances
they started (unique inputs) through A and B in turn, recording every
answer. Workers speak the JSON worker protocol to A and B in turn: they
claim orchestration episodes and activities and complete each with a
unique mark, an episode with one action (the first two schedule the
activity Say, later ones send an event to an id that is no instance,
which only leaves EventSent in the history), an activity with its
result. A completion that gets no answer or a 5xx is sent again, the
same body under the same lease, until it is answered; every fourth one
acknowledged is sent once more to the other nginx, as by a worker whose
answer was lost. After a failed request a client or worker pauses for
0.3 s (nginx says `Retry-After: 1`), rather than spin while the
database is away.

A third of the way through, the primary is killed (an immediate stop: no
shutdown checkpoint, as in a crash); the standby that received the most
WAL is promoted, the other one is made its synchronous standby, and
nothing is said to nginx: its connections fail, and its next connects
find the new primary through target_session_attrs. The load goes on to
the end, then the hub is read on the new primary:

  * every acknowledged start (202) is an instance, every acknowledged
    event is stored once; an unacknowledged one (an error, a 503, a
    lost connection) may be there or not, but never twice;
  * every acknowledged completion (200) left its mark once: the
    TaskScheduled or EventSent of an episode in the history, the
    TaskCompleted of an activity in the history or the inbox; an
    unacknowledged one at most once;
  * a completion sent again after a lost answer is answered as the first
    one would have been (200; or, for an episode, 409 when its first
    sending was applied, which its mark shows, and so was a later
    episode of its instance, which holds the fence now);
    retries of activities whose first sending was applied (their
    TaskCompleted is older than the retry) are counted: the lease fence
    answered them. An acknowledged completion sent once more gets the
    same answer, byte for byte (an episode's may get 409 if a later
    episode of its instance was applied in between), and changes
    nothing;
  * no instance, event or mark is there that was never sent;
  * both nginx acknowledge writes again after the promotion, and
    completions of both kinds are acknowledged after it.

It ends with the error window (the time from the kill to the last
failed request, the number of failed requests), what was acknowledged
of each kind and the retried completions, and the line
`acknowledged N, lost L, doubled D` (N counts starts, events and
completions); exit status 0 when L and D are 0 and every check passed.
Stdlib only; every server started here is stopped on every exit path.
"""

import argparse
import calendar
import http.client
import json
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PG_BIN = os.environ.get('PG_BIN', '/usr/lib/postgresql/15/bin')
HUB = 'FailoverHub'
PREFIX = '/runtime/webhooks/durabletask'

# servers started here, stopped at exit: data directories and nginx pids
CLUSTERS = []
MASTERS = []


def log(msg):
    print('[failover %s] %s' % (time.strftime('%H:%M:%S'), msg), flush=True)


def free_port():
    """a free port below 32768, where PostgreSQL's tools expect it and
    the kernel hands out no client ports"""
    for _ in range(200):
        port = random.randint(20000, 32000)
        s = socket.socket()
        try:
            s.bind(('127.0.0.1', port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError('no free port below 32768')


def as_owner(cmd):
    """cmd run as the postgres user when we are root"""
    if os.geteuid() != 0:
        return cmd
    pw = pwd.getpwnam('postgres')
    return ['setpriv', '--reuid=%d' % pw.pw_uid, '--regid=%d' % pw.pw_gid,
            '--init-groups', '--'] + cmd


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                       **kw)
    if r.returncode != 0:
        raise RuntimeError('%s: %s%s' % (' '.join(cmd), r.stdout, r.stderr))
    return r.stdout


class Server:
    """one PostgreSQL server of the test: a data directory and a port"""

    def __init__(self, top, name):
        self.name = name
        self.dir = top
        self.data = os.path.join(top, name)
        self.port = free_port()

    def pg_ctl(self, *args):
        return run(as_owner([os.path.join(PG_BIN, 'pg_ctl'), '-D', self.data]
                            + list(args)))

    def start(self):
        self.pg_ctl('-l', self.data + '.log', '-w', '-t', '60', 'start')
        CLUSTERS.append(self)

    def kill(self):
        """an immediate stop: no checkpoint, the clients' sockets cut"""
        self.pg_ctl('-m', 'immediate', '-w', 'stop')

    def sql(self, query):
        return run(['psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1',
                    '-h', self.dir, '-p', str(self.port), '-U', 'postgres',
                    '-d', 'postgres', '-c', query])

    def conninfo(self):
        return 'host=%s port=%d user=postgres dbname=postgres' % (
            self.dir, self.port)


def make_cluster(top):
    """a primary and two standbys streaming from it, synchronously"""
    primary = Server(top, 'p0')
    run(as_owner([os.path.join(PG_BIN, 'initdb'), '-D', primary.data,
                  '-U', 'postgres', '--auth=trust', '-E', 'UTF8',
                  '--locale=C.UTF-8']))
    with open(os.path.join(primary.data, 'postgresql.conf'), 'a') as f:
        f.write("listen_addresses = '127.0.0.1'\n"
                "unix_socket_directories = '%s'\n"
                "port = %d\n"
                "fsync = on\n"
                "synchronous_commit = on\n"
                "wal_level = replica\n"
                "max_wal_senders = 8\n"
                "wal_keep_size = '128MB'\n"
                "hot_standby = on\n"
                "shared_buffers = 16MB\n"
                "max_connections = 40\n" % (top, primary.port))
    primary.start()

    standbys = []
    for name in ('s1', 's2'):
        s = Server(top, name)
        run(as_owner([os.path.join(PG_BIN, 'pg_basebackup'), '-h',
                      '127.0.0.1', '-p', str(primary.port), '-U', 'postgres',
                      '-D', s.data, '-R', '-X', 'stream', '-c', 'fast']))
        with open(os.path.join(s.data, 'postgresql.auto.conf'), 'a') as f:
            f.write("port = %d\n"
                    "primary_conninfo = 'host=127.0.0.1 port=%d "
                    "user=postgres application_name=%s'\n"
                    % (s.port, primary.port, name))
        s.start()
        standbys.append(s)

    primary.sql("ALTER SYSTEM SET synchronous_standby_names = "
                "'ANY 1 (s1, s2)'")
    primary.sql('SELECT pg_reload_conf()')
    wait_sync(primary, 2)
    return primary, standbys


def wait_sync(primary, n):
    """until n standbys stream to primary as synchronous candidates"""
    end = time.time() + 30
    while time.time() < end:
        rows = primary.sql("SELECT count(*) FROM pg_stat_replication "
                           "WHERE state = 'streaming' "
                           "AND sync_state IN ('sync', 'quorum')")
        if int(rows.strip() or 0) >= n:
            return
        time.sleep(0.2)
    raise RuntimeError('%d synchronous standbys did not come' % n)


def failover(primary, standbys):
    """kill the primary, promote the standby with the most WAL, make the
    other one follow it; returns (new primary, kill time)"""
    killed = time.time()
    primary.kill()
    CLUSTERS.remove(primary)
    log('primary killed')

    lsns = []
    for s in standbys:
        lsn = s.sql("SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), "
                    "'0/0')").strip()
        lsns.append((int(float(lsn or 0)), s))
        log('%s received up to byte %s of WAL' % (s.name, lsn))
    lsns.sort(key=lambda x: x[0], reverse=True)
    new, other = lsns[0][1], lsns[1][1]

    new.pg_ctl('-w', '-t', '60', 'promote')
    log('%s promoted' % new.name)

    # the other standby follows the new primary (the latest timeline) and
    # is its synchronous standby, as before the failure
    other.sql("ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 "
              "port=%d user=postgres application_name=%s'"
              % (new.port, other.name))
    other.sql('SELECT pg_reload_conf()')
    new.sql("ALTER SYSTEM SET synchronous_standby_names = 'ANY 1 (%s)'"
            % other.name)
    new.sql('SELECT pg_reload_conf()')
    return new, killed


NGINX_CONF = '''%(user)s
load_module %(module)s;
worker_processes 2;
pid %(prefix)s/logs/nginx.pid;
error_log %(prefix)s/logs/error.log notice;
events { worker_connections 256; }
http {
    access_log off;
    durable_task_store hub backend=postgres pool=2 timeout=3s
        "conninfo=%(conninfo)s";
    server {
        listen 127.0.0.1:%(port)d;
        location ~* ^/runtime/webhooks/durabletask(/|$) {
            durable_task;
            durable_task_anonymous on;
            durable_task_connection hub;
            # a claim committed whose answer was lost at the kill is
            # handed out again within the run
            durable_task_worker_lease 10s;
        }
    }
}
'''


class Nginx:
    def __init__(self, args, name, conninfo):
        self.args = args
        self.name = name
        self.prefix = os.path.abspath(os.path.join(args.prefix, name))
        self.port = free_port()
        shutil.rmtree(self.prefix, ignore_errors=True)
        os.makedirs(os.path.join(self.prefix, 'logs'))
        self.conf = os.path.join(self.prefix, 'nginx.conf')
        with open(self.conf, 'w') as f:
            f.write(NGINX_CONF % {
                'user': 'user root;' if os.geteuid() == 0 else '',
                'module': os.path.abspath(args.module),
                'prefix': self.prefix, 'port': self.port,
                'conninfo': conninfo})

    def start(self):
        run([self.args.nginx, '-p', self.prefix + '/', '-c', self.conf])
        with open(os.path.join(self.prefix, 'logs', 'nginx.pid')) as f:
            MASTERS.append(int(f.read().strip()))
        end = time.time() + 20
        while time.time() < end:
            status, _ = request(self.port, 'GET', 'instances?top=1')
            if status == 200:
                return
            time.sleep(0.2)
        raise RuntimeError('nginx %s does not serve the hub' % self.name)


def request(port, method, path, body=None):
    """(status, body); status None when no answer came"""
    sep = '&' if '?' in path else '?'
    try:
        c = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
        c.request(method, '%s/%s%staskHub=%s' % (PREFIX, path, sep, HUB),
                  body=body, headers={'Content-Type': 'application/json'})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data
    except (OSError, http.client.HTTPException):
        return None, b''


class Load:
    """what the clients sent and what they were answered"""

    def __init__(self):
        self.lock = threading.Lock()
        self.starts = {}        # id -> acknowledged
        self.events = {}        # uid -> (instance id, acknowledged)
        self.completions = {}   # mark -> Completion
        self.failed = []        # (time, what, status)
        self.unexpected = []    # answers no write should get
        self.acked_after = {}   # nginx name -> acks after the promotion
        self.promoted = None
        self.stop = False

    def note(self, nginx, ok, what, status):
        with self.lock:
            if ok:
                if self.promoted and time.time() > self.promoted:
                    self.acked_after[nginx.name] = \
                        self.acked_after.get(nginx.name, 0) + 1
            elif status is None or status >= 500:
                self.failed.append((time.time(), what, status))
            else:
                self.unexpected.append((what, status))


def client(load, n, hosts):
    started = []
    i = 0
    while not load.stop:
        i += 1
        nginx = hosts[i % len(hosts)]
        if i % 2 or not started:
            iid = 'c%d-%d' % (n, i)
            body = json.dumps({'client': n, 'i': i})
            status, _ = request(nginx.port, 'POST',
                                'orchestrators/Hello/%s' % iid, body)
            ok = status == 202
            with load.lock:
                load.starts[iid] = ok
            if ok:
                started.append(iid)
            load.note(nginx, ok, 'start ' + iid, status)
        else:
            iid = started[i % len(started)]
            uid = 'e%d-%d' % (n, i)
            status, _ = request(nginx.port, 'POST',
                                'instances/%s/raiseEvent/Go' % iid,
                                json.dumps({'uid': uid}))
            ok = status == 202
            with load.lock:
                load.events[uid] = (iid, ok)
            load.note(nginx, ok, 'event ' + uid, status)
        if status is None or status >= 500:
            time.sleep(0.3)


# activities an orchestration schedules before it only sends events
ACTIVITIES = 2


class Completion:
    """one completion a worker sent, under its mark"""

    def __init__(self, kind, mark, iid):
        self.kind = kind        # 'orchestrations' or 'activities'
        self.mark = mark
        self.iid = iid
        self.ok = False         # answered 200
        self.status = None      # the last answer's status
        self.sendings = 0       # 1 + the retries after a lost answer
        self.first_sent = 0.0   # when it was first sent
        self.last_sent = 0.0    # when the answered sending was sent
        self.answered = 0.0     # when that answer came
        self.echo = None        # the answer to it sent again once done
        self.echo_same = False  # ... which was the first one's
        self.echo_done = 0.0    # when that answer came


def episode(item, mark):
    """an episode's completion: schedule the next Say until ACTIVITIES
    are, then send an event to an id no instance has, which is dropped
    and leaves only EventSent in the history; either carries the mark"""
    iid = item['instanceId']
    n = sum(1 for e in item['history']
            if e.get('EventType') == 'TaskScheduled')
    if n < ACTIVITIES:
        action = {'type': 'scheduleActivity', 'id': n, 'name': 'Say',
                  'input': {'mark': mark}}
    else:
        action = {'type': 'raiseEvent', 'instanceId': iid + ':log',
                  'name': 'Said', 'input': {'mark': mark}}
    return {'instanceId': iid, 'lease': item['lease'], 'actions': [action]}


def send(load, hosts, i, kind, what, body):
    """POST a completion until it is answered (not 5xx), to A and B in
    turn from hosts[i]: (status, body, sendings, when the answered
    sending was sent, the nginx that answered); status None when none
    was answered within a minute"""
    end = time.time() + 60
    sendings = 0
    while True:
        nginx = hosts[(i + sendings) % len(hosts)]
        sent = time.time()
        sendings += 1
        status, answer = request(nginx.port, 'POST',
                                 'worker/%s/complete' % kind, body)
        if status is not None and status < 500:
            return status, answer, sendings, sent, nginx
        load.note(nginx, False, what, status)
        if time.time() > end:
            return None, b'', sendings, sent, nginx
        time.sleep(0.3)


def complete(load, hosts, i, kind, mark, c, data, echo):
    """complete, and with echo send the acknowledged completion again to
    the other nginx, as a worker whose answer was lost would"""
    body = json.dumps(data)
    what = 'complete %s %s' % (kind, mark)
    c.first_sent = time.time()
    c.status, answer, c.sendings, c.last_sent, nginx = \
        send(load, hosts, i, kind, what, body)
    c.answered = time.time()
    c.ok = c.status == 200
    if c.ok and kind == 'orchestrations' \
            and json.loads(answer).get('runtimeStatus') != 'Running':
        c.ok = False
    if c.ok or c.status != 409 or c.sendings == 1:
        # a retry's 409 is judged by verify(), with the mark in sight
        load.note(nginx, c.ok, what, c.status)

    if c.ok and echo:
        c.echo, again, _, _, _ = send(load, hosts, i + 1, kind,
                                      'again ' + what, body)
        c.echo_same = c.echo == 200 and again == answer
        c.echo_done = time.time()


def worker(load, n, hosts):
    i = j = 0
    while not load.stop:
        i += 1
        nginx = hosts[i % len(hosts)]
        kind, name = (('orchestrations', 'Hello') if i % 2
                      else ('activities', 'Say'))
        status, body = request(nginx.port, 'POST',
                               'worker/%s/claim?max=4&wait=1&names=%s'
                               % (kind, name))
        if status != 200:
            load.note(nginx, False, 'claim ' + kind, status)
            time.sleep(0.3)
            continue
        for item in json.loads(body)['items']:
            j += 1
            mark = 'w%d-%d' % (n, j)
            c = Completion(kind, mark, item['instanceId'])
            if kind == 'orchestrations':
                data = episode(item, mark)
            else:
                data = {'instanceId': item['instanceId'],
                        'taskId': item['taskId'], 'lease': item['lease'],
                        'result': {'mark': mark}}
            with load.lock:
                load.completions[mark] = c
            complete(load, hosts, i, kind, mark, c, data, j % 4 == 0)


def parse_time(text):
    """seconds since the epoch of a store's timestamp (up to 7 digits of
    a fraction, UTC)"""
    whole, _, frac = text.rstrip('Z').partition('.')
    t = calendar.timegm(time.strptime(whole, '%Y-%m-%dT%H:%M:%S'))
    return t + (float('0.' + frac) if frac else 0.0)


def member(value, name):
    """a member of an Input or Result, stored as JSON or as its text"""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value.get(name) if isinstance(value, dict) else None


def stored(server):
    """what the hub holds, read on server: (instance ids, {start id:
    ExecutionStarted count}, {event uid: count}, {mark: count}, {mark:
    time of its TaskCompleted})"""
    ids = set(server.sql("SELECT id FROM durable.instances WHERE hub = '%s'"
                         % HUB).split())
    starts, events, marks, done_at = {}, {}, {}, {}
    rows = server.sql("SELECT id, message FROM durable.inbox "
                      "WHERE hub = '%s' UNION ALL "
                      "SELECT id, event FROM durable.history "
                      "WHERE hub = '%s'" % (HUB, HUB))
    for line in rows.splitlines():
        iid, _, text = line.partition('|')
        ev = json.loads(text)
        kind = ev.get('EventType')
        if kind == 'ExecutionStarted':
            starts[iid] = starts.get(iid, 0) + 1
        elif kind == 'EventRaised':
            uid = member(ev.get('Input'), 'uid')
            events[uid] = events.get(uid, 0) + 1
        elif kind in ('TaskScheduled', 'EventSent', 'TaskCompleted'):
            mark = member(ev.get('Result' if kind == 'TaskCompleted'
                                 else 'Input'), 'mark')
            marks[mark] = marks.get(mark, 0) + 1
            if kind == 'TaskCompleted':
                done_at[mark] = parse_time(ev['Timestamp'])
    return ids, starts, events, marks, done_at


def verify(load, server):
    """(acknowledged per kind, lost, doubled, retries, problems)"""
    ids, starts, events, marks, done_at = stored(server)
    problems = []
    lost = doubled = 0
    acked = {'starts': 0, 'events': 0, 'orchestrations': 0,
             'activities': 0}
    retries = {'sent again': 0, 'answered 200': 0, 'fenced': 0,
               'answered 409, applied before': 0, 'echoed': 0,
               'echo answered the same': 0, 'echo answered 409': 0}

    for iid, ok in load.starts.items():
        if ok:
            acked['starts'] += 1
            if iid not in ids:
                lost += 1
                problems.append('acknowledged start %s is not there' % iid)
        if starts.get(iid, 0) > 1:
            doubled += 1
            problems.append('start %s is there %d times'
                            % (iid, starts[iid]))
    for iid in ids - set(load.starts):
        problems.append('instance %s was never started' % iid)

    for uid, (iid, ok) in load.events.items():
        n = events.get(uid, 0)
        if ok:
            acked['events'] += 1
            if n == 0:
                lost += 1
                problems.append('acknowledged event %s of %s is not there'
                                % (uid, iid))
        if n > 1:
            doubled += 1
            problems.append('event %s is there %d times' % (uid, n))
    for uid in set(events) - set(load.events):
        problems.append('event %s was never sent' % uid)

    episodes = {}
    for c in load.completions.values():
        if c.kind == 'orchestrations':
            episodes.setdefault(c.iid, []).append(c)

    def superseded(c, until):
        """another episode of c's instance was applied after c and
        before until: the fence now holds its lease, and c's is
        refused (409)"""
        return any(d is not c and marks.get(d.mark) == 1
                   and c.first_sent < d.first_sent < until
                   for d in episodes.get(c.iid, ()))

    for mark, c in load.completions.items():
        n = marks.get(mark, 0)
        what = 'completion %s of %s %s' % (mark, c.kind, c.iid)
        if c.ok:
            acked[c.kind] += 1
            if n == 0:
                lost += 1
                problems.append('acknowledged %s is not there' % what)
        if n > 1:
            doubled += 1
            problems.append('%s is there %d times' % (what, n))
        if c.echo is not None:
            retries['echoed'] += 1
            if c.echo_same:
                retries['echo answered the same'] += 1
            elif c.echo == 409 and superseded(c, c.echo_done):
                retries['echo answered 409'] += 1
            else:
                problems.append('%s, sent again once acknowledged, '
                                'answered %s' % (what, c.echo))
        if c.sendings < 2:
            continue
        retries['sent again'] += 1
        if c.ok:
            retries['answered 200'] += 1
            # applied before the retry that was answered: the first
            # sending was, and the fence answered the retry
            if mark in done_at and done_at[mark] < c.last_sent:
                retries['fenced'] += 1
        elif c.status == 409 and n == 1 and superseded(c, c.answered):
            retries['answered 409, applied before'] += 1
        else:
            problems.append('%s, sent %d times, answered %s'
                            % (what, c.sendings, c.status))
    for mark in set(marks) - set(load.completions):
        problems.append('mark %s was never sent' % mark)

    return acked, lost, doubled, retries, problems


def cleanup():
    for pid in MASTERS:
        try:
            os.kill(pid, signal.SIGQUIT)
        except OSError:
            pass
    for s in list(CLUSTERS):
        try:
            s.pg_ctl('-m', 'immediate', '-w', 'stop')
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
    del CLUSTERS[:]


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--nginx', default='/usr/sbin/nginx')
    p.add_argument('--module', required=True)
    p.add_argument('--durable', required=True)
    p.add_argument('--prefix', default=os.path.join(ROOT, 'build',
                                                    'failover'))
    p.add_argument('--seconds', type=float, default=16)
    p.add_argument('--clients', type=int, default=4)
    p.add_argument('--workers', type=int, default=2)
    args = p.parse_args()

    if not os.path.exists(os.path.join(PG_BIN, 'initdb')):
        sys.exit('failover: %s/initdb not found: make deps installs '
                 'postgresql-15' % PG_BIN)

    top = tempfile.mkdtemp(prefix='ngx_durable-failover.', dir='/var/tmp')
    os.chmod(top, 0o755)
    if os.geteuid() == 0:
        pw = pwd.getpwnam('postgres')
        os.chown(top, pw.pw_uid, pw.pw_gid)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))

    try:
        return test(args, top)
    finally:
        cleanup()
        shutil.rmtree(top, ignore_errors=True)


def test(args, top):
    primary, standbys = make_cluster(top)
    log('primary on %d, standbys %s on %d and %d, synchronous'
        % (primary.port, standbys[0].name, standbys[0].port,
           standbys[1].port))
    run([args.durable, 'schema', 'init', '--conninfo', primary.conninfo()])

    servers = [primary] + standbys
    conninfo = ('host=%s port=%s user=postgres dbname=postgres '
                'target_session_attrs=read-write'
                % (','.join('127.0.0.1' for _ in servers),
                   ','.join(str(s.port) for s in servers)))
    hosts = [Nginx(args, 'a', conninfo), Nginx(args, 'b', conninfo)]
    for h in hosts:
        h.start()
    log('nginx a on %d, b on %d: one hub on %s'
        % (hosts[0].port, hosts[1].port, conninfo))

    load = Load()
    threads = [threading.Thread(target=client, args=(load, n, hosts),
                                daemon=True)
               for n in range(args.clients)]
    threads += [threading.Thread(target=worker, args=(load, n, hosts),
                                 daemon=True)
                for n in range(args.workers)]
    for t in threads:
        t.start()

    time.sleep(args.seconds / 3)
    new, killed = failover(primary, standbys)
    load.promoted = time.time()
    time.sleep(args.seconds * 2 / 3)
    load.stop = True
    for t in threads:
        t.join(30)

    wait_sync(new, 1)
    acked, lost, doubled, retries, problems = verify(load, new)

    errors = sorted(f[0] - killed for f in load.failed if f[0] >= killed)
    early = [f for f in load.failed if f[0] < killed]
    if errors:
        log('error window: %.1f s after the kill, %d requests failed '
            '(first %.1f s, last %.1f s after it)'
            % (errors[-1], len(errors), errors[0], errors[-1]))
    else:
        log('error window: none, no request failed')
    for h in hosts:
        n = load.acked_after.get(h.name, 0)
        log('nginx %s: %d writes acknowledged after the promotion'
            % (h.name, n))
        if n == 0:
            problems.append('nginx %s acknowledged nothing after the '
                            'promotion' % h.name)
    log('acknowledged: %d starts, %d events, %d orchestration and %d '
        'activity completions'
        % (acked['starts'], acked['events'], acked['orchestrations'],
           acked['activities']))
    log('completions sent again after a lost answer: %d; answered 200: %d '
        '(%d of them applied before, answered by the fence); 409 after '
        'a later episode was applied: %d'
        % (retries['sent again'], retries['answered 200'],
           retries['fenced'], retries['answered 409, applied before']))
    log('acknowledged completions sent again: %d; answered as the first '
        'time: %d; 409 (a later episode applied in between): %d'
        % (retries['echoed'], retries['echo answered the same'],
           retries['echo answered 409']))
    for kind, one in (('orchestrations', 'an episode'),
                      ('activities', 'an activity')):
        if not any(c.ok and c.kind == kind and c.last_sent > load.promoted
                   for c in load.completions.values()):
            problems.append('no completion of %s was acknowledged after '
                            'the promotion' % one)
    if early:
        problems.append('%d requests failed before the kill, e.g. %s'
                        % (len(early), early[0][1:]))
    for what, status in load.unexpected[:10]:
        problems.append('%s answered %s' % (what, status))

    for line in problems[:20]:
        log('FAIL: ' + line)
    print('acknowledged %d, lost %d, doubled %d'
          % (sum(acked.values()), lost, doubled), flush=True)
    return 1 if problems or lost or doubled else 0


if __name__ == '__main__':
    sys.exit(main())
