"""bench/worker's runners read the module's answers in place (js_next(),
js_member()): what they decide from an answer must be what the jansson
version decides (worker -T prints both), whatever the answer's spacing,
escapes and nesting, and an answer the scan cannot read is refused."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def event(kind, **members):
    e = {"EventType": kind, "EventId": -1,
         "Timestamp": "2026-12-07T05:00:00.000000Z"}
    e.update(members)
    return e


class WorkerScanTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        cls.bin = os.path.join(cls.dir, "worker")
        subprocess.run([os.environ.get("CC", "cc"), "-O1", "-std=gnu11",
                        "-pthread", os.path.join(BENCH, "worker.c"),
                        "-ljansson", "-o", cls.bin], check=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def decide(self, kind, answer):
        r = subprocess.run([self.bin, "-T", str(kind)], input=answer,
                           capture_output=True, text=True)
        return r.returncode, r.stdout.split("\x1e")[:-1]

    def same(self, kind, items, indent=None):
        answer = json.dumps({"results": [{"status": 200}], "items": items},
                            indent=indent, ensure_ascii=False)
        rc, lines = self.decide(kind, answer)
        self.assertEqual(rc, 0, answer)
        self.assertEqual(len(lines), 2 * len(items))
        out = []
        for scan, jansson in zip(lines[0::2], lines[1::2]):
            self.assertEqual(json.loads(scan), json.loads(jansson))
            out.append(json.loads(scan))
        return out

    def orchestration(self, history, messages=None, iid="o-1"):
        item = {"instanceId": iid, "name": "HelloSequence", "input": None,
                "execution": 1, "lease": "AAEC", "history": history}
        if messages is not None:
            item["messages"] = messages
        return item

    def test_each_step_of_the_sequence(self):
        started = event("ExecutionStarted", Name="HelloSequence")
        history = [started]
        for step in range(5):
            out = self.same(0, [self.orchestration(history)])
            self.assertEqual(out[0]["actions"][0]["type"],
                             "scheduleActivity")
            self.assertEqual(out[0]["actions"][0]["id"], step)
            history = history + [event("TaskScheduled", Name="SayHello"),
                                 event("TaskCompleted", TaskScheduledId=step,
                                       Result="Hello %d!" % step)]
        out = self.same(0, [self.orchestration(history)])
        self.assertEqual(out[0]["actions"][0],
                         {"type": "complete",
                          "output": ["Hello %d!" % i for i in range(5)]})

    def test_results_of_any_json_are_copied_as_they_are(self):
        results = ['a "quoted" ]} \\ value', "\u00e9\u4e2d\U0001f600", 42,
                   -1.5e-3, {"a": [1, {"b": None}], "c": "]"}, None]
        history = [event("ExecutionStarted")]
        for i, r in enumerate(results):
            history.append(event("TaskScheduled"))
            history.append(event("TaskCompleted", TaskScheduledId=i,
                                 Result=r))
        del history[-1]["Result"]
        for indent in (None, 2):
            out = self.same(0, [self.orchestration(history[:11])],
                            indent=indent)
            self.assertEqual(out[0]["actions"][0]["output"], results[:5])
        out = self.same(0, [self.orchestration(history)])
        self.assertEqual(out[0]["actions"][0]["output"], results[:5]
                         + [None])

    def test_messages_count_and_a_failure_fails(self):
        history = [event("ExecutionStarted"), event("TaskScheduled")]
        done = [event("TaskCompleted", TaskScheduledId=0, Result="x")]
        out = self.same(0, [self.orchestration(history, done),
                            self.orchestration(history, [], iid='q"\\id'),
                            self.orchestration(
                                history, [event("TaskFailed", Reason="r")])])
        self.assertEqual(out[0]["actions"][0]["id"], 1)
        self.assertEqual(out[1]["actions"], [])
        self.assertEqual(out[1]["instanceId"], 'q"\\id')
        self.assertEqual(out[2]["actions"][0]["type"], "fail")

    def test_activities(self):
        items = [{"instanceId": "o-%d" % i, "taskId": i, "name": "SayHello",
                  "input": city, "lease": "AAE%d" % i}
                 for i, city in enumerate(["Tokyo", 'Sa"o \\ Pa\u00fclo',
                                           "\u6771\u4eac"])]
        out = self.same(1, items, indent=1)
        self.assertEqual([o["result"] for o in out],
                         ["Hello Tokyo!", 'Hello Sa"o \\ Pa\u00fclo!',
                          "Hello \u6771\u4eac!"])
        self.assertEqual([o["taskId"] for o in out], [0, 1, 2])

    def test_no_items(self):
        self.assertEqual(self.decide(0, '{"items":[]}'), (0, []))
        self.assertEqual(self.decide(0, '{"items" : [ ] }'), (0, []))

    def test_answers_not_read_are_refused(self):
        for bad in ['{"items":[{"instanceId":"a}]}',
                    '{"items":[{"instanceId":"a","lease":"L",'
                    '"history":[{"EventType":"TaskScheduled"]}]}',
                    '{"items":{}}', '["items"]',
                    '{"items":[{"instanceId":"a","lease":"L"}]}']:
            rc, _ = self.decide(0, bad)
            self.assertEqual(rc, 1, bad)


if __name__ == "__main__":
    unittest.main()
