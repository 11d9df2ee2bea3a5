-- The review workflow: each contract pins the workflow it started under, records the approved
-- body's hash and the current stage's deadline; the transition history, findings, notifications
-- waiting to be sent, delegations and every workflow definition ever loaded.

ALTER TABLE contracts ADD COLUMN workflow_id TEXT NOT NULL DEFAULT 'contract-review';
ALTER TABLE contracts ADD COLUMN workflow_version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE contracts ADD COLUMN approved_sha256 TEXT;
ALTER TABLE contracts ADD COLUMN due_at TIMESTAMPTZ;
CREATE INDEX contracts_due ON contracts (due_at);

CREATE TABLE workflow_definitions (
    id        TEXT NOT NULL,
    version   BIGINT NOT NULL,
    sha256    TEXT NOT NULL,
    source    TEXT NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (id, version)
);

CREATE TABLE contract_transitions (
    id           UUID PRIMARY KEY NOT NULL,
    contract_id  UUID NOT NULL REFERENCES contracts (id),
    transition   TEXT NOT NULL,
    from_state   TEXT NOT NULL,
    to_state     TEXT NOT NULL,
    outcome      TEXT CHECK (outcome IN ('submitted', 'approved', 'returned', 'rejected', 'signed', 'withdrawn')),
    actor_id     UUID NOT NULL REFERENCES users (id),
    on_behalf_of UUID REFERENCES users (id),
    opinion      TEXT,
    body_version BIGINT NOT NULL,
    body_sha256  TEXT NOT NULL,
    at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX contract_transitions_contract ON contract_transitions (contract_id, at);

CREATE TABLE findings (
    id           UUID PRIMARY KEY NOT NULL,
    contract_id  UUID NOT NULL REFERENCES contracts (id),
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
    created_at   TIMESTAMPTZ NOT NULL,
    waived_by    UUID REFERENCES users (id),
    waived_at    TIMESTAMPTZ,
    waive_reason TEXT
);
CREATE INDEX findings_contract ON findings (contract_id, body_version);

-- Written in the transition's transaction; the mail dispatcher turns them into e-mails.
CREATE TABLE notifications (
    id            UUID PRIMARY KEY NOT NULL,
    contract_id   UUID NOT NULL REFERENCES contracts (id),
    transition_id UUID NOT NULL REFERENCES contract_transitions (id),
    event         TEXT NOT NULL,
    audience      TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE delegations (
    id           UUID PRIMARY KEY NOT NULL,
    delegator_id UUID NOT NULL REFERENCES users (id),
    deputy_id    UUID NOT NULL REFERENCES users (id),
    starts_on    DATE NOT NULL,
    ends_on      DATE NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ,
    CHECK (starts_on <= ends_on),
    CHECK (delegator_id <> deputy_id)
);
CREATE INDEX delegations_deputy ON delegations (deputy_id, starts_on);

CREATE TRIGGER contract_transitions_append_only BEFORE UPDATE OR DELETE ON contract_transitions
FOR EACH ROW EXECUTE FUNCTION reject_change();
