# How a start that waits for completion (timeout=...) watches its
# instance: a store notification (a worker's completion, a terminate...)
# wakes it at once; without one it reads the status every pollingInterval,
# and an interval below 1 s counts as 1 s, so pollingInterval=0 does not
# make each waiter read the store every millisecond.

use Test::Nginx::Socket;
use File::Path qw(rmtree);
use lib 't/inc';
use DurableBackend;
use DurableBlocks ();

repeat_each(1);
log_level('debug');

# tests per block (per request: status + body; grep_error_log_out: 1;
# init blocks add their own Perl checks):
#    1: 2 + 1    2: 2 + 1    3: 1 + 2
plan tests => 3 + 3 + 3;

rmtree("$ENV{TEST_NGINX_DATA_DIR}/start-wait") if $ENV{TEST_NGINX_DATA_DIR};

add_cleanup_handler(\&DurableBlocks::reap_children);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: pollingInterval=0: a 3 s wait reads the status about once a second, not every millisecond
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/start-wait;
--- config
    location /w/ {
        durable_task /w;
        durable_task_anonymous on;
    }
--- request
POST /w/orchestrators/Hello/sw1?timeout=3&pollingInterval=0
--- error_code: 202
--- response_body_like: ^\{"id":"sw1",
--- grep_error_log: durable wait: reading the status of "sw1"
--- grep_error_log_out eval
qr/\A(?:durable wait: reading the status of "sw1"\n){2,8}\z/
--- timeout: 8



=== TEST 2: retryInterval=0.001 counts as 1 s too
--- request
POST /w/orchestrators/Hello/sw2?timeout=2&retryInterval=0.001
--- error_code: 202
--- response_body_like: ^\{"id":"sw2",
--- grep_error_log: durable wait: reading the status of "sw2"
--- grep_error_log_out eval
qr/\A(?:durable wait: reading the status of "sw2"\n){2,6}\z/
--- timeout: 8



=== TEST 3: a notification (here a terminate) wakes the wait long before its pollingInterval of 8 s
--- init
DurableBlocks::later(0.5, 'POST', '/w/instances/sw3/terminate?reason=stop');
Test::More::pass('terminate scheduled');
--- request
POST /w/orchestrators/Hello/sw3?timeout=10&pollingInterval=8
--- error_code: 200
--- response_body_like: ^\{"name":"Hello","instanceId":"sw3","runtimeStatus":"Terminated",
--- timeout: 5
