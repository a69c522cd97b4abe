-- A continue-as-new drops the answers to the ended execution by their
-- EventType, read from the JSON (durable.event_type()): a message the
-- store did not write (an import, an event carried over) may space or
-- order its members otherwise, or escape its type, and is still an
-- answer. store/tests/t_sdk.c (t_sdk_answers_parsed) holds LMDB to the
-- same.

SELECT durable_test.eq((durable.start('hub', 'p', 'O', NULL,
                                      '"Name":"O","Input":null')).rc, 0,
                       'started');

SELECT durable_test.eq(count(*), 2::bigint, 'claimed')
FROM durable.claim_orchestrations('hub', 60000000,
    ARRAY[durable_test.lease(1)], NULL);

-- messages that came during the episode, as an import could write them
INSERT INTO durable.inbox (hub, partition, id, seq, message)
SELECT 'hub', durable_test.part('hub', 'p'), 'p', i.inbox_seq + m.n, m.msg
FROM durable.instances i,
     (VALUES (1, '{ "EventType" : "TaskCompleted", "TaskScheduledId": 0 }'),
             (2, '{"Timestamp":"2018-03-10T13:57:31Z","EventType":'
                 '"TimerFired","TimerId":1}'),
             (3, '{"EventType":"Task\u0046ailed","TaskScheduledId":2}'),
             (4, '{"EventType":"EventRaised","Name":"kept","Input":null}'),
             (5, '{"Name":"TaskCompleted","EventType":"EventRaised",'
                 '"Input":null}')) m(n, msg)
WHERE i.hub = 'hub' AND i.id = 'p';

UPDATE durable.instances i SET inbox_seq = i.inbox_seq + 5
WHERE i.hub = 'hub' AND i.id = 'p';

SELECT durable_test.eq(c.rc, 0, 'continued as new')
FROM durable.complete_orchestration('hub', 'p', durable_test.lease(1), 1,
    false, -1, ARRAY[8::smallint], ARRAY[0::bigint], ARRAY[NULL::bigint],
    ARRAY[NULL::text], ARRAY[NULL::text], ARRAY[NULL::text],
    ARRAY[NULL::text], ARRAY['2'], ARRAY['"Input":2'], ARRAY[NULL::text],
    ARRAY[NULL::text], ARRAY[NULL::text], ARRAY[]::text[]) c;

SELECT durable_test.eq(string_agg(m.message::json ->> 'EventType', ', '
                                  ORDER BY m.seq),
                       'ExecutionStarted, EventRaised, EventRaised',
                       'the answers dropped, the events kept')
FROM durable.inbox m WHERE m.hub = 'hub' AND m.id = 'p';
