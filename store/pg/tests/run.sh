#!/bin/bash
# The SQL tests of the PostgreSQL schema (make test-pg-schema), inside a
# cluster of util/pg.sh. Each NNN-*.sql runs in a database of its own,
# made by `durable schema init` ($DURABLE), after lib.sql; psql stops at
# the first failed check. A test may say, in a line
#   -- notifications: N
# how many NOTIFYs its run must deliver to its own session. Then cli.sh
# tests durable schema itself, move.sh (with $T_HUB_RICH, t_hub_rich.c)
# the offline commands on PostgreSQL and a hub's move from LMDB and back,
# and, when set, $T_PG_CONN (t_pg_conn.c) the
# backend's connections, $T_PG_OPS (t_pg_ops.c) its operations against
# LMDB's and $T_PG_STORE (t_pg_store.c) the backend behind the store
# interface.

set -u

dir=$(cd "$(dirname "$0")" && pwd)
durable=${DURABLE:?set DURABLE to the durable tool}
failed=0
n=0

for t in "$dir"/[0-9]*.sql; do
    name=$(basename "$t" .sql)
    db=t_$(echo "$name" | tr -c 'a-z0-9\n' '_')
    n=$((n + 1))

    createdb "$db" || exit 1

    if ! out=$("$durable" schema init --conninfo "$DURABLE_PG_CONNINFO dbname=$db" 2>&1); then
        echo "not ok $n - $name: schema init: $out"
        failed=$((failed + 1))
        continue
    fi

    if ! out=$(psql -X -d "$db" -v ON_ERROR_STOP=1 \
                   -v conninfo="$DURABLE_PG_CONNINFO dbname=$db" \
                   -f "$dir/lib.sql" \
                   -f "$t" 2>&1); then
        echo "not ok $n - $name"
        echo "$out" | sed 's/^/#   /'
        failed=$((failed + 1))
        continue
    fi

    want=$(sed -n 's/^-- notifications: \([0-9]*\)$/\1/p' "$t")
    if [ -n "$want" ]; then
        got=$(echo "$out" | grep -c '^Asynchronous notification "durable"')
        if [ "$got" != "$want" ]; then
            echo "not ok $n - $name: $got notifications, want $want"
            echo "$out" | sed 's/^/#   /'
            failed=$((failed + 1))
            continue
        fi
    fi

    echo "ok $n - $name"
done

echo "1..$n"

echo "# durable schema"
"$dir/cli.sh" || failed=$((failed + 1))

if [ -n "${T_HUB_RICH:-}" ]; then
    echo "# check, stats, export, import, delete-task-hub; a hub moved"
    "$dir/move.sh" || failed=$((failed + 1))
fi

if [ -n "${T_PG_CONN:-}" ]; then
    echo "# connections"
    createdb t_conn && "$durable" schema init --conninfo \
        "$DURABLE_PG_CONNINFO dbname=t_conn" > /dev/null \
    && "$T_PG_CONN" "$DURABLE_PG_HOSTADDR_CONNINFO dbname=t_conn" \
        "$DURABLE_PG_DIR/data/postmaster.pid" \
    || failed=$((failed + 1))
fi

if [ -n "${T_PG_OPS:-}" ]; then
    echo "# operations, against LMDB"
    createdb t_ops && "$durable" schema init --conninfo \
        "$DURABLE_PG_CONNINFO dbname=t_ops" > /dev/null \
    && "$T_PG_OPS" "$DURABLE_PG_HOSTADDR_CONNINFO dbname=t_ops" \
    || failed=$((failed + 1))
fi

if [ -n "${T_PG_STORE:-}" ]; then
    echo "# the backend behind ds_store_submit()"
    createdb t_store && "$durable" schema init --conninfo \
        "$DURABLE_PG_CONNINFO dbname=t_store" > /dev/null \
    && "$T_PG_STORE" "$DURABLE_PG_HOSTADDR_CONNINFO dbname=t_store" \
        "$DURABLE_PG_DIR/data/postmaster.pid" \
    || failed=$((failed + 1))
fi

[ "$failed" = 0 ]
