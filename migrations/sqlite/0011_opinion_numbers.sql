-- 审查意见书的文号, 修改后同意 and 批注: every office numbers the letters it issues per year, without gaps. The number
-- is drawn in the transaction of the decision, so a decision that fails leaves no hole.

ALTER TABLE agencies ADD COLUMN opinion_prefix TEXT;
CREATE UNIQUE INDEX agencies_opinion_prefix ON agencies (opinion_prefix) WHERE opinion_prefix IS NOT NULL;

CREATE TABLE opinion_sequences (
    office_id   BLOB NOT NULL REFERENCES agencies (id),
    year        INTEGER NOT NULL,
    last_number BIGINT NOT NULL CHECK (last_number > 0),
    PRIMARY KEY (office_id, year)
);

ALTER TABLE contract_transitions ADD COLUMN opinion_number TEXT;
-- 修改后同意: the conditions an approval sets, as a JSON array of strings.
ALTER TABLE contract_transitions ADD COLUMN conditions TEXT;
CREATE UNIQUE INDEX contract_transitions_opinion_number ON contract_transitions (opinion_number)
    WHERE opinion_number IS NOT NULL;

-- The number of the latest letter, for the contract's JSON and lists.
ALTER TABLE contracts ADD COLUMN opinion_number TEXT;

-- 批注: a reviewer's comment on one clause, with suggested wording; the clerk accepts or rejects
-- each, a rejection with its reason.
CREATE TABLE clause_comments (
    id              BLOB PRIMARY KEY NOT NULL,
    contract_id     BLOB NOT NULL REFERENCES contracts (id),
    body_version    BIGINT NOT NULL,
    clause          TEXT NOT NULL,
    comment         TEXT NOT NULL,
    suggestion      TEXT,
    author_id       BLOB NOT NULL REFERENCES users (id),
    created_at      TEXT NOT NULL,
    resolution      TEXT CHECK (resolution IN ('accepted', 'rejected')),
    resolution_note TEXT,
    resolved_by     BLOB REFERENCES users (id),
    resolved_at     TEXT
);
CREATE INDEX clause_comments_contract ON clause_comments (contract_id, created_at);
