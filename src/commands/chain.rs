//! `kpr-bridge chain`: the chain of daily notifications as the register has it and as the state
//! store has it — the chain mark beside the identity key (`daily/mark.rs`), the store's last
//! notification, and the notifications missing from the store when it was put back from an
//! older copy (exit 1 then). `--continue-after-mark` is the recovery: it records in the store
//! that numbering goes on after the mark, so that the register's chain stays complete, and
//! says what was lost, for the municipality to raise with FHI.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};

use crate::config::Config;
use crate::daily::mark::{self, Mark, Position};
use crate::store::chain::{Continuation, Reported, Sent};
use crate::store::{SQLITE_FILE, Store, StoreError};

pub struct ChainArgs<'a> {
    pub config: &'a Path,
    pub continue_after_mark: bool,
}

pub async fn chain(args: ChainArgs<'_>) -> u8 {
    let (config, store) = match super::open_existing(args.config).await {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let code = if args.continue_after_mark {
        continue_after_mark(&config, &store).await
    } else {
        show(&config, &store).await
    };
    store.close().await;
    code
}

/// Everything `chain` shows, read in one transaction.
struct View {
    mark: Option<Mark>,
    position: Position,
    last_stored: Option<(i64, uuid::Uuid)>,
    last_sent: Option<Sent>,
    last_shipped: Option<NaiveDate>,
    continuations: Vec<Continuation>,
    /// What the first shipment after the latest continuation reported again.
    reported_again: Vec<Reported>,
}

async fn view(config: &Config, store: &Store) -> Result<View, String> {
    let file = mark::file_for(&config.daily);
    let mark = mark::read(&file).map_err(|e| e.to_string())?;
    let last_shipped = store.last_shipped_date().await.map_err(text)?;
    let mut tx = store.begin_read().await.map_err(text)?;
    let read = async {
        let position = mark::position(&mut tx, mark.clone()).await?;
        let last_stored = tx.last_stored().await?;
        let last_sent = tx.last_sent().await?;
        let continuations = tx.continuations().await?;
        let reported_again = match continuations.last() {
            Some(c) => tx.first_reported_after(c.after_number).await?,
            None => Vec::new(),
        };
        Ok::<_, StoreError>(View {
            mark,
            position,
            last_stored,
            last_sent,
            last_shipped,
            continuations,
            reported_again,
        })
    }
    .await;
    tx.rollback().await.map_err(text)?;
    read.map_err(text)
}

fn text(error: StoreError) -> String {
    error.to_string()
}

fn moment(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn range(first: i64, last: i64) -> String {
    if first == last {
        format!("number {first}")
    } else {
        format!("numbers {first}–{last} ({})", last - first + 1)
    }
}

fn message_date(date: Option<NaiveDate>) -> String {
    date.map_or_else(|| "a re-send".to_string(), |d| format!("for {d}"))
}

/// The reporting dates the store lacks: after its last shipped one, up to the mark's.
fn lost_dates(last_shipped: Option<NaiveDate>, mark_date: Option<NaiveDate>) -> String {
    match (last_shipped, mark_date) {
        (Some(last), Some(mark)) if mark > last => {
            let first = last.succ_opt().unwrap_or(last);
            if first == mark {
                format!("the reporting date {mark}")
            } else {
                format!("the reporting dates {first} to {mark}")
            }
        }
        (Some(last), _) => format!("reporting dates after {last}"),
        (None, Some(mark)) => format!("every reporting date up to {mark}"),
        (None, None) => "every reporting date".to_string(),
    }
}

fn where_store_is(config: &Config) -> String {
    match (&config.state_url, &config.state_schema) {
        (Some(url), Some(schema)) => {
            format!(
                "PostgreSQL {} (schema {schema})",
                crate::config::url::redacted(url)
            )
        }
        (Some(url), None) => format!("PostgreSQL {}", crate::config::url::redacted(url)),
        (None, _) => format!("SQLite {}", config.data_dir.join(SQLITE_FILE).display()),
    }
}

/// The mark, the store's position and what the store lacks, as text.
fn render(config: &Config, view: &View) -> String {
    let file = mark::file_for(&config.daily);
    let mut out = String::new();
    let _ = writeln!(out, "Chain mark ({}):", file.display());
    match &view.mark {
        Some(m) => {
            let _ = writeln!(
                out,
                "  last notification put in the outbox: number {}, GUID {}\n  first sent in message {} {}, at {}",
                m.number,
                m.guid,
                m.msg_id,
                message_date(m.reporting_date),
                moment(m.at)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  none yet: it is written at the next ship (a first run, or an installation from before the mark)"
            );
        }
    }
    let _ = writeln!(out, "State store ({}):", where_store_is(config));
    match view.last_stored {
        Some((number, guid)) => {
            let _ = writeln!(out, "  last notification: number {number}, GUID {guid}");
        }
        None => {
            let _ = writeln!(out, "  last notification: none");
        }
    }
    if let Some(sent) = &view.last_sent {
        let _ = writeln!(
            out,
            "  last put in the outbox: number {} in message {} {}",
            sent.number,
            sent.msg_id,
            message_date(sent.reporting_date)
        );
    }
    let _ = writeln!(
        out,
        "  last reporting date shipped: {}",
        view.last_shipped
            .map_or_else(|| "none".to_string(), |d| d.to_string())
    );
    for c in &view.continuations {
        let _ = writeln!(
            out,
            "  numbering goes on after number {} (GUID {}), recorded {} by `chain --continue-after-mark`",
            c.after_number,
            c.after_guid,
            moment(c.at)
        );
        if c.after_number > c.store_number {
            let _ = writeln!(
                out,
                "    {} were sent to KPR and are not in this store ({})",
                range(c.store_number + 1, c.after_number),
                lost_dates(c.store_last_date, c.mark_date)
            );
        }
    }
    out.push('\n');
    match &view.position {
        Position::NoMark => {
            let _ = writeln!(
                out,
                "No mark to judge the store by: the guard passes, and the next ship writes the mark."
            );
        }
        Position::Whole { mark } => {
            let _ = writeln!(
                out,
                "The chain is whole: the store holds the register's chain up to number {} and goes on after it.",
                mark.number
            );
        }
        Position::Behind { mark, store } => {
            let store_number = store.map_or(0, |(number, _)| number);
            let _ = writeln!(
                out,
                "The store is BEHIND the chain KPR has: notifications KPR has are missing from it:\n  {}\n  {}, the last in message {} {}",
                range(store_number + 1, mark.number),
                lost_dates(view.last_shipped, mark.reporting_date),
                mark.msg_id,
                message_date(mark.reporting_date)
            );
            let _ = writeln!(
                out,
                "They were sent to KPR from a newer state of this store than the one put back; what they said is lost with it.\nNothing is captured or sent (daily, resend, the agent) until you decide. What to do (docs/runbook.md,\n\"Backing up and restoring the state store\"): if no newer copy of the store exists,\n  kpr-bridge chain --continue-after-mark --config {}\nmakes numbering go on after {}, and says what to tell FHI.",
                config.file.display(),
                mark.number
            );
        }
        Position::Diverged { mark, store_guid } => {
            let _ = writeln!(
                out,
                "The store and the mark DISAGREE about notification {}: KPR was sent GUID {} under that number (message {}), the store holds GUID {store_guid}.\nThis store did not send what the mark records. Check that the configuration's state store and [daily] identity_key_file\nare this municipality's; docs/runbook.md, \"Backing up and restoring the state store\", says what next. Nothing is captured or sent until then.",
                mark.number, mark.guid, mark.msg_id
            );
        }
    }
    if let Some(c) = view.continuations.last() {
        out.push('\n');
        match (view.reported_again.first(), view.reported_again.last()) {
            (Some(first), Some(last)) => {
                let _ = writeln!(
                    out,
                    "The first shipment after number {} ({}, {}) reported every change since the copy's baselines again;\namong them are the ones the lost notifications had told the register. The services, for FHI:",
                    c.after_number,
                    first.reporting_date,
                    range(first.number, last.number)
                );
                for r in &view.reported_again {
                    let _ = writeln!(
                        out,
                        "  {:>8}  {}/{}: {} {}",
                        r.number, r.source, r.local_id, r.kind, r.status
                    );
                }
            }
            _ => {
                let _ = writeln!(
                    out,
                    "No notification numbered after {} yet: the next daily run reports every change since the copy's baselines again;\nrun `kpr-bridge chain --config {}` after it for the services it reported, for FHI.",
                    c.after_number,
                    config.file.display()
                );
            }
        }
    }
    out
}

async fn show(config: &Config, store: &Store) -> u8 {
    let view = match view(config, store).await {
        Ok(view) => view,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    print!("{}", render(config, &view));
    if view.position.is_whole() { 0 } else { 1 }
}

/// Records that numbering goes on after the mark, when the store is behind it.
async fn continue_after_mark(config: &Config, store: &Store) -> u8 {
    let file = mark::file_for(&config.daily);
    let mark = match mark::read(&file) {
        Ok(Some(mark)) => mark,
        Ok(None) => {
            eprintln!(
                "error: there is no chain mark at {}: nothing to continue after; the store's own numbering stands (the next ship writes the mark)",
                file.display()
            );
            return 2;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    match record(store, &mark, &file).await {
        Ok(Recorded::Whole) => {
            println!(
                "The chain is whole: the store holds the register's chain up to number {}; nothing recorded.",
                mark.number
            );
            0
        }
        Ok(Recorded::Diverged(error)) => {
            eprintln!("error: {error}; nothing recorded");
            2
        }
        Ok(Recorded::Continued(c)) => {
            print!("{}", recorded(config, &c));
            0
        }
        Err(e) => {
            eprintln!("error: {e}; nothing recorded");
            1
        }
    }
}

enum Recorded {
    Whole,
    Diverged(String),
    Continued(Continuation),
}

async fn record(store: &Store, mark: &Mark, file: &Path) -> Result<Recorded, StoreError> {
    let last_shipped = store.last_shipped_date().await?;
    let mut tx = store.begin_daily().await?;
    let position = mark::position(&mut tx, Some(mark.clone())).await?;
    let outcome = match position {
        Position::NoMark | Position::Whole { .. } => Recorded::Whole,
        Position::Diverged { .. } => Recorded::Diverged(
            position
                .refusal(file)
                .map(|e| e.to_string())
                .unwrap_or_default(),
        ),
        Position::Behind { store: last, .. } => {
            let c = Continuation {
                after_number: mark.number,
                after_guid: mark.guid,
                mark_msg_id: mark.msg_id.clone(),
                mark_date: mark.reporting_date,
                mark_at: mark.at,
                store_number: last.map_or(0, |(number, _)| number),
                store_guid: last.map(|(_, guid)| guid),
                store_last_date: last_shipped,
                at: Utc::now(),
            };
            tx.record_continuation(&c).await?;
            Recorded::Continued(c)
        }
    };
    match outcome {
        Recorded::Continued(_) => tx.commit().await?,
        _ => tx.rollback().await?,
    }
    Ok(outcome)
}

/// What `--continue-after-mark` recorded, and what to tell FHI.
fn recorded(config: &Config, c: &Continuation) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Recorded: numbering goes on after notification {} (GUID {}): the next is number {}, chained to it,\nso the register's chain stays complete.",
        c.after_number,
        c.after_guid,
        c.after_number + 1
    );
    let _ = writeln!(
        out,
        "\nFor FHI (the register), lost with the newer state of the store:\n  {}, sent to KPR; the last in message {} {}, at {}\n  {}",
        range(c.store_number + 1, c.after_number),
        c.mark_msg_id,
        message_date(c.mark_date),
        moment(c.mark_at),
        lost_dates(c.store_last_date, c.mark_date)
    );
    let since = c
        .store_last_date
        .map_or_else(|| "the copy was made".to_string(), |d| d.to_string());
    let _ = writeln!(
        out,
        "\nWhat happens next: the store's baselines are those of {since}. The next daily run reports every change in the EPJ\nsince then again, numbered from {}: changes the register already had in the lost numbers come again under new GUIDs,\nand services begun in those days are reported started once more, under new tjenesteIDs (the register may count\nthem twice). After that run, `kpr-bridge chain --config {}` lists the services it reported again: send that list,\nwith the numbers and dates above, to FHI.",
        c.after_number + 1,
        config.file.display()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn the_dates_the_store_lacks_are_after_its_last_up_to_the_mark_s() {
        assert_eq!(
            lost_dates(Some(day("2026-03-01")), Some(day("2026-03-03"))),
            "the reporting dates 2026-03-02 to 2026-03-03"
        );
        assert_eq!(
            lost_dates(Some(day("2026-03-01")), Some(day("2026-03-02"))),
            "the reporting date 2026-03-02"
        );
        assert_eq!(
            lost_dates(Some(day("2026-03-03")), None),
            "reporting dates after 2026-03-03"
        );
        assert_eq!(range(13, 20), "numbers 13–20 (8)");
        assert_eq!(range(4, 4), "number 4");
    }
}
