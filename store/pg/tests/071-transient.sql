-- Errors that say "try again" (durable.transient(): a deadlock, a
-- serialization failure, a read-only server, a lock timeout, a
-- shutdown) leave the functions with their SQLSTATE for a session that
-- set durable.raise_transient = on, as nginx's store connections do, so
-- that the module answers 503 and may retry the batch; every other
-- session gets rc 8 with the message, as before level 2.

-- every exception handler that catches all errors gives those back
-- first, but in the four that catch a known failure of their own (a
-- token or a time that does not parse, an event that is not JSON, the
-- fold of the counts that stats() tries and may skip)
DO $$
DECLARE
    f    record;
    bad  text := '';
BEGIN
    FOR f IN SELECT p.proname, p.prosrc
             FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
             WHERE p.pronamespace = 'durable'::regnamespace
               AND l.lanname = 'plpgsql'
               AND p.prosrc ~* 'WHEN others THEN'
               AND p.proname NOT IN ('token_decode', 'time_us',
                                     'rewind_event', 'stats')
             ORDER BY p.proname
    LOOP
        IF (SELECT count(*) FROM regexp_matches(f.prosrc,
                'WHEN others THEN', 'gi'))
           <> (SELECT count(*) FROM regexp_matches(f.prosrc,
                'WHEN others THEN\s+IF durable\.transient\(SQLSTATE\) THEN'
                '\s+RAISE;', 'gi'))
        THEN
            bad := bad || ' ' || f.proname;
        END IF;
    END LOOP;

    PERFORM durable_test.ok(bad = '', 'handlers that hide a transient '
                            || 'error:' || bad);
END
$$;

DO $$
BEGIN
    PERFORM durable_test.eq((durable.start('hub', 'i1', 'Hello', NULL,
                                           '"Name":"Hello"')).rc, 0,
                            'start');
END
$$;

-- a read-only transaction: rc 8, the message in error
BEGIN READ ONLY;
DO $$
DECLARE
    r  record;
BEGIN
    r := durable.raise_event('hub', 'i1', '"Name":"e"');
    PERFORM durable_test.eq(r.rc, 8, 'read-only, not asked: rc');
    PERFORM durable_test.ok(r.error LIKE '%read-only transaction%',
                            'read-only, not asked: error');
    PERFORM durable_test.eq(durable.transient('25006'), false,
                            'not asked: not transient');
END
$$;
ROLLBACK;

-- asked: the error itself, with its SQLSTATE, from a function called by
-- another too (a start of start_batch() that goes alone)
SET durable.raise_transient = on;

BEGIN READ ONLY;
DO $$
DECLARE
    r      record;
    state  text;
BEGIN
    PERFORM durable_test.eq(durable.transient('25006'), true,
                            'asked: transient');
    PERFORM durable_test.eq(durable.transient('23505'), false,
                            'asked: a unique violation is not');

    BEGIN
        r := durable.raise_event('hub', 'i1', '"Name":"e"');
        state := 'answered rc ' || r.rc;
    EXCEPTION
        WHEN others THEN
            state := SQLSTATE;
    END;

    PERFORM durable_test.eq(state, '25006', 'read-only, asked');

    BEGIN
        PERFORM * FROM durable.start_batch('hub', ARRAY['i2', 'i1'],
            ARRAY['Hello', 'Hello'], ARRAY[NULL, NULL]::text[],
            ARRAY['"Name":"Hello"', '"Name":"Hello"'],
            ARRAY[NULL, NULL]::text[], ARRAY[NULL, NULL]::text[]);
        state := 'answered';
    EXCEPTION
        WHEN others THEN
            state := SQLSTATE;
    END;

    PERFORM durable_test.eq(state, '25006', 'start_batch, asked');
END
$$;
ROLLBACK;

-- an error that is not transient is still rc 8 with the setting on
DO $$
DECLARE
    r  record;
BEGIN
    r := durable.raise_event('hub', 'i1', 'not members');
    PERFORM durable_test.ok(r.rc IN (0, 8), 'not transient: answered');
END
$$;

RESET durable.raise_transient;
