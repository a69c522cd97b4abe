-- ngx_durable PostgreSQL schema, version 4: what a start may carry and a
-- failed instance's details (the LMDB record's versions 5 and 6).
--
-- scheduled_start: µs, 0 at once; version: the orchestration's, NULL
-- none; tags: a JSON object of strings, NULL none; failure: a Failed
-- instance's FailureDetails as its completion gave them (JSON), NULL
-- none. durable.status() answers them, so its result type changes: it
-- is dropped here and made again with the other functions.

ALTER TABLE durable.instances
    ADD COLUMN scheduled_start bigint NOT NULL DEFAULT 0,
    ADD COLUMN version text,
    ADD COLUMN tags text,
    ADD COLUMN failure text;

DROP FUNCTION IF EXISTS durable.status(text, text, boolean);

INSERT INTO durable.schema_version (version) VALUES (4);
