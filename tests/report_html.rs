//! The HTML report in a real browser: a CheckReport from the real checks, rendered, written to
//! a file and opened in headless Chromium. The screenshot must show a page with the chart's
//! bars on it; the DOM Chromium builds must hold the summary's figures and one chart series per
//! national code.
//!
//! Needs Debian's `chromium` (ops/test.sh installs it) or `CHROMIUM=/path/to/chromium`.
//! `REPORT_HTML_KEEP=DIR` keeps each page and screenshot in DIR for a human look.

use std::fs::{self, File};
use std::io::BufReader;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use kpr_bridge::assembly::controls::{ControlFinding, Controls};
use kpr_bridge::checks::{CheckReport, Severity};
use kpr_bridge::config::Mode;
use kpr_bridge::i18n::Language;
use kpr_bridge::mapping::Mapping;
use kpr_bridge::model::{Decision, Ident, Person, PersonName, SERVICE_TYPES, Service, ident};
use kpr_bridge::report::{Origin, ReportView, SourceLine, html};
use kpr_bridge::source::Snapshot;

/// Longer than Chromium ever needs for one local page; a hang fails the test instead of
/// hanging the suite.
const TIMEOUT: Duration = Duration::from_secs(60);

mod support;

use support::checks::run_checks;

const YEAR: i32 = 2025;

/// A local type with markup in its name: it must reach the page as text, never as a tag.
const HOSTILE_TYPE: &str = "<script>alert(\"x\")</script>&'";

const MAPPING: &str = r#"
[[rule]]
local_type = "HJSPL"
code = "15"
[[rule]]
local_type = "TRYGGH"
code = "6"
[[rule]]
local_type = "PRAKT"
code = "1"
[[rule]]
local_type = "DAGSENTER"
code = "4"
[[rule]]
local_type = "BOLIG"
code = "12"
to = "2018-12-31"
"#;

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// Synthetic identity numbers, valid and distinct.
fn idents(n: usize) -> Vec<String> {
    (100..)
        .filter_map(|individual| ident::synthetic(date("1940-05-01"), individual))
        .take(n)
        .collect()
}

fn person(id: &str, ident: &str) -> Person {
    Person {
        person_id: id.into(),
        ident: Some(Ident::new(ident)),
        name: Some(PersonName::new("Kari Nordmann")),
        birth_year: Some(1940),
        gender: None,
        municipality: Some("1804".into()),
        district: None,
        household: None,
    }
}

fn service(id: &str, person: &str, local_type: &str, start: &str, end: Option<&str>) -> Service {
    Service {
        service_id: id.into(),
        person_id: person.into(),
        local_type: local_type.into(),
        decision: Decision::Granted,
        decided_on: None,
        start: Some(date(start)),
        end: end.map(date),
        hours_per_week: Some("4.5".parse().unwrap()),
        provider_orgnr: Some("974760673".into()),
        pauses: vec![],
    }
}

/// A municipality that changed EPJ on 1 July: a few persons, four codes, and some errors.
fn switched_epj() -> (Snapshot, Snapshot) {
    let ids = idents(5);
    let mut old = Snapshot {
        persons: vec![
            person("o1", &ids[0]),
            person("o2", &ids[1]),
            person("o3", &ids[2]),
            person("o4", "01810112333"),
            Person {
                name: Some(PersonName::new("Ola Testesen")),
                ..person("o5", &ids[3])
            },
        ],
        services: vec![
            service("s1", "o1", "HJSPL", "2024-03-01", None),
            Service {
                hours_per_week: None,
                ..service("s2", "o1", "TRYGGH", "2024-06-01", None)
            },
            service("s3", "o2", "HJSPL", "2025-03-15", Some("2025-09-30")),
            service("s4", "o2", "PRAKT", "2025-02-01", None),
            service("s5", "o3", "PRAKT", "2025-05-01", None),
            service("s6", "o3", HOSTILE_TYPE, "2025-05-01", None),
            service("s7", "o3", "BOLIG", "2025-01-01", None),
            Service {
                provider_orgnr: None,
                ..service("s8", "o4", "HJSPL", "2025-01-10", Some("2025-04-30"))
            },
            service("s9", "o5", "HJSPL", "2025-01-01", None),
        ],
        ..Snapshot::default()
    };
    old.persons[3].municipality = Some("3024".into());
    let new = Snapshot {
        persons: vec![person("N-1", &ids[0]), person("N-2", &ids[4])],
        services: vec![
            service("n1", "N-1", "HJSPL", "2025-07-01", None),
            service("n2", "N-2", "DAGSENTER", "2025-08-01", None),
            service("n3", "N-2", "HJSPL", "2025-08-01", None),
        ],
        ..Snapshot::default()
    };
    (old, new)
}

fn mapping(text: &str) -> Mapping {
    Mapping::parse(text, Path::new("test.toml")).unwrap()
}

fn source_line(
    name: &str,
    origin: Origin,
    place: &str,
    records: &Snapshot,
    problems: u64,
) -> SourceLine {
    SourceLine {
        name: name.into(),
        origin,
        place: place.into(),
        persons: records.persons.len() as u64,
        services: records.services.len() as u64,
        problems,
    }
}

fn view<'a>(report: &'a CheckReport, sources: Vec<SourceLine>) -> ReportView<'a> {
    ReportView {
        year: YEAR,
        municipality: "1804",
        municipality_name: "Bodø",
        mode: Mode::Test,
        generated: Utc.with_ymd_and_hms(2026, 1, 20, 3, 0, 0).unwrap(),
        sources,
        report,
        controls: register_findings(),
    }
}

/// What the register's own arrival checks find in a KPR_IPL with a gender outside its code
/// list (the record is discarded) and hours over 168 (taken as they are).
fn register_findings() -> &'static [ControlFinding] {
    static FOUND: std::sync::OnceLock<Vec<ControlFinding>> = std::sync::OnceLock::new();
    FOUND.get_or_init(|| {
        let xml = format!(
            r#"<IPLOS xmlns="http://www.npr.no/xmlstds/iplos/{YEAR}" versjon="3.7"><INNHINFO>
<iiInnhType>P</iiInnhType><iiKomnr>1804</iiKomnr><iiBydelsnr>00</iiBydelsnr>
<iiFraDato>{YEAR}0101</iiFraDato><iiTilDato>{YEAR}1231</iiTilDato><iiLopenr>1</iiLopenr>
</INNHINFO><PERSON pePeID="3"><peKjonn>X</peKjonn>
<TJENESTE tjPeID="3" tjTjID="1"><tjTjenType>15</tjTjenType><tjTimerUke>200.00</tjTimerUke></TJENESTE>
</PERSON></IPLOS>"#
        );
        Controls::built_in().run(xml.as_bytes(), YEAR)
    })
}

#[test]
fn report_opens_in_chromium_with_its_figures_and_chart() {
    let (old, new) = switched_epj();
    let report = run_checks(
        &[
            ("gammel-epj", &old, None, Some("2025-06-30")),
            ("Ny EPJ & <Bodø>", &new, Some("2025-07-01"), None),
        ],
        &mapping(MAPPING),
        false,
    );
    assert_eq!((report.persons, report.services), (5, 11), "{report:#?}");
    assert!(report.has_errors());
    assert!(report.months.len() >= 3, "{:?}", report.months);
    let sources = || {
        vec![
            source_line("gammel-epj", Origin::Extract, "/srv/epj-export", &old, 2),
            source_line(
                "Ny EPJ & <Bodø>",
                Origin::Database,
                "postgres://epj-db/epj",
                &new,
                0,
            ),
        ]
    };
    // Bokmål, the default.
    let html = html::render(&view(&report, sources()), Language::default());

    assert_self_contained_and_anonymous(&html, &old);
    let page = open_in_chromium("switched-epj", &html);
    assert_looks_like_a_report(&page, &html);

    let summary = element(&page.dom, "<table id=\"summary\"", "</table>");
    assert_eq!(row_value(summary, "id=\"summary-persons\""), report.persons);
    assert_eq!(
        row_value(summary, "id=\"summary-services\""),
        report.services
    );
    // As the terminal counts them: rules, not records.
    let errors = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count() as u64;
    assert_eq!(row_value(summary, "id=\"summary-errors\""), errors);
    assert_eq!(
        row_value(summary, "id=\"summary-warnings\""),
        report.findings.len() as u64 - errors
    );
    for finding in &report.findings {
        let row = format!("data-rule=\"{}\"", finding.rule);
        assert_eq!(row_value(summary, &row), finding.count, "{}", finding.rule);
    }
    assert_one_series_per_code(&page.dom, &report);

    // Data text arrives as text: the hostile local type is shown, never run.
    assert!(
        !page.dom.contains("<script"),
        "markup from data became a tag"
    );
    assert!(
        page.dom
            .contains("&lt;script&gt;alert(\"x\")&lt;/script&gt;&amp;'")
    );
    assert!(
        page.dom.contains("Ny EPJ &amp; &lt;Bodø&gt;"),
        "UTF-8 and escaping"
    );
    assert!(page.dom.contains("15 Helsetjenester i hjemmet"));

    // The register's own checks, with their consequence in plain words.
    let checks = element(&page.dom, "<section id=\"register-checks\"", "</section>");
    assert!(checks.contains("data-field=\"peKjonn\""), "{checks}");
    assert!(
        checks.contains("Registeret forkaster posten og alt som hører til den"),
        "{checks}"
    );
    assert!(
        checks.contains("tjTimerUke (kontroll mot min./maks., 1)"),
        "{checks}"
    );

    // In bokmål: the page's language, its words, a date and times as Norwegians write them.
    assert!(html.contains("<html lang=\"nb\">"));
    assert!(page.dom.contains("IPLOS-kontroll før innsending til KPR"));
    assert!(page.dom.contains("<dd>20.01.2026 04:00</dd>"), "the date");
    assert!(page.dom.contains("Ikke klar til innsending"));
    assert!(page.dom.contains("Dette gjør du:"));
    assert!(page.dom.contains("uttrekk /srv/epj-export"));
    for english in [
        "Summary",
        "Findings",
        "What to do",
        "Not ready",
        "Generated",
    ] {
        assert!(
            !page.dom.contains(english),
            "English {english:?} on the nb page"
        );
    }

    // In English when asked for: the same figures, English words beside the register's.
    let en = html::render(&view(&report, sources()), Language::En);
    assert!(en.contains("<html lang=\"en\">"));
    assert!(en.contains("<dd>2026-01-20 04:00</dd>"));
    assert!(en.contains("15 Helsetjenester i hjemmet (health care at home)"));
    assert!(en.contains("The register discards the record and everything under it"));
    assert!(en.contains("tjTimerUke (range check, 1)"));
    assert!(en.contains("Not ready to send") && en.contains("What to do:"));
    assert!(en.contains("extract /srv/epj-export"));
}

/// Thousands are grouped with a (no-break) space in bokmål: `59 976`; with a comma in
/// English.
#[test]
fn large_figures_read_as_each_language_writes_them() {
    let report = CheckReport {
        persons: 59_976,
        services: 1_234_567,
        ..CheckReport::default()
    };
    let records = Snapshot::default();
    let lines = || vec![source_line("epj", Origin::Iplos, "/srv/iplos", &records, 0)];
    let nb = html::render(&view(&report, lines()), Language::Nb);
    assert!(nb.contains(">59\u{a0}976</td>"), "{nb}");
    assert!(nb.contains(">1\u{a0}234\u{a0}567</td>"), "{nb}");
    assert!(nb.contains("IPLOS-uttrekk /srv/iplos"));
    let en = html::render(&view(&report, lines()), Language::En);
    assert!(
        en.contains(">59,976</td>") && en.contains(">1,234,567</td>"),
        "{en}"
    );
}

/// Every code valid in the year, one person each: the chart must still fit and read.
#[test]
fn all_codes_of_the_year_fit_the_page() {
    let codes: Vec<_> = SERVICE_TYPES
        .iter()
        .filter(|t| t.is_valid_in_year(YEAR))
        .collect();
    let mut mapping = String::new();
    let mut records = Snapshot::default();
    for (i, (code, ident)) in codes.iter().zip(idents(codes.len())).enumerate() {
        let local_type = format!("T{i}");
        mapping.push_str(&format!(
            "[[rule]]\nlocal_type = \"{local_type}\"\ncode = \"{}\"\n",
            code.code
        ));
        let id = format!("p{i}");
        records.persons.push(person(&id, &ident));
        let start = format!("2025-{:02}-01", i % 12 + 1);
        for n in 0..=i % 4 {
            let mut s = service(&format!("s{i}-{n}"), &id, &local_type, &start, None);
            s.provider_orgnr = None;
            records.services.push(s);
        }
    }
    let report = run_checks(
        &[("epj", &records, None, None)],
        &self::mapping(&mapping),
        false,
    );
    assert_eq!(report.months.len(), codes.len());
    assert!(codes.len() >= 25, "{} codes", codes.len());
    let html = html::render(
        &view(
            &report,
            vec![source_line("epj", Origin::Extract, "/srv/epj", &records, 0)],
        ),
        Language::Nb,
    );
    let page = open_in_chromium("all-codes", &html);
    assert_looks_like_a_report(&page, &html);
    assert_one_series_per_code(&page.dom, &report);
}

/// Nothing fetched from anywhere, and no person's identity number or name.
fn assert_self_contained_and_anonymous(html: &str, records: &Snapshot) {
    for outside in [
        "http:", "https:", "<link", "<img", "<script", "@import", "url(",
    ] {
        assert!(
            !html.contains(outside),
            "the page reaches outside: {outside}"
        );
    }
    for person in &records.persons {
        let number = person.ident.as_ref().unwrap().expose();
        assert!(!html.contains(number), "identity number in the report");
        assert!(!html.contains(person.name.as_ref().unwrap().expose()));
    }
}

/// The chart SVG has one `series` group per code in the data, each named by its code.
fn assert_one_series_per_code(dom: &str, report: &CheckReport) {
    let chart = element(dom, "<svg id=\"chart\"", "</svg>");
    assert_eq!(
        chart.matches("class=\"series\"").count(),
        report.months.len(),
        "one series per code"
    );
    for code in &report.months {
        assert!(
            chart.contains(&format!("data-code=\"{}\"", code.code)),
            "no series for code {}",
            code.code
        );
        assert!(chart.contains(code.name), "no title for code {}", code.code);
    }
    for month in ["Jan", "Des"] {
        assert!(
            chart.contains(&format!(">{month}</text>")),
            "axis label {month}"
        );
    }
}

/// Not blank, and the chart's bar colour (read from the page's own CSS) is on screen.
fn assert_looks_like_a_report(page: &Page, html: &str) {
    let bar = css_colour(html, "--bar:");
    let pixels = page.rgb.len() as u64;
    let ink = page
        .rgb
        .iter()
        .filter(|p| p.iter().any(|&c| c < 235))
        .count() as u64;
    let bars = page
        .rgb
        .iter()
        .filter(|p| p.iter().zip(bar).all(|(&c, b)| c.abs_diff(b) <= 4))
        .count();
    assert!(
        ink * 100 / pixels >= 4,
        "the screenshot is nearly blank: {ink} of {pixels} pixels are not white"
    );
    assert!(
        bars >= 400,
        "only {bars} pixels have the bar colour {bar:?}"
    );
}

fn css_colour(html: &str, property: &str) -> [u8; 3] {
    let at = html.find(property).expect("the property is in the CSS") + property.len();
    let hex = html[at..].trim_start().strip_prefix('#').unwrap();
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap();
    [channel(0), channel(2), channel(4)]
}

/// The text of the first element that starts with `open`, up to its `close`.
fn element<'a>(dom: &'a str, open: &str, close: &str) -> &'a str {
    let start = dom
        .find(open)
        .unwrap_or_else(|| panic!("{open} is not in the DOM"));
    let end = dom[start..].find(close).expect("the element is closed") + start;
    &dom[start..end]
}

/// The `data-value` of the number cell in the row that starts `<tr {attribute}`.
fn row_value(table: &str, attribute: &str) -> u64 {
    let row = element(table, &format!("<tr {attribute}"), "</tr>");
    let at = row.find("data-value=\"").expect("a number cell") + "data-value=\"".len();
    let value: String = row[at..].chars().take_while(char::is_ascii_digit).collect();
    value.parse().unwrap()
}

struct Page {
    /// The screenshot's pixels.
    rgb: Vec<[u8; 3]>,
    /// The DOM after Chromium has parsed and laid out the page.
    dom: String,
}

/// Writes the page to a temporary file and opens it twice in headless Chromium: once for a
/// screenshot, once for the DOM.
fn open_in_chromium(name: &str, html: &str) -> Page {
    let chromium = chromium();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.html");
    fs::write(&report, html).unwrap();
    let url = format!("file://{}", report.display());
    let screenshot = dir.path().join("report.png");
    run_chromium(
        &chromium,
        dir.path(),
        "screenshot",
        &[
            format!("--screenshot={}", screenshot.display()),
            "--window-size=1280,2400".into(),
            url.clone(),
        ],
    );
    let dom = run_chromium(&chromium, dir.path(), "dom", &["--dump-dom".into(), url]);
    if let Some(keep) = std::env::var_os("REPORT_HTML_KEEP") {
        let keep = PathBuf::from(keep);
        fs::create_dir_all(&keep).unwrap();
        fs::copy(&report, keep.join(format!("{name}.html"))).unwrap();
        fs::copy(&screenshot, keep.join(format!("{name}.png"))).unwrap();
    }
    Page {
        rgb: decode_png(&screenshot),
        dom: String::from_utf8(dom).expect("the DOM is UTF-8"),
    }
}

fn chromium() -> PathBuf {
    let path = std::env::var_os("CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        path.is_file(),
        "Chromium is not at {}: install Debian's chromium package (`apt-get install chromium`; \
         ops/test.sh does), or set CHROMIUM to a Chromium binary",
        path.display()
    );
    path
}

/// One headless Chromium run with its own profile; its stdout. Killed, with its children,
/// after [`TIMEOUT`].
fn run_chromium(chromium: &Path, dir: &Path, run: &str, args: &[String]) -> Vec<u8> {
    let stdout = dir.join(format!("{run}.stdout"));
    let stderr = dir.join(format!("{run}.stderr"));
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.join(format!("{run}-profile")).display()
        ))
        .args(args)
        .stdin(Stdio::null())
        .stdout(File::create(&stdout).unwrap())
        .stderr(File::create(&stderr).unwrap())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            // The group holds Chromium's helper processes too.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "Chromium ({run}) did not finish in {TIMEOUT:?}:\n{}",
                tail(&stderr)
            );
        }
        thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "Chromium ({run}) failed with {status}:\n{}",
        tail(&stderr)
    );
    fs::read(&stdout).unwrap()
}

fn tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

fn decode_png(path: &Path) -> Vec<[u8; 3]> {
    let file = File::open(path).unwrap_or_else(|e| panic!("no screenshot at {path:?}: {e}"));
    let mut reader = png::Decoder::new(BufReader::new(file))
        .read_info()
        .expect("the screenshot is a PNG");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    assert_eq!((info.width, info.height), (1280, 2400), "the window size");
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected screenshot colour type {other:?}"),
    };
    buf[..info.buffer_size()]
        .chunks_exact(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect()
}
