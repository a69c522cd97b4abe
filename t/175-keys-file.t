# Keys kept out of nginx.conf: durable_task_keys_file and
# durable_task_worker_keys_file read one key a line at configuration time;
# a key that looks like an unexpanded variable, a keys file other users may
# read, and a keys file without a key are refused.

use Test::Nginx::Socket;
use lib 't/inc';
use DurableBackend;
use File::Path qw(make_path rmtree);

repeat_each(1);

# must_die blocks: 2 tests each; blocks 8 and 9 below: 3 requests of 2;
# block 10: 1 request of 2
plan tests => repeat_each() * ((blocks() - 3) * 2 + 2 * 3 * 2 + 2);

sub write_keys {
    my ($name, $mode, $text) = @_;
    my $path = "$ENV{TEST_NGINX_DATA_DIR}/keys/$name";
    open my $fh, '>', $path or die "cannot write $path: $!";
    print $fh $text;
    close $fh;
    chmod $mode, $path or die "cannot chmod $path: $!";
}

if ($ENV{TEST_NGINX_DATA_DIR}) {
    rmtree("$ENV{TEST_NGINX_DATA_DIR}/$_") for qw(keys keys-store);
    make_path("$ENV{TEST_NGINX_DATA_DIR}/keys");

    # comments, blank lines, CRLF and trailing blanks around two keys
    write_keys('good', 0600, "# the system keys\n\nfilekey-0001  \r\n"
                             . "   \n#filekey-0003\nfilekey-0002\t\n");
    write_keys('worker', 0640, "workerfile-01\n");
    write_keys('open', 0644, "filekey-0001\n");
    write_keys('written', 0602, "filekey-0001\n");
    write_keys('execute', 0601, "filekey-0004\n");
    write_keys('none', 0600, "# no key here\n\n");
    write_keys('short', 0600, "# one too short\nshort\n");
    # a key, then comments past 64 KiB
    write_keys('big', 0600, "filekey-0001\n" . ("#" x 99 . "\n") x 656);
}

our $http_config = <<'_EOC_';
    durable_task_store default path=$TEST_NGINX_DATA_DIR/keys-store;
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a key that looks like a variable
--- http_config eval: $::http_config
--- config
    location /x/ {
        durable_task /x;
        durable_task_keys "$DURABLE_KEY_1";
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*a "durable_task_keys" key looks like a variable \("\$NAME" or "\$\{NAME\}"\): nginx does not expand variables here, the text itself would be the key; keep the keys in a file and use "durable_task_keys_file"/



=== TEST 2: a worker key that holds ${...}
--- http_config eval: $::http_config
--- config
    location /x/ {
        durable_task /x;
        durable_task_worker_keys "key-${WORKER}";
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*a "durable_task_worker_keys" key looks like a variable/



=== TEST 3: a keys file others may read
--- http_config eval: $::http_config
--- config
    location /x/ {
        durable_task /x;
        durable_task_keys_file $TEST_NGINX_DATA_DIR/keys/open;
    }
--- must_die
--- error_log eval
qr{\[emerg\] .*"durable_task_keys_file": the keys file "[^"]*/keys/open" is readable or writable by other users \(mode 0644\): run "chmod o-rw }



=== TEST 4: a worker keys file others may write
--- http_config eval: $::http_config
--- config
    location /x/ {
        durable_task /x;
        durable_task_worker_keys_file $TEST_NGINX_DATA_DIR/keys/written;
    }
--- must_die
--- error_log eval
qr{\[emerg\] .*"durable_task_worker_keys_file": the keys file "[^"]*/keys/written" is readable or writable by other users \(mode 0602\)}



=== TEST 5: a keys file without a key
--- http_config eval: $::http_config
--- config
    location /x/ {
        durable_task /x;
        durable_task_keys_file $TEST_NGINX_DATA_DIR/keys/none;
    }
--- must_die
--- error_log eval
qr{\[emerg\] .*the keys file "[^"]*/keys/none" holds no key}



=== TEST 6: a keys file that does not exist
--- http_config eval: $::http_config
--- config
    location /x/ {
        durable_task /x;
        durable_task_keys_file $TEST_NGINX_DATA_DIR/keys/missing;
    }
--- must_die
--- error_log eval
qr{\[emerg\] .*"durable_task_keys_file": cannot read the keys file "[^"]*/keys/missing" \(2: }



=== TEST 7: a key in a keys file shorter than 8 characters names its line
--- http_config eval: $::http_config
--- config
    location /x/ {
        durable_task /x;
        durable_task_keys_file $TEST_NGINX_DATA_DIR/keys/short;
    }
--- must_die
--- error_log eval
qr{\[emerg\] .*"durable_task_keys_file": the key on line 2 of "[^"]*/keys/short" has fewer than 8 characters}



=== TEST 8: the keys of the file and of durable_task_keys work together; others get 401
--- http_config eval: $::http_config
--- config
    location /x/ {
        durable_task /x;
        durable_task_keys_file $TEST_NGINX_DATA_DIR/keys/good;
        durable_task_keys plainkey-0001;
    }
--- request eval
["GET /x/instances/nope?code=filekey-0002",
 "GET /x/instances/nope?code=plainkey-0001",
 "GET /x/instances/nope?code=filekey-0003"]
--- error_code eval
[404, 404, 401]
--- response_body_like eval
["^\$", "^\$", "^\\{\"Message\":\"The key is not valid for this API.\"\\}\$"]



=== TEST 9: the worker keys file, inherited from server{}; a system key is refused there
--- http_config eval: $::http_config
--- config
    durable_task_worker_keys_file $TEST_NGINX_DATA_DIR/keys/worker;

    location /x/ {
        durable_task /x;
        durable_task_keys_file $TEST_NGINX_DATA_DIR/keys/good;
    }
--- request eval
["POST /x/worker/orchestrations/claim?code=workerfile-01",
 "POST /x/worker/orchestrations/claim?code=filekey-0001",
 "GET /x/instances/nope?code=filekey-0001"]
--- error_code eval
[200, 401, 404]
--- response_body_like eval
["^\\{\"items\":\\[\\]\\}\$",
 "^\\{\"Message\":\"The key is not valid for this API.\"\\}\$", "^\$"]



=== TEST 10: a keys file others may only execute is accepted: they cannot read it
--- http_config eval: $::http_config
--- config
    location /x/ {
        durable_task /x;
        durable_task_keys_file $TEST_NGINX_DATA_DIR/keys/execute;
    }
--- request
GET /x/instances/nope?code=filekey-0004
--- error_code: 404
--- response_body_like: ^$



=== TEST 11: a keys file larger than 64 KiB is refused
--- http_config eval: $::http_config
--- config
    location /x/ {
        durable_task /x;
        durable_task_keys_file $TEST_NGINX_DATA_DIR/keys/big;
    }
--- must_die
--- error_log eval
qr{\[emerg\] .*"durable_task_keys_file": the keys file "[^"]*/keys/big" is larger than 65536 bytes}
