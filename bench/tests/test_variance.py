"""bench/variance.py on two cut-down results.md (run1.md, run2.md): rows
matched by their number whatever their names measured, the figure each
row judges, and rows either run lacks left out."""

import contextlib
import io
import os
import sys
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import variance  # noqa: E402

RUN1 = os.path.join(HERE, "run1.md")
RUN2 = os.path.join(HERE, "run2.md")


def table(a, b):
    """variance.py's output for results a and b, as lines"""
    out = io.StringIO()
    with mock.patch.object(sys, "argv", ["variance.py", a, b]), \
            contextlib.redirect_stdout(out):
        variance.main()
    return out.getvalue().splitlines()


class Rows(unittest.TestCase):

    def test_figures(self):
        figures, names = variance.rows(RUN1)
        self.assertEqual(figures, {
            "1.": (1.0, "×"),
            "2.": (0.8, "×"),
            "4a′.": (4.8, "×"),
            "5.": (1.37, "×"),
            "6.": (2000.0, " orch/s"),
            "7.": (4.0, "%"),
            "9.": (2.0, "×"),
        })
        # a row without a figure (10.) still has its name; the CPU table's
        # rows, of another width, are not read
        self.assertEqual(names["10."], "10. nginx start, then reload")
        self.assertEqual(len(names), 8)

    def test_rate_when_no_ratio(self):
        figures, _ = variance.rows(RUN2)
        self.assertEqual(figures["5."], (4999.0, " req/s"))
        self.assertNotIn("9.", figures)


class SideBySide(unittest.TestCase):

    def test_table(self):
        lines = table(RUN1, RUN2)
        self.assertEqual(lines[:2], ["| scenario | run 1 | run 2 | "
                                     "run 2 vs run 1 |", "|---|---|---|---|"])
        self.assertEqual(lines[2:], [
            # in run 1's order, though run 2 lists 2. first
            "| 1. GET status, small instance (195 B) | 1.00× | 1.10× "
            "| +10% |",
            # matched by number: the name (and size) of run 2
            "| 2. GET status showHistory=true, 50 events (7664 B) | 0.80× "
            "| 0.84× | +5% |",
            "| 4a′. as 4a, 32 connections | 4.80× | 4.80× | +0% |",
            # a ratio in one run, a rate in the other: not compared
            "| 5. GET status p99 at 5000/s, with 1000 starts/s alongside "
            "| 1.37× | 4,999 req/s | — |",
            "| 6. end to end: hello-sequence (5 activities), sync=on "
            "| 2,000 orch/s | 1,500 orch/s | -25% |",
            "| 7. worker RssAnon after 100K warm-up, then 1000K mixed "
            "| 4.0% | 5.0% | +25% |",
        ])

    def test_missing_rows(self):
        text = "\n".join(table(RUN1, RUN2))
        # 9. is in run 1 only, 11. in run 2 only, 10. has no figure
        self.assertNotIn("| 9.", text)
        self.assertNotIn("| 11.", text)
        self.assertNotIn("| 10.", text)

    def test_the_other_way(self):
        lines = table(RUN2, RUN1)
        self.assertEqual([line.split(" ")[1] for line in lines[2:]],
                         ["2.", "1.", "4a′.", "5.", "6.", "7."])
        self.assertIn("| 1. GET status, small instance (195 B) | 1.10× "
                      "| 1.00× | -9% |", lines)

    def test_usage(self):
        with mock.patch.object(sys, "argv", ["variance.py", RUN1]):
            with self.assertRaises(SystemExit) as e:
                variance.main()
        self.assertIn("results.md", str(e.exception.code))


if __name__ == "__main__":
    unittest.main()
