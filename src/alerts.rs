//! Alerts: what needs action, told to the operator once.
//!
//! [`due`] turns a [`Status`] into alerts, each with a key that stays the same for the same
//! cause (`message-rejected:<MsgId>`, `daily-missed:<date>`, …), so that [`raise`] can skip
//! what was told before: a key is recorded in the state store only after its delivery
//! succeeded, so a failed delivery is tried again on the next call and a delivered one is
//! never repeated, across restarts. A certificate's key carries the day, so that an expiring
//! certificate is told once a day until it is renewed; so does a capture's, with the rules and
//! counts it found.
//!
//! Delivery is to a command (argv, no shell; the alert as JSON on stdin and in environment
//! variables), to a webhook (the JSON POSTed), or both; with neither, to the log only.
//! Messages say what happened, what it means and what to do, in words a care professional
//! understands, in the configured language (`locales/<language>/alerts.ftl`; bokmål by
//! default), and name messages by MsgId, days by date and findings by rule and count — never
//! a person, and never KPR's free text (which `kpr-bridge status` shows, masked). The JSON's
//! keys, the kind and the severity stay English: they are for machines.

use std::process::Stdio;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Europe::Oslo;
use serde::Serialize;
use tokio::io::AsyncWriteExt;

use crate::config::Config;
use crate::config::alerts::shown_webhook;
use crate::i18n::Language;
use crate::status::render::{self, capitalised};
use crate::status::{FindingLine, Problem, Status, codes};
use crate::store::{Store, StoreError};
use crate::t;

/// How long a command or a webhook may take before its delivery counts as failed.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Needs action soon; the rest goes on.
    Warning,
    /// Data does not reach the register until someone acts.
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Alert {
    /// The same for the same cause, run after run: what makes an alert be told once.
    pub key: String,
    /// `message-rejected`, `message-error`, `receipt-expired`, `daily-missed`,
    /// `certificate-expiring`, `capture-errors`, `receipt-conflict`, `identity-key`.
    pub kind: &'static str,
    pub severity: Severity,
    /// One line, for a subject or a notification's title.
    pub title: String,
    /// What happened, what it means, what to do.
    pub message: String,
}

/// The alerts a status calls for, in `lang` (pure: the same status gives the same alerts).
pub fn due(status: &Status, now: DateTime<Utc>, lang: Language) -> Vec<Alert> {
    let mut alerts = Vec::new();
    for problem in status.problems.iter().filter(|p| p.needs_action) {
        if let Some(alert) = message_alert(problem, lang) {
            alerts.push(alert);
        }
    }
    let daily = &status.daily;
    for date in &daily.missed {
        let last = daily
            .last_shipped
            .map_or_else(|| t!(lang, "status-none"), |d| lang.date(d));
        let date_text = lang.date(*date);
        alerts.push(Alert {
            key: format!("daily-missed:{date}"),
            kind: "daily-missed",
            severity: Severity::Error,
            title: t!(lang, "alert-daily-missed", date = date_text.clone()),
            message: lines(&[
                t!(
                    lang,
                    "alert-daily-missed.text",
                    date = date_text,
                    last = last
                ),
                t!(lang, "alert-daily-missed.means"),
                t!(lang, "alert-daily-missed.todo"),
            ]),
        });
    }
    let today = now.with_timezone(&Oslo).date_naive();
    for certificate in status
        .certificates
        .iter()
        .flatten()
        .filter(|c| c.needs_action(status.certificate_days))
    {
        let renew = certificate.renew(lang);
        let name = capitalised(&certificate.role_name(lang));
        let end = certificate.not_after.map_or_else(
            || "?".into(),
            |t| lang.date(t.with_timezone(&Oslo).date_naive()),
        );
        let (severity, title, message) = match (&certificate.problem, certificate.days_left) {
            (Some(problem), _) => (
                Severity::Error,
                t!(lang, "alert-certificate-unreadable", name = name.clone()),
                lines(&[
                    t!(
                        lang,
                        "alert-certificate-unreadable.text",
                        name = name,
                        problem = problem.clone()
                    ),
                    t!(lang, "alert-certificate-unreadable.means"),
                    t!(lang, "alert-certificate-unreadable.todo"),
                ]),
            ),
            (None, Some(left)) if left < 0 => (
                Severity::Error,
                t!(lang, "alert-certificate-ended", name = name.clone()),
                lines(&[
                    t!(lang, "alert-certificate-ended.text", name = name, day = end),
                    t!(lang, "alert-certificate-ended.means"),
                    t!(lang, "alert-certificate-ended.todo", renew = renew),
                ]),
            ),
            (None, left) => {
                let left = left.unwrap_or(0);
                (
                    if left <= 7 {
                        Severity::Error
                    } else {
                        Severity::Warning
                    },
                    t!(
                        lang,
                        "alert-certificate-ending",
                        name = name.clone(),
                        days = left
                    ),
                    lines(&[
                        t!(
                            lang,
                            "alert-certificate-ending.text",
                            name = name,
                            day = end.clone(),
                            days = left
                        ),
                        t!(lang, "alert-certificate-ending.means"),
                        t!(
                            lang,
                            "alert-certificate-ending.todo",
                            renew = renew,
                            day = end
                        ),
                    ]),
                )
            }
        };
        alerts.push(Alert {
            // KPR may have two signing certificates during its rotation: each is its own alert.
            key: if certificate.role == "kpr_signing" {
                format!(
                    "certificate:{}:{}:{today}",
                    certificate.role, certificate.file
                )
            } else {
                format!("certificate:{}:{today}", certificate.role)
            },
            kind: "certificate-expiring",
            severity,
            title,
            message,
        });
    }
    if let Some(findings) = &status.findings {
        let errors: Vec<_> = findings.errors().collect();
        if !errors.is_empty() {
            let total: u64 = errors.iter().map(|f| f.count).sum();
            let mut message = vec![t!(
                lang,
                "alert-capture-errors.text",
                date = lang.date(findings.reporting_date),
                count = total
            )];
            for finding in &errors {
                message.push(format!("- {}", render::finding_line(finding, lang)));
            }
            message.push(t!(lang, "alert-capture-errors.means"));
            message.push(t!(lang, "alert-capture-errors.todo"));
            alerts.push(Alert {
                key: capture_key(findings.reporting_date, &errors),
                kind: "capture-errors",
                severity: Severity::Warning,
                title: t!(lang, "alert-capture-errors", count = total),
                message: lines(&message),
            });
        }
    }
    for conflict in status.conflicts.iter().filter(|c| c.needs_action) {
        alerts.push(Alert {
            key: format!(
                "receipt-conflict:{}:{}",
                conflict.msg_id, conflict.later_receipt_id
            ),
            kind: "receipt-conflict",
            severity: Severity::Error,
            title: t!(lang, "alert-receipt-conflict", id = conflict.msg_id.clone()),
            message: lines(&[
                t!(
                    lang,
                    "alert-receipt-conflict.text",
                    id = conflict.msg_id.clone(),
                    first_status = codes::receipt_status_words(conflict.first_status, lang),
                    later_status = codes::receipt_status_words(conflict.later_status, lang)
                ),
                t!(
                    lang,
                    "alert-receipt-conflict.means",
                    state = codes::state(&conflict.state, lang)
                ),
                t!(lang, "alert-receipt-conflict.todo"),
            ]),
        });
    }
    // The identity key file gone, or notifications that can no longer be sent: keyed by the
    // key and the counts, so that a change is told again.
    let key = &status.identity_key;
    let paragraphs = crate::status::identity_key::actions(key, lang);
    if key.needs_action && !paragraphs.is_empty() {
        alerts.push(Alert {
            key: format!(
                "identity-key:{}:{}:{}:{}",
                key.fingerprint.as_deref().unwrap_or("none"),
                if key.file_missing { "missing" } else { "there" },
                key.cannot_resend_count,
                key.cannot_send_count
            ),
            kind: "identity-key",
            severity: Severity::Error,
            title: t!(lang, "alert-identity-key"),
            message: lines(&paragraphs.concat()),
        });
    }
    alerts
}

/// An alert's message: its lines, one after the other.
fn lines(lines: &[String]) -> String {
    lines.join("\n")
}

/// The agent captures every few minutes, and each capture of the same uncorrected records
/// finds the same errors: keyed by the reporting date and what was found (rule and count),
/// not by the capture, they are told once a day, and again as soon as they change.
fn capture_key(date: chrono::NaiveDate, errors: &[&FindingLine]) -> String {
    let found: Vec<String> = errors
        .iter()
        .map(|f| format!("{}={}", f.rule, f.count))
        .collect();
    format!("capture-errors:{date}:{}", found.join(","))
}

fn message_alert(problem: &Problem, lang: Language) -> Option<Alert> {
    let reasons: Vec<String> = problem
        .codes
        .iter()
        .map(|code| match codes::explain(&code.code, lang) {
            Some(explained) => format!(
                "- {}",
                t!(
                    lang,
                    "alert-reason",
                    code = code.code.clone(),
                    meaning = explained.meaning,
                    todo = explained.what_to_do
                )
            ),
            // KPR's own text may say anything: `kpr-bridge status` shows it, masked.
            None => format!(
                "- {}",
                t!(lang, "alert-reason-unknown", code = code.code.clone())
            ),
        })
        .collect();
    let what = codes::message_what(
        &problem.msg_type,
        problem.reporting_date,
        problem.year,
        lang,
    );
    let id = problem.msg_id.clone();
    let target = codes::target(&problem.target, lang);
    let mut message = Vec::new();
    let (kind, severity, title) = match problem.state.as_str() {
        "rejected" => {
            message.push(t!(
                lang,
                "alert-rejected.text",
                what = what.clone(),
                id = id,
                target = target
            ));
            message.push(t!(lang, "alert-rejected.means"));
            if !reasons.is_empty() {
                message.push(t!(lang, "alert-reasons"));
                message.extend(reasons);
            }
            message.push(t!(lang, "alert-rejected.todo"));
            (
                "message-rejected",
                Severity::Error,
                t!(lang, "alert-rejected", what = what),
            )
        }
        "error" => {
            message.push(t!(
                lang,
                "alert-error.text",
                what = what.clone(),
                id = id,
                target = target
            ));
            message.push(t!(lang, "alert-error.means"));
            message.push(t!(lang, "alert-error.todo"));
            (
                "message-error",
                Severity::Error,
                t!(lang, "alert-error", what = what),
            )
        }
        "expired" => {
            message.push(t!(
                lang,
                "alert-expired.text",
                what = what.clone(),
                id = id,
                target = target
            ));
            message.push(t!(lang, "alert-expired.means"));
            message.push(t!(lang, "alert-expired.todo"));
            (
                "receipt-expired",
                Severity::Warning,
                t!(lang, "alert-expired", what = what),
            )
        }
        _ => return None,
    };
    Some(Alert {
        key: format!("{kind}:{}", problem.msg_id),
        kind,
        severity,
        title,
        message: lines(&message),
    })
}

/// What [`raise`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Raised {
    /// Keys delivered (or logged) and recorded now.
    pub delivered: Vec<String>,
    /// Keys whose delivery failed: tried again on the next call.
    pub failed: Vec<String>,
    /// Alerts skipped because their key was delivered before.
    pub skipped: usize,
}

/// The alert as the command and the webhook receive it.
#[derive(Serialize)]
struct Payload<'a> {
    #[serde(flatten)]
    alert: &'a Alert,
    municipality: &'a str,
    municipality_name: &'a str,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Channel {
    Command,
    Webhook,
}

impl Channel {
    fn name(self) -> &'static str {
        match self {
            Channel::Command => "command",
            Channel::Webhook => "webhook",
        }
    }
}

/// Delivers each alert whose key is not recorded yet, and records it once delivered. Fails
/// only when the state store cannot be read or written; a failed delivery is logged (with
/// the command or the webhook's host, and what to do) and tried again next time.
///
/// With both a command and a webhook, each channel that succeeded is recorded on its own
/// (`<key>#command`, `<key>#webhook`), so that a retry repeats only the one that failed.
pub async fn raise(config: &Config, store: &Store, alerts: &[Alert]) -> Result<Raised, StoreError> {
    raise_within(config, store, alerts, DELIVERY_TIMEOUT).await
}

/// [`raise`] with another time limit for each delivery (a test's, or a shutdown's).
pub async fn raise_within(
    config: &Config,
    store: &Store,
    alerts: &[Alert],
    timeout: Duration,
) -> Result<Raised, StoreError> {
    let settings = &config.alerts;
    let mut channels = Vec::new();
    if settings.command.is_some() {
        channels.push(Channel::Command);
    }
    if settings.webhook.is_some() {
        channels.push(Channel::Webhook);
    }
    // reqwest with native-tls: the system's OpenSSL, which kpr-bridge links for CMS anyway,
    // and the system's CA store, where a municipality installs its own CA; one small client
    // rather than a hand-written HTTP/1.1 and TLS exchange over hyper.
    let client = settings.webhook.as_ref().map(|_| {
        reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| e.to_string())
    });
    let mut raised = Raised::default();
    for alert in alerts {
        if store.alert_raised(&alert.key).await? {
            raised.skipped += 1;
            continue;
        }
        log(alert);
        let payload = serde_json::to_vec(&Payload {
            alert,
            municipality: &config.municipality,
            municipality_name: &config.municipality_name,
        })
        .expect("an alert serializes");
        let mut all = true;
        for &channel in &channels {
            let channel_key =
                (channels.len() > 1).then(|| format!("{}#{}", alert.key, channel.name()));
            if let Some(key) = &channel_key
                && store.alert_raised(key).await?
            {
                continue;
            }
            let outcome = match channel {
                Channel::Command => {
                    let argv = settings.command.as_deref().unwrap_or_default();
                    run_command(argv, alert, &payload, timeout).await
                }
                Channel::Webhook => {
                    let url = settings.webhook.as_deref().unwrap_or_default();
                    match &client {
                        Some(Ok(client)) => post(client, url, &payload).await,
                        Some(Err(why)) => Err(format!(
                            "cannot make an HTTPS client ({why}); check the system's OpenSSL installation"
                        )),
                        None => Ok(()),
                    }
                }
            };
            match outcome {
                Ok(()) => {
                    if let Some(key) = &channel_key {
                        store
                            .record_alert(key, alert.kind, &alert.title, Utc::now())
                            .await?;
                    }
                }
                Err(why) => {
                    all = false;
                    tracing::error!(
                        "alert {}: delivery failed: {why}; it is tried again on the next run",
                        alert.key
                    );
                }
            }
        }
        if all {
            store
                .record_alert(&alert.key, alert.kind, &alert.message, Utc::now())
                .await?;
            raised.delivered.push(alert.key.clone());
        } else {
            raised.failed.push(alert.key.clone());
        }
    }
    Ok(raised)
}

/// Every new alert goes to the log too, at its severity: with no channel configured, that
/// is where the operator reads it.
fn log(alert: &Alert) {
    match alert.severity {
        Severity::Error => tracing::error!("alert {}: {}", alert.key, alert.message),
        Severity::Warning => tracing::warn!("alert {}: {}", alert.key, alert.message),
    }
}

/// Runs the configured command with the alert on stdin; delivered when it exits 0 in time.
async fn run_command(
    argv: &[String],
    alert: &Alert,
    payload: &[u8],
    timeout: Duration,
) -> Result<(), String> {
    let Some((program, args)) = argv.split_first() else {
        return Err("alerts.command is empty".into());
    };
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .env("KPR_BRIDGE_ALERT_KEY", &alert.key)
        .env("KPR_BRIDGE_ALERT_KIND", alert.kind)
        .env("KPR_BRIDGE_ALERT_SEVERITY", alert.severity.as_str())
        .env("KPR_BRIDGE_ALERT_TITLE", &alert.title)
        .env("KPR_BRIDGE_ALERT_MESSAGE", &alert.message)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            format!(
                "cannot start the alert command {program}: {e}; check alerts.command (the program's full path, executable by kpr-bridge's user)"
            )
        })?;
    let stdin = child.stdin.take();
    let write = async {
        if let Some(mut stdin) = stdin {
            // A command that does not read its input may close it early: not a failure.
            match stdin.write_all(payload).await {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e),
                _ => {}
            }
        }
        Ok(())
    };
    let finished = tokio::time::timeout(timeout, async {
        write.await?;
        child.wait_with_output().await
    })
    .await;
    match finished {
        Err(_) => Err(format!(
            "the alert command {program} did not finish within {} seconds and was stopped; make it return sooner (hand slow work to the background)",
            timeout.as_secs_f32()
        )),
        Ok(Err(e)) => Err(format!("the alert command {program} failed: {e}")),
        Ok(Ok(output)) if output.status.success() => Ok(()),
        Ok(Ok(output)) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let stderr: String = stderr.trim().chars().take(300).collect();
            Err(format!(
                "the alert command {program} ended with {}{}; run it by hand with an alert on stdin to see why",
                output.status,
                if stderr.is_empty() {
                    String::new()
                } else {
                    format!(" ({stderr})")
                }
            ))
        }
    }
}

/// POSTs the alert; delivered on a 2xx answer in time.
async fn post(client: &reqwest::Client, url: &str, payload: &[u8]) -> Result<(), String> {
    let shown = shown_webhook(url);
    let answer = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(payload.to_vec())
        .send()
        .await
        // reqwest's errors name the whole URL, whose path may be the webhook's secret.
        .map_err(|e| {
            format!(
                "POST to {shown} failed: {}; check alerts.webhook and that this machine may reach it",
                e.without_url()
            )
        })?;
    let status = answer.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!(
            "POST to {shown} was answered {status}; check alerts.webhook and what the receiving service expects"
        ))
    }
}
