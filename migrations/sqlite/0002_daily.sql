-- The daily flow. No identity number or name anywhere except daily_identities, which holds
-- only what the next identity message needs and is emptied when it is shipped.

-- One row: the secret the person keys are derived with, and the first reporting date.
CREATE TABLE daily_state (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    pseudonym_secret TEXT NOT NULL,
    initial_date     TEXT NOT NULL,
    created_at       TEXT NOT NULL
);

-- What was last reported per service: its natural key (source, local id), the stable
-- reference the register knows it by, its last event, and its state with that state's hash.
CREATE TABLE baseline_services (
    source      TEXT NOT NULL,
    local_id    TEXT NOT NULL,
    service_ref TEXT NOT NULL,
    last_event  TEXT,
    hash        INTEGER NOT NULL,
    state       TEXT NOT NULL,
    PRIMARY KEY (source, local_id)
);

-- What was last reported per person (by pseudonymous key).
CREATE TABLE baseline_persons (
    person_key TEXT PRIMARY KEY,
    last_event TEXT,
    hash       INTEGER NOT NULL,
    state      TEXT NOT NULL
);

-- Every event, in the order it was captured; shipment is set when it went into a message.
CREATE TABLE daily_events (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id       TEXT NOT NULL UNIQUE,
    reporting_date TEXT NOT NULL,
    person_key     TEXT NOT NULL,
    kind           TEXT NOT NULL,
    status         TEXT NOT NULL,
    effective_on   TEXT NOT NULL,
    registered_at  TEXT NOT NULL,
    body           TEXT NOT NULL,
    shipment       TEXT
);
CREATE INDEX daily_events_unshipped ON daily_events (shipment, reporting_date);

-- Person key → identity number, for persons in events not shipped yet.
CREATE TABLE daily_identities (
    person_key TEXT PRIMARY KEY,
    ident      TEXT NOT NULL
);

-- Each capture: when, for which date, what it found.
CREATE TABLE daily_captures (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    reporting_date TEXT NOT NULL,
    at             TEXT NOT NULL,
    events         INTEGER NOT NULL,
    held           INTEGER NOT NULL,
    summary        TEXT NOT NULL
);

-- Each ship: the pair of messages it made, or none when there were no changes.
CREATE TABLE daily_shipments (
    shipment            TEXT PRIMARY KEY,
    reporting_date      TEXT NOT NULL,
    at                  TEXT NOT NULL,
    events              INTEGER NOT NULL,
    fagmelding_msg_id   TEXT,
    identmelding_msg_id TEXT
);
CREATE INDEX daily_shipments_by_date ON daily_shipments (reporting_date);
