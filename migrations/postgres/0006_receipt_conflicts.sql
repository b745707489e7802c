-- A receipt that contradicts the first final receipt for its message (OK after Avvist, or
-- the reverse): kept, never applied, and shown as needing action until someone looks.
ALTER TABLE receipts ADD COLUMN conflicting BOOLEAN NOT NULL DEFAULT FALSE;
