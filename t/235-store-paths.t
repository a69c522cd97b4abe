# Store directories and the worker user. The master creates a missing
# store directory and gives it to the "user" of nginx.conf, as nginx does
# with its temp paths; a store directory that user cannot reach or use
# fails startup (and nginx -t) with a message naming the path, the user and
# the fix, instead of a 503 on every request.
#
# Only meaningful when the tests run as root (CI does): the workers then
# run as nobody, and the directories below belong to root.

my ($user, $group);

BEGIN {
    if ($> == 0) {
        my @pw = getpwnam('nobody');
        $user = 'nobody';
        $group = @pw ? scalar getgrgid($pw[3]) : undef;
        $ENV{TEST_NGINX_WORKER_USER} = "$user $group" if defined $group;
    }
}

use Test::Nginx::Socket;
use lib 't/inc';
use DurableBackend;
use File::Temp qw(tempdir);

if ($> != 0) {
    plan skip_all => 'the workers must run as another user than the '
                     . 'master: run as root';
}

if (!defined $group) {
    plan skip_all => 'no user "nobody" with a group to run the workers as';
}

repeat_each(1);

# must_die blocks: 2 tests each; block 4: 2 requests of 2; the owner of the
# created directory; two runs of nginx -t as nobody
plan tests => repeat_each() * (3 * 2 + 2 * 2) + 1 + 3;

# a directory of root's (0700) and a public one (0755) side by side
my $base = tempdir('durable-paths-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $base or die "chmod $base: $!";
mkdir "$base/private", 0700 or die "mkdir $base/private: $!";
mkdir "$base/public", 0755 or die "mkdir $base/public: $!";
# a searchable directory inside it, and a link to that from the public one
mkdir "$base/private/inner", 0755 or die "mkdir $base/private/inner: $!";
chmod 0755, "$base/private/inner" or die "chmod: $!";
symlink("$base/private/inner", "$base/public/link")
    or die "symlink $base/public/link: $!";

# a store directory whose LMDB file belongs to root, as after "user root"
mkdir "$base/public/rootfiles", 0755 or die "mkdir: $!";
open my $fh, '>', "$base/public/rootfiles/data.mdb" or die "data.mdb: $!";
close $fh;
chmod 0600, "$base/public/rootfiles/data.mdb" or die "chmod: $!";

$ENV{TEST_NGINX_PATHS_DIR} = $base;

no_shuffle();
run_tests();

# the store directory block 4 started on: made by the master, for nobody
Test::More::is((stat "$base/public/made")[4], scalar getpwnam($user),
               "the created store directory belongs to the worker user");

# nginx -t started as nobody: the workers keep the master's user, and the
# same checks apply to it
sub test_as_nobody {
    my ($store, $re, $what) = @_;
    my $np = "$base/np";
    my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';
    my $conf = "$np/nginx.conf";
    open my $fh, '>', $conf or die "$conf: $!";
    print $fh map({ "load_module $_;\n" }
                  split ' ', $ENV{TEST_NGINX_LOAD_MODULES} // ''),
        "error_log stderr;\npid $np/nginx.pid;\nevents {}\nhttp {\n",
        map({ "    ${_}_temp_path $np/$_;\n" }
            qw(client_body proxy fastcgi uwsgi scgi)),
        "    durable_task_store default path=$store;\n}\n";
    close $fh;
    my $as = "setpriv --reuid=$user --regid=$group --clear-groups";
    # an instrumented module needs its sanitizer runtime, as the runner
    # gives every nginx it starts (TEST_NGINX_LD_PRELOAD)
    my $preload = $ENV{TEST_NGINX_LD_PRELOAD}
                  ? "env LD_PRELOAD=$ENV{TEST_NGINX_LD_PRELOAD} " : '';
    my $out = `$as $preload$nginx -p $np/ -c $conf -e stderr -t 2>&1`;
    Test::More::like($out, $re, $what);
}

SKIP: {
    Test::More::skip('setpriv is not installed', 3)
        if system('setpriv --version >/dev/null 2>&1') != 0;

    mkdir "$base/np", 0755 or die "mkdir $base/np: $!";
    mkdir "$base/np/locked", 0700 or die "mkdir: $!";
    mkdir "$base/np/readonly", 0500 or die "mkdir: $!";
    chmod 0500, "$base/np/readonly" or die "chmod: $!";
    system('chown', '-R', $user, "$base/np") == 0 or die "chown failed";
    chmod 0600, "$base/np/locked" or die "chmod: $!";

    test_as_nobody("$base/np/locked/data",
        qr{durable_task_store "default": the worker user "nobody" cannot reach the store directory: "[^"]*/np/locked" is not searchable by it \(owner uid \d+, mode 0600\)},
        'started as nobody: a parent it cannot search is named');

    test_as_nobody("$base/np/readonly",
        qr{durable_task_store "default": the worker user "nobody" cannot create files in "[^"]*/np/readonly" \(owner uid \d+, mode 0500\)},
        'started as nobody: a directory it cannot write in is named');

    test_as_nobody("$base/np/readonly/data",
        qr{durable_task_store "default": the worker user "nobody" cannot create the store directory "[^"]*/np/readonly/data": its parent is not writable by it; create "[^"]*/np/readonly/data" for user "nobody", or set "user", or choose another path= \(13: },
        'started as nobody: a store directory it cannot create is named');
}

__DATA__

=== TEST 1: a store inside a directory the worker user cannot search
--- http_config
    durable_task_store default path=$TEST_NGINX_PATHS_DIR/private/data;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*durable_task_store "default": the worker user "nobody" cannot reach the store directory: "[^"]*/private" is not searchable by it \(owner uid 0, mode 0700\); make every parent directory searchable by user "nobody", or set "user", or choose another path=}



=== TEST 2: a store reached through a symbolic link to a directory inside it
--- http_config
    durable_task_store default path=$TEST_NGINX_PATHS_DIR/public/link/data;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*durable_task_store "default": the worker user "nobody" cannot reach the store directory: "[^"]*/private" is not searchable by it}



=== TEST 3: a store whose data file belongs to root
--- http_config
    durable_task_store default path=$TEST_NGINX_PATHS_DIR/public/rootfiles;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*durable_task_store "default": the worker user "nobody" cannot read and write "[^"]*/public/rootfiles/data.mdb" \(owner uid 0, mode 0600\): run "chown -R nobody }



=== TEST 4: a new store directory is created for the worker user, and works
--- http_config
    durable_task_store default path=$TEST_NGINX_PATHS_DIR/public/made;
--- config
    location /x/ {
        durable_task /x;
        durable_task_anonymous on;
    }
--- request eval
["POST /x/orchestrators/Hello/p1",
 "GET /x/instances/p1"]
--- error_code eval
[202, 202]
--- response_body_like eval
['"id":"p1"', '"runtimeStatus":"Pending"']
