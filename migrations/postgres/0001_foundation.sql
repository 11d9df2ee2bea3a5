-- Agencies, users, tokens, contracts with immutable body versions, and the audit trail.
-- Ids are UUID v7; money is integer fen (BIGINT); times are TIMESTAMPTZ in UTC.

CREATE TABLE agencies (
    id         UUID PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL UNIQUE,
    parent_id  UUID REFERENCES agencies (id),
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX agencies_parent ON agencies (parent_id);

CREATE TABLE users (
    id            UUID PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    agency_id     UUID NOT NULL REFERENCES agencies (id),
    password_hash TEXT NOT NULL,
    active        BOOLEAN NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX users_agency ON users (agency_id);

CREATE TABLE user_roles (
    user_id UUID NOT NULL REFERENCES users (id),
    role    TEXT NOT NULL CHECK (role IN ('submitter', 'reviewer', 'lead_reviewer', 'signatory', 'admin', 'auditor')),
    PRIMARY KEY (user_id, role)
);

-- Bearer tokens are stored as their SHA-256 only.
CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    UUID NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE login_failures (
    id      UUID PRIMARY KEY NOT NULL,
    email   TEXT NOT NULL,
    address TEXT NOT NULL,
    at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email, at);
CREATE INDEX login_failures_address ON login_failures (address, at);

CREATE TABLE contracts (
    id             UUID PRIMARY KEY NOT NULL,
    agency_id      UUID NOT NULL REFERENCES agencies (id),
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
    created_by     UUID NOT NULL REFERENCES users (id),
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX contracts_agency ON contracts (agency_id, id);
CREATE INDEX contracts_state ON contracts (state, id);

CREATE TABLE contract_signatories (
    contract_id UUID NOT NULL REFERENCES contracts (id),
    email       TEXT NOT NULL,
    PRIMARY KEY (contract_id, email)
);

CREATE TABLE contract_versions (
    contract_id   UUID NOT NULL REFERENCES contracts (id),
    number        BIGINT NOT NULL,
    body_markdown TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    created_by    UUID NOT NULL REFERENCES users (id),
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (contract_id, number)
);

CREATE TABLE audit_events (
    id           UUID PRIMARY KEY NOT NULL,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('contract', 'user', 'agency')),
    subject_id   UUID NOT NULL,
    seq          BIGINT NOT NULL,
    actor_id     UUID,
    action       TEXT NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    data         TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL,
    UNIQUE (subject_kind, subject_id, seq)
);

-- A saved response per (user, Idempotency-Key), written in the same transaction as the change.
CREATE TABLE idempotency_keys (
    user_id      UUID NOT NULL REFERENCES users (id),
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       BIGINT NOT NULL,
    response     TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- Body versions and audit events are legal records: never changed, never deleted.
CREATE FUNCTION reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER contract_versions_immutable BEFORE UPDATE OR DELETE ON contract_versions
FOR EACH ROW EXECUTE FUNCTION reject_change();
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION reject_change();
