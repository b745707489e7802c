//! The test receiver on a spool: for a municipality whose messages travel as files.
//!
//! It reads the complete pairs the municipality's spool transport writes, answers each as
//! it would a message from its queue ([`Receiver::answer`]), writes the answer as a pair into
//! the municipality's receipts directory — an AppRec as `.p7m` + `.json`, a transport error
//! report as a `.json` alone — and moves the pair it answered to `taken/`, so that it is
//! answered once. Properties that cannot be read are answered as NHN answers missing ones:
//! with an error report.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::watch;

use super::{Answer, Receiver};
use crate::transport::properties::{self, ErrorProperties, MAX_JSON_BYTES, Properties};
use crate::transport::spool::pair::{self, Contents, Pair, PairError};

/// Where answered pairs are moved, inside the incoming directory.
pub const TAKEN: &str = "taken";

/// The largest message the receiver reads into memory, as a broker would carry it.
const MAX_MESSAGE_BYTES: usize = 1 << 30;

/// How often [`Receiver::run_spool`] looks for new pairs.
const POLL: Duration = Duration::from_secs(2);

impl Receiver {
    /// Answers every complete pair waiting in `incoming`, writing the answers into `answers`
    /// (made if missing); returns how many it answered.
    pub async fn answer_spool(&self, incoming: &Path, answers: &Path) -> Result<usize, PairError> {
        std::fs::create_dir_all(answers).map_err(|source| PairError {
            path: answers.to_path_buf(),
            action: "create",
            source,
        })?;
        let mut answered = 0;
        for pair in pair::complete(incoming)? {
            let Some(answer) = self.answer_pair(&pair).await? else {
                continue;
            };
            self.write_answer(answers, answer).await?;
            pair.move_into(TAKEN)?;
            answered += 1;
        }
        Ok(answered)
    }

    /// Answers pairs as they come until `shutdown` turns true.
    pub async fn run_spool(
        &self,
        incoming: &Path,
        answers: &Path,
        mut shutdown: watch::Receiver<bool>,
    ) {
        tracing::info!(
            "receiver: answering the pairs in {} into {}",
            incoming.display(),
            answers.display()
        );
        while !*shutdown.borrow() {
            match self.answer_spool(incoming, answers).await {
                Ok(0) => {}
                Ok(n) => tracing::info!("receiver: answered {n} message(s)"),
                Err(e) => tracing::warn!("receiver: {e}"),
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// The answer to one pair; `None` when the pair went before it could be read.
    async fn answer_pair(&self, pair: &Pair) -> Result<Option<Answer>, PairError> {
        let unreadable = |description: String| {
            Some(Answer::ErrorReport(ErrorProperties {
                condition: "transport:invalid-field-value".into(),
                description,
                original_message_id: pair.name().to_string(),
            }))
        };
        let amqp = match pair.read_properties(MAX_JSON_BYTES)? {
            Contents::Missing => return Ok(None),
            Contents::TooLarge(size) => {
                return Ok(unreadable(format!(
                    "the properties file is {size} bytes, larger than any ({MAX_JSON_BYTES} at most)"
                )));
            }
            Contents::Bytes(json) => match properties::from_json(&json) {
                Ok(amqp) => amqp,
                Err(why) => return Ok(unreadable(format!("the properties file is {why}"))),
            },
        };
        // A missing or oversized body is answered as an empty one: not a CMS message.
        let body = match pair.read_body(MAX_MESSAGE_BYTES)? {
            Contents::Bytes(body) => body,
            Contents::Missing | Contents::TooLarge(_) => Vec::new(),
        };
        let properties = Properties::read(&amqp);
        Ok(Some(self.answer(&body, &amqp, properties).await))
    }

    /// Writes an answer into `answers` as a pair, atomically, the `.json` last.
    async fn write_answer(&self, answers: &Path, answer: Answer) -> Result<(), PairError> {
        let json = |amqp| serde_json::to_vec_pretty(&properties::to_json(&amqp));
        match answer {
            Answer::ErrorReport(report) => {
                tracing::info!(
                    "receiver: error report {} for {}: {}",
                    report.condition,
                    report.original_message_id,
                    report.description
                );
                self.stats.error_reports.fetch_add(1, Ordering::Relaxed);
                let id = uuid::Uuid::new_v4().to_string();
                let json = json(report.to_amqp(&id)).expect("JSON of strings");
                pair::write(answers, &id, None, &json)
            }
            Answer::Receipt {
                properties,
                receipt,
            } => {
                let Some(body) = self.pack_receipt(&receipt).await else {
                    return Ok(());
                };
                let json = json(properties.to_amqp()).expect("JSON of strings");
                pair::write(answers, &properties.message_id, Some(&body), &json)
            }
        }
    }
}
