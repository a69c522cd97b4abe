-- Entity signals scheduled for later (durable.entity_schedule() and the
-- timers that carry them): what t_pg_ops.c's comparison with LMDB does
-- not reach. Each signal of an entity its own timer id, the entity not
-- made before its time, a claim's time to look again, the firing in due
-- order behind what was queued meanwhile, and one NOTIFY for the batch
-- that scheduled them. run.sh counts the notifications of this session:
-- notifications: 1

LISTEN durable;

BEGIN;
SELECT durable_test.eq(rc, 0, 'a signal for later')
    FROM durable.entity_signal('hub', '@c@1', '"operation":"a","input":1',
                               durable.now_us() + 3600000000);
SELECT durable_test.eq(rc, 0, 'another, due sooner')
    FROM durable.entity_signal('hub', '@c@1', '"operation":"b","input":2',
                               durable.now_us() + 1800000000);
SELECT durable_test.eq(rc, 6, 'a signal for later to no entity id')
    FROM durable.entity_signal('hub', 'c', '"operation":"a","input":1',
                               durable.now_us() + 3600000000);
COMMIT;

SELECT durable_test.eq(string_agg(t.timer_id || ' '
                                  || regexp_replace(t.message,
                                         ',"timestamp":"[^"]*"', ''),
                                  ',' ORDER BY t.timer_id),
                       '1 {"operation":"a","input":1},'
                       '2 {"operation":"b","input":2}',
                       'timers of the entity, each its own id')
    FROM durable.timers t WHERE t.hub = 'hub' AND t.id = '@c@1';
SELECT durable_test.eq(count(*), 0::bigint, 'no entity before its time')
    FROM durable.entities e WHERE e.hub = 'hub';

-- nothing to claim, but a time to look again: the first timer's
SELECT durable_test.eq(c.visible, (SELECT min(t.due) FROM durable.timers t
                                   WHERE t.hub = 'hub'),
                       'a claim looks again when the first is due')
    FROM durable.claim_entities('hub', 1000000,
                                ARRAY[durable_test.lease(1)], NULL) c
    WHERE c.id IS NULL;

-- a signal for now meanwhile, then both timers fire, in due order,
-- behind it (rolled back: that batch's notification is not delivered)
BEGIN;
SELECT durable_test.eq(rc, 0, 'a signal for now')
    FROM durable.entity_signal('hub', '@c@1', '"operation":"n","input":0');
SELECT durable_test.eq(durable.fire_timers('hub',
                           durable.now_us() + 4000000000, 10),
                       2, 'both timers fire');
SELECT durable_test.eq(string_agg(regexp_replace(o.operation,
                                      ',"timestamp":"[^"]*"', ''),
                                  ',' ORDER BY o.seq),
                       '{"operation":"n","input":0},'
                       '{"operation":"b","input":2},'
                       '{"operation":"a","input":1}',
                       'the queue: what came meanwhile, then by due time')
    FROM durable.entity_ops o WHERE o.hub = 'hub' AND o.id = '@c@1';
SELECT durable_test.eq(count(*), 0::bigint, 'the timers are gone')
    FROM durable.timers t WHERE t.hub = 'hub';
ROLLBACK;
