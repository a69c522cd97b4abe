#!/bin/bash
# durable schema init|upgrade|version against the cluster of util/pg.sh
# (run.sh runs this after the SQL tests): exit codes, what each refuses,
# and that the schema is what the SQL tests use.

set -u

durable=${DURABLE:?set DURABLE to the durable tool}
n=0
failed=0

# check WHAT WANT_EXIT WANT_OUTPUT_REGEX COMMAND...
check() {
    local what=$1 want=$2 re=$3 out rc
    shift 3
    n=$((n + 1))
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" != "$want" ] || ! [[ $out =~ $re ]]; then
        echo "not ok $n - $what: exit $rc (want $want), output:"
        echo "$out" | sed 's/^/#   /'
        failed=$((failed + 1))
    else
        echo "ok $n - $what"
    fi
}

sql() {
    psql -X -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"
}

db=t_cli
createdb "$db" || exit 1
ci="$DURABLE_PG_CONNINFO dbname=$db"

check "usage: no action" 2 "say init, upgrade or version" \
    "$durable" schema --conninfo "$ci"
check "usage: no conninfo" 2 "--conninfo is required" \
    "$durable" schema version
check "usage: partitions out of range" 2 "--partitions needs" \
    "$durable" schema init --conninfo "$ci" --partitions 0
check "usage: partitions with upgrade" 2 "only for init" \
    "$durable" schema upgrade --conninfo "$ci" --partitions 4
check "no database there: exit 3" 3 "cannot connect" \
    "$durable" schema version --conninfo "host=$DURABLE_PG_DIR port=1 dbname=x"

check "version of an empty database: 0, exit 1" 1 \
    "^schema version 0 \(this tool: [0-9]+\)$" \
    "$durable" schema version --conninfo "$ci"
check "upgrade of an empty database is refused" 1 "durable schema init" \
    "$durable" schema upgrade --conninfo "$ci"
check "nothing was created by the refusal" 0 "^$" \
    sql "SELECT nspname FROM pg_namespace WHERE nspname = 'durable'"

# two at once: the lock lets one create it, the other finds it made
"$durable" schema init --conninfo "$ci" --partitions 4 > /tmp/durable-init-a.$$ 2>&1 &
a=$!
"$durable" schema init --conninfo "$ci" --partitions 4 > /tmp/durable-init-b.$$ 2>&1 &
b=$!
wait $a; ra=$?
wait $b; rb=$?
n=$((n + 1))
if [ $((ra + rb)) = 1 ] && grep -q "has the schema already" \
        /tmp/durable-init-a.$$ /tmp/durable-init-b.$$
then
    echo "ok $n - two inits at once: one creates, one is refused"
else
    echo "not ok $n - two inits at once: exits $ra and $rb"
    sed 's/^/#   /' /tmp/durable-init-a.$$ /tmp/durable-init-b.$$
    failed=$((failed + 1))
fi
rm -f /tmp/durable-init-a.$$ /tmp/durable-init-b.$$

check "version after init" 0 "^schema version ([0-9]+) \(this tool: \1\)$" \
    "$durable" schema version --conninfo "$ci"
check "version --json" 0 '^\{"version":[0-9]+,"tool":[0-9]+\}$' \
    "$durable" schema version --json --conninfo "$ci"
check "init again is refused" 1 "has the schema already" \
    "$durable" schema init --conninfo "$ci"
check "--partitions is the default of new hubs" 0 "^4$" \
    sql "SELECT durable.hub_partitions('h', true)"

# upgrade of a current schema creates the functions again
sql "DROP FUNCTION durable.terminate(text, text, text)" > /dev/null
check "upgrade when up to date" 0 "up to date, functions created again" \
    "$durable" schema upgrade --conninfo "$ci"
check "the functions are back" 0 "^0$" \
    sql "SELECT rc FROM durable.start('h', 'x', 'N', NULL, '')"
check "and work" 0 "^0$" \
    sql "SELECT rc FROM durable.terminate('h', 'x', NULL)"

# a schema newer than the tool
sql "INSERT INTO durable.schema_version VALUES (9999)" > /dev/null
check "upgrade of a newer schema is refused" 1 "newer than this tool" \
    "$durable" schema upgrade --conninfo "$ci"
check "version of a newer schema: exit 1" 1 "^schema version 9999 " \
    "$durable" schema version --conninfo "$ci"

# version 1 with rows, upgraded: the counts of version 3 are made from
# the rows that were there (schema/003-counts.sql)
db=t_cli_v1
createdb "$db" || exit 1
ci="$DURABLE_PG_CONNINFO dbname=$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
    -f "$(dirname "$0")/../schema/001-base.sql" > /dev/null
sql "INSERT INTO durable.instances (hub, partition, id, status,
         suspended_from, created, updated, execution, name, ready_at)
     VALUES ('h', 0, 'a', 6, 6, 1, 1, 1, 'N', 5),
            ('h', 0, 'b', 5, 5, 1, 1, 1, 'N', 0),
            ('g', 0, 'c', 6, 6, 1, 1, 1, 'N', 7);
     INSERT INTO durable.timers VALUES ('h', 0, 'a', 1, 9, 9)" > /dev/null
check "upgrade of version 1 with rows" 0 "from 1" \
    "$durable" schema upgrade --conninfo "$ci"
check "its counts are the rows'" 0 \
    "^g 0 6 1,g 1 0 1 7,h 0 5 1,h 0 6 1,h 1 0 1 5,h 2 0 1$" \
    sql "SELECT string_agg(concat_ws(' ', hub, class, code, n, oldest), ','
                           ORDER BY hub, class, code)
         FROM durable.stats() WHERE hub IS NOT NULL"

echo "1..$n"
[ "$failed" = 0 ]
