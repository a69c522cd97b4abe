# Waits and a store that stops answering: a PostgreSQL store whose server
# is stopped (SIGSTOP) holds each operation in flight for as long as the
# test wants, which no LMDB store can.
#
# A status long-poll over HTTP/2 whose client resets its stream while its
# re-read is in flight ends when the read is answered: it does not wait
# on with a timer in the memory of a request nginx frees, and the store
# does not touch the read's op, which the request's end freed, after its
# done(). Run it with the ASan build (make test-asan's module) to see
# either use after free; without ASan the freed memory is only reused.
#
# A worker that shuts down gracefully with an operation its store never
# answers exits after worker_shutdown_timeout, with an alert that counts
# what it left, instead of waiting for the store for ever.
#
# Needs a cluster whose default database has the schema (durable schema
# init), named by DURABLE_PG_HOSTADDR_CONNINFO and DURABLE_PG_DIR as
# util/pg.sh sets them: make test-postgres does all that.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBlocks ();
use DurableH2 ();
use Time::HiRes ();

my $conninfo = $ENV{DURABLE_PG_HOSTADDR_CONNINFO};

if (!$conninfo || !$ENV{DURABLE_PG_DIR}) {
    plan skip_all => 'no PostgreSQL cluster: DURABLE_PG_HOSTADDR_CONNINFO '
                     . 'and DURABLE_PG_DIR unset (make test-postgres)';
}

master_on();
workers(1);
repeat_each(1);

# per block: status, body and a log check; block 2: 2 checks in --- init
plan tests => repeat_each() * (blocks() * 3 + 2);

# ids of this run's own: the database outlives one run of the file
our $run = $$;

# timeout= outlasts every stop of the server below: the operations stay
# in flight, they are not answered with a timeout
our $http_config =
    qq{    durable_task_store default backend=postgres pool=2 timeout=60s\n}
    . qq{        "conninfo=$conninfo";\n};

our $config = <<'_EOC_';
    location /pg/ {
        durable_task /pg;
        durable_task_anonymous on;
    }
_EOC_

# the port of an HTTP/2 server with the same location
BEGIN {
    $ENV{TEST_NGINX_DURABLE_H2_PORT} = DurableBlocks::free_port();
}

$http_config .= <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_DURABLE_H2_PORT http2;

        location /pg/ {
            durable_task /pg;
            durable_task_anonymous on;
        }
    }
_EOC_

# every process of the cluster (the postmaster and its children); a STOP
# goes twice, for a backend the postmaster was forking the first time
sub pg_signal {
    my ($sig) = @_;
    if ($sig eq 'STOP') {
        main::pg_signal_once($sig);
        Time::HiRes::sleep(0.1);
    }
    main::pg_signal_once($sig);
}

sub pg_signal_once {
    my ($sig) = @_;
    my $pidfile = "$ENV{DURABLE_PG_DIR}/data/postmaster.pid";
    open my $fh, '<', $pidfile or die "$pidfile: $!";
    my $master = <$fh>;
    close $fh;
    chomp $master;
    my @pids = ($master);
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $st, '<', $stat or next;
        my $line = <$st> // next;
        push @pids, $1 if $line =~ /^(\d+) \(.*\) \S+ (\d+) / && $2 == $master;
    }
    kill $sig, @pids;
}

# a cluster left stopped would never stop: it always goes on at the end
add_cleanup_handler(sub { local $?; main::pg_signal('CONT') });
add_cleanup_handler(\&DurableBlocks::reap_children);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a status long-poll whose client resets its stream while its re-read waits for the server ends when the read is answered
--- main_config
    worker_shutdown_timeout 1s;
--- http_config eval: $::http_config
--- config eval: $::config
--- init
my $id = "leave-$::run";
my $r = DurableBlocks::post("/pg/orchestrators/Hello/$id", '');
die "start: $r->{status}\n" unless $r->{status} == 202;

my $h = DurableH2->connect($ENV{TEST_NGINX_DURABLE_H2_PORT});
my $sid = $h->request('GET', "/pg/instances/$id?wait=20");

# the wait begins; the server stops; its 1 s re-read goes to the server
$h->pump(0.5);
main::pg_signal('STOP');
$h->pump(1.5);

# the client leaves while the read is in flight, then the read is answered
$h->reset($sid);
$h->pump(0.3);
main::pg_signal('CONT');
$h->pump(0.5);
$h->close;
Time::HiRes::sleep(0.3);
--- request eval
"GET /pg/instances/leave-$::run"
--- error_code: 202
--- response_body_like: "runtimeStatus":"Pending"
--- no_error_log eval
qr/AddressSanitizer|\[alert\]|exited on signal/



=== TEST 2: a worker that shuts down with an operation the store never answers exits after worker_shutdown_timeout
--- main_config
    worker_shutdown_timeout 1s;
--- http_config eval: $::http_config
--- config eval: $::config
--- init
# once the worker's connections are up: a read answered
Test::More::is(DurableBlocks::post("/pg/instances/hung-$::run/terminate",
                                   '')->{status}, 404, 'the store answers');
main::pg_signal('STOP');
DurableBlocks::later(0, 'GET', "/pg/instances/hung-$::run");
Time::HiRes::sleep(0.5);

# a graceful shutdown of the worker alone: the master starts another
my $worker = DurableBlocks::child_of(DurableBlocks::master_pid());
kill 'QUIT', $worker;

my $end = Time::HiRes::time() + 20;
Time::HiRes::sleep(0.1) while kill(0, $worker) && Time::HiRes::time() < $end;
Test::More::ok(!kill(0, $worker), 'the worker exited');
main::pg_signal('CONT');
--- request eval
"GET /pg/instances/hung-$::run"
--- error_code: 404
--- response_body_like: ^$
--- error_log eval
qr/\[alert\] .*operations still pending at the end of the shutdown/
--- timeout: 10
