"""Row 7's judgement: a worker's RssAnon growth from its lowest reading."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import bench  # noqa: E402


class RssGrowth(unittest.TestCase):

    def test_flat_is_zero(self):
        seen = [{1: 1000, 2: 2000}] * 6
        self.assertEqual(bench.rss_growth(seen, [1, 2]), 0.0)

    def test_fall_alone_is_not_growth(self):
        seen = [{1: 1000}, {1: 940}, {1: 940}, {1: 940}]
        self.assertEqual(bench.rss_growth(seen, [1]), 0.0)

    def test_growth_after_a_fall_counts_in_full(self):
        # fell 10% then grew back 8% of the warm-up value: 8% growth,
        # although the end is below the start
        seen = [{1: 1000}, {1: 900}, {1: 950}, {1: 980}]
        self.assertAlmostEqual(bench.rss_growth(seen, [1]), 8.0)

    def test_worst_worker_counts(self):
        seen = [{1: 1000, 2: 1000}, {1: 1010, 2: 1000},
                {1: 1020, 2: 1070}]
        self.assertAlmostEqual(bench.rss_growth(seen, [1, 2]), 7.0)


if __name__ == "__main__":
    unittest.main()
