#!/usr/bin/env python3
"""Copies the header and the results table of bench/results.md into
docs/benchmarks.md, between its bench markers: make bench regenerates
both, nobody edits the figures by hand."""

import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
results = (root / "bench" / "results.md").read_text()
doc_path = root / "docs" / "benchmarks.md"
doc = doc_path.read_text()

lines = results.splitlines()
start = next(i for i, l in enumerate(lines) if l.startswith("Run of "))
table_end = next((i for i, l in enumerate(lines)
                  if i > start and not l.startswith("|")
                  and lines[i - 1].startswith("|")), len(lines))
block = "\n".join(lines[start:table_end]).strip()

begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
if begin not in doc or end not in doc:
    sys.exit("bench_docs: docs/benchmarks.md has no bench markers")

new = re.sub(re.escape(begin) + ".*?" + re.escape(end),
             lambda m: begin + "\n" + block + "\n" + end, doc, flags=re.S)
doc_path.write_text(new)
print("bench_docs: docs/benchmarks.md updated from bench/results.md")
