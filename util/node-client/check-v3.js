// durable-functions 3.x against ngx_durable, in the @azure/functions v4
// programming model. A client function declares `df.input.durableClient()`
// among its extraInputs; the host puts the binding data into
// context.extraInputs and df.getClient(context) (what df.app.client.http's
// wrapper calls) returns a DurableClient with options-object methods. URL
// construction is the same as in 1.x/2.x (DurableClient.js); 3.x adds
// suspend and resume, returns DurableOrchestrationStatus objects, throws on
// a 404 status, and shows the 412/404 bodies of rewind as the error message.
// signalEntity(entityId, operationName, operationContent, options) and
// readEntityState(entityId, options) build their URLs as 1.x/2.x do;
// there is no method that lists entities.
// Runs the webhook form and the local RPC form. See helpers.js for the
// environment.

"use strict";

const h = require("./helpers");
const { assert } = h;
const { runScenario, runWrongKey } = require("./scenario");
const { runEntityScenario, runEntityWrongKey } = require("./entities");

const df = h.requireFrom(3, "durable-functions");
const { InvocationContext, HttpRequest } = h.requireFrom(3, "@azure/functions");

// The invocation context the worker builds for an HTTP-triggered client
// function with a durableClient input, holding the host's binding data.
function clientFor(bindingData) {
    const clientInput = df.input.durableClient();
    const context = new InvocationContext({
        invocationId: "node-check",
        functionName: "HttpStart",
        options: {
            trigger: { type: "httpTrigger", name: "req", direction: "in" },
            extraInputs: [clientInput],
        },
    });
    context.extraInputs.set(clientInput, bindingData);
    return df.getClient(context);
}

// HttpResponse (a fetch Response underneath) -> { status, headers, body }
async function normalize(res) {
    const headers = {};
    res.headers.forEach((v, k) => {
        headers[k.toLowerCase()] = v;
    });
    const text = await res.text();
    return { status: res.status, headers, body: text ? JSON.parse(text) : undefined };
}

function adapter(client) {
    return {
        major: 3,
        client,
        startNew: (name, instanceId, input) => client.startNew(name, { instanceId, input }),
        getStatus: (id, o = {}) => client.getStatus(id, o),
        getStatusAll: () => client.getStatusAll(),
        getStatusBy: (createdTimeFrom, createdTimeTo, runtimeStatus) =>
            client.getStatusBy({ createdTimeFrom, createdTimeTo, runtimeStatus }),
        raiseEvent: (id, event, data) => client.raiseEvent(id, event, data),
        terminate: (id, reason) => client.terminate(id, reason),
        rewind: (id, reason) => client.rewind(id, reason),
        suspend: (id, reason) => client.suspend(id, reason),
        resume: (id, reason) => client.resume(id, reason),
        purgeInstanceHistory: (id) => client.purgeInstanceHistory(id),
        purgeInstanceHistoryBy: (createdTimeFrom, createdTimeTo, runtimeStatus) =>
            client.purgeInstanceHistoryBy({ createdTimeFrom, createdTimeTo, runtimeStatus }),
        createCheckStatusResponse: (req, id) => normalize(client.createCheckStatusResponse(req, id)),
        waitFor: async (req, id, timeoutInMilliseconds, retryIntervalInMilliseconds) =>
            normalize(await client.waitForCompletionOrCreateCheckStatusResponse(
                req, id, { timeoutInMilliseconds, retryIntervalInMilliseconds })),
        createHttpManagementPayload: (id) => client.createHttpManagementPayload(id),
        signalEntity: (name, key, op, input, taskHubName) =>
            client.signalEntity(new df.EntityId(name, key), op, input,
                                { taskHubName, connectionName: taskHubName && "Storage" }),
        readEntityState: (name, key, taskHubName) =>
            client.readEntityState(new df.EntityId(name, key),
                                   { taskHubName, connectionName: taskHubName && "Storage" }),
        httpRequest: (url) => new HttpRequest({ method: "POST", url }),
    };
}

async function main() {
    await h.ensureServer();
    const version = h.packageVersion(3, "durable-functions");
    const fversion = h.packageVersion(3, "@azure/functions");
    const r = new h.Runner(`durable-functions ${version} (@azure/functions ${fversion}) ` +
                           `against ${h.BASE}`);
    const forms = [["webhook", { prefix: h.PREFIX_V2 }], ["rpc", { rpc: true }]];
    for (const [form, opts] of forms) {
        const client = clientFor(h.bindingData(h.HUB, opts));
        r.recorder.attach(client.axiosInstance);
        await runScenario(r, adapter(client), form);
        await runEntityScenario(r, adapter(client), form, opts);

        // 3.x only: startNew({version}) appends version= to the URL (the
        // newer reference's orchestration versioning); the module ignores it
        await r.check(`[${form}] startNew with a version`, async () => {
            const id = `nc3${form}${h.runTag()}-ver`;
            assert.strictEqual(await client.startNew("Hello", { instanceId: id, input: 5,
                                                                version: "1.0" }), id);
            assert.strictEqual((await client.getStatus(id)).runtimeStatus, "Pending");
            await client.terminate(id, "done");
            assert.strictEqual((await client.purgeInstanceHistory(id)).instancesDeleted, 1);
        });
    }

    const bad = clientFor(h.bindingData(h.HUB, { key: "not-the-key-123" }));
    const good = clientFor(h.bindingData(h.HUB));
    r.recorder.attach(bad.axiosInstance);
    r.recorder.attach(good.axiosInstance);
    await runWrongKey(r, adapter(bad), adapter(good));
    await runEntityWrongKey(r, adapter(bad), adapter(good), {});
    return r.finish();
}

main().then((ok) => process.exit(ok ? 0 : 1), (e) => {
    console.error(e);
    process.exit(2);
});
