# Self-test of the project's Test::Nginx::Socket runner (t/lib).
#
# Each fixture under t/selftest/ (named *.tt so `prove -r t` never collects
# them) is run in a subprocess with its own port and server root.  Fixtures
# written with wrong expectations must fail; the passing one must pass with
# exactly the planned number of tests.

use strict;
use warnings;

use Cwd ();
use File::Basename ();
use File::Path ();
use File::Spec ();
use File::Temp ();
use IO::Socket::INET ();
use Test::More;
use lib 't/inc';
use DurableBackend;

my $repo = Cwd::abs_path(File::Spec->catdir(File::Basename::dirname(__FILE__), '..'));
my $lib  = "$repo/t/lib";
my $dir  = "$repo/t/selftest";

my $nginx = $ENV{TEST_NGINX_BINARY}
    || (grep { -x } map { "$_/nginx" } File::Spec->path, '/usr/sbin', '/usr/local/sbin')[0];
plan skip_all => 'no nginx binary found' unless $nginx;

my $tmp = File::Temp::tempdir('tn-selftest-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $servroot = "$tmp/servroot";
my $port = free_port();

# Run one fixture; returns a hash describing its TAP output.
sub run_fixture {
    my ($file, %env) = @_;
    local %ENV = %ENV;
    delete $ENV{$_} for grep { /^TEST_NGINX_/ } keys %ENV;
    $ENV{TEST_NGINX_BINARY}      = $nginx;
    $ENV{TEST_NGINX_SERVER_PORT} = $port;
    $ENV{TEST_NGINX_SERVROOT}    = $servroot;
    $ENV{TEST_NGINX_DIAG_LOG_LINES} = 20;
    $ENV{$_} = $env{$_} for keys %env;

    my $out = `cd '$repo' && '$^X' -I'$lib' '$dir/$file' 2>&1`;
    my $status = $?;
    my %r = (
        out    => $out,
        exit   => $status >> 8,
        signal => $status & 127,
        ok     => scalar(() = $out =~ /^ok \d+/mg),
        not_ok => [ $out =~ /^(not ok \d+.*)$/mg ],
        bail   => $out =~ /^Bail out!/m ? 1 : 0,
    );
    $r{plan} = $1 if $out =~ /^1\.\.(\d+)/m;
    return \%r;
}

sub show {
    my ($r) = @_;
    diag("fixture output:\n$r->{out}");
}

# Assert that a fixture failed with exactly the expected failing checks.
sub expect_failures {
    my ($file, $n, $re, %env) = @_;
    my $r = run_fixture($file, %env);
    my $ok = 1;
    $ok &&= ok($r->{exit} != 0, "$file: non-zero exit status ($r->{exit})");
    $ok &&= is(scalar @{ $r->{not_ok} }, $n, "$file: $n failing check(s)");
    $ok &&= like(join("\n", @{ $r->{not_ok} }), $re, "$file: the expected checks failed");
    $ok &&= ok(!$r->{bail}, "$file: no bail out");
    show($r) unless $ok;
    return $r;
}

sub port_in_use {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp');
    return $s ? 1 : 0;
}

sub free_port {
    for (1 .. 50) {
        my $p = 30000 + int(rand(20000));
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $p,
                                      Listen => 1, ReuseAddr => 1, Proto => 'tcp');
        if ($s) { close $s; return $p }
    }
    die "no free port\n";
}

sub read_pid {
    open my $fh, '<', "$servroot/logs/nginx.pid" or return undef;
    my $pid = <$fh>;
    return $pid && $pid =~ /(\d+)/ ? $1 : undef;
}

# --- the passing fixture: right count, all ok, nginx stopped at the end
{
    my $r = run_fixture('passing.tt');
    my $ok = is($r->{exit}, 0, 'passing.tt: exit status 0');
    $ok &&= is($r->{plan}, 64, 'passing.tt: plans 64 tests');
    $ok &&= is($r->{ok}, 64, 'passing.tt: 64 tests ok');
    $ok &&= is_deeply($r->{not_ok}, [], 'passing.tt: no failing test');
    $ok &&= unlike($r->{out}, qr/Looks like|Bail out/, 'passing.tt: clean summary');
    $ok &&= unlike($r->{out}, qr/^WARNING/m, 'passing.tt: no warning');
    show($r) unless $ok;
    ok(!port_in_use(), 'passing.tt: nginx stopped at exit');
}

# --- ONLY is honoured and blocks() counts only the chosen block
{
    my $r = run_fixture('only.tt');
    my $ok = is($r->{exit}, 0, 'only.tt: exit status 0');
    $ok &&= is($r->{plan}, 2, 'only.tt: blocks() counted 1 block');
    $ok &&= is($r->{ok}, 2, 'only.tt: 2 tests ok');
    show($r) unless $ok;
}

# --- wrong expectations must fail
{
    my $r = expect_failures('wrong-status.tt', 1, qr/TEST 1: .* - status code ok/);
    like($r->{out}, qr/error\.log of .*TEST 1/,
         'wrong-status.tt: the block\'s error.log is printed on failure');
}
expect_failures('wrong-body.tt', 3,
    qr/TEST 1: .*response_body .*\n.*TEST 2: .*response_body_like.*\n.*TEST 3: .*response_body_unlike/);
expect_failures('wrong-header.tt', 2, qr/header X-Foo ok.*\n.*header X-Bar not present/);
expect_failures('error-log.tt', 2,
    qr/TEST 1: .*"this line is not in the log" matches.*\n.*TEST 2: .*"\[error\]" should not match/);
{
    expect_failures('must-die.tt', 1, qr/TEST 1: .* - die as expected/);
    ok(!port_in_use(), 'must-die.tt: the nginx that did start was stopped');
}
expect_failures('timeout.tt', 2,
    qr/ERROR: client socket timed out - .*TEST 1.*\n.*status code ok/);

# --- as in the real runner, an [alert], [crit] or [emerg] line is printed
# as a WARNING unless a pattern of the block's error_log or no_error_log
# holds "[alert", "[crit" or "[emerg" (the word alone does not count), in
# must_die blocks and blocks without patterns too; a failed assertion is a
# failure
{
    my $r = run_fixture('warn-levels.tt');
    my $ok = is($r->{exit}, 0, 'warn-levels.tt: passes');
    my @w = $r->{out} =~ /^(WARNING: .*)$/mg;
    $ok &&= is(scalar @w, 3, 'warn-levels.tt: 3 warnings');
    # the block's name, then the line with its quotes escaped
    my $emerg = qr/\[emerg\] .*unknown directive \\"selftest_/;
    my $crit = qr/\[crit\] .*open\(\) \\".*Not a directory/;
    $ok &&= like($w[0] // '', qr/^WARNING: \S+ TEST 1: .* - .*$emerg/,
                 'warn-levels.tt: TEST 1 (must_die, "emerg") warns');
    $ok &&= like($w[1] // '', qr/^WARNING: \S+ TEST 2: .* - .*$crit/,
                 'warn-levels.tt: TEST 2 ("crit") warns');
    $ok &&= like($w[2] // '', qr/^WARNING: \S+ TEST 3: .* - .*$crit/,
                 'warn-levels.tt: TEST 3 (no pattern) warns');
    show($r) unless $ok;

    $r = run_fixture('warn-named.tt');
    $ok = is($r->{exit}, 0, 'warn-named.tt: passes');
    $ok &&= is($r->{ok}, 6, 'warn-named.tt: 6 tests ok');
    $ok &&= unlike($r->{out}, qr/^WARNING/m, 'warn-named.tt: no warning');
    show($r) unless $ok;
}
expect_failures('assertion.tt', 1,
    qr/TEST 1: .* - .*\[error\] .*open\(\) ".*Assertion `selftest' failed\."/);

# --- bail outs
{
    my $r = run_fixture('bail-env.tt');
    ok($r->{bail} && $r->{exit} != 0, 'bail-env.tt: bails out') or show($r);
    like($r->{out}, qr/No environment TEST_NGINX_SELFTEST_SURELY_UNSET defined/,
         'bail-env.tt: names the variable');
}
{
    # an unknown entry in the server root is never silently deleted
    File::Path::mkpath("$servroot/unknown-dir");
    my $r = run_fixture('passing.tt');
    ok($r->{bail}, 'servroot with an unknown entry: bails out') or show($r);
    like($r->{out}, qr/Can't remove .*not empty/, 'servroot: says why');
    ok(-d "$servroot/unknown-dir", 'servroot: the unknown entry is kept');
    File::Path::rmtree("$servroot/unknown-dir");
}

# --- the three ways the real runner is matched, so that a test file that
# only works with this runner fails here too
{
    # --- init runs in package Test::Nginx::Util
    my $r = run_fixture('init-unqualified.tt');
    ok($r->{bail} && $r->{exit} != 0, 'init-unqualified.tt: bails out')
        or show($r);
    like($r->{out},
         qr/init failed: Undefined subroutine &Test::Nginx::Util::helper/,
         'init-unqualified.tt: the helper is looked up in Test::Nginx::Util');
}
{
    # $Test::Nginx::Socket::ErrLogFile does not exist there
    my $r = run_fixture('misplaced-var.tt');
    isnt($r->{exit}, 0, 'misplaced-var.tt: dies') or show($r);
    like($r->{out}, qr/\$Test::Nginx::Socket::ErrLogFile\ does\ not\ exist
                       .*use\ \$Test::Nginx::Util::ErrLogFile/x,
         'misplaced-var.tt: names the variable to use');
}
{
    # a cleanup handler's $? is the script's exit status
    my $r = run_fixture('cleanup-status.tt');
    is($r->{ok}, 2, 'cleanup-status.tt: its checks pass') or show($r);
    isnt($r->{exit}, 0, 'cleanup-status.tt: waitpid() without local $? '
                        . 'fails the script') or show($r);
    like($r->{out}, qr/exited with -1/, 'cleanup-status.tt: with status -1');
    $r = run_fixture('cleanup-status.tt', SELFTEST_LOCAL_STATUS => 1);
    is($r->{exit}, 0, 'cleanup-status.tt: with local $? it passes')
        or show($r);
    ok(!port_in_use(), 'cleanup-status.tt: nginx stopped at exit');
}

# --- what is not implemented is refused, never silently ignored
sub expect_refusal {
    my ($label, $file, $re, %env) = @_;
    my $r = run_fixture($file, %env);
    ok($r->{bail} && $r->{exit} != 0, "$label: bails out") or show($r);
    like($r->{out}, $re, "$label: says what is not implemented") or show($r);
    ok(!port_in_use(), "$label: no nginx left running");
}
expect_refusal('--- stap', 'refuse-stap.tt',
               qr/--- stap: this section is not implemented/);
expect_refusal('--- udp_*', 'refuse-udp.tt',
               qr/--- udp_listen: this section is not implemented/);
expect_refusal('an unknown section', 'refuse-unknown.tt',
               qr/--- response_bdy: this section is not implemented/);
expect_refusal('use_hup()', 'refuse-use-hup.tt',
               qr/use_hup\(\): this mode .* is not implemented/);
expect_refusal('TEST_NGINX_USE_HUP', 'passing.tt',
               qr/TEST_NGINX_USE_HUP: this mode .* is not implemented/,
               TEST_NGINX_USE_HUP => 1);
expect_refusal('TEST_NGINX_CHECK_LEAK', 'passing.tt',
               qr/TEST_NGINX_CHECK_LEAK: this mode .* is not implemented/,
               TEST_NGINX_CHECK_LEAK => 1);
expect_refusal('shutdown_error_log before a block without config',
               'shutdown-log-noconfig.tt',
               qr/shutdown_error_log: the next block .* does not restart/);

# --- shutdown_error_log, request_eval and curl
{
    my $r = expect_failures('shutdown-log.tt', 2,
        qr/TEST\ 2:\ .*"http\ request\ line"\ matches\ a\ line\ in\ error\.log
           \ after\ nginx\ stopped\n
           .*TEST\ 3:\ .*"this\ line\ is\ not\ in\ the\ log"\ matches/x);
    is($r->{ok}, 7, 'shutdown-log.tt: the other 7 checks pass');
    like($r->{out}, qr/^ok\ \d+\ -\ .*TEST\ 1:\ .*"shutting\ down"\ matches
                       \ a\ line\ in\ error\.log\ after\ nginx\ stopped$/mx,
         'shutdown-log.tt: TEST 1 sees the lines of its nginx\'s shutdown');
    ok(!port_in_use(), 'shutdown-log.tt: nginx stopped at exit');
}
{
    my $r = expect_failures('request-eval.tt', 1,
                            qr/TEST 3: wrong expectation - response_body/);
    is($r->{ok}, 7, 'request-eval.tt: the other 7 checks pass');
}
{
    # curl.tt leaves its last nginx running, so that the curl command
    # printed for its last block can be replayed against it
    my $r = expect_failures('curl.tt', 1, qr/TEST 2: .* - response_body/,
                            TEST_NGINX_NO_CLEAN => 1);
    is($r->{ok}, 3, 'curl.tt: the other 3 checks pass');
    my @cmds = $r->{out} =~ /^# (curl .*)$/mg;
    is(scalar @cmds, 2, 'curl.tt: a curl command for each block');
    my $out = `$cmds[-1] 2>&1`;
    like($out, qr{^HTTP/1\.1 200 },
         'curl.tt: the replayed request is answered 200');
    like($out, qr/\r\n\r\nPOST it's a "header" some body\z/,
         'curl.tt: with the method, the header and the body of the block')
        or diag("curl: $cmds[-1]\n$out");
    my $pid = read_pid();
    if ($pid && kill 'QUIT', $pid) {
        for (1 .. 100) {
            last unless kill(0, $pid) && !zombie($pid);
            select undef, undef, undef, 0.05;
        }
    }
    ok(!port_in_use(), 'curl.tt: its nginx is stopped');
}

# --- an nginx left running (TEST_NGINX_NO_CLEAN, or a crash) is stopped
{
    my $r = run_fixture('passing.tt', TEST_NGINX_NO_CLEAN => 1);
    is($r->{exit}, 0, 'NO_CLEAN run passes') or show($r);
    my $pid = read_pid();
    ok($pid && kill(0, $pid), 'NO_CLEAN: nginx left running');
    $r = run_fixture('passing.tt');
    is($r->{exit}, 0, 'next run passes despite the stale nginx') or show($r);
    ok(!$pid || !kill(0, $pid) || zombie($pid), 'the stale nginx was stopped');
    ok(!port_in_use(), 'and nothing is left running');
}

# --- valgrind mode plumbing (foreground child, daemon off); --tool=none
# keeps it quick and free of reports from the stock nginx
SKIP: {
    my $vg = (grep { -x } map { "$_/valgrind" } File::Spec->path)[0];
    skip 'valgrind not installed', 2 unless $vg;
    my $r = run_fixture('only.tt', TEST_NGINX_USE_VALGRIND => '--tool=none');
    is($r->{exit}, 0, 'only.tt under valgrind: passes') or show($r);
    ok(!port_in_use(), 'only.tt under valgrind: nginx stopped at exit');
}

sub zombie {
    my $pid = shift;
    open my $fh, '<', "/proc/$pid/stat" or return 1;
    return <$fh> =~ /^\d+ \(.*\) Z /;
}

done_testing();
