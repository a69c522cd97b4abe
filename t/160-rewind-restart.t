# Rewind and restart: POST B/instances/{id}/rewind and .../restart
# (docs/http-api.md: "Rewind", "Restart").
#
# Not reachable through the HTTP API today: Failed and Completed instances
# (only the worker protocol produces them), so rewind -> 202 for a Failed
# instance and rewind -> 410 for a Completed one are not tested here.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks qw(rq status_re $TIME $FRAC);

repeat_each(1);

# tests per block (per request: status + body + each header line + each
# no_error_log pattern):
#    1: 32     2: 6      3: 14     4: 10     5: 16     6: 16     7: 6
plan tests => 32 + 6 + 14 + 10 + 16 + 16 + 6;

our $http_config = DurableBlocks::fresh_store('restart');

our $config = $DurableBlocks::API_LOCATION;

our $B = 'http://localhost/runtime/webhooks/durabletask';

# the check-status payload of $id (a regex matching a new 32-hex id when
# $id is undef), hub $hub
sub payload_re {
    my ($hub, $id) = @_;
    my $q = "taskHub=$hub&connection=default&code=testkey123";
    my $i = "$B/instances/IDIDID";
    my $re = quotemeta(qq({"id":"IDIDID","statusQueryGetUri":"$i?$q",)
         . qq("sendEventPostUri":"$i/raiseEvent/{eventName}?$q",)
         . qq("terminatePostUri":"$i/terminate?reason={text}&$q",)
         . qq("purgeHistoryDeleteUri":"$i?$q",)
         . qq("restartPostUri":"$i/restart?$q",)
         . qq("suspendPostUri":"$i/suspend?reason={text}&$q",)
         . qq("resumePostUri":"$i/resume?reason={text}&$q",)
         . qq("rewindPostUri":"$i/rewind?reason={text}&$q"}));
    if (defined $id) {
        $re =~ s/IDIDID/$id/g;
    } else {
        $re =~ s/IDIDID/([0-9a-f]{32})/;
        $re =~ s/IDIDID/\\1/g;
    }
    return "^$re\$";
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: rewind: missing 404 (empty); Pending and Suspended 412 (JSON string); Terminated 410 (empty)
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
[main::rq(W1 => POST => 'instances/nope/rewind?reason=x'),
 main::rq(W1 => POST => 'orchestrators/Hello/p1'),
 main::rq(W1 => POST => 'orchestrators/Hello/s1'),
 main::rq(W1 => POST => 'orchestrators/Hello/t1'),
 main::rq(W1 => POST => 'instances/s1/suspend'),
 main::rq(W1 => POST => 'instances/t1/terminate'),
 main::rq(W1 => POST => 'instances/p1/rewind?reason=x'),
 main::rq(W1 => POST => 'instances/s1/rewind'),
 main::rq(W1 => POST => 'instances/t1/rewind?reason=x'),
 main::rq(W1 => GET => 'instances?showInput=false')]
--- error_code eval: [404, 202, 202, 202, 202, 202, 412, 412, 410, 200]
--- response_headers eval
["", "", "", "", "", "", "Content-Type: application/json; charset=utf-8", "Content-Type: application/json; charset=utf-8", "", ""]
--- response_body_like eval
['^$', '^\{"id":"p1"', '^\{"id":"s1"', '^\{"id":"t1"', '^$', '^$',
 '^"This orchestration has status Pending, but [^\n]*Failed[^\n]*"$',
 '^"This orchestration has status Suspended, but [^\n]*Failed[^\n]*"$',
 '^$',
 '^\[\{[^\}]*"instanceId":"p1","runtimeStatus":"Pending"[^\]]*"instanceId":"s1","runtimeStatus":"Suspended"[^\]]*"instanceId":"t1","runtimeStatus":"Terminated"[^\]]*\]$']
--- no_error_log
[error]



=== TEST 2: restart of a missing instance: 404 (empty), both forms
--- request eval
[main::rq(W2 => POST => 'instances/nope/restart'),
 main::rq(W2 => POST => 'instances/nope/restart?restartWithNewInstanceId=false'),
 main::rq(W2 => GET => 'instances')]
--- error_code eval: [404, 404, 200]
--- response_body eval
["", "", "[]"]



=== TEST 3: restart with a new id (default): 202 payload of a new 32-hex id; same name and input; the original is untouched
--- request eval
[main::rq(W3 => POST => 'orchestrators/Greeter/orig', '{"x": [1, 2]}'),
 main::rq(W3 => POST => 'instances/orig/restart'),
 main::rq(W3 => POST => 'instances/orig/restart?restartWithNewInstanceId=TRUE'),
 main::rq(W3 => GET => 'instances/orig'),
 main::rq(W3 => GET => 'instances?instanceIdPrefix=orig'),
 main::rq(W3 => GET => 'instances')]
--- error_code eval: [202, 202, 202, 202, 200, 200]
--- response_headers_like eval
["", "Location: http://localhost/runtime/webhooks/durabletask/instances/[0-9a-f]{32}\\?taskHub=W3&connection=default&code=testkey123\nRetry-After: 10", "", "", "", ""]
--- response_body_like eval
[main::payload_re('W3', 'orig'), main::payload_re('W3'), main::payload_re('W3'),
 main::status_re('Greeter', 'orig', 'Pending', '{"x":[1,2]}', 'null'),
 '^\[\{"name":"Greeter","instanceId":"orig",[^{}]*\{"x":\[1,2\]\}[^{}]*\}\]$',
 '^\[(\{"name":"Greeter","instanceId":"(orig|[0-9a-f]{32})","runtimeStatus":"Pending","input":\{"x":\[1,2\]\},[^\}]*\},?){3}\]$']



=== TEST 4: restart with the same id: 409 while active (Pending, Suspended), nothing changes
--- request eval
[main::rq(W4 => POST => 'orchestrators/Greeter/a1', '5'),
 main::rq(W4 => POST => 'instances/a1/restart?restartWithNewInstanceId=false'),
 main::rq(W4 => POST => 'instances/a1/suspend'),
 main::rq(W4 => POST => 'instances/a1/restart?restartWithNewInstanceId=false'),
 main::rq(W4 => GET => 'instances')]
--- error_code eval: [202, 409, 202, 409, 200]
--- response_body_like eval
['^\{"id":"a1"', '^\{"Message":"[^"]*a1[^"]*"\}$', '^$', '^\{"Message":"[^"]*a1[^"]*"\}$',
 '^\[\{"name":"Greeter","instanceId":"a1","runtimeStatus":"Suspended","input":5,[^\}]*\}\]$']



=== TEST 5: restart with the same id of a terminated instance: 202, replaced with the same name and input, history reset
--- request eval
[main::rq(W5 => POST => 'orchestrators/Greeter/t1', '{"keep":"me"}'),
 main::rq(W5 => POST => 'instances/t1/terminate?reason=bye'),
 main::rq(W5 => POST => 'instances/t1/restart?restartWithNewInstanceId=false'),
 main::rq(W5 => GET => 'instances/t1'),
 main::rq(W5 => POST => 'instances/t1/suspend'),
 main::rq(W5 => GET => 'instances/t1?showHistory=true'),
 main::rq(W5 => GET => 'instances')]
--- error_code eval: [202, 202, 202, 202, 202, 202, 200]
--- response_headers eval
["", "", "Location: http://localhost/runtime/webhooks/durabletask/instances/t1?taskHub=W5&connection=default&code=testkey123\nRetry-After: 10", "", "", "", ""]
--- response_body_like eval
['^\{"id":"t1"', '^$', main::payload_re('W5', 't1'),
 main::status_re('Greeter', 't1', 'Pending', '{"keep":"me"}', 'null'),
 '^$',
 main::status_re('Greeter', 't1', 'Suspended', '{"keep":"me"}', 'null',
     ',"historyEvents":\[\{"EventType":"ExecutionSuspended","Timestamp":"' . $::FRAC . '","Reason":null\}\]'),
 '^\[\{"name":"Greeter","instanceId":"t1",[^\]]*\}\]$']



=== TEST 6: restart parameters: a bad bool is 400; the wait parameters apply (pollingInterval > timeout: 400, nothing replaced)
--- request eval
[main::rq(W6 => POST => 'orchestrators/Greeter/t1', '1'),
 main::rq(W6 => POST => 'instances/t1/terminate'),
 main::rq(W6 => POST => 'instances/t1/restart?restartWithNewInstanceId=no'),
 main::rq(W6 => POST => 'instances/t1/restart?restartWithNewInstanceId=false&timeout=1&pollingInterval=2'),
 main::rq(W6 => POST => 'instances/t1/restart?timeout=500'),
 main::rq(W6 => GET => 'instances'),
 main::rq(W6 => POST => 'instances/t1/restart?restartWithNewInstanceId=false&timeout=1&pollingInterval=0.25'),
 main::rq(W6 => GET => 'instances/t1')]
--- error_code eval: [202, 202, 400, 400, 400, 200, 202, 202]
--- response_body_like eval
['^\{"id":"t1"', '^$',
 '^\{"Message":"[^"]*restartWithNewInstanceId[^"]*"\}$',
 '^\{"Message":"[^"]*pollingInterval[^"]*"\}$',
 '^\{"Message":"[^"]*timeout[^"]*"\}$',
 '^\[\{"name":"Greeter","instanceId":"t1","runtimeStatus":"Terminated",[^\]]*\}\]$',
 main::payload_re('W6', 't1'),
 main::status_re('Greeter', 't1', 'Pending', '1', 'null')]
--- timeout: 5



=== TEST 7: restart and rewind accept POST only (405 with Allow)
--- request eval
[main::rq(W6 => GET => 'instances/t1/restart'),
 main::rq(W6 => DELETE => 'instances/t1/rewind')]
--- error_code eval: [405, 405]
--- response_headers eval
["Allow: POST", "Allow: POST"]
--- response_body_like eval
['^\{"Message":"[^"]+"\}$', '^\{"Message":"[^"]+"\}$']
