-- ngx_durable PostgreSQL schema: entities (signals, calls, critical
-- sections, their work items, get, list and clean). Conventions:
-- 00-common.sql; the LMDB store's rules are store/ds_entity.c's.
-- By hand, run it only with `psql -1 -v ON_ERROR_STOP=1 -f` (as `durable
-- schema` does): a plain `psql -f` goes on past an error (docs/postgres.md).
--
-- For the orchestration completion (50-orchestration-complete.sql), the
-- one way to put a call, a lock or an unlock request in an entity's
-- queue:
--
--   durable.entity_message(p_hub text, p_eid text, p_before text,
--       p_after text, p_now bigint) RETURNS integer
--
--   p_eid: the entity's canonical id, "@name@key", name lower-cased (C's
--   dsi_entity_id() or dsi_entity_canon(); the raw id, not JSON).
--   The message queued is '{' || p_before || ',"timestamp":"<p_now>"'
--   || coalesce(p_after, '') || '}', members rendered by C as
--   ds_orchestration_complete.c's ds_entity_message() writes them:
--     call:   p_before "operation":..,"input":..
--             p_after  ,"requestId":..,"parentInstanceId":..,
--                      "parentExecution":N,"parentCreated":T
--     lock:   p_before "lock":..,"lockSet":[..],"position":0,
--                      "parentInstanceId":..,"parentExecution":N,
--                      "parentCreated":T
--     unlock: p_before "unlock":..,"parentInstanceId":..,
--                      "parentExecution":N,"parentCreated":T
--   (T: the sender's created time, which tells the lives of an id purged
--   and started again apart: its executions number from 1 again)
--     signal: p_before "operation":..,"input":..   (p_after NULL)
--   Creates the hub's row and the entity when missing, applies a lock or
--   unlock request that has come to the front of the queue (a lock set
--   goes on to its next entity, the last grants it), and wakes the hub.
--   Returns 0, or 6 for an id no key can hold (nothing written); errors
--   are raised, for the caller's savepoint.
--
-- Rows: an entity's record is durable.entities (owner and cs: the lock,
-- NULL when unlocked; state NULL with has_state: JSON null), its queue
-- durable.entity_ops, numbered from op_seq. A queued message is an
-- operation (signal or call), a lock or an unlock request, told by its
-- first member. What a claim hands out is the runnable operations: of an
-- unlocked entity those at the front up to the first request; of a
-- locked one those its holder sent, up to the holder's unlock.


-- what a queued message is: 0 an operation, 1 a lock, 2 an unlock;
-- NULL for none, said in the CASE rather than by STRICT, which would
-- keep the planner from inlining it
CREATE OR REPLACE FUNCTION durable.entity_msg_kind(p_msg text)
RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_msg IS NULL THEN NULL
                WHEN left(p_msg, 8) = '{"lock":' THEN 1
                WHEN left(p_msg, 10) = '{"unlock":' THEN 2
                ELSE 0 END
$$;


-- dsi_lease_ready(): an entity given new work is ready now (or earlier),
-- unless a live lease holds it, which then keeps it till it expires
CREATE OR REPLACE FUNCTION durable.lease_ready(p_lease bytea,
    p_lease_expires bigint, p_ready_at bigint, p_now bigint)
RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_lease IS NOT NULL AND p_lease_expires > p_now
            THEN CASE WHEN p_ready_at = 0 THEN p_lease_expires
                      ELSE p_ready_at END
        WHEN p_ready_at = 0 OR p_ready_at > p_now THEN greatest(p_now, 1)
        ELSE p_ready_at
    END
$$;


-- ds_entity_select(): the runnable operations with seq <= p_upto, in
-- order, for the lock holder p_owner (NULL: unlocked)
CREATE OR REPLACE FUNCTION durable.entity_runnable(p_hub text,
    p_part integer, p_eid text, p_owner text, p_upto bigint)
RETURNS TABLE (seq bigint, operation text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    o  record;
BEGIN
    FOR o IN
        SELECT x.seq, x.operation FROM durable.entity_ops x
        WHERE x.hub = p_hub AND x.partition = p_part AND x.id = p_eid
          AND x.seq <= p_upto
        ORDER BY x.seq
    LOOP
        IF p_owner IS NOT NULL
           AND (o.operation::json ->> 'parentInstanceId')
               IS DISTINCT FROM p_owner
        THEN
            -- another's message waits for the unlock
            CONTINUE;
        END IF;

        EXIT WHEN durable.entity_msg_kind(o.operation) <> 0;

        seq := o.seq;
        operation := o.operation;
        RETURN NEXT;
    END LOOP;
END
$$;


-- the last seq of one lease's batch (ds_entity_select(), bounded): the
-- runnable operations in order, at most 5,000, and past the first no
-- more than 2 MiB with the state's p_bytes (DS_ENTITY_BATCH_OPS and
-- _BYTES); 0 when none is runnable. Its walk is entity_runnable()'s,
-- stopped at the bound: entity_runnable() returns a set, which plpgsql
-- builds whole before the caller reads a row, so a long queue would be
-- read whole for each batch.
CREATE OR REPLACE FUNCTION durable.entity_batch_last(p_hub text,
    p_part integer, p_eid text, p_owner text, p_bytes bigint)
RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    o      record;
    n      integer := 0;
    bytes  bigint := coalesce(p_bytes, 0);
    last   bigint := 0;
BEGIN
    FOR o IN
        SELECT x.seq, x.operation FROM durable.entity_ops x
        WHERE x.hub = p_hub AND x.partition = p_part AND x.id = p_eid
        ORDER BY x.seq
    LOOP
        IF p_owner IS NOT NULL
           AND (o.operation::json ->> 'parentInstanceId')
               IS DISTINCT FROM p_owner
        THEN
            -- another's message waits for the unlock
            CONTINUE;
        END IF;

        EXIT WHEN durable.entity_msg_kind(o.operation) <> 0;
        EXIT WHEN n = 5000
                  OR (n > 0 AND bytes + octet_length(o.operation) > 2097152);

        n := n + 1;
        bytes := bytes + octet_length(o.operation);
        last := o.seq;
    END LOOP;

    RETURN last;
END
$$;


-- the entity's record, locked; made (without state) when p_create
CREATE OR REPLACE FUNCTION durable.entity_lock(p_hub text, p_part integer,
    p_eid text, p_create boolean)
RETURNS durable.entities
LANGUAGE plpgsql AS $$
DECLARE
    e  durable.entities;
BEGIN
    SELECT * INTO e FROM durable.entities x
        WHERE x.hub = p_hub AND x.partition = p_part AND x.id = p_eid
        FOR UPDATE;

    IF NOT FOUND AND p_create THEN
        INSERT INTO durable.entities (hub, partition, id)
            VALUES (p_hub, p_part, p_eid)
            ON CONFLICT DO NOTHING;

        SELECT * INTO e FROM durable.entities x
            WHERE x.hub = p_hub AND x.partition = p_part AND x.id = p_eid
            FOR UPDATE;
    END IF;

    RETURN e;
END
$$;


-- the last seq of an entity's queue, 0 when it is empty
CREATE OR REPLACE FUNCTION durable.entity_last(p_hub text, p_part integer,
    p_eid text)
RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT coalesce(max(x.seq), 0) FROM durable.entity_ops x
            WHERE x.hub = p_hub AND x.partition = p_part AND x.id = p_eid);
END
$$;


-- ds_entity_send(): queues p_msg, creating the entity; a request is
-- applied at once when it is at the front. p_depth: how many entities of
-- a lock set passed the request on.
CREATE OR REPLACE FUNCTION durable.entity_send(p_hub text, p_eid text,
    p_msg text, p_now bigint, p_depth integer)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    n     integer;
    part  integer;
    seq   bigint;
    e     durable.entities;
BEGIN
    n := durable.hub_partitions(p_hub, true);
    part := durable.partition_of(n, p_eid);
    e := durable.entity_lock(p_hub, part, p_eid, true);

    seq := greatest(durable.entity_last(p_hub, part, p_eid), e.op_seq) + 1;

    UPDATE durable.entities x
        SET op_seq = seq,
            ready_at = durable.lease_ready(e.lease, e.lease_expires,
                                           e.ready_at, p_now)
        WHERE x.hub = p_hub AND x.partition = part AND x.id = p_eid;

    INSERT INTO durable.entity_ops (hub, partition, id, seq, operation)
        VALUES (p_hub, part, p_eid, seq, p_msg);

    -- an operation changes no lock: only requests need settling
    IF durable.entity_msg_kind(p_msg) <> 0 THEN
        PERFORM durable.entity_settle(p_hub, part, p_eid, p_now, p_depth);
    END IF;
END
$$;


-- dsi_timer_signal(): holds p_msg for the entity p_eid until p_at, as a
-- timer of the entity that carries it (the next timer id of the entity);
-- durable.fire_timers() queues it then. The entity is not made before.
CREATE OR REPLACE FUNCTION durable.entity_schedule(p_hub text, p_eid text,
    p_msg text, p_at bigint)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    part   integer;
    tries  integer;
BEGIN
    part := durable.partition_of(durable.hub_partitions(p_hub, true),
                                 p_eid);

    -- another transaction taking the same id makes this one try the next
    FOR tries IN 1 .. 100 LOOP
        INSERT INTO durable.timers (hub, partition, id, timer_id, due,
                fire_at, message)
            SELECT p_hub, part, p_eid, coalesce(max(x.timer_id), 0) + 1,
                   p_at, p_at, p_msg
            FROM durable.timers x
            WHERE x.hub = p_hub AND x.partition = part AND x.id = p_eid
            ON CONFLICT DO NOTHING;

        IF FOUND THEN
            RETURN;
        END IF;
    END LOOP;

    RAISE EXCEPTION 'no timer id left for %', p_eid;
END
$$;


-- durable.entity_message() for a time: a signal (p_after NULL) with
-- p_at later than p_now waits for it (ds_entity_signal_at()); anything
-- else is queued now
CREATE OR REPLACE FUNCTION durable.entity_message_at(p_hub text,
    p_eid text, p_before text, p_after text, p_now bigint, p_at bigint)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    msg  text;
BEGIN
    IF NOT durable.valid_key(p_hub, p_eid) OR left(p_eid, 1) <> '@' THEN
        RETURN 6;
    END IF;

    msg := '{' || p_before || ',"timestamp":"' || durable.time_text(p_now)
           || '"' || coalesce(p_after, '') || '}';

    IF p_at > p_now AND p_after IS NULL
       AND durable.entity_msg_kind(msg) = 0
    THEN
        PERFORM durable.entity_schedule(p_hub, p_eid, msg, p_at);
    ELSE
        PERFORM durable.entity_send(p_hub, p_eid, msg, p_now, 0);
    END IF;

    -- a waiting claim learns of the work, or of the time it is due
    PERFORM durable.wake(p_hub);

    RETURN 0;
END
$$;


-- see the top of this file
CREATE OR REPLACE FUNCTION durable.entity_message(p_hub text, p_eid text,
    p_before text, p_after text, p_now bigint)
RETURNS integer
LANGUAGE sql AS $$
    SELECT durable.entity_message_at(p_hub, p_eid, p_before, p_after,
                                     p_now, 0)
$$;

-- ds_entity_grant_stale()'s test: whether the sender of a call or lock
-- request (its execution p_exe and created time p_born, 0 each when the
-- message lacks them: any) is gone, from what its record holds now
-- (p_status NULL: no record). Gone: no record, ended, continued as new
-- since, or purged and started again (its executions number from 1
-- again; its created time differs).
CREATE OR REPLACE FUNCTION durable.sender_gone(p_status smallint,
    p_execution bigint, p_created bigint, p_exe bigint, p_born bigint)
RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_status IS NULL OR durable.terminal(p_status)
           OR (p_exe <> 0 AND p_execution <> p_exe)
           OR (p_born <> 0 AND p_created <> p_born)
$$;


-- ds_entity_settle(): applies the lock and unlock requests that have
-- come to the front. A lock request locks the entity for its
-- orchestration and goes on to the next entity of its set; the holder's
-- unlock unlocks it; an unlock by another is stale and dropped. A lock
-- request whose grant would reach no one (the instance is gone or
-- ended, continued as new since it asked, or purged and started again:
-- durable.sender_gone()) is dropped before it locks,
-- and the entities before it in its set that it holds are released: the
-- loop goes on with the next request, so a queue of such requests,
-- however long, costs no depth (no nested call, no stack). Each pass
-- deletes the message it applied or dropped, so the loop ends. Past
-- depth 64 the entity is left as it is, for its next message to settle.
CREATE OR REPLACE FUNCTION durable.entity_settle(p_hub text,
    p_part integer, p_eid text, p_now bigint, p_depth integer)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    n        integer;
    pos      integer;
    kind     integer;
    holder   boolean;
    changed  boolean;
    stale    boolean;
    fseq     bigint;
    fmsg     text;
    last     bigint;
    exe      bigint;
    born     bigint;
    cur      bigint;
    cur_at   bigint;
    st       smallint;
    v_owner  text;
    v_cs     text;
    e        durable.entities;
    o        record;
BEGIN
    IF p_depth > 64 THEN
        RETURN;
    END IF;

    n := durable.hub_partitions(p_hub, false);

    LOOP
        SELECT * INTO e FROM durable.entities x
            WHERE x.hub = p_hub AND x.partition = p_part AND x.id = p_eid
            FOR UPDATE;

        EXIT WHEN NOT FOUND;

        -- the first request to apply now, if any (ds_efront_one())
        fseq := NULL;

        FOR o IN
            SELECT x.seq, x.operation FROM durable.entity_ops x
            WHERE x.hub = p_hub AND x.partition = p_part AND x.id = p_eid
            ORDER BY x.seq
        LOOP
            kind := durable.entity_msg_kind(o.operation);
            holder := false;

            IF e.owner IS NOT NULL THEN
                holder := (o.operation::json ->> 'parentInstanceId')
                          IS NOT DISTINCT FROM e.owner;

                IF NOT holder THEN
                    -- a stale unlock of another can go now
                    CONTINUE WHEN kind <> 2;

                ELSIF kind <> 2 THEN
                    -- the holder's operations run first
                    EXIT;
                END IF;

            ELSIF kind = 0 THEN
                EXIT;
            END IF;

            fseq := o.seq;
            fmsg := o.operation;
            EXIT;
        END LOOP;

        EXIT WHEN fseq IS NULL;

        kind := durable.entity_msg_kind(fmsg);
        changed := false;
        stale := false;
        v_owner := e.owner;
        v_cs := e.cs;

        IF kind = 1 THEN
            v_owner := fmsg::json ->> 'parentInstanceId';
            v_cs := fmsg::json ->> 'lock';
            changed := coalesce(v_owner, '') <> ''
                       AND coalesce(v_cs, '') <> '';

            -- entity_lock_next()'s test, without the instance's lock: one
            -- seen alive may end before the last entity, whose
            -- entity_lock_next() takes the lock and tests again
            IF changed THEN
                exe := coalesce((fmsg::json ->> 'parentExecution')::bigint,
                                0);
                born := coalesce((fmsg::json ->> 'parentCreated')::bigint,
                                 0);

                SELECT i.status, i.execution, i.created INTO st, cur, cur_at
                    FROM durable.instances i
                    WHERE i.hub = p_hub
                      AND i.partition = durable.partition_of(n, v_owner)
                      AND i.id = v_owner;

                -- a drop is for good: made under the instance's lock, so
                -- a rewind running now either comes first (and the
                -- request is live) or sees it dropped and sends it again
                IF durable.sender_gone(st, cur, cur_at, exe, born) THEN
                    SELECT i.status, i.execution, i.created
                        INTO st, cur, cur_at
                        FROM durable.instances i
                        WHERE i.hub = p_hub
                          AND i.partition = durable.partition_of(n,
                                                                 v_owner)
                          AND i.id = v_owner
                        FOR SHARE;
                END IF;

                IF durable.sender_gone(st, cur, cur_at, exe, born) THEN
                    stale := true;
                    changed := false;
                END IF;
            END IF;

        ELSIF holder AND (fmsg::json ->> 'unlock') = e.cs THEN
            -- the holder's unlock; any other is stale and only dropped
            v_owner := NULL;
            v_cs := NULL;
            changed := true;
        END IF;

        IF changed THEN
            last := durable.entity_last(p_hub, p_part, p_eid);

            UPDATE durable.entities x
                SET owner = v_owner, cs = v_cs,
                    -- messages that waited may run now
                    ready_at = CASE WHEN last > fseq
                                    THEN durable.lease_ready(e.lease,
                                             e.lease_expires, 0, p_now)
                                    ELSE e.ready_at END
                WHERE x.hub = p_hub AND x.partition = p_part
                  AND x.id = p_eid;
        END IF;

        DELETE FROM durable.entity_ops x
            WHERE x.hub = p_hub AND x.partition = p_part AND x.id = p_eid
              AND x.seq = fseq;

        IF kind = 1 AND changed THEN
            PERFORM durable.entity_lock_next(p_hub, fmsg, p_now, p_depth);
        END IF;

        -- the set's entities before this one, which it may hold
        IF stale THEN
            pos := coalesce((fmsg::json ->> 'position')::integer, 0);

            IF pos > 0 THEN
                PERFORM durable.entity_release(p_hub, v_owner, v_cs,
                    (SELECT json_agg(x.v ORDER BY x.i)
                     FROM json_array_elements(fmsg::json -> 'lockSet')
                          WITH ORDINALITY x(v, i)
                     WHERE x.i <= pos),
                    p_now, p_depth + 1);
            END IF;
        END IF;
    END LOOP;
END
$$;


-- ds_entity_lock_next(): a lock request granted here goes on to the next
-- entity of its set (its position the only change), or the holder hears
-- it has them all: EntityLockGranted {CriticalSectionId}, with the set
-- last (LockSet), which only the store reads (durable.message_public())
CREATE OR REPLACE FUNCTION durable.entity_lock_next(p_hub text,
    p_msg text, p_now bigint, p_depth integer)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    j       json;
    pos     integer;
    n       integer;
    exe     bigint;
    born    bigint;
    cur     bigint;
    cur_at  bigint;
    st      smallint;
    eid     text;
BEGIN
    j := p_msg::json;
    pos := (j ->> 'position')::integer + 1;

    IF pos < json_array_length(j -> 'lockSet') THEN
        eid := j -> 'lockSet' ->> pos;

        IF NOT durable.valid_key(p_hub, eid) OR left(eid, 1) <> '@' THEN
            -- checked when the orchestration sent it
            RETURN;
        END IF;

        -- no string of the set can hold '],"' unescaped: the first match
        -- is the member itself
        PERFORM durable.entity_send(p_hub, eid,
            regexp_replace(p_msg, '\],"position":[0-9]+,',
                           '],"position":' || pos || ','),
            p_now, p_depth + 1);
        RETURN;
    END IF;

    -- no one would take the grant (ds_entity_grant_stale()): the
    -- instance is gone or ended, continued as new since it asked, or was
    -- purged and started again. The record is locked as durable.deliver()
    -- locks it, so that it cannot end between the look and the grant.
    n := durable.hub_partitions(p_hub, false);
    exe := coalesce((j ->> 'parentExecution')::bigint, 0);
    born := coalesce((j ->> 'parentCreated')::bigint, 0);

    SELECT i.status, i.execution, i.created INTO st, cur, cur_at
        FROM durable.instances i
        WHERE i.hub = p_hub
          AND i.partition = durable.partition_of(n, j ->> 'parentInstanceId')
          AND i.id = j ->> 'parentInstanceId'
        FOR UPDATE;

    IF durable.sender_gone(st, cur, cur_at, exe, born) THEN
        PERFORM durable.entity_release(p_hub, j ->> 'parentInstanceId',
            j ->> 'lock', j -> 'lockSet', p_now, p_depth + 1);
        RETURN;
    END IF;

    PERFORM durable.deliver(p_hub, j ->> 'parentInstanceId', exe,
        durable.event('EntityLockGranted', p_now,
                      '"CriticalSectionId":' || (j -> 'lock')::text
                      || ',"LockSet":' || (j -> 'lockSet')::text),
        p_now, false);
END
$$;


-- dsi_entity_history_drop()'s release, for executions whose history
-- goes for good (their records removed, replaced by a new start under
-- the id, or continued as new): the locks each may still hold, every set
-- its history asked for (EntityLockRequested, read as
-- durable.lock_event() reads it) released as durable.entity_release()
-- releases one. Nothing else would: a lock names its holder by id alone,
-- which the next life under it takes. Only a set one of whose entities
-- it still holds is passed on, so that no other entity's row is locked.
-- The caller deletes the history after.
CREATE OR REPLACE FUNCTION durable.release_held(p_hub text,
    p_parts integer[], p_ids text[], p_now bigint)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    n  integer;
    r  record;
BEGIN
    n := durable.hub_partitions(p_hub, false);

    IF n IS NULL THEN
        RETURN;
    END IF;

    FOR r IN SELECT h.id, (durable.lock_event(h.event,
                               'EntityLockRequested')).*
             FROM durable.history h, unnest(p_parts, p_ids) AS c(partition, id)
             WHERE h.hub = p_hub AND h.partition = c.partition
               AND h.id = c.id
               AND strpos(h.event, '"EntityLockRequested"') > 0
             ORDER BY h.id, h.seq
    LOOP
        CONTINUE WHEN r.cs IS NULL
                   OR json_typeof(r.lockset) IS DISTINCT FROM 'array'
                   OR NOT EXISTS (
                       SELECT 1 FROM json_array_elements_text(r.lockset) s,
                                     durable.entities e
                       WHERE e.hub = p_hub
                         AND e.partition = durable.partition_of(n, s.value)
                         AND e.id = s.value AND e.owner = r.id
                         AND e.cs = r.cs);

        PERFORM durable.entity_release(p_hub, r.id, r.cs, r.lockset,
                                       p_now, 0);
    END LOOP;
END
$$;


-- dsi_entity_release(): a lock granted to an execution that never hears
-- of it (it ended or continued as new before the grant came, or before
-- it saw it) is released at once: each entity of p_set (a JSON array of
-- ids) that p_owner still holds for p_cs is unlocked, and what waited in
-- its queue may run. An entity locked otherwise, or missing, stays.
-- Past depth 64 each is still unlocked, but not settled: its queue waits
-- for its next message, and no ended owner keeps it.
CREATE OR REPLACE FUNCTION durable.entity_release(p_hub text,
    p_owner text, p_cs text, p_set json, p_now bigint, p_depth integer)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    n     integer;
    part  integer;
    last  bigint;
    eid   text;
    e     durable.entities;
BEGIN
    IF p_set IS NULL THEN
        RETURN;
    END IF;

    n := durable.hub_partitions(p_hub, false);

    FOR eid IN SELECT x FROM json_array_elements_text(p_set) x LOOP
        CONTINUE WHEN NOT durable.valid_key(p_hub, eid)
                      OR left(eid, 1) <> '@';

        part := durable.partition_of(n, eid);
        e := durable.entity_lock(p_hub, part, eid, false);

        CONTINUE WHEN e.id IS NULL OR e.owner IS DISTINCT FROM p_owner
                      OR e.cs IS DISTINCT FROM p_cs;

        last := durable.entity_last(p_hub, part, eid);

        UPDATE durable.entities x
            SET owner = NULL, cs = NULL,
                -- messages that waited may run now
                ready_at = CASE WHEN last > 0
                                THEN durable.lease_ready(e.lease,
                                         e.lease_expires, e.ready_at, p_now)
                                ELSE e.ready_at END
            WHERE x.hub = p_hub AND x.partition = part AND x.id = eid;

        IF last > 0 THEN
            PERFORM durable.entity_settle(p_hub, part, eid, p_now, p_depth);
        END IF;
    END LOOP;
END
$$;


-- dsi_inbox_drop_grants(): when an execution ends (not by a failure,
-- whose grants wait for a rewind) or continues as new, the lock grants
-- that came after its episode's messages (seq p_from on) reach no one:
-- each is deleted and its lock released. The set of a critical section
-- is the one its grant carries (LockSet); a grant written before it
-- carried one goes by the completion's own request (p_kinds 10, p_d its
-- members) or the first EntityLockRequested of the history that names
-- it (the ended execution's still), as on LMDB. A release can grant a
-- waiting request of the same execution, whose grant comes here too:
-- repeated until none.
CREATE OR REPLACE FUNCTION durable.inbox_drop_grants(p_hub text,
    p_part integer, p_id text, p_from bigint, p_kinds smallint[],
    p_d text[], p_now bigint)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    round  integer;
    i      integer;
    found  boolean;
    cs     text;
    j      json;
    s      json;
    g      record;
BEGIN
    FOR round IN 1 .. 64 LOOP
        found := false;

        FOR g IN
            DELETE FROM durable.inbox x
                WHERE x.hub = p_hub AND x.partition = p_part
                  AND x.id = p_id AND x.seq >= p_from
                  AND durable.event_type(x.message) = 'EntityLockGranted'
                RETURNING x.seq, x.message
        LOOP
            found := true;
            cs := g.message::json ->> 'CriticalSectionId';
            s := g.message::json -> 'LockSet';

            IF json_typeof(s) IS DISTINCT FROM 'array' THEN
                -- a grant written before it carried its set
                s := NULL;
            END IF;

            FOR i IN 1 .. CASE WHEN s IS NULL
                               THEN coalesce(cardinality(p_kinds), 0)
                               ELSE 0 END LOOP
                CONTINUE WHEN p_kinds[i] <> 10;

                j := ('{' || p_d[i] || '}')::json;

                IF j ->> 'lock' = cs THEN
                    s := j -> 'lockSet';
                    EXIT;
                END IF;
            END LOOP;

            IF s IS NULL THEN
                SELECT h.event::json -> 'LockSet' INTO s
                    FROM durable.history h
                    WHERE h.hub = p_hub AND h.partition = p_part
                      AND h.id = p_id
                      AND h.event::json ->> 'EventType'
                          = 'EntityLockRequested'
                      AND h.event::json ->> 'CriticalSectionId' = cs
                    ORDER BY h.seq
                    LIMIT 1;
            END IF;

            PERFORM durable.entity_release(p_hub, p_id, cs, s, p_now, 0);
        END LOOP;

        EXIT WHEN NOT found;
    END LOOP;
END
$$;


-- ds_entity_signal_at(): p_members "operation":..,"input":.. (C checked
-- the names); p_at, when later than now on the database's clock, is when
-- the signal is due (durable.entity_schedule()), else (0 by default) it
-- is queued now and the entity made when missing
CREATE OR REPLACE FUNCTION durable.entity_signal(p_hub text, p_eid text,
    p_members text, p_at bigint DEFAULT 0, OUT rc integer,
    OUT error text)
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT durable.valid_key(p_hub, p_eid) OR left(p_eid, 1) <> '@'
       OR p_members IS NULL
    THEN
        rc := 6;
        RETURN;
    END IF;

    BEGIN
        rc := durable.entity_message_at(p_hub, p_eid, p_members, NULL,
                                        durable.now_us(),
                                        coalesce(p_at, 0));
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


-- ds_entity_get(): 1 NOTFOUND when the entity has no state
CREATE OR REPLACE FUNCTION durable.entity_get(p_hub text, p_eid text,
    OUT rc integer, OUT state text, OUT last_op bigint, OUT owner text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    n  integer;
    e  durable.entities;
BEGIN
    IF NOT durable.valid_key(p_hub, p_eid) THEN
        rc := 6;
        RETURN;
    END IF;

    rc := 1;
    n := durable.hub_partitions(p_hub, false);

    IF n IS NULL THEN
        RETURN;
    END IF;

    SELECT * INTO e FROM durable.entities x
        WHERE x.hub = p_hub AND x.partition = durable.partition_of(n, p_eid)
          AND x.id = p_eid;

    IF NOT FOUND OR NOT e.has_state THEN
        RETURN;
    END IF;

    rc := 0;
    state := e.state;
    last_op := e.last_op;
    owner := e.owner;
END
$$;


-- ds_entity_list(): entities with state whose id begins with p_prefix
-- ("@" or "@name@"), strictly after p_after when it is not before the
-- prefix (C decodes the token), last_op in [p_from, p_to] (0: open), at
-- most p_top rows, p_budget records examined (0: no bound). The last row
-- (id NULL) holds rc and pos: the last id examined when more are left
-- (C encodes it as the token), else NULL.
CREATE OR REPLACE FUNCTION durable.entity_list(p_hub text, p_prefix text,
    p_from bigint, p_to bigint, p_top integer, p_budget integer,
    p_after text)
RETURNS TABLE (rc integer, id text, state text, last_op bigint,
    owner text, pos text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    count     integer;
    examined  integer;
    fromv     bigint;
    tov       bigint;
    last      text;
    e         record;
BEGIN
    IF octet_length(p_hub) NOT BETWEEN 1 AND 50 OR p_top IS NULL
       OR p_top < 1 OR coalesce(p_prefix, '') = ''
    THEN
        RETURN QUERY SELECT 6, NULL::text, NULL::text, NULL::bigint,
            NULL::text, NULL::text;
        RETURN;
    END IF;

    fromv := CASE WHEN p_from = 0 THEN -9223372036854775808 ELSE p_from END;
    tov := CASE WHEN p_to = 0 THEN 9223372036854775807 ELSE p_to END;
    count := 0;
    examined := 0;
    last := NULL;

    IF p_after IS NOT NULL AND p_after < p_prefix THEN
        p_after := NULL;
    END IF;

    FOR e IN
        SELECT x.id, x.has_state, x.state, x.last_op, x.owner
        FROM durable.entities x
        WHERE x.hub = p_hub
          AND (CASE WHEN p_after IS NULL THEN x.id >= p_prefix
                    ELSE x.id > p_after END)
        ORDER BY x.id
    LOOP
        EXIT WHEN NOT starts_with(e.id, p_prefix);

        IF count = p_top OR (p_budget > 0 AND examined = p_budget) THEN
            RETURN QUERY SELECT 0, NULL::text, NULL::text, NULL::bigint,
                NULL::text, last;
            RETURN;
        END IF;

        examined := examined + 1;
        last := e.id;

        CONTINUE WHEN NOT e.has_state OR e.last_op < fromv
                      OR e.last_op > tov;

        count := count + 1;

        RETURN QUERY SELECT 0, e.id, e.state, e.last_op, e.owner,
            NULL::text;
    END LOOP;

    RETURN QUERY SELECT 0, NULL::text, NULL::text, NULL::bigint,
        NULL::text, NULL::text;
END
$$;


-- ds_entity_clean_one()
CREATE OR REPLACE FUNCTION durable.entity_clean_one(p_hub text,
    p_part integer, p_eid text, p_remove boolean, p_release boolean,
    p_now bigint, OUT removed integer, OUT released integer)
LANGUAGE plpgsql AS $$
DECLARE
    n     integer;
    last  bigint;
    st    smallint;
    e     durable.entities;
BEGIN
    removed := 0;
    released := 0;

    e := durable.entity_lock(p_hub, p_part, p_eid, false);

    IF e.id IS NULL THEN
        RETURN;
    END IF;

    last := durable.entity_last(p_hub, p_part, p_eid);

    IF p_release AND e.owner IS NOT NULL THEN
        n := durable.hub_partitions(p_hub, false);

        SELECT i.status INTO st FROM durable.instances i
            WHERE i.hub = p_hub
              AND i.partition = durable.partition_of(n, e.owner)
              AND i.id = e.owner;

        IF st IS NULL OR durable.terminal(st) THEN
            UPDATE durable.entities x
                SET owner = NULL, cs = NULL,
                    ready_at = CASE WHEN last > 0
                                    THEN durable.lease_ready(e.lease,
                                             e.lease_expires, e.ready_at,
                                             p_now)
                                    ELSE e.ready_at END
                WHERE x.hub = p_hub AND x.partition = p_part
                  AND x.id = p_eid;

            IF last > 0 THEN
                PERFORM durable.entity_settle(p_hub, p_part, p_eid, p_now,
                                              0);
            END IF;

            released := 1;
            e := durable.entity_lock(p_hub, p_part, p_eid, false);
            last := durable.entity_last(p_hub, p_part, p_eid);
        END IF;
    END IF;

    IF NOT p_remove OR e.has_state OR e.owner IS NOT NULL OR last > 0
       OR (e.lease IS NOT NULL AND e.lease_expires > p_now)
    THEN
        RETURN;
    END IF;

    DELETE FROM durable.entities x
        WHERE x.hub = p_hub AND x.partition = p_part AND x.id = p_eid;

    removed := 1;
END
$$;


-- ds_entity_clean(): at most p_max entities after p_after (NULL: from
-- the first), in id order; pos: the last one examined when more are left
-- (C encodes it as the token), else NULL
CREATE OR REPLACE FUNCTION durable.entity_clean(p_hub text, p_after text,
    p_max integer, p_remove boolean, p_release boolean,
    OUT rc integer, OUT removed integer, OUT released integer,
    OUT pos text, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    n     integer;
    now   bigint;
    ids   text[];
    eid   text;
    r     record;
BEGIN
    removed := 0;
    released := 0;

    IF octet_length(p_hub) NOT BETWEEN 1 AND 50 OR p_max IS NULL
       OR p_max < 1
    THEN
        rc := 6;
        RETURN;
    END IF;

    BEGIN
        rc := 0;
        n := durable.hub_partitions(p_hub, false);

        IF n IS NULL THEN
            RETURN;
        END IF;

        now := durable.now_us();

        -- the ids first: the records change after
        ids := ARRAY(SELECT x.id FROM durable.entities x
                     WHERE x.hub = p_hub AND x.id >= '@'
                       AND (p_after IS NULL OR x.id > p_after)
                     ORDER BY x.id
                     LIMIT p_max::bigint + 1);

        IF cardinality(ids) > p_max THEN
            pos := ids[p_max];
            ids := ids[1:p_max];
        END IF;

        FOREACH eid IN ARRAY ids LOOP
            CONTINUE WHEN left(eid, 1) <> '@';

            SELECT * INTO r FROM durable.entity_clean_one(p_hub,
                durable.partition_of(n, eid), eid, p_remove, p_release, now);
            removed := removed + r.removed;
            released := released + r.released;
        END LOOP;

        IF released > 0 THEN
            PERFORM durable.wake(p_hub);
        END IF;

    EXCEPTION
        WHEN others THEN
            IF durable.transient(SQLSTATE) THEN
                RAISE;
            END IF;
            rc := 8;
            removed := 0;
            released := 0;
            pos := NULL;
            error := SQLERRM;
    END;
END
$$;


CREATE OR REPLACE FUNCTION durable.claim_entities_apply(p_hub text,
    p_lease_us bigint, p_tokens bytea[], p_names text[])
RETURNS TABLE (rc integer, id text, state text, has_state boolean,
    upto bigint, lease_expires bigint, lease bytea, operations text[],
    seqs bigint[], visible bigint)
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
    expired   bigint;
    names     text[];
    e         durable.entities;
BEGIN
    max := coalesce(cardinality(p_tokens), 0);
    expired := 0;
    now := durable.now_us();

    IF octet_length(p_hub) NOT BETWEEN 1 AND 50 OR p_lease_us IS NULL
       OR p_lease_us < 1 OR now > 9223372036854775807 - p_lease_us
       OR EXISTS (SELECT 1 FROM unnest(p_tokens) t
                  WHERE NOT durable.valid_lease(t))
    THEN
        RETURN QUERY SELECT 6, NULL::text, NULL::text, NULL::boolean,
            NULL::bigint, NULL::bigint, NULL::bytea, NULL::text[],
            NULL::bigint[], NULL::bigint;
        RETURN;
    END IF;

    -- entity names are kept lower-cased; a filter's are folded (ASCII)
    names := ARRAY(SELECT lower(x COLLATE "C") FROM unnest(p_names) x);
    n := durable.hub_partitions(p_hub, false);

    -- signals due now join their entities' queues (ds_entity_fire())
    IF n IS NOT NULL THEN
        PERFORM durable.fire_timers(p_hub, now, 1000);
    END IF;

    claimed := 0;
    examined := 0;

    WHILE n IS NOT NULL AND claimed < max AND examined < max + 1000 LOOP
        SELECT * INTO e FROM durable.entities x
            WHERE x.hub = p_hub AND x.ready_at > 0 AND x.ready_at <= now
              AND (cardinality(names) = 0
                   OR split_part(x.id, '@', 2) = ANY (names))
            ORDER BY x.ready_at, x.id
            LIMIT 1
            FOR UPDATE SKIP LOCKED;

        EXIT WHEN NOT FOUND;

        examined := examined + 1;

        last := durable.entity_batch_last(p_hub, e.partition, e.id,
                                          e.owner,
                                          CASE WHEN e.has_state
                                               THEN coalesce(
                                                   octet_length(e.state), 0)
                                               ELSE 0 END);

        IF last = 0 THEN
            -- nothing to run (a locked entity waits for its holder)
            UPDATE durable.entities x SET ready_at = 0
                WHERE x.hub = p_hub AND x.partition = e.partition
                  AND x.id = e.id;
            CONTINUE;
        END IF;

        claimed := claimed + 1;
        token := p_tokens[claimed];

        -- completions and abandons clear the lease: this one ran out
        IF e.lease IS NOT NULL THEN
            expired := expired + 1;
        END IF;

        UPDATE durable.entities x
            SET lease = token, lease_expires = now + p_lease_us,
                ready_at = now + p_lease_us, lease_upto = last
            WHERE x.hub = p_hub AND x.partition = e.partition
              AND x.id = e.id;

        RETURN QUERY SELECT 0, e.id, e.state, e.has_state, last,
            now + p_lease_us, token, r.ops, r.seqs, NULL::bigint
            FROM (SELECT array_agg(x.operation ORDER BY x.seq) AS ops,
                         array_agg(x.seq ORDER BY x.seq) AS seqs
                  FROM durable.entity_runnable(p_hub, e.partition, e.id,
                                               e.owner, last) x) r;
    END LOOP;

    -- the first entry of the names asked for, or a timer, whose firing
    -- may queue a scheduled signal (ds_work_next_visible())
    next := least((SELECT min(x.ready_at) FROM durable.entities x
                   WHERE x.hub = p_hub AND x.ready_at > 0
                     AND (cardinality(names) = 0
                          OR split_part(x.id, '@', 2) = ANY (names))),
                  (SELECT min(t.due) FROM durable.timers t
                   WHERE t.hub = p_hub));

    IF next <= now THEN
        next := now + 1000000;
    END IF;

    -- upto of the last row: how many leases ran out (filter->expired)
    RETURN QUERY SELECT 0, NULL::text, NULL::text, NULL::boolean,
        expired, NULL::bigint, NULL::bytea, NULL::text[],
        NULL::bigint[], coalesce(next, 9223372036854775807);
END
$$;


-- ds_work_claim() of entities: leases up to cardinality(p_tokens)
-- entities with runnable operations (of p_names, when given, compared
-- lower-cased), each with the next token, for p_lease_us; a row per item
-- with its state and its runnable operations (seq <= upto), their seqs
-- alongside (the gRPC front end names a signal by its seq). The last row
-- (id NULL) holds rc and visible (9223372036854775807: none known), and
-- in upto the number of items claimed again after their lease ran out.
CREATE OR REPLACE FUNCTION durable.claim_entities(p_hub text,
    p_lease_us bigint, p_tokens bytea[], p_names text[])
RETURNS TABLE (rc integer, id text, state text, has_state boolean,
    upto bigint, lease_expires bigint, lease bytea, operations text[],
    seqs bigint[], visible bigint)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY SELECT * FROM durable.claim_entities_apply(p_hub,
        p_lease_us, p_tokens, p_names);
EXCEPTION
    WHEN others THEN
        IF durable.transient(SQLSTATE) THEN
            RAISE;
        END IF;
        RETURN QUERY SELECT 8, NULL::text, NULL::text, NULL::boolean,
            NULL::bigint, NULL::bigint, NULL::bytea, NULL::text[],
            NULL::bigint[], NULL::bigint;
END
$$;


-- ds_work_renew() and ds_work_abandon() of an entity: renewed, its ready
-- time moves to the new expiry; abandoned, it is ready at once
CREATE OR REPLACE FUNCTION durable.lease_entity(p_hub text, p_eid text,
    p_lease bytea, p_lease_us bigint, p_abandon boolean,
    OUT rc integer, OUT expires bigint, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    n     integer;
    part  integer;
    now   bigint;
    e     durable.entities;
BEGIN
    now := durable.now_us();

    IF NOT durable.valid_key(p_hub, p_eid)
       OR (NOT p_abandon AND (p_lease_us IS NULL OR p_lease_us < 1
                              OR now > 9223372036854775807 - p_lease_us))
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

        part := durable.partition_of(n, p_eid);
        e := durable.entity_lock(p_hub, part, p_eid, false);

        IF e.id IS NULL THEN
            RETURN;
        END IF;

        IF NOT durable.valid_lease(p_lease) OR e.lease IS NULL
           OR e.lease <> p_lease
        THEN
            rc := 2;
            RETURN;
        END IF;

        IF p_abandon THEN
            UPDATE durable.entities x
                SET lease = NULL, lease_expires = 0,
                    ready_at = greatest(now, 1)
                WHERE x.hub = p_hub AND x.partition = part
                  AND x.id = p_eid;

        ELSE
            expires := now + p_lease_us;

            UPDATE durable.entities x
                SET lease_expires = expires, ready_at = expires
                WHERE x.hub = p_hub AND x.partition = part
                  AND x.id = p_eid;
        END IF;

        rc := 0;
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


-- ds_work_complete_entity_results(), fenced by p_lease; p_digest is C's
-- digest of the completion (dsi_entity_digest()). p_state: the new state
-- (JSON text, NULL for null) unless p_delete. p_results: a row per
-- operation delivered, in order, {event type, members after RequestId}
-- (EntityOperationCompleted with "Output":.., or EntityOperationFailed
-- with "Reason":..,"Details":..); a call without a row completes with
-- null. p_actions: a row per action, of eight columns: {'signal', entity
-- id, members "operation":..,"input":.., the time it is due (µs, NULL
-- now), NULL, NULL, NULL, NULL} or {'start', instance id, name, members
-- of its ExecutionStarted (see durable.entity_start()), input, scheduled
-- time (0: none), version, tags}. 1 NOTFOUND, 2 CONFLICT, 7 MISMATCH; a
-- retry of the last completion answers 0 again and writes nothing.
CREATE OR REPLACE FUNCTION durable.complete_entity(p_hub text,
    p_eid text, p_lease bytea, p_digest bigint, p_delete boolean,
    p_state text, p_results text[], p_actions text[],
    OUT rc integer, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    n      integer;
    part   integer;
    i      integer;
    nres   integer;
    now    bigint;
    last   bigint;
    seqs   bigint[];
    ops    text[];
    j      json;
    ev     text;
    e      durable.entities;
BEGIN
    IF NOT durable.valid_key(p_hub, p_eid) OR left(p_eid, 1) <> '@' THEN
        rc := 6;
        RETURN;
    END IF;

    BEGIN
        rc := 1;
        n := durable.hub_partitions(p_hub, false);

        IF n IS NULL THEN
            RETURN;
        END IF;

        part := durable.partition_of(n, p_eid);
        e := durable.entity_lock(p_hub, part, p_eid, false);

        IF e.id IS NULL THEN
            RETURN;
        END IF;

        -- dsi_work_fence()
        IF NOT durable.valid_lease(p_lease) THEN
            rc := 2;
            RETURN;
        END IF;

        IF e.done_lease = p_lease THEN
            rc := CASE WHEN e.done_digest <> 0 AND e.done_digest <> p_digest
                       THEN 7 ELSE 0 END;
            RETURN;
        END IF;

        IF e.lease IS NULL OR e.lease <> p_lease THEN
            rc := 2;
            RETURN;
        END IF;

        now := durable.now_us();
        nres := coalesce(array_length(p_results, 1), 0);

        -- the operations the lease delivered, and the calls among them
        SELECT array_agg(r.seq ORDER BY r.seq),
               array_agg(r.operation ORDER BY r.seq)
            INTO seqs, ops
            FROM durable.entity_runnable(p_hub, part, p_eid, e.owner,
                                         e.lease_upto) r;

        DELETE FROM durable.entity_ops x
            WHERE x.hub = p_hub AND x.partition = part AND x.id = p_eid
              AND x.seq = ANY (seqs);

        last := durable.entity_last(p_hub, part, p_eid);

        UPDATE durable.entities x
            SET has_state = NOT p_delete,
                state = CASE WHEN p_delete THEN NULL ELSE p_state END,
                last_op = now, done_lease = p_lease, done_digest = p_digest,
                lease = NULL, lease_expires = 0,
                ready_at = CASE WHEN last > 0 THEN greatest(now, 1)
                                ELSE 0 END
            WHERE x.hub = p_hub AND x.partition = part AND x.id = p_eid;

        -- the callers hear of their calls
        FOR i IN 1 .. coalesce(cardinality(ops), 0) LOOP
            CONTINUE WHEN strpos(ops[i], '"parentInstanceId":') = 0;

            j := ops[i]::json;

            CONTINUE WHEN json_typeof(j -> 'requestId') IS DISTINCT FROM
                          'string'
                       OR json_typeof(j -> 'parentInstanceId')
                          IS DISTINCT FROM 'string';

            IF i <= nres THEN
                ev := durable.event(p_results[i][1], now,
                    '"RequestId":' || (j -> 'requestId')::text || ','
                    || p_results[i][2]);
            ELSE
                ev := durable.event('EntityOperationCompleted', now,
                    '"RequestId":' || (j -> 'requestId')::text
                    || ',"Output":null');
            END IF;

            PERFORM durable.deliver_life(p_hub, j ->> 'parentInstanceId',
                coalesce((j ->> 'parentExecution')::bigint, 0),
                (j ->> 'parentCreated')::bigint, ev, now, false);
        END LOOP;

        -- signals and starts; a signal to itself waits for the next batch
        FOR i IN 1 .. coalesce(array_length(p_actions, 1), 0) LOOP
            IF p_actions[i][1] = 'signal' THEN
                -- p_actions[i][4]: the time it is due, NULL now
                PERFORM durable.entity_message_at(p_hub, p_actions[i][2],
                    p_actions[i][3], NULL, now,
                    coalesce(p_actions[i][4]::bigint, 0));

            ELSE
                PERFORM durable.entity_start(p_hub, p_actions[i][2],
                    p_actions[i][3], p_actions[i][5], p_actions[i][4],
                    p_actions[i][7], p_actions[i][8],
                    p_actions[i][6]::bigint, now);
            END IF;
        END LOOP;

        -- a lock or unlock request may be at the front now
        IF last > 0 THEN
            PERFORM durable.entity_settle(p_hub, part, p_eid, now, 0);
        END IF;

        rc := 0;
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
