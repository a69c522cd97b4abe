// The entity scenario every client major runs, once per binding form
// (webhook URLs with a key, local RPC without one): the client's
// signalEntity and readEntityState against the module.
//
// Entity operations run in the worker protocol (docs/worker-protocol.md),
// so between signal and read the check is a tiny entity worker itself
// (EntityWorker): it claims the entity work items over HTTP, applies the
// operations of a counter and completes with the new state. Its exchanges
// are recorded with the client's.
//
// check-v<major>.js adds two members to its adapter (`api`, see scenario.js):
//
//   api.signalEntity(name, key, operation, input, taskHubName)
//                                  client.signalEntity(new df.EntityId(name,
//                                  key), operation, input), with taskHubName
//                                  and connectionName "Storage" when a hub
//                                  is given
//   api.readEntityState(name, key, taskHubName)
//                                  -> { entityExists, entityState }
//
// and gives runEntityScenario the binding data options of the form, from
// which the worker takes its base path and key.
//
// No client major has a method that lists entities; the list is checked by
// GETting B/entities/{name} with the client's own axios instance, as a
// caller following the API would.

"use strict";

const h = require("./helpers");
const { assert } = h;

// The entity the check's worker implements. The module lower-cases entity
// names (docs/http-api.md); the work items carry the lower-cased name.
const COUNTER = "counter";

// A second task hub, named by the client's taskHubName argument.
const OTHER_HUB = `${h.HUB}Other`;

// Applies the operations of an entity work item, in order, like an entity
// function of a counter: add (input: a number), set (input: any JSON),
// reset, get (no change), delete. Returns the completion body.
function applyCounter(item) {
    let state = item.state === undefined ? null : item.state;
    let deleted = false;
    for (const op of item.operations || []) {
        switch (op.operation) {
        case "add":
            state = (typeof state === "number" ? state : 0) + op.input;
            deleted = false;
            break;
        case "set":
            state = op.input;
            deleted = false;
            break;
        case "reset":
            state = 0;
            deleted = false;
            break;
        case "delete":
            state = null;
            deleted = true;
            break;
        default:            // get, and anything unknown: no change
            break;
        }
    }
    const body = { entity: item.entity, lease: item.lease };
    if (deleted && state === null) {
        body.delete = true;
    } else {
        body.state = state;
    }
    return body;
}

// The worker side of the form: claims and completes entity work items at
// B/worker/entities/... with its own axios instance (the client major's
// axios), recorded by r's recorder.
//   opts: the form's bindingData options: rpc -> the anonymous /durabletask/
//         mount without a key, else the webhook prefix with WORKER_KEY
//   hub:  the task hub it works for (HUB)
class EntityWorker {
    constructor(r, major, opts = {}, hub = h.HUB) {
        this.hub = hub;
        const axios = h.requireFrom(major, "axios");
        this.base = opts.rpc ? `${h.BASE}/durabletask` : h.BASE + (opts.prefix || h.PREFIX_V2);
        const headers = { "Content-Type": "application/json" };
        if (!opts.rpc) {
            headers["x-functions-key"] = h.WORKER_KEY;
        }
        this.http = r.recorder.attach(axios.create({ validateStatus: () => true, headers }));
    }

    async post(what, query, body) {
        const url = `${this.base}/worker/entities/${what}?taskHub=${this.hub}${query}`;
        return this.http.post(url, JSON.stringify(body || {}));
    }

    // Claims what is ready (waiting up to `wait` seconds for the first
    // item); returns the items.
    async claim(wait = 2) {
        const res = await this.post("claim", `&max=10&wait=${wait}`);
        assert.strictEqual(res.status, 200, `claim: ${res.status} ${JSON.stringify(res.data)}`);
        assert.ok(res.data && Array.isArray(res.data.items),
                  `claim answers {"items":[...]}, got ${JSON.stringify(res.data)}`);
        return res.data.items;
    }

    async complete(body) {
        const res = await this.post("complete", "", body);
        assert.strictEqual(res.status, 200,
                           `complete: ${res.status} ${JSON.stringify(res.data)}`);
        return res.data;
    }

    // One round: claims, applies applyCounter to every item (an item of
    // another entity, left over by a failed step, is completed as well,
    // so that it cannot block later claims) and completes each. Returns the
    // item of entity (name, key), asserting that there was one.
    async runOnce(name, key) {
        const items = await this.claim();
        let mine;
        for (const item of items) {
            await this.complete(applyCounter(item));
            if (item.entity && item.entity.name === name && item.entity.key === key) {
                assert.ok(!mine, `one item per entity and claim, got two for @${name}@${key}`);
                mine = item;
            }
        }
        assert.ok(mine, `an item for @${name}@${key} (claimed: ` +
                        `${JSON.stringify(items.map((i) => i.entity))})`);
        return mine;
    }
}

// The operations of an item without their timestamps, which must be dates.
function operations(item) {
    assert.ok(Array.isArray(item.operations), `item.operations: ${JSON.stringify(item)}`);
    return item.operations.map((op) => {
        assert.ok(!isNaN(new Date(op.timestamp).getTime()),
                  `operation timestamp is a date: ${op.timestamp}`);
        return { operation: op.operation, input: op.input };
    });
}

function assertState(res, exists, state) {
    assert.ok(res && typeof res === "object",
              `readEntityState: object expected, got ${JSON.stringify(res)}`);
    assert.strictEqual(res.entityExists, exists, "entityExists");
    assert.deepStrictEqual(res.entityState, state, "entityState");
}

// form: "webhook" (2.x prefix), "webhook-1x" (1.x prefix) or "rpc";
// opts: the bindingData options of the form (for the worker).
async function runEntityScenario(r, api, form, opts) {
    const tag = `nc${api.major}${form.replace(/[^a-z0-9]/g, "")}${h.runTag()}`;
    const worker = new EntityWorker(r, api.major, opts);
    const key = `${tag}-c1`;
    const odd = `${tag} Mixed`;       // a space and capitals: keys are case-sensitive
    const missing = `${tag}-missing`;

    const step = (name, fn, known) => r.check(`[${form}] ${name}`, fn, known);

    // ----- before any signal -----------------------------------------------
    await step("readEntityState of an entity never signalled: entityExists false", async () => {
        assertState(await api.readEntityState(COUNTER, missing), false, undefined);
    });

    // ----- signal, work, read ------------------------------------------------
    await step("signalEntity twice: no state until a worker ran the operations", async () => {
        await api.signalEntity(COUNTER, key, "add", 5);
        await api.signalEntity(COUNTER, key, "add", 2);
        // the entity exists from the first signal on, but has no state yet
        assertState(await api.readEntityState(COUNTER, key), false, undefined);
    });

    await step("the worker gets both operations in order, with JSON inputs", async () => {
        const item = await worker.runOnce(COUNTER, key);
        assert.deepStrictEqual(item.entity, { name: COUNTER, key }, "item.entity");
        assert.ok(item.state === undefined || item.state === null,
                  `no state before the first batch, got ${JSON.stringify(item.state)}`);
        assert.deepStrictEqual(operations(item), [{ operation: "add", input: 5 },
                                                  { operation: "add", input: 2 }]);
    });

    await step("readEntityState after the batch: entityExists true, the new state", async () => {
        assertState(await api.readEntityState(COUNTER, key), true, 7);
    });

    await step("signalEntity without input, get, add: inputs null, state applied in order",
               async () => {
        await api.signalEntity(COUNTER, key, "reset");
        await api.signalEntity(COUNTER, key, "get");
        await api.signalEntity(COUNTER, key, "add", 3);
        // queued operations do not change the stored state
        assertState(await api.readEntityState(COUNTER, key), true, 7);
        const item = await worker.runOnce(COUNTER, key);
        assert.strictEqual(item.state, 7, "the item carries the stored state");
        assert.deepStrictEqual(operations(item), [{ operation: "reset", input: null },
                                                  { operation: "get", input: null },
                                                  { operation: "add", input: 3 }]);
        assertState(await api.readEntityState(COUNTER, key), true, 3);
    });

    // ----- another task hub ----------------------------------------------------
    await step("signalEntity / readEntityState with a taskHubName: a separate hub", async () => {
        const other = new EntityWorker(r, api.major, opts, OTHER_HUB);
        await api.signalEntity(COUNTER, key, "add", 4, OTHER_HUB);
        const item = await other.runOnce(COUNTER, key);
        assert.ok(item.state === undefined || item.state === null,
                  `the other hub's entity has no state yet, got ${JSON.stringify(item.state)}`);
        assert.deepStrictEqual(operations(item), [{ operation: "add", input: 4 }]);
        assertState(await api.readEntityState(COUNTER, key, OTHER_HUB), true, 4);
        assertState(await api.readEntityState(COUNTER, key), true, 3);
        await api.signalEntity(COUNTER, key, "delete", undefined, OTHER_HUB);
        await other.runOnce(COUNTER, key);
        assertState(await api.readEntityState(COUNTER, key, OTHER_HUB), false, undefined);
        assert.deepStrictEqual(await worker.claim(0), [], "nothing queued in the default hub");
    });

    // ----- names, keys, JSON state ---------------------------------------------
    await step("entity names are case-insensitive, keys case-sensitive; JSON state", async () => {
        const input = { list: [1, 2.5, "x"], nested: { flag: true }, text: "終了 ü" };
        await api.signalEntity("Counter", odd, "set", input);
        const item = await worker.runOnce(COUNTER, odd);
        assert.deepStrictEqual(item.entity, { name: COUNTER, key: odd }, "name lower-cased");
        assert.deepStrictEqual(operations(item), [{ operation: "set", input }]);
        assertState(await api.readEntityState("COUNTER", odd), true, input);
        assertState(await api.readEntityState(COUNTER, odd), true, input);
        assertState(await api.readEntityState(COUNTER, odd.toLowerCase()), false, undefined);
    });

    await step("signalEntity with a string input: state is that string", async () => {
        await api.signalEntity(COUNTER, odd, "set", "just text");
        const item = await worker.runOnce(COUNTER, odd);
        assert.deepStrictEqual(operations(item), [{ operation: "set", input: "just text" }]);
        assertState(await api.readEntityState(COUNTER, odd), true, "just text");
    });

    // ----- list (no client method: the API itself) -----------------------------
    await step("GET B/entities/counter lists both entities with their state", async () => {
        const url = rpc(opts)
            ? `${h.BASE}/durabletask/entities/${COUNTER}?fetchState=true`
            : `${h.BASE}${opts.prefix || h.PREFIX_V2}/entities/${COUNTER}` +
              `?fetchState=true&taskHub=${h.HUB}&connection=Storage&code=${h.KEY}`;
        const res = await h.fetchUrl(api.client, "GET", url);
        assert.strictEqual(res.status, 200);
        assert.ok(Array.isArray(res.data), `an array, got ${JSON.stringify(res.data)}`);
        const byKey = new Map(res.data.map((e) => [e.entityId && e.entityId.key, e]));
        for (const [k, state] of [[key, 3], [odd, "just text"]]) {
            const e = byKey.get(k);
            assert.ok(e, `${JSON.stringify(k)} listed`);
            assert.deepStrictEqual(e.entityId, { name: COUNTER, key: k }, "entityId");
            assert.deepStrictEqual(e.state, state, "state");
            assert.ok(!isNaN(new Date(e.lastOperationTime).getTime()),
                      `lastOperationTime is a date: ${e.lastOperationTime}`);
        }
        assert.ok(!byKey.has(missing), "an entity never signalled is not listed");
    });

    // ----- delete --------------------------------------------------------------
    await step("signalEntity delete: the worker deletes, entityExists false", async () => {
        await api.signalEntity(COUNTER, key, "delete");
        const item = await worker.runOnce(COUNTER, key);
        assert.deepStrictEqual(operations(item), [{ operation: "delete", input: null }]);
        assertState(await api.readEntityState(COUNTER, key), false, undefined);
    });

    await step("a deleted entity can be signalled again: state starts over", async () => {
        await api.signalEntity(COUNTER, key, "add", 1);
        const item = await worker.runOnce(COUNTER, key);
        assert.ok(item.state === undefined || item.state === null,
                  `no state after delete, got ${JSON.stringify(item.state)}`);
        assertState(await api.readEntityState(COUNTER, key), true, 1);
    });

    await step("delete both; nothing left to claim", async () => {
        await api.signalEntity(COUNTER, key, "delete");
        await api.signalEntity(COUNTER, odd, "delete");
        // one item per entity, in one claim or two
        const seen = [];
        for (let round = 0; round < 2 && seen.length < 2; round++) {
            for (const item of await worker.claim(round ? 0 : 2)) {
                await worker.complete(applyCounter(item));
                seen.push(item.entity.key);
            }
        }
        assert.deepStrictEqual(seen.sort(), [key, odd].sort(), "both entities claimed");
        assertState(await api.readEntityState(COUNTER, key), false, undefined);
        assertState(await api.readEntityState(COUNTER, odd), false, undefined);
        assert.deepStrictEqual(await worker.claim(0), [], "no work left");
    });
}

function rpc(opts) {
    return !!(opts && opts.rpc);
}

// A client whose binding data carries a wrong key (`bad`) cannot signal or
// read entities, and queues nothing (the worker finds no item).
async function runEntityWrongKey(r, bad, good, opts) {
    const key = `nc${good.major}key${h.runTag()}`;
    const worker = new EntityWorker(r, good.major, opts);
    bad.client.axiosInstance.defaults.httpAgent = new (require("http").Agent)({ keepAlive: false });
    await r.check("[webhook] entity calls with a wrong system key are rejected (401)", async () => {
        await h.rejects(() => bad.signalEntity(COUNTER, key, "add", 1), /401/,
                        "signalEntity(wrong key)");
        await h.rejects(() => bad.readEntityState(COUNTER, key), /401/,
                        "readEntityState(wrong key)");
        const items = await worker.claim(0);
        for (const item of items) {
            await worker.complete(applyCounter(item));
        }
        assert.ok(!items.some((i) => i.entity && i.entity.key === key), "nothing was queued");
        assertState(await good.readEntityState(COUNTER, key), false, undefined);
    });
}

module.exports = { runEntityScenario, runEntityWrongKey, EntityWorker };
