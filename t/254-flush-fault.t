# A failed flush of the store stops the writes of every worker process,
# not only of the one whose flush failed, and a reload's new workers stay
# stopped (docs/design.md, "Sync modes"). The failure is made by the hook
# of test builds (DURABLE_TEST_FAULTS_BUILD=1 at configure time, as make
# build does): DURABLE_TEST_FAULTS=store_flush, set for the workers with
# nginx's env directive, makes every flush after a commit fail with EIO
# in the first worker process only. Without the hook the file is skipped.
# The writes of the batch whose flush failed are answered 500; those the
# stop refuses after it 503, with a message of their own, and their
# requests' lines are at info: the store logs its refusals itself, once a
# second at most, not once a request. Reads go on. With sync=off, a failed
# flush of the store's timer stops the writes the same way (TEST 3). The
# metrics page counts the refusals under durable_errors_total's
# store_stopped, the failed writes under store_failed. A gRPC write the
# stop refuses (TEST 4, through the runner's server and nginx's own gRPC
# client, as t/261) is UNAVAILABLE with its message, its line at info.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks ();
use HTTP::Tiny;
use Time::HiRes ();

master_on();
workers(2);
repeat_each(1);
no_shuffle();

if (!DurableBlocks::test_faults_build()) {
    plan skip_all => 'a module without the hook of test faults';
} else {
    # TEST 1: 11 checks of its own, status, body, 4 error_log patterns;
    # TEST 2: status, body, no_error_log; TEST 3: 6 checks of its own,
    # status, body, 3 error_log patterns; TEST 4: 3 checks of its own,
    # status, 3 headers, 2 error_log patterns, no_error_log
    plan tests => 11 + 6 + 3 + 6 + 5 + 3 + 7;
}

# a second listener with reuseport, so the kernel spreads new connections
# over both workers (t/200-multi-worker.t); TEST 4's gRPC endpoint
$ENV{TEST_NGINX_DURABLE_RP_PORT} = DurableBlocks::free_port();
$ENV{TEST_NGINX_DURABLE_GRPC_PORT} = DurableBlocks::free_port();

our $http_config = DurableBlocks::fresh_store('flush-fault') . <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_DURABLE_RP_PORT reuseport;

        location /ff/ {
            durable_task /ff;
            durable_task_anonymous on;
            add_header X-Pid $pid always;
        }
    }
_EOC_

# the same on a store of its own with sync=off, flushed every 50 ms
our $http_config_off = $http_config;
{
    my $off = DurableBlocks::fresh_store('flush-fault-off');
    $off =~ s/;\n\z/ sync=off flush=50ms;\n/ or die "no store line: $off";
    $http_config_off =~ s/\A.*?;\n/$off/s or die "no store line";
}

our $config = <<'_EOC_';
    location /ff/ {
        durable_task /ff;
        durable_task_anonymous on;
    }

    location = /durable/metrics {
        durable_task_metrics;
        durable_task_anonymous on;
    }
_EOC_

# TEST 4: a store of its own, whose first worker's first flush fails,
# with a gRPC endpoint on it, which the runner's server passes calls to
our $http_config_grpc = $http_config . <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_DURABLE_GRPC_PORT http2;

        location /TaskHubSidecarService/ {
            durable_task_grpc;
            durable_task_anonymous on;
        }
    }
_EOC_
{
    my $grpc = DurableBlocks::fresh_store('flush-fault-grpc');
    $http_config_grpc =~ s/\A.*?;\n/$grpc/s or die "no store line";
}

our $config_grpc = $config . <<'_EOC_';
    location /TaskHubSidecarService/ {
        grpc_pass grpc://127.0.0.1:$TEST_NGINX_DURABLE_GRPC_PORT;
    }
_EOC_

# the statuses of the block's writes (POSTs), as req() got them
our %answered;

# one request on a new connection; returns (status, body, worker pid)
sub req {
    my ($method, $path) = @_;
    my $r = HTTP::Tiny->new(timeout => 10, keep_alive => 0)->request($method,
        "http://127.0.0.1:$ENV{TEST_NGINX_DURABLE_RP_PORT}$path");
    $answered{$r->{status}}++ if $method eq 'POST';
    return ($r->{status}, $r->{content}, $r->{headers}{'x-pid'} // '');
}

# durable_errors_total's store_failed and store_stopped on the metrics
# page, against the 500s and 503s answered to req()'s writes (plus
# $more refusals, TEST 4's gRPC call): "failed/stopped" both
sub errors_counted {
    my ($more) = @_;
    my $r = HTTP::Tiny->new(timeout => 10)->get('http://127.0.0.1:'
        . DurableBlocks::port() . '/durable/metrics');
    my %n = $r->{content} =~ /^durable_errors_total\{cause="(\w+)"\} (\d+)$/mg;
    Test::More::is(($n{store_failed} // 'none') . '/'
                   . ($n{store_stopped} // 'none'),
                   ($answered{500} // 0) . '/'
                   . (($answered{503} // 0) + ($more // 0)),
                   'durable_errors_total: the failed writes under '
                   . 'store_failed, the refused ones under store_stopped');
}

# a gRPC StartInstance of $id (orchestration Hello): the body, one
# message behind its 5-byte prefix (name first: the runner strips a
# body's leading white space, and instanceId's tag is a newline)
sub grpc_start_body {
    my ($id) = @_;
    my $msg = "\x12\x05Hello" . "\x0a" . chr(length $id) . $id;
    return "\0" . pack('N', length $msg) . $msg;
}

# the same through the runner's server; returns "status grpc-status
# grpc-message"
sub grpc_start {
    my ($id) = @_;
    my $r = HTTP::Tiny->new(timeout => 10)->request('POST',
        'http://127.0.0.1:' . DurableBlocks::port()
        . '/TaskHubSidecarService/StartInstance',
        { content => grpc_start_body($id),
          headers => { 'Content-Type' => 'application/grpc' } });
    return join ' ', $r->{status}, $r->{headers}{'grpc-status'} // '-',
                     $r->{headers}{'grpc-message'} // '-';
}

# gRPC's answer to a refused write (dg_status.c)
our $grpc_refused = "the store takes no writes: a flush of its data "
    . "failed; see the server's error log";

# the answer of a write the stop refused
our $refused_body = '{"Message":"The store \'default\' takes no writes: '
    . 'a flush of its data failed; see the error log."}';

# starts ff-N, N from $$n on, until a start answered by another process
# followed one that failed (500 or 503) and every process of @pids
# answered (100 at most; $main::pause seconds apart); returns the
# [status, pid, body] of each
our $pause = 0;
sub starts {
    my ($n, @pids) = @_;
    my (@seq, $failed, %seen);
    for (1 .. 100) {
        select undef, undef, undef, $pause if $pause;
        my ($st, $body, $p) = req(POST => "/ff/orchestrators/Hello/ff-"
                                          . $$n++);
        push @seq, [$st, $p, $body];
        $seen{$p} = 1;
        $failed //= $p if $st == 500 || $st == 503;
        last if defined $failed && $p ne $failed
                && !grep { !$seen{$_} } @pids;
    }
    return @seq;
}

run_tests();

__DATA__

=== TEST 1: a flush fails in one worker: both stop writing, and stay stopped after a reload
--- main_config
    env DURABLE_TEST_FAULTS=store_flush;
--- http_config eval: $::http_config
--- config eval: $::config
--- init
%main::answered = ();
my $n = 1;
my $master = DurableBlocks::master_pid();
my @old = DurableBlocks::children_of($master);
my @seq = main::starts(\$n);
my ($first) = grep { $seq[$_][0] != 202 } 0 .. $#seq;
# the start whose flush failed: 500, as any failed commit
Test::More::is(defined $first ? $seq[$first][0] : 'none', 500, 'a start failed: ' . join(' ', map { "$_->[0]/$_->[1]" } @seq));
$first //= scalar @seq;
my @before = grep { $_->[0] != 202 } @seq[0 .. $first - 1];
Test::More::is(scalar @before, 0, 'every start before it was 202');
my @after = @seq[$first + 1 .. $#seq];
my @other = grep { $_->[1] ne ($seq[$first] // [0, ''])->[1] } @after;
Test::More::ok(scalar @other, 'the other worker answered starts after it');
# those after it: refused by the stop, 503 and a message saying so
Test::More::is_deeply([map { "$_->[0] $_->[2]" } grep { $_->[0] != 503 || $_->[2] ne $main::refused_body } @after], [], 'every start after it refused, in either worker');
my ($rst, $rbody) = main::req(GET => '/ff/instances/ff-1');
Test::More::is("$rst", '202', 'a read answered while writes are refused: ' . ($rbody // ''));
kill 'HUP', $master or die "HUP $master: $!";
my %old = map { $_ => 1 } @old;
my @new;
for (1 .. 100) {
    @new = grep { !$old{$_} } DurableBlocks::children_of($master);
    last if @new == 2;
    select undef, undef, undef, 0.1;
}
my $t0 = Time::HiRes::time();
@seq = grep { !$old{$_->[1]} } main::starts(\$n, @new);
Test::More::is_deeply([grep { $_->[0] != 503 } @seq], [], 'after a reload, the new workers refuse writes too: ' . join(' ', map { "$_->[0]/$_->[1]" } @seq));
# each process that refused logs the stop once
open my $fh, '<', $Test::Nginx::Util::ErrLogFile or die "error log: $!";
my %alerts;
while (<$fh>) {
    $alerts{$1}++ if /\[alert\] (\d+)#\d+: .*takes no writes from now on/;
}
Test::More::is_deeply([grep { $alerts{$_} != 1 } keys %alerts], [], 'the stop logged once a process: ' . join(',', map { "$_=$alerts{$_}" } sort keys %alerts));
Test::More::ok((grep { $alerts{$_} } @old) == 2, 'both first workers logged it');
# a burst of refused starts: a line a second at most in each new process
# (since its first refusal), and no line of each request at error
my %refused;
for (1 .. 30) {
    my ($st, undef, $p) = main::req(POST => "/ff/orchestrators/Hello/ff-" . $n++);
    $refused{$p}++ if $st == 503;
}
my $took = Time::HiRes::time() - $t0;
seek $fh, 0, 0;
my (%lines, $each);
while (<$fh>) {
    $lines{$1}++ if /\[error\] (\d+)#\d+: durable: \d+ of a batch of \d+ writes to store "default" refused(?:, and \d+ more since [^:]*)?: beginning a txn: a flush of the store failed/;
    $each++ if /\[error\] .*store "default" (?:failed|refused a write) while starting/;
}
my @many = grep { ($lines{$_} // 0) > 1 + int($took) + 1 } @new;
Test::More::is_deeply(\@many, [], "refusals logged once a second at most, by each new worker (${took}s): " . join(',', map { "$_=" . ($lines{$_} // 0) . "/" . ($refused{$_} // 0) } sort keys %refused));
# the start whose flush failed is logged at error, as any store failure;
# the refused ones at info
Test::More::is($each // 0, 1, 'one request line at error, the failed start\'s, none for the refused ones');
# the metrics page, whose counters a reload keeps: the failed start under
# store_failed, every refused one under store_stopped
main::errors_counted();
--- request
GET /ff/instances/ff-1
--- error_code: 202
--- response_body_like: "instanceId":"ff-1","runtimeStatus":"Pending"
--- error_log eval
[qr/\[error\] .*of a batch of \d+ writes to store "default" failed: flushing the commit: Input\/output error/,
 qr/\[alert\] .*durable: store "default" takes no writes from now on: a flush of it failed/,
 qr/\[error\] .*durable: store "default" failed while starting: store error/,
 qr/\[info\] .*durable: store "default" refused a write while starting: writes stopped after a failed flush of the store/]



=== TEST 2: nginx started again: the store takes writes
--- http_config eval: $::http_config
--- config eval: $::config
--- request
POST /ff/orchestrators/Hello/again
--- error_code: 202
--- response_body_like: "id":"again"
--- no_error_log
[alert]



=== TEST 3: sync=off: a failed flush of the store's timer stops the writes of both workers
--- main_config
    env DURABLE_TEST_FAULTS=store_flush;
--- http_config eval: $::http_config_off
--- config eval: $::config
--- init
%main::answered = ();
my $n = 1;
local $main::pause = 0.02;
my @seq = main::starts(\$n);
my ($first) = grep { $seq[$_][0] != 202 } 0 .. $#seq;
Test::More::ok(defined $first, 'a start failed: ' . join(' ', map { "$_->[0]/$_->[1]" } @seq));
$first //= scalar @seq;
Test::More::is(scalar(grep { $_->[0] != 202 } @seq[0 .. $first - 1]), 0, 'every start before it was 202');
my @after = @seq[$first .. $#seq];
Test::More::ok(scalar(grep { $_->[1] ne ($seq[$first] // [0, ''])->[1] } @after), 'the other worker answered starts after it');
# the timer's flush failed, not a write's: every failed start was refused
Test::More::is_deeply([map { "$_->[0] $_->[2]" } grep { $_->[0] != 503 || $_->[2] ne $main::refused_body } @after], [], 'every start after it refused, in either worker');
my ($rst, $rbody) = main::req(GET => '/ff/instances/ff-1');
Test::More::is("$rst", '202', 'a read answered while writes are refused: ' . ($rbody // ''));
# none failed: every one is under store_stopped
main::errors_counted();
--- request
GET /ff/instances/ff-1
--- error_code: 202
--- response_body_like: "instanceId":"ff-1","runtimeStatus":"Pending"
--- error_log eval
[qr/\[alert\] .*durable: flushing store "default" failed: Input\/output error/,
 qr/\[alert\] .*durable: store "default" takes no writes from now on: a flush of it failed/,
 qr/\[info\] .*durable: store "default" refused a write while starting: writes stopped after a failed flush of the store/]



=== TEST 4: gRPC: a write the stop refuses is UNAVAILABLE, its line at info
--- main_config
    env DURABLE_TEST_FAULTS=store_flush;
--- http_config eval: $::http_config_grpc
--- config eval: $::config_grpc
--- init
%main::answered = ();
my $n = 1;
my @seq = main::starts(\$n);
Test::More::ok(scalar(grep { $_->[0] == 503 } @seq), 'the stop refused starts: ' . join(' ', map { "$_->[0]/$_->[1]" } @seq));
Test::More::is(main::grpc_start('fg-1'), "200 14 $main::grpc_refused", 'a gRPC start refused');
# counted with the HTTP refusals, under store_stopped
main::errors_counted(1);
--- request eval
"POST /TaskHubSidecarService/StartInstance\n" . main::grpc_start_body('fg-2')
--- more_headers
Content-Type: application/grpc
--- error_code: 200
--- response_headers_like eval
"Content-Type: application/grpc
grpc-status: 14
grpc-message: \Q$::grpc_refused\E"
--- error_log eval
[qr/\[alert\] .*durable: store "default" takes no writes from now on: a flush of it failed/,
 qr/\[info\] .*durable: store "default" refused a write while serving gRPC StartInstance: writes stopped after a failed flush of the store/]
--- no_error_log eval
[qr/\[error\] .*while serving gRPC/]
