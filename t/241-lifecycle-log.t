# durable_task_lifecycle_log: one info line in the error log per change
# applied to an instance (created, suspended, resumed, terminated, purged,
# completed, failed), none when the directive is off.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBlocks qw(rq);
use DurableClient qw(api);
use File::Path qw(rmtree);

repeat_each(1);
no_shuffle();

# per block: status + body, and each error_log/no_error_log pattern
#    1: 2 + 6    2: 2 + 1    3: 2 + 1    4: 2 + 1    5: 2 + 2
plan tests => 8 + 3 + 3 + 3 + 4;

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

# start an instance, claim its first episode and complete it with $action
sub finish {
    my ($hub, $id, $action) = @_;

    my $r = api('POST', "$B/orchestrators/Seq/$id?taskHub=$hub", '', $K);
    die "start: $r->{status}" unless $r->{status} == 202;

    $r = api('POST', "$B/worker/orchestrations/claim?taskHub=$hub", '', $W);
    die "claim: $r->{status}" unless $r->{status} == 200;

    my ($item) = @{ $r->{json}{items} };
    die "nothing claimed" unless $item;

    $r = api('POST', "$B/worker/orchestrations/complete?taskHub=$hub",
             { instanceId => $id, lease => $item->{lease},
               actions => [ $action ] }, $W);
    die "complete: $r->{status} $r->{body}" unless $r->{status} == 200;
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

run_tests();

__DATA__

=== TEST 1: start, suspend, resume, terminate and purge log one line each
--- http_config eval: $::http_config
--- config eval: $::config
--- log_level: info
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
--- http_config eval: $::http_config
--- config eval: $::config
--- log_level: info
--- init
main::finish('L2', 'c1', { type => 'complete', result => 42 });
--- request
GET /runtime/webhooks/durabletask/instances/c1?taskHub=L2&code=testkey123
--- response_body_like: "runtimeStatus":"Completed"
--- error_log eval
qr/durable: instance "c1" of hub "L2": completed,/



=== TEST 3: a completion that fails the orchestration, with its reason
--- http_config eval: $::http_config
--- config eval: $::config
--- log_level: info
--- init
main::finish('L3', 'f1', { type => 'fail', reason => 'bad input' });
--- request
GET /runtime/webhooks/durabletask/instances/f1?taskHub=L3&code=testkey123
--- response_body_like: "runtimeStatus":"Failed"
--- error_log eval
qr/durable: instance "f1" of hub "L3": failed: "bad input",/



=== TEST 4: a purge by filter logs the count of each batch
--- http_config eval: $::http_config
--- config eval: $::config
--- log_level: info
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
--- http_config eval: $::http_config
--- config eval: $::config
--- log_level: info
--- init
main::post('L5', 'orchestrators/Quiet/quiet');
--- request
POST /runtime/webhooks/durabletask/instances/quiet/terminate?reason=x&taskHub=L5&code=testkey123
--- error_code: 202
--- response_body eval: ""
--- no_error_log eval
[qr/durable: instance/, qr/\[error\]/]
