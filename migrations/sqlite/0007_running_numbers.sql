-- Running numbers the register's formats ask for (IPLOS iiLopenr, the ident module's lopenr:
-- +1 per message sent in the year), by series such as `annual:2025`. A number is taken in its
-- own transaction and never given again, even if its message is not sent.
CREATE TABLE running_numbers (
    series TEXT PRIMARY KEY,
    last   INTEGER NOT NULL
);
