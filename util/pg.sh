#!/bin/bash
# A throwaway PostgreSQL cluster for tests (Debian's postgresql-15).
#
#   util/pg.sh run COMMAND [ARGS]  start a cluster, run COMMAND with the
#                                  variables below set, stop and remove
#                                  the cluster whatever COMMAND did; exits
#                                  with COMMAND's status
#   util/pg.sh start               start one and print the variables as
#                                  shell assignments (eval "$(...)")
#   util/pg.sh stop DIR            stop the cluster of DIR and remove DIR
#
# Variables: DURABLE_PG_DIR (the cluster's directory), DURABLE_PG_CONNINFO
# (a libpq conninfo over the unix socket), DURABLE_PG_HOSTADDR_CONNINFO
# (the same over TCP to 127.0.0.1, for code that must not resolve names),
# and PGHOST, PGPORT, PGUSER, PGDATABASE for psql.
#
# PostgreSQL refuses to run as root, so as root the cluster belongs to the
# postgres user and lives under /var/tmp (never in the clone, which may be
# mode 700 and so out of that user's reach). It listens on 127.0.0.1 and a
# unix socket in its own directory, on a free port below 32768, with trust
# authentication: it is for tests only. fsync stays on, so what tests
# measure is durable; memory and connections are kept small (the
# benchmarks raise them: DURABLE_PG_SHARED_BUFFERS, default 16MB, and
# DURABLE_PG_MAX_CONNECTIONS, default 30).

set -e

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_USER=postgres

pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid="$(id -u $PG_USER)" --regid="$(id -g $PG_USER)" \
                --init-groups -- "$@"
    else
        "$@"
    fi
}

# pg_port_free PORT: nothing answers on 127.0.0.1:PORT
pg_port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pg_start() {
    local dir port tries user

    if [ ! -x "$PG_BIN/initdb" ]; then
        echo "pg.sh: $PG_BIN/initdb not found: make deps installs" \
             "postgresql-15" >&2
        return 1
    fi

    dir=$(mktemp -d /var/tmp/ngx_durable-pg.XXXXXX)
    chmod 755 "$dir"
    user=$(id -un)

    if [ "$(id -u)" = 0 ]; then
        chown "$PG_USER:" "$dir"
        user=$PG_USER
    fi

    if ! pg_as_owner "$PG_BIN/initdb" -D "$dir/data" -U "$user" \
            --auth=trust -E UTF8 --locale=C.UTF-8 > "$dir/initdb.log" 2>&1
    then
        cat "$dir/initdb.log" >&2
        rm -rf "$dir"
        return 1
    fi

    cat >> "$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
shared_buffers = ${DURABLE_PG_SHARED_BUFFERS:-16MB}
max_connections = ${DURABLE_PG_MAX_CONNECTIONS:-30}
max_wal_senders = 0
wal_level = minimal
EOF

    # a random free port below 32768; another cluster may take it between
    # the check and the start, so a failed start tries the next one
    for tries in 1 2 3 4 5 6 7 8; do
        port=$((20000 + RANDOM % 12000))
        pg_port_free "$port" || continue

        if pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
                -o "-p $port" -w -t 60 start > /dev/null 2>&1
        then
            echo "DURABLE_PG_DIR='$dir'"
            echo "DURABLE_PG_CONNINFO='host=$dir port=$port user=$user" \
                 "dbname=postgres'"
            echo "DURABLE_PG_HOSTADDR_CONNINFO='hostaddr=127.0.0.1" \
                 "port=$port user=$user dbname=postgres'"
            echo "PGHOST='$dir'"
            echo "PGPORT=$port"
            echo "PGUSER=$user"
            echo "PGDATABASE=postgres"
            return 0
        fi
    done

    echo "pg.sh: the cluster in $dir did not start:" >&2
    tail -20 "$dir/server.log" >&2 || true
    rm -rf "$dir"
    return 1
}

pg_stop() {
    local dir=$1

    case "$dir" in
        /var/tmp/ngx_durable-pg.*) ;;
        *) echo "pg.sh: $dir is not a cluster of pg.sh" >&2; return 1 ;;
    esac

    if [ -f "$dir/data/postmaster.pid" ]; then
        pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w \
            stop > /dev/null 2>&1 || true
    fi

    rm -rf "$dir"
}

case "$1" in
    start)
        pg_start
        ;;

    stop)
        [ -n "$2" ] || { echo "usage: pg.sh stop DIR" >&2; exit 2; }
        pg_stop "$2"
        ;;

    run)
        shift
        [ $# -gt 0 ] || { echo "usage: pg.sh run COMMAND [ARGS]" >&2; exit 2; }
        vars=$(pg_start)
        eval "$vars"
        export DURABLE_PG_DIR DURABLE_PG_CONNINFO \
               DURABLE_PG_HOSTADDR_CONNINFO PGHOST PGPORT PGUSER PGDATABASE
        trap 'pg_stop "$DURABLE_PG_DIR"' EXIT
        trap 'exit 130' INT TERM
        set +e
        "$@"
        exit $?
        ;;

    *)
        echo "usage: pg.sh run COMMAND [ARGS] | start | stop DIR" >&2
        exit 2
        ;;
esac
