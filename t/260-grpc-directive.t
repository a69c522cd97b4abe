# durable_task_grpc: its refusals at configuration time (bad parameters,
# another handler, twice at one level, no store), and what a
# request that is not a gRPC call gets (HTTP/1.1 here: the runner's
# client). The calls themselves are tested with the JavaScript SDK and
# Node's http2 module in t/grpc (make test-grpc).

use Test::Nginx::Socket;
use lib 't/inc';
use DurableBackend;
use DurableBlocks ();

repeat_each(1);

plan tests => repeat_each() * (blocks() * 2);

# the blocks' store, new for each run of the file: what a run before left
# there (a store of an older build) is no part of this one
DurableBlocks::fresh_dirs('grpc-260');

no_shuffle();
run_tests();

__DATA__

=== TEST 1: ping= must be a time of 100ms or more
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/grpc-260;
--- config
    location /TaskHubSidecarService/ {
        durable_task_grpc ping=10ms;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid ping interval "10ms": a time of 100ms or more, such as 30s/



=== TEST 2: only ping= is a parameter
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/grpc-260;
--- config
    location /TaskHubSidecarService/ {
        durable_task_grpc 30s;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "30s": durable_task_grpc takes only ping=time/



=== TEST 3: not beside another handler
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/grpc-260;
--- config
    location /TaskHubSidecarService/ {
        durable_task;
        durable_task_grpc;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*cannot share a location with another handler/



=== TEST 4: not twice in a location
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/grpc-260;
--- config
    location /TaskHubSidecarService/ {
        durable_task_grpc;
        durable_task_grpc ping=5s;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"durable_task_grpc" directive is duplicate/



=== TEST 5: not twice in a server
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/grpc-260;
--- config
    durable_task_grpc;
    durable_task_grpc;
--- must_die
--- error_log eval
qr/\[emerg\] .*"durable_task_grpc" directive is duplicate/



=== TEST 6: a store is needed
--- config
    location /TaskHubSidecarService/ {
        durable_task_grpc;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*needs a store: declare one with "durable_task_store" in http\{\}/



=== TEST 7: HTTP/1.1 gets a JSON 505, not a gRPC status
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/grpc-260;
--- config
    location /TaskHubSidecarService/ {
        durable_task_grpc;
        durable_task_anonymous on;
    }
--- request
POST /TaskHubSidecarService/Hello
--- more_headers
Content-Type: application/grpc
--- error_code: 505
--- response_body_like: ^\{"Message":"gRPC calls need HTTP/2
