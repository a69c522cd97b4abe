-- Completions (40-activity.sql, 50-orchestration-complete.sql): what
-- t_pg_ops.c cannot see, as it blanks the times. An episode's history is
-- on the clock of its claim; a completion that applies wakes the hub, a
-- refused one or a retry does not; strings SQL writes into JSON are
-- escaped as ds_json_escape() does. run.sh counts the notifications:
-- notifications: 3

-- the arrays of one action each: a kind, an id, and the rest NULL
CREATE FUNCTION durable_test.complete(p_id text, p_lease bytea,
    p_digest bigint, p_kind smallint, p_aid bigint, p_etype text,
    p_emembers text, p_a text, p_c text)
RETURNS record
LANGUAGE sql AS $$
    SELECT rc, status, changed, error
    FROM durable.complete_orchestration('hub', p_id, p_lease, p_digest,
        false, -1, ARRAY[p_kind], ARRAY[p_aid], ARRAY[NULL::bigint],
        ARRAY[p_etype], ARRAY[p_emembers], ARRAY[p_a], ARRAY[NULL::text],
        ARRAY[p_c], ARRAY[NULL::text], ARRAY[NULL::text],
        ARRAY[NULL::text], ARRAY[NULL::text], ARRAY[]::text[])
$$;

SELECT durable_test.eq(durable.json_str(E'a\tb\u0001"\\/é'),
                       E'"a\\tb\\u0001\\"\\\\/é"', 'escaped as C escapes');

SELECT durable_test.eq((durable.start('hub', 'o1', 'O', NULL,
                                      '"Name":"O","Input":null')).rc, 0,
                       'started');

-- claimed: its episode's clock is the claim's
SELECT durable_test.eq(count(*), 2::bigint, 'claimed, and the last row')
FROM durable.claim_orchestrations('hub', 60000000,
    ARRAY[durable_test.lease(1)], NULL);

LISTEN durable;

-- not its lease: refused, nothing written, no notification
SELECT durable_test.eq(rc, 2, 'another lease')
FROM durable_test.complete('o1', durable_test.lease(2), 11, 0::smallint, 0,
    'TaskScheduled', '"Name":"A","Input":null', 'A', NULL)
    AS (rc integer, status smallint, changed boolean, error text);

-- an activity scheduled: one notification
SELECT durable_test.eq(rc, 0, 'completed'),
       durable_test.eq(status, 0::smallint, 'running'),
       durable_test.eq(changed, true, 'pending to running')
FROM durable_test.complete('o1', durable_test.lease(1), 11, 0::smallint, 0,
    'TaskScheduled', '"Name":"A","Input":null', 'A', NULL)
    AS (rc integer, status smallint, changed boolean, error text);

-- the retry: the same answer, no notification
SELECT durable_test.eq(rc, 0, 'the retry'),
       durable_test.eq(status, 0::smallint, 'its status')
FROM durable_test.complete('o1', durable_test.lease(1), 11, 0::smallint, 0,
    'TaskScheduled', '"Name":"A","Input":null', 'A', NULL)
    AS (rc integer, status smallint, changed boolean, error text);

-- the episode's events on its clock, the message's on its own
SELECT durable_test.eq(
    (SELECT array_agg(durable_test.ts(h.event) ORDER BY h.seq)
     FROM durable.history h WHERE h.hub = 'hub' AND h.id = 'o1'
       AND h.event NOT LIKE '{"EventType":"ExecutionStarted"%'),
    (SELECT array_fill(durable.time_text(i.episode_at), ARRAY[3])
     FROM durable.instances i WHERE i.hub = 'hub' AND i.id = 'o1'),
    'OrchestratorStarted, TaskScheduled, OrchestratorCompleted at the claim');

SELECT durable_test.eq(durable_test.ev(h.event),
                       'TaskScheduled {"Name":"A","Input":null}',
                       'the action''s event, its EventId its id')
FROM durable.history h WHERE h.hub = 'hub' AND h.id = 'o1' AND h.seq = 3;

SELECT durable_test.ok(h.event LIKE '%"EventId":0,"Name"%',
                       'the EventId is the action''s')
FROM durable.history h WHERE h.hub = 'hub' AND h.id = 'o1' AND h.seq = 3;

-- the activity claimed and completed: one notification; its retry none
SELECT durable_test.eq(count(*), 2::bigint, 'the activity claimed')
FROM durable.claim_activities('hub', 60000000,
    ARRAY[durable_test.lease(3)], ARRAY['A']);

SELECT durable_test.eq((durable.complete_activity('hub', 'o1', 0,
    durable_test.lease(3), 5, false, '"TaskScheduledId":0,"Result":1')).rc,
    0, 'the activity completed');

SELECT durable_test.eq((durable.complete_activity('hub', 'o1', 0,
    durable_test.lease(3), 5, false, '"TaskScheduledId":0,"Result":1')).rc,
    0, 'its retry');

SELECT durable_test.eq((durable.complete_activity('hub', 'o1', 0,
    durable_test.lease(3), 6, false, '"TaskScheduledId":0,"Result":2')).rc,
    7, 'another result under its token');

SELECT durable_test.eq(count(*), 1::bigint, 'one result delivered')
FROM durable.inbox m WHERE m.hub = 'hub' AND m.id = 'o1';

SELECT durable_test.eq(a.done, true, 'a tombstone')
FROM durable.activities a WHERE a.hub = 'hub' AND a.id = 'o1';

-- a wake in a transaction of its own: the third notification
SELECT durable.raise_event('hub', 'o1', '"Name":"e","Input":null')
\g /dev/null

-- psql prints what arrived after each command
SELECT 1 \g /dev/null
