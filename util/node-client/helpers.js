// Shared helpers for the durable-functions Node client checks.
//
// The checks drive the official `durable-functions` npm client (majors 1, 2
// and 3, unmodified) against a running ngx_durable. run.sh installs the
// packages under build/node-check/v<major>, starts nginx with nginx.conf.in
// and runs check-v1.js, check-v2.js and check-v3.js. Each check script can
// also run alone against an nginx you started yourself:
//
//   DURABLE_BASE=http://127.0.0.1:18080 node util/node-client/check-v3.js
//
// Environment:
//   DURABLE_BASE     origin of the nginx under test (http://127.0.0.1:18080)
//   DURABLE_KEY      system key of the keyed webhook location (mysystemkey123)
//   DURABLE_WORKER_KEY  worker key of that location (myworkerkey123), for
//                    the check's own entity worker (entities.js)
//   NODE_CHECK_DIR   where v1/, v2/, v3/ were installed (build/node-check)
//   VERBOSE=1        print every HTTP exchange, not only those of failures
//
// Plain CommonJS, no test framework: check() records pass/fail, and a
// failure prints the HTTP exchanges the client made during that check.

"use strict";

const assert = require("assert");
const path = require("path");

const REPO = path.resolve(__dirname, "..", "..");
const BASE = (process.env.DURABLE_BASE || "http://127.0.0.1:18080").replace(/\/+$/, "");
const KEY = process.env.DURABLE_KEY || "mysystemkey123";
const WORKER_KEY = process.env.DURABLE_WORKER_KEY || "myworkerkey123";
const CHECK_DIR = process.env.NODE_CHECK_DIR || path.join(REPO, "build", "node-check");
const VERBOSE = !!process.env.VERBOSE;

// The task hub of the pretend app: nginx.conf.in makes it the default hub
// (durable_task_hub), as host.json's hubName is the host's default. The
// host's creation URLs (createNewInstancePostUri) carry no taskHub, so a
// binding naming another hub would start instances in the default one and
// then look for them in its own.
const HUB = process.env.DURABLE_HUB || "NodeCheckHub";

// The Functions host sets WEBSITE_HOSTNAME. Without it (or with 0.0.0.0 in
// it) getClient() rewrites every binding URL to http://localhost:7071 (the
// Core Tools default), which would send the clients somewhere else.
process.env.WEBSITE_HOSTNAME = new URL(BASE).host;

// The two webhook families of the Functions host (docs/http-api.md).
const PREFIX_V2 = "/runtime/webhooks/durabletask";
const PREFIX_V1 = "/admin/extensions/DurableTaskExtension";

// require() a package from build/node-check/v<major>/node_modules.
function requireFrom(major, name) {
    const dir = path.join(CHECK_DIR, "v" + major, "node_modules", name);
    try {
        return require(dir);
    } catch (e) {
        console.error(`cannot load ${dir}: run util/node-client/run.sh, ` +
                      `or npm install --prefix ${path.join(CHECK_DIR, "v" + major)} ` +
                      `durable-functions@${major}`);
        throw e;
    }
}

function packageVersion(major, name) {
    return requireFrom(major, name + "/package.json").version;
}

// ---------------------------------------------------------------------------
// Binding data, as the Durable Task extension hands it to an out-of-process
// client function (OrchestrationClientInputData). Built exactly like
// HttpApiHandler.GetInstanceCreationLinks / GetClientResponseLinks(null,
// "INSTANCEID", ...): the notification URL is {origin}{prefix}?code={key},
// creation URLs carry only the webhook query, management URLs carry
// taskHub, connection (the default name "Storage") and the webhook query.
//
// opts.prefix      webhook base path (PREFIX_V2 default, PREFIX_V1 for the
//                  1.x host)
// opts.extension1  1.x extension: managementUrls without the restart,
//                  suspend and resume templates
// opts.key         the system key in code= (KEY)
// opts.rpc         add rpcBaseUrl (the host's keyless local RPC endpoint,
//                  here the /durabletask/ mount); newer clients prefer it
// ---------------------------------------------------------------------------
function bindingData(taskHubName, opts = {}) {
    const prefix = opts.prefix || PREFIX_V2;
    const baseUrl = BASE + prefix;
    const webhookQuery = "code=" + (opts.key || KEY);
    const q = `taskHub=${taskHubName}&connection=Storage&${webhookQuery}`;
    const inst = `${baseUrl}/instances/INSTANCEID`;

    const managementUrls = {
        id: "INSTANCEID",
        statusQueryGetUri: `${inst}?${q}`,
        sendEventPostUri: `${inst}/raiseEvent/{eventName}?${q}`,
        terminatePostUri: `${inst}/terminate?reason={text}&${q}`,
        rewindPostUri: `${inst}/rewind?reason={text}&${q}`,
        purgeHistoryDeleteUri: `${inst}?${q}`,
    };
    if (!opts.extension1) {
        managementUrls.restartPostUri = `${inst}/restart?${q}`;
        managementUrls.suspendPostUri = `${inst}/suspend?reason={text}&${q}`;
        managementUrls.resumePostUri = `${inst}/resume?reason={text}&${q}`;
    }

    const data = {
        taskHubName,
        creationUrls: {
            createNewInstancePostUri:
                `${baseUrl}/orchestrators/{functionName}[/{instanceId}]?${webhookQuery}`,
            createAndWaitOnNewInstancePostUri:
                `${baseUrl}/orchestrators/{functionName}[/{instanceId}]` +
                `?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${webhookQuery}`,
        },
        managementUrls,
        baseUrl,
        requiredQueryStringParameters: webhookQuery,
    };
    if (opts.rpc) {
        data.rpcBaseUrl = BASE + "/durabletask/";
    }
    return data;
}

// ---------------------------------------------------------------------------
// HTTP recording: every client keeps its axios instance in
// client.axiosInstance; interceptors record each request and answer.
// ---------------------------------------------------------------------------
class Recorder {
    constructor() {
        this.all = [];
        this.mark = 0;
    }

    attach(axiosInstance) {
        axiosInstance.interceptors.request.use((config) => {
            const entry = {
                method: (config.method || "get").toUpperCase(),
                url: config.url,
                headers: pickHeaders(config.headers,
                                     ["content-type", "x-ms-continuation-token", "x-functions-key"],
                                     config.method),
                body: config.data,
            };
            this.all.push(entry);
            config.__nodeCheckEntry = entry;
            return config;
        });
        axiosInstance.interceptors.response.use((response) => {
            const entry = response.config && response.config.__nodeCheckEntry;
            if (entry) {
                entry.status = response.status;
                entry.resHeaders = pickHeaders(response.headers,
                                               ["content-type", "location", "retry-after",
                                                "x-ms-continuation-token"]);
                entry.resBody = response.data;
            }
            return response;
        }, (error) => {
            const entry = error.config && error.config.__nodeCheckEntry;
            if (entry) {
                entry.error = String(error && error.message);
            }
            return Promise.reject(error);
        });
        return axiosInstance;
    }

    // Exchanges since the last call of since(); used per check.
    since() {
        const out = this.all.slice(this.mark);
        this.mark = this.all.length;
        return out;
    }
}

// Header values from an axios request config or response, whatever the
// axios version (0.21 keeps per-method header objects, 1.x AxiosHeaders).
function pickHeaders(headers, names, method) {
    const out = {};
    if (!headers) {
        return out;
    }
    const flat = {};
    const plain = typeof headers.toJSON === "function" ? headers.toJSON() : headers;
    for (const [k, v] of Object.entries(plain)) {
        if (v !== null && typeof v === "object") {
            if (method && k.toLowerCase() === method.toLowerCase()) {
                for (const [k2, v2] of Object.entries(v)) {
                    flat[k2.toLowerCase()] = v2;
                }
            }
            continue;
        }
        flat[k.toLowerCase()] = v;
    }
    for (const n of names) {
        if (flat[n] !== undefined) {
            out[n] = flat[n];
        }
    }
    return out;
}

function formatExchange(e) {
    const lines = [`    ${e.method} ${e.url}`];
    if (Object.keys(e.headers).length) {
        lines.push(`      request headers: ${JSON.stringify(e.headers)}`);
    }
    if (e.body !== undefined && e.body !== "") {
        lines.push(`      request body: ${short(e.body)}`);
    }
    if (e.status !== undefined) {
        lines.push(`      -> ${e.status} ${JSON.stringify(e.resHeaders)} ${short(e.resBody)}`);
    } else if (e.error) {
        lines.push(`      -> error: ${e.error}`);
    }
    return lines.join("\n");
}

function short(v) {
    const s = typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v);
    if (s === undefined) {
        return "undefined";
    }
    return s.length > 400 ? s.slice(0, 400) + "..." : s;
}

// ---------------------------------------------------------------------------
// A tiny check runner.
// ---------------------------------------------------------------------------
class Runner {
    constructor(title) {
        this.title = title;
        this.recorder = new Recorder();
        this.passed = 0;
        this.failed = [];
        this.known = [];
        console.log(`# ${title}`);
    }

    // Runs fn(); a thrown error (assertion or client rejection) fails the
    // check and prints the HTTP exchanges made meanwhile. `known` marks a
    // divergence that is not the module's to fix (a client bug, or the
    // reference behaves the same): its failure prints KNOWN with the
    // reason and does not fail the run.
    async check(name, fn, known) {
        this.recorder.since();
        try {
            await fn();
            this.passed++;
            console.log(`ok     ${name}`);
            if (VERBOSE) {
                this.recorder.since().forEach((e) => console.log(formatExchange(e)));
            }
        } catch (err) {
            // a divergence is only "known" when nginx answered something
            if (known && !isNetworkError(err)) {
                this.known.push(name);
                console.log(`KNOWN  ${name}: ${String(err && err.message).split("\n")[0]}`);
                console.log(`    (${known})`);
                if (VERBOSE) {
                    this.recorder.since().forEach((e) => console.log(formatExchange(e)));
                }
                return;
            }
            this.failed.push(name);
            console.log(`FAIL   ${name}`);
            console.log(`    ${String(err && err.stack || err).split("\n").slice(0, 6).join("\n    ")}`);
            this.recorder.since().forEach((e) => console.log(formatExchange(e)));
        }
    }

    finish() {
        const total = this.passed + this.failed.length + this.known.length;
        console.log(`# ${this.title}: ${this.passed}/${total} passed` +
                    (this.known.length ? `, ${this.known.length} known divergences` : "") +
                    (this.failed.length ? `, failed: ${this.failed.join("; ")}` : ""));
        return this.failed.length === 0;
    }
}

function isNetworkError(err) {
    return !!err && ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE"].includes(err.code);
}

// Exits early (status 2) when nothing listens at BASE.
async function ensureServer() {
    const http = require("http");
    const ok = await new Promise((resolve) => {
        http.get(`${BASE}/durabletask/instances?top=1`, (res) => {
            res.resume();
            resolve(true);
        }).on("error", () => resolve(false));
    });
    if (!ok) {
        console.error(`nothing answers at ${BASE}: start nginx (util/node-client/run.sh does)`);
        process.exit(2);
    }
}

// ---------------------------------------------------------------------------
// Small utilities shared by the scenarios.
// ---------------------------------------------------------------------------

// A tag that keeps instance ids of different runs apart.
function runTag() {
    return Date.now().toString(36) + Math.floor(Math.random() * 1296).toString(36);
}

// Asserts that fn() rejects, and returns the rejection for further checks.
async function rejects(fn, pattern, what) {
    let err;
    try {
        await fn();
    } catch (e) {
        err = e;
    }
    assert.ok(err, `${what || "call"} should have been rejected`);
    if (pattern) {
        assert.match(String(err.message), pattern, `${what || "call"}: unexpected error message`);
    }
    return err;
}

// Module times have second precision: widen a window by one second on
// each side so "created between t0 and now" holds.
function secondsBefore(d, s = 1) {
    return new Date(d.getTime() - s * 1000);
}

function sleep(ms) {
    return new Promise((r) => setTimeout(r, ms));
}

// GET an absolute URL with the client's own axios instance (to follow a
// URL from a check-status payload as a caller would).
async function fetchUrl(client, method, url) {
    return client.axiosInstance.request({ method, url });
}

module.exports = {
    assert,
    BASE,
    KEY,
    WORKER_KEY,
    HUB,
    PREFIX_V1,
    PREFIX_V2,
    requireFrom,
    packageVersion,
    bindingData,
    Runner,
    ensureServer,
    runTag,
    rejects,
    secondsBefore,
    sleep,
    fetchUrl,
};
