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

# the runner's own pick: outside the range of ephemeral ports, which an
# outgoing connection could take (and hold in TIME_WAIT) between two of
# the many starts of nginx on this port
sub free_port {
    local $ENV{TEST_NGINX_SERVER_PORT} = 1;
    my $code = 'print Test::Nginx::Socket::pick_free_port(); POSIX::_exit(0)';
    my $p = `'$^X' -I'$lib' -MTest::Nginx::Socket -e '$code'`;
    $p =~ /^\d+$/ or die "no free port: $p\n";
    return $p;
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
    File::Path::rmtree("${servroot}_kept");
    my $r = expect_failures('wrong-status.tt', 1, qr/TEST 1: .* - status code ok/);
    like($r->{out}, qr/error\.log of .*TEST 1/,
         'wrong-status.tt: the block\'s error.log is printed on failure');
    my $kept = "${servroot}_kept/wrong-status.tt.TEST-1";
    ok(-s "$kept.error.log" && -s "$kept.nginx.conf",
       'wrong-status.tt: and kept with its nginx.conf');
    File::Path::rmtree("${servroot}_kept");
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

# --- nginx that does not start: the bail out's first line is all that
# prove shows of it, so nginx's stderr and the block's error.log are
# printed before it (diag), and copies of error.log and nginx.conf are
# kept where the next test file does not remove them
{
    File::Path::rmtree("${servroot}_kept");
    my $r = run_fixture('start-fails.tt');
    ok($r->{bail} && $r->{exit} != 0, 'start-fails.tt: bails out')
        or show($r);
    like($r->{out}, qr/^\# .*TEST 1: .* - nginx did not start \(3 attempts/m,
         'start-fails.tt: says that nginx did not start') or show($r);
    like($r->{out},
         qr/^# nginx: \[emerg\] unknown directive "selftest_no_such_dir/m,
         'start-fails.tt: nginx\'s stderr is printed outside the bail out')
        or show($r);
    my $kept = "${servroot}_kept/start-fails.tt.TEST-1";
    like(slurp_file("$kept.nginx.conf") // '', qr/selftest_no_such_directive/,
         'start-fails.tt: its nginx.conf is kept');
    like(slurp_file("$kept.error.log") // '',
         qr/\[emerg\] .*selftest_no_such_directive/,
         'start-fails.tt: its error.log is kept');
    File::Path::rmtree("${servroot}_kept");
}

# --- an nginx that does not exit in time after QUIT (a worker waits for
# a request whose header has not all come) is killed, with a warning
# that names the file and block, and what its log got meanwhile
{
    my $r = run_fixture('slow-quit.tt');
    is($r->{exit}, 0, 'slow-quit.tt: passes') or show($r);
    like($r->{out}, qr/^WARNING:\ \S+slow-quit\.tt\ TEST\ 1:\ .*\ -\ nginx\ \d+
                       \ did\ not\ exit\ within\ 0\.5s\ after\ QUIT;
                       \ killing\ it$/mx,
         'slow-quit.tt: the warning names the file and the block')
        or show($r);
    like($r->{out}, qr/^\# --- what error\.log got after the QUIT/m,
         'slow-quit.tt: and prints what nginx logged after the QUIT')
        or show($r);
    ok(!port_in_use(), 'slow-quit.tt: nginx killed');
}

# --- randomized ports are never in the kernel's range of ephemeral ports,
# which outgoing connections (nginx's to PostgreSQL) take theirs from
{
    local %ENV = %ENV;
    delete $ENV{$_} for grep { /^TEST_NGINX_/ } keys %ENV;
    $ENV{TEST_NGINX_RANDOMIZE} = 1;
    $ENV{TEST_NGINX_SERVROOT} = $servroot;
    my $code = 'print join(" ", $Test::Nginx::Socket::ServerPort, '
             . 'map { Test::Nginx::Socket::pick_free_port() } 1 .. 300); '
             . 'POSIX::_exit(0)';
    my @ports = split ' ', `'$^X' -I'$lib' -MTest::Nginx::Socket -e '$code'`;
    my ($lo, $hi) = split ' ',
        slurp_file('/proc/sys/net/ipv4/ip_local_port_range') // '32768 60999';
    is(scalar @ports, 301, 'pick_free_port: 301 ports');
    # a host whose ephemeral range leaves fewer than 1,000 ports outside
    # it out of 10000-65535 makes the runner pick inside it (t/README)
    my $room = ($lo - 1 - 10000 + 1 >= 1000) || (65535 - ($hi + 1) >= 1000);
    SKIP: {
        skip("ephemeral ports $lo-$hi leave no range outside them", 1)
            unless $room;
        is_deeply([grep { $_ >= $lo && $_ <= $hi } @ports], [],
                  "pick_free_port: none of them in $lo-$hi");
    }
    is_deeply([grep { $_ < 10000 || $_ > 65535 } @ports], [],
              'pick_free_port: all of them in 10000-65535');
}

# --- what holds a port that nginx cannot bind: a listener, and a
# connection closed from its own end (TIME_WAIT), which bind() refuses
# even with SO_REUSEADDR (port 0 for the listener: it holds its port
# from the bind on, and no nginx binds that port later)
{
    my $l = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1);
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $l->sockport);
    my $a = $l->accept;
    my ($lp, $cp) = ($l->sockport, $c->sockport);
    close $c;
    select undef, undef, undef, 0.05;
    close $a;
    select undef, undef, undef, 0.05;
    my $code = 'print map { "$_\n" } '
             . 'map { Test::Nginx::Socket::port_sockets($_) } '
             . "$lp, $cp; POSIX::_exit(0)";
    local $ENV{TEST_NGINX_SERVER_PORT} = $port;
    my $out = `'$^X' -I'$lib' -MTest::Nginx::Socket -e '$code'`;
    like($out, qr/^LISTEN 127\.0\.0\.1:$lp -> 0\.0\.0\.0:0 \(pid $$: /m,
         'port_sockets: a listener, with its process') or diag($out);
    like($out, qr/^TIME_WAIT 127\.0\.0\.1:$cp -> 127\.0\.0\.1:$lp$/m,
         'port_sockets: a closed connection in TIME_WAIT') or diag($out);
    my $b = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => $cp, ReuseAddr => 1);
    ok(!$b, 'a TIME_WAIT of an outgoing connection refuses bind() with '
            . 'SO_REUSEADDR');
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

sub slurp_file {
    open my $fh, '<', shift or return undef;
    local $/;
    return scalar <$fh>;
}

sub zombie {
    my $pid = shift;
    open my $fh, '<', "/proc/$pid/stat" or return 1;
    return <$fh> =~ /^\d+ \(.*\) Z /;
}

done_testing();
