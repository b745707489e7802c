//! The administration page's work as commands, so that everything the page does a shell can
//! do: `admin-password` (a hash for `[[admin.user]]`), `contacts` (show or change the IPLOS
//! contacts), `audit` (the audit log) and `message` (one message with its notifications).
//! `status` is the overview and `resend` the re-send form.

use std::io::IsTerminal;
use std::path::Path;

use chrono::Utc;

use super::open_existing as open;
use crate::admin::auth;
use crate::admin::settings::{contact_pair, described};
use crate::redact::hide_identity_numbers;
use crate::status::codes;
use crate::store::admin::MessageFilter;

/// Reads a password (from the terminal without echo, else one line of standard input) and
/// prints its argon2 hash.
pub fn admin_password() -> u8 {
    let read = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password for the administration page: ").and_then(|first| {
            let again = rpassword::prompt_password("The same again: ")?;
            Ok((first == again).then_some(first))
        })
    } else {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map(|_| Some(line.trim_end_matches(['\r', '\n']).to_string()))
    };
    let password = match read {
        Ok(Some(password)) => password,
        Ok(None) => {
            eprintln!("error: the two passwords differ; nothing was made");
            return 2;
        }
        Err(e) => {
            eprintln!("error: cannot read the password: {e}");
            return 2;
        }
    };
    if password.chars().count() < 12 {
        eprintln!(
            "error: the password has fewer than 12 characters; choose a longer one (a few words make a good one)"
        );
        return 2;
    }
    match auth::hash_password(&password) {
        Ok(hash) => {
            println!("{hash}");
            eprintln!(
                "Put it in the configuration as\n[[admin.user]]\nname = \"…\"\npassword_hash = \"{hash}\""
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn fail(error: &dyn std::fmt::Display) -> u8 {
    eprintln!("error: {error}");
    2
}

/// New IPLOS contacts: both roles, each name, e-mail and an optional phone.
pub struct NewContacts {
    pub contact: [String; 3],
    pub submitter: [String; 3],
}

/// Shows the IPLOS contacts in use, or saves new ones (recorded in the audit log as the
/// operating-system user who ran the command).
pub async fn contacts(config: &Path, new: Option<NewContacts>) -> u8 {
    let (config, store) = match open(config).await {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let code = async {
        if let Some(new) = new {
            let [name, email, phone] = &new.contact;
            let [s_name, s_email, s_phone] = &new.submitter;
            let contacts = contact_pair(
                config.language,
                [name, email, phone],
                [s_name, s_email, s_phone],
            );
            let contacts = match contacts {
                Ok(contacts) => contacts,
                Err(problem) => return fail(&problem),
            };
            let who = format!("{} (command line)", operating_system_user());
            let now = Utc::now();
            let detail = described(&contacts);
            let saved = async {
                store.save_contacts(&contacts, &who, now).await?;
                store
                    .audit(now, &who, "local", "contacts changed", &detail)
                    .await
            };
            if let Err(e) = saved.await {
                eprintln!("error: {e}");
                return 1;
            }
            println!("Saved; the next message carries them.");
        }
        let (contacts, from) = match store.saved_contacts().await {
            Ok(Some(saved)) => (
                saved.contacts,
                format!(
                    "saved by {} at {}",
                    saved.changed_by,
                    config.language.moment(saved.changed_at)
                ),
            ),
            Ok(None) => (config.contacts.clone(), "from the configuration".into()),
            Err(e) => {
                eprintln!("error: {e}");
                return 1;
            }
        };
        println!("IPLOS contacts ({from}):");
        for c in contacts {
            println!(
                "  type {}: {}, {}{}",
                c.kind,
                c.name,
                c.email,
                c.phone.map(|p| format!(", {p}")).unwrap_or_default()
            );
        }
        0
    }
    .await;
    store.close().await;
    code
}

fn operating_system_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown user".into())
}

/// Prints the audit log, oldest first.
pub async fn audit(config: &Path) -> u8 {
    let (config, store) = match open(config).await {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let rows = store.audit_log(i64::MAX).await;
    store.close().await;
    match rows {
        Ok(rows) => {
            for row in rows.into_iter().rev() {
                println!(
                    "{}  {}  {}  {}{}",
                    config.language.moment(row.at),
                    row.user,
                    row.address,
                    row.action,
                    if row.detail.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", row.detail)
                    }
                );
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

/// Prints one message: its state and history, KPR's receipts, and its notifications.
pub async fn message(config: &Path, msg_id: &str) -> u8 {
    let (config, store) = match open(config).await {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let code = async {
        let filter = MessageFilter {
            msg_id: Some(msg_id.to_string()),
            limit: 1,
            ..MessageFilter::default()
        };
        let shown = async {
            let Some(listed) = store.listed_messages(&filter).await?.pop() else {
                return Ok(false);
            };
            let row = &listed.row;
            println!(
                "Message {}: {} to {}, {} since {}",
                row.msg_id,
                codes::message_type(&row.msg_type, config.language),
                row.target,
                row.state,
                config.language.moment(row.state_at)
            );
            for t in store.transitions(msg_id).await? {
                println!(
                    "  {}  {} → {}{}",
                    config.language.moment(t.at),
                    t.from.map(|s| s.to_string()).unwrap_or_else(|| "—".into()),
                    t.to,
                    t.detail
                        .map(|d| format!(": {}", hide_identity_numbers(&d)))
                        .unwrap_or_default()
                );
            }
            for r in store.receipts(msg_id).await? {
                println!(
                    "Receipt {} at {}: {} {}",
                    hide_identity_numbers(&r.receipt_id),
                    config.language.moment(r.received_at),
                    r.status,
                    codes::receipt_status(r.status, config.language)
                );
                for error in &r.errors {
                    let code = crate::status::explain(error, config.language);
                    println!("  {}: {}", code.code, code.meaning);
                }
            }
            let notifications = store.notifications_of_message(msg_id).await?;
            if !notifications.is_empty() {
                println!("Notifications (number, event, status, event date, source, service id, person no.):");
            }
            for n in notifications {
                println!(
                    "  {}  {} {}  {}  {}  {}  {}",
                    n.number, n.kind, n.status, n.event_day, n.source, n.local_id, n.user_number
                );
            }
            Ok::<_, crate::store::StoreError>(true)
        };
        match shown.await {
            Ok(true) => 0,
            Ok(false) => {
                eprintln!(
                    "error: no message has MsgId {msg_id}; `kpr-bridge receipts --offline` lists them"
                );
                2
            }
            Err(e) => {
                eprintln!("error: {e}");
                1
            }
        }
    }
    .await;
    store.close().await;
    code
}
