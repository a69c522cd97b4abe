-- A completion that terminates the tree of its instance's parent or
-- grandparent (50-orchestration-complete.sql) ends its own instance with
-- it: the instance stays Terminated with the termination's reason and
-- ExecutionTerminated last in its history, the actions after the
-- termination are not applied, and the answer is Terminated and changed,
-- the same again for a retry. A termination of the parent alone leaves
-- the completing child as any completion does. The LMDB store does the
-- same (t_sdk_self_terminate(), t_sdk.c); t_pg_ops.c compares the two.

-- an episode of actions with ids 0 to n - 1: their kinds, their history
-- events (types and members, NULL for none) and their members a to d
CREATE FUNCTION durable_test.episode(p_id text, p_lease bytea,
    p_digest bigint, p_kinds smallint[], p_etypes text[],
    p_emembers text[], p_a text[], p_b text[], p_c text[], p_d text[],
    OUT rc integer, OUT status smallint, OUT changed boolean,
    OUT error text)
LANGUAGE sql AS $$
    SELECT c.rc, c.status, c.changed, c.error
    FROM durable.complete_orchestration('hub', p_id, p_lease, p_digest,
        false, -1, p_kinds,
        ARRAY(SELECT generate_series(0, cardinality(p_kinds) - 1))::bigint[],
        array_fill(NULL::bigint, ARRAY[cardinality(p_kinds)]),
        p_etypes, p_emembers, p_a, p_b, p_c, p_d,
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]),
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]),
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]),
        ARRAY[]::text[]) c
$$;

-- p_parent (named p_pname) starts p_child (named p_name) as its
-- sub-orchestration, under lease p_lease
CREATE FUNCTION durable_test.sub(p_parent text, p_pname text,
    p_child text, p_name text, p_lease integer)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r  record;
BEGIN
    PERFORM durable_test.eq(durable_test.claim_named(p_pname, p_lease), 1::bigint,
                            p_parent || ' claimed');

    r := durable_test.episode(p_parent, durable_test.lease(p_lease), 1,
        ARRAY[2]::smallint[], ARRAY['SubOrchestrationInstanceCreated'],
        ARRAY['"Name":' || durable.json_str(p_name) || ',"InstanceId":'
              || durable.json_str(p_child) || ',"Input":null'],
        ARRAY[p_child], ARRAY[p_name], ARRAY['null'],
        ARRAY['"Name":' || durable.json_str(p_name) || ',"Input":null']);

    PERFORM durable_test.eq(r.rc, 0, p_parent || ' started ' || p_child);
END
$$;

-- the event types of an instance's history, in order, joined by commas
CREATE FUNCTION durable_test.types(p_id text) RETURNS text
LANGUAGE sql AS $$
    SELECT string_agg(split_part(durable_test.ev(h.event), ' ', 1), ','
                      ORDER BY h.seq)
    FROM durable.history h WHERE h.hub = 'hub' AND h.id = p_id
$$;

-- p_id is Terminated by p_reason, not ready, its inbox empty, and its
-- history ends with its one ExecutionTerminated
CREATE FUNCTION durable_test.ended(p_id text, p_reason text)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    inst  durable.instances;
BEGIN
    SELECT * INTO inst FROM durable.instances i
        WHERE i.hub = 'hub' AND i.id = p_id;

    PERFORM durable_test.eq(inst.status, 5::smallint,
                            p_id || ': Terminated');
    PERFORM durable_test.eq(inst.output, p_reason, p_id || ': its reason');
    PERFORM durable_test.eq(inst.ready_at, 0::bigint,
                            p_id || ': not ready');
    PERFORM durable_test.eq((SELECT count(*) FROM durable.inbox m
                             WHERE m.hub = 'hub' AND m.id = p_id),
                            0::bigint, p_id || ': its inbox empty');
    PERFORM durable_test.ok(durable_test.types(p_id)
                            LIKE '%,ExecutionTerminated'
                            AND durable_test.types(p_id)
                                NOT LIKE '%ExecutionTerminated%,%',
                            p_id || ': ExecutionTerminated last, once');
END
$$;

-- the pending activities of an instance
CREATE FUNCTION durable_test.activities(p_id text) RETURNS bigint
LANGUAGE sql AS $$
    SELECT count(*) FROM durable.activities a
    WHERE a.hub = 'hub' AND a.id = p_id AND NOT a.done
$$;


-- 1. the child, Running since a first episode, terminates its parent's
-- tree, then would schedule an activity and start a sub-orchestration

SELECT durable_test.eq((durable.start('hub', 'p1', 'P1', NULL,
                                      '"Name":"P1","Input":null')).rc, 0,
                       'p1 started');
SELECT durable_test.sub('p1', 'P1', 'c1', 'C1', 1);
SELECT durable_test.eq(durable_test.claim_named('C1', 11), 1::bigint,
                       'c1 claimed');
SELECT durable_test.eq(status, 0::smallint, 'c1: Running')
FROM durable_test.episode('c1', durable_test.lease(11), 1,
    ARRAY[]::smallint[], ARRAY[]::text[], ARRAY[]::text[], ARRAY[]::text[],
    ARRAY[]::text[], ARRAY[]::text[], ARRAY[]::text[]);
SELECT durable_test.eq((durable.raise_event('hub', 'c1',
                            '"Name":"go","Input":null')).rc, 0,
                       'c1: an event raised');
SELECT durable_test.eq(durable_test.claim_named('C1', 2), 1::bigint,
                       'c1 claimed again');

-- a custom status set before the termination is kept
CREATE TABLE durable_test.c1_actions AS
    SELECT ARRAY[5, 12, 0, 2]::smallint[] AS kinds,
           ARRAY[NULL, NULL, 'TaskScheduled',
                 'SubOrchestrationInstanceCreated'] AS etypes,
           ARRAY[NULL, NULL, '"Name":"A","Input":1',
                 '"Name":"K","InstanceId":"k1","Input":null'] AS emembers,
           ARRAY[NULL, 'p1', 'A', 'k1'] AS a,
           ARRAY[NULL, 'tree', NULL, 'K'] AS b,
           ARRAY['"cs"', '"down"', '1', 'null'] AS c,
           ARRAY[NULL, NULL, NULL, '"Name":"K","Input":null'] AS d;

SELECT durable_test.eq(e.rc, 0, 'c1: completed'),
       durable_test.eq(e.status, 5::smallint, 'c1: answered Terminated'),
       durable_test.eq(e.changed, true, 'c1: changed'),
       durable_test.eq(e.error, NULL, 'c1: no error')
FROM durable_test.c1_actions x,
     durable_test.episode('c1', durable_test.lease(2), 21, x.kinds,
         x.etypes, x.emembers, x.a, x.b, x.c, x.d) e;

SELECT durable_test.ended('p1', '"down"');
SELECT durable_test.ended('c1', '"down"');
SELECT durable_test.eq(i.custom_status, '"cs"', 'c1: its custom status')
FROM durable.instances i WHERE i.hub = 'hub' AND i.id = 'c1';

-- nothing after the termination: no activity, no child
SELECT durable_test.eq(durable_test.activities('c1'), 0::bigint,
                       'c1: no activity');
SELECT durable_test.eq((SELECT count(*) FROM durable.instances i
                        WHERE i.hub = 'hub' AND i.id = 'k1'), 0::bigint,
                       'c1: no child');

-- a retry gets the first answer; another completion is refused
SELECT durable_test.eq(e.rc, 0, 'c1: the retry'),
       durable_test.eq(e.status, 5::smallint, 'c1: the retry''s status'),
       durable_test.eq(e.changed, false, 'c1: the retry changed nothing')
FROM durable_test.c1_actions x,
     durable_test.episode('c1', durable_test.lease(2), 21, x.kinds,
         x.etypes, x.emembers, x.a, x.b, x.c, x.d) e;

SELECT durable_test.eq(e.rc, 7, 'c1: another completion, same lease')
FROM durable_test.c1_actions x,
     durable_test.episode('c1', durable_test.lease(2), 22, x.kinds,
         x.etypes, x.emembers, x.a, x.b, x.c, x.d) e;

SELECT durable_test.eq(e.rc, 3, 'c1: another lease')
FROM durable_test.c1_actions x,
     durable_test.episode('c1', durable_test.lease(9), 21, x.kinds,
         x.etypes, x.emembers, x.a, x.b, x.c, x.d) e;

SELECT durable_test.ended('c1', '"down"');


-- 2. the grandchild, suspended while its episode runs, terminates its
-- grandparent's tree after an event to itself (dropped with its inbox)
-- and one to another instance (sent), then would schedule an activity,
-- send another event and complete

SELECT durable_test.eq((durable.start('hub', 'g0', 'G0', NULL,
                                      '"Name":"G0","Input":null')).rc, 0,
                       'g0 started');
SELECT durable_test.eq((durable.start('hub', 'o2', 'O2', NULL,
                                      '"Name":"O2","Input":null')).rc, 0,
                       'o2 started');
SELECT durable_test.sub('g0', 'G0', 'g1', 'G1', 3);
SELECT durable_test.sub('g1', 'G1', 'g2', 'G2', 4);
SELECT durable_test.eq(durable_test.claim_named('G2', 5), 1::bigint, 'g2 claimed');
SELECT durable_test.eq((durable.suspend('hub', 'g2', '"nap"')).rc, 0,
                       'g2 suspended');

SELECT durable_test.eq(rc, 0, 'g2: completed'),
       durable_test.eq(status, 5::smallint, 'g2: answered Terminated'),
       durable_test.eq(changed, true, 'g2: changed'),
       durable_test.eq(error, NULL, 'g2: no error')
FROM durable_test.episode('g2', durable_test.lease(5), 31,
    ARRAY[3, 3, 12, 0, 3, 6]::smallint[],
    ARRAY['EventSent', 'EventSent', NULL, 'TaskScheduled', 'EventSent',
          NULL],
    ARRAY['"InstanceId":"g2","Name":"self","Input":null',
          '"InstanceId":"o2","Name":"before","Input":null', NULL,
          '"Name":"A","Input":1',
          '"InstanceId":"o2","Name":"after","Input":null', NULL],
    ARRAY['g2', 'o2', 'g0', 'A', 'o2', NULL],
    ARRAY[NULL, NULL, 'tree', NULL, NULL, NULL],
    ARRAY[NULL, NULL, '"all"', '1', NULL, '"done"'],
    ARRAY['"Name":"self","Input":null', '"Name":"before","Input":null',
          NULL, NULL, '"Name":"after","Input":null', NULL]);

SELECT durable_test.ended('g0', '"all"');
SELECT durable_test.ended('g1', '"all"');
SELECT durable_test.ended('g2', '"all"');
SELECT durable_test.eq(durable_test.activities('g2'), 0::bigint,
                       'g2: no activity');
SELECT durable_test.eq((SELECT string_agg(m.message::json ->> 'Name', ','
                                          ORDER BY m.seq)
                        FROM durable.inbox m
                        WHERE m.hub = 'hub' AND m.id = 'o2'),
                       'O2,before', 'o2: the event before, not after');


-- 3. the child terminates its parent alone: it goes on, its actions all
-- applied

SELECT durable_test.eq((durable.start('hub', 'n0', 'N0', NULL,
                                      '"Name":"N0","Input":null')).rc, 0,
                       'n0 started');
SELECT durable_test.sub('n0', 'N0', 'n1', 'N1', 6);
SELECT durable_test.eq(durable_test.claim_named('N1', 7), 1::bigint, 'n1 claimed');

SELECT durable_test.eq(rc, 0, 'n1: completed'),
       durable_test.eq(status, 0::smallint, 'n1: Running'),
       durable_test.eq(changed, true, 'n1: pending to running'),
       durable_test.eq(error, NULL, 'n1: no error')
FROM durable_test.episode('n1', durable_test.lease(7), 41,
    ARRAY[12, 0]::smallint[], ARRAY[NULL, 'TaskScheduled'],
    ARRAY[NULL, '"Name":"A","Input":1'], ARRAY['n0', 'A'],
    ARRAY[NULL, NULL], ARRAY['"one"', '1'], ARRAY[NULL, NULL]);

SELECT durable_test.ended('n0', '"one"');
SELECT durable_test.eq(i.status, 0::smallint, 'n1: still Running')
FROM durable.instances i WHERE i.hub = 'hub' AND i.id = 'n1';
SELECT durable_test.eq(durable_test.activities('n1'), 1::bigint,
                       'n1: its activity');
SELECT durable_test.eq(durable_test.types('n1'),
    'OrchestratorStarted,ExecutionStarted,TaskScheduled,'
    'OrchestratorCompleted', 'n1: its episode''s history');


-- 4. the child continues as new after it terminates its parent's tree:
-- an episode that continues as new writes no history, so the child it
-- started before the termination, which the walk cannot find there, ends
-- too, and the history keeps nothing of the episode. A start before the
-- termination that another's active instance refused leaves that
-- instance as it was; a start after the termination is not made.

SELECT durable_test.eq((durable.start('hub', 'q0', 'Q0', NULL,
                                      '"Name":"Q0","Input":null')).rc, 0,
                       'q0 started');
SELECT durable_test.eq((durable.start('hub', 'qx', 'QX', NULL,
                                      '"Name":"QX","Input":null')).rc, 0,
                       'qx started');
CREATE TABLE durable_test.qx AS
    SELECT i.* FROM durable.instances i WHERE i.hub = 'hub' AND i.id = 'qx';
SELECT durable_test.sub('q0', 'Q0', 'q1', 'Q1', 12);
SELECT durable_test.eq(durable_test.claim_named('Q1', 13), 1::bigint,
                       'q1 claimed');
SELECT durable_test.eq(status, 0::smallint, 'q1: Running')
FROM durable_test.episode('q1', durable_test.lease(13), 1,
    ARRAY[]::smallint[], ARRAY[]::text[], ARRAY[]::text[], ARRAY[]::text[],
    ARRAY[]::text[], ARRAY[]::text[], ARRAY[]::text[]);
SELECT durable_test.eq((durable.raise_event('hub', 'q1',
                            '"Name":"go","Input":null')).rc, 0,
                       'q1: an event raised');
SELECT durable_test.eq(durable_test.claim_named('Q1', 14), 1::bigint,
                       'q1 claimed again');

SELECT durable_test.eq(rc, 0, 'q1: completed'),
       durable_test.eq(status, 5::smallint, 'q1: answered Terminated'),
       durable_test.eq(changed, true, 'q1: changed'),
       durable_test.eq(error, NULL, 'q1: no error')
FROM durable_test.episode('q1', durable_test.lease(14), 51,
    ARRAY[2, 2, 12, 2, 8]::smallint[],
    ARRAY['SubOrchestrationInstanceCreated',
          'SubOrchestrationInstanceCreated', NULL,
          'SubOrchestrationInstanceCreated', NULL],
    ARRAY['"Name":"QX","InstanceId":"qx","Input":null',
          '"Name":"QK","InstanceId":"qk","Input":null', NULL,
          '"Name":"QA","InstanceId":"qa","Input":null', NULL],
    ARRAY['qx', 'qk', 'q0', 'qa', NULL],
    ARRAY['QX', 'QK', 'tree', 'QA', NULL],
    ARRAY['null', 'null', '"again"', 'null', '2'],
    ARRAY['"Name":"QX","Input":null', '"Name":"QK","Input":null', NULL,
          '"Name":"QA","Input":null', '2']);

SELECT durable_test.ended('q0', '"again"');
SELECT durable_test.ended('q1', '"again"');
SELECT durable_test.eq(i.status || ' ' || i.output, '5 "again"',
                       'qk: Terminated with the tree')
FROM durable.instances i WHERE i.hub = 'hub' AND i.id = 'qk';
SELECT durable_test.eq(durable_test.types('q1'),
    'OrchestratorStarted,ExecutionStarted,OrchestratorCompleted,'
    'ExecutionTerminated', 'q1: nothing of the episode in its history');
SELECT durable_test.eq(row(i.*)::text, row(x.*)::text,
                       'qx: another''s, as it was')
FROM durable.instances i, durable_test.qx x
WHERE i.hub = 'hub' AND i.id = 'qx';
SELECT durable_test.eq((SELECT count(*) FROM durable.instances i
                        WHERE i.hub = 'hub' AND i.id = 'qa'), 0::bigint,
                       'qa: not started after the termination');


-- 5. disk full while a termination ends its target answers DS_FULL
-- (rc 5), as LMDB does, not DS_ERROR: durable.terminate() is replaced
-- by one that answers it, in a transaction rolled back

SELECT durable_test.eq((durable.start('hub', 'f0', 'F0', NULL,
                                      '"Name":"F0","Input":null')).rc, 0,
                       'f0 started');
SELECT durable_test.eq(durable_test.claim_named('F0', 15), 1::bigint,
                       'f0 claimed');

BEGIN;

CREATE OR REPLACE FUNCTION durable.terminate(p_hub text, p_id text,
    p_reason text, OUT rc integer, OUT error text)
LANGUAGE plpgsql AS $$
BEGIN
    rc := 5;
    error := 'no room';
END
$$;

SELECT durable_test.eq(rc || ' ' || error, '5 no room',
                       'f0: ' || coalesce(b, 'alone') || ': disk full')
FROM unnest(ARRAY[NULL, 'tree']) b,
     durable_test.episode('f0', durable_test.lease(15), 61,
         ARRAY[12]::smallint[], ARRAY[NULL], ARRAY[NULL], ARRAY['o2'],
         ARRAY[b], ARRAY['"full"'], ARRAY[NULL]) e;

ROLLBACK;
