-- A lock granted while the episode that fails ran stays in the failed
-- instance's inbox, its entity locked (durable.complete_orchestration()
-- drops grants when an execution completes or continues as new, not
-- when it fails): a rewind does not send its lock request again, and the
-- rewound execution's claim carries the grant. store/tests/t_sdk.c
-- (t_sdk_failed_grant) holds LMDB to the same.

-- a completion of p_id under its lease: one action per element, ids
-- from 0 (kinds and members as 50-orchestration-complete.sql says)
CREATE FUNCTION durable_test.done(p_id text, p_kinds smallint[],
    p_a text[], p_c text[], p_d text[], p_etypes text[], p_emembers text[])
RETURNS TABLE (rc integer, status smallint)
LANGUAGE sql AS $$
    SELECT c.rc, c.status
    FROM durable.complete_orchestration('hub', p_id,
        (SELECT i.lease FROM durable.instances i
         WHERE i.hub = 'hub' AND i.id = p_id), 1, false, -1,
        p_kinds,
        ARRAY(SELECT generate_series(0, cardinality(p_kinds) - 1))::bigint[],
        array_fill(NULL::bigint, ARRAY[cardinality(p_kinds)]),
        p_etypes, p_emembers, p_a,
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]),
        p_c, p_d,
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]),
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]),
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]),
        ARRAY[]::text[]) c
$$;

-- a lock request's members, and its history event's
CREATE FUNCTION durable_test.lock_d(p_cs text, p_eid text, p_by text)
RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT '"lock":"' || p_cs || '","lockSet":["' || p_eid
           || '"],"position":0,"parentInstanceId":"' || p_by || '"'
$$;

CREATE FUNCTION durable_test.lock_ev(p_cs text, p_eid text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT '"CriticalSectionId":"' || p_cs || '","LockSet":["' || p_eid
           || '"],"Position":0'
$$;

CREATE FUNCTION durable_test.owner(p_eid text) RETURNS text
LANGUAGE sql AS $$
    SELECT e.owner FROM durable.entities e
    WHERE e.hub = 'hub' AND e.id = p_eid
$$;

CREATE FUNCTION durable_test.grants(p_id text) RETURNS bigint
LANGUAGE sql AS $$
    SELECT count(*) FROM durable.inbox m
    WHERE m.hub = 'hub' AND m.id = p_id
      AND m.message LIKE '%EntityLockGranted%'
$$;

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
