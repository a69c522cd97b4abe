-- orchestration claims, renewals and abandons: leases fenced by token and
-- timed by the database clock, FOR UPDATE SKIP LOCKED between claimers

-- claims (durable.claim_orchestrations) end with a row of id NULL; these
-- wrappers keep the items and that row apart
CREATE FUNCTION durable_test.claim(p_tokens bytea[], p_lease_us bigint,
    p_names text[] DEFAULT NULL)
RETURNS SETOF record
LANGUAGE sql AS $$
    SELECT c.id, c.upto, c.messages, c.history, c.lease, c.lease_expires,
           c.episode_at, c.status, c.name
    FROM durable.claim_orchestrations('hub', p_lease_us, p_tokens, p_names) c
    WHERE c.id IS NOT NULL
$$;

CREATE FUNCTION durable_test.claimed_ids(p_tokens bytea[],
    p_lease_us bigint, p_names text[] DEFAULT NULL)
RETURNS text[]
LANGUAGE sql AS $$
    SELECT ARRAY(SELECT c.id FROM durable.claim_orchestrations('hub',
                     p_lease_us, p_tokens, p_names) c
                 WHERE c.id IS NOT NULL ORDER BY c.id)
$$;

DO $$
DECLARE
    r     record;
    e     record;
    s     record;
    t0    bigint;
    hour  bigint := 3600000000;
BEGIN
    PERFORM durable.start('hub', 'a', 'A', '1', '"Name":"A","Input":1');
    t0 := durable.now_us();

    -- a claim takes the lease and the messages up to now
    SELECT * INTO r FROM durable.claim_orchestrations('hub', hour,
        ARRAY[durable_test.lease(1)], NULL) c WHERE c.id IS NOT NULL;
    PERFORM durable_test.eq(r.id, 'a', 'claimed a');
    PERFORM durable_test.eq(r.upto, 1::bigint, 'upto the start message');
    PERFORM durable_test.eq(cardinality(r.messages), 1, 'one message');
    PERFORM durable_test.eq(durable_test.ev(r.messages[1]),
                            'ExecutionStarted {"Name":"A","Input":1}',
                            'the start message');
    PERFORM durable_test.eq(r.lease, durable_test.lease(1), 'its token');
    PERFORM durable_test.eq(r.status, 6::smallint, 'Pending until completed');
    PERFORM durable_test.eq(r.name, 'A', 'name');
    PERFORM durable_test.eq(r.input, '1', 'input');
    PERFORM durable_test.ok(r.episode_at >= t0, 'the episode clock');
    PERFORM durable_test.eq(r.lease_expires, r.episode_at + hour,
                            'expires after the lease');

    s := durable.status('hub', 'a', false);
    PERFORM durable_test.eq(s.lease, durable_test.lease(1), 'lease stored');
    PERFORM durable_test.eq(s.ready_at, r.lease_expires,
                            'ready again when the lease runs out');
    PERFORM durable_test.eq(s.lease_upto, 1::bigint, 'upto stored');

    -- leased: not claimable; the end row says when it becomes visible
    SELECT * INTO e FROM durable.claim_orchestrations('hub', hour,
        ARRAY[durable_test.lease(2)], NULL) c;
    PERFORM durable_test.eq(e.id, NULL::text, 'nothing to claim');
    PERFORM durable_test.eq(e.rc, 0, 'claim rc');
    PERFORM durable_test.eq(e.visible, r.lease_expires, 'visible at expiry');

    -- a message under the lease waits for the next episode
    PERFORM durable.raise_event('hub', 'a', '"Name":"e","Input":null');
    PERFORM durable_test.eq((durable.status('hub', 'a', false)).ready_at,
                            r.lease_expires, 'a message keeps the lease');

    -- renew: the current token only
    PERFORM durable_test.eq((durable.renew_orchestration('hub', 'a',
                             durable_test.lease(9), hour)).rc, 2,
                            'renew with another token');
    PERFORM durable_test.eq((durable.renew_orchestration('hub', 'a',
                             durable_test.lease(0), hour)).rc, 2,
                            'renew with no token');
    PERFORM durable_test.eq((durable.renew_orchestration('hub', 'zz',
                             durable_test.lease(1), hour)).rc, 1,
                            'renew of nothing');
    PERFORM durable_test.eq((durable.renew_orchestration('hub', 'a',
                             durable_test.lease(1), 0)).rc, 6,
                            'renew for 0 µs');
    s := durable.renew_orchestration('hub', 'a', durable_test.lease(1),
                                     2 * hour);
    PERFORM durable_test.eq(s.rc, 0, 'renew');
    PERFORM durable_test.ok(s.expires > r.lease_expires, 'later expiry');
    PERFORM durable_test.eq((durable.status('hub', 'a', false)).ready_at,
                            s.expires, 'the entry moves with it');

    -- abandon: the current token only; then claimable at once, with the
    -- message that came meanwhile
    PERFORM durable_test.eq((durable.abandon_orchestration('hub', 'a',
                             durable_test.lease(9))).rc, 2,
                            'abandon with another token');
    PERFORM durable_test.eq((durable.abandon_orchestration('hub', 'a',
                             durable_test.lease(1))).rc, 0, 'abandon');
    PERFORM durable_test.eq((durable.abandon_orchestration('hub', 'a',
                             durable_test.lease(1))).rc, 2,
                            'abandon again: the token is gone');

    SELECT * INTO r FROM durable.claim_orchestrations('hub', hour,
        ARRAY[durable_test.lease(3)], NULL) c WHERE c.id IS NOT NULL;
    PERFORM durable_test.eq(r.id, 'a', 'claimable after abandon');
    PERFORM durable_test.eq(r.upto, 2::bigint, 'with both messages');
    PERFORM durable_test.eq(cardinality(r.messages), 2, 'two messages');
END
$$;


-- what is not handed out: suspended, terminal, nothing in the inbox, and
-- names not asked for; bad arguments

DO $$
DECLARE
    hour  bigint := 3600000000;
    toks  bytea[];
BEGIN
    DELETE FROM durable.instances;
    DELETE FROM durable.inbox;

    PERFORM durable.start('hub', 'run', 'Run', NULL, '');
    PERFORM durable.start('hub', 'sus', 'Run', NULL, '');
    PERFORM durable.start('hub', 'end', 'Run', NULL, '');
    PERFORM durable.start('hub', 'idle', 'Run', NULL, '');
    PERFORM durable.start('hub', 'other', 'Other', NULL, '');
    PERFORM durable.suspend('hub', 'sus', NULL);
    PERFORM durable.terminate('hub', 'end', NULL);
    DELETE FROM durable.inbox WHERE id = 'idle';
    -- a terminal one that is still in the index, as after a crash
    UPDATE durable.instances SET ready_at = 1 WHERE id = 'end';

    toks := ARRAY[durable_test.lease(1), durable_test.lease(2),
                  durable_test.lease(3), durable_test.lease(4)];

    PERFORM durable_test.eq(durable_test.claimed_ids(toks, hour,
                            ARRAY['Run']), ARRAY['run'],
                            'only runnable items of the names asked');
    PERFORM durable_test.eq((SELECT array_agg(id ORDER BY id)
                             FROM durable.instances WHERE ready_at > 0),
                            ARRAY['other', 'run'],
                            'idle and terminal entries left the index');
    -- what a filtered claim says about later work: not the other
    -- names' entries, which are due now
    PERFORM durable_test.ok((SELECT c.visible FROM
                             durable.claim_orchestrations('hub', hour, toks,
                                                          ARRAY['Run']) c)
                            > durable.now_us() + hour / 2,
                            'visible: the lease of run, not other');
    PERFORM durable_test.eq(durable_test.claimed_ids(toks, hour),
                            ARRAY['other'], 'then the other name');

    -- bad arguments: INVALID
    PERFORM durable_test.eq((SELECT c.rc FROM durable.claim_orchestrations(
                             'hub', hour, ARRAY[durable_test.lease(0)], NULL)
                             c), 6, 'an all-zero token');
    PERFORM durable_test.eq((SELECT c.rc FROM durable.claim_orchestrations(
                             'hub', hour, ARRAY['\x01'::bytea], NULL) c), 6,
                            'a short token');
    PERFORM durable_test.eq((SELECT c.rc FROM durable.claim_orchestrations(
                             'hub', 0, toks, NULL) c), 6, 'a lease of 0');

    -- a suspended instance's lease can be renewed; it stays out of the
    -- index
    PERFORM durable.suspend('hub', 'run', NULL);
    PERFORM durable_test.eq((durable.renew_orchestration('hub', 'run',
                             durable_test.lease(1), hour)).rc, 0,
                            'renew suspended');
    PERFORM durable_test.eq((durable.status('hub', 'run', false)).ready_at,
                            0::bigint, 'still out of the index');
    PERFORM durable_test.eq((durable.abandon_orchestration('hub', 'run',
                             durable_test.lease(1))).rc, 0,
                            'abandon suspended');
    PERFORM durable_test.eq((durable.status('hub', 'run', false)).ready_at,
                            0::bigint, 'and out of it after abandon');
END
$$;


-- the database clock times leases: an expired lease makes the item
-- claimable under a new token, and the old token is stale

DO $$
DECLARE
    r  record;
BEGIN
    DELETE FROM durable.instances;
    DELETE FROM durable.inbox;
    PERFORM durable.start('hub', 'x', 'X', NULL, '');

    PERFORM durable_test.eq(durable_test.claimed_ids(
                            ARRAY[durable_test.lease(1)], 1000),
                            ARRAY['x'], 'a lease of 1 ms');
    PERFORM pg_sleep(0.05);
    PERFORM durable_test.eq(durable_test.claimed_ids(
                            ARRAY[durable_test.lease(2)], 3600000000),
                            ARRAY['x'], 'claimed again after it ran out');
    PERFORM durable_test.eq((durable.renew_orchestration('hub', 'x',
                             durable_test.lease(1), 1000)).rc, 2,
                            'the old token is stale');
END
$$;


-- due timers fire at the claim: a TimerFired message, the instance ready

DO $$
DECLARE
    r     record;
    part  integer;
BEGIN
    DELETE FROM durable.instances;
    DELETE FROM durable.inbox;
    PERFORM durable.start('hub', 't', 'T', NULL, '');
    UPDATE durable.instances SET ready_at = 0 WHERE id = 't';
    DELETE FROM durable.inbox WHERE id = 't';
    part := durable_test.part('hub', 't');

    INSERT INTO durable.timers VALUES
        ('hub', part, 't', 4, 1000000, 1520690251123456),
        ('hub', part, 't', 5, durable.now_us() + 3600000000, 0);

    SELECT * INTO r FROM durable.claim_orchestrations('hub', 60000000,
        ARRAY[durable_test.lease(1)], NULL) c WHERE c.id IS NOT NULL;
    PERFORM durable_test.eq(r.id, 't', 'claimed by its timer');
    PERFORM durable_test.eq(durable_test.ev(r.messages[1]),
                            'TimerFired {"TimerId":4,'
                            '"FireAt":"2018-03-10T13:57:31.123456Z"}',
                            'TimerFired');
    PERFORM durable_test.eq((SELECT array_agg(timer_id) FROM durable.timers),
                            ARRAY[5::bigint], 'the future timer waits');
END
$$;


-- FOR UPDATE SKIP LOCKED: what another transaction is claiming is passed
-- over, not waited for

CREATE EXTENSION dblink;

DO $$
BEGIN
    DELETE FROM durable.instances;
    DELETE FROM durable.inbox;
    PERFORM durable.start('hub', 'k1', 'K', NULL, '');
    PERFORM durable.start('hub', 'k2', 'K', NULL, '');
    UPDATE durable.instances SET ready_at = 1 WHERE id = 'k1';
    UPDATE durable.instances SET ready_at = 2 WHERE id = 'k2';
END
$$;

DO $$
DECLARE
    n  integer;
BEGIN
    PERFORM durable_test.sessions(ARRAY['other']);
    PERFORM dblink_exec('other', 'BEGIN');
    SELECT count(*) INTO n FROM dblink('other',
        'SELECT id FROM durable.claim_orchestrations(''hub'', 60000000, '
        || 'ARRAY[''\x' || repeat('07', 16) || '''::bytea], NULL) '
        || 'WHERE id IS NOT NULL') AS t(id text);
    PERFORM durable_test.eq(n, 1, 'the other session claimed one');

    SET LOCAL lock_timeout = '5s';
    PERFORM durable_test.eq(durable_test.claimed_ids(
                            ARRAY[durable_test.lease(1),
                                  durable_test.lease(2)], 60000000),
                            ARRAY['k2'],
                            'the row it holds is skipped, not waited for');

    PERFORM dblink_exec('other', 'ROLLBACK');
    PERFORM durable_test.disconnect(ARRAY['other']);
END
$$;
