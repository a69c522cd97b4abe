# Several worker processes share the store: what one worker writes, the
# other serves at once; data survives an nginx restart (docs/reliability.md, the
# per-worker LMDB environments).

use Test::Nginx::Socket;
use lib 't/inc';
use DurableBackend;
use DurableBlocks ();
use File::Path qw(rmtree);
use HTTP::Tiny;
use JSON::PP ();

master_on();
workers(2);
repeat_each(1);

# tests per block (per request: status + body + each no_error_log pattern;
# init blocks add their own Perl checks):
#    1: 8 + 6      2: 2 + 3      3: 3
plan tests => 14 + 5 + 3;

rmtree(($ENV{TEST_NGINX_DATA_DIR} // '') . '/multi')
    if $ENV{TEST_NGINX_DATA_DIR};

# a second listener with reuseport, so the kernel spreads new connections
# over both workers (the default listener may wake the same worker)
$ENV{TEST_NGINX_DURABLE_RP_PORT} = DurableBlocks::free_port();

our $http_config = <<'_EOC_';
    durable_task_store default path=$TEST_NGINX_DATA_DIR/multi;

    server {
        listen 127.0.0.1:$TEST_NGINX_DURABLE_RP_PORT reuseport;

        location /mw/ {
            durable_task /mw;
            durable_task_anonymous on;
            add_header X-Pid $pid always;
        }
    }
_EOC_

our $config = <<'_EOC_';
    location /mw/ {
        durable_task /mw;
        durable_task_anonymous on;
        add_header X-Pid $pid always;
    }
_EOC_

# one request on a new connection; returns (status, body, worker pid)
sub req {
    my ($method, $path) = @_;
    my $r = HTTP::Tiny->new(timeout => 10, keep_alive => 0)->request($method,
        "http://127.0.0.1:$ENV{TEST_NGINX_DURABLE_RP_PORT}$path");
    return ($r->{status}, $r->{content}, $r->{headers}{'x-pid'} // '');
}

our @IDS = map { "mw-$_" } 1 .. 20;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: 20 instances written by both workers; each read back, terminated and re-read on new connections
--- http_config eval: $::http_config
--- config eval: $::config
--- init
my (%writer, %pids, @bad, $cross);
for my $id (@::IDS) {
    my ($st, $body, $pid) = main::req(POST => "/mw/orchestrators/Hello/$id");
    push @bad, "start $id: $st" if $st != 202;
    $writer{$id} = $pid;
    $pids{$pid}++;
}
Test::More::is_deeply(\@bad, [], 'every start answered 202');
Test::More::is(scalar(keys %pids), 2, 'both workers served starts: ' . join(',', map { "$_=$pids{$_}" } sort keys %pids));
@bad = ();
for my $round (1 .. 2) {
    for my $id (@::IDS) {
        my ($st, $body, $pid) = main::req(GET => "/mw/instances/$id");
        push @bad, "status $id: $st" if $st != 202 || $body !~ /"instanceId":"$id","runtimeStatus":"Pending"/;
        $cross++ if $pid ne $writer{$id};
    }
}
Test::More::is_deeply(\@bad, [], 'every instance is readable from any worker');
Test::More::ok($cross, "instances read by the other worker than the writer: $cross");
@bad = ();
for my $id (@::IDS) {
    my ($st) = main::req(POST => "/mw/instances/$id/terminate?reason=%22mw%22");
    push @bad, "terminate $id: $st" if $st != 202;
    my ($st2, $body) = main::req(GET => "/mw/instances/$id");
    push @bad, "after terminate $id: $st2" if $st2 != 200 || $body !~ /"runtimeStatus":"Terminated"/;
    my ($st3) = main::req(POST => "/mw/instances/$id/terminate");
    push @bad, "terminate again $id: $st3" if $st3 != 410;
}
Test::More::is_deeply(\@bad, [], 'terminate on one worker is seen by the next request, whichever worker');
my %seen;
for (1 .. 6) {
    my ($st, $body) = main::req(GET => '/mw/instances?top=1000');
    my $list = eval { JSON::PP::decode_json($body) } || [];
    $seen{scalar @$list}++;
}
Test::More::is_deeply(\%seen, { 20 => 6 }, 'every listing, on any worker, holds all 20');
my ($st, $body) = main::req(GET => '/mw/instances?runtimeStatus=Pending');
Test::More::is($body, '[]', 'none left Pending');
($st) = main::req(DELETE => '/mw/instances/mw-20');
Test::More::is($st, 200, 'purged mw-20');
--- request eval
["GET /mw/instances/mw-20", "GET /mw/instances?runtimeStatus=Terminated&instanceIdPrefix=mw-1"]
--- error_code eval: [404, 200]
--- response_body_like eval
['^$', '^\[(\{"name":"Hello","instanceId":"mw-1\d?","runtimeStatus":"Terminated","input":null,"customStatus":null,"output":"mw",[^\}]*\},?){11}\]$']
--- no_error_log
[error]



=== TEST 2: after an nginx restart (new config, new workers), the data is still there
--- http_config eval: $::http_config
--- config eval: $::config
--- init
my (@bad, %pids);
for my $id (@::IDS[0 .. 18]) {
    my ($st, $body, $pid) = main::req(GET => "/mw/instances/$id");
    $pids{$pid}++;
    push @bad, "$id: $st" if $st != 200 || $body !~ /"instanceId":"$id","runtimeStatus":"Terminated".*"output":"mw"/;
}
Test::More::is_deeply(\@bad, [], '19 instances survived the restart');
my ($st) = main::req(GET => '/mw/instances/mw-20');
Test::More::is($st, 404, 'the purge survived too');
--- request
GET /mw/instances?top=1000
--- error_code: 200
--- response_body_like chomp
^\[(\{"name":"Hello","instanceId":"mw-\d+","runtimeStatus":"Terminated"[^\}]*\},?){19}\]$
--- no_error_log
[error]



=== TEST 3: another restart, with another config, still reads what the two workers wrote
--- http_config eval: $::http_config
--- config
    location /mw/ {
        durable_task /mw;
        durable_task_anonymous on;
    }
--- request
GET /mw/instances/mw-7
--- error_code: 200
--- response_body_like chomp
^\{"name":"Hello","instanceId":"mw-7","runtimeStatus":"Terminated",
--- no_error_log
[error]
