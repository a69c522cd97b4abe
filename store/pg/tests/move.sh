#!/bin/bash
# The offline commands of durable on a PostgreSQL store (check, stats,
# export, import, delete-task-hub), against the cluster of util/pg.sh
# (run.sh runs this), and the move of a hub LMDB -> PostgreSQL -> LMDB:
# a hub made by $T_HUB_RICH (t_hub_rich.c: every kind of record) is
# exported, imported into PostgreSQL, exported from there and imported
# into a new LMDB store; the three exports must hold the same records,
# byte for byte, and the PostgreSQL backend's own functions must read
# the moved instances.

set -u

durable=${DURABLE:?set DURABLE to the durable tool}
rich=${T_HUB_RICH:?set T_HUB_RICH to t_hub_rich}
n=0
failed=0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

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

# same WHAT FILE FILE: the records of two exports (their headers, which
# carry the export's time, aside) are the same bytes
same() {
    n=$((n + 1))
    if [ -s "$2" ] && cmp -s <(tail -n +2 "$2") <(tail -n +2 "$3"); then
        echo "ok $n - $1"
    else
        echo "not ok $n - $1"
        diff <(tail -n +2 "$2") <(tail -n +2 "$3") | head -10 \
            | sed 's/^/#   /'
        failed=$((failed + 1))
    fi
}

sql() {
    psql -X -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"
}

db=t_move
createdb "$db" || exit 1
ci="$DURABLE_PG_CONNINFO dbname=$db"
"$durable" schema init --conninfo "$ci" > /dev/null || exit 1

# the hub to move, in LMDB
mkdir "$tmp/lmdb" && "$rich" "$tmp/lmdb" Moved || exit 1
"$durable" export "$tmp/lmdb" --hub Moved --output "$tmp/a.jsonl" \
    2> /dev/null || exit 1

# every table of the LMDB layout, and the record versions that carry the
# SDK's start options (5), failure details (6), a lock (entity 3), an
# activity's version and tags (activity 3)
n=$((n + 1))
if python3 - "$tmp/a.jsonl" <<'EOF'
import base64, json, sys
seen, versions = set(), set()
for line in open(sys.argv[1]):
    r = json.loads(line)
    seen.add(r["type"])
    if r["type"] in ("instances", "entities", "activities"):
        v = base64.b64decode(r["value"])
        versions.add((r["type"], v[0], v[1] if r["type"] != "instances" else 0))
want = {"instances", "by_created", "by_status", "history", "inbox", "ready",
        "activities", "timers", "timer_ix", "entities", "entity_ops"}
assert want <= seen, want - seen
assert ("instances", 5, 0) in versions and ("instances", 6, 0) in versions
assert ("entities", 3, 0) in versions          # locked
assert ("entities", 2, 1) in versions          # with state
assert ("activities", 2, 1) in versions        # a tombstone
assert ("activities", 3, 0) in versions        # a version, tags
EOF
then
    echo "ok $n - the hub to move has every kind of record"
else
    echo "not ok $n - the hub to move has every kind of record"
    failed=$((failed + 1))
fi

# a hub that holds a scheduled entity signal (a timer that carries its
# message) moves with it, and the signal still waits: a timer of its
# entity, no entity yet
mkdir "$tmp/sched" && "$rich" "$tmp/sched" Later scheduled || exit 1
"$durable" export "$tmp/sched" --hub Later --output "$tmp/sched.jsonl" \
    2> /dev/null || exit 1
check "import of a scheduled entity signal" 0 \
    '^imported 2 records into hub "Later"$' \
    "$durable" import "$ci" --input "$tmp/sched.jsonl"
check "it is its entity's timer, with the message" 0 \
    '^@counter@later\|1\|\{"operation":"add","input":1,"timestamp":"[^"]+"\}$' \
    sql "SELECT id, timer_id, message FROM durable.timers
         WHERE hub = 'Later' AND due > durable.now_us()"
check "and no entity yet" 0 '^0$' \
    sql "SELECT count(*) FROM durable.entities WHERE hub = 'Later'"
check "export of the scheduled signal" 0 'exported 2 records of hub "Later"' \
    "$durable" export "$ci" --hub Later --output "$tmp/sched-pg.jsonl"
same "PostgreSQL exports the signal LMDB exported" "$tmp/sched.jsonl" \
    "$tmp/sched-pg.jsonl"

# LMDB -> PostgreSQL
check "import into PostgreSQL" 0 '^imported [0-9]+ records into hub "Moved"$' \
    "$durable" import "$ci" --input "$tmp/a.jsonl"
check "check: consistent" 0 "instances 8.*entity_ops 3.*problems 0.consistent" \
    "$durable" check "$ci"
check "check --json" 0 '"consistent":true' "$durable" check --json "$ci"
check "stats: statuses and rows" 0 \
    "hub Moved.*Running 2, Completed 1, Failed 1, Terminated 1, Pending 2, Suspended 1.*history +30" \
    "$durable" stats "$ci"
check "stats --json" 0 \
    '"hub":"Moved","status":\{.*"Failed":1.*\},"records":\{"instances":8,"history":30,"inbox":5,"activities":3,"timers":2,"entities":3,"entity_ops":3\}' \
    "$durable" stats --json "$ci" --hub Moved
check "the backend reads a moved instance" 0 '^0\|1\|"bye"$' \
    sql "SELECT rc, status, output FROM durable.status('Moved', 'done', false)"
check "and its history" 0 '^0\|4$' \
    sql "SELECT rc, cardinality(history) FROM durable.status('Moved', 'done', true)"
check "rows sit in their id's partition" 0 '^0$' \
    sql "SELECT count(*) FROM durable.history x JOIN durable.hubs h USING (hub)
         WHERE x.partition <> durable.partition_of(h.partitions, x.id)"

# PostgreSQL -> LMDB
check "export from PostgreSQL" 0 'exported 80 records of hub "Moved"' \
    "$durable" export "$ci" --hub Moved --output "$tmp/b.jsonl"
same "PostgreSQL exports the records LMDB exported" "$tmp/a.jsonl" "$tmp/b.jsonl"
check "import back into LMDB" 0 'imported 80 records' \
    "$durable" import "$tmp/back" --input "$tmp/b.jsonl"
"$durable" export "$tmp/back" --hub Moved --output "$tmp/c.jsonl" 2> /dev/null
same "and LMDB again: every instance, history and entity as before" \
    "$tmp/a.jsonl" "$tmp/c.jsonl"
check "the moved-back store checks consistent" 0 "consistent" \
    "$durable" check "$tmp/back"

# refusals
check "import into a hub with records: exit 1" 1 "has records already" \
    "$durable" import "$ci" --input "$tmp/a.jsonl"
head -20 "$tmp/a.jsonl" > "$tmp/cut.jsonl"
check "a truncated export is refused" 1 "ends early" \
    "$durable" import "$ci" --input "$tmp/cut.jsonl" --hub Cut
grep -v '"type":"ready"' "$tmp/a.jsonl" | sed 's/"records":80/"records":72/' \
    > "$tmp/incons.jsonl"
check "an export without its ready index is refused" 1 "not consistent" \
    "$durable" import "$ci" --input "$tmp/incons.jsonl" --hub Incons
check "refused imports wrote nothing" 0 '^0$' \
    sql "SELECT count(*) FROM durable.instances WHERE hub IN ('Cut', 'Incons')"

# import locks the hub's row before it finds the hub empty: held by
# another session, the import waits (here until its lock_timeout)
sql "INSERT INTO durable.hubs VALUES ('Held', 4)" > /dev/null
psql -X -At -q -d "$db" -c "BEGIN" \
    -c "SELECT 1 FROM durable.hubs WHERE hub = 'Held' FOR UPDATE" \
    -c "SELECT pg_sleep(60)" > /dev/null 2>&1 &
holder=$!
for i in $(seq 50); do
    [ "$(sql "SELECT count(*) FROM pg_locks l JOIN pg_class c
              ON c.oid = l.relation WHERE c.relname = 'hubs'
              AND l.mode = 'RowShareLock' AND l.pid <> pg_backend_pid()")" \
      != 0 ] && break
    sleep 0.2
done
check "import waits for the hub's row lock" 1 "lock timeout" \
    env PGOPTIONS="-c lock_timeout=500" \
    "$durable" import "$ci" --input "$tmp/a.jsonl" --hub Held
kill "$holder" 2> /dev/null
wait "$holder" 2> /dev/null
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE datname = '$db' AND pid <> pg_backend_pid()
     AND query LIKE '%pg_sleep%'" > /dev/null
check "and imports once it is free" 0 'into hub "Held"' \
    "$durable" import "$ci" --input "$tmp/a.jsonl" --hub Held
"$durable" delete-task-hub "$ci" --hub Held > /dev/null

# another hub name, then its deletion
check "import under another hub" 0 'into hub "Copy"' \
    "$durable" import "$ci" --input "$tmp/a.jsonl" --hub Copy
check "stats of every hub" 0 "hub Copy.*hub Moved" "$durable" stats "$ci"
check "delete-task-hub" 0 'hub "Copy": 54 records deleted' \
    "$durable" delete-task-hub "$ci" --hub Copy
check "delete-task-hub --json, again: nothing, exit 1" 1 \
    '"recordsDeleted":0' "$durable" delete-task-hub --json "$ci" --hub Copy
check "the other hub is untouched" 0 "instances 8.*consistent" \
    "$durable" check "$ci" --hub Moved
check "export of a hub that is not there: exit 1" 1 'no hub "NoSuch"' \
    "$durable" export "$ci" --hub NoSuch
check "check of a hub that is not there: exit 1" 1 'no hub "NoSuch"' \
    "$durable" check "$ci" --hub NoSuch
check "stats of a hub that is not there: exit 1" 1 'no hub "NoSuch"' \
    "$durable" stats "$ci" --hub NoSuch

# what check finds
sql "UPDATE durable.timers SET partition = partition + 1
     WHERE hub = 'Moved' AND id = 'waiting'" > /dev/null
check "check: a row in the wrong partition" 1 \
    'problem: hub "Moved" id "waiting": a row in another partition' \
    "$durable" check "$ci"
sql "UPDATE durable.timers SET partition = partition - 1
     WHERE hub = 'Moved' AND id = 'waiting'" > /dev/null
sql "INSERT INTO durable.counts VALUES ('Moved', 2, 0, -1, 5)" > /dev/null
check "check: a count that is not its rows'" 1 \
    'hub "Moved" id "": the count of timers is [0-9]+, the rows are [0-9]+' \
    "$durable" check "$ci"
sql "DELETE FROM durable.counts WHERE hub = 'Moved' AND slot = -1" > /dev/null
check "check: the counts agree again" 0 "consistent" "$durable" check "$ci"
sql "UPDATE durable.instances SET ready_at = 0
     WHERE hub = 'Moved' AND id = 'waiting'" > /dev/null
check "check: a runnable instance out of the ready index" 1 \
    '"id":"waiting","problem":"runnable instance not in the ready index"' \
    "$durable" check --json "$ci"
check "an inconsistent hub is not exported" 1 "not consistent" \
    "$durable" export "$ci" --hub Moved --output "$tmp/d.jsonl"

# the LMDB-only commands, a database without the schema or not there
check "backup of a conninfo: pointed to PostgreSQL's tools" 2 "pg_basebackup" \
    "$durable" backup "$ci" "$tmp/bak"
check "restore into a conninfo: refused, no directory made" 2 "pg_dump" \
    "$durable" restore "$tmp/back" "$ci"
check "compact of a conninfo: refused" 2 "VACUUM" "$durable" compact "$ci"
check "check --dump needs a directory" 2 "need a store directory" \
    "$durable" check --dump Moved "$ci"
createdb t_move_empty
check "a database without the schema: exit 1" 1 "durable schema init" \
    "$durable" stats "$DURABLE_PG_CONNINFO dbname=t_move_empty"
check "no server there: exit 3" 3 "cannot connect" \
    "$durable" export "host=$DURABLE_PG_DIR port=1 dbname=x"

echo "1..$n"
[ "$failed" = 0 ]
