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
