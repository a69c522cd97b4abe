// The client's calls through the JavaScript SDK's TaskHubGrpcClient, with
// no worker running: instances stay Pending, which is enough to start,
// read, raise, suspend, resume, terminate, purge and query them, and to
// see them over the HTTP API on the same store.

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const http2 = require('node:http2');
const { TaskHubGrpcClient, OrchestrationStatus, PurgeInstanceCriteria } =
  require('@microsoft/durabletask-js');
const nginx = require('../lib/nginx');
const { call, frame } = require('../lib/wire');

const S = { INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5,
            ALREADY_EXISTS: 6, FAILED_PRECONDITION: 9 };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// a GetInstanceRequest by hand: field 1 instanceId, field 2 inputs
function getInstanceRequest(id) {
  const b = Buffer.from(id);
  return Buffer.concat([Buffer.from([0x0a, b.length]), b]);
}

test('client calls', async (t) => {
  const srv = await nginx.start({ name: 'client' });
  const client = new TaskHubGrpcClient({ hostAddress: srv.address });
  t.after(async () => {
    await client.stop();
    await srv.stop();
  });

  await t.test('start, then read over gRPC and over HTTP', async () => {
    const id = await client.scheduleNewOrchestration('Hello', { n: 1 },
      'start-1');
    assert.strictEqual(id, 'start-1');

    const st = await client.getOrchestrationState(id, true);
    assert.strictEqual(st.instanceId, id);
    assert.strictEqual(st.name, 'Hello');
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.PENDING);
    assert.deepStrictEqual(JSON.parse(st.serializedInput), { n: 1 });

    const res = await fetch(`${srv.http}/instances/${id}`);
    assert.strictEqual(res.status, 202);
    const body = await res.json();
    assert.strictEqual(body.name, 'Hello');
    assert.strictEqual(body.runtimeStatus, 'Pending');
  });

  await t.test('a start without an id gets one', async () => {
    // CreateInstanceRequest { name: "Hello" }: the SDK always sends an id
    const res = await call(srv.address, 'StartInstance',
      { body: frame(Buffer.from('\x12\x05Hello')) });
    assert.strictEqual(res.grpcStatus, 0);
    const msg = res.messages[0];
    assert.strictEqual(msg[0], 0x0a);
    assert.match(msg.subarray(2, 2 + msg[1]).toString(), /^[0-9a-f]{32}$/);
  });

  await t.test('an active id again is ALREADY_EXISTS', async () => {
    await assert.rejects(
      client.scheduleNewOrchestration('Hello', null, 'start-1'),
      (e) => e.code === S.ALREADY_EXISTS);
  });

  await t.test('an unknown instance reads as none', async () => {
    assert.strictEqual(await client.getOrchestrationState('nope'),
      undefined);
  });

  await t.test('a bad instance id is INVALID_ARGUMENT', async () => {
    await assert.rejects(
      client.scheduleNewOrchestration('Hello', null, '@bad'),
      (e) => e.code === S.INVALID_ARGUMENT);
  });

  await t.test('raise an event; of an unknown instance NOT_FOUND',
    async () => {
      await client.raiseOrchestrationEvent('start-1', 'go', { x: 1 });
      await assert.rejects(
        client.raiseOrchestrationEvent('nope', 'go', 1),
        (e) => e.code === S.NOT_FOUND);
    });

  await t.test('suspend and resume', async () => {
    const id = await client.scheduleNewOrchestration('Hello', null, 'sus-1');
    await client.suspendOrchestration(id);
    let st = await client.getOrchestrationState(id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.SUSPENDED);
    await client.resumeOrchestration(id);
    st = await client.getOrchestrationState(id);
    assert.notStrictEqual(st.runtimeStatus, OrchestrationStatus.SUSPENDED);
  });

  await t.test('terminate, then terminate again', async () => {
    const id = await client.scheduleNewOrchestration('Hello', null, 'term-1');
    await client.terminateOrchestration(id, 'enough');
    const st = await client.getOrchestrationState(id, true);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.TERMINATED);
    assert.deepStrictEqual(JSON.parse(st.serializedOutput), 'enough');
    await assert.rejects(client.terminateOrchestration(id, 'again'),
      (e) => e.code === S.FAILED_PRECONDITION);
  });

  await t.test('purge one instance: terminal only', async () => {
    await assert.rejects(client.purgeOrchestration('start-1'),
      (e) => e.code === S.FAILED_PRECONDITION);
    const res = await client.purgeOrchestration('term-1');
    assert.strictEqual(res.deletedInstanceCount, 1);
    assert.strictEqual(await client.getOrchestrationState('term-1'),
      undefined);
    const again = await client.purgeOrchestration('term-1');
    assert.strictEqual(again.deletedInstanceCount, 0);
    assert.strictEqual((await fetch(`${srv.http}/instances/term-1`)).status,
      404);
  });

  await t.test('an instance started over HTTP, terminated over gRPC',
    async () => {
      const res = await fetch(`${srv.http}/orchestrators/Other/http-1`,
        { method: 'POST', headers: { 'content-type': 'application/json' },
          body: '[1,2]' });
      assert.strictEqual(res.status, 202);
      const st = await client.getOrchestrationState('http-1', true);
      assert.strictEqual(st.name, 'Other');
      assert.deepStrictEqual(JSON.parse(st.serializedInput), [1, 2]);
      await client.terminateOrchestration('http-1', 'x');
      const h = await (await fetch(`${srv.http}/instances/http-1`)).json();
      assert.strictEqual(h.runtimeStatus, 'Terminated');
    });

  await t.test('query in pages', async () => {
    for (let i = 0; i < 7; i++) {
      await client.scheduleNewOrchestration('Paged', i, `page-${i}`);
    }
    const seen = [];
    let pages = 0;
    for await (const page of client.getAllInstances(
      { instanceIdPrefix: 'page-', pageSize: 3 }).asPages()) {
      pages++;
      assert.ok(page.values.length <= 3);
      seen.push(...page.values.map((s) => s.instanceId));
    }
    assert.strictEqual(pages, 3);
    assert.deepStrictEqual(seen.sort(),
      [0, 1, 2, 3, 4, 5, 6].map((i) => `page-${i}`));
  });

  await t.test('query by status', async () => {
    const got = [];
    for await (const st of client.getAllInstances(
      { statuses: [OrchestrationStatus.TERMINATED] })) {
      got.push(st.instanceId);
    }
    assert.deepStrictEqual(got.sort(), ['http-1']);
  });

  await t.test('purge by filter', async () => {
    const criteria = new PurgeInstanceCriteria();
    criteria.setCreatedTimeFrom(new Date(Date.now() - 3600e3));
    criteria.setRuntimeStatusList([OrchestrationStatus.TERMINATED]);
    const res = await client.purgeOrchestration(criteria);
    assert.strictEqual(res.deletedInstanceCount, 1);
    assert.strictEqual(await client.getOrchestrationState('http-1'),
      undefined);
  });

  await t.test('purge a list of ids', async () => {
    const pb = require(
      '@microsoft/durabletask-js/dist/proto/orchestrator_service_pb');
    for (const id of ['list-a', 'list-b', 'list-c']) {
      await client.scheduleNewOrchestration('Listed', null, id);
    }
    await client.terminateOrchestration('list-a', 'x');
    await client.terminateOrchestration('list-b', 'x');

    const batch = new pb.InstanceBatch();
    batch.setInstanceidsList(['list-a', 'list-b', 'list-c', 'list-none']);
    const req = new pb.PurgeInstancesRequest();
    req.setInstancebatch(batch);
    const res = await call(srv.address, 'PurgeInstances',
      { body: frame(Buffer.from(req.serializeBinary())) });
    assert.strictEqual(res.grpcStatus, 0);
    const out = pb.PurgeInstancesResponse.deserializeBinary(res.messages[0]);
    assert.strictEqual(out.getDeletedinstancecount(), 2);
    // the active one is kept
    assert.strictEqual((await client.getOrchestrationState('list-c'))
      .runtimeStatus, OrchestrationStatus.PENDING);
    assert.strictEqual(await client.getOrchestrationState('list-a'),
      undefined);
  });

  await t.test('a wait with a 1 s deadline ends DEADLINE_EXCEEDED',
    async () => {
      const res = await call(srv.address, 'WaitForInstanceCompletion',
        { headers: { 'grpc-timeout': '1S' },
          body: frame(getInstanceRequest('start-1')) });
      assert.strictEqual(res.grpcStatus, S.DEADLINE_EXCEEDED);
    });

  await t.test('a wait ends when the instance does', async () => {
    const waiting = client.waitForOrchestrationCompletion('start-1', true,
      30);
    await sleep(200);
    await client.terminateOrchestration('start-1', 'done');
    const st = await waiting;
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.TERMINATED);
  });

  await t.test('an answer that flow control holds back is sent once',
    async () => {
      await client.scheduleNewOrchestration('Hello', null, 'flow-1');
      // no window for DATA: the answer of the wait must wait for it
      const session = http2.connect(`http://${srv.address}`,
        { settings: { initialWindowSize: 0 } });
      session.on('error', () => {});
      const pending = call(srv.address, 'WaitForInstanceCompletion',
        { session, body: frame(getInstanceRequest('flow-1')) });
      await sleep(300);
      await client.terminateOrchestration('flow-1', 'done');
      // many of the wait's ticks pass while the answer is held
      await sleep(500);
      session.settings({ initialWindowSize: 65535 });
      const res = await pending;
      session.close();
      assert.strictEqual(res.grpcStatus, 0, `rst ${res.rstCode}`);
      assert.strictEqual(res.messages.length, 1);
      assert.deepStrictEqual(srv.problems(), []);
    });

  await t.test('a wait the client cancels is freed', async () => {
    await client.scheduleNewOrchestration('Hello', null, 'cancel-1');
    const before = await srv.metric('durable_waits_open');
    const pending = call(srv.address, 'WaitForInstanceCompletion',
      { timeout: 500,
        body: frame(getInstanceRequest('cancel-1')) });
    await sleep(250);
    assert.strictEqual(await srv.metric('durable_waits_open'), before + 1);
    const res = await pending;
    assert.ok(res.cancelled);
    for (let i = 0; i < 50; i++) {
      if (await srv.metric('durable_waits_open') === before) {
        break;
      }
      await sleep(100);
    }
    assert.strictEqual(await srv.metric('durable_waits_open'), before);
  });

  await t.test('the access log names the method and the instance', () => {
    const lines = srv.accessLog().split('\n');
    assert.ok(lines.includes('200 StartInstance DurableFunctionsHub '
      + 'start-1 Pending'), lines.slice(0, 5).join('\n'));
    assert.ok(lines.includes('200 TerminateInstance DurableFunctionsHub '
      + 'term-1 -'));
  });

  await t.test('nginx logged no alert and no worker died', () => {
    assert.deepStrictEqual(srv.problems(), []);
  });
});
