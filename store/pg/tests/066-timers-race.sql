-- Two claims firing the same hub's timers at once (durable.fire_timers()
-- in two sessions): each target's due timers must reach its queue or
-- inbox in LMDB's order (due, id, timer id), and neither firer may wait
-- for the other, so they cannot deadlock.
--
-- The race is made deterministic by a third session, C, that is making
-- the entity @p@0 (a signal for now, in a transaction it keeps open):
-- firer A stops at @p@0's timer, in the middle of its work, and waits
-- for C while firer B runs; then C rolls back and A goes on. A firer
-- that took timers one row at a time (FOR UPDATE SKIP LOCKED, rows
-- locked as its cursor fetched them) let B take a later timer of a
-- target A was firing, B wait for A's lock on it, and A fire a timer due
-- later still before B's: the queue out of order, or, when B held a
-- target A came to later, a deadlock.

SELECT set_config('durable_test.base',
                  (durable.now_us() + 3600000000)::text, false) \g /dev/null
CREATE EXTENSION dblink;

-- a timer due at base + p_at: a signal (input p_n) for an entity, a
-- timer (id p_n) of an instance
CREATE FUNCTION durable_test.timer(p_hub text, p_id text, p_at integer,
    p_n integer)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    due  bigint;
BEGIN
    due := current_setting('durable_test.base')::bigint + p_at;

    IF left(p_id, 1) = '@' THEN
        PERFORM durable_test.eq(s.rc, 0, 'a signal for later')
            FROM durable.entity_signal(p_hub, p_id,
                     '"operation":"o","input":' || p_n, due) s;
    ELSE
        INSERT INTO durable.timers (hub, partition, id, timer_id, due,
                fire_at)
            VALUES (p_hub, durable_test.part(p_hub, p_id), p_id, p_n, due,
                    due);
    END IF;
END
$$;

-- one timer for each entity @f@N, at base + N, for N in p_from .. p_to;
-- the entities made before (a signal for now, input 0): a call fires a
-- bounded number of targets without a row (067-timers-bounds.sql)
CREATE FUNCTION durable_test.fillers(p_hub text, p_from integer,
    p_to integer)
RETURNS void
LANGUAGE sql AS $$
    SELECT durable_test.eq(s.rc, 0, 'a filler made')
    FROM generate_series(p_from, p_to) n,
         durable.entity_signal(p_hub, '@f@' || n,
                               '"operation":"o","input":0') s;
    SELECT durable_test.timer(p_hub, '@f@' || n, n, 1)
    FROM generate_series(p_from, p_to) n
$$;

-- the query of a firer: the hub's timers due by base + 1 s
CREATE FUNCTION durable_test.fire(p_hub text) RETURNS text
LANGUAGE sql AS $$
    SELECT format('SELECT durable.fire_timers(%L, %s, 1000)', p_hub,
                  current_setting('durable_test.base')::bigint + 1000000)
$$;

-- the session p_conn makes the entity p_eid (a signal for now, input
-- 0) in a transaction it keeps open
CREATE FUNCTION durable_test.making(p_conn text, p_hub text, p_eid text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dblink_exec(p_conn, 'BEGIN');
    PERFORM durable_test.eq(r.rc, 0, p_conn || ' makes ' || p_eid)
        FROM dblink(p_conn, format('SELECT rc FROM durable.entity_signal('
                                   '%L, %L, %L)', p_hub, p_eid,
                                   '"operation":"o","input":0'))
        AS r(rc integer);
END
$$;

-- the race: A fires the hub's timers and stops at @p@0, which C is
-- making; B fires them; C rolls back. a and b: how many each fired;
-- b_waited: whether B waited for A; errors: the sessions' errors, 'OK'
-- each when none.
CREATE FUNCTION durable_test.race(p_hub text, OUT a integer,
    OUT b integer, OUT b_waited boolean, OUT errors text)
LANGUAGE plpgsql AS $$
DECLARE
    ea  text;
    eb  text;
BEGIN
    PERFORM durable_test.sessions(ARRAY['a', 'b', 'c']);

    PERFORM durable_test.making('c', p_hub, '@p@0');

    PERFORM durable_test.ok(durable_test.send('a', durable_test.fire(p_hub)),
                            'A waits for C, making @p@0');
    b_waited := durable_test.send('b', durable_test.fire(p_hub));

    PERFORM dblink_exec('c', 'ROLLBACK');

    SELECT r.n, r.error INTO a, ea FROM durable_test.answer('a') r;
    SELECT r.n, r.error INTO b, eb FROM durable_test.answer('b') r;
    errors := ea || ', ' || eb;

    PERFORM durable_test.disconnect(ARRAY['a', 'b', 'c']);
END
$$;

-- the inputs of an entity's queued operations, in queue order
CREATE FUNCTION durable_test.inputs(p_hub text, p_eid text) RETURNS text
LANGUAGE sql AS $$
    SELECT string_agg((regexp_match(o.operation, '"input":(\d+)'))[1],
                      ',' ORDER BY o.seq)
    FROM durable.entity_ops o WHERE o.hub = p_hub AND o.id = p_eid
$$;


-- The order. A's first rows: @e@1's first timer, i1's first, @p@0's,
-- fillers; B's first: @e@1's second, i1's second, fillers; the third of
-- each far behind.

DO $$
BEGIN
    PERFORM durable_test.eq(s.rc, 0, 'i1 started') FROM
        durable.start('order', 'i1', 'Timers', NULL, '"Name":"Timers"') s;
    PERFORM durable_test.timer('order', '@e@1', 1, 1);
    PERFORM durable_test.timer('order', 'i1', 2, 1);
    PERFORM durable_test.timer('order', '@p@0', 3, 1);
    PERFORM durable_test.fillers('order', 4, 10);
    PERFORM durable_test.timer('order', '@e@1', 11, 2);
    PERFORM durable_test.timer('order', 'i1', 12, 2);
    PERFORM durable_test.fillers('order', 13, 199);
    PERFORM durable_test.timer('order', '@e@1', 200, 3);
    PERFORM durable_test.timer('order', 'i1', 201, 3);
    PERFORM durable_test.fillers('order', 202, 210);
END
$$;

SELECT count(*) AS timers,
       count(*) FILTER (WHERE t.id LIKE '@f@%') AS fillers
    FROM durable.timers t WHERE t.hub = 'order' \gset
SELECT * FROM durable_test.race('order') \gset

SELECT durable_test.eq(:'errors'::text, 'OK, OK', 'no firer fails');
SELECT durable_test.eq(:'b_waited'::boolean, false,
                       'B passes over what A fires, without waiting');
SELECT durable_test.eq(:a + :b, :timers, 'every timer fires once');
SELECT durable_test.eq(:b, :fillers,
                       'B fires the targets A has not come to');
SELECT durable_test.eq(count(*), 0::bigint, 'no timer is left')
    FROM durable.timers t WHERE t.hub = 'order';
SELECT durable_test.eq(durable_test.inputs('order', '@e@1'), '1,2,3',
                       'the signals of @e@1 queued in their order');
SELECT durable_test.eq(string_agg((regexp_match(m.message,
                                       '"TimerId":(\d+)'))[1],
                                  ',' ORDER BY m.seq),
                       '1,2,3', 'the timers of i1 fired in their order')
    FROM durable.inbox m
    WHERE m.hub = 'order' AND m.id = 'i1'
      AND m.message LIKE '{"EventType":"TimerFired"%';
SELECT durable_test.eq(count(*), :fillers::bigint,
                       'each filler''s signal queued once')
    FROM durable.entity_ops o
    WHERE o.hub = 'order' AND o.id LIKE '@f@%'
      AND o.operation LIKE '%"input":1%';


-- The deadlock. A's first rows: @e@1's first timer, @p@0's, fillers; B's
-- first: @g@1's first, @e@1's second; @g@1's second far behind, which A
-- would come to while B waits for @e@1.

DO $$
BEGIN
    PERFORM durable_test.timer('deadlock', '@e@1', 1, 1);
    PERFORM durable_test.timer('deadlock', '@p@0', 2, 1);
    PERFORM durable_test.fillers('deadlock', 3, 10);
    PERFORM durable_test.timer('deadlock', '@g@1', 11, 1);
    PERFORM durable_test.timer('deadlock', '@e@1', 12, 2);
    PERFORM durable_test.fillers('deadlock', 13, 199);
    PERFORM durable_test.timer('deadlock', '@g@1', 200, 2);
END
$$;

SELECT count(*) AS timers FROM durable.timers WHERE hub = 'deadlock' \gset
SELECT * FROM durable_test.race('deadlock') \gset

SELECT durable_test.eq(:'errors'::text, 'OK, OK',
                       'no firer fails (no deadlock)');
SELECT durable_test.eq(:a + :b, :timers, 'every timer fires once');
SELECT durable_test.eq(durable_test.inputs('deadlock', '@e@1'), '1,2',
                       'the signals of @e@1 queued in their order');
SELECT durable_test.eq(durable_test.inputs('deadlock', '@g@1'), '1,2',
                       'the signals of @g@1 queued in their order');


-- The entity made under a firer. A fires @m@1, which has no row, under
-- its firing lock, and waits for D, which holds @m@1's timer; C commits
-- the entity meanwhile; then B finds @m@1's row free. B must pass over
-- a target whose firing lock A holds: if it fired @m@1 too, it would
-- wait for the timer A is taking while A waits for B's row lock.

CREATE FUNCTION durable_test.race_made(p_hub text, OUT a integer,
    OUT b integer, OUT b_waited boolean, OUT errors text)
LANGUAGE plpgsql AS $$
DECLARE
    ea  text;
    eb  text;
BEGIN
    PERFORM durable_test.sessions(ARRAY['a', 'b', 'c', 'd']);

    PERFORM dblink_exec('d', 'BEGIN');
    PERFORM durable_test.eq(count(*), 1::bigint, 'D holds the timer')
        FROM dblink('d', format('SELECT 1 FROM durable.timers '
                                'WHERE hub = %L FOR UPDATE', p_hub))
        AS r(x integer);
    PERFORM durable_test.making('c', p_hub, '@m@1');

    PERFORM durable_test.ok(durable_test.send('a', durable_test.fire(p_hub)),
                            'A waits for D, holding @m@1''s timer');
    PERFORM dblink_exec('c', 'COMMIT');

    b_waited := durable_test.send('b', durable_test.fire(p_hub));

    PERFORM dblink_exec('d', 'ROLLBACK');

    SELECT r.n, r.error INTO b, eb FROM durable_test.answer('b') r;
    SELECT r.n, r.error INTO a, ea FROM durable_test.answer('a') r;
    errors := ea || ', ' || eb;

    PERFORM durable_test.disconnect(ARRAY['a', 'b', 'c', 'd']);
END
$$;

SELECT durable_test.timer('made', '@m@1', 1, 1);
SELECT * FROM durable_test.race_made('made') \gset

SELECT durable_test.eq(:'errors'::text, 'OK, OK',
                       'no firer fails (no deadlock)');
SELECT durable_test.eq(:'b_waited'::boolean, false,
                       'B passes over what A fires, without waiting');
SELECT durable_test.eq(:a || ' ' || :b, '1 0', 'A fires @m@1, B nothing');
SELECT durable_test.eq(durable_test.inputs('made', '@m@1'), '0,1',
                       'C''s signal, then the timer''s');
