# A request refused before it reaches its operation (wrong key, bad hub,
# unknown connection) must have no effect: the refusal is the answer.

use Test::Nginx::Socket;
use lib 't/inc';
use DurableBackend;

repeat_each(1);
no_shuffle();

plan tests => 3 * 4 + 3 * 3 + 2;

our $http_config = <<'_EOC_';
    durable_task_store default path=$TEST_NGINX_DATA_DIR/refusals;
_EOC_

our $config = <<'_EOC_';
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_keys systemkey-1234;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: a start with a wrong key is 401 and starts nothing
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/r1?code=wrong-key-123\n1",
 "POST /runtime/webhooks/durabletask/orchestrators/Hello/r2\n1",
 "GET /runtime/webhooks/durabletask/instances/r1?code=systemkey-1234",
 "GET /runtime/webhooks/durabletask/instances/r2?code=systemkey-1234"]
--- error_code eval
[401, 401, 404, 404]
--- response_body_like eval
['"Message":"The key is not valid', '"Message":"A key is required', '^$', '^$']
--- no_error_log
[alert]



=== TEST 2: a bad hub or connection is 400 and writes nothing
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/r3?taskHub=bad!hub&code=systemkey-1234\n1",
 "POST /runtime/webhooks/durabletask/orchestrators/Hello/r4?connection=nosuch&code=systemkey-1234\n1",
 "GET /runtime/webhooks/durabletask/instances?code=systemkey-1234"]
--- error_code eval
[400, 400, 200]
--- response_body_like eval
['taskHub', 'connection', '^\[\]$']
--- no_error_log
[alert]



=== TEST 3: a literal % in a query value is text, not an error
--- http_config eval: $::http_config
--- config eval: $::config
--- request
POST /runtime/webhooks/durabletask/instances/nope/terminate?reason=50%%20done&code=systemkey-1234
--- error_code: 404
--- response_body
