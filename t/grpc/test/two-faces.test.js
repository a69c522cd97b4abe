// One store, two faces: an instance started over gRPC is listed, raised,
// suspended, terminated and purged over the HTTP management API, one
// started over HTTP is run by the SDK's worker and read, raised,
// terminated and purged over gRPC, and the history the HTTP API shows
// (showHistory) describes the same events as the one gRPC gives, both
// the worker's (GetWorkItems) and the client's (StreamInstanceHistory).

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { OrchestrationStatus, TaskHubGrpcClient, TaskHubGrpcWorker,
        NoOpLogger } = require('@microsoft/durabletask-js');
const { convertProtoHistoryEvent } = require(
  '@microsoft/durabletask-js/dist/utils/history-event-converter');
const { open, finished, output, http, until } = require('../lib/app');
const { handWorker } = require('../lib/hand');
const nginx = require('../lib/nginx');

const JSON_TYPE = { 'content-type': 'application/json' };

function greet(ctx, name) {
  return `Hello ${name}!`;
}

async function* waiter(ctx, input) {
  const v = yield ctx.waitForExternalEvent('go');
  return { input, got: v };
}

// a bit of everything the history view reshapes
async function* mixed(ctx, name) {
  const hello = yield ctx.callActivity(greet, name);
  yield ctx.createTimer(0.2);
  const ev = yield ctx.waitForExternalEvent('go');
  return { hello, ev };
}

const ms = (t) => (t === undefined ? undefined : new Date(t).getTime());
const parsed = (s) => (s === undefined ? null : JSON.parse(s));
const statusName = (s) => s.replace('ORCHESTRATION_STATUS_', '').toLowerCase();

// the SDK's history events as the HTTP API's view shows them (the rules
// of docs/http-api.md, "The history view"), reduced to what both carry
function viewOf(events) {
  const results = new Map();
  for (const e of events) {
    if (e.taskScheduledId !== undefined) {
      results.set(e.taskScheduledId, e);
    }
  }
  const byId = new Map(events.map((e) => [e.eventId, e]));
  const out = [];
  for (const e of events) {
    const type = e.type;
    if (type === 'OrchestratorStarted' || type === 'OrchestratorCompleted') {
      continue;
    }
    if ((type === 'TaskScheduled'
         || type === 'SubOrchestrationInstanceCreated')
        && results.has(e.eventId)) {
      continue;
    }
    const v = { EventType: type, Timestamp: ms(e.timestamp) };
    switch (type) {
    case 'ExecutionStarted':
      v.FunctionName = e.name;
      v.Input = parsed(e.input);
      break;
    case 'TaskCompleted':
    case 'TaskFailed': {
      const s = byId.get(e.taskScheduledId);
      v.FunctionName = s.name;
      v.ScheduledTime = ms(s.timestamp);
      if (type === 'TaskCompleted') {
        v.Result = parsed(e.result);
      }
      break;
    }
    case 'TimerCreated':
    case 'TimerFired':
      v.FireAt = ms(e.fireAt);
      break;
    case 'EventRaised':
      v.Name = e.name;
      v.Input = parsed(e.input);
      break;
    case 'ExecutionCompleted':
      v.OrchestrationStatus = statusName(e.orchestrationStatus);
      v.Result = parsed(e.result);
      break;
    default:
      break;
    }
    out.push(v);
  }
  return out;
}

// the HTTP API's view reduced to the same members
function reduce(events) {
  return events.map((e) => {
    const v = { EventType: e.EventType, Timestamp: ms(e.Timestamp) };
    switch (e.EventType) {
    case 'ExecutionStarted':
      v.FunctionName = e.FunctionName;
      v.Input = e.Input === undefined ? null : e.Input;
      break;
    case 'TaskCompleted':
    case 'TaskFailed':
      v.FunctionName = e.FunctionName;
      v.ScheduledTime = ms(e.ScheduledTime);
      if (e.EventType === 'TaskCompleted') {
        v.Result = e.Result === undefined ? null : e.Result;
      }
      break;
    case 'TimerCreated':
    case 'TimerFired':
      v.FireAt = ms(e.FireAt);
      break;
    case 'EventRaised':
      v.Name = e.Name;
      v.Input = e.Input === undefined ? null : e.Input;
      break;
    case 'ExecutionCompleted':
      v.OrchestrationStatus = String(e.OrchestrationStatus).toLowerCase();
      v.Result = e.Result === undefined ? null : e.Result;
      break;
    default:
      break;
    }
    return v;
  });
}

test('one store, two faces', async (t) => {
  // the history each orchestration work item carried, by instance
  const replayed = new Map();
  const { srv, client } = await open(t, {
    name: 'two-faces',
    register: (w) => {
      w.addOrchestrator(waiter);
    },
  });

  await t.test('started over gRPC, listed, raised, purged over HTTP',
    async () => {
      const id = await client.scheduleNewOrchestration(waiter, { n: 1 },
        'g2h-1');
      await client.waitForOrchestrationStart(id, false, 20);
      const list = await http(srv, '/instances?instanceIdPrefix=g2h-');
      assert.strictEqual(list.status, 200);
      assert.deepStrictEqual(list.body.map((s) => [s.instanceId, s.name,
        s.runtimeStatus, s.input]), [[id, 'waiter', 'Running', { n: 1 }]]);

      const raise = await http(srv, `/instances/${id}/raiseEvent/go`,
        { method: 'POST', headers: JSON_TYPE, body: '"over http"' });
      assert.strictEqual(raise.status, 202);
      const st = await finished(client, id);
      assert.deepStrictEqual(output(st), { input: { n: 1 },
        got: 'over http' });
      const h = await http(srv, `/instances/${id}`);
      assert.strictEqual(h.status, 200);
      assert.deepStrictEqual(h.body.output, output(st));

      const purge = await http(srv, `/instances/${id}`,
        { method: 'DELETE' });
      assert.deepStrictEqual([purge.status, purge.body],
        [200, { instancesDeleted: 1 }]);
      assert.strictEqual(await client.getOrchestrationState(id), undefined);
    });

  await t.test('started over gRPC, suspended, resumed, terminated over '
    + 'HTTP', async () => {
    const id = await client.scheduleNewOrchestration(waiter, null, 'g2h-2');
    await client.waitForOrchestrationStart(id, false, 20);
    assert.strictEqual((await http(srv, `/instances/${id}/suspend`,
      { method: 'POST' })).status, 202);
    assert.strictEqual((await client.getOrchestrationState(id))
      .runtimeStatus, OrchestrationStatus.SUSPENDED);
    assert.strictEqual((await http(srv, `/instances/${id}/resume`,
      { method: 'POST' })).status, 202);
    assert.strictEqual((await client.getOrchestrationState(id))
      .runtimeStatus, OrchestrationStatus.RUNNING);
    assert.strictEqual((await http(srv,
      `/instances/${id}/terminate?reason=enough`, { method: 'POST' })).status,
    202);
    const st = await finished(client, id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.TERMINATED);
    assert.strictEqual(output(st), 'enough');
  });

  await t.test('started over HTTP, run by the SDK, raised over gRPC',
    async () => {
      const res = await http(srv, '/orchestrators/waiter/h2g-1',
        { method: 'POST', headers: JSON_TYPE, body: '{"from":"http"}' });
      assert.strictEqual(res.status, 202);
      await client.waitForOrchestrationStart('h2g-1', false, 20);
      await until('Running', async () => (await client
        .getOrchestrationState('h2g-1')).runtimeStatus
        === OrchestrationStatus.RUNNING);
      await client.raiseOrchestrationEvent('h2g-1', 'go', 'over grpc');
      const st = await finished(client, 'h2g-1');
      assert.deepStrictEqual(output(st), { input: { from: 'http' },
        got: 'over grpc' });
      const res2 = await client.purgeOrchestration('h2g-1');
      assert.strictEqual(res2.deletedInstanceCount, 1);
      assert.strictEqual((await http(srv, '/instances/h2g-1')).status, 404);
    });

  await t.test('started over HTTP, terminated over gRPC', async () => {
    await http(srv, '/orchestrators/waiter/h2g-2',
      { method: 'POST', headers: JSON_TYPE, body: '2' });
    await client.waitForOrchestrationStart('h2g-2', false, 20);
    await client.terminateOrchestration('h2g-2', { why: 'grpc' });
    const h = await http(srv, '/instances/h2g-2');
    assert.strictEqual(h.body.runtimeStatus, 'Terminated');
    assert.deepStrictEqual(h.body.output, { why: 'grpc' });
    const listed = [];
    for await (const s of client.getAllInstances(
      { instanceIdPrefix: 'h2g-', fetchInputsAndOutputs: true })) {
      listed.push([s.instanceId, s.name, parsed(s.serializedInput)]);
    }
    assert.deepStrictEqual(listed, [['h2g-2', 'waiter', 2]]);
  });

  // mixed: an activity, a timer, an event, and the result, on an nginx
  // of its own worked by hand (lib/hand.js) to see the history each
  // orchestration work item carried as it came over gRPC; the SDK's
  // worker runs the orchestration through its public single-item entry
  const own = await nginx.start({ name: 'two-faces-mixed', workers: 1 });
  const ownClient = new TaskHubGrpcClient({ hostAddress: own.address,
    logger: new NoOpLogger() });
  const executor = new TaskHubGrpcWorker({ hostAddress: own.address,
    logger: new NoOpLogger() });
  executor.addOrchestrator(mixed);
  const hand = handWorker(own.address, executor, {
    seen: (wi) => {
      if (wi.hasOrchestratorrequest()) {
        const req = wi.getOrchestratorrequest();
        replayed.set(req.getInstanceid(), [...req.getPasteventsList(),
          ...req.getNeweventsList()].map(convertProtoHistoryEvent));
      }
    },
    activity: (req, input) => greet(null, input),
  });
  t.after(async () => {
    await hand.stop();
    await ownClient.stop();
    await own.stop();
  });

  const id = await ownClient.scheduleNewOrchestration(mixed, 'Kyoto',
    'mix-1');
  await until('the wait for the event', async () => {
    const h = await http(own, `/instances/${id}?showHistory=true`);
    return h.body.historyEvents
      && h.body.historyEvents.some((e) => e.EventType === 'TimerFired');
  });
  await ownClient.raiseOrchestrationEvent(id, 'go', [1, 'two']);
  const done = await finished(ownClient, id);
  assert.deepStrictEqual(output(done),
    { hello: 'Hello Kyoto!', ev: [1, 'two'] });
  const view = (await http(own, `/instances/${id}?showHistory=true`
    + '&showHistoryOutput=true')).body.historyEvents;

  await t.test('the worker replayed the history showHistory shows',
    () => {
      // the last episode ran on everything but its own completion
      const fromWorker = viewOf(replayed.get(id));
      const fromHttp = reduce(view);
      assert.deepStrictEqual(fromWorker,
        fromHttp.filter((e) => e.EventType !== 'ExecutionCompleted'));
      assert.deepStrictEqual(fromHttp.map((e) => e.EventType),
        ['ExecutionStarted', 'TaskCompleted', 'TimerCreated', 'TimerFired',
         'EventRaised', 'ExecutionCompleted']);
    });

  await t.test('StreamInstanceHistory gives the same events', async () => {
    const events = await ownClient.getOrchestrationHistory(id);
    assert.deepStrictEqual(viewOf(events), reduce(view));
    // ExecutionStarted names its instance, as the worker was told it
    const started = (list) => list.find((e) => e.type === 'ExecutionStarted');
    assert.strictEqual(started(events).orchestrationInstance?.instanceId, id);
    assert.deepStrictEqual(started(events).orchestrationInstance,
      started(replayed.get(id)).orchestrationInstance);
  });

  await t.test('every completion by hand was taken', async () => {
    await hand.stop();
    assert.deepStrictEqual(hand.errors, []);
    assert.deepStrictEqual(hand.completions.filter(([, , status]) =>
      status !== 0), []);
  });

  await t.test('nginx logged no alert and no worker died', () => {
    assert.deepStrictEqual(srv.problems(), []);
    assert.deepStrictEqual(own.problems(), []);
  });
});
