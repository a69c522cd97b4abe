-- A sub-orchestration's parent's created time (schema version 9): kept
-- when an orchestration's completion starts the child, and compared when
-- the child ends (completed, failed, terminated), so that a parent
-- terminated without it, purged and started again under the same id
-- (execution 1 again) does not get the old child's end. A child that
-- keeps none (started before the upgrade) is delivered by the execution
-- alone, as before. On a database at version 8 (no column) the same
-- functions serve, as before.

-- one action of each array; d and e the child's start members and its
-- failure's when the id is active
CREATE FUNCTION durable_test.complete(p_id text, p_lease bytea,
    p_kind smallint, p_aid bigint, p_etype text, p_a text, p_b text,
    p_c text, p_d text)
RETURNS integer
LANGUAGE sql AS $$
    SELECT rc
    FROM durable.complete_orchestration('hub', p_id, p_lease, 1, false, -1,
        ARRAY[p_kind], ARRAY[p_aid], ARRAY[NULL::bigint], ARRAY[p_etype],
        ARRAY['"Name":"C"'], ARRAY[p_a], ARRAY[p_b], ARRAY[p_c],
        ARRAY[p_d], ARRAY['"TaskScheduledId":' || p_aid
                          || ',"Reason":"active","Details":null'],
        ARRAY[NULL::text], ARRAY[NULL::text], ARRAY[]::text[])
$$;

-- p_id claimed under lease p_lease (every orchestration is named as its
-- id is)
CREATE FUNCTION durable_test.claim(p_id text, p_lease integer)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM durable_test.eq(count(*), 2::bigint, p_id || ' claimed')
        FROM durable.claim_orchestrations('hub', 60000000,
            ARRAY[durable_test.lease(p_lease)], ARRAY[p_id]);
END
$$;

-- parent p_id starts the children p_kids || k, task id k, for k in 0, 1
CREATE FUNCTION durable_test.parent(p_id text, p_lease integer,
    p_kids text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM durable_test.eq((durable.start('hub', p_id, p_id, NULL,
                             '"Name":"' || p_id || '","Input":null')).rc,
                            0, p_id || ' started');
    PERFORM durable_test.claim(p_id, p_lease);

    PERFORM durable_test.eq((SELECT rc
        FROM durable.complete_orchestration('hub', p_id,
            durable_test.lease(p_lease), 1, false, -1,
            ARRAY[2, 2]::smallint[], ARRAY[0, 1]::bigint[],
            ARRAY[NULL, NULL]::bigint[],
            ARRAY['SubOrchestrationInstanceCreated',
                  'SubOrchestrationInstanceCreated'],
            ARRAY['"Name":"C"', '"Name":"C"'],
            ARRAY[p_kids || '0', p_kids || '1'],
            ARRAY[p_kids || '0', p_kids || '1'],
            ARRAY[NULL, NULL]::text[],
            ARRAY['"Name":"' || p_kids || '0","Input":null',
                  '"Name":"' || p_kids || '1","Input":null'],
            ARRAY['"TaskScheduledId":0,"Reason":"a","Details":null',
                  '"TaskScheduledId":1,"Reason":"a","Details":null'],
            ARRAY[NULL, NULL]::text[], ARRAY[NULL, NULL]::text[],
            ARRAY[]::text[])), 0, p_id || ' started its children');
END
$$;

-- the messages waiting in p_id's inbox, by type
CREATE FUNCTION durable_test.inbox(p_id text) RETURNS text
LANGUAGE sql AS $$
    SELECT string_agg(regexp_replace(m.message,
                          '^\{"EventType":"([^"]*)".*$', '\1'), ','
                      ORDER BY m.seq)
    FROM durable.inbox m WHERE m.hub = 'hub' AND m.id = p_id
$$;

-- the parent's created time a record keeps (NULL: none)
CREATE FUNCTION durable_test.pcreated(p_id text) RETURNS bigint
LANGUAGE sql AS $$
    SELECT durable.parent_created_of(i)
    FROM durable.instances i WHERE i.hub = 'hub' AND i.id = p_id
$$;

-- parent p_id with the children p_id || 'old' 0 and 1, terminated alone,
-- purged, started again with the children p_id || 'new' 0 and 1 of the
-- same task ids; then the old children end, the first completed, the
-- second terminated. The new parent's inbox then ('-': empty)
CREATE FUNCTION durable_test.reuse(p_id text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM durable_test.parent(p_id, 1, p_id || 'old');
    PERFORM durable_test.claim(p_id || 'old0', 2);

    PERFORM durable_test.eq((durable.terminate('hub', p_id, NULL)).rc, 0,
                            p_id || ' terminated');
    PERFORM durable_test.eq((durable.purge('hub', p_id)).rc, 0,
                            p_id || ' purged');

    PERFORM durable_test.parent(p_id, 3, p_id || 'new');
    PERFORM durable_test.eq(durable_test.inbox(p_id), NULL,
                            p_id || ' again waits for its children');

    PERFORM durable_test.eq(durable_test.complete(p_id || 'old0',
        durable_test.lease(2), 6::smallint, 0, 'ExecutionCompleted', NULL,
        NULL, '"old"', NULL), 0, 'the old first child completed');
    PERFORM durable_test.eq((durable.terminate('hub', p_id || 'old1',
                             '"old"')).rc, 0,
                            'the old second child terminated');

    RETURN coalesce(durable_test.inbox(p_id), '-');
END
$$;

SELECT durable_test.eq(durable.parent_links(), true, 'version 9');

SELECT durable_test.eq(durable_test.reuse('p9'), '-',
                       'version 9: the old children''s ends dropped');

SELECT durable_test.eq(durable_test.pcreated('p9new0'),
                       (SELECT i.created FROM durable.instances i
                        WHERE i.hub = 'hub' AND i.id = 'p9'),
                       'a child keeps its parent''s created time');
SELECT durable_test.eq(durable_test.pcreated('p9'), NULL,
                       'a parent keeps none');

-- the new children's ends reach the new parent: one failed, one
-- terminated
SELECT durable_test.claim('p9new1', 5);
SELECT durable_test.eq(durable_test.complete('p9new1', durable_test.lease(5),
    7::smallint, 0, 'ExecutionFailed', NULL, 'null', '"new"', NULL), 0,
    'the new second child failed');
SELECT durable_test.eq((durable.terminate('hub', 'p9new0', '"new"')).rc, 0,
                       'the new first child terminated');
SELECT durable_test.eq(durable_test.inbox('p9'),
    'SubOrchestrationInstanceFailed,SubOrchestrationInstanceFailed',
    'the new parent got its own children''s ends');

-- a terminal child's id started again without a parent keeps none
SELECT durable_test.eq((durable.start('hub', 'p9new0', 'N', NULL,
                                      '"Name":"N","Input":null')).rc, 0,
                       'a terminal child''s id started again');
SELECT durable_test.eq(durable_test.pcreated('p9new0'), NULL,
                       'as no child: the parent''s time gone');

-- a child that keeps no created time (started before the upgrade) goes
-- by the execution alone, as before
SELECT durable_test.parent('q9', 6, 'q9kid');
UPDATE durable.instances i SET parent_created = NULL
    WHERE i.hub = 'hub' AND i.id = 'q9kid0';
SELECT durable_test.eq((durable.terminate('hub', 'q9kid0', NULL)).rc, 0,
                       'a child of before terminated');
SELECT durable_test.eq(durable_test.inbox('q9'),
                       'SubOrchestrationInstanceFailed',
                       'its parent told, by the execution');

-- a parent whose created time is 0 (unknown, as an import of a record
-- without one writes it) gives its children none, as on LMDB, where 0
-- is none: its start, and its rewind's start again
SELECT durable_test.eq((durable.start('hub', 'z9', 'z9', NULL,
                                      '"Name":"z9","Input":null')).rc, 0,
                       'z9 started');
SELECT durable_test.claim('z9', 7);
UPDATE durable.instances i SET created = 0
    WHERE i.hub = 'hub' AND i.id = 'z9';
SELECT durable_test.eq(c.rc, 0, 'z9 started a child')
FROM durable.complete_orchestration('hub', 'z9', durable_test.lease(7), 1,
    false, -1, ARRAY[2::smallint], ARRAY[0::bigint], ARRAY[NULL::bigint],
    ARRAY['SubOrchestrationInstanceCreated'],
    ARRAY['"Name":"C","InstanceId":"z9kid","Input":null'],
    ARRAY['z9kid'], ARRAY['C'], ARRAY[NULL::text],
    ARRAY['"Name":"C","Input":null'],
    ARRAY['"TaskScheduledId":0,"Reason":"a","Details":null'],
    ARRAY[NULL::text], ARRAY[NULL::text], ARRAY[]::text[]) c;
SELECT durable_test.eq(durable_test.pcreated('z9kid'), NULL,
                       'created 0: the child keeps none');

SELECT durable_test.eq((durable.terminate('hub', 'z9kid', '"x"')).rc, 0,
                       'z9''s child terminated');
SELECT durable_test.claim('z9', 8);
SELECT durable_test.eq(durable_test.complete('z9', durable_test.lease(8),
    7::smallint, 1, 'ExecutionFailed', NULL, 'null', '"kid"', NULL), 0,
    'z9 failed');
SELECT durable_test.eq((durable.rewind('hub', 'z9', '"fix"')).rc, 0,
                       'z9 rewound');
SELECT durable_test.eq(durable.terminal(i.status), false,
                       'its child started again')
    FROM durable.instances i WHERE i.hub = 'hub' AND i.id = 'z9kid';
SELECT durable_test.eq(durable_test.pcreated('z9kid'), NULL,
                       'created 0: the child started again keeps none');

-- a rewind that starts a child again gives it its parent's created time:
-- a parent purged and started again under its id (execution 1 again)
-- then gets the child's end, and not by the execution alone
SELECT durable_test.eq((durable.start('hub', 'r9', 'r9', NULL,
                                      '"Name":"r9","Input":null')).rc, 0,
                       'r9 started');
SELECT durable_test.eq((durable.terminate('hub', 'r9', NULL)).rc, 0,
                       'r9 terminated');
SELECT durable_test.eq((durable.purge('hub', 'r9')).rc, 0, 'r9 purged');
SELECT durable_test.eq((durable.start('hub', 'r9', 'r9', NULL,
                                      '"Name":"r9","Input":null')).rc, 0,
                       'r9 started again');
SELECT durable_test.claim('r9', 9);
SELECT durable_test.eq(c.rc, 0, 'r9 started a child')
FROM durable.complete_orchestration('hub', 'r9', durable_test.lease(9), 1,
    false, -1, ARRAY[2::smallint], ARRAY[0::bigint], ARRAY[NULL::bigint],
    ARRAY['SubOrchestrationInstanceCreated'],
    ARRAY['"Name":"C","InstanceId":"r9kid","Input":null'],
    ARRAY['r9kid'], ARRAY['C'], ARRAY[NULL::text],
    ARRAY['"Name":"C","Input":null'],
    ARRAY['"TaskScheduledId":0,"Reason":"a","Details":null'],
    ARRAY[NULL::text], ARRAY[NULL::text], ARRAY[]::text[]) c;

SELECT durable_test.eq((durable.terminate('hub', 'r9kid', '"x"')).rc, 0,
                       'r9''s child terminated');
SELECT durable_test.claim('r9', 10);
SELECT durable_test.eq(durable_test.complete('r9', durable_test.lease(10),
    7::smallint, 1, 'ExecutionFailed', NULL, 'null', '"kid"', NULL), 0,
    'r9 failed');
SELECT durable_test.eq((durable.rewind('hub', 'r9', '"fix"')).rc, 0,
                       'r9 rewound');
SELECT durable_test.eq(durable.terminal(i.status), false,
                       'r9''s child started again')
    FROM durable.instances i WHERE i.hub = 'hub' AND i.id = 'r9kid';
SELECT durable_test.eq(durable_test.pcreated('r9kid'),
                       (SELECT i.created FROM durable.instances i
                        WHERE i.hub = 'hub' AND i.id = 'r9'),
                       'the child started again keeps r9''s created time');
SELECT durable_test.eq(durable_test.inbox('r9'), NULL,
                       'r9 waits for its child');
SELECT durable_test.eq((durable.terminate('hub', 'r9kid', '"again"')).rc, 0,
                       'r9''s child started again terminated');
SELECT durable_test.eq(durable_test.inbox('r9'),
                       'SubOrchestrationInstanceFailed',
                       'r9 got its end');

-- the database of version 8: the column and its row go
ALTER TABLE durable.instances DROP COLUMN parent_created;
DELETE FROM durable.schema_version v WHERE v.version = 9;

SELECT durable_test.eq(durable.parent_links(), false,
                       'version 8: no parent links');
SELECT durable_test.eq(durable_test.reuse('p8'),
    'SubOrchestrationInstanceCompleted,SubOrchestrationInstanceFailed',
    'version 8: served, the ends delivered by the execution as before');
