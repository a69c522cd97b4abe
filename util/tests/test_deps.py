"""util/deps.sh's two sets, with dpkg-query, apt-get and id faked (no
package is installed, the user is not root): `build` (make build, run,
make (all)) names what building and running need and none of the tests'
tooling, no argument names both; and the Makefile's targets ask for the
set they need."""

import os
import stat
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
DEPS = os.path.join(TOP, "util", "deps.sh")

FAKES = {
    # nothing installed
    "dpkg-query": "#!/bin/sh\nexit 1\n",
    # never run: as a user deps.sh prints the line instead
    "apt-get": "#!/bin/sh\necho apt-get ran >&2\nexit 99\n",
    "id": "#!/bin/sh\necho 1000\n",
}

BUILD = {"make", "gcc", "nginx-core", "nginx-dev", "liblmdb-dev",
         "libjansson-dev", "libcurl4-openssl-dev", "libprotobuf-c-dev",
         "protobuf-c-compiler", "libpq-dev", "curl", "python3"}
TESTS_ONLY = {"postgresql-15", "clang", "libclang-rt-14-dev", "valgrind",
              "lmdb-utils", "libtest-base-perl", "libipc-run-perl"}


class Deps(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        for name, text in FAKES.items():
            path = os.path.join(self.tmp.name, name)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, stat.S_IRWXU)

    def tearDown(self):
        self.tmp.cleanup()

    def missing(self, *args):
        env = dict(os.environ)
        env["PATH"] = self.tmp.name + ":" + env["PATH"]
        env.pop("DURABLE_EXTRA_DEPS", None)
        r = subprocess.run(["sh", DEPS] + list(args), env=env,
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertNotIn("apt-get ran", r.stderr)
        line = [l for l in r.stdout.splitlines() if "apt-get install" in l]
        self.assertEqual(len(line), 1, r.stdout)
        return set(line[0].split("apt-get install -y", 1)[1].split())

    def test_build_set(self):
        pkgs = self.missing("build")
        self.assertEqual(pkgs, BUILD)

    def test_full_set(self):
        pkgs = self.missing()
        self.assertTrue(BUILD <= pkgs, BUILD - pkgs)
        self.assertTrue(TESTS_ONLY <= pkgs, TESTS_ONLY - pkgs)

    def test_bad_argument(self):
        r = subprocess.run(["sh", DEPS, "nonsense"], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage", r.stderr)

    def deps_lines(self, target):
        # make -n prints the recipes; a clone without build/ may stop at
        # the nginx build, after the package checks, which come first
        r = subprocess.run(["make", "-n", "-C", TOP, target],
                           capture_output=True, text=True)
        return [l.strip() for l in r.stdout.splitlines()
                if "util/deps.sh" in l]

    def test_make_targets(self):
        for target in ("build", "run", "all", "demo"):
            self.assertEqual(self.deps_lines(target),
                             ["sh util/deps.sh build"], target)
        for target in ("deps", "test-nginx", "test-store", "test-cli"):
            self.assertIn("sh util/deps.sh", self.deps_lines(target),
                          target)


if __name__ == "__main__":
    unittest.main()
