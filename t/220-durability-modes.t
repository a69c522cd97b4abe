# Store options: sync=off (MDB_NOSYNC, flushed by a timer in the thread
# pool) and thread_pool=off (writes in the event loop, for nginx built
# without threads) serve the same API.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks ();
use DurableClient qw(api);

repeat_each(1);
no_shuffle();

plan tests => 3 + 4 + 2 + 4 + 2 + 2;

# the stores of the blocks (some shared by several), new for each run of
# the file: the instances of a run before would make the starts 409
DurableBlocks::fresh_dirs(qw(relaxed inloop inloop2));

run_tests();

__DATA__

=== TEST 1: a relaxed store takes writes and flushes them off the loop
--- http_config
    durable_task_store relaxed path=$TEST_NGINX_DATA_DIR/relaxed sync=off flush=50ms;
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
--- request
POST /runtime/webhooks/durabletask/orchestrators/Hello/r1
--- error_code: 202
--- wait: 0.3
--- error_log
durable store "relaxed" flushed: 0
--- no_error_log
[alert]



=== TEST 2: what the relaxed store acknowledged is there after a restart
--- http_config
    durable_task_store relaxed path=$TEST_NGINX_DATA_DIR/relaxed sync=off flush=50ms;
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
--- request eval
["POST /runtime/webhooks/durabletask/instances/r1/terminate?reason=done",
 "GET /runtime/webhooks/durabletask/instances/r1"]
--- error_code eval
[202, 200]
--- response_body_like eval
['^$', '"runtimeStatus":"Terminated".*"output":"done"']



=== TEST 3: the relaxed store after a restart
--- http_config
    durable_task_store relaxed path=$TEST_NGINX_DATA_DIR/relaxed sync=off;
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
--- request
GET /runtime/webhooks/durabletask/instances/r1
--- error_code: 200
--- response_body_like: "runtimeStatus":"Terminated"



=== TEST 4: thread_pool=off: writes in the event loop
--- http_config
    durable_task_store inloop path=$TEST_NGINX_DATA_DIR/inloop thread_pool=off;
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/l1\n[1]",
 "GET /runtime/webhooks/durabletask/instances/l1"]
--- error_code eval
[202, 202]
--- response_body_like eval
['"id":"l1"', '"input":\[1\]']



=== TEST 5: thread_pool=off: several completions in one request, answered once, in order
--- http_config
    durable_task_store inloop2 path=$TEST_NGINX_DATA_DIR/inloop2 thread_pool=off;
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
--- init
my $B = '/runtime/webhooks/durabletask';
main::api('POST', "$B/orchestrators/Hello/$_", '1') for qw(a b);
my $c = main::api('POST', "$B/worker/orchestrations/claim?max=10", '');
my @done = map { { instanceId => $_->{instanceId}, lease => $_->{lease},
                   actions => [ { type => 'complete',
                                  output => $_->{instanceId} } ] } }
           sort { $a->{instanceId} cmp $b->{instanceId} }
           @{ $c->{json}{items} };
# c is not leased: a completion for it is refused
main::api('POST', "$B/orchestrators/Hello/c", '1');
my $r = main::api('POST', "$B/worker/orchestrations/complete",
                  [ @done, { instanceId => 'c', lease => 'cd' x 16 } ]);
Test::More::is($r->{status}, 200, 'one answer');
Test::More::is(join(',', map { "$_->{status}" } @{ $r->{json} }),
               '200,200,409', 'three results, in order')
    or Test::More::diag($r->{body});
--- request
GET /runtime/webhooks/durabletask/instances/b
--- error_code: 200
--- response_body_like: "runtimeStatus":"Completed".*"output":"b"
