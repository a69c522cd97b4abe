// A lock granted to an execution that will never see it is released at
// once (docs/worker-protocol.md, after a continue-as-new): an
// orchestration asks for a lock and continues as new in the same
// completion, or asks while another holds the lock and continues as new
// before it is granted. Its new execution must not get the grant, and
// the entity must not stay locked: a second orchestration's lock on it is
// granted. The SDK's orchestrations cannot continue as new with a lock
// request pending, so the work items are read and completed by hand.

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const pb = require('@microsoft/durabletask-js/dist/proto/orchestrator_service_pb');
const { TaskHubGrpcClient, NoOpLogger } =
  require('@microsoft/durabletask-js');
const nginx = require('../lib/nginx');
const { stream } = require('../lib/wire');
const { nextItem, str, completeActions: complete } = require('../lib/hand');

function lock(id, cs, entity, parent) {
  const ev = new pb.EntityLockRequestedEvent();
  ev.setCriticalsectionid(cs);
  ev.setLocksetList([entity]);
  ev.setPosition(0);
  ev.setParentinstanceid(str(parent));
  const m = new pb.SendEntityMessageAction();
  m.setEntitylockrequested(ev);
  const a = new pb.OrchestratorAction();
  a.setId(id);
  a.setSendentitymessage(m);
  return a;
}

function unlock(id, cs, entity, parent) {
  const ev = new pb.EntityUnlockSentEvent();
  ev.setCriticalsectionid(cs);
  ev.setTargetinstanceid(str(entity));
  ev.setParentinstanceid(str(parent));
  const m = new pb.SendEntityMessageAction();
  m.setEntityunlocksent(ev);
  const a = new pb.OrchestratorAction();
  a.setId(id);
  a.setSendentitymessage(m);
  return a;
}

function finish(id, status, result) {
  const c = new pb.CompleteOrchestrationAction();
  c.setOrchestrationstatus(status);
  c.setResult(str(result));
  const a = new pb.OrchestratorAction();
  a.setId(id);
  a.setCompleteorchestration(c);
  return a;
}

const CONTINUED = pb.OrchestrationStatus.ORCHESTRATION_STATUS_CONTINUED_AS_NEW;
const COMPLETED = pb.OrchestrationStatus.ORCHESTRATION_STATUS_COMPLETED;

// the critical sections granted in a work item's new events
const grants = (wi) => wi.getOrchestratorrequest().getNeweventsList()
  .filter((e) => e.hasEntitylockgranted())
  .map((e) => e.getEntitylockgranted().getCriticalsectionid());

test('a lock granted to an ended execution', async (t) => {
  const srv = await nginx.start({ name: 'stalegrant', workers: 1 });
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

  // the next item, which must be of id
  const itemOf = async (id) => {
    const wi = await nextItem(s, 20000);
    assert.ok(wi && wi.hasOrchestratorrequest(), `an item for ${id}`);
    assert.strictEqual(wi.getOrchestratorrequest().getInstanceid(), id);
    return wi;
  };

  // another orchestration locks the entity: granted, then unlocked
  const lockable = async (id, entity) => {
    await client.scheduleNewOrchestration('SGCheck', null, id);
    let wi = await itemOf(id);
    assert.strictEqual((await complete(srv.address, wi,
      [lock(0, `${id}-cs`, entity, id)])).grpcStatus, 0);
    wi = await itemOf(id);
    assert.deepStrictEqual(grants(wi), [`${id}-cs`]);
    assert.strictEqual((await complete(srv.address, wi,
      [unlock(1, `${id}-cs`, entity, id), finish(2, COMPLETED, '1')]))
      .grpcStatus, 0);
  };

  await t.test('granted in the completion that continues', async () => {
    await client.scheduleNewOrchestration('SG', null, 'sg1');
    let wi = await itemOf('sg1');
    assert.strictEqual((await complete(srv.address, wi,
      [lock(0, 'cs1', '@counter@k1', 'sg1'),
        finish(1, CONTINUED, '2')])).grpcStatus, 0);

    // the new execution starts without the grant
    wi = await itemOf('sg1');
    assert.deepStrictEqual(grants(wi), []);
    assert.strictEqual((await complete(srv.address, wi,
      [finish(0, COMPLETED, '3')])).grpcStatus, 0);

    await lockable('sg1-check', '@counter@k1');
  });

  await t.test('granted after the execution continued', async () => {
    // a holder, then a request that waits for it
    await client.scheduleNewOrchestration('SGHolder', null, 'sgh');
    let wh = await itemOf('sgh');
    assert.strictEqual((await complete(srv.address, wh,
      [lock(0, 'csh', '@counter@k2', 'sgh')])).grpcStatus, 0);
    wh = await itemOf('sgh');
    assert.deepStrictEqual(grants(wh), ['csh']);

    await client.scheduleNewOrchestration('SG', null, 'sg2');
    let wi = await itemOf('sg2');
    assert.strictEqual((await complete(srv.address, wi,
      [lock(0, 'cs2', '@counter@k2', 'sg2'),
        finish(1, CONTINUED, '2')])).grpcStatus, 0);
    wi = await itemOf('sg2');
    assert.deepStrictEqual(grants(wi), []);

    // the holder unlocks: the waiting request's grant goes nowhere
    assert.strictEqual((await complete(srv.address, wh,
      [unlock(1, 'csh', '@counter@k2', 'sgh'),
        finish(2, COMPLETED, '1')])).grpcStatus, 0);
    assert.strictEqual((await complete(srv.address, wi,
      [finish(0, COMPLETED, '3')])).grpcStatus, 0);

    await lockable('sg2-check', '@counter@k2');
  });

  await t.test('nginx logged no alert and no worker died', () => {
    assert.deepStrictEqual(srv.problems(), []);
  });
});
