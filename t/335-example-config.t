# examples/nginx.conf, the configuration `make run` serves: its server
# block and its store line, read from the file itself, answer JSON at /,
# for unknown paths and for the requests nginx refuses on its own (400,
# 413, 414, and 494 "header or cookie too large", sent as 400).

use Test::Nginx::Socket;
use lib 't/inc';
use DurableBackend;

repeat_each(1);
no_shuffle();
no_root_location();    # the example has its own location /

# a status, a Content-Type and a body per request; block 1 asks 4 times
plan tests => repeat_each() * 3 * (blocks() + 3);

our ($http_config, $config) = example_conf();

# The http and server contents of examples/nginx.conf: the temp paths and
# access_log (the runner sets its own) and listen and server_name (the
# runner's port) are left out, and the store goes to the test data dir.
sub example_conf {
    my $file = 'examples/nginx.conf';
    open my $fh, '<', $file or die "$file: $!";
    my $text = do { local $/; <$fh> };
    close $fh;

    my ($http, $server) =
        $text =~ /^http \{\n(.*?)^    server \{\n(.*?)^    \}\n/ms
        or die "$file: no http { ... server { ... } } found";

    $http =~ s/^\s*(?:access_log|\w+_temp_path)\b[^\n]*\n//mg;
    $http =~ s/\bpath=data\b/path=\$TEST_NGINX_DATA_DIR\/example-config/
        or die "$file: no durable_task_store with path=data";
    $server =~ s/^\s*(?:listen|server_name)\b[^\n]*\n//mg;

    return ($http, $server);
}

run_tests();

__DATA__

=== TEST 1: GET / lists the API base URLs, and each of them serves the API
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
["GET /",
 "GET /runtime/webhooks/durabletask/instances",
 "GET /admin/extensions/DurableTaskExtension/instances",
 "GET /durabletask/instances"]
--- error_code eval: [200, 200, 200, 200]
--- response_headers eval
["Content-Type: application/json; charset=utf-8",
 "Content-Type: application/json; charset=utf-8",
 "Content-Type: application/json; charset=utf-8",
 "Content-Type: application/json; charset=utf-8"]
--- response_body_like eval
['^\{\s*"service": "ngx_durable",\s*"api": \{\s*"management": "/runtime/webhooks/durabletask/",\s*"management_v1": "/admin/extensions/DurableTaskExtension/",\s*"rpcBaseUrl": "/durabletask/",\s*"worker": "/runtime/webhooks/durabletask/worker/"\s*\},',
 '^\[.*\]$', '^\[.*\]$', '^\[.*\]$']



=== TEST 2: an unknown path is a JSON 404
--- http_config eval: $::http_config
--- config eval: $::config
--- request
GET /index.html
--- error_code: 404
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body chomp
{"Message":"No such route: GET / lists the API base URLs."}



=== TEST 3: a malformed request: nginx's 400 in JSON
--- http_config eval: $::http_config
--- config eval: $::config
--- raw_request eval
"GET / HTTP/1.1\r\nHost: localhost\r\nNo colon here\r\n\r\n"
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body chomp
{"Message":"The request is malformed (nginx answered 400)."}



=== TEST 4: a body over client_max_body_size: nginx's 413 in JSON
(the runner's server block raises the limit to 30m; the whole body is
sent, so that nginx closes once it has read and discarded it)
--- http_config eval: $::http_config
--- config eval: $::config
--- raw_request eval
my $n = 30 * 1024 * 1024 + 1;
"POST /runtime/webhooks/durabletask/orchestrators/Hello HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: $n\r\nConnection: close\r\n\r\n" . ("1" x $n)
--- error_code: 413
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body chomp
{"Message":"The request body is larger than client_max_body_size."}



=== TEST 5: a request line over large_client_header_buffers: 414 in JSON
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
"GET /runtime/webhooks/durabletask/instances/" . ("a" x 9000)
--- error_code: 414
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body chomp
{"Message":"The request line is longer than large_client_header_buffers allows."}



=== TEST 6: a header over large_client_header_buffers: 494, sent as 400
--- http_config eval: $::http_config
--- config eval: $::config
--- more_headers eval
"Cookie: " . ("a" x 9000)
--- request
GET /runtime/webhooks/durabletask/instances
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body chomp
{"Message":"A request header or the cookies are longer than large_client_header_buffers allows."}
