# A full store (docs/reliability.md): writes answer 507 with a JSON message,
# nothing is half-written, reads keep working, and after max_size is
# raised and nginx reloaded, writes resume on the same data.

use Test::Nginx::Socket;
use File::Path qw(rmtree);
use lib 't/inc';
use DurableBackend;
use DurableBlocks ();
use JSON::PP ();
use Time::HiRes ();

master_on();
workers(2);
repeat_each(1);
log_level('info');

# tests per block (per request: status + body; init blocks add their own
# Perl checks; error_log lines count one each):
# (no_error_log patterns count per request)
#    1: 7 + 3 * 2      2: 3 + 2 * 4
plan tests => 13 + 11;

our $dir = ($ENV{TEST_NGINX_DATA_DIR} // '') . '/full';
rmtree($dir) if $ENV{TEST_NGINX_DATA_DIR};

our $check = $ENV{DURABLE_CHECK} || 'build/durable-check';

# the instances acknowledged while filling up, for block 2
our @ACKED;

# durable-check: (consistent?, [ids])
sub check_store {
    my $ok = system("$::check $::dir > /dev/null") == 0;
    my @ids = map { (split /\t/)[0] }
              split /\n/, `$::check --list-ids DurableFunctionsHub $::dir 2>/dev/null`;
    return ($ok, \@ids);
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: max_size=1m fills up: 507 {"Message":...} for starts and events, reads still 200, nothing half-written
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/full max_size=1m;
--- config
    location /f/ {
        durable_task /f;
        durable_task_anonymous on;
    }
--- init
my $big = '"' . ('x' x 60000) . '"';
my ($r, %sent);
for my $i (1 .. 100) {
    $r = DurableBlocks::post("/f/orchestrators/Hello/full-$i", $big);
    $sent{"full-$i"} = $r->{status};
    last if $r->{status} != 202;
    push @::ACKED, "full-$i";
}
# then small writes until even those do not fit
for my $i (1 .. 2000) {
    $r = DurableBlocks::post("/f/orchestrators/Hello/small-$i", '"' . ('s' x 500) . '"');
    $sent{"small-$i"} = $r->{status};
    last if $r->{status} != 202;
    push @::ACKED, "small-$i";
}
Test::More::ok(@::ACKED > 5 && @::ACKED < 2100,
               scalar(@::ACKED) . ' starts fit before the store filled up');
Test::More::is($r->{status}, 507, 'then 507');
Test::More::like($r->{content}, qr/^\{"Message":"The store 'default' is full[^"]*max_size[^"]*"\}$/,
                 'with a JSON message naming the store and max_size');
my $e = DurableBlocks::post("/f/instances/full-1/raiseEvent/ev", $big);
Test::More::is($e->{status}, 507, 'a raise-event that does not fit is 507 too');

my ($ok, $ids) = main::check_store();
Test::More::ok($ok, 'durable-check: the store is consistent');
my %have = map { $_ => 1 } @$ids;
my @half = grep { $sent{$_} != 202 && $have{$_} } keys %sent;
my @lost = grep { !$have{$_} } @::ACKED;
Test::More::ok(!@half && !@lost && @$ids == @::ACKED,
               'exactly the acknowledged starts exist')
    or Test::More::diag("half: @half; lost: @lost");
my $elog = do { local (@ARGV, $/) = $Test::Nginx::Util::ErrLogFile; <> };
Test::More::like($elog, qr/\[error\].*durable: store "default" is full while starting: its max_size is reached or its disk is full/,
                 'the error log says which store is full and why');
--- request eval
["GET /f/instances/full-1?showInput=false",
 "GET /f/instances?top=2&showInput=false",
 "POST /f/orchestrators/Hello/one-more\n\"" . ('y' x 60000) . '"']
--- error_code eval: [202, 200, 507]
--- response_body_like eval
['"instanceId":"full-1","runtimeStatus":"Pending"',
 '^\[\{"name":"Hello","instanceId":"full-1",',
 '^\{"Message":"[^"]+"\}$']



=== TEST 2: max_size=4m and a reload (HUP): writes resume on the same data, the old data is all there
--- init
my $conf = do { local (@ARGV, $/) = $Test::Nginx::Socket::ConfFile; <> };
$conf =~ s/max_size=1m/max_size=4m/ or die 'no max_size=1m in nginx.conf';
open my $fh, '>', $Test::Nginx::Socket::ConfFile or die $!;
print $fh $conf;
close $fh;
open my $pf, '<', $Test::Nginx::Socket::PidFile or die $!;
chomp(my $master = <$pf>);
kill 'HUP', $master or die "HUP $master: $!";

# new workers take over within a few hundred ms; old ones leave
my $r;
for my $i (1 .. 50) {
    Time::HiRes::sleep(0.1);
    $r = DurableBlocks::post("/f/orchestrators/Hello/after-$i", '"' . ('z' x 60000) . '"');
    last if $r->{status} == 202;
}
Test::More::is($r->{status}, 202, 'a big start fits after the reload');
my ($ok, $ids) = main::check_store();
Test::More::ok($ok, 'durable-check: the store is consistent');
my %have = map { $_ => 1 } @$ids;
Test::More::is(scalar(grep { !$have{$_} } @::ACKED), 0,
               'every start acknowledged before the reload is there');
--- request eval
["POST /f/orchestrators/Hello/after-big\n\"" . ('w' x 60000) . '"',
 "GET /f/instances/full-1?showInput=false"]
--- error_code eval: [202, 202]
--- response_body_like eval
['^\{"id":"after-big",',
 '"instanceId":"full-1","runtimeStatus":"Pending"']
--- no_error_log
[alert]
[crit]
