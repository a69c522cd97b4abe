# Terminate, suspend, resume: POST B/instances/{id}/{terminate|suspend|resume}
# (docs/http-api.md): every status code, the state changes, history, reasons.
#
# Not reachable through the HTTP API today: Running and ContinuedAsNew
# instances (only the worker protocol produces them), so "resume restores
# the previous status" is checked with Pending.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks qw(rq status_re $TIME $FRAC);

repeat_each(1);

# tests per block (per request: status + body + each header line + each
# no_error_log pattern):
#    1: 6      2: 21     3: 26     4: 12     5: 14     6: 8      7: 11
plan tests => 6 + 21 + 26 + 12 + 22 + 8 + 11;

our $http_config = DurableBlocks::fresh_store('control');

our $config = $DurableBlocks::API_LOCATION;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: terminate, suspend, resume of a missing instance: 404 with an empty body
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
[main::rq(C1 => POST => 'instances/nope/terminate?reason=x'),
 main::rq(C1 => POST => 'instances/nope/suspend'),
 main::rq(C1 => POST => 'instances/nope/resume')]
--- error_code eval: [404, 404, 404]
--- response_body eval
["", "", ""]



=== TEST 2: terminate a Pending instance: 202 empty, Terminated at once; then terminate/suspend/resume are 410
--- request eval
[main::rq(C2 => POST => 'orchestrators/Hello/i1', '{"in":1}'),
 main::rq(C2 => POST => 'instances/i1/terminate?reason=enough'),
 main::rq(C2 => GET => 'instances/i1'),
 main::rq(C2 => POST => 'instances/i1/terminate?reason=again'),
 main::rq(C2 => POST => 'instances/i1/suspend'),
 main::rq(C2 => POST => 'instances/i1/resume'),
 main::rq(C2 => GET => 'instances/i1?showHistory=true')]
--- error_code eval: [202, 202, 200, 410, 410, 410, 200]
--- response_body_like eval
['^\{"id":"i1"', '^$',
 main::status_re('Hello', 'i1', 'Terminated', '{"in":1}', '"enough"'),
 '^$', '^$', '^$',
 main::status_re('Hello', 'i1', 'Terminated', '{"in":1}', '"enough"',
     ',"historyEvents":\[\{"EventType":"ExecutionTerminated","Timestamp":"' . $::FRAC . '","Input":"enough"\}\]')]
--- no_error_log
[error]



=== TEST 3: suspend (twice: a no-op), resume back to Pending (twice: a no-op); history records each change once
--- request eval
[main::rq(C3 => POST => 'orchestrators/Hello/i1'),
 main::rq(C3 => POST => 'instances/i1/suspend?reason=hold%20on'),
 main::rq(C3 => GET => 'instances/i1'),
 main::rq(C3 => POST => 'instances/i1/suspend?reason=second'),
 main::rq(C3 => GET => 'instances/i1?showHistory=true'),
 main::rq(C3 => POST => 'instances/i1/resume?reason=go'),
 main::rq(C3 => GET => 'instances/i1'),
 main::rq(C3 => POST => 'instances/i1/resume?reason=go%20again'),
 main::rq(C3 => GET => 'instances/i1'),
 main::rq(C3 => POST => 'instances/i1/terminate?reason=done'),
 main::rq(C3 => GET => 'instances/i1?showHistory=true'),
 main::rq(C3 => GET => 'instances?runtimeStatus=Terminated')]
--- error_code eval: [202, 202, 202, 202, 202, 202, 202, 202, 202, 202, 200, 200]
--- response_headers eval
["", "", "Retry-After: 5", "", "", "", "Retry-After: 5", "", "", "", "", ""]
--- response_body_like eval
['^\{"id":"i1"', '^$',
 main::status_re('Hello', 'i1', 'Suspended', 'null', 'null'),
 '^$',
 main::status_re('Hello', 'i1', 'Suspended', 'null', 'null',
     ',"historyEvents":\[\{"EventType":"ExecutionSuspended","Timestamp":"' . $::FRAC . '","Reason":"hold on"\}\]'),
 '^$',
 main::status_re('Hello', 'i1', 'Pending', 'null', 'null'),
 '^$',
 main::status_re('Hello', 'i1', 'Pending', 'null', 'null'),
 '^$',
 main::status_re('Hello', 'i1', 'Terminated', 'null', '"done"',
     ',"historyEvents":\[\{"EventType":"ExecutionSuspended","Timestamp":"' . $::FRAC . '","Reason":"hold on"\},'
     . '\{"EventType":"ExecutionResumed","Timestamp":"' . $::FRAC . '","Reason":"go"\},'
     . '\{"EventType":"ExecutionTerminated","Timestamp":"' . $::FRAC . '","Input":"done"\}\]'),
 '"instanceId":"i1","runtimeStatus":"Terminated"']



=== TEST 4: a Suspended instance can be terminated (202), and is then terminal (410)
--- request eval
[main::rq(C4 => POST => 'orchestrators/Hello/i1'),
 main::rq(C4 => POST => 'instances/i1/suspend'),
 main::rq(C4 => POST => 'instances/i1/terminate?reason=stop'),
 main::rq(C4 => GET => 'instances/i1'),
 main::rq(C4 => POST => 'instances/i1/resume'),
 main::rq(C4 => POST => 'instances/i1/suspend')]
--- error_code eval: [202, 202, 202, 200, 410, 410]
--- response_body_like eval
['^\{"id":"i1"', '^$', '^$', main::status_re('Hello', 'i1', 'Terminated', 'null', '"stop"'), '^$', '^$']



=== TEST 5: terminate reasons: JSON when they parse (number, object, string literal), else a string; blank: ""; none: null
--- request eval
[(map { main::rq(C5 => POST => "orchestrators/Hello/r$_") } 1 .. 5),
 main::rq(C5 => POST => 'instances/r1/terminate?reason=%7B%22why%22%3A%20%5Btrue%2C%20null%5D%7D'),
 main::rq(C5 => POST => 'instances/r2/terminate?reason=%22quoted%22'),
 main::rq(C5 => POST => 'instances/r3/terminate'),
 main::rq(C5 => POST => 'instances/r4/terminate?reason='),
 main::rq(C5 => POST => 'instances/r5/terminate?reason=%20+'),
 main::rq(C5 => GET => 'instances?runtimeStatus=Terminated')]
--- error_code eval: [(202) x 10, 200]
--- response_body_like eval
['^\{"id":"r1"', '^\{"id":"r2"', '^\{"id":"r3"', '^\{"id":"r4"',
 '^\{"id":"r5"', '^$', '^$', '^$', '^$', '^$',
 '^\[\{[^\}]*"instanceId":"r1"[^\}]*"output":\{"why":\[true,null\]\},[^\]]*"instanceId":"r2"[^\}]*"output":"quoted",[^\]]*"instanceId":"r3"[^\}]*"output":null,[^\]]*"instanceId":"r4"[^\}]*"output":"",[^\]]*"instanceId":"r5"[^\}]*"output":"",[^\]]*\]$']



=== TEST 6: suspend and resume reasons are stored as strings, JSON or not
--- request eval
[main::rq(C6 => POST => 'orchestrators/Hello/i1'),
 main::rq(C6 => POST => 'instances/i1/suspend?reason=123'),
 main::rq(C6 => POST => 'instances/i1/resume?reason=%22q%22'),
 main::rq(C6 => POST => 'instances/i1/terminate?reason=x'),
 ]
--- error_code eval: [202, 202, 202, 202]
--- response_body_like eval
['^\{"id":"i1"', '^$', '^$', '^$']



=== TEST 7: the stored reasons of TEST 6; GET on an operation route is 405 with Allow: POST
--- request eval
[main::rq(C6 => GET => 'instances/i1?showHistory=true'),
 main::rq(C6 => GET => 'instances/i1/terminate'),
 main::rq(C6 => DELETE => 'instances/i1/suspend'),
 main::rq(C6 => GET => 'instances/i1/resume')]
--- error_code eval: [200, 405, 405, 405]
--- response_headers eval
["", "Allow: POST", "Allow: POST", "Allow: POST"]
--- response_body_like eval
['"historyEvents":\[\{"EventType":"ExecutionSuspended","Timestamp":"[^"]+","Reason":"123"\},\{"EventType":"ExecutionResumed","Timestamp":"[^"]+","Reason":"\\\\"q\\\\""\},\{"EventType":"ExecutionTerminated","Timestamp":"[^"]+","Input":"x"\}\]\}$',
 ('^\{"Message":"[^"]+"\}$') x 3]
