-- one NOTIFY per batch and hub, however many operations it holds; none
-- for a batch of refusals, reads or claims. run.sh counts what this
-- session receives:
-- notifications: 3

LISTEN durable;

-- a batch of four writes to one hub: one notification
BEGIN;
SELECT durable.start('hub', 'n1', 'N', NULL, '') \g /dev/null
SELECT durable.start('hub', 'n2', 'N', NULL, '') \g /dev/null
SELECT durable.raise_event('hub', 'n1', '"Name":"e","Input":null') \g /dev/null
SELECT durable.suspend('hub', 'n2', NULL) \g /dev/null
COMMIT;

-- refusals, reads, a claim: none
BEGIN;
SELECT durable.start('hub', 'n1', 'N', NULL, '') \g /dev/null
SELECT durable.raise_event('hub', 'missing', '') \g /dev/null
SELECT durable.status('hub', 'n1', true) \g /dev/null
SELECT * FROM durable.list_page('hub', 0, 0, 0, NULL, 10, 0, NULL) \g /dev/null
SELECT * FROM durable.claim_orchestrations('hub', 1000000,
    ARRAY['\x01010101010101010101010101010101'::bytea], NULL) \g /dev/null
COMMIT;

-- writes to two hubs: one each
BEGIN;
SELECT durable.start('hub', 'n3', 'N', NULL, '') \g /dev/null
SELECT durable.start('two', 'n1', 'N', NULL, '') \g /dev/null
SELECT durable.terminate('two', 'n1', NULL) \g /dev/null
COMMIT;

-- a write rolled back: none
BEGIN;
SELECT durable.start('hub', 'n4', 'N', NULL, '') \g /dev/null
ROLLBACK;

-- psql prints what arrived after each command
SELECT 1 \g /dev/null
