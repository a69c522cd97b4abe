package DurableBlocks;

# Helpers for the request lines and expected answers of --- blocks in the
# HTTP API tests, which eval them in package main: main::rq(...),
# main::status_re(...), $::TIME, $::FRAC; the pids of the nginx that
# Test::Nginx runs (master_pid, child_of); requests from Perl code (post,
# later); the configuration most API tests share (fresh_store,
# fresh_dirs, $API_LOCATION) and stores LMDB cannot open (corrupt_store);
# what the build under test has (debug_build, test_faults_build) and
# what its error log says (logged); ports for listeners of a file's own
# (free_port). Import what a file uses, e.g.
#   use lib 't/inc';
#   use DurableBlocks qw(rq status_re $TIME $FRAC);
# and call the others fully qualified from --- init code, which runs in
# package Test::Nginx::Util: DurableBlocks::post(...).

use strict;
use warnings;

use Exporter 'import';
use File::Path ();
use HTTP::Tiny;
use IO::Socket::INET ();
use IPC::Open2 ();
use List::Util ();
use POSIX ();

our @EXPORT_OK = qw(rq status_re $TIME $FRAC master_pid child_of
                    children_of hold_write_lock later post
                    reap_children fresh_dirs fresh_store corrupt_store
                    debug_build test_faults_build logged free_port
                    $API_LOCATION);

# the API under both of its prefixes, with the key testkey123
our $API_LOCATION = <<'_EOC_';
    location ~* ^/(runtime/webhooks/durabletask|admin/extensions/durabletaskextension)(/|$) {
        durable_task;
        durable_task_keys testkey123;
    }
_EOC_

# timestamps in answers: whole seconds, and with up to 7 fraction digits
our $TIME = '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ';
our $FRAC = '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?Z';

# one request line (and body) of a block, in hub $hub
sub rq {
    my ($hub, $method, $path, $body) = @_;
    my $sep = $path =~ /\?/ ? '&' : '?';
    return "$method /runtime/webhooks/durabletask/$path${sep}taskHub=$hub&code=testkey123"
           . (defined $body ? "\n$body" : '');
}

# an anchored regex of a status payload; $rest: regex after lastUpdatedTime
sub status_re {
    my ($name, $id, $status, $input, $output, $rest) = @_;
    return '^' . quotemeta(qq({"name":"$name","instanceId":"$id",)
           . qq("runtimeStatus":"$status","input":$input,"customStatus":null,)
           . qq("output":$output,"createdTime":"))
           . $TIME . '","lastUpdatedTime":"' . $TIME . '"'
           . ($rest // '') . '\}$';
}


# the master of the nginx the runner started, from its pid file
sub master_pid {
    my $pidfile = $Test::Nginx::Socket::PidFile;
    my $master = do { local (@ARGV, $/) = $pidfile; <> };
    chomp $master;
    return $master;
}

# the child processes of $ppid (a master's workers), from /proc
sub children_of {
    my ($ppid) = @_;
    my @kids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh> // next;
        # pid (comm) state ppid ...: comm may hold spaces
        push @kids, $1 if $line =~ /^(\d+) \(.*\) \S+ (\d+) / && $2 == $ppid;
    }
    return @kids;
}

# a child process of $ppid (a master with one worker)
sub child_of {
    my ($ppid) = @_;
    my ($kid) = children_of($ppid);
    die "no worker of master $ppid" unless $kid;
    return $kid;
}

# holds the write lock of the LMDB store in $dir from another process
# for $secs at most (t/tools/hold_write_lock.c, as DURABLE_HOLD_WRITE_LOCK
# names it); returns once it is held, with the handle whose close lets
# it go
sub hold_write_lock {
    my ($dir, $secs) = @_;
    my ($out, $in);
    my $hold = $ENV{DURABLE_HOLD_WRITE_LOCK} || 'build/t-hold-write-lock';
    IPC::Open2::open2($out, $in, $hold, $dir, $secs)
        or die "$hold: $!";
    my $line = <$out> // '';
    die "$hold did not take the lock: $line" unless $line eq "held\n";
    return $in;
}

# whether the error log of the nginx under test has a line matching $re,
# in its whole or from byte $pos on (a size the log had before)
sub logged {
    my ($re, $pos) = @_;
    open my $fh, '<', $Test::Nginx::Util::ErrLogFile or return 0;
    seek $fh, $pos // 0, 0;
    local $/;
    my $text = <$fh> // '';
    return $text =~ $re;
}

# the port a client reaches the nginx under test on
sub port {
    return $ENV{TEST_NGINX_CLIENT_PORT} || $ENV{TEST_NGINX_SERVER_PORT}
           || $ENV{TEST_NGINX_PORT} || 1984;
}

# The ports a test file listens on besides the runner's (a second server,
# an HTTP/2 or gRPC listener, a second nginx) are picked as the project's
# runner picks its own (t/README): outside the kernel's range of
# ephemeral ports, which every outgoing connection takes its local port
# from. A port the kernel hands out (LocalPort => 0) is inside it: a
# connection could take it between the pick and nginx's bind, and one
# closed from its own end then holds it for a minute (TIME_WAIT), which
# bind() refuses even with SO_REUSEADDR. This file is loaded by the real
# Test::Nginx too, so it reads the range itself.

# the ranges of ports to pick from: those of 10000-65535 on either side
# of ip_local_port_range that hold 1,000 ports at least; a host whose
# range leaves none gets 20000-59999, inside it
sub port_ranges {
    my ($lo, $hi) = (32768, 60999);
    if (open my $fh, '<', '/proc/sys/net/ipv4/ip_local_port_range') {
        my ($l, $h) = split ' ', (<$fh> // '');
        ($lo, $hi) = ($l, $h) if defined $h && $l =~ /^\d+$/ && $h =~ /^\d+$/;
        close $fh;
    }
    my @r = grep { $_->[1] - $_->[0] >= 1000 }
            ([10000, List::Util::min($lo - 1, 65535)],
             [List::Util::max($hi + 1, 10000), 65535]);
    return @r ? @r : ([20000, 59999]);
}

# the ports free_port returned before, which it does not return again
my %Taken;

# a free TCP port of 127.0.0.1 from @ranges (default port_ranges()):
# from a random start (two files of parallel lanes seldom try the same
# one), the first that is not the runner's server or client port (which
# nginx has not bound yet when a file picks its others), not returned
# before, and that a listener can bind as nginx binds (SO_REUSEADDR)
sub free_port {
    my @ranges = @_ ? @_ : port_ranges();
    my $size = List::Util::sum(map { $_->[1] - $_->[0] + 1 } @ranges);
    my $start = int(rand($size));
    my %not = %Taken;

    {
        no warnings 'once';
        $not{$_} = 1 for grep { defined && /^\d+$/ }
            $Test::Nginx::Socket::ServerPort,
            $Test::Nginx::Socket::ServerPortForClient,
            @ENV{qw(TEST_NGINX_SERVER_PORT TEST_NGINX_PORT
                    TEST_NGINX_CLIENT_PORT)}, 1984;
    }

    for my $i (0 .. List::Util::min($size, 2000) - 1) {
        my $n = ($start + $i) % $size;
        my $port;
        for my $r (@ranges) {
            my $len = $r->[1] - $r->[0] + 1;
            if ($n < $len) { $port = $r->[0] + $n; last }
            $n -= $len;
        }
        next if $not{$port};
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => $port, Proto => 'tcp',
                                      Listen => 1, ReuseAddr => 1)
            or next;
        close $s;
        $Taken{$port} = 1;
        return $port;
    }
    die "no free TCP port in "
        . join(', ', map { "$_->[0]-$_->[1]" } @ranges) . "\n";
}

# a POST of a JSON body (a string, sent as it is) with extra headers;
# returns HTTP::Tiny's response: status, content, headers
sub post {
    my ($path, $body, $headers) = @_;
    return HTTP::Tiny->new(timeout => 10)->request('POST',
        'http://127.0.0.1:' . port() . $path,
        { content => $body,
          headers => { 'Content-Type' => 'application/json',
                       %{ $headers || {} } } });
}

# removes the store directories @names of $TEST_NGINX_DATA_DIR: a test
# file starts with empty stores, as the instances of a run before would
# make its starts 409
sub fresh_dirs {
    my (@names) = @_;
    return unless $ENV{TEST_NGINX_DATA_DIR};
    File::Path::rmtree("$ENV{TEST_NGINX_DATA_DIR}/$_") for @names;
}

# the http_config of a store "default" in $TEST_NGINX_DATA_DIR/$name,
# which is removed first: each test file starts with an empty store
sub fresh_store {
    my ($name) = @_;
    fresh_dirs($name);
    return "    durable_task_store default path=\$TEST_NGINX_DATA_DIR/$name;\n";
}

# whether the nginx under test was built --with-debug, so that it writes
# the debug lines some blocks read
sub debug_build {
    return `$Test::Nginx::Util::NginxBinary -V 2>&1` =~ /--with-debug/;
}

# whether the module under test has the hook of test faults (config:
# DURABLE_TEST_FAULTS_BUILD): the name of its variable is in the shared
# objects TEST_NGINX_LOAD_MODULES loads, or in nginx, built in
sub test_faults_build {
    my @files = split ' ', $ENV{TEST_NGINX_LOAD_MODULES} // '';
    push @files, $Test::Nginx::Util::NginxBinary;

    for my $file (@files) {
        my $path = -e $file ? $file : scalar(`command -v $file 2>/dev/null`);
        chomp $path;
        open my $fh, '<:raw', $path or next;
        local $/;
        my $bytes = <$fh> // '';
        return 1 if index($bytes, 'DURABLE_TEST_FAULTS') >= 0;
    }

    return 0;
}

# makes $dir a store directory whose data file is not an LMDB file: a
# store there cannot be opened, and answers 503
sub corrupt_store {
    my ($dir) = @_;
    File::Path::make_path($dir);
    open my $fh, '>', "$dir/data.mdb" or die "$dir/data.mdb: $!";
    print $fh 'not an LMDB file ' x 1000;
    close $fh or die "$dir/data.mdb: $!";
}

# sends a request from a child process after $delay seconds, while the
# block's own request is held by nginx; the caller reaps the child, e.g.
# with add_cleanup_handler(\&DurableBlocks::reap_children)
sub later {
    my ($delay, $method, $path) = @_;
    my $port = port();
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        select(undef, undef, undef, $delay);
        eval {
            HTTP::Tiny->new(timeout => 10)->request($method,
                "http://127.0.0.1:$port$path");
        };
        POSIX::_exit(0);
    }
    return $pid;
}

# reaps the children left (those of later); `local $?`: a waitpid() that
# finds none sets $? to -1, which would become the script's exit status
sub reap_children {
    local $?;
    1 while waitpid(-1, POSIX::WNOHANG()) > 0;
}

1;
