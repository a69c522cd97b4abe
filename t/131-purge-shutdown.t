# A purge by filter and a graceful shutdown: the worker that runs it goes
# on purging after a reload, without the pauses of durable_task_purge_pace,
# so that it does not stay up for them, and answers the purge; a pause
# that the shutdown finds running ends within its second (TEST 2). A
# purge whose client goes away during a pause goes on to the end (TEST 3).
#
# A pause over a second is armed a second at a time. Its batch has to
# take over 1/99 s (pace 1) to earn it, which no batch of a test store
# does on its own: in TEST 4 and 5 another process holds the store's
# write lock when the purge begins (t/tools/hold_write_lock.c, as
# DURABLE_HOLD_WRITE_LOCK names it), so that the first batch waits for
# it. TEST 4: the long pause is made in slices and the purge completes;
# TEST 5: a reload during a pause of minutes cuts it short within its
# second. Both are skipped when the helper is not there (plain prove
# without a make build). All blocks read debug lines.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks qw(master_pid);
use DurableClient ();
use IO::Socket::INET;
use POSIX ();

master_on();
workers(1);
repeat_each(1);
no_shuffle();

if (!DurableBlocks::debug_build()) {
    plan skip_all => 'nginx without --with-debug: no purge debug lines';
} else {
    # per block: status + body + grep_error_log_out + 1 no_error_log
    # pattern
    plan tests => 4 * blocks();
}

our $http_config = DurableBlocks::fresh_store('purge-shutdown');

our $config = <<'_EOC_';
    location /paced/ {
        durable_task /paced;
        durable_task_anonymous on;
        durable_task_purge_batch 1;
        durable_task_purge_pace 10;
    }

    location /slow/ {
        durable_task /slow;
        durable_task_anonymous on;
        durable_task_purge_batch 1;
        durable_task_purge_pace 1;
    }

    location /half/ {
        durable_task /half;
        durable_task_anonymous on;
        durable_task_purge_batch 1;
        durable_task_purge_pace 50;
    }
_EOC_

our $hold = $ENV{DURABLE_HOLD_WRITE_LOCK} || 'build/t-hold-write-lock';

# $n terminated instances of hub $hub under $loc (/paced by default)
sub main::terminated {
    my ($hub, $n, $loc) = @_;
    $loc //= '/paced';

    for my $path ((map { "orchestrators/Hello/t$_" } 1 .. $n),
                  (map { "instances/t$_/terminate" } 1 .. $n))
    {
        my $r = DurableClient::api('POST',
                    "$loc/$path?taskHub=$hub&code=testkey123", '');
        die "POST $path: $r->{status}" unless $r->{status} == 202;
    }
}

# the size of the error log now
sub main::log_size { return -s $Test::Nginx::Util::ErrLogFile // 0 }

# 30 terminated instances of hub $hub; then a child that reloads nginx
# once the purge has deleted one of them
sub main::purge_then_reload {
    my ($hub, $loc) = @_;
    $loc //= '/paced';

    main::terminated($hub, 30, $loc);

    my $master = DurableBlocks::master_pid();
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        for (1 .. 3000) {
            my $l = DurableClient::api('GET',
                        "$loc/instances?taskHub=$hub&code=testkey123");
            last if ref $l->{json} eq 'ARRAY' && @{ $l->{json} } < 30;
            select(undef, undef, undef, 0.02);
        }
        kill 'HUP', $master;
        POSIX::_exit(0);
    }
}

# holds the store's write lock for $secs from another process (the
# helper t/tools/hold_write_lock.c); returns once it is held. The helper
# lets it go when its input closes: that end is kept here until then.
our @lock_inputs;

sub main::hold_write_lock {
    my ($secs) = @_;

    push @main::lock_inputs, DurableBlocks::hold_write_lock(
                                 "$ENV{TEST_NGINX_DATA_DIR}/purge-shutdown",
                                 $secs);
}

add_cleanup_handler(\&DurableBlocks::reap_children);

run_tests();

__DATA__

=== TEST 1: after a reload the old worker purges on without pausing: no pause follows its "gracefully shutting down", and it answers the purge
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::purge_then_reload('S1');
--- request
DELETE /paced/instances?createdTimeFrom=2000-01-01&taskHub=S1&code=testkey123
--- timeout: 60
--- error_code: 200
--- response_body: {"instancesDeleted":30}
--- grep_error_log eval
qr/durable purge: pause \d+ms|gracefully shutting down/
--- grep_error_log_out eval
qr/\A(?:durable purge: pause \d+ms\n)+gracefully shutting down\n\z/
--- no_error_log
[error]



=== TEST 2: a pause that a reload finds running is cut short: the old worker answers the purge with no pause after its "gracefully shutting down"
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::purge_then_reload('S2', '/slow');
--- request
DELETE /slow/instances?createdTimeFrom=2000-01-01&taskHub=S2&code=testkey123
--- timeout: 120
--- error_code: 200
--- response_body: {"instancesDeleted":30}
--- grep_error_log eval
qr/durable purge: pause (?:\d+ms|over|cut short)|gracefully shutting down/
--- grep_error_log_out eval
qr/\A(?:durable purge: pause (?:\d+ms|over)\n)*(?:durable purge: pause \d+ms\ngracefully shutting down\ndurable purge: pause cut short|durable purge: pause over\ngracefully shutting down)\n\z/
--- no_error_log
[error]



=== TEST 3: a purge whose client goes away during a pause goes on: its instances are gone afterwards
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::terminated('S3', 5, '/slow');
my $pos = main::log_size();
my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                 PeerPort => DurableBlocks::port())
    or die "connect: $!";
print $sock "DELETE /slow/instances?createdTimeFrom=2000-01-01&taskHub=S3"
    . " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
for (1 .. 3000) {
    last if DurableBlocks::logged(qr/durable purge: pause \d+ms/, $pos);
    select(undef, undef, undef, 0.01);
}
close $sock;
for (1 .. 3000) {
    my $l = DurableClient::api('GET', '/slow/instances?taskHub=S3');
    last if ref $l->{json} eq 'ARRAY' && !@{ $l->{json} };
    select(undef, undef, undef, 0.02);
}
--- request
GET /slow/instances?taskHub=S3
--- timeout: 60
--- error_code: 200
--- response_body: []
--- grep_error_log eval
qr/durable purge: pause over/
--- grep_error_log_out eval
qr/\A(?:durable purge: pause over\n)+\z/
--- no_error_log
[error]



=== TEST 4: a batch that waited about 4 s for the write lock earns as long a pause (pace 50), made a second at a time; the purge then completes
--- http_config eval: $::http_config
--- config eval: $::config
--- skip_eval: 4: !-x $::hold
--- init
if (-x $::hold) {
    main::terminated('S4', 3, '/half');
    main::hold_write_lock(4);
}
--- request
DELETE /half/instances?createdTimeFrom=2000-01-01&taskHub=S4&code=testkey123
--- timeout: 60
--- error_code: 200
--- response_body: {"instancesDeleted":3}
--- grep_error_log eval
qr/durable purge: pause (?:\d+ms|over|cut short)/
--- grep_error_log_out eval
qr/\A(?:durable purge: pause 1000ms\n){2,}(?:durable purge: pause \d+ms\n)?durable purge: pause over\n(?:durable purge: pause (?:\d+ms|over)\n)*\z/
--- no_error_log
[error]



=== TEST 5: a batch that waited up to 3 s for the write lock earns a pause of minutes (pace 1); a reload during it cuts it short within its second, and the old worker answers the purge
--- http_config eval: $::http_config
--- config eval: $::config
--- skip_eval: 4: !-x $::hold
--- init
# 3 s of lock: a loaded host may send the request late, and its first
# batch must still find the lock held to earn pauses of a second
if (-x $::hold) {
    main::terminated('S5', 3, '/slow');
    my $pos = main::log_size();
    main::hold_write_lock(3);
    my $master = DurableBlocks::master_pid();
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        for (1 .. 3000) {
            last if DurableBlocks::logged(qr/durable purge: pause 1000ms/,
                                          $pos);
            select(undef, undef, undef, 0.02);
        }
        kill 'HUP', $master;
        POSIX::_exit(0);
    }
}
--- request
DELETE /slow/instances?createdTimeFrom=2000-01-01&taskHub=S5&code=testkey123
--- timeout: 60
--- error_code: 200
--- response_body: {"instancesDeleted":3}
--- grep_error_log eval
qr/durable purge: pause (?:\d+ms|over|cut short)|gracefully shutting down/
--- grep_error_log_out eval
qr/\A(?:durable purge: pause 1000ms\n)+gracefully shutting down\ndurable purge: pause cut short\n\z/
--- no_error_log
[error]
