// Streams under HTTP/2 flow control: a client that opens no window gets
// what nginx holds back once it does, and nothing twice.

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const http2 = require('node:http2');
const pb = require('@microsoft/durabletask-js/dist/proto/orchestrator_service_pb');
const nginx = require('../lib/nginx');
const { frame } = require('../lib/wire');
const { sleep } = require('../lib/app');

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
