// An instance's life through the JavaScript SDK's client, with its worker
// running: suspend and resume, terminate with and without its
// sub-orchestrations, rewind a failed instance, restart (same id and new
// id), purge by id, by filter and with the sub-orchestrations, and the
// children of a parent id purged and started again.

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { OrchestrationStatus, PurgeInstanceCriteria, terminateOptions } =
  require('@microsoft/durabletask-js');
const { open, finished, output, http, until } = require('../lib/app');

// keys whose activity fails until the test clears them
const broken = new Set();

function mayFail(ctx, key) {
  if (broken.has(key)) {
    throw new Error(`${key} is broken`);
  }
  return `${key} ok`;
}

async function* waiter(ctx) {
  return yield ctx.waitForExternalEvent('go');
}

async function* family(ctx, children) {
  const tasks = [];
  for (let i = 0; i < children; i++) {
    tasks.push(ctx.callSubOrchestrator(waiter, null,
      { instanceId: `${ctx.instanceId}-c${i}` }));
  }
  for (const task of tasks) {
    yield task;
  }
  return 'all done';
}

async function* quickFamily(ctx) {
  const c = yield ctx.callSubOrchestrator(echo, 'child',
    { instanceId: `${ctx.instanceId}-c` });
  return `parent of ${c}`;
}

async function* echo(ctx, input) {
  return input;
}

// one child, its id after the input, whose result is the parent's
async function* reuser(ctx, tag) {
  return yield ctx.callSubOrchestrator(waiter, null,
    { instanceId: `${ctx.instanceId}-${tag}` });
}

// a second life of an id: its start of the child id c0 is refused while
// an earlier life's child holds it, then a child of its own waits
async function* secondLife(ctx) {
  try {
    yield ctx.callSubOrchestrator(waiter, null,
      { instanceId: `${ctx.instanceId}-c0` });
  } catch (e) {
    // refused: the earlier life's child holds the id
  }
  return yield ctx.callSubOrchestrator(waiter, null,
    { instanceId: `${ctx.instanceId}-c1` });
}

async function* fragile(ctx, key) {
  const a = yield ctx.callActivity(mayFail, `${key}-a`);
  const b = yield ctx.callActivity(mayFail, `${key}-b`);
  return [a, b];
}

const statusOf = async (client, id) =>
  (await client.getOrchestrationState(id)).runtimeStatus;

test('lifecycle', async (t) => {
  const { srv, client } = await open(t, {
    name: 'lifecycle',
    register: (w) => {
      for (const o of [waiter, family, quickFamily, echo, fragile,
        reuser, secondLife]) {
        w.addOrchestrator(o);
      }
      w.addActivity(mayFail);
    },
  });

  await t.test('suspend and resume a running instance', async () => {
    const id = await client.scheduleNewOrchestration(waiter, null, 'sus-1');
    await client.waitForOrchestrationStart(id, false, 20);
    await client.suspendOrchestration(id);
    assert.strictEqual(await statusOf(client, id),
      OrchestrationStatus.SUSPENDED);
    await client.raiseOrchestrationEvent(id, 'go', 'queued');
    assert.strictEqual(await statusOf(client, id),
      OrchestrationStatus.SUSPENDED);

    await client.resumeOrchestration(id);
    const st = await finished(client, id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED);
    assert.strictEqual(output(st), 'queued');

    const h = await http(srv, `/instances/${id}?showHistory=true`);
    const types = h.body.historyEvents.map((e) => e.EventType);
    assert.ok(types.indexOf('ExecutionSuspended') >= 0, types.join());
    assert.ok(types.indexOf('ExecutionResumed')
      > types.indexOf('ExecutionSuspended'), types.join());
  });

  await t.test('terminate leaves the children running', async () => {
    const id = await client.scheduleNewOrchestration(family, 2, 'fam-1');
    await until('the children', async () =>
      (await client.getOrchestrationState(`${id}-c1`)) !== undefined);
    await client.terminateOrchestration(id, 'stop');
    const st = await finished(client, id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.TERMINATED);
    assert.strictEqual(output(st), 'stop');
    for (const c of [`${id}-c0`, `${id}-c1`]) {
      const s = await statusOf(client, c);
      assert.ok(s === OrchestrationStatus.RUNNING
        || s === OrchestrationStatus.PENDING, `${c} is ${s}`);
    }
  });

  await t.test('terminate recursive ends the children too', async () => {
    const id = await client.scheduleNewOrchestration(family, 2, 'fam-2');
    await until('the children', async () =>
      (await client.getOrchestrationState(`${id}-c1`)) !== undefined);
    await client.terminateOrchestration(id,
      terminateOptions({ recursive: true, output: 'all stop' }));
    const st = await finished(client, id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.TERMINATED);
    assert.strictEqual(output(st), 'all stop');
    for (const c of [`${id}-c0`, `${id}-c1`]) {
      const cs = await finished(client, c);
      assert.strictEqual(cs.runtimeStatus, OrchestrationStatus.TERMINATED,
        `${c}`);
    }
  });

  await t.test('rewind a failed instance', async () => {
    broken.add('rw-b');
    const id = await client.scheduleNewOrchestration(fragile, 'rw', 'rw-1');
    let st = await finished(client, id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.FAILED);
    assert.match(st.failureDetails.message, /rw-b is broken/);

    broken.delete('rw-b');
    await client.rewindInstance(id, 'fixed');
    st = await finished(client, id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
      JSON.stringify(st.failureDetails));
    assert.deepStrictEqual(output(st), ['rw-a ok', 'rw-b ok']);
  });

  await t.test('rewind an instance that did not fail', async () => {
    await assert.rejects(client.rewindInstance('sus-1', 'why'),
      // the SDK rethrows with the gRPC error as the cause
      (e) => e.cause && e.cause.code === 9 /* FAILED_PRECONDITION */);
  });

  await t.test('restart under the same id', async () => {
    const id = await client.scheduleNewOrchestration(echo, 'once',
      'rs-1');
    const first = await finished(client, id);
    assert.strictEqual(first.runtimeStatus, OrchestrationStatus.COMPLETED);
    const again = await client.restartOrchestration(id, false);
    assert.strictEqual(again, id);
    const st = await finished(client, id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED);
    assert.strictEqual(output(st), 'once');
    assert.ok(st.createdAt >= first.createdAt);
  });

  await t.test('restart under a new id', async () => {
    const other = await client.restartOrchestration('rs-1', true);
    assert.notStrictEqual(other, 'rs-1');
    const st = await finished(client, other);
    assert.strictEqual(st.name, 'echo');
    assert.strictEqual(output(st), 'once');
    assert.strictEqual(await statusOf(client, 'rs-1'),
      OrchestrationStatus.COMPLETED);
  });

  await t.test('restart an unknown instance is NOT_FOUND', async () => {
    await assert.rejects(client.restartOrchestration('nope', true),
      (e) => e.cause && e.cause.code === 5 /* NOT_FOUND */);
  });

  await t.test('purge one instance', async () => {
    const id = await client.scheduleNewOrchestration(echo, 1, 'pg-1');
    await finished(client, id);
    const res = await client.purgeOrchestration(id);
    assert.strictEqual(res.deletedInstanceCount, 1);
    assert.strictEqual(await client.getOrchestrationState(id), undefined);
    assert.strictEqual((await http(srv, `/instances/${id}`)).status, 404);
  });

  await t.test('purge without recursion keeps the child', async () => {
    const id = await client.scheduleNewOrchestration(quickFamily, null,
      'pq-1');
    assert.strictEqual(output(await finished(client, id)),
      'parent of child');
    const res = await client.purgeOrchestration(id, { recursive: false });
    assert.strictEqual(res.deletedInstanceCount, 1);
    assert.ok(await client.getOrchestrationState(`${id}-c`));
  });

  await t.test('purge recursive deletes the children', async () => {
    const id = await client.scheduleNewOrchestration(quickFamily, null,
      'pr-1');
    await finished(client, id);
    const res = await client.purgeOrchestration(id, { recursive: true });
    assert.strictEqual(res.deletedInstanceCount, 2);
    assert.strictEqual(await client.getOrchestrationState(id), undefined);
    assert.strictEqual(await client.getOrchestrationState(`${id}-c`),
      undefined);
  });

  await t.test('purge by filter: terminal instances in the range',
    async () => {
      const from = new Date();
      const ids = [];
      for (let i = 0; i < 4; i++) {
        ids.push(await client.scheduleNewOrchestration(echo, i,
          `pf-${i}`));
      }
      for (const id of ids) {
        await finished(client, id);
      }
      const active = await client.scheduleNewOrchestration(waiter, null,
        'pf-active');
      const to = new Date(Date.now() + 1000);

      const criteria = new PurgeInstanceCriteria();
      criteria.setCreatedTimeFrom(from);
      criteria.setCreatedTimeTo(to);
      criteria.setRuntimeStatusList([OrchestrationStatus.COMPLETED,
        OrchestrationStatus.RUNNING]);
      const res = await client.purgeOrchestration(criteria);
      assert.strictEqual(res.deletedInstanceCount, 4);
      for (const id of ids) {
        assert.strictEqual(await client.getOrchestrationState(id),
          undefined, id);
      }
      assert.ok(await client.getOrchestrationState(active));
      // instances created before the range are kept
      assert.ok(await client.getOrchestrationState('sus-1'));
    });

  // a parent ended without its child, purged and started again under its
  // id runs execution 1 again, its child's task id the old one's: the old
  // child's result must not reach it
  await t.test('a purged and reused parent id gets no old child\'s end',
    async () => {
      const id = 'ru-1';
      await client.scheduleNewOrchestration(reuser, 'old', id);
      await until('the old child', async () =>
        (await client.getOrchestrationState(`${id}-old`)) !== undefined);
      await client.terminateOrchestration(id, 'stop');
      await finished(client, id);
      const res = await client.purgeOrchestration(id, { recursive: false });
      assert.strictEqual(res.deletedInstanceCount, 1);

      await client.scheduleNewOrchestration(reuser, 'new', id);
      await until('the new child', async () =>
        (await client.getOrchestrationState(`${id}-new`)) !== undefined);

      await client.raiseOrchestrationEvent(`${id}-old`, 'go', 'old value');
      assert.strictEqual(output(await finished(client, `${id}-old`)),
        'old value');
      await client.raiseOrchestrationEvent(`${id}-new`, 'go', 'new value');
      const st = await finished(client, id);
      assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED);
      assert.strictEqual(output(st), 'new value');
    });

  // the recursive terminate and purge of a parent purged and started
  // again under its id: its history names the earlier life's child (a
  // refused start of its id), which must be left alone
  await t.test('a reused parent id\'s tree leaves the old child alone',
    async () => {
      const id = 'ru-2';
      await client.scheduleNewOrchestration(family, 1, id);
      await until('the old child', async () =>
        (await client.getOrchestrationState(`${id}-c0`)) !== undefined);
      await client.terminateOrchestration(id, 'stop');
      await finished(client, id);
      let res = await client.purgeOrchestration(id, { recursive: false });
      assert.strictEqual(res.deletedInstanceCount, 1);

      await client.scheduleNewOrchestration(secondLife, null, id);
      await until('the new child', async () =>
        (await client.getOrchestrationState(`${id}-c1`)) !== undefined);
      await client.terminateOrchestration(id,
        terminateOptions({ recursive: true, output: 'tree stop' }));
      assert.strictEqual((await finished(client, id)).runtimeStatus,
        OrchestrationStatus.TERMINATED);
      assert.strictEqual((await finished(client, `${id}-c1`)).runtimeStatus,
        OrchestrationStatus.TERMINATED);
      const s = await statusOf(client, `${id}-c0`);
      assert.ok(s === OrchestrationStatus.RUNNING
        || s === OrchestrationStatus.PENDING, `the old child is ${s}`);

      // once it has ended, the recursive purge leaves it too
      await client.raiseOrchestrationEvent(`${id}-c0`, 'go', 'old value');
      assert.strictEqual(output(await finished(client, `${id}-c0`)),
        'old value');
      res = await client.purgeOrchestration(id, { recursive: true });
      assert.strictEqual(res.deletedInstanceCount, 2);
      assert.ok(await client.getOrchestrationState(`${id}-c0`));
    });

  await t.test('nginx logged no alert and no worker died', () => {
    assert.deepStrictEqual(srv.problems(), []);
  });
});
