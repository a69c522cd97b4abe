-- the counts' triggers (schema/006, 007): statements that insert or delete
-- thousands of rows at once, as an import, a purge batch or a bulk fill
-- do, leave the counts equal to a count of the rows, and the trigger
-- functions ran once for each statement, adding each count's change
-- once, not once per row. Updates are counted per row, and only for the
-- rows whose status or readiness changed: a bulk UPDATE that moves n
-- rows calls its trigger n times, one that changes no count never

-- calls of every count function so far
CREATE FUNCTION durable_test.count_calls() RETURNS bigint
LANGUAGE sql AS $$
    SELECT coalesce(sum(f.calls), 0)::bigint
    FROM pg_stat_xact_user_functions f
    WHERE f.schemaname = 'durable' AND f.funcname LIKE 'count%'
$$;

-- two hubs, so that a statement's rows add to several counts
SELECT durable.hub_partitions('big', true),
       durable.hub_partitions('small', true) \g /dev/null

BEGIN;
SET LOCAL track_functions = 'pl';

-- 20,000 instances of every status, a third of them ready; 20,000
-- activities, half ready; 5,000 entities; 20,000 timers
INSERT INTO durable.instances (hub, partition, id, status, suspended_from,
    created, updated, execution, name, ready_at)
SELECT CASE WHEN g % 10 = 0 THEN 'small' ELSE 'big' END, g % 4,
       'i' || g, g % 8, g % 8, g, g, 1, 'N',
       CASE WHEN g % 3 = 0 THEN g ELSE 0 END
FROM generate_series(1, 20000) g;

INSERT INTO durable.activities (hub, partition, id, task_id, name,
    ready_at)
SELECT CASE WHEN g % 10 = 0 THEN 'small' ELSE 'big' END, g % 4,
       'i' || g, 1, 'A', g % 2
FROM generate_series(1, 20000) g;

INSERT INTO durable.entities (hub, partition, id, ready_at)
SELECT 'big', g % 4, '@e@' || g, CASE WHEN g % 5 = 0 THEN 0 ELSE g END
FROM generate_series(1, 5000) g;

INSERT INTO durable.timers (hub, partition, id, timer_id, due, fire_at)
SELECT CASE WHEN g % 10 = 0 THEN 'small' ELSE 'big' END, g % 4,
       'i' || g, 1, g, g
FROM generate_series(1, 20000) g;

SELECT durable_test.eq(durable_test.counted(), durable_test.recount(),
                       'counts after the bulk inserts');

-- once a statement: instances, activities, entities and timers 1
-- insert each, and a count's change added once, where a trigger per
-- row made tens of thousands
SELECT durable_test.eq(durable_test.calls('count_instances'), 1::bigint,
                       'calls of the instances'' count trigger (inserts)');
SELECT durable_test.eq(durable_test.calls('count_ready'), 2::bigint,
                       'calls of the ready count trigger (inserts)');
SELECT durable_test.eq(durable_test.calls('count_timers'), 1::bigint,
                       'calls of the timers'' count trigger (inserts)');
SELECT durable_test.ok(durable_test.calls('count_add') <= 30,
                       'count_add() called ' ||
                       durable_test.calls('count_add') ||
                       ' times by the inserts');

-- an update of every instance that changes no count calls nothing
SELECT durable_test.count_calls() AS calls_before \gset
UPDATE durable.instances i SET inbox_seq = i.inbox_seq + 1,
                               lease_expires = 5;
UPDATE durable.activities a SET lease_expires = 5;
UPDATE durable.entities e SET lease_expires = 5;
SELECT durable_test.eq(durable_test.count_calls(), :calls_before::bigint,
                       'count calls of updates that change no count');

-- many rows changed by one statement each: statuses and readiness moved
-- both ways; each row moved calls its table's trigger once (the count
-- functions serve the inserts, deletes and updates of their tables: the
-- calls are counted from those before)
SELECT count(*) AS moved,
       durable_test.calls('count_instances') AS before
    FROM durable.instances i
    WHERE i.status IN (0, 6) OR i.id LIKE '%7' \gset
UPDATE durable.instances i
    SET status = 1, ready_at = CASE WHEN i.ready_at > 0 THEN 0 ELSE 9 END
    WHERE i.status IN (0, 6) OR i.id LIKE '%7';
SELECT durable_test.eq(durable_test.calls('count_instances') - :before,
                       :moved::bigint,
                       'calls of the instances'' update trigger');
SELECT :moved AS moved_i \gset

SELECT count(*) AS moved, durable_test.calls('count_ready') AS before
    FROM durable.activities a
    WHERE a.task_id = 1 AND a.id LIKE '%3' \gset
UPDATE durable.activities a SET ready_at = 1 - a.ready_at
    WHERE a.task_id = 1 AND a.id LIKE '%3';
SELECT durable_test.eq(durable_test.calls('count_ready') - :before,
                       :moved::bigint,
                       'calls of the activities'' update trigger');

SELECT :moved + count(*) AS moved FROM durable.entities e
    WHERE e.id LIKE '%1' AND e.ready_at > 0 \gset
UPDATE durable.entities e SET ready_at = 0 WHERE e.id LIKE '%1';

-- an upsert: its inserted rows count as inserts, its updated as updates
SELECT :moved + count(*) AS moved FROM durable.entities e
    WHERE e.hub = 'big' AND e.ready_at > 0
      AND e.id IN (SELECT '@e@' || g FROM generate_series(1, 300) g) \gset
INSERT INTO durable.entities AS e (hub, partition, id, ready_at)
SELECT 'small', g % 4, '@e@' || g, 5
FROM generate_series(1, 300) g
UNION ALL
SELECT 'big', g % 4, '@e@' || g, 7
FROM generate_series(1, 300) g
ON CONFLICT (hub, partition, id) DO UPDATE SET ready_at = 0;
-- and the upsert's insert once
SELECT durable_test.eq(durable_test.calls('count_ready') - :before,
                       :moved + 1::bigint,
                       'calls of the activities'' and entities'' update '
                       'trigger');

DELETE FROM durable.timers t WHERE t.due % 4 <> 0;
DELETE FROM durable.activities a WHERE a.id LIKE '%5';
DELETE FROM durable.entities e WHERE e.id LIKE '%9';
DELETE FROM durable.instances i WHERE i.status = 1 AND i.id LIKE '%2';

SELECT durable_test.eq(durable_test.counted(), durable_test.recount(),
                       'counts after the bulk updates and deletes');

-- the inserts and deletes once a statement: instances 1 insert and 1
-- delete; activities 1 + 1; entities 1 + 1 and the upsert's insert;
-- timers 1 + 1; and the updates' calls counted above
SELECT durable_test.eq(durable_test.calls('count_instances') - :moved_i,
                       2::bigint, 'calls of the instances'' count trigger');
SELECT durable_test.eq(durable_test.calls('count_ready') - :moved,
                       5::bigint, 'calls of the ready count trigger');
SELECT durable_test.eq(durable_test.calls('count_timers'), 2::bigint,
                       'calls of the timers'' count trigger');
COMMIT;

SELECT durable_test.eq(durable_test.counted(), durable_test.recount(),
                       'counts after the commit');

-- what a statement rolled back to a savepoint added is gone with it
BEGIN;
SAVEPOINT s;
DELETE FROM durable.instances;
ROLLBACK TO SAVEPOINT s;
INSERT INTO durable.timers (hub, partition, id, timer_id, due, fire_at)
    VALUES ('small', 0, 'x', 1, 1, 1);
COMMIT;

SELECT durable_test.eq(durable_test.counted(), durable_test.recount(),
                       'counts after a savepoint rolled back');

-- and stats() answers the same figures
SELECT durable_test.eq(durable_test.stats(), durable_test.recount(),
                       'durable.stats()');
