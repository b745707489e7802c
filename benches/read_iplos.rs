//! Reading an EPJ's IPLOS 3.7 pair (fagmelding + identmelding) into the canonical records,
//! against the floor: tokenising the same two files with quick-xml, every event read and
//! nothing else (no names, no attributes, no text decoded).
//!
//!     cargo bench --bench read_iplos -- --persons 60000
//!
//! The pair is what `kpr-bridge annual` writes for a generated extract (`generate --seed 1
//! --year 2025`), made once into target/bench-data/iplos-N-seed1 and reused; the process
//! that made it starts itself again, so that the measurements see a fresh heap. Each phase
//! runs three times (warm page cache); the median time is reported, with the peak resident
//! memory of the phase (VmHWM, reset between phases through /proc/self/clear_refs).

use std::io::BufReader;
use std::path::Path;
use std::time::Duration;

use kpr_bridge::annual::ship::{header, write_messages};
use kpr_bridge::annual::year::Year;
use kpr_bridge::config::Config;
use kpr_bridge::generate::{self, Options, OutputEncoding};
use kpr_bridge::message::iplos37;
use kpr_bridge::source::Snapshot;
use kpr_bridge::source::iplos::{IplosOptions, read_iplos};

#[path = "measure/mod.rs"]
mod measure;
use measure::phase;

const FILES: [&str; 2] = ["KPR_IPL.xml", "KPR_IDE.xml"];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let persons: u64 = args
        .iter()
        .position(|a| a == "--persons")
        .and_then(|i| args.get(i + 1))
        .map_or(60_000, |n| n.parse().expect("--persons takes a number"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pair = root.join(format!("target/bench-data/iplos-{persons}-seed1"));
    if !pair.join(FILES[1]).exists() {
        make_pair(root, &pair, persons);
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args(&args[1..])
            .status()
            .expect("the bench starts itself again");
        std::process::exit(status.code().unwrap_or(1));
    }
    let bytes: u64 = FILES
        .iter()
        .map(|f| std::fs::metadata(pair.join(f)).map_or(0, |m| m.len()))
        .sum();
    println!(
        "IPLOS pair: {persons} persons, {:.1} MB in {}",
        bytes as f64 / 1e6,
        pair.display()
    );

    let (floor_time, floor_peak, events) = phase(|| floor(&pair));
    println!(
        "floor (quick-xml tokenises both files): {:>8.3} s  {:>7.1} MB/s  peak {:>6.0} MB  {events} events",
        floor_time.as_secs_f64(),
        bytes as f64 / 1e6 / floor_time.as_secs_f64(),
        floor_peak as f64 / 1e6
    );
    let options = IplosOptions {
        municipality: "4601".into(),
        settle: Duration::ZERO,
        keep_done: Duration::from_secs(3600),
        take: false,
    };
    let (read_time, read_peak, records) = phase(|| {
        let mut records = Snapshot::default();
        let summary = read_iplos(&pair, &options, &mut records).expect("the pair reads");
        assert!(summary.problems.is_empty(), "{:?}", summary.problems.kept());
        (records.persons.len() + records.services.len()) as u64
    });
    println!(
        "read into records (persons + services {records}): {:>8.3} s  {:>7.1} MB/s  peak {:>6.0} MB",
        read_time.as_secs_f64(),
        bytes as f64 / 1e6 / read_time.as_secs_f64(),
        read_peak as f64 / 1e6
    );
    println!(
        "ratio to the floor: {:.2} (1.0 would be as fast as tokenising)",
        floor_time.as_secs_f64() / read_time.as_secs_f64()
    );
}

/// The pair the annual message writes for a generated extract of `persons`.
fn make_pair(root: &Path, pair: &Path, persons: u64) {
    let extract = root.join(format!("target/bench-data/extract-{persons}-seed1"));
    if !extract.join("READY").exists() {
        eprintln!(
            "generating {persons} persons into {} (once)…",
            extract.display()
        );
        let options = Options {
            persons,
            seed: 1,
            year: 2025,
            municipality: "4601".into(),
            encoding: OutputEncoding::Utf8,
        };
        generate::generate(&extract, &options).expect("extract generates");
    }
    eprintln!("writing the IPLOS pair into {} (once)…", pair.display());
    std::fs::create_dir_all(pair).unwrap();
    let text = format!(
        r#"mode = "test"
data_dir = "{pair}/state"
[municipality]
number = "4601"
name = "Bergen"
[her_id]
municipality = "12345"
service_unit = "67890"
[[contact]]
type = 16
name = "Kari Nordmann"
email = "kari@example.invalid"
[[contact]]
type = 17
name = "Ola Nordmann"
email = "ola@example.invalid"
[[source]]
name = "epj"
kind = "extract"
path = "{extract}"
mapping = "{mapping}"
"#,
        pair = pair.display(),
        extract = extract.display(),
        mapping = root.join("mappings/sample-epj.toml").display()
    );
    let config = Config::parse(&text, &pair.join("kpr-bridge.toml")).expect("config parses");
    let year = Year::read(&config, 2025);
    let header = header(
        &config,
        &year,
        chrono::Utc::now(),
        1,
        iplos37::namespace(2025),
    );
    let persons = &year.assembled.persons;
    write_messages(
        persons,
        &header,
        year.variables.clone(),
        &pair.join(FILES[0]),
        &pair.join(FILES[1]),
    )
    .expect("the pair is written");
}

/// The floor: both files tokenised by quick-xml, every event read. Returns the count.
fn floor(pair: &Path) -> u64 {
    let mut events = 0;
    let mut buf = Vec::with_capacity(4096);
    for name in FILES {
        let file = std::fs::File::open(pair.join(name)).expect("the pair opens");
        let mut reader = quick_xml::Reader::from_reader(BufReader::with_capacity(64 * 1024, file));
        loop {
            buf.clear();
            match reader.read_event_into(&mut buf).expect("the pair is XML") {
                quick_xml::events::Event::Eof => break,
                _ => events += 1,
            }
        }
    }
    events
}
