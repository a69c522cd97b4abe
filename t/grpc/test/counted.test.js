// Work claimed and completed over gRPC is counted on the metrics page as
// the HTTP worker protocol's is (claims, completions, leases by kind),
// and the SDK's starts, terminations and completions write the same
// lifecycle lines (durable_task_lifecycle_log) to the error log.

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { OrchestrationStatus } = require('@microsoft/durabletask-js');
const { open, finished, until } = require('../lib/app');

function double(ctx, n) {
  return 2 * n;
}

async function* doubled(ctx, n) {
  return yield ctx.callActivity(double, n);
}

async function* waiter(ctx) {
  return yield ctx.waitForExternalEvent('go');
}

// the error log's lifecycle lines of one instance, their changes only
function changes(srv, id) {
  const re = new RegExp(`durable: instance "${id}" of hub "[^"]*": `
    + '([^,]*?)(?:, client: .*)?$');
  return srv.errorLog().split('\n').map((l) => l.match(re))
    .filter((m) => m).map((m) => m[1]);
}

test('counted and logged', async (t) => {
  const { srv, client } = await open(t, {
    name: 'counted',
    nginx: { http: '    durable_task_lifecycle_log  on;' },
    register: (w) => {
      w.addOrchestrator(doubled);
      w.addOrchestrator(waiter);
      w.addActivity(double);
    },
  });

  await t.test('claims, completions and leases by kind', async () => {
    const id = await client.scheduleNewOrchestration(doubled, 21, 'cnt-1');
    const st = await finished(client, id);
    assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED);

    const kind = (k) => `kind="${k}"`;
    assert.strictEqual(await srv.metric('durable_claims_total',
      kind('activity')), 1);
    assert.strictEqual(await srv.metric('durable_completions_total',
      kind('activity')), 1);
    // two episodes: the start, then the activity's result
    assert.ok(await srv.metric('durable_claims_total',
      kind('orchestration')) >= 2);
    assert.ok(await srv.metric('durable_completions_total',
      kind('orchestration')) >= 2);
    assert.ok(await srv.metric('durable_leases_granted_total') >= 3);
  });

  await t.test('a start and its completions in the error log', async () => {
    assert.deepStrictEqual(changes(srv, 'cnt-1'),
      ['created: doubled', 'running', 'completed']);
  });

  await t.test('a termination in the error log', async () => {
    const id = await client.scheduleNewOrchestration(waiter, null, 'cnt-2');
    await client.waitForOrchestrationStart(id, false, 20);
    await client.terminateOrchestration(id, 'stop');
    await finished(client, id);
    await until('the line', async () =>
      changes(srv, id).includes('terminated: "stop"'));
    assert.deepStrictEqual(changes(srv, id),
      ['created: waiter', 'running', 'terminated: "stop"']);
  });
});
