// Workers through the JavaScript SDK: two workers with work-item filters
// on one nginx each get only the orchestrations and activities they
// registered; a worker process killed in the middle of an activity or of
// an orchestration episode loses nothing: its item is delivered again,
// once the lease runs out, to the next worker, and applied once.

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { TaskHubGrpcWorker, NoOpLogger, OrchestrationStatus,
        EntityInstanceId, TaskEntity } = require('@microsoft/durabletask-js');
const { open, finished, output, http, until } = require('../lib/app');

// counts its operations and who ran them
class Tally extends TaskEntity {
  initializeState() {
    return [];
  }

  mark(label) {
    this.state.push(label);
  }
}

function filtered(address, label, orchestrator, activity) {
  const w = new TaskHubGrpcWorker({ hostAddress: address,
    logger: new NoOpLogger(), shutdownTimeoutMs: 2000,
    workItemFilters: 'auto' });
  w.addNamedOrchestrator(orchestrator, async function* (ctx) {
    const ran = yield ctx.callActivity(activity);
    return { orchestration: label, activity: ran };
  });
  w.addNamedActivity(activity, () => label);
  return w;
}

test('work-item filters', async (t) => {
  const { srv, client } = await open(t, { name: 'filters', noWorker: true });
  const a = filtered(srv.address, 'A', 'alpha', 'actA');
  a.addNamedEntity('tally', () => new Tally());
  const b = filtered(srv.address, 'B', 'beta', 'actB');
  await a.start();
  await b.start();
  t.after(async () => {
    await a.stop();
    await b.stop();
  });

  await t.test('each worker gets only what it registered', async () => {
    const ids = [];
    for (let i = 0; i < 6; i++) {
      const name = i % 2 ? 'alpha' : 'beta';
      ids.push([name, await client.scheduleNewOrchestration(name)]);
    }
    for (const [name, id] of ids) {
      const st = await finished(client, id);
      assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
        `${name} ${id}: ${JSON.stringify(st.failureDetails)}`);
      const label = name === 'alpha' ? 'A' : 'B';
      assert.deepStrictEqual(output(st),
        { orchestration: label, activity: label });
    }
  });

  await t.test('entity work goes to the worker with the entity',
    async () => {
      // eight entities, eight work items: without filters about half
      // would go to the worker without the entity, and fail
      const ids = [];
      for (let i = 0; i < 8; i++) {
        ids.push(new EntityInstanceId('tally', `t${i}`));
        await client.signalEntity(ids[i], 'mark', 'A');
      }
      for (const id of ids) {
        const m = await until(`a mark on ${id}`, async () => {
          const e = await client.getEntity(id, true);
          return e && e.includesState && e;
        }, 15000);
        assert.deepStrictEqual(m.state, ['A'], `${id}`);
      }
    });

  await t.test('work no worker registered stays Pending', async () => {
    const id = await client.scheduleNewOrchestration('gamma');
    // the others finish while gamma waits
    const other = await client.scheduleNewOrchestration('alpha');
    await finished(client, other);
    const st = await client.getOrchestrationState(id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.PENDING);
  });

  await t.test('nginx logged no alert and no worker died', () => {
    assert.deepStrictEqual(srv.problems(), []);
  });
});

// a worker process that hangs in its item, and what it printed
function stuckWorker(address) {
  const child = spawn(process.execPath,
    [path.join(__dirname, '..', 'lib', 'stuck-worker.js'), address],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const waiters = [];
  child.stdout.on('data', (d) => {
    out += d;
    for (const w of waiters.splice(0)) {
      w();
    }
  });
  const exited = new Promise((r) => child.once('exit', r));
  return {
    child,
    exited,
    // resolves when a line matching re was printed
    printed: (re) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(
        new Error(`the stuck worker did not print ${re}: ${out}`)), 20000);
      const check = () => {
        if (re.test(out)) {
          clearTimeout(timer);
          resolve();
        } else {
          waiters.push(check);
        }
      };
      check();
    }),
  };
}

test('a worker killed in the middle of an item', async (t) => {
  const { srv, client } = await open(t, { name: 'killed', noWorker: true,
    nginx: { lease: '2s' } });
  const runs = new Map();

  for (const where of ['activity', 'orchestration']) {
    await t.test(`in an ${where}: the item is delivered again`, async () => {
      const stuck = stuckWorker(srv.address);
      t.after(() => stuck.child.kill('SIGKILL'));
      const key = `k-${where}`;
      const id = await client.scheduleNewOrchestration('relay',
        { stuckIn: where, key }, `killed-${where}`);
      await stuck.printed(where === 'activity'
        ? new RegExp(`started activity ${key}`)
        : new RegExp(`started orchestration ${id}`));
      stuck.child.kill('SIGKILL');
      await stuck.exited;

      const w = new TaskHubGrpcWorker({ hostAddress: srv.address,
        logger: new NoOpLogger(), shutdownTimeoutMs: 2000 });
      w.addNamedOrchestrator('relay', async function* (ctx, input) {
        return yield ctx.callActivity('step', input.key);
      });
      w.addNamedActivity('step', (ctx, k) => {
        runs.set(k, (runs.get(k) || 0) + 1);
        return `done ${k}`;
      });
      await w.start();
      try {
        const st = await finished(client, id, 30);
        assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED,
          JSON.stringify(st.failureDetails));
        assert.strictEqual(output(st), `done ${key}`);
        assert.strictEqual(runs.get(key), 1);

        // one schedule, one result: nothing was applied twice
        const h = await http(srv, `/instances/${id}?showHistory=true`);
        const types = h.body.historyEvents.map((e) => e.EventType);
        assert.strictEqual(types.filter((e) => e === 'TaskCompleted').length,
          1, types.join());
        assert.strictEqual(types.filter((e) => e === 'TaskScheduled').length,
          0, types.join());
      } finally {
        await w.stop();
      }
    });
  }

  await t.test('nginx logged no alert and no worker died', () => {
    assert.deepStrictEqual(srv.problems(), []);
  });
});
