//! `kpr-bridge demo` as a newcomer runs it: the built binary, with none of the tests'
//! services pointed to, no `openssl` tool on the PATH and no configuration — it makes all it
//! needs, delivers both daily shipments and the annual message through the spool to the
//! in-process test receiver, and shows no identity number or name while doing so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run_demo(dir: &Path) -> Output {
    run_demo_with(dir, &[])
}

fn run_demo_with(dir: &Path, args: &[&str]) -> Output {
    // A PATH with nothing on it: the demo needs no tool, openssl least of all.
    let empty_path = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_kpr-bridge"));
    command
        .arg("demo")
        .arg("--dir")
        .arg(dir)
        .args(args)
        .env("PATH", empty_path.path());
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("KPR_TEST_") || name.starts_with("KPR_BRIDGE_") {
            command.env_remove(name.as_ref());
        }
    }
    command.output().unwrap()
}

/// Alphanumeric tokens of exactly eleven digits: how an identity number would show.
fn eleven_digit_numbers(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|token| token.len() == 11 && token.bytes().all(|b| b.is_ascii_digit()))
        .collect()
}

/// The identity numbers and names of the demo's persons, from its extract.
fn persons(dir: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dir.join("extract/persons.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(';').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (ident, name) = (column("ident"), column("name"));
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(';').collect();
            (fields[ident].to_string(), fields[name].to_string())
        })
        .collect()
}

/// The summary's lines of the daily notifications sent, one per reporting date.
fn daily_lines(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| l.starts_with("  0") && l.contains(".01.2026  ") && l.contains("notifikasjon"))
        .collect()
}

#[test]
fn the_demo_delivers_everything_with_no_services_no_tools_and_no_identities_shown() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_demo(dir.path());
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );

    // The receipts: both daily messages and both annual messages, each delivered with OK.
    let receipts = stdout
        .split("\nKvitteringer (")
        .nth(1)
        .expect("a receipts section")
        .split("\n\n")
        .next()
        .unwrap();
    let mut delivered: BTreeMap<&str, usize> = BTreeMap::new();
    for line in receipts.lines().skip(2) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields.get(2), Some(&"levert"), "{line}");
        assert_eq!(fields.get(3..5), Some(&["1", "OK"][..]), "{line}");
        *delivered.entry(fields[1]).or_default() += 1;
    }
    assert_eq!(
        delivered,
        BTreeMap::from([("KPR_IDE", 1), ("KPR_IPL", 1), ("KPR_KTT", 2)]),
        "{receipts}"
    );
    // In bokmål, the default: the register's names for the notifications' status (7316).
    assert!(
        stdout.contains("Alle meldingene ble levert (4 av 4)."),
        "{stdout}"
    );
    assert!(stdout.contains("== Oppsummering =="), "{stdout}");
    let days = daily_lines(&stdout);
    assert_eq!(days.len(), 2, "{stdout}");
    for kind in [
        "tjenesteslutt N (Original): 1",
        "tjenestestart N (Original): 1",
        "midlertidig stopp fra N (Original): 1",
    ] {
        assert!(days[1].contains(kind), "{kind}: {}", days[1]);
    }
    assert!(days[0].starts_with("  05.01.2026  "), "{}", days[0]);

    // The HTML report is where the demo says it is.
    let report: PathBuf = stdout
        .lines()
        .find_map(|l| l.strip_prefix("HTML-rapport: "))
        .expect("the report's path")
        .into();
    assert!(report.starts_with(dir.path()), "{}", report.display());
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..50]);

    // Invariant 4: nothing personal in anything it printed.
    let all = format!("{stdout}\n{stderr}");
    assert_eq!(eleven_digit_numbers(&all), Vec::<&str>::new());
    let persons = persons(dir.path());
    assert!(persons.len() >= 300);
    for (ident, name) in &persons {
        assert!(!all.contains(ident.as_str()), "an identity number is shown");
        assert!(
            name.is_empty() || !all.contains(name.as_str()),
            "a name is shown"
        );
    }
}

/// `demo --iplos`: the daily part from the EPJ's nightly IPLOS extract.
#[test]
fn the_demo_runs_the_daily_part_from_iplos_extracts() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_demo_with(dir.path(), &["--iplos"]);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("journalsystemet (EPJ) skrev IPLOS 3.7-uttrekket sitt"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Alle meldingene ble levert (4 av 4)."),
        "{stdout}"
    );
    let days = daily_lines(&stdout);
    assert_eq!(days.len(), 2, "{stdout}");
    // IPLOS 3.7 has no temporary stops.
    assert!(!days[1].contains("midlertidig stopp"), "{}", days[1]);
    assert!(days[1].contains("tjenesteslutt N"), "{}", days[1]);
    // Both nights' pairs were taken.
    let taken = std::fs::read_dir(dir.path().join("iplos-export/done"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_type().unwrap().is_dir())
        .count();
    assert_eq!(taken, 2);
    let all = format!("{stdout}\n{stderr}");
    assert_eq!(eleven_digit_numbers(&all), Vec::<&str>::new());
}

#[test]
fn a_directory_that_is_not_empty_and_no_demo_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let output = run_demo(dir.path());
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&dir.path().display().to_string()) && stderr.contains("not empty"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "mine"
    );
}
