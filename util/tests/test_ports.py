"""util/ports.py: ports outside the ephemeral range, free, never twice,
spread out; the ranges as the file gives them."""

import os
import socket
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

import ports  # noqa: E402


class Ports(unittest.TestCase):

    def ranges_of(self, text):
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write(text)
        try:
            return ports.port_ranges(f.name)
        finally:
            os.unlink(f.name)

    def test_ranges(self):
        self.assertEqual(self.ranges_of("32768\t60999\n"),
                         [(10000, 32767), (61000, 65535)])
        # one side too small: the other alone
        self.assertEqual(self.ranges_of("10500 60999\n"), [(61000, 65535)])
        # none left outside: a fixed fallback
        self.assertEqual(self.ranges_of("1024 65535\n"), [(20000, 59999)])
        # unreadable: Linux's default range
        self.assertEqual(ports.port_ranges("/nonexistent/range"),
                         [(10000, 32767), (61000, 65535)])

    def test_outside_free_distinct(self):
        ranges = ports.port_ranges()
        got = [ports.free_port() for _ in range(200)]
        self.assertEqual(len(set(got)), len(got), "a port given twice")
        for p in got:
            self.assertTrue(any(lo <= p <= hi for lo, hi in ranges), p)
        self.assertGreaterEqual(len({p // 1000 for p in got}), 10,
                                "the ports are not spread out")

    def test_refusals(self):
        held = socket.socket()
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        hp = held.getsockname()[1]
        try:
            # a port a listener holds, one avoided, one given before
            with self.assertRaises(RuntimeError):
                ports.free_port([(hp, hp)])
            p = ports.free_port()
            with self.assertRaises(RuntimeError):
                ports.free_port([(p, p)])
            q = ports.free_port()
            with self.assertRaises(RuntimeError):
                ports.free_port([(q + 1, q + 1)], avoid={q + 1})
        finally:
            held.close()


if __name__ == "__main__":
    unittest.main()
