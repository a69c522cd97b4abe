// Streams under HTTP/2 flow control: a client that opens no window gets
// what nginx holds back once it does, and nothing twice; a stream whose
// output waits for the window takes no more work meanwhile.

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const http2 = require('node:http2');
const pb = require('@microsoft/durabletask-js/dist/proto/orchestrator_service_pb');
const nginx = require('../lib/nginx');
const { frame } = require('../lib/wire');
const { TaskHubGrpcClient, TaskHubGrpcWorker, NoOpLogger,
        OrchestrationStatus } = require('@microsoft/durabletask-js');
const { sleep, finished, output } = require('../lib/app');

// a GetWorkItems stream on a session that opens no window at first
function heldStream(srv) {
  const session = http2.connect(`http://${srv.address}`,
    { settings: { initialWindowSize: 0 } });
  session.on('error', () => {});
  const req = session.request({ ':method': 'POST',
    ':path': '/TaskHubSidecarService/GetWorkItems',
    'content-type': 'application/grpc', te: 'trailers' });
  const s = { session, req, rawTrailers: null, bytes: 0 };
  req.on('trailers', (_tr, _flags, raw) => {
    s.rawTrailers = raw;
  });
  req.on('data', (d) => {
    s.bytes += d.length;
  });
  req.on('error', () => {});
  s.closed = new Promise((r) => req.on('close', r));
  req.end(frame(Buffer.from(
    new pb.GetWorkItemsRequest().serializeBinary())));
  return s;
}

test('a stream ended at a reload while flow control holds its pings',
  async (t) => {
    const srv = await nginx.start({ name: 'flow-exit', workers: 1,
      grpc: 'ping=100ms' });
    t.after(() => srv.stop());
    const s = heldStream(srv);
    t.after(() => s.session.destroy());

    // pings pile up behind the closed window; the old process must end
    // the stream once however often it wakes meanwhile
    await sleep(800);
    srv.reload();
    await sleep(1500);
    s.session.settings({ initialWindowSize: 65535 });
    await s.closed;

    assert.ok(s.rawTrailers, 'the stream ended with trailers');
    const names = s.rawTrailers.filter((_v, i) => i % 2 === 0);
    assert.deepStrictEqual(names.filter((n) => n === 'grpc-status'),
      ['grpc-status'], 'one grpc-status trailer');
    assert.strictEqual(s.rawTrailers[names.indexOf('grpc-status') * 2 + 1],
      '0');
    assert.deepStrictEqual(srv.problems(), []);
  });

test('a stream whose output is held back claims nothing', async (t) => {
  const srv = await nginx.start({ name: 'flow-claim', workers: 1,
    grpc: 'ping=100ms' });
  const client = new TaskHubGrpcClient({ hostAddress: srv.address,
    logger: new NoOpLogger() });
  t.after(async () => {
    await client.stop();
    await srv.stop();
  });
  const s = heldStream(srv);
  t.after(() => s.session.destroy());

  // its pings fill the closed window; then work comes
  await sleep(500);
  const id = await client.scheduleNewOrchestration('Held');
  await sleep(500);

  // a worker with a window gets it: the held stream did not take it
  const worker = new TaskHubGrpcWorker({ hostAddress: srv.address,
    logger: new NoOpLogger(), shutdownTimeoutMs: 2000 });
  worker.addNamedOrchestrator('Held', async function* () {
    return 'taken';
  });
  await worker.start();
  t.after(() => worker.stop());

  const st = await finished(client, id, 15);
  assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED);
  assert.strictEqual(output(st), 'taken');
  assert.deepStrictEqual(srv.problems(), []);
});
