-- An id purged and started again numbers its executions from 1 again:
-- what its first life left queued at entities reaches no one when it
-- comes to the front (durable.sender_gone(), durable.deliver_life()).
-- x asked for the set @acc@1, @acc@2: it locked @acc@1 and waits at
-- @acc@2, which h1 holds; y called @acc@3 behind h2's lock. Both are
-- terminated, purged and started again. When h1 and h2 let go, x's
-- request is dropped and @acc@1 released with it, and y's call runs
-- with its answer dropped; the new lives get neither, and what they
-- send themselves is granted and answered. The LMDB store does the same
-- (t_sdk_entity_reborn(), t_sdk.c).

-- a sender's members as durable.complete_orchestration() writes them
CREATE FUNCTION durable_test.sender(p_id text) RETURNS text
LANGUAGE sql AS $$
    SELECT '"parentInstanceId":"' || p_id || '","parentExecution":'
           || i.execution || ',"parentCreated":' || i.created
    FROM durable.instances i WHERE i.hub = 'hub' AND i.id = p_id
$$;

-- p_id, claimed under lease p_lease, sends one lock or unlock request:
-- its members up to "parentInstanceId", its history event's
CREATE FUNCTION durable_test.request(p_id text, p_lease integer,
    p_kind smallint, p_eid text, p_members text, p_etype text,
    p_emembers text)
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM durable_test.eq(durable_test.claim_named(p_id, p_lease),
                            1::bigint, p_id || ' claimed');

    RETURN (SELECT d.rc FROM durable_test.done(p_id, ARRAY[p_kind],
                                 ARRAY[p_eid], ARRAY[NULL::text],
                                 ARRAY[p_members], ARRAY[p_etype],
                                 ARRAY[p_emembers]) d);
END
$$;

-- p_id, claimed under lease p_lease, calls "add" of p_eid
CREATE FUNCTION durable_test.call(p_id text, p_lease integer, p_rid text,
    p_eid text)
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM durable_test.eq(durable_test.claim_named(p_id, p_lease),
                            1::bigint, p_id || ' claimed');

    RETURN (SELECT c.rc FROM durable.complete_orchestration('hub', p_id,
        durable_test.lease(p_lease), 1, false, -1, ARRAY[9::smallint],
        ARRAY[0::bigint], ARRAY[NULL::bigint],
        ARRAY['EntityOperationCalled'],
        ARRAY['"RequestId":"' || p_rid || '","Operation":"add","Input":1,'
              '"TargetInstanceId":"' || p_eid || '"'],
        ARRAY[p_eid], ARRAY[NULL::text], ARRAY[NULL::text],
        ARRAY['"operation":"add","input":1'],
        ARRAY['"requestId":"' || p_rid || '","parentInstanceId":"' || p_id
              || '"'],
        ARRAY[NULL::text], ARRAY[NULL::text], ARRAY[]::text[]) c);
END
$$;

-- the operations of the entities claimed under lease p_lease, completed
-- with no results (each call answered with a null output)
CREATE FUNCTION durable_test.run_entities(p_lease integer)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    k  bigint := 0;
    c  record;
BEGIN
    FOR c IN SELECT * FROM durable.claim_entities('hub', 60000000,
                 ARRAY[durable_test.lease(p_lease)], NULL)
             WHERE id IS NOT NULL
    LOOP
        PERFORM durable_test.eq(r.rc, 0, c.id || ' completed')
        FROM durable.complete_entity('hub', c.id,
                                     durable_test.lease(p_lease), 1, false,
                                     '1', '{}', '{}') r;
        k := k + 1;
    END LOOP;

    RETURN k;
END
$$;

CREATE FUNCTION durable_test.answers(p_id text, p_rid text) RETURNS bigint
LANGUAGE sql AS $$
    SELECT count(*) FROM durable.inbox m
    WHERE m.hub = 'hub' AND m.id = p_id
      AND m.message LIKE '%"EntityOperationCompleted"%"RequestId":"'
                         || p_rid || '"%'
$$;

SELECT durable_test.life_start('h1');
SELECT durable_test.life_start('h2');
SELECT durable_test.life_start('x');
SELECT durable_test.life_start('y');

SELECT durable_test.eq(durable_test.request('h1', 1, 10::smallint, '@acc@2',
                           durable_test.lock_d('cs-1', '@acc@2', 'h1'),
                           'EntityLockRequested',
                           durable_test.lock_ev('cs-1', '@acc@2')),
                       0, 'h1 locks @acc@2'),
       durable_test.eq(durable_test.request('h2', 2, 10::smallint, '@acc@3',
                           durable_test.lock_d('cs-2', '@acc@3', 'h2'),
                           'EntityLockRequested',
                           durable_test.lock_ev('cs-2', '@acc@3')),
                       0, 'h2 locks @acc@3');
SELECT durable_test.eq(durable_test.owner('@acc@2'), 'h1', '@acc@2 h1''s'),
       durable_test.eq(durable_test.owner('@acc@3'), 'h2', '@acc@3 h2''s');

-- x's request and y's call, written by their completions, name their
-- lives

SELECT durable_test.eq(durable_test.request('x', 3, 10::smallint, '@acc@1',
                           '"lock":"cs-x","lockSet":["@acc@1","@acc@2"],'
                           '"position":0,"parentInstanceId":"x"',
                           'EntityLockRequested',
                           '"CriticalSectionId":"cs-x","LockSet":'
                           '["@acc@1","@acc@2"],"Position":0'),
                       0, 'x asks for @acc@1 and @acc@2');
SELECT durable_test.eq(durable_test.owner('@acc@1'), 'x',
                       '@acc@1 x''s, @acc@2 awaited');
SELECT durable_test.eq(count(*), 1::bigint, 'x''s request names its life')
FROM durable.entity_ops o
WHERE o.hub = 'hub' AND o.id = '@acc@2'
  AND strpos(o.operation, durable_test.sender('x') || ',"timestamp":') > 0;

SELECT durable_test.eq(durable_test.call('y', 4, 'r-y', '@acc@3'), 0,
                       'y calls @acc@3');
SELECT durable_test.eq(count(*), 1::bigint, 'y''s call names its life')
FROM durable.entity_ops o
WHERE o.hub = 'hub' AND o.id = '@acc@3'
  AND strpos(o.operation, '"requestId":"r-y",' || durable_test.sender('y')
                          || '}') > 0;

-- both end, are purged and start again: execution 1 again, another
-- created time

SELECT durable_test.life_created('x') AS x_first,
       durable_test.life_created('y') AS y_first \gset

SELECT durable_test.eq((durable.terminate('hub', 'x', NULL)).rc, 0,
                       'x terminated'),
       durable_test.eq((durable.purge('hub', 'x')).rc, 0, 'x purged'),
       durable_test.eq((durable.terminate('hub', 'y', NULL)).rc, 0,
                       'y terminated'),
       durable_test.eq((durable.purge('hub', 'y')).rc, 0, 'y purged');

SELECT pg_sleep(0.002);

SELECT durable_test.life_start('x');
SELECT durable_test.life_start('y');
SELECT durable_test.eq(i.execution, 1::bigint, i.id || ' at execution 1'),
       durable_test.ok(i.created <> CASE i.id WHEN 'x' THEN :x_first
                                              ELSE :y_first END,
                       i.id || ' created again')
FROM durable.instances i WHERE i.hub = 'hub' AND i.id IN ('x', 'y');

-- h1 and h2 let go: the first lives' request and call come forward

SELECT durable_test.eq(durable_test.request('h1', 5, 11::smallint, '@acc@2',
                           '"unlock":"cs-1","parentInstanceId":"h1"',
                           NULL, NULL),
                       0, 'h1 unlocks @acc@2'),
       durable_test.eq(durable_test.request('h2', 6, 11::smallint, '@acc@3',
                           '"unlock":"cs-2","parentInstanceId":"h2"',
                           NULL, NULL),
                       0, 'h2 unlocks @acc@3');

SELECT durable_test.eq(durable_test.owner('@acc@1'), NULL::text,
                       'the old request dropped: @acc@1 released'),
       durable_test.eq(durable_test.owner('@acc@2'), NULL::text,
                       '@acc@2 free'),
       durable_test.eq(durable_test.owner('@acc@3'), NULL::text,
                       '@acc@3 free'),
       durable_test.eq(durable_test.grants('x'), 0::bigint,
                       'no grant for the new x');

SELECT durable_test.eq(durable_test.run_entities(7), 1::bigint,
                       'the old call runs');
SELECT durable_test.eq(count(*), 0::bigint, 'its answer reaches no one')
FROM durable.inbox m
WHERE m.hub = 'hub' AND m.id = 'y'
  AND m.message LIKE '%EntityOperationCompleted%';

-- the new lives' own request and call: granted and answered

SELECT durable_test.eq(durable_test.request('x', 8, 10::smallint, '@acc@1',
                           durable_test.lock_d('cs-x2', '@acc@1', 'x'),
                           'EntityLockRequested',
                           durable_test.lock_ev('cs-x2', '@acc@1')),
                       0, 'the new x asks for @acc@1');
SELECT durable_test.eq(durable_test.owner('@acc@1'), 'x', '@acc@1 x''s'),
       durable_test.eq(durable_test.grants('x'), 1::bigint,
                       'and its grant');

SELECT durable_test.eq(durable_test.call('y', 9, 'r-y2', '@acc@3'), 0,
                       'the new y calls @acc@3');
SELECT durable_test.eq(durable_test.run_entities(10), 1::bigint,
                       'the new call runs');
SELECT durable_test.eq(durable_test.answers('y', 'r-y2'), 1::bigint,
                       'and is answered'),
       durable_test.eq(durable_test.answers('y', 'r-y'), 0::bigint,
                       'the old call is not');

-- a lock its holder took (the grant in its history) outlives the
-- termination, and goes with the execution: when the id is purged, when
-- a start replaces the ended record, and when it continues as new
-- (durable.release_held())

-- p_id starts, locks @acc@4 and takes the grant into its history
CREATE FUNCTION durable_test.held(p_id text, p_lease integer)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM durable_test.life_start(p_id);
    PERFORM durable_test.eq(durable_test.request(p_id, p_lease,
                                10::smallint, '@acc@4',
                                durable_test.lock_d('cs-held', '@acc@4',
                                                    p_id),
                                'EntityLockRequested',
                                durable_test.lock_ev('cs-held', '@acc@4')),
                            0, p_id || ' locks @acc@4');
    PERFORM durable_test.eq(durable_test.claim_named(p_id, p_lease + 1),
                            1::bigint, p_id || ' takes its grant');
    PERFORM durable_test.eq(d.rc, 0, p_id || ' goes on')
    FROM durable_test.done(p_id, ARRAY[5::smallint], ARRAY[NULL::text],
                           ARRAY['"held"'], ARRAY[NULL::text],
                           ARRAY[NULL::text], ARRAY[NULL::text]) d;
    PERFORM durable_test.eq(durable_test.grants(p_id), 0::bigint,
                            'the grant in ' || p_id || '''s history');
    PERFORM durable_test.eq(durable_test.owner('@acc@4'), p_id,
                            '@acc@4 ' || p_id || '''s');
END
$$;

-- and is terminated, keeping the lock
CREATE FUNCTION durable_test.held_ended(p_id text, p_lease integer)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM durable_test.held(p_id, p_lease);
    PERFORM durable_test.eq((durable.terminate('hub', p_id, NULL)).rc, 0,
                            p_id || ' terminated');
    PERFORM durable_test.eq(durable_test.owner('@acc@4'), p_id,
                            '@acc@4 still ' || p_id || '''s');
END
$$;

SELECT durable_test.held_ended('z', 11);
SELECT durable_test.eq((durable.purge('hub', 'z')).rc, 0, 'z purged');
SELECT durable_test.eq(durable_test.owner('@acc@4'), NULL::text,
                       'its lock went with it');

SELECT durable_test.held_ended('w', 13);
SELECT durable_test.life_start('w');
SELECT durable_test.eq(i.execution, 2::bigint, 'w started again')
FROM durable.instances i WHERE i.hub = 'hub' AND i.id = 'w';
SELECT durable_test.eq(durable_test.owner('@acc@4'), NULL::text,
                       'the ended life''s lock went with it');

SELECT durable_test.held('u', 15);
SELECT durable_test.eq((durable.raise_event('hub', 'u',
                            '"Name":"go","Input":null')).rc, 0,
                       'an event for u');
SELECT durable_test.eq(durable_test.claim_named('u', 17), 1::bigint,
                       'u claimed');
SELECT durable_test.eq(rc, 0, 'u continues as new'),
       durable_test.eq(status, 2::smallint, 'ContinuedAsNew')
FROM durable_test.done('u', ARRAY[8::smallint], ARRAY[NULL::text],
    ARRAY['2'], ARRAY[NULL::text], ARRAY[NULL::text], ARRAY[NULL::text]);
SELECT durable_test.eq(durable_test.owner('@acc@4'), NULL::text,
                       'the ended execution''s lock went with it');
