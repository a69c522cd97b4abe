# writes=loop (a relaxed store commits in the event loop) and
# thread_pool=off: the writes that one iteration of the event loop queues
# are one batch. To make that iteration deterministic, the worker is
# stopped (SIGSTOP) while three idle keep-alive connections each send a
# request, then continued: one epoll_wait returns all three.
#
# TEST 8: with threads=1 max_queue=0 nginx takes a task only while its
# thread is idle (the thread counts itself off before it waits), so some
# batches of the purge's chain run in the pool and the ones posted while
# the thread is still busy run in place; the answers are the same.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableClient qw(api);
use DurableBlocks qw(master_pid child_of);
use IO::Socket::INET;
use Time::HiRes ();

master_on();
workers(1);
repeat_each(1);
no_shuffle();

plan tests => 2 + 3 + 4 + 4 + 2 + 2 + 4 + 3;

our $B = '/runtime/webhooks/durabletask';

# the stores of the blocks (some shared by several), new for each run of
# the file: the instances of a run before would make the starts 409
DurableBlocks::fresh_dirs(qw(loop-synced loop inloop-batch
                             threaded purging poolfull));

# TEST 7 and 8: a purge by filter runs one instance a batch
our $purge_location = <<'_EOC_';
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
        durable_task_purge_batch 1;
    }
_EOC_

# the instances named, started and terminated (for a purge)
sub terminated {
    for my $id (@_) {
        api('POST', "$B/orchestrators/Hello/$id", '1');
        api('POST', "$B/instances/$id/terminate?reason=x");
    }
}


# one HTTP/1.1 request and its answer on a kept-alive socket
sub send_request {
    my ($sock, $method, $path, $body) = @_;
    $body //= '';
    print $sock "$method $path HTTP/1.1\r\nHost: localhost\r\n"
        . "Content-Type: application/json\r\n"
        . "Content-Length: " . length($body) . "\r\n\r\n$body";
}

sub read_status {
    my ($sock) = @_;
    my $head = '';
    while ($head !~ /\r\n\r\n/) {
        my $n = sysread($sock, my $buf, 4096);
        die "connection closed" unless $n;
        $head .= $buf;
    }
    my ($status) = $head =~ m{^HTTP/1\.1 (\d+)};
    my ($len) = $head =~ /^Content-Length: (\d+)/mi;
    my $body = substr($head, index($head, "\r\n\r\n") + 4);
    while (defined $len && length($body) < $len) {
        my $n = sysread($sock, my $buf, 4096);
        die "connection closed" unless $n;
        $body .= $buf;
    }
    return $status;
}

# the process is in state T (stopped), at most 5 s from now
sub stopped {
    my ($pid) = @_;
    for (1 .. 500) {
        open my $fh, '<', "/proc/$pid/stat" or return 0;
        my $line = <$fh> // '';
        return 1 if $line =~ /^\d+ \(.*\) T /;
        Time::HiRes::sleep(0.01);
    }
    return 0;
}

# three POSTs that reach the worker in one iteration; their statuses
sub one_iteration {
    my (@paths) = @_;
    my $port = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;
    my @socks = map {
        IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                              Timeout => 10) or die "connect: $!"
    } @paths;

    # accepted and idle: a first request on each
    for my $s (@socks) {
        send_request($s, 'GET', "$B/instances?top=1");
        read_status($s);
    }

    my $worker = child_of(master_pid());
    kill 'STOP', $worker;
    stopped($worker) or die "worker $worker did not stop";
    send_request($socks[$_], 'POST', $paths[$_], '1') for 0 .. $#paths;
    Time::HiRes::sleep(0.2);
    kill 'CONT', $worker;

    return join ',', map { read_status($_) } @socks;
}

run_tests();

__DATA__

=== TEST 1: writes=loop needs sync=off
--- http_config
    durable_task_store loop path=$TEST_NGINX_DATA_DIR/loop-synced writes=loop;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*durable_task_store "loop": writes=loop needs sync=off \(a synced commit waits for the disk\)/



=== TEST 2: writes=loop: a relaxed store commits in the event loop and flushes in the pool
--- http_config
    durable_task_store loop path=$TEST_NGINX_DATA_DIR/loop sync=off writes=loop flush=50ms;
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
--- request
POST /runtime/webhooks/durabletask/orchestrators/Hello/w1
[1]
--- error_code: 202
--- response_body_like: "id":"w1"
--- wait: 0.3
--- error_log
durable store "loop" flushed: 0



=== TEST 3: writes=loop: the writes of one iteration are one batch; a refusal in it stands alone
--- http_config
    durable_task_store loop path=$TEST_NGINX_DATA_DIR/loop sync=off writes=loop;
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
--- init
# w1 exists and is Pending: its start is refused (409), the others apply
Test::More::is(main::one_iteration("$main::B/orchestrators/Hello/w2",
                                   "$main::B/orchestrators/Hello/w1",
                                   "$main::B/orchestrators/Hello/w3"),
               '202,409,202', 'three answers of one batch');
--- request
GET /runtime/webhooks/durabletask/instances?top=10
--- error_code: 200
--- response_body_like: ^\[\{"name":"Hello","instanceId":"w1".*"instanceId":"w2".*"instanceId":"w3"
--- error_log
durable batch of 3 writes to store "loop" done



=== TEST 4: thread_pool=off: the writes of one iteration are one batch, synced once
--- http_config
    durable_task_store inloop path=$TEST_NGINX_DATA_DIR/inloop-batch thread_pool=off;
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
--- init
Test::More::is(main::one_iteration(map { "$main::B/orchestrators/Hello/t$_" }
                                   1 .. 3),
               '202,202,202', 'three answers of one batch');
--- request
GET /runtime/webhooks/durabletask/instances/t3
--- error_code: 202
--- response_body_like: "instanceId":"t3","runtimeStatus":"Pending"
--- error_log
durable batch of 3 writes to store "inloop" done



=== TEST 5: writes=loop: acknowledged writes are there after a restart
--- http_config
    durable_task_store loop path=$TEST_NGINX_DATA_DIR/loop sync=off writes=loop;
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
--- request
GET /runtime/webhooks/durabletask/instances/w1
--- error_code: 202
--- response_body_like: "instanceId":"w1","runtimeStatus":"Pending".*"input":\[1\]



=== TEST 6: writes=thread (the default) keeps the batch in the store's own thread
--- http_config
    durable_task_store threaded path=$TEST_NGINX_DATA_DIR/threaded sync=off writes=thread;
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
--- request
POST /runtime/webhooks/durabletask/orchestrators/Hello/p1
--- error_code: 202
--- grep_error_log eval
qr/run task #\d+ in thread pool "\w+"|durable store "\w+": job handed to its own thread|durable batch of \d+ writes to store "\w+" done/
--- grep_error_log_out eval
qr/^durable store "threaded": job handed to its own thread\ndurable batch of 1 writes to store "threaded" done\n/



=== TEST 7: writes=loop: a purge's next batch waits for the next iteration of the event loop
--- http_config
    durable_task_store purging path=$TEST_NGINX_DATA_DIR/purging sync=off writes=loop;
--- config eval: $::purge_location
--- init
main::terminated(qw(g1 g2 g3));
--- request
DELETE /runtime/webhooks/durabletask/instances?createdTimeFrom=2000-01-01T00:00:00Z&runtimeStatus=Terminated
--- error_code: 200
--- response_body: {"instancesDeleted":3}
--- error_log
durable purge: 3 deleted
--- grep_error_log eval
qr/durable batch of 1 writes to store "purging" done|worker cycle/
--- grep_error_log_out eval
qr/\A(?!.*done\ndurable batch)(?:.*\n)*?durable batch.*done\nworker cycle\n(?:worker cycle\n)*durable batch.*done\nworker cycle\n/s



=== TEST 8: a thread pool without a queue: a batch it refuses runs in place, a purge's chain too, each answered once
--- main_config
    thread_pool tiny threads=1 max_queue=0;
--- http_config
    durable_task_store full path=$TEST_NGINX_DATA_DIR/poolfull thread_pool=tiny;
--- config eval: $::purge_location
--- init
main::terminated(qw(f1 f2 f3));
--- request
DELETE /runtime/webhooks/durabletask/instances?createdTimeFrom=2000-01-01T00:00:00Z&runtimeStatus=Terminated
--- error_code: 200
--- response_body: {"instancesDeleted":3}
--- error_log
durable purge: 3 deleted
