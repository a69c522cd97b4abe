# The failures of a store's own thread that no test can cause from
# outside, made by the hook of test builds (DURABLE_TEST_FAULTS_BUILD=1
# at configure time, as make build does): the environment variable
# DURABLE_TEST_FAULTS, set for the worker with nginx's env directive.
# None of them fails a request or holds it: a thread that cannot be
# started leaves the store's writes to the event loop (TEST 1), a job
# the loop cannot hand to the thread is done in the loop (TEST 2), and a
# thread that cannot wait for work looks for it every 100 ms, and still
# stops when nginx does (TEST 3). Each failure is logged as an alert,
# and the hook itself, when on, as a warning. Without the hook, or
# without debug lines (--with-debug), which the blocks read too, the file
# is skipped.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks ();

repeat_each(1);
log_level('debug');
no_shuffle();

if (!DurableBlocks::test_faults_build()) {
    plan skip_all => 'a module without the hook of test faults';
} elsif (!DurableBlocks::debug_build()) {
    plan skip_all => 'nginx without --with-debug: no debug lines';
} else {
    # per block: the status, the body and six log patterns; TEST 3
    # counts its alerts and checks the log once more after nginx stopped
    plan tests => repeat_each() * (blocks() * 8 + 2);
}

our $http_config = DurableBlocks::fresh_store('thread-faults');

our $config = <<'_EOC_';
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: a thread that cannot be started: alert and notice, and the writes run in the event loop
--- main_config
    env DURABLE_TEST_FAULTS=thread_start;
--- http_config eval: $::http_config
--- config eval: $::config
--- request
POST /runtime/webhooks/durabletask/orchestrators/Hello/f1
--- error_code: 202
--- response_body_like: ^\{"id":"f1",
--- error_log eval
[qr/\[warn\] .*durable: store "default": DURABLE_TEST_FAULTS makes its thread fail/,
 qr/\[alert\] .*durable: store "default": pthread_create\(\) failed \(9: /,
 qr/\[notice\] .*durable: store "default": no thread of its own, its writes run in the event loop/,
 qr/durable store "default": writes in the loop$/]
--- no_error_log
own thread started
[error]



=== TEST 2: a thread that the event loop cannot wake: alert, and the job is done in the loop
--- main_config
    env DURABLE_TEST_FAULTS=thread_wake;
--- http_config eval: $::http_config
--- config eval: $::config
--- request
POST /runtime/webhooks/durabletask/orchestrators/Hello/f2
--- error_code: 202
--- response_body_like: ^\{"id":"f2",
--- error_log eval
[qr/\[warn\] .*durable: store "default": DURABLE_TEST_FAULTS makes its thread fail/,
 qr/durable store "default": own thread started/,
 qr/\[alert\] .*durable: store "default": waking its thread failed \(9: /,
 qr/durable store "default": batch of 1 started in the loop, with no thread for it/]
--- no_error_log
job handed to its own thread
[error]



=== TEST 3: a thread that cannot wait for work: one alert, it looks for work every 100 ms, and stops with nginx
--- main_config
    env DURABLE_TEST_FAULTS=thread_wait;
--- http_config eval: $::http_config
--- config eval: $::config
--- request
POST /runtime/webhooks/durabletask/orchestrators/Hello/f3
--- error_code: 202
--- response_body_like: ^\{"id":"f3",
--- error_log eval
[qr/\[warn\] .*durable: store "default": DURABLE_TEST_FAULTS makes its thread fail/,
 qr/\[alert\] .*durable: store "default": its thread failed to wait, it looks every 100 ms instead \(9: /,
 qr/durable store "default": batch of 1 started in a thread/,
 qr/durable store "default": job of its own thread done/]
--- grep_error_log eval
qr/its thread failed to wait/
--- grep_error_log_out
its thread failed to wait
--- no_error_log
started in the loop
[error]
--- shutdown_error_log eval
qr/durable store "default": own thread stopped, unanswered:0/
