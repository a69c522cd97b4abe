// Leases of a connected worker: an item a live GetWorkItems stream holds
// is renewed while the stream lasts, so an activity that runs longer
// than durable_task_worker_lease is neither handed out again nor lost;
// the metrics page counts each renewal as a lease granted, as it does
// the HTTP worker protocol's.

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { OrchestrationStatus } = require('@microsoft/durabletask-js');
const { open, finished, output, sleep } = require('../lib/app');

test('an activity longer than the lease', async (t) => {
  let runs = 0;
  // 2.5 lease lengths: the item outlives its first lease twice
  const slow = async (_ctx) => {
    runs++;
    await sleep(2500);
    return 'ok';
  };
  const orch = async function* (ctx) {
    return yield ctx.callActivity(slow);
  };
  const { srv, client } = await open(t, { name: 'leases',
    nginx: { workers: 1, lease: '1s' },
    register: (w) => {
      w.addOrchestrator(orch);
      w.addActivity(slow);
    } });

  const id = await client.scheduleNewOrchestration(orch);
  const st = await finished(client, id, 30);
  assert.strictEqual(st.runtimeStatus, OrchestrationStatus.COMPLETED);
  assert.strictEqual(output(st), 'ok');
  assert.strictEqual(runs, 1, 'the activity ran once');

  // a lease for each claim, and one for each renewal: every third of
  // the lease over 2.5 s makes about seven, so at least five
  const claims = await srv.metric('durable_claims_total');
  const granted = await srv.metric('durable_leases_granted_total');
  assert.ok(granted >= claims + 5,
    `${granted} leases granted for ${claims} claims`);
});
