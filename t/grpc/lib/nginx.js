// An nginx of its own for a test file: a config with the gRPC service on
// a plain HTTP/2 port (and TLS when asked), the HTTP API beside it on
// the same store, started in the foreground and stopped at the end.
// run.sh says where: NGINX, MODULE_SO, GRPC_TEST_DIR (a directory the
// worker user can reach), GRPC_TEST_USER (as root).

'use strict';

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// nginx's environment: PATH, and for a sanitizer build the runtime to
// preload (GRPC_TEST_LD_PRELOAD) and its options
function nginxEnv() {
  const e = { PATH: process.env.PATH };
  if (process.env.GRPC_TEST_LD_PRELOAD) {
    e.LD_PRELOAD = process.env.GRPC_TEST_LD_PRELOAD;
  }
  for (const name of ['ASAN_OPTIONS', 'UBSAN_OPTIONS']) {
    if (process.env[name]) {
      e[name] = process.env[name];
    }
  }
  return e;
}

function env(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set: run the tests with make test-grpc`);
  }
  return v;
}

// the store: LMDB in the runtime directory, or with GRPC_TEST_PG_CONNINFO
// set (a libpq conninfo naming a database that holds the schema, such as
// make test-postgres makes) PostgreSQL, in a database of this nginx's
// own made from that one; PGHOST and the others say where createdb goes.
// bare: on PostgreSQL, a new database without the durable schema
function storeLine(name, bare) {
  const conninfo = process.env.GRPC_TEST_PG_CONNINFO;
  if (!conninfo) {
    return 'durable_task_store  default path=data max_size=64m sync=off '
           + 'flush=100ms;';
  }
  const names = conninfo.match(/\bdbname=\S+/g) || [];
  const template = names.length ? names[names.length - 1].slice(7) : '';
  const rest = conninfo.replace(/\bdbname=\S+/g, '').trim();
  const db = 'grpc_' + name.replace(/[^A-Za-z0-9]/g, '_').toLowerCase();
  execFileSync('dropdb', ['--if-exists', db], { stdio: 'ignore' });
  execFileSync('createdb', bare ? [db] : ['-T', template, db]);
  return `durable_task_store  default backend=postgres `
         + `"conninfo=${rest} dbname=${db}";`;
}

// opts: name (the runtime directory), keys ({system, worker}: the gRPC
// location takes keys instead of being anonymous), tls (a port with TLS
// and ALPN too), http (extra lines for the http{} block), grpc (the
// parameters of durable_task_grpc), workers, lease, logLevel, bare
// (PostgreSQL: a store whose database has no schema), reuseport
// (each worker process its own socket of the gRPC port: the kernel
// spreads connections over them), server (extra lines for the gRPC
// server{} block)
async function start(opts = {}) {
  const nginx = env('NGINX');
  const module = env('MODULE_SO');
  const prefix = path.join(env('GRPC_TEST_DIR'), opts.name || 'nginx');
  const user = process.env.GRPC_TEST_USER;

  fs.rmSync(prefix, { recursive: true, force: true });
  fs.mkdirSync(path.join(prefix, 'conf'), { recursive: true, mode: 0o755 });

  const port = await freePort();
  const httpPort = await freePort();
  const tlsPort = opts.tls ? await freePort() : 0;

  let auth = '        durable_task_anonymous  on;\n';
  if (opts.keys) {
    auth = `        durable_task_keys  ${opts.keys.system};\n`
         + `        durable_task_worker_keys  ${opts.keys.worker};\n`;
  }

  let tls = '';
  if (opts.tls) {
    const key = path.join(prefix, 'conf', 'cert.key');
    const crt = path.join(prefix, 'conf', 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048',
      '-nodes', '-keyout', key, '-out', crt, '-days', '1',
      '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
      { stdio: 'ignore' });
    tls = `
    server {
        listen  127.0.0.1:${tlsPort} ssl http2;
        ssl_certificate      cert.pem;
        ssl_certificate_key  cert.key;
        durable_task_grpc;
${auth}    }
`;
  }

  const conf = `
load_module ${module};
${user ? `user ${user};` : ''}
worker_processes  ${opts.workers || 2};
error_log  error.log  ${opts.logLevel || 'info'};
pid        nginx.pid;
events { worker_connections  1024; }
http {
    log_format  durable  '$status $durable_op $durable_hub '
                         '$durable_instance_id $durable_runtime_status';
    access_log  access.log  durable;
    client_body_temp_path  client_body_temp;
    proxy_temp_path        proxy_temp;
    fastcgi_temp_path      fastcgi_temp;
    uwsgi_temp_path        uwsgi_temp;
    scgi_temp_path         scgi_temp;
    ${storeLine(opts.name || 'nginx', opts.bare)}
    durable_task_worker_lease  ${opts.lease || '30s'};
${opts.http || ''}
    server {
        listen  127.0.0.1:${port} http2${opts.reuseport ? ' reuseport' : ''};
        keepalive_requests  1000000;
${opts.server || ''}
        location /TaskHubSidecarService/ {
            durable_task_grpc ${opts.grpc || ''};
${auth}        }
    }
    server {
        listen  127.0.0.1:${httpPort};
        location / {
            durable_task;
            durable_task_anonymous  on;
        }
        location = /metrics {
            durable_task_metrics;
            durable_task_anonymous  on;
        }
    }
${tls}}
`;
  fs.writeFileSync(path.join(prefix, 'conf', 'nginx.conf'), conf);
  return launch({ nginx, prefix, user, port, httpPort, tlsPort });
}

// examples/nginx.conf as make run serves it (util/runtime.sh's
// runtime_conf), in a runtime directory of its own, on free ports
async function startExample() {
  const nginx = env('NGINX');
  const module = env('MODULE_SO');
  const prefix = path.join(env('GRPC_TEST_DIR'), 'example');
  const user = process.env.GRPC_TEST_USER;
  const root = path.resolve(__dirname, '..', '..', '..');

  fs.rmSync(prefix, { recursive: true, force: true });
  fs.mkdirSync(path.join(prefix, 'conf'), { recursive: true, mode: 0o755 });
  const port = await freePort();
  const httpPort = await freePort();
  const conf = execFileSync('bash', ['-c',
    '. "$0/util/runtime.sh" && runtime_conf "$0/examples/nginx.conf" "$@"',
    root, String(httpPort), module, String(port)]);
  fs.writeFileSync(path.join(prefix, 'conf', 'nginx.conf'), conf);
  return launch({ nginx, prefix, user, port, httpPort, tlsPort: 0 });
}

async function launch({ nginx, prefix, user, port, httpPort, tlsPort }) {
  if (user) {
    // the store and the logs are the worker user's
    fs.mkdirSync(path.join(prefix, 'data'), { mode: 0o755 });
    execFileSync('chown', [user.replace(' ', ':'),
      path.join(prefix, 'data')]);
  }

  const proc = spawn(nginx, ['-p', prefix + '/', '-c', 'conf/nginx.conf',
    '-e', 'stderr', '-g', 'daemon off;'],
  { stdio: ['ignore', 'ignore', 'pipe'], env: nginxEnv() });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.once('exit', resolve));

  const server = {
    port, httpPort, tlsPort, prefix, proc,
    address: `127.0.0.1:${port}`,
    http: `http://127.0.0.1:${httpPort}/runtime/webhooks/durabletask`,
    // a figure of the metrics page, summed over its label sets (those
    // whose labels include all of the text of "labels", when given)
    metric: async (name, labels = '') => {
      const text = await (await fetch(
        `http://127.0.0.1:${httpPort}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) {
        const m = line.match(/^([a-z_]+)(\{[^}]*\})? (\S+)$/);
        if (m && m[1] === name && (m[2] || '').includes(labels)) {
          sum += Number(m[3]);
        }
      }
      return sum;
    },
    accessLog: () => {
      try {
        return fs.readFileSync(path.join(prefix, 'access.log'), 'utf8');
      } catch (e) {
        return '';
      }
    },
    errorLog: () => {
      try {
        return fs.readFileSync(path.join(prefix, 'error.log'), 'utf8');
      } catch (e) {
        return '';
      }
    },
    // what nginx logged at alert or worse, and any worker that died
    problems: () => server.errorLog().split('\n').filter((l) =>
      /\[(alert|crit|emerg)\]|exited on signal/
        .test(l)),
    reload: () => proc.kill('SIGHUP'),
    stop: async () => {
      if (proc.exitCode === null) {
        proc.kill('SIGQUIT');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
        await exited;
        clearTimeout(timer);
      }
    },
  };

  // up when the HTTP port answers and the pid file is written
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) {
      break;
    }
    const up = await new Promise((resolve) => {
      const s = net.connect(httpPort, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up && fs.existsSync(path.join(prefix, 'nginx.pid'))) {
      return server;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await server.stop();
  throw new Error(`nginx did not start: ${stderr}${server.errorLog()}`);
}

module.exports = { start, startExample };
