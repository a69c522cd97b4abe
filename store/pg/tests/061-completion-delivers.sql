-- A completion whose own actions deliver to the completing instance
-- (50-orchestration-complete.sql): a lock request the entity grants at
-- once puts EntityLockGranted in the instance's inbox through
-- durable.deliver(), under the completion's lock of the record. The
-- record the completion writes must count that message: its inbox
-- counter past it, its ready time set, so that the next message takes
-- the next seq and a claim finds the grant.

SELECT durable_test.eq((durable.start('hub', 'o1', 'O', NULL,
                                      '"Name":"O","Input":null')).rc, 0,
                       'started');

SELECT durable_test.eq(count(*), 2::bigint, 'claimed, and the last row')
FROM durable.claim_orchestrations('hub', 60000000,
    ARRAY[durable_test.lease(1)], NULL);

-- a lock request of one free entity, the episode's one action
SELECT durable_test.eq(rc, 0, 'completed'),
       durable_test.eq(status, 0::smallint, 'running')
FROM durable.complete_orchestration('hub', 'o1', durable_test.lease(1), 1,
    false, -1, ARRAY[10::smallint], ARRAY[0::bigint], ARRAY[NULL::bigint],
    ARRAY[NULL::text], ARRAY[NULL::text], ARRAY['@e@1'], ARRAY[NULL::text],
    ARRAY[NULL::text],
    ARRAY['"lock":"cs","lockSet":["@e@1"],"position":0,'
          '"parentInstanceId":"o1"'],
    ARRAY[NULL::text], ARRAY[NULL::text], ARRAY[NULL::text],
    ARRAY[]::text[]);

SELECT durable_test.eq(e.owner, 'o1', 'the entity locked at once')
FROM durable.entities e WHERE e.hub = 'hub' AND e.id = '@e@1';

SELECT durable_test.eq(string_agg(m.seq || ' ' || durable_test.ev(m.message),
                                  ', ' ORDER BY m.seq),
                       '2 EntityLockGranted {"CriticalSectionId":"cs",'
                       '"LockSet":["@e@1"]}',
                       'the grant after the taken ExecutionStarted')
FROM durable.inbox m WHERE m.hub = 'hub' AND m.id = 'o1';

SELECT durable_test.eq(i.inbox_seq, 2::bigint, 'the counter counts it'),
       durable_test.ok(i.ready_at > 0, 'ready for the grant'),
       durable_test.eq(i.lease, NULL::bytea, 'the lease given back')
FROM durable.instances i WHERE i.hub = 'hub' AND i.id = 'o1';

-- the next message takes the next seq
SELECT durable_test.eq((durable.raise_event('hub', 'o1',
                            '"Name":"x","Input":null')).rc, 0,
                       'an event raised');

SELECT durable_test.eq(array_agg(m.seq ORDER BY m.seq), ARRAY[2, 3]::bigint[],
                       'the event after the grant')
FROM durable.inbox m WHERE m.hub = 'hub' AND m.id = 'o1';

-- a claim finds both
SELECT durable_test.eq(cardinality(c.messages), 2, 'both claimed')
FROM durable.claim_orchestrations('hub', 60000000,
    ARRAY[durable_test.lease(2)], NULL) c
WHERE c.id = 'o1';
