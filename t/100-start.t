# Start an orchestration instance: POST B/orchestrators/{name}[/{id}]
# (docs/http-api.md: "Start an instance", "The check-status payload").

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks ();
use File::Path qw(rmtree);
use HTTP::Tiny;
use Time::HiRes ();

repeat_each(1);

# tests per block (per request: status + body + each header line + each
# no_error_log pattern; init blocks add their own Perl checks):
#    1: 4      2: 9      3: 4      4: 3      5: 3      6: 3      7: 6
#    8: 12     9: 9+4    10: 4     11: 4     12: 6     13: 4     14: 16
#   15: 6     16: 9     17: 9     18: 9     19: 8     20: 4     21: 1+3
#   22: 1     23: 1     24: 2     25: 4     26: 8     27: 3+6
#   28: 3+2    29: 3+2
plan tests => 4 + 9 + 4 + 3 + 3 + 3 + 6 + 12 + 13 + 4 + 4 + 6 + 4 + 16
              + 6 + 9 + 9 + 9 + 8 + 4 + 4 + 1 + 1 + 2 + 4 + 9 + 8 + 5 + 5;

our $dir = ($ENV{TEST_NGINX_DATA_DIR} // '') . '/start';
if ($ENV{TEST_NGINX_DATA_DIR}) {
    rmtree($dir);
    rmtree("$ENV{TEST_NGINX_DATA_DIR}/start-tiny");
}

our $http_config = <<'_EOC_';
    durable_task_store default path=$TEST_NGINX_DATA_DIR/start;
_EOC_

our $config = <<'_EOC_';
    location ~* ^/(runtime/webhooks/durabletask|admin/extensions/durabletaskextension)(/|$) {
        durable_task;
        client_max_body_size 1k;
        durable_task_keys testkey123 otherkey456;
    }

    location /anon/ {
        durable_task /anon;
        durable_task_anonymous on;
    }

    location /short/ {
        durable_task /short;
        durable_task_anonymous on;
        durable_task_max_wait 2s;
    }
_EOC_

our $B = 'http://localhost/runtime/webhooks/durabletask';
our $Q = 'taskHub=DurableFunctionsHub&connection=default&code=testkey123';
our $TIME = '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ';

# the exact check-status payload (docs/http-api.md)
sub payload {
    my ($id, $enc, $base, $q) = @_;
    $base //= $B;
    $q //= $Q;
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

# the same as an anchored regex, for a new 32-hex id (the same in every URL)
sub payload_re {
    my ($base, $q) = @_;
    my $re = quotemeta(payload('IDIDID', 'IDIDID', $base, $q));
    $re =~ s/IDIDID/([0-9a-f]{32})/;
    $re =~ s/IDIDID/\\1/g;
    return "^$re\$";
}

sub status_re {
    my ($name, $id, $status, $input, $output) = @_;
    return '^' . quotemeta(qq({"name":"$name","instanceId":"$id",)
           . qq("runtimeStatus":"$status","input":$input,"customStatus":null,)
           . qq("output":$output,"createdTime":"))
           . $TIME . '","lastUpdatedTime":"' . $TIME . '"\}$';
}

# direct HTTP from Perl, for checks the block format cannot express
sub http {
    my ($method, $path, $body) = @_;
    my $port = $ENV{TEST_NGINX_CLIENT_PORT} || $ENV{TEST_NGINX_SERVER_PORT};
    my $sep = $path =~ /\?/ ? '&' : '?';
    return HTTP::Tiny->new(timeout => 10)->request($method,
        "http://127.0.0.1:$port$path${sep}code=testkey123",
        defined $body ? { content => $body,
                          headers => { 'Content-Type' => 'application/json' } }
                      : {});
}

add_cleanup_handler(\&DurableBlocks::reap_children);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: no id: a new 32-hex id, 202, Location, Retry-After: 10, the payload keys in order
--- http_config eval: $::http_config
--- config eval: $::config
--- request
POST /runtime/webhooks/durabletask/orchestrators/Hello?code=testkey123
--- more_headers
Content-Type: application/json
--- error_code: 202
--- response_headers_like
Location: http://localhost/runtime/webhooks/durabletask/instances/[0-9a-f]{32}\?taskHub=DurableFunctionsHub&connection=default&code=testkey123
Retry-After: 10
--- response_body_like eval: main::payload_re()



=== TEST 2: a given id; the body is stored compact with numbers' exact text
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/start-2?code=testkey123
{ \"a\" : 1.0e+10,\n  \"b\" : [ 1 , 2 , { \"c\" : \"x y\" } ],\t\"d\": -0.50 }",
"GET /runtime/webhooks/durabletask/instances/start-2?code=testkey123"]
--- more_headers
Content-Type: application/json
--- error_code eval: [202, 202]
--- response_headers eval
["Location: $::B/instances/start-2?$::Q\nRetry-After: 10", "Retry-After: 5"]
--- response_body_like eval
['^' . quotemeta(main::payload('start-2', 'start-2')) . '$',
 main::status_re('Hello', 'start-2', 'Pending', '{"a":1.0e+10,"b":[1,2,{"c":"x y"}],"d":-0.50}', 'null')]
--- no_error_log
[error]



=== TEST 3: an empty body means input null
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/start-3?code=testkey123\n",
"GET /runtime/webhooks/durabletask/instances/start-3?code=testkey123"]
--- more_headers
Content-Type: application/json
--- error_code eval: [202, 202]
--- response_body_like eval
['^\{"id":"start-3",',
 main::status_re('Hello', 'start-3', 'Pending', 'null', 'null')]



=== TEST 4: the id is form-encoded in every URL and in Location (space is +, ~ is %7E)
--- request
POST /runtime/webhooks/durabletask/orchestrators/Hello/a%20b~c(d)!*'x?code=testkey123
--- error_code: 202
--- response_headers eval
"Location: $::B/instances/a+b%7Ec(d)!*%27x?$::Q"
--- response_body eval: main::payload("a b~c(d)!*'x", "a+b%7Ec(d)!*%27x")



=== TEST 5: a key given in x-functions-key is the code= of the URLs
--- request
POST /runtime/webhooks/durabletask/orchestrators/Hello/start-5
--- more_headers
x-functions-key: otherkey456
--- error_code: 202
--- response_headers eval
"Location: $::B/instances/start-5?taskHub=DurableFunctionsHub&connection=default&code=otherkey456"
--- response_body eval
main::payload('start-5', 'start-5', $::B,
              'taskHub=DurableFunctionsHub&connection=default&code=otherkey456')



=== TEST 6: an anonymous location adds no code= (a code given is ignored)
--- request
POST /anon/orchestrators/Hello/start-6?code=whatever1
--- error_code: 202
--- response_headers
Location: http://localhost/anon/instances/start-6?taskHub=DurableFunctionsHub&connection=default
--- response_body eval
main::payload('start-6', 'start-6', 'http://localhost/anon',
              'taskHub=DurableFunctionsHub&connection=default')



=== TEST 7: starting an active id again is 409 with a JSON message; the instance is kept
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/start-7?code=testkey123
1",
"POST /runtime/webhooks/durabletask/orchestrators/Other/start-7?code=testkey123
2",
"GET /runtime/webhooks/durabletask/instances/start-7?code=testkey123"]
--- error_code eval: [202, 409, 202]
--- response_body_like eval
['^\{"id":"start-7"',
 '^\{"Message":"[^"]*start-7[^"]*"\}$',
 main::status_re('Hello', 'start-7', 'Pending', '1', 'null')]



=== TEST 8: a terminated id is replaced: new execution, new input, history reset
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/start-8?code=testkey123
\"first\"",
"POST /runtime/webhooks/durabletask/instances/start-8/terminate?reason=stop&code=testkey123",
"POST /runtime/webhooks/durabletask/orchestrators/Second/start-8?code=testkey123
\"second\"",
"GET /runtime/webhooks/durabletask/instances/start-8?code=testkey123",
"POST /runtime/webhooks/durabletask/instances/start-8/suspend?code=testkey123",
"GET /runtime/webhooks/durabletask/instances/start-8?showHistory=true&code=testkey123"]
--- error_code eval: [202, 202, 202, 202, 202, 202]
--- response_body_like eval
['^\{"id":"start-8"',
 '^$',
 '^\{"id":"start-8"',
 main::status_re('Second', 'start-8', 'Pending', '"second"', 'null'),
 '^$',
 '"runtimeStatus":"Suspended","input":"second","customStatus":null,"output":null,.*"historyEvents":\[\{"EventType":"ExecutionSuspended"[^\]]*\]\}$']



=== TEST 9: replacing gives a new createdTime (Perl checks in init)
--- init
my $r = main::http('POST', '/runtime/webhooks/durabletask/orchestrators/Hello/start-9', '1');
Test::More::is($r->{status}, 202, 'start-9 started');
$r = main::http('GET', '/runtime/webhooks/durabletask/instances/start-9');
my ($c1) = $r->{content} =~ /"createdTime":"([^"]+)"/;
Test::More::ok($c1, "first createdTime $c1");
$r = main::http('POST', '/runtime/webhooks/durabletask/instances/start-9/terminate');
Test::More::is($r->{status}, 202, 'start-9 terminated');
select(undef, undef, undef, 1.2);
$r = main::http('POST', '/runtime/webhooks/durabletask/orchestrators/Hello/start-9', '2');
Test::More::is($r->{status}, 202, 'start-9 replaced');
$r = main::http('GET', '/runtime/webhooks/durabletask/instances/start-9');
Test::More::is($r->{status}, 202, 'start-9 is active again');
my ($c2) = $r->{content} =~ /"createdTime":"([^"]+)"/;
my ($u2) = $r->{content} =~ /"lastUpdatedTime":"([^"]+)"/;
Test::More::ok($c2, "second createdTime $c2");
Test::More::cmp_ok($c2, 'gt', $c1, 'the replacement has a later createdTime');
Test::More::is($u2, $c2, 'lastUpdatedTime is the new createdTime');
Test::More::like($r->{content}, qr/"runtimeStatus":"Pending","input":2,"customStatus":null,"output":null/, 'output of the old execution is gone');
--- request eval
["GET /runtime/webhooks/durabletask/instances?instanceIdPrefix=start-9&code=testkey123",
"GET /runtime/webhooks/durabletask/instances/start-9?code=testkey123"]
--- error_code eval: [200, 202]
--- response_body_like eval
['^\[\{"name":"Hello","instanceId":"start-9","runtimeStatus":"Pending","input":2,[^\]]*\]$',
 main::status_re('Hello', 'start-9', 'Pending', '2', 'null')]



=== TEST 10: an invalid JSON body is 400 {"Message":...}; nothing is created
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/start-10?code=testkey123
{\"a\": }",
"GET /runtime/webhooks/durabletask/instances/start-10?code=testkey123"]
--- error_code eval: [400, 404]
--- response_body eval
[qr/^\{"Message":"[^"]+"\}$/, ""]



=== TEST 11: trailing garbage after a JSON value is invalid JSON too
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/start-11?code=testkey123
{\"a\": 1} x",
"GET /runtime/webhooks/durabletask/instances/start-11?code=testkey123"]
--- error_code eval: [400, 404]
--- response_body eval
[qr/^\{"Message":"[^"]+"\}$/, ""]



=== TEST 12: nesting deeper than durable_task_json_depth (64) is 400; 64 levels are fine
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/start-12a?code=testkey123\n" . ('[' x 65) . (']' x 65),
 "POST /runtime/webhooks/durabletask/orchestrators/Hello/start-12b?code=testkey123\n" . ('[' x 64) . (']' x 64),
 "GET /runtime/webhooks/durabletask/instances/start-12b?code=testkey123"]
--- error_code eval: [400, 202, 202]
--- response_body_like eval
['^\{"Message":"[^"]*(deep|depth|nest)[^"]*"\}$',
 '^\{"id":"start-12b"',
 main::status_re('Hello', 'start-12b', 'Pending', ('[' x 64) . (']' x 64), 'null')]



=== TEST 13: an integer beyond int64 is 400; int64's maximum is kept exactly
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/start-13a?code=testkey123
{\"n\":9223372036854775808}",
"POST /runtime/webhooks/durabletask/orchestrators/Hello/start-13b?code=testkey123
{\"n\":9223372036854775807}"]
--- error_code eval: [400, 202]
--- response_body_like eval
['^\{"Message":"[^"]+"\}$', '^\{"id":"start-13b"']



=== TEST 14: invalid instance ids and names are 400 (and name no instance)
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/" . ('x' x 257) . "?code=testkey123",
 "POST /runtime/webhooks/durabletask/orchestrators/Hello/%40start-14?code=testkey123",
 "POST /runtime/webhooks/durabletask/orchestrators/Hello/a%2Fb?code=testkey123",
 "POST /runtime/webhooks/durabletask/orchestrators/Hello/a%5Cb?code=testkey123",
 "POST /runtime/webhooks/durabletask/orchestrators/Hello/a%3Fb?code=testkey123",
 "POST /runtime/webhooks/durabletask/orchestrators/Hello/a%23b?code=testkey123",
 "POST /runtime/webhooks/durabletask/orchestrators/Hello/a%01b?code=testkey123",
 "POST /runtime/webhooks/durabletask/orchestrators/He%2Fllo/start-14?code=testkey123"]
--- error_code eval: [(400) x 8]
--- response_body_like eval
[('^\{"Message":"[^"]+"\}$') x 8]



=== TEST 15: an id of exactly 256 bytes is fine; an id starting with @ is not
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/" . ('y' x 256) . "?code=testkey123",
 "GET /runtime/webhooks/durabletask/instances/" . ('y' x 256) . "?code=testkey123",
 "POST /runtime/webhooks/durabletask/orchestrators/Hello/\@start-15?code=testkey123"]
--- error_code eval: [202, 202, 400]
--- response_body_like eval
['^\{"id":"y{256}"',
 main::status_re('Hello', 'y' x 256, 'Pending', 'null', 'null'),
 '^\{"Message":"[^"]*@[^"]*"\}$']



=== TEST 16: CR LF in an id is 400 and never splits a header
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/x%0d%0aX-Injected:%20yes?code=testkey123",
 "POST /runtime/webhooks/durabletask/orchestrators/Hello/x%0aX-Injected:%20yes?code=testkey123",
 "GET /runtime/webhooks/durabletask/instances?instanceIdPrefix=x&code=testkey123"]
--- error_code eval: [400, 400, 200]
--- response_headers eval
["!X-Injected", "!X-Injected", "!X-Injected"]
--- response_body_like eval
['^\{"Message":"[^"]+"\}$', '^\{"Message":"[^"]+"\}$', '^\[\]$']



=== TEST 17: pollingInterval > timeout is 400 and creates nothing
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/start-17?timeout=1&pollingInterval=2&taskHub=T17&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances/start-17?taskHub=T17&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances?taskHub=T17&code=testkey123"]
--- error_code eval: [400, 404, 200]
--- response_body eval
[qr/^\{"Message":"[^"]*pollingInterval[^"]*"\}$/, "", "[]"]
--- no_error_log
[error]



=== TEST 18: retryInterval > timeout is 400 too, and a new-id start creates nothing
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello?timeout=1&retryInterval=1.5&taskHub=T18&code=testkey123",
 "POST /runtime/webhooks/durabletask/orchestrators/Hello?timeout=abc&taskHub=T18&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances?taskHub=T18&code=testkey123"]
--- error_code eval: [400, 400, 200]
--- response_body eval
[qr/^\{"Message":"[^"]*retryInterval[^"]*"\}$/, qr/^\{"Message":"[^"]*timeout[^"]*"\}$/, "[]"]
--- no_error_log
[error]



=== TEST 19: a timeout that expires gives the normal 202 (timeout=0: at once)
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/start-19a?timeout=1&pollingInterval=0.2&code=testkey123",
 "POST /runtime/webhooks/durabletask/orchestrators/Hello/start-19b?timeout=0&code=testkey123"]
--- error_code eval: [202, 202]
--- response_headers eval
["Location: $::B/instances/start-19a?$::Q\nRetry-After: 10",
 "Location: $::B/instances/start-19b?$::Q\nRetry-After: 10"]
--- response_body eval
[main::payload('start-19a', 'start-19a'), main::payload('start-19b', 'start-19b')]
--- timeout: 5



=== TEST 20: a timeout above durable_task_max_wait (120 s) is 400, nothing created
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/start-20?timeout=121&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances/start-20?code=testkey123"]
--- error_code eval: [400, 404]
--- response_body eval
[qr/^\{"Message":"[^"]*timeout[^"]*"\}$/, ""]



=== TEST 21: an instance terminated during the wait: 200 with the status payload
--- init
DurableBlocks::later(0.5, 'POST', '/runtime/webhooks/durabletask/instances/start-21/terminate?reason=%22done%22&code=testkey123');
Test::More::pass('terminate scheduled');
--- request
POST /runtime/webhooks/durabletask/orchestrators/Hello/start-21?timeout=5&pollingInterval=0.2&code=testkey123
"in"
--- error_code: 200
--- response_headers
!Location
--- response_body_like eval
main::status_re('Hello', 'start-21', 'Terminated', '"in"', '"done"')
--- timeout: 8



=== TEST 22: body larger than client_max_body_size (Content-Length): 413
--- request eval
"POST /runtime/webhooks/durabletask/orchestrators/Hello/start-22?code=testkey123\n\"" . ('z' x 2000) . '"'
--- error_code: 413



=== TEST 23: a chunked body larger than client_max_body_size: 413
--- raw_request eval
"POST /runtime/webhooks/durabletask/orchestrators/Hello/start-23?code=testkey123 HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
\r
7d2\r
\"" . ('z' x 2000) . "\"\r
0\r
\r
"
--- error_code: 413



=== TEST 24: a chunked body within the limit is read and stored
--- raw_request eval
"POST /runtime/webhooks/durabletask/orchestrators/Hello/start-24?code=testkey123 HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
\r
5\r
{\"a\":\r
3\r
 7}\r
0\r
\r
"
--- error_code: 202
--- response_body eval: main::payload('start-24', 'start-24')



=== TEST 25: the 1.x prefix starts instances too, and its URLs use it
--- request eval
["POST /admin/extensions/DurableTaskExtension/orchestrators/Hello/start-25?code=testkey123",
 "GET /runtime/webhooks/durabletask/instances/start-25?code=testkey123"]
--- error_code eval: [202, 202]
--- response_body_like eval
['^' . quotemeta(main::payload('start-25', 'start-25', 'http://localhost/admin/extensions/DurableTaskExtension')) . '$',
 main::status_re('Hello', 'start-25', 'Pending', 'null', 'null')]



=== TEST 26: durable_task_max_wait 2s: a timeout of 2.5 s is 400 (nothing created), 2 s is allowed
--- request eval
["POST /short/orchestrators/Hello/start-26?timeout=2.5",
 "GET /short/instances/start-26",
 "POST /short/orchestrators/Hello/start-26?timeout=2&pollingInterval=0.5",
 "GET /short/instances/start-26"]
--- error_code eval: [400, 404, 202, 202]
--- response_body_like eval
['^\{"Message":"[^"]*timeout[^"]*"\}$', '^$', '^\{"id":"start-26",', '"instanceId":"start-26","runtimeStatus":"Pending"']
--- timeout: 5



=== TEST 27: a full store answers writes with 507 {"Message":...} and keeps serving reads
--- http_config
    durable_task_store tiny path=$TEST_NGINX_DATA_DIR/start-tiny max_size=1m;
--- config
    location /tiny/ {
        durable_task /tiny;
        durable_task_anonymous on;
    }
--- init
my $port = $ENV{TEST_NGINX_CLIENT_PORT} || $ENV{TEST_NGINX_SERVER_PORT};
my $ua = HTTP::Tiny->new(timeout => 10);
my $body = '"' . ('x' x 60000) . '"';
my ($last, $n) = (0, 0);
for my $i (1 .. 100) {
    my $r = $ua->request('POST', "http://127.0.0.1:$port/tiny/orchestrators/Hello/full-$i",
                         { content => $body, headers => { 'Content-Type' => 'application/json' } });
    $last = $r;
    last if $r->{status} != 202;
    $n++;
}
Test::More::ok($n > 0 && $n < 100, "$n starts fit before the store filled up");
Test::More::is($last->{status}, 507, 'then 507');
Test::More::like($last->{content}, qr/^\{"Message":"[^"]+"\}$/, 'with a JSON message');
--- request eval
["POST /tiny/orchestrators/Hello/one-more\n\"" . ('y' x 60000) . '"',
 "GET /tiny/instances/full-1?showInput=false",
 "GET /tiny/instances?top=1&showInput=false"]
--- error_code eval: [507, 202, 200]
--- response_body_like eval
['^\{"Message":"[^"]+"\}$', '"instanceId":"full-1","runtimeStatus":"Pending"', '^\[\{"name":"Hello","instanceId":"full-1",']



=== TEST 28: new ids start with the milliseconds since 1970 (version 7 UUID layout): made in order, they sort in order; the rest is random
--- http_config eval: $::http_config
--- config eval: $::config
--- init
my @ids;
for (1 .. 3) {
    my $r = main::http('POST', '/runtime/webhooks/durabletask/orchestrators/Hello');
    push @ids, $r->{content} =~ /^\{"id":"([0-9a-f]{32})"/ ? $1 : '';
    select(undef, undef, undef, 0.01);
}
# 48 bits: more than a 32-bit perl's hex() promises, fine on 64 bits
my $ms = do { no warnings 'portable'; hex(substr($ids[0], 0, 12)) };
Test::More::cmp_ok(abs($ms - int(Time::HiRes::time() * 1000)), '<', 600_000,
                   "the first 12 digits of $ids[0] are now in ms");
Test::More::ok($ids[0] lt $ids[1] && $ids[1] lt $ids[2], "@ids in order");
Test::More::ok(substr($ids[0], 12) ne substr($ids[1], 12)
               && substr($ids[1], 12) ne substr($ids[2], 12),
               'the other 20 digits differ');
--- request
POST /anon/orchestrators/Hello
--- error_code: 202
--- response_body_like: ^\{"id":"[0-9a-f]{32}","statusQueryGetUri":"http://localhost/anon/instances/



=== TEST 29: starts that arrive together: each new id begins with the time of its write, so the ids sort as the instances were created
--- http_config eval: $::http_config
--- config eval: $::config
--- init
use IO::Socket::INET ();
my $port = $ENV{TEST_NGINX_CLIENT_PORT} || $ENV{TEST_NGINX_SERVER_PORT};
my @socks;
for (1 .. 20) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 10) or die "connect: $!";
    push @socks, $s;
}
# all requests are written before any answer is read: one batch or two
for my $s (@socks) {
    print $s "POST /anon/orchestrators/Together HTTP/1.1\r\n"
           . "Host: localhost\r\nConnection: close\r\n"
           . "Content-Type: application/json\r\nContent-Length: 1\r\n\r\n1";
}
my @ids;
for my $s (@socks) {
    local $/;
    my $r = <$s> // '';
    push @ids, $1 if $r =~ /\r\n\r\n\{"id":"([0-9a-f]{32})"/;
}
Test::More::is(scalar(@ids), 20, 'the 20 starts answered with new ids');
my $list = main::http('GET', '/anon/instances?top=1000')->{content};
my %ours = map { $_ => 1 } @ids;
my @listed = grep { $ours{$_} } $list =~ /"instanceId":"([0-9a-f]{32})"/g;
Test::More::is(scalar(@listed), 20, 'the list shows them');
Test::More::is("@listed", join(' ', sort @listed),
               'listed in creation order, the ids are in order');
--- request
GET /anon/instances?top=1
--- error_code: 200
--- response_body_like: ^\[\{"name":
