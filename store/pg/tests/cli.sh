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

# the versions this tool's functions serve, and their level
# (ds_pg_schema.h)
define() {
    sed -n "s/^#define $1  *\([0-9]*\)\$/\1/p" \
        "$(dirname "$0")/../ds_pg_schema.h"
}
min=$(define DSI_PG_SCHEMA_MIN)
level=$(define DSI_PG_FUNCTIONS)

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
check "usage: --to with init" 2 "only for upgrade" \
    "$durable" schema init --conninfo "$ci" --to "$min"
check "usage: --to 0" 2 "--to needs a version from $min" \
    "$durable" schema upgrade --conninfo "$ci" --to 0
# the functions it would create do not fit the tables of an older one
check "usage: --to below the oldest version served" 2 \
    "--to needs a version from $min, the oldest this tool's functions" \
    "$durable" schema upgrade --conninfo "$ci" --to $((min - 1))
check "no database there: exit 3" 3 "cannot connect" \
    "$durable" schema version --conninfo "host=$DURABLE_PG_DIR port=1 dbname=x"

check "version of an empty database: 0, exit 1" 1 \
    "^schema version 0, functions level 0 \(this tool: [0-9]+, level $level\)$" \
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

check "version after init" 0 \
    "^schema version ([0-9]+), functions level $level \(this tool: \1, level $level\)$" \
    "$durable" schema version --conninfo "$ci"
check "version --json" 0 \
    "^\\{\"version\":[0-9]+,\"level\":$level,\"tool\":[0-9]+,\"tool_level\":$level\\}$" \
    "$durable" schema version --json --conninfo "$ci"
check "init again is refused" 1 "has the schema already" \
    "$durable" schema init --conninfo "$ci"
check "--partitions is the default of new hubs" 0 "^4$" \
    sql "SELECT durable.hub_partitions('h', true)"

# this tool's version
latest=$("$durable" schema version --json --conninfo "$ci" \
         | sed 's/.*"tool":\([0-9]*\).*/\1/')
check "usage: --to above this tool's version" 2 \
    "--to needs a version from $min, .* to $latest, this tool's" \
    "$durable" schema upgrade --conninfo "$ci" --to $((latest + 1))
check "--to this tool's version is an upgrade" 0 "up to date" \
    "$durable" schema upgrade --conninfo "$ci" --to "$latest"
check "the functions' level is ds_pg_schema.h's" 0 "^$level$" \
    sql "SELECT durable.functions_level()"
if [ "$min" -lt "$latest" ]; then
    check "--to below the schema's version is refused" 1 \
        "version $latest, newer than --to $min: .*nothing was changed" \
        "$durable" schema upgrade --conninfo "$ci" --to "$min"
fi

# upgrade of a current schema creates the functions again
sql "DROP FUNCTION durable.terminate(text, text, text)" > /dev/null
check "upgrade when up to date" 0 "up to date, functions created again" \
    "$durable" schema upgrade --conninfo "$ci"
check "the functions are back" 0 "^0$" \
    sql "SELECT rc FROM durable.start('h', 'x', 'N', NULL, '')"
check "and work" 0 "^0$" \
    sql "SELECT rc FROM durable.terminate('h', 'x', NULL)"

# functions of a newer release, a higher level: neither this tool nor
# its functions' files run by hand replace them (terminate() dropped
# shows whether anything was created)
sql "CREATE OR REPLACE FUNCTION durable.functions_level() RETURNS integer
     LANGUAGE sql STABLE AS 'SELECT $((level + 1))';
     DROP FUNCTION durable.terminate(text, text, text)" > /dev/null
check "version shows the newer functions' level: exit 1" 1 \
    "^schema version $latest, functions level $((level + 1)) \(this tool: $latest, level $level\)$" \
    "$durable" schema version --conninfo "$ci"
check "upgrade over newer functions is refused" 1 \
    "functions are level $((level + 1)), newer than this tool's $level: .*nothing was changed" \
    "$durable" schema upgrade --conninfo "$ci"
check "so is --to" 1 "functions are level $((level + 1)), newer" \
    "$durable" schema upgrade --conninfo "$ci" --to "$latest"
check "the files by hand stop at their first statement" 3 \
    "functions of level $((level + 1)), newer than these of level $level" \
    psql -X -q -1 -v ON_ERROR_STOP=1 -d "$db" \
        $(printf -- '-f %s ' "$(dirname "$0")"/../functions/[0-9]*.sql)
check "none of it replaced the newer functions" 0 "^$((level + 1))\|$" \
    sql "SELECT durable.functions_level() || '|'
                || coalesce(to_regprocedure('durable.terminate(text, text,
                                             text)')::text, '')"
# the guard's limit, on record: a plain psql -f, neither one transaction
# nor stopping at an error, reports the error, exits 0 and goes on, and
# these older functions replace the newer ones (docs/postgres.md)
check "a plain psql -f reports the error and goes on" 0 \
    "functions of level $((level + 1)), newer than these of level $level" \
    psql -X -q -d "$db" \
        $(printf -- '-f %s ' "$(dirname "$0")"/../functions/[0-9]*.sql)
check "and replaces the newer functions" 0 "^$level\|durable.terminate" \
    sql "SELECT durable.functions_level() || '|'
                || coalesce(to_regprocedure('durable.terminate(text, text,
                                             text)')::text, '')"
# a level that cannot be read is a query error, as a version that cannot
sql "CREATE OR REPLACE FUNCTION durable.functions_level() RETURNS integer
     LANGUAGE plpgsql STABLE AS 'BEGIN RAISE EXCEPTION ''broken''; END'" \
    > /dev/null
check "a level whose query fails: exit 3" 3 \
    "cannot read the functions' level: .*broken" \
    "$durable" schema version --conninfo "$ci"
check "as for an upgrade" 3 "cannot read the functions' level: .*broken" \
    "$durable" schema upgrade --conninfo "$ci"
sql "CREATE OR REPLACE FUNCTION durable.functions_level() RETURNS integer
     LANGUAGE sql STABLE AS 'SELECT $level'" > /dev/null
check "functions of this tool's level are replaced" 0 "up to date" \
    "$durable" schema upgrade --conninfo "$ci"
sql "SELECT durable.start('h', 'w', 'N', NULL, '')" > /dev/null
check "terminate() is back" 0 "^0$" \
    sql "SELECT rc FROM durable.terminate('h', 'w', NULL)"

# a schema newer than the tool
sql "INSERT INTO durable.schema_version VALUES (9999)" > /dev/null
check "upgrade of a newer schema is refused" 1 "newer than this tool" \
    "$durable" schema upgrade --conninfo "$ci"
check "version of a newer schema: exit 1" 1 "^schema version 9999, " \
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

# the counts as durable.stats() gives them, and as the rows make them
stats() {
    sql "SELECT string_agg(concat_ws(' ', hub, class, code, n), ','
                           ORDER BY hub, class, code)
         FROM durable.stats() WHERE hub IS NOT NULL"
}

recount() {
    sql "SELECT string_agg(concat_ws(' ', hub, class, code, n), ','
                           ORDER BY hub, class, code)
         FROM (SELECT hub, 0 AS class, status AS code, count(*) AS n
               FROM durable.instances GROUP BY hub, status
               UNION ALL
               SELECT hub, 1, 0, count(*) FROM durable.instances
               WHERE ready_at > 0 GROUP BY hub
               UNION ALL
               SELECT hub, 1, 1, count(*) FROM durable.activities
               WHERE ready_at > 0 GROUP BY hub
               UNION ALL
               SELECT hub, 1, 2, count(*) FROM durable.entities
               WHERE ready_at > 0 GROUP BY hub
               UNION ALL
               SELECT hub, 2, 0, count(*) FROM durable.timers
               GROUP BY hub) r"
}

# the count triggers of the durable tables that run for each row and
# either on an insert or a delete, or on every update (no WHEN)
row_triggers() {
    sql "SELECT count(*) FROM pg_trigger t
         JOIN pg_class c ON c.oid = t.tgrelid
         JOIN pg_namespace s ON s.oid = c.relnamespace
         WHERE s.nspname = 'durable' AND NOT t.tgisinternal
           AND t.tgtype & 1 = 1
           AND (t.tgtype & 12 <> 0 OR t.tgqual IS NULL)"
}

# older NAME VERSION: a new database NAME, made $db (and $ci), with the
# schema files 001 up to VERSION, then the functions of
# store/pg/functions/: the database an older tool made, its functions
# there
older() {
    local f files=()
    db=$1
    createdb "$db" || exit 1
    ci="$DURABLE_PG_CONNINFO dbname=$db"
    for f in "$(dirname "$0")"/../schema/[0-9]*.sql; do
        [ "$(basename "$f" | sed 's/^0*\([0-9]*\).*/\1/')" -le "$2" ] \
            && files+=(-f "$f")
    done
    # what the functions name may not be in an older schema's tables yet;
    # one transaction, as the tool's (006 locks tables)
    PGOPTIONS="-c check_function_bodies=off -c client_min_messages=warning" \
        psql -X -q -1 -v ON_ERROR_STOP=1 -d "$db" "${files[@]}" \
            $(printf -- '-f %s ' "$(dirname "$0")"/../functions/[0-9]*.sql) \
            > /dev/null
}

# version 5 with its functions and rows the functions wrote, counted by
# version 5's triggers: upgraded, the counts stay the rows' and are kept
# right by the new triggers
older t_cli_v5 5
sql "SELECT durable.start('h', 'a', 'N', NULL, '');
     SELECT durable.start('h', 'b', 'N', NULL, '');
     SELECT durable.start('g', 'c', 'N', NULL, '');
     SELECT durable.terminate('h', 'b', NULL);
     SELECT durable.entity_signal('h', '@c@k', '\"op\":\"add\"');
     SELECT durable.entity_signal('h', '@c@l', '\"op\":\"add\"',
                                  durable.now_us() + 3600000000);
     INSERT INTO durable.activities (hub, partition, id, task_id, ready_at)
         VALUES ('h', 0, 'a', 1, 1), ('g', 0, 'c', 1, 1)" > /dev/null
check "a version 5 with functions and rows" 0 "^5$" \
    sql "SELECT max(version) FROM durable.schema_version"
before=$(recount)
check "the rows to count" 0 "^g 0 6 1,.*h 0 5 1,.*h 2 0 1$" echo "$before"
check "upgrade of version 5 with rows" 0 "from 5" \
    "$durable" schema upgrade --conninfo "$ci"
check "its counts are still the rows'" 0 "^$before$" stats
check "no count trigger runs for each row but a moving update" 0 "^0$" \
    row_triggers
sql "SELECT durable.start('h', 'd', 'N', NULL, '');
     SELECT durable.purge('h', 'b');
     SELECT durable.terminate('g', 'c', NULL);
     DELETE FROM durable.activities WHERE id = 'c';
     SELECT durable.entity_signal('h', '@c@m', '\"op\":\"add\"')" > /dev/null
check "and stay the rows' after more writes" 0 "^$(recount)$" stats

# the count triggers of the durable tables and the functions they call
count_triggers() {
    sql "SELECT string_agg(t.tgname || ' ' || t.tgfoid::regproc, ','
                           ORDER BY t.tgname)
         FROM pg_trigger t
         JOIN pg_class c ON c.oid = t.tgrelid
         JOIN pg_namespace s ON s.oid = c.relnamespace
         WHERE s.nspname = 'durable' AND NOT t.tgisinternal"
}

# version 6 with its functions and rows: upgraded, each table's count
# triggers call one function, version 6's others are gone, and the
# counts stay the rows' through inserts, moving updates and deletes.
# purge_subtree() stands for version 6's, which 007 drops.
older t_cli_v6 6
sql "CREATE FUNCTION durable.purge_subtree(p_hub text, p_id text,
         p_depth integer, OUT rc integer, OUT status smallint,
         OUT purged bigint)
     LANGUAGE sql AS 'SELECT 8, NULL::smallint, 0::bigint';
     SELECT durable.start('h', 'a', 'N', NULL, '');
     SELECT durable.start('h', 'b', 'N', NULL, '');
     SELECT durable.start('g', 'c', 'N', NULL, '');
     SELECT durable.terminate('h', 'b', NULL);
     SELECT durable.entity_signal('h', '@c@k', '\"op\":\"add\"');
     SELECT durable.entity_signal('h', '@c@l', '\"op\":\"add\"',
                                  durable.now_us() + 3600000000);
     INSERT INTO durable.activities (hub, partition, id, task_id, ready_at)
         VALUES ('h', 0, 'a', 1, 1), ('g', 0, 'c', 1, 0)" > /dev/null
check "a version 6 with functions and rows" 0 "^6$" \
    sql "SELECT max(version) FROM durable.schema_version"
# the functions work on version 6's tables, which nginx serves still
sql "SELECT durable.start('h', 'y', 'N', NULL, '');
     SELECT durable.start('h', 'z', 'N', NULL, '');
     UPDATE durable.instances SET parent_id = 'y'
         WHERE hub = 'h' AND id = 'z';
     SELECT durable.history_append('h', partition, 'y',
         '{\"EventType\":\"SubOrchestrationInstanceCreated\",'
         || '\"InstanceId\":\"z\"}')
         FROM durable.instances WHERE hub = 'h' AND id = 'y';
     SELECT durable.terminate_tree('h', 'y', NULL)" > /dev/null
check "a tree purge of version 6 with these functions" 0 "^0 2$" \
    sql "SELECT rc || ' ' || purged FROM durable.purge_tree('h', 'y')"
# an older release's functions: upgrade --to 6 creates this tool's,
# which the modules of either release serve, and keeps version 6
sql "DROP FUNCTION durable.functions_level()" > /dev/null
check "--to 6 of version 6: the functions only" 0 \
    "^schema version 6 kept \(this tool's: $latest\), functions created" \
    "$durable" schema upgrade --conninfo "$ci" --to 6
check "it is still version 6, with this tool's functions" 0 "^6\|$level$" \
    sql "SELECT max(version) || '|' || durable.functions_level()
         FROM durable.schema_version"
check "--to 6 again, --json" 0 '^\{"from":6,"version":6\}$' \
    "$durable" schema upgrade --json --conninfo "$ci" --to 6
before=$(recount)
check "its rows to count" 0 "^g 0 6 1,.*h 0 5 1,.*h 2 0 1$" echo "$before"
check "upgrade of version 6 with rows" 0 "from 6" \
    "$durable" schema upgrade --conninfo "$ci"
check "which brings it to this tool's version" 0 "^$latest$" \
    sql "SELECT max(version) FROM durable.schema_version"
check "its counts are still the rows'" 0 "^$before$" stats
one=
for t in activities:ready entities:ready instances:instances timers:timers; do
    for e in delete insert update; do
        [ "$t$e" = timers:timersupdate ] && continue
        one="$one,${t%%:*}_count_$e durable.count_${t#*:}"
    done
done
check "each table's count triggers call one function" 0 "^${one#,}$" \
    count_triggers
check "version 6's update functions and purge_subtree() are gone" 0 \
    "^0$" sql "SELECT count(*) FROM pg_proc
               WHERE proname IN ('count_instance_moves', 'count_ready_moves',
                                 'purge_subtree')"
check "no count trigger runs for each row but a moving update" 0 "^0$" \
    row_triggers
sql "SELECT durable.start('h', 'd', 'N', NULL, '');
     SELECT durable.purge('h', 'b');
     SELECT durable.terminate('g', 'c', NULL);
     UPDATE durable.activities SET ready_at = 1 - ready_at;
     DELETE FROM durable.activities WHERE id = 'a';
     SELECT durable.entity_signal('h', '@c@m', '\"op\":\"add\"')" > /dev/null
check "and stay the rows' after more writes" 0 "^$(recount)$" stats

# version 5 taken partway, to 6, then the rest of the way: the first
# step of the upgrade of several hosts run on a database that needs a
# version too. Version 5 is below what this tool reads and writes; 6,
# which nginx serves, is not: its check, stats, export, import and
# delete-task-hub work there
older t_cli_v5to6 5
sql "SELECT durable.start('h', 'a', 'N', NULL, '');
     SELECT durable.start('h', 'b', 'N', NULL, '');
     SELECT durable.terminate('h', 'b', NULL);
     SELECT durable.entity_signal('h', '@c@k', '\"op\":\"add\"')" > /dev/null
check "the tool's commands refuse version 5" 1 \
    "version 5, this tool works with $min to $latest: durable schema upgrade" \
    "$durable" check "$ci"
check "upgrade --to 6 of version 5" 0 "^schema version 6, from 5$" \
    "$durable" schema upgrade --conninfo "$ci" --to 6
check "version 6 with this tool's functions: exit 1" 1 \
    "^schema version 6, functions level $level \(this tool: $latest, level $level\)$" \
    "$durable" schema version --conninfo "$ci"
check "its counts are the rows'" 0 "^$(recount)$" stats
check "durable check of version 6" 0 "problems 0" "$durable" check "$ci"
check "durable stats of version 6 says so" 0 \
    "^database $db: schema version 6, .*instances +2" \
    "$durable" stats "$ci" --hub h
check "and --json" 0 '"schema_version":6,' "$durable" stats --json "$ci"
out=/tmp/durable-v6.$$
check "durable export of version 6" 0 "" \
    "$durable" export "$ci" --hub h --output "$out"
check "what it exports" 0 "^2$" grep -c '"type":"instances"' "$out"
check "durable import of version 6" 0 "" \
    "$durable" import "$ci" --input "$out" --hub h2
check "the hub imported, counted" 0 "^2 $(recount)$" \
    sql "SELECT count(*) || ' ' || (SELECT string_agg(concat_ws(' ', hub,
                                           class, code, n), ','
                                           ORDER BY hub, class, code)
                                    FROM durable.stats()
                                    WHERE hub IS NOT NULL)
         FROM durable.instances WHERE hub = 'h2'"
check "durable delete-task-hub of version 6" 0 "" \
    "$durable" delete-task-hub "$ci" --hub h2
check "which deleted the hub's instances" 0 "^0$" \
    sql "SELECT count(*) FROM durable.instances WHERE hub = 'h2'"
rm -f "$out"

# an activity's version and tags have no columns below version 8: an
# import of a hub whose activities have them is refused, not cut down;
# one whose activities have none goes in. The hubs from a database at
# the latest version: hv's activity with both, hp's with neither.
src="$DURABLE_PG_CONNINFO dbname=t_cli_vsrc"
createdb t_cli_vsrc && "$durable" schema init --conninfo "$src" > /dev/null
activity_hub() {
    psql -X -At -v ON_ERROR_STOP=1 -d t_cli_vsrc -c "
        SELECT durable.start('$1', 'p', 'N', NULL, '\"Name\":\"N\"');
        SELECT count(*) FROM durable.claim_orchestrations('$1', 60000000,
            ARRAY[decode(repeat('01', 16), 'hex')], ARRAY['N']);
        SELECT rc FROM durable.complete_orchestration('$1', 'p',
            decode(repeat('01', 16), 'hex'), 1, false, -1,
            ARRAY[0::smallint], ARRAY[0::bigint], ARRAY[NULL::bigint],
            ARRAY['TaskScheduled'], ARRAY['\"Name\":\"A\",\"Input\":null$2'],
            ARRAY['A'], ARRAY[NULL::text], ARRAY[NULL::text],
            ARRAY[NULL::text], ARRAY[NULL::text], ARRAY[$3::text],
            ARRAY[$4::text], ARRAY[]::text[])" | tail -1
}
check "an activity with a version and tags, at version $latest" 0 "^0$" \
    activity_hub hv ',"Version":"v 1","Tags":{"t":"x"}' \
        "'v 1'" "'{\"t\":\"x\"}'"
check "an activity with neither" 0 "^0$" activity_hub hp "" NULL NULL
check "the two activities" 0 "^hp -,hv v 1$" \
    psql -X -At -d t_cli_vsrc -c "SELECT string_agg(hub || ' ' ||
        coalesce(version, '-'), ',' ORDER BY hub) FROM durable.activities"
out=/tmp/durable-v8.$$
check "their exports" 0 "" eval "\"$durable\" export \"$src\" --hub hv \
    --output \"$out.hv\" && \"$durable\" export \"$src\" --hub hp \
    --output \"$out.hp\""
refusal="activity 0 of instance \"p\" has a version or tags, .*"
refusal+="schema version 6 has no columns for: they need version 8 "
refusal+="\(durable schema upgrade\)"
check "import of a version and tags into version 6: exit 1" 1 "$refusal" \
    "$durable" import "$ci" --input "$out.hv"
check "which imported nothing" 0 "^0$" \
    sql "SELECT count(*) FROM durable.instances WHERE hub = 'hv'"
check "an activity without them imports into version 6" 0 \
    'imported [0-9]+ records into hub "hp"' \
    "$durable" import "$ci" --input "$out.hp"
check "and is there" 0 "^1$" \
    sql "SELECT count(*) FROM durable.activities WHERE hub = 'hp'"
check "durable delete-task-hub of it" 0 "" \
    "$durable" delete-task-hub "$ci" --hub hp
rm -f "$out.hv" "$out.hp"
check "then the rest of the way" 0 "^schema version $latest, from 6$" \
    "$durable" schema upgrade --conninfo "$ci"
check "its counts are still the rows'" 0 "^$(recount)$" stats
check "durable check after it" 0 "problems 0" "$durable" check "$ci"

# version 5 in use: a transaction that read timers stays open. The
# upgrade to 6 must lock the four counted tables; it gives up within its
# lock timeout with exit 5, changes nothing, and goes through once the
# transaction ends. (timeout(1): without a lock timeout it would wait.)
older t_cli_busy 5
sql "SELECT durable.start('h', 'a', 'N', NULL, '')" > /dev/null
fifo=/tmp/durable-busy.$$
mkfifo "$fifo"
psql -X -q -d "$db" < "$fifo" > /dev/null &
holder=$!
exec 9> "$fifo"
echo "BEGIN; SELECT count(*) FROM durable.timers;" >&9
for i in $(seq 100); do
    [ "$(sql "SELECT count(*) FROM pg_locks l
              JOIN pg_class c ON c.oid = l.relation
              WHERE c.relname = 'timers' AND l.granted
                AND l.pid <> pg_backend_pid()")" = 1 ] && break
    sleep 0.1
done
check "upgrade while a transaction holds a table: busy, exit 5" 5 \
    "^durable: database busy: .*retry" \
    timeout 60 "$durable" schema upgrade --conninfo "$ci"
check "the busy upgrade changed nothing" 0 "^5\|instances_count$" \
    sql "SELECT (SELECT max(version) FROM durable.schema_version),
                string_agg(tgname, ',')
         FROM pg_trigger WHERE tgname LIKE 'instances_count%'"
check "the instances are read again at once" 0 "^1$" \
    env PGOPTIONS="-c lock_timeout=1s" \
        psql -X -At -d "$db" -c "SELECT count(*) FROM durable.instances"
echo "COMMIT;" >&9
exec 9>&-
wait "$holder"
rm -f "$fifo"
check "once that transaction ends, the upgrade goes through" 0 "from 5" \
    timeout 60 "$durable" schema upgrade --conninfo "$ci"

# TRUNCATE runs no count trigger (docs/postgres.md): durable check says so
sql "TRUNCATE durable.instances" > /dev/null
check "durable check finds the counts a TRUNCATE left" 1 \
    "the count of [A-Za-z]+ instances" "$durable" check "$ci"

# an id from the database reaches the terminal escaped (a row moved out
# of its id's partition is a problem the check names)
sql "SELECT durable.start('h', E'\\x1b[31mx', 'N', NULL, '');
     UPDATE durable.instances SET partition = partition + 1
     WHERE id = E'\\x1b[31mx'" > /dev/null
check "durable check prints an id escaped" 1 \
    'id "\\u001b\[31mx": a row in another partition' "$durable" check "$ci"

# version 4 with functions: 005 drops entity_signal() of three arguments,
# which would make a call of the new one with three ambiguous
older t_cli_v4 4
sql "CREATE FUNCTION durable.entity_signal(p_hub text, p_eid text,
         p_members text, OUT rc integer, OUT error text)
     LANGUAGE sql AS 'SELECT 8, NULL::text';
     SELECT durable.start('h', 'a', 'N', NULL, '');
     SELECT durable.start('h', 'b', 'N', NULL, '');
     SELECT durable.terminate('h', 'b', NULL)" > /dev/null
check "upgrade of version 4 with functions and rows" 0 "from 4" \
    "$durable" schema upgrade --conninfo "$ci"
check "its counts are the rows'" 0 "^$(recount)$" stats
check "the signal of three arguments is the new one" 0 "^0$" \
    sql "SELECT rc FROM durable.entity_signal('h', '@c@k', '\"op\":\"x\"')"
check "and counted" 0 "^$(recount)$" stats

echo "1..$n"
[ "$failed" = 0 ]
