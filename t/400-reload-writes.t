# Writes in flight while nginx reloads: an old worker shutting down answers
# every write it took before it exits (docs/reliability.md: a reload never loses
# an acknowledged write). Before the writer's guard timer, an old worker
# exited as soon as only its writes were left (they hold no timer): the
# batch committed, the client got no answer, and its retry applied the
# same event a second time.

use Test::Nginx::Socket;
use lib 't/inc';
use DurableBackend;
use File::Path qw(rmtree);
use HTTP::Tiny;
use JSON::PP ();
use Time::HiRes ();
use POSIX ();

master_on();
workers(2);
repeat_each(1);
log_level("info");

# block 1: 5 Perl checks + status + body + no_error_log
plan tests => 5 + 3;

our $dir = ($ENV{TEST_NGINX_DATA_DIR} // '') . '/reload-writes';
rmtree($dir) if $ENV{TEST_NGINX_DATA_DIR};

our $http_config = <<'_EOC_';
    durable_task_store default path=$TEST_NGINX_DATA_DIR/reload-writes;
_EOC_

our $config = <<'_EOC_';
    location /rw/ {
        durable_task /rw;
        durable_task_anonymous on;
    }
_EOC_

# a client that sends raise-events to one instance on a keep-alive
# connection for $secs seconds, retrying (at most 3 times) a request that
# got no response byte, as clients do; writes "uid ack|lost" lines
sub client {
    my ($n, $secs, $out) = @_;
    my $port = $ENV{TEST_NGINX_CLIENT_PORT} || $ENV{TEST_NGINX_SERVER_PORT}
               || $ENV{TEST_NGINX_PORT} || 1984;
    my $ua = HTTP::Tiny->new(timeout => 10, keep_alive => 1);
    open my $fh, '>', $out or die "$out: $!";
    my $end = Time::HiRes::time() + $secs;
    for (my $i = 0; Time::HiRes::time() < $end && $i < 100000; $i++) {
        my $uid = "c$n-$i";
        my $state = 'lost';
        for my $try (1 .. 4) {
            my $r = $ua->request('POST',
                "http://127.0.0.1:$port/rw/instances/rw-1/raiseEvent/ev",
                { content => qq({"u":"$uid"}),
                  headers => { 'Content-Type' => 'application/json' } });
            if ($r->{status} == 202) { $state = 'ack'; last }
            # 599: HTTP::Tiny's own; the connection closed or reset
            last if $r->{status} != 599;
            $ua = HTTP::Tiny->new(timeout => 10, keep_alive => 1);
        }
        print $fh "$uid $state\n";
    }
    close $fh;
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: raise-events from 4 keep-alive clients while nginx reloads every 200 ms: each acknowledged event is there exactly once
--- http_config eval: $::http_config
--- config eval: $::config
--- init
my $port = $ENV{TEST_NGINX_CLIENT_PORT} || $ENV{TEST_NGINX_SERVER_PORT}
           || $ENV{TEST_NGINX_PORT} || 1984;
my $r = HTTP::Tiny->new->request('POST',
    "http://127.0.0.1:$port/rw/orchestrators/Hello/rw-1");
Test::More::is($r->{status}, 202, 'started rw-1');

my @kids;
for my $n (1 .. 4) {
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        main::client($n, 3, "$::dir.c$n");
        POSIX::_exit(0);
    }
    push @kids, $pid;
}

my $reloads = 0;
for (1 .. 14) {
    Time::HiRes::sleep(0.2);
    open my $pf, '<', $Test::Nginx::Socket::PidFile or last;
    chomp(my $master = <$pf> // '');
    close $pf;
    $reloads++ if $master && kill 'HUP', $master;
}
waitpid($_, 0) for @kids;

my (%state, $acked);
for my $n (1 .. 4) {
    open my $fh, '<', "$::dir.c$n" or die "$::dir.c$n: $!";
    while (<$fh>) {
        my ($uid, $st) = split;
        $state{$uid} = $st;
        $acked++ if $st eq 'ack';
    }
    unlink "$::dir.c$n";
}

# nginx stays up: the tool reads a snapshot next to it
my $check = $ENV{DURABLE_CHECK} || 'build/durable-check';
# a missing tool must not read as lost events
die "$check: not found or not executable (make build/durable-check)\n"
    unless -x $check;
my $dump = `$check --dump DurableFunctionsHub $::dir 2>/dev/null`;
die "$check --dump failed: exit " . ($? >> 8) . "\n" if $?;
my %count;
for my $line (split /\n/, $dump) {
    my $o = JSON::PP::decode_json($line);
    for my $m (@{ $o->{inbox} }) {
        next unless ($m->{EventType} // '') eq 'EventRaised';
        $count{ $m->{Input}{u} }++;
    }
}
my @lost = grep { $state{$_} eq 'ack' && !$count{$_} } keys %state;
my @twice = grep { $count{$_} > 1 } keys %count;

Test::More::ok($reloads >= 10 && $acked > 100,
               "$acked events acknowledged across $reloads reloads");
Test::More::is(scalar(@lost), 0, 'no acknowledged event lost')
    or Test::More::diag("lost: @lost[0 .. ($#lost < 9 ? $#lost : 9)]");
Test::More::is(scalar(@twice), 0, 'no event applied twice')
    or Test::More::diag("twice: @twice[0 .. ($#twice < 9 ? $#twice : 9)]");
my $consistent = system("$check $::dir > /dev/null") == 0;
Test::More::ok($consistent, 'durable-check: the store is consistent');
--- request
GET /rw/instances/rw-1?showInput=false
--- error_code: 202
--- response_body_like chomp
"runtimeStatus":"Pending"
--- no_error_log
left in connection
--- timeout: 20
