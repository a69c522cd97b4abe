// durable_task_list_max_bytes over gRPC: a QueryInstances or
// QueryEntities page takes no item that would carry it past the bound
// (or 3 MiB, under the 4 MiB gRPC clients take in a message by default),
// but its first, and ends with a continuation token, so large inputs or
// states cannot make one answer take page size times their size; paging
// through still yields every item once.

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

  await t.test('instances with large inputs: one a page', async () => {
    // scheduled for an hour from now: no worker touches them meanwhile
    const later = new Date(Date.now() + 3600 * 1000);
    for (const id of ids) {
      await client.scheduleNewOrchestration('Later', big(id[3]), id, later);
    }
    const [got, sizes] = await pages(client.getAllInstances(
      { instanceIdPrefix: 'pb-', fetchInputsAndOutputs: true }),
      (s) => s.instanceId);
    assert.deepStrictEqual(got, ids);
    // a second item would carry the page past 1k
    assert.deepStrictEqual(sizes, [1, 1, 1, 1, 1]);

    // without the inputs the items are small: one page
    const [few, one] = await pages(client.getAllInstances(
      { instanceIdPrefix: 'pb-' }), (s) => s.instanceId);
    assert.deepStrictEqual(few, ids);
    assert.deepStrictEqual(one, [5]);
  });

  await t.test('entities with large states: one a page', async () => {
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
    assert.deepStrictEqual(sizes, [1, 1, 1, 1, 1]);
  });
});

// With the default bound (8m) the 3 MiB cap applies: four inputs of about
// 1 MB make a page of three (a fourth would pass 3 MiB) and one of one,
// each under the 4 MiB a gRPC client takes by default
test('the 3 MiB cap of a query page', async (t) => {
  const { client } = await open(t, { name: 'page-cap', noWorker: true,
    nginx: { http: '    client_max_body_size  2m;' } });

  const ids = ['cap-1', 'cap-2', 'cap-3', 'cap-4'];
  const later = new Date(Date.now() + 3600 * 1000);
  for (const id of ids) {
    await client.scheduleNewOrchestration('Later', big(id[4]).repeat(1734),
      id, later);
  }
  const sizes = [];
  const got = [];
  for await (const page of client.getAllInstances({ instanceIdPrefix: 'cap-',
    fetchInputsAndOutputs: true }).asPages(undefined, 100)) {
    sizes.push(page.values.length);
    const bytes = page.values.reduce((a, s) => a + s.serializedInput.length,
      0);
    assert.ok(bytes < 3 * 1024 * 1024, `a page of ${bytes} bytes of inputs`);
    got.push(...page.values.map((s) => s.instanceId));
  }
  assert.deepStrictEqual(got, ids);
  assert.deepStrictEqual(sizes, [3, 1]);
});
