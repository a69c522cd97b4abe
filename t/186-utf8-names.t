# Ids, names, event names and entity names and keys must be well-formed
# UTF-8, as JSON text must: a percent-encoded UTF-16 surrogate
# (%ED%A0%80), an overlong encoding (%C0%AF) or a code point above
# U+10FFFF would be rendered as U+FFFD on output, so two distinct ids would
# look the same. Each is 400 with a JSON message; a 4-byte character
# (U+1F600) is accepted. Request bodies follow the same rules.

use Test::Nginx::Socket;
use lib 't/inc';
use DurableBackend;
use File::Path qw(rmtree);

repeat_each(1);
no_shuffle();

rmtree("$ENV{TEST_NGINX_DATA_DIR}/utf8") if $ENV{TEST_NGINX_DATA_DIR};

our $http_config = <<'_EOC_';
    durable_task_store default path=$TEST_NGINX_DATA_DIR/utf8;
_EOC_

our $config = <<'_EOC_';
    location /f/ {
        durable_task /f;
        durable_task_anonymous on;
    }
_EOC_

# the spellings that must be refused (two surrogates, an overlong, one
# above U+10FFFF), and one that is fine
our @BAD = ('%ED%A0%80', '%ED%BF%BF', '%C0%AF', '%F4%90%80%80');
our $GOOD = '%F0%9F%98%80';

# per request: status + body; five fields with each spelling, 3 bodies
plan tests => repeat_each() * 2 * (5 * (@BAD + 1) + 3);

# a request per bad spelling and one with the good one, with $path's X
# replaced; the 400 bodies name $what
sub requests {
    my ($method, $path, $body) = @_;
    return [map { (my $p = $path) =~ s/X/$_/; "$method /f/$p\n$body" }
            @::BAD, $::GOOD];
}

sub bodies {
    my ($what, $good) = @_;
    return [(qr/^\{"Message":"The $what is not valid UTF-8 \(0x[0-9a-f]{2} at byte \d+\)\."\}$/) x @::BAD,
            $good];
}

run_tests();

__DATA__

=== TEST 1: instance ids
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
main::requests(POST => 'orchestrators/Hello/idX', '1')
--- more_headers
Content-Type: application/json
--- error_code eval
[(400) x @::BAD, 202]
--- response_body eval
main::bodies('instance id', qr/^\{"id":"id\xf0\x9f\x98\x80",/)



=== TEST 2: orchestrator names
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
main::requests(POST => 'orchestrators/HelloX/n1', '1')
--- more_headers
Content-Type: application/json
--- error_code eval
[(400) x @::BAD, 202]
--- response_body eval
main::bodies('orchestrator name', qr/^\{"id":"n1",/)



=== TEST 3: event names
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
main::requests(POST => 'instances/n1/raiseEvent/evX', '1')
--- more_headers
Content-Type: application/json
--- error_code eval
[(400) x @::BAD, 202]
--- response_body eval
main::bodies('event name', '')



=== TEST 4: entity names and keys
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
[@{main::requests(POST => 'entities/counterX/k1?op=add', '1')},
 @{main::requests(POST => 'entities/counter/kX?op=add', '1')}]
--- more_headers
Content-Type: application/json
--- error_code eval
[(400) x @::BAD, 202, (400) x @::BAD, 202]
--- response_body eval
[@{main::bodies('entity name', '')}, @{main::bodies('entity key', '')}]



=== TEST 5: request bodies: a raw surrogate or overlong is not JSON, a 4-byte character is
--- http_config eval: $::http_config
--- config eval: $::config
--- request eval
["POST /f/orchestrators/Hello/b1\n\"\xed\xa0\x80\"",
 "POST /f/orchestrators/Hello/b2\n\"\xc0\xaf\"",
 "POST /f/orchestrators/Hello/b3\n\"\xf0\x9f\x98\x80\""]
--- more_headers
Content-Type: application/json
--- error_code eval
[400, 400, 202]
--- response_body_like eval
['^\{"Message":"The request body is not valid JSON: [^"]*"\}$',
 '^\{"Message":"The request body is not valid JSON: [^"]*"\}$',
 '^\{"id":"b3",']
