# A store on PostgreSQL (backend=postgres, docs/postgres.md) over the HTTP
# API: start, status, raise, terminate, purge and list answer as on LMDB;
# an operation the backend has no function for yet answers 501; with the
# database stopped (SIGSTOP), its requests get 503 with Retry-After after
# the store's timeout= while an LMDB store of the same nginx answers.
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

# per request a status, a body and a no_error_log check (12 requests in
# all blocks but 7); block 7: 3 requests without no_error_log, and 2
# Retry-After headers
plan tests => repeat_each() * (12 * 3 + 3 * 2 + 2);

# a hub of this run's own: the database outlives one run of the file
our $hub = 'pg' . $$;

our $http_config = DurableBlocks::fresh_store('pg-lmdb')
    =~ s/default/lmdb/r
    . qq{    durable_task_store pg backend=postgres pool=2 timeout=1s\n}
    . qq{        "conninfo=$conninfo";\n};

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
_EOC_

# every process of the cluster (the postmaster and its children)
sub pg_signal {
    my ($sig) = @_;
    my $pidfile = "$ENV{DURABLE_PG_DIR}/data/postmaster.pid";
    open my $fh, '<', $pidfile or die "$pidfile: $!";
    my $master = <$fh>;
    close $fh;
    chomp $master;
    # the postmaster first, and its children once it can fork no more: a
    # backend forked while the list was read would go on serving
    kill $sig, $master;
    select(undef, undef, undef, 0.2);
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $st, '<', $stat or next;
        my $line = <$st> // next;
        push @pids, $1 if $line =~ /^(\d+) \(.*\) \S+ (\d+) / && $2 == $master;
    }
    kill $sig, @pids;
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



=== TEST 6: rewind has no function yet: 501 with a JSON message
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
main::rq('POST', 'instances/p1/rewind?reason=again')
--- error_code: 501
--- response_body_like eval
'^\{"Message":"The store \'pg\' uses a backend that does not support [^"]+"\}$'
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
['^\{"Message":"The store \'pg\' did not answer in time',
 '^$',
 '^\{"Message":"The store \'pg\' did not answer in time']
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
