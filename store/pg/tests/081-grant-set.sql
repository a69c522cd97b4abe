-- A lock grant carries its set (LockSet, its last member), which only
-- the store reads: a grant no one takes is released by it alone, though
-- neither the completion's actions nor the history say what it locked.
-- A child whose episode locks (granted at once), terminates its
-- parent's tree (and itself with it) and would continue as new writes no
-- history for that episode. A claim's messages and the history hold the
-- public event, without the set. store/tests/t_sdk.c (t_sdk_grant_set,
-- t_sdk_entity_locks) holds LMDB to the same.

-- an episode of actions with ids 0 to n - 1 (as 063 has it)
CREATE FUNCTION durable_test.episode(p_id text, p_lease bytea,
    p_kinds smallint[], p_etypes text[], p_emembers text[], p_a text[],
    p_b text[], p_c text[], p_d text[], OUT rc integer,
    OUT status smallint)
LANGUAGE sql AS $$
    SELECT c.rc, c.status
    FROM durable.complete_orchestration('hub', p_id, p_lease, 1,
        false, -1, p_kinds,
        ARRAY(SELECT generate_series(0, cardinality(p_kinds) - 1))::bigint[],
        array_fill(NULL::bigint, ARRAY[cardinality(p_kinds)]),
        p_etypes, p_emembers, p_a, p_b, p_c, p_d,
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]),
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]),
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]),
        ARRAY[]::text[]) c
$$;

-- 1. the set of two the grant carries releases both entities

SELECT durable_test.eq((durable.start('hub', 'p1', 'P1', NULL,
                                      '"Name":"P1","Input":null')).rc, 0,
                       'p1 started');
SELECT durable_test.eq(durable_test.claim_named('P1', 1), 1::bigint,
                       'p1 claimed');
SELECT durable_test.eq(rc, 0, 'p1 started c1')
FROM durable_test.episode('p1', durable_test.lease(1), ARRAY[2]::smallint[],
    ARRAY['SubOrchestrationInstanceCreated'],
    ARRAY['"Name":"C1","InstanceId":"c1","Input":null'],
    ARRAY['c1'], ARRAY['C1'], ARRAY['null'],
    ARRAY['"Name":"C1","Input":null']);
SELECT durable_test.eq(durable_test.claim_named('C1', 2), 1::bigint,
                       'c1 claimed');

SELECT durable_test.eq(e.rc, 0, 'c1: completed'),
       durable_test.eq(e.status, 5::smallint, 'c1: answered Terminated')
FROM durable_test.episode('c1', durable_test.lease(2),
    ARRAY[10, 12, 8]::smallint[],
    ARRAY['EntityLockRequested', NULL, NULL],
    ARRAY['"CriticalSectionId":"cs-t","LockSet":["@e@1","@e@2"],'
          '"Position":0', NULL, NULL],
    ARRAY['@e@1', 'p1', NULL], ARRAY[NULL, 'tree', NULL],
    ARRAY[NULL, '"down"', '2'],
    ARRAY['"lock":"cs-t","lockSet":["@e@1","@e@2"],"position":0,'
          '"parentInstanceId":"c1"', NULL, '"Input":2']) e;

SELECT durable_test.eq(i.status, 5::smallint, 'c1: Terminated')
FROM durable.instances i WHERE i.hub = 'hub' AND i.id = 'c1';
SELECT durable_test.eq((SELECT count(*) FROM durable.inbox m
                        WHERE m.hub = 'hub' AND m.id = 'c1'), 0::bigint,
                       'c1: its inbox empty');
SELECT durable_test.eq(durable_test.owner('@e@1'), NULL::text,
                       '@e@1 released'),
       durable_test.eq(durable_test.owner('@e@2'), NULL::text,
                       '@e@2 released');

-- a grant stored before grants carried their set: released by the set
-- its request names in the history

SELECT durable_test.eq((durable.start('hub', 'old', 'Old', NULL,
                                      '"Name":"Old","Input":null')).rc, 0,
                       'old started');
SELECT durable_test.eq(durable_test.claim_named('Old', 5), 1::bigint,
                       'old claimed');
SELECT durable_test.eq(rc, 0, 'old locks @e@1 and @e@2')
FROM durable_test.episode('old', durable_test.lease(5), ARRAY[10]::smallint[],
    ARRAY['EntityLockRequested'],
    ARRAY['"CriticalSectionId":"cs-o","LockSet":["@e@1","@e@2"],'
          '"Position":0'],
    ARRAY['@e@1'], ARRAY[NULL::text], ARRAY[NULL::text],
    ARRAY['"lock":"cs-o","lockSet":["@e@1","@e@2"],"position":0,'
          '"parentInstanceId":"old"']);
SELECT durable_test.eq(durable_test.owner('@e@2'), 'old', '@e@2 old''s');

UPDATE durable.inbox m SET message = durable.message_public(m.message)
    WHERE m.hub = 'hub' AND m.id = 'old';
SELECT durable_test.eq(count(*), 1::bigint, 'a grant without its set')
FROM durable.inbox m
WHERE m.hub = 'hub' AND m.id = 'old'
  AND m.message LIKE '%"CriticalSectionId":"cs-o"}';

SELECT durable_test.eq((durable.terminate('hub', 'old', NULL)).rc, 0,
                       'old terminated');
SELECT durable_test.eq(durable_test.owner('@e@1'), NULL::text,
                       '@e@1 released by the history''s set'),
       durable_test.eq(durable_test.owner('@e@2'), NULL::text,
                       '@e@2 released by the history''s set');

-- 2. what the store keeps, and what the worker and the history see

SELECT durable_test.eq((durable.start('hub', 'h', 'H', NULL,
                                      '"Name":"H","Input":null')).rc, 0,
                       'h started');
SELECT durable_test.eq(durable_test.claim_named('H', 3), 1::bigint,
                       'h claimed');
SELECT durable_test.eq(rc, 0, 'h locks @e@3')
FROM durable_test.episode('h', durable_test.lease(3), ARRAY[10]::smallint[],
    ARRAY['EntityLockRequested'],
    ARRAY['"CriticalSectionId":"cs-h","LockSet":["@e@3"],"Position":0'],
    ARRAY['@e@3'], ARRAY[NULL::text], ARRAY[NULL::text],
    ARRAY['"lock":"cs-h","lockSet":["@e@3"],"position":0,'
          '"parentInstanceId":"h"']);

SELECT durable_test.eq(durable_test.owner('@e@3'), 'h', '@e@3 h''s');
SELECT durable_test.ok(m.message LIKE '{"EventType":"EntityLockGranted",%'
                       '"CriticalSectionId":"cs-h","LockSet":["@e@3"]}',
                       'the stored grant carries its set')
FROM durable.inbox m WHERE m.hub = 'hub' AND m.id = 'h';

CREATE TABLE durable_test.got AS
    SELECT c.messages FROM durable.claim_orchestrations('hub', 60000000,
        ARRAY[durable_test.lease(4)], ARRAY['H']) c
    WHERE c.id IS NOT NULL;

SELECT durable_test.eq(cardinality(g.messages), 1, 'h: one message'),
       durable_test.ok(g.messages[1] LIKE '{"EventType":"EntityLockGranted",%'
                       '"CriticalSectionId":"cs-h"}',
                       'the worker sees the public event'),
       durable_test.ok(g.messages[1] NOT LIKE '%LockSet%',
                       'without the set')
FROM durable_test.got g;

SELECT durable_test.eq(rc, 0, 'h: an episode')
FROM durable_test.episode('h', durable_test.lease(4), ARRAY[]::smallint[],
    ARRAY[]::text[], ARRAY[]::text[], ARRAY[]::text[], ARRAY[]::text[],
    ARRAY[]::text[], ARRAY[]::text[]);

SELECT durable_test.eq(count(*), 1::bigint,
                       'the history''s grant, without the set')
FROM durable.history h
WHERE h.hub = 'hub' AND h.id = 'h'
  AND h.event LIKE '{"EventType":"EntityLockGranted",%'
  AND h.event LIKE '%"CriticalSectionId":"cs-h"}';
SELECT durable_test.eq(count(*), 1::bigint, 'one LockSet: the request''s')
FROM durable.history h
WHERE h.hub = 'hub' AND h.id = 'h' AND h.event LIKE '%LockSet%';

-- other messages, and a grant without a set, are shown as they are; an
-- id that holds the member's text, escaped, is no member

CREATE TABLE durable_test.shown (msg text, want text, what text);
INSERT INTO durable_test.shown VALUES
    ('{"EventType":"EntityLockGranted",'
     '"CriticalSectionId":"a,\"LockSet\":[x]"}',
     '{"EventType":"EntityLockGranted",'
     '"CriticalSectionId":"a,\"LockSet\":[x]"}',
     'an id that looks like the member'),
    ('{"EventType":"EntityLockGranted",'
     '"CriticalSectionId":"a,\"LockSet\":[x]","LockSet":["@e@1"]}',
     '{"EventType":"EntityLockGranted",'
     '"CriticalSectionId":"a,\"LockSet\":[x]"}',
     'the member after such an id'),
    ('{"EventType":"EventRaised","Name":"x","LockSet":["@e@1"]}',
     '{"EventType":"EventRaised","Name":"x","LockSet":["@e@1"]}',
     'another event');

SELECT durable_test.eq(durable.message_public(x.msg), x.want, x.what)
FROM durable_test.shown x;
