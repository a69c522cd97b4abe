-- An activity's version and tags (schema version 8): kept by an
-- orchestration's completion and a rewind, answered by
-- durable.claim_activities_opts(), dropped by the completion that makes
-- the tombstone. On a database at version 7 (no columns) the same
-- functions serve, the two absent: a module keeps serving it while the
-- hosts are upgraded one by one (docs/postgres.md, "Several hosts").
-- t_pg_ops.c holds the claimed items to LMDB's.

-- one activity 'A' of instance p_id scheduled with a version and tags,
-- claimed (its version and tags the answer) and completed; then p_id || 'f',
-- failed with a pending 'R' whose event has both, rewound and claimed
CREATE FUNCTION durable_test.round(p_id text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r     record;
    got   text;
    f     text := p_id || 'f';
BEGIN
    -- the orchestration's name its id: the claim takes this one
    PERFORM durable_test.eq((durable.start('hub', p_id, p_id, NULL,
                             '"Name":"' || p_id || '","Input":null')).rc,
                            0, 'started');
    PERFORM durable_test.eq(count(*), 2::bigint, 'orchestration claimed')
        FROM durable.claim_orchestrations('hub', 60000000,
            ARRAY[durable_test.lease(1)], ARRAY[p_id]);

    SELECT * INTO r FROM durable.complete_orchestration('hub', p_id,
        durable_test.lease(1), 1, false, -1, ARRAY[0::smallint],
        ARRAY[0::bigint], ARRAY[NULL::bigint], ARRAY['TaskScheduled'],
        ARRAY['"Name":"A","Input":null,"Version":"v 1","Tags":{"t":"x"}'],
        ARRAY['A'], ARRAY[NULL::text], ARRAY[NULL::text],
        ARRAY[NULL::text], ARRAY[NULL::text], ARRAY['v 1'],
        ARRAY['{"t":"x"}'], ARRAY[]::text[]);
    PERFORM durable_test.eq(r.rc, 0, 'completed with the activity');

    -- the claim of older modules: its columns as they were
    PERFORM durable_test.eq(count(*), 1::bigint, 'nothing else due')
        FROM durable.claim_activities('hub', 60000000,
            ARRAY[]::bytea[], ARRAY['A']);

    SELECT * INTO r FROM durable.claim_activities_opts('hub', 60000000,
        ARRAY[durable_test.lease(2)], ARRAY['A']) c WHERE c.id IS NOT NULL;
    PERFORM durable_test.eq(r.name, 'A', 'the activity claimed');
    got := coalesce(r.version, '-') || ' ' || coalesce(r.tags, '-');

    PERFORM durable_test.eq((durable.complete_activity('hub', p_id, 0,
        durable_test.lease(2), 5, false, '"TaskScheduledId":0,"Result":1'
        )).rc, 0, 'the activity completed');

    -- a tombstone keeps neither (nothing on version 7)
    PERFORM durable_test.eq((SELECT to_jsonb(a) ->> 'version'
                             FROM durable.activities a
                             WHERE a.hub = 'hub' AND a.id = p_id), NULL,
                            'the tombstone''s version');

    -- failed, with 'R' pending: rewound, it is due again
    PERFORM durable_test.eq((durable.start('hub', f, 'F', NULL,
                             '"Name":"F","Input":null')).rc, 0, 'started');
    UPDATE durable.instances i SET status = 3, ready_at = 0
        WHERE i.hub = 'hub' AND i.id = f;
    DELETE FROM durable.inbox m WHERE m.hub = 'hub' AND m.id = f;
    INSERT INTO durable.history (hub, partition, id, seq, event)
        SELECT 'hub', durable_test.part('hub', f), f, e.ord, e.ev
        FROM unnest(ARRAY[
            '{"EventType":"ExecutionStarted","Timestamp":'
            '"2024-01-01T00:00:00Z","EventId":-1,"Name":"F"}',
            '{"EventType":"TaskScheduled","Timestamp":'
            '"2024-01-01T00:00:01Z","EventId":0,"Name":"R",'
            '"Version":"r\"2","Tags":{"a" : "b"}}',
            '{"EventType":"ExecutionCompleted","Timestamp":'
            '"2024-01-01T00:00:02Z","EventId":1,"OrchestrationStatus":3,'
            '"Result":null}']) WITH ORDINALITY e(ev, ord);

    PERFORM durable_test.eq((durable.rewind('hub', f, '"again"')).rc, 0,
                            'rewound');

    SELECT * INTO r FROM durable.claim_activities_opts('hub', 60000000,
        ARRAY[durable_test.lease(3)], ARRAY['R']) c WHERE c.id IS NOT NULL;
    PERFORM durable_test.eq(r.id, f, 'the rewound activity claimed');

    RETURN got || ' ' || coalesce(r.version, '-') || ' '
           || coalesce(r.tags, '-');
END
$$;

SELECT durable_test.eq(durable_test.round('o8'), 'v 1 {"t":"x"} r"2 {"a":"b"}',
                       'version 8: kept, rewound from the event');

-- the database of version 7: the columns and their rows go (version
-- 9's too)
ALTER TABLE durable.activities DROP COLUMN version, DROP COLUMN tags;
ALTER TABLE durable.instances DROP COLUMN parent_created;
DELETE FROM durable.schema_version v WHERE v.version >= 8;

SELECT durable_test.eq(durable.activity_options(), false,
                       'version 7: no options');
SELECT durable_test.eq(durable_test.round('o7'), '- - - -',
                       'version 7: served, without them');
