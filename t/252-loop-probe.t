# durable_task_loop_probe (README, "Directives" and "Metrics"): a timer in
# each worker process that takes the event loop's CPU time between two of
# its ticks, counted for all the processes together in the histogram
# durable_event_loop_busy_seconds of the metrics page, which shows it only
# when the probe is on. The timer never holds a process that shuts down:
# after a reload the old workers exit (TEST 3). The samples are CPU time,
# not wall time: with the hook of test faults (DURABLE_TEST_FAULTS_BUILD=1,
# as make build does), a metrics page whose handler spins 30 ms on the CPU
# leaves a sample over 20 ms (TEST 6), and one whose handler sleeps 30 ms
# leaves none (TEST 7); those two blocks are skipped without the hook.
# Then the refusals. No block times anything: the waits only give the
# timer time to tick, or the old workers time to go.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks ();
use DurableClient qw(api);
use Time::HiRes ();

master_on();
workers(2);
repeat_each(1);
no_shuffle();

# two tests a block (the status or the refusal, and one check), three for
# the blocks of the faults (their warning too)
plan tests => repeat_each() * (2 * blocks() + 2);

our $faults = DurableBlocks::test_faults_build();

our $store = DurableBlocks::fresh_store('loop-probe');

our $config = <<'_EOC_';
    location = /durable/metrics {
        durable_task_metrics;
        durable_task_anonymous on;
    }
_EOC_

our $L = 'durable_event_loop_busy_seconds';

# one page read (its handler runs the fault, if any), then time for the
# probes of both processes to tick; a skipped block's --- init runs too,
# hence the check of the hook
sub main::page_then_wait {
    return unless $::faults;
    my $r = api('GET', '/durable/metrics');
    die "metrics: $r->{status}\n" unless $r->{status} == 200;
    Time::HiRes::sleep(1);
}

# the worker processes of the master, from /proc
sub main::worker_pids {
    my ($master) = @_;
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh> // next;
        # pid (comm) state ppid ...: comm may hold spaces
        push @pids, $1 if $line =~ /^(\d+) \(.*\) \S+ (\d+) / && $2 == $master;
    }
    return @pids;
}

# a reload (HUP) once the probes have ticked, then until the worker
# processes of before are gone (10 s at most: a timer that held them
# would keep them for ever)
sub main::reload_and_wait {
    Time::HiRes::sleep(0.5);
    my $master = DurableBlocks::master_pid();
    my @old = main::worker_pids($master) or die "no worker of $master\n";
    kill 'HUP', $master or die "HUP $master: $!\n";
    for (1 .. 100) {
        return unless grep { kill 0, $_ } @old;
        Time::HiRes::sleep(0.1);
    }
    die "worker processes @old still there 10 s after a reload\n";
}

# the blocks of the faults (their main_config sets DURABLE_TEST_FAULTS)
# are alike but for the fault and what its sample shows: skipped without
# the hook; the probe on; a page read whose handler runs the fault, then
# the page again
add_block_preprocessor(sub {
    my $block = shift;

    return unless ($block->main_config // '') =~ /\bDURABLE_TEST_FAULTS=/;

    # what a block says itself stays
    my %common = (
        skip_eval => '3: !$::faults',
        http_config => $::store . '    durable_task_loop_probe 1ms;',
        config => $::config,
        init => 'main::page_then_wait()',
        request => 'GET /durable/metrics',
        error_code => 200,
    );

    for my $name (sort keys %common) {
        $block->set_value($name => $common{$name})
            unless defined $block->$name;
    }
});

run_tests();

__DATA__

=== TEST 1: on: the histogram, its buckets and a count of ticks
--- http_config eval
$::store . '    durable_task_loop_probe 1ms;'
--- config eval: $::config
--- init
Time::HiRes::sleep(1);
--- request
GET /durable/metrics
--- error_code: 200
--- response_body_like eval
qr/^# HELP $::L The event loop's CPU time between two ticks of the probe \(durable_task_loop_probe\)\.
# TYPE $::L histogram
$::L\_bucket\{le="0\.001"\} \d+
$::L\_bucket\{le="0\.002"\} \d+
$::L\_bucket\{le="0\.005"\} \d+
$::L\_bucket\{le="0\.01"\} \d+
$::L\_bucket\{le="0\.02"\} \d+
$::L\_bucket\{le="0\.05"\} \d+
$::L\_bucket\{le="0\.1"\} \d+
$::L\_bucket\{le="\+Inf"\} [1-9]\d*
$::L\_sum \d+\.\d{6}
$::L\_count [1-9]\d*$/m



=== TEST 2: on without a store: the probe's zone is its own
--- http_config
    durable_task_loop_probe 5ms;
--- config eval: $::config
--- init
Time::HiRes::sleep(1);
--- request
GET /durable/metrics
--- error_code: 200
--- response_body_like eval
qr/^$::L\_count [1-9]\d*$/m



=== TEST 3: a reload: the old workers exit, the probe's timer holds none
--- http_config eval
$::store . '    durable_task_loop_probe 1ms;'
--- config eval: $::config
--- init
main::reload_and_wait();
--- request
GET /durable/metrics
--- error_code: 200
--- response_body_like eval
qr/^$::L\_count [1-9]\d*$/m



=== TEST 4: off, as written: no histogram
--- http_config eval
$::store . '    durable_task_loop_probe off;'
--- config eval: $::config
--- init
Time::HiRes::sleep(0.5);
--- request
GET /durable/metrics
--- error_code: 200
--- response_body_unlike
durable_event_loop_busy



=== TEST 5: off by default: no histogram
--- http_config eval: $::store
--- config eval: $::config
--- init
Time::HiRes::sleep(0.5);
--- request
GET /durable/metrics
--- error_code: 200
--- response_body_unlike
durable_event_loop_busy



=== TEST 6: a handler holding the loop 30 ms on the CPU: a sample over 20 ms
--- main_config
    env DURABLE_TEST_FAULTS=loop_spin;
--- response_body_like eval
# fewer samples at or under 0.02 than in all
qr/^$::L\_bucket\{le="0\.02"\} (\d+)$
(?:.*\n)*?$::L\_bucket\{le="\+Inf"\} (?!\1$)\d+$/m
--- error_log
DURABLE_TEST_FAULTS makes the event loop spin 30 ms



=== TEST 7: a handler that holds the loop 30 ms asleep, on no CPU, leaves none
--- main_config
    env DURABLE_TEST_FAULTS=loop_sleep;
--- response_body_like eval
# every sample at or under 0.02, and some
qr/^$::L\_bucket\{le="0\.02"\} ([1-9]\d*)$
(?:.*\n)*?$::L\_bucket\{le="\+Inf"\} \1$/m
--- error_log
DURABLE_TEST_FAULTS makes the event loop sleep 30 ms



=== TEST 8: 0 is refused
--- http_config
    durable_task_loop_probe 0;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"durable_task_loop_probe" takes off or an interval from 1ms to 1s, not "0"/



=== TEST 9: over 1s is refused
--- http_config
    durable_task_loop_probe 1001ms;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"durable_task_loop_probe" takes off or an interval from 1ms to 1s, not "1001ms"/



=== TEST 10: what is not a time is refused
--- http_config
    durable_task_loop_probe often;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"durable_task_loop_probe" takes off or an interval from 1ms to 1s, not "often"/



=== TEST 11: twice is refused
--- http_config
    durable_task_loop_probe 1ms;
    durable_task_loop_probe off;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"durable_task_loop_probe" directive is duplicate/



=== TEST 12: in a server is refused: one probe per process
--- http_config
--- config
    durable_task_loop_probe 1ms;
--- must_die
--- error_log eval
qr/\[emerg\] .*"durable_task_loop_probe" directive is not allowed here/
