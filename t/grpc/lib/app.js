// An application for a feature test file: nginx of its own (lib/nginx.js),
// the JavaScript SDK's client, and its worker with what the file
// registers, all stopped when the test ends. Helpers to wait for an
// instance, read its output and call the HTTP API beside the gRPC port.

'use strict';

const { TaskHubGrpcClient, TaskHubGrpcWorker, NoOpLogger } =
  require('@microsoft/durabletask-js');
const nginx = require('./nginx');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// opts: name, nginx (more options for nginx.start), register(worker),
// worker (more options for the worker), noWorker (the client alone)
async function open(t, opts) {
  const srv = await nginx.start({ name: opts.name, ...(opts.nginx || {}) });
  const client = new TaskHubGrpcClient({ hostAddress: srv.address,
    logger: new NoOpLogger() });
  let worker = null;
  if (!opts.noWorker) {
    worker = new TaskHubGrpcWorker({ hostAddress: srv.address,
      logger: new NoOpLogger(), shutdownTimeoutMs: 2000,
      ...(opts.worker || {}) });
    opts.register(worker);
    await worker.start();
  }
  t.after(async () => {
    if (worker) {
      await worker.stop();
    }
    await client.stop();
    await srv.stop();
  });
  return { srv, client, worker };
}

// the instance once terminal, with its payloads; a wait that runs out
// (the SDK answers undefined or throws) fails with the status it had
async function finished(client, id, seconds = 20) {
  let st;
  try {
    st = await client.waitForOrchestrationCompletion(id, true, seconds);
  } catch (e) {
    const now = await client.getOrchestrationState(id, true);
    throw new Error(`${id} did not finish in ${seconds} s: `
      + `${e.message}; it is ${JSON.stringify(now)}`);
  }
  if (!st) {
    throw new Error(`${id} does not exist`);
  }
  return st;
}

function output(st) {
  return st.serializedOutput === undefined ? undefined
    : JSON.parse(st.serializedOutput);
}

// an HTTP API call: { status, body } with the body parsed when it is JSON
async function http(srv, path, init = {}) {
  const res = await fetch(`${srv.http}${path}`, init);
  const text = await res.text();
  let body = text;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch (e) {
    // not JSON: kept as text
  }
  return { status: res.status, headers: res.headers, body };
}

// poll cond() until it is true (generous: the machine may be slow)
async function until(what, cond, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) {
      return v;
    }
    if (Date.now() > end) {
      throw new Error(`waited ${ms} ms for ${what}`);
    }
    await sleep(100);
  }
}

module.exports = { open, finished, output, http, until, sleep };
