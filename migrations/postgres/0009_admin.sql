-- The administration page (HIS 1135's administration interface): who is signed in, what
-- every user did, and the IPLOS contacts as the IPLOS submitter keeps them.

-- A signed-in session, by the SHA-256 of its cookie's token (the token itself is never
-- stored), with the token its forms must carry. Ended at sign-out: the cookie is then refused
-- even if someone kept it.
CREATE TABLE admin_sessions (
    token_hash TEXT PRIMARY KEY,
    user_name  TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    address    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    ended_at   TIMESTAMPTZ
);

-- Every sign-in (and refused attempt), sign-out, re-send and change, with who and when.
-- Details name messages, numbers and contacts, never a patient.
CREATE TABLE admin_audit (
    id        BIGSERIAL PRIMARY KEY,
    at        TIMESTAMPTZ NOT NULL,
    user_name TEXT NOT NULL,
    address   TEXT NOT NULL,
    action    TEXT NOT NULL,
    detail    TEXT NOT NULL
);
CREATE INDEX admin_audit_by_time ON admin_audit (at);

-- The IPLOS contacts (code system 8471: 16 contact, 17 submitter) as last saved on the page
-- or with `kpr-bridge contacts`; they replace the configuration's [[contact]] tables in every
-- message from then on. The whole list is saved at once.
CREATE TABLE iplos_contacts (
    position   BIGINT PRIMARY KEY,
    kind       BIGINT NOT NULL,
    name       TEXT NOT NULL,
    phone      TEXT,
    email      TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL
);
