-- ngx_durable PostgreSQL schema, version 9: a sub-orchestration's
-- parent's created time (the LMDB instance record's version 7), kept
-- when the child starts, so that its end reaches only the parent that
-- started it: not one purged and started again under the same id, whose
-- executions are numbered from 1 again.
--
-- parent_created: NULL none (no parent, or a child started before this
-- version: its end goes by the execution alone, as before). The
-- functions fill it and compare it only on a database at this version
-- or above (durable.parent_links(), 00-common.sql): on 6 to 8 it is
-- absent, and children's ends go as before. A column without a default
-- is added without a rewrite of the table; the lock is held only for
-- the change of the catalog (docs/postgres.md, "Upgrades of a live
-- database").

ALTER TABLE durable.instances
    ADD COLUMN parent_created bigint;

INSERT INTO durable.schema_version (version) VALUES (9);
