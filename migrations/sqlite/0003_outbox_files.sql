-- A message too large to hold (the annual message runs to hundreds of MB) is packed to a file
-- in the data directory instead of into `body`, which then stays empty: `body_file` is that
-- file's absolute path. `body_size` is the packed size either way, for listings; rows from
-- before this migration have none, and their size is the length of `body`.
ALTER TABLE outbox ADD COLUMN body_file TEXT;
ALTER TABLE outbox ADD COLUMN body_size BIGINT;
