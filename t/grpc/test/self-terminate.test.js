// A completion that terminates the tree of its instance's parent ends
// its own instance too (docs/design.md, "A completion that terminates
// its own instance"): over gRPC the completion is answered, the instance
// is Terminated with the termination's reason and the custom status the
// completion set, and the lifecycle log has its line ("terminated", with
// no reason: the module does not know which termination ended it). The
// SDK's orchestrations cannot terminate another instance, so the work
// items are read and completed by hand.

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const pb = require('@microsoft/durabletask-js/dist/proto/orchestrator_service_pb');
const { TaskHubGrpcClient, OrchestrationStatus, NoOpLogger } =
  require('@microsoft/durabletask-js');
const nginx = require('../lib/nginx');
const { stream } = require('../lib/wire');
const { nextItem, str, completeActions: complete } = require('../lib/hand');
const { until } = require('../lib/app');

// the error log's lifecycle lines of one instance, their changes only
function changes(srv, id) {
  const re = new RegExp(`durable: instance "${id}" of hub "[^"]*": `
    + '([^,]*?)(?:, client: .*)?$');
  return srv.errorLog().split('\n').map((l) => l.match(re))
    .filter((m) => m).map((m) => m[1]);
}

test('a completion that terminates its own tree', async (t) => {
  const srv = await nginx.start({ name: 'selfterm', workers: 1,
    http: '    durable_task_lifecycle_log  on;' });
  const client = new TaskHubGrpcClient({ hostAddress: srv.address,
    logger: new NoOpLogger() });
  const s = stream(srv.address, 'GetWorkItems',
    new pb.GetWorkItemsRequest().serializeBinary());
  t.after(async () => {
    s.cancel();
    await s.ended();
    await client.stop();
    await srv.stop();
  });

  await t.test('the child ends its parent\'s tree', async () => {
    await client.scheduleNewOrchestration('STParent', null, 'stp');

    // the parent starts the child
    const wp = await nextItem(s, 20000);
    assert.ok(wp && wp.hasOrchestratorrequest());
    const sub = new pb.CreateSubOrchestrationAction();
    sub.setInstanceid('stc');
    sub.setName('STChild');
    const a0 = new pb.OrchestratorAction();
    a0.setId(0);
    a0.setCreatesuborchestration(sub);
    assert.strictEqual((await complete(srv.address, wp, [a0])).grpcStatus,
      0);

    // the child sets a custom status and terminates the parent's tree
    const wc = await nextItem(s, 20000);
    assert.ok(wc && wc.hasOrchestratorrequest());
    assert.strictEqual(wc.getOrchestratorrequest().getInstanceid(), 'stc');
    const term = new pb.TerminateOrchestrationAction();
    term.setInstanceid('stp');
    term.setReason(str('"down"'));
    term.setRecurse(true);
    const a1 = new pb.OrchestratorAction();
    a1.setId(0);
    a1.setTerminateorchestration(term);
    assert.strictEqual(
      (await complete(srv.address, wc, [a1], '"cs"')).grpcStatus, 0);

    const st = await client.getOrchestrationState('stc');
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.TERMINATED);
    assert.strictEqual(st.serializedOutput, '"down"');
    assert.strictEqual(st.serializedCustomStatus, '"cs"');
    assert.strictEqual(
      (await client.getOrchestrationState('stp')).runtimeStatus,
      OrchestrationStatus.TERMINATED);

    await until('the line', async () =>
      changes(srv, 'stc').includes('terminated'));
    assert.strictEqual(changes(srv, 'stc').pop(), 'terminated');
  });

  await t.test('nginx logged no alert and no worker died', () => {
    assert.deepStrictEqual(srv.problems(), []);
  });
});
