//! The spool transport: packed messages written to a directory instead of a broker, for an
//! EDI system to pick up, or for inspection.
//!
//! Each message becomes `<MsgId>.p7m` (the DER bytes, exactly as AMQP would carry them) and
//! `<MsgId>.json` (the properties AMQP would carry). Both are written under a temporary name,
//! synced, and renamed into place, so a reader never sees half a file; the `.json` comes
//! last, so its presence means the pair is complete. A message counts as `sent` once both
//! are in place.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, Utc};

use super::sender::Origin;
use crate::store::outbox::State;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error(
        "cannot write to the spool directory {dir}: {source}; check that it exists and that kpr-bridge may write to it"
    )]
    Write {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Writes every queued message to `dir`; returns how many.
pub async fn drain(store: &Store, dir: &Path, origin: &Origin) -> Result<usize, SpoolError> {
    let fail = |source| SpoolError::Write {
        dir: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let mut written = 0;
    loop {
        let batch = store.pending(64).await?;
        if batch.is_empty() {
            return Ok(written);
        }
        for message in batch {
            let properties = serde_json::json!({
                "message-id": message.msg_id,
                "subject": message.msg_type,
                "to": origin.queues.kpr,
                "reply-to": origin.queues.receipts,
                "content-type": super::properties::CONTENT_TYPE,
                "fromHerId": origin.her_id,
                "toHerId": message.to_her_id,
                "applicationTimeStamp": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            });
            store.note_publish(&[&message.msg_id], Utc::now()).await?;
            write_atomically(dir, &format!("{}.p7m", message.msg_id), &message.body)
                .map_err(fail)?;
            let json = serde_json::to_vec_pretty(&properties).expect("JSON of strings");
            write_atomically(dir, &format!("{}.json", message.msg_id), &json).map_err(fail)?;
            let detail = format!("written to {}", dir.display());
            store
                .transition(&message.msg_id, State::Sent, Some(&detail), Utc::now())
                .await?;
            written += 1;
        }
    }
}

fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let partial = dir.join(format!(".{name}.partial"));
    let mut file = std::fs::File::create(&partial)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&partial, dir.join(name))?;
    std::fs::File::open(dir)?.sync_all()
}
