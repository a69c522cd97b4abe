# A store that answers reads late (durable_task_store ... reads=later, as a
# store on the network would): every read of the API and the metrics page
# holds its request until the answer comes, an event later, and then
# answers as with a store that answers at once. Such a store answers the
# writes of a batch last first: an array of completions is answered
# whichever of its calls comes last. The last block checks in the debug
# log that the reads were answered later indeed.

use Test::Nginx::Socket;
use lib 't/inc';
use DurableBackend;
use File::Path qw(rmtree);

repeat_each(1);
log_level('debug');
no_shuffle();

my $v = `$Test::Nginx::Util::NginxBinary -V 2>&1`;
if ($v !~ /--with-debug/) {
    plan skip_all => 'nginx without --with-debug';
} else {
    # per block: the status and the body; the last block one log line
    plan tests => repeat_each() * (blocks() * 2 + 1);
}

rmtree("$ENV{TEST_NGINX_DATA_DIR}/late-reads") if $ENV{TEST_NGINX_DATA_DIR};

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', <<'EOF_HTTP');
    durable_task_store late path=$TEST_NGINX_DATA_DIR/late-reads
                       reads=later;
EOF_HTTP

    $block->set_value('config', <<'EOF_CONFIG');
    location /l/ {
        durable_task /l;
        durable_task_connection late;
        durable_task_anonymous on;
    }

    location = /metrics {
        durable_task_metrics;
        durable_task_anonymous on;
    }
EOF_CONFIG
});

run_tests();

__DATA__

=== TEST 1: a start is a write: answered once its batch is durable
--- request
POST /l/orchestrators/Hello/lr1
--- error_code: 202
--- response_body_like: ^\{"id":"lr1"



=== TEST 2: its status (Pending: no worker runs here)
--- request
GET /l/instances/lr1
--- error_code: 202
--- response_body_like: "runtimeStatus":"Pending"



=== TEST 3: an instance that does not exist is 404
--- request
GET /l/instances/lr-none
--- error_code: 404
--- response_body:



=== TEST 4: a list page
--- request
GET /l/instances?instanceIdPrefix=lr
--- error_code: 200
--- response_body_like: ^\[\{"name":"Hello","instanceId":"lr1",



=== TEST 5: a status long-poll reads late on every look and ends at its deadline
--- request
GET /l/instances/lr1?wait=2
--- error_code: 202
--- response_body_like: "runtimeStatus":"Pending"



=== TEST 6: a start with timeout= reads its status late until the timeout
--- request
POST /l/orchestrators/Hello/lr2?timeout=2
--- error_code: 202
--- response_body_like: "statusQueryGetUri":



=== TEST 7: an event with a bad body for a missing instance is 404 first
--- request
POST /l/instances/lr-none/raiseEvent/Go
not json
--- more_headers
Content-Type: application/json
--- error_code: 404
--- response_body:



=== TEST 8: an entity without state is 404
--- request
GET /l/entities/counter/c1
--- error_code: 404
--- response_body:



=== TEST 9: the entity list is read late
--- request
GET /l/entities
--- error_code: 200
--- response_body: []



=== TEST 10: the metrics page reads the store late
--- request
GET /metrics
--- error_code: 200
--- response_body_like: durable_instances\{store="late",hub="DurableFunctionsHub",runtime_status="Pending"\} 2



=== TEST 11: an array of completions answered last first is answered
--- request eval
'POST /l/worker/orchestrations/complete
[{"instanceId":"nope-1","lease":"' . ('0' x 32) . '"},
 {"instanceId":"nope-2","lease":"' . ('1' x 32) . '"},
 {"instanceId":"nope-3","lease":"' . ('2' x 32) . '"}]'
--- error_code: 200
--- response_body_like: ^\[\{"status":(\d+),"Message":"[^"]+"\},\{"status":\1,"Message":"[^"]+"\},\{"status":\1,"Message":"[^"]+"\}\]$
--- timeout: 5



=== TEST 12: the reads were answered after the event that made them
--- request
GET /l/instances/lr1
--- error_code: 202
--- response_body_like: "runtimeStatus":"Pending"
--- error_log
durable store "late": reads answered later
