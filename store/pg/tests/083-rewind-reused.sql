-- A rewind reaches only the children of the failed parent's life
-- (durable.rewind_one(), durable.child_of_life()): a parent ended
-- without its children, purged and started again under its id is
-- another life, whose history names the old children when its starts of
-- their ids were refused. The new life fails, the old c0 fails and the
-- old c1 completes; rewinding the new life leaves both alone: c0 is not
-- rewound and c1's output does not come to the new parent. The LMDB
-- store does the same (t_sdk_rewind_reused(), t_sdk.c).

-- an episode of actions with ids p_ids: their kinds, their history
-- events (types and members, NULL for none) and their members a to d
CREATE FUNCTION durable_test.episode(p_id text, p_lease bytea,
    p_kinds smallint[], p_ids bigint[], p_etypes text[], p_emembers text[],
    p_a text[], p_b text[], p_c text[], p_d text[],
    OUT rc integer, OUT status smallint)
LANGUAGE sql AS $$
    SELECT c.rc, c.status
    FROM durable.complete_orchestration('hub', p_id, p_lease, 1,
        false, -1, p_kinds, p_ids,
        array_fill(NULL::bigint, ARRAY[cardinality(p_kinds)]),
        p_etypes, p_emembers, p_a, p_b, p_c, p_d,
        ARRAY(SELECT '"TaskScheduledId":' || i
                     || ',"Reason":"active","Details":null'
              FROM unnest(p_ids) i),
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]),
        array_fill(NULL::text, ARRAY[cardinality(p_kinds)]),
        ARRAY[]::text[]) c
$$;

-- p_id, claimed by its name (each orchestration is named as its id is)
-- under lease p_lease, starts the children p_kids with task ids p_ids
CREATE FUNCTION durable_test.starts(p_id text, p_lease integer,
    p_ids bigint[], p_kids text[])
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r  record;
BEGIN
    PERFORM durable_test.eq(durable_test.claim_named(p_id, p_lease),
                            1::bigint, p_id || ' claimed');

    r := durable_test.episode(p_id, durable_test.lease(p_lease),
        array_fill(2::smallint, ARRAY[cardinality(p_kids)]), p_ids,
        array_fill('SubOrchestrationInstanceCreated'::text,
                   ARRAY[cardinality(p_kids)]),
        ARRAY(SELECT '"Name":"' || k || '","InstanceId":"' || k
                     || '","Input":null' FROM unnest(p_kids) k),
        p_kids, p_kids,
        array_fill('null'::text, ARRAY[cardinality(p_kids)]),
        ARRAY(SELECT '"Name":"' || k || '","Input":null'
              FROM unnest(p_kids) k));

    PERFORM durable_test.eq(r.rc, 0, p_id || ' started its children');
END
$$;

CREATE FUNCTION durable_test.start(p_id text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM durable_test.eq((durable.start('hub', p_id, p_id, NULL,
                             '"Name":"' || p_id || '","Input":null')).rc,
                            0, p_id || ' started');
END
$$;

-- an instance's status, 'none' when there is no such row
CREATE FUNCTION durable_test.status(p_id text) RETURNS text
LANGUAGE sql AS $$
    SELECT coalesce((SELECT i.status::text FROM durable.instances i
                     WHERE i.hub = 'hub' AND i.id = p_id), 'none')
$$;

CREATE FUNCTION durable_test.created(p_id text) RETURNS bigint
LANGUAGE sql AS $$
    SELECT i.created FROM durable.instances i
    WHERE i.hub = 'hub' AND i.id = p_id
$$;


-- the first life starts pc0 and pc1, ends alone and is purged

SELECT durable_test.start('p');
SELECT durable_test.starts('p', 1, ARRAY[0, 1]::bigint[],
                           ARRAY['pc0', 'pc1']);
SELECT durable_test.eq((durable.terminate('hub', 'p', NULL)).rc, 0,
                       'p terminated alone');
SELECT durable_test.eq((durable.purge('hub', 'p')).rc, 0, 'p purged');

-- another created time than the first life's
SELECT pg_sleep(0.002);

-- the new life's starts of pc0 and pc1 are refused; it fails

SELECT durable_test.start('p');
SELECT durable_test.starts('p', 2, ARRAY[0, 1]::bigint[],
                           ARRAY['pc0', 'pc1']);
SELECT durable_test.ok(durable_test.created('p')
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
SELECT durable_test.eq(durable_test.status('p'), '0', 'p Running');
SELECT durable_test.eq(durable_test.status('pc0'), '3',
                       'the old life''s pc0 not rewound');
SELECT durable_test.eq(durable_test.status('pc1'), '1',
                       'the old life''s pc1 left Completed');
SELECT durable_test.eq(count(*), 0::bigint,
                       'pc1''s output does not come to p')
FROM durable.inbox m
WHERE m.hub = 'hub' AND m.id = 'p'
  AND m.message LIKE '%SubOrchestrationInstanceCompleted%';
SELECT durable_test.eq(count(*), 1::bigint, 'p runs its rewind')
FROM durable.inbox m
WHERE m.hub = 'hub' AND m.id = 'p' AND m.message LIKE '%ExecutionRewound%';
