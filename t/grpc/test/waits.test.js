// The client's waits (WaitForInstanceStart, WaitForInstanceCompletion)
// are woken by the store's notifications: a held wait reads nothing while
// nothing is written. A GetWorkItems stream ends at its grpc-timeout.

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { TaskHubGrpcClient, NoOpLogger } = require('@microsoft/durabletask-js');
const nginx = require('../lib/nginx');
const { call, frame } = require('../lib/wire');

// a GetInstanceRequest by hand: field 1 instanceId
function getInstanceRequest(id) {
  const b = Buffer.from(id);
  return Buffer.concat([Buffer.from([0x0a, b.length]), b]);
}

// the wait handler's runs, from nginx's debug log
function wakes(srv) {
  return (srv.errorLog().match(/durable wait: handler/g) || []).length;
}

test('a held wait does not read the store again by itself', async (t) => {
  const srv = await nginx.start({ name: 'waits', workers: 1,
    logLevel: 'debug' });
  const client = new TaskHubGrpcClient({ hostAddress: srv.address,
    logger: new NoOpLogger() });
  t.after(async () => {
    await client.stop();
    await srv.stop();
  });

  // no worker: the instance stays Pending and nothing writes
  await client.scheduleNewOrchestration('Hello', null, 'idle-1');

  for (const method of ['WaitForInstanceCompletion',
                        'WaitForInstanceStart']) {
    const before = wakes(srv);
    // held for several seconds, then cancelled by the client
    const res = await call(srv.address, method,
      { timeout: 3500, body: frame(getInstanceRequest('idle-1')) });
    assert.ok(res.cancelled, `${method} was held`);
    assert.strictEqual(wakes(srv), before, `${method} read again`);
  }
  assert.deepStrictEqual(srv.problems(), []);
});

test('grpc-timeout ends an idle GetWorkItems stream', async (t) => {
  const srv = await nginx.start({ name: 'waits-stream', workers: 1 });
  t.after(() => srv.stop());
  // an empty GetWorkItemsRequest; nothing to hand out
  const res = await call(srv.address, 'GetWorkItems',
    { timeout: 10000, headers: { 'grpc-timeout': '1S' },
      body: frame(Buffer.alloc(0)) });
  assert.ok(!res.cancelled, 'the stream ended before the client gave up');
  assert.strictEqual(res.grpcStatus, 4);
});
