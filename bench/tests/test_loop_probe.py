"""Row 9's event-loop figures: the probe's histogram read from /metrics,
the difference of two readings, and the row's judgement."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import bench  # noqa: E402

INF = float("inf")
BOUNDS = ("0.001", "0.002", "0.005", "0.01", "0.02", "0.05", "0.1", "+Inf")


def page(counts, extra=""):
    """a metrics page whose loop histogram has these cumulative counts"""
    f = "durable_event_loop_busy_seconds"
    lines = ["# HELP durable_commit_seconds Time a batch's commit took.",
             "durable_commit_seconds_bucket{le=\"0.01\"} 7",
             "# TYPE %s histogram" % f]
    lines += ["%s_bucket{le=\"%s\"} %d" % (f, b, n)
              for b, n in zip(BOUNDS, counts)]
    lines += ["%s_sum 0.5" % f, "%s_count %d" % (f, counts[-1]), extra]
    return "\n".join(lines)


class LoopHistogram(unittest.TestCase):

    def test_buckets_of_the_loop_family_only(self):
        h = bench.loop_histogram(page([1, 2, 3, 4, 5, 6, 7, 8]))
        self.assertEqual(h, {0.001: 1, 0.002: 2, 0.005: 3, 0.01: 4,
                             0.02: 5, 0.05: 6, 0.1: 7, INF: 8})

    def test_absent_without_the_probe(self):
        self.assertEqual(bench.loop_histogram("durable_waits_open 0\n"), {})
        self.assertIsNone(bench.loop_window({}, {}))


class LoopWindow(unittest.TestCase):

    def window(self, before, after):
        return bench.loop_window(bench.loop_histogram(page(before)),
                                 bench.loop_histogram(page(after)))

    def test_counts_what_moved_between_readings(self):
        # 100 ticks before; then 50 more, all at or under 2 ms
        w = self.window([90, 95, 98, 99, 100, 100, 100, 100],
                        [130, 145, 148, 149, 150, 150, 150, 150])
        self.assertEqual(w, {"ticks": 50, "over": 0, "largest": 0.002})

    def test_samples_over_10ms_in_the_window(self):
        # an old stall (before) is not counted, two new ones are
        w = self.window([10, 10, 10, 10, 10, 11, 11, 11],
                        [20, 20, 20, 20, 21, 21, 23, 23])
        self.assertEqual(w, {"ticks": 12, "over": 2, "largest": 0.1})

    def test_over_the_last_bound(self):
        w = self.window([0] * 8, [5, 5, 5, 5, 5, 5, 5, 6])
        self.assertEqual(w["largest"], INF)
        self.assertIn("> 100 ms", bench.loop_text(w))

    def test_no_ticks(self):
        w = self.window([3] * 8, [3] * 8)
        self.assertEqual(w, {"ticks": 0, "over": 0, "largest": None})
        self.assertEqual(bench.loop_text(w), "0 loop ticks")


class PurgeJudgement(unittest.TestCase):

    def test_pass(self):
        self.assertTrue(bench.purge_ok(
            1.5, {"ticks": 9000, "over": 0, "largest": 0.005}))

    def test_a_sample_over_10ms_fails(self):
        self.assertFalse(bench.purge_ok(
            1.5, {"ticks": 9000, "over": 1, "largest": 0.02}))

    def test_p99_over_twice_idle_fails(self):
        self.assertFalse(bench.purge_ok(
            2.1, {"ticks": 9000, "over": 0, "largest": 0.005}))

    def test_no_evidence_fails(self):
        self.assertFalse(bench.purge_ok(1.0, None))
        self.assertFalse(bench.purge_ok(
            1.0, {"ticks": 0, "over": 0, "largest": None}))


if __name__ == "__main__":
    unittest.main()
