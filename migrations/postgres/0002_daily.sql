-- The daily flow. No identity number or name anywhere except daily_identities, which holds
-- only what the next identity message needs and is emptied when it is shipped.

-- One row: the secret the person keys are derived with, and the first reporting date.
CREATE TABLE daily_state (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    pseudonym_secret TEXT NOT NULL,
    initial_date     DATE NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL
);

-- What was last reported per service: its natural key (source, local id), the stable
-- reference the register knows it by, its last event, and its state with that state's hash.
CREATE TABLE baseline_services (
    source      TEXT NOT NULL,
    local_id    TEXT NOT NULL,
    service_ref TEXT NOT NULL,
    last_event  TEXT,
    hash        BIGINT NOT NULL,
    state       TEXT NOT NULL,
    PRIMARY KEY (source, local_id)
);

-- What was last reported per person (by pseudonymous key).
CREATE TABLE baseline_persons (
    person_key TEXT PRIMARY KEY,
    last_event TEXT,
    hash       BIGINT NOT NULL,
    state      TEXT NOT NULL
);

-- Every event, in the order it was captured; shipment is set when it went into a message.
CREATE TABLE daily_events (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id       TEXT NOT NULL UNIQUE,
    reporting_date DATE NOT NULL,
    person_key     TEXT NOT NULL,
    kind           TEXT NOT NULL,
    status         TEXT NOT NULL,
    effective_on   DATE NOT NULL,
    registered_at  TIMESTAMPTZ NOT NULL,
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
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reporting_date DATE NOT NULL,
    at             TIMESTAMPTZ NOT NULL,
    events         BIGINT NOT NULL,
    held           BIGINT NOT NULL,
    summary        TEXT NOT NULL
);

-- Each ship: the pair of messages it made, or none when there were no changes.
CREATE TABLE daily_shipments (
    shipment            TEXT PRIMARY KEY,
    reporting_date      DATE NOT NULL,
    at                  TIMESTAMPTZ NOT NULL,
    events              BIGINT NOT NULL,
    fagmelding_msg_id   TEXT,
    identmelding_msg_id TEXT
);
CREATE INDEX daily_shipments_by_date ON daily_shipments (reporting_date);
