-- The language each user of the administration page reads it in, as they chose it there
-- ("nb" or "en"); a user who never chose reads the configuration's `language`.
CREATE TABLE admin_user_settings (
    user_name  TEXT PRIMARY KEY,
    language   TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
