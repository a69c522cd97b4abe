// A store whose database has no durable schema (PostgreSQL only: an LMDB
// store has none to lack): a gRPC call is UNAVAILABLE with the store's
// message, and the metrics page counts it as it counts the HTTP API's
// 503 for the same store (durable_errors_total, store_unavailable).

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const nginx = require('../lib/nginx');
const { postgres } = require('../lib/backend');
const { call, frame } = require('../lib/wire');

const UNAVAILABLE = 14;

// a GetInstanceRequest by hand: field 1 instanceId
function getInstanceRequest(id) {
  const b = Buffer.from(id);
  return Buffer.concat([Buffer.from([0x0a, b.length]), b]);
}

test('a database without the schema', async (t) => {
  if (!postgres) {
    t.skip('PostgreSQL only (make test-grpc-postgres)');
    return;
  }
  const srv = await nginx.start({ name: 'unavailable', bare: true,
    workers: 1 });
  t.after(() => srv.stop());

  const unavailable = () => srv.metric('durable_errors_total',
    'cause="store_unavailable"');
  const before = await unavailable();

  const res = await call(srv.address, 'GetInstance',
    { body: frame(getInstanceRequest('a')) });
  assert.strictEqual(res.grpcStatus, UNAVAILABLE, res.grpcMessage);
  assert.match(res.grpcMessage, /schema/);
  assert.strictEqual(await unavailable(), before + 1);

  // the HTTP API's refusal of the same store counts the same way
  const http = await fetch(`${srv.http}/instances/a`);
  assert.strictEqual(http.status, 503);
  assert.strictEqual(await unavailable(), before + 2);
});
