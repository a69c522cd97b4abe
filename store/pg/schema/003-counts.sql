-- ngx_durable PostgreSQL schema, version 3: counts for monitoring.
--
-- How many instances each hub has per runtime status, how many entries
-- each work kind has in its ready index (the queue depths) and how many
-- timers wait: the figures of the metrics page (DS_OP_STATS), kept by
-- triggers in the transaction that changes the rows, so that reading
-- them never scans the tables. docs/postgres.md, "Counts".
--
-- A single row per count would be a lock every start and completion
-- waits for, and two batches changing two counts in opposite orders
-- would deadlock. So each session adds to rows of its own (slot: its
-- backend's pid), which no other session writes while it lives; a count
-- is the sum of its slots. durable.stats() folds the slots of sessions
-- that are gone into slot 0, which only it writes.
--
--   class 0: instances, code = status (ds_status_e)
--   class 1: ready entries, code = kind (0 orchestration, 1 activity,
--            2 entity)
--   class 2: timers, code 0

CREATE TABLE durable.counts (
    hub                 text COLLATE "C" NOT NULL,
    class               smallint NOT NULL,
    code                smallint NOT NULL,
    slot                integer NOT NULL,
    n                   bigint NOT NULL,
    PRIMARY KEY (hub, class, code, slot)
);


-- adds delta to this session's slot of a count
CREATE FUNCTION durable.count_add(p_hub text, p_class smallint,
    p_code smallint, p_delta bigint)
RETURNS void
LANGUAGE sql AS $$
    INSERT INTO durable.counts AS c (hub, class, code, slot, n)
        VALUES (p_hub, p_class, p_code, pg_backend_pid(), p_delta)
        ON CONFLICT (hub, class, code, slot)
        DO UPDATE SET n = c.n + excluded.n
$$;


-- instances: their status, and whether they are in the ready index
CREATE FUNCTION durable.count_instances() RETURNS trigger
LANGUAGE plpgsql AS $$
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

    ELSIF TG_OP = 'INSERT' THEN
        PERFORM durable.count_add(NEW.hub, 0::smallint, NEW.status, 1);

        IF NEW.ready_at > 0 THEN
            PERFORM durable.count_add(NEW.hub, 1::smallint, 0::smallint, 1);
        END IF;

    ELSE
        PERFORM durable.count_add(OLD.hub, 0::smallint, OLD.status, -1);

        IF OLD.ready_at > 0 THEN
            PERFORM durable.count_add(OLD.hub, 1::smallint, 0::smallint,
                                      -1);
        END IF;
    END IF;

    RETURN NULL;
END
$$;


-- activities and entities: whether they are in their ready index
CREATE FUNCTION durable.count_ready() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    kind       smallint;
    was_ready  boolean;
    is_ready   boolean;
BEGIN
    kind := TG_ARGV[0]::smallint;
    was_ready := TG_OP <> 'INSERT' AND OLD.ready_at > 0;
    is_ready := TG_OP <> 'DELETE' AND NEW.ready_at > 0;

    IF was_ready <> is_ready THEN
        PERFORM durable.count_add(CASE WHEN is_ready THEN NEW.hub
                                       ELSE OLD.hub END,
                                  1::smallint, kind,
                                  CASE WHEN is_ready THEN 1 ELSE -1 END);
    END IF;

    RETURN NULL;
END
$$;


CREATE FUNCTION durable.count_timers() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM durable.count_add(NEW.hub, 2::smallint, 0::smallint, 1);
    ELSE
        PERFORM durable.count_add(OLD.hub, 2::smallint, 0::smallint, -1);
    END IF;

    RETURN NULL;
END
$$;


-- the triggers lock their tables against writers until this upgrade
-- commits, so the counts made below from the rows are exact
CREATE TRIGGER instances_count
    AFTER INSERT OR DELETE OR UPDATE OF status, ready_at
    ON durable.instances
    FOR EACH ROW EXECUTE FUNCTION durable.count_instances();

CREATE TRIGGER activities_count
    AFTER INSERT OR DELETE OR UPDATE OF ready_at ON durable.activities
    FOR EACH ROW EXECUTE FUNCTION durable.count_ready('1');

CREATE TRIGGER entities_count
    AFTER INSERT OR DELETE OR UPDATE OF ready_at ON durable.entities
    FOR EACH ROW EXECUTE FUNCTION durable.count_ready('2');

CREATE TRIGGER timers_count
    AFTER INSERT OR DELETE ON durable.timers
    FOR EACH ROW EXECUTE FUNCTION durable.count_timers();

INSERT INTO durable.counts (hub, class, code, slot, n)
    SELECT i.hub, 0, i.status, 0, count(*) FROM durable.instances i
        GROUP BY i.hub, i.status
    UNION ALL
    SELECT i.hub, 1, 0, 0, count(*) FROM durable.instances i
        WHERE i.ready_at > 0 GROUP BY i.hub
    UNION ALL
    SELECT a.hub, 1, 1, 0, count(*) FROM durable.activities a
        WHERE a.ready_at > 0 GROUP BY a.hub
    UNION ALL
    SELECT e.hub, 1, 2, 0, count(*) FROM durable.entities e
        WHERE e.ready_at > 0 GROUP BY e.hub
    UNION ALL
    SELECT t.hub, 2, 0, 0, count(*) FROM durable.timers t GROUP BY t.hub;

INSERT INTO durable.schema_version (version) VALUES (3);
