#!/usr/bin/env python3
"""make check-docs: the repository's documentation stands on its own.

* Every relative link in a Markdown file ([text](path), [text](path#a),
  [text](#a)) names a file or directory of the repository, and an anchor
  names a heading of the Markdown file it points into.
* No file refers to documents the repository does not carry: a path that
  leaves the repository for a shared directory ("../shared", "shared/docs"),
  or a design document cited by a file name that does not resolve to a
  file of the repository (from the repository root or from the citing
  file's directory).
* The README's "Operating" section links each part of the operators'
  kit (OPERATING below).

Exits 1 and lists every problem found.
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SKIP_DIRS = {".git", "build", "var", "node_modules", "__pycache__"}

# documents once kept outside the repository; a citation of one must
# resolve to a file here (docs/http-api.md does, for example)
CITED = ("http-api", "design", "reference-behaviour", "test-nginx-format",
         "style-models")
CITED_RE = re.compile(r"([\w./-]*?)\b((?:%s)\.md)\b" % "|".join(
    re.escape(c) for c in CITED))
# split so that this file does not match itself
# what the README's "Operating" section must link, one target each
OPERATING = ("#metrics", "#variables", "#durable_task_lifecycle_log",
             "#command-line-tool", "ui/index.html", "docs/openapi.yaml",
             "#a-debian-package", "#make-install")
OUTSIDE_RE = re.compile(r"\.\./" + "shared\\b|\\bshared/" + "docs\\b")

LINK_RE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE_RE = re.compile(r"^\s*(```|~~~)")
HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def repo_files():
    for top, dirs, files in os.walk(ROOT):
        rel = os.path.relpath(top, ROOT)
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS
                         and not (rel == "t" and d.startswith("servroot")))
        for name in sorted(files):
            yield os.path.join(top, name)


def read_text(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (UnicodeDecodeError, OSError):
        return None


def prose_lines(text):
    """(line number, line) outside fenced code blocks"""
    fenced = False
    for n, line in enumerate(text.splitlines(), 1):
        if FENCE_RE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield n, line


def slug(heading):
    """the anchor GitHub gives a heading"""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


_anchors = {}


def anchors(path):
    if path not in _anchors:
        seen = {}
        names = set()
        for _, line in prose_lines(read_text(path) or ""):
            m = HEADING_RE.match(line)
            if not m:
                continue
            base = slug(m.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            names.add(base if count == 0 else "%s-%d" % (base, count))
        _anchors[path] = names
    return _anchors[path]


def check_links(path, text, problems):
    here = os.path.dirname(path)
    rel = os.path.relpath(path, ROOT)

    for n, line in prose_lines(text):
        # inline code is not a link
        line = re.sub(r"`[^`]*`", "", line)
        for m in LINK_RE.finditer(line):
            target = m.group(1)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
                continue
            file_part, _, anchor = target.partition("#")
            dest = os.path.normpath(os.path.join(here, file_part)) \
                if file_part else path
            if not dest.startswith(ROOT + os.sep) and dest != ROOT:
                problems.append("%s:%d: link leaves the repository: %s"
                                % (rel, n, target))
                continue
            if not os.path.exists(dest):
                problems.append("%s:%d: link to a missing file: %s"
                                % (rel, n, target))
                continue
            if anchor and dest.endswith(".md") \
                    and anchor not in anchors(dest):
                problems.append("%s:%d: no heading for the anchor: %s"
                                % (rel, n, target))


def check_citations(path, text, problems):
    here = os.path.dirname(path)
    rel = os.path.relpath(path, ROOT)

    for n, line in enumerate(text.splitlines(), 1):
        if OUTSIDE_RE.search(line):
            problems.append("%s:%d: refers to a directory outside the "
                            "repository" % (rel, n))
        for m in CITED_RE.finditer(line):
            cited = m.group(1) + m.group(2)
            if os.path.isfile(os.path.join(ROOT, cited)) \
                    or os.path.isfile(os.path.join(here, cited)):
                continue
            problems.append("%s:%d: cites %s, which the repository does "
                            "not carry" % (rel, n, cited))


def check_operating(problems):
    text = read_text(os.path.join(ROOT, "README.md")) or ""
    m = re.search(r"^## Operating\n(.*?)^## ", text, re.M | re.S)
    if m is None:
        problems.append("README.md: no \"Operating\" section")
        return
    linked = set(LINK_RE.findall(m.group(1)))
    for target in OPERATING:
        if target not in linked:
            problems.append("README.md: the Operating section does not "
                            "link %s" % target)


def main():
    problems = []
    checked = 0

    for path in repo_files():
        if path == os.path.abspath(__file__):
            continue
        text = read_text(path)
        if text is None:
            continue
        if path.endswith(".md"):
            check_links(path, text, problems)
            checked += 1
        check_citations(path, text, problems)

    check_operating(problems)

    for p in problems:
        print("check-docs: " + p)

    if problems:
        print("check-docs: %d problem(s)" % len(problems))
        return 1

    print("check-docs: %d Markdown files, links and citations fine"
          % checked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
