# Store options: sync=off (MDB_NOSYNC, flushed by a timer in the thread
# pool) and thread_pool=off (writes in the event loop, for nginx built
# without threads) serve the same API.

use Test::Nginx::Socket;

repeat_each(1);
no_shuffle();

plan tests => 3 + 4 + 2 + 4;

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
