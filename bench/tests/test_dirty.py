"""bench.py's dirty check, in a throwaway git clone: the run's own
outputs (bench/results.md, docs/benchmarks.md) changed leave the commit
clean; any other tracked file changed, staged or not, makes it dirty.
git reads no configuration but the clone's own (a developer's signing of
commits, say, cannot fail the test), bench.dirty()'s calls included."""

import os
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import bench  # noqa: E402


GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(root, *args):
    subprocess.run(["git", "-C", root, "-c", "commit.gpgsign=false"]
                   + list(args), check=True, capture_output=True)


def write(root, path, text):
    path = os.path.join(root, path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


class Dirty(unittest.TestCase):

    def setUp(self):
        env = mock.patch.dict(os.environ, GIT_ENV)
        env.start()
        self.addCleanup(env.stop)
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name
        git(self.root, "init", "-q")
        for path in ("bench/results.md", "docs/benchmarks.md",
                     "docs/design.md", "store/ds_store.c"):
            write(self.root, path, "first\n")
        git(self.root, "add", ".")
        git(self.root, "-c", "user.name=t", "-c", "user.email=t@t",
            "commit", "-q", "-m", "first")

    def tearDown(self):
        self.tmp.cleanup()

    def test_clean(self):
        self.assertFalse(bench.dirty(self.root))

    def test_outputs_alone(self):
        write(self.root, "bench/results.md", "a run's\n")
        write(self.root, "docs/benchmarks.md", "a run's table\n")
        self.assertFalse(bench.dirty(self.root))
        git(self.root, "add", ".")
        self.assertFalse(bench.dirty(self.root))

    def test_source_changed(self):
        write(self.root, "store/ds_store.c", "changed\n")
        self.assertTrue(bench.dirty(self.root))

    def test_source_staged(self):
        write(self.root, "store/ds_store.c", "changed\n")
        git(self.root, "add", "store/ds_store.c")
        self.assertTrue(bench.dirty(self.root))

    def test_outputs_and_source(self):
        write(self.root, "bench/results.md", "a run's\n")
        write(self.root, "docs/design.md", "changed\n")
        self.assertTrue(bench.dirty(self.root))

    def test_source_deleted(self):
        os.remove(os.path.join(self.root, "store/ds_store.c"))
        self.assertTrue(bench.dirty(self.root))


if __name__ == "__main__":
    unittest.main()
