#!/usr/bin/env node
// make test-openapi: replays one request for every route and status code
// that docs/openapi.yaml lists against a running nginx with
// examples/nginx.conf (util/openapi/replay.sh starts it), and checks each
// answer's status, headers and body against the document: every pair
// the document lists is replayed but the 500s of a failing store, and a
// listed pair without a request fails the run. Also checks that the
// document has every route of docs/http-api.md's route table and of the
// router, that every path answers each method it does not list with 405
// and the document's methods in Allow and a longer path with 404 (in
// every URL family), and that nginx serves the document at /openapi.yaml.
//
//   node replay.js --url http://127.0.0.1:PORT --spec docs/openapi.yaml \
//       --router store/ds_route.c \
//       --routes docs/http-api.md \
//       --keyed-url http://127.0.0.1:PORT2 \
//       --full-store DIR --fill-map build/openapi-fill-map
//
// --keyed-url is the same configuration with keys (durable_task_keys and
// durable_task_worker_keys for durable_task_anonymous): the 401 of every
// operation is replayed there, without a key. --full-store is the
// directory of the store replay-full (max_size=1m) of --url, which the
// 507s fill, the end of its map with --fill-map (util/openapi/fill_map.c).
//
// Every case runs under each base path of the document's servers (the two
// URL families and the example's /durabletask mount), each time in a task
// hub of its own, so the work items a case claims are the ones it made.
// REPLAY_SHOW="getStatus 200" prints that case's answers.

'use strict';

const fs = require('fs');
const http = require('http');
const childProcess = require('child_process');
const YAML = require('yaml');
const Ajv2020 = require('ajv/dist/2020');
const addFormats = require('ajv-formats');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) {
    args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
}
for (const a of ['url', 'spec', 'router', 'routes', 'keyed-url',
                 'full-store', 'fill-map'])
{
    if (!args[a]) {
        console.error(`replay: --${a} is required`);
        process.exit(2);
    }
}

const specText = fs.readFileSync(args.spec, 'utf8');
const spec = YAML.parse(specText);
// the document's server variable "base": the URL families of the example
const BASES = spec.servers[0].variables.base.enum;
const BASE = BASES[0];
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];

// The one status no request can cause, with the reason: a listed
// (operation, status) pair that is neither replayed nor this fails the run.
const SKIPPED = {
    500: 'no request causes it: a failure of the store itself (the ' +
         'document says so); getStatus\'s 500 for a Failed instance is ' +
         'replayed',
};

// ---- schema validation -------------------------------------------------

// the document's own "#/..." references, made absolute for ajv
function absolutize(node) {
    if (Array.isArray(node)) {
        return node.map(absolutize);
    }
    if (node && typeof node === 'object') {
        const out = {};
        for (const [k, v] of Object.entries(node)) {
            out[k] = (k === '$ref' && typeof v === 'string' && v[0] === '#')
                     ? 'openapi' + v : absolutize(v);
        }
        return out;
    }
    return node;
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: 'openapi', components: absolutize(spec.components) });

function deref(obj) {
    while (obj && obj.$ref) {
        obj = obj.$ref.slice(2).split('/').reduce((o, k) => o[k], spec);
    }
    return obj;
}

const validators = new Map();

function validate(schema, value) {
    const key = JSON.stringify(schema);
    if (!validators.has(key)) {
        validators.set(key, ajv.compile(absolutize(schema)));
    }
    const v = validators.get(key);
    return v(value) ? null : ajv.errorsText(v.errors);
}

// ---- HTTP --------------------------------------------------------------

function request(method, path, opt = {}) {
    const url = new URL((opt.url || args.url) + path);
    for (const [k, v] of Object.entries(opt.query || {})) {
        url.searchParams.append(k, v);
    }
    let body = opt.body;
    const headers = Object.assign({}, opt.headers);
    if (body !== undefined && typeof body !== 'string'
        && !Buffer.isBuffer(body))
    {
        body = JSON.stringify(body);
        headers['Content-Type'] = headers['Content-Type']
                                  || 'application/json';
    }
    if (body !== undefined) {
        headers['Content-Length'] = Buffer.byteLength(body);
    }
    return new Promise((resolve, reject) => {
        const req = http.request(url, { method, headers, agent: false },
            (res) => {
                const chunks = [];
                res.on('data', (c) => chunks.push(c));
                res.on('end', () => resolve({
                    status: res.statusCode,
                    headers: res.headers,
                    text: Buffer.concat(chunks).toString('utf8'),
                    json() { return JSON.parse(this.text); },
                    request: `${method} ${url.pathname}${url.search}`,
                }));
            });
        req.on('error', reject);
        req.setTimeout(60000, () => req.destroy(new Error('timeout')));
        if (body !== undefined) {
            req.write(body);
        }
        req.end();
    });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const BIG = JSON.stringify('x'.repeat(1100 * 1024)); // > client_max_body_size
const NO_LEASE = '0'.repeat(32);

let hubs = 0;

// A task hub of its own for one case: call() adds taskHub to every
// request, and connection when one is given (the store replay.sh fills)
function Hub(base, connection) {
    const name = `replay${process.pid}x${++hubs}`;
    const h = {
        name,
        call(method, path, opt = {}) {
            const query = Object.assign({ taskHub: name },
                                        connection ? { connection } : {},
                                        opt.query);
            return request(method, base + path, Object.assign({}, opt,
                                                              { query }));
        },
        async ok(method, path, opt, status) {
            const r = await h.call(method, path, opt);
            if (r.status !== status) {
                throw new Error(`setup: ${r.request}: ${r.status}, not ` +
                                `${status}: ${r.text}`);
            }
            return r;
        },
        start(id, input = { n: 1 }) {
            return h.ok('POST', `/orchestrators/Hello/${id}`,
                        { body: input }, 202);
        },
        async claim(kind, wait = 0) {
            const r = await h.ok('POST', `/worker/${kind}/claim`,
                                 { query: { max: '100', wait: String(wait) } },
                                 200);
            return r.json().items;
        },
        async claimOne(kind) {
            const items = await h.claim(kind, 10);
            if (items.length !== 1) {
                throw new Error(`setup: claimed ${items.length} ${kind}`);
            }
            return items[0];
        },
        async episode(id, actions) {
            const it = await h.claimOne('orchestrations');
            await h.ok('POST', '/worker/orchestrations/complete',
                       { body: { instanceId: id, lease: it.lease, actions } },
                       200);
        },
        async failed(id) {
            await h.start(id);
            await h.episode(id, [{ type: 'fail', reason: 'boom' }]);
        },
        async terminated(id) {
            await h.start(id);
            await h.ok('POST', `/instances/${id}/terminate`, {}, 202);
        },
        async activity(id) {
            await h.start(id);
            await h.episode(id, [{ type: 'scheduleActivity', id: 0,
                                   name: 'Say', input: 'x' }]);
            return h.claimOne('activities');
        },
        async entity() {
            await h.ok('POST', '/entities/counter/k1',
                       { query: { op: 'add' }, body: 1 }, 202);
            return h.claimOne('entities');
        },
        // a request that waits (timeout=) and an episode that finishes the
        // instance meanwhile: the waiting request's answer
        async finishWhileWaiting(path, query, output) {
            const waiting = h.call('POST', path,
                                   { query: Object.assign({ timeout: '30' },
                                                          query),
                                     body: { n: 2 } });
            const it = await h.claimOne('orchestrations');
            await h.ok('POST', '/worker/orchestrations/complete',
                       { body: { instanceId: it.instanceId, lease: it.lease,
                                 actions: [{ type: 'complete', output }] } },
                       200);
            return waiting;
        },
    };
    return h;
}

// ---- one case per (operation, status) -----------------------------------

const badHub = { query: { taskHub: '-not-a-hub' } };

const cases = {
    'startNew 202': (h) => h.call('POST', '/orchestrators/Hello',
                                  { body: { city: 'Tokyo' } }),
    'startNew 200': (h) => h.finishWhileWaiting('/orchestrators/Hello', {},
                                                ['done']),
    'startNew 400': (h) => h.call('POST', '/orchestrators/Hello',
                                  { body: '{"a":' }),
    'startNew 413': (h) => h.call('POST', '/orchestrators/Hello',
                                  { body: BIG }),

    'startNewWithId 202': (h) => h.call('POST', '/orchestrators/Hello/o1',
                                        { body: null }),
    'startNewWithId 200': (h) => h.finishWhileWaiting(
        '/orchestrators/Hello/o1', {}, { total: 3 }),
    'startNewWithId 400': (h) => h.call('POST', '/orchestrators/Hello/%40o1'),
    'startNewWithId 409': async (h) => {
        await h.start('o1');
        return h.call('POST', '/orchestrators/Hello/o1');
    },
    'startNewWithId 413': (h) => h.call('POST', '/orchestrators/Hello/o1',
                                        { body: BIG }),

    'listInstances 200': async (h) => {
        await h.start('a1');
        await h.terminated('a2');
        return h.call('GET', '/instances', { query: { top: '1' } });
    },
    'listInstances 400': (h) => h.call('GET', '/instances',
                                       { query: { top: '0' } }),

    'purgeInstances 200': async (h) => {
        await h.terminated('p1');
        return h.call('DELETE', '/instances',
                      { query: { createdTimeFrom: '2000-01-01' } });
    },
    'purgeInstances 400': (h) => h.call('DELETE', '/instances'),
    'purgeInstances 404': (h) => h.call('DELETE', '/instances',
                                        { query: { createdTimeFrom:
                                                   '2000-01-01' } }),

    // a history with most kinds of events: an activity, a timer, an
    // event, a custom status, then completed
    'getStatus 200': async (h) => {
        const it = await h.activity('s1');
        await h.ok('POST', '/worker/activities/complete',
                   { body: { instanceId: 's1', taskId: it.taskId,
                             lease: it.lease, result: 'Hello x!' } }, 200);
        await h.ok('POST', '/instances/s1/raiseEvent/Go', { body: 1 }, 202);
        await h.episode('s1', [
            { type: 'createTimer', id: 1, fireAt: '2000-01-01T00:00:00Z' },
            { type: 'setCustomStatus', customStatus: { step: 2 } }]);
        await h.episode('s1', [{ type: 'complete', output: ['Hello x!'] }]);
        return h.call('GET', '/instances/s1',
                      { query: { showHistory: 'true',
                                 showHistoryOutput: 'true' } });
    },
    'getStatus 202': async (h) => {
        await h.start('s1');
        return h.call('GET', '/instances/s1');
    },
    'getStatus 400': (h) => h.call('GET', '/instances/s1',
                                   { query: { showInput: 'yes' } }),
    'getStatus 404': (h) => h.call('GET', '/instances/s1'),
    'getStatus 500': async (h) => {
        await h.failed('s1');
        return h.call('GET', '/instances/s1',
                      { query: { returnInternalServerErrorOnFailure: 'true',
                                 showHistory: 'true',
                                 showHistoryOutput: 'true' } });
    },

    'purgeInstance 200': async (h) => {
        await h.terminated('d1');
        return h.call('DELETE', '/instances/d1');
    },
    'purgeInstance 400': (h) => h.call('DELETE', '/instances/d1', badHub),
    'purgeInstance 404': (h) => h.call('DELETE', '/instances/d1'),
    'purgeInstance 412': async (h) => {
        await h.start('d1');
        return h.call('DELETE', '/instances/d1');
    },

    'raiseEvent 202': async (h) => {
        await h.start('e1');
        return h.call('POST', '/instances/e1/raiseEvent/Go', { body: 5 });
    },
    'raiseEvent 400': async (h) => {
        await h.start('e1');
        return h.call('POST', '/instances/e1/raiseEvent/Go',
                      { body: '{', headers: {
                          'Content-Type': 'application/json' } });
    },
    'raiseEvent 404': (h) => h.call('POST', '/instances/e1/raiseEvent/Go',
                                    { body: 5 }),
    'raiseEvent 410': async (h) => {
        await h.terminated('e1');
        return h.call('POST', '/instances/e1/raiseEvent/Go', { body: 5 });
    },
    'raiseEvent 413': async (h) => {
        await h.start('e1');
        return h.call('POST', '/instances/e1/raiseEvent/Go', { body: BIG });
    },

    'rewind 202': async (h) => {
        await h.failed('r1');
        return h.call('POST', '/instances/r1/rewind',
                      { query: { reason: 'again' } });
    },
    'rewind 412': async (h) => {
        await h.start('r1');
        return h.call('POST', '/instances/r1/rewind');
    },

    'restart 202': async (h) => {
        await h.terminated('t1');
        return h.call('POST', '/instances/t1/restart');
    },
    'restart 200': async (h) => {
        await h.terminated('t1');
        return h.finishWhileWaiting('/instances/t1/restart', {}, 'again');
    },
    'restart 400': (h) => h.call('POST', '/instances/t1/restart',
                                 { query: { restartWithNewInstanceId:
                                            'maybe' } }),
    'restart 404': (h) => h.call('POST', '/instances/t1/restart'),
    'restart 409': async (h) => {
        await h.start('t1');
        return h.call('POST', '/instances/t1/restart',
                      { query: { restartWithNewInstanceId: 'false' } });
    },

    'readEntityState 200': async (h) => {
        const it = await h.entity();
        await h.ok('POST', '/worker/entities/complete',
                   { body: { entity: it.entity, lease: it.lease,
                             state: { count: 1 } } }, 200);
        return h.call('GET', '/entities/counter/k1');
    },
    'readEntityState 400': (h) => h.call('GET', '/entities/counter/k1',
                                         badHub),
    'readEntityState 404': (h) => h.call('GET', '/entities/counter/k1'),
};

// the control operations: terminate, suspend, resume, rewind
for (const op of ['terminate', 'suspend', 'resume', 'rewind']) {
    const path = `/instances/c1/${op}`;
    if (op !== 'rewind') {
        cases[`${op} 202`] = async (h) => {
            await h.start('c1');
            return h.call('POST', path, { query: { reason: 'by hand' } });
        };
    }
    cases[`${op} 400`] = (h) => h.call('POST', path, badHub);
    cases[`${op} 404`] = (h) => h.call('POST', path);
    cases[`${op} 410`] = async (h) => {
        await h.terminated('c1');
        return h.call('POST', path);
    };
}

// entity lists and signals
async function withState(h) {
    const it = await h.entity();
    await h.ok('POST', '/worker/entities/complete',
               { body: { entity: it.entity, lease: it.lease, state: 7 } },
               200);
}
cases['listEntities 200'] = async (h) => {
    await withState(h);
    return h.call('GET', '/entities', { query: { fetchState: 'true' } });
};
cases['listEntities 400'] = (h) => h.call('GET', '/entities',
                                          { query: { fetchState: 'x' } });
cases['listEntitiesByName 200'] = async (h) => {
    await withState(h);
    return h.call('GET', '/entities/counter');
};
cases['listEntitiesByName 400'] = (h) => h.call('GET', '/entities/counter',
                                                { query: { top: 'x' } });
for (const [op, method, path] of [
    ['signalEntityNoKey', 'POST', '/entities/counter'],
    ['deleteEntityNoKey', 'DELETE', '/entities/counter'],
    ['signalEntity', 'POST', '/entities/counter/k1'],
    ['deleteEntity', 'DELETE', '/entities/counter/k1'],
]) {
    cases[`${op} 202`] = (h) => h.call(method, path,
                                       { query: { op: 'add' }, body: 1 });
    cases[`${op} 400`] = method === 'POST'
        ? (h) => h.call(method, path, { body: '[1,', headers: {
                            'Content-Type': 'application/json' } })
        : (h) => h.call(method, path, badHub);
    cases[`${op} 413`] = (h) => h.call(method, path, { body: BIG });
}

// the worker protocol: per kind, what makes an item, and its identity
const kinds = {
    orchestrations: {
        Op: 'Orchestration',
        Ops: 'Orchestrations',
        async item(h) {
            await h.start('w1');
            return h.claimOne('orchestrations');
        },
        ref: (it) => ({ instanceId: it.instanceId }),
        none: { instanceId: 'nobody' },
        done: { actions: [] },
    },
    activities: {
        Op: 'Activity',
        Ops: 'Activities',
        item: (h) => h.activity('w1'),
        ref: (it) => ({ instanceId: it.instanceId, taskId: it.taskId }),
        none: { instanceId: 'nobody', taskId: 0 },
        done: { result: 'ok' },
    },
    entities: {
        Op: 'Entity',
        Ops: 'Entities',
        item: (h) => h.entity(),
        ref: (it) => ({ entity: it.entity }),
        none: { entity: { name: 'nobody', key: 'k' } },
        done: { state: 1 },
    },
};

for (const [kind, k] of Object.entries(kinds)) {
    const p = `/worker/${kind}`;
    cases[`claim${k.Ops} 200`] = async (h) => {
        await k.item(h).then(async (it) => {
            // give it back: the replayed claim gets it again
            await h.ok('POST', `${p}/abandon`,
                       { body: Object.assign(k.ref(it), { lease: it.lease }) },
                       200);
        });
        return h.call('POST', `${p}/claim`, { query: { max: '10' } });
    };
    cases[`claim${k.Ops} 400`] = (h) => h.call('POST', `${p}/claim`,
                                               { query: { max: '0' } });
    cases[`claim${k.Ops} 413`] = (h) => h.call('POST', `${p}/claim`,
                                               { body: BIG });

    const actions = {
        complete: [`complete${k.Ops}`, k.done],
        renew: [`renew${k.Op}`, {}],
        abandon: [`abandon${k.Op}`, {}],
    };
    for (const [action, [op, extra]] of Object.entries(actions)) {
        const body = (ref, lease) => Object.assign({}, ref, { lease }, extra);
        cases[`${op} 200`] = async (h) => {
            const it = await k.item(h);
            return h.call('POST', `${p}/${action}`,
                          { body: body(k.ref(it), it.lease) });
        };
        cases[`${op} 400`] = (h) => h.call('POST', `${p}/${action}`,
                                           { body: body(k.none, 'x') });
        cases[`${op} 404`] = (h) => h.call('POST', `${p}/${action}`,
                                           { body: body(k.none, NO_LEASE) });
        cases[`${op} 409`] = async (h) => {
            const it = await k.item(h);
            return h.call('POST', `${p}/${action}`,
                          { body: body(k.ref(it), NO_LEASE) });
        };
        cases[`${op} 413`] = (h) => h.call('POST', `${p}/${action}`,
                                           { body: BIG });
    }
}

// more requests for a (route, status): "name#what"
cases['completeActivities 200#array'] = async (h) => {
    const it = await h.activity('w1');
    return h.call('POST', '/worker/activities/complete',
                  { body: [{ instanceId: 'w1', taskId: it.taskId,
                             lease: it.lease, result: 1 },
                           { instanceId: 'w1', taskId: 5, lease: NO_LEASE,
                             result: 2 }] });
};
cases['completeOrchestrations 200#array'] = async (h) => {
    await h.start('w1');
    await h.start('w2');
    const items = await h.claim('orchestrations', 10);
    return h.call('POST', '/worker/orchestrations/complete',
                  { body: items.map((it) => ({
                      instanceId: it.instanceId, lease: NO_LEASE,
                      actions: [] })).concat([{
                      instanceId: items[0].instanceId,
                      lease: items[0].lease, actions: [] }]) });
};
cases['startNew 200#failed'] = async (h) => {
    const waiting = h.call('POST', '/orchestrators/Hello',
                           { query: { timeout: '30' } });
    const it = await h.claimOne('orchestrations');
    await h.ok('POST', '/worker/orchestrations/complete',
               { body: { instanceId: it.instanceId, lease: it.lease,
                         actions: [{ type: 'fail', reason: 'boom' }] } },
               200);
    const r = await waiting;
    if (r.status === 200 && r.json().runtimeStatus !== 'Failed') {
        throw new Error(`not the status payload: ${r.text}`);
    }
    return r;
};

cases['completeOrchestrations 410'] = async (h) => {
    await h.start('w1');
    const it = await h.claimOne('orchestrations');
    await h.ok('POST', '/instances/w1/terminate', {}, 202);
    return h.call('POST', '/worker/orchestrations/complete',
                  { body: { instanceId: 'w1', lease: it.lease,
                            actions: [] } });
};

// ---- 507: every write on a full store -----------------------------------

// What each write needs in replay.sh's small store (replay-full), made
// while it has room; the function returned sends the replayed request
// once the store is full (replayFull): up to its reserve, which refuses
// the writes that add data, then to the end of its map (fill_map.c),
// which refuses every other write as a full disk would: claims,
// renewals, abandons, purges, terminates and entity deletes, which may
// use the reserve.
const full = {
    'startNew 507': (h) => () => h.call('POST', '/orchestrators/Hello',
                                        { body: { n: 1 } }),
    'startNewWithId 507': (h) => () => h.call('POST',
                                              '/orchestrators/Hello/o1'),
    'restart 507': async (h) => {
        await h.terminated('t1');
        return () => h.call('POST', '/instances/t1/restart');
    },
    'purgeInstances 507': async (h) => {
        await h.terminated('p1');
        return () => h.call('DELETE', '/instances',
                            { query: { createdTimeFrom: '2000-01-01' } });
    },
    'purgeInstance 507': async (h) => {
        await h.terminated('d1');
        return () => h.call('DELETE', '/instances/d1');
    },
    'raiseEvent 507': async (h) => {
        await h.start('e1');
        return () => h.call('POST', '/instances/e1/raiseEvent/Go',
                            { body: 5 });
    },
    'terminate 507': async (h) => {
        await h.start('c1');
        return () => h.call('POST', '/instances/c1/terminate');
    },
    'suspend 507': async (h) => {
        await h.start('c1');
        return () => h.call('POST', '/instances/c1/suspend');
    },
    'resume 507': async (h) => {
        await h.start('c1');
        await h.ok('POST', '/instances/c1/suspend', {}, 202);
        return () => h.call('POST', '/instances/c1/resume');
    },
    'rewind 507': async (h) => {
        await h.failed('r1');
        return () => h.call('POST', '/instances/r1/rewind');
    },
};
for (const [op, method, path] of [
    ['signalEntityNoKey', 'POST', '/entities/counter'],
    ['deleteEntityNoKey', 'DELETE', '/entities/counter'],
    ['signalEntity', 'POST', '/entities/counter/k1'],
    ['deleteEntity', 'DELETE', '/entities/counter/k1'],
]) {
    full[`${op} 507`] = (h) => () => h.call(method, path,
                                           { query: { op: 'add' }, body: 1 });
}
for (const [kind, k] of Object.entries(kinds)) {
    const p = `/worker/${kind}`;
    full[`claim${k.Ops} 507`] = async (h) => {
        const it = await k.item(h);
        // give it back: the replayed claim would take it again
        await h.ok('POST', `${p}/abandon`,
                   { body: Object.assign(k.ref(it), { lease: it.lease }) },
                   200);
        return () => h.call('POST', `${p}/claim`, { query: { max: '10' } });
    };
    for (const [action, op, extra] of [
        ['complete', `complete${k.Ops}`, k.done],
        ['renew', `renew${k.Op}`, {}],
        ['abandon', `abandon${k.Op}`, {}],
    ]) {
        full[`${op} 507`] = async (h) => {
            const it = await k.item(h);
            return () => h.call('POST', `${p}/${action}`,
                                { body: Object.assign(k.ref(it),
                                                      { lease: it.lease },
                                                      extra) });
        };
    }
}

// ---- checks --------------------------------------------------------------

const failures = [];
const fail = (msg) => failures.push(msg);

function operations() {
    const ops = [];
    for (const [path, item] of Object.entries(spec.paths)) {
        for (const m of METHODS) {
            if (item[m]) {
                ops.push({ path, method: m.toUpperCase(), op: item[m] });
            }
        }
    }
    return ops;
}

function checkAnswer(name, r, resp) {
    const where = `${name}: ${r.request}`;
    for (const [h, def] of Object.entries(resp.headers || {})) {
        const hd = deref(def);
        const v = r.headers[h.toLowerCase()];
        if (v === undefined) {
            if (hd.required) {
                fail(`${where}: no ${h} header`);
            }
            continue;
        }
        const err = validate(hd.schema, v);
        if (err) {
            fail(`${where}: header ${h}: ${v}: ${err}`);
        }
    }
    if (!resp.content) {
        if (r.text !== '' || r.headers['content-length'] !== '0') {
            fail(`${where}: a body where the document has none: ${r.text}`);
        }
        return;
    }
    if (r.headers['content-type'] !== 'application/json; charset=utf-8') {
        fail(`${where}: Content-Type ${r.headers['content-type']}`);
    }
    const type = (r.headers['content-type'] || '').split(';')[0].trim();
    const media = resp.content[type];
    if (!media) {
        fail(`${where}: Content-Type ${type}, the document has ` +
             Object.keys(resp.content).join(', '));
        return;
    }
    let body;
    try {
        body = r.json();
    } catch (e) {
        fail(`${where}: not JSON: ${r.text.slice(0, 200)}`);
        return;
    }
    const err = validate(media.schema, body);
    if (err) {
        fail(`${where}: ${err}: ${r.text.slice(0, 300)}`);
    }
}

// the routes of docs/http-api.md's table, "METHOD /path" with {} for
// every parameter, [/{key}] and {a,b} expanded
function tableRoutes() {
    const text = fs.readFileSync(args.routes, 'utf8');
    const out = new Set();
    const re = /^\| `([A-Z]+)` \| `B(\/[^`]*)` \|/gm;
    let m;
    while ((m = re.exec(text))) {
        let paths = [m[2]];
        const expand = (p) => {
            let r = p.match(/^(.*)\[([^\]]*)\](.*)$/);
            if (r) {
                return [r[1] + r[3], r[1] + r[2] + r[3]].flatMap(expand);
            }
            r = p.match(/^(.*)\{([^}]*,[^}]*)\}(.*)$/);
            if (r) {
                return r[2].split(',').map((w) => r[1] + w + r[3])
                    .flatMap(expand);
            }
            return [p];
        };
        paths = paths.flatMap(expand);
        for (const p of paths) {
            out.add(`${m[1]} ${p.replace(/\{[^}]*\}/g, '{}')}`);
        }
    }
    return out;
}

// the words of the router's tables: every one must be in some path
function routerWords() {
    const text = fs.readFileSync(args.router, 'utf8');
    const words = new Set(['orchestrators', 'instances', 'entities',
                           'worker', 'raiseEvent']);
    for (const t of ['instance_ops', 'work_kinds', 'work_actions']) {
        const m = text.match(new RegExp(`ds_route_${t}\\[\\] = \\{` +
                                        '([\\s\\S]*?)\\};'));
        if (!m) {
            throw new Error(`${args.router}: no ds_route_${t}`);
        }
        for (const w of m[1].matchAll(/"([A-Za-z]+)"/g)) {
            words.add(w[1]);
        }
    }
    return words;
}

// starts with large inputs, then small ones, into replay.sh's 1m store
// until it answers 507: full up to its reserve
async function fillStore() {
    for (const size of [60000, 500]) {
        for (let i = 0; i < 3000; i++) {
            const r = await request('POST',
                `${BASE}/orchestrators/Hello/f${size}x${i}`,
                { query: { taskHub: 'replayFull', connection: 'replay-full' },
                  body: JSON.stringify('x'.repeat(size)) });
            if (r.status === 507) {
                break;
            }
            if (r.status !== 202) {
                throw new Error(`filling the store: ${r.request}: ` +
                                `${r.status}`);
            }
        }
    }
}

// fill_map.c on that store (a child process): resolves once the map is
// full; release() lets the child go
function fillMap() {
    const child = childProcess.spawn(args['fill-map'], [args['full-store']],
                                     { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.on('close', resolve));
    const release = () => {
        child.stdin.end();
        return exited;
    };
    return new Promise((resolve, reject) => {
        let out = '';
        child.on('error', reject);
        child.stdout.on('data', (d) => {
            out += d;
            if (out.includes('full\n')) {
                resolve({ release });
            }
        });
        exited.then((code) => reject(new Error(
            `${args['fill-map']}: exited with ${code}`)));
    });
}

// the 507 of every write: what each needs, then the store full up to its
// reserve (the starts refused by it), then its map full, then the requests
async function replayFull(jobs, check) {
    for (const job of jobs) {
        job.send = await full[job.name](Hub(job.base, 'replay-full'));
    }
    await fillStore();
    const filled = await fillMap();
    try {
        for (const job of jobs) {
            check(job, await job.send());
        }
    } finally {
        await filled.release();
    }
}

async function main() {
    const ops = operations();
    const docRoutes = new Set(ops.map((o) =>
        `${o.method} ${o.path.replace(/\{[^}]*\}/g, '{}')}`));

    // 1. every route the docs and the router know is in the document
    const table = tableRoutes();
    if (table.size < 20) {
        fail(`${args.routes}: only ${table.size} routes found in the table`);
    }
    for (const r of table) {
        if (!docRoutes.has(r)) {
            fail(`route ${r} of ${args.routes} is not in the document`);
        }
    }
    for (const r of docRoutes) {
        if (!table.has(r)) {
            fail(`route ${r} of the document is not in ${args.routes}`);
        }
    }
    const segments = new Set(Object.keys(spec.paths)
        .flatMap((p) => p.split('/')));
    for (const w of routerWords()) {
        if (!segments.has(w)) {
            fail(`the router's word '${w}' is in no path of the document`);
        }
    }

    // 2. nginx serves the document itself
    const served = await request('GET', '/openapi.yaml');
    if (served.status !== 200 || served.text !== specText) {
        fail(`GET /openapi.yaml: ${served.status}, not the document`);
    }

    // 3. one request per (operation, status)
    const used = new Set();
    const jobs = [];
    const fullJobs = [];
    let skipped = 0;
    for (const { path, method, op } of ops) {
        // every route takes keys: its 401 is listed with it
        if (!op.responses['401']) {
            fail(`${op.operationId} (${method} ${path}): no 401 listed`);
        }
        for (const [status, ref] of Object.entries(op.responses)) {
            const name = `${op.operationId} ${status}`;
            const resp = deref(ref);
            if (!cases[name] && status === '413') {
                // nginx refuses a long Content-Length on any route
                const concrete = path.replace(/\{[^}]*\}/g, 'x');
                cases[name] = (h) => h.call(method, concrete, { body: BIG });
            }
            if (!cases[name] && status === '503') {
                // the store replay.sh adds whose data.mdb is a directory
                const concrete = path.replace(/\{[^}]*\}/g, 'x');
                const body = op.requestBody ? {} : undefined;
                cases[name] = (h) => h.call(method, concrete,
                                            { query: { connection:
                                                       'replay-broken' },
                                              body });
            }
            if (status === '507' && full[name]) {
                // in the store replay.sh adds for it, once it is full
                used.add(name);
                for (const base of BASES) {
                    fullJobs.push({ name, base, status: 507, resp });
                }
                continue;
            }
            if (!cases[name] && status === '401') {
                // any route of the keyed configuration, without a key
                const concrete = path.replace(/\{[^}]*\}/g, 'x');
                cases[name] = (h) => h.call(method, concrete,
                                            { url: args['keyed-url'] });
            }
            const named = Object.keys(cases).filter((c) =>
                c === name || c.startsWith(name + '#'));
            if (named.length) {
                for (const c of named) {
                    used.add(c);
                    for (const base of BASES) {
                        jobs.push({ name: c, base, status: Number(status),
                                    resp });
                    }
                }
            } else if (SKIPPED[status]
                       && !(status === '500'
                            && op.operationId === 'getStatus'))
            {
                skipped++;
            } else {
                fail(`${name} (${method} ${path}): listed in the ` +
                     'document, neither replayed nor skipped');
            }
        }
    }
    for (const name of Object.keys(cases).concat(Object.keys(full))) {
        if (!used.has(name)) {
            fail(`case ${name}: the document does not list it`);
        }
    }

    const checkJob = (job, r) => {
        if (r.status !== job.status) {
            fail(`${job.name}: ${r.request} answered ${r.status}: ` +
                 r.text.slice(0, 200));
            return;
        }
        if (process.env.REPLAY_SHOW === job.name) {
            console.log(`${job.name}: ${r.request}: ${r.text}`);
        }
        checkAnswer(job.name, r, job.resp);
    };

    // the 507s first, one at a time: they share the store they fill
    try {
        await replayFull(fullJobs, checkJob);
    } catch (e) {
        fail(`the 507s: ${e.message}`);
    }

    // a few at a time: each case has its own hub
    let next = 0;
    const runOne = async () => {
        while (next < jobs.length) {
            const job = jobs[next++];
            let r;
            try {
                r = await cases[job.name](Hub(job.base));
            } catch (e) {
                fail(`${job.name}: ${e.message}`);
                continue;
            }
            checkJob(job, r);
        }
    };
    await Promise.all([runOne(), runOne(), runOne(), runOne()]);

    // an operation that does not list 503 (404) must not answer it for
    // a store that cannot be opened (ids that name nothing) either
    const probes = [['503', { connection: 'replay-broken' }], ['404', {}]];
    for (const { path, method, op } of ops) {
        for (const [status, query] of probes) {
            if (op.responses[status]) {
                continue;
            }
            const r = await Hub(BASE).call(method,
                path.replace(/\{[^}]*\}/g, 'x'),
                { query, body: op.requestBody ? {} : undefined });
            if (String(r.status) === status) {
                fail(`${op.operationId} (${method} ${path}): answers ` +
                     `${status} (${r.request}), not listed in the document`);
            }
        }
    }

    // 4. every path, in every family: each method it does not list is
    // 405 with the document's methods in Allow, one more segment is 404
    // (no route); no operation lists these, as none answers them
    const errorSchema = { $ref: '#/components/schemas/Error' };
    const checkError = (r, status, allow) => {
        const where = `${r.request}: ${r.status}`;
        if (r.status !== status) {
            fail(`${where}, not ${status}: ${r.text.slice(0, 200)}`);
            return;
        }
        if (allow !== undefined) {
            const got = (r.headers.allow || '').split(/,\s*/).sort();
            if (got.join() !== allow.join()) {
                fail(`${where}: Allow ${r.headers.allow}; the document ` +
                     `lists ${allow}`);
            }
        }
        if (r.request.startsWith('HEAD ')) {
            return;
        }
        let body;
        try {
            body = JSON.parse(r.text);
        } catch (e) {
            fail(`${where}: not JSON: ${r.text.slice(0, 200)}`);
            return;
        }
        const err = validate(errorSchema, body);
        if (err) {
            fail(`${where}: ${err}`);
        }
    };
    // whether a path of the document matches a concrete one
    const templates = Object.keys(spec.paths).map((p) => p.split('/'));
    const routed = (concrete) => {
        const segs = concrete.split('/');
        return templates.some((t) => t.length === segs.length
            && t.every((w, i) => w[0] === '{'
                                 || w.toLowerCase()
                                    === segs[i].toLowerCase()));
    };
    let methodChecks = 0;
    let routeChecks = 0;
    for (const [path, item] of Object.entries(spec.paths)) {
        const listed = METHODS.filter((m) => item[m])
            .map((m) => m.toUpperCase()).sort();
        const concrete = path.replace(/\{[^}]*\}/g, 'x');
        let longer = concrete + '/x';
        while (routed(longer)) {
            longer += '/x';
        }
        for (const base of BASES) {
            for (const m of METHODS.filter((m) => !item[m])) {
                checkError(await request(m.toUpperCase(), base + concrete),
                           405, listed);
                methodChecks++;
            }
            checkError(await request(listed[0], base + longer), 404);
            routeChecks++;
        }
    }
    checkError(await request('GET', BASE + '/nothing/here'), 404);
    routeChecks++;
    if (methodChecks < Object.keys(spec.paths).length * BASES.length) {
        fail(`only ${methodChecks} 405 checks`);
    }

    console.log(`replay: ${docRoutes.size} routes (${table.size} in the ` +
                `route table); ${used.size} requests for the (route, ` +
                `status) pairs, ${jobs.length + fullJobs.length} with ` +
                `${BASES.length} base ` +
                `paths; ${skipped} pairs skipped; ${methodChecks} 405 and ` +
                `${routeChecks} 404 checks`);
    for (const [status, why] of Object.entries(SKIPPED)) {
        console.log(`replay: skipped ${status}: ${why}`);
    }
    if (failures.length) {
        for (const f of failures) {
            console.log(`FAIL: ${f}`);
        }
        console.log(`replay: ${failures.length} failures`);
        process.exit(1);
    }
    console.log('replay: OK');
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
