# A worker process killed while its store's task waited for LMDB's write
# lock, and not replaced in its slot (an old worker of a reload), leaves
# its "waiting" bit in the shared zone. The other processes read those
# bits to decide whether a committed batch may hand the next one over
# before its answers (the early handover): a bit left behind turned the
# handover off for the store until the slot was used again. A process
# that finds the bit's owner gone clears it, and says so.
#
# Another process holds the store's write lock (t/tools/hold_write_lock.c,
# as DURABLE_HOLD_WRITE_LOCK names it) while the old worker's start
# waits for it; after a reload that worker is killed, and the lock let
# go (the new worker opens its store with a write). The new worker reads
# the bits when a batch ends with the next one queued: rounds of twenty
# starts at once make that happen, until the notice is logged (ten
# rounds at most; without the clearing it never is).

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks qw(master_pid);
use IO::Select ();
use IO::Socket::INET ();
use Time::HiRes ();

master_on();
workers(1);
repeat_each(1);
no_shuffle();

# status + body + 2 error_log
plan tests => 4 * blocks();

DurableBlocks::fresh_dirs('lock-wait-gone');

our $hold = $ENV{DURABLE_HOLD_WRITE_LOCK} || 'build/t-hold-write-lock';
our $lock_input;

# the store's write lock, held by another process until release_lock()
sub hold_lock {
    $main::lock_input = DurableBlocks::hold_write_lock(
                            "$ENV{TEST_NGINX_DATA_DIR}/lock-wait-gone", 30);
}

sub release_lock {
    close $main::lock_input;
}

# a start of $id sent, its answer left to answer_of()
sub send_start {
    my ($id) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => DurableBlocks::port())
        or die "connect: $!";
    print $s "POST /runtime/webhooks/durabletask/orchestrators/Hello/$id "
             . "HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
             . "Content-Type: application/json\r\nContent-Length: 2\r\n"
             . "\r\n{}";
    return $s;
}

# the status of the answer on $s, within 10 s
sub answer_of {
    my ($s) = @_;
    my $line = '';
    $line = <$s> // '' if IO::Select->new($s)->can_read(10);
    close $s;
    return $line =~ m{^HTTP/1\.1 (\d+)} ? $1 : "none ($line)";
}

# the status of a GET of $path
sub get_status {
    my ($path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => DurableBlocks::port())
        or return 0;
    print $s "GET $path HTTP/1.1\r\nHost: localhost\r\n"
             . "Connection: close\r\n\r\n";
    return main::answer_of($s);
}

# until $test holds, for 10 s at most
sub wait_for {
    my ($test, $what) = @_;
    for (1 .. 200) {
        return if $test->();
        Time::HiRes::sleep(0.05);
    }
    die "waited 10 s for $what";
}

add_cleanup_handler(\&DurableBlocks::reap_children);

run_tests();

__DATA__

=== TEST 1: the wait of a killed old worker is cleared by the new one
--- skip_eval: 4: !-x $::hold
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/lock-wait-gone;
--- config
    location = /ok {
        return 200 "ok\n";
    }
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
--- init
if (-x $::hold) {
    my $master = DurableBlocks::master_pid();
    my $old;
    main::wait_for(sub { ($old) = DurableBlocks::children_of($master); $old },
                   'a worker');
    main::wait_for(sub { main::get_status("/ok") == 200 },
                   'the worker to answer');

    # the old worker's start waits for the lock, its bit set
    main::hold_lock();
    my $a = main::send_start('gone-a');
    Time::HiRes::sleep(1);

    # a reload, then the old worker killed while it waits
    kill 'HUP', $master or die "HUP $master: $!";
    main::wait_for(sub { grep { $_ != $old } DurableBlocks::children_of($master) },
                   'a new worker');
    kill 'KILL', $old or die "KILL $old: $!";
    main::wait_for(sub { !kill 0, $old }, "worker $old to be reaped");
    close $a;
    main::release_lock();
    main::wait_for(sub { main::get_status("/ok") == 200 },
                   'the new worker to answer');

    # batches in the new worker, some with the next one queued
    for my $round (1 .. 10) {
        my @socks = map { main::send_start("gone-$round-$_") } 1 .. 20;
        my @codes = map { main::answer_of($_) } @socks;
        die "starts answered @codes" if grep { $_ ne '202' } @codes;
        last if DurableBlocks::logged(qr/its wait is cleared/);
    }
}
--- request
GET /runtime/webhooks/durabletask/instances/gone-1-20
--- error_code: 202
--- response_body_like chomp
"runtimeStatus":"Pending"
--- error_log eval
[qr/durable: process \d+, gone, waited for a store's write lock: its wait is cleared/,
 # the old worker killed on purpose: the master logs it at alert
 qr/\[alert\] .*worker process \d+ exited on signal 9/]
