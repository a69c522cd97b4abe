# Check-status URLs (docs/http-api.md): scheme and host, forwarded headers,
# public URL, the prefix family, hub/connection/code echo and encoding.

use Test::Nginx::Socket;
use lib 't/inc';
use DurableBackend;
use File::Path qw(rmtree);

repeat_each(1);

# tests per block (per request: status + body + each header line + each
# no_error_log pattern):
#    1: 4      2: 3      3: 9      4: 12     5: 6      6: 3      7: 3
#    8: 3      9: 11    10: 3     11: 3     12: 44    13: 15
#   14: 9    15: 3    16: 2    17: 2    18: 2
plan tests => 4 + 3 + 9 + 12 + 6 + 3 + 3 + 3 + 11 + 3 + 3 + 44 + 15 + 9 + 3
              + 2 + 2 + 2;

if ($ENV{TEST_NGINX_DATA_DIR}) {
    rmtree("$ENV{TEST_NGINX_DATA_DIR}/$_") for qw(urls urls-b);
}

our $http_config = <<'_EOC_';
    durable_task_store default path=$TEST_NGINX_DATA_DIR/urls;
    durable_task_store arch~1 path=$TEST_NGINX_DATA_DIR/urls-b;
_EOC_

our $config = <<'_EOC_';
    location ~* ^/(runtime/webhooks/durabletask|admin/extensions/durabletaskextension)(/|$) {
        durable_task;
        durable_task_keys testkey123 "key+with/slash";
    }

    location /trust/ {
        durable_task /trust;
        durable_task_anonymous on;
        durable_task_trust_forwarded on;
    }

    location /public/ {
        durable_task /public;
        durable_task_anonymous on;
        durable_task_trust_forwarded on;
        durable_task_public_url https://api.example.com:8443/;
    }

    # a proxy that serves this location under a path of its own
    location /mounted/ {
        durable_task /mounted;
        durable_task_anonymous on;
        durable_task_public_url https://gw.example.com/durable//;
    }

    location /custom/mount/ {
        durable_task /custom/mount;
        durable_task_keys testkey123;
    }
_EOC_

our $W = '/runtime/webhooks/durabletask';
our $Q = 'taskHub=DurableFunctionsHub&connection=default&code=testkey123';
our $QA = 'taskHub=DurableFunctionsHub&connection=default';

# the exact check-status payload
sub payload {
    my ($id, $enc, $base, $q) = @_;
    my $i = "$base/instances/$enc";
    return qq({"id":"$id","statusQueryGetUri":"$i?$q",)
         . qq("sendEventPostUri":"$i/raiseEvent/{eventName}?$q",)
         . qq("terminatePostUri":"$i/terminate?reason={text}&$q",)
         . qq("purgeHistoryDeleteUri":"$i?$q",)
         . qq("restartPostUri":"$i/restart?$q",)
         . qq("suspendPostUri":"$i/suspend?reason={text}&$q",)
         . qq("resumePostUri":"$i/resume?reason={text}&$q",)
         . qq("rewindPostUri":"$i/rewind?reason={text}&$q"});
}

# blocks 17 and 18: a server of the http{} block with the server_name
# line given (or none), reached through /nohost/, a proxy that sends
# HTTP/1.0 without Host
sub nameless_http {
    my ($name) = @_;
    return $::http_config . <<"_EOC_";
    server {
        listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_1;
        $name

        location / {
            durable_task /;
            durable_task_anonymous on;
        }
    }
_EOC_
}

our $nohost = $config . <<'_EOC_';
    location /nohost/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/;
        proxy_http_version 1.0;
        proxy_set_header Host "";
        proxy_redirect off;
    }
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: scheme and host come from the request's Host header (port included)
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
"POST $::W/orchestrators/Hello/u1?code=testkey123"
--- more_headers
Host: Example.org:8080
--- error_code: 202
--- response_headers eval
"Location: http://Example.org:8080$::W/instances/u1?$::Q"
--- response_body eval
main::payload('u1', 'u1', "http://Example.org:8080$::W", $::Q)
--- no_error_log
[error]



=== TEST 2: X-Forwarded-Proto/Host are ignored unless the location trusts them
--- request eval
"POST $::W/orchestrators/Hello/u2?code=testkey123"
--- more_headers
X-Forwarded-Proto: https
X-Forwarded-Host: proxy.example.net
--- error_code: 202
--- response_headers eval
"Location: http://localhost$::W/instances/u2?$::Q"
--- response_body eval
main::payload('u2', 'u2', "http://localhost$::W", $::Q)



=== TEST 3: durable_task_trust_forwarded on: the forwarded scheme and host (the first of a list)
--- request eval
["POST /trust/orchestrators/Hello/u3",
 "POST /trust/orchestrators/Hello/u3b",
 "GET /trust/instances/u3?showInput=false"]
--- more_headers eval
["X-Forwarded-Proto: https\nX-Forwarded-Host: proxy.example.net:8443",
 "X-Forwarded-Proto: https, http\nX-Forwarded-Host: front.example.net, back.internal",
 "X-Forwarded-Proto: https\nX-Forwarded-Host: proxy.example.net"]
--- error_code eval: [202, 202, 202]
--- response_headers eval
["Location: https://proxy.example.net:8443/trust/instances/u3?$::QA",
 "Location: https://front.example.net/trust/instances/u3b?$::QA",
 "Location: https://proxy.example.net/trust/instances/u3?showInput=false"]
--- response_body_like eval
['^' . quotemeta(main::payload('u3', 'u3', 'https://proxy.example.net:8443/trust', $::QA)) . '$',
 '^' . quotemeta(main::payload('u3b', 'u3b', 'https://front.example.net/trust', $::QA)) . '$',
 '"instanceId":"u3","runtimeStatus":"Pending"']



=== TEST 4: an invalid X-Forwarded-Host (spaces, quotes, a path) is ignored; the Host header is used
--- request eval
["POST /trust/orchestrators/Hello/u4a",
 "POST /trust/orchestrators/Hello/u4b",
 "POST /trust/orchestrators/Hello/u4c",
 "POST /trust/orchestrators/Hello/u4d"]
--- more_headers eval
["X-Forwarded-Host: evil host.example",
 "X-Forwarded-Host: \"evil.example\"",
 "X-Forwarded-Host: evil.example/path\nX-Forwarded-Proto: https",
 "X-Forwarded-Proto: https"]
--- error_code eval: [202, 202, 202, 202]
--- response_headers eval
["Location: http://localhost/trust/instances/u4a?$::QA",
 "Location: http://localhost/trust/instances/u4b?$::QA",
 "Location: https://localhost/trust/instances/u4c?$::QA",
 "Location: https://localhost/trust/instances/u4d?$::QA"]
--- response_body eval
[main::payload('u4a', 'u4a', 'http://localhost/trust', $::QA),
 main::payload('u4b', 'u4b', 'http://localhost/trust', $::QA),
 main::payload('u4c', 'u4c', 'https://localhost/trust', $::QA),
 main::payload('u4d', 'u4d', 'https://localhost/trust', $::QA)]



=== TEST 5: durable_task_public_url wins over the Host header and forwarded headers
--- request eval
["POST /public/orchestrators/Hello/u5", "GET /public/instances/u5?x=1"]
--- more_headers
Host: internal.example:81
X-Forwarded-Proto: http
X-Forwarded-Host: proxy.example.net
--- error_code eval: [202, 202]
--- response_headers eval
["Location: https://api.example.com:8443/public/instances/u5?$::QA",
 "Location: https://api.example.com:8443/public/instances/u5?x=1"]
--- response_body_like eval
['^' . quotemeta(main::payload('u5', 'u5', 'https://api.example.com:8443/public', $::QA)) . '$',
 '"instanceId":"u5"']



=== TEST 6: 1.x requests get the 1.x prefix, in its canonical spelling
--- request eval
"POST /admin/extensions/durabletaskextension/orchestrators/Hello/u6?code=testkey123"
--- error_code: 202
--- response_headers eval
"Location: http://localhost/admin/extensions/DurableTaskExtension/instances/u6?$::Q"
--- response_body eval
main::payload('u6', 'u6', 'http://localhost/admin/extensions/DurableTaskExtension', $::Q)



=== TEST 7: a case-variant 2.x request gets the canonical lower-case 2.x prefix
--- request eval
"POST /Runtime/WebHooks/DurableTask/Orchestrators/Hello/u7?code=testkey123"
--- error_code: 202
--- response_headers eval
"Location: http://localhost$::W/instances/u7?$::Q"
--- response_body eval
main::payload('u7', 'u7', "http://localhost$::W", $::Q)



=== TEST 8: a custom mount gets its own prefix
--- request eval
"POST /custom/mount/orchestrators/Hello/u8?code=testkey123"
--- error_code: 202
--- response_headers eval
"Location: http://localhost/custom/mount/instances/u8?$::Q"
--- response_body eval
main::payload('u8', 'u8', 'http://localhost/custom/mount', $::Q)



=== TEST 9: hub, connection and code are echoed and form-encoded; so is the id
--- request eval
["POST $::W/orchestrators/Hello/u9%20x%2F%3F?taskHub=My-Hub_1&connection=arch~1&code=key%2Bwith%2Fslash",
 "POST $::W/orchestrators/Hello/u9b?taskHub=Hub9&connection=Storage&code=testkey123",
 "POST $::W/orchestrators/Hello/u9c?connection=AzureWebJobsStorage",
 "POST $::W/orchestrators/Hello/u9%C3%A9?code=testkey123"]
--- more_headers eval
["", "", "x-functions-key: key+with/slash", ""]
--- error_code eval: [400, 202, 202, 202]
--- response_headers eval
["",
 "Location: http://localhost$::W/instances/u9b?taskHub=Hub9&connection=Storage&code=testkey123",
 "Location: http://localhost$::W/instances/u9c?taskHub=DurableFunctionsHub&connection=AzureWebJobsStorage&code=key%2Bwith%2Fslash",
 "Location: http://localhost$::W/instances/u9%C3%A9?$::Q"]
--- response_body_like eval
['^\{"Message":"[^"]+"\}$',
 '^' . quotemeta(main::payload('u9b', 'u9b', "http://localhost$::W", 'taskHub=Hub9&connection=Storage&code=testkey123')) . '$',
 '^' . quotemeta(main::payload('u9c', 'u9c', "http://localhost$::W", 'taskHub=DurableFunctionsHub&connection=AzureWebJobsStorage&code=key%2Bwith%2Fslash')) . '$',
 '^' . quotemeta(main::payload("u9\xc3\xa9", 'u9%C3%A9', "http://localhost$::W", $::Q)) . '$']



=== TEST 10: a store name with special characters is form-encoded in connection=
--- request eval
"POST $::W/orchestrators/Hello/u10%20x?taskHub=My-Hub_1&connection=arch~1&code=key%2Bwith%2Fslash"
--- error_code: 202
--- response_headers eval
"Location: http://localhost$::W/instances/u10+x?taskHub=My-Hub_1&connection=arch%7E1&code=key%2Bwith%2Fslash"
--- response_body eval
main::payload('u10 x', 'u10+x', "http://localhost$::W", 'taskHub=My-Hub_1&connection=arch%7E1&code=key%2Bwith%2Fslash')



=== TEST 11: without a Host header (HTTP/1.0) the server name is used
--- raw_request eval
"POST $::W/orchestrators/Hello/u11?code=testkey123 HTTP/1.0\r\nContent-Length: 0\r\n\r\n"
--- error_code: 202
--- response_headers eval
"Location: http://localhost$::W/instances/u11?$::Q"
--- response_body eval
main::payload('u11', 'u11', "http://localhost$::W", $::Q)



=== TEST 12: a Host that is not a plain host[:port] is 400 {"Message":...} on every route, before anything is written
--- request eval
[(map { "POST $::W/orchestrators/Hello/u12?code=testkey123" } 1 .. 19),
 "GET $::W/instances?code=testkey123",
 "POST /public/orchestrators/Hello/u12",
 "GET $::W/instances/u12?code=testkey123"]
--- more_headers eval
["Host: a\@evil.com", "Host: \"evil.com\"", "Host: evil\\com", "Host: {evil}.com",
 "Host: <evil>.com", "Host: \xc3\xa9vil.com", "Host: evil.com:80x", "Host: evil.com:123456",
 "Host: [::1", "Host: .evil.com", "Host: evil.com:", "Host: evil.com:0",
 "Host: [::1]:00", "Host: [:]", "Host: -", "Host: --", "Host: a-.b", "Host: a.-b",
 "Host: x:00080", "Host: a\@evil.com", "Host: a\@evil.com", "Host: localhost"]
--- error_code eval
[(400) x 21, 404]
--- response_body eval
[('{"Message":"The Host header is not a valid host[:port]."}') x 21, '']



=== TEST 13: good Host spellings: a name, a name with a port, IPv4, IPv6 in brackets, a full name with its dot
--- request eval
[map { "POST $::W/orchestrators/Hello/u13-$_?code=testkey123" } 1 .. 5]
--- more_headers eval
["Host: localhost", "Host: a.b:8080", "Host: [::1]:80", "Host: 127.0.0.1:8080", "Host: Example.com."]
--- error_code eval
[(202) x 5]
--- response_headers eval
["Location: http://localhost$::W/instances/u13-1?$::Q",
 "Location: http://a.b:8080$::W/instances/u13-2?$::Q",
 "Location: http://[::1]:80$::W/instances/u13-3?$::Q",
 "Location: http://127.0.0.1:8080$::W/instances/u13-4?$::Q",
 "Location: http://Example.com.$::W/instances/u13-5?$::Q"]
--- response_body eval
[main::payload('u13-1', 'u13-1', "http://localhost$::W", $::Q),
 main::payload('u13-2', 'u13-2', "http://a.b:8080$::W", $::Q),
 main::payload('u13-3', 'u13-3', "http://[::1]:80$::W", $::Q),
 main::payload('u13-4', 'u13-4', "http://127.0.0.1:8080$::W", $::Q),
 main::payload('u13-5', 'u13-5', "http://Example.com.$::W", $::Q)]



=== TEST 14: a trusted X-Forwarded-Host follows the same grammar: one that is not host[:port] is ignored
--- request eval
[map { "POST /trust/orchestrators/Hello/u14-$_" } 1 .. 3]
--- more_headers eval
["X-Forwarded-Host: a\@evil.com", "X-Forwarded-Host: proxy.example.net:80x",
 "X-Forwarded-Host: proxy..example.net"]
--- error_code eval
[(202) x 3]
--- response_headers eval
[map { "Location: http://localhost/trust/instances/u14-$_?$::QA" } 1 .. 3]
--- response_body eval
[map { main::payload("u14-$_", "u14-$_", 'http://localhost/trust', $::QA) } 1 .. 3]



=== TEST 15: a path in durable_task_public_url goes in front of the URLs' paths, its trailing slashes dropped
--- request
POST /mounted/orchestrators/Hello/u15
--- error_code: 202
--- response_headers eval
"Location: https://gw.example.com/durable/mounted/instances/u15?$::QA"
--- response_body eval
main::payload('u15', 'u15', 'https://gw.example.com/durable/mounted', $::QA)



=== TEST 16: the Location of a 202 status answer is the request's URL with the bytes a URL must not hold escaped
--- raw_request eval
"GET $::W/instances/u11?code=testkey123&x=\"<a>\xff&y=\\^`{|}%41~!\x80 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
--- error_code: 202
--- response_headers eval
"Location: http://localhost$::W/instances/u11?code=testkey123&x=%22%3Ca%3E%FF&y=%5C%5E%60%7B%7C%7D%41~!%80"



=== TEST 17: HTTP/1.0 without Host to a server with no name: the address the request came to, with its port
--- http_config eval: main::nameless_http('')
--- config eval: $::nohost
--- request
POST /nohost/orchestrators/Hello/u17
--- error_code: 202
--- response_headers_like
Location: http://127\.0\.0\.1:\d+/instances/u17\?taskHub=DurableFunctionsHub&connection=default$



=== TEST 18: the same with the catch-all server_name _: the address, not "_"
--- http_config eval: main::nameless_http('server_name _;')
--- config eval: $::nohost
--- request
POST /nohost/orchestrators/Hello/u18
--- error_code: 202
--- response_headers_like
Location: http://127\.0\.0\.1:\d+/instances/u18\?taskHub=DurableFunctionsHub&connection=default$
