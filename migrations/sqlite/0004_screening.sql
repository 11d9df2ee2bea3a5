-- The screen's checklist per body version (every category flagged or clear, with what was
-- examined), beside the findings of migration 0002; and the court-judgment register.

CREATE TABLE screenings (
    contract_id  BLOB NOT NULL REFERENCES contracts (id),
    body_version BIGINT NOT NULL,
    checklist    TEXT NOT NULL,
    screened_at  TEXT NOT NULL,
    PRIMARY KEY (contract_id, body_version)
);

CREATE TABLE judgments (
    id             BLOB PRIMARY KEY NOT NULL,
    case_number    TEXT NOT NULL UNIQUE,
    court          TEXT NOT NULL,
    agency_id      BLOB NOT NULL REFERENCES agencies (id),
    kind           TEXT NOT NULL CHECK (kind IN ('construction_arrears', 'procurement_arrears', 'administrative_compensation', 'business_debt', 'other')),
    amount_due_fen BIGINT NOT NULL CHECK (amount_due_fen >= 0),
    amount_paid_fen BIGINT NOT NULL CHECK (amount_paid_fen >= 0),
    effective_on   TEXT NOT NULL,
    due_on         TEXT,
    status         TEXT NOT NULL CHECK (status IN ('unpaid', 'partially_paid', 'paid')),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX judgments_agency ON judgments (agency_id);

-- Payments against a judgment, for the half-yearly report of what was paid in a period.
CREATE TABLE judgment_payments (
    id          BLOB PRIMARY KEY NOT NULL,
    judgment_id BLOB NOT NULL REFERENCES judgments (id),
    amount_fen  BIGINT NOT NULL CHECK (amount_fen > 0),
    paid_on     TEXT NOT NULL,
    recorded_by BLOB NOT NULL REFERENCES users (id),
    created_at  TEXT NOT NULL
);
CREATE INDEX judgment_payments_judgment ON judgment_payments (judgment_id, paid_on);
