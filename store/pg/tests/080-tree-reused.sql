-- The tree walks take only the children of the parent's life that
-- started them (durable.child_of(), durable.child_of_life()): a parent
-- ended without its child, purged and started again under its id is
-- another life, and the old child, which still names the id, is not its
-- own, even when the new life's history names it (a start of its id,
-- refused as the old child held it). A child that keeps no created time
-- (started before schema version 9) goes by the id alone. The recursive
-- terminate, the recursive purge and the orphans of a completion that
-- ended its own instance (durable.complete_orchestration()) each leave
-- the old child alone. The LMDB store does the same
-- (t_sdk_trees_reused(), t_sdk.c). On a database at version 8 the walks
-- go by the id, as before.

-- p_id starts p_id || 'c0', ends alone, is purged and starts again; its
-- new life starts c0 (refused: the old one holds the id), c1 and c2;
-- c2 then keeps no created time, as a child of before version 9
CREATE FUNCTION durable_test.reused(p_id text, p_lease integer)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM durable_test.life_start(p_id);
    PERFORM durable_test.life_starts(p_id, p_lease, ARRAY[0::bigint],
                                ARRAY[p_id || 'c0']);
    PERFORM durable_test.eq((durable.terminate('hub', p_id, NULL)).rc, 0,
                            p_id || ' terminated alone');
    PERFORM durable_test.eq((durable.purge('hub', p_id)).rc, 0,
                            p_id || ' purged');

    -- another created time than the first life's
    PERFORM pg_sleep(0.002);

    PERFORM durable_test.life_start(p_id);
    PERFORM durable_test.life_starts(p_id, p_lease + 1,
                                ARRAY[0, 1, 2]::bigint[],
                                ARRAY[p_id || 'c0', p_id || 'c1',
                                      p_id || 'c2']);
    PERFORM durable_test.eq(durable_test.life_status(p_id || 'c0'), '6',
                            p_id || 'c0: the old child still Pending');

    IF durable.parent_links() THEN
        UPDATE durable.instances i SET parent_created = NULL
            WHERE i.hub = 'hub' AND i.id = p_id || 'c2';
    END IF;
END
$$;


-- 1. the recursive terminate and purge of the new life

SELECT durable_test.eq(durable.parent_links(), true, 'version 9');
SELECT durable_test.reused('p', 1);

SELECT durable_test.ok(durable_test.life_created('p')
                       <> durable.parent_created_of(i),
                       'c0 keeps the old life''s created time')
FROM durable.instances i WHERE i.hub = 'hub' AND i.id = 'pc0';
SELECT durable_test.eq((durable.child_of('hub', 'p',
                                         durable_test.life_created('p'),
                                         'pc0')).id, NULL,
                       'child_of: c0 is not the new life''s');
SELECT durable_test.eq((durable.child_of('hub', 'p', NULL, 'pc0')).id,
                       'pc0', 'child_of: by the id without a time');
SELECT durable_test.eq((durable.child_of('hub', 'p',
                                         durable_test.life_created('p'),
                                         'pc1')).id, 'pc1',
                       'child_of: c1 is');
SELECT durable_test.eq((durable.child_of('hub', 'p', 1, 'pc2')).id, 'pc2',
                       'child_of: c2, without a time, by the id');

SELECT durable_test.eq(rc, 0, 'the new life terminated with its tree')
FROM durable.terminate_tree('hub', 'p', '"tree"');
SELECT durable_test.eq(durable_test.life_status('pc1'), '5', 'c1 Terminated');
SELECT durable_test.eq(durable_test.life_status('pc2'), '5',
                       'c2 Terminated, by the id');
SELECT durable_test.eq(durable_test.life_status('pc0'), '6',
                       'the old life''s c0 left Pending');

SELECT durable_test.eq((durable.terminate('hub', 'pc0', '"old"')).rc, 0,
                       'the old child ends');
SELECT durable_test.eq(rc || ' ' || purged, '0 3',
                       'the new life purged with its tree')
FROM durable.purge_tree('hub', 'p');
SELECT durable_test.eq(durable_test.life_status('pc1')
                       || durable_test.life_status('pc2'),
                       'nonenone', 'c1 and c2 purged');
SELECT durable_test.eq(durable_test.life_status('pc0'), '5',
                       'the old life''s c0 left');


-- 2. the orphans of a completion that ended its own instance: r1, a
-- child of r0, starts rk, ends alone, is purged, and r0 starts it again;
-- its new life refuses to start rk again (the old one holds the id),
-- terminates r0's tree, which ends it, and continues as new

SELECT durable_test.life_start('r0');
SELECT durable_test.life_starts('r0', 11, ARRAY[0::bigint], ARRAY['r1']);
SELECT durable_test.life_starts('r1', 12, ARRAY[0::bigint], ARRAY['rk']);
SELECT durable_test.eq((durable.terminate('hub', 'r1', NULL)).rc, 0,
                       'r1 terminated alone');
SELECT durable_test.eq((durable.purge('hub', 'r1')).rc, 0, 'r1 purged');
SELECT pg_sleep(0.002);
SELECT durable_test.life_starts('r0', 13, ARRAY[1::bigint], ARRAY['r1']);

SELECT durable_test.eq(durable_test.claim_named('r1', 14), 1::bigint,
                       'r1 claimed');
SELECT durable_test.eq(rc || ' ' || status, '0 5',
                       'r1 ended by its termination of r0''s tree')
FROM durable_test.life_episode('r1', durable_test.lease(14),
    ARRAY[2, 12, 8]::smallint[], ARRAY[0, 1, 2]::bigint[],
    ARRAY['SubOrchestrationInstanceCreated', NULL, NULL],
    ARRAY['"Name":"rk","InstanceId":"rk","Input":null', NULL, NULL],
    ARRAY['rk', 'r0', NULL], ARRAY['rk', 'tree', NULL],
    ARRAY['null', '"down"', '2'],
    ARRAY['"Name":"rk","Input":null', NULL, '2']);
SELECT durable_test.eq(durable_test.life_status('r0'), '5', 'r0 Terminated');
SELECT durable_test.eq(durable_test.life_status('rk'), '6',
                       'the old life''s rk left Pending');


-- 3. the database of version 8: the column and its row go, and the
-- walks go by the id, as before

ALTER TABLE durable.instances DROP COLUMN parent_created;
DELETE FROM durable.schema_version v WHERE v.version = 9;

SELECT durable_test.eq(durable.parent_links(), false, 'version 8');
SELECT durable_test.reused('q', 21);
SELECT durable_test.eq(rc, 0, 'version 8: q terminated with its tree')
FROM durable.terminate_tree('hub', 'q', '"tree"');
SELECT durable_test.eq(durable_test.life_status('qc0')
                       || durable_test.life_status('qc1')
                       || durable_test.life_status('qc2'), '555',
                       'version 8: every child by the id, as before');
