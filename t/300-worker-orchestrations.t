# The worker protocol for orchestrations and activities, driven with plain
# HTTP: each block's --- init runs a flow (claims hand out lease tokens that
# later requests need, so the flow is Perl; t/inc/DurableClient.pm), and the
# block's request checks the state the flow left.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableClient qw(api);
use DurableBlocks ();
use IO::Socket::INET;
use Time::HiRes ();

repeat_each(1);
no_shuffle();

our $B = '/runtime/webhooks/durabletask';
our $W = { 'x-functions-key' => 'workerkey-1234' };
our $K = { 'x-functions-key' => 'systemkey-1234' };

# assertions made by the flows, per block
our %flow_tests = (
    roundtrip => 14, idempotent => 4, stale => 4, events => 5,
    suspended => 4, terminated => 3, purged => 2, continue_as_new => 4,
    rewind => 6, timer => 3, failed => 2, auth => 3, leases => 6,
    sub => 5, many => 15, many_big => 3, bad_names => 38, good_names => 6,
    replay_other => 10, by_name => 10, big_item => 4, claim_bufs => 6,
    bad_actions => 3,
);

my $flow_total = 0;
$flow_total += $_ for values %flow_tests;

# two per block with one request, eight for the block of four requests
# and ten for the one of five (TEST 25); TEST 23 checks its log twice
# more (while running, and after exit)
plan tests => $flow_total + 2 * (blocks() - 2) + 8 + 10 + 2;

# TEST 23 reads debug lines, which an nginx built without --with-debug
# does not have: it is skipped there, its flow's checks (claim_bufs
# above) and its own four (status, body and the two logs)
our $debug = DurableBlocks::debug_build();


sub start {
    my ($hub, $name, $id, $input) = @_;

    my $r = api('POST', "$B/orchestrators/$name/$id?taskHub=$hub",
                defined $input ? $input : '', $K);
    Test::More::BAIL_OUT("start failed: $r->{status} $r->{body}")
        unless $r->{status} == 202;
}

sub claim {
    my ($hub, $kind, %q) = @_;

    my $qs = join '', map { "&$_=$q{$_}" } sort keys %q;
    my $r = api('POST', "$B/worker/$kind/claim?taskHub=$hub$qs", '', $W);
    die "claim $kind: $r->{status} $r->{body}" unless $r->{status} == 200;

    return @{ $r->{json}{items} };
}

sub complete {
    my ($hub, $kind, $body) = @_;

    return api('POST', "$B/worker/$kind/complete?taskHub=$hub", $body, $W);
}

sub event_types { join ',', map { $_->{EventType} } @{ $_[0] } }


# a two-step sequence: start, two activities, complete
sub main::roundtrip {
    my $hub = 'RoundTrip';
    start($hub, 'Seq', 'rt1', '{"n": 1}');

    my @o = claim($hub, 'orchestrations', max => 10);
    Test::More::is(scalar @o, 1, 'one orchestration item');
    Test::More::is(event_types($o[0]{messages}), 'ExecutionStarted',
                   'first episode: ExecutionStarted');
    Test::More::is_deeply($o[0]{input}, { n => 1 }, 'input delivered');

    my $r = complete($hub, 'orchestrations', {
        instanceId => 'rt1', lease => $o[0]{lease},
        actions => [ { type => 'scheduleActivity', id => 0,
                       name => 'Double', input => 21 } ] });
    Test::More::is($r->{status}, 200, 'episode 1 completed');
    Test::More::is($r->{json}{runtimeStatus}, 'Running', 'now Running');

    my @a = claim($hub, 'activities');
    Test::More::is(scalar @a, 1, 'one activity item');
    Test::More::is("$a[0]{name}:$a[0]{input}:$a[0]{taskId}", 'Double:21:0',
                   'activity name, input and task id');

    $r = complete($hub, 'activities', {
        instanceId => 'rt1', taskId => 0, lease => $a[0]{lease},
        result => 42 });
    Test::More::is($r->{status}, 200, 'activity completed');

    @o = claim($hub, 'orchestrations');
    Test::More::is(event_types($o[0]{history}),
        'OrchestratorStarted,ExecutionStarted,TaskScheduled,'
        . 'OrchestratorCompleted', 'history of episode 1');
    Test::More::is(event_types($o[0]{messages}), 'TaskCompleted',
                   'the result arrives as a message');
    Test::More::is($o[0]{messages}[0]{Result}, 42, 'with the result');

    # raw text: the output's numbers must keep their exact spelling
    $r = complete($hub, 'orchestrations',
        '{"instanceId":"rt1","lease":"' . $o[0]{lease} . '","actions":['
        . '{"type":"setCustomStatus","customStatus":"done"},'
        . '{"type":"complete","output":[42, 1.0e+1]}]}');
    Test::More::is($r->{json}{runtimeStatus}, 'Completed', 'completed');

    Test::More::is(scalar(claim($hub, 'orchestrations')), 0,
                   'nothing left to claim');
    Test::More::is(scalar(claim($hub, 'activities')), 0,
                   'no activity left');
}


# the same lease token twice: the same answer, applied once
sub main::idempotent {
    my $hub = 'Idem';
    start($hub, 'Seq', 'i1');

    my @o = claim($hub, 'orchestrations');
    my $body = { instanceId => 'i1', lease => $o[0]{lease},
                 actions => [ { type => 'scheduleActivity', id => 0,
                                name => 'A' } ] };

    my $r1 = complete($hub, 'orchestrations', $body);
    my $r2 = complete($hub, 'orchestrations', $body);
    Test::More::is($r1->{status}, 200, 'first completion');
    Test::More::is($r2->{status}, 200, 'retry answers 200');
    Test::More::is($r2->{body}, $r1->{body}, 'with the same answer');
    Test::More::is(scalar(claim($hub, 'activities', max => 10)), 1,
                   'the activity was scheduled once');
}


# the lease of a completion with another body: 409, nothing applied; the
# identical completion (spaced otherwise) still gets the stored answer
sub main::replay_other {
    my $hub = 'Other';
    start($hub, 'Seq', 'ro1');

    my @o = claim($hub, 'orchestrations');
    my $lease = $o[0]{lease};
    my $r1 = complete($hub, 'orchestrations', {
        instanceId => 'ro1', lease => $lease,
        actions => [ { type => 'scheduleActivity', id => 0, name => 'A',
                       input => 1 } ] });
    Test::More::is($r1->{status}, 200, 'completed');

    my $r = complete($hub, 'orchestrations', {
        instanceId => 'ro1', lease => $lease,
        actions => [ { type => 'complete', output => 2 } ] });
    Test::More::is($r->{status}, 409, 'another body under that lease: 409');
    my $said = 'different completion was already applied under this lease';
    Test::More::like($r->{json}{Message}, qr/\Q$said\E/,
                     'the message says so');

    $r = complete($hub, 'orchestrations',
                  qq({ "lease" : "$lease", "instanceId" : "ro1",\n)
                  . qq(  "actions" : [ { "name" : "A", "id" : 0, )
                  . qq("input" : 1, "type" : "scheduleActivity" } ] }));
    Test::More::is($r->{status}, 200, 'the identical completion again: 200');
    Test::More::is($r->{body}, $r1->{body}, 'with the stored answer');

    my @a = claim($hub, 'activities', max => 10);
    Test::More::is(scalar @a, 1, 'the activity was scheduled once');

    my $done = { instanceId => 'ro1', taskId => 0, lease => $a[0]{lease},
                 result => 'x' };
    Test::More::is(complete($hub, 'activities', $done)->{status}, 200,
                   'activity completed');

    $r = complete($hub, 'activities', { %$done, result => 'y' });
    Test::More::is($r->{status}, 409, 'another result under that lease: 409');
    Test::More::like($r->{json}{Message}, qr/different completion/,
                     'the message says so');
    Test::More::is(complete($hub, 'activities', $done)->{status}, 200,
                   'the identical result again: 200');
}


# names=: a worker gets only the names it asks for; the others stay for
# another worker
sub main::by_name {
    my $hub = 'Names';
    start($hub, 'Seq', 'nm1');
    start($hub, 'Other', 'nm2');
    start($hub, 'A,B', 'nm3');

    my @o = claim($hub, 'orchestrations', max => 10, names => 'Other');
    Test::More::is(join(',', map { "$_->{instanceId}:$_->{name}" } @o),
                   'nm2:Other', 'only the orchestrator asked for');

    my $r = api('POST', "$B/worker/orchestrations/claim?taskHub=$hub"
                        . '&max=10&names=Seq&names=A%2CB', '', $W);
    Test::More::is(join(',', sort map { $_->{instanceId} }
                                  @{ $r->{json}{items} }),
                   'nm1,nm3', 'several names, a comma inside one');

    my ($seq) = grep { $_->{instanceId} eq 'nm1' } @{ $r->{json}{items} };
    $r = complete($hub, 'orchestrations', {
        instanceId => 'nm1', lease => $seq->{lease},
        actions => [ { type => 'scheduleActivity', id => 0, name => 'Fast' },
                     { type => 'scheduleActivity', id => 1,
                       name => 'Slow' } ] });
    Test::More::is($r->{status}, 200, 'two activities scheduled');

    my @a = claim($hub, 'activities', max => 10, names => 'Slow');
    Test::More::is(join(',', map { $_->{name} } @a), 'Slow',
                   'only the activity asked for');
    Test::More::is(scalar(claim($hub, 'activities', max => 10,
                                names => 'Slow')), 0,
                   'and no other after it');

    @a = claim($hub, 'activities', max => 10);
    Test::More::is(join(',', map { $_->{name} } @a), 'Fast',
                   'the other stayed for any worker');

    $r = api('POST', "$B/worker/activities/claim?taskHub=$hub&names=a/b",
             '', $W);
    Test::More::is($r->{status}, 400, 'a name with a slash: 400');

    # a space at a name's edge, sent escaped, is the name's
    start($hub, 'Greet%20', 'nm4');
    $r = api('POST', "$B/worker/orchestrations/claim?taskHub=$hub"
                     . '&max=10&names=Greet%20', '', $W);
    Test::More::is(join(',', map { "$_->{instanceId}:<$_->{name}>" }
                             @{ $r->{json}{items} }),
                   'nm4:<Greet >', 'a name ending in a space, by name');

    $r = api('POST', "$B/worker/activities/claim?taskHub=$hub&"
                     . join('&', map { "names=n$_" } 1 .. 33), '', $W);
    Test::More::is($r->{status}, 400, '33 names: 400');
    Test::More::like($r->{json}{Message}, qr/At most 32 'names'/,
                     'the message says how many');
}


# an expired lease: the item is claimed again, the old token refused
sub main::stale {
    my $hub = 'Stale';
    start($hub, 'Seq', 's1');

    my @first = claim($hub, 'orchestrations');
    Test::More::is(scalar(claim($hub, 'orchestrations')), 0,
                   'leased: not handed out twice');

    select undef, undef, undef, 1.5;

    my @second = claim($hub, 'orchestrations');
    Test::More::is(scalar @second, 1, 'claimable again after expiry');

    my $r = complete($hub, 'orchestrations',
                     { instanceId => 's1', lease => $first[0]{lease} });
    Test::More::is($r->{status}, 409, 'the old lease is refused');

    $r = complete($hub, 'orchestrations',
                  { instanceId => 's1', lease => $second[0]{lease} });
    Test::More::is($r->{status}, 200, 'the new lease works');
}


# an event raised while the item is leased waits for the next episode
sub main::events {
    my $hub = 'Events';
    start($hub, 'Seq', 'e1');

    my @o = claim($hub, 'orchestrations');
    my $r = api('POST', "$B/instances/e1/raiseEvent/Go?taskHub=$hub",
                '{"ok":true}', $K);
    Test::More::is($r->{status}, 202, 'event accepted while leased');

    complete($hub, 'orchestrations', { instanceId => 'e1',
                                       lease => $o[0]{lease} });

    @o = claim($hub, 'orchestrations');
    Test::More::is(event_types($o[0]{messages}), 'EventRaised',
                   'delivered in the next episode');
    Test::More::is($o[0]{messages}[0]{Name}, 'Go', 'with its name');
    complete($hub, 'orchestrations', { instanceId => 'e1',
                                       lease => $o[0]{lease} });

    @o = claim($hub, 'orchestrations');
    Test::More::is(scalar @o, 0, 'and delivered exactly once');

    $r = api('GET', "$B/instances/e1?taskHub=$hub&showHistory=true", undef,
             $K);
    Test::More::like($r->{body}, qr/"EventType":"EventRaised"/,
                     'the event is in the history');
}


sub main::suspended {
    my $hub = 'Susp';
    start($hub, 'Seq', 'p1');

    my $r = api('POST', "$B/instances/p1/suspend?taskHub=$hub", '', $K);
    Test::More::is($r->{status}, 202, 'suspended');
    Test::More::is(scalar(claim($hub, 'orchestrations')), 0,
                   'a suspended instance is not handed out');

    $r = api('POST', "$B/instances/p1/resume?taskHub=$hub", '', $K);
    Test::More::is($r->{status}, 202, 'resumed');
    Test::More::is(scalar(claim($hub, 'orchestrations')), 1,
                   'handed out after resume');
}


sub main::terminated {
    my $hub = 'Term';
    start($hub, 'Seq', 't1');

    my @o = claim($hub, 'orchestrations');
    my $r = api('POST', "$B/instances/t1/terminate?taskHub=$hub&reason=x",
                '', $K);
    Test::More::is($r->{status}, 202, 'terminated while leased');

    $r = complete($hub, 'orchestrations', {
        instanceId => 't1', lease => $o[0]{lease},
        actions => [ { type => 'complete', output => 1 } ] });
    Test::More::is($r->{status}, 410, 'the completion is refused: 410');
    Test::More::like($r->{body}, qr/"Message"/, 'with a JSON message');
}


sub main::purged {
    my $hub = 'Purged';
    start($hub, 'Seq', 'g1');

    my @o = claim($hub, 'orchestrations');
    api('POST', "$B/instances/g1/terminate?taskHub=$hub", '', $K);
    my $r = api('DELETE', "$B/instances/g1?taskHub=$hub", undef, $K);
    Test::More::is($r->{status}, 200, 'purged while leased');

    $r = complete($hub, 'orchestrations', { instanceId => 'g1',
                                            lease => $o[0]{lease} });
    Test::More::is($r->{status}, 404, 'the completion is refused: 404');
}


sub main::continue_as_new {
    my $hub = 'Can';
    start($hub, 'Loop', 'c1', '1');

    my @o = claim($hub, 'orchestrations');
    my $r = complete($hub, 'orchestrations', {
        instanceId => 'c1', lease => $o[0]{lease},
        actions => [ { type => 'scheduleActivity', id => 0, name => 'A' },
                     { type => 'continueAsNew', input => 2 } ] });
    Test::More::is($r->{json}{runtimeStatus}, 'ContinuedAsNew',
                   'ContinuedAsNew');

    @o = claim($hub, 'orchestrations');
    Test::More::is(event_types($o[0]{history}), '', 'the history was reset');
    Test::More::is(event_types($o[0]{messages}), 'ExecutionStarted',
                   'a new execution starts');
    Test::More::is($o[0]{messages}[0]{Input}, 2, 'with the new input');
}


# an activity fails, the orchestration fails; rewind re-runs the activity
sub main::rewind {
    my $hub = 'Rewind';
    start($hub, 'Seq', 'w1');

    my @o = claim($hub, 'orchestrations');
    complete($hub, 'orchestrations', {
        instanceId => 'w1', lease => $o[0]{lease},
        actions => [ { type => 'scheduleActivity', id => 0, name => 'Flaky',
                       input => 'x' } ] });

    my @a = claim($hub, 'activities');
    complete($hub, 'activities', {
        instanceId => 'w1', taskId => 0, lease => $a[0]{lease},
        failure => { reason => 'boom', details => { line => 1 } } });

    @o = claim($hub, 'orchestrations');
    Test::More::is(event_types($o[0]{messages}), 'TaskFailed', 'TaskFailed');
    my $r = complete($hub, 'orchestrations', {
        instanceId => 'w1', lease => $o[0]{lease},
        actions => [ { type => 'fail', reason => 'boom' } ] });
    Test::More::is($r->{json}{runtimeStatus}, 'Failed', 'Failed');

    $r = api('POST', "$B/instances/w1/rewind?taskHub=$hub&reason=retry",
             '', $K);
    Test::More::is($r->{status}, 202, 'rewind accepted');

    @a = claim($hub, 'activities');
    Test::More::is("$a[0]{name}:$a[0]{input}", 'Flaky:x',
                   'the failed activity runs again');
    complete($hub, 'activities', { instanceId => 'w1', taskId => 0,
                                   lease => $a[0]{lease}, result => 'ok' });

    @o = claim($hub, 'orchestrations');
    Test::More::is(event_types($o[0]{messages}), 'TaskCompleted',
                   'and its result arrives');
    unlike_failed($o[0]{history});
    complete($hub, 'orchestrations', {
        instanceId => 'w1', lease => $o[0]{lease},
        actions => [ { type => 'complete', output => 'ok' } ] });
}

sub unlike_failed {
    Test::More::unlike(event_types($_[0]), qr/TaskFailed|ExecutionCompleted/,
                       'the failure left the replayed history');
}


sub main::timer {
    my $hub = 'Timer';
    start($hub, 'Sleepy', 'm1');

    my @o = claim($hub, 'orchestrations');
    my @t = gmtime(time + 2);
    my $at = sprintf '%04d-%02d-%02dT%02d:%02d:%02dZ',
             $t[5] + 1900, $t[4] + 1, @t[3, 2, 1, 0];

    complete($hub, 'orchestrations', {
        instanceId => 'm1', lease => $o[0]{lease},
        actions => [ { type => 'createTimer', id => 0, fireAt => $at } ] });

    Test::More::is(scalar(claim($hub, 'orchestrations')), 0,
                   'not before its time');

    @o = claim($hub, 'orchestrations', wait => 5);
    Test::More::is(event_types($o[0]{messages}), 'TimerFired',
                   'the timer fires while a claim waits');
    Test::More::is($o[0]{messages}[0]{TimerId}, 0, 'with its id');
    complete($hub, 'orchestrations', {
        instanceId => 'm1', lease => $o[0]{lease},
        actions => [ { type => 'complete' } ] });
}


sub main::failed {
    my $hub = 'Failed';
    start($hub, 'Seq', 'f1');

    my @o = claim($hub, 'orchestrations');
    my $r = complete($hub, 'orchestrations', {
        instanceId => 'f1', lease => $o[0]{lease},
        actions => [ { type => 'fail', reason => 'bad input',
                       details => { code => 7 } } ] });
    Test::More::is($r->{json}{runtimeStatus}, 'Failed', 'Failed');

    $r = api('GET', "$B/instances/f1?taskHub=$hub", undef, $K);
    Test::More::is($r->{status}, 200, 'a Failed instance is 200 by default');
}


sub main::auth {
    my $r = api('POST', "$B/worker/orchestrations/claim", '', $K);
    Test::More::is($r->{status}, 401, 'the system key does not open claims');

    $r = api('GET', "$B/instances", undef, $W);
    Test::More::is($r->{status}, 401, 'a worker key does not open the API');

    $r = api('POST', "$B/worker/orchestrations/claim", '', $W);
    Test::More::is($r->{status}, 200, 'the worker key opens claims');
}


# renew keeps an item past its lease; abandon hands it out again at once
sub main::leases {
    my $hub = 'Leases';
    start($hub, 'Seq', 'l1');

    # the lease is 1 s: renewed half-way, it still holds at 1.2 s
    my @o = claim($hub, 'orchestrations');
    select undef, undef, undef, 0.6;

    my $r = api('POST', "$B/worker/orchestrations/renew?taskHub=$hub",
                { instanceId => 'l1', lease => $o[0]{lease} }, $W);
    Test::More::is($r->{status}, 200, 'renewed');
    Test::More::like($r->{json}{leaseExpires}, qr/^\d{4}-.*Z$/,
                     'with the new expiry');

    select undef, undef, undef, 0.6;
    Test::More::is(scalar(claim($hub, 'orchestrations')), 0,
                   'still ours after the first lease would have expired');

    $r = api('POST', "$B/worker/orchestrations/abandon?taskHub=$hub",
             { instanceId => 'l1', lease => $o[0]{lease} }, $W);
    Test::More::is($r->{status}, 200, 'abandoned');

    my @again = claim($hub, 'orchestrations');
    Test::More::is(scalar @again, 1, 'claimable again at once');

    $r = api('POST', "$B/worker/orchestrations/renew?taskHub=$hub",
             { instanceId => 'l1', lease => $o[0]{lease} }, $W);
    Test::More::is($r->{status}, 409, 'the abandoned lease is stale');
}


# a sub-orchestration's completion reaches its parent as a message
sub main::sub {
    my $hub = 'Sub';
    start($hub, 'Parent', 'pa');

    my @o = claim($hub, 'orchestrations');
    complete($hub, 'orchestrations', {
        instanceId => 'pa', lease => $o[0]{lease},
        actions => [ { type => 'startSubOrchestration', id => 0,
                       name => 'Child', input => 7 } ] });

    @o = claim($hub, 'orchestrations', max => 10);
    Test::More::is(join(',', map { $_->{instanceId} } @o), 'pa:0',
                   'the child runs under "<parent>:<id>"');
    Test::More::is($o[0]{input}, 7, 'with its input');

    complete($hub, 'orchestrations', {
        instanceId => 'pa:0', lease => $o[0]{lease},
        actions => [ { type => 'complete', output => 'from child' } ] });

    @o = claim($hub, 'orchestrations');
    Test::More::is($o[0]{instanceId}, 'pa', 'the parent runs again');
    Test::More::is(event_types($o[0]{messages}),
                   'SubOrchestrationInstanceCompleted', 'told of the child');
    Test::More::is("$o[0]{messages}[0]{TaskScheduledId}:"
                   . "$o[0]{messages}[0]{Result}", '0:from child',
                   'with its task id and result');
    complete($hub, 'orchestrations', {
        instanceId => 'pa', lease => $o[0]{lease},
        actions => [ { type => 'complete' } ] });
}


# an array of completions: one write each, in one batch, one result each
sub main::many {
    my $hub = 'Many';
    start($hub, 'Seq', $_) for qw(m1 m2 m3);

    my %o = map { $_->{instanceId} => $_ } claim($hub, 'orchestrations',
                                                 max => 10);
    my @two = map { { instanceId => $_, lease => $o{$_}{lease},
                      actions => [
                          { type => 'scheduleActivity', id => 0,
                            name => 'A', input => "a$_" },
                          { type => 'scheduleActivity', id => 1,
                            name => 'B', input => "b$_" } ] } } qw(m1 m2);

    # a malformed completion among them: 400 saying which (counted from
    # 0, as actions are), nothing applied
    my $r = complete($hub, 'orchestrations',
                     [ @two, { instanceId => 'm3', lease => 'nope' } ]);
    Test::More::is("$r->{status} " . ($r->{json} ? $r->{json}{Message} : ''),
                   "400 Completion 2: The member 'lease' is not a lease "
                   . 'token.', 'one malformed completion: 400');

    $r = complete($hub, 'orchestrations',
                  [ $two[0], { %{ $two[1] }, actions => [
                        { type => 'raiseEvent', name => 'Ping' } ] } ]);
    Test::More::is("$r->{status} " . ($r->{json} ? $r->{json}{Message} : ''),
                   "400 Completion 1: Action 0 (raiseEvent): 'instanceId' "
                   . 'is required.', 'the second of two with a bad action');

    $r = complete($hub, 'orchestrations', [ $two[0], 5 ]);
    Test::More::is("$r->{status} " . ($r->{json} ? $r->{json}{Message} : ''),
                   '400 Completion 1: Every completion in the array must be '
                   . 'an object.', 'the second of two not an object');
    Test::More::is(scalar(claim($hub, 'activities', max => 10)), 0,
                   'and nothing was applied');

    my $stale = { instanceId => 'm3', lease => '00' x 16, actions => [] };
    $r = complete($hub, 'orchestrations', [ @two, $stale ]);
    Test::More::is($r->{status}, 200, 'an array of three: 200');
    Test::More::is_deeply([ map { $_->{status} } @{ $r->{json} } ],
                          [ 200, 200, 409 ], 'one status each, in order');
    Test::More::is($r->{json}[0]{runtimeStatus}, 'Running',
                   'with the runtime status');
    Test::More::like($r->{json}[2]{Message}, qr/lease is not current/,
                     'and the refusal\'s message');

    my $again = complete($hub, 'orchestrations', [ @two, $stale ]);
    Test::More::is($again->{body}, $r->{body},
                   'sent again: the same answer');

    my @a = claim($hub, 'activities', max => 10);
    Test::More::is(scalar @a, 4, 'four activities, scheduled once');

    $r = complete($hub, 'activities', [ map { {
        instanceId => $_->{instanceId}, taskId => $_->{taskId},
        lease => $_->{lease}, result => $_->{input} } } @a ]);
    Test::More::is_deeply([ map { $_->{status} } @{ $r->{json} } ],
                          [ 200, 200, 200, 200 ], 'four activity results');

    %o = map { $_->{instanceId} => $_ } claim($hub, 'orchestrations',
                                              max => 10);
    Test::More::ok($o{m1} && $o{m2}, 'm1 and m2 are claimable again')
        or Test::More::diag(join ',', sort keys %o);
    $r = complete($hub, 'orchestrations', [ map { {
        instanceId => $_, lease => $o{$_}{lease},
        actions => [ { type => 'complete',
                       output => [ sort map { $_->{Result} }
                                   @{ $o{$_}{messages} } ] } ] } }
        qw(m1 m2) ]);
    Test::More::is(join(',', map { $_->{runtimeStatus} } @{ $r->{json} }),
                   'Completed,Completed', 'two finished in one request');

    $r = complete($hub, 'orchestrations',
                  [ { instanceId => 'm1', lease => 'ef' x 16 } ]);
    Test::More::is($r->{body}, '[{"status":410,"Message":"The instance is '
                   . 'no longer running: it was terminated (or finished) '
                   . 'meanwhile."}]', 'a finished instance: 410');

    $r = complete($hub, 'activities', []);
    Test::More::like("$r->{status} $r->{body}",
                     qr/^400 \{"Message":"An array of completions holds 1 to \d+ of them\."\}$/,
                     'an empty array: 400');
}


# more completions in one request than nginx counts blocking operations
# of a request (8 bits): the request is held once, not once per write
sub main::many_big {
    my $hub = 'ManyBig';
    start($hub, 'Seq', "big-$_") for 1 .. 300;

    my @o = claim($hub, 'orchestrations', max => 300);
    Test::More::is(scalar @o, 300, '300 items claimed at once');

    my $r = complete($hub, 'orchestrations', [ map { {
        instanceId => $_->{instanceId}, lease => $_->{lease},
        actions => [ { type => 'complete', output => $_->{instanceId} } ]
    } } @o ]);
    Test::More::is($r->{status}, 200, 'one answer for 300 completions');
    Test::More::is(scalar(grep { $_->{status} == 200
                                 && $_->{runtimeStatus} eq 'Completed' }
                          @{ $r->{json} || [] }), 300,
                   '300 results, all Completed');
}


# A completion whose actions are many and bad (300,000 zeros, or empty
# objects: under 1 MB of body) is refused at its first action, before a
# record (about 230 bytes) is allocated for each of the others: that was
# about 70 MB of the worker's memory for one such request
sub main::bad_actions {
    my $hub = 'BadActs';
    start($hub, 'Seq', 'ba1');
    my ($o) = claim($hub, 'orchestrations');

    # the workers, or nginx itself with master_process off (the default)
    my $nginx = DurableBlocks::master_pid();
    my @workers = DurableBlocks::children_of($nginx);
    @workers = ($nginx) unless @workers;
    my $peak = sub {
        my $kb = 0;
        for my $pid (@workers) {
            open my $fh, '<', "/proc/$pid/status" or next;
            while (<$fh>) {
                $kb += $1 if /^VmHWM:\s+(\d+) kB/;
            }
        }
        return $kb;
    };

    my $before = $peak->();

    for my $a ([ '0', qr/Action 0: an action must be a JSON object\./ ],
               [ '{}', qr/Action 0: 'type' is required\./ ])
    {
        my $r = complete($hub, 'orchestrations',
            qq({"instanceId":"ba1","lease":"$o->{lease}","actions":[)
            . join(',', ($a->[0]) x 300000) . ']}');
        Test::More::like(
            "$r->{status} " . ($r->{json} ? $r->{json}{Message} : ''),
            qr/^400 $a->[1]$/, "300,000 actions $a->[0]: 400 at the first");
    }

    my $grew = $peak->() - $before;
    Test::More::ok($grew < 30000,
                   "the workers' peak memory grew by $grew kB, under 30 MB");
}


# an item larger than the buffer a claim starts with (16 KB an item): the
# writer's thread grows it while it renders, and the item arrives whole
sub main::big_item {
    my $hub = 'BigItem';
    my $input = '"' . ('x' x 100000) . '"';
    start($hub, 'Big', 'big1', $input);
    start($hub, 'Big', 'big2', '"small"');

    my @o = claim($hub, 'orchestrations', max => 1);
    Test::More::is(scalar @o, 1, 'one item claimed');
    Test::More::is(length($o[0]{input} // ''), 100000,
                   'the large input arrives whole');

    @o = claim($hub, 'orchestrations', max => 1);
    Test::More::is(scalar @o, 1, 'then the other one');
    Test::More::is($o[0]{input}, 'small', 'with its own input');
}


# Claim buffers the process keeps (one nginx process here): a claim that
# waits holds a 16 KB buffer while another claim grows its own to 64 KB
# for a large item; both are kept when their requests end. A claim of
# max=1 takes the smaller one, one of max=2 the larger, whose answer is
# its own bytes only; a claim of max=300 (16 KB an item: over 4 MB) gets
# a buffer that is never kept.
sub main::claim_bufs {
    my $hub = 'ClaimBufs';
    my $port = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;

    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port")
        or die "connect: $!";
    print $s "POST $B/worker/orchestrations/claim?taskHub=Wait&max=1"
             . "&wait=20 HTTP/1.0\r\nx-functions-key: workerkey-1234\r\n"
             . "Content-Length: 0\r\n\r\n";

    # the claim waits (its buffer taken) once the metrics count it
    my $open = 0;
    for (1 .. 200) {
        my $m = api('GET', '/metrics', undef, $K);
        last if ($open) = ($m->{body} // '') =~ /^durable_waits_open 1$/m;
        Time::HiRes::sleep(0.05);
    }
    Test::More::ok($open, 'a claim waits');

    start($hub, 'Big', 'cb1', '"' . ('x' x 30000) . '"');
    my @o = claim($hub, 'orchestrations', max => 1);
    Test::More::is(length($o[0]{input} // ''), 30000,
                   'the item that grew its buffer');

    start('Wait', 'Small', 'cbw', '"woken"');
    my $answer = do { local $/; <$s> } // '';
    close $s;
    Test::More::like($answer, qr/"instanceId":"cbw"/, 'the claim woke');

    for my $c ([ 'cb2', 1 ], [ 'cb3', 2 ], [ 'cb4', 300 ]) {
        my ($id, $max) = @$c;

        start($hub, 'Small', $id, "\"input of $id\"");

        my $r = api('POST', "$B/worker/orchestrations/claim"
                    . "?taskHub=$hub&max=$max", '', $W);
        Test::More::is($r->{body}, claimed_one($r->{json}, $id),
                       "max=$max: exactly the answer of its one item");
    }
}

# the text of a claim's answer of one new instance of Small, from the
# values the store chose (times, the lease) in its parsed answer
sub claimed_one {
    my ($json, $id) = @_;
    my $i = ($json && $json->{items}[0]) || {};
    my $m = ($i->{messages} && $i->{messages}[0]) || {};

    return qq({"items":[{"instanceId":"$id","name":"Small","executionId":"1",)
        . qq("input":"input of $id","timestamp":"$i->{timestamp}",)
        . qq("history":[],"messages":[{"EventType":"ExecutionStarted",)
        . qq("Timestamp":"$m->{Timestamp}","EventId":-1,"Name":"Small",)
        . qq("Input":"input of $id"}],"lease":"$i->{lease}",)
        . qq("leaseExpires":"$i->{leaseExpires}"}]});
}


# names and ids in actions follow the start endpoint's rules
# (docs/http-api.md): each bad spelling, in each member that takes a name
# or an instance id, is a 400 naming the action and the member; nothing
# of it is applied and the lease stays current
our @bad_spellings = (
    [ 'a/b', "'a/b'", qr/must not contain [^(]*\('\/' at byte 1\)\.$/ ],
    [ "a\r\nb", 'CR LF',
      qr/must not contain control characters \(0x0d at byte 1\)\.$/ ],
    [ '@counter@c1', "a leading '\@'",
      qr/must not start with '\@' \(entity ids do\)\.$/, 'ids only' ],
    [ 'x' x 300, '300 bytes', qr/must have 1 to 256 bytes, not 300\.$/ ],
    [ '', 'empty', qr/must have 1 to 256 bytes, not 0\.$/ ],
);

# actions that do not parse: each a 400 naming the action, by its
# position and, once known, its type
our @bad_actions = (
    [ 2, 'not an object', qr/Action 2: an action must be a JSON object\./ ],
    [ {}, 'no type', qr/Action 2: 'type' is required\./ ],
    [ { type => 1 }, 'a type that is no string',
      qr/Action 2: 'type' must be a string\./ ],
    [ { type => 'callEntity', name => 'x' }, 'an unknown type',
      qr/Action 2: unknown type 'callEntity'\./ ],
    [ { type => 'scheduleActivity', name => 'A' }, 'no id',
      qr/Action 2 \(scheduleActivity\): 'id' must be a non-negative /
      . qr/integer\./ ],
    [ { type => 'createTimer', id => -1, fireAt => '2030-01-01T00:00:00Z' },
      'a negative id', qr/Action 2 \(createTimer\): 'id' must be a /
      . qr/non-negative integer\./ ],
    [ { type => 'raiseEvent', instanceId => 'x' }, 'no name',
      qr/Action 2 \(raiseEvent\): 'name' is required\./ ],
    [ { type => 'scheduleActivity', id => 2, name => 5 },
      'a name that is no string',
      qr/Action 2 \(scheduleActivity\): 'name' must be a string\./ ],
    [ { type => 'raiseEvent', name => 'Ping' }, 'no instanceId',
      qr/Action 2 \(raiseEvent\): 'instanceId' is required\./ ],
    [ { type => 'signalEntity', entity => 'c', operation => 'add' },
      'an entity that is no object',
      qr/Action 2 \(signalEntity\): 'entity' must be an object with /
      . qr/'name' and 'key'\./ ],
    [ { type => 'signalEntity', entity => { key => 'k' },
        operation => 'add' }, 'an entity without a name',
      qr/Action 2 \(signalEntity\): 'entity\.name' is required\./ ],
    [ { type => 'signalEntity', entity => { name => 'c', key => 'k' } },
      'no operation',
      qr/Action 2 \(signalEntity\): 'operation' is required\./ ],
    [ { type => 'createTimer', id => 2 }, 'no fireAt',
      qr/Action 2 \(createTimer\): 'fireAt' is required\./ ],
    [ { type => 'createTimer', id => 2, fireAt => 'tomorrow' },
      'a fireAt that is no time',
      qr/Action 2 \(createTimer\): 'fireAt' 'tomorrow' is not an ISO /
      . qr/8601 time\./ ],
    [ { type => 'fail', reason => [] }, 'a reason that is no string',
      qr/Action 2 \(fail\): 'reason' must be a string\./ ],
);

our @prefix = (
    { type => 'scheduleActivity', id => 0, name => 'A' },
    { type => 'createTimer', id => 1, fireAt => '2030-01-01T00:00:00Z' },
);

sub main::bad_names {
    my $hub = 'BadNames';
    start($hub, 'Seq', 'bn1');

    my @o = claim($hub, 'orchestrations');
    my @members = (
        [ 'startSubOrchestration', 'instanceId', 1, sub {
              { type => 'startSubOrchestration', id => 2, name => 'Child',
                instanceId => $_[0] } } ],
        [ 'scheduleActivity', 'name', 0, sub {
              { type => 'scheduleActivity', id => 2, name => $_[0] } } ],
        [ 'startSubOrchestration', 'name', 0, sub {
              { type => 'startSubOrchestration', id => 2, name => $_[0],
                instanceId => 'kid' } } ],
        [ 'raiseEvent', 'instanceId', 1, sub {
              { type => 'raiseEvent', instanceId => $_[0],
                name => 'Ping' } } ],
    );

    for my $m (@members) {
        my ($type, $member, $is_id, $make) = @$m;

        for my $s (@bad_spellings) {
            my ($bad, $label, $why, $ids_only) = @$s;

            next if $ids_only && !$is_id;

            my $r = complete($hub, 'orchestrations', {
                instanceId => 'bn1', lease => $o[0]{lease},
                actions => [ @prefix, $make->($bad) ] });
            Test::More::like(
                "$r->{status} " . ($r->{json} ? $r->{json}{Message} : ''),
                qr/^400 Action 2 \($type\): '$member' $why/,
                "$type, $member: $label is 400");
        }
    }

    for my $b (@bad_actions) {
        my ($action, $label, $why) = @$b;

        my $r = complete($hub, 'orchestrations', {
            instanceId => 'bn1', lease => $o[0]{lease},
            actions => [ @prefix, $action ] });
        Test::More::like(
            "$r->{status} " . ($r->{json} ? $r->{json}{Message} : ''),
            qr/^400 $why$/, "$label: 400 naming the action");
    }

    # the other rules of actions are worded the same way
    my $r = complete($hub, 'orchestrations', {
        instanceId => 'bn1', lease => $o[0]{lease},
        actions => [ @prefix, { type => 'createTimer', id => 0,
                                fireAt => '2030-01-01T00:00:00Z' } ] });
    my $twice = qr/^400 \{"Message":"Action 2 \(createTimer\): 'id' 0 is /
                . qr/the id of action 0 too; schedule ids must be /
                . qr/unique\."\}$/;
    Test::More::like("$r->{status} $r->{body}", qr/$twice/,
                     'a schedule id twice: 400');

    $r = complete($hub, 'orchestrations', {
        instanceId => 'bn1', lease => $o[0]{lease},
        actions => [ { type => 'complete' }, @prefix ] });
    my $first = qr/^400 \{"Message":"Action 0 \(complete\): a finishing /
                . qr/action must be the last one\."\}$/;
    Test::More::like("$r->{status} $r->{body}", qr/$first/,
                     'a finishing action first: 400');

    # checked before the lease: a stale one with a bad id is 400 too
    $r = complete($hub, 'orchestrations', {
        instanceId => 'bn1', lease => '00' x 16,
        actions => [ { type => 'raiseEvent', instanceId => 'a/b',
                       name => 'Ping' } ] });
    Test::More::like("$r->{status} $r->{body}",
                     qr/^400 \{"Message":"Action 0 \(raiseEvent\): /,
                     'a bad id with a stale lease: 400');

    $r = complete($hub, 'orchestrations', {
        instanceId => 'bn1', lease => $o[0]{lease},
        actions => [ @prefix ] });
    Test::More::is($r->{status}, 200, 'the lease is still current');
    Test::More::is(join(',', map { $_->{name} }
                                 claim($hub, 'activities', max => 10)),
                   'A', 'and only the good completion was applied');
}


# spellings the rules allow: '@' inside names and ids, 256 bytes, UTF-8
sub main::good_names {
    my $hub = 'GoodNames';
    start($hub, 'Seq', 'gn1');
    start($hub, 'Seq', 'gn@2');

    my $long = 'k' x 256;
    my @o = claim($hub, 'orchestrations', max => 10);
    my %o = map { $_->{instanceId} => $_ } @o;

    # gn@2 waits, unleased, for the event gn1 raises
    complete($hub, 'orchestrations',
             { instanceId => 'gn@2', lease => $o{'gn@2'}{lease} });

    my $r = complete($hub, 'orchestrations', {
        instanceId => 'gn1', lease => $o{gn1}{lease},
        actions => [
            { type => 'scheduleActivity', id => 0, name => '@counter@c1' },
            { type => 'scheduleActivity', id => 1,
              name => "Gr\xc3\xbc\xc3\x9f:" . ('a' x 249) },
            { type => 'startSubOrchestration', id => 2, name => '@counter@c1',
              instanceId => $long },
            { type => 'startSubOrchestration', id => 3, name => 'Child' },
            { type => 'startSubOrchestration', id => 4, name => 'Child',
              instanceId => undef },
            { type => 'raiseEvent', instanceId => 'gn@2', name => 'P@ng' },
        ] });
    Test::More::is($r->{status}, 200, 'good names and ids: 200')
        or Test::More::diag($r->{body});

    Test::More::is(join(',', sort map { $_->{name} }
                                 claim($hub, 'activities', max => 10)),
                   "\@counter\@c1,Gr\xc3\xbc\xc3\x9f:" . ('a' x 249),
                   'both activities scheduled under their names');

    $r = api('GET', "$B/instances/$long?taskHub=$hub", undef, $K);
    Test::More::like($r->{body},
                     qr/"name":"\@counter\@c1","instanceId":"$long"/,
                     'the sub-orchestration with a 256-byte id');

    $r = api('GET', "$B/instances/gn1:3?taskHub=$hub", undef, $K);
    Test::More::is($r->{status}, 202, 'the one with the default id');
    $r = api('GET', "$B/instances/gn1:4?taskHub=$hub", undef, $K);
    Test::More::is($r->{status}, 202, 'and the one whose id is null');

    my ($gn2) = grep { $_->{instanceId} eq 'gn@2' }
                     claim($hub, 'orchestrations', max => 10);
    Test::More::is($gn2 && $gn2->{messages}[-1]{Name}, 'P@ng',
                   'the event reached gn@2');
}


# new for each run of the file: the instances of a run before would make
# the starts 409
our $http_config = DurableBlocks::fresh_store('worker-orch');

our $config = <<'_EOC_';
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_keys systemkey-1234;
        durable_task_worker_keys workerkey-1234;
        durable_task_worker_lease 1s;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: claim / complete round trip with two activities
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::roundtrip();
--- request
GET /runtime/webhooks/durabletask/instances/rt1?taskHub=RoundTrip&showHistory=true&showHistoryOutput=true&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Completed".*"customStatus":"done","output":\[42,1.0e\+1\].*"EventType":"TaskCompleted","Timestamp":"[^"]+","Result":42
--- error_code: 200



=== TEST 2: a retried completion is applied once
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::idempotent();
--- request
GET /runtime/webhooks/durabletask/instances/i1?taskHub=Idem&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Running"
--- error_code: 202



=== TEST 3: lease expiry, re-claim, stale lease 409
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::stale();
--- request
GET /runtime/webhooks/durabletask/instances/s1?taskHub=Stale&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Running"
--- error_code: 202



=== TEST 4: exactly-once event delivery
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::events();
--- request
GET /runtime/webhooks/durabletask/instances/e1?taskHub=Events&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Running"
--- error_code: 202



=== TEST 5: suspended instances are not handed out
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::suspended();
--- request
GET /runtime/webhooks/durabletask/instances/p1?taskHub=Susp&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Pending"
--- error_code: 202



=== TEST 6: terminated while leased: 410
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::terminated();
--- request
GET /runtime/webhooks/durabletask/instances/t1?taskHub=Term&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Terminated","input":null,"customStatus":null,"output":"x"
--- error_code: 200



=== TEST 7: purged while leased: 404
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::purged();
--- request
GET /runtime/webhooks/durabletask/instances/g1?taskHub=Purged&code=systemkey-1234
--- response_body
--- error_code: 404



=== TEST 8: ContinueAsNew resets the history
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::continue_as_new();
--- request
GET /runtime/webhooks/durabletask/instances/c1?taskHub=Can&code=systemkey-1234
--- response_body_like: "input":2
--- error_code: 202



=== TEST 9: rewind re-runs the failed activity
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::rewind();
--- request
GET /runtime/webhooks/durabletask/instances/w1?taskHub=Rewind&showHistory=true&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Completed".*"ExecutionRewound"
--- error_code: 200



=== TEST 10: a durable timer fires when due
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::timer();
--- request
GET /runtime/webhooks/durabletask/instances/m1?taskHub=Timer&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Completed"
--- error_code: 200



=== TEST 11: Failed: 500 with returnInternalServerErrorOnFailure
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::failed();
--- request
GET /runtime/webhooks/durabletask/instances/f1?taskHub=Failed&returnInternalServerErrorOnFailure=true&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Failed".*"output":"bad input"
--- error_code: 500



=== TEST 12: worker endpoints take worker keys only
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::auth();
--- request
POST /runtime/webhooks/durabletask/worker/orchestrations/claim?code=workerkey-1234
--- response_body chomp
{"items":[]}
--- error_code: 200



=== TEST 13: renew and abandon
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::leases();
--- request
GET /runtime/webhooks/durabletask/instances/l1?taskHub=Leases&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Pending"
--- error_code: 202



=== TEST 14: sub-orchestrations report to their parent
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::sub();
--- request
GET /runtime/webhooks/durabletask/instances/pa:0?taskHub=Sub&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Completed".*"output":"from child"
--- error_code: 200



=== TEST 16: several completions in one request (a JSON array): one result each, in order
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::many();
--- request
GET /runtime/webhooks/durabletask/instances/m2?taskHub=Many&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Completed".*"output":\["am2","bm2"\]
--- error_code: 200



=== TEST 17: 300 completions in one request (durable_task_worker_max_items 1000)
--- http_config eval: $::http_config
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_keys systemkey-1234;
        durable_task_worker_keys workerkey-1234;
        durable_task_worker_max_items 1000;
    }
--- init
main::many_big();
--- request
GET /runtime/webhooks/durabletask/instances/big-300?taskHub=ManyBig&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Completed".*"output":"big-300"
--- error_code: 200



=== TEST 18: bad names and ids in actions are 400, naming the action and the member
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::bad_names();
--- request
GET /runtime/webhooks/durabletask/instances/bn1?taskHub=BadNames&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Running"
--- error_code: 202



=== TEST 19: names and ids the rules allow are accepted in actions
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::good_names();
--- request
GET /runtime/webhooks/durabletask/instances/gn1?taskHub=GoodNames&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Running"
--- error_code: 202



=== TEST 20: a different completion under a used lease is 409
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::replay_other();
--- request
GET /runtime/webhooks/durabletask/instances/ro1?taskHub=Other&showHistory=true&code=systemkey-1234
--- response_body_like: ^(?!.*ExecutionCompleted).*"runtimeStatus":"Running".*"EventType":"TaskScheduled"(?!.*TaskScheduled)
--- error_code: 202



=== TEST 21: claims by name (names=, repeated)
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::by_name();
--- request
GET /runtime/webhooks/durabletask/instances/nm1?taskHub=Names&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Running"
--- error_code: 202



=== TEST 15: claim limits: max and wait beyond their directives are 400, and so is an array of more completions than max_items
--- http_config eval: $::http_config
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_worker_keys workerkey-1234;
        durable_task_worker_max_items 10;
        durable_task_worker_max_wait 5s;
    }
--- request eval
["POST /runtime/webhooks/durabletask/worker/orchestrations/claim?max=11&code=workerkey-1234",
 "POST /runtime/webhooks/durabletask/worker/activities/claim?wait=6&code=workerkey-1234",
 "POST /runtime/webhooks/durabletask/worker/entities/claim?max=10&wait=0&code=workerkey-1234",
 "POST /runtime/webhooks/durabletask/worker/activities/complete?code=workerkey-1234\n["
 . join(',', ('{}') x 11) . ']']
--- error_code eval
[400, 400, 200, 400]
--- response_body_like eval
['"Message":"The value \'11\' of \'max\' is not an integer from 1 to 10\."',
 '"Message":"The value \'6\' of \'wait\' is more than the longest wait allowed here, 5 seconds\."',
 '^\{"items":\[\]\}$',
 '^\{"Message":"An array of completions holds 1 to 10 of them\."\}$']



=== TEST 22: a claimed item larger than the claim's first buffer
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::big_item();
--- request
GET /runtime/webhooks/durabletask/instances/big1?taskHub=BigItem&code=systemkey-1234
--- response_body_like: "runtimeStatus":"(?:Pending|Running)"
--- error_code: 202



=== TEST 23: claim buffers kept for the next claims: the smallest that fits, none over 4 MB, freed at exit
--- skip_eval: 10: !$::debug
--- log_level: debug
--- http_config eval: $::http_config
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_keys systemkey-1234;
        durable_task_worker_keys workerkey-1234;
        durable_task_worker_max_items 300;
    }
    location /metrics {
        durable_task_metrics;
        durable_task_keys systemkey-1234;
    }
--- init
# the real runner runs the init of a skipped block too
main::claim_bufs() if $::debug;
--- request
GET /runtime/webhooks/durabletask/instances/cb4?taskHub=ClaimBufs&code=systemkey-1234
--- response_body_like: "runtimeStatus":"(?:Pending|Running)"
--- error_code: 202
--- grep_error_log eval
qr/durable claim buffer: (?:allocated|kept|freed|taken again, \d+ bytes for \d+)/
--- grep_error_log_out eval
qr/\Adurable claim buffer: allocated
durable claim buffer: allocated
durable claim buffer: kept
durable claim buffer: kept
durable claim buffer: taken again, 16384 bytes for 16384
durable claim buffer: kept
durable claim buffer: taken again, (?!16384 )\d+ bytes for 32768
durable claim buffer: kept
durable claim buffer: allocated
durable claim buffer: freed
\z/
--- shutdown_error_log
durable claim buffers: 2 freed at exit



=== TEST 24: a completion of many bad actions is refused at the first, with little memory
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::bad_actions();
--- request
GET /runtime/webhooks/durabletask/instances/ba1?taskHub=BadActs&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Pending"
--- error_code: 202



=== TEST 25: a completion, renewal or abandon naming an id the store cannot hold is 400 about that id, not about actions
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
my $w = '/runtime/webhooks/durabletask/worker';
my $l = '"lease":"' . ('ab' x 16) . '"';
my $long = 'x' x 300;
["POST $w/orchestrations/complete?code=workerkey-1234\n{\"instanceId\":\"$long\",$l,\"actions\":[]}",
 "POST $w/orchestrations/complete?code=workerkey-1234\n{\"instanceId\":\"a\\u0000b\",$l,\"actions\":[]}",
 "POST $w/orchestrations/renew?code=workerkey-1234\n{\"instanceId\":\"$long\",$l}",
 "POST $w/activities/abandon?code=workerkey-1234\n{\"instanceId\":\"$long\",\"taskId\":1,$l}",
 "POST $w/entities/complete?code=workerkey-1234\n{\"entity\":{\"name\":\"a\@b\",\"key\":\"k\"},$l}"]
--- error_code eval
[(400) x 5]
--- response_body_like eval
[('^\{"Message":"The instance id [^"]*"\}$') x 4,
 '^\{"Message":"The entity name [^"]*"\}$']
