// A worker process that takes work and never finishes it, for a test to
// SIGKILL in the middle of a work item (test/workers.test.js):
//
//   node stuck-worker.js ADDRESS
//
// It registers the orchestrator "relay" and the activity "step" under the
// names the test's own worker uses, prints "started orchestration ID" or
// "started activity INPUT" when it holds an item, and then hangs.

'use strict';

const { TaskHubGrpcWorker, NoOpLogger } =
  require('@microsoft/durabletask-js');

const never = new Promise(() => {});

async function* relay(ctx, input) {
  if (input.stuckIn === 'orchestration') {
    process.stdout.write(`started orchestration ${ctx.instanceId}\n`);
    await never;
  }
  return yield ctx.callActivity('step', input.key);
}

async function step(ctx, key) {
  process.stdout.write(`started activity ${key}\n`);
  await never;
}

const worker = new TaskHubGrpcWorker({ hostAddress: process.argv[2],
  logger: new NoOpLogger() });
worker.addOrchestrator(relay);
worker.addNamedActivity('step', step);
worker.start().then(() => process.stdout.write('ready\n'));
