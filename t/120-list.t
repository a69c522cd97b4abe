# List instances: GET B/instances (docs/http-api.md): filters, top,
# order, continuation tokens, bounded scans.

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks ();
use HTTP::Tiny;
use JSON::PP ();
use POSIX ();

repeat_each(1);

# tests per block (per request: status + body + each header line; init
# blocks add their own Perl checks):
#    1: 4      2: 10     3: 20     4: 6      5: 4      6: 15     7: 30
#    8: 4+3    9: 4     10: 6+5   11: 8+3   12: 6+3   13: 6+3
plan tests => 4 + 10 + 20 + 6 + 4 + 15 + 34 + 7 + 4 + 11 + 11 + 9 + 9;

our $http_config = DurableBlocks::fresh_store('list');

our $config = $DurableBlocks::API_LOCATION . <<'_EOC_';
    location /budget/ {
        durable_task /budget;
        durable_task_anonymous on;
        durable_task_list_scan_budget 5;
    }

    location /bytes/ {
        durable_task /bytes;
        durable_task_anonymous on;
        durable_task_list_max_bytes 1k;
    }
_EOC_

our $L = '/runtime/webhooks/durabletask/instances';
our $TIME = '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ';

# query times around the moment the file is loaded: every instance of this
# file is created later than $T{past} and earlier than $T{future}
our %T;
{
    my $now = time;
    my $f = sub { POSIX::strftime($_[0], gmtime($_[1])) };
    %T = (
        past       => $f->('%Y-%m-%dT%H:%M:%SZ', $now - 3600),
        past_frac  => $f->('%Y-%m-%dT%H:%M:%S', $now - 3600) . '.1234567Z',
        past_min   => $f->('%Y-%m-%dT%H:%MZ', $now - 3600),
        future     => $f->('%Y-%m-%dT%H:%M:%SZ', $now + 3600),
        today      => $f->('%Y-%m-%d', $now),
        yesterday  => $f->('%Y-%m-%d', $now - 86400),
        tomorrow   => $f->('%Y-%m-%d', $now + 86400),
        # now - 1 h, written in +02:00 (reads as now + 1 h if the offset
        # were ignored), and now + 1 h written in -05:00 (now - 4 h)
        from_plus2 => $f->('%Y-%m-%dT%H:%M:%S', $now - 3600 + 7200) . '%2B02:00',
        to_minus5  => $f->('%Y-%m-%dT%H:%M:%S', $now + 3600 - 18000) . '-05:00',
        to_plus0   => $f->('%Y-%m-%dT%H:%M:%S', $now + 3600) . '%2B0000',
        # the same with '+' unescaped, which decodes to a space
        from_plus2_raw => $f->('%Y-%m-%dT%H:%M:%S', $now - 3600 + 7200) . '+02:00',
        to_plus0_raw   => $f->('%Y-%m-%dT%H:%M:%S', $now + 3600) . '+0000',
    );
}

sub item_re {
    my ($id, $status, $input) = @_;
    # $input: JSON text, or a ref to a regex
    my $in = ref $input ? $$input : quotemeta($input);
    return quotemeta(qq({"name":"Hello","instanceId":"$id","runtimeStatus":"$status",))
           . '"input":' . $in . quotemeta(qq(,"customStatus":null,"output":))
           . '[^,]*,"createdTime":"' . $TIME . '","lastUpdatedTime":"' . $TIME . '"\}';
}

# an anchored regex of a whole list, items given as [id, status, input]
sub list_re {
    return '^\[' . join(',', map { item_re(@$_) } @_) . '\]$';
}

sub ids_re {
    my ($status, $input, @ids) = @_;
    return list_re(map { [$_, $status, $input] } @ids);
}

our $tiny = HTTP::Tiny->new(timeout => 20, keep_alive => 1);

sub http {
    my ($method, $path, $token, $body) = @_;
    my $port = $ENV{TEST_NGINX_CLIENT_PORT} || $ENV{TEST_NGINX_SERVER_PORT};
    my $sep = $path =~ /\?/ ? '&' : '?';
    my $code = $path =~ m{^/(budget|bytes)/} ? '' : "${sep}code=testkey123";
    my %opts;
    $opts{headers}{'x-ms-continuation-token'} = $token if defined $token;
    if (defined $body) {
        $opts{headers}{'content-type'} = 'application/json';
        $opts{content} = $body;
    }
    return $tiny->request($method, "http://127.0.0.1:$port$path$code",
                          \%opts);
}

# follows continuation tokens; returns (items, page sizes, tokens, errors)
sub list_all {
    my ($path) = @_;
    my (@items, @sizes, @tokens, @errors);
    my $token;
    for (1 .. 100000) {
        my $r = http('GET', $path, $token);
        if ($r->{status} != 200) {
            push @errors, "$r->{status} $r->{content}";
            last;
        }
        my $page = JSON::PP::decode_json($r->{content});
        push @items, @$page;
        push @sizes, scalar @$page;
        $token = $r->{headers}{'x-ms-continuation-token'};
        push @tokens, $token;
        last unless defined $token;
    }
    return (\@items, \@sizes, \@tokens, \@errors);
}

sub start {
    my ($hub, @ids) = @_;
    my $bad = 0;
    for my $id (@ids) {
        my $r = http('POST', "/runtime/webhooks/durabletask/orchestrators/Hello/$id?taskHub=$hub");
        $bad++ if $r->{status} != 202;
    }
    return $bad;
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: an empty hub lists [] with 200 and no continuation token
--- http_config eval: $::http_config
--- config eval: $::config
--- request
GET /runtime/webhooks/durabletask/instances?taskHub=L1&code=testkey123
--- error_code: 200
--- response_headers
!x-ms-continuation-token
Content-Type: application/json; charset=utf-8
--- response_body chomp
[]



=== TEST 2: items are status payloads ordered by (createdTime, id), not by id; trailing slash works
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/b?taskHub=L2&code=testkey123\n\"b\"",
 "POST /runtime/webhooks/durabletask/orchestrators/Hello/a?taskHub=L2&code=testkey123\n\"a\"",
 "POST /runtime/webhooks/durabletask/orchestrators/Hello/c?taskHub=L2&code=testkey123\n\"c\"",
 "GET /runtime/webhooks/durabletask/instances?taskHub=L2&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances/?taskHub=L2&code=testkey123"]
--- error_code eval: [202, 202, 202, 200, 200]
--- response_body_like eval
['^\{"id":"b"', '^\{"id":"a"', '^\{"id":"c"',
 main::list_re(['b', 'Pending', '"b"'], ['a', 'Pending', '"a"'], ['c', 'Pending', '"c"']),
 main::list_re(['b', 'Pending', '"b"'], ['a', 'Pending', '"a"'], ['c', 'Pending', '"c"'])]



=== TEST 3: runtimeStatus: one, a comma list, repeated, any case; OR within, AND with the prefix
--- request eval
["POST /runtime/webhooks/durabletask/orchestrators/Hello/p1?taskHub=L3&code=testkey123",
 "POST /runtime/webhooks/durabletask/orchestrators/Hello/s1?taskHub=L3&code=testkey123",
 "POST /runtime/webhooks/durabletask/orchestrators/Hello/t1?taskHub=L3&code=testkey123",
 "POST /runtime/webhooks/durabletask/instances/s1/suspend?taskHub=L3&code=testkey123",
 "POST /runtime/webhooks/durabletask/instances/t1/terminate?taskHub=L3&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances?runtimeStatus=Pending&taskHub=L3&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances?runtimeStatus=pending,%20%09TERMINATED%09&taskHub=L3&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances?runtimeStatus=Suspended&runtimeStatus=terminated&taskHub=L3&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances?runtimeStatus=Running,Completed&taskHub=L3&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances?runtimeStatus=Pending,Suspended&instanceIdPrefix=s&taskHub=L3&code=testkey123"]
--- error_code eval: [202, 202, 202, 202, 202, 200, 200, 200, 200, 200]
--- response_body_like eval
['^\{"id":"p1"', '^\{"id":"s1"', '^\{"id":"t1"', '^$', '^$',
 main::list_re(['p1', 'Pending', 'null']),
 main::list_re(['p1', 'Pending', 'null'], ['t1', 'Terminated', 'null']),
 main::list_re(['s1', 'Suspended', 'null'], ['t1', 'Terminated', 'null']),
 '^\[\]$',
 main::list_re(['s1', 'Suspended', 'null'])]



=== TEST 4: an unknown runtimeStatus is 400 naming it; an empty item is ignored
--- request eval
["GET /runtime/webhooks/durabletask/instances?runtimeStatus=Pending,Bogus&taskHub=L3&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances?runtimeStatus=Unknown&taskHub=L3&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances?runtimeStatus=Pending,&taskHub=L3&code=testkey123"]
--- error_code eval: [400, 400, 200]
--- response_body_like eval
['^\{"Message":"[^"]*Bogus[^"]*"\}$', '^\{"Message":"[^"]*Unknown[^"]*"\}$',
 main::list_re(['p1', 'Pending', 'null'])]



=== TEST 5: instanceIdPrefix is a case-sensitive prefix; showInput=false nulls every input
--- request eval
["GET /runtime/webhooks/durabletask/instances?instanceIdPrefix=S&taskHub=L3&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances?showInput=false&taskHub=L2&code=testkey123"]
--- error_code eval: [200, 200]
--- response_body_like eval
['^\[\]$', main::ids_re('Pending', 'null', 'b', 'a', 'c')]



=== TEST 6: top: a token while more remain; 0, above max, not an integer: 400
--- request eval
["GET /runtime/webhooks/durabletask/instances?top=1&taskHub=L2&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances?top=3&taskHub=L2&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances?top=1000&taskHub=L2&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances?top=0&taskHub=L2&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances?top=1001&taskHub=L2&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances?top=2.5&taskHub=L2&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances?top=-1&taskHub=L2&code=testkey123"]
--- error_code eval: [200, 200, 200, 400, 400, 400, 400]
--- response_headers_like eval
["x-ms-continuation-token: [^,\\s]+", "", "", "", "", "", ""]
--- response_body_like eval
[main::ids_re('Pending', '"b"', 'b'),
 main::ids_re('Pending', \'"[abc]"', 'b', 'a', 'c'),
 main::ids_re('Pending', \'"[abc]"', 'b', 'a', 'c'),
 ('^\{"Message":"[^"]*top[^"]*"\}$') x 4]



=== TEST 7: createdTimeFrom/To: inclusive, ISO 8601 with fraction, minutes, date alone, offsets (a raw '+' too); a bound at the epoch is a bound
--- request eval
["GET $::L?createdTimeFrom=$::T{past}&createdTimeTo=$::T{future}&taskHub=L2&code=testkey123",
 "GET $::L?createdTimeFrom=$::T{past_frac}&taskHub=L2&code=testkey123",
 "GET $::L?createdTimeFrom=$::T{past_min}&taskHub=L2&code=testkey123",
 "GET $::L?createdTimeFrom=$::T{future}&taskHub=L2&code=testkey123",
 "GET $::L?createdTimeTo=$::T{past}&taskHub=L2&code=testkey123",
 "GET $::L?createdTimeFrom=$::T{today}&createdTimeTo=$::T{tomorrow}&taskHub=L2&code=testkey123",
 "GET $::L?createdTimeTo=$::T{today}&taskHub=L2&code=testkey123",
 "GET $::L?createdTimeFrom=$::T{from_plus2}&taskHub=L2&code=testkey123",
 "GET $::L?createdTimeTo=$::T{to_minus5}&taskHub=L2&code=testkey123",
 "GET $::L?createdTimeTo=$::T{to_plus0}&taskHub=L2&code=testkey123",
 "GET $::L?createdTimeFrom=$::T{from_plus2_raw}&taskHub=L2&code=testkey123",
 "GET $::L?createdTimeTo=$::T{to_plus0_raw}&taskHub=L2&code=testkey123",
 "GET $::L?createdTimeTo=1970-01-01T00:00:00Z&taskHub=L2&code=testkey123",
 "GET $::L?createdTimeFrom=1970-01-01T00:00:00Z&taskHub=L2&code=testkey123",
 "GET $::L?createdTimeFrom=2020-13-01&taskHub=L2&code=testkey123",
 "GET $::L?createdTimeTo=yesterday&taskHub=L2&code=testkey123",
 "GET $::L?createdTimeFrom=2020-02-30T00:00:00Z&taskHub=L2&code=testkey123"]
--- error_code eval: [(200) x 14, 400, 400, 400]
--- response_body_like eval
[(main::ids_re('Pending', \'"[abc]"', 'b', 'a', 'c')) x 3,
 '^\[\]$', '^\[\]$',
 main::ids_re('Pending', \'"[abc]"', 'b', 'a', 'c'),
 '^\[\]$',
 (main::ids_re('Pending', \'"[abc]"', 'b', 'a', 'c')) x 5,
 '^\[\]$',
 main::ids_re('Pending', \'"[abc]"', 'b', 'a', 'c'),
 '^\{"Message":"[^"]*createdTimeFrom[^"]*"\}$',
 '^\{"Message":"[^"]*createdTimeTo[^"]*"\}$',
 '^\{"Message":"[^"]*createdTimeFrom[^"]*"\}$']



=== TEST 8: inclusive to the microsecond: [S, S.999999] holds an instance created in second S
--- init
my $r = main::http('GET', '/runtime/webhooks/durabletask/instances/a?taskHub=L2');
my ($s) = $r->{content} =~ /"createdTime":"([^"]+)Z"/;
my ($Y, $M, $D, $h, $m, $sec) = $s =~ /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)$/;
my $epoch = do { local $ENV{TZ} = 'UTC'; POSIX::tzset(); my $e = POSIX::mktime($sec, $m, $h, $D, $M - 1, $Y - 1900); $e };
my $prev = POSIX::strftime('%Y-%m-%dT%H:%M:%S', gmtime($epoch - 1));
my $next = POSIX::strftime('%Y-%m-%dT%H:%M:%S', gmtime($epoch + 1));
my $has = sub { my $q = shift; my $x = main::http('GET', "/runtime/webhooks/durabletask/instances?instanceIdPrefix=a&taskHub=L2&$q"); $x->{content} =~ /"instanceId":"a"/ ? 1 : 0 };
Test::More::is($has->("createdTimeFrom=${s}Z&createdTimeTo=${s}.999999Z"), 1, "[$s, $s.999999] holds it");
Test::More::is($has->("createdTimeFrom=${s}.000000Z&createdTimeTo=${s}.9999999Z"), 1, "seven fraction digits accepted");
Test::More::is($has->("createdTimeTo=${prev}.999999Z"), 0, "to the second before: excluded");
Test::More::is($has->("createdTimeFrom=${next}Z"), 0, "from the second after: excluded");
--- request
GET /runtime/webhooks/durabletask/instances?createdTimeFrom=2000-01-01&createdTimeTo=2000-01-01T00:00:00.000001Z&taskHub=L2&code=testkey123
--- error_code: 200
--- response_headers
!x-ms-continuation-token
--- response_body chomp
[]



=== TEST 9: a malformed continuation token is 400 (garbage, or too short to be a position)
--- request eval
["GET /runtime/webhooks/durabletask/instances?taskHub=L2&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances?taskHub=L2&code=testkey123"]
--- more_headers eval
["x-ms-continuation-token: !!not-a-token!!", "x-ms-continuation-token: AAAA"]
--- error_code eval: [400, 400]
--- response_body_like eval
['^\{"Message":"[^"]*token[^"]*"\}$', '^\{"Message":"[^"]*token[^"]*"\}$']



=== TEST 10: following tokens (top=2 over 5) returns each instance exactly once, in order
--- init
Test::More::is(main::start('Cont', map { "k$_" } 1 .. 5), 0, '5 instances started');
my ($items, $sizes, $tokens, $errors) = main::list_all('/runtime/webhooks/durabletask/instances?top=2&taskHub=Cont');
Test::More::is_deeply($errors, [], 'no errors while paging');
Test::More::is_deeply([map { $_->{instanceId} } @$items], [map { "k$_" } 1 .. 5], 'each instance once, in creation order');
Test::More::ok((grep { $_ > 2 } @$sizes) == 0, 'no page larger than top: ' . join(',', @$sizes));
Test::More::ok(!defined $tokens->[-1], 'the last page has no token');
Test::More::ok(@$tokens > 1 && !grep({ !defined } @{$tokens}[0 .. $#$tokens - 1]), 'every page but the last has one');
--- request eval
["GET /runtime/webhooks/durabletask/instances?top=5&taskHub=Cont&code=testkey123",
 "GET /runtime/webhooks/durabletask/instances?top=4&taskHub=Cont&code=testkey123"]
--- error_code eval: [200, 200]
--- response_headers_like eval
["", "x-ms-continuation-token: .+"]
--- response_body_like eval
[main::ids_re('Pending', 'null', map { "k$_" } 1 .. 5), main::ids_re('Pending', 'null', map { "k$_" } 1 .. 4)]



=== TEST 11: 2000 instances paged with top=100: every instance exactly once, in (createdTime, id) order
--- init
my @ids = map { sprintf 'big-%04d-%s', $_, (qw(z m a q))[$_ % 4] } 1 .. 2000;
Test::More::is(main::start('Big', @ids), 0, '2000 instances started');
my ($items, $sizes, $tokens, $errors) = main::list_all('/runtime/webhooks/durabletask/instances?top=100&taskHub=Big');
my @got = map { $_->{instanceId} } @$items;
my %seen;
$seen{$_}++ for @got;
Test::More::is_deeply($errors, [], 'no errors while paging');
Test::More::is(scalar @got, 2000, '2000 items listed');
Test::More::is(scalar(grep { $seen{$_} != 1 } keys %seen), 0, 'no instance listed twice');
Test::More::is(scalar(grep { !$seen{$_} } @ids), 0, 'no instance missing');
Test::More::is_deeply(\@got, \@ids, 'in creation order');
my @created = map { $_->{createdTime} } @$items;
Test::More::is_deeply(\@created, [sort @created], 'createdTime never decreases');
Test::More::ok(!defined $tokens->[-1] && (grep { $_ > 100 } @$sizes) == 0, 'pages of at most 100, none after the last: ' . scalar(@$sizes) . ' pages');
--- request
GET /runtime/webhooks/durabletask/instances?top=100&taskHub=Big&code=testkey123
--- error_code: 200
--- response_headers_like
x-ms-continuation-token: .+
--- response_body_like eval
'^\[(\{"name":"Hello","instanceId":"big-\d{4}-[zmaq]"[^\}]*\},?){100}\]$'
--- timeout: 20



=== TEST 12: durable_task_list_scan_budget 5: short pages with tokens, still every match exactly once
--- init
my @ids = map { sprintf 'bud-%02d%s', $_, ($_ % 7 == 0 ? '-hit' : '') } 1 .. 40;
Test::More::is(main::start('Bud', @ids), 0, '40 instances started');
my ($items, $sizes, $tokens, $errors) = main::list_all('/budget/instances?top=3&runtimeStatus=Pending&taskHub=Bud');
my @got = map { $_->{instanceId} } @$items;
Test::More::is_deeply($errors, [], 'no errors while paging');
Test::More::is_deeply(\@got, \@ids, 'all 40 with a scan budget of 5 and top=3');
($items, $sizes, $tokens, $errors) = main::list_all('/budget/instances?top=5&instanceIdPrefix=bud-07&taskHub=Bud');
Test::More::is_deeply([map { $_->{instanceId} } @$items], ['bud-07-hit'], 'a prefix that matches once: listed once');
Test::More::ok(scalar(@$sizes) >= 2, 'the scan stopped early at least once: pages ' . join(',', @$sizes));
Test::More::ok((grep { $_ == 0 } @{$sizes}[0 .. $#$sizes - 1]) > 0 || $sizes->[0] == 0, 'an empty page came with a token');
--- request
GET /budget/instances?top=5&instanceIdPrefix=bud-14&taskHub=Bud
--- error_code: 200
--- response_headers_like
x-ms-continuation-token: .+
--- response_body chomp
[]



=== TEST 13: durable_task_list_max_bytes 1k: a page takes no instance that would carry it past 1k (but its first), a token after its last; every instance once
--- init
my $in = '"' . ('x' x 400) . '"';
my @ids = map { sprintf 'byt-%02d', $_ } 1 .. 9;
my $bad = grep { main::http('POST', "/bytes/orchestrators/Hello/$_?taskHub=Byt", undef, $in)->{status} != 202 } @ids;
Test::More::is($bad, 0, '9 instances started, each with a 402-byte input');
my ($items, $sizes, $tokens, $errors) = main::list_all('/bytes/instances?top=100&taskHub=Byt');
Test::More::is_deeply($errors, [], 'no errors while paging');
Test::More::is_deeply([map { $_->{instanceId} } @$items], \@ids, 'every instance once, in order');
Test::More::is(join(',', @$sizes), '1,1,1,1,1,1,1,1,1', 'one a page (a second would pass 1k), no token after the last');
($items, $sizes, $tokens, $errors) = main::list_all('/bytes/instances?top=100&showInput=false&taskHub=Byt');
Test::More::ok(@$sizes < 5 && $sizes->[0] > 2, 'smaller items, fuller pages: ' . join(',', @$sizes));
Test::More::is_deeply([map { $_->{instanceId} } @$items], \@ids, 'and every instance once');
--- request
GET /bytes/instances?top=100&taskHub=Byt
--- error_code: 200
--- response_headers_like
x-ms-continuation-token: .+
--- response_body_like eval
'^\[\{"name":"Hello","instanceId":"byt-01","runtimeStatus":"Pending","input":"x{400}"[^\]]*\}\]$'
