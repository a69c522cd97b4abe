-- durable.status_row(), the statement nginx prepares for a status read:
-- the row of durable.status() for every kind of answer, and a plan that
-- reads the record by its primary key (the function inlined, no
-- function scan)

CREATE FUNCTION durable_test.same_status(p_hub text, p_id text,
    p_history boolean, p_what text)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    a  record;
    b  record;
    n  bigint;
BEGIN
    SELECT count(*) INTO n FROM durable.status_row(p_hub, p_id, p_history);
    PERFORM durable_test.eq(n, 1::bigint, p_what || ': one row');

    a := durable.status(p_hub, p_id, p_history);
    SELECT * INTO b FROM durable.status_row(p_hub, p_id, p_history);

    PERFORM durable_test.eq(row_to_json(b)::text, row_to_json(a)::text,
                            p_what);
END
$$;

-- a hub of some size, and its statistics, as a planner sees a real one
SELECT count(durable.start('hub', 'filler-' || g, 'Hello', NULL,
                           '"Name":"Hello"'))
    FROM generate_series(1, 1000) g;
ANALYZE durable.instances;
ANALYZE durable.hubs;

-- the plan of a statement, in lines
CREATE FUNCTION durable_test.explain(p_sql text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    line  text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || p_sql LOOP
        RETURN NEXT line;
    END LOOP;
END
$$;

DO $$
DECLARE
    plan  text;
BEGIN
    PERFORM durable.start('hub', 'pending', 'Hello', '{"a":1}',
                          '"Name":"Hello","Input":{"a":1}');
    PERFORM durable.start_opts('hub', 'opts', 'Hello', NULL,
                               '"Name":"Hello"', 'v2', '{"k":"v"}', 0, 0);
    PERFORM durable.start('hub', 'ended', 'Hello', NULL, '"Name":"Hello"');
    PERFORM durable.terminate('hub', 'ended', '"why"');
    PERFORM durable.start('hub', 'paused', 'Hello', NULL, '"Name":"Hello"');
    PERFORM durable.suspend('hub', 'paused', NULL);

    PERFORM durable_test.same_status('hub', 'pending', true, 'Pending');
    PERFORM durable_test.same_status('hub', 'opts', true,
                                     'version and tags');
    PERFORM durable_test.same_status('hub', 'ended', true,
                                     'Terminated, with its history');
    PERFORM durable_test.same_status('hub', 'ended', false,
                                     'without the history');
    PERFORM durable_test.same_status('hub', 'paused', true, 'Suspended');
    PERFORM durable_test.same_status('hub', 'none', true, 'no such id');
    PERFORM durable_test.same_status('nohub', 'pending', true,
                                     'no such hub');
    PERFORM durable_test.same_status('hub', repeat('x', 257), true,
                                     'id of 257 bytes');
    PERFORM durable_test.same_status(repeat('h', 51), 'x', true,
                                     'hub of 51 bytes');
    PERFORM durable_test.same_status(NULL, 'x', true, 'no hub');

    PERFORM durable_test.eq(cardinality((SELECT s.history
                                         FROM durable.status_row('hub',
                                             'ended', true) s)) > 0,
                            true, 'the history is there');

    -- the plan nginx's prepared statement gets once it is generic
    EXECUTE 'PREPARE durable_test_status(text, text) AS '
            'SELECT * FROM durable.status_row($1, $2, true)';
    SET LOCAL plan_cache_mode = force_generic_plan;
    SELECT string_agg(p, E'\n') INTO plan
        FROM durable_test.explain('EXECUTE durable_test_status(''hub'', '
                                  '''pending'')') p;
    EXECUTE 'DEALLOCATE durable_test_status';

    PERFORM durable_test.ok(plan LIKE '%Index Scan using instances_pkey%',
                            'the record by its key: ' || plan);
    PERFORM durable_test.ok(plan NOT LIKE '%Function Scan%',
                            'inlined: ' || plan);
END
$$;
