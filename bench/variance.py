#!/usr/bin/env python3
"""Two results.md of make bench, side by side: the figure each row judges
(its ratio, or its rate when it has none) in both runs and how far apart
they are. Prints a Markdown table for bench/README.md.

    python3 bench/variance.py RUN1/results.md RUN2/results.md
"""

import re
import sys


def rows(path):
    """row number -> (figure, unit) for every row of the main table, and
    row number -> the row's name"""
    out, names = {}, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            row_id = re.match(r"\d+[a-d]?[′″]?\.", cells[0])
            if len(cells) != 9 or not row_id:
                continue
            # rows are matched by their number: a name may carry a size
            # measured in the run ("50 events (7663 B)")
            name = row_id.group(0)
            rate, ratio = cells[1], cells[6]
            names[name] = cells[0]
            m = re.match(r"([\d.]+)×", ratio)
            if m:
                out[name] = (float(m.group(1)), "×")
                continue
            m = re.match(r"([\d.]+)%", ratio)
            if m:
                out[name] = (float(m.group(1)), "%")
                continue
            m = re.match(r"(\d+)( orch/s)?", rate)
            if m:
                out[name] = (float(m.group(1)), m.group(2) or " req/s")
    return out, names


def fmt(v, unit):
    if unit == "×":
        return "%.2f×" % v
    if unit == "%":
        return "%.1f%%" % v
    return "{:,.0f}{}".format(v, unit)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    (a, _), (b, names) = rows(sys.argv[1]), rows(sys.argv[2])
    print("| scenario | run 1 | run 2 | run 2 vs run 1 |")
    print("|---|---|---|---|")
    for name in a:
        if name not in b:
            continue
        (va, ua), (vb, ub) = a[name], b[name]
        diff = ("—" if ua != ub or va == 0
                else "%+.0f%%" % (100 * (vb / va - 1)))
        print("| %s | %s | %s | %s |" % (names[name], fmt(va, ua), fmt(vb, ub),
                                         diff))


if __name__ == "__main__":
    main()
