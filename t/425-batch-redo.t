# A batch of writes shares one LMDB txn. A write refused before it writes
# anything (a conflict) leaves the txn as it was and the batch goes on; a
# write that fails after writing (here: a start whose input is larger than
# the whole map) makes the batch run again, each write in a nested txn, so
# it fails alone: the other writes of its batch are applied and answered,
# nothing of the failed one is left behind.

use Test::Nginx::Socket;
use lib 't/inc';
use DurableBackend;
use File::Path qw(rmtree);
use HTTP::Tiny;
use IO::Socket::INET ();
use Time::HiRes ();

master_on();
workers(1);
repeat_each(1);
log_level('info');

# block 1: 6 Perl checks + status + body
# block 2: 4 Perl checks + status + body
plan tests => 8 + 6;

our $dir = ($ENV{TEST_NGINX_DATA_DIR} // '') . '/redo';
rmtree($dir) if $ENV{TEST_NGINX_DATA_DIR};

our $check = $ENV{DURABLE_CHECK} || 'build/durable-check';

our $http_config = <<'_EOC_';
    durable_task_store default path=$TEST_NGINX_DATA_DIR/redo max_size=1m;
    client_max_body_size 4m;
_EOC_

our $config = <<'_EOC_';
    location /b/ {
        durable_task /b;
        durable_task_anonymous on;
    }
_EOC_

sub port {
    return $ENV{TEST_NGINX_CLIENT_PORT} || $ENV{TEST_NGINX_SERVER_PORT}
           || $ENV{TEST_NGINX_PORT} || 1984;
}

# sends every request on a connection of its own: all but their last byte
# first, then the last bytes one right after the other, so that the first
# request's batch is still in the writer's thread when the others arrive
# and they queue into one batch; returns the status codes in order
sub together {
    my @reqs = @_;
    my (@socks, @tails, @status);

    for my $req (@reqs) {
        my ($path, $body) = @$req;
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => port(), Timeout => 10)
            or die "connect: $!";
        $s->autoflush(1);
        $s->print("POST $path HTTP/1.1\r\nHost: localhost\r\n"
                  . "Content-Type: application/json\r\n"
                  . "Content-Length: " . length($body) . "\r\n"
                  . "Connection: close\r\n\r\n" . substr($body, 0, -1));
        push @socks, $s;
        push @tails, substr($body, -1);
    }

    Time::HiRes::sleep(0.3);

    $socks[$_]->print($tails[$_]) for 0 .. $#socks;

    for my $s (@socks) {
        local $/;
        my $resp = <$s> // '';
        push @status, $resp =~ m{^HTTP/1\.1 (\d+)} ? $1 : 0;
        close $s;
    }

    return @status;
}

# durable-check: (consistent?, {id => 1})
sub check_store {
    my $ok = system("$::check $::dir > /dev/null") == 0;
    my %ids = map { (split /\t/)[0] => 1 }
              split /\n/, `$::check --list-ids DurableFunctionsHub $::dir 2>/dev/null`;
    return ($ok, \%ids);
}

sub errlog {
    return do { local (@ARGV, $/) = $Test::Nginx::Util::ErrLogFile; <> };
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a start too large for the map, batched with small ones: 507 for it alone, 202 for the others, the batch redone in nested txns
--- http_config eval: $::http_config
--- config eval: $::config
--- init
my $huge = '"' . ('h' x 1_500_000) . '"';
my ($redone, $all_ok, @statuses) = (0, 1);
# the worker must read several requests in one pass for them to share a
# batch: a few rounds make that near certain, one is enough
for my $round (1 .. 8) {
    my @reqs = map { ["/b/orchestrators/Hello/r$round-s$_", '{"n":1}'] } 1 .. 6;
    splice @reqs, 3, 0, ["/b/orchestrators/Hello/r$round-huge", $huge];
    my @st = main::together(@reqs);
    push @statuses, "@st";
    $all_ok = 0 unless "@st" eq '202 202 202 507 202 202 202';
    last if $redone = (main::errlog() =~ /the batch was redone/);
}
Test::More::ok($all_ok, 'each round: 507 for the huge start, 202 for the six others')
    or Test::More::diag(join '; ', @statuses);
Test::More::ok($redone, 'a batch with the failed write was redone')
    or Test::More::diag(main::errlog());
Test::More::like(main::errlog(),
    qr/\[info\].*durable: a write failed in a batch of [2-9] writes to store "default": the batch was redone, each write in a nested txn/,
    'the info line says how many writes the batch had');
my ($ok, $ids) = main::check_store();
Test::More::ok($ok, 'durable-check: the store is consistent');
my $rounds = @statuses;
my @small = grep { /^r\d+-s\d+$/ } keys %$ids;
Test::More::is(scalar(@small), 6 * $rounds, 'every acknowledged small start is there');
Test::More::ok(!grep({ /huge/ } keys %$ids), 'no huge start left anything');
--- request
GET /b/instances/r1-s1?showInput=true
--- error_code: 202
--- response_body_like: "instanceId":"r1-s1","runtimeStatus":"Pending","input":\{"n":1\}



=== TEST 2: refusals in a batch (conflicts with running instances) leave the others applied without a redo
--- http_config eval: $::http_config
--- config eval: $::config
--- init
my @reqs = map { ["/b/orchestrators/Hello/c-$_", '{"n":2}'] } 1 .. 6;
# c-1 .. c-3 exist and run: starting them again is 409
HTTP::Tiny->new->request('POST', 'http://127.0.0.1:' . main::port()
    . "/b/orchestrators/Hello/c-$_", { content => '1',
      headers => { 'Content-Type' => 'application/json' } }) for 1 .. 3;
my $before = () = main::errlog() =~ /the batch was redone/g;
my @st = main::together(@reqs);
Test::More::is("@st", '409 409 409 202 202 202', '409 for the running three, 202 for the new three');
my $after = () = main::errlog() =~ /the batch was redone/g;
Test::More::is($after, $before, 'refusals did not make the batch run again');
my ($ok, $ids) = main::check_store();
Test::More::ok($ok, 'durable-check: the store is consistent');
Test::More::is(scalar(grep { /^c-\d$/ } keys %$ids), 6, 'all six exist');
--- request
GET /b/instances/c-1?showInput=true
--- error_code: 202
--- response_body_like: "instanceId":"c-1","runtimeStatus":"Pending","input":1,
