# The showHistory view as the history changes: a worker keeps the views
# it rendered and hands one out again only while the stored events are
# the same, so each change below (an episode, a rewind that deletes
# events, a purge and a new instance under the same id, other flags) must
# show at once, through the one worker process that kept the view. While
# nothing at all is committed the store's snapshot is the same, and the
# kept view is handed out without reading the events (TEST 5; a debug
# line tells, so it is skipped without --with-debug, and on PostgreSQL,
# whose reads do not tell a snapshot).

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks;
use DurableClient qw(api);
use JSON::PP ();

repeat_each(1);
no_shuffle();

our $B = '/runtime/webhooks/durabletask';
our $W = { 'x-functions-key' => 'workerkey-1234' };
our $K = { 'x-functions-key' => 'systemkey-1234' };

# assertions made by the flows, per block
our %flow_tests = (grows => 6, flags => 7, rewound => 5, again => 5);

my $flow_total = 0;
$flow_total += $_ for values %flow_tests;

# each block's request: its status and its body; TEST 5's log line
plan tests => $flow_total + 2 * blocks() + 1;


sub start {
    my ($hub, $id, $input) = @_;

    my $r = api('POST', "$B/orchestrators/Seq/$id?taskHub=$hub", $input,
                $K);
    die "start $id: $r->{status} $r->{body}" unless $r->{status} == 202;
}

sub claim {
    my ($hub, $kind) = @_;

    my $r = api('POST', "$B/worker/$kind/claim?taskHub=$hub", '', $W);
    die "claim $kind: $r->{status} $r->{body}" unless $r->{status} == 200;

    return @{ $r->{json}{items} };
}

sub complete {
    my ($hub, $kind, $body) = @_;

    my $r = api('POST', "$B/worker/$kind/complete?taskHub=$hub", $body, $W);
    die "complete $kind: $r->{status} $r->{body}"
        unless $r->{status} == 200;

    return $r;
}

sub view {
    my ($hub, $id, $flags) = @_;

    my $r = api('GET', "$B/instances/$id?taskHub=$hub&showHistory=true"
                       . ($flags // ''), undef, $K);
    die "view $id: $r->{status} $r->{body}" if $r->{status} >= 400;

    return $r->{body};
}

sub types {
    return join ',', map { $_->{EventType} }
                     @{ JSON::PP->new->decode($_[0])->{historyEvents} };
}

# one activity with $input, its result $result, then the output $output
sub one_step {
    my ($hub, $id, $input, $result, $output) = @_;

    my @o = claim($hub, 'orchestrations');
    complete($hub, 'orchestrations', {
        instanceId => $id, lease => $o[0]{lease},
        actions => [ { type => 'scheduleActivity', id => 0, name => 'Step',
                       input => $input } ] });

    my @a = claim($hub, 'activities');
    complete($hub, 'activities', { instanceId => $id, taskId => 0,
                                   lease => $a[0]{lease},
                                   result => $result });

    @o = claim($hub, 'orchestrations');
    complete($hub, 'orchestrations', {
        instanceId => $id, lease => $o[0]{lease},
        actions => [ { type => 'complete', output => $output } ] });
}


# each episode shows in the next view
sub main::grows {
    my $hub = 'Grow';
    start($hub, 'g1', '"in"');

    my @o = claim($hub, 'orchestrations');
    complete($hub, 'orchestrations', {
        instanceId => 'g1', lease => $o[0]{lease},
        actions => [ { type => 'scheduleActivity', id => 0, name => 'Step',
                       input => 0 } ] });

    my $v = view($hub, 'g1');
    Test::More::is(types($v), 'ExecutionStarted,TaskScheduled',
                   'the first episode');
    Test::More::is(view($hub, 'g1'), $v, 'the same view again');

    my @a = claim($hub, 'activities');
    complete($hub, 'activities', { instanceId => 'g1', taskId => 0,
                                   lease => $a[0]{lease}, result => 'r0' });

    Test::More::is(view($hub, 'g1'), $v,
                   'a result still in the inbox is not in the history');

    @o = claim($hub, 'orchestrations');
    complete($hub, 'orchestrations', {
        instanceId => 'g1', lease => $o[0]{lease},
        actions => [ { type => 'scheduleActivity', id => 1, name => 'Step',
                       input => 1 } ] });

    Test::More::is(types(view($hub, 'g1')),
                   'ExecutionStarted,TaskCompleted,TaskScheduled',
                   'the second episode');

    @a = claim($hub, 'activities');
    complete($hub, 'activities', { instanceId => 'g1', taskId => 1,
                                   lease => $a[0]{lease}, result => 'r1' });

    @o = claim($hub, 'orchestrations');
    complete($hub, 'orchestrations', {
        instanceId => 'g1', lease => $o[0]{lease},
        actions => [ { type => 'complete', output => 'done' } ] });

    $v = view($hub, 'g1', '&showHistoryOutput=true');
    Test::More::is(types($v), 'ExecutionStarted,TaskCompleted,'
                              . 'TaskCompleted,ExecutionCompleted',
                   'the last episode');
    Test::More::like($v, qr/"EventType":"TaskCompleted"[^}]*"Result":"r1"/,
                     'with the last result');
}


# the two flags make four views of one history
sub main::flags {
    my $hub = 'Flags';
    start($hub, 'f1', '"in"');
    one_step($hub, 'f1', 'step-in', 'step-out', 'end');

    for my $pass (1, 2) {
        my $plain = view($hub, 'f1');
        my $out = view($hub, 'f1', '&showHistoryOutput=true');
        my $no_in = view($hub, 'f1', '&showInput=false');

        Test::More::is(view($hub, 'f1'), $plain,
                       "pass $pass: the plain view again");
        Test::More::ok($plain =~ /"Input":"step-in"/
                       && $plain !~ /"Result"/,
                       "pass $pass: inputs, no results");
        Test::More::ok($out =~ /"Input":"step-in"/
                       && $out =~ /"Result":"step-out"/,
                       "pass $pass: inputs and results");

        if ($pass == 1) {
            Test::More::unlike($no_in, qr/"Input"|"Result"/,
                               "pass $pass: neither");
        }
    }
}


# a finished instance whose view is kept; nothing is written after it
sub main::still {
    my $hub = 'Still';
    start($hub, 's1', '"in"');
    one_step($hub, 's1', 'x', 'r', 'out');
    view($hub, 's1');
}


# a rewind deletes the failure from the history
sub main::rewound {
    my $hub = 'Rew';
    start($hub, 'w1', '"in"');

    my @o = claim($hub, 'orchestrations');
    complete($hub, 'orchestrations', {
        instanceId => 'w1', lease => $o[0]{lease},
        actions => [ { type => 'scheduleActivity', id => 0, name => 'Flaky',
                       input => 'x' } ] });

    my @a = claim($hub, 'activities');
    complete($hub, 'activities', {
        instanceId => 'w1', taskId => 0, lease => $a[0]{lease},
        failure => { reason => 'boom' } });

    @o = claim($hub, 'orchestrations');
    complete($hub, 'orchestrations', {
        instanceId => 'w1', lease => $o[0]{lease},
        actions => [ { type => 'fail', reason => 'boom' } ] });

    my $v = view($hub, 'w1');
    Test::More::is(types($v), 'ExecutionStarted,TaskFailed,'
                              . 'ExecutionCompleted', 'the failed history');
    Test::More::like($v, qr/"OrchestrationStatus":"Failed"/, 'Failed');

    my $r = api('POST', "$B/instances/w1/rewind?taskHub=$hub&reason=again",
                '', $K);
    Test::More::is($r->{status}, 202, 'rewound');

    $v = view($hub, 'w1');
    Test::More::is(types($v), 'ExecutionStarted,TaskScheduled,'
                              . 'ExecutionRewound',
                   'the failure left the view');
    Test::More::unlike($v, qr/"Failed"/, 'nothing Failed in it');
}


# a purged instance started again under its id, with other values of
# the same lengths: as many events, as long, but not the same bytes
sub main::again {
    my $hub = 'Again';
    start($hub, 'a1', '"in-1"');
    one_step($hub, 'a1', 'step-1', 'res-1', 'end-1');

    my $v = view($hub, 'a1', '&showHistoryOutput=true');
    Test::More::like($v, qr/"Input":"in-1".*"Result":"res-1"/,
                     'the first instance\'s view');

    my $r = api('DELETE', "$B/instances/a1?taskHub=$hub", undef, $K);
    Test::More::is($r->{status}, 200, 'purged');

    start($hub, 'a1', '"in-2"');
    one_step($hub, 'a1', 'step-2', 'res-2', 'end-2');

    my $w = view($hub, 'a1', '&showHistoryOutput=true');
    Test::More::is(types($w), types($v), 'the same events');
    Test::More::like($w, qr/"Input":"in-2".*"Result":"res-2"/,
                     'the second instance\'s view');
    Test::More::unlike($w, qr/-1"/, 'nothing of the first');
}


our $http_config = DurableBlocks::fresh_store('history-view');

our $config = <<'_EOC_';
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_keys systemkey-1234;
        durable_task_worker_keys workerkey-1234;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: a view follows the history's episodes
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::grows();
--- request
GET /runtime/webhooks/durabletask/instances/g1?taskHub=Grow&showHistory=true&code=systemkey-1234
--- response_body_like: ^(?!.*"Result")\{"name":"Seq","instanceId":"g1","runtimeStatus":"Completed".*"historyEvents":\[\{"EventType":"ExecutionStarted".*\{"EventType":"TaskCompleted"[^}]*"FunctionName":"Step","Input":1\},\{"EventType":"ExecutionCompleted"[^}]*"OrchestrationStatus":"Completed"\}\]\}$
--- error_code: 200



=== TEST 2: showInput and showHistoryOutput each have their view
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::flags();
--- request
GET /runtime/webhooks/durabletask/instances/f1?taskHub=Flags&showHistory=true&showInput=false&code=systemkey-1234
--- response_body_like: ^(?!.*"Input")(?!.*"Result":"step-out").*"historyEvents":\[\{"EventType":"ExecutionStarted"
--- error_code: 200



=== TEST 3: a rewind's deletions show in the next view
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::rewound();
--- request
GET /runtime/webhooks/durabletask/instances/w1?taskHub=Rew&showHistory=true&code=systemkey-1234
--- response_body_like: ^(?!.*TaskFailed)\{"name":"Seq","instanceId":"w1","runtimeStatus":"Running".*"ExecutionRewound"
--- error_code: 202



=== TEST 4: an instance purged and started again under its id
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::again();
--- request
GET /runtime/webhooks/durabletask/instances/a1?taskHub=Again&showHistory=true&showHistoryOutput=true&code=systemkey-1234
--- response_body_like: "Input":"in-2".*"Result":"res-2"
--- error_code: 200



=== TEST 5: while nothing is committed the kept view is taken as it is
--- skip_eval: 3: !DurableBlocks::debug_build()
--- log_level: debug
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::still();
--- request
GET /runtime/webhooks/durabletask/instances/s1?taskHub=Still&showHistory=true&code=systemkey-1234
--- response_body_like: "EventType":"TaskCompleted".*"EventType":"ExecutionCompleted"
--- error_code: 200
--- error_log eval
qr/durable history view kept: \d+ events, slot \d+, same snapshot/
