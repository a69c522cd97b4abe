# How a status long-poll (GET .../instances/{id}?wait=N) watches its
# instance: a store notification (a terminate, a worker's completion, from
# any nginx worker process) wakes it at once; without one it reads the
# instance again only once a second, so idle long-polls cost no reads.

use Test::Nginx::Socket;
use File::Path qw(rmtree);
use lib 't/inc';
use DurableBackend;
use DurableBlocks ();

repeat_each(1);
log_level('debug');

# per block: status + body; blocks 2 and 3 add grep_error_log_out, block 4
# its init's pass
plan tests => repeat_each() * (blocks() * 2 + 3);

rmtree("$ENV{TEST_NGINX_DATA_DIR}/status-wait") if $ENV{TEST_NGINX_DATA_DIR};

add_cleanup_handler(\&DurableBlocks::reap_children);

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', <<'EOF_HTTP');
    durable_task_store default path=$TEST_NGINX_DATA_DIR/status-wait;
EOF_HTTP

    $block->set_value('config', <<'EOF_CONFIG');
    location /w/ {
        durable_task /w;
        durable_task_anonymous on;
    }
EOF_CONFIG
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: an instance to wait on (Pending: no worker runs here)
--- request
POST /w/orchestrators/Hello/lp1
--- error_code: 202
--- response_body_like: ^\{"id":"lp1",



=== TEST 2: a 3 s long-poll with no write meanwhile reads about once a second, not every 50 ms
--- request
GET /w/instances/lp1?wait=3
--- error_code: 202
--- response_body_like: "runtimeStatus":"Pending"
--- grep_error_log: durable wait: handler, news:1
--- grep_error_log_out eval
qr/\A(?:durable wait: handler, news:1\n){1,5}\z/
--- timeout: 8



=== TEST 3: a start in between is a notification: it wakes the long-poll, which reads once more and goes on waiting
--- init
DurableBlocks::later(0.5, 'POST', '/w/orchestrators/Hello/lp-other');
--- request
GET /w/instances/lp1?wait=2
--- error_code: 202
--- response_body_like: "runtimeStatus":"Pending"
--- grep_error_log: durable wait: woken, notifications
--- grep_error_log_out eval
qr/\A(?:durable wait: woken, notifications\n){1,4}\z/
--- timeout: 8



=== TEST 4: a terminate ends the long-poll with the new status
--- init
DurableBlocks::later(0.3, 'POST', '/w/instances/lp1/terminate?reason=stop');
Test::More::pass('terminate scheduled');
--- request
GET /w/instances/lp1?wait=20
--- error_code: 200
--- response_body_like: "runtimeStatus":"Terminated"
--- timeout: 5
