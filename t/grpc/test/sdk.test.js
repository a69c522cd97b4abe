// Orchestrations end to end: the JavaScript SDK's worker and client
// against nginx, and what they did read back over the HTTP API.

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { TaskHubGrpcClient, TaskHubGrpcWorker, OrchestrationStatus,
        NoOpLogger, TaskEntity, EntityInstanceId, whenAll } =
  require('@microsoft/durabletask-js');
const nginx = require('../lib/nginx');
const { call, frame } = require('../lib/wire');

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

async function* fanOut(ctx, n) {
  const tasks = [];
  for (let i = 0; i < n; i++) {
    tasks.push(ctx.callActivity(sayHello, `n${i}`));
  }
  const all = yield whenAll(tasks);
  return all.length;
}

async function* failing(ctx) {
  yield ctx.callActivity(sayHello, 'x');
  throw new Error('on purpose');
}

// calls an entity and waits for its answer, in a critical section
async function* callCounter(ctx, key) {
  const id = new EntityInstanceId('counter', key);
  const lock = yield ctx.entities.lockEntities(id);
  yield ctx.entities.callEntity(id, 'add', 5);
  const value = yield ctx.entities.callEntity(id, 'get');
  lock.release();
  return value;
}

class Counter extends TaskEntity {
  add(n) {
    this.state += n;
  }

  get() {
    return this.state;
  }

  initializeState() {
    return 0;
  }
}

// polls: entity signals have no completion to wait for
async function until(what, fn, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) {
      assert.ok(v, what);
      return v;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('SDK worker and client', async (t) => {
  const srv = await nginx.start({ name: 'sdk' });
  const client = new TaskHubGrpcClient({ hostAddress: srv.address,
    logger: new NoOpLogger() });
  const worker = new TaskHubGrpcWorker({ hostAddress: srv.address,
    logger: new NoOpLogger() });
  worker.addOrchestrator(helloSequence);
  worker.addOrchestrator(approval);
  worker.addOrchestrator(failing);
  worker.addOrchestrator(fanOut);
  worker.addOrchestrator(callCounter);
  worker.addActivity(sayHello);
  worker.addNamedEntity('counter', () => new Counter());
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

  await t.test('a scheduled start, with tags', async () => {
    const startAt = new Date(Date.now() + 3000);
    const id = await client.scheduleNewOrchestration(helloSequence, null,
      { startAt, tags: { team: 'blue' } });
    await new Promise((r) => setTimeout(r, 1000));
    let st = await client.getOrchestrationState(id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.PENDING);
    assert.deepStrictEqual(st.tags, { team: 'blue' });
    st = await client.waitForOrchestrationCompletion(id, true, 30);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED);
    assert.ok(Date.now() >= startAt.getTime());
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

  await t.test('history, read over gRPC', async () => {
    const id = await client.scheduleNewOrchestration(helloSequence);
    await client.waitForOrchestrationCompletion(id, true, 30);
    const events = await client.getOrchestrationHistory(id);
    const count = (type) => events.filter((e) => e.type === type).length;
    assert.strictEqual(count('ExecutionStarted'), 1);
    assert.strictEqual(count('TaskScheduled'), 3,
      JSON.stringify(events.map((e) => e.type)));
    assert.strictEqual(count('TaskCompleted'), 3);
    assert.strictEqual(count('ExecutionCompleted'), 1);

    // the same activities in the HTTP API's showHistory, which shows
    // each as its completion
    const h = await (await fetch(
      `${srv.http}/instances/${id}?showHistory=true`)).json();
    const done = h.historyEvents.filter((e) => e.EventType === 'TaskCompleted');
    assert.deepStrictEqual(done.map((e) => e.FunctionName),
      ['sayHello', 'sayHello', 'sayHello']);
  });

  await t.test('a fan-out, its long history read in chunks', async () => {
    const id = await client.scheduleNewOrchestration(fanOut, 200);
    const st = await client.waitForOrchestrationCompletion(id, true, 60);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED);
    assert.strictEqual(JSON.parse(st.serializedOutput), 200);
    const events = await client.getOrchestrationHistory(id);
    assert.ok(events.length > 400, `${events.length} events`);
    assert.strictEqual(events.filter((e) => e.type === 'TaskScheduled')
      .length, 200);
    assert.strictEqual(events.filter((e) => e.type === 'TaskCompleted')
      .length, 200);
    // in order, each id once
    const ids = events.filter((e) => e.type === 'TaskScheduled')
      .map((e) => e.eventId);
    assert.strictEqual(new Set(ids).size, 200);

    // more than one chunk came: StreamInstanceHistoryRequest by hand
    const res = await call(srv.address, 'StreamInstanceHistory',
      { body: frame(Buffer.concat([Buffer.from([0x0a, id.length]),
        Buffer.from(id)])) });
    assert.strictEqual(res.grpcStatus, 0);
    assert.ok(res.messages.length >= 2, `${res.messages.length} chunks`);
  });

  await t.test('a failed orchestration, then restarted', async () => {
    const id = await client.scheduleNewOrchestration(failing);
    let st = await client.waitForOrchestrationCompletion(id, true, 30);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.FAILED);
    assert.match(st.failureDetails.message, /on purpose/);

    // a rewind runs it again (it fails again); a completed one is refused
    await client.rewindInstance(id, 'once more');
    await until('the rewound instance fails again', async () => {
      const h = await client.getOrchestrationHistory(id);
      return h.some((e) => e.type === 'ExecutionRewound')
        && (await client.getOrchestrationState(id)).runtimeStatus
           === OrchestrationStatus.FAILED;
    });

    const again = await client.restartOrchestration(id, true);
    assert.notStrictEqual(again, id);
    st = await client.waitForOrchestrationCompletion(again, true, 30);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.FAILED);
    assert.strictEqual(st.name, 'failing');
  });

  await t.test('a rewind of a completed instance is refused', async () => {
    const id = await client.scheduleNewOrchestration(helloSequence);
    await client.waitForOrchestrationCompletion(id, true, 30);
    // the SDK words the FAILED_PRECONDITION as an Error of its own
    await assert.rejects(client.rewindInstance(id, 'no'),
      /already ended|Failed/);
  });

  await t.test('the ids of terminal instances', async () => {
    const page = await client.listInstanceIds({
      runtimeStatus: [OrchestrationStatus.FAILED], pageSize: 100 });
    assert.ok(page.values.length >= 2);
  });

  await t.test('an entity signalled and read', async () => {
    const id = new EntityInstanceId('counter', 'c1');
    for (let i = 1; i <= 4; i++) {
      await client.signalEntity(id, 'add', i);
    }
    const e = await until('counter reaches 10', async () => {
      const m = await client.getEntity(id);
      return m && m.state === 10 ? m : null;
    });
    assert.strictEqual(e.id.key, 'c1');

    const found = [];
    for await (const m of client.getEntities({ instanceIdStartsWith: '@counter' })) {
      found.push(m.id.key);
    }
    assert.deepStrictEqual(found, ['c1']);
    assert.strictEqual(await client.getEntity(
      new EntityInstanceId('counter', 'none')), undefined);
  });

  await t.test('an entity deleted, then cleaned away', async () => {
    const id = new EntityInstanceId('counter', 'gone');
    await client.signalEntity(id, 'add', 1);
    await until('the entity has state', async () => client.getEntity(id));
    await client.signalEntity(id, 'delete');
    await until('its state is deleted', async () =>
      (await client.getEntity(id)) === undefined);
    const res = await client.cleanEntityStorage();
    assert.strictEqual(res.emptyEntitiesRemoved, 1);
    // the counters with state are kept
    assert.ok(await client.getEntity(new EntityInstanceId('counter', 'c1')));
  });

  await t.test('an orchestration calls an entity under a lock',
    async () => {
      const id = await client.scheduleNewOrchestration(callCounter, 'c2');
      const st = await client.waitForOrchestrationCompletion(id, true, 30);
      assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
        JSON.stringify(st.failureDetails));
      assert.strictEqual(JSON.parse(st.serializedOutput), 5);
    });

  await t.test('nginx logged no alert and no worker died', () => {
    assert.deepStrictEqual(srv.problems(), []);
  });
});
