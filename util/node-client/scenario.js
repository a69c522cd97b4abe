// The instance-management scenario every client major runs, once per
// binding form (webhook URLs with a key, local RPC without one).
//
// check-v<major>.js wraps its client in a small adapter (`api`) so the
// scenario reads the same for every major:
//
//   api.major                      1, 2 or 3
//   api.client                     the durable-functions client object
//   api.startNew(name, id, input)  -> instance id
//   api.getStatus(id, {showHistory, showHistoryOutput, showInput})
//   api.getStatusAll()
//   api.getStatusBy(from, to, statuses)
//   api.raiseEvent(id, event, data)
//   api.terminate(id, reason), api.rewind(id, reason)
//   api.suspend(id, reason), api.resume(id, reason)   (undefined before 3.x)
//   api.purgeInstanceHistory(id)
//   api.purgeInstanceHistoryBy(from, to, statuses)
//   api.createCheckStatusResponse(request, id)        -> normalized response
//   api.waitFor(request, id, timeoutMs, retryMs)      -> normalized response
//   api.createHttpManagementPayload(id)
//   api.httpRequest(url)           an HTTP-trigger request object for the major
//   api.signalEntity(...), api.readEntityState(...)   see entities.js
//
// "normalized response" = { status, headers (lower-case names), body (JSON) }.
//
// runWrongKey(r, bad, good) checks that a client whose binding data carries
// a wrong key is refused and changes nothing.
//
// A step marked `known` documents a divergence that is not the module's
// (a client bug, or the reference behaves the same): it prints KNOWN and
// does not fail the run.
//
// Instances never complete (no worker protocol yet): Pending, Suspended and
// Terminated are the reachable states.

"use strict";

const h = require("./helpers");
const { assert } = h;

// Node clients 1.x-3.x treat a 404 of GET status differently: 1.x and 2.x
// return the (empty) body, 3.x throws.
async function expectMissingStatus(api, id) {
    if (api.major >= 3) {
        await h.rejects(() => api.getStatus(id), /404/, "getStatus(missing)");
    } else {
        const s = await api.getStatus(id);
        assert.ok(!s, `getStatus(missing) should be falsy, got ${JSON.stringify(s)}`);
    }
}

function assertStatus(s, want) {
    assert.ok(s && typeof s === "object", `status object expected, got ${JSON.stringify(s)}`);
    for (const [k, v] of Object.entries(want)) {
        assert.deepStrictEqual(s[k], v, `status.${k}`);
    }
    for (const k of ["createdTime", "lastUpdatedTime"]) {
        const t = new Date(s[k]);
        assert.ok(!isNaN(t.getTime()), `status.${k} is a date: ${s[k]}`);
    }
}

function ids(list) {
    assert.ok(Array.isArray(list), `array expected, got ${JSON.stringify(list)}`);
    return list.map((s) => s.instanceId);
}

function assertIncludes(list, want, what) {
    const have = new Set(ids(list));
    for (const id of want) {
        assert.ok(have.has(id), `${what}: ${JSON.stringify(id)} missing (${have.size} listed)`);
    }
}

function assertExcludes(list, unwanted, what) {
    const have = new Set(ids(list));
    for (const id of unwanted) {
        assert.ok(!have.has(id), `${what}: ${JSON.stringify(id)} should not be listed`);
    }
}

// form: "webhook" (2.x prefix), "webhook-1x" (1.x prefix) or "rpc".
async function runScenario(r, api, form) {
    const tag = `nc${api.major}${form.replace(/[^a-z0-9]/g, "")}${h.runTag()}`;
    const rpc = form === "rpc";
    const t0 = new Date();
    const input = { city: "Tokyo", n: 1, nested: { list: [1, 2.5, "x"], flag: true } };
    const idA = `${tag}-a`;
    const idB = `${tag} b`;         // a space: the clients put ids in URLs unencoded
    const idC = `${tag}-c`;
    const missing = `${tag}-missing`;
    const pages = [];
    let idAuto;

    const step = (name, fn, known) => r.check(`[${form}] ${name}`, fn, known);

    // ----- start -----------------------------------------------------------
    await step("startNew without id, with input", async () => {
        idAuto = await api.startNew("Hello", undefined, input);
        assert.match(String(idAuto), /^[0-9a-f]{32}$/, "generated id");
    });

    await step("startNew with id and input: id round-trips", async () => {
        assert.strictEqual(await api.startNew("Hello", idA, input), idA);
    });

    await step("startNew with an id containing a space", async () => {
        assert.strictEqual(await api.startNew("Hello", idB, { who: "b" }), idB);
    });

    await step("startNew without input", async () => {
        assert.strictEqual(await api.startNew("Hello", idC), idC);
    });

    await step("startNew on an active id is rejected (409)", async () => {
        await h.rejects(() => api.startNew("Hello", idA, input), /409/, "startNew(active id)");
    });

    // ----- status ----------------------------------------------------------
    await step("getStatus: Pending, name, input", async () => {
        assertStatus(await api.getStatus(idA),
                     { name: "Hello", instanceId: idA, runtimeStatus: "Pending",
                       input, output: null, customStatus: null });
        assertStatus(await api.getStatus(idAuto),
                     { instanceId: idAuto, runtimeStatus: "Pending", input });
        assertStatus(await api.getStatus(idB),
                     { instanceId: idB, runtimeStatus: "Pending", input: { who: "b" } });
    });

    // startNew(name, id) posts JSON.stringify(undefined) ?? "": axios 0.21
    // (client 1.x) sends an empty body (null input), axios >= 1 (clients 2.x,
    // 3.x) JSON-encodes the empty string and sends `""`, a valid JSON string
    // that the module (like the reference) stores as the input.
    await step("getStatus: an instance started without input has input null", async () => {
        assertStatus(await api.getStatus(idC),
                     { instanceId: idC, runtimeStatus: "Pending", input: null });
    }, api.major >= 2
        ? "client 2.x/3.x send the body '\"\"' (axios >= 1 JSON-encodes \"\"): input is the empty string, as with the reference"
        : undefined);

    await step("getStatus with showHistory, showHistoryOutput, showInput=false", async () => {
        const s = await api.getStatus(idA, { showHistory: true, showHistoryOutput: true,
                                             showInput: false });
        // All three majors send showInput only when it is truthy in the RPC
        // form (`if (options.showInput)`), so there the input still comes back.
        assertStatus(s, { instanceId: idA, runtimeStatus: "Pending",
                          input: rpc ? input : null });
        if (s.historyEvents !== undefined) {
            assert.ok(Array.isArray(s.historyEvents), "historyEvents is an array");
        }
    });

    await step("getStatus of a missing id", async () => {
        await expectMissingStatus(api, missing);
    });

    // ----- events ----------------------------------------------------------
    await step("raiseEvent with data, and without data", async () => {
        await api.raiseEvent(idA, "Approval", { approved: true, by: "node" });
        await api.raiseEvent(idA, "Ping", undefined);
        await api.raiseEvent(idB, "Approval", "a string payload");
    });

    await step("raiseEvent to a missing id is rejected", async () => {
        await h.rejects(() => api.raiseEvent(missing, "Approval", {}),
                        /No instance with ID/, "raiseEvent(missing)");
    });

    // ----- suspend / resume (3.x) -----------------------------------------
    if (api.suspend) {
        await step("suspend, suspend again, resume, resume again", async () => {
            await api.suspend(idB, "pause please");
            assertStatus(await api.getStatus(idB), { runtimeStatus: "Suspended" });
            await api.suspend(idB, "again");
            assertStatus(await api.getStatus(idB), { runtimeStatus: "Suspended" });
            await api.raiseEvent(idB, "WhileSuspended", 7);
            await api.resume(idB, "go on");
            assertStatus(await api.getStatus(idB), { runtimeStatus: "Pending" });
            await api.resume(idB, "again");
            assertStatus(await api.getStatus(idB), { runtimeStatus: "Pending" });
        });

        await step("suspend / resume of a missing id are rejected", async () => {
            await h.rejects(() => api.suspend(missing, "x"), /No instance with ID/, "suspend(missing)");
            await h.rejects(() => api.resume(missing, "x"), /No instance with ID/, "resume(missing)");
        });
    }

    // ----- lists -----------------------------------------------------------
    await step("getStatusAll lists the new instances", async () => {
        assertIncludes(await api.getStatusAll(), [idAuto, idA, idB, idC], "getStatusAll");
    });

    await step("getStatusBy: time window and status filters", async () => {
        const from = h.secondsBefore(t0);
        const to = new Date(Date.now() + 1000);
        const pending = await api.getStatusBy(from, to, ["Pending"]);
        assertIncludes(pending, [idAuto, idA, idB, idC], "getStatusBy(Pending)");
        assert.ok(pending.every((s) => s.runtimeStatus === "Pending"), "only Pending listed");

        const both = await api.getStatusBy(from, to, ["Pending", "Terminated"]);
        assertIncludes(both, [idAuto, idA, idB, idC], "getStatusBy(Pending,Terminated)");

        const none = await api.getStatusBy(from, to, ["Completed"]);
        assertExcludes(none, [idAuto, idA, idB, idC], "getStatusBy(Completed)");

        const future = await api.getStatusBy(new Date(Date.now() + 3600e3),
                                             new Date(Date.now() + 7200e3), undefined);
        assert.deepStrictEqual(future, [], "a window in the future lists nothing");
    });

    await step("getStatusAll follows x-ms-continuation-token over 100+ instances", async () => {
        for (let i = 0; i < 105; i++) {
            const id = `${tag}-p${String(i).padStart(3, "0")}`;
            pages.push(await api.startNew("Pager", id, i));
        }
        r.recorder.since();
        const all = await api.getStatusAll();
        const exchanges = r.recorder.since();
        assertIncludes(all, pages, "getStatusAll after paging");
        const listed = ids(all);
        assert.strictEqual(new Set(listed).size, listed.length, "no instance listed twice");
        const continued = exchanges.filter((e) => e.headers["x-ms-continuation-token"]);
        assert.ok(continued.length >= 1,
                  `expected the client to send a continuation token (${exchanges.length} requests)`);
        // the last page must not carry a token, or the client loops forever
        const last = exchanges[exchanges.length - 1];
        assert.ok(!last.resHeaders["x-ms-continuation-token"], "last page carries no token");
    });

    // ----- terminate -------------------------------------------------------
    await step("terminate with a text reason: Terminated, output = reason", async () => {
        await api.terminate(idA, "stopped by node");
        assertStatus(await api.getStatus(idA), { instanceId: idA, runtimeStatus: "Terminated",
                                                 output: "stopped by node", input });
    });

    // 1.x/2.x return the payload as sent (historyEvents); 3.x copies only
    // `history` from it into DurableOrchestrationStatus, a key neither the
    // reference nor the module sends, so 3.x callers never see history.
    await step("getStatus(showHistory) after terminate: an ExecutionTerminated event", async () => {
        const s = await api.getStatus(idA, { showHistory: true });
        const events = s.historyEvents !== undefined ? s.historyEvents : s.history;
        assert.ok(Array.isArray(events), "history present after terminate");
        assert.ok(events.some((e) => e.EventType === "ExecutionTerminated"),
                  "an ExecutionTerminated event");
    }, api.major >= 3
        ? "client 3.x bug: DurableOrchestrationStatus reads init.history, the payload key is historyEvents (reference alike)"
        : undefined);

    await step("terminate with a JSON reason: output is the JSON", async () => {
        await api.terminate(idC, '{"code":42}');
        assertStatus(await api.getStatus(idC), { runtimeStatus: "Terminated", output: { code: 42 } });
    });

    // The clients paste the reason into the query verbatim. A lone '%' stays
    // a '%' on the wire (new URL() and axios leave it alone); the reference
    // decodes with WebUtility.UrlDecode, which keeps an invalid escape as
    // literal text.
    await step("terminate with a reason containing a literal '%'", async () => {
        const id = `${tag}-pct`;
        await api.startNew("Hello", id, 1);
        try {
            await api.terminate(id, "50% done");
            assertStatus(await api.getStatus(id), { runtimeStatus: "Terminated", output: "50% done" });
        } finally {
            await api.terminate(id, "cleanup").catch(() => {});
        }
    });

    await step("terminate with a non-ASCII reason", async () => {
        const id = `${tag}-utf8`;
        await api.startNew("Hello", id, 1);
        try {
            await api.terminate(id, "終了 ü");
            assertStatus(await api.getStatus(id), { runtimeStatus: "Terminated", output: "終了 ü" });
        } finally {
            await api.terminate(id, "cleanup").catch(() => {});
        }
    }, api.major === 1 && !rpc
        ? "client 1.x bug: axios 0.21 does not escape non-ASCII URLs; nothing reaches nginx"
        : undefined);

    await step("terminate / raiseEvent of a terminated instance resolve (410)", async () => {
        await api.terminate(idA, "again");
        await api.raiseEvent(idA, "Late", 1);
        assertStatus(await api.getStatus(idA), { runtimeStatus: "Terminated", output: "stopped by node" });
    });

    await step("terminate of a missing id is rejected", async () => {
        await h.rejects(() => api.terminate(missing, "x"), /No instance with ID/, "terminate(missing)");
    });

    await step("getStatusBy(Terminated) lists the terminated ones only", async () => {
        const list = await api.getStatusBy(h.secondsBefore(t0), new Date(Date.now() + 1000),
                                           ["Terminated"]);
        assertIncludes(list, [idA, idC], "getStatusBy(Terminated)");
        assertExcludes(list, [idB, idAuto], "getStatusBy(Terminated)");
    });

    // ----- rewind ----------------------------------------------------------
    await step("rewind of a Pending instance is rejected with a clear message", async () => {
        // 412 with a JSON string body: 3.x shows the body, 1.x/2.x a generic
        // "unexpected status code: 412" error that includes it.
        const err = await h.rejects(() => api.rewind(idB, "try"), null, "rewind(Pending)");
        assert.match(err.message, /Failed/, "message says only Failed instances can be rewound");
        if (api.major < 3) {
            assert.match(err.message, /412/);
        }
    });

    await step("rewind of a Terminated instance is rejected", async () => {
        const err = await h.rejects(() => api.rewind(idA, "try"), null, "rewind(Terminated)");
        // contract: 410, for which 1.x/2.x have a dedicated message and 3.x
        // only reports the status code; the newer reference answers 412 with
        // a message, which 3.x shows (and 1.x/2.x wrap in a generic error)
        assert.match(err.message, /only supported on failed|Failed|410/);
    });

    await step("rewind of a missing id is rejected", async () => {
        await h.rejects(() => api.rewind(missing, "try"), /No instance with ID|404/, "rewind(missing)");
    });

    // ----- check-status responses -------------------------------------------
    const triggerUrl = `${h.BASE}/api/HttpStart`;

    await step("createHttpManagementPayload: URLs for the id, usable as they are", async () => {
        const p = api.createHttpManagementPayload(idB);
        assert.strictEqual(p.id, idB);
        for (const k of ["statusQueryGetUri", "sendEventPostUri", "terminatePostUri",
                         "rewindPostUri", "purgeHistoryDeleteUri"]) {
            assert.ok(typeof p[k] === "string" && p[k].startsWith(h.BASE), `${k}: ${p[k]}`);
            assert.ok(p[k].includes(`/instances/${idB}`), `${k} names the id`);
        }
        const res = await h.fetchUrl(api.client, "GET", p.statusQueryGetUri);
        assert.strictEqual(res.status, 202, "status URL answers 202 for a Pending instance");
        assert.strictEqual(res.data.instanceId, idB);
    });

    await step("createCheckStatusResponse: 202, Location, payload", async () => {
        const res = await api.createCheckStatusResponse(api.httpRequest(triggerUrl), idB);
        assert.strictEqual(res.status, 202);
        assert.strictEqual(res.headers.location, res.body.statusQueryGetUri);
        assert.strictEqual(res.body.id, idB);
        const st = await h.fetchUrl(api.client, "GET", res.headers.location);
        assert.strictEqual(st.status, 202);
        assert.strictEqual(st.data.runtimeStatus, "Pending");
    });

    await step("waitForCompletionOrCreateCheckStatusResponse: Pending -> 202 after the timeout",
               async () => {
        const t = Date.now();
        const res = await api.waitFor(api.httpRequest(triggerUrl), idB, 1200, 400);
        assert.ok(Date.now() - t >= 1000, "the client waited");
        assert.strictEqual(res.status, 202);
        assert.strictEqual(res.body.id, idB);
        assert.ok(res.headers.location.includes(`/instances/${idB}`), "Location");
    });

    await step("waitForCompletionOrCreateCheckStatusResponse: Terminated -> 200 status", async () => {
        const res = await api.waitFor(api.httpRequest(triggerUrl), idA, 1200, 400);
        assert.strictEqual(res.status, 200);
        assert.strictEqual(res.body.runtimeStatus, "Terminated");
        assert.strictEqual(res.body.instanceId, idA);
    });

    // restart is not a client method in any major; follow restartPostUri of
    // the host's payload, as a caller of the check-status URLs would.
    const restartUri = api.createHttpManagementPayload(idA).restartPostUri;
    if (restartUri) {
        await step("POST restartPostUri of a terminated instance: a new instance", async () => {
            const res = await h.fetchUrl(api.client, "POST", restartUri);
            assert.strictEqual(res.status, 202);
            assert.match(res.data.id, /^[0-9a-f]{32}$/);
            const s = await api.getStatus(res.data.id);
            assertStatus(s, { name: "Hello", runtimeStatus: "Pending", input });
            await api.terminate(res.data.id, "restarted one");
        });
    }

    // ----- purge -----------------------------------------------------------
    await step("purgeInstanceHistory of a Pending instance is refused (412)", async () => {
        await h.rejects(() => api.purgeInstanceHistory(idB), /412/, "purge(Pending)");
        assertStatus(await api.getStatus(idB), { runtimeStatus: "Pending" });
    });

    await step("purgeInstanceHistory of a terminated instance, then of a missing one", async () => {
        assert.deepStrictEqual({ ...(await api.purgeInstanceHistory(idA)) }, { instancesDeleted: 1 });
        await expectMissingStatus(api, idA);
        assert.deepStrictEqual({ ...(await api.purgeInstanceHistory(idA)) }, { instancesDeleted: 0 });
    });

    await step("startNew on a terminated id replaces the instance", async () => {
        assert.strictEqual(await api.startNew("Hello", idC, { again: true }), idC);
        assertStatus(await api.getStatus(idC),
                     { runtimeStatus: "Pending", input: { again: true }, output: null });
    });

    await step("purgeInstanceHistoryBy(Terminated) purges what was terminated", async () => {
        for (const id of [idAuto, idB, idC, ...pages]) {
            await api.terminate(id, "cleanup");
        }
        const from = h.secondsBefore(t0);
        const res = await api.purgeInstanceHistoryBy(from, new Date(Date.now() + 1000), ["Terminated"]);
        assert.ok(res.instancesDeleted >= 3 + pages.length,
                  `instancesDeleted ${res.instancesDeleted} >= ${3 + pages.length}`);
        for (const id of [idAuto, idB, idC]) {
            await expectMissingStatus(api, id);
        }
        const again = await api.purgeInstanceHistoryBy(from, new Date(Date.now() + 1000));
        assert.strictEqual(again.instancesDeleted, 0, "nothing left: 404 -> 0");
    });

    // ----- unusual ids -------------------------------------------------------
    // The clients paste ids into URLs verbatim (never encodeURIComponent).
    const oddIds = [
        ["a non-ASCII id", `${tag}-ü-日本`,
         // axios 0.21 (client 1.x) hands the raw path to http.request, which
         // throws ERR_UNESCAPED_CHARACTERS before anything is sent; the RPC
         // form goes through new URL() and is escaped.
         api.major === 1 && !rpc
             ? "client 1.x bug: axios 0.21 does not escape non-ASCII paths; nothing reaches nginx"
             : undefined],
        ["an id with '+'", `${tag}+plus`,
         // docs/http-api.md decodes '+' in path segments to a space, like the
         // newer reference (WebUtility.UrlDecode of the path): the module's
         // own check-status URLs form-encode spaces as '+'. The raw '+' the
         // client sends therefore means a space.
         "contract §1: '+' in a path is a space (newer reference alike); the client does not encode ids"],
    ];
    for (const [what, id, known] of oddIds) {
        await step(`${what} round-trips`, async () => {
            const got = await api.startNew("Hello", id, 1);
            try {
                assert.strictEqual(got, id, "startNew returns the id it was given");
                assertStatus(await api.getStatus(id), { instanceId: id, runtimeStatus: "Pending" });
            } finally {
                // clean up under whatever id the module used
                if (got) {
                    await api.terminate(got, "done").catch(() => {});
                }
            }
            assert.strictEqual((await api.purgeInstanceHistory(id)).instancesDeleted, 1);
        }, known);
    }
}

// A client whose binding data carries a wrong key (`bad`) must be refused,
// and must change nothing: checked through a client with the right key.
async function runWrongKey(r, bad, good) {
    const tag = `nc${good.major}key${h.runTag()}`;
    // one connection per request, so that a refused request cannot spoil
    // the next one on a kept-alive connection
    bad.client.axiosInstance.defaults.httpAgent = new (require("http").Agent)({ keepAlive: false });
    await r.check("[webhook] a wrong system key is rejected (401) and changes nothing", async () => {
        await h.rejects(() => bad.getStatusAll(), /401/, "getStatusAll(wrong key)");
        await h.rejects(() => bad.startNew("Hello", `${tag}-new`, 1), /401/, "startNew(wrong key)");
        await expectMissingStatus(good, `${tag}-new`);

        const id = await good.startNew("Hello", `${tag}-victim`, 1);
        await h.rejects(() => bad.terminate(id, "nope"), /401/, "terminate(wrong key)");
        assertStatus(await good.getStatus(id), { runtimeStatus: "Pending", output: null });
        await good.terminate(id, "cleanup");
        await h.rejects(() => bad.purgeInstanceHistory(id), /401/, "purge(wrong key)");
        assertStatus(await good.getStatus(id), { runtimeStatus: "Terminated" });
        await good.purgeInstanceHistory(id);
    });
}

module.exports = { runScenario, runWrongKey };
