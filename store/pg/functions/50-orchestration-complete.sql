-- ngx_durable PostgreSQL schema: completing an orchestration episode
-- (ds_work_complete_orchestration()). Conventions: 00-common.sql.
-- By hand, run it only with `psql -1 -v ON_ERROR_STOP=1 -f` (as `durable
-- schema` does): a plain `psql -f` goes on past an error (docs/postgres.md).
--
-- C checks the actions and renders every event's members; the function
-- fences by the lease, then moves the delivered messages into the
-- history between OrchestratorStarted and OrchestratorCompleted with one
-- event per action, applies the actions (activities, timers,
-- sub-orchestrations, events) and writes the new status; a termination
-- that ends the instance itself (the tree of an ancestor) ends the
-- completion there. The actions come as parallel arrays, one element per
-- action (NULL where a kind has no such member):
--
--   kinds     ds_action_type_e: 0 activity, 1 timer, 2 sub-orchestration,
--             3 event, 4 entity signal, 5 custom status, 6 complete,
--             7 fail, 8 continue-as-new, 9 entity call, 10 lock
--             request, 11 unlock, 12 terminate another instance
--   ids       the action's id (the EventId of its history event)
--   nums      a timer's fire time; the time an entity signal is due
--             (NULL: now)
--   etypes,   its history event's type and members ("Name":..,...),
--   emembers  NULL for none
--   a         activity name; sub-orchestration id; event target;
--             the instance to terminate; the entity ("@name@key", of a
--             lock request the set's first)
--   b         sub-orchestration name; fail details; 'tree' for a
--             termination with the sub-orchestrations
--   c         input: activity, sub-orchestration, custom status,
--             output, fail reason, the new execution's input, the reason
--             of a termination
--   d         members of the message the action sends: the child's
--             ExecutionStarted (without ParentInstance), EventRaised; for
--             continue-as-new the new ExecutionStarted's Input; an
--             entity message's members before its timestamp (of a lock
--             or unlock request up to "parentInstanceId")
--   e         a sub-orchestration's SubOrchestrationInstanceFailed
--             members, for an id that is active already; a call's
--             members after the timestamp ("requestId", "parentInstanceId")
--
-- Entity messages go through durable.entity_message() (60-entity.sql);
-- the function adds "parentExecution" and "parentCreated" to the calls
-- and requests, the members C cannot know.
--   version,  a sub-orchestration's or an activity's version and tags
--   tags      (JSON), the version of a new execution
--
-- Strings the function writes into JSON itself (a parent's name and
-- version in ParentInstance, the version of a new execution) are escaped
-- by durable.json_str(): PostgreSQL's to_json() escapes text exactly as
-- ds_json_escape() does valid UTF-8 (two-character escapes for '"', '\'
-- and \b \f \n \r \t, \u00xx in lower case for the other control
-- characters, nothing else), and text in the database is valid UTF-8.


-- a string as a JSON string, as ds_json_escape() writes it. STABLE as
-- to_json() is, so that it is inlined
CREATE OR REPLACE FUNCTION durable.json_str(s text) RETURNS text
LANGUAGE sql STABLE STRICT AS $$
    SELECT to_json(s)::text
$$;


-- an event whose EventId is an action's id (plpgsql, as durable.event()
-- is, for its plan to be kept)
CREATE OR REPLACE FUNCTION durable.event_id(type text, now bigint,
    event_id bigint, members text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN '{"EventType":"' || type || '","Timestamp":"'
           || durable.time_text(now) || '","EventId":' || event_id
           || CASE WHEN coalesce(members, '') = '' THEN ''
                   ELSE ',' || members END
           || '}';
END
$$;


-- dsi_ev_parent(): ,"ParentInstance":{...} of a sub-orchestration's
-- ExecutionStarted; nothing without a parent. STABLE as json_str() is
CREATE OR REPLACE FUNCTION durable.parent_member(p_parent_id text,
    p_name text, p_version text, p_task bigint, p_execution bigint)
RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_parent_id IS NULL THEN '' ELSE
        ',"ParentInstance":{"Name":' || durable.json_str(coalesce(p_name, ''))
        || CASE WHEN p_version IS NULL THEN ''
                ELSE ',"Version":' || durable.json_str(p_version) END
        || ',"TaskScheduleId":' || p_task
        || ',"OrchestrationInstance":{"InstanceId":'
        || durable.json_str(p_parent_id) || ',"ExecutionId":"'
        || p_execution || '"}}'
    END
$$;


-- dsi_start(): the record (a new one, or a new execution of a terminal
-- one, whose history, inbox and work go) with its ExecutionStarted
-- message, ready at once or at p_scheduled. p_members: the message's
-- members but ScheduledStartTime, which is added here when the start is
-- for later. p_parent_created: the parent's created time (NULL: no
-- parent), kept where the schema has it (version 9). 0, or 2 CONFLICT
-- with the status of an active one.
CREATE OR REPLACE FUNCTION durable.start_apply(p_hub text, p_n integer,
    p_id text, p_name text, p_input text, p_version text, p_tags text,
    p_scheduled bigint, p_parent_id text, p_parent_task bigint,
    p_parent_execution bigint, p_parent_created bigint, p_members text,
    p_now bigint, OUT rc integer, OUT status smallint)
LANGUAGE plpgsql AS $$
DECLARE
    part   integer;
    seq    bigint;
    sched  bigint;
    had    bigint;
    links  boolean;
    inst   durable.instances;
BEGIN
    part := durable.partition_of(p_n, p_id);
    sched := CASE WHEN p_scheduled > p_now THEN p_scheduled ELSE 0 END;
    seq := 1;

    -- a child's start writes its parent's created time where the schema
    -- has the column; the statements that name it run only then
    links := p_parent_created IS NOT NULL AND durable.parent_links();

    -- a new id, the common case, costs this one statement (no look
    -- first); a conflict inserts nothing, and the record is then locked
    -- and looked at
    IF links THEN
        INSERT INTO durable.instances (hub, partition, id, status,
                suspended_from, created, updated, execution, name, input,
                parent_id, parent_task, parent_execution, ready_at,
                inbox_seq, done_status, scheduled_start, version, tags,
                parent_created)
            VALUES (p_hub, part, p_id, 6, 6, p_now, p_now, 1, p_name,
                    p_input, p_parent_id, p_parent_task, p_parent_execution,
                    greatest(p_now, sched, 1), seq, 6, sched, p_version,
                    p_tags, p_parent_created)
            ON CONFLICT DO NOTHING;
    ELSE
        INSERT INTO durable.instances (hub, partition, id, status,
                suspended_from, created, updated, execution, name, input,
                parent_id, parent_task, parent_execution, ready_at,
                inbox_seq, done_status, scheduled_start, version, tags)
            VALUES (p_hub, part, p_id, 6, 6, p_now, p_now, 1, p_name,
                    p_input, p_parent_id, p_parent_task, p_parent_execution,
                    greatest(p_now, sched, 1), seq, 6, sched, p_version,
                    p_tags)
            ON CONFLICT DO NOTHING;
    END IF;

    IF NOT FOUND THEN
        SELECT * INTO inst FROM durable.instances i
            WHERE i.hub = p_hub AND i.partition = part AND i.id = p_id
            FOR UPDATE;

        IF NOT FOUND OR NOT durable.terminal(inst.status) THEN
            -- active; or purged since the INSERT saw it, as a start
            -- racing this one would have made it
            rc := 2;
            status := inst.status;
            RETURN;
        END IF;

        -- counters and the last completion outlive the execution
        seq := inst.inbox_seq + 1;

        UPDATE durable.instances i
            SET status = 6, suspended_from = 6, created = p_now,
                updated = p_now, execution = inst.execution + 1,
                name = p_name, input = p_input, output = NULL,
                custom_status = NULL, parent_id = p_parent_id,
                parent_task = p_parent_task,
                parent_execution = p_parent_execution,
                ready_at = greatest(p_now, sched, 1), lease = NULL,
                lease_expires = 0, episode_at = 0, lease_upto = 0,
                inbox_seq = seq, scheduled_start = sched,
                version = p_version, tags = p_tags, failure = NULL
            WHERE i.hub = p_hub AND i.partition = part AND i.id = p_id;

        PERFORM durable.release_held(p_hub, ARRAY[part], ARRAY[p_id],
                                     p_now);
        DELETE FROM durable.history h
            WHERE h.hub = p_hub AND h.partition = part AND h.id = p_id;
        DELETE FROM durable.inbox m
            WHERE m.hub = p_hub AND m.partition = part AND m.id = p_id;
        PERFORM durable.drop_work(p_hub, part, p_id, true);

        -- the row of a start again: its parent's created time is this
        -- start's, or none (a child's before goes too). The UPDATE above
        -- names only the columns of every version served.
        had := durable.parent_created_of(inst);

        IF links OR had IS NOT NULL THEN
            UPDATE durable.instances i
                SET parent_created = p_parent_created
                WHERE i.hub = p_hub AND i.partition = part
                  AND i.id = p_id;
        END IF;
    END IF;

    INSERT INTO durable.inbox (hub, partition, id, seq, message)
        VALUES (p_hub, part, p_id, seq,
                durable.event('ExecutionStarted', p_now,
                    p_members
                    || CASE WHEN sched > 0
                            THEN ',"ScheduledStartTime":"'
                                 || durable.time_text(sched) || '"'
                            ELSE '' END));

    rc := 0;
    status := 6;
END
$$;


-- durable.start_apply() of a start without a parent's created time (a
-- start, not a child's), as the functions of level 4 and below called it
CREATE OR REPLACE FUNCTION durable.start_apply(p_hub text, p_n integer,
    p_id text, p_name text, p_input text, p_version text, p_tags text,
    p_scheduled bigint, p_parent_id text, p_parent_task bigint,
    p_parent_execution bigint, p_members text, p_now bigint,
    OUT rc integer, OUT status smallint)
LANGUAGE plpgsql AS $$
DECLARE
    s  record;
BEGIN
    s := durable.start_apply(p_hub, p_n, p_id, p_name, p_input, p_version,
                             p_tags, p_scheduled, p_parent_id,
                             p_parent_task, p_parent_execution, NULL,
                             p_members, p_now);
    rc := s.rc;
    status := s.status;
END
$$;


-- ds_op_start_opts(): durable.start() with a version and tags (NULL:
-- none), a scheduled start (0: at once) and an id reuse policy
-- (p_replace, status mask bits; 0: a terminal instance is replaced, an
-- active one is a conflict). With a policy, an instance whose status is
-- in it is replaced, an active one terminated first; any other is 2
-- CONFLICT with its status. members: "Name":..,"Input":.. and Version,
-- Tags of the message.
CREATE OR REPLACE FUNCTION durable.start_opts(p_hub text, p_id text,
    p_name text, p_input text, p_members text, p_version text,
    p_tags text, p_scheduled bigint, p_replace bigint,
    OUT rc integer, OUT status smallint, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    n     integer;
    part  integer;
    now   bigint;
    t     record;
    s     record;
    old   durable.instances;
BEGIN
    rc := 0;

    IF NOT durable.valid_key(p_hub, p_id) OR p_name IS NULL
       OR octet_length(p_name) > 256
       OR coalesce(octet_length(p_version), 0) > 256
    THEN
        rc := 6;
        RETURN;
    END IF;

    BEGIN
        n := durable.hub_partitions(p_hub, true);
        now := durable.now_us();

        IF p_replace <> 0 THEN
            part := durable.partition_of(n, p_id);

            SELECT * INTO old FROM durable.instances i
                WHERE i.hub = p_hub AND i.partition = part AND i.id = p_id
                FOR UPDATE;

            IF FOUND THEN
                IF p_replace & (1::bigint << old.status) = 0 THEN
                    rc := 2;
                    status := old.status;
                    RETURN;
                END IF;

                IF NOT durable.terminal(old.status) THEN
                    t := durable.terminate(p_hub, p_id,
                        '"replaced by a new start of the same id"');

                    IF t.rc <> 0 THEN
                        rc := t.rc;
                        error := t.error;
                        RETURN;
                    END IF;
                END IF;
            END IF;
        END IF;

        s := durable.start_apply(p_hub, n, p_id, p_name, p_input,
            p_version, p_tags, p_scheduled, NULL, -1, 0, p_members, now);
        rc := s.rc;
        status := s.status;

        IF rc = 0 THEN
            PERFORM durable.wake(p_hub);
        END IF;

    EXCEPTION
        WHEN disk_full THEN
            rc := 5;
            status := NULL;
            error := SQLERRM;
        WHEN others THEN
            IF durable.transient(SQLSTATE) THEN
                RAISE;
            END IF;
            rc := 8;
            status := NULL;
            error := SQLERRM;
    END;
END
$$;


-- p_processed: how many of the delivered messages the worker took (-1:
-- all; gRPC's numEventsProcessed); the others wait for the next episode,
-- unless the execution ends.
CREATE OR REPLACE FUNCTION durable.complete_orchestration(p_hub text,
    p_id text, p_lease bytea, p_digest bigint, p_invalid boolean,
    p_processed bigint, p_kinds smallint[], p_ids bigint[], p_nums bigint[], p_etypes text[],
    p_emembers text[], p_a text[], p_b text[], p_c text[], p_d text[],
    p_e text[], p_version text[], p_tags text[], p_carry text[],
    OUT rc integer, OUT status smallint, OUT changed boolean,
    OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    n          integer;
    part       integer;
    cnt        integer;
    i          integer;
    kind       smallint;
    fin        smallint;
    now        bigint;
    at         bigint;
    upto       bigint;
    seq        bigint;
    last       bigint;
    r          integer;
    taken      bigint;
    t          record;
    msg        text;
    later      text[];
    pname      text;
    pversion   text;
    opts       boolean;   -- activities keep a version and tags (v8)
    was        smallint;
    ended_as   smallint;  -- the status a tree termination left here
    term       integer;
    kid        durable.instances;
    inst       durable.instances;
BEGIN
    changed := false;

    IF NOT durable.valid_key(p_hub, p_id) THEN
        rc := 6;
        RETURN;
    END IF;

    BEGIN
        rc := 1;
        n := durable.hub_partitions(p_hub, false);

        IF n IS NULL THEN
            RETURN;
        END IF;

        part := durable.partition_of(n, p_id);

        SELECT * INTO inst FROM durable.instances x
            WHERE x.hub = p_hub AND x.partition = part AND x.id = p_id
            FOR UPDATE;

        IF NOT FOUND THEN
            RETURN;
        END IF;

        -- the fence (dsi_work_fence())
        IF NOT durable.valid_lease(p_lease) THEN
            rc := 2;
            RETURN;
        END IF;

        IF inst.done_lease IS NOT NULL AND inst.done_lease = p_lease THEN
            IF inst.done_digest <> 0 AND inst.done_digest <> p_digest THEN
                rc := 7;
                RETURN;
            END IF;

            -- a retry of the last completion: its answer, nothing applied
            rc := 0;
            status := inst.done_status;
            RETURN;
        END IF;

        IF durable.terminal(inst.status) THEN
            rc := 3;
            RETURN;
        END IF;

        IF inst.lease IS NULL OR inst.lease <> p_lease THEN
            rc := 2;
            RETURN;
        END IF;

        IF p_invalid THEN
            rc := 6;
            RETURN;
        END IF;

        now := durable.now_us();
        was := inst.status;
        cnt := coalesce(cardinality(p_kinds), 0);
        fin := CASE WHEN cnt > 0 AND p_kinds[cnt] IN (6, 7, 8)
                    THEN p_kinds[cnt] END;
        upto := inst.lease_upto;
        seq := inst.inbox_seq;
        taken := upto;

        IF fin IS NULL AND p_processed >= 0 THEN
            -- the seq of the last message taken
            SELECT coalesce(max(x.seq), 0) INTO taken
                FROM (SELECT m.seq FROM durable.inbox m
                      WHERE m.hub = p_hub AND m.partition = part
                        AND m.id = p_id AND m.seq <= upto
                      ORDER BY m.seq
                      LIMIT p_processed) x;
        END IF;

        -- the history of the episode, on the clock its worker saw
        IF fin IS DISTINCT FROM 8 THEN
            at := CASE WHEN inst.episode_at <> 0 THEN inst.episode_at
                       ELSE now END;

            -- in one statement, the last seq looked up once:
            -- OrchestratorStarted, the messages taken, the event of each
            -- action that has one, OrchestratorCompleted
            INSERT INTO durable.history (hub, partition, id, seq, event)
                SELECT p_hub, part, p_id,
                       (SELECT coalesce(max(h.seq), 0)
                        FROM durable.history h
                        WHERE h.hub = p_hub AND h.partition = part
                          AND h.id = p_id)
                       + row_number() OVER (ORDER BY e.grp, e.pos),
                       e.event
                FROM (SELECT 0 AS grp, 0::bigint AS pos,
                             durable.event('OrchestratorStarted', at,
                                           NULL) AS event
                      UNION ALL
                      SELECT 1, x.seq, durable.message_public(x.message)
                      FROM durable.inbox x
                      WHERE x.hub = p_hub AND x.partition = part
                        AND x.id = p_id AND x.seq <= taken
                      UNION ALL
                      SELECT 2, a.pos,
                             durable.event_id(a.etype, at, a.aid,
                                              a.members)
                      FROM unnest(p_etypes, p_ids, p_emembers)
                           WITH ORDINALITY AS a(etype, aid, members, pos)
                      WHERE a.pos <= cnt AND a.etype IS NOT NULL
                      UNION ALL
                      SELECT 3, 0,
                             durable.event('OrchestratorCompleted', at,
                                           NULL)) e;
        END IF;

        DELETE FROM durable.inbox x
            WHERE x.hub = p_hub AND x.partition = part AND x.id = p_id
              AND x.seq <= taken;

        -- what the actions do besides history
        FOR i IN 1 .. cnt LOOP
            kind := p_kinds[i];

            IF kind = 0 AND fin IS NULL THEN
                IF opts IS NULL THEN
                    opts := durable.activity_options();
                END IF;

                -- with its version and tags where the schema has them
                -- (an older module's call has neither: NULL)
                IF opts THEN
                    INSERT INTO durable.activities AS x (hub, partition, id,
                            task_id, done, name, input, ready_at, version,
                            tags)
                        VALUES (p_hub, part, p_id, p_ids[i], false, p_a[i],
                                p_c[i], greatest(now, 1), p_version[i],
                                p_tags[i])
                        ON CONFLICT (hub, partition, id, task_id) DO UPDATE
                        SET done = false, name = excluded.name,
                            input = excluded.input,
                            ready_at = excluded.ready_at, lease = NULL,
                            lease_expires = 0, done_digest = 0,
                            version = excluded.version,
                            tags = excluded.tags;
                ELSE
                    INSERT INTO durable.activities AS x (hub, partition, id,
                            task_id, done, name, input, ready_at)
                        VALUES (p_hub, part, p_id, p_ids[i], false, p_a[i],
                                p_c[i], greatest(now, 1))
                        ON CONFLICT (hub, partition, id, task_id) DO UPDATE
                        SET done = false, name = excluded.name,
                            input = excluded.input,
                            ready_at = excluded.ready_at, lease = NULL,
                            lease_expires = 0, done_digest = 0;
                END IF;

            ELSIF kind = 1 AND fin IS NULL THEN
                INSERT INTO durable.timers AS x (hub, partition, id,
                        timer_id, due, fire_at)
                    VALUES (p_hub, part, p_id, p_ids[i], p_nums[i],
                            p_nums[i])
                    ON CONFLICT (hub, partition, id, timer_id) DO UPDATE
                    SET due = excluded.due, fire_at = excluded.fire_at;

            ELSIF kind = 2 THEN
                r := 2;

                IF p_a[i] <> p_id THEN
                    r := (durable.start_apply(p_hub, n, p_a[i], p_b[i],
                        p_c[i], p_version[i], p_tags[i], 0, p_id, p_ids[i],
                        inst.execution, nullif(inst.created, 0),
                        p_d[i] || durable.parent_member(p_id, inst.name,
                                      inst.version, p_ids[i],
                                      inst.execution),
                        now)).rc;
                END IF;

                IF r = 2 THEN
                    -- the parent hears of it as of a failed child
                    seq := durable.inbox_push(p_hub, part, p_id,
                        durable.event('SubOrchestrationInstanceFailed', now,
                                      p_e[i]));
                END IF;

            ELSIF kind = 3 THEN
                msg := durable.event('EventRaised', now, p_d[i]);

                IF p_a[i] = p_id THEN
                    seq := durable.inbox_push(p_hub, part, p_id, msg);
                ELSE
                    PERFORM durable.deliver(p_hub, p_a[i], 0, msg, now,
                                            false);
                END IF;

            ELSIF kind = 5 THEN
                inst.custom_status := p_c[i];

            ELSIF kind IN (4, 9, 10, 11) THEN
                IF kind = 9 THEN
                    r := durable.entity_message(p_hub, p_a[i], p_d[i],
                        ',' || p_e[i] || ',"parentExecution":'
                        || inst.execution || ',"parentCreated":'
                        || inst.created, now);
                ELSIF kind = 4 THEN
                    r := durable.entity_message_at(p_hub, p_a[i], p_d[i],
                        NULL, now, coalesce(p_nums[i], 0));
                ELSE
                    r := durable.entity_message(p_hub, p_a[i],
                        p_d[i] || ',"parentExecution":' || inst.execution
                        || ',"parentCreated":' || inst.created,
                        NULL, now);
                END IF;

                -- C checked the ids: this is not the caller's fault
                IF r <> 0 THEN
                    RAISE EXCEPTION 'an entity message to % refused', p_a[i];
                END IF;

            ELSIF kind = 12 THEN
                -- missing or ended already: dropped, as events are
                IF p_b[i] IS NULL THEN
                    t := durable.terminate(p_hub, p_a[i], p_c[i]);
                ELSE
                    t := durable.terminate_tree(p_hub, p_a[i], p_c[i]);
                END IF;

                -- disk full stays DS_FULL, as LMDB answers it
                PERFORM durable.reraise(t.rc, t.error);

                -- this instance ended too when the tree terminated is an
                -- ancestor's (itself is refused as a target): nothing
                -- after the termination is applied. Only a tree's walk
                -- can reach it.
                IF t.rc = 0 AND p_b[i] IS NOT NULL THEN
                    SELECT x.status INTO ended_as FROM durable.instances x
                        WHERE x.hub = p_hub AND x.partition = part
                          AND x.id = p_id;

                    term := i;
                    EXIT WHEN durable.terminal(ended_as);
                    ended_as := NULL;
                END IF;
            END IF;
        END LOOP;

        IF ended_as IS NOT NULL AND fin = 8 THEN
            -- the walk that ended this instance found its children in
            -- its history, and an episode that continues as new writes
            -- none: the children the actions before the termination
            -- started end here, with their trees (ds_complete_orphans(),
            -- which says why each tree gets 16 levels below its orphan)
            FOR i IN 1 .. term - 1 LOOP
                CONTINUE WHEN p_kinds[i] <> 2 OR p_a[i] = p_id;

                -- another's (its start refused; an earlier life's of
                -- this id, purged and started again, is another's) or
                -- ended: skipped; an active child of this instance that
                -- held the id (an earlier execution's, else the walk
                -- ended it) ends here
                kid := durable.child_of(p_hub, p_id, inst.created, p_a[i]);
                CONTINUE WHEN kid.id IS NULL OR durable.terminal(kid.status);

                t := durable.terminate_tree(p_hub, p_a[i], p_c[term]);

                -- disk full stays DS_FULL, as LMDB answers it
                PERFORM durable.reraise(t.rc, t.error);
            END LOOP;
        END IF;

        IF ended_as IS NOT NULL THEN
            -- durable.terminate() wrote this record (Terminated, the
            -- termination's reason as output, its inbox and work
            -- dropped, ExecutionTerminated last in its history), and
            -- nothing else of inst is written over it
            -- (ds_complete_ended()). It takes the custom status (an
            -- action before the termination may have set it) and the
            -- fence's answer, so that a retry is answered as this
            -- completion is. Its inbox counter needs nothing, unlike
            -- LMDB's: durable.inbox_push() raised the row's own for each
            -- message the actions before queued to it.
            UPDATE durable.instances x
                SET custom_status = inst.custom_status,
                    done_lease = p_lease, done_digest = p_digest,
                    done_status = ended_as
                WHERE x.hub = p_hub AND x.partition = part AND x.id = p_id;

            rc := 0;
            status := ended_as;
            changed := true;
            RETURN;
        END IF;

        IF fin IS NOT NULL AND fin <> 7 THEN
            -- the execution ends: lock grants that came after its
            -- episode's messages are released, each by the set it
            -- carries. A failure keeps them, and their locks: the
            -- rewound execution takes them from the inbox (a rewind
            -- sends again only the requests whose grant no one holds).
            PERFORM durable.inbox_drop_grants(p_hub, part, p_id, upto + 1,
                                              p_kinds, p_d, now);
        END IF;

        IF fin IS NULL THEN
            IF inst.status = 7 THEN
                inst.suspended_from := 0;
            ELSE
                inst.status := 0;
            END IF;

        ELSIF fin = 6 THEN
            inst.status := 1;
            inst.output := p_c[cnt];

            IF inst.parent_id IS NOT NULL THEN
                PERFORM durable.deliver_parent(p_hub, inst,
                    durable.event('SubOrchestrationInstanceCompleted', now,
                        '"TaskScheduledId":' || inst.parent_task
                        || ',"Result":' || durable.json(p_c[cnt])),
                    now);
            END IF;

        ELSIF fin = 7 THEN
            inst.status := 3;
            inst.output := p_c[cnt];
            -- details null are none
            inst.failure := nullif(p_b[cnt], 'null');

            IF inst.parent_id IS NOT NULL THEN
                PERFORM durable.deliver_parent(p_hub, inst,
                    durable.event('SubOrchestrationInstanceFailed', now,
                        '"TaskScheduledId":' || inst.parent_task
                        || ',"Reason":' || durable.json(p_c[cnt])
                        || ',"Details":' || durable.json(p_b[cnt])),
                    now);
            END IF;

        ELSE
            -- a new execution with an empty history; its ExecutionStarted
            -- takes the seq of the last delivered message, so messages
            -- that arrived meanwhile stay after it
            inst.status := 2;
            inst.input := p_c[cnt];
            inst.output := NULL;
            inst.execution := inst.execution + 1;

            -- and the locks the ended execution may still hold
            PERFORM durable.release_held(p_hub, ARRAY[part], ARRAY[p_id],
                                         now);
            DELETE FROM durable.history h
                WHERE h.hub = p_hub AND h.partition = part AND h.id = p_id;

            inst.version := coalesce(p_version[cnt], inst.version);
            pname := NULL;
            pversion := NULL;

            IF inst.parent_id IS NOT NULL THEN
                SELECT x.name, x.version INTO pname, pversion
                    FROM durable.instances x
                    WHERE x.hub = p_hub
                      AND x.partition = durable.partition_of(n,
                                                             inst.parent_id)
                      AND x.id = inst.parent_id;
            END IF;

            msg := durable.event('ExecutionStarted', now,
                '"Name":' || durable.json_str(inst.name) || ',' || p_d[cnt]
                || CASE WHEN inst.version IS NULL THEN ''
                        ELSE ',"Version":' || durable.json_str(inst.version)
                   END
                || CASE WHEN inst.tags IS NULL THEN ''
                        ELSE ',"Tags":' || inst.tags END
                || durable.parent_member(inst.parent_id, pname, pversion,
                                         inst.parent_task,
                                         inst.parent_execution));

            IF upto > 0 THEN
                INSERT INTO durable.inbox (hub, partition, id, seq, message)
                    VALUES (p_hub, part, p_id, upto, msg);
            ELSE
                seq := durable.inbox_push(p_hub, part, p_id, msg);
            END IF;

            -- answers to the ended execution that came after its
            -- episode's messages go, as they would had they come a moment
            -- later (durable.inbox_drop_answers())
            PERFORM durable.inbox_drop_answers(p_hub, part, p_id, upto + 1,
                                               true);

            IF coalesce(cardinality(p_carry), 0) > 0 THEN
                -- the carried-over events go ahead of the messages that
                -- arrived meanwhile, which are queued again after them.
                -- Every message past upto goes first, those the actions
                -- queued too, so the seqs after seq (never below upto)
                -- are free, whatever the record's counter says
                later := ARRAY(SELECT x.message FROM durable.inbox x
                               WHERE x.hub = p_hub AND x.partition = part
                                 AND x.id = p_id AND x.seq > upto
                               ORDER BY x.seq);

                DELETE FROM durable.inbox x
                    WHERE x.hub = p_hub AND x.partition = part
                      AND x.id = p_id AND x.seq > upto;

                FOREACH msg IN ARRAY p_carry || later LOOP
                    seq := seq + 1;
                    INSERT INTO durable.inbox (hub, partition, id, seq,
                            message)
                        VALUES (p_hub, part, p_id, seq, msg);
                END LOOP;
            END IF;
        END IF;

        IF fin IS NOT NULL THEN
            -- the execution ended: its pending activities and timers too
            PERFORM durable.drop_work(p_hub, part, p_id, false);
        END IF;

        last := 0;

        IF NOT durable.terminal(inst.status) AND inst.status <> 7 THEN
            SELECT coalesce(max(x.seq), 0) INTO last FROM durable.inbox x
                WHERE x.hub = p_hub AND x.partition = part AND x.id = p_id;
        END IF;

        -- The record is locked from the first read, so only the actions
        -- above can have written it since. Its inbox counter: a lock
        -- granted at once (durable.entity_lock_next()) or a terminated
        -- child's message (durable.terminate()) come through
        -- durable.deliver(), the messages the actions queue to this
        -- instance through durable.inbox_push(), and both raise it, so
        -- that each takes its own seq whatever their order; the UPDATE
        -- reads it in the row it updates, so that it does not go back
        -- (seq can be ahead of it only after a carry-over). Its status
        -- is still the one read first: a termination that ended this
        -- instance returned above.
        UPDATE durable.instances x
            SET status = inst.status, suspended_from = inst.suspended_from,
                updated = now, execution = inst.execution,
                input = inst.input, output = inst.output,
                custom_status = inst.custom_status,
                version = inst.version, failure = inst.failure,
                inbox_seq = greatest(seq, x.inbox_seq),
                lease = NULL, lease_expires = 0, lease_upto = 0,
                done_lease = p_lease, done_digest = p_digest,
                done_status = inst.status,
                ready_at = CASE WHEN last > 0 THEN greatest(now, 1)
                                ELSE 0 END
            WHERE x.hub = p_hub AND x.partition = part AND x.id = p_id;

        rc := 0;
        status := inst.status;
        changed := inst.status <> was OR fin IS NOT NULL;

        PERFORM durable.wake(p_hub);

    EXCEPTION
        WHEN disk_full THEN
            rc := 5;
            status := NULL;
            changed := false;
            error := SQLERRM;
        WHEN others THEN
            IF durable.transient(SQLSTATE) THEN
                RAISE;
            END IF;
            rc := 8;
            status := NULL;
            changed := false;
            error := SQLERRM;
    END;
END
$$;
