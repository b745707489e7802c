-- What `kpr-bridge status` and the agent's alerts need to survive a restart.

-- The findings of each capture's checks as JSON, [{"rule", "severity", "count"}]: no
-- examples, so nothing that locates a person. Captures from before this migration have none.
ALTER TABLE daily_captures ADD COLUMN findings TEXT;

-- Alerts delivered to the operator, by a key stable across runs (such as
-- `message-rejected:<MsgId>`): a key here is never raised again.
CREATE TABLE alerts (
    key       TEXT PRIMARY KEY,
    kind      TEXT NOT NULL,
    raised_at TEXT NOT NULL,
    message   TEXT NOT NULL
);
