# End to end: the example worker (examples/worker, python3) runs against
# nginx; orchestrations started over the management API complete, and
# their outputs and histories are what the samples compute. An instance
# of a function the worker does not have is never handed to it (its claims
# name its functions): it waits for another worker of the hub.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks ();
use DurableClient qw(api);
use POSIX ();

repeat_each(1);
no_shuffle();

our $B = '/runtime/webhooks/durabletask';
our $worker_pid;

plan tests => 9 + 2 * blocks();

# the store, new for each run of the file: an instance of a run before
# would make its start 409 (other1's start is checked)
DurableBlocks::fresh_dirs('example-worker');


our $worker_log = ($ENV{TEST_NGINX_DATA_DIR} // '/tmp')
                  . '/example-worker.log';


sub start_worker {
    my $port = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;

    $worker_pid = fork;
    die "fork: $!" unless defined $worker_pid;

    if ($worker_pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', $worker_log;
        exec('python3', 'examples/worker/worker.py',
             '--url', "http://127.0.0.1:$port$B", '--wait', '1',
             '--exit-after', '60')
            or POSIX::_exit(127);
    }
}

# a cleanup handler: `local $?` keeps the worker's exit status out of the
# script's
sub stop_worker {
    local $?;
    return unless $worker_pid;
    kill 'TERM', $worker_pid;
    waitpid $worker_pid, 0;
    $worker_pid = undef;
}

add_cleanup_handler(\&stop_worker);


sub main::samples {
    # a function of another app on the same hub, new in this run
    my $r = api('POST', "$B/orchestrators/NotOnThisWorker/other1", '');
    Test::More::is($r->{status}, 202, 'the other app\'s instance started');
    start_worker();

    # the wait form: answered 200 with the output once Completed
    $r = api('POST', "$B/orchestrators/HelloSequence/hs1?timeout=30",
             '');
    Test::More::is($r->{status}, 200, 'HelloSequence completed in time');
    Test::More::is_deeply($r->{json},
        [ 'Hello Tokyo!', 'Hello Seattle!', 'Hello London!', 'Hello Paris!',
          'Hello Cairo!' ], 'five greetings, in order');

    $r = api('POST', "$B/orchestrators/FanOutFanIn/fan1?timeout=30", '');
    Test::More::is($r->{status}, 200, 'FanOutFanIn completed');
    Test::More::ok(defined $r->{json} && !ref $r->{json},
                   "a sum came back ($r->{body})");

    api('POST', "$B/orchestrators/Approval/ap1", '30');
    for (1 .. 50) {
        last if api('GET', "$B/instances/ap1?showHistory=true")->{body}
                =~ /TimerCreated/;
        select undef, undef, undef, 0.1;
    }
    api('POST', "$B/instances/ap1/raiseEvent/Approval", 'true');

    for (1 .. 100) {
        $r = api('GET', "$B/instances/ap1");
        last if $r->{status} == 200;
        select undef, undef, undef, 0.1;
    }
    Test::More::is($r->{json}{runtimeStatus}, 'Completed',
                   'Approval completed after the event');
    Test::More::is($r->{json}{output}, 'approved', 'and was approved');

    # all that while, the other app's instance was never handed to it: it
    # was visible from the start, and claims took the samples' items only
    open my $fh, '<', $worker_log or die "$worker_log: $!";
    my $seen = grep { /NotOnThisWorker/ } <$fh>;
    close $fh;
    Test::More::is($seen, 0, 'the unknown orchestration was never claimed');
    $r = api('GET', "$B/instances/other1");
    Test::More::is($r->{json}{runtimeStatus}, 'Pending',
                   'and waits for a worker that has it');

    stop_worker();
}


run_tests();

__DATA__

=== TEST 1: the samples run to completion through the example worker
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/example-worker;
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
--- init
main::samples();
--- request
GET /runtime/webhooks/durabletask/instances/hs1?showHistory=true&showHistoryOutput=true
--- response_body_like: "runtimeStatus":"Completed".*"EventType":"TaskCompleted".*"Result":"Hello Tokyo!".*"FunctionName":"SayHello".*"EventType":"ExecutionCompleted","Timestamp":"[^"]+","OrchestrationStatus":"Completed","Result":\["Hello Tokyo!"
--- error_code: 200



=== TEST 2: the sequence's history: five completed activities, each merged
--- request
GET /runtime/webhooks/durabletask/instances/hs1?showHistory=true
--- response_body_like: ^(?!.*TaskScheduled)(?:.*?"EventType":"TaskCompleted"){5}
--- error_code: 200



=== TEST 3: without showInput and showHistoryOutput: no inputs, no results
--- request
GET /runtime/webhooks/durabletask/instances/hs1?showHistory=true&showInput=false
--- response_body_like: ^(?!.*"(?:Input|Result|EventId|TaskScheduledId)").*"historyEvents":\[\{"EventType":"ExecutionStarted","Timestamp":"[^"]+","FunctionName":"HelloSequence"\}
--- error_code: 200
