-- ngx_durable PostgreSQL schema: orchestration work items (timers that
-- fire, claims, renewals, abandons). Conventions: 00-common.sql.


-- whether this transaction may fire the due timers of the target p_id
-- (an entity when p_entity, else an instance): it takes the target's
-- firing lock and row lock, or neither, never waiting. The firing lock
-- (advisory, for this transaction) keeps other firers off a target whose
-- row may not exist yet (an entity is made by its first signal); the row
-- lock, taken before the timers', passes over a target another
-- transaction is writing (completing, claiming, terminating), as the
-- claims pass over the rows they find locked. A target without a row is
-- fired: the signal makes the entity, an instance's timer is dropped.
CREATE OR REPLACE FUNCTION durable.timer_target_lock(p_hub text,
    p_part integer, p_id text, p_entity boolean)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('durable.timers'),
                                     hashtext(p_hub || '/' || p_id))
    THEN
        RETURN false;
    END IF;

    IF p_entity THEN
        PERFORM FROM durable.entities x
            WHERE x.hub = p_hub AND x.partition = p_part AND x.id = p_id
            FOR UPDATE SKIP LOCKED;

        RETURN FOUND OR NOT EXISTS (SELECT FROM durable.entities x
                                    WHERE x.hub = p_hub
                                      AND x.partition = p_part
                                      AND x.id = p_id);
    END IF;

    PERFORM FROM durable.instances i
        WHERE i.hub = p_hub AND i.partition = p_part AND i.id = p_id
        FOR UPDATE SKIP LOCKED;

    RETURN FOUND OR NOT EXISTS (SELECT FROM durable.instances i
                                WHERE i.hub = p_hub AND i.partition = p_part
                                  AND i.id = p_id);
END
$$;


-- ds_work_fire_timers(): at most p_max due timers become TimerFired
-- messages of their instances; an entity's timer puts the signal it
-- carries in the entity's queue. A target (instance or entity) is fired
-- whole: under its locks (durable.timer_target_lock()), all its due
-- timers at once, in order. Timers locked one at a time instead let two
-- firers share a target: one took a later timer while the other still
-- held an earlier one, waited for it, and queued it after timers due
-- later still, or deadlocked with it (066-timers-race.sql). The targets
-- come in the order of their first due timer; one another firer holds
-- is passed over, as a claim passes over a row another claim holds.
CREATE OR REPLACE FUNCTION durable.fire_timers(p_hub text, p_now bigint,
    p_max integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    fired  integer;
    last   text;
    d      record;
    t      record;
BEGIN
    fired := 0;

    -- read, not locked: the locks are the targets'; a target's timers
    -- seen again (fired already, or held) cost a look each. The rows
    -- examined are bounded as a claim's are, past what this one fires.
    FOR d IN
        SELECT x.partition, x.id, x.message IS NOT NULL AS entity
        FROM durable.timers x
        WHERE x.hub = p_hub AND x.due <= p_now
        -- LMDB's order (its key): timers due together fire by id and
        -- timer id, so two signals for one time reach the queue in the
        -- order they were sent
        ORDER BY x.due, x.id, x.timer_id
        LIMIT p_max + 1000
    LOOP
        EXIT WHEN fired >= p_max;

        CONTINUE WHEN d.id = last;
        last := d.id;

        CONTINUE WHEN NOT durable.timer_target_lock(p_hub, d.partition,
                                                    d.id, d.entity);

        FOR t IN
            SELECT * FROM durable.timers x
            WHERE x.hub = p_hub AND x.partition = d.partition
              AND x.id = d.id AND x.due <= p_now
            ORDER BY x.due, x.timer_id
            LIMIT p_max - fired
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
                ARRAY(SELECT m.message FROM durable.inbox m
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
