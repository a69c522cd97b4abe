# What nginx answers itself to a gRPC call, in HTTP, before the handler
# runs (deny, auth_request, limit_req, return, client_max_body_size) or
# when the handler fails: on the durable_task_grpc endpoint it becomes a
# Trailers-Only gRPC status (HTTP 200, grpc-status and grpc-message in the
# headers, no body), which an SDK can report. The access log keeps the
# HTTP status nginx decided in $status, and $durable_grpc_status tells
# the gRPC status sent.
#
# The runner's client speaks HTTP/1.1, so each block calls the endpoint
# (a server of its own with "listen ... http2") through nginx's own gRPC
# client: the runner's server passes the call on with grpc_pass and gives
# the answer's headers back as they came.

use Test::Nginx::Socket;
use lib 't/inc';
use DurableBackend;
use DurableBlocks ();

repeat_each(1);

# per block: the status, three headers, the access log line, no alert;
# and the [crit] line of the failure that block 7 makes
plan tests => repeat_each() * (blocks() * 6 + 1);

our $http_config = <<'_EOC_';
    durable_task_store default path=$TEST_NGINX_DATA_DIR/grpc-261;

    log_format grpc_261 'grpc-261 $status $durable_grpc_status';
_EOC_

our $config = <<'_EOC_';
    location /TaskHubSidecarService/ {
        grpc_pass grpc://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
_EOC_

# the endpoint: a server of the block's http_config, with $_[0] in it
sub main::endpoint {
    my ($directives) = @_;
    return $http_config . <<"_EOC_";
    server {
        listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_1 http2;
        access_log logs/access.log grpc_261;

        location /TaskHubSidecarService/ {
            durable_task_grpc;
            durable_task_anonymous on;
$directives
        }
    }
_EOC_
}

# blocks 3 and 4: the endpoint refuses the call with limit_req in zone
# $_[0], and the directives in $_[1] if any; its runner's server lets the
# call through the same zone first (its burst allows it)
sub main::limited_endpoint {
    my ($zone, $more) = @_;
    my $directives = "            limit_req zone=$zone;";
    $directives .= "\n$more" if defined $more;
    return "    limit_req_zone \$binary_remote_addr zone=$zone:1m rate=1r/m;\n"
           . main::endpoint($directives);
}

sub main::limited_config {
    my ($zone) = @_;
    return <<"_EOC_";
    location /TaskHubSidecarService/ {
        limit_req zone=$zone burst=5 nodelay;
        grpc_pass grpc://127.0.0.1:\$TEST_NGINX_RAND_PORT_1;
    }
_EOC_
}

# a Hello call: one empty message behind its 5-byte prefix
our $hello = "POST /TaskHubSidecarService/Hello\n" . "\0" x 5;

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value('config', $config) unless defined $block->config;
    $block->set_value('more_headers', 'Content-Type: application/grpc')
        unless defined $block->more_headers;
    $block->set_value('no_error_log', '[alert]')
        unless defined $block->no_error_log;
});

# the blocks' store, new for each run of the file: what a run before left
# there (a store of an older build) is no part of this one
DurableBlocks::fresh_dirs('grpc-261');

no_shuffle();
run_tests();

__DATA__

=== TEST 1: deny is PERMISSION_DENIED, logged as 403
--- http_config eval
main::endpoint('            deny all;')
--- request eval
$::hello
--- error_code: 200
--- response_headers_like
Content-Type: application/grpc
grpc-status: 7
grpc-message: The call is forbidden \(HTTP 403\)\.
--- access_log
grpc-261 403 7



=== TEST 2: auth_request refusing with 401 is UNAUTHENTICATED
--- http_config eval
main::endpoint('            auth_request /auth;
        }

        location = /auth {
            return 401;')
--- request eval
$::hello
--- error_code: 200
--- response_headers_like
Content-Type: application/grpc
grpc-status: 16
grpc-message: The call is not authenticated \(HTTP 401\)\.
--- access_log
grpc-261 401 16



=== TEST 3: limit_req refusing with 503 is UNAVAILABLE
The runner's server lets the call through the same zone first (its
burst allows it): the endpoint's limit_req then refuses it.
--- http_config eval
main::limited_endpoint('grpc261a')
--- config eval
main::limited_config('grpc261a')
--- request eval
$::hello
--- error_code: 200
--- response_headers_like
Content-Type: application/grpc
grpc-status: 14
grpc-message: The service is unavailable: retry later \(HTTP 503\)\.
--- access_log
grpc-261 503 14



=== TEST 4: limit_req_status 429 is UNAVAILABLE too
--- http_config eval
main::limited_endpoint('grpc261b', '            limit_req_status 429;')
--- config eval
main::limited_config('grpc261b')
--- request eval
$::hello
--- error_code: 200
--- response_headers_like
Content-Type: application/grpc
grpc-status: 14
grpc-message: Too many calls: retry later \(HTTP 429\)\.
--- access_log
grpc-261 429 14



=== TEST 5: "return" with a text is converted, and logged as its status
--- http_config eval
main::endpoint('            return 403 "not here";')
--- request eval
$::hello
--- error_code: 200
--- response_headers_like
Content-Type: application/grpc
grpc-status: 7
grpc-message: The call is forbidden \(HTTP 403\)\.
--- access_log
grpc-261 403 7



=== TEST 6: a 5xx before the handler is INTERNAL
--- http_config eval
main::endpoint('            return 500;')
--- request eval
$::hello
--- error_code: 200
--- response_headers_like
Content-Type: application/grpc
grpc-status: 13
grpc-message: The call failed \(HTTP 500\)\.
--- access_log
grpc-261 500 13



=== TEST 7: the handler failing while it reads the body is INTERNAL
The body must go to a temp file, and a file stands where its directory
would be: nginx cannot create it, logs that at crit, and fails the call
with a 500. The error_log pattern names the level: that line is this
block's expected result, not a warning of the runner (which warns of an
[alert], [crit] or [emerg] line that no pattern of the block names).
--- http_config eval
# the runner leaves out its own path when the config names one
'    client_body_temp_path client_body_temp;
' . main::endpoint('            client_body_in_file_only on;
            client_body_temp_path html/grpc-261-temp 1;')
--- user_files
>>> grpc-261-temp/0
>>> grpc-261-temp/1
>>> grpc-261-temp/2
>>> grpc-261-temp/3
>>> grpc-261-temp/4
>>> grpc-261-temp/5
>>> grpc-261-temp/6
>>> grpc-261-temp/7
>>> grpc-261-temp/8
>>> grpc-261-temp/9
--- request eval
$::hello
--- error_code: 200
--- response_headers_like
Content-Type: application/grpc
grpc-status: 13
grpc-message: The call failed \(HTTP 500\)\.
--- access_log
grpc-261 500 13
--- error_log eval
qr{\[crit\] .* open\(\) "[^"]*/grpc-261-temp/[^"]*" failed \(\d+: Not a directory\)}



=== TEST 8: a body over client_max_body_size is RESOURCE_EXHAUSTED
--- http_config eval
main::endpoint('            client_max_body_size 16;')
--- request eval
"POST /TaskHubSidecarService/Hello\n" . "\0\0\0\0\x20" . "A" x 32
--- error_code: 200
--- response_headers_like
Content-Type: application/grpc
grpc-status: 8
grpc-message: .* larger than client_max_body_size \(16 bytes, HTTP 413\)\.
--- access_log
grpc-261 413 8



=== TEST 9: the module's own statuses are logged with $status 200
--- http_config eval
main::endpoint('')
--- request eval
"POST /TaskHubSidecarService/NoSuchMethod\n" . "\0" x 5
--- error_code: 200
--- response_headers_like
Content-Type: application/grpc
grpc-status: 12
grpc-message: The method /TaskHubSidecarService/NoSuchMethod is not .*
--- access_log
grpc-261 200 12



=== TEST 10: a request that is not a call keeps nginx's HTTP answer
A GET cannot be a gRPC call: nginx's 403 page reaches it as it is.
--- http_config eval
main::endpoint('            deny all;')
--- request
GET /TaskHubSidecarService/Hello
--- error_code: 403
--- response_headers
Content-Type: text/html
!grpc-status
!grpc-message
--- access_log
grpc-261 403 -
