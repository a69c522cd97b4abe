-- ngx_durable PostgreSQL schema: activity work items (claims, renewals,
-- abandons, completions). Conventions: 00-common.sql.
-- By hand, run it only with `psql -1 -v ON_ERROR_STOP=1 -f` (as `durable
-- schema` does): a plain `psql -f` goes on past an error (docs/postgres.md).
--
-- An activity is a row of durable.activities keyed by its instance and
-- task id, in the ready index (ready_at > 0) while it waits or is
-- leased. A completion makes it a tombstone (done, no name or input, out
-- of the index) that keeps the lease and the digest of the completion,
-- so that a retry answers the same without delivering the result twice.
-- Locks are taken instance first, then activity, as terminate takes them.


-- whether durable.activities has the version and tags of a call
-- (schema version 8): the functions serve a database at 6 or 7 too,
-- where a statement naming them would fail, so each one that does runs
-- only when this says yes. plpgsql, not SQL: a subquery is not inlined
CREATE OR REPLACE FUNCTION durable.activity_options() RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN coalesce((SELECT max(v.version) >= 8
                     FROM durable.schema_version v), false);
END
$$;


-- the claim of durable.claim_activities_opts(); the version and tags
-- NULL on a schema without them
CREATE OR REPLACE FUNCTION durable.claim_activities_take(p_hub text,
    p_lease_us bigint, p_tokens bytea[], p_names text[])
RETURNS TABLE (rc integer, id text, task_id bigint, name text, input text,
    execution bigint, lease_expires bigint, visible bigint, version text,
    tags text)
LANGUAGE plpgsql AS $$
DECLARE
    opts      boolean;
    n         integer;
    max       integer;
    claimed   integer;
    examined  integer;
    now       bigint;
    next      bigint;
    exec      bigint;
    st        smallint;
    token     bytea;
    expired   bigint;
    want      integer;
    got       integer;
    act       durable.activities;
BEGIN
    max := coalesce(cardinality(p_tokens), 0);
    expired := 0;
    now := durable.now_us();

    IF octet_length(p_hub) NOT BETWEEN 1 AND 50 OR p_lease_us IS NULL
       OR p_lease_us < 1 OR now > 9223372036854775807 - p_lease_us
       OR EXISTS (SELECT 1 FROM unnest(p_tokens) t
                  WHERE NOT durable.valid_lease(t))
    THEN
        RETURN QUERY SELECT 6, NULL::text, NULL::bigint, NULL::text,
            NULL::text, NULL::bigint, NULL::bigint, NULL::bigint,
            NULL::text, NULL::text;
        RETURN;
    END IF;

    n := durable.hub_partitions(p_hub, false);
    opts := durable.activity_options();
    claimed := 0;
    examined := 0;

    -- as many due entries as there are tokens left, in one scan of the
    -- ready index; again only when some of them were moot. One scan an
    -- entry walked from the front each time, past the entries this
    -- transaction took (dead to it) and those other claims hold (SKIP
    -- LOCKED tries each): with two nginx hosts, twice the index pages per
    -- activity claimed (docs/postgres.md, Claims from many hosts)
    WHILE n IS NOT NULL AND claimed < max AND examined < max + 1000 LOOP
        want := max - claimed;
        got := 0;

        FOR act IN SELECT * FROM durable.activities a
            WHERE a.hub = p_hub AND a.ready_at > 0 AND a.ready_at <= now
              AND (coalesce(cardinality(p_names), 0) = 0
                   OR a.name = ANY (p_names))
            ORDER BY a.ready_at, a.id, a.task_id
            LIMIT want
            FOR UPDATE SKIP LOCKED
        LOOP
            got := got + 1;
            examined := examined + 1;

            SELECT i.status, i.execution INTO st, exec
                FROM durable.instances i
                WHERE i.hub = p_hub AND i.partition = act.partition
                  AND i.id = act.id;

            IF NOT FOUND OR durable.terminal(st) THEN
                -- its result would be moot
                DELETE FROM durable.activities a
                    WHERE a.hub = p_hub AND a.partition = act.partition
                      AND a.id = act.id AND a.task_id = act.task_id;
                CONTINUE;
            END IF;

            claimed := claimed + 1;
            token := p_tokens[claimed];

            -- abandons clear the lease: this one ran out
            IF act.lease IS NOT NULL THEN
                expired := expired + 1;
            END IF;

            UPDATE durable.activities a
                SET lease = token, lease_expires = now + p_lease_us,
                    ready_at = now + p_lease_us
                WHERE a.hub = p_hub AND a.partition = act.partition
                  AND a.id = act.id AND a.task_id = act.task_id;

            -- act.version is looked up when the statement runs: not on
            -- a schema without it
            IF opts THEN
                RETURN QUERY SELECT 0, act.id, act.task_id, act.name,
                    act.input, exec, now + p_lease_us, NULL::bigint,
                    act.version, act.tags;
            ELSE
                RETURN QUERY SELECT 0, act.id, act.task_id, act.name,
                    act.input, exec, now + p_lease_us, NULL::bigint,
                    NULL::text, NULL::text;
            END IF;
        END LOOP;

        -- fewer than asked for: nothing else is due
        EXIT WHEN got < want;
    END LOOP;

    next := (SELECT min(a.ready_at) FROM durable.activities a
             WHERE a.hub = p_hub AND a.ready_at > 0
               AND (coalesce(cardinality(p_names), 0) = 0
                    OR a.name = ANY (p_names)));

    IF next <= now THEN
        next := now + 1000000;
    END IF;

    -- execution of the last row: how many leases ran out
    -- (filter->expired)
    RETURN QUERY SELECT 0, NULL::text, NULL::bigint, NULL::text,
        NULL::text, expired, NULL::bigint,
        coalesce(next, 9223372036854775807), NULL::text, NULL::text;
END
$$;


-- durable.claim_activities()'s claim, without the version and tags
-- (functions of level 3 and below: its answer cannot change)
CREATE OR REPLACE FUNCTION durable.claim_activities_apply(p_hub text,
    p_lease_us bigint, p_tokens bytea[], p_names text[])
RETURNS TABLE (rc integer, id text, task_id bigint, name text, input text,
    execution bigint, lease_expires bigint, visible bigint)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY SELECT t.rc, t.id, t.task_id, t.name, t.input,
        t.execution, t.lease_expires, t.visible
        FROM durable.claim_activities_take(p_hub, p_lease_us, p_tokens,
                                           p_names) t;
END
$$;


-- ds_work_claim() of activities: leases up to cardinality(p_tokens)
-- visible activities (of p_names, when given) of instances that are not
-- terminal (those of a terminal or missing one are dropped), each with
-- the next token, for p_lease_us; a row per item with its instance's
-- execution. The last row (id NULL) holds rc and visible, as for
-- durable.claim_orchestrations(), and in execution the number of items
-- claimed again after their lease ran out.
CREATE OR REPLACE FUNCTION durable.claim_activities(p_hub text,
    p_lease_us bigint, p_tokens bytea[], p_names text[])
RETURNS TABLE (rc integer, id text, task_id bigint, name text, input text,
    execution bigint, lease_expires bigint, visible bigint)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY SELECT * FROM durable.claim_activities_apply(p_hub,
        p_lease_us, p_tokens, p_names);
EXCEPTION
    WHEN others THEN
        IF durable.transient(SQLSTATE) THEN
            RAISE;
        END IF;
        RETURN QUERY SELECT 8, NULL::text, NULL::bigint, NULL::text,
            NULL::text, NULL::bigint, NULL::bigint, NULL::bigint;
END
$$;


-- durable.claim_activities() with each item's version and tags (level 4;
-- NULL none, and always on a schema below version 8), which the worker's
-- ActivityRequest carries: the same rows with two more columns
CREATE OR REPLACE FUNCTION durable.claim_activities_opts(p_hub text,
    p_lease_us bigint, p_tokens bytea[], p_names text[])
RETURNS TABLE (rc integer, id text, task_id bigint, name text, input text,
    execution bigint, lease_expires bigint, visible bigint, version text,
    tags text)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY SELECT * FROM durable.claim_activities_take(p_hub,
        p_lease_us, p_tokens, p_names);
EXCEPTION
    WHEN others THEN
        IF durable.transient(SQLSTATE) THEN
            RAISE;
        END IF;
        RETURN QUERY SELECT 8, NULL::text, NULL::bigint, NULL::text,
            NULL::text, NULL::bigint, NULL::bigint, NULL::bigint,
            NULL::text, NULL::text;
END
$$;


-- the activity row, locked: rc 1 NOTFOUND, 6 INVALID (a key no row can
-- have); with p_instance the instance's row is locked first, and is inst
-- (NULL when there is none)
CREATE OR REPLACE FUNCTION durable.lock_activity_with(p_hub text,
    p_id text, p_task bigint, p_instance boolean,
    OUT rc integer, OUT part integer, OUT act durable.activities,
    OUT inst durable.instances)
LANGUAGE plpgsql AS $$
DECLARE
    n  integer;
BEGIN
    IF NOT durable.valid_key(p_hub, p_id) OR p_task IS NULL OR p_task < 0
    THEN
        rc := 6;
        RETURN;
    END IF;

    rc := 1;
    n := durable.hub_partitions(p_hub, false);

    IF n IS NULL THEN
        RETURN;
    END IF;

    part := durable.partition_of(n, p_id);

    IF p_instance THEN
        SELECT * INTO inst FROM durable.instances i
            WHERE i.hub = p_hub AND i.partition = part AND i.id = p_id
            FOR UPDATE;
    END IF;

    SELECT * INTO act FROM durable.activities a
        WHERE a.hub = p_hub AND a.partition = part AND a.id = p_id
          AND a.task_id = p_task
        FOR UPDATE;

    IF FOUND THEN
        rc := 0;
    END IF;
END
$$;


-- durable.lock_activity_with() but the instance's row
CREATE OR REPLACE FUNCTION durable.lock_activity(p_hub text, p_id text,
    p_task bigint, p_instance boolean,
    OUT rc integer, OUT part integer, OUT act durable.activities)
LANGUAGE plpgsql AS $$
DECLARE
    l  record;
BEGIN
    l := durable.lock_activity_with(p_hub, p_id, p_task, p_instance);
    rc := l.rc;
    part := l.part;
    act := l.act;
END
$$;


-- ds_work_renew() of an activity: the lease runs p_lease_us from now,
-- the ready entry moving with it; a tombstone has no lease to renew
CREATE OR REPLACE FUNCTION durable.renew_activity(p_hub text, p_id text,
    p_task bigint, p_lease bytea, p_lease_us bigint,
    OUT rc integer, OUT expires bigint, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    now  bigint;
    l    record;
BEGIN
    now := durable.now_us();

    IF p_task IS NULL OR p_task < 0 OR p_lease_us IS NULL
       OR p_lease_us < 1 OR now > 9223372036854775807 - p_lease_us
    THEN
        rc := 6;
        RETURN;
    END IF;

    BEGIN
        l := durable.lock_activity(p_hub, p_id, p_task, false);
        rc := l.rc;

        IF rc <> 0 THEN
            RETURN;
        END IF;

        IF (l.act).done OR NOT durable.valid_lease(p_lease)
           OR (l.act).lease IS NULL OR (l.act).lease <> p_lease
        THEN
            rc := 2;
            RETURN;
        END IF;

        expires := now + p_lease_us;

        UPDATE durable.activities a
            SET lease_expires = expires, ready_at = expires
            WHERE a.hub = p_hub AND a.partition = l.part AND a.id = p_id
              AND a.task_id = p_task;

        PERFORM durable.wake(p_hub);

    EXCEPTION
        WHEN others THEN
            IF durable.transient(SQLSTATE) THEN
                RAISE;
            END IF;
            rc := 8;
            expires := NULL;
            error := SQLERRM;
    END;
END
$$;


-- ds_work_abandon() of an activity: the lease given up, ready at once
CREATE OR REPLACE FUNCTION durable.abandon_activity(p_hub text, p_id text,
    p_task bigint, p_lease bytea, OUT rc integer, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    l  record;
BEGIN
    BEGIN
        l := durable.lock_activity(p_hub, p_id, p_task, false);
        rc := l.rc;

        IF rc <> 0 THEN
            RETURN;
        END IF;

        IF (l.act).done OR NOT durable.valid_lease(p_lease)
           OR (l.act).lease IS NULL OR (l.act).lease <> p_lease
        THEN
            rc := 2;
            RETURN;
        END IF;

        UPDATE durable.activities a
            SET lease = NULL, lease_expires = 0,
                ready_at = greatest(durable.now_us(), 1)
            WHERE a.hub = p_hub AND a.partition = l.part AND a.id = p_id
              AND a.task_id = p_task;

        PERFORM durable.wake(p_hub);

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


-- ds_work_complete_activity(): fenced by the lease, the activity becomes
-- a tombstone and its instance gets TaskCompleted or TaskFailed (p_failed)
-- whose members ("TaskScheduledId":..,"Result":.. or "Reason":..,
-- "Details":..) C rendered; dropped when the instance is terminal. The
-- token of the tombstone with the same digest answers 0 again and
-- applies nothing; with another digest 7 MISMATCH.
CREATE OR REPLACE FUNCTION durable.complete_activity(p_hub text,
    p_id text, p_task bigint, p_lease bytea, p_digest bigint,
    p_failed boolean, p_members text, OUT rc integer, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    now  bigint;
    l    record;
BEGIN
    BEGIN
        l := durable.lock_activity_with(p_hub, p_id, p_task, true);
        rc := l.rc;

        IF rc <> 0 THEN
            RETURN;
        END IF;

        IF NOT durable.valid_lease(p_lease) THEN
            rc := 2;
            RETURN;
        END IF;

        IF (l.act).done AND (l.act).lease = p_lease THEN
            rc := CASE WHEN (l.act).done_digest <> 0
                            AND (l.act).done_digest <> p_digest
                       THEN 7 ELSE 0 END;
            RETURN;
        END IF;

        IF (l.act).done OR (l.act).lease IS NULL
           OR (l.act).lease <> p_lease
        THEN
            rc := 2;
            RETURN;
        END IF;

        now := durable.now_us();

        -- nor a version or tags, as an LMDB tombstone, where the schema
        -- has them
        IF durable.activity_options() THEN
            UPDATE durable.activities a
                SET done = true, name = NULL, input = NULL, ready_at = 0,
                    lease_expires = 0, done_digest = p_digest,
                    version = NULL, tags = NULL
                WHERE a.hub = p_hub AND a.partition = l.part
                  AND a.id = p_id AND a.task_id = p_task;
        ELSE
            UPDATE durable.activities a
                SET done = true, name = NULL, input = NULL, ready_at = 0,
                    lease_expires = 0, done_digest = p_digest
                WHERE a.hub = p_hub AND a.partition = l.part
                  AND a.id = p_id AND a.task_id = p_task;
        END IF;

        -- the record read and locked above, not looked up again: a
        -- missing one is dropped, as durable.deliver() drops it
        IF (l.inst).id IS NOT NULL THEN
            PERFORM durable.deliver_locked(p_hub, l.part, l.inst, 0,
                durable.event(CASE WHEN p_failed THEN 'TaskFailed'
                                   ELSE 'TaskCompleted' END, now,
                              p_members),
                now, false);
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
