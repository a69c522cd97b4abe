# The metrics page (durable_task_metrics; README, "Metrics"): each block's
# --- init moves figures through the API and the worker protocol, and the
# page must show exactly what moved. The counters of the processes live
# in shared memory, which a fresh nginx starts at zero: every block starts
# its own nginx (the runner's default), and the store figures are read
# per hub, each block using hubs of its own (but durable_timers, counted
# per store: only TEST 14 makes a timer). TEST 13 sends its
# requests over a reuseport listener, so that both worker processes serve
# some, and the page (from either) counts them all. The format itself is
# checked by promtool (make test-metrics).

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks ();
use DurableClient qw(api);
use File::Path qw(rmtree);
use POSIX ();
use Time::HiRes qw(sleep);

master_on();
workers(2);
repeat_each(1);
no_shuffle();

# per block: the status and one check of the answer or the log; block 1
# checks its Content-Type too, blocks 17 and 18 their [alert] lines
plan tests => repeat_each() * (2 * blocks() + 1 + 2);

BEGIN {
    $ENV{TEST_NGINX_DURABLE_RP_PORT} = DurableBlocks::free_port();
}

if ($ENV{TEST_NGINX_DATA_DIR}) {
    rmtree("$ENV{TEST_NGINX_DATA_DIR}/metrics");
    rmtree("$ENV{TEST_NGINX_DATA_DIR}/metrics-full");
    rmtree("$ENV{TEST_NGINX_DATA_DIR}/metrics-broken");
    DurableBlocks::corrupt_store("$ENV{TEST_NGINX_DATA_DIR}/metrics-broken");
}

our $B = '/runtime/webhooks/durabletask';

sub main::ok_api {
    my ($want, @args) = @_;

    my $r = api(@args);
    die "$args[0] $args[1]: $r->{status} $r->{body}\n"
        unless $r->{status} == $want;

    return $r;
}

sub main::claim {
    my ($hub, $prefix) = @_;

    my $r = main::ok_api(200, 'POST', ($prefix // $B)
                         . "/worker/orchestrations/claim?taskHub=$hub", '');
    my ($item) = @{ $r->{json}{items} };
    die "nothing claimed: $r->{body}\n" unless $item;

    return $item;
}

# claims one item of a kind (orchestrations, activities, entities)
sub main::claim_kind {
    my ($hub, $kind) = @_;

    my $r = main::ok_api(200, 'POST',
                         "$B/worker/$kind/claim?taskHub=$hub", '');
    my ($item) = @{ $r->{json}{items} };
    die "no $kind claimed: $r->{body}\n" unless $item;

    return $item;
}

# starts an orchestration whose first episode schedules an activity, and
# signals an entity of the same hub: one ready item of each kind
sub main::activity_and_signal {
    my ($hub, $id) = @_;

    main::ok_api(202, 'POST', "$B/orchestrators/Hello/$id?taskHub=$hub", '');
    my $item = main::claim($hub);
    main::ok_api(200, 'POST',
                 "$B/worker/orchestrations/complete?taskHub=$hub",
                 { instanceId => $id, lease => $item->{lease},
                   actions => [ { type => 'scheduleActivity', id => 0,
                                  name => 'A', input => 1 } ] });
    main::ok_api(202, 'POST', "$B/entities/counter/$id?taskHub=$hub&op=add",
                 '1');
}

# Requests are counted when they are logged, just after their answer is
# sent: waits (5 s at most) until the page has counted n of them.
sub main::settle {
    my ($n) = @_;

    for (1 .. 50) {
        my $page = api('GET', '/durable/metrics')->{body} // '';
        my $sum = 0;
        $sum += $1 while $page =~ /^durable_requests_total\{.*\} (\d+)$/mg;
        return if $sum >= $n;
        sleep 0.1;
    }
}

# a claim that waits 3 s for work that never comes, in a process of its
# own (its child, so that nothing is left to reap)
sub main::open_wait {
    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        if (fork // 1) {
            POSIX::_exit(0);
        }

        api('POST', "$B/worker/activities/claim?taskHub=MetIdle&wait=3", '');
        POSIX::_exit(0);    # no END blocks: they would stop nginx
    }

    local $?;
    waitpid($pid, 0);
    sleep 0.5;
}

# SIGKILL to every worker process, and back when the master has started
# as many again (their pids differ)
sub main::kill_workers {
    open my $pf, '<', $Test::Nginx::Socket::PidFile
        or die "$Test::Nginx::Socket::PidFile: $!";
    chomp(my $master = <$pf>);
    close $pf;

    my $workers = sub {
        map { /(\d+)/ ? $1 : () } `ps -o pid= --ppid $master`;
    };
    my @old = $workers->();
    die "no worker processes of $master\n" unless @old;
    kill 'KILL', @old;

    for (1 .. 100) {
        my %old = map { $_ => 1 } @old;
        my @new = grep { !$old{$_} } $workers->();
        return if @new == @old;
        sleep 0.1;
    }

    die "the worker processes were not started again\n";
}

our $http_config = <<'_EOC_';
    durable_task_store default path=$TEST_NGINX_DATA_DIR/metrics;
    durable_task_store full path=$TEST_NGINX_DATA_DIR/metrics-full
                            max_size=1m reserve=50%;
_EOC_

our $config = <<'_EOC_';
    listen 127.0.0.1:$TEST_NGINX_DURABLE_RP_PORT reuseport;

    add_header X-Pid $pid always;

    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
        durable_task_worker_lease 1s;
        client_max_body_size 1m;
    }

    location /full/ {
        durable_task /full;
        durable_task_connection full;
        durable_task_anonymous on;
        client_max_body_size 1m;
    }

    location = /durable/metrics {
        durable_task_metrics;
        durable_task_anonymous on;
    }

    location = /keyed/metrics {
        durable_task_metrics;
        durable_task_keys systemkey-1234;
    }
_EOC_

# TEST 20's lock holder, if a failure left it running
add_cleanup_handler(\&DurableBlocks::reap_children);

run_tests();

__DATA__

=== TEST 1: the page: Prometheus text, the stores' figures
--- http_config eval: $::http_config
--- config eval: $::config
--- request
GET /durable/metrics
--- error_code: 200
--- response_headers_like
Content-Type: text/plain; version=0\.0\.4; charset=utf-8
--- response_body_like eval
qr/\A# HELP durable_instances .*
^durable_store_map_size_bytes\{store="full"\} 1048576$
.*^durable_store_used_bytes\{store="full"\} [1-9][0-9]*$
.*^durable_store_readers\{store="default"\} [1-9][0-9]*$
.*^durable_store_readers_max\{store="default"\} 126$
.*^durable_store_up\{store="default"\} 1$
.*^durable_store_up\{store="full"\} 1$
.*^durable_waits_open 0$
/ms



=== TEST 2: instances by hub and status, the ready queue and its oldest
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::ok_api(202, 'POST', "$::B/orchestrators/Hello/mi-a?taskHub=MetA", '');
main::ok_api(202, 'POST', "$::B/orchestrators/Hello/mi-b?taskHub=MetA", '');
main::ok_api(202, 'POST', "$::B/orchestrators/Hello/mi-c?taskHub=MetA", '');
main::ok_api(202, 'POST',
             "$::B/instances/mi-a/terminate?taskHub=MetA&reason=x", '');
Time::HiRes::sleep(1.1);
--- request
GET /durable/metrics
--- error_code: 200
--- response_body_like eval
qr/^durable_instances\{store="default",hub="MetA",runtime_status="Terminated"\} 1$
^durable_instances\{store="default",hub="MetA",runtime_status="Pending"\} 2$
.*^durable_queue_depth\{store="default",hub="MetA",kind="orchestration"\} 2$
.*^durable_ready_oldest_age_seconds\{store="default",hub="MetA",kind="orchestration"\} [1-9][0-9]*\.[0-9]{6}$
/ms



=== TEST 3: purged instances leave no count behind
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::ok_api(202, 'POST', "$::B/orchestrators/Hello/mp-a?taskHub=MetP", '');
main::ok_api(202, 'POST',
             "$::B/instances/mp-a/terminate?taskHub=MetP&reason=x", '');
main::ok_api(200, 'DELETE', "$::B/instances/mp-a?taskHub=MetP");
--- request
GET /durable/metrics
--- error_code: 200
--- response_body_unlike
hub="MetP"



=== TEST 4: requests by operation and status code
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::ok_api(404, 'GET', "$::B/instances/mr-none?taskHub=MetR");
main::ok_api(202, 'POST', "$::B/orchestrators/Hello/mr-a?taskHub=MetR", '');
main::ok_api(409, 'POST', "$::B/orchestrators/Hello/mr-a?taskHub=MetR", '');
main::settle(3);
--- request
GET /durable/metrics
--- error_code: 200
--- response_body_like eval
qr/^durable_requests_total\{op="start",code="202"\} 1$
^durable_requests_total\{op="start",code="409"\} 1$
^durable_requests_total\{op="status",code="404"\} 1$
/ms



=== TEST 5: claims, completions, leases granted and refused, batches
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::ok_api(202, 'POST', "$::B/orchestrators/Hello/mw-a?taskHub=MetW", '');
my $item = main::claim('MetW');
my $done = { instanceId => 'mw-a', lease => $item->{lease},
             actions => [ { type => 'complete', output => 1 } ] };
main::ok_api(200, 'POST', "$::B/worker/orchestrations/complete?taskHub=MetW",
             $done);
$done->{actions}[0]{output} = 2;
main::ok_api(409, 'POST', "$::B/worker/orchestrations/complete?taskHub=MetW",
             $done);
--- request
GET /durable/metrics
--- error_code: 200
--- response_body_like eval
qr/^durable_claims_total\{kind="orchestration"\} 1$
.*^durable_completions_total\{kind="orchestration"\} 1$
.*^durable_leases_granted_total 1$
.*^durable_leases_expired_total 0$
.*^durable_leases_refused_total 1$
.*^durable_commit_batch_writes_bucket\{le="1"\} 3$
.*^durable_commit_batch_writes_sum 3$
^durable_commit_batch_writes_count 3$
.*^durable_commit_seconds_bucket\{le="\+Inf"\} 3$
^durable_commit_seconds_sum [0-9]+\.[0-9]{6}$
^durable_commit_seconds_count 3$
.*^durable_write_lock_wait_seconds_total [0-9]+\.[0-9]{6}$
/ms



=== TEST 6: a lease that runs out: the item is claimed again
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::ok_api(202, 'POST', "$::B/orchestrators/Hello/me-a?taskHub=MetE", '');
main::claim('MetE');
Time::HiRes::sleep(1.5);
main::claim('MetE');
--- request
GET /durable/metrics
--- error_code: 200
--- response_body_like eval
qr/^durable_claims_total\{kind="orchestration"\} 2$
.*^durable_leases_granted_total 2$
.*^durable_leases_expired_total 1$
/ms



=== TEST 7: a waiting claim is an open wait
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::open_wait();
--- request
GET /durable/metrics
--- error_code: 200
--- response_body_like eval
qr/^durable_waits_open 1$/m



=== TEST 8: a full store counts an error of its cause
--- http_config eval: $::http_config
--- config eval: $::config
--- init
my $input = '"' . ('x' x 200_000) . '"';
for my $i (1 .. 20) {
    my $r = DurableClient::api('POST', "/full/orchestrators/Hello/mf-$i",
                               $input);
    main::settle($i);
    last if $r->{status} == 507;
    die "start: $r->{status} $r->{body}\n" unless $r->{status} == 202;
}
--- request
GET /durable/metrics
--- error_code: 200
--- response_body_like eval
qr/^durable_requests_total\{op="start",code="507"\} 1$
.*^durable_errors_total\{cause="store_full"\} 1$
^durable_errors_total\{cause="store_failed"\} 0$
/ms



=== TEST 9: the page takes the keys of its location
--- http_config eval: $::http_config
--- config eval: $::config
--- request
GET /keyed/metrics
--- error_code: 401
--- response_body_like chomp
"Message":"A key is required



=== TEST 10: with a key
--- http_config eval: $::http_config
--- config eval: $::config
--- request
GET /keyed/metrics?code=systemkey-1234
--- error_code: 200
--- response_body_like chomp
^# HELP durable_instances



=== TEST 11: a wrong key is refused, and masked in the log
--- http_config eval: $::http_config
--- config eval: $::config
--- request
GET /keyed/metrics?code=wrong-key-5678
--- error_code: 401
--- error_log
request: "GET /keyed/metrics?code=*** HTTP/1.1"



=== TEST 12: the page answers GET and HEAD only, its body discarded
--- http_config eval: $::http_config
--- config eval: $::config
--- request
POST /durable/metrics
{"a":1}
--- error_code: 405
--- response_headers
Allow: GET, HEAD



=== TEST 12b: HEAD: the page's headers without its body
--- http_config eval: $::http_config
--- config eval: $::config
--- request
HEAD /durable/metrics
--- error_code: 200
--- response_body eval: ''



=== TEST 13: both worker processes' requests in one page
--- http_config eval: $::http_config
--- config eval: $::config
--- init
# a fixed number of starts, so that the page's figures are known; the
# second process may take a moment to answer: the starts are spaced out
# while one process has served them all, and the block fails if the
# other never did
local $DurableClient::PORT = $ENV{TEST_NGINX_DURABLE_RP_PORT};
my %pids;
for my $i (1 .. 60) {
    my $r = main::ok_api(202, 'POST',
                         "$::B/orchestrators/Hello/mx-$i?taskHub=MetX", '');
    $pids{ $r->{headers}{'x-pid'} } = 1;
    Time::HiRes::sleep(0.05) if keys %pids < 2;
}
die "one worker process served all 60 starts\n" if keys %pids < 2;
main::settle(60);
--- request
GET /durable/metrics
--- error_code: 200
--- response_body_like eval
qr/^durable_instances\{store="default",hub="MetX",runtime_status="Pending"\} 60$
.*^durable_requests_total\{op="start",code="202"\} 60$
/ms



=== TEST 14: a durable timer waiting is counted in its store
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::ok_api(202, 'POST', "$::B/orchestrators/Hello/mt-a?taskHub=MetT", '');
my $item = main::claim('MetT');
main::ok_api(200, 'POST', "$::B/worker/orchestrations/complete?taskHub=MetT",
             { instanceId => 'mt-a', lease => $item->{lease},
               actions => [ { type => 'createTimer', id => 0,
                              fireAt => '2099-01-01T00:00:00Z' } ] });
--- request
GET /durable/metrics
--- error_code: 200
--- response_body_like eval
qr/^durable_timers\{store="default"\} 1$/m



=== TEST 15: activity and entity items: queue depth and oldest age
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::activity_and_signal('MetK', 'mk-a');
Time::HiRes::sleep(1.1);
--- request
GET /durable/metrics
--- error_code: 200
--- response_body_like eval
# each line anywhere in the page
my $l = 'store="default",hub="MetK",kind=';
my $age = '[1-9][0-9]*\.[0-9]{6}';
my $want = join '', map { "(?=.*^$_\$)" }
    qq(durable_queue_depth\\{$l"activity"\\} 1),
    qq(durable_queue_depth\\{$l"entity"\\} 1),
    qq(durable_ready_oldest_age_seconds\\{$l"activity"\\} $age),
    qq(durable_ready_oldest_age_seconds\\{$l"entity"\\} $age);
qr/\A$want/ms



=== TEST 16: claims and completions of activities and entities
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::activity_and_signal('MetC', 'mc-a');
my $a = main::claim_kind('MetC', 'activities');
main::ok_api(200, 'POST', "$::B/worker/activities/complete?taskHub=MetC",
             { instanceId => 'mc-a', taskId => 0, lease => $a->{lease},
               result => 2 });
my $e = main::claim_kind('MetC', 'entities');
main::ok_api(200, 'POST', "$::B/worker/entities/complete?taskHub=MetC",
             { entity => $e->{entity}, lease => $e->{lease}, state => 1 });
--- request
GET /durable/metrics
--- error_code: 200
--- response_body_like eval
qr/^durable_claims_total\{kind="orchestration"\} 1$
^durable_claims_total\{kind="activity"\} 1$
^durable_claims_total\{kind="entity"\} 1$
.*^durable_completions_total\{kind="orchestration"\} 1$
^durable_completions_total\{kind="activity"\} 1$
^durable_completions_total\{kind="entity"\} 1$
/ms



=== TEST 17: a store that cannot be opened counts its refusals
--- http_config eval
$::http_config . <<'_EOC_';
    durable_task_store broken path=$TEST_NGINX_DATA_DIR/metrics-broken;
_EOC_
--- config eval: $::config
--- init
main::ok_api(503, 'POST',
             "$::B/orchestrators/Hello/mu-a?taskHub=MetU&connection=broken",
             '');
main::settle(1);
--- request
GET /durable/metrics
--- error_code: 200
--- response_body_like eval
qr/^durable_store_up\{store="broken"\} 0$
.*^durable_errors_total\{cause="store_unavailable"\} 1$
/ms
--- error_log eval
qr/\[alert\] .*durable: store "broken": cannot open store/



=== TEST 18: a worker process killed with a wait open leaves no wait
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::open_wait();
main::kill_workers();
--- request
GET /durable/metrics
--- error_code: 200
--- response_body_like eval
qr/^durable_waits_open 0$/m
--- error_log eval
qr/\[alert\] .*worker process \d+ exited on signal 9/



=== TEST 19: activity and entity leases that run out are counted
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::activity_and_signal('MetL', 'ml-a');
main::claim_kind('MetL', 'activities');
main::claim_kind('MetL', 'entities');
Time::HiRes::sleep(1.5);
main::claim_kind('MetL', 'activities');
main::claim_kind('MetL', 'entities');
--- request
GET /durable/metrics
--- error_code: 200
--- response_body_like eval
qr/^durable_claims_total\{kind="orchestration"\} 1$
^durable_claims_total\{kind="activity"\} 2$
^durable_claims_total\{kind="entity"\} 2$
.*^durable_leases_granted_total 5$
.*^durable_leases_expired_total 2$
/ms



=== TEST 20: a batch that waits for the write lock counts the wait
--- skip_eval: 2: !-x ($ENV{DURABLE_HOLD_WRITE_LOCK} || 'build/t-hold-write-lock')
--- http_config eval: $::http_config
--- config eval: $::config
--- init
if (-x ($ENV{DURABLE_HOLD_WRITE_LOCK} || 'build/t-hold-write-lock')) {
    # another process holds the lock for a second: the start waits for it
    my $in = DurableBlocks::hold_write_lock(
                 "$ENV{TEST_NGINX_DATA_DIR}/metrics", 1);
    main::ok_api(202, 'POST', "$::B/orchestrators/Hello/mw-l?taskHub=MetW2",
                 '');
    close $in;
}
--- request
GET /durable/metrics
--- error_code: 200
--- response_body_like eval
qr/^durable_write_lock_wait_seconds_total (?:0\.[5-9]|[1-9])[0-9]*\.?[0-9]*$/m
