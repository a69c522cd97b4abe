# A refusal must not poison a keep-alive connection: every answer the
# module sends before it has read the request body discards that body, so
# the next request on the connection is parsed from its own bytes. Each
# refused request below carries a body and is followed, on the same
# connection, by a GET that must get its own answer. The refusals nginx
# makes itself (a body over client_max_body_size, a bad percent-encoding
# in the path) close the connection instead.

use Test::Nginx::Socket;
use File::Path qw(rmtree);
use lib 't/inc';
use DurableBackend;
use DurableBlocks ();

repeat_each(1);

our $data = $ENV{TEST_NGINX_DATA_DIR} // '';

if ($data) {
    rmtree("$data/$_") for qw(keepalive ka-tiny ka-corrupt);
    DurableBlocks::corrupt_store("$data/ka-corrupt");    # answers 503
}

our $http_config = <<'_EOC_';
    durable_task_store default path=$TEST_NGINX_DATA_DIR/keepalive;
    durable_task_store corrupt path=$TEST_NGINX_DATA_DIR/ka-corrupt;
    durable_task_store tiny path=$TEST_NGINX_DATA_DIR/ka-tiny max_size=1m;
_EOC_

our $config = <<'_EOC_';
    location /k/ {
        durable_task /k;
        durable_task_keys testkey123;
        durable_task_worker_keys workerkey123;
        client_max_body_size 4k;
    }

    location /t/ {
        durable_task /t;
        durable_task_anonymous on;
        durable_task_connection tiny;
        client_max_body_size 100k;
    }
_EOC_

our $K = 'code=testkey123';
our $MSG = '^\{"Message":"[^"]+"\}$';
our $GET = "GET /k/instances/seed?$K";
our $SEED = '^\{"name":"Hello","instanceId":"seed","runtimeStatus":"Pending",'
            . '"input":"seed-in",';

# [request with a body, its status, a regex of its body]
our @REFUSALS = (
    # 400s found in the request line, before the body is read
    ["POST /k/entities/counter/k1?op=add&taskHub=A&taskHub=B&$K\n{\"n\":1}",
     400, '^\{"Message":"[^"]*taskHub[^"]*given more than once'],
    ["POST /k/orchestrators/Hello/q1?reason=" . ('r' x 5000) . "&$K\n\"in\"",
     400, '^\{"Message":"The query string is longer'],
    ["POST /k/orchestrators//e1?$K\n\"in\"",
     400, '^\{"Message":"The path has an empty segment'],
    ["POST /k/orchestrators/Hello/h1?taskHub=1bad&$K\n\"in\"",
     400, '^\{"Message":"The taskHub'],
    ["POST /k/orchestrators/Hello/c1?connection=nope&$K\n\"in\"",
     400, '^\{"Message":"The connection'],
    # a 400 found in the body, after it is read
    ["POST /k/orchestrators/Hello/j1?$K\n{bad json",
     400, $MSG],
    ["POST /k/worker/orchestrations/complete?code=workerkey123\n{bad json",
     400, $MSG],
    # 401: no key, a wrong key, an API key on a worker route
    ["POST /k/orchestrators/Hello/a1\n\"in\"",
     401, '^\{"Message":"A key is required'],
    ["POST /k/orchestrators/Hello/a2?code=wrongkey99\n\"in\"",
     401, '^\{"Message":"The key is not valid'],
    ["DELETE /k/instances/seed?code=wrongkey99\n\"in\"",
     401, '^\{"Message":"The key is not valid'],
    ["POST /k/worker/orchestrations/claim?$K\n{}",
     401, '^\{"Message":"The key is not valid'],
    # 404: no such route (also under worker/), no such instance
    ["POST /k/nothing/here?$K\n\"in\"",
     404, '^\{"Message":"No Durable Task API route'],
    ["POST /k/worker/orchestration/claim?code=workerkey123\n{}",
     404, '^\{"Message":"No Durable Task API route'],
    ["POST /k/instances/none/raiseEvent/e?$K\n\"ev\"",
     404, '^$'],
    # 405
    ["POST /k/instances/seed?$K\n\"in\"",
     405, '^\{"Message":"The method POST is not allowed'],
    ["DELETE /k/orchestrators/Hello/seed?$K\n\"in\"",
     405, '^\{"Message":"The method DELETE is not allowed'],
    ["PUT /k/entities/counter/k1?op=add&$K\n{\"n\":1}",
     405, '^\{"Message":"The method PUT is not allowed'],
    # 409: an active instance with that id
    ["POST /k/orchestrators/Hello/seed?$K\n\"again\"",
     409, '^\{"Message":"An instance with ID \'seed\' already exists'],
    # 410: an event for a terminated instance
    ["POST /k/instances/gone/raiseEvent/e?$K\n\"ev\"",
     410, '^$'],
    ["POST /k/instances/gone/terminate?reason=again&$K\n\"in\"",
     410, '^$'],
    # 412: rewinding an instance that did not fail
    ["POST /k/instances/seed/rewind?reason=r&$K\n\"in\"",
     412, '^"This orchestration has status Pending'],
    # 412: purging an active instance
    ["DELETE /k/instances/seed?$K\n\"in\"",
     412, '^"[^"]+"$'],
    # 503: a store that cannot be opened
    ["POST /k/orchestrators/Hello/u1?connection=corrupt&$K\n\"in\"",
     503, '^\{"Message":"The store \'corrupt\' is not available'],
    # 507: a full store (filled by block 2's init)
    ["POST /t/orchestrators/Hello/more\n\"" . ('m' x 2000) . '"',
     507, '^\{"Message":"The store \'tiny\' is full'],
    # refusals of read routes, whose bodies nobody reads
    ["GET /k/instances/seed?showInput=maybe&$K\n\"in\"",
     400, '^\{"Message":"[^"]*showInput'],
    ["GET /k/instances?top=1&top=2&$K\n\"in\"",
     400, '^\{"Message":"[^"]*top[^"]*given more than once'],
);

# tests per block (per request: status + body + each header line; in
# blocks 1 and 2, + no [alert] line but the corrupt store's):
#    1: 3 * 2    2: 3 * 2 * @REFUSALS (a refusal and a GET each)
#    3: 2 * 2    4: 1 + 1    5: 1 + 1    6: 3
plan tests => 3 * 2 + 3 * 2 * @REFUSALS + 2 * 2 + 2 + 2 + 3;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the instances the refusals name: seed (Pending) and gone (Terminated)
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
["POST /k/orchestrators/Hello/seed?$::K\n\"seed-in\"",
 "POST /k/orchestrators/Hello/gone?$::K"]
--- more_headers
Content-Type: application/json
--- error_code eval: [202, 202]
--- response_body_like eval
['^\{"id":"seed",', '^\{"id":"gone",']
--- no_error_log eval
# the corrupt store's failed open at start is expected, and named here
qr/\[alert\] (?!.*durable: store "corrupt": cannot open store)/



=== TEST 2: on one keep-alive connection, each refusal with a body, then a GET that gets its own answer
--- init
# the instance "gone" ends; the tiny store fills up
DurableBlocks::post('/k/instances/gone/terminate?reason=r&code=testkey123', '')->{status} == 202
    or die 'terminate gone';
for my $i (1 .. 100) {
    last if DurableBlocks::post("/t/orchestrators/Hello/fill-$i", '"' . ('x' x 60000) . '"')
            ->{status} != 202;
}
for my $i (1 .. 2000) {
    last if DurableBlocks::post("/t/orchestrators/Hello/small-$i", '"' . ('s' x 500) . '"')
            ->{status} != 202;
}
--- pipelined_requests eval
[map { ($_->[0], $::GET) } @::REFUSALS]
--- more_headers
Content-Type: application/json
--- error_code eval
[map { ($_->[1], 202) } @::REFUSALS]
--- response_body_like eval
[map { ($_->[2], $::SEED) } @::REFUSALS]
--- no_error_log eval
# the corrupt store's failed open (the 503 refusal) is expected
qr/\[alert\] (?!.*durable: store "corrupt": cannot open store)/
--- timeout: 10



=== TEST 3: a Host that is refused (400) discards the body as well
--- pipelined_requests eval
["POST /k/orchestrators/Hello/host1?$::K\n\"in\"", $::GET]
--- more_headers
Host: a@evil.com
Content-Type: application/json
--- error_code eval: [400, 400]
--- response_body_like eval
['^\{"Message":"The Host header', '^\{"Message":"The Host header']



=== TEST 4: a body over client_max_body_size: nginx's 413 closes the connection
--- raw_request eval
"POST /k/orchestrators/Hello/big1?code=testkey123 HTTP/1.1\r
Host: localhost\r
Connection: keep-alive\r
Content-Type: application/json\r
Content-Length: 5002\r
\r
\"" . ('b' x 5000) . "\""
--- error_code: 413
--- response_headers
Connection: close



=== TEST 5: a bad percent-encoding in the path: nginx's own 400 closes the connection
--- raw_request eval
"POST /k/orchestrators/Hello/r%ZZ1?code=testkey123 HTTP/1.1\r
Host: localhost\r
Connection: keep-alive\r
Content-Type: application/json\r
Content-Length: 4\r
\r
\"in\""
--- error_code: 400
--- response_headers
Connection: close



=== TEST 6: a route that allows all three methods names them all in Allow
--- request eval
"PUT /k/entities/counter/k1?op=add&$::K\n{\"n\":1}"
--- more_headers
Content-Type: application/json
--- error_code: 405
--- response_headers
Allow: GET, POST, DELETE
--- response_body_like: ^\{"Message":"The method PUT is not allowed
