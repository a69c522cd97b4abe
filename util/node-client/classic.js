// Client majors 1 and 2 (durable-functions 1.x and 2.x): the classic
// programming model. A client function gets the binding data in
// context.bindings and calls df.getClient(context), which returns a
// DurableOrchestrationClient with positional-argument methods. Both majors
// build requests with the same code (durableorchestrationclient.js):
//   * webhook form: the managementUrls / creationUrls templates, INSTANCEID,
//     {functionName}, [/{instanceId}], {eventName} and {text} replaced
//     verbatim; the key travels in code= inside the templates;
//   * rpc form (rpcBaseUrl present): URLs built relative to rpcBaseUrl,
//     no taskHub, connection or code unless a method is given them.
// Neither major has suspend, resume or restart. signalEntity(entityId,
// operationName, operationContent) and readEntityState(entityId) take a
// df.EntityId(name, key) and put name and key into the URL verbatim
// (entities/{name}/{key}); entities.js checks them.

"use strict";

const h = require("./helpers");
const { runScenario, runWrongKey } = require("./scenario");
const { runEntityScenario, runEntityWrongKey } = require("./entities");

function adapter(major, client, df) {
    // v1/v2 HTTP helpers return plain {status, headers, body}; body is an
    // object (check-status) or a JSON string (createHttpResponse).
    const normalize = (res) => {
        const headers = {};
        for (const [k, v] of Object.entries(res.headers || {})) {
            headers[k.toLowerCase()] = v;
        }
        const body = typeof res.body === "string" ? JSON.parse(res.body) : res.body;
        return { status: res.status, headers, body };
    };
    return {
        major,
        client,
        startNew: (name, id, input) => client.startNew(name, id, input),
        getStatus: (id, o = {}) => client.getStatus(id, o.showHistory, o.showHistoryOutput,
                                                    o.showInput),
        getStatusAll: () => client.getStatusAll(),
        getStatusBy: (from, to, statuses) => client.getStatusBy(from, to, statuses),
        raiseEvent: (id, event, data) => client.raiseEvent(id, event, data),
        terminate: (id, reason) => client.terminate(id, reason),
        rewind: (id, reason) => client.rewind(id, reason),
        suspend: undefined,
        resume: undefined,
        purgeInstanceHistory: (id) => client.purgeInstanceHistory(id),
        purgeInstanceHistoryBy: (from, to, statuses) =>
            client.purgeInstanceHistoryBy(from, to, statuses),
        createCheckStatusResponse: async (req, id) =>
            normalize(client.createCheckStatusResponse(req, id)),
        waitFor: async (req, id, timeout, retry) =>
            normalize(await client.waitForCompletionOrCreateCheckStatusResponse(req, id, timeout,
                                                                                retry)),
        createHttpManagementPayload: (id) => client.createHttpManagementPayload(id),
        signalEntity: (name, key, op, input, hub) =>
            client.signalEntity(new df.EntityId(name, key), op, input, hub, hub && "Storage"),
        readEntityState: (name, key, hub) =>
            client.readEntityState(new df.EntityId(name, key), hub, hub && "Storage"),
        // the HttpRequest of an HTTP-triggered client function
        httpRequest: (url) => ({ method: "POST", url, headers: {}, query: {}, params: {} }),
    };
}

// forms: [[name, bindingData options], ...]
async function main(major, forms) {
    await h.ensureServer();
    const df = h.requireFrom(major, "durable-functions");
    const version = h.packageVersion(major, "durable-functions");
    const r = new h.Runner(`durable-functions ${version} against ${h.BASE}`);

    // what the Functions host does: the binding value is in context.bindings
    // under the binding's name ("starter" in function.json)
    const clientFor = (opts) => {
        const client = df.getClient({ bindings: { starter: h.bindingData(h.HUB, opts) } });
        r.recorder.attach(client.axiosInstance);
        return client;
    };

    for (const [form, opts] of forms) {
        const api = adapter(major, clientFor(opts), df);
        await runScenario(r, api, form);
        await runEntityScenario(r, api, form, opts);
    }

    await runWrongKey(r, adapter(major, clientFor({ key: "not-the-key-123" }), df),
                      adapter(major, clientFor({}), df));
    await runEntityWrongKey(r, adapter(major, clientFor({ key: "not-the-key-123" }), df),
                            adapter(major, clientFor({}), df), {});
    return r.finish();
}

module.exports = { main };
