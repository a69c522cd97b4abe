# The reserve of a store (durable_task_store reserve=): a store filled with
# Pending instances refuses what adds data with 507, while terminate may
# use half of the reserve and purge all of it, so the store can be emptied
# through the API and then takes starts again. Bad reserve= values fail at
# configuration time.

use Test::Nginx::Socket;
use lib 't/inc';
use DurableBackend;
use File::Path qw(rmtree);
use Digest::MD5 ();
use HTTP::Tiny;
use JSON::PP ();

repeat_each(1);
no_shuffle();
log_level('info');

# block 1: 9 Perl checks + 3 requests (status + body each);
# blocks 2-5: must_die + an error_log line each; block 6: 2 requests;
# block 7: 1 Perl check + 1 request; block 8: 4 Perl checks + 1 request;
# blocks 9-10: must_die + an error_log line each
plan tests => 9 + 3 * 2 + 4 * 2 + 2 * 2 + 1 + 2 + 4 + 2 + 2 * 2;

if ($ENV{TEST_NGINX_DATA_DIR}) {
    rmtree("$ENV{TEST_NGINX_DATA_DIR}/$_")
        for qw(reserve reserve-pct reserve-size reserve-half reserve-rounds);
}

sub port {
    return $ENV{TEST_NGINX_CLIENT_PORT} || $ENV{TEST_NGINX_SERVER_PORT}
           || $ENV{TEST_NGINX_PORT} || 1984;
}

# how many starts fit in block 1, with the default reserve
our $FIT;

our $http = HTTP::Tiny->new(timeout => 10, keep_alive => 1);

sub call {
    my ($method, $path, $body) = @_;
    return $::http->request($method, 'http://127.0.0.1:' . port() . "/f/$path",
        { (defined $body ? (content => $body) : ()),
          headers => { 'Content-Type' => 'application/json' } });
}

run_tests();

__DATA__

=== TEST 1: a store full of Pending instances is emptied through the API, then takes starts again
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/reserve max_size=1m;
--- config
    location /f/ {
        durable_task /f;
        durable_task_anonymous on;
        durable_task_purge_batch 20;
    }
--- init
my $input = '"' . ('x' x 500) . '"';
my ($r, @acked);
for my $i (1 .. 5000) {
    $r = main::call(POST => "orchestrators/Hello/p-$i", $input);
    last if $r->{status} != 202;
    push @acked, "p-$i";
}
Test::More::ok(@acked > 100 && @acked < 5000,
               scalar(@acked) . ' Pending instances fit');
$::FIT = @acked;
Test::More::is($r->{status}, 507, 'then a start is 507');
Test::More::like($r->{content}, qr/^\{"Message":"The store 'default' is full; terminate and purge instances[^"]*"\}$/,
                 'with a message that says how to recover');

# what adds data is refused, whatever its size
Test::More::is(main::call(POST => 'orchestrators/Hello/tiny', '1')->{status},
               507, 'a start with a tiny input too');
Test::More::is(main::call(POST => 'instances/p-1/raiseEvent/e', '1')->{status},
               507, 'a raised event too');
Test::More::is(main::call(POST => 'entities/counter/k?op=add', '1')->{status},
               507, 'an entity signal too');

# terminate takes the reserve, for every instance
my @bad = grep { main::call(POST => "instances/$_/terminate?reason=full")
                     ->{status} != 202 } @acked;
Test::More::is(scalar(@bad), 0, 'every Pending instance is terminated')
    or Test::More::diag("not terminated: @bad[0 .. 4]");

# half purged one by one, the rest by filter
my $half = int(@acked / 2);
@bad = grep { main::call(DELETE => "instances/$_")->{status} != 200 }
       @acked[0 .. $half - 1];
Test::More::is(scalar(@bad), 0, 'the first half is purged one by one');
$r = main::call(DELETE => 'instances?createdTimeFrom=2000-01-01T00:00:00Z'
                          . '&runtimeStatus=Terminated');
Test::More::is($r->{content}, '{"instancesDeleted":' . (@acked - $half) . '}',
               'the rest is purged by filter');
--- request eval
["POST /f/orchestrators/Hello/again\n\"" . ('y' x 500) . '"',
 "POST /f/instances/again/raiseEvent/e\n1",
 "GET /f/instances?showInput=false"]
--- more_headers
Content-Type: application/json
--- error_code eval
[202, 202, 200]
--- response_body_like eval
['^\{"id":"again",', '^$', '^\[\{"name":"Hello","instanceId":"again",[^\]]*\]$']



=== TEST 2: reserve=0 fails
--- http_config
    durable_task_store default path=/tmp reserve=0;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid reserve "0": use a size such as 64m or a percentage of max_size from 1% to 50%/



=== TEST 3: a percentage above 50% fails
--- http_config
    durable_task_store default path=/tmp reserve=60%;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid reserve "60%"/



=== TEST 4: a reserve of more than half of max_size fails
--- http_config
    durable_task_store default path=/tmp max_size=1m reserve=600k;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*durable_task_store "default": reserve= must be at most half of max_size/



=== TEST 5: a reserve that is not a size fails
--- http_config
    durable_task_store default path=/tmp reserve=lots;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid reserve "lots"/



=== TEST 6: a reserve as a percentage or as a size is accepted
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/reserve-pct max_size=4m reserve=25%;
    durable_task_store other path=$TEST_NGINX_DATA_DIR/reserve-size max_size=4m reserve=300k;
--- config
    location /f/ {
        durable_task /f;
        durable_task_anonymous on;
    }
--- request eval
["POST /f/orchestrators/Hello/r6\n1",
 "POST /f/orchestrators/Hello/r6?connection=other\n1"]
--- more_headers
Content-Type: application/json
--- error_code eval
[202, 202]
--- response_body_like eval
['^\{"id":"r6",', '^\{"id":"r6",']



=== TEST 7: a larger reserve leaves less room for starts
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/reserve-half max_size=1m reserve=50%;
--- config
    location /f/ {
        durable_task /f;
        durable_task_anonymous on;
    }
--- init
my ($r, $n) = (undef, 0);
for my $i (1 .. 5000) {
    $r = main::call(POST => "orchestrators/Hello/h-$i", '"' . ('x' x 500) . '"');
    last if $r->{status} != 202;
    $n++;
}
# the default reserve of a 1m store is 64 pages, a quarter of it
Test::More::ok($n > 10 && $n < $::FIT * 0.8,
               "$n starts fit with reserve=50%, $::FIT with the default");
--- request
POST /f/orchestrators/Hello/h-last
1
--- more_headers
Content-Type: application/json
--- error_code: 507
--- response_body_like eval
qr/^\{"Message":"The store 'default' is full; /



=== TEST 8: random ids: terminating them all does not fit in the reserve, terminating and purging in rounds does
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/reserve-rounds max_size=2m;
--- config
    location /f/ {
        durable_task /f;
        durable_task_anonymous on;
    }
--- init
# ids in no order: each terminate's history event lands on its own page
my ($r, @left);
for my $i (1 .. 20000) {
    my $id = Digest::MD5::md5_hex("round-$i");
    $r = main::call(POST => "orchestrators/Hello/$id", '"' . ('x' x 100) . '"');
    last if $r->{status} != 202;
    push @left, $id;
}
Test::More::is($r->{status}, 507, scalar(@left) . ' starts, then 507');

my ($rounds, $purged, @purges) = (0, 0);
while (@left && $rounds < 10) {
    $rounds++;
    my %done = map { $_ => 1 }
               grep { main::call(POST => "instances/$_/terminate")->{status}
                      == 202 } @left;
    @left = grep { !$done{$_} } @left;
    $r = main::call(DELETE => 'instances?createdTimeFrom=2000-01-01T00:00:00Z');
    push @purges, $r->{status};
    $purged += $1 if $r->{content} =~ /^\{"instancesDeleted":(\d+)\}$/;
    last if !%done;
}
Test::More::ok($rounds > 1, "$rounds rounds: the first could not terminate all");
Test::More::is_deeply(\@purges, [(200) x $rounds], 'every purge by filter is 200');
Test::More::ok(!@left && $purged > 100, "all $purged terminated and purged");
--- request
POST /f/orchestrators/Hello/after-rounds
1
--- more_headers
Content-Type: application/json
--- error_code: 202
--- response_body_like eval
qr/^\{"id":"after-rounds",/



=== TEST 9: an explicit reserve below 64 pages fails
--- http_config
    durable_task_store default path=/tmp reserve=1;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*durable_task_store "default": reserve= must be at least \d+ \(64 pages of \d+ bytes\)/



=== TEST 10: a percentage that comes to less than 64 pages fails
--- http_config
    durable_task_store default path=/tmp max_size=1m reserve=1%;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*durable_task_store "default": reserve= must be at least \d+ \(64 pages/
