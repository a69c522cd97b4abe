# Two nginx on one PostgreSQL database, as two hosts behind a load
# balancer would be (docs/postgres.md): the nginx of the runner (A) and a
# second one this file starts on a port of its own (B), each with its own
# connections to the same task hub. What B writes, A serves; a claim
# waiting on A is woken by a start on B: B's batch sends a NOTIFY, A's
# listening connection hears it (the claim would otherwise wait for its
# whole wait=).
#
# Needs a cluster whose default database has the schema, named by
# DURABLE_PG_HOSTADDR_CONNINFO as util/pg.sh sets it: make test-postgres.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBlocks qw(status_re);
use File::Path ();
use HTTP::Tiny;
use POSIX ();
use Time::HiRes ();

my $conninfo = $ENV{DURABLE_PG_HOSTADDR_CONNINFO};

if (!$conninfo) {
    plan skip_all => 'no PostgreSQL cluster: DURABLE_PG_HOSTADDR_CONNINFO '
                     . 'unset (make test-postgres)';
}

repeat_each(1);

# block 1: 2 statuses and bodies; block 2: a status, a body and an
# error_log pattern; B's own start in each block's init; block 3: a
# status and a body
plan tests => repeat_each() * (2 * 2 + 3 + 2 + 2);

# hubs of this run's own: the database outlives one run of the file
our $hub = 'two' . $$;

our $http_config = qq{    durable_task_store pg backend=postgres }
                   . qq{"conninfo=$conninfo";\n};

our $location = <<'_EOC_';
    location ~* ^/runtime/webhooks/durabletask(/|$) {
        durable_task;
        durable_task_anonymous on;
        durable_task_connection pg;
    }
_EOC_

# the same server named twice by address, after a port nothing listens
# on: libpq tries them in turn, as it would a failed primary and the next
our $multi_config = do {
    my ($port) = $conninfo =~ /\bport=(\d+)/;
    (my $rest = $conninfo) =~ s/\b(?:hostaddr|host|port)=\S+\s*//g;
    qq{    durable_task_store pg backend=postgres "conninfo=}
    . qq{hostaddr=127.0.0.1,127.0.0.1 port=1,$port $rest }
    . qq{target_session_attrs=read-write";\n};
};

# B: the same module and store on a free port, in a directory of its own
our ($b_port, $b_dir, $b_pid);

sub start_b {
    $b_port = DurableBlocks::free_port();

    $b_dir = "$ENV{TEST_NGINX_DATA_DIR}/two-hosts-b";
    File::Path::rmtree($b_dir);
    File::Path::make_path("$b_dir/logs");

    my $modules = join '', map { "load_module $_;\n" }
                  split ' ', $ENV{TEST_NGINX_LOAD_MODULES} // '';
    # as the runner's: as root, workers of the same user
    my $user = $> == 0
               ? 'user ' . ($ENV{TEST_NGINX_WORKER_USER} || 'root') . ";\n"
               : '';

    open my $fh, '>', "$b_dir/nginx.conf" or die "$b_dir/nginx.conf: $!";
    print $fh <<"_EOC_";
$modules$user
worker_processes 1;
pid $b_dir/logs/nginx.pid;
error_log $b_dir/logs/error.log debug;
events { worker_connections 64; }
http {
    access_log off;
$http_config
    server {
        listen 127.0.0.1:$b_port;
$location
    }
}
_EOC_
    close $fh;

    my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';
    system($nginx, '-p', "$b_dir/", '-c', "$b_dir/nginx.conf") == 0
        or die "the second nginx did not start: see $b_dir/logs/error.log";

    for (1 .. 100) {
        last if -s "$b_dir/logs/nginx.pid";
        Time::HiRes::sleep(0.05);
    }
    $b_pid = do { local (@ARGV, $/) = "$b_dir/logs/nginx.pid"; <> };
    chomp $b_pid;
}

sub stop_b {
    local $?;
    return unless $b_pid;
    kill 'QUIT', $b_pid;
    for (1 .. 100) {
        last unless kill 0, $b_pid;
        Time::HiRes::sleep(0.05);
    }
    undef $b_pid;
}

# a request to B
sub on_b {
    my ($method, $path, $body) = @_;
    return HTTP::Tiny->new(timeout => 10)->request($method,
        "http://127.0.0.1:$b_port/runtime/webhooks/durabletask/$path",
        { content => $body // '',
          headers => { 'Content-Type' => 'application/json' } });
}

# from a child process: once A's error log says its claim waits, a start
# on B (the runner sends the claim meanwhile); reaped at the end
sub start_on_b_once_a_waits {
    my ($path) = @_;
    my $log = $Test::Nginx::Util::ErrLogFile;
    my $from = -s $log // 0;
    my $pid = fork();

    die "fork: $!" unless defined $pid;
    return if $pid;

    for (1 .. 400) {
        my $text = '';
        if (open my $fh, '<', $log) {
            seek $fh, $from, 0;
            local $/;
            $text = <$fh> // '';
        }
        last if $text =~ /durable wait: begins/;
        Time::HiRes::sleep(0.05);
    }
    eval { main::on_b('POST', $path) };
    POSIX::_exit(0);
}

sub rq {
    my ($hub, $method, $path, $body) = @_;
    return DurableBlocks::rq($hub, $method, $path, $body);
}

start_b();
add_cleanup_handler(\&main::stop_b);
add_cleanup_handler(\&DurableBlocks::reap_children);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: what B writes, A serves: a start on B, then its status and the hub's list on A
--- http_config eval: $::http_config
--- config eval: $::location
--- init
my $r = main::on_b('POST', "orchestrators/Hello/both-1?taskHub=$main::hub",
                   '{"from":"b"}');
Test::More::is($r->{status}, 202, 'started on B');
--- request eval
[main::rq($::hub, 'GET', 'instances/both-1'),
 main::rq($::hub, 'GET', 'instances')]
--- error_code eval: [202, 200]
--- response_body_like eval
[main::status_re('Hello', 'both-1', 'Pending', '{"from":"b"}', 'null'),
 '^\[\{"name":"Hello","instanceId":"both-1",[^\]]*\]$']



=== TEST 2: a claim waiting on A wakes when B starts an instance
--- http_config eval: $::http_config
--- config eval: $::location
--- init
main::start_on_b_once_a_waits("orchestrators/Hello/woken?taskHub=$main::hub-w");
Test::More::pass('a start on B is on its way');
--- request eval
main::rq("$::hub-w", 'POST', 'worker/orchestrations/claim?wait=60')
--- error_code: 200
--- response_body_like eval
'^\{"items":\[\{[^\]]*"instanceId":"woken"'
--- error_log
durable wait: woken
--- timeout: 30



=== TEST 3: a conninfo of several addresses: the first refuses, the next serves the hub
--- http_config eval: $::multi_config
--- config eval: $::location
--- request eval
main::rq($::hub, 'GET', 'instances/both-1')
--- error_code: 202
--- response_body_like eval
main::status_re('Hello', 'both-1', 'Pending', '{"from":"b"}', 'null')
