-- ngx_durable PostgreSQL schema: orchestration work items (timers that
-- fire, claims, renewals, abandons). Conventions: 00-common.sql.
-- By hand, run it only with `psql -1 -v ON_ERROR_STOP=1 -f` (as `durable
-- schema` does): a plain `psql -f` goes on past an error (docs/postgres.md).


-- whether no other transaction holds the firing lock of the target whose
-- key is p_key (durable.timer_target_lock()): a session lock conflicts
-- with a transaction's, and this one is let go in the same expression
-- (session locks outlive a transaction; nothing may stop in between)
CREATE OR REPLACE FUNCTION durable.timer_firing_free(p_key integer)
RETURNS boolean
LANGUAGE sql AS $$
    SELECT CASE
        WHEN pg_try_advisory_lock(hashtext('durable.timers'), p_key)
        THEN pg_advisory_unlock(hashtext('durable.timers'), p_key)
        ELSE false
    END
$$;


-- the row of the target p_id (an entity when p_entity, else an
-- instance), locked without waiting: 1 locked, 0 another transaction
-- holds it, -1 none (that this transaction sees)
CREATE OR REPLACE FUNCTION durable.timer_target_row(p_hub text,
    p_part integer, p_id text, p_entity boolean)
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
    IF p_entity THEN
        PERFORM FROM durable.entities x
            WHERE x.hub = p_hub AND x.partition = p_part AND x.id = p_id
            FOR UPDATE SKIP LOCKED;

        IF FOUND THEN
            RETURN 1;
        END IF;

        PERFORM FROM durable.entities x
            WHERE x.hub = p_hub AND x.partition = p_part AND x.id = p_id;

    ELSE
        PERFORM FROM durable.instances i
            WHERE i.hub = p_hub AND i.partition = p_part AND i.id = p_id
            FOR UPDATE SKIP LOCKED;

        IF FOUND THEN
            RETURN 1;
        END IF;

        PERFORM FROM durable.instances i
            WHERE i.hub = p_hub AND i.partition = p_part AND i.id = p_id;
    END IF;

    RETURN CASE WHEN FOUND THEN 0 ELSE -1 END;
END
$$;


-- its form before the bounds of durable.fire_timers(), in databases of
-- schema 6 made before them (no table changed: no upgrade file)
DROP FUNCTION IF EXISTS durable.timer_target_lock(text, integer, text,
                                                  boolean);

-- whether this transaction may fire the due timers of the target p_id
-- (an entity when p_entity, else an instance), and how: 0 passed over,
-- 1 under its row lock, 2 under its firing lock (the target had no row;
-- taken only when p_may_take). Neither lock is waited for: a firer
-- never waits to take a target, and so never waits for one that is
-- firing it. Firing, it can still wait for a transaction writing the
-- target: one making its row (the signal that makes an entity), or,
-- when that one committed meanwhile, a firer that locked the new row and
-- passed over it (below); not in a cycle, as the one passing over takes
-- nothing more of the target.
--
-- The row lock, taken before the timers', passes over a target another
-- transaction is writing (completing, claiming, terminating), as the
-- claims pass over the rows they find locked; between firers it needs
-- nothing else, so a call fires any number of targets with rows. A
-- target without a row (an entity is made by its first signal; an
-- instance's timer is dropped) takes the firing lock instead, an
-- advisory lock held to commit and kept in the server's shared lock
-- table (max_locks_per_transaction a connection): the caller bounds how
-- many it takes. A third transaction may commit that row while a firer
-- holds the firing lock: the row is looked for again once the lock is
-- taken, and a firer that got the row lock passes over a target whose
-- firing lock another holds (else it would take the timers the other is
-- firing and wait for it, while the other waits for its row lock).
CREATE OR REPLACE FUNCTION durable.timer_target_lock(p_hub text,
    p_part integer, p_id text, p_entity boolean, p_may_take boolean)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    key  integer;
    got  integer;
BEGIN
    key := hashtext(p_hub || '/' || p_id);
    got := durable.timer_target_row(p_hub, p_part, p_id, p_entity);

    IF got = 1 THEN
        RETURN CASE WHEN durable.timer_firing_free(key) THEN 1 ELSE 0 END;
    END IF;

    IF got = 0 OR NOT p_may_take
       OR NOT pg_try_advisory_xact_lock(hashtext('durable.timers'), key)
    THEN
        RETURN 0;
    END IF;

    -- made meanwhile: its row too (the firing lock stays to commit)
    IF durable.timer_target_row(p_hub, p_part, p_id, p_entity) = 0 THEN
        RETURN 0;
    END IF;

    RETURN 2;
END
$$;


-- ds_work_fire_timers(): at most p_max due timers become TimerFired
-- messages of their instances; an entity's timer puts the signal it
-- carries in the entity's queue. A target (instance or entity) is fired
-- under its lock (durable.timer_target_lock()), its due timers at once,
-- in order. Timers locked one at a time instead let two firers share a
-- target: one took a later timer while the other still held an earlier
-- one, waited for it, and queued it after timers due later still, or
-- deadlocked with it (066-timers-race.sql). The targets come in the
-- order of their first due timer; one another firer holds is passed
-- over, as a claim passes over a row another claim holds.
--
-- A call takes at most 64 firing locks (targets without a row: a few
-- connections firing thousands each ran the server's lock table out of
-- shared memory, failing every transaction) and fires at most 100
-- timers of one target (a target with thousands due kept its firer's
-- whole budget), in due order; a later claim fires the rest, and the
-- claims look again in a second while a timer is due (067-timers-
-- bounds.sql).
CREATE OR REPLACE FUNCTION durable.fire_timers(p_hub text, p_now bigint,
    p_max integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    fired  integer;
    fresh  integer;
    got    integer;
    d      record;
    t      record;
BEGIN
    fired := 0;
    fresh := 0;

    -- read, not locked: the locks are the targets'. The rows examined
    -- are bounded as a claim's are, past what this one fires; each
    -- target once, in the order of its first due timer (a target met
    -- again is not tried again, nor fired past its cap)
    FOR d IN
        SELECT w.partition, w.id, w.entity
        FROM (SELECT x.partition, x.id, x.message IS NOT NULL AS entity,
                     x.due
              FROM durable.timers x
              WHERE x.hub = p_hub AND x.due <= p_now
              -- LMDB's order (its key): timers due together fire by id
              -- and timer id, so two signals for one time reach the
              -- queue in the order they were sent
              ORDER BY x.due, x.id, x.timer_id
              LIMIT p_max + 1000) w
        GROUP BY w.partition, w.id, w.entity
        ORDER BY min(w.due), w.id
    LOOP
        EXIT WHEN fired >= p_max;

        got := durable.timer_target_lock(p_hub, d.partition, d.id,
                                         d.entity, fresh < 64);
        CONTINUE WHEN got = 0;

        IF got = 2 THEN
            fresh := fresh + 1;
        END IF;

        FOR t IN
            SELECT * FROM durable.timers x
            WHERE x.hub = p_hub AND x.partition = d.partition
              AND x.id = d.id AND x.due <= p_now
            ORDER BY x.due, x.timer_id
            LIMIT least(p_max - fired, 100)
            FOR UPDATE
        LOOP
            DELETE FROM durable.timers x
                WHERE x.hub = p_hub AND x.partition = t.partition
                  AND x.id = t.id AND x.timer_id = t.timer_id;

            IF t.message IS NOT NULL THEN
                PERFORM durable.entity_send(p_hub, t.id, t.message, p_now,
                                            0);
            ELSE
                PERFORM durable.deliver(p_hub, t.id, 0,
                    durable.event('TimerFired', p_now,
                                  '"TimerId":' || t.timer_id
                                  || ',"FireAt":"'
                                  || durable.time_text(t.fire_at) || '"'),
                    p_now, false);
            END IF;

            fired := fired + 1;
        END LOOP;
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
    expired   bigint;
    want      integer;
    got       integer;
    inst      durable.instances;
BEGIN
    max := coalesce(cardinality(p_tokens), 0);
    expired := 0;
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

    -- as many due instances as there are tokens left, in one scan of the
    -- ready index; again only when some of them were moot. One scan an
    -- instance walked from the front each time, past the entries this
    -- transaction took (dead to it) and those other claims hold (SKIP
    -- LOCKED tries each), as activity claims did (docs/postgres.md,
    -- Claims from many hosts)
    WHILE n IS NOT NULL AND claimed < max AND examined < max + 1000 LOOP
        want := max - claimed;
        got := 0;

        FOR inst IN SELECT * FROM durable.instances i
            WHERE i.hub = p_hub AND i.ready_at > 0 AND i.ready_at <= now
              AND (coalesce(cardinality(p_names), 0) = 0
                   OR i.name = ANY (p_names))
            ORDER BY i.ready_at, i.id
            LIMIT want
            FOR UPDATE SKIP LOCKED
        LOOP
            got := got + 1;
            examined := examined + 1;
            last := 0;

            IF NOT durable.terminal(inst.status) AND inst.status <> 7 THEN
                SELECT coalesce(max(m.seq), 0) INTO last
                    FROM durable.inbox m
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

            -- completions and abandons clear the lease: this one ran out
            IF inst.lease IS NOT NULL THEN
                expired := expired + 1;
            END IF;

            UPDATE durable.instances i
                SET lease = token, lease_expires = now + p_lease_us,
                    ready_at = now + p_lease_us, lease_upto = last,
                    episode_at = now
                WHERE i.hub = p_hub AND i.partition = inst.partition
                  AND i.id = inst.id;

            RETURN QUERY SELECT 0, inst.id, inst.name, inst.input,
                inst.execution, now, inst.status, last, now + p_lease_us,
                token,
                ARRAY(SELECT h.event FROM durable.history h
                      WHERE h.hub = p_hub AND h.partition = inst.partition
                        AND h.id = inst.id
                      ORDER BY h.seq),
                ARRAY(SELECT durable.message_public(m.message)
                      FROM durable.inbox m
                      WHERE m.hub = p_hub AND m.partition = inst.partition
                        AND m.id = inst.id AND m.seq <= last
                      ORDER BY m.seq),
                NULL::bigint;
        END LOOP;

        -- fewer than asked for: nothing else is due
        EXIT WHEN got < want;
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

    -- upto of the last row: how many leases ran out (filter->expired)
    RETURN QUERY SELECT 0, NULL::text, NULL::text, NULL::text,
        NULL::bigint, NULL::bigint, NULL::smallint, expired,
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
        IF durable.transient(SQLSTATE) THEN
            RAISE;
        END IF;
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
            IF durable.transient(SQLSTATE) THEN
                RAISE;
            END IF;
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
            IF durable.transient(SQLSTATE) THEN
                RAISE;
            END IF;
            rc := 8;
            error := SQLERRM;
    END;
END
$$;
