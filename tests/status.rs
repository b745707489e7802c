//! `kpr-bridge status` on a real store, SQLite and PostgreSQL: a daily shipment KPR took, a
//! message it rejected, one whose receipt never came, messages waiting, an anomaly and a
//! capture whose checks found errors — gathered, rendered in plain words (bokmål by default,
//! English with `language = "en"`), exposed as metrics, and shown by the binary with its exit
//! code.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use chrono::{DateTime, Duration, Utc};
use kpr_bridge::config::Config;
use kpr_bridge::daily::ship;
use kpr_bridge::i18n::Language;
use kpr_bridge::message::apprec::{AppRec, ReceiptError, Status as Receipt, Version};
use kpr_bridge::status::{Status, gather, metrics::metrics, render};
use kpr_bridge::store::Store;
use kpr_bridge::store::outbox::{NewMessage, State};
use kpr_bridge::store::receipts::Anomaly;
use support::daily::{capture_on, only, person, service};
use support::on_both_at;

/// A MsgId with letters in every group, so that no run of digits in it looks like an
/// identity number to the scans below.
fn msg_id(n: u8) -> String {
    format!("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeee{n:02x}")
}

fn message(n: u8, msg_type: &str) -> NewMessage {
    NewMessage {
        msg_id: msg_id(n),
        msg_type: msg_type.into(),
        target: "validation".into(),
        to_her_id: "171479".into(),
        body: vec![n; 64],
        body_file: None,
    }
}

fn receipt(msg_id: &str, status: Receipt, errors: &[(&str, &str)]) -> AppRec {
    AppRec {
        version: Version::V1_0,
        id: format!("receipt-for-{msg_id}"),
        generated: "2026-11-21T12:00:00".into(),
        status,
        errors: errors
            .iter()
            .map(|(code, text)| ReceiptError {
                code: code.to_string(),
                text: text.to_string(),
                system: "2.16.578.1.12.4.1.1.8221".into(),
                part: String::new(),
            })
            .collect(),
        original_msg_id: msg_id.into(),
        original_type: "KPR_IPL".into(),
        original_issued: "2026-11-21T11:00:00".into(),
        sender: Vec::new(),
        receiver: Vec::new(),
    }
}

/// The configuration `status` reads: the store at `data_dir` (SQLite) or `state_url`, the
/// test certificates when `certificates`.
fn write_config(dir: &Path, data_dir: &Path, state_url: Option<&str>) -> std::path::PathBuf {
    let text = format!(
        r#"
mode = "test"
data_dir = "{data}"
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
[delivery]
transport = "spool"
spool_dir = "spool"
{certificates}
"#,
        data = data_dir.display(),
        state = state_url
            .map(|url| format!("[state]\nurl = \"{url}\""))
            .unwrap_or_default(),
        certificates = support::amqp::municipality_certificates(),
    );
    let file = dir.join("kpr-bridge.toml");
    std::fs::write(&file, text).unwrap();
    file
}

/// The status as text in the configuration's language.
fn render(status: &Status) -> String {
    render::render(status, status.language)
}

/// The configuration at `file` with `language = "en"` at its top.
fn in_english(file: &Path) {
    let text = std::fs::read_to_string(file).unwrap();
    std::fs::write(file, format!("language = \"en\"\n{text}")).unwrap();
}

fn status_command(config: &Path, json: bool) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kpr-bridge"));
    command.arg("status").arg("--config").arg(config);
    if json {
        command.arg("--json");
    }
    command.output().unwrap()
}

/// Whether `text` holds a run of 11 or more digits: what an identity number looks like.
fn has_identity_like_number(text: &str) -> bool {
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        if run >= 11 {
            return true;
        }
    }
    false
}

/// The store of the scenario: returns the reporting date shipped.
async fn fill(store: &Store, now: DateTime<Utc>, config: &Config) -> chrono::NaiveDate {
    let ago = |hours: i64| now - Duration::hours(hours);
    let date = config.agent.schedule.closed_date(now).unwrap();
    let date_text = date.to_string();

    // The daily run of `date`: two services, one of a type the mapping does not know (an
    // error: held back), shipped as a pair KPR took.
    let mut records = kpr_bridge::source::Snapshot::default();
    records.persons.push(person("p1", 1, "4601"));
    records
        .services
        .push(service("s1", "p1", "MATOMBR", "2026-01-01"));
    records
        .services
        .push(service("s2", "p1", "UKJENT", "2026-01-01"));
    capture_on(store, &only(&records), &date_text, true)
        .await
        .unwrap();
    let mut tx = store.begin_daily().await.unwrap();
    let numbers = tx.unshipped(date).await.unwrap();
    assert_eq!(numbers, [1], "the capture made a notification");
    let daily = message(1, "KPR_KTT");
    let part = ship::Part {
        part: 1,
        parts: 1,
        numbers,
        xml: Vec::new(),
        label: format!("{date} part 1 of 1"),
    };
    ship::enqueue_part(&mut tx, &part, &daily, Some(date), ago(5), false)
        .await
        .unwrap();
    ship::record(&mut tx, date, ago(5), 1, vec![daily.msg_id.clone()])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    store
        .transition(&daily.msg_id, State::Sent, None, ago(5))
        .await
        .unwrap();
    store
        .record_receipt(&receipt(&daily.msg_id, Receipt::Ok, &[]), ago(4))
        .await
        .unwrap();

    // An annual message KPR rejected: a known code, and one it explains only in its own
    // words — which hold an identity number that must never be shown.
    let rejected = message(3, "KPR_IPL");
    store.enqueue(&rejected, ago(30)).await.unwrap();
    store
        .transition(&rejected.msg_id, State::Sent, None, ago(30))
        .await
        .unwrap();
    store
        .record_receipt(
            &receipt(
                &rejected.msg_id,
                Receipt::Rejected,
                &[
                    ("E35", "Pasient ukjent"),
                    ("Q42", "Fødselsnummer 01017012345 finnes ikke"),
                ],
            ),
            ago(6),
        )
        .await
        .unwrap();

    // A later receipt for it that says OK: a conflict, not a flip.
    let mut contradicting = receipt(&rejected.msg_id, Receipt::Ok, &[]);
    contradicting.id = "a-later-receipt".into();
    store.record_receipt(&contradicting, ago(5)).await.unwrap();

    // One sent long ago whose receipt never came.
    let expired = message(4, "KPR_IDE");
    store.enqueue(&expired, ago(100)).await.unwrap();
    store
        .transition(&expired.msg_id, State::Sent, None, ago(100))
        .await
        .unwrap();
    assert_eq!(
        store.expire(Duration::hours(72), ago(1)).await.unwrap(),
        std::slice::from_ref(&expired.msg_id)
    );

    // Waiting: one queued (the broker refused it), one sent and awaiting its receipt.
    let queued = message(5, "KPR_IPL");
    store.enqueue(&queued, ago(2)).await.unwrap();
    store
        .note_problem(
            &queued.msg_id,
            "the queue 171479_async is missing on the broker",
        )
        .await
        .unwrap();
    let sent = message(6, "KPR_IPL");
    store.enqueue(&sent, ago(3)).await.unwrap();
    store
        .transition(&sent.msg_id, State::Sent, None, ago(3))
        .await
        .unwrap();

    store
        .record_anomaly(
            &Anomaly {
                queue: "67890_async".into(),
                kind: "not-cms".into(),
                detail: "not a CMS message".into(),
                msg_id: None,
                size: 5,
                body: Some(b"hello".to_vec()),
            },
            ago(2),
        )
        .await
        .unwrap();
    date
}

type Sample = (String, Vec<(String, String)>, f64);

/// Parses Prometheus text exposition with the Prometheus organisation's own parser (the
/// Python `prometheus_client`, tests/peer/prometheus_parse.py): a malformed line fails it.
fn parse_exposition(text: &str) -> Vec<Sample> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    assert!(
        text.ends_with('\n'),
        "the exposition ends with a line break"
    );
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/peer/prometheus_parse.py"
    );
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 (ops/services.sh installs prometheus_client)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the Prometheus parser refused the exposition: {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    let parsed: Vec<(
        String,
        std::collections::BTreeMap<String, String>,
        serde_json::Value,
    )> = serde_json::from_slice(&output.stdout).unwrap();
    parsed
        .into_iter()
        .map(|(name, labels, value)| {
            let value = match value {
                serde_json::Value::String(s) if s == "+Inf" => f64::INFINITY,
                serde_json::Value::String(s) if s == "-Inf" => f64::NEG_INFINITY,
                other => other.as_f64().unwrap(),
            };
            (name, labels.into_iter().collect(), value)
        })
        .collect()
}

/// The value of the sample `name` with exactly these labels.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name
                && l.len() == labels.len()
                && labels
                    .iter()
                    .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map(|(_, _, v)| *v)
}

fn problem(status: &Status, n: u8) -> &kpr_bridge::status::Problem {
    let id = msg_id(n);
    status
        .problems
        .iter()
        .find(|p| p.msg_id == id)
        .unwrap_or_else(|| panic!("{id} among the problems: {:#?}", status.problems))
}

#[test]
fn the_status_names_what_went_wrong_in_plain_words_and_counts_it() {
    on_both_at(|store, data_dir, state_url| async move {
        let dir = tempfile::tempdir().unwrap();
        let file = write_config(dir.path(), &data_dir, state_url.as_deref());
        let config = Config::load(&file).unwrap();
        let now = Utc::now();
        let date = fill(&store, now, &config).await;

        let status = gather(&config, &store, now).await.unwrap();

        // The daily run of `date`: read once, shipped, both messages delivered.
        let run = &status.daily.runs[0];
        assert_eq!(run.reporting_date, date);
        assert_eq!(run.captures, 1);
        assert!(run.notifications >= 1, "{run:?}");
        assert_eq!(run.held_back, 1, "the service of an unknown type");
        let shipment = &run.shipments[0];
        let states: Vec<_> = shipment
            .messages
            .iter()
            .map(|m| (m.msg_id.as_str(), m.part.as_str(), m.state.as_deref()))
            .collect();
        assert_eq!(
            states,
            [(msg_id(1).as_str(), "del 1 av 1", Some("delivered"))]
        );
        assert_eq!(status.daily.last_shipped, Some(date));
        assert_eq!(status.daily.missed_count, 0, "{:?}", status.daily);
        let age = status.daily.last_success_age_seconds.unwrap();
        assert!((5 * 3600 - 5..=5 * 3600 + 5).contains(&age), "{age}");

        // Rejected, with KPR's codes explained, and its own words masked.
        let rejected = problem(&status, 3);
        assert_eq!(rejected.state, "rejected");
        assert!(rejected.needs_action);
        assert_eq!(rejected.receipt_status, Some(2));
        assert_eq!(rejected.codes[0].code, "E35");
        assert_eq!(
            rejected.codes[0].meaning,
            "Registeret kjenner ikke en person i meldingen."
        );
        assert!(rejected.codes[0].what_to_do.is_some());
        assert_eq!(rejected.codes[1].code, "Q42");
        assert_eq!(
            rejected.codes[1].meaning,
            "Fødselsnummer <number hidden> finnes ikke"
        );
        assert_eq!(rejected.what, "en årsrapport");
        // The later OK for it left it rejected and needs action, with both receipts.
        assert_eq!(status.conflicts.len(), 1);
        let conflict = &status.conflicts[0];
        assert_eq!(conflict.msg_id, msg_id(3));
        assert_eq!(conflict.state, "rejected");
        assert_eq!((conflict.first_status, conflict.later_status), (2, 1));
        assert_eq!(conflict.later_receipt_id, "a-later-receipt");
        assert!(conflict.needs_action && status.needs_action());
        let alerts = kpr_bridge::alerts::due(&status, now, Language::Nb);
        assert!(
            alerts
                .iter()
                .any(|a| a.key == format!("receipt-conflict:{}:a-later-receipt", msg_id(3))),
            "{alerts:?}"
        );
        // Expired, saying how long it waited.
        let expired = problem(&status, 4);
        assert_eq!(expired.state, "expired");
        assert!(expired.detail.as_deref().unwrap().contains("72 hours"));
        // Waiting: the queued one with the broker's reason, the sent one.
        let waiting: Vec<_> = status
            .waiting
            .iter()
            .map(|w| (w.msg_id.clone(), w.state.as_str()))
            .collect();
        assert_eq!(waiting, [(msg_id(6), "sent"), (msg_id(5), "queued")]);
        assert!(
            status.waiting[1]
                .last_problem
                .as_deref()
                .unwrap()
                .contains("missing")
        );
        let age = status.waiting[0].age_seconds;
        assert!((3 * 3600 - 5..=3 * 3600 + 5).contains(&age), "{age}");

        assert_eq!(status.anomalies.total, 1);
        assert_eq!(status.anomalies.recent, 1);
        let findings = status.findings.as_ref().unwrap();
        assert!(findings.recorded);
        let unmapped = findings
            .findings
            .iter()
            .find(|f| f.rule == "local-type-unmapped")
            .unwrap();
        assert_eq!(unmapped.count, 1);
        assert!(!unmapped.explains.is_empty() && !unmapped.fix.is_empty());
        assert!(findings.errors().count() >= 1);

        let certificates = status.certificates.as_ref().unwrap();
        let roles: Vec<_> = certificates.iter().map(|c| c.role).collect();
        assert_eq!(
            roles,
            ["signing", "encryption", "kpr_encryption", "kpr_signing"]
        );
        for c in certificates {
            assert!(c.problem.is_none(), "{c:?}");
            assert!((360..=366).contains(&c.days_left.unwrap()), "{c:?}");
            assert!(c.subject.as_deref().unwrap().contains("CN="), "{c:?}");
        }

        assert_eq!(status.messages_per_state["delivered"], 1);
        assert_eq!(status.messages_per_state["rejected"], 1);
        assert_eq!(status.messages_per_state["expired"], 1);
        assert_eq!(status.messages_per_state["queued"], 1);
        assert_eq!(status.messages_per_state["sent"], 1);
        assert_eq!(status.messages_per_state["error"], 0);
        assert_eq!(
            status.events_per_kind["start"], 1,
            "{:?}",
            status.events_per_kind
        );
        assert_eq!(
            status.receipt_latency.count, 2,
            "one delivered, one rejected"
        );
        assert!(status.needs_action());

        // The text: what needs action first, in words; in bokmål, the configuration's default.
        assert_eq!(status.language, Language::Nb);
        let text = render(&status);
        assert!(
            text.contains(&format!(
                "KPRs kvitteringer for melding {} sier ulike ting",
                msg_id(3)
            )),
            "{text}"
        );
        assert!(
            text.contains("sa 2 Avvist, en senere (a-later-receipt"),
            "the register's own name for the status: {text}"
        );
        let action = text.find("MÅ FØLGES OPP").expect(&text);
        for words in [
            "KPR avviste en årsrapport",
            "E35: Registeret kjenner ikke en person i meldingen.",
            "Fødselsnummer <number hidden> finnes ikke",
            "Det kom ingen kvittering fra KPR for en årlig identmelding",
            "fant feil",
            "local-type-unmapped (1 post)",
            "uten å kunne leses som en applikasjonskvittering",
            "sendt, har ventet på kvittering fra KPR i 3 timer",
            "ikke tatt imot av Norsk helsenett",
            "Kommunens signeringssertifikat: gyldig til",
        ] {
            let at = text
                .find(words)
                .unwrap_or_else(|| panic!("{words:?} in\n{text}"));
            assert!(at > action, "{words:?} after the heading");
        }
        assert!(text.find("KPR avviste").unwrap() < text.find("Venter (2)").unwrap());
        // Dates and times as Norwegians write them.
        let today = Language::Nb.date(now.with_timezone(&chrono_tz::Europe::Oslo).date_naive());
        assert!(text.contains(&today), "{today} in\n{text}");
        assert!(!text.contains("What to do"), "no English left:\n{text}");
        assert!(!has_identity_like_number(&text), "{text}");

        // The same status in English, as an operator who chose `language = "en"` reads it.
        let english = render::render(&status, Language::En);
        let action = english.find("NEEDS ACTION").expect(&english);
        for words in [
            "KPR rejected an annual report",
            "E35: The register does not know a person in the message.",
            "Fødselsnummer <number hidden> finnes ikke",
            "No receipt came from KPR for an annual identity message",
            "found errors",
            "local-type-unmapped (1 record(s))",
            "could not be taken as a receipt",
            "sent, waiting for KPR's receipt for 3 hours",
            "not yet accepted by the message network",
            "Our signing certificate: valid until",
            "said 2 Avvist (rejected)",
        ] {
            let at = english
                .find(words)
                .unwrap_or_else(|| panic!("{words:?} in\n{english}"));
            assert!(at > action, "{words:?} after the heading");
        }
        assert!(english.find("KPR rejected").unwrap() < english.find("Waiting (2)").unwrap());
        assert!(!english.contains("Dette gjør du"), "{english}");

        // The metrics: valid exposition with the counts.
        let exposition = metrics(&status);
        let samples = parse_exposition(&exposition);
        let get = |name: &str, labels: &[(&str, &str)]| value(&samples, name, labels);
        assert_eq!(
            get("kpr_bridge_messages", &[("state", "rejected")]),
            Some(1.0)
        );
        assert_eq!(
            get("kpr_bridge_messages", &[("state", "delivered")]),
            Some(1.0)
        );
        assert_eq!(
            get("kpr_bridge_events_total", &[("kind", "start")]),
            Some(1.0)
        );
        assert_eq!(
            get(
                "kpr_bridge_findings",
                &[("rule", "local-type-unmapped"), ("severity", "error")]
            ),
            Some(1.0)
        );
        assert_eq!(
            get(
                "kpr_bridge_receipt_latency_seconds_bucket",
                &[("le", "+Inf")]
            ),
            Some(2.0)
        );
        assert_eq!(
            get("kpr_bridge_receipt_latency_seconds_count", &[]),
            Some(2.0)
        );
        let days = get("kpr_bridge_certificate_expiry_days", &[("role", "signing")]).unwrap();
        assert!((360.0..=366.0).contains(&days));
        assert_eq!(get("kpr_bridge_daily_run_missed", &[]), Some(0.0));
        assert!(get("kpr_bridge_daily_last_success_age_seconds", &[]).is_some());
        assert!(!has_identity_like_number(&exposition));

        // A day later the schedule has closed the next date, and it was not shipped; once
        // its run is more than MISSED_AFTER late, it counts as missed.
        let later = gather(
            &config,
            &store,
            now + Duration::days(1) + kpr_bridge::status::MISSED_AFTER,
        )
        .await
        .unwrap();
        let next = date.succ_opt().unwrap();
        assert_eq!(later.daily.missed, [next]);
        assert_eq!(later.daily.missed_count, 1);
        assert!(render(&later).contains(&format!(
            "Den daglige rapporten er ikke sendt for {}",
            Language::Nb.date(next)
        )));
        assert!(
            render::render(&later, Language::En).contains(&format!("has not been sent for {next}"))
        );
        assert_eq!(
            value(
                &parse_exposition(&metrics(&later)),
                "kpr_bridge_daily_run_missed",
                &[]
            ),
            Some(1.0)
        );

        // The command: exit 1, and the JSON is JSON without identity numbers.
        let output = status_command(&file, false);
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        let shown = String::from_utf8(output.stdout).unwrap();
        assert!(shown.contains("KPR avviste en årsrapport"), "{shown}");
        let output = status_command(&file, true);
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(json["messages_per_state"]["rejected"], 1);
        let rejected = json["problems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["state"] == "rejected")
            .unwrap();
        assert_eq!(rejected["codes"][0]["code"], "E35");
        assert_eq!(json["language"], "nb");
        assert!(!has_identity_like_number(&json.to_string()));

        // With `language = "en"` the command speaks English; the JSON keys never change.
        in_english(&file);
        let output = status_command(&file, false);
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        let shown = String::from_utf8(output.stdout).unwrap();
        assert!(shown.contains("KPR rejected an annual report"), "{shown}");
        assert!(shown.contains("NEEDS ACTION"), "{shown}");
        let output = status_command(&file, true);
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(json["language"], "en");
        assert_eq!(json["messages_per_state"]["rejected"], 1);
    });
}

#[test]
fn a_clean_store_needs_nothing_and_the_command_exits_0() {
    on_both_at(|store, data_dir, state_url| async move {
        let dir = tempfile::tempdir().unwrap();
        let file = write_config(dir.path(), &data_dir, state_url.as_deref());
        let config = Config::load(&file).unwrap();
        let status = gather(&config, &store, Utc::now()).await.unwrap();
        assert!(!status.needs_action(), "{status:#?}");
        assert!(status.daily.runs.is_empty());
        let text = render(&status);
        assert!(text.contains("Ingenting må følges opp."), "{text}");
        assert!(
            text.contains("Den daglige rapporteringen har ikke begynt"),
            "{text}"
        );
        parse_exposition(&metrics(&status));

        let output = status_command(&file, false);
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        let output = status_command(&file, true);
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(json["daily"]["missed_count"], 0);

        // In bokmål by default, in English when the configuration says so.
        let shown = String::from_utf8(status_command(&file, false).stdout).unwrap();
        assert!(shown.contains("Ingenting må følges opp."), "{shown}");
        assert!(
            shown.contains("kpr-bridge-status for Bergen (4601), testmodus"),
            "{shown}"
        );
        in_english(&file);
        let output = status_command(&file, false);
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        let shown = String::from_utf8(output.stdout).unwrap();
        assert!(shown.contains("Nothing needs action."), "{shown}");
        assert!(
            shown.contains("kpr-bridge status for Bergen (4601), test mode"),
            "{shown}"
        );
        assert!(shown.contains("Daily reporting has not begun"), "{shown}");
    });
}

#[test]
fn without_delivery_there_are_no_certificates_and_an_unreadable_one_is_reported() {
    on_both_at(|store, data_dir, state_url| async move {
        let dir = tempfile::tempdir().unwrap();
        let file = write_config(dir.path(), &data_dir, state_url.as_deref());
        let text = std::fs::read_to_string(&file).unwrap();
        let (before, _) = text.split_once("[delivery]").unwrap();
        std::fs::write(&file, before).unwrap();
        let config = Config::load(&file).unwrap();
        let status = gather(&config, &store, Utc::now()).await.unwrap();
        assert!(status.certificates.is_none());
        assert!(!render(&status).contains("Sertifikater"));
        assert_eq!(status_command(&file, false).status.code(), Some(0));

        let broken = text.replace(
            &format!("{}/kpr-enc.crt", support::amqp::certs().display()),
            "/nonexistent/kpr-enc.crt",
        );
        std::fs::write(&file, broken).unwrap();
        let config = Config::load(&file).unwrap();
        let status = gather(&config, &store, Utc::now()).await.unwrap();
        let kpr = status
            .certificates
            .iter()
            .flatten()
            .find(|c| c.role == "kpr_encryption")
            .unwrap();
        assert!(
            kpr.problem
                .as_deref()
                .unwrap()
                .contains("/nonexistent/kpr-enc.crt")
        );
        assert!(status.needs_action());
        assert!(render(&status).contains("KPRs krypteringssertifikat kan ikke leses"));
        assert!(
            render::render(&status, Language::En)
                .contains("KPR's encryption certificate cannot be read")
        );
        assert_eq!(status_command(&file, false).status.code(), Some(1));
    });
}

#[test]
fn an_unusable_configuration_or_store_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let output = status_command(&missing, false);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing.toml"));
    // A configuration whose data directory holds no state store.
    let file = write_config(dir.path(), &dir.path().join("nothing-here"), None);
    let output = status_command(&file, false);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("no state store"));
}
