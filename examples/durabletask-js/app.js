// An order desk on the Durable Task JavaScript SDK, run against the gRPC
// endpoint nginx serves (durable_task_grpc). One process is both the
// worker (orchestrations, activities, an entity) and the client that
// places one order and waits for it:
//
//   node app.js [--order ID]
//
// DURABLE_GRPC is the endpoint (default localhost:4001, what make run
// serves). Against a location with keys, DURABLE_SYSTEM_KEY and
// DURABLE_WORKER_KEY are sent as "authorization: Bearer KEY" through the
// SDK's metadata hook, and DURABLE_HUB names the task hub. The last line
// printed is "instanceId=ID", for make demo-grpc to read the order over
// the HTTP API.

'use strict';

const grpc = require('@grpc/grpc-js');
const { TaskHubGrpcClient, TaskHubGrpcWorker, OrchestrationStatus,
        EntityInstanceId, TaskEntity, RetryPolicy, whenAll, NoOpLogger } =
  require('@microsoft/durabletask-js');

const endpoint = process.env.DURABLE_GRPC || 'localhost:4001';

// ---- the entity: stock of one item (its key is the SKU)

class Inventory extends TaskEntity {
  initializeState() {
    return { stock: 0 };
  }

  restock(n) {
    this.state.stock += n;
    return this.state.stock;
  }

  // takes n if there are n; answers whether it did
  reserve(n) {
    if (this.state.stock < n) {
      return false;
    }
    this.state.stock -= n;
    return true;
  }

  get() {
    return this.state.stock;
  }
}

const inventory = (sku) => new EntityInstanceId('inventory', sku);

// ---- activities

const prices = { 'tea-sencha': 7.5, 'cup-clay': 12, 'pot-iron': 48 };

function priceLine(ctx, line) {
  return { sku: line.sku, amount: prices[line.sku] * line.qty };
}

// the payment gateway is busy on the first try of every order: the retry
// policy below takes care of it (a durable timer between the attempts)
const chargeAttempts = new Map();

function chargeCard(ctx, charge) {
  const n = (chargeAttempts.get(charge.orderId) || 0) + 1;
  chargeAttempts.set(charge.orderId, n);
  if (n === 1) {
    throw new Error('payment gateway busy, try again');
  }
  return { receipt: `rcpt-${charge.orderId}`, amount: charge.amount,
           attempts: n };
}

function bookCourier(ctx, orderId) {
  return `TRK-${orderId.toUpperCase()}`;
}

// ---- orchestrations

// a sub-orchestration: pack (a durable timer), then book the courier
async function* shipOrder(ctx, orderId) {
  ctx.setCustomStatus('packing');
  yield ctx.createTimer(1);
  return yield ctx.callActivity(bookCourier, orderId);
}

async function* placeOrder(ctx, order) {
  // reserve every line with its inventory entity (calls with answers)
  ctx.setCustomStatus('reserving');
  for (const line of order.lines) {
    const ok = yield ctx.entities.callEntity(inventory(line.sku), 'reserve',
      line.qty);
    if (!ok) {
      throw new Error(`not enough ${line.sku} in stock`);
    }
  }

  // price the lines in parallel (fan-out, fan-in)
  ctx.setCustomStatus('pricing');
  const priced = yield whenAll(order.lines.map(
    (line) => ctx.callActivity(priceLine, line)));
  const total = priced.reduce((sum, p) => sum + p.amount, 0);

  ctx.setCustomStatus('charging');
  const payment = yield ctx.callActivity(chargeCard,
    { orderId: order.id, amount: total },
    { retry: new RetryPolicy({ maxNumberOfAttempts: 3,
      firstRetryIntervalInMilliseconds: 500 }) });

  const tracking = yield ctx.callSubOrchestrator(shipOrder, order.id,
    { instanceId: `${ctx.instanceId}-ship` });

  ctx.setCustomStatus('done');
  return { order: order.id, total, receipt: payment.receipt,
           paymentAttempts: payment.attempts, tracking };
}

// ---- the client and the worker

function metadata(key) {
  if (!key && !process.env.DURABLE_HUB) {
    return undefined;
  }
  return async () => {
    const m = new grpc.Metadata();
    if (key) {
      m.set('authorization', `Bearer ${key}`);
    }
    if (process.env.DURABLE_HUB) {
      m.set('taskhub', process.env.DURABLE_HUB);
    }
    return m;
  };
}

async function main() {
  const i = process.argv.indexOf('--order');
  const orderId = i > 0 ? process.argv[i + 1] : `order-${Date.now()}`;
  const logger = new NoOpLogger();

  const client = new TaskHubGrpcClient({ hostAddress: endpoint, logger,
    metadataGenerator: metadata(process.env.DURABLE_SYSTEM_KEY) });
  // workItemFilters 'auto': the worker asks only for the work of the
  // functions registered below. Without it the SDK claims every work item
  // of the hub and fails what it does not have ("Orchestrator 'Hello'
  // does not exist."), other workers' instances too (make worker's).
  const worker = new TaskHubGrpcWorker({ hostAddress: endpoint, logger,
    metadataGenerator: metadata(process.env.DURABLE_WORKER_KEY),
    shutdownTimeoutMs: 2000, workItemFilters: 'auto' });

  worker.addOrchestrator(placeOrder);
  worker.addOrchestrator(shipOrder);
  worker.addActivity(priceLine);
  worker.addActivity(chargeCard);
  worker.addActivity(bookCourier);
  worker.addNamedEntity('inventory', () => new Inventory());
  await worker.start();
  console.log(`worker and client on ${endpoint}`);

  try {
    // stock the shelves: signals, run by this worker in order
    await client.signalEntity(inventory('tea-sencha'), 'restock', 10);
    await client.signalEntity(inventory('cup-clay'), 'restock', 4);

    const order = { id: orderId, lines: [{ sku: 'tea-sencha', qty: 3 },
                                         { sku: 'cup-clay', qty: 2 }] };
    const id = await client.scheduleNewOrchestration(placeOrder, order,
      orderId);
    console.log(`placed ${id}`);

    const st = await client.waitForOrchestrationCompletion(id, true, 60);
    if (!st) {
      throw new Error(`${id} did not finish in 60 s`);
    }
    console.log(`status: ${OrchestrationStatus[st.runtimeStatus]}`);
    if (st.runtimeStatus !== OrchestrationStatus.COMPLETED) {
      throw new Error(`${id}: ${JSON.stringify(st.failureDetails)}`);
    }
    console.log(`output: ${st.serializedOutput}`);

    const tea = await client.getEntity(inventory('tea-sencha'));
    console.log(`tea-sencha left: ${JSON.stringify(tea.state)}`);
    console.log(`instanceId=${id}`);
  } finally {
    await worker.stop();
    await client.stop();
  }
}

main().catch((e) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
