-- The outbox: every packed message, its current state and how it got there. Nothing is ever
-- deleted; an operator can always answer "what happened to message X".
CREATE TABLE outbox (
    msg_id        TEXT PRIMARY KEY,
    msg_type      TEXT NOT NULL,
    target        TEXT NOT NULL,
    to_her_id     TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'delivered', 'rejected', 'error', 'expired')),
    body          BYTEA NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    state_at      TIMESTAMPTZ NOT NULL,
    publish_count BIGINT NOT NULL DEFAULT 0,
    last_publish_at TIMESTAMPTZ,
    last_problem  TEXT
);
CREATE INDEX outbox_by_state ON outbox (state, created_at);

-- Every state change, timestamped.
CREATE TABLE outbox_transitions (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    msg_id     TEXT NOT NULL REFERENCES outbox (msg_id),
    from_state TEXT,
    to_state   TEXT NOT NULL,
    at         TIMESTAMPTZ NOT NULL,
    detail     TEXT
);
CREATE INDEX outbox_transitions_by_msg ON outbox_transitions (msg_id, id);

-- Application receipts (AppRec) that named a message of ours; errors as a JSON array.
CREATE TABLE receipts (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    msg_id      TEXT NOT NULL REFERENCES outbox (msg_id),
    receipt_id  TEXT NOT NULL,
    status      BIGINT NOT NULL,
    errors      TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    duplicate   BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX receipts_by_msg ON receipts (msg_id);

-- Transport error reports from our error queue (errorCondition, errorDescription).
CREATE TABLE error_reports (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    msg_id      TEXT NOT NULL REFERENCES outbox (msg_id),
    condition   TEXT NOT NULL,
    description TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL
);

-- Whatever arrived that could not be taken as a receipt or an error report: kept, with the
-- reason, so that acknowledging it to the broker never loses it silently.
CREATE TABLE anomalies (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    queue       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    detail      TEXT NOT NULL,
    msg_id      TEXT,
    size        BIGINT NOT NULL,
    body        BYTEA
);
