-- The daily flow in the register's format, HIS 1135 (XPR(ipl) 56.0.0). What the prototype
-- format kept (events per service and person, identities kept until shipped) cannot become
-- the register's notifications: daily reporting starts over with `daily --initial`, which
-- sends every service active on the start date and every event since (README, "Upgrading").
DROP TABLE daily_events;
DROP TABLE daily_identities;
DROP TABLE baseline_persons;
DROP TABLE baseline_services;
DROP TABLE daily_shipments;
DROP TABLE daily_state;
DELETE FROM daily_captures;

-- One row: the secret the person keys are derived with, the first reporting date, and the
-- start date of the initial load.
CREATE TABLE daily_state (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    pseudonym_secret TEXT NOT NULL,
    initial_date     DATE NOT NULL,
    since            DATE NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL
);

-- What the register was last told per service: its natural key (source, local id), the
-- tjenesteID the register knows it by (kept across an EPJ change), the GUIDs of its N
-- originals (JSON; what an M or C refers to), and its state with that state's hash.
CREATE TABLE baseline_services (
    source     TEXT NOT NULL,
    local_id   TEXT NOT NULL,
    service_id TEXT NOT NULL,
    originals  TEXT NOT NULL,
    hash       BIGINT NOT NULL,
    state      TEXT NOT NULL,
    PRIMARY KEY (source, local_id)
);

-- Each person the register was told of (by pseudonymous key): pasientGUID and brukerNr,
-- chosen once and kept for all years, across EPJ changes.
CREATE TABLE daily_persons (
    person_key   TEXT PRIMARY KEY,
    patient_guid TEXT NOT NULL,
    user_number  TEXT NOT NULL
);

-- Every notification, numbered in the transaction that writes it (notifikasjonLopeNr:
-- ascending, no gaps, never reused), chained by previous. body is the notification as sent
-- with its identity number left out; identity holds that number encrypted (AES-256-GCM with
-- the key file, the notification's GUID as associated data). first_message is the MsgId of
-- the first message it went in, NULL until shipped.
CREATE TABLE daily_notifications (
    number         BIGINT PRIMARY KEY,
    guid           TEXT NOT NULL UNIQUE,
    previous       TEXT NOT NULL,
    reporting_date DATE NOT NULL,
    kind           TEXT NOT NULL,
    status         TEXT NOT NULL,
    corrects       TEXT,
    event_day      DATE NOT NULL,
    user_number    TEXT NOT NULL,
    source         TEXT NOT NULL,
    local_id       TEXT NOT NULL,
    body           TEXT NOT NULL,
    identity       TEXT NOT NULL,
    first_message  TEXT
);
CREATE INDEX daily_notifications_unshipped ON daily_notifications (first_message, reporting_date);
CREATE INDEX daily_notifications_by_user ON daily_notifications (user_number);

-- Each daily message: a part of a date's shipment or a re-send.
CREATE TABLE daily_messages (
    msg_id         TEXT PRIMARY KEY,
    reporting_date DATE,
    at             TIMESTAMPTZ NOT NULL,
    part           BIGINT NOT NULL,
    parts          BIGINT NOT NULL,
    notifications  BIGINT NOT NULL,
    first_number   BIGINT NOT NULL,
    last_number    BIGINT NOT NULL,
    resend         BIGINT NOT NULL,
    forced         BIGINT NOT NULL
);

-- Which notifications went in which message (a re-send puts them in another).
CREATE TABLE daily_message_notifications (
    msg_id TEXT NOT NULL,
    number BIGINT NOT NULL,
    PRIMARY KEY (msg_id, number)
);
CREATE INDEX daily_message_notifications_by_number ON daily_message_notifications (number);

-- Each ship of a reporting date: how many notifications in how many messages (none on a
-- day without changes).
CREATE TABLE daily_shipments (
    shipment       TEXT PRIMARY KEY,
    reporting_date DATE NOT NULL,
    at             TIMESTAMPTZ NOT NULL,
    notifications  BIGINT NOT NULL,
    messages       BIGINT NOT NULL
);
CREATE INDEX daily_shipments_by_date ON daily_shipments (reporting_date);
