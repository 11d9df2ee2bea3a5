-- People outside an agency who may sign its contracts (a counterparty's representative who signs
-- on the agency's form, an external legal representative), named and allowed by an admin. Every
-- other signatory must be a user of the contract's agency with the signatory role.
CREATE TABLE external_signatories (
    agency_id    BLOB NOT NULL REFERENCES agencies (id),
    email        TEXT NOT NULL,
    name         TEXT NOT NULL,
    organisation TEXT NOT NULL,
    added_by     BLOB REFERENCES users (id),
    added_at     TEXT NOT NULL,
    PRIMARY KEY (agency_id, email)
);
