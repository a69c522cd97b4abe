package Test::Nginx::Socket;

# A small, self-contained runner for Test::Nginx style `.t` files.
#
# This module was written from scratch for the ngx_durable project.  It is
# compatible with OpenResty's Test::Nginx::Socket for the subset of the
# format that t/README lists, and refuses the rest: the same `.t` files run
# unchanged under both.
#
# Layout of this file:
#   1. set-up, globals and the prologue API (repeat_each, no_shuffle, ...)
#   2. environment expansion helpers
#   3. server root, nginx.conf writer and nginx process management
#   4. the raw-socket HTTP client and response parser
#   5. the per-block driver (run_tests / run_block) and the checks
#   6. END-time cleanup
#
# The data parser, section filters, blocks(), ONLY/SKIP/LAST come from
# Test::Base, which this module subclasses (`-base`: no source filter).

use strict;
use warnings;

use Test::Base -base;

use Carp ();
use Cwd ();
use Errno ();
use File::Path ();
use File::Spec ();
use File::Temp ();
use IO::Select ();
use IO::Socket::INET ();
use List::Util ();
use POSIX ();
use Socket ();
use Time::HiRes ();
use HTTP::Response ();
use Test::LongString ();

require Test::Base::Filter;

our $VERSION = '0.01';

our @EXPORT = qw(
    run_tests run_test
    repeat_each no_shuffle
    workers master_on master_off master_process_enabled
    worker_connections log_level
    no_long_string no_root_location
    timeout server_name server_port server_addr server_port_for_client
    env_to_nginx config_preamble check_accum_error_log
    add_block_preprocessor add_cleanup_handler add_test_cleanup_handler
    add_response_body_check
    html_dir server_root bail_out no_nginx_manager is_str use_hup
);

#=============================================================================
# 1. Globals and prologue API
#=============================================================================

sub env_true ($) {
    my $v = $ENV{ $_[0] };
    return defined $v && $v ne '' && $v ne '0';
}

# The real runner keeps its settings and paths in Test::Nginx::Util and
# exports only some of them into Test::Nginx::Socket.  The same split is
# made here, so that test code naming a variable in the wrong package
# fails with this runner as it would (silently) with the real one: the
# `our` lines below alias the names in this file to Test::Nginx::Util, and
# only the exported ones are aliased into Test::Nginx::Socket at the end.
package Test::Nginx::Util;

our ($Verbose, $RepeatEach, $NoShuffle, $Workers, $MasterProcess,
     $WorkerConnections, $LogLevel, $NoLongString, $NoRootLocation,
     $Timeout, $TestNginxSleep, $ServerName, $ServerAddr, $ConfigPreamble,
     $CheckAccumErrLog, $NoNginxManager, $ServerPort, $ServerPortForClient,
     $ServRoot, $HtmlDir, $ConfDir, $LogDir, $ErrLogFile, $AccLogFile,
     $PidFile, $ConfFile, $NginxBinary, $InSubprocess);

package Test::Nginx::Socket;

$Verbose        = env_true('TEST_NGINX_VERBOSE');
$RepeatEach     = 1;
$NoShuffle      = env_true('TEST_NGINX_NO_SHUFFLE');
$Workers        = 1;
$MasterProcess  = ($ENV{TEST_NGINX_MASTER_PROCESS} // 'off') =~ /^(?:on|1)$/i
                  ? 'on' : 'off';
$WorkerConnections = 64;
$LogLevel       = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
$NoLongString   = 0;
$NoRootLocation = 0;
$Timeout        = $ENV{TEST_NGINX_TIMEOUT} || 3;
$TestNginxSleep = $ENV{TEST_NGINX_SLEEP} // 0.015;
$ServerName     = 'localhost';
$ServerAddr     = '127.0.0.1';
$ConfigPreamble = '';
$CheckAccumErrLog = 0;
$NoNginxManager = env_true('TEST_NGINX_NO_NGINX_MANAGER');
our $FastShutdown   = env_true('TEST_NGINX_FAST_SHUTDOWN');
our $NoClean        = env_true('TEST_NGINX_NO_CLEAN');
our $UseValgrind    = $ENV{TEST_NGINX_USE_VALGRIND};
undef $UseValgrind if defined $UseValgrind && ($UseValgrind eq '' || $UseValgrind eq '0');

# how many lines of a failing block's error.log get printed with diag()
# (0 means "all of them")
our $DiagLogLines   = $ENV{TEST_NGINX_DIAG_LOG_LINES} // 300;

our (@EnvToNginx, @BlockPreprocessors, @CleanupHandlers, @TestCleanupHandlers,
     @ResponseBodyChecks);

# Ports.  TEST_NGINX_RANDOMIZE picks a free port and a per-port servroot so
# that several test files can run in parallel (prove -jN).
$ServerPort = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;
our $Randomized = 0;
if (env_true('TEST_NGINX_RANDOMIZE') && !$ENV{TEST_NGINX_SERVER_PORT}) {
    $ServerPort = pick_free_port();
    $Randomized = 1;
}
$ServerPortForClient = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;

# Paths.  Everything in nginx.conf is absolute.
$ServRoot = $ENV{TEST_NGINX_SERVROOT}
    || File::Spec->catdir(Cwd::cwd(), 't', $Randomized ? "servroot_$ServerPort"
                                                     : 'servroot');
$ServRoot = File::Spec->rel2abs($ServRoot);
$ServRoot =~ s{/+$}{};
$HtmlDir    = "$ServRoot/html";
$ConfDir    = "$ServRoot/conf";
$LogDir     = "$ServRoot/logs";
$ErrLogFile = "$LogDir/error.log";
$AccLogFile = "$LogDir/access.log";
$PidFile    = "$LogDir/nginx.pid";
$ConfFile   = "$ConfDir/nginx.conf";
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

$NginxBinary = $ENV{TEST_NGINX_BINARY} || 'nginx';

# State of the nginx process we manage.
our $NginxRunning   = 0;      # we started an nginx that should be alive
our $ChildPid;                # valgrind mode: pid of our foreground child
our $PrevConfText;            # last nginx.conf we wrote (for config-less blocks)
our $PrevUserFiles;           # and the block that owned it (user_files)
our $ValgrindBlockName;       # the block whose nginx runs under valgrind
our $ErrLogPos      = 0;      # error.log window start for the log checks
our $AccLogPos      = 0;      # same for access.log
our $BlockLogStart  = 0;      # error.log offset where the current block began
$InSubprocess      = 0;
our $StartedByUs    = 0;
our ($NginxVersion, $OpenSSLVersion, $NginxVFull);
our $ShutdownBlock;           # its --- shutdown_error_log is still unchecked
our $ShutdownLogPos = 0;      # error.log offset after that block's requests
our $NginxBlockName;          # the block that started the running nginx
our %RandPorts;

sub repeat_each (@) {
    $RepeatEach = shift if @_;
    return $RepeatEach;
}

sub no_shuffle ()          { $NoShuffle = 1 }
sub workers ($)            { $Workers = shift }
sub master_on ()           { $MasterProcess = 'on' }
sub master_off ()          { $MasterProcess = 'off' }
sub master_process_enabled (@) {
    $MasterProcess = $_[0] ? 'on' : 'off' if @_;
    return $MasterProcess eq 'on';
}
sub worker_connections ($) { $WorkerConnections = shift }
sub no_long_string ()      { $NoLongString = 1 }
sub no_root_location ()    { $NoRootLocation = 1 }
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub no_nginx_manager ()    { $NoNginxManager = 1 }
sub config_preamble ($)    { $ConfigPreamble = shift }
sub env_to_nginx (@)       { push @EnvToNginx, @_ }
sub server_root ()         { $ServRoot }
sub html_dir ()            { $HtmlDir }

sub log_level (@) {
    $LogLevel = shift if @_;
    return $LogLevel;
}

sub timeout (@) {
    $Timeout = shift if @_;
    return $Timeout;
}

sub server_name (@) {
    $ServerName = shift if @_;
    return $ServerName;
}

sub server_addr (@) {
    $ServerAddr = shift if @_;
    return $ServerAddr;
}

sub server_port (@) {
    if (@_) {
        $ServerPort = shift;
        $ServerPortForClient = $ServerPort unless $ENV{TEST_NGINX_CLIENT_PORT};
    }
    return $ServerPort;
}

sub server_port_for_client (@) {
    $ServerPortForClient = shift if @_;
    return $ServerPortForClient;
}

# HUP mode (reloading nginx between blocks instead of restarting it) is
# not implemented: refuse it rather than run the blocks another way.
sub use_hup () {
    refuse_mode('use_hup()');
}

# Like the real runner: preprocessors and cleanup handlers run in the
# reverse order of their registration.
sub add_block_preprocessor (&)   { unshift @BlockPreprocessors, shift }
sub add_cleanup_handler ($)      { unshift @CleanupHandlers, shift }
sub add_test_cleanup_handler (&) { push @TestCleanupHandlers, shift }
sub add_response_body_check ($)  { push @ResponseBodyChecks, shift }

sub bail_out (@) {
    my $msg = join '', @_;
    undef $ShutdownBlock;    # nothing more is checked after a bail out
    run_cleanup_handlers();
    stop_nginx() unless $NoClean;
    Test::More::BAIL_OUT($msg);
}

# The real runner calls the cleanup handlers when run_tests() is done, on a
# bail out, and again at exit.  It does not protect $? from them: a handler
# that leaves $? non-zero (a waitpid() without `local $?` leaves -1) makes
# Test::Builder end the script with that status.  Both are reproduced.
sub run_cleanup_handlers {
    return if $InSubprocess;
    for my $h (@CleanupHandlers) {
        $h->();
    }
}

# String comparison used for bodies: Test::LongString unless no_long_string().
sub is_str ($$;$) {
    my ($got, $expected, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    if (ref $expected && ref $expected eq 'Regexp') {
        return Test::More::like($got, $expected, $name);
    }
    my $ok;
    if ($NoLongString) {
        $ok = Test::More::is($got, $expected, $name);
    } else {
        $ok = Test::LongString::is_string($got, $expected, $name);
    }
    if (!$ok && !$ENV{TEST_SHOW_NO_DIFFS} && defined $got && defined $expected
        && $expected =~ /\n./s && eval { require Text::Diff; 1 })
    {
        Test::More::diag(Text::Diff::diff(\$expected, \$got,
                                          { STYLE => 'Unified' }));
    }
    return $ok;
}

# The `eval` filter of Test::Base turns a failing eval into the error text;
# we rather die loudly so that broken test data is never silently compared.
package Test::Nginx::Socket::Filter;
our @ISA = ('Test::Base::Filter');

sub eval {
    my $self = shift;
    my $code = shift;
    my @ret = CORE::eval($code);
    if ($@) {
        my $block = $self->current_block;
        my $name = $block ? ($block->name // '') : '';
        die "$name: the eval filter failed: $@";
    }
    return @ret;
}

# Code of a block that the real runner evaluates inside its
# Test::Nginx::Util package (--- init, --- skip_eval,
# --- post_setup_server_root) is evaluated in that package here too, so
# that a helper of the test file called without its package name
# (`main::foo()`) fails here as it does there.  The package offers what
# the real one does and this runner implements: its settings functions,
# bail_out, is_str, and Time::HiRes's sleep.
package Test::Nginx::Util;

Time::HiRes->import('sleep');
POSIX->import(qw(SIGQUIT SIGKILL SIGTERM SIGHUP WNOHANG));

{
    no strict 'refs';
    for my $f (qw(bail_out is_str add_cleanup_handler add_block_preprocessor
                  repeat_each no_shuffle workers master_on master_off
                  master_process_enabled worker_connections log_level
                  no_long_string no_root_location timeout server_name
                  server_port server_addr server_port_for_client env_to_nginx
                  config_preamble check_accum_error_log html_dir server_root
                  no_nginx_manager use_hup))
    {
        *{"Test::Nginx::Util::$f"} = \&{"Test::Nginx::Socket::$f"};
    }
}

package Test::Nginx::Socket;

#=============================================================================
# 2. Helpers: environment expansion, section access
#=============================================================================

# Evaluate the code of a section in package Test::Nginx::Util (see there);
# returns its value, with $@ set on failure.
sub eval_in_util {
    my ($code, $section) = @_;
    return eval "package Test::Nginx::Util;\n#line 1 \"--- $section\"\n$code";
}

# The ports a randomized run listens on are picked outside the kernel's
# range of ephemeral ports (ip_local_port_range), which every outgoing
# connection takes its local port from: nginx's to PostgreSQL, psql's,
# the client's.  A port picked inside it could be taken by such a
# connection between the pick and nginx's start (between two blocks,
# whenever nginx restarts), and a connection closed from its own end
# then holds the port for a minute in TIME_WAIT, which bind() refuses
# even with SO_REUSEADDR: nginx could not start for longer than the
# start is retried.  The check below only sees the port as it is now.
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
    # every port is ephemeral: pick among them, as nothing else is left
    return @r ? @r : ([20000, 59999]);
}

sub pick_free_port {
    my @ranges = port_ranges();
    my $size = List::Util::sum(map { $_->[1] - $_->[0] + 1 } @ranges);
    for (1 .. 100) {
        my $n = int(rand($size));
        my $port;
        for my $r (@ranges) {
            my $len = $r->[1] - $r->[0] + 1;
            if ($n < $len) { $port = $r->[0] + $n; last }
            $n -= $len;
        }
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => $port, Proto => 'tcp',
                                      Listen => 1, ReuseAddr => 1);
        if ($s) { close $s; return $port }
    }
    die "cannot find a free TCP port\n";
}

# Replace every $TEST_NGINX_FOO by the environment variable's value; an unset
# variable is fatal (bail out), like in the real runner.
sub expand_env_in_text {
    my ($text, $name) = @_;
    return $text if !defined $text || ref $text;
    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{env_value($1, $name)}ge;
    return $text;
}

sub env_value {
    my ($var, $name) = @_;
    if ($var =~ /^TEST_NGINX_RAND_PORT_\d+$/ && !defined $ENV{$var}) {
        return $RandPorts{$var} //= pick_free_port();
    }
    if (!defined $ENV{$var}) {
        bail_out(($name ? "$name - " : '')
                 . "No environment $var defined.");
    }
    return $ENV{$var};
}

# Literal $ServerPort / $ServerPortForClient in expected values.
sub expand_server_port {
    my $s = shift;
    return $s if !defined $s || ref $s;
    $s =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
    $s =~ s/\$ServerPort\b/$ServerPort/g;
    return $s;
}

# The value of a section: undef when absent, a scalar for a single value,
# an array ref when the section holds several values (eval lists).
sub sec {
    my ($block, $name) = @_;
    my $v = $block->{$name};
    return undef unless $v && @$v;
    return $v->[0] if @$v == 1;
    return [@$v];
}

# Per-request expected value: arrays are indexed by request number.
sub per_req {
    my ($block, $sec, $idx, $multi) = @_;
    my $v = sec($block, $sec);
    return undef unless defined $v;
    if ($multi) {
        if (ref $v ne 'ARRAY') {
            bail_out("$block->{_tn_name} - the --- $sec section must be an array "
                     . "(one entry per request) when several requests are sent");
        }
        return $v->[$idx];
    }
    return $v;
}

sub parse_timeout {
    my $t = shift;
    return undef unless defined $t;
    return $1 / 1000 if $t =~ /^\s*([\d.]+)\s*ms\s*$/;
    return $1        if $t =~ /^\s*([\d.]+)\s*s?\s*$/;
    bail_out("bad --- timeout value: $t");
}

sub slurp {
    my ($file, $pos) = @_;
    open my $fh, '<', $file or return undef;
    binmode $fh;
    seek $fh, $pos, 0 if $pos;
    local $/;
    my $data = <$fh>;
    close $fh;
    return $data // '';
}

#=============================================================================
# 3. Server root, nginx.conf, nginx process management
#=============================================================================

sub find_nginx_binary {
    my $bin = $NginxBinary;
    if ($bin =~ m{/}) {
        return -x $bin && -f _ ? $bin : undef;
    }
    # PATH, then the usual sbin directories (a normal user's PATH often
    # lacks /usr/sbin), then the current directory.
    for my $dir (File::Spec->path, '/usr/local/sbin', '/usr/sbin', '/sbin', '.') {
        next unless length $dir;
        my $p = "$dir/$bin";
        return File::Spec->rel2abs($p) if -x $p && -f _;
    }
    return undef;
}

# Run `nginx -V` once; remember the version and the configure arguments.
sub probe_nginx {
    return if defined $NginxVFull;
    my $bin = find_nginx_binary();
    bail_out("Cannot find the nginx executable '$NginxBinary' (PATH, /usr/sbin); "
             . "set TEST_NGINX_BINARY") unless $bin;
    $NginxBinary = $bin;
    my $out = `'$bin' -V 2>&1`;
    if ($? != 0 || !defined $out) {
        bail_out("'$bin -V' failed: " . ($out // $!));
    }
    $NginxVFull = $out;
    if ($out =~ m{nginx/(\d+)\.(\d+)\.(\d+)}) {
        $NginxVersion = version_num($1, $2, $3);
    }
    if ($out =~ m{built with OpenSSL (\d+)\.(\d+)\.(\d+)}) {
        $OpenSSLVersion = version_num($1, $2, $3);
    }
}

sub version_num { my ($a, $b, $c) = @_; return $a * 1_000_000 + $b * 1000 + $c }

sub nginx_lacks_module {
    my $m = shift;
    return ($NginxVFull // '') =~ /--without-http_${m}_module\b/;
}

# Wipe and recreate the server root, as the real runner does: anything
# unknown left in it is an error (bail out) rather than silently deleted.
sub setup_server_root {
    if (-d $ServRoot) {
        File::Path::rmtree($_) for grep { -e $_ } (
            "$ServRoot/conf",
            glob("$ServRoot/*_cache"), glob("$ServRoot/*_temp"),
            "$ServRoot/cache", "$ServRoot/html", "$ServRoot/logs",
        );
        if (!rmdir $ServRoot) {
            my $err = $!;
            my @left;
            if (opendir(my $dh, $ServRoot)) {
                @left = grep { !/^\.\.?$/ } readdir($dh);
            }
            bail_out("Can't remove $ServRoot (not empty?): $err"
                     . (@left ? " (left: @left)" : ''));
        }
    }
    File::Path::mkpath([$LogDir, $HtmlDir, $ConfDir]);
    write_file("$HtmlDir/index.html", "It works!");
}

sub write_file {
    my ($path, $content) = @_;
    my ($vol, $dir) = File::Spec->splitpath($path);
    File::Path::mkpath($dir) if length $dir && !-d $dir;
    open my $fh, '>', $path or bail_out("Can't open $path for writing: $!");
    binmode $fh;
    print $fh $content;
    close $fh or bail_out("Can't write $path: $!");
}

# --- user_files: ">>> name [YYYYMMDDhhmm[.ss]]" followed by the content.
sub write_user_files {
    my $block = shift;
    my $uf = sec($block, 'user_files');
    return unless defined $uf;
    my @files;    # [name, content, mtime-spec]
    if (ref $uf eq 'ARRAY') {
        for my $f (@$uf) {
            ref $f eq 'ARRAY' or bail_out("bad --- user_files entry");
            push @files, [@$f];
        }
    } else {
        my $cur;
        for my $line (split /^/m, $uf) {
            if ($line =~ /^>>>\s+(\S+)(?:\s+(\S+))?\s*$/) {
                $cur = [$1, '', $2];
                push @files, $cur;
            } elsif ($cur) {
                $cur->[1] .= $line;
            } elsif ($line =~ /\S/) {
                bail_out("$block->{_tn_name} - bad --- user_files: "
                         . "expected a '>>> name' line first");
            }
        }
    }
    for my $f (@files) {
        my ($name, $content, $mtime) = @$f;
        $content = expand_env_in_text($content, $block->{_tn_name});
        my $path = File::Spec->file_name_is_absolute($name) ? $name
                 : "$HtmlDir/$name";
        write_file($path, $content);
        if (defined $mtime && $mtime =~ /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(?:\.(\d\d))?$/) {
            my $t = POSIX::mktime($6 // 0, $5, $4, $3, $2 - 1, $1 - 1900);
            utime $t, $t, $path;
        }
    }
}

# Build nginx.conf following the layout of the real runner (doc section 5).
sub build_config {
    my ($block, $config) = @_;
    my $level = sec($block, 'log_level') // $LogLevel;
    my $http_config = expand_env_in_text(sec($block, 'http_config') // '',
                                         $block->{_tn_name});
    my $main_config = expand_env_in_text(sec($block, 'main_config') // '',
                                         $block->{_tn_name});
    my $post_main = expand_env_in_text(sec($block, 'post_main_config') // '',
                                       $block->{_tn_name});
    my $err_log = sec($block, 'error_log_file');
    $err_log = defined $err_log ? expand_env_in_text($err_log) : $ErrLogFile;
    my $server_name = sec($block, 'server_name') // $ServerName;
    my $daemon = $UseValgrind ? 'off' : 'on';

    my @c;
    push @c, "worker_processes  $Workers;",
             "daemon $daemon;",
             "master_process $MasterProcess;",
             "error_log $err_log $level;",
             "pid       $PidFile;",
             '';
    push @c, map { "env $_;" } qw(MOCKEAGAIN_VERBOSE MOCKEAGAIN
        MOCKEAGAIN_WRITE_TIMEOUT_PATTERN LD_PRELOAD LD_LIBRARY_PATH
        DYLD_INSERT_LIBRARIES DYLD_FORCE_FLAT_NAMESPACE);
    push @c, map { "env $_;" } @EnvToNginx;
    push @c, '';
    for my $mod (split ' ', $ENV{TEST_NGINX_LOAD_MODULES} // '') {
        push @c, "load_module $mod;";
    }
    push @c, $main_config, '', 'http {',
        "    access_log $AccLogFile;";
    push @c, "    client_body_temp_path $ServRoot/client_body_temp;"
        unless $http_config =~ /\bclient_body_temp_path\b/;
    push @c, "    proxy_temp_path $ServRoot/proxy_temp;"
        unless $http_config =~ /\bproxy_temp_path\b/;
    for my $m (qw(fastcgi scgi uwsgi)) {
        push @c, "    ${m}_temp_path $ServRoot/${m}_temp;"
            unless nginx_lacks_module($m);
    }
    push @c, '    default_type text/plain;',
             '    keepalive_timeout  68000ms;',
             '',
             $http_config,
             '',
             '    server {',
             "        listen          $ServerPort;",
             "        server_name     '$server_name';",
             '        client_max_body_size 30M;',
             $ConfigPreamble,
             '        # --- test config begin',
             $config,
             '        # --- test config end';
    unless ($NoRootLocation) {
        push @c, '        location / {',
                 "            root $HtmlDir;",
                 '            index index.html index.htm;',
                 '        }';
    }
    push @c, '    }', '}', '', $post_main, '',
             'events {',
             '    accept_mutex off;',
             "    worker_connections  $WorkerConnections;";
    push @c, "    use $ENV{TEST_NGINX_EVENT_TYPE};" if $ENV{TEST_NGINX_EVENT_TYPE};
    push @c, '}', '', 'env ASAN_OPTIONS;', 'env UBSAN_OPTIONS;',
             'env LSAN_OPTIONS;', 'env MOCKNOEAGAIN_VERBOSE;',
             'env MOCKNOEAGAIN;';
    # a user directive only makes sense (and is silent) when running as root
    if ($> == 0) {
        push @c, 'user ' . ($ENV{TEST_NGINX_WORKER_USER} || 'root') . ';';
    }
    return join("\n", @c) . "\n";
}

sub read_pid {
    open my $fh, '<', $PidFile or return undef;
    my $pid = <$fh>;
    close $fh;
    return undef unless defined $pid && $pid =~ /^\s*(\d+)\s*$/;
    return $1;
}

sub is_running {
    my $pid = shift;
    return 0 unless $pid;
    if (defined $ChildPid && $pid == $ChildPid) {
        my $r = waitpid($pid, POSIX::WNOHANG());
        if ($r == $pid) { $ChildPid = undef; return 0 }
        return $r == 0 ? 1 : 0;
    }
    return 0 unless kill 0, $pid;
    # a zombie is not alive
    if (open my $fh, '<', "/proc/$pid/stat") {
        my $stat = <$fh> // '';
        return 0 if $stat =~ /^\d+ \(.*\) Z /;
    }
    return 1;
}

# Is the pid (from a possibly stale pid file) really an nginx process?
sub looks_like_nginx {
    my $pid = shift;
    return 1 unless -d '/proc';
    open my $fh, '<', "/proc/$pid/cmdline" or return 0;
    local $/;
    my $cmd = <$fh> // '';
    return $cmd =~ /nginx|valgrind/;
}

# Stop the nginx we manage (pid file, or our valgrind child): QUIT (TERM in
# fast-shutdown mode), poll up to timeout() seconds, then KILL.
sub stop_nginx {
    my $pid = $ChildPid;
    if (!defined $pid) {
        $pid = read_pid();
        if (!defined $pid && $NginxRunning) {
            # the daemon may not have written its pid file yet
            for (1 .. 40) {
                Time::HiRes::sleep(0.025);
                last if defined($pid = read_pid());
            }
        }
    }
    if (defined $pid && is_running($pid)) {
        kill_process($pid);
    }
    $NginxRunning = 0;
    check_valgrind_report();
    $ChildPid = undef;
}

sub kill_process {
    my $pid = shift;
    my $sig = $FastShutdown ? 'TERM' : 'QUIT';
    warn "sending $sig to nginx $pid\n" if $Verbose;
    my $log_pos = (-s $ErrLogFile) // 0;
    kill $sig, $pid;
    my $deadline = Time::HiRes::time() + $Timeout;
    my $step = $TestNginxSleep > 0 ? $TestNginxSleep : 0.005;
    while (Time::HiRes::time() < $deadline) {
        return unless is_running($pid);
        Time::HiRes::sleep($step);
        $step *= 1.5 if $step < 0.1;
    }
    return unless is_running($pid);
    # which file and block it was, and what nginx logged since the signal
    # (prove -j mixes the stderr of the files it runs at once)
    my $whose = defined $NginxBlockName ? "$NginxBlockName - " : "$0 - ";
    warn "WARNING: ${whose}nginx $pid did not exit within ${Timeout}s after "
         . "$sig; killing it\n";
    my @since = split /^/m, slurp($ErrLogFile, $log_pos) // '';
    @since = @since[-40 .. -1] if @since > 40;
    Test::More::diag("--- what error.log got after the $sig (last "
                     . scalar(@since) . " lines):\n" . join('', @since)
                     . "--- end of error.log")
        if !$InSubprocess;
    # nginx leads its own process group when daemonized (setsid), and so
    # does our valgrind child (setpgrp); kill the whole group then.
    my $pgrp = getpgrp($pid);
    for my $s (qw(KILL TERM KILL)) {
        if (defined $pgrp && $pgrp == $pid) { kill $s, -$pid } else { kill $s, $pid }
        for (1 .. 40) {
            return unless is_running($pid);
            Time::HiRes::sleep(0.025);
        }
    }
    warn "WARNING: failed to kill nginx $pid\n";
}

# A previous (crashed) run may have left an nginx on our servroot.
sub stop_stale_nginx {
    my $pid = read_pid();
    return unless defined $pid && is_running($pid) && looks_like_nginx($pid);
    warn "WARNING: stopping stale nginx $pid from a previous run ($PidFile)\n";
    kill_process($pid);
}

# Start nginx for a block; returns 1, or bails out.  In valgrind mode nginx
# runs in the foreground (daemon off) as our child under valgrind.
sub start_nginx {
    my $name = shift;
    my @cmd = ($NginxBinary, '-e', $ErrLogFile, '-p', "$ServRoot/", '-c', $ConfFile);

    if ($UseValgrind) {
        my @vg = ('valgrind', '-q', '--log-file=' . "$LogDir/valgrind.log");
        if ($UseValgrind =~ /^\d+$/) {
            push @vg, '--tool=memcheck', '--leak-check=full',
                '--show-possibly-lost=no', '--keep-debuginfo=yes',
                '--num-callers=100', '--gen-suppressions=all',
                '--error-exitcode=13';
            push @vg, '--suppressions=valgrind.suppress' if -f 'valgrind.suppress';
            push @vg, '--exit-on-first-error=yes'
                if env_true('TEST_NGINX_VALGRIND_EXIT_ON_FIRST_ERR');
        } else {
            push @vg, split ' ', $UseValgrind;
        }
        warn "$name\n";
        my $pid = fork();
        bail_out("$name - fork() failed: $!") unless defined $pid;
        if ($pid == 0) {
            $InSubprocess = 1;
            Test::More->builder->no_ending(1);
            POSIX::setpgid(0, 0);
            open STDOUT, '>', '/dev/null';
            nginx_child_env();
            exec @vg, @cmd or POSIX::_exit(127);
        }
        $ChildPid = $pid;
        $ValgrindBlockName = $NginxBlockName = $name;
        $NginxRunning = $StartedByUs = 1;
        Time::HiRes::sleep($TestNginxSleep);
        return 1;
    }

    # Daemon mode: the command returns once nginx has forked.  Retry a
    # failed start (a port still held by the previous server), with a
    # growing delay, for up to 30 seconds.  A failure that is clearly not
    # transient (a configuration error) is only retried a few times.
    my $started = Time::HiRes::time();
    my $delay = 0;
    my $attempts = 0;
    while (1) {
        $attempts++;
        my ($code, $stderr) = run_cmd(@cmd);
        if ($code == 0) {
            print STDERR $stderr if length $stderr;
            $NginxRunning = $StartedByUs = 1;
            $NginxBlockName = $name;
            Time::HiRes::sleep($TestNginxSleep);
            return 1;
        }
        my $transient = $stderr =~ /Address already in use|bind\(\) to .* failed/i;
        my $elapsed = Time::HiRes::time() - $started;
        if ((!$transient && $attempts >= 3) || $elapsed >= 30) {
            start_failed($name, $stderr, $attempts, $elapsed);
            bail_out("$name - Cannot start nginx using command \"@cmd\" "
                     . "(exit code $code, $attempts attempts in "
                     . sprintf('%.0f', $elapsed) . " s):\n$stderr");
        }
        $delay += 0.1;
        $delay = 1 if $delay > 1;
        Time::HiRes::sleep($transient ? $delay : 0.05);
    }
}

# nginx did not start: show why before the bail out.  prove prints only
# the first line of a bail out's message, so nginx's stderr (which the
# real runner leaves on the terminal) is printed here, with what holds a
# port that nginx could not bind, the error.log of the block, and a copy
# of that log and nginx.conf where the next test file does not remove
# them (a lane of util/prove-lanes.sh reuses its servroot).
sub start_failed {
    my ($name, $stderr, $attempts, $elapsed) = @_;
    my $msg = "$name - nginx did not start ($attempts attempts in "
            . sprintf('%.1f', $elapsed) . " s); its stderr:\n"
            . (length $stderr ? $stderr : "(nothing)\n");
    my %ports = map { $_ => 1 } $stderr =~ /bind\(\) to \S*?:(\d+) failed/g;
    for my $port (sort { $a <=> $b } keys %ports) {
        my @held = port_sockets($port);
        $msg .= "sockets on port $port now:"
              . (@held ? join('', map { "\n  $_" } @held) : ' none') . "\n";
    }
    Test::More::diag($msg);
    # each attempt logs the same lines again: the last ones say enough,
    # and the copy kept below has them all
    diag_block_log($name, 40);
    keep_logs($name);
    append_error_log($name);
}

# The sockets (TCP, IPv4 and IPv6) whose local port is $port, from /proc:
# their state, addresses and, when a process still has one open, its pid
# and command.  A TIME_WAIT belongs to no process any more.
sub port_sockets {
    my $port = shift;
    my %state = ('01', 'ESTABLISHED', '02', 'SYN_SENT', '03', 'SYN_RECV',
                 '04', 'FIN_WAIT1', '05', 'FIN_WAIT2', '06', 'TIME_WAIT',
                 '07', 'CLOSE', '08', 'CLOSE_WAIT', '09', 'LAST_ACK',
                 '0A', 'LISTEN', '0B', 'CLOSING');
    my (@found, %by_inode);
    for my $table ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $fh, '<', $table or next;
        <$fh>;
        while (my $l = <$fh>) {
            my @f = split ' ', $l;
            my ($local, $remote, $st, $inode) = @f[1, 2, 3, 9];
            next unless defined $inode && $local =~ /:([0-9A-F]{4})$/
                        && hex($1) == $port;
            my $s = { text => ($state{$st} // $st) . ' '
                              . proc_addr($local) . ' -> '
                              . proc_addr($remote) };
            push @found, $s;
            push @{ $by_inode{$inode} }, $s if $inode;
        }
        close $fh;
    }
    if (%by_inode) {
        for my $fd (glob('/proc/[0-9]*/fd/*')) {
            my $to = readlink($fd) // next;
            my ($inode) = $to =~ /^socket:\[(\d+)\]$/ or next;
            my $socks = $by_inode{$inode} or next;
            my ($pid) = $fd =~ m{^/proc/(\d+)/};
            my $cmd = slurp("/proc/$pid/cmdline") // '';
            $cmd =~ s/\0+$//;
            $cmd =~ tr/\0/ /;
            $_->{text} .= " (pid $pid: $cmd)" for @$socks;
        }
    }
    return map { $_->{text} } @found;
}

# "0100007F:0050" (an address of /proc/net/tcp) as 127.0.0.1:80; an
# IPv6 one stays in hex, with its port in decimal
sub proc_addr {
    my ($addr, $port) = split /:/, shift;
    $port = hex $port;
    return join('.', reverse map { hex } $addr =~ /(..)/g) . ":$port"
        if length $addr == 8;
    return "[$addr]:$port";
}

# A copy of the block's error.log and nginx.conf in <servroot>_kept/,
# named after the test file and the block, e.g.
# t/servroot_kept/150-terminate-suspend-resume.TEST-1.error.log
sub keep_logs {
    my $name = shift;
    my $dir = "${ServRoot}_kept";
    my ($base) = $0 =~ m{([^/]+?)(?:\.t)?$};
    my ($n) = $name =~ /\bTEST (\d+)/;
    my $stem = "$dir/$base" . (defined $n ? ".TEST-$n" : '');
    my @kept;
    File::Path::mkpath($dir);
    for my $f ([$ErrLogFile, 'error.log'], [$ConfFile, 'nginx.conf']) {
        my $text = slurp($f->[0]);
        next unless defined $text;
        open my $fh, '>', "$stem.$f->[1]" or next;
        print $fh $text;
        close $fh and push @kept, "$stem.$f->[1]";
    }
    Test::More::diag("kept for later: @kept") if @kept;
}

# In the child, just before exec'ing nginx (or valgrind): the preload that
# TEST_NGINX_LD_PRELOAD names (e.g. a sanitizer runtime for an instrumented
# module) goes to nginx alone, never to the runner or the client.  nginx
# passes it, and the *SAN_OPTIONS, on to its workers (env lines above).
sub nginx_child_env {
    my $preload = $ENV{TEST_NGINX_LD_PRELOAD};
    return unless defined $preload && length $preload;
    $ENV{LD_PRELOAD} = length($ENV{LD_PRELOAD} // '')
                     ? "$preload $ENV{LD_PRELOAD}" : $preload;
}

# Run a command with stdout discarded and stderr captured.
# Returns (exit code or -1, stderr text).
sub run_cmd {
    my @cmd = @_;
    my $errf = File::Temp->new(TEMPLATE => 'tnginx-XXXXXX', TMPDIR => 1);
    my $pid = fork();
    bail_out("fork() failed: $!") unless defined $pid;
    if ($pid == 0) {
        $InSubprocess = 1;
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', $errf->filename;
        nginx_child_env();
        exec @cmd or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    my $status = $?;
    my $err = slurp($errf->filename) // '';
    my $code = $status == -1 ? -1
             : ($status & 127) ? 128 + ($status & 127)
             : $status >> 8;
    return ($code, $err);
}

# Valgrind mode: after the nginx of a block has exited, any "==PID==" line
# in valgrind's log becomes a failing test for that block.  (The real
# runner only prints the report.)
sub check_valgrind_report {
    my $file = "$LogDir/valgrind.log";
    return unless -f $file;
    my $report = slurp($file) // '';
    unlink $file;
    my @lines = grep { /^==\d+==/ } split /\n/, $report;
    # Suppression stubs ({ ... }) are printed between ==PID== lines; keep all.
    if (@lines) {
        my $name = $ValgrindBlockName // 'nginx';
        Test::More::fail("$name - valgrind reported errors");
        Test::More::diag($report);
    }
}

#=============================================================================
# 4. HTTP client
#=============================================================================

# Connect to nginx, retrying while it is starting up.
sub connect_server {
    my $timeout = shift;
    my $max = $UseValgrind ? 200 : 50;
    my $err;
    for my $i (1 .. $max) {
        my $sock = IO::Socket::INET->new(
            PeerAddr => $ServerAddr,
            PeerPort => $ServerPortForClient,
            Proto    => 'tcp',
            Timeout  => $timeout,
        );
        return $sock if $sock;
        $err = $!;
        last unless $!{ECONNREFUSED} || $!{EAGAIN} || $!{ETIMEDOUT}
                    || $!{ECONNRESET};
        my $wait = $TestNginxSleep * $i;
        $wait = 0.01 if $wait < 0.01;
        $wait = 0.3  if $wait > 0.3;
        Time::HiRes::sleep($wait);
    }
    return (undef, $err);
}

# Send packets (each { value, delay_before }) on one connection and read the
# answer until EOF.  `timeout` is the longest allowed gap between two IO
# events.  Returns a hash: data, timed_out, error.
sub http_exchange {
    my %a = @_;
    my $timeout = $a{timeout};
    local $SIG{PIPE} = 'IGNORE';

    my ($sock, $cerr) = connect_server($timeout);
    return { data => '', error => "failed to connect to "
             . "$ServerAddr:$ServerPortForClient: $cerr" } unless $sock;
    $sock->blocking(0);
    my $sel = IO::Select->new($sock);
    my %r = (data => '', timed_out => 0);

  PACKET:
    for my $p (@{ $a{packets} }) {
        Time::HiRes::sleep($p->{delay_before}) if $p->{delay_before};
        my $buf = $p->{value};
        my $off = 0;
        while ($off < length $buf) {
            if (!$sel->can_write($timeout)) {
                $r{timed_out} = 1;
                last PACKET;
            }
            my $n = syswrite($sock, $buf, length($buf) - $off, $off);
            if (!defined $n) {
                next if $!{EAGAIN} || $!{EWOULDBLOCK} || $!{EINTR};
                # the server may close early (e.g. 413); read what it said
                $r{write_error} = "$!";
                last PACKET;
            }
            $off += $n;
        }
    }

    if (!$r{timed_out} && defined $a{shutdown}) {
        shutdown($sock, $a{shutdown});
    }

    while (!$r{timed_out}) {
        if (!$sel->can_read($timeout)) {
            $r{timed_out} = 1;
            last;
        }
        my $n = sysread($sock, my $chunk, 65536);
        if (!defined $n) {
            next if $!{EAGAIN} || $!{EWOULDBLOCK} || $!{EINTR};
            $r{read_error} = "$!";    # e.g. ECONNRESET: keep what we have
            last;
        }
        last if $n == 0;
        $r{data} .= $chunk;
    }
    close $sock;
    return \%r;
}

# Parse one HTTP response starting at $off in $$data.  Returns a hash with
# res (HTTP::Response), raw_headers, end (offset after this response),
# warnings; or { error => ... }.  $to_eof: the body runs to the end of data
# when there is no framing.
sub parse_response {
    my ($data, $off, $is_head, $to_eof) = @_;
    my $len = length $$data;
    return { error => 'no response received', end => $len } if $off >= $len;

    my $hend = index($$data, "\r\n\r\n", $off);
    my $sep = 4;
    my $lf = index($$data, "\n\n", $off);
    if ($lf >= 0 && ($hend < 0 || $lf < $hend)) { $hend = $lf; $sep = 2 }
    if ($hend < 0) {
        return { error => 'incomplete response header', end => $len,
                 raw_headers => substr($$data, $off) };
    }
    my $raw = substr($$data, $off, $hend - $off);
    my $pos = $hend + $sep;
    my @lines = split /\r?\n/, $raw;
    my $status_line = shift @lines;
    if ($status_line !~ m{^HTTP/(\d+\.\d+)\s+(\d{3})(?:\s+(.*))?$}) {
        return { error => "bad status line: $status_line", end => $len,
                 raw_headers => $raw };
    }
    my ($ver, $code, $msg) = ($1, $2, $3 // '');
    # skip interim responses (e.g. "100 Continue") when more data follows
    if ($code =~ /^1/ && $code != 101 && $hend + $sep < $len) {
        return parse_response($data, $hend + $sep, $is_head, $to_eof);
    }
    my $res = HTTP::Response->new($code, $msg);
    $res->protocol("HTTP/$ver");
    my @hdrs;
    for my $l (@lines) {
        if ($l =~ /^[ \t]+(.*)/ && @hdrs) { $hdrs[-1][1] .= " $1"; next }
        if ($l =~ /^([^:\s]+)\s*:\s*(.*?)\s*$/) { push @hdrs, [$1, $2] }
    }
    $res->push_header(@$_) for @hdrs;

    my @warn;
    my $body = '';
    my $te = $res->header('Transfer-Encoding') // '';
    my $cl = $res->header('Content-Length');
    if ($is_head || $code =~ /^1/ || $code == 204 || $code == 304) {
        # no body
    } elsif ($te =~ /\bchunked\b/i) {
        my $complete = 0;
        while (1) {
            my $eol = index($$data, "\n", $pos);
            last if $eol < 0;
            my $size_line = substr($$data, $pos, $eol - $pos);
            $size_line =~ s/\r$//;
            if ($size_line !~ /^([0-9a-fA-F]+)/) {
                push @warn, "bad chunk size line: $size_line";
                last;
            }
            my $size = hex $1;
            $pos = $eol + 1;
            if ($size == 0) {
                # trailers, up to an empty line
                while (1) {
                    my $e = index($$data, "\n", $pos);
                    last if $e < 0;
                    my $t = substr($$data, $pos, $e - $pos);
                    $pos = $e + 1;
                    $t =~ s/\r$//;
                    if ($t eq '') { $complete = 1; last }
                    $res->push_header($1, $2) if $t =~ /^([^:\s]+)\s*:\s*(.*)$/;
                }
                last;
            }
            $body .= substr($$data, $pos, $size);
            $pos += $size;
            last if $pos > $len;
            # the CRLF after the chunk data
            if (substr($$data, $pos, 2) eq "\r\n") { $pos += 2 }
            elsif (substr($$data, $pos, 1) eq "\n") { $pos += 1 }
        }
        push @warn, 'chunked response body truncated' unless $complete;
        $pos = $len if $pos > $len;
    } elsif (defined $cl && $cl =~ /^\s*(\d+)/) {
        my $n = $1;
        $body = substr($$data, $pos, $n);
        if (length($body) < $n) {
            push @warn, "response body truncated: got " . length($body)
                . " of $n bytes";
        }
        $pos += length $body;
        if ($to_eof && $pos < $len) {
            push @warn, 'response body longer than Content-Length; extra data: '
                . substr($$data, $pos, 200);
            $pos = $len;
        }
    } else {
        $body = substr($$data, $pos);
        $pos = $len;
    }
    $res->content($body);
    return { res => $res, raw_headers => $raw, end => $pos, warnings => \@warn };
}

# --- request / pipelined_requests: build the bytes of one request.
sub build_request {
    my ($block, $text, $more_headers, $keepalive) = @_;
    my $name = $block->{_tn_name};
    $text =~ s/^\s+//;
    while ($text =~ s/\A#[^\n]*(?:\n|\z)//) { $text =~ s/^\s+// }
    bail_out("$name - empty --- request") if $text eq '';
    my ($line, $body) = split /\r?\n/, $text, 2;
    $body //= '';
    my @parts = split ' ', $line;
    bail_out("$name - bad request line: $line") if @parts > 3 || !@parts;
    my ($meth, $uri, $ver) = @parts;
    $uri //= '/';
    $ver //= 'HTTP/1.1';

    my @hdr_lines;
    for my $h (split /\n/, $more_headers // '') {
        $h =~ s/\r$//;
        next if $h =~ /^\s*(?:#|$)/;
        push @hdr_lines, $h;
    }
    my %have = map { /^\s*([^:\s]+)\s*:/ ? (lc($1) => 1) : () } @hdr_lines;
    my $chunked = grep { /^\s*Transfer-Encoding\s*:.*chunked/i } @hdr_lines;

    my @h = ("$meth $uri $ver");
    push @h, "Host: $ServerName" unless $have{host};
    push @h, 'Connection: ' . ($keepalive ? 'keep-alive' : 'close')
        unless $have{connection};
    push @h, @hdr_lines;
    unless ($have{'content-length'} || $chunked) {
        $body =~ s/^\s+//;
        $body =~ s/\s+$//;
        push @h, 'Content-Length: ' . length($body)
            if length $body || $meth =~ /^(?:POST|PUT|PATCH)$/;
    }
    return join("\r\n", @h) . "\r\n\r\n" . $body;
}

# --- curl: like the real runner, print (to stderr, as a "# " comment) a
# curl command line that sends the block's first request, so that it can
# be replayed by hand against an nginx left running (TEST_NGINX_NO_CLEAN).
# The block's requests are still sent by this runner's own client.
sub print_curl_command {
    my ($block, $conn, $timeout) = @_;
    my $name = $block->{_tn_name};
    my $bytes = join '', map { $_->{value} } @{ $conn->{packets} };
    my ($head, $body) = split /\r?\n\r?\n/, $bytes, 2;
    my @lines = split /\r?\n/, $head;
    my $line = shift(@lines) // '';
    my ($meth, $uri, $ver) =
        $line =~ m{^\s*(\S+)\s+(\S+)\s+HTTP/(\d\.\d)\s*$}
        or bail_out("$name - --- curl: cannot turn this request line into "
                    . "a curl command: $line");
    my @cmd = ('curl', '-sS', '-i', '-H', 'User-Agent:', '-H', 'Accept:');
    push @cmd, $meth eq 'HEAD' ? '-I' : ('-X', $meth);
    push @cmd, '-0' if $ver eq '1.0';
    my $has_type;
    for my $h (@lines) {
        # curl frames the body itself
        next if $h =~ /^(?:Connection|Content-Length)\s*:/i;
        bail_out("$name - --- curl: a chunked request body cannot be "
                 . "given to curl") if $h =~ /^Transfer-Encoding\s*:/i;
        $has_type = 1 if $h =~ /^Content-Type\s*:/i;
        push @cmd, '-H', $h;
    }
    if (defined $body && length $body) {
        my $file = "$HtmlDir/curl-request-body";
        write_file($file, $body);
        push @cmd, '-H', 'Content-Type:' unless $has_type;
        push @cmd, '--data-binary', "\@$file";
    }
    push @cmd, '--max-time', $timeout,
         "http://$ServerAddr:$ServerPortForClient$uri";
    warn '# ' . join(' ', map { shell_quote($_) } @cmd) . "\n";
}

sub shell_quote {
    my $s = shift;
    return $s if $s =~ m{^[-\w.,:/=@%+]+$};
    $s =~ s/'/'\\''/g;
    return "'$s'";
}

# Turn a block into a list of "connections": each is { packets => [...],
# count => number of responses, methods => [...] }.
sub requests_from_block {
    my $block = shift;
    my $name = $block->{_tn_name};
    my $mh = sec($block, 'more_headers');

    my $hdr_for = sub {
        my $i = shift;
        return ref $mh eq 'ARRAY' ? $mh->[$i] : $mh;
    };

    if (defined(my $p = sec($block, 'pipelined_requests'))) {
        ref $p eq 'ARRAY' or bail_out("$name - --- pipelined_requests must be an "
                                      . "array (use eval)");
        my @reqs;
        for my $i (0 .. $#$p) {
            my $t = expand_env_in_text($p->[$i], $name);
            push @reqs, build_request($block, $t, $hdr_for->($i), $i < $#$p);
        }
        return ({ packets => [{ value => join('', @reqs) }],
                  count => scalar(@reqs),
                  methods => [map { /^\s*(\S+)/ ? $1 : 'GET' } @$p] });
    }

    if (defined(my $raw = sec($block, 'raw_request'))) {
        my $delay = sec($block, 'raw_request_middle_delay');
        my @pk;
        my @vals = ref $raw eq 'ARRAY' ? @$raw : ($raw);
        for my $i (0 .. $#vals) {
            push @pk, { value => $vals[$i],
                        delay_before => ($i && $delay) ? $delay : 0 };
        }
        my $meth = $vals[0] =~ /^\s*(\S+)/ ? $1 : 'GET';
        return ({ packets => \@pk, count => 1, methods => [$meth] });
    }

    my $req = sec($block, 'request');
    if (exists $block->{request_eval}) {
        # the deprecated form of `--- request eval`: Perl code giving the
        # request(s), evaluated in Test::Nginx::Socket like the real one
        my $code = sec($block, 'request_eval') // '';
        $req = eval "package Test::Nginx::Socket;\n"
                    . "#line 1 \"--- request_eval\"\n$code";
        bail_out("$name - --- request_eval failed: $@") if $@;
        bail_out("$name - --- request_eval gave no request")
            unless defined $req;
    }
    return () unless defined $req;

    my @conns;
    my @list = ref $req eq 'ARRAY' ? @$req : ($req);
    for my $i (0 .. $#list) {
        my $r = $list[$i];
        if (ref $r eq 'ARRAY') {
            # one request given as packets: sent byte for byte, as is
            my @pk = map { ref $_ eq 'HASH' ? { %$_ } : { value => $_ } } @$r;
            my $meth = $pk[0]{value} =~ /^\s*(\S+)/ ? $1 : 'GET';
            push @conns, { packets => \@pk, count => 1, methods => [$meth] };
        } else {
            my $bytes = build_request($block, $r, $hdr_for->($i), 0);
            my $meth = $bytes =~ /^(\S+)/ ? $1 : 'GET';
            push @conns, { packets => [{ value => $bytes }], count => 1,
                           methods => [$meth] };
        }
    }
    return @conns;
}

#=============================================================================
# 5. Driver and checks
#=============================================================================

sub failures_so_far {
    return scalar grep { !$_ } Test::More->builder->summary;
}

# Sections this runner implements.  Any other section makes it bail out:
# an expectation it would skip is a check that silently asserts nothing.
# (Test::Base handles ONLY, SKIP and LAST itself.)
our %KnownSections = map { $_ => 1 } qw(
    ONLY SKIP LAST
    config http_config main_config post_main_config server_name log_level
    error_log_file
    request request_eval more_headers pipelined_requests raw_request
    raw_request_middle_delay timeout abort shutdown ignore_response http09
    curl
    error_code error_code_like
    response_body response_body_like response_body_unlike
    response_body_filters response_body_json_sort
    response_headers response_headers_like
    raw_response_headers_like raw_response_headers_unlike
    error_log no_error_log grep_error_log grep_error_log_out
    access_log no_access_log wait shutdown_error_log
    init post_setup_server_root user_files must_die
    skip_nginx skip_nginx2 skip_openssl skip_eval todo
    no_check_leak
);

# Keys of a Test::Base block that are not sections.
our %BlockFields = map { $_ => 1 } qw(name description seq_num is_filtered
                                      blocks_object original_values);

# Modes of the real runner chosen by environment variables that this one
# does not implement (TEST_NGINX_FORCE_RESTART_ON_TEST=1 is what it does).
our @RefusedEnv = qw(
    TEST_NGINX_USE_HUP TEST_NGINX_CHECK_LEAK TEST_NGINX_USE_STAP
    TEST_NGINX_STAP_OUT TEST_NGINX_BENCHMARK TEST_NGINX_BENCHMARK_WARMUP
    TEST_NGINX_USE_RR TEST_NGINX_USE_HTTP2 TEST_NGINX_USE_HTTP3
    TEST_NGINX_REUSE_PORT TEST_NGINX_POSTPONE_OUTPUT
    TEST_NGINX_IGNORE_MISSING_DIRECTIVES
);

sub refuse_mode {
    my ($what) = @_;
    bail_out("$what: this mode of the real Test::Nginx is not implemented "
             . "by this runner (see t/README)");
}

sub check_env {
    for my $var (@RefusedEnv) {
        refuse_mode($var) if env_true($var);
    }
    my $force = $ENV{TEST_NGINX_FORCE_RESTART_ON_TEST};
    refuse_mode("TEST_NGINX_FORCE_RESTART_ON_TEST=$force")
        if defined $force && $force ne '1';
    $CheckAccumErrLog = 1 if env_true('TEST_NGINX_CHECK_ACCUM_ERR_LOG');
}

# Refuse a block with a section this runner does not implement, or with a
# combination whose meaning in the real runner it does not reproduce.
sub check_sections {
    my ($block, $name) = @_;
    for my $sec (sort keys %$block) {
        next if $sec =~ /^_/ || $BlockFields{$sec} || $KnownSections{$sec};
        bail_out("$name - --- $sec: this section is not implemented by this "
                 . "runner (see t/README for the supported ones)");
    }
    if (exists $block->{request_eval}) {
        for my $other (qw(request pipelined_requests raw_request)) {
            bail_out("$name - --- request_eval and --- $other cannot be "
                     . "used together")
                if exists $block->{$other};
        }
    }
    if (exists $block->{curl} && exists $block->{pipelined_requests}) {
        bail_out("$name - --- curl cannot describe --- pipelined_requests");
    }
    if (exists $block->{shutdown_error_log}) {
        bail_out("$name - --- shutdown_error_log cannot be used with "
                 . "--- must_die") if exists $block->{must_die};
        bail_out("$name - --- shutdown_error_log needs the runner to manage "
                 . "nginx (no_nginx_manager is set)") if $NoNginxManager;
    }
}

sub run_tests () {
    my $tb = Test::More->builder;
    $tb->plan('no_plan') unless $tb->has_plan;

    check_env();
    probe_nginx() unless $NoNginxManager;
    $ENV{TEST_NGINX_SERVER_PORT} //= $ServerPort;
    $ENV{TEST_NGINX_PORT} //= $ServerPort;

    stop_stale_nginx() unless $NoNginxManager;

    my @blocks = Test::Base::blocks();
    @blocks = List::Util::shuffle(@blocks) unless $NoShuffle;

    for my $block (@blocks) {
        $_->($block) for @BlockPreprocessors;
        run_test($block);
        $_->($block) for @TestCleanupHandlers;
    }
    run_cleanup_handlers();
}

# --- shutdown_error_log: the real runner checks these patterns against the
# lines nginx logged after the block's last request, once it has stopped
# that nginx: when the next block starts its own nginx, or at exit.  A
# block after which nginx is not restarted (the next one has no --- config
# or is skipped) never gets them checked there, so that is refused here.
sub check_shutdown_log {
    my $block = $ShutdownBlock;
    return unless $block;
    undef $ShutdownBlock;
    my $name = $block->{_tn_name};
    my @pats = log_patterns($block, 'shutdown_error_log');
    if ($NoClean) {
        SKIP: {
            Test::More::skip("$name - shutdown_error_log - nginx is left "
                             . "running (TEST_NGINX_NO_CLEAN)", scalar @pats);
        }
        return;
    }
    my @lines = split /^/m, slurp($ErrLogFile, $ShutdownLogPos) // '';
    for my $pat (@pats) {
        my $found = grep { ref $pat ? $_ =~ $pat : index($_, $pat) >= 0 }
                    @lines;
        Test::More::ok($found, "$name - pattern \"$pat\" matches a line in "
                               . "error.log after nginx stopped");
    }
    # stricter than after a request, as in the real runner: the whole
    # rest of the line is "failed."
    for my $l (grep { /\bAssertion .*? failed\.$/ } @lines) {
        chomp(my $text = $l);
        Test::More::fail("$name - $text");
    }
}

sub run_test ($) {
    my $block = shift;
    my $name = "$0 " . ($block->name // '');
    $block->{_tn_name} = $name;
    %RandPorts = ();

    check_sections($block, $name);
    my @skip = skip_spec($block);

    if ($ShutdownBlock && (!defined sec($block, 'config') || @skip)) {
        bail_out("$ShutdownBlock->{_tn_name} - --- shutdown_error_log: the "
                 . "next block ($name) does not restart nginx, so the real "
                 . "runner would never check these lines");
    }

    # Stop the previous server first, so that anything reported while it
    # exits (valgrind mode) is attributed to the block that ran it. A
    # skipped block leaves it running, as in the real runner.
    if (!$NoNginxManager && defined sec($block, 'config') && !@skip
        && ($NginxRunning || defined $ChildPid))
    {
        stop_nginx();
    }
    check_shutdown_log();
    my $fails_before = failures_so_far();

    run_block($block, $name, @skip);

    if (failures_so_far() > $fails_before) {
        diag_block_log($name);
        keep_logs($name);
    }
    append_error_log($name);
}

# TEST_NGINX_ERROR_LOG: the block's part of error.log is added to it
sub append_error_log {
    my $name = shift;
    return unless $ENV{TEST_NGINX_ERROR_LOG};
    my $part = slurp($ErrLogFile, $BlockLogStart);
    if (defined $part && open my $fh, '>>', $ENV{TEST_NGINX_ERROR_LOG}) {
        print $fh "=== $name\n", $part;
        close $fh;
    }
}

sub diag_block_log {
    my ($name, $max) = @_;
    my $log = slurp($ErrLogFile, $BlockLogStart);
    return unless defined $log && length $log;
    my @lines = split /^/m, $log;
    my $head = "error.log of $name";
    $max = $DiagLogLines
        if !defined $max || ($DiagLogLines && $DiagLogLines < $max);
    if ($max && @lines > $max) {
        $head .= " (last $max of " . scalar(@lines) . " lines)";
        @lines = @lines[-$max .. -1];
    }
    Test::More::diag("--- $head:\n" . join('', @lines) . "--- end of error.log");
}

# Evaluate a "N: ..." skip specification; returns (count, reason) or ().
sub skip_spec {
    my $block = shift;
    my $name = $block->{_tn_name};
    my $cmp = sub {
        my ($have, $op, $a, $b, $c) = @_;
        return 0 unless defined $have;
        my $want = version_num($a, $b, $c);
        return $op eq '<'  ? $have <  $want : $op eq '<=' ? $have <= $want
             : $op eq '>'  ? $have >  $want : $op eq '>=' ? $have >= $want
             : $op eq '==' ? $have == $want : 0;
    };
    my $verre = qr/([<>]=?|==)\s*(\d+)\.(\d+)\.(\d+)/;
    if (defined(my $s = sec($block, 'skip_nginx'))) {
        $s =~ /^\s*(\d+)\s*:\s*$verre\s*(?::\s*(.*?))?\s*$/
            or bail_out("$name - bad --- skip_nginx: $s");
        my ($n, $why) = ($1, $6);
        return ($n, $why // "nginx version $2 $3.$4.$5")
            if $cmp->($NginxVersion, $2, $3, $4, $5);
    }
    if (defined(my $s = sec($block, 'skip_nginx2'))) {
        $s =~ /^\s*(\d+)\s*:\s*$verre\s+(and|or)\s+$verre\s*(?::\s*(.*?))?\s*$/
            or bail_out("$name - bad --- skip_nginx2: $s");
        my $n = $1;
        my $x = $cmp->($NginxVersion, $2, $3, $4, $5);
        my $y = $cmp->($NginxVersion, $7, $8, $9, $10);
        my $hit = $6 eq 'and' ? ($x && $y) : ($x || $y);
        return ($n, $11 // 'nginx version') if $hit;
    }
    if (defined(my $s = sec($block, 'skip_openssl'))) {
        $s =~ /^\s*(\d+)\s*:\s*$verre\s*(?::\s*(.*?))?\s*$/
            or bail_out("$name - bad --- skip_openssl: $s");
        return ($1, $6 // 'openssl version')
            if $cmp->($OpenSSLVersion, $2, $3, $4, $5);
    }
    if (defined(my $s = sec($block, 'skip_eval'))) {
        $s =~ /^\s*(\d+)\s*:\s*(.*)$/s or bail_out("$name - bad --- skip_eval: $s");
        my $n = $1;
        my $r = eval_in_util($2, 'skip_eval');
        bail_out("$name - skip_eval failed: $@") if $@;
        return ($n, 'skip_eval') if $r;
    }
    return ();
}

sub run_block {
    my ($block, $name, @skip) = @_;

    # as the real runner: a skipped block's --- init still runs (nginx is
    # not restarted for it), and the count is skipped per repetition
    if (my ($n, $why) = @skip) {
        if (defined(my $init = sec($block, 'init'))) {
            eval_in_util("$init; 1", 'init')
                or bail_out("$name - init failed: $@");
        }
        for (1 .. $RepeatEach) {
            SKIP: { Test::More::skip("$name - $why", $n) }
        }
        return;
    }

    my $todo = sec($block, 'todo');
    my $tb = Test::More->builder;
    if (defined $todo) {
        $todo =~ /^\s*\d+\s*:\s*(.*)$/s or bail_out("$name - bad --- todo: $todo");
        $tb->todo_start("$name - $1");
    }
    my $ok = eval { run_block_body($block, $name); 1 };
    my $err = $@;
    $tb->todo_end if defined $todo;
    die $err unless $ok;
}

sub run_block_body {
    my ($block, $name) = @_;
    my $config = sec($block, 'config');
    my $must_die = sec($block, 'must_die');
    local $UseValgrind = defined $must_die ? undef : $UseValgrind;

    if ($NoNginxManager) {
        # nothing to manage: just send the requests
    } elsif (defined $config) {
        $config = expand_env_in_text($config, $name);
        stop_nginx() if $NginxRunning || defined $ChildPid || -f $PidFile;
        setup_server_root();
        if (defined(my $code = sec($block, 'post_setup_server_root'))) {
            eval_in_util("$code; 1", 'post_setup_server_root')
                or bail_out("$name - post_setup_server_root failed: $@");
        }
        write_user_files($block);
        my $text = build_config($block, $config);
        write_file($ConfFile, $text);
        $PrevConfText = $text;
        $PrevUserFiles = $block;
        $BlockLogStart = 0;

        if (defined $must_die) {
            return run_must_die($block, $name, $must_die);
        }
        start_nginx($name);
    } else {
        bail_out("$name - No '--- config' section specified and could not get "
                 . "previous one") unless defined $PrevConfText;
        if (defined $must_die) {
            bail_out("$name - --- must_die needs a --- config section");
        }
        if (!$NginxRunning) {
            # e.g. the previous block was a must_die: restart the last config
            setup_server_root();
            write_user_files($PrevUserFiles) if $PrevUserFiles;
            write_file($ConfFile, $PrevConfText);
            $BlockLogStart = 0;
            start_nginx($name);
        } else {
            $BlockLogStart = (-s $ErrLogFile) // 0;
        }
    }

    if (defined(my $init = sec($block, 'init'))) {
        eval_in_util("$init; 1", 'init')
            or bail_out("$name - init failed: $@");
    }

    my $timeout = parse_timeout(sec($block, 'timeout')) // $Timeout;

    # a block that reuses the running nginx sees only its own lines, as
    # when the real runner restarts nginx for it with a new error.log
    $ErrLogPos = $BlockLogStart;
    $AccLogPos = 0;
    for my $rep (1 .. $RepeatEach) {
        write_user_files($block) if $rep > 1 && defined $config;

        # built again for each repetition: --- request_eval code runs
        # before every one, as in the real runner
        my @conns = requests_from_block($block);
        bail_out("$name - no --- request, --- request_eval, "
                 . "--- pipelined_requests or --- raw_request section")
            unless @conns;
        my $nreq = 0;
        $nreq += $_->{count} for @conns;
        my $multi = $nreq > 1;
        print_curl_command($block, $conns[0], $timeout)
            if exists $block->{curl};

        my $req_idx = 0;
        for my $conn (@conns) {
            my $r = http_exchange(packets => $conn->{packets},
                                  timeout => $timeout,
                                  shutdown => shutdown_how($block));
            my $label = $name;
            $label .= " (repeat $rep)" if $rep > 1;
            if ($r->{error}) {
                Test::More::diag("$label - $r->{error}");
            }
            if ($r->{timed_out} && !defined sec($block, 'abort')) {
                Test::More::fail("ERROR: client socket timed out - $label");
            }
            my $off = 0;
            for my $k (0 .. $conn->{count} - 1) {
                my $last = $k == $conn->{count} - 1;
                my $is_head = ($conn->{methods}[$k] // '') eq 'HEAD';
                my $parsed;
                if (defined sec($block, 'http09')) {
                    my $res = HTTP::Response->new(200, 'OK');
                    $res->content($r->{data});
                    $parsed = { res => $res, raw_headers => '',
                                end => length $r->{data} };
                } else {
                    $parsed = parse_response(\$r->{data}, $off, $is_head, $last);
                }
                $off = $parsed->{end} // length $r->{data};
                my $rlabel = $label;
                $rlabel .= " (req $req_idx)" if $multi;
                check_response($block, $rlabel, $parsed, $req_idx, $multi, $rep);
                check_logs($block, $rlabel, $rep - 1);
                $req_idx++;
            }
        }
    }

    if (exists $block->{shutdown_error_log}) {
        $ShutdownBlock = $block;
        $ShutdownLogPos = (-s $ErrLogFile) // 0;
    }
}

sub shutdown_how {
    my $block = shift;
    return undef unless exists $block->{shutdown};
    my $v = sec($block, 'shutdown');
    return (defined $v && $v =~ /^\d$/) ? $v : 1;
}

sub run_must_die {
    my ($block, $name, $must_die) = @_;
    my @cmd = ($NginxBinary, '-e', $ErrLogFile, '-p', "$ServRoot/", '-c', $ConfFile);
    $ErrLogPos = 0;
    $AccLogPos = 0;
    for my $rep (1 .. $RepeatEach) {
        my ($code, $stderr) = run_cmd(@cmd);
        print STDERR $stderr if $Verbose && length $stderr;
        if ($code == 0) {
            # It started (daemonized): stop it again before going on.
            $NginxRunning = $StartedByUs = 1;
            stop_nginx();
        }
        if ($code == -1 || $code == 127) {
            Test::More::fail("$name - failed to execute the nginx command line");
        } elsif ($code > 128) {
            Test::More::fail("$name - nginx crashed (signal " . ($code - 128) . ")");
        } elsif ($must_die =~ /^\s*\d+\s*$/) {
            Test::More::is($code, $must_die + 0, "$name - die with the expected exit code");
        } else {
            Test::More::isnt($code, 0, "$name - die as expected");
        }
        check_logs($block, $name, $rep - 1);
    }
    return;
}

# Status, body and header checks for one response.
sub check_response {
    my ($block, $name, $parsed, $idx, $multi, $rep) = @_;
    return if defined sec($block, 'ignore_response');

    my $res = $parsed->{res};
    if ($parsed->{error} && $parsed->{error} ne 'no response received') {
        Test::More::diag("$name - $parsed->{error}");
    }
    for my $w (@{ $parsed->{warnings} || [] }) {
        warn "WARNING: $name - $w\n";
    }
    my $status = $res ? $res->code : '';
    my $body = $res ? $res->content : '';
    my $raw_headers = $parsed->{raw_headers} // '';

    # --- error_code / error_code_like
    if (defined(my $like = per_req($block, 'error_code_like', $idx, $multi))) {
        $like = qr/$like/ unless ref $like;
        Test::More::like($status, $like, "$name - status code ok");
    } else {
        my $code = per_req($block, 'error_code', $idx, $multi) // 200;
        Test::More::is("$status", "$code", "$name - status code ok");
    }

    # --- response_body (and its variants)
    if (defined(my $filters = sec($block, 'response_body_filters'))) {
        $body = apply_body_filters($name, $body, $filters);
    }
    if (defined sec($block, 'response_body_json_sort') && length $body) {
        require JSON::PP;
        my $json = JSON::PP->new->canonical(1)->allow_nonref(1);
        my $data = eval { $json->decode($body) };
        $body = $json->encode($data) . "\n" if defined $data || !$@;
    }
    my $expected = per_req($block, 'response_body', $idx, $multi);
    if (exists $block->{response_body}) {
        $expected //= '';
        if (ref $expected eq 'Regexp') {
            Test::More::like($body, $expected, "$name - response_body - like");
        } else {
            $expected = expand_server_port(expand_env_in_text($expected, $name));
            is_str($body, $expected, "$name - response_body - response is expected");
        }
    } elsif (defined(my $pat = per_req($block, 'response_body_like', $idx, $multi))) {
        $pat = expand_server_port($pat);
        $pat = qr/$pat/s unless ref $pat;
        Test::More::like($body, $pat, "$name - response_body_like - response is expected");
    } elsif (defined(my $upat = per_req($block, 'response_body_unlike', $idx, $multi))) {
        $upat = expand_server_port($upat);
        $upat = qr/$upat/s unless ref $upat;
        Test::More::unlike($body, $upat, "$name - response_body_unlike - response is expected");
    }

    # --- response_headers (exact) or response_headers_like (anchored regex)
    if (defined(my $rh = per_req($block, 'response_headers', $idx, $multi))) {
        for my $h (parse_header_spec($rh)) {
            my ($hname, $want) = @$h;
            if (!defined $want) {
                my $present = $raw_headers =~ /^\Q$hname\E\s*:/im;
                Test::More::ok(!$present, "$name - header $hname not present");
                Test::More::diag("found: $&") if $present;
                next;
            }
            my $got = $res ? $res->header($hname) : undef;
            Test::More::is($got // '', expand_server_port($want),
                           "$name - header $hname ok");
        }
    } elsif (defined(my $rhl = per_req($block, 'response_headers_like', $idx, $multi))) {
        for my $h (parse_header_spec($rhl)) {
            my ($hname, $want) = @$h;
            if (!defined $want) {
                my $present = $raw_headers =~ /^\Q$hname\E\s*:/im;
                Test::More::ok(!$present, "$name - header $hname not present");
                next;
            }
            my $got = $res ? $res->header($hname) : undef;
            $want = expand_server_port($want);
            Test::More::like($got // '', qr/^(?:$want)$/s,
                             "$name - header $hname like ok");
        }
    }

    if (defined(my $p = per_req($block, 'raw_response_headers_like', $idx, $multi))) {
        $p = qr/$p/s unless ref $p;
        Test::More::like($raw_headers, $p, "$name - raw resp headers like");
    }
    if (defined(my $p = per_req($block, 'raw_response_headers_unlike', $idx, $multi))) {
        $p = qr/$p/s unless ref $p;
        Test::More::unlike($raw_headers, $p, "$name - raw resp headers unlike");
    }

    for my $check (@ResponseBodyChecks) {
        $check->($block, $body, $idx, $rep - 1, 0);
    }
}

sub apply_body_filters {
    my ($name, $body, $filters) = @_;
    my @f = ref $filters eq 'ARRAY' ? @$filters
          : ref $filters ? ($filters) : split ' ', $filters;
    for my $f (@f) {
        if (ref $f eq 'CODE') { $body = $f->($body); next }
        if    ($f eq 'uc')     { $body = uc $body }
        elsif ($f eq 'lc')     { $body = lc $body }
        elsif ($f eq 'length') { $body = length $body }
        elsif ($f eq 'md5_hex')  { require Digest::MD5; $body = Digest::MD5::md5_hex($body) }
        elsif ($f eq 'sha1_hex') { require Digest::SHA; $body = Digest::SHA::sha1_hex($body) }
        else { bail_out("$name - unknown response_body_filters entry: $f") }
    }
    return $body;
}

# "Name: value" lines (or "!Name") -> ordered, distinct [name, value|undef].
sub parse_header_spec {
    my $spec = shift;
    my (@order, %val);
    my @lines = ref $spec eq 'ARRAY' ? @$spec : split /\n/, $spec;
    for my $l (@lines) {
        next if !defined $l || $l =~ /^\s*(?:#|$)/;
        my ($n, $v);
        if ($l =~ /^\s*!\s*([^:\s]+)\s*$/) { ($n, $v) = ($1, undef) }
        elsif ($l =~ /^\s*([^:\s]+)\s*:\s*(.*?)\s*$/) { ($n, $v) = ($1, $2) }
        else { bail_out("bad header line in response_headers: $l") }
        push @order, $n unless exists $val{$n};
        $val{$n} = $v;
    }
    return map { [$_, $val{$_}] } @order;
}

# Patterns of error_log-like sections: a list of strings and/or qr//.
sub log_patterns {
    my ($block, $sec) = @_;
    my $v = sec($block, $sec);
    return () unless defined $v;
    my @p = ref $v eq 'ARRAY' ? @$v : ($v);
    return map { ref $_ ? $_ : grep { length } split /\n+/, $_ } grep { defined } @p;
}

# A log line as the real runner quotes it in a warning: without its
# newline, its double quotes, CRs and LFs escaped with a backslash.
sub log_line_text {
    my $l = shift;
    chomp $l;
    $l =~ s/"/\\"/g;
    $l =~ s/\r/\\r/g;
    $l =~ s/\n/\\n/g;
    return $l;
}

# The lines of $file from $$posref on (advanced past them), or with
# check_accum_error_log all of them from $start.
sub read_log_window {
    my ($file, $posref, $start) = @_;
    my $data = slurp($file, $CheckAccumErrLog ? $start // 0 : $$posref);
    return [] unless defined $data;
    $$posref += length $data unless $CheckAccumErrLog;
    return [split /^/m, $data];
}

# Lines that make the real runner print "WARNING: <block> - <line>" (it
# does not fail): a line matching the regex, unless a pattern of the
# block's error_log or no_error_log contains the text. For a level that
# text is its opening bracket and name: "[crit" silences [crit] lines,
# the bare word "crit" does not.
our @WarnLines = (
    [qr/writing a global lua variable/, 'writing a global lua variable'],
    [qr/\[alert\]/, '[alert'],
    [qr/\[crit\]/,  '[crit'],
    [qr/\[emerg\]/, '[emerg'],
);

# error_log / no_error_log / grep_error_log / access_log checks, run after
# every request (and once per repetition in must_die blocks), and the
# warnings and failures the real runner draws from every error.log line of
# the request, whatever the block checks.
sub check_logs {
    my ($block, $name, $rep_idx) = @_;
    $rep_idx //= 0;
    my @err_pats = log_patterns($block, 'error_log');
    my @no_err   = log_patterns($block, 'no_error_log');
    my @acc_pats = log_patterns($block, 'access_log');
    my @no_acc   = log_patterns($block, 'no_access_log');
    my $grep     = sec($block, 'grep_error_log');

    if (defined(my $w = sec($block, 'wait'))) {
        Time::HiRes::sleep($w) if $w =~ /^[\d.]+$/ && $w > 0;
    }

    # give nginx a moment to write log-phase output after the response;
    # a block that checks no log reads only what is there already for the
    # warnings and assertions below, which saves the suite a minute (the
    # real runner sleeps always; a line nginx logs that late is missed)
    Time::HiRes::sleep($TestNginxSleep * 3)
        if @err_pats || @no_err || @acc_pats || @no_acc || defined $grep;

    my $lines = read_log_window($ErrLogFile, \$ErrLogPos, $BlockLogStart);
    my $match = sub {
        my ($pat, $line) = @_;
        return ref $pat ? $line =~ $pat : index($line, $pat) >= 0;
    };

    for my $pat (@err_pats) {
        my $found = grep { $match->($pat, $_) } @$lines;
        Test::More::ok($found, "$name - pattern \"$pat\" matches a line in error.log");
    }
    for my $pat (@no_err) {
        my @hits = grep { $match->($pat, $_) } @$lines;
        Test::More::ok(!@hits,
            "$name - pattern \"$pat\" should not match any line in error.log");
        Test::More::diag("matching line(s):\n" . join('', @hits[0 .. ($#hits > 9 ? 9 : $#hits)]))
            if @hits;
    }
    if (defined $grep && exists $block->{grep_error_log_out}) {
        my $re = ref $grep ? $grep : qr/\Q$grep\E/;
        my @m;
        for my $l (@$lines) { push @m, $& while $l =~ /$re/g }
        my $want = sec($block, 'grep_error_log_out') // '';
        # an array gives one expected text per repetition
        $want = $want->[$rep_idx] // '' if ref $want eq 'ARRAY';
        if (ref $want eq 'Regexp') {
            Test::More::like(join('', map "$_\n", @m), $want, "$name - grep_error_log_out");
        } else {
            is_str(join('', map "$_\n", @m), expand_env_in_text($want, $name),
                   "$name - grep_error_log_out (req)");
        }
    }

    # Named like the real runner's: the block, without request or
    # repetition. A qr// pattern counts by its text, "(?^:\[crit\] ...)".
    my $block_name = $block->{_tn_name} // $name;
    my @texts = map { "$_" } @err_pats, @no_err;
    for my $w (@WarnLines) {
        my ($re, $text) = @$w;
        next if grep { index($_, $text) >= 0 } @texts;
        for my $l (grep { $_ =~ $re } @$lines) {
            warn "WARNING: $block_name - " . log_line_text($l) . "\n";
        }
    }
    for my $l (grep { /\bAssertion .*?failed\b/ } @$lines) {
        chomp(my $text = $l);
        Test::More::fail("$block_name - $text");
    }

    if (@acc_pats || @no_acc) {
        my $alines = read_log_window($AccLogFile, \$AccLogPos);
        for my $pat (@acc_pats) {
            my $found = grep { $match->($pat, $_) } @$alines;
            Test::More::ok($found, "$name - pattern \"$pat\" matches a line in access.log");
        }
        for my $pat (@no_acc) {
            my @hits = grep { $match->($pat, $_) } @$alines;
            Test::More::ok(!@hits,
                "$name - pattern \"$pat\" should not match any line in access.log");
        }
    }
}

#=============================================================================
# 6. Cleanup at exit
#=============================================================================

$SIG{INT} = sub { exit 130 } unless defined $SIG{INT} && $SIG{INT} ne 'DEFAULT';
$SIG{TERM} = sub { exit 143 } unless defined $SIG{TERM} && $SIG{TERM} ne 'DEFAULT';

END {
    if (!$InSubprocess) {
        # No `local $?` around the handlers: what they leave in $? becomes
        # the exit status (see run_cleanup_handlers).  A handler that dies
        # fails the script too, but nginx is still stopped.
        if (!eval { run_cleanup_handlers(); 1 }) {
            warn "cleanup handler failed: $@";
            $? ||= 255;
        }
        local $?;
        if ($StartedByUs && !$NoClean && !$NoNginxManager) {
            stop_nginx();
        }
        check_shutdown_log();
    }
}

# The variables the real Test::Nginx::Util exports, and so the only ones
# that also exist in Test::Nginx::Socket there.
{
    no strict 'refs';
    for my $v (qw(ServerPort ServerPortForClient ServRoot PidFile ConfFile
                  RepeatEach ServerName ServerAddr NoLongString
                  NoNginxManager))
    {
        *{"Test::Nginx::Socket::$v"} = \${"Test::Nginx::Util::$v"};
    }
}

# Those it keeps in Test::Nginx::Util only: reading one of them through
# Test::Nginx::Socket gives undef there, so here it dies and names the
# right package.
package Test::Nginx::Socket::Misplaced;

sub TIESCALAR { my ($class, $name) = @_; return bless \$name, $class }

sub FETCH {
    my $self = shift;
    Carp::croak("\$Test::Nginx::Socket::$$self does not exist in the real "
                . "Test::Nginx (it is undef there); use "
                . "\$Test::Nginx::Util::$$self");
}

sub STORE { my $self = shift; $self->FETCH }

package Test::Nginx::Socket;

{
    no strict 'refs';
    no warnings 'once';
    for my $v (qw(ErrLogFile AccLogFile HtmlDir ConfDir LogDir NginxBinary
                  LogLevel TestNginxSleep Timeout Workers Verbose))
    {
        tie ${"Test::Nginx::Socket::$v"}, 'Test::Nginx::Socket::Misplaced', $v;
    }
}

1;
__END__

=head1 NAME

Test::Nginx::Socket - ngx_durable's own Test::Nginx-compatible test runner

=head1 SYNOPSIS

    use Test::Nginx::Socket;
    repeat_each(2);
    plan tests => repeat_each() * 2 * blocks();
    run_tests();

    __DATA__

    === TEST 1: hello
    --- config
        location = /t { return 200 "hello\n"; }
    --- request
    GET /t
    --- response_body
    hello

See t/README for what is supported and how it differs from OpenResty's.

=cut
