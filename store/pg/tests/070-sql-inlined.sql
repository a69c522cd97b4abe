-- every SQL-language function of the schema is one the planner inlines
-- into the expression that calls it; one it cannot inline (a statement
-- other than a SELECT of one expression, a FROM, a subquery) is parsed
-- and planned again at each call, where plpgsql keeps its plans for the
-- session: durable.history_append() as an SQL function cost four times
-- its INSERT, in every completion. Each function is called here with
-- arguments read from a table (not constants the planner would fold),
-- and the plan must not name it.

DO $$
DECLARE
    f       record;
    cols    text;
    args    text;
    line    text;
    plan    text;
    bad     text := '';
BEGIN
    FOR f IN SELECT p.proname, p.pronargs, p.proargtypes::oid[] AS types,
                    p.proretset, p.provolatile
             FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
             WHERE p.pronamespace = 'durable'::regnamespace
               AND l.lanname = 'sql'
             ORDER BY p.proname
    LOOP
        -- one the planner would call at plan time, leaving only its
        -- value in the plan: this test cannot tell whether it inlines
        IF f.pronargs = 0 AND f.provolatile = 'i' THEN
            bad := bad || E'\n' || f.proname
                   || '(): IMMUTABLE without arguments, cannot be checked';
            CONTINUE;
        END IF;

        cols := (SELECT string_agg(format('a%s %s', u.i,
                                          format_type(u.t, NULL)), ', ')
                 FROM unnest(f.types) WITH ORDINALITY u(t, i));
        args := (SELECT string_agg('a' || i, ', ')
                 FROM generate_series(1, f.pronargs) i);

        EXECUTE 'CREATE TEMP TABLE args (' || coalesce(cols, '') || ')';

        plan := '';

        FOR line IN EXECUTE format(
            CASE WHEN f.proretset
                 THEN 'EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM args, '
                      'LATERAL durable.%I(%s)'
                 ELSE 'EXPLAIN (VERBOSE, COSTS OFF) '
                      'SELECT durable.%I(%s) FROM args'
            END, f.proname, coalesce(args, ''))
        LOOP
            plan := plan || line || E'\n';
        END LOOP;

        DROP TABLE args;

        IF position(('durable.' || f.proname || '(') IN plan) > 0 THEN
            bad := bad || E'\n' || f.proname || '(): ' || plan;
        END IF;
    END LOOP;

    PERFORM durable_test.ok(bad = '',
                            'SQL functions the planner does not inline:'
                            || bad);
END
$$;
