//! The spool transport: packed messages written to a directory instead of a broker, for an
//! EDI system to pick up, or for inspection.
//!
//! Each message becomes `<MsgId>.p7m` (the DER bytes, exactly as AMQP would carry them) and
//! `<MsgId>.json` (the properties AMQP would carry), written as [`pair`] says: atomically,
//! the `.json` last, so its presence means the pair is complete. A message counts as `sent`
//! once both are in place. Receipts may come back the same way, into a directory of their
//! own (`delivery.spool_receipts_dir`, read by `inbox::spool`).

pub mod pair;

use std::path::{Path, PathBuf};

use chrono::Utc;

use super::properties::{self, Properties};
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
    Pair(#[from] pair::PairError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Writes every queued message to `dir`; returns how many.
pub async fn drain(store: &Store, dir: &Path, origin: &Origin) -> Result<usize, SpoolError> {
    std::fs::create_dir_all(dir).map_err(|source| SpoolError::Write {
        dir: dir.to_path_buf(),
        source,
    })?;
    let mut written = 0;
    loop {
        let batch = store.pending(64).await?;
        if batch.is_empty() {
            return Ok(written);
        }
        for message in batch {
            let properties = Properties {
                message_id: message.msg_id.clone(),
                correlation_id: message.msg_id.clone(),
                subject: message.msg_type.clone(),
                to: origin.queues.to(&message.target).to_string(),
                reply_to: origin.queues.receipts.clone(),
                from_her_id: origin.her_id.clone(),
                to_her_id: message.to_her_id.clone(),
                application_timestamp: Utc::now(),
                cpa_id: None,
            };
            let json = serde_json::to_vec_pretty(&properties::to_json(&properties.to_amqp()))
                .expect("JSON of strings");
            store.note_publish(&[&message.msg_id], Utc::now()).await?;
            match &message.body_file {
                // A large message is copied file to file, never held in memory.
                Some(file) => pair::write_copy(dir, &message.msg_id, file, &json)?,
                None => pair::write(dir, &message.msg_id, Some(&message.bytes()?), &json)?,
            }
            let detail = format!("written to {}", dir.display());
            store
                .transition(&message.msg_id, State::Sent, Some(&detail), Utc::now())
                .await?;
            written += 1;
        }
    }
}
