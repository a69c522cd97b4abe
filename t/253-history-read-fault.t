# A history that the store fails to read while a status is rendered: the
# request is answered 500 with a JSON message, as every other failure of
# the API, not with nginx's HTML page, and the failure is logged once as
# an alert. The store's failure is made by the hook of test builds
# (DURABLE_TEST_FAULTS_BUILD=1 at configure time, as make build does):
# the environment variable DURABLE_TEST_FAULTS=history_read, set for the
# worker with nginx's env directive. Without the hook the file is
# skipped.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks ();

repeat_each(1);
no_shuffle();

if (!DurableBlocks::test_faults_build()) {
    plan skip_all => 'a module without the hook of test faults';
} else {
    # TEST 1: two requests, status and body each; TEST 2: status, body,
    # header and four log patterns; TEST 3: status, body, two patterns;
    # TEST 4: status, body, header and its alert
    plan tests => repeat_each() * (4 + 7 + 4 + 4);
}

our $http_config = DurableBlocks::fresh_store('history-fault');

our $config = <<'_EOC_';
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: an instance with a history (terminated)
--- main_config
    env DURABLE_TEST_FAULTS=history_read;
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/h1",
 "POST /runtime/webhooks/durabletask/instances/h1/terminate?reason=stop"]
--- error_code eval: [202, 202]
--- response_body_like eval
['^\{"id":"h1",', '^$']



=== TEST 2: a status read whose history cannot be read is a JSON 500, logged once as an alert
--- main_config
    env DURABLE_TEST_FAULTS=history_read;
--- http_config eval: $::http_config
--- config eval: $::config
--- request
GET /runtime/webhooks/durabletask/instances/h1?showHistory=true
--- error_code: 500
--- response_headers_like
Content-Type: application/json.*
--- response_body_like: ^\{"Message":"The server could not answer the request; its error log says why\."\}$
--- error_log eval
[qr/\[warn\] .*durable: DURABLE_TEST_FAULTS makes a history read fail/,
 qr/\[alert\] .*durable history of "h1" not read: /]
--- no_error_log
[error]
[crit]



=== TEST 3: the same status without its history is served
--- main_config
    env DURABLE_TEST_FAULTS=history_read;
--- http_config eval: $::http_config
--- config eval: $::config
--- request
GET /runtime/webhooks/durabletask/instances/h1
--- error_code: 200
--- response_body_like: ^\{"name":"Hello","instanceId":"h1","runtimeStatus":"Terminated",
--- no_error_log
[alert]
[error]



=== TEST 4: the same in a server that also serves gRPC (durable_task_grpc at server level, which the location inherits)
--- main_config
    env DURABLE_TEST_FAULTS=history_read;
--- http_config eval: $::http_config
--- config
    durable_task_grpc;

    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
--- request
GET /runtime/webhooks/durabletask/instances/h1?showHistory=true
--- error_code: 500
--- response_headers_like
Content-Type: application/json.*
--- response_body_like: ^\{"Message":"[^"]+"\}$
--- error_log eval
[qr/\[alert\] .*durable history of "h1" not read: /]
