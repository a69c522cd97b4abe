-- ngx_durable PostgreSQL schema, version 6: inserts and deletes counted
-- once per statement, updates only when they change a count.
--
-- Version 3's triggers ran for each row: every row a statement wrote
-- added to the session's counts row, and inside one transaction each of
-- those updates walks the versions of that row made before it, so a
-- statement writing n rows took time in n squared (a million-row INSERT
-- ran for minutes, an import or a purge batch paid it too). Inserts and
-- deletes are now counted once per statement, over its transition
-- tables (the rows it inserted, the rows it deleted): each (hub, class,
-- code) the statement changes gets its net change added once, through
-- durable.count_add() (00-common.sql: an UPDATE, an INSERT only when
-- the session has no row yet).
--
-- Updates stay counted for each row, but only for a row whose status or
-- readiness changed: the trigger's WHEN clause is evaluated without
-- calling plpgsql, so the many updates that change no count (claims,
-- renewals, new messages to a ready instance) cost nothing. A statement
-- trigger on UPDATE would copy every updated row, input, output and all,
-- into its transition tables, for nothing most of the time; the price
-- is that a bulk UPDATE moving n rows between counts pays per row, as
-- version 3 did. The counts mean what they meant (003-counts.sql), so
-- the rows stay as they are.
--
-- PostgreSQL allows transition tables only on a trigger of one event
-- and without a column list, hence one trigger a table for inserts and
-- one for deletes.
--
-- DROP TRIGGER locks its table in ACCESS EXCLUSIVE mode until the
-- commit: no read or write of it goes on meanwhile. The four tables are
-- locked first, by one statement, so that every wait for a transaction
-- using one of them comes before anything changes and the locks are
-- then held only for the swap. durable schema upgrade bounds each wait
-- with its lock_timeout; past it, or when the wait deadlocks with a
-- transaction taking the tables in another order, it rolls back and
-- says the database is busy. While it waits, the tables it holds
-- already, and the one it waits for, block even reads.

LOCK TABLE durable.instances, durable.activities, durable.entities,
    durable.timers IN ACCESS EXCLUSIVE MODE;

DROP TRIGGER instances_count ON durable.instances;
DROP TRIGGER activities_count ON durable.activities;
DROP TRIGGER entities_count ON durable.entities;
DROP TRIGGER timers_count ON durable.timers;

DROP FUNCTION durable.count_instances();
DROP FUNCTION durable.count_ready();
DROP FUNCTION durable.count_timers();


-- instances inserted or deleted: class 0 by status, class 1 code 0 when
-- ready. A PERFORM over the grouped rows, not a FOR loop: a loop's
-- cursor cost a single-row statement a third more than the row trigger
-- did
CREATE FUNCTION durable.count_instances() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM durable.count_add(d.hub, d.class, d.code, d.n)
        FROM (SELECT r.hub, k.class, k.code, count(*) AS n
              FROM new_rows r,
                   LATERAL (VALUES (0::smallint, r.status, true),
                                   (1::smallint, 0::smallint,
                                    r.ready_at > 0)) k(class, code, on_)
              WHERE k.on_
              GROUP BY r.hub, k.class, k.code) d;

    ELSE
        PERFORM durable.count_add(d.hub, d.class, d.code, -d.n)
        FROM (SELECT r.hub, k.class, k.code, count(*) AS n
              FROM old_rows r,
                   LATERAL (VALUES (0::smallint, r.status, true),
                                   (1::smallint, 0::smallint,
                                    r.ready_at > 0)) k(class, code, on_)
              WHERE k.on_
              GROUP BY r.hub, k.class, k.code) d;
    END IF;

    RETURN NULL;
END
$$;


-- an instance updated: called only for a row whose status or readiness
-- changed (the trigger's WHEN); the hub is part of the key
CREATE FUNCTION durable.count_instance_moves() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> NEW.status THEN
        PERFORM durable.count_add(OLD.hub, 0::smallint, OLD.status, -1);
        PERFORM durable.count_add(NEW.hub, 0::smallint, NEW.status, 1);
    END IF;

    IF (OLD.ready_at > 0) <> (NEW.ready_at > 0) THEN
        PERFORM durable.count_add(NEW.hub, 1::smallint, 0::smallint,
            CASE WHEN NEW.ready_at > 0 THEN 1 ELSE -1 END);
    END IF;

    RETURN NULL;
END
$$;


-- activities (TG_ARGV[0] '1') and entities ('2') inserted or deleted:
-- class 1 when ready
CREATE FUNCTION durable.count_ready() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    kind  smallint;
BEGIN
    kind := TG_ARGV[0]::smallint;

    IF TG_OP = 'INSERT' THEN
        PERFORM durable.count_add(d.hub, 1::smallint, kind, d.n)
        FROM (SELECT r.hub, count(*) AS n FROM new_rows r
              WHERE r.ready_at > 0
              GROUP BY r.hub) d;

    ELSE
        PERFORM durable.count_add(d.hub, 1::smallint, kind, -d.n)
        FROM (SELECT r.hub, count(*) AS n FROM old_rows r
              WHERE r.ready_at > 0
              GROUP BY r.hub) d;
    END IF;

    RETURN NULL;
END
$$;


-- an activity or entity updated into or out of its ready index (WHEN)
CREATE FUNCTION durable.count_ready_moves() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM durable.count_add(NEW.hub, 1::smallint, TG_ARGV[0]::smallint,
        CASE WHEN NEW.ready_at > 0 THEN 1 ELSE -1 END);

    RETURN NULL;
END
$$;


-- timers: class 2, inserted and deleted, never updated
CREATE FUNCTION durable.count_timers() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM durable.count_add(d.hub, 2::smallint, 0::smallint, d.n)
        FROM (SELECT r.hub, count(*) AS n FROM new_rows r
              GROUP BY r.hub) d;

    ELSE
        PERFORM durable.count_add(d.hub, 2::smallint, 0::smallint, -d.n)
        FROM (SELECT r.hub, count(*) AS n FROM old_rows r
              GROUP BY r.hub) d;
    END IF;

    RETURN NULL;
END
$$;


CREATE TRIGGER instances_count_insert
    AFTER INSERT ON durable.instances
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_instances();

CREATE TRIGGER instances_count_update
    AFTER UPDATE OF status, ready_at ON durable.instances
    FOR EACH ROW
    WHEN (OLD.status <> NEW.status
          OR (OLD.ready_at > 0) <> (NEW.ready_at > 0))
    EXECUTE FUNCTION durable.count_instance_moves();

CREATE TRIGGER instances_count_delete
    AFTER DELETE ON durable.instances
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_instances();

CREATE TRIGGER activities_count_insert
    AFTER INSERT ON durable.activities
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_ready('1');

CREATE TRIGGER activities_count_update
    AFTER UPDATE OF ready_at ON durable.activities
    FOR EACH ROW
    WHEN ((OLD.ready_at > 0) <> (NEW.ready_at > 0))
    EXECUTE FUNCTION durable.count_ready_moves('1');

CREATE TRIGGER activities_count_delete
    AFTER DELETE ON durable.activities
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_ready('1');

CREATE TRIGGER entities_count_insert
    AFTER INSERT ON durable.entities
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_ready('2');

CREATE TRIGGER entities_count_update
    AFTER UPDATE OF ready_at ON durable.entities
    FOR EACH ROW
    WHEN ((OLD.ready_at > 0) <> (NEW.ready_at > 0))
    EXECUTE FUNCTION durable.count_ready_moves('2');

CREATE TRIGGER entities_count_delete
    AFTER DELETE ON durable.entities
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_ready('2');

CREATE TRIGGER timers_count_insert
    AFTER INSERT ON durable.timers
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_timers();

CREATE TRIGGER timers_count_delete
    AFTER DELETE ON durable.timers
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_timers();

INSERT INTO durable.schema_version (version) VALUES (6);
