-- purge by filter in batches: only terminal instances, at most max a
-- call, more while matches remain

DO $$
DECLARE
    i      integer;
    r      record;
    total  integer;
BEGIN
    FOR i IN 1..12 LOOP
        PERFORM durable.start('hub', 'p' || lpad(i::text, 2, '0'), 'N', NULL,
                              '');
    END LOOP;

    UPDATE durable.instances SET created = 100 * (id::text > 'p06')::int + 1
        WHERE hub = 'hub';

    FOR i IN 1..10 LOOP
        PERFORM durable.terminate('hub', 'p' || lpad(i::text, 2, '0'), NULL);
    END LOOP;

    UPDATE durable.instances SET status = 1 WHERE id IN ('p09', 'p10');

    -- Completed only, in the second half of time: p09, p10
    r := durable.purge_batch('hub', 50, 0, 1 << 1, 10);
    PERFORM durable_test.eq(r.rc, 0, 'purge Completed');
    PERFORM durable_test.eq(r.deleted, 2, 'two Completed');
    PERFORM durable_test.eq(r.more, false, 'none left');

    -- an active status in the mask deletes nothing active
    r := durable.purge_batch('hub', 0, 0, 1 << 6, 10);
    PERFORM durable_test.eq(r.deleted, 0, 'Pending is never purged');

    -- batches of 3 of the rest: 8 terminated
    total := 0;

    LOOP
        r := durable.purge_batch('hub', 0, 0, 0, 3);
        PERFORM durable_test.eq(r.rc, 0, 'batch rc');
        PERFORM durable_test.ok(r.deleted <= 3, 'at most max');
        total := total + r.deleted;
        EXIT WHEN NOT r.more;
        PERFORM durable_test.eq(r.deleted, 3, 'a full batch when more');
    END LOOP;

    PERFORM durable_test.eq(total, 8, 'every terminated one');
    PERFORM durable_test.eq(ARRAY(SELECT x.id FROM durable.instances x
                                  ORDER BY x.id),
                            ARRAY['p11', 'p12'], 'the active ones stay');
    PERFORM durable_test.eq((SELECT count(*) FROM durable.history
                             WHERE id NOT IN ('p11', 'p12')), 0::bigint,
                            'their history went with them');
END
$$;

-- a batch of many: every row of its instances goes (history, messages,
-- pending and completed activities, timers), the others' stay, the
-- counts stay the rows', and each table is deleted from by one statement
-- a batch, so its count trigger runs once, not once an instance
SELECT durable.hub_partitions('big', true) \g /dev/null

INSERT INTO durable.instances (hub, partition, id, status, suspended_from,
    created, updated, execution, name, ready_at)
SELECT 'big', durable_test.part('big', 'b' || g), 'b' || g,
       CASE WHEN g % 5 = 0 THEN 0 ELSE 1 + 2 * (g % 2) END, 0, g, g, 1, 'N',
       g % 3
FROM generate_series(1, 500) g;

INSERT INTO durable.history (hub, partition, id, seq, event)
SELECT i.hub, i.partition, i.id, s, '{}'
FROM durable.instances i, generate_series(1, 3) s WHERE i.hub = 'big';
INSERT INTO durable.inbox (hub, partition, id, seq, message)
SELECT i.hub, i.partition, i.id, 1, '{}'
FROM durable.instances i WHERE i.hub = 'big' AND i.created % 2 = 0;
INSERT INTO durable.activities (hub, partition, id, task_id, name,
    ready_at, done)
SELECT i.hub, i.partition, i.id, t, 'A', t - 1, t = 1
FROM durable.instances i, generate_series(1, 2) t WHERE i.hub = 'big';
INSERT INTO durable.timers (hub, partition, id, timer_id, due, fire_at)
SELECT i.hub, i.partition, i.id, 1, 5, 5
FROM durable.instances i WHERE i.hub = 'big' AND i.created % 4 = 0;

BEGIN;
SET LOCAL track_functions = 'pl';

SELECT durable_test.eq(
    (SELECT concat_ws(' ', r.rc, r.deleted, r.more)
     FROM durable.purge_batch('big', 0, 0, 0, 1000) r),
    '0 400 f', 'a batch of 400');

SELECT durable_test.eq(
    (SELECT string_agg(f.funcname || ' ' || f.calls, ','
                       ORDER BY f.funcname)
     FROM pg_stat_xact_user_functions f
     WHERE f.schemaname = 'durable'
       AND f.funcname IN ('count_instances', 'count_ready',
                          'count_timers')),
    'count_instances 1,count_ready 1,count_timers 1',
    'count triggers run by the batch');
COMMIT;

SELECT durable_test.eq(
    (SELECT string_agg(t || ' ' || n, ',' ORDER BY t)
     FROM (SELECT 'activities' AS t, count(*) AS n FROM durable.activities
           WHERE hub = 'big'
           UNION ALL
           SELECT 'history', count(*) FROM durable.history WHERE hub = 'big'
           UNION ALL
           SELECT 'inbox', count(*) FROM durable.inbox WHERE hub = 'big'
           UNION ALL
           SELECT 'instances', count(*) FROM durable.instances
           WHERE hub = 'big' AND status = 0
           UNION ALL
           SELECT 'timers', count(*) FROM durable.timers
           WHERE hub = 'big') c),
    'activities 200,history 300,inbox 50,instances 100,timers 25',
    'the rows of the 100 running instances stay, no other');

SELECT durable_test.eq(durable_test.counted(), durable_test.recount(),
                       'the counts after the batch');

-- durable.purge_batch_for(): the same batch bounded by time too (level
-- 3), in rounds, the first of one instance: max and the filter as
-- purge_batch()'s; a negative bound stops after the first round, a
-- bound of the caller's or a quarter of statement_timeout after the
-- round that reaches it
DO $$
DECLARE
    i      integer;
    r      record;
    total  integer;
BEGIN
    FOR i IN 1..30 LOOP
        PERFORM durable.start('tb', 't' || lpad(i::text, 2, '0'), 'N', NULL,
                              '');
        PERFORM durable.terminate('tb', 't' || lpad(i::text, 2, '0'),
                                  NULL);
    END LOOP;

    PERFORM durable.start('tb', 'running', 'N', NULL, '');

    r := durable.purge_batch_for('tb', 0, 0, 0, 10, -1);
    PERFORM durable_test.eq(concat_ws(' ', r.rc, r.deleted, r.more),
                            '0 1 t', 'negative: one round, of one');

    r := durable.purge_batch_for('tb', 0, 0, 0, 10, 0);
    PERFORM durable_test.eq(concat_ws(' ', r.rc, r.deleted, r.more),
                            '0 10 t', 'no bound: max, in rounds');

    r := durable.purge_batch_for('tb', 0, 0, 1 << 1, 10, 0);
    PERFORM durable_test.eq(concat_ws(' ', r.rc, r.deleted, r.more),
                            '0 0 f', 'the status filter: no Completed');

    r := durable.purge_batch_for('tb', 0, 0, 0, -1, 0);
    PERFORM durable_test.eq(r.rc, 6, 'a negative max is invalid');

    -- a bound shorter than any round: one round each time, which grows
    -- by no more than four times the last, and no less than one
    total := 0;

    FOR i IN 1..30 LOOP
        r := durable.purge_batch_for('tb', 0, 0, 0, 1000, 1);
        PERFORM durable_test.eq(r.rc, 0, 'a bound of 1 µs: rc');
        PERFORM durable_test.eq(r.deleted, 1, 'a bound of 1 µs: one');
        total := total + r.deleted;
        EXIT WHEN NOT r.more;
    END LOOP;

    PERFORM durable_test.eq(total, 19, 'every terminated one');
    PERFORM durable_test.eq(ARRAY(SELECT x.id FROM durable.instances x
                                  WHERE x.hub = 'tb'),
                            ARRAY['running'], 'the active one stays');
END
$$;

-- statement_timeout bounds it where the caller does not: each batch
-- stops at a quarter of it, after the round that reaches it, so that a
-- purge of instances of 10,000 events each is never cancelled, and goes
-- on to the end a batch after another
DO $$
BEGIN
    FOR i IN 1..4 LOOP
        PERFORM durable.start('tc', 'c' || i, 'N', NULL, '');
        PERFORM durable.terminate('tc', 'c' || i, NULL);
    END LOOP;

    INSERT INTO durable.history
    SELECT i.hub, i.partition, i.id, 100 + g, repeat('x', 100)
    FROM durable.instances i, generate_series(1, 10000) g
    WHERE i.hub = 'tc';
END
$$;

-- a batch a statement, as the store sends them: 4 at most
CREATE TABLE durable_test.purged (rc integer, n integer, more boolean);

SET statement_timeout = 200;
INSERT INTO durable_test.purged
    SELECT rc, deleted, more FROM durable.purge_batch_for('tc', 0, 0, 0,
                                                          1000, 0);
INSERT INTO durable_test.purged
    SELECT rc, deleted, more FROM durable.purge_batch_for('tc', 0, 0, 0,
                                                          1000, 0);
INSERT INTO durable_test.purged
    SELECT rc, deleted, more FROM durable.purge_batch_for('tc', 0, 0, 0,
                                                          1000, 0);
INSERT INTO durable_test.purged
    SELECT rc, deleted, more FROM durable.purge_batch_for('tc', 0, 0, 0,
                                                          1000, 0);
RESET statement_timeout;

SELECT durable_test.eq(
    (SELECT concat_ws(' ', max(rc), sum(n)) FROM durable_test.purged),
    '0 4', 'bounded by statement_timeout: all 4, none cancelled');
SELECT durable_test.eq((SELECT count(*) FROM durable.history
                        WHERE hub = 'tc'), 0::bigint,
                       'and their history');

-- purge_batch() and purge_batch_for() are one function
-- (durable.purge_rounds()): without any bound, purge_batch_for() deletes
-- its batch as one set, as purge_batch() does, rather than in rounds
-- that would only cost statements; purge_batch() is one set under a
-- statement_timeout too, as the modules of level 2 that call it had it
DO $$
BEGIN
    FOR i IN 1..40 LOOP
        PERFORM durable.start('one', 'o' || lpad(i::text, 2, '0'), 'N',
                              NULL, '');
        PERFORM durable.terminate('one', 'o' || lpad(i::text, 2, '0'),
                                  NULL);
    END LOOP;
END
$$;

CREATE FUNCTION durable_test.count_calls() RETURNS text
LANGUAGE sql AS $$
    SELECT string_agg(f.funcname || ' ' || f.calls, ',' ORDER BY f.funcname)
    FROM pg_stat_xact_user_functions f
    WHERE f.schemaname = 'durable'
      AND f.funcname IN ('count_instances', 'count_ready', 'count_timers')
$$;

-- the calls counted before leave the backend's pending figures, which
-- pg_stat_xact_user_functions would add in
SELECT pg_stat_force_next_flush() \g /dev/null

BEGIN;
SET LOCAL track_functions = 'pl';
SET LOCAL statement_timeout = 0;

SELECT durable_test.eq(
    (SELECT concat_ws(' ', r.rc, r.deleted, r.more)
     FROM durable.purge_batch_for('one', 0, 0, 0, 20, 0) r),
    '0 20 t', 'no bound at all: max');
SELECT durable_test.eq(durable_test.count_calls(),
    'count_instances 1,count_ready 1,count_timers 1',
    'no bound at all: one set');
COMMIT;

SELECT pg_stat_force_next_flush() \g /dev/null

BEGIN;
SET LOCAL track_functions = 'pl';
SET LOCAL statement_timeout = '1h';

SELECT durable_test.eq(
    (SELECT concat_ws(' ', r.rc, r.deleted, r.more)
     FROM durable.purge_batch('one', 0, 0, 0, 20) r),
    '0 20 f', 'purge_batch() under statement_timeout: max');
SELECT durable_test.eq(durable_test.count_calls(),
    'count_instances 1,count_ready 1,count_timers 1',
    'purge_batch() under statement_timeout: one set');
COMMIT;
