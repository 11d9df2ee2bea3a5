-- Each mail once, and a day of retries.
-- `claimed_by` names the dispatcher holding a row's short lease, which it renews while it works
-- (a heartbeat): a dead dispatcher's rows are taken over within seconds, and a dispatcher records
-- an outcome only on a row that is still its own.
-- `retry_until` is set at a mail's first temporary failure: it is retried until then (default a
-- day later), then given up; an admin's retry clears it.
ALTER TABLE outbox ADD COLUMN claimed_by BLOB;
ALTER TABLE outbox ADD COLUMN retry_until TEXT;
CREATE INDEX outbox_claimed_by ON outbox (claimed_by) WHERE claimed_by IS NOT NULL;
