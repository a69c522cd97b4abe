# durable_task_store refusals: each names what is missing or wrong and what
# is accepted; and two stores on one directory, however it is spelled, are
# refused (LMDB forbids opening one environment twice in a process).

use Test::Nginx::Socket;
use lib 't/inc';
use DurableBackend;
use File::Path qw(make_path rmtree);

repeat_each(1);

plan tests => repeat_each() * (blocks() * 2);

# a directory and a symbolic link to it, for the spellings below
if (my $d = $ENV{TEST_NGINX_DATA_DIR}) {
    rmtree("$d/dir-real");
    unlink "$d/dir-link";
    make_path("$d/dir-real");
    symlink("$d/dir-real", "$d/dir-link")
        or die "cannot create the symbolic link $d/dir-link: $!";
}

# every block is a configuration nginx refuses to start with; a block
# without --- error_log has two stores on one directory, refused so. The
# text is looked for in the [emerg] line nginx logs: a pattern that names
# the level tells both runners that this line is expected, not a warning.
add_block_preprocessor(sub {
    my $block = shift;
    my $text = $block->error_log
               // 'durable_task_store "b" uses the directory of '
                  . 'durable_task_store "a"';

    $text =~ s/\s+\z//;
    die "$0: one line of --- error_log a block, not \"$text\"\n"
        if $text =~ /\n/;
    $block->set_value(config => '');
    $block->set_value(must_die => 1);
    $block->set_value(error_log => qr/\[emerg\] .*\Q$text\E/);
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a name without path=
--- http_config
    durable_task_store default;
--- error_log
durable_task_store "default": path= is required, e.g. "durable_task_store default path=



=== TEST 2: parameters without a name
--- http_config
    durable_task_store path=/d;
--- error_log
durable_task_store needs a name before its parameters, e.g. "durable_task_store default path=/d"



=== TEST 3: a directory without path=
--- http_config
    durable_task_store default /d;
--- error_log
unknown durable_task_store parameter "/d": parameters are name=value (the directory is path=dir), as in "durable_task_store name path=dir [max_size=size]



=== TEST 4: sync= other than on or off
--- http_config
    durable_task_store default path=/tmp sync=maybe;
--- error_log
invalid durable_task_store parameter "sync=maybe": use on or off



=== TEST 5: an unknown parameter lists the known ones
--- http_config
    durable_task_store default path=/tmp size=1g;
--- error_log
unknown durable_task_store parameter "size=1g": use path=, max_size=, sync=, flush=, thread_pool=, writes=, reader_check=, reserve=, reads=, backend=, conninfo=, pool= or timeout=



=== TEST 6: an empty path=
--- http_config
    durable_task_store default path=;
--- error_log
invalid durable_task_store parameter "path=": use path=dir



=== TEST 7: a parameter given twice
--- http_config
    durable_task_store default path=/tmp max_size=1g max_size=2g;
--- error_log
durable_task_store "default": "max_size=" is given more than once



=== TEST 8: max_size= that is not a size
--- http_config
    durable_task_store default path=/tmp max_size=big;
--- error_log
invalid max_size "big": use a size of at least 1m



=== TEST 9: flush= that is not a time
--- http_config
    durable_task_store default path=/tmp flush=soon;
--- error_log
invalid durable_task_store parameter "flush=soon": use a time above 0, e.g. flush=100ms



=== TEST 10: an empty thread_pool=
--- http_config
    durable_task_store default path=/tmp thread_pool=;
--- error_log
invalid durable_task_store parameter "thread_pool=": use thread_pool=name



=== TEST 11: writes= other than thread or loop
--- http_config
    durable_task_store default path=/tmp writes=async;
--- error_log
invalid durable_task_store parameter "writes=async": use thread or loop



=== TEST 12: reads= other than now or later
--- http_config
    durable_task_store default path=/tmp reads=soon;
--- config
--- must_die
--- error_log
invalid durable_task_store parameter "reads=soon": use now or later



=== TEST 13: reader_check= that is neither a time nor off
--- http_config
    durable_task_store default path=/tmp reader_check=never;
--- error_log
invalid durable_task_store parameter "reader_check=never": use a time above 0, e.g. reader_check=60s, or reader_check=off



=== TEST 14: one directory twice: X and X/
--- http_config
    durable_task_store a path=$TEST_NGINX_DATA_DIR/dir-same;
    durable_task_store b path=$TEST_NGINX_DATA_DIR/dir-same/;



=== TEST 15: one directory twice: X and X/./ and a doubled slash
--- http_config
    durable_task_store a path=$TEST_NGINX_DATA_DIR/dir-same;
    durable_task_store b path=$TEST_NGINX_DATA_DIR//dir-same/./;



=== TEST 16: one directory twice: X and Y/../X
--- http_config
    durable_task_store a path=$TEST_NGINX_DATA_DIR/dir-same;
    durable_task_store b path=$TEST_NGINX_DATA_DIR/dir-other/../dir-same;



=== TEST 17: one directory twice: through a symbolic link
--- http_config
    durable_task_store a path=$TEST_NGINX_DATA_DIR/dir-real;
    durable_task_store b path=$TEST_NGINX_DATA_DIR/dir-link;



=== TEST 18: one new directory twice: under a symbolic link to its parent
--- http_config
    durable_task_store a path=$TEST_NGINX_DATA_DIR/dir-link/new;
    durable_task_store b path=$TEST_NGINX_DATA_DIR/dir-real/new/;



=== TEST 19: a relative path and the same one spelled in full
--- http_config
    durable_task_store a path=dir-rel;
    durable_task_store b path=$TEST_NGINX_SERVER_ROOT/dir-rel/;



=== TEST 20: backend=postgres with a parameter of LMDB stores
--- http_config
    durable_task_store pg backend=postgres path=/d "conninfo=hostaddr=127.0.0.1 dbname=x";
--- error_log
durable_task_store "pg": backend=postgres takes conninfo=, pool= and timeout= only; path=



=== TEST 21: backend=postgres without conninfo=
--- http_config
    durable_task_store pg backend=postgres;
--- error_log
durable_task_store "pg": backend=postgres needs conninfo=



=== TEST 22: conninfo= on an LMDB store
--- http_config
    durable_task_store a path=/d conninfo=dbname=x;
--- error_log
durable_task_store "a": conninfo=, pool= and timeout= are for backend=postgres



=== TEST 23: an unknown backend
--- http_config
    durable_task_store a backend=oracle;
--- error_log
invalid durable_task_store parameter "backend=oracle": use lmdb or postgres



=== TEST 24: a pool of 0 connections
--- http_config
    durable_task_store pg backend=postgres pool=0 conninfo=dbname=x;
--- error_log
invalid durable_task_store parameter "pool=0": use a number of connections from 1 to 64



=== TEST 25: a host name that does not resolve when the configuration is read
--- http_config
    durable_task_store pg backend=postgres "conninfo=host=no-such-host.invalid dbname=x";
--- error_log
durable_task_store "pg": cannot resolve host "no-such-host.invalid"



=== TEST 26: a service in conninfo: libpq would read its host from the service file when it connects
--- http_config
    durable_task_store pg backend=postgres "conninfo=service=durable dbname=x";
--- error_log
durable_task_store "pg": service= is refused: libpq reads the service file when it connects



=== TEST 27: PGHOST given to the worker processes, after http{}, names a host: its look-up would block
--- post_main_config
env PGHOST=db.example;
--- http_config
    durable_task_store pg backend=postgres conninfo=dbname=x;
--- error_log
durable_task_store "pg": host "db.example", of PGHOST in the environment of the worker processes, is a name



=== TEST 28: PGSERVICE given to the worker processes
--- main_config
env PGSERVICE=durable;
--- http_config
    durable_task_store pg backend=postgres "conninfo=hostaddr=127.0.0.1 dbname=x";
--- error_log
durable_task_store "pg": PGSERVICE is set in the environment of the worker processes



=== TEST 29: a relative path= is taken from nginx's prefix: the same directory as its absolute spelling
--- http_config
    durable_task_store a path=rel-store;
    durable_task_store b path=$TEST_NGINX_SERVER_ROOT/rel-store;
