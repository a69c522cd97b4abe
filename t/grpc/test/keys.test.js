// The SDK against a location with keys: the client sends a system key and
// the worker a worker key through the SDK's own metadata hook, with the
// task hub as "taskhub" metadata; what they did is in that hub.

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const grpc = require('@grpc/grpc-js');
const { TaskHubGrpcClient, TaskHubGrpcWorker, OrchestrationStatus,
        NoOpLogger } = require('@microsoft/durabletask-js');
const nginx = require('../lib/nginx');

const keys = { system: 'system-key-0123', worker: 'worker-key-0123' };

function metadata(key, hub) {
  return async () => {
    const m = new grpc.Metadata();
    m.set('authorization', `Bearer ${key}`);
    m.set('taskhub', hub);
    return m;
  };
}

async function* greet(ctx, name) {
  return yield ctx.callActivity(hello, name);
}

function hello(ctx, name) {
  return `Hello ${name}!`;
}

test('the SDK with keys and a task hub', async (t) => {
  const srv = await nginx.start({ name: 'sdk-keys', keys });
  const client = new TaskHubGrpcClient({ hostAddress: srv.address,
    metadataGenerator: metadata(keys.system, 'KeyedHub'),
    logger: new NoOpLogger() });
  const worker = new TaskHubGrpcWorker({ hostAddress: srv.address,
    metadataGenerator: metadata(keys.worker, 'KeyedHub'),
    logger: new NoOpLogger() });
  worker.addOrchestrator(greet);
  worker.addActivity(hello);
  await worker.start();
  t.after(async () => {
    await worker.stop();
    await client.stop();
    await srv.stop();
  });

  const id = await client.scheduleNewOrchestration(greet, 'keys');
  const st = await client.waitForOrchestrationCompletion(id, true, 30);
  assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED);
  assert.strictEqual(JSON.parse(st.serializedOutput), 'Hello keys!');

  // in its hub, not in the default one
  let res = await fetch(`${srv.http}/instances/${id}?taskHub=KeyedHub`);
  assert.strictEqual(res.status, 200);
  res = await fetch(`${srv.http}/instances/${id}`);
  assert.strictEqual(res.status, 404);

  // a client with the worker's key is refused
  const wrong = new TaskHubGrpcClient({ hostAddress: srv.address,
    metadataGenerator: metadata(keys.worker, 'KeyedHub'),
    logger: new NoOpLogger() });
  await assert.rejects(wrong.getOrchestrationState(id),
    (e) => e.code === grpc.status.UNAUTHENTICATED);
  await wrong.stop();

  // with both, x-functions-key counts first (the bearer token stands
  // where the HTTP API's code= does): a good header and a wrong token
  // pass, a good token and a wrong header do not
  const both = (bearer, header) => async () => {
    const m = new grpc.Metadata();
    m.set('authorization', `Bearer ${bearer}`);
    m.set('x-functions-key', header);
    m.set('taskhub', 'KeyedHub');
    return m;
  };
  const headerFirst = new TaskHubGrpcClient({ hostAddress: srv.address,
    metadataGenerator: both('wrong-key-0123', keys.system),
    logger: new NoOpLogger() });
  const got = await headerFirst.getOrchestrationState(id);
  assert.strictEqual(got.runtimeStatus, OrchestrationStatus.COMPLETED);
  await headerFirst.stop();
  const tokenLast = new TaskHubGrpcClient({ hostAddress: srv.address,
    metadataGenerator: both(keys.system, 'wrong-key-0123'),
    logger: new NoOpLogger() });
  await assert.rejects(tokenLast.getOrchestrationState(id),
    (e) => e.code === grpc.status.UNAUTHENTICATED);
  await tokenLast.stop();

  // a call without a key is told where a gRPC client puts one
  const none = new TaskHubGrpcClient({ hostAddress: srv.address,
    logger: new NoOpLogger() });
  await assert.rejects(none.getOrchestrationState(id),
    (e) => e.code === grpc.status.UNAUTHENTICATED
           && /'authorization: Bearer KEY'/.test(e.details)
           && /'x-functions-key'/.test(e.details)
           && !/'code'/.test(e.details));
  await none.stop();
});
