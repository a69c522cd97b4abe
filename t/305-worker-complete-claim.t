# A completion that claims: POST .../complete?claim=KIND applies the
# completions and claims items of KIND in the same batch, so a worker
# needs one round trip per step. The flows run in --- init
# (t/inc/DurableClient.pm: lease tokens come from earlier answers); each
# block's request checks the state a flow left.

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

# assertions made by the flows, per block
our %flow_tests = (chain => 16, refused => 5, array => 7, bad => 5,
                   spellings => 8);

my $flow_total = 0;
$flow_total += $_ for values %flow_tests;

# two per block with one request, eight for the block of four requests
plan tests => $flow_total + 2 * (blocks() - 1) + 8;


sub start {
    my ($hub, $id) = @_;

    my $r = api('POST', "$B/orchestrators/Seq/$id?taskHub=$hub", '', $K);
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

# a completion with a query string (claim=, max=, names=)
sub complete {
    my ($hub, $kind, $qs, $body) = @_;

    return api('POST', "$B/worker/$kind/complete?taskHub=$hub$qs", $body,
               $W);
}

sub event_types { join ',', map { $_->{EventType} } @{ $_[0] } }


# one instance, two activities, each step one request after the first claim
sub main::chain {
    my $hub = 'Chain';
    start($hub, 'ch1');

    my @o = claim($hub, 'orchestrations');
    Test::More::is(scalar @o, 1, 'the first episode, claimed alone');

    my $r = complete($hub, 'orchestrations', '&claim=activities', {
        instanceId => 'ch1', lease => $o[0]{lease},
        actions => [ { type => 'scheduleActivity', id => 0, name => 'Hi',
                       input => 'a' } ] });
    Test::More::is($r->{status}, 200, 'episode 1 completed');
    Test::More::is_deeply($r->{json}{results},
                          [ { status => 200, runtimeStatus => 'Running' } ],
                          'one completion, answered as in an array');
    my @a = @{ $r->{json}{items} || [] };
    Test::More::is(scalar @a, 1, 'and the activity it scheduled, claimed');
    Test::More::is("$a[0]{instanceId}:$a[0]{taskId}:$a[0]{name}:"
                   . "$a[0]{input}", 'ch1:0:Hi:a', 'with its members');
    Test::More::like($a[0]{lease}, qr/^[0-9a-f]{32}$/, 'under a lease');
    Test::More::is(scalar(claim($hub, 'activities')), 0,
                   'which nobody else gets');

    $r = complete($hub, 'activities', '&claim=orchestrations', {
        instanceId => 'ch1', taskId => 0, lease => $a[0]{lease},
        result => 'A' });
    Test::More::is_deeply($r->{json}{results}, [ { status => 200 } ],
                          'the activity completed');
    @o = @{ $r->{json}{items} || [] };
    Test::More::is(scalar @o, 1, 'the next episode, claimed with it');
    Test::More::is(event_types($o[0]{messages}), 'TaskCompleted',
                   'its message is the result');
    Test::More::is($o[0]{messages}[0]{Result}, 'A', 'of the activity');
    Test::More::is(event_types($o[0]{history}),
        'OrchestratorStarted,ExecutionStarted,TaskScheduled,'
        . 'OrchestratorCompleted', 'after the first episode');

    $r = complete($hub, 'orchestrations', '&claim=activities', {
        instanceId => 'ch1', lease => $o[0]{lease},
        actions => [ { type => 'complete', output => 'done' } ] });
    Test::More::is($r->{json}{results}[0]{runtimeStatus}, 'Completed',
                   'the last episode completed it');
    Test::More::is_deeply($r->{json}{items}, [], 'and nothing to claim');

    # the same completion again: the first answer, and a claim again
    $r = complete($hub, 'orchestrations', '&claim=activities', {
        instanceId => 'ch1', lease => $o[0]{lease},
        actions => [ { type => 'complete', output => 'done' } ] });
    Test::More::is($r->{json}{results}[0]{runtimeStatus}, 'Completed',
                   'a retry answers the same');
    Test::More::is_deeply($r->{json}{items}, [], 'with no items');
}


# a refused completion does not stop the claim after it
sub main::refused {
    my $hub = 'Refused';
    start($hub, 'rf1');

    my @o = claim($hub, 'orchestrations');
    start($hub, 'rf2');

    my $r = complete($hub, 'orchestrations', '&claim=orchestrations', {
        instanceId => 'rf1', lease => '00' x 16 });
    Test::More::is($r->{status}, 200, 'a request of one refused completion');
    Test::More::is($r->{json}{results}[0]{status}, 409, 'the refusal');
    Test::More::like($r->{json}{results}[0]{Message}, qr/lease is not/,
                     'says why');
    Test::More::is(join(',', map { $_->{instanceId} }
                                 @{ $r->{json}{items} || [] }),
                   'rf2', 'the other instance was claimed all the same');

    $r = complete($hub, 'orchestrations', '', {
        instanceId => 'rf1', lease => $o[0]{lease} });
    Test::More::is($r->{status}, 200, 'the right lease is still current');
}


# an array of completions, and max= and names= of the claim
sub main::array {
    my $hub = 'Array';
    start($hub, "ar$_") for 1 .. 3;

    my @o = claim($hub, 'orchestrations', max => 10);
    Test::More::is(scalar @o, 3, 'three episodes');

    my $r = complete($hub, 'orchestrations',
                     '&claim=activities&max=1&names=B',
                     [ map { { instanceId => $_->{instanceId},
                               lease => $_->{lease},
                               actions => [ { type => 'scheduleActivity',
                                              id => 0,
                                              name => $_->{instanceId} eq 'ar2'
                                                      ? 'B' : 'A' } ] } }
                       @o ]);
    Test::More::is($r->{status}, 200, 'three completions');
    Test::More::is(join(',', map { "$_->{status}:$_->{runtimeStatus}" }
                                 @{ $r->{json}{results} }),
                   '200:Running,200:Running,200:Running', 'each applied');
    Test::More::is(join(',', map { "$_->{instanceId}:$_->{name}" }
                                 @{ $r->{json}{items} }),
                   'ar2:B', 'one item, of the name asked for');

    $r = complete($hub, 'orchestrations', '&claim=activities&max=5', [
        { instanceId => 'ar1', lease => $o[0]{lease},
          actions => [ { type => 'scheduleActivity', id => 0,
                         name => 'A' } ] } ]);
    Test::More::is($r->{json}{results}[0]{status}, 200,
                   'a retry inside an array');
    Test::More::is(join(',', sort map { $_->{instanceId} }
                                      @{ $r->{json}{items} }),
                   'ar1,ar3', 'claims the two activities left');
    Test::More::is(scalar(claim($hub, 'activities', max => 10)), 0,
                   'all of them leased');
}


# a bad claim= or max= is a 400 and applies nothing
sub main::bad {
    my $hub = 'Bad';
    start($hub, 'bd1');

    my @o = claim($hub, 'orchestrations');
    my $body = { instanceId => 'bd1', lease => $o[0]{lease},
                 actions => [ { type => 'scheduleActivity', id => 0,
                                name => 'A' } ] };

    my $r = complete($hub, 'orchestrations', '&claim=activity', $body);
    Test::More::is("$r->{status} $r->{body}",
                   '400 {"Message":"The parameter \'claim\' must be '
                   . '\'orchestrations\', \'activities\' or '
                   . '\'entities\'."}', 'an unknown kind: 400');

    $r = complete($hub, 'orchestrations', '&claim=activities&max=0', $body);
    Test::More::is($r->{status}, 400, 'max=0: 400');

    # the token's length, a character that is not a hex digit
    (my $bad = $o[0]{lease}) =~ s/.$/g/;
    $r = complete($hub, 'orchestrations', '', { %$body, lease => $bad });
    Test::More::is("$r->{status} $r->{body}",
                   '400 {"Message":"The member \'lease\' is not a lease '
                   . 'token."}', 'a lease with a letter past f: 400');

    Test::More::is(scalar(claim($hub, 'activities')), 0,
                   'nothing was applied');

    # hex digits are read in either case
    $r = complete($hub, 'orchestrations', '&claim=activities',
                  { %$body, lease => uc $o[0]{lease} });
    Test::More::is(scalar @{ $r->{json}{items} }, 1,
                   'the lease was still current, in capitals too');
}


# members are read as a JSON parser reads them: escapes decoded in keys
# and strings, the last of a repeated key
sub main::spellings {
    my $hub = 'Spell';
    start($hub, 'sp1');

    my @o = claim($hub, 'orchestrations');
    my $r = complete($hub, 'orchestrations', '&claim=activities',
        '{"instanc\\u0065Id":"sp1","lease":"' . ('0' x 32) . '",'
        . '"lease":"' . $o[0]{lease} . '","actions":[{"type":'
        . '"scheduleActivity","id":0,"name":"Hi\\u0021","input":"x",'
        . '"input":"y"}]}');
    Test::More::is($r->{json}{results}[0]{status}, 200,
                   'an escaped key, the last lease');
    Test::More::is($r->{json}{items}[0]{name}, 'Hi!', 'a decoded name');
    Test::More::is($r->{json}{items}[0]{input}, 'y', 'the last input');

    $r = complete($hub, 'activities', '',
        '{"instanceId":"sp1","taskId":0,"lease":"'
        . $r->{json}{items}[0]{lease} . '","taskId":1,"result":1}');
    Test::More::is($r->{status}, 404, 'the last taskId counts');

    # the same rules in objects of more members than the module keeps
    # the places of (16): a completion of 20 and an action of 22
    start($hub, 'sp2');
    @o = claim($hub, 'orchestrations');

    my $extra = join('', map { "\"x$_\":$_," } 1 .. 16);
    $r = complete($hub, 'orchestrations', '&claim=activities',
        '{"lease":"' . ('0' x 32) . '",' . $extra
        . '"instanc\\u0065Id":"sp2","lease":"' . $o[0]{lease} . '",'
        . '"actions":[{"name":"Lost",' . $extra . '"type":'
        . '"scheduleActivity","id":0,"name":"Hi\\u0021","input":"x",'
        . '"input":"z"}]}');
    Test::More::is($r->{json}{results}[0]{status}, 200,
                   '20 members: an escaped key, the last lease');
    Test::More::is($r->{json}{items}[0]{name}, 'Hi!',
                   '20 members: the last name, decoded');
    Test::More::is($r->{json}{items}[0]{input}, 'z',
                   '20 members: the last input');

    $r = complete($hub, 'activities', '',
        '{"instanceId":"sp2","taskId":0,' . $extra . '"lease":"'
        . $r->{json}{items}[0]{lease} . '","taskId":1,"result":1}');
    Test::More::is($r->{status}, 404, '20 members: the last taskId counts');
}


# new for each run of the file: the instances of a run before would
# make the starts 409
our $http_config = DurableBlocks::fresh_store('worker-claim');

our $config = <<'_EOC_';
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_keys systemkey-1234;
        durable_task_worker_keys workerkey-1234;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: each step of a sequence is one completion that claims
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::chain();
--- request
GET /runtime/webhooks/durabletask/instances/ch1?taskHub=Chain&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Completed".*"output":"done"
--- error_code: 200



=== TEST 2: a refused completion, and the claim after it
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::refused();
--- request
GET /runtime/webhooks/durabletask/instances/rf2?taskHub=Refused&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Pending"
--- error_code: 202



=== TEST 3: an array of completions claims with max= and names=
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::array();
--- request
GET /runtime/webhooks/durabletask/instances/ar2?taskHub=Array&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Running"
--- error_code: 202



=== TEST 4: a bad claim= applies nothing
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::bad();
--- request
GET /runtime/webhooks/durabletask/instances/bd1?taskHub=Bad&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Running"
--- error_code: 202



=== TEST 5: members spelled with escapes, and repeated
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::spellings();
--- request
GET /runtime/webhooks/durabletask/instances/sp1?taskHub=Spell&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Running"
--- error_code: 202



=== TEST 6: claim= of entities, from activities; limits of max=
--- http_config eval: $::http_config
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_worker_keys workerkey-1234;
        durable_task_worker_max_items 10;
    }
--- request eval
["POST /runtime/webhooks/durabletask/worker/activities/complete?claim=entities&code=workerkey-1234\n"
 . '{"instanceId":"none","taskId":0,"lease":"' . ('0' x 32) . '","result":1}',
 "POST /runtime/webhooks/durabletask/worker/activities/complete?claim=entities&max=11&code=workerkey-1234\n"
 . '{"instanceId":"none","taskId":0,"lease":"' . ('0' x 32) . '","result":1}',
 "POST /runtime/webhooks/durabletask/worker/entities/complete?claim=&code=workerkey-1234\n"
 . '{"entity":{"name":"c","key":"k"},"lease":"' . ('0' x 32) . '","state":1}',
 "POST /runtime/webhooks/durabletask/worker/activities/complete?code=workerkey-1234\n"
 . '{"instanceId":"none","taskId":0,"lease":"' . ('0' x 32) . '","result":1}']
--- error_code eval
[200, 400, 400, 404]
--- response_body_like eval
['^\{"results":\[\{"status":404,"Message":"[^"]+"\}\],"items":\[\]\}$',
 '"Message":"The value \'11\' of \'max\' is not an integer from 1 to 10\."',
 '"Message":"The parameter \'claim\' must be',
 '^\{"Message":"The work item does not exist']
