# A PostgreSQL store whose database refuses writes for a moment (here a
# session made read-only, as a standby would answer; docs/postgres.md,
# "Errors that say try again"): each write is answered 503 with
# Retry-After, the client told to come back, where the functions' own
# error handlers had made it a 500; reads go on being served.
#
# Needs a cluster whose default database has the schema (durable schema
# init), named by DURABLE_PG_HOSTADDR_CONNINFO as util/pg.sh sets it:
# make test-postgres does all that.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBlocks qw(status_re);

my $conninfo = $ENV{DURABLE_PG_HOSTADDR_CONNINFO};

if (!$conninfo) {
    plan skip_all => 'no PostgreSQL cluster: DURABLE_PG_HOSTADDR_CONNINFO '
                     . 'unset (make test-postgres)';
}

repeat_each(1);

# per request a status, a body and a check of the error log; block 2: 2
# Retry-After headers
plan tests => repeat_each() * (6 * 3 + 2);

# a hub of this run's own: the database outlives one run of the file
our $hub = 'ro' . $$;

# two stores on one database: pg writes, ro is read-only
our $http_config =
      qq{    durable_task_store pg backend=postgres pool=1 timeout=2s\n}
    . qq{        "conninfo=$conninfo";\n}
    . qq{    durable_task_store ro backend=postgres pool=1 timeout=2s\n}
    . qq{        "conninfo=$conninfo }
    . qq{options='-c default_transaction_read_only=on'";\n};

our $config = <<'_EOC_';
    location ~* ^/runtime/webhooks/durabletask(/|$) {
        durable_task;
        durable_task_anonymous on;
        durable_task_connection pg;
    }

    location /ro/ {
        durable_task /ro;
        durable_task_anonymous on;
        durable_task_connection ro;
    }
_EOC_

sub rq {
    my ($method, $path, $body) = @_;
    return DurableBlocks::rq($::hub, $method, $path, $body);
}

# the read-only store's
sub ro {
    my ($method, $path, $body) = @_;
    return "$method /ro/$path" . ($path =~ /\?/ ? '&' : '?')
           . "taskHub=$::hub" . (defined $body ? "\n$body" : '');
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: an instance, started through the store that writes
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
[main::rq('POST', 'orchestrators/Hello/t1', '{"n":1}'),
 main::rq('GET', 'instances/t1')]
--- error_code eval: [202, 202]
--- response_body_like eval
['"id":"t1"',
 main::status_re('Hello', 't1', 'Pending', '{"n":1}', 'null')]
--- no_error_log
[error]



=== TEST 2: the read-only store: writes are 503 with Retry-After, not 500
--- http_config eval: $::http_config
--- config eval: $::config
--- more_headers
Content-Type: application/json
--- request eval
[main::ro('POST', 'instances/t1/raiseEvent/Approval', '{"ok":true}'),
 main::ro('POST', 'orchestrators/Hello/t2')]
--- error_code eval: [503, 503]
--- response_headers eval
["Retry-After: 1", "Retry-After: 1"]
--- response_body_like eval
['^\{"Message":"The store \'ro\' is unavailable while [^"]*its database asked for a retry; retry later\."\}$',
 '^\{"Message":"The store \'ro\' is unavailable while [^"]*its database asked for a retry; retry later\."\}$']
--- error_log eval
qr/store "ro": a batch of 1 failed to commit: ERROR:  cannot execute [^\n]* in a read-only transaction/



=== TEST 3: its reads are served, and the start was not applied
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
[main::ro('GET', 'instances/t1'),
 main::rq('GET', 'instances/t2')]
--- error_code eval: [202, 404]
--- response_body_like eval
[main::status_re('Hello', 't1', 'Pending', '{"n":1}', 'null'),
 '^$']
--- no_error_log
[error]
