# Keys, task hubs and connections (docs/http-api.md): 401s, key sources,
# anonymous locations, hub isolation and names, store selection.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks qw(rq status_re $TIME $FRAC);
use File::Path qw(rmtree);

repeat_each(1);

# tests per block (per request: status + body + each header line + each
# no_error_log pattern):
#    1: 5      2: 14     3: 12     4: 2      5: 8      6: 16     7: 33
#    8: 10     9: 12    10: 9     11: 8     12: 12    13: 3     14: 4
plan tests => 5 + 14 + 20 + 2 + 10 + 16 + 33 + 10 + 12 + 9 + 8 + 12 + 3 + 6;

if ($ENV{TEST_NGINX_DATA_DIR}) {
    rmtree("$ENV{TEST_NGINX_DATA_DIR}/$_")
        for qw(auth-a auth-b auth-c auth-d auth-broken);
    # LMDB cannot open a store whose data file is a directory
    File::Path::make_path("$ENV{TEST_NGINX_DATA_DIR}/auth-broken/data.mdb");
}

our $http_config = <<'_EOC_';
    durable_task_store default path=$TEST_NGINX_DATA_DIR/auth-a;
    durable_task_store archive path=$TEST_NGINX_DATA_DIR/auth-b;
_EOC_

our $config = <<'_EOC_';
    location ~* ^/(runtime/webhooks/durabletask|admin/extensions/durabletaskextension)(/|$) {
        durable_task;
        durable_task_keys testkey123;
        durable_task_keys otherkey456 "third key 789";
    }

    location /anon/ {
        durable_task /anon;
        durable_task_anonymous on;
    }

    location /nokeys/ {
        durable_task /nokeys;
    }

    location /arch/ {
        durable_task /arch;
        durable_task_anonymous on;
        durable_task_connection archive;
        durable_task_hub MyHub;
    }
_EOC_

our $L = '/runtime/webhooks/durabletask/instances';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: no key: 401 with a JSON message
--- http_config eval: $::http_config
--- config eval: $::config
--- request
GET /runtime/webhooks/durabletask/instances
--- error_code: 401
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like chomp
^\{"Message":"[^"]+"\}$
--- no_error_log
[error]
[alert]



=== TEST 2: wrong keys (another, a prefix, longer, other case, empty code with no header): 401
--- request eval
["GET $::L?code=wrongkey999",
 "GET $::L?code=testkey12",
 "GET $::L?code=testkey1234",
 "GET $::L?code=TESTKEY123",
 "GET $::L?code=",
 "POST /runtime/webhooks/durabletask/orchestrators/Hello/au-2?code=nope12345",
 "GET /runtime/webhooks/durabletask/instances/au-2?code=testkey123"]
--- error_code eval: [401, 401, 401, 401, 401, 401, 404]
--- response_body_like eval
[('^\{"Message":"[^"]+"\}$') x 6, '^$']



=== TEST 3: the key in code (any name case) or in x-functions-key, the header first; every configured key works
--- request eval
["GET $::L?taskHub=T3&code=testkey123",
 "GET $::L?taskHub=T3&CODE=testkey123",
 "GET $::L?taskHub=T3",
 "GET $::L?taskHub=T3",
 "GET $::L?taskHub=T3&code=third+key+789",
 "GET $::L?taskHub=T3&code=third%20key%20789",
 "GET $::L?taskHub=T3&code=stalekey000",
 "GET $::L?taskHub=T3&code=testkey123",
 "GET $::L?taskHub=T3&code=testkey123&code=otherkey456",
 "GET $::L?taskHub=T3&code=testkey123&code=otherkey456"]
--- more_headers eval
["", "", "x-functions-key: testkey123", "X-Functions-Key: otherkey456", "", "",
 "x-functions-key: testkey123", "x-functions-key: stalekey000", "",
 "x-functions-key: otherkey456"]
--- error_code eval: [200, 200, 200, 200, 200, 200, 200, 401, 400, 200]
--- response_body_like eval
[('^\[\]$') x 7, '^\{"Message":"The key is not valid for this API\."\}$',
 '^\{"Message":"The query parameter \'code\' is given more than once\."\}$',
 '^\[\]$']



=== TEST 4: a wrong x-functions-key is 401
--- request eval
"GET $::L"
--- more_headers
x-functions-key: wrongkey999
--- error_code: 401
--- response_body_like chomp
^\{"Message":"[^"]+"\}$



=== TEST 5: an anonymous location ignores a wrong code (even two) and header; a location without keys refuses everything
--- request eval
["GET /anon/instances?taskHub=T5&code=wrongkey999",
 "GET /anon/instances?taskHub=T5",
 "GET /anon/instances?taskHub=T5&code=a&code=b",
 "GET /nokeys/instances?code=testkey123",
 "GET /nokeys/instances"]
--- more_headers eval
["", "x-functions-key: wrongkey999", "", "", ""]
--- error_code eval: [200, 200, 200, 401, 401]
--- response_body_like eval
['^\[\]$', '^\[\]$', '^\[\]$', '^\{"Message":"[^"]+"\}$', '^\{"Message":"[^"]+"\}$']



=== TEST 6: task hubs are isolated; the default hub is DurableFunctionsHub
--- request eval
[main::rq(HubA => POST => 'orchestrators/Hello/h1'),
 main::rq(HubB => GET => 'instances/h1'),
 main::rq(HubB => GET => 'instances'),
 main::rq(HubB => POST => 'instances/h1/terminate'),
 main::rq(HubA => GET => 'instances/h1'),
 "POST /runtime/webhooks/durabletask/orchestrators/Hello/h-default?code=testkey123",
 main::rq(DurableFunctionsHub => GET => 'instances/h-default'),
 main::rq(HubA => GET => 'instances/h-default')]
--- error_code eval: [202, 404, 200, 404, 202, 202, 202, 404]
--- response_body_like eval
['^\{"id":"h1"', '^$', '^\[\]$', '^$', main::status_re('Hello', 'h1', 'Pending', 'null', 'null'),
 '^\{"id":"h-default"', main::status_re('Hello', 'h-default', 'Pending', 'null', 'null'), '^$']



=== TEST 7: hub names: 1-50 letters, digits, - and _, starting with a letter; otherwise 400 (one response only)
--- request eval
[main::rq('H' . ('x' x 49) => GET => 'instances'),
 main::rq('a' => GET => 'instances'),
 main::rq('A-b_9' => GET => 'instances'),
 main::rq('H' . ('x' x 50) => GET => 'instances'),
 main::rq('9lives' => GET => 'instances'),
 main::rq('_hub' => GET => 'instances'),
 main::rq('-hub' => GET => 'instances'),
 main::rq('a.b' => GET => 'instances'),
 main::rq('a+b' => GET => 'instances'),
 main::rq('a%22b' => POST => 'orchestrators/Hello/x1'),
 main::rq('h%C3%BCb' => GET => 'instances/x1')]
--- error_code eval: [200, 200, 200, (400) x 8]
--- response_body_like eval
['^\[\]$', '^\[\]$', '^\[\]$', ('^\{"Message":"[^"]*taskHub .*"\}$') x 8]
--- no_error_log
[alert]



=== TEST 8: connection=Storage, AzureWebJobsStorage and the store's own name select the default store
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/c1?code=testkey123",
 "GET $::L/c1?connection=Storage&code=testkey123",
 "GET $::L/c1?connection=AzureWebJobsStorage&code=testkey123",
 "GET $::L/c1?connection=default&code=testkey123",
 "GET $::L/c1?connection=archive&code=testkey123"]
--- error_code eval: [202, 202, 202, 202, 404]
--- response_body_like eval
['^\{"id":"c1"', ('"instanceId":"c1","runtimeStatus":"Pending"') x 3, '^$']



=== TEST 9: a second store selected by connection=archive: its data is separate
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/c2?connection=archive&code=testkey123",
 "GET $::L/c2?connection=archive&code=testkey123",
 "GET $::L/c2?code=testkey123",
 "GET $::L?connection=archive&code=testkey123",
 "DELETE $::L/c1?connection=archive&code=testkey123",
 "GET $::L/c1?code=testkey123"]
--- error_code eval: [202, 202, 404, 200, 404, 202]
--- response_body_like eval
['^\{"id":"c2",.*connection=archive&code=testkey123"\}$',
 main::status_re('Hello', 'c2', 'Pending', 'null', 'null'),
 '^$',
 '^\[\{"name":"Hello","instanceId":"c2",[^\]]*\]$',
 '^$',
 main::status_re('Hello', 'c1', 'Pending', 'null', 'null')]



=== TEST 10: an unknown connection is 400 naming it and writes nothing (connection names are exact)
--- request eval
["GET $::L?connection=nosuch&code=testkey123",
 "POST /runtime/webhooks/durabletask/orchestrators/Hello/c3?connection=Archive&code=testkey123",
 "GET $::L/c3?code=testkey123"]
--- error_code eval: [400, 400, 404]
--- response_body_like eval
['^\{"Message":"[^"]*nosuch[^"]*"\}$', '^\{"Message":"[^"]*Archive[^"]*"\}$', '^$']
--- no_error_log
[alert]



=== TEST 11: durable_task_connection and durable_task_hub set a location's defaults (Storage maps to its store)
--- request eval
["POST /arch/orchestrators/Hello/c4",
 "GET $::L/c4?connection=archive&taskHub=MyHub&code=testkey123",
 "GET /arch/instances/c4?connection=Storage",
 "GET $::L/c4?taskHub=MyHub&code=testkey123"]
--- error_code eval: [202, 202, 202, 404]
--- response_body_like eval
['^\{"id":"c4","statusQueryGetUri":"http://localhost/arch/instances/c4\?taskHub=MyHub&connection=archive",',
 main::status_re('Hello', 'c4', 'Pending', 'null', 'null'),
 main::status_re('Hello', 'c4', 'Pending', 'null', 'null'),
 '^$']



=== TEST 12: a store configured under the name Storage is selected by connection=Storage
--- http_config
    durable_task_store main path=$TEST_NGINX_DATA_DIR/auth-c;
    durable_task_store Storage path=$TEST_NGINX_DATA_DIR/auth-d;
--- config
    location /s/ {
        durable_task /s;
        durable_task_anonymous on;
    }
--- request eval
["POST /s/orchestrators/Hello/c5?connection=Storage",
 "GET /s/instances/c5",
 "GET /s/instances/c5?connection=Storage",
 "GET /s/instances/c5?connection=AzureWebJobsStorage"]
--- error_code eval: [202, 404, 202, 404]
--- response_body_like eval
['^\{"id":"c5",.*&connection=Storage"\}$', '^$', main::status_re('Hello', 'c5', 'Pending', 'null', 'null'), '^$']
--- no_error_log
[error]



=== TEST 13: a store that cannot be opened answers 503 {"Message":...} and logs why
--- http_config
    durable_task_store good path=$TEST_NGINX_DATA_DIR/auth-c;
    durable_task_store broken path=$TEST_NGINX_DATA_DIR/auth-broken;
--- config
    location /s/ {
        durable_task /s;
        durable_task_anonymous on;
    }
--- request
GET /s/instances?connection=broken
--- error_code: 503
--- response_body_like chomp
^\{"Message":"[^"]*broken[^"]*"\}$
--- error_log eval
qr/\[alert\] .*durable: store "broken": cannot open store/



=== TEST 14: writes to the broken store are 503 too; the other store still works
--- request eval
["POST /s/orchestrators/Hello/c6?connection=broken",
 "GET /s/instances?connection=good&taskHub=Empty14"]
--- error_code eval: [503, 200]
--- response_body_like eval
['^\{"Message":"[^"]*broken[^"]*"\}$', '^\[\]$']
--- no_error_log eval
qr/\[alert\] .*store "good"/
