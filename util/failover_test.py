#!/usr/bin/env python3
"""Failover of the PostgreSQL backend under load: nothing acknowledged is
lost, nothing is applied twice.

    python3 util/failover_test.py --nginx /usr/sbin/nginx \
        --module build/nginx/objs/ngx_http_durable_module.so \
        --durable build/durable [--seconds 16] [--clients 4] \
        [--prefix build/failover]

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
answer. A third of the way through, the primary is killed (an immediate
stop: no shutdown checkpoint, as in a crash); the standby that received
the most WAL is promoted, the other one is made its synchronous standby,
and nothing is said to nginx: its connections fail, and its next
connects find the new primary through target_session_attrs. The load
goes on to the end, then the hub is read on the new primary:

  * every acknowledged start (202) is an instance, every acknowledged
    event is stored once; an unacknowledged one (an error, a 503, a
    lost connection) may be there or not, but never twice;
  * no instance or event is there that was never sent;
  * both nginx acknowledge writes again after the promotion.

It ends with the error window (the time from the kill to the last
failed request, the number of failed requests) and the line
`acknowledged N, lost L, doubled D`; exit status 0 when L and D are 0
and every check passed. Stdlib only; every server started here is
stopped on every exit path.
"""

import argparse
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


def stored(server):
    """(instance ids, {start id: ExecutionStarted count},
    {event uid: count}) of the hub, read on server"""
    ids = set(server.sql("SELECT id FROM durable.instances WHERE hub = '%s'"
                         % HUB).split())
    starts, events = {}, {}
    rows = server.sql("SELECT id, message FROM durable.inbox "
                      "WHERE hub = '%s' UNION ALL "
                      "SELECT id, event FROM durable.history "
                      "WHERE hub = '%s'" % (HUB, HUB))
    for line in rows.splitlines():
        iid, _, text = line.partition('|')
        ev = json.loads(text)
        if ev.get('EventType') == 'ExecutionStarted':
            starts[iid] = starts.get(iid, 0) + 1
        elif ev.get('EventType') == 'EventRaised':
            uid = json.loads(ev['Input'])['uid'] \
                if isinstance(ev.get('Input'), str) else ev['Input']['uid']
            events[uid] = events.get(uid, 0) + 1
    return ids, starts, events


def verify(load, server):
    ids, starts, events = stored(server)
    problems = []
    lost = doubled = 0
    acked = 0

    for iid, ok in load.starts.items():
        if ok:
            acked += 1
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
            acked += 1
            if n == 0:
                lost += 1
                problems.append('acknowledged event %s of %s is not there'
                                % (uid, iid))
        if n > 1:
            doubled += 1
            problems.append('event %s is there %d times' % (uid, n))
    for uid in set(events) - set(load.events):
        problems.append('event %s was never sent' % uid)

    return acked, lost, doubled, problems


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
    acked, lost, doubled, problems = verify(load, new)

    errors = [f for f in load.failed if f[0] >= killed]
    early = [f for f in load.failed if f[0] < killed]
    if errors:
        log('error window: %.1f s after the kill, %d requests failed '
            '(first %.1f s, last %.1f s after it)'
            % (errors[-1][0] - killed, len(errors),
               errors[0][0] - killed, errors[-1][0] - killed))
    else:
        log('error window: none, no request failed')
    for h in hosts:
        n = load.acked_after.get(h.name, 0)
        log('nginx %s: %d writes acknowledged after the promotion'
            % (h.name, n))
        if n == 0:
            problems.append('nginx %s acknowledged nothing after the '
                            'promotion' % h.name)
    if early:
        problems.append('%d requests failed before the kill, e.g. %s'
                        % (len(early), early[0][1:]))
    for what, status in load.unexpected[:10]:
        problems.append('%s answered %s' % (what, status))

    for line in problems[:20]:
        log('FAIL: ' + line)
    print('acknowledged %d, lost %d, doubled %d' % (acked, lost, doubled),
          flush=True)
    return 1 if problems or lost or doubled else 0


if __name__ == '__main__':
    sys.exit(main())
