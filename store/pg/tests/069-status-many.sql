-- durable.status_many(): the status reads of one hub in one call answer,
-- row for row and in the order of the ids, what durable.status() answers
-- for each without the history: found, not found, invalid, the same id
-- twice, a hub that does not exist.

-- a status() answer, history and error left out, as text
CREATE FUNCTION durable_test.one(p_hub text, p_id text) RETURNS text
LANGUAGE sql AS $$
    SELECT ROW(s.rc, s.status, s.suspended_from, s.created, s.updated,
               s.execution, s.name, s.input, s.output, s.custom_status,
               s.parent_id, s.parent_task, s.parent_execution, s.ready_at,
               s.lease, s.lease_expires, s.episode_at, s.lease_upto,
               s.inbox_seq, s.done_status, s.done_lease, s.done_digest,
               s.scheduled_start, s.version, s.tags, s.failure)::text
    FROM durable.status(p_hub, p_id, false) s
$$;

-- status_many()'s rows as text, in the order it gives them
CREATE FUNCTION durable_test.many(p_hub text, p_ids text[]) RETURNS text[]
LANGUAGE sql AS $$
    SELECT coalesce(array_agg(ROW(s.*)::text), '{}')
    FROM durable.status_many(p_hub, p_ids) s
$$;

-- Pending; Terminated with an output; Suspended; scheduled with a
-- version and tags; one claimed (a lease); a hub of its own
SELECT durable_test.eq(s.rc, 0, 'the one claimed')
    FROM durable.start('hub', 'c', 'Hello', NULL, '"Name":"Hello"') s;
SELECT durable_test.eq(string_agg(c.id, ','), 'c', 'claimed')
    FROM durable.claim_orchestrations('hub', 3600000000,
                                      ARRAY[durable_test.lease(7)], NULL) c
    WHERE c.id IS NOT NULL;
SELECT durable_test.eq(s.rc, 0, 'a start')
    FROM unnest(ARRAY['p', 't', 's']) i,
         LATERAL durable.start('hub', i, 'Hello', '{"n":1}',
                               '"Name":"Hello","Input":{"n":1}') s;
SELECT durable_test.eq(s.rc, 0, 'a start with options')
    FROM durable.start_opts('hub', 'o', 'Later', NULL, '"Name":"Later"',
                            'v2', '{"k":"v"}',
                            durable.now_us() + 3600000000, 0) s;
SELECT durable_test.eq(s.rc, 0, 'a start elsewhere')
    FROM durable.start('other', 'p', 'Else', NULL, '"Name":"Else"') s;
SELECT durable_test.eq((durable.terminate('hub', 't', '"done"')).rc, 0,
                       'terminated');
SELECT durable_test.eq((durable.suspend('hub', 's', NULL)).rc, 0,
                       'suspended');

CREATE TABLE durable_test.ids (o integer, hub text, id text);
INSERT INTO durable_test.ids VALUES
    (1, 'hub', 'p'), (2, 'hub', 'nope'), (3, 'hub', 't'), (4, 'hub', ''),
    (5, 'hub', 's'), (6, 'hub', 'p'), (7, 'hub', repeat('x', 257)),
    (8, 'hub', 'o'), (9, 'hub', 'c'), (10, 'hub', 'x"y\z'),
    (11, 'other', 'p'), (12, 'nohub', 'p'), (13, '', 'p'),
    (14, repeat('h', 51), 'p');

-- the fixture is what it says: each kind of answer is there
SELECT durable_test.eq(
    (SELECT string_agg((durable.status(i.hub, i.id, false)).rc::text, ','
                       ORDER BY i.o)
     FROM durable_test.ids i),
    '0,1,0,6,0,0,6,0,0,1,0,1,6,6', 'the answers alone');
SELECT durable_test.eq((durable.status('hub', 'c', false)).lease,
                       durable_test.lease(7), 'a lease');
SELECT durable_test.eq((durable.status('hub', 'o', false)).version, 'v2',
                       'a version');
SELECT durable_test.ok((durable.status('hub', 'o', false)).tags IS NOT NULL,
                       'tags');

-- each hub's ids in one call: the rows of status() alone, in order
SELECT durable_test.eq(
    durable_test.many(h.hub, (SELECT array_agg(i.id ORDER BY i.o)
                              FROM durable_test.ids i WHERE i.hub = h.hub)),
    (SELECT array_agg(durable_test.one(i.hub, i.id) ORDER BY i.o)
     FROM durable_test.ids i WHERE i.hub = h.hub),
    'hub ' || h.hub || ', in the order of the ids')
    FROM (SELECT DISTINCT hub FROM durable_test.ids) h;

-- many ids, most not there; none; the same one many times
SELECT durable_test.eq(
    (SELECT count(*) FILTER (WHERE s.rc = 1) || ' ' || count(*)
     FROM durable.status_many('hub',
              ARRAY(SELECT 'n' || g FROM generate_series(1, 500) g)
              || ARRAY['p']) s),
    '500 501', 'many');
SELECT durable_test.eq(count(*), 0::bigint, 'none')
    FROM durable.status_many('hub', '{}');
SELECT durable_test.eq(count(DISTINCT ROW(s.*)::text) || ' ' || count(*),
                       '1 64', 'one id, many times')
    FROM durable.status_many('hub', array_fill('p'::text, ARRAY[64])) s;

-- the same answers on a generic plan as on the first calls' custom ones
DO $$
DECLARE
    k  integer;
BEGIN
    FOR k IN 1..8 LOOP
        PERFORM durable_test.eq(
            durable_test.many('hub', ARRAY['nope', 't', 'p']),
            ARRAY[durable_test.one('hub', 'nope'),
                  durable_test.one('hub', 't'),
                  durable_test.one('hub', 'p')],
            'call ' || k);
    END LOOP;
END
$$;
