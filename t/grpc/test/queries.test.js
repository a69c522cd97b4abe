// Queries through the JavaScript SDK: QueryInstances in pages that follow
// and resume from continuation tokens, by created range, status and id
// prefix, with and without inputs and outputs, the same set the HTTP
// list gives; ListInstanceIds in pages by completion time.

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { OrchestrationStatus } = require('@microsoft/durabletask-js');
const { open, finished, http, sleep } = require('../lib/app');

async function* echo(ctx, input) {
  return { echoed: input };
}

async function* waiter(ctx) {
  return yield ctx.waitForExternalEvent('never');
}

// every item of a pageable, page by page: [ids, page sizes]
async function pages(pageable, start, size) {
  const ids = [];
  const sizes = [];
  for await (const page of pageable.asPages(start, size)) {
    sizes.push(page.values.length);
    ids.push(...page.values.map((s) => s.instanceId));
  }
  return [ids, sizes];
}

const range = (prefix, n) =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`);

test('queries', async (t) => {
  const { srv, client } = await open(t, {
    name: 'queries',
    register: (w) => {
      w.addOrchestrator(echo);
      w.addOrchestrator(waiter);
    },
  });

  // batch a: 12 completed; b: 3 completed; c: 2 running
  const a = range('qa-', 12);
  const b = range('qb-', 3);
  const c = range('qc-', 2);
  for (const id of a) {
    await client.scheduleNewOrchestration(echo, id, id);
  }
  await sleep(20);
  const t1 = new Date();
  await sleep(20);
  for (const id of b) {
    await client.scheduleNewOrchestration(echo, id, id);
  }
  for (const id of [...a, ...b]) {
    await finished(client, id);
  }
  await sleep(20);
  const t2 = new Date();
  await sleep(20);
  for (const id of c) {
    await client.scheduleNewOrchestration(waiter, null, id);
  }
  for (const id of c) {
    await client.waitForOrchestrationStart(id, false, 20);
  }

  await t.test('pages follow their continuation tokens', async () => {
    const [ids, sizes] = await pages(
      client.getAllInstances({ instanceIdPrefix: 'qa-' }), undefined, 5);
    assert.deepStrictEqual([...ids].sort(), a);
    assert.ok(sizes.every((n) => n <= 5), sizes.join());
    assert.ok(sizes.length >= 3, sizes.join());
  });

  await t.test('a token resumes where its page ended', async () => {
    const first = await client.getAllInstances({ instanceIdPrefix: 'qa-' })
      .asPages(undefined, 4)[Symbol.asyncIterator]().next();
    const page = first.value;
    assert.strictEqual(page.values.length, 4);
    assert.ok(page.hasMoreResults);
    const [rest] = await pages(client.getAllInstances(
      { instanceIdPrefix: 'qa-' }), page.continuationToken, 4);
    const head = page.values.map((s) => s.instanceId);
    assert.deepStrictEqual(head.filter((id) => rest.includes(id)), []);
    assert.deepStrictEqual([...head, ...rest].sort(), a);
  });

  await t.test('a created range', async () => {
    const got = [];
    for await (const s of client.getAllInstances(
      { createdFrom: t1, createdTo: t2 })) {
      got.push(s.instanceId);
    }
    assert.deepStrictEqual(got.sort(), b);
  });

  await t.test('statuses and a prefix', async () => {
    const running = [];
    for await (const s of client.getAllInstances({ instanceIdPrefix: 'q',
      statuses: [OrchestrationStatus.RUNNING, OrchestrationStatus.PENDING] })) {
      running.push(s.instanceId);
    }
    assert.deepStrictEqual(running.sort(), c);

    const done = [];
    for await (const s of client.getAllInstances({ instanceIdPrefix: 'qb-',
      statuses: [OrchestrationStatus.COMPLETED] })) {
      done.push(s.instanceId);
      assert.strictEqual(s.runtimeStatus, OrchestrationStatus.COMPLETED);
    }
    assert.deepStrictEqual(done.sort(), b);
  });

  await t.test('inputs and outputs only on request', async () => {
    for await (const s of client.getAllInstances({ instanceIdPrefix: 'qb-' })) {
      assert.strictEqual(s.serializedInput, undefined, s.instanceId);
      assert.strictEqual(s.serializedOutput, undefined, s.instanceId);
    }
    let n = 0;
    for await (const s of client.getAllInstances({ instanceIdPrefix: 'qb-',
      fetchInputsAndOutputs: true })) {
      assert.strictEqual(JSON.parse(s.serializedInput), s.instanceId);
      assert.deepStrictEqual(JSON.parse(s.serializedOutput),
        { echoed: s.instanceId });
      n++;
    }
    assert.strictEqual(n, b.length);
  });

  await t.test('the HTTP list gives the same instances', async () => {
    const grpc = [];
    for await (const s of client.getAllInstances({ instanceIdPrefix: 'q' })) {
      grpc.push([s.instanceId, s.name, s.runtimeStatus]);
    }
    const names = { Completed: OrchestrationStatus.COMPLETED,
                    Running: OrchestrationStatus.RUNNING };
    const viaHttp = [];
    let token = null;
    do {
      const res = await http(srv, '/instances?instanceIdPrefix=q&top=5',
        { headers: token ? { 'x-ms-continuation-token': token } : {} });
      assert.strictEqual(res.status, 200);
      for (const s of res.body) {
        viaHttp.push([s.instanceId, s.name, names[s.runtimeStatus]]);
      }
      token = res.headers.get('x-ms-continuation-token');
    } while (token);
    assert.deepStrictEqual(viaHttp.sort(), grpc.sort());
    assert.strictEqual(grpc.length, a.length + b.length + c.length);
  });

  await t.test('a bad continuation token is INVALID_ARGUMENT', async () => {
    await assert.rejects(pages(client.getAllInstances({}), 'not a token', 5),
      (e) => e.code === 3);
  });

  await t.test('ListInstanceIds in pages', async () => {
    const ids = [];
    let key;
    let n = 0;
    do {
      const page = await client.listInstanceIds({ pageSize: 4,
        lastInstanceKey: key,
        runtimeStatus: [OrchestrationStatus.COMPLETED] });
      assert.ok(page.values.length <= 4);
      ids.push(...page.values);
      key = page.continuationToken;
      n++;
    } while (key && n < 50);
    assert.deepStrictEqual(ids.filter((id) => id.startsWith('q')).sort(),
      [...a, ...b]);
  });

  await t.test('ListInstanceIds by completion time', async () => {
    const page = await client.listInstanceIds({ completedTimeFrom: t2 });
    assert.deepStrictEqual([...page.values], []);
    const all = await client.listInstanceIds({ completedTimeFrom: t1,
      completedTimeTo: t2, pageSize: 100 });
    // batch a may have finished after t1 too
    assert.ok(b.every((id) => all.values.includes(id)));
    assert.ok(c.every((id) => !all.values.includes(id)));
  });

  await t.test('nginx logged no alert and no worker died', () => {
    assert.deepStrictEqual(srv.problems(), []);
  });
});
