# A store's own thread, seen from /proc (Linux): it blocks the signals of
# the event loop but not the faults its work may raise (SIGSEGV, SIGBUS,
# SIGFPE, SIGILL must reach ASan or a handler), and the cache manager and
# loader, which serve no requests, start none and open no store.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBlocks qw(master_pid child_of);

master_on();
workers(1);
repeat_each(1);
no_shuffle();

if (!-d '/proc/self/task') {
    plan skip_all => 'no /proc';
} else {
    # per block: the status and the log; the checks in --- init
    plan tests => repeat_each() * (blocks() * 2 + 2 + 3);
}

# the threads of $pid but its main one
sub threads {
    my ($pid) = @_;
    return grep { $_ != $pid }
           map { m{/(\d+)$} ? $1 : () } glob "/proc/$pid/task/*";
}

# the blocked signals of thread $tid of $pid, as a number
sub sigblk {
    my ($pid, $tid) = @_;
    open my $fh, '<', "/proc/$pid/task/$tid/status" or return undef;
    while (<$fh>) {
        # signals 1 to 32: the last 8 digits
        return hex substr($1, -8) if /^SigBlk:\s+([0-9a-f]+)/;
    }
    return undef;
}

# the children of $ppid whose command line matches $re
sub children {
    my ($ppid, $re) = @_;
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh> // next;
        next unless $line =~ /^(\d+) \(.*\) \S+ (\d+) / && $2 == $ppid;
        my $pid = $1;
        open my $cf, '<', "/proc/$pid/cmdline" or next;
        my $cmd = do { local $/; <$cf> } // '';
        push @pids, $pid if $cmd =~ $re;
    }
    return @pids;
}

# the faults a thread leaves unblocked, and those it blocks (SIGINT)
sub check_faults {
    my $worker = child_of(master_pid());
    my @t;
    # the worker starts its store's thread in init_process, which may not
    # have run yet when nginx has just forked it (a loaded host)
    for (1 .. 100) {
        @t = threads($worker);
        last if @t;
        select undef, undef, undef, 0.05;
    }
    Test::More::ok(scalar @t, 'the worker has a thread besides its own');
    my $bad = 0;
    for my $tid (@t) {
        my $blk = sigblk($worker, $tid) // next;
        for my $sig (4, 7, 8, 11) {     # SIGILL SIGBUS SIGFPE SIGSEGV
            $bad++ if $blk & (1 << ($sig - 1));
        }
        $bad++ unless $blk & (1 << (2 - 1));    # SIGINT
    }
    Test::More::is($bad, 0, 'faults unblocked, other signals blocked');
}

# helpers: one thread each; the worker: more
sub check_helpers {
    my $master = master_pid();
    my @h;
    for (1 .. 50) {
        @h = children($master, qr/cache manager/);
        last if @h;
        select undef, undef, undef, 0.1;
    }
    Test::More::ok(scalar @h, 'a cache manager runs');
    Test::More::is(scalar(map { threads($_) } @h), 0,
                   'no thread of a store in the cache manager');
    my @open = grep { (readlink($_) // '') =~ /own-thread-helper/ }
               map { glob "/proc/$_/fd/*" } @h;
    Test::More::is(scalar @open, 0, 'no store open in the cache manager');
}

run_tests();

__DATA__

=== TEST 1: the store's own thread lets faults through
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/own-thread-sig;
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
--- init
main::check_faults();
--- request
GET /runtime/webhooks/durabletask/instances?top=1
--- error_code: 200
--- no_error_log
[alert]



=== TEST 2: the cache manager starts no thread of a store, opens none
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/own-thread-helper;
    proxy_cache_path $TEST_NGINX_DATA_DIR/own-thread-cache keys_zone=c:1m;
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
--- init
main::check_helpers();
--- request
GET /runtime/webhooks/durabletask/instances?top=1
--- error_code: 200
--- no_error_log
[alert]
