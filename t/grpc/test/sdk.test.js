// Orchestrations end to end: the JavaScript SDK's worker and client
// against nginx, and what they did read back over the HTTP API.

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { TaskHubGrpcClient, TaskHubGrpcWorker, OrchestrationStatus,
        NoOpLogger } = require('@microsoft/durabletask-js');
const nginx = require('../lib/nginx');

function sayHello(ctx, name) {
  return `Hello ${name}!`;
}

async function* helloSequence(ctx) {
  const out = [];
  out.push(yield ctx.callActivity(sayHello, 'Tokyo'));
  out.push(yield ctx.callActivity(sayHello, 'Seattle'));
  out.push(yield ctx.callActivity(sayHello, 'London'));
  return out;
}

async function* approval(ctx) {
  const answer = yield ctx.waitForExternalEvent('approval');
  return { approved: answer };
}

test('SDK worker and client', async (t) => {
  const srv = await nginx.start({ name: 'sdk' });
  const client = new TaskHubGrpcClient({ hostAddress: srv.address,
    logger: new NoOpLogger() });
  const worker = new TaskHubGrpcWorker({ hostAddress: srv.address,
    logger: new NoOpLogger() });
  worker.addOrchestrator(helloSequence);
  worker.addOrchestrator(approval);
  worker.addActivity(sayHello);
  await worker.start();
  t.after(async () => {
    await worker.stop();
    await client.stop();
    await srv.stop();
  });

  await t.test('a hello sequence completes', async () => {
    const id = await client.scheduleNewOrchestration(helloSequence);
    const st = await client.waitForOrchestrationCompletion(id, true, 30);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
      JSON.stringify(st.failureDetails));
    assert.deepStrictEqual(JSON.parse(st.serializedOutput),
      ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!']);

    const h = await (await fetch(
      `${srv.http}/instances/${id}?showHistory=true`)).json();
    assert.strictEqual(h.runtimeStatus, 'Completed');
    assert.deepStrictEqual(h.output,
      ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!']);
  });

  await t.test('an external event', async () => {
    const id = await client.scheduleNewOrchestration(approval);
    await client.waitForOrchestrationStart(id, false, 30);
    await client.raiseOrchestrationEvent(id, 'approval', true);
    const st = await client.waitForOrchestrationCompletion(id, true, 30);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED);
    assert.deepStrictEqual(JSON.parse(st.serializedOutput),
      { approved: true });
  });

  await t.test('terminate a waiting orchestration', async () => {
    const id = await client.scheduleNewOrchestration(approval);
    await client.waitForOrchestrationStart(id, false, 30);
    await client.terminateOrchestration(id, 'stop');
    const st = await client.waitForOrchestrationCompletion(id, true, 30);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.TERMINATED);
  });

  await t.test('suspend, raise, resume', async () => {
    const id = await client.scheduleNewOrchestration(approval);
    await client.waitForOrchestrationStart(id, false, 30);
    await client.suspendOrchestration(id);
    await client.raiseOrchestrationEvent(id, 'approval', 'later');
    await new Promise((r) => setTimeout(r, 300));
    let st = await client.getOrchestrationState(id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.SUSPENDED);
    await client.resumeOrchestration(id);
    st = await client.waitForOrchestrationCompletion(id, true, 30);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED);
    assert.deepStrictEqual(JSON.parse(st.serializedOutput),
      { approved: 'later' });
  });

  await t.test('many at once', async () => {
    const ids = [];
    for (let i = 0; i < 20; i++) {
      ids.push(await client.scheduleNewOrchestration(helloSequence));
    }
    for (const id of ids) {
      const st = await client.waitForOrchestrationCompletion(id, true, 60);
      assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED);
    }
  });

  await t.test('nginx logged no alert and no worker died', () => {
    assert.deepStrictEqual(srv.problems(), []);
  });
});
