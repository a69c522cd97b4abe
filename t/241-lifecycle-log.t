# durable_task_lifecycle_log: one info line in the error log per change
# applied to an instance (created, running, suspended, resumed, terminated,
# purged, completed, failed), none when the directive is off, and none for
# a request that changed nothing (a suspend of a suspended instance, a
# replayed completion).

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks qw(rq);
use DurableClient qw(api);
use File::Path qw(rmtree);

repeat_each(1);
no_shuffle();
log_level('info');

# per block: status + body and one log check, plus what blocks 1 and 5
# check besides (1: five more log patterns, 5: one more)
plan tests => repeat_each() * (blocks() * 3 + 5 + 1);

rmtree(($ENV{TEST_NGINX_DATA_DIR} // '') . '/lifecycle')
    if $ENV{TEST_NGINX_DATA_DIR};

our $B = '/runtime/webhooks/durabletask';
our $W = { 'x-functions-key' => 'workerkey-1234' };
our $K = { 'x-functions-key' => 'testkey123' };

# POSTs to the API of hub $hub, each answered 202 (the changes of a block
# come from its --- init: error_log checks see only the block's last request
# when it has several)
sub post {
    my ($hub, @paths) = @_;

    for my $p (@paths) {
        my $sep = $p =~ /\?/ ? '&' : '?';
        my $r = api('POST', "$B/$p${sep}taskHub=$hub", '', $K);
        die "$p: $r->{status}" unless $r->{status} == 202;
    }
}

# claim the next episode of hub $hub and complete it with @actions, as
# many times as $times says (more than once: replays of one completion)
sub episode {
    my ($hub, $id, $times, @actions) = @_;

    my $r = api('POST', "$B/worker/orchestrations/claim?taskHub=$hub", '', $W);
    die "claim: $r->{status}" unless $r->{status} == 200;

    my ($item) = @{ $r->{json}{items} };
    die "nothing claimed" unless $item;

    for (1 .. $times) {
        $r = api('POST', "$B/worker/orchestrations/complete?taskHub=$hub",
                 { instanceId => $id, lease => $item->{lease},
                   actions => \@actions }, $W);
        die "complete: $r->{status} $r->{body}" unless $r->{status} == 200;
    }
}

# start an instance and complete its first episode with $action
sub finish {
    my ($hub, $id, $action) = @_;

    my $r = api('POST', "$B/orchestrators/Seq/$id?taskHub=$hub", '', $K);
    die "start: $r->{status}" unless $r->{status} == 202;

    main::episode($hub, $id, 1, $action);
}

our $http_config = <<'_EOC_';
    durable_task_store default path=$TEST_NGINX_DATA_DIR/lifecycle;
_EOC_

our $config = <<'_EOC_';
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_keys testkey123;
        durable_task_worker_keys workerkey-1234;
        durable_task_lifecycle_log on;

        location /runtime/webhooks/durabletask/instances/quiet {
            durable_task;
            durable_task_lifecycle_log off;
        }

        location /runtime/webhooks/durabletask/orchestrators/Quiet/ {
            durable_task;
            durable_task_lifecycle_log off;
        }
    }
_EOC_

# every block runs with these
add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value(http_config => $::http_config);
    $block->set_value(config => $::config);
});

run_tests();

__DATA__

=== TEST 1: start, suspend, resume, terminate and purge log one line each
--- init
main::post('L1', 'orchestrators/Hello/l1', 'instances/l1/suspend?reason=nap',
           'instances/l1/resume?reason=up',
           'instances/l1/terminate?reason=enough');
--- request
DELETE /runtime/webhooks/durabletask/instances/l1?taskHub=L1&code=testkey123
--- error_code: 200
--- response_body: {"instancesDeleted":1}
--- error_log eval
[qr/durable: instance "l1" of hub "L1": created: Hello,/,
 qr/durable: instance "l1" of hub "L1": suspended: "nap",/,
 qr/durable: instance "l1" of hub "L1": resumed: "up",/,
 qr/durable: instance "l1" of hub "L1": terminated: "enough",/,
 qr/durable: instance "l1" of hub "L1": purged,/,
 qr/\[info\] .*durable: instance "l1"/]



=== TEST 2: a completion that completes the orchestration
--- init
main::finish('L2', 'c1', { type => 'complete', result => 42 });
--- request
GET /runtime/webhooks/durabletask/instances/c1?taskHub=L2&code=testkey123
--- response_body_like: "runtimeStatus":"Completed"
--- error_log eval
qr/durable: instance "c1" of hub "L2": completed,/



=== TEST 3: a completion that fails the orchestration, with its reason
--- init
main::finish('L3', 'f1', { type => 'fail', reason => 'bad input' });
--- request
GET /runtime/webhooks/durabletask/instances/f1?taskHub=L3&code=testkey123
--- response_body_like: "runtimeStatus":"Failed"
--- error_log eval
qr/durable: instance "f1" of hub "L3": failed: "bad input",/



=== TEST 4: a purge by filter logs the count of each batch
--- init
main::post('L4', 'orchestrators/Hello/p1', 'orchestrators/Hello/p2',
           'instances/p1/terminate?reason=x');
--- request
DELETE /runtime/webhooks/durabletask/instances?createdTimeFrom=2000-01-01T00:00:00Z&taskHub=L4&code=testkey123
--- error_code: 200
--- response_body: {"instancesDeleted":1}
--- error_log eval
qr/durable: 1 instances of hub "L4": purged \(by filter\)/



=== TEST 5: off: no line
--- init
main::post('L5', 'orchestrators/Quiet/quiet');
--- request
POST /runtime/webhooks/durabletask/instances/quiet/terminate?reason=x&taskHub=L5&code=testkey123
--- error_code: 202
--- response_body eval: ""
--- no_error_log eval
[qr/durable: instance/, qr/\[error\]/]



=== TEST 6: a suspend of a suspended instance and a resume of a running one change nothing: no line
--- init
main::post('L6', 'orchestrators/Hello/s1', 'instances/s1/resume?reason=early',
           'instances/s1/suspend?reason=nap',
           'instances/s1/suspend?reason=again',
           'instances/s1/resume?reason=up',
           'instances/s1/resume?reason=twice');
--- request
GET /runtime/webhooks/durabletask/instances/s1?taskHub=L6&code=testkey123
--- error_code: 202
--- response_body_like: "runtimeStatus":"Pending"
--- grep_error_log eval: qr/instance "s1" of hub "L6": [^,]*/
--- grep_error_log_out
instance "s1" of hub "L6": created: Hello
instance "s1" of hub "L6": suspended: "nap"
instance "s1" of hub "L6": resumed: "up"



=== TEST 7: the first episode makes the instance Running, once; later ones leave it so
--- init
main::post('L7', 'orchestrators/Seq/r1');
main::episode('L7', 'r1', 2, { type => 'setCustomStatus', customStatus => 1 });
main::post('L7', 'instances/r1/raiseEvent/Go');
main::episode('L7', 'r1', 1, { type => 'setCustomStatus', customStatus => 2 });
--- request
GET /runtime/webhooks/durabletask/instances/r1?taskHub=L7&code=testkey123
--- error_code: 202
--- response_body_like: "runtimeStatus":"Running"
--- grep_error_log eval: qr/instance "r1" of hub "L7": [^,]*/
--- grep_error_log_out
instance "r1" of hub "L7": created: Seq
instance "r1" of hub "L7": running



=== TEST 8: a replayed completion is logged once
--- init
main::post('L8', 'orchestrators/Seq/d1');
main::episode('L8', 'd1', 3, { type => 'complete', result => 7 });
--- request
GET /runtime/webhooks/durabletask/instances/d1?taskHub=L8&code=testkey123
--- response_body_like: "runtimeStatus":"Completed"
--- grep_error_log eval: qr/instance "d1" of hub "L8": [^,]*/
--- grep_error_log_out
instance "d1" of hub "L8": created: Seq
instance "d1" of hub "L8": completed
