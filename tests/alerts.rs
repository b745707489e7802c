//! Alerts on a real store with real processes: a command that appends what it is given to a
//! file, a webhook served by the test on 127.0.0.1, delivery once, retries after failures,
//! and messages that never carry an identity number — in bokmål by default, in English with
//! `language = "en"`.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use kpr_bridge::alerts::{Alert, Severity, due, raise, raise_within};
use kpr_bridge::config::Config;
use kpr_bridge::daily::ship;
use kpr_bridge::i18n::Language;
use kpr_bridge::message::apprec::{AppRec, ReceiptError, Status as Receipt, Version};
use kpr_bridge::status::gather;
use kpr_bridge::store::Store;
use kpr_bridge::store::outbox::{NewMessage, State};
use support::daily::{capture_on, only, person, service};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const REJECTED: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeee03";

/// A configuration whose store is SQLite in `dir/state` (or `state_url`), with `alerts` as
/// its `[alerts]` section and `delivery` (certificates) when given.
fn config(dir: &Path, state_url: Option<&str>, alerts: &str, delivery: &str) -> Config {
    config_in(dir, state_url, alerts, delivery, None)
}

/// [`config`] with `language` set at its top.
fn config_in(
    dir: &Path,
    state_url: Option<&str>,
    alerts: &str,
    delivery: &str,
    language: Option<&str>,
) -> Config {
    let text = format!(
        r#"
{language}
mode = "test"
data_dir = "{dir}/state"
mapping = "mapping.toml"
[municipality]
number = "4601"
name = "Bergen"
[her_id]
municipality = "12345"
service_unit = "67890"
[[source]]
name = "epj"
kind = "extract"
path = "extract"
{state}
[alerts]
{alerts}
{delivery}
"#,
        dir = dir.display(),
        language = language
            .map(|l| format!("language = \"{l}\""))
            .unwrap_or_default(),
        state = state_url
            .map(|url| format!("[state]\nurl = \"{url}\""))
            .unwrap_or_default(),
    );
    Config::parse(&text, &dir.join("kpr-bridge.toml")).unwrap()
}

/// An executable shell script in `dir`.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
    file
}

/// The script that appends `KIND|SEVERITY|<the JSON from stdin>` as one line to `$1`.
fn appender(dir: &Path) -> PathBuf {
    script(
        dir,
        "append.sh",
        r#"printf '%s|%s|' "$KPR_BRIDGE_ALERT_KIND" "$KPR_BRIDGE_ALERT_SEVERITY" >> "$1"
cat >> "$1"
echo >> "$1""#,
    )
}

fn lines(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

fn command(argv: &[&Path]) -> String {
    let quoted: Vec<String> = argv
        .iter()
        .map(|p| format!("\"{}\"", p.display()))
        .collect();
    format!("command = [{}]", quoted.join(", "))
}

/// A message KPR rejected with E35, and with a code it explains in its own words only —
/// words that hold an identity number.
async fn rejected_message(store: &Store, now: DateTime<Utc>) {
    let message = NewMessage {
        msg_id: REJECTED.into(),
        msg_type: "KPR_IPL".into(),
        target: "validation".into(),
        to_her_id: "171479".into(),
        body: vec![1; 32],
        body_file: None,
    };
    store
        .enqueue(&message, now - Duration::hours(3))
        .await
        .unwrap();
    store
        .transition(REJECTED, State::Sent, None, now - Duration::hours(3))
        .await
        .unwrap();
    let errors = [("E35", "Pasient ukjent"), ("Q42", "Fnr 01017012345 ukjent")]
        .iter()
        .map(|(code, text)| ReceiptError {
            code: code.to_string(),
            text: text.to_string(),
            system: "2.16.578.1.12.4.1.1.8221".into(),
            part: String::new(),
        })
        .collect();
    let receipt = AppRec {
        version: Version::V1_0,
        id: "receipt-1".into(),
        generated: "2026-11-21T12:00:00".into(),
        status: Receipt::Rejected,
        errors,
        original_msg_id: REJECTED.into(),
        original_type: "KPR_IPL".into(),
        original_issued: "2026-11-21T11:00:00".into(),
        sender: Vec::new(),
        receiver: Vec::new(),
    };
    store
        .record_receipt(&receipt, now - Duration::hours(2))
        .await
        .unwrap();
}

async fn alerts_of(config: &Config, store: &Store, now: DateTime<Utc>) -> Vec<Alert> {
    due(
        &gather(config, store, now).await.unwrap(),
        now,
        config.language,
    )
}

#[test]
fn a_command_alert_is_delivered_once_on_both_stores() {
    support::on_both_at(|store, _data_dir, state_url| async move {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("alerts.txt");
        let alerts_toml = command(&[&appender(dir.path()), &out]);
        let config = config(dir.path(), state_url.as_deref(), &alerts_toml, "");
        let now = Utc::now();
        rejected_message(&store, now).await;
        let alerts = alerts_of(&config, &store, now).await;
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        let alert = &alerts[0];
        assert_eq!(alert.key, format!("message-rejected:{REJECTED}"));
        assert_eq!(
            (alert.kind, alert.severity),
            ("message-rejected", Severity::Error)
        );

        let first = raise(&config, &store, &alerts).await.unwrap();
        assert_eq!(first.delivered, [alert.key.as_str()]);
        let second = raise(&config, &store, &alerts).await.unwrap();
        assert!(second.delivered.is_empty() && second.failed.is_empty());
        assert_eq!(second.skipped, 1);
        // And after a restart: the key is in the store, not in memory.
        let again = raise(&config, &store, &alerts_of(&config, &store, now).await)
            .await
            .unwrap();
        assert_eq!(again.skipped, 1);

        let lines = lines(&out);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let json = lines[0]
            .strip_prefix("message-rejected|error|")
            .unwrap_or_else(|| panic!("{}", lines[0]));
        let json: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(json["key"], alert.key.as_str());
        assert_eq!(json["severity"], "error");
        assert_eq!(json["municipality"], "4601");
        // In bokmål, the configuration's default.
        let message = json["message"].as_str().unwrap();
        assert_eq!(json["title"], "KPR avviste en årsrapport");
        assert!(message.contains("KPR avviste en årsrapport"), "{message}");
        assert!(
            message.contains("E35: Registeret kjenner ikke en person i meldingen."),
            "{message}"
        );
        assert!(
            message.contains("Det betyr:") && message.contains("Dette gjør du:"),
            "{message}"
        );
        assert!(!message.contains("What to do"), "{message}");
        assert!(
            !message.contains("01017012345") && !message.contains("ukjent"),
            "{message}"
        );
        assert!(store.alert_raised(&alert.key).await.unwrap());
    });
}

#[test]
fn a_failing_command_is_not_recorded_and_is_tried_again() {
    support::block_on(|| async {
        let dir = tempfile::tempdir().unwrap();
        let tries = dir.path().join("tries.txt");
        let failing = script(
            dir.path(),
            "fail.sh",
            "echo try >> \"$1\"\necho 'no mail server' >&2\nexit 3",
        );
        let config_failing = config(dir.path(), None, &command(&[&failing, &tries]), "");
        let store = Store::open(None, &config_failing.data_dir).await.unwrap();
        let now = Utc::now();
        rejected_message(&store, now).await;
        let alerts = alerts_of(&config_failing, &store, now).await;
        let key = alerts[0].key.clone();

        for attempt in 1..=2 {
            let raised = raise(&config_failing, &store, &alerts).await.unwrap();
            assert_eq!(raised.failed, [key.as_str()], "attempt {attempt}");
            assert!(!store.alert_raised(&key).await.unwrap());
            assert_eq!(lines(&tries).len(), attempt);
        }

        // A command that never returns is stopped, and counts as failed too.
        let hanging = script(dir.path(), "hang.sh", "exec sleep 600");
        let config_hanging = config(dir.path(), None, &command(&[&hanging]), "");
        let started = std::time::Instant::now();
        let limit = std::time::Duration::from_secs(1);
        let raised = raise_within(&config_hanging, &store, &alerts, limit)
            .await
            .unwrap();
        assert_eq!(raised.failed, [key.as_str()]);
        assert!(started.elapsed() < std::time::Duration::from_secs(10));

        // Fixed: delivered, and only then recorded.
        let out = dir.path().join("alerts.txt");
        let config_fixed = config(
            dir.path(),
            None,
            &command(&[&appender(dir.path()), &out]),
            "",
        );
        let raised = raise(&config_fixed, &store, &alerts).await.unwrap();
        assert_eq!(raised.delivered, [key.as_str()]);
        assert!(store.alert_raised(&key).await.unwrap());
        assert_eq!(lines(&out).len(), 1);
        store.close().await;
    });
}

/// A one-shot HTTP server on 127.0.0.1: answers each request with `status` and hands over
/// the request line and the body.
async fn webhook_server(
    status: &'static str,
) -> (u16, tokio::sync::mpsc::UnboundedReceiver<(String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            let (head_end, length) = loop {
                let n = socket.read(&mut buffer).await.unwrap();
                assert!(n > 0, "the request ends early");
                request.extend_from_slice(&buffer[..n]);
                if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&request[..end]).to_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                    break (end + 4, length);
                }
            };
            while request.len() < head_end + length {
                let n = socket.read(&mut buffer).await.unwrap();
                assert!(n > 0, "the body ends early");
                request.extend_from_slice(&buffer[..n]);
            }
            let head = String::from_utf8_lossy(&request[..head_end]).into_owned();
            let request_line = head.lines().next().unwrap_or_default().to_string();
            let body = request[head_end..head_end + length].to_vec();
            let answer =
                format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            socket.write_all(answer.as_bytes()).await.unwrap();
            let _ = socket.shutdown().await;
            let _ = tx.send((request_line, body));
        }
    });
    (port, rx)
}

#[test]
fn a_webhook_alert_is_posted_as_json_once() {
    support::block_on(|| async {
        let dir = tempfile::tempdir().unwrap();
        let (port, mut received) = webhook_server("200 OK").await;
        let webhook = format!("webhook = \"http://127.0.0.1:{port}/hook/s3cr3t-token\"");
        let config = config(dir.path(), None, &webhook, "");
        let store = Store::open(None, &config.data_dir).await.unwrap();
        let now = Utc::now();
        rejected_message(&store, now).await;
        let alerts = alerts_of(&config, &store, now).await;

        let raised = raise(&config, &store, &alerts).await.unwrap();
        assert_eq!(raised.delivered.len(), 1, "{raised:?}");
        let (request_line, body) = received.recv().await.unwrap();
        assert_eq!(request_line, "POST /hook/s3cr3t-token HTTP/1.1");
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["kind"], "message-rejected");
        assert_eq!(json["key"], alerts[0].key.as_str());
        // The text fields in bokmål by default; the keys in English always.
        assert_eq!(json["title"], "KPR avviste en årsrapport");
        assert!(
            json["message"]
                .as_str()
                .unwrap()
                .contains("Det betyr: ingenting i den kom fram til registeret."),
            "{json}"
        );

        assert_eq!(raise(&config, &store, &alerts).await.unwrap().skipped, 1);
        assert!(received.try_recv().is_err(), "posted once");

        // With `language = "en"`, the same alert in English (its key unchanged).
        let english = config_in(dir.path(), None, &webhook, "", Some("en"));
        assert_eq!(english.language, Language::En);
        let alerts_en = alerts_of(&english, &store, now).await;
        assert_eq!(alerts_en[0].key, alerts[0].key);
        assert_eq!(alerts_en[0].title, "KPR rejected an annual report");
        let message = &alerts_en[0].message;
        assert!(
            message.contains("E35: The register does not know a person in the message.")
                && message.contains("What it means: nothing in it reached the register."),
            "{message}"
        );
        store.close().await;
    });
}

#[test]
fn with_a_command_and_a_webhook_only_the_channel_that_failed_is_tried_again() {
    support::block_on(|| async {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("alerts.txt");
        let (failing_port, mut refused) = webhook_server("500 Internal Server Error").await;
        let both = |port: u16| {
            format!(
                "{}\nwebhook = \"http://127.0.0.1:{port}/hook\"",
                command(&[&appender(dir.path()), &out])
            )
        };
        let config_failing = config(dir.path(), None, &both(failing_port), "");
        let store = Store::open(None, &config_failing.data_dir).await.unwrap();
        let now = Utc::now();
        rejected_message(&store, now).await;
        let alerts = alerts_of(&config_failing, &store, now).await;
        let key = alerts[0].key.clone();

        let raised = raise(&config_failing, &store, &alerts).await.unwrap();
        assert_eq!(raised.failed, [key.as_str()]);
        assert!(refused.recv().await.is_some());
        assert_eq!(lines(&out).len(), 1);

        let (port, mut received) = webhook_server("204 No Content").await;
        let config_fixed = config(dir.path(), None, &both(port), "");
        let raised = raise(&config_fixed, &store, &alerts).await.unwrap();
        assert_eq!(raised.delivered, [key.as_str()]);
        assert!(received.recv().await.is_some());
        assert_eq!(lines(&out).len(), 1, "the command is not run again");
        store.close().await;
    });
}

#[test]
fn without_a_command_or_a_webhook_alerts_are_logged_and_recorded() {
    support::block_on(|| async {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), None, "", "");
        let store = Store::open(None, &config.data_dir).await.unwrap();
        let now = Utc::now();
        rejected_message(&store, now).await;
        let alerts = alerts_of(&config, &store, now).await;
        assert_eq!(
            raise(&config, &store, &alerts)
                .await
                .unwrap()
                .delivered
                .len(),
            1
        );
        assert_eq!(raise(&config, &store, &alerts).await.unwrap().skipped, 1);
        store.close().await;
    });
}

#[test]
fn every_kind_of_alert_says_what_to_do_and_no_message_holds_an_identity_number() {
    support::block_on(|| async {
        let dir = tempfile::tempdir().unwrap();
        let certs = dir.path().join("certs");
        let status = std::process::Command::new(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("ops/make-test-certs.sh"),
        )
        .arg(&certs)
        .arg("10")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
        assert!(status.success());
        let delivery = format!(
            r#"[[contact]]
type = 16
name = "IPLOS"
email = "iplos@example.invalid"
[[contact]]
type = 17
name = "IPLOS"
email = "iplos@example.invalid"
[delivery]
transport = "spool"
spool_dir = "spool"
[certificates]
signing_certificate = "{c}/kommune-sign.crt"
signing_key = "{c}/kommune-sign.key"
encryption_certificate = "{c}/kommune-enc.crt"
encryption_key = "{c}/kommune-enc.key"
kpr_encryption_certificate = "{c}/kpr-enc.crt"
trust = ["{c}/ca.crt"]
kpr_signing_certificates = ["{c}/kpr-sign.crt"]
"#,
            c = certs.display()
        );
        let config = config(dir.path(), None, "certificate_days = 30", &delivery);
        let store = Store::open(None, &config.data_dir).await.unwrap();
        let now = Utc::now();
        rejected_message(&store, now).await;

        // Daily reporting began three closed dates ago and shipped only its first; its
        // capture found an error (a service of a type the mapping does not know).
        let closed = config.agent.schedule.closed_date(now).unwrap();
        let first = closed - Duration::days(2);
        let mut records = kpr_bridge::source::Snapshot::default();
        records.persons.push(person("p1", 1, "4601"));
        records
            .services
            .push(service("s1", "p1", "UKJENT", "2026-01-01"));
        capture_on(&store, &only(&records), &first.to_string(), true)
            .await
            .unwrap();
        let mut tx = store.begin_daily().await.unwrap();
        ship::record(&mut tx, first, now - Duration::hours(30), 0, Vec::new())
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let alerts = alerts_of(&config, &store, now).await;
        let today = now.with_timezone(&chrono_tz::Europe::Oslo).date_naive();
        let keys: Vec<&str> = alerts.iter().map(|a| a.key.as_str()).collect();
        let expected = [
            format!("message-rejected:{REJECTED}"),
            format!("daily-missed:{}", first + Duration::days(1)),
            format!("daily-missed:{closed}"),
            format!("certificate:signing:{today}"),
            format!("certificate:encryption:{today}"),
            format!("certificate:kpr_encryption:{today}"),
            format!(
                "certificate:kpr_signing:{}:{today}",
                certs.join("kpr-sign.crt").display()
            ),
        ];
        for key in &expected {
            assert!(keys.contains(&key.as_str()), "{key} in {keys:?}");
        }
        let capture = alerts
            .iter()
            .find(|a| a.kind == "capture-errors")
            .expect("a capture-errors alert");
        assert_eq!(
            capture.key,
            format!("capture-errors:{first}:local-type-unmapped=1")
        );
        assert!(
            capture.message.contains("local-type-unmapped (1 post)"),
            "{}",
            capture.message
        );
        assert_eq!(alerts.len(), expected.len() + 1, "{keys:?}");

        let certificate = alerts
            .iter()
            .find(|a| a.key.starts_with("certificate:signing:"))
            .unwrap();
        assert_eq!(certificate.severity, Severity::Warning);
        assert!(
            certificate
                .title
                .starts_with("Kommunens signeringssertifikat utløper om"),
            "{}",
            certificate.title
        );

        for alert in &alerts {
            for text in [&alert.key, &alert.title, &alert.message] {
                let mut run = 0;
                for c in text.chars() {
                    run = if c.is_ascii_digit() { run + 1 } else { 0 };
                    assert!(run < 11, "an 11-digit number in {text}");
                }
            }
            assert!(
                alert.message.contains("Dette gjør du:"),
                "{}",
                alert.message
            );
            assert!(alert.message.contains("Det betyr:"), "{}", alert.message);
        }

        // The same alerts in English: the same keys, each saying what it means and what to do.
        let status = gather(&config, &store, now).await.unwrap();
        let english = due(&status, now, Language::En);
        assert_eq!(
            english.iter().map(|a| &a.key).collect::<Vec<_>>(),
            alerts.iter().map(|a| &a.key).collect::<Vec<_>>()
        );
        for alert in &english {
            assert!(alert.message.contains("What to do:"), "{}", alert.message);
            assert!(
                alert.message.contains("What it means:"),
                "{}",
                alert.message
            );
        }
        let certificate = english
            .iter()
            .find(|a| a.key.starts_with("certificate:signing:"))
            .unwrap();
        assert!(
            certificate.title.contains("ends in"),
            "{}",
            certificate.title
        );
        let missed = english.iter().find(|a| a.kind == "daily-missed").unwrap();
        assert!(
            missed.title.starts_with("The daily report for 20"),
            "{}",
            missed.title
        );
        let missed = alerts.iter().find(|a| a.kind == "daily-missed").unwrap();
        assert!(
            missed.title.starts_with("Den daglige rapporten for ")
                && missed.title.ends_with(" er ikke sendt til KPR"),
            "{}",
            missed.title
        );

        // Raised once today; tomorrow the certificates are raised again, the rest not.
        let first_round = raise(&config, &store, &alerts).await.unwrap();
        assert_eq!(first_round.delivered.len(), alerts.len());
        let tomorrow = now + Duration::days(1);
        let next = alerts_of(&config, &store, tomorrow).await;
        let raised = raise(&config, &store, &next).await.unwrap();
        let mut kinds: Vec<&str> = raised
            .delivered
            .iter()
            .map(|k| k.split(':').next().unwrap())
            .collect();
        kinds.dedup();
        assert_eq!(kinds, ["daily-missed", "certificate"], "{raised:?}");
        store.close().await;
    });
}
