# The query parser takes a parameter name percent-decoded, in any case and
# trimmed of spaces ('+' is one): "%63ode", "co%64e", "+code", "code%20"
# and "%43ODE" are all "code". The log masking matches names with the
# parser's own functions, so the key never reaches the error log in any of
# these spellings: not on a wrong-key line (401), not on a store-full line
# (507). At level info nginx core writes no line with the request in it, so
# the key must not be anywhere in the log.

use Test::Nginx::Socket;
use File::Path qw(rmtree);
use lib 't/inc';
use DurableBackend;
use DurableBlocks ();

repeat_each(1);
no_shuffle();
log_level('info');

# per block: the status, the masked line, the key absent
plan tests => repeat_each() * blocks() * 3;

our $http_config = <<'_EOC_';
    durable_task_store default path=$TEST_NGINX_DATA_DIR/key-spellings max_size=1m;
_EOC_

our $config = <<'_EOC_';
    location /f/ {
        durable_task /f;
        durable_task_keys system-key-5678;
    }
_EOC_

rmtree("$ENV{TEST_NGINX_DATA_DIR}/key-spellings") if $ENV{TEST_NGINX_DATA_DIR};

# starts with the key in the header until the store answers 507
sub fill {
    my ($size, $n) = @_;
    for my $i (1 .. $n) {
        my $r = DurableBlocks::post("/f/orchestrators/Hello/fill-$size-$i",
                                    '"' . ('x' x $size) . '"',
                                    { 'x-functions-key' => 'system-key-5678' });
        return if $r->{status} == 507;
        die "fill: $r->{status} $r->{content}" if $r->{status} != 202;
    }
    die "the store did not fill up";
}

# Each block gives only its request, with the key in one spelling; the
# rest follows from it. A GET carries a wrong key: 401. A POST carries the
# right key to a full store: 507. Either way the log has the request line
# with the value masked and the name as written, and no trace of the key.
add_block_preprocessor(sub {
    my $block = shift;

    my ($line) = split /\n/, $block->request;
    my ($key) = $line =~ /\?[^=]+=(\S+)/
        or die "no key in the request of " . $block->name;
    (my $masked = $line) =~ s/=\Q$key\E/=***/;

    $block->set_value(http_config => $::http_config);
    $block->set_value(config => $::config);
    $block->set_value(error_code => $line =~ /^GET/ ? 401 : 507);
    $block->set_value(error_log => qq{request: "$masked HTTP/1.1"});
    $block->set_value(no_error_log => $key);
    $block->set_value(more_headers => 'Content-Type: application/json')
        if $line =~ /^POST/;
});

run_tests();

__DATA__

=== TEST 1: a wrong key as "%63ode=": 401, logged masked
--- request
GET /f/instances?%63ode=guessed-secret-1234



=== TEST 2: a wrong key as "co%64e=": 401, logged masked
--- request
GET /f/instances?co%64e=guessed-secret-1234



=== TEST 3: a wrong key as "+code=": 401, logged masked
--- request
GET /f/instances?+code=guessed-secret-1234



=== TEST 4: a wrong key as "code%20=": 401, logged masked
--- request
GET /f/instances?code%20=guessed-secret-1234



=== TEST 5: a wrong key as "%43ODE=": 401, logged masked
--- request
GET /f/instances?%43ODE=guessed-secret-1234



=== TEST 6: a full store and the key as "%63ode=": 507, logged masked
--- init
# once: the store stays full for the blocks after this one
main::fill(60000, 100);
main::fill(500, 3000);
main::fill(1, 10000);
--- request
POST /f/orchestrators/Hello/one-more-1?%63ode=system-key-5678
"y"



=== TEST 7: a full store and the key as "co%64e=": 507, logged masked
--- request
POST /f/orchestrators/Hello/one-more-2?co%64e=system-key-5678
"y"



=== TEST 8: a full store and the key as "+code=": 507, logged masked
--- request
POST /f/orchestrators/Hello/one-more-3?+code=system-key-5678
"y"



=== TEST 9: a full store and the key as "code%20=": 507, logged masked
--- request
POST /f/orchestrators/Hello/one-more-4?code%20=system-key-5678
"y"



=== TEST 10: a full store and the key as "%43ODE=": 507, logged masked
--- request
POST /f/orchestrators/Hello/one-more-5?%43ODE=system-key-5678
"y"
