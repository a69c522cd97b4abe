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

-- signals for the same time keep the order they were sent in: timers due
-- together fire by id and timer id, as LMDB's key orders them (a sort by
-- due time alone leaves ties in any order); 150 signals to 7 entities at
-- 3 times, rolled back
BEGIN;
DO $$
BEGIN
    FOR g IN 1 .. 150 LOOP
        PERFORM durable.entity_signal('ties', '@e@' || g % 7,
                    '"operation":"o","input":' || g,
                    durable.now_us() + 3600000000 + (g % 3) * 1000000);
    END LOOP;
END
$$;
SELECT durable_test.eq(durable.fire_timers('ties',
                           durable.now_us() + 4000000000, 1000),
                       150, 'all 150 fire');
SELECT durable_test.eq(count(*), 0::bigint,
                       'each entity''s queue: by time, then as sent')
    FROM (SELECT o.id,
                 array_agg(o.seq ORDER BY o.seq) AS by_seq,
                 array_agg(o.seq ORDER BY
                           (regexp_match(o.operation,
                                         '"input":(\d+)'))[1]::int % 3,
                           (regexp_match(o.operation,
                                         '"input":(\d+)'))[1]::int) AS want
          FROM durable.entity_ops o WHERE o.hub = 'ties'
          GROUP BY o.id) q
    WHERE q.by_seq <> q.want;
ROLLBACK;
