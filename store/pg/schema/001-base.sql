-- ngx_durable PostgreSQL schema, version 1: the tables.
--
-- Applied once, in one transaction, by `durable schema init`, never by
-- nginx; a later version comes as a file 002-*.sql that `durable schema
-- upgrade` applies. The functions that read and write these tables are in
-- ../functions/, created again by every init and upgrade.
-- docs/postgres.md explains the design.
--
-- Every table but the three small ones at the top is keyed first by (hub,
-- partition): partition is durable.partition_of(partitions, id), a stable
-- hash of the instance (or entity) id modulo the hub's constant number of
-- partitions, so that a distributed PostgreSQL (Citus) can spread the
-- tables by that column, the rows of one instance staying together.
--
-- Ids, names and hubs are text in the "C" collation, so that they sort by
-- their bytes as the LMDB store's keys do. JSON values are the compact
-- text the store validated, kept as text (jsonb would reorder members and
-- rewrite numbers); NULL stands for JSON null. Times are microseconds
-- since the Unix epoch (bigint), as everywhere in the store; leases are
-- timed by the database clock. Unsigned 64-bit values (execution, inbox
-- counters, digests) are kept in bigint with the same bits.

CREATE SCHEMA durable;

CREATE TABLE durable.schema_version (
    version             integer PRIMARY KEY,
    applied             timestamptz NOT NULL DEFAULT now()
);

-- a hub's number of partitions, fixed when its first instance is made
CREATE TABLE durable.hubs (
    hub                 text COLLATE "C" PRIMARY KEY
                        CHECK (octet_length(hub) BETWEEN 1 AND 50),
    partitions          integer NOT NULL CHECK (partitions BETWEEN 1 AND 4096),
    created             timestamptz NOT NULL DEFAULT now()
);

-- settings of the whole schema; 'partitions' is the default for new hubs
CREATE TABLE durable.settings (
    name                text COLLATE "C" PRIMARY KEY,
    value               text NOT NULL
);

INSERT INTO durable.settings VALUES ('partitions', '16');

-- the instance record: the LMDB store's instance record, one column a
-- field (docs/design.md, "Records and versions")
CREATE TABLE durable.instances (
    hub                 text COLLATE "C" NOT NULL,
    partition           integer NOT NULL,
    id                  text COLLATE "C" NOT NULL,
    status              smallint NOT NULL,
    suspended_from      smallint NOT NULL,
    created             bigint NOT NULL,
    updated             bigint NOT NULL,
    execution           bigint NOT NULL,
    name                text COLLATE "C" NOT NULL,
    input               text,
    output              text,
    custom_status       text,
    parent_id           text COLLATE "C",
    parent_task         bigint NOT NULL DEFAULT -1,
    parent_execution    bigint NOT NULL DEFAULT 0,
    ready_at            bigint NOT NULL DEFAULT 0,  -- 0: not ready
    lease               bytea,                      -- NULL: no lease
    lease_expires       bigint NOT NULL DEFAULT 0,
    episode_at          bigint NOT NULL DEFAULT 0,
    lease_upto          bigint NOT NULL DEFAULT 0,
    inbox_seq           bigint NOT NULL DEFAULT 0,
    done_status         smallint NOT NULL DEFAULT 6,
    done_lease          bytea,
    done_digest         bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (hub, partition, id)
);

-- lists and purges page by keyset on (created, id), as by_created and
-- by_status do in LMDB
CREATE INDEX instances_created ON durable.instances (hub, created, id);
CREATE INDEX instances_status
    ON durable.instances (hub, status, created, id);

-- the ready index of orchestrations: a partial index on the record's own
-- ready_at, so that it cannot disagree with the record
CREATE INDEX instances_ready ON durable.instances (hub, ready_at, id)
    WHERE ready_at > 0;

CREATE TABLE durable.history (
    hub                 text COLLATE "C" NOT NULL,
    partition           integer NOT NULL,
    id                  text COLLATE "C" NOT NULL,
    seq                 bigint NOT NULL,
    event               text NOT NULL,
    PRIMARY KEY (hub, partition, id, seq)
);

-- messages in history shape, numbered from instances.inbox_seq
CREATE TABLE durable.inbox (
    hub                 text COLLATE "C" NOT NULL,
    partition           integer NOT NULL,
    id                  text COLLATE "C" NOT NULL,
    seq                 bigint NOT NULL,
    message             text NOT NULL,
    PRIMARY KEY (hub, partition, id, seq)
);

-- a scheduled activity call; done: a tombstone that keeps the lease and
-- digest of its completion (name and input are then NULL)
CREATE TABLE durable.activities (
    hub                 text COLLATE "C" NOT NULL,
    partition           integer NOT NULL,
    id                  text COLLATE "C" NOT NULL,
    task_id             bigint NOT NULL,
    done                boolean NOT NULL DEFAULT false,
    name                text COLLATE "C",
    input               text,
    ready_at            bigint NOT NULL DEFAULT 0,
    lease               bytea,
    lease_expires       bigint NOT NULL DEFAULT 0,
    done_digest         bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (hub, partition, id, task_id)
);

CREATE INDEX activities_ready ON durable.activities (hub, ready_at, id, task_id)
    WHERE ready_at > 0;

-- durable timers; the index on due serves the claims that fire them
CREATE TABLE durable.timers (
    hub                 text COLLATE "C" NOT NULL,
    partition           integer NOT NULL,
    id                  text COLLATE "C" NOT NULL,
    timer_id            bigint NOT NULL,
    due                 bigint NOT NULL,
    fire_at             bigint NOT NULL,
    PRIMARY KEY (hub, partition, id, timer_id)
);

CREATE INDEX timers_due ON durable.timers (hub, due);

-- entities, by their id "@name@key"; state NULL with has_state: JSON null
CREATE TABLE durable.entities (
    hub                 text COLLATE "C" NOT NULL,
    partition           integer NOT NULL,
    id                  text COLLATE "C" NOT NULL,
    has_state           boolean NOT NULL DEFAULT false,
    state               text,
    last_op             bigint NOT NULL DEFAULT 0,
    ready_at            bigint NOT NULL DEFAULT 0,
    lease               bytea,
    lease_expires       bigint NOT NULL DEFAULT 0,
    lease_upto          bigint NOT NULL DEFAULT 0,
    op_seq              bigint NOT NULL DEFAULT 0,
    done_lease          bytea,
    done_digest         bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (hub, partition, id)
);

CREATE INDEX entities_ready ON durable.entities (hub, ready_at, id)
    WHERE ready_at > 0;
CREATE INDEX entities_listed ON durable.entities (hub, id) WHERE has_state;

CREATE TABLE durable.entity_ops (
    hub                 text COLLATE "C" NOT NULL,
    partition           integer NOT NULL,
    id                  text COLLATE "C" NOT NULL,
    seq                 bigint NOT NULL,
    operation           text NOT NULL,
    PRIMARY KEY (hub, partition, id, seq)
);

INSERT INTO durable.schema_version (version) VALUES (1);
