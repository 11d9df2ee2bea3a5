-- The review workflow: each contract pins the workflow it started under, records the approved
-- body's hash and the current stage's deadline; the transition history, findings, notifications
-- waiting to be sent, delegations and every workflow definition ever loaded.

ALTER TABLE contracts ADD COLUMN workflow_id TEXT NOT NULL DEFAULT 'contract-review';
ALTER TABLE contracts ADD COLUMN workflow_version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE contracts ADD COLUMN approved_sha256 TEXT;
ALTER TABLE contracts ADD COLUMN due_at TEXT;
CREATE INDEX contracts_due ON contracts (due_at);

CREATE TABLE workflow_definitions (
    id        TEXT NOT NULL,
    version   BIGINT NOT NULL,
    sha256    TEXT NOT NULL,
    source    TEXT NOT NULL,
    loaded_at TEXT NOT NULL,
    PRIMARY KEY (id, version)
);

CREATE TABLE contract_transitions (
    id           BLOB PRIMARY KEY NOT NULL,
    contract_id  BLOB NOT NULL REFERENCES contracts (id),
    transition   TEXT NOT NULL,
    from_state   TEXT NOT NULL,
    to_state     TEXT NOT NULL,
    outcome      TEXT CHECK (outcome IN ('submitted', 'approved', 'returned', 'rejected', 'signed', 'withdrawn')),
    actor_id     BLOB NOT NULL REFERENCES users (id),
    on_behalf_of BLOB REFERENCES users (id),
    opinion      TEXT,
    body_version BIGINT NOT NULL,
    body_sha256  TEXT NOT NULL,
    at           TEXT NOT NULL
);
CREATE INDEX contract_transitions_contract ON contract_transitions (contract_id, at);

CREATE TABLE findings (
    id           BLOB PRIMARY KEY NOT NULL,
    contract_id  BLOB NOT NULL REFERENCES contracts (id),
    body_version BIGINT NOT NULL,
    rule         TEXT NOT NULL,
    category     TEXT NOT NULL,
    severity     TEXT NOT NULL CHECK (severity IN ('block', 'warn')),
    clause       TEXT NOT NULL,
    start_offset BIGINT NOT NULL,
    end_offset   BIGINT NOT NULL,
    excerpt      TEXT NOT NULL,
    provision    TEXT NOT NULL,
    advice       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    waived_by    BLOB REFERENCES users (id),
    waived_at    TEXT,
    waive_reason TEXT
);
CREATE INDEX findings_contract ON findings (contract_id, body_version);

-- Written in the transition's transaction; the mail dispatcher turns them into e-mails.
CREATE TABLE notifications (
    id            BLOB PRIMARY KEY NOT NULL,
    contract_id   BLOB NOT NULL REFERENCES contracts (id),
    transition_id BLOB NOT NULL REFERENCES contract_transitions (id),
    event         TEXT NOT NULL,
    audience      TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE delegations (
    id           BLOB PRIMARY KEY NOT NULL,
    delegator_id BLOB NOT NULL REFERENCES users (id),
    deputy_id    BLOB NOT NULL REFERENCES users (id),
    starts_on    TEXT NOT NULL,
    ends_on      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT,
    CHECK (starts_on <= ends_on),
    CHECK (delegator_id <> deputy_id)
);
CREATE INDEX delegations_deputy ON delegations (deputy_id, starts_on);

CREATE TRIGGER contract_transitions_append_only_update BEFORE UPDATE ON contract_transitions
BEGIN SELECT RAISE(ABORT, 'contract_transitions are append-only'); END;
CREATE TRIGGER contract_transitions_append_only_delete BEFORE DELETE ON contract_transitions
BEGIN SELECT RAISE(ABORT, 'contract_transitions are append-only'); END;
