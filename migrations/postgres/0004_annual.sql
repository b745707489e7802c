-- The annual messages (IPLOS 3.7) put in the outbox: which year and target each belongs to,
-- so that a second send can be refused while the first awaits its receipt. The message's
-- state is the outbox's.
CREATE TABLE annual_shipments (
    msg_id     TEXT PRIMARY KEY REFERENCES outbox (msg_id),
    shipment   TEXT NOT NULL,
    year       INTEGER NOT NULL,
    target     TEXT NOT NULL,
    msg_type   TEXT NOT NULL,
    persons    BIGINT NOT NULL,
    -- What --force overrode when this was sent, if anything.
    forced     TEXT,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX annual_shipments_by_year ON annual_shipments (year, target);
