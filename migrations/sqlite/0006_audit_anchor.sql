-- Each contract keeps the head of its audit chain on its own row, so that `audit verify` notices
-- a chain cut short at its end (the chain alone cannot: what is missing leaves no trace).
ALTER TABLE contracts ADD COLUMN audit_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE contracts ADD COLUMN audit_hash TEXT NOT NULL DEFAULT '';

UPDATE contracts SET
    audit_seq = COALESCE((SELECT MAX(e.seq) FROM audit_events e
                          WHERE e.subject_kind = 'contract' AND e.subject_id = contracts.id), 0),
    audit_hash = COALESCE((SELECT e.hash FROM audit_events e
                           WHERE e.subject_kind = 'contract' AND e.subject_id = contracts.id
                           ORDER BY e.seq DESC LIMIT 1), '');
