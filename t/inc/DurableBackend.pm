package DurableBackend;

# The store backend a test file runs on. By default the stores of the .t
# files are LMDB directories under $TEST_NGINX_DATA_DIR, as written in
# them. With DURABLE_TEST_BACKEND=postgres the same files run against
# PostgreSQL: a block preprocessor rewrites every store line
#
#   durable_task_store NAME path=$TEST_NGINX_DATA_DIR/DIR [lmdb params];
#
# into a store of backend=postgres whose database is made for this run of
# the file (DROP and CREATE ... TEMPLATE, from the database named by
# DURABLE_TEST_PG_CONNINFO, which holds the schema); the LMDB parameters
# are dropped. Store lines with other paths (directive refusals) are left
# as written.
#
# The blocks that cannot pass there are listed below, one line each, and
# skipped with their reason through the runner's own --- skip_eval (or a
# whole file with plan skip_all), so the file's plan still holds:
#
#   %LMDB_ONLY  what tests LMDB itself (map size, sync=off, writes=loop,
#               reader checks, disk errors, directories and their files);
#   %NOT_YET    what the PostgreSQL backend does not do yet: operations
#               it answers 501 to, log lines and figures it lacks. Remove
#               an entry when its work lands;
#   %ONCE       files that do not depend on the backend: they run on LMDB
#               only, to keep the second pass short.
#
# A key is a file ('220-durability-modes.t') or a block of it
# ('160-rewind-restart.t TEST 2'). A value is the reason; "N: reason"
# gives the number of tests the block makes when it cannot be counted
# from its sections (assertions in --- init code, response body checks).
#
# Load it after Test::Nginx::Socket in every file that has stores (but
# t/500 and t/510, whose stores are written for PostgreSQL already):
#   use lib 't/inc';
#   use DurableBackend;
# make test-postgres sets the environment (t/README).

use strict;
use warnings;

use File::Basename ();

our %LMDB_ONLY = (
    '112-history-view.t TEST 5' => "a read's snapshot: LMDB's commit id",
    '220-durability-modes.t' => "sync=off, flush= and thread_pool=: LMDB's writer",
    '225-loop-writes.t' => "writes=loop and the LMDB writer's thread pool",
    '235-store-paths.t' => "store directories, their owners and modes",
    '245-debug-trace.t' => "the LMDB writer's debug trace",
    '251-own-thread-faults.t' => "the LMDB store's own thread",
    '246-late-reads.t' => "reads=later: when LMDB's reads are answered",
    '247-reopen-events.t' => 'an LMDB store that fails to open',
    '410-reader-check.t' => "reader_check=: LMDB's reader table",
    '420-store-full.t' => "max_size=: LMDB's map fills up",
    '421-store-reserve.t' => "reserve=: a part of LMDB's map",
    '425-batch-redo.t' => "LMDB's nested transactions: a start larger than the map",
    '430-disk-errors.t' => "disk errors under LMDB's files",
    '254-flush-fault.t' => "a failed flush of LMDB's file stops the store",
    '400-reload-writes.t' => "its checks read LMDB's files (durable-check)",
    '407-lock-wait-gone.t' => "another process holds LMDB's write lock",
    '100-start.t TEST 27' => "9: max_size=: LMDB's map fills up",
    '170-auth-hub-connection.t TEST 13' => 'a data file that is not LMDB',
    '170-auth-hub-connection.t TEST 14' => 'a data file that is not LMDB',
    '185-keepalive-refusals.t TEST 2' => 'among the refusals: a data file that is not LMDB, a full map, a rewind',
    '210-log-keys.t TEST 2' => 'a data file that is not LMDB',
    '211-log-key-spellings.t TEST 6' => "max_size=: LMDB's map fills up",
    '211-log-key-spellings.t TEST 7' => "max_size=: LMDB's map fills up",
    '211-log-key-spellings.t TEST 8' => "max_size=: LMDB's map fills up",
    '211-log-key-spellings.t TEST 9' => "max_size=: LMDB's map fills up",
    '211-log-key-spellings.t TEST 10' => "max_size=: LMDB's map fills up",
    '250-metrics.t TEST 1' => "the map's size and use and the reader slots: LMDB's",
    '250-metrics.t TEST 8' => "max_size=: LMDB's map fills up",
    '250-metrics.t TEST 17' => 'a data file that is not LMDB',
    '250-metrics.t TEST 20' => "the write lock another process holds: LMDB's",
    '320-worker-longpoll.t TEST 2' => 'a claim by name passes over the others on LMDB; PostgreSQL filters in its query',
    '130-purge.t TEST 10' =>
        "3: batches bounded by time are the LMDB store's",
    '130-purge.t TEST 11' => "2: what TEST 10 left",
    '131-purge-shutdown.t TEST 4' => "another process holds LMDB's write lock",
    '131-purge-shutdown.t TEST 5' => "another process holds LMDB's write lock",
    '100-start.t TEST 29' =>
        "5: new ids stamped under LMDB's write lock, for its B-tree pages",
);

our %NOT_YET = (
);

our %ONCE = (
    '000-runner.t' => "the runner's self-test uses no store",
    '003-free-port.t' => 'picks ports, no store',
    '232-store-directive.t' => 'the directive refused before a store opens',
    '252-loop-probe.t' => "the event loop's probe, whatever the backend",
    '260-grpc-directive.t' => 'refused before a store is asked',
    '261-grpc-nginx-errors.t' => 'nginx answers before a store is asked',
);

our $Backend = $ENV{DURABLE_TEST_BACKEND} || 'lmdb';
our $File = File::Basename::basename($0);
our %Made;

sub postgres { $Backend eq 'postgres' }

sub import {
    return unless postgres();

    my $conninfo = $ENV{DURABLE_TEST_PG_CONNINFO};
    if (!$conninfo) {
        Test::More::BAIL_OUT('DURABLE_TEST_BACKEND=postgres needs '
                             . 'DURABLE_TEST_PG_CONNINFO (make test-postgres)');
    }

    for my $list (\%LMDB_ONLY, \%NOT_YET, \%ONCE) {
        if (defined(my $why = $list->{$File})) {
            Test::More::plan(skip_all => "on PostgreSQL: $why");
        }
    }

    # registered first, so it runs after the file's own preprocessors
    # (each is put in front of the others) and sees their sections
    &Test::Nginx::Socket::add_block_preprocessor(\&preprocess);
}

# a section's value as the runners read it: Test::Base keeps a list
sub section {
    my ($block, $name) = @_;
    my $v = $block->{$name};
    return undef unless $v && @$v;
    return @$v == 1 ? $v->[0] : [@$v];
}

sub preprocess {
    my ($block) = @_;
    my $id = ($block->name // '') =~ /^(TEST \d+)/ ? "$File $1" : undef;

    if (defined $id) {
        for my $list (\%LMDB_ONLY, \%NOT_YET) {
            next unless defined(my $why = $list->{$id});
            skip_block($block, $why);
            return;
        }
    }

    for my $sec (qw(http_config main_config config)) {
        my $text = section($block, $sec);
        next unless defined $text && !ref $text
                    && $text =~ /durable_task_store/;
        $block->set_value($sec, store_lines($text));
    }
}

# the block is skipped with its reason; its --- init does not run (the
# real runner evaluates it even for a skipped block)
sub skip_block {
    my ($block, $why) = @_;
    my $n = $why =~ s/^(\d+):\s*// ? $1 : count_tests($block);

    delete $block->{init};
    $why =~ s/'/\\'/g;
    $block->set_value(skip_eval =>
                      "$n: Test::More::note('on PostgreSQL: $why'); 1");
}

# the tests a block makes in one repetition, as both runners count them:
# per request a status, a body check, a test per header named, one per
# log pattern; a must_die block one, then its log patterns
sub count_tests {
    my ($block) = @_;
    my $logs = 0;

    for my $sec (qw(error_log no_error_log access_log no_access_log)) {
        my $v = section($block, $sec);
        next unless defined $v;
        $logs += grep { ref $_ || /\S/ }
                 map { ref $_ ? $_ : split /\n+/ } ref $v eq 'ARRAY' ? @$v : $v;
    }

    return 1 + $logs if defined $block->{must_die};

    $logs++ if defined section($block, 'grep_error_log')
               && exists $block->{grep_error_log_out};

    my $req = section($block, 'pipelined_requests')
              // section($block, 'request');
    die "$File: cannot count the tests of \"" . $block->name . "\": "
        . "give their number in its entry\n"
        if !defined $req && !defined section($block, 'raw_request');
    my $nreq = ref $req eq 'ARRAY' ? @$req : 1;
    my $n = 0;

    for my $i (0 .. $nreq - 1) {
        $n += 1 + $logs;
        $n++ if grep { exists $block->{$_} }
                qw(response_body response_body_like response_body_unlike);
        for my $sec (qw(response_headers response_headers_like)) {
            my $v = section($block, $sec);
            next unless defined $v;
            $v = $v->[$i] if $nreq > 1;
            my %names = map { /^\s*!?\s*([^:\s]+)/ ? ($1 => 1) : () }
                        grep { defined && !/^\s*(?:#|$)/ }
                        ref $v eq 'ARRAY' ? @$v : split /\n/, $v // '';
            $n += keys %names;
            last;
        }
    }

    return $n;
}

# each store under $TEST_NGINX_DATA_DIR becomes a database of its own
sub store_lines {
    my ($text) = @_;

    $text =~ s{^(\s*)durable_task_store\s+(\S+)\s+([^;]*?)
               "?path=\$TEST_NGINX_DATA_DIR/+([^\s;"]+)"?([^;]*);}
              {$1 . store_line($2, $4)}gmex;

    return $text;
}

sub store_line {
    my ($name, $dir) = @_;
    my $db = lc "t${File}_$dir";

    $db =~ s/\.t_/_/;
    $db =~ s/[^a-z0-9_]+/_/g;
    $db = substr $db, 0, 63;
    make_database($db) unless $Made{$db}++;

    (my $conninfo = $ENV{DURABLE_TEST_PG_CONNINFO}) =~ s/\s*\bdbname=\S+//g;
    $conninfo =~ s/^\s+//;

    return qq{durable_task_store $name backend=postgres }
           . qq{"conninfo=$conninfo dbname=$db";};
}

# a new database from the template, for this run of the file
sub make_database {
    my ($db) = @_;
    # the last dbname= counts, as for libpq: make test-postgres appends
    # the template's to a conninfo that names the cluster's default one
    my ($template) = $ENV{DURABLE_TEST_PG_CONNINFO} =~ /.*\bdbname=(\S+)/;
    (my $admin = $ENV{DURABLE_TEST_PG_CONNINFO}) =~ s/\s*\bdbname=\S+//g;
    $admin .= ' dbname=postgres';

    die "DURABLE_TEST_PG_CONNINFO names no dbname= (the template)\n"
        unless $template;

    for my $sql ("DROP DATABASE IF EXISTS $db WITH (FORCE)",
                 "CREATE DATABASE $db TEMPLATE $template")
    {
        my $out = `psql -X -q -v ON_ERROR_STOP=1 -d '$admin' -c '$sql' 2>&1`;
        die "psql: $sql: $out\n" if $?;
    }
}

1;
