# Waits over HTTP/2 (t/inc/DurableH2.pm, a client whose stream window
# stays shut until the test opens it).
#
# An answer that flow control holds back (its DATA waits for the window)
# ends the wait all the same: the status long-poll, the start with
# timeout= and the claim long-poll answer once, with one HEADERS frame
# and the whole body once the window opens, never a second answer
# ("header already sent") and a stream reset.
#
# A claim whose stream the client resets in the packet of its request is
# gone before its wait would begin: no wait is left open behind it.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks ();
use DurableH2 ();

repeat_each(1);

# the port of the HTTP/2 server
BEGIN {
    $ENV{TEST_NGINX_DURABLE_H2_PORT} = DurableBlocks::free_port();
}

# per block: status, body and no_error_log; blocks 1 to 3: 3 assertions
# of their h2 client in --- init
plan tests => repeat_each() * (blocks() * 3 + 3 * 3);

our $http_config = DurableBlocks::fresh_store('waits-h2') . <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_DURABLE_H2_PORT http2;

        location /w/ {
            durable_task /w;
            durable_task_anonymous on;
        }
    }
_EOC_

our $config = <<'_EOC_';
    location /w/ {
        durable_task /w;
        durable_task_anonymous on;
    }

    location = /durable/metrics {
        durable_task_metrics;
        durable_task_anonymous on;
    }
_EOC_

# opens an h2 connection whose streams may send nothing, makes the
# request on it, runs $meanwhile, holds the window shut for $hold s (more
# than a status wait's 1 s re-read) and opens it: the stream's record
sub main::held {
    my ($method, $path, $hold, $meanwhile) = @_;

    my $h = DurableH2->connect($ENV{TEST_NGINX_DURABLE_H2_PORT}, window => 0);
    my $sid = $h->request($method, $path);

    $h->pump(0.3);
    $meanwhile->() if $meanwhile;
    $h->pump($hold);

    $h->open_window;
    $h->pump(10, $sid);
    $h->close;

    return $h->stream($sid);
}

# the three checks of an answer that was held back
sub main::answered_once {
    my ($s, $status, $body_re) = @_;

    Test::More::is($s->{status}, $status, "status $status");
    Test::More::ok($s->{ended} && $s->{headers} == 1 && !defined $s->{rst},
                   'one answer, ended, not reset (headers frames: '
                   . $s->{headers} . ', reset: ' . ($s->{rst} // 'none')
                   . ')');
    Test::More::like($s->{body}, $body_re, 'the whole body');
}

sub main::terminate {
    my ($id) = @_;
    my $r = DurableBlocks::post("/w/instances/$id/terminate?reason=stop", '');
    die "terminate $id: $r->{status}\n" unless $r->{status} == 202;
}

sub main::start {
    my ($id) = @_;
    my $r = DurableBlocks::post("/w/orchestrators/Hello/$id", '');
    die "start $id: $r->{status}\n" unless $r->{status} == 202;
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a status long-poll answered while the window is shut is answered once
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::start('h2-status');
main::answered_once(
    main::held('GET', '/w/instances/h2-status?wait=20', 2,
               sub { main::terminate('h2-status') }),
    200, qr/"runtimeStatus":"Terminated"/);
--- request
GET /w/instances/h2-status
--- error_code: 200
--- response_body_like: "runtimeStatus":"Terminated"
--- no_error_log
[alert]



=== TEST 2: a start with timeout= answered while the window is shut is answered once
--- init
my $s = main::held('POST', '/w/orchestrators/Hello/h2-start?timeout=20', 2,
                   sub { main::terminate('h2-start') });
main::answered_once($s, 200, qr/"runtimeStatus":"Terminated"/);
--- request
GET /w/instances/h2-start
--- error_code: 200
--- response_body_like: "runtimeStatus":"Terminated"
--- no_error_log
[alert]



=== TEST 3: a claim long-poll's empty answer at its deadline, while the window is shut, is answered once
--- init
main::answered_once(
    main::held('POST',
               '/w/worker/orchestrations/claim?max=1&wait=1&taskHub=idle',
               1.5),
    200, qr/^\{"items":\[\]\}$/);
--- request
GET /durable/metrics
--- error_code: 200
--- response_body_like eval
qr/^durable_waits_open 0$/m
--- no_error_log
[alert]



=== TEST 4: a claim whose stream is reset in its request's packet leaves no wait open
--- init
# the connection stays open: its end would end a wait left behind too
$::conn = DurableH2->connect($ENV{TEST_NGINX_DURABLE_H2_PORT});
$::conn->request('POST',
                 '/w/worker/orchestrations/claim?wait=20&taskHub=idle2',
                 reset => 1);
$::conn->pump(1);
--- request
GET /durable/metrics
--- error_code: 200
--- response_body_like eval
qr/^durable_waits_open 0$/m
--- no_error_log
[alert]
