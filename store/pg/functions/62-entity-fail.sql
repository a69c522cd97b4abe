-- ngx_durable PostgreSQL schema: an entity batch that failed as a whole,
-- and the orchestrations an entity's batch starts. Conventions:
-- 00-common.sql; the LMDB store's rules are store/ds_entity.c's
-- (ds_work_fail_entity(), ds_entity_actions()).
-- By hand, run it only with `psql -1 -v ON_ERROR_STOP=1 -f` (as `durable
-- schema` does): a plain `psql -f` goes on past an error (docs/postgres.md).


-- ds_work_fail_entity(), fenced by p_lease as a completion is; p_digest
-- is C's digest of the failure (dsi_entity_digest()). The worker could
-- not run the batch: the state stays as it was, each call among the
-- operations the lease delivered is answered EntityOperationFailed with
-- p_members ("Reason":..,"Details":..), and the rest is a completion's
-- (the operations leave the queue, the lease goes, requests at the front
-- are applied). 1 NOTFOUND, 2 CONFLICT, 7 MISMATCH; a retry answers 0
-- again and writes nothing.
CREATE OR REPLACE FUNCTION durable.fail_entity(p_hub text, p_eid text,
    p_lease bytea, p_digest bigint, p_members text,
    OUT rc integer, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    n        integer;
    part     integer;
    results  text[];
    c        record;
    e        durable.entities;
BEGIN
    IF NOT durable.valid_key(p_hub, p_eid) OR left(p_eid, 1) <> '@'
       OR p_members IS NULL
    THEN
        rc := 6;
        RETURN;
    END IF;

    BEGIN
        rc := 1;
        n := durable.hub_partitions(p_hub, false);

        IF n IS NULL THEN
            RETURN;
        END IF;

        -- locked here, so that what is read is what the completion sees
        part := durable.partition_of(n, p_eid);
        e := durable.entity_lock(p_hub, part, p_eid, false);

        IF e.id IS NULL THEN
            RETURN;
        END IF;

        -- one failure a delivered operation; none when the fence refuses
        results := '{}';

        IF e.lease = p_lease THEN
            results := ARRAY(SELECT ARRAY['EntityOperationFailed',
                                          p_members]
                             FROM durable.entity_runnable(p_hub, part,
                                      p_eid, e.owner, e.lease_upto) r
                             ORDER BY r.seq);
        END IF;

        c := durable.complete_entity(p_hub, p_eid, p_lease, p_digest,
            NOT e.has_state, e.state, results, '{}');
        rc := c.rc;
        error := c.error;

    EXCEPTION
        WHEN disk_full THEN
            rc := 5;
            error := SQLERRM;
        WHEN others THEN
            IF durable.transient(SQLSTATE) THEN
                RAISE;
            END IF;
            rc := 8;
            error := SQLERRM;
    END;
END
$$;


-- ds_entity_actions()' start of an orchestration, within the entity's
-- completion and on its clock p_now: no parent, p_members the
-- ExecutionStarted's "Name":..,"Input":..[,"Version":..][,"Tags":..]
-- (C's), p_version and p_tags NULL for none, p_scheduled the time it is
-- for (0, or a time not after p_now: at once). An active instance of the
-- id stays as it is and the start is dropped. Returns 0; an id no key can
-- hold raises, for the caller's savepoint.
CREATE OR REPLACE FUNCTION durable.entity_start(p_hub text, p_id text,
    p_name text, p_input text, p_members text, p_version text,
    p_tags text, p_scheduled bigint, p_now bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    s  record;
BEGIN
    IF NOT durable.valid_key(p_hub, p_id) OR p_name IS NULL
       OR octet_length(p_name) > 256
       OR coalesce(octet_length(p_version), 0) > 256
    THEN
        RAISE EXCEPTION 'start of %: invalid', p_id;
    END IF;

    s := durable.start_apply(p_hub, durable.hub_partitions(p_hub, true),
        p_id, p_name, p_input, p_version, p_tags, coalesce(p_scheduled, 0),
        NULL, -1, 0, p_members, p_now);

    RETURN 0;
END
$$;
