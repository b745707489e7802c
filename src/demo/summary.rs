//! What the demo prints at the end: each step's result, KPR's answer to every message, the
//! events each daily shipment carried, the annual message's summary, and the report's path.
//! Everything comes from the state store and the steps' results — ids, counts and codes,
//! never an identity number or a name.

use std::path::Path;

use crate::annual::year::Summary;
use crate::message::msghead::Target;
use crate::store::outbox::State;
use crate::store::{Store, StoreError};

/// What the demo expects to have delivered: two daily messages and the annual pair.
pub const EXPECTED_MESSAGES: usize = 4;

/// One step and its result in a few words.
pub struct Step {
    pub name: String,
    pub result: String,
}

/// What the summary is made of besides the store.
pub struct Facts<'a> {
    pub steps: &'a [Step],
    pub annual_year: i32,
    pub annual: Option<&'a Summary>,
    pub report: &'a Path,
}

/// Prints the summary; returns 0 when every message the demo made was delivered, else 1.
pub async fn print(store: &Store, facts: &Facts<'_>) -> Result<u8, StoreError> {
    println!("\n== Summary ==\n\nSteps");
    for step in facts.steps {
        println!("  {:<28} {}", step.name, step.result);
    }

    let mut entries = store.entries().await?;
    entries.reverse();
    println!("\nReceipts (KPR's answers, oldest message first)");
    println!(
        "  {:<36}  {:<11}  {:<9}  KPR's status",
        "MsgId", "type", "state"
    );
    for entry in &entries {
        let answer = match store.receipts(&entry.msg_id).await?.first() {
            Some(receipt) => {
                let status = match receipt.status {
                    1 => "1 OK".to_string(),
                    2 => "2 Avvist".to_string(),
                    3 => "3 OK, feil i delmelding".to_string(),
                    other => other.to_string(),
                };
                let codes: Vec<String> = receipt
                    .errors
                    .iter()
                    .map(|e| format!("{} {}", e.code, e.text))
                    .collect();
                if codes.is_empty() {
                    status
                } else {
                    format!("{status}: {}", codes.join("; "))
                }
            }
            None => entry
                .last_problem
                .clone()
                .unwrap_or_else(|| "no answer".into()),
        };
        println!(
            "  {:<36}  {:<11}  {:<9}  {answer}",
            entry.msg_id, entry.msg_type, entry.state
        );
    }

    let days = store.shipped_days().await?;
    println!("\nDaily notifications sent (HIS 1135)");
    for day in &days {
        let total: i64 = day.kinds.iter().map(|(_, _, n)| n).sum();
        let kinds: Vec<String> = day
            .kinds
            .iter()
            .map(|(kind, status, n)| format!("{kind} {status} {n}"))
            .collect();
        println!(
            "  {}  {total} notification(s) in {} message(s): {}",
            day.reporting_date,
            day.messages.len(),
            kinds.join(", ")
        );
    }

    let annual = store
        .annual_sent(facts.annual_year, Target::Validation.as_str())
        .await?;
    println!(
        "\nAnnual message {} (to KPR Validering, {} message(s))",
        facts.annual_year,
        annual.len()
    );
    if let Some(summary) = facts.annual {
        let (granted, refused) = summary
            .services
            .values()
            .fold((0, 0), |(g, r), (granted, refused)| {
                (g + granted, r + refused)
            });
        println!(
            "  {} persons; {granted} services granted and {refused} refused, under {} national codes",
            summary.persons,
            summary.services.len()
        );
        let codes: Vec<String> = summary
            .services
            .iter()
            .map(|(code, (granted, refused))| format!("{code} {granted}/{refused}"))
            .collect();
        println!("  per code (granted/refused): {}", codes.join(", "));
    }

    println!("\nHTML report: {}", facts.report.display());

    let delivered = entries
        .iter()
        .filter(|e| e.state == State::Delivered)
        .count();
    let complete = delivered == entries.len()
        && entries.len() == EXPECTED_MESSAGES
        && days.len() == 2
        && annual.len() == 2;
    if complete {
        println!(
            "\nEvery message was delivered ({delivered} of {}).",
            entries.len()
        );
        Ok(0)
    } else {
        println!(
            "\nNot every message was delivered: {delivered} of {} delivered; the demo makes {EXPECTED_MESSAGES} (two daily messages, and the annual pair).",
            entries.len()
        );
        Ok(1)
    }
}
