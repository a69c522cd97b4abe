-- ngx_durable PostgreSQL schema, version 6: the counts kept once per
-- statement.
--
-- Version 3's triggers ran for each row: every row a statement wrote
-- added to the session's counts row, and inside one transaction each of
-- those updates walks the versions of that row made before it, so a
-- statement writing n rows took time in n squared (a million-row INSERT
-- ran for minutes, an import or a purge batch paid it too). These run
-- once per statement instead, over its transition tables: the rows it
-- inserted, the old and new versions of those it updated, the rows it
-- deleted. Each (hub, class, code) the statement changes gets its net
-- change added once, through durable.count_add() (00-common.sql: an
-- UPDATE, an INSERT only when the session has no row yet). The counts
-- mean what they meant (003-counts.sql), so the rows stay as they are.
--
-- PostgreSQL allows transition tables only on a trigger of one event
-- and without a column list, so there are three triggers a table (two
-- for timers, which are never updated), and an UPDATE that changes
-- neither status nor ready_at runs its trigger too, to add nothing.

DROP TRIGGER instances_count ON durable.instances;
DROP TRIGGER activities_count ON durable.activities;
DROP TRIGGER entities_count ON durable.entities;
DROP TRIGGER timers_count ON durable.timers;

DROP FUNCTION durable.count_instances();
DROP FUNCTION durable.count_ready();
DROP FUNCTION durable.count_timers();


-- instances: class 0 by status, class 1 code 0 when ready. An old
-- version counts -1 and a new one +1: an update that keeps a row's
-- status and readiness nets 0 and adds nothing. A PERFORM over the
-- grouped rows, not a FOR loop: a loop's cursor cost a single-row
-- statement a third more than the row trigger did
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

    ELSIF TG_OP = 'DELETE' THEN
        PERFORM durable.count_add(d.hub, d.class, d.code, -d.n)
        FROM (SELECT r.hub, k.class, k.code, count(*) AS n
              FROM old_rows r,
                   LATERAL (VALUES (0::smallint, r.status, true),
                                   (1::smallint, 0::smallint,
                                    r.ready_at > 0)) k(class, code, on_)
              WHERE k.on_
              GROUP BY r.hub, k.class, k.code) d;

    ELSE
        PERFORM durable.count_add(d.hub, d.class, d.code, d.n)
        FROM (SELECT r.hub, k.class, k.code, sum(r.sign) AS n
              FROM (SELECT o.hub, o.status, o.ready_at, -1 AS sign
                    FROM old_rows o
                    UNION ALL
                    SELECT w.hub, w.status, w.ready_at, 1
                    FROM new_rows w) r,
                   LATERAL (VALUES (0::smallint, r.status, true),
                                   (1::smallint, 0::smallint,
                                    r.ready_at > 0)) k(class, code, on_)
              WHERE k.on_
              GROUP BY r.hub, k.class, k.code
              HAVING sum(r.sign) <> 0) d;
    END IF;

    RETURN NULL;
END
$$;


-- activities (TG_ARGV[0] '1') and entities ('2'): class 1 when ready
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

    ELSIF TG_OP = 'DELETE' THEN
        PERFORM durable.count_add(d.hub, 1::smallint, kind, -d.n)
        FROM (SELECT r.hub, count(*) AS n FROM old_rows r
              WHERE r.ready_at > 0
              GROUP BY r.hub) d;

    ELSE
        PERFORM durable.count_add(d.hub, 1::smallint, kind, d.n)
        FROM (SELECT r.hub, sum(r.sign) AS n
              FROM (SELECT o.hub, -1 AS sign FROM old_rows o
                    WHERE o.ready_at > 0
                    UNION ALL
                    SELECT w.hub, 1 FROM new_rows w
                    WHERE w.ready_at > 0) r
              GROUP BY r.hub
              HAVING sum(r.sign) <> 0) d;
    END IF;

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
    AFTER UPDATE ON durable.instances
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_instances();

CREATE TRIGGER instances_count_delete
    AFTER DELETE ON durable.instances
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_instances();

CREATE TRIGGER activities_count_insert
    AFTER INSERT ON durable.activities
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_ready('1');

CREATE TRIGGER activities_count_update
    AFTER UPDATE ON durable.activities
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_ready('1');

CREATE TRIGGER activities_count_delete
    AFTER DELETE ON durable.activities
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_ready('1');

CREATE TRIGGER entities_count_insert
    AFTER INSERT ON durable.entities
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_ready('2');

CREATE TRIGGER entities_count_update
    AFTER UPDATE ON durable.entities
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION durable.count_ready('2');

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
