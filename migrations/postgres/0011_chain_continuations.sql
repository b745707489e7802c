-- After a restore from an older copy, the register has notifications the store does not:
-- the chain mark beside the identity key (src/daily/mark.rs) names the last one sent. An
-- operator's `kpr-bridge chain --continue-after-mark` records here that numbering goes on
-- after it (after_number, after_guid: the next notification is after_number + 1, its
-- previous GUID after_guid), with what the mark said of its message and what the store
-- lacked then: its own last notification (store_number, 0 for none; store_guid) and its
-- last shipped reporting date. The numbers store_number + 1 to after_number were sent and
-- are lost with the older copy.
CREATE TABLE daily_chain_continuations (
    after_number    BIGINT PRIMARY KEY,
    after_guid      TEXT NOT NULL,
    mark_msg_id     TEXT NOT NULL,
    mark_date       DATE,
    mark_at         TIMESTAMPTZ NOT NULL,
    store_number    BIGINT NOT NULL,
    store_guid      TEXT,
    store_last_date DATE,
    at              TIMESTAMPTZ NOT NULL
);
