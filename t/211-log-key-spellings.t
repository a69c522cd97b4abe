# The query parser takes a parameter name percent-decoded, in any case and
# trimmed of spaces ('+' is one): "%63ode", "co%64e", "+code", "code%20"
# and "%43ODE" are all "code". The log masking matches names with the
# parser's own functions, so the key never reaches the error log in any of
# these spellings: not on a wrong-key line (401), not on a store-full line
# (507). At level info nginx core writes no line with the request in it, so
# the key must not be anywhere in the log.

use Test::Nginx::Socket;
use File::Path qw(rmtree);
use HTTP::Tiny;

repeat_each(1);
no_shuffle();
log_level('info');

# per block: the status, the masked line, the key absent
plan tests => repeat_each() * blocks() * 3;

our $http_config = <<'_EOC_';
    durable_task_store default path=$TEST_NGINX_DATA_DIR/key-spellings max_size=1m;
_EOC_

rmtree("$ENV{TEST_NGINX_DATA_DIR}/key-spellings") if $ENV{TEST_NGINX_DATA_DIR};

sub port {
    return $ENV{TEST_NGINX_CLIENT_PORT} || $ENV{TEST_NGINX_SERVER_PORT}
           || $ENV{TEST_NGINX_PORT} || 1984;
}

# starts with the key in the header until the store answers 507
sub fill {
    my ($size, $n) = @_;
    my $http = HTTP::Tiny->new(timeout => 10);
    for my $i (1 .. $n) {
        my $r = $http->request('POST', 'http://127.0.0.1:' . port()
                               . "/f/orchestrators/Hello/fill-$size-$i",
            { content => '"' . ('x' x $size) . '"',
              headers => { 'Content-Type' => 'application/json',
                           'x-functions-key' => 'system-key-5678' } });
        return if $r->{status} == 507;
        die "fill: $r->{status} $r->{content}" if $r->{status} != 202;
    }
    die "the store did not fill up";
}

run_tests();

__DATA__

=== TEST 1: a wrong key as "%63ode=": 401, logged masked
--- http_config eval: $::http_config
--- config
    location /f/ {
        durable_task /f;
        durable_task_keys system-key-5678;
    }
--- request
GET /f/instances?%63ode=guessed-secret-1234
--- error_code: 401
--- error_log
request: "GET /f/instances?%63ode=*** HTTP/1.1"
--- no_error_log
guessed-secret-1234



=== TEST 2: a wrong key as "co%64e=": 401, logged masked
--- http_config eval: $::http_config
--- config
    location /f/ {
        durable_task /f;
        durable_task_keys system-key-5678;
    }
--- request
GET /f/instances?co%64e=guessed-secret-1234
--- error_code: 401
--- error_log
request: "GET /f/instances?co%64e=*** HTTP/1.1"
--- no_error_log
guessed-secret-1234



=== TEST 3: a wrong key as "+code=": 401, logged masked
--- http_config eval: $::http_config
--- config
    location /f/ {
        durable_task /f;
        durable_task_keys system-key-5678;
    }
--- request
GET /f/instances?+code=guessed-secret-1234
--- error_code: 401
--- error_log
request: "GET /f/instances?+code=*** HTTP/1.1"
--- no_error_log
guessed-secret-1234



=== TEST 4: a wrong key as "code%20=": 401, logged masked
--- http_config eval: $::http_config
--- config
    location /f/ {
        durable_task /f;
        durable_task_keys system-key-5678;
    }
--- request
GET /f/instances?code%20=guessed-secret-1234
--- error_code: 401
--- error_log
request: "GET /f/instances?code%20=*** HTTP/1.1"
--- no_error_log
guessed-secret-1234



=== TEST 5: a wrong key as "%43ODE=": 401, logged masked
--- http_config eval: $::http_config
--- config
    location /f/ {
        durable_task /f;
        durable_task_keys system-key-5678;
    }
--- request
GET /f/instances?%43ODE=guessed-secret-1234
--- error_code: 401
--- error_log
request: "GET /f/instances?%43ODE=*** HTTP/1.1"
--- no_error_log
guessed-secret-1234



=== TEST 6: a full store and the key as "%63ode=": 507, logged masked
--- http_config eval: $::http_config
--- config
    location /f/ {
        durable_task /f;
        durable_task_keys system-key-5678;
    }
--- init
# once: the store stays full for the blocks after this one
main::fill(60000, 100);
main::fill(500, 3000);
main::fill(1, 10000);
--- request
POST /f/orchestrators/Hello/one-more-1?%63ode=system-key-5678
"y"
--- more_headers
Content-Type: application/json
--- error_code: 507
--- error_log
request: "POST /f/orchestrators/Hello/one-more-1?%63ode=*** HTTP/1.1"
--- no_error_log
system-key-5678



=== TEST 7: a full store and the key as "co%64e=": 507, logged masked
--- http_config eval: $::http_config
--- config
    location /f/ {
        durable_task /f;
        durable_task_keys system-key-5678;
    }
--- request
POST /f/orchestrators/Hello/one-more-2?co%64e=system-key-5678
"y"
--- more_headers
Content-Type: application/json
--- error_code: 507
--- error_log
request: "POST /f/orchestrators/Hello/one-more-2?co%64e=*** HTTP/1.1"
--- no_error_log
system-key-5678



=== TEST 8: a full store and the key as "+code=": 507, logged masked
--- http_config eval: $::http_config
--- config
    location /f/ {
        durable_task /f;
        durable_task_keys system-key-5678;
    }
--- request
POST /f/orchestrators/Hello/one-more-3?+code=system-key-5678
"y"
--- more_headers
Content-Type: application/json
--- error_code: 507
--- error_log
request: "POST /f/orchestrators/Hello/one-more-3?+code=*** HTTP/1.1"
--- no_error_log
system-key-5678



=== TEST 9: a full store and the key as "code%20=": 507, logged masked
--- http_config eval: $::http_config
--- config
    location /f/ {
        durable_task /f;
        durable_task_keys system-key-5678;
    }
--- request
POST /f/orchestrators/Hello/one-more-4?code%20=system-key-5678
"y"
--- more_headers
Content-Type: application/json
--- error_code: 507
--- error_log
request: "POST /f/orchestrators/Hello/one-more-4?code%20=*** HTTP/1.1"
--- no_error_log
system-key-5678



=== TEST 10: a full store and the key as "%43ODE=": 507, logged masked
--- http_config eval: $::http_config
--- config
    location /f/ {
        durable_task /f;
        durable_task_keys system-key-5678;
    }
--- request
POST /f/orchestrators/Hello/one-more-5?%43ODE=system-key-5678
"y"
--- more_headers
Content-Type: application/json
--- error_code: 507
--- error_log
request: "POST /f/orchestrators/Hello/one-more-5?%43ODE=*** HTTP/1.1"
--- no_error_log
system-key-5678
