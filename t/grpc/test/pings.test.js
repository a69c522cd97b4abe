// Health pings of idle GetWorkItems streams cost the stream's memory
// nothing: a stream's pool is freed only when it ends, and an idle one
// never reaches the byte count that ends and reopens a busy one. Many
// idle streams are pinged many times each (counted, not timed), and the
// nginx worker's resident memory must not grow with the pings.

'use strict';

const fs = require('node:fs');
const test = require('node:test');
const assert = require('node:assert');
const pb = require('@microsoft/durabletask-js/dist/proto/orchestrator_service_pb');
const nginx = require('../lib/nginx');
const { stream } = require('../lib/wire');

const STREAMS = 100;
const PINGS = 100;

// kB of resident memory of the only worker process
function workerRss(srv) {
  const kids = fs.readFileSync(
    `/proc/${srv.proc.pid}/task/${srv.proc.pid}/children`, 'utf8')
    .trim().split(/\s+/);
  assert.strictEqual(kids.length, 1, 'one worker process');
  const status = fs.readFileSync(`/proc/${kids[0]}/status`, 'utf8');
  return Number(status.match(/^VmRSS:\s+(\d+) kB$/m)[1]);
}

// n more health pings on each stream
async function pings(streams, n) {
  await Promise.all(streams.map(async (s) => {
    for (let i = 0; i < n; i++) {
      const m = await s.next(5000);
      assert.notStrictEqual(m, null, 'a ping within 5 s');
      assert.ok(pb.WorkItem.deserializeBinary(m).hasHealthping());
    }
  }));
}

test('health pings of idle streams', async (t) => {
  const srv = await nginx.start({ name: 'pings', workers: 1,
    grpc: 'ping=100ms' });
  t.after(() => srv.stop());

  const req = new pb.GetWorkItemsRequest().serializeBinary();
  const streams = [];
  for (let i = 0; i < STREAMS; i++) {
    streams.push(stream(srv.address, 'GetWorkItems', req));
  }

  // what opening the streams takes is in memory by now
  await pings(streams, 5);
  const before = workerRss(srv);

  await pings(streams, PINGS);
  const grown = workerRss(srv) - before;
  t.diagnostic(`the worker grew by ${grown} kB`);

  // a ping that took 80-odd bytes of its stream's pool grew the worker
  // by about STREAMS * PINGS * 84 bytes (some 800 kB); noise is far less.
  // Not under AddressSanitizer (make test-asan-grpc preloads it), whose
  // quarantine holds freed memory: any allocation churn grows the RSS.
  if (!process.env.GRPC_TEST_LD_PRELOAD) {
    assert.ok(grown < 200, `the worker grew by ${grown} kB over `
      + `${STREAMS * PINGS} pings`);
  }

  for (const s of streams) {
    s.cancel();
  }
  await Promise.all(streams.map((s) => s.ended()));
  assert.deepStrictEqual(srv.problems(), []);
});
