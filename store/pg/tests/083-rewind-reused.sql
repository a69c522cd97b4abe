-- A rewind reaches only the children of the failed parent's life
-- (durable.rewind_one(), durable.child_of_life()): a parent ended
-- without its children, purged and started again under its id is
-- another life, whose history names the old children when its starts of
-- their ids were refused. The new life fails, the old c0 fails and the
-- old c1 completes; rewinding the new life leaves both alone: c0 is not
-- rewound and c1's output does not come to the new parent; each task
-- fails instead, which the parent's next episode takes. The LMDB store
-- does the same (t_sdk_rewind_reused(), t_sdk.c).


-- the first life starts pc0 and pc1, ends alone and is purged

SELECT durable_test.life_start('p');
SELECT durable_test.life_starts('p', 1, ARRAY[0, 1]::bigint[],
                           ARRAY['pc0', 'pc1']);
SELECT durable_test.eq((durable.terminate('hub', 'p', NULL)).rc, 0,
                       'p terminated alone');
SELECT durable_test.eq((durable.purge('hub', 'p')).rc, 0, 'p purged');

-- another created time than the first life's
SELECT pg_sleep(0.002);

-- the new life's starts of pc0 and pc1 are refused; it fails

SELECT durable_test.life_start('p');
SELECT durable_test.life_starts('p', 2, ARRAY[0, 1]::bigint[],
                           ARRAY['pc0', 'pc1']);
SELECT durable_test.ok(durable_test.life_created('p')
                       <> durable.parent_created_of(i),
                       'pc0 keeps the old life''s created time')
FROM durable.instances i WHERE i.hub = 'hub' AND i.id = 'pc0';

SELECT durable_test.eq(durable_test.claim_named('p', 3), 1::bigint,
                       'p claimed');
SELECT durable_test.eq(rc, 0, 'p fails'),
       durable_test.eq(status, 3::smallint, 'p Failed')
FROM durable_test.done('p', ARRAY[7::smallint], ARRAY[NULL::text],
    ARRAY['"no"'], ARRAY[NULL::text], ARRAY[NULL::text], ARRAY[NULL::text]);

-- the old life's children end: pc0 fails, pc1 completes

SELECT durable_test.eq(durable_test.claim_named('pc0', 4), 1::bigint,
                       'pc0 claimed');
SELECT durable_test.eq(rc, 0, 'pc0 fails'),
       durable_test.eq(status, 3::smallint, 'pc0 Failed')
FROM durable_test.done('pc0', ARRAY[7::smallint], ARRAY[NULL::text],
    ARRAY['"old"'], ARRAY[NULL::text], ARRAY[NULL::text],
    ARRAY[NULL::text]);

SELECT durable_test.eq(durable_test.claim_named('pc1', 5), 1::bigint,
                       'pc1 claimed');
SELECT durable_test.eq(rc, 0, 'pc1 completes'),
       durable_test.eq(status, 1::smallint, 'pc1 Completed')
FROM durable_test.done('pc1', ARRAY[6::smallint], ARRAY[NULL::text],
    ARRAY['"old"'], ARRAY[NULL::text], ARRAY[NULL::text],
    ARRAY[NULL::text]);

-- the rewind of the new life leaves the old children alone

SELECT durable_test.eq((durable.rewind('hub', 'p', '"fix"')).rc, 0,
                       'p rewound');
SELECT durable_test.eq(durable_test.life_status('p'), '0', 'p Running');
SELECT durable_test.eq(durable_test.life_status('pc0'), '3',
                       'the old life''s pc0 not rewound');
SELECT durable_test.eq(durable_test.life_status('pc1'), '1',
                       'the old life''s pc1 left Completed');
SELECT durable_test.eq(count(*), 0::bigint,
                       'pc1''s output does not come to p')
FROM durable.inbox m
WHERE m.hub = 'hub' AND m.id = 'p'
  AND m.message LIKE '%SubOrchestrationInstanceCompleted%';

-- each of p's two tasks fails instead, with the event a failed child's
-- end brings, naming the id that another instance holds: in the inbox,
-- so that p's next episode takes them; ExecutionRewound is history

SELECT durable_test.eq(count(*), 2::bigint, 'p''s inbox: the two failures')
FROM durable.inbox m WHERE m.hub = 'hub' AND m.id = 'p';
SELECT durable_test.eq(
    regexp_replace(m.message, '"Timestamp":"[^"]*"', '"Timestamp":"T"'),
    '{"EventType":"SubOrchestrationInstanceFailed","Timestamp":"T",'
    || '"EventId":-1,"TaskScheduledId":' || k.task || ',"Reason":'
    || '"sub-orchestration ''' || k.child || ''' cannot be rewound: its id '
    || 'now belongs to another instance","Details":{"ErrorType":'
    || '"SubOrchestrationIdTaken","ErrorMessage":"sub-orchestration '''
    || k.child || ''' cannot be rewound: its id now belongs to another '
    || 'instance","IsNonRetriable":false}}',
    k.child || '''s task fails')
FROM (VALUES (0, 'pc0'), (1, 'pc1')) k(task, child)
LEFT JOIN durable.inbox m
    ON m.hub = 'hub' AND m.id = 'p'
   AND m.message LIKE '%"TaskScheduledId":' || k.task || ',%';
SELECT durable_test.eq(count(*), 1::bigint, 'ExecutionRewound in p''s history')
FROM durable.history h
WHERE h.hub = 'hub' AND h.id = 'p' AND h.event LIKE '%ExecutionRewound%';

-- p's next episode takes them, and its code fails again

SELECT durable_test.eq(durable_test.claim_named('p', 6), 1::bigint,
                       'p claimed after its rewind');
SELECT durable_test.eq(rc, 0, 'p fails again'),
       durable_test.eq(status, 3::smallint, 'p Failed again')
FROM durable_test.done('p', ARRAY[7::smallint], ARRAY[NULL::text],
    ARRAY['"pc0 failed"'], ARRAY[NULL::text], ARRAY[NULL::text],
    ARRAY[NULL::text]);
SELECT durable_test.eq(count(*), 2::bigint,
                       'the failures in p''s history')
FROM durable.history h
WHERE h.hub = 'hub' AND h.id = 'p'
  AND h.event LIKE '%SubOrchestrationIdTaken%'
  AND h.seq > (SELECT x.seq FROM durable.history x
               WHERE x.hub = 'hub' AND x.id = 'p'
                 AND x.event LIKE '%ExecutionRewound%');
SELECT durable_test.eq(count(*), 0::bigint, 'p''s inbox empty')
FROM durable.inbox m WHERE m.hub = 'hub' AND m.id = 'p';
