-- a claim of activities takes its entries in one scan of the ready
-- index, not one scan an entry (each from the front, past what it took
-- and what other claims hold), and still in order, the moot ones
-- dropped, no more than its tokens

DO $$
DECLARE
    t0      bigint;
    scans   bigint;
    ids     text[];
    tokens  bytea[];
BEGIN
    t0 := durable.now_us() - 1000000;

    PERFORM durable.start('hub', 'run' || g, 'Orch', NULL, '"Name":"Orch"')
        FROM generate_series(1, 4) g;
    PERFORM durable.start('hub', 'gone', 'Orch', NULL, '"Name":"Orch"');
    PERFORM durable.terminate('hub', 'gone', NULL);

    -- 3 due activities of each running instance, 2 of the terminated
    -- one (moot: dropped by the claim) among the first due
    INSERT INTO durable.activities (hub, partition, id, task_id, name,
                                    ready_at)
        SELECT 'hub', durable_test.part('hub', 'run' || g), 'run' || g, k,
               'Act', t0 + g * 10 + k
        FROM generate_series(1, 4) g, generate_series(1, 3) k;
    INSERT INTO durable.activities (hub, partition, id, task_id, name,
                                    ready_at)
        SELECT 'hub', durable_test.part('hub', 'gone'), 'gone', k, 'Act', t0
        FROM generate_series(1, 2) k;

    tokens := ARRAY(SELECT durable_test.lease(b)
                    FROM generate_series(1, 10) b);

    scans := pg_stat_get_xact_numscans(
                 'durable.activities_ready'::regclass);

    ids := ARRAY(SELECT c.id || ':' || c.task_id
                 FROM durable.claim_activities('hub', 60000000, tokens,
                                               NULL) c
                 WHERE c.id IS NOT NULL);

    scans := pg_stat_get_xact_numscans(
                 'durable.activities_ready'::regclass) - scans;

    PERFORM durable_test.eq(ids, ARRAY['run1:1', 'run1:2', 'run1:3',
        'run2:1', 'run2:2', 'run2:3', 'run3:1', 'run3:2', 'run3:3',
        'run4:1'], 'ten claimed, in order, the moot ones skipped');
    PERFORM durable_test.eq((SELECT count(*) FROM durable.activities a
                             WHERE a.id = 'gone'), 0::bigint,
                            'the moot ones are dropped');
    PERFORM durable_test.eq((SELECT count(*) FROM durable.activities a
                             WHERE a.lease IS NOT NULL), 10::bigint,
                            'ten leased');

    -- two rounds (the moot entries took two places of the first) and
    -- the next due time: 3 where one scan an entry made 13
    PERFORM durable_test.ok(scans <= 3,
                            'scans of the ready index: ' || scans);
END
$$;
