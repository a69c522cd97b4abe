-- ngx_durable PostgreSQL schema: terminate, suspend and resume saying
-- whether they changed the status, as the LMDB store's
-- out.control.changed does, so that nginx logs a lifecycle line only
-- for a change (not for a suspend of a suspended instance). Conventions:
-- 00-common.sql.
-- By hand, run it only with `psql -1 -v ON_ERROR_STOP=1 -f` (as `durable
-- schema` does): a plain `psql -f` goes on past an error (docs/postgres.md).


-- p_type: 0 terminate, 1 suspend, 2 resume. The instance is locked
-- before the operation, so the status it had is the one it changed from.
CREATE OR REPLACE FUNCTION durable.control(p_type integer, p_hub text,
    p_id text, p_reason text, OUT rc integer, OUT changed boolean,
    OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    n       integer;
    part    integer;
    before  smallint;
    after   smallint;
    r       record;
BEGIN
    changed := false;

    IF durable.valid_key(p_hub, p_id) THEN
        n := durable.hub_partitions(p_hub, false);
    END IF;

    IF n IS NOT NULL THEN
        part := durable.partition_of(n, p_id);

        SELECT i.status INTO before FROM durable.instances i
            WHERE i.hub = p_hub AND i.partition = part AND i.id = p_id
            FOR UPDATE;
    END IF;

    IF p_type = 0 THEN
        r := durable.terminate(p_hub, p_id, p_reason);
    ELSIF p_type = 1 THEN
        r := durable.suspend(p_hub, p_id, p_reason);
    ELSE
        r := durable.resume(p_hub, p_id, p_reason);
    END IF;

    rc := r.rc;
    error := r.error;

    IF rc = 0 AND before IS NOT NULL THEN
        SELECT i.status INTO after FROM durable.instances i
            WHERE i.hub = p_hub AND i.partition = part AND i.id = p_id;

        changed := after IS DISTINCT FROM before;
    END IF;
END
$$;
