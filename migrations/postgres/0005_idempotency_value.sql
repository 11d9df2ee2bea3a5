-- A retried request is answered with the value saved the first time; which HTTP status that
-- value goes with is the handler's business, not the database's.
ALTER TABLE idempotency_keys DROP COLUMN status;
