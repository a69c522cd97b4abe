-- the counts' triggers in a batch: writes in one transaction, each in
-- its own savepoint (the functions' exception blocks), add to the same
-- count rows of the session, and must do it without making a MultiXact
-- (an upsert locks the row it finds, which from a savepoint on a row an
-- earlier savepoint wrote makes one: three for these four starts)

CHECKPOINT;
SELECT next_multixact_id AS mx_before FROM pg_control_checkpoint() \gset

BEGIN;
SELECT rc FROM durable.start('hub', 'a', 'Hello', NULL, '"Name":"Hello"');
SELECT rc FROM durable.start('hub', 'b', 'Hello', NULL, '"Name":"Hello"');
SELECT rc FROM durable.start('hub', 'c', 'Hello', NULL, '"Name":"Hello"');
SELECT rc FROM durable.start('hub', 'd', 'Hello', NULL, '"Name":"Hello"');
COMMIT;

CHECKPOINT;
SELECT next_multixact_id AS mx_after FROM pg_control_checkpoint() \gset

SELECT durable_test.eq(:'mx_after'::text, :'mx_before'::text,
                       'MultiXacts made by a batch of four starts');

-- and the counts are right: four Pending, four ready
SELECT durable_test.eq(
    (SELECT sum(n) FROM durable.counts
     WHERE hub = 'hub' AND class = 0 AND code = 6), 4::numeric,
    'instances counted Pending');
SELECT durable_test.eq(
    (SELECT sum(n) FROM durable.counts
     WHERE hub = 'hub' AND class = 1 AND code = 0), 4::numeric,
    'orchestrations counted ready');
