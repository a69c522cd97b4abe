#!/usr/bin/env python3
"""Replay engine tests against an in-process fake task hub.

    python3 -m unittest -v test_replay      (from examples/worker)

The fake derives history the way docs/worker-protocol.md says the module
does: per episode, OrchestratorStarted, the delivered messages, one event
per action, OrchestratorCompleted.
"""

import datetime
import itertools
import logging
import random
import unittest

import worker as app
from durable_worker import (NonDeterminismError, TaskFailedError, Worker,
                            run_entity_batch, run_orchestration)

logging.disable(logging.CRITICAL)

T0 = datetime.datetime(2026, 11, 22, 5, 0, 0, tzinfo=datetime.timezone.utc)


class FakeHub:
    """One orchestration instance, episode by episode."""

    def __init__(self, orchestrators, activities, name, input_=None):
        self.orchestrators, self.activities = orchestrators, activities
        self.name, self.input = name, input_
        self.instance_id = "i-1"
        self.clock = (T0 + datetime.timedelta(seconds=n)
                      for n in itertools.count())
        self.history = []
        self.inbox = [self.event("ExecutionStarted", Name=name,
                                 Input=input_)]
        self.activity_queue = []        # (id, name, input)
        self.timers = []                # (id, fireAt)
        self.sent = []
        self.status, self.output = "Pending", None
        self.custom_status = None
        self.episodes = []              # the actions of every episode

    def event(self, kind, **fields):
        stamp = next(self.clock).strftime("%Y-%m-%dT%H:%M:%S.1234567Z")
        return dict(EventType=kind, Timestamp=stamp, **fields)

    def episode(self):
        # The episode's OrchestratorStarted is delivered as the first
        # message and recorded as is: the worker's current_utc_datetime
        # then equals what replays will see.
        started = self.event("OrchestratorStarted")
        item = {"instanceId": self.instance_id, "name": self.name,
                "input": self.input, "history": list(self.history),
                "messages": [started] + self.inbox, "lease": "x"}
        actions, _ = run_orchestration(self.orchestrators[self.name], item)
        self.episodes.append(actions)
        self.history.append(started)
        self.history.extend(self.inbox)
        self.inbox = []
        for a in actions:
            t = a["type"]
            if t == "scheduleActivity":
                self.history.append(self.event(
                    "TaskScheduled", EventId=a["id"], Name=a["name"],
                    Input=a["input"]))
                self.activity_queue.append((a["id"], a["name"], a["input"]))
            elif t == "createTimer":
                self.history.append(self.event(
                    "TimerCreated", EventId=a["id"], FireAt=a["fireAt"]))
                self.timers.append((a["id"], a["fireAt"]))
            elif t == "startSubOrchestration":
                self.history.append(self.event(
                    "SubOrchestrationInstanceCreated", EventId=a["id"],
                    Name=a["name"], Input=a["input"],
                    InstanceId=a.get("instanceId")))
                # the child "runs" at once: completed with its input doubled
                self.inbox.append(self.event(
                    "SubOrchestrationInstanceCompleted",
                    TaskScheduledId=a["id"], Result=a["input"] * 2))
            elif t in ("raiseEvent", "signalEntity"):
                self.history.append(self.event("EventSent", **{
                    k: v for k, v in a.items() if k != "type"}))
                self.sent.append(a)
            elif t == "setCustomStatus":
                self.custom_status = a["customStatus"]
            elif t == "complete":
                self.status, self.output = "Completed", a["output"]
            elif t == "fail":
                self.status, self.output = "Failed", a["reason"]
            elif t == "continueAsNew":
                self.status = "ContinuedAsNew"
                self.history, self.input = [], a["input"]
                self.inbox = [self.event("ExecutionStarted", Name=self.name,
                                         Input=a["input"])]
                self.activity_queue, self.timers = [], []
                return
            else:
                raise AssertionError("unknown action %r" % a)
        self.history.append(self.event("OrchestratorCompleted"))
        if self.status == "Pending":
            self.status = "Running"

    def run_activities(self, shuffle=None):
        queue, self.activity_queue = self.activity_queue, []
        if shuffle is not None:
            shuffle.shuffle(queue)
        for task_id, name, input_ in queue:
            try:
                self.inbox.append(self.event(
                    "TaskCompleted", TaskScheduledId=task_id,
                    Result=self.activities[name](input_)))
            except Exception as exc:
                self.inbox.append(self.event(
                    "TaskFailed", TaskScheduledId=task_id,
                    Reason=str(exc), Details=None))

    def fire_timers(self):
        for task_id, fire_at in self.timers:
            self.inbox.append(self.event("TimerFired", TimerId=task_id,
                                         FireAt=fire_at))
        self.timers = []

    def run(self, max_episodes=50, **kw):
        """Episodes until the instance waits for nothing the hub makes."""
        for _ in range(max_episodes):
            if self.status not in ("Pending", "Running", "ContinuedAsNew"):
                return
            if not self.inbox:
                self.run_activities(**kw)
            if not self.inbox:
                return
            if self.status == "ContinuedAsNew":
                self.status = "Running"
            self.episode()
        raise AssertionError("too many episodes")


def hub(name, input_=None, orchestrators=None, activities=None):
    return FakeHub(orchestrators or app.app["orchestrators"],
                   activities or app.app["activities"], name, input_)


class Samples(unittest.TestCase):
    def test_hello_sequence(self):
        h = hub("HelloSequence")
        h.run()
        self.assertEqual(h.status, "Completed")
        self.assertEqual(h.output, ["Hello Tokyo!", "Hello Seattle!",
                                    "Hello London!", "Hello Paris!",
                                    "Hello Cairo!"])
        # one activity per episode, ids 0..4, nothing sent twice
        scheduled = [a["id"] for acts in h.episodes for a in acts
                     if a["type"] == "scheduleActivity"]
        self.assertEqual(scheduled, [0, 1, 2, 3, 4])
        self.assertEqual(len(h.episodes), 6)
        self.assertEqual(h.episodes[-1][-1]["type"], "complete")
        self.assertEqual(h.custom_status, {"step": 4, "city": "Cairo"})

    def test_fan_out_fan_in_shuffled(self):
        for seed in range(5):
            h = hub("FanOutFanIn", 10)
            h.run(shuffle=random.Random(seed))
            self.assertEqual((h.status, h.output), ("Completed", 385))
            fan = h.episodes[1]
            self.assertEqual([a["id"] for a in fan], list(range(1, 11)))

    def test_fan_in_one_result_per_episode(self):
        h = hub("FanOutFanIn", 4)
        h.episode()                     # GetWorkItems
        h.run_activities()
        h.episode()                     # four ProcessItem
        queue = h.activity_queue
        h.activity_queue = []
        for entry in reversed(queue):   # results one episode at a time
            h.activity_queue = [entry]
            h.run_activities()
            h.episode()
            self.assertEqual([a for a in h.episodes[-1]
                              if a["type"] == "scheduleActivity"], [])
        self.assertEqual((h.status, h.output), ("Completed", 30))

    def approval(self, event=None, early=False, timeout=5):
        h = hub("Approval", {"timeout": timeout})
        if early:                       # the event came before the start
            h.inbox.append(h.event("EventRaised", Name="approval",
                                   Input=event))
        h.episode()
        self.assertEqual(h.status, "Completed" if early else "Running")
        if not early:
            fire_at = h.timers[0][1]
            self.assertEqual(fire_at, "2026-11-22T05:00:06.123456Z")
            if event is None:
                h.fire_timers()
            else:
                h.inbox.append(h.event("EventRaised", Name="Approval",
                                       Input=event))
            h.episode()
        return h

    def test_approval(self):
        h = self.approval(True)
        self.assertEqual(h.output, "approved")
        self.assertEqual(h.sent, [{"type": "signalEntity", "entity": {
            "name": "Counter", "key": "approvals"}, "operation": "add",
            "input": 1}])
        self.assertEqual(self.approval(False).output, "rejected")
        self.assertEqual(self.approval(None).output, "timed out")
        self.assertEqual(self.approval(True, early=True).output, "approved")


class Engine(unittest.TestCase):
    def test_failure_caught_and_uncaught(self):
        def boom(_):
            raise RuntimeError("boom")

        def caught(ctx):
            try:
                yield ctx.call_activity("Boom")
            except TaskFailedError as exc:
                return "caught " + exc.reason
        h = hub("caught", None, {"caught": caught}, {"Boom": boom})
        h.run()
        self.assertEqual((h.status, h.output), ("Completed", "caught boom"))

        def uncaught(ctx):
            yield ctx.call_activity("Boom")
        h = hub("uncaught", None, {"uncaught": uncaught}, {"Boom": boom})
        h.run()
        self.assertEqual((h.status, h.output),
                         ("Failed", "'Boom' failed: boom"))

    def test_continue_as_new(self):
        def count(ctx):
            n = ctx.get_input()
            n = yield ctx.call_activity("Inc", n)
            if n < 3:
                ctx.continue_as_new(n)
                return None
            return n
        h = hub("count", 0, {"count": count}, {"Inc": lambda n: n + 1})
        h.run()
        self.assertEqual((h.status, h.output), ("Completed", 3))

    def test_sub_orchestration_and_raise_event_replay(self):
        def parent(ctx):
            ctx.raise_event("other", "Ping", 1)
            a = yield ctx.call_sub_orchestrator("Child", 21)
            ctx.signal_entity("@counter@c1", "add", a)
            b = yield ctx.call_activity("Echo", a)
            return [a, b]
        h = hub("parent", None, {"parent": parent}, {"Echo": lambda x: x})
        h.run()
        self.assertEqual((h.status, h.output), ("Completed", [42, 42]))
        # each send went out exactly once despite the replays
        self.assertEqual([a["type"] for a in h.sent],
                         ["raiseEvent", "signalEntity"])
        self.assertNotIn("instanceId", h.episodes[0][1])

    def test_nondeterminism(self):
        def v1(ctx):
            yield ctx.call_activity("A")
            yield ctx.call_activity("B")
        h = hub("o", None, {"o": v1}, {"A": str, "B": str})
        h.episode()
        h.run_activities()
        h.orchestrators = {"o": lambda ctx: (yield ctx.call_activity("X"))}
        h.episode()
        self.assertEqual(h.status, "Failed")
        self.assertIn("NonDeterminismError", h.output)

    def test_deterministic_time(self):
        seen = []

        def clock(ctx):
            seen.append(ctx.current_utc_datetime)
            yield ctx.call_activity("A")
            seen.append(ctx.current_utc_datetime)
            return ctx.new_uuid()
        h = hub("c", None, {"c": clock}, {"A": str})
        h.run()
        # episode 1 sees t1; episode 2 replays t1, then sees t2
        self.assertEqual(len(seen), 3)
        self.assertEqual(seen[0], seen[1])
        self.assertLess(seen[1], seen[2])
        self.assertEqual(h.status, "Completed")

    def test_time_without_orchestrator_started_message(self):
        # a first episode whose messages carry no OrchestratorStarted: the
        # clock is the newest message time
        seen = []

        def o(ctx):
            seen.append(ctx.current_utc_datetime)
            yield ctx.create_timer(ctx.current_utc_datetime)
        actions, _ = run_orchestration(o, {
            "instanceId": "i", "name": "o", "history": [], "messages": [
                {"EventType": "ExecutionStarted", "Name": "o",
                 "Timestamp": "2026-11-22T05:00:00.5Z"}]})
        self.assertEqual(actions, [{"type": "createTimer", "id": 0,
                                    "fireAt": "2026-11-22T05:00:00.500000Z"}])
        self.assertEqual(seen[0].microsecond, 500000)

    def test_plain_function(self):
        h = hub("p", 2, {"p": lambda ctx: ctx.get_input() + 1}, {})
        h.run()
        self.assertEqual((h.status, h.output), ("Completed", 3))


class Entities(unittest.TestCase):
    def test_counter(self):
        item = {"entity": {"name": "counter", "key": "c1"}, "state": 5,
                "operations": [{"operation": "add", "input": 2},
                               {"operation": "get"},
                               {"operation": "bogus"},
                               {"operation": "add"}]}
        self.assertEqual(run_entity_batch(app.Counter, item)["state"], 8)
        item["operations"].append({"operation": "delete"})
        self.assertEqual(run_entity_batch(app.Counter, item),
                         {"entity": item["entity"], "delete": True})
        item["operations"].append({"operation": "add", "input": 1})
        self.assertEqual(run_entity_batch(app.Counter, item)["state"], 1)
        item["operations"].append({"operation": "reset"})
        self.assertEqual(run_entity_batch(app.Counter, item)["state"], 0)


class FakeClient:
    """Stands for the HTTP client of a Worker: records every POST."""

    def __init__(self):
        self.posts = []

    def post(self, path, body=None, timeout=30.0, **params):
        self.posts.append((path, body))
        return 200, {}


def worker():
    w = Worker("http://127.0.0.1:9/none")
    w.client = FakeClient()
    return w


class Registration(unittest.TestCase):
    """Misused decorators and add_* calls raise; nothing is left half
    registered."""

    def test_decorators(self):
        w = worker()

        @w.orchestrator()
        def Orch(ctx):
            return 1

        @w.activity("Act")
        def act(x):
            return x

        @w.entity()
        def Thing(state, op, x):
            return state

        self.assertIs(Orch, w.orchestrators["Orch"])
        self.assertIs(act, w.activities["Act"])
        self.assertIs(Thing, w.entities["thing"])

    def test_without_parentheses(self):
        w = worker()
        for deco in (w.orchestrator, w.activity, w.entity):
            with self.assertRaisesRegex(TypeError, "parentheses"):
                @deco
                def f(*_):
                    pass
        self.assertEqual((w.orchestrators, w.activities, w.entities),
                         ({}, {}, {}))

    def test_bad_names_and_functions(self):
        w = worker()
        for deco in (w.orchestrator, w.activity, w.entity):
            self.assertRaisesRegex(ValueError, "empty", deco, "")
            self.assertRaisesRegex(TypeError, "string", deco, 5)
            self.assertRaisesRegex(TypeError, "string", deco, b"X")
        for add in (w.add_orchestrator, w.add_activity, w.add_entity):
            self.assertRaisesRegex(TypeError, "not callable", add, "X", None)
            self.assertRaisesRegex(TypeError, "string", add, None, len)
            self.assertRaisesRegex(ValueError, "empty", add, "", len)
        self.assertEqual((w.orchestrators, w.activities, w.entities),
                         ({}, {}, {}))

    def test_duplicates(self):
        w = worker()
        w.add_orchestrator("O", len)
        w.add_activity("A", len)
        w.add_entity("Counter", len)
        self.assertRaisesRegex(ValueError, "twice", w.add_orchestrator,
                               "O", abs)
        self.assertRaisesRegex(ValueError, "twice", w.add_activity, "A", abs)
        # entity names are case-insensitive
        self.assertRaisesRegex(ValueError, "twice", w.add_entity,
                               "COUNTER", abs)
        with self.assertRaisesRegex(ValueError, "twice"):
            @w.activity("A")
            def other(x):
                return x
        self.assertIs(w.activities["A"], len)

    def test_example_app_decorators(self):
        self.assertRaisesRegex(ValueError, "twice", app.activity,
                               app.SayHello)
        self.assertRaisesRegex(TypeError, "not a function", app.orchestrator,
                               "Hello")


class UnknownFunctions(unittest.TestCase):
    """An item whose function this worker lacks is abandoned (another
    worker on the hub may have it), never failed or completed."""

    def test_orchestration_abandoned(self):
        w = worker()
        w.add_orchestrator("Known", lambda ctx: 1)
        w._guarded(w._orchestration, {
            "instanceId": "i1", "name": "Other", "lease": "L1",
            "history": [], "messages": [
                {"EventType": "ExecutionStarted", "Name": "Other",
                 "Timestamp": "2026-11-22T05:00:00Z"}]})
        self.assertEqual(w.client.posts, [
            ("worker/orchestrations/abandon",
             {"instanceId": "i1", "lease": "L1"})])

    def test_activity_abandoned(self):
        w = worker()
        w._guarded(w._activity, {"instanceId": "i1", "taskId": 3,
                                 "name": "Other", "lease": "L2",
                                 "input": None})
        self.assertEqual(w.client.posts, [
            ("worker/activities/abandon",
             {"instanceId": "i1", "taskId": 3, "lease": "L2"})])

    def test_entity_abandoned(self):
        w = worker()
        entity = {"name": "other", "key": "k"}
        w._guarded(w._entity, {"entity": entity, "lease": "L3",
                               "operations": [{"operation": "add"}]})
        self.assertEqual(w.client.posts, [
            ("worker/entities/abandon", {"entity": entity, "lease": "L3"})])

    def test_known_ones_complete(self):
        w = worker()
        app.register(w)
        w._guarded(w._activity, {"instanceId": "i1", "taskId": 0,
                                 "name": "SayHello", "lease": "L4",
                                 "input": "Oslo"})
        w._guarded(w._orchestration, {
            "instanceId": "i2", "name": "Hello", "lease": "L5",
            "history": [], "messages": [
                {"EventType": "ExecutionStarted", "Name": "Hello",
                 "Input": {"city": "Oslo"},
                 "Timestamp": "2026-11-22T05:00:00Z"}]})
        self.assertEqual(w.client.posts, [
            ("worker/activities/complete",
             {"instanceId": "i1", "taskId": 0, "lease": "L4",
              "result": "Hello Oslo!"}),
            ("worker/orchestrations/complete",
             {"instanceId": "i2", "lease": "L5", "actions": [
                 {"type": "scheduleActivity", "id": 0, "name": "SayHello",
                  "input": "Oslo"}]})])

    def test_abandon_is_not_work(self):
        # a --once worker still stops when only unknown items come
        w = worker()
        w._last_work = before = 0.0
        w._busy = 1
        w._guarded(w._activity, {"instanceId": "i1", "taskId": 3,
                                 "name": "Other", "lease": "L2"})
        self.assertEqual((w._busy, w._last_work), (0, before))
        self.assertIn("activities", w._pause)


class ClaimWithCompletion(unittest.TestCase):
    """An episode's completion claims the next episode (claim=): its
    items are run by the same loop, whatever became of the completion."""

    class Client:
        def __init__(self, answer):
            self.answer, self.posts = answer, []

        def post(self, path, body=None, timeout=30.0, **params):
            self.posts.append((path, params))
            return 200, self.answer

    ITEM = {"instanceId": "i2", "name": "Hello", "lease": "L5",
            "history": [], "messages": [
                {"EventType": "ExecutionStarted", "Name": "Hello",
                 "Input": {"city": "Oslo"},
                 "Timestamp": "2026-11-22T05:00:00Z"}]}

    def run_one(self, answer):
        w = worker()
        app.register(w)
        w.client = self.Client(answer)
        w._busy = 1
        return w, w._guarded(w._orchestration, dict(self.ITEM))

    def test_next_items(self):
        nxt = {"instanceId": "i3", "lease": "L6"}
        w, more = self.run_one({"results": [
            {"status": 200, "runtimeStatus": "Running"}], "items": [nxt]})
        self.assertEqual(more, [nxt])
        path, params = w.client.posts[0]
        self.assertEqual((path, params["claim"], params["max"]),
                         ("worker/orchestrations/complete",
                          "orchestrations", 1))
        self.assertIn("Hello", params["names"])

    def test_refused_completion_keeps_items(self):
        nxt = {"instanceId": "i3", "lease": "L6"}
        w, more = self.run_one({"results": [
            {"status": 409, "Message": "stale"}], "items": [nxt]})
        self.assertEqual((more, len(w.client.posts)), ([nxt], 1))

    def test_server_without_claim(self):
        # an answer without results: a plain completion's, not retried
        w, more = self.run_one({"runtimeStatus": "Running"})
        self.assertEqual((more, len(w.client.posts)), ([], 1))


class ClaimNames(unittest.TestCase):
    """Claims name the registered functions, so others are not handed
    out; the abandon stays for what comes anyway."""

    def test_names_of_each_kind(self):
        w = worker()
        w.add_orchestrator("Seq", lambda ctx: None)
        w.add_orchestrator("A,B", lambda ctx: None)
        w.add_entity("Counter", lambda ctx: None)
        self.assertEqual(w._claim_names("orchestrations"), ["A,B", "Seq"])
        self.assertEqual(w._claim_names("entities"), ["counter"])
        self.assertEqual(w._claim_names("activities"), [])

    def test_too_many_names_claim_any(self):
        w = worker()
        for i in range(Worker.NAMES_MAX + 1):
            w.add_activity("a%d" % i, lambda x: x)
        self.assertIsNone(w._claim_names("activities"))

    def test_names_repeat_in_the_url(self):
        url = Worker("http://h/b", task_hub="H").client.url(
            "worker/activities/claim", max=2, names=["A,B", "C"])
        self.assertEqual(url, "http://h/b/worker/activities/claim?"
                              "taskHub=H&max=2&names=A%2CB&names=C")

    def test_a_kind_with_nothing_registered_is_not_claimed(self):
        w = worker()
        w.add_orchestrator("Seq", lambda ctx: None)
        w._loop("activities")
        self.assertEqual(w.client.posts, [])


if __name__ == "__main__":
    unittest.main()
