# A reload to a configuration that keeps the module loaded but names no
# durable_task_store: the module's shared zones go with the old cycle, and
# the new worker processes must not touch them (they did, and died at
# start, respawned over and over).

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks qw(master_pid child_of);
use File::Basename ();
use Time::HiRes ();

master_on();
workers(1);
repeat_each(1);
no_shuffle();

# status + body + no_error_log + 1 Perl check
plan tests => 4 * blocks();

DurableBlocks::fresh_dirs('reload-no-store');

# the worker of the master, or 0 while it has none
sub worker_now {
    my ($master) = @_;
    my $w = eval { child_of($master) };
    return $w // 0;
}

run_tests();

__DATA__

=== TEST 1: after a reload to no store at all, the new worker stays up and serves
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/reload-no-store;
--- config
    location = /ok {
        return 200 "ok\n";
    }
    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_anonymous on;
    }
--- init
my $master = DurableBlocks::master_pid();
my $old = main::worker_now($master);
my $conf = File::Basename::dirname(File::Basename::dirname(
           $Test::Nginx::Socket::PidFile))
           . '/conf/nginx.conf';

# the same configuration without a line of the module's directives
open my $in, '<', $conf or die "$conf: $!";
my $text = join '', grep { !/durable_task/ } <$in>;
close $in;
open my $out, '>', $conf or die "$conf: $!";
print $out $text;
close $out;

kill 'HUP', $master or die "HUP $master: $!";

# a new worker, then the same one for a second (one that dies at start
# is replaced by another, and another)
my ($new, $changes) = (0, 0);
for (1 .. 100) {
    $new = main::worker_now($master);
    last if $new && $new != $old;
    Time::HiRes::sleep(0.05);
}
for (1 .. 20) {
    Time::HiRes::sleep(0.05);
    my $w = main::worker_now($master);
    $changes++ if $w != $new;
}
Test::More::ok($new && $new != $old && $changes == 0,
               "the new worker $new stays up ($changes changes)");
--- request
GET /ok
--- response_body
ok
--- no_error_log
exited on signal
