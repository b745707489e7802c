//! `kpr-bridge resend`: daily notifications sent again, chosen one of HIS 1135's seven ways,
//! shown before they go (which, and which messages they were in), confirmed, then sent.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use chrono::Utc;

use crate::config::Config;
use crate::daily::resend::{self, Preview, Selector};
use crate::message::schema::Schemas;
use crate::shipping::Shipping;
use crate::store::Store;

pub struct ResendArgs<'a> {
    pub config: &'a Path,
    pub selector: Selector,
    /// `Some(dir)` for a dry run.
    pub dry_run: Option<&'a Path>,
    pub yes: bool,
    pub force: bool,
}

pub async fn resend(args: ResendArgs<'_>) -> u8 {
    let config = match Config::load(args.config) {
        Ok(config) => config,
        Err(e) => return fail(&e, 2),
    };
    let now = Utc::now();
    if let Some(out) = args.dry_run {
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
        let code = match resend::preview(&store, &args.selector).await {
            Ok(preview) => {
                show(&preview, &args.selector);
                match resend::dry_run(&config, &store, &schemas, &args.selector, out, now).await {
                    Ok(written) => {
                        for file in written {
                            println!("dry run: wrote {}", file.display());
                        }
                        println!(
                            "dry run: nothing was committed; the messages hold identity numbers — keep them inside the secure zone"
                        );
                        0
                    }
                    Err(e) => fail(&e, e.exit_code()),
                }
            }
            Err(e) => fail(&e, e.exit_code()),
        };
        store.close().await;
        return code;
    }
    let shipping = match Shipping::open(config.clone()).await {
        Ok(shipping) => shipping,
        Err(e) => return fail(&e, e.exit_code()),
    };
    let code = send(&config, &shipping, &args, now).await;
    shipping.store.close().await;
    code
}

async fn send(
    config: &Config,
    shipping: &Shipping,
    args: &ResendArgs<'_>,
    now: chrono::DateTime<Utc>,
) -> u8 {
    let preview = match resend::preview(&shipping.store, &args.selector).await {
        Ok(preview) => preview,
        Err(e) => return fail(&e, e.exit_code()),
    };
    show(&preview, &args.selector);
    if preview.numbers.is_empty() {
        eprintln!(
            "error: nothing to re-send: no notification that has been sent matches {}",
            args.selector
        );
        return 2;
    }
    if !args.yes {
        match confirm(preview.numbers.len()) {
            Ok(true) => {}
            Ok(false) => {
                println!("nothing sent");
                return 0;
            }
            Err(e) => return fail(&e, 2),
        }
    }
    let resent = match resend::resend(config, shipping, &args.selector, args.force, now).await {
        Ok(resent) => resent,
        Err(e) => return fail(&e, e.exit_code()),
    };
    if resent.forced {
        println!(
            "sent although their earlier message awaited its receipt (--force; recorded on the new messages)"
        );
    }
    for (at, msg_id) in resent.messages.iter().enumerate() {
        println!(
            "re-send part {} of {}: message {msg_id}",
            at + 1,
            resent.messages.len()
        );
    }
    match shipping.flush().await {
        Ok(sent) => {
            println!("{sent} message(s) handed to the transport");
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("the messages stay queued in the outbox and go with the next run");
            1
        }
    }
}

/// What the selection holds, in words an IPLOS submitter can check.
fn show(preview: &Preview, selector: &Selector) {
    let numbers = &preview.numbers;
    match (numbers.first(), numbers.last()) {
        (Some(first), Some(last)) => println!(
            "{selector}: {} notification(s), numbers {first}–{last}",
            numbers.len()
        ),
        _ => println!("{selector}: no notification that has been sent"),
    }
    for (msg_id, count) in &preview.messages {
        println!("  {count} of them were in message {msg_id}");
    }
    if !preview.waiting.is_empty() {
        println!(
            "  {} of them are in a message that still awaits KPR's receipt",
            preview.waiting.len()
        );
    }
    if !preview.sealed_away.is_empty() {
        println!(
            "  {} of them (number(s) {}) cannot be sent again: sealed under an identity key that is no longer there",
            preview.sealed_away.len(),
            crate::daily::sealed::ranges(&preview.sealed_away)
        );
    }
}

/// Asks on the terminal; an error when there is none to ask on.
fn confirm(count: usize) -> Result<bool, String> {
    if !std::io::stdin().is_terminal() {
        return Err(
            "not at a terminal, so cannot ask for confirmation: give --yes to send without asking"
                .to_string(),
        );
    }
    print!("\nSend these {count} notification(s) to KPR again? [y/N] ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| format!("cannot read the answer: {e}"))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "ja" | "j"))
}

fn fail(error: &dyn std::fmt::Display, code: u8) -> u8 {
    eprintln!("error: {error}");
    code
}
