# The access log variables (README, "Variables"): $durable_op,
# $durable_hub, $durable_instance_id, $durable_runtime_status,
# $durable_batch_writes and $durable_store_ms, in the JSON log_format of
# examples/nginx.conf, read from the file itself. Each block's request is
# the one its log line is checked for; what a block needs before (an
# instance, a lease) its --- init does through the API, and those
# requests are logged too, so each pattern is anchored on the whole line,
# the request line included. The store time is checked to be a number,
# never for its size. The last blocks use a plain log_format, where a
# variable that does not apply is "-".

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableClient qw(api);
use File::Path qw(rmtree);
use POSIX ();

repeat_each(1);
no_shuffle();

# per block: the status code and one access log pattern; the first
# worker block checks two more lines (claim, complete), the first block
# that its key is not logged
plan tests => repeat_each() * (2 * blocks() + 3);

rmtree(($ENV{TEST_NGINX_DATA_DIR} // '') . '/log-variables')
    if $ENV{TEST_NGINX_DATA_DIR};

our $B = '/runtime/webhooks/durabletask';
our $K = { 'x-functions-key' => 'systemkey-1234' };
our $W = { 'x-functions-key' => 'workerkey-1234' };

# the log line of one request in the example's format: its method and
# path (literal; the example leaves the query string out, where a key may
# be), then the status code, op, hub, instance id, runtime status, batch
# size and store time, each a regex
sub main::line {
    my ($request, $code, $op, $hub, $id, $status, $batch, $ms) = @_;

    $request =~ s/\?.*//s;

    my $re = qr/^\{"time":"[0-9T:+-]+","remote_addr":"127\.0\.0\.1",/
             . qr/"request":"\Q$request\E","status":"$code",/
             . qr/"request_time":"[0-9]+\.[0-9]{3}",/
             . qr/"op":"$op","hub":"$hub","instance_id":"$id",/
             . qr/"runtime_status":"$status","batch_writes":"$batch",/
             . qr/"store_ms":"$ms"\}$/;

    return qr/$re/;
}

# the log_format durable_json statement of examples/nginx.conf
sub example_format {
    my $file = 'examples/nginx.conf';
    open my $fh, '<', $file or die "$file: $!";
    my $text = do { local $/; <$fh> };
    close $fh;

    my ($format) = $text =~ /^(\s*log_format\s+durable_json\b[^;]*;)/m
        or die "$file: no log_format durable_json";

    return "$format\n";
}

our $N = '[1-9][0-9]*';          # a batch of writes
our $MS = '[0-9]+\.[0-9]{3}';    # milliseconds, microseconds after the dot

sub main::ok_api {
    my ($want, @args) = @_;

    my $r = api(@args);
    die "$args[0] $args[1]: $r->{status} $r->{body}\n"
        unless $r->{status} == $want;

    return $r;
}

sub main::start {
    my ($id, $hub) = @_;

    main::ok_api(202, 'POST',
                 "$B/orchestrators/Hello/$id?taskHub=" . ($hub // 'LogHub'),
                 '', $K);
}

# claims the orchestrations of a hub, at least $n of them
sub main::claim {
    my ($hub, $n) = @_;

    my $r = main::ok_api(200, 'POST',
                         "$B/worker/orchestrations/claim?taskHub=$hub"
                         . "&max=" . ($n // 1), '', $W);
    my @items = @{ $r->{json}{items} };
    die "claimed " . @items . " of $n: $r->{body}\n" if @items < ($n // 1);

    return @items;
}

# the completion of a claimed item, which completes its orchestration
sub main::completion {
    my ($item) = @_;

    return { instanceId => $item->{instanceId}, lease => $item->{lease},
             actions => [ { type => 'complete', output => 1 } ] };
}

# start, claim, complete: the claim and the completion are logged; the
# completion's body is the one completion, or with $array an array of it,
# and $query is added to its path (claim=)
sub main::worker_flow {
    my ($id, $hub, $query, $array) = @_;

    $id //= 'lv-work';
    $hub //= 'WorkHub';
    main::start($id, $hub);

    my ($item) = main::claim($hub);
    my $body = main::completion($item);

    main::ok_api(200, 'POST',
                 "$B/worker/orchestrations/complete?taskHub=$hub"
                 . ($query // ''), $array ? [ $body ] : $body, $W);
}

# a start with timeout= that a worker completes while it waits: the start
# is made by a child, the parent claims and completes it, then waits for
# the start's answer
sub main::waited_start {
    my ($id, $hub) = @_;

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        api('POST', "$B/orchestrators/Hello/$id?taskHub=$hub&timeout=20",
            '', $K);
        POSIX::_exit(0);
    }

    my $item;

    for (1 .. 100) {
        my $r = main::ok_api(200, 'POST',
                             "$B/worker/orchestrations/claim?taskHub=$hub",
                             '', $W);
        ($item) = @{ $r->{json}{items} };
        last if $item;
        select undef, undef, undef, 0.05;
    }

    die "nothing claimed in $hub\n" unless $item;

    main::ok_api(200, 'POST',
                 "$B/worker/orchestrations/complete?taskHub=$hub",
                 main::completion($item), $W);

    waitpid $pid, 0;
}

our $http_config = example_format() . <<'_EOC_';
    durable_task_store default path=$TEST_NGINX_DATA_DIR/log-variables;

    log_format durable_plain
        '$durable_op $durable_hub $durable_instance_id '
        '$durable_runtime_status $durable_batch_writes $durable_store_ms';
_EOC_

our $config = <<'_EOC_';
    access_log logs/access.log durable_json;

    # nginx's own refusals go through an internal redirect, which clears
    # the module's request state: the variables still tell what it was
    error_page 413 /_error/413;

    location = /_error/413 {
        internal;
        return 413 '{"Message":"too large"}';
    }

    location /runtime/webhooks/durabletask/ {
        durable_task;
        durable_task_hub LogHub;
        durable_task_keys systemkey-1234;
        durable_task_worker_keys workerkey-1234;
        client_max_body_size 1k;
    }
_EOC_

# the same with the plain format: what does not apply is "-"
our $plain_config = $config =~ s/durable_json;/durable_plain;/r;

# every block runs with these, in the JSON format unless it says otherwise
add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value(http_config => $::http_config);
    $block->set_value(config => $::config) unless defined $block->config;
});

run_tests();

__DATA__

=== TEST 1: a start with an id: the id, Pending, its batch and store time
--- request
POST /runtime/webhooks/durabletask/orchestrators/Hello/lv-start?code=systemkey-1234
--- error_code: 202
--- access_log eval
main::line("POST $::B/orchestrators/Hello/lv-start?code=systemkey-1234",
           202, 'start', 'LogHub', 'lv-start', 'Pending', $::N, $::MS)
--- no_access_log
systemkey-1234



=== TEST 2: a start without an id logs the id it generated
--- request
POST /runtime/webhooks/durabletask/orchestrators/Hello?taskHub=OtherHub&code=systemkey-1234
--- error_code: 202
--- access_log eval
main::line("POST $::B/orchestrators/Hello?taskHub=OtherHub&code=systemkey-1234",
           202, 'start', 'OtherHub', '[0-9a-f]{32}', 'Pending', $::N, $::MS)



=== TEST 3: the status of an instance no worker ran: Pending, a read only
--- init
main::start('lv-status');
--- request
GET /runtime/webhooks/durabletask/instances/lv-status?code=systemkey-1234
--- error_code: 202
--- access_log eval
main::line("GET $::B/instances/lv-status?code=systemkey-1234",
           202, 'status', 'LogHub', 'lv-status', 'Pending', '', $::MS)



=== TEST 4: a list: no instance, no status, no batch
--- request
GET /runtime/webhooks/durabletask/instances?code=systemkey-1234
--- error_code: 200
--- access_log eval
main::line("GET $::B/instances?code=systemkey-1234",
           200, 'list', 'LogHub', '', '', '', $::MS)



=== TEST 5: a start that conflicts logs the status of the existing one
--- init
main::start('lv-dup');
--- request
POST /runtime/webhooks/durabletask/orchestrators/Hello/lv-dup?code=systemkey-1234
--- error_code: 409
--- access_log eval
main::line("POST $::B/orchestrators/Hello/lv-dup?code=systemkey-1234",
           409, 'start', 'LogHub', 'lv-dup', 'Pending', $::N, $::MS)



=== TEST 6: a terminate: a write, no status in its answer
--- init
main::start('lv-term');
--- request
POST /runtime/webhooks/durabletask/instances/lv-term/terminate?reason=x&code=systemkey-1234
--- error_code: 202
--- access_log eval
main::line("POST $::B/instances/lv-term/terminate?reason=x&code=systemkey-1234",
           202, 'terminate', 'LogHub', 'lv-term', '', $::N, $::MS)



=== TEST 7: a purge refused: the status that stopped it
--- init
main::start('lv-busy');
--- request
DELETE /runtime/webhooks/durabletask/instances/lv-busy?code=systemkey-1234
--- error_code: 412
--- access_log eval
main::line("DELETE $::B/instances/lv-busy?code=systemkey-1234",
           412, 'purge', 'LogHub', 'lv-busy', 'Pending', $::N, $::MS)



=== TEST 8: a write the store refused still had its place in a batch: raise-event to no instance (404)
--- request
POST /runtime/webhooks/durabletask/instances/lv-none/raiseEvent/E?code=systemkey-1234
{}
--- more_headers
Content-Type: application/json
--- error_code: 404
--- access_log eval
main::line("POST $::B/instances/lv-none/raiseEvent/E?code=systemkey-1234",
           404, 'raise_event', 'LogHub', 'lv-none', '', $::N, $::MS)



=== TEST 9: a terminate of a terminated instance (410): its batch too
--- init
main::start('lv-gone');
main::ok_api(202, 'POST', "$::B/instances/lv-gone/terminate", '', $::K);
--- request
POST /runtime/webhooks/durabletask/instances/lv-gone/terminate?code=systemkey-1234
--- error_code: 410
--- access_log eval
main::line("POST $::B/instances/lv-gone/terminate?code=systemkey-1234",
           410, 'terminate', 'LogHub', 'lv-gone', '', $::N, $::MS)



=== TEST 10: a raise-event refused before the store (a '#' in the event name): no batch, no store time
--- request
POST /runtime/webhooks/durabletask/instances/lv-none/raiseEvent/E%23?code=systemkey-1234
{}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- access_log eval
main::line("POST $::B/instances/lv-none/raiseEvent/E#",
           400, 'raise_event', 'LogHub', 'lv-none', '', '', '')



=== TEST 11: a purge of a terminated instance
--- init
main::start('lv-purge');
main::ok_api(202, 'POST', "$::B/instances/lv-purge/terminate", '', $::K);
--- request
DELETE /runtime/webhooks/durabletask/instances/lv-purge?code=systemkey-1234
--- error_code: 200
--- access_log eval
main::line("DELETE $::B/instances/lv-purge?code=systemkey-1234",
           200, 'purge', 'LogHub', 'lv-purge', '', $::N, $::MS)



=== TEST 12: a purge by filter
--- request
DELETE /runtime/webhooks/durabletask/instances?createdTimeFrom=2020-01-01T00:00:00Z&runtimeStatus=Terminated&code=systemkey-1234
--- error_code: 200
--- access_log eval
main::line("DELETE $::B/instances?createdTimeFrom=2020-01-01T00:00:00Z"
           . "&runtimeStatus=Terminated&code=systemkey-1234",
           200, 'purge_filter', 'LogHub', '', '', $::N, $::MS)



=== TEST 13: an entity signal: the entity's instance id
--- request
POST /runtime/webhooks/durabletask/entities/Counter/k1?op=add&code=systemkey-1234
1
--- more_headers
Content-Type: application/json
--- error_code: 202
--- access_log eval
main::line("POST $::B/entities/Counter/k1?op=add&code=systemkey-1234",
           202, 'entity_signal', 'LogHub', '\@counter\@k1', '', $::N, $::MS)



=== TEST 14: the worker protocol: a claim, a completion and its status
--- init
main::worker_flow();
--- request
GET /runtime/webhooks/durabletask/instances/lv-work?taskHub=WorkHub&code=systemkey-1234
--- error_code: 200
--- access_log eval
[main::line("POST $::B/worker/orchestrations/claim?taskHub=WorkHub",
            200, 'claim', 'WorkHub', '', '', $::N, $::MS),
 main::line("POST $::B/worker/orchestrations/complete?taskHub=WorkHub",
            200, 'complete', 'WorkHub', 'lv-work', 'Completed', $::N,
            $::MS),
 main::line("GET $::B/instances/lv-work?taskHub=WorkHub&code=systemkey-1234",
            200, 'status', 'WorkHub', 'lv-work', 'Completed', '', $::MS)]



=== TEST 15: a body nginx refuses (413, then error_page): still the route (the method and path are the error page's)
--- raw_request eval
"POST /runtime/webhooks/durabletask/orchestrators/Hello/lv-big?code=systemkey-1234 HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
\r
7d2\r
\"" . ('z' x 2000) . "\"\r
0\r
\r
"
--- error_code: 413
--- access_log eval
main::line("GET /_error/413", 413, 'start', 'LogHub', 'lv-big', '', '', '')



=== TEST 16: a plain log_format: what does not apply is "-"
--- config eval: $::plain_config
--- request
GET /runtime/webhooks/durabletask/instances?code=systemkey-1234
--- error_code: 200
--- access_log eval
qr/^list LogHub - - - $::MS$/



=== TEST 17: a path that is no route: every variable is "-"
--- config eval: $::plain_config
--- request
GET /runtime/webhooks/durabletask/nothing-here?code=systemkey-1234
--- error_code: 404
--- access_log eval
qr/^- - - - - -$/



=== TEST 18: a completion with claim= (what workers send) logs its instance and the status after it
--- init
main::worker_flow('lv-cc', 'CcHub', '&claim=orchestrations');
--- request
GET /runtime/webhooks/durabletask/instances/lv-cc?taskHub=CcHub&code=systemkey-1234
--- error_code: 200
--- access_log eval
main::line("POST $::B/worker/orchestrations/complete?taskHub=CcHub",
           200, 'complete', 'CcHub', 'lv-cc', 'Completed', $::N, $::MS)



=== TEST 19: an array of one completion is one orchestration's completion too
--- init
main::worker_flow('lv-one', 'OneHub', '', 1);
--- request
GET /runtime/webhooks/durabletask/instances/lv-one?taskHub=OneHub&code=systemkey-1234
--- error_code: 200
--- access_log eval
main::line("POST $::B/worker/orchestrations/complete?taskHub=OneHub",
           200, 'complete', 'OneHub', 'lv-one', 'Completed', $::N, $::MS)



=== TEST 20: an array of several completions names no one instance: neither is logged
--- init
main::start('lv-two-a', 'TwoHub');
main::start('lv-two-b', 'TwoHub');
main::ok_api(200, 'POST',
             "$::B/worker/orchestrations/complete?taskHub=TwoHub"
             . "&claim=orchestrations",
             [ map { main::completion($_) } main::claim('TwoHub', 2) ],
             $::W);
--- request
GET /runtime/webhooks/durabletask/instances/lv-two-b?taskHub=TwoHub&code=systemkey-1234
--- error_code: 200
--- access_log eval
main::line("POST $::B/worker/orchestrations/complete?taskHub=TwoHub",
           200, 'complete', 'TwoHub', '', '', $::N, $::MS)



=== TEST 21: a start with timeout= logs the status its answer carries: Completed when the instance ended in time
--- init
main::waited_start('lv-wait', 'WaitHub');
--- request
GET /runtime/webhooks/durabletask/instances/lv-wait?taskHub=WaitHub&code=systemkey-1234
--- error_code: 200
--- access_log eval
main::line("POST $::B/orchestrators/Hello/lv-wait",
           200, 'start', 'WaitHub', 'lv-wait', 'Completed', $::N, $::MS)
