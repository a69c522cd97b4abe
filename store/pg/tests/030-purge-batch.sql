-- purge by filter in batches: only terminal instances, at most max a
-- call, more while matches remain

DO $$
DECLARE
    i      integer;
    r      record;
    total  integer;
BEGIN
    FOR i IN 1..12 LOOP
        PERFORM durable.start('hub', 'p' || lpad(i::text, 2, '0'), 'N', NULL,
                              '');
    END LOOP;

    UPDATE durable.instances SET created = 100 * (id::text > 'p06')::int + 1
        WHERE hub = 'hub';

    FOR i IN 1..10 LOOP
        PERFORM durable.terminate('hub', 'p' || lpad(i::text, 2, '0'), NULL);
    END LOOP;

    UPDATE durable.instances SET status = 1 WHERE id IN ('p09', 'p10');

    -- Completed only, in the second half of time: p09, p10
    r := durable.purge_batch('hub', 50, 0, 1 << 1, 10);
    PERFORM durable_test.eq(r.rc, 0, 'purge Completed');
    PERFORM durable_test.eq(r.deleted, 2, 'two Completed');
    PERFORM durable_test.eq(r.more, false, 'none left');

    -- an active status in the mask deletes nothing active
    r := durable.purge_batch('hub', 0, 0, 1 << 6, 10);
    PERFORM durable_test.eq(r.deleted, 0, 'Pending is never purged');

    -- batches of 3 of the rest: 8 terminated
    total := 0;

    LOOP
        r := durable.purge_batch('hub', 0, 0, 0, 3);
        PERFORM durable_test.eq(r.rc, 0, 'batch rc');
        PERFORM durable_test.ok(r.deleted <= 3, 'at most max');
        total := total + r.deleted;
        EXIT WHEN NOT r.more;
        PERFORM durable_test.eq(r.deleted, 3, 'a full batch when more');
    END LOOP;

    PERFORM durable_test.eq(total, 8, 'every terminated one');
    PERFORM durable_test.eq(ARRAY(SELECT x.id FROM durable.instances x
                                  ORDER BY x.id),
                            ARRAY['p11', 'p12'], 'the active ones stay');
    PERFORM durable_test.eq((SELECT count(*) FROM durable.history
                             WHERE id NOT IN ('p11', 'p12')), 0::bigint,
                            'their history went with them');
END
$$;
