-- durable.start_batch(): the starts of one batch in one call answer,
-- row for row, what durable.start() answers for each in turn, and leave
-- the same records and messages; the new ids cost one insert a table,
-- so the count trigger and the function run once, and only the ids that
-- need it (an existing instance, an id seen before in the batch, an
-- invalid one) go through durable.start_opts().

-- the records and messages of a hub, times left out
CREATE FUNCTION durable_test.state(p_hub text) RETURNS text
LANGUAGE sql AS $$
    SELECT coalesce(string_agg(concat_ws(' ', i.id, i.status, i.execution,
                                         i.name, i.input, i.version, i.tags,
                                         i.inbox_seq, i.ready_at > 0,
                                         (SELECT string_agg(m.seq || ' '
                                                 || durable_test.ev(m.message),
                                                 ',' ORDER BY m.seq)
                                          FROM durable.inbox m
                                          WHERE m.hub = i.hub
                                            AND m.partition = i.partition
                                            AND m.id = i.id)),
                               '; ' ORDER BY i.id), '')
    FROM durable.instances i WHERE i.hub = p_hub
$$;

-- both hubs: "active" Pending, "done" Terminated
SELECT durable_test.eq(s.rc, 0, 'a start')
    FROM unnest(ARRAY['one', 'many']) h, unnest(ARRAY['active', 'done']) i,
         LATERAL durable.start(h, i, 'Hello', NULL, '"Name":"Hello"') s;
SELECT durable_test.eq(t.rc, 0, 'terminated')
    FROM unnest(ARRAY['one', 'many']) h,
         LATERAL durable.terminate(h, 'done', '"r"') t;

CREATE TABLE durable_test.ops (o integer, id text, name text, input text,
    members text, version text, tags text);
INSERT INTO durable_test.ops VALUES
    (1, 'new', 'Hello', '{"a":"x\"y"}', '"Name":"Hello","Input":{"a":"x\"y"}',
     NULL, NULL),
    (2, 'new', 'Other', NULL, '"Name":"Other"', NULL, NULL),
    (3, 'active', 'Hello', NULL, '"Name":"Hello"', NULL, NULL),
    (4, 'done', 'Again', '2', '"Name":"Again","Input":2', 'v1',
     '{"t":"1"}'),
    (5, '', 'Hello', NULL, '"Name":"Hello"', NULL, NULL),
    (6, 'other', 'Hello', NULL, '"Name":"Hello","Version":"v2"', 'v2',
     NULL),
    (7, 'done', 'Hello', NULL, '"Name":"Hello"', NULL, NULL);

-- hub one: one start after the other, as durable.start_opts() alone
CREATE TABLE durable_test.alone (o integer, rc integer, status smallint,
    error text);
DO $$
DECLARE
    r  record;
BEGIN
    FOR r IN SELECT * FROM durable_test.ops ORDER BY o LOOP
        INSERT INTO durable_test.alone
            SELECT r.o, s.rc, s.status, s.error
            FROM durable.start_opts('one', r.id, r.name, r.input, r.members,
                                    r.version, r.tags, 0, 0) s;
    END LOOP;
END
$$;

-- hub many: one call
CREATE TABLE durable_test.batch AS
    SELECT b.o::integer, b.rc, b.status, b.error
    FROM durable.start_batch('many',
             (SELECT array_agg(id ORDER BY o) FROM durable_test.ops),
             (SELECT array_agg(name ORDER BY o) FROM durable_test.ops),
             (SELECT array_agg(input ORDER BY o) FROM durable_test.ops),
             (SELECT array_agg(members ORDER BY o) FROM durable_test.ops),
             (SELECT array_agg(version ORDER BY o) FROM durable_test.ops),
             (SELECT array_agg(tags ORDER BY o) FROM durable_test.ops))
         WITH ORDINALITY AS b(rc, status, error, o);

SELECT durable_test.eq(
    (SELECT string_agg(concat_ws(' ', o, rc, status, error), ', '
                       ORDER BY o) FROM durable_test.batch),
    (SELECT string_agg(concat_ws(' ', o, rc, status, error), ', '
                       ORDER BY o) FROM durable_test.alone),
    'the answers');
SELECT durable_test.eq(
    (SELECT string_agg(concat_ws(' ', o, rc, status), ', ' ORDER BY o)
     FROM durable_test.batch),
    '1 0 6, 2 2 6, 3 2 6, 4 0 6, 5 6, 6 0 6, 7 2 6', 'as expected');
SELECT durable_test.eq(durable_test.state('many'), durable_test.state('one'),
                       'the records and messages');
SELECT durable_test.ok(strpos(durable_test.state('many'),
                              'new 6 1 Hello {"a":"x\"y"} ') > 0,
                       'the input kept');

-- a batch of refusals only makes no hub; an empty one does nothing
SELECT durable_test.eq(count(*), 1::bigint, 'one refusal')
    FROM durable.start_batch('nohub', ARRAY[''], ARRAY['x'], ARRAY[NULL],
                             ARRAY['"Name":"x"'], ARRAY[NULL], ARRAY[NULL]) s
    WHERE s.rc = 6;
SELECT durable_test.eq(durable.hub_partitions('nohub', false), NULL,
                       'no hub made');
SELECT durable_test.eq(count(*), 0::bigint, 'nothing')
    FROM durable.start_batch('many', '{}', '{}', '{}', '{}', '{}', '{}');

-- the counts agree with the rows
SELECT durable_test.eq(
    (SELECT string_agg(concat_ws(' ', c.class, c.code, sum), ',' ORDER BY
                       c.class, c.code)
     FROM (SELECT c.class, c.code, sum(c.n) FROM durable.counts c
           WHERE c.hub = 'many' GROUP BY c.class, c.code
           HAVING sum(c.n) <> 0) c),
    '0 6 4,1 0 4', 'the counts');

-- new ids only: one insert a table, the count trigger once, no start
-- alone
BEGIN;
SET LOCAL track_functions = 'pl';

SELECT durable_test.eq(string_agg(concat_ws(' ', s.rc, s.status), ','),
                       '0 6,0 6,0 6', 'three new')
    FROM durable.start_batch('many', ARRAY['n1', 'n2', 'n3'],
                             ARRAY['A', 'B', 'C'], ARRAY[NULL, '1', NULL],
                             ARRAY['"Name":"A"', '"Name":"B","Input":1',
                                   '"Name":"C"'],
                             ARRAY[NULL, NULL, NULL],
                             ARRAY[NULL, NULL, NULL]) s;
SELECT durable_test.eq(durable_test.calls('start_opts'), 0::bigint,
                       'no start alone');
SELECT durable_test.eq(durable_test.calls('count_instances'), 1::bigint,
                       'the instances'' count trigger, once');
COMMIT;

SELECT durable_test.ok(durable_test.state('many') LIKE
                       '%n2 6 1 B 1 1 t 1 ExecutionStarted {%'
                       || '"Name":"B","Input":1}%',
                       'a new one''s record and message');
