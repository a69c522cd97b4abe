-- start, status, raise event, terminate, suspend, resume, purge: the
-- answers of durable_store.h's DS_OP_* contracts, and what each writes

DO $$
DECLARE
    r     record;
    s     record;
    m     text;
    t0    bigint;
    part  integer;
BEGIN
    t0 := durable.now_us();

    -- a start: Pending, one ExecutionStarted message, ready now
    r := durable.start('hub', 'i1', 'Hello', '{"a":1}',
                       '"Name":"Hello","Input":{"a":1}');
    PERFORM durable_test.eq(r.rc, 0, 'start');
    PERFORM durable_test.eq(r.status, 6::smallint, 'start status');

    s := durable.status('hub', 'i1', true);
    PERFORM durable_test.eq(s.rc, 0, 'status');
    PERFORM durable_test.eq(s.status, 6::smallint, 'Pending');
    PERFORM durable_test.eq(s.name, 'Hello', 'name');
    PERFORM durable_test.eq(s.input, '{"a":1}', 'input kept as text');
    PERFORM durable_test.eq(s.execution, 1::bigint, 'execution');
    PERFORM durable_test.eq(s.history, '{}'::text[], 'no history yet');
    PERFORM durable_test.ok(s.created >= t0 AND s.created <= durable.now_us(),
                            'created is the database clock');
    PERFORM durable_test.eq(s.ready_at, s.created, 'ready at the start');
    PERFORM durable_test.eq(s.inbox_seq, 1::bigint, 'inbox counter');

    -- keyed by (hub, partition): the partition is the id's hash
    part := durable.partition_of(16, 'i1');
    PERFORM durable_test.ok(part BETWEEN 0 AND 15, 'partition in range');
    PERFORM durable_test.eq((SELECT count(*) FROM durable.instances
                             WHERE hub = 'hub' AND partition = part
                               AND id = 'i1'), 1::bigint, 'partition');
    m := (SELECT message FROM durable.inbox
          WHERE hub = 'hub' AND id = 'i1' AND seq = 1);
    PERFORM durable_test.eq(durable_test.ev(m),
        'ExecutionStarted {"Name":"Hello","Input":{"a":1}}',
        'the message: its type and the members as given');
    PERFORM durable_test.eq(durable_test.ts(m), durable.time_text(s.created),
        'the message: the database time');

    -- an active namesake: CONFLICT with its status, nothing written
    r := durable.start('hub', 'i1', 'Other', NULL, '"Name":"Other"');
    PERFORM durable_test.eq(r.rc, 2, 'start of an active id');
    PERFORM durable_test.eq(r.status, 6::smallint, 'its status');
    PERFORM durable_test.eq((durable.status('hub', 'i1', false)).name,
                            'Hello', 'conflict changed nothing');

    -- bad keys: INVALID
    PERFORM durable_test.eq((durable.start('hub', repeat('x', 257), 'N',
                             NULL, '')).rc, 6, 'id of 257 bytes');
    PERFORM durable_test.eq((durable.start(repeat('h', 51), 'x', 'N',
                             NULL, '')).rc, 6, 'hub of 51 bytes');
    PERFORM durable_test.eq((durable.start('hub', 'x', repeat('n', 257),
                             NULL, '')).rc, 6, 'name of 257 bytes');

    -- raise event: queued; NOTFOUND for a missing instance
    r := durable.raise_event('hub', 'i1', '"Name":"go","Input":2');
    PERFORM durable_test.eq(r.rc, 0, 'raise event');
    PERFORM durable_test.eq(durable_test.ev((SELECT message
                             FROM durable.inbox WHERE hub = 'hub'
                               AND id = 'i1' AND seq = 2)),
                            'EventRaised {"Name":"go","Input":2}',
                            'EventRaised message');
    PERFORM durable_test.eq((durable.raise_event('hub', 'nope', '')).rc, 1,
                            'raise event: no instance');
    PERFORM durable_test.eq((durable.raise_event('nohub', 'i1', '')).rc, 1,
                            'raise event: no hub');

    -- suspend: out of the ready index, twice is OK and changes nothing
    PERFORM durable_test.eq((durable.suspend('hub', 'i1', '"zzz"')).rc, 0,
                            'suspend');
    s := durable.status('hub', 'i1', true);
    PERFORM durable_test.eq(s.status, 7::smallint, 'Suspended');
    PERFORM durable_test.eq(s.suspended_from, 6::smallint, 'from Pending');
    PERFORM durable_test.eq(s.ready_at, 0::bigint, 'not ready');
    PERFORM durable_test.eq(cardinality(s.history), 1, 'one event');
    PERFORM durable_test.eq(durable_test.ev(s.history[1]),
                            'ExecutionSuspended {"Reason":"zzz"}',
                            'ExecutionSuspended event');
    PERFORM durable_test.eq((durable.suspend('hub', 'i1', NULL)).rc, 0,
                            'suspend again');
    PERFORM durable_test.eq(cardinality((durable.status('hub', 'i1',
                            true)).history), 1, 'suspend again wrote nothing');

    -- a message to a suspended instance does not make it ready
    PERFORM durable.raise_event('hub', 'i1', '"Name":"later","Input":null');
    PERFORM durable_test.eq((durable.status('hub', 'i1', false)).ready_at,
                            0::bigint, 'suspended stays out of the index');

    -- resume: back to Pending, ready again since messages wait
    PERFORM durable_test.eq((durable.resume('hub', 'i1', NULL)).rc, 0,
                            'resume');
    s := durable.status('hub', 'i1', true);
    PERFORM durable_test.eq(s.status, 6::smallint, 'resumed to Pending');
    PERFORM durable_test.ok(s.ready_at > 0, 'ready again');
    PERFORM durable_test.eq(durable_test.ev(s.history[2]),
                            'ExecutionResumed {"Reason":null}',
                            'ExecutionResumed with a null reason');
    PERFORM durable_test.eq((durable.resume('hub', 'i1', NULL)).rc, 0,
                            'resume of a running one');
    PERFORM durable_test.eq(cardinality((durable.status('hub', 'i1',
                            true)).history), 2, 'and it wrote nothing');

    -- purge of an active instance: PRECONDITION with its status
    r := durable.purge('hub', 'i1');
    PERFORM durable_test.eq(r.rc, 4, 'purge active');
    PERFORM durable_test.eq(r.status, 6::smallint, 'purge active status');

    -- terminate: Terminated, inbox and pending work dropped
    INSERT INTO durable.timers VALUES ('hub', part, 'i1', 7, t0, t0);
    INSERT INTO durable.activities (hub, partition, id, task_id, name,
                                    ready_at)
        VALUES ('hub', part, 'i1', 3, 'Act', t0);
    INSERT INTO durable.activities (hub, partition, id, task_id, done)
        VALUES ('hub', part, 'i1', 4, true);
    PERFORM durable_test.eq((durable.terminate('hub', 'i1',
                             '"enough"')).rc, 0, 'terminate');
    s := durable.status('hub', 'i1', true);
    PERFORM durable_test.eq(s.status, 5::smallint, 'Terminated');
    PERFORM durable_test.eq(s.output, '"enough"', 'the reason is the output');
    PERFORM durable_test.eq(s.ready_at, 0::bigint, 'not ready');
    PERFORM durable_test.eq(durable_test.ev(s.history[3]),
                            'ExecutionTerminated {"Input":"enough"}',
                            'ExecutionTerminated event');
    PERFORM durable_test.eq((SELECT count(*) FROM durable.inbox
                             WHERE id = 'i1'), 0::bigint, 'inbox dropped');
    PERFORM durable_test.eq((SELECT count(*) FROM durable.timers
                             WHERE id = 'i1'), 0::bigint, 'timers dropped');
    PERFORM durable_test.eq((SELECT array_agg(task_id)
                             FROM durable.activities WHERE id = 'i1'),
                            ARRAY[4::bigint], 'tombstones stay');

    -- a terminal instance: GONE for terminate (a retry), event, suspend
    PERFORM durable_test.eq((durable.terminate('hub', 'i1', NULL)).rc, 3,
                            'terminate again');
    PERFORM durable_test.eq((durable.raise_event('hub', 'i1', '')).rc, 3,
                            'event to terminal');
    PERFORM durable_test.eq((durable.suspend('hub', 'i1', NULL)).rc, 3,
                            'suspend terminal');
    PERFORM durable_test.eq((durable.resume('hub', 'i1', NULL)).rc, 3,
                            'resume terminal');
    PERFORM durable_test.eq((durable.terminate('hub', 'none', NULL)).rc, 1,
                            'terminate missing');

    -- a start over a terminal instance: a new execution, empty history,
    -- the inbox counter going on
    r := durable.start('hub', 'i1', 'Again', NULL, '"Name":"Again"');
    PERFORM durable_test.eq(r.rc, 0, 'restart');
    s := durable.status('hub', 'i1', true);
    PERFORM durable_test.eq(s.execution, 2::bigint, 'second execution');
    PERFORM durable_test.eq(s.history, '{}'::text[], 'history cleared');
    PERFORM durable_test.eq(s.output, NULL::text, 'output cleared');
    PERFORM durable_test.eq((SELECT array_agg(seq) FROM durable.inbox
                             WHERE id = 'i1'), ARRAY[4::bigint],
                            'the message follows the counter');
    PERFORM durable_test.eq((SELECT count(*) FROM durable.activities
                             WHERE id = 'i1'), 0::bigint,
                            'tombstones dropped by a new execution');

    -- purge: a terminal instance and everything of it; a retry NOTFOUND
    PERFORM durable.terminate('hub', 'i1', NULL);
    r := durable.purge('hub', 'i1');
    PERFORM durable_test.eq(r.rc, 0, 'purge');
    PERFORM durable_test.eq(r.status, 5::smallint, 'purged status');
    PERFORM durable_test.eq((SELECT count(*) FROM durable.history
                             WHERE id = 'i1')
                            + (SELECT count(*) FROM durable.inbox
                               WHERE id = 'i1')
                            + (SELECT count(*) FROM durable.instances
                               WHERE id = 'i1'), 0::bigint, 'all gone');
    PERFORM durable_test.eq((durable.purge('hub', 'i1')).rc, 1,
                            'purge again');
    PERFORM durable_test.eq((durable.status('hub', 'i1', false)).rc, 1,
                            'status of a purged instance');
END
$$;


-- a terminated sub-orchestration tells its parent, if the parent still
-- runs the execution that started it

DO $$
DECLARE
    m  text;
BEGIN
    PERFORM durable.start('hub', 'parent', 'P', NULL, '"Name":"P"');
    PERFORM durable.start('hub', 'child', 'C', NULL, '"Name":"C"');
    PERFORM durable.start('hub', 'orphan', 'C', NULL, '"Name":"C"');

    UPDATE durable.instances SET parent_id = 'parent', parent_task = 5,
                                 parent_execution = 1
        WHERE id = 'child';
    UPDATE durable.instances SET parent_id = 'parent', parent_task = 6,
                                 parent_execution = 9
        WHERE id = 'orphan';

    PERFORM durable_test.eq((durable.terminate('hub', 'child',
                             '"stop"')).rc, 0, 'terminate child');
    PERFORM durable_test.eq((durable.terminate('hub', 'orphan', NULL)).rc, 0,
                            'terminate orphan');

    SELECT string_agg(durable_test.ev(message), ' ' ORDER BY seq) INTO m
        FROM durable.inbox WHERE id = 'parent' AND seq > 1;
    PERFORM durable_test.eq(m, 'SubOrchestrationInstanceFailed '
                            '{"TaskScheduledId":5,"Reason":"stop",'
                            '"Details":null}',
                            'the parent heard of its child only');
END
$$;


-- each operation fails alone: an error inside one is rolled back to its
-- savepoint and answered as rc 8; the others of the transaction stay

CREATE FUNCTION durable_test.boom() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id = 'boom' THEN
        RAISE EXCEPTION 'injected failure';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER boom BEFORE INSERT ON durable.inbox
    FOR EACH ROW EXECUTE FUNCTION durable_test.boom();

BEGIN;

DO $$
DECLARE
    r  record;
BEGIN
    PERFORM durable_test.eq((durable.start('hub', 'b1', 'N', NULL,
                             '')).rc, 0, 'batch: first');
    r := durable.start('hub', 'boom', 'N', NULL, '');
    PERFORM durable_test.eq(r.rc, 8, 'batch: the failing one');
    PERFORM durable_test.ok(r.error ~ 'injected failure', 'its error');
    PERFORM durable_test.eq((durable.start('hub', 'b2', 'N', NULL,
                             '')).rc, 0, 'batch: after it');
END
$$;

COMMIT;

DROP TRIGGER boom ON durable.inbox;

DO $$
BEGIN
    PERFORM durable_test.eq((SELECT array_agg(id ORDER BY id)
                             FROM durable.instances
                             WHERE id IN ('b1', 'b2', 'boom')),
                            ARRAY['b1', 'b2'],
                            'the batch committed all but the failing one');
END
$$;
