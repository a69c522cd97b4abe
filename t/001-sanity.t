# Sanity: the module loads, answers its two simplest questions, and
# nginx -t rejects bad directive values with a clear message.

use Test::Nginx::Socket;
use lib 't/inc';
use DurableBackend;

repeat_each(2);

plan tests => repeat_each() * (2 * 3 + 14 * 2);

our $http_config = <<'_EOC_';
    durable_task_store default path=$TEST_NGINX_DATA_DIR/sanity;
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: an unknown instance is 404 with an empty body
--- http_config eval: $::http_config
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
--- request
GET /runtime/webhooks/durabletask/instances/nope
--- error_code: 404
--- response_body
--- no_error_log
[error]



=== TEST 2: an unknown route is 404 with a JSON message
--- http_config eval: $::http_config
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
--- request
GET /runtime/webhooks/durabletask/nonsense
--- error_code: 404
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body chomp
{"Message":"No Durable Task API route matches this path."}



=== TEST 3: a store declared with a bad parameter fails nginx -t
--- http_config
    durable_task_store default path=/tmp sync=sometimes;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid durable_task_store parameter "sync=sometimes"/



=== TEST 4: a store without path= fails
--- http_config
    durable_task_store default max_size=10m;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*durable_task_store "default": path= is required/



=== TEST 5: a max_size below 1m fails
--- http_config
    durable_task_store default path=/tmp max_size=1k;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid max_size "1k": use a size of at least 1m/



=== TEST 6: durable_task without any store fails
--- config
    location / {
        durable_task;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"durable_task" needs a store/



=== TEST 7: an invalid default hub name fails
--- http_config eval: $::http_config
--- config
    location /x/ {
        durable_task /x;
        durable_task_hub 9lives;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid task hub name "9lives"/



=== TEST 8: a JSON depth above 2048 fails
--- http_config eval: $::http_config
--- config
    location /x/ {
        durable_task /x;
        durable_task_json_depth 4096;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*value must be between 1 and 2048/



=== TEST 9: a store path that is a file fails
--- http_config
    durable_task_store default path=/etc/hostname;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*path "/etc/hostname" is not a directory}



=== TEST 10: an unknown durable_task_connection fails
--- http_config eval: $::http_config
--- config
    location /x/ {
        durable_task /x;
        durable_task_connection nosuch;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*names an unknown store "nosuch"/



=== TEST 11: a durable_task_max_top above 100000 fails
--- http_config eval: $::http_config
--- config
    location /x/ {
        durable_task /x;
        durable_task_max_top 100001;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*value must be between 1 and 100000\b/



=== TEST 12: a durable_task_list_scan_budget of 0 fails
--- http_config eval: $::http_config
--- config
    location /x/ {
        durable_task /x;
        durable_task_list_scan_budget 0;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*value must be between 1 and 10000000\b/



=== TEST 13: a durable_task_purge_batch above 10000000 fails
--- http_config eval: $::http_config
--- config
    location /x/ {
        durable_task /x;
        durable_task_purge_batch 10000001;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*value must be between 1 and 10000000\b/



=== TEST 14: a durable_task_public_url that is not http(s) fails, naming the forms it takes
--- http_config eval: $::http_config
--- config
    location /x/ {
        durable_task /x;
        durable_task_public_url ftp://files.example.com;
    }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid durable_task_public_url "ftp://files\.example\.com": use http://host\[:port\]\[/path\] or https://host\[:port\]\[/path\]}



=== TEST 15: durable_task after durable_task_metrics in a location fails
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/sanity;
--- config
    location /durable/ {
        durable_task_metrics;
        durable_task;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"durable_task" directive cannot share a location with another handler/



=== TEST 16: durable_task after durable_task_grpc in a location fails
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/sanity;
--- config
    location /TaskHubSidecarService/ {
        durable_task_grpc;
        durable_task;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"durable_task" directive cannot share a location with another handler/
