-- ngx_durable PostgreSQL schema: restart, history in chunks, recursive
-- terminate and purge, and the figures for monitoring. Conventions:
-- 00-common.sql.


-- DS_OP_RESTART: starts p_id with the name and input of p_from, as
-- durable.start() does (2 CONFLICT with the status of an active p_id);
-- 1 NOTFOUND when p_from does not exist. The ExecutionStarted members
-- are made here from the stored name: to_json() escapes a string as
-- ds_json_escape() does for the text a UTF-8 database can hold (control
-- characters as \b \f \n \r \t or \u00xx, nothing else), so the bytes are
-- the LMDB store's; t_pg_ops.c compares them.
CREATE OR REPLACE FUNCTION durable.restart(p_hub text, p_id text,
    p_from text, OUT rc integer, OUT status smallint, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    n    integer;
    src  durable.instances;
    s    record;
BEGIN
    IF NOT durable.valid_key(p_hub, p_from) THEN
        rc := 6;
        RETURN;
    END IF;

    n := durable.hub_partitions(p_hub, false);

    IF n IS NOT NULL THEN
        SELECT * INTO src FROM durable.instances i
            WHERE i.hub = p_hub AND i.partition = durable.partition_of(n, p_from)
              AND i.id = p_from;
    END IF;

    IF src.id IS NULL THEN
        rc := 1;
        RETURN;
    END IF;

    s := durable.start(p_hub, p_id, src.name, src.input,
                       '"Name":' || to_json(src.name)::text
                       || ',"Input":' || durable.json(src.input));
    rc := s.rc;
    status := s.status;
    error := s.error;
END
$$;


-- DS_OP_HISTORY (ds_history_chunk()): the events with seq >= p_from, at
-- most p_max_events of them and p_max_bytes of text (0: no bound; the
-- first is sent whatever its size), a row each; then the row of rc, with
-- next (the seq of the next chunk, 0 at the end), and the instance's
-- execution and status. 1 NOTFOUND, 6 INVALID.
CREATE OR REPLACE FUNCTION durable.history_chunk(p_hub text, p_id text,
    p_from bigint, p_max_events bigint, p_max_bytes bigint,
    OUT rc integer, OUT seq bigint, OUT event text, OUT next bigint,
    OUT execution bigint, OUT status smallint)
RETURNS SETOF record
LANGUAGE plpgsql STABLE AS $$
DECLARE
    n       integer;
    part    integer;
    events  bigint := 0;
    bytes   bigint := 0;
    inst    durable.instances;
    h       record;
BEGIN
    IF NOT durable.valid_key(p_hub, p_id) THEN
        rc := 6;
        RETURN NEXT;
        RETURN;
    END IF;

    n := durable.hub_partitions(p_hub, false);

    IF n IS NOT NULL THEN
        part := durable.partition_of(n, p_id);

        SELECT * INTO inst FROM durable.instances i
            WHERE i.hub = p_hub AND i.partition = part AND i.id = p_id;
    END IF;

    IF inst.id IS NULL THEN
        rc := 1;
        RETURN NEXT;
        RETURN;
    END IF;

    FOR h IN SELECT y.seq, y.event FROM durable.history y
             WHERE y.hub = p_hub AND y.partition = part AND y.id = p_id
               AND y.seq >= p_from
             ORDER BY y.seq
    LOOP
        IF events > 0
           AND ((p_max_events > 0 AND events = p_max_events)
                OR (p_max_bytes > 0
                    AND bytes + octet_length(h.event) > p_max_bytes))
        THEN
            next := h.seq;
            EXIT;
        END IF;

        seq := h.seq;
        event := h.event;
        RETURN NEXT;

        events := events + 1;
        bytes := bytes + octet_length(h.event);
    END LOOP;

    rc := 0;
    seq := NULL;
    event := NULL;
    next := coalesce(next, 0);
    execution := inst.execution;
    status := inst.status;
    RETURN NEXT;
END
$$;


-- the instances an instance's history says it started as
-- sub-orchestrations, in order (ds_children())
CREATE OR REPLACE FUNCTION durable.children(p_hub text, p_part integer,
    p_id text)
RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT ARRAY(
        SELECT c.child FROM (
            SELECT h.seq, (h.event::json) ->> 'InstanceId' AS child
            FROM durable.history h
            WHERE h.hub = p_hub AND h.partition = p_part AND h.id = p_id
              AND starts_with(h.event,
                      '{"EventType":"SubOrchestrationInstanceCreated"')) c
        WHERE c.child IS NOT NULL
        ORDER BY c.seq)
$$;


-- a child's record when it names p_parent as its parent (ds_child_of())
CREATE OR REPLACE FUNCTION durable.child_of(p_hub text, p_parent text,
    p_child text)
RETURNS durable.instances
LANGUAGE plpgsql STABLE AS $$
DECLARE
    n     integer;
    inst  durable.instances;
BEGIN
    IF NOT durable.valid_key(p_hub, p_child) THEN
        RETURN NULL;
    END IF;

    n := durable.hub_partitions(p_hub, false);

    SELECT * INTO inst FROM durable.instances i
        WHERE i.hub = p_hub AND i.partition = durable.partition_of(n, p_child)
          AND i.id = p_child AND i.parent_id = p_parent;

    RETURN inst;
END
$$;


-- an answer of a nested operation that failed becomes an error again, so
-- that the whole tree is rolled back by the caller's savepoint
CREATE OR REPLACE FUNCTION durable.reraise(p_rc integer, p_error text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_rc = 5 THEN
        RAISE EXCEPTION USING ERRCODE = 'disk_full',
                              MESSAGE = coalesce(p_error, 'disk full');
    ELSIF p_rc = 8 THEN
        RAISE EXCEPTION '%', coalesce(p_error, 'failed');
    END IF;
END
$$;


CREATE OR REPLACE FUNCTION durable.terminate_subtree(p_hub text,
    p_id text, p_reason text, p_depth integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n      integer;
    kids   text[];
    child  text;
    c      durable.instances;
    r      record;
BEGIN
    -- the children first: the history is read before it grows
    n := durable.hub_partitions(p_hub, false);

    IF n IS NOT NULL AND durable.valid_key(p_hub, p_id) THEN
        kids := durable.children(p_hub, durable.partition_of(n, p_id), p_id);
    END IF;

    r := durable.terminate(p_hub, p_id, p_reason);
    PERFORM durable.reraise(r.rc, r.error);

    IF r.rc <> 0 OR p_depth >= 16 OR kids IS NULL THEN
        RETURN r.rc;
    END IF;

    FOREACH child IN ARRAY kids LOOP
        c := durable.child_of(p_hub, p_id, child);

        IF c.id IS NOT NULL AND NOT durable.terminal(c.status) THEN
            PERFORM durable.terminate_subtree(p_hub, child, p_reason,
                                              p_depth + 1);
        END IF;
    END LOOP;

    RETURN 0;
END
$$;


-- ds_op_terminate_tree(): the instance, then the active
-- sub-orchestrations it started that still name it as parent, theirs,
-- 16 levels down; the answer is the instance's own
CREATE OR REPLACE FUNCTION durable.terminate_tree(p_hub text, p_id text,
    p_reason text, OUT rc integer, OUT error text)
LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        rc := durable.terminate_subtree(p_hub, p_id, p_reason, 0);

    EXCEPTION
        WHEN disk_full THEN
            rc := 5;
            error := SQLERRM;
        WHEN others THEN
            rc := 8;
            error := SQLERRM;
    END;
END
$$;


CREATE OR REPLACE FUNCTION durable.purge_subtree(p_hub text, p_id text,
    p_depth integer, OUT rc integer, OUT status smallint,
    OUT purged bigint)
LANGUAGE plpgsql AS $$
DECLARE
    kids   text[];
    child  text;
    c      durable.instances;
    l      record;
    r      record;
BEGIN
    purged := 0;
    l := durable.lock_active(p_hub, p_id);

    IF l.rc IN (1, 6) THEN
        rc := l.rc;
        RETURN;
    END IF;

    status := (l.inst).status;

    IF l.rc = 0 THEN
        rc := 4;
        RETURN;
    END IF;

    kids := durable.children(p_hub, l.part, p_id);

    r := durable.purge(p_hub, p_id);
    PERFORM durable.reraise(r.rc, r.error);
    rc := r.rc;

    IF rc <> 0 THEN
        RETURN;
    END IF;

    purged := 1;

    IF p_depth >= 16 THEN
        RETURN;
    END IF;

    FOREACH child IN ARRAY kids LOOP
        c := durable.child_of(p_hub, p_id, child);

        IF c.id IS NOT NULL AND durable.terminal(c.status) THEN
            r := durable.purge_subtree(p_hub, child, p_depth + 1);
            purged := purged + r.purged;
        END IF;
    END LOOP;
END
$$;


-- ds_op_purge_tree(): a terminal instance, then the terminal
-- sub-orchestrations it started, theirs, 16 levels down; active ones
-- stay. purged: how many were deleted. As durable.purge() otherwise.
CREATE OR REPLACE FUNCTION durable.purge_tree(p_hub text, p_id text,
    OUT rc integer, OUT status smallint, OUT purged bigint,
    OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    r  record;
BEGIN
    BEGIN
        r := durable.purge_subtree(p_hub, p_id, 0);
        rc := r.rc;
        status := r.status;
        purged := r.purged;

    EXCEPTION
        WHEN others THEN
            rc := 8;
            purged := 0;
            error := SQLERRM;
    END;
END
$$;


-- DS_OP_STATS: every count that is not 0 (schema/002-counts.sql), a row
-- each: class 0 instances by status, 1 ready entries by kind, with the
-- visible time of the kind's first entry (oldest), 2 timers; then the
-- row of rc. The slots of sessions that are gone are folded into slot 0
-- first, by one caller at a time, in a savepoint of its own: a fold that
-- fails leaves the counts as they were, and their sums the same.
CREATE OR REPLACE FUNCTION durable.stats(OUT rc integer, OUT hub text,
    OUT class smallint, OUT code smallint, OUT n bigint,
    OUT oldest bigint)
RETURNS SETOF record
LANGUAGE plpgsql AS $$
DECLARE
    c  record;
BEGIN
    BEGIN
        IF pg_try_advisory_xact_lock(hashtext('durable.counts')) THEN
            WITH gone AS (
                DELETE FROM durable.counts d
                    WHERE d.slot <> 0
                      AND d.slot NOT IN (SELECT a.pid
                                         FROM pg_stat_activity a
                                         WHERE a.pid IS NOT NULL)
                    RETURNING d.hub, d.class, d.code, d.n)
            INSERT INTO durable.counts AS t (hub, class, code, slot, n)
                SELECT g.hub, g.class, g.code, 0, sum(g.n) FROM gone g
                    GROUP BY g.hub, g.class, g.code
                    ORDER BY g.hub, g.class, g.code
                ON CONFLICT ON CONSTRAINT counts_pkey
                DO UPDATE SET n = t.n + excluded.n;

            DELETE FROM durable.counts d WHERE d.slot = 0 AND d.n = 0;
        END IF;

    EXCEPTION
        WHEN others THEN
            NULL;
    END;

    FOR c IN SELECT s.hub, s.class, s.code, sum(s.n)::bigint AS n
             FROM durable.counts s
             GROUP BY s.hub, s.class, s.code
             HAVING sum(s.n) <> 0
             ORDER BY s.hub, s.class, s.code
    LOOP
        hub := c.hub;
        class := c.class;
        code := c.code;
        n := c.n;
        oldest := NULL;

        IF c.class = 1 AND c.code = 0 THEN
            SELECT min(i.ready_at) INTO oldest FROM durable.instances i
                WHERE i.hub = c.hub AND i.ready_at > 0;
        ELSIF c.class = 1 AND c.code = 1 THEN
            SELECT min(a.ready_at) INTO oldest FROM durable.activities a
                WHERE a.hub = c.hub AND a.ready_at > 0;
        ELSIF c.class = 1 AND c.code = 2 THEN
            SELECT min(e.ready_at) INTO oldest FROM durable.entities e
                WHERE e.hub = c.hub AND e.ready_at > 0;
        END IF;

        RETURN NEXT;
    END LOOP;

    rc := 0;
    hub := NULL;
    class := NULL;
    code := NULL;
    n := NULL;
    oldest := NULL;
    RETURN NEXT;
END
$$;
