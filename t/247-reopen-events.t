# A store that cannot be opened is opened again on demand, at most once a
# second, for as long as it fails. Each try hands the store's events
# (posts, timers, thread tasks) to the backend; they are made once per
# process and reused, so a store that stays broken under traffic does not
# grow the process's memory. The debug line of each open says how many
# events it was given and how many of them had to be made.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use File::Path qw(rmtree);
use Time::HiRes ();
use DurableBlocks ();

repeat_each(1);
log_level('debug');

# per block: status + body + the log lines + the failed open's [alert]
my $v = `$Test::Nginx::Util::NginxBinary -V 2>&1`;
if ($v !~ /--with-debug/) {
    plan skip_all => 'nginx without --with-debug';
} else {
    plan tests => repeat_each() * (blocks() * 4);
}

our $data = $ENV{TEST_NGINX_DATA_DIR} // '';

if ($data) {
    rmtree("$data/reopen-corrupt");
    DurableBlocks::corrupt_store("$data/reopen-corrupt");
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a failed open's events are reused by the next try
--- http_config
    durable_task_store broken path=$TEST_NGINX_DATA_DIR/reopen-corrupt;
--- config
    location /b/ {
        durable_task /b;
        durable_task_anonymous on;
    }
--- init
# the process tried at its start; a request a second later tries again
Time::HiRes::sleep(1.5);
--- request
POST /b/orchestrators/Hello/r1?connection=broken
--- error_code: 503
--- response_body_like chomp
^\{"Message":"The store 'broken' is not available; see the error log\."\}$
--- grep_error_log eval
qr/durable host "broken": \d+ events, \d+ new, open:\d/
--- grep_error_log_out eval
qr/\Adurable host "broken": (\d+) events, \1 new, open:0
durable host "broken": \1 events, 0 new, open:0\n\z/
--- error_log eval
qr/\[alert\] .*durable: store "broken": cannot open store/
