-- A lock granted while the episode that fails ran stays in the failed
-- instance's inbox, its entity locked (durable.complete_orchestration()
-- drops grants when an execution completes or continues as new, not
-- when it fails): a rewind does not send its lock request again, and the
-- rewound execution's claim carries the grant. store/tests/t_sdk.c
-- (t_sdk_failed_grant) holds LMDB to the same.

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

SELECT durable_test.eq(durable_test.owner('@e@1'), 'h', '@e@1 h''s');

-- episode k asks for the lock, which h holds

SELECT durable_test.eq(rc, 0, 'rw asks for @e@1')
FROM durable_test.done('rw', ARRAY[10::smallint], ARRAY['@e@1'],
    ARRAY[NULL::text], ARRAY[durable_test.lock_d('cs-f', '@e@1', 'rw')],
    ARRAY['EntityLockRequested'],
    ARRAY[durable_test.lock_ev('cs-f', '@e@1')]);

-- episode k+1 runs; the grant comes meanwhile

SELECT durable_test.eq((durable.raise_event('hub', 'rw',
                            '"Name":"go","Input":null')).rc, 0,
                       'an event for rw');

SELECT durable_test.eq(count(*), 3::bigint, 'both claimed again')
FROM durable.claim_orchestrations('hub', 60000000,
    ARRAY[durable_test.lease(3), durable_test.lease(4)], NULL);

SELECT durable_test.eq(rc, 0, 'h unlocks @e@1')
FROM durable_test.done('h', ARRAY[11::smallint], ARRAY['@e@1'],
    ARRAY[NULL::text], ARRAY['"unlock":"cs-h","parentInstanceId":"h"'],
    ARRAY[NULL::text], ARRAY[NULL::text]);

SELECT durable_test.eq(durable_test.owner('@e@1'), 'rw', '@e@1 rw''s'),
       durable_test.eq(durable_test.grants('rw'), 1::bigint,
                       'the grant came during the episode');

-- episode k+1 fails: the grant stays, and so does the lock

SELECT durable_test.eq(rc, 0, 'rw fails'),
       durable_test.eq(status, 3::smallint, 'failed')
FROM durable_test.done('rw', ARRAY[7::smallint], ARRAY[NULL::text],
    ARRAY['"no"'], ARRAY[NULL::text], ARRAY[NULL::text], ARRAY[NULL::text]);

SELECT durable_test.eq(durable_test.owner('@e@1'), 'rw',
                       '@e@1 still rw''s'),
       durable_test.eq(durable_test.grants('rw'), 1::bigint,
                       'the failed instance keeps the grant');

-- the rewound execution gets it

SELECT durable_test.eq((durable.rewind('hub', 'rw', '"fix"')).rc, 0,
                       'rw rewound');

SELECT durable_test.eq(count(*), 1::bigint,
                       'the rewound claim carries the grant')
FROM durable.claim_orchestrations('hub', 60000000,
    ARRAY[durable_test.lease(5)], NULL) c
WHERE c.id = 'rw'
  AND array_to_string(c.messages, ',')
      LIKE '%"EventType":"EntityLockGranted"%"CriticalSectionId":"cs-f"%';

SELECT durable_test.eq(rc, 0, 'rw unlocks @e@1')
FROM durable_test.done('rw', ARRAY[11::smallint], ARRAY['@e@1'],
    ARRAY[NULL::text], ARRAY['"unlock":"cs-f","parentInstanceId":"rw"'],
    ARRAY[NULL::text], ARRAY[NULL::text]);

SELECT durable_test.eq(durable_test.owner('@e@1'), NULL::text,
                       '@e@1 released');
