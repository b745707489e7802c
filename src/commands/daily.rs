//! `kpr-bridge daily`: capture and ship one reporting date, then send.

use std::path::Path;

use chrono::{Days, NaiveDate, Utc};
use chrono_tz::Europe::Oslo;

use crate::checks::Severity;
use crate::config::Config;
use crate::daily::day::{self, DayOptions, DayOutcome, Destination};
use crate::message::schema::Schemas;
use crate::shipping::Shipping;
use crate::store::Store;

pub struct DailyArgs<'a> {
    pub config: &'a Path,
    pub date: Option<NaiveDate>,
    /// The initial load, from this start date.
    pub initial: Option<NaiveDate>,
    /// `Some(dir)` for a dry run.
    pub dry_run: Option<&'a Path>,
}

/// Today in Europe/Oslo (invariant 7: civil dates are Oslo's).
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&Oslo).date_naive()
}

pub async fn daily(args: DailyArgs<'_>) -> u8 {
    let config = match Config::load(args.config) {
        Ok(config) => config,
        Err(e) => return fail(&e, 2),
    };
    let today = today();
    // The daily run goes after midnight: by default it reports the day that just ended.
    let date = args
        .date
        .unwrap_or_else(|| today.checked_sub_days(Days::new(1)).unwrap_or(today));
    if date > today {
        eprintln!(
            "error: --date {date} is in the future (today is {today} in Europe/Oslo); a day is reported once it has begun"
        );
        return 2;
    }
    let options = DayOptions {
        date,
        initial: args.initial,
        now: Utc::now(),
    };
    let outcome = match args.dry_run {
        Some(out) => {
            let schemas = match Schemas::load(&config.payload_schemas) {
                Ok(schemas) => schemas.with_alias(
                    &config.daily.msg_type,
                    crate::model::register::DEFAULT_MSG_TYPE,
                ),
                Err(e) => return fail(&e, 2),
            };
            let store = match Store::open_for(&config).await {
                Ok(store) => store,
                Err(e) => return fail(&e, 2),
            };
            let destination = Destination::DryRun {
                schemas: &schemas,
                out,
            };
            let outcome = day::run(&config, &store, destination, options).await;
            store.close().await;
            outcome.map(|o| (o, None))
        }
        None => {
            let shipping = match Shipping::open(config.clone()).await {
                Ok(shipping) => shipping,
                Err(e) => return fail(&e, e.exit_code()),
            };
            for warning in &shipping.warnings {
                tracing::warn!("{warning}");
            }
            let outcome = day::run(
                &config,
                &shipping.store,
                Destination::Outbox(&shipping),
                options,
            )
            .await;
            outcome.map(|o| (o, Some(shipping)))
        }
    };
    let (outcome, shipping) = match outcome {
        Ok(outcome) => outcome,
        Err(e) => return fail(&e, e.exit_code()),
    };
    let mut code = show(&outcome, date);
    if let Some(shipping) = shipping {
        if outcome
            .shipped
            .as_ref()
            .is_some_and(|s| !s.messages.is_empty())
        {
            match shipping.flush().await {
                Ok(sent) => println!("{sent} message(s) handed to the transport"),
                Err(e) => {
                    eprintln!("error: {e}");
                    eprintln!("the messages stay queued in the outbox and go with the next run");
                    code = code.max(1);
                }
            }
        }
        shipping.store.close().await;
    }
    code
}

/// Prints what the run did; returns 1 when something was held back or left unread.
fn show(outcome: &DayOutcome, date: NaiveDate) -> u8 {
    let mut code = 0;
    for source in &outcome.sources {
        if let Some(why) = &source.unusable {
            eprintln!("source '{}' ({}): {why}", source.name, source.origin);
            code = 1;
        } else if source.problems() > 0 {
            eprintln!(
                "source '{}' ({}): {} row(s) could not be read; run `kpr-bridge check` for each one",
                source.name,
                source.origin,
                source.problems()
            );
            code = 1;
        }
    }
    let c = &outcome.capture;
    println!(
        "{date}: {} notification(s){} — services: {} new, {} changed, {} gone from the EPJ, {} continued from an earlier EPJ, {} ended at an EPJ change; {} recorded as history, {} outside [daily] service_types",
        c.notifications,
        c.numbers
            .map(|(first, last)| format!(" (numbers {first}–{last})"))
            .unwrap_or_default(),
        c.new_services,
        c.changed_services,
        c.annulled_services,
        c.continued_services,
        c.ended_at_switch,
        c.history,
        c.out_of_scope
    );
    if c.held_services + c.held_persons > 0 || !c.identity_conflicts.is_empty() {
        code = 1;
        println!(
            "held back until fixed: {} service(s) and {} person(s) with errors:",
            c.held_services, c.held_persons
        );
        for finding in outcome
            .report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
        {
            println!(
                "  {:<22} {:>7}  {}",
                finding.rule,
                finding.count,
                finding.info().fix(crate::i18n::Language::En)
            );
        }
    }
    if c.identity_corrected > 0 {
        println!(
            "{} person(s) with an identity number corrected in the EPJ: what the register holds of them is sent again (M) with the new number",
            c.identity_corrected
        );
    }
    if !c.identity_conflicts.is_empty() {
        let rule = crate::checks::rules::find(crate::daily::identity_change::RULE);
        println!("held back: identity numbers mixed up between EPJ persons:");
        for conflict in &c.identity_conflicts {
            println!(
                "  EPJ person {} has the number the register knows as EPJ person {}",
                conflict.person, conflict.other
            );
        }
        if let Some(rule) = rule {
            println!("  {}", rule.fix(crate::i18n::Language::En));
        }
    }
    if let Some(away) = c.new_identity_key {
        code = 1;
        println!(
            "a new identity key: the key file did not hold the key that sealed the earlier notifications, so {away} notification(s) can no longer be sent again — put the earlier key file back beside it as <key file>.previous if its backup exists (docs/runbook.md, \"A lost identity key\"); `kpr-bridge status` names them"
        );
    }
    if c.resealed > 0 {
        println!(
            "{} notification(s) not yet sent were sealed under that earlier key: sealed again from today's EPJ",
            c.resealed
        );
    }
    if c.unnamed_persons > 0 {
        code = 1;
        println!(
            "held back: {} service(s) of {} person(s) the EPJ no longer lists, whose identity number is sealed under an identity key that is no longer there",
            c.unnamed_services, c.unnamed_persons
        );
        if let Some(rule) = crate::checks::rules::find(crate::daily::sealed::RULE) {
            println!("  {}", rule.fix(crate::i18n::Language::En));
        }
    }
    for left in &c.left_as_they_are {
        code = 1;
        println!(
            "source '{}': {} service(s) left as they are: {}",
            left.source, left.services, left.why
        );
    }
    if let Some(shipped) = &outcome.shipped {
        if shipped.messages.is_empty() {
            println!("no changes to ship for {date}; nothing sent (recorded)");
        }
        let parts = shipped.messages.len();
        for (at, msg_id) in shipped.messages.iter().enumerate() {
            println!("{date} part {} of {parts}: message {msg_id}", at + 1);
        }
        if parts > 0 {
            println!(
                "shipment {}: {} notification(s) in {parts} message(s)",
                shipped.shipment, shipped.notifications
            );
        }
    }
    for file in &outcome.written {
        println!("dry run: wrote {}", file.display());
    }
    if outcome.shipped.is_none() {
        if outcome.written.is_empty() {
            println!("dry run: no changes to ship; nothing was committed");
        } else {
            println!(
                "dry run: nothing was committed; the messages hold identity numbers — keep them inside the secure zone"
            );
        }
    }
    code
}

fn fail(error: &dyn std::fmt::Display, code: u8) -> u8 {
    eprintln!("error: {error}");
    code
}
