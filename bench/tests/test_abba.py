"""Ratio rows run measurement, baseline, baseline, measurement (ABBA)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import bench  # noqa: E402


def run(rps, p50=1.0, p99=2.0, other=0.0, errors=0):
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "errors": errors,
            "nginx_cpu_pct": 100.0, "wrk_cpu_pct": 80.0,
            "other_cpu_pct": other}


class Abba(unittest.TestCase):

    def setUp(self):
        self.log = bench.log
        bench.log = lambda *a: None
        del bench.notes[:]
        del bench.pairs[:]

    def tearDown(self):
        bench.log = self.log
        del bench.notes[:]
        del bench.pairs[:]

    def sides(self, m_runs, b_runs):
        """fm and fb that hand out the runs given, in turn, and the order
        in which they were called"""
        order = []

        def fm():
            order.append("m")
            return m_runs[sum(1 for o in order if o == "m") - 1]

        def fb():
            order.append("b")
            return b_runs[sum(1 for o in order if o == "b") - 1]

        return fm, fb, order

    def test_order_is_abba(self):
        fm, fb, order = self.sides([run(1), run(2)], [run(3), run(4)])
        bench.abba(fm, fb)
        self.assertEqual(order, ["m", "b", "b", "m"])

    def test_steady_drift_cancels(self):
        # the host slows 10% a run: m then b alone reads 0.5 / 0.9
        speed = [1.0, 0.9, 0.8, 0.7]
        fm, fb, _ = self.sides([run(50 * speed[0]), run(50 * speed[3])],
                               [run(100 * speed[1]), run(100 * speed[2])])
        m, b = bench.abba(fm, fb)
        self.assertAlmostEqual(m["rps"] / b["rps"], 0.5)

    def test_merge_takes_the_stricter_tail(self):
        a = run(10, p50=1.0, p99=5.0, other=3.0, errors=1)
        b = run(20, p50=2.0, p99=4.0, other=9.0, errors=2)
        m = bench.merged(a, b, max)
        self.assertEqual(m["rps"], 15)
        self.assertEqual(m["p50_ms"], 2.0)
        self.assertEqual(m["p99_ms"], 5.0)
        self.assertEqual(m["other_cpu_pct"], 9.0)
        self.assertEqual(m["errors"], 3)
        self.assertEqual(m["runs"], (10, 20))
        # a baseline's latencies divide (row 4c): its smaller is stricter
        base = bench.merged(a, b, min)
        self.assertEqual(base["p50_ms"], 1.0)
        self.assertEqual(base["p99_ms"], 4.0)
        self.assertEqual(base["other_cpu_pct"], 9.0)

    def test_abba_merges_each_side_strictly(self):
        fm, fb, _ = self.sides([run(1, p99=3.0), run(1, p99=6.0)],
                               [run(2, p99=2.0), run(2, p99=1.0)])
        m, b = bench.abba(fm, fb)
        self.assertEqual(m["p99_ms"], 6.0)
        self.assertEqual(b["p99_ms"], 1.0)

    def test_runs_are_noted(self):
        fm, fb, _ = self.sides([run(60), run(70)], [run(80), run(100)])
        m, b = bench.quiet_pair("4b", fm, fb)
        self.assertEqual(m["rps"], 65)
        self.assertEqual(b["rps"], 90)
        self.assertEqual(bench.pairs, [("4b", (60, 70), (80, 100))])
        bench.pairs_note()
        self.assertIn("Rows 4b ran in the order measurement, baseline, "
                      "baseline, measurement", bench.notes[-1])
        self.assertIn("4b 60 and 70 against 80 and 100 (0.75×, 0.70×)",
                      bench.notes[-1])

    def test_no_pairs_no_note(self):
        bench.pairs_note()
        self.assertEqual(bench.notes, [])

    def test_noisy_attempt_is_run_again(self):
        fm, fb, order = self.sides(
            [run(60, other=50.0), run(60), run(61), run(62)],
            [run(80), run(80), run(81), run(82)])
        m, b = bench.quiet_pair("1", fm, fb)
        self.assertEqual(order, ["m", "b", "b", "m"] * 2)
        self.assertEqual(m["runs"], (61, 62))
        self.assertIn("measured 2 times", bench.notes[0])


if __name__ == "__main__":
    unittest.main()
