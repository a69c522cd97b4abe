-- ngx_durable PostgreSQL schema: the operations, as server-side functions.
-- By hand, run it only with `psql -1 -v ON_ERROR_STOP=1 -f` (as `durable
-- schema` does): a plain `psql -f` goes on past an error (docs/postgres.md).
--
-- Created again (CREATE OR REPLACE) by every `durable schema init` and
-- `durable schema upgrade`, after the numbered table files: the files of
-- store/pg/functions/ in the order of their names, one concern a file,
-- this one first. A function nginx calls is only ever added, under a
-- new name (functions_level() below); one dropped, or changed in its
-- arguments or answers, goes in an upgrade file, with DSI_PG_SCHEMA_MIN
-- raised to its version (docs/postgres.md, "Several hosts").
-- docs/postgres.md explains the design; in short:
--
--   * One function per operation, so that a batch of operations is one
--     round trip. Each catches its own errors in a plpgsql exception block,
--     which is a savepoint: a failing operation is rolled back alone and
--     answers rc 8 with the message in error, the batch goes on.
--   * rc is the store's ds_rc_e: 0 OK, 1 NOTFOUND, 2 CONFLICT, 3 GONE,
--     4 PRECONDITION, 5 FULL, 6 INVALID, 7 MISMATCH, 8 ERROR. Statuses are
--     ds_status_e: 0 Running, 1 Completed, 2 ContinuedAsNew, 3 Failed,
--     4 Canceled, 5 Terminated, 6 Pending, 7 Suspended.
--   * The C side checks names and JSON and renders what needs escaping:
--     an event's members after its Timestamp ("members", e.g.
--     "Name":"x","Input":{...}). SQL adds the envelope and the time, and
--     only ever joins numbers, times and JSON text the C side validated,
--     never escaping a string itself, so both backends store the same
--     bytes.
--   * "now" is the database clock, read once per operation, so leases,
--     ready times and created times mean the same on every host.
--   * A refusal writes nothing (the hub's row aside, made by a start).
--   * Operations that give workers or waiters something new call
--     durable.wake(hub): pg_notify() folds the same channel and payload
--     into one notification per transaction, so a batch sends one NOTIFY
--     per hub however many operations it holds.
--   * Set-returning operations (list, claim) end with one row whose id is
--     NULL: it carries rc and the page's or claim's outputs.
--   * Helpers are SQL functions the planner can inline (a SELECT of one
--     expression calling nothing more volatile than they are declared,
--     not STRICT around CASE or coalesce), or plpgsql, whose plans a
--     session keeps: an SQL function that is not inlined is parsed and
--     planned again at each call (store/pg/tests/070-sql-inlined.sql
--     holds every SQL function of the schema to it).


-- The level of these functions, read by nginx with the schema's version
-- when it connects (DSI_PG_FUNCTIONS in ds_pg_schema.h, which embed.sh
-- checks against this): a module refuses functions below its own
-- level. Raised by one whenever a function nginx calls is added;
-- within a range of schema versions a function is only ever added,
-- never dropped or changed in its arguments or answers, so that the
-- modules of an older release keep working with a newer release's
-- functions (docs/postgres.md, "Several hosts").
--
-- First of all, functions of a higher level, a newer release's, are
-- never replaced by these: an older tool's upgrade, or these files run
-- by hand (psql -1 -v ON_ERROR_STOP=1), stops here with nothing
-- changed. Its level is the one below (embed.sh checks both).
DO $$
DECLARE
    level      CONSTANT integer := 11;
    installed  integer;
BEGIN
    IF to_regprocedure('durable.functions_level()') IS NOT NULL THEN
        EXECUTE 'SELECT durable.functions_level()' INTO installed;

        IF installed > level THEN
            RAISE EXCEPTION 'the database has functions of level %, '
                'newer than these of level %: run the newer release''s '
                '"durable schema upgrade"', installed, level
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION durable.functions_level() RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT 11
$$;


-- Level 2: whether an exception handler of the functions gives an error
-- back to the caller rather than answer rc 8 with it: an error that
-- says "try again" (a deadlock or serialization failure, a read-only
-- server, a lock timeout, an administrator's shutdown), so that the
-- caller, seeing its SQLSTATE, answers 503 with Retry-After, and may
-- run the batch again. Only for a session that asks, with the setting
-- durable.raise_transient = on (nginx's store connections, as a startup
-- option): the functions answer every other caller, the modules of
-- level 1 among them, as they always did. Each handler of a write runs
-- it first: WHEN others THEN IF durable.transient(SQLSTATE) THEN RAISE;
CREATE OR REPLACE FUNCTION durable.transient(p_state text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT p_state IN ('40001', '40P01', '25006', '55P03', '57P01',
                       '57P02', '57P03')
           AND current_setting('durable.raise_transient', true)
               IS NOT DISTINCT FROM 'on'
$$;


-- the database clock, µs since the epoch
CREATE OR REPLACE FUNCTION durable.now_us() RETURNS bigint
LANGUAGE sql VOLATILE AS $$
    SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
$$;


-- ds_time_format_frac(): 2018-03-10T13:57:31.1234567Z, 7 digits of
-- 100 ns with trailing zeros dropped, none when whole. STABLE as
-- to_char() is, and not STRICT (NULL gives NULL all the same): so the
-- planner inlines it into its callers' expressions, where an SQL
-- function it cannot inline is parsed and planned again at every call
CREATE OR REPLACE FUNCTION durable.time_text(us bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE
           -- the C formatter's range: 0000-01-01 to 9999-12-31, its ends
           WHEN us > 253402300799999999 THEN '9999-12-31T23:59:59.999999Z'
           WHEN us < -62167219200000000 THEN '0000-01-01T00:00:00Z'
           ELSE CASE WHEN us < -62135596800000000
                     -- year 0 (ISO 8601), which PostgreSQL calls 1 BC
                     THEN '0000' || to_char(timestamp '1970-01-01'
                              + ((us - ((us % 1000000) + 1000000) % 1000000)
                                 / 1000000) * interval '1 second',
                              '-MM-DD"T"HH24:MI:SS')
                     ELSE to_char(timestamp '1970-01-01'
                              + ((us - ((us % 1000000) + 1000000) % 1000000)
                                 / 1000000) * interval '1 second',
                              'YYYY-MM-DD"T"HH24:MI:SS')
                END
                || CASE WHEN us % 1000000 = 0 THEN ''
                        ELSE '.' || rtrim(lpad(((((us % 1000000) + 1000000)
                                                 % 1000000) * 10)::text, 7,
                                               '0'), '0')
                   END
                || 'Z'
           END
$$;


-- {"EventType":"<type>","Timestamp":"<now>","EventId":-1[,<members>]}:
-- the events written here are none that carry an action's id. plpgsql
-- keeps its plan for the session; as an SQL function the planner could
-- not inline (its arguments are expressions used twice), it was planned
-- again at each call, a third of a start's time
CREATE OR REPLACE FUNCTION durable.event(type text, now bigint, members text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN '{"EventType":"' || type || '","Timestamp":"'
           || durable.time_text(now) || '","EventId":-1'
           || CASE WHEN coalesce(members, '') = '' THEN ''
                   ELSE ',' || members END
           || '}';
END
$$;


-- JSON text, NULL standing for null
CREATE OR REPLACE FUNCTION durable.json(value text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(value, 'null')
$$;


-- not STRICT, so that it is inlined (IN is not strict to the planner); a
-- NULL status gives NULL all the same
CREATE OR REPLACE FUNCTION durable.terminal(status smallint) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT status IN (1, 3, 4, 5)
$$;


-- the key rules the tables rely on: hub 1-50 bytes, id 1-256 bytes
CREATE OR REPLACE FUNCTION durable.valid_key(hub text, id text)
RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(octet_length(hub) BETWEEN 1 AND 50
                    AND octet_length(id) BETWEEN 1 AND 256, false)
$$;


-- a lease token: 16 bytes, not all zero
CREATE OR REPLACE FUNCTION durable.valid_lease(lease bytea) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(octet_length(lease) = 16
                    AND lease <> '\x00000000000000000000000000000000'::bytea,
                    false)
$$;


-- the stable partition of an id: the first 32 bits of its MD5, modulo
CREATE OR REPLACE FUNCTION durable.partition_of(partitions integer, id text)
RETURNS integer
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT (('x' || substr(md5(id), 1, 8))::bit(32)::bigint
            % partitions)::integer
$$;


-- the hub's number of partitions; with create, a new hub takes the
-- default; NULL for a hub that does not exist
CREATE OR REPLACE FUNCTION durable.hub_partitions(p_hub text,
    p_create boolean)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n  integer;
BEGIN
    SELECT h.partitions INTO n FROM durable.hubs h WHERE h.hub = p_hub;

    IF n IS NULL AND p_create THEN
        INSERT INTO durable.hubs (hub, partitions)
            SELECT p_hub, s.value::integer FROM durable.settings s
            WHERE s.name = 'partitions'
            ON CONFLICT DO NOTHING;

        SELECT h.partitions INTO n FROM durable.hubs h WHERE h.hub = p_hub;
    END IF;

    RETURN n;
END
$$;


-- adds delta to this session's slot of a count: 003-counts.sql's, which
-- the count triggers call (006: once a statement for each count it
-- changes; before, for every row written), made cheaper. An
-- UPDATE of the slot's row first, INSERT only when the session has none:
-- ON CONFLICT DO UPDATE locks the row it finds, and a lock taken in a
-- savepoint on a row an earlier savepoint of the same transaction wrote
-- makes a MultiXact (065-counts-multixact.sql): the upserts took two
-- thirds of a start's time in a batch. plpgsql, so that the statements
-- are planned once a session (an SQL function plans them at each call).
CREATE OR REPLACE FUNCTION durable.count_add(p_hub text, p_class smallint,
    p_code smallint, p_delta bigint)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE durable.counts c SET n = c.n + p_delta
        WHERE c.hub = p_hub AND c.class = p_class AND c.code = p_code
          AND c.slot = pg_backend_pid();

    IF NOT FOUND THEN
        INSERT INTO durable.counts AS c (hub, class, code, slot, n)
            VALUES (p_hub, p_class, p_code, pg_backend_pid(), p_delta)
            ON CONFLICT (hub, class, code, slot)
            DO UPDATE SET n = c.n + excluded.n;
    END IF;
END
$$;


CREATE OR REPLACE FUNCTION durable.wake(p_hub text) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_notify('durable', p_hub)
$$;


-- dsi_ready_mark(): the ready time of an instance given new work
CREATE OR REPLACE FUNCTION durable.ready_mark(status smallint, lease bytea,
    lease_expires bigint, ready_at bigint, now bigint)
RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN durable.terminal(status) OR status = 7 THEN ready_at
        WHEN lease IS NOT NULL AND lease_expires > now
            THEN CASE WHEN ready_at = 0 THEN lease_expires ELSE ready_at END
        WHEN ready_at = 0 OR ready_at > now THEN greatest(now, 1)
        ELSE ready_at
    END
$$;


CREATE OR REPLACE FUNCTION durable.history_append(p_hub text,
    p_part integer, p_id text, p_event text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO durable.history (hub, partition, id, seq, event)
        SELECT p_hub, p_part, p_id, coalesce(max(h.seq), 0) + 1, p_event
        FROM durable.history h
        WHERE h.hub = p_hub AND h.partition = p_part AND h.id = p_id;
END
$$;


-- the pending activities and timers of an instance; with tombstones the
-- completed activities too
CREATE OR REPLACE FUNCTION durable.drop_work(p_hub text, p_part integer,
    p_id text, p_tombstones boolean)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM durable.activities a
        WHERE a.hub = p_hub AND a.partition = p_part AND a.id = p_id
          AND (p_tombstones OR NOT a.done);
    DELETE FROM durable.timers t
        WHERE t.hub = p_hub AND t.partition = p_part AND t.id = p_id;
END
$$;


-- everything kept of a set of instances, (p_parts[i], p_ids[i]): the
-- one list of the tables an instance owns, which remove(), purge_batch()
-- (20-list.sql) and purge_tree() (70-control.sql) delete through, with
-- the entity locks they may still hold (durable.release_held()). A
-- statement a table over the whole set, so that each table's count
-- trigger runs once however many instances go, and the session's counts
-- rows are updated a few times, not once an instance (schema/006).
-- Answers how many instances were deleted.
CREATE OR REPLACE FUNCTION durable.remove_set(p_hub text,
    p_parts integer[], p_ids text[])
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n  integer;
BEGIN
    DELETE FROM durable.activities a
        USING unnest(p_parts, p_ids) AS c(partition, id)
        WHERE a.hub = p_hub AND a.partition = c.partition AND a.id = c.id;
    DELETE FROM durable.timers t
        USING unnest(p_parts, p_ids) AS c(partition, id)
        WHERE t.hub = p_hub AND t.partition = c.partition AND t.id = c.id;
    PERFORM durable.release_held(p_hub, p_parts, p_ids, durable.now_us());
    DELETE FROM durable.history h
        USING unnest(p_parts, p_ids) AS c(partition, id)
        WHERE h.hub = p_hub AND h.partition = c.partition AND h.id = c.id;
    DELETE FROM durable.inbox m
        USING unnest(p_parts, p_ids) AS c(partition, id)
        WHERE m.hub = p_hub AND m.partition = c.partition AND m.id = c.id;
    DELETE FROM durable.instances i
        USING unnest(p_parts, p_ids) AS c(partition, id)
        WHERE i.hub = p_hub AND i.partition = c.partition AND i.id = c.id;
    GET DIAGNOSTICS n = ROW_COUNT;

    RETURN n;
END
$$;


-- everything kept of an instance
CREATE OR REPLACE FUNCTION durable.remove(p_hub text, p_part integer,
    p_id text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM durable.remove_set(p_hub, ARRAY[p_part], ARRAY[p_id]);
END
$$;


-- dsi_inbox_deliver(): a message to an instance that exists, is not
-- terminal and (execution not 0) still runs that execution; otherwise
-- dropped (rc 0), or with strict refused (1 NOTFOUND, 3 GONE, 6 INVALID
-- for an id no key can hold). durable.deliver_life() does it.
CREATE OR REPLACE FUNCTION durable.deliver(p_hub text, p_id text,
    p_execution bigint, p_message text, p_now bigint, p_strict boolean)
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
    RETURN durable.deliver_life(p_hub, p_id, p_execution, NULL, p_message,
                                p_now, p_strict);
END
$$;


-- Schema version 9 keeps a sub-orchestration's parent's created time
-- (instances.parent_created). The functions serve a database at 6 to 8
-- too, where a statement naming it would fail, so each one that does runs
-- only when this says yes. plpgsql, not SQL: a subquery is not inlined
CREATE OR REPLACE FUNCTION durable.parent_links() RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN coalesce((SELECT max(v.version) >= 9
                     FROM durable.schema_version v), false);
END
$$;


-- the parent's created time a child's record keeps; NULL: none, or a
-- schema without it
CREATE OR REPLACE FUNCTION durable.parent_created_of(p_inst
    durable.instances)
RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF durable.parent_links() THEN
        RETURN p_inst.parent_created;
    END IF;

    RETURN NULL;
END
$$;


-- dsi_notify_parent(): a child's end (p_message) to the parent p_child
-- names, if that still runs the execution that started the child: the
-- same execution number and, when the child keeps it, the same created
-- time (durable.deliver_life()). p_child: the child's record as read
-- before the caller changed it.
CREATE OR REPLACE FUNCTION durable.deliver_parent(p_hub text,
    p_child durable.instances, p_message text, p_now bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
    IF p_child.parent_id IS NULL THEN
        RETURN 0;
    END IF;

    RETURN durable.deliver_life(p_hub, p_child.parent_id,
                                p_child.parent_execution,
                                durable.parent_created_of(p_child),
                                p_message, p_now, false);
END
$$;


-- durable.deliver() to one life of p_id: its execution and, unless
-- p_created is NULL or 0 (not known), its created time. An id purged and
-- started again numbers its executions from 1 again: only its created
-- time tells the new life from the one a message was meant for (a
-- child's end to its parent, an entity's answer to its caller), which
-- is then dropped (rc 0, strict or not).
CREATE OR REPLACE FUNCTION durable.deliver_life(p_hub text, p_id text,
    p_execution bigint, p_created bigint, p_message text, p_now bigint,
    p_strict boolean)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n     integer;
    part  integer;
    inst  durable.instances;
BEGIN
    IF NOT durable.valid_key(p_hub, p_id) THEN
        RETURN CASE WHEN p_strict THEN 6 ELSE 0 END;
    END IF;

    n := durable.hub_partitions(p_hub, false);

    IF n IS NULL THEN
        RETURN CASE WHEN p_strict THEN 1 ELSE 0 END;
    END IF;

    part := durable.partition_of(n, p_id);

    SELECT * INTO inst FROM durable.instances i
        WHERE i.hub = p_hub AND i.partition = part AND i.id = p_id
        FOR UPDATE;

    IF NOT FOUND THEN
        RETURN CASE WHEN p_strict THEN 1 ELSE 0 END;
    END IF;

    IF coalesce(p_created, 0) <> 0 AND inst.created <> p_created THEN
        RETURN 0;
    END IF;

    RETURN durable.deliver_locked(p_hub, part, inst, p_execution,
                                  p_message, p_now, p_strict);
END
$$;


-- a message an orchestration's completion queues to the completing
-- instance itself (50-orchestration-complete.sql), or rewind to the
-- instance it runs again (durable.rewind_push()), its record locked:
-- numbered by the record's counter, which it raises at once, as
-- durable.deliver_locked() does. deliver() may put a message there in
-- the same completion (a lock granted at once, a terminated child's
-- end), before or after, and numbers it by that counter: a seq the
-- completion kept to itself would be taken twice. The seq it took
CREATE OR REPLACE FUNCTION durable.inbox_push(p_hub text, p_part integer,
    p_id text, p_message text)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    s  bigint;
BEGIN
    UPDATE durable.instances i SET inbox_seq = i.inbox_seq + 1
        WHERE i.hub = p_hub AND i.partition = p_part AND i.id = p_id
        RETURNING i.inbox_seq INTO s;

    INSERT INTO durable.inbox (hub, partition, id, seq, message)
        VALUES (p_hub, p_part, p_id, s, p_message);

    RETURN s;
END
$$;


-- a message as workers see it (dsi_inbox_public()): a lock grant the
-- store wrote carries its set as a last member, LockSet, for the store
-- alone (durable.inbox_drop_grants()), which the claim's messages and
-- the history leave out. No quote in a JSON string is unescaped: the
-- first ,"LockSet":[ is the member's own.
CREATE OR REPLACE FUNCTION durable.message_public(p_message text)
RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_message LIKE '{"EventType":"EntityLockGranted",%]}'
                THEN regexp_replace(p_message, ',"LockSet":\[.*\]}$', '}')
                ELSE p_message END
$$;


-- a stored message's EventType (ds_inbox_type()): the store writes it
-- first, {"EventType":"X",...}, read at a glance; a message it did not
-- write (an event carried over, a record imported) may order, space or
-- escape it otherwise, and is parsed. A message that is not a JSON
-- object, or whose type is not a string, has none (NULL), as on LMDB:
-- it is left alone, and a termination or a continue-as-new goes on.
CREATE OR REPLACE FUNCTION durable.event_type(p_message text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    t  text;
    j  json;
BEGIN
    t := substring(p_message FROM '^\{"EventType":"(\w+)"');

    IF t IS NOT NULL THEN
        RETURN t;
    END IF;

    BEGIN
        j := p_message::json;

        IF json_typeof(j) = 'object'
           AND json_typeof(j -> 'EventType') = 'string'
        THEN
            t := j ->> 'EventType';
        END IF;
    EXCEPTION
        -- not JSON, a \u0000 in the type, nested past the stack's depth
        WHEN invalid_text_representation OR untranslatable_character
             OR statement_too_complex
        THEN
            RETURN NULL;
    END;

    RETURN t;
END
$$;


-- dsi_inbox_drop_answers(): deletes the answers to an execution that
-- ended (an activity's or a child's result, a fired timer; with
-- p_entities, an entity's answer to a call) from an instance's inbox,
-- from p_from on. A continue-as-new drops them all, as the new execution
-- numbers tasks and timers from 0 again and would take them for its own;
-- a rewind drops what it schedules again, and keeps entities' answers
-- (it sends no call again). Events raised stay; so do lock grants here
-- (durable.inbox_drop_grants() takes those of an ended execution).
CREATE OR REPLACE FUNCTION durable.inbox_drop_answers(p_hub text,
    p_part integer, p_id text, p_from bigint, p_entities boolean)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM durable.inbox x
        WHERE x.hub = p_hub AND x.partition = p_part AND x.id = p_id
          AND x.seq >= p_from
          AND durable.event_type(x.message)
              IN ('TaskCompleted', 'TaskFailed', 'TimerFired',
                  'SubOrchestrationInstanceCompleted',
                  'SubOrchestrationInstanceFailed',
                  CASE WHEN p_entities THEN 'EntityOperationCompleted' END,
                  CASE WHEN p_entities THEN 'EntityOperationFailed' END);
END
$$;


-- durable.deliver() past its look-up, for a caller that holds the
-- record: p_inst, read FOR UPDATE, in partition p_part, unchanged since
CREATE OR REPLACE FUNCTION durable.deliver_locked(p_hub text,
    p_part integer, p_inst durable.instances, p_execution bigint,
    p_message text, p_now bigint, p_strict boolean)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    s  bigint;
BEGIN
    IF durable.terminal(p_inst.status) THEN
        RETURN CASE WHEN p_strict THEN 3 ELSE 0 END;
    END IF;

    IF p_execution <> 0 AND p_inst.execution <> p_execution THEN
        RETURN 0;
    END IF;

    -- numbered by the row's counter, not p_inst's: a copy gone stale
    -- (a message pushed to the record since) cannot take a used seq
    UPDATE durable.instances i
        SET inbox_seq = i.inbox_seq + 1,
            ready_at = durable.ready_mark(p_inst.status, p_inst.lease,
                                          p_inst.lease_expires,
                                          p_inst.ready_at, p_now)
        WHERE i.hub = p_hub AND i.partition = p_part AND i.id = p_inst.id
        RETURNING i.inbox_seq INTO s;

    INSERT INTO durable.inbox (hub, partition, id, seq, message)
        VALUES (p_hub, p_part, p_inst.id, s, p_message);

    RETURN 0;
END
$$;
