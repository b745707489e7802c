//! Outputs kept exactly as they were (issue 32): a generated extract of 20,000 persons, and a
//! smaller one with traps set in it, through `check --json`, `annual` (a dry run's KPR_IPL
//! and KPR_IDE), the initial daily load and the next day with 1 % of the services ended (the
//! dry runs' HIS 1135 messages). What is not the same from run to run — message ids, GUIDs,
//! times, the temporary directory — is replaced by a placeholder first.
//!
//! `tests/data/golden/<case>/check.json` holds the report whole; `digests` the SHA-256 of
//! each message. On a difference the test writes what it got to
//! `target/golden-actual/<case>/` to compare with `diff`. To record new outputs on purpose,
//! run with `KPR_GOLDEN_WRITE=1` and say why in the commit.

mod support;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use kpr_bridge::generate::{self, Options, OutputEncoding};
use regex::Regex;
use sha2::{Digest, Sha256};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn kpr_bridge(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kpr-bridge"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs a command that may find errors (exit 0 or 1) and gives its standard output.
fn run(args: &[&str]) -> String {
    let output = kpr_bridge(args);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "kpr-bridge {}: {:?}\n{}{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

struct Case {
    name: &'static str,
    dir: tempfile::TempDir,
}

impl Case {
    fn new(name: &'static str, persons: u64, seed: u64) -> Case {
        let dir = tempfile::tempdir().unwrap();
        let options = Options {
            persons,
            seed,
            year: 2025,
            municipality: "4601".into(),
            encoding: OutputEncoding::Utf8,
        };
        generate::generate(&dir.path().join("extract"), &options).unwrap();
        let config = format!(
            r#"
mode = "test"
data_dir = "{root}/state"
mapping = "{mappings}/sample-epj.toml"
[municipality]
number = "4601"
name = "Bergen"
orgnr = "964338531"
[her_id]
municipality = "12345"
service_unit = "67890"
[[source]]
name = "epj"
kind = "extract"
path = "{root}/extract"
product = "Test-EPJ"
version = "1.0"
[delivery]
transport = "spool"
spool_dir = "{root}/spool"
max_message_bytes = 8000000000
{certificates}"#,
            root = dir.path().display(),
            mappings = root().join("mappings").display(),
            certificates = support::amqp::municipality_certificates(),
        );
        std::fs::write(dir.path().join("kpr-bridge.toml"), config).unwrap();
        Case { name, dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn config(&self) -> String {
        self.path("kpr-bridge.toml").display().to_string()
    }

    /// Sets field `column` of line `line` (1 is the header) of an extract file.
    fn edit(&self, file: &str, line: usize, column: usize, value: &str) {
        let path = self.path("extract").join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let mut fields: Vec<&str> = lines[line - 1].split(';').collect();
        fields[column] = value;
        lines[line - 1] = fields.join(";");
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    }

    /// Appends a copy of line `line` of an extract file.
    fn repeat(&self, file: &str, line: usize) {
        let path = self.path("extract").join(file);
        let mut text = std::fs::read_to_string(&path).unwrap();
        let copy = text.lines().nth(line - 1).unwrap().to_string();
        text.push_str(&copy);
        text.push('\n');
        std::fs::write(&path, text).unwrap();
    }

    /// Ends 1 % of the granted services open on 2026-01-05 on 2026-01-06, every row of each.
    fn end_one_percent(&self) {
        let path = self.path("extract").join("services.csv");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut open = Vec::new();
        let mut all = BTreeSet::new();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split(';').collect();
            all.insert(f[0]);
            if f[3] == "granted"
                && !f[5].is_empty()
                && f[5] <= "2026-01-05"
                && (f[6].is_empty() || f[6] >= "2026-01-07")
                && !open.contains(&f[0])
            {
                open.push(f[0]);
            }
        }
        let step = (open.len() / (all.len() / 100).max(1)).max(1);
        let chosen: BTreeSet<&str> = open.iter().step_by(step).copied().collect();
        let mut out = String::new();
        for (n, line) in text.lines().enumerate() {
            let mut f: Vec<&str> = line.split(';').collect();
            if n > 0 && chosen.contains(f[0]) {
                f[6] = "2026-01-06";
            }
            writeln!(out, "{}", f.join(";")).unwrap();
        }
        std::fs::write(&path, out).unwrap();
    }

    /// Everything the commands give, placeholders in.
    fn outputs(&self) -> (String, Vec<(String, String)>) {
        let config = self.config();
        let check = run(&["check", "--config", &config, "--year", "2025", "--json"]);
        let mut messages = Vec::new();
        let annual = self.path("annual");
        run(&[
            "annual",
            "--config",
            &config,
            "--year",
            "2025",
            "--target",
            "validation",
            "--dry-run",
            "--out",
            annual.to_str().unwrap(),
            "--allow-errors",
        ]);
        messages.extend(self.annual(&annual));
        let initial = [
            "daily",
            "--config",
            &config,
            "--initial",
            "--since",
            "2026-01-01",
            "--date",
            "2026-01-05",
        ];
        let first = self.path("daily-initial");
        let dry = ["--dry-run", "--out", first.to_str().unwrap()];
        run(&[&initial[..], &dry[..]].concat());
        messages.extend(self.messages("daily-initial", &first));
        run(&initial);
        self.end_one_percent();
        let next = self.path("daily-next");
        run(&[
            "daily",
            "--config",
            &config,
            "--date",
            "2026-01-06",
            "--dry-run",
            "--out",
            next.to_str().unwrap(),
        ]);
        messages.extend(self.messages("daily-next", &next));
        (self.placeholders(&check), messages)
    }

    /// The annual pair. Its serial numbers (`pePeID`, `pid`) follow a random order on purpose:
    /// each person's are replaced by a placeholder, and the persons ordered by identity number.
    fn annual(&self, dir: &Path) -> Vec<(String, String)> {
        let read = |prefix: &str| {
            let file = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
                .unwrap_or_else(|| panic!("no {prefix} file in {}", dir.display()));
            self.placeholders(&std::fs::read_to_string(file).unwrap())
        };
        let (ipl, ide) = (read("KPR_IPL-"), read("KPR_IDE-"));
        let pid = Regex::new(r#"<PasientIdent pid="(\d+)" fid="([^"]*)""#).unwrap();
        let fid: std::collections::HashMap<&str, &str> = pid
            .captures_iter(&ide)
            .map(|c| (c.get(1).unwrap().as_str(), c.get(2).unwrap().as_str()))
            .collect();
        let serial = Regex::new(r#"(PeID|pid)="\d+""#).unwrap();
        let anonymous = |text: &str| serial.replace_all(text, "$1=\"P\"").into_owned();
        // KPR_IPL: the head, the persons, the end.
        let start = ipl
            .find(" <PERSON ")
            .unwrap_or(ipl.len() - "</IPLOS>\n".len());
        let end = ipl.rfind("</IPLOS>").unwrap();
        let person = Regex::new(r#"(?s) <PERSON pePeID="(\d+)">.*?\n </PERSON>\n"#).unwrap();
        let mut persons: Vec<(&str, String)> = person
            .captures_iter(&ipl[start..end])
            .map(|c| {
                (
                    fid[c.get(1).unwrap().as_str()],
                    anonymous(c.get(0).unwrap().as_str()),
                )
            })
            .collect();
        persons.sort();
        let ipl = format!(
            "{}{}{}",
            &ipl[..start],
            persons.into_iter().map(|(_, p)| p).collect::<String>(),
            &ipl[end..]
        );
        let mut lines: Vec<&str> = ide.lines().collect();
        let first = lines
            .iter()
            .position(|l| l.contains("<PasientIdent"))
            .unwrap_or(0);
        let last = lines
            .iter()
            .rposition(|l| l.contains("<PasientIdent"))
            .map_or(0, |l| l + 1);
        lines[first..last].sort_by_cached_key(|l| pid.captures(l).map(|c| c[2].to_string()));
        let ide = anonymous(&lines.join("\n"));
        vec![
            ("annual/KPR_IPL".into(), ipl),
            ("annual/KPR_IDE".into(), ide),
        ]
    }

    /// The messages of a dry run, placeholders in, in the order of their content.
    fn messages(&self, label: &str, dir: &Path) -> Vec<(String, String)> {
        let mut found: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .map(|text| self.placeholders(&text))
            .collect();
        assert!(
            !found.is_empty(),
            "{label}: no messages in {}",
            dir.display()
        );
        found.sort();
        found
            .into_iter()
            .enumerate()
            .map(|(n, text)| (format!("{label}/{n}"), text))
            .collect()
    }

    fn placeholders(&self, text: &str) -> String {
        static PATTERNS: std::sync::LazyLock<Vec<(Regex, &str)>> = std::sync::LazyLock::new(|| {
            [
                (
                    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
                    "GUID",
                ),
                (
                    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?",
                    "TIME",
                ),
                (
                    r"<iiLagetDato>\d{8}</iiLagetDato>",
                    "<iiLagetDato>DAY</iiLagetDato>",
                ),
                (r#"uttakDato="[0-9-]*""#, r#"uttakDato="DAY""#),
                (r"(?s)<MsgId>.*?</MsgId>", "<MsgId>ID</MsgId>"),
                (r"(?s)<GenDate>.*?</GenDate>", "<GenDate>TIME</GenDate>"),
            ]
            .into_iter()
            .map(|(pattern, with)| (Regex::new(pattern).unwrap(), with))
            .collect()
        });
        let mut text = text.replace(&self.dir.path().display().to_string(), "DIR");
        for (pattern, with) in PATTERNS.iter() {
            text = pattern.replace_all(&text, *with).into_owned();
        }
        text
    }

    /// Compares with `tests/data/golden/<case>/`, or records it there.
    fn compare(&self) {
        let (check, messages) = self.outputs();
        let mut digests = String::new();
        for (name, text) in &messages {
            writeln!(digests, "{name} {:x}", Sha256::digest(text.as_bytes())).unwrap();
        }
        let golden = root().join("tests/data/golden").join(self.name);
        if std::env::var_os("KPR_GOLDEN_WRITE").is_some() {
            std::fs::create_dir_all(&golden).unwrap();
            std::fs::write(golden.join("check.json"), &check).unwrap();
            std::fs::write(golden.join("digests"), &digests).unwrap();
            return;
        }
        let expected_check = std::fs::read_to_string(golden.join("check.json")).unwrap();
        let expected_digests = std::fs::read_to_string(golden.join("digests")).unwrap();
        if check != expected_check || digests != expected_digests {
            let actual = root().join("target/golden-actual").join(self.name);
            std::fs::create_dir_all(&actual).unwrap();
            std::fs::write(actual.join("check.json"), &check).unwrap();
            std::fs::write(actual.join("digests"), &digests).unwrap();
            for (name, text) in &messages {
                let file = actual.join(name.replace('/', "-") + ".xml");
                std::fs::write(file, text).unwrap();
            }
            panic!(
                "{}: the outputs differ from {}; what this run gave is in {} (diff check.json and digests; the messages are beside them)",
                self.name,
                golden.display(),
                actual.display()
            );
        }
    }
}

#[test]
fn twenty_thousand_persons_give_the_same_outputs() {
    Case::new("generated-20000", 20_000, 1).compare();
}

#[test]
fn an_extract_with_traps_gives_the_same_outputs() {
    let case = Case::new("traps", 1_500, 32);
    // Persons: a number twice, a bad identity number, an unknown gender, a municipality that
    // does not exist, a birth year out of range, a test user.
    case.repeat("persons.csv", 2);
    case.edit("persons.csv", 3, 1, "12345678901");
    case.edit("persons.csv", 4, 4, "X");
    case.edit("persons.csv", 5, 5, "9999");
    case.edit("persons.csv", 6, 3, "1800");
    case.edit("persons.csv", 7, 2, "Testbruker Test");
    // Services: an unknown local type, 200 hours a week, a date that does not exist, a bad
    // organisation number, a service of nobody, a decision after the start, a service twice.
    case.edit("services.csv", 2, 2, "UKJENT");
    case.edit("services.csv", 3, 7, "200");
    case.edit("services.csv", 4, 5, "2025-02-30");
    case.edit("services.csv", 5, 8, "123456789");
    case.edit("services.csv", 6, 1, "nobody");
    case.edit("services.csv", 7, 4, "2026-12-31");
    case.repeat("services.csv", 8);
    case.compare();
}
