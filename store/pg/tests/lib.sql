-- Helpers of the SQL tests (run.sh loads this file before each test).
-- A test is a psql script: a check that fails raises an error, and psql
-- (ON_ERROR_STOP) exits non-zero.

\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;

CREATE SCHEMA durable_test;

-- got must equal want (NULLs equal); what names the check
CREATE FUNCTION durable_test.eq(got anyelement, want anyelement, what text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF got IS DISTINCT FROM want THEN
        RAISE EXCEPTION 'FAILED: %: got %, want %', what, got, want;
    END IF;
END
$$;

CREATE FUNCTION durable_test.ok(cond boolean, what text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF cond IS NOT TRUE THEN
        RAISE EXCEPTION 'FAILED: %', what;
    END IF;
END
$$;

-- a lease token made of one byte repeated
CREATE FUNCTION durable_test.lease(b integer) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT decode(repeat(lpad(to_hex(b), 2, '0'), 16), 'hex')
$$;

-- the partition of an instance, as stored
CREATE FUNCTION durable_test.part(p_hub text, p_id text) RETURNS integer
LANGUAGE sql AS $$
    SELECT durable.partition_of(durable.hub_partitions(p_hub, false), p_id)
$$;


-- An event as "<EventType> {<members>}", its envelope's Timestamp (and
-- EventId, if the envelope has one) left out: t_pg_ops.c holds the
-- envelope's bytes to the LMDB store's; these tests check the rest.
CREATE FUNCTION durable_test.ev(event text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT m[1] || ' {' || ltrim(m[3], ',')
    FROM regexp_match(event, '^\{"EventType":"([^"]*)","Timestamp":"[^"]*"'
                             '(,"EventId":-?[0-9]+)?(.*)$') m
$$;

-- the Timestamp of an event's envelope
CREATE FUNCTION durable_test.ts(event text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT (regexp_match(event, '^\{"EventType":"[^"]*","Timestamp":"([^"]*)"'))[1]
$$;


-- The counts (schema/003-counts.sql), each "hub class code n", joined by
-- commas in key order: recount() as the rows make them, counted() as
-- the sums of durable.counts, stats() as durable.stats() answers them.
-- A test holds the triggers' figures to the rows' by comparing them.
CREATE FUNCTION durable_test.recount() RETURNS text
LANGUAGE sql AS $$
    SELECT coalesce(string_agg(concat_ws(' ', hub, class, code, n), ','
                               ORDER BY hub, class, code), '')
    FROM (SELECT i.hub, 0 AS class, i.status AS code, count(*) AS n
          FROM durable.instances i GROUP BY i.hub, i.status
          UNION ALL
          SELECT i.hub, 1, 0, count(*) FROM durable.instances i
          WHERE i.ready_at > 0 GROUP BY i.hub
          UNION ALL
          SELECT a.hub, 1, 1, count(*) FROM durable.activities a
          WHERE a.ready_at > 0 GROUP BY a.hub
          UNION ALL
          SELECT e.hub, 1, 2, count(*) FROM durable.entities e
          WHERE e.ready_at > 0 GROUP BY e.hub
          UNION ALL
          SELECT t.hub, 2, 0, count(*) FROM durable.timers t
          GROUP BY t.hub) r
$$;

CREATE FUNCTION durable_test.counted() RETURNS text
LANGUAGE sql AS $$
    SELECT coalesce(string_agg(concat_ws(' ', hub, class, code, n), ','
                               ORDER BY hub, class, code), '')
    FROM (SELECT c.hub, c.class, c.code, sum(c.n) AS n
          FROM durable.counts c
          GROUP BY c.hub, c.class, c.code
          HAVING sum(c.n) <> 0) r
$$;

CREATE FUNCTION durable_test.stats() RETURNS text
LANGUAGE sql AS $$
    SELECT coalesce(string_agg(concat_ws(' ', s.hub, s.class, s.code, s.n),
                               ',' ORDER BY s.hub, s.class, s.code), '')
    FROM durable.stats() s WHERE s.hub IS NOT NULL
$$;

-- calls of a function of schema durable in this transaction so far
-- (with track_functions set to 'pl' or 'all')
CREATE FUNCTION durable_test.calls(p_name text) RETURNS bigint
LANGUAGE sql AS $$
    SELECT coalesce(sum(f.calls), 0)::bigint
    FROM pg_stat_xact_user_functions f
    WHERE f.schemaname = 'durable' AND f.funcname = p_name
$$;


-- Other sessions, for the tests of what two transactions do at once:
-- dblink connections, named, to this test's database (run.sh passes
-- its conninfo). A test that uses them creates the dblink extension;
-- these functions are plpgsql, so they name dblink's only when called.
SELECT set_config('durable_test.conninfo', :'conninfo', false) \g /dev/null

-- connects the sessions p_names; each waits for a lock a minute at
-- most, so that a wait that would never end fails the test instead
CREATE FUNCTION durable_test.sessions(p_names text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    s  text;
BEGIN
    FOREACH s IN ARRAY p_names LOOP
        PERFORM dblink_connect(s, current_setting('durable_test.conninfo'));
        PERFORM dblink_exec(s, 'SET lock_timeout = ''60s''');
        -- its backend, for settle()
        PERFORM set_config('durable_test.pid_' || s, r.p::text, false)
            FROM dblink(s, 'SELECT pg_backend_pid()') AS r(p integer);
    END LOOP;
END
$$;

CREATE FUNCTION durable_test.disconnect(p_names text[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dblink_disconnect(s) FROM unnest(p_names) s;
END
$$;

-- sends p_query on the session p_conn and waits (a minute at most)
-- until it has its answer or waits for a lock; true when it waits
CREATE FUNCTION durable_test.send(p_conn text, p_query text)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    pid  integer;
BEGIN
    pid := current_setting('durable_test.pid_' || p_conn)::integer;
    PERFORM dblink_send_query(p_conn, p_query);

    FOR i IN 1 .. 6000 LOOP
        IF dblink_is_busy(p_conn) = 0 THEN
            RETURN false;
        END IF;

        IF cardinality(pg_blocking_pids(pid)) > 0 THEN
            RETURN true;
        END IF;

        PERFORM pg_sleep(0.01);
    END LOOP;

    RAISE EXCEPTION 'FAILED: % neither answers nor waits', p_conn;
END
$$;

-- the answer (one integer) of the query sent on p_conn, and the
-- session's error ('OK' when none)
CREATE FUNCTION durable_test.answer(p_conn text, OUT n integer,
    OUT error text)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT r.n INTO n FROM dblink_get_result(p_conn, false) AS r(n integer);
    error := dblink_error_message(p_conn);

    -- the empty result that ends the query
    PERFORM * FROM dblink_get_result(p_conn, false) AS r(n integer);
END
$$;

-- claims the one ready orchestration of hub 'hub' named p_name, with
-- lease p_lease: how many were claimed (0 or 1)
CREATE FUNCTION durable_test.claim_named(p_name text, p_lease integer)
RETURNS bigint
LANGUAGE sql AS $$
    SELECT count(*) FROM durable.claim_orchestrations('hub', 60000000,
        ARRAY[durable_test.lease(p_lease)], ARRAY[p_name]) c
    WHERE c.id IS NOT NULL
$$;


-- Entity locks (075, 077, 079, 081, 082): a completion of an instance
-- under its lease, a lock request's members, an entity's owner and the
-- grants waiting in an inbox

-- a completion of p_id under its lease: one action per element, ids
-- from 0 (kinds and members as 50-orchestration-complete.sql says)
CREATE FUNCTION durable_test.done(p_id text, p_kinds smallint[],
    p_a text[], p_c text[], p_d text[], p_etypes text[], p_emembers text[])
RETURNS TABLE (rc integer, status smallint)
LANGUAGE sql AS $$
    SELECT c.rc, c.status
    FROM durable.complete_orchestration('hub', p_id,
        (SELECT i.lease FROM durable.instances i
         WHERE i.hub = 'hub' AND i.id = p_id), 1, false, -1,
        p_kinds,
        ARRAY(SELECT generate_series(0, cardinality(p_kinds) - 1))::bigint[],
        array_fill(NULL::bigint, ARRAY[cardinality(p_kinds)]),
        p_etypes, p_emembers, p_a,
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]),
        p_c, p_d,
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]),
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]),
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]),
        ARRAY[]::text[]) c
$$;

-- a lock request's members, and its history event's
CREATE FUNCTION durable_test.lock_d(p_cs text, p_eid text, p_by text)
RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT '"lock":"' || p_cs || '","lockSet":["' || p_eid
           || '"],"position":0,"parentInstanceId":"' || p_by || '"'
$$;

CREATE FUNCTION durable_test.lock_ev(p_cs text, p_eid text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT '"CriticalSectionId":"' || p_cs || '","LockSet":["' || p_eid
           || '"],"Position":0'
$$;

CREATE FUNCTION durable_test.owner(p_eid text) RETURNS text
LANGUAGE sql AS $$
    SELECT e.owner FROM durable.entities e
    WHERE e.hub = 'hub' AND e.id = p_eid
$$;

CREATE FUNCTION durable_test.grants(p_id text) RETURNS bigint
LANGUAGE sql AS $$
    SELECT count(*) FROM durable.inbox m
    WHERE m.hub = 'hub' AND m.id = p_id
      AND m.message LIKE '%EntityLockGranted%'
$$;


-- A parent purged and started again, and its children (080, 083): an
-- episode under a lease, its children's starts, a status, a created time

-- an episode of actions with ids p_ids: their kinds, their history
-- events (types and members, NULL for none) and their members a to d
CREATE FUNCTION durable_test.life_episode(p_id text, p_lease bytea,
    p_kinds smallint[], p_ids bigint[], p_etypes text[], p_emembers text[],
    p_a text[], p_b text[], p_c text[], p_d text[],
    OUT rc integer, OUT status smallint)
LANGUAGE sql AS $$
    SELECT c.rc, c.status
    FROM durable.complete_orchestration('hub', p_id, p_lease, 1,
        false, -1, p_kinds, p_ids,
        array_fill(NULL::bigint, ARRAY[cardinality(p_kinds)]),
        p_etypes, p_emembers, p_a, p_b, p_c, p_d,
        ARRAY(SELECT '"TaskScheduledId":' || i
                     || ',"Reason":"active","Details":null'
              FROM unnest(p_ids) i),
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]),
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]),
        ARRAY[]::text[]) c
$$;

-- p_id, claimed by its name (each orchestration is named as its id is)
-- under lease p_lease, starts the children p_kids with task ids p_ids
CREATE FUNCTION durable_test.life_starts(p_id text, p_lease integer,
    p_ids bigint[], p_kids text[])
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r  record;
BEGIN
    PERFORM durable_test.eq(durable_test.claim_named(p_id, p_lease),
                            1::bigint, p_id || ' claimed');

    r := durable_test.life_episode(p_id, durable_test.lease(p_lease),
        array_fill(2::smallint, ARRAY[cardinality(p_kids)]), p_ids,
        array_fill('SubOrchestrationInstanceCreated'::text,
                   ARRAY[cardinality(p_kids)]),
        ARRAY(SELECT '"Name":"' || k || '","InstanceId":"' || k
                     || '","Input":null' FROM unnest(p_kids) k),
        p_kids, p_kids,
        array_fill('null'::text, ARRAY[cardinality(p_kids)]),
        ARRAY(SELECT '"Name":"' || k || '","Input":null'
              FROM unnest(p_kids) k));

    PERFORM durable_test.eq(r.rc, 0, p_id || ' started its children');
END
$$;

CREATE FUNCTION durable_test.life_start(p_id text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM durable_test.eq((durable.start('hub', p_id, p_id, NULL,
                             '"Name":"' || p_id || '","Input":null')).rc,
                            0, p_id || ' started');
END
$$;

-- an instance's status, 'none' when there is no such row
CREATE FUNCTION durable_test.life_status(p_id text) RETURNS text
LANGUAGE sql AS $$
    SELECT coalesce((SELECT i.status::text FROM durable.instances i
                     WHERE i.hub = 'hub' AND i.id = p_id), 'none')
$$;

CREATE FUNCTION durable_test.life_created(p_id text) RETURNS bigint
LANGUAGE sql AS $$
    SELECT i.created FROM durable.instances i
    WHERE i.hub = 'hub' AND i.id = p_id
$$;
