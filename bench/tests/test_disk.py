"""The disk figures: write requests from /sys/block, the flush probe."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import bench  # noqa: E402

# /sys/block/vda/stat: reads, merged, sectors, ms, writes, merged,
# sectors, ms, in flight, io ms, queue ms, discards ...
STAT = ("  741020    39460 54229626  1365069 31568321   403082 560350624 "
        "41229153        0   970936 42796428   553266       52 206956624"
        "    87648  1607573   114557\n")


class Disk(unittest.TestCase):

    def test_block_writes(self):
        self.assertEqual(bench.block_writes(STAT), (31568321, 560350624))

    def test_per_batch(self):
        # 1,600 requests over 4 batches; 4,800 sectors are 2,400 KB
        text = bench.disk_writes_text((1000, 0), (2600, 4800), 4)
        self.assertIn("400 write requests a batch", text)
        self.assertIn("1.5 KB each", text)

    def test_unreadable(self):
        for d0, d1, nb in ((None, (1, 1), 1), ((1, 1), None, 1),
                           ((1, 1), (2, 2), 0)):
            self.assertIn("not readable", bench.disk_writes_text(d0, d1, nb))

    def test_probe(self):
        prefix = bench.PREFIX
        with tempfile.TemporaryDirectory() as d:
            bench.PREFIX = d
            os.makedirs(os.path.join(d, "data"))
            try:
                probe = bench.flush_probe_run(trials=3, span=2048)
            finally:
                bench.PREFIX = prefix
            # the probe's file is gone; both times measured
            self.assertEqual(os.listdir(os.path.join(d, "data")), [])
        scattered, adjacent, span, trials = probe
        self.assertGreater(scattered, 0)
        self.assertGreater(adjacent, 0)
        text = bench.flush_probe_text(probe)
        self.assertIn("480 pages of 4 KB", text)
        self.assertIn("scattered over 8 MB", text)
        self.assertIn("median of 3 each", text)


if __name__ == "__main__":
    unittest.main()
