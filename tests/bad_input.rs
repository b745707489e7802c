//! The bad-input corpus (invariant 5, and 4 for what the output shows): every case of
//! `tests/data/bad/cases.toml` is run and must end as the table says — an exit code and a
//! substring of the located problem for extracts and mappings (through the built binary, so
//! that a panic fails the case), a rule id for `check`, an anomaly kind or a receipt's move
//! for receipts (through the receipts spool, with real certificates and CMS). No output of an
//! extract case may hold an 11-digit number or a name from the case's persons.
//!
//! A case's directory holds only what differs from `base/`; `setup` makes what cannot be
//! committed (a 300 MB line, links, a FIFO, an unreadable directory) in a temporary copy.

mod support;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use kpr_bridge::inbox::Taken;
use kpr_bridge::message::apprec::{self, Status};
use kpr_bridge::model::register::Target;
use kpr_bridge::receiver;
use kpr_bridge::shipping::Shipping;
use kpr_bridge::store::outbox::State;
use serde::Deserialize;
use support::delivery::{PAYLOAD, municipality_spool_config, repo};
use support::forged;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    /// `inspect` (default), `check` or `receipt`.
    #[serde(default = "inspect")]
    run: String,
    /// What the test makes in the copy before running (see `prepare`).
    #[serde(default)]
    setup: Option<String>,
    /// Files of `base/` left out.
    #[serde(default)]
    remove: Vec<String>,
    /// Expected exit code (extract and mapping cases).
    #[serde(default)]
    exit: Option<u8>,
    /// A substring of the output (the located problem, the rule id), or for receipts the
    /// outcomes in order, such as `anomaly:not-apprec` or `receipt:Stayed(Delivered)`.
    expect: String,
    /// Substrings that must appear nowhere in the output nor in the HTML report.
    #[serde(default)]
    absent: Vec<String>,
    /// `check`: substrings the HTML report must hold (the escaped form of what is absent).
    #[serde(default)]
    in_report: Vec<String>,
    /// Receipts: how the message is made (`support::forged::pack`), and how many times it
    /// arrives.
    #[serde(default)]
    pack: Option<String>,
    #[serde(default)]
    times: Option<usize>,
    /// Receipts: the message's state after the last arrival (`sent`, `delivered`, …).
    #[serde(default)]
    state: Option<String>,
    /// IPLOS: the files that must end in `quarantine/`, each with its `.problem.txt`.
    #[serde(default)]
    quarantined: Vec<String>,
    /// Why the case is there and why its outcome is the right one.
    #[allow(dead_code)]
    why: String,
}

fn inspect() -> String {
    "inspect".into()
}

fn corpus() -> PathBuf {
    repo("tests/data/bad")
}

#[test]
fn every_case_of_the_bad_input_corpus_ends_as_its_table_says() {
    let text = fs::read_to_string(corpus().join("cases.toml")).unwrap();
    let table: Table = toml::from_str(&text).unwrap();
    assert!(table.case.len() >= 40, "{} cases", table.case.len());
    let mut names = std::collections::HashSet::new();
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    for case in &table.case {
        assert!(names.insert(&case.name), "{} twice in the table", case.name);
        let outcome = match case.run.as_str() {
            "inspect" | "check" => run_extract_case(case),
            "iplos" => run_iplos_case(case),
            "receipt" => run_receipt_case(case),
            other => Err(format!("unknown run {other:?}")),
        };
        match outcome {
            Ok(Some(reason)) => skipped.push(format!("{}: {reason}", case.name)),
            Ok(None) => {}
            Err(e) => failures.push(format!("{}: {e}", case.name)),
        }
    }
    for skip in &skipped {
        eprintln!("skipped {skip}");
    }
    // Every directory in the corpus is a case (or the base): nothing lies there unused.
    for entry in fs::read_dir(corpus()).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().unwrap().is_dir() && name != "base" && name != "base-iplos" {
            assert!(names.contains(&name), "{name} has no row in cases.toml");
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        table.case.len(),
        failures.join("\n")
    );
}

/// Copies `base/`, then the case's own files, into a new directory.
fn copy_case(case: &Case, into: &Path) {
    copy_case_over(case, "base", into);
}

/// Copies `base`, then the case's own files, into a new directory.
fn copy_case_over(case: &Case, base: &str, into: &Path) {
    fs::create_dir_all(into).unwrap();
    for dir in [corpus().join(base), corpus().join(&case.name)] {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let entry = entry.unwrap();
            fs::copy(entry.path(), into.join(entry.file_name())).unwrap();
        }
    }
    for name in &case.remove {
        fs::remove_file(into.join(name)).unwrap();
    }
}

/// Makes what a case needs beyond files; returns the extract path to give, or a reason
/// the case cannot be run here.
fn prepare(setup: Option<&str>, dir: &Path) -> Result<PathBuf, String> {
    let extract = dir.join("extract");
    match setup {
        None => {}
        Some("huge-line") => {
            // 300 MB without a line break, streamed out 1 MiB at a time.
            let file = fs::OpenOptions::new()
                .append(true)
                .open(extract.join("services.csv"))
                .unwrap();
            let mut file = std::io::BufWriter::new(file);
            let chunk = vec![b'x'; 1 << 20];
            for _ in 0..300 {
                file.write_all(&chunk).unwrap();
            }
            file.flush().unwrap();
        }
        Some("huge-quoted-value") => {
            // A quoted value that runs on over 50 MB of short lines: each line is short, the
            // row is not.
            let file = fs::OpenOptions::new()
                .append(true)
                .open(extract.join("services.csv"))
                .unwrap();
            let mut file = std::io::BufWriter::new(file);
            file.write_all(b"s3;1;\"").unwrap();
            let chunk = [b"x".repeat(99), b"\n".to_vec()].concat().repeat(10_000);
            for _ in 0..50 {
                file.write_all(&chunk).unwrap();
            }
            file.write_all(b"\";granted;;;;;;;\n").unwrap();
            file.flush().unwrap();
        }
        Some("symlink-outside") => {
            fs::remove_file(extract.join("persons.csv")).unwrap();
            std::os::unix::fs::symlink("/etc/passwd", extract.join("persons.csv")).unwrap();
        }
        Some("symlink-inside") => {
            fs::create_dir(extract.join("data")).unwrap();
            fs::rename(
                extract.join("persons.csv"),
                extract.join("data/persons.csv"),
            )
            .unwrap();
            std::os::unix::fs::symlink("data/persons.csv", extract.join("persons.csv")).unwrap();
        }
        Some("persons-is-a-directory") => {
            fs::remove_file(extract.join("persons.csv")).unwrap();
            fs::create_dir(extract.join("persons.csv")).unwrap();
        }
        Some("persons-is-a-fifo") => {
            fs::remove_file(extract.join("persons.csv")).unwrap();
            let made = Command::new("mkfifo")
                .arg(extract.join("persons.csv"))
                .status()
                .map_err(|e| format!("mkfifo: {e}"))?;
            if !made.success() {
                return Err("mkfifo failed".into());
            }
        }
        Some("unreadable-directory") => {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&extract, fs::Permissions::from_mode(0o000)).unwrap();
            if fs::read_dir(&extract).is_ok() {
                fs::set_permissions(&extract, fs::Permissions::from_mode(0o755)).unwrap();
                return Err(
                    "skip: running as root (or with CAP_DAC_READ_SEARCH), chmod 000 does not stop reading; \
                     the unreadable-file case (persons-is-a-directory) covers a read that fails"
                        .into(),
                );
            }
        }
        Some("not-a-directory") => return Ok(extract.join("services.csv")),
        Some("missing-directory") => return Ok(dir.join("no-such-extract")),
        Some(other) => panic!("unknown setup {other:?}"),
    }
    Ok(extract)
}

/// Runs `inspect` (or `check`) on the case; `Ok(Some(reason))` when skipped.
fn run_extract_case(case: &Case) -> Result<Option<String>, String> {
    let dir = tempfile::tempdir().unwrap();
    let extract_dir = dir.path().join("extract");
    copy_case(case, &extract_dir);
    let secrets = secrets_of(&extract_dir);
    let extract = match prepare(case.setup.as_deref(), dir.path()) {
        Ok(path) => path,
        Err(reason) if reason.starts_with("skip: ") => {
            return Ok(Some(reason["skip: ".len()..].to_string()));
        }
        Err(reason) => return Err(reason),
    };
    let mapping = if extract_dir.join("mapping.toml").exists() {
        extract_dir.join("mapping.toml")
    } else {
        repo("mappings/sample-epj.toml")
    };
    let report = dir.path().join("report.html");
    let mut command = Command::new(env!("CARGO_BIN_EXE_kpr-bridge"));
    if case.run == "check" {
        let config = check_config(
            dir.path(),
            &format!(
                "mapping = \"{}\"\nkind = \"extract\"\npath = \"{}\"",
                mapping.display(),
                extract.display()
            ),
        );
        command
            .args(["check", "--year", "2025", "--config"])
            .arg(&config)
            .arg("--report")
            .arg(&report);
    } else {
        command
            .arg("inspect")
            .arg(&extract)
            .args(["--year", "2025", "--mapping"])
            .arg(&mapping);
    }
    let output = command
        .env("RUST_BACKTRACE", "0")
        .output()
        .map_err(|e| e.to_string())?;
    // Let the temporary directory be removed.
    if case.setup.as_deref() == Some("unreadable-directory") {
        use std::os::unix::fs::PermissionsExt;
        let _ = fs::set_permissions(&extract_dir, fs::Permissions::from_mode(0o755));
    }
    let text = judged(case, &output)?;
    let html = fs::read_to_string(&report).unwrap_or_default();
    for shown in &case.in_report {
        if !html.contains(shown.as_str()) {
            return Err(format!("the report lacks {shown:?}"));
        }
    }
    for absent in &case.absent {
        if text.contains(absent.as_str()) || html.contains(absent.as_str()) {
            return Err(format!("{absent:?} appears in the output or the report"));
        }
    }
    for (what, shown) in [("output", &text), ("report", &html)] {
        if let Some(run) = eleven_digits(shown) {
            return Err(format!("the {what} holds an 11-digit number {run}"));
        }
        // Case-insensitive: a header cell is shown lowercased.
        let lower = shown.to_lowercase();
        for secret in &secrets {
            if lower.contains(&secret.to_lowercase()) {
                return Err(format!("the {what} holds the name {secret:?}"));
            }
        }
    }
    Ok(None)
}

/// A configuration for `check` of one source, `source` its lines after the name.
fn check_config(dir: &Path, source: &str) -> PathBuf {
    let config = dir.join("kpr-bridge.toml");
    fs::write(
        &config,
        format!(
            r#"mode = "test"
data_dir = "{state}"
[municipality]
number = "4601"
name = "Bergen"
[her_id]
municipality = "12345"
service_unit = "67890"
[[source]]
name = "epj"
{source}
"#,
            state = dir.join("state").display(),
        ),
    )
    .unwrap();
    config
}

/// The command's output, once it ended as the case says: no panic, its exit code, the
/// expected text.
fn judged(case: &Case, output: &std::process::Output) -> Result<String, String> {
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    if text.contains("panicked") {
        return Err(format!("panicked:\n{text}"));
    }
    let code = output.status.code();
    if code != case.exit.map(i32::from) {
        return Err(format!(
            "exit {code:?}, expected {:?}; output:\n{text}",
            case.exit
        ));
    }
    if !text.contains(&case.expect) {
        return Err(format!("output lacks {:?}:\n{text}", case.expect));
    }
    Ok(text)
}

/// Runs `check` on an IPLOS directory made of `base-iplos/` and the case's files.
fn run_iplos_case(case: &Case) -> Result<Option<String>, String> {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    copy_case_over(case, "base-iplos", &inbox);
    match case.setup.as_deref() {
        None => {}
        Some("older-pair") => {
            let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
            for name in ["old-fag.xml", "old-ide.xml"] {
                fs::File::options()
                    .write(true)
                    .open(inbox.join(name))
                    .and_then(|f| f.set_modified(hour_ago))
                    .map_err(|e| format!("{name}: {e}"))?;
            }
        }
        Some(other) => panic!("unknown setup {other:?}"),
    }
    let config = check_config(
        dir.path(),
        &format!(
            "kind = \"iplos\"\npath = \"{}\"\nsettle_seconds = 0",
            inbox.display()
        ),
    );
    let output = Command::new(env!("CARGO_BIN_EXE_kpr-bridge"))
        .args(["check", "--year", "2026", "--config"])
        .arg(&config)
        .env("RUST_BACKTRACE", "0")
        .output()
        .map_err(|e| e.to_string())?;
    let text = judged(case, &output)?;
    if let Some(run) = eleven_digits(&text) {
        return Err(format!("the output holds an 11-digit number {run}"));
    }
    for name in &case.quarantined {
        let note = inbox.join("quarantine").join(format!("{name}.problem.txt"));
        if !inbox.join("quarantine").join(name).exists() || !note.exists() {
            return Err(format!(
                "{name} is not in quarantine/ with its .problem.txt"
            ));
        }
        let note = fs::read_to_string(&note).unwrap();
        if let Some(run) = eleven_digits(&note) {
            return Err(format!("{name}.problem.txt holds an 11-digit number {run}"));
        }
    }
    Ok(None)
}

/// The names in the case's persons.csv (whatever its encoding), for the leak check.
fn secrets_of(extract: &Path) -> Vec<String> {
    let mut names = vec!["Åse Ødegård".to_string(), "Bjørn Sæther".to_string()];
    let Ok(bytes) = fs::read(extract.join("persons.csv")) else {
        return names;
    };
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => text.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(&bytes).0.into_owned(),
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .from_reader(text.as_bytes());
    let Some(column) = reader.headers().ok().and_then(|h| {
        h.iter()
            .position(|c| c.trim_start_matches('\u{feff}') == "name")
    }) else {
        return names;
    };
    for record in reader.records().flatten() {
        if let Some(name) = record.get(column).filter(|n| n.len() >= 3) {
            names.push(name.to_string());
        }
    }
    names
}

fn eleven_digits(text: &str) -> Option<String> {
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            if run.len() == 11 {
                return Some(run);
            }
            run.clear();
        }
    }
    None
}

/// Sends the test payload to the spool, answers the case's receipt into the receipts spool
/// and takes it with `Shipping::collect`.
fn run_receipt_case(case: &Case) -> Result<Option<String>, String> {
    let dir = tempfile::tempdir().unwrap();
    let config = municipality_spool_config(dir.path());
    let case_dir = corpus().join(&case.name);
    let mut result = Ok(None);
    support::block_on(|| async {
        let shipping = Shipping::open(config).await.unwrap();
        let msg_id = shipping
            .enqueue_file(&repo(PAYLOAD), "KPR_IPL", Target::Validation)
            .await
            .unwrap();
        assert_eq!(shipping.flush().await.unwrap(), 1);
        let before = shipping.store.state(&msg_id).await.unwrap();

        // Each arrival: its document. A receipt made here is KPR's (a new AppRec Id each
        // time) unless the setup says otherwise.
        let setup = case.setup.as_deref().unwrap_or("");
        let document = |time: usize| -> Vec<u8> {
            if case_dir.join("receipt.xml").exists() {
                return fs::read_to_string(case_dir.join("receipt.xml"))
                    .unwrap()
                    .replace("{MSG_ID}", &msg_id)
                    .into_bytes();
            }
            if case_dir.join("receipt.p7m").exists() {
                return fs::read(case_dir.join("receipt.p7m")).unwrap();
            }
            let about = if setup == "unknown-msg-id" {
                "4e8a1f0c-0000-4000-8000-000000000000"
            } else {
                msg_id.as_str()
            };
            let status = if setup == "ok-then-avvist" && time > 0 {
                Status::Rejected
            } else {
                Status::Ok
            };
            let mut receipt =
                receiver::receipt(about, "KPR_IPL", "171479", "67890", status, Vec::new());
            if setup == "apprec-sender-other" {
                for party in &mut receipt.sender {
                    party.id = "99999".into();
                }
            }
            apprec::write(&receipt)
        };
        let how = case.pack.as_deref().unwrap_or("kpr");
        let first = forged::pack(how, &document(0));
        let from_her_id = if setup == "from-other-her-id" {
            "99999"
        } else {
            "171479"
        };
        let receipts = dir.path().join("receipts");
        fs::create_dir_all(&receipts).unwrap();
        let mut outcomes = Vec::new();
        for time in 0..case.times.unwrap_or(1) {
            let body = if setup.is_empty() {
                // The same bytes again: a replay.
                first.clone()
            } else {
                forged::pack(how, &document(time))
            };
            let name = format!("r-{time}");
            fs::write(receipts.join(format!("{name}.p7m")), &body).unwrap();
            let properties = format!(
                r#"{{"message-id": "{name}", "subject": "AppRec", "content-type": "application/pkcs7-mime", "fromHerId": "{from_her_id}", "toHerId": "67890", "applicationTimeStamp": "2026-01-05T02:00:00Z"}}"#
            );
            fs::write(receipts.join(format!("{name}.json")), properties).unwrap();
            let collected = shipping.collect().await.unwrap();
            for taken in collected.taken {
                outcomes.push(match taken {
                    Taken::Anomaly { kind } => format!("anomaly:{kind}"),
                    Taken::Receipt { moved, .. } => format!("receipt:{moved:?}"),
                    Taken::Repeated { .. } => "repeated".into(),
                    other => format!("{other:?}"),
                });
            }
        }
        let outcome = outcomes.join(" ");
        let after = shipping.store.state(&msg_id).await.unwrap();
        let anomalies = shipping.store.anomalies().await.unwrap();
        let receipts_stored = shipping.store.receipts(&msg_id).await.unwrap().len();
        let arrived = case.times.unwrap_or(1);
        result = if outcome != case.expect {
            Err(format!("outcome {outcome:?}, expected {:?}", case.expect))
        } else if let Some(wanted) = case
            .state
            .as_deref()
            .filter(|wanted| after.map(State::as_str) != Some(*wanted))
        {
            Err(format!("the message ends {after:?}, expected {wanted}"))
        } else if outcome.contains("repeated") && receipts_stored + 1 != arrived {
            Err(format!(
                "{receipts_stored} receipt(s) stored of {arrived} arrivals of one receipt"
            ))
        } else if outcome.starts_with("anomaly") && after != before {
            Err(format!(
                "an anomaly moved the message: {before:?} → {after:?}"
            ))
        } else if let Some(leak) = anomalies.iter().find(|a| {
            case.absent
                .iter()
                .any(|absent| a.detail.contains(absent.as_str()))
        }) {
            Err(format!(
                "an anomaly's detail shows too much: {}",
                leak.detail
            ))
        } else {
            Ok(None)
        };
    });
    result
}
