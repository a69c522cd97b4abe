# Durable entities: signals from the API become entity work items, run one
# batch at a time per entity, in order; completions store the state that
# GET entity and list entities serve.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableClient qw(api json_of);
use File::Path qw(rmtree);

repeat_each(1);
no_shuffle();

our $B = '/runtime/webhooks/durabletask';
our $W = { 'x-functions-key' => 'workerkey-1234' };
our $K = { 'x-functions-key' => 'systemkey-1234' };

# assertions made by the flows: ordering, deleted, many, signal_names,
# replay_other, by_name, paged, empty_op, no_state; TEST 9 sends ten
# requests
plan tests => 11 + 3 + 14 + 5 + 3 + 3 + 3 + 8 + 2 * (blocks() - 1)
              + 2 * 10;


sub claim {
    my ($hub) = @_;

    my $r = api('POST', "$B/worker/entities/claim?taskHub=$hub&max=10", '',
                $W);
    die "claim: $r->{status} $r->{body}" unless $r->{status} == 200;

    return @{ $r->{json}{items} };
}

sub signal {
    my ($hub, $path, $op, $input) = @_;

    return api('POST', "$B/entities/$path?taskHub=$hub&op=$op",
               defined $input ? $input : '', $K)->{status};
}


sub main::ordering {
    my $hub = 'Ents';

    Test::More::is(signal($hub, 'Counter/c1', 'add', '1'), 202,
                   'signal accepted');
    signal($hub, 'counter/c1', 'add', '2');
    signal($hub, 'COUNTER/c1', 'get');

    my @e = claim($hub);
    Test::More::is(scalar @e, 1, 'one item for the entity');
    Test::More::is($e[0]{entity}{name}, 'counter', 'name lower-cased');
    Test::More::is(join(',', map { $_->{operation} } @{ $e[0]{operations} }),
                   'add,add,get', 'operations in arrival order');

    signal($hub, 'counter/c1', 'add', '10');
    Test::More::is(scalar(claim($hub)), 0,
                   'one lease at a time per entity');

    my $r = api('POST', "$B/worker/entities/complete?taskHub=$hub",
                { entity => $e[0]{entity}, lease => $e[0]{lease},
                  state => 3 }, $W);
    Test::More::is($r->{status}, 200, 'batch completed');

    @e = claim($hub);
    Test::More::is(join(',', map { $_->{input} } @{ $e[0]{operations} }),
                   '10', 'the next batch holds what came meanwhile');
    Test::More::is($e[0]{state}, 3, 'and sees the stored state');

    api('POST', "$B/worker/entities/complete?taskHub=$hub",
        { entity => $e[0]{entity}, lease => $e[0]{lease}, state => 13 }, $W);
}


# a signal without op= (how clients send one without an operation name)
# and one with an empty op= queue the empty operation, as the reference
sub main::empty_op {
    my $hub = 'EntOp';

    my $r = api('POST', "$B/entities/counter/e?taskHub=$hub", '', $K);
    Test::More::is($r->{status}, 202, 'a signal without op= is accepted');
    Test::More::is(signal($hub, 'counter/e', ''), 202,
                   'a signal with an empty op= is accepted');

    my @e = claim($hub);
    Test::More::is(join('|', map { '<' . $_->{operation} . '>' }
                             @{ $e[0]{operations} }),
                   '<>|<>', 'both queue the empty operation');
}


sub main::deleted {
    my $hub = 'Ents2';

    signal($hub, 'counter/gone', 'add', '1');
    my @e = claim($hub);
    api('POST', "$B/worker/entities/complete?taskHub=$hub",
        { entity => $e[0]{entity}, lease => $e[0]{lease}, state => 1 }, $W);

    my $r = api('GET', "$B/entities/counter/gone?taskHub=$hub", undef, $K);
    Test::More::is($r->{body}, '1', 'state stored');

    $r = api('DELETE', "$B/entities/counter/gone?taskHub=$hub", undef, $K);
    Test::More::is($r->{status}, 202, 'DELETE signals delete');

    @e = claim($hub);
    Test::More::is($e[0]{operations}[0]{operation}, 'delete',
                   'as the operation "delete"');
    api('POST', "$B/worker/entities/complete?taskHub=$hub",
        { entity => $e[0]{entity}, lease => $e[0]{lease}, delete => \1 },
        $W);
}


# three entities' batches completed in one request (an array)
sub main::many {
    my $hub = 'Ents3';

    signal($hub, "counter/k$_", 'add', $_) for 1 .. 3;
    my @e = claim($hub);
    Test::More::is(scalar @e, 3, 'three entity items');

    my @done = map { { entity => $_->{entity}, lease => $_->{lease},
                       state => 100 + $_->{operations}[0]{input} } } @e;
    my $r = api('POST', "$B/worker/entities/complete?taskHub=$hub",
                [ @done, { %{ $done[0] }, lease => 'ab' x 16 } ], $W);
    Test::More::is($r->{body},
                   '[{"status":200},{"status":200},{"status":200},'
                   . '{"status":409,"Message":"The lease is not current: it '
                   . 'expired and the item was claimed again, or it was '
                   . 'abandoned."}]', 'one result each, in order');

    $r = api('GET', "$B/entities?taskHub=$hub&fetchState=true", undef, $K);
    Test::More::is(join(',', sort map { $_->{state} } @{ $r->{json} }),
                   '101,102,103', 'three states stored');
}


# the entities of main::many() paged through /bytes/, whose pages may
# hold 1 byte: each takes its first entity all the same, a token after
# each but the last
sub main::paged {
    my (@keys, @pages, $token);

    for (1 .. 10) {
        my $r = api('GET', "/bytes/entities?taskHub=Ents3&fetchState=true",
                    undef, { %$K, defined $token
                                  ? ('x-ms-continuation-token' => $token)
                                  : () });
        last unless $r->{status} == 200;
        push @pages, scalar @{ $r->{json} };
        push @keys, map { "$_->{entityId}{key}=$_->{state}" } @{ $r->{json} };
        $token = $r->{headers}{'x-ms-continuation-token'};
        last unless defined $token;
    }

    Test::More::is(join(',', @keys), 'k1=101,k2=102,k3=103',
                   'every entity once, in order, with its state');
    Test::More::is(join(',', @pages), '1,1,1',
                   'one a page, no token after the last');
}


# an orchestration's signals name entities by the entity endpoint's rules:
# each bad spelling of the name or the key is a 400 naming the action and
# the member; the good ones reach their entities
sub main::signal_names {
    my $hub = 'SigNames';

    my $r = api('POST', "$B/orchestrators/Seq/sn1?taskHub=$hub", '', $K);
    die "start: $r->{status} $r->{body}" unless $r->{status} == 202;

    $r = api('POST', "$B/worker/orchestrations/claim?taskHub=$hub", '', $W);
    my $lease = $r->{json}{items}[0]{lease};

    my @prefix = (
        { type => 'scheduleActivity', id => 0, name => 'A' },
        { type => 'signalEntity', entity => { name => 'ok', key => 'k' },
          operation => 'add' },
    );

    my @bad = (
        [ 'name', 'a/b', 'k', "'a/b'",
          qr/'entity\.name' must not contain [^(]*\('\/' at byte 1\)/ ],
        [ 'name', "a\r\nb", 'k', 'CR LF',
          qr/'entity\.name' must not contain control characters \(0x0d/ ],
        [ 'name', '@counter@c1', 'k', "'\@counter\@c1'",
          qr/'entity\.name' must not contain '\@' \(at byte 0\)/ ],
        [ 'name', 'x' x 300, 'k', '300 bytes',
          qr/'entity\.name' must have 1 to 256 bytes, not 300/ ],
        [ 'name', '', 'k', 'empty',
          qr/'entity\.name' must have 1 to 256 bytes, not 0/ ],
        [ 'key', 'counter', 'a/b', "'a/b'",
          qr/'entity\.key' must not contain [^(]*\('\/' at byte 1\)/ ],
        [ 'key', 'counter', "a\r\nb", 'CR LF',
          qr/'entity\.key' must not contain control characters \(0x0d/ ],
        [ 'key', 'counter', 'x' x 300, '300 bytes',
          qr/'entity\.key' must have 1 to 256 bytes, not 300/ ],
        [ 'name and key', 'n' x 200, 'k' x 100, '300 bytes together',
          qr/'entity' name and key must not have more than 254 bytes /
          . qr/together, not 300/ ],
    );

    for my $b (@bad) {
        my ($what, $name, $key, $label, $why) = @$b;

        $r = api('POST', "$B/worker/orchestrations/complete?taskHub=$hub",
                 { instanceId => 'sn1', lease => $lease,
                   actions => [ @prefix,
                                { type => 'signalEntity',
                                  entity => { name => $name, key => $key },
                                  operation => 'add', input => 1 } ] },
                 $W);
        Test::More::like(
            "$r->{status} " . ($r->{json} ? $r->{json}{Message} : ''),
            qr/^400 Action 2 \(signalEntity\): $why/,
            "entity $what: $label is 400");
    }

    # the operation follows the same rules, but may be empty, as a
    # signal over HTTP (a JSON body cannot carry a surrogate: the store's
    # unit tests check those, and the empty one)
    my @bad_ops = (
        [ "a\x01b", 'a control character',
          qr/Action 2 \(signalEntity\): 'operation' must not contain control characters/ ],
        [ 'a#b', "'a#b'",
          qr/Action 2 \(signalEntity\): 'operation' must not contain / ],
        [ 'a/b', "'a/b'",
          qr/Action 2 \(signalEntity\): 'operation' must not contain / ],
    );

    for my $b (@bad_ops) {
        my ($op, $label, $why) = @$b;

        $r = api('POST', "$B/worker/orchestrations/complete?taskHub=$hub",
                 { instanceId => 'sn1', lease => $lease,
                   actions => [ @prefix,
                                { type => 'signalEntity',
                                  entity => { name => 'c', key => 'k' },
                                  operation => $op, input => 1 } ] },
                 $W);
        Test::More::like(
            "$r->{status} " . ($r->{json} ? $r->{json}{Message} : ''),
            qr/^400 $why/, "operation $label is 400");
    }

    $r = api('POST', "$B/worker/orchestrations/complete?taskHub=$hub",
             { instanceId => 'sn1', lease => $lease,
               actions => [ @prefix,
                            { type => 'signalEntity',
                              entity => { name => 'Counter',
                                          key => '@counter@c1' },
                              operation => 'add', input => 1 },
                            { type => 'signalEntity',
                              entity => { name => 'c:d', key => 'a@b' },
                              operation => 'add', input => 2 } ] }, $W);
    Test::More::is($r->{status}, 200, 'good entity names and keys: 200');

    Test::More::is(join(',', sort map { "$_->{entity}{name}/"
                                        . $_->{entity}{key} } claim($hub)),
                   'c:d/a@b,counter/@counter@c1,ok/k',
                   'each signal reached its entity, once');
}


# the lease of a completed batch with another state or a delete: 409, the
# stored state stays; the identical completion gets the stored answer
sub main::replay_other {
    my $hub = 'Ents4';

    signal($hub, 'counter/r1', 'add', '5');
    my @e = claim($hub);
    my $done = { entity => $e[0]{entity}, lease => $e[0]{lease},
                 state => 5 };
    my $url = "$B/worker/entities/complete?taskHub=$hub";

    Test::More::is(api('POST', $url, $done, $W)->{status}, 200,
                   'batch completed');

    my $r = api('POST', $url, { %$done, state => 6 }, $W);
    Test::More::is($r->{status}, 409, 'another state under that lease: 409');
    Test::More::like($r->{json}{Message},
                     qr/different completion was already applied/,
                     'the message says so');

    $r = api('POST', $url, { entity => $e[0]{entity},
                             lease => $e[0]{lease}, delete => \1 }, $W);
    Test::More::is($r->{status}, 409, 'a delete under that lease: 409');

    Test::More::is(api('POST', $url, $done, $W)->{status}, 200,
                   'the identical completion again: 200');
}


# names=: entity names, compared as stored (lower-cased)
sub main::by_name {
    my $hub = 'Ents5';

    signal($hub, 'counter/e1', 'add', '1');
    signal($hub, 'other/e2', 'add', '2');

    my $r = api('POST', "$B/worker/entities/claim?taskHub=$hub&max=10"
                        . '&names=Counter', '', $W);
    my @e = @{ $r->{json}{items} };
    Test::More::is(join(',', map { "$_->{entity}{name}/$_->{entity}{key}" }
                                 @e),
                   'counter/e1', 'only the entity name asked for');

    @e = claim($hub);
    Test::More::is(join(',', map { $_->{entity}{name} } @e), 'other',
                   'the other stayed for any worker');
    Test::More::is(api('POST', "$B/worker/entities/complete?taskHub=$hub",
                       { entity => $e[0]{entity}, lease => $e[0]{lease},
                         state => 2 }, $W)->{status}, 200,
                   'and completes');
}


# a completion without a state, or with a null one, deletes the entity
# (as a gRPC result without entityState does), and digests as a delete;
# a delete that is not a boolean is 400 and the lease stays
sub main::no_state {
    my $hub = 'Ents6';
    my $url = "$B/worker/entities/complete?taskHub=$hub";
    my ($r, @e);

    for my $k ('ns1', 'ns2') {
        signal($hub, "counter/$k", 'add', '1');
        @e = claim($hub);
        api('POST', $url, { entity => $e[0]{entity}, lease => $e[0]{lease},
                            state => 1 }, $W);
    }

    signal($hub, 'counter/ns1', 'add', '2');
    @e = claim($hub);
    my $done = { entity => $e[0]{entity}, lease => $e[0]{lease} };
    Test::More::is(api('POST', $url, $done, $W)->{status}, 200,
                   'a completion without state: 200');
    Test::More::is(api('GET', "$B/entities/counter/ns1?taskHub=$hub",
                       undef, $K)->{status}, 404,
                   'and GET finds no entity');
    Test::More::is(api('POST', $url, { %$done, delete => \1 }, $W)->{status},
                   200, 'a delete under its lease is the same completion');

    signal($hub, 'counter/ns2', 'add', '2');
    @e = claim($hub);
    $done = { entity => $e[0]{entity}, lease => $e[0]{lease} };

    for my $del ('true', 1, 0, {}) {
        $r = api('POST', $url, { %$done, delete => $del, state => 3 }, $W);
        Test::More::is("$r->{status} " . ($r->{json}{Message} // ''),
                       "400 The member 'delete' must be true or false.",
                       'delete ' . json_of($del) . ' is 400');
    }

    Test::More::is(api('POST', $url, { %$done, state => undef }, $W)
                   ->{status}, 200, 'a null state: 200');
}


# the store of a run before would make the flows' starts 409
rmtree("$ENV{TEST_NGINX_DATA_DIR}/worker-entities")
    if $ENV{TEST_NGINX_DATA_DIR};

our $http_config = <<'_EOC_';
    durable_task_store default path=$TEST_NGINX_DATA_DIR/worker-entities;
_EOC_

our $config = <<'_EOC_';
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_keys systemkey-1234;
        durable_task_worker_keys workerkey-1234;
    }

    location /bytes/ {
        durable_task /bytes;
        durable_task_keys systemkey-1234;
        durable_task_list_max_bytes 1;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: operations in order, one batch at a time, state served
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::ordering();
--- request
GET /runtime/webhooks/durabletask/entities/Counter/c1?taskHub=Ents&code=systemkey-1234
--- response_body chomp
13
--- error_code: 200



=== TEST 2: list entities with their state (the same nginx)
--- request
GET /runtime/webhooks/durabletask/entities?taskHub=Ents&fetchState=true&code=systemkey-1234
--- response_body_like: ^\[\{"entityId":\{"name":"counter","key":"c1"\},"lastOperationTime":"\d{4}-\d\d-\d\dT[\d:.]+Z","state":13\}\]$
--- error_code: 200



=== TEST 3: a lastOperationTimeTo at the epoch is a bound: nothing was operated on before it (the same nginx)
--- request
GET /runtime/webhooks/durabletask/entities?taskHub=Ents&lastOperationTimeTo=1970-01-01T00:00:00Z&code=systemkey-1234
--- response_body chomp
[]
--- error_code: 200



=== TEST 4: delete removes the state
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::deleted();
--- request
GET /runtime/webhooks/durabletask/entities/counter/gone?taskHub=Ents2&code=systemkey-1234
--- response_body
--- error_code: 404



=== TEST 5: the empty key is "$" on reads (the same nginx)
--- request
GET /runtime/webhooks/durabletask/entities/counter/$?taskHub=Ents2&code=systemkey-1234
--- response_body
--- error_code: 404



=== TEST 6: several entity completions in one request
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::many();
--- request
GET /runtime/webhooks/durabletask/entities/counter/k2?taskHub=Ents3&code=systemkey-1234
--- response_body chomp
102
--- error_code: 200



=== TEST 7: durable_task_list_max_bytes: an entity page ends once full, with a token after its last entity (the same nginx)
--- init
main::paged();
--- request
GET /bytes/entities?taskHub=Ents3&fetchState=true&code=systemkey-1234
--- response_body_like: ^\[\{"entityId":\{"name":"counter","key":"k1"\},"lastOperationTime":"[^"]+","state":101\}\]$
--- response_headers_like
x-ms-continuation-token: .+
--- error_code: 200



=== TEST 8: entity names and keys of an orchestration's signals follow the entity endpoint's rules
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::signal_names();
--- request
GET /runtime/webhooks/durabletask/instances/sn1?taskHub=SigNames&code=systemkey-1234
--- response_body_like: "runtimeStatus":"Running"
--- error_code: 202



=== TEST 9: signals and lists over HTTP: the same rules, in the same words; no op= is the empty operation
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::empty_op();
--- request eval
my $e = '/runtime/webhooks/durabletask/entities';
my $q = '?op=add&taskHub=EntNames&code=systemkey-1234';
["POST $e/" . ('n' x 200) . '/' . ('k' x 55) . $q,
 "POST $e/" . ('n' x 200) . '/' . ('k' x 54) . $q,
 "POST $e/a%40b/k$q",
 "POST $e/counter/a%0D%0Ab$q",
 "POST $e/counter/k?op=&taskHub=EntNames&code=systemkey-1234",
 "POST $e/counter/k?taskHub=EntNames&code=systemkey-1234",
 "POST $e/counter/k?op=%ED%A0%80&taskHub=EntNames&code=systemkey-1234",
 "POST $e/counter/k?op=a%01b&taskHub=EntNames&code=systemkey-1234",
 "GET $e/a%40b?taskHub=EntNames&code=systemkey-1234",
 "GET $e/" . ('n' x 255) . "?taskHub=EntNames&code=systemkey-1234"]
--- error_code eval
[400, 202, 400, 400, 202, 202, 400, 400, 400, 400]
--- response_body_like eval
['^\{"Message":"The entity name and key must not have more than 254 bytes together, not 255\."\}$',
 '^$',
 '^\{"Message":"The entity name must not contain \'@\' \(at byte 1\)\."\}$',
 '^\{"Message":"The entity key must not contain control characters \(0x0d at byte 1\)\."\}$',
 '^$',
 '^$',
 '^\{"Message":"The operation name \(op=\) is not valid UTF-8 \(0xed at byte 0\)\."\}$',
 '^\{"Message":"The operation name \(op=\) must not contain control characters \(0x01 at byte 1\)\."\}$',
 '^\{"Message":"The entity name must not contain \'@\' \(at byte 1\)\."\}$',
 '^\{"Message":"The entity name and key must not have more than 254 bytes together, not 255\."\}$']



=== TEST 10: a different completion under a used lease is 409
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::replay_other();
--- request
GET /runtime/webhooks/durabletask/entities/counter/r1?taskHub=Ents4&code=systemkey-1234
--- response_body chomp
5
--- error_code: 200



=== TEST 11: claims by entity name (names=)
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::by_name();
--- request
GET /runtime/webhooks/durabletask/entities/other/e2?taskHub=Ents5&code=systemkey-1234
--- response_body chomp
2
--- error_code: 200



=== TEST 12: a signal whose JSON body does not parse: 400 in the reference's words
--- http_config eval: $::http_config
--- config eval: $::config
--- request
POST /runtime/webhooks/durabletask/entities/counter/j1?op=add&taskHub=EntJson&code=systemkey-1234
{"a":
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_like: ^\{"Message":"Could not parse JSON content: invalid JSON at line [^"]*"\}$



=== TEST 13: a completion without a state, or with a null one, deletes the entity; a delete that is not a boolean is 400
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::no_state();
--- request
GET /runtime/webhooks/durabletask/entities?taskHub=Ents6&fetchState=true&code=systemkey-1234
--- response_body chomp
[]
--- error_code: 200
