"""util/prove-lanes.sh on throwaway .t files (plain Test::More, no
nginx): the lanes' servroots and logs, the queue's order, --alone, the
output's prefixes, the summary line and the exit status."""

import os
import re
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
LANES = os.path.join(HERE, "..", "prove-lanes.sh")

# each file notes where it ran, then when it finished; FILLER pads the
# file so that the queue (largest first) has an order to keep
TEMPLATE = """use strict;
use warnings;
use Test::More;
%(skip)s
my $rec = '%(rec)s';
sub note_line {
    open(my $fh, '>>', $rec) or die "$rec: $!";
    print $fh "@_\\n";
    close($fh);
}
open(my $fh, '<', $rec) or die "$rec: $!";
my @before = grep { /^done / } <$fh>;
close($fh);
note_line('start', '%(name)s', scalar(@before),
          $ENV{TEST_NGINX_SERVROOT} // '-', $ENV{TEST_NGINX_ERROR_LOG} // '-');
ok(%(ok)s, '%(name)s');
note_line('done', '%(name)s');
done_testing();
# %(filler)s
"""


class ProveLanes(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.rec = os.path.join(self.dir, "record")
        open(self.rec, "w").close()
        os.mkdir(os.path.join(self.dir, "t"))

    def tearDown(self):
        self.tmp.cleanup()

    def file(self, name, ok=True, size=0, skip=False):
        path = os.path.join(self.dir, "t", name)
        with open(path, "w") as f:
            f.write(TEMPLATE % {
                "rec": self.rec, "name": name, "ok": "1" if ok else "0",
                "skip": "plan skip_all => 'not here';" if skip else "",
                "filler": "x" * size})
        return path

    def run_lanes(self, *args, env=None):
        e = dict(os.environ)
        e.pop("TEST_NGINX_ERROR_LOG", None)
        e.pop("TEST_NGINX_SERVROOT", None)
        e.update(env or {})
        return subprocess.run(["bash", LANES] + list(args),
                              capture_output=True, text=True, env=e,
                              timeout=120)

    def starts(self):
        out = []
        with open(self.rec) as f:
            lines = f.readlines()
        for line in lines:
            w = line.split()
            if w[0] == "start":
                out.append({"name": w[1], "done_before": int(w[2]),
                            "servroot": w[3], "log": w[4]})
        return out

    def test_lanes_alone_and_failure(self):
        self.file("a.t", size=3000)
        self.file("b.t", size=2000)
        bad = self.file("c.t", ok=False, size=1000)
        self.file("d.t", skip=True)
        alone = self.file("e.t")
        work = os.path.join(self.dir, "work")
        r = self.run_lanes("--alone", alone, "2", work, "--",
                           os.path.join(self.dir, "t"),
                           env={"TEST_NGINX_ERROR_LOG": "/nowhere/log"})
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[-1], "prove-lanes: 5 files in 2 lanes "
                         "(1 alone after them): %s failed" % bad)
        # every line but the summary comes from a lane
        for line in lines[:-1]:
            self.assertRegex(line, r"^\[(0|1|alone)\] ")
        # a failure prints its whole report, a pass only its own line
        self.assertTrue(any(re.search(r"c\.t .*Failed", line)
                            or "Failed test" in line for line in lines))
        self.assertEqual(sum("Result: FAIL" in line for line in lines), 1)
        self.assertFalse(any("All tests successful" in line
                             for line in lines))
        runs = {s["name"]: s for s in self.starts()}
        self.assertEqual(set(runs), {"a.t", "b.t", "c.t", "e.t"})
        for name in ("a.t", "b.t", "c.t"):
            m = re.match(re.escape(work) + r"/lane-([01])/servroot$",
                         runs[name]["servroot"])
            self.assertTrue(m, runs[name])
            self.assertEqual(runs[name]["log"],
                             "%s/lane-%s/error.log" % (work, m.group(1)))
        # the two largest files start at once, in two lanes
        self.assertNotEqual(runs["a.t"]["servroot"], runs["b.t"]["servroot"])
        # the alone file after every other one, in its own servroot
        self.assertEqual(runs["e.t"]["done_before"], 3)
        self.assertEqual(runs["e.t"]["servroot"],
                         work + "/lane-alone/servroot")

    def test_queue_largest_first_and_no_log(self):
        for name, size in (("s.t", 10), ("l.t", 5000), ("m.t", 1000)):
            self.file(name, size=size)
        work = os.path.join(self.dir, "work")
        r = self.run_lanes("1", work, "--",
                           *sorted(os.path.join(self.dir, "t", n)
                                   for n in ("s.t", "l.t", "m.t")))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.splitlines()[-1],
                         "prove-lanes: 3 files in 1 lanes "
                         "(0 alone after them): none failed")
        runs = self.starts()
        self.assertEqual([s["name"] for s in runs], ["l.t", "m.t", "s.t"])
        # no error log in the environment: none is made up for a lane
        self.assertEqual({s["log"] for s in runs}, {"-"})

    def test_more_lanes_than_files(self):
        self.file("a.t")
        r = self.run_lanes("4", os.path.join(self.dir, "work"), "--",
                           os.path.join(self.dir, "t", "a.t"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("1 files in 1 lanes", r.stdout.splitlines()[-1])

    def test_prove_arguments_pass_through(self):
        self.file("a.t")
        r = self.run_lanes("1", os.path.join(self.dir, "work"), "-v", "--",
                           os.path.join(self.dir, "t", "a.t"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # prove -v prints each test's line
        self.assertIn("[0] ok 1 - a.t", r.stdout.splitlines())

    def test_no_files(self):
        r = self.run_lanes("2", os.path.join(self.dir, "work"), "--")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no test files given", r.stderr)


if __name__ == "__main__":
    unittest.main()
