# Purge: DELETE B/instances/{id} and DELETE B/instances?createdTimeFrom=...
# (docs/http-api.md: "Purge one instance", "Purge by filter").

use lib 't/inc';
use Test::Nginx::Socket;
use DurableBackend;
use DurableBlocks ();
use DurableClient ();

repeat_each(1);

# tests per block (per request: status + body + each header line + each
# no_error_log pattern):
#    1: 3      2: 14     3: 18     4: 8      5: 16     6: 30     7: 18
#    8: 14     9: 42     10: 3 (grep_error_log_out: 1)    11: 2
#   12: 42     13: 5 (error_log: 1, grep_error_log_out: 1)    14: 2
plan tests => 3 + 14 + 18 + 8 + 16 + 30 + 18 + 14 + 42 + 3 + 2 + 42 + 5 + 2
             + 12;

# TEST 13 finds the pauses by a debug line, which an nginx built without
# --with-debug does not write: it is skipped there, and so is TEST 14,
# which reads what it left
our $debug = DurableBlocks::debug_build();

our $http_config = DurableBlocks::fresh_store('purge');

# block 12: a relaxed store in a pool of one thread of its own (the setup
# docs/disk-and-event-loop.md advises): its flushes and the purge's
# batches take turns in that thread
our $one_thread_store = DurableBlocks::fresh_store('purge-one');
$one_thread_store =~ s/;\n\z/ sync=off flush=10ms thread_pool=durable_one;\n/
    or die "fresh_store's text changed: block 12 would not get its pool";

our $config = $DurableBlocks::API_LOCATION . <<'_EOC_';
    location /batch/ {
        durable_task /batch;
        durable_task_anonymous on;
        durable_task_purge_batch 2;
    }

    location /timed/ {
        durable_task /timed;
        durable_task_anonymous on;
        durable_task_purge_batch_time 0;
        durable_task_lifecycle_log on;
    }
_EOC_

our $TIME = '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ';

# one request line (and body) of a block, in hub $hub
sub rq {
    my ($hub, $method, $path, $body) = @_;
    my $sep = $path =~ /\?/ ? '&' : '?';
    my $base = $path =~ s{^/(batch|timed)/}{} ? "/$1"
               : '/runtime/webhooks/durabletask';
    return "$method $base/$path${sep}taskHub=$hub&code=testkey123"
           . (defined $body ? "\n$body" : '');
}

# a list of the given ids (any status, any input), in this order
sub list_re {
    return '^\[' . join(',', map {
        quotemeta(qq({"name":"Hello","instanceId":"$_","runtimeStatus":"))
        . '[A-Za-z]+","input":[^,]*,"customStatus":null,"output":[^,]*,'
        . '"createdTime":"' . $TIME . '","lastUpdatedTime":"' . $TIME . '"\}'
    } @_) . '\]$';
}

# blocks 9 and 12, in hub $_[0] through /batch/ (purge batches of 2): one
# active and 5 terminated instances; a purge by filter deletes the 5,
# counted right, the active one stays, and the next purge finds none
sub main::batch_purge {
    my ($hub) = @_;
    my $purge = '/batch/instances?createdTimeFrom=2000-01-01';
    return [main::rq($hub => POST => '/batch/orchestrators/Hello/a1'),
            (map { main::rq($hub => POST => "/batch/orchestrators/Hello/t$_") }
                 1 .. 5),
            (map { main::rq($hub => POST => "/batch/instances/t$_/terminate") }
                 1 .. 5),
            main::rq($hub => DELETE => $purge),
            main::rq($hub => GET => '/batch/instances'),
            main::rq($hub => DELETE => $purge)];
}

our $batch_purge_codes = [(202) x 11, 200, 200, 404];

our $batch_purge_bodies = [
    '^\{"id":"a1"', (map { "^\\{\"id\":\"t$_\"" } 1 .. 5), ('^$') x 5,
    '^\{"instancesDeleted":5\}$', main::list_re('a1'), '^$'];

# block 10's instances: one active, 6 terminated, through /timed/
sub main::timed_setup {
    for my $path ('orchestrators/Hello/a1',
                  (map { "orchestrators/Hello/t$_" } 1 .. 6),
                  (map { "instances/t$_/terminate" } 1 .. 6))
    {
        my $r = DurableClient::api('POST',
                                   "/timed/$path?taskHub=P10&code=testkey123",
                                   '');
        die "POST $path: $r->{status}" unless $r->{status} == 202;
    }
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: purging a missing instance is 404 with an empty body
--- http_config eval: $::http_config
--- config eval: $::config
--- request
DELETE /runtime/webhooks/durabletask/instances/nope?code=testkey123
--- error_code: 404
--- response_body
--- no_error_log
[error]



=== TEST 2: purging an active instance (Pending, Suspended) is 412 with a JSON string body; it survives
--- request eval
[main::rq(P2 => POST => 'orchestrators/Hello/a1'),
 main::rq(P2 => POST => 'orchestrators/Hello/a2'),
 main::rq(P2 => POST => 'instances/a2/suspend'),
 main::rq(P2 => DELETE => 'instances/a1'),
 main::rq(P2 => DELETE => 'instances/a2'),
 main::rq(P2 => GET => 'instances/a1')]
--- error_code eval: [202, 202, 202, 412, 412, 202]
--- response_headers eval
["", "", "", "Content-Type: application/json; charset=utf-8", "Content-Type: application/json; charset=utf-8", ""]
--- response_body_like eval
['^\{"id":"a1"', '^\{"id":"a2"', '^$',
 '^"[^"]*a1[^"]*Pending[^"]*"$',
 '^"[^"]*a2[^"]*Suspended[^"]*"$',
 '"runtimeStatus":"Pending"']



=== TEST 3: purging a terminated instance: 200 {"instancesDeleted":1}, then it is gone (404 twice, not listed)
--- request eval
[main::rq(P3 => POST => 'orchestrators/Hello/t1'),
 main::rq(P3 => POST => 'orchestrators/Hello/keep'),
 main::rq(P3 => POST => 'instances/t1/terminate?reason=bye'),
 main::rq(P3 => DELETE => 'instances/t1'),
 main::rq(P3 => GET => 'instances/t1'),
 main::rq(P3 => DELETE => 'instances/t1'),
 main::rq(P3 => POST => 'instances/t1/terminate'),
 main::rq(P3 => GET => 'instances'),
 main::rq(P3 => GET => 'instances?runtimeStatus=Terminated')]
--- error_code eval: [202, 202, 202, 200, 404, 404, 404, 200, 200]
--- response_body_like eval
['^\{"id":"t1"', '^\{"id":"keep"', '^$', '^\{"instancesDeleted":1\}$', '^$', '^$', '^$',
 main::list_re('keep'), '^\[\]$']



=== TEST 4: the purged id's history goes with it: a new instance with that id starts clean
--- request eval
[main::rq(P3 => POST => 'orchestrators/Hello/t1', '"again"'),
 main::rq(P3 => POST => 'instances/t1/suspend?reason=check'),
 main::rq(P3 => GET => 'instances/t1?showHistory=true'),
 main::rq(P3 => GET => 'instances?runtimeStatus=Suspended')]
--- error_code eval: [202, 202, 202, 200]
--- response_body_like eval
['^\{"id":"t1"', '^$',
 '"input":"again",.*"historyEvents":\[\{"EventType":"ExecutionSuspended","Timestamp":"[^"]+","Reason":"check"\}\]\}$',
 main::list_re('t1')]



=== TEST 5: purge by filter needs createdTimeFrom: missing, empty or invalid is 400
--- request eval
[main::rq(P5 => DELETE => 'instances'),
 main::rq(P5 => DELETE => 'instances?createdTimeFrom='),
 main::rq(P5 => DELETE => 'instances?createdTimeFrom=yesterday'),
 main::rq(P5 => DELETE => 'instances?createdTimeFrom=2000-01-01&createdTimeTo=2000-01-32'),
 main::rq(P5 => DELETE => 'instances?createdTimeFrom=2000-01-01&runtimeStatus=Done'),
 main::rq(P5 => DELETE => 'instances/?runtimeStatus=Terminated'),
 main::rq(P5 => DELETE => 'instances?createdtimefrom=2000-01-01&CreatedTimeFrom=2000-01-02'),
 main::rq(P5 => DELETE => 'instances?top=5')]
--- error_code eval: [(400) x 8]
--- response_body_like eval
['^\{"Message":"[^"]*createdTimeFrom[^"]*"\}$',
 '^\{"Message":"[^"]*createdTimeFrom[^"]*"\}$',
 '^\{"Message":"[^"]*createdTimeFrom[^"]*"\}$',
 '^\{"Message":"[^"]*createdTimeTo[^"]*"\}$',
 '^\{"Message":"[^"]*Done[^"]*"\}$',
 '^\{"Message":"[^"]*createdTimeFrom[^"]*"\}$',
 '^\{"Message":"[^"]*createdTimeFrom[^"]*"\}$',
 '^\{"Message":"[^"]*createdTimeFrom[^"]*"\}$']



=== TEST 6: purge by filter deletes only terminal instances; active ones survive; nothing left: 404
--- request eval
[main::rq(P6 => POST => 'orchestrators/Hello/a1'),
 main::rq(P6 => POST => 'orchestrators/Hello/t1'),
 main::rq(P6 => POST => 'orchestrators/Hello/a2'),
 main::rq(P6 => POST => 'orchestrators/Hello/t2'),
 main::rq(P6 => POST => 'instances/a2/suspend'),
 main::rq(P6 => POST => 'instances/t1/terminate'),
 main::rq(P6 => POST => 'instances/t2/terminate'),
 main::rq(P6 => DELETE => 'instances?createdTimeFrom=2000-01-01'),
 main::rq(P6 => DELETE => 'instances?createdTimeFrom=2000-01-01'),
 main::rq(P6 => GET => 'instances')]
--- error_code eval: [202, 202, 202, 202, 202, 202, 202, 200, 404, 200]
--- response_body_like eval
['^\{"id":"a1"', '^\{"id":"t1"', '^\{"id":"a2"', '^\{"id":"t2"', '^$', '^$', '^$',
 '^\{"instancesDeleted":2\}$', '^$', main::list_re('a1', 'a2')]
--- no_error_log
[error]



=== TEST 7: runtimeStatus is intersected with the terminal statuses: only active ones match nothing (404)
--- request eval
[main::rq(P7 => POST => 'orchestrators/Hello/a1'),
 main::rq(P7 => POST => 'orchestrators/Hello/t1'),
 main::rq(P7 => POST => 'instances/t1/terminate'),
 main::rq(P7 => DELETE => 'instances?createdTimeFrom=2000-01-01&runtimeStatus=Pending,Running,Suspended'),
 main::rq(P7 => DELETE => 'instances?createdTimeFrom=2000-01-01&runtimeStatus=Completed,Failed'),
 main::rq(P7 => GET => 'instances'),
 main::rq(P7 => DELETE => 'instances?createdTimeFrom=2000-01-01&runtimeStatus=pending&runtimeStatus=TERMINATED'),
 main::rq(P7 => GET => 'instances'),
 main::rq(P7 => DELETE => 'instances?createdTimeFrom=2000-01-01&runtimeStatus=Terminated')]
--- error_code eval: [202, 202, 202, 404, 404, 200, 200, 200, 404]
--- response_body_like eval
['^\{"id":"a1"', '^\{"id":"t1"', '^$', '^$', '^$', main::list_re('a1', 't1'),
 '^\{"instancesDeleted":1\}$', main::list_re('a1'), '^$']



=== TEST 8: createdTimeFrom/To bound the purge (inclusive range; createdTimeTo defaults to now)
--- request eval
[main::rq(P8 => POST => 'orchestrators/Hello/t1'),
 main::rq(P8 => POST => 'instances/t1/terminate'),
 main::rq(P8 => DELETE => 'instances?createdTimeFrom=2000-01-01&createdTimeTo=2000-01-02T00:00:00Z'),
 main::rq(P8 => DELETE => 'instances?createdTimeFrom=2999-01-01'),
 main::rq(P8 => DELETE => 'instances?createdTimeFrom=2000-01-01T00:00:00%2B02:00&createdTimeTo=2999-12-31'),
 main::rq(P8 => GET => 'instances'),
 main::rq(P8 => GET => 'instances/t1')]
--- error_code eval: [202, 202, 404, 404, 200, 200, 404]
--- response_body_like eval
['^\{"id":"t1"', '^$', '^$', '^$', '^\{"instancesDeleted":1\}$', '^\[\]$', '^$']



=== TEST 9: durable_task_purge_batch 2: 5 terminated instances all go, counted right; the active one stays
--- request eval
main::batch_purge('P9')
--- error_code eval: $::batch_purge_codes
--- response_body_like eval: $::batch_purge_bodies
--- no_error_log
[error]



=== TEST 10: durable_task_purge_batch_time 0: a batch per instance, and all 6 terminated instances go
--- init
main::timed_setup();
--- request
DELETE /timed/instances?createdTimeFrom=2000-01-01&taskHub=P10&code=testkey123
--- error_code: 200
--- response_body: {"instancesDeleted":6}
--- grep_error_log: purged (by filter)
--- grep_error_log_out eval
"purged (by filter)\n" x 6



=== TEST 11: and the active one stays
--- request
GET /timed/instances?taskHub=P10&code=testkey123
--- error_code: 200
--- response_body_like eval
main::list_re('a1')



=== TEST 12: a store in a pool of one thread: batches of 2 and the store's flushes take turns; 5 terminated go, the active one stays
--- main_config
    thread_pool durable_one threads=1;
--- http_config eval: $::one_thread_store
--- config eval: $::config
--- request eval
main::batch_purge('P12')
--- error_code eval: $::batch_purge_codes
--- response_body_like eval: $::batch_purge_bodies
--- no_error_log
[error]



=== TEST 13: durable_task_purge_pace: the purge pauses between batches, and a write made during it is answered before it ends
--- skip_eval: 5: !$::debug
--- http_config eval: $::http_config
--- config eval
$::config . '
    location /paced/ {
        durable_task /paced;
        durable_task_anonymous on;
        durable_task_purge_batch 1;
        durable_task_purge_pace 20;
        durable_task_lifecycle_log on;
    }
'
--- init
# the real runner runs the init of a skipped block too
if ($::debug) {
    for my $path ('orchestrators/Hello/a1',
                  (map { "orchestrators/Hello/t$_" } 1 .. 20),
                  (map { "instances/t$_/terminate" } 1 .. 20))
    {
        my $r = DurableClient::api('POST',
                    "/paced/$path?taskHub=P13&code=testkey123", '');
        die "POST $path: $r->{status}" unless $r->{status} == 202;
    }
    # once the purge has deleted one instance, a child starts w1
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        for (1 .. 3000) {
            my $l = DurableClient::api('GET',
                        '/paced/instances?taskHub=P13&code=testkey123');
            last if ref $l->{json} eq 'ARRAY' && @{ $l->{json} } < 21;
            select(undef, undef, undef, 0.02);
        }
        DurableClient::api('POST',
            '/paced/orchestrators/Hello/w1?taskHub=P13&code=testkey123', '');
        POSIX::_exit(0);
    }
}
--- request
DELETE /paced/instances?createdTimeFrom=2000-01-01&taskHub=P13&code=testkey123
--- timeout: 60
--- error_code: 200
--- response_body: {"instancesDeleted":20}
--- error_log
durable purge: pause
--- grep_error_log eval
qr/purged \(by filter\)|"w1" of hub "P13": created/
--- grep_error_log_out eval
qr/\A(?:purged \(by filter\)\n)+"w1" of hub "P13": created\n(?:purged \(by filter\)\n)+\z/
--- no_error_log
[error]



=== TEST 14: the active instance and the write made during the purge stay
--- skip_eval: 2: !$::debug
--- init
DurableBlocks::reap_children();
--- request
GET /runtime/webhooks/durabletask/instances?taskHub=P13&code=testkey123
--- error_code: 200
--- response_body_like eval
main::list_re('a1', 'w1')



=== TEST 15: a bound at the epoch narrows the filter: createdTimeTo=1970-01-01T00:00:00Z, in any spelling, matches nothing
--- request eval
[main::rq(PE => POST => 'orchestrators/Hello/e1'),
 main::rq(PE => POST => 'instances/e1/terminate'),
 main::rq(PE => DELETE => 'instances?createdTimeFrom=1969-01-01&createdTimeTo=1970-01-01T00:00:00Z'),
 main::rq(PE => DELETE => 'instances?createdTimeFrom=1969-01-01&createdTimeTo=1970-01-01T01:00%2B01:00'),
 main::rq(PE => GET => 'instances'),
 main::rq(PE => DELETE => 'instances?createdTimeFrom=1970-01-01T00:00:00Z')]
--- error_code eval: [202, 202, 404, 404, 200, 200]
--- response_body_like eval
['^\{"id":"e1"', '^$', '^$', '^$', main::list_re('e1'),
 '^\{"instancesDeleted":1\}$']
