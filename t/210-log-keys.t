# No key in the error-log lines the module writes, at any level, their
# request-line context included: the module logs through a copy of the
# request's log that masks the value of every code= parameter. nginx
# writes no request context on debug lines, so the module's debug lines
# (blocks 3 and 4) carry none. (nginx core's own lines are nginx's: see
# docs/keys-and-logs.md.)

use Test::Nginx::Socket;
use lib 't/inc';
use DurableBackend;
use File::Path qw(rmtree);

repeat_each(1);
no_shuffle();
log_level('debug');

# per block: status + error_log + no_error_log; block 1 has 2 error_log
# lines; blocks 1, 3 and 4 check that no [alert] but the broken store's
# (its failed open when the worker starts, LMDB only) is logged
plan tests => 3 * blocks() + 1 + 3;

our $http_config = <<'_EOC_';
    durable_task_store default path=$TEST_NGINX_DATA_DIR/log-keys;
    durable_task_store broken path=$TEST_NGINX_DATA_DIR/log-keys-broken;
_EOC_

rmtree("$ENV{TEST_NGINX_DATA_DIR}/log-keys");

# a store whose directory holds a directory named data.mdb cannot open
mkdir "$ENV{TEST_NGINX_DATA_DIR}/log-keys-broken";
mkdir "$ENV{TEST_NGINX_DATA_DIR}/log-keys-broken/data.mdb";

run_tests();

__DATA__

=== TEST 1: a wrong key is logged without the key
--- http_config eval: $::http_config
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_keys systemkey-1234;
    }
--- request
GET /runtime/webhooks/durabletask/instances?code=guessed-secret-99
--- error_code: 401
--- error_log
durable: request with a wrong key
request: "GET /runtime/webhooks/durabletask/instances?code=*** HTTP/1.1"
--- no_error_log eval
[qr/durable:.*guessed-secret-99/,
 qr/\[alert\] (?!.*durable: store "broken": cannot open store)/]



=== TEST 2: a store failure is logged without the key, wherever it is
--- http_config eval: $::http_config
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_keys systemkey-1234;
    }
--- init
# past the one-second retry pause, so this request opens the store again
select undef, undef, undef, 1.2;
--- request
GET /runtime/webhooks/durabletask/instances?connection=broken&taskHub=H&CODE=systemkey-1234
--- error_code: 503
--- error_log eval
qr{\[alert\] .*request: "GET /runtime/webhooks/durabletask/instances\?connection=broken&taskHub=H&CODE=\*\*\* HTTP/1\.1"}
--- no_error_log eval
qr/durable:.*systemkey-1234/



=== TEST 3: the module's debug lines carry no key: a start that waits
--- http_config eval: $::http_config
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_keys systemkey-1234;
    }
--- request
POST /runtime/webhooks/durabletask/orchestrators/Hello/lk3?timeout=1&code=systemkey-1234
--- error_code: 202
--- error_log eval
qr/\[debug\] .*durable wait: reading the status of "lk3"$/
--- no_error_log eval
[qr/durable [a-z]+: .*systemkey-1234/,
 qr/\[alert\] (?!.*durable: store "broken": cannot open store)/]



=== TEST 4: the module's debug lines carry no key: a worker claim
--- http_config eval: $::http_config
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_keys systemkey-1234;
        durable_task_worker_keys workerkey-5678;
    }
--- request
POST /runtime/webhooks/durabletask/worker/orchestrations/claim?wait=0&code=workerkey-5678
--- error_code: 200
--- error_log eval
qr/\[debug\] .*durable claim: \d+ items, \d+ of other names, kind:\d+$/
--- no_error_log eval
[qr/durable [a-z]+: .*workerkey-5678/,
 qr/\[alert\] (?!.*durable: store "broken": cannot open store)/]
