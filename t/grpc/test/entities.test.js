// Entities through the JavaScript SDK: signals from the client and over
// HTTP, state read over gRPC and HTTP, calls from orchestrations with
// their responses, signals scheduled for later, critical sections (locks
// held, then released), state deletion, entity queries in pages, and
// cleaning entity storage.

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { OrchestrationStatus, EntityInstanceId, TaskEntity,
        TaskHubGrpcClient, TaskHubGrpcWorker, NoOpLogger } =
  require('@microsoft/durabletask-js');
const { open, finished, output, http, until } = require('../lib/app');
const { notYet } = require('../lib/backend');
const { handWorker } = require('../lib/hand');
const nginx = require('../lib/nginx');

class Counter extends TaskEntity {
  initializeState() {
    return 0;
  }

  add(n) {
    this.state += n;
    return this.state;
  }

  get() {
    return this.state;
  }

  // changes the state, then fails: the change must not stay
  explode() {
    this.state = 999;
    throw new Error('counter exploded');
  }

  // a signal to another counter and an orchestration, from the entity
  forward(f) {
    this.context.signalEntity(counter(f.to), 'add', this.state);
    this.context.scheduleNewOrchestration('echo', this.state,
      { instanceId: f.orchestration });
  }
}

// what fails today, and why (for the gRPC codec's owners)
const counter = (key) => new EntityInstanceId('counter', key);

async function* useCounter(ctx, key) {
  const a = yield ctx.entities.callEntity(counter(key), 'add', 5);
  const b = yield ctx.entities.callEntity(counter(key), 'add', 3);
  const c = yield ctx.entities.callEntity(counter(key), 'get');
  return [a, b, c];
}

async function* signaller(ctx, key) {
  ctx.entities.signalEntity(counter(key), 'add', 11);
  return 'sent';
}

// a signal 2 s after the orchestration's time; it returns that time
async function* laterSignaller(ctx, key) {
  const at = new Date(ctx.currentUtcDateTime.getTime() + 2000);
  ctx.entities.signalEntity(counter(key), 'add', 3, { signalTime: at });
  return at.toISOString();
}

async function* exploder(ctx, key) {
  try {
    yield ctx.entities.callEntity(counter(key), 'explode');
  } catch (e) {
    const after = yield ctx.entities.callEntity(counter(key), 'get');
    return { failed: e.message, after };
  }
  return 'no failure';
}

// calls an entity whose batch fails as a whole (its factory throws)
async function* brokenCaller(ctx, key) {
  try {
    yield ctx.entities.callEntity(new EntityInstanceId('broken', key),
      'get');
  } catch (e) {
    return { failed: e.message };
  }
  return 'no failure';
}

async function* echo(ctx, input) {
  return input;
}

// moves an amount between two counters inside a critical section
async function* transfer(ctx, t) {
  const from = counter(t.from);
  const to = counter(t.to);
  const lock = yield ctx.entities.lockEntities(from, to);
  const section = ctx.entities.isInCriticalSection();
  try {
    yield ctx.entities.callEntity(from, 'add', -t.amount);
    yield ctx.entities.callEntity(to, 'add', t.amount);
  } finally {
    lock.release();
  }
  return { inSection: section.inSection,
           locked: section.lockedEntities.map((e) => e.toString()).sort() };
}

// holds a counter's lock until told to go on, then reads it
async function* holder(ctx, key) {
  const lock = yield ctx.entities.lockEntities(counter(key));
  ctx.setCustomStatus('locked');
  yield ctx.waitForExternalEvent('go');
  const seen = yield ctx.entities.callEntity(counter(key), 'get');
  lock.release();
  return seen;
}

const state = async (client, key) => {
  const m = await client.getEntity(counter(key), true);
  return m && m.includesState ? m.state : undefined;
};

test('entities', async (t) => {
  const { srv, client } = await open(t, {
    name: 'entities',
    register: (w) => {
      w.addNamedEntity('counter', () => new Counter());
      w.addNamedEntity('broken', () => {
        throw new Error('the entity cannot be made');
      });
      for (const o of [useCounter, transfer, holder, signaller, exploder,
        brokenCaller, echo, laterSignaller]) {
        w.addOrchestrator(o);
      }
    },
  });

  await t.test('signals from the client change the state', async () => {
    await client.signalEntity(counter('s1'), 'add', 2);
    await client.signalEntity(counter('s1'), 'add', 40);
    await until('the state 42', async () => await state(client, 's1') === 42,
      15000);
    const m = await client.getEntity(counter('s1'), true);
    assert.strictEqual(m.id.toString(), '@counter@s1');
    assert.ok(m.lastModifiedTime.getTime() > 0);
    const h = await http(srv, '/entities/counter/s1');
    assert.strictEqual(h.status, 200);
    assert.strictEqual(h.body, 42);
  });

  await t.test('a scheduled signal waits for its time', async () => {
    const at = new Date(Date.now() + 2000);
    await client.signalEntity(counter('sc1'), 'add', 5, { signalTime: at });
    await client.signalEntity(counter('sc1'), 'add', 1);
    // the unscheduled one is not held behind it
    await until('the state 6', async () => {
      const s = await state(client, 'sc1');
      assert.ok(s !== 6 || Date.now() >= at.getTime(),
        'the scheduled signal ran before its time');
      return s === 6;
    }, 15000);
    const m = await client.getEntity(counter('sc1'), false);
    assert.ok(m.lastModifiedTime.getTime() >= at.getTime(),
      `last operation at ${m.lastModifiedTime.toISOString()}`);
  });

  await t.test('a signal over HTTP, the state read over gRPC', async () => {
    const res = await http(srv, '/entities/counter/h1?op=add',
      { method: 'POST', headers: { 'content-type': 'application/json' },
        body: '7' });
    assert.strictEqual(res.status, 202);
    await until('the state 7', async () => await state(client, 'h1') === 7,
      15000);
  });

  await t.test('an unknown entity reads as none', async () => {
    assert.strictEqual(await client.getEntity(counter('none')), undefined);
  });

  await t.test('calls from an orchestration get responses', async () => {
    const id = await client.scheduleNewOrchestration(useCounter, 'c1');
    const st = await finished(client, id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
      JSON.stringify(st.failureDetails));
    assert.deepStrictEqual(output(st), [5, 8, 8]);
    assert.strictEqual(await state(client, 'c1'), 8);
  });

  await t.test('a batch result without its results is refused',
    async () => {
      // on an nginx of its own, worked by hand (lib/hand.js): the first
      // batch of @counter@short is completed once without its results,
      // then whole; the SDK's worker runs the orchestration and the
      // entity all the same, through its public single-item entries
      const own = await nginx.start({ name: 'entities-short', workers: 1 });
      const ownClient = new TaskHubGrpcClient({ hostAddress: own.address,
        logger: new NoOpLogger() });
      const executor = new TaskHubGrpcWorker({ hostAddress: own.address,
        logger: new NoOpLogger() });
      executor.addNamedEntity('counter', () => new Counter());
      executor.addOrchestrator(useCounter);
      const shortAnswers = [];
      const hand = handWorker(own.address, executor, {
        entity: async (req, result, send) => {
          if (shortAnswers.length === 0) {
            const short = result.cloneMessage();
            short.setResultsList([]);
            shortAnswers.push(await send(short));
          }
        },
      });
      try {
        const id = await ownClient.scheduleNewOrchestration(useCounter,
          'short');
        const st = await finished(ownClient, id);
        // INVALID_ARGUMENT, nothing applied: the whole result under the
        // same token is taken afterwards
        assert.deepStrictEqual(shortAnswers, [3]);
        assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
          JSON.stringify(st.failureDetails));
        assert.deepStrictEqual(output(st), [5, 8, 8]);
        assert.strictEqual(await state(ownClient, 'short'), 8);
        await hand.stop();
        assert.deepStrictEqual(hand.errors, []);
        const answers = hand.completions.filter(([m]) =>
          m === 'CompleteEntityTask').map(([, who, status]) => [who, status]);
        assert.deepStrictEqual(answers.slice(0, 2),
          [['@counter@short', 3], ['@counter@short', 0]]);
        // and nothing else was refused
        assert.deepStrictEqual(hand.completions.filter(([, , status]) =>
          status !== 0), [['CompleteEntityTask', '@counter@short', 3]]);
        assert.deepStrictEqual(own.problems(), []);
      } finally {
        await hand.stop();
        await ownClient.stop();
        await own.stop();
      }
    });

  await t.test('an orchestration signals an entity', async () => {
    const id = await client.scheduleNewOrchestration(signaller, 'o1');
    assert.strictEqual(output(await finished(client, id)), 'sent');
    await until('the state 11', async () => await state(client, 'o1') === 11,
      15000);
  });

  await t.test('an orchestration\'s scheduled signal waits', async () => {
    const id = await client.scheduleNewOrchestration(laterSignaller, 'o2');
    const at = new Date(output(await finished(client, id)));
    await until('the state 3', async () => await state(client, 'o2') === 3,
      15000);
    const m = await client.getEntity(counter('o2'), false);
    assert.ok(m.lastModifiedTime.getTime() >= at.getTime(),
      `last operation at ${m.lastModifiedTime.toISOString()}, ` +
      `scheduled at ${at.toISOString()}`);
  });

  await t.test('a failed operation fails its call, keeps the state',
    async () => {
      const id = await client.scheduleNewOrchestration(exploder, 'c1');
      const st = await finished(client, id);
      assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
        JSON.stringify(st.failureDetails));
      const o = output(st);
      assert.match(o.failed, /counter exploded/);
      assert.strictEqual(o.after, 8);
    });

  await t.test('a batch failed as a whole fails its calls at once',
    async (tc) => {
      if (notYet(tc)) {
        return;
      }
      // the lease (30 s) is longer than the wait: no redelivery helps
      const id = await client.scheduleNewOrchestration(brokenCaller, 'b1');
      const st = await finished(client, id, 15);
      assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
        JSON.stringify(st.failureDetails));
      assert.match(output(st).failed, /the entity cannot be made/);
      const h = await http(srv, '/entities/broken/b1');
      assert.strictEqual(h.status, 404);
    });

  await t.test('an entity signals an entity and starts an orchestration',
    async () => {
      await client.signalEntity(counter('f1'), 'add', 5);
      await client.signalEntity(counter('f1'), 'forward',
        { to: 'f2', orchestration: 'from-f1' });
      await until('the state 5 in f2',
        async () => await state(client, 'f2') === 5, 15000);
      const st = await finished(client, 'from-f1');
      assert.strictEqual(output(st), 5);
    });

  await t.test('transfers in critical sections keep the total', async () => {
    await client.signalEntity(counter('acct-a'), 'add', 100);
    await client.signalEntity(counter('acct-b'), 'add', 100);
    const ids = [];
    for (let i = 0; i < 6; i++) {
      const [from, to] = i % 2 ? ['acct-a', 'acct-b'] : ['acct-b', 'acct-a'];
      ids.push(await client.scheduleNewOrchestration(transfer,
        { from, to, amount: 10 + i }));
    }
    for (const id of ids) {
      const st = await finished(client, id);
      assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
        JSON.stringify(st.failureDetails));
      assert.deepStrictEqual(output(st), { inSection: true,
        locked: ['@counter@acct-a', '@counter@acct-b'] });
    }
    // b -> a: 10 + 12 + 14, a -> b: 11 + 13 + 15
    assert.strictEqual(await state(client, 'acct-a'), 100 + 36 - 39);
    assert.strictEqual(await state(client, 'acct-b'), 100 - 36 + 39);
  });

  await t.test('a signal waits for the lock to be released', async () => {
    await client.signalEntity(counter('lk'), 'add', 1);
    await until('the state 1', async () => await state(client, 'lk') === 1,
      15000);
    const id = await client.scheduleNewOrchestration(holder, 'lk');
    await until('the lock', async () => {
      const s = await client.getOrchestrationState(id, true);
      return s && s.serializedCustomStatus === '"locked"';
    }, 15000);
    const m = await client.getEntity(counter('lk'), false);
    assert.strictEqual(m.lockedBy, id);

    // queued behind the lock: the orchestration still reads 1
    await client.signalEntity(counter('lk'), 'add', 100);
    await client.raiseOrchestrationEvent(id, 'go', null);
    const st = await finished(client, id);
    assert.strictEqual(output(st), 1);
    await until('the state 101',
      async () => await state(client, 'lk') === 101, 15000);
    assert.strictEqual((await client.getEntity(counter('lk'), false))
      .lockedBy, undefined);
  });

  await t.test('delete removes the state', async () => {
    await client.signalEntity(counter('d1'), 'add', 3);
    await until('the state 3', async () => await state(client, 'd1') === 3,
      15000);
    await client.signalEntity(counter('d1'), 'delete');
    await until('no state', async () =>
      await state(client, 'd1') === undefined, 15000);
    assert.strictEqual((await http(srv, '/entities/counter/d1')).status,
      404);
  });

  await t.test('query entities in pages', async () => {
    for (const k of ['q1', 'q2', 'q3', 'q4', 'q5']) {
      await client.signalEntity(counter(k), 'add', 1);
    }
    await until('five states', async () => {
      for (const k of ['q1', 'q2', 'q3', 'q4', 'q5']) {
        if (await state(client, k) !== 1) {
          return false;
        }
      }
      return true;
    }, 15000);
    const seen = [];
    let pages = 0;
    for await (const page of client.getEntities({
      instanceIdStartsWith: '@counter@q', includeState: true, pageSize: 2,
    }).asPages()) {
      pages++;
      assert.ok(page.values.length <= 2);
      for (const e of page.values) {
        seen.push([e.id.key, e.state]);
      }
    }
    assert.ok(pages >= 3, `${pages} pages`);
    assert.deepStrictEqual(seen.sort(),
      [['q1', 1], ['q2', 1], ['q3', 1], ['q4', 1], ['q5', 1]]);
  });

  await t.test('clean entity storage', async () => {
    const res = await client.cleanEntityStorage({ removeEmptyEntities: true,
      releaseOrphanedLocks: true }, true);
    assert.strictEqual(res.orphanedLocksReleased, 0);
    // d1's state was deleted: it is the empty one
    assert.ok(res.emptyEntitiesRemoved >= 1, JSON.stringify(res));
    assert.strictEqual(await client.getEntity(counter('d1')), undefined);
    assert.strictEqual(await state(client, 's1'), 42);
  });

  await t.test('nginx logged no alert and no worker died', () => {
    assert.deepStrictEqual(srv.problems(), []);
  });
});
