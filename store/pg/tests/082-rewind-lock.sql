-- A rewind sends again a lock request whose grant came after the
-- failure (released then, as no one took it): the rewound execution
-- gets it. A request still waiting in its entity's queue at the rewind
-- is not sent twice: one grant, and the entity is free after the unlock.
-- store/tests/t_sdk.c (t_sdk_rewind_lock) holds LMDB to the same.

SELECT durable_test.eq((durable.start('hub', 'h', 'O', NULL,
                                      '"Name":"O","Input":null')).rc, 0,
                       'h started'),
       durable_test.eq((durable.start('hub', 'rw', 'O', NULL,
                                      '"Name":"O","Input":null')).rc, 0,
                       'rw started');

SELECT durable_test.eq(count(*), 3::bigint, 'both claimed')
FROM durable.claim_orchestrations('hub', 60000000,
    ARRAY[durable_test.lease(1), durable_test.lease(2)], NULL);

SELECT durable_test.eq(rc, 0, 'h locks @e@1')
FROM durable_test.done('h', ARRAY[10::smallint], ARRAY['@e@1'],
    ARRAY[NULL::text], ARRAY[durable_test.lock_d('cs-h', '@e@1', 'h')],
    ARRAY['EntityLockRequested'],
    ARRAY[durable_test.lock_ev('cs-h', '@e@1')]);

-- rw asks for the lock, which h holds, and fails before the grant

SELECT durable_test.eq(rc, 0, 'rw asks for @e@1')
FROM durable_test.done('rw', ARRAY[10::smallint], ARRAY['@e@1'],
    ARRAY[NULL::text], ARRAY[durable_test.lock_d('cs-f', '@e@1', 'rw')],
    ARRAY['EntityLockRequested'],
    ARRAY[durable_test.lock_ev('cs-f', '@e@1')]);

SELECT durable_test.eq((durable.raise_event('hub', 'rw',
                            '"Name":"go","Input":null')).rc, 0,
                       'an event for rw');

SELECT durable_test.eq(count(*), 3::bigint, 'both claimed again')
FROM durable.claim_orchestrations('hub', 60000000,
    ARRAY[durable_test.lease(3), durable_test.lease(4)], NULL);

SELECT durable_test.eq(rc, 0, 'rw fails'),
       durable_test.eq(status, 3::smallint, 'failed')
FROM durable_test.done('rw', ARRAY[7::smallint], ARRAY[NULL::text],
    ARRAY['"no"'], ARRAY[NULL::text], ARRAY[NULL::text], ARRAY[NULL::text]);

-- h unlocks: the grant to the Failed rw is released

SELECT durable_test.eq(rc, 0, 'h unlocks @e@1')
FROM durable_test.done('h', ARRAY[11::smallint], ARRAY['@e@1'],
    ARRAY[NULL::text], ARRAY['"unlock":"cs-h","parentInstanceId":"h"'],
    ARRAY[NULL::text], ARRAY[NULL::text]);

SELECT durable_test.eq(durable_test.owner('@e@1'), NULL::text,
                       '@e@1 released'),
       durable_test.eq(durable_test.grants('rw'), 0::bigint,
                       'no grant for the failed rw');

-- the rewind asks again: the rewound execution gets the grant

SELECT durable_test.eq((durable.rewind('hub', 'rw', '"fix"')).rc, 0,
                       'rw rewound');
SELECT durable_test.eq(durable_test.owner('@e@1'), 'rw', '@e@1 rw''s');

SELECT durable_test.eq(count(*), 1::bigint,
                       'the rewound claim carries the grant')
FROM durable.claim_orchestrations('hub', 60000000,
    ARRAY[durable_test.lease(5)], NULL) c
WHERE c.id = 'rw'
  AND array_to_string(c.messages, ',')
      LIKE '%"EventType":"EntityLockGranted"%"CriticalSectionId":"cs-f"}%';

SELECT durable_test.eq(rc, 0, 'rw unlocks @e@1')
FROM durable_test.done('rw', ARRAY[11::smallint], ARRAY['@e@1'],
    ARRAY[NULL::text], ARRAY['"unlock":"cs-f","parentInstanceId":"rw"'],
    ARRAY[NULL::text], ARRAY[NULL::text]);

SELECT durable_test.eq(durable_test.owner('@e@1'), NULL::text,
                       '@e@1 free again');

-- rewound while its request still waits: not sent twice

SELECT durable_test.eq((durable.start('hub', 'h2', 'O', NULL,
                                      '"Name":"O","Input":null')).rc, 0,
                       'h2 started'),
       durable_test.eq((durable.start('hub', 'w2', 'O', NULL,
                                      '"Name":"O","Input":null')).rc, 0,
                       'w2 started');

SELECT durable_test.eq(count(*), 3::bigint, 'h2 and w2 claimed')
FROM durable.claim_orchestrations('hub', 60000000,
    ARRAY[durable_test.lease(6), durable_test.lease(7)], NULL);

SELECT durable_test.eq(rc, 0, 'h2 locks @e@1')
FROM durable_test.done('h2', ARRAY[10::smallint], ARRAY['@e@1'],
    ARRAY[NULL::text], ARRAY[durable_test.lock_d('cs-h2', '@e@1', 'h2')],
    ARRAY['EntityLockRequested'],
    ARRAY[durable_test.lock_ev('cs-h2', '@e@1')]);

SELECT durable_test.eq(rc, 0, 'w2 asks for @e@1')
FROM durable_test.done('w2', ARRAY[10::smallint], ARRAY['@e@1'],
    ARRAY[NULL::text], ARRAY[durable_test.lock_d('cs-w2', '@e@1', 'w2')],
    ARRAY['EntityLockRequested'],
    ARRAY[durable_test.lock_ev('cs-w2', '@e@1')]);

SELECT durable_test.eq((durable.raise_event('hub', 'w2',
                            '"Name":"go","Input":null')).rc, 0,
                       'an event for w2');

SELECT durable_test.eq(count(*), 3::bigint, 'h2 and w2 claimed again')
FROM durable.claim_orchestrations('hub', 60000000,
    ARRAY[durable_test.lease(8), durable_test.lease(9)], NULL);

SELECT durable_test.eq(rc, 0, 'w2 fails')
FROM durable_test.done('w2', ARRAY[7::smallint], ARRAY[NULL::text],
    ARRAY['"no"'], ARRAY[NULL::text], ARRAY[NULL::text], ARRAY[NULL::text]);

SELECT durable_test.eq((durable.rewind('hub', 'w2', '"fix"')).rc, 0,
                       'w2 rewound');
SELECT durable_test.eq(durable_test.owner('@e@1'), 'h2', '@e@1 still h2''s');

SELECT durable_test.eq(rc, 0, 'h2 unlocks @e@1')
FROM durable_test.done('h2', ARRAY[11::smallint], ARRAY['@e@1'],
    ARRAY[NULL::text], ARRAY['"unlock":"cs-h2","parentInstanceId":"h2"'],
    ARRAY[NULL::text], ARRAY[NULL::text]);

SELECT durable_test.eq(durable_test.owner('@e@1'), 'w2', '@e@1 w2''s'),
       durable_test.eq(durable_test.grants('w2'), 1::bigint,
                       'one grant for w2');

SELECT durable_test.eq(count(*), 1::bigint, 'w2 claimed with its grant')
FROM durable.claim_orchestrations('hub', 60000000,
    ARRAY[durable_test.lease(10)], NULL) c
WHERE c.id = 'w2';

SELECT durable_test.eq(rc, 0, 'w2 unlocks @e@1')
FROM durable_test.done('w2', ARRAY[11::smallint], ARRAY['@e@1'],
    ARRAY[NULL::text], ARRAY['"unlock":"cs-w2","parentInstanceId":"w2"'],
    ARRAY[NULL::text], ARRAY[NULL::text]);

SELECT durable_test.eq(durable_test.owner('@e@1'), NULL::text,
                       '@e@1 free at the end'),
       durable_test.eq(durable_test.grants('w2'), 0::bigint,
                       'no second grant');
