-- ngx_durable PostgreSQL schema, version 4: the fields of the LMDB
-- store's records that version 1 had no column for, so that a hub moved
-- between the backends (durable export / import, docs/export-format.md)
-- keeps every byte of them.
--
--   instances: scheduled_start, version, tags (what an SDK's start asked
--              for) and failure (a Failed instance's details), as in the
--              instance record of store/ds_record.c;
--   entities:  owner and cs, the orchestration holding the entity's lock
--              and its critical section (store/ds_entity.c).
--
-- As elsewhere, NULL stands for an empty string (a field not set) and
-- times are microseconds since the epoch. IF NOT EXISTS: another upgrade
-- file of the same version may bring some of these columns too.

ALTER TABLE durable.instances
    ADD COLUMN IF NOT EXISTS scheduled_start bigint NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS version text COLLATE "C",
    ADD COLUMN IF NOT EXISTS tags text,
    ADD COLUMN IF NOT EXISTS failure text;

ALTER TABLE durable.entities
    ADD COLUMN IF NOT EXISTS owner text COLLATE "C",
    ADD COLUMN IF NOT EXISTS cs text COLLATE "C";

INSERT INTO durable.schema_version (version) VALUES (4);
