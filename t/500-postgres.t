# A store on PostgreSQL (backend=postgres, docs/postgres.md) over the HTTP
# API: start, status, raise, terminate, purge, list, restart and rewind
# answer as on LMDB; with the database stopped (SIGSTOP), its requests get
# 503 with Retry-After after the store's timeout= while an LMDB store of
# the same nginx answers. The metrics page counts the store's instances;
# a store whose database has no schema (or another version) answers 503
# and says why in the error log.
#
# Needs a cluster whose default database has the schema (durable schema
# init), named by DURABLE_PG_HOSTADDR_CONNINFO and DURABLE_PG_DIR as
# util/pg.sh sets them: make test-postgres does all that.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBlocks qw(status_re);

my $conninfo = $ENV{DURABLE_PG_HOSTADDR_CONNINFO};

if (!$conninfo || !$ENV{DURABLE_PG_DIR}) {
    plan skip_all => 'no PostgreSQL cluster: DURABLE_PG_HOSTADDR_CONNINFO '
                     . 'and DURABLE_PG_DIR unset (make test-postgres)';
}

repeat_each(1);

# per request a status, a body and a no_error_log check (21 requests in
# all blocks but 7 and 11); block 7: 3 requests without no_error_log, and
# 2 Retry-After headers; block 11: one request, its header and error_log
plan tests => repeat_each() * (21 * 3 + 3 * 2 + 2 + 5);

# a hub of this run's own: the database outlives one run of the file
our $hub = 'pg' . $$;

# a database without the schema, for the refusal of block 11
our $bare = "bare$$";
system('createdb', $bare) == 0 or die "createdb $bare failed";
add_cleanup_handler(sub {
    local $?;
    system('dropdb', '--if-exists', '--force', $bare);
});

our $http_config = DurableBlocks::fresh_store('pg-lmdb')
    =~ s/default/lmdb/r
    . qq{    durable_task_store pg backend=postgres pool=2 timeout=1s\n}
    . qq{        "conninfo=$conninfo";\n};

# block 11 only: its alert would be a warning in every other block
our $bare_store =
      qq{    durable_task_store bare backend=postgres pool=1 timeout=1s\n}
    . qq{        "conninfo=$conninfo dbname=$bare";\n};

our $config = <<'_EOC_';
    location ~* ^/runtime/webhooks/durabletask(/|$) {
        durable_task;
        durable_task_anonymous on;
        durable_task_connection pg;
    }

    location /lmdb/ {
        durable_task /lmdb;
        durable_task_anonymous on;
        durable_task_connection lmdb;
    }

    location = /metrics {
        durable_task_metrics;
        durable_task_anonymous on;
    }
_EOC_

our $bare_location = <<'_EOC_';
    location /bare/ {
        durable_task /bare;
        durable_task_anonymous on;
        durable_task_connection bare;
    }
_EOC_

# every process of the cluster (the postmaster and its children). The
# postmaster first: a backend it forks for a connection just then is not
# among its children yet when they are read, so they are read until no
# new one shows up (one left running would answer that connection)
sub pg_signal {
    my ($sig) = @_;
    my $pidfile = "$ENV{DURABLE_PG_DIR}/data/postmaster.pid";
    open my $fh, '<', $pidfile or die "$pidfile: $!";
    my $master = <$fh>;
    close $fh;
    chomp $master;
    kill $sig, $master;
    my %done = ($master => 1);
    for my $round (1 .. 20) {
        my @new;
        for my $stat (glob '/proc/[0-9]*/stat') {
            open my $st, '<', $stat or next;
            my $line = <$st> // next;
            push @new, $1 if $line =~ /^(\d+) \(.*\) \S+ (\d+) /
                             && $2 == $master && !$done{$1};
        }
        last if !@new && $round > 3;
        kill $sig, @new;
        $done{$_} = 1 for @new;
        select undef, undef, undef, 0.05;
    }
}

# a cluster left stopped would never stop: it always goes on at the end
add_cleanup_handler(sub { local $?; main::pg_signal('CONT') });

sub rq {
    my ($method, $path, $body) = @_;
    return DurableBlocks::rq($::hub, $method, $path, $body);
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: start, then status: Pending, as on LMDB
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
[main::rq('POST', 'orchestrators/Hello/p1', '{"city":"Tokyo"}'),
 main::rq('GET', 'instances/p1')]
--- error_code eval: [202, 202]
--- response_body_like eval
['"id":"p1"',
 main::status_re('Hello', 'p1', 'Pending', '{"city":"Tokyo"}', 'null')]
--- no_error_log
[error]



=== TEST 2: a second start of an active instance is a conflict
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
[main::rq('POST', 'orchestrators/Hello/p2'),
 main::rq('POST', 'orchestrators/Hello/p2')]
--- error_code eval: [202, 409]
--- response_body_like eval
['"id":"p2"', '.']
--- no_error_log
[error]



=== TEST 3: raise an event, terminate, then the status says Terminated
--- http_config eval: $::http_config
--- config eval: $::config
--- more_headers
Content-Type: application/json
--- request eval
[main::rq('POST', 'instances/p2/raiseEvent/Approval', '{"ok":true}'),
 main::rq('POST', 'instances/p2/terminate?reason=enough'),
 main::rq('GET', 'instances/p2')]
--- error_code eval: [202, 202, 200]
--- response_body_like eval
['^$', '^$',
 main::status_re('Hello', 'p2', 'Terminated', 'null', '"enough"')]
--- no_error_log
[error]



=== TEST 4: list: both instances of the hub, in creation order
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
main::rq('GET', 'instances')
--- error_code: 200
--- response_body_like eval
'^\[\{"name":"Hello","instanceId":"p1".*\{"name":"Hello","instanceId":"p2".*\]$'
--- no_error_log
[error]



=== TEST 5: purge a terminated instance: gone afterwards
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
[main::rq('DELETE', 'instances/p2'),
 main::rq('GET', 'instances/p2')]
--- error_code eval: [200, 404]
--- response_body_like eval
['^\{"instancesDeleted":1\}$', '^$']
--- no_error_log
[error]



=== TEST 6: rewind of a Pending instance is refused with its status, as on LMDB
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
main::rq('POST', 'instances/p1/rewind?reason=again')
--- error_code: 412
--- response_body_like eval
'^"This orchestration has status Pending, but [^\n]*Failed[^\n]*"$'
--- no_error_log
[error]



=== TEST 7: the database stopped: 503 with Retry-After after timeout=, and the LMDB store answers meanwhile
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::pg_signal('STOP');
--- request eval
[main::rq('GET', 'instances/p1'),
 "GET /lmdb/instances/none",
 main::rq('POST', 'orchestrators/Hello/p3')]
--- error_code eval: [503, 404, 503]
--- response_headers eval
["Retry-After: 1", "", "Retry-After: 1"]
--- response_body_like eval
['^\{"Message":"The store \'pg\' is unavailable while [^:"]*: it did not answer in time',
 '^$',
 '^\{"Message":"The store \'pg\' is unavailable while [^:"]*: it did not answer in time']
--- timeout: 30



=== TEST 8: the database goes on: served again
--- http_config eval: $::http_config
--- config eval: $::config
--- init
main::pg_signal('CONT');
--- request eval
main::rq('GET', 'instances/p1')
--- error_code: 202
--- response_body_like eval
main::status_re('Hello', 'p1', 'Pending', '{"city":"Tokyo"}', 'null')
--- no_error_log
[error]



=== TEST 9: restart: a terminated instance over itself, with its name and input; a missing one is 404
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
[main::rq('POST', 'orchestrators/Hello/r1', '{"n":"\\u00e9"}'),
 main::rq('POST', 'instances/r1/terminate?reason=stop'),
 main::rq('POST', 'instances/r1/restart?restartWithNewInstanceId=false'),
 main::rq('GET', 'instances/r1'),
 main::rq('POST', 'instances/nope/restart')]
--- error_code eval: [202, 202, 202, 202, 404]
--- response_body_like eval
['"id":"r1"', '^$', '"id":"r1"',
 main::status_re('Hello', 'r1', 'Pending', '{"n":"\\u00e9"}', 'null'),
 '^$']
--- no_error_log
[error]



=== TEST 10: the metrics page counts the store's instances by status, its queue and its oldest item, and has no map of LMDB's
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
[DurableBlocks::rq("$::hub-m", 'POST', 'orchestrators/Hello/m1'),
 DurableBlocks::rq("$::hub-m", 'POST', 'orchestrators/Hello/m2'),
 DurableBlocks::rq("$::hub-m", 'POST', 'instances/m2/terminate'),
 "GET /metrics"]
--- error_code eval: [202, 202, 202, 200]
--- response_body_like eval
['"id":"m1"', '"id":"m2"', '^$',
 qr/\A(?!.*^durable_store_map_size_bytes\{store="pg"\})
   (?=.*^durable_instances\{store="pg",hub="$::hub-m",runtime_status="Pending"\}\x{20}1$)
   (?=.*^durable_instances\{store="pg",hub="$::hub-m",runtime_status="Terminated"\}\x{20}1$)
   (?=.*^durable_queue_depth\{store="pg",hub="$::hub-m",kind="orchestration"\}\x{20}1$)
   (?=.*^durable_ready_oldest_age_seconds\{store="pg",hub="$::hub-m",kind="orchestration"\}\x{20}[0-9]+\.[0-9]{6}$)
   /msx]
--- no_error_log
[error]



=== TEST 11: a database without the schema: 503 with a message, and the reason in the error log
--- http_config eval: $::http_config . $::bare_store
--- config eval: $::config . $::bare_location
--- request
GET /bare/instances/a
--- error_code: 503
--- response_headers
Retry-After: 1
--- response_body_like eval
'^\{"Message":"The store \'bare\' is not available: its database\'s schema or functions are not those this nginx serves; see the error log\."\}$'
--- error_log eval
qr/\[alert\].*store "bare": the database has no durable schema; make it with "durable schema init"/
--- no_error_log
[error]
