# A claim that waits wakes soon after work appears, also when the work
# arrives through the other nginx worker process (a shared-memory change
# counter, polled every 20 ms). Requests cannot choose their worker, so
# the flow repeats until a claim and its start were served by different
# processes ($pid in a response header tells which), and asserts that
# every waiting claim woke with its item long before its wait ran out.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks ();
use DurableClient qw(api);
use Time::HiRes qw(time sleep);
use POSIX ();

master_on();
workers(2);
repeat_each(1);

# a second listener with reuseport, so that the kernel spreads the
# connections over both workers
BEGIN {
    $ENV{TEST_NGINX_DURABLE_RP_PORT} = DurableBlocks::free_port();
}

our $B = '/runtime/webhooks/durabletask';

# per block: status and body; block 2 adds its grep_error_log_out
plan tests => 3 + 2 * blocks() + 1;

# the stores of the blocks, new for each run of the file: the instances
# of a run before would make the starts 409
DurableBlocks::fresh_dirs(qw(worker-longpoll worker-longpoll-names));


sub main::cross_worker {
    my ($rounds, $crossed, $woke) = (0, 0, 0);

    local $DurableClient::PORT = $ENV{TEST_NGINX_DURABLE_RP_PORT};

    for my $i (1 .. 40) {
        $rounds++;

        pipe(my $rd, my $wr) or die "pipe: $!";
        my $pid = fork;
        die "fork: $!" unless defined $pid;

        if ($pid == 0) {
            close $rd;
            my $t0 = time;
            my $r = api('POST', "$B/worker/orchestrations/claim?wait=20");
            my $n = $r->{json} ? scalar @{ $r->{json}{items} } : -1;
            printf $wr "%s %d %.3f\n", $r->{headers}{'x-pid'} // '-', $n,
                   time - $t0;
            close $wr;
            POSIX::_exit(0);    # no END blocks: they would stop nginx
        }

        close $wr;
        sleep 0.3;

        my $s = api('POST', "$B/orchestrators/Hello/lp$i", '');
        my $line = <$rd>;
        waitpid $pid, 0;

        my ($claim_pid, $items, $took) = split ' ', $line // '- -1 99';

        $woke++ if $items == 1 && $took < 10;
        $crossed++ if $claim_pid ne ($s->{headers}{'x-pid'} // '-');

        last if $crossed >= 2 && $rounds >= 4;
    }

    Test::More::ok($crossed >= 1,
                   "a claim was woken by the other worker ($crossed times)");
    Test::More::is($woke, $rounds, 'every waiting claim woke with its item');
    Test::More::ok($rounds >= 4, "$rounds rounds");
}


# an item of another name, visible while a claim by name waits
sub main::start_other {
    my $r = api('POST', "$B/orchestrators/Other/nm1", '');
    die "start: $r->{status}" unless $r->{status} == 202;
}


run_tests();

__DATA__

=== TEST 1: a waiting claim wakes when the other worker starts an instance
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/worker-longpoll;
--- config
    listen 127.0.0.1:$TEST_NGINX_DURABLE_RP_PORT reuseport;

    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
        add_header X-Pid $pid always;
    }
--- init
main::cross_worker();
--- request
GET /runtime/webhooks/durabletask/instances?runtimeStatus=Running,Pending
--- response_body_like: "instanceId":"lp1"
--- error_code: 200



=== TEST 2: a claim by name waits without re-claiming over other names
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/worker-longpoll-names;
--- config
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
--- init
main::start_other();
--- request
POST /runtime/webhooks/durabletask/worker/orchestrations/claim?names=Wanted&wait=2
--- response_body: {"items":[]}
--- error_code: 200
--- grep_error_log eval
qr/durable claim: \d+ items, \d+ of other names/
--- grep_error_log_out eval
qr/\A(?:durable claim: 0 items, 1 of other names\n){1,3}\z/
--- timeout: 8
