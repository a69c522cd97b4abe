#!/usr/bin/env python3
"""The ngx_durable example worker: a few classic Durable Functions samples.

    python3 worker.py --url http://127.0.0.1:8080/runtime/webhooks/durabletask

Orchestrators: Hello, HelloSequence, FanOutFanIn, Approval. Activities:
SayHello, GetWorkItems, ProcessItem. Entity: Counter. Start them over the
management API, e.g.

    B=localhost:8080/runtime/webhooks/durabletask
    curl -si -X POST $B/orchestrators/HelloSequence

Work for other functions (another app sharing the task hub) is abandoned,
never failed: a worker with those functions gets it.
"""

import argparse
import datetime
import logging
import signal
import sys

from durable_worker import Worker

# the functions of this app, by kind; main() registers them on a Worker
app = {"orchestrators": {}, "activities": {}, "entities": {}}


def _add(kind, fn):
    if not callable(fn):
        raise TypeError("@%s: %r is not a function" % (kind[:-1], fn))
    if fn.__name__ in app[kind]:
        raise ValueError("@%s: %r defined twice" % (kind[:-1], fn.__name__))
    app[kind][fn.__name__] = fn
    return fn


def orchestrator(fn):
    return _add("orchestrators", fn)


def activity(fn):
    return _add("activities", fn)


def entity(fn):
    return _add("entities", fn)


# ---- orchestrators: deterministic, everything comes through ctx ----------

CITIES = ["Tokyo", "Seattle", "London", "Paris", "Cairo"]


@orchestrator
def Hello(ctx):
    """One greeting: the input is a city, or {"city": ...}."""
    arg = ctx.get_input()
    city = arg.get("city") if isinstance(arg, dict) else arg
    return (yield ctx.call_activity("SayHello", city or "World"))


@orchestrator
def HelloSequence(ctx):
    """Five activities in a row; the output is the list of greetings."""
    greetings = []
    for city in CITIES:
        ctx.set_custom_status({"step": len(greetings), "city": city})
        greetings.append((yield ctx.call_activity("SayHello", city)))
    return greetings


@orchestrator
def FanOutFanIn(ctx):
    """Fan out one ProcessItem per work item, fan in: the sum."""
    items = yield ctx.call_activity("GetWorkItems", ctx.get_input())
    results = yield ctx.task_all(
        [ctx.call_activity("ProcessItem", item) for item in items])
    return sum(results)


@orchestrator
def Approval(ctx):
    """Wait for the external event "Approval" (true approves) at most
    input.timeout (or the input itself as a number) seconds, default 30."""
    arg = ctx.get_input()
    if isinstance(arg, dict):
        seconds = arg.get("timeout", 30)
    elif isinstance(arg, (int, float)) and not isinstance(arg, bool):
        seconds = arg
    else:
        seconds = 30
    deadline = ctx.current_utc_datetime + datetime.timedelta(seconds=seconds)
    ctx.set_custom_status("waiting for approval until %s"
                          % deadline.isoformat())
    event = ctx.wait_for_external_event("Approval")
    timeout = ctx.create_timer(deadline)
    winner = yield ctx.task_any([event, timeout])
    ctx.set_custom_status(None)
    if winner is timeout:
        return "timed out"
    # count the decisions in an entity: fire and forget
    ctx.signal_entity(("Counter", "approvals"), "add", 1)
    approved = event.result in (True, "true", "approved", "yes")
    return "approved" if approved else "rejected"


# ---- activities: ordinary code (I/O, clocks, randomness are fine here) ---

@activity
def SayHello(city):
    return "Hello %s!" % city


@activity
def GetWorkItems(n):
    """The work list: 1..n (n from the orchestration input, default 5)."""
    n = n if isinstance(n, int) and not isinstance(n, bool) else 5
    return list(range(1, n + 1))


@activity
def ProcessItem(item):
    return item * item


# ---- entities: (state, operation, input) -> new state --------------------

@entity
def Counter(state, operation, value):
    """add (value, default 1), reset, get; delete is built in."""
    state = state or 0
    if operation == "add":
        return state + (1 if value is None else value)
    if operation == "reset":
        return 0
    if operation == "get":
        logging.getLogger("Counter").info("value: %s", state)
        return state
    raise ValueError("Counter: unknown operation %r" % operation)


def register(w):
    """Register this app's functions on a Worker."""
    for name, fn in app["orchestrators"].items():
        w.add_orchestrator(name, fn)
    for name, fn in app["activities"].items():
        w.add_activity(name, fn)
    for name, fn in app["entities"].items():
        w.add_entity(name, fn)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8080"
                   "/runtime/webhooks/durabletask",
                   help="the API base B (default %(default)s)")
    p.add_argument("--task-hub", help="taskHub parameter (default: the "
                   "location's durable_task_hub)")
    p.add_argument("--connection", help="connection (store) parameter")
    p.add_argument("--key", help="worker key, sent as x-functions-key")
    p.add_argument("--max-items", type=int, default=10,
                   help="items per claim (default %(default)s)")
    p.add_argument("--wait", type=int, default=5,
                   help="claim long-poll seconds; stopping takes up to "
                   "this long (default %(default)s)")
    p.add_argument("--once", action="store_true",
                   help="exit once no work came for --idle seconds "
                   "(durable timers further away are not awaited)")
    p.add_argument("--idle", type=float, default=3.0,
                   help="idle seconds for --once (default %(default)s)")
    p.add_argument("--exit-after", type=float, metavar="N",
                   help="exit after N seconds")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="log every action list")
    args = p.parse_args(argv)

    logging.basicConfig(
        stream=sys.stderr, level=logging.DEBUG if args.verbose
        else logging.INFO,
        format="%(asctime)s %(levelname)s %(threadName)s %(message)s")

    w = Worker(args.url, task_hub=args.task_hub, key=args.key,
               connection=args.connection, max_items=args.max_items,
               wait=args.wait)
    register(w)
    logging.info("worker on %s: orchestrators %s, activities %s, "
                 "entities %s", args.url, ", ".join(app["orchestrators"]),
                 ", ".join(app["activities"]), ", ".join(app["entities"]))
    # SIGTERM stops like Ctrl-C: the items in hand are finished first
    def on_sigterm(*_):
        logging.info("SIGTERM: stopping")
        w.stop()
    signal.signal(signal.SIGTERM, on_sigterm)
    w.run(exit_after=args.exit_after, once=args.once, idle=args.idle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
