-- A completion that queues two messages to the completing instance's own
-- inbox by two ways (50-orchestration-complete.sql): one through
-- durable.deliver(), which numbers it by the record's counter (a lock
-- the entity grants at once, a terminated child's end), the other by
-- the function itself (an event to itself, a sub-orchestration refused).
-- Each must take its own seq, in the order of the actions, whichever
-- comes first, and the counter must end past both; the LMDB store does
-- the same (ds_inbox_reserve(), t_sdk.c).

-- an episode of n actions: their kinds and members a to e, ids 0 to
-- n - 1, no history event of their own
CREATE FUNCTION durable_test.episode(p_id text, p_lease bytea,
    p_kinds smallint[], p_a text[], p_b text[], p_c text[], p_d text[],
    p_e text[], OUT rc integer, OUT status smallint, OUT error text)
LANGUAGE sql AS $$
    SELECT c.rc, c.status, c.error
    FROM durable.complete_orchestration('hub', p_id, p_lease, 1, false, -1,
        p_kinds,
        ARRAY(SELECT generate_series(0, cardinality(p_kinds) - 1))::bigint[],
        array_fill(NULL::bigint, ARRAY[cardinality(p_kinds)]),
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]),
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]),
        p_a, p_b, p_c, p_d, p_e,
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]),
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]),
        ARRAY[]::text[]) c
$$;

-- the inbox of an instance, "seq Type {members}" in seq order
CREATE FUNCTION durable_test.inbox(p_id text) RETURNS text
LANGUAGE sql AS $$
    SELECT string_agg(m.seq || ' ' || durable_test.ev(m.message), ', '
                      ORDER BY m.seq)
    FROM durable.inbox m WHERE m.hub = 'hub' AND m.id = p_id
$$;


-- 1. the lock granted (deliver()), then an event to itself

SELECT durable_test.eq((durable.start('hub', 'o1', 'A', NULL,
                                      '"Name":"A","Input":null')).rc, 0,
                       'o1 started');
SELECT durable_test.eq(durable_test.claim_named('A', 1), 1::bigint, 'o1 claimed');

SELECT durable_test.eq(rc, 0, 'o1: completed'),
       durable_test.eq(error, NULL, 'o1: no error')
FROM durable_test.episode('o1', durable_test.lease(1),
    ARRAY[10, 3]::smallint[], ARRAY['@e@1', 'o1'], ARRAY[NULL, NULL],
    ARRAY[NULL, NULL],
    ARRAY['"lock":"cs1","lockSet":["@e@1"],"position":0,'
          '"parentInstanceId":"o1"',
          '"Name":"self","Input":null'],
    ARRAY[NULL, NULL]);

SELECT durable_test.eq(durable_test.inbox('o1'),
    '2 EntityLockGranted {"CriticalSectionId":"cs1","LockSet":["@e@1"]}, '
    '3 EventRaised {"Name":"self","Input":null}',
    'o1: the grant, then the event');

SELECT durable_test.eq(i.inbox_seq, 3::bigint, 'o1: the counter past both')
FROM durable.instances i WHERE i.hub = 'hub' AND i.id = 'o1';


-- 2. an event to itself, then the lock granted

SELECT durable_test.eq((durable.start('hub', 'o2', 'B', NULL,
                                      '"Name":"B","Input":null')).rc, 0,
                       'o2 started');
SELECT durable_test.eq(durable_test.claim_named('B', 2), 1::bigint, 'o2 claimed');

SELECT durable_test.eq(rc, 0, 'o2: completed'),
       durable_test.eq(error, NULL, 'o2: no error')
FROM durable_test.episode('o2', durable_test.lease(2),
    ARRAY[3, 10]::smallint[], ARRAY['o2', '@e@2'], ARRAY[NULL, NULL],
    ARRAY[NULL, NULL],
    ARRAY['"Name":"self","Input":null',
          '"lock":"cs2","lockSet":["@e@2"],"position":0,'
          '"parentInstanceId":"o2"'],
    ARRAY[NULL, NULL]);

SELECT durable_test.eq(durable_test.inbox('o2'),
    '2 EventRaised {"Name":"self","Input":null}, '
    '3 EntityLockGranted {"CriticalSectionId":"cs2","LockSet":["@e@2"]}',
    'o2: the event, then the grant');

SELECT durable_test.eq(i.inbox_seq, 3::bigint, 'o2: the counter past both')
FROM durable.instances i WHERE i.hub = 'hub' AND i.id = 'o2';

-- the next message takes the next seq
SELECT durable_test.eq((durable.raise_event('hub', 'o2',
                            '"Name":"x","Input":null')).rc, 0,
                       'o2: an event raised');
SELECT durable_test.eq(array_agg(m.seq ORDER BY m.seq),
                       ARRAY[2, 3, 4]::bigint[], 'o2: the event after them')
FROM durable.inbox m WHERE m.hub = 'hub' AND m.id = 'o2';


-- 3. its child terminated (its end delivered), then a sub-orchestration
-- refused (its own id, active) and an event to itself

SELECT durable_test.eq((durable.start('hub', 'o3', 'C', NULL,
                                      '"Name":"C","Input":null')).rc, 0,
                       'o3 started');
SELECT durable_test.eq(durable_test.claim_named('C', 3), 1::bigint, 'o3 claimed');

SELECT durable_test.eq(rc, 0, 'o3: the child started')
FROM durable_test.episode('o3', durable_test.lease(3),
    ARRAY[2]::smallint[], ARRAY['k3'], ARRAY['K'], ARRAY['null'],
    ARRAY['"Name":"K","Input":null'],
    ARRAY['"TaskScheduledId":0,"Reason":"An active instance with ID '
          '''k3'' already exists.","Details":null']);

SELECT durable_test.eq(i.parent_id, 'o3', 'k3: o3''s child')
FROM durable.instances i WHERE i.hub = 'hub' AND i.id = 'k3';

SELECT durable_test.eq((durable.raise_event('hub', 'o3',
                            '"Name":"go","Input":null')).rc, 0,
                       'o3: an event raised');
SELECT durable_test.eq(durable_test.claim_named('C', 4), 1::bigint,
                       'o3 claimed again');

SELECT durable_test.eq(rc, 0, 'o3: completed'),
       durable_test.eq(error, NULL, 'o3: no error')
FROM durable_test.episode('o3', durable_test.lease(4),
    ARRAY[12, 2, 3]::smallint[], ARRAY['k3', 'o3', 'o3'],
    ARRAY[NULL, 'K', NULL], ARRAY['"stop"', 'null', NULL],
    ARRAY[NULL, '"Name":"K","Input":null', '"Name":"self","Input":null'],
    ARRAY[NULL, '"TaskScheduledId":1,"Reason":"An active instance with '
                'ID ''o3'' already exists.","Details":null', NULL]);

SELECT durable_test.eq(i.status, 5::smallint, 'k3 terminated')
FROM durable.instances i WHERE i.hub = 'hub' AND i.id = 'k3';

SELECT durable_test.eq(durable_test.inbox('o3'),
    '3 SubOrchestrationInstanceFailed {"TaskScheduledId":0,'
    '"Reason":"stop","Details":null}, '
    '4 SubOrchestrationInstanceFailed {"TaskScheduledId":1,'
    '"Reason":"An active instance with ID ''o3'' already exists.",'
    '"Details":null}, '
    '5 EventRaised {"Name":"self","Input":null}',
    'o3: the child''s end, the refusal, the event');

SELECT durable_test.eq(i.inbox_seq, 5::bigint, 'o3: the counter past all')
FROM durable.instances i WHERE i.hub = 'hub' AND i.id = 'o3';

-- a claim finds them all
SELECT durable_test.eq(cardinality(c.messages), 3, 'o3: all three claimed')
FROM durable.claim_orchestrations('hub', 60000000,
    ARRAY[durable_test.lease(5)], ARRAY['C']) c
WHERE c.id = 'o3';


-- 4. an event to itself, the lock granted, then continue-as-new carrying
-- one event: the new ExecutionStarted takes the seq of the last message
-- delivered, the carried event goes after it, then the event of the
-- actions; the grant, which the new execution never asked for, is
-- dropped and its lock released (075-stale-grants.sql), and the counter
-- ends past every seq taken

-- an episode that ends in continue-as-new (its input null) carrying
-- p_carry, its other actions as durable_test.episode()'s
CREATE FUNCTION durable_test.renew(p_id text, p_lease bytea,
    p_kinds smallint[], p_a text[], p_d text[], p_carry text[],
    OUT rc integer, OUT status smallint, OUT error text)
LANGUAGE sql AS $$
    SELECT c.rc, c.status, c.error
    FROM durable.complete_orchestration('hub', p_id, p_lease, 1, false, -1,
        p_kinds || 8::smallint,
        ARRAY(SELECT generate_series(0, cardinality(p_kinds)))::bigint[],
        array_fill(NULL::bigint, ARRAY[cardinality(p_kinds) + 1]),
        array_fill(NULL::text, ARRAY[cardinality(p_kinds) + 1]),
        array_fill(NULL::text, ARRAY[cardinality(p_kinds) + 1]),
        p_a || NULL::text,
        array_fill(NULL::text, ARRAY[cardinality(p_kinds) + 1]),
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]) || 'null'::text,
        p_d || '"Input":null'::text,
        array_fill(NULL::text, ARRAY[cardinality(p_kinds) + 1]),
        array_fill(NULL::text, ARRAY[cardinality(p_kinds) + 1]),
        array_fill(NULL::text, ARRAY[cardinality(p_kinds) + 1]),
        p_carry) c
$$;

-- the messages of an instance's inbox in seq order, without their seqs
CREATE FUNCTION durable_test.queued(p_id text) RETURNS text
LANGUAGE sql AS $$
    SELECT string_agg(durable_test.ev(m.message), ', ' ORDER BY m.seq)
    FROM durable.inbox m WHERE m.hub = 'hub' AND m.id = p_id
$$;

-- the seq of the instance's ExecutionStarted; whether its counter is at
-- or past every seq in its inbox
CREATE FUNCTION durable_test.started_at(p_id text) RETURNS bigint
LANGUAGE sql AS $$
    SELECT m.seq FROM durable.inbox m
    WHERE m.hub = 'hub' AND m.id = p_id
      AND durable_test.ev(m.message) LIKE 'ExecutionStarted %'
$$;

CREATE FUNCTION durable_test.counter_past(p_id text) RETURNS boolean
LANGUAGE sql AS $$
    SELECT i.inbox_seq >= (SELECT max(m.seq) FROM durable.inbox m
                           WHERE m.hub = 'hub' AND m.id = p_id)
    FROM durable.instances i WHERE i.hub = 'hub' AND i.id = p_id
$$;

SELECT durable_test.eq((durable.start('hub', 'o4', 'D', NULL,
                                      '"Name":"D","Input":null')).rc, 0,
                       'o4 started');
SELECT durable_test.eq(durable_test.claim_named('D', 6), 1::bigint, 'o4 claimed');

SELECT durable_test.eq(rc, 0, 'o4: continued as new'),
       durable_test.eq(status, 2::smallint, 'o4: its new execution'),
       durable_test.eq(error, NULL, 'o4: no error')
FROM durable_test.renew('o4', durable_test.lease(6),
    ARRAY[3, 10]::smallint[], ARRAY['o4', '@e@4'],
    ARRAY['"Name":"self","Input":null',
          '"lock":"cs4","lockSet":["@e@4"],"position":0,'
          '"parentInstanceId":"o4"'],
    ARRAY[durable.event('EventRaised', 1, '"Name":"kept","Input":null')]);

SELECT durable_test.eq(durable_test.queued('o4'),
    'ExecutionStarted {"Name":"D","Input":null}, '
    'EventRaised {"Name":"kept","Input":null}, '
    'EventRaised {"Name":"self","Input":null}',
    'o4: started, the carried event, the event');
SELECT durable_test.eq(durable_test.started_at('o4'), 1::bigint,
                       'o4: ExecutionStarted at the seq it carried over');
SELECT durable_test.eq(durable_test.counter_past('o4'), true,
                       'o4: the counter past them all');

-- the next message takes a seq after them all
SELECT durable_test.eq((durable.raise_event('hub', 'o4',
                            '"Name":"x","Input":null')).rc, 0,
                       'o4: an event raised');
SELECT durable_test.eq(durable_test.queued('o4'),
    'ExecutionStarted {"Name":"D","Input":null}, '
    'EventRaised {"Name":"kept","Input":null}, '
    'EventRaised {"Name":"self","Input":null}, '
    'EventRaised {"Name":"x","Input":null}',
    'o4: the raised event last');


-- 4b. the grant alone before continue-as-new: the function's own count
-- stays below the record's counter, which the grant raised before it
-- was dropped

SELECT durable_test.eq((durable.start('hub', 'o5', 'E', NULL,
                                      '"Name":"E","Input":null')).rc, 0,
                       'o5 started');
SELECT durable_test.eq(durable_test.claim_named('E', 7), 1::bigint, 'o5 claimed');

SELECT durable_test.eq(rc, 0, 'o5: continued as new'),
       durable_test.eq(error, NULL, 'o5: no error')
FROM durable_test.renew('o5', durable_test.lease(7),
    ARRAY[10]::smallint[], ARRAY['@e@5'],
    ARRAY['"lock":"cs5","lockSet":["@e@5"],"position":0,'
          '"parentInstanceId":"o5"'],
    ARRAY[durable.event('EventRaised', 1, '"Name":"kept","Input":null')]);

SELECT durable_test.eq(durable_test.queued('o5'),
    'ExecutionStarted {"Name":"E","Input":null}, '
    'EventRaised {"Name":"kept","Input":null}',
    'o5: started, the carried event');
SELECT durable_test.eq(durable_test.started_at('o5'), 1::bigint,
                       'o5: ExecutionStarted at the seq it carried over');
SELECT durable_test.eq(durable_test.counter_past('o5'), true,
                       'o5: the counter past them all');

SELECT durable_test.eq((durable.raise_event('hub', 'o5',
                            '"Name":"x","Input":null')).rc, 0,
                       'o5: an event raised');
SELECT durable_test.eq(durable_test.queued('o5'),
    'ExecutionStarted {"Name":"E","Input":null}, '
    'EventRaised {"Name":"kept","Input":null}, '
    'EventRaised {"Name":"x","Input":null}',
    'o5: the raised event last');
