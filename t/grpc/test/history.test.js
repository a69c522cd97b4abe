// StreamInstanceHistory under HTTP/2 flow control: the next chunk is read
// once the one before is sent, a history read without an executionId
// stays in the execution of its first chunk, grpc-timeout bounds it, and
// a client that resets the call or goes away while the window is shut
// ends it.

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const http2 = require('node:http2');
const { whenAll } = require('@microsoft/durabletask-js');
const pb = require('@microsoft/durabletask-js/dist/proto/orchestrator_service_pb');
const { open, finished, sleep, until } = require('../lib/app');
const { frame } = require('../lib/wire');

const sayHello = async (_ctx, name) => `Hello ${name}`;

// more events than a chunk holds (DG_CHUNK_EVENTS)
async function* fanOut(ctx, n) {
  const tasks = [];
  for (let i = 0; i < n; i++) {
    tasks.push(ctx.callActivity(sayHello, `n${i}`));
  }
  const all = yield whenAll(tasks);
  return all.length;
}

// a StreamInstanceHistory call on a session that opens no window
function heldHistory(srv, id, headers = {}) {
  const session = http2.connect(`http://${srv.address}`,
    { settings: { initialWindowSize: 0 } });
  session.on('error', () => {});
  const req = session.request({ ':method': 'POST',
    ':path': '/TaskHubSidecarService/StreamInstanceHistory',
    'content-type': 'application/grpc', te: 'trailers', ...headers });
  const h = { session, trailers: {}, headers: {}, chunks: [] };
  let buf = Buffer.alloc(0);
  req.on('response', (hd) => { h.headers = hd; });
  req.on('trailers', (tr) => { h.trailers = tr; });
  req.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 5 && buf.length >= 5 + buf.readUInt32BE(1)) {
      h.chunks.push(pb.HistoryChunk.deserializeBinary(
        buf.subarray(5, 5 + buf.readUInt32BE(1))));
      buf = buf.subarray(5 + buf.readUInt32BE(1));
    }
  });
  req.on('error', () => {});
  h.req = req;
  h.closed = new Promise((r) => req.on('close', r));
  const m = new pb.StreamInstanceHistoryRequest();
  m.setInstanceid(id);
  req.end(frame(Buffer.from(m.serializeBinary())));
  h.open = () => session.settings({ initialWindowSize: 1 << 20 });
  h.status = () => Number(h.trailers['grpc-status']
                          ?? h.headers['grpc-status']);
  return h;
}

// the store's reads submitted so far, from nginx's debug log
function reads(srv) {
  return (srv.errorLog().match(/durable op submitted: reading,/g)
          || []).length;
}

test('history under flow control', async (t) => {
  const { srv, client } = await open(t, { name: 'history',
    nginx: { workers: 1, logLevel: 'debug' },
    register: (w) => {
      w.addOrchestrator(fanOut);
      w.addActivity(sayHello);
    } });

  const id = await client.scheduleNewOrchestration(fanOut, 200);
  await finished(client, id, 60);

  await t.test('the next chunk is read once the last one is sent',
    async () => {
      const before = reads(srv);
      const h = heldHistory(srv, id);
      t.after(() => h.session.destroy());
      await sleep(1000);
      // the first chunk waits for the window: one read, not all
      assert.strictEqual(reads(srv) - before, 1);
      h.open();
      await h.closed;
      assert.strictEqual(h.status(), 0);
      assert.ok(h.chunks.length > 1, `${h.chunks.length} chunks`);
      const n = h.chunks.reduce((a, c) => a + c.getEventsList().length, 0);
      assert.ok(n > 400, `${n} events`);
    });

  await t.test('a new execution between chunks ends the read',
    async () => {
      const h = heldHistory(srv, id);
      t.after(() => h.session.destroy());
      await sleep(500);
      // the first chunk is read; the instance begins again meanwhile
      await client.restartOrchestration(id, false);
      await finished(client, id, 60);
      h.open();
      await h.closed;
      // no history of two executions: the read is refused
      assert.strictEqual(h.status(), 10,
        `status ${h.status()} after ${h.chunks.length} chunks`);
    });

  await t.test('a reset or a closed connection ends a held read',
    async () => {
      // the access log's line is written when nginx ends the request
      const ended = () => srv.accessLog().split('\n')
        .filter((l) => / StreamInstanceHistory /.test(l)).length;
      const before = ended();
      const reset = heldHistory(srv, id);
      const gone = heldHistory(srv, id);
      t.after(() => reset.session.destroy());
      await sleep(500);
      reset.req.close(http2.constants.NGHTTP2_CANCEL);
      gone.session.destroy();
      await until('both held reads ended', () => ended() - before === 2);
    });

  await t.test('grpc-timeout ends a read that outlives it', async () => {
    const h = heldHistory(srv, id, { 'grpc-timeout': '1S' });
    t.after(() => h.session.destroy());
    // the first chunk waits for the window past the deadline
    await sleep(1500);
    h.open();
    await h.closed;
    assert.strictEqual(h.status(), 4,
      `status ${h.status()} after ${h.chunks.length} chunks`);
  });
});
