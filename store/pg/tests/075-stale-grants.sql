-- A lock granted to an execution that will never see it is released at
-- once (durable.entity_lock_next(), durable.inbox_drop_grants()):
-- granted in the completion that continues as new, granted after the
-- execution continued as new or completed, granted while the last
-- episode ran (its set read from the history), granted before a
-- termination (durable.terminate()). The new execution never gets the
-- grant, and the entities' queues move on. store/tests/t_sdk.c
-- (t_sdk_stale_grants) holds LMDB to the same.

SELECT durable_test.eq((durable.start('hub', 'h', 'O', NULL,
                                      '"Name":"O","Input":null')).rc, 0,
                       'h started'),
       durable_test.eq((durable.start('hub', 'lk', 'O', NULL,
                                      '"Name":"O","Input":null')).rc, 0,
                       'lk started');

SELECT durable_test.eq(count(*), 3::bigint, 'both claimed')
FROM durable.claim_orchestrations('hub', 60000000,
    ARRAY[durable_test.lease(1), durable_test.lease(2)], NULL);

-- granted in the completion that continues as new: released

SELECT durable_test.eq(rc, 0, 'h locks @e@2')
FROM durable_test.done('h', ARRAY[10::smallint], ARRAY['@e@2'],
    ARRAY[NULL::text], ARRAY[durable_test.lock_d('cs-h', '@e@2', 'h')],
    ARRAY[NULL::text], ARRAY[NULL::text]);

SELECT durable_test.eq(durable_test.owner('@e@2'), 'h', '@e@2 locked');

SELECT durable_test.eq(rc, 0, 'lk locks @e@1 and continues as new'),
       durable_test.eq(status, 2::smallint, 'continued as new')
FROM durable_test.done('lk', ARRAY[10, 8]::smallint[],
    ARRAY['@e@1', NULL], ARRAY[NULL, '2'],
    ARRAY[durable_test.lock_d('cs-a', '@e@1', 'lk'), '"Input":2'],
    ARRAY[NULL::text, NULL], ARRAY[NULL::text, NULL]);

SELECT durable_test.eq(durable_test.owner('@e@1'), NULL::text,
                       '@e@1 released'),
       durable_test.eq(durable_test.grants('lk'), 0::bigint,
                       'the new execution has no grant');

-- granted after the execution continued as new: released

SELECT durable_test.eq(count(*), 3::bigint, 'both claimed again')
FROM durable.claim_orchestrations('hub', 60000000,
    ARRAY[durable_test.lease(3), durable_test.lease(4)], NULL);

SELECT durable_test.eq(rc, 0, 'lk asks for @e@2 and continues as new')
FROM durable_test.done('lk', ARRAY[10, 8]::smallint[],
    ARRAY['@e@2', NULL], ARRAY[NULL, '3'],
    ARRAY[durable_test.lock_d('cs-b', '@e@2', 'lk'), '"Input":3'],
    ARRAY[NULL::text, NULL], ARRAY[NULL::text, NULL]);

SELECT durable_test.eq(durable_test.owner('@e@2'), 'h', '@e@2 still h''s');

SELECT durable_test.eq(rc, 0, 'h unlocks @e@2 and locks @e@3')
FROM durable_test.done('h', ARRAY[11, 10]::smallint[],
    ARRAY['@e@2', '@e@3'], ARRAY[NULL::text, NULL],
    ARRAY['"unlock":"cs-h","parentInstanceId":"h"',
          durable_test.lock_d('cs-h2', '@e@3', 'h')],
    ARRAY[NULL::text, NULL], ARRAY[NULL::text, NULL]);

SELECT durable_test.eq(durable_test.owner('@e@2'), NULL::text,
                       '@e@2 released'),
       durable_test.eq(durable_test.owner('@e@3'), 'h', '@e@3 locked'),
       durable_test.eq(durable_test.grants('lk'), 0::bigint,
                       'lk has no grant');

-- granted after the instance completed: released

SELECT durable_test.eq(count(*), 3::bigint, 'both claimed a third time')
FROM durable.claim_orchestrations('hub', 60000000,
    ARRAY[durable_test.lease(5), durable_test.lease(6)], NULL);

SELECT durable_test.eq(rc, 0, 'lk asks for @e@3 and completes'),
       durable_test.eq(status, 1::smallint, 'completed')
FROM durable_test.done('lk', ARRAY[10, 6]::smallint[],
    ARRAY['@e@3', NULL], ARRAY[NULL, '1'],
    ARRAY[durable_test.lock_d('cs-c', '@e@3', 'lk'), NULL],
    ARRAY[NULL::text, NULL], ARRAY[NULL::text, NULL]);

SELECT durable_test.eq(rc, 0, 'h unlocks @e@3 and locks @e@4')
FROM durable_test.done('h', ARRAY[11, 10]::smallint[],
    ARRAY['@e@3', '@e@4'], ARRAY[NULL::text, NULL],
    ARRAY['"unlock":"cs-h2","parentInstanceId":"h"',
          durable_test.lock_d('cs-h3', '@e@4', 'h')],
    ARRAY[NULL::text, NULL], ARRAY[NULL::text, NULL]);

SELECT durable_test.eq(durable_test.owner('@e@3'), NULL::text,
                       '@e@3 released'),
       durable_test.eq(durable_test.owner('@e@4'), 'h', '@e@4 locked');

-- granted while the last episode ran, which continues as new: the set
-- is the history's

SELECT durable_test.eq((durable.start('hub', 'lk2', 'O', NULL,
                                      '"Name":"O","Input":null')).rc, 0,
                       'lk2 started');

SELECT durable_test.eq(count(*), 3::bigint, 'h and lk2 claimed')
FROM durable.claim_orchestrations('hub', 60000000,
    ARRAY[durable_test.lease(7), durable_test.lease(8)], NULL);

SELECT durable_test.eq(rc, 0, 'lk2 asks for @e@4')
FROM durable_test.done('lk2', ARRAY[10::smallint], ARRAY['@e@4'],
    ARRAY[NULL::text], ARRAY[durable_test.lock_d('cs-d', '@e@4', 'lk2')],
    ARRAY['EntityLockRequested'],
    ARRAY[durable_test.lock_ev('cs-d', '@e@4')]);

SELECT durable_test.eq((durable.raise_event('hub', 'lk2',
                            '"Name":"go","Input":null')).rc, 0,
                       'an event for lk2');

SELECT durable_test.eq(count(*), 2::bigint, 'lk2 claimed')
FROM durable.claim_orchestrations('hub', 60000000,
    ARRAY[durable_test.lease(9)], NULL);

SELECT durable_test.eq(rc, 0, 'h unlocks @e@4')
FROM durable_test.done('h', ARRAY[11::smallint], ARRAY['@e@4'],
    ARRAY[NULL::text], ARRAY['"unlock":"cs-h3","parentInstanceId":"h"'],
    ARRAY[NULL::text], ARRAY[NULL::text]);

SELECT durable_test.eq(durable_test.owner('@e@4'), 'lk2', '@e@4 lk2''s'),
       durable_test.eq(durable_test.grants('lk2'), 1::bigint,
                       'the grant came during the episode');

SELECT durable_test.eq(rc, 0, 'lk2 continues as new')
FROM durable_test.done('lk2', ARRAY[8::smallint], ARRAY[NULL::text],
    ARRAY['2'], ARRAY['"Input":2'], ARRAY[NULL::text], ARRAY[NULL::text]);

SELECT durable_test.eq(durable_test.owner('@e@4'), NULL::text,
                       '@e@4 released'),
       durable_test.eq(durable_test.grants('lk2'), 0::bigint,
                       'the new execution has no grant');

-- granted, then the instance terminated before it saw the grant

SELECT durable_test.eq((durable.start('hub', 'tm', 'O', NULL,
                                      '"Name":"O","Input":null')).rc, 0,
                       'tm started');

SELECT durable_test.ok(count(*) >= 2, 'tm claimed')
FROM durable.claim_orchestrations('hub', 60000000,
    ARRAY[durable_test.lease(10), durable_test.lease(11),
          durable_test.lease(12)], NULL);

SELECT durable_test.eq(rc, 0, 'tm locks @e@1')
FROM durable_test.done('tm', ARRAY[10::smallint], ARRAY['@e@1'],
    ARRAY[NULL::text], ARRAY[durable_test.lock_d('cs-e', '@e@1', 'tm')],
    ARRAY['EntityLockRequested'],
    ARRAY[durable_test.lock_ev('cs-e', '@e@1')]);

SELECT durable_test.eq(durable_test.owner('@e@1'), 'tm', '@e@1 tm''s');

SELECT durable_test.eq((durable.terminate('hub', 'tm', NULL)).rc, 0,
                       'tm terminated');

SELECT durable_test.eq(durable_test.owner('@e@1'), NULL::text,
                       '@e@1 released at the termination');
