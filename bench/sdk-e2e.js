// Scenario 11 of bench/bench.py: end-to-end hello-sequence orchestrations
// through the JavaScript Durable Task SDK against durable_task_grpc. One
// Node process is both the SDK's worker (the orchestration and its
// activity) and its client, which keeps a number of orchestrations in
// flight: each starter schedules one, waits for its completion, and
// schedules the next.
//
//   node sdk-e2e.js ADDRESS SECONDS WARMUP INFLIGHT
//
// Prints one JSON line: orchestrations completed per second over the
// measured seconds (those that completed after the warm-up), p50/p99 of
// their start-to-completion in ms, and counts. The SDK comes from
// t/grpc/node_modules (NODE_PATH).
//
// The worker runs with the SDK's defaults: TaskHubGrpcWorker 0.4.0 has
// no concurrency settings (its options are the endpoint, channel options,
// TLS, metadata, logger, shutdown timeout, versioning and work-item
// filters), sends no limits in GetWorkItems, and runs every item it gets
// at once; the server then hands out up to durable_task_worker_max_items
// (100) of each kind at a time. The measure needs nginx's
// keepalive_requests high (bench/nginx.conf.in): at the default 1000 the
// SDK's calls move to a new connection, and another process, every 1000
// calls.

'use strict';

const { TaskHubGrpcClient, TaskHubGrpcWorker, NoOpLogger } =
  require('@microsoft/durabletask-js');

const [address, seconds, warmup, inflight] = [process.argv[2],
  Number(process.argv[3] || 10), Number(process.argv[4] || 3),
  Number(process.argv[5] || 64)];

const cities = ['Tokyo', 'Seattle', 'London', 'Cairo', 'Lima'];

function sayHello(ctx, city) {
  return `Hello ${city}!`;
}

async function* helloSequence(ctx) {
  const out = [];
  for (const city of cities) {
    out.push(yield ctx.callActivity(sayHello, city));
  }
  return out;
}

async function main() {
  const logger = new NoOpLogger();
  const worker = new TaskHubGrpcWorker({ hostAddress: address, logger });
  worker.addOrchestrator(helloSequence);
  worker.addActivity(sayHello);
  await worker.start();

  const client = new TaskHubGrpcClient({ hostAddress: address, logger });
  const t0 = Date.now();
  const from = t0 + warmup * 1000;
  const until = from + seconds * 1000;
  const lat = [];
  let started = 0;
  let completed = 0;
  let errors = 0;
  let firstError = null;
  let sample = null;

  async function starter() {
    while (Date.now() < until) {
      const t = Date.now();
      try {
        const id = await client.scheduleNewOrchestration(helloSequence);
        started++;
        const st = await client.waitForOrchestrationCompletion(id, true, 60);
        const done = Date.now();
        if (!st || st.serializedOutput === undefined) {
          errors++;
          firstError = firstError || `no output: ${JSON.stringify(st)}`;
          continue;
        }
        if (done >= from && done <= until) {
          completed++;
          lat.push(done - t);
          sample = sample || st.serializedOutput;
        }
      } catch (e) {
        errors++;
        firstError = firstError || String(e && e.message ? e.message : e);
      }
    }
  }

  await Promise.all(Array.from({ length: inflight }, starter));
  await worker.stop();
  await client.stop();

  lat.sort((a, b) => a - b);
  const pick = (q) => (lat.length
    ? lat[Math.min(lat.length - 1, Math.floor(lat.length * q))] : 0);
  console.log(JSON.stringify({
    rps: completed / seconds,
    p50_ms: pick(0.5),
    p99_ms: pick(0.99),
    completed,
    started,
    errors,
    seconds,
    sample,
    firstError,
  }));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
