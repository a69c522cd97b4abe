-- What one call of durable.fire_timers() may take: the firing locks of
-- targets without a row (advisory locks, which live in the server's
-- shared lock table, sized max_locks_per_transaction per connection) and
-- the timers of one target. Past either bound the rest waits for a later
-- claim, which the claim's time to look again says is soon.

SELECT set_config('durable_test.base',
                  (durable.now_us() + 3600000000)::text, false) \g /dev/null

-- the advisory locks this session holds
CREATE FUNCTION durable_test.advisory() RETURNS bigint
LANGUAGE sql AS $$
    SELECT count(*) FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.pid = pg_backend_pid()
$$;


-- 1,000 signals for later, each to an entity not made yet, fired in one
-- call: each such target is fired under a firing lock held to commit, so
-- one call takes a bounded number of them (1,000 of these in each of a
-- few concurrent claims ran the lock table out of shared memory, failing
-- every transaction of the server)

DO $$
BEGIN
    FOR n IN 1 .. 1000 LOOP
        PERFORM durable_test.eq(s.rc, 0, 'a signal for later')
            FROM durable.entity_signal('fresh', '@f@' || n,
                     '"operation":"o","input":' || n,
                     current_setting('durable_test.base')::bigint + n) s;
    END LOOP;
END
$$;

BEGIN;
SELECT durable.fire_timers('fresh',
           current_setting('durable_test.base')::bigint + 1000000, 1000)
    AS fired \gset
SELECT durable_test.advisory() AS locks \gset
COMMIT;

SELECT durable_test.ok(:locks <= 64,
                       'at most 64 firing locks in a call, not ' || :locks);
SELECT durable_test.eq(durable_test.advisory(), 0::bigint,
                       'none left after the commit');
SELECT durable_test.ok(:fired > 0 AND :fired < 1000,
                       'some fire, the rest wait: ' || :fired);
SELECT durable_test.eq(count(*), :fired::bigint,
                       'an entity for each signal fired')
    FROM durable.entities e WHERE e.hub = 'fresh';

-- the rest, due now: a claim fires some and, with nothing of its names
-- to take, looks again in a second, not when the next timer is due
UPDATE durable.timers SET due = 1 WHERE hub = 'fresh';
SELECT durable_test.ok(c.visible <= durable.now_us() + 1000000,
                       'a claim looks again soon')
    FROM durable.claim_orchestrations('fresh', 1000000,
                                      ARRAY[durable_test.lease(1)],
                                      ARRAY['nothing']) c
    WHERE c.id IS NULL;
SELECT durable_test.ok(count(*) > 0, 'timers left for the next claim')
    FROM durable.timers t WHERE t.hub = 'fresh';

-- later claims fire the rest, each signal once
DO $$
BEGIN
    FOR i IN 1 .. 100 LOOP
        EXIT WHEN NOT EXISTS (SELECT FROM durable.timers t
                              WHERE t.hub = 'fresh');
        PERFORM durable.fire_timers('fresh', durable.now_us(), 1000);
    END LOOP;
END
$$;
SELECT durable_test.eq(count(*), 0::bigint, 'every timer fired')
    FROM durable.timers t WHERE t.hub = 'fresh';
SELECT durable_test.eq(count(DISTINCT o.id), 1000::bigint,
                       'each entity got its signal')
    FROM durable.entity_ops o WHERE o.hub = 'fresh';
SELECT durable_test.eq(count(*), 1000::bigint, 'each signal queued once')
    FROM durable.entity_ops o WHERE o.hub = 'fresh';


-- Two instances with 150 due timers each, their due times interleaved:
-- a call fires at most 100 of one target (the firer holding a target
-- with thousands of due timers would otherwise spend its whole budget
-- there), counted over the call, not each time the walk comes back to
-- the target; the rest fire later, each target's in order.

DO $$
BEGIN
    PERFORM durable_test.eq(s.rc, 0, 'started') FROM
        unnest(ARRAY['x', 'y']) i,
        durable.start('many', i, 'Timers', NULL, '"Name":"Timers"') s;
    INSERT INTO durable.timers (hub, partition, id, timer_id, due, fire_at)
        SELECT 'many', durable_test.part('many', i), i, n,
               current_setting('durable_test.base')::bigint + 2 * n + k,
               1
        FROM generate_series(1, 150) n,
             (VALUES ('x', 0), ('y', 1)) v(i, k);
END
$$;

-- the TimerIds fired to an instance, in inbox order
CREATE FUNCTION durable_test.fired(p_id text) RETURNS integer[]
LANGUAGE sql AS $$
    SELECT coalesce(array_agg((regexp_match(m.message,
                                  '"TimerId":(\d+)'))[1]::integer
                              ORDER BY m.seq), '{}')
    FROM durable.inbox m
    WHERE m.hub = 'many' AND m.id = p_id
      AND m.message LIKE '{"EventType":"TimerFired"%'
$$;

SELECT durable_test.eq(durable.fire_timers('many',
                           current_setting('durable_test.base')::bigint
                           + 1000000, 1000),
                       200, 'a call fires 100 of each');
SELECT durable_test.eq(durable_test.fired(i),
                       ARRAY(SELECT generate_series(1, 100)),
                       'the first 100 of ' || i || ', in order')
    FROM unnest(ARRAY['x', 'y']) i;

SELECT durable_test.eq(durable.fire_timers('many',
                           current_setting('durable_test.base')::bigint
                           + 1000000, 1000),
                       100, 'the next call fires the rest');
SELECT durable_test.eq(durable_test.fired(i),
                       ARRAY(SELECT generate_series(1, 150)),
                       'all 150 of ' || i || ', in order')
    FROM unnest(ARRAY['x', 'y']) i;
