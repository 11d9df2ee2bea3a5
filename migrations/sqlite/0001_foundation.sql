-- Agencies, users, tokens, contracts with immutable body versions, and the audit trail.
-- Ids are UUID v7 (16-byte BLOBs); money is integer fen; times are RFC 3339 UTC text.

CREATE TABLE agencies (
    id         BLOB PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL UNIQUE,
    parent_id  BLOB REFERENCES agencies (id),
    created_at TEXT NOT NULL
);
CREATE INDEX agencies_parent ON agencies (parent_id);

CREATE TABLE users (
    id            BLOB PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    agency_id     BLOB NOT NULL REFERENCES agencies (id),
    password_hash TEXT NOT NULL,
    active        BOOLEAN NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX users_agency ON users (agency_id);

CREATE TABLE user_roles (
    user_id BLOB NOT NULL REFERENCES users (id),
    role    TEXT NOT NULL CHECK (role IN ('submitter', 'reviewer', 'lead_reviewer', 'signatory', 'admin', 'auditor')),
    PRIMARY KEY (user_id, role)
);

-- Bearer tokens are stored as their SHA-256 only.
CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE login_failures (
    id      BLOB PRIMARY KEY NOT NULL,
    email   TEXT NOT NULL,
    address TEXT NOT NULL,
    at      TEXT NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email, at);
CREATE INDEX login_failures_address ON login_failures (address, at);

CREATE TABLE contracts (
    id             BLOB PRIMARY KEY NOT NULL,
    agency_id      BLOB NOT NULL REFERENCES agencies (id),
    title          TEXT NOT NULL,
    contract_type  TEXT NOT NULL CHECK (contract_type IN ('procurement', 'construction', 'service', 'lease', 'guarantee', 'investment', 'other')),
    counterparty   TEXT NOT NULL,
    amount_fen     BIGINT NOT NULL CHECK (amount_fen >= 0),
    funding_source TEXT,
    agency_party   TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('draft', 'legal_review', 'lead_review', 'revision_requested', 'approved', 'rejected', 'signed', 'withdrawn')),
    -- Optimistic concurrency: bumped by every change; clients send it back as expected_version.
    version        BIGINT NOT NULL,
    body_version   BIGINT NOT NULL,
    created_by     BLOB NOT NULL REFERENCES users (id),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX contracts_agency ON contracts (agency_id, id);
CREATE INDEX contracts_state ON contracts (state, id);

CREATE TABLE contract_signatories (
    contract_id BLOB NOT NULL REFERENCES contracts (id),
    email       TEXT NOT NULL,
    PRIMARY KEY (contract_id, email)
);

CREATE TABLE contract_versions (
    contract_id   BLOB NOT NULL REFERENCES contracts (id),
    number        BIGINT NOT NULL,
    body_markdown TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    created_by    BLOB NOT NULL REFERENCES users (id),
    created_at    TEXT NOT NULL,
    PRIMARY KEY (contract_id, number)
);

CREATE TABLE audit_events (
    id           BLOB PRIMARY KEY NOT NULL,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('contract', 'user', 'agency')),
    subject_id   BLOB NOT NULL,
    seq          BIGINT NOT NULL,
    actor_id     BLOB,
    action       TEXT NOT NULL,
    at           TEXT NOT NULL,
    data         TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL,
    UNIQUE (subject_kind, subject_id, seq)
);

-- A saved response per (user, Idempotency-Key), written in the same transaction as the change.
CREATE TABLE idempotency_keys (
    user_id      BLOB NOT NULL REFERENCES users (id),
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       BIGINT NOT NULL,
    response     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- Body versions and audit events are legal records: never changed, never deleted.
CREATE TRIGGER contract_versions_immutable_update BEFORE UPDATE ON contract_versions
BEGIN SELECT RAISE(ABORT, 'contract_versions are immutable'); END;
CREATE TRIGGER contract_versions_immutable_delete BEFORE DELETE ON contract_versions
BEGIN SELECT RAISE(ABORT, 'contract_versions are immutable'); END;
CREATE TRIGGER audit_events_append_only_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events are append-only'); END;
CREATE TRIGGER audit_events_append_only_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events are append-only'); END;
