-- Many ended orchestrations wait in an entity's queue (their requests
-- outlive them: none had a grant to drop) until it is unlocked. Each is
-- dropped before it locks (durable.entity_settle()), at no depth, so a
-- live request queued last gets its set however many wait before it.
-- Single requests: 100, which cost a depth each before (the limit is
-- 64). Sets of four, @set@0 and three of the waiter's own: 30, which
-- cost four each before; the first holds its first three and waits at
-- the fourth, which h2 holds, so the others wait behind it at @set@0
-- and are dropped once h2 unlocks. And 1100 single requests: the loop
-- no longer stops after 1000 passes. store/tests/t_sdk.c
-- (t_sdk_stale_queue) holds LMDB to the same.

-- a lock request of p_by's execution 1, queued at its set's first entity
CREATE FUNCTION durable_test.req(p_by text, p_cs text, p_set text[])
RETURNS integer
LANGUAGE sql AS $$
    SELECT durable.entity_message('hub', p_set[1],
        '"lock":"' || p_cs || '","lockSet":' || array_to_json(p_set)::text
        || ',"position":0,"parentInstanceId":"' || p_by
        || '","parentExecution":1',
        NULL, durable.now_us())
$$;

CREATE FUNCTION durable_test.unlock(p_by text, p_cs text, p_eid text)
RETURNS integer
LANGUAGE sql AS $$
    SELECT durable.entity_message('hub', p_eid,
        '"unlock":"' || p_cs || '","parentInstanceId":"' || p_by
        || '","parentExecution":1',
        NULL, durable.now_us())
$$;

CREATE FUNCTION durable_test.start(p_id text) RETURNS integer
LANGUAGE sql AS $$
    SELECT (durable.start('hub', p_id, 'O', NULL,
                          '"Name":"O","Input":null')).rc
$$;

CREATE FUNCTION durable_test.queued(p_eid text) RETURNS bigint
LANGUAGE sql AS $$
    SELECT count(*) FROM durable.entity_ops x
    WHERE x.hub = 'hub' AND x.id = p_eid
$$;

-- 100 waiters of @acc@0, one live last

SELECT durable_test.eq(durable_test.start('h'), 0, 'h started'),
       durable_test.eq(durable_test.req('h', 'cs-h', ARRAY['@acc@0']), 0,
                       'h locks @acc@0'),
       durable_test.eq(durable_test.owner('@acc@0'), 'h', '@acc@0 is h''s');

DO $$
BEGIN
    FOR i IN 0 .. 99 LOOP
        PERFORM durable_test.eq(durable_test.start('w' || i), 0, 'started');
        PERFORM durable_test.eq(durable_test.req('w' || i, 'cs-w',
                                                 ARRAY['@acc@0']),
                                0, 'queued');
    END LOOP;
END
$$;

SELECT durable_test.eq(durable_test.start('live'), 0, 'live started'),
       durable_test.eq(durable_test.req('live', 'cs-live', ARRAY['@acc@0']),
                       0, 'live queued');

SELECT durable_test.eq(durable_test.queued('@acc@0'), 101::bigint,
                       '101 requests wait');

DO $$
BEGIN
    FOR i IN 0 .. 99 LOOP
        PERFORM durable_test.eq((durable.terminate('hub', 'w' || i,
                                                   NULL)).rc,
                                0, 'terminated');
    END LOOP;
END
$$;

SELECT durable_test.eq(durable_test.unlock('h', 'cs-h', '@acc@0'), 0,
                       'h unlocks @acc@0');

SELECT durable_test.eq(durable_test.owner('@acc@0'), 'live',
                       'the live request has @acc@0'),
       durable_test.eq(durable_test.grants('live'), 1::bigint,
                       'and its grant'),
       durable_test.eq(durable_test.queued('@acc@0'), 0::bigint,
                       'the waiters'' requests are gone');

-- 30 waiters of sets of four, one live last

SELECT durable_test.eq(durable_test.start('h2'), 0, 'h2 started'),
       durable_test.eq(durable_test.req('h2', 'cs-h2', ARRAY['@set@00-c']),
                       0, 'h2 locks @set@00-c');

DO $$
DECLARE
    w  text;
    k  text;
BEGIN
    FOR i IN 0 .. 29 LOOP
        w := 'v' || i;
        k := '@set@' || lpad(i::text, 2, '0');

        PERFORM durable_test.eq(durable_test.start(w), 0, 'started');
        PERFORM durable_test.eq(durable_test.req(w, 'cs-v',
                                    ARRAY['@set@0', k || '-a', k || '-b',
                                          k || '-c']),
                                0, 'queued');
    END LOOP;
END
$$;

SELECT durable_test.eq(durable_test.start('live2'), 0, 'live2 started'),
       durable_test.eq(durable_test.req('live2', 'cs-live2',
                           ARRAY['@set@0', '@set@live-a', '@set@live-b',
                                 '@set@live-c']),
                       0, 'live2 queued');

SELECT durable_test.eq(durable_test.owner('@set@0'), 'v0', '@set@0 is v0''s'),
       durable_test.eq(durable_test.owner('@set@00-b'), 'v0',
                       '@set@00-b is v0''s'),
       durable_test.eq(durable_test.owner('@set@00-c'), 'h2',
                       'v0 waits at @set@00-c'),
       durable_test.eq(durable_test.queued('@set@0'), 30::bigint,
                       '30 requests wait at @set@0');

DO $$
BEGIN
    FOR i IN 0 .. 29 LOOP
        PERFORM durable_test.eq((durable.terminate('hub', 'v' || i,
                                                   NULL)).rc,
                                0, 'terminated');
    END LOOP;
END
$$;

SELECT durable_test.eq(durable_test.unlock('h2', 'cs-h2', '@set@00-c'), 0,
                       'h2 unlocks @set@00-c');

SELECT durable_test.eq(durable_test.owner('@set@0'), 'live2',
                       'the live request has @set@0'),
       durable_test.eq(durable_test.owner('@set@live-c'), 'live2',
                       'and the last of its set'),
       durable_test.eq(durable_test.grants('live2'), 1::bigint,
                       'and its grant'),
       durable_test.eq(durable_test.owner('@set@00-a'), NULL::text,
                       'v0''s first three released'),
       durable_test.eq(durable_test.owner('@set@00-c'), NULL::text,
                       'v0''s request at the fourth dropped'),
       durable_test.eq(durable_test.queued('@set@0'), 0::bigint,
                       'the waiters'' requests are gone');

-- more than the 1000 passes the loop once stopped at: 1100 waiters of
-- @big@0, one live last

SELECT durable_test.eq(durable_test.start('h3'), 0, 'h3 started'),
       durable_test.eq(durable_test.req('h3', 'cs-h3', ARRAY['@big@0']), 0,
                       'h3 locks @big@0');

DO $$
BEGIN
    FOR i IN 0 .. 1099 LOOP
        PERFORM durable_test.eq(durable_test.start('u' || i), 0, 'started');
        PERFORM durable_test.eq(durable_test.req('u' || i, 'cs-u',
                                                 ARRAY['@big@0']),
                                0, 'queued');
    END LOOP;
END
$$;

SELECT durable_test.eq(durable_test.start('live3'), 0, 'live3 started'),
       durable_test.eq(durable_test.req('live3', 'cs-live3',
                                        ARRAY['@big@0']),
                       0, 'live3 queued');

DO $$
BEGIN
    FOR i IN 0 .. 1099 LOOP
        PERFORM durable_test.eq((durable.terminate('hub', 'u' || i,
                                                   NULL)).rc,
                                0, 'terminated');
    END LOOP;
END
$$;

SELECT durable_test.eq(durable_test.unlock('h3', 'cs-h3', '@big@0'), 0,
                       'h3 unlocks @big@0');

SELECT durable_test.eq(durable_test.owner('@big@0'), 'live3',
                       'the live request has @big@0'),
       durable_test.eq(durable_test.grants('live3'), 1::bigint,
                       'and its grant'),
       durable_test.eq(durable_test.queued('@big@0'), 0::bigint,
                       'the waiters'' requests are gone');
