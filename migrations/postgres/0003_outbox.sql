-- The mail outbox: each row one rendered e-mail to one recipient, written in the same
-- transaction as the change it announces, sent later by the dispatcher. Replaces the
-- placeholder `notifications` rows (which held no rendered mail and were never sent).

DROP TABLE notifications;

CREATE TABLE outbox (
    id              UUID PRIMARY KEY NOT NULL,
    contract_id     UUID REFERENCES contracts (id),
    event           TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        BIGINT NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    -- A claim is a lease: if the claiming instance dies, the row is claimable again after it.
    claimed_until   TIMESTAMPTZ,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

-- At most one reminder (or escalation) per contract, recipient and day.
CREATE TABLE reminders_sent (
    contract_id UUID NOT NULL REFERENCES contracts (id),
    recipient   TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('reminder', 'escalation')),
    day         DATE NOT NULL,
    PRIMARY KEY (contract_id, recipient, kind, day)
);
