//! The chain's high-water mark: the last daily notification put in the outbox — its
//! `notifikasjonLopeNr`, its GUID, the MsgId of the message it first went in, that message's
//! reporting date and time — kept in a small file **outside the state store**, beside the
//! identity key file (`[daily] identity_key_file` + `.mark`, e.g. `identity.key.mark`), which
//! is backed up apart from the store already.
//!
//! The register checks completeness by the chain (number, previous GUID). A store put back
//! from an older copy would number the next notifications after its own last one: numbers the
//! register already has, under other GUIDs. The mark is what the store cannot lose with
//! itself, so the daily flow refuses to go on from a store behind it ([`guard`]): `daily`,
//! `resend` and the agent's captures and ships, until the operator decides
//! (`kpr-bridge chain --continue-after-mark`, which records in the store that numbering goes
//! on after the mark: `store/chain.rs`).
//!
//! The rule: the store is behind when its last notification (or the continuation recorded
//! after a restore) is numbered below the mark's, and it disagrees when it holds the mark's
//! number under another GUID. Without a mark file (the first run, or an installation from
//! before the mark) the guard passes, and the next ship writes one.
//!
//! The mark moves only forward and only with the daily lock held ([`advance`], in a daily
//! transaction of its own right after a ship commits, and in [`guard`] when the store is found
//! ahead of it, which heals a mark a crash kept from being written). It is written as a
//! temporary file, synced, renamed into place, and the directory synced.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

use crate::config::daily::Daily;
use crate::store::daily::DailyTx;
use crate::store::{Store, StoreError};

/// What the file says it is, for a person who opens it.
const NOTE: &str = "kpr-bridge's chain mark: the last daily notification put in the outbox. Written by kpr-bridge at each ship; do not edit. See docs/runbook.md, \"Backing up and restoring the state store\".";

/// The last notification put in the outbox, as the mark file keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// `notifikasjonLopeNr`.
    pub number: i64,
    pub guid: Uuid,
    /// The message it first went in.
    pub msg_id: String,
    /// That message's reporting date; `None` for a re-send.
    pub reporting_date: Option<NaiveDate>,
    /// When that message was put in the outbox.
    pub at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct File {
    #[serde(default)]
    note: String,
    format: u32,
    #[serde(flatten)]
    mark: Mark,
}

const FORMAT: u32 = 1;

/// The mark file of a configuration: beside the identity key file, its name with `.mark`.
pub fn file_for(daily: &Daily) -> PathBuf {
    let mut name = daily.identity_key_file.as_os_str().to_owned();
    name.push(".mark");
    PathBuf::from(name)
}

#[derive(Debug, Error)]
pub enum MarkError {
    #[error("the chain mark {}: cannot be read: {source}", file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the chain mark {}: is not a mark kpr-bridge wrote ({why}); put back the copy from the backup of the identity key's directory, or move it aside if it is not this installation's — the next ship writes a new one",
        file.display()
    )]
    Unreadable { file: PathBuf, why: String },
    #[error("the chain mark {}: cannot be written: {source}; the messages are in the outbox, but nothing is captured or sent until it can be — check that directory's owner, mode and free space", file.display())]
    Write {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the state store is behind the chain KPR has been sent: its last notification is {store}, but number {} (GUID {}) went to KPR in message {}{} — recorded in the chain mark {}. The store was put back from an older copy (or is not this installation's); numbering on from it would give KPR numbers it already has. Nothing was captured or sent. What to do: `kpr-bridge chain --config FILE` lists the notifications missing from the store; then `kpr-bridge chain --continue-after-mark --config FILE` makes numbering go on after {}, and tell FHI which numbers and dates were lost (docs/runbook.md, \"Backing up and restoring the state store\")",
        mark.number, mark.guid, mark.msg_id, describe_date(mark.reporting_date), file.display(), mark.number,
        store = store_words(*store)
    )]
    Behind {
        file: PathBuf,
        mark: Mark,
        store: Option<(i64, Uuid)>,
    },
    #[error(
        "the state store and the chain mark {} disagree about notification {}: KPR was sent GUID {} under that number (message {}), the store holds GUID {}. This store did not send what the mark records. Nothing was captured or sent. What to do: check that the configuration's state store and [daily] identity_key_file are this municipality's (`kpr-bridge chain --config FILE`); docs/runbook.md, \"Backing up and restoring the state store\", says what next",
        file.display(), mark.number, mark.guid, mark.msg_id, store_guid
    )]
    Diverged {
        file: PathBuf,
        mark: Mark,
        store_guid: Uuid,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn describe_date(date: Option<NaiveDate>) -> String {
    match date {
        Some(date) => format!(" for {date}"),
        None => " (a re-send)".to_string(),
    }
}

fn store_words(store: Option<(i64, Uuid)>) -> String {
    match store {
        Some((number, guid)) => format!("number {number} (GUID {guid})"),
        None => "none (the store holds no notification)".to_string(),
    }
}

/// Reads the mark; `None` when there is no file.
pub fn read(file: &Path) -> Result<Option<Mark>, MarkError> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(MarkError::Read {
                file: file.to_path_buf(),
                source,
            });
        }
    };
    let parsed: File = serde_json::from_str(&text).map_err(|e| MarkError::Unreadable {
        file: file.to_path_buf(),
        why: e.to_string(),
    })?;
    if parsed.format != FORMAT {
        return Err(MarkError::Unreadable {
            file: file.to_path_buf(),
            why: format!("format {}, this kpr-bridge reads {FORMAT}", parsed.format),
        });
    }
    Ok(Some(parsed.mark))
}

/// Writes the mark: a temporary file beside it (mode 0600), synced, renamed into place, and
/// the directory synced, so that the mark on disk is the old one or the new one, whole.
pub fn write(file: &Path, mark: &Mark) -> Result<(), MarkError> {
    let fail = |source| MarkError::Write {
        file: file.to_path_buf(),
        source,
    };
    let text = serde_json::to_string_pretty(&File {
        note: NOTE.to_string(),
        format: FORMAT,
        mark: mark.clone(),
    })
    .expect("a mark serializes");
    let dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut temporary = file.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = PathBuf::from(temporary);
    let written = (|| {
        let mut out = open_private(&temporary)?;
        out.write_all(text.as_bytes())?;
        out.write_all(b"\n")?;
        out.sync_all()?;
        std::fs::rename(&temporary, file)?;
        std::fs::File::open(&dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written.map_err(fail)
}

fn open_private(file: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(file)
}

/// Where the store stands against the mark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Position {
    /// No mark file: the first run, or an installation from before the mark.
    NoMark,
    /// The store holds the mark's notification (or goes on after it).
    Whole { mark: Mark },
    /// The store's last notification is below the mark's.
    Behind {
        mark: Mark,
        store: Option<(i64, Uuid)>,
    },
    /// The store holds the mark's number under another GUID.
    Diverged { mark: Mark, store_guid: Uuid },
}

impl Position {
    pub fn is_whole(&self) -> bool {
        matches!(self, Position::NoMark | Position::Whole { .. })
    }

    /// The refusal for a position that is not whole.
    pub fn refusal(self, file: &Path) -> Option<MarkError> {
        let file = file.to_path_buf();
        match self {
            Position::NoMark | Position::Whole { .. } => None,
            Position::Behind { mark, store } => Some(MarkError::Behind { file, mark, store }),
            Position::Diverged { mark, store_guid } => Some(MarkError::Diverged {
                file,
                mark,
                store_guid,
            }),
        }
    }
}

/// Judges `mark` against the store in `tx`: its last notification (a continuation counts,
/// `store/chain.rs`) and what it holds under the mark's number.
pub async fn position(tx: &mut DailyTx, mark: Option<Mark>) -> Result<Position, StoreError> {
    let Some(mark) = mark else {
        return Ok(Position::NoMark);
    };
    let last = tx.last_notification().await?;
    if last.is_none_or(|(number, _)| number < mark.number) {
        return Ok(Position::Behind { mark, store: last });
    }
    match tx.guid_at(mark.number).await? {
        Some(guid) if guid != mark.guid => Ok(Position::Diverged {
            mark,
            store_guid: guid,
        }),
        // Not held at all only when a continuation jumped over the number: the store goes
        // on after a later mark than this one.
        _ => Ok(Position::Whole { mark }),
    }
}

/// Refuses, inside the daily transaction `tx`, to go on from a store behind the mark of
/// `daily` (or holding the mark's number under another GUID). A store ahead of its mark
/// moves the mark up (a crash between a ship's commit and its mark leaves it behind).
pub async fn guard(tx: &mut DailyTx, daily: &Daily) -> Result<(), MarkError> {
    let file = file_for(daily);
    let mark = read(&file)?;
    match position(tx, mark.clone()).await? {
        Position::Whole { .. } => {
            advance_in(tx, &file, mark).await?;
            Ok(())
        }
        Position::NoMark => Ok(()),
        refused => Err(refused.refusal(&file).expect("not whole")),
    }
}

/// Moves the mark of `daily` up to the last notification the store has put in the outbox,
/// after a ship committed: in a daily transaction of its own, so that two ships' marks are
/// written in the order of the ships. Never moves it down. The mark written, if it moved.
pub async fn advance(store: &Store, daily: &Daily) -> Result<Option<Mark>, MarkError> {
    let file = file_for(daily);
    let mut tx = store.begin_daily().await?;
    let moved = match read(&file) {
        Ok(mark) => advance_in(&mut tx, &file, mark).await,
        Err(e) => Err(e),
    };
    tx.rollback().await?;
    moved
}

async fn advance_in(
    tx: &mut DailyTx,
    file: &Path,
    mark: Option<Mark>,
) -> Result<Option<Mark>, MarkError> {
    let Some(sent) = tx.last_sent().await? else {
        return Ok(None);
    };
    if mark.as_ref().is_some_and(|mark| mark.number >= sent.number) {
        return Ok(None);
    }
    let new = Mark {
        number: sent.number,
        guid: sent.guid,
        msg_id: sent.msg_id,
        reporting_date: sent.reporting_date,
        at: sent.at,
    };
    write(file, &new)?;
    tracing::debug!(number = new.number, msg_id = %new.msg_id, "chain mark moved");
    Ok(Some(new))
}

/// The mark of `daily` against `store`, read without taking the daily lock (for `status`
/// and `chain`).
pub async fn position_now(store: &Store, daily: &Daily) -> Result<Position, MarkError> {
    let mark = read(&file_for(daily))?;
    let mut tx = store.begin_read().await?;
    let position = position(&mut tx, mark).await;
    tx.rollback().await?;
    Ok(position?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(number: i64) -> Mark {
        Mark {
            number,
            guid: Uuid::new_v4(),
            msg_id: "m-1".into(),
            reporting_date: NaiveDate::from_ymd_opt(2026, 3, 3),
            at: DateTime::parse_from_rfc3339("2026-03-04T03:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        }
    }

    #[test]
    fn a_mark_reads_back_as_written_and_a_missing_file_is_no_mark() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("identity.key.mark");
        assert_eq!(read(&file).unwrap(), None);
        let first = mark(20);
        write(&file, &first).unwrap();
        assert_eq!(read(&file).unwrap(), Some(first));
        let second = mark(25);
        write(&file, &second).unwrap();
        assert_eq!(read(&file).unwrap(), Some(second));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["identity.key.mark"], "no temporary file is left");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_mark_that_is_not_one_is_named_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("identity.key.mark");
        std::fs::write(&file, "not json").unwrap();
        let error = read(&file).unwrap_err().to_string();
        assert!(error.contains("identity.key.mark"), "{error}");
        assert!(error.contains("move it aside"), "{error}");
    }

    #[test]
    fn the_mark_file_is_beside_the_identity_key() {
        let daily = Daily {
            service_types: vec![1],
            max_notifications: 1,
            msg_type: "x".into(),
            identity_key_file: PathBuf::from("/var/lib/kpr-bridge/identity.key"),
        };
        assert_eq!(
            file_for(&daily),
            PathBuf::from("/var/lib/kpr-bridge/identity.key.mark")
        );
    }

    #[test]
    fn the_refusal_names_both_numbers_and_what_to_do() {
        let m = mark(20);
        let text = Position::Behind {
            mark: m.clone(),
            store: Some((12, Uuid::nil())),
        }
        .refusal(Path::new("/k/identity.key.mark"))
        .unwrap()
        .to_string();
        for needed in [
            "number 12",
            "number 20",
            "m-1",
            "2026-03-03",
            "chain --continue-after-mark",
            "/k/identity.key.mark",
        ] {
            assert!(text.contains(needed), "{needed}: {text}");
        }
    }
}
