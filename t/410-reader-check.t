# Stale LMDB reader slots (docs/reliability.md): a process killed inside a read
# txn leaves its slot taken; each worker clears such slots when it opens
# the store and then every reader_check= interval (default 60s), so
# SIGKILLed workers never fill the reader table.

use Test::Nginx::Socket;
use lib 't/inc';
use DurableBackend;
use File::Path qw(rmtree);
use Time::HiRes ();

master_on();
workers(1);
repeat_each(1);

# block 1: 4 Perl checks + status + body + error_log
# block 2: must_die + the error log line
plan tests => 4 + 3 + 2;

our $dir = ($ENV{TEST_NGINX_DATA_DIR} // '') . '/reader-check';
rmtree($dir) if $ENV{TEST_NGINX_DATA_DIR};

our $check = $ENV{DURABLE_CHECK} || 'build/durable-check';

# the pids that hold a slot in the reader table (mdb_stat -r)
sub reader_pids {
    my @pids;
    for (`mdb_stat -r $::dir`) {
        push @pids, $1 if /^\s*(\d+)\s+[0-9a-f]+\s/i;
    }
    return @pids;
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a slot left by a killed reader is cleared within reader_check=1s
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/reader-check reader_check=1s;
--- config
    location /rc/ {
        durable_task /rc;
        durable_task_anonymous on;
    }
--- init
chomp(my $pid = `$::check --stale-reader $::dir`);
Test::More::like($pid, qr/^\d+$/, 'a reader took a slot and died');
Test::More::ok($pid =~ /^\d+$/ && !kill(0, $pid),
               "its process $pid is gone");
my @before = main::reader_pids();
Test::More::ok((grep { $_ eq $pid } @before), 'its slot is still taken')
    or Test::More::diag("slots: @before");
my @after;
for (1 .. 30) {
    Time::HiRes::sleep(0.1);
    @after = main::reader_pids();
    last unless grep { $_ eq $pid } @after;
}
Test::More::ok(!(grep { $_ eq $pid } @after), 'the worker cleared the slot')
    or Test::More::diag("slots: @after");
--- request
GET /rc/instances
--- error_code: 200
--- response_body chomp
[]
--- error_log
durable: store "default": cleared 1 stale reader slot(s)



=== TEST 2: reader_check= takes a time or off
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/reader-check reader_check=0;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid durable_task_store parameter "reader_check=0"/
