# Reloads that leave the module's shared zones behind: one to a
# configuration that keeps the module loaded but names no
# durable_task_store (its zones go with the old cycle), one that fails
# after the zones were set up (nginx frees them again). The worker
# processes started after them must not touch that memory (they did,
# and died at start, respawned over and over).

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks qw(master_pid child_of);
use File::Basename ();
use IO::Socket::INET ();
use Time::HiRes ();

master_on();
workers(1);
repeat_each(1);
no_shuffle();

# status + body + no_error_log + 1 Perl check; the error_log lines of
# the failures blocks 2 (1) and 3 (2) make on purpose
plan tests => 4 * blocks() + 1 + 2;

DurableBlocks::fresh_dirs('reload-no-store');

# the worker of the master, or 0 while it has none (a reload keeps the
# master, and its pid file)
sub worker_now {
    my $w = eval { child_of(master_pid()) };
    return $w // 0;
}

sub conf_file {
    return File::Basename::dirname(File::Basename::dirname(
               $Test::Nginx::Socket::PidFile)) . '/conf/nginx.conf';
}

sub read_conf {
    open my $in, '<', conf_file() or die conf_file() . ": $!";
    local $/;
    return <$in>;
}

# the configuration replaced by $text, and nginx told to reload it
sub reload_with {
    my ($text) = @_;
    my $master = master_pid();
    open my $out, '>', conf_file() or die conf_file() . ": $!";
    print $out $text;
    close $out;
    kill 'HUP', $master or die "HUP $master: $!";
}

# a worker other than $old, then the same one for a second (one that
# dies at start is replaced by another, and another)
sub new_worker_stays {
    my ($old) = @_;
    my ($new, $changes) = (0, 0);
    for (1 .. 200) {
        $new = worker_now();
        last if $new && $new != $old;
        Time::HiRes::sleep(0.05);
    }
    for (1 .. 20) {
        Time::HiRes::sleep(0.05);
        $changes++ if worker_now() != $new;
    }
    Test::More::ok($new && $new != $old && $changes == 0,
                   "the new worker $new stays up ($changes changes)");
}

run_tests();

__DATA__

=== TEST 1: after a reload to no store, the new worker stays up and serves
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
my $old = main::worker_now();

# the same configuration without a line of the module's directives
main::reload_with(join "\n",
                  grep { !/durable_task/ } split /\n/, main::read_conf());
main::new_worker_stays($old);
--- request
GET /ok
--- response_body
ok
--- no_error_log
exited on signal



=== TEST 2: a reload that fails after the store's line, then one to no store
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/reload-no-store;
--- config
    location = /ok {
        return 200 "ok\n";
    }
--- init
my $old = main::worker_now();
my $orig = main::read_conf();

# the store's line read, then an unknown directive: the reload fails and
# the cycle it made is freed
(my $bad = $orig) =~ s/(durable_task_store[^;]*;)/$1\n    t_no_such;/;
main::reload_with($bad);
Time::HiRes::sleep(0.5);

# then no store: its cycle may be where the failed one was
main::reload_with(join "\n", grep { !/durable_task/ } split /\n/, $orig);
main::new_worker_stays($old);
--- request
GET /ok
--- response_body
ok
--- no_error_log
exited on signal
--- error_log eval
qr/\[emerg\] .*unknown directive "t_no_such"/



=== TEST 3: a reload that fails after the zones were set up, then a respawn
--- http_config
--- config
    location = /ok {
        return 200 "ok\n";
    }
--- init
my $old = main::worker_now();
my $orig = main::read_conf();

# a store, and a listen on a port taken here: nginx sets the zones up,
# then cannot bind, and frees them (it tries for about 2.5 s)
my $port = DurableBlocks::free_port();
my $taken = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => $port, ReuseAddr => 0)
    or die "listen on $port: $!";
(my $bad = $orig) =~ s{(http \{)}{$1
    durable_task_store default path=$ENV{TEST_NGINX_DATA_DIR}/reload-no-store;
    server { listen 127.0.0.1:$port; }};
main::reload_with($bad);
Time::HiRes::sleep(4);
close $taken;

# the running configuration back in its file (no reload), its worker
# killed: the master starts another for the configuration it kept
open my $out, '>', main::conf_file() or die "conf: $!";
print $out $orig;
close $out;
# 0 would signal the whole process group
die "no worker to kill\n" unless $old > 1;
kill 'KILL', $old or die "KILL $old: $!";
main::new_worker_stays($old);
--- request
GET /ok
--- response_body
ok
--- no_error_log
exited on signal 11
--- error_log eval
[qr/\[emerg\] .*still could not bind\(\)/,
 qr/\[alert\] .*worker process \d+ exited on signal 9/]
