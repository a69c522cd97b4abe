"""Row 5's noise control: its runs alone must agree before it compares."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import bench  # noqa: E402


def run(p99):
    return {"p99_ms": p99}


class SteadyTriple(unittest.TestCase):

    def setUp(self):
        self.log = bench.log
        bench.log = lambda *a: None

    def tearDown(self):
        bench.log = self.log

    def attempts(self, alone_pairs, tries=3):
        seen = []

        def fn():
            a, b = alone_pairs[len(seen)]
            seen.append((a, b))
            return run(a), run(9.0), run(b), {"rps": 1000.0}

        return bench.steady_triple(fn, tries), seen

    def test_spread_is_symmetric(self):
        self.assertAlmostEqual(bench.alone_spread(1.0, 3.0), 3.0)
        self.assertAlmostEqual(bench.alone_spread(3.0, 1.0), 3.0)
        self.assertAlmostEqual(bench.alone_spread(2.0, 2.0), 1.0)

    def test_agreeing_runs_are_measured_once(self):
        (res, tries, spread), seen = self.attempts([(0.5, 0.6)])
        self.assertEqual(tries, 1)
        self.assertEqual(len(seen), 1)
        self.assertAlmostEqual(spread, 1.2)
        self.assertEqual(res[0]["p99_ms"], 0.5)

    def test_moved_host_is_measured_again(self):
        (res, tries, spread), seen = self.attempts([(0.53, 2.84),
                                                    (0.6, 0.7)])
        self.assertEqual(tries, 2)
        self.assertEqual(len(seen), 2)
        self.assertEqual(res[2]["p99_ms"], 0.7)

    def test_at_most_tries_and_the_closest_kept(self):
        (res, tries, spread), seen = self.attempts([(0.5, 2.0), (0.5, 1.0),
                                                    (0.5, 3.0), (0.5, 0.5)])
        self.assertEqual(tries, 3)
        self.assertEqual(len(seen), 3)
        self.assertAlmostEqual(spread, 2.0)
        self.assertEqual(res[2]["p99_ms"], 1.0)


if __name__ == "__main__":
    unittest.main()
