-- ngx_durable PostgreSQL schema, version 5: entity signals scheduled for
-- later.
--
-- A signal sent for a later time waits as a timer of its entity (id
-- "@name@key", timer ids counted per entity) that carries the operation
-- message: message, NULL for an orchestration's timer. The claims fire
-- it when it is due, on the database's clock, and only then is it put in
-- the entity's queue, so the signals sent meanwhile are not held behind
-- it (as the LMDB store's timers carry it, store/ds_timer.c). Keyed as
-- every timer is, (hub, partition, id, timer_id), the partition the
-- entity's. durable.entity_signal() takes the time now: the old one is
-- dropped here and made again with the other functions.

ALTER TABLE durable.timers ADD COLUMN message text;

-- the order timers fire in: by due time, then as LMDB's key, by id and
-- timer id, so that signals due together keep the order they were sent
DROP INDEX durable.timers_due;
CREATE INDEX timers_due ON durable.timers (hub, due, id, timer_id);

DROP FUNCTION IF EXISTS durable.entity_signal(text, text, text);

INSERT INTO durable.schema_version (version) VALUES (5);
