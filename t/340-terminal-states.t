# The management API on Completed and Failed instances, which only the
# worker protocol produces: status codes (default and 1.x table), rewind,
# purge, and the start-and-wait form answered when the instance fails.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableClient qw(api);
use DurableBlocks ();
use POSIX ();

repeat_each(1);
no_shuffle();

our $B = '/runtime/webhooks/durabletask';

plan tests => 4 + 24;


# runs one episode of instance $id to its end: complete or fail
sub finish {
    my ($hub, $id, $action) = @_;

    my $r = api('POST', "$B/worker/orchestrations/claim?taskHub=$hub&max=10",
                '');
    my ($item) = grep { $_->{instanceId} eq $id } @{ $r->{json}{items} };
    die "no item for $id: $r->{body}" unless $item;

    $r = api('POST', "$B/worker/orchestrations/complete?taskHub=$hub",
             { instanceId => $id, lease => $item->{lease},
               actions => [ $action ] });
    die "complete $id: $r->{body}" unless $r->{status} == 200;
}


sub main::setup {
    my $hub = 'Terminal';

    api('POST', "$B/orchestrators/Done/c1?taskHub=$hub", '1');
    finish($hub, 'c1', { type => 'complete', output => { ok => 1 } });

    api('POST', "$B/orchestrators/Broken/f1?taskHub=$hub", '2');
    finish($hub, 'f1', { type => 'fail', reason => 'bad' });

    api('POST', "$B/orchestrators/Stopped/t1?taskHub=$hub", '');
    api('POST', "$B/instances/t1/terminate?taskHub=$hub", '');

    Test::More::is(api('GET', "$B/instances/c1?taskHub=$hub")->{status},
                   200, 'c1 is Completed');
}


# start and wait: the waiting request is answered when the instance fails
sub main::wait_for_failure {
    my $hub = 'Terminal';

    pipe(my $rd, my $wr) or die "pipe: $!";
    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        close $rd;
        my $r = api('POST',
                    "$B/orchestrators/Broken/f2?taskHub=$hub&timeout=20",
                    '3');
        print $wr "$r->{status} $r->{body}\n";
        close $wr;
        POSIX::_exit(0);
    }

    close $wr;

    for (1 .. 50) {
        my $s = api('GET', "$B/instances/f2?taskHub=$hub");
        last if $s->{status} == 202;
        select undef, undef, undef, 0.1;
    }

    finish($hub, 'f2', { type => 'fail', reason => 'nope' });

    my $line = <$rd> // '';
    waitpid $pid, 0;

    my ($status, $body) = split / /, $line, 2;
    Test::More::is($status, 200, 'the waiting start is answered 200');
    Test::More::like($body, qr/"runtimeStatus":"Failed"/,
                     'with the status payload of the Failed instance');
    Test::More::like($body, qr/"output":"nope"/, 'its output is the reason');
}


# new for each run of the file: the instances of a run before would
# make the starts 409
our $http_config = DurableBlocks::fresh_store('terminal');

our $config = <<'_EOC_';
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }

    location /v1/ {
        durable_task /v1;
        durable_task_anonymous on;
        durable_task_v1_status_codes on;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: Completed is 200 with the output
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::setup();
--- request
GET /runtime/webhooks/durabletask/instances/c1?taskHub=Terminal
--- response_body_like: "runtimeStatus":"Completed","input":1,"customStatus":null,"output":\{"ok":1\}
--- error_code: 200



=== TEST 2: Failed is 200 by default
--- request
GET /runtime/webhooks/durabletask/instances/f1?taskHub=Terminal
--- response_body_like: "runtimeStatus":"Failed".*"output":"bad"
--- error_code: 200



=== TEST 3: Failed is 500 with returnInternalServerErrorOnFailure
--- request
GET /runtime/webhooks/durabletask/instances/f1?taskHub=Terminal&returnInternalServerErrorOnFailure=true
--- response_body_like: "runtimeStatus":"Failed"
--- error_code: 500



=== TEST 4: the 1.x table: Failed is 500
--- request
GET /v1/instances/f1?taskHub=Terminal
--- response_body_like: "runtimeStatus":"Failed"
--- error_code: 500



=== TEST 5: the 1.x table: Terminated is 400, Completed still 200
--- request eval
["GET /v1/instances/t1?taskHub=Terminal", "GET /v1/instances/c1?taskHub=Terminal"]
--- response_body_like eval
['"runtimeStatus":"Terminated"', '"runtimeStatus":"Completed"']
--- error_code eval
[400, 200]



=== TEST 6: rewind of a Completed instance is 410, of a Failed one 202
--- request eval
["POST /runtime/webhooks/durabletask/instances/c1/rewind?taskHub=Terminal",
 "POST /runtime/webhooks/durabletask/instances/f1/rewind?taskHub=Terminal"]
--- response_body eval
["", ""]
--- error_code eval
[410, 202]



=== TEST 7: raising an event on a Completed instance is 410
--- request
POST /runtime/webhooks/durabletask/instances/c1/raiseEvent/Late?taskHub=Terminal
--- more_headers
Content-Type: application/json
--- error_code: 410
--- response_body



=== TEST 8: a Completed instance can be purged
--- request eval
["DELETE /runtime/webhooks/durabletask/instances/c1?taskHub=Terminal",
 "GET /runtime/webhooks/durabletask/instances/c1?taskHub=Terminal"]
--- response_body eval
['{"instancesDeleted":1}', ""]
--- error_code eval
[200, 404]



=== TEST 9: start and wait, answered when the instance fails
--- init
main::wait_for_failure();
--- request
GET /runtime/webhooks/durabletask/instances/f2?taskHub=Terminal
--- response_body_like: "runtimeStatus":"Failed"
--- error_code: 200
