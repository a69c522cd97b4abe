# At the debug level the error log tells what happened to a write: the
# glue logs when a request submits an op and when the store answers it,
# with the store's answer (rc 0: applied; 1: not found; ds_rc_e in
# store/durable_store.h), and the store logs each step of its writer:
# queued, batch started (in a thread or the loop), applied, claimed
# items rendered after the commit, committed, done (its ops are answered
# next); the worker protocol logs what a claim leased and what a
# completion did. Debian's nginx is built --with-debug;
# without debug logging compiled in these lines do not exist, and the
# blocks are skipped.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks ();
use DurableClient qw(api);

repeat_each(1);
log_level('debug');

# per block: the status and the log lines
if (!DurableBlocks::debug_build()) {
    plan skip_all => 'nginx without --with-debug';
} else {
    plan tests => repeat_each() * (blocks() * 2);
}

# the stores of the blocks, new for each run of the file: the instances
# of a run before would make the starts 409
DurableBlocks::fresh_dirs(qw(debug-trace debug-trace-loop debug-trace-pool));

our $http_config = <<'_EOC_';
    durable_task_store default path=$TEST_NGINX_DATA_DIR/debug-trace;
_EOC_

our $config = <<'_EOC_';
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
_EOC_

our $B = '/runtime/webhooks/durabletask';

# start $id in a hub of its own (the other blocks' instances wait in the
# default one), claim its first episode and complete it with one action
sub episode {
    my ($id) = @_;
    my ($r, $item);
    my $hub = 'taskHub=Trace';

    $r = api('POST', "$B/orchestrators/Hello/$id?$hub", '');
    die "start: $r->{status}" unless $r->{status} == 202;

    $r = api('POST', "$B/worker/orchestrations/claim?$hub", '');
    die "claim: $r->{status}" unless $r->{status} == 200;
    ($item) = @{ $r->{json}{items} };
    die "nothing claimed" unless $item;

    $r = api('POST', "$B/worker/orchestrations/complete?$hub",
             { instanceId => $id, lease => $item->{lease},
               actions => [ { type => 'complete', result => 1 } ] });
    die "complete: $r->{status} $r->{body}" unless $r->{status} == 200;
}

run_tests();

__DATA__

=== TEST 1: a start is queued, then answered once applied
--- http_config eval: $::http_config
--- config eval: $::config
--- request
POST /runtime/webhooks/durabletask/orchestrators/Hello/trace-1
--- error_code: 202
--- grep_error_log eval
qr/durable op (?:submitted|done): starting[^\n]*?(?:rc:\d+|hold:\d+)/
--- grep_error_log_out eval
qr/\Adurable op submitted: starting, hold:1\ndurable op done: starting, rc:0\n\z/



=== TEST 2: a refused write is answered with the store's answer
--- http_config eval: $::http_config
--- config eval: $::config
--- request
POST /runtime/webhooks/durabletask/instances/trace-missing/terminate
--- error_code: 404
--- grep_error_log eval
qr/durable op done: [^\n]*?rc:\d+|durable store "default": batch of 1 [^\n]*?(?:refused, \d+ failed|committed)/
--- grep_error_log_out eval
qr/\Adurable store "default": batch of 1 applied in \d+us \(write lock waited \d+us, commit 0us\): 0 ok, 1 refused, 0 failed\ndurable op done: updating, rc:1\n\z/



=== TEST 3: the writer's trace of one start, step by step, in a thread
--- http_config eval: $::http_config
--- config eval: $::config
--- request
POST /runtime/webhooks/durabletask/orchestrators/Hello/trace-3
--- error_code: 202
--- grep_error_log eval
qr/durable op (?:submitted|done): [^\n]*?(?:rc:\d+|hold:\d+)(?:, op:[0-9A-F]+)?|durable store "default": (?:queued|batch of|answers) [^\n]*|durable batch of [^\n]*|durable host "default": guard [a-z]+/
--- grep_error_log_out eval
qr/\Adurable op submitted: starting, hold:1, op:([0-9A-F]+)
durable host "default": guard armed
durable store "default": queued starting, 1 in the queue, op:\1
durable store "default": batch of 1 started in a thread
durable store "default": batch of 1 applied in \d+us \(write lock waited \d+us, commit \d+us\): 1 ok, 0 refused, 0 failed
durable store "default": batch of 1 committed
durable batch of 1 writes to store "default" done
durable store "default": answers starting, rc:0, op:\1
durable op done: starting, rc:0, op:\1
durable host "default": guard cleared\n\z/



=== TEST 4: with writes=loop the batch starts in the event loop
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/debug-trace-loop
                       sync=off writes=loop;
--- config eval: $::config
--- request
POST /runtime/webhooks/durabletask/orchestrators/Hello/trace-4
--- error_code: 202
--- grep_error_log eval
qr/durable store "default": (?:batch of \d+ (?:started in [a-z ]+|committed)|writes in [a-z ]+)|durable batch of [^\n]*/
--- grep_error_log_out
durable store "default": writes in the loop
durable store "default": batch of 1 started in the loop
durable store "default": batch of 1 committed
durable batch of 1 writes to store "default" done



=== TEST 5: one claim and one completion, from the worker protocol's side
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::episode('trace-5');
--- request
GET /runtime/webhooks/durabletask/instances/trace-5?taskHub=Trace
--- error_code: 200
--- grep_error_log eval
qr/durable (?:claim|work): [^\n]*|durable op (?:submitted|done): (?:claiming|completing work)[^\n]*/
--- grep_error_log_out eval
qr/\Adurable op submitted: claiming, hold:\d, op:[0-9A-F]+
durable op done: claiming, rc:0, op:[0-9A-F]+
durable claim: 1 items, 0 of other names, kind:0
durable op submitted: completing work, hold:1, op:[0-9A-F]+
durable op done: completing work, rc:0, op:[0-9A-F]+
durable work: complete of "trace-5" \(kind:0\), rc:0\n\z/



=== TEST 6: by default a store's batch goes to its own thread, not to an nginx pool
--- http_config eval: $::http_config
--- config eval: $::config
--- request
POST /runtime/webhooks/durabletask/orchestrators/Hello/trace-6
--- error_code: 202
--- grep_error_log eval
qr/durable store "default": (?:job [a-z ]+ own thread[a-z ]*|batch of \d+ started in [a-z ]+)|task #\d+ added to thread pool "[^"]+"/
--- grep_error_log_out
durable store "default": job handed to its own thread
durable store "default": batch of 1 started in a thread
durable store "default": job of its own thread done



=== TEST 7: thread_pool=name hands the batch to that nginx pool instead
--- main_config
    thread_pool durable_trace threads=1;
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/debug-trace-pool
                       thread_pool=durable_trace;
--- config eval: $::config
--- request
POST /runtime/webhooks/durabletask/orchestrators/Hello/trace-7
--- error_code: 202
--- grep_error_log eval
qr/durable store "default": (?:job [a-z ]+ own thread[a-z ]*|batch of \d+ started in [a-z ]+)|task #\d+ added to thread pool "[^"]+"/
--- grep_error_log_out eval
qr/\Atask #\d+ added to thread pool "durable_trace"
durable store "default": batch of 1 started in a thread\n\z/



=== TEST 8: a claim's item is rendered after its batch's commit, and says so
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::episode('trace-8');
--- request
GET /runtime/webhooks/durabletask/instances/trace-8?taskHub=Trace
--- error_code: 200
--- grep_error_log eval
qr/durable store "default": \d+ claimed items rendered after the commit[^\n]*/
--- grep_error_log_out eval
qr/\Adurable store "default": 1 claimed items rendered after the commit in \d+us, 0 left out \(ended or changed since the claim\), 0 given back\n\z/
