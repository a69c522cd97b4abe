-- ngx_durable PostgreSQL schema, version 7: one count function a table
-- (and the tree purge's old helper dropped, at the end).
--
-- Version 6 counted inserts and deletes by statement with a function
-- holding the same query twice, over the inserted rows for one and over
-- the deleted rows for the other, and counted the updates that move a
-- row with a second function a table. Here each table's three triggers
-- call one function: the statement triggers name their transition
-- table alike, changed, the inserted rows or the deleted ones, so one
-- query counts both with the sign the event gives (+1 inserted, -1
-- deleted); the update trigger, still run for each row that moves only
-- (its WHEN), takes the row out of its old counts and into its new. What
-- is counted, and when, is version 6's (006-count-statements.sql), so
-- the counts' rows stay as they are.
--
-- A trigger cannot be pointed at another function or transition table
-- in place: they are dropped and made again, under the locks taken
-- first, in one statement, as version 6 did (durable schema upgrade
-- bounds the wait; docs/postgres.md, "Upgrades of a live database").

LOCK TABLE durable.instances, durable.activities, durable.entities,
    durable.timers IN ACCESS EXCLUSIVE MODE;

DROP TRIGGER instances_count_insert ON durable.instances;
DROP TRIGGER instances_count_update ON durable.instances;
DROP TRIGGER instances_count_delete ON durable.instances;
DROP TRIGGER activities_count_insert ON durable.activities;
DROP TRIGGER activities_count_update ON durable.activities;
DROP TRIGGER activities_count_delete ON durable.activities;
DROP TRIGGER entities_count_insert ON durable.entities;
DROP TRIGGER entities_count_update ON durable.entities;
DROP TRIGGER entities_count_delete ON durable.entities;
DROP TRIGGER timers_count_insert ON durable.timers;
DROP TRIGGER timers_count_delete ON durable.timers;

DROP FUNCTION durable.count_instances();
DROP FUNCTION durable.count_instance_moves();
DROP FUNCTION durable.count_ready();
DROP FUNCTION durable.count_ready_moves();
DROP FUNCTION durable.count_timers();


-- instances: class 0 by status, class 1 code 0 when ready. A statement's
-- rows by a PERFORM over their groups, not a FOR loop: a loop's cursor
-- cost a single-row statement a third more than a row trigger did
CREATE FUNCTION durable.count_instances() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    -- the statement's rows: inserted (NEW TABLE) or deleted (OLD TABLE)
    sgn  bigint := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.status <> NEW.status THEN
            PERFORM durable.count_add(OLD.hub, 0::smallint, OLD.status, -1);
            PERFORM durable.count_add(NEW.hub, 0::smallint, NEW.status, 1);
        END IF;

        IF (OLD.ready_at > 0) <> (NEW.ready_at > 0) THEN
            PERFORM durable.count_add(NEW.hub, 1::smallint, 0::smallint,
                CASE WHEN NEW.ready_at > 0 THEN 1 ELSE -1 END);
        END IF;

        RETURN NULL;
    END IF;

    PERFORM durable.count_add(d.hub, d.class, d.code, sgn * d.n)
    FROM (SELECT r.hub, k.class, k.code, count(*) AS n
          FROM changed r,
               LATERAL (VALUES (0::smallint, r.status, true),
                               (1::smallint, 0::smallint,
                                r.ready_at > 0)) k(class, code, on_)
          WHERE k.on_
          GROUP BY r.hub, k.class, k.code) d;

    RETURN NULL;
END
$$;


-- activities (TG_ARGV[0] '1') and entities ('2'): class 1 when ready
CREATE FUNCTION durable.count_ready() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    sgn  bigint := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM durable.count_add(NEW.hub, 1::smallint,
            TG_ARGV[0]::smallint,
            CASE WHEN NEW.ready_at > 0 THEN 1 ELSE -1 END);

        RETURN NULL;
    END IF;

    PERFORM durable.count_add(d.hub, 1::smallint, TG_ARGV[0]::smallint,
                              sgn * d.n)
    FROM (SELECT r.hub, count(*) AS n FROM changed r
          WHERE r.ready_at > 0
          GROUP BY r.hub) d;

    RETURN NULL;
END
$$;


-- timers: class 2, inserted and deleted, never updated
CREATE FUNCTION durable.count_timers() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    sgn  bigint := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
BEGIN
    PERFORM durable.count_add(d.hub, 2::smallint, 0::smallint, sgn * d.n)
    FROM (SELECT r.hub, count(*) AS n FROM changed r GROUP BY r.hub) d;

    RETURN NULL;
END
$$;


CREATE TRIGGER instances_count_insert
    AFTER INSERT ON durable.instances
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_instances();

CREATE TRIGGER instances_count_update
    AFTER UPDATE OF status, ready_at ON durable.instances
    FOR EACH ROW
    WHEN (OLD.status <> NEW.status
          OR (OLD.ready_at > 0) <> (NEW.ready_at > 0))
    EXECUTE FUNCTION durable.count_instances();

CREATE TRIGGER instances_count_delete
    AFTER DELETE ON durable.instances
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_instances();

CREATE TRIGGER activities_count_insert
    AFTER INSERT ON durable.activities
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_ready('1');

CREATE TRIGGER activities_count_update
    AFTER UPDATE OF ready_at ON durable.activities
    FOR EACH ROW
    WHEN ((OLD.ready_at > 0) <> (NEW.ready_at > 0))
    EXECUTE FUNCTION durable.count_ready('1');

CREATE TRIGGER activities_count_delete
    AFTER DELETE ON durable.activities
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_ready('1');

CREATE TRIGGER entities_count_insert
    AFTER INSERT ON durable.entities
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_ready('2');

CREATE TRIGGER entities_count_update
    AFTER UPDATE OF ready_at ON durable.entities
    FOR EACH ROW
    WHEN ((OLD.ready_at > 0) <> (NEW.ready_at > 0))
    EXECUTE FUNCTION durable.count_ready('2');

CREATE TRIGGER entities_count_delete
    AFTER DELETE ON durable.entities
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_ready('2');

CREATE TRIGGER timers_count_insert
    AFTER INSERT ON durable.timers
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_timers();

CREATE TRIGGER timers_count_delete
    AFTER DELETE ON durable.timers
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_timers();

-- a tree purge gathers its instances (durable.purge_gather()) and
-- deletes them at once: the helper that purged them one by one goes
DROP FUNCTION IF EXISTS durable.purge_subtree(text, text, integer);

INSERT INTO durable.schema_version (version) VALUES (7);
