-- ngx_durable PostgreSQL schema: the operations, as server-side functions.
--
-- Created again (CREATE OR REPLACE) by every `durable schema init` and
-- `durable schema upgrade`, after the numbered table files; a change of a
-- function's arguments comes with an upgrade file that drops the old one.
-- docs/postgres.md explains the design; in short:
--
--   * One function per operation, so that a batch of operations is one
--     round trip. Each catches its own errors in a plpgsql exception block,
--     which is a savepoint: a failing operation is rolled back alone and
--     answers rc 8 with the message in error, the batch goes on.
--   * rc is the store's ds_rc_e: 0 OK, 1 NOTFOUND, 2 CONFLICT, 3 GONE,
--     4 PRECONDITION, 5 FULL, 6 INVALID, 7 MISMATCH, 8 ERROR. Statuses are
--     ds_status_e: 0 Running, 1 Completed, 2 ContinuedAsNew, 3 Failed,
--     4 Canceled, 5 Terminated, 6 Pending, 7 Suspended.
--   * The C side checks names and JSON and renders what needs escaping:
--     an event's members after its Timestamp ("members", e.g.
--     "Name":"x","Input":{...}). SQL adds the envelope and the time, and
--     only ever joins numbers, times and JSON text the C side validated,
--     never escaping a string itself, so both backends store the same
--     bytes.
--   * "now" is the database clock, read once per operation, so leases,
--     ready times and created times mean the same on every host.
--   * A refusal writes nothing (the hub's row aside, made by a start).
--   * Operations that give workers or waiters something new call
--     durable.wake(hub): pg_notify() folds the same channel and payload
--     into one notification per transaction, so a batch sends one NOTIFY
--     per hub however many operations it holds.
--   * Set-returning operations (list, claim) end with one row whose id is
--     NULL: it carries rc and the page's or claim's outputs.


-- the database clock, µs since the epoch
CREATE OR REPLACE FUNCTION durable.now_us() RETURNS bigint
LANGUAGE sql VOLATILE AS $$
    SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
$$;


-- ds_time_format_frac(): 2018-03-10T13:57:31.1234567Z, 7 digits of
-- 100 ns with trailing zeros dropped, none when whole
CREATE OR REPLACE FUNCTION durable.time_text(us bigint) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT to_char(timestamp '1970-01-01'
                   + ((us - ((us % 1000000) + 1000000) % 1000000) / 1000000)
                     * interval '1 second',
                   'YYYY-MM-DD"T"HH24:MI:SS')
           || CASE WHEN us % 1000000 = 0 THEN ''
                   ELSE '.' || rtrim(lpad(((((us % 1000000) + 1000000)
                                            % 1000000) * 10)::text, 7, '0'),
                                     '0')
              END
           || 'Z'
$$;


-- {"EventType":"<type>","Timestamp":"<now>","EventId":-1[,<members>]}:
-- the events written here are none that carry an action's id
CREATE OR REPLACE FUNCTION durable.event(type text, now bigint, members text)
RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT '{"EventType":"' || type || '","Timestamp":"'
           || durable.time_text(now) || '","EventId":-1'
           || CASE WHEN coalesce(members, '') = '' THEN ''
                   ELSE ',' || members END
           || '}'
$$;


-- JSON text, NULL standing for null
CREATE OR REPLACE FUNCTION durable.json(value text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(value, 'null')
$$;


CREATE OR REPLACE FUNCTION durable.terminal(status smallint) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT status IN (1, 3, 4, 5)
$$;


-- the key rules the tables rely on: hub 1-50 bytes, id 1-256 bytes
CREATE OR REPLACE FUNCTION durable.valid_key(hub text, id text)
RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(octet_length(hub) BETWEEN 1 AND 50
                    AND octet_length(id) BETWEEN 1 AND 256, false)
$$;


-- a lease token: 16 bytes, not all zero
CREATE OR REPLACE FUNCTION durable.valid_lease(lease bytea) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(octet_length(lease) = 16
                    AND lease <> '\x00000000000000000000000000000000'::bytea,
                    false)
$$;


-- the stable partition of an id: the first 32 bits of its MD5, modulo
CREATE OR REPLACE FUNCTION durable.partition_of(partitions integer, id text)
RETURNS integer
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT (('x' || substr(md5(id), 1, 8))::bit(32)::bigint
            % partitions)::integer
$$;


-- the hub's number of partitions; with create, a new hub takes the
-- default; NULL for a hub that does not exist
CREATE OR REPLACE FUNCTION durable.hub_partitions(p_hub text,
    p_create boolean)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n  integer;
BEGIN
    SELECT h.partitions INTO n FROM durable.hubs h WHERE h.hub = p_hub;

    IF n IS NULL AND p_create THEN
        INSERT INTO durable.hubs (hub, partitions)
            SELECT p_hub, s.value::integer FROM durable.settings s
            WHERE s.name = 'partitions'
            ON CONFLICT DO NOTHING;

        SELECT h.partitions INTO n FROM durable.hubs h WHERE h.hub = p_hub;
    END IF;

    RETURN n;
END
$$;


CREATE OR REPLACE FUNCTION durable.wake(p_hub text) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_notify('durable', p_hub)
$$;


-- dsi_ready_mark(): the ready time of an instance given new work
CREATE OR REPLACE FUNCTION durable.ready_mark(status smallint, lease bytea,
    lease_expires bigint, ready_at bigint, now bigint)
RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN durable.terminal(status) OR status = 7 THEN ready_at
        WHEN lease IS NOT NULL AND lease_expires > now
            THEN CASE WHEN ready_at = 0 THEN lease_expires ELSE ready_at END
        WHEN ready_at = 0 OR ready_at > now THEN greatest(now, 1)
        ELSE ready_at
    END
$$;


CREATE OR REPLACE FUNCTION durable.history_append(p_hub text,
    p_part integer, p_id text, p_event text)
RETURNS void
LANGUAGE sql AS $$
    INSERT INTO durable.history (hub, partition, id, seq, event)
        SELECT p_hub, p_part, p_id, coalesce(max(h.seq), 0) + 1, p_event
        FROM durable.history h
        WHERE h.hub = p_hub AND h.partition = p_part AND h.id = p_id
$$;


-- the pending activities and timers of an instance; with tombstones the
-- completed activities too
CREATE OR REPLACE FUNCTION durable.drop_work(p_hub text, p_part integer,
    p_id text, p_tombstones boolean)
RETURNS void
LANGUAGE sql AS $$
    DELETE FROM durable.activities a
        WHERE a.hub = p_hub AND a.partition = p_part AND a.id = p_id
          AND (p_tombstones OR NOT a.done);
    DELETE FROM durable.timers t
        WHERE t.hub = p_hub AND t.partition = p_part AND t.id = p_id;
$$;


-- everything kept of an instance
CREATE OR REPLACE FUNCTION durable.remove(p_hub text, p_part integer,
    p_id text)
RETURNS void
LANGUAGE sql AS $$
    SELECT durable.drop_work(p_hub, p_part, p_id, true);
    DELETE FROM durable.history h
        WHERE h.hub = p_hub AND h.partition = p_part AND h.id = p_id;
    DELETE FROM durable.inbox m
        WHERE m.hub = p_hub AND m.partition = p_part AND m.id = p_id;
    DELETE FROM durable.instances i
        WHERE i.hub = p_hub AND i.partition = p_part AND i.id = p_id;
$$;


-- dsi_inbox_deliver(): a message to an instance that exists, is not
-- terminal and (execution not 0) still runs that execution; otherwise
-- dropped (rc 0), or with strict refused (1 NOTFOUND, 3 GONE, 6 INVALID
-- for an id no key can hold)
CREATE OR REPLACE FUNCTION durable.deliver(p_hub text, p_id text,
    p_execution bigint, p_message text, p_now bigint, p_strict boolean)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n     integer;
    part  integer;
    inst  durable.instances;
BEGIN
    IF NOT durable.valid_key(p_hub, p_id) THEN
        RETURN CASE WHEN p_strict THEN 6 ELSE 0 END;
    END IF;

    n := durable.hub_partitions(p_hub, false);

    IF n IS NULL THEN
        RETURN CASE WHEN p_strict THEN 1 ELSE 0 END;
    END IF;

    part := durable.partition_of(n, p_id);

    SELECT * INTO inst FROM durable.instances i
        WHERE i.hub = p_hub AND i.partition = part AND i.id = p_id
        FOR UPDATE;

    IF NOT FOUND THEN
        RETURN CASE WHEN p_strict THEN 1 ELSE 0 END;
    END IF;

    IF durable.terminal(inst.status) THEN
        RETURN CASE WHEN p_strict THEN 3 ELSE 0 END;
    END IF;

    IF p_execution <> 0 AND inst.execution <> p_execution THEN
        RETURN 0;
    END IF;

    UPDATE durable.instances i
        SET inbox_seq = inst.inbox_seq + 1,
            ready_at = durable.ready_mark(inst.status, inst.lease,
                                          inst.lease_expires, inst.ready_at,
                                          p_now)
        WHERE i.hub = p_hub AND i.partition = part AND i.id = p_id;

    INSERT INTO durable.inbox (hub, partition, id, seq, message)
        VALUES (p_hub, part, p_id, inst.inbox_seq + 1, p_message);

    RETURN 0;
END
$$;


-- ds_op_start(): a new instance, Pending, with an ExecutionStarted
-- message, or a new execution of a terminal one; 2 CONFLICT with the
-- status of an active one. members: "Name":..,"Input":.. of the message.
CREATE OR REPLACE FUNCTION durable.start(p_hub text, p_id text, p_name text,
    p_input text, p_members text,
    OUT rc integer, OUT status smallint, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    n     integer;
    part  integer;
    now   bigint;
    seq   bigint;
    inst  durable.instances;
BEGIN
    rc := 0;

    IF NOT durable.valid_key(p_hub, p_id) OR p_name IS NULL
       OR octet_length(p_name) > 256
    THEN
        rc := 6;
        RETURN;
    END IF;

    BEGIN
        n := durable.hub_partitions(p_hub, true);
        part := durable.partition_of(n, p_id);
        now := durable.now_us();

        SELECT * INTO inst FROM durable.instances i
            WHERE i.hub = p_hub AND i.partition = part AND i.id = p_id
            FOR UPDATE;

        IF FOUND THEN
            IF NOT durable.terminal(inst.status) THEN
                rc := 2;
                status := inst.status;
                RETURN;
            END IF;

            -- counters and the last completion outlive the execution
            seq := inst.inbox_seq + 1;

            UPDATE durable.instances i
                SET status = 6, suspended_from = 6, created = now,
                    updated = now, execution = inst.execution + 1,
                    name = p_name, input = p_input, output = NULL,
                    custom_status = NULL, parent_id = NULL,
                    parent_task = -1, parent_execution = 0,
                    ready_at = greatest(now, 1), lease = NULL,
                    lease_expires = 0, episode_at = 0, lease_upto = 0,
                    inbox_seq = seq
                WHERE i.hub = p_hub AND i.partition = part AND i.id = p_id;

            DELETE FROM durable.history h
                WHERE h.hub = p_hub AND h.partition = part AND h.id = p_id;
            DELETE FROM durable.inbox m
                WHERE m.hub = p_hub AND m.partition = part AND m.id = p_id;
            PERFORM durable.drop_work(p_hub, part, p_id, true);

        ELSE
            seq := 1;

            INSERT INTO durable.instances (hub, partition, id, status,
                    suspended_from, created, updated, execution, name, input,
                    ready_at, inbox_seq, done_status)
                VALUES (p_hub, part, p_id, 6, 6, now, now, 1, p_name,
                        p_input, greatest(now, 1), seq, 6)
                ON CONFLICT DO NOTHING;

            IF NOT FOUND THEN
                -- another transaction started it meanwhile
                SELECT i.status INTO status FROM durable.instances i
                    WHERE i.hub = p_hub AND i.partition = part
                      AND i.id = p_id;
                rc := 2;
                RETURN;
            END IF;
        END IF;

        INSERT INTO durable.inbox (hub, partition, id, seq, message)
            VALUES (p_hub, part, p_id, seq,
                    durable.event('ExecutionStarted', now, p_members));

        status := 6;
        PERFORM durable.wake(p_hub);

    EXCEPTION
        WHEN disk_full THEN
            rc := 5;
            error := SQLERRM;
        WHEN others THEN
            rc := 8;
            error := SQLERRM;
    END;
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
-- the lease void, a parent told as of a failed sub-orchestration.
-- p_reason: JSON text, NULL for null.
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
            PERFORM durable.deliver(p_hub, (l.inst).parent_id,
                (l.inst).parent_execution,
                durable.event('SubOrchestrationInstanceFailed', now,
                              '"TaskScheduledId":' || (l.inst).parent_task
                              || ',"Reason":' || durable.json(p_reason)
                              || ',"Details":null'),
                now, false);
        END IF;

        PERFORM durable.wake(p_hub);

    EXCEPTION
        WHEN disk_full THEN
            rc := 5;
            error := SQLERRM;
        WHEN others THEN
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
    OUT done_digest bigint, OUT history text[], OUT error text)
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

    IF p_history THEN
        history := ARRAY(SELECT h.event FROM durable.history h
                         WHERE h.hub = p_hub AND h.partition = part
                           AND h.id = p_id
                         ORDER BY h.seq);
    END IF;
END
$$;


-- continuation tokens, as the LMDB store makes them (ds_query.c):
-- base64url without padding of version 1, created with its sign bit
-- flipped (8 bytes, big-endian) and the id's bytes
CREATE OR REPLACE FUNCTION durable.token_encode(created bigint, id text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT translate(encode('\x01'::bytea
                            || int8send(created # (-9223372036854775807 - 1))
                            || convert_to(id, 'UTF8'), 'base64'),
                     E'+/=\n', '-_')
$$;


-- strict: only the canonical encoding of a version 1 token; ok false
-- otherwise
CREATE OR REPLACE FUNCTION durable.token_decode(p_token text,
    OUT ok boolean, OUT created bigint, OUT id text)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    raw  bytea;
BEGIN
    ok := false;

    IF p_token IS NULL OR octet_length(p_token) > 512
       OR p_token !~ '^[A-Za-z0-9_-]*$' OR length(p_token) % 4 = 1
    THEN
        RETURN;
    END IF;

    BEGIN
        raw := decode(translate(p_token, '-_', '+/')
                      || repeat('=', (4 - length(p_token) % 4) % 4),
                      'base64');

        IF octet_length(raw) < 9 OR octet_length(raw) > 1 + 8 + 256
           OR get_byte(raw, 0) <> 1
        THEN
            RETURN;
        END IF;

        created := ('x' || encode(substr(raw, 2, 8), 'hex'))::bit(64)::bigint
                   # (-9223372036854775807 - 1);
        id := convert_from(substr(raw, 10), 'UTF8');

        -- unused bits must be zero: the token is its own encoding
        ok := durable.token_encode(created, id) = p_token;

    EXCEPTION
        WHEN others THEN
            ok := false;
    END;
END
$$;


-- the statuses of a DS_STATUS_MASK
CREATE OR REPLACE FUNCTION durable.mask_statuses(mask integer)
RETURNS smallint[]
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT ARRAY(SELECT s::smallint FROM generate_series(0, 7) s
                 WHERE mask & (1 << s) <> 0)
$$;


CREATE OR REPLACE FUNCTION durable.list_page_apply(p_hub text,
    p_from bigint, p_to bigint, p_mask integer, p_prefix text,
    p_top integer, p_budget integer, p_token text)
RETURNS TABLE (rc integer, id text, status smallint, created bigint,
    updated bigint, execution bigint, name text, input text, output text,
    custom_status text, parent_id text, token text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    mask       integer;
    budget     bigint;
    from_t     bigint;
    to_t       bigint;
    count      bigint;
    examined   bigint;
    pos_at     bigint;
    pos_id     text;
    after      record;
    after_at   bigint;
    after_id   text;
    r          record;
BEGIN
    IF p_top IS NULL OR p_top < 1 OR octet_length(p_hub) NOT BETWEEN 1 AND 50
    THEN
        RETURN QUERY SELECT 6, NULL::text, NULL::smallint, NULL::bigint,
            NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text,
            NULL::text, NULL::text, NULL::text;
        RETURN;
    END IF;

    IF coalesce(p_token, '') <> '' THEN
        after := durable.token_decode(p_token);

        IF NOT after.ok THEN
            RETURN QUERY SELECT 6, NULL::text, NULL::smallint, NULL::bigint,
                NULL::bigint, NULL::bigint, NULL::text, NULL::text,
                NULL::text, NULL::text, NULL::text, NULL::text;
            RETURN;
        END IF;

        after_at := after.created;
        after_id := after.id;
    END IF;

    -- 0: any status; only unknown statuses: nothing matches
    mask := coalesce(p_mask, 0) & 255;

    IF coalesce(p_mask, 0) <> 0 AND mask = 0 THEN
        RETURN QUERY SELECT 0, NULL::text, NULL::smallint, NULL::bigint,
            NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text,
            NULL::text, NULL::text, NULL::text;
        RETURN;
    END IF;

    IF mask = 255 THEN
        mask := 0;
    END IF;

    budget := CASE WHEN coalesce(p_budget, 0) = 0 THEN 9223372036854775806
                   ELSE p_budget END;
    from_t := CASE WHEN coalesce(p_from, 0) = 0
                   THEN -9223372036854775807 - 1 ELSE p_from END;
    to_t := CASE WHEN coalesce(p_to, 0) = 0 THEN 9223372036854775807
                 ELSE p_to END;
    count := 0;
    examined := 0;

    -- one row past the page tells whether a next page exists
    FOR r IN
        SELECT i.* FROM durable.instances i
        WHERE i.hub = p_hub AND i.created BETWEEN from_t AND to_t
          AND (mask = 0 OR i.status = ANY (durable.mask_statuses(mask)))
          AND (after_id IS NULL
               OR (i.created, i.id) > (after_at, after_id COLLATE "C"))
        ORDER BY i.created, i.id
        LIMIT CASE WHEN coalesce(p_prefix, '') = ''
                   THEN least(p_top, budget) ELSE budget END + 1
    LOOP
        IF count = p_top OR examined = budget THEN
            token := durable.token_encode(pos_at, pos_id);
            EXIT;
        END IF;

        examined := examined + 1;
        pos_at := r.created;
        pos_id := r.id;

        IF coalesce(p_prefix, '') <> ''
           AND left(r.id, length(p_prefix)) <> p_prefix COLLATE "C"
        THEN
            CONTINUE;
        END IF;

        count := count + 1;

        RETURN QUERY SELECT 0, r.id, r.status, r.created, r.updated,
            r.execution, r.name, r.input, r.output, r.custom_status,
            r.parent_id, NULL::text;
    END LOOP;

    RETURN QUERY SELECT 0, NULL::text, NULL::smallint, NULL::bigint,
        NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text,
        NULL::text, NULL::text, token;
END
$$;


-- ds_op_read(DS_OP_LIST): one page in (created, id) order. p_from, p_to:
-- created range, inclusive, 0 open; p_mask: DS_STATUS_MASK bits, 0 any;
-- p_prefix: id prefix; p_budget: rows examined at most, 0 no bound;
-- p_token: the previous page's. The last row (id NULL) holds rc (6 for a
-- bad token) and the next page's token, NULL on the last page.
CREATE OR REPLACE FUNCTION durable.list_page(p_hub text, p_from bigint,
    p_to bigint, p_mask integer, p_prefix text, p_top integer,
    p_budget integer, p_token text)
RETURNS TABLE (rc integer, id text, status smallint, created bigint,
    updated bigint, execution bigint, name text, input text, output text,
    custom_status text, parent_id text, token text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- the apply function's rows come whole or not at all
    RETURN QUERY SELECT * FROM durable.list_page_apply(p_hub, p_from, p_to,
        p_mask, p_prefix, p_top, p_budget, p_token);
EXCEPTION
    WHEN others THEN
        RETURN QUERY SELECT 8, NULL::text, NULL::smallint, NULL::bigint,
            NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text,
            NULL::text, NULL::text, NULL::text;
END
$$;


-- ds_instance_purge(): at most p_max terminal instances of the filter
-- (p_mask 0: every terminal status); more: matches may be left
CREATE OR REPLACE FUNCTION durable.purge_batch(p_hub text, p_from bigint,
    p_to bigint, p_mask integer, p_max integer,
    OUT rc integer, OUT deleted integer, OUT more boolean, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    mask    integer;
    from_t  bigint;
    to_t    bigint;
    r       record;
BEGIN
    rc := 0;
    deleted := 0;
    more := false;

    IF octet_length(p_hub) NOT BETWEEN 1 AND 50 OR p_max IS NULL
       OR p_max < 0
    THEN
        rc := 6;
        RETURN;
    END IF;

    -- Completed, Failed, Canceled, Terminated
    mask := CASE WHEN coalesce(p_mask, 0) = 0 THEN 58 ELSE p_mask END & 58;

    IF mask = 0 THEN
        RETURN;
    END IF;

    from_t := CASE WHEN coalesce(p_from, 0) = 0
                   THEN -9223372036854775807 - 1 ELSE p_from END;
    to_t := CASE WHEN coalesce(p_to, 0) = 0 THEN 9223372036854775807
                 ELSE p_to END;

    BEGIN
        FOR r IN
            SELECT i.partition, i.id FROM durable.instances i
            WHERE i.hub = p_hub AND i.created BETWEEN from_t AND to_t
              AND i.status = ANY (durable.mask_statuses(mask))
            ORDER BY i.created, i.id
            LIMIT p_max
            FOR UPDATE SKIP LOCKED
        LOOP
            PERFORM durable.remove(p_hub, r.partition, r.id);
            deleted := deleted + 1;
        END LOOP;

        -- rows another transaction holds count as left, but a batch
        -- that deleted nothing says no more, so that a caller never
        -- repeats without progress
        more := deleted > 0
                AND EXISTS (SELECT 1 FROM durable.instances i
                            WHERE i.hub = p_hub
                              AND i.created BETWEEN from_t AND to_t
                              AND i.status
                                  = ANY (durable.mask_statuses(mask)));

    EXCEPTION
        WHEN others THEN
            rc := 8;
            deleted := 0;
            more := false;
            error := SQLERRM;
    END;
END
$$;


-- ds_work_fire_timers(): at most p_max due timers become TimerFired
-- messages of their instances
CREATE OR REPLACE FUNCTION durable.fire_timers(p_hub text, p_now bigint,
    p_max integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    fired  integer;
    t      record;
BEGIN
    fired := 0;

    FOR t IN
        SELECT * FROM durable.timers x
        WHERE x.hub = p_hub AND x.due <= p_now
        ORDER BY x.due
        LIMIT p_max
        FOR UPDATE SKIP LOCKED
    LOOP
        DELETE FROM durable.timers x
            WHERE x.hub = p_hub AND x.partition = t.partition
              AND x.id = t.id AND x.timer_id = t.timer_id;

        PERFORM durable.deliver(p_hub, t.id, 0,
            durable.event('TimerFired', p_now,
                          '"TimerId":' || t.timer_id || ',"FireAt":"'
                          || durable.time_text(t.fire_at) || '"'),
            p_now, false);

        fired := fired + 1;
    END LOOP;

    RETURN fired;
END
$$;


CREATE OR REPLACE FUNCTION durable.claim_orchestrations_apply(p_hub text,
    p_lease_us bigint, p_tokens bytea[], p_names text[])
RETURNS TABLE (rc integer, id text, name text, input text,
    execution bigint, episode_at bigint, status smallint, upto bigint,
    lease_expires bigint, lease bytea, history text[], messages text[],
    visible bigint)
LANGUAGE plpgsql AS $$
DECLARE
    n         integer;
    max       integer;
    claimed   integer;
    examined  integer;
    now       bigint;
    last      bigint;
    next      bigint;
    token     bytea;
    inst      durable.instances;
BEGIN
    max := coalesce(cardinality(p_tokens), 0);
    now := durable.now_us();

    IF octet_length(p_hub) NOT BETWEEN 1 AND 50 OR p_lease_us IS NULL
       OR p_lease_us < 1 OR now > 9223372036854775807 - p_lease_us
       OR EXISTS (SELECT 1 FROM unnest(p_tokens) t
                  WHERE NOT durable.valid_lease(t))
    THEN
        RETURN QUERY SELECT 6, NULL::text, NULL::text, NULL::text,
            NULL::bigint, NULL::bigint, NULL::smallint, NULL::bigint,
            NULL::bigint, NULL::bytea, NULL::text[], NULL::text[],
            NULL::bigint;
        RETURN;
    END IF;

    n := durable.hub_partitions(p_hub, false);

    IF n IS NOT NULL THEN
        PERFORM durable.fire_timers(p_hub, now, 1000);
    END IF;

    claimed := 0;
    examined := 0;

    -- each step takes the first due entry again: the entries it took or
    -- took out of the index are no longer due
    WHILE n IS NOT NULL AND claimed < max AND examined < max + 1000 LOOP
        SELECT * INTO inst FROM durable.instances i
            WHERE i.hub = p_hub AND i.ready_at > 0 AND i.ready_at <= now
              AND (coalesce(cardinality(p_names), 0) = 0
                   OR i.name = ANY (p_names))
            ORDER BY i.ready_at, i.id
            LIMIT 1
            FOR UPDATE SKIP LOCKED;

        EXIT WHEN NOT FOUND;

        examined := examined + 1;
        last := 0;

        IF NOT durable.terminal(inst.status) AND inst.status <> 7 THEN
            SELECT coalesce(max(m.seq), 0) INTO last FROM durable.inbox m
                WHERE m.hub = p_hub AND m.partition = inst.partition
                  AND m.id = inst.id;
        END IF;

        IF last = 0 THEN
            -- nothing to run: out of the index
            UPDATE durable.instances i SET ready_at = 0
                WHERE i.hub = p_hub AND i.partition = inst.partition
                  AND i.id = inst.id;
            CONTINUE;
        END IF;

        claimed := claimed + 1;
        token := p_tokens[claimed];

        UPDATE durable.instances i
            SET lease = token, lease_expires = now + p_lease_us,
                ready_at = now + p_lease_us, lease_upto = last,
                episode_at = now
            WHERE i.hub = p_hub AND i.partition = inst.partition
              AND i.id = inst.id;

        RETURN QUERY SELECT 0, inst.id, inst.name, inst.input,
            inst.execution, now, inst.status, last, now + p_lease_us, token,
            ARRAY(SELECT h.event FROM durable.history h
                  WHERE h.hub = p_hub AND h.partition = inst.partition
                    AND h.id = inst.id
                  ORDER BY h.seq),
            ARRAY(SELECT m.message FROM durable.inbox m
                  WHERE m.hub = p_hub AND m.partition = inst.partition
                    AND m.id = inst.id AND m.seq <= last
                  ORDER BY m.seq),
            NULL::bigint;
    END LOOP;

    -- the first entry of the names asked for, or a timer; one due now
    -- is held by another claim or lies past this claim's bound: look
    -- again in a second
    next := least((SELECT min(i.ready_at) FROM durable.instances i
                   WHERE i.hub = p_hub AND i.ready_at > 0
                     AND (coalesce(cardinality(p_names), 0) = 0
                          OR i.name = ANY (p_names))),
                  (SELECT min(x.due) FROM durable.timers x
                   WHERE x.hub = p_hub));

    IF next <= now THEN
        next := now + 1000000;
    END IF;

    RETURN QUERY SELECT 0, NULL::text, NULL::text, NULL::text,
        NULL::bigint, NULL::bigint, NULL::smallint, NULL::bigint,
        NULL::bigint, NULL::bytea, NULL::text[], NULL::text[],
        coalesce(next, 9223372036854775807);
END
$$;


-- ds_work_claim() of orchestrations: fires due timers, then leases up to
-- cardinality(p_tokens) visible instances (of p_names, when given), each
-- with the next token, for p_lease_us; a row per item with its history
-- and the messages delivered under the lease (seq <= upto). The last row
-- (id NULL) holds rc and visible, the earliest time more work may become
-- visible (9223372036854775807: none known).
CREATE OR REPLACE FUNCTION durable.claim_orchestrations(p_hub text,
    p_lease_us bigint, p_tokens bytea[], p_names text[])
RETURNS TABLE (rc integer, id text, name text, input text,
    execution bigint, episode_at bigint, status smallint, upto bigint,
    lease_expires bigint, lease bytea, history text[], messages text[],
    visible bigint)
LANGUAGE plpgsql AS $$
BEGIN
    -- the apply function's rows come whole or not at all, with its writes
    RETURN QUERY SELECT * FROM durable.claim_orchestrations_apply(p_hub,
        p_lease_us, p_tokens, p_names);
EXCEPTION
    WHEN others THEN
        RETURN QUERY SELECT 8, NULL::text, NULL::text, NULL::text,
            NULL::bigint, NULL::bigint, NULL::smallint, NULL::bigint,
            NULL::bigint, NULL::bytea, NULL::text[], NULL::text[],
            NULL::bigint;
END
$$;


-- ds_work_renew() of an orchestration: the lease runs p_lease_us from
-- now; an instance out of the ready index (suspended meanwhile) stays out
CREATE OR REPLACE FUNCTION durable.renew_orchestration(p_hub text,
    p_id text, p_lease bytea, p_lease_us bigint,
    OUT rc integer, OUT expires bigint, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    n     integer;
    part  integer;
    now   bigint;
    inst  durable.instances;
BEGIN
    now := durable.now_us();

    IF NOT durable.valid_key(p_hub, p_id) OR p_lease_us IS NULL
       OR p_lease_us < 1 OR now > 9223372036854775807 - p_lease_us
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

        part := durable.partition_of(n, p_id);

        SELECT * INTO inst FROM durable.instances i
            WHERE i.hub = p_hub AND i.partition = part AND i.id = p_id
            FOR UPDATE;

        IF NOT FOUND THEN
            RETURN;
        END IF;

        IF NOT durable.valid_lease(p_lease) OR inst.lease IS NULL
           OR inst.lease <> p_lease
        THEN
            rc := 2;
            RETURN;
        END IF;

        expires := now + p_lease_us;

        UPDATE durable.instances i
            SET lease_expires = expires,
                ready_at = CASE WHEN inst.ready_at = 0 THEN 0
                                ELSE expires END
            WHERE i.hub = p_hub AND i.partition = part AND i.id = p_id;

        rc := 0;
        PERFORM durable.wake(p_hub);

    EXCEPTION
        WHEN others THEN
            rc := 8;
            expires := NULL;
            error := SQLERRM;
    END;
END
$$;


-- ds_work_abandon() of an orchestration: the lease given up, the
-- instance ready at once (a suspended or terminal one stays where it is)
CREATE OR REPLACE FUNCTION durable.abandon_orchestration(p_hub text,
    p_id text, p_lease bytea, OUT rc integer, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    n     integer;
    part  integer;
    now   bigint;
    inst  durable.instances;
BEGIN
    IF NOT durable.valid_key(p_hub, p_id) THEN
        rc := 6;
        RETURN;
    END IF;

    BEGIN
        rc := 1;
        n := durable.hub_partitions(p_hub, false);

        IF n IS NULL THEN
            RETURN;
        END IF;

        part := durable.partition_of(n, p_id);

        SELECT * INTO inst FROM durable.instances i
            WHERE i.hub = p_hub AND i.partition = part AND i.id = p_id
            FOR UPDATE;

        IF NOT FOUND THEN
            RETURN;
        END IF;

        IF NOT durable.valid_lease(p_lease) OR inst.lease IS NULL
           OR inst.lease <> p_lease
        THEN
            rc := 2;
            RETURN;
        END IF;

        now := durable.now_us();

        UPDATE durable.instances i
            SET lease = NULL, lease_expires = 0, lease_upto = 0,
                ready_at = CASE WHEN durable.terminal(inst.status)
                                     OR inst.status = 7
                                THEN inst.ready_at
                                ELSE greatest(now, 1) END
            WHERE i.hub = p_hub AND i.partition = part AND i.id = p_id;

        rc := 0;
        PERFORM durable.wake(p_hub);

    EXCEPTION
        WHEN others THEN
            rc := 8;
            error := SQLERRM;
    END;
END
$$;
