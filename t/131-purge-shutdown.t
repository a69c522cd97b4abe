# A purge by filter and a graceful shutdown: the worker that runs it goes
# on purging after a reload, without the pauses of durable_task_purge_pace,
# so that it does not stay up for them, and answers the purge.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks qw(master_pid);
use DurableClient ();
use POSIX ();

master_on();
workers(1);
repeat_each(1);
no_shuffle();

# per block: status + body + grep_error_log_out + 1 no_error_log pattern
plan tests => 4 * blocks();

our $http_config = DurableBlocks::fresh_store('purge-shutdown');

our $config = <<'_EOC_';
    location /paced/ {
        durable_task /paced;
        durable_task_anonymous on;
        durable_task_purge_batch 1;
        durable_task_purge_pace 10;
    }
_EOC_

# 30 terminated instances of hub $hub; then a child that reloads nginx
# once the purge has deleted one of them
sub main::purge_then_reload {
    my ($hub) = @_;

    for my $path ((map { "orchestrators/Hello/t$_" } 1 .. 30),
                  (map { "instances/t$_/terminate" } 1 .. 30))
    {
        my $r = DurableClient::api('POST',
                    "/paced/$path?taskHub=$hub&code=testkey123", '');
        die "POST $path: $r->{status}" unless $r->{status} == 202;
    }

    my $master = DurableBlocks::master_pid();
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        for (1 .. 3000) {
            my $l = DurableClient::api('GET',
                        "/paced/instances?taskHub=$hub&code=testkey123");
            last if ref $l->{json} eq 'ARRAY' && @{ $l->{json} } < 30;
            select(undef, undef, undef, 0.02);
        }
        kill 'HUP', $master;
        POSIX::_exit(0);
    }
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
