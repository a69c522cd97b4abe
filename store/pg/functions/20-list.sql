-- ngx_durable PostgreSQL schema: lists and purges by filter, paged by
-- keyset on (created, id). Conventions: 00-common.sql.
-- By hand, run it only with `psql -1 -v ON_ERROR_STOP=1 -f` (as `durable
-- schema` does): a plain `psql -f` goes on past an error (docs/postgres.md).

-- continuation tokens, as the LMDB store makes them (ds_query.c):
-- base64url without padding of version 1, created with its sign bit
-- flipped (8 bytes, big-endian) and the id's bytes. STABLE as
-- convert_to() is, so that it is inlined
CREATE OR REPLACE FUNCTION durable.token_encode(created bigint, id text)
RETURNS text
LANGUAGE sql STABLE STRICT AS $$
    SELECT translate(encode('\x01'::bytea
                            || int8send(created # (-9223372036854775807 - 1))
                            || convert_to(id, 'UTF8'), 'base64'),
                     E'+/=\n', '-_')
$$;


-- strict: only the canonical encoding of a version 1 token; ok false
-- otherwise
CREATE OR REPLACE FUNCTION durable.token_decode(p_token text,
    OUT ok boolean, OUT created bigint, OUT id text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    raw  bytea;
BEGIN
    ok := false;

    IF p_token IS NULL OR octet_length(p_token) > 512
       OR p_token !~ '^[A-Za-z0-9_-]*$' OR length(p_token) % 4 = 1
    THEN
        RETURN;
    END IF;

    BEGIN
        raw := decode(translate(p_token, '-_', '+/')
                      || repeat('=', (4 - length(p_token) % 4) % 4),
                      'base64');

        IF octet_length(raw) < 9 OR octet_length(raw) > 1 + 8 + 256
           OR get_byte(raw, 0) <> 1
        THEN
            RETURN;
        END IF;

        created := ('x' || encode(substr(raw, 2, 8), 'hex'))::bit(64)::bigint
                   # (-9223372036854775807 - 1);
        id := convert_from(substr(raw, 10), 'UTF8');

        -- unused bits must be zero: the token is its own encoding
        ok := durable.token_encode(created, id) = p_token;

    EXCEPTION
        WHEN others THEN
            ok := false;
    END;
END
$$;


-- the statuses of a DS_STATUS_MASK (plpgsql: a subquery is never inlined)
CREATE OR REPLACE FUNCTION durable.mask_statuses(mask integer)
RETURNS smallint[]
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
    RETURN ARRAY(SELECT s::smallint FROM generate_series(0, 7) s
                 WHERE mask & (1 << s) <> 0);
END
$$;


CREATE OR REPLACE FUNCTION durable.list_page_opts_apply(p_hub text,
    p_from bigint, p_to bigint, p_mask integer, p_prefix text,
    p_top integer, p_budget integer, p_token text)
RETURNS TABLE (rc integer, id text, status smallint, created bigint,
    updated bigint, execution bigint, name text, input text, output text,
    custom_status text, parent_id text, token text, scheduled_start bigint,
    version text, tags text, failure text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    mask       integer;
    budget     bigint;
    from_t     bigint;
    to_t       bigint;
    count      bigint;
    examined   bigint;
    pos_at     bigint;
    pos_id     text;
    after      record;
    after_at   bigint;
    after_id   text;
    r          record;
BEGIN
    IF p_top IS NULL OR p_top < 1 OR octet_length(p_hub) NOT BETWEEN 1 AND 50
    THEN
        RETURN QUERY SELECT 6, NULL::text, NULL::smallint, NULL::bigint,
            NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text,
            NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::text,
            NULL::text, NULL::text;
        RETURN;
    END IF;

    IF coalesce(p_token, '') <> '' THEN
        after := durable.token_decode(p_token);

        IF NOT after.ok THEN
            RETURN QUERY SELECT 6, NULL::text, NULL::smallint, NULL::bigint,
                NULL::bigint, NULL::bigint, NULL::text, NULL::text,
                NULL::text, NULL::text, NULL::text, NULL::text,
                NULL::bigint, NULL::text, NULL::text, NULL::text;
            RETURN;
        END IF;

        after_at := after.created;
        after_id := after.id;
    END IF;

    -- 0: any status; only unknown statuses: nothing matches
    mask := coalesce(p_mask, 0) & 255;

    IF coalesce(p_mask, 0) <> 0 AND mask = 0 THEN
        RETURN QUERY SELECT 0, NULL::text, NULL::smallint, NULL::bigint,
            NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text,
            NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::text,
            NULL::text, NULL::text;
        RETURN;
    END IF;

    IF mask = 255 THEN
        mask := 0;
    END IF;

    budget := CASE WHEN coalesce(p_budget, 0) = 0 THEN 9223372036854775806
                   ELSE p_budget END;
    from_t := CASE WHEN coalesce(p_from, 0) = 0
                   THEN -9223372036854775807 - 1 ELSE p_from END;
    to_t := CASE WHEN coalesce(p_to, 0) = 0 THEN 9223372036854775807
                 ELSE p_to END;
    count := 0;
    examined := 0;

    -- one row past the page tells whether a next page exists
    FOR r IN
        SELECT i.* FROM durable.instances i
        WHERE i.hub = p_hub AND i.created BETWEEN from_t AND to_t
          AND (mask = 0 OR i.status = ANY (durable.mask_statuses(mask)))
          AND (after_id IS NULL
               OR (i.created, i.id) > (after_at, after_id COLLATE "C"))
        ORDER BY i.created, i.id
        LIMIT CASE WHEN coalesce(p_prefix, '') = ''
                   THEN least(p_top, budget) ELSE budget END + 1
    LOOP
        IF count = p_top OR examined = budget THEN
            token := durable.token_encode(pos_at, pos_id);
            EXIT;
        END IF;

        examined := examined + 1;
        pos_at := r.created;
        pos_id := r.id;

        IF coalesce(p_prefix, '') <> ''
           AND left(r.id, length(p_prefix)) <> p_prefix COLLATE "C"
        THEN
            CONTINUE;
        END IF;

        count := count + 1;

        RETURN QUERY SELECT 0, r.id, r.status, r.created, r.updated,
            r.execution, r.name, r.input, r.output, r.custom_status,
            r.parent_id, NULL::text, r.scheduled_start, r.version, r.tags,
            r.failure;
    END LOOP;

    RETURN QUERY SELECT 0, NULL::text, NULL::smallint, NULL::bigint,
        NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text,
        NULL::text, NULL::text, token, NULL::bigint, NULL::text, NULL::text,
        NULL::text;
END
$$;


-- list_page_opts_apply() without what a start may carry: the result of
-- schema version 1, kept for durable.list_page()
CREATE OR REPLACE FUNCTION durable.list_page_apply(p_hub text,
    p_from bigint, p_to bigint, p_mask integer, p_prefix text,
    p_top integer, p_budget integer, p_token text)
RETURNS TABLE (rc integer, id text, status smallint, created bigint,
    updated bigint, execution bigint, name text, input text, output text,
    custom_status text, parent_id text, token text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY SELECT l.rc, l.id, l.status, l.created, l.updated,
        l.execution, l.name, l.input, l.output, l.custom_status,
        l.parent_id, l.token
        FROM durable.list_page_opts_apply(p_hub, p_from, p_to, p_mask,
                                          p_prefix, p_top, p_budget,
                                          p_token) l;
END
$$;


-- ds_op_read(DS_OP_LIST): one page in (created, id) order. p_from, p_to:
-- created range, inclusive, 0 open; p_mask: DS_STATUS_MASK bits, 0 any;
-- p_prefix: id prefix; p_budget: rows examined at most, 0 no bound;
-- p_token: the previous page's. The last row (id NULL) holds rc (6 for a
-- bad token) and the next page's token, NULL on the last page. The
-- instances' start options and failure details: durable.list_page_opts().
CREATE OR REPLACE FUNCTION durable.list_page(p_hub text, p_from bigint,
    p_to bigint, p_mask integer, p_prefix text, p_top integer,
    p_budget integer, p_token text)
RETURNS TABLE (rc integer, id text, status smallint, created bigint,
    updated bigint, execution bigint, name text, input text, output text,
    custom_status text, parent_id text, token text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- the apply function's rows come whole or not at all
    RETURN QUERY SELECT * FROM durable.list_page_apply(p_hub, p_from, p_to,
        p_mask, p_prefix, p_top, p_budget, p_token);
EXCEPTION
    WHEN others THEN
        IF durable.transient(SQLSTATE) THEN
            RAISE;
        END IF;
        RETURN QUERY SELECT 8, NULL::text, NULL::smallint, NULL::bigint,
            NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text,
            NULL::text, NULL::text, NULL::text;
END
$$;


-- durable.list_page() with each instance's scheduled start (0: none),
-- version, tags and failure details (NULL: none), as durable.status()
-- answers them: what the module asks for
CREATE OR REPLACE FUNCTION durable.list_page_opts(p_hub text,
    p_from bigint, p_to bigint, p_mask integer, p_prefix text,
    p_top integer, p_budget integer, p_token text)
RETURNS TABLE (rc integer, id text, status smallint, created bigint,
    updated bigint, execution bigint, name text, input text, output text,
    custom_status text, parent_id text, token text, scheduled_start bigint,
    version text, tags text, failure text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- the apply function's rows come whole or not at all
    RETURN QUERY SELECT * FROM durable.list_page_opts_apply(p_hub, p_from,
        p_to, p_mask, p_prefix, p_top, p_budget, p_token);
EXCEPTION
    WHEN others THEN
        IF durable.transient(SQLSTATE) THEN
            RAISE;
        END IF;
        RETURN QUERY SELECT 8, NULL::text, NULL::smallint, NULL::bigint,
            NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text,
            NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::text,
            NULL::text, NULL::text;
END
$$;


-- The batch of durable.purge_batch() and durable.purge_batch_for(): at
-- most p_max terminal instances of the filter (p_mask 0: every terminal
-- status), oldest first, passing over those another transaction holds;
-- more: matches may be left. p_budget, µs, as purge_batch_for() works it
-- out: 0, no bound, one round of p_max; negative, one round of one;
-- else rounds, the first of one instance, each next one sized by the
-- rate of those before (at most four times the last), until one ends
-- past p_budget. Each round is deleted as a set, a statement a table
-- (remove_set()), not an instance at a time. Not called by nginx.
CREATE OR REPLACE FUNCTION durable.purge_rounds(p_hub text, p_from bigint,
    p_to bigint, p_mask integer, p_max integer, p_budget bigint,
    OUT rc integer, OUT deleted integer, OUT more boolean, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    mask    integer;
    from_t  bigint;
    to_t    bigint;
    parts   integer[];
    ids     text[];
    t0      bigint;
    took    bigint;
    budget  bigint;
    n       integer;
    fit     bigint;
BEGIN
    rc := 0;
    deleted := 0;
    more := false;

    IF octet_length(p_hub) NOT BETWEEN 1 AND 50 OR p_max IS NULL
       OR p_max < 0
    THEN
        rc := 6;
        RETURN;
    END IF;

    -- Completed, Failed, Canceled, Terminated
    mask := CASE WHEN coalesce(p_mask, 0) = 0 THEN 58 ELSE p_mask END & 58;

    IF mask = 0 OR p_max = 0 THEN
        RETURN;
    END IF;

    from_t := CASE WHEN coalesce(p_from, 0) = 0
                   THEN -9223372036854775807 - 1 ELSE p_from END;
    to_t := CASE WHEN coalesce(p_to, 0) = 0 THEN 9223372036854775807
                 ELSE p_to END;

    budget := coalesce(p_budget, 0);

    BEGIN
        t0 := durable.now_us();
        -- without a bound, rounds would only cost statements: one of all
        n := CASE WHEN budget = 0 THEN p_max ELSE 1 END;

        LOOP
            SELECT coalesce(array_agg(c.partition), '{}'),
                   coalesce(array_agg(c.id), '{}')
            INTO parts, ids
            FROM (SELECT i.partition, i.id FROM durable.instances i
                  WHERE i.hub = p_hub AND i.created BETWEEN from_t AND to_t
                    AND i.status = ANY (durable.mask_statuses(mask))
                  ORDER BY i.created, i.id
                  LIMIT n
                  FOR UPDATE SKIP LOCKED) c;

            EXIT WHEN cardinality(ids) = 0;

            deleted := deleted + durable.remove_set(p_hub, parts, ids);
            took := durable.now_us() - t0;

            EXIT WHEN cardinality(ids) < n OR deleted >= p_max
                      OR budget < 0 OR (budget > 0 AND took >= budget);

            -- as many as the time left holds at the rate so far
            fit := CASE WHEN budget = 0 THEN 4 * n
                        ELSE (budget - took) * deleted / greatest(took, 1)
                   END;
            n := greatest(least(p_max - deleted, 4 * n, fit), 1)::integer;
        END LOOP;

        -- rows another transaction holds count as left, but a batch
        -- that deleted nothing says no more, so that a caller never
        -- repeats without progress
        more := deleted > 0
                AND EXISTS (SELECT 1 FROM durable.instances i
                            WHERE i.hub = p_hub
                              AND i.created BETWEEN from_t AND to_t
                              AND i.status
                                  = ANY (durable.mask_statuses(mask)));

    EXCEPTION
        WHEN others THEN
            IF durable.transient(SQLSTATE) THEN
                RAISE;
            END IF;
            rc := 8;
            deleted := 0;
            more := false;
            error := SQLERRM;
    END;
END
$$;


-- ds_instance_purge(): at most p_max terminal instances of the filter
-- (p_mask 0: every terminal status); more: matches may be left. One
-- set, whatever the time it takes (the modules of levels 1 and 2 call
-- it): purge_rounds() without a bound.
CREATE OR REPLACE FUNCTION durable.purge_batch(p_hub text, p_from bigint,
    p_to bigint, p_mask integer, p_max integer,
    OUT rc integer, OUT deleted integer, OUT more boolean, OUT error text)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT r.rc, r.deleted, r.more, r.error INTO rc, deleted, more, error
    FROM durable.purge_rounds(p_hub, p_from, p_to, p_mask, p_max, 0) r;
END
$$;


-- Level 3: durable.purge_batch() bounded by time too, as the LMDB store's
-- batch is (DS_OP_PURGE_BATCH's max_us): it deletes in rounds
-- (purge_rounds()) and stops once it has run for p_max_us (0: no bound
-- of the caller's; negative: after the first round) or a quarter of the
-- session's statement_timeout, whichever is less. So a batch of
-- instances with large histories is not cancelled by the server at its
-- statement_timeout, and rolled back, at every try; it deletes fewer,
-- and says more. With neither bound, one round of p_max, as
-- purge_batch().
CREATE OR REPLACE FUNCTION durable.purge_batch_for(p_hub text,
    p_from bigint, p_to bigint, p_mask integer, p_max integer,
    p_max_us bigint,
    OUT rc integer, OUT deleted integer, OUT more boolean, OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    budget  bigint;
    bound   bigint;
BEGIN
    -- statement_timeout in ms, 0 for none
    bound := (SELECT s.setting::bigint FROM pg_settings s
              WHERE s.name = 'statement_timeout') * 1000 / 4;
    -- an hour at most, so that the sizing stays in a bigint
    budget := least(coalesce(p_max_us, 0), 3600000000);

    IF bound > 0 AND (budget = 0 OR budget > bound) THEN
        budget := bound;
    END IF;

    SELECT r.rc, r.deleted, r.more, r.error INTO rc, deleted, more, error
    FROM durable.purge_rounds(p_hub, p_from, p_to, p_mask, p_max, budget) r;
END
$$;

