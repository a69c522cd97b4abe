// durable_task_list_max_bytes over gRPC: a QueryInstances or
// QueryEntities page ends, with a continuation token, once its items
// reach the bound (or 3 MiB, under the 4 MiB gRPC clients take in a
// message by default), so large inputs or states cannot make one answer
// take page size times their size; paging through still yields every
// item once.

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { EntityInstanceId, TaskEntity } = require('@microsoft/durabletask-js');
const { open, until } = require('../lib/app');

const big = (c) => c.repeat(600);

class Blob extends TaskEntity {
  initializeState() {
    return '';
  }

  set(s) {
    this.state = s;
  }
}

const blob = (k) => new EntityInstanceId('blob', k);

// the keys or ids of every item, and the page sizes
async function pages(pageable, key) {
  const got = [];
  const sizes = [];
  for await (const page of pageable.asPages(undefined, 100)) {
    sizes.push(page.values.length);
    got.push(...page.values.map(key));
  }
  return [got, sizes];
}

test('pages end at durable_task_list_max_bytes', async (t) => {
  const { client } = await open(t, {
    name: 'page-bytes',
    nginx: { http: '    durable_task_list_max_bytes  1k;' },
    register: (w) => {
      w.addNamedEntity('blob', () => new Blob());
    },
  });

  const ids = ['pb-1', 'pb-2', 'pb-3', 'pb-4', 'pb-5'];

  await t.test('instances with large inputs: two a page', async () => {
    // scheduled for an hour from now: no worker touches them meanwhile
    const later = new Date(Date.now() + 3600 * 1000);
    for (const id of ids) {
      await client.scheduleNewOrchestration('Later', big(id[3]), id, later);
    }
    const [got, sizes] = await pages(client.getAllInstances(
      { instanceIdPrefix: 'pb-', fetchInputsAndOutputs: true }),
      (s) => s.instanceId);
    assert.deepStrictEqual(got, ids);
    assert.deepStrictEqual(sizes, [2, 2, 1]);

    // without the inputs the items are small: one page
    const [few, one] = await pages(client.getAllInstances(
      { instanceIdPrefix: 'pb-' }), (s) => s.instanceId);
    assert.deepStrictEqual(few, ids);
    assert.deepStrictEqual(one, [5]);
  });

  await t.test('entities with large states: two a page', async () => {
    const keys = ['e1', 'e2', 'e3', 'e4', 'e5'];
    for (const k of keys) {
      await client.signalEntity(blob(k), 'set', big(k[1]));
    }
    await until('five states', async () => {
      for (const k of keys) {
        const m = await client.getEntity(blob(k), true);
        if (!m || !m.includesState || m.state !== big(k[1])) {
          return false;
        }
      }
      return true;
    });
    const [got, sizes] = await pages(client.getEntities(
      { instanceIdStartsWith: '@blob@', includeState: true }),
      (e) => e.id.key);
    assert.deepStrictEqual(got, keys);
    assert.deepStrictEqual(sizes, [2, 2, 1]);
  });
});
