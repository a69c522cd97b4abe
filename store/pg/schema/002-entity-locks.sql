-- ngx_durable PostgreSQL schema, version 2: entity locks.
--
-- A critical section locks an entity for one orchestration (owner, the
-- instance id) and one section (cs, its id), as the LMDB store's entity
-- record of version 3 does; both NULL when the entity is not locked.
-- Entity lists and clean-ups walk every entity of a hub in id order,
-- those without state too (they count toward a page's scan budget and
-- its token, as on LMDB): the index on (hub, id) serves that walk.

ALTER TABLE durable.entities
    ADD COLUMN owner text COLLATE "C",
    ADD COLUMN cs text COLLATE "C";

CREATE INDEX entities_id ON durable.entities (hub, id);

INSERT INTO durable.schema_version (version) VALUES (2);
