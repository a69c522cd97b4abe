# Routing and parameters (docs/http-api.md): prefixes, case, slashes,
# percent-decoding, unknown routes, methods, query parameter rules.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks qw(rq status_re $TIME $FRAC);

repeat_each(1);

# tests per block (per request: status + body + each header line + each
# no_error_log pattern):
#    1: 12     2: 12     3: 18     4: 16     5: 10     6: 30     7: 24
#    8: 12     9: 20    10: 14    11: 10    12: 4     13: 20
plan tests => 12 + 12 + 18 + 16 + 10 + 30 + 24 + 12 + 20 + 14 + 10 + 12 + 4 + 20;

our $http_config = DurableBlocks::fresh_store('routing');

our $config = $DurableBlocks::API_LOCATION . <<'_EOC_';
    location /durabletask/ {
        durable_task /durabletask;
        durable_task_anonymous on;
    }

    location /api/ {
        durable_task /api/one /api/two/;
        durable_task_anonymous on;
    }
_EOC_

our $W = '/runtime/webhooks/durabletask';
our $A = '/admin/extensions/DurableTaskExtension';
our $K = 'code=testkey123';
our $MSG = '^\{"Message":"[^"]+"\}$';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: both standard prefixes serve the same hub and store
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
["POST $::W/orchestrators/Hello/r1?$::K",
 "GET $::A/instances/r1?$::K",
 "POST $::A/orchestrators/Hello/r1b?$::K",
 "GET $::W/instances/r1b?$::K"]
--- error_code eval: [202, 202, 202, 202]
--- response_body_like eval
['^\{"id":"r1"', main::status_re('Hello', 'r1', 'Pending', 'null', 'null'),
 '^\{"id":"r1b"', main::status_re('Hello', 'r1b', 'Pending', 'null', 'null')]
--- no_error_log
[error]



=== TEST 2: custom prefixes (durable_task /durabletask; durable_task /api/one /api/two/;) serve the API
--- request eval
["POST /durabletask/orchestrators/Hello/r2",
 "GET /durabletask/instances/r2",
 "GET /api/one/instances/r2",
 "GET /api/two/instances/r2",
 "GET /api/three/instances/r2",
 "GET /api/onex/instances/r2"]
--- error_code eval: [202, 202, 202, 202, 404, 404]
--- response_body_like eval
['^\{"id":"r2","statusQueryGetUri":"http://localhost/durabletask/instances/r2\?',
 (main::status_re('Hello', 'r2', 'Pending', 'null', 'null')) x 3,
 $::MSG, $::MSG]



=== TEST 3: literal path words match case-insensitively; variable segments keep their case
--- request eval
["POST /RUNTIME/Webhooks/DurableTask/ORCHESTRATORS/Hello/R3?$::K",
 "GET /Runtime/Webhooks/DurableTask/Instances/R3?$::K",
 "GET /admin/EXTENSIONS/durabletaskextension/instances/R3?$::K",
 "GET $::W/instances/r3?$::K",
 "POST $::W/Instances/R3/RaiseEvent/Go?$::K",
 "POST $::W/INSTANCES/R3/SUSPEND?$::K",
 "POST $::W/instances/R3/Resume?$::K",
 "POST $::W/instances/R3/TeRmInAtE?$::K",
 "GET $::W/instances/R3?$::K"]
--- more_headers
Content-Type: application/json
--- error_code eval: [202, 202, 202, 404, 202, 202, 202, 202, 200]
--- response_body_like eval
['^\{"id":"R3"', (main::status_re('Hello', 'R3', 'Pending', 'null', 'null')) x 2, '^$',
 '^$', '^$', '^$', '^$', main::status_re('Hello', 'R3', 'Terminated', 'null', 'null')]



=== TEST 4: leading and trailing slashes are ignored; an empty segment inside the path is 400
--- request eval
["GET $::W/instances/r1/?$::K",
 "GET $::W//instances/r1?$::K",
 "GET $::W///instances/r1///?$::K",
 "GET $::W/instances/?taskHub=Empty4&$::K",
 "GET $::W/instances//r1?$::K",
 "POST $::W/instances/r1//terminate?$::K",
 "POST $::W/orchestrators//Hello?$::K",
 "GET /durabletask//instances/r2//"]
--- error_code eval: [202, 202, 202, 200, 400, 400, 400, 202]
--- response_body_like eval
[(main::status_re('Hello', 'r1', 'Pending', 'null', 'null')) x 3, '^\[\]$',
 $::MSG, $::MSG, $::MSG, main::status_re('Hello', 'r2', 'Pending', 'null', 'null')]



=== TEST 5: path segments are percent-decoded and + is a space
--- request eval
["POST $::W/orchestrators/Hel%6Co/a%20b%2Bc?$::K",
 "GET $::W/instances/a+b%2Bc?$::K",
 "GET $::W/instances/a%20b+c?$::K",
 "GET $::W/instances/a%20b%2bc?$::K",
 "GET $::W/%69nstances/a+b%2Bc?$::K"]
--- error_code eval: [202, 202, 404, 202, 202]
--- response_body_like eval
['^\{"id":"a b\+c","statusQueryGetUri":"http://localhost/runtime/webhooks/durabletask/instances/a\+b%2Bc\?',
 main::status_re('Hello', 'a b+c', 'Pending', 'null', 'null'), '^$',
 main::status_re('Hello', 'a b+c', 'Pending', 'null', 'null'),
 main::status_re('Hello', 'a b+c', 'Pending', 'null', 'null')]



=== TEST 6: unknown routes under B are 404 with a JSON message
--- request eval
["GET $::W/nonsense?$::K",
 "GET $::W?$::K",
 "GET $::W/?$::K",
 "POST $::W/orchestrators?$::K",
 "POST $::W/orchestrators/Hello/r6/extra?$::K",
 "POST $::W/instances/r1/unknownop?$::K",
 "POST $::W/instances/r1/raiseEvent?$::K",
 "POST $::W/instances/r1/notRaise/Go?$::K",
 "GET $::W/instances/r1/raiseEvent/Go/more?$::K",
 "GET $::W/makeprimary?$::K"]
--- error_code eval: [(404) x 10]
--- response_headers eval
[("Content-Type: application/json; charset=utf-8") x 10]
--- response_body_like eval
[($::MSG) x 10]



=== TEST 7: a method not listed for a route is 405 with an Allow header
--- request eval
["PUT $::W/instances?$::K",
 "POST $::W/instances?$::K",
 "POST $::W/instances/r1?$::K",
 "PATCH $::W/instances/r1?$::K",
 "GET $::W/orchestrators/Hello?$::K",
 "DELETE $::W/orchestrators/Hello/r1?$::K",
 "GET $::W/instances/r1/terminate?$::K",
 "PUT /durabletask/instances/r2/suspend"]
--- error_code eval: [(405) x 8]
--- response_headers eval
["Allow: GET, DELETE", "Allow: GET, DELETE", "Allow: GET, DELETE", "Allow: GET, DELETE",
 "Allow: POST", "Allow: POST", "Allow: POST", "Allow: POST"]
--- response_body_like eval
[($::MSG) x 8]



=== TEST 8: query parameter names are case-insensitive; unknown parameters and names without '=' are ignored
--- request eval
["POST $::W/orchestrators/Hello/r8?TASKHUB=Q8&$::K\n\"in\"",
 "GET $::W/instances/r8?SHOWINPUT=false&taskhub=Q8&$::K",
 "GET $::W/instances/r8?ShowInput=FALSE&TaskHub=Q8&foo=bar&$::K",
 "GET $::W/instances/r8?showInput&TaskHub=Q8&=x&$::K",
 "GET $::W/instances?RuntimeStatus=pending&InstanceIdPrefix=r&TOP=1&TaskHub=Q8&$::K",
 "GET $::W/instances/r8?taskHub=Q8&$::K"]
--- error_code eval: [202, 202, 202, 202, 200, 202]
--- response_body_like eval
['^\{"id":"r8",.*taskHub=Q8&',
 main::status_re('Hello', 'r8', 'Pending', 'null', 'null'),
 main::status_re('Hello', 'r8', 'Pending', 'null', 'null'),
 main::status_re('Hello', 'r8', 'Pending', '"in"', 'null'),
 '^\[\{"name":"Hello","instanceId":"r8",[^\]]*\]$',
 main::status_re('Hello', 'r8', 'Pending', '"in"', 'null')]



=== TEST 9: a parameter given twice (any case) with different values is 400; the same (decoded) value again is accepted; runtimeStatus lists every value
--- request eval
["GET $::W/instances/r1?showInput=true&showInput=true&$::K",
 "GET $::W/instances/r1?showInput=true&SHOWINPUT=false&$::K",
 "GET $::W/instances?top=5&top=6&$::K",
 "GET $::W/instances?taskHub=A&TaskHub=B&$::K",
 "GET $::W/instances/r1?$::K&$::K",
 "POST $::W/orchestrators/Hello/r9?$::K&timeout=1&timeout=2",
 "GET $::W/instances/r9?$::K",
 "POST $::W/entities/counter/k9?op=add&taskHub=Q9&TASKHUB=Q%39&$::K\n1",
 "GET $::W/instances?taskHub=DurableFunctionsHub&TaskHub=DurableFunctions%48ub&instanceIdPrefix=r1b&$::K",
 "GET $::W/instances?runtimeStatus=Pending&runtimeStatus=Terminated&instanceIdPrefix=r1b&$::K"]
--- more_headers
Content-Type: application/json
--- error_code eval: [202, 400, 400, 400, 202, 400, 404, 202, 200, 200]
--- response_body_like eval
[main::status_re('Hello', 'r1', 'Pending', 'null', 'null'),
 '^\{"Message":"[^"]*showInput[^"]*"\}$',
 '^\{"Message":"[^"]*top[^"]*"\}$', '^\{"Message":"[^"]*taskHub[^"]*"\}$',
 main::status_re('Hello', 'r1', 'Pending', 'null', 'null'),
 '^\{"Message":"[^"]*timeout[^"]*"\}$', '^$', '^$',
 '^\[\{"name":"Hello","instanceId":"r1b",[^\]]*\]$',
 '^\[\{"name":"Hello","instanceId":"r1b",[^\]]*\]$']



=== TEST 10: bad percent-encoding in the path is 400 (module or nginx); in a query value a stray % is text
--- request eval
["GET $::W/instances/r%ZZ1?$::K",
 "GET $::W/instances/r1%2?$::K",
 "GET $::W/instances/r%2x1?$::K",
 "GET $::W/instances/r1?showInput=%ZZ&$::K",
 "POST $::W/orchestrators/Hello/r10?$::K",
 "POST $::W/instances/r10/terminate?reason=50%%20done%&$::K",
 "GET $::W/instances/r10?$::K"]
--- error_code eval: [400, 400, 400, 400, 202, 202, 200]
--- response_body_like eval
['', '', '', '^\{"Message":"[^"]*showInput[^"]*"\}$', '^\{"id":"r10"', '^$',
 main::status_re('Hello', 'r10', 'Terminated', 'null', '"50% done%"')]



=== TEST 11: query values are percent-decoded with + as a space
--- request eval
["POST $::W/orchestrators/Hello/sp%20ace?taskHub=Q11&$::K",
 "GET $::W/instances?instanceIdPrefix=sp+a&taskHub=Q11&$::K",
 "GET $::W/instances?instanceIdPrefix=sp%20a&taskHub=Q11&$::K",
 "GET $::W/instances?instanceIdPrefix=sp%2Ba&taskHub=Q11&$::K",
 "GET $::W/instances?taskHub=Q%31%31&$::K"]
--- error_code eval: [202, 200, 200, 200, 200]
--- response_body_like eval
['^\{"id":"sp ace"',
 ('^\[\{"name":"Hello","instanceId":"sp ace",[^\]]*\]$') x 2, '^\[\]$',
 '^\[\{"name":"Hello","instanceId":"sp ace",[^\]]*\]$']



=== TEST 12: an escaped space at the edge of instanceIdPrefix is the prefix's
--- request eval
["POST $::W/orchestrators/Hello/sp%20ace?taskHub=Q12&$::K",
 "POST $::W/orchestrators/Hello/spx?taskHub=Q12&$::K",
 "GET $::W/instances?instanceIdPrefix=sp%20&taskHub=Q12&$::K",
 "GET $::W/instances?instanceIdPrefix=sp+&taskHub=Q12&$::K",
 "GET $::W/instances?instanceIdPrefix=%20&taskHub=Q12&$::K",
 "GET $::W/instances?instanceIdPrefix=sp&top=%202%20&taskHub=Q12&$::K"]
--- error_code eval: [202, 202, 200, 200, 200, 200]
--- response_body_like eval
['^\{"id":"sp ace"', '^\{"id":"spx"',
 ('^\[\{"name":"Hello","instanceId":"sp ace",[^\]]*\}\]$') x 2, '^\[\]$',
 '^\[\{"name":"Hello","instanceId":"sp ace",.*"instanceId":"spx",.*\]$']



=== TEST 13: a query string over durable_task_max_query is 400 JSON
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/routing-maxq;
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
        durable_task_max_query 64;
    }
--- request eval
["GET /runtime/webhooks/durabletask/instances?runtimeStatus=" . ("Running," x 10),
 "GET /runtime/webhooks/durabletask/instances?runtimeStatus=Running,Pending"]
--- error_code eval
[400, 200]
--- response_body_like eval
['^\{"Message":"The query string is longer than 64 bytes\."\}$', '^\[\]$']



=== TEST 14: an unknown worker route is a JSON 404 for a worker key (or an API key); without a valid key it is 401 like every path
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/routing-w;
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_keys testkey123;
        durable_task_worker_keys workerkey123;
    }
--- request eval
["POST $::W/worker/orchestration/claim?code=workerkey123",
 "POST $::W/worker/orchestrations/claims?code=workerkey123",
 "POST $::W/workers/orchestrations/claim?code=workerkey123",
 "POST $::W/worker/orchestration/claim?$::K",
 "POST $::W/worker/orchestration/claim",
 "POST $::W/worker/orchestration/claim?code=wrongkey99",
 "POST $::W/worker/orchestrations/claim?$::K",
 "GET $::W/worker/orchestrations/claim?code=workerkey123",
 "GET $::W/instances/w1?code=workerkey123",
 "POST $::W/worker/orchestrations/claim?code=workerkey123"]
--- error_code eval: [404, 404, 404, 404, 401, 401, 401, 405, 401, 200]
--- response_body_like eval
[('^\{"Message":"No Durable Task API route matches this path\."\}$') x 4,
 '^\{"Message":"A key is required', ('^\{"Message":"The key is not valid') x 2,
 '^\{"Message":"The method GET is not allowed here; allowed: POST\."\}$',
 '^\{"Message":"The key is not valid', '^\{"items":\[\]']
