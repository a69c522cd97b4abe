-- ngx_durable PostgreSQL schema, version 8: an activity's version and
-- tags (the LMDB activity record's version 3), as a gRPC
-- ScheduleTaskAction gives them, for the worker's ActivityRequest.
--
-- version: NULL none; tags: a JSON object of strings as the action gave
-- it, NULL none. The functions fill and answer them only on a database
-- at this version or above (durable.activity_options(), 40-activity.sql):
-- on version 6 or 7 they are absent, as before. Columns without a
-- default are added without a rewrite of the table; the lock is held
-- only for the change of the catalog (docs/postgres.md, "Upgrades of a
-- live database").

ALTER TABLE durable.activities
    ADD COLUMN version text,
    ADD COLUMN tags text;

INSERT INTO durable.schema_version (version) VALUES (8);
