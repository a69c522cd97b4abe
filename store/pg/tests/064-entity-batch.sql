-- One lease's batch of an entity (claim_entities): at most 5,000
-- operations, and past the first at most 2 MiB of them with the state,
-- as DS_ENTITY_BATCH_OPS and _BYTES in ds_entity.c; the rest is claimed
-- after the completion.

-- the operations of the batch claimed under lease p_n, and its completion
-- leaving the state p_state
CREATE FUNCTION durable_test.batch(p_eid text, p_n integer,
    p_state text DEFAULT '1') RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    ops  bigint;
BEGIN
    SELECT cardinality(c.operations) INTO ops
        FROM durable.claim_entities('hub', 60000000,
                                    ARRAY[durable_test.lease(p_n)], NULL) c
        WHERE c.id = p_eid;

    PERFORM durable_test.eq(rc, 0, 'completed ' || p_n)
        FROM durable.complete_entity('hub', p_eid, durable_test.lease(p_n),
                                     p_n, false, p_state, '{}', '{}');
    RETURN ops;
END
$$;

-- signals p_n times, a statement each (as the module sends them)
CREATE FUNCTION durable_test.signals(p_eid text, p_members text,
    p_n integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. p_n LOOP
        PERFORM durable_test.eq(s.rc, 0, 'a signal')
            FROM durable.entity_signal('hub', p_eid, p_members) s;
    END LOOP;
END
$$;

SELECT durable_test.signals('@many@k', '"operation":"add","input":1', 5001);
SELECT durable_test.eq(durable_test.batch('@many@k', 1), 5000::bigint,
                       'a batch of 5,000');
SELECT durable_test.eq(durable_test.batch('@many@k', 2), 1::bigint,
                       'then the one left');

-- inputs of 900,000 bytes: two a batch
SELECT durable_test.signals('@large@k',
    '"operation":"add","input":"' || repeat('x', 900000) || '"', 3);
SELECT durable_test.eq(durable_test.batch('@large@k', 3), 2::bigint,
                       'two large ones');
SELECT durable_test.eq(durable_test.batch('@large@k', 4), 1::bigint,
                       'then the third');

-- one of 3 MiB goes alone
SELECT durable_test.eq(s.rc, 0, 'a huge signal')
    FROM durable.entity_signal('hub', '@huge@k',
        '"operation":"add","input":"' || repeat('x', 3145728) || '"') s;
SELECT durable_test.eq(s.rc, 0, 'a small one after it')
    FROM durable.entity_signal('hub', '@huge@k',
                               '"operation":"add","input":1') s;
SELECT durable_test.eq(durable_test.batch('@huge@k', 5), 1::bigint,
                       'the huge one alone');
SELECT durable_test.eq(durable_test.batch('@huge@k', 6), 1::bigint,
                       'then the small one');

-- a state of 1.5 MB counts: with it, one of 900 KB a batch
SELECT durable_test.signals('@stateful@k', '"operation":"add","input":1', 1);
SELECT durable_test.eq(durable_test.batch('@stateful@k', 7,
                           '"' || repeat('x', 1500000) || '"'),
                       1::bigint, 'the state set');
SELECT durable_test.signals('@stateful@k',
    '"operation":"add","input":"' || repeat('x', 900000) || '"', 2);
SELECT durable_test.eq(durable_test.batch('@stateful@k', 8), 1::bigint,
                       'one large one with the state');
SELECT durable_test.eq(durable_test.batch('@stateful@k', 9), 1::bigint,
                       'then the other');
