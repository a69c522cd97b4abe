-- Entities (60-entity.sql): what t_pg_ops.c's comparison with LMDB does
-- not reach. A lock request passed along a set whose ids hold what its
-- position's rewrite must not touch; refusals of durable.entity_message;
-- one NOTIFY per batch that gives workers something, none for reads and
-- refusals. run.sh counts the notifications of this session:
-- notifications: 3

LISTEN durable;

-- the instance that locks, and an entity busy with an operation, so that
-- the request waits in its queue
SELECT durable.start('hub', 'o1', 'Orch', NULL, '"Name":"Orch","Input":null')
    \g /dev/null

BEGIN;
SELECT durable_test.eq(rc, 0, 'a signal')
    FROM durable.entity_signal('hub', '@b@k"],"position":9,"x',
                               '"operation":"op","input":null');
SELECT durable_test.eq(
    durable.entity_message('hub', '@a@1',
        '"lock":"cs","lockSet":["@a@1","@b@k\"],\"position\":9,\"x",'
        '"@c@"],"position":0,"parentInstanceId":"o1","parentExecution":1',
        NULL, durable.now_us()),
    0, 'a lock request');
COMMIT;

-- @a@1 is locked and passed the request on; it waits at @b@..
SELECT durable_test.eq(e.owner || '/' || e.cs, 'o1/cs', 'the first locked')
    FROM durable.entities e WHERE e.hub = 'hub' AND e.id = '@a@1';
SELECT durable_test.eq(
    regexp_replace(o.operation, ',"timestamp":"[^"]*"', ''),
    '{"lock":"cs","lockSet":["@a@1","@b@k\"],\"position\":9,\"x","@c@"],'
    '"position":1,"parentInstanceId":"o1","parentExecution":1}',
    'the request passed on, its position the only change')
    FROM durable.entity_ops o
    WHERE o.hub = 'hub' AND o.id = '@b@k"],"position":9,"x' AND o.seq = 2;
SELECT durable_test.eq(count(*), 1::bigint, 'nothing granted yet')
    FROM durable.inbox m WHERE m.hub = 'hub' AND m.id = 'o1';

-- reads and refusals: nothing to notify, nothing written
BEGIN;
SELECT durable_test.eq(durable.entity_message('hub', '', '"operation":"x",'
                                              '"input":null', NULL, 1),
                       6, 'an empty id');
SELECT durable_test.eq(durable.entity_message('hub', 'o1', '"operation":"x",'
                                              '"input":null', NULL, 1),
                       6, 'an instance id');
SELECT durable_test.eq(rc, 6, 'a signal to no id')
    FROM durable.entity_signal('hub', 'x', '"operation":"x","input":null');
SELECT durable_test.eq(rc, 1, 'no state yet')
    FROM durable.entity_get('hub', '@a@1');
SELECT durable_test.eq(count(*), 1::bigint, 'a list of none')
    FROM durable.entity_list('hub', '@', 0, 0, 10, 0, NULL);
SELECT durable_test.eq(rc || '/' || removed || '/' || coalesce(pos, '-'),
                       '0/0/-', 'a clean-up of the most the C side asks')
    FROM durable.entity_clean('hub', NULL, 2147483647, false, false);
SELECT durable_test.eq(rc, 2, 'renewed without the lease')
    FROM durable.lease_entity('hub', '@a@1', durable_test.lease(1), 1000,
                              false);
COMMIT;

SELECT durable_test.eq(count(*), 0::bigint, 'no entity made by a refusal')
    FROM durable.entities e WHERE e.hub = 'hub' AND e.id NOT LIKE '@%';

-- the busy entity's operation done: the request comes to the front, the
-- rest of the set is locked and the orchestration hears it has them all
BEGIN;
SELECT durable_test.eq(count(*), 2::bigint, 'the operation claimed')
    FROM durable.claim_entities('hub', 60000000,
                                ARRAY[durable_test.lease(7)], NULL);
SELECT durable_test.eq(rc, 0, 'completed')
    FROM durable.complete_entity('hub', '@b@k"],"position":9,"x',
                                 durable_test.lease(7), 1, false, '1',
                                 '{}', '{}');
COMMIT;

SELECT durable_test.eq(string_agg(e.id || '=' || e.owner, ' ' ORDER BY e.id),
                       '@a@1=o1 @b@k"],"position":9,"x=o1 @c@=o1',
                       'the whole set locked')
    FROM durable.entities e WHERE e.hub = 'hub';
SELECT durable_test.eq(count(*), 0::bigint, 'no request left queued')
    FROM durable.entity_ops o WHERE o.hub = 'hub';
SELECT durable_test.eq(durable_test.ev(durable.message_public(m.message)),
                       'EntityLockGranted {"CriticalSectionId":"cs"}',
                       'granted')
    FROM durable.inbox m WHERE m.hub = 'hub' AND m.id = 'o1' AND m.seq = 2;

-- psql prints what arrived after each command
SELECT 1 \g /dev/null
