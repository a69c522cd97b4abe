-- a claim of orchestrations takes its instances in one scan of the ready
-- index, not one scan an instance (each from the front, past what it
-- took and what other claims hold), and still in order, the moot ones
-- taken out of the index, no more than its tokens, with the leases that
-- ran out counted

DO $$
DECLARE
    t0      bigint;
    scans   bigint;
    ids     text[];
    t1      bigint;
    tokens  bytea[];
    last    record;
BEGIN
    t0 := durable.now_us() - 1000000;

    PERFORM durable.start('hub', 'run' || g, 'Orch', NULL, '"Name":"Orch"')
        FROM generate_series(1, 6) g;
    PERFORM durable.start('hub', 'gone', 'Orch', NULL, '"Name":"Orch"');
    PERFORM durable.terminate('hub', 'gone', NULL);

    -- due in the order run1..run6 after the terminated one (moot: taken
    -- out of the index by the claim), which comes first; run2 holds a
    -- lease that ran out
    UPDATE durable.instances i SET ready_at = t0 + 10 * substr(i.id, 4)::int
        WHERE i.hub = 'hub' AND i.id LIKE 'run%';
    UPDATE durable.instances i SET lease = durable_test.lease(99),
                                   lease_expires = t0
        WHERE i.hub = 'hub' AND i.id = 'run2';
    UPDATE durable.instances i SET ready_at = t0
        WHERE i.hub = 'hub' AND i.id = 'gone';

    tokens := ARRAY(SELECT durable_test.lease(b)
                    FROM generate_series(1, 4) b);

    t1 := durable.now_us();
    scans := pg_stat_get_xact_numscans('durable.instances_ready'::regclass);

    CREATE TEMP TABLE got AS
        SELECT * FROM durable.claim_orchestrations('hub', 60000000, tokens,
                                                   NULL);

    scans := pg_stat_get_xact_numscans('durable.instances_ready'::regclass)
             - scans;

    ids := ARRAY(SELECT g.id FROM got g WHERE g.id IS NOT NULL);
    SELECT * INTO last FROM got g WHERE g.id IS NULL;

    PERFORM durable_test.eq(ids, ARRAY['run1', 'run2', 'run3', 'run4'],
                            'four claimed, in order, the moot one skipped');
    PERFORM durable_test.eq(ARRAY(SELECT g.lease FROM got g
                                  WHERE g.id IS NOT NULL),
                            tokens, 'the tokens in turn');
    PERFORM durable_test.eq(last.rc, 0, 'rc');
    PERFORM durable_test.eq(last.upto, 1::bigint, 'one lease ran out');
    PERFORM durable_test.ok(last.visible BETWEEN t1 + 1000000
                                AND durable.now_us() + 1000000,
                            'run5 is due: look again in a second, '
                            || last.visible - t1);
    PERFORM durable_test.eq((SELECT i.ready_at FROM durable.instances i
                             WHERE i.hub = 'hub' AND i.id = 'gone'),
                            0::bigint, 'the moot one is out of the index');
    PERFORM durable_test.eq((SELECT count(*) FROM durable.instances i
                             WHERE i.hub = 'hub' AND i.id LIKE 'run%'
                               AND i.lease = ANY (tokens)), 4::bigint,
                            'four leased');

    -- two rounds (the moot one took a place of the first) and the next
    -- due time: 3 where one scan an instance made 6
    PERFORM durable_test.ok(scans <= 3,
                            'scans of the ready index: ' || scans);
END
$$;
