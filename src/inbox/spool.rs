//! Receipts from a directory: the spool transport's way back (`delivery.spool_receipts_dir`).
//!
//! An EDI system that moves files puts KPR's answers there as spool pairs
//! ([`crate::transport::spool::pair`]). Each complete pair goes the way a message on our
//! queues goes — an AppRec through [`Inbox::take_receipt`], a `.json` with `errorCondition`
//! through [`Inbox::take_error_report`] — and only once what it says is stored is the pair
//! removed, as a queue's message is acknowledged only then. A pair that cannot be taken is
//! kept as an anomaly and moved to `anomalies/` beside it, so that its files stay for an
//! operator to look at; the next pair is taken all the same.

use std::path::Path;

use super::{CollectError, Inbox, MAX_RECEIPT_BYTES, Taken};
use crate::store::receipts::Anomaly;
use crate::transport::properties::{self, MAX_JSON_BYTES, header};
use crate::transport::spool::pair::{self, Contents, Pair, PairError};

/// Where pairs that became anomalies are moved, inside the receipts directory.
pub const ANOMALIES: &str = "anomalies";

/// Takes every complete pair waiting in `dir` (made if missing), then returns.
pub async fn collect(inbox: &Inbox, dir: &Path) -> Result<Vec<Taken>, CollectError> {
    std::fs::create_dir_all(dir).map_err(|source| PairError {
        path: dir.to_path_buf(),
        action: "create",
        source,
    })?;
    let place = format!("spool {}", dir.display());
    let mut taken = Vec::new();
    for pair in pair::complete(dir)? {
        let Some(outcome) = take(inbox, &place, &pair).await? else {
            continue;
        };
        match outcome {
            Taken::Anomaly { .. } => {
                pair.move_into(ANOMALIES)?;
            }
            _ => pair.remove()?,
        }
        taken.push(outcome);
    }
    Ok(taken)
}

/// Takes one pair and stores what it says; `None` when it was gone before it could be read.
async fn take(inbox: &Inbox, place: &str, pair: &Pair) -> Result<Option<Taken>, CollectError> {
    let json_file = pair.properties_file();
    let anomaly = |kind: &str, detail: String, size: usize, body: Option<Vec<u8>>| Anomaly {
        queue: place.to_string(),
        kind: kind.to_string(),
        detail: format!("{detail}; the pair is moved to {ANOMALIES}/"),
        msg_id: None,
        size,
        body,
    };
    let json = match pair.read_properties(MAX_JSON_BYTES)? {
        Contents::Missing => return Ok(None),
        Contents::TooLarge(size) => {
            let detail = format!(
                "{}: {size} bytes, larger than any properties file ({MAX_JSON_BYTES} bytes at most); not read",
                json_file.display()
            );
            let kept = anomaly("not-properties", detail, size as usize, None);
            return Ok(Some(inbox.keep(kept).await?));
        }
        Contents::Bytes(json) => json,
    };
    let amqp = match properties::from_json(&json) {
        Ok(amqp) => amqp,
        Err(why) => {
            let detail = format!("{}: {why}", json_file.display());
            let kept = anomaly("not-properties", detail, json.len(), Some(json));
            return Ok(Some(inbox.keep(kept).await?));
        }
    };
    let body = pair.read_body(MAX_RECEIPT_BYTES)?;
    if header(&amqp, "errorCondition").is_some() {
        let body = match body {
            Contents::Bytes(body) => body,
            _ => Vec::new(),
        };
        return Ok(Some(inbox.take_error_report(place, &body, &amqp).await?));
    }
    let taken = match body {
        Contents::Bytes(body) => inbox.take_receipt(place, &body, &amqp).await?,
        Contents::Missing => {
            let detail = format!(
                "{} has no {} beside it and is no error report (no errorCondition)",
                json_file.display(),
                pair.body_file().display()
            );
            let mut kept = anomaly("missing-body", detail, 0, Some(json));
            kept.msg_id = amqp.message_id().as_ref().map(|id| id.to_string());
            inbox.keep(kept).await?
        }
        Contents::TooLarge(size) => {
            let detail = format!(
                "{}: {size} bytes, larger than any receipt ({MAX_RECEIPT_BYTES} bytes at most); not decrypted",
                pair.body_file().display()
            );
            let mut kept = anomaly("too-large", detail, size as usize, None);
            kept.msg_id = amqp.message_id().as_ref().map(|id| id.to_string());
            inbox.keep(kept).await?
        }
    };
    Ok(Some(taken))
}
