-- ngx_durable PostgreSQL schema: one instance's operations (start,
-- status, events, terminate, suspend, resume, purge). Conventions:
-- 00-common.sql.
-- By hand, run it only with `psql -1 -v ON_ERROR_STOP=1 -f` (as `durable
-- schema` does): a plain `psql -f` goes on past an error (docs/postgres.md).


-- ds_op_start(): a new instance, Pending, with an ExecutionStarted
-- message, or a new execution of a terminal one; 2 CONFLICT with the
-- status of an active one. members: "Name":..,"Input":.. of the message.
-- durable.start_opts() (50-orchestration-complete.sql) does the work.
CREATE OR REPLACE FUNCTION durable.start(p_hub text, p_id text, p_name text,
    p_input text, p_members text,
    OUT rc integer, OUT status smallint, OUT error text)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT s.rc, s.status, s.error INTO rc, status, error
        FROM durable.start_opts(p_hub, p_id, p_name, p_input, p_members,
                                NULL, NULL, 0, 0) s;
END
$$;


-- Starts of one hub that a batch holds one after the other, without a
-- scheduled time or a reuse policy: one row per start, in order, as
-- durable.start() would answer each. The new ids are inserted with one
-- statement a table, so the count triggers, the plpgsql call and the
-- savepoint are paid once for them all; a start whose id exists, or
-- appears earlier in the arrays, or that is invalid, then runs
-- durable.start_opts() in order, as it would alone. Should the shared
-- inserts fail, every start runs alone.
CREATE OR REPLACE FUNCTION durable.start_batch(p_hub text, p_ids text[],
    p_names text[], p_inputs text[], p_members text[], p_versions text[],
    p_tags text[])
RETURNS TABLE (rc integer, status smallint, error text)
LANGUAGE plpgsql AS $$
DECLARE
    n     integer;
    now   bigint;
    i     integer;
    got   integer[];
    s     record;
BEGIN
    got := '{}';

    BEGIN
        -- a hub is made by a start that is valid (as durable.start_opts())
        IF durable.valid_key(p_hub, 'x')
           AND EXISTS (SELECT 1 FROM unnest(p_ids, p_names, p_versions)
                                     AS u(id, name, version)
                       WHERE durable.valid_key(p_hub, u.id)
                         AND u.name IS NOT NULL
                         AND octet_length(u.name) <= 256
                         AND coalesce(octet_length(u.version), 0) <= 256)
        THEN
            n := durable.hub_partitions(p_hub, true);
            now := durable.now_us();

            -- ids in the key's collation, for the join on RETURNING's
            WITH v AS (
                SELECT DISTINCT ON (a.id) a.id, a.name, a.input,
                       a.members, a.version, a.tags, a.o
                FROM (SELECT u.id COLLATE "C" AS id, u.name, u.input,
                             u.members, u.version, u.tags, u.o
                      FROM unnest(p_ids, p_names, p_inputs, p_members,
                                  p_versions, p_tags)
                           WITH ORDINALITY
                           AS u(id, name, input, members, version, tags,
                                o)) a
                WHERE durable.valid_key(p_hub, a.id) AND a.name IS NOT NULL
                  AND octet_length(a.name) <= 256
                  AND coalesce(octet_length(a.version), 0) <= 256
                ORDER BY a.id, a.o),
            ins AS (
                INSERT INTO durable.instances AS x (hub, partition, id,
                        status, suspended_from, created, updated,
                        execution, name, input, parent_id, parent_task,
                        parent_execution, ready_at, inbox_seq,
                        done_status, scheduled_start, version, tags)
                    SELECT p_hub, durable.partition_of(n, v.id), v.id, 6,
                           6, now, now, 1, v.name, v.input, NULL, -1, 0,
                           greatest(now, 1), 1, 6, 0, v.version, v.tags
                    FROM v
                    ON CONFLICT DO NOTHING
                    RETURNING x.partition, x.id),
            msg AS (
                INSERT INTO durable.inbox (hub, partition, id, seq, message)
                    SELECT p_hub, ins.partition, ins.id, 1,
                           durable.event('ExecutionStarted', now, v.members)
                    FROM ins JOIN v ON v.id = ins.id)
            SELECT coalesce(array_agg(v.o::integer), '{}') INTO got
                FROM ins JOIN v ON v.id = ins.id;
        END IF;

    EXCEPTION
        WHEN others THEN
            IF durable.transient(SQLSTATE) THEN
                RAISE;
            END IF;
            got := '{}';
    END;

    IF cardinality(got) > 0 THEN
        PERFORM durable.wake(p_hub);
    END IF;

    FOR i IN 1 .. coalesce(cardinality(p_ids), 0) LOOP
        IF i = ANY (got) THEN
            rc := 0;
            status := 6;
            error := NULL;

        ELSE
            s := durable.start_opts(p_hub, p_ids[i], p_names[i],
                                    p_inputs[i], p_members[i],
                                    p_versions[i], p_tags[i], 0, 0);
            rc := s.rc;
            status := s.status;
            error := s.error;
        END IF;

        RETURN NEXT;
    END LOOP;
END
$$;


-- ds_op_raise_event(): members "Name":..,"Input":.. of EventRaised
CREATE OR REPLACE FUNCTION durable.raise_event(p_hub text, p_id text,
    p_members text, OUT rc integer, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    now  bigint;
BEGIN
    BEGIN
        now := durable.now_us();
        rc := durable.deliver(p_hub, p_id, 0,
                              durable.event('EventRaised', now, p_members),
                              now, true);

        IF rc = 0 THEN
            PERFORM durable.wake(p_hub);
        END IF;

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


-- the record of an active instance, locked: rc 1 NOTFOUND, 3 GONE, 6
-- INVALID (an id no key can hold)
CREATE OR REPLACE FUNCTION durable.lock_active(p_hub text, p_id text,
    OUT rc integer, OUT part integer, OUT inst durable.instances)
LANGUAGE plpgsql AS $$
DECLARE
    n  integer;
BEGIN
    IF NOT durable.valid_key(p_hub, p_id) THEN
        rc := 6;
        RETURN;
    END IF;

    rc := 1;
    n := durable.hub_partitions(p_hub, false);

    IF n IS NULL THEN
        RETURN;
    END IF;

    part := durable.partition_of(n, p_id);

    SELECT * INTO inst FROM durable.instances i
        WHERE i.hub = p_hub AND i.partition = part AND i.id = p_id
        FOR UPDATE;

    IF FOUND THEN
        rc := CASE WHEN durable.terminal(inst.status) THEN 3 ELSE 0 END;
    END IF;
END
$$;


-- ds_op_terminate(): the inbox, pending activities and timers dropped,
-- the lease void, a parent told as of a failed sub-orchestration; the
-- lock grants in the inbox, which no episode will take now, released
-- first (durable.inbox_drop_grants()). p_reason: JSON text, NULL for
-- null.
CREATE OR REPLACE FUNCTION durable.terminate(p_hub text, p_id text,
    p_reason text, OUT rc integer, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    now   bigint;
    l     record;
BEGIN
    BEGIN
        l := durable.lock_active(p_hub, p_id);
        rc := l.rc;

        IF rc <> 0 THEN
            RETURN;
        END IF;

        now := durable.now_us();

        PERFORM durable.inbox_drop_grants(p_hub, l.part, p_id, 0, NULL,
                                          NULL, now);

        UPDATE durable.instances i
            SET status = 5, output = p_reason, updated = now, ready_at = 0,
                lease = NULL, lease_expires = 0, lease_upto = 0
            WHERE i.hub = p_hub AND i.partition = l.part AND i.id = p_id;

        DELETE FROM durable.inbox m
            WHERE m.hub = p_hub AND m.partition = l.part AND m.id = p_id;

        PERFORM durable.history_append(p_hub, l.part, p_id,
            durable.event('ExecutionTerminated', now,
                          '"Input":' || durable.json(p_reason)));

        PERFORM durable.drop_work(p_hub, l.part, p_id, false);

        IF (l.inst).parent_id IS NOT NULL THEN
            PERFORM durable.deliver_parent(p_hub, l.inst,
                durable.event('SubOrchestrationInstanceFailed', now,
                              '"TaskScheduledId":' || (l.inst).parent_task
                              || ',"Reason":' || durable.json(p_reason)
                              || ',"Details":null'),
                now);
        END IF;

        PERFORM durable.wake(p_hub);

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


-- ds_op_suspend(): out of the ready index; messages and a lease stay;
-- suspending a suspended instance changes nothing
CREATE OR REPLACE FUNCTION durable.suspend(p_hub text, p_id text,
    p_reason text, OUT rc integer, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    now  bigint;
    l    record;
BEGIN
    BEGIN
        l := durable.lock_active(p_hub, p_id);
        rc := l.rc;

        IF rc <> 0 OR (l.inst).status = 7 THEN
            RETURN;
        END IF;

        now := durable.now_us();

        UPDATE durable.instances i
            SET suspended_from = (l.inst).status, status = 7, updated = now,
                ready_at = 0
            WHERE i.hub = p_hub AND i.partition = l.part AND i.id = p_id;

        PERFORM durable.history_append(p_hub, l.part, p_id,
            durable.event('ExecutionSuspended', now,
                          '"Reason":' || durable.json(p_reason)));

        PERFORM durable.wake(p_hub);

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


-- ds_op_resume(): back to the status it was suspended from, ready again
-- when messages wait; resuming one that is not suspended changes nothing
CREATE OR REPLACE FUNCTION durable.resume(p_hub text, p_id text,
    p_reason text, OUT rc integer, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    now     bigint;
    back    smallint;
    ready   bigint;
    l       record;
BEGIN
    BEGIN
        l := durable.lock_active(p_hub, p_id);
        rc := l.rc;

        IF rc <> 0 OR (l.inst).status <> 7 THEN
            RETURN;
        END IF;

        now := durable.now_us();
        back := (l.inst).suspended_from;

        IF back = 7 THEN
            -- not written by suspend: be safe with odd records
            back := 0;
        END IF;

        ready := (l.inst).ready_at;

        IF EXISTS (SELECT 1 FROM durable.inbox m
                   WHERE m.hub = p_hub AND m.partition = l.part
                     AND m.id = p_id)
        THEN
            ready := durable.ready_mark(back, (l.inst).lease,
                                        (l.inst).lease_expires, ready, now);
        END IF;

        UPDATE durable.instances i
            SET status = back, updated = now, ready_at = ready
            WHERE i.hub = p_hub AND i.partition = l.part AND i.id = p_id;

        PERFORM durable.history_append(p_hub, l.part, p_id,
            durable.event('ExecutionResumed', now,
                          '"Reason":' || durable.json(p_reason)));

        PERFORM durable.wake(p_hub);

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


-- ds_op_purge(): a terminal instance and all that is kept of it; 4
-- PRECONDITION with its status when it is active
CREATE OR REPLACE FUNCTION durable.purge(p_hub text, p_id text,
    OUT rc integer, OUT status smallint, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    l  record;
BEGIN
    BEGIN
        l := durable.lock_active(p_hub, p_id);

        IF l.rc IN (1, 6) THEN
            rc := l.rc;
            RETURN;
        END IF;

        status := (l.inst).status;

        IF l.rc = 0 THEN
            rc := 4;
            RETURN;
        END IF;

        PERFORM durable.remove(p_hub, l.part, p_id);
        rc := 0;

    EXCEPTION
        WHEN others THEN
            IF durable.transient(SQLSTATE) THEN
                RAISE;
            END IF;
            rc := 8;
            error := SQLERRM;
    END;
END
$$;


-- ds_op_read(DS_OP_STATUS): the record, and with p_history its history
-- in order
CREATE OR REPLACE FUNCTION durable.status(p_hub text, p_id text,
    p_history boolean,
    OUT rc integer, OUT status smallint, OUT suspended_from smallint,
    OUT created bigint, OUT updated bigint, OUT execution bigint,
    OUT name text, OUT input text, OUT output text,
    OUT custom_status text, OUT parent_id text, OUT parent_task bigint,
    OUT parent_execution bigint, OUT ready_at bigint, OUT lease bytea,
    OUT lease_expires bigint, OUT episode_at bigint, OUT lease_upto bigint,
    OUT inbox_seq bigint, OUT done_status smallint, OUT done_lease bytea,
    OUT done_digest bigint, OUT history text[], OUT error text,
    OUT scheduled_start bigint, OUT version text, OUT tags text,
    OUT failure text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    n     integer;
    part  integer;
    inst  durable.instances;
BEGIN
    IF NOT durable.valid_key(p_hub, p_id) THEN
        rc := 6;
        RETURN;
    END IF;

    rc := 1;
    n := durable.hub_partitions(p_hub, false);

    IF n IS NULL THEN
        RETURN;
    END IF;

    part := durable.partition_of(n, p_id);

    SELECT * INTO inst FROM durable.instances i
        WHERE i.hub = p_hub AND i.partition = part AND i.id = p_id;

    IF NOT FOUND THEN
        RETURN;
    END IF;

    rc := 0;
    status := inst.status;
    suspended_from := inst.suspended_from;
    created := inst.created;
    updated := inst.updated;
    execution := inst.execution;
    name := inst.name;
    input := inst.input;
    output := inst.output;
    custom_status := inst.custom_status;
    parent_id := inst.parent_id;
    parent_task := inst.parent_task;
    parent_execution := inst.parent_execution;
    ready_at := inst.ready_at;
    lease := inst.lease;
    lease_expires := inst.lease_expires;
    episode_at := inst.episode_at;
    lease_upto := inst.lease_upto;
    inbox_seq := inst.inbox_seq;
    done_status := inst.done_status;
    done_lease := inst.done_lease;
    done_digest := inst.done_digest;
    scheduled_start := inst.scheduled_start;
    version := inst.version;
    tags := inst.tags;
    failure := inst.failure;

    IF p_history THEN
        history := ARRAY(SELECT h.event FROM durable.history h
                         WHERE h.hub = p_hub AND h.partition = part
                           AND h.id = p_id
                         ORDER BY h.seq);
    END IF;
END
$$;


-- The status reads of one hub that a batch of reads holds, without their
-- histories: a row per element of p_ids, in their order, with
-- durable.status()'s columns but history and error, each as
-- durable.status(p_hub, id, false) answers it; one call and one query,
-- where each read was a call with two queries of its own. The lateral
-- subquery keeps one probe of the primary key per id whatever the
-- table's size. The plan is generic: a custom one, made at every call
-- because it costs an array of one element less than the generic plan's
-- ten, took more time than the reads (an inlined SQL function is
-- planned so too, each time).
CREATE OR REPLACE FUNCTION durable.status_many(p_hub text, p_ids text[])
RETURNS TABLE (rc integer, status smallint, suspended_from smallint,
    created bigint, updated bigint, execution bigint,
    name text, input text, output text,
    custom_status text, parent_id text, parent_task bigint,
    parent_execution bigint, ready_at bigint, lease bytea,
    lease_expires bigint, episode_at bigint, lease_upto bigint,
    inbox_seq bigint, done_status smallint, done_lease bytea,
    done_digest bigint, scheduled_start bigint, version text, tags text,
    failure text)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN QUERY
    SELECT CASE WHEN NOT durable.valid_key(p_hub, k.id) THEN 6
                WHEN i.id IS NULL THEN 1
                ELSE 0 END,
           i.status, i.suspended_from, i.created, i.updated, i.execution,
           i.name, i.input, i.output, i.custom_status, i.parent_id,
           i.parent_task, i.parent_execution, i.ready_at, i.lease,
           i.lease_expires, i.episode_at, i.lease_upto, i.inbox_seq,
           i.done_status, i.done_lease, i.done_digest, i.scheduled_start,
           i.version, i.tags, i.failure
    FROM unnest(p_ids) WITH ORDINALITY AS k(id, n)
    LEFT JOIN durable.hubs h ON h.hub = p_hub
    LEFT JOIN LATERAL (
        SELECT * FROM durable.instances x
        WHERE x.hub = p_hub
          AND x.partition = durable.partition_of(h.partitions, k.id)
          AND x.id = k.id
        OFFSET 0) i ON true
    ORDER BY k.n;
END
$$;
