// A worker driven by hand, for what a test must see or change on the
// wire between the service and the worker: a GetWorkItems stream opened
// with lib/wire.js, each work item decoded with the SDK's generated
// messages and completed by a Complete*Task call made by hand. Tests that
// write the actions themselves use its parts: nextItem(), str() and
// completeActions().
// Orchestrations and entity batches are run by an SDK worker that is
// never started, through its public processOrchestratorRequest and
// processEntityBatchRequest (what the SDK's own loop runs them with);
// activities by a function of the test. Items are taken one at a time.

'use strict';

const pb = require('@microsoft/durabletask-js/dist/proto/orchestrator_service_pb');
const { StringValue } =
  require('google-protobuf/google/protobuf/wrappers_pb');
const { call, frame, stream } = require('./wire');

// the next work item that is not a ping, decoded; null after ms, or once
// the stream has ended
async function nextItem(s, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const m = await s.next(Math.max(end - Date.now(), 1));
    if (m === null) {
      return null;
    }
    const wi = pb.WorkItem.deserializeBinary(m);
    if (!wi.hasHealthping()) {
      return wi;
    }
  }
}

// executor: an SDK worker (TaskHubGrpcWorker) with what the items need
// registered, not started. opts: seen(wi) (each item as it came, before
// it is run), activity(req, input) (the result of an ActivityRequest
// given its input parsed, sent as JSON; what it throws is sent as the
// activity's failure),
// entity(req, result, send) (before an entity batch's result is sent:
// send(message) completes the batch with another EntityBatchResult
// first and gives the call's gRPC status). The answer: completions
// ([method, instance id, gRPC status] of each completion sent, in
// order), errors (what running an item threw) and stop().
// a google.protobuf.StringValue of s
function str(s) {
  const v = new StringValue();
  v.setValue(s);
  return v;
}

// CompleteOrchestratorTask of work item wi with actions, and a custom
// status when given: the call's answer (lib/wire.js's call())
function completeActions(address, wi, actions, customStatus) {
  const res = new pb.OrchestratorResponse();
  res.setInstanceid(wi.getOrchestratorrequest().getInstanceid());
  res.setActionsList(actions);
  res.setCompletiontoken(wi.getCompletiontoken());
  if (customStatus !== undefined) {
    res.setCustomstatus(str(customStatus));
  }
  return call(address, 'CompleteOrchestratorTask',
    { body: frame(Buffer.from(res.serializeBinary())) });
}

function handWorker(address, executor, opts = {}) {
  const s = stream(address, 'GetWorkItems',
    new pb.GetWorkItemsRequest().serializeBinary());
  const w = { completions: [], errors: [] };
  let stopping = false;
  let ended = false;
  s.ended().then(() => { ended = true; });

  const send = async (method, id, message) => {
    const res = await call(address, method,
      { body: frame(Buffer.from(message.serializeBinary())) });
    w.completions.push([method, id, res.grpcStatus]);
    return res.grpcStatus;
  };

  const run = async (wi) => {
    const token = wi.getCompletiontoken();
    if (wi.hasOrchestratorrequest()) {
      const req = wi.getOrchestratorrequest();
      const res = pb.OrchestratorResponse.deserializeBinary(
        await executor.processOrchestratorRequest(req.serializeBinary()));
      res.setCompletiontoken(token);
      await send('CompleteOrchestratorTask', req.getInstanceid(), res);

    } else if (wi.hasEntityrequest()) {
      const req = wi.getEntityrequest();
      const res = pb.EntityBatchResult.deserializeBinary(
        await executor.processEntityBatchRequest(req.serializeBinary()));
      res.setCompletiontoken(token);
      if (opts.entity) {
        await opts.entity(req, res, (m) => send('CompleteEntityTask',
          req.getInstanceid(), m));
      }
      await send('CompleteEntityTask', req.getInstanceid(), res);

    } else if (wi.hasActivityrequest() && opts.activity) {
      const req = wi.getActivityrequest();
      const res = new pb.ActivityResponse();
      res.setInstanceid(req.getOrchestrationinstance().getInstanceid());
      res.setTaskid(req.getTaskid());
      res.setCompletiontoken(token);
      try {
        const input = req.getInput();
        const out = await opts.activity(req,
          input === undefined ? undefined : JSON.parse(input.getValue()));
        if (out !== undefined) {
          const v = new StringValue();
          v.setValue(JSON.stringify(out));
          res.setResult(v);
        }
      } catch (e) {
        const f = new pb.TaskFailureDetails();
        f.setErrortype(e.name || 'Error');
        f.setErrormessage(String(e.message));
        res.setFailuredetails(f);
      }
      await send('CompleteActivityTask', res.getInstanceid(), res);

    } else {
      throw new Error(`a work item of kind ${wi.getRequestCase()} `
        + 'the test does not run');
    }
  };

  const loop = (async () => {
    while (!stopping) {
      const wi = await nextItem(s, 500);
      if (wi === null) {
        if (ended) {
          w.errors.push('the work-item stream ended');
          break;
        }
        continue;
      }
      try {
        if (opts.seen) {
          opts.seen(wi);
        }
        await run(wi);
      } catch (e) {
        w.errors.push(e.stack || String(e));
      }
    }
  })();

  // the stream cancelled, once the item being run is completed
  w.stop = async () => {
    stopping = true;
    await loop;
    s.cancel();
    await s.ended();
  };

  return w;
}

module.exports = { handWorker, nextItem, str, completeActions };
