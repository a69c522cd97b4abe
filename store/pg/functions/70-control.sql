-- ngx_durable PostgreSQL schema: restart, history in chunks, recursive
-- terminate and purge, and the figures for monitoring. Conventions:
-- 00-common.sql.
-- By hand, run it only with `psql -1 -v ON_ERROR_STOP=1 -f` (as `durable
-- schema` does): a plain `psql -f` goes on past an error (docs/postgres.md).


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
            WHERE i.hub = p_hub
              AND i.partition = durable.partition_of(n, p_from)
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
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN ARRAY(
        SELECT c.child FROM (
            SELECT h.seq, (h.event::json) ->> 'InstanceId' AS child
            FROM durable.history h
            WHERE h.hub = p_hub AND h.partition = p_part AND h.id = p_id
              AND starts_with(h.event,
                      '{"EventType":"SubOrchestrationInstanceCreated"')) c
        WHERE c.child IS NOT NULL
        ORDER BY c.seq);
END
$$;


-- its first form, without the parent's created time (level 5 and below)
DROP FUNCTION IF EXISTS durable.child_of(text, text, text);

-- dsi_parent_is(): whether p_child's record was started by the life of
-- its parent created at p_created. An id purged and started again is
-- another life, whose tree walks must not take the old life's children,
-- which still name the id. A child that keeps no created time (started
-- before schema version 9, or on a database below it) goes by the id
-- alone, as does a p_created of NULL or 0.
CREATE OR REPLACE FUNCTION durable.child_of_life(p_child durable.instances,
    p_created bigint)
RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    created  bigint;
BEGIN
    IF p_created IS NULL OR p_created = 0 THEN
        RETURN true;
    END IF;

    created := durable.parent_created_of(p_child);

    RETURN created IS NULL OR created = p_created;
END
$$;


-- a child's record when it names p_parent, created at p_created, as its
-- parent (ds_child_of())
CREATE OR REPLACE FUNCTION durable.child_of(p_hub text, p_parent text,
    p_created bigint, p_child text)
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

    IF NOT FOUND OR NOT durable.child_of_life(inst, p_created) THEN
        RETURN NULL;
    END IF;

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
    n        integer;
    kids     text[];
    child    text;
    created  bigint;
    c        durable.instances;
    r        record;
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

    -- the life of the id that started them (a termination keeps it)
    SELECT i.created INTO created FROM durable.instances i
        WHERE i.hub = p_hub AND i.partition = durable.partition_of(n, p_id)
          AND i.id = p_id;

    FOREACH child IN ARRAY kids LOOP
        c := durable.child_of(p_hub, p_id, created, child);

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
            IF durable.transient(SQLSTATE) THEN
                RAISE;
            END IF;
            rc := 8;
            error := SQLERRM;
    END;
END
$$;


-- its first form, recursive, in databases of schema 7 made before this
-- one (no table changed: no upgrade file)
DROP FUNCTION IF EXISTS durable.purge_gather(text, text, integer, integer[],
                                             text[]);

-- the instances a tree purge deletes, in parts and ids: p_id, locked,
-- then level by level the terminal sub-orchestrations the level above
-- started, theirs, 16 levels down, each once and locked after its
-- parent; active ones stay, and what they started. rc and status as
-- durable.purge() answers for p_id; parts and ids with rc 0 only.
--
-- A level's children are one query over its instances' histories (each
-- listed once however often its parent's history names it), so a tree
-- costs time linear in its size. A child must name its parent
-- (parent_id), so each instance has one place in the tree: only p_id,
-- whose own parent is not checked, could come again, and is left out.
-- It must also have been started by the parent's life of now
-- (durable.child_of_life()): not by one before the id was purged.
CREATE OR REPLACE FUNCTION durable.purge_gather(p_hub text, p_id text,
    OUT rc integer, OUT status smallint, OUT parts integer[],
    OUT ids text[])
LANGUAGE plpgsql AS $$
DECLARE
    n       integer;
    depth   integer;
    l       record;
    k       record;
    lparts  integer[];
    lids    text[];
    nparts  integer[];
    nids    text[];
BEGIN
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

    rc := 0;
    n := durable.hub_partitions(p_hub, false);
    parts := ARRAY[l.part];
    ids := ARRAY[p_id];
    lparts := parts;
    lids := ids;

    FOR depth IN 1..16 LOOP
        EXIT WHEN cardinality(lids) = 0;

        nparts := '{}';
        nids := '{}';

        -- in the order of the parents, then of each one's history
        FOR k IN
            SELECT c.child FROM (
                SELECT DISTINCT ON (e.child) e.child, e.pos, e.seq
                FROM (
                    SELECT f.pos, f.id AS parent, p.created, h.seq,
                           (h.event::json) ->> 'InstanceId' AS child
                    FROM unnest(lparts, lids) WITH ORDINALITY
                             AS f(part, id, pos)
                    JOIN durable.instances p
                      ON p.hub = p_hub AND p.partition = f.part
                         AND p.id = f.id
                    JOIN durable.history h
                      ON h.hub = p_hub AND h.partition = f.part
                         AND h.id = f.id
                    WHERE starts_with(h.event,
                        '{"EventType":"SubOrchestrationInstanceCreated"')) e
                JOIN durable.instances i
                  ON i.hub = p_hub
                     AND i.partition = durable.partition_of(n, e.child)
                     AND i.id = e.child AND i.parent_id = e.parent
                WHERE durable.valid_key(p_hub, e.child) AND e.child <> p_id
                  AND durable.terminal(i.status)
                  AND durable.child_of_life(i, e.created)
                ORDER BY e.child, e.pos, e.seq) c
            ORDER BY c.pos, c.seq
        LOOP
            l := durable.lock_active(p_hub, k.child);

            -- terminal still, now that it is locked
            IF l.rc = 3 THEN
                nparts := nparts || l.part;
                nids := nids || k.child;
            END IF;
        END LOOP;

        parts := parts || nparts;
        ids := ids || nids;
        lparts := nparts;
        lids := nids;
    END LOOP;
END
$$;


-- ds_op_purge_tree(): a terminal instance, then the terminal
-- sub-orchestrations it started, theirs, 16 levels down; active ones
-- stay. purged: how many were deleted, all at once (remove_set()). As
-- durable.purge() otherwise.
CREATE OR REPLACE FUNCTION durable.purge_tree(p_hub text, p_id text,
    OUT rc integer, OUT status smallint, OUT purged bigint,
    OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    r  record;
BEGIN
    BEGIN
        r := durable.purge_gather(p_hub, p_id);
        rc := r.rc;
        status := r.status;
        purged := 0;

        IF rc = 0 THEN
            purged := durable.remove_set(p_hub, r.parts, r.ids);
        END IF;

    EXCEPTION
        WHEN others THEN
            IF durable.transient(SQLSTATE) THEN
                RAISE;
            END IF;
            rc := 8;
            purged := 0;
            error := SQLERRM;
    END;
END
$$;


-- DS_OP_STATS: every count that is not 0 (schema/003-counts.sql), a row
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


-- One event of a history as rewind reads it (ds_hev_parse()): NULL when
-- it is not a JSON object with a string EventType (such an event is not
-- ours to judge and stays as it is). id: TaskScheduledId, else TimerId,
-- else EventId, -1 when not an integer; strings decoded; input: the JSON
-- text of Input, NULL for null or none.
CREATE OR REPLACE FUNCTION durable.rewind_event(p_event text,
    OUT type text, OUT id bigint, OUT failed boolean, OUT name text,
    OUT input text, OUT fire_at text, OUT instance text)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    j  json;
    v  json;
BEGIN
    BEGIN
        j := p_event::json;
    EXCEPTION
        WHEN others THEN
            RETURN;
    END;

    IF json_typeof(j) IS DISTINCT FROM 'object'
       OR json_typeof(j -> 'EventType') IS DISTINCT FROM 'string'
    THEN
        RETURN;
    END IF;

    type := j ->> 'EventType';
    v := coalesce(j -> 'TaskScheduledId', j -> 'TimerId', j -> 'EventId');
    id := CASE WHEN v::text ~ '^-?[0-9]{1,18}$' THEN v::text::bigint
               ELSE -1 END;
    failed := coalesce((j -> 'OrchestrationStatus')::text = '3', false);

    IF json_typeof(j -> 'Name') = 'string' THEN
        name := j ->> 'Name';
    END IF;

    IF json_typeof(j -> 'FireAt') = 'string' THEN
        fire_at := j ->> 'FireAt';
    END IF;

    IF json_typeof(j -> 'InstanceId') = 'string' THEN
        instance := j ->> 'InstanceId';
    END IF;

    input := nullif((j -> 'Input')::text, 'null');
END
$$;


-- a time as the store writes it (ds_time_parse()), µs; NULL when it is
-- not one
CREATE OR REPLACE FUNCTION durable.time_us(p_text text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p_text !~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?Z$' THEN
        RETURN NULL;
    END IF;

    RETURN (extract(epoch FROM p_text::timestamptz) * 1000000)::bigint;
EXCEPTION
    WHEN others THEN
        RETURN NULL;
END
$$;


-- a message to a Failed instance that rewind makes Running again: in
-- the inbox, the counter moved (ds_inbox_reserve()): the same as
-- durable.inbox_push()
CREATE OR REPLACE FUNCTION durable.rewind_push(p_hub text, p_part integer,
    p_id text, p_message text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM durable.inbox_push(p_hub, p_part, p_id, p_message);
END
$$;


-- valid JSON text without the whitespace between its tokens, as
-- dsi_json_minify() leaves it (the LMDB rewind reads its events so): the
-- strings are matched whole, escapes and all, and kept as they are
CREATE OR REPLACE FUNCTION durable.json_minify(p_json text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT regexp_replace(p_json, '("(?:[^"\\]|\\.)*")|[ \t\n\r]+',
                          '\1', 'g')
$$;


-- a stored event's CriticalSectionId and LockSet when its type is
-- p_type; NULLs for any other event, or for one that is not JSON
CREATE OR REPLACE FUNCTION durable.lock_event(p_event text, p_type text,
    OUT cs text, OUT lockset json)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    j  json;
BEGIN
    IF durable.event_type(p_event) IS DISTINCT FROM p_type THEN
        RETURN;
    END IF;

    BEGIN
        j := p_event::json;
    EXCEPTION
        -- not JSON, as durable.event_type() has it
        WHEN invalid_text_representation OR untranslatable_character
             OR statement_too_complex
        THEN
            RETURN;
    END;

    IF json_typeof(j) IS DISTINCT FROM 'object' THEN
        RETURN;
    END IF;

    IF json_typeof(j -> 'CriticalSectionId') = 'string' THEN
        cs := j ->> 'CriticalSectionId';
    END IF;

    lockset := j -> 'LockSet';
END
$$;


-- dsi_entity_lock_pending(): whether p_owner's lock request for the
-- critical section p_cs is still on its way. A request goes through its
-- set in order, so it is when the set's first entity p_eid is locked for
-- it, or holds it in its queue; else it was granted, or released as no
-- one took it.
CREATE OR REPLACE FUNCTION durable.entity_lock_pending(p_hub text,
    p_eid text, p_owner text, p_cs text)
RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    part  integer;
BEGIN
    part := durable.partition_of(durable.hub_partitions(p_hub, false),
                                 p_eid);

    RETURN EXISTS (SELECT 1 FROM durable.entities e
                   WHERE e.hub = p_hub AND e.partition = part
                     AND e.id = p_eid AND e.owner = p_owner
                     AND e.cs = p_cs)
        OR EXISTS (SELECT 1 FROM durable.entity_ops o
                   WHERE o.hub = p_hub AND o.partition = part
                     AND o.id = p_eid
                     AND CASE WHEN o.operation LIKE '{"lock":%'
                              THEN o.operation::json ->> 'lock' = p_cs
                                   AND o.operation::json
                                       ->> 'parentInstanceId' = p_owner
                              ELSE false END);
END
$$;


-- dsi_rewind(): see ds_orchestration_rewind.c. Errors are raised, for
-- the caller's savepoint; the answer is rc: 1 NOTFOUND, 3 GONE (another
-- terminal status), 4 PRECONDITION (active), 6 INVALID.
CREATE OR REPLACE FUNCTION durable.rewind_one(p_hub text, p_id text,
    p_reason text, p_now bigint, p_depth integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n        integer;
    part     integer;
    rc       integer;
    pending  boolean := false;
    inst     durable.instances;
    c        durable.instances;
    e        record;
    s        record;
    members  text;
    msg      text;
    opts     boolean;
    ver      text;
    tg       text;
    lk       record;
    eids     text[] := ARRAY[]::text[];
    locks    text[] := ARRAY[]::text[];
BEGIN
    IF NOT durable.valid_key(p_hub, p_id) THEN
        RETURN 6;
    END IF;

    n := durable.hub_partitions(p_hub, false);

    IF n IS NULL THEN
        RETURN 1;
    END IF;

    part := durable.partition_of(n, p_id);

    SELECT * INTO inst FROM durable.instances i
        WHERE i.hub = p_hub AND i.partition = part AND i.id = p_id
        FOR UPDATE;

    IF NOT FOUND THEN
        RETURN 1;
    END IF;

    IF inst.status <> 3 THEN
        RETURN CASE WHEN durable.terminal(inst.status) THEN 3 ELSE 4 END;
    END IF;

    CREATE TEMP TABLE IF NOT EXISTS durable_rewind (
        depth integer, seq bigint, type text, id bigint, failed boolean,
        name text, input text, fire_at text, instance text
    ) ON COMMIT DROP;

    DELETE FROM durable_rewind r WHERE r.depth = p_depth;

    INSERT INTO durable_rewind
        SELECT p_depth, h.seq, v.type, v.id, v.failed, v.name, v.input,
               v.fire_at, v.instance
        FROM durable.history h, durable.rewind_event(h.event) v
        WHERE h.hub = p_hub AND h.partition = part AND h.id = p_id
          AND v.type IS NOT NULL;

    -- results that came while the failing episode ran: what they answer
    -- is scheduled again below, so they go (else a task would get two);
    -- an entity's answer stays, as no call is sent again
    PERFORM durable.inbox_drop_answers(p_hub, part, p_id, 1, false);

    -- the failure leaves the history
    DELETE FROM durable.history h
        USING durable_rewind r
        WHERE h.hub = p_hub AND h.partition = part AND h.id = p_id
          AND r.depth = p_depth AND r.seq = h.seq
          AND (r.type IN ('TaskFailed', 'SubOrchestrationInstanceFailed')
               OR (r.type = 'ExecutionCompleted' AND r.failed));

    DELETE FROM durable_rewind r
        WHERE r.depth = p_depth
          AND (r.type IN ('TaskFailed', 'SubOrchestrationInstanceFailed')
               OR (r.type = 'ExecutionCompleted' AND r.failed));

    -- what is pending is scheduled again
    FOR e IN SELECT * FROM durable_rewind r
             WHERE r.depth = p_depth AND r.id >= 0
               AND r.type IN ('TaskScheduled', 'TimerCreated',
                              'SubOrchestrationInstanceCreated')
               AND NOT EXISTS (
                   SELECT 1 FROM durable_rewind x
                   WHERE x.depth = p_depth AND x.id = r.id
                     AND x.type = CASE r.type
                         WHEN 'TaskScheduled' THEN 'TaskCompleted'
                         WHEN 'TimerCreated' THEN 'TimerFired'
                         ELSE 'SubOrchestrationInstanceCompleted' END)
             ORDER BY r.seq
    LOOP
        IF e.type = 'TaskScheduled' THEN
            CONTINUE WHEN coalesce(e.name, '') = '';

            IF opts IS NULL THEN
                opts := durable.activity_options();
            END IF;

            IF opts THEN
                -- the event's Version (a string, empty none) and Tags
                -- (an object, as its text), as the LMDB rewind reads them
                SELECT CASE WHEN json_typeof(x.j -> 'Version') = 'string'
                            THEN nullif(x.j ->> 'Version', '') END,
                       CASE WHEN json_typeof(x.j -> 'Tags') = 'object'
                            THEN durable.json_minify((x.j -> 'Tags')::text)
                       END
                    INTO ver, tg
                    FROM (SELECT h.event::json AS j FROM durable.history h
                          WHERE h.hub = p_hub AND h.partition = part
                            AND h.id = p_id AND h.seq = e.seq) x;

                INSERT INTO durable.activities AS a (hub, partition, id,
                        task_id, name, input, ready_at, version, tags)
                    VALUES (p_hub, part, p_id, e.id, e.name, e.input,
                            greatest(p_now, 1), ver, tg)
                    ON CONFLICT ON CONSTRAINT activities_pkey
                    DO UPDATE SET done = false, name = excluded.name,
                        input = excluded.input, ready_at = excluded.ready_at,
                        lease = NULL, lease_expires = 0, done_digest = 0,
                        version = excluded.version, tags = excluded.tags;
            ELSE
                INSERT INTO durable.activities AS a (hub, partition, id,
                        task_id, name, input, ready_at)
                    VALUES (p_hub, part, p_id, e.id, e.name, e.input,
                            greatest(p_now, 1))
                    ON CONFLICT ON CONSTRAINT activities_pkey
                    DO UPDATE SET done = false, name = excluded.name,
                        input = excluded.input, ready_at = excluded.ready_at,
                        lease = NULL, lease_expires = 0, done_digest = 0;
            END IF;

            pending := true;

        ELSIF e.type = 'TimerCreated' THEN
            CONTINUE WHEN durable.time_us(e.fire_at) IS NULL;

            INSERT INTO durable.timers AS t (hub, partition, id, timer_id,
                    due, fire_at)
                VALUES (p_hub, part, p_id, e.id, durable.time_us(e.fire_at),
                        durable.time_us(e.fire_at))
                ON CONFLICT ON CONSTRAINT timers_pkey
                DO UPDATE SET due = excluded.due, fire_at = excluded.fire_at;
            pending := true;

        ELSE
            -- a sub-orchestration without a result
            CONTINUE WHEN NOT durable.valid_key(p_hub, e.instance);

            SELECT * INTO c FROM durable.instances i
                WHERE i.hub = p_hub
                  AND i.partition = durable.partition_of(n, e.instance)
                  AND i.id = e.instance
                FOR UPDATE;

            -- another's instance under the id (the old life's child of an
            -- id purged and started again, whose start this life was
            -- refused): left alone, neither rewound nor started again,
            -- its output not taken (dsi_parent_is()); the task fails
            -- instead, as ds_rewind_sub_taken() fails it
            IF FOUND AND (c.parent_id IS DISTINCT FROM p_id
                          OR NOT durable.child_of_life(c, inst.created))
            THEN
                msg := durable.json_str('sub-orchestration ''' || e.instance
                    || ''' cannot be rewound: its id now belongs to '
                    || 'another instance');
                PERFORM durable.rewind_push(p_hub, part, p_id,
                    durable.event('SubOrchestrationInstanceFailed', p_now,
                        '"TaskScheduledId":' || e.id || ',"Reason":' || msg
                        || ',"Details":{"ErrorType":'
                        || '"SubOrchestrationIdTaken","ErrorMessage":' || msg
                        || ',"IsNonRetriable":false}'));
                pending := true;

            ELSIF FOUND AND NOT durable.terminal(c.status) THEN
                pending := true;

            ELSIF FOUND AND c.status = 3 THEN
                CONTINUE WHEN p_depth >= 8;
                pending := true;
                rc := durable.rewind_one(p_hub, e.instance, NULL, p_now,
                                         p_depth + 1);

                IF rc <> 0 THEN
                    RAISE EXCEPTION 'rewinding "%" answered %', e.instance,
                                    rc;
                END IF;

            ELSIF FOUND AND c.status = 1 THEN
                PERFORM durable.rewind_push(p_hub, part, p_id,
                    durable.event('SubOrchestrationInstanceCompleted', p_now,
                                  '"TaskScheduledId":' || e.id
                                  || ',"Result":' || durable.json(c.output)));
                pending := true;

            ELSIF coalesce(e.name, '') <> '' THEN
                -- gone, or ended otherwise: started again under its parent
                members := '"Name":' || to_json(e.name)::text
                    || ',"Input":' || durable.json(e.input)
                    || ',"ParentInstance":{"Name":'
                    || to_json(inst.name)::text
                    || ',"TaskScheduleId":' || e.id
                    || ',"OrchestrationInstance":{"InstanceId":'
                    || to_json(p_id)::text || ',"ExecutionId":"'
                    || inst.execution || '"}}';

                s := durable.start(p_hub, e.instance, e.name, e.input,
                                   members);
                PERFORM durable.reraise(s.rc, s.error);

                IF s.rc = 0 THEN
                    UPDATE durable.instances i
                        SET parent_id = p_id, parent_task = e.id,
                            parent_execution = inst.execution
                        WHERE i.hub = p_hub
                          AND i.partition = durable.partition_of(n,
                                                                 e.instance)
                          AND i.id = e.instance;
                END IF;

                -- and its created time, where the schema keeps it
                IF s.rc = 0 AND durable.parent_links() THEN
                    UPDATE durable.instances i
                        SET parent_created = nullif(inst.created, 0)
                        WHERE i.hub = p_hub
                          AND i.partition = durable.partition_of(n,
                                                                 e.instance)
                          AND i.id = e.instance;
                END IF;

                pending := true;
            END IF;
        END IF;
    END LOOP;

    -- a lock request whose grant neither the history nor the inbox
    -- holds, and that is no longer on its way (its grant came after the
    -- failure and was released): sent again below, as on LMDB
    FOR lk IN SELECT v.cs, v.lockset
              FROM durable.history h,
                   durable.lock_event(h.event, 'EntityLockRequested') v
              WHERE h.hub = p_hub AND h.partition = part AND h.id = p_id
                AND v.cs IS NOT NULL AND json_typeof(v.lockset) = 'array'
                AND NOT EXISTS (
                    SELECT 1 FROM durable.history g
                    WHERE g.hub = p_hub AND g.partition = part
                      AND g.id = p_id
                      AND (durable.lock_event(g.event,
                                              'EntityLockGranted')).cs
                          = v.cs)
                AND NOT EXISTS (
                    SELECT 1 FROM durable.inbox m
                    WHERE m.hub = p_hub AND m.partition = part
                      AND m.id = p_id
                      AND (durable.lock_event(m.message,
                                              'EntityLockGranted')).cs
                          = v.cs)
              ORDER BY h.seq
    LOOP
        CONTINUE WHEN NOT durable.valid_key(p_hub, lk.lockset ->> 0)
                      OR left(lk.lockset ->> 0, 1) <> '@'
                      OR durable.entity_lock_pending(p_hub,
                             lk.lockset ->> 0, p_id, lk.cs);

        eids := eids || (lk.lockset ->> 0);
        locks := locks || ('"lock":' || durable.json_str(lk.cs)
                           || ',"lockSet":' || lk.lockset::text
                           || ',"position":0,"parentInstanceId":'
                           || durable.json_str(p_id)
                           || ',"parentExecution":' || inst.execution
                           || ',"parentCreated":' || inst.created);
        pending := true;
    END LOOP;

    IF pending THEN
        PERFORM durable.history_append(p_hub, part, p_id,
            durable.event('ExecutionRewound', p_now,
                          '"Reason":' || durable.json(p_reason)));
    ELSE
        PERFORM durable.rewind_push(p_hub, part, p_id,
            durable.event('ExecutionRewound', p_now,
                          '"Reason":' || durable.json(p_reason)));
    END IF;

    SELECT * INTO inst FROM durable.instances i
        WHERE i.hub = p_hub AND i.partition = part AND i.id = p_id;

    UPDATE durable.instances i
        SET status = 0, output = NULL, updated = p_now,
            ready_at = CASE WHEN EXISTS (
                               SELECT 1 FROM durable.inbox m
                               WHERE m.hub = p_hub AND m.partition = part
                                 AND m.id = p_id)
                            THEN durable.ready_mark(0::smallint, inst.lease,
                                     inst.lease_expires, 0, p_now)
                            ELSE 0 END
        WHERE i.hub = p_hub AND i.partition = part AND i.id = p_id;

    -- the lock requests last: an entity may grant at once, to the
    -- instance that runs again (a grant to a Failed one is released)
    FOR k IN 1 .. cardinality(eids) LOOP
        rc := durable.entity_message(p_hub, eids[k], locks[k], NULL, p_now);

        IF rc <> 0 THEN
            RAISE EXCEPTION 'a lock request to % refused', eids[k];
        END IF;
    END LOOP;

    RETURN 0;
END
$$;


-- ds_op_rewind() as DS_OP_REWIND answers it: status, the instance's,
-- with 4 PRECONDITION
CREATE OR REPLACE FUNCTION durable.rewind(p_hub text, p_id text,
    p_reason text, OUT rc integer, OUT status smallint, OUT error text)
LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        rc := durable.rewind_one(p_hub, p_id, p_reason, durable.now_us(), 0);

        IF rc = 4 THEN
            SELECT i.status INTO status FROM durable.instances i
                WHERE i.hub = p_hub
                  AND i.partition = durable.partition_of(
                          durable.hub_partitions(p_hub, false), p_id)
                  AND i.id = p_id;
        ELSIF rc = 0 THEN
            PERFORM durable.wake(p_hub);
        END IF;

    EXCEPTION
        WHEN disk_full THEN
            rc := 5;
            error := SQLERRM;
        WHEN others THEN
            IF durable.transient(SQLSTATE) THEN
                RAISE;
            END IF;
            rc := 8;
            error := SQLERRM;
    END;
END
$$;
