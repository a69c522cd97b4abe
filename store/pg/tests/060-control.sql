-- recursive terminate and purge over sub-orchestrations, and the counts
-- of the monitoring page: kept by triggers, folded when their session
-- is gone, the same sums afterwards

-- p started c1 and c2 (c2 a grandchild g under it); x names p in its
-- history but has another parent; the tree's links are the history's
-- SubOrchestrationInstanceCreated events and the children's parent_id
CREATE FUNCTION durable_test.child(p_parent text, p_child text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM durable.start('hub', p_child, 'Sub', NULL, '"Name":"Sub"');
    UPDATE durable.instances SET parent_id = p_parent, parent_task = 0,
            parent_execution = 1
        WHERE hub = 'hub' AND id = p_child;
    PERFORM durable.history_append('hub', durable_test.part('hub', p_parent),
        p_parent,
        '{"EventType":"SubOrchestrationInstanceCreated","Timestamp":'
        || '"2024-01-01T00:00:00Z","EventId":0,"Name":"Sub",'
        || '"InstanceId":' || to_json(p_child)::text || '}');
END
$$;

DO $$
DECLARE
    r  record;
BEGIN
    PERFORM durable.start('hub', 'p', 'Main', NULL, '"Name":"Main"');
    PERFORM durable_test.child('p', 'c1');
    PERFORM durable_test.child('p', 'c2');
    PERFORM durable_test.child('c2', 'g');
    PERFORM durable.start('hub', 'x', 'Other', NULL, '"Name":"Other"');
    PERFORM durable.history_append('hub', durable_test.part('hub', 'p'), 'p',
        '{"EventType":"SubOrchestrationInstanceCreated","Timestamp":'
        || '"2024-01-01T00:00:00Z","EventId":1,"InstanceId":"x"}');

    -- c1 is terminal already: left as it is
    PERFORM durable.terminate('hub', 'c1', '"first"');

    -- an active instance cannot be purged, nor its tree
    r := durable.purge_tree('hub', 'p');
    PERFORM durable_test.eq(r.rc, 4, 'purge of an active tree');
    PERFORM durable_test.eq(r.status, 6::smallint, 'its status');
    PERFORM durable_test.eq(r.purged, 0::bigint, 'nothing purged');

    r := durable.terminate_tree('hub', 'p', '"all"');
    PERFORM durable_test.eq(r.rc, 0, 'terminate the tree');

    PERFORM durable_test.eq(
        (SELECT string_agg(id || '=' || status || ':'
                           || coalesce(output, ''), ' ' ORDER BY id)
         FROM durable.instances WHERE hub = 'hub'),
        'c1=5:"first" c2=5:"all" g=5:"all" p=5:"all" x=6:',
        'the tree terminated, x left alone');

    -- a retry finds the instance terminal
    r := durable.terminate_tree('hub', 'p', '"all"');
    PERFORM durable_test.eq(r.rc, 3, 'a retry is GONE');

    r := durable.terminate_tree('hub', 'nope', NULL);
    PERFORM durable_test.eq(r.rc, 1, 'no instance');

    -- purge: the whole terminal tree, counted; x stays
    r := durable.purge_tree('hub', 'p');
    PERFORM durable_test.eq(r.rc, 0, 'purge the tree');
    PERFORM durable_test.eq(r.status, 5::smallint, 'Terminated');
    PERFORM durable_test.eq(r.purged, 4::bigint, 'p, c1, c2 and g');
    PERFORM durable_test.eq(
        (SELECT string_agg(id, ' ' ORDER BY id) FROM durable.instances
         WHERE hub = 'hub'), 'x', 'x is left');
    PERFORM durable_test.eq((SELECT count(*) FROM durable.history
                             WHERE hub = 'hub' AND id <> 'x'), 0::bigint,
                            'no history left of the tree');

    r := durable.purge_tree('hub', 'p');
    PERFORM durable_test.eq(r.rc, 1, 'a retry: not found');
END
$$;

-- counts: what the triggers keep equals what the tables hold
DO $$
DECLARE
    i  integer;
    r  record;
BEGIN
    FOR i IN 1..5 LOOP
        PERFORM durable.start('h2', 'i' || i, 'N', NULL, '"Name":"N"');
    END LOOP;

    PERFORM durable.terminate('h2', 'i1', NULL);
    PERFORM durable.suspend('h2', 'i2', NULL);
    PERFORM durable.purge('h2', 'i1');
    INSERT INTO durable.timers (hub, partition, id, timer_id, due, fire_at)
        VALUES ('h2', durable_test.part('h2', 'i3'), 'i3', 1, 5, 5);

    PERFORM durable_test.eq(durable_test.stats(), durable_test.recount(),
                            'counts as the tables hold');
    PERFORM durable_test.eq(durable_test.stats(),
        'h2 0 6 3,h2 0 7 1,h2 1 0 3,h2 2 0 1,hub 0 6 1,hub 1 0 1',
        'the counts');

    -- the oldest ready entry's time: the first start's
    SELECT * INTO r FROM durable.stats() s
        WHERE s.hub = 'h2' AND s.class = 1 AND s.code = 0;
    PERFORM durable_test.eq(r.oldest,
        (SELECT min(ready_at) FROM durable.instances
         WHERE hub = 'h2' AND ready_at > 0), 'the oldest ready entry');
END
$$;

-- a status count of 0 is no row of stats(): Running had none
SELECT durable_test.ok(NOT EXISTS (SELECT 1 FROM durable.stats() s
                                   WHERE s.n = 0), 'no count of 0');

-- a session that is gone: its slot is folded into slot 0, sums kept
\connect :conninfo
SELECT durable.start('h2', 'later', 'N', NULL, '"Name":"N"');
\connect :conninfo

-- the session before may take a moment to end
DO $$
BEGIN
    FOR i IN 1..200 LOOP
        PERFORM pg_stat_clear_snapshot();
        EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                              WHERE a.pid <> pg_backend_pid()
                                AND a.datname = current_database());
        PERFORM pg_sleep(0.05);
    END LOOP;
END
$$;

SELECT durable_test.eq(durable_test.stats(), durable_test.recount(),
                       'the same counts after a fold');
SELECT durable_test.ok((SELECT count(*) FROM durable.counts
                        WHERE slot NOT IN (0, pg_backend_pid())) = 0,
                       'only slot 0 (and this session''s) is left');
