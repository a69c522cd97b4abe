-- durable.remove_set(): every row of the instances it is given goes, from
-- every table an instance owns, and nothing else: not the row of an
-- instance left out, nor of the same id in another hub. The counts stay
-- the rows'. remove() (a purge) and a tree purge go through it too.

-- the tables keyed by (hub, partition, id): an instance's, but for the
-- entities' two. A table added there must be filled by
-- durable_test.fill() below, and remove_set() must delete from it, or
-- this check fails first
SELECT durable_test.eq(
    (SELECT string_agg(c.relname, ',' ORDER BY c.relname)
     FROM pg_class c
     JOIN pg_namespace s ON s.oid = c.relnamespace
     WHERE s.nspname = 'durable' AND c.relkind = 'r'
       AND c.relname NOT IN ('entities', 'entity_ops')
       AND (SELECT count(*) FROM pg_attribute a
            WHERE a.attrelid = c.oid AND NOT a.attisdropped
              AND a.attname IN ('hub', 'partition', 'id')) = 3),
    'activities,history,inbox,instances,timers',
    'the tables an instance owns');

-- the rows of (hub, id) in each of those tables, as text
CREATE FUNCTION durable_test.owned(p_hub text, p_id text) RETURNS text
LANGUAGE sql AS $$
    SELECT concat_ws(' | ',
        (SELECT string_agg(x::text, ',' ORDER BY x.task_id)
         FROM durable.activities x WHERE x.hub = p_hub AND x.id = p_id),
        (SELECT string_agg(x::text, ',' ORDER BY x.seq)
         FROM durable.history x WHERE x.hub = p_hub AND x.id = p_id),
        (SELECT string_agg(x::text, ',' ORDER BY x.seq)
         FROM durable.inbox x WHERE x.hub = p_hub AND x.id = p_id),
        (SELECT string_agg(x::text, ',')
         FROM durable.instances x WHERE x.hub = p_hub AND x.id = p_id),
        (SELECT string_agg(x::text, ',' ORDER BY x.timer_id)
         FROM durable.timers x WHERE x.hub = p_hub AND x.id = p_id))
$$;

-- how many rows of (hub, id) each of those tables holds
CREATE FUNCTION durable_test.rows_of(p_hub text, p_id text) RETURNS text
LANGUAGE sql AS $$
    SELECT concat_ws(' ',
        (SELECT count(*) FROM durable.activities x
         WHERE x.hub = p_hub AND x.id = p_id),
        (SELECT count(*) FROM durable.history x
         WHERE x.hub = p_hub AND x.id = p_id),
        (SELECT count(*) FROM durable.inbox x
         WHERE x.hub = p_hub AND x.id = p_id),
        (SELECT count(*) FROM durable.instances x
         WHERE x.hub = p_hub AND x.id = p_id),
        (SELECT count(*) FROM durable.timers x
         WHERE x.hub = p_hub AND x.id = p_id))
$$;

-- rows of a started (hub, id) in each table it owns but instances: an
-- event of history, two messages, a pending activity (ready) and a
-- completed one (a tombstone), two timers
CREATE FUNCTION durable_test.fill(p_hub text, p_id text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    p  integer := durable_test.part(p_hub, p_id);
BEGIN
    PERFORM durable.history_append(p_hub, p, p_id,
        '{"EventType":"OrchestratorStarted"}');
    INSERT INTO durable.inbox (hub, partition, id, seq, message)
        SELECT p_hub, p, p_id, 100 + m, '{"m":' || m || '}'
        FROM generate_series(1, 2) m;
    INSERT INTO durable.activities (hub, partition, id, task_id, done, name,
            ready_at)
        VALUES (p_hub, p, p_id, 1, false, 'A', 5),
               (p_hub, p, p_id, 2, true, NULL, 0);
    INSERT INTO durable.timers (hub, partition, id, timer_id, due, fire_at)
        SELECT p_hub, p, p_id, t, 9, 9 FROM generate_series(1, 2) t;
END
$$;

-- nothing left of the ids of p_hub in any of those tables, and the
-- counts still the rows'
CREATE FUNCTION durable_test.gone(p_hub text, p_ids text[], p_what text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM durable_test.eq(durable_test.rows_of(p_hub, id), '0 0 0 0 0',
                            'nothing left of ' || p_hub || ' ' || id)
        FROM unnest(p_ids) id;
    PERFORM durable_test.eq(durable_test.counted(), durable_test.recount(),
                            'the counts after ' || p_what);
END
$$;

-- a child of p_parent in hub p_hub: parent_id and its parent's history
-- name each other; p_status its status (NULL: as started)
CREATE FUNCTION durable_test.sub(p_hub text, p_parent text, p_child text,
    p_status smallint)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM durable.start(p_hub, p_child, 'N', NULL, '');
    UPDATE durable.instances
        SET parent_id = p_parent, status = coalesce(p_status, status)
        WHERE hub = p_hub AND id = p_child;
    PERFORM durable.history_append(p_hub, durable_test.part(p_hub, p_parent),
        p_parent, '{"EventType":"SubOrchestrationInstanceCreated",'
                  || '"InstanceId":' || to_json(p_child)::text || '}');
END
$$;

-- a, b, c in hub h and a in hub g, each with rows in every table
DO $$
DECLARE
    k  record;
BEGIN
    FOR k IN SELECT * FROM (VALUES ('h', 'a'), ('h', 'b'), ('h', 'c'),
                                   ('g', 'a')) v(hub, id)
    LOOP
        PERFORM durable_test.eq(s.rc, 0, 'started')
            FROM durable.start(k.hub, k.id, 'N', NULL, '"Name":"N"') s;
        PERFORM durable_test.fill(k.hub, k.id);
    END LOOP;
END
$$;

SELECT durable_test.ok(NOT '0' = ANY (string_to_array(
                                         durable_test.rows_of(hub, id), ' ')),
                       'rows of ' || hub || ' ' || id || ' in every table: '
                       || durable_test.rows_of(hub, id))
    FROM (VALUES ('h', 'a'), ('h', 'b'), ('h', 'c'), ('g', 'a')) v(hub, id);

SELECT durable_test.owned('h', 'c') AS c_before,
       durable_test.owned('g', 'a') AS ga_before \gset

SELECT durable_test.eq(
    durable.remove_set('h',
                       ARRAY[durable_test.part('h', 'a'),
                             durable_test.part('h', 'b')],
                       ARRAY['a', 'b']),
    2, 'remove_set() answers how many instances went');

SELECT durable_test.gone('h', ARRAY['a', 'b'], 'remove_set()');
SELECT durable_test.eq(durable_test.owned('h', 'c'), :'c_before',
                       'h c intact');
SELECT durable_test.eq(durable_test.owned('g', 'a'), :'ga_before',
                       'the same id in another hub intact');

-- none, and ids that are not there: nothing, and no error
SELECT durable_test.eq(durable.remove_set('h', '{}', '{}'), 0,
                       'an empty set');
SELECT durable_test.eq(durable.remove_set('h', ARRAY[0], ARRAY['zz']), 0,
                       'an id not there');

-- remove() of one: a purge of c, terminated
SELECT durable_test.eq(r.rc, 0, 'c terminated')
    FROM durable.terminate('h', 'c', NULL) r;
SELECT durable_test.eq(r.rc, 0, 'c purged') FROM durable.purge('h', 'c') r;
SELECT durable_test.gone('h', ARRAY['c'], 'a purge');
SELECT durable_test.eq(durable_test.owned('g', 'a'), :'ga_before',
                       'g a still intact');

-- a tree purge: a parent and the child it started, terminated, with
-- rows in every table, deleted at once: the count triggers run once a
-- table (terminate drops pending work: the rows come after it)
DO $$
BEGIN
    PERFORM durable.start('t', 'p', 'N', NULL, '');
    PERFORM durable_test.sub('t', 'p', 'k', NULL);
    PERFORM durable.terminate('t', x, NULL) FROM unnest(ARRAY['p', 'k']) x;
    PERFORM durable_test.fill('t', x) FROM unnest(ARRAY['p', 'k']) x;
END
$$;

-- the calls of this transaction: the counts of earlier ones may not have
-- been reported yet, and are counted apart
BEGIN;
SET LOCAL track_functions = 'pl';
SELECT durable_test.calls('count_instances') AS instances_before,
       durable_test.calls('count_timers') AS timers_before \gset
SELECT durable_test.eq(concat_ws(' ', r.rc, r.purged), '0 2',
                       'the tree purged')
    FROM durable.purge_tree('t', 'p') r;
SELECT durable_test.eq(durable_test.calls('count_instances')
                       - :instances_before, 1::bigint,
                       'count_instances once for the tree');
SELECT durable_test.eq(durable_test.calls('count_timers') - :timers_before,
                       1::bigint, 'count_timers once for the tree');
COMMIT;

SELECT durable_test.gone('t', ARRAY['p', 'k'], 'a tree purge');

-- a tree of 2,000 terminal children, the first named twice in the
-- parent's history: gathered in one call, each instance locked once
DO $$
BEGIN
    PERFORM durable.start('w', 'p', 'N', NULL, '');
    PERFORM durable_test.sub('w', 'p', 'k' || i, 5::smallint)
        FROM generate_series(1, 2000) i;
    PERFORM durable.history_append('w', durable_test.part('w', 'p'), 'p',
        '{"EventType":"SubOrchestrationInstanceCreated","InstanceId":"k1"}');
    UPDATE durable.instances SET status = 5 WHERE hub = 'w' AND id = 'p';
END
$$;

BEGIN;
SET LOCAL track_functions = 'pl';
SELECT durable_test.calls('purge_gather') AS gathers,
       durable_test.calls('lock_active') AS locks \gset
SELECT durable_test.eq(concat_ws(' ', r.rc, r.purged), '0 2001',
                       'the tree of 2,000 children purged')
    FROM durable.purge_tree('w', 'p') r;
SELECT durable_test.eq(durable_test.calls('purge_gather') - :gathers, 1::bigint,
                       'its instances gathered in one call');
SELECT durable_test.eq(durable_test.calls('lock_active') - :locks, 2001::bigint,
                       'each locked once, k1 too');
COMMIT;

SELECT durable_test.eq((SELECT count(*) FROM durable.instances
                        WHERE hub = 'w'), 0::bigint, 'no instance left of w');
SELECT durable_test.eq((SELECT count(*) FROM durable.history
                        WHERE hub = 'w'), 0::bigint, 'no history left of w');
SELECT durable_test.eq(durable_test.counted(), durable_test.recount(),
                       'the counts after the tree of 2,000');

-- a terminal parent, its active child and that one's terminal child:
-- the parent goes, an active instance and what it started stay
DO $$
BEGIN
    PERFORM durable.start('v', 'p', 'N', NULL, '');
    PERFORM durable_test.sub('v', 'p', 'c', 0::smallint);
    PERFORM durable_test.sub('v', 'c', 'g', 5::smallint);
    UPDATE durable.instances SET status = 5 WHERE hub = 'v' AND id = 'p';
END
$$;

SELECT durable_test.eq(concat_ws(' ', r.rc, r.purged), '0 1',
                       'the parent purged alone')
    FROM durable.purge_tree('v', 'p') r;
SELECT durable_test.eq((SELECT string_agg(id || '=' || status, ' '
                                          ORDER BY id)
                        FROM durable.instances WHERE hub = 'v'),
                       'c=0 g=5', 'the active child and its child stay');

-- a chain of 18: the root and 16 levels under it go, the 17th stays;
-- n5 names the root, which names it as its parent: the root once
DO $$
BEGIN
    PERFORM durable.start('u', 'n0', 'N', NULL, '');
    PERFORM durable_test.sub('u', 'n' || i - 1, 'n' || i, 5::smallint)
        FROM generate_series(1, 17) i;
    UPDATE durable.instances SET status = 5, parent_id = 'n5'
        WHERE hub = 'u' AND id = 'n0';
    PERFORM durable.history_append('u', durable_test.part('u', 'n5'), 'n5',
        '{"EventType":"SubOrchestrationInstanceCreated","InstanceId":"n0"}');
END
$$;

BEGIN;
SET LOCAL track_functions = 'pl';
SELECT durable_test.calls('lock_active') AS locks \gset
SELECT durable_test.eq(concat_ws(' ', r.rc, r.purged), '0 17',
                       'the chain purged 16 levels down')
    FROM durable.purge_tree('u', 'n0') r;
SELECT durable_test.eq(durable_test.calls('lock_active') - :locks, 17::bigint,
                       'each of the chain locked once, the root too');
COMMIT;

SELECT durable_test.eq((SELECT string_agg(id, ' ') FROM durable.instances
                        WHERE hub = 'u'), 'n17', 'the 17th level stays');
SELECT durable_test.eq(durable_test.counted(), durable_test.recount(),
                       'the counts after the last tree purges');
