# Raise an event: POST B/instances/{id}/raiseEvent/{eventName}
# (docs/http-api.md: "Raise an event").
#
# Not observable through the HTTP API today: the queued event itself (the
# inbox is read by the worker protocol, not yet served).

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks qw(rq status_re $TIME $FRAC);

repeat_each(1);

# tests per block (per request: status + body + each header line + each
# no_error_log pattern):
#    1: 15     2: 8      3: 2      4: 6      5: 10     6: 12     7: 12
#    8: 16
plan tests => 15 + 8 + 2 + 6 + 10 + 12 + 12 + 20;

our $http_config = DurableBlocks::fresh_store('raise');

our $config = $DurableBlocks::API_LOCATION;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: raise to a Pending instance: 202 with an empty body (JSON media type in any spelling)
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
[main::rq(E1 => POST => 'orchestrators/Hello/p1'),
 main::rq(E1 => POST => 'instances/p1/raiseEvent/Approval', '{"ok": true}'),
 main::rq(E1 => POST => 'instances/p1/raiseEvent/Approval', '"again"'),
 main::rq(E1 => POST => 'instances/p1/raiseEvent/Other%20Name', '[1, 2]'),
 main::rq(E1 => GET => 'instances/p1')]
--- more_headers eval
["Content-Type: application/json",
 "Content-Type: application/json",
 "Content-Type: application/json; charset=utf-8",
 "Content-Type: Application/JSON",
 ""]
--- error_code eval: [202, 202, 202, 202, 202]
--- response_body eval
[qr/^\{"id":"p1"/, "", "", "", qr/"runtimeStatus":"Pending"/]
--- no_error_log
[error]



=== TEST 2: raise to a Suspended instance: 202 (kept until the worker takes it); it stays Suspended
--- request eval
[main::rq(E2 => POST => 'orchestrators/Hello/s1'),
 main::rq(E2 => POST => 'instances/s1/suspend'),
 main::rq(E2 => POST => 'instances/s1/raiseEvent/Go', '1'),
 main::rq(E2 => GET => 'instances/s1')]
--- more_headers
Content-Type: application/json
--- error_code eval: [202, 202, 202, 202]
--- response_body_like eval
['^\{"id":"s1"', '^$', '^$', main::status_re('Hello', 's1', 'Suspended', 'null', 'null')]



=== TEST 3: raise to a missing instance: 404, empty body
--- request eval
main::rq(E3 => POST => 'instances/nope/raiseEvent/Go', '1')
--- more_headers
Content-Type: application/json
--- error_code: 404
--- response_body



=== TEST 4: raise to a terminated instance: 410, empty body
--- request eval
[main::rq(E4 => POST => 'orchestrators/Hello/t1'),
 main::rq(E4 => POST => 'instances/t1/terminate'),
 main::rq(E4 => POST => 'instances/t1/raiseEvent/Go', '1')]
--- more_headers
Content-Type: application/json
--- error_code eval: [202, 202, 410]
--- response_body eval
[qr/^\{"id":"t1"/, "", ""]



=== TEST 5: a media type other than application/json is 400 {"Message":...}
--- request eval
[main::rq(E5 => POST => 'orchestrators/Hello/p1'),
 main::rq(E5 => POST => 'instances/p1/raiseEvent/Go', '1'),
 main::rq(E5 => POST => 'instances/p1/raiseEvent/Go', '1'),
 main::rq(E5 => POST => 'instances/p1/raiseEvent/Go', '1'),
 main::rq(E5 => POST => 'instances/p1/raiseEvent/Go', '1')]
--- more_headers eval
["", "Content-Type: text/plain", "Content-Type: application/jsonx", "Content-Type: application/x-www-form-urlencoded", ""]
--- error_code eval: [202, 400, 400, 400, 400]
--- response_body_like eval
['^\{"id":"p1"', ('^\{"Message":"[^"]*application/json[^"]*"\}$') x 4]



=== TEST 6: a body that is not valid JSON is 400; an empty body is null data (202)
--- request eval
[main::rq(E6 => POST => 'orchestrators/Hello/p1'),
 main::rq(E6 => POST => 'instances/p1/raiseEvent/Go', '{"a":'),
 main::rq(E6 => POST => 'instances/p1/raiseEvent/Go', 'not json'),
 main::rq(E6 => POST => 'instances/p1/raiseEvent/Go', '{"n":1e999}'),
 main::rq(E6 => POST => 'instances/p1/raiseEvent/Go'),
 main::rq(E6 => POST => 'instances/p1/raiseEvent/Go', '"incr"')]
--- more_headers
Content-Type: application/json
--- error_code eval: [202, 400, 400, 400, 202, 202]
--- response_body_like eval
['^\{"id":"p1"', ('^\{"Message":"[^"]+"\}$') x 3, '^$', '^$']



=== TEST 7: order of checks: a missing instance with a bad body or media type is 404, a terminated one 410
--- request eval
[main::rq(E7 => POST => 'instances/nope/raiseEvent/Go', '{bad'),
 main::rq(E7 => POST => 'instances/nope/raiseEvent/Go', '1'),
 main::rq(E7 => POST => 'orchestrators/Hello/t1'),
 main::rq(E7 => POST => 'instances/t1/terminate'),
 main::rq(E7 => POST => 'instances/t1/raiseEvent/Go', '{bad'),
 main::rq(E7 => POST => 'instances/t1/raiseEvent/Go', '1')]
--- more_headers eval
["Content-Type: application/json", "Content-Type: text/plain", "", "",
 "Content-Type: application/json", "Content-Type: text/plain"]
--- error_code eval: [404, 404, 202, 202, 410, 410]
--- response_body eval
["", "", qr/^\{"id":"t1"/, "", "", ""]



=== TEST 8: an event name with '/', '?', '#' or control characters is 400, before an id too long for any instance; other methods are 405
--- request eval
[main::rq(E8 => POST => 'orchestrators/Hello/p1'),
 main::rq(E8 => POST => 'instances/p1/raiseEvent/a%2Fb', '1'),
 main::rq(E8 => POST => 'instances/p1/raiseEvent/a%3Fb', '1'),
 main::rq(E8 => POST => 'instances/p1/raiseEvent/a%23b', '1'),
 main::rq(E8 => POST => 'instances/p1/raiseEvent/a%0Ab', '1'),
 main::rq(E8 => GET => 'instances/p1/raiseEvent/Go'),
 main::rq(E8 => DELETE => 'instances/p1/raiseEvent/Go'),
 main::rq(E8 => POST => 'instances/' . ('x' x 300) . '/raiseEvent/a%2Fb', '1'),
 main::rq(E8 => POST => 'instances/' . ('x' x 300) . '/raiseEvent/Go', '1')]
--- more_headers
Content-Type: application/json
--- error_code eval: [202, 400, 400, 400, 400, 405, 405, 400, 404]
--- response_headers eval
["", "", "", "", "", "Allow: POST", "Allow: POST", "", ""]
--- response_body_like eval
['^\{"id":"p1"', ('^\{"Message":"[^"]*event name[^"]*"\}$') x 4, ('^\{"Message":"[^"]+"\}$') x 2,
 '^\{"Message":"[^"]*event name[^"]*"\}$', '^$']
