# At the debug level the error log tells what happened to a write: the
# writer logs when it queues one and when it answers it, with the store's
# answer (rc 0: applied; 1: not found; ds_rc_e in store/durable_store.h).
# Debian's nginx is built --with-debug; without debug logging compiled in
# these lines do not exist, and the blocks are skipped.

use Test::Nginx::Socket;

repeat_each(1);
log_level('debug');

# per block: the status and the log lines
my $v = `$Test::Nginx::Util::NginxBinary -V 2>&1`;
if ($v !~ /--with-debug/) {
    plan skip_all => 'nginx without --with-debug';
} else {
    plan tests => repeat_each() * (blocks() * 2);
}

our $http_config = <<'_EOC_';
    durable_task_store default path=$TEST_NGINX_DATA_DIR/debug-trace;
_EOC_

our $config = <<'_EOC_';
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: a start is queued, then answered once applied
--- http_config eval: $::http_config
--- config eval: $::config
--- request
POST /runtime/webhooks/durabletask/orchestrators/Hello/trace-1
--- error_code: 202
--- grep_error_log eval
qr/durable write (?:queued|done): starting[^\n]*?(?:rc:\d+|hold:\d+)/
--- grep_error_log_out eval
qr/\Adurable write queued: starting, 1 in the queue, hold:1\ndurable write done: starting, rc:0\n\z/



=== TEST 2: a refused write is answered with the store's answer
--- http_config eval: $::http_config
--- config eval: $::config
--- request
POST /runtime/webhooks/durabletask/instances/trace-missing/terminate
--- error_code: 404
--- grep_error_log eval
qr/durable write done: [^\n]*?rc:\d+/
--- grep_error_log_out
durable write done: updating, rc:1
