#!/usr/bin/env python3
"""Copies the header and the results table of bench/results.md into the
README, between the bench markers: make bench regenerates both, nobody
edits the figures by hand."""

import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
results = (root / "bench" / "results.md").read_text()
readme_path = root / "README.md"
readme = readme_path.read_text()

lines = results.splitlines()
start = next(i for i, l in enumerate(lines) if l.startswith("Run of "))
table_end = next((i for i, l in enumerate(lines)
                  if i > start and not l.startswith("|")
                  and lines[i - 1].startswith("|")), len(lines))
block = "\n".join(lines[start:table_end]).strip()

begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
if begin not in readme or end not in readme:
    sys.exit("readme_bench: the README has no bench markers")

new = re.sub(re.escape(begin) + ".*?" + re.escape(end),
             begin + "\n" + block + "\n" + end, readme, flags=re.S)
readme_path.write_text(new)
print("readme_bench: README.md updated from bench/results.md")
