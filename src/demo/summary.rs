//! What the demo prints at the end: each step's result, KPR's answer to every message, the
//! events each daily shipment carried, the annual message's summary, and the report's path.
//! Everything comes from the state store and the steps' results — ids, counts and codes,
//! never an identity number or a name.

use std::path::Path;

use crate::annual::year::Summary;
use crate::i18n::Language;
use crate::model::register::Target;
use crate::status::codes;
use crate::store::outbox::State;
use crate::store::{Store, StoreError};
use crate::t;

/// What the demo expects to have delivered: two daily messages and the annual pair.
pub const EXPECTED_MESSAGES: usize = 4;

/// One step and its result in a few words.
pub struct Step {
    pub name: String,
    pub result: String,
}

/// What the summary is made of besides the store.
pub struct Facts<'a> {
    /// The language it is printed in.
    pub lang: Language,
    pub steps: &'a [Step],
    pub annual_year: i32,
    pub annual: Option<&'a Summary>,
    pub report: &'a Path,
}

/// Prints the summary; returns 0 when every message the demo made was delivered, else 1.
pub async fn print(store: &Store, facts: &Facts<'_>) -> Result<u8, StoreError> {
    let lang = facts.lang;
    println!(
        "\n== {} ==\n\n{}",
        t!(lang, "demo-summary"),
        t!(lang, "demo-summary.steps")
    );
    for step in facts.steps {
        println!("  {:<28} {}", step.name, step.result);
    }

    let mut entries = store.entries().await?;
    entries.reverse();
    println!("\n{}", t!(lang, "demo-receipts"));
    println!(
        "  {:<36}  {:<11}  {:<9}  {}",
        "MsgId",
        t!(lang, "demo-receipts.type"),
        t!(lang, "demo-receipts.state"),
        t!(lang, "demo-receipts.status")
    );
    for entry in &entries {
        let answer = match store.receipts(&entry.msg_id).await?.first() {
            Some(receipt) => {
                let status = codes::receipt_status_words(receipt.status, lang);
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
                .unwrap_or_else(|| t!(lang, "demo-receipts.none")),
        };
        println!(
            "  {:<36}  {:<11}  {:<9}  {answer}",
            entry.msg_id,
            entry.msg_type,
            codes::state(entry.state.as_str(), lang)
        );
    }

    let days = store.shipped_days().await?;
    println!("\n{}", t!(lang, "demo-daily"));
    for day in &days {
        let total: i64 = day.kinds.iter().map(|(_, _, n)| n).sum();
        let kinds: Vec<String> = day
            .kinds
            .iter()
            .map(|(kind, status, n)| {
                t!(
                    lang,
                    "demo-daily.kind",
                    kind = codes::event_kind(kind, lang),
                    status = status.clone(),
                    name = codes::notification_status(status, lang),
                    count = *n
                )
            })
            .collect();
        println!(
            "  {}  {}",
            lang.date(day.reporting_date),
            t!(
                lang,
                "demo-daily.day",
                count = total,
                messages = day.messages.len(),
                kinds = kinds.join(", ")
            )
        );
    }

    let annual = store
        .annual_sent(facts.annual_year, Target::Validation.as_str())
        .await?;
    println!(
        "\n{}",
        t!(
            lang,
            "demo-annual",
            year = facts.annual_year.to_string(),
            count = annual.len()
        )
    );
    if let Some(summary) = facts.annual {
        let (granted, refused) = summary
            .services
            .values()
            .fold((0, 0), |(g, r), (granted, refused)| {
                (g + granted, r + refused)
            });
        println!(
            "  {}",
            t!(
                lang,
                "demo-annual.persons",
                persons = summary.persons,
                granted = granted,
                refused = refused,
                codes = summary.services.len()
            )
        );
        println!("  {}", t!(lang, "demo-annual.per-code"));
        for (code, (granted, refused)) in &summary.services {
            println!(
                "    {}: {}/{}",
                crate::report::service_type(lang, *code),
                lang.number(*granted),
                lang.number(*refused)
            );
        }
    }

    println!(
        "\n{}",
        t!(
            lang,
            "demo-report",
            path = facts.report.display().to_string()
        )
    );

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
            "\n{}",
            t!(
                lang,
                "demo-delivered",
                delivered = delivered,
                count = entries.len()
            )
        );
        Ok(0)
    } else {
        println!(
            "\n{}",
            t!(
                lang,
                "demo-not-delivered",
                delivered = delivered,
                count = entries.len(),
                expected = EXPECTED_MESSAGES
            )
        );
        Ok(1)
    }
}
