# Instance status: GET B/instances/{id} (docs/http-api.md): status
# codes, payload, Location/Retry-After, view parameters, the wait long-poll.
#
# Not testable through the HTTP API today: Completed and Failed instances
# (only the worker protocol, not yet served, produces them), hence
# returnInternalServerErrorOnFailure=true -> 500 and the v1 Failed -> 500.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks qw(status_re $TIME $FRAC);
use HTTP::Tiny;
use Time::HiRes ();

repeat_each(1);

# tests per block (per request: status + body + each header line + each
# no_error_log pattern; init blocks add their own Perl checks):
#    1: 3      2: 10     3: 4      4: 21     5: 8      6: 4      7: 12
#    8: 12     9: 4+2   10: 1+2   11: 6     12: 6     13: 5
plan tests => 3 + 10 + 4 + 21 + 8 + 4 + 12 + 12 + 6 + 3 + 6 + 6 + 5;

our $http_config = DurableBlocks::fresh_store('status');

our $config = $DurableBlocks::API_LOCATION . <<'_EOC_';
    location /v1/ {
        durable_task /v1;
        durable_task_anonymous on;
        durable_task_v1_status_codes on;
    }
_EOC_

sub http {
    my ($method, $path) = @_;
    my $port = $ENV{TEST_NGINX_CLIENT_PORT} || $ENV{TEST_NGINX_SERVER_PORT};
    my $sep = $path =~ /\?/ ? '&' : '?';
    return HTTP::Tiny->new(timeout => 10)->request($method,
        "http://127.0.0.1:$port$path${sep}code=testkey123");
}

add_cleanup_handler(\&DurableBlocks::reap_children);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: an unknown instance is 404 with an empty body
--- http_config eval: $::http_config
--- config eval: $::config
--- request
GET /runtime/webhooks/durabletask/instances/no-such-instance?code=testkey123
--- error_code: 404
--- response_body
--- no_error_log
[error]



=== TEST 2: Pending: 202, keys in order, Location is this request's URL (raw, with query), Retry-After: 5
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/st-2?code=testkey123
{\"city\": \"Tokyo\"}",
 "GET /runtime/webhooks/durabletask/instances/st%2D2?code=testkey123&showInput=true&x=%20y"]
--- error_code eval: [202, 202]
--- response_headers eval
["Retry-After: 10",
 "Location: http://localhost/runtime/webhooks/durabletask/instances/st%2D2?code=testkey123&showInput=true&x=%20y
Retry-After: 5
Content-Type: application/json; charset=utf-8"]
--- response_body_like eval
['^\{"id":"st-2",',
 main::status_re('Hello', 'st-2', 'Pending', '{"city":"Tokyo"}', 'null')]
--- no_error_log
[error]



=== TEST 3: showInput=false gives input null
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/st-3?code=testkey123
[1,2,3]",
 "GET /runtime/webhooks/durabletask/instances/st-3?showInput=false&code=testkey123"]
--- error_code eval: [202, 202]
--- response_body_like eval
['^\{"id":"st-3",',
 main::status_re('Hello', 'st-3', 'Pending', 'null', 'null')]



=== TEST 4: Terminated: 200 without Location; output is the reason (JSON if it parses, else a string)
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/st-4a?code=testkey123",
 "POST /runtime/webhooks/durabletask/orchestrators/Hello/st-4b?code=testkey123",
 "POST /runtime/webhooks/durabletask/orchestrators/Hello/st-4c?code=testkey123",
 "POST /runtime/webhooks/durabletask/instances/st-4a/terminate?reason=123&code=testkey123",
 "POST /runtime/webhooks/durabletask/instances/st-4b/terminate?reason=not+json%22here&code=testkey123",
 "POST /runtime/webhooks/durabletask/instances/st-4c/terminate?reason=%7B%22a%22%3A%20%5B1%5D%7D&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances/st-4a?code=testkey123",
 "GET /runtime/webhooks/durabletask/instances/st-4b?code=testkey123",
 "GET /runtime/webhooks/durabletask/instances/st-4c?code=testkey123"]
--- error_code eval: [202, 202, 202, 202, 202, 202, 200, 200, 200]
--- response_headers eval
["", "", "", "", "", "", "!Location", "!Location", "!Location"]
--- response_body_like eval
['^\{"id":"st-4a"', '^\{"id":"st-4b"', '^\{"id":"st-4c"', '^$', '^$', '^$',
 main::status_re('Hello', 'st-4a', 'Terminated', 'null', '123'),
 main::status_re('Hello', 'st-4b', 'Terminated', 'null', '"not json\"here"'),
 main::status_re('Hello', 'st-4c', 'Terminated', 'null', '{"a":[1]}')]



=== TEST 5: showHistory=true: historyEvents with ExecutionTerminated (its Input removed by showInput=false)
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/st-5?code=testkey123",
 "POST /runtime/webhooks/durabletask/instances/st-5/terminate?reason=why&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances/st-5?showHistory=true&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances/st-5?showHistory=true&showInput=false&code=testkey123"]
--- error_code eval: [202, 202, 200, 200]
--- response_body_like eval
['^\{"id":"st-5"', '^$',
 main::status_re('Hello', 'st-5', 'Terminated', 'null', '"why"',
     ',"historyEvents":\[\{"EventType":"ExecutionTerminated","Timestamp":"' . $::FRAC . '","Input":"why"\}\]'),
 main::status_re('Hello', 'st-5', 'Terminated', 'null', '"why"',
     ',"historyEvents":\[\{"EventType":"ExecutionTerminated","Timestamp":"' . $::FRAC . '"\}\]')]



=== TEST 6: a Pending instance has no historyEvents key even with showHistory=true
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/st-6?code=testkey123
7",
 "GET /runtime/webhooks/durabletask/instances/st-6?showHistory=true&showHistoryOutput=true&code=testkey123"]
--- error_code eval: [202, 202]
--- response_body_like eval
['^\{"id":"st-6"', main::status_re('Hello', 'st-6', 'Pending', '7', 'null')]



=== TEST 7: durable_task_v1_status_codes on: Terminated is 400 (with the payload), Pending still 202
--- request eval
["POST /v1/orchestrators/Hello/st-7a",
 "POST /v1/orchestrators/Hello/st-7b",
 "POST /v1/instances/st-7a/terminate?reason=x",
 "GET /v1/instances/st-7a",
 "GET /v1/instances/st-7b"]
--- error_code eval: [202, 202, 202, 400, 202]
--- response_headers eval
["", "", "", "!Location", "Location: http://localhost/v1/instances/st-7b"]
--- response_body_like eval
['^\{"id":"st-7a"', '^\{"id":"st-7b"', '^$',
 main::status_re('Hello', 'st-7a', 'Terminated', 'null', '"x"'),
 main::status_re('Hello', 'st-7b', 'Pending', 'null', 'null')]



=== TEST 8: bools: true/false in any case; anything else is 400 naming the parameter
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/st-8?code=testkey123
\"in\"",
 "GET /runtime/webhooks/durabletask/instances/st-8?showInput=TRUE&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances/st-8?showInput=False&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances/st-8?showInput=yes&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances/st-8?showHistory=1&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances/st-8?returnInternalServerErrorOnFailure=maybe&code=testkey123"]
--- error_code eval: [202, 202, 202, 400, 400, 400]
--- response_body_like eval
['^\{"id":"st-8"',
 main::status_re('Hello', 'st-8', 'Pending', '"in"', 'null'),
 main::status_re('Hello', 'st-8', 'Pending', 'null', 'null'),
 '^\{"Message":"[^"]*showInput[^"]*"\}$',
 '^\{"Message":"[^"]*showHistory[^"]*"\}$',
 '^\{"Message":"[^"]*returnInternalServerErrorOnFailure[^"]*"\}$']



=== TEST 9: wait=1 on an unchanging instance: 202 after about 1 s
--- http_config eval: $::http_config
--- config eval: $::config
--- init
my $r = main::http('POST', '/runtime/webhooks/durabletask/orchestrators/Hello/st-9');
Test::More::is($r->{status}, 202, 'st-9 started');
my $t0 = Time::HiRes::time();
$r = main::http('GET', '/runtime/webhooks/durabletask/instances/st-9?wait=1');
my $dt = Time::HiRes::time() - $t0;
Test::More::is($r->{status}, 202, 'the long-poll answers 202');
Test::More::cmp_ok($dt, '>=', 0.8, "the answer was held ($dt s)");
Test::More::cmp_ok($dt, '<', 5, "but not much longer than wait ($dt s)");
--- request
GET /runtime/webhooks/durabletask/instances/st-9?wait=1&code=testkey123
--- error_code: 202
--- response_body_like eval
main::status_re('Hello', 'st-9', 'Pending', 'null', 'null')
--- timeout: 5



=== TEST 10: wait returns as soon as the status changes (suspended after 0.5 s; wait=10)
--- http_config eval: $::http_config
--- config eval: $::config
--- init
DurableBlocks::later(0.5, 'POST', '/runtime/webhooks/durabletask/instances/st-9/suspend?code=testkey123');
Test::More::pass('suspend scheduled');
--- request
GET /runtime/webhooks/durabletask/instances/st-9?wait=10&code=testkey123
--- error_code: 202
--- response_body_like eval
main::status_re('Hello', 'st-9', 'Suspended', 'null', 'null')
--- timeout: 4



=== TEST 11: wait on a terminal instance answers at once; on a missing one 404
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
["POST /runtime/webhooks/durabletask/instances/st-9/terminate?code=testkey123",
 "GET /runtime/webhooks/durabletask/instances/st-9?wait=30&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances/st-none?wait=30&code=testkey123"]
--- error_code eval: [202, 200, 404]
--- response_body_like eval
['^$', main::status_re('Hello', 'st-9', 'Terminated', 'null', 'null'), '^$']
--- timeout: 4



=== TEST 12: wait above durable_task_max_wait (120 s), or not a number: 400
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
["GET /runtime/webhooks/durabletask/instances/st-8?wait=121&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances/st-8?wait=1s&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances/st-8?wait=-1&code=testkey123"]
--- error_code eval: [400, 400, 400]
--- response_body_like eval
[('^\{"Message":"[^"]*wait[^"]*"\}$') x 3]



=== TEST 13: the 1.x prefix serves status too; Location keeps the request's spelling
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
["POST /admin/extensions/DurableTaskExtension/orchestrators/Hello/st-13?code=testkey123",
 "GET /admin/extensions/durabletaskextension/Instances/st-13?code=testkey123"]
--- error_code eval: [202, 202]
--- response_headers eval
["", "Location: http://localhost/admin/extensions/durabletaskextension/Instances/st-13?code=testkey123"]
--- response_body_like eval
['^\{"id":"st-13"', main::status_re('Hello', 'st-13', 'Pending', 'null', 'null')]
