-- Drafts as offices have them: the Word or PDF file each body version was converted from, the
-- review materials (审查材料) with their SHA-256, the history of revised facts, and 退回补正:
-- its points, their answers, and the working days its stopped clock keeps.

CREATE TABLE draft_files (
    contract_id  BLOB NOT NULL REFERENCES contracts (id),
    body_version BIGINT NOT NULL,
    file_name    TEXT NOT NULL,
    media_type   TEXT NOT NULL,
    size_bytes   BIGINT NOT NULL CHECK (size_bytes >= 0),
    sha256       TEXT NOT NULL,
    content      BLOB NOT NULL,
    uploaded_by  BLOB NOT NULL REFERENCES users (id),
    uploaded_at  TEXT NOT NULL,
    PRIMARY KEY (contract_id, body_version)
);

-- Materials are never overwritten: a replaced or removed one keeps its row, with `removed_at`.
CREATE TABLE attachments (
    id          BLOB PRIMARY KEY NOT NULL,
    contract_id BLOB NOT NULL REFERENCES contracts (id),
    kind        TEXT NOT NULL CHECK (kind IN ('qualification', 'power_of_attorney', 'tender_documents', 'award_notice', 'project_approval', 'funding_proof', 'risk_assessment', 'other')),
    file_name   TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    size_bytes  BIGINT NOT NULL CHECK (size_bytes >= 0),
    sha256      TEXT NOT NULL,
    content     BLOB NOT NULL,
    uploaded_by BLOB NOT NULL REFERENCES users (id),
    uploaded_at TEXT NOT NULL,
    removed_by  BLOB REFERENCES users (id),
    removed_at  TEXT
);
CREATE INDEX attachments_contract ON attachments (contract_id, removed_at);

CREATE TABLE fact_revisions (
    id          BLOB PRIMARY KEY NOT NULL,
    contract_id BLOB NOT NULL REFERENCES contracts (id),
    before      TEXT NOT NULL,
    after       TEXT NOT NULL,
    changed_by  BLOB NOT NULL REFERENCES users (id),
    changed_at  TEXT NOT NULL
);
CREATE INDEX fact_revisions_contract ON fact_revisions (contract_id, changed_at);

CREATE TABLE supplement_points (
    request_id   BLOB NOT NULL REFERENCES contract_transitions (id),
    number       BIGINT NOT NULL,
    contract_id  BLOB NOT NULL REFERENCES contracts (id),
    text         TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    answer       TEXT CHECK (answer IN ('revised', 'supplied', 'declined')),
    answer_note  TEXT,
    answered_by  BLOB REFERENCES contract_transitions (id),
    answered_at  TEXT,
    PRIMARY KEY (request_id, number)
);
CREATE INDEX supplement_points_open ON supplement_points (contract_id, answered_at);

ALTER TABLE contracts ADD COLUMN clock_paused_days BIGINT;
ALTER TABLE contracts ADD COLUMN approved_manifest_sha256 TEXT;
