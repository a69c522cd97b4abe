"""bench.e2e_store_refused(): which end-to-end stores a run may use"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
import bench  # noqa: E402


class E2eStore(unittest.TestCase):

    def test_fs_always(self):
        self.assertIsNone(bench.e2e_store_refused("fs", ""))
        self.assertIsNone(bench.e2e_store_refused("fs", "6"))

    def test_nosync_for_a_row_alone(self):
        self.assertIsNone(bench.e2e_store_refused("nosyncpool", "6"))

    def test_nosync_refused_in_a_full_run(self):
        why = bench.e2e_store_refused("nosyncpool", "")
        self.assertIn("BENCH_ROWS=6", why)

    def test_unknown_store(self):
        why = bench.e2e_store_refused("big", "6")
        self.assertIn("fs or nosyncpool", why)


if __name__ == "__main__":
    unittest.main()
