#!/usr/bin/env python3
"""End-to-end tests of the worker against a running ngx_durable.

    DURABLE_URL=http://127.0.0.1:8080/runtime/webhooks/durabletask \\
        python3 -m unittest -v test_e2e          (from examples/worker)

Skipped without DURABLE_URL. Every run uses its own task hub, so the
instances of other runs (and other workers) do not interfere.
"""

import json
import logging
import os
import threading
import time
import unittest
import urllib.error
import urllib.request

import worker as app
from durable_worker import TaskFailedError, Worker

URL = os.environ.get("DURABLE_URL")
HUB = "e2e%d" % (time.time() * 1000 % 10**9)


def http(method, path, body=None):
    req = urllib.request.Request(
        "%s/%s%staskHub=%s" % (URL, path, "&" if "?" in path else "?", HUB),
        method=method, headers={"Content-Type": "application/json"},
        data=None if body is None else json.dumps(body).encode())
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw, status = resp.read(), resp.status
    except urllib.error.HTTPError as err:
        raw, status = err.read(), err.code
    return status, json.loads(raw) if raw else None


def start(name, instance_id, input_=None):
    status, _ = http("POST", "orchestrators/%s/%s" % (name, instance_id),
                     input_)
    assert status == 202, status


def wait_for(instance_id, statuses=("Completed", "Failed", "Terminated"),
             timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        _, body = http("GET", "instances/%s" % instance_id)
        if body and body.get("runtimeStatus") in statuses:
            return body
        if time.monotonic() > deadline:
            raise AssertionError("%s: still %s" % (instance_id, body))
        time.sleep(0.1)


# ---- orchestrators beyond the demo app ----------------------------------

flaky_calls = []


def flaky(x):
    flaky_calls.append(x)
    if len(flaky_calls) == 1:
        raise RuntimeError("first call fails")
    return x + 1


def parent(ctx):
    a = yield ctx.call_sub_orchestrator("HelloSequence")
    b = yield ctx.call_sub_orchestrator("FanOutFanIn", 3, "%s-child"
                                        % ctx.instance_id)
    return [len(a), b]


def countdown(ctx):
    n = ctx.get_input()
    ctx.set_custom_status(n)
    if n > 0:
        yield ctx.call_activity("SayHello", str(n))
        ctx.continue_as_new(n - 1)
        return None
    return "liftoff"


def catches(ctx):
    try:
        yield ctx.call_activity("Boom")
    except TaskFailedError as exc:
        return "caught: %s" % exc.reason


def uncaught(ctx):
    yield ctx.call_activity("Boom")


def rewound(ctx):
    return (yield ctx.call_activity("Flaky", 41))


def pinger(ctx):
    ctx.raise_event(ctx.get_input(), "Approval", True)
    return "sent"
    yield                               # a generator that never waits


def boom(_):
    raise ValueError("boom")


@unittest.skipUnless(URL, "DURABLE_URL is not set")
class EndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        logging.basicConfig(level=logging.WARNING)
        cls.worker = Worker(URL, task_hub=HUB, wait=1)
        app.register(cls.worker)
        for fn in (parent, countdown, catches, uncaught, rewound, pinger):
            cls.worker.add_orchestrator(fn.__name__, fn)
        cls.worker.add_activity("Boom", boom)
        cls.worker.add_activity("Flaky", flaky)
        cls.thread = threading.Thread(target=cls.worker.run, daemon=True)
        cls.thread.start()

    @classmethod
    def tearDownClass(cls):
        cls.worker.stop()
        cls.thread.join()

    def test_samples(self):
        start("HelloSequence", "hello")
        start("FanOutFanIn", "fan", 20)
        self.assertEqual(wait_for("hello")["output"][4], "Hello Cairo!")
        self.assertEqual(wait_for("fan")["output"], 2870)

    def test_approval_and_counter(self):
        start("Approval", "yes", {"timeout": 30})
        start("Approval", "no", {"timeout": 30})
        start("Approval", "late", 1)
        time.sleep(0.5)
        http("POST", "instances/yes/raiseEvent/Approval", True)
        http("POST", "instances/no/raiseEvent/approval", False)
        self.assertEqual(wait_for("yes")["output"], "approved")
        self.assertEqual(wait_for("no")["output"], "rejected")
        self.assertEqual(wait_for("late")["output"], "timed out")
        deadline = time.monotonic() + 10
        while http("GET", "entities/Counter/approvals")[1] != 2:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        for op, value in (("reset", None), ("add", 5), ("add", 2)):
            http("POST", "entities/Counter/c?op=" + op, value)
        deadline = time.monotonic() + 10
        while http("GET", "entities/Counter/c")[1] != 7:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        http("DELETE", "entities/Counter/c")
        while http("GET", "entities/Counter/c")[0] != 404:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)

    def test_sub_orchestrations(self):
        start("parent", "p")
        self.assertEqual(wait_for("p")["output"], [5, 14])
        self.assertEqual(wait_for("p-child")["output"], 14)

    def test_continue_as_new(self):
        start("countdown", "cd", 3)
        body = wait_for("cd")
        self.assertEqual((body["output"], body["customStatus"]),
                         ("liftoff", 0))

    def test_failures_and_rewind(self):
        start("catches", "c1")
        start("uncaught", "u1")
        self.assertEqual(wait_for("c1")["output"], "caught: ValueError: boom")
        body = wait_for("u1")
        self.assertEqual((body["runtimeStatus"], body["output"]),
                         ("Failed", "'Boom' failed: ValueError: boom"))
        start("rewound", "r1")
        self.assertEqual(wait_for("r1")["runtimeStatus"], "Failed")
        self.assertEqual(http("POST", "instances/r1/rewind?reason=again")[0],
                         202)
        self.assertEqual(wait_for("r1")["output"], 42)

    def test_raise_event_between_instances(self):
        start("Approval", "target", 30)
        time.sleep(0.3)
        start("pinger", "ping", "target")
        self.assertEqual(wait_for("target")["output"], "approved")

    def test_terminate_while_waiting(self):
        start("Approval", "term", 30)
        time.sleep(0.5)
        http("POST", "instances/term/terminate?reason=stop")
        self.assertEqual(wait_for("term")["runtimeStatus"], "Terminated")


if __name__ == "__main__":
    unittest.main()
