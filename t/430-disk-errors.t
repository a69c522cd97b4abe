# Stores that cannot be used (docs/reliability.md): a path that is not a
# directory fails at configuration time; a store LMDB cannot open answers
# 503 with a JSON message and an alert while the worker serves the other
# stores; a disk that fills up answers 507 and nothing is half-written,
# and writes resume once space is freed. The full-disk block mounts a
# small tmpfs, so it runs only as root where mount works.

use Test::Nginx::Socket;
use File::Path qw(rmtree make_path);
use lib 't/inc';
use DurableBackend;
use DurableBlocks ();

repeat_each(1);
log_level('info');

# tests per block (per request: status + body + each no_error_log pattern;
# init blocks add their own Perl checks):
#    1: 2      2: 3      3: 2      4: 6 + 2 * 2
plan tests => 2 + 3 + 2 + 10;

our $data = $ENV{TEST_NGINX_DATA_DIR} // '';
our $check = $ENV{DURABLE_CHECK} || 'build/durable-check';
our $mnt = "$data/disk-mnt";
our $MOUNTED = 0;

if ($data) {
    rmtree("$data/$_") for qw(disk-file disk-corrupt disk-good);
    DurableBlocks::corrupt_store("$data/disk-corrupt");

    # a path that is a file
    open my $fh, '>', "$data/disk-file" or die $!;
    close $fh;

    # a 2 MB disk: a filler file to free later, the rest for the store
    system("umount -l $mnt 2>/dev/null");
    rmtree($mnt);
    make_path($mnt);
    if ($> == 0
        && system("mount -t tmpfs -o size=2m,mode=1777 tmpfs $mnt 2>/dev/null")
           == 0)
    {
        $MOUNTED = 1;
        open $fh, '>', "$mnt/filler" or die $!;
        print $fh 'f' x (512 * 1024);
        close $fh;
    }
}

END {
    local $?;    # system() must not decide the script's exit status
    system("umount -l $mnt 2>/dev/null") if $MOUNTED;
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a store path that is a file fails at configuration time
--- http_config
    durable_task_store default path=$TEST_NGINX_DATA_DIR/disk-file;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*durable_task_store "default": path/



=== TEST 2: a data file that is not an LMDB file: 503 {"Message":...} and an alert
--- http_config
    durable_task_store good path=$TEST_NGINX_DATA_DIR/disk-good;
    durable_task_store corrupt path=$TEST_NGINX_DATA_DIR/disk-corrupt;
--- config
    location /d/ {
        durable_task /d;
        durable_task_anonymous on;
    }
--- request
POST /d/orchestrators/Hello/x1?connection=corrupt
--- error_code: 503
--- response_body_like chomp
^\{"Message":"The store 'corrupt' is not available; see the error log\."\}$
--- error_log eval
qr/\[alert\].*durable: store "corrupt": cannot open store .*: mdb_env_open\(\) failed: MDB_INVALID/



=== TEST 3: the same worker still reads and writes the other store
--- request
POST /d/orchestrators/Hello/g1?connection=good
--- error_code: 202
--- response_body_like chomp
^\{"id":"g1",



=== TEST 4: the disk fills up: 507 {"Message":...}, nothing half-written, reads and other stores still work; writes resume once space is freed
--- skip_eval: 10: !$::MOUNTED
--- http_config
    durable_task_store disk path=$TEST_NGINX_DATA_DIR/disk-mnt/store max_size=64m;
    durable_task_store good path=$TEST_NGINX_DATA_DIR/disk-good;
--- config
    location /d/ {
        durable_task /d;
        durable_task_anonymous on;
        durable_task_connection disk;
    }
--- init
# the real runner runs the init of a skipped block too
if ($::MOUNTED) {
    my $big = '"' . ('x' x 60000) . '"';
    my ($r, %sent, @acked);
    for my $i (1 .. 100) {
        $r = DurableBlocks::post("/d/orchestrators/Hello/disk-$i", $big);
        $sent{"disk-$i"} = $r->{status};
        last if $r->{status} != 202;
        push @acked, "disk-$i";
    }
    Test::More::is($r->{status}, 507, scalar(@acked) . ' starts fit, then 507');
    Test::More::like($r->{content}, qr/^\{"Message":"The store 'disk' is full[^"]*disk space[^"]*"\}$/,
                     'with a JSON message');

    my $ok = system("$::check $::mnt/store > /dev/null 2>&1") == 0;
    Test::More::ok($ok, 'durable-check: the store is consistent');
    my %have = map { (split /\t/)[0] => 1 }
               split /\n/, `$::check --list-ids DurableFunctionsHub $::mnt/store 2>/dev/null`;
    my @half = grep { $sent{$_} != 202 && $have{$_} } keys %sent;
    Test::More::ok(!@half && keys(%have) == @acked,
                   'exactly the acknowledged starts exist')
        or Test::More::diag("half-written: @half");

    Test::More::is(DurableBlocks::post('/d/orchestrators/Hello/g2?connection=good', '1')->{status},
                   202, 'the other store still takes writes');

    unlink "$::mnt/filler" or die "unlink: $!";
    Test::More::is(DurableBlocks::post('/d/orchestrators/Hello/after', $big)->{status},
                   202, 'a write fits once space is freed');
}
--- request eval
["GET /d/instances/disk-1?showInput=false",
 "GET /d/instances?top=1&showInput=false"]
--- error_code eval: [202, 200]
--- response_body_like eval
['"instanceId":"disk-1","runtimeStatus":"Pending"',
 '^\[\{"name":"Hello","instanceId":"disk-1",']
