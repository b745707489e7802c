-- Which identity key sealed each notification's identity number (`crypto::at_rest`,
-- `[daily] identity_key_file`). A key is known here by its fingerprint — a SHA-256 of the
-- key, never the key itself — so that a key file that was lost and made anew is told from
-- the one that sealed the notifications before it: those can no longer be re-sent, and
-- `status`, `resend` and the page say so (docs/runbook.md, "A lost identity key").
CREATE TABLE identity_keys (
    id           INTEGER PRIMARY KEY,
    -- NULL for the key that sealed notifications before keys were recorded here, when the
    -- key file of the first run after this migration did not open them.
    fingerprint  TEXT UNIQUE,
    -- The first notification number it sealed: one after the last when it was first seen.
    first_number INTEGER NOT NULL,
    first_seen   TEXT NOT NULL,
    last_seen    TEXT NOT NULL,
    -- 1 for the key that seals now (the key file itself), 0 for every other.
    current      INTEGER NOT NULL,
    -- 1 while the last run that read the key files found it (the key file, or a
    -- `<key file>.previous…` beside it), 0 once it is gone.
    present      INTEGER NOT NULL,
    -- While it is not present: how many notifications it sealed that were sent (they cannot
    -- be sent again) and their numbers as JSON ranges ([[first, last], …], the first 50),
    -- worked out once when it went (a sent notification under a missing key never changes,
    -- since nothing under it can be sent); NULL while present.
    lost_count   INTEGER NOT NULL DEFAULT 0,
    lost_ranges  TEXT
);

-- The identity key (identity_keys.id) that sealed the notification's identity number. NULL
-- for those sealed before keys were recorded, until the next run that reads the key file
-- tells which key that was.
ALTER TABLE daily_notifications ADD COLUMN identity_key INTEGER;
