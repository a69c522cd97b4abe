# A batch of writes shares one LMDB txn. A write refused before it writes
# anything (a conflict) leaves the txn as it was and the batch goes on; a
# write that fails after writing (here: a start whose input is larger than
# the whole map) makes the batch run again, each write in a nested txn, so
# it fails alone: the other writes of its batch are applied and answered,
# nothing of the failed one is left behind.
#
# Which writes share a batch is up to timing, unless the batch waits: a
# helper (t/tools/hold_write_lock.c, DURABLE_HOLD_WRITE_LOCK) holds the
# store's write lock while the requests arrive, so the writer thread waits
# for it with the first start and takes the others that are whole by then
# into its batch once the lock is let go. Their bodies are sent before the
# lock is taken, but for a last byte, as a large one takes long to read.
# Without the helper (plain prove without a make build) both blocks are
# skipped.

use Test::Nginx::Socket;
use lib 't/inc';
use DurableBackend;
use File::Path qw(rmtree);
use HTTP::Tiny;
use IO::Socket::INET ();
use IPC::Open2 ();
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
our $hold = $ENV{DURABLE_HOLD_WRITE_LOCK} || 'build/t-hold-write-lock';

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

# sends each request but its last byte, on a connection of its own;
# returns the sockets and the bytes left to send
sub send_partial {
    my (@socks, @tails);

    for my $req (@_) {
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

    return (\@socks, \@tails);
}

# the status codes of the answers, in the order of the sockets
sub statuses {
    my @status;

    for my $s (@_) {
        local $/;
        my $resp = <$s> // '';
        push @status, $resp =~ m{^HTTP/1\.1 (\d+)} ? $1 : 0;
        close $s;
    }

    return @status;
}

# the first request, then the others while the store's write lock is held:
# the writer thread waits with the first, the others queue behind it, and
# all of them are one batch once the lock is let go; returns the statuses
sub one_batch {
    my ($first, @rest) = @_;
    my ($out, $in);

    # the others' bodies first, so that nginx has read most of a large one
    # (slow under ASan) before the lock is taken: only their last bytes are
    # left to send while the batch waits
    my ($socks, $tails) = send_partial(@rest);
    Time::HiRes::sleep(1);

    my $pid = IPC::Open2::open2($out, $in, $::hold, $::dir, 20)
        or die "$::hold: $!";
    my $line = <$out> // '';
    die "$::hold did not take the lock: $line" unless $line eq "held\n";

    # the first start is in the writer thread, waiting for the lock, before
    # the others are whole: the batch starts with it, whatever their order
    my ($head, $head_tail) = send_partial($first);
    $head->[0]->print($head_tail->[0]);
    Time::HiRes::sleep(0.3);
    $socks->[$_]->print($tails->[$_]) for 0 .. $#$socks;
    Time::HiRes::sleep(2);

    close $in;
    waitpid($pid, 0);

    return statuses(@$head, @$socks);
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
--- skip_eval: 8: !-x $::hold
--- init
if (-x $::hold) {
    my $huge = '"' . ('h' x 1_500_000) . '"';
    my @reqs = map { ["/b/orchestrators/Hello/s$_", '{"n":1}'] } 1 .. 6;
    splice @reqs, 3, 0, ["/b/orchestrators/Hello/huge", $huge];
    my @st = main::one_batch(["/b/orchestrators/Hello/s0", '{"n":1}'],
                             @reqs);
    Test::More::is("@st", '202 202 202 202 507 202 202 202',
        '507 for the huge start, 202 for the seven others');
    # eight unless a loaded host had not read them all when the lock went
    Test::More::like(main::errlog(),
        qr/\[info\].*durable: a write failed in a batch of [2-8] writes to store "default": the batch was redone, each write in a nested txn/,
        'the batch with the huge start was redone, and the info line says so');
    Test::More::like(main::errlog(),
        qr/\[error\].*durable: 1 of a batch of [2-8] writes to store "default" failed: MDB_MAP_FULL/,
        'the error line names the one failed write and the store error');
    my ($ok, $ids) = main::check_store();
    Test::More::ok($ok, 'durable-check: the store is consistent');
    my @small = grep { /^s\d$/ } keys %$ids;
    Test::More::is(scalar(@small), 7,
        'every acknowledged small start is there');
    Test::More::ok(!grep({ /huge/ } keys %$ids), 'the huge start left nothing');
}
--- request
GET /b/instances/s1?showInput=true
--- error_code: 202
--- response_body_like: "instanceId":"s1","runtimeStatus":"Pending","input":\{"n":1\}



=== TEST 2: refusals in a batch (conflicts with running instances) leave the others applied without a redo
--- http_config eval: $::http_config
--- config eval: $::config
--- skip_eval: 6: !-x $::hold
--- init
if (-x $::hold) {
    my @reqs = map { ["/b/orchestrators/Hello/c-$_", '{"n":2}'] } 1 .. 6;
    # c-1 .. c-3 exist and run: starting them again is 409
    HTTP::Tiny->new->request('POST', 'http://127.0.0.1:' . main::port()
        . "/b/orchestrators/Hello/c-$_", { content => '1',
          headers => { 'Content-Type' => 'application/json' } }) for 1 .. 3;
    my $before = () = main::errlog() =~ /the batch was redone/g;
    my @st = main::one_batch(@reqs);
    Test::More::is("@st", '409 409 409 202 202 202', '409 for the running three, 202 for the new three');
    my $after = () = main::errlog() =~ /the batch was redone/g;
    Test::More::is($after, $before, 'refusals did not make the batch run again');
    my ($ok, $ids) = main::check_store();
    Test::More::ok($ok, 'durable-check: the store is consistent');
    Test::More::is(scalar(grep { /^c-\d$/ } keys %$ids), 6,
        'all six exist');
}
--- request
GET /b/instances/c-1?showInput=true
--- error_code: 202
--- response_body_like: "instanceId":"c-1","runtimeStatus":"Pending","input":1,
