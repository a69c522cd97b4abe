# A parent orchestration terminated without its children, purged and
# started again under the same id runs execution 1 again, and its own
# children take the same task ids as the old ones: the old children's ends
# (completed, failed, terminated) must not reach it. Driven with plain
# HTTP and the worker protocol, as t/300-worker-orchestrations.t is.
# When such a parent fails and is rewound, a child id that the old child
# still holds is not the new life's: the rewind fails that task (TEST 2).

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableClient qw(api);
use DurableBlocks ();

repeat_each(1);
no_shuffle();

our $B = '/runtime/webhooks/durabletask';
our $W = { 'x-functions-key' => 'workerkey-1234' };
our $K = { 'x-functions-key' => 'systemkey-1234' };

# the flows' assertions, and two per block (status and body)
plan tests => 18 + 9 + 2 * blocks();


sub start {
    my ($hub, $name, $id) = @_;

    my $r = api('POST', "$B/orchestrators/$name/$id?taskHub=$hub", '', $K);
    Test::More::BAIL_OUT("start failed: $r->{status} $r->{body}")
        unless $r->{status} == 202;
}

sub claim {
    my ($hub) = @_;

    my $r = api('POST', "$B/worker/orchestrations/claim?taskHub=$hub&max=10",
                '', $W);
    die "claim: $r->{status} $r->{body}" unless $r->{status} == 200;

    return map { $_->{instanceId} => $_ } @{ $r->{json}{items} };
}

sub complete {
    my ($hub, $body) = @_;

    return api('POST', "$B/worker/orchestrations/complete?taskHub=$hub",
               $body, $W);
}

# the parent's episode: three children, task ids 0 to 2
sub children {
    my ($hub, $item, $prefix) = @_;

    my $r = complete($hub, {
        instanceId => 'p1', lease => $item->{lease},
        actions => [ map { { type => 'startSubOrchestration', id => $_,
                             name => 'Child',
                             instanceId => "$prefix$_" } } 0 .. 2 ] });
    Test::More::is($r->{status}, 200, "the parent starts $prefix*")
        or Test::More::diag($r->{body});
}

sub event_types { join ',', map { $_->{EventType} } @{ $_[0] } }


sub main::reused {
    my $hub = 'Reused';

    start($hub, 'Parent', 'p1');
    my %o = claim($hub);
    children($hub, $o{p1}, 'old');

    # the old children hold their leases to the end
    my %old = claim($hub);
    Test::More::is(join(',', sort keys %old), 'old0,old1,old2',
                   'the old children run');

    # the parent ends alone, is purged and starts again: execution 1
    my $r = api('POST', "$B/instances/p1/terminate?taskHub=$hub&reason=x",
                '', $K);
    Test::More::is($r->{status}, 202, 'the parent terminated');
    $r = api('DELETE', "$B/instances/p1?taskHub=$hub", undef, $K);
    Test::More::is($r->{status}, 200, 'and purged');
    $r = api('GET', "$B/instances/old0?taskHub=$hub", undef, $K);
    Test::More::like($r->{json}{runtimeStatus}, qr/^(Pending|Running)$/,
                     'its children still run');

    start($hub, 'Parent', 'p1');
    %o = claim($hub);
    Test::More::is(event_types($o{p1}{messages}), 'ExecutionStarted',
                   'the new parent runs');
    children($hub, $o{p1}, 'new');

    my %new = claim($hub);
    Test::More::is(join(',', sort keys %new), 'new0,new1,new2',
                   'its own children run');

    # the old children end: completed, failed, terminated
    $r = complete($hub, { instanceId => 'old0', lease => $old{old0}{lease},
                          actions => [ { type => 'complete',
                                         output => 'old' } ] });
    Test::More::is($r->{json}{runtimeStatus}, 'Completed', 'old0 completed');
    $r = complete($hub, { instanceId => 'old1', lease => $old{old1}{lease},
                          actions => [ { type => 'fail',
                                         reason => 'old' } ] });
    Test::More::is($r->{json}{runtimeStatus}, 'Failed', 'old1 failed');
    $r = api('POST', "$B/instances/old2/terminate?taskHub=$hub&reason=old",
             '', $K);
    Test::More::is($r->{status}, 202, 'old2 terminated');

    %o = claim($hub);
    Test::More::is(join(',', keys %o), '',
                   'the new parent got nothing of the old children');

    # its own children's ends reach it
    for my $i (0 .. 2) {
        $r = complete($hub, {
            instanceId => "new$i", lease => $new{"new$i"}{lease},
            actions => [ { type => 'complete', output => "new$i" } ] });
        Test::More::is($r->{json}{runtimeStatus}, 'Completed',
                       "new$i completed");
    }

    %o = claim($hub);
    Test::More::is(event_types($o{p1}{messages}),
                   join(',', ('SubOrchestrationInstanceCompleted') x 3),
                   'the new parent got its own children\'s ends');
    Test::More::is(join(',', map { "$_->{TaskScheduledId}:$_->{Result}" }
                                 @{ $o{p1}{messages} }),
                   '0:new0,1:new1,2:new2', 'with their results');

    # it waits no more: one result per task
    $r = complete($hub, { instanceId => 'p1', lease => $o{p1}{lease},
                          actions => [ { type => 'complete',
                                         output => 'done' } ] });
    Test::More::is($r->{json}{runtimeStatus}, 'Completed',
                   'the new parent completed');
}


# the new life's start of k0 is refused (the old k0 runs), and it fails;
# its rewind fails the task of k0 instead of leaving it without a result
sub main::rewound {
    my $hub = 'Rewound';

    start($hub, 'Parent', 'p2');
    my %o = claim($hub);
    my $r = complete($hub, {
        instanceId => 'p2', lease => $o{p2}{lease},
        actions => [ { type => 'startSubOrchestration', id => 0,
                       name => 'Child', instanceId => 'k0' } ] });
    Test::More::is($r->{status}, 200, 'the parent starts k0');
    my %old = claim($hub);
    Test::More::is(join(',', keys %old), 'k0', 'the old k0 runs');

    $r = api('POST', "$B/instances/p2/terminate?taskHub=$hub&reason=x",
             '', $K);
    Test::More::is($r->{status}, 202, 'the parent terminated');
    $r = api('DELETE', "$B/instances/p2?taskHub=$hub", undef, $K);
    Test::More::is($r->{status}, 200, 'and purged');

    start($hub, 'Parent', 'p2');
    %o = claim($hub);
    $r = complete($hub, {
        instanceId => 'p2', lease => $o{p2}{lease},
        actions => [ { type => 'startSubOrchestration', id => 0,
                       name => 'Child', instanceId => 'k0' },
                     { type => 'fail', reason => 'no' } ] });
    Test::More::is($r->{json}{runtimeStatus}, 'Failed',
                   'the new parent failed');

    $r = api('POST', "$B/instances/p2/rewind?taskHub=$hub&reason=again",
             '', $K);
    Test::More::is($r->{status}, 202, 'the new parent rewound');

    %o = claim($hub);
    Test::More::is(event_types($o{p2}{messages}),
                   'SubOrchestrationInstanceFailed',
                   'its next episode gets the failure of k0\'s task');
    my ($m) = @{ $o{p2}{messages} };
    Test::More::is(join('|', $m->{TaskScheduledId}, $m->{Reason},
                        $m->{Details}{ErrorType}),
                   "0|sub-orchestration 'k0' cannot be rewound: its id now "
                   . 'belongs to another instance|SubOrchestrationIdTaken',
                   'naming the id');

    $r = complete($hub, { instanceId => 'p2', lease => $o{p2}{lease},
                          actions => [ { type => 'fail',
                                         reason => 'k0 failed' } ] });
    Test::More::is($r->{json}{runtimeStatus}, 'Failed',
                   'the parent fails again');
}


# new for each run of the file
our $http_config = DurableBlocks::fresh_store('parent-reused');

our $config = <<'_EOC_';
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_keys systemkey-1234;
        durable_task_worker_keys workerkey-1234;
        durable_task_worker_lease 60s;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: a purged and reused parent id gets no old child's end
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::reused();
--- request
GET /runtime/webhooks/durabletask/instances/p1?taskHub=Reused&showHistory=true&code=systemkey-1234
--- response_body_like: ^(?!.*"Result":"old").*"runtimeStatus":"Completed".*"output":"done"
--- error_code: 200


=== TEST 2: a rewound reused parent is told that its child's id is taken
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::rewound();
--- request
GET /runtime/webhooks/durabletask/instances/p2?taskHub=Rewound&showHistory=true&code=systemkey-1234
--- response_body_like: ^(?=.*"runtimeStatus":"Failed")(?=.*"EventType":"ExecutionRewound".*"EventType":"SubOrchestrationInstanceFailed"[^}]*cannot be rewound)
--- error_code: 200
