// GetWorkItems as the long-lived stream it is: concurrency limits, the
// work-item filters, abandons, stale tokens, health pings on an idle
// stream, and a reload under streams. The stream is read by hand (the
// SDK's generated messages decode it); the SDK's worker runs across the
// reload.

'use strict';

const http2 = require('node:http2');
const test = require('node:test');
const assert = require('node:assert');
const pb = require('@microsoft/durabletask-js/dist/proto/orchestrator_service_pb');
const { TaskHubGrpcClient, TaskHubGrpcWorker, OrchestrationStatus,
        NoOpLogger } = require('@microsoft/durabletask-js');
const nginx = require('../lib/nginx');
const { call, frame, stream } = require('../lib/wire');
const { nextItem } = require('../lib/hand');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function workItems(opts = {}) {
  const req = new pb.GetWorkItemsRequest();
  if (opts.orchestrations) {
    req.setMaxconcurrentorchestrationworkitems(opts.orchestrations);
  }
  if (opts.names) {
    const f = new pb.WorkItemFilters();
    for (const name of opts.names) {
      const o = new pb.OrchestrationFilter();
      o.setName(name);
      f.addOrchestrations(o);
    }
    req.setWorkitemfilters(f);
  }
  return req.serializeBinary();
}

// CompleteOrchestratorTask finishing the instance with result text, on
// a connection of the caller's when given
function complete(address, wi, result, session) {
  const done = new pb.CompleteOrchestrationAction();
  done.setOrchestrationstatus(pb.OrchestrationStatus.ORCHESTRATION_STATUS_COMPLETED);
  const v = new (require('google-protobuf/google/protobuf/wrappers_pb')
    .StringValue)();
  v.setValue(JSON.stringify(result));
  done.setResult(v);
  const action = new pb.OrchestratorAction();
  action.setId(0);
  action.setCompleteorchestration(done);
  const res = new pb.OrchestratorResponse();
  res.setInstanceid(wi.getOrchestratorrequest().getInstanceid());
  res.setActionsList([action]);
  res.setCompletiontoken(wi.getCompletiontoken());
  return call(address, 'CompleteOrchestratorTask',
    { body: frame(Buffer.from(res.serializeBinary())), session });
}

function abandon(address, token) {
  const req = new pb.AbandonOrchestrationTaskRequest();
  req.setCompletiontoken(token);
  return call(address, 'AbandonTaskOrchestratorWorkItem',
    { body: frame(Buffer.from(req.serializeBinary())) });
}

test('work-item stream', async (t) => {
  const srv = await nginx.start({ name: 'stream', workers: 1,
    grpc: 'ping=300ms' });
  const client = new TaskHubGrpcClient({ hostAddress: srv.address,
    logger: new NoOpLogger() });
  t.after(async () => {
    await client.stop();
    await srv.stop();
  });

  await t.test('an idle stream gets health pings', async () => {
    const s = stream(srv.address, 'GetWorkItems', workItems());
    const pings = [];
    for (let i = 0; i < 3; i++) {
      const m = await s.next(3000);
      assert.notStrictEqual(m, null, 'a ping within 3 s');
      pings.push(pb.WorkItem.deserializeBinary(m).hasHealthping());
    }
    assert.deepStrictEqual(pings, [true, true, true]);
    s.cancel();
    await s.ended();
  });

  await t.test('one at a time, then the next after an abandon',
    async () => {
      for (let i = 0; i < 3; i++) {
        await client.scheduleNewOrchestration('Limited', i, `lim-${i}`);
      }
      const s = stream(srv.address, 'GetWorkItems',
        workItems({ orchestrations: 1 }));
      const first = await nextItem(s, 3000);
      assert.ok(first && first.hasOrchestratorrequest());
      assert.strictEqual(await nextItem(s, 1000), null,
        'no second item while the first is out');

      const res = await abandon(srv.address, first.getCompletiontoken());
      assert.strictEqual(res.grpcStatus, 0);
      const second = await nextItem(s, 3000);
      assert.ok(second && second.hasOrchestratorrequest());

      // the first token is stale now
      const again = await abandon(srv.address, first.getCompletiontoken());
      assert.strictEqual(again.grpcStatus, 9);
      s.cancel();
      await s.ended();
    });

  await t.test('only the names of the filters', async () => {
    await client.scheduleNewOrchestration('Other', null, 'f-other');
    await client.scheduleNewOrchestration('Wanted', null, 'f-wanted');
    const s = stream(srv.address, 'GetWorkItems',
      workItems({ names: ['Wanted'] }));
    const wi = await nextItem(s, 3000);
    assert.ok(wi);
    assert.strictEqual(wi.getOrchestratorrequest().getInstanceid(),
      'f-wanted');
    assert.strictEqual(await nextItem(s, 1000), null);
    s.cancel();
    await s.ended();
  });

  await t.test('at most 1000 filter names of a kind', async () => {
    // an SDK sends one per registered function: 1000 are taken ...
    const names = Array.from({ length: 999 }, (_, i) => `Many${i}`);
    await client.scheduleNewOrchestration('Many999', null, 'f-many');
    const s = stream(srv.address, 'GetWorkItems',
      workItems({ names: [...names, 'Many999'] }));
    const wi = await nextItem(s, 3000);
    assert.ok(wi && wi.hasOrchestratorrequest());
    assert.strictEqual(wi.getOrchestratorrequest().getInstanceid(),
      'f-many');
    s.cancel();
    await s.ended();

    // ... one more is refused before the stream opens
    const res = await call(srv.address, 'GetWorkItems',
      { body: frame(Buffer.from(workItems(
        { names: [...names, 'Many999', 'Many1000'] }))), timeout: 5000 });
    assert.ok(!res.cancelled, 'refused, not a stream left open');
    assert.strictEqual(res.grpcStatus, 3);
    assert.match(res.grpcMessage,
      /'workItemFilters\.orchestrations' has 1001 names, more than 1000/);
  });

  // the lease (30 s) is longer than the waits: only an abandon helps
  for (const how of ['cancel', 'disconnect']) {
    await t.test(`a stream's items are abandoned at its ${how}`,
      async () => {
        const id = `gone-${how}`;
        await client.scheduleNewOrchestration('Gone', null, id);
        const first = stream(srv.address, 'GetWorkItems',
          workItems({ names: ['Gone'] }));
        const wi = await nextItem(first, 3000);
        assert.ok(wi && wi.hasOrchestratorrequest());
        first[how]();
        await first.ended();

        const second = stream(srv.address, 'GetWorkItems',
          workItems({ names: ['Gone'] }));
        const again = await nextItem(second, 5000);
        assert.ok(again && again.hasOrchestratorrequest(),
          'the item again within 5 s');
        assert.strictEqual(again.getOrchestratorrequest().getInstanceid(),
          id);
        const res = await complete(srv.address, again, 'done');
        assert.strictEqual(res.grpcStatus, 0);
        second.cancel();
        await second.ended();
      });
  }

  await t.test('gRPC calls are not counted as the HTTP API\'s', async () => {
    assert.strictEqual(await srv.metric('durable_requests_total',
      'op="claim"'), 0);
    assert.strictEqual(await srv.metric('durable_requests_total',
      'op="abandon"'), 0);
  });

  await t.test('a bad token is INVALID_ARGUMENT', async () => {
    const res = await abandon(srv.address, 'not a token');
    assert.strictEqual(res.grpcStatus, 3);
  });

  await t.test('nginx logged no alert and no worker died', () => {
    assert.deepStrictEqual(srv.problems(), []);
  });
});

test('leases of the stream\'s items', async (t) => {
  const srv = await nginx.start({ name: 'leases', workers: 1,
    lease: '1s' });
  const client = new TaskHubGrpcClient({ hostAddress: srv.address,
    logger: new NoOpLogger() });
  t.after(async () => {
    await client.stop();
    await srv.stop();
  });

  await t.test('items wider than the flow-control window still come',
    async () => {
      const big = 'x'.repeat(20000);
      for (let i = 0; i < 3; i++) {
        await client.scheduleNewOrchestration('Wide', big, `wide-${i}`);
      }
      // a window of 1 KiB: nginx sends the rest as the client reads, no
      // ping (30 s here) pushing it
      const s = stream(srv.address, 'GetWorkItems',
        workItems({ names: ['Wide'] }), { settings: { initialWindowSize: 1024 } });
      const got = [];
      for (let i = 0; i < 3; i++) {
        const wi = await nextItem(s, 10000);
        assert.ok(wi, `item ${i}`);
        got.push(wi.getOrchestratorrequest().getInstanceid());
      }
      assert.deepStrictEqual(got.sort(), ['wide-0', 'wide-1', 'wide-2']);
      s.cancel();
      await s.ended();
    });

  await t.test('a worker that dies mid-item: the item comes again',
    async () => {
      await client.scheduleNewOrchestration('Dies', null, 'dies-1');
      const first = stream(srv.address, 'GetWorkItems',
        workItems({ names: ['Dies'] }));
      const wi = await nextItem(first, 3000);
      assert.ok(wi && wi.hasOrchestratorrequest());
      first.cancel();
      await first.ended();

      // the lease (1 s) runs out; another worker gets the item
      const second = stream(srv.address, 'GetWorkItems',
        workItems({ names: ['Dies'] }));
      const again = await nextItem(second, 10000);
      assert.ok(again && again.hasOrchestratorrequest());
      assert.strictEqual(again.getOrchestratorrequest().getInstanceid(),
        'dies-1');
      assert.notDeepStrictEqual(again.getCompletiontoken(),
        wi.getCompletiontoken());

      // the dead worker's token is stale; the new one completes it
      let res = await complete(srv.address, wi, 'late');
      assert.strictEqual(res.grpcStatus, 9);
      res = await complete(srv.address, again, 'done');
      assert.strictEqual(res.grpcStatus, 0);

      // an identical retry gets the same answer, another body is refused
      res = await complete(srv.address, again, 'done');
      assert.strictEqual(res.grpcStatus, 0);
      res = await complete(srv.address, again, 'other');
      assert.strictEqual(res.grpcStatus, 9);

      second.cancel();
      await second.ended();
      const st = await client.getOrchestrationState('dies-1', true);
      assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED);
      assert.strictEqual(JSON.parse(st.serializedOutput), 'done');
      assert.deepStrictEqual(srv.problems(), []);
    });
});

test('streams across a reload', async (t) => {
  const srv = await nginx.start({ name: 'reload' });
  const client = new TaskHubGrpcClient({ hostAddress: srv.address,
    logger: new NoOpLogger() });
  const worker = new TaskHubGrpcWorker({ hostAddress: srv.address,
    logger: new NoOpLogger() });
  const approval = async function* (ctx) {
    const a = yield ctx.waitForExternalEvent('go');
    return a;
  };
  worker.addOrchestrator(approval);
  await worker.start();
  t.after(async () => {
    await worker.stop();
    await client.stop();
    await srv.stop();
  });

  const ids = [];
  for (let i = 0; i < 3; i++) {
    ids.push(await client.scheduleNewOrchestration(approval));
  }
  for (const id of ids) {
    await client.waitForOrchestrationStart(id, false, 30);
  }

  // a stream of this process ends with status OK when it exits, a wait
  // UNAVAILABLE (the SDK calls again)
  const s = stream(srv.address, 'GetWorkItems', workItems({ names: ['x'] }));
  const req = new pb.GetInstanceRequest();
  req.setInstanceid(ids[0]);
  const wait = call(srv.address, 'WaitForInstanceCompletion',
    { body: frame(Buffer.from(req.serializeBinary())) });
  await sleep(300);
  srv.reload();
  assert.strictEqual(await s.ended(), 0);
  assert.strictEqual((await wait).grpcStatus, 14);

  for (const id of ids) {
    await client.raiseOrchestrationEvent(id, 'go', id);
  }
  for (const id of ids) {
    const st = await client.waitForOrchestrationCompletion(id, true, 60);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED);
    assert.strictEqual(JSON.parse(st.serializedOutput), id);
  }
  assert.deepStrictEqual(srv.problems(), []);
});

// The SDKs may send a completion on another connection than the stream's,
// which may be served by another nginx process: the item's place under
// the stream's limit is free all the same, long before its lease (30 s)
// runs out. Each answer names the process that served it (x-pid).
test('an item completed through another process', async (t) => {
  const srv = await nginx.start({ name: 'elsewhere', workers: 2,
    reuseport: true, server: '        add_header  x-pid  $pid  always;' });
  const client = new TaskHubGrpcClient({ hostAddress: srv.address,
    logger: new NoOpLogger() });
  const sessions = [];
  t.after(async () => {
    for (const session of sessions) {
      session.close();
    }
    await client.stop();
    await srv.stop();
  });

  for (let i = 0; i < 3; i++) {
    await client.scheduleNewOrchestration('Elsewhere', i, `else-${i}`);
  }
  const s = stream(srv.address, 'GetWorkItems',
    workItems({ orchestrations: 1, names: ['Elsewhere'] }));
  const first = await nextItem(s, 3000);
  assert.ok(first && first.hasOrchestratorrequest());
  const pid = s.headers['x-pid'];
  assert.ok(pid, 'the stream names its process');
  assert.strictEqual(await nextItem(s, 1000), null,
    'no second item while the first is out');

  // a connection that the other process serves
  let other = null;
  for (let i = 0; i < 100 && !other; i++) {
    const session = http2.connect(`http://${srv.address}`);
    session.on('error', () => {});
    sessions.push(session);
    const hello = await call(srv.address, 'Hello', { session });
    assert.strictEqual(hello.grpcStatus, 0);
    if (hello.headers['x-pid'] !== pid) {
      other = session;
    }
  }
  assert.ok(other, 'a connection to the other process');

  let wi = first;
  for (let i = 0; i < 2; i++) {
    const res = await complete(srv.address, wi, 'done', other);
    assert.strictEqual(res.grpcStatus, 0);
    assert.notStrictEqual(res.headers['x-pid'], pid);
    wi = await nextItem(s, 5000);
    assert.ok(wi && wi.hasOrchestratorrequest(),
      `item ${i + 2} within 5 s of the completion of item ${i + 1}`);
  }
  const res = await complete(srv.address, wi, 'done', other);
  assert.strictEqual(res.grpcStatus, 0);
  s.cancel();
  await s.ended();

  for (let i = 0; i < 3; i++) {
    const st = await client.getOrchestrationState(`else-${i}`);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED);
  }
  assert.deepStrictEqual(srv.problems(), []);
});
