-- A message that is not JSON has no EventType (durable.event_type()
-- answers NULL), as ds_inbox_type() answers none on LMDB: the walks of
-- the inbox that read types (continue-as-new's, a termination's) leave
-- it alone and go on, where a cast to json raised and made them fail.

SELECT durable_test.eq(durable.event_type('not json'), NULL::text,
                       'not JSON: none'),
       durable_test.eq(durable.event_type('{"EventType":'), NULL::text,
                       'cut short: none'),
       durable_test.eq(durable.event_type('["EventType"]'), NULL::text,
                       'not an object: none'),
       durable_test.eq(durable.event_type('{"EventType":5}'), NULL::text,
                       'a type not a string: none'),
       durable_test.eq(durable.event_type('{"EventType":"\u0000"}'),
                       NULL::text, 'a type with a NUL: none'),
       durable_test.eq(durable.event_type(repeat('[', 1000000)), NULL::text,
                       'nested past the stack: none'),
       durable_test.eq(durable.event_type(' {"EventType":"TimerFired"}'),
                       'TimerFired', 'parsed'),
       durable_test.eq(durable.event_type('{"EventType":"TaskFailed",'),
                       'TaskFailed', 'the store''s own, at a glance');

SELECT durable_test.eq((durable.start('hub', 'p', 'O', NULL,
                                      '"Name":"O","Input":null')).rc, 0,
                       'p started'),
       durable_test.eq((durable.start('hub', 'q', 'O', NULL,
                                      '"Name":"O","Input":null')).rc, 0,
                       'q started');

SELECT durable_test.eq(count(*), 3::bigint, 'both claimed')
FROM durable.claim_orchestrations('hub', 60000000,
    ARRAY[durable_test.lease(1), durable_test.lease(2)], NULL);

-- a broken row in each inbox, after the episode's messages
INSERT INTO durable.inbox (hub, partition, id, seq, message)
SELECT 'hub', durable_test.part('hub', i.id), i.id, i.inbox_seq + 1,
       'not json'
FROM durable.instances i
WHERE i.hub = 'hub' AND i.id IN ('p', 'q');

UPDATE durable.instances i SET inbox_seq = i.inbox_seq + 1
WHERE i.hub = 'hub' AND i.id IN ('p', 'q');

SELECT durable_test.eq(c.rc, 0, 'p continued as new'),
       durable_test.eq(c.status, 2::smallint, 'p continued')
FROM durable.complete_orchestration('hub', 'p',
    (SELECT i.lease FROM durable.instances i
     WHERE i.hub = 'hub' AND i.id = 'p'), 1,
    false, -1, ARRAY[8::smallint], ARRAY[0::bigint], ARRAY[NULL::bigint],
    ARRAY[NULL::text], ARRAY[NULL::text], ARRAY[NULL::text],
    ARRAY[NULL::text], ARRAY['2'], ARRAY['"Input":2'], ARRAY[NULL::text],
    ARRAY[NULL::text], ARRAY[NULL::text], ARRAY[]::text[]) c;

SELECT durable_test.eq(count(*), 1::bigint, 'the broken row left alone')
FROM durable.inbox m
WHERE m.hub = 'hub' AND m.id = 'p' AND m.message = 'not json';

SELECT durable_test.eq((durable.terminate('hub', 'q', NULL)).rc, 0,
                       'q terminated'),
       durable_test.eq((durable.terminate('hub', 'p', NULL)).rc, 0,
                       'p terminated');

SELECT durable_test.eq(i.status, 5::smallint, i.id || ' is Terminated')
FROM durable.instances i
WHERE i.hub = 'hub' AND i.id IN ('p', 'q');
