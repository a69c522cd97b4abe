// The access log of the worker's gRPC calls (lib/nginx.js logs
// '$status $durable_op $durable_hub $durable_instance_id
// $durable_runtime_status'): each completion or abandon names the
// instance of its work item (an activity's orchestration, an entity as
// "@name@key"), an orchestration completion the store applied the
// status after it, and GetWorkItems, which serves many instances, none.

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { OrchestrationStatus, EntityInstanceId, TaskEntity,
        TaskHubGrpcClient, TaskHubGrpcWorker, NoOpLogger } =
  require('@microsoft/durabletask-js');
const pb = require('@microsoft/durabletask-js/dist/proto/orchestrator_service_pb');
const { finished, until } = require('../lib/app');
const { call, frame, stream } = require('../lib/wire');
const { nextItem } = require('../lib/hand');
const nginx = require('../lib/nginx');

const HUB = 'DurableFunctionsHub';

function double(ctx, n) {
  return 2 * n;
}

async function* doubled(ctx, n) {
  return yield ctx.callActivity(double, n);
}

class Tally extends TaskEntity {
  initializeState() {
    return 0;
  }

  add(n) {
    this.state += n;
  }
}

test('the access log of the worker calls', async (t) => {
  const srv = await nginx.start({ name: 'worker-log', workers: 1 });
  const client = new TaskHubGrpcClient({ hostAddress: srv.address,
    logger: new NoOpLogger() });
  t.after(async () => {
    await client.stop();
    await srv.stop();
  });
  const lines = () => srv.accessLog().split('\n');
  const of = (method) => lines().filter((l) =>
    l.split(' ')[1] === method);
  // nginx writes a call's line once it ended, maybe after its answer
  const logged = (method, n) => until(`${n} lines of ${method}`,
    async () => of(method).length >= n);

  await t.test('an orchestration with an activity, run by the SDK',
    async () => {
      const worker = new TaskHubGrpcWorker({ hostAddress: srv.address,
        logger: new NoOpLogger(), shutdownTimeoutMs: 2000 });
      worker.addOrchestrator(doubled);
      worker.addActivity(double);
      worker.addNamedEntity('tally', () => new Tally());
      await worker.start();
      try {
        const id = await client.scheduleNewOrchestration(doubled, 21,
          'wl-1');
        const st = await finished(client, id);
        assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED);
        await client.signalEntity(new EntityInstanceId('Tally', 'K1'),
          'add', 1);
        await logged('CompleteEntityTask', 1);
      } finally {
        await worker.stop();
      }

      // the first episode scheduled the activity, the second finished
      await logged('CompleteOrchestratorTask', 2);
      await logged('CompleteActivityTask', 1);
      const orch = of('CompleteOrchestratorTask');
      assert.deepStrictEqual(orch, [
        `200 CompleteOrchestratorTask ${HUB} wl-1 Running`,
        `200 CompleteOrchestratorTask ${HUB} wl-1 Completed`,
      ], lines().join('\n'));
      assert.deepStrictEqual(of('CompleteActivityTask'),
        [`200 CompleteActivityTask ${HUB} wl-1 -`]);
      assert.deepStrictEqual(of('CompleteEntityTask'),
        [`200 CompleteEntityTask ${HUB} @tally@K1 -`]);
    });

  await t.test('GetWorkItems names no instance', async () => {
    // its line is written when the stream ends: the worker stopped
    await logged('GetWorkItems', 1);
    for (const l of of('GetWorkItems')) {
      assert.match(l, new RegExp(`^\\d+ GetWorkItems ${HUB} - -$`));
    }
  });

  await t.test('an abandon and a stale completion name the instance',
    async (st) => {
      await client.scheduleNewOrchestration('nobody', null, 'wl-2');
      const s = stream(srv.address, 'GetWorkItems',
        new pb.GetWorkItemsRequest().serializeBinary());
      st.after(async () => {
        s.cancel();
        await s.ended();
      });
      const wi = await nextItem(s, 10000);
      assert.ok(wi && wi.hasOrchestratorrequest());
      assert.strictEqual(wi.getOrchestratorrequest().getInstanceid(),
        'wl-2');

      const ab = new pb.AbandonOrchestrationTaskRequest();
      ab.setCompletiontoken(wi.getCompletiontoken());
      const res = await call(srv.address, 'AbandonTaskOrchestratorWorkItem',
        { body: frame(Buffer.from(ab.serializeBinary())) });
      assert.strictEqual(res.grpcStatus, 0);

      // the lease is gone: the store refuses the completion, no status
      const done = new pb.OrchestratorResponse();
      done.setInstanceid('wl-2');
      done.setCompletiontoken(wi.getCompletiontoken());
      const late = await call(srv.address, 'CompleteOrchestratorTask',
        { body: frame(Buffer.from(done.serializeBinary())) });
      assert.notStrictEqual(late.grpcStatus, 0);

      await logged('AbandonTaskOrchestratorWorkItem', 1);
      await logged('CompleteOrchestratorTask', 3);
      assert.deepStrictEqual(of('AbandonTaskOrchestratorWorkItem'),
        [`200 AbandonTaskOrchestratorWorkItem ${HUB} wl-2 -`]);
      assert.strictEqual(of('CompleteOrchestratorTask').pop(),
        `200 CompleteOrchestratorTask ${HUB} wl-2 -`);
    });

  await t.test('a token that does not decode names no instance',
    async () => {
      const ab = new pb.AbandonOrchestrationTaskRequest();
      ab.setCompletiontoken('not a token');
      const res = await call(srv.address, 'AbandonTaskOrchestratorWorkItem',
        { body: frame(Buffer.from(ab.serializeBinary())) });
      assert.strictEqual(res.grpcStatus, 3);
      await logged('AbandonTaskOrchestratorWorkItem', 2);
      assert.strictEqual(of('AbandonTaskOrchestratorWorkItem').pop(),
        `200 AbandonTaskOrchestratorWorkItem ${HUB} - -`);
    });

  await t.test('nginx logged no alert and no worker died', () => {
    assert.deepStrictEqual(srv.problems(), []);
  });
});
