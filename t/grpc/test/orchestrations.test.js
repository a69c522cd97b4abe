// Orchestration features as the JavaScript SDK replays them against
// nginx: sequences, fan-out/fan-in, durable timers, external events,
// sub-orchestrations, retries with timers, continue-as-new (with the
// events it carries over) and custom status; each result read through
// the SDK and, where the HTTP API shows it, over HTTP as well.

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { OrchestrationStatus, RetryPolicy, whenAll, whenAny,
        TaskFailedError, TaskHubGrpcClient, TaskHubGrpcWorker,
        NoOpLogger } = require('@microsoft/durabletask-js');
const { open, finished, output, http } = require('../lib/app');
const { handWorker } = require('../lib/hand');
const nginx = require('../lib/nginx');

// attempts per activity input, to fail the first ones
const attempts = new Map();

function greet(ctx, name) {
  return `Hello ${name}!`;
}

function square(ctx, n) {
  return n * n;
}

// fails until its input's attempt number reaches input.succeedAt
function flaky(ctx, input) {
  const n = (attempts.get(input.key) || 0) + 1;
  attempts.set(input.key, n);
  if (n < input.succeedAt) {
    throw new Error(`attempt ${n} of ${input.key} failed`);
  }
  return n;
}

async function* sequence(ctx, cities) {
  const out = [];
  for (const c of cities) {
    out.push(yield ctx.callActivity(greet, c));
  }
  return out;
}

async function* fanOut(ctx, n) {
  const tasks = [];
  for (let i = 1; i <= n; i++) {
    tasks.push(ctx.callActivity(square, i));
  }
  const squares = yield whenAll(tasks);
  return { squares, sum: squares.reduce((a, b) => a + b, 0) };
}

async function* sleeper(ctx, seconds) {
  const before = ctx.currentUtcDateTime.getTime();
  const fireAt = new Date(before + seconds * 1000);
  yield ctx.createTimer(fireAt);
  return { fireAt: fireAt.getTime(), after: ctx.currentUtcDateTime.getTime() };
}

async function* approval(ctx, seconds) {
  const event = ctx.waitForExternalEvent('approve');
  const timeout = ctx.createTimer(seconds);
  const winner = yield whenAny([event, timeout]);
  return winner === event ? { approved: event.getResult() } : 'timed out';
}

async function* child(ctx, input) {
  if (input.fail) {
    throw new Error(`child ${ctx.instanceId} refuses`);
  }
  const parent = ctx.parent;
  return { id: ctx.instanceId, parent: parent && parent.instanceId,
           doubled: input.n * 2 };
}

async function* parent(ctx, input) {
  const ok = yield ctx.callSubOrchestrator(child, { n: input.n },
    { instanceId: `${ctx.instanceId}-child` });
  let failed = null;
  try {
    yield ctx.callSubOrchestrator(child, { fail: true },
      { instanceId: `${ctx.instanceId}-bad` });
  } catch (e) {
    failed = e instanceof TaskFailedError ? e.details.message : String(e);
  }
  return { ok, failed };
}

async function* retrying(ctx, input) {
  const policy = new RetryPolicy({ maxNumberOfAttempts: input.max,
    firstRetryIntervalInMilliseconds: 500, backoffCoefficient: 1 });
  return yield ctx.callActivity(flaky, input, { retry: policy });
}

async function* counter(ctx, n) {
  if (n < 3) {
    ctx.continueAsNew(n + 1, false);
    return;
  }
  return n;
}

// generation 0 sleeps while three events arrive, takes one; every
// generation takes one more and continues; the events it did not take
// must be carried over, or a generation waits for ever
async function* collector(ctx, input) {
  if (input.got.length === 0) {
    yield ctx.createTimer(input.sleep);
  }
  const value = yield ctx.waitForExternalEvent('item');
  const got = [...input.got, value];
  if (got.length < 3) {
    ctx.continueAsNew({ got, sleep: 0 }, true);
    return;
  }
  return got;
}

// sends an event to another instance, then ends
async function* sender(ctx, target) {
  ctx.sendEvent(target, 'greeting', { from: ctx.instanceId });
  return 'sent';
}

async function* receiver(ctx) {
  return yield ctx.waitForExternalEvent('greeting');
}

// an activity's failure, caught by the orchestration
async function* catcher(ctx) {
  try {
    yield ctx.callActivity(flaky, { key: 'never', succeedAt: 1e9 });
    return 'no failure';
  } catch (e) {
    return { caught: e instanceof TaskFailedError,
             message: e.details.message, type: e.details.errorType };
  }
}

async function* statusReporter(ctx) {
  ctx.setCustomStatus({ stage: 'waiting', step: 1 });
  const v = yield ctx.waitForExternalEvent('go');
  ctx.setCustomStatus({ stage: 'done', step: 2 });
  return v;
}

// schedules an activity whose name is longer than the server takes: the
// completion is refused, and the orchestration fails with the refusal
async function* overreach(ctx) {
  return yield ctx.callActivity('a'.repeat(300), 1);
}

// an activity called with a version and tags, by which a .NET worker
// dispatches it
async function* versioned(ctx) {
  return yield ctx.callActivity(greet, 'v',
    { version: '2.1', tags: { team: 'a"b', k: '' } });
}

test('orchestration features', async (t) => {
  const { srv, client } = await open(t, {
    name: 'orchestrations',
    register: (w) => {
      for (const o of [sequence, fanOut, sleeper, approval, child, parent,
        retrying, counter, collector, statusReporter, sender, receiver,
        catcher, overreach]) {
        w.addOrchestrator(o);
      }
      for (const a of [greet, square, flaky]) {
        w.addActivity(a);
      }
    },
  });

  await t.test('a sequence of activities', async () => {
    const id = await client.scheduleNewOrchestration(sequence,
      ['Tokyo', 'Seattle', 'London'], 'seq-1');
    const st = await finished(client, id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
      JSON.stringify(st.failureDetails));
    assert.deepStrictEqual(output(st),
      ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!']);

    const h = await http(srv,
      `/instances/${id}?showHistory=true&showHistoryOutput=true`);
    const done = h.body.historyEvents.filter(
      (e) => e.EventType === 'TaskCompleted');
    assert.deepStrictEqual(done.map((e) => [e.FunctionName, e.Result]),
      [['greet', 'Hello Tokyo!'], ['greet', 'Hello Seattle!'],
       ['greet', 'Hello London!']]);
  });

  await t.test('fan-out, fan-in', async () => {
    const id = await client.scheduleNewOrchestration(fanOut, 8);
    const st = await finished(client, id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
      JSON.stringify(st.failureDetails));
    assert.deepStrictEqual(output(st),
      { squares: [1, 4, 9, 16, 25, 36, 49, 64], sum: 204 });
  });

  await t.test('a wide fan-out', async () => {
    const id = await client.scheduleNewOrchestration(fanOut, 60);
    const st = await finished(client, id, 60);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
      JSON.stringify(st.failureDetails));
    assert.strictEqual(output(st).sum, 60 * 61 * 121 / 6);
  });

  await t.test('a durable timer fires, not before its time', async () => {
    const id = await client.scheduleNewOrchestration(sleeper, 1);
    const st = await finished(client, id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
      JSON.stringify(st.failureDetails));
    const o = output(st);
    assert.ok(o.after >= o.fireAt, `woke at ${o.after}, due ${o.fireAt}`);

    const h = await http(srv, `/instances/${id}?showHistory=true`);
    const types = h.body.historyEvents.map((e) => e.EventType);
    assert.deepStrictEqual(types.filter((e) => e.startsWith('Timer')),
      ['TimerCreated', 'TimerFired']);
  });

  await t.test('an external event wins over its timeout', async () => {
    const id = await client.scheduleNewOrchestration(approval, 60);
    await client.waitForOrchestrationStart(id, false, 20);
    await client.raiseOrchestrationEvent(id, 'approve', { by: 'ann' });
    const st = await finished(client, id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
      JSON.stringify(st.failureDetails));
    assert.deepStrictEqual(output(st), { approved: { by: 'ann' } });
  });

  await t.test('an event raised over HTTP reaches the SDK', async () => {
    const id = await client.scheduleNewOrchestration(approval, 60);
    await client.waitForOrchestrationStart(id, false, 20);
    const res = await http(srv, `/instances/${id}/raiseEvent/approve`,
      { method: 'POST', headers: { 'content-type': 'application/json' },
        body: '[1,2,3]' });
    assert.strictEqual(res.status, 202);
    const st = await finished(client, id);
    assert.deepStrictEqual(output(st), { approved: [1, 2, 3] });
  });

  await t.test('an orchestration sends an event to another', async () => {
    const to = await client.scheduleNewOrchestration(receiver, null,
      'receiver-1');
    await client.waitForOrchestrationStart(to, false, 20);
    const from = await client.scheduleNewOrchestration(sender, to,
      'sender-1');
    assert.strictEqual(output(await finished(client, from)), 'sent');
    const st = await finished(client, to);
    assert.deepStrictEqual(output(st), { from: 'sender-1' });

    const h = await http(srv, `/instances/${from}?showHistory=true`);
    const sent = h.body.historyEvents.filter(
      (e) => e.EventType === 'EventSent');
    assert.deepStrictEqual(sent.map((e) => [e.InstanceId, e.Name, e.Input]),
      [[to, 'greeting', { from: 'sender-1' }]]);
  });

  await t.test('a suspended instance holds its fired timer', async () => {
    const id = await client.scheduleNewOrchestration(sleeper, 1);
    await client.waitForOrchestrationStart(id, false, 20);
    await client.suspendOrchestration(id);
    // the timer is due while the instance is suspended
    await new Promise((r) => setTimeout(r, 1500));
    let st = await client.getOrchestrationState(id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.SUSPENDED);
    await client.resumeOrchestration(id);
    st = await finished(client, id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
      JSON.stringify(st.failureDetails));
  });

  await t.test('an activity failure caught by the orchestration',
    async () => {
      const id = await client.scheduleNewOrchestration(catcher);
      const st = await finished(client, id);
      assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
        JSON.stringify(st.failureDetails));
      assert.deepStrictEqual(output(st), { caught: true,
        message: 'attempt 1 of never failed', type: 'Error' });
    });

  await t.test('without the event the timeout wins', async () => {
    const id = await client.scheduleNewOrchestration(approval, 1);
    const st = await finished(client, id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
      JSON.stringify(st.failureDetails));
    assert.strictEqual(output(st), 'timed out');
  });

  await t.test('sub-orchestrations: a result and a failure', async () => {
    const id = await client.scheduleNewOrchestration(parent, { n: 21 },
      'parent-1');
    const st = await finished(client, id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
      JSON.stringify(st.failureDetails));
    const o = output(st);
    assert.strictEqual(o.ok.id, 'parent-1-child');
    assert.strictEqual(o.ok.doubled, 42);
    assert.match(o.failed, /child parent-1-bad refuses/);

    const c = await client.getOrchestrationState('parent-1-child');
    assert.strictEqual(c.runtimeStatus, OrchestrationStatus.COMPLETED);
    assert.strictEqual(c.name, 'child');
    const bad = await http(srv, '/instances/parent-1-bad');
    assert.strictEqual(bad.body.runtimeStatus, 'Failed');
  });

  await t.test('a sub-orchestration knows its parent', async () => {
    const st = await client.getOrchestrationState('parent-1', true);
    assert.strictEqual(output(st).ok.parent, 'parent-1');
  });

  await t.test('a refused completion fails the orchestration', async () => {
    const id = await client.scheduleNewOrchestration(overreach);
    const st = await finished(client, id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.FAILED);
    assert.match(st.failureDetails.message,
      /^the server refused the completion: action 0 \(scheduleTask\): /);
    assert.match(st.failureDetails.message, /'name' /);
    assert.strictEqual(st.failureDetails.errorType, 'INVALID_ARGUMENT');

    const h = await http(srv, `/instances/${id}?showHistory=true`);
    assert.strictEqual(h.body.runtimeStatus, 'Failed');
    const done = h.body.historyEvents.find(
      (e) => e.EventType === 'ExecutionCompleted');
    assert.strictEqual(done.FailureDetails.Details.ErrorType,
      'INVALID_ARGUMENT');
  });

  await t.test('an activity retried with timers until it succeeds',
    async () => {
      const id = await client.scheduleNewOrchestration(retrying,
        { key: 'r1', succeedAt: 3, max: 5 });
      const st = await finished(client, id);
      assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
        JSON.stringify(st.failureDetails));
      assert.strictEqual(output(st), 3);
      assert.strictEqual(attempts.get('r1'), 3);

      const h = await http(srv, `/instances/${id}?showHistory=true`);
      const count = (type) => h.body.historyEvents.filter(
        (e) => e.EventType === type).length;
      assert.strictEqual(count('TaskFailed'), 2);
      assert.strictEqual(count('TimerFired'), 2);
      assert.strictEqual(count('TaskCompleted'), 1);
    });

  await t.test('retries run out: the orchestration fails', async () => {
    const id = await client.scheduleNewOrchestration(retrying,
      { key: 'r2', succeedAt: 99, max: 2 });
    const st = await finished(client, id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.FAILED);
    assert.strictEqual(attempts.get('r2'), 2);
    assert.match(st.failureDetails.message, /attempt 2 of r2 failed/);
  });

  await t.test('continue-as-new', async () => {
    const id = await client.scheduleNewOrchestration(counter, 0, 'can-1');
    const st = await finished(client, id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
      JSON.stringify(st.failureDetails));
    assert.strictEqual(output(st), 3);
    assert.strictEqual(JSON.parse(st.serializedInput), 3);

    // the history is the last generation's only
    const h = await http(srv, `/instances/${id}?showHistory=true`);
    const started = h.body.historyEvents.filter(
      (e) => e.EventType === 'ExecutionStarted');
    assert.strictEqual(started.length, 1);
    assert.strictEqual(started[0].Input, 3);
  });

  await t.test('continue-as-new carries unprocessed events over', async () => {
    const id = await client.scheduleNewOrchestration(collector,
      { got: [], sleep: 2 }, 'carry-1');
    await client.waitForOrchestrationStart(id, false, 20);
    for (const v of ['a', 'b', 'c']) {
      await client.raiseOrchestrationEvent(id, 'item', v);
    }
    const st = await finished(client, id, 15);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
      JSON.stringify(st.failureDetails));
    assert.deepStrictEqual(output(st), ['a', 'b', 'c']);
  });

  await t.test('custom status, over gRPC and over HTTP', async () => {
    const id = await client.scheduleNewOrchestration(statusReporter);
    let st = await client.waitForOrchestrationStart(id, true, 20);
    for (let i = 0; i < 100 && !st.serializedCustomStatus; i++) {
      await new Promise((r) => setTimeout(r, 100));
      st = await client.getOrchestrationState(id, true);
    }
    assert.deepStrictEqual(JSON.parse(st.serializedCustomStatus),
      { stage: 'waiting', step: 1 });
    const h = await http(srv, `/instances/${id}`);
    assert.deepStrictEqual(h.body.customStatus,
      { stage: 'waiting', step: 1 });

    await client.raiseOrchestrationEvent(id, 'go', 7);
    st = await finished(client, id);
    assert.strictEqual(output(st), 7);
    assert.deepStrictEqual(JSON.parse(st.serializedCustomStatus),
      { stage: 'done', step: 2 });
  });

  await t.test('an activity\'s version and tags reach its worker',
    async () => {
      // the ActivityRequests the worker is given, as they come over the
      // wire (the SDK hands neither to the activity function): on an
      // nginx of its own, worked by hand (lib/hand.js), the SDK's worker
      // running the orchestration through its public single-item entry
      const own = await nginx.start({ name: 'orchestrations-versioned',
        workers: 1 });
      const ownClient = new TaskHubGrpcClient({ hostAddress: own.address,
        logger: new NoOpLogger() });
      const executor = new TaskHubGrpcWorker({ hostAddress: own.address,
        logger: new NoOpLogger() });
      executor.addOrchestrator(versioned);
      const seen = [];
      const hand = handWorker(own.address, executor, {
        activity: (req, input) => {
          seen.push([req.getName(), req.getVersion()?.getValue(),
            req.getTagsMap().toObject()]);
          return greet(null, input);
        },
      });
      try {
        const id = await ownClient.scheduleNewOrchestration(versioned);
        const st = await finished(ownClient, id);
        assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
          JSON.stringify(st.failureDetails));
        assert.strictEqual(output(st), 'Hello v!');
        assert.deepStrictEqual(seen,
          [['greet', '2.1', [['k', ''], ['team', 'a"b']]]]);
        await hand.stop();
        assert.deepStrictEqual(hand.errors, []);
        assert.deepStrictEqual(hand.completions.filter(([, , status]) =>
          status !== 0), []);
        assert.deepStrictEqual(own.problems(), []);
      } finally {
        await hand.stop();
        await ownClient.stop();
        await own.stop();
      }
    });

  await t.test('nginx logged no alert and no worker died', () => {
    assert.deepStrictEqual(srv.problems(), []);
  });
});
