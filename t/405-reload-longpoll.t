# Long-polls and a graceful shutdown: a worker process told to quit (reload,
# binary upgrade) answers the requests it holds waiting as if their
# deadline had come, so it does not stay up for the rest of their wait; the
# clients poll again and reach the new worker processes.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableClient qw(api);
use DurableBlocks qw(master_pid child_of);
use POSIX ();
use Time::HiRes ();

master_on();
workers(1);
repeat_each(1);
no_shuffle();

# per block: status + body + 1 Perl check (the worker exited)
plan tests => 3 * blocks();

# new for each run of the file: the instances of a run before would make
# the starts 409
DurableBlocks::fresh_dirs('reload-longpoll');

our $http_config = <<'_EOC_';
    durable_task_store default path=$TEST_NGINX_DATA_DIR/reload-longpoll;
_EOC_

our $config = <<'_EOC_';
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
        durable_task_max_wait 60s;
        durable_task_worker_max_wait 60s;
    }
_EOC_

our $old_worker;

# the worker of now, then (from a child) a HUP to the master after a
# moment, while the block's request waits
sub reload_later {
    my $master = master_pid();
    $old_worker = child_of($master);

    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        Time::HiRes::sleep(1);
        kill 'HUP', $master;
        POSIX::_exit(0);
    }
}

sub gone {
    my ($pid) = @_;
    for (1 .. 100) {
        return 1 unless kill 0, $pid;
        Time::HiRes::sleep(0.1);
    }
    return 0;
}

add_cleanup_handler(\&DurableBlocks::reap_children);

# after each answer: the worker that held the request has exited
add_response_body_check(sub {
    my ($block, $body, $req_idx, $rep_idx, $dry_run) = @_;
    return if $dry_run;
    Test::More::ok(gone($::old_worker), 'the old worker exited');
});

run_tests();

__DATA__

=== TEST 1: a status long-poll (wait=60) is answered 202 when its worker reloads
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::api('POST', '/runtime/webhooks/durabletask/orchestrators/Hello/lp1', '1');
main::reload_later();
--- request
GET /runtime/webhooks/durabletask/instances/lp1?wait=60
--- timeout: 30
--- error_code: 202
--- response_body_like: "instanceId":"lp1","runtimeStatus":"Pending"



=== TEST 2: a claim long-poll (wait=60) is answered with no items when its worker reloads
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::reload_later();
--- request
POST /runtime/webhooks/durabletask/worker/activities/claim?wait=60
--- timeout: 30
--- error_code: 200
--- response_body chomp
{"items":[]}



=== TEST 3: a start that waits (timeout=60, retryInterval=60) is answered 202 when its worker reloads
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::reload_later();
--- request
POST /runtime/webhooks/durabletask/orchestrators/Hello/lp3?timeout=60&retryInterval=60
--- timeout: 30
--- error_code: 202
--- response_body_like: ^\{"id":"lp3","statusQueryGetUri":
